/* Dense kernels for the factor models: hand-written AVX2/FMA loops for the per-row work that
 * runs inside OpenMP regions (where OpenBLAS must not be entered), BLAS for the Gram matrix.
 * Each kernel has a plain C version for builds without AVX2 (TL_NATIVE=OFF); both sum in a
 * fixed order, so results never depend on the thread that runs them. */
#include "core/linalg.h"

#include <cblas.h>
#include <lapacke.h>
#include <limits.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define TL_LA_AVX2 1
#else
#define TL_LA_AVX2 0
#endif

/* Buffers from this size up are 2 MiB-aligned and asked to live on transparent huge pages:
 * the factor tables are read by random row gathers, and with 4 KiB pages nearly every gather
 * from a table larger than the TLB's reach (a few MiB) would also miss the TLB. */
#define HUGE_BYTES (4u << 20)
#define HUGE_ALIGN (2u << 20)

float *tl_la_alloc_raw(size_t n)
{
    if (n > (SIZE_MAX - HUGE_ALIGN) / sizeof(float))
        return NULL;
    size_t bytes = (n * sizeof(float) + TL_LA_ALIGN - 1) / TL_LA_ALIGN * TL_LA_ALIGN;
    size_t align = TL_LA_ALIGN;
    if (bytes >= HUGE_BYTES) {
        align = HUGE_ALIGN;
        bytes = (bytes + HUGE_ALIGN - 1) / HUGE_ALIGN * HUGE_ALIGN;
    }
    float *p = aligned_alloc(align, bytes ? bytes : TL_LA_ALIGN);
#ifdef MADV_HUGEPAGE
    if (p && align == HUGE_ALIGN)
        (void)madvise(p, bytes, MADV_HUGEPAGE); /* advice only: failure changes nothing */
#endif
    return p;
}

float *tl_la_alloc(size_t n)
{
    float *p = tl_la_alloc_raw(n);
    if (p) /* the whole rounded block, as before the raw variant existed */
        memset(p, 0, (n * sizeof(float) + TL_LA_ALIGN - 1) / TL_LA_ALIGN * TL_LA_ALIGN);
    return p;
}

void tl_la_free(float *p)
{
    free(p);
}

void tl_la_blas_threads_set(int n)
{
#ifdef OPENBLAS_VERSION
    if (n >= 1 && openblas_get_num_threads() != n)
        openblas_set_num_threads(n);
#else
    (void)n;
#endif
}

int tl_la_blas_threads(void)
{
#ifdef OPENBLAS_VERSION
    return openblas_get_num_threads();
#else
    return 1;
#endif
}

/* Slices of the Gram matrix: enough to feed a few threads, fixed so sums never depend on the
 * thread count; slices under GRAM_MIN_ROWS rows are not worth a BLAS call of their own. */
#define GRAM_SLICES 8
#define GRAM_MIN_ROWS 2048

int tl_la_gram(const float *x, int64_t n, int k, int ldx, float *out, int ldo, int threads)
{
    int64_t ns = n / GRAM_MIN_ROWS < GRAM_SLICES ? n / GRAM_MIN_ROWS : GRAM_SLICES;
    if (ns < 1)
        ns = 1;
    size_t kk = (size_t)k * k;
    float *part = ns > 1 ? tl_la_alloc((size_t)(ns - 1) * kk) : NULL;
    if (ns > 1 && !part)
        return -1;
    if (threads <= 0)
        threads = omp_get_max_threads();
    if (ns == 1 || tl_la_blas_threads() != 1)
        threads = 1; /* a threaded BLAS takes the slices one at a time, each on its threads */
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
    for (int64_t s = 0; s < ns; s++) {
        /* slice 0 goes straight to out (stride ldo), the others to part (stride k) */
        float *dst = s ? part + (size_t)(s - 1) * kk : out;
        int ld = s ? k : ldo;
        int64_t r0 = n * s / ns, r1 = n * (s + 1) / ns;
        for (int a = 0; a < k; a++)
            memset(dst + (size_t)a * ld, 0, (size_t)k * sizeof(float));
        /* BLAS takes int sizes: sub-slices of at most INT_MAX rows. */
        for (int64_t q = r0; q < r1; q += INT_MAX) {
            int nr = (int)(r1 - q < INT_MAX ? r1 - q : INT_MAX);
            cblas_ssyrk(CblasRowMajor, CblasUpper, CblasTrans, k, nr, 1.0f, x + (size_t)q * ldx,
                        ldx, 1.0f, dst, ld);
        }
    }
#pragma omp parallel for schedule(static) num_threads(threads)
    for (int a = 0; a < k; a++) {
        float *o = out + (size_t)a * ldo;
        for (int64_t s = 1; s < ns; s++) {
            const float *p = part + (size_t)(s - 1) * kk + (size_t)a * k;
            for (int b = a; b < k; b++)
                o[b] += p[b];
        }
    }
    for (int a = 0; a < k; a++)
        for (int b = 0; b < a; b++)
            out[(size_t)a * ldo + b] = out[(size_t)b * ldo + a];
    tl_la_free(part);
    return 0;
}

