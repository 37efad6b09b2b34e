/* rp3beta: the walk weights on a hand example, planted communities, the catalogue route to a
 * cold item (reachable through a shared subject for one community only, unreachable without
 * attribute edges), explanations and a bit-exact save/load round trip. */
#include "support.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/model.h"
#include "core/models/item_models.h"

/* Two communities of 20 users x 10 items (items [0, 10) and [10, 20)), plus item 20, which
 * nobody has borrowed: a new acquisition. Subjects: community A's items are "Poetry" (and
 * some "Verse | Poetry"), B's "Chemistry"; the cold item shares "Poetry" with A. */
static void make_library(tl_data *d)
{
    static const int off[5] = {0, 1, 3, 4, 6};
    int pairs[200][2], n = 0;
    for (int u = 0; u < 40; u++)
        for (int t = 0; t < 5; t++, n++) {
            pairs[n][0] = u;
            pairs[n][1] = (u < 20 ? 0 : 10) + (u + off[t]) % 10;
        }
    tl_test_data_from_pairs(d, 40, 21, (const int(*)[2])pairs, n);
    assert_int_equal(tl_catalog_reserve(&d->cat, 21), TL_OK);
    for (int i = 0; i < 20; i++)
        d->cat.subjects[i] = strdup(i < 10 ? (i % 2 ? "Verse | Poetry" : "Poetry") : "Chemistry");
    d->cat.subjects[20] = strdup("Poetry");
    d->cat.creators[20] = strdup("New Author");
}

static tl_model *fit_rp3(const tl_data *d, const char *const *kv, int nkv)
{
    tl_model *m;
    tl_diag diag = {0};
    assert_int_equal(tl_model_new("rp3beta", &m), TL_OK);
    assert_int_equal(tl_model_set(m, "autotune=0", &diag), TL_OK);
    for (int i = 0; i < nkv; i++)
        assert_int_equal(tl_model_set(m, kv[i], &diag), TL_OK);
    assert_int_equal(tl_model_fit(m, d, NULL, &diag), TL_OK);
    return m;
}

static void test_walk_by_hand(void **state)
{
    (void)state;
    /* u0: i0 i1; u1: i0 i1 i2; u2: i1 i2. */
    static const int tiny[][2] = {{0, 0}, {0, 1}, {1, 0}, {1, 1}, {1, 2}, {2, 1}, {2, 2}};
    tl_data d;
    tl_test_data_from_pairs(&d, 3, 3, tiny, 7);
    const char *kv[] = {"alpha=1", "beta=0.5"};
    tl_model *m = fit_rp3(&d, kv, 2);
    const tl_simmat *s = tl_item_model_simmat(m);
    /* i0 -> {u0, u1} (1/2 each); u0 -> i1 (1/2), u1 -> i1 (1/3); i1 has 3 users:
     * W[0][1] = (1/2 * 1/2 + 1/2 * 1/3) / sqrt(3). */
    assert_float_equal(tl_simmat_get(s, 0, 1), (0.25 + 1.0 / 6.0) / sqrt(3.0), 1e-6);
    /* i0 -> u1 -> i2: 1/2 * 1/3 / sqrt(2). */
    assert_float_equal(tl_simmat_get(s, 0, 2), (1.0 / 6.0) / sqrt(2.0), 1e-6);
    assert_true(tl_simmat_get(s, 0, 0) == 0.0f); /* the walk back home is dropped */
    /* alpha = 2 squares every step: W[0][2] = (1/2)^2 (1/3)^2 / sqrt(2). */
    tl_model_free(m);
    const char *kv2[] = {"alpha=2", "beta=0.5"};
    m = fit_rp3(&d, kv2, 2);
    assert_float_equal(tl_simmat_get(tl_item_model_simmat(m), 0, 2), (1.0 / 36.0) / sqrt(2.0),
                       1e-6);
    tl_model_free(m);
    tl_data_release(&d);
}

static void test_communities(void **state)
{
    (void)state;
    tl_data d;
    make_library(&d);
    const char *kv[] = {"attr_weight=0"};
    tl_model *m = fit_rp3(&d, kv, 1);
    for (int32_t u = 0; u < 40; u++) {
        int32_t out[5];
        float sc[5];
        int n = 0;
        const int32_t *h = d.ui.indices + d.ui.indptr[u];
        int32_t nh = (int32_t)(d.ui.indptr[u + 1] - d.ui.indptr[u]);
        assert_int_equal(tl_model_recommend(m, u, h, NULL, nh, NULL, 5, out, sc, &n), TL_OK);
        assert_int_equal(n, 5);
        for (int r = 0; r < n; r++) {
            assert_int_equal(out[r] / 10, u / 20);
            assert_true(sc[r] > 0.0f);
        }
    }
    tl_model_free(m);
    tl_data_release(&d);
}

/* Score of item for user u (history = their training row). */
static float score_of(const tl_model *m, const tl_data *d, int32_t u, int32_t item)
{
    float scores[21];
    const int32_t *h = d->ui.indices + d->ui.indptr[u];
    int32_t nh = (int32_t)(d->ui.indptr[u + 1] - d->ui.indptr[u]);
    m->ops->score(m, u, h, NULL, nh, scores, NULL);
    return scores[item];
}

