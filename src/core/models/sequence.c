/* sequence: "what next" from item-to-item transitions in each user's time-ordered history
 * (series, courses, learning paths). Fit counts i -> j for the next `window` items after i,
 * decaying per step, normalizes each item's row (with optional popularity damping) and keeps
 * its top-k successors (CSR). A user's score is the recency-weighted sum of the rows of their
 * last `history` items.
 *
 * Order: by timestamp (ties by item index). Without timestamps (d->ui.ts NULL) a row's order is
 * the CSR order, i.e. item index = the order in which items first appeared in the input, which
 * is only a sequence when the input was written in time order. For a known user (uidx >= 0) the
 * time order seen at fit decides which history items are recent; for an unknown user the history
 * is read in the order given, the last entry being the most recent. */
#include "core/models/models.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/topk.h"

typedef struct seq_cfg {
    int window;
    double decay, backward, beta, shrink;
    int k, history;
    double recency, pop_weight;
} seq_cfg;

static const tl_param_def params[] = {
    TL_PARAM(seq_cfg, window, "10", 1, 1000, "successors counted after each item"),
    TL_PARAM(seq_cfg, decay, "0.9", 0, 1, "weight of the s-th next item is decay^(s-1)"),
    TL_PARAM(seq_cfg, backward, "0.5", 0, 1,
             "weight of predecessors relative to successors (0: strictly what comes next)"),
    TL_PARAM(seq_cfg, beta, "0", 0, 1,
             "popularity damping: a successor j is divided by users(j)^beta"),
    TL_PARAM(seq_cfg, shrink, "5", 0, 1e6, "row normalization: counts / (row total + shrink)"),
    TL_PARAM(seq_cfg, k, "100", 1, 1e6, "successors kept per item"),
    TL_PARAM(seq_cfg, history, "20", 1, 1000, "most recent history items used for scoring"),
    TL_PARAM(seq_cfg, recency, "0.7", 0, 1, "weight of the p-th most recent item is recency^p"),
    TL_PARAM(seq_cfg, pop_weight, "0.001", 0, 1000,
             "adds pop_weight * log(1+users)/log(1+max users): ranks items no transition reaches"),
};

typedef struct state {
    int32_t n_items, n_users, hist; /* hist: recent items stored per user */
    tl_csr succ;                    /* item x item: top-k successors, columns ascending */
    int32_t *recent;                /* n_users x hist, most recent first, -1 padded */
    float *prior;                   /* n_items, or NULL */
    int64_t dims[3];
    int owned;
} state;

static void release(tl_model *m)
{
    state *st = m->state;
    if (!st)
        return;
    if (st->owned) {
        tl_csr_release(&st->succ);
        free(st->recent);
        free(st->prior);
    }
    free(st);
    m->state = NULL;
}

/* ---- fit ---- */

typedef struct ord_ctx {
    const int32_t *idx;
    const int64_t *ts;
} ord_ctx;

/* Sorts perm[0..n) (positions in a CSR row) by (timestamp, item): insertion sort for short
 * rows, a merge sort otherwise, both stable, so equal keys keep the row order. */
static int before(const ord_ctx *c, int64_t a, int64_t b)
{
    if (c->ts[a] != c->ts[b])
        return c->ts[a] < c->ts[b];
    return c->idx[a] < c->idx[b];
}

static void sort_row(const ord_ctx *c, int64_t *perm, int64_t *tmp, int64_t n)
{
    if (n < 24) {
        for (int64_t i = 1; i < n; i++) {
            int64_t v = perm[i], j = i;
            while (j > 0 && before(c, v, perm[j - 1])) {
                perm[j] = perm[j - 1];
                j--;
            }
            perm[j] = v;
        }
        return;
    }
    int64_t h = n / 2;
    sort_row(c, perm, tmp, h);
    sort_row(c, perm + h, tmp, n - h);
    int64_t i = 0, j = h, k = 0;
    while (i < h && j < n)
        tmp[k++] = before(c, perm[j], perm[i]) ? perm[j++] : perm[i++];
    while (i < h)
        tmp[k++] = perm[i++];
    while (j < n)
        tmp[k++] = perm[j++];
    memcpy(perm, tmp, (size_t)n * sizeof(*perm));
}

/* ord[k] (k in CSR layout): the items of each user's row in time order; pos[k]: the time rank
 * of CSR entry k within its row. */