/* Rows of A per sgemm call when splitting by rows: a few hundred keep BLAS efficient. */
#define GEMM_ROWS 128
/* Columns per call when splitting by columns (a multiple of the kernels' 16-wide panels). */
#define GEMM_COLS_MIN 1024

int tl_la_gram_blocks(const float *x, int64_t r0, int64_t r1, int64_t block, int k, int ldx,
                      double *out, int threads)
{
    int64_t b0 = r0 / block, b1 = (r1 + block - 1) / block;
    size_t kk = (size_t)k * k;
    if (threads <= 0)
        threads = omp_get_max_threads();
    if (b1 - b0 < 2 || tl_la_blas_threads() != 1)
        threads = 1;
    int failed = 0;
#pragma omp parallel num_threads(threads)
    {
        float *g = tl_la_alloc(kk);
        double *acc = calloc(kk, sizeof(double));
        if (!g || !acc) {
#pragma omp atomic write
            failed = 1;
        }
#pragma omp for schedule(dynamic, 1)
        for (int64_t b = b0; b < b1; b++) {
            if (!g || !acc)
                continue;
            int64_t lo = b * block > r0 ? b * block : r0;
            int64_t hi = (b + 1) * block < r1 ? (b + 1) * block : r1;
            memset(g, 0, kk * sizeof(float));
            cblas_ssyrk(CblasRowMajor, CblasUpper, CblasTrans, k, (int)(hi - lo), 1.0f,
                        x + (size_t)lo * ldx, ldx, 0.0f, g, k);
            for (int a = 0; a < k; a++)
                for (int c = a; c < k; c++)
                    acc[(size_t)a * k + c] += g[(size_t)a * k + c];
        }
#pragma omp critical
        if (acc)
            for (int a = 0; a < k; a++)
                for (int c = a; c < k; c++)
                    out[(size_t)a * k + c] += acc[(size_t)a * k + c];
        tl_la_free(g);
        free(acc);
    }
    for (int a = 0; a < k; a++)
        for (int c = 0; c < a; c++)
            out[(size_t)a * k + c] = out[(size_t)c * k + a];
    return failed ? -1 : 0;
}

void tl_la_gemm_nt(int m, int n, int k, const float *a, int lda, const float *b, int ldb, float *c,
                   int ldc, int threads)
{
    if (threads <= 0)
        threads = omp_get_max_threads();
    if ((double)m * n * k < 1e6) /* under a millisecond: not worth waking a team */
        threads = 1;
    if (tl_la_blas_threads() != 1) { /* BLAS splits the work on its own threads */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, 1.0f, a, lda, b, ldb, 0.0f, c,
                    ldc);
        return;
    }
    if (n >= 4 * m) {
        /* Wide (a block of users x every item): split the columns, so that each thread packs
         * only its share of B, once, instead of all of B once per row slice. */
        int parts = 2 * threads, cols = (n + parts - 1) / parts;
        cols = cols < GEMM_COLS_MIN ? GEMM_COLS_MIN : (cols + 15) / 16 * 16;
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
        for (int c0 = 0; c0 < n; c0 += cols) {
            int nc = n - c0 < cols ? n - c0 : cols;
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, nc, k, 1.0f, a, lda,
                        b + (size_t)c0 * ldb, ldb, 0.0f, c + c0, ldc);
        }
    } else {
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
        for (int r0 = 0; r0 < m; r0 += GEMM_ROWS) {
            int nr = m - r0 < GEMM_ROWS ? m - r0 : GEMM_ROWS;
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nr, n, k, 1.0f,
                        a + (size_t)r0 * lda, lda, b, ldb, 0.0f, c + (size_t)r0 * ldc, ldc);
        }
    }
}

