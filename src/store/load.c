/* From the store to the in-memory training data: items and users are interned in id order
 * (users with their attributes, flattened from JSON to text so that core needs no JSON), then
 * one streaming pass over the events turns each into a weighted COO entry, and the CSR
 * (users x items) and its transpose are built from that. Engine-neutral: uses the scans. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/data.h"
#include "store/store_int.h"

/* store id -> dense index; ids are rowids, dense in practice, so an array beats a hash */
typedef struct id_map {
    int32_t *idx; /* -1 = none */
    int64_t cap;
} id_map;

typedef struct loader {
    tl_data *d;
    const tl_event_weights *w;
    id_map users, items;
    unsigned char *optout; /* by user index: 1 = personalization off */
    int32_t optcap;
    int32_t *type_entry; /* by type id: index in the weights table */
    int64_t ntypes;
    tl_coo coo;
    long long ignored;
    char bad_user[80]; /* the user whose attributes are not a JSON object */
} loader;

static tl_err map_set(id_map *m, int64_t id, int32_t idx)
{
    if (id <= 0)
        return TL_ECORRUPT;
    if (id >= m->cap) {
        int64_t cap = m->cap ? m->cap : 1024;
        while (cap <= id)
            cap *= 2;
        int32_t *a = realloc(m->idx, (size_t)cap * sizeof(*a));
        if (!a)
            return TL_ENOMEM;
        memset(a + m->cap, 0xff, (size_t)(cap - m->cap) * sizeof(*a)); /* -1 */
        m->idx = a;
        m->cap = cap;
    }
    m->idx[id] = idx;
    return TL_OK;
}

static int32_t map_get(const id_map *m, int64_t id)
{
    return id > 0 && id < m->cap ? m->idx[id] : -1;
}

static tl_err dup_to(char **dst, const char *s)
{
    if (!s || !*s)
        return TL_OK;
    return (*dst = strdup(s)) ? TL_OK : TL_ENOMEM;
}

static tl_err on_item(void *ctx, const tl_store_item_row *r)
{
    loader *L = ctx;
    tl_data *d = L->d;
    int32_t i;
    tl_err rc = tl_intern_add(&d->items, r->ext, r->ext_len, &i);
    if (rc != TL_OK || (rc = map_set(&L->items, r->id, i)) != TL_OK)
        return rc;
    /* reserved for the whole count up front; this only runs if items appeared meanwhile */
    if (i >= d->cat.n && (rc = tl_catalog_reserve(&d->cat, d->items.count)) != TL_OK)
        return rc;
    tl_catalog *c = &d->cat;
    if ((rc = dup_to(&c->title[i], r->title)) != TL_OK ||
        (rc = dup_to(&c->creators[i], r->authors)) != TL_OK ||
        (rc = dup_to(&c->subjects[i], r->subjects)) != TL_OK ||
        (rc = dup_to(&c->language[i], r->language)) != TL_OK ||
        (rc = dup_to(&c->type[i], r->type)) != TL_OK ||
        (rc = dup_to(&c->format[i], r->format)) != TL_OK)
        return rc;
    c->available[i] = r->available == TL_ABSENT ? -1 : (int32_t)r->available;
    c->year[i] = r->year == TL_ABSENT ? 0 : (int32_t)r->year;
    c->added[i] = r->added == TL_ABSENT ? 0 : r->added;
    return TL_OK;
}

/* User u's attributes: the top-level scalars of the JSON object text, as text (numbers as
 * written, true / false); nulls, arrays and objects are not attributes. */
static tl_err set_attrs(loader *L, int32_t u, const char *ext, size_t len, const char *attrs)
{
    json_t *o = json_loads(attrs, 0, NULL);
    const char *key;
    json_t *v;
    tl_err rc = TL_OK;
    if (!json_is_object(o)) {
        snprintf(L->bad_user, sizeof(L->bad_user), "%.*s", (int)(len > 64 ? 64 : len), ext);
        json_decref(o);
        return TL_ECORRUPT;
    }
    json_object_foreach(o, key, v)
    {
        char num[64];
        const char *s = num;
        size_t n;
        if (json_is_string(v)) {
            s = json_string_value(v);
            n = json_string_length(v);
        } else if (json_is_integer(v)) {
            n = (size_t)snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        } else if (json_is_real(v)) {
            n = (size_t)snprintf(num, sizeof(num), "%.15g", json_real_value(v));
        } else if (json_is_boolean(v)) {
            s = json_is_true(v) ? "true" : "false";
            n = strlen(s);
        } else {
            continue;
        }
        if ((rc = tl_data_set_attr(L->d, u, key, s, n)) != TL_OK)
            break;
    }
    json_decref(o);
    return rc;
}

