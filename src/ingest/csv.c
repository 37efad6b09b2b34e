/* CSV/TSV records on top of util/lines: a line without quotes is split in place (the common,
 * fast case); a line with quotes goes through a small RFC 4180 state machine that copies the
 * unescaped fields into a record buffer and pulls more lines while a quoted field is open. */
#include "ingest/csv.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/lines.h"

struct tl_csv {
    tl_lines lr;
    char delim;
    int quoting;
    size_t max_field;
    char **fields;
    size_t *lens;
    size_t *starts; /* field offsets into rec (quoted path) */
    int fcap;
    char *rec; /* unescaped fields, each NUL-terminated (quoted path) */
    size_t rec_len, rec_cap;
    long phys;     /* physical lines consumed (util/lines does not count over-long ones) */
    long rec_line; /* first line of the last record */
    int started;   /* the first line (and its byte-order mark) has been seen */
    int in_rec;    /* reading the continuation lines of a quoted record */
    int dead;      /* a read error: nothing more can come */
    char **names;
    int nnames;
    tl_csv_reason reason;
    int bad_field;
    char path[256];
};

long tl_utf8_check(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < n) {
        /* ASCII runs dominate real data: test eight bytes at a time. */
        if (i + 8 <= n) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            /* no high bit set and no zero byte (the classic haszero trick) */
            if (!(w & 0x8080808080808080ULL) &&
                !((w - 0x0101010101010101ULL) & ~w & 0x8080808080808080ULL)) {
                i += 8;
                continue;
            }
        }
        unsigned c = s[i];
        if (c == 0)
            return (long)i;
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t need;
        unsigned lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
        if (c >= 0xC2 && c <= 0xDF) {
            need = 1;
        } else if (c >= 0xE0 && c <= 0xEF) {
            need = 2;
            if (c == 0xE0)
                lo = 0xA0; /* overlong */
            else if (c == 0xED)
                hi = 0x9F; /* surrogates */
        } else if (c >= 0xF0 && c <= 0xF4) {
            need = 3;
            if (c == 0xF0)
                lo = 0x90; /* overlong */
            else if (c == 0xF4)
                hi = 0x8F; /* above U+10FFFF */
        } else {
            return (long)i;
        }
        if (i + need >= n)
            return (long)i; /* truncated sequence */
        if (s[i + 1] < lo || s[i + 1] > hi)
            return (long)i;
        for (size_t k = 2; k <= need; k++)
            if ((s[i + k] & 0xC0) != 0x80)
                return (long)i;
        i += need + 1;
    }
    return -1;
}

tl_err tl_csv_open(const char *path, const tl_csv_opts *o, tl_csv **out, tl_diag *d)
{
    tl_err rc = TL_ENOMEM;
    tl_csv *r = calloc(1, sizeof(*r));
    if (!r)
        goto out;
    r->delim = o ? o->delim : '\t';
    r->quoting = o ? o->quoting : 0;
    r->max_field = o && o->max_field ? o->max_field : TL_CSV_MAX_FIELD;
    snprintf(r->path, sizeof(r->path), "%s", path);
    r->bad_field = -1;
    if ((rc = tl_lines_open(&r->lr, path)) != TL_OK) {
        tl_diag_set(d, path, 0, NULL, "cannot open: %s",
                    rc == TL_EIO ? strerror(errno) : tl_strerror(rc));
        free(r);
        r = NULL;
        goto out;
    }
    *out = r;
    r = NULL;
out:
    tl_csv_close(r);
    return rc;
}

void tl_csv_close(tl_csv *r)
{
    if (!r)
        return;
    tl_lines_close(&r->lr);
    for (int i = 0; i < r->nnames; i++)
        free(r->names[i]);
    free(r->names);
    free(r->fields);
    free(r->lens);
    free(r->starts);
    free(r->rec);
    free(r);
}

tl_err tl_csv_set_names(tl_csv *r, char *const *names, int n)
{
    char **nn = calloc(n > 0 ? (size_t)n : 1, sizeof(*nn));
    if (!nn)
        return TL_ENOMEM;
    for (int i = 0; i < n; i++) {
        if (!(nn[i] = strdup(names[i]))) {
            for (int k = 0; k < i; k++)
                free(nn[k]);
            free(nn);
            return TL_ENOMEM;
        }
    }
    for (int i = 0; i < r->nnames; i++)
        free(r->names[i]);
    free(r->names);
    r->names = nn;
    r->nnames = n;
    return TL_OK;
}

long tl_csv_line(const tl_csv *r)
{
    return r->rec_line;
}

