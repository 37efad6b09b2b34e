/* ease: the closed form against a direct small solve (float32 and float64 paths), a zero
 * diagonal, the memory refusal and the pruned variant, planted communities, batched scoring
 * equal to per-user scoring, explanations and a bit-exact save/load round trip. */
#include "support.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/model.h"
#include "core/models/item_models.h"

/* Two disjoint communities of 20 users x 10 items (see test_itemknn.c). */
static void make_communities(tl_data *d)
{
    static const int off[5] = {0, 1, 3, 4, 6};
    int pairs[200][2], n = 0;
    for (int u = 0; u < 40; u++)
        for (int t = 0; t < 5; t++, n++) {
            pairs[n][0] = u;
            pairs[n][1] = (u < 20 ? 0 : 10) + (u + off[t]) % 10;
        }
    tl_test_data_from_pairs(d, 40, 20, (const int(*)[2])pairs, n);
}

static tl_model *fit_ease(const tl_data *d, const char *const *kv, int nkv)
{
    tl_model *m;
    tl_diag diag = {0};
    assert_int_equal(tl_model_new("ease", &m), TL_OK);
    assert_int_equal(tl_model_set(m, "autotune=0", &diag), TL_OK);
    for (int i = 0; i < nkv; i++)
        assert_int_equal(tl_model_set(m, kv[i], &diag), TL_OK);
    assert_int_equal(tl_model_fit(m, d, NULL, &diag), TL_OK);
    return m;
}

/* 6 users x 4 items, overlapping. */
static const int small[][2] = {{0, 0}, {0, 1}, {1, 0}, {1, 1}, {1, 2}, {2, 1}, {2, 2},
                               {3, 2}, {3, 3}, {4, 0}, {4, 3}, {5, 1}, {5, 2}, {5, 3}};
#define NS 4

/* Direct solve: P = (X^T X + lambda I)^-1 by Gauss-Jordan in double, B = -P / diag(P). */
static void reference_b(const tl_data *d, double lambda, double *B)
{
    double A[NS][2 * NS] = {{0}};
    for (int32_t u = 0; u < d->ui.nrows; u++)
        for (int64_t p = d->ui.indptr[u]; p < d->ui.indptr[u + 1]; p++)
            for (int64_t q = d->ui.indptr[u]; q < d->ui.indptr[u + 1]; q++)
                A[d->ui.indices[p]][d->ui.indices[q]] += 1.0;
    for (int i = 0; i < NS; i++) {
        A[i][i] += lambda;
        A[i][NS + i] = 1.0;
    }
    for (int c = 0; c < NS; c++) { /* SPD: no pivoting needed */
        double piv = A[c][c];
        for (int j = 0; j < 2 * NS; j++)
            A[c][j] /= piv;
        for (int r = 0; r < NS; r++) {
            if (r == c)
                continue;
            double f = A[r][c];
            for (int j = 0; j < 2 * NS; j++)
                A[r][j] -= f * A[c][j];
        }
    }
    for (int i = 0; i < NS; i++)
        for (int j = 0; j < NS; j++)
            B[i * NS + j] = i == j ? 0.0 : -A[i][NS + j] / A[j][NS + j];
}

static void check_closed_form(const char *fp)
{
    tl_data d;
    tl_test_data_from_pairs(&d, 6, NS, small, (int)(sizeof(small) / sizeof(small[0])));
    const char *kv[] = {"lambda=2", fp};
    tl_model *m = fit_ease(&d, kv, 2);
    const int32_t *items_of;
    int32_t ms;
    const float *B = tl_ease_dense(m, &items_of, &ms);
    assert_non_null(B);
    assert_int_equal(ms, NS);
    double ref[NS * NS];
    reference_b(&d, 2.0, ref);
    for (int i = 0; i < NS; i++) {
        assert_int_equal(items_of[i], i);
        assert_true(B[i * NS + i] == 0.0f);
        for (int j = 0; j < NS; j++)
            assert_float_equal(B[i * NS + j], ref[i * NS + j], 1e-5);
    }
    /* Scores are the history row times B: history {0, 3} scores item 1 as B01 + B31. */
    float scores[NS], scratch[NS];
    int32_t hist[2] = {0, 3};
    m->ops->score(m, -1, hist, NULL, 2, scores, scratch);
    assert_float_equal(scores[1], ref[0 * NS + 1] + ref[3 * NS + 1], 1e-5);
    tl_model_free(m);
    tl_data_release(&d);
}

