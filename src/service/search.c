/* Catalogue search for a request (tailor/service.h): the patron's text as quoted terms, the
 * best candidates by BM25 from the store's index with the match set's facets, re-ranked by the
 * patron's profile (the model's scores of the candidates), and the search kept with its total. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "service/exp_int.h"
#include "service/history.h"
#include "service/reason.h"
#include "service/search_query.h"
#include "service/imp_int.h"
#include "service/service_int.h"

_Static_assert(TL_SEARCH_HEADS_N >= TL_SEARCH_MAX_N, "the heads hold a whole answer");

typedef struct search_priv {
    char **strs; /* copies of the store's strings */
    int n_strs, cap_strs;
    tl_search_hit *hits; /* the candidates */
    int n_hits, cap_hits;
} search_priv;

static const char *keep(search_priv *p, const char *s)
{
    if (!s)
        return NULL;
    if (p->n_strs == p->cap_strs) {
        int cap = p->cap_strs ? 2 * p->cap_strs : 256;
        char **n = realloc(p->strs, (size_t)cap * sizeof(*n));
        if (!n)
            return NULL;
        p->strs = n;
        p->cap_strs = cap;
    }
    char *c = strdup(s);
    if (c)
        p->strs[p->n_strs++] = c;
    return c;
}

typedef struct collect {
    search_priv *p;
    tl_search_result *out;
} collect;

static tl_err on_hit(void *ctx, const char *item, const char *title, double score)
{
    collect *c = ctx;
    search_priv *p = c->p;
    if (p->n_hits == p->cap_hits) {
        int cap = p->cap_hits ? 2 * p->cap_hits : 64;
        tl_search_hit *n = realloc(p->hits, (size_t)cap * sizeof(*n));
        if (!n)
            return TL_ENOMEM;
        p->hits = n;
        p->cap_hits = cap;
    }
    tl_search_hit *h = &p->hits[p->n_hits];
    memset(h, 0, sizeof(*h));
    if (!(h->item = keep(p, item)) || (title && !(h->title = keep(p, title))))
        return TL_ENOMEM;
    h->text = score;
    h->text_rank = p->n_hits++;
    return TL_OK;
}

static tl_err on_facet(void *ctx, const char *facet, const char *value, int64_t count)
{
    collect *c = ctx;
    tl_search_result *out = c->out;
    tl_search_facet *f = out->n_facets ? &out->facets[out->n_facets - 1] : NULL;
    if (!f || strcmp(f->name, facet) != 0) {
        if (out->n_facets == TL_SEARCH_MAX_FACETS)
            return TL_OK;
        f = &out->facets[out->n_facets++];
        memset(f, 0, sizeof(*f));
        if (!(f->name = keep(c->p, facet)) ||
            !(f->values = calloc(TL_SEARCH_FACET_VALUES, sizeof(*f->values))) ||
            !(f->counts = calloc(TL_SEARCH_FACET_VALUES, sizeof(*f->counts))))
            return TL_ENOMEM;
    }
    if (f->n == TL_SEARCH_FACET_VALUES)
        return TL_OK;
    if (!(f->values[f->n] = keep(c->p, value)))
        return TL_ENOMEM;
    f->counts[f->n++] = count;
    return TL_OK;
}

static tl_err check(const tl_search_query *q, tl_diag *d)
{
    if (!q->q) {
        tl_diag_set(d, NULL, 0, "q", "a search needs a query");
        return TL_EINVAL;
    }
    if (strlen(q->q) > TL_SEARCH_MAX_Q) {
        tl_diag_set(d, NULL, 0, "q", "a query has at most %d bytes", TL_SEARCH_MAX_Q);
        return TL_EINVAL;
    }
    if (q->n < 1 || q->n > TL_SEARCH_MAX_N) {
        tl_diag_set(d, NULL, 0, "n", "expected 1 to %d items, got %d", TL_SEARCH_MAX_N, q->n);
        return TL_EINVAL;
    }
    if (!(q->weight < 0 || q->weight <= 1)) {
        tl_diag_set(d, NULL, 0, "weight", "expected 0 to 1");
        return TL_EINVAL;
    }
    return TL_OK;
}

/* ---- the cache of answers ------------------------------------------------------------------
 * The candidates, total and facets of recent searches (by their text, filters, candidates and
 * facets), for the version of the catalogue they were read in: a popular word's ranking,
 * which may scan a third of the catalogue, is done once per change of the catalogue instead of
 * once per request. The patron's re-ranking runs on the copy every time. */
typedef struct cache_hit {
    char *item, *title;
    double text;
} cache_hit;

