/* TSV -> matrices in one streaming pass through the one TSV reader of the ingest layer (csv.c:
 * bytes as they are, any number of columns, LF, CRLF or CR line ends): intern ids, check each
 * value and timestamp against the ranges of tailor/ingest.h, push COO. */
#include "ingest/matrix_tsv.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/csv.h"
#include "tailor/ingest.h"

void tl_tsv_opts_init(tl_tsv_opts *o)
{
    o->weighting = TL_WEIGHT_ONE;
    o->min_value = -INFINITY;
    o->dup = TL_DUP_MAX;
}

/* Opens path and reads its header; *ncols and the header's fields are set. */
static tl_err open_tsv(const char *path, tl_csv **r, char ***f, size_t **flen, int *ncols,
                       tl_diag *diag)
{
    tl_csv_opts co = {.delim = '\t', .raw = 1};
    tl_err rc = tl_csv_open(path, &co, r, diag);
    if (rc != TL_OK)
        return rc;
    int got = tl_csv_next(*r, f, flen, ncols, diag);
    if (got == 1)
        return TL_OK;
    if (got == 0)
        tl_diag_set(diag, path, 1, NULL, "missing header line");
    return got == 0 || got == -TL_ECORRUPT ? TL_EPARSE : (tl_err)-got;
}

/* The error of a failed tl_csv_next (diag is filled): a damaged .gz is bad input. */
static tl_err read_error(int got)
{
    return got == -TL_ECORRUPT ? TL_EPARSE : (tl_err)-got;
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
    tl_csv *r = NULL;
    tl_coo coo = {0};
    char **f;
    size_t *flen;
    int ncols, n, got;
    tl_err rc = open_tsv(path, &r, &f, &flen, &ncols, diag);
    if (rc != TL_OK)
        goto out;
    int cu = col_of(f, ncols, "user"), ci = col_of(f, ncols, "item");
    int cv = col_of(f, ncols, "value"), ct = col_of(f, ncols, "timestamp");
    if (cu < 0 || ci < 0) {
        tl_diag_set(diag, path, 1, NULL, "header must name the columns 'user' and 'item'");
        rc = TL_EPARSE;
        goto out;
    }
    if ((rc = tl_coo_init(&coo, 1 << 16, ct >= 0)) != TL_OK)
        goto out;
    rc = TL_EPARSE;
    long rows = 0;
    while ((got = tl_csv_next(r, &f, &flen, &n, diag)) == 1) {
        long line = tl_csv_line(r);
        rows++;
        if (n != ncols) {
            tl_diag_set(diag, path, line, NULL, "expected %d fields, found %d", ncols, n);
            goto out;
        }
        if (!flen[cu] || !flen[ci]) {
            tl_diag_set(diag, path, line, flen[cu] ? "item" : "user", "empty id");
            goto out;
        }
        double v = 1.0;
        if (cv >= 0) {
            char *end;
            v = strtod(f[cv], &end);
            if (!flen[cv] || *end || !isfinite(v)) { /* "nan", "inf" and "1e999" too */
                tl_diag_set(diag, path, line, "value", "'%.40s' is not a number", f[cv]);
                goto out;
            }
            if (fabs(v) > TL_VALUE_MAX) {
                tl_diag_set(diag, path, line, "value", "'%.40s' is out of range (|value| <= 1e9)",
                            f[cv]);
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
            if (*end || errno == EINVAL) {
                tl_diag_set(diag, path, line, "timestamp", "'%.40s' is not an integer", f[ct]);
                goto out;
            }
            if (errno || ts < TL_TIME_MIN || ts > TL_TIME_MAX) {
                tl_diag_set(diag, path, line, "timestamp",
                            "'%.40s' is out of range (0 to 32503680000, 1970 to 3000)", f[ct]);
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
        rc = TL_EPARSE;
    }
    if (got < 0) {
        rc = read_error(got);
        goto out;
    }
    /* nothing to learn from is bad input, not an empty model that recommends nothing */
    if (coo.n == 0) {
        if (rows == 0)
            tl_diag_set(diag, path, 1, NULL, "no interactions: a header and no rows");
        else
            tl_diag_set(diag, path, 1, "value",
                        "no interactions: none of the %ld rows has a value of at least %g "
                        "(--min-value)",
                        rows, o->min_value);
        rc = TL_EPARSE;
        goto out;
    }
    rc = tl_data_build_take(d, &coo, o->dup); /* the triplets become d->ui: never held twice */
out:
    tl_coo_release(&coo);
    tl_csv_close(r);
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
    tl_csv *r = NULL;
    char **f;
    size_t *flen;
    int ncols, n, got;
    tl_err rc = open_tsv(path, &r, &f, &flen, &ncols, diag);
    if (rc != TL_OK)
        goto out;
    int ci = col_of(f, ncols, "item"), ct = col_of(f, ncols, "title");
    int cc = col_of(f, ncols, "creators"), cy = col_of(f, ncols, "year");
    int cs = col_of(f, ncols, "subjects");
    if (ci < 0) {
        tl_diag_set(diag, path, 1, NULL, "header must name the column 'item'");
        rc = TL_EPARSE;
        goto out;
    }
    while ((got = tl_csv_next(r, &f, &flen, &n, diag)) == 1) {
        if (n != ncols) {
            tl_diag_set(diag, path, tl_csv_line(r), NULL, "expected %d fields, found %d", ncols, n);
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
        rc = read_error(got);
        goto out;
    }
    rc = tl_catalog_reserve(&d->cat, d->items.count);
out:
    tl_csv_close(r);
    return rc;
}
