/* Small dense kernels for the factor models (ials, and any model that solves many small
 * symmetric systems): aligned buffers, dot/axpy, Gram matrices through BLAS, row-blocked
 * matrix-vector products, a weighted Gram of gathered rows and an in-place Cholesky.
 *
 * Everything is row-major float32; ld/lda count floats. The per-row kernels are meant to run
 * inside OpenMP loops: they never allocate and never call BLAS (OpenBLAS here is the pthread
 * build, whose own thread pool must not be entered from parallel regions). tl_la_gram and
 * tl_la_gemm_nt call BLAS from their own OpenMP regions and must be called outside one. */
#ifndef TL_CORE_LINALG_H
#define TL_CORE_LINALG_H

#include <stddef.h>
#include <stdint.h>

/* Alignment of tl_la_alloc buffers (a cache line), and the float granularity of padded rows:
 * a factor row of k floats is stored in tl_la_pad(k) floats so that the AVX2 kernels work on
 * whole 8-float vectors; the padding columns are zero and stay zero. */
#define TL_LA_ALIGN 64
#define TL_LA_VEC 8

static inline int32_t tl_la_pad(int32_t k)
{
    return (k + TL_LA_VEC - 1) / TL_LA_VEC * TL_LA_VEC;
}

/* Zeroed, TL_LA_ALIGN-aligned buffer of n floats (n may be 0), or NULL. Free with tl_la_free.
 * Buffers of 4 MiB and more are 2 MiB-aligned and advised onto transparent huge pages (factor
 * tables read by random row gathers would otherwise miss the TLB on most rows). */
float *tl_la_alloc(size_t n);
/* The same, not zeroed: for buffers the caller overwrites whole (per-request scratch). */
float *tl_la_alloc_raw(size_t n);
void tl_la_free(float *p);