#if TL_LA_AVX2
/* [sum(v0), ..., sum(v7)]: eight horizontal sums at once. */
static inline __m256 hsum8(__m256 v0, __m256 v1, __m256 v2, __m256 v3, __m256 v4, __m256 v5,
                           __m256 v6, __m256 v7)
{
    __m256 t0 = _mm256_hadd_ps(_mm256_hadd_ps(v0, v1), _mm256_hadd_ps(v2, v3));
    __m256 t1 = _mm256_hadd_ps(_mm256_hadd_ps(v4, v5), _mm256_hadd_ps(v6, v7));
    return _mm256_add_ps(_mm256_permute2f128_ps(t0, t1, 0x20),
                         _mm256_permute2f128_ps(t0, t1, 0x31));
}

static inline float hsum1(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}
#endif

float tl_la_dotp(const float *a, const float *b, int n)
{
#if TL_LA_AVX2
    __m256 s0 = _mm256_setzero_ps(), s1 = s0;
    int q = 0;
    for (; q + 16 <= n; q += 16) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + q), _mm256_loadu_ps(b + q), s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + q + 8), _mm256_loadu_ps(b + q + 8), s1);
    }
    for (; q + 8 <= n; q += 8)
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + q), _mm256_loadu_ps(b + q), s0);
    float s = hsum1(_mm256_add_ps(s0, s1));
    for (; q < n; q++)
        s += a[q] * b[q];
    return s;
#else
    return tl_la_dot(a, b, n);
#endif
}

void tl_la_symv(const float *a, int n, int lda, const float *x, float *restrict y)
{
#if TL_LA_AVX2
    if (n % TL_LA_VEC == 0) {
        int c0 = 0;
        /* Tiles of 64 output floats held in eight registers; A's row b is its column b. */
        for (; c0 + 64 <= n; c0 += 64) {
            __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0, s4 = s0, s5 = s0, s6 = s0,
                   s7 = s0;
            for (int b = 0; b < n; b++) {
                const float *r = a + (size_t)b * lda + c0;
                __m256 xb = _mm256_broadcast_ss(x + b);
                s0 = _mm256_fmadd_ps(xb, _mm256_loadu_ps(r), s0);
                s1 = _mm256_fmadd_ps(xb, _mm256_loadu_ps(r + 8), s1);
                s2 = _mm256_fmadd_ps(xb, _mm256_loadu_ps(r + 16), s2);
                s3 = _mm256_fmadd_ps(xb, _mm256_loadu_ps(r + 24), s3);
                s4 = _mm256_fmadd_ps(xb, _mm256_loadu_ps(r + 32), s4);
                s5 = _mm256_fmadd_ps(xb, _mm256_loadu_ps(r + 40), s5);
                s6 = _mm256_fmadd_ps(xb, _mm256_loadu_ps(r + 48), s6);
                s7 = _mm256_fmadd_ps(xb, _mm256_loadu_ps(r + 56), s7);
            }
            _mm256_storeu_ps(y + c0, s0);
            _mm256_storeu_ps(y + c0 + 8, s1);
            _mm256_storeu_ps(y + c0 + 16, s2);
            _mm256_storeu_ps(y + c0 + 24, s3);
            _mm256_storeu_ps(y + c0 + 32, s4);
            _mm256_storeu_ps(y + c0 + 40, s5);
            _mm256_storeu_ps(y + c0 + 48, s6);
            _mm256_storeu_ps(y + c0 + 56, s7);
        }
        for (; c0 < n; c0 += 8) {
            /* Two accumulators over alternate b halve the dependency chain. */
            __m256 s0 = _mm256_setzero_ps(), s1 = s0;
            int b = 0;
            for (; b + 1 < n; b += 2) {
                s0 = _mm256_fmadd_ps(_mm256_broadcast_ss(x + b),
                                     _mm256_loadu_ps(a + (size_t)b * lda + c0), s0);
                s1 = _mm256_fmadd_ps(_mm256_broadcast_ss(x + b + 1),
                                     _mm256_loadu_ps(a + (size_t)(b + 1) * lda + c0), s1);
            }
            for (; b < n; b++)
                s0 = _mm256_fmadd_ps(_mm256_broadcast_ss(x + b),
                                     _mm256_loadu_ps(a + (size_t)b * lda + c0), s0);
            _mm256_storeu_ps(y + c0, _mm256_add_ps(s0, s1));
        }
        return;
    }
#endif
    for (int c = 0; c < n; c++)
        y[c] = 0;
    for (int b = 0; b < n; b++)
        tl_la_axpy(x[b], a + (size_t)b * lda, y, n);
}

