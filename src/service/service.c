/* Opening and closing a service, and swapping its model under running requests. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "core/linalg.h"
#include "service/exp_int.h"
#include "service/hist_cache.h"
#include "service/imp_int.h"
#include "service/service_int.h"

static tl_err load_ref(const char *path, tl_model_ref **out, tl_diag *d)
{
    tl_model_ref *r = calloc(1, sizeof(*r));
    if (!r || !(r->path = strdup(path))) {
        free(r);
        return TL_ENOMEM;
    }
    tl_err rc = tl_model_load(path, &r->m, d);
    if (rc != TL_OK) {
        free(r->path);
        free(r);
        return rc;
    }
    atomic_init(&r->refs, 1);
    pthread_mutex_init(&r->lists_mu, NULL);
    pthread_mutex_init(&r->facets_mu, NULL);
    pthread_mutex_init(&r->cat_mu, NULL);
    pthread_mutex_init(&r->pop_mu, NULL);
    pthread_mutex_init(&r->sched_mu, NULL);
    pthread_mutex_init(&r->shelf_mu, NULL);
    pthread_mutex_init(&r->season_mu, NULL);
    pthread_rwlock_init(&r->season_rw, NULL);
    atomic_init(&r->cat_gen, 0);
    atomic_init(&r->withdrawn, NULL);
    r->cat_version = -1;
    struct stat sb;
    if (stat(path, &sb) == 0)
        r->written_at = (double)sb.st_mtim.tv_sec + (double)sb.st_mtim.tv_nsec * 1e-9;
    *out = r;
    return TL_OK;
}

void tl__model_ref_release(tl_model_ref *r)
{
    if (r && atomic_fetch_sub_explicit(&r->refs, 1, memory_order_acq_rel) == 1) {
        tl_model_free(r->m);
        pthread_mutex_destroy(&r->lists_mu);
        pthread_mutex_destroy(&r->facets_mu);
        tl_facets_release(&r->facets);
        tl__withdrawn_free(r);
        tl__popular_free(r);
        tl__events_free(r);
        tl__shelves_free(r);
        tl__seasons_free(r);
        free(r->newest);
        free(r->series_next);
        free(r->work);
        free(r->work_next);
        free(r->has_cover);
        free(r->path);
        free(r);
    }
}

tl_model_ref *tl__service_model(tl_service *s)
{
    pthread_mutex_lock(&s->mu);
    tl_model_ref *r = s->slot[0];
    if (r)
        atomic_fetch_add_explicit(&r->refs, 1, memory_order_relaxed);
    pthread_mutex_unlock(&s->mu);
    return r;
}

/* Slot k's name (slot 0: its model's kind, which a training may change). Under s->mu. */
static const char *slot_name(const tl_service *s, int k)
{
    return k == 0 ? s->slot[0]->m->ops->name : s->slot_name[k];
}

tl_model_ref *tl__service_model_named(tl_service *s, const char *name, int *popular_only,
                                      const char **served, tl_err *rc, tl_diag *d)
{
    *popular_only = 0;
    *rc = TL_OK;
    if (!name || !*name) {
        tl_model_ref *r = tl__service_need_model(s, d);
        *rc = r ? TL_OK : TL_EUNSUPPORTED;
        *served = r ? r->m->ops->name : NULL;
        return r;
    }
    char list[TL_SERVICE_MAX_MODELS * (TL_SERVICE_MODEL_NAME + 2) + 16];
    size_t o = 0;
    tl_model_ref *r = NULL;
    pthread_mutex_lock(&s->mu);
    for (int k = 0; k < s->n_slots && s->slot[0]; k++) {
        if (!r && strcmp(slot_name(s, k), name) == 0) {
            r = s->slot[k];
            /* slot 0's name is its model's, which lives as long as the reference */
            *served = k ? s->slot_name[k] : r->m->ops->name;
        }
        o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s", k ? ", " : "", slot_name(s, k));
    }
    if (!r && s->slot[0] && strcmp(name, "popular") == 0) {
        r = s->slot[0];
        *popular_only = 1;
        *served = "popular";
    }
    if (r)
        atomic_fetch_add_explicit(&r->refs, 1, memory_order_relaxed);
    pthread_mutex_unlock(&s->mu);
    if (r)
        return r;
    if (!o) {
        tl_diag_set(d, NULL, 0, "model", "no model is loaded (this service has only a store)");
        *rc = TL_EUNSUPPORTED;
    } else {
        tl_diag_set(d, NULL, 0, "model", "no model '%.64s' is served here (served: %s, popular)",
                    name, list);
        *rc = TL_EINVAL;
    }
    return NULL;
}

