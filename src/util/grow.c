/* Growing arrays and the catalogue's '|'-separated lists (grow.h). */
#include "util/grow.h"

#include <stdlib.h>
#include <string.h>

tl_err tl_grow(void **arr, int32_t *cap, int32_t n, size_t elem, int32_t first)
{
    if (n < *cap)
        return TL_OK;
    if (*cap > INT32_MAX / 2)
        return TL_ETOOBIG;
    int32_t c = *cap ? *cap * 2 : first;
    void *a = realloc(*arr, (size_t)c * elem);
    if (!a)
        return TL_ENOMEM;
    *arr = a;
    *cap = c;
    return TL_OK;
}

int tl_each_listed(const char *text, char sep, int (*fn)(void *ctx, const char *s, size_t len),
                   void *ctx)
{
    for (const char *p = text; p && *p;) {
        const char *end = strchr(p, sep);
        size_t len = end ? (size_t)(end - p) : strlen(p);
        while (len && (*p == ' ' || *p == '\t'))
            p++, len--;
        while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
            len--;
        int r = len ? fn(ctx, p, len) : 0;
        if (r)
            return r;
        p = end ? end + 1 : NULL;
    }
    return 0;
}