static tl_err order_rows(const tl_csr *ui, int32_t *ord, int32_t *pos)
{
    tl_err rc = TL_OK;
    if (!ui->ts) {
        for (int32_t u = 0; u < ui->nrows; u++)
            for (int64_t k = ui->indptr[u]; k < ui->indptr[u + 1]; k++) {
                ord[k] = ui->indices[k];
                pos[k] = (int32_t)(k - ui->indptr[u]);
            }
        return TL_OK;
    }
#pragma omp parallel
    {
        int64_t maxlen = 0;
        for (int32_t u = 0; u < ui->nrows; u++) {
            int64_t l = ui->indptr[u + 1] - ui->indptr[u];
            maxlen = l > maxlen ? l : maxlen;
        }
        int64_t *perm = malloc((size_t)(maxlen + 1) * sizeof(*perm));
        int64_t *tmp = malloc((size_t)(maxlen + 1) * sizeof(*tmp));
        ord_ctx c = {ui->indices, ui->ts};
        if (!perm || !tmp) {
#pragma omp atomic write
            rc = TL_ENOMEM;
        }
#pragma omp for schedule(dynamic, 64)
        for (int32_t u = 0; u < ui->nrows; u++) {
            if (!perm || !tmp)
                continue;
            int64_t lo = ui->indptr[u], n = ui->indptr[u + 1] - lo;
            for (int64_t r = 0; r < n; r++)
                perm[r] = lo + r;
            sort_row(&c, perm, tmp, n);
            for (int64_t r = 0; r < n; r++) {
                ord[lo + r] = ui->indices[perm[r]];
                pos[perm[r]] = (int32_t)r;
            }
        }
        free(perm);
        free(tmp);
    }
    return rc;
}

/* Counts item i's successors over every user of i into acc (dense, zero on entry), keeps the
 * top `keep` of the normalized row in cols/vals (ascending columns) and zeroes acc again. */
static int32_t successors_of(const tl_data *d, const int32_t *ord, const int32_t *pos,
                             const seq_cfg *o, int keep, const double *damp, int32_t i, float *acc,
                             int32_t *touched, float *tv, int32_t *sel, float *selv, int32_t *cols,
                             float *vals)
{
    const tl_csr *ui = &d->ui, *iu = &d->iu;
    int32_t nt = 0;
    for (int64_t q = iu->indptr[i]; q < iu->indptr[i + 1]; q++) {
        int32_t u = iu->indices[q];
        int64_t k = tl_csr_find(ui, u, i);
        if (k < 0)
            continue;
        int64_t lo = ui->indptr[u], len = ui->indptr[u + 1] - lo, p = pos[k];
        double wgt = 1.0;
        for (int s = 1; s <= o->window && wgt > 0; s++, wgt *= o->decay) {
            if (p + s < len) {
                int32_t j = ord[lo + p + s];
                if (acc[j] == 0.0f)
                    touched[nt++] = j;
                acc[j] += (float)wgt;
            }
            if (o->backward > 0 && p - s >= 0) {
                int32_t j = ord[lo + p - s];
                if (acc[j] == 0.0f)
                    touched[nt++] = j;
                acc[j] += (float)(wgt * o->backward);
            }
        }
    }
    double total = 0;
    for (int32_t t = 0; t < nt; t++)
        total += acc[touched[t]];
    for (int32_t t = 0; t < nt; t++) {
        int32_t j = touched[t];
        tv[t] = j == i ? -INFINITY : (float)(acc[j] / (total + o->shrink) / damp[j]);
        acc[j] = 0.0f;
    }
    int got = tl_topk(tv, nt, keep < nt ? keep : nt, sel, selv);
    /* Back to item indices, then ascending columns for binary search. */
    for (int g = 0; g < got; g++)
        sel[g] = touched[sel[g]];
    for (int g = 1; g < got; g++) {
        int32_t c = sel[g];
        float v = selv[g];
        int h = g;
        while (h > 0 && sel[h - 1] > c) {
            sel[h] = sel[h - 1];
            selv[h] = selv[h - 1];
            h--;
        }
        sel[h] = c;
        selv[h] = v;
    }
    memcpy(cols, sel, (size_t)got * sizeof(*cols));
    memcpy(vals, selv, (size_t)got * sizeof(*vals));
    return got;
}