tl_model_ref *tl__service_need_model(tl_service *s, tl_diag *d)
{
    tl_model_ref *r = tl__service_model(s);
    if (!r)
        tl_diag_set(d, NULL, 0, "model", "no model is loaded (this service has only a store)");
    return r;
}

tl_err tl__service_need_store(tl_service *s, tl_diag *d)
{
    if (s->db)
        return TL_OK;
    tl_diag_set(d, NULL, 0, NULL, "this needs a store (--db)");
    return TL_EUNSUPPORTED;
}

tl_err tl__service_need_writer(tl_service *s, const char *what, tl_diag *d)
{
    if (s->writer)
        return TL_OK;
    if (s->db)
        tl_diag_set(d, NULL, 0, NULL, "the store was opened read-only");
    else
        tl_diag_set(d, NULL, 0, NULL, "%s need a store (--db)", what);
    return TL_EUNSUPPORTED;
}

tl_err tl__service_store_open(tl_service *s, int flags, tl_store **out, tl_diag *d)
{
    tl_store_opts o;
    tl_store_opts_init(&o);
    o.flags = flags;
    o.pseudonym_key = s->has_pkey ? s->pkey : NULL;
    return tl_store_open_with(s->db, &o, out, d);
}

const char *tl__patron_ref(const tl_service *s, const char *user, char *buf)
{
    return tl_patron_ref(s->has_pkey ? s->pkey : NULL, tl_store_tenant(), user, strlen(user), buf,
                         NULL);
}

tl_err tl__service_reader(tl_service *s, tl_store **out, tl_diag *d)
{
    pthread_mutex_lock(&s->mu);
    *out = s->n_readers ? s->readers[--s->n_readers] : NULL;
    pthread_mutex_unlock(&s->mu);
    tl_err rc = *out ? TL_OK : tl__service_store_open(s, TL_STORE_READONLY, out, d);
    int changed = 1; /* a new connection, or one that cannot tell: anything may have changed */
    if (rc == TL_OK && (tl_store_changed(*out, &changed) != TL_OK || changed)) {
        atomic_fetch_add_explicit(&s->store_gen, 1, memory_order_acq_rel);
        tl__swap_check(s, *out); /* another process may have swapped a model we serve */
    }
    return rc;
}

void tl__service_reader_done(tl_service *s, tl_store *st)
{
    pthread_mutex_lock(&s->mu);
    if (s->n_readers < TL_SERVICE_IDLE_READERS) {
        s->readers[s->n_readers++] = st;
        st = NULL;
    }
    pthread_mutex_unlock(&s->mu);
    tl_store_free(st);
}

/* A served model's name: what a request's model= says. */
static int name_ok(const char *s, size_t n)
{
    if (n == 0 || n >= TL_SERVICE_MODEL_NAME)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!strchr("abcdefghijklmnopqrstuvwxyz0123456789_-.", s[i]))
            return 0;
    return 1;
}

