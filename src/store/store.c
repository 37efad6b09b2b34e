/* The engine-neutral half of the store: picks the backend from the target string, keeps the
 * per-transaction id cache (external id -> store id) so bulk writes never look an id up twice,
 * and turns record-level writes into the backend's id-level operations. */
#include "store/store_int.h"
#include "store/tenant_int.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void tl__store_init(tl_store *st, const tl_store_ops *ops)
{
    memset(st, 0, sizeof(*st));
    st->ops = ops;
    for (int k = 0; k < TL_ID_NKINDS; k++)
        tl_intern_init(&st->cache[k].names);
}

static void cache_clear(tl_store *st)
{
    for (int k = 0; k < TL_ID_NKINDS; k++) {
        tl_intern_release(&st->cache[k].names);
        free(st->cache[k].ids);
        st->cache[k].ids = NULL;
        st->cache[k].cap = 0;
        st->created[k] = 0;
    }
    st->last_type_id = 0;
}

void tl__store_release(tl_store *st)
{
    cache_clear(st);
    free(st->click_ids);
    st->click_ids = NULL;
}

tl_err tl__store_fail(tl_store *st, tl_err rc, tl_diag *d)
{
    if (rc == TL_ESTORE && st->why[0])
        tl_diag_set(d, NULL, 0, NULL, "%s", st->why);
    else if (rc == TL_ESTORE)
        tl_diag_set(d, NULL, 0, NULL, "store: %s", st->errmsg[0] ? st->errmsg : "unknown error");
    else if (rc == TL_ENOMEM)
        tl_diag_set(d, NULL, 0, NULL, "out of memory");
    return rc;
}

int tl_store_is_postgres(const char *target)
{
    return target &&
           (strncmp(target, "postgres://", 11) == 0 || strncmp(target, "postgresql://", 13) == 0);
}

void tl_store_opts_init(tl_store_opts *o)
{
    o->flags = 0;
    o->lock_timeout = -1;
    o->pseudonym_key = NULL;
}

/* The caller's lock timeout, else $TAILOR_LOCK_TIMEOUT, else the default. */
static tl_err lock_timeout(const tl_store_opts *o, double *out, tl_diag *d)
{
    if (o->lock_timeout >= 0) {
        if (!(o->lock_timeout <= TL_STORE_LOCK_TIMEOUT_MAX)) {
            tl_diag_set(d, NULL, 0, NULL, "the lock timeout must be 0 to %g seconds",
                        TL_STORE_LOCK_TIMEOUT_MAX);
            return TL_EINVAL;
        }
        *out = o->lock_timeout;
        return TL_OK;
    }
    const char *env = getenv(TL_STORE_LOCK_ENV);
    if (!env || !*env) {
        *out = TL_STORE_LOCK_TIMEOUT;
        return TL_OK;
    }
    char *end;
    errno = 0;
    double v = strtod(env, &end);
    if (end == env || *end || errno || !(v >= 0 && v <= TL_STORE_LOCK_TIMEOUT_MAX)) {
        tl_diag_set(d, NULL, 0, NULL,
                    TL_STORE_LOCK_ENV " must be a number of seconds from 0 to %g, not '%.40s'",
                    TL_STORE_LOCK_TIMEOUT_MAX, env);
        return TL_EINVAL;
    }
    *out = v;
    return TL_OK;
}

tl_err tl_store_open_with(const char *target, const tl_store_opts *o, tl_store **out, tl_diag *d)
{
    tl_store_opts opts;
    tl_store_opts_init(&opts);
    if (o)
        opts = *o;
    if (!target || !*target)
        target = TL_STORE_DEFAULT_PATH;
    tl_err rc = lock_timeout(&opts, &opts.lock_timeout, d);
    if (rc == TL_OK)
        rc = tl_store_is_postgres(target) ? tl__postgres_open(target, &opts, out, d)
                                          : tl__sqlite_open(target, &opts, out, d);
    if (rc != TL_OK)
        return rc;
    /* plain and pseudonymized patron ids never meet: the key must be the store's */
    if ((rc = tl__store_pseudonym_open(*out, opts.pseudonym_key, d)) != TL_OK) {
        tl_store_free(*out);
        *out = NULL;
    }
    return rc;
}

