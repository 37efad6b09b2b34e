/* The catalogue and patrons' records, one by one or in batches: JSON objects validated by the
 * importer's own rules (tl_ingest_json), written to the store all or none in one transaction;
 * reads through a pooled read connection; deletes with their events. */
#include <stdio.h>
#include <string.h>

#include "service/service_int.h"

static const char *const kind_field[] = {[TL_RECORD_ITEM] = "item", [TL_RECORD_USER] = "user"};

typedef struct put_ctx {
    tl_store *st;
    tl_record_kind kind;
    tl_record_how how;
    const char *id; /* the id every record must have, or NULL */
    tl_record_report *rep;
} put_ctx;

/* Existence checks read nothing of the record. */
static tl_err item_seen(void *ctx, const tl_item_rec *r)
{
    (void)ctx;
    (void)r;
    return TL_OK;
}

static tl_err user_seen(void *ctx, const tl_user_rec *r)
{
    (void)ctx;
    (void)r;
    return TL_OK;
}

/* *found = whether the store has the record ext of c->kind. */
static tl_err exists(const put_ctx *c, const char *ext, size_t len, int *found, tl_diag *d)
{
    if (c->kind == TL_RECORD_ITEM)
        return tl_store_get_item(c->st, ext, len, item_seen, NULL, found, d);
    return tl_store_get_user(c->st, ext, len, user_seen, NULL, found, d);
}

/* What a record's id must satisfy before the write, as c->how and c->id say. */
static tl_err check_record(const put_ctx *c, const char *ext, size_t len, tl_diag *d)
{
    if (c->id && (strlen(c->id) != len || memcmp(c->id, ext, len) != 0)) {
        tl_diag_set(d, NULL, 0, "id", "the record's id '%.*s' is not the id of the path",
                    (int)(len > 80 ? 80 : len), ext);
        return TL_EINVAL;
    }
    if (c->how != TL_RECORD_CREATE)
        return TL_OK;
    int found = 0;
    tl_err rc = exists(c, ext, len, &found, d);
    if (rc == TL_OK && found) {
        tl_diag_set(d, NULL, 0, "id", "the %s '%.*s' exists already", kind_field[c->kind],
                    (int)(len > 80 ? 80 : len), ext);
        rc = TL_EEXIST;
    }
    return rc;
}

static void count(tl_record_report *rep, tl_put what)
{
    if (rep)
        *(what == TL_PUT_ADDED     ? &rep->added
          : what == TL_PUT_UPDATED ? &rep->updated
                                   : &rep->unchanged) += 1;
}

/* Writes one record, it or u, as c->how says. */
static tl_err put_one(put_ctx *c, const tl_item_rec *it, const tl_user_rec *u, tl_diag *d)
{
    tl_put what = TL_PUT_UNCHANGED;
    int whole = c->how == TL_RECORD_REPLACE || c->how == TL_RECORD_CREATE;
    tl_err rc = it ? check_record(c, it->id, it->id_len, d) : check_record(c, u->id, u->id_len, d);
    if (rc == TL_OK && it)
        rc = whole ? tl_store_replace_item(c->st, it, &what, d)
                   : tl_store_put_item(c->st, it, &what, d);
    else if (rc == TL_OK)
        rc = whole ? tl_store_replace_user(c->st, u, &what, d)
                   : tl_store_put_user(c->st, u, &what, d);
    if (rc == TL_OK)
        count(c->rep, what);
    return rc;
}

static tl_err put_item(void *ctx, const tl_item_rec *r, tl_diag *d)
{
    return put_one(ctx, r, NULL, d);
}

static tl_err put_user(void *ctx, const tl_user_rec *r, tl_diag *d)
{
    return put_one(ctx, NULL, r, d);
}

static tl_err keep_type(void *ctx, const tl_item_rec *r)
{
    snprintf(ctx, TL_EVENT_TYPE_MAX + 1, "%s", r->type ? r->type : "other");
    return TL_OK;
}

/* A merge needs the record: TL_ENOTFOUND without it; an item keeps its type unless given. */
static tl_err merge_target(const put_ctx *c, char *type, tl_diag *d)
{
    int found = 0;
    tl_err rc = c->kind == TL_RECORD_ITEM
                    ? tl_store_get_item(c->st, c->id, strlen(c->id), keep_type, type, &found, d)
                    : tl_store_get_user(c->st, c->id, strlen(c->id), user_seen, NULL, &found, d);
    if (rc == TL_OK && !found) {
        tl_diag_set(d, NULL, 0, "id", "no %s '%.80s' in the store", kind_field[c->kind], c->id);
        rc = TL_ENOTFOUND;
    }
    return rc;
}