void tl_la_symv_multi(const float *a, int n, int lda, const float *const *x, int nv,
                      float *const *y)
{
#if TL_LA_AVX2
    if (n % TL_LA_VEC == 0 && nv > 0 && nv <= 4) {
        /* Missing vectors repeat the first; their results go to a scratch row. */
        float junk[16];
        const float *xv[4];
        float *yv[4];
        for (int j = 0; j < 4; j++) {
            xv[j] = x[j < nv ? j : 0];
            yv[j] = j < nv ? y[j] : NULL;
        }
        for (int c0 = 0; c0 < n; c0 += 16) {
            int two = c0 + 16 <= n; /* a final single 8-wide chunk when n % 16 == 8 */
            __m256 s00 = _mm256_setzero_ps(), s01 = s00, s10 = s00, s11 = s00, s20 = s00, s21 = s00,
                   s30 = s00, s31 = s00;
            for (int b = 0; b < n; b++) {
                const float *r = a + (size_t)b * lda + c0;
                __m256 g0 = _mm256_loadu_ps(r), g1 = two ? _mm256_loadu_ps(r + 8) : g0;
                __m256 x0 = _mm256_broadcast_ss(xv[0] + b), x1 = _mm256_broadcast_ss(xv[1] + b);
                __m256 x2 = _mm256_broadcast_ss(xv[2] + b), x3 = _mm256_broadcast_ss(xv[3] + b);
                s00 = _mm256_fmadd_ps(x0, g0, s00);
                s01 = _mm256_fmadd_ps(x0, g1, s01);
                s10 = _mm256_fmadd_ps(x1, g0, s10);
                s11 = _mm256_fmadd_ps(x1, g1, s11);
                s20 = _mm256_fmadd_ps(x2, g0, s20);
                s21 = _mm256_fmadd_ps(x2, g1, s21);
                s30 = _mm256_fmadd_ps(x3, g0, s30);
                s31 = _mm256_fmadd_ps(x3, g1, s31);
            }
            __m256 res[4][2] = {{s00, s01}, {s10, s11}, {s20, s21}, {s30, s31}};
            for (int j = 0; j < 4; j++) {
                float *o = yv[j] ? yv[j] + c0 : junk;
                _mm256_storeu_ps(o, res[j][0]);
                if (two)
                    _mm256_storeu_ps(o + 8, res[j][1]);
            }
        }
        return;
    }
#endif
    for (int j = 0; j < nv; j++) {
        for (int c = 0; c < n; c++)
            y[j][c] = 0;
        for (int b = 0; b < n; b++)
            tl_la_axpy(x[j][b], a + (size_t)b * lda, y[j], n);
    }
}

void tl_la_gemv_rows(const float *a, int64_t n, int k, int lda, const float *x, float *restrict y)
{
    int64_t i = 0;
#if TL_LA_AVX2
    if (lda % TL_LA_VEC == 0) {
        int kp = tl_la_pad(k); /* padding columns are zero in a and x */
        for (; i + 8 <= n; i += 8) {
            const float *r = a + (size_t)i * lda;
            __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0, s4 = s0, s5 = s0, s6 = s0,
                   s7 = s0;
            for (int q = 0; q < kp; q += 8) {
                __m256 xq = _mm256_loadu_ps(x + q);
                s0 = _mm256_fmadd_ps(_mm256_loadu_ps(r + q), xq, s0);
                s1 = _mm256_fmadd_ps(_mm256_loadu_ps(r + lda + q), xq, s1);
                s2 = _mm256_fmadd_ps(_mm256_loadu_ps(r + 2 * (size_t)lda + q), xq, s2);
                s3 = _mm256_fmadd_ps(_mm256_loadu_ps(r + 3 * (size_t)lda + q), xq, s3);
                s4 = _mm256_fmadd_ps(_mm256_loadu_ps(r + 4 * (size_t)lda + q), xq, s4);
                s5 = _mm256_fmadd_ps(_mm256_loadu_ps(r + 5 * (size_t)lda + q), xq, s5);
                s6 = _mm256_fmadd_ps(_mm256_loadu_ps(r + 6 * (size_t)lda + q), xq, s6);
                s7 = _mm256_fmadd_ps(_mm256_loadu_ps(r + 7 * (size_t)lda + q), xq, s7);
            }
            _mm256_storeu_ps(y + i, hsum8(s0, s1, s2, s3, s4, s5, s6, s7));
        }
        for (; i < n; i++) {
            const float *r = a + (size_t)i * lda;
            __m256 s = _mm256_setzero_ps();
            for (int q = 0; q < kp; q += 8)
                s = _mm256_fmadd_ps(_mm256_loadu_ps(r + q), _mm256_loadu_ps(x + q), s);
            y[i] = hsum1(s);
        }
        return;
    }
#endif
    for (; i < n; i++)
        y[i] = tl_la_dot(a + (size_t)i * lda, x, k);
}

