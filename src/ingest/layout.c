/* Circulation layouts: how an ILS exports its loans, returns and renewals (the columns, the
 * delimiter, the date format, the ILS's words for each event), read from a small mapping file
 * or taken from the built-in Koha layouts, which are written in the same format and parsed by
 * the same code. The import engine (import.c) applies them. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ingest/fields.h"
#include "ingest/layout.h"
#include "util/civil.h"

#define FILE_MAX (64 * 1024) /* a mapping file is a few lines */

/* Koha's statistics table (Reports > Statistics, or SELECT * FROM statistics), exported with
 * Koha's default CSV delimiter. One row per transaction; types Koha writes that are not
 * circulation (payment, writeoff...) are ignored. */
static const char koha_statistics[] = "layout = koha-statistics\n"
                                      "delimiter = ;\n"
                                      "user = borrowernumber\n"
                                      "item = biblionumber\n"
                                      "copy = itemnumber\n"
                                      "type = type\n"
                                      "time = datetime\n"
                                      "branch = branch\n"
                                      "date_format = %Y-%m-%d %H:%M:%S\n"
                                      "map.issue = loan\n"
                                      "map.onsite_checkout = loan\n"
                                      "map.return = return\n"
                                      "map.renew = renew\n"
                                      "map.localuse = local_use\n";

/* Koha's issues (current loans) and old_issues (returned loans) tables: one row per loan,
 * its return time when it came back. */
static const char koha_issues[] = "layout = koha-issues\n"
                                  "delimiter = ;\n"
                                  "user = borrowernumber\n"
                                  "item = biblionumber\n"
                                  "copy = itemnumber\n"
                                  "time = issuedate\n"
                                  "returned = returndate\n"
                                  "branch = branchcode\n"
                                  "default_type = loan\n"
                                  "date_format = %Y-%m-%d %H:%M:%S\n";

static const struct {
    const char *name, *text;
} builtins[] = {{"koha-statistics", koha_statistics},
                {"koha-issues", koha_issues},
                {"koha-old_issues", koha_issues},
                {"koha-old-issues", koha_issues}};

const char *const tl_ingest_layout_names[] = {"koha-statistics", "koha-issues", NULL};

static const char *const col_keys[TL_LC_N] = {
    [TL_LC_USER] = "user",     [TL_LC_ITEM] = "item",   [TL_LC_COPY] = "copy",
    [TL_LC_TYPE] = "type",     [TL_LC_TIME] = "time",   [TL_LC_RETURNED] = "returned",
    [TL_LC_BRANCH] = "branch", [TL_LC_VALUE] = "value",
};

static void trim(char **s)
{
    char *p = *s;
    while (isspace((unsigned char)*p))
        p++;
    size_t n = strlen(p);
    while (n && isspace((unsigned char)p[n - 1]))
        p[--n] = '\0';
    *s = p;
}

/* A column list as the engine normalizes header names: "Loan Date, loan-date" ->
 * "loan_date,loan_date". */
static char *norm_cols(const char *v)
{
    char *out = malloc(strlen(v) + 1), *o = out;
    if (!out)
        return NULL;
    for (const char *p = v; *p;) {
        while (*p == ',' || isspace((unsigned char)*p))
            p++;
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        while (n && isspace((unsigned char)p[n - 1]))
            n--;
        if (n) {
            if (o != out)
                *o++ = ',';
            for (size_t i = 0; i < n; i++)
                *o++ = (p[i] == ' ' || p[i] == '-' || p[i] == '.')
                           ? '_'
                           : (char)tolower((unsigned char)p[i]);
        }
        p += n;
        while (*p && *p != ',')
            p++;
    }
    *o = '\0';
    return out;
}

/* An event type as the importer keeps it: lowercase, at most TL_EVENT_TYPE_MAX bytes. */
static int type_word(const char *v, char *out)
{
    size_t n = strlen(v);
    if (!n || n > TL_EVENT_TYPE_MAX)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (isspace((unsigned char)v[i]) || (unsigned char)v[i] < 0x20)
            return -1;
        out[i] = (char)tolower((unsigned char)v[i]);
    }
    out[n] = '\0';
    return 0;
}

