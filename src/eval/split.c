/* The file-level split: one streaming pass interns ids and keeps positive rows, then a counting
 * sort by user (in byte order), per-user dedup, tl_holdout_pick and two buffered writers.
 * Every accept/reject rule mirrors tools/split.py line for line; comments say which. */
#include "eval/split.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "eval/pynum.h"
#include "util/hash.h"

#define WRITE_BUF (1u << 20)

void tl_split_opts_init(tl_split_opts *o)
{
    o->mode = TL_SPLIT_RANDOM;
    o->seed = TL_HOLDOUT_DEFAULT_SEED;
    o->implicit = 0;
    o->min_positives = TL_HOLDOUT_MIN_POSITIVES;
}

/* A positive row as read, then (after the sort by user) with the item's byte rank. */
typedef struct row {
    int32_t user, item;
    int64_t ts;
} row;

typedef struct pos {
    int32_t irank, item;
    int64_t ts;
} pos;

typedef struct rows {
    row *r;
    int64_t n, cap;
} rows;

static tl_err rows_push(rows *v, int32_t u, int32_t i, int64_t t)
{
    if (v->n == v->cap) {
        int64_t cap = v->cap ? v->cap * 2 : 1 << 16;
        row *nr = realloc(v->r, (size_t)cap * sizeof(*nr));
        if (!nr)
            return TL_ENOMEM;
        v->r = nr;
        v->cap = cap;
    }
    v->r[v->n++] = (row){u, i, t};
    return TL_OK;
}

tl_err tl__protocol_tsv_open(const char *path, const char *const *want, int nwant, tl_csv **out,
                             tl_diag *diag)
{
    tl_csv_opts co = {.delim = '\t', .raw = 1, .lf_only = 1};
    tl_csv *r = NULL;
    char **f;
    size_t *flen;
    int n = 0;
    tl_err rc = tl_csv_open(path, &co, &r, diag);
    if (rc != TL_OK)
        return rc;
    int got = tl_csv_next(r, &f, &flen, &n, diag);
    if (got < 0 && tl__csv_reason(r) == TL_CSV_READ_ERROR) {
        rc = tl__protocol_read_error(got);
        goto out;
    }
    /* the first line is the header, blank or not (a blank one was skipped: no header) */
    int ok = got == 1 && tl_csv_line(r) == 1 && n >= nwant, cr = 0;
    for (int c = 0; ok && c < nwant; c++)
        ok = flen[c] == strlen(want[c]) && memcmp(f[c], want[c], flen[c]) == 0;
    for (int c = 0; got == 1 && tl_csv_line(r) == 1 && c < n; c++)
        cr = cr || memchr(f[c], '\r', flen[c]) != NULL;
    if (!ok || cr) {
        char names[128];
        size_t off = 0;
        names[0] = '\0';
        for (int c = 0; c < nwant && off < sizeof(names); c++)
            off +=
                (size_t)snprintf(names + off, sizeof(names) - off, "%s%s", c ? ", " : "", want[c]);
        tl_diag_set(diag, path, 1, NULL, "header must be %s%s", names,
                    cr ? " (line 1 holds a carriage return: lines must end in LF or CRLF, not "
                         "in CR alone)"
                       : "");
        rc = TL_EPARSE;
        goto out;
    }
    *out = r;
    r = NULL;
out:
    tl_csv_close(r);
    return rc;
}

tl_err tl__protocol_read_error(int got)
{
    return got == -TL_ECORRUPT ? TL_EPARSE : (tl_err)-got;
}

