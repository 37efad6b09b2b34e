/* The model interface's private half (include/tailor/model.h is the public one, as SQLite's
 * btreeInt.h is to btree.h): every recommender (popular, itemknn, ials, ease, rp3beta,
 * content, sequence, hybrid) is a tl_model_ops table, and struct tl_model is defined here, for
 * core, its models, eval and the service; everything else holds an opaque tl_model.
 *
 * Indices: a model has its own dense user and item indices with id maps (users may be empty
 * for models that keep no per-user state). Scoring works from a user's history (item indices
 * and weights), so users unknown to the model and fresh events are handled the same way. */
#ifndef TL_CORE_MODEL_H
#define TL_CORE_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "core/data.h"
#include "core/mfile.h"
#include "tailor/model.h"
#include "tailor/params.h"

/* What a caller lends a fit: progress reports, a way to stop it, and the choice of the
 * parameters it left unset. Fitting itself is pure: it never times itself against a budget,
 * never prints, never tunes unless tune is given. Every member may be NULL; ctx is passed to
 * each. Called from the fitting thread only. */
typedef struct tl_fit_hooks {
    /* stage: e.g. "ials epoch 3/15"; done: the fraction of the whole fit in [0, 1]. */
    void (*progress)(void *ctx, const char *stage, double done);
    /* Polled between steps; nonzero makes the fit return TL_ECANCELED. */
    int (*cancelled)(void *ctx);
    /* Chooses m's unset parameters on d before m is fit (src/eval/autotune.h); h is the
     * hooks of the fit, to forward cancellation to the fits it makes. */
    tl_err (*tune)(void *ctx, tl_model *m, const tl_data *d, const struct tl_fit_hooks *h,
                   tl_diag *diag);
    void *ctx;
    /* Distributed training (core/comm.h): the processes that fit one model together, each on
     * the same data; NULL = this process alone. Only models with ops->distributed use it. */
    const struct tl_comm *comm;
} tl_fit_hooks;

