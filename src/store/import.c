/* The import driver: the ingest engine (src/ingest) parses and validates, this file is its sink
 * and writes each record through the store interface, all inside one transaction so that a
 * failed import leaves the store exactly as it was. The transaction, and with it the store's
 * write lock, begins with the first record: an import still waiting for its input (a pipe, a
 * terminal) holds nothing up. Events are resolved at once (so an unknown id is reported on its
 * line) but written in sorted batches: B-tree inserts in key order touch neighbouring pages,
 * which makes bulk imports markedly faster than file order. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"
#include "util/clock.h"
#include "util/intern.h"

#define BATCH 65536 /* events sorted per batch: 10 MiB, constant whatever the file size */
#define NCTX 4      /* device, channel, branch, session */

typedef struct pending {
    int64_t user, item, type, ts;
    double value;
    int has_value;
    uint32_t seq;      /* file order, so that the same key twice keeps its order */
    int32_t ctx[NCTX]; /* offsets into the arena, -1 = NULL */
} pending;

/* Item records after which an import builds the search index in bulk (a rebuild of the whole
 * index costs about what this many records cost through the triggers on a small catalogue). */
#define IMPORT_BULK_ITEMS 10000

typedef struct sink_ctx {
    tl_store *st;
    int flags;
    int begun;       /* the transaction is open */
    long long items; /* item records so far */
    int bulk;        /* the search index is built whole at the end (tl_store_search_bulk_*) */
    tl_import_report *rep;
    pending *ev;
    tl_store_event *out; /* the batch in key order, as the backend takes it */
    struct sort_key *keys;
    int n;
    uint32_t seq;
    char *arena;
    size_t arena_len, arena_cap;
    /* copies (ILS item numbers) resolved so far: each distinct copy costs one lookup */
    tl_intern copies;
    char **copy_items; /* by the copy's index: its record's id, NULL when it has none */
    int32_t copy_cap;
} sink_ctx;

/* Takes the write lock (waiting for other writers as the store says) on the first record. */
static tl_err begin_once(sink_ctx *c, tl_diag *d)
{
    if (c->begun)
        return TL_OK;
    tl_err rc = tl_store_begin(c->st);
    if (rc != TL_OK)
        return tl__store_fail(c->st, rc, d);
    c->begun = 1;
    return TL_OK;
}

static void count(sink_ctx *c, tl_put what)
{
    if (what == TL_PUT_ADDED)
        c->rep->added++;
    else if (what == TL_PUT_UPDATED)
        c->rep->updated++;
    else
        c->rep->unchanged++;
}

static tl_err put_item(void *ctx, const tl_item_rec *r, tl_diag *d)
{
    sink_ctx *c = ctx;
    tl_put what;
    tl_err rc = begin_once(c, d);
    /* a big catalogue load stops the search index from following each record: it is built
     * again whole, in bulk, before the commit (an older store without the index, or an engine
     * without one: no need) */
    if (rc == TL_OK && ++c->items == IMPORT_BULK_ITEMS && c->st->schema_version >= 8 &&
        c->st->ops->search_bulk && (rc = tl_store_search_bulk_begin(c->st, d)) == TL_OK)
        c->bulk = 1;
    if (rc == TL_OK)
        rc = tl_store_put_item(c->st, r, &what, d);
    if (rc == TL_OK)
        count(c, what);
    return rc;
}

static tl_err put_user(void *ctx, const tl_user_rec *r, tl_diag *d)
{
    sink_ctx *c = ctx;
    tl_put what;
    tl_err rc = begin_once(c, d);
    if (rc == TL_OK)
        rc = tl_store_put_user(c->st, r, &what, d);
    if (rc == TL_OK)
        count(c, what);
    return rc;
}

static int cmp_pending(const void *pa, const void *pb)
{
    const pending *a = pa, *b = pb;
#define CMP(f)                                                                                     \
    do {                                                                                           \
        if (a->f != b->f)                                                                          \
            return a->f < b->f ? -1 : 1;                                                           \
    } while (0)
    CMP(user);
    CMP(item);
    CMP(type);
    CMP(ts);
    CMP(seq);
#undef CMP
    return 0;
}

/* (user, item) packed in 64 bits, then file order: sorting these 16-byte keys is much cheaper
 * than moving the events, and file order keeps "the later of two equal keys wins". */
typedef struct sort_key {
    uint64_t k;
    uint32_t i;
} sort_key;

static int cmp_key(const void *pa, const void *pb)
{
    const sort_key *a = pa, *b = pb;
    if (a->k != b->k)
        return a->k < b->k ? -1 : 1;
    return a->i < b->i ? -1 : a->i > b->i;
}