tl_err tl_service_put_records(tl_service *s, tl_record_kind kind, tl_record_how how,
                              const char *const *json, const size_t *len, size_t n, const char *id,
                              tl_record_report *rep, size_t *bad, tl_diag *d)
{
    tl_err rc = tl__service_need_writer(s, "items and users", d);
    if (rc != TL_OK)
        return rc;
    if (how == TL_RECORD_MERGE && !id) {
        tl_diag_set(d, NULL, 0, "id", "a merge needs the record's id");
        return TL_EINVAL;
    }
    tl_record_report counts = {0};
    char type[TL_EVENT_TYPE_MAX + 1] = "";
    put_ctx c = {.st = s->writer, .kind = kind, .how = how, .id = id, .rep = &counts};
    tl_ingest_sink sink = {.ctx = &c, .item = put_item, .user = put_user};
    tl_ingest_opts o;
    tl_ingest_opts_init(&o);
    o.kind = kind == TL_RECORD_ITEM ? TL_INGEST_ITEMS : TL_INGEST_USERS;
    pthread_mutex_lock(&s->write_mu);
    rc = tl_store_begin(s->writer);
    if (rc == TL_OK && how == TL_RECORD_MERGE && (rc = merge_target(&c, type, d)) == TL_OK &&
        type[0])
        o.default_type = type;
    for (size_t k = 0; rc == TL_OK && k < n; k++)
        if ((rc = tl_ingest_json(&o, json[k], len[k], &sink, d)) != TL_OK && bad)
            *bad = k;
    if (rc == TL_OK)
        rc = tl_store_commit(s->writer);
    else if (tl_store_rollback(s->writer) != TL_OK && rc == TL_OK)
        rc = TL_ESTORE;
    pthread_mutex_unlock(&s->write_mu);
    if (rc == TL_ESTORE && !d->msg[0])
        tl_diag_set(d, NULL, 0, NULL, "store: %s", tl_store_errmsg(s->writer));
    if (rc == TL_OK && rep)
        *rep = counts;
    return rc;
}

/* Reads one record through a pooled read connection. */
static tl_err get_record(tl_service *s, tl_record_kind kind, const char *id, tl_item_fn item_fn,
                         tl_user_fn user_fn, void *ctx, tl_diag *d)
{
    tl_store *st = NULL;
    int found = 0;
    if (!s->db) {
        tl_diag_set(d, NULL, 0, NULL, "no store: records need one (--db)");
        return TL_EUNSUPPORTED;
    }
    tl_err rc = tl__service_reader(s, &st, d);
    if (rc != TL_OK)
        return rc;
    size_t len = strlen(id);
    rc = kind == TL_RECORD_ITEM ? tl_store_get_item(st, id, len, item_fn, ctx, &found, d)
                                : tl_store_get_user(st, id, len, user_fn, ctx, &found, d);
    tl__service_reader_done(s, st);
    if (rc == TL_OK && !found) {
        tl_diag_set(d, NULL, 0, kind_field[kind], "no %s '%.80s' in the store", kind_field[kind],
                    id);
        rc = TL_ENOTFOUND;
    }
    return rc;
}

tl_err tl_service_get_item(tl_service *s, const char *id, tl_item_fn fn, void *ctx, tl_diag *d)
{
    return get_record(s, TL_RECORD_ITEM, id, fn, NULL, ctx, d);
}

tl_err tl_service_get_user(tl_service *s, const char *id, tl_user_fn fn, void *ctx, tl_diag *d)
{
    return get_record(s, TL_RECORD_USER, id, NULL, fn, ctx, d);
}

tl_err tl_service_delete_record(tl_service *s, tl_record_kind kind, const char *id,
                                long long *events, tl_diag *d)
{
    if (kind == TL_RECORD_USER) { /* one way to remove a patron: the audited, scrubbed erasure */
        tl_erase_report rep;
        tl_err rc = tl_service_user_erase(s, id, NULL, &rep, d);
        if (rc == TL_OK && events)
            *events = rep.events;
        return rc;
    }
    tl_err rc = tl__service_need_writer(s, "items and users", d);
    if (rc != TL_OK)
        return rc;
    pthread_mutex_lock(&s->write_mu);
    rc = tl_store_delete_item(s->writer, id, strlen(id), events, d);
    pthread_mutex_unlock(&s->write_mu);
    if (rc == TL_ENOTFOUND)
        snprintf(d->field, sizeof(d->field), "%s", kind_field[kind]);
    return rc;
}