/* Loads o->more_models into the slots after the main model's. */
static tl_err load_more(tl_service *s, const tl_service_opts *o, tl_diag *d)
{
    if (o->n_more_models > 0 && !s->slot[0]) {
        tl_diag_set(d, NULL, 0, "models", "more models need a main model (--model)");
        return TL_EINVAL;
    }
    if (o->n_more_models > TL_SERVICE_MAX_MODELS - 1) {
        tl_diag_set(d, NULL, 0, "models", "at most %d more models", TL_SERVICE_MAX_MODELS - 1);
        return TL_EINVAL;
    }
    for (int k = 0; k < o->n_more_models; k++) {
        const char *spec = o->more_models[k] ? o->more_models[k] : "";
        const char *eq = strchr(spec, '='), *slash = strchr(spec, '/');
        int named = eq && (!slash || eq < slash);
        const char *path = named ? eq + 1 : spec;
        if (named && !name_ok(spec, (size_t)(eq - spec))) {
            tl_diag_set(d, NULL, 0, "models",
                        "'%.*s' is not a model name (1 to %d of a-z, 0-9, '_', '-', '.')",
                        (int)(eq - spec) > 64 ? 64 : (int)(eq - spec), spec,
                        TL_SERVICE_MODEL_NAME - 1);
            return TL_EINVAL;
        }
        int i = s->n_slots;
        tl_err rc = load_ref(path, &s->slot[i], d);
        if (rc != TL_OK)
            return rc;
        s->n_slots++;
        const char *name = named ? spec : s->slot[i]->m->ops->name;
        size_t n = named ? (size_t)(eq - spec) : strlen(name);
        memcpy(s->slot_name[i], name, n);
        s->slot_name[i][n] = '\0';
        for (int j = 0; j < i; j++)
            if (strcmp(slot_name(s, j), s->slot_name[i]) == 0) {
                tl_diag_set(d, NULL, 0, "models",
                            "two served models are named '%s': name one as NAME=FILE",
                            s->slot_name[i]);
                return TL_EINVAL;
            }
    }
    return TL_OK;
}

/* A served model file older than the store's last erasure may still hold the erased patron (a
 * server stopped before its retraining ended): a writable service trains it again at once. */
static void retrain_if_erased_since(tl_service *s)
{
    long long erased = 0;
    if (!s->writer || tl_store_counter(s->writer, TL_META_ERASED_AT, &erased) != TL_OK || !erased)
        return;
    for (int k = 0; k < s->n_slots; k++)
        if (s->slot[k]->written_at > 0 && s->slot[k]->written_at < (double)erased + 1) {
            tl__service_log(s, "info", "erase",
                            "a served model is older than the last erasure: training again");
            tl__service_retrain_after_erasure(s);
            return;
        }
}

