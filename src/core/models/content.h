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

#endif
