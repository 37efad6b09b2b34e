/* Patrons' reading lists and reviews, and learning paths, over HTTP. The service decides what a
 * key sees (a private list: its owner's key and an admin's only); the handlers read bodies and
 * query strings, check that a key acts for the patron it names, and send the service's JSON. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/handlers.h"
#include "server/http_json.h"

static tl_viewer viewer_of(const tl_req *r)
{
    tl_viewer v = {TL_ROLE_ADMIN, NULL}; /* --no-auth: the library's own machine */
    if (r->authed) {
        v.role = r->key.role;
        v.user = r->key.user[0] ? r->key.user : NULL;
    }
    return v;
}

/* 1 when the request's key may act for patron user (an admin, an app, or that patron's key);
 * else 0 after replying 403. */
static int acts_for(tl_req *r, const char *user)
{
    if (!r->authed || tl_key_allows(&r->key, TL_KEY_WRITE_EVENTS, user))
        return 1;
    tl__reply_error(r, 403, "forbidden", "user", -1, "this %s key may not act for this patron",
                    tl_key_role_name(r->key.role));
    return 0;
}

/* Sends the service's JSON text (taken), or its failure. */
static void reply(tl_req *r, unsigned status, tl_err rc, char *json, const tl_diag *d)
{
    if (rc != TL_OK) {
        free(json);
        tl__reply_failure(r, rc, d, NULL);
        return;
    }
    size_t n = strlen(json);
    char *body = realloc(json, n + 2);
    if (!body) {
        free(json);
        tl__reply_failure(r, TL_ENOMEM, d, NULL);
        return;
    }
    body[n] = '\n';
    tl__reply_text(r, status, "application/json", body, n + 1);
}

/* A failed write: 409 for an id taken, else as tl__reply_failure. */
static void reply_write(tl_req *r, tl_err rc, const tl_diag *d)
{
    if (rc == TL_EEXIST)
        tl__reply_error(r, 409, "exists", d->field[0] ? d->field : NULL, -1, "%s", d->msg);
    else
        tl__reply_failure(r, rc, d, NULL);
}

/* The query parameter name, decoded into the arena (NULL when absent); any other parameter is
 * 400 (*bad = 1). */
typedef struct query_ctx {
    tl_req *r;
    const char *name, *value, *other;
} query_ctx;

static enum MHD_Result one_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                               const char *value)
{
    (void)kind;
    query_ctx *c = cls;
    if (strcmp(key, c->name) != 0) {
        c->other = key;
        return MHD_NO;
    }
    size_t n = strlen(value ? value : "");
    char *out = tl__req_alloc(c->r, n + 1);
    if (!out || tl__percent_decode(value ? value : "", n, 1, out) < 0) {
        c->other = key;
        return MHD_NO;
    }
    c->value = out;
    return MHD_YES;
}

static const char *query(tl_req *r, const char *name, int *bad)
{
    query_ctx c = {r, name, NULL, NULL};
    MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, one_arg, &c);
    *bad = c.other != NULL;
    if (*bad)
        tl__reply_error(r, 400, "invalid", name, -1,
                        "expected only the parameter %s, as UTF-8 text with %%-escapes", name);
    return c.value;
}

/* Reads a JSON object body whose keys are among keys[]; NULL after a reply. */
static json_t *body_object(tl_req *r, const char *empty, const char *const *keys, int n,
                           const char *shape)
{
    json_t *j = tl__body_json(r, empty);
    if (!j)
        return NULL;
    const char *key, *bad = NULL;
    json_t *v;
    if (json_is_object(j))
        json_object_foreach(j, key, v)
        {
            int known = 0;
            for (int k = 0; k < n; k++)
                known |= strcmp(key, keys[k]) == 0;
            if (!known)
                bad = key;
        }
    if (!json_is_object(j) || bad) {
        tl__reply_error(r, 400, "invalid", bad, -1, "expected %s", shape);
        json_decref(j);
        return NULL;
    }
    return j;
}

/* A string member (NULL when absent or null); *bad = 1 for another type. */
static const char *str_of(json_t *j, const char *key, int *bad)
{
    json_t *v = json_object_get(j, key);
    if (v && !json_is_string(v) && !json_is_null(v))
        *bad = 1;
    return json_string_value(v);
}

/* ---- lists ---------------------------------------------------------------------------------- */

#define LIST_SHAPE                                                                                 \
    "{\"id\": text (optional), \"user\": text, \"title\": text, \"description\": text, "           \
    "\"public\": true|false}"

