/* A patron's rights and the library's accountability: export of everything stored about a
 * patron, erasure (from the store at once, from the models by a retraining that leaves them
 * out), consent and retention, and the audit log whose entries chain by BLAKE2b hashes. */
#include <inttypes.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "service/imp_int.h"
#include "service/service_int.h"

/* ---- the audit log ------------------------------------------------------------------------- */

static void text_hash(const char *t, uint8_t *out)
{
    crypto_generichash(out, TL_AUDIT_HASH, (const unsigned char *)t, strlen(t), NULL, 0);
}

/* Hashes e as the chain defines it: BLAKE2b-256 over the previous hash, then seq and ts as
 * decimal text, then actor, action and detail, each ended by a NUL (absent: "\x01"), and the
 * target's own hash (absent: "\x01"). The target enters by its hash so that an erasure can
 * blank it in the entry and leave the chain whole. */
static void entry_hash(const tl_store_audit *e, uint8_t *out)
{
    crypto_generichash_state h;
    char num[48];
    crypto_generichash_init(&h, NULL, 0, TL_AUDIT_HASH);
    crypto_generichash_update(&h, e->prev, TL_AUDIT_HASH);
    int n = snprintf(num, sizeof(num), "%" PRId64 ":%" PRId64, e->seq, e->ts);
    crypto_generichash_update(&h, (const unsigned char *)num, (unsigned long long)n + 1);
    const char *parts[] = {e->actor, e->action, e->detail};
    for (int k = 0; k < 3; k++) {
        if (parts[k])
            crypto_generichash_update(&h, (const unsigned char *)parts[k], strlen(parts[k]) + 1);
        else
            crypto_generichash_update(&h, (const unsigned char *)"\x01", 1);
    }
    if (e->has_target)
        crypto_generichash_update(&h, e->target_hash, TL_AUDIT_HASH);
    else
        crypto_generichash_update(&h, (const unsigned char *)"\x01", 1);
    crypto_generichash_final(&h, out, TL_AUDIT_HASH);
}

tl_err tl__audit_append(tl_service *s, const char *actor, const char *action, const char *target,
                        const char *detail, tl_diag *d)
{
    tl_store_audit e = {.ts = (int64_t)time(NULL),
                        .actor = actor && *actor ? actor : "unknown",
                        .action = action,
                        .target = target,
                        .detail = detail};
    int found;
    int64_t seq;
    tl_err rc = tl_store_audit_last(s->writer, &seq, e.prev, &found, d);
    if (rc != TL_OK)
        return rc;
    e.seq = seq + 1;
    if ((e.has_target = target != NULL))
        text_hash(target, e.target_hash);
    entry_hash(&e, e.hash);
    return tl_store_audit_append(s->writer, &e, d);
}

typedef struct verify {
    tl_audit_check *out;
    uint8_t prev[TL_AUDIT_HASH];
    int64_t seq;
} verify;

static tl_err check_entry(void *ctx, const tl_store_audit *e)
{
    verify *v = ctx;
    uint8_t want[TL_AUDIT_HASH];
    tl_store_audit x = *e;
    memcpy(x.prev, v->prev, TL_AUDIT_HASH); /* the chain's own previous hash, not the row's */
    x.seq = v->seq + 1;                     /* and the position: a removed entry shows */
    entry_hash(&x, want);
    uint8_t th[TL_AUDIT_HASH];
    int target_ok = 1; /* a target still there must be the one hashed (a blanked one is fine) */
    if (e->target) {
        text_hash(e->target, th);
        target_ok = e->has_target && sodium_memcmp(th, e->target_hash, TL_AUDIT_HASH) == 0;
    }
    v->out->entries++;
    if (!v->out->broken_at &&
        (e->seq != x.seq || !target_ok || sodium_memcmp(e->prev, v->prev, TL_AUDIT_HASH) != 0 ||
         sodium_memcmp(e->hash, want, TL_AUDIT_HASH) != 0))
        v->out->broken_at = e->seq;
    memcpy(v->prev, e->hash, TL_AUDIT_HASH);
    v->seq = e->seq;
    return TL_OK;
}

tl_err tl_service_audit_verify(tl_service *s, tl_audit_check *out, tl_diag *d)
{
    memset(out, 0, sizeof(*out));
    tl_store *st;
    tl_err rc = tl__service_need_store(s, d);
    if (rc == TL_OK && (rc = tl__service_reader(s, &st, d)) == TL_OK) {
        verify v = {.out = out};
        rc = tl_store_audit_each(st, check_entry, &v, d);
        tl__service_reader_done(s, st);
    }
    return rc;
}

typedef struct each {
    tl_audit_fn fn;
    void *ctx;
} each;

