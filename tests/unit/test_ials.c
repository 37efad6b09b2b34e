/* ials: planted communities are recovered, CG and Cholesky agree, Cholesky solves the normal
 * equations, fold-in reproduces trained users, training is deterministic, explanations are the
 * exact decomposition of the score, model files round-trip bit for bit (and corrupt ones
 * are refused), and a fit sharded over processes (here threads with an in-memory
 * communicator) is one process's fit bit for bit. Small data only: this also runs under ASan. */
#include "support.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/comm.h"
#include "core/linalg.h"
#include "core/model.h"
#include "core/models/ials.h"
#include "util/hash.h"

/* Builds d from (user, item, weight) cells; ids are "u<n>" / "i<n>" interned in index order. */
static void make_data(tl_data *d, int32_t n_users, int32_t n_items, const int32_t *u,
                      const int32_t *i, const float *w, int64_t n)
{
    char id[32];
    tl_coo c;
    int32_t ix;
    tl_data_init(d);
    for (int32_t k = 0; k < n_users; k++) {
        snprintf(id, sizeof(id), "u%d", k);
        assert_int_equal(tl_intern_add(&d->users, id, strlen(id), &ix), TL_OK);
    }
    for (int32_t k = 0; k < n_items; k++) {
        snprintf(id, sizeof(id), "i%d", k);
        assert_int_equal(tl_intern_add(&d->items, id, strlen(id), &ix), TL_OK);
    }
    assert_int_equal(tl_coo_init(&c, n, 0), TL_OK);
    for (int64_t k = 0; k < n; k++)
        assert_int_equal(tl_coo_push(&c, u[k], i[k], w ? w[k] : 1.0f, 0), TL_OK);
    assert_int_equal(tl_data_build(d, &c, TL_DUP_MAX), TL_OK);
    tl_coo_release(&c);
}

/* Two communities: users [0, 30) take items [0, 20), users [30, 60) items [20, 40); each user
 * has 8 random items of their own community. */
static void make_communities(tl_data *d)
{
    int32_t u[60 * 8], it[60 * 8];
    int64_t n = 0;
    tl_rng g = {7};
    for (int32_t user = 0; user < 60; user++) {
        int32_t base = user < 30 ? 0 : 20;
        for (int j = 0; j < 8; j++) {
            u[n] = user;
            it[n] = base + (int32_t)(tl_rng_next(&g) % 20);
            n++;
        }
    }
    make_data(d, 60, 40, u, it, NULL, n);
}

/* A random sparse problem with graded weights. */
static void make_random(tl_data *d, int32_t nu, int32_t ni, int per_user, uint64_t seed)
{
    int64_t cap = (int64_t)nu * per_user;
    int32_t *u = malloc((size_t)cap * sizeof(*u)), *it = malloc((size_t)cap * sizeof(*it));
    float *w = malloc((size_t)cap * sizeof(*w));
    assert_non_null(u);
    assert_non_null(it);
    assert_non_null(w);
    tl_rng g = {seed};
    int64_t n = 0;
    for (int32_t user = 0; user < nu; user++)
        for (int j = 0; j < per_user; j++) {
            u[n] = user;
            /* squared uniform: a popularity skew */
            double r = tl_rng_uniform(&g);
            it[n] = (int32_t)(r * r * ni);
            w[n] = 1.0f + (float)(tl_rng_next(&g) % 3);
            n++;
        }
    make_data(d, nu, ni, u, it, w, n);
    free(u);
    free(it);
    free(w);
}

static tl_model *train(const tl_data *d, const char *const *kv)
{
    tl_model *m;
    tl_diag diag;
    assert_int_equal(tl_model_new("ials", &m), TL_OK);
    for (; kv && *kv; kv++)
        assert_int_equal(tl_model_set(m, *kv, &diag), TL_OK);
    assert_int_equal(tl_model_fit(m, d, NULL, &diag), TL_OK);
    return m;
}

