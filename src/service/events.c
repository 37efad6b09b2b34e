/* Events in: a batch is checked whole before anything is written, then written in one
 * transaction, so a bad event leaves nothing of its batch behind; with an idempotency key, the
 * key's row goes into the same transaction (idem.c). */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ingest/fields.h"
#include "service/imp_int.h"
#include "service/service_int.h"

static tl_err check_id(const char *v, size_t n, const char *field, tl_diag *d)
{
    if (!v || !n) {
        tl_diag_set(d, NULL, 0, field, "no %s id", field);
        return TL_EINVAL;
    }
    if (n > TL_ID_MAX) {
        tl_diag_set(d, NULL, 0, field, "%s id longer than %d bytes", field, TL_ID_MAX);
        return TL_EINVAL;
    }
    long at = tl__id_bad_char(v, n);
    if (at >= 0) {
        tl_diag_set(d, NULL, 0, field,
                    "id contains a tab or control character (byte 0x%02X at offset %ld)",
                    (unsigned char)v[at], at);
        return TL_EINVAL;
    }
    return TL_OK;
}

static tl_err check_event(const tl_event_rec *e, tl_diag *d)
{
    tl_err rc;
    if ((rc = check_id(e->user, e->user_len, "user", d)) != TL_OK ||
        (rc = check_id(e->item, e->item_len, "item", d)) != TL_OK)
        return rc;
    size_t tn = e->type ? strlen(e->type) : 0;
    if (!tn || tn > TL_EVENT_TYPE_MAX) {
        tl_diag_set(d, NULL, 0, "type", "expected an event type of 1 to %d bytes",
                    TL_EVENT_TYPE_MAX);
        return TL_EINVAL;
    }
    for (size_t i = 0; i < tn; i++)
        if (!(islower((unsigned char)e->type[i]) || isdigit((unsigned char)e->type[i]) ||
              e->type[i] == '_' || e->type[i] == '-')) {
            tl_diag_set(d, NULL, 0, "type",
                        "'%.64s' is not an event type (lower-case letters, digits, _ and -)",
                        e->type);
            return TL_EINVAL;
        }
    if (e->has_value && !(isfinite(e->value) && fabs(e->value) <= TL_VALUE_MAX)) {
        tl_diag_set(d, NULL, 0, "value", "out of range (|value| <= 1e9)");
        return TL_EINVAL;
    }
    if (e->ts < TL_TIME_MIN || e->ts > TL_TIME_MAX) {
        tl_diag_set(d, NULL, 0, "timestamp", "out of range (0 to %lld: 1970 to 3000)",
                    (long long)TL_TIME_MAX);
        return TL_EINVAL;
    }
    return TL_OK;
}

/* Writes the checked events in one transaction, with k's key row in the same one. */
static tl_err write_events(tl_service *s, const tl_idem *k, const tl_event_rec *ev, size_t n,
                           size_t *bad, tl_diag *d, tl_idem_replay *out)
{
    uint8_t hash[TL_IDEM_HASH_LEN];
    int64_t now = (int64_t)time(NULL);
    tl_store_imp_hit *hits = NULL; /* the events joined to impressions as rewards */
    int join = tl__imp_logging(s);
    if (join && !(hits = calloc(n ? n : 1, sizeof(*hits))))
        return TL_ENOMEM;
    pthread_mutex_lock(&s->write_mu);
    tl_err rc = tl_store_begin(s->writer);
    if (rc == TL_OK && k && (rc = tl__idem_begin(s, k, hash, out, d)) == TL_OK && out->replayed) {
        tl_store_rollback(s->writer); /* a retry: nothing to write */
        pthread_mutex_unlock(&s->write_mu);
        free(hits);
        return TL_OK;
    }
    for (size_t j = 0; rc == TL_OK && j < n; j++) {
        tl_event_rec e = ev[j];
        if (!e.ts) /* an event told live happened now; a file's may have no time */
            e.ts = now;
        int found, personalize;
        if ((rc = tl_store_user_consent(s->writer, e.user, e.user_len, &found, &personalize, d)) !=
            TL_OK)
            break;
        if (join && (e.impression || !(found && !personalize))) { /* a reward, first */
            if ((rc = tl__imp_join(s, &e, 1, &hits[j], d)) != TL_OK)
                break;
        }
        if (found && !personalize)
            continue; /* an opted-out patron's event counts in the aggregates only */
        if ((rc = tl_store_put_event(s->writer, &e, 0, NULL, d)) != TL_OK && bad)
            *bad = j;
    }
    if (rc == TL_OK && k)
        rc = tl__idem_end(s, k, hash, d);
    if (rc == TL_OK)
        rc = tl_store_commit(s->writer);
    else
        tl_store_rollback(s->writer); /* TL_EINVAL, harmless, when begin failed */
    pthread_mutex_unlock(&s->write_mu);
    if (rc == TL_OK) { /* a replay returned above: nothing new to count */
        tl__popular_add(s, ev, n);
        tl__service_events_added(s, n);
        if (hits)
            tl__imp_learn(s, hits, n);
    }
    free(hits);
    if (rc == TL_ESTORE && !d->msg[0])
        tl_diag_set(d, NULL, 0, NULL, "store: %s", tl_store_errmsg(s->writer));
    return rc;
}

tl_err tl_service_add_events_idem(tl_service *s, const tl_idem *k, const tl_event_rec *ev, size_t n,
                                  size_t *bad, tl_diag *d, tl_idem_replay *out)
{
    tl_err rc = tl__service_need_writer(s, "events", d);
    if (rc != TL_OK)
        return rc;
    for (size_t j = 0; j < n; j++) {
        rc = check_event(&ev[j], d);
        if (rc != TL_OK) {
            if (bad)
                *bad = j;
            return rc;
        }
    }
    return write_events(s, k, ev, n, bad, d, out);
}

tl_err tl_service_add_events(tl_service *s, const tl_event_rec *ev, size_t n, size_t *bad,
                             tl_diag *d)
{
    return tl_service_add_events_idem(s, NULL, ev, n, bad, d, NULL);
}
