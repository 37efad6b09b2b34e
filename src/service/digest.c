/* New-arrival digests: for each patron with alerts on, the items added in a window that match
 * what they borrowed, with a reason each, and the library events that start soon. Items added
 * lately have few loans or none, so the models that learn from loans cannot place them: a
 * content model (titles, creators, subjects) is fitted on the store for the run and scores the
 * new items against each patron's history, and a subject shared with a recent loan catches
 * what it misses. The digest is a function of the store and the window alone. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/models/content.h"
#include "service/service_int.h"
#include "service/subjects.h"
#include "util/civil.h"
#include "util/clock.h"

#define SUBJECT_ITEMS 200                 /* most recent history items whose subjects count */
#define MIN_SIMILARITY 0.05f              /* a cosine below says nothing about the patron */
#define META_DIGEST_KEY "digest_link_key" /* the unsubscribe links' MAC key, hex */
#define DEFAULT_UNSUB "http://127.0.0.1:8080/v1/unsubscribe"

/* ---- the unsubscribe links' key ---------------------------------------------------------- */

/* The store's key for unsubscribe links, made once by the first writer that needs it. */
static tl_err link_key(tl_service *s, uint8_t key[crypto_auth_KEYBYTES], tl_diag *d)
{
    tl_store *st;
    char *hex = NULL;
    tl_err rc = tl__keys_start(d);
    if (rc == TL_OK && (rc = tl__service_reader(s, &st, d)) == TL_OK) {
        rc = tl_store_get_meta(st, META_DIGEST_KEY, &hex);
        tl__service_reader_done(s, st);
    }
    if (rc == TL_OK && !hex) {
        if (!s->writer) {
            tl_diag_set(d, NULL, 0, NULL,
                        "the store has no key for unsubscribe links yet: a first digest needs a "
                        "writable store");
            return TL_EUNSUPPORTED;
        }
        pthread_mutex_lock(&s->write_mu);
        if ((rc = tl_store_get_meta(s->writer, META_DIGEST_KEY, &hex)) == TL_OK && !hex) {
            uint8_t k[crypto_auth_KEYBYTES];
            char h[2 * crypto_auth_KEYBYTES + 1];
            crypto_auth_keygen(k);
            sodium_bin2hex(h, sizeof(h), k, sizeof(k));
            sodium_memzero(k, sizeof(k));
            if ((rc = tl_store_set_meta(s->writer, META_DIGEST_KEY, h)) == TL_OK)
                rc = (hex = strdup(h)) ? TL_OK : TL_ENOMEM;
            sodium_memzero(h, sizeof(h));
        }
        pthread_mutex_unlock(&s->write_mu);
    }
    if (rc == TL_OK &&
        (sodium_hex2bin(key, crypto_auth_KEYBYTES, hex, strlen(hex), NULL, NULL, NULL) != 0)) {
        tl_diag_set(d, NULL, 0, NULL, "the store's key for unsubscribe links is damaged");
        rc = TL_ECORRUPT;
    }
    if (hex)
        sodium_memzero(hex, strlen(hex));
    free(hex);
    if (rc != TL_OK && !d->msg[0])
        tl_diag_set(d, NULL, 0, NULL, "cannot read the key for unsubscribe links");
    return rc;
}

static void sign(const uint8_t *key, const char *user, char *hex /* 2 * crypto_auth_BYTES + 1 */)
{
    uint8_t mac[crypto_auth_BYTES];
    crypto_auth(mac, (const unsigned char *)user, strlen(user), key);
    sodium_bin2hex(hex, 2 * crypto_auth_BYTES + 1, mac, sizeof(mac));
}

