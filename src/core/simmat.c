/* Top-k pruned sparse item x item matrices: the parallel row builder (per-thread dense
 * accumulators, bounded top-k selection, block-wise packing so memory stays O(block x k)),
 * scoring by summing history rows, explanations, and model-file sections. */
#include "core/simmat.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/topk.h"

/* Rows computed between two packing steps: enough to keep every thread busy, few enough that
 * the block buffer (rows x k entries of 12 bytes) stays within ENTRY_BUDGET entries. */
#define BLOCK_ROWS 4096
#define MIN_BLOCK_ROWS 64
#define ENTRY_BUDGET (4 << 20)

typedef struct entry {
    float key; /* what is ranked: the weight or its magnitude */
    float val;
    int32_t idx;
} entry;

/* a ranks below b: smaller key, or the same key and a higher index. */
static inline int below(const entry *a, const entry *b)
{
    return a->key < b->key || (a->key == b->key && a->idx > b->idx);
}

static void heap_down(entry *h, int n, int i)
{
    for (;;) {
        int l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && below(&h[l], &h[m]))
            m = l;
        if (r < n && below(&h[r], &h[m]))
            m = r;
        if (m == i)
            return;
        entry t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
}

static void heap_up(entry *h, int i)
{
    while (i > 0) {
        int p = (i - 1) / 2;
        if (!below(&h[i], &h[p]))
            return;
        entry t = h[i];
        h[i] = h[p];
        h[p] = t;
        i = p;
    }
}

static int cmp_entry_idx(const void *a, const void *b)
{
    const entry *x = a, *y = b;
    return (x->idx > y->idx) - (x->idx < y->idx);
}

/* Picks the entries of one accumulated row into out (at most k; k <= 0 = all), sorted by
 * index, and empties the accumulator. Returns how many. */
static int collect_row(tl_simacc *acc, int32_t row, const tl_simmat_opts *o, int kcap, entry *out)
{
    int h = 0;
    for (int32_t t = 0; t < acc->nt; t++) {
        int32_t j = acc->idx[t];
        float v = acc->val[j];
        acc->val[j] = 0.0f;
        acc->seen[j] = 0;
        if (v == 0.0f || !isfinite(v) || (j == row && !o->keep_self))
            continue;
        entry e = {o->by_abs ? fabsf(v) : v, v, j};
        if (h < kcap) {
            out[h] = e;
            heap_up(out, h);
            h++;
        } else if (below(&out[0], &e)) {
            out[0] = e;
            heap_down(out, h, 0);
        }
    }
    acc->nt = 0;
    qsort(out, (size_t)h, sizeof(*out), cmp_entry_idx);
    return h;
}

static tl_err grow(tl_csr *a, int64_t need, int64_t *cap)
{
    if (need <= *cap)
        return TL_OK;
    int64_t nc = *cap ? *cap : 1024;
    while (nc < need)
        nc *= 2;
    int32_t *ni = realloc(a->indices, (size_t)nc * sizeof(*ni));
    if (!ni)
        return TL_ENOMEM;
    a->indices = ni;
    float *nv = realloc(a->data, (size_t)nc * sizeof(*nv));
    if (!nv)
        return TL_ENOMEM;
    a->data = nv;
    *cap = nc;
    return TL_OK;
}

