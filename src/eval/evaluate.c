/* tailor eval's two paths: a recs file read exactly as evaluate.py reads it, and a model
 * trained on train.tsv whose top-100 lists are scored in memory (and optionally written as a
 * recs file that evaluate.py scores the same). Both end in core/metrics. */
#include "eval/evaluate.h"

#include "eval/autotune.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "eval/pynum.h"
#include "eval/split.h"
#include "ingest/matrix_tsv.h"
#include "util/clock.h"

void tl_eval_opts_init(tl_eval_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->top_n = TL_METRICS_TOPN;
}

void tl_eval_report_release(tl_eval_report *r)
{
    free(r->params);
    memset(r, 0, sizeof(*r));
}

/* One row of a pairs or recs file, interned. */
typedef struct prow {
    int32_t user, item;
    int64_t rank, seq; /* recs only: rank, and the row's position (ties keep file order) */
} prow;

typedef struct prows {
    prow *r;
    int64_t n, cap;
} prows;

static tl_err prows_push(prows *v, prow p)
{
    if (v->n == v->cap) {
        int64_t cap = v->cap ? v->cap * 2 : 1 << 14;
        prow *nr = realloc(v->r, (size_t)cap * sizeof(*nr));
        if (!nr)
            return TL_ENOMEM;
        v->r = nr;
        v->cap = cap;
    }
    v->r[v->n++] = p;
    return TL_OK;
}

/* Where the ids of a file go: interned into add (NULL = never add), else looked up in find
 * (NULL = none); find_base offsets found indices, add_base added ones. A row whose user is
 * unknown and cannot be added is dropped when drop_unknown_user. */
typedef struct id_sink {
    tl_intern *users;
    const tl_intern *item_find; /* looked up first, indices as they are */
    tl_intern *item_add;        /* else interned here, indices + item_base */
    int32_t item_base;
} id_sink;

static tl_err sink_item(id_sink *s, const char *f, size_t n, int32_t *out)
{
    if (s->item_find) {
        int32_t i = tl_intern_find(s->item_find, f, n);
        if (i >= 0) {
            *out = i;
            return TL_OK;
        }
    }
    int32_t i;
    tl_err rc = tl_intern_add(s->item_add, f, n, &i);
    *out = i + s->item_base;
    return rc;
}

/* evaluate.py's read_pairs (user item [...]) or read_recs (user item rank). */
static tl_err read_rows(const char *path, int recs, id_sink *s, prows *out, tl_diag *diag)
{
    static const char *const want[3] = {"user", "item", "rank"};
    tl_csv *r = NULL;
    char **f;
    size_t *flen;
    int n, got;
    tl_err rc = tl__protocol_tsv_open(path, want, recs ? 3 : 2, &r, diag);
    if (rc != TL_OK)
        return rc;
    int64_t seq = 0;
    rc = TL_EPARSE;
    while ((got = tl_csv_next(r, &f, &flen, &n, diag)) == 1) {
        long line = tl_csv_line(r);
        prow p = {0};
        if (recs) {
            if (n != 3) {
                tl_diag_set(diag, path, line, NULL, "expected user, item, rank");
                goto out;
            }
            if (tl_pynum_int(f[2], flen[2], &p.rank) < 0) {
                tl_diag_set(diag, path, line, NULL, "rank is not an integer");
                goto out;
            }
            if (p.rank < 1) {
                tl_diag_set(diag, path, line, NULL, "rank must be at least 1");
                goto out;
            }
            if (p.rank > TL_METRICS_TOPN)
                continue;
            p.seq = seq++;
        } else if (n < 2) {
            tl_diag_set(diag, path, line, NULL, "expected user and item");
            goto out;
        }
        if ((rc = tl_intern_add(s->users, f[0], flen[0], &p.user)) != TL_OK ||
            (rc = sink_item(s, f[1], flen[1], &p.item)) != TL_OK ||
            (rc = prows_push(out, p)) != TL_OK)
            goto out;
        rc = TL_EPARSE;
    }
    rc = got < 0 ? tl__protocol_read_error(got) : TL_OK;
out:
    tl_csv_close(r);
    return rc;
}