tl_err tl_store_open(const char *target, int flags, tl_store **out, tl_diag *d)
{
    tl_store_opts o;
    tl_store_opts_init(&o);
    o.flags = flags;
    return tl_store_open_with(target, &o, out, d);
}

void tl_store_free(tl_store *st)
{
    if (!st)
        return;
    if (st->in_txn)
        st->ops->rollback(st);
    st->ops->close(st); /* the engine releases its part, then calls tl__store_release */
}

const char *tl_store_backend(const tl_store *st)
{
    return st->ops->name;
}

int tl_store_schema_version(const tl_store *st)
{
    return st->schema_version;
}

const char *tl_store_errmsg(const tl_store *st)
{
    return st->errmsg;
}

tl_err tl_store_begin(tl_store *st)
{
    if (st->in_txn)
        return TL_EINVAL; /* one level only */
    cache_clear(st);
    st->why[0] = '\0';
    tl_err rc = st->ops->begin(st);
    /* under the write lock: another process may have (un)keyed the store since the open */
    if (rc == TL_OK && !st->readonly && (rc = tl__store_pseudonym_guard(st)) != TL_OK)
        st->ops->rollback(st);
    if (rc == TL_OK)
        st->in_txn = 1;
    return rc;
}

tl_err tl_store_commit(tl_store *st)
{
    if (!st->in_txn)
        return TL_EINVAL;
    tl_err rc = st->ops->commit(st);
    if (rc != TL_OK)
        st->ops->rollback(st);
    st->in_txn = 0;
    /* ids are stable once committed, but another process may delete rows: start afresh */
    cache_clear(st);
    return rc;
}

tl_err tl_store_rollback(tl_store *st)
{
    if (!st->in_txn)
        return TL_EINVAL;
    tl_err rc = st->ops->rollback(st);
    st->in_txn = 0;
    cache_clear(st); /* rolled-back ids must never be reused from the cache */
    return rc;
}

static tl_err cache_put(tl_id_cache *c, const char *ext, size_t len, int64_t id)
{
    int32_t idx;
    tl_err rc = tl_intern_add(&c->names, ext, len, &idx);
    if (rc != TL_OK)
        return rc;
    if (idx >= c->cap) {
        int32_t cap = c->cap ? c->cap * 2 : 1024;
        while (cap <= idx)
            cap *= 2;
        int64_t *ids = realloc(c->ids, (size_t)cap * sizeof(*ids));
        if (!ids)
            return TL_ENOMEM;
        c->ids = ids;
        c->cap = cap;
    }
    c->ids[idx] = id;
    return TL_OK;
}

/* The store id of ext: from the cache, else the engine; created when create is set.
 * *id = 0 when it does not exist and may not be created. */
static tl_err resolve(tl_store *st, tl_id_kind k, const char *ext, size_t len, int create,
                      int64_t *id)
{
    tl_id_cache *c = &st->cache[k];
    int32_t idx = tl_intern_find(&c->names, ext, len);
    if (idx >= 0) {
        *id = c->ids[idx];
        return TL_OK;
    }
    tl_err rc = st->ops->find_id(st, k, ext, len, id);
    if (rc != TL_OK)
        return rc;
    if (!*id) {
        if (!create)
            return TL_OK;
        if ((rc = st->ops->create_id(st, k, ext, len, id)) != TL_OK)
            return rc;
        st->created[k]++;
    }
    return cache_put(c, ext, len, *id);
}

/* Runs a write in its own transaction when the caller has none. */
#define AUTO_BEGIN(st, rc, own)                                                                    \
    do {                                                                                           \
        (own) = !(st)->in_txn;                                                                     \
        if ((own) && ((rc) = tl_store_begin(st)) != TL_OK)                                         \
            return tl__store_fail((st), (rc), d);                                                  \
    } while (0)