tl_err tl_service_open(const tl_service_opts *o, tl_service **out, tl_diag *d)
{
    *out = NULL;
    if (!o || ((!o->model || !*o->model) && !o->db)) {
        tl_diag_set(d, NULL, 0, "model", "a model file is needed (tailor train --out)");
        return TL_EINVAL;
    }
    tl_service *s = calloc(1, sizeof(*s));
    if (!s)
        return TL_ENOMEM;
    if (o->serving)
        tl_la_blas_threads_set(1); /* request threads call BLAS at once; set before any */
    pthread_mutex_init(&s->mu, NULL);
    pthread_mutex_init(&s->write_mu, NULL);
    pthread_mutex_init(&s->lists_mu, NULL);
    pthread_mutex_init(&s->train_mu, NULL);
    pthread_mutex_init(&s->keys_mu, NULL);
    pthread_mutex_init(&s->keys_list_mu, NULL);
    pthread_cond_init(&s->train_cv, NULL);
    atomic_init(&s->train_cancel, 0);
    s->retrain_events = o->retrain_events;
    s->log = o->log;
    s->log_ctx = o->log_ctx;
    s->retrain_seconds = o->retrain_seconds;
    s->last_train_at = (double)time(NULL);
    tl_event_weights_init(&s->weights);
    tl_err rc = tl__keys_start(d);
    const char *attr = o->segment_attribute ? o->segment_attribute : "department";
    if (rc == TL_OK && (strlen(attr) > TL_SEGMENT_ATTR_MAX ||
                        strspn(attr, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                     "0123456789_-") != strlen(attr))) {
        tl_diag_set(d, NULL, 0, "segment-attribute",
                    "'%.80s' is not an attribute name (letters, digits, '_', '-'; at most %d)",
                    attr, TL_SEGMENT_ATTR_MAX);
        rc = TL_EINVAL;
    }
    if (rc == TL_OK)
        snprintf(s->segment_attr, sizeof(s->segment_attr), "%s", attr);
    s->min_group = o->min_group > 0 ? o->min_group : TL_MIN_GROUP;
    s->search_weight = o->search_weight_set ? o->search_weight : TL_SEARCH_WEIGHT;
    s->search_cache =
        tl__search_cache_new(o->search_cache == 0 ? TL_SEARCH_CACHE : o->search_cache);
    if (rc == TL_OK && !(s->search_weight >= 0 && s->search_weight <= 1)) {
        tl_diag_set(d, NULL, 0, "search-personal-weight", "expected 0 to 1, got %g",
                    s->search_weight);
        rc = TL_EINVAL;
    }
    if (o->pseudonym_key) {
        s->has_pkey = 1;
        memcpy(s->pkey, o->pseudonym_key, TL_PSEUDONYM_KEY_LEN);
    }
    if (rc == TL_OK && o->calendar && *o->calendar)
        rc = tl__calendar_load(o->calendar, &s->calendar, d);
    if (rc == TL_OK && o->model && *o->model && (rc = load_ref(o->model, &s->slot[0], d)) == TL_OK)
        s->n_slots = 1;
    if (rc == TL_OK)
        rc = load_more(s, o, d);
    if (rc == TL_OK && o->db) {
        tl_store *st = NULL;
        if (!(s->db = strdup(o->db)) || !(s->hcache = tl__hc_new()))
            rc = TL_ENOMEM;
        else if ((rc = tl__service_store_open(s, o->writable ? 0 : TL_STORE_READONLY, &st, d)) ==
                 TL_OK)
            rc = tl_store_event_weights(st, &s->weights, d);
        long long erasures = 0; /* those before this service opened are not its to act on */
        if (rc == TL_OK && tl_store_counter(st, TL_META_ERASURES, &erasures) == TL_OK)
            atomic_store(&s->erasures_seen, erasures);
        if (rc == TL_OK && o->writable)
            s->writer = st;
        else if (rc == TL_OK)
            s->readers[s->n_readers++] = st;
        else
            tl_store_free(st);
    }
    if (rc == TL_OK)
        rc = tl__imp_open(s, o, d);
    if (rc == TL_OK && !(s->exp = tl__exp_cache_new()))
        rc = TL_ENOMEM;
    if (rc != TL_OK) {
        tl_service_close(s);
        return rc;
    }
    retrain_if_erased_since(s);
    *out = s;
    return TL_OK;
}

void tl_service_close(tl_service *s)
{
    if (!s)
        return;
    tl__service_train_stop(s);
    tl__imp_close(s); /* writes what is queued while the writer is open */
    for (int k = 0; k < s->n_slots; k++)
        tl__model_ref_release(s->slot[k]);
    for (int k = 0; k < s->n_readers; k++)
        tl_store_free(s->readers[k]);
    tl_store_free(s->writer);
    free(s->db);
    tl__hc_free(s->hcache);
    tl__service_lists_free(s);
    tl__calendar_free(&s->calendar);
    tl__keys_free(s);
    tl__tenants_free(s);
    tl__search_cache_free(s->search_cache);
    tl__exp_cache_free(s->exp);
    pthread_mutex_destroy(&s->keys_mu);
    pthread_mutex_destroy(&s->keys_list_mu);
    pthread_mutex_destroy(&s->lists_mu);
    pthread_mutex_destroy(&s->train_mu);
    pthread_cond_destroy(&s->train_cv);
    pthread_mutex_destroy(&s->mu);
    pthread_mutex_destroy(&s->write_mu);
    free(s);
}

tl_err tl__service_swap_slot(tl_service *s, int slot, const char *path, tl_diag *d)
{
    tl_model_ref *r;
    tl_err rc = load_ref(path, &r, d);
    if (rc != TL_OK)
        return rc;
    pthread_mutex_lock(&s->mu);
    tl_model_ref *old = s->slot[slot];
    s->slot[slot] = r;
    if (slot >= s->n_slots)
        s->n_slots = slot + 1;
    long long swaps = ++s->swaps;
    pthread_mutex_unlock(&s->mu);
    tl__service_log(s, "info", "swap", "serving %s from %s (swap %lld)", r->m->ops->name, path,
                    swaps);
    tl__model_ref_release(old);
    return TL_OK;
}

