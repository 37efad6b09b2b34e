/* The cache of patrons' histories: four-way set-associative by the patron's id (direct-mapped,
 * a fifth of a MovieLens-sized crowd evicted each other), a lock per set held for a copy.
 * Long histories are not kept (HC_MAX_ITEMS): they are rare, and reading them is a small part
 * of scoring them. */
#include "service/hist_cache.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "util/hash.h"

#define HC_SLOTS 8192
#define HC_WAYS 4
#define HC_MAX_ITEMS 4096
#define HC_MAX_ID 256

typedef struct slot {
    pthread_mutex_t mu;               /* the set's lock: in the set's first slot */
    uint64_t serial, gen, hash, used; /* serial 0: empty; used: stamp of the last use */
    char user[HC_MAX_ID];
    tl_hist h;
    int found, personalize;
} slot;

struct tl_hist_cache {
    slot slots[HC_SLOTS];
    atomic_uint_fast64_t clock; /* use stamps */
};

tl_hist_cache *tl__hc_new(void)
{
    tl_hist_cache *c = calloc(1, sizeof(*c));
    if (c)
        for (int k = 0; k < HC_SLOTS; k++)
            pthread_mutex_init(&c->slots[k].mu, NULL);
    return c;
}

void tl__hc_free(tl_hist_cache *c)
{
    if (!c)
        return;
    for (int k = 0; k < HC_SLOTS; k++) {
        tl__hist_release(&c->slots[k].h);
        pthread_mutex_destroy(&c->slots[k].mu);
    }
    free(c);
}

/* dst (released or empty) gets a copy of src's n entries; -1 when memory ran out. */
static int copy_hist(tl_hist *dst, const tl_hist *src)
{
    if (dst->cap < src->n || !dst->items) {
        int32_t cap = src->n > 0 ? src->n : 1;
        tl__hist_release(dst);
        dst->items = malloc((size_t)cap * sizeof(*dst->items));
        dst->w = malloc((size_t)cap * sizeof(*dst->w));
        dst->ts = malloc((size_t)cap * sizeof(*dst->ts));
        if (!dst->items || !dst->w || !dst->ts) {
            tl__hist_release(dst);
            return -1;
        }
        dst->cap = cap;
    }
    if (src->n > 0) { /* an empty history (a patron not in the store) has no arrays */
        memcpy(dst->items, src->items, (size_t)src->n * sizeof(*src->items));
        memcpy(dst->w, src->w, (size_t)src->n * sizeof(*src->w));
        memcpy(dst->ts, src->ts, (size_t)src->n * sizeof(*src->ts));
    }
    dst->n = src->n;
    if (dst->dismissed_cap < src->n_dismissed) {
        int32_t *d = realloc(dst->dismissed, (size_t)src->n_dismissed * sizeof(*d));
        if (!d) {
            tl__hist_release(dst);
            return -1;
        }
        dst->dismissed = d;
        dst->dismissed_cap = src->n_dismissed;
    }
    if (src->n_dismissed > 0)
        memcpy(dst->dismissed, src->dismissed, (size_t)src->n_dismissed * sizeof(*src->dismissed));
    dst->n_dismissed = src->n_dismissed;
    dst->uidx = src->uidx;
    dst->live = src->live;
    dst->broaden = src->broaden;
    return 0;
}

/* The first slot of user's set. */
static slot *set_of(tl_hist_cache *c, const char *user, uint64_t *hash)
{
    *hash = tl_fnv1a64(user, strlen(user));
    return &c->slots[(*hash % (HC_SLOTS / HC_WAYS)) * HC_WAYS];
}

static int holds(const slot *s, uint64_t hash, const char *user)
{
    return s->serial && s->hash == hash && strcmp(s->user, user) == 0;
}

int tl__hc_get(tl_hist_cache *c, uint64_t serial, uint64_t gen, const char *user, tl_hist *h,
               int *found, int *personalize)
{
    if (!c || strlen(user) >= HC_MAX_ID)
        return 0;
    uint64_t hash;
    slot *set = set_of(c, user, &hash);
    int hit = 0;
    pthread_mutex_lock(&set->mu);
    for (int w = 0; w < HC_WAYS; w++) {
        slot *s = &set[w];
        if (holds(s, hash, user) && s->serial == serial && s->gen == gen &&
            copy_hist(h, &s->h) == 0) {
            *found = s->found;
            *personalize = s->personalize;
            s->used = atomic_fetch_add_explicit(&c->clock, 1, memory_order_relaxed) + 1;
            hit = 1;
            break;
        }
    }
    pthread_mutex_unlock(&set->mu);
    return hit;
}

void tl__hc_put(tl_hist_cache *c, uint64_t serial, uint64_t gen, const char *user, const tl_hist *h,
                int found, int personalize)
{
    if (!c || strlen(user) >= HC_MAX_ID || h->n > HC_MAX_ITEMS)
        return;
    uint64_t hash;
    slot *set = set_of(c, user, &hash);
    pthread_mutex_lock(&set->mu);
    /* the patron's own slot, else one that no request can use (another model, an older
     * store), else the one used longest ago */
    slot *s = NULL;
    for (int w = 0; w < HC_WAYS && !s; w++)
        if (holds(&set[w], hash, user))
            s = &set[w];
    for (int w = 0; w < HC_WAYS && !s; w++)
        if (set[w].serial != serial || set[w].gen != gen)
            s = &set[w];
    if (!s) {
        s = &set[0];
        for (int w = 1; w < HC_WAYS; w++)
            if (set[w].used < s->used)
                s = &set[w];
    }
    if (copy_hist(&s->h, h) == 0) {
        s->serial = serial;
        s->gen = gen;
        s->hash = hash;
        s->used = atomic_fetch_add_explicit(&c->clock, 1, memory_order_relaxed) + 1;
        memcpy(s->user, user, strlen(user) + 1);
        s->found = found;
        s->personalize = personalize;
    } else {
        s->serial = 0;
    }
    pthread_mutex_unlock(&set->mu);
}