static const float *user_row(const tl_model *m, int32_t u)
{
    tl_ials_view v;
    assert_int_equal(tl_ials_view_get(m, &v), TL_OK);
    return v.user_factors + (size_t)u * v.ld;
}

static void test_planted_communities(void **state)
{
    (void)state;
    const char *solvers[] = {"solver=cg", "solver=cholesky"};
    tl_data d;
    make_communities(&d);
    for (int s = 0; s < 2; s++) {
        const char *kv[] = {"factors=8", "iterations=10", "reg=10", "alpha=5", solvers[s], NULL};
        tl_model *m = train(&d, kv);
        for (int32_t u = 0; u < 60; u++) {
            int32_t top[5];
            int got;
            const tl_csr *h = &d.ui;
            assert_int_equal(tl_model_recommend(m, u, h->indices + h->indptr[u],
                                                h->data + h->indptr[u],
                                                (int32_t)(h->indptr[u + 1] - h->indptr[u]), NULL, 5,
                                                top, NULL, &got),
                             TL_OK);
            assert_int_equal(got, 5);
            for (int j = 0; j < 5; j++) /* every suggestion from the user's own community */
                assert_int_equal(top[j] < 20, u < 30);
        }
        tl_model_free(m);
    }
    tl_data_release(&d);
}

static void test_cg_and_cholesky_agree(void **state)
{
    (void)state;
    tl_data d;
    make_random(&d, 80, 50, 10, 11);
    const char *cg[] = {"factors=8", "iterations=15", "reg=2", "alpha=3", "solver=cg", NULL};
    const char *ch[] = {"factors=8", "iterations=15", "reg=2", "alpha=3", "solver=cholesky", NULL};
    const char *ch1[] = {"factors=8", "iterations=1", "reg=2", "alpha=3", "solver=cholesky", NULL};
    tl_model *a = train(&d, cg), *b = train(&d, ch), *b1 = train(&d, ch1);
    double la, lb, lb1;
    assert_int_equal(tl_ials_loss(a, &d.ui, &la), TL_OK);
    assert_int_equal(tl_ials_loss(b, &d.ui, &lb), TL_OK);
    assert_int_equal(tl_ials_loss(b1, &d.ui, &lb1), TL_OK);
    assert_true(lb < lb1);                  /* ALS descends */
    assert_true(fabs(la - lb) < 0.01 * lb); /* and CG lands where exact ALS does */
    /* Rankings: the top 5 (history excluded) mostly coincide. */
    int same = 0, total = 0;
    for (int32_t u = 0; u < 80; u++) {
        int32_t ta[5], tb[5];
        int ga, gb;
        const tl_csr *h = &d.ui;
        const int32_t *it = h->indices + h->indptr[u];
        int32_t n = (int32_t)(h->indptr[u + 1] - h->indptr[u]);
        assert_int_equal(
            tl_model_recommend(a, u, it, h->data + h->indptr[u], n, NULL, 5, ta, NULL, &ga), TL_OK);
        assert_int_equal(
            tl_model_recommend(b, u, it, h->data + h->indptr[u], n, NULL, 5, tb, NULL, &gb), TL_OK);
        for (int x = 0; x < ga; x++)
            for (int y = 0; y < gb; y++)
                same += ta[x] == tb[y];
        total += ga;
    }
    assert_true(same >= 0.8 * total);
    tl_model_free(a);
    tl_model_free(b);
    tl_model_free(b1);
    tl_data_release(&d);
}