static void test_cold_item_through_subjects(void **state)
{
    (void)state;
    tl_data d;
    make_library(&d);
    /* Without attribute edges nobody can reach the cold item. */
    const char *off[] = {"attr_weight=0"};
    tl_model *m = fit_rp3(&d, off, 1);
    for (int32_t u = 0; u < 40; u++)
        assert_true(score_of(m, &d, u, 20) == 0.0f);
    tl_model_free(m);
    /* With them, community A (Poetry) reaches it and community B (Chemistry) does not. The
     * subjects cover half the catalogue, so the generic-attribute cut is lifted. */
    const char *on[] = {"attr_weight=0.3", "attr_max_df=1"};
    m = fit_rp3(&d, on, 2);
    for (int32_t u = 0; u < 40; u++) {
        if (u < 20)
            assert_true(score_of(m, &d, u, 20) > 0.0f);
        else
            assert_true(score_of(m, &d, u, 20) == 0.0f);
    }
    /* ... and it makes an A patron's list: the cold item is discounted by popularity 1 only. */
    int32_t out[6];
    float sc[6];
    int n = 0, found = 0;
    const int32_t *h = d.ui.indices + d.ui.indptr[0];
    int32_t nh = (int32_t)(d.ui.indptr[1] - d.ui.indptr[0]);
    assert_int_equal(tl_model_recommend(m, 0, h, NULL, nh, NULL, 6, out, sc, &n), TL_OK);
    for (int r = 0; r < n; r++) {
        found |= out[r] == 20;
        assert_true(out[r] < 10 || out[r] == 20);
    }
    assert_true(found);
    /* Its evidence is the history items that share the subject. */
    int32_t why[5];
    float c[5];
    assert_true(m->ops->explain(m, 0, h, NULL, nh, 20, why, c, 5) > 0);
    assert_true(h[why[0]] < 10);
    /* The default generic-attribute cut (20% of the catalogue) drops "Poetry" here: only the
     * creator is left, which no history item shares. */
    const char *cut[] = {"attr_weight=0.3"};
    tl_model_free(m);
    m = fit_rp3(&d, cut, 1);
    assert_true(score_of(m, &d, 0, 20) == 0.0f);
    tl_model_free(m);
    tl_data_release(&d);
}

static void test_explain(void **state)
{
    (void)state;
    tl_data d;
    make_library(&d);
    const char *kv[] = {"attr_weight=0"};
    tl_model *m = fit_rp3(&d, kv, 1);
    const tl_simmat *s = tl_item_model_simmat(m);
    int32_t hist[3] = {12, 3, 5}, why[3];
    float c[3];
    /* Item 4: only A items (3 and 5) reach it; the stronger edge comes first. */
    int n = m->ops->explain(m, -1, hist, NULL, 3, 4, why, c, 3);
    assert_int_equal(n, 2);
    float w3 = tl_simmat_get(s, 3, 4), w5 = tl_simmat_get(s, 5, 4);
    assert_int_equal(why[0], w3 >= w5 ? 1 : 2);
    assert_true(c[0] == (w3 >= w5 ? w3 : w5));
    tl_model_free(m);
    tl_data_release(&d);
}

static void test_save_load_bit_exact(void **state)
{
    (void)state;
    tl_data d;
    tl_diag diag = {0};
    make_library(&d);
    const char *kv[] = {"attr_weight=0.2", "attr_max_df=1", "k=6", "normalize=1"};
    tl_model *m = fit_rp3(&d, kv, 4), *l = NULL;
    char path[512];
    snprintf(path, sizeof(path), "%s/rp3.tlm", tl_test_tmpdir());
    assert_int_equal(tl_model_save(m, path, &diag), TL_OK);
    assert_int_equal(tl_model_load(path, &l, &diag), TL_OK);
    const tl_simmat *a = tl_item_model_simmat(m), *b = tl_item_model_simmat(l);
    assert_non_null(b);
    assert_int_equal(a->w.nnz, b->w.nnz);
    assert_memory_equal(a->w.indptr, b->w.indptr, (size_t)22 * sizeof(int64_t));
    assert_memory_equal(a->w.indices, b->w.indices, (size_t)a->w.nnz * sizeof(int32_t));
    assert_memory_equal(a->w.data, b->w.data, (size_t)a->w.nnz * sizeof(float));
    for (int32_t r = 0; r < 21; r++) {
        int64_t len = a->w.indptr[r + 1] - a->w.indptr[r];
        assert_true(len <= 6);
    }
    float s1[21], s2[21];
    int32_t hist[3] = {1, 14, 20};
    m->ops->score(m, -1, hist, NULL, 3, s1, NULL);
    l->ops->score(l, -1, hist, NULL, 3, s2, NULL);
    assert_memory_equal(s1, s2, sizeof(s1));
    tl_model_free(l);
    tl_model_free(m);
    tl_data_release(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_walk_by_hand),
        cmocka_unit_test(test_communities),
        cmocka_unit_test(test_cold_item_through_subjects),
        cmocka_unit_test(test_explain),
        cmocka_unit_test(test_save_load_bit_exact),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