typedef struct tl_model_ops {
    const char *name;
    const char *summary;
    /* The parameter table (TL_PARAM rows) and the size of the struct it describes: every model
     * gets one such struct, m->cfg, that always holds its current parameter values (see
     * tl_params_bind), so models read cfg->alpha instead of looking names up. Set all three
     * with TL_MODEL_PARAMS. */
    const tl_param_def *params;
    int n_params;
    size_t cfg_size;
    /* The model's search space, explored on a validation split when the caller set none of
     * its parameters (src/eval/autotune.h) and by `tailor tune`: axes in the grid syntax of
     * src/eval/grid.h, most important first, e.g. "factors=64,128;reg=~10" ("~F": log scale
     * from centre/F to centre*F). NULL = nothing to tune. */
    const char *tune_grid;
    /* Optional: the data-derived centre of a "~" axis of tune_grid (0 = its default). */
    double (*tune_centre)(const tl_model *m, const tl_data *d, const char *param);
    /* Optional: "key=value;..." set while screening settings (cheaper fits, e.g. fewer
     * epochs); the best screened settings are then fit again without them. */
    const char *tune_screen;
    /* Optional: the work of one fit on d with m's parameters, in multiply-adds, from the
     * shapes alone (so that a search's size does not depend on the machine). NULL: nnz. */
    double (*fit_work)(const tl_model *m, const tl_data *d);
    /* 1: fit shares its work with the other processes of hooks->comm (distributed training,
     * core/comm.h); a model without it refuses a communicator of several processes. */
    int distributed;
    /* Optional: the top 10 of users rows[0..nrows) of d->ui (history excluded, only items
     * allow[] keeps) for each of values[0..nv) of the parameter param at once, as one
     * shared factorization allows (EASE's lambda); recs: nv x nrows x 10, -1 padded.
     * TL_EUNSUPPORTED when this param or configuration has no such path. */
    tl_err (*tune_path)(const tl_model *m, const tl_data *d, const char *param,
                        const double *values, int nv, const int32_t *rows, int32_t nrows,
                        const uint8_t *allow, int32_t *recs, tl_diag *diag);
    /* 1: the model applies half_life_days itself (popular: decay of counts, not of weights);
     * else tl_model_fit hands fit a copy of d with decayed weights. */
    int own_decay;
    /* 1: an order-aware model ("what next" is its purpose): with timestamps, autotune
     * validates it on a temporal split only, instead of a random and a temporal one. */
    int tune_temporal;
    /* 1: fit never reads the weights (only which items, and when): time decay changes
     * nothing, so autotune does not search it. */
    int ignores_weights;
    /* Trains from d with the parameters in m->cfg; m->n_items/n_users and id maps are already
     * set from d. May read d->cat. Sets m->state. */
    tl_err (*fit)(tl_model *m, const tl_data *d, tl_diag *diag);
    /* Floats of scratch space score() needs (per calling thread). */
    size_t (*scratch_floats)(const tl_model *m);
    /* Scores all m->n_items items for one user. uidx: the model's index of the user, or -1
     * (unknown: the history alone decides, e.g. fold-in). items/w: the user's history.
     * Must be thread-safe; writes scores[0..n_items). Higher is better; -INFINITY = never.
     * An error (e.g. TL_ENUMERIC: a fold-in that could not be factored) means the scores
     * are not to be used. */
    tl_err (*score)(const tl_model *m, int32_t uidx, const int32_t *items, const float *w,
                    int32_t n, float *scores, float *scratch);
    /* Optional: scores only the items cand[0..ncand) into out (as score() would), with
     * scratch of scratch_floats(): a few hundred candidates (a search's re-ranking) cost a
     * few dot products instead of the whole catalogue. Without it tl_model_score_items
     * scores every item. */
    tl_err (*score_items)(const tl_model *m, int32_t uidx, const int32_t *items, const float *w,
                          int32_t n, const int32_t *cand, int32_t ncand, float *out,
                          float *scratch);
    /* Optional: scores the users whose histories are rows[0..n_rows) of ui (same item
     * indices as the model) into out, row-major n_rows x n_items; lets a model batch through
     * BLAS. Called from one thread; may use OpenMP inside. When users_match is set, ui row r
     * is the model's user r (so per-user state such as factors may be used). Scores of the
     * history items themselves are masked by the caller. */
    void (*score_block)(const tl_model *m, const tl_csr *ui, int users_match, const int32_t *rows,
                        int32_t n_rows, float *out);
    /* Adds the state's arrays to w (params and id maps are written by the caller). */
    tl_err (*save)(const tl_model *m, tl_mfile_writer *w);
    /* Sets m->state from f; arrays may point into the mapping (m->file stays open). */
    tl_err (*load)(tl_model *m, const tl_mfile *f, tl_diag *diag);
    void (*release)(tl_model *m);
    /* Optional: the history entries that contribute most to item's score, strongest first:
     * writes up to max history positions (indices into items[]) and their contributions,
     * returns how many. */
    int (*explain)(const tl_model *m, int32_t uidx, const int32_t *items, const float *w, int32_t n,
                   int32_t item, int32_t *why, float *contrib, int max);
    /* Optional: explain for each of targets[0..nt) at once (what they share, e.g. a factored
     * history, made once): target t's positions and contributions at why/contrib + t * max,
     * their number in got[t]. Returns 0, or -1 when it could not (then explain is asked item
     * by item). */
    int (*explain_many)(const tl_model *m, int32_t uidx, const int32_t *items, const float *w,
                        int32_t n, const int32_t *targets, int nt, int32_t *why, float *contrib,
                        int max, int *got);
} tl_model_ops;

/* The ops fields of a model whose parameter table is the array `table` of TL_PARAM(T, ...)
 * rows. */
#define TL_MODEL_PARAMS(table, T)                                                                  \
    .params = (table), .n_params = (int)(sizeof(table) / sizeof((table)[0])), .cfg_size = sizeof(T)

/* Autotune's validation split(s) (the model-wide setting "tune_split"). AUTO: with timestamps a
 * temporal split for order-aware models and TL_TUNE_SPLIT_DEFAULT's choice for the others;
 * without timestamps two random folds. */
enum { TL_TUNE_SPLIT_AUTO, TL_TUNE_SPLIT_RANDOM, TL_TUNE_SPLIT_TEMPORAL, TL_TUNE_SPLIT_BOTH };

