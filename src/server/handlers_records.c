/* /v1/items and /v1/users: the catalogue's and patrons' records, one by one (POST creates, PUT
 * replaces, PATCH merges, GET, DELETE) and in batches (POST .../bulk, all or none). Bodies
 * become record texts here; the service validates them as `tailor import` does and writes
 * them in one transaction. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/handlers.h"
#include "server/http_json.h"
#include "server/catalogue_json.h"
#include "server/records_json.h"

static const char *const invalid_code[] = {
    [TL_RECORD_ITEM] = "invalid_item", [TL_RECORD_USER] = "invalid_user"};

static tl_err item_out(void *ctx, const tl_item_rec *r)
{
    *(json_t **)ctx = tl__item_json(r);
    return *(json_t **)ctx ? TL_OK : TL_ENOMEM;
}

static tl_err user_out(void *ctx, const tl_user_rec *r)
{
    *(json_t **)ctx = tl__user_json(r);
    return *(json_t **)ctx ? TL_OK : TL_ENOMEM;
}

/* Answers status with the stored record id. */
static void reply_record(tl_req *r, tl_record_kind kind, const char *id, unsigned status)
{
    json_t *j = NULL;
    tl_diag d;
    tl_diag_clear(&d);
    tl_err rc = kind == TL_RECORD_ITEM ? tl_service_get_item(r->srv->svc, id, item_out, &j, &d)
                                       : tl_service_get_user(r->srv->svc, id, user_out, &j, &d);
    if (rc == TL_OK)
        tl__reply_json(r, status, j);
    else
        tl__reply_failure(r, rc, &d, NULL);
}

/* The reply to a failed write: d's field with the record's index in front for a batch. */
static void reply_write_failure(tl_req *r, tl_record_kind kind, int bulk, tl_err rc,
                                const tl_diag *d, size_t bad)
{
    char field[96];
    if (bad == TL_RECORDS_BODY) /* the body's shape, not one record */
        bulk = 0;
    if (bulk)
        snprintf(field, sizeof(field), "[%zu]%s%s", bad, d->field[0] ? "." : "", d->field);
    else
        snprintf(field, sizeof(field), "%s", d->field);
    long index = bulk ? (long)bad : -1;
    if (rc == TL_EPARSE || rc == TL_EINVAL)
        tl__reply_error(r, 422, invalid_code[kind], field, index, "%s", d->msg);
    else if (rc == TL_EEXIST)
        tl__reply_error(r, 409, "exists", field, index, "%s", d->msg);
    else if (rc == TL_ETOOBIG)
        tl__reply_error(r, 413, "batch_too_large", d->field, -1, "%s", d->msg);
    else
        tl__reply_failure(r, rc, d, NULL);
}

/* The id a write is about: the path's, or a new record's "id"; NULL for a batch. */
static const char *write_id(tl_req *r, const json_t *j, tl_record_how how, int bulk)
{
    if (bulk)
        return NULL;
    if (how != TL_RECORD_CREATE)
        return r->match.params[0];
    return json_is_object(j) ? json_string_value(json_object_get(j, "id")) : NULL;
}

