/* The audit's metrics on a hand-made model and lists whose values are worked out by hand in
 * the comments: coverage, Gini, the Lorenz curve, popularity percentiles, the long tail,
 * novelty, intra-list diversity and subject exposure; and the errors. */
#include "support.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/model.h"
#include "eval/audit.h"

#define EPS 1e-9

/* Five items, four patrons. Loans: u0 {i0, i1}, u1 {i0}, u2 {i0}, u3 {i2}: popularity
 * [3, 1, 1, 0, 0], 5 loans. Subjects: i0 Fantasy|Dragons, i1 "fantasy" twice (one subject,
 * blanks and case ignored), i2 and i4 Poetry, i3 none. */
static const int PAIRS[][2] = {{0, 0}, {0, 1}, {1, 0}, {2, 0}, {3, 2}};

static tl_model *fit_model(int with_subjects)
{
    tl_data d;
    tl_test_data_from_pairs(&d, 4, 5, PAIRS, 5);
    if (with_subjects) {
        assert_int_equal(tl_catalog_reserve(&d.cat, 5), TL_OK);
        const char *subjects[] = {"Fantasy|Dragons", " fantasy | FANTASY", "Poetry", NULL,
                                  "Poetry"};
        for (int i = 0; i < 5; i++)
            d.cat.subjects[i] = subjects[i] ? strdup(subjects[i]) : NULL;
    }
    tl_model *m;
    tl_diag diag = {0};
    assert_int_equal(tl_model_new("popular", &m), TL_OK);
    assert_int_equal(tl_model_fit(m, &d, NULL, &diag), TL_OK);
    tl_data_release(&d);
    return m;
}

/* Lists of two: {i0 i1}, {i0 i2}, {i0 i3}, {} -> counts [3, 1, 1, 1, 0], 6 recommendations. */
static const int32_t LISTS[] = {0, 1, 0, 2, 0, 3, -1, -1};

