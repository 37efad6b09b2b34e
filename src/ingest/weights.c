/* Event-type weights: the table that turns loans, views, ratings... into one interaction
 * strength per event, with a "type=w,..." override syntax for the command line and the store. */
#include "tailor/ingest.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_OTHER 0.5f /* an unlisted type says something, but less than a loan */
#define DEFAULT_RATE_MIN 3.0f
#define DEFAULT_RATE_SCALE 5.0f
#define DEFAULT_DWELL_CAP 300.0f /* five minutes on a page is as strong as dwell gets */

static const tl_event_weight defaults[] = {
    {"loan", 1.0f, TL_WEIGHT_CONST},
    {"return", 0.0f, TL_WEIGHT_CONST},
    {"renew", 0.5f, TL_WEIGHT_CONST},
    {"hold", 0.8f, TL_WEIGHT_CONST},
    {"view", 0.2f, TL_WEIGHT_CONST},
    {"click", 0.3f, TL_WEIGHT_CONST},
    {"rate", 1.0f, TL_WEIGHT_RATING},
    {"review", 1.0f, TL_WEIGHT_CONST},
    {"download", 0.6f, TL_WEIGHT_CONST},
    {"list_add", 0.7f, TL_WEIGHT_CONST},
    {"skip", 0.0f, TL_WEIGHT_CONST},
    {"dwell", 0.5f, TL_WEIGHT_SECONDS},
    /* a copy used in the library without a loan (Koha's localuse): read there, not taken */
    {"local_use", 0.4f, TL_WEIGHT_CONST},
};

void tl_event_weights_init(tl_event_weights *w)
{
    memset(w, 0, sizeof(*w));
    w->n = (int)(sizeof(defaults) / sizeof(defaults[0]));
    memcpy(w->e, defaults, sizeof(defaults));
    w->deflt = DEFAULT_OTHER;
    w->rate_min = DEFAULT_RATE_MIN;
    w->rate_scale = DEFAULT_RATE_SCALE;
    w->dwell_cap = DEFAULT_DWELL_CAP;
}

static int find(const tl_event_weights *w, const char *type)
{
    for (int i = 0; i < w->n; i++)
        if (strcmp(w->e[i].type, type) == 0)
            return i;
    return -1;
}

static int parse_float(const char *s, float *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end || errno || !isfinite(v))
        return -1;
    *out = (float)v;
    return 0;
}

static tl_err apply_one(tl_event_weights *w, char *entry, tl_diag *d)
{
    char *eq = strchr(entry, '=');
    if (!eq || eq == entry) {
        tl_diag_set(d, "--weights", 0, NULL, "'%s' is not type=weight", entry);
        return TL_EINVAL;
    }
    *eq = '\0';
    const char *key = entry, *val = eq + 1;
    float f;
    if (strcmp(key, "merge") == 0) {
        if (strcmp(val, "sum") != 0 && strcmp(val, "max") != 0) {
            tl_diag_set(d, "--weights", 0, NULL, "merge must be sum or max, not '%s'", val);
            return TL_EINVAL;
        }
        w->merge_max = strcmp(val, "max") == 0;
        return TL_OK;
    }
    if (parse_float(val, &f) < 0) {
        tl_diag_set(d, "--weights", 0, NULL, "'%s' for %s is not a number", val, key);
        return TL_EINVAL;
    }
    if (strcmp(key, "default") == 0) {
        w->deflt = f;
    } else if (strcmp(key, "rate.min") == 0) {
        w->rate_min = f;
    } else if (strcmp(key, "rate.scale") == 0 || strcmp(key, "dwell.cap") == 0) {
        if (f <= 0) {
            tl_diag_set(d, "--weights", 0, NULL, "%s must be positive", key);
            return TL_EINVAL;
        }
        *(key[0] == 'r' ? &w->rate_scale : &w->dwell_cap) = f;
    } else {
        size_t n = strlen(key);
        if (n > TL_EVENT_TYPE_MAX) {
            tl_diag_set(d, "--weights", 0, NULL, "event type '%.20s...' is too long", key);
            return TL_EINVAL;
        }
        int i = find(w, key);
        if (i < 0) {
            if (w->n == TL_EVENT_WEIGHTS_MAX) {
                tl_diag_set(d, "--weights", 0, NULL, "more than %d event types",
                            TL_EVENT_WEIGHTS_MAX);
                return TL_EINVAL;
            }
            i = w->n++;
            memcpy(w->e[i].type, key, n + 1);
            w->e[i].rule = TL_WEIGHT_CONST;
        }
        w->e[i].w = f;
    }
    return TL_OK;
}

tl_err tl_event_weights_parse(tl_event_weights *w, const char *spec, tl_diag *d)
{
    tl_event_weights tmp = *w; /* all or nothing */
    char *copy = strdup(spec ? spec : "");
    if (!copy)
        return TL_ENOMEM;
    tl_err rc = TL_OK;
    char *save = NULL;
    for (char *tok = strtok_r(copy, ", \t\n", &save); tok; tok = strtok_r(NULL, ", \t\n", &save))
        if ((rc = apply_one(&tmp, tok, d)) != TL_OK)
            break;
    if (rc == TL_OK)
        *w = tmp;
    free(copy);
    return rc;
}

void tl_event_weights_format(const tl_event_weights *w, char *buf, size_t len)
{
    size_t off = 0;
    if (!len)
        return;
    buf[0] = '\0';
    for (int i = 0; i < w->n && off < len; i++)
        off += (size_t)snprintf(buf + off, len - off, "%s=%g,", w->e[i].type, (double)w->e[i].w);
    if (off < len)
        snprintf(buf + off, len - off, "default=%g,rate.min=%g,rate.scale=%g,dwell.cap=%g,merge=%s",
                 (double)w->deflt, (double)w->rate_min, (double)w->rate_scale, (double)w->dwell_cap,
                 w->merge_max ? "max" : "sum");
}

int tl_event_weights_find(const tl_event_weights *w, const char *type)
{
    return find(w, type);
}

float tl_event_weight_of(const tl_event_weights *w, const char *type, int has_value, double value)
{
    return tl_event_weight_at(w, find(w, type), has_value, value);
}

float tl_event_weight_at(const tl_event_weights *w, int i, int has_value, double value)
{
    if (i < 0)
        return w->deflt > 0 ? w->deflt : 0.0f;
    const tl_event_weight *e = &w->e[i];
    if (e->w <= 0)
        return 0.0f;
    if (!has_value || e->rule == TL_WEIGHT_CONST)
        return e->w;
    if (e->rule == TL_WEIGHT_RATING)
        return value >= w->rate_min ? e->w * (float)(value / w->rate_scale) : 0.0f;
    double s = value < 0 ? 0 : value > w->dwell_cap ? w->dwell_cap : value;
    return e->w * (float)(s / w->dwell_cap);
}
