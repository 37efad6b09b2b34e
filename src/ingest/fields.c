/* Field parsers for the importers. They work on (ptr, len) and never read past len, because
 * JSON values and in-place CSV fields are not always NUL-terminated where the field ends. */
#include "ingest/fields.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tailor/ingest.h"
#include "util/civil.h"

#define NUM_MAX 64 /* longest number we copy to terminate it; longer is not a sane number */

const char *const tl_item_type_names[] = {"book",     "ebook", "article", "journal",
                                          "database", "video", "audio",   "event",
                                          "course",   "other", NULL};

const char *const tl_event_type_names[] = {"loan",  "return", "renew",     "hold",     "view",
                                           "click", "rate",   "review",    "download", "list_add",
                                           "skip",  "dwell",  "local_use", NULL};

static void trim(const char **s, size_t *n)
{
    while (*n && isspace((unsigned char)**s)) {
        (*s)++;
        (*n)--;
    }
    while (*n && isspace((unsigned char)(*s)[*n - 1]))
        (*n)--;
}

/* Copies a trimmed field into buf so that strtod/strtoll see a terminated string. */
static int terminate(const char *s, size_t n, char *buf)
{
    trim(&s, &n);
    if (!n || n >= NUM_MAX)
        return -1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    return 0;
}

int tl__parse_f64(const char *s, size_t n, double *out)
{
    char buf[NUM_MAX], *end;
    if (terminate(s, n, buf) < 0)
        return -1;
    errno = 0;
    double v = strtod(buf, &end);
    /* hex floats, "inf" and "nan" are not data we expect from an export */
    if (*end || end == buf || !isfinite(v) || strpbrk(buf, "xXnN"))
        return -1;
    *out = v;
    return 0;
}

int tl__parse_i64(const char *s, size_t n, int64_t *out)
{
    char buf[NUM_MAX], *end;
    if (terminate(s, n, buf) < 0)
        return -1;
    errno = 0;
    long long v = strtoll(buf, &end, 10);
    if (*end || end == buf || errno)
        return -1;
    *out = v;
    return 0;
}

/* Whether any byte of w is below 0x20 or is 0x7F (the classic "hasless" and "haszero" word
 * tricks: exact about whether such a byte exists, not about where). */
static int word_has_control(uint64_t w)
{
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    uint64_t del = w ^ (ones * 0x7f);
    return (((w - ones * 0x20) & ~w) | ((del - ones) & ~del)) & highs ? 1 : 0;
}

long tl__id_bad_char(const char *s, size_t n)
{
    /* ids are short and clean: test them a word at a time (overlapping loads cover a tail),
     * and look at single bytes only where a word says there is something to find */
    uint64_t w = 0;
    uint32_t a, b;
    if (n >= 8) {
        size_t i = 0;
        for (; i + 8 <= n; i += 8) {
            memcpy(&w, s + i, 8);
            if (word_has_control(w))
                goto slow;
        }
        memcpy(&w, s + n - 8, 8);
    } else if (n >= 4) {
        memcpy(&a, s, 4);
        memcpy(&b, s + n - 4, 4);
        w = (uint64_t)a | (uint64_t)b << 32;
    } else {
        goto slow;
    }
    if (!word_has_control(w))
        return -1;
slow:
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f)
            return (long)i;
    }
    return -1;
}

/* Reads exactly k digits at *p (within end). */
static int digits(const char **p, const char *end, int k, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < k; i++) {
        if (*p >= end || !isdigit((unsigned char)**p))
            return -1;
        v = v * 10 + (unsigned)(**p - '0');
        (*p)++;
    }
    *out = v;
    return 0;
}