static inline float tl_la_dot(const float *a, const float *b, int n)
{
    float s = 0;
    for (int i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}

static inline void tl_la_axpy(float alpha, const float *x, float *restrict y, int n)
{
    for (int i = 0; i < n; i++)
        y[i] += alpha * x[i];
}

/* dot(a, b) over n floats, n a multiple of TL_LA_VEC (padded rows): vectorized, with a fixed
 * summation order (tl_la_dot sums left to right, which the compiler cannot vectorize). */
float tl_la_dotp(const float *a, const float *b, int n);

/* out (k x k, stride ldo, full symmetric) = X^T X for X (n x k, stride ldx). The rows are cut
 * into fixed slices (by n alone), each a single-threaded cblas_ssyrk run on an OpenMP thread
 * (threads <= 0: OpenMP's default), summed in slice order: the result does not depend on the
 * number of threads. Call outside parallel regions. Returns -1 when out of memory. */
int tl_la_gram(const float *x, int64_t n, int k, int ldx, float *out, int ldo, int threads);

/* The Gram matrix of rows r0..r1-1 of X (stride ldx), added to out (k x k doubles, full
 * symmetric), taken in blocks of `block` rows that start at multiples of block: each block's
 * X^T X in float by single-threaded cblas_ssyrk, the blocks added in double. Those double sums
 * are exact in practice, so out does not depend on the threads, nor on how the rows are split
 * among callers whose ranges start at multiples of block (the shards of a distributed fit,
 * whose sums then add up to one process's, bit for bit). Call outside parallel regions.
 * Returns -1 when out of memory. */
int tl_la_gram_blocks(const float *x, int64_t r0, int64_t r1, int64_t block, int k, int ldx,
                      double *out, int threads);

/* C (m x n, stride ldc) = A (m x k, stride lda) B^T (B: n x k, stride ldb) through cblas_sgemm,
 * split over column blocks (wide C: a block of users x all items) or row blocks of A on OpenMP
 * threads, each a single-threaded BLAS call. Call outside parallel regions. */
void tl_la_gemm_nt(int m, int n, int k, const float *a, int lda, const float *b, int ldb, float *c,
                   int ldc, int threads);

/* BLAS's thread count is process-wide, so only the program that owns the threads sets it,
 * once, before it calls anything else here (the service: 1, so request threads and training
 * never race on it; the CLI: BLAS's own default). Core never changes it per call: code that
 * would call BLAS from inside an OpenMP region asks tl_la_blas_threads() and stays on one
 * thread when BLAS is threaded itself. */
void tl_la_blas_threads_set(int n);
/* BLAS's thread count now (1 without OpenBLAS). */
int tl_la_blas_threads(void);

/* y[0..n) = A x for A (n x n, stride lda) symmetric and stored in full. ld of x and y is n.
 * Fast when n is a multiple of TL_LA_VEC. */
void tl_la_symv(const float *a, int n, int lda, const float *x, float *restrict y);

/* y[j] = A x[j] for nv <= TL_LA_SYMV_MULTI vectors at once (A as in tl_la_symv, n a multiple
 * of TL_LA_VEC): each chunk of A is loaded once for all of them. The result for one vector
 * does not depend on the others. */
#define TL_LA_SYMV_MULTI 4
void tl_la_symv_multi(const float *a, int n, int lda, const float *const *x, int nv,
                      float *const *y);

/* y[i] = dot(A[i, 0..k), x) for the n rows of A (stride lda): scores of every item against one
 * user vector. Rows are taken eight at a time so that the sums reduce together. */
void tl_la_gemv_rows(const float *a, int64_t n, int k, int lda, const float *x, float *restrict y);

/* Upper triangle of A (k x k, stride lda) += sum_j s[j] y_j y_j^T, and, when b is not NULL,
 * b[0..k) += sum_j t[j] y_j, with y_j = Y + idx[j] * ldy (the rows of one user's items). The
 * strictly lower triangle is left undefined (it may be written). lda and ldy must be multiples
 * of TL_LA_VEC, and the rows' padding columns zero (they are updated too, with zeros). */
void tl_la_syrk_rows(const float *y, int ldy, const int32_t *idx, const float *s, const float *t,
                     int64_t n, int k, float *a, int lda, float *b);

/* out[0..ldy) += sum_j (a0 + a1 w[j] + b1 w[j] dot(y_j, v)) y_j with y_j = Y + idx[j] * ldy:
 * the part of a conjugate-gradient matrix-vector product (or residual) that touches only the
 * nonzeros of one row. ldy must be a multiple of TL_LA_VEC with zero padding columns; v and
 * out hold ldy floats. */
void tl_la_gather_axpy(const float *y, int ldy, const int32_t *idx, const float *w, int64_t n,
                       float a0, float a1, float b1, const float *v, float *restrict out);

/* The transpose of tl_la_gather_axpy, for one row y (ld floats) of the fixed side shared by
 * several rows being solved: for each j with active[h] (h = hidx[j]; active NULL = all),
 *   out[h] += (a0 + a1 w[j] + b1 w[j] dot(y, v[h])) y,
 * where v[h] and out[h] are rows h of v and out (stride ld, a multiple of TL_LA_VEC). */
void tl_la_scatter_axpy(const float *y, int ld, const int32_t *hidx, const float *w, int64_t n,
                        const uint8_t *active, float a0, float a1, float b1, const float *v,
                        float *out);

/* In-place Cholesky A = U^T U of the upper triangle of A (k x k, stride lda, a multiple of
 * TL_LA_VEC, columns k..lda of the first k rows zero). The strictly lower triangle is
 * overwritten. Returns 0, or -1 when A is not (numerically) positive definite. */
int tl_la_potrf_upper(float *a, int k, int lda);

/* In place: the factor U of A (from tl_la_potrf_upper) becomes A's inverse, both triangles,
 * with rows and columns k..lda zero (so that tl_la_symv may run on the padded size lda). For
 * many solves with one matrix: each is then one symmetric matrix-vector product. -1 when it
 * fails. */
int tl_la_potri_full(float *a, int k, int lda);

/* Solves U^T U x = b in place (b becomes x) with the factor from tl_la_potrf_upper. */
void tl_la_potrs_upper(const float *u, int k, int lda, float *b);

#endif