int tl__service_train_slot(tl_service *s, const char *name, char **path, char *kind,
                           size_t kind_len)
{
    int slot = 0;
    pthread_mutex_lock(&s->mu);
    for (int k = 1; name && k < s->n_slots && !slot; k++)
        if (strcmp(s->slot_name[k], name) == 0 && (*path = strdup(s->slot[k]->path))) {
            snprintf(kind, kind_len, "%s", s->slot[k]->m->ops->name);
            slot = k;
        }
    pthread_mutex_unlock(&s->mu);
    return slot;
}

tl_err tl_service_swap_model(tl_service *s, const char *path, tl_diag *d)
{
    return tl__service_swap_slot(s, 0, path, d);
}

void tl__service_log(tl_service *s, const char *level, const char *what, const char *fmt, ...)
{
    if (!s->log)
        return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    s->log(s->log_ctx, level, what, msg);
}

void tl_service_info_get(tl_service *s, tl_service_info *out, int count_events)
{
    memset(out, 0, sizeof(*out));
    out->events_since = -1;
    pthread_mutex_lock(&s->mu);
    if (!s->slot[0]) {
        out->model = "none";
        out->swaps = s->swaps;
        pthread_mutex_unlock(&s->mu);
        out->has_store = s->db != NULL;
        out->writable = s->writer != NULL;
        return;
    }
    const tl_model *m = s->slot[0]->m;
    out->model = m->ops->name;
    snprintf(out->model_path, sizeof(out->model_path), "%s", s->slot[0]->path);
    out->users = m->n_users;
    out->items = m->n_items;
    out->fit_seconds = m->fit_seconds;
    out->written_at = s->slot[0]->written_at;
    out->trained_through = m->trained_through;
    out->trained_pairs = m->trained_pairs;
    out->swaps = s->swaps;
    for (int k = 0; k < s->n_slots; k++) {
        struct tl_served_model *v = &out->served[out->n_served++];
        const tl_model *mk = s->slot[k]->m;
        snprintf(v->name, sizeof(v->name), "%s", slot_name(s, k));
        v->kind = mk->ops->name;
        v->users = mk->n_users;
        v->items = mk->n_items;
        v->trained_through = mk->trained_through;
    }
    pthread_mutex_unlock(&s->mu);
    out->has_store = s->db != NULL;
    out->writable = s->writer != NULL;
    tl_store *st;
    int64_t n;
    if (count_events && s->db && tl__service_reader(s, &st, NULL) == TL_OK) {
        if (tl_store_events_since(st, out->trained_through, 0, NULL, NULL, &n) == TL_OK)
            out->events_since = n;
        tl__service_reader_done(s, st);
    }
}

int tl_service_ready(tl_service *s, char *why, size_t len)
{
    tl_model_ref *r = tl__service_model(s);
    if (!r) {
        snprintf(why, len, "no model is loaded");
        return 0;
    }
    tl__model_ref_release(r);
    tl_store *st;
    tl_diag d;
    tl_diag_clear(&d);
    int changed;
    tl_err rc = s->db ? tl__service_reader(s, &st, &d) : TL_OK;
    if (s->db && rc == TL_OK) {
        rc = tl_store_changed(st, &changed); /* one read: the store answers */
        tl__service_reader_done(s, st);
    }
    if (rc != TL_OK) {
        snprintf(why, len, "the store cannot be read: %s%s%s", tl_strerror(rc),
                 d.msg[0] ? ": " : "", d.msg);
        return 0;
    }
    why[0] = '\0';
    return 1;
}

int tl_service_knows_item(tl_service *s, const char *item)
{
    tl_model_ref *r = tl__service_model(s);
    if (!r)
        return 0;
    int known = item && tl_intern_find(&r->m->items, item, strlen(item)) >= 0;
    tl__model_ref_release(r);
    return known;
}