static tl_err auto_end(tl_store *st, tl_err rc, int own, tl_diag *d)
{
    if (own) {
        if (rc == TL_OK)
            rc = tl_store_commit(st);
        else
            tl_store_rollback(st);
    }
    if (rc == TL_ESTORE || rc == TL_ENOMEM)
        tl__store_fail(st, rc, d);
    return rc;
}

static const char *const kind_name[] = {"user", "item", "type"};

static tl_err unknown(tl_id_kind k, const char *ext, size_t len, tl_diag *d)
{
    tl_diag_set(d, NULL, 0, kind_name[k], "unknown %s '%.*s' (strict mode: import it first)",
                kind_name[k], (int)(len > 80 ? 80 : len), ext);
    return TL_ENOTFOUND;
}

/* How put_record writes: the upserts and the replacements of items and users. */
typedef enum rec_write { W_PUT_ITEM, W_PUT_USER, W_REPLACE_ITEM, W_REPLACE_USER } rec_write;

static tl_err write_record(tl_store *st, rec_write how, const void *r, int64_t *id, int *changed)
{
    switch (how) {
    case W_PUT_ITEM:
        return st->ops->put_item(st, r, id, changed);
    case W_PUT_USER:
        return st->ops->put_user(st, r, id, changed);
    case W_REPLACE_ITEM:
        return st->ops->replace_item(st, r, id, changed);
    case W_REPLACE_USER:
        return st->ops->replace_user(st, r, id, changed);
    }
    return TL_EINVAL;
}

/* Writes one item or user record (ext its id) and keeps the id cache in step. */
static tl_err put_record(tl_store *st, rec_write how, const char *ext, size_t len, const void *r,
                         tl_put *what, tl_diag *d)
{
    tl_id_kind k = how == W_PUT_ITEM || how == W_REPLACE_ITEM ? TL_ID_ITEM : TL_ID_USER;
    tl_err rc;
    int own, changed = 0;
    int64_t old = 0, id = 0;
    char pseudo[TL_PATRON_REF_SIZE];
    tl_user_rec user;
    size_t kept_len;
    const char *kept = k == TL_ID_USER ? tl__store_patron(st, ext, len, pseudo, &kept_len) : ext;
    if (kept != ext) { /* the record as the store keeps it: a pseudonym, a library's id */
        user = *(const tl_user_rec *)r;
        user.id = ext = kept;
        user.id_len = len = kept_len;
        r = &user;
    }
    if ((how == W_REPLACE_ITEM && !st->ops->replace_item) ||
        (how == W_REPLACE_USER && !st->ops->replace_user)) {
        tl_diag_set(d, NULL, 0, NULL, "the %s store cannot replace records", st->ops->name);
        return TL_EUNSUPPORTED;
    }
    AUTO_BEGIN(st, rc, own);
    if ((rc = resolve(st, k, ext, len, 0, &old)) != TL_OK)
        goto out;
    if ((rc = write_record(st, how, r, &id, &changed)) != TL_OK)
        goto out;
    if (!old && (rc = cache_put(&st->cache[k], ext, len, id)) != TL_OK)
        goto out;
    if (what)
        *what = !old ? TL_PUT_ADDED : changed ? TL_PUT_UPDATED : TL_PUT_UNCHANGED;
out:
    return auto_end(st, rc, own, d);
}

tl_err tl_store_put_item(tl_store *st, const tl_item_rec *r, tl_put *what, tl_diag *d)
{
    return put_record(st, W_PUT_ITEM, r->id, r->id_len, r, what, d);
}

tl_err tl_store_put_user(tl_store *st, const tl_user_rec *r, tl_put *what, tl_diag *d)
{
    return put_record(st, W_PUT_USER, r->id, r->id_len, r, what, d);
}