struct tl_model {
    const tl_model_ops *ops;
    tl_params params;
    /* The model's parameters as typed fields (the struct ops->params describes), kept equal to
     * params by the binding: read-only for everyone, written only through params. */
    const void *cfg;
    int32_t n_users, n_items;
    tl_intern users, items; /* id maps; users may be empty */
    void *state;
    tl_mfile *file; /* the mapping the state points into, when loaded */
    double fit_seconds;
    double tune_seconds; /* of fit_seconds, the part spent choosing parameters (the tune hook;
                            for hybrid also its members' and the blend's validation) */
    tl_csr hist;         /* training histories (users x items) kept for recommend --user; arrays
                            point into the mapping when hist_mapped */
    int hist_mapped;
    tl_catalog cat; /* item metadata for filters and display (copied; may be empty) */
    int autotune;   /* 1 (default): a tune hook may choose the parameters the caller left unset */
    int tune_split; /* TL_TUNE_SPLIT_*: the validation split(s) autotune scores on */
    const tl_fit_hooks *hooks; /* during tl_model_fit only, else NULL */
    /* Time decay of every model ("half_life_days=N"): an event N days older than the newest
     * one (decay_ref, Unix seconds) weighs half. 0 = none. half_life_set: the caller chose. */
    double half_life_days;
    int half_life_set;
    int64_t decay_ref;
    int64_t decay_sec[2]; /* tl.decay's array while a model file is written */
    char tuned[256];      /* what autotune chose and why, for reports ("" when it did not run) */
    double tuned_ndcg;    /* the chosen setting's validation nDCG@10 (when tuned is not "") */
    /* The watermark (tl_model_facts): the newest training event's time and the pairs
     * trained on; [2] is the array tl.watermark points to while a file is written. */
    int64_t trained_through, trained_pairs, watermark[2];
    uint64_t serial; /* unique to this model object in the process: a key for caches of what
                        was computed with it (its item indices) */
};

/* Registry. */
const tl_model_ops *tl_model_find_ops(const char *name);
/* NULL-terminated list of every model. */
const tl_model_ops *const *tl_model_all_ops(void);

/* Copies d's id maps (users and items) into m and trains; records m->fit_seconds and the
 * watermark. With
 * hooks->tune (and m->autotune), the hook first chooses the parameters the caller left unset.
 * hooks may be NULL. TL_ECANCELED when hooks->cancelled said stop. */
tl_err tl_model_fit(tl_model *m, const tl_data *d, const tl_fit_hooks *hooks, tl_diag *diag);
/* dst gets src's parameters and model-wide settings (autotune, time decay); for fits of the
 * same configuration on other data (validation splits). TL_EINVAL when they are different
 * models' parameters. */
tl_err tl_model_copy_settings(tl_model *dst, const tl_model *src, tl_diag *diag);
/* The model-wide settings' file section(s) (used by tl_model_save/load and nested models). */
tl_err tl__model_save_settings(const tl_model *m, tl_mfile_writer *w);
tl_err tl__model_load_settings(tl_model *m, const tl_mfile *f, tl_diag *diag);
/* For models while they fit: reports progress through m->hooks (stage, fraction of this fit
 * in [0, 1]) and returns nonzero when the caller asked to stop (the fit then returns
 * TL_ECANCELED). stage may be NULL to only poll. */
int tl_model_progress(const tl_model *m, const char *stage, double done);

/* Top-n for many users at once: users rows[0..n_rows) of ui (ui's item indices are the
 * model's). out_items: n_rows x n, -1 padded. users_match: ui row r is model user r.
 * Batches through score_block when the model has it; parallel with OpenMP. */
/* The scores of the items cand[0..ncand) for one user's history (as tl_model_recommend
 * scores them, before any filter or exclusion: history items get their score too) into out.
 * Through the model's score_items when it has one, else from a full scoring. Errors as
 * tl_model_recommend. */
tl_err tl_model_score_items(const tl_model *m, int32_t uidx, const int32_t *items, const float *w,
                            int32_t n_hist, const int32_t *cand, int32_t ncand, float *out);
tl_err tl_model_recommend_rows(const tl_model *m, const tl_csr *ui, int users_match,
                               const int32_t *rows, int32_t n_rows, const tl_filter *f, int n,
                               int32_t *out_items, float *out_scores);

#endif
