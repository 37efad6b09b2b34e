/* TSV -> matrices in one streaming pass: split on tabs in place, intern ids, push COO. */
#include "ingest/matrix_tsv.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/lines.h"

#define MAX_COLS 64

void tl_tsv_opts_init(tl_tsv_opts *o)
{
    o->weighting = TL_WEIGHT_ONE;
    o->min_value = -INFINITY;
    o->dup = TL_DUP_MAX;
}

/* Splits line in place on tabs; returns the field count (at most max). */
static int split_tabs(char *line, size_t len, char **f, size_t *flen, int max)
{
    int n = 0;
    char *p = line, *end = line + len;
    for (;;) {
        char *tab = memchr(p, '\t', (size_t)(end - p));
        if (n == max)
            return max + 1;
        f[n] = p;
        flen[n] = tab ? (size_t)(tab - p) : (size_t)(end - p);
        n++;
        if (!tab)
            return n;
        *tab = '\0';
        p = tab + 1;
    }
}

static int col_of(char **f, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcmp(f[i], name) == 0)
            return i;
    return -1;
}

tl_err tl_data_load_tsv(tl_data *d, const char *path, const tl_tsv_opts *o, tl_diag *diag)
{
    tl_lines lr;
    tl_coo coo = {0};
    tl_err rc = tl_lines_open(&lr, path);
    if (rc != TL_OK) {
        tl_diag_set(diag, path, 0, NULL, "cannot open: %s", strerror(errno));
        return rc;
    }
    char *line, *f[MAX_COLS + 1];
    size_t len, flen[MAX_COLS + 1];
    int got = tl_lines_next(&lr, &line, &len);
    if (got != 1) {
        tl_diag_set(diag, path, 1, NULL, "missing header line");
        rc = got < 0 ? (tl_err)-got : TL_EPARSE;
        goto out;
    }
    int ncols = split_tabs(line, len, f, flen, MAX_COLS);
    int cu = col_of(f, ncols, "user"), ci = col_of(f, ncols, "item");
    int cv = col_of(f, ncols, "value"), ct = col_of(f, ncols, "timestamp");
    if (cu < 0 || ci < 0) {
        tl_diag_set(diag, path, 1, NULL, "header must name the columns 'user' and 'item'");
        rc = TL_EPARSE;
        goto out;
    }
    if ((rc = tl_coo_init(&coo, 1 << 16, ct >= 0)) != TL_OK)
        goto out;
    while ((got = tl_lines_next(&lr, &line, &len)) == 1) {
        if (!len)
            continue;
        int n = split_tabs(line, len, f, flen, MAX_COLS);
        if (n != ncols) {
            tl_diag_set(diag, path, lr.lineno, NULL, "expected %d fields, found %d", ncols, n);
            rc = TL_EPARSE;
            goto out;
        }
        if (!flen[cu] || !flen[ci]) {
            tl_diag_set(diag, path, lr.lineno, flen[cu] ? "item" : "user", "empty id");
            rc = TL_EPARSE;
            goto out;
        }
        double v = 1.0;
        if (cv >= 0) {
            char *end;
            v = strtod(f[cv], &end);
            if (!flen[cv] || *end || !isfinite(v)) {
                tl_diag_set(diag, path, lr.lineno, "value", "'%s' is not a number", f[cv]);
                rc = TL_EPARSE;
                goto out;
            }
            if (v < o->min_value)
                continue;
        }
        int64_t ts = 0;
        if (ct >= 0 && flen[ct]) {
            char *end;
            errno = 0;
            ts = strtoll(f[ct], &end, 10);
            if (*end || errno) {
                tl_diag_set(diag, path, lr.lineno, "timestamp", "'%s' is not an integer", f[ct]);
                rc = TL_EPARSE;
                goto out;
            }
        }
        int32_t u, i;
        if ((rc = tl_intern_add(&d->users, f[cu], flen[cu], &u)) != TL_OK ||
            (rc = tl_intern_add(&d->items, f[ci], flen[ci], &i)) != TL_OK)
            goto out;
        float w = o->weighting == TL_WEIGHT_VALUE ? (float)v : 1.0f;
        if ((rc = tl_coo_push(&coo, u, i, w, ts)) != TL_OK)
            goto out;
    }
    if (got < 0) {
        tl_diag_set(diag, path, lr.lineno + 1, NULL, "%s",
                    got == -TL_EPARSE ? "line too long" : "read error");
        rc = (tl_err)-got;
        goto out;
    }
    rc = tl_data_build(d, &coo, o->dup);
out:
    tl_coo_release(&coo);
    tl_lines_close(&lr);
    return rc;
}

static char *dup_field(const char *s, size_t n)
{
    if (!n)
        return NULL;
    char *c = malloc(n + 1);
    if (c) {
        memcpy(c, s, n);
        c[n] = '\0';
    }
    return c;
}

tl_err tl_data_load_items_tsv(tl_data *d, const char *path, int add_new, tl_diag *diag)
{
    tl_lines lr;
    tl_err rc = tl_lines_open(&lr, path);
    if (rc != TL_OK) {
        tl_diag_set(diag, path, 0, NULL, "cannot open: %s", strerror(errno));
        return rc;
    }
    char *line, *f[MAX_COLS + 1];
    size_t len, flen[MAX_COLS + 1];
    int got = tl_lines_next(&lr, &line, &len);
    if (got != 1) {
        tl_diag_set(diag, path, 1, NULL, "missing header line");
        rc = TL_EPARSE;
        goto out;
    }
    int ncols = split_tabs(line, len, f, flen, MAX_COLS);
    int ci = col_of(f, ncols, "item"), ct = col_of(f, ncols, "title");
    int cc = col_of(f, ncols, "creators"), cy = col_of(f, ncols, "year");
    int cs = col_of(f, ncols, "subjects");
    if (ci < 0) {
        tl_diag_set(diag, path, 1, NULL, "header must name the column 'item'");
        rc = TL_EPARSE;
        goto out;
    }
    while ((got = tl_lines_next(&lr, &line, &len)) == 1) {
        if (!len)
            continue;
        int n = split_tabs(line, len, f, flen, MAX_COLS);
        if (n != ncols) {
            tl_diag_set(diag, path, lr.lineno, NULL, "expected %d fields, found %d", ncols, n);
            rc = TL_EPARSE;
            goto out;
        }
        int32_t i = tl_intern_find(&d->items, f[ci], flen[ci]);
        if (i < 0) {
            if (!add_new)
                continue;
            if ((rc = tl_intern_add(&d->items, f[ci], flen[ci], &i)) != TL_OK)
                goto out;
        }
        if ((rc = tl_catalog_reserve(&d->cat, d->items.count)) != TL_OK)
            goto out;
        tl_catalog *c = &d->cat;
        if (ct >= 0 && !c->title[i])
            c->title[i] = dup_field(f[ct], flen[ct]);
        if (cc >= 0 && !c->creators[i])
            c->creators[i] = dup_field(f[cc], flen[cc]);
        if (cs >= 0 && !c->subjects[i])
            c->subjects[i] = dup_field(f[cs], flen[cs]);
        if (cy >= 0 && flen[cy])
            c->year[i] = (int32_t)strtol(f[cy], NULL, 10);
    }
    if (got < 0) {
        rc = (tl_err)-got;
        tl_diag_set(diag, path, lr.lineno + 1, NULL, "read error");
        goto out;
    }
    rc = tl_catalog_reserve(&d->cat, d->items.count);
out:
    tl_lines_close(&lr);
    return rc;
}
