/* Patrons' reading lists and reviews (not the homepage's lists of popular and new items:
 * lists.c). Each write is one transaction of the writer, its event included; reads go through
 * a reader and answer JSON text. */
#include <jansson.h>
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ingest/fields.h"
#include "service/lib_int.h"

tl_err tl__lib_check_id(const char *v, size_t max, const char *field, tl_diag *d)
{
    size_t n = v ? strlen(v) : 0;
    if (!n) {
        tl_diag_set(d, NULL, 0, field, "no %s id", field);
        return TL_EINVAL;
    }
    if (n > max) {
        tl_diag_set(d, NULL, 0, field, "%s id longer than %zu bytes", field, max);
        return TL_EINVAL;
    }
    if (tl__id_bad_char(v, n) >= 0) {
        tl_diag_set(d, NULL, 0, field, "%s id contains a tab or control character", field);
        return TL_EINVAL;
    }
    return TL_OK;
}

static tl_err check_text(const char *v, size_t max, const char *field, tl_diag *d)
{
    if (v && strlen(v) > max) {
        tl_diag_set(d, NULL, 0, field, "%s longer than %zu bytes", field, max);
        return TL_EINVAL;
    }
    return TL_OK;
}

tl_err tl__lib_write(tl_service *s, tl_err (*f)(tl_service *, tl_store *, void *, tl_diag *),
                     void *ctx, tl_diag *d)
{
    tl_err rc = tl__service_need_writer(s, "lists, reviews and paths", d);
    if (rc != TL_OK)
        return rc;
    pthread_mutex_lock(&s->write_mu);
    rc = tl_store_begin(s->writer);
    if (rc == TL_OK && (rc = f(s, s->writer, ctx, d)) == TL_OK)
        rc = tl_store_commit(s->writer);
    else
        tl_store_rollback(s->writer);
    pthread_mutex_unlock(&s->write_mu);
    if (rc == TL_ESTORE && !d->msg[0])
        tl_diag_set(d, NULL, 0, NULL, "store: %s", tl_store_errmsg(s->writer));
    return rc;
}

tl_err tl__lib_read(tl_service *s, tl_err (*f)(tl_service *, tl_store *, void *, tl_diag *),
                    void *ctx, tl_diag *d)
{
    tl_store *st;
    tl_err rc = tl__service_need_store(s, d);
    if (rc == TL_OK && (rc = tl__service_reader(s, &st, d)) == TL_OK) {
        rc = f(s, st, ctx, d);
        tl__service_reader_done(s, st);
    }
    return rc;
}

tl_err tl__lib_dump(json_t *j, char **json)
{
    *json = j ? json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(9)) : NULL;
    json_decref(j);
    return *json ? TL_OK : TL_ENOMEM;
}

json_t *tl__lib_str(const char *v)
{
    return v ? json_string(v) : json_null();
}

/* Whether v may see a list or review of owner (as the store keeps them) that is public or not.
 * A tenant's request never sees another tenant's patrons' lists and reviews. */
static int may_see(const tl_viewer *v, const char *owner, int public)
{
    return tl__tenant_owns(owner) &&
           (public || !v || v->role == TL_ROLE_ADMIN ||
            (v->role == TL_ROLE_PATRON && owner && v->user && strcmp(owner, v->user) == 0));
}

/* Whether v may know who owns a list or wrote a review: an admin, an app (it serves every
 * patron), the patron themself; another patron's key sees a public list, not whose it is. */
static int may_name(const tl_viewer *v, const char *owner)
{
    return !v || v->role != TL_ROLE_PATRON || (owner && v->user && strcmp(owner, v->user) == 0);
}

/* Whether v may change a list of owner: an admin, an app (for its patrons), or the owner. */
static int may_write(const tl_viewer *v, const char *owner)
{
    return tl__tenant_owns(owner) &&
           (!v || v->role != TL_ROLE_PATRON || (owner && v->user && strcmp(owner, v->user) == 0));
}

/* ---- lists ---------------------------------------------------------------------------------- */

typedef struct list_job {
    const tl_list_rec *rec;
    const char *id, *item, *note, *user;
    const tl_viewer *v;
    json_t *out;
    int write, found;
} list_job;