static tl_err set_key(tl_ingest_layout *l, const char *key, char *v, const char *origin, long line,
                      tl_diag *d)
{
    for (int c = 0; c < TL_LC_N; c++)
        if (strcmp(key, col_keys[c]) == 0) {
            free(l->cols[c]);
            l->cols[c] = NULL;
            if (!*v)
                return TL_OK; /* "copy =": the layout has no such column */
            if (!(l->cols[c] = norm_cols(v)))
                return TL_ENOMEM;
            return TL_OK;
        }
    if (strcmp(key, "layout") == 0 || strcmp(key, "name") == 0) {
        snprintf(l->name, sizeof(l->name), "%s", v);
    } else if (strcmp(key, "delimiter") == 0) {
        if (strcasecmp(v, "tab") == 0 || strcmp(v, "\\t") == 0)
            l->delim = '\t';
        else if (strcasecmp(v, "comma") == 0)
            l->delim = ',';
        else if (strcasecmp(v, "semicolon") == 0)
            l->delim = ';';
        else if (strlen(v) == 1 && *v != '"' && *v != '\n' && *v != '\r')
            l->delim = *v;
        else
            goto bad;
    } else if (strcmp(key, "quoting") == 0) {
        if (strcasecmp(v, "yes") == 0 || strcmp(v, "1") == 0)
            l->quoting = 1;
        else if (strcasecmp(v, "no") == 0 || strcmp(v, "0") == 0)
            l->quoting = 0;
        else
            goto bad;
    } else if (strcmp(key, "default_type") == 0) {
        if (type_word(v, l->default_type) < 0)
            goto bad;
    } else if (strcmp(key, "date_format") == 0) {
        int64_t t;
        if (strlen(v) >= sizeof(l->date_format) ||
            (strcasecmp(v, "iso") != 0 && tl_parse_time_format(v, "", 0, &t) == -2))
            goto bad;
        snprintf(l->date_format, sizeof(l->date_format), "%s", v);
    } else if (strncmp(key, "map.", 4) == 0) {
        if (l->nmap == TL_LAYOUT_MAP_MAX) {
            tl_diag_set(d, origin, line, key, "more than %d type mappings", TL_LAYOUT_MAP_MAX);
            return TL_EPARSE;
        }
        char from[TL_EVENT_TYPE_MAX + 1], to[TL_EVENT_TYPE_MAX + 1];
        if (type_word(key + 4, from) < 0 || type_word(v, to) < 0)
            goto bad;
        int at = l->nmap;
        for (int i = 0; i < l->nmap; i++)
            if (strcmp(l->map[i].from, from) == 0)
                at = i; /* a later line wins */
        memcpy(l->map[at].from, from, sizeof(from));
        snprintf(l->map[at].to, sizeof(l->map[at].to), "%s", strcmp(to, "ignore") == 0 ? "" : to);
        l->nmap += at == l->nmap;
    } else {
        tl_diag_set(d, origin, line, key,
                    "unknown key (known: layout, delimiter, quoting, user, item, copy, type, "
                    "time, returned, branch, value, default_type, date_format, map.TYPE)");
        return TL_EPARSE;
    }
    return TL_OK;
bad:
    tl_diag_set(d, origin, line, key, "bad value '%.80s'", v);
    return TL_EPARSE;
}

tl_err tl_ingest_layout_parse(const char *text, size_t len, const char *origin,
                              tl_ingest_layout **out, tl_diag *d)
{
    *out = NULL;
    tl_ingest_layout *l = calloc(1, sizeof(*l));
    char *buf = malloc(len + 1);
    tl_err rc = TL_ENOMEM;
    if (!l || !buf)
        goto fail;
    memcpy(buf, text, len);
    buf[len] = '\0';
    l->delim = ';';
    l->quoting = 1;
    snprintf(l->date_format, sizeof(l->date_format), "iso");
    long line = 0;
    for (char *p = buf, *next; p; p = next) {
        line++;
        next = strpbrk(p, "\r\n");
        if (next) {
            if (*next == '\r' && next[1] == '\n')
                *next++ = '\0';
            *next++ = '\0';
        }
        char *s = p;
        trim(&s);
        if (!*s || *s == '#')
            continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            tl_diag_set(d, origin, line, NULL, "expected KEY = VALUE");
            rc = TL_EPARSE;
            goto fail;
        }
        *eq = '\0';
        char *key = s, *v = eq + 1;
        trim(&key);
        trim(&v);
        /* a comment after the value: "user = usr   # the patron" */
        char *hash = strstr(v, " #");
        if (hash) {
            *hash = '\0';
            trim(&v);
        }
        for (char *k = key; *k; k++)
            *k = (char)tolower((unsigned char)*k);
        if ((rc = set_key(l, key, v, origin, line, d)) != TL_OK)
            goto fail;
    }
    if (!l->cols[TL_LC_USER] || (!l->cols[TL_LC_ITEM] && !l->cols[TL_LC_COPY])) {
        tl_diag_set(d, origin, 0, NULL,
                    "a layout must name the user column and the item or copy column");
        rc = TL_EPARSE;
        goto fail;
    }
    if (!l->name[0])
        snprintf(l->name, sizeof(l->name), "%s", origin ? origin : "layout");
    free(buf);
    *out = l;
    return TL_OK;
fail:
    free(buf);
    tl_ingest_layout_free(l);
    return rc;
}

