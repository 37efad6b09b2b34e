/* Impressions: what each response showed, logged compactly for off-policy evaluation, with the
 * propensity of every decision; the rewards joined to them; and the learners (the homepage's
 * row bandit, the cards' editions bandit) that learn from those rewards online, their state
 * kept in the store (docs/IMPRESSIONS.md). Requests only queue their impression; a background
 * thread writes the queue in one transaction every FLUSH_MS or FLUSH_ROWS impressions. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "service/imp_int.h"
#include "service/service_int.h"

#define FLUSH_MS 200
#define FLUSH_ROWS 256
#define QUEUE_MAX 65536  /* impressions waiting at most (beyond: dropped and counted) */
#define SAVE_SECONDS 60  /* the learners' state is saved at most this often, and at close */
#define BANDIT_ALPHA 1.0 /* LinUCB's width */
#define ROWS_LEARNER "rows"
#define EDITIONS_LEARNER "editions"
#define DAY 86400

static const char *const kind_names[TL__KINDS] = {"exams",
                                                  "for_you",
                                                  "events",
                                                  "season",
                                                  "because_you_borrowed",
                                                  "next_in_series",
                                                  "new_in_subjects",
                                                  "from_lists",
                                                  "readers_like_you",
                                                  "segment",
                                                  "trending",
                                                  "popular",
                                                  "recommendations",
                                                  "search"};

const char *tl__kind_name(int kind)
{
    return kind >= 0 && kind < TL__KINDS ? kind_names[kind] : "";
}

int tl__row_kind(const char *id)
{
    static const struct {
        const char *prefix;
        int kind;
    } by_id[] = {{"because:", TL__ROW_BECAUSE}, {"from_lists:", TL__ROW_LISTS}};
    for (size_t k = 0; k < sizeof(by_id) / sizeof(*by_id); k++)
        if (strncmp(id, by_id[k].prefix, strlen(by_id[k].prefix)) == 0)
            return by_id[k].kind;
    for (int k = 0; k < TL__ROW_KINDS; k++)
        if (strcmp(id, kind_names[k]) == 0)
            return k;
    return strcmp(id, "next_in_series") == 0 ? TL__ROW_SERIES : -1;
}

/* One impression waiting to be written, with copies of its strings. */
typedef struct pending {
    tl_store_impression imp;
    tl_store_imp_row rows[TL_HOME_MAX_ROWS];
    tl_store_imp_item *items;
    char *strings;
} pending;

struct tl_imp {
    int logging, policy;
    double p_min;
    int64_t window;
    pthread_rwlock_t lock; /* the bandits: rank/choose read, learning writes */
    tl_bandit *rows, *editions;
    uint64_t rows_saved, editions_saved; /* their update counts when last saved */
    pthread_mutex_t mu;                  /* the queue */
    pthread_cond_t cv;
    pending **queue;
    int n, cap, stop, thread_started;
    long long dropped;
    pthread_t thread;
    int64_t last_id; /* under mu */
    double saved_at;
};

int tl__imp_logging(const tl_service *s)
{
    return s->imp && s->imp->logging;
}

int tl__imp_row_policy(const tl_service *s)
{
    return s->imp ? s->imp->policy : TL_ROW_POLICY_FIXED;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int64_t tl__imp_new_id(tl_service *s)
{
    /* milliseconds << 12 and a counter: time-ordered, 4096 per millisecond */
    int64_t id = (int64_t)(now_s() * 1000.0) << 12;
    if (!s->imp)
        return id;
    pthread_mutex_lock(&s->imp->mu);
    if (id <= s->imp->last_id)
        id = s->imp->last_id + 1;
    s->imp->last_id = id;
    pthread_mutex_unlock(&s->imp->mu);
    return id;
}

void tl__imp_id_text(int64_t id, char *buf)
{
    snprintf(buf, TL_IMPRESSION_ID_MAX, "%lld", (long long)id);
}

void tl__imp_ctx_vector(tl__imp_ctx *c)
{
    memset(c->x, 0, sizeof(c->x));
    c->x[TL_CTX_BIAS] = 1;
    if (c->weekday >= 0 && c->weekday < 7)
        c->x[TL_CTX_WEEKDAY + c->weekday] = 1;
    c->x[TL_CTX_EXAM] = c->exam;
    c->x[TL_CTX_TERM] = c->term;
    c->x[TL_CTX_MOBILE] = c->mobile;
    c->x[TL_CTX_ACTIVITY] = c->activity;
}

int tl__has_word(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; hay && *hay; hay++)
        if (strncasecmp(hay, needle, n) == 0)
            return 1;
    return 0;
}