static json_t *list_json(const tl_store_readlist *l, int named)
{
    return json_pack("{s:s, s:o, s:s, s:o, s:b, s:I, s:I, s:I}", "id", l->id, "user",
                     tl__lib_str(named ? l->user : NULL), "title", l->title, "description",
                     tl__lib_str(l->description), "public", l->public, "created",
                     (json_int_t)l->created, "updated", (json_int_t)l->updated, "n_items",
                     (json_int_t)l->n_items);
}

static tl_err on_list(void *ctx, const tl_store_readlist *l)
{
    list_job *j = ctx;
    if (!(j->write ? may_write(j->v, l->user) : may_see(j->v, l->user, l->public)))
        return TL_OK; /* as if it were not there */
    j->found = 1;
    if (j->write)
        return TL_OK;
    json_t *o = list_json(l, may_name(j->v, l->user));
    if (!o)
        return TL_ENOMEM;
    if (j->out && json_is_array(j->out))
        return json_array_append_new(j->out, o) == 0 ? TL_OK : TL_ENOMEM;
    j->out = o;
    return json_object_set_new(o, "items", json_array()) == 0 ? TL_OK : TL_ENOMEM;
}

static tl_err on_list_item(void *ctx, const tl_store_readlist_item *e)
{
    list_job *j = ctx;
    json_t *items = j->out ? json_object_get(j->out, "items") : NULL;
    if (!items)
        return TL_OK; /* the list is not the viewer's to see */
    json_t *o = json_pack("{s:s, s:o, s:o, s:I, s:I}", "item", e->item, "title",
                          tl__lib_str(e->title), "note", tl__lib_str(e->note), "pos",
                          (json_int_t)e->pos, "added", (json_int_t)e->added);
    return o && json_array_append_new(items, o) == 0 ? TL_OK : TL_ENOMEM;
}

static tl_err not_found(const char *id, tl_diag *d)
{
    tl_diag_set(d, NULL, 0, "list", "no list '%.200s'", id);
    return TL_ENOTFOUND;
}

/* The list j->id as j->v may see (read) or change (write) it: TL_ENOTFOUND otherwise. */
static tl_err visible(tl_store *st, list_job *j, tl_diag *d)
{
    int found;
    tl_err rc = tl_store_list_get(st, j->id, on_list, j->write ? NULL : on_list_item, j, &found, d);
    if (rc == TL_OK && !j->found)
        rc = not_found(j->id, d);
    return rc;
}

static tl_err do_create(tl_service *s, tl_store *st, void *ctx, tl_diag *d)
{
    (void)s;
    list_job *j = ctx;
    int found;
    tl_put what;
    tl_err rc = tl_store_list_get(st, j->rec->id, NULL, NULL, NULL, &found, d);
    if (rc == TL_OK && found) {
        tl_diag_set(d, NULL, 0, "id", "the list '%.200s' exists", j->rec->id);
        return TL_EEXIST;
    }
    tl_store_readlist l = {.id = j->rec->id,
                           .user = j->rec->user,
                           .title = j->rec->title,
                           .description = j->rec->description,
                           .public = j->rec->public};
    return rc == TL_OK ? tl_store_list_put(st, &l, time(NULL), &what, d) : rc;
}

static tl_err check_list(const tl_list_rec *l, tl_diag *d)
{
    tl_err rc = TL_OK;
    if (!l->title || !*l->title) {
        tl_diag_set(d, NULL, 0, "title", "a list needs a title");
        return TL_EINVAL;
    }
    if ((rc = check_text(l->title, TL_LIST_TITLE_MAX, "title", d)) == TL_OK)
        rc = check_text(l->description, TL_LIST_TEXT_MAX, "description", d);
    return rc;
}

tl_err tl_service_list_create(tl_service *s, const tl_list_rec *l, char *id_out, tl_diag *d)
{
    tl_list_rec r = *l;
    char fresh[TL_LIST_ID_MAX + 1];
    tl_err rc = check_list(l, d);
    if (rc == TL_OK)
        rc = tl__lib_check_id(l->user, TL_ID_MAX, "user", d);
    if (rc == TL_OK && l->id)
        rc = tl__lib_check_id(l->id, TL_LIST_ID_MAX, "id", d);
    if (rc != TL_OK)
        return rc;
    if (!r.id) { /* 80 random bits: ids that no one guesses */
        uint8_t b[10];
        if ((rc = tl__keys_start(d)) != TL_OK)
            return rc;
        randombytes_buf(b, sizeof(b));
        fresh[0] = 'L';
        sodium_bin2hex(fresh + 1, sizeof(fresh) - 1, b, sizeof(b));
        r.id = fresh;
    }
    list_job j = {.rec = &r};
    if ((rc = tl__lib_write(s, do_create, &j, d)) == TL_OK && id_out)
        snprintf(id_out, TL_LIST_ID_MAX + 1, "%s", r.id);
    return rc;
}

