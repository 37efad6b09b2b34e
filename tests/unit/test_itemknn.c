/* itemknn: hand-computed similarities (cosine with shrink, jaccard, asymmetric), top-k pruning,
 * planted communities, explanations and a bit-exact save/load round trip. */
#include "support.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/model.h"
#include "core/models/item_models.h"

/* Two disjoint communities: users [0, 20) borrow items [0, 10), users [20, 40) items
 * [10, 20); user u takes the items u + {0, 1, 3, 4, 6} (mod 10) of their block, whose
 * differences cover 1..9, so every pair of items in a block co-occurs for someone. */
static void make_communities(tl_data *d)
{
    static const int off[5] = {0, 1, 3, 4, 6};
    int pairs[200][2], n = 0;
    for (int u = 0; u < 40; u++) {
        int base = u < 20 ? 0 : 10;
        for (int t = 0; t < 5; t++) {
            pairs[n][0] = u;
            pairs[n][1] = base + (u + off[t]) % 10;
            n++;
        }
    }
    tl_test_data_from_pairs(d, 40, 20, (const int(*)[2])pairs, n);
}

static tl_model *fit_model(const tl_data *d, const char *const *kv, int nkv)
{
    tl_model *m;
    tl_diag diag = {0};
    assert_int_equal(tl_model_new("itemknn", &m), TL_OK);
    assert_int_equal(tl_model_set(m, "autotune=0", &diag), TL_OK);
    for (int i = 0; i < nkv; i++)
        assert_int_equal(tl_model_set(m, kv[i], &diag), TL_OK);
    assert_int_equal(tl_model_fit(m, d, NULL, &diag), TL_OK);
    return m;
}

/* u0: i0 i1; u1: i0 i1 i2; u2: i1 i2. |i0| = 2, |i1| = 3, |i2| = 2 users. */
static const int tiny[][2] = {{0, 0}, {0, 1}, {1, 0}, {1, 1}, {1, 2}, {2, 1}, {2, 2}};

static void test_cosine_with_shrink(void **state)
{
    (void)state;
    tl_data d;
    tl_test_data_from_pairs(&d, 3, 3, tiny, 7);
    const char *kv[] = {"shrink=1"};
    tl_model *m = fit_model(&d, kv, 1);
    const tl_simmat *s = tl_item_model_simmat(m);
    assert_non_null(s);
    /* i0 and i1 share u0 and u1: 2 / (sqrt(2) sqrt(3) + 1). */
    assert_float_equal(tl_simmat_get(s, 0, 1), 2.0 / (sqrt(2.0) * sqrt(3.0) + 1.0), 1e-6);
    assert_float_equal(tl_simmat_get(s, 1, 0), 2.0 / (sqrt(2.0) * sqrt(3.0) + 1.0), 1e-6);
    /* i0 and i2 share u1 only: 1 / (2 + 1). */
    assert_float_equal(tl_simmat_get(s, 0, 2), 1.0 / 3.0, 1e-6);
    /* No self-similarity. */
    assert_true(tl_simmat_get(s, 1, 1) == 0.0f);
    /* A user who read i0 and i2: i1 gets sim(i0, i1) + sim(i2, i1). */
    float scores[3];
    int32_t hist[2] = {0, 2};
    m->ops->score(m, -1, hist, NULL, 2, scores, NULL);
    assert_float_equal(scores[1], 4.0 / (sqrt(6.0) + 1.0), 1e-6);
    tl_model_free(m);
    tl_data_release(&d);
}

static void test_jaccard_and_asymmetric(void **state)
{
    (void)state;
    tl_data d;
    tl_test_data_from_pairs(&d, 3, 3, tiny, 7);
    const char *kj[] = {"similarity=jaccard", "shrink=0"};
    tl_model *m = fit_model(&d, kj, 2);
    /* |{u0,u1}| / |{u0,u1,u2}| = 2/3 */
    assert_float_equal(tl_simmat_get(tl_item_model_simmat(m), 0, 1), 2.0 / 3.0, 1e-6);
    tl_model_free(m);
    /* alpha = 1: dot / |x_hist|^2 = P(target | hist item): i0 -> i1 = 2 / 2 = 1, and
     * i1 -> i0 = 2 / 3. */
    const char *ka[] = {"similarity=asymmetric", "alpha=1", "shrink=0"};
    m = fit_model(&d, ka, 3);
    assert_float_equal(tl_simmat_get(tl_item_model_simmat(m), 0, 1), 1.0, 1e-6);
    assert_float_equal(tl_simmat_get(tl_item_model_simmat(m), 1, 0), 2.0 / 3.0, 1e-6);
    tl_model_free(m);
    tl_data_release(&d);
}

static void test_bad_choice_is_rejected(void **state)
{
    (void)state;
    tl_data d;
    tl_model *m;
    tl_diag diag = {0};
    tl_test_data_from_pairs(&d, 3, 3, tiny, 7);
    assert_int_equal(tl_model_new("itemknn", &m), TL_OK);
    assert_int_equal(tl_model_set(m, "similarity=pearsonish", &diag), TL_OK);
    assert_int_equal(tl_model_fit(m, &d, NULL, &diag), TL_EINVAL);
    assert_string_equal(diag.field, "similarity");
    /* An item interned after the matrices were built: they no longer cover the catalogue. */
    int32_t idx;
    assert_int_equal(tl_model_set(m, "similarity=cosine", &diag), TL_OK);
    assert_int_equal(tl_intern_add(&d.items, "late", 4, &idx), TL_OK);
    assert_int_equal(tl_model_fit(m, &d, NULL, &diag), TL_EINVAL);
    assert_non_null(strstr(diag.msg, "rebuild"));
    tl_model_free(m);
    tl_data_release(&d);
}

