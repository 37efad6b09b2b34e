/* Items withdrawn since training: a deleted item must leave every answer at once, not at the
 * next training. The store counts deletions of items (TL_META_CATALOGUE); a request reads that
 * count only when the store changed, and the flags are rebuilt only when it moved. */
#include <stdlib.h>
#include <string.h>

#include "service/service_int.h"

typedef struct tl_withdrawn_old {
    uint8_t *flags;
    struct tl_withdrawn_old *next;
} tl_withdrawn_old;

typedef struct mark {
    const tl_model *m;
    uint8_t *present;
} mark;

static tl_err mark_present(void *ctx, const char *id, const char *title, int64_t count)
{
    (void)title;
    (void)count;
    mark *k = ctx;
    int32_t i = tl_intern_find(&k->m->items, id, strlen(id));
    if (i >= 0)
        k->present[i] = 1;
    return TL_OK;
}

/* The flags of r's items the store no longer has (NULL with *none when it has them all). */
static uint8_t *withdrawn_flags(tl_store *st, const tl_model *m, int *none, tl_err *rc)
{
    mark k = {m, calloc((size_t)m->n_items + 1, 1)};
    *none = 1;
    if (!k.present) {
        *rc = TL_ENOMEM;
        return NULL;
    }
    if ((*rc = tl_store_items_each(st, mark_present, &k)) != TL_OK) {
        free(k.present);
        return NULL;
    }
    for (int32_t i = 0; i < m->n_items; i++) {
        k.present[i] = !k.present[i];
        *none &= !k.present[i];
    }
    if (*none) {
        free(k.present);
        return NULL;
    }
    return k.present;
}

/* Keeps the flags in use for freeing with r (requests may still read them). */
static int retire(tl_model_ref *r, uint8_t *flags)
{
    if (!flags)
        return 1;
    tl_withdrawn_old *o = malloc(sizeof(*o));
    if (!o)
        return 0;
    o->flags = flags;
    o->next = r->retired;
    r->retired = o;
    return 1;
}

/* Reads the store's deletion count and rebuilds the flags when it moved; on failure the flags
 * stay as they were and the next change tries again. Under r->cat_mu. */
static void refresh(tl_service *s, tl_model_ref *r, tl_store *st, uint64_t gen)
{
    long long version = 0;
    tl_err rc = tl_store_counter(st, TL_META_CATALOGUE, &version);
    int none = 1;
    if (rc == TL_OK && version != r->cat_version && (version > 0 || r->cat_version > 0)) {
        uint8_t *flags = withdrawn_flags(st, r->m, &none, &rc);
        uint8_t *old = atomic_load_explicit(&r->withdrawn, memory_order_relaxed);
        if (rc == TL_OK && retire(r, old)) {
            atomic_store_explicit(&r->withdrawn, flags, memory_order_release);
        } else {
            free(flags);
            rc = rc == TL_OK ? TL_ENOMEM : rc;
        }
    }
    if (rc != TL_OK) {
        tl__service_log(s, "error", "catalogue", "could not read deleted items: %s",
                        tl_strerror(rc));
        return;
    }
    /* a patron erased by another process (tailor user erase): the models learnt from them */
    long long erasures = 0, seen = atomic_load(&s->erasures_seen);
    if (tl_store_counter(st, TL_META_ERASURES, &erasures) == TL_OK && erasures > seen &&
        atomic_compare_exchange_strong(&s->erasures_seen, &seen, erasures)) {
        int again = tl__service_retrain_after_erasure(s);
        tl__service_log(s, again ? "info" : "error", "erase",
                        again ? "a patron was erased from the store: training the models again"
                              : "a patron was erased from the store; this service cannot train "
                                "(read-only): its models keep the patron until trained elsewhere");
    }
    r->cat_version = version;
    atomic_store_explicit(&r->cat_gen, gen + 1, memory_order_release);
}

const uint8_t *tl__withdrawn(tl_service *s, tl_model_ref *r, int looked)
{
    if (!s->db)
        return NULL;
    tl_store *st = NULL;
    /* taking a reader moves the generation when anything was written since it last looked;
     * a request that took one already (a patron's history) needs no second look */
    if (!looked && tl__service_reader(s, &st, NULL) != TL_OK)
        return atomic_load_explicit(&r->withdrawn, memory_order_acquire);
    uint64_t gen = atomic_load_explicit(&s->store_gen, memory_order_acquire);
    if (atomic_load_explicit(&r->cat_gen, memory_order_acquire) != gen + 1) {
        pthread_mutex_lock(&r->cat_mu);
        if (atomic_load_explicit(&r->cat_gen, memory_order_acquire) != gen + 1 &&
            (st || tl__service_reader(s, &st, NULL) == TL_OK))
            refresh(s, r, st, gen);
        pthread_mutex_unlock(&r->cat_mu);
    }
    if (st)
        tl__service_reader_done(s, st);
    return atomic_load_explicit(&r->withdrawn, memory_order_acquire);
}

void tl__withdrawn_free(tl_model_ref *r)
{
    free(atomic_load_explicit(&r->withdrawn, memory_order_relaxed));
    for (tl_withdrawn_old *o = r->retired, *next; o; o = next) {
        next = o->next;
        free(o->flags);
        free(o);
    }
    pthread_mutex_destroy(&r->cat_mu);
}