/* Reads positives: split.py's read_positives, without the dict (dedup comes after sorting). */
static tl_err read_positives(const char *path, const tl_split_opts *o, tl_intern *users,
                             tl_intern *items, rows *out, int64_t *nrows, tl_diag *diag)
{
    static const char *const want[4] = {"user", "item", "value", "timestamp"};
    tl_csv *r = NULL;
    char **f;
    size_t *flen;
    int n, got;
    tl_err rc = tl__protocol_tsv_open(path, want, 4, &r, diag);
    if (rc != TL_OK)
        return rc;
    *nrows = 0;
    rc = TL_EPARSE;
    while ((got = tl_csv_next(r, &f, &flen, &n, diag)) == 1) {
        long line = tl_csv_line(r);
        (*nrows)++;
        if (n != 4) {
            tl_diag_set(diag, path, line, NULL, "expected 4 fields, found %d", n);
            goto out;
        }
        if (!o->implicit) {
            double v;
            if (tl_pynum_float(f[2], flen[2], &v) != 0) {
                tl_diag_set(diag, path, line, NULL, "value is not a number");
                goto out;
            }
            if (v < 4) /* NaN is not below 4: split.py keeps it, and so do we */
                continue;
        }
        int64_t t = 0;
        if (flen[3]) {
            int k = tl_pynum_int(f[3], flen[3], &t);
            if (k < 0) {
                tl_diag_set(diag, path, line, NULL, "timestamp is not an integer");
                goto out;
            }
            if (k > 0) {
                tl_diag_set(diag, path, line, NULL,
                            "timestamp does not fit in 64 bits (split.py would accept it)");
                rc = TL_ETOOBIG;
                goto out;
            }
        } else if (o->mode == TL_SPLIT_TEMPORAL) {
            tl_diag_set(diag, path, line, NULL, "temporal split needs a timestamp");
            goto out;
        }
        int32_t u, i;
        if ((rc = tl_intern_add(users, f[0], flen[0], &u)) != TL_OK ||
            (rc = tl_intern_add(items, f[1], flen[1], &i)) != TL_OK ||
            (rc = rows_push(out, u, i, t)) != TL_OK)
            goto out;
        rc = TL_EPARSE;
    }
    rc = got < 0 ? tl__protocol_read_error(got) : TL_OK;
out:
    tl_csv_close(r);
    return rc;
}

static int cmp_pos(const void *a, const void *b)
{
    const pos *x = a, *y = b;
    return (x->irank > y->irank) - (x->irank < y->irank);
}

/* mkdir -p. */
static int make_dirs(const char *path)
{
    char buf[4096];
    size_t n = strlen(path);
    if (n >= sizeof(buf))
        return -1;
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] == '/' || buf[i] == '\0') {
            char c = buf[i];
            buf[i] = '\0';
            if (mkdir(buf, 0777) != 0 && errno != EEXIST)
                return -1;
            buf[i] = c;
        }
    }
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode) ? 0 : -1;
}

typedef struct out_file {
    FILE *f;
    char *buf;
    char path[4096];
} out_file;

static tl_err out_open(out_file *o, const char *dir, const char *name, tl_diag *diag)
{
    snprintf(o->path, sizeof(o->path), "%s/%s", dir, name);
    o->f = fopen(o->path, "wb");
    if (!o->f) {
        tl_diag_set(diag, o->path, 0, NULL, "cannot write: %s", strerror(errno));
        return TL_EIO;
    }
    if ((o->buf = malloc(WRITE_BUF)))
        setvbuf(o->f, o->buf, _IOFBF, WRITE_BUF);
    fputs("user\titem\n", o->f);
    return TL_OK;
}

static void out_pair(out_file *o, const tl_intern *users, int32_t u, const tl_intern *items,
                     int32_t i)
{
    fwrite(tl_intern_str(users, u), 1, tl_intern_len(users, u), o->f);
    putc('\t', o->f);
    fwrite(tl_intern_str(items, i), 1, tl_intern_len(items, i), o->f);
    putc('\n', o->f);
}

/* Closes o; TL_EIO with diag when anything failed to reach the file. */
static tl_err out_close(out_file *o, tl_err rc, tl_diag *diag)
{
    if (o->f) {
        int bad = ferror(o->f);
        bad |= fclose(o->f) != 0;
        if (bad && rc == TL_OK) {
            tl_diag_set(diag, o->path, 0, NULL, "write failed: %s", strerror(errno));
            rc = TL_EIO;
        }
    }
    free(o->buf);
    o->f = NULL;
    o->buf = NULL;
    return rc;
}

