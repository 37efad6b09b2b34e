/* What the content model offers beyond tl_model_ops: the shared terms behind a recommendation
 * ("because you read books with subject:science-fiction and author:ursula-k-le-guin"). */
#ifndef TL_CORE_MODELS_CONTENT_H
#define TL_CORE_MODELS_CONTENT_H

#include "core/models/models.h"

/* For a trained or loaded content model m: the terms that contribute most to item's score for
 * the history items[0..n) with weights w (NULL = all 1), strongest first. Writes up to max
 * terms (pointers into the model, valid while it lives) and their contributions (they sum to
 * the cosine score over all terms); returns how many, 0 when m is not a content model, item is
 * out of range or nothing is shared. Thread-safe; allocates a profile buffer per call. */
/* 1 when d's catalogue has metadata the content model can use (a title, creators or subjects
 * for some item); without it tl_model_fit of a content model fails. */
int tl_content_applicable(const tl_data *d);

int tl_content_explain_terms(const tl_model *m, const int32_t *items, const float *w, int32_t n,
                             int32_t item, const char **terms, float *contrib, int max);

/* The cosine of each of targets[0..nt) with the profile of the history items[0..n) (weights w,
 * NULL = all 1) into out, as score() ranks them but for those items only and without the
 * popularity tie-break (items nobody has borrowed yet are compared by their metadata alone):
 * the work is the history's and the targets' terms, not the catalogue's. prof: scratch of
 * tl_content_n_terms(m) floats, zeroed, and left zeroed. Thread-safe with a prof per thread.
 * Returns -1 (out untouched) when m is not a content model. */
int tl_content_score_items(const tl_model *m, const int32_t *items, const float *w, int32_t n,
                           const int32_t *targets, int nt, float *out, float *prof);
/* The floats of prof for tl_content_score_items (0 when m is not a content model). */
size_t tl_content_n_terms(const tl_model *m);

#endif