/* Builds A = YtY + sum alpha w y y^T + reg I and b = sum (1 + alpha w) y in double. */
static void normal_equations(const tl_model *m, const tl_csr *ui, int32_t u, double *a, double *b)
{
    tl_ials_view v;
    assert_int_equal(tl_ials_view_get(m, &v), TL_OK);
    int k = v.factors;
    double alpha = tl_params_num(&m->params, "alpha"), reg = tl_params_num(&m->params, "reg");
    memset(a, 0, (size_t)k * k * sizeof(double));
    memset(b, 0, (size_t)k * sizeof(double));
    for (int32_t i = 0; i < v.n_items; i++) {
        const float *y = v.item_factors + (size_t)i * v.ld;
        for (int r = 0; r < k; r++)
            for (int c = 0; c < k; c++)
                a[r * k + c] += (double)y[r] * y[c];
    }
    for (int r = 0; r < k; r++)
        a[r * k + r] += reg;
    for (int64_t p = ui->indptr[u]; p < ui->indptr[u + 1]; p++) {
        const float *y = v.item_factors + (size_t)ui->indices[p] * v.ld;
        double cm1 = alpha * ui->data[p];
        for (int r = 0; r < k; r++) {
            b[r] += (1 + cm1) * y[r];
            for (int c = 0; c < k; c++)
                a[r * k + c] += cm1 * y[r] * y[c];
        }
    }
}

/* The lockstep sweep used for rows too heavy for the cache solves the same CG steps as the
 * per-row path (only the order of float sums differs). */
static void test_sweep_matches_rows(void **state)
{
    (void)state;
    tl_data d;
    make_random(&d, 90, 60, 12, 17);
    const char *kv[] = {"factors=12", "iterations=6", "reg=2", "alpha=3", "threads=2", NULL};
    tl_model *a = train(&d, kv);
    tl__ials_force_sweep = 1;
    tl_model *b = train(&d, kv);
    const char *t1[] = {"factors=12", "iterations=6", "reg=2", "alpha=3", "threads=1", NULL};
    tl_model *c = train(&d, t1);
    tl__ials_force_sweep = 0;
    tl_ials_view va, vb, vc;
    assert_int_equal(tl_ials_view_get(a, &va), TL_OK);
    assert_int_equal(tl_ials_view_get(b, &vb), TL_OK);
    assert_int_equal(tl_ials_view_get(c, &vc), TL_OK);
    double diff = 0, norm = 0;
    for (size_t q = 0; q < (size_t)va.n_users * va.ld; q++) {
        diff += ((double)va.user_factors[q] - vb.user_factors[q]) *
                ((double)va.user_factors[q] - vb.user_factors[q]);
        norm += (double)va.user_factors[q] * va.user_factors[q];
    }
    assert_true(norm > 0);
    assert_true(sqrt(diff) < 1e-3 * sqrt(norm));
    /* fixed partitions: the sweep's sums do not depend on the thread count either */
    assert_memory_equal(vb.user_factors, vc.user_factors,
                        (size_t)vb.n_users * vb.ld * sizeof(float));
    assert_memory_equal(vb.item_factors, vc.item_factors,
                        (size_t)vb.n_items * vb.ld * sizeof(float));
    tl_model_free(a);
    tl_model_free(b);
    tl_model_free(c);
    tl_data_release(&d);
}

static void test_cholesky_solves_normal_equations(void **state)
{
    (void)state;
    tl_data d;
    make_random(&d, 40, 30, 9, 12);
    const char *kv[] = {"factors=6", "iterations=3", "reg=0.5", "alpha=4", "solver=cholesky", NULL};
    tl_model *m = train(&d, kv);
    double a[36], b[6];
    for (int32_t u = 0; u < 40; u += 13) {
        /* users are solved last, from the final item factors: A x_u = b exactly */
        normal_equations(m, &d.ui, u, a, b);
        const float *x = user_row(m, u);
        double err = 0, scale = 0;
        for (int r = 0; r < 6; r++) {
            double s = 0;
            for (int c = 0; c < 6; c++)
                s += a[r * 6 + c] * x[c];
            err += (s - b[r]) * (s - b[r]);
            scale += b[r] * b[r];
        }
        assert_true(sqrt(err) < 1e-4 * sqrt(scale));
    }
    tl_model_free(m);
    tl_data_release(&d);
}

