/* The JSON writer of the hot answers: escaping as jansson does without JSON_ENSURE_ASCII (the
 * two-character escapes, \u00XX for other control characters, UTF-8 as is). */
#include "server/json_out.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/utf8.h"

void tl__jw_init(tl_jw *w, size_t cap)
{
    w->len = 0;
    w->cap = cap;
    w->buf = malloc(cap);
    w->failed = w->buf == NULL;
}

void tl__jw_free(tl_jw *w)
{
    free(w->buf);
    w->buf = NULL;
}

/* Room for n more bytes. */
static int room(tl_jw *w, size_t n)
{
    if (w->failed)
        return 0;
    if (w->len + n <= w->cap)
        return 1;
    size_t cap = w->cap * 2 > w->len + n ? w->cap * 2 : w->len + n;
    char *b = realloc(w->buf, cap);
    if (!b) {
        w->failed = 1;
        return 0;
    }
    w->buf = b;
    w->cap = cap;
    return 1;
}

static void put(tl_jw *w, const char *s, size_t n)
{
    if (room(w, n)) {
        memcpy(w->buf + w->len, s, n);
        w->len += n;
    }
}

void tl__jw_raw(tl_jw *w, const char *s)
{
    put(w, s, strlen(s));
}

void tl__jw_str(tl_jw *w, const char *s)
{
    if (!s) {
        put(w, "null", 4);
        return;
    }
    size_t n = strlen(s);
    long bad = tl__utf8_check(s, n);
    if (bad >= 0)
        n = (size_t)bad;
    if (!room(w, 2 + 6 * n)) /* the worst case: every byte a \u00XX */
        return;
    char *o = w->buf + w->len;
    *o++ = '"';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') {
            *o++ = (char)c;
            continue;
        }
        *o++ = '\\';
        switch (c) {
        case '"':
        case '\\':
            *o++ = (char)c;
            break;
        case '\b':
            *o++ = 'b';
            break;
        case '\f':
            *o++ = 'f';
            break;
        case '\n':
            *o++ = 'n';
            break;
        case '\r':
            *o++ = 'r';
            break;
        case '\t':
            *o++ = 't';
            break;
        default:
            o += snprintf(o, 6, "u%04x", c);
        }
    }
    *o++ = '"';
    w->len = (size_t)(o - w->buf);
}

/* v (finite, 1e-4 <= |v| < 1e7) to seven significant digits without printf, which was a tenth
 * of a served request: the digits of llround(|v| * 10^(6 - e)), e = v's decimal exponent,
 * placed around the point, trailing zeros dropped (at least one digit after the point). */
static int seven_digits(double v, char *out)
{
    static const double p10[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10};
    double a = fabs(v);
    int e = (int)floor(log10(a));
    long long m = llround(a * p10[6 - e]);
    if (m >= 10000000) { /* 9.9999996 rounds up to a new digit */
        m = (m + 5) / 10;
        e++;
    }
    if (m < 1000000) { /* log10 a hair under a power of ten */
        m *= 10;
        e--;
    }
    if (e < -4 || e > 6)
        return -1;
    char dig[8];
    for (int k = 6; k >= 0; k--, m /= 10)
        dig[k] = (char)('0' + m % 10);
    int o = 0, last = 6;
    while (last > 0 && last > e && dig[last] == '0')
        last--; /* trailing zeros after the point */
    if (v < 0)
        out[o++] = '-';
    if (e < 0) {
        out[o++] = '0';
        out[o++] = '.';
        for (int k = -1; k > e; k--)
            out[o++] = '0';
        for (int k = 0; k <= last; k++)
            out[o++] = dig[k];
    } else {
        for (int k = 0; k <= e; k++)
            out[o++] = dig[k];
        out[o++] = '.';
        if (last <= e)
            out[o++] = '0';
        for (int k = e + 1; k <= last; k++)
            out[o++] = dig[k];
    }
    return o;
}

void tl__jw_float(tl_jw *w, float v)
{
    if (!isfinite(v)) {
        put(w, "null", 4);
        return;
    }
    char buf[32];
    double a = fabs((double)v);
    int n = a >= 1e-4 && a < 1e7 ? seven_digits((double)v, buf) : -1;
    if (n < 0) {
        n = snprintf(buf, sizeof(buf), "%.7g", (double)v);
        /* "%g" writes an integral value without a point ("3"); jansson writes reals with one */
        if (!strpbrk(buf, ".e"))
            n += snprintf(buf + n, sizeof(buf) - (size_t)n, ".0");
    }
    put(w, buf, (size_t)n);
}

void tl__jw_items(tl_jw *w, const tl_rec_item *items, int n)
{
    tl__jw_raw(w, "[");
    for (int k = 0; k < n; k++) {
        const tl_rec_item *it = &items[k];
        tl__jw_raw(w, k ? ",{\"item\":" : "{\"item\":");
        tl__jw_str(w, it->item);
        tl__jw_raw(w, ",\"title\":");
        tl__jw_str(w, it->title);
        tl__jw_raw(w, ",\"score\":");
        tl__jw_float(w, it->score);
        tl__jw_raw(w, ",\"reason\":");
        tl__jw_str(w, it->reason);
        tl__jw_raw(w, ",\"kind\":");
        tl__jw_str(w, it->kind);
        tl__jw_raw(w, ",\"evidence\":[");
        for (int e = 0; e < it->n_evidence; e++) {
            tl__jw_raw(w, e ? ",{\"item\":" : "{\"item\":");
            tl__jw_str(w, it->evidence[e].item);
            tl__jw_raw(w, ",\"title\":");
            tl__jw_str(w, it->evidence[e].title);
            tl__jw_raw(w, ",\"weight\":");
            tl__jw_float(w, it->evidence[e].weight);
            tl__jw_raw(w, "}");
        }
        tl__jw_raw(w, "]");
        if (it->availability.known) { /* the copies on the shelf, where the store has holdings */
            char num[64];
            tl__jw_raw(w, ",\"availability\":{\"branch\":");
            tl__jw_str(w, it->availability.branch[0] ? it->availability.branch : NULL);
            snprintf(num, sizeof(num), ",\"on_shelf_here\":%d,\"on_shelf_elsewhere\":%d}",
                     it->availability.on_shelf_here, it->availability.on_shelf_elsewhere);
            tl__jw_raw(w, num);
        }
        tl__jw_raw(w, "}");
    }
    tl__jw_raw(w, "]");
}