#ifndef PREFETCH_BLOCKS
#define PREFETCH_BLOCKS 2
#endif

#if TL_LA_AVX2
/* Rows of one block of up to eight nonzeros; a short block repeats its first row with zero
 * coefficients, so the kernels below always work on eight (0 * finite = 0 exactly). */
static inline int load_block(const float *y, int ldy, const int32_t *idx, int64_t j0, int64_t n,
                             const float **yp)
{
    int nb = n - j0 < 8 ? (int)(n - j0) : 8;
    for (int t = 0; t < 8; t++)
        yp[t] = y + (size_t)idx[j0 + (t < nb ? t : 0)] * ldy;
    /* The rows are scattered (one per nonzero), so the hardware prefetcher cannot guess them:
     * ask for the rows PREFETCH_BLOCKS blocks ahead while this block is computed (one block's
     * work is shorter than a trip to DRAM). */
    int64_t ahead = j0 + 8 * PREFETCH_BLOCKS;
    int64_t nn = n - ahead < 8 ? n - ahead : 8;
    for (int64_t t = 0; t < nn; t++) {
        const char *r = (const char *)(y + (size_t)idx[ahead + t] * ldy);
        for (int b = 0; b < ldy * (int)sizeof(float); b += 64)
            _mm_prefetch(r + b, _MM_HINT_T0);
    }
    return nb;
}
#endif

void tl_la_gather_axpy(const float *y, int ldy, const int32_t *idx, const float *w, int64_t n,
                       float a0, float a1, float b1, const float *v, float *restrict out)
{
#if TL_LA_AVX2
    const float *yp[8];
    float wb[8];
    for (int64_t j0 = 0; j0 < n; j0 += 8) {
        int nb = load_block(y, ldy, idx, j0, n, yp);
        for (int t = 0; t < 8; t++)
            wb[t] = t < nb ? w[j0 + t] : 0;
        __m256 wv = _mm256_loadu_ps(wb);
        __m256 coef;
        if (b1 != 0) {
            /* Eight dot products with v, reduced together. */
            __m256 d0 = _mm256_setzero_ps(), d1 = d0, d2 = d0, d3 = d0, d4 = d0, d5 = d0, d6 = d0,
                   d7 = d0;
            for (int q = 0; q < ldy; q += 8) {
                __m256 vq = _mm256_loadu_ps(v + q);
                d0 = _mm256_fmadd_ps(_mm256_loadu_ps(yp[0] + q), vq, d0);
                d1 = _mm256_fmadd_ps(_mm256_loadu_ps(yp[1] + q), vq, d1);
                d2 = _mm256_fmadd_ps(_mm256_loadu_ps(yp[2] + q), vq, d2);
                d3 = _mm256_fmadd_ps(_mm256_loadu_ps(yp[3] + q), vq, d3);
                d4 = _mm256_fmadd_ps(_mm256_loadu_ps(yp[4] + q), vq, d4);
                d5 = _mm256_fmadd_ps(_mm256_loadu_ps(yp[5] + q), vq, d5);
                d6 = _mm256_fmadd_ps(_mm256_loadu_ps(yp[6] + q), vq, d6);
                d7 = _mm256_fmadd_ps(_mm256_loadu_ps(yp[7] + q), vq, d7);
            }
            __m256 d = hsum8(d0, d1, d2, d3, d4, d5, d6, d7);
            coef = _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(b1), wv), d);
        } else {
            coef = _mm256_setzero_ps();
        }
        /* a0 applies to real nonzeros only: padded lanes have w = 0 but must add nothing. */
        __m256 live = _mm256_castsi256_ps(
            _mm256_cmpgt_epi32(_mm256_set1_epi32(nb), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)));
        coef = _mm256_add_ps(
            coef, _mm256_and_ps(live, _mm256_fmadd_ps(_mm256_set1_ps(a1), wv, _mm256_set1_ps(a0))));
        float cf[8];
        _mm256_storeu_ps(cf, coef);
        __m256 c0 = _mm256_set1_ps(cf[0]), c1 = _mm256_set1_ps(cf[1]), c2 = _mm256_set1_ps(cf[2]),
               c3 = _mm256_set1_ps(cf[3]), c4 = _mm256_set1_ps(cf[4]), c5 = _mm256_set1_ps(cf[5]),
               c6 = _mm256_set1_ps(cf[6]), c7 = _mm256_set1_ps(cf[7]);
        for (int q = 0; q < ldy; q += 8) {
            /* Two partial sums shorten the chain of dependent FMAs per output vector. */
            __m256 o0 = _mm256_loadu_ps(out + q);
            __m256 o1 = _mm256_mul_ps(c1, _mm256_loadu_ps(yp[1] + q));
            o0 = _mm256_fmadd_ps(c0, _mm256_loadu_ps(yp[0] + q), o0);
            o1 = _mm256_fmadd_ps(c3, _mm256_loadu_ps(yp[3] + q), o1);
            o0 = _mm256_fmadd_ps(c2, _mm256_loadu_ps(yp[2] + q), o0);
            o1 = _mm256_fmadd_ps(c5, _mm256_loadu_ps(yp[5] + q), o1);
            o0 = _mm256_fmadd_ps(c4, _mm256_loadu_ps(yp[4] + q), o0);
            o1 = _mm256_fmadd_ps(c7, _mm256_loadu_ps(yp[7] + q), o1);
            o0 = _mm256_fmadd_ps(c6, _mm256_loadu_ps(yp[6] + q), o0);
            _mm256_storeu_ps(out + q, _mm256_add_ps(o0, o1));
        }
    }
