/* EASE's private parts shared by its two files: the closed-form fit and serving (ease.c) and
 * the lambda search path (ease_path.c). */
#ifndef TL_CORE_MODELS_EASE_INT_H
#define TL_CORE_MODELS_EASE_INT_H

#include <stdint.h>

/* The parameters, as ease.c's table binds them (m->cfg of an ease model). */
typedef struct tl__ease_cfg {
    double lambda;
    int max_memory_mb;
    int sparse;
    int k;
    int max_items;
    int min_count;
    int fp64;
} tl__ease_cfg;

#endif
