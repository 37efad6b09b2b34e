/* The one grid syntax of Tailor's parameter searches: a model's own search space (its
 * tune_grid, see core/model.h), autotune's and `tailor tune --grid`'s all read it.
 *
 *   grid := axis (';' axis)*
 *   axis := key '=' v1 ',' v2 ...      try these values
 *         | key '=' '~' F ['@' C]       log scale around a centre: from C/F to C*F (F > 1), C
 *                                       given, or else the model's data-derived centre
 *
 * e.g. "lambda=~30" or "factors=64,128;reg=~10;alpha=~10". Axes come in order of importance. */
#ifndef TL_EVAL_GRID_H
#define TL_EVAL_GRID_H

#include "tailor/error.h"

#define TL_GRID_MAX_AXES 8
#define TL_GRID_MAX_VALUES 32
#define TL_GRID_VALUE_MAX 32 /* bytes of one value, NUL included */

typedef enum tl_axis_kind { TL_AXIS_VALUES, TL_AXIS_LOG } tl_axis_kind;

typedef struct tl_grid_axis {
    char key[32];
    tl_axis_kind kind;
    int n; /* VALUES: how many */
    char values[TL_GRID_MAX_VALUES][TL_GRID_VALUE_MAX];
    double span;   /* LOG: F */
    double centre; /* LOG: C, or 0 = the data-derived centre */
} tl_grid_axis;

typedef struct tl_grid {
    int n;
    tl_grid_axis ax[TL_GRID_MAX_AXES];
} tl_grid;

/* Parses text into g. TL_EINVAL with diag (field "grid") naming the bad axis. */
tl_err tl_grid_parse(const char *text, tl_grid *g, tl_diag *diag);
/* Appends the axes of text to g (same errors; a key already in g is an error). */
tl_err tl_grid_append(tl_grid *g, const char *text, tl_diag *diag);
/* Index of key in g, or -1. */
int tl_grid_find(const tl_grid *g, const char *key);

#endif
