/* Reading lists, reviews and learning paths of any store (schema version 5): the schema check,
 * patron ids through the door, and a transaction around each write; the engine (lib_int.h)
 * reads and writes. */
#include <string.h>

#include "store/lib_int.h"
#include "store/store_int.h"

#define LIB_VERSION 5 /* the schema version that added lists, reviews and paths */

static tl_err lib_ready(tl_store *st, tl_diag *d)
{
    return tl__store_ready(st, st->ops->lib != NULL, LIB_VERSION,
                           "reading lists, reviews and learning paths",
                           "tailor import, tailor list create, tailor path import", d);
}

static tl_err failed(tl_store *st, tl_err rc, tl_diag *d)
{
    return (rc == TL_ESTORE || rc == TL_ENOMEM) && !d->msg[0] ? tl__store_fail(st, rc, d) : rc;
}

/* Runs a write: in the caller's transaction, else one of its own committed on success. */
static tl_err begin_own(tl_store *st, int *own)
{
    *own = !st->in_txn;
    return *own ? tl_store_begin(st) : TL_OK;
}

static tl_err end_own(tl_store *st, tl_err rc, int own, tl_diag *d)
{
    if (own && rc == TL_OK)
        rc = tl_store_commit(st);
    else if (own && st->in_txn)
        tl_store_rollback(st);
    return failed(st, rc, d);
}

/* The patron id as the store keeps it: pseudonymized into buf with a key. */
static const char *kept(tl_store *st, const char *user, char *buf)
{
    return user ? tl__store_patron(st, user, strlen(user), buf, NULL) : NULL;
}

static tl_err need(const char *v, const char *field, tl_diag *d)
{
    if (v && *v)
        return TL_OK;
    tl_diag_set(d, NULL, 0, field, "no %s id", field);
    return TL_EINVAL;
}

#define WRITE(st, d, call)                                                                         \
    do {                                                                                           \
        int own_;                                                                                  \
        tl_err rc_ = lib_ready(st, d);                                                             \
        if (rc_ != TL_OK)                                                                          \
            return rc_;                                                                            \
        if ((rc_ = begin_own(st, &own_)) != TL_OK)                                                 \
            return failed(st, rc_, d);                                                             \
        return end_own(st, (call), own_, d);                                                       \
    } while (0)

#define READ(st, d, call)                                                                          \
    do {                                                                                           \
        tl_err rc_ = lib_ready(st, d);                                                             \
        return rc_ != TL_OK ? rc_ : failed(st, (call), d);                                         \
    } while (0)

tl_err tl_store_list_put(tl_store *st, const tl_store_readlist *l, int64_t now, tl_put *what,
                         tl_diag *d)
{
    char buf[TL_PATRON_REF_SIZE];
    tl_store_readlist k = *l;
    tl_err rc = need(l->id, "list", d);
    if (rc != TL_OK)
        return rc;
    if (!l->title || !*l->title) {
        tl_diag_set(d, NULL, 0, "title", "a list needs a title");
        return TL_EINVAL;
    }
    k.user = kept(st, l->user, buf);
    WRITE(st, d, st->ops->lib->list_put(st, &k, now, what, d));
}

tl_err tl_store_list_get(tl_store *st, const char *id, tl_store_readlist_fn fn,
                         tl_store_readlist_item_fn ifn, void *ctx, int *found, tl_diag *d)
{
    *found = 0;
    READ(st, d, st->ops->lib->list_get(st, id, fn, ifn, ctx, found));
}

tl_err tl_store_list_delete(tl_store *st, const char *id, tl_diag *d)
{
    WRITE(st, d, st->ops->lib->list_delete(st, id, d));
}

tl_err tl_store_list_add(tl_store *st, const char *list, const char *item, const char *note,
                         int64_t now, tl_put *what, tl_diag *d)
{
    tl_err rc = need(item, "item", d);
    if (rc != TL_OK)
        return rc;
    WRITE(st, d, st->ops->lib->list_add(st, list, item, note, now, what, d));
}

tl_err tl_store_list_remove(tl_store *st, const char *list, const char *item, tl_diag *d)
{
    WRITE(st, d, st->ops->lib->list_remove(st, list, item, d));
}

