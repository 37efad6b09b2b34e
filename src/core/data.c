/* Lifecycle of the in-memory data set. */
#include "core/data.h"

#include <stdlib.h>
#include <string.h>

void tl_data_init(tl_data *d)
{
    memset(d, 0, sizeof(*d));
    tl_intern_init(&d->users);
    tl_intern_init(&d->items);
}

void tl_catalog_release(tl_catalog *cat)
{
    for (int32_t i = 0; i < cat->n; i++) {
        if (cat->title)
            free(cat->title[i]);
        if (cat->creators)
            free(cat->creators[i]);
        if (cat->subjects)
            free(cat->subjects[i]);
        if (cat->language)
            free(cat->language[i]);
        if (cat->type)
            free(cat->type[i]);
        if (cat->format)
            free(cat->format[i]);
    }
    free(cat->title);
    free(cat->creators);
    free(cat->subjects);
    free(cat->language);
    free(cat->type);
    free(cat->format);
    free(cat->available);
    free(cat->year);
    free(cat->added);
    memset(cat, 0, sizeof(*cat));
}

void tl_data_release(tl_data *d)
{
    tl_intern_release(&d->users);
    tl_intern_release(&d->items);
    tl_csr_release(&d->ui);
    tl_csr_release(&d->iu);
    tl_catalog_release(&d->cat);
}

tl_err tl_data_build(tl_data *d, const tl_coo *c, tl_dup dup)
{
    tl_csr_release(&d->ui);
    tl_csr_release(&d->iu);
    tl_err rc = tl_csr_from_coo(c, d->users.count, d->items.count, dup, &d->ui);
    if (rc == TL_OK)
        rc = tl_csr_transpose(&d->ui, &d->iu);
    return rc;
}

#define GROW_ZERO(arr, oldn, newn)                                                                 \
    do {                                                                                           \
        void *p_ = realloc((arr), (size_t)(newn) * sizeof(*(arr)));                                \
        if (!p_)                                                                                   \
            return TL_ENOMEM;                                                                      \
        (arr) = p_;                                                                                \
        memset((arr) + (oldn), 0, (size_t)((newn) - (oldn)) * sizeof(*(arr)));                     \
    } while (0)

tl_err tl_catalog_reserve(tl_catalog *cat, int32_t n)
{
    if (n <= cat->n)
        return TL_OK;
    GROW_ZERO(cat->title, cat->n, n);
    GROW_ZERO(cat->creators, cat->n, n);
    GROW_ZERO(cat->subjects, cat->n, n);
    GROW_ZERO(cat->language, cat->n, n);
    GROW_ZERO(cat->type, cat->n, n);
    GROW_ZERO(cat->format, cat->n, n);
    GROW_ZERO(cat->year, cat->n, n);
    GROW_ZERO(cat->available, cat->n, n);
    for (int32_t i = cat->n; i < n; i++)
        cat->available[i] = -1;
    GROW_ZERO(cat->added, cat->n, n);
    cat->n = n;
    return TL_OK;
}