static void test_closed_form(void **state)
{
    (void)state;
    check_closed_form("fp64=0");
    check_closed_form("fp64=1");
}

static void test_refuses_over_memory(void **state)
{
    (void)state;
    /* 600 items need 600^2 x 4 bytes = 1.4 MB (reported rounded up) > 1 MB. */
    enum { NI = 600 };
    static int pairs[2 * NI][2];
    for (size_t i = 0; i < NI; i++) {
        pairs[2 * i][0] = (int)(i % 50);
        pairs[2 * i][1] = (int)i;
        pairs[2 * i + 1][0] = (int)((i + 7) % 50);
        pairs[2 * i + 1][1] = (int)i;
    }
    tl_data d;
    tl_model *m;
    tl_diag diag = {0};
    tl_test_data_from_pairs(&d, 50, NI, (const int(*)[2])pairs, 2 * NI);
    assert_int_equal(tl_model_new("ease", &m), TL_OK);
    assert_int_equal(tl_model_set(m, "autotune=0", &diag), TL_OK);
    assert_int_equal(tl_model_set(m, "max_memory_mb=1", &diag), TL_OK);
    assert_int_equal(tl_model_fit(m, &d, NULL, &diag), TL_ETOOBIG);
    assert_non_null(strstr(diag.msg, "EASE needs 2 MB for 600 items; allowed 1 MB"));
    assert_non_null(strstr(diag.msg, "sparse=1"));
    assert_null(m->state);
    /* The pruned variant fits: the 512 most interacted items (512^2 x 4 = 1 MB) are solved. */
    assert_int_equal(tl_model_set(m, "sparse=1", &diag), TL_OK);
    assert_int_equal(tl_model_set(m, "k=5", &diag), TL_OK);
    assert_int_equal(tl_model_fit(m, &d, NULL, &diag), TL_OK);
    assert_null(tl_ease_dense(m, NULL, NULL));
    const tl_simmat *s = tl_item_model_simmat(m);
    assert_non_null(s);
    int32_t rows_used = 0;
    for (int32_t i = 0; i < NI; i++) {
        int64_t len = s->w.indptr[i + 1] - s->w.indptr[i];
        assert_true(len <= 5);
        rows_used += len > 0;
    }
    assert_in_range(rows_used, 1, 512);
    tl_model_free(m);
    tl_data_release(&d);
}

static void test_communities_dense_and_sparse(void **state)
{
    (void)state;
    const char *dense[] = {"lambda=1"};
    const char *sparse[] = {"lambda=1", "sparse=1", "k=4"};
    for (int v = 0; v < 2; v++) {
        tl_data d;
        make_communities(&d);
        tl_model *m = v ? fit_ease(&d, sparse, 3) : fit_ease(&d, dense, 1);
        for (int32_t u = 0; u < 40; u++) {
            int32_t out[3];
            float sc[3];
            int n = 0;
            const int32_t *h = d.ui.indices + d.ui.indptr[u];
            int32_t nh = (int32_t)(d.ui.indptr[u + 1] - d.ui.indptr[u]);
            assert_int_equal(tl_model_recommend(m, u, h, NULL, nh, NULL, 3, out, sc, &n), TL_OK);
            assert_int_equal(n, 3);
            for (int r = 0; r < n; r++)
                assert_int_equal(out[r] / 10, u / 20);
        }
        tl_model_free(m);
        tl_data_release(&d);
    }
}