tl_err tl_store_replace_item(tl_store *st, const tl_item_rec *r, tl_put *what, tl_diag *d)
{
    return put_record(st, W_REPLACE_ITEM, r->id, r->id_len, r, what, d);
}

tl_err tl_store_replace_user(tl_store *st, const tl_user_rec *r, tl_put *what, tl_diag *d)
{
    return put_record(st, W_REPLACE_USER, r->id, r->id_len, r, what, d);
}

static tl_err no_record(tl_id_kind k, const char *ext, size_t len, tl_diag *d)
{
    tl_diag_set(d, NULL, 0, kind_name[k], "no %s '%.*s' in the store", kind_name[k],
                (int)(len > 80 ? 80 : len), ext);
    return TL_ENOTFOUND;
}

tl_err tl_store_get_item(tl_store *st, const char *id, size_t len, tl_store_item_fn fn, void *ctx,
                         int *found, tl_diag *d)
{
    if (!st->ops->get_item) {
        tl_diag_set(d, NULL, 0, NULL, "the %s store cannot read one item", st->ops->name);
        return TL_EUNSUPPORTED;
    }
    tl_err rc = st->ops->get_item(st, id, len, fn, ctx, found);
    return rc == TL_ESTORE || rc == TL_ENOMEM ? tl__store_fail(st, rc, d) : rc;
}

/* A patron's record handed back under the id the caller asked by, not its pseudonym. */
typedef struct asked_user {
    const char *id;
    size_t len;
    tl_store_user_fn fn;
    void *ctx;
} asked_user;

static tl_err as_asked(void *ctx, const tl_user_rec *r)
{
    asked_user *a = ctx;
    tl_user_rec u = *r;
    u.id = a->id;
    u.id_len = a->len;
    return a->fn(a->ctx, &u);
}

tl_err tl_store_get_user(tl_store *st, const char *id, size_t len, tl_store_user_fn fn, void *ctx,
                         int *found, tl_diag *d)
{
    if (!st->ops->get_user) {
        tl_diag_set(d, NULL, 0, NULL, "the %s store cannot read one user", st->ops->name);
        return TL_EUNSUPPORTED;
    }
    char pseudo[TL_PATRON_REF_SIZE];
    size_t plen;
    const char *pid = tl__store_patron(st, id, len, pseudo, &plen);
    asked_user a = {id, len, fn, ctx};
    int kept = pid != id; /* kept under another id (a pseudonym, a library's): answer as asked */
    tl_err rc = st->ops->get_user(st, pid, plen, kept && fn ? as_asked : fn,
                                  kept && fn ? (void *)&a : ctx, found);
    return rc == TL_ESTORE || rc == TL_ENOMEM ? tl__store_fail(st, rc, d) : rc;
}

/* Moves a counter of the meta table on (TL_META_CATALOGUE: an item left the catalogue;
 * TL_META_ERASURES: a patron was erased), so that readers in other processes learn of it. */
static tl_err bump_meta(tl_store *st, const char *key)
{
    char *v = NULL, text[32];
    tl_err rc = st->ops->get_meta(st, key, &v);
    if (rc != TL_OK)
        return rc;
    snprintf(text, sizeof(text), "%lld", (v ? atoll(v) : 0) + 1);
    free(v);
    return st->ops->set_meta(st, key, text);
}