static int is_mobile(const char *device)
{
    static const char *const words[] = {"mobile", "phone", "tablet", "android", "ios"};
    for (size_t k = 0; device && k < sizeof(words) / sizeof(*words); k++)
        if (tl__has_word(device, words[k]))
            return 1;
    return 0;
}

void tl__imp_context(tl_service *s, int64_t t, const char *device, const tl_hist *h, tl__imp_ctx *c)
{
    int64_t days = t >= 0 ? t / DAY : (t - DAY + 1) / DAY;
    c->weekday = (int)(((days % 7) + 7 + 3) % 7); /* 1970-01-01 was a Thursday; Monday = 0 */
    c->exam = tl__calendar_at(&s->calendar, "exam", t) != NULL;
    c->term = tl__calendar_at(&s->calendar, "term", t) != NULL;
    c->mobile = is_mobile(device);
    int recent = 0; /* the patron's items with events in the last 90 days */
    for (int32_t k = 0; h && h->ts && k < h->n; k++)
        recent += h->ts[k] > t - 90 * DAY && h->ts[k] <= t;
    if (h && !h->ts)
        recent = h->n;
    c->activity = fmin(1.0, log1p(recent) / 5.0);
    tl__imp_ctx_vector(c);
}

/* A uniform draw in [0, 1) from a seed (splitmix64). */
static double draw(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return (double)(z >> 11) / 9007199254740992.0;
}

int tl__imp_order_rows(tl_service *s, int policy, const double *x, const int *kinds, int n,
                       uint64_t seed, int *order, double *prob, uint32_t *cands, int64_t *version)
{
    int placed[TL_HOME_MAX_ROWS + TL__BANDIT_EXTRA_ROWS] = {0};
    struct tl_imp *im = s->imp;
    int bandit = im && policy == TL_ROW_POLICY_BANDIT && im->rows;
    *version = 0;
    if (bandit)
        pthread_rwlock_rdlock(&im->lock);
    if (bandit)
        *version = (int64_t)tl_bandit_updates(im->rows);
    uint64_t rng = seed;
    for (int k = 0; k < n; k++) {
        int arms[TL__ROW_KINDS], m = 0; /* the kinds still unplaced, each once */
        uint32_t bits = 0;
        for (int j = 0; j < n; j++)
            if (!placed[j] && !(bits & (1u << kinds[j]))) {
                bits |= 1u << kinds[j];
                arms[m++] = kinds[j];
            }
        cands[k] = bits;
        int pick = 0;
        double p[TL__ROW_KINDS];
        if (bandit && m > 1 && tl_bandit_probs(im->rows, x, arms, m, p) == TL_OK) {
            double u = draw(&rng), acc = 0;
            for (pick = 0; pick < m - 1 && (acc += p[pick]) <= u; pick++)
                ;
            prob[k] = p[pick];
        } else { /* fixed: the first unplaced row, certainly */
            prob[k] = 1.0;
        }
        int j = 0; /* the first unplaced row of the kind chosen */
        while (placed[j] || (bandit && kinds[j] != arms[pick]))
            j++;
        placed[j] = 1;
        order[k] = j;
    }
    if (bandit)
        pthread_rwlock_unlock(&im->lock);
    return bandit ? TL_ROW_POLICY_BANDIT : TL_ROW_POLICY_FIXED;
}

int tl__imp_choose_edition(tl_service *s, const double *cand_x, int n, uint64_t seed, double *p)
{
    struct tl_imp *im = s->imp;
    double probs[TL__EDITIONS_MAX];
    int chosen = 0;
    *p = 1.0;
    if (!im || !im->editions || n < 2 || n > TL__EDITIONS_MAX)
        return 0;
    pthread_rwlock_rdlock(&im->lock);
    if (tl_bandit_choose(im->editions, cand_x, n, seed, &chosen, probs) == TL_OK)
        *p = probs[chosen];
    else
        chosen = 0;
    pthread_rwlock_unlock(&im->lock);
    return chosen;
}

