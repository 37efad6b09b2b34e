/* Small helpers for the arrays and lists Tailor builds as it reads: an array that doubles when
 * full, and the '|'-separated lists of the catalogue (subjects, creators). */
#ifndef TL_UTIL_GROW_H
#define TL_UTIL_GROW_H

#include <stddef.h>
#include <stdint.h>

#include "tailor/error.h"

/* Makes room for one more element of size elem in *arr holding n of *cap: doubles *cap (from
 * first) when n == *cap. TL_ENOMEM (the array is kept) or TL_ETOOBIG past INT32_MAX. */
tl_err tl_grow(void **arr, int32_t *cap, int32_t n, size_t elem, int32_t first);

/* fn(ctx, item, len) for each sep-separated item of text with its blanks trimmed, empty ones
 * skipped, until fn returns non-zero, which is returned (0 when every item was seen). */
int tl_each_listed(const char *text, char sep, int (*fn)(void *ctx, const char *s, size_t len),
                   void *ctx);

#endif
