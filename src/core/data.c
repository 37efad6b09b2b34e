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
    tl_attrs_release(&d->attrs);
}

void tl_attrs_release(tl_attrs *a)
{
    for (int32_t k = 0; k < a->n; k++) {
        free(a->cols[k].key);
        tl_intern_release(&a->cols[k].values);
        free(a->cols[k].of_user);
    }
    free(a->cols);
    memset(a, 0, sizeof(*a));
}

const tl_attr *tl_data_attr(const tl_data *d, const char *key)
{
    for (int32_t k = 0; k < d->attrs.n; k++)
        if (strcmp(d->attrs.cols[k].key, key) == 0)
            return &d->attrs.cols[k];
    return NULL;
}

const char *tl_attr_value(const tl_attr *a, int32_t u)
{
    if (u < 0 || u >= a->n_users || a->of_user[u] < 0)
        return NULL;
    return tl_intern_str(&a->values, a->of_user[u]);
}

static tl_err add_attr(tl_attrs *a, const char *key, tl_attr **out)
{
    if (a->n == a->cap) {
        int32_t cap = a->cap ? a->cap * 2 : 8;
        tl_attr *cols = realloc(a->cols, (size_t)cap * sizeof(*cols));
        if (!cols)
            return TL_ENOMEM;
        a->cols = cols;
        a->cap = cap;
    }
    tl_attr *c = &a->cols[a->n];
    memset(c, 0, sizeof(*c));
    if (!(c->key = strdup(key)))
        return TL_ENOMEM;
    tl_intern_init(&c->values);
    a->n++;
    *out = c;
    return TL_OK;
}

tl_err tl_data_set_attr(tl_data *d, int32_t u, const char *key, const char *value, size_t len)
{
    tl_attr *c = (tl_attr *)tl_data_attr(d, key);
    tl_err rc;
    if (!c && (rc = add_attr(&d->attrs, key, &c)) != TL_OK)
        return rc;
    if (u >= c->n_users) {
        /* users arrive in index order: grow to cover those interned so far, at least doubling */
        int64_t n = (int64_t)c->n_users * 2;
        if (n < d->users.count)
            n = d->users.count;
        if (n <= u)
            n = (int64_t)u + 1;
        if (n > INT32_MAX)
            n = INT32_MAX;
        int32_t *of = realloc(c->of_user, (size_t)n * sizeof(*of));
        if (!of)
            return TL_ENOMEM;
        for (int64_t k = c->n_users; k < n; k++)
            of[k] = -1;
        c->of_user = of;
        c->n_users = (int32_t)n;
    }
    return tl_intern_add(&c->values, value, len, &c->of_user[u]);
}

tl_err tl_data_build(tl_data *d, const tl_coo *c, tl_dup dup)
{
    tl_csr_release(&d->ui);
    tl_csr_release(&d->iu);
    tl_err rc = tl_csr_from_coo(c, d->users.count, d->items.count, dup, &d->ui);
    if (rc == TL_OK)
        rc = tl_csr_transpose_no_ts(&d->ui, &d->iu);
    return rc;
}

tl_err tl_data_build_take(tl_data *d, tl_coo *c, tl_dup dup)
{
    tl_csr_release(&d->ui);
    tl_csr_release(&d->iu);
    tl_err rc = tl_csr_from_coo_take(c, d->users.count, d->items.count, dup, &d->ui);
    if (rc == TL_OK)
        rc = tl_csr_transpose_no_ts(&d->ui, &d->iu);
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