static tl_err one_entry(void *ctx, const tl_store_audit *e)
{
    each *c = ctx;
    tl_audit_entry a = {e->seq, e->ts, e->actor, e->action, e->target, e->detail, ""};
    sodium_bin2hex(a.hash, sizeof(a.hash), e->hash, TL_AUDIT_HASH);
    return c->fn(c->ctx, &a);
}

tl_err tl_service_audit_each(tl_service *s, tl_audit_fn fn, void *ctx, tl_diag *d)
{
    tl_store *st;
    each c = {fn, ctx};
    tl_err rc = tl__service_need_store(s, d);
    if (rc == TL_OK && (rc = tl__service_reader(s, &st, d)) == TL_OK) {
        rc = tl_store_audit_each(st, one_entry, &c, d);
        tl__service_reader_done(s, st);
    }
    return rc;
}

/* One write of the trust module: f(s, ctx, d) and its audit entry in one transaction of the
 * writer, under write_mu. */
static tl_err audited(tl_service *s, tl_err (*f)(tl_service *, void *, tl_diag *), void *ctx,
                      const char *actor, const char *action, const char *target, const char *detail,
                      tl_diag *d)
{
    tl_err rc = tl__service_need_writer(s, "this", d);
    if (rc != TL_OK)
        return rc;
    pthread_mutex_lock(&s->write_mu);
    rc = tl_store_begin(s->writer);
    if (rc == TL_OK && (rc = f(s, ctx, d)) == TL_OK)
        rc = tl__audit_append(s, actor, action, target, detail, d);
    if (rc == TL_OK)
        rc = tl_store_commit(s->writer);
    else
        tl_store_rollback(s->writer);
    pthread_mutex_unlock(&s->write_mu);
    return rc;
}

/* ---- export ------------------------------------------------------------------------------- */

typedef struct export
{
    json_t *events, *searches, *consent, *impressions;
    json_t *profile, *subscription;
    int failed;
}
export;

static json_t *str_or_null(const char *v)
{
    return v ? json_string(v) : json_null();
}

static tl_err add(export *x, json_t *arr, json_t *o)
{
    if (!o || json_array_append_new(arr, o) != 0) {
        x->failed = 1;
        return TL_ENOMEM;
    }
    return TL_OK;
}

static tl_err on_event(void *ctx, const char *item, const char *type, int has_value, double value,
                       int64_t ts, const char *device, const char *channel, const char *branch,
                       const char *session)
{
    export *x = ctx;
    json_t *o = json_pack("{s:s, s:s, s:I, s:o, s:o, s:o, s:o, s:o}", "item", item ? item : "",
                          "type", type ? type : "", "timestamp", (json_int_t)ts, "value",
                          has_value ? json_real(value) : json_null(), "device", str_or_null(device),
                          "channel", str_or_null(channel), "branch", str_or_null(branch), "session",
                          str_or_null(session));
    return add(x, x->events, o);
}

static tl_err on_search(void *ctx, const char *query, int64_t ts, const char *clicked)
{
    export *x = ctx;
    json_t *items = json_array();
    for (const char *p = clicked; items && *p;) {
        const char *tab = strchr(p, '\t');
        size_t n = tab ? (size_t)(tab - p) : strlen(p);
        json_array_append_new(items, json_stringn(p, n));
        p += n + (tab != NULL);
    }
    return add(x, x->searches,
               json_pack("{s:s, s:I, s:o}", "query", query ? query : "", "timestamp",
                         (json_int_t)ts, "clicked", items ? items : json_null()));
}

static tl_err on_consent(void *ctx, int64_t ts, int personalize, int64_t retention_days,
                         const char *actor)
{
    export *x = ctx;
    return add(x, x->consent,
               json_pack("{s:I, s:b, s:o, s:o}", "timestamp", (json_int_t)ts, "personalize",
                         personalize, "retention_days",
                         retention_days >= 0 ? json_integer(retention_days) : json_null(), "by",
                         str_or_null(actor)));
}

/* What a response showed the patron: its id, time, surface and items ("ROW:POSITION:ITEM"). */
static tl_err on_impression(void *ctx, int64_t id, int64_t ts, int surface, const char *items)
{
    static const char *const surfaces[] = {"homepage", "recommendations", "search"};
    export *x = ctx;
    json_t *shown = json_array();
    for (const char *p = items; shown && p && *p;) {
        const char *tab = strchr(p, '\t');
        size_t n = tab ? (size_t)(tab - p) : strlen(p);
        json_array_append_new(shown, json_stringn(p, n));
        p += n + (tab != NULL);
    }
    char idtext[32];
    snprintf(idtext, sizeof(idtext), "%lld", (long long)id);
    return add(x, x->impressions,
               json_pack("{s:s, s:I, s:s, s:o}", "impression_id", idtext, "timestamp",
                         (json_int_t)ts, "surface",
                         surface >= 0 && surface < 3 ? surfaces[surface] : "", "shown",
                         shown ? shown : json_null()));
}

