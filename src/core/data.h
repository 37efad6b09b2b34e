/* A training data set in memory: interned ids, the user x item matrix and its transpose,
 * and optional catalogue metadata per item (for content and knowledge-graph models). */
#ifndef TL_CORE_DATA_H
#define TL_CORE_DATA_H

#include "core/csr.h"
#include "util/intern.h"

/* Catalogue metadata indexed like tl_data.items; any array may be NULL, any entry NULL/0.
 * creators and subjects are '|'-separated lists. */
typedef struct tl_catalog {
    int32_t n; /* entries allocated (>= items.count once attached) */
    char **title;
    char **creators;
    char **subjects;
    char **language;
    char **type;   /* book, ebook, article, ... */
    char **format; /* free text, e.g. hardcover, pdf, dvd */
    int32_t *year;
    int32_t *available; /* copies on the shelf now; -1 = unknown (see tl_catalog_reserve) */
    int64_t *added;     /* date added to the collection, Unix seconds, 0 = unknown */
} tl_catalog;

typedef struct tl_data {
    tl_intern users, items;
    tl_csr ui; /* users x items: merged weights, latest timestamp */
    tl_csr iu; /* items x users: the transpose of ui */
    tl_catalog cat;
} tl_data;

void tl_data_init(tl_data *d);
void tl_data_release(tl_data *d);
/* Builds d->ui and d->iu from c, shaped by the interned users and items. Duplicates merge
 * by dup (weights) and keep the latest timestamp. */
tl_err tl_data_build(tl_data *d, const tl_coo *c, tl_dup dup);
/* Makes sure cat arrays cover every interned item (new entries are empty). */
tl_err tl_catalog_reserve(tl_catalog *cat, int32_t n);
void tl_catalog_release(tl_catalog *cat);

#endif
