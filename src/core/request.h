/* What answering one patron needs beyond a model's top-n: the kind of evidence behind each
 * recommendation ("because you borrowed X", "next after X", "similar to X"), and the most
 * popular items for a patron without a usable history, instead of scores that are all zero. */
#ifndef TL_CORE_REQUEST_H
#define TL_CORE_REQUEST_H

#include "core/model.h"

typedef enum tl_reason_kind {
    TL_REASON_HISTORY,         /* patrons with these items also had it (factor, neighbour models) */
    TL_REASON_NEXT_AFTER,      /* borrowed next after these (sequence) */
    TL_REASON_SIMILAR_CONTENT, /* titles, authors, subjects like these (content) */
    TL_REASON_POPULAR,         /* popular with patrons; no personal evidence */
} tl_reason_kind;

/* "history", "next_after", "similar_content", "popular". */
const char *tl_reason_kind_name(tl_reason_kind k);

/* The kind of evidence the explain of the model named name gives. */
tl_reason_kind tl_reason_kind_of(const char *name);

/* m's explanation of item for a history (as tl_model_ops.explain: up to max history positions
 * and contributions, strongest first; returns how many) and its kind in *kind. For a hybrid the
 * member that explains the item decides the kind. A model without explain returns 0 with kind
 * popular for the popular model, history otherwise. */
int tl_model_explain(const tl_model *m, int32_t uidx, const int32_t *items, const float *w,
                     int32_t n, int32_t item, int32_t *why, float *contrib, int max,
                     tl_reason_kind *kind);

/* tl_model_explain for each of targets[0..nt): target t's evidence at why/contrib + t * max,
 * how many in got[t], its kind in kind_of[t]. The work shared by the targets is done once where
 * the model can (iALS factors the history once). */
void tl_model_explain_many(const tl_model *m, int32_t uidx, const int32_t *items, const float *w,
                           int32_t n, const int32_t *targets, int nt, int32_t *why, float *contrib,
                           int max, int *got, tl_reason_kind *kind_of);

/* The items most patrons of the model's training histories have (ties by index), allowed by f
 * (NULL = all) and not in exclude[0..n_exclude), best first: up to n into out_items, with the
 * number of patrons as the score; *n_out = how many. For a patron without a usable history.
 * TL_EUNSUPPORTED when the model carries no training histories, TL_ENOMEM. */
tl_err tl_model_popular(const tl_model *m, const int32_t *exclude, int32_t n_exclude,
                        const tl_filter *f, int n, int32_t *out_items, float *out_scores,
                        int *n_out);

#endif
