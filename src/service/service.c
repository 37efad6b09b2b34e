/* Opening and closing a service, and swapping its model under running requests. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "core/linalg.h"
#include "service/hist_cache.h"
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
    pthread_mutex_init(&r->cat_mu, NULL);
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
        tl__withdrawn_free(r);
        free(r->popular);
        free(r->popular_n);
        free(r->newest);
        free(r->path);
        free(r);
    }
}

tl_model_ref *tl__service_model(tl_service *s)
{
    pthread_mutex_lock(&s->mu);
    tl_model_ref *r = s->cur;
    if (r)
        atomic_fetch_add_explicit(&r->refs, 1, memory_order_relaxed);
    pthread_mutex_unlock(&s->mu);
    return r;
}

tl_model_ref *tl__service_need_model(tl_service *s, tl_diag *d)
{
    tl_model_ref *r = tl__service_model(s);
    if (!r)
        tl_diag_set(d, NULL, 0, "model", "no model is loaded (this service has only a store)");
    return r;
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

tl_err tl__service_reader(tl_service *s, tl_store **out, tl_diag *d)
{
    pthread_mutex_lock(&s->mu);
    *out = s->n_readers ? s->readers[--s->n_readers] : NULL;
    pthread_mutex_unlock(&s->mu);
    tl_err rc = *out ? TL_OK : tl_store_open(s->db, TL_STORE_READONLY, out, d);
    int changed = 1; /* a new connection, or one that cannot tell: anything may have changed */
    if (rc == TL_OK && (tl_store_changed(*out, &changed) != TL_OK || changed))
        atomic_fetch_add_explicit(&s->store_gen, 1, memory_order_acq_rel);
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
    pthread_mutex_init(&s->trend_mu, NULL);
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
    if (rc == TL_OK && o->model && *o->model)
        rc = load_ref(o->model, &s->cur, d);
    if (rc == TL_OK && o->db) {
        tl_store *st = NULL;
        if (!(s->db = strdup(o->db)) || !(s->hcache = tl__hc_new()))
            rc = TL_ENOMEM;
        else if ((rc = tl_store_open(o->db, o->writable ? 0 : TL_STORE_READONLY, &st, d)) == TL_OK)
            rc = tl_store_event_weights(st, &s->weights, d);
        if (rc == TL_OK && o->writable)
            s->writer = st;
        else if (rc == TL_OK)
            s->readers[s->n_readers++] = st;
        else
            tl_store_free(st);
    }
    if (rc != TL_OK) {
        tl_service_close(s);
        return rc;
    }
    *out = s;
    return TL_OK;
}

void tl_service_close(tl_service *s)
{
    if (!s)
        return;
    tl__service_train_stop(s);
    tl__model_ref_release(s->cur);
    for (int k = 0; k < s->n_readers; k++)
        tl_store_free(s->readers[k]);
    tl_store_free(s->writer);
    free(s->db);
    tl__hc_free(s->hcache);
    for (int k = 0; k < s->n_trend; k++)
        free(s->trend_ids[k]);
    free(s->trend_ids);
    free(s->trend_n);
    tl__keys_free(s);
    pthread_mutex_destroy(&s->keys_mu);
    pthread_mutex_destroy(&s->keys_list_mu);
    pthread_mutex_destroy(&s->trend_mu);
    pthread_mutex_destroy(&s->train_mu);
    pthread_cond_destroy(&s->train_cv);
    pthread_mutex_destroy(&s->mu);
    pthread_mutex_destroy(&s->write_mu);
    free(s);
}

tl_err tl_service_swap_model(tl_service *s, const char *path, tl_diag *d)
{
    tl_model_ref *r;
    tl_err rc = load_ref(path, &r, d);
    if (rc != TL_OK)
        return rc;
    pthread_mutex_lock(&s->mu);
    tl_model_ref *old = s->cur;
    s->cur = r;
    long long swaps = ++s->swaps;
    pthread_mutex_unlock(&s->mu);
    tl__service_log(s, "info", "swap", "serving %s from %s (swap %lld)", r->m->ops->name, path,
                    swaps);
    tl__model_ref_release(old);
    return TL_OK;
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
    if (!s->cur) {
        out->model = "none";
        out->swaps = s->swaps;
        pthread_mutex_unlock(&s->mu);
        out->has_store = s->db != NULL;
        out->writable = s->writer != NULL;
        return;
    }
    const tl_model *m = s->cur->m;
    out->model = m->ops->name;
    snprintf(out->model_path, sizeof(out->model_path), "%s", s->cur->path);
    out->users = m->n_users;
    out->items = m->n_items;
    out->fit_seconds = m->fit_seconds;
    out->written_at = s->cur->written_at;
    out->trained_through = m->trained_through;
    out->trained_pairs = m->trained_pairs;
    out->swaps = s->swaps;
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

int tl_service_knows_item(tl_service *s, const char *item)
{
    tl_model_ref *r = tl__service_model(s);
    if (!r)
        return 0;
    int known = item && tl_intern_find(&r->m->items, item, strlen(item)) >= 0;
    tl__model_ref_release(r);
    return known;
}