static tl_err build_successors(const tl_data *d, const int32_t *ord, const int32_t *pos,
                               const seq_cfg *o, state *st)
{
    int32_t n = st->n_items;
    int k = o->k < n ? o->k : n;
    if (k < 1)
        k = 1;
    tl_err rc = TL_ENOMEM;
    int32_t *cnt = calloc((size_t)n + 1, sizeof(*cnt));
    int32_t *cols = malloc((size_t)n * (size_t)k * sizeof(*cols));
    float *vals = malloc((size_t)n * (size_t)k * sizeof(*vals));
    double *damp = malloc((size_t)(n ? n : 1) * sizeof(*damp));
    if (!cnt || !cols || !vals || !damp)
        goto out;
    for (int32_t j = 0; j < n; j++) {
        double users = (double)(d->iu.indptr[j + 1] - d->iu.indptr[j]);
        damp[j] = o->beta > 0 && users > 0 ? pow(users, o->beta) : 1.0;
    }
    rc = TL_OK;
#pragma omp parallel
    {
        float *acc = calloc((size_t)n + 1, sizeof(*acc));
        int32_t *touched = malloc(((size_t)n + 1) * sizeof(*touched));
        float *tv = malloc(((size_t)n + 1) * sizeof(*tv));
        int32_t *sel = malloc(((size_t)k + 1) * sizeof(*sel));
        float *selv = malloc(((size_t)k + 1) * sizeof(*selv));
        int okay = acc && touched && tv && sel && selv;
        if (!okay) {
#pragma omp atomic write
            rc = TL_ENOMEM;
        }
#pragma omp for schedule(dynamic, 16)
        for (int32_t i = 0; i < n; i++)
            if (okay)
                cnt[i + 1] =
                    successors_of(d, ord, pos, o, k, damp, i, acc, touched, tv, sel, selv,
                                  cols + (size_t)i * (size_t)k, vals + (size_t)i * (size_t)k);
        free(acc);
        free(touched);
        free(tv);
        free(sel);
        free(selv);
    }
    if (rc != TL_OK)
        goto out;
    rc = TL_ENOMEM;
    tl_csr *s = &st->succ;
    s->nrows = s->ncols = n;
    if (!(s->indptr = malloc(((size_t)n + 1) * sizeof(*s->indptr))))
        goto out;
    s->indptr[0] = 0;
    for (int32_t i = 0; i < n; i++)
        s->indptr[i + 1] = s->indptr[i] + cnt[i + 1];
    s->nnz = s->indptr[n];
    s->indices = malloc((size_t)(s->nnz ? s->nnz : 1) * sizeof(*s->indices));
    s->data = malloc((size_t)(s->nnz ? s->nnz : 1) * sizeof(*s->data));
    if (!s->indices || !s->data)
        goto out;
    for (int32_t i = 0; i < n; i++) {
        memcpy(s->indices + s->indptr[i], cols + (size_t)i * (size_t)k,
               (size_t)cnt[i + 1] * sizeof(int32_t));
        memcpy(s->data + s->indptr[i], vals + (size_t)i * (size_t)k,
               (size_t)cnt[i + 1] * sizeof(float));
    }
    rc = TL_OK;
out:
    free(cnt);
    free(cols);
    free(vals);
    free(damp);
    return rc;
}