static int cmp_recs(const void *a, const void *b)
{
    const prow *x = a, *y = b;
    if (x->user != y->user)
        return x->user < y->user ? -1 : 1;
    if (x->rank != y->rank)
        return x->rank < y->rank ? -1 : 1;
    return (x->seq > y->seq) - (x->seq < y->seq);
}

/* Pairs as a CSR of nrows x ncols (duplicates merge). */
static tl_err pairs_csr(const prows *v, int32_t nrows, int32_t ncols, tl_csr *out)
{
    tl_coo c;
    tl_err rc = tl_coo_init(&c, v->n, 0);
    for (int64_t j = 0; rc == TL_OK && j < v->n; j++)
        rc = tl_coo_push(&c, v->r[j].user, v->r[j].item, 1.0f, 0);
    if (rc == TL_OK)
        rc = tl_csr_from_coo(&c, nrows, ncols, TL_DUP_MAX, out);
    tl_coo_release(&c);
    return rc;
}

/* Users of v in order of first appearance (evaluate.py iterates its dict that way). */
static tl_err first_seen_users(const prows *v, int32_t nusers, int32_t **order, int32_t *n)
{
    uint8_t *seen = calloc((size_t)(nusers ? nusers : 1), 1);
    int32_t *o = malloc((size_t)(nusers ? nusers : 1) * sizeof(*o));
    if (!seen || !o) {
        free(seen);
        free(o);
        return TL_ENOMEM;
    }
    int32_t k = 0;
    for (int64_t j = 0; j < v->n; j++)
        if (!seen[v->r[j].user]) {
            seen[v->r[j].user] = 1;
            o[k++] = v->r[j].user;
        }
    free(seen);
    *order = o;
    *n = k;
    return TL_OK;
}

tl_err tl_eval_recs_file(const char *train, const char *test, const char *recs,
                         tl_metrics_result *out, tl_diag *diag)
{
    tl_intern users, items;
    prows rr = {0}, tr = {0}, te = {0};
    tl_csr trm = {0}, tem = {0};
    tl_metrics m;
    int32_t *order = NULL, *list = NULL, *mark = NULL; /* mark: last user + 1 that listed an item */
    int64_t *start = NULL;
    int32_t norder = 0;
    memset(&m, 0, sizeof(m));
    tl_intern_init(&users);
    tl_intern_init(&items);
    id_sink sink = {.users = &users, .item_add = &items};
    tl_err rc;
    if ((rc = read_rows(recs, 1, &sink, &rr, diag)) != TL_OK ||
        (rc = read_rows(train, 0, &sink, &tr, diag)) != TL_OK ||
        (rc = read_rows(test, 0, &sink, &te, diag)) != TL_OK)
        goto out;
    int32_t nu = users.count, ni = items.count;
    if ((rc = pairs_csr(&tr, nu, ni, &trm)) != TL_OK ||
        (rc = pairs_csr(&te, nu, ni, &tem)) != TL_OK ||
        (rc = first_seen_users(&te, nu, &order, &norder)) != TL_OK ||
        (rc = tl_metrics_init(&m, &trm, ni)) != TL_OK)
        goto out;
    /* Each user's list by rank, then file order; the first of repeated items stays. */
    rc = TL_ENOMEM;
    qsort(rr.r, (size_t)rr.n, sizeof(*rr.r), cmp_recs);
    if (!(start = calloc((size_t)nu + 1, sizeof(*start))) ||
        !(list = malloc((size_t)(rr.n ? rr.n : 1) * sizeof(*list))) ||
        !(mark = calloc((size_t)(ni ? ni : 1), sizeof(*mark))))
        goto out;
    for (int64_t j = 0; j < rr.n; j++)
        start[rr.r[j].user + 1]++;
    for (int32_t u = 0; u < nu; u++)
        start[u + 1] += start[u];
    for (int64_t j = 0; j < rr.n; j++)
        list[j] = rr.r[j].item;
    for (int32_t u = 0; u < nu; u++) {
        if (tem.indptr[u + 1] > tem.indptr[u])
            continue; /* tl_metrics_add_user counts these users' repeats */
        int64_t dups = 0;
        for (int64_t j = start[u]; j < start[u + 1]; j++) {
            dups += mark[list[j]] == u + 1;
            mark[list[j]] = u + 1;
        }
        tl_metrics_add_duplicates(&m, dups);
    }
    for (int32_t k = 0; k < norder; k++) {
        int32_t u = order[k];
        int64_t b = start[u], tb = tem.indptr[u];
        if ((rc = tl_metrics_add_user(&m, u, list + b, (int32_t)(start[u + 1] - b),
                                      tem.indices + tb, (int32_t)(tem.indptr[u + 1] - tb))) !=
            TL_OK)
            goto out;
    }
    tl_metrics_finish(&m, out);
    rc = TL_OK;
out:
    tl_metrics_release(&m);
    tl_csr_release(&trm);
    tl_csr_release(&tem);
    free(rr.r);
    free(tr.r);
    free(te.r);
    free(order);
    free(list);
    free(mark);
    free(start);
    tl_intern_release(&users);
    tl_intern_release(&items);
    return rc;
}

