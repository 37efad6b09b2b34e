/* `tailor eval`: score a recs file as tools/evaluate.py does, or train a model on train.tsv,
 * recommend the top 100 for every test user and score that (PROTOCOL.md, Recommending and
 * Metrics). The metrics themselves live in core/metrics.h. */
#ifndef TL_EVAL_EVALUATE_H
#define TL_EVAL_EVALUATE_H

#include "core/metrics.h"

/* Scores recs (user item rank) against train and test (user item) byte for byte as
 * evaluate.py reads them: recs first, then train, then test; ranks above 100 are ignored,
 * ties in rank keep file order, the first of repeated items counts. Errors: TL_EIO (cannot
 * open), TL_EPARSE (evaluate.py's header, field-count and rank errors, diag names file and
 * line), TL_ENOMEM. */
tl_err tl_eval_recs_file(const char *train, const char *test, const char *recs,
                         tl_metrics_result *out, tl_diag *diag);

typedef struct tl_eval_opts {
    const char *model;       /* registered model name */
    const char *const *sets; /* "key=value" model parameters */
    int n_sets;
    const char *items;        /* items.tsv catalogue (metadata of train items), or NULL */
    const char *interactions; /* timestamps of train pairs come from here, or NULL */
    int implicit;             /* binarization of interactions: every row is a positive */
    const char *recs_out;     /* write user item rank here, or NULL */
    int top_n;                /* TL_METRICS_TOPN */
    /* The fit's hooks (progress, cancellation, tuning); NULL = autotune only
     * (tl_autotune_hook). */
    const tl_fit_hooks *hooks;
} tl_eval_opts;

void tl_eval_opts_init(tl_eval_opts *o);

typedef struct tl_eval_report {
    tl_metrics_result metrics;
    double fit_seconds, recommend_seconds;
    double tune_seconds; /* of fit_seconds, the part autotune took */
    char *params; /* the fitted model's "key=value" lines (malloc'd; tl_eval_report_release) */
    char autotune[256]; /* what the model's own validation chose, "" when it did not run */
} tl_eval_report;

void tl_eval_report_release(tl_eval_report *r);

/* Loads train (user item, weight 1), fits the model, recommends top_n for every test user
 * found in train from the items of train minus the user's own (others get none and score 0)
 * and scores against test. Never reads test before the model is trained. Errors: TL_EIO,
 * TL_EPARSE (bad file, diag says where), TL_ENOTFOUND (model name), TL_EINVAL (parameter,
 * diag says which), TL_ENOMEM, or the model's error. */
tl_err tl_eval_model(const char *train, const char *test, const tl_eval_opts *o,
                     tl_eval_report *rep, tl_diag *diag);

#endif