tl_err tl_simmat_build(int32_t n, const tl_simmat_opts *o, tl_simmat_row_fn fn, const void *ctx,
                       tl_simmat *out)
{
    if (n < 0)
        return TL_EINVAL;
    tl_err rc = TL_ENOMEM;
    int nth = omp_get_max_threads();
    /* A row never holds more than n entries, so k beyond n (or "all") is n. */
    int kcap = (o->k <= 0 || o->k > n) ? (n ? n : 1) : o->k;
    int64_t blk = ENTRY_BUDGET / kcap;
    blk = blk < MIN_BLOCK_ROWS ? MIN_BLOCK_ROWS : blk > BLOCK_ROWS ? BLOCK_ROWS : blk;
    int32_t block = n < blk ? (n ? n : 1) : (int32_t)blk;
    tl_csr a = {0};
    int64_t cap = 0;
    float *val = calloc((size_t)nth * (size_t)(n ? n : 1), sizeof(*val));
    int32_t *idx = malloc((size_t)nth * (size_t)(n ? n : 1) * sizeof(*idx));
    uint8_t *seen = calloc((size_t)nth * (size_t)(n ? n : 1), 1);
    entry *buf = malloc((size_t)block * (size_t)kcap * sizeof(*buf));
    int *cnt = malloc((size_t)block * sizeof(*cnt));
    a.indptr = calloc((size_t)n + 1, sizeof(*a.indptr));
    if (!val || !idx || !seen || !buf || !cnt || !a.indptr)
        goto out;
    a.nrows = a.ncols = n;

    for (int32_t r0 = 0; r0 < n; r0 += block) {
        int32_t r1 = r0 + block < n ? r0 + block : n;
#pragma omp parallel num_threads(nth)
        {
            int t = omp_get_thread_num();
            tl_simacc acc = {val + (size_t)t * n, idx + (size_t)t * n, 0, seen + (size_t)t * n};
#pragma omp for schedule(dynamic, 8)
            for (int32_t r = r0; r < r1; r++) {
                fn(ctx, r, &acc);
                cnt[r - r0] = collect_row(&acc, r, o, kcap, buf + (size_t)(r - r0) * kcap);
            }
        }
        int64_t add = 0;
        for (int32_t r = r0; r < r1; r++)
            add += cnt[r - r0];
        if ((rc = grow(&a, a.nnz + add, &cap)) != TL_OK)
            goto out;
        for (int32_t r = r0; r < r1; r++) {
            const entry *e = buf + (size_t)(r - r0) * kcap;
            for (int i = 0; i < cnt[r - r0]; i++) {
                a.indices[a.nnz] = e[i].idx;
                a.data[a.nnz] = e[i].val;
                a.nnz++;
            }
            a.indptr[r + 1] = a.nnz;
        }
    }
    if (o->transpose) {
        tl_csr t;
        if ((rc = tl_csr_transpose(&a, &t)) != TL_OK)
            goto out;
        tl_csr_release(&a);
        a = t;
    } else {
        /* Give back the doubling slack. */
        int64_t keep = a.nnz ? a.nnz : 1;
        int32_t *ni = realloc(a.indices, (size_t)keep * sizeof(*ni));
        if (ni)
            a.indices = ni;
        float *nv = realloc(a.data, (size_t)keep * sizeof(*nv));
        if (nv)
            a.data = nv;
    }
    out->w = a;
    out->owned = 1;
    memset(&a, 0, sizeof(a));
    if (o->normalize)
        tl_simmat_normalize_rows(out);
    rc = TL_OK;
out:
    tl_csr_release(&a);
    free(val);
    free(idx);
    free(seen);
    free(buf);
    free(cnt);
    return rc;
}

tl_err tl_simmat_check_data(const tl_data *d, int32_t n_items, tl_diag *diag)
{
    if (d->ui.ncols == n_items && d->iu.nrows == n_items && d->iu.ncols == d->ui.nrows)
        return TL_OK;
    tl_diag_set(diag, NULL, 0, NULL,
                "the interaction matrices cover %d items but %d are interned: rebuild them "
                "after adding items",
                d->iu.nrows, n_items);
    return TL_EINVAL;
}

tl_err tl_simmat_from_csr(const tl_csr *a, tl_simmat *out)
{
    tl_csr c;
    tl_err rc = tl_csr_copy(a, &c);
    if (rc != TL_OK)
        return rc;
    free(c.ts);
    c.ts = NULL;
    out->w = c;
    out->owned = 1;
    return TL_OK;
}

void tl_simmat_release(tl_simmat *s)
{
    if (!s)
        return;
    if (s->owned)
        tl_csr_release(&s->w);
    memset(s, 0, sizeof(*s));
}

void tl_simmat_normalize_rows(tl_simmat *s)
{
    const tl_csr *a = &s->w;
#pragma omp parallel for schedule(static)
    for (int32_t r = 0; r < a->nrows; r++) {
        double sum = 0.0;
        for (int64_t p = a->indptr[r]; p < a->indptr[r + 1]; p++)
            sum += fabsf(a->data[p]);
        if (sum > 0.0)
            for (int64_t p = a->indptr[r]; p < a->indptr[r + 1]; p++)
                a->data[p] = (float)(a->data[p] / sum);
    }
}