/* Writes user item rank for every user with a list. */
static tl_err write_recs(const char *path, const tl_data *d, const int32_t *rows, int32_t n_rows,
                         const int32_t *recs, int top_n, tl_diag *diag)
{
    FILE *f = fopen(path, "wb");
    if (!f) {
        tl_diag_set(diag, path, 0, NULL, "cannot write: %s", strerror(errno));
        return TL_EIO;
    }
    fputs("user\titem\trank\n", f);
    for (int32_t r = 0; r < n_rows; r++) {
        const char *u = tl_intern_str(&d->users, rows[r]);
        size_t ul = tl_intern_len(&d->users, rows[r]);
        const int32_t *list = recs + (size_t)r * (size_t)top_n;
        for (int k = 0; k < top_n && list[k] >= 0; k++) {
            fwrite(u, 1, ul, f);
            putc('\t', f);
            fwrite(tl_intern_str(&d->items, list[k]), 1, tl_intern_len(&d->items, list[k]), f);
            fprintf(f, "\t%d\n", k + 1);
        }
    }
    int bad = ferror(f);
    bad |= fclose(f) != 0;
    if (bad) {
        tl_diag_set(diag, path, 0, NULL, "write failed: %s", strerror(errno));
        return TL_EIO;
    }
    return TL_OK;
}

