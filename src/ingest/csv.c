/* CSV/TSV records on top of util/lines: a line without quotes is split in place (the common,
 * fast case); a line with quotes goes through a small RFC 4180 state machine that copies the
 * unescaped fields into a record buffer and pulls more lines (or pieces of an over-long line)
 * while a quoted field is open. A record that breaks a rule is still read to its real end, so
 * that the next call starts at the next record and never inside a quoted field. */
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
    int quoting, raw, lf_only;
    size_t max_field;
    char **fields;
    size_t *lens;
    size_t *starts; /* field offsets into rec (quoted path) */
    int fcap;
    char *rec; /* unescaped fields, each NUL-terminated (quoted path) */
    size_t rec_len, rec_cap;
    long phys;     /* physical lines begun */
    long rec_line; /* first line of the last record (or where its unclosed quote opened) */
    int started;   /* the first line (and its byte-order mark) has been seen */
    tl_err dead;   /* a final error (read error, damaged gzip, no memory): nothing more comes */
    char dead_msg[160];
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
    r->raw = o ? o->raw : 0;
    r->lf_only = o ? o->lf_only : 0;
    r->max_field = r->raw ? SIZE_MAX : o && o->max_field ? o->max_field : TL_CSV_MAX_FIELD;
    snprintf(r->path, sizeof(r->path), "%s", path);
    r->bad_field = -1;
    rc = tl_lines_open_flags(&r->lr, path, r->lf_only ? TL_LINES_LF_ONLY : 0);
    if (rc != TL_OK) {
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

/* Records the rejection of the current record (at r->rec_line) and returns -TL_EPARSE. */
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
    return -TL_EPARSE;
}

/* The final error of a dead reader, again on every call. */
static int dead(tl_csv *r, tl_diag *d)
{
    r->reason = TL_CSV_READ_ERROR;
    r->bad_field = -1;
    tl_diag_set(d, r->path, r->phys + (r->lr.in_long ? 0 : 1), NULL, "%s", r->dead_msg);
    return -(int)r->dead;
}

/* Makes r dead with rc and why; returns the error. */
static int die(tl_csv *r, tl_diag *d, tl_err rc, const char *why)
{
    r->dead = rc;
    snprintf(r->dead_msg, sizeof(r->dead_msg), "%s", why);
    return dead(r, d);
}

_Static_assert(TL_CSV_MAX_FIELDS >= 16 && (TL_CSV_MAX_FIELDS & (TL_CSV_MAX_FIELDS - 1)) == 0,
               "the field table doubles from 16 up to exactly TL_CSV_MAX_FIELDS");

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

/* Reads one physical line, or one piece of a line over TL_LINE_MAX (*more = 1): 1, 0 at the
 * end of the file, or a final error (reported). */