tl_err tl_store_lists_each(tl_store *st, const char *user, const char *item, int public_only,
                           tl_store_readlist_fn fn, void *ctx, tl_diag *d)
{
    char buf[TL_PATRON_REF_SIZE];
    READ(st, d, st->ops->lib->lists_each(st, kept(st, user, buf), item, public_only, fn, ctx));
}

tl_err tl_store_list_neighbours(tl_store *st, const char *item, int limit, tl_store_row_fn fn,
                                void *ctx, tl_diag *d)
{
    READ(st, d, st->ops->lib->list_neighbours(st, item, limit, fn, ctx));
}

tl_err tl_store_review_put(tl_store *st, const tl_store_review *r, tl_put *what, tl_diag *d)
{
    char buf[TL_PATRON_REF_SIZE];
    tl_store_review k = *r;
    tl_err rc = need(r->user, "user", d);
    if (rc == TL_OK)
        rc = need(r->item, "item", d);
    if (rc != TL_OK)
        return rc;
    k.user = kept(st, r->user, buf);
    WRITE(st, d, st->ops->lib->review_put(st, &k, what, d));
}

tl_err tl_store_review_delete(tl_store *st, const char *user, const char *item, tl_diag *d)
{
    char buf[TL_PATRON_REF_SIZE];
    WRITE(st, d, st->ops->lib->review_delete(st, kept(st, user, buf), item, d));
}

tl_err tl_store_reviews_each(tl_store *st, const char *user, const char *item, int public_only,
                             tl_store_review_fn fn, void *ctx, tl_diag *d)
{
    char buf[TL_PATRON_REF_SIZE];
    READ(st, d, st->ops->lib->reviews_each(st, kept(st, user, buf), item, public_only, fn, ctx));
}

tl_err tl_store_path_put(tl_store *st, const tl_store_path *p, const tl_store_step *steps, int n,
                         tl_put *what, tl_diag *d)
{
    tl_err rc = need(p->id, "path", d);
    if (rc != TL_OK)
        return rc;
    if (!p->title || !*p->title) {
        tl_diag_set(d, NULL, 0, "title", "a path needs a title");
        return TL_EINVAL;
    }
    if (p->origin && strcmp(p->origin, "librarian") != 0 && strcmp(p->origin, "proposed") != 0) {
        tl_diag_set(d, NULL, 0, "origin", "a path's origin is librarian or proposed");
        return TL_EINVAL;
    }
    WRITE(st, d, st->ops->lib->path_put(st, p, steps, n, what, d));
}

tl_err tl_store_path_get(tl_store *st, const char *id, tl_store_path_fn fn, tl_store_step_fn sfn,
                         void *ctx, int *found, tl_diag *d)
{
    *found = 0;
    READ(st, d, st->ops->lib->path_get(st, id, fn, sfn, ctx, found));
}

tl_err tl_store_paths_each(tl_store *st, const char *topic, tl_store_path_fn fn, void *ctx,
                           tl_diag *d)
{
    READ(st, d, st->ops->lib->paths_each(st, topic, fn, ctx));
}

tl_err tl_store_path_delete(tl_store *st, const char *id, tl_diag *d)
{
    WRITE(st, d, st->ops->lib->path_delete(st, id, d));
}

tl_err tl_store_feedback_put(tl_store *st, const char *path, const char *item, const char *user,
                             int useful, int64_t ts, tl_diag *d)
{
    char buf[TL_PATRON_REF_SIZE];
    tl_err rc = need(user, "user", d);
    if (rc != TL_OK)
        return rc;
    WRITE(st, d, st->ops->lib->feedback_put(st, path, item, kept(st, user, buf), useful, ts, d));
}

tl_err tl_store_feedback_each(tl_store *st, const char *path, const char *user,
                              tl_store_feedback_fn fn, void *ctx, tl_diag *d)
{
    char buf[TL_PATRON_REF_SIZE];
    READ(st, d, st->ops->lib->feedback_each(st, path, kept(st, user, buf), fn, ctx));
}

tl_err tl_store_topic_items(tl_store *st, const char *topic, tl_store_topic_fn fn, void *ctx,
                            tl_diag *d)
{
    READ(st, d, st->ops->lib->topic_items(st, topic, fn, ctx));
}

tl_err tl_store_topic_uses(tl_store *st, const char *topic, tl_store_use_fn fn, void *ctx,
                           tl_diag *d)
{
    READ(st, d, st->ops->lib->topic_uses(st, topic, fn, ctx));
}
