/* Entry points of the item-based models (popular, itemknn, ease, rp3beta) beyond their ops
 * tables: per-segment popularity for any grouping of users (popular's `segment` parameter
 * groups them by a user attribute of the data), read-only views of trained weights for tests,
 * tools and the hybrid model, and the parts the item-to-item models share (item_sim.c). */
#ifndef TL_CORE_ITEM_MODELS_H
#define TL_CORE_ITEM_MODELS_H

#include <stdint.h>

#include "core/model.h"
#include "core/simmat.h"

/* Adds per-segment lists to a fitted `popular` model m (trained on d by tl_model_fit):
 * user_segment[u] in [0, n_segments) is the segment of d's user u (-1: none), names[s] the
 * segment value (NULL names: "0", "1", ...). Each segment's list counts only its users'
 * events (same half_life_days and use_weights as the global list), normalized to [0, 1] and
 * mixed with segment_mix x the normalized global list, so ties and items the segment never
 * touched fall back to global popularity. A user whose segment is known scores by it; others
 * get the global list. Replaces any earlier segments. TL_EINVAL (diag) when m is not a fitted
 * popular model or a segment is out of range; TL_ENOMEM. */
tl_err tl_popular_fit_segments(tl_model *m, const tl_data *d, const int32_t *user_segment,
                               const char *const *names, int32_t n_segments, tl_diag *diag);

/* The segment index of value name in a popular model, or -1. */
int32_t tl_popular_segment_find(const tl_model *m, const char *name);

/* Scores for segment seg (-1 = the global list) into scores[0..n_items). For users the model
 * does not know by index, whose segment value is known from elsewhere. */
void tl_popular_score_segment(const tl_model *m, int32_t seg, float *scores);

/* A fitted or loaded ease model's dense B, or NULL when it is the pruned (sparse) variant or m
 * is not an ease model. B is m x m, row-major, over the solved items (row = history item):
 * *n_solved = m and (*items_of)[r] = the model item of solve index r, ascending; when every
 * item was solved, m = n_items and the order is the model's. Either out pointer may be NULL. */
const float *tl_ease_dense(const tl_model *m, const int32_t **items_of, int32_t *n_solved);

/* The item x item weights of a fitted or loaded itemknn, rp3beta or sparse ease model, or
 * NULL for any other model. */
const tl_simmat *tl_item_model_simmat(const tl_model *m);

/* ---- The item-to-item models' shared parts (item_sim.c) ----
 * The state of itemknn and rp3beta is a bare tl_simmat (malloc'd); the sparse ease's starts
 * with one. The functions that take ops arguments fit the ops tables as they are. */

/* Builds m's matrix over its n_items items (tl_simmat_build) and makes it m's state, freeing
 * any earlier one. TL_ENOMEM; m keeps its state on failure. */
tl_err tl__item_sim_fit(tl_model *m, const tl_simmat_opts *o, tl_simmat_row_fn fn, const void *ctx);
/* ops->release for a bare tl_simmat state. */
void tl__item_sim_release(tl_model *m);
/* ops->score: the sum of the history items' rows (tl_simmat_score); uidx and scratch unused. */
tl_err tl__item_sim_score(const tl_model *m, int32_t uidx, const int32_t *items, const float *w,
                          int32_t n, float *scores, float *scratch);
/* ops->explain: the history items whose rows add most to item (tl_simmat_explain). */
int tl__item_sim_explain(const tl_model *m, int32_t uidx, const int32_t *items, const float *w,
                         int32_t n, int32_t item, int32_t *why, float *contrib, int max);
/* ops->save and ops->load of a bare tl_simmat state, whose sections are named "<prefix>ptr",
 * "<prefix>idx" and "<prefix>val" (tl_simmat_save, tl_simmat_load): the model's ops pass their
 * own prefix. Load replaces m's state only on success. */
tl_err tl__item_sim_save(const tl_model *m, const char *prefix, tl_mfile_writer *w);
tl_err tl__item_sim_load(tl_model *m, const tl_mfile *f, const char *prefix, tl_diag *diag);
/* ops->fit_work of the co-occurrence models: every pair of items in a history. */
double tl__item_sim_fit_work(const tl_model *m, const tl_data *d);

/* EASE's tune_path (core/model.h): the top 10 for many lambdas from one eigendecomposition of
 * the smaller of X^T X and X X^T (src/core/models/ease_path.c). */
tl_err tl__ease_tune_path(const tl_model *m, const tl_data *d, const char *param,
                          const double *values, int nv, const int32_t *rows, int32_t nrows,
                          const uint8_t *allow, int32_t *recs, tl_diag *diag);

#endif