static void emit(sink_ctx *c, int at, const pending *p)
{
    const char *cs[NCTX];
    for (int k = 0; k < NCTX; k++)
        cs[k] = p->ctx[k] < 0 ? NULL : c->arena + p->ctx[k];
    c->out[at] = (tl_store_event){.user = p->user,
                                  .item = p->item,
                                  .type = p->type,
                                  .ts = p->ts,
                                  .has_value = p->has_value,
                                  .value = p->value,
                                  .device = cs[0],
                                  .channel = cs[1],
                                  .branch = cs[2],
                                  .session = cs[3]};
}

/* Writes the pending events in key order. */
static tl_err flush(sink_ctx *c, tl_diag *d)
{
    tl_err rc = TL_OK;
    int packed = 1;
    for (int i = 0; i < c->n && packed; i++)
        packed = (uint64_t)c->ev[i].user <= UINT32_MAX && (uint64_t)c->ev[i].item <= UINT32_MAX;
    if (packed) {
        for (int i = 0; i < c->n; i++)
            c->keys[i] =
                (sort_key){((uint64_t)c->ev[i].user << 32) | (uint64_t)c->ev[i].item, (uint32_t)i};
        qsort(c->keys, (size_t)c->n, sizeof(*c->keys), cmp_key);
        for (int i = 0; i < c->n; i++)
            emit(c, i, &c->ev[c->keys[i].i]);
    } else {
        /* ids beyond 2^32: sort the events themselves */
        qsort(c->ev, (size_t)c->n, sizeof(*c->ev), cmp_pending);
        for (int i = 0; i < c->n; i++)
            emit(c, i, &c->ev[i]);
    }
    if (c->st->ops->put_events) {
        long long added = 0, updated = 0;
        rc = c->st->ops->put_events(c->st, c->out, c->n, &added, &updated);
        c->rep->added += added;
        c->rep->updated += updated;
        c->rep->unchanged += rc == TL_OK ? c->n - added - updated : 0;
    } else {
        for (int i = 0; i < c->n && rc == TL_OK; i++) {
            tl_put what;
            if ((rc = c->st->ops->put_event(c->st, &c->out[i], &what)) == TL_OK)
                count(c, what);
        }
    }
    c->n = 0;
    c->arena_len = 0;
    return rc == TL_OK ? TL_OK : tl__store_fail(c->st, rc, d);
}

static tl_err keep_str(sink_ctx *c, const char *s, int32_t *off)
{
    if (!s) {
        *off = -1;
        return TL_OK;
    }
    size_t n = strlen(s) + 1;
    if (c->arena_len + n > c->arena_cap) {
        size_t cap = c->arena_cap ? c->arena_cap : 1 << 16;
        while (cap < c->arena_len + n)
            cap *= 2;
        char *a = realloc(c->arena, cap);
        if (!a)
            return TL_ENOMEM;
        c->arena = a;
        c->arena_cap = cap;
    }
    memcpy(c->arena + c->arena_len, s, n);
    *off = (int32_t)c->arena_len;
    c->arena_len += n;
    return TL_OK;
}

static tl_err put_event(void *ctx, const tl_event_rec *r, tl_diag *d)
{
    sink_ctx *c = ctx;
    tl_store_event e;
    tl_err rc;
    if ((rc = begin_once(c, d)) != TL_OK ||
        (rc = tl__store_resolve_event(c->st, r, c->flags, &e, d)) != TL_OK)
        return rc;
    if (!c->ev) {
        c->ev = malloc(BATCH * sizeof(*c->ev));
        c->out = malloc(BATCH * sizeof(*c->out));
        c->keys = malloc(BATCH * sizeof(*c->keys));
        if (!c->ev || !c->out || !c->keys)
            return TL_ENOMEM;
    }
    /* the arena holds at most BATCH x 4 fields of 64 KiB: flush early when it grows past 64 MiB */
    if (c->n == BATCH || c->arena_len > (64u << 20)) {
        if ((rc = flush(c, d)) != TL_OK)
            return rc;
    }
    pending *p = &c->ev[c->n];
    *p = (pending){.user = e.user,
                   .item = e.item,
                   .type = e.type,
                   .ts = e.ts,
                   .value = e.value,
                   .has_value = e.has_value,
                   .seq = c->seq++};
    const char *cs[NCTX] = {e.device, e.channel, e.branch, e.session};
    for (int k = 0; k < NCTX; k++)
        if ((rc = keep_str(c, cs[k], &p->ctx[k])) != TL_OK)
            return rc;
    c->n++;
    return TL_OK;
}

static tl_err put_search(void *ctx, const tl_search_rec *r, tl_diag *d)
{
    sink_ctx *c = ctx;
    tl_put what;
    tl_err rc = begin_once(c, d);
    if (rc == TL_OK)
        rc = tl_store_put_search(c->st, r, c->flags, &what, d);
    if (rc == TL_OK)
        count(c, what);
    return rc;
}

