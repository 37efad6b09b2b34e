/* core/request and core/filter: the popular fallback counts the training patrons of each item
 * and honours exclusions and filters; explanations carry the kind of the model that gave them,
 * for a hybrid the member that explains; filters are OR within a field, AND across fields. */
#include "support.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/filter.h"
#include "core/models/hybrid.h"
#include "core/request.h"

/* Items 0..4; item 2 has four patrons, item 0 three, item 1 two, items 3 and 4 one each. */
static const int PAIRS[][2] = {{0, 2}, {0, 0}, {1, 2}, {1, 0}, {1, 1}, {2, 2},
                               {2, 0}, {3, 2}, {3, 1}, {3, 3}, {4, 4}};
#define N_PAIRS ((int)(sizeof(PAIRS) / sizeof(PAIRS[0])))

static tl_model *fit(const char *name, const tl_data *d)
{
    tl_model *m;
    tl_diag diag = {0};
    assert_int_equal(tl_model_new(name, &m), TL_OK);
    assert_int_equal(tl_model_set(m, "autotune=0", &diag), TL_OK);
    assert_int_equal(tl_model_fit(m, d, NULL, &diag), TL_OK);
    return m;
}

static void test_popular_counts_patrons(void **state)
{
    (void)state;
    tl_data d;
    tl_test_data_from_pairs(&d, 5, 5, PAIRS, N_PAIRS);
    tl_model *m = fit("itemknn", &d);
    int32_t items[5];
    float scores[5];
    int got;
    assert_int_equal(tl_model_popular(m, NULL, 0, NULL, 5, items, scores, &got), TL_OK);
    assert_int_equal(got, 5);
    const int32_t want[] = {2, 0, 1, 3, 4}; /* ties (3, 4) by index */
    const float counts[] = {4, 3, 2, 1, 1};
    for (int k = 0; k < 5; k++) {
        assert_int_equal(items[k], want[k]);
        assert_true(scores[k] == counts[k]);
    }
    /* what the patron has is left out, and so is what the filter refuses */
    const int32_t have[] = {2};
    const uint8_t allow[] = {1, 0, 1, 1, 1};
    tl_filter f = {.allow = allow};
    assert_int_equal(tl_model_popular(m, have, 1, &f, 2, items, scores, &got), TL_OK);
    assert_int_equal(got, 2);
    assert_int_equal(items[0], 0);
    assert_int_equal(items[1], 3);
    tl_model_free(m);
    tl_data_release(&d);
}

static void test_explain_kinds(void **state)
{
    (void)state;
    assert_string_equal(tl_reason_kind_name(tl_reason_kind_of("itemknn")), "history");
    assert_string_equal(tl_reason_kind_name(tl_reason_kind_of("ials")), "history");
    assert_string_equal(tl_reason_kind_name(tl_reason_kind_of("sequence")), "next_after");
    assert_string_equal(tl_reason_kind_name(tl_reason_kind_of("content")), "similar_content");
    assert_string_equal(tl_reason_kind_name(tl_reason_kind_of("popular")), "popular");
    tl_data d;
    tl_test_data_from_pairs(&d, 5, 5, PAIRS, N_PAIRS);
    tl_model *knn = fit("itemknn", &d), *pop = fit("popular", &d);
    const int32_t hist[] = {0};
    const float w[] = {1};
    int32_t why[3];
    float contrib[3];
    tl_reason_kind kind = TL_REASON_POPULAR;
    /* item 2 goes with item 0: itemknn names it, as history */
    assert_int_equal(tl_model_explain(knn, -1, hist, w, 1, 2, why, contrib, 3, &kind), 1);
    assert_int_equal(why[0], 0);
    assert_int_equal(kind, TL_REASON_HISTORY);
    /* popular has no explain: no evidence, kind popular */
    assert_int_equal(tl_model_explain(pop, -1, hist, w, 1, 2, why, contrib, 3, &kind), 0);
    assert_int_equal(kind, TL_REASON_POPULAR);
    assert_null(tl_hybrid_explainer(knn, -1, hist, w, 1, 2)); /* not a hybrid */
    tl_model_free(knn);
    tl_model_free(pop);
    tl_data_release(&d);
}