tl_err tl_service_unsubscribe(tl_service *s, const char *user, const char *sig, int *changed,
                              tl_diag *d)
{
    uint8_t key[crypto_auth_KEYBYTES], mac[crypto_auth_BYTES];
    size_t got = 0;
    *changed = 0;
    tl_err rc = tl__service_need_writer(s, "unsubscribing", d);
    if (rc == TL_OK)
        rc = link_key(s, key, d);
    if (rc != TL_OK)
        return rc;
    if (!user || !*user || !sig ||
        sodium_hex2bin(mac, sizeof(mac), sig, strlen(sig), NULL, &got, NULL) != 0 ||
        got != sizeof(mac) || strlen(sig) != 2 * sizeof(mac) ||
        crypto_auth_verify(mac, (const unsigned char *)user, strlen(user), key) != 0) {
        sodium_memzero(key, sizeof(key));
        tl_diag_set(d, NULL, 0, "sig", "the unsubscribe link is not valid");
        return TL_EINVAL;
    }
    sodium_memzero(key, sizeof(key));
    pthread_mutex_lock(&s->write_mu);
    rc = tl_store_begin(s->writer);
    if (rc == TL_OK)
        rc = tl_store_unsubscribe_stored(s->writer, user, changed, d);
    if (rc == TL_OK)
        rc = tl__audit_append(s, "link", "unsubscribe", user, NULL, d);
    if (rc == TL_OK)
        rc = tl_store_commit(s->writer);
    else
        tl_store_rollback(s->writer);
    pthread_mutex_unlock(&s->write_mu);
    return rc;
}

/* ---- the run ----------------------------------------------------------------------------- */

typedef struct patron {
    char *user, *email;
    int personalize;
} patron;

typedef struct run {
    tl_service *s;
    const tl_digest_query *q;
    tl_data data;
    tl_model *content; /* NULL: the catalogue has nothing it could use */
    int32_t *cand;     /* the items added in the window, newest first */
    int n_cand;
    char **cover, **place; /* by item index (item_details), NULL: none */
    int64_t *starts;       /* by item index, 0: not an upcoming event */
    tl_digest_item *events;
    int n_events;
    patron *pat;
    size_t n_pat, cap_pat;
    const char *only; /* the patron asked for (as stored), or NULL */
    int only_found;
    uint8_t key[crypto_auth_KEYBYTES];
    /* a consortium's libraries with branches: offered[t * n_cand + k] = 1 when candidate k is
     * held at a branch of tenant t or nowhere (tenants.c: a library's patrons are offered its
     * own copies) */
    char **tenant;
    int n_tenants;
    uint8_t *offered;
} run;

static int cat_is(const tl_catalog *c, int32_t i, const char *type)
{
    return i < c->n && c->type && c->type[i] && strcmp(c->type[i], type) == 0;
}

static tl_err on_detail(void *ctx, const tl_store_detail *r)
{
    run *u = ctx;
    int32_t i = tl_intern_find(&u->data.items, r->item, strlen(r->item));
    if (i < 0)
        return TL_OK;
    if (r->cover && *r->cover && !(u->cover[i] = strdup(r->cover)))
        return TL_ENOMEM;
    if (r->place && *r->place && !(u->place[i] = strdup(r->place)))
        return TL_ENOMEM;
    if (r->type && strcmp(r->type, "event") == 0 && r->starts != TL_ABSENT &&
        r->starts >= u->q->now && r->starts < u->q->now + (u->q->now - u->q->since))
        u->starts[i] = r->starts;
    return TL_OK;
}

static tl_err on_sub(void *ctx, const char *user, const char *email, int alerts, int64_t since,
                     int personalize)
{
    (void)alerts;
    (void)since;
    run *u = ctx;
    if (u->only && strcmp(user, u->only) != 0)
        return TL_OK;
    if (u->n_pat == u->cap_pat) {
        size_t cap = u->cap_pat ? 2 * u->cap_pat : 1024;
        patron *p = realloc(u->pat, cap * sizeof(*p));
        if (!p)
            return TL_ENOMEM;
        u->pat = p;
        u->cap_pat = cap;
    }
    patron *p = &u->pat[u->n_pat];
    p->user = strdup(user);
    p->email = email ? strdup(email) : NULL;
    p->personalize = personalize;
    if (!p->user || (email && !p->email)) {
        free(p->user);
        free(p->email);
        return TL_ENOMEM;
    }
    u->n_pat++;
    return TL_OK;
}