static tl_err delete_record(tl_store *st, tl_id_kind k, const char *ext, size_t len,
                            long long *events, tl_diag *d)
{
    tl_err rc;
    int own;
    int64_t id = 0;
    long long n = 0;
    if (!st->ops->delete_record) {
        tl_diag_set(d, NULL, 0, NULL, "the %s store cannot delete records", st->ops->name);
        return TL_EUNSUPPORTED;
    }
    char pseudo[TL_PATRON_REF_SIZE];
    size_t plen = len;
    const char *sid = k == TL_ID_USER ? tl__store_patron(st, ext, len, pseudo, &plen) : ext;
    AUTO_BEGIN(st, rc, own);
    if ((rc = st->ops->find_id(st, k, sid, plen, &id)) != TL_OK)
        goto out;
    if (!id) {
        rc = no_record(k, ext, len, d);
        goto out;
    }
    if ((rc = st->ops->delete_record(st, k, id, &n)) != TL_OK)
        goto out;
    if ((rc = bump_meta(st, k == TL_ID_ITEM ? TL_META_CATALOGUE : TL_META_ERASURES)) != TL_OK)
        goto out;
    char now[32]; /* when: a model written before it may still hold the patron */
    snprintf(now, sizeof(now), "%lld", (long long)time(NULL));
    if (k == TL_ID_USER && (rc = st->ops->set_meta(st, TL_META_ERASED_AT, now)) != TL_OK)
        goto out;
    /* the id must not come back from the cache within this transaction */
    cache_clear(st);
    if (events)
        *events = n;
out:
    return auto_end(st, rc, own, d);
}

tl_err tl_store_delete_item(tl_store *st, const char *id, size_t len, long long *events, tl_diag *d)
{
    return delete_record(st, TL_ID_ITEM, id, len, events, d);
}

tl_err tl_store_delete_user(tl_store *st, const char *id, size_t len, long long *events, tl_diag *d)
{
    return delete_record(st, TL_ID_USER, id, len, events, d);
}

tl_err tl__store_resolve_event(tl_store *st, const tl_event_rec *r, int flags, tl_store_event *e,
                               tl_diag *d)
{
    int create = !(flags & TL_PUT_STRICT);
    tl_err rc;
    char pseudo[TL_PATRON_REF_SIZE];
    size_t ulen;
    const char *user = tl__store_patron(st, r->user, r->user_len, pseudo, &ulen);
    *e = (tl_store_event){.ts = r->ts,
                          .has_value = r->has_value,
                          .value = r->value,
                          .device = r->device,
                          .channel = r->channel,
                          .branch = r->branch,
                          .session = r->session};
    if ((rc = resolve(st, TL_ID_USER, user, ulen, create, &e->user)) != TL_OK)
        return rc;
    if (!e->user)
        return unknown(TL_ID_USER, r->user, r->user_len, d);
    if ((rc = resolve(st, TL_ID_ITEM, r->item, r->item_len, create, &e->item)) != TL_OK)
        return rc;
    if (!e->item)
        return unknown(TL_ID_ITEM, r->item, r->item_len, d);
    if (st->last_type_id && strcmp(r->type, st->last_type) == 0) {
        e->type = st->last_type_id;
        return TL_OK;
    }
    size_t n = strlen(r->type);
    if ((rc = resolve(st, TL_ID_TYPE, r->type, n, 1, &e->type)) == TL_OK &&
        n <= TL_EVENT_TYPE_MAX) {
        memcpy(st->last_type, r->type, n + 1);
        st->last_type_id = e->type;
    }
    return rc;
}

tl_err tl_store_put_event(tl_store *st, const tl_event_rec *r, int flags, tl_put *what, tl_diag *d)
{
    tl_err rc;
    int own;
    tl_store_event e;
    tl_put dummy;
    AUTO_BEGIN(st, rc, own);
    if ((rc = tl__store_resolve_event(st, r, flags, &e, d)) == TL_OK)
        rc = st->ops->put_event(st, &e, what ? what : &dummy);
    return auto_end(st, rc, own, d);
}