static int parse_iso(const char *s, size_t n, int64_t *out)
{
    const char *p = s, *end = s + n;
    unsigned y, mo, d, h = 0, mi = 0, sec = 0;
    if (digits(&p, end, 4, &y) || p >= end || *p++ != '-' || digits(&p, end, 2, &mo) || p >= end ||
        *p++ != '-' || digits(&p, end, 2, &d))
        return -1;
    if (!tl_civil_valid(y, mo, d))
        return -1;
    int64_t off = 0;
    if (p < end) {
        if (*p != 'T' && *p != 't' && *p != ' ')
            return -1;
        p++;
        if (digits(&p, end, 2, &h) || p >= end || *p++ != ':' || digits(&p, end, 2, &mi))
            return -1;
        if (p < end && *p == ':') {
            p++;
            if (digits(&p, end, 2, &sec))
                return -1;
            if (p < end && (*p == '.' || *p == ',')) {
                p++;
                if (p >= end || !isdigit((unsigned char)*p))
                    return -1;
                while (p < end && isdigit((unsigned char)*p))
                    p++; /* fractions of a second are dropped */
            }
        }
        if (h > 23 || mi > 59 || sec > 60)
            return -1;
        if (p < end && (*p == 'Z' || *p == 'z')) {
            p++;
        } else if (p < end && (*p == '+' || *p == '-')) {
            int sign = *p++ == '-' ? -1 : 1;
            unsigned oh, om = 0;
            if (digits(&p, end, 2, &oh))
                return -1;
            if (p < end && *p == ':')
                p++;
            if (p < end && digits(&p, end, 2, &om))
                return -1;
            if (oh > 23 || om > 59)
                return -1;
            off = sign * (int64_t)(oh * 3600 + om * 60);
        }
        if (p != end)
            return -1;
    }
    *out = tl_civil_days(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - off;
    return 0;
}

int tl__parse_time(const char *s, size_t n, int64_t *out)
{
    trim(&s, &n);
    if (!n)
        return -1;
    if (n >= 10 && s[4] == '-')
        return parse_iso(s, n, out);
    int64_t v;
    if (tl__parse_i64(s, n, &v) == 0) {
        *out = v;
        return 0;
    }
    double f;
    if (tl__parse_f64(s, n, &f) < 0 || f < -9.2e18 || f > 9.2e18)
        return -1;
    *out = (int64_t)f;
    return 0;
}

int tl__parse_year(const char *s, size_t n, int64_t *out)
{
    double f;
    if (tl__parse_f64(s, n, &f) < 0 || f != floor(f) || f < -9999 || f > 9999)
        return -1;
    *out = (int64_t)f;
    return 0;
}

int tl__parse_bool(const char *s, size_t n, int *out)
{
    static const char *const yes[] = {"1", "true", "yes", "y", "on", "t"};
    static const char *const no[] = {"0", "false", "no", "n", "off", "f"};
    trim(&s, &n);
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (strlen(yes[i]) == n && strncasecmp(s, yes[i], n) == 0) {
            *out = 1;
            return 0;
        }
        if (strlen(no[i]) == n && strncasecmp(s, no[i], n) == 0) {
            *out = 0;
            return 0;
        }
    }
    return -1;
}

const char *tl__item_type(const char *s, size_t n)
{
    static const struct {
        const char *name, *type;
    } syn[] = {
        {"e-book", "ebook"},
        {"e_book", "ebook"},
        {"electronic book", "ebook"},
        {"monograph", "book"},
        {"print book", "book"},
        {"text", "book"},
        {"paper", "article"},
        {"journal article", "article"},
        {"periodical", "journal"},
        {"serial", "journal"},
        {"magazine", "journal"},
        {"dvd", "video"},
        {"film", "video"},
        {"movie", "video"},
        {"blu-ray", "video"},
        {"audiobook", "audio"},
        {"cd", "audio"},
        {"music", "audio"},
        {"podcast", "audio"},
        {"programme", "event"},
        {"program", "event"},
        {"class", "course"},
        {"workshop", "course"},
        {"e-resource", "database"},
    };
    trim(&s, &n);
    for (int i = 0; tl_item_type_names[i]; i++)
        if (strlen(tl_item_type_names[i]) == n && strncasecmp(s, tl_item_type_names[i], n) == 0)
            return tl_item_type_names[i];
    for (size_t i = 0; i < sizeof(syn) / sizeof(syn[0]); i++)
        if (strlen(syn[i].name) == n && strncasecmp(s, syn[i].name, n) == 0)
            return syn[i].type;
    return NULL;
}

int tl_parse_time(const char *s, size_t n, int64_t *out)
{
    return tl__parse_time(s, n, out);
}
