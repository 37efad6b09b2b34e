/* Benchmark: top-100 for every user of the MovieLens-20M-shaped synthetic set with ials
 * (history excluded), through tl_model_recommend_rows, which batches users through the
 * model's score_block (sgemm) and selects per row with tl_topk. Also splits the time into
 * scoring and selection, and tries other user-block sizes.
 *
 *   bench_recommend [--events N] [--iters 2] [--blocks 512] [--tiles 256] [key=value ...]
 *
 * It then measures a proposal for the library (fused_tiles below): each thread scores a small
 * tile of users with a single-threaded sgemm and selects right away, with a threshold-based
 * top-k, so that scores stay in cache; the answers are checked against the library's. */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <cblas.h>
#ifdef __AVX2__
#include <immintrin.h>
#endif

#include "core/linalg.h"
#include "core/models/ials.h"
#include "core/model.h"
#include "core/topk.h"
#include "synth/synth.h"
#include "util/clock.h"

static const char *opt(int argc, char **argv, const char *name, const char *def)
{
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], name) == 0)
            return argv[i + 1];
    return def;
}

static double load_avg(void)
{
    double l = -1;
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fscanf(f, "%lf", &l) != 1)
            l = -1;
        fclose(f);
    }
    return l;
}

static int fast_topk(const float *s, int32_t n, int k, int32_t *idx, float *val);

/* The same work as tl_model_recommend_rows with a chosen block size: score a block of users,
 * then mask each user's history and select the top n on the OpenMP threads. */
static double run_blocks(const tl_model *m, const tl_csr *ui, int32_t block, int n, int fast,
                         int32_t *out_items, double *score_s)
{
    int nt = omp_get_max_threads();
    float *scores = tl_la_alloc((size_t)block * m->n_items);
    float *vals = malloc((size_t)nt * n * sizeof(float));
    int32_t *rows = malloc((size_t)block * sizeof(int32_t));
    if (!scores || !vals || !rows)
        return -1;
    double t0 = tl_now(), ts = 0;
    for (int32_t b0 = 0; b0 < ui->nrows; b0 += block) {
        int32_t nb = ui->nrows - b0 < block ? ui->nrows - b0 : block;
        for (int32_t r = 0; r < nb; r++)
            rows[r] = b0 + r;
        double t1 = tl_now();
        m->ops->score_block(m, ui, 1, rows, nb, scores);
        ts += tl_now() - t1;
#pragma omp parallel for schedule(dynamic, 4)
        for (int32_t r = 0; r < nb; r++) {
            float *s = scores + (size_t)r * m->n_items;
            for (int64_t p = ui->indptr[b0 + r]; p < ui->indptr[b0 + r + 1]; p++)
                s[ui->indices[p]] = -INFINITY;
            int32_t *oi = out_items + (size_t)(b0 + r) * n;
            float *ov = vals + (size_t)omp_get_thread_num() * n;
            int got =
                fast ? fast_topk(s, m->n_items, n, oi, ov) : tl_topk(s, m->n_items, n, oi, ov);
            for (int k = got; k < n; k++)
                out_items[(size_t)(b0 + r) * n + k] = -1;
        }
    }
    double total = tl_now() - t0;
    tl_la_free(scores);
    free(vals);
    free(rows);
    *score_s = ts;
    return total;
}

/* ---- A proposal for the library, measured here: fused tiles + threshold selection ---- */

typedef struct cand {
    float v;
    int32_t i;
} cand;

static inline int better(cand a, cand b)
{
    return a.v > b.v || (a.v == b.v && a.i < b.i);
}