static tl_err on_user(void *ctx, int64_t id, const char *ext, size_t len, int personalize,
                      const char *attrs)
{
    loader *L = ctx;
    int32_t u;
    tl_err rc = tl_intern_add(&L->d->users, ext, len, &u);
    if (rc != TL_OK || (rc = map_set(&L->users, id, u)) != TL_OK)
        return rc;
    if (attrs && (rc = set_attrs(L, u, ext, len, attrs)) != TL_OK)
        return rc;
    if (u >= L->optcap) {
        int32_t cap = L->optcap ? L->optcap * 2 : 1024;
        unsigned char *o = realloc(L->optout, (size_t)cap);
        if (!o)
            return TL_ENOMEM;
        L->optout = o;
        L->optcap = cap;
    }
    L->optout[u] = personalize == 0;
    return TL_OK;
}

static tl_err on_type(void *ctx, int64_t id, const char *name)
{
    loader *L = ctx;
    if (id <= 0)
        return TL_ECORRUPT;
    if (id >= L->ntypes) {
        int64_t n = id + 16;
        int32_t *t = realloc(L->type_entry, (size_t)n * sizeof(*t));
        if (!t)
            return TL_ENOMEM;
        for (int64_t k = L->ntypes; k < n; k++)
            t[k] = -1;
        L->type_entry = t;
        L->ntypes = n;
    }
    L->type_entry[id] = tl_event_weights_find(L->w, name);
    return TL_OK;
}

static tl_err on_event(void *ctx, int64_t user, int64_t item, int64_t type, int has_value,
                       double value, int64_t ts)
{
    loader *L = ctx;
    int32_t u = map_get(&L->users, user), i = map_get(&L->items, item);
    if (u < 0 || i < 0 || type <= 0 || type >= L->ntypes)
        return TL_ECORRUPT; /* foreign keys make this impossible in a healthy store */
    float wt =
        L->optout[u] ? 0.0f : tl_event_weight_at(L->w, L->type_entry[type], has_value, value);
    if (wt <= 0) {
        L->ignored++;
        return TL_OK;
    }
    return tl_coo_push(&L->coo, u, i, wt, ts);
}

tl_err tl_store_load_data(tl_store *st, const tl_event_weights *w, tl_data *out, tl_diag *d)
{
    tl_event_weights saved;
    loader L;
    tl_err rc;
    memset(&L, 0, sizeof(L));
    if (!w) {
        if ((rc = tl_store_event_weights(st, &saved, d)) != TL_OK)
            return rc;
        w = &saved;
    }
    L.d = out;
    L.w = w;
    tl_store_counts n;
    if ((rc = tl_store_count(st, &n)) != TL_OK)
        goto out;
    if (n.users > INT32_MAX - 1 || n.items > INT32_MAX - 1) {
        rc = TL_ETOOBIG;
        goto out;
    }
    if ((rc = tl_coo_init(&L.coo, n.events, 1)) != TL_OK)
        goto out;
    if ((rc = tl_catalog_reserve(&out->cat, (int32_t)n.items)) != TL_OK)
        goto out;
    if ((rc = st->ops->scan_items(st, on_item, &L)) != TL_OK ||
        (rc = st->ops->scan_users(st, on_user, &L)) != TL_OK ||
        (rc = st->ops->scan_types(st, on_type, &L)) != TL_OK ||
        (rc = st->ops->scan_events(st, on_event, &L)) != TL_OK)
        goto out;
    if ((rc = tl_catalog_reserve(&out->cat, out->items.count)) != TL_OK)
        goto out;
    rc = tl_data_build_take(out, &L.coo, w->merge_max ? TL_DUP_MAX : TL_DUP_SUM);
out:
    if (rc == TL_ECORRUPT && L.bad_user[0])
        tl_diag_set(d, NULL, 0, NULL, "store: user '%s' has attributes that are not a JSON object",
                    L.bad_user);
    else if (rc == TL_ECORRUPT)
        tl_diag_set(d, NULL, 0, NULL,
                    "store: an event names a user, item or type that does not exist");
    else if (rc != TL_OK)
        tl__store_fail(st, rc, d);
    tl_coo_release(&L.coo);
    free(L.users.idx);
    free(L.items.idx);
    free(L.optout);
    free(L.type_entry);
    return rc;
}
