/* ials beyond its ops table: fold-in of a fresh history (the real-time path), a read-only view
 * of the trained factors, the training loss, and per-epoch timings for benchmarks. */
#ifndef TL_CORE_MODELS_IALS_H
#define TL_CORE_MODELS_IALS_H

#include <stdint.h>

#include "core/model.h"

/* The factors of a fitted or loaded ials model. Rows are stored padded to ld floats (ld is
 * factors rounded up to a multiple of 8; the padding columns are zero). yty is the Gram
 * matrix of the item factors, factors x factors, without regularization. */
typedef struct tl_ials_view {
    int32_t n_users, n_items, factors, ld;
    const float *user_factors; /* n_users x ld */
    const float *item_factors; /* n_items x ld */
    const float *yty;          /* factors x factors */
} tl_ials_view;

/* Fills out; TL_EINVAL when m is not a fitted or loaded ials model. */
tl_err tl_ials_view_get(const tl_model *m, tl_ials_view *out);

/* Solves the user vector for a history (items[0..n), weights w, NULL = all 1) from the item
 * factors: the exact least-squares step of one ALS half-epoch for one row,
 *   (YtY + sum_j alpha w_j y_j y_j^T + reg I) x = sum_j (1 + alpha w_j) y_j,
 * with YtY precomputed at fit/load time. Items outside [0, n_items) are ignored; a repeated
 * item counts once per occurrence (pass merged histories). Writes factors floats to out_vec.
 * Thread-safe. Returns TL_EINVAL (not an ials model), TL_ENOMEM. */
tl_err tl_ials_fold_in(const tl_model *m, const int32_t *items, const float *w, int32_t n,
                       float *out_vec);

/* The objective ALS minimizes, for the users of ui (rows = the model's users):
 *   sum_{u,i} c_ui (p_ui - x_u.y_i)^2 + reg (|X|^2 + |Y|^2),
 * p = 1 on ui's cells (c = 1 + alpha w) and 0 elsewhere (c = 1). In double precision. */
tl_err tl_ials_loss(const tl_model *m, const tl_csr *ui, double *out);

/* Timings of one training epoch: wall-clock seconds of the whole epoch and of its two halves
 * (each including its Gram matrix), the process CPU seconds the epoch used (on a shared
 * machine, CPU time / wall time shows how many cores the epoch really had), and, in a
 * distributed fit, the wall-clock seconds spent in the exchanges between processes. */
typedef struct tl_ials_epoch {
    double seconds, item_seconds, user_seconds, cpu_seconds, comm_seconds;
} tl_ials_epoch;

/* The epochs of the last fit; *n = how many. NULL when m was loaded or is not ials. */
const tl_ials_epoch *tl_ials_epochs(const tl_model *m, int *n);

/* Tests only: when set, fit() solves every nonempty row of both halves with the lockstep
 * sweep that is otherwise kept for rows too heavy for the cache. */
extern int tl__ials_force_sweep;
/* Tests only: work per epoch (flops) below which fit() uses one thread (default 5e7); 0 makes
 * even tiny problems run the parallel code. */
extern double tl__ials_small_work;

#endif
