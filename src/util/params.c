/* Parameter tables: parsing, range checks and (de)serialization of hyperparameters, and the
 * binding that mirrors every value in a typed field of its owner's struct. */
#include "tailor/params.h"

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int find(const tl_params *p, const char *name, size_t len)
{
    for (int i = 0; i < p->n; i++)
        if (strlen(p->defs[i].name) == len && memcmp(p->defs[i].name, name, len) == 0)
            return i;
    return -1;
}

/* Mirrors parameter i in the bound struct. The value is in range (assign checked it, and
 * tl_params_bind that the range fits the field), so the conversion is exact. */
static void write_field(const tl_params *p, int i)
{
    const tl_param_def *def = &p->defs[i];
    void *at = (char *)p->bound + def->offset;
    switch (def->field) {
    case TL_FIELD_INT:
        *(int *)at = (int)p->num[i];
        break;
    case TL_FIELD_INT64:
        *(int64_t *)at = (int64_t)p->num[i];
        break;
    case TL_FIELD_DOUBLE:
        *(double *)at = p->num[i];
        break;
    case TL_FIELD_STR:
        *(const char **)at = p->str[i];
        break;
    case TL_FIELD_NONE:
        assert(0 && "tl_params_bind checked every row has a field");
        break;
    }
}

static tl_err assign(tl_params *p, int i, const char *value, tl_diag *d)
{
    const tl_param_def *def = &p->defs[i];
    if (def->type == TL_PARAM_STR) {
        char *s = strdup(value);
        if (!s)
            return TL_ENOMEM;
        free(p->str[i]);
        p->str[i] = s;
        if (p->bound)
            write_field(p, i);
        return TL_OK;
    }
    char *end;
    errno = 0;
    double v = strtod(value, &end);
    if (!*value || *end || errno || !isfinite(v)) {
        tl_diag_set(d, NULL, 0, def->name, "'%s' is not a number", value);
        return TL_EINVAL;
    }
    if (def->type == TL_PARAM_INT && v != floor(v)) {
        tl_diag_set(d, NULL, 0, def->name, "'%s' is not a whole number", value);
        return TL_EINVAL;
    }
    if (v < def->min || v > def->max) {
        tl_diag_set(d, NULL, 0, def->name, "%s is outside [%g, %g]", value, def->min, def->max);
        return TL_EINVAL;
    }
    p->num[i] = v;
    if (p->bound)
        write_field(p, i);
    return TL_OK;
}

tl_err tl_params_init(tl_params *p, const tl_param_def *defs, int n)
{
    assert(n <= TL_PARAMS_MAX);
    memset(p, 0, sizeof(*p));
    p->defs = defs;
    p->n = n;
    for (int i = 0; i < n; i++) {
        tl_err rc = assign(p, i, defs[i].def, NULL);
        if (rc != TL_OK) {
            assert(rc == TL_ENOMEM); /* a bad default is a programmer's mistake */
            tl_params_release(p);
            return rc;
        }
    }
    return TL_OK;
}

#ifndef NDEBUG
static size_t field_size(tl_param_field f)
{
    switch (f) {
    case TL_FIELD_INT:
        return sizeof(int);
    case TL_FIELD_INT64:
        return sizeof(int64_t);
    case TL_FIELD_DOUBLE:
        return sizeof(double);
    case TL_FIELD_STR:
        return sizeof(const char *);
    case TL_FIELD_NONE:
        break;
    }
    return 0;
}

/* Whether row i describes a field the binding may write: typed to match, in range for its C
 * type, and overlapping no other row's field. */
static int bindable(const tl_param_def *defs, int n, int i)
{
    const tl_param_def *d = &defs[i];
    switch (d->field) {
    case TL_FIELD_INT:
        if (d->type != TL_PARAM_INT || d->min < INT_MIN || d->max > INT_MAX)
            return 0;
        break;
    case TL_FIELD_INT64:
        /* 2^63 itself does not fit: the range must stay below it. */
        if (d->type != TL_PARAM_INT || d->min < -9223372036854775808.0 ||
            d->max >= 9223372036854775808.0)
            return 0;
        break;
    case TL_FIELD_DOUBLE:
        if (d->type != TL_PARAM_FLOAT)
            return 0;
        break;
    case TL_FIELD_STR:
        if (d->type != TL_PARAM_STR)
            return 0;
        break;
    case TL_FIELD_NONE:
        return 0;
    }
    size_t lo = d->offset, hi = lo + field_size(d->field);
    for (int j = 0; j < n; j++) {
        size_t lo2 = defs[j].offset, hi2 = lo2 + field_size(defs[j].field);
        if (j != i && lo < hi2 && lo2 < hi)
            return 0;
    }
    return 1;
}
#endif

void tl_params_bind(tl_params *p, void *cfg)
{
    assert(cfg);
    p->bound = cfg;
    for (int i = 0; i < p->n; i++) {
        assert(bindable(p->defs, p->n, i));
        write_field(p, i);
    }
}