static tl_err on_profile(void *ctx, const tl_user_rec *u)
{
    export *x = ctx;
    json_t *attrs = u->attrs ? json_loads(u->attrs, 0, NULL) : NULL;
    x->profile =
        json_pack("{s:s%, s:o, s:b, s:o}", "id", u->id, u->id_len, "attributes",
                  attrs ? attrs : json_null(), "personalize", u->personalize != 0, "created",
                  u->created == TL_ABSENT ? json_null() : json_integer(u->created));
    return x->profile ? TL_OK : TL_ENOMEM;
}

static tl_err on_subscription(void *ctx, const char *user, const char *email, int alerts,
                              int64_t since, int personalize)
{
    (void)user;
    (void)personalize;
    export *x = ctx;
    x->subscription = json_pack("{s:o, s:b, s:I}", "email", str_or_null(email), "alerts", alerts,
                                "since", (json_int_t)since);
    return x->subscription ? TL_OK : TL_ENOMEM;
}

typedef struct export_job {
    const char *user;
    char **json;
} export_job;

static tl_err do_export(tl_service *s, void *ctx, tl_diag *d)
{
    export_job *j = ctx;
    export x = {json_array(), json_array(), json_array(), json_array(), NULL, NULL, 0};
    tl_store_dump_fns fns = {on_event, on_search, on_consent, on_impression};
    int64_t days = -1;
    tl_err rc = x.events && x.searches && x.consent && x.impressions ? TL_OK : TL_ENOMEM;
    if (rc == TL_OK)
        rc = tl_service_get_user(s, j->user, on_profile, &x, d);
    if (rc == TL_OK)
        rc = tl_store_user_dump(s->writer, j->user, &fns, &x, &days, d);
    int has_sub = 0;
    if (rc == TL_OK && tl_store_schema_version(s->writer) >= 5)
        rc = tl_store_subscription_get(s->writer, j->user, on_subscription, &x, &has_sub, d);
    json_t *all = NULL;
    if (rc == TL_OK && !x.failed) {
        all = json_pack("{s:s, s:O, s:o, s:O, s:O, s:O, s:I}", "user", j->user, "profile",
                        x.profile, "retention_days", days >= 0 ? json_integer(days) : json_null(),
                        "events", x.events, "searches", x.searches, "consent_history", x.consent,
                        "exported_at", (json_int_t)time(NULL));
        if (all && json_object_set(all, "subscription",
                                   x.subscription ? x.subscription : json_null()) != 0)
            x.failed = 1;
        if (all && json_object_set(all, "impressions", x.impressions) != 0)
            x.failed = 1;
        if (all && rc == TL_OK) /* the patron's reading lists, reviews and path feedback */
            rc = tl__lib_export(s->writer, j->user, all, d);
    }
    if (rc == TL_OK && (!all || !(*j->json = json_dumps(all, JSON_COMPACT | JSON_ENSURE_ASCII))))
        rc = TL_ENOMEM;
    json_decref(all);
    json_decref(x.profile);
    json_decref(x.subscription);
    json_decref(x.events);
    json_decref(x.searches);
    json_decref(x.consent);
    json_decref(x.impressions);
    return rc;
}

tl_err tl_service_user_export(tl_service *s, const char *user, const char *actor, char **json,
                              tl_diag *d)
{
    *json = NULL;
    if (tl__imp_logging(s)) /* what is queued is the patron's too */
        tl_service_impressions_flush(s, d);
    tl_diag_clear(d);
    export_job j = {user, json};
    /* read through the writer, in the transaction that logs the access: the export and its
     * audit entry are one */
    char pseudo[TL_PATRON_REF_SIZE]; /* the log names the patron as the store does */
    tl_err rc =
        audited(s, do_export, &j, actor, "export", tl__patron_ref(s, user, pseudo), NULL, d);
    if (rc != TL_OK) {
        free(*json);
        *json = NULL;
    }
    return rc;
}

/* ---- erasure ------------------------------------------------------------------------------ */

typedef struct erase_job {
    const char *user;
    long long events;
} erase_job;

static tl_err do_erase(tl_service *s, void *ctx, tl_diag *d)
{
    erase_job *j = ctx;
    char pseudo[TL_PATRON_REF_SIZE];
    tl_err rc = tl_store_delete_user(s->writer, j->user, strlen(j->user), &j->events, d);
    /* older entries that named the patron (an export, a consent change) keep only a hash */
    return rc == TL_OK
               ? tl_store_audit_forget(s->writer, tl__patron_ref(s, j->user, pseudo), NULL, d)
               : rc;
}

