/* Parsing of the grid syntax (eval/grid.h). */
#include "eval/grid.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int tl_grid_find(const tl_grid *g, const char *key)
{
    for (int a = 0; a < g->n; a++)
        if (strcmp(g->ax[a].key, key) == 0)
            return a;
    return -1;
}

static int parse_positive(const char *s, size_t len, double *out)
{
    char buf[64];
    if (!len || len >= sizeof(buf))
        return 0;
    memcpy(buf, s, len);
    buf[len] = '\0';
    char *end;
    double v = strtod(buf, &end);
    if (*end || !isfinite(v) || !(v > 0))
        return 0;
    *out = v;
    return 1;
}

/* One "key=..." of len bytes. */
static tl_err parse_axis(const char *s, size_t len, tl_grid_axis *x, tl_diag *diag)
{
    const char *eq = memchr(s, '=', len);
    memset(x, 0, sizeof(*x));
    if (!eq || eq == s || (size_t)(eq - s) >= sizeof(x->key) || eq + 1 == s + len) {
        tl_diag_set(diag, NULL, 0, "grid", "'%.*s' is not key=v1,v2,... or key=~F", (int)len, s);
        return TL_EINVAL;
    }
    memcpy(x->key, s, (size_t)(eq - s));
    const char *v = eq + 1, *end = s + len;
    if (*v == '~') {
        const char *at = memchr(v, '@', (size_t)(end - v));
        x->kind = TL_AXIS_LOG;
        if (!parse_positive(v + 1, (size_t)((at ? at : end) - v - 1), &x->span) || !(x->span > 1) ||
            (at && !parse_positive(at + 1, (size_t)(end - at - 1), &x->centre))) {
            tl_diag_set(diag, NULL, 0, "grid",
                        "'%.*s': expected ~F or ~F@C with F > 1 and C > 0 (a log-scale search "
                        "from C/F to C*F)",
                        (int)len, s);
            return TL_EINVAL;
        }
        return TL_OK;
    }
    x->kind = TL_AXIS_VALUES;
    while (v < end) {
        const char *comma = memchr(v, ',', (size_t)(end - v));
        size_t vl = (size_t)((comma ? comma : end) - v);
        if (!vl || vl >= TL_GRID_VALUE_MAX || x->n == TL_GRID_MAX_VALUES) {
            tl_diag_set(diag, NULL, 0, "grid",
                        "'%.*s': values must be non-empty, under %d bytes, at most %d", (int)len, s,
                        TL_GRID_VALUE_MAX, TL_GRID_MAX_VALUES);
            return TL_EINVAL;
        }
        memcpy(x->values[x->n++], v, vl);
        v += vl + (comma ? 1 : 0);
        if (comma && v == end) {
            tl_diag_set(diag, NULL, 0, "grid", "'%.*s' ends in a comma", (int)len, s);
            return TL_EINVAL;
        }
    }
    return TL_OK;
}

tl_err tl_grid_append(tl_grid *g, const char *text, tl_diag *diag)
{
    while (*text) {
        size_t len = strcspn(text, ";");
        if (len) {
            if (g->n == TL_GRID_MAX_AXES) {
                tl_diag_set(diag, NULL, 0, "grid", "more than %d parameters", TL_GRID_MAX_AXES);
                return TL_EINVAL;
            }
            tl_grid_axis *x = &g->ax[g->n];
            tl_err rc = parse_axis(text, len, x, diag);
            if (rc != TL_OK)
                return rc;
            if (tl_grid_find(g, x->key) >= 0) {
                tl_diag_set(diag, NULL, 0, "grid", "'%s' is given twice", x->key);
                return TL_EINVAL;
            }
            g->n++;
        }
        text += len + (text[len] == ';');
    }
    return TL_OK;
}

tl_err tl_grid_parse(const char *text, tl_grid *g, tl_diag *diag)
{
    g->n = 0;
    return tl_grid_append(g, text, diag);
}