tl_err tl_store_put_search(tl_store *st, const tl_search_rec *r, int flags, tl_put *what,
                           tl_diag *d)
{
    tl_err rc;
    int own, create = !(flags & TL_PUT_STRICT);
    int64_t user = 0;
    AUTO_BEGIN(st, rc, own);
    if (r->user) {
        char pseudo[TL_PATRON_REF_SIZE];
        size_t ulen;
        const char *ext = tl__store_patron(st, r->user, r->user_len, pseudo, &ulen);
        if ((rc = resolve(st, TL_ID_USER, ext, ulen, create, &user)) != TL_OK)
            goto out;
        if (!user) {
            rc = unknown(TL_ID_USER, r->user, r->user_len, d);
            goto out;
        }
    }
    if (r->nclicked > st->click_cap) {
        int64_t *ids = realloc(st->click_ids, (size_t)r->nclicked * sizeof(*ids));
        if (!ids) {
            rc = TL_ENOMEM;
            goto out;
        }
        st->click_ids = ids;
        st->click_cap = r->nclicked;
    }
    for (int i = 0; i < r->nclicked; i++) {
        if ((rc = resolve(st, TL_ID_ITEM, r->clicked[i], r->clicked_len[i], create,
                          &st->click_ids[i])) != TL_OK)
            goto out;
        if (!st->click_ids[i]) {
            rc = unknown(TL_ID_ITEM, r->clicked[i], r->clicked_len[i], d);
            goto out;
        }
    }
    tl_put dummy;
    rc = st->ops->put_search(st, user, r, st->click_ids, what ? what : &dummy);
out:
    return auto_end(st, rc, own, d);
}

tl_err tl_store_count(tl_store *st, tl_store_counts *out)
{
    return st->ops->count(st, out);
}

tl_err tl_store_events_by_type(tl_store *st, tl_store_row_fn fn, void *ctx)
{
    return st->ops->events_by_type(st, fn, ctx);
}

tl_err tl_store_top_items(tl_store *st, int limit, tl_store_row_fn fn, void *ctx)
{
    return st->ops->top_items(st, limit, fn, ctx);
}

tl_err tl_store_top_users(tl_store *st, int limit, tl_store_row_fn fn, void *ctx)
{
    return st->ops->top_users ? st->ops->top_users(st, limit, fn, ctx) : TL_EUNSUPPORTED;
}

tl_err tl_store_changed(tl_store *st, int *changed)
{
    *changed = 1;
    return st->ops->changed ? st->ops->changed(st, changed) : TL_OK;
}

tl_err tl_store_events_since(tl_store *st, int64_t since, int limit, tl_store_row_fn fn, void *ctx,
                             int64_t *count)
{
    if (limit < 0 || !count)
        return TL_EINVAL;
    return st->ops->events_since(st, since, limit, fn, ctx, count);
}

/* Attribute names go into a JSON path: letters, digits, '_' and '-' only. */
static int attr_ok(const char *attr)
{
    size_t n = attr ? strlen(attr) : 0;
    if (!n || n > 64)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)attr[i]) && attr[i] != '_' && attr[i] != '-')
            return 0;
    return 1;
}

tl_err tl_store_segment_top(tl_store *st, const char *attr, const char *value, int min, int limit,
                            tl_store_row_fn fn, void *ctx)
{
    if (!attr_ok(attr) || !value || limit < 0 || min < 1)
        return TL_EINVAL;
    return st->ops->segment_top(st, attr, value, min, limit, fn, ctx);
}

tl_err tl_store_user_attr(tl_store *st, const char *user, const char *attr, char **out)
{
    *out = NULL;
    if (!attr_ok(attr) || !user)
        return TL_EINVAL;
    char pseudo[TL_PATRON_REF_SIZE];
    return st->ops->user_attr(st, tl__store_patron(st, user, strlen(user), pseudo, NULL), attr,
                              out);
}

tl_err tl_store_item_counts_since(tl_store *st, int64_t since, tl_store_row_fn fn, void *ctx)
{
    return st->ops->item_counts_since(st, since, fn, ctx);
}

tl_err tl_store_trending(tl_store *st, int64_t window, int limit, tl_store_row_fn fn, void *ctx)
{
    return st->ops->trending(st, window, limit, fn, ctx);
}

tl_err tl_store_get_meta(tl_store *st, const char *key, char **out)
{
    return st->ops->get_meta(st, key, out);
}

tl_err tl_store_counter(tl_store *st, const char *key, long long *out)
{
    char *v = NULL;
    tl_err rc = st->ops->get_meta(st, key, &v);
    *out = v ? atoll(v) : 0;
    free(v);
    return rc;
}

