/* Branch-aware availability: how many copies of each of the model's items are on the shelf
 * at each branch (the store's holdings, read at most once a minute after the store changed),
 * each answer's items marked with their copies here and elsewhere, and a list's candidates
 * with a copy on the shelf here preferred by TL_SHELF_BOOST (tailor/service.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "service/service_int.h"
#include "util/grow.h"
#include "util/intern.h"

typedef struct shelf {
    int32_t item, branch, on_shelf;
} shelf;

/* The items held at one set of branches (a tenant's), made once per reading of the shelves. */
typedef struct held_mask {
    char *key; /* the branches, each followed by '\n' */
    uint8_t *held;
} held_mask;

#define HELD_MASKS 64 /* sets of branches remembered; more are made per request */

typedef struct tl_shelves {
    tl_intern branches; /* "" for copies without a branch */
    int32_t *off;       /* n_items + 1: item i's shelves are e[off[i]..off[i + 1]) */
    shelf *e;
    held_mask masks[HELD_MASKS];
    int n_masks;
} tl_shelves;

typedef struct reading {
    const tl_model *m;
    tl_shelves *sh;
    shelf *raw; /* in the store's order */
    int32_t n, cap;
} reading;

static void shelves_free(tl_shelves *sh)
{
    if (sh) {
        for (int k = 0; k < sh->n_masks; k++) {
            free(sh->masks[k].key);
            free(sh->masks[k].held);
        }
        tl_intern_release(&sh->branches);
        free(sh->off);
        free(sh->e);
        free(sh);
    }
}

static tl_err add_shelf(void *ctx, const char *item, const char *branch, int64_t count,
                        int64_t on_shelf)
{
    (void)count;
    reading *rd = ctx;
    int32_t i = tl_intern_find(&rd->m->items, item, strlen(item)), b;
    if (i < 0)
        return TL_OK;
    tl_err rc =
        tl_intern_add(&rd->sh->branches, branch ? branch : "", branch ? strlen(branch) : 0, &b);
    if (rc != TL_OK)
        return rc;
    if ((rc = tl_grow((void **)&rd->raw, &rd->cap, rd->n, sizeof(*rd->raw), 1024)) != TL_OK)
        return rc;
    rd->raw[rd->n++] = (shelf){i, b, on_shelf > INT32_MAX ? INT32_MAX : (int32_t)on_shelf};
    return TL_OK;
}

/* The shelves grouped by item (a counting sort). */
static tl_err group(reading *rd)
{
    int32_t n_items = rd->m->n_items;
    tl_shelves *sh = rd->sh;
    if (!(sh->off = calloc((size_t)n_items + 1, sizeof(*sh->off))) ||
        !(sh->e = malloc(((size_t)rd->n + 1) * sizeof(*sh->e))))
        return TL_ENOMEM;
    for (int32_t k = 0; k < rd->n; k++)
        sh->off[rd->raw[k].item + 1]++;
    for (int32_t i = 0; i < n_items; i++)
        sh->off[i + 1] += sh->off[i];
    int32_t *at = malloc(((size_t)n_items + 1) * sizeof(*at));
    if (!at)
        return TL_ENOMEM;
    memcpy(at, sh->off, ((size_t)n_items + 1) * sizeof(*at));
    for (int32_t k = 0; k < rd->n; k++)
        sh->e[at[rd->raw[k].item]++] = rd->raw[k];
    free(at);
    return TL_OK;
}

/* Reads r's shelves again when they may have changed. Under r->shelf_mu. */
static void refresh(tl_service *s, tl_model_ref *r)
{
    tl_store *st = NULL;
    if (!tl__snapshot_due(s, &r->shelf_snap, TL_SNAPSHOT_TTL, &st))
        return;
    reading rd = {r->m, calloc(1, sizeof(tl_shelves)), NULL, 0, 0};
    tl_diag d;
    tl_diag_clear(&d);
    tl_err rc = TL_ENOMEM;
    if (rd.sh) {
        tl_intern_init(&rd.sh->branches);
        rc = tl_store_shelves_each(st, add_shelf, &rd, &d);
    }
    tl__service_reader_done(s, st);
    if (rc == TL_OK && rd.n)
        rc = group(&rd);
    free(rd.raw);
    if (rc == TL_OK || rc == TL_EVERSION) { /* a store before schema 5 has no holdings */
        shelves_free(r->shelves);
        r->shelves = rc == TL_OK && rd.n ? rd.sh : NULL;
        if (r->shelves != rd.sh)
            shelves_free(rd.sh);
        tl__snapshot_done(s, r->shelf_snap);
        return;
    }
    shelves_free(rd.sh);
}