long long tl_csv_offset(const tl_csv *r)
{
    return tl_lines_offset(&r->lr);
}

tl_csv_reason tl__csv_reason(const tl_csv *r)
{
    return r->reason;
}

int tl__csv_bad_field(const tl_csv *r)
{
    return r->bad_field;
}

/* Records the rejection of the current record and returns -TL_EPARSE (or -TL_EIO). */
static int fail(tl_csv *r, tl_diag *d, tl_csv_reason why, int field, const char *msg)
{
    char fname[32];
    const char *fld = NULL;
    r->reason = why;
    r->bad_field = field;
    if (field >= 0) {
        if (field < r->nnames) {
            fld = r->names[field];
        } else {
            snprintf(fname, sizeof(fname), "#%d", field + 1);
            fld = fname;
        }
    }
    tl_diag_set(d, r->path, r->rec_line, fld, "%s", msg);
    return why == TL_CSV_READ_ERROR ? -TL_EIO : -TL_EPARSE;
}

static int ensure_fields(tl_csv *r, int n)
{
    if (n <= r->fcap)
        return 0;
    int cap = r->fcap ? r->fcap : 16;
    while (cap < n)
        cap *= 2;
    char **f = realloc(r->fields, (size_t)cap * sizeof(*f));
    if (!f)
        return -1;
    r->fields = f;
    size_t *l = realloc(r->lens, (size_t)cap * sizeof(*l));
    if (!l)
        return -1;
    r->lens = l;
    size_t *s = realloc(r->starts, (size_t)cap * sizeof(*s));
    if (!s)
        return -1;
    r->starts = s;
    r->fcap = cap;
    return 0;
}

/* Reads one physical line: 1, 0 at EOF, or a negative code already reported through fail(). */
static int read_line(tl_csv *r, char **line, size_t *len, tl_diag *d)
{
    int got = tl_lines_next(&r->lr, line, len);
    if (got == 1) {
        r->phys++;
        if (!r->started) {
            r->started = 1;
            if (*len >= 3 && memcmp(*line, "\xEF\xBB\xBF", 3) == 0) {
                *line += 3;
                *len -= 3;
            }
        }
        return 1;
    }
    if (got == 0)
        return 0;
    if (got == -TL_EPARSE) {
        r->phys++;
        r->started = 1;
        if (!r->in_rec)
            r->rec_line = r->phys;
        return fail(r, d, TL_CSV_TOO_LONG, -1, "line longer than 1 MiB");
    }
    r->dead = 1;
    return fail(r, d, TL_CSV_READ_ERROR, -1, "read error (damaged or truncated file?)");
}

/* Checks sizes and encoding of the fields of a parsed record. */
static int validate(tl_csv *r, int nf, tl_diag *d)
{
    char msg[96];
    for (int k = 0; k < nf; k++) {
        if (r->lens[k] > r->max_field) {
            snprintf(msg, sizeof(msg), "field of %zu bytes exceeds the limit of %zu", r->lens[k],
                     r->max_field);
            return fail(r, d, TL_CSV_TOO_LONG, k, msg);
        }
        long bad = tl_utf8_check(r->fields[k], r->lens[k]);
        if (bad >= 0) {
            unsigned char b = (unsigned char)r->fields[k][bad];
            if (b)
                snprintf(msg, sizeof(msg), "invalid UTF-8 (byte 0x%02X at offset %ld)", b, bad);
            else
                snprintf(msg, sizeof(msg), "NUL byte at offset %ld", bad);
            return fail(r, d, TL_CSV_BAD_UTF8, k, msg);
        }
    }
    return 1;
}

/* Splits a line without quotes in place. */
static int split_plain(tl_csv *r, char *line, size_t len, tl_diag *d)
{
    int n = 0;
    char *p = line, *end = line + len;
    for (;;) {
        if (n == TL_CSV_MAX_FIELDS)
            return fail(r, d, TL_CSV_TOO_LONG, -1, "more than 4096 fields");
        if (n == r->fcap && ensure_fields(r, n + 1) < 0)
            return -TL_ENOMEM;
        char *sep = memchr(p, r->delim, (size_t)(end - p));
        r->fields[n] = p;
        r->lens[n] = sep ? (size_t)(sep - p) : (size_t)(end - p);
        n++;
        if (!sep)
            break;
        *sep = '\0';
        p = sep + 1;
    }
    return n;
}