/* Sort keys carried with what they sort (no comparator state: digests run in parallel). */
typedef struct by_added_key {
    int64_t added;
    const char *id;
    int32_t i;
} by_added_key;

/* Newest first, then by id: the same order on every run. */
static int by_added(const void *a, const void *b)
{
    const by_added_key *x = a, *y = b;
    if (x->added != y->added)
        return x->added < y->added ? 1 : -1;
    return strcmp(x->id, y->id);
}

typedef struct by_key {
    double key;
    int32_t k;
} by_key;

/* Ascending key, then position. */
static int by_key_up(const void *a, const void *b)
{
    const by_key *x = a, *y = b;
    return x->key < y->key ? -1 : x->key > y->key ? 1 : x->k - y->k;
}

/* Descending key, then position. */
static int by_key_down(const void *a, const void *b)
{
    const by_key *x = a, *y = b;
    return x->key > y->key ? -1 : x->key < y->key ? 1 : x->k - y->k;
}

static int by_start(const void *a, const void *b)
{
    const tl_digest_item *x = a, *y = b;
    if (x->starts != y->starts)
        return x->starts < y->starts ? -1 : 1;
    return strcmp(x->id, y->id);
}

static void item_of(const run *u, int32_t i, tl_digest_item *it)
{
    const tl_catalog *c = &u->data.cat;
    memset(it, 0, sizeof(*it));
    it->id = tl_intern_str(&u->data.items, i);
    it->title = i < c->n && c->title ? c->title[i] : NULL;
    it->creators = i < c->n && c->creators ? c->creators[i] : NULL;
    it->cover = u->cover[i];
    it->place = u->place[i];
    it->added = i < c->n && c->added ? c->added[i] : 0;
    it->starts = u->starts[i];
}

/* ---- a consortium: each library's patrons are offered its own copies ---- */

typedef struct tenant_list {
    char **id, ***branches;
    int *n_branches, n;
} tenant_list;

static void tenant_list_free(tenant_list *l)
{
    for (int t = 0; t < l->n; t++) {
        for (int b = 0; b < l->n_branches[t]; b++)
            free(l->branches[t][b]);
        free(l->branches[t]);
        free(l->id[t]);
    }
    free(l->id);
    free(l->branches);
    free(l->n_branches);
}

static tl_err on_tenant(void *ctx, const tl_store_tenant_rec *r)
{
    tenant_list *l = ctx;
    if (!r->n_branches) /* a library without branches is offered everything */
        return TL_OK;
    char **id = realloc(l->id, ((size_t)l->n + 1) * sizeof(*id));
    if (id)
        l->id = id;
    char ***br = realloc(l->branches, ((size_t)l->n + 1) * sizeof(*br));
    if (br)
        l->branches = br;
    int *nb = realloc(l->n_branches, ((size_t)l->n + 1) * sizeof(*nb));
    if (nb)
        l->n_branches = nb;
    if (!id || !br || !nb || !(id[l->n] = strdup(r->id)))
        return TL_ENOMEM;
    nb[l->n] = 0;
    if (!(br[l->n] = calloc((size_t)r->n_branches, sizeof(char *)))) {
        free(id[l->n]);
        return TL_ENOMEM;
    }
    l->n++;
    for (int b = 0; b < r->n_branches; b++) {
        if (!(br[l->n - 1][b] = strdup(r->branches[b])))
            return TL_ENOMEM;
        nb[l->n - 1]++;
    }
    return TL_OK;
}

typedef struct copy_scan {
    const tenant_list *l;
    uint8_t *at; /* by tenant: a copy at one of its branches */
    int copies;
} copy_scan;