/* c[0..k) = the k best of c[0..n), any order (quickselect; keys are unique by index). */
static void select_best(cand *c, int n, int k)
{
    int lo = 0, hi = n - 1;
    while (lo < hi) {
        cand a = c[lo], b = c[lo + (hi - lo) / 2], d = c[hi], p;
        if (better(a, b))
            p = better(b, d) ? b : better(a, d) ? d : a;
        else
            p = better(a, d) ? a : better(b, d) ? d : b;
        int i = lo, j = hi;
        while (i <= j) {
            while (better(c[i], p))
                i++;
            while (better(p, c[j]))
                j--;
            if (i <= j) {
                cand t = c[i];
                c[i] = c[j];
                c[j] = t;
                i++;
                j--;
            }
        }
        if (k - 1 <= j)
            hi = j;
        else if (k - 1 >= i)
            lo = i;
        else
            return;
    }
}

/* In-place heap sort of c[0..n), best first (inline compares; n is about k). */
static void sort_best(cand *c, int n)
{
    /* min-heap by "better": the root is the worst, moved to the end each round */
    for (int i = n / 2 - 1; i >= 0; i--)
        for (int r = i;;) {
            int l = 2 * r + 1, m = r;
            if (l < n && better(c[m], c[l]))
                m = l;
            if (l + 1 < n && better(c[m], c[l + 1]))
                m = l + 1;
            if (m == r)
                break;
            cand t = c[r];
            c[r] = c[m];
            c[m] = t;
            r = m;
        }
    for (int end = n - 1; end > 0; end--) {
        cand t = c[0];
        c[0] = c[end];
        c[end] = t;
        for (int r = 0;;) {
            int l = 2 * r + 1, m = r;
            if (l < end && better(c[m], c[l]))
                m = l;
            if (l + 1 < end && better(c[m], c[l + 1]))
                m = l + 1;
            if (m == r)
                break;
            cand u = c[r];
            c[r] = c[m];
            c[m] = u;
            r = m;
        }
    }
}

/* The k-th largest of v[0..n) (no NaN), by quickselect; v is reordered. */
static float kth_largest(float *v, int n, int k)
{
    int lo = 0, hi = n - 1;
    while (lo < hi) {
        float p = v[lo + (hi - lo) / 2];
        int i = lo, j = hi;
        while (i <= j) {
            while (v[i] > p)
                i++;
            while (v[j] < p)
                j--;
            if (i <= j) {
                float t = v[i];
                v[i] = v[j];
                v[j] = t;
                i++;
                j--;
            }
        }
        if (k - 1 <= j)
            hi = j;
        else if (k - 1 >= i)
            lo = i;
        else
            break;
    }
    return v[k - 1];
}

#define FAST_CAP 4096

/* tl_topk's contract (k best, best first, ties to the lower index, -INFINITY/NaN skipped).
 * The k-th largest of 2k block maxima is a score at least k entries reach, so only entries at
 * or above it can be in the top k: one vectorized pass for the maxima, one for the
 * candidates, then quickselect on a few hundred candidates instead of ~k ln(n/k) heap sifts. */
static int fast_topk(const float *s, int32_t n, int k, int32_t *idx, float *val)
{
    if (k <= 0)
        return 0;
    int nb = 2 * k;
    if (k > 256 || n < 16 * k)
        return tl_topk(s, n, k, idx, val);
    float mx[512];
    int32_t bs = (n + nb - 1) / nb;
    bs = (bs + 7) / 8 * 8;
    nb = (n + bs - 1) / bs;
    if (nb < k)
        return tl_topk(s, n, k, idx, val);
    for (int b = 0; b < nb; b++) {
        int32_t i0 = b * bs, i1 = i0 + bs < n ? i0 + bs : n, i = i0;
        float m = -INFINITY;
#ifdef __AVX2__
        __m256 mv = _mm256_set1_ps(-INFINITY);
        for (; i + 8 <= i1; i += 8) /* max_ps returns its second operand for a NaN */
            mv = _mm256_max_ps(_mm256_loadu_ps(s + i), mv);
        float t8[8];
        _mm256_storeu_ps(t8, mv);
        for (int q = 0; q < 8; q++)
            m = t8[q] > m ? t8[q] : m;
#endif
        for (; i < i1; i++)
            m = s[i] > m ? s[i] : m;
        mx[b] = m;
    }
    float t = kth_largest(mx, nb, k);
    if (!(t > -INFINITY))
        return tl_topk(s, n, k, idx, val);
    cand buf[FAST_CAP];
    int m = 0;
    int32_t i = 0;
#ifdef __AVX2__
    __m256 tv = _mm256_set1_ps(t);
    for (; i + 8 <= n; i += 8) {
        int bits = _mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(s + i), tv, _CMP_GE_OQ));
        while (bits) {
            int q = __builtin_ctz((unsigned)bits);
            bits &= bits - 1;
            if (m == FAST_CAP)
                return tl_topk(s, n, k, idx, val); /* pathological ties */
            buf[m].v = s[i + q];
            buf[m].i = i + q;
            m++;
        }
    }
