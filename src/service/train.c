/* Training in the background: the store's events as they are now, a fit with autotune, a new
 * model file renamed over the old one, and a swap; requests are served all along. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/data.h"
#include "eval/autotune.h"
#include "service/service_int.h"

typedef struct job {
    tl_service *s;
    tl_model *m;
    char *out;
    int slot;       /* the served model it replaces (0: the main one) */
    double started; /* wall seconds, before it read the store */
} job;

static double wall(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void set_stage(tl_service *s, const char *stage, double done)
{
    pthread_mutex_lock(&s->train_mu);
    snprintf(s->train.stage, sizeof(s->train.stage), "%s", stage);
    if (done >= 0)
        s->train.done = done;
    pthread_mutex_unlock(&s->train_mu);
}

static void on_progress(void *ctx, const char *stage, double done)
{
    set_stage(ctx, stage ? stage : "", done);
}

static int on_cancelled(void *ctx)
{
    tl_service *s = ctx;
    return atomic_load(&s->train_cancel);
}

static tl_err run_job(job *j, tl_diag *d)
{
    tl_service *s = j->s;
    tl_data data;
    tl_data_init(&data);
    tl_store *st = NULL;
    set_stage(s, "loading events", 0);
    /* its own connection: a long read must not hold one that requests borrow */
    tl_err rc = tl__service_store_open(s, TL_STORE_READONLY, &st, d);
    if (rc == TL_OK)
        rc = tl_store_load_data(st, NULL, &data, d);
    tl_store_free(st);
    if (rc == TL_OK && !data.ui.nnz) {
        tl_diag_set(d, NULL, 0, NULL, "the store has no events to train on");
        rc = TL_ENOTFOUND;
    }
    if (rc == TL_OK) {
        char stage[64];
        snprintf(stage, sizeof(stage), "fitting %s", j->m->ops->name);
        set_stage(s, stage, 0);
        tl_fit_hooks hooks = {
            .tune = tl_autotune_hook, .progress = on_progress, .cancelled = on_cancelled, .ctx = s};
        rc = tl_model_fit(j->m, &data, &hooks, d);
    }
    tl_data_release(&data);
    if (rc == TL_OK) {
        set_stage(s, "writing the model", 1);
        rc = tl_model_save(j->m, j->out, d);
    }
    if (rc == TL_OK) {
        set_stage(s, "swapping it in", 1);
        rc = tl__service_swap_slot(s, j->slot, j->out, d);
    }
    if (rc == TL_OK)
        tl__swap_announce(s, j->out); /* the other `tailor serve`s of this store load it too */
    return rc;
}

static job *next_after_erasure(tl_service *s, const job *done);

/* One more finished training in t's record of the recent ones (the oldest leaves when full). */
static void record_training(tl_train_status *t, int ok, double ndcg)
{
    if (t->n_recent == TL_TRAIN_RECENT) {
        memmove(t->recent, t->recent + 1, (TL_TRAIN_RECENT - 1) * sizeof(t->recent[0]));
        t->n_recent--;
    }
    struct tl_train_record *r = &t->recent[t->n_recent++];
    snprintf(r->model, sizeof(r->model), "%s", t->model);
    r->started = t->started;
    r->finished = t->finished;
    r->ok = ok;
    r->validation_ndcg = ndcg;
}

static void *train_main(void *arg)
{
    job *j = arg;
    tl_service *s = j->s;
    for (;;) {
        tl_diag d;
        tl_diag_clear(&d);
        tl_err rc = run_job(j, &d);
        char msg[400];
        pthread_mutex_lock(&s->train_mu);
        s->train.finished = wall();
        s->train.runs++;
        s->train_rc = rc;
        s->train_diag = d;
        record_training(&s->train, rc == TL_OK,
                        rc == TL_OK && j->m->tuned[0] ? j->m->tuned_ndcg : -1);
        if (rc != TL_OK) {
            s->train.failures++;
            char buf[300];
            tl_diag_format(&d, buf, sizeof(buf));
            snprintf(s->train.error, sizeof(s->train.error), "%s", buf[0] ? buf : tl_strerror(rc));
            snprintf(msg, sizeof(msg), "%s training failed: %s", s->train.model, s->train.error);
        } else {
            s->train.error[0] = '\0';
            snprintf(s->train.stage, sizeof(s->train.stage), "done");
            snprintf(msg, sizeof(msg), "%s trained in %.1f s and swapped in", s->train.model,
                     s->train.finished - s->train.started);
        }
        pthread_mutex_unlock(&s->train_mu);
        tl__service_log(s, rc == TL_OK ? "info" : "error", "training", "%s", msg);
        job *next = next_after_erasure(s, j);
        tl_model_free(j->m);
        free(j->out);
        free(j);
        pthread_mutex_lock(&s->train_mu);
        if (!next) {
            s->train.running = 0;
            pthread_cond_broadcast(&s->train_cv);
            pthread_mutex_unlock(&s->train_mu);
            return NULL;
        }
        /* an erasure asks each served model to be trained again: the same thread goes on */
        snprintf(s->train.model, sizeof(s->train.model), "%s", next->m->ops->name);
        snprintf(s->train.stage, sizeof(s->train.stage), "starting (after an erasure)");
        s->train.done = 0;
        s->train.started = next->started = wall();
        s->train.finished = 0;
        pthread_mutex_unlock(&s->train_mu);
        j = next;
    }
}

static tl_err fit_new(const char *name, const tl_train_opts *o, tl_model **out, char **path,
                      tl_diag *d);

/* The model to fit, with o's settings, and the slot it replaces; TL_EINVAL names a bad one. */
static tl_err new_model(tl_service *s, const tl_train_opts *o, tl_model **out, char **path,
                        int *slot, tl_diag *d)
{
    char kind[TL_SERVICE_MODEL_NAME];
    if (o && o->model && !o->out &&
        (*slot = tl__service_train_slot(s, o->model, path, kind, sizeof(kind))) > 0)
        return fit_new(kind, o, out, path, d);
    tl_model_ref *cur = tl__service_model(s);
    if (!cur && !(o && o->model && o->out)) {
        tl_diag_set(d, NULL, 0, "model",
                    "no model is loaded: name the model to train and the file to write");
        return TL_EUNSUPPORTED;
    }
    const char *name = o && o->model ? o->model : cur->m->ops->name;
    *path = strdup(o && o->out ? o->out : cur->path);
    tl__model_ref_release(cur);
    if (!*path)
        return TL_ENOMEM;
    return fit_new(name, o, out, path, d);
}

/* A new model of kind name with o's settings; on failure *path is freed too. */
static tl_err fit_new(const char *name, const tl_train_opts *o, tl_model **out, char **path,
                      tl_diag *d)
{
    tl_err rc = tl_model_new(name, out);
    if (rc == TL_ENOTFOUND) {
        tl_diag_set(d, NULL, 0, "model", "unknown model '%.64s'", name);
        rc = TL_EINVAL;
    }
    for (int k = 0; rc == TL_OK && o && k < o->n_settings; k++)
        if ((rc = tl_model_set(*out, o->settings[k] ? o->settings[k] : "", d)) != TL_OK &&
            !d->field[0])
            snprintf(d->field, sizeof(d->field), "settings");
    if (rc != TL_OK) {
        tl_model_free(*out);
        *out = NULL;
        free(*path);
        *path = NULL;
    }
    return rc;
}

tl_err tl_service_train(tl_service *s, const tl_train_opts *o, tl_diag *d)
{
    if (!s->db) {
        tl_diag_set(d, NULL, 0, NULL, "training needs a store (--db)");
        return TL_EUNSUPPORTED;
    }
    if (!s->writer) { /* a read-only service changes nothing, its model files included */
        tl_diag_set(d, NULL, 0, NULL,
                    "the store was opened read-only: this service trains no "
                    "model (train where the store is written)");
        return TL_EUNSUPPORTED;
    }
    job *j = calloc(1, sizeof(*j));
    if (!j)
        return TL_ENOMEM;
    j->s = s;
    tl_err rc = new_model(s, o, &j->m, &j->out, &j->slot, d);
    if (rc != TL_OK) {
        free(j);
        return rc;
    }
    pthread_mutex_lock(&s->train_mu);
    if (s->train.running) {
        pthread_mutex_unlock(&s->train_mu);
        tl_diag_set(d, NULL, 0, NULL, "a %s training is running (%s)", s->train.model,
                    s->train.stage);
        tl_model_free(j->m);
        free(j->out);
        free(j);
        return TL_EBUSY;
    }
    if (s->train_joinable) /* the last one ended: reap its thread */
        pthread_join(s->train_thread, NULL);
    s->train_joinable = 0;
    s->train.running = 1;
    snprintf(s->train.model, sizeof(s->train.model), "%s", j->m->ops->name);
    snprintf(s->train.stage, sizeof(s->train.stage), "starting");
    s->train.done = 0;
    s->train.started = j->started = wall();
    s->train.finished = 0;
    s->events_since_train = 0;
    s->last_train_at = s->train.started;
    const char *name = j->m->ops->name; /* static; j is the thread's once it runs */
    if (pthread_create(&s->train_thread, NULL, train_main, j) != 0) {
        s->train.running = 0;
        pthread_mutex_unlock(&s->train_mu);
        tl_diag_set(d, NULL, 0, NULL, "cannot start a training thread");
        tl_model_free(j->m);
        free(j->out);
        free(j);
        return TL_ENOMEM;
    }
    s->train_joinable = 1;
    pthread_mutex_unlock(&s->train_mu);
    tl__service_log(s, "info", "training", "%s training started on the store's events", name);
    return TL_OK;
}

tl_err tl_service_train_wait(tl_service *s, tl_diag *d)
{
    pthread_mutex_lock(&s->train_mu);
    while (s->train.running)
        pthread_cond_wait(&s->train_cv, &s->train_mu);
    tl_err rc = s->train.runs ? s->train_rc : TL_OK;
    if (d && rc != TL_OK)
        *d = s->train_diag;
    pthread_mutex_unlock(&s->train_mu);
    return rc;
}

void tl_service_train_status(tl_service *s, tl_train_status *out)
{
    pthread_mutex_lock(&s->train_mu);
    *out = s->train;
    pthread_mutex_unlock(&s->train_mu);
}

void tl__service_events_added(tl_service *s, size_t n)
{
    pthread_mutex_lock(&s->train_mu);
    s->events_since_train += (long long)n;
    int due = !s->train.running && s->events_since_train > 0 &&
              ((s->retrain_events > 0 && s->events_since_train >= s->retrain_events) ||
               (s->retrain_seconds > 0 && wall() - s->last_train_at >= s->retrain_seconds));
    pthread_mutex_unlock(&s->train_mu);
    if (due) {
        tl_diag d;
        tl_diag_clear(&d);
        (void)tl_service_train(s, NULL, &d); /* busy or failing: the status says so */
    }
}

void tl__service_train_stop(tl_service *s)
{
    atomic_store(&s->train_cancel, 1);
    pthread_mutex_lock(&s->train_mu);
    int joinable = s->train_joinable;
    s->train_joinable = 0;
    pthread_mutex_unlock(&s->train_mu);
    if (joinable)
        pthread_join(s->train_thread, NULL);
}

/* The next model an erasure still asks for, as a job (NULL: none, or the service is closing).
 * A training that began before the last erasure read the patron's events: its model is
 * trained again. */
static job *next_after_erasure(tl_service *s, const job *done)
{
    pthread_mutex_lock(&s->train_mu);
    if (s->erased_at >= done->started)
        s->erase_pending |= 1u << done->slot;
    else
        s->erase_pending &= ~(1u << done->slot);
    int slot = -1;
    for (int k = 0; k < TL_SERVICE_MAX_MODELS && slot < 0; k++)
        if (s->erase_pending & (1u << k))
            slot = k;
    pthread_mutex_unlock(&s->train_mu);
    if (slot < 0 || atomic_load(&s->train_cancel))
        return NULL;
    job *j = calloc(1, sizeof(*j));
    tl_diag d;
    tl_diag_clear(&d);
    char name[TL_SERVICE_MODEL_NAME] = "";
    if (slot > 0) { /* a served model other than the main one: trained by its name */
        pthread_mutex_lock(&s->mu);
        if (slot < s->n_slots)
            snprintf(name, sizeof(name), "%s", s->slot_name[slot]);
        pthread_mutex_unlock(&s->mu);
    }
    tl_train_opts o = {.model = name[0] ? name : NULL};
    if (j && (slot == 0 || name[0])) {
        j->s = s;
        if (new_model(s, &o, &j->m, &j->out, &j->slot, &d) == TL_OK)
            return j;
    }
    free(j);
    pthread_mutex_lock(&s->train_mu); /* cannot be made: not asked again */
    s->erase_pending &= ~(1u << slot);
    pthread_mutex_unlock(&s->train_mu);
    tl__service_log(s, "error", "erase", "a model could not be trained again after an erasure");
    return NULL;
}

int tl__service_retrain_after_erasure(tl_service *s)
{
    if (!s->db || !s->writer)
        return 0;
    pthread_mutex_lock(&s->mu);
    int slots = s->n_slots;
    pthread_mutex_unlock(&s->mu);
    if (!slots)
        return 0;
    pthread_mutex_lock(&s->train_mu);
    s->erased_at = wall();
    s->erase_pending |= (1u << slots) - 1; /* every served model learnt from the patron */
    int running = s->train.running;
    pthread_mutex_unlock(&s->train_mu);
    if (running) /* it read the patron: its end starts the next */
        return 1;
    tl_diag d;
    tl_diag_clear(&d);
    tl_err rc = tl_service_train(s, NULL, &d);
    return rc == TL_OK || rc == TL_EBUSY;
}