typedef struct cache_entry {
    char *key; /* NULL: empty */
    uint64_t gen;
    long long total, facets_scanned;
    int facets_best, from_heads, total_estimated;
    const char *match;
    int n;
    cache_hit *hits;
    int n_facets;
    struct {
        char *name;
        int n;
        char **values;
        long long *counts;
    } facets[TL_SEARCH_MAX_FACETS];
} cache_entry;

struct tl_search_cache {
    pthread_mutex_t mu;
    int n;
    cache_entry *e;
};

static void entry_clear(cache_entry *e)
{
    free(e->key);
    for (int k = 0; k < e->n; k++) {
        free(e->hits[k].item);
        free(e->hits[k].title);
    }
    free(e->hits);
    for (int f = 0; f < e->n_facets; f++) {
        for (int k = 0; k < e->facets[f].n; k++)
            free(e->facets[f].values[k]);
        free(e->facets[f].name);
        free(e->facets[f].values);
        free(e->facets[f].counts);
    }
    memset(e, 0, sizeof(*e));
}

struct tl_search_cache *tl__search_cache_new(int n)
{
    if (n <= 0)
        return NULL;
    struct tl_search_cache *c = calloc(1, sizeof(*c));
    if (c && !(c->e = calloc((size_t)n, sizeof(*c->e)))) {
        free(c);
        return NULL;
    }
    if (c) {
        c->n = n;
        pthread_mutex_init(&c->mu, NULL);
    }
    return c;
}