static tl_err on_copy(void *ctx, const tl_holding_rec *h)
{
    copy_scan *c = ctx;
    c->copies++;
    for (int t = 0; h->branch && t < c->l->n; t++)
        for (int b = 0; b < c->l->n_branches[t]; b++)
            if (strcmp(h->branch, c->l->branches[t][b]) == 0)
                c->at[t] = 1;
    return TL_OK;
}

/* u->offered for the candidates, when the store has libraries with branches. */
static tl_err tenant_offers(run *u, tl_diag *d)
{
    tl_store *st;
    tl_err rc = tl__service_reader(u->s, &st, d);
    if (rc != TL_OK)
        return rc;
    tenant_list l = {0};
    if ((rc = tl_store_tenants(st, on_tenant, &l, d)) == TL_EVERSION) {
        tl_diag_clear(d); /* a store before tenancy */
        rc = TL_OK;
    }
    uint8_t *at = NULL;
    if (rc == TL_OK && l.n && u->n_cand &&
        (!(u->offered = calloc((size_t)l.n * (size_t)u->n_cand, 1)) ||
         !(at = calloc((size_t)l.n, 1))))
        rc = TL_ENOMEM;
    for (int k = 0; rc == TL_OK && u->offered && k < u->n_cand; k++) {
        const char *item = tl_intern_str(&u->data.items, u->cand[k]);
        copy_scan c = {&l, at, 0};
        memset(at, 0, (size_t)l.n);
        rc = tl_store_item_holdings(st, item, strlen(item), on_copy, &c, d);
        for (int t = 0; rc == TL_OK && t < l.n; t++)
            u->offered[(size_t)t * (size_t)u->n_cand + (size_t)k] = !c.copies || at[t];
    }
    tl__service_reader_done(u->s, st);
    free(at);
    if (rc == TL_OK && u->offered) { /* keep the ids: the rows of offered */
        u->tenant = l.id;
        u->n_tenants = l.n;
        l.id = NULL;
        for (int t = 0; t < l.n; t++) {
            for (int b = 0; b < l.n_branches[t]; b++)
                free(l.branches[t][b]);
            free(l.branches[t]);
        }
        free(l.branches);
        free(l.n_branches);
        return TL_OK;
    }
    tenant_list_free(&l);
    return rc;
}

/* The candidates patron user (as stored: "TENANT:ID" for a library's) may be offered: its
 * library's row of u->offered, or NULL for all of them. */
static const uint8_t *offers_for(const run *u, const char *user)
{
    const char *colon = strchr(user, ':');
    for (int t = 0; colon && t < u->n_tenants; t++)
        if (strlen(u->tenant[t]) == (size_t)(colon - user) &&
            strncmp(u->tenant[t], user, (size_t)(colon - user)) == 0)
            return u->offered + (size_t)t * (size_t)u->n_cand;
    return NULL;
}