/* r's shelves now (NULL: none), with r->shelf_mu held: the caller unlocks. */
static const tl_shelves *lock_shelves(tl_service *s, tl_model_ref *r)
{
    pthread_mutex_lock(&r->shelf_mu);
    refresh(s, r);
    return r->shelves;
}

/* Item i's copies on the shelf at branch b (-1: none known) and elsewhere; 0 when i has no
 * holdings. */
static int count_at(const tl_shelves *sh, int32_t i, int32_t b, int *here, int *elsewhere)
{
    *here = *elsewhere = 0;
    if (!sh || i < 0 || sh->off[i] == sh->off[i + 1])
        return 0;
    for (int32_t k = sh->off[i]; k < sh->off[i + 1]; k++) {
        int *to = sh->e[k].branch == b ? here : elsewhere;
        long long v = (long long)*to + sh->e[k].on_shelf;
        *to = v > INT32_MAX ? INT32_MAX : (int)v;
    }
    return 1;
}

void tl__shelf_branch(tl_service *s, tl_model_ref *r, const char *user, const tl_rec_context *cx,
                      char *buf)
{
    buf[0] = '\0';
    int any = lock_shelves(s, r) != NULL;
    pthread_mutex_unlock(&r->shelf_mu);
    if (!any)
        return;
    if (cx && cx->branch && *cx->branch) {
        snprintf(buf, TL_BRANCH_MAX + 1, "%s", cx->branch);
        return;
    }
    tl_store *st;
    if (!user || !s->db || tl__service_reader(s, &st, NULL) != TL_OK)
        return;
    static const char *const attrs[] = {"home_branch", "branch"};
    for (int k = 0; k < 2 && !buf[0]; k++) {
        char *v = NULL;
        if (tl_store_user_attr(st, user, attrs[k], &v) == TL_OK && v)
            snprintf(buf, TL_BRANCH_MAX + 1, "%s", v);
        free(v);
    }
    tl__service_reader_done(s, st);
}

/* held[i] = 1 for the items with a copy at one of branches[0..n), or with no copy anywhere
 * (an ebook, a library event: everyone's) (n_items bytes, zeroed). */
static void mark_held(const tl_shelves *sh, int32_t n_items, const char *const *branches, int n,
                      uint8_t *held)
{
    int32_t ids[TL_TENANT_MAX_BRANCHES];
    int m = 0;
    for (int k = 0; k < n && m < TL_TENANT_MAX_BRANCHES; k++) {
        int32_t b = tl_intern_find(&sh->branches, branches[k], strlen(branches[k]));
        if (b >= 0)
            ids[m++] = b;
    }
    for (int32_t i = 0; i < n_items; i++)
        held[i] = sh->off[i] == sh->off[i + 1];
    for (int32_t i = 0; m && i < n_items; i++)
        for (int32_t e = sh->off[i]; e < sh->off[i + 1] && !held[i]; e++)
            for (int k = 0; k < m; k++)
                if (sh->e[e].branch == ids[k]) {
                    held[i] = 1;
                    break;
                }
}

/* The branches as one key (malloc'd), NULL on failure. */
static char *branches_key(const char *const *branches, int n)
{
    size_t len = 1;
    for (int k = 0; k < n; k++)
        len += strlen(branches[k]) + 1;
    char *key = malloc(len), *at = key;
    for (int k = 0; key && k < n; k++) {
        size_t l = strlen(branches[k]);
        memcpy(at, branches[k], l);
        at[l] = '\n';
        at += l + 1;
    }
    if (key)
        *at = '\0';
    return key;
}