tl_err tl_service_user_erase(tl_service *s, const char *user, const char *actor,
                             tl_erase_report *out, tl_diag *d)
{
    memset(out, 0, sizeof(*out));
    if (tl__imp_logging(s)) /* nothing queued may outlive the erasure */
        tl_service_impressions_flush(s, d);
    tl_diag_clear(d);
    erase_job j = {user, 0};
    char detail[96];
    snprintf(detail, sizeof(detail), "a patron and %s", "their events"); /* nothing of theirs */
    tl_err rc = audited(s, do_erase, &j, actor, "erase", NULL, detail, d);
    if (rc != TL_OK)
        return rc;
    out->events = j.events;
    atomic_fetch_add(&s->erasures_seen, 1); /* acted on below: not again when seen in the store */
    /* the deleted rows are overwritten in the file (secure_delete); the log's copies go now */
    pthread_mutex_lock(&s->write_mu);
    tl_err sc = tl_store_scrub(s->writer, &out->scrubbed, d);
    pthread_mutex_unlock(&s->write_mu);
    if (sc != TL_OK)
        tl__service_log(s, "error", "erase", "the write-ahead log was not emptied: %s", d->msg);
    /* the models learnt from the patron: a training on the store as it is now replaces each
     * (one that already runs read the store before: it is followed by another) */
    out->retraining = tl__service_retrain_after_erasure(s);
    return TL_OK;
}

/* ---- consent and retention --------------------------------------------------------------- */

typedef struct consent_job {
    const char *user, *actor;
    int personalize;
    long long days;
} consent_job;

static tl_err do_consent(tl_service *s, void *ctx, tl_diag *d)
{
    consent_job *j = ctx;
    return tl_store_consent_set(s->writer, j->user, j->personalize, j->days, (int64_t)time(NULL),
                                j->actor, d);
}

tl_err tl_service_consent_set(tl_service *s, const char *user, int personalize,
                              long long retention_days, const char *actor, tl_diag *d)
{
    consent_job j = {user, actor, personalize, retention_days};
    char detail[96], days[32];
    snprintf(days, sizeof(days), "%lld days", retention_days);
    snprintf(detail, sizeof(detail), "personalize=%s retention=%s",
             personalize < 0 ? "unchanged"
             : personalize   ? "on"
                             : "off",
             retention_days == TL_ABSENT ? "unchanged"
             : retention_days < 0        ? "none"
                                         : days);
    char pseudo[TL_PATRON_REF_SIZE];
    return audited(s, do_consent, &j, actor, "consent", tl__patron_ref(s, user, pseudo), detail, d);
}

/* ---- subscriptions to new-arrival alerts ------------------------------------------------- */

typedef struct sub_job {
    const char *user, *email;
    int alerts;
} sub_job;

static tl_err do_subscription(tl_service *s, void *ctx, tl_diag *d)
{
    sub_job *j = ctx;
    return tl_store_subscription_set(s->writer, j->user, j->alerts, j->email, (int64_t)time(NULL),
                                     d);
}

/* One address: local@domain, printable ASCII without spaces, quotes, angle brackets or
 * commas (it goes into headers and SMTP commands as it is). */
static int email_ok(const char *e)
{
    size_t n = strlen(e);
    const char *at = strchr(e, '@');
    if (n < 3 || n > TL_EMAIL_MAX || !at || at == e || !at[1] || strchr(at + 1, '@') ||
        !strchr(at + 1, '.'))
        return 0;
    for (const char *c = e; *c; c++)
        if (*c <= ' ' || *c > '~' || strchr("<>()[]\\,;:\"", *c))
            return 0;
    return 1;
}

tl_err tl_service_subscription_set(tl_service *s, const char *user, int alerts, const char *email,
                                   const char *actor, tl_diag *d)
{
    if (email && *email && !email_ok(email)) {
        tl_diag_set(d, NULL, 0, "email", "not an e-mail address: '%.100s'", email);
        return TL_EINVAL;
    }
    sub_job j = {user, email, alerts};
    char detail[96], pseudo[TL_PATRON_REF_SIZE];
    snprintf(detail, sizeof(detail), "alerts=%s email=%s",
             alerts < 0 ? "unchanged"
             : alerts   ? "on"
                        : "off",
             !email   ? "unchanged"
             : *email ? "set"
                      : "removed");
    return audited(s, do_subscription, &j, actor, "subscription", tl__patron_ref(s, user, pseudo),
                   detail, d);
}

typedef struct retention_job {
    long long removed;
} retention_job;

static tl_err do_retention(tl_service *s, void *ctx, tl_diag *d)
{
    retention_job *j = ctx;
    return tl_store_retention_run(s->writer, (int64_t)time(NULL), &j->removed, d);
}

tl_err tl_service_retention_run(tl_service *s, const char *actor, long long *removed, tl_diag *d)
{
    retention_job j = {0};
    tl_err rc = audited(s, do_retention, &j, actor, "retention", NULL, NULL, d);
    if (rc == TL_OK && removed)
        *removed = j.removed;
    return rc;
}