static int read_list(tl_req *r, json_t *j, tl_list_rec *l)
{
    int bad = 0;
    l->id = str_of(j, "id", &bad);
    l->user = str_of(j, "user", &bad);
    l->title = str_of(j, "title", &bad);
    l->description = str_of(j, "description", &bad);
    json_t *p = json_object_get(j, "public");
    if (p && !json_is_boolean(p))
        bad = 1;
    l->public = json_is_true(p);
    if (bad)
        tl__reply_error(r, 400, "invalid", NULL, -1, "expected %s", LIST_SHAPE);
    return !bad;
}

static void reply_list(tl_req *r, unsigned status, const char *id)
{
    tl_viewer v = viewer_of(r);
    char *json = NULL;
    tl_diag d;
    tl_diag_clear(&d);
    tl_err rc = tl_service_list_get(r->srv->svc, id, &v, &json, &d);
    reply(r, status, rc, json, &d);
}

void tl__h_list_create(tl_req *r)
{
    static const char *const keys[] = {"id", "user", "title", "description", "public"};
    json_t *j = body_object(r, NULL, keys, 5, LIST_SHAPE);
    tl_list_rec l;
    if (!j || !read_list(r, j, &l)) {
        json_decref(j);
        return;
    }
    if (!l.user) {
        tl__reply_error(r, 400, "invalid", "user", -1, "a list needs its owner: \"user\"");
        json_decref(j);
        return;
    }
    char id[TL_LIST_ID_MAX + 1];
    tl_diag d;
    tl_diag_clear(&d);
    if (acts_for(r, l.user)) {
        tl_err rc = tl_service_list_create(r->srv->svc, &l, id, &d);
        if (rc == TL_OK)
            reply_list(r, 201, id);
        else
            reply_write(r, rc, &d);
    }
    json_decref(j);
}

void tl__h_list_get(tl_req *r)
{
    reply_list(r, 200, r->match.params[0]);
}

void tl__h_list_put(tl_req *r)
{
    static const char *const keys[] = {"id", "title", "description", "public"};
    json_t *j = body_object(r, NULL, keys, 4, LIST_SHAPE);
    tl_list_rec l;
    if (!j || !read_list(r, j, &l)) {
        json_decref(j);
        return;
    }
    tl_viewer v = viewer_of(r);
    tl_diag d;
    tl_diag_clear(&d);
    tl_err rc = l.id && strcmp(l.id, r->match.params[0]) != 0 ? TL_EINVAL : TL_OK;
    if (rc != TL_OK)
        tl_diag_set(&d, NULL, 0, "id", "the body's id differs from the path's");
    if (rc == TL_OK)
        rc = tl_service_list_update(r->srv->svc, r->match.params[0], &l, &v, &d);
    if (rc == TL_OK)
        reply_list(r, 200, r->match.params[0]);
    else
        reply_write(r, rc, &d);
    json_decref(j);
}

void tl__h_list_delete(tl_req *r)
{
    tl_viewer v = viewer_of(r);
    tl_diag d;
    tl_diag_clear(&d);
    tl_err rc = tl_service_list_delete(r->srv->svc, r->match.params[0], &v, &d);
    if (rc == TL_OK)
        tl__reply_json(r, 200, json_pack("{s:s, s:b}", "id", r->match.params[0], "deleted", 1));
    else
        tl__reply_failure(r, rc, &d, NULL);
}

void tl__h_list_add(tl_req *r)
{
    static const char *const keys[] = {"note"};
    json_t *j = body_object(r, "{}", keys, 1, "{\"note\": text} or no body");
    if (!j)
        return;
    int bad = 0;
    const char *note = str_of(j, "note", &bad);
    tl_viewer v = viewer_of(r);
    tl_diag d;
    tl_diag_clear(&d);
    if (bad) {
        tl__reply_error(r, 400, "invalid", "note", -1, "a note is text");
    } else {
        tl_err rc =
            tl_service_list_add(r->srv->svc, r->match.params[0], r->match.params[1], note, &v, &d);
        if (rc == TL_OK)
            reply_list(r, 200, r->match.params[0]);
        else
            reply_write(r, rc, &d);
    }
    json_decref(j);
}

void tl__h_list_remove(tl_req *r)
{
    tl_viewer v = viewer_of(r);
    tl_diag d;
    tl_diag_clear(&d);
    tl_err rc = tl_service_list_remove(r->srv->svc, r->match.params[0], r->match.params[1], &v, &d);
    if (rc == TL_OK)
        reply_list(r, 200, r->match.params[0]);
    else
        tl__reply_failure(r, rc, &d, NULL);
}

static void lists_of(tl_req *r, const char *user, const char *item)
{
    tl_viewer v = viewer_of(r);
    char *json = NULL;
    tl_diag d;
    tl_diag_clear(&d);
    tl_err rc = tl_service_lists(r->srv->svc, user, item, &v, &json, &d);
    reply(r, 200, rc, json, &d);
}

void tl__h_item_lists(tl_req *r)
{
    lists_of(r, NULL, r->match.params[0]);
}