void tl_params_release(tl_params *p)
{
    for (int i = 0; i < p->n; i++) {
        free(p->str[i]);
        p->str[i] = NULL;
        if (p->bound && p->defs[i].field == TL_FIELD_STR)
            write_field(p, i); /* no dangling pointer into what was just freed */
    }
    p->bound = NULL;
}

tl_err tl_params_set(tl_params *p, const char *key, const char *value, tl_diag *d)
{
    int i = find(p, key, strlen(key));
    if (i < 0) {
        tl_diag_set(d, NULL, 0, key, "unknown parameter");
        return TL_EINVAL;
    }
    tl_err rc = assign(p, i, value, d);
    if (rc == TL_OK)
        p->is_set[i] = 1;
    return rc;
}

tl_err tl_params_set_default(tl_params *p, const char *key, const char *value, tl_diag *d)
{
    int i = find(p, key, strlen(key));
    if (i < 0) {
        tl_diag_set(d, NULL, 0, key, "unknown parameter");
        return TL_EINVAL;
    }
    return assign(p, i, value, d);
}

tl_err tl_params_set_kv(tl_params *p, const char *kv, tl_diag *d)
{
    const char *eq = strchr(kv, '=');
    if (!eq || eq == kv) {
        tl_diag_set(d, NULL, 0, kv, "expected key=value");
        return TL_EINVAL;
    }
    char key[64];
    size_t klen = (size_t)(eq - kv);
    if (klen >= sizeof(key)) {
        tl_diag_set(d, NULL, 0, NULL, "parameter name too long");
        return TL_EINVAL;
    }
    memcpy(key, kv, klen);
    key[klen] = '\0';
    return tl_params_set(p, key, eq + 1, d);
}

double tl_params_num(const tl_params *p, const char *name)
{
    int i = find(p, name, strlen(name));
    assert(i >= 0 && p->defs[i].type != TL_PARAM_STR);
    return p->num[i];
}

const char *tl_params_str(const tl_params *p, const char *name)
{
    int i = find(p, name, strlen(name));
    assert(i >= 0 && p->defs[i].type == TL_PARAM_STR);
    return p->str[i];
}

int tl_params_is_set(const tl_params *p, const char *name)
{
    int i = find(p, name, strlen(name));
    assert(i >= 0);
    return p->is_set[i];
}

/* The shortest of %.15g, %.16g and %.17g that reads back to v: 0.8 stays "0.8" (not
 * 0.80000000000000004), and every double still round-trips (17 digits always do). Files
 * written with %.17g before read back the same. */
static const char *shortest(double v, char *buf, size_t len)
{
    for (int prec = 15; prec < 17; prec++) {
        snprintf(buf, len, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            return buf;
    }
    snprintf(buf, len, "%.17g", v);
    return buf;
}

tl_err tl_params_to_text(const tl_params *p, char **out)
{
    char num[32];
    size_t cap = 64, len = 0;
    for (int i = 0; i < p->n; i++)
        cap += strlen(p->defs[i].name) + (p->str[i] ? strlen(p->str[i]) : 0) + 40;
    char *s = malloc(cap);
    if (!s)
        return TL_ENOMEM;
    s[0] = '\0';
    for (int i = 0; i < p->n; i++) {
        const tl_param_def *def = &p->defs[i];
        if (def->type == TL_PARAM_STR)
            len += (size_t)snprintf(s + len, cap - len, "%s=%s\n", def->name, p->str[i]);
        else if (def->type == TL_PARAM_INT)
            len += (size_t)snprintf(s + len, cap - len, "%s=%.0f\n", def->name, p->num[i]);
        else
            len += (size_t)snprintf(s + len, cap - len, "%s=%s\n", def->name,
                                    shortest(p->num[i], num, sizeof(num)));
    }
    *out = s;
    return TL_OK;
}

tl_err tl_params_from_text(tl_params *p, const char *text, tl_diag *d)
{
    char line[1024];
    while (*text) {
        const char *nl = strchr(text, '\n');
        size_t n = nl ? (size_t)(nl - text) : strlen(text);
        if (n >= sizeof(line)) {
            tl_diag_set(d, NULL, 0, NULL, "parameter line too long");
            return TL_EINVAL;
        }
        memcpy(line, text, n);
        line[n] = '\0';
        if (n) {
            tl_err rc = tl_params_set_kv(p, line, d);
            if (rc != TL_OK)
                return rc;
        }
        text += n + (nl ? 1 : 0);
    }
    return TL_OK;
}

void tl_params_print_help(const tl_param_def *defs, int n, FILE *f)
{
    for (int i = 0; i < n; i++) {
        const tl_param_def *d = &defs[i];
        if (d->type == TL_PARAM_STR)
            fprintf(f, "  %-16s %s (default '%s')\n", d->name, d->help, d->def);
        else
            fprintf(f, "  %-16s %s (default %s, range %g..%g)\n", d->name, d->help, d->def, d->min,
                    d->max);
    }
}