#else
    for (int64_t j = 0; j < n; j++) {
        const float *yj = y + (size_t)idx[j] * ldy;
        float c = a0 + a1 * w[j];
        if (b1 != 0)
            c += b1 * w[j] * tl_la_dot(yj, v, ldy);
        tl_la_axpy(c, yj, out, ldy);
    }
#endif
}

void tl_la_scatter_axpy(const float *y, int ld, const int32_t *hidx, const float *w, int64_t n,
                        const uint8_t *active, float a0, float a1, float b1, const float *v,
                        float *out)
{
#if TL_LA_AVX2
    const float *vp[8];
    float cf[8];
    for (int64_t j0 = 0; j0 < n; j0 += 8) {
        int nb = n - j0 < 8 ? (int)(n - j0) : 8;
        for (int t = 0; t < 8; t++)
            vp[t] = v + (size_t)hidx[j0 + (t < nb ? t : 0)] * ld;
        /* The next block's rows of v and out are scattered: fetch them now. */
        int64_t nn = n - j0 - 8 < 8 ? n - j0 - 8 : 8;
        for (int64_t t = 0; t < nn; t++) {
            size_t off = (size_t)hidx[j0 + 8 + t] * ld;
            for (int b = 0; b < ld; b += 16) {
                _mm_prefetch((const char *)(v + off + b), _MM_HINT_T0);
                _mm_prefetch((const char *)(out + off + b), _MM_HINT_T0);
            }
        }
        __m256 d = _mm256_setzero_ps();
        if (b1 != 0) {
            /* Eight dot products with the shared row y, reduced together. */
            __m256 d0 = _mm256_setzero_ps(), d1 = d0, d2 = d0, d3 = d0, d4 = d0, d5 = d0, d6 = d0,
                   d7 = d0;
            for (int q = 0; q < ld; q += 8) {
                __m256 yq = _mm256_loadu_ps(y + q);
                d0 = _mm256_fmadd_ps(_mm256_loadu_ps(vp[0] + q), yq, d0);
                d1 = _mm256_fmadd_ps(_mm256_loadu_ps(vp[1] + q), yq, d1);
                d2 = _mm256_fmadd_ps(_mm256_loadu_ps(vp[2] + q), yq, d2);
                d3 = _mm256_fmadd_ps(_mm256_loadu_ps(vp[3] + q), yq, d3);
                d4 = _mm256_fmadd_ps(_mm256_loadu_ps(vp[4] + q), yq, d4);
                d5 = _mm256_fmadd_ps(_mm256_loadu_ps(vp[5] + q), yq, d5);
                d6 = _mm256_fmadd_ps(_mm256_loadu_ps(vp[6] + q), yq, d6);
                d7 = _mm256_fmadd_ps(_mm256_loadu_ps(vp[7] + q), yq, d7);
            }
            d = hsum8(d0, d1, d2, d3, d4, d5, d6, d7);
        }
        float wb[8];
        for (int t = 0; t < 8; t++)
            wb[t] = t < nb ? w[j0 + t] : 0;
        __m256 wv = _mm256_loadu_ps(wb);
        __m256 coef = _mm256_fmadd_ps(_mm256_mul_ps(_mm256_set1_ps(b1), wv), d,
                                      _mm256_fmadd_ps(_mm256_set1_ps(a1), wv, _mm256_set1_ps(a0)));
        _mm256_storeu_ps(cf, coef);
        /* One row of out per entry; rows are distinct within a block (one entry per row of
         * the CSR), and updates go one after the other. */
        for (int t = 0; t < nb; t++) {
            if (active && !active[hidx[j0 + t]])
                continue;
            float *o = out + (size_t)hidx[j0 + t] * ld;
            __m256 c = _mm256_set1_ps(cf[t]);
            for (int q = 0; q < ld; q += 8)
                _mm256_storeu_ps(
                    o + q, _mm256_fmadd_ps(c, _mm256_loadu_ps(y + q), _mm256_loadu_ps(o + q)));
        }
    }
#else
    for (int64_t j = 0; j < n; j++) {
        int32_t h = hidx[j];
        if (active && !active[h])
            continue;
        float c = a0 + a1 * w[j];
        if (b1 != 0)
            c += b1 * w[j] * tl_la_dot(y, v + (size_t)h * ld, ld);
        tl_la_axpy(c, y, out + (size_t)h * ld, ld);
    }
#endif
}