void tl__h_user_lists(tl_req *r)
{
    lists_of(r, r->match.params[0], NULL);
}

/* ---- reviews -------------------------------------------------------------------------------- */

void tl__h_review_put(tl_req *r)
{
    static const char *const keys[] = {"rating", "body", "public"};
    const char *shape = "{\"rating\": 0..5, \"body\": text, \"public\": true|false} (a rating or "
                        "a body)";
    json_t *j = body_object(r, NULL, keys, 3, shape);
    if (!j)
        return;
    int bad = 0;
    json_t *rating = json_object_get(j, "rating"), *pub = json_object_get(j, "public");
    tl_review_rec v = {.user = r->match.params[0],
                       .item = r->match.params[1],
                       .has_rating = json_is_number(rating),
                       .rating = json_number_value(rating),
                       .body = str_of(j, "body", &bad),
                       .public = !json_is_false(pub)};
    if (bad || (rating && !json_is_number(rating) && !json_is_null(rating)) ||
        (pub && !json_is_boolean(pub))) {
        tl__reply_error(r, 400, "invalid", NULL, -1, "expected %s", shape);
        json_decref(j);
        return;
    }
    tl_diag d;
    tl_diag_clear(&d);
    tl_err rc = tl_service_review_put(r->srv->svc, &v, &d);
    if (rc == TL_OK)
        tl__reply_json(r, 200,
                       json_pack("{s:s, s:s, s:o, s:o, s:b}", "user", v.user, "item", v.item,
                                 "rating", v.has_rating ? json_real(v.rating) : json_null(), "body",
                                 v.body ? json_string(v.body) : json_null(), "public", v.public));
    else
        tl__reply_failure(r, rc, &d, NULL);
    json_decref(j);
}

void tl__h_review_delete(tl_req *r)
{
    tl_diag d;
    tl_diag_clear(&d);
    tl_err rc = tl_service_review_delete(r->srv->svc, r->match.params[0], r->match.params[1], &d);
    if (rc == TL_OK)
        tl__reply_json(r, 200,
                       json_pack("{s:s, s:s, s:b}", "user", r->match.params[0], "item",
                                 r->match.params[1], "deleted", 1));
    else
        tl__reply_failure(r, rc, &d, NULL);
}

void tl__h_item_reviews(tl_req *r)
{
    tl_viewer v = viewer_of(r);
    char *json = NULL;
    tl_diag d;
    tl_diag_clear(&d);
    tl_err rc = tl_service_reviews(r->srv->svc, NULL, r->match.params[0], &v, &json, &d);
    reply(r, 200, rc, json, &d);
}

/* ---- learning paths ------------------------------------------------------------------------- */

#define PATH_SHAPE                                                                                 \
    "{\"id\": text, \"title\": text, \"topic\": text, \"steps\": [{\"item\": text, \"pos\": "      \
    "1.., \"level\": 0..100}]}"

static void reply_path(tl_req *r, unsigned status, const char *id)
{
    char *json = NULL;
    tl_diag d;
    tl_diag_clear(&d);
    tl_err rc = tl_service_path_get(r->srv->svc, id, &json, &d);
    reply(r, status, rc, json, &d);
}

static void put_path(tl_req *r, const char *id)
{
    static const char *const keys[] = {"id", "title", "topic", "steps"};
    json_t *j = body_object(r, NULL, keys, 4, PATH_SHAPE);
    if (!j)
        return;
    int bad = 0;
    tl_path_rec p = {str_of(j, "id", &bad), str_of(j, "title", &bad), str_of(j, "topic", &bad),
                     NULL, 0};
    json_t *steps = json_object_get(j, "steps"), *s;
    size_t n = json_array_size(steps), k;
    tl_path_step_rec *st = n ? calloc(n, sizeof(*st)) : NULL;
    if (!json_is_array(steps) || (n && !st))
        bad = 1;
    json_array_foreach(steps, k, s)
    {
        json_t *pos = json_object_get(s, "pos"), *level = json_object_get(s, "level");
        if (!st || !json_is_object(s) || !json_is_string(json_object_get(s, "item")) ||
            !json_is_integer(pos) || (level && !json_is_null(level) && !json_is_integer(level))) {
            bad = 1;
            break;
        }
        st[k] = (tl_path_step_rec){json_string_value(json_object_get(s, "item")),
                                   json_integer_value(pos),
                                   json_is_integer(level) ? json_integer_value(level) : TL_ABSENT};
    }
    p.steps = st;
    p.n_steps = n > TL_PATH_MAX_STEPS ? TL_PATH_MAX_STEPS + 1 : (int)n;
    tl_diag d;
    tl_diag_clear(&d);
    if (bad) {
        tl__reply_error(r, 400, "invalid", NULL, -1, "expected %s", PATH_SHAPE);
    } else if (id && p.id && strcmp(id, p.id) != 0) {
        tl__reply_error(r, 400, "invalid", "id", -1, "the body's id differs from the path's");
    } else {
        if (id)
            p.id = id;
        tl_err rc = tl_service_path_put(r->srv->svc, &p, id == NULL, NULL, &d);
        if (rc == TL_OK)
            reply_path(r, id ? 200 : 201, p.id);
        else
            reply_write(r, rc, &d);
    }
    free(st);
    json_decref(j);
}

