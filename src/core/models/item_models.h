/* Entry points of the item-based models (popular, itemknn, ease, rp3beta) beyond their ops
 * tables: per-segment popularity for any grouping of users (popular's `segment` parameter
 * groups them by a user attribute of the data), and read-only views of trained weights for
 * tests, tools and the hybrid model. */
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

#endif
