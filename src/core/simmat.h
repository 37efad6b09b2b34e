/* A top-k pruned sparse item x item weight matrix, shared by the item-to-item models (itemknn,
 * rp3beta, pruned EASE): row j lists the items that history item j sends score to. A user's
 * scores are the sum of the rows of their history items, and the same rows explain a score.
 * It is built row by row in parallel from a caller's row function and saved as model-file
 * sections, so a loaded model scores straight from the mapping. */
#ifndef TL_CORE_SIMMAT_H
#define TL_CORE_SIMMAT_H

#include <stdint.h>

#include "core/csr.h"
#include "core/data.h"
#include "core/mfile.h"
#include "tailor/error.h"

typedef struct tl_simmat {
    tl_csr w;  /* n x n: row j = (target item, weight) pairs, indices ascending; ts NULL */
    int owned; /* arrays are malloc'd by a build; 0 = they point into a model file */
} tl_simmat;

/* A per-thread dense accumulator over n items that remembers which entries it touched, so a
 * row costs O(entries touched) to collect and reset instead of O(n). */
typedef struct tl_simacc {
    float *val;    /* n, all zero between rows */
    int32_t *idx;  /* the touched indices, in first-touch order */
    int32_t nt;    /* how many idx holds */
    uint8_t *seen; /* n, 1 for touched indices */
} tl_simacc;

static inline void tl_simacc_add(tl_simacc *a, int32_t j, float v)
{
    if (!a->seen[j]) {
        a->seen[j] = 1;
        a->idx[a->nt++] = j;
    }
    a->val[j] += v;
}

/* Accumulates row `row` of the unpruned matrix into acc (which arrives empty). Called from
 * several threads at once with their own acc: it must only read ctx. */
typedef void (*tl_simmat_row_fn)(const void *ctx, int32_t row, tl_simacc *acc);

typedef struct tl_simmat_opts {
    int k;         /* entries kept per computed row (the k largest); <= 0 keeps every entry */
    int by_abs;    /* rank entries by |weight| (EASE's negative weights matter too) */
    int keep_self; /* keep the diagonal entry (dropped by default: an item never recommends
                      itself, and a self entry would take one of the k slots) */
    int transpose; /* the row function computes rows keyed by *target* item (per-target top-k,
                      classic item kNN); store the transpose so rows are keyed by history item */
    int normalize; /* then scale every stored row to sum |w| = 1 (tl_simmat_normalize_rows) */
} tl_simmat_opts;

/* Builds an n x n matrix from fn: every row is computed (OpenMP over rows, one accumulator
 * per thread), zeros are dropped, the k largest entries kept (ties go to the lower item index,
 * so the result does not depend on the thread count), then the rows are packed into CSR.
 * Peak extra memory: threads x n x 9 bytes plus one block of rows x k entries.
 * TL_ENOMEM, TL_EINVAL (n < 0). On success *out owns its arrays. */
tl_err tl_simmat_build(int32_t n, const tl_simmat_opts *o, tl_simmat_row_fn fn, const void *ctx,
                       tl_simmat *out);

/* TL_EINVAL (diag) unless d's matrices are n_items wide, i.e. were built after the last item
 * was interned; the item-item models index everything by the model's item count. */
tl_err tl_simmat_check_data(const tl_data *d, int32_t n_items, tl_diag *diag);

/* Makes a matrix own a deep copy of an existing CSR of shape n x n (rows sorted). */
tl_err tl_simmat_from_csr(const tl_csr *a, tl_simmat *out);

void tl_simmat_release(tl_simmat *s);

/* Scales every row to sum |w| = 1 (rows that are all zero stay zero). Needs an owned matrix. */
void tl_simmat_normalize_rows(tl_simmat *s);

/* scores[0..n) = sum over history positions p of w[p] * row(items[p]); w NULL = weight 1.
 * History items outside [0, n) are skipped. Thread-safe (reads only). */
void tl_simmat_score(const tl_simmat *s, const int32_t *items, const float *w, int32_t n_hist,
                     float *scores);

/* The weight of (row, col), or 0 when pruned away. */
float tl_simmat_get(const tl_simmat *s, int32_t row, int32_t col);

/* The history positions whose rows give item a positive contribution w[p] * W[items[p], item],
 * strongest first (ties: earlier position first); writes up to max of them to why/contrib and
 * returns how many. */
int tl_simmat_explain(const tl_simmat *s, const int32_t *items, const float *w, int32_t n_hist,
                      int32_t item, int32_t *why, float *contrib, int max);

/* Adds sections "<prefix>ptr" (I64, n + 1), "<prefix>idx" (I32) and "<prefix>val" (F32) to w.
 * The arrays are referenced, not copied: s must outlive the write. prefix: up to 24 bytes. */
tl_err tl_simmat_save(const tl_simmat *s, const char *prefix, tl_mfile_writer *w);

/* Points s at the sections saved under prefix in f (no copy; f must stay open), checking that
 * the shape is n x n, indptr is monotone and every index is in range. TL_ECORRUPT with diag
 * naming the section otherwise. */
tl_err tl_simmat_load(tl_simmat *s, const tl_mfile *f, const char *prefix, int32_t n,
                      tl_diag *diag);

#endif