static tl_err prepare(run *u, tl_diag *d)
{
    tl_store *st;
    tl_err rc = tl__service_reader(u->s, &st, d);
    if (rc != TL_OK)
        return rc;
    rc = tl_store_load_data(st, &u->s->weights, &u->data, d);
    int32_t n = u->data.items.count;
    if (rc == TL_OK) {
        u->cover = calloc((size_t)n + 1, sizeof(*u->cover));
        u->place = calloc((size_t)n + 1, sizeof(*u->place));
        u->starts = calloc((size_t)n + 1, sizeof(*u->starts));
        u->cand = malloc(((size_t)n + 1) * sizeof(*u->cand));
        if (!u->cover || !u->place || !u->starts || !u->cand)
            rc = TL_ENOMEM;
    }
    if (rc == TL_OK)
        rc = tl_store_digest_details(st, u->q->since, u->q->now,
                                     u->q->now + (u->q->now - u->q->since), on_detail, u, d);
    if (rc == TL_OK)
        rc = tl_store_subscriptions_each(st, on_sub, u, d);
    tl__service_reader_done(u->s, st);
    if (rc != TL_OK)
        return rc;
    const tl_catalog *c = &u->data.cat;
    for (int32_t i = 0; i < n && i < c->n; i++) {
        int64_t added = c->added ? c->added[i] : 0;
        if (added >= u->q->since && added <= u->q->now && !cat_is(c, i, "event"))
            u->cand[u->n_cand++] = i;
        if (u->starts[i])
            u->n_events++;
    }
    by_added_key *keys = malloc(((size_t)u->n_cand + 1) * sizeof(*keys));
    if (!keys)
        return TL_ENOMEM;
    for (int k = 0; k < u->n_cand; k++)
        keys[k] = (by_added_key){c->added[u->cand[k]], tl_intern_str(&u->data.items, u->cand[k]),
                                 u->cand[k]};
    qsort(keys, (size_t)u->n_cand, sizeof(*keys), by_added);
    for (int k = 0; k < u->n_cand; k++)
        u->cand[k] = keys[k].i;
    free(keys);
    if (u->n_events && !(u->events = calloc((size_t)u->n_events, sizeof(*u->events))))
        return TL_ENOMEM;
    int k = 0;
    for (int32_t i = 0; i < n && k < u->n_events; i++)
        if (u->starts[i]) {
            tl_digest_item *e = &u->events[k++];
            item_of(u, i, e);
            e->kind = "event";
            snprintf(e->reason, sizeof(e->reason), "Library event");
        }
    if (u->n_events > 1)
        qsort(u->events, (size_t)u->n_events, sizeof(*u->events), by_start);
    tl_err trc = tenant_offers(u, d);
    if (trc != TL_OK)
        return trc;
    /* the content model of the run: new items are placed by what they are about */
    if (u->n_cand && tl_content_applicable(&u->data)) {
        tl_diag cd = {0};
        if (tl_model_new("content", &u->content) != TL_OK ||
            tl_model_fit(u->content, &u->data, NULL, &cd) != TL_OK) {
            tl__service_log(u->s, "warning", "digest", "no content model (%s): subjects only",
                            cd.msg[0] ? cd.msg : "out of memory");
            tl_model_free(u->content);
            u->content = NULL;
        }
    }
    return TL_OK;
}

/* What one patron's digest needs, reused from patron to patron. */
typedef struct work {
    int32_t *hist; /* the patron's items, oldest first */
    float *w, *score, *prof;
    by_key *keys; /* max(history, candidates) */
    uint8_t *had; /* by item: in the patron's history */
    int32_t *order;
    tl_digest_item *items;
} work;

static const char *title_or_id(const run *u, int32_t i)
{
    const tl_catalog *c = &u->data.cat;
    return i < c->n && c->title && c->title[i] ? c->title[i] : tl_intern_str(&u->data.items, i);
}

/* The patron's history, oldest first, into w->hist / w->w; returns its length. */
static int32_t history(const run *u, work *w, int32_t uidx)
{
    const tl_csr *ui = &u->data.ui;
    if (uidx < 0 || uidx >= ui->nrows)
        return 0;
    int64_t b = ui->indptr[uidx];
    int32_t n = (int32_t)(ui->indptr[uidx + 1] - b);
    for (int32_t k = 0; k < n; k++)
        w->keys[k] = (by_key){ui->ts ? (double)ui->ts[b + k] : 0.0, k};
    qsort(w->keys, (size_t)n, sizeof(*w->keys), by_key_up);
    for (int32_t k = 0; k < n; k++) {
        w->hist[k] = ui->indices[b + w->keys[k].k];
        w->w[k] = ui->data[b + w->keys[k].k];
    }
    return n;
}

