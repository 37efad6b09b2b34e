/* What the hybrid model offers beyond tl_model_ops (core/models/hybrid.c). */
#ifndef TL_CORE_MODELS_HYBRID_H
#define TL_CORE_MODELS_HYBRID_H

#include "core/model.h"

/* The member of hybrid m whose evidence explains item for this history: the one (among members
 * that can explain) that adds the most to item's blended score; the hybrid's explain returns that
 * member's explanation. NULL when m is not a trained hybrid, item is out of range, no member can
 * explain, or memory ran out. Thread-safe like score. */
const tl_model *tl_hybrid_explainer(const tl_model *m, int32_t uidx, const int32_t *items,
                                    const float *w, int32_t n, int32_t item);

#endif