static int read_piece(tl_csv *r, char **line, size_t *len, int *more, tl_diag *d)
{
    int cont = r->lr.in_long;
    int got = tl_lines_next_piece(&r->lr, line, len, more);
    if (got < 0)
        return die(r, d, (tl_err)-got, tl_lines_error(&r->lr));
    if (got == 0)
        return 0;
    if (!cont)
        r->phys++;
    if (!r->started) {
        r->started = 1;
        if (!r->lf_only && *len >= 3 && memcmp(*line, "\xEF\xBB\xBF", 3) == 0) {
            *line += 3;
            *len -= 3;
        }
    }
    if (r->lf_only && !*more) { /* rstrip(b"\r\n"): tl_lines took the LF and one CR */
        while (*len && (*line)[*len - 1] == '\r')
            (*line)[--*len] = '\0';
    }
    return 1;
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
        if (n == r->fcap) { /* fcap doubles from 16 and stops at TL_CSV_MAX_FIELDS */
            if (n == TL_CSV_MAX_FIELDS)
                return fail(r, d, TL_CSV_TOO_LONG, -1, "more than 4096 fields");
            if (ensure_fields(r, n + 1) < 0)
                return die(r, d, TL_ENOMEM, "out of memory");
        }
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

/* A line over TL_LINE_MAX without quoting: its pieces are dropped. */
static int skip_long_line(tl_csv *r, tl_diag *d)
{
    char *p;
    size_t n;
    int more = 1;
    while (more) {
        int got = read_piece(r, &p, &n, &more, d);
        if (got < 0)
            return got;
        if (got == 0)
            break;
    }
    return fail(r, d, TL_CSV_TOO_LONG, -1, "line longer than 1 MiB");
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

/* The state of one quoted record while it is parsed. */
typedef struct qrec {
    int nf;        /* fields ended so far (at most TL_CSV_MAX_FIELDS + 1) */
    int in_q;      /* inside a quoted field */
    int q_pending; /* a quote inside quotes: the next byte tells doubled from closing */
    int after_q;   /* the current field's closing quote was seen */
    int quoted;    /* the current field began with a quote */
    long q_line;   /* the line where the open quote opened */
    size_t fbytes; /* bytes of the current field, stored or not */
    size_t fstart; /* where the current field starts in rec */
    size_t raw;    /* bytes of the record so far */
    int overflow;  /* the field where the record passed TL_CSV_MAX_RECORD, or -1 */
    int too_long;  /* the first field over max_field, or -1 */
    int bad_quote; /* the first field with a character after its closing quote, or -1 */
} qrec;

/* Keeps one byte of the current field, unless a limit says to only count it. */
static int q_store(tl_csv *r, qrec *q, char c)
{
    if (++q->fbytes > r->max_field && q->too_long < 0)
        q->too_long = q->nf;
    if (q->overflow >= 0 || q->fbytes > r->max_field)
        return 0;
    return rec_put(r, c);
}

static int q_end_field(tl_csv *r, qrec *q)
{
    if (q->nf < TL_CSV_MAX_FIELDS && q->overflow < 0) {
        if (ensure_fields(r, q->nf + 1) < 0 || rec_put(r, '\0') < 0)
            return -1;
        r->starts[q->nf] = q->fstart;
        r->lens[q->nf] = r->rec_len - 1 - q->fstart;
        q->fstart = r->rec_len;
    }
    if (q->nf <= TL_CSV_MAX_FIELDS)
        q->nf++;
    q->fbytes = 0;
    q->after_q = q->quoted = 0;
    return 0;
}

/* Runs the RFC 4180 state machine over one line or piece. */
static int q_feed(tl_csv *r, qrec *q, const char *line, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char c = line[i];
        if (q->q_pending) {
            q->q_pending = 0;
            if (c == '"') { /* "" inside quotes is one quote */
                if (q_store(r, q, c) < 0)
                    return -1;
                continue;
            }
            q->in_q = 0;
            q->after_q = 1;
        }
        if (q->in_q) {
            if (c == '"')
                q->q_pending = 1;
            else if (q_store(r, q, c) < 0)
                return -1;
        } else if (c == r->delim) {
            if (q_end_field(r, q) < 0)
                return -1;
        } else if (q->after_q) {
            if (q->bad_quote < 0)
                q->bad_quote = q->nf;
        } else if (c == '"' && !q->quoted && q->fbytes == 0) {
            q->in_q = q->quoted = 1;
            q->q_line = r->phys;
        } else if (q_store(r, q, c) < 0) {
            return -1;
        }
    }
    return 0;
}

/* The RFC 4180 path: parses the record that starts with line (a piece of a long line when
 * more), pulling lines while a quoted field is open, always to the record's real end. Past
 * TL_CSV_MAX_RECORD bytes nothing more is stored: memory stays bounded. */
static int split_quoted(tl_csv *r, char *line, size_t len, int more, tl_diag *d)
{
    qrec q = {.overflow = -1, .too_long = -1, .bad_quote = -1};
    char msg[128];
    r->rec_len = 0;
    for (;;) {
        q.raw += len + !more;
        if (q.raw > TL_CSV_MAX_RECORD && q.overflow < 0)
            q.overflow = q.nf;
        if (q_feed(r, &q, line, len) < 0)
            return die(r, d, TL_ENOMEM, "out of memory");
        if (!more) {
            if (q.q_pending) { /* the quote that ends the line closes the field */
                q.q_pending = q.in_q = 0;
                q.after_q = 1;
            }
            if (!q.in_q)
                break;
            if (q_store(r, &q, '\n') < 0)
                return die(r, d, TL_ENOMEM, "out of memory");
        }
        int got = read_piece(r, &line, &len, &more, d);
        if (got < 0)
            return got;
        if (got == 0) {
            snprintf(msg, sizeof(msg), "the quote opened on line %ld is never closed", q.q_line);
            r->rec_line = q.q_line;
            return fail(r, d, TL_CSV_BAD_QUOTE, q.nf, msg);
        }
    }
    if (q_end_field(r, &q) < 0)
        return die(r, d, TL_ENOMEM, "out of memory");
    if (q.nf > TL_CSV_MAX_FIELDS)
        return fail(r, d, TL_CSV_TOO_LONG, -1, "more than 4096 fields");
    if (q.overflow >= 0) {
        snprintf(msg, sizeof(msg), "record longer than 1 MiB (lines %ld to %ld)", r->rec_line,
                 r->phys);
        return fail(r, d, TL_CSV_TOO_LONG, q.overflow, msg);
    }
    if (q.too_long >= 0) {
        snprintf(msg, sizeof(msg), "field exceeds the limit of %zu bytes", r->max_field);
        return fail(r, d, TL_CSV_TOO_LONG, q.too_long, msg);
    }
    if (q.bad_quote >= 0)
        return fail(r, d, TL_CSV_BAD_QUOTE, q.bad_quote, "character after a closing quote");
    for (int k = 0; k < q.nf; k++)
        r->fields[k] = r->rec + r->starts[k];
    return q.nf;
}

int tl_csv_next(tl_csv *r, char ***fields, size_t **lens, int *nfields, tl_diag *d)
{
    char *line;
    size_t len;
    int more;
    r->reason = TL_CSV_OK;
    r->bad_field = -1;
    if (r->dead)
        return dead(r, d);
    for (;;) {
        int got = read_piece(r, &line, &len, &more, d);
        if (got <= 0)
            return got;
        r->rec_line = r->phys;
        if (len || more)
            break;
    }
    int nf;
    if (r->quoting && (more || memchr(line, '"', len)))
        nf = split_quoted(r, line, len, more, d);
    else if (more)
        nf = skip_long_line(r, d);
    else
        nf = split_plain(r, line, len, d);
    if (nf < 0)
        return nf;
    if (!r->raw) {
        int ok = validate(r, nf, d);
        if (ok < 0)
            return ok;
    }
    *fields = r->fields;
    *lens = r->lens;
    *nfields = nf;
    return 1;
}