static void test_fold_in_reproduces_users(void **state)
{
    (void)state;
    tl_data d;
    make_random(&d, 50, 40, 12, 13);
    const char *kv[] = {"factors=16", "iterations=5", "reg=1", "alpha=2", "solver=cholesky", NULL};
    tl_model *m = train(&d, kv);
    float vec[16];
    for (int32_t u = 0; u < 50; u += 7) {
        const tl_csr *h = &d.ui;
        assert_int_equal(tl_ials_fold_in(m, h->indices + h->indptr[u], h->data + h->indptr[u],
                                         (int32_t)(h->indptr[u + 1] - h->indptr[u]), vec),
                         TL_OK);
        const float *x = user_row(m, u);
        for (int f = 0; f < 16; f++)
            assert_true(fabsf(vec[f] - x[f]) < 1e-4f * (1 + fabsf(x[f])));
    }
    /* Items the model does not know are ignored; an empty history folds in to zero. */
    int32_t odd[] = {-1, 40, 1000};
    assert_int_equal(tl_ials_fold_in(m, odd, NULL, 3, vec), TL_OK);
    for (int f = 0; f < 16; f++)
        assert_true(vec[f] == 0);
    /* score() of an unknown user (uidx -1) is the fold-in's dot products */
    float scores[40], *scratch = malloc(m->ops->scratch_floats(m) * sizeof(float));
    int32_t hist[] = {3, 5, 8};
    assert_non_null(scratch);
    assert_int_equal(tl_ials_fold_in(m, hist, NULL, 3, vec), TL_OK);
    assert_int_equal(m->ops->score(m, -1, hist, NULL, 3, scores, scratch), TL_OK);
    /* A history that cannot be folded in (a non-finite weight) is an error, not scores */
    float bad_w[] = {1.0f, NAN, 1.0f};
    assert_int_equal(m->ops->score(m, -1, hist, bad_w, 3, scores, scratch), TL_ENUMERIC);
    int32_t top[5];
    int got = -1;
    assert_int_equal(tl_model_recommend(m, -1, hist, bad_w, 3, NULL, 5, top, NULL, &got),
                     TL_ENUMERIC);
    assert_int_equal(tl_model_recommend(m, -1, hist, NULL, 3, NULL, 5, top, NULL, &got), TL_OK);
    assert_int_equal(got, 5);
    tl_ials_view v;
    assert_int_equal(tl_ials_view_get(m, &v), TL_OK);
    for (int32_t i = 0; i < 40; i++) {
        double s = 0;
        for (int f = 0; f < 16; f++)
            s += (double)vec[f] * v.item_factors[(size_t)i * v.ld + f];
        assert_true(fabs(scores[i] - s) < 1e-4);
    }
    free(scratch);
    tl_model_free(m);
    tl_data_release(&d);
}

static void test_deterministic(void **state)
{
    (void)state;
    tl_data d;
    make_random(&d, 70, 45, 10, 14);
    const char *t2[] = {"factors=12", "iterations=4", "threads=2", "seed=5", NULL};
    const char *t1[] = {"factors=12", "iterations=4", "threads=1", "seed=5", NULL};
    const char *s6[] = {"factors=12", "iterations=4", "threads=2", "seed=6", NULL};
    tl_model *a = train(&d, t2), *b = train(&d, t2), *c = train(&d, t1), *e = train(&d, s6);
    tl_ials_view va, vb, vc, ve;
    assert_int_equal(tl_ials_view_get(a, &va), TL_OK);
    assert_int_equal(tl_ials_view_get(b, &vb), TL_OK);
    assert_int_equal(tl_ials_view_get(c, &vc), TL_OK);
    assert_int_equal(tl_ials_view_get(e, &ve), TL_OK);
    size_t nu = (size_t)va.n_users * va.ld * sizeof(float);
    size_t ni = (size_t)va.n_items * va.ld * sizeof(float);
    assert_memory_equal(va.user_factors, vb.user_factors, nu);
    assert_memory_equal(va.item_factors, vb.item_factors, ni);
    /* each row is solved on its own: the thread count changes nothing either */
    assert_memory_equal(va.user_factors, vc.user_factors, nu);
    assert_memory_equal(va.item_factors, vc.item_factors, ni);
    assert_memory_not_equal(va.user_factors, ve.user_factors, nu); /* the seed matters */
    tl_model_free(a);
    tl_model_free(b);
    tl_model_free(c);
    tl_model_free(e);
    tl_data_release(&d);
}