tl_err tl_split_file(const char *in, const char *outdir, const tl_split_opts *o, tl_split_stats *st,
                     tl_diag *diag)
{
    tl_intern users, items;
    rows rs = {0};
    int32_t *urank = NULL, *irank = NULL, *ustart = NULL, *uof = NULL;
    pos *ps = NULL;
    tl_holdout_ent *ent = NULL;
    uint8_t *is_test = NULL;
    out_file ftr = {0}, fte = {0};
    tl_split_stats s = {0};
    tl_intern_init(&users);
    tl_intern_init(&items);
    tl_err rc = read_positives(in, o, &users, &items, &rs, &s.rows, diag);
    if (rc != TL_OK)
        goto out;
    rc = TL_ETOOBIG; /* per-user offsets are int32 */
    if (rs.n > INT32_MAX)
        goto out;
    rc = TL_ENOMEM;
    int32_t nu = users.count;
    if (tl_holdout_byte_ranks(&users, &urank) != TL_OK ||
        tl_holdout_byte_ranks(&items, &irank) != TL_OK)
        goto out;
    /* Counting sort of the rows by the user's byte rank. */
    size_t cells = (size_t)(rs.n ? rs.n : 1);
    if (!(ustart = calloc((size_t)nu + 1, sizeof(*ustart))) ||
        !(uof = malloc((size_t)(nu ? nu : 1) * sizeof(*uof))) ||
        !(ps = malloc(cells * sizeof(*ps))) || !(ent = malloc(cells * sizeof(*ent))) ||
        !(is_test = malloc(cells)))
        goto out;
    for (int32_t u = 0; u < nu; u++)
        uof[urank[u]] = u;
    for (int64_t j = 0; j < rs.n; j++)
        ustart[urank[rs.r[j].user] + 1]++;
    for (int32_t r = 0; r < nu; r++)
        ustart[r + 1] += ustart[r];
    for (int64_t j = 0; j < rs.n; j++) {
        int32_t *slot = &ustart[urank[rs.r[j].user]];
        ps[(*slot)++] = (pos){irank[rs.r[j].item], rs.r[j].item, rs.r[j].ts};
    }
    for (int32_t r = nu; r > 0; r--) /* the fill advanced each start to the next one */
        ustart[r] = ustart[r - 1];
    ustart[0] = 0;
    free(rs.r);
    rs.r = NULL;

    if (make_dirs(outdir) != 0) {
        tl_diag_set(diag, outdir, 0, NULL, "cannot create directory: %s", strerror(errno));
        rc = TL_EIO;
        goto out;
    }
    if ((rc = out_open(&ftr, outdir, "train.tsv", diag)) != TL_OK ||
        (rc = out_open(&fte, outdir, "test.tsv", diag)) != TL_OK)
        goto out;
    for (int32_t r = 0; r < nu; r++) {
        int32_t u = uof[r];
        pos *p = ps + ustart[r];
        int32_t m = ustart[r + 1] - ustart[r];
        qsort(p, (size_t)m, sizeof(*p), cmp_pos);
        /* Dedup: a pair keeps its largest timestamp, and exists only when that is at least 0
         * (split.py stores t when t > items.get(item, -1)). */
        int32_t n = 0;
        for (int32_t j = 0; j < m;) {
            int32_t e = j;
            int64_t t = p[j].ts;
            for (; e < m && p[e].irank == p[j].irank; e++)
                if (p[e].ts > t)
                    t = p[e].ts;
            if (t >= 0) {
                p[n] = p[j];
                p[n++].ts = t;
            }
            j = e;
        }
        if (n == 0 || n < o->min_positives)
            continue;
        uint64_t prefix = tl_fnv1a64_update(
            tl_fnv1a64(tl_intern_str(&users, u), tl_intern_len(&users, u)), "\t", 1);
        for (int32_t j = 0; j < n; j++) {
            uint64_t key;
            if (o->mode == TL_SPLIT_RANDOM)
                key = tl_splitmix64(o->seed ^ tl_fnv1a64_update(prefix,
                                                                tl_intern_str(&items, p[j].item),
                                                                tl_intern_len(&items, p[j].item)));
            else
                key = tl_holdout_ts_key(p[j].ts);
            ent[j] = (tl_holdout_ent){key, p[j].irank, j};
        }
        tl_holdout_pick(o->mode, ent, n, is_test);
        for (int32_t j = 0; j < n; j++) {
            out_pair(is_test[j] ? &fte : &ftr, &users, u, &items, p[j].item);
            if (is_test[j])
                s.test_pairs++;
            else
                s.train_pairs++;
        }
        s.users++;
    }
    rc = TL_OK;
out:
    rc = out_close(&ftr, rc, diag);
    rc = out_close(&fte, rc, diag);
    if (rc == TL_OK && st)
        *st = s;
    tl_intern_release(&users);
    tl_intern_release(&items);
    free(rs.r);
    free(urank);
    free(irank);
    free(ustart);
    free(uof);
    free(ps);
    free(ent);
    free(is_test);
    return rc;
}

