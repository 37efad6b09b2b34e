/* Private to src/ingest: a circulation layout as the import engine reads it (tailor/ingest.h
 * tl_ingest_layout). Column names are kept normalized as the engine normalizes a header
 * (lowercase, '_' for blanks, dashes and dots), as comma-separated alternatives. */
#ifndef TL_INGEST_LAYOUT_H
#define TL_INGEST_LAYOUT_H

#include "tailor/ingest.h"

/* The columns a layout may name. */
typedef enum tl_layout_col {
    TL_LC_USER,     /* the patron (required) */
    TL_LC_ITEM,     /* the catalogue record (Koha's biblionumber): wins over copy when given */
    TL_LC_COPY,     /* the ILS's copy (Koha's itemnumber), resolved through the holdings */
    TL_LC_TYPE,     /* the ILS's event type, through the map */
    TL_LC_TIME,     /* when it happened */
    TL_LC_RETURNED, /* a loan's return time: a value adds a "return" event */
    TL_LC_BRANCH,   /* where */
    TL_LC_VALUE,
    TL_LC_N
} tl_layout_col;

#define TL_LAYOUT_MAP_MAX 64
#define TL_LAYOUT_NAME_MAX 64

struct tl_ingest_layout {
    char name[TL_LAYOUT_NAME_MAX];
    char delim;
    int quoting;
    char *cols[TL_LC_N]; /* NULL: the layout has no such column */
    char default_type[TL_EVENT_TYPE_MAX + 1];
    char date_format[TL_LAYOUT_NAME_MAX]; /* "iso" */
    int nmap;
    struct {
        char from[TL_EVENT_TYPE_MAX + 1]; /* lowercase */
        char to[TL_EVENT_TYPE_MAX + 1];   /* "" = ignore such rows */
    } map[TL_LAYOUT_MAP_MAX];
};

/* Tailor's event type for the ILS's type from[0..n) (any case, blanks around ignored):
 * 1 with *to = its map entry; 0 when the row is to be ignored (mapped to "ignore", or not in
 * a layout that maps types); -1 when the layout maps no type (types are kept as written). */
int tl__layout_type(const tl_ingest_layout *l, const char *from, size_t n, const char **to);

#endif