static void test_gini(void **state)
{
    (void)state;
    const int64_t equal[] = {5, 5, 5, 5}, one[] = {0, 0, 0, 7}, none[] = {0, 0, 0};
    assert_true(fabs(tl_audit_gini(equal, 4)) < EPS);
    assert_true(fabs(tl_audit_gini(one, 4) - 3.0 / 4) < EPS); /* (n-1)/n */
    assert_true(fabs(tl_audit_gini(none, 3)) < EPS);
    const int64_t many[] = {7, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    assert_true(fabs(tl_audit_gini(many, 10) - 9.0 / 10) < EPS);
}

static void test_jaccard(void **state)
{
    (void)state;
    const int32_t a[] = {1, 2}, b[] = {2}, c[] = {3, 4};
    assert_true(fabs(tl_audit_jaccard_distance(a, 2, b, 1) - 0.5) < EPS);
    assert_true(fabs(tl_audit_jaccard_distance(a, 2, c, 2) - 1.0) < EPS);
    assert_true(fabs(tl_audit_jaccard_distance(a, 2, a, 2)) < EPS);
    assert_true(fabs(tl_audit_jaccard_distance(NULL, 0, NULL, 0)) < EPS);
}

static void test_metrics(void **state)
{
    (void)state;
    tl_model *m = fit_model(1);
    tl_audit_report r;
    tl_diag diag = {0};
    assert_int_equal(tl_audit_lists(m, LISTS, 4, 2, &r, &diag), TL_OK);
    assert_int_equal(r.n_lists, 4);
    assert_int_equal(r.n_items, 5);
    assert_int_equal(r.n_recs, 6);
    assert_int_equal(r.n_loans, 5);
    assert_int_equal(r.n_patrons, 4);
    assert_int_equal(r.empty_lists, 1);
    /* coverage: i0..i3 of five */
    assert_int_equal(r.items_recommended, 4);
    assert_true(fabs(r.coverage - 0.8) < EPS);
    /* Gini: sorted [0 1 1 1 3]: (-4*0 - 2*1 + 0*1 + 2*1 + 4*3) / (5 * 6) = 0.4; loans sorted
     * [0 0 1 1 3]: 14 / 25 */
    assert_true(fabs(r.gini_recs - 0.4) < EPS);
    assert_true(fabs(r.gini_loans - 0.56) < EPS);
    /* Lorenz: the 20% least recommended (one item, 0) hold 0; 60% hold 2 of 6; all hold all */
    assert_true(fabs(r.lorenz_recs[0]) < EPS);
    assert_true(fabs(r.lorenz_recs[20]) < EPS);
    assert_true(fabs(r.lorenz_recs[60] - 2.0 / 6) < EPS);
    assert_true(fabs(r.lorenz_recs[100] - 1.0) < EPS);
    assert_true(fabs(r.lorenz_recs[50] - 1.5 / 6) < EPS); /* halfway through the third item */
    /* percentiles (mid-rank in [0 0 1 1 3]): i0 90, i1 and i2 60, i3 20 */
    assert_true(fabs(r.pop_pct_recs - (3 * 90.0 + 60 + 60 + 20) / 6) < EPS);
    assert_true(fabs(r.pop_pct_loans - (3 * 90.0 + 60 + 60) / 5) < EPS);
    /* head: i0 alone holds 3 of 5 loans (>= 20%) */
    assert_int_equal(r.head_items, 1);
    assert_true(fabs(r.head_loan_share - 0.6) < EPS);
    assert_true(fabs(r.tail_recs - 0.5) < EPS);
    assert_true(fabs(r.tail_loans - 0.4) < EPS);
    /* novelty: -log2(3/4) for i0, 2 bits for i1, i2 and for i3 (never borrowed: as once) */
    double b0 = -log2(0.75);
    assert_true(fabs(r.novelty_recs - (3 * b0 + 6) / 6) < EPS);
    assert_true(fabs(r.novelty_loans - (3 * b0 + 4) / 5) < EPS);
    /* ILD: {i0 i1} 1 - 1/2, {i0 i2} 1; {i0 i3} has one item with subjects, {} none */
    assert_int_equal(r.has_subjects, 1);
    assert_true(fabs(r.ild - 0.75) < EPS);
    assert_int_equal(r.ild_lists, 2);
    assert_int_equal(r.ild_lists_skipped, 2);
    assert_int_equal(r.recs_without_subjects, 1);
    /* exposure: Fantasy (i0, i1) 4 recs, Dragons 3, Poetry (i2, i4) 1 */
    assert_int_equal(r.n_subjects, 3);
    assert_int_equal(r.n_top, 3);
    assert_string_equal(r.top[0].name, "Fantasy");
    assert_int_equal(r.top[0].recs, 4);
    assert_int_equal(r.top[0].items, 2);
    assert_int_equal(r.top[0].loans, 4);
    assert_true(fabs(r.top[0].rec_share - 4.0 / 6) < EPS);
    assert_true(fabs(r.top[0].item_share - 0.4) < EPS);
    assert_true(fabs(r.top[0].loan_share - 0.8) < EPS);
    assert_string_equal(r.top[1].name, "Dragons");
    assert_string_equal(r.top[2].name, "Poetry");
    assert_int_equal(r.top[2].items, 2);
    assert_true(fabs(r.top[2].rec_share - 1.0 / 6) < EPS);
    tl_audit_release(&r);
    tl_model_free(m);
}

/* Every item shown equally often: Gini 0, full coverage, a straight Lorenz curve. */
static void test_equal_exposure(void **state)
{
    (void)state;
    tl_model *m = fit_model(1);
    const int32_t lists[] = {0, 1, 2, 3, 4, 1, 2, 3, 4, 0};
    tl_audit_report r;
    tl_diag diag = {0};
    assert_int_equal(tl_audit_lists(m, lists, 2, 5, &r, &diag), TL_OK);
    assert_true(fabs(r.gini_recs) < EPS);
    assert_true(fabs(r.coverage - 1.0) < EPS);
    for (int k = 0; k < TL_AUDIT_LORENZ_POINTS; k++)
        assert_true(fabs(r.lorenz_recs[k] - k / 100.0) < 1e-12);
    tl_audit_release(&r);
    /* one item for everyone: (n-1)/n */
    const int32_t same[] = {0, 0, 0};
    assert_int_equal(tl_audit_lists(m, same, 3, 1, &r, &diag), TL_OK);
    assert_true(fabs(r.gini_recs - 4.0 / 5) < EPS);
    assert_true(fabs(r.coverage - 0.2) < EPS);
    assert_true(fabs(r.tail_recs) < EPS);
    assert_int_equal(r.ild_lists_skipped, 3); /* lists of one */
    tl_audit_release(&r);
    tl_model_free(m);
}

static void test_no_subjects(void **state)
{
    (void)state;
    tl_model *m = fit_model(0);
    tl_audit_report r;
    tl_diag diag = {0};
    assert_int_equal(tl_audit_lists(m, LISTS, 4, 2, &r, &diag), TL_OK);
    assert_int_equal(r.has_subjects, 0);
    assert_int_equal(r.n_top, 0);
    assert_int_equal(r.n_subjects, 0);
    assert_true(fabs(r.coverage - 0.8) < EPS);
    tl_audit_release(&r);
    tl_model_free(m);
}

static void test_errors(void **state)
{
    (void)state;
    tl_model *m = fit_model(1);
    tl_audit_report r;
    tl_diag diag = {0};
    const int32_t bad[] = {0, 5};
    assert_int_equal(tl_audit_lists(m, bad, 1, 2, &r, &diag), TL_EINVAL);
    assert_string_equal(diag.field, "lists");
    const int32_t empty[] = {-1, -1};
    assert_int_equal(tl_audit_lists(m, empty, 1, 2, &r, &diag), TL_EINVAL);
    assert_non_null(strstr(diag.msg, "no recommendation"));
    assert_int_equal(tl_audit_lists(m, LISTS, 4, 0, &r, &diag), TL_EINVAL);
    tl_model_free(m);
    /* an untrained model has no histories */
    assert_int_equal(tl_model_new("popular", &m), TL_OK);
    assert_int_equal(tl_audit_lists(m, LISTS, 4, 2, &r, &diag), TL_EUNSUPPORTED);
    tl_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gini),        cmocka_unit_test(test_jaccard),
        cmocka_unit_test(test_metrics),     cmocka_unit_test(test_equal_exposure),
        cmocka_unit_test(test_no_subjects), cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