/* Fills w->items for patron p; returns how many. */
static int choose(const run *u, work *w, const patron *p, int *personal)
{
    int n = u->q->n, got = 0;
    int32_t uidx = p->personalize ? tl_intern_find(&u->data.users, p->user, strlen(p->user)) : -1;
    int32_t nh = history(u, w, uidx);
    const uint8_t *ok = offers_for(u, p->user); /* NULL: every candidate */
    *personal = nh > 0;
    if (!*personal) { /* the newest arrivals, the same for everyone */
        for (int k = 0; k < u->n_cand && got < n; k++) {
            if (ok && !ok[k])
                continue;
            tl_digest_item *it = &w->items[got++];
            item_of(u, u->cand[k], it);
            it->kind = "new";
            snprintf(it->reason, sizeof(it->reason), "New in the library");
        }
        return got;
    }
    for (int32_t k = 0; k < nh; k++)
        w->had[w->hist[k]] = 1;
    tl_subjects ss;
    tl__subjects_collect(&ss, &u->data.cat, w->hist, nh, SUBJECT_ITEMS);
    int nc = 0;
    if (u->content && tl_content_score_items(u->content, w->hist, w->w, nh, u->cand, u->n_cand,
                                             w->score, w->prof) == 0) {
        for (int k = 0; k < u->n_cand; k++)
            if (w->score[k] >= MIN_SIMILARITY && !w->had[u->cand[k]] && (!ok || ok[k]))
                w->keys[nc++] = (by_key){w->score[k], k}; /* ties: the newest first */
        qsort(w->keys, (size_t)nc, sizeof(*w->keys), by_key_down);
        for (int k = 0; k < nc; k++)
            w->order[k] = w->keys[k].k;
    }
    for (int k = 0; k < nc && got < n; k++) {
        int32_t i = u->cand[w->order[k]];
        tl_digest_item *it = &w->items[got++];
        item_of(u, i, it);
        it->score = w->score[w->order[k]];
        int32_t why = -1;
        float contrib = 0;
        const tl_subject *hit;
        if (u->content->ops->explain(u->content, -1, w->hist, w->w, nh, i, &why, &contrib, 1) ==
                1 &&
            why >= 0) {
            it->kind = "similar";
            snprintf(it->reason, sizeof(it->reason), "Because you borrowed \"%.200s\"",
                     title_or_id(u, w->hist[why]));
        } else if ((hit = tl__subjects_match(&ss, &u->data.cat, i))) {
            it->kind = "subject";
            snprintf(it->reason, sizeof(it->reason), "In your subject: %.*s",
                     (int)(hit->len < 200 ? hit->len : 200), hit->text);
        } else {
            got--; /* no reason to give: not for this patron */
        }
        w->had[i] = 2; /* listed */
    }
    /* what the content model missed but shares a subject with a recent loan */
    for (int k = 0; k < u->n_cand && got < n && ss.n; k++) {
        int32_t i = u->cand[k];
        const tl_subject *hit;
        if (w->had[i] || (ok && !ok[k]) || !(hit = tl__subjects_match(&ss, &u->data.cat, i)))
            continue;
        tl_digest_item *it = &w->items[got++];
        item_of(u, i, it);
        it->kind = "subject";
        snprintf(it->reason, sizeof(it->reason), "In your subject: %.*s",
                 (int)(hit->len < 200 ? hit->len : 200), hit->text);
    }
    for (int32_t k = 0; k < nh; k++)
        w->had[w->hist[k]] = 0;
    for (int k = 0; k < nc; k++)
        w->had[u->cand[w->order[k]]] = 0;
    return got;
}

static void run_free(run *u)
{
    int32_t n = u->data.items.count;
    for (int32_t i = 0; u->cover && i < n; i++) {
        free(u->cover[i]);
        free(u->place[i]);
    }
    free(u->cover);
    free(u->place);
    free(u->starts);
    free(u->cand);
    free(u->events);
    for (size_t k = 0; k < u->n_pat; k++) {
        free(u->pat[k].user);
        free(u->pat[k].email);
    }
    free(u->pat);
    for (int t = 0; t < u->n_tenants; t++)
        free(u->tenant[t]);
    free(u->tenant);
    free(u->offered);
    tl_model_free(u->content);
    tl_data_release(&u->data);
    sodium_memzero(u->key, sizeof(u->key));
}