#endif
    for (; i < n; i++) {
        if (s[i] >= t) {
            if (m == FAST_CAP)
                return tl_topk(s, n, k, idx, val);
            buf[m].v = s[i];
            buf[m].i = i;
            m++;
        }
    }
    if (m > k)
        select_best(buf, m, k);
    m = m < k ? m : k;
    sort_best(buf, m);
    for (int j = 0; j < m; j++) {
        idx[j] = buf[j].i;
        val[j] = buf[j].v;
    }
    return m;
}

/* Each thread scores a tile of users with a single-threaded sgemm into its own buffer (in
 * cache), masks the histories and selects at once: scores never go to DRAM. */
static double run_fused(const tl_model *m, const tl_csr *ui, int32_t tile, int n, int fast,
                        int32_t *out_items)
{
    tl_ials_view v;
    if (tl_ials_view_get(m, &v) != TL_OK)
        return -1;
    int nt = omp_get_max_threads();
    float *buf = tl_la_alloc((size_t)nt * tile * v.n_items);
    float *vals = malloc((size_t)nt * n * sizeof(float));
    if (!buf || !vals)
        return -1;
    double t0 = tl_now();
    int saved = tl_la_blas_single_begin();
#pragma omp parallel for schedule(dynamic, 1)
    for (int32_t u0 = 0; u0 < v.n_users; u0 += tile) {
        int th = omp_get_thread_num();
        int32_t nu = v.n_users - u0 < tile ? v.n_users - u0 : tile;
        float *sc = buf + (size_t)th * tile * v.n_items;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nu, v.n_items, v.factors, 1.0f,
                    v.user_factors + (size_t)u0 * v.ld, v.ld, v.item_factors, v.ld, 0.0f, sc,
                    v.n_items);
        for (int32_t r = 0; r < nu; r++) {
            float *srow = sc + (size_t)r * v.n_items;
            for (int64_t p = ui->indptr[u0 + r]; p < ui->indptr[u0 + r + 1]; p++)
                srow[ui->indices[p]] = -INFINITY;
            int32_t *oi = out_items + (size_t)(u0 + r) * n;
            float *ov = vals + (size_t)th * n;
            int got =
                fast ? fast_topk(srow, v.n_items, n, oi, ov) : tl_topk(srow, v.n_items, n, oi, ov);
            for (int q = got; q < n; q++)
                oi[q] = -1;
        }
    }
    tl_la_blas_single_end(saved);
    double t = tl_now() - t0;
    tl_la_free(buf);
    free(vals);
    return t;
}