tl_err tl__shelf_held(tl_service *s, tl_model_ref *r, const char *const *branches, int n,
                      uint8_t *allow)
{
    tl_shelves *sh = (tl_shelves *)lock_shelves(s, r);
    int32_t n_items = r->m->n_items;
    tl_err rc = TL_OK;
    if (!sh) { /* no holdings at all: nothing to filter by */
        pthread_mutex_unlock(&r->shelf_mu);
        return TL_OK;
    }
    char *key = branches_key(branches, n);
    const uint8_t *held = NULL;
    uint8_t *own = NULL;
    for (int k = 0; key && k < sh->n_masks && !held; k++)
        if (strcmp(sh->masks[k].key, key) == 0)
            held = sh->masks[k].held;
    if (!held && key && (own = calloc((size_t)n_items + 1, 1))) {
        mark_held(sh, n_items, branches, n, own);
        held = own;
        if (sh->n_masks < HELD_MASKS) { /* kept until the shelves are read again */
            sh->masks[sh->n_masks++] = (held_mask){key, own};
            key = NULL;
            own = NULL;
        }
    }
    if (held)
        for (int32_t i = 0; i < n_items; i++)
            allow[i] &= held[i];
    else
        rc = TL_ENOMEM;
    pthread_mutex_unlock(&r->shelf_mu);
    free(key);
    free(own);
    return rc;
}

void tl__shelf_fill(tl_service *s, tl_model_ref *r, const char *branch, tl_rec_item *items, int n)
{
    const tl_shelves *sh = lock_shelves(s, r);
    int32_t b = sh && branch[0] ? tl_intern_find(&sh->branches, branch, strlen(branch)) : -1;
    for (int k = 0; k < n; k++) {
        int32_t i = tl_intern_find(&r->m->items, items[k].item, strlen(items[k].item));
        int here, elsewhere;
        memset(&items[k].availability, 0, sizeof(items[k].availability));
        if (!count_at(sh, i, b, &here, &elsewhere))
            continue;
        items[k].availability.known = 1;
        snprintf(items[k].availability.branch, sizeof(items[k].availability.branch), "%s", branch);
        items[k].availability.on_shelf_here = here;
        items[k].availability.on_shelf_elsewhere = elsewhere;
    }
    pthread_mutex_unlock(&r->shelf_mu);
}

typedef struct ranked {
    float key;
    int32_t at; /* the place it had: ties keep their order */
} ranked;

static int by_key(const void *pa, const void *pb)
{
    const ranked *a = pa, *b = pb;
    if (a->key != b->key)
        return a->key > b->key ? -1 : 1;
    return a->at < b->at ? -1 : a->at > b->at;
}

void tl__shelf_prefer(tl_service *s, tl_model_ref *r, const char *branch, int32_t *items,
                      float *scores, int n)
{
    if (!branch[0] || n < 2)
        return;
    ranked *rk = malloc((size_t)n * sizeof(*rk));
    int32_t *it = malloc((size_t)n * sizeof(*it));
    float *sc = malloc((size_t)n * sizeof(*sc));
    const tl_shelves *sh = rk && it && sc ? lock_shelves(s, r) : NULL;
    int32_t b = sh ? tl_intern_find(&sh->branches, branch, strlen(branch)) : -1;
    int moved = 0;
    for (int k = 0; b >= 0 && k < n; k++) {
        int here, elsewhere;
        count_at(sh, items[k], b, &here, &elsewhere);
        rk[k] = (ranked){here > 0 ? scores[k] + TL_SHELF_BOOST * fabsf(scores[k]) : scores[k], k};
        moved |= here > 0;
    }
    if (rk && it && sc)
        pthread_mutex_unlock(&r->shelf_mu);
    if (moved) { /* else nothing is on the shelf here: the model's order stands */
        qsort(rk, (size_t)n, sizeof(*rk), by_key);
        for (int k = 0; k < n; k++) {
            it[k] = items[rk[k].at];
            sc[k] = scores[rk[k].at];
        }
        memcpy(items, it, (size_t)n * sizeof(*it));
        memcpy(scores, sc, (size_t)n * sizeof(*sc));
    }
    free(rk);
    free(it);
    free(sc);
}

void tl__shelves_free(tl_model_ref *r)
{
    shelves_free(r->shelves);
    free(r->shelf_snap);
    pthread_mutex_destroy(&r->shelf_mu);
}