typedef struct items_each {
    tl_store_row_fn fn;
    void *ctx;
} items_each;

static tl_err item_row(void *ctx, const tl_store_item_row *r)
{
    items_each *e = ctx;
    return e->fn(e->ctx, r->ext, r->title, 0);
}

tl_err tl_store_items_each(tl_store *st, tl_store_row_fn fn, void *ctx)
{
    items_each e = {fn, ctx};
    return st->ops->scan_items(st, item_row, &e);
}

tl_err tl_store_set_meta(tl_store *st, const char *key, const char *value)
{
    if (st->readonly)
        return TL_EINVAL;
    int own = !st->in_txn; /* a commit of its own, like the other writes */
    tl_err rc = own ? tl_store_begin(st) : TL_OK;
    if (rc == TL_OK)
        rc = st->ops->set_meta(st, key, value);
    if (own && rc == TL_OK)
        rc = tl_store_commit(st);
    else if (own && st->in_txn)
        tl_store_rollback(st);
    return rc;
}

tl_err tl_store_event_weights(tl_store *st, tl_event_weights *w, tl_diag *d)
{
    char *saved = NULL;
    tl_event_weights_init(w);
    tl_err rc = tl_store_get_meta(st, TL_META_EVENT_WEIGHTS, &saved);
    if (rc != TL_OK)
        return tl__store_fail(st, rc, d);
    if (saved)
        rc = tl_event_weights_parse(w, saved, d);
    free(saved);
    return rc;
}

/* ---- API keys ------------------------------------------------------------------------------- */

#define KEYS_VERSION 2 /* the schema version that added api_keys */

tl_err tl__store_ready(tl_store *st, int has_op, int version, const char *what, const char *writers,
                       tl_diag *d)
{
    if (!has_op) {
        tl_diag_set(d, NULL, 0, NULL, "the %s store has no %s", st->ops->name, what);
        return TL_EUNSUPPORTED;
    }
    if (st->schema_version < version) {
        tl_diag_set(d, NULL, 0, NULL,
                    "the store has schema version %d, before %s; a command that writes to it "
                    "(%s) upgrades it",
                    st->schema_version, what, writers);
        return TL_EVERSION;
    }
    return TL_OK;
}

static tl_err keys_ready(tl_store *st, tl_diag *d)
{
    return tl__store_ready(st, st->ops->get_key != NULL, KEYS_VERSION, "API keys",
                           "tailor key create, tailor import", d);
}

static int key_id_ok(const char *id)
{
    size_t n = id ? strlen(id) : 0;
    if (n == 0 || n > TL_KEY_ID_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return 0;
    }
    return 1;
}

