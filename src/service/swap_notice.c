/* Model swaps across processes. A training that swaps a model in records it in the store (meta
 * TL_META_MODEL_SWAP: the model file's real path, a tab, and a stamp of who swapped when); a
 * service that serves the same file learns of it the next time it sees the store changed
 * (tl__service_reader) and loads the file too. On PostgreSQL the commit's NOTIFY reaches every
 * `tailor serve` at once; on SQLite the file's data version does. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "service/service_int.h"

void tl__swap_announce(tl_service *s, const char *path)
{
    char real[PATH_MAX], value[PATH_MAX + 96];
    if (!s->db || !realpath(path, real))
        return;
    pthread_mutex_lock(&s->mu);
    snprintf(value, sizeof(value), "%s\t%lld.%ld.%lld", real, (long long)time(NULL), (long)getpid(),
             s->swaps);
    snprintf(s->swap_seen, sizeof(s->swap_seen), "%s", value); /* ours: nothing to load */
    s->swap_looked = 1;
    pthread_mutex_unlock(&s->mu);
    tl_store *st = NULL;
    tl_diag d;
    tl_diag_clear(&d);
    tl_err rc = tl__service_store_open(s, 0, &st, &d);
    if (rc == TL_OK && (rc = tl_store_begin(st)) == TL_OK &&
        (rc = tl_store_set_meta(st, TL_META_MODEL_SWAP, value)) == TL_OK)
        rc = tl_store_commit(st);
    if (rc != TL_OK)
        tl__service_log(s, "warning", "swap", "other processes were not told of the swap: %s",
                        d.msg[0] ? d.msg : tl_strerror(rc));
    tl_store_free(st);
}

void tl__swap_check(tl_service *s, tl_store *st)
{
    char *v = NULL;
    if (tl_store_get_meta(st, TL_META_MODEL_SWAP, &v) != TL_OK)
        return;
    pthread_mutex_lock(&s->mu);
    /* the first look takes the store as it is: what was swapped before is what we loaded */
    int first = !s->swap_looked, news = v && strcmp(v, s->swap_seen) != 0;
    s->swap_looked = 1;
    if (!v) {
        pthread_mutex_unlock(&s->mu);
        return;
    }
    if (news)
        snprintf(s->swap_seen, sizeof(s->swap_seen), "%s", v);
    /* the slots serving that file (its path up to the tab), with their paths copied */
    char *tab = strchr(v, '\t'), paths[TL_SERVICE_MAX_MODELS][PATH_MAX];
    int reload[TL_SERVICE_MAX_MODELS] = {0};
    if (tab)
        *tab = '\0';
    for (int k = 0; news && !first && tab && k < s->n_slots; k++)
        reload[k] = s->slot[k] && realpath(s->slot[k]->path, paths[k]) && strcmp(paths[k], v) == 0;
    pthread_mutex_unlock(&s->mu);
    for (int k = 0; k < TL_SERVICE_MAX_MODELS; k++) {
        tl_diag d;
        tl_diag_clear(&d);
        if (reload[k] && tl__service_swap_slot(s, k, paths[k], &d) != TL_OK)
            tl__service_log(s, "error", "swap", "another process swapped %s in; loading it: %s",
                            paths[k], d.msg);
    }
    free(v);
}