void tl_simmat_score(const tl_simmat *s, const int32_t *items, const float *w, int32_t n_hist,
                     float *scores)
{
    const tl_csr *a = &s->w;
    memset(scores, 0, (size_t)a->ncols * sizeof(*scores));
    for (int32_t h = 0; h < n_hist; h++) {
        int32_t j = items[h];
        if (j < 0 || j >= a->nrows)
            continue;
        float wj = w ? w[h] : 1.0f;
        const int32_t *ix = a->indices + a->indptr[j];
        const float *v = a->data + a->indptr[j];
        int64_t len = a->indptr[j + 1] - a->indptr[j];
        for (int64_t p = 0; p < len; p++)
            scores[ix[p]] += wj * v[p];
    }
}

float tl_simmat_get(const tl_simmat *s, int32_t row, int32_t col)
{
    if (row < 0 || row >= s->w.nrows)
        return 0.0f;
    int64_t p = tl_csr_find(&s->w, row, col);
    return p < 0 ? 0.0f : s->w.data[p];
}

int tl_simmat_explain(const tl_simmat *s, const int32_t *items, const float *w, int32_t n_hist,
                      int32_t item, int32_t *why, float *contrib, int max)
{
    int got = 0;
    if (max <= 0)
        return 0;
    /* Insertion into a short sorted list: max is a handful (the reasons a UI shows). */
    for (int32_t h = 0; h < n_hist; h++) {
        float c = (w ? w[h] : 1.0f) * tl_simmat_get(s, items[h], item);
        if (c > 0.0f)
            got = tl_topk_insert(why, contrib, got, max, h, c);
    }
    return got;
}

static void section_name(char *buf, size_t len, const char *prefix, const char *what)
{
    snprintf(buf, len, "%s%s", prefix, what);
}

tl_err tl_simmat_save(const tl_simmat *s, const char *prefix, tl_mfile_writer *w)
{
    char name[TL_MFILE_NAME_MAX];
    tl_err rc;
    if (strlen(prefix) > 24)
        return TL_EINVAL;
    section_name(name, sizeof(name), prefix, "ptr");
    if ((rc = tl_mfile_add(w, name, TL_MT_I64, s->w.indptr, (uint64_t)s->w.nrows + 1)) != TL_OK)
        return rc;
    section_name(name, sizeof(name), prefix, "idx");
    if ((rc = tl_mfile_add(w, name, TL_MT_I32, s->w.indices, (uint64_t)s->w.nnz)) != TL_OK)
        return rc;
    section_name(name, sizeof(name), prefix, "val");
    return tl_mfile_add(w, name, TL_MT_F32, s->w.data, (uint64_t)s->w.nnz);
}

tl_err tl_simmat_load(tl_simmat *s, const tl_mfile *f, const char *prefix, int32_t n, tl_diag *diag)
{
    char name[TL_MFILE_NAME_MAX], bad[TL_MFILE_NAME_MAX];
    uint64_t np = 0, ni = 0, nv = 0;
    section_name(name, sizeof(name), prefix, "ptr");
    const int64_t *ptr = tl_mfile_get(f, name, TL_MT_I64, &np);
    section_name(name, sizeof(name), prefix, "idx");
    const int32_t *ix = tl_mfile_get(f, name, TL_MT_I32, &ni);
    section_name(name, sizeof(name), prefix, "val");
    const float *v = tl_mfile_get(f, name, TL_MT_F32, &nv);
    section_name(bad, sizeof(bad), prefix, "ptr");
    if (!ptr || np != (uint64_t)n + 1 || ptr[0] != 0 || (uint64_t)ptr[n] != ni || ni != nv ||
        (ni && (!ix || !v)))
        goto corrupt;
    for (int32_t r = 0; r < n; r++)
        if (ptr[r + 1] < ptr[r])
            goto corrupt;
    section_name(bad, sizeof(bad), prefix, "idx");
    for (uint64_t p = 0; p < ni; p++)
        if (ix[p] < 0 || ix[p] >= n)
            goto corrupt;
    memset(s, 0, sizeof(*s));
    s->w.nrows = s->w.ncols = n;
    s->w.nnz = (int64_t)ni;
    /* The mapping is read-only; owned = 0 keeps every writer and free away from it. */
    s->w.indptr = (int64_t *)ptr;
    s->w.indices = (int32_t *)ix;
    s->w.data = (float *)v;
    s->owned = 0;
    return TL_OK;
corrupt:
    tl_diag_set(diag, NULL, 0, bad, "missing or inconsistent section for a %d-item matrix", n);
    return TL_ECORRUPT;
}
