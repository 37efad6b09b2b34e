/* Filter evaluation: one pass over the catalogue producing an allow mask for top-n. */
#include "core/filter.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

tl_err tl_filter_parse(tl_filter_spec *s, const char *text, tl_diag *diag)
{
    const char *eq = strchr(text, '=');
    size_t klen = eq ? (size_t)(eq - text) : strlen(text);
    const char *v = eq ? eq + 1 : NULL;
#define KEY(k) (klen == strlen(k) && strncmp(text, k, klen) == 0)
    if (KEY("available") && !v) {
        s->available_only = 1;
    } else if (v && *v && KEY("type")) {
        s->type = v;
    } else if (v && *v && KEY("format")) {
        s->format = v;
    } else if (v && *v && KEY("language")) {
        s->language = v;
    } else if (v && *v && KEY("subject")) {
        s->subject = v;
    } else if (v && *v && KEY("year")) {
        char *end;
        long a = strtol(v, &end, 10), b = a;
        if (*end == '-')
            b = strtol(end + 1, &end, 10);
        if (*end || a < 0 || b < a) {
            tl_diag_set(diag, NULL, 0, "year", "expected year=YYYY or year=YYYY-YYYY, got '%s'", v);
            return TL_EINVAL;
        }
        s->year_min = (int32_t)a;
        s->year_max = (int32_t)b;
    } else {
        tl_diag_set(
            diag, NULL, 0, NULL,
            "unknown filter '%s' (type=, format=, language=, subject=, year=A-B, available)", text);
        return TL_EINVAL;
    }
#undef KEY
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

tl_err tl_filter_build(const tl_model *m, const tl_filter_spec *s, uint8_t *allow, tl_diag *diag)
{
    int needs = s->type || s->format || s->language || s->subject || s->year_min || s->year_max ||
                s->available_only;
    if (needs && m->cat.n < m->n_items) {
        tl_diag_set(diag, NULL, 0, NULL,
                    "filters need item metadata, and this model was trained without a catalogue");
        return TL_EINVAL;
    }
    const tl_catalog *c = &m->cat;
    for (int32_t i = 0; i < m->n_items; i++) {
        int ok = 1;
        if (s->type)
            ok = ok && text_is(c->type[i], s->type);
        if (s->format)
            ok = ok && text_is(c->format[i], s->format);
        if (s->language)
            ok = ok && text_is(c->language[i], s->language);
        if (s->subject)
            ok = ok && has_token(c->subjects[i], s->subject);
        if (s->year_min)
            ok = ok && c->year[i] >= s->year_min && c->year[i] <= s->year_max;
        if (s->available_only)
            ok = ok && c->available[i] > 0;
        allow[i] = (uint8_t)ok;
    }
    return TL_OK;
}