tl_err tl_split_attach_timestamps(const char *interactions, const tl_split_opts *o, tl_data *d,
                                  tl_diag *diag)
{
    tl_intern users, items;
    rows rs = {0};
    int64_t nrows = 0, *ts = NULL;
    tl_csr iu = {0};
    tl_intern_init(&users);
    tl_intern_init(&items);
    tl_err rc = read_positives(interactions, o, &users, &items, &rs, &nrows, diag);
    if (rc != TL_OK)
        goto out;
    rc = TL_ENOMEM;
    tl_csr *ui = &d->ui;
    if (!(ts = malloc((size_t)(ui->nnz ? ui->nnz : 1) * sizeof(*ts))))
        goto out;
    for (int64_t p = 0; p < ui->nnz; p++)
        ts[p] = -1; /* the dedup rule: a pair exists once a timestamp above -1 is seen */
    /* Interned indices of the reader map to d's through the id strings, once per id. */
    int32_t *umap = malloc((size_t)(users.count ? users.count : 1) * sizeof(*umap));
    int32_t *imap = malloc((size_t)(items.count ? items.count : 1) * sizeof(*imap));
    if (!umap || !imap) {
        free(umap);
        free(imap);
        goto out;
    }
    for (int32_t u = 0; u < users.count; u++)
        umap[u] = tl_intern_find(&d->users, tl_intern_str(&users, u), tl_intern_len(&users, u));
    for (int32_t i = 0; i < items.count; i++)
        imap[i] = tl_intern_find(&d->items, tl_intern_str(&items, i), tl_intern_len(&items, i));
    for (int64_t j = 0; j < rs.n; j++) {
        int32_t u = umap[rs.r[j].user], i = imap[rs.r[j].item];
        if (u < 0 || i < 0 || u >= ui->nrows || i >= ui->ncols)
            continue;
        int64_t p = tl_csr_find(ui, u, i);
        if (p >= 0 && rs.r[j].ts > ts[p])
            ts[p] = rs.r[j].ts;
    }
    free(umap);
    free(imap);
    rc = TL_EPARSE;
    for (int32_t u = 0; u < ui->nrows; u++)
        for (int64_t p = ui->indptr[u]; p < ui->indptr[u + 1]; p++)
            if (ts[p] < 0) {
                int32_t i = ui->indices[p];
                tl_diag_set(diag, interactions, 0, NULL,
                            "the pair (%s, %s) has no positive with a timestamp here",
                            tl_intern_str(&d->users, u), tl_intern_str(&d->items, i));
                goto out;
            }
    free(ui->ts);
    ui->ts = ts;
    ts = NULL;
    if ((rc = tl_csr_transpose(ui, &iu)) != TL_OK)
        goto out;
    tl_csr_release(&d->iu);
    d->iu = iu;
    rc = TL_OK;
out:
    free(ts);
    free(rs.r);
    tl_intern_release(&users);
    tl_intern_release(&items);
    return rc;
}
