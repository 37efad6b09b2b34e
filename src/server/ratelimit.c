/* Token buckets in a fixed table (ratelimit.h). A client's hash picks a set of SET_WAYS
 * slots; its bucket is the slot holding its hash, else the set's stalest slot is taken over.
 * A slot untouched for burst/rate seconds is full again, so taking it over forgets nothing a
 * fresh bucket would not know: only a set crowded by more active clients than it has ways can
 * lose a partly spent bucket, and then the evicted client starts full, never refused wrongly. */
#include "server/ratelimit.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include "util/hash.h"

#define SETS 1024  /* sets of slots: 4096 clients tracked at once */
#define SET_WAYS 4 /* slots a client may occupy (a small associative cache) */
#define STRIPES 64 /* mutexes; set k is guarded by stripe k % STRIPES */

typedef struct slot {
    uint64_t hash; /* the client's; 0 = free */
    double tokens; /* at time last */
    double last;
} slot;

struct tl_ratelimit {
    double rate, burst;
    pthread_mutex_t stripe[STRIPES];
    slot slots[SETS][SET_WAYS];
};

tl_ratelimit *tl__ratelimit_new(int rate, int burst)
{
    if (rate <= 0)
        return NULL;
    tl_ratelimit *rl = calloc(1, sizeof(*rl));
    if (!rl)
        return NULL;
    rl->rate = rate;
    rl->burst = burst > 0 ? burst : rate;
    for (int k = 0; k < STRIPES; k++)
        pthread_mutex_init(&rl->stripe[k], NULL);
    return rl;
}

void tl__ratelimit_free(tl_ratelimit *rl)
{
    if (!rl)
        return;
    for (int k = 0; k < STRIPES; k++)
        pthread_mutex_destroy(&rl->stripe[k]);
    free(rl);
}

/* The client's slot in set s: its own, else a free or the stalest one, made full for it. */
static slot *find(tl_ratelimit *rl, slot *s, uint64_t h, double now)
{
    slot *old = &s[0];
    for (int w = 0; w < SET_WAYS; w++) {
        if (s[w].hash == h)
            return &s[w];
        if (s[w].hash == 0 || s[w].last < old->last)
            old = &s[w];
        if (s[w].hash == 0)
            break;
    }
    old->hash = h;
    old->tokens = rl->burst;
    old->last = now;
    return old;
}

int tl__ratelimit_take(tl_ratelimit *rl, const void *id, size_t len, double now)
{
    if (!rl)
        return 0;
    uint64_t h = tl_splitmix64(tl_fnv1a64(id, len)) | 1; /* never 0, which marks a free slot */
    size_t set = (size_t)(h >> 32) % SETS;
    pthread_mutex_t *m = &rl->stripe[set % STRIPES];
    pthread_mutex_lock(m);
    slot *b = find(rl, rl->slots[set], h, now);
    if (now > b->last) { /* workers read the clock before the lock: now may trail a little */
        double t = b->tokens + (now - b->last) * rl->rate;
        b->tokens = t < rl->burst ? t : rl->burst;
        b->last = now;
    }
    int wait = 0;
    if (b->tokens >= 1.0)
        b->tokens -= 1.0;
    else /* a positive time: ceil makes it 1 at least */
        wait = (int)ceil((1.0 - b->tokens) / rl->rate);
    pthread_mutex_unlock(m);
    return wait;
}