tl_err tl_eval_model(const char *train, const char *test, const tl_eval_opts *o,
                     tl_eval_report *rep, tl_diag *diag)
{
    tl_data d;
    tl_model *model = NULL;
    tl_intern tusers, extra;
    prows te = {0};
    tl_csr tem = {0};
    tl_metrics m;
    int32_t *order = NULL, *rows = NULL, *recs = NULL, *row_of = NULL;
    uint8_t *allow = NULL;
    int32_t norder = 0, nrows = 0;
    tl_err rc;
    memset(&m, 0, sizeof(m));
    memset(rep, 0, sizeof(*rep));
    tl_data_init(&d);
    tl_intern_init(&tusers);
    tl_intern_init(&extra);
    tl_tsv_opts to;
    tl_tsv_opts_init(&to);
    if (o->top_n <= 0 || o->top_n > TL_METRICS_TOPN) {
        rc = TL_EINVAL;
        goto out;
    }
    /* Fail before a long fit when the test file is not there; it is read only after. */
    if (access(test, R_OK) != 0) {
        tl_diag_set(diag, test, 0, NULL, "cannot open: %s", strerror(errno));
        rc = TL_EIO;
        goto out;
    }
    if ((rc = tl_data_load_tsv(&d, train, &to, diag)) != TL_OK)
        goto out;
    if (o->items && (rc = tl_data_load_items_tsv(&d, o->items, 0, diag)) != TL_OK)
        goto out;
    if (o->interactions) {
        tl_split_opts so;
        tl_split_opts_init(&so);
        so.implicit = o->implicit;
        so.mode = TL_SPLIT_TEMPORAL; /* every row needs its timestamp */
        if ((rc = tl_split_attach_timestamps(o->interactions, &so, &d, diag)) != TL_OK)
            goto out;
    }
    if ((rc = tl_model_new(o->model, &model)) != TL_OK) {
        tl_diag_set(diag, NULL, 0, NULL, "unknown model '%s'", o->model);
        goto out;
    }
    for (int k = 0; k < o->n_sets; k++)
        if ((rc = tl_model_set(model, o->sets[k], diag)) != TL_OK)
            goto out;
    double t0 = tl_now();
    tl_fit_hooks hooks = {.tune = tl_autotune_hook};
    if (o->hooks)
        hooks = *o->hooks;
    if ((rc = tl_model_fit(model, &d, &hooks, diag)) != TL_OK)
        goto out;
    rep->fit_seconds = tl_now() - t0;
    rep->tune_seconds = model->tune_seconds;

    /* Test users keep their own ids (some are not in train); items not in train get indices
     * after train's, so that they count in |T| and can never be hit. */
    id_sink sink = {
        .users = &tusers, .item_find = &d.items, .item_add = &extra, .item_base = d.items.count};
    if ((rc = read_rows(test, 0, &sink, &te, diag)) != TL_OK)
        goto out;
    int32_t ni = d.items.count + extra.count;
    if ((rc = pairs_csr(&te, tusers.count, ni, &tem)) != TL_OK ||
        (rc = first_seen_users(&te, tusers.count, &order, &norder)) != TL_OK)
        goto out;
    rc = TL_ENOMEM;
    size_t nu = (size_t)(norder ? norder : 1);
    if (!(rows = malloc(nu * sizeof(*rows))) || !(row_of = malloc(nu * sizeof(*row_of))) ||
        !(recs = malloc(nu * (size_t)o->top_n * sizeof(*recs))) ||
        !(allow = malloc((size_t)(d.items.count ? d.items.count : 1))))
        goto out;
    for (int32_t k = 0; k < norder; k++) {
        int32_t u = order[k];
        int32_t du = tl_intern_find(&d.users, tl_intern_str(&tusers, u), tl_intern_len(&tusers, u));
        row_of[k] =
            du >= 0 && du < d.ui.nrows && d.ui.indptr[du + 1] > d.ui.indptr[du] ? nrows : -1;
        if (row_of[k] >= 0)
            rows[nrows++] = du;
    }
    for (int32_t i = 0; i < d.items.count; i++)
        allow[i] = i < d.iu.nrows && d.iu.indptr[i + 1] > d.iu.indptr[i];
    tl_filter filter = {.allow = allow};
    t0 = tl_now();
    if (nrows && (rc = tl_model_recommend_rows(model, &d.ui, 1, rows, nrows, &filter, o->top_n,
                                               recs, NULL)) != TL_OK) {
        tl_diag_set(diag, NULL, 0, NULL, "recommending failed");
        goto out;
    }
    rep->recommend_seconds = tl_now() - t0;
    if (o->recs_out &&
        (rc = write_recs(o->recs_out, &d, rows, nrows, recs, o->top_n, diag)) != TL_OK)
        goto out;
    if ((rc = tl_metrics_init(&m, &d.ui, ni)) != TL_OK)
        goto out;
    for (int32_t k = 0; k < norder; k++) {
        int32_t u = order[k], r = row_of[k];
        int64_t tb = tem.indptr[u];
        if ((rc = tl_metrics_add_user(&m, r >= 0 ? rows[r] : -1,
                                      r >= 0 ? recs + (size_t)r * (size_t)o->top_n : NULL,
                                      r >= 0 ? o->top_n : 0, tem.indices + tb,
                                      (int32_t)(tem.indptr[u + 1] - tb))) != TL_OK)
            goto out;
    }
    tl_metrics_finish(&m, &rep->metrics);
    if ((rc = tl_params_to_text(&model->params, &rep->params)) != TL_OK)
        goto out;
    snprintf(rep->autotune, sizeof(rep->autotune), "%s", model->tuned);
    rc = TL_OK;
out:
    if (rc != TL_OK)
        tl_eval_report_release(rep);
    tl_metrics_release(&m);
    tl_model_free(model);
    tl_data_release(&d);
    tl_csr_release(&tem);
    free(te.r);
    free(order);
    free(rows);
    free(row_of);
    free(recs);
    free(allow);
    tl_intern_release(&tusers);
    tl_intern_release(&extra);
    return rc;
}