tl_err tl_ingest_layout_load(const char *name, tl_ingest_layout **out, tl_diag *d)
{
    *out = NULL;
    for (size_t i = 0; i < sizeof(builtins) / sizeof(builtins[0]); i++)
        if (strcasecmp(name, builtins[i].name) == 0)
            return tl_ingest_layout_parse(builtins[i].text, strlen(builtins[i].text),
                                          builtins[i].name, out, d);
    FILE *f = fopen(name, "rb");
    if (!f) {
        int e = errno;
        tl_diag_set(d, name, 0, NULL, "%s layout: %s (built in: koha-statistics, koha-issues)",
                    e == ENOENT ? "no such" : "cannot read the", strerror(e));
        return e == ENOENT ? TL_ENOTFOUND : TL_EIO;
    }
    char *buf = malloc(FILE_MAX + 1);
    size_t n = buf ? fread(buf, 1, FILE_MAX + 1, f) : 0;
    int err = ferror(f);
    fclose(f);
    tl_err rc;
    if (!buf) {
        rc = TL_ENOMEM;
    } else if (err) {
        tl_diag_set(d, name, 0, NULL, "cannot read the layout");
        rc = TL_EIO;
    } else if (n > FILE_MAX || memchr(buf, '\0', n)) {
        tl_diag_set(d, name, 0, NULL, "not a layout file (a text file of at most %d bytes)",
                    FILE_MAX);
        rc = TL_EPARSE;
    } else {
        rc = tl_ingest_layout_parse(buf, n, name, out, d);
    }
    free(buf);
    return rc;
}

const char *tl_ingest_layout_name(const tl_ingest_layout *l)
{
    return l->name;
}

void tl_ingest_layout_set_date_format(tl_ingest_layout *l, const char *fmt)
{
    snprintf(l->date_format, sizeof(l->date_format), "%s", fmt && *fmt ? fmt : "iso");
}

void tl_ingest_layout_free(tl_ingest_layout *l)
{
    if (!l)
        return;
    for (int c = 0; c < TL_LC_N; c++)
        free(l->cols[c]);
    free(l);
}

int tl__layout_type(const tl_ingest_layout *l, const char *from, size_t n, const char **to)
{
    if (!l->nmap)
        return -1;
    while (n && isspace((unsigned char)*from)) {
        from++;
        n--;
    }
    while (n && isspace((unsigned char)from[n - 1]))
        n--;
    for (int i = 0; i < l->nmap; i++)
        if (strlen(l->map[i].from) == n && strncasecmp(l->map[i].from, from, n) == 0) {
            *to = l->map[i].to;
            return *to[0] != '\0';
        }
    return 0;
}

/* Reads 1..max digits at s[*i..n) (exactly max when exact). */
static int digits(const char *s, size_t n, size_t *i, int max, int exact, int *out)
{
    int v = 0, k = 0;
    while (*i < n && k < max && isdigit((unsigned char)s[*i])) {
        v = v * 10 + (s[*i] - '0');
        (*i)++;
        k++;
    }
    if (!k || (exact && k != max))
        return -1;
    *out = v;
    return 0;
}

/* -1: s does not match; -2: fmt itself is bad (an unknown %-code). */
int tl_parse_time_format(const char *fmt, const char *s, size_t n, int64_t *out)
{
    if (!fmt || strcasecmp(fmt, "iso") == 0)
        return tl__parse_time(s, n, out);
    int y = -1, mo = 1, da = 1, h = 0, mi = 0, se = 0;
    size_t i = 0;
    while (i < n && isspace((unsigned char)s[i]))
        i++;
    while (n > i && isspace((unsigned char)s[n - 1]))
        n--;
    int bad = 0;
    for (const char *f = fmt; *f; f++) {
        if (isspace((unsigned char)*f)) {
            if (i == n) {
                /* the rest of the pattern is optional only when it is a time */
                for (const char *r = f; *r; r++)
                    if (*r == '%' && r[1] && !strchr("HMS%", r[1]))
                        return -2;
                break;
            }
            if (!isspace((unsigned char)s[i]))
                bad = 1;
            while (i < n && isspace((unsigned char)s[i]))
                i++;
            continue;
        }
        if (*f != '%') {
            if (i >= n || s[i] != *f)
                bad = 1;
            else
                i++;
            continue;
        }
        f++;
        int v = 0, r;
        switch (*f) {
        case 'Y':
            r = digits(s, n, &i, 4, 1, &y);
            break;
        case 'y':
            r = digits(s, n, &i, 2, 1, &v);
            y = v < 70 ? 2000 + v : 1900 + v;
            break;
        case 'm':
            r = digits(s, n, &i, 2, 0, &mo);
            break;
        case 'd':
            r = digits(s, n, &i, 2, 0, &da);
            break;
        case 'H':
            r = digits(s, n, &i, 2, 0, &h);
            break;
        case 'M':
            r = digits(s, n, &i, 2, 0, &mi);
            break;
        case 'S':
            r = digits(s, n, &i, 2, 0, &se);
            if (r == 0 && i < n && (s[i] == '.' || s[i] == ',')) { /* a fraction: dropped */
                i++;
                while (i < n && isdigit((unsigned char)s[i]))
                    i++;
            }
            break;
        case '%':
            r = i < n && s[i] == '%' ? (i++, 0) : -1;
            break;
        default:
            return -2;
        }
        if (r < 0)
            bad = 1; /* read the pattern to its end all the same: an unknown code is -2 */
    }
    if (bad || i != n || y < 0 || !tl_civil_valid(y, (unsigned)mo, (unsigned)da) || h > 23 ||
        mi > 59 || se > 60)
        return -1;
    *out = tl_civil_days(y, (unsigned)mo, (unsigned)da) * 86400 + h * 3600 + mi * 60 + se;
    return 0;
}
