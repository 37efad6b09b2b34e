/* A trained recommender as an opaque handle: make one, set its parameters, load or save its
 * file, ask what it is and what it knows, and have it rank items. How a model is built and
 * what it keeps (the ops table, the state) is private to src/core (src/core/model.h, the
 * "Int" half of this header). Every function here is safe to call from many threads at once
 * on a loaded model, except tl_model_set and tl_model_free. */
#ifndef TAILOR_MODEL_H
#define TAILOR_MODEL_H

#include <stdint.h>

#include "tailor/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct tl_model tl_model;

/* Creates an untrained model with default parameters. TL_ENOTFOUND for an unknown name. */
TL_API tl_err tl_model_new(const char *name, tl_model **out);
TL_API void tl_model_free(tl_model *m);
/* "key=value"; TL_EINVAL with diag for an unknown key or a value out of range. Two keys apply
 * to every model: "autotune" (0 or 1) switches validation-based choice of defaults off or on,
 * "half_life_days" (>= 0) sets the time decay of the interactions' weights. */
TL_API tl_err tl_model_set(tl_model *m, const char *kv, tl_diag *diag);
TL_API tl_err tl_model_save(const tl_model *m, const char *path, tl_diag *diag);
/* Maps the file: the arrays stay in the page cache, shared by every process that maps it. */
TL_API tl_err tl_model_load(const char *path, tl_model **out, tl_diag *diag);

/* What a model is and what it was trained on. */
typedef struct tl_model_facts {
    const char *name;        /* "ials", ...: the model's kind */
    int32_t n_users;         /* users with a trained history (0 for models that keep none) */
    int32_t n_items;         /* items it can rank */
    int64_t trained_through; /* the watermark: the newest training event's time (Unix
                                seconds), 0 when the events had no times */
    int64_t trained_pairs;   /* (user, item) pairs it was trained on */
    double fit_seconds;      /* the training's wall time, autotune included */
} tl_model_facts;
TL_API void tl_model_facts_of(const tl_model *m, tl_model_facts *out);

/* The model's index of an item id, or -1; and the id at an index (NULL out of range). */
TL_API int32_t tl_model_item_index(const tl_model *m, const char *id);
TL_API const char *tl_model_item_id(const tl_model *m, int32_t index);
/* The model's index of a user with a trained history, or -1. */
TL_API int32_t tl_model_user_index(const tl_model *m, const char *id);

/* Candidate filter for top-n: an item i is a candidate when allow[i] != 0 (NULL: every item)
 * and deny[i] == 0 (NULL: none denied; items withdrawn from the catalogue since training). */
typedef struct tl_filter {
    const uint8_t *allow;
    const uint8_t *deny;
} tl_filter;

/* Top-n for one user from their history (item indices and weights; w NULL = all 1), the
 * history itself excluded. uidx: the model's index of the user, or -1 (the history alone
 * decides). Writes up to n items (best first) to out_items and their scores to out_scores
 * (NULL: not wanted); *n_out = how many, fewer when too few candidates. Errors: TL_EINVAL (an
 * untrained model), TL_ENOMEM, TL_ENUMERIC (the model could not score this history, e.g. a
 * fold-in that could not be factored): nothing is written then. */
TL_API tl_err tl_model_recommend(const tl_model *m, int32_t uidx, const int32_t *items,
                                 const float *w, int32_t n_hist, const tl_filter *f, int n,
                                 int32_t *out_items, float *out_scores, int *n_out);

#ifdef __cplusplus
}
#endif
#endif
