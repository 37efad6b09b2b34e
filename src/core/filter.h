/* Candidate filters for top-n (type, format, language, subject, year range, availability),
 * evaluated against the catalogue a model carries. Conditions on the same field are
 * alternatives (subject=a, subject=b: either subject); conditions on different fields must all
 * hold (subject=a, year=1990-1999: a subject-a item of the nineties). */
#ifndef TL_CORE_FILTER_H
#define TL_CORE_FILTER_H

#include <stdint.h>

#include "core/model.h"

typedef enum tl_filter_field {
    TL_FILTER_TYPE,      /* exact, case-insensitive */
    TL_FILTER_FORMAT,    /* exact, case-insensitive */
    TL_FILTER_LANGUAGE,  /* exact, case-insensitive */
    TL_FILTER_SUBJECT,   /* one of the item's '|'-separated subjects, case-insensitive */
    TL_FILTER_YEAR,      /* year_min..year_max */
    TL_FILTER_AVAILABLE, /* at least one copy on the shelf */
    TL_FILTER_NFIELDS
} tl_filter_field;

typedef struct tl_filter_cond {
    tl_filter_field field;
    const char *value; /* text fields; referenced, not copied */
    int32_t year_min, year_max;
} tl_filter_cond;

#define TL_FILTER_MAX 64 /* conditions in one spec */

typedef struct tl_filter_spec {
    tl_filter_cond c[TL_FILTER_MAX];
    int n;
} tl_filter_spec; /* zeroed = no condition */

/* Parses one "key=value" filter (type=, format=, language=, subject=, year=A-B, year=A,
 * available) and appends it to s; values are referenced, not copied. TL_EINVAL with diag for an
 * unknown key, a bad value or more than TL_FILTER_MAX conditions. */
tl_err tl_filter_parse(tl_filter_spec *s, const char *text, tl_diag *diag);

/* allow[i] = 1 when item i passes s (see the top of this file). Items without metadata fail any
 * condition on that field. TL_EINVAL when s has conditions and the model carries no catalogue
 * (it was trained from a file without --items); diag says so. */
tl_err tl_filter_build(const tl_model *m, const tl_filter_spec *s, uint8_t *allow, tl_diag *diag);

/* Sets scores[i] to -INFINITY for each item f does not let through (f NULL: none). */
void tl_filter_apply(const tl_filter *f, float *scores, int32_t n_items);

#endif