void tl__h_path_create(tl_req *r)
{
    put_path(r, NULL);
}

void tl__h_path_put(tl_req *r)
{
    put_path(r, r->match.params[0]);
}

void tl__h_path_get(tl_req *r)
{
    reply_path(r, 200, r->match.params[0]);
}

void tl__h_paths(tl_req *r)
{
    int bad;
    const char *topic = query(r, "topic", &bad);
    if (bad)
        return;
    char *json = NULL;
    tl_diag d;
    tl_diag_clear(&d);
    tl_err rc = tl_service_paths(r->srv->svc, topic && *topic ? topic : NULL, &json, &d);
    reply(r, 200, rc, json, &d);
}

void tl__h_path_delete(tl_req *r)
{
    tl_diag d;
    tl_diag_clear(&d);
    tl_err rc = tl_service_path_delete(r->srv->svc, r->match.params[0], &d);
    if (rc == TL_OK)
        tl__reply_json(r, 200, json_pack("{s:s, s:b}", "id", r->match.params[0], "deleted", 1));
    else
        tl__reply_failure(r, rc, &d, NULL);
}

void tl__h_path_next(tl_req *r)
{
    int bad;
    const char *user = query(r, "user", &bad);
    if (bad)
        return;
    if (!user || !*user) {
        tl__reply_error(r, 400, "invalid", "user", -1, "user= names the patron");
        return;
    }
    if (r->authed && !tl_key_allows(&r->key, TL_KEY_READ_USER, user)) {
        tl__reply_error(r, 403, "forbidden", "user", -1, "this %s key may not read this patron",
                        tl_key_role_name(r->key.role));
        return;
    }
    char *json = NULL;
    tl_diag d;
    tl_diag_clear(&d);
    tl_err rc = tl_service_path_next(r->srv->svc, r->match.params[0], user, &json, &d);
    reply(r, 200, rc, json, &d);
}

void tl__h_path_feedback(tl_req *r)
{
    static const char *const keys[] = {"user", "item", "useful"};
    const char *shape = "{\"user\": text, \"item\": text, \"useful\": true|false}";
    json_t *j = body_object(r, NULL, keys, 3, shape);
    if (!j)
        return;
    int bad = 0;
    const char *user = str_of(j, "user", &bad), *item = str_of(j, "item", &bad);
    json_t *useful = json_object_get(j, "useful");
    tl_diag d;
    tl_diag_clear(&d);
    if (bad || !user || !item || !json_is_boolean(useful)) {
        tl__reply_error(r, 400, "invalid", NULL, -1, "expected %s", shape);
    } else if (acts_for(r, user)) {
        tl_err rc = tl_service_path_feedback(r->srv->svc, r->match.params[0], item, user,
                                             json_is_true(useful), &d);
        if (rc == TL_OK)
            tl__reply_json(r, 200,
                           json_pack("{s:s, s:s, s:s, s:b}", "path", r->match.params[0], "item",
                                     item, "user", user, "useful", json_is_true(useful)));
        else
            tl__reply_failure(r, rc, &d, NULL);
    }
    json_decref(j);
}

void tl__h_path_propose(tl_req *r)
{
    static const char *const keys[] = {"topic", "n"};
    const char *shape = "{\"topic\": text, \"n\": 1..10000 (default 10)}";
    json_t *j = body_object(r, NULL, keys, 2, shape);
    if (!j)
        return;
    int bad = 0;
    const char *topic = str_of(j, "topic", &bad);
    json_t *n = json_object_get(j, "n");
    char id[TL_LIST_ID_MAX + 1];
    tl_diag d;
    tl_diag_clear(&d);
    if (bad || !topic || (n && !json_is_integer(n))) {
        tl__reply_error(r, 400, "invalid", NULL, -1, "expected %s", shape);
    } else {
        json_int_t want = n ? json_integer_value(n) : 10;
        tl_err rc = tl_service_path_propose(
            r->srv->svc, topic, want < 1 || want > TL_PATH_MAX_STEPS ? 0 : (int)want, id, &d);
        if (rc == TL_OK)
            reply_path(r, 201, id);
        else
            reply_write(r, rc, &d);
    }
    json_decref(j);
}