static void test_block_equals_single(void **state)
{
    (void)state;
    tl_data d;
    make_communities(&d);
    const char *kv[] = {"lambda=3"};
    tl_model *m = fit_ease(&d, kv, 1);
    int32_t rows[40], out_b[40 * 5];
    float sc_b[40 * 5];
    for (int i = 0; i < 40; i++)
        rows[i] = i;
    assert_int_equal(tl_model_recommend_rows(m, &d.ui, 1, rows, 40, NULL, 5, out_b, sc_b), TL_OK);
    for (int32_t u = 0; u < 40; u++) {
        int32_t out[5];
        float sc[5];
        int n;
        const int32_t *h = d.ui.indices + d.ui.indptr[u];
        int32_t nh = (int32_t)(d.ui.indptr[u + 1] - d.ui.indptr[u]);
        assert_int_equal(
            tl_model_recommend(m, u, h, d.ui.data + d.ui.indptr[u], nh, NULL, 5, out, sc, &n),
            TL_OK);
        for (int r = 0; r < 5; r++) {
            assert_int_equal(out[r], out_b[u * 5 + r]);
            assert_float_equal(sc[r], sc_b[u * 5 + r], 1e-5);
        }
    }
    tl_model_free(m);
    tl_data_release(&d);
}

static void test_explain(void **state)
{
    (void)state;
    tl_data d;
    tl_test_data_from_pairs(&d, 6, NS, small, (int)(sizeof(small) / sizeof(small[0])));
    const char *kv[] = {"lambda=2"};
    tl_model *m = fit_ease(&d, kv, 1);
    const float *B = tl_ease_dense(m, NULL, NULL);
    /* Item 1 explained by a history {3, 0, 2}: the positive B[h][1], strongest first. */
    int32_t hist[3] = {3, 0, 2}, why[3];
    float c[3];
    int n = m->ops->explain(m, -1, hist, NULL, 3, 1, why, c, 3);
    int expect = 0;
    for (int h = 0; h < 3; h++)
        expect += B[hist[h] * NS + 1] > 0.0f;
    assert_int_equal(n, expect);
    assert_true(n >= 1);
    int best = -1;
    for (int h = 0; h < 3; h++)
        if (best < 0 || B[hist[h] * NS + 1] > B[hist[best] * NS + 1])
            best = h;
    assert_int_equal(why[0], best);
    assert_true(c[0] == B[hist[best] * NS + 1]);
    tl_model_free(m);
    tl_data_release(&d);
}

static void round_trip(const char *const *kv, int nkv)
{
    tl_data d;
    tl_diag diag = {0};
    make_communities(&d);
    tl_model *m = fit_ease(&d, kv, nkv), *l = NULL;
    char path[512];
    snprintf(path, sizeof(path), "%s/ease.tlm", tl_test_tmpdir());
    assert_int_equal(tl_model_save(m, path, &diag), TL_OK);
    assert_int_equal(tl_model_load(path, &l, &diag), TL_OK);
    int32_t ma, mb;
    const int32_t *ia, *ib;
    const float *A = tl_ease_dense(m, &ia, &ma), *B = tl_ease_dense(l, &ib, &mb);
    if (A) {
        assert_non_null(B);
        assert_int_equal(ma, mb);
        assert_memory_equal(ia, ib, (size_t)ma * sizeof(*ia));
        assert_memory_equal(A, B, (size_t)ma * (size_t)ma * sizeof(*A));
    } else {
        const tl_simmat *sa = tl_item_model_simmat(m), *sb = tl_item_model_simmat(l);
        assert_null(B);
        assert_non_null(sb);
        assert_int_equal(sa->w.nnz, sb->w.nnz);
        assert_memory_equal(sa->w.indptr, sb->w.indptr, (size_t)21 * sizeof(int64_t));
        assert_memory_equal(sa->w.indices, sb->w.indices, (size_t)sa->w.nnz * sizeof(int32_t));
        assert_memory_equal(sa->w.data, sb->w.data, (size_t)sa->w.nnz * sizeof(float));
    }
    float s1[20], s2[20], scratch[20];
    int32_t hist[3] = {2, 11, 5};
    m->ops->score(m, -1, hist, NULL, 3, s1, scratch);
    l->ops->score(l, -1, hist, NULL, 3, s2, scratch);
    assert_memory_equal(s1, s2, sizeof(s1));
    tl_model_free(l);
    tl_model_free(m);
    tl_data_release(&d);
}