/* The body of a write (one record, or a batch) through the service. */
static void write_records(tl_req *r, tl_record_kind kind, tl_record_how how, int bulk)
{
    char **texts = NULL;
    size_t *lens = NULL, n = 0, bad = 0;
    tl_record_report rep = {0};
    tl_diag d;
    tl_diag_clear(&d);
    json_t *j = tl__body_json(r, NULL);
    if (!j)
        return;
    const char *id = write_id(r, j, how, bulk);
    tl_err rc = TL_OK;
    if (!bulk && how == TL_RECORD_CREATE && json_is_object(j) && (!id || !*id)) {
        tl_diag_set(&d, NULL, 0, "id", "a new record needs an \"id\" (a non-empty string)");
        rc = TL_EINVAL;
    }
    if (rc == TL_OK)
        rc = tl__records_from_json(j, bulk, id, (size_t)r->srv->cfg.max_batch, &texts, &lens, &n,
                                   &bad, &d);
    if (rc == TL_OK)
        rc = tl_service_put_records(r->srv->svc, kind, how, (const char *const *)texts, lens, n, id,
                                    &rep, &bad, &d);
    tl__record_texts_free(texts, lens, n);
    if (rc != TL_OK)
        reply_write_failure(r, kind, bulk, rc, &d, bad);
    else if (bulk)
        tl__reply_json(r, 200,
                       json_pack("{s:I, s:I, s:I, s:I}", "written", (json_int_t)n, "added",
                                 (json_int_t)rep.added, "updated", (json_int_t)rep.updated,
                                 "unchanged", (json_int_t)rep.unchanged));
    else
        reply_record(r, kind, id, rep.added ? 201 : 200);
    json_decref(j); /* id may point into it */
}

static void get_record(tl_req *r, tl_record_kind kind)
{
    if (kind != TL_RECORD_ITEM) {
        reply_record(r, kind, r->match.params[0], 200);
        return;
    }
    /* an item with its catalogue details and copies (catalogue_json.c) */
    json_t *j = NULL;
    tl_diag d;
    tl_diag_clear(&d);
    tl_err rc = tl_service_get_item(r->srv->svc, r->match.params[0], item_out, &j, &d);
    if (rc == TL_OK)
        rc = tl__item_catalogue_json(r->srv->svc, r->match.params[0], j, &d);
    if (rc == TL_OK)
        tl__reply_json(r, 200, j);
    else {
        json_decref(j);
        tl__reply_failure(r, rc, &d, NULL);
    }
}

/* DELETE /v1/items/{id} (a patron's DELETE is the erasure: handlers_privacy.c). */
static void delete_item(tl_req *r)
{
    long long events = 0;
    tl_diag d;
    tl_diag_clear(&d);
    tl_err rc =
        tl_service_delete_record(r->srv->svc, TL_RECORD_ITEM, r->match.params[0], &events, &d);
    if (rc != TL_OK) {
        tl__reply_failure(r, rc, &d, NULL);
        return;
    }
    tl__reply_json(r, 200,
                   json_pack("{s:s, s:b, s:I}", "item", r->match.params[0], "deleted", 1,
                             "events_deleted", (json_int_t)events));
}

void tl__h_item_create(tl_req *r)
{
    write_records(r, TL_RECORD_ITEM, TL_RECORD_CREATE, 0);
}
void tl__h_item_get(tl_req *r)
{
    get_record(r, TL_RECORD_ITEM);
}
void tl__h_item_put(tl_req *r)
{
    write_records(r, TL_RECORD_ITEM, TL_RECORD_REPLACE, 0);
}
void tl__h_item_patch(tl_req *r)
{
    write_records(r, TL_RECORD_ITEM, TL_RECORD_MERGE, 0);
}
void tl__h_item_delete(tl_req *r)
{
    delete_item(r);
}
void tl__h_items_bulk(tl_req *r)
{
    write_records(r, TL_RECORD_ITEM, TL_RECORD_UPSERT, 1);
}
void tl__h_user_create(tl_req *r)
{
    write_records(r, TL_RECORD_USER, TL_RECORD_CREATE, 0);
}
void tl__h_user_get(tl_req *r)
{
    get_record(r, TL_RECORD_USER);
}
void tl__h_user_put(tl_req *r)
{
    write_records(r, TL_RECORD_USER, TL_RECORD_REPLACE, 0);
}
void tl__h_user_patch(tl_req *r)
{
    write_records(r, TL_RECORD_USER, TL_RECORD_MERGE, 0);
}
void tl__h_users_bulk(tl_req *r)
{
    write_records(r, TL_RECORD_USER, TL_RECORD_UPSERT, 1);
}