static void test_score_block_matches_score(void **state)
{
    (void)state;
    tl_data d;
    make_random(&d, 30, 25, 6, 15);
    const char *kv[] = {"factors=10", "iterations=3", NULL};
    tl_model *m = train(&d, kv);
    int32_t rows[] = {4, 0, 29, 17};
    float block[4 * 25], one[25];
    float *scratch = malloc(m->ops->scratch_floats(m) * sizeof(float));
    assert_non_null(scratch);
    for (int users_match = 0; users_match < 2; users_match++) {
        m->ops->score_block(m, &d.ui, users_match, rows, 4, block);
        for (int r = 0; r < 4; r++) {
            int32_t u = rows[r];
            const tl_csr *h = &d.ui;
            m->ops->score(m, users_match ? u : -1, h->indices + h->indptr[u],
                          h->data + h->indptr[u], (int32_t)(h->indptr[u + 1] - h->indptr[u]), one,
                          scratch);
            for (int i = 0; i < 25; i++)
                assert_true(fabsf(block[r * 25 + i] - one[i]) < 1e-4f);
        }
    }
    /* the same from inside a parallel region (per-thread tiles, single-threaded BLAS) */
    float nested[2][4 * 25];
    int saved = tl_la_blas_threads();
    tl_la_blas_threads_set(1);
#pragma omp parallel for num_threads(2)
    for (int t = 0; t < 2; t++)
        m->ops->score_block(m, &d.ui, 1, rows, 4, nested[t]);
    tl_la_blas_threads_set(saved);
    m->ops->score_block(m, &d.ui, 1, rows, 4, block);
    for (int t = 0; t < 2; t++)
        for (int q = 0; q < 4 * 25; q++)
            assert_true(fabsf(nested[t][q] - block[q]) < 1e-4f);
    free(scratch);
    tl_model_free(m);
    tl_data_release(&d);
}

/* explain() against the definition: contribution_j = c_j y_i^T A^-1 y_j, A as in fold-in,
 * solved here in double by Gaussian elimination. */
static void test_explain_is_exact(void **state)
{
    (void)state;
    tl_data d;
    make_communities(&d);
    const char *kv[] = {"factors=8", "iterations=8", "reg=1", "alpha=5", NULL};
    tl_model *m = train(&d, kv);
    const tl_csr *h = &d.ui;
    int32_t u = 3, item = 0;
    const int32_t *hist = h->indices + h->indptr[u];
    int32_t n = (int32_t)(h->indptr[u + 1] - h->indptr[u]);
    tl_ials_view v;
    assert_int_equal(tl_ials_view_get(m, &v), TL_OK);
    double a[64], z[8], aug[8][9];
    normal_equations(m, h, u, a, z);
    for (int r = 0; r < 8; r++) {
        for (int c = 0; c < 8; c++)
            aug[r][c] = a[r * 8 + c];
        aug[r][8] = v.item_factors[(size_t)item * v.ld + r];
    }
    for (int p = 0; p < 8; p++) /* SPD: no pivoting needed */
        for (int r = p + 1; r < 8; r++) {
            double f = aug[r][p] / aug[p][p];
            for (int c = p; c < 9; c++)
                aug[r][c] -= f * aug[p][c];
        }
    for (int r = 7; r >= 0; r--) {
        double s = aug[r][8];
        for (int c = r + 1; c < 8; c++)
            s -= aug[r][c] * z[c];
        z[r] = s / aug[r][r];
    }
    int32_t why[8];
    float con[8];
    int got = m->ops->explain(m, u, hist, h->data + h->indptr[u], n, item, why, con, 8);
    assert_true(got > 0);
    double alpha = tl_params_num(&m->params, "alpha");
    for (int g = 0; g < got; g++) {
        const float *y = v.item_factors + (size_t)hist[why[g]] * v.ld;
        double e = 0;
        for (int f = 0; f < 8; f++)
            e += z[f] * y[f];
        e *= 1 + alpha * h->data[h->indptr[u] + why[g]];
        assert_true(fabs(con[g] - e) < 1e-3 * (1 + fabs(e)));
        assert_true(con[g] > 0);
        if (g)
            assert_true(con[g] <= con[g - 1]); /* strongest first */
        assert_true(hist[why[g]] < 20);        /* reasons come from the user's community */
    }
    /* explain_many: the same evidence for each of several items at once (an unknown one has
     * none) */
    int32_t targets[3] = {item, 25, -1}, many_why[3 * 8];
    float many_con[3 * 8];
    int many_got[3];
    assert_int_equal(m->ops->explain_many(m, u, hist, h->data + h->indptr[u], n, targets, 3,
                                          many_why, many_con, 8, many_got),
                     0);
    assert_int_equal(many_got[0], got);
    assert_int_equal(many_got[2], 0);
    for (int g = 0; g < got; g++) {
        assert_int_equal(many_why[g], why[g]);
        assert_true(fabsf(many_con[g] - con[g]) < 1e-4f * (1 + fabsf(con[g])));
    }
    int got25 = m->ops->explain(m, u, hist, h->data + h->indptr[u], n, 25, why, con, 8);
    assert_int_equal(many_got[1], got25);
    for (int g = 0; g < got25; g++) {
        assert_int_equal(many_why[8 + g], why[g]);
        assert_true(fabsf(many_con[8 + g] - con[g]) < 1e-4f * (1 + fabsf(con[g])));
    }
    tl_model_free(m);
    tl_data_release(&d);
}