static tl_err do_update(tl_service *s, tl_store *st, void *ctx, tl_diag *d)
{
    (void)s;
    list_job *j = ctx;
    tl_put what;
    tl_store_readlist r = {.id = j->id,
                           .title = j->rec->title,
                           .description = j->rec->description,
                           .public = j->rec->public};
    tl_err rc = visible(st, j, d);
    return rc == TL_OK ? tl_store_list_put(st, &r, time(NULL), &what, d) : rc;
}

tl_err tl_service_list_update(tl_service *s, const char *id, const tl_list_rec *l,
                              const tl_viewer *v, tl_diag *d)
{
    tl_err rc = check_list(l, d);
    list_job j = {.rec = l, .id = id, .v = v, .write = 1};
    return rc == TL_OK ? tl__lib_write(s, do_update, &j, d) : rc;
}

static tl_err do_delete(tl_service *s, tl_store *st, void *ctx, tl_diag *d)
{
    (void)s;
    list_job *j = ctx;
    tl_err rc = visible(st, j, d);
    return rc == TL_OK ? tl_store_list_delete(st, j->id, d) : rc;
}

tl_err tl_service_list_delete(tl_service *s, const char *id, const tl_viewer *v, tl_diag *d)
{
    list_job j = {.id = id, .v = v, .write = 1};
    return tl__lib_write(s, do_delete, &j, d);
}

static tl_err do_add(tl_service *s, tl_store *st, void *ctx, tl_diag *d)
{
    (void)s;
    list_job *j = ctx;
    tl_put what;
    tl_err rc = visible(st, j, d);
    return rc == TL_OK ? tl_store_list_add(st, j->id, j->item, j->note, time(NULL), &what, d) : rc;
}

tl_err tl_service_list_add(tl_service *s, const char *id, const char *item, const char *note,
                           const tl_viewer *v, tl_diag *d)
{
    tl_err rc = tl__lib_check_id(item, TL_ID_MAX, "item", d);
    if (rc == TL_OK)
        rc = check_text(note, TL_LIST_TEXT_MAX, "note", d);
    list_job j = {.id = id, .item = item, .note = note, .v = v, .write = 1};
    if (rc == TL_OK && (rc = tl__lib_write(s, do_add, &j, d)) == TL_OK) {
        tl_event_rec e = {.item = item, .item_len = strlen(item), .type = TL_LIST_EVENT};
        tl__popular_add(s, &e, 1);
        tl__service_events_added(s, 1);
    }
    return rc;
}

static tl_err do_remove(tl_service *s, tl_store *st, void *ctx, tl_diag *d)
{
    (void)s;
    list_job *j = ctx;
    tl_err rc = visible(st, j, d);
    return rc == TL_OK ? tl_store_list_remove(st, j->id, j->item, d) : rc;
}

tl_err tl_service_list_remove(tl_service *s, const char *id, const char *item, const tl_viewer *v,
                              tl_diag *d)
{
    list_job j = {.id = id, .item = item, .v = v, .write = 1};
    return tl__lib_write(s, do_remove, &j, d);
}

static tl_err do_get(tl_service *s, tl_store *st, void *ctx, tl_diag *d)
{
    (void)s;
    return visible(st, ctx, d);
}

tl_err tl_service_list_get(tl_service *s, const char *id, const tl_viewer *v, char **json,
                           tl_diag *d)
{
    list_job j = {.id = id, .v = v};
    *json = NULL;
    tl_err rc = tl__lib_read(s, do_get, &j, d);
    if (rc == TL_OK)
        return tl__lib_dump(j.out, json);
    json_decref(j.out);
    return rc;
}