/* The record of a copy, through the holdings; TL_ENOTFOUND when they have no such copy. */
static tl_err copy_item(void *ctx, const char *copy, size_t len, const char **item,
                        size_t *item_len, tl_diag *d)
{
    sink_ctx *c = ctx;
    tl_err rc = begin_once(c, d);
    if (rc != TL_OK)
        return rc;
    int32_t i = tl_intern_find(&c->copies, copy, len);
    if (i < 0) {
        char *found = NULL;
        rc = tl_store_item_for_copy(c->st, copy, len, &found, d);
        if (rc != TL_OK && rc != TL_ENOTFOUND)
            return rc;
        if ((rc = tl_intern_add(&c->copies, copy, len, &i)) != TL_OK) {
            free(found);
            return rc;
        }
        if (i >= c->copy_cap) {
            int32_t cap = c->copy_cap ? c->copy_cap * 2 : 256;
            char **a = realloc(c->copy_items, (size_t)cap * sizeof(*a));
            if (!a) {
                free(found);
                return TL_ENOMEM;
            }
            c->copy_items = a;
            c->copy_cap = cap;
        }
        c->copy_items[i] = found;
    }
    if (!c->copy_items[i])
        return TL_ENOTFOUND;
    *item = c->copy_items[i];
    *item_len = strlen(*item);
    return TL_OK;
}

void tl_import_opts_init(tl_import_opts *o)
{
    memset(o, 0, sizeof(*o));
    tl_ingest_opts_init(&o->in);
}

/* Saves the weight overrides merged into the store's table (read inside the transaction, so
 * that a concurrent import's overrides are not lost); a dry run only checks them. */
static tl_err save_weights(tl_store *st, const char *overrides, int dry_run, tl_diag *d)
{
    tl_event_weights w;
    size_t cap = 8192;
    char *merged = NULL;
    tl_err rc;
    if ((rc = tl_store_event_weights(st, &w, d)) != TL_OK ||
        (rc = tl_event_weights_parse(&w, overrides, d)) != TL_OK || dry_run)
        return rc;
    if (!(merged = malloc(cap)))
        return TL_ENOMEM;
    tl_event_weights_format(&w, merged, cap);
    if ((rc = tl_store_set_meta(st, TL_META_EVENT_WEIGHTS, merged)) != TL_OK)
        tl__store_fail(st, rc, d);
    free(merged);
    return rc;
}

tl_err tl_store_import(tl_store *st, const tl_import_opts *o, tl_import_report *rep, tl_diag *d)
{
    tl_import_report dummy;
    tl_diag dd;
    if (!rep)
        rep = &dummy;
    if (!d)
        d = &dd;
    memset(rep, 0, sizeof(*rep));
    tl_diag_clear(d);
    double t0 = tl_now();
    sink_ctx c = {.st = st, .flags = o->strict ? TL_PUT_STRICT : 0, .rep = rep};
    tl_intern_init(&c.copies);
    tl_ingest_sink sink = {.ctx = &c,
                           .item = put_item,
                           .user = put_user,
                           .event = put_event,
                           .search = put_search,
                           .copy = copy_item};
    tl_err rc = TL_EINVAL;
    if (st->in_txn || st->readonly) {
        tl_diag_set(d, NULL, 0, NULL,
                    st->readonly ? "the store is open read-only"
                                 : "an import cannot run inside a transaction");
        return rc;
    }
    if (o->weights) {
        /* bad overrides are found before the input is read (merged with the saved ones and
         * saved with the data at the end) */
        tl_event_weights w;
        tl_event_weights_init(&w);
        if ((rc = tl_event_weights_parse(&w, o->weights, d)) != TL_OK)
            return rc;
    }
    rc = tl_ingest_file(&o->in, &sink, &rep->in, d);
    if (rc == TL_OK && c.n)
        rc = flush(&c, d);
    rep->new_users = st->created[TL_ID_USER];
    rep->new_items = st->created[TL_ID_ITEM];
    /* an input without records still commits (its weights; and a new store is kept) */
    if (rc == TL_OK && !o->dry_run)
        rc = begin_once(&c, d);
    if (rc == TL_OK && o->weights)
        rc = save_weights(st, o->weights, o->dry_run, d);
    if (rc == TL_OK && c.bulk && !o->dry_run)
        rc = tl_store_search_bulk_end(st, d);
    else if (rc == TL_OK && c.items && !o->dry_run && st->schema_version >= 8 &&
             st->ops->search_bulk)         /* an engine without the index: nothing to do */
        rc = tl_store_search_heads(st, d); /* the records went through the index's triggers */
    if (rc == TL_OK && !o->dry_run) {
        if ((rc = tl_store_commit(st)) != TL_OK)
            tl__store_fail(st, rc, d);
        else
            rep->committed = 1;
    } else if (c.begun) {
        tl_store_rollback(st);
    }
    free(c.ev);
    free(c.out);
    free(c.keys);
    free(c.arena);
    for (int32_t i = 0; i < c.copies.count; i++)
        free(c.copy_items[i]);
    free(c.copy_items);
    tl_intern_release(&c.copies);
    rep->seconds = tl_now() - t0;
    return rc;
}