static void test_save_load_roundtrip(void **state)
{
    (void)state;
    tl_data d;
    make_random(&d, 40, 30, 8, 16);
    const char *kv[] = {"factors=12", "iterations=3", "alpha=3", NULL};
    tl_model *m = train(&d, kv), *l = NULL;
    char path[512], bad[512];
    snprintf(path, sizeof(path), "%s/ials.tlm", tl_test_tmpdir());
    snprintf(bad, sizeof(bad), "%s/ials-bad.tlm", tl_test_tmpdir());
    tl_diag diag;
    assert_int_equal(tl_model_save(m, path, &diag), TL_OK);
    assert_int_equal(tl_model_load(path, &l, &diag), TL_OK);
    tl_ials_view a, b;
    assert_int_equal(tl_ials_view_get(m, &a), TL_OK);
    assert_int_equal(tl_ials_view_get(l, &b), TL_OK);
    assert_int_equal(a.factors, b.factors);
    assert_int_equal(a.n_users, b.n_users);
    assert_int_equal(a.n_items, b.n_items);
    assert_memory_equal(a.user_factors, b.user_factors, (size_t)a.n_users * a.ld * sizeof(float));
    assert_memory_equal(a.item_factors, b.item_factors, (size_t)a.n_items * a.ld * sizeof(float));
    assert_memory_equal(a.yty, b.yty, (size_t)a.factors * a.factors * sizeof(float));
    /* the loaded model scores and folds in exactly like the trained one */
    float v1[12], v2[12];
    int32_t hist[] = {1, 2, 9};
    assert_int_equal(tl_ials_fold_in(m, hist, NULL, 3, v1), TL_OK);
    assert_int_equal(tl_ials_fold_in(l, hist, NULL, 3, v2), TL_OK);
    assert_memory_equal(v1, v2, sizeof(v1));
    tl_model_free(l);
    l = NULL;

    /* One flipped byte in the middle of the factors: refused. */
    char *buf;
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t)size);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    buf[size - 100] ^= 0x40;
    f = fopen(bad, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(buf, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    assert_int_not_equal(tl_model_load(bad, &l, &diag), TL_OK);
    assert_null(l);
    free(buf);
    tl_model_free(m);
    tl_data_release(&d);
}

/* A user and an item without interactions get zero vectors (the exact solution), and
 * everything stays finite. */
static void test_empty_rows(void **state)
{
    (void)state;
    int32_t u[] = {0, 0, 1, 1, 3};
    int32_t it[] = {0, 1, 1, 2, 0};
    tl_data d;
    make_data(&d, 4, 4, u, it, NULL, 5); /* user 2 and item 3 have nothing */
    const char *solvers[] = {"solver=cg", "solver=cholesky"};
    for (int s = 0; s < 2; s++) {
        const char *kv[] = {"factors=3", "iterations=4", solvers[s], NULL};
        tl_model *m = train(&d, kv);
        tl_ials_view v;
        assert_int_equal(tl_ials_view_get(m, &v), TL_OK);
        for (int f = 0; f < v.ld; f++) {
            assert_true(v.user_factors[2 * v.ld + f] == 0);
            assert_true(v.item_factors[3 * v.ld + f] == 0);
        }
        for (int q = 0; q < 4 * v.ld; q++)
            assert_true(isfinite(v.user_factors[q]) && isfinite(v.item_factors[q]));
        int32_t top[4];
        int got;
        assert_int_equal(tl_model_recommend(m, 2, NULL, NULL, 0, NULL, 4, top, NULL, &got), TL_OK);
        assert_int_equal(got, 4); /* all scores 0: still ranked (ties by index) */
        tl_model_free(m);
    }
    tl_data_release(&d);
}

static void test_bad_params(void **state)
{
    (void)state;
    tl_data d;
    make_communities(&d);
    tl_model *m;
    tl_diag diag;
    assert_int_equal(tl_model_new("ials", &m), TL_OK);
    assert_int_equal(tl_model_set(m, "solver=lu", &diag), TL_OK); /* strings: checked at fit */
    assert_int_equal(tl_model_fit(m, &d, NULL, &diag), TL_EINVAL);
    assert_non_null(strstr(diag.field, "solver"));
    assert_int_not_equal(tl_model_set(m, "factors=0", &diag), TL_OK);
    tl_model_free(m);
    tl_data_release(&d);
}

/* A communicator of RANKS threads in one process, with the semantics of src/dist's MPI one:
 * each rank publishes its buffer, all wait, each reads the others'. */
enum { RANKS = 3 };
typedef struct shard_job {
    pthread_barrier_t *bar;
    void **slot; /* RANKS published buffers */
    tl_comm comm;
    const tl_data *d;
    const char *const *kv;
    tl_model *m;
} shard_job;

static int fake_allreduce(void *ctx, double *buf, size_t n)
{
    shard_job *j = ctx;
    double *sum = calloc(n ? n : 1, sizeof(double));
    if (!sum)
        return -1;
    j->slot[j->comm.rank] = buf;
    pthread_barrier_wait(j->bar);
    for (int p = 0; p < RANKS; p++)
        for (size_t i = 0; i < n; i++)
            sum[i] += ((const double *)j->slot[p])[i];
    pthread_barrier_wait(j->bar);
    memcpy(buf, sum, n * sizeof(double));
    free(sum);
    return 0;
}

static int fake_allgather(void *ctx, float *buf, int row_floats, const int32_t *first)
{
    shard_job *j = ctx;
    j->slot[j->comm.rank] = buf;
    pthread_barrier_wait(j->bar);
    for (int p = 0; p < RANKS; p++)
        if (p != j->comm.rank)
            memcpy(buf + (size_t)first[p] * row_floats,
                   (const float *)j->slot[p] + (size_t)first[p] * row_floats,
                   (size_t)(first[p + 1] - first[p]) * row_floats * sizeof(float));
    pthread_barrier_wait(j->bar);
    return 0;
}

static void *shard_fit(void *arg)
{
    shard_job *j = arg;
    tl_diag diag;
    tl_fit_hooks hooks = {.comm = &j->comm};
    if (tl_model_new("ials", &j->m) != TL_OK)
        return NULL;
    for (const char *const *kv = j->kv; *kv; kv++)
        tl_model_set(j->m, *kv, &diag);
    if (tl_model_fit(j->m, j->d, &hooks, &diag) != TL_OK) {
        tl_model_free(j->m);
        j->m = NULL;
    }
    return NULL;
}

static void shards_equal_one_process(const char *const *kv)
{
    tl_data d;
    make_random(&d, 300, 120, 14, 23);
    tl_model *one = train(&d, kv);
    pthread_barrier_t bar;
    void *slot[RANKS];
    shard_job job[RANKS];
    pthread_t th[RANKS];
    pthread_barrier_init(&bar, NULL, RANKS);
    for (int r = 0; r < RANKS; r++) {
        job[r] = (shard_job){.bar = &bar, .slot = slot, .d = &d, .kv = kv};
        job[r].comm = (tl_comm){.rank = r,
                                .size = RANKS,
                                .ctx = &job[r],
                                .allreduce_sum_f64 = fake_allreduce,
                                .allgather_rows_f32 = fake_allgather};
        assert_int_equal(pthread_create(&th[r], NULL, shard_fit, &job[r]), 0);
    }
    for (int r = 0; r < RANKS; r++)
        pthread_join(th[r], NULL);
    pthread_barrier_destroy(&bar);
    tl_ials_view a, b;
    assert_int_equal(tl_ials_view_get(one, &a), TL_OK);
    for (int r = 0; r < RANKS; r++) {
        assert_non_null(job[r].m);
        assert_int_equal(tl_ials_view_get(job[r].m, &b), TL_OK);
        assert_memory_equal(a.user_factors, b.user_factors, (size_t)a.n_users * a.ld * 4);
        assert_memory_equal(a.item_factors, b.item_factors, (size_t)a.n_items * a.ld * 4);
        assert_memory_equal(a.yty, b.yty, (size_t)a.factors * a.factors * 4);
        tl_model_free(job[r].m);
    }
    tl_model_free(one);
    tl_data_release(&d);
}

/* Each rank solves its shard of the users and items, the Gram matrices are summed across
 * ranks and the factors gathered: every rank ends with one process's model, bit for bit, with
 * CG (the light rows' groups and, forced, the heavy rows' sweep) and with Cholesky. */
static void test_shards_equal_one_process(void **state)
{
    (void)state;
    const char *cg[] = {"factors=12", "iterations=4", "alpha=3", "threads=1", NULL};
    const char *chol[] = {"factors=12", "iterations=3", "solver=cholesky", "threads=1", NULL};
    shards_equal_one_process(cg);
    shards_equal_one_process(chol);
    tl__ials_force_sweep = 1;
    shards_equal_one_process(cg);
    tl__ials_force_sweep = 0;
}

/* ease has no sharded fit: a communicator of several processes is refused, not ignored. */
static void test_shards_refused_elsewhere(void **state)
{
    (void)state;
    tl_data d;
    make_random(&d, 20, 10, 4, 5);
    tl_model *m;
    tl_diag diag;
    tl_comm comm = {.rank = 0, .size = 2};
    tl_fit_hooks hooks = {.comm = &comm};
    assert_int_equal(tl_model_new("ease", &m), TL_OK);
    assert_int_equal(tl_model_fit(m, &d, &hooks, &diag), TL_EUNSUPPORTED);
    tl_model_free(m);
    tl_data_release(&d);
}

int main(void)
{
    tl__ials_small_work = 0; /* tiny problems too take the parallel paths */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_planted_communities),
        cmocka_unit_test(test_cg_and_cholesky_agree),
        cmocka_unit_test(test_sweep_matches_rows),
        cmocka_unit_test(test_cholesky_solves_normal_equations),
        cmocka_unit_test(test_fold_in_reproduces_users),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_score_block_matches_score),
        cmocka_unit_test(test_explain_is_exact),
        cmocka_unit_test(test_save_load_roundtrip),
        cmocka_unit_test(test_empty_rows),
        cmocka_unit_test(test_bad_params),
        cmocka_unit_test(test_shards_equal_one_process),
        cmocka_unit_test(test_shards_refused_elsewhere),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