/* ---- the queue and its writer ------------------------------------------------------------- */

static void pending_free(pending *q)
{
    if (q) {
        free(q->items);
        free(q->strings);
        free(q);
    }
}

static pending *pending_copy(const tl_store_impression *imp)
{
    size_t bytes = 0;
    const char *parts[] = {imp->user, imp->model, imp->experiment, imp->arm, imp->branch};
    for (size_t k = 0; k < 5; k++)
        bytes += parts[k] ? strlen(parts[k]) + 1 : 0;
    for (int k = 0; k < imp->n_items; k++)
        bytes += strlen(imp->items[k].item) + 1;
    pending *q = calloc(1, sizeof(*q));
    if (!q || !(q->strings = malloc(bytes + 1)) ||
        (imp->n_items && !(q->items = malloc((size_t)imp->n_items * sizeof(*q->items))))) {
        pending_free(q);
        return NULL;
    }
    q->imp = *imp;
    char *at = q->strings;
    const char **dst[] = {&q->imp.user, &q->imp.model, &q->imp.experiment, &q->imp.arm,
                          &q->imp.branch};
    for (size_t k = 0; k < 5; k++)
        if (parts[k]) {
            size_t len = strlen(parts[k]) + 1;
            memcpy(at, parts[k], len);
            *dst[k] = at;
            at += len;
        }
    int n_rows = imp->n_rows < TL_HOME_MAX_ROWS ? imp->n_rows : TL_HOME_MAX_ROWS;
    memcpy(q->rows, imp->rows, (size_t)n_rows * sizeof(*q->rows));
    q->imp.rows = q->rows;
    q->imp.n_rows = n_rows;
    for (int k = 0; k < imp->n_items; k++) {
        q->items[k] = imp->items[k];
        size_t len = strlen(imp->items[k].item) + 1;
        memcpy(at, imp->items[k].item, len);
        q->items[k].item = at;
        at += len;
    }
    q->imp.items = q->items;
    return q;
}

void tl__imp_log(tl_service *s, const tl_store_impression *imp)
{
    struct tl_imp *im = s->imp;
    if (!im || !im->logging)
        return;
    pending *q = pending_copy(imp);
    if (q) /* the writer thread acts for no tenant: the patron's goes with it */
        snprintf(q->imp.tenant, sizeof(q->imp.tenant), "%s", tl_store_tenant());
    pthread_mutex_lock(&im->mu);
    if (q && im->n == im->cap && im->cap < QUEUE_MAX) {
        int cap = im->cap ? im->cap * 2 : 256;
        pending **g = realloc(im->queue, (size_t)cap * sizeof(*g));
        if (g) {
            im->queue = g;
            im->cap = cap;
        }
    }
    if (q && im->n < im->cap) {
        im->queue[im->n++] = q;
        q = NULL;
        if (im->n >= FLUSH_ROWS)
            pthread_cond_signal(&im->cv);
    } else {
        im->dropped++;
    }
    pthread_mutex_unlock(&im->mu);
    pending_free(q);
}

/* The shown rows count as not chosen (reward 0) once; a reward joined later adds its click. */
static void learn_shown(struct tl_imp *im, pending *const *batch, int n)
{
    if (!im->rows)
        return;
    for (int k = 0; k < n; k++) { /* the lock one page at a time: requests read between */
        const tl_store_impression *imp = &batch[k]->imp;
        if (imp->surface != TL__SURFACE_HOME)
            continue;
        tl__imp_ctx c = {imp->weekday, imp->exam, imp->term, imp->mobile, imp->activity, {0}};
        tl__imp_ctx_vector(&c);
        pthread_rwlock_wrlock(&im->lock);
        for (int r = 0; r < imp->n_rows; r++)
            if (imp->rows[r].kind >= 0 && imp->rows[r].kind < TL__ROW_KINDS)
                tl_bandit_update(im->rows, imp->rows[r].kind, c.x, 0.0, 1.0);
        pthread_rwlock_unlock(&im->lock);
    }
}