void tl__search_cache_free(struct tl_search_cache *c)
{
    if (!c)
        return;
    for (int k = 0; k < c->n; k++)
        entry_clear(&c->e[k]);
    free(c->e);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

/* The key of q's answer with limit candidates (malloc'd), and its slot. */
static char *cache_key(const tl_search_query *q, int limit, uint64_t *hash)
{
    const char *tenant = tl_store_tenant(); /* a library's answers are its own */
    size_t len = strlen(q->q) + strlen(tenant) + 34;
    for (int k = 0; k < q->n_filters; k++)
        len += strlen(q->filters[k] ? q->filters[k] : "") + 1;
    char *key = malloc(len);
    if (!key)
        return NULL;
    size_t o =
        (size_t)snprintf(key, len, "%s\x1f%d\x1f%d\x1f%s", tenant, limit, q->facets ? 1 : 0, q->q);
    for (int k = 0; k < q->n_filters; k++)
        o += (size_t)snprintf(key + o, len - o, "\x1f%s", q->filters[k] ? q->filters[k] : "");
    uint64_t h = 14695981039346656037ULL; /* FNV-1a */
    for (size_t i = 0; i < o; i++)
        h = (h ^ (unsigned char)key[i]) * 1099511628211ULL;
    *hash = h;
    return key;
}

/* Copies a cached answer for key at generation gen into c; 1 when there was one. */
static int cache_get(struct tl_search_cache *sc, const char *key, uint64_t hash, uint64_t gen,
                     collect *c, tl_err *rc)
{
    if (!sc)
        return 0;
    int found = 0;
    pthread_mutex_lock(&sc->mu);
    cache_entry *e = &sc->e[hash % (uint64_t)sc->n];
    if (e->key && e->gen == gen && strcmp(e->key, key) == 0) {
        found = 1;
        *rc = TL_OK;
        for (int k = 0; *rc == TL_OK && k < e->n; k++)
            *rc = on_hit(c, e->hits[k].item, e->hits[k].title, e->hits[k].text);
        for (int f = 0; *rc == TL_OK && f < e->n_facets; f++)
            for (int k = 0; *rc == TL_OK && k < e->facets[f].n; k++)
                *rc =
                    on_facet(c, e->facets[f].name, e->facets[f].values[k], e->facets[f].counts[k]);
        c->out->total = e->total;
        c->out->match = e->match;
        c->out->facets_scanned = e->facets_scanned;
        c->out->facets_best = e->facets_best;
        c->out->from_heads = e->from_heads;
        c->out->total_estimated = e->total_estimated;
    }
    pthread_mutex_unlock(&sc->mu);
    return found;
}

static char *dup_or_null(const char *s, int *oom)
{
    char *d = s ? strdup(s) : NULL;
    *oom |= s && !d;
    return d;
}

/* Keeps c's answer for key (taking key) at generation gen. */
static void cache_put(struct tl_search_cache *sc, char *key, uint64_t hash, uint64_t gen,
                      const collect *c)
{
    if (!sc) {
        free(key);
        return;
    }
    cache_entry n;
    memset(&n, 0, sizeof(n));
    int oom = !(n.hits = calloc((size_t)c->p->n_hits + 1, sizeof(*n.hits)));
    n.key = key;
    n.gen = gen;
    n.total = c->out->total;
    n.match = c->out->match;
    n.facets_scanned = c->out->facets_scanned;
    n.facets_best = c->out->facets_best;
    n.from_heads = c->out->from_heads;
    n.total_estimated = c->out->total_estimated;
    for (int k = 0; !oom && k < c->p->n_hits; k++, n.n++) {
        n.hits[k].item = dup_or_null(c->p->hits[k].item, &oom);
        n.hits[k].title = dup_or_null(c->p->hits[k].title, &oom);
        n.hits[k].text = c->p->hits[k].text;
    }
    for (int f = 0; !oom && f < c->out->n_facets; f++, n.n_facets++) {
        const tl_search_facet *src = &c->out->facets[f];
        n.facets[f].name = dup_or_null(src->name, &oom);
        n.facets[f].values = calloc((size_t)src->n + 1, sizeof(char *));
        n.facets[f].counts = calloc((size_t)src->n + 1, sizeof(long long));
        oom |= !n.facets[f].values || !n.facets[f].counts;
        for (int k = 0; !oom && k < src->n; k++, n.facets[f].n++) {
            n.facets[f].values[k] = dup_or_null(src->values[k], &oom);
            n.facets[f].counts[k] = src->counts[k];
        }
    }
    if (oom) { /* no copy to keep: the answer stands, uncached */
        entry_clear(&n);
        return;
    }
    pthread_mutex_lock(&sc->mu);
    cache_entry *e = &sc->e[hash % (uint64_t)sc->n];
    cache_entry old = *e;
    *e = n;
    pthread_mutex_unlock(&sc->mu);
    entry_clear(&old);
}

/* Runs the expression for the text, all terms, then any of them when all finds nothing. */
static tl_err run_query(tl_service *s, const tl_search_query *q, int limit, collect *c, tl_diag *d)
{
    tl_search_result *out = c->out;
    tl_err rc = TL_OK;
    out->match = "none";
    char **held = NULL; /* a library's branches: its copies, or none anywhere */
    int n_held = 0;
    if ((rc = tl__tenant_branches(s, &held, &n_held)) != TL_OK)
        return rc;
    tl_store *st;
    if ((rc = tl__service_reader(s, &st, d)) != TL_OK) {
        tl__tenant_branches_free(held, n_held);
        return rc;
    }
    /* the catalogue's version as this reader sees it (moved by every write of items, their
     * details and holdings): an answer of another version is stale */
    uint64_t gen = 0, hash = 0;
    char *v = NULL, *key = NULL;
    if (s->search_cache && tl_store_get_meta(st, TL_META_SEARCH_VERSION, &v) == TL_OK) {
        gen = v ? strtoull(v, NULL, 10) : 0; /* none: the catalogue was never written since */
        key = cache_key(q, limit, &hash);
    }
    free(v);
    if (key && cache_get(s->search_cache, key, hash, gen, c, &rc)) {
        tl__service_reader_done(s, st);
        tl__tenant_branches_free(held, n_held);
        free(key);
        return rc;
    }
    for (int any = 0; any < 2; any++) {
        char *match = NULL;
        int terms = 0;
        if (tl__search_match(q->q, strlen(q->q), any, TL_SEARCH_MAX_TERMS, &match, &terms) !=
            TL_OK) {
            rc = TL_ENOMEM;
            break;
        }
        if (!terms || (any && terms < 2)) {
            free(match);
            break;
        }
        tl_store_search_info info;
        tl_store_search_q sq = {.match = match,
                                .filters = q->filters,
                                .n_filters = q->n_filters,
                                .held_at = (const char *const *)held,
                                .n_held_at = n_held,
                                .limit = limit,
                                .facets = q->facets,
                                .info = &info};
        int64_t total = 0;
        /* a second pass starts afresh */
        c->p->n_hits = 0;
        for (int k = 0; k < out->n_facets; k++) {
            free(out->facets[k].values);
            free(out->facets[k].counts);
        }
        out->n_facets = 0;
        rc = tl_store_search(st, &sq, on_hit, on_facet, c, &total, d);
        free(match);
        if (rc != TL_OK)
            break;
        out->total = total;
        out->match = any ? "any" : "all";
        out->facets_scanned = info.facets_scanned;
        out->facets_best = info.facets_best;
        out->from_heads = info.from_heads;
        out->total_estimated = info.total_estimated;
        if (total > 0)
            break;
    }
    tl__service_reader_done(s, st);
    tl__tenant_branches_free(held, n_held);
    if (rc == TL_OK && key)
        cache_put(s->search_cache, key, hash, gen, c);
    else
        free(key);
    return rc;
}

static int by_blend(const void *a, const void *b)
{
    const tl_search_hit *x = a, *y = b;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    return x->text_rank - y->text_rank;
}

/* The model's scores of the candidates for the patron's history h into each hit's personal
 * (normalized 0..1 over them; 0 for an item the model does not know, and for the patron's own
 * items, which a profile should not push); *scored = 1 when any was scored. Only the
 * candidates are scored (tl_model_score_items), not the catalogue. */
static tl_err personal_scores(const tl_model *m, const tl_hist *h, tl_search_hit *hits, int n,
                              int *scored)
{
    *scored = 0;
    int32_t *idx = malloc((size_t)n * sizeof(*idx)), *cand = malloc((size_t)n * sizeof(*cand));
    int *at = malloc((size_t)n * sizeof(*at));
    float *sc = malloc((size_t)n * sizeof(*sc));
    tl_err rc = idx && cand && at && sc ? TL_OK : TL_ENOMEM;
    int nc = 0;
    for (int k = 0; rc == TL_OK && k < n; k++) {
        idx[k] = tl_model_item_index(m, hits[k].item);
        for (int32_t j = 0; idx[k] >= 0 && j < h->n; j++)
            if (h->items[j] == idx[k])
                idx[k] = -1; /* the patron's own */
        if (idx[k] >= 0) {
            at[nc] = k;
            cand[nc++] = idx[k];
        }
    }
    if (rc == TL_OK && nc)
        rc = tl_model_score_items(m, h->uidx, h->items, h->w, h->n, cand, nc, sc);
    float lo = INFINITY, hi = -INFINITY;
    for (int c = 0; rc == TL_OK && c < nc; c++)
        if (isfinite(sc[c])) {
            lo = fminf(lo, sc[c]);
            hi = fmaxf(hi, sc[c]);
        }
    for (int c = 0; rc == TL_OK && c < nc && hi > lo; c++)
        if (isfinite(sc[c])) {
            hits[at[c]].personal = (sc[c] - lo) / (hi - lo);
            *scored = 1;
        }
    free(idx);
    free(cand);
    free(at);
    free(sc);
    return rc == TL_ENUMERIC ? TL_OK : rc; /* a history the model cannot fold in: text alone */
}

/* The patron's profile over the candidates, blended; *why = NULL when it was applied. */
static tl_err personalize(tl_service *s, const tl_search_query *q, double w, search_priv *p,
                          const char **why, tl_diag *d)
{
    *why = NULL;
    if (!q->user) {
        *why = "anonymous";
        return TL_OK;
    }
    if (w <= 0) {
        *why = "personal weight 0";
        return TL_OK;
    }
    tl_model_ref *ref = tl__service_model(s);
    if (!ref) {
        *why = "no model";
        return TL_OK;
    }
    const tl_model *m = ref->m;
    tl_hist h = {.uidx = -1};
    const char *fallback = NULL;
    tl_diag ignore;
    tl_diag_clear(&ignore);
    tl_err rc = tl__patron_history(s, m, q->user, NULL, &h, &fallback, &ignore);
    int scored = 0;
    if (rc == TL_ENOTFOUND) {
        *why = "unknown patron";
        rc = TL_OK;
    } else if (rc == TL_OK && fallback) {
        *why = "opted out";
    } else if (rc == TL_OK && h.n == 0) {
        *why = "no history";
    } else if (rc == TL_OK && (rc = personal_scores(m, &h, p->hits, p->n_hits, &scored)) == TL_OK &&
               !scored) {
        *why = "the model found nothing in this patron's history";
    }
    if (rc == TL_OK && !*why) {
        double hi = 0;
        for (int k = 0; k < p->n_hits; k++)
            hi = fmax(hi, p->hits[k].text);
        for (int k = 0; k < p->n_hits; k++) {
            tl_search_hit *x = &p->hits[k];
            x->text = hi > 0 ? x->text / hi : 0;
            x->score = (1 - w) * x->text + w * x->personal;
        }
        qsort(p->hits, (size_t)p->n_hits, sizeof(*p->hits), by_blend);
        /* a reason for what the profile moved up: the history item that weighs most for it */
        for (int k = 0; k < p->n_hits && k < q->n; k++) {
            tl_search_hit *x = &p->hits[k];
            int32_t i = tl_model_item_index(m, x->item);
            if (x->text_rank <= k || i < 0)
                continue;
            tl_rec_item it;
            memset(&it, 0, sizeof(it));
            tl__rec_item_fill(m, &h, &it, i, (float)x->personal, TL__WHY_HISTORY, 1, NULL);
            if (it.n_evidence)
                snprintf(x->reason, sizeof(x->reason), "Close to what you borrowed: %s",
                         it.evidence[0].title ? it.evidence[0].title : it.evidence[0].item);
            else
                snprintf(x->reason, sizeof(x->reason), "Close to what you borrowed");
        }
    }
    tl__hist_release(&h);
    tl__model_ref_release(ref);
    (void)d;
    return rc;
}

tl_err tl_service_search(tl_service *s, const tl_search_query *q, tl_search_result *out, tl_diag *d)
{
    memset(out, 0, sizeof(*out));
    tl_err rc = check(q, d);
    if (rc == TL_OK)
        rc = tl__service_need_store(s, d);
    if (rc != TL_OK)
        return rc;
    search_priv *p = calloc(1, sizeof(*p));
    if (!p)
        return TL_ENOMEM;
    out->priv_ = p;
    collect c = {p, out};
    tl__exp_arms arms;
    tl__exp_arms_of(s, q->user, &arms);
    double w = q->weight >= 0              ? q->weight
               : arms.p.search_weight >= 0 ? arms.p.search_weight
                                           : s->search_weight;
    int limit = q->n > TL_SEARCH_CANDIDATES ? q->n : TL_SEARCH_CANDIDATES;
    if (!q->user || w <= 0)
        limit = q->n; /* nothing re-ranks: the index's order is the answer */
    rc = run_query(s, q, limit, &c, d);
    double hi = 0;
    for (int k = 0; rc == TL_OK && k < p->n_hits; k++)
        hi = fmax(hi, p->hits[k].text);
    if (rc == TL_OK && p->n_hits)
        rc = personalize(s, q, w, p, &out->personal, d);
    out->weight = out->personal ? 0 : w;
    if (rc == TL_OK && out->personal) { /* the text alone, normalized as the blend would be */
        for (int k = 0; k < p->n_hits; k++) {
            p->hits[k].text = hi > 0 ? p->hits[k].text / hi : 0;
            p->hits[k].score = p->hits[k].text;
        }
    }
    if (rc == TL_OK && !p->n_hits && !out->personal)
        out->personal = q->user ? "nothing matched" : "anonymous";
    out->items = p->hits;
    out->n = p->n_hits < q->n ? p->n_hits : q->n;
    if (rc == TL_OK && q->log && s->writer && out->match[0] != 'n') {
        /* an opted-out patron's search is kept, but not as theirs */
        const char *who = q->user;
        int found = 0, consent = 1;
        pthread_mutex_lock(&s->write_mu);
        if (who)
            rc = tl_store_user_consent(s->writer, who, strlen(who), &found, &consent, d);
        if (rc == TL_OK)
            rc = tl_store_search_log(s->writer, found && !consent ? NULL : who, q->q,
                                     q->time ? q->time : (long long)time(NULL), out->total, d);
        pthread_mutex_unlock(&s->write_mu);
    }
    if (rc == TL_OK && q->impression && tl__imp_logging(s)) {
        const char **ids = malloc(((size_t)out->n + 1) * sizeof(*ids));
        tl_rec_context where = {.device = q->device, .time = q->time};
        for (int k = 0; ids && k < out->n; k++)
            ids[k] = out->items[k].item;
        if (ids)
            tl__imp_log_list(s, TL__SURFACE_SEARCH, q->user, NULL, arms.experiment, arms.arm,
                             &where, NULL, ids, out->n, out->impression_id);
        free(ids);
    }
    if (rc == TL_OK)
        tl__exp_arms_done(s, &arms);
    if (rc != TL_OK)
        tl_search_result_free(out);
    return rc;
}

void tl_search_result_free(tl_search_result *r)
{
    search_priv *p = r->priv_;
    if (p) {
        for (int k = 0; k < p->n_strs; k++)
            free(p->strs[k]);
        free(p->strs);
        free(p->hits);
    }
    for (int k = 0; k < r->n_facets; k++) {
        free(r->facets[k].values);
        free(r->facets[k].counts);
    }
    free(p);
    memset(r, 0, sizeof(*r));
}

tl_err tl_service_search_reindex(tl_service *s, const char *languages, double *seconds, tl_diag *d)
{
    tl_err rc = tl__service_need_writer(s, "a reindex", d);
    if (rc != TL_OK)
        return rc;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pthread_mutex_lock(&s->write_mu);
    rc = tl_store_search_rebuild(s->writer, languages, d);
    pthread_mutex_unlock(&s->write_mu);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (seconds)
        *seconds = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    return rc;
}