void tl_la_syrk_rows(const float *y, int ldy, const int32_t *idx, const float *s, const float *t,
                     int64_t n, int k, float *a, int lda, float *b)
{
    int kp = tl_la_pad(k);
#if TL_LA_AVX2
    const float *yp[8];
    float sb[8], tb[8];
    for (int64_t j0 = 0; j0 < n; j0 += 8) {
        int nb = load_block(y, ldy, idx, j0, n, yp);
        for (int u = 0; u < 8; u++) {
            sb[u] = u < nb ? s[j0 + u] : 0;
            tb[u] = u < nb && t ? t[j0 + u] : 0;
        }
        for (int r = 0; r < k; r++) {
            /* Row r of the update: sum_u (s_u y_u[r]) y_u, from the diagonal block on. */
            __m256 c0 = _mm256_set1_ps(sb[0] * yp[0][r]), c1 = _mm256_set1_ps(sb[1] * yp[1][r]),
                   c2 = _mm256_set1_ps(sb[2] * yp[2][r]), c3 = _mm256_set1_ps(sb[3] * yp[3][r]),
                   c4 = _mm256_set1_ps(sb[4] * yp[4][r]), c5 = _mm256_set1_ps(sb[5] * yp[5][r]),
                   c6 = _mm256_set1_ps(sb[6] * yp[6][r]), c7 = _mm256_set1_ps(sb[7] * yp[7][r]);
            float *ar = a + (size_t)r * lda;
            for (int q = r / 8 * 8; q < kp; q += 8) {
                __m256 o0 = _mm256_loadu_ps(ar + q);
                __m256 o1 = _mm256_mul_ps(c1, _mm256_loadu_ps(yp[1] + q));
                o0 = _mm256_fmadd_ps(c0, _mm256_loadu_ps(yp[0] + q), o0);
                o1 = _mm256_fmadd_ps(c3, _mm256_loadu_ps(yp[3] + q), o1);
                o0 = _mm256_fmadd_ps(c2, _mm256_loadu_ps(yp[2] + q), o0);
                o1 = _mm256_fmadd_ps(c5, _mm256_loadu_ps(yp[5] + q), o1);
                o0 = _mm256_fmadd_ps(c4, _mm256_loadu_ps(yp[4] + q), o0);
                o1 = _mm256_fmadd_ps(c7, _mm256_loadu_ps(yp[7] + q), o1);
                o0 = _mm256_fmadd_ps(c6, _mm256_loadu_ps(yp[6] + q), o0);
                _mm256_storeu_ps(ar + q, _mm256_add_ps(o0, o1));
            }
        }
        if (b) {
            __m256 c0 = _mm256_set1_ps(tb[0]), c1 = _mm256_set1_ps(tb[1]),
                   c2 = _mm256_set1_ps(tb[2]), c3 = _mm256_set1_ps(tb[3]),
                   c4 = _mm256_set1_ps(tb[4]), c5 = _mm256_set1_ps(tb[5]),
                   c6 = _mm256_set1_ps(tb[6]), c7 = _mm256_set1_ps(tb[7]);
            for (int q = 0; q < kp; q += 8) {
                __m256 o0 = _mm256_loadu_ps(b + q);
                __m256 o1 = _mm256_mul_ps(c1, _mm256_loadu_ps(yp[1] + q));
                o0 = _mm256_fmadd_ps(c0, _mm256_loadu_ps(yp[0] + q), o0);
                o1 = _mm256_fmadd_ps(c3, _mm256_loadu_ps(yp[3] + q), o1);
                o0 = _mm256_fmadd_ps(c2, _mm256_loadu_ps(yp[2] + q), o0);
                o1 = _mm256_fmadd_ps(c5, _mm256_loadu_ps(yp[5] + q), o1);
                o0 = _mm256_fmadd_ps(c4, _mm256_loadu_ps(yp[4] + q), o0);
                o1 = _mm256_fmadd_ps(c7, _mm256_loadu_ps(yp[7] + q), o1);
                o0 = _mm256_fmadd_ps(c6, _mm256_loadu_ps(yp[6] + q), o0);
                _mm256_storeu_ps(b + q, _mm256_add_ps(o0, o1));
            }
        }
    }
    (void)ldy;
#else
    (void)kp;
    for (int64_t j = 0; j < n; j++) {
        const float *yj = y + (size_t)idx[j] * ldy;
        for (int r = 0; r < k; r++)
            for (int c = r; c < k; c++)
                a[(size_t)r * lda + c] += s[j] * yj[r] * yj[c];
        if (b)
            tl_la_axpy(t[j], yj, b, k);
    }
#endif
}