static tl_err fit(tl_model *m, const tl_data *d, tl_diag *diag)
{
    (void)diag;
    const seq_cfg *cfg = m->cfg;
    const tl_csr *ui = &d->ui;
    tl_err rc = TL_ENOMEM;
    int32_t *ord = malloc((size_t)(ui->nnz ? ui->nnz : 1) * sizeof(*ord));
    int32_t *pos = malloc((size_t)(ui->nnz ? ui->nnz : 1) * sizeof(*pos));
    state *st = calloc(1, sizeof(*st));
    if (!ord || !pos || !st)
        goto out;
    st->owned = 1;
    st->n_items = m->n_items;
    st->n_users = m->n_users;
    st->hist = cfg->history;
    if ((rc = order_rows(ui, ord, pos)) != TL_OK)
        goto out;
    if ((rc = build_successors(d, ord, pos, cfg, st)) != TL_OK)
        goto out;
    rc = TL_ENOMEM;
    size_t nrec = (size_t)st->n_users * (size_t)st->hist;
    if (!(st->recent = malloc((nrec ? nrec : 1) * sizeof(*st->recent))))
        goto out;
    for (int32_t u = 0; u < st->n_users; u++) {
        int32_t *r = st->recent + (size_t)u * (size_t)st->hist;
        int64_t lo = u < ui->nrows ? ui->indptr[u] : 0;
        int64_t hi = u < ui->nrows ? ui->indptr[u + 1] : 0;
        for (int32_t q = 0; q < st->hist; q++)
            r[q] = hi - 1 - q >= lo ? ord[hi - 1 - q] : -1;
    }
    double pw = cfg->pop_weight;
    if (pw > 0) {
        if (!(st->prior = malloc((size_t)(st->n_items ? st->n_items : 1) * sizeof(float))))
            goto out;
        int64_t maxc = 0;
        for (int32_t i = 0; i < st->n_items; i++) {
            int64_t c = d->iu.indptr[i + 1] - d->iu.indptr[i];
            maxc = c > maxc ? c : maxc;
        }
        for (int32_t i = 0; i < st->n_items; i++) {
            double c = (double)(d->iu.indptr[i + 1] - d->iu.indptr[i]);
            st->prior[i] = maxc ? (float)(pw * log1p(c) / log1p((double)maxc)) : 0.0f;
        }
    }
    m->state = st;
    st = NULL;
    rc = TL_OK;
out:
    if (st) {
        m->state = st;
        release(m);
    }
    free(ord);
    free(pos);
    return rc;
}

/* ---- scoring ---- */

/* The recent history as positions into items[], most recent first; returns how many. */
static int recent_of(const state *st, const seq_cfg *cfg, int32_t uidx, const int32_t *items,
                     int32_t n, int32_t *out)
{
    int want = cfg->history;
    int got = 0;
    if (uidx >= 0 && uidx < st->n_users) {
        int lim = want < st->hist ? want : st->hist;
        const int32_t *r = st->recent + (size_t)uidx * (size_t)st->hist;
        for (int q = 0; q < lim && r[q] >= 0; q++)
            for (int32_t h = 0; h < n; h++)
                if (items[h] == r[q]) {
                    out[got++] = h;
                    break;
                }
    }
    if (got)
        return got;
    for (int32_t h = n - 1; h >= 0 && got < want; h--)
        if (items[h] >= 0 && items[h] < st->n_items)
            out[got++] = h;
    return got;
}

/* The recent list is at most `history` (<= 1000) positions: kept on the stack. */
#define RECENT_MAX 1000

static tl_err score(const tl_model *m, int32_t uidx, const int32_t *items, const float *w,
                    int32_t n, float *scores, float *scratch)
{
    (void)w;
    (void)scratch;
    const state *st = m->state;
    const seq_cfg *cfg = m->cfg;
    int32_t rec[RECENT_MAX];
    int nr = recent_of(st, cfg, uidx, items, n, rec);
    double decay = cfg->recency;
    for (int32_t j = 0; j < st->n_items; j++)
        scores[j] = st->prior ? st->prior[j] : 0.0f;
    float wgt = 1.0f;
    for (int q = 0; q < nr; q++, wgt *= (float)decay) {
        int32_t i = items[rec[q]];
        for (int64_t k = st->succ.indptr[i]; k < st->succ.indptr[i + 1]; k++)
            scores[st->succ.indices[k]] += wgt * st->succ.data[k];
    }
    return TL_OK;
}

static int explain(const tl_model *m, int32_t uidx, const int32_t *items, const float *w, int32_t n,
                   int32_t item, int32_t *why, float *contrib, int max)
{
    (void)w;
    const state *st = m->state;
    if (item < 0 || item >= st->n_items || max <= 0)
        return 0;
    const seq_cfg *cfg = m->cfg;
    int32_t rec[RECENT_MAX];
    int nr = recent_of(st, cfg, uidx, items, n, rec);
    double decay = cfg->recency;
    float wgt = 1.0f;
    int got = 0;
    for (int q = 0; q < nr; q++, wgt *= (float)decay) {
        int64_t k = tl_csr_find(&st->succ, items[rec[q]], item);
        float c = k >= 0 ? wgt * st->succ.data[k] : 0.0f;
        if (c > 0)
            got = tl_topk_insert(why, contrib, got, max, rec[q], c);
    }
    return got;
}