/* Random data with distinct real weights (no ties), n_users x n_items, ~density. */
static void make_random(tl_data *d, int nu, int ni, double density, uint64_t seed)
{
    tl_coo c;
    char id[32];
    int32_t idx;
    tl_data_init(d);
    for (int u = 0; u < nu; u++) {
        snprintf(id, sizeof(id), "u%d", u);
        assert_int_equal(tl_intern_add(&d->users, id, strlen(id), &idx), TL_OK);
    }
    for (int i = 0; i < ni; i++) {
        snprintf(id, sizeof(id), "i%d", i);
        assert_int_equal(tl_intern_add(&d->items, id, strlen(id), &idx), TL_OK);
    }
    assert_int_equal(tl_coo_init(&c, 16, 0), TL_OK);
    uint64_t x = seed;
    for (int u = 0; u < nu; u++)
        for (int i = 0; i < ni; i++) {
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
            double r = (double)(x >> 11) / 9007199254740992.0;
            /* Popular low-numbered items, and a block structure by parity. */
            double p = density * (i < ni / 4 ? 3 : 1) * ((u + i) % 2 ? 1.6 : 0.4);
            if (r < p)
                assert_int_equal(tl_coo_push(&c, u, i, (float)(0.5 + r / p), 0), TL_OK);
        }
    assert_int_equal(tl_data_build(d, &c, TL_DUP_SUM), TL_OK);
    tl_coo_release(&c);
}

/* The lambda path (one eigendecomposition, primal or dual) ranks as the fitted model does. */
static void path_matches_fit(int nu, int ni)
{
    tl_data d;
    tl_diag diag = {0};
    make_random(&d, nu, ni, 0.08, 7);
    const double lambdas[] = {0.5, 4, 30, 200};
    int32_t rows[40], nrows = 0;
    for (int32_t u = 0; u < nu && nrows < 40; u += 3)
        rows[nrows++] = u;
    uint8_t *allow = malloc((size_t)ni);
    for (int i = 0; i < ni; i++)
        allow[i] = i % 7 != 3; /* some items are not candidates */
    int32_t *path = malloc(sizeof(int32_t) * 4 * (size_t)nrows * 10);
    int32_t got[40 * 10];
    tl_model *m = fit_ease(&d, NULL, 0);
    assert_int_equal(
        m->ops->tune_path(m, &d, "lambda", lambdas, 4, rows, nrows, allow, path, &diag), TL_OK);
    tl_filter f = {.allow = allow};
    for (int v = 0; v < 4; v++) {
        char kv[32];
        snprintf(kv, sizeof(kv), "lambda=%g", lambdas[v]);
        const char *set[] = {kv};
        tl_model *e = fit_ease(&d, set, 1);
        assert_int_equal(tl_model_recommend_rows(e, &d.ui, 1, rows, nrows, &f, 10, got, NULL),
                         TL_OK);
        int same = 0;
        for (int k = 0; k < nrows * 10; k++)
            same += got[k] == path[(size_t)v * (size_t)nrows * 10 + (size_t)k];
        /* float32 solves on both sides: allow a near-tie to swap now and then. */
        assert_true(same >= nrows * 10 * 98 / 100);
        tl_model_free(e);
    }
    assert_int_equal(m->ops->tune_path(m, &d, "k", lambdas, 1, rows, nrows, allow, path, &diag),
                     TL_EUNSUPPORTED);
    tl_model_free(m);
    free(path);
    free(allow);
    tl_data_release(&d);
}