static void test_topk_per_target(void **state)
{
    (void)state;
    tl_data d;
    make_communities(&d);
    const char *kv[] = {"k=2"};
    tl_model *m = fit_model(&d, kv, 1);
    const tl_simmat *s = tl_item_model_simmat(m);
    /* Pruning keeps k neighbours per target item: every column holds at most 2 entries, while
     * rows (history items) may feed more targets. */
    int col[20] = {0};
    for (int32_t j = 0; j < 20; j++) {
        for (int64_t p = s->w.indptr[j]; p < s->w.indptr[j + 1]; p++)
            col[s->w.indices[p]]++;
    }
    for (int i = 0; i < 20; i++)
        assert_in_range(col[i], 1, 2);
    tl_model_free(m);
    tl_data_release(&d);
}

static void check_communities(const char *const *kv, int nkv)
{
    tl_data d;
    make_communities(&d);
    tl_model *m = fit_model(&d, kv, nkv);
    for (int32_t u = 0; u < 40; u++) {
        int32_t out[5];
        float sc[5];
        int n = 0;
        const int32_t *h = d.ui.indices + d.ui.indptr[u];
        int32_t nh = (int32_t)(d.ui.indptr[u + 1] - d.ui.indptr[u]);
        assert_int_equal(
            tl_model_recommend(m, u, h, d.ui.data + d.ui.indptr[u], nh, NULL, 5, out, sc, &n),
            TL_OK);
        assert_int_equal(n, 5);
        for (int r = 0; r < n; r++) {
            /* Only the user's own community, and only items that really scored. */
            assert_int_equal(out[r] / 10, u / 20);
            assert_true(sc[r] > 0.0f);
        }
    }
    tl_model_free(m);
    tl_data_release(&d);
}

static void test_communities(void **state)
{
    (void)state;
    check_communities(NULL, 0);
    const char *tfidf[] = {"weighting=tfidf"};
    check_communities(tfidf, 1);
    const char *bm25[] = {"weighting=bm25", "similarity=asymmetric", "alpha=0.3"};
    check_communities(bm25, 3);
    const char *norm[] = {"normalize=1", "similarity=jaccard"};
    check_communities(norm, 2);
}

static void test_explain(void **state)
{
    (void)state;
    tl_data d;
    tl_test_data_from_pairs(&d, 3, 3, tiny, 7);
    tl_model *m = fit_model(&d, NULL, 0);
    /* For i1, sim(i0, i1) = sim(i2, i1) = 2 / (sqrt(6) + 10); weighing i2 twice makes it the
     * strongest evidence, and i0 (position 1) the second. */
    int32_t hist[2] = {2, 0}, why[2];
    float w[2] = {2.0f, 1.0f}, c[2];
    int n = m->ops->explain(m, -1, hist, w, 2, 1, why, c, 2);
    assert_int_equal(n, 2);
    assert_int_equal(why[0], 0); /* position of i2 in the history */
    assert_int_equal(why[1], 1);
    assert_true(c[0] > c[1]);
    assert_float_equal(c[1], tl_simmat_get(tl_item_model_simmat(m), 0, 1), 1e-7);
    /* With max = 1 only the strongest comes back. */
    assert_int_equal(m->ops->explain(m, -1, hist, w, 2, 1, why, c, 1), 1);
    assert_int_equal(why[0], 0);
    tl_model_free(m);
    tl_data_release(&d);
}

static void test_save_load_bit_exact(void **state)
{
    (void)state;
    tl_data d;
    tl_diag diag = {0};
    make_communities(&d);
    const char *kv[] = {"k=4", "weighting=bm25", "normalize=1"};
    tl_model *m = fit_model(&d, kv, 3), *l = NULL;
    char path[512];
    snprintf(path, sizeof(path), "%s/knn.tlm", tl_test_tmpdir());
    assert_int_equal(tl_model_save(m, path, &diag), TL_OK);
    assert_int_equal(tl_model_load(path, &l, &diag), TL_OK);
    const tl_simmat *a = tl_item_model_simmat(m), *b = tl_item_model_simmat(l);
    assert_non_null(b);
    assert_int_equal(a->w.nnz, b->w.nnz);
    assert_memory_equal(a->w.indptr, b->w.indptr, (size_t)(a->w.nrows + 1) * sizeof(int64_t));
    assert_memory_equal(a->w.indices, b->w.indices, (size_t)a->w.nnz * sizeof(int32_t));
    assert_memory_equal(a->w.data, b->w.data, (size_t)a->w.nnz * sizeof(float));
    /* The loaded model scores the same, normalization included. */
    float s1[20], s2[20], scratch[20];
    int32_t hist[3] = {1, 4, 7};
    m->ops->score(m, -1, hist, NULL, 3, s1, scratch);
    l->ops->score(l, -1, hist, NULL, 3, s2, scratch);
    assert_memory_equal(s1, s2, sizeof(s1));
    tl_model_free(l);
    tl_model_free(m);
    tl_data_release(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cosine_with_shrink),
        cmocka_unit_test(test_jaccard_and_asymmetric),
        cmocka_unit_test(test_bad_choice_is_rejected),
        cmocka_unit_test(test_topk_per_target),
        cmocka_unit_test(test_communities),
        cmocka_unit_test(test_explain),
        cmocka_unit_test(test_save_load_bit_exact),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