/* ---- model file ---- */

static tl_err save(const tl_model *m, tl_mfile_writer *w)
{
    state *st = m->state;
    st->dims[0] = st->n_items;
    st->dims[1] = st->n_users;
    st->dims[2] = st->hist;
    tl_err rc;
    if ((rc = tl_mfile_add(w, "sequence.dims", TL_MT_I64, st->dims, 3)) ||
        (rc = tl_mfile_add(w, "sequence.succ.ptr", TL_MT_I64, st->succ.indptr,
                           (uint64_t)st->n_items + 1)) ||
        (rc = tl_mfile_add(w, "sequence.succ.idx", TL_MT_I32, st->succ.indices,
                           (uint64_t)st->succ.nnz)) ||
        (rc = tl_mfile_add(w, "sequence.succ.val", TL_MT_F32, st->succ.data,
                           (uint64_t)st->succ.nnz)) ||
        (rc = tl_mfile_add(w, "sequence.recent", TL_MT_I32, st->recent,
                           (uint64_t)st->n_users * (uint64_t)st->hist)))
        return rc;
    if (st->prior)
        rc = tl_mfile_add(w, "sequence.prior", TL_MT_F32, st->prior, (uint64_t)st->n_items);
    return rc;
}

static tl_err load(tl_model *m, const tl_mfile *f, tl_diag *diag)
{
    state *st = calloc(1, sizeof(*st));
    if (!st)
        return TL_ENOMEM;
    uint64_t n, np, ni, nv, nr, nprior;
    const int64_t *dims = tl_mfile_get(f, "sequence.dims", TL_MT_I64, &n);
    const int64_t *ptr = tl_mfile_get(f, "sequence.succ.ptr", TL_MT_I64, &np);
    const int32_t *idx = tl_mfile_get(f, "sequence.succ.idx", TL_MT_I32, &ni);
    const float *val = tl_mfile_get(f, "sequence.succ.val", TL_MT_F32, &nv);
    const int32_t *rec = tl_mfile_get(f, "sequence.recent", TL_MT_I32, &nr);
    const float *prior = tl_mfile_get(f, "sequence.prior", TL_MT_F32, &nprior);
    int ok = dims && n == 3 && ptr && idx && val && rec && dims[0] == m->n_items &&
             dims[1] == m->n_users && dims[2] >= 1 && dims[2] <= RECENT_MAX &&
             np == (uint64_t)m->n_items + 1 && ni == nv && ptr[0] == 0 &&
             ptr[m->n_items] == (int64_t)ni && nr == (uint64_t)m->n_users * (uint64_t)dims[2] &&
             (!prior || nprior == (uint64_t)m->n_items);
    for (int32_t i = 0; ok && i < m->n_items; i++)
        ok = ptr[i + 1] >= ptr[i];
    for (uint64_t k = 0; ok && k < ni; k++)
        ok = idx[k] >= 0 && idx[k] < m->n_items;
    for (uint64_t k = 0; ok && k < nr; k++)
        ok = rec[k] >= -1 && rec[k] < m->n_items;
    if (!ok) {
        tl_diag_set(diag, NULL, 0, NULL, "sequence: missing or malformed sections");
        free(st);
        return TL_ECORRUPT;
    }
    st->n_items = m->n_items;
    st->n_users = m->n_users;
    st->hist = (int32_t)dims[2];
    st->succ.nrows = st->succ.ncols = m->n_items;
    st->succ.nnz = (int64_t)ni;
    st->succ.indptr = (int64_t *)ptr;
    st->succ.indices = (int32_t *)idx;
    st->succ.data = (float *)val;
    st->recent = (int32_t *)rec;
    st->prior = (float *)prior;
    m->state = st;
    return TL_OK;
}

const tl_model_ops tl_sequence_ops = {
    .name = "sequence",
    .summary = "what comes next: time-ordered item-to-item transitions, recency-weighted",
    TL_MODEL_PARAMS(params, seq_cfg),
    .ignores_weights = 1,
    .tune_temporal = 1,
    /* Direction matters for series and courses, less for taste: let validation decide. */
    .tune_grid = "backward=0,0.5,1;history=5,20;recency=0.5,0.7,0.9",
    .fit = fit,
    .score = score,
    .save = save,
    .load = load,
    .release = release,
    .explain = explain,
};