/* Saves a learner when it learned since it was last saved (under write_mu, in a transaction). */
static tl_err save_one(tl_service *s, const char *name, tl_bandit *b, uint64_t *saved)
{
    tl_diag d;
    tl_diag_clear(&d);
    unsigned char *img = NULL;
    size_t len = 0;
    struct tl_imp *im = s->imp;
    pthread_rwlock_rdlock(&im->lock);
    uint64_t v = tl_bandit_updates(b);
    tl_err rc = v == *saved ? TL_OK : tl_bandit_save(b, &img, &len);
    pthread_rwlock_unlock(&im->lock);
    if (rc == TL_OK && img &&
        (rc = tl_store_learner_put(s->writer, name, img, len, (int64_t)v, (int64_t)now_s(), &d)) ==
            TL_OK)
        *saved = v;
    free(img);
    return rc;
}

/* Writes the queue (one transaction) and, when due or forced, the learners' state. */
static tl_err flush(tl_service *s, int save)
{
    struct tl_imp *im = s->imp;
    pthread_mutex_lock(&im->mu);
    pending **batch = im->queue;
    int n = im->n;
    im->queue = NULL;
    im->n = im->cap = 0;
    pthread_mutex_unlock(&im->mu);
    tl_err rc = TL_OK;
    tl_diag d;
    tl_diag_clear(&d);
    pthread_mutex_lock(&s->write_mu);
    if (n && (rc = tl_store_begin(s->writer)) == TL_OK) {
        for (int k = 0; rc == TL_OK && k < n; k++)
            rc = tl_store_impressions_put(s->writer, &batch[k]->imp, 1, &d);
        if (rc == TL_OK)
            rc = tl_store_commit(s->writer);
        else
            tl_store_rollback(s->writer);
    }
    if (save || now_s() - im->saved_at >= SAVE_SECONDS) {
        im->saved_at = now_s();
        if (im->rows)
            save_one(s, ROWS_LEARNER, im->rows, &im->rows_saved);
        if (im->editions)
            save_one(s, EDITIONS_LEARNER, im->editions, &im->editions_saved);
    }
    pthread_mutex_unlock(&s->write_mu);
    if (rc != TL_OK)
        tl__service_log(s, "error", "impressions", "%d impressions not written: %s", n, d.msg);
    else
        learn_shown(im, batch, n);
    for (int k = 0; k < n; k++)
        pending_free(batch[k]);
    free(batch);
    return rc;
}

static void *writer_main(void *arg)
{
    tl_service *s = arg;
    struct tl_imp *im = s->imp;
    pthread_mutex_lock(&im->mu);
    while (!im->stop) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += FLUSH_MS * 1000000L;
        until.tv_sec += until.tv_nsec / 1000000000L;
        until.tv_nsec %= 1000000000L;
        if (im->n < FLUSH_ROWS)
            pthread_cond_timedwait(&im->cv, &im->mu, &until);
        if (im->stop)
            break;
        pthread_mutex_unlock(&im->mu);
        flush(s, 0);
        pthread_mutex_lock(&im->mu);
    }
    pthread_mutex_unlock(&im->mu);
    return NULL;
}

tl_err tl_service_impressions_flush(tl_service *s, tl_diag *d)
{
    if (!tl__imp_logging(s)) {
        tl_diag_set(d, NULL, 0, NULL, "impressions are not logged (a writable store is needed)");
        return TL_EUNSUPPORTED;
    }
    return flush(s, 1);
}

/* ---- rewards ------------------------------------------------------------------------------ */