int tl_la_potrf_upper(float *a, int k, int lda)
{
    /* Right-looking: scale row j by 1/sqrt(pivot), then subtract its outer product from the
     * trailing rows. Rows are contiguous in row-major, so every update is an axpy. */
    int kp = tl_la_pad(k);
    for (int j = 0; j < k; j++) {
        float *uj = a + (size_t)j * lda;
        float d = uj[j];
        if (!(d > 0) || !isfinite(d))
            return -1;
        float ujj = sqrtf(d), inv = 1.0f / ujj;
        for (int c = j + 1; c < kp; c++)
            uj[c] *= inv;
        uj[j] = ujj;
        for (int i = j + 1; i < k; i++) {
            float *ai = a + (size_t)i * lda;
            float f = uj[i];
#if TL_LA_AVX2
            /* From the aligned block start: the extra columns (< i) are lower-triangle scratch,
             * and only ever read into other lower-triangle entries. */
            __m256 fv = _mm256_set1_ps(f);
            for (int c = i / 8 * 8; c < kp; c += 8)
                _mm256_storeu_ps(
                    ai + c, _mm256_fnmadd_ps(fv, _mm256_loadu_ps(uj + c), _mm256_loadu_ps(ai + c)));
#else
            for (int c = i; c < k; c++)
                ai[c] -= f * uj[c];
#endif
        }
    }
    return 0;
}

int tl_la_potri_full(float *a, int k, int lda)
{
    /* U row-major upper is L = U^T column-major lower: LAPACK's 'L' factor of the same A, so
     * spotri works in place with no transposed copy. Its result fills the row-major upper
     * triangle; the lower one is mirrored from it. */
    if (LAPACKE_spotri_work(LAPACK_COL_MAJOR, 'L', k, a, lda) != 0)
        return -1;
    for (int i = 0; i < k; i++) {
        for (int j = 0; j < i; j++)
            a[(size_t)i * lda + j] = a[(size_t)j * lda + i];
        for (int j = k; j < lda; j++)
            a[(size_t)i * lda + j] = 0.0f;
    }
    for (int i = k; i < lda; i++)
        memset(a + (size_t)i * lda, 0, (size_t)lda * sizeof(float));
    return 0;
}

void tl_la_potrs_upper(const float *u, int k, int lda, float *b)
{
    /* U^T z = b row by row: z_i is final once the rows above are subtracted, and subtracting
     * row i is an axpy (no reduction, so it vectorizes). Then U x = z from the bottom: x_i from
     * a dot of row i's tail (tl_la_dotp, vectorized in a fixed order). At a fold-in's sizes a
     * call into BLAS (cblas_strsv) costs more than this work: it was a tenth of a served
     * request. */
    for (int i = 0; i < k; i++) {
        const float *r = u + (size_t)i * lda;
        b[i] /= r[i];
        tl_la_axpy(-b[i], r + i + 1, b + i + 1, k - i - 1);
    }
    for (int i = k - 1; i >= 0; i--) {
        const float *r = u + (size_t)i * lda;
        b[i] = (b[i] - tl_la_dotp(r + i + 1, b + i + 1, k - i - 1)) / r[i];
    }
}