static tl_err check_query(const tl_digest_query *q, tl_digest_query *out, tl_diag *d)
{
    *out = *q;
    if (!out->now)
        out->now = (int64_t)time(NULL);
    if (!out->n)
        out->n = 10;
    if (out->n < 1 || out->n > TL_DIGEST_MAX_N) {
        tl_diag_set(d, NULL, 0, "n", "expected 1 to %d items per patron, got %d", TL_DIGEST_MAX_N,
                    out->n);
        return TL_EINVAL;
    }
    if (out->since >= out->now || out->since < 0) {
        tl_diag_set(d, NULL, 0, "since",
                    "the window must end after it starts (since %lld, now %lld)",
                    (long long)out->since, (long long)out->now);
        return TL_EINVAL;
    }
    if (!out->unsubscribe_url || !*out->unsubscribe_url)
        out->unsubscribe_url = DEFAULT_UNSUB;
    return TL_OK;
}

/* The unsubscribe link of user: URL?u=USER&sig=MAC, both percent-encoded where needed. */
static char *unsub_link(const char *base, const char *user, const uint8_t *key)
{
    char sig[2 * crypto_auth_BYTES + 1];
    sign(key, user, sig);
    size_t n = strlen(base) + 3 * strlen(user) + sizeof(sig) + 16;
    char *out = malloc(n), *o = out;
    if (!out)
        return NULL;
    o += snprintf(o, n, "%s%su=", base, strchr(base, '?') ? "&" : "?");
    for (const unsigned char *c = (const unsigned char *)user; *c; c++) {
        if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
            strchr("-._~", *c))
            *o++ = (char)*c;
        else
            o += sprintf(o, "%%%02X", *c);
    }
    sprintf(o, "&sig=%s", sig);
    return out;
}