tl_err tl_store_put_key(tl_store *st, const tl_store_key *k, const uint8_t *hash, size_t hash_len,
                        tl_diag *d)
{
    tl_err rc = keys_ready(st, d);
    if (rc != TL_OK)
        return rc;
    int patron = k->role && strcmp(k->role, "patron") == 0;
    if (!k->role || (!patron && strcmp(k->role, "admin") != 0 && strcmp(k->role, "app") != 0)) {
        tl_diag_set(d, NULL, 0, "role", "expected a role admin, app or patron");
        return TL_EINVAL;
    }
    if (!key_id_ok(k->id)) {
        tl_diag_set(d, NULL, 0, "id", "a key id is 1 to %d letters, digits, '-' or '_'",
                    TL_KEY_ID_MAX);
        return TL_EINVAL;
    }
    size_t ulen = k->user ? strlen(k->user) : 0;
    if ((patron && ulen == 0) || ulen > TL_KEY_USER_MAX) {
        tl_diag_set(d, NULL, 0, "user", "%s",
                    ulen ? "the patron id is too long" : "a patron key needs a patron (--user)");
        return TL_EINVAL;
    }
    if (!hash || hash_len == 0 || hash_len > TL_KEY_HASH_MAX) {
        tl_diag_set(d, NULL, 0, "hash", "a key hash is 1 to %d bytes", TL_KEY_HASH_MAX);
        return TL_EINVAL;
    }
    if (st->readonly) {
        tl_diag_set(d, NULL, 0, NULL, "the store was opened read-only");
        return TL_EINVAL;
    }
    char pseudo[TL_PATRON_REF_SIZE];
    tl_store_key kept = *k; /* a patron key names the patron as the store does (its tenant's) */
    if (patron)
        kept.user =
            tl_patron_ref(st->has_pkey ? st->pkey : NULL, k->tenant, k->user, ulen, pseudo, NULL);
    int own = !st->in_txn;
    if (own && (rc = tl_store_begin(st)) != TL_OK)
        return tl__store_fail(st, rc, d);
    rc = st->ops->put_key(st, &kept, hash, hash_len);
    if (rc == TL_OK && k->tenant && *k->tenant)
        rc = tl__store_key_tenant_put(st, k->id, k->tenant, d);
    if (own && rc == TL_OK)
        rc = tl_store_commit(st);
    else if (own && st->in_txn)
        tl_store_rollback(st);
    return rc == TL_OK || d->msg[0] ? rc : tl__store_fail(st, rc, d);
}

typedef struct key_tenant_scan {
    tl_store *st;
    tl_store_key_fn fn;
    void *ctx;
} key_tenant_scan;

/* fn for the key with its tenant */
static tl_err with_tenant(void *ctx, const tl_store_key *k)
{
    key_tenant_scan *s = ctx;
    char tenant[TL_TENANT_ID_MAX + 1];
    tl_store_key one = *k;
    tl_err rc = tl__store_key_tenant(s->st, k->id, tenant);
    one.tenant = tenant[0] ? tenant : NULL;
    return rc != TL_OK ? rc : s->fn(s->ctx, &one);
}

tl_err tl_store_list_keys(tl_store *st, tl_store_key_fn fn, void *ctx, tl_diag *d)
{
    tl_err rc = keys_ready(st, d);
    if (rc != TL_OK)
        return rc;
    key_tenant_scan k = {st, fn, ctx};
    rc = st->ops->list_keys(st, with_tenant, &k);
    return rc == TL_OK || rc != TL_ESTORE ? rc : tl__store_fail(st, rc, d);
}

tl_err tl_store_revoke_key(tl_store *st, const char *id, int64_t when, tl_diag *d)
{
    tl_err rc = keys_ready(st, d);
    if (rc != TL_OK)
        return rc;
    if (st->readonly) {
        tl_diag_set(d, NULL, 0, NULL, "the store was opened read-only");
        return TL_EINVAL;
    }
    int changes = 0;
    int own = !st->in_txn;
    if (own && (rc = tl_store_begin(st)) != TL_OK)
        return tl__store_fail(st, rc, d);
    rc = st->ops->revoke_key(st, id ? id : "", when, &changes);
    if (own && rc == TL_OK && changes)
        rc = tl_store_commit(st);
    else if (own && st->in_txn)
        tl_store_rollback(st);
    if (rc != TL_OK)
        return tl__store_fail(st, rc, d);
    if (!changes) {
        tl_diag_set(d, NULL, 0, "id", "no API key '%.64s' in the store (see tailor key list)",
                    id ? id : "");
        return TL_ENOTFOUND;
    }
    return TL_OK;
}

tl_err tl_store_get_key(tl_store *st, const char *id, tl_store_key_auth *out, int *found,
                        tl_diag *d)
{
    tl_err rc = keys_ready(st, d);
    if (rc != TL_OK)
        return rc;
    rc = st->ops->get_key(st, id ? id : "", out, found);
    if (rc == TL_OK && *found) /* fails closed: a key whose tenant cannot be read is refused */
        rc = tl__store_key_tenant(st, id, out->tenant);
    return rc == TL_OK ? TL_OK : tl__store_fail(st, rc, d);
}
