/* A training data set in memory: interned ids, the user x item matrix and its transpose,
 * optional catalogue metadata per item (for content and knowledge-graph models) and optional
 * user attributes (for per-segment models). */
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

/* One user attribute (department, level, home branch...) as text. Core never parses JSON: the
 * store flattens each user's attribute object to its top-level scalar values. */
typedef struct tl_attr {
    char *key;
    tl_intern values; /* the distinct values, in first-seen order */
    int32_t *of_user; /* by user index: the index of the user's value in values, -1 = none */
    int32_t n_users;  /* entries of of_user (users beyond have none) */
} tl_attr;

/* The attributes that at least one user has, in first-seen order. */
typedef struct tl_attrs {
    int32_t n, cap;
    tl_attr *cols;
} tl_attrs;

typedef struct tl_data {
    tl_intern users, items;
    tl_csr ui; /* users x items: merged weights, latest timestamp (ts NULL: none) */
    tl_csr iu; /* items x users: the transpose of ui, weights only: the time of a cell is
                  read from ui (built by tl_data_build and tl_synth_powerlaw without ts) */
    tl_catalog cat;
    tl_attrs attrs; /* empty unless the data came from the store's users */
} tl_data;

void tl_data_init(tl_data *d);
void tl_data_release(tl_data *d);
/* Builds d->ui and d->iu from c, shaped by the interned users and items. Duplicates merge
 * by dup (weights) and keep the latest timestamp (in d->ui only; d->iu gets none). */
tl_err tl_data_build(tl_data *d, const tl_coo *c, tl_dup dup);
/* Sets user u's (an index of d->users) value of the attribute key to value[0..len), adding
 * the attribute when no user had it; a second value replaces the first. TL_ENOMEM, TL_ETOOBIG
 * (over 2^31 distinct values). */
tl_err tl_data_set_attr(tl_data *d, int32_t u, const char *key, const char *value, size_t len);
/* The attribute named key, or NULL when no user has it. */
const tl_attr *tl_data_attr(const tl_data *d, const char *key);
/* User u's value of a (NUL-terminated, owned by a), or NULL when u has none. */
const char *tl_attr_value(const tl_attr *a, int32_t u);
void tl_attrs_release(tl_attrs *a);

/* tl_data_build that consumes c: ui is built in c's own arrays (tl_csr_from_coo_take), so
 * the triplets and the matrix are never held together. The same d as tl_data_build; peak: c
 * (with its spare capacity), then ui + iu. c is released on return, on error too. */
tl_err tl_data_build_take(tl_data *d, tl_coo *c, tl_dup dup);
/* Makes sure cat arrays cover every interned item (new entries are empty). */
tl_err tl_catalog_reserve(tl_catalog *cat, int32_t n);
void tl_catalog_release(tl_catalog *cat);

#endif