tl_err tl_service_digest(tl_service *s, const tl_digest_query *q0, tl_digest_fn fn, void *ctx,
                         tl_digest_report *rep, tl_diag *d)
{
    double t0 = tl_now();
    tl_digest_query q;
    memset(rep, 0, sizeof(*rep));
    tl_err rc = tl__service_need_store(s, d);
    if (rc == TL_OK)
        rc = check_query(q0, &q, d);
    if (rc != TL_OK)
        return rc;
    char pseudo[TL_PATRON_REF_SIZE];
    run u = {.s = s, .q = &q, .only = q.user ? tl__patron_ref(s, q.user, pseudo) : NULL};
    tl_data_init(&u.data);
    rc = link_key(s, u.key, d);
    if (rc == TL_OK)
        rc = prepare(&u, d);
    if (rc == TL_OK && u.only && !u.n_pat) { /* a preview of a patron without alerts */
        int32_t i = tl_intern_find(&u.data.users, u.only, strlen(u.only));
        if (i < 0) {
            tl_diag_set(d, NULL, 0, "user", "no patron '%.100s' in the store", q.user);
            rc = TL_ENOTFOUND;
        } else {
            tl_store *st;
            int found = 0, personalize = 1;
            if ((rc = tl__service_reader(s, &st, d)) == TL_OK) {
                rc = tl_store_user_consent(st, u.only, strlen(u.only), &found, &personalize, d);
                tl__service_reader_done(s, st);
            }
            if (rc == TL_OK)
                rc = on_sub(&u, u.only, NULL, 0, 0, personalize);
        }
    }
    work w = {0};
    size_t maxh = 1;
    for (int32_t r = 0; rc == TL_OK && r < u.data.ui.nrows; r++) {
        size_t len = (size_t)(u.data.ui.indptr[r + 1] - u.data.ui.indptr[r]);
        maxh = len > maxh ? len : maxh;
    }
    size_t ni = (size_t)u.data.items.count + 1, nc = (size_t)u.n_cand + 1;
    size_t nt = u.content ? tl_content_n_terms(u.content) : 1;
    if (rc == TL_OK &&
        (!(w.hist = malloc(maxh * sizeof(*w.hist))) || !(w.w = malloc(maxh * sizeof(*w.w))) ||
         !(w.keys = malloc((maxh > nc ? maxh : nc) * sizeof(*w.keys))) ||
         !(w.order = malloc((maxh > nc ? maxh : nc) * sizeof(*w.order))) ||
         !(w.score = malloc(nc * sizeof(*w.score))) || !(w.prof = calloc(nt, sizeof(*w.prof))) ||
         !(w.had = calloc(ni, 1)) || !(w.items = calloc((size_t)q.n, sizeof(*w.items)))))
        rc = TL_ENOMEM;
    rep->new_items = u.n_cand;
    rep->events = u.n_events;
    for (size_t k = 0; rc == TL_OK && k < u.n_pat; k++) {
        const patron *p = &u.pat[k];
        rep->patrons++;
        tl_digest_msg m = {.user = p->user, .email = p->email, .since = q.since, .now = q.now};
        m.n_items = choose(&u, &w, p, &m.personal);
        m.items = w.items;
        m.events = u.events;
        m.n_events = u.n_events < q.n ? u.n_events : q.n;
        if (!m.n_items && !m.n_events && !u.only) {
            rep->empty++;
            continue;
        }
        char *link = unsub_link(q.unsubscribe_url, p->user, u.key);
        if (!link) {
            rc = TL_ENOMEM;
            break;
        }
        m.unsubscribe = link;
        tl_diag pd = {0};
        if (fn(ctx, &m, &pd) == TL_OK)
            rep->sent++;
        else
            rep->failed++;
        free(link);
    }
    free(w.hist);
    free(w.w);
    free(w.keys);
    free(w.order);
    free(w.score);
    free(w.prof);
    free(w.had);
    free(w.items);
    run_free(&u);
    rep->seconds = tl_now() - t0;
    return rc;
}

tl_err tl_digest_parse_time(const char *t, int64_t now, const char *what, int64_t *out, tl_diag *d)
{
    unsigned y, mo, dd, h = 0, mi = 0, sec = 0;
    long long v;
    char unit, z, tail;
    int n = 0;
    if (t && sscanf(t, "%lld%c%n", &v, &unit, &n) == 2 && !t[n] && v >= 0 && v <= 36500 &&
        (unit == 'd' || unit == 'h')) {
        *out = now - (int64_t)v * (unit == 'd' ? 86400 : 3600);
        return TL_OK;
    }
    if (t && sscanf(t, "%4u-%2u-%2u%n", &y, &mo, &dd, &n) == 3 && n == 10 &&
        tl_civil_valid(y, mo, dd) &&
        (!t[n] || (sscanf(t + n, "T%2u:%2u%c", &h, &mi, &z) == 3 && z == 'Z' && !t[n + 7]) ||
         (sscanf(t + n, "T%2u:%2u:%2u%c%c", &h, &mi, &sec, &z, &tail) == 4 && z == 'Z')) &&
        h < 24 && mi < 60 && sec < 61) {
        *out = tl_civil_days(y, mo, dd) * 86400 + h * 3600 + mi * 60 + sec;
        return TL_OK;
    }
    if (t && sscanf(t, "%lld%n", &v, &n) == 1 && !t[n] && v >= 0 && v < 253402300800LL) {
        *out = v;
        return TL_OK;
    }
    tl_diag_set(d, NULL, 0, what,
                "expected 7d, 12h, YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ or Unix seconds, got '%.40s'",
                t ? t : "");
    return TL_EINVAL;
}
