/* What makes two items of a catalogue alike, as integers: each item's subjects and creators,
 * interned once per model from the catalogue's '|'-separated text, so that the re-rankers
 * (rerank.h) compare sorted id lists instead of strings on every request. Core only. */
#ifndef TL_CORE_FACETS_H
#define TL_CORE_FACETS_H

#include <stdint.h>

#include "core/data.h"

typedef struct tl_facets {
    int32_t n_items;
    int32_t n_subjects; /* feature ids below this are subjects, the others creators */
    int32_t n_features;
    int64_t *ptr;           /* n_items + 1: item i's features are feat[ptr[i]..ptr[i+1]) */
    int32_t *feat;          /* ascending, distinct: the subjects first, then the creators */
    int32_t *n_subj;        /* item i's subjects: its first n_subj[i] features */
    int32_t *first_creator; /* the feature id of item i's first creator, -1 = none */
} tl_facets;

/* Builds f for items 0..n_items) from cat (entries beyond cat->n, or without text, have no
 * features). Subjects and creators are trimmed and compared without ASCII case. TL_ENOMEM,
 * TL_ETOOBIG; f is left empty (and releasable) on error. */
tl_err tl_facets_build(const tl_catalog *cat, int32_t n_items, tl_facets *f);
void tl_facets_release(tl_facets *f);

/* The Jaccard similarity of items a and b's feature sets (0 when either has none). */
float tl_facets_jaccard(const tl_facets *f, int32_t a, int32_t b);

#endif
