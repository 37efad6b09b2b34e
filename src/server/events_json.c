/* POST /v1/events bodies into tl_event_rec (events_json.h). Only the shape and the types are
 * checked here; what makes an event valid (ids, type names, ranges) is the service's to say,
 * so that the server and `tailor import` never disagree. Unknown keys are errors: a typo such
 * as "timestmap" would otherwise drop the time silently. */
#include "server/events_json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/civil.h"

/* Reads n digits of s into *v; returns the position after them, or NULL. */
static const char *digits(const char *s, int n, int *v)
{
    *v = 0;
    for (int k = 0; k < n; k++, s++) {
        if (*s < '0' || *s > '9')
            return NULL;
        *v = *v * 10 + (*s - '0');
    }
    return s;
}

int tl__iso8601_seconds(const char *s, int64_t *out)
{
    int y, mo, d, h = 0, mi = 0, sec = 0, oh = 0, om = 0, sign = 0;
    const char *p = digits(s, 4, &y);
    if (!p || *p++ != '-' || !(p = digits(p, 2, &mo)) || *p++ != '-' || !(p = digits(p, 2, &d)))
        return -1;
    if (*p == 'T' || *p == 't' || *p == ' ') {
        if (!(p = digits(p + 1, 2, &h)) || *p++ != ':' || !(p = digits(p, 2, &mi)))
            return -1;
        if (*p == ':' && !(p = digits(p + 1, 2, &sec)))
            return -1;
        if (*p == '.' || *p == ',') /* fractions of a second: whole seconds are kept */
            for (p++; *p >= '0' && *p <= '9'; p++)
                ;
        if (*p == 'Z' || *p == 'z')
            p++;
        else if (*p == '+' || *p == '-') {
            sign = *p == '+' ? 1 : -1;
            if (!(p = digits(p + 1, 2, &oh)) || (*p == ':' && !(p = digits(p + 1, 2, &om))))
                return -1;
        } else
            return -1; /* a local time of an unknown zone */
    }
    if (*p || !tl_civil_valid(y, (unsigned)mo, (unsigned)d) || h > 23 || mi > 59 || sec > 60 ||
        oh > 23 || om > 59)
        return -1;
    int64_t t = tl_civil_days(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + sec -
                sign * (oh * 3600 + om * 60);
    if (t < TL_TIME_MIN || t > TL_TIME_MAX)
        return -1;
    *out = t;
    return 0;
}

/* Names the field of event i in d and returns TL_EINVAL. */
static tl_err bad_field(tl_diag *d, size_t i, const char *field, const char *why)
{
    char f[96];
    snprintf(f, sizeof(f), "[%zu]%s%.40s", i, *field ? "." : "", field);
    tl_diag_set(d, NULL, 0, f, "%s%s%s", field, *field ? " " : "", why);
    return TL_EINVAL;
}

static tl_err context(const json_t *c, size_t i, tl_event_rec *e, tl_diag *d)
{
    const char *key;
    const json_t *v;
    if (!json_is_object(c))
        return bad_field(d, i, "context", "must be an object");
    json_object_foreach((json_t *)c, key, v)
    {
        const char **slot = !strcmp(key, "device")    ? &e->device
                            : !strcmp(key, "channel") ? &e->channel
                            : !strcmp(key, "branch")  ? &e->branch
                            : !strcmp(key, "session") ? &e->session
                                                      : NULL;
        char f[48];
        snprintf(f, sizeof(f), "context.%.20s", key);
        if (!slot)
            return bad_field(d, i, f,
                             "is not a field of context (device, channel, branch, "
                             "session)");
        if (json_is_null(v))
            continue;
        if (!json_is_string(v))
            return bad_field(d, i, f, "must be a string");
        *slot = json_string_value(v);
    }
    return TL_OK;
}

static tl_err timestamp(const json_t *v, size_t i, tl_event_rec *e, tl_diag *d)
{
    static const char why[] = "must be whole Unix seconds or ISO-8601 UTC text "
                              "(\"2026-12-05T10:00:00Z\") from 1970 to 3000";
    if (json_is_integer(v)) {
        json_int_t t = json_integer_value(v);
        if (t < TL_TIME_MIN || t > TL_TIME_MAX)
            return bad_field(d, i, "timestamp", why);
        e->ts = t;
        return TL_OK;
    }
    if (json_is_string(v) && tl__iso8601_seconds(json_string_value(v), &e->ts) == 0)
        return TL_OK;
    return bad_field(d, i, "timestamp", why);
}

static tl_err id(const json_t *v, size_t i, const char *field, const char **s, size_t *len,
                 tl_diag *d)
{
    if (!json_is_string(v) || !json_string_length(v))
        return bad_field(d, i, field, "must be a non-empty string");
    *s = json_string_value(v);
    *len = json_string_length(v);
    return TL_OK;
}

static tl_err one(const json_t *o, size_t i, tl_event_rec *e, tl_diag *d)
{
    const char *key;
    const json_t *v;
    tl_err rc = TL_OK;
    if (!json_is_object(o))
        return bad_field(d, i, "", "must be an event object");
    memset(e, 0, sizeof(*e));
    json_object_foreach((json_t *)o, key, v)
    {
        if (json_is_null(v) && strcmp(key, "user") && strcmp(key, "item") && strcmp(key, "type"))
            continue; /* an optional field given as null is absent */
        if (!strcmp(key, "user"))
            rc = id(v, i, "user", &e->user, &e->user_len, d);
        else if (!strcmp(key, "item"))
            rc = id(v, i, "item", &e->item, &e->item_len, d);
        else if (!strcmp(key, "type")) {
            size_t unused;
            rc = id(v, i, "type", &e->type, &unused, d);
        } else if (!strcmp(key, "value")) {
            if (!json_is_number(v) || !isfinite(json_number_value(v)))
                return bad_field(d, i, "value", "must be a number");
            e->has_value = 1;
            e->value = json_number_value(v);
        } else if (!strcmp(key, "timestamp"))
            rc = timestamp(v, i, e, d);
        else if (!strcmp(key, "context"))
            rc = context(v, i, e, d);
        else if (!strcmp(key, "impression_id")) {
            if (!json_is_string(v) || !json_string_length(v))
                return bad_field(d, i, "impression_id", "must be a non-empty string");
            e->impression = json_string_value(v);
        } else if (!strcmp(key, "row") || !strcmp(key, "position")) {
            if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 100000)
                return bad_field(d, i, key, "must be a whole number from 0");
            *(!strcmp(key, "row") ? &e->row : &e->position) = (int)json_integer_value(v);
            e->has_place |= !strcmp(key, "row") ? 1 : 2;
        } else {
            char f[48];
            snprintf(f, sizeof(f), "%.40s", key);
            return bad_field(d, i, f,
                             "is not a field of an event (user, item, type, value, "
                             "timestamp, context, impression_id, row, position)");
        }
        if (rc != TL_OK)
            return rc;
    }
    if (!e->user || !e->item || !e->type)
        return bad_field(d, i, !e->user ? "user" : !e->item ? "item" : "type", "is required");
    if (e->has_place && e->has_place != 3)
        return bad_field(d, i, e->has_place == 1 ? "position" : "row",
                         "is required with row and position");
    if (e->has_place && !e->impression)
        return bad_field(d, i, "impression_id", "is required with row and position");
    e->has_place = e->has_place != 0;
    return TL_OK;
}

tl_err tl__events_from_json(const json_t *j, size_t max, tl_event_rec **out, size_t *n, size_t *bad,
                            tl_diag *d)
{
    int array = json_is_array(j);
    size_t count = array ? json_array_size(j) : 1;
    *bad = 0;
    if (!array && !json_is_object(j))
        return bad_field(d, 0, "", "must be an event object or an array of them");
    if (count == 0) {
        tl_diag_set(d, NULL, 0, "events", "the batch is empty");
        return TL_EINVAL;
    }
    if (count > max) {
        *bad = max;
        tl_diag_set(d, NULL, 0, "events", "%zu events is over the limit of %zu in one batch", count,
                    max);
        return TL_ETOOBIG;
    }
    tl_event_rec *ev = malloc(count * sizeof(*ev));
    if (!ev)
        return TL_ENOMEM;
    for (size_t i = 0; i < count; i++) {
        tl_err rc = one(array ? json_array_get(j, i) : j, i, &ev[i], d);
        if (rc != TL_OK) {
            *bad = i;
            free(ev);
            return rc;
        }
    }
    *out = ev;
    *n = count;
    return TL_OK;
}
