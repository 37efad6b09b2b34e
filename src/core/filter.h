/* Candidate filters for top-n (type, format, language, subject, year range, availability),
 * evaluated against the catalogue a model carries. */
#ifndef TL_CORE_FILTER_H
#define TL_CORE_FILTER_H

#include <stdint.h>

#include "core/model.h"

typedef struct tl_filter_spec {
    const char *type;           /* exact, case-insensitive; NULL = any */
    const char *format;         /* exact, case-insensitive */
    const char *language;       /* exact, case-insensitive */
    const char *subject;        /* one of the item's '|'-separated subjects, case-insensitive */
    int32_t year_min, year_max; /* 0 = open */
    int available_only;         /* only items with at least one copy on the shelf */
} tl_filter_spec;

/* Parses one "key=value" filter (type=, format=, language=, subject=, year=A-B, year=A,
 * available) into s; values are referenced, not copied. TL_EINVAL with diag otherwise. */
tl_err tl_filter_parse(tl_filter_spec *s, const char *text, tl_diag *diag);

/* allow[i] = 1 when item i passes every condition of s. Items without metadata fail any
 * condition on that field. TL_EINVAL when s asks for metadata the model does not carry. */
tl_err tl_filter_build(const tl_model *m, const tl_filter_spec *s, uint8_t *allow, tl_diag *diag);

#endif