static int rec_put(tl_csv *r, char c)
{
    if (r->rec_len == r->rec_cap) {
        size_t cap = r->rec_cap ? r->rec_cap * 2 : 4096;
        char *nb = realloc(r->rec, cap);
        if (!nb)
            return -1;
        r->rec = nb;
        r->rec_cap = cap;
    }
    r->rec[r->rec_len++] = c;
    return 0;
}

/* The RFC 4180 path: parses line (and, while a quoted field is open, the lines after it). */
static int split_quoted(tl_csv *r, char *line, size_t len, tl_diag *d)
{
    int nf = 0, in_q = 0, after_q = 0, quoted = 0, bad_quote = -1, too_long = -1;
    size_t raw = 0, fstart = 0;
    r->rec_len = 0;
    for (;;) {
        raw += len + 1;
        if (raw > TL_CSV_MAX_RECORD)
            return fail(r, d, TL_CSV_TOO_LONG, nf, "record longer than 1 MiB");
        for (size_t i = 0; i < len; i++) {
            char c = line[i];
            if (in_q) {
                if (c == '"') {
                    if (i + 1 < len && line[i + 1] == '"') {
                        i++;
                    } else {
                        in_q = 0;
                        after_q = 1;
                        continue;
                    }
                }
            } else if (c == r->delim) {
                if (nf == TL_CSV_MAX_FIELDS)
                    return fail(r, d, TL_CSV_TOO_LONG, -1, "more than 4096 fields");
                if (ensure_fields(r, nf + 1) < 0 || rec_put(r, '\0') < 0)
                    return -TL_ENOMEM;
                r->starts[nf] = fstart;
                r->lens[nf++] = r->rec_len - 1 - fstart;
                fstart = r->rec_len;
                after_q = quoted = 0;
                continue;
            } else if (after_q) {
                if (bad_quote < 0)
                    bad_quote = nf;
                continue;
            } else if (c == '"' && !quoted && r->rec_len == fstart) {
                in_q = quoted = 1;
                continue;
            }
            if (r->rec_len - fstart >= r->max_field) {
                /* keep consuming the record, but stop storing: memory stays bounded */
                if (too_long < 0)
                    too_long = nf;
                continue;
            }
            if (rec_put(r, c) < 0)
                return -TL_ENOMEM;
        }
        if (!in_q)
            break;
        if (r->rec_len - fstart < r->max_field && rec_put(r, '\n') < 0)
            return -TL_ENOMEM;
        r->in_rec = 1;
        int got = read_line(r, &line, &len, d);
        if (got == 0)
            return fail(r, d, TL_CSV_BAD_QUOTE, nf, "quoted field never closed");
        if (got < 0)
            return got;
    }
    if (nf == TL_CSV_MAX_FIELDS)
        return fail(r, d, TL_CSV_TOO_LONG, -1, "more than 4096 fields");
    if (ensure_fields(r, nf + 1) < 0 || rec_put(r, '\0') < 0)
        return -TL_ENOMEM;
    r->starts[nf] = fstart;
    r->lens[nf++] = r->rec_len - 1 - fstart;
    if (too_long >= 0) {
        char msg[96];
        snprintf(msg, sizeof(msg), "field exceeds the limit of %zu bytes", r->max_field);
        return fail(r, d, TL_CSV_TOO_LONG, too_long, msg);
    }
    if (bad_quote >= 0)
        return fail(r, d, TL_CSV_BAD_QUOTE, bad_quote, "character after a closing quote");
    for (int k = 0; k < nf; k++)
        r->fields[k] = r->rec + r->starts[k];
    return nf;
}

int tl_csv_next(tl_csv *r, char ***fields, size_t **lens, int *nfields, tl_diag *d)
{
    char *line;
    size_t len;
    r->reason = TL_CSV_OK;
    r->bad_field = -1;
    r->in_rec = 0;
    if (r->dead)
        return fail(r, d, TL_CSV_READ_ERROR, -1, "read error (damaged or truncated file?)");
    for (;;) {
        int got = read_line(r, &line, &len, d);
        if (got <= 0)
            return got;
        r->rec_line = r->phys;
        if (len)
            break;
    }
    int nf;
    if (r->quoting && memchr(line, '"', len))
        nf = split_quoted(r, line, len, d);
    else
        nf = split_plain(r, line, len, d);
    if (nf < 0) {
        if (nf == -TL_ENOMEM)
            tl_diag_set(d, r->path, r->rec_line, NULL, "out of memory");
        return nf;
    }
    int ok = validate(r, nf, d);
    if (ok < 0)
        return ok;
    *fields = r->fields;
    *lens = r->lens;
    *nfields = nf;
    return 1;
}