tl_err tl__imp_join(tl_service *s, const tl_event_rec *ev, size_t n, tl_store_imp_hit *hits,
                    tl_diag *d)
{
    tl_err rc = TL_OK;
    for (size_t j = 0; rc == TL_OK && j < n; j++) {
        const tl_event_rec *e = &ev[j];
        char user[TL_ID_MAX + 1], item[TL_ID_MAX + 1];
        snprintf(user, sizeof(user), "%.*s", (int)e->user_len, e->user);
        snprintf(item, sizeof(item), "%.*s", (int)e->item_len, e->item);
        hits[j].found = 0;
        if (!e->impression && strcmp(e->type, "loan") != 0)
            continue;
        rc = tl_store_impression_reward(s->writer, e->impression, e->has_place ? e->row : -1,
                                        e->has_place ? e->position : -1, user, item, e->type, e->ts,
                                        s->imp->window, &hits[j], d);
        if (rc == TL_EVERSION || rc == TL_EUNSUPPORTED) { /* a store before impressions */
            tl_diag_clear(d);
            rc = TL_OK;
            break;
        }
    }
    return rc;
}

void tl__imp_learn(tl_service *s, const tl_store_imp_hit *hits, size_t n)
{
    struct tl_imp *im = s->imp;
    if (!im)
        return;
    pthread_rwlock_wrlock(&im->lock);
    for (size_t j = 0; j < n; j++) {
        const tl_store_imp_hit *h = &hits[j];
        if (!h->found || h->surface != TL__SURFACE_HOME)
            continue;
        tl__imp_ctx c = {h->weekday, h->exam, h->term, h->mobile, h->activity, {0}};
        tl__imp_ctx_vector(&c);
        if (im->rows && h->kind >= 0 && h->kind < TL__ROW_KINDS)
            tl_bandit_update(im->rows, h->kind, c.x, 1.0, tl_position_weight(h->position));
        if (im->editions && h->edition_p >= 0 && h->edition_dim == TL__EDITION_DIM) {
            double x[TL__EDITION_DIM];
            for (int k = 0; k < TL__EDITION_DIM; k++)
                x[k] = h->edition_x[k];
            tl_bandit_update_shared(im->editions, x, 1.0, 1.0);
        }
    }
    pthread_rwlock_unlock(&im->lock);
}

/* ---- open and close ----------------------------------------------------------------------- */

/* The learner name from the store when its shape fits, else a new one. */
static tl_err learner(tl_service *s, const char *name, int narms, int dim, tl_bandit **out,
                      uint64_t *saved, tl_diag *d)
{
    struct tl_imp *im = s->imp;
    unsigned char *img = NULL;
    size_t len = 0;
    int64_t version = 0;
    int found = 0;
    tl_store *st = s->writer;
    if (st && tl_store_learner_get(st, name, &img, &len, &version, &found, d) != TL_OK)
        tl_diag_clear(d); /* a store before impressions: a new learner */
    tl_bandit *b = NULL;
    if (found && tl_bandit_load(img, len, &b) == TL_OK &&
        (tl_bandit_narms(b) != narms || tl_bandit_dim(b) != dim)) {
        tl_bandit_free(b);
        b = NULL;
    }
    free(img);
    if (b) {
        *saved = tl_bandit_updates(b);
        *out = b;
        return TL_OK;
    }
    double p_min = im->p_min;
    if (p_min * narms > 1)
        p_min = 1.0 / narms;
    return tl_bandit_new(TL_BANDIT_LINUCB, narms, dim, BANDIT_ALPHA, p_min, out);
}

tl_err tl__imp_open(tl_service *s, const tl_service_opts *o, tl_diag *d)
{
    struct tl_imp *im = calloc(1, sizeof(*im));
    if (!im)
        return TL_ENOMEM;
    s->imp = im;
    pthread_rwlock_init(&im->lock, NULL);
    pthread_mutex_init(&im->mu, NULL);
    pthread_cond_init(&im->cv, NULL);
    im->policy = o->row_policy == TL_ROW_POLICY_BANDIT ? TL_ROW_POLICY_BANDIT : TL_ROW_POLICY_FIXED;
    im->p_min = o->bandit_p_min > 0 ? o->bandit_p_min : TL_BANDIT_P_MIN;
    double days = o->attribution_days > 0 ? o->attribution_days : TL_ATTRIBUTION_DAYS;
    im->window = (int64_t)(days * DAY);
    im->saved_at = now_s();
    tl_err rc = TL_OK;
    /* the row bandit always: an experiment's arm may ask for it */
    rc = learner(s, ROWS_LEARNER, TL__ROW_KINDS, TL_CTX_DIM, &im->rows, &im->rows_saved, d);
    if (rc == TL_OK)
        rc =
            learner(s, EDITIONS_LEARNER, 1, TL__EDITION_DIM, &im->editions, &im->editions_saved, d);
    im->logging =
        rc == TL_OK && o->impressions && s->writer && tl_store_schema_version(s->writer) >= 9;
    if (im->logging) { /* the store's engine may not log them (PostgreSQL, for now) */
        tl_diag probe;
        tl_diag_clear(&probe);
        if (tl_store_impressions_put(s->writer, NULL, 0, &probe) != TL_OK) {
            tl__service_log(s, "warning", "impressions", "impressions are not logged: %s",
                            probe.msg);
            im->logging = 0;
        }
    }
    if (rc == TL_OK && im->logging) {
        if (pthread_create(&im->thread, NULL, writer_main, s) == 0)
            im->thread_started = 1;
        else
            im->logging = 0;
    }
    return rc;
}

