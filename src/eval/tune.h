/* `tailor tune`: grid search of a model's hyperparameters on a validation split carved from
 * train alone (PROTOCOL.md, Tuning: the same split rule, mode and seed, no 5-positive filter),
 * scored by nDCG@10 in memory. A test file is never an input. */
#ifndef TL_EVAL_TUNE_H
#define TL_EVAL_TUNE_H

#include "core/holdout.h"
#include "core/metrics.h"

typedef struct tl_tune_opts {
    const char *model;
    const char *const *sets; /* fixed "key=value" parameters */
    int n_sets;
    const char *const *grids; /* axes in the grid syntax of eval/grid.h ("key=v1,v2",
                                 "key=~F"); none = the model's own (tl_tune_default_grid) */
    int n_grids;
    tl_split_mode mode;
    uint64_t seed;
    const char *items;        /* items.tsv catalogue, or NULL */
    const char *interactions; /* timestamps of train pairs (needed for temporal), or NULL */
    int implicit;             /* binarization of interactions */
    int top_n;                /* TL_METRICS_TOPN */
} tl_tune_opts;

void tl_tune_opts_init(tl_tune_opts *o);

typedef struct tl_tune_point {
    char *setting; /* the grid values, "key=value" separated by single spaces ("" = none) */
    tl_metrics_result metrics;
    double fit_seconds, score_seconds;
} tl_tune_point;

typedef struct tl_tune_result {
    tl_tune_point *points;
    int n;
    int best; /* index of the highest validation nDCG@10 (the first of equals) */
    int64_t val_train_pairs, val_test_pairs;
    int64_t val_users; /* users with a validation test item */
    char grid[512];    /* the grid searched, "key=v1,v2;key=..." */
} tl_tune_result;

void tl_tune_result_release(tl_tune_result *r);

/* Called after each grid point (k of n, 0-based) with its result, e.g. to print progress. */
typedef void (*tl_tune_progress)(void *ctx, const tl_tune_point *p, int k, int n);

/* The model's own search space, the one autotune walks (its tune_grid), or NULL (the
 * defaults are the only setting). tl_tune_run tries every point of it, "~F" axes as values a
 * half decade apart around the data-derived centre. */
const char *tl_tune_default_grid(const char *model);

/* Loads train (user item), carves the validation split and fits and scores the model at every
 * point of the grid (the cartesian product of the axes; o->sets apply to every point). Errors:
 * TL_EIO, TL_EPARSE (files), TL_ENOTFOUND (model), TL_EINVAL (a bad grid or parameter, diag
 * says which; a temporal split without timestamps), TL_ETOOBIG (over 10000 grid points),
 * TL_ENOMEM, or a fit's error. */
tl_err tl_tune_run(const char *train, const tl_tune_opts *o, tl_tune_progress cb, void *ctx,
                   tl_tune_result *out, tl_diag *diag);

#endif
