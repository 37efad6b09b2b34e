/* Compressed sparse rows: the in-memory interaction matrices every model trains from.
 * user x items (CSR) and its transpose item x users (the CSC view) share this one type. */
#ifndef TL_CORE_CSR_H
#define TL_CORE_CSR_H

#include <stddef.h>
#include <stdint.h>

#include "tailor/error.h"

typedef struct tl_csr {
    int32_t nrows, ncols;
    int64_t nnz;
    int64_t *indptr;  /* nrows + 1 */
    int32_t *indices; /* nnz; ascending within each row, no duplicates */
    float *data;      /* nnz weights */
    int64_t *ts;      /* nnz timestamps (latest per cell), or NULL */
} tl_csr;

/* Coordinate triplets, appended in any order. */
typedef struct tl_coo {
    int32_t *rows, *cols;
    float *vals;
    int64_t *ts; /* NULL unless created with timestamps */
    int64_t n, cap;
} tl_coo;

/* How cells that occur more than once are merged. */
typedef enum tl_dup { TL_DUP_SUM, TL_DUP_MAX, TL_DUP_LAST } tl_dup;

tl_err tl_coo_init(tl_coo *c, int64_t cap, int with_ts);
void tl_coo_release(tl_coo *c);
tl_err tl_coo_push(tl_coo *c, int32_t row, int32_t col, float val, int64_t ts);

/* Builds out (nrows x ncols) from c with a counting sort: O(n + nrows), merging duplicates by
 * dup (timestamps keep their maximum). Entries outside the shape are TL_EINVAL. */
tl_err tl_csr_from_coo(const tl_coo *c, int32_t nrows, int32_t ncols, tl_dup dup, tl_csr *out);
/* The same matrix as tl_csr_from_coo, bit for bit, built in c's own arrays: c's columns,
 * values and timestamps are permuted in place to become out's indices, data and ts (their
 * spare capacity given back), so the triplets are never held twice. Peak: c's arrays plus
 * out's indptr. c is released on return, on success and on error alike (TL_EINVAL for an
 * entry outside the shape, TL_ENOMEM). */
tl_err tl_csr_from_coo_take(tl_coo *c, int32_t nrows, int32_t ncols, tl_dup dup, tl_csr *out);
/* out = transpose of a (CSC of a, as a CSR), timestamps included. */
tl_err tl_csr_transpose(const tl_csr *a, tl_csr *out);
/* out = transpose of a without timestamps (out->ts = NULL): 8 bytes per nonzero instead of
 * 16 when a has them, for views that only need the weights. */
tl_err tl_csr_transpose_no_ts(const tl_csr *a, tl_csr *out);
void tl_csr_release(tl_csr *a);
/* Deep copy. */
tl_err tl_csr_copy(const tl_csr *a, tl_csr *out);
/* Deep copy of the pattern and weights only (out->ts = NULL). */
tl_err tl_csr_copy_no_ts(const tl_csr *a, tl_csr *out);
/* 1 when a carries timestamps and any is non-zero (0 means "no time" in Tailor's files). */
int tl_csr_has_timestamps(const tl_csr *a);
/* Bytes held by a's arrays. */
size_t tl_csr_bytes(const tl_csr *a);
/* The sum over rows of the squared row lengths: the pairs a co-occurrence count visits. */
double tl_csr_sum_sq_rows(const tl_csr *a);
/* Position of col in row, or -1 (binary search). */
int64_t tl_csr_find(const tl_csr *a, int32_t row, int32_t col);

#endif
