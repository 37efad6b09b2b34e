/* Filter evaluation: one pass over the catalogue producing an allow mask for top-n. */
#include "core/filter.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const field_names[TL_FILTER_NFIELDS] = {"type",    "format", "language",
                                                           "subject", "year",   "available"};

static tl_err parse_year(const char *v, tl_filter_cond *c, tl_diag *diag)
{
    char *end;
    long a = strtol(v, &end, 10), b = a;
    if (end != v && *end == '-')
        b = strtol(end + 1, &end, 10);
    if (end == v || *end || a < 0 || b < a || b > INT32_MAX) {
        tl_diag_set(diag, NULL, 0, "year", "expected year=YYYY or year=YYYY-YYYY, got '%s'", v);
        return TL_EINVAL;
    }
    c->year_min = (int32_t)a;
    c->year_max = (int32_t)b;
    return TL_OK;
}

tl_err tl_filter_parse(tl_filter_spec *s, const char *text, tl_diag *diag)
{
    const char *eq = strchr(text, '=');
    size_t klen = eq ? (size_t)(eq - text) : strlen(text);
    const char *v = eq ? eq + 1 : NULL;
    int f = 0;
    while (f < TL_FILTER_NFIELDS &&
           !(klen == strlen(field_names[f]) && strncmp(text, field_names[f], klen) == 0))
        f++;
    int ok = f == TL_FILTER_AVAILABLE ? !v : f < TL_FILTER_NFIELDS && v && *v;
    if (!ok) {
        tl_diag_set(
            diag, NULL, 0, NULL,
            "unknown filter '%s' (type=, format=, language=, subject=, year=A-B, available)", text);
        return TL_EINVAL;
    }
    if (s->n == TL_FILTER_MAX) {
        tl_diag_set(diag, NULL, 0, NULL, "more than %d filters", TL_FILTER_MAX);
        return TL_EINVAL;
    }
    tl_filter_cond c = {.field = (tl_filter_field)f, .value = v};
    if (f == TL_FILTER_YEAR && parse_year(v, &c, diag) != TL_OK)
        return TL_EINVAL;
    s->c[s->n++] = c;
    return TL_OK;
}

static int has_token(const char *list, const char *tok)
{
    size_t n = strlen(tok);
    for (const char *p = list; p && *p;) {
        const char *bar = strchr(p, '|');
        size_t l = bar ? (size_t)(bar - p) : strlen(p);
        if (l == n && strncasecmp(p, tok, n) == 0)
            return 1;
        p = bar ? bar + 1 : NULL;
    }
    return 0;
}

static int text_is(const char *have, const char *want)
{
    return have && strcasecmp(have, want) == 0;
}

static int matches(const tl_catalog *c, int32_t i, const tl_filter_cond *f)
{
    switch (f->field) {
    case TL_FILTER_TYPE:
        return text_is(c->type[i], f->value);
    case TL_FILTER_FORMAT:
        return text_is(c->format[i], f->value);
    case TL_FILTER_LANGUAGE:
        return text_is(c->language[i], f->value);
    case TL_FILTER_SUBJECT:
        return has_token(c->subjects[i], f->value);
    case TL_FILTER_YEAR:
        return c->year[i] && c->year[i] >= f->year_min && c->year[i] <= f->year_max;
    case TL_FILTER_AVAILABLE:
        return c->available[i] > 0;
    case TL_FILTER_NFIELDS:
        break;
    }
    return 0;
}

tl_err tl_filter_build(const tl_model *m, const tl_filter_spec *s, uint8_t *allow, tl_diag *diag)
{
    if (s->n && m->cat.n < m->n_items) {
        tl_diag_set(diag, NULL, 0, NULL,
                    "this model has no catalogue: train with --items FILE or from the store");
        return TL_EINVAL;
    }
    unsigned used = 0; /* fields with a condition */
    for (int k = 0; k < s->n; k++)
        used |= 1u << s->c[k].field;
    for (int32_t i = 0; i < m->n_items; i++) {
        unsigned met = 0;
        for (int k = 0; k < s->n; k++)
            if (!(met & (1u << s->c[k].field)) && matches(&m->cat, i, &s->c[k]))
                met |= 1u << s->c[k].field;
        allow[i] = met == used;
    }
    return TL_OK;
}

void tl_filter_apply(const tl_filter *f, float *scores, int32_t n_items)
{
    if (f && f->allow)
        for (int32_t i = 0; i < n_items; i++)
            if (!f->allow[i])
                scores[i] = -INFINITY;
    if (f && f->deny)
        for (int32_t i = 0; i < n_items; i++)
            if (f->deny[i])
                scores[i] = -INFINITY;
}