static void test_lambda_path(void **state)
{
    (void)state;
    path_matches_fit(120, 40); /* more users than items: the primal X^T X */
    path_matches_fit(30, 90);  /* more items than users: the dual X X^T */
}

/* Fewer users than items: B is solved through X X^T (the dual); it must equal the direct
 * inverse of X^T X + lambda I, computed here in double by Gauss-Jordan. */
static void test_dual_solve(void **state)
{
    (void)state;
    enum { NU = 25, NI = 70 };
    tl_data d;
    make_random(&d, NU, NI, 0.15, 11);
    const char *kv[] = {"lambda=3"};
    tl_model *m = fit_ease(&d, kv, 1);
    const int32_t *items_of;
    int32_t ms;
    const float *B = tl_ease_dense(m, &items_of, &ms);
    assert_non_null(B);
    double *A = calloc((size_t)ms * 2 * ms, sizeof(*A));
    int32_t pos[NI];
    for (int i = 0; i < NI; i++)
        pos[i] = -1;
    for (int r = 0; r < ms; r++)
        pos[items_of[r]] = r;
    for (int32_t u = 0; u < d.ui.nrows; u++)
        for (int64_t p = d.ui.indptr[u]; p < d.ui.indptr[u + 1]; p++)
            for (int64_t q = d.ui.indptr[u]; q < d.ui.indptr[u + 1]; q++) {
                int a = pos[d.ui.indices[p]], b = pos[d.ui.indices[q]];
                if (a >= 0 && b >= 0)
                    A[(size_t)a * 2 * ms + b] += (double)d.ui.data[p] * d.ui.data[q];
            }
    for (int i = 0; i < ms; i++) {
        A[(size_t)i * 2 * ms + i] += 3.0;
        A[(size_t)i * 2 * ms + ms + i] = 1.0;
    }
    for (int c = 0; c < ms; c++) {
        double piv = A[(size_t)c * 2 * ms + c];
        for (int j = 0; j < 2 * ms; j++)
            A[(size_t)c * 2 * ms + j] /= piv;
        for (int r = 0; r < ms; r++) {
            double f = A[(size_t)r * 2 * ms + c];
            for (int j = 0; r != c && j < 2 * ms; j++)
                A[(size_t)r * 2 * ms + j] -= f * A[(size_t)c * 2 * ms + j];
        }
    }
    double worst = 0, largest = 0;
    for (int i = 0; i < ms; i++)
        for (int j = 0; j < ms; j++) {
            double ref =
                i == j ? 0.0 : -A[(size_t)i * 2 * ms + ms + j] / A[(size_t)j * 2 * ms + ms + j];
            worst = fmax(worst, fabs(ref - B[(size_t)i * ms + j]));
            largest = fmax(largest, fabs(ref));
        }
    assert_true(largest > 0.01);
    assert_true(worst < 1e-4 * largest);
    free(A);
    tl_model_free(m);
    tl_data_release(&d);
}

static void test_save_load_bit_exact(void **state)
{
    (void)state;
    const char *dense[] = {"lambda=5"};
    round_trip(dense, 1);
    const char *sparse[] = {"lambda=5", "sparse=1", "k=3"};
    round_trip(sparse, 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_closed_form),
        cmocka_unit_test(test_refuses_over_memory),
        cmocka_unit_test(test_communities_dense_and_sparse),
        cmocka_unit_test(test_block_equals_single),
        cmocka_unit_test(test_explain),
        cmocka_unit_test(test_save_load_bit_exact),
        cmocka_unit_test(test_lambda_path),
        cmocka_unit_test(test_dual_solve),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
