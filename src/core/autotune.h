/* Defaults that adapt to the data: before a fit, try the model's tune_grid on a validation
 * split carved from the training data alone (PROTOCOL.md, Tuning) and keep the best setting by
 * nDCG@10. A library's loans are not MovieLens: constants tuned on one data set travel badly. */
#ifndef TL_CORE_AUTOTUNE_H
#define TL_CORE_AUTOTUNE_H

#include "core/model.h"

/* Above this many interactions autotune is skipped (the defaults stand): a grid of fits would
 * cost more than the model it improves. */
#define TL_AUTOTUNE_MAX_NNZ 3000000
/* When the first grid point shows that the whole grid would take longer than this many
 * seconds, tuning stops and the defaults stand (EASE on a large catalogue, say). */
#define TL_AUTOTUNE_BUDGET_S 120
/* Validation users scored per grid point (a deterministic subset beyond this). */
#define TL_AUTOTUNE_MAX_USERS 3000

/* Runs when m->ops->tune_grid is set, no grid parameter was set by the caller and d is small
 * enough; otherwise does nothing. Sets the chosen values in m->params (not marked as set by
 * the caller) and describes the choice in m->tuned. The split is temporal when d has
 * timestamps (one fold), else random (two folds, seeds 42 and 43, scores averaged).
 * Errors: TL_ENOMEM, or a member fit's error. */
tl_err tl_autotune(tl_model *m, const tl_data *d, tl_diag *diag);

/* nDCG@10 of ranked[0..n) against the sorted truth set truth[0..nt) (PROTOCOL.md). */
double tl_autotune_ndcg10(const int32_t *ranked, int n, const int32_t *truth, int64_t nt);

#endif