/* A hybrid's explanation is its explaining member's, with that member's kind. */
static void test_hybrid_explains_with_its_member(void **state)
{
    (void)state;
    tl_data d;
    tl_coo coo;
    tl_test_data_from_pairs(&d, 5, 5, PAIRS, N_PAIRS);
    /* the same pairs with timestamps in pair order, for sequence */
    tl_csr_release(&d.ui);
    tl_csr_release(&d.iu);
    assert_int_equal(tl_coo_init(&coo, N_PAIRS, 1), TL_OK);
    for (int p = 0; p < N_PAIRS; p++)
        assert_int_equal(tl_coo_push(&coo, PAIRS[p][0], PAIRS[p][1], 1.0f, 100 + p), TL_OK);
    assert_int_equal(tl_data_build(&d, &coo, TL_DUP_MAX), TL_OK);
    tl_coo_release(&coo);
    tl_model *m;
    tl_diag diag = {0};
    assert_int_equal(tl_model_new("hybrid", &m), TL_OK);
    assert_int_equal(tl_model_set(m, "models=itemknn,sequence", &diag), TL_OK);
    assert_int_equal(tl_model_set(m, "weights=1,1", &diag), TL_OK);
    assert_int_equal(tl_model_set(m, "set=itemknn.autotune=0;sequence.autotune=0", &diag), TL_OK);
    assert_int_equal(tl_model_fit(m, &d, NULL, &diag), TL_OK);
    const int32_t hist[] = {0, 2};
    const float w[] = {1, 1};
    int explained = 0;
    for (int32_t item = 0; item < 5; item++) {
        int32_t why[3], why2[3];
        float contrib[3], contrib2[3];
        tl_reason_kind kind;
        const tl_model *by = tl_hybrid_explainer(m, -1, hist, w, 2, item);
        int n = tl_model_explain(m, -1, hist, w, 2, item, why, contrib, 3, &kind);
        int n2 = m->ops->explain(m, -1, hist, w, 2, item, why2, contrib2, 3);
        assert_int_equal(n, n2);
        assert_memory_equal(why, why2, (size_t)n * sizeof(*why));
        if (by) {
            assert_int_equal(kind, tl_reason_kind_of(by->ops->name));
            explained += n > 0;
        }
    }
    assert_true(explained > 0);
    tl_model_free(m);
    tl_data_release(&d);
}

static void test_filters_or_within_and_across(void **state)
{
    (void)state;
    tl_data d;
    tl_test_data_from_pairs(&d, 5, 5, PAIRS, N_PAIRS);
    assert_int_equal(tl_catalog_reserve(&d.cat, 5), TL_OK);
    const char *subjects[] = {"fantasy", "history", "Fantasy|poetry", "poetry", NULL};
    const int32_t years[] = {1990, 2005, 2010, 1890, 0};
    for (int i = 0; i < 5; i++) {
        d.cat.subjects[i] = subjects[i] ? strdup(subjects[i]) : NULL;
        d.cat.year[i] = years[i];
    }
    tl_model *m = fit("itemknn", &d);
    tl_filter_spec s;
    tl_diag diag = {0};
    uint8_t allow[5];
    memset(&s, 0, sizeof(s));
    assert_int_equal(tl_filter_parse(&s, "subject=fantasy", &diag), TL_OK);
    assert_int_equal(tl_filter_parse(&s, "subject=history", &diag), TL_OK);
    assert_int_equal(tl_filter_build(m, &s, allow, &diag), TL_OK);
    const uint8_t either[] = {1, 1, 1, 0, 0};
    assert_memory_equal(allow, either, 5);
    assert_int_equal(tl_filter_parse(&s, "year=2000-2020", &diag), TL_OK);
    assert_int_equal(tl_filter_build(m, &s, allow, &diag), TL_OK);
    const uint8_t both[] = {0, 1, 1, 0, 0};
    assert_memory_equal(allow, both, 5);
    /* an unknown year is outside every range */
    memset(&s, 0, sizeof(s));
    assert_int_equal(tl_filter_parse(&s, "year=0-3000", &diag), TL_OK);
    assert_int_equal(tl_filter_build(m, &s, allow, &diag), TL_OK);
    assert_int_equal(allow[4], 0);
    assert_int_equal(tl_filter_parse(&s, "year=1999-1990", &diag), TL_EINVAL);
    assert_int_equal(tl_filter_parse(&s, "colour=red", &diag), TL_EINVAL);
    tl_model_free(m);
    tl_data_release(&d);
    /* no catalogue: the message says how to get one */
    tl_test_data_from_pairs(&d, 5, 5, PAIRS, N_PAIRS);
    m = fit("itemknn", &d);
    assert_int_equal(tl_filter_build(m, &s, allow, &diag), TL_EINVAL);
    assert_non_null(strstr(diag.msg, "train with --items FILE or from the store"));
    memset(&s, 0, sizeof(s));
    assert_int_equal(tl_filter_build(m, &s, allow, &diag), TL_OK); /* no condition: fine */
    tl_model_free(m);
    tl_data_release(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_popular_counts_patrons),
        cmocka_unit_test(test_explain_kinds),
        cmocka_unit_test(test_hybrid_explains_with_its_member),
        cmocka_unit_test(test_filters_or_within_and_across),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
