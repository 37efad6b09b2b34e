/* The model tables the registry (src/core/model.c) lists; one file per model in this folder. */
#ifndef TL_CORE_MODELS_H
#define TL_CORE_MODELS_H

#include "core/model.h"

extern const tl_model_ops tl_popular_ops;
extern const tl_model_ops tl_itemknn_ops;
extern const tl_model_ops tl_ials_ops;
extern const tl_model_ops tl_ease_ops;
extern const tl_model_ops tl_rp3beta_ops;
extern const tl_model_ops tl_content_ops;
extern const tl_model_ops tl_sequence_ops;
extern const tl_model_ops tl_hybrid_ops;

#endif