void tl__imp_close(tl_service *s)
{
    struct tl_imp *im = s->imp;
    if (!im)
        return;
    if (im->thread_started) {
        pthread_mutex_lock(&im->mu);
        im->stop = 1;
        pthread_cond_signal(&im->cv);
        pthread_mutex_unlock(&im->mu);
        pthread_join(im->thread, NULL);
        flush(s, 1); /* what is left, and the learners */
    }
    tl_bandit_free(im->rows);
    tl_bandit_free(im->editions);
    pthread_rwlock_destroy(&im->lock);
    pthread_mutex_destroy(&im->mu);
    pthread_cond_destroy(&im->cv);
    free(im->queue);
    free(im);
    s->imp = NULL;
}

/* ---- the list answers: one decision each -------------------------------------------------- */

/* 1 when the store says the patron opted out (an unknown patron has not). */
static int opted_out(tl_service *s, const char *user)
{
    tl_store *st;
    tl_diag d;
    tl_diag_clear(&d);
    int found = 0, personalize = 1;
    if (!user || !s->db || tl__service_reader(s, &st, &d) != TL_OK)
        return 0;
    if (tl_store_user_consent(st, user, strlen(user), &found, &personalize, &d) != TL_OK)
        found = 1, personalize = 0; /* unsure: keep no identity */
    tl__service_reader_done(s, st);
    return found && !personalize;
}

void tl__imp_log_list(tl_service *s, int surface, const char *user, const char *model,
                      const char *experiment, const char *arm, const tl_rec_context *where,
                      const tl_hist *h, const char *const *items, int n, char *id_out)
{
    if (!tl__imp_logging(s))
        return;
    tl_store_imp_item *logged = calloc((size_t)n + 1, sizeof(*logged));
    if (!logged)
        return;
    for (int k = 0; k < n; k++)
        logged[k] = (tl_store_imp_item){.row = 0, .position = k, .item = items[k], .edition_p = -1};
    int64_t id = tl__imp_new_id(s), t = tl__request_time(where);
    tl__imp_ctx c;
    tl__imp_context(s, t, where->device, h, &c);
    int kind = surface == TL__SURFACE_SEARCH ? TL__KIND_SEARCH : TL__KIND_RECOMMENDATIONS;
    tl_store_imp_row row = {kind, 1u << kind, 1.0};
    int anonymous = opted_out(s, user); /* nor in an experiment */
    tl_store_impression imp = {.id = id,
                               .ts = t,
                               .user = anonymous ? NULL : user,
                               .surface = surface,
                               .policy = TL_ROW_POLICY_FIXED,
                               .model = model,
                               .experiment =
                                   anonymous || !experiment || !*experiment ? NULL : experiment,
                               .arm = anonymous || !arm || !*arm ? NULL : arm,
                               .branch = where->branch,
                               .weekday = c.weekday,
                               .exam = c.exam,
                               .term = c.term,
                               .mobile = c.mobile,
                               .activity = c.activity,
                               .rows = &row,
                               .n_rows = 1,
                               .items = logged,
                               .n_items = n};
    tl__imp_log(s, &imp);
    tl__imp_id_text(id, id_out);
    free(logged);
}