static tl_err do_lists(tl_service *s, tl_store *st, void *ctx, tl_diag *d)
{
    list_job *j = ctx;
    char buf[TL_PATRON_REF_SIZE];
    /* one patron's private lists are only theirs (and an admin's) to see */
    int public_only = !j->user || !(j->v == NULL || j->v->role == TL_ROLE_ADMIN ||
                                    (j->v->role == TL_ROLE_PATRON && j->v->user &&
                                     strcmp(tl__patron_ref(s, j->user, buf), j->v->user) == 0));
    return tl_store_lists_each(st, j->user, j->item, public_only, on_list, j, d);
}

tl_err tl_service_lists(tl_service *s, const char *user, const char *item, const tl_viewer *v,
                        char **json, tl_diag *d)
{
    list_job j = {.user = user, .item = item, .v = v, .out = json_array()};
    *json = NULL;
    tl_err rc = j.out ? tl__lib_read(s, do_lists, &j, d) : TL_ENOMEM;
    if (rc == TL_OK)
        return tl__lib_dump(json_pack("{s:o}", "lists", j.out), json);
    json_decref(j.out);
    return rc;
}

/* ---- reviews -------------------------------------------------------------------------------- */

typedef struct review_job {
    const tl_review_rec *rec;
    const char *user, *item;
    const tl_viewer *v;
    json_t *out;
    double sum;
    long long n;
} review_job;

static tl_err do_review(tl_service *s, tl_store *st, void *ctx, tl_diag *d)
{
    (void)s;
    review_job *j = ctx;
    const tl_review_rec *r = j->rec;
    int64_t now = time(NULL);
    tl_store_review v = {r->user, r->item, r->has_rating, r->rating, r->body, r->public, now};
    tl_put what;
    int found, personalize;
    tl_err rc = tl_store_review_put(st, &v, &what, d);
    if (rc != TL_OK || what == TL_PUT_UNCHANGED)
        return rc;
    if ((rc = tl_store_user_consent(st, r->user, strlen(r->user), &found, &personalize, d)) !=
            TL_OK ||
        !personalize)
        return rc; /* an opted-out patron's review is kept; it is no event */
    tl_event_rec e = {.user = r->user,
                      .user_len = strlen(r->user),
                      .item = r->item,
                      .item_len = strlen(r->item),
                      .type = r->has_rating ? "rate" : "review",
                      .has_value = r->has_rating,
                      .value = r->rating,
                      .ts = now};
    return tl_store_put_event(st, &e, 0, NULL, d);
}

tl_err tl_service_review_put(tl_service *s, const tl_review_rec *r, tl_diag *d)
{
    tl_err rc = tl__lib_check_id(r->user, TL_ID_MAX, "user", d);
    if (rc == TL_OK)
        rc = tl__lib_check_id(r->item, TL_ID_MAX, "item", d);
    if (rc == TL_OK)
        rc = check_text(r->body, TL_LIST_TEXT_MAX, "body", d);
    if (rc != TL_OK)
        return rc;
    if (r->has_rating && !(isfinite(r->rating) && r->rating >= 0 && r->rating <= TL_RATING_MAX)) {
        tl_diag_set(d, NULL, 0, "rating", "a rating is 0 to %g", TL_RATING_MAX);
        return TL_EINVAL;
    }
    if (!r->has_rating && !(r->body && *r->body)) {
        tl_diag_set(d, NULL, 0, "rating", "a review needs a rating or a text");
        return TL_EINVAL;
    }
    review_job j = {.rec = r};
    if ((rc = tl__lib_write(s, do_review, &j, d)) == TL_OK) {
        tl_event_rec e = {.item = r->item,
                          .item_len = strlen(r->item),
                          .type = r->has_rating ? "rate" : "review",
                          .has_value = r->has_rating,
                          .value = r->rating};
        tl__popular_add(s, &e, 1);
        tl__service_events_added(s, 1);
    }
    return rc;
}

static tl_err do_review_delete(tl_service *s, tl_store *st, void *ctx, tl_diag *d)
{
    (void)s;
    review_job *j = ctx;
    return tl_store_review_delete(st, j->user, j->item, d);
}

tl_err tl_service_review_delete(tl_service *s, const char *user, const char *item, tl_diag *d)
{
    review_job j = {.user = user, .item = item};
    return tl__lib_write(s, do_review_delete, &j, d);
}