int main(int argc, char **argv)
{
    tl_synth_opts o;
    tl_synth_opts_ml20m(&o);
    int64_t events = atoll(opt(argc, argv, "--events", "20000000"));
    if (events != o.events) {
        o.users = (int32_t)((double)o.users * (double)events / (double)o.events);
        o.events = events;
    }
    int iters = atoi(opt(argc, argv, "--iters", "2"));
    const char *blocks = opt(argc, argv, "--blocks", "512");
    const int n = 100;
    tl_data d;
    tl_data_init(&d);
    tl_model *m = NULL;
    tl_diag diag;
    tl_diag_clear(&diag);
    int32_t *rows = NULL, *out = NULL, *out2 = NULL;
    int ret = 1;
    char kv[64];
    if (tl_synth_powerlaw(&o, &d) != TL_OK || tl_model_new("ials", &m) != TL_OK)
        goto out;
    snprintf(kv, sizeof(kv), "iterations=%d", iters);
    if (tl_model_set(m, kv, &diag) != TL_OK)
        goto out;
    for (int i = 1; i < argc; i++)
        if (strchr(argv[i], '=') && tl_model_set(m, argv[i], &diag) != TL_OK) {
            fprintf(stderr, "bench_recommend: %s: %s\n", argv[i], diag.msg);
            goto out;
        }
    if (tl_model_fit(m, &d, &diag) != TL_OK)
        goto out;
    printf("data: %d users x %d items, %lld events; ials factors=%g, fit %.1f s (%d epochs)\n",
           d.ui.nrows, d.ui.ncols, (long long)d.ui.nnz, tl_params_num(&m->params, "factors"),
           m->fit_seconds, iters);
    int32_t nu = d.ui.nrows;
    rows = malloc((size_t)nu * sizeof(*rows));
    out = malloc((size_t)nu * n * sizeof(*out));
    out2 = malloc((size_t)nu * n * sizeof(*out2));
    if (!rows || !out || !out2)
        goto out;
    for (int32_t u = 0; u < nu; u++)
        rows[u] = u;
    double la = load_avg(), t0 = tl_now();
    if (tl_model_recommend_rows(m, &d.ui, 1, rows, nu, NULL, n, out, NULL) != TL_OK)
        goto out;
    double t = tl_now() - t0;
    printf("all-users top-%d via tl_model_recommend_rows: %.2f s (%.1f us/user; load before "
           "%.2f)\n",
           n, t, t / nu * 1e6, la);
    /* Other block sizes, same work; checks they agree with the library's answer. */
    for (const char *p = blocks; *p;) {
        int32_t b = (int32_t)strtol(p, (char **)&p, 10);
        if (*p == ',')
            p++;
        if (b <= 0)
            break;
        for (int fast = 0; fast < 2; fast++) {
            double ts, tb = run_blocks(m, &d.ui, b, n, fast, out2, &ts);
            if (tb < 0)
                goto out;
            int64_t diff = 0;
            for (size_t q = 0; q < (size_t)nu * n; q++)
                diff += out[q] != out2[q];
            printf("block %5d users, %s: %.2f s total, %.2f s in score_block (sgemm), %.2f s "
                   "masking + top-k; %lld entries differ\n",
                   b, fast ? "threshold top-k" : "tl_topk", tb, ts, tb - ts, (long long)diff);
        }
    }
    /* The proposal: fused per-thread tiles, with tl_topk and with the threshold selection. */
    const char *tiles = opt(argc, argv, "--tiles", "256");
    for (const char *p = tiles; *p;) {
        int32_t tile = (int32_t)strtol(p, (char **)&p, 10);
        if (*p == ',')
            p++;
        if (tile <= 0)
            break;
        for (int fast = 0; fast < 2; fast++) {
            double tf = run_fused(m, &d.ui, tile, n, fast, out2);
            if (tf < 0)
                goto out;
            int64_t diff = 0;
            for (size_t q = 0; q < (size_t)nu * n; q++)
                diff += out[q] != out2[q];
            printf("fused tiles of %d users, %s: %.2f s; %lld entries differ\n", tile,
                   fast ? "threshold top-k" : "tl_topk", tf, (long long)diff);
        }
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("peak RSS: %.2f GB\n", (double)ru.ru_maxrss / (1024.0 * 1024.0));
    ret = 0;
out:
    if (ret)
        fprintf(stderr, "bench_recommend: failed: %s\n", diag.msg);
    free(rows);
    free(out);
    free(out2);
    tl_model_free(m);
    tl_data_release(&d);
    return ret;
}
