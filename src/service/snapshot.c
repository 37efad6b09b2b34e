/* When to read again what a request needs from the store about a model's items and what
 * changes without a training (library events, copies on the shelf, seasons): on first use,
 * then at most every ttl seconds, and only when the store was written since. */
#include <stdlib.h>

#include "service/service_int.h"
#include "util/clock.h"

struct tl_snapshot {
    int loaded;
    double tried;          /* when a read was last due (tl_now) */
    uint64_t gen, reading; /* the store generation of what was read; of the read under way */
};

int tl__snapshot_due(tl_service *s, struct tl_snapshot **snap, double ttl, tl_store **st)
{
    *st = NULL;
    if (!s->db || (!*snap && !(*snap = calloc(1, sizeof(**snap)))))
        return 0;
    struct tl_snapshot *p = *snap;
    double now = tl_now();
    if (p->loaded && now - p->tried < ttl)
        return 0;
    p->tried = now; /* also when the read fails: tried again after the TTL, not per request */
    /* taking a reader moves the generation when anything was written since */
    if (tl__service_reader(s, st, NULL) != TL_OK) {
        *st = NULL;
        return 0;
    }
    p->reading = atomic_load_explicit(&s->store_gen, memory_order_acquire);
    if (p->loaded && p->reading == p->gen) {
        tl__service_reader_done(s, *st);
        *st = NULL;
        return 0;
    }
    return 1;
}

void tl__snapshot_done(tl_service *s, struct tl_snapshot *snap)
{
    (void)s;
    snap->loaded = 1;
    snap->gen = snap->reading;
}