static tl_err on_review(void *ctx, const tl_store_review *r)
{
    review_job *j = ctx;
    if (!may_see(j->v, r->user, r->public))
        return TL_OK;
    if (r->has_rating) {
        j->sum += r->rating;
        j->n++;
    }
    json_t *o =
        json_pack("{s:o, s:s, s:o, s:o, s:b, s:I}", "user",
                  tl__lib_str(may_name(j->v, r->user) ? r->user : NULL), "item", r->item, "rating",
                  r->has_rating ? json_real(r->rating) : json_null(), "body", tl__lib_str(r->body),
                  "public", r->public, "timestamp", (json_int_t)r->ts);
    return o && json_array_append_new(j->out, o) == 0 ? TL_OK : TL_ENOMEM;
}

static tl_err do_reviews(tl_service *s, tl_store *st, void *ctx, tl_diag *d)
{
    (void)s;
    review_job *j = ctx;
    return tl_store_reviews_each(st, j->user, j->item, 0, on_review, j, d);
}

tl_err tl_service_reviews(tl_service *s, const char *user, const char *item, const tl_viewer *v,
                          char **json, tl_diag *d)
{
    tl_viewer own = {TL_ROLE_PATRON, NULL};
    char buf[TL_PATRON_REF_SIZE];
    /* a patron's own reviews, private ones included, are theirs to read */
    if (user && v && v->role == TL_ROLE_PATRON && v->user &&
        strcmp(tl__patron_ref(s, user, buf), v->user) == 0)
        own.user = v->user, v = &own;
    review_job j = {.user = user, .item = item, .v = v, .out = json_array()};
    *json = NULL;
    tl_err rc = j.out ? tl__lib_read(s, do_reviews, &j, d) : TL_ENOMEM;
    if (rc == TL_OK)
        return tl__lib_dump(json_pack("{s:o, s:I, s:o}", "reviews", j.out, "ratings",
                                      (json_int_t)j.n, "mean_rating",
                                      j.n ? json_real(j.sum / j.n) : json_null()),
                            json);
    json_decref(j.out);
    return rc;
}

/* ---- a patron's export ---------------------------------------------------------------------- */

typedef struct export_job {
    json_t *lists, *reviews, *feedback;
    tl_store *st;
    tl_diag *d;
} export_job;

static tl_err export_list(void *ctx, const tl_store_readlist *l)
{
    export_job *x = ctx;
    list_job j = {.id = l->id};
    int found;
    tl_err rc = on_list(&j, l); /* a list_job without a viewer: everything */
    if (rc == TL_OK)
        rc = tl_store_list_get(x->st, l->id, NULL, on_list_item, &j, &found, x->d);
    if (rc == TL_OK && json_array_append(x->lists, j.out) != 0)
        rc = TL_ENOMEM;
    json_decref(j.out);
    return rc;
}

static tl_err export_feedback(void *ctx, const char *path, const char *item, const char *user,
                              int useful, int64_t ts)
{
    (void)user;
    export_job *x = ctx;
    json_t *o = json_pack("{s:s, s:s, s:b, s:I}", "path", path, "item", item, "useful", useful,
                          "timestamp", (json_int_t)ts);
    return o && json_array_append_new(x->feedback, o) == 0 ? TL_OK : TL_ENOMEM;
}

tl_err tl__lib_export(tl_store *st, const char *user, json_t *out, tl_diag *d)
{
    if (tl_store_schema_version(st) < 5)
        return TL_OK;
    review_job r = {.user = user, .out = json_array()};
    export_job x = {json_array(), r.out, json_array(), st, d};
    tl_err rc = x.lists && x.reviews && x.feedback ? TL_OK : TL_ENOMEM;
    if (rc == TL_OK)
        rc = tl_store_lists_each(st, user, NULL, 0, export_list, &x, d);
    if (rc == TL_OK)
        rc = tl_store_reviews_each(st, user, NULL, 0, on_review, &r, d);
    if (rc == TL_OK)
        rc = tl_store_feedback_each(st, NULL, user, export_feedback, &x, d);
    if (rc == TL_OK && (json_object_set(out, "lists", x.lists) != 0 ||
                        json_object_set(out, "reviews", x.reviews) != 0 ||
                        json_object_set(out, "path_feedback", x.feedback) != 0))
        rc = TL_ENOMEM;
    json_decref(x.lists);
    json_decref(x.reviews);
    json_decref(x.feedback);
    return rc;
}
