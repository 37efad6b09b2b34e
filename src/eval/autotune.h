/* Defaults that adapt to the data: before a fit, search the parameters the caller left unset
 * on a validation split carved from the training data alone (PROTOCOL.md, Tuning) and keep the
 * best by nDCG@10. A library's loans are not MovieLens: constants tuned on one data set travel
 * badly. Tuning is a hook of tl_model_fit (core/model.h), so that core's fits stay pure and a
 * hybrid's members are tuned once, by the same hook, when the hybrid fits them. */
#ifndef TL_EVAL_AUTOTUNE_H
#define TL_EVAL_AUTOTUNE_H

#include "core/model.h"
#include "eval/grid.h"

/* Validation users scored per setting (a deterministic subset beyond this). */
#define TL_AUTOTUNE_MAX_USERS 3000
/* The work all the fits of one model's search may cost, in estimated multiply-adds (about a
 * minute of a 2-core machine's BLAS-bound work). Beyond it the search runs on a sample of the
 * users, halved until it fits (never below 1500 users). */
#define TL_AUTOTUNE_WORK 3e12

/* Chooses m's unset tunable parameters on d, when m->ops->tune_grid is set and none of its
 * parameters was set by the caller; otherwise does nothing. Sets the chosen values in
 * m->params (as defaults, not as set by the caller) and describes the choice in m->tuned.
 * h (may be NULL) lends progress and cancellation to the fits it makes. Errors: TL_ENOMEM,
 * TL_ECANCELED, or a fit's error. */
tl_err tl_autotune(tl_model *m, const tl_data *d, const tl_fit_hooks *h, tl_diag *diag);

/* The same with another work budget (benchmarks and tests). */
tl_err tl_autotune_budget(tl_model *m, const tl_data *d, const tl_fit_hooks *h, double budget,
                          tl_diag *diag);

/* tl_autotune in the shape of tl_fit_hooks.tune (ctx is unused). */
/* The centre of a log axis ("key=~F[@C]"): C when given, else the model's data-derived rule,
 * else the parameter's current value, else 1. Autotune walks from it; tune expands around it. */
double tl_autotune_centre(const tl_model *m, const tl_data *d, const tl_grid_axis *x);
tl_err tl_autotune_hook(void *ctx, tl_model *m, const tl_data *d, const tl_fit_hooks *h,
                        tl_diag *diag);

#endif
