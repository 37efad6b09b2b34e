/* Impression rows' blobs and the listing buffer shared by the engines (imp_blob.h). */
#include "store/imp_blob.h"

#include <stdlib.h>
#include <string.h>

#include "util/bytes.h"

#define EDITION_HEAD 12

tl_err tl__imp_user(tl_store *st, const char *user, int64_t *id)
{
    *id = 0;
    if (!user)
        return TL_OK;
    size_t len = strlen(user);
    tl_err r = st->ops->find_id(st, TL_ID_USER, user, len, id);
    return r == TL_OK && !*id ? st->ops->create_id(st, TL_ID_USER, user, len, id) : r;
}

int64_t tl__imp_item_at(const unsigned char *items, int k)
{
    uint64_t v = 0;
    for (int b = 0; b < 8; b++)
        v |= (uint64_t)items[8 * k + b] << (8 * b);
    return (int64_t)v;
}

tl_err tl__imp_row_blobs(tl_store *st, const tl_store_impression *imp, int row,
                         unsigned char **items, int *n_items, unsigned char **eds, int *eds_len)
{
    int n = 0, elen = 0;
    for (int k = 0; k < imp->n_items; k++)
        if (imp->items[k].row == row) {
            n++;
            if (imp->items[k].edition_p >= 0)
                elen += EDITION_HEAD + 4 * imp->items[k].edition_dim;
        }
    *items = malloc((size_t)n * 8 + 1);
    *eds = elen ? malloc((size_t)elen) : NULL;
    if (!*items || (elen && !*eds))
        return TL_ENOMEM;
    int j = 0, at = 0;
    for (int k = 0; k < imp->n_items; k++) {
        const tl_store_imp_item *it = &imp->items[k];
        if (it->row != row)
            continue;
        int64_t id = 0;
        tl_err r = st->ops->find_id(st, TL_ID_ITEM, it->item, strlen(it->item), &id);
        if (r != TL_OK)
            return r;
        for (int b = 0; b < 8; b++)
            (*items)[8 * j + b] = (unsigned char)((uint64_t)id >> (8 * b));
        if (it->edition_p >= 0) {
            tl_put_le32(*eds + at, (uint32_t)it->position);
            tl_put_le32(*eds + at + 4, (uint32_t)it->edition_dim);
            tl_put_lef32(*eds + at + 8, (float)it->edition_p);
            for (int f = 0; f < it->edition_dim; f++)
                tl_put_lef32(*eds + at + EDITION_HEAD + 4 * f, it->edition_x[f]);
            at += EDITION_HEAD + 4 * it->edition_dim;
        }
        j++;
    }
    *n_items = n;
    *eds_len = elen;
    return TL_OK;
}

int tl__imp_place(const unsigned char *items, int n, int64_t item, int position)
{
    if (position >= 0 && position < n && tl__imp_item_at(items, position) == item)
        return position;
    for (int k = 0; k < n; k++)
        if (tl__imp_item_at(items, k) == item)
            return k;
    return -1;
}

void tl__imp_edition_of(const unsigned char *eds, int len, int position, tl_store_imp_hit *hit)
{
    hit->edition_p = -1;
    for (int at = 0; eds && at + EDITION_HEAD <= len;) {
        int pos = (int)tl_get_le32(eds + at), dim = (int)tl_get_le32(eds + at + 4);
        if (dim < 0 || dim > TL_IMP_FEATURES_MAX || at + EDITION_HEAD + 4 * dim > len)
            return;
        if (pos == position) {
            hit->edition_p = tl_get_lef32(eds + at + 8);
            hit->edition_dim = dim;
            for (int f = 0; f < dim; f++)
                hit->edition_x[f] = tl_get_lef32(eds + at + EDITION_HEAD + 4 * f);
            return;
        }
        at += EDITION_HEAD + 4 * dim;
    }
}

static void *grow(void *p, int *cap, int need, size_t size)
{
    if (need <= *cap)
        return p;
    int c = *cap ? *cap : 16;
    while (c < need)
        c *= 2;
    void *q = realloc(p, (size_t)c * size);
    if (q)
        *cap = c;
    return q;
}

static const char *keep_name(tl_imp_buf *b, const char *v)
{
    char **n = grow(b->names, &b->cap_names, b->n_names + 1, sizeof(*b->names));
    if (!n)
        return NULL;
    b->names = n;
    return (b->names[b->n_names++] = strdup(v ? v : ""));
}

tl_err tl__imp_add_row(tl_imp_buf *b, int n, tl_store_imp_row row)
{
    tl_store_imp_row *g = grow(b->rows, &b->cap_rows, n + 1, sizeof(*b->rows));
    if (!g)
        return TL_ENOMEM;
    b->rows = g;
    b->rows[n] = row;
    return TL_OK;
}

tl_err tl__imp_add_reward(tl_imp_buf *b, int n, int row, int position, const char *type, int64_t ts)
{
    tl_store_imp_reward *g = grow(b->rw, &b->cap_rw, n + 1, sizeof(*b->rw));
    if (g)
        b->rw = g;
    const char *name = g ? keep_name(b, type) : NULL;
    if (!name)
        return TL_ENOMEM;
    b->rw[n] = (tl_store_imp_reward){row, position, name, ts};
    return TL_OK;
}

tl_err tl__imp_add_item(tl_imp_buf *b, int *n, int row, int position, const char *item)
{
    tl_store_imp_item *g = grow(b->items, &b->cap_items, *n + 1, sizeof(*b->items));
    if (g)
        b->items = g;
    const char *ext = g ? keep_name(b, item) : NULL;
    if (!ext)
        return TL_ENOMEM;
    b->items[(*n)++] =
        (tl_store_imp_item){.row = row, .position = position, .item = ext, .edition_p = -1};
    return TL_OK;
}

void tl__imp_buf_next(tl_imp_buf *b)
{
    for (int k = 0; k < b->n_names; k++)
        free(b->names[k]);
    b->n_names = 0;
}

void tl__imp_buf_free(tl_imp_buf *b)
{
    tl__imp_buf_next(b);
    free(b->rows);
    free(b->rw);
    free(b->items);
    free(b->names);
}
