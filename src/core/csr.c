/* CSR construction by counting sort, transpose and helpers. */
#include "core/csr.h"

#include <stdlib.h>
#include <string.h>

tl_err tl_coo_init(tl_coo *c, int64_t cap, int with_ts)
{
    memset(c, 0, sizeof(*c));
    if (cap < 16)
        cap = 16;
    c->rows = malloc((size_t)cap * sizeof(*c->rows));
    c->cols = malloc((size_t)cap * sizeof(*c->cols));
    c->vals = malloc((size_t)cap * sizeof(*c->vals));
    c->ts = with_ts ? malloc((size_t)cap * sizeof(*c->ts)) : NULL;
    c->cap = cap;
    if (!c->rows || !c->cols || !c->vals || (with_ts && !c->ts)) {
        tl_coo_release(c);
        return TL_ENOMEM;
    }
    return TL_OK;
}

void tl_coo_release(tl_coo *c)
{
    free(c->rows);
    free(c->cols);
    free(c->vals);
    free(c->ts);
    memset(c, 0, sizeof(*c));
}

#define GROW(ptr, cap)                                                                             \
    do {                                                                                           \
        void *np_ = realloc((ptr), (size_t)(cap) * sizeof(*(ptr)));                                \
        if (!np_)                                                                                  \
            return TL_ENOMEM;                                                                      \
        (ptr) = np_;                                                                               \
    } while (0)

tl_err tl_coo_push(tl_coo *c, int32_t row, int32_t col, float val, int64_t ts)
{
    if (c->n == c->cap) {
        int64_t cap = c->cap * 2;
        GROW(c->rows, cap);
        GROW(c->cols, cap);
        GROW(c->vals, cap);
        if (c->ts)
            GROW(c->ts, cap);
        c->cap = cap;
    }
    c->rows[c->n] = row;
    c->cols[c->n] = col;
    c->vals[c->n] = val;
    if (c->ts)
        c->ts[c->n] = ts;
    c->n++;
    return TL_OK;
}

void tl_csr_release(tl_csr *a)
{
    free(a->indptr);
    free(a->indices);
    free(a->data);
    free(a->ts);
    memset(a, 0, sizeof(*a));
}

static tl_err csr_alloc(tl_csr *a, int32_t nrows, int32_t ncols, int64_t nnz, int with_ts)
{
    memset(a, 0, sizeof(*a));
    a->nrows = nrows;
    a->ncols = ncols;
    a->nnz = nnz;
    a->indptr = calloc((size_t)nrows + 1, sizeof(*a->indptr));
    a->indices = malloc((size_t)(nnz ? nnz : 1) * sizeof(*a->indices));
    a->data = malloc((size_t)(nnz ? nnz : 1) * sizeof(*a->data));
    a->ts = with_ts ? malloc((size_t)(nnz ? nnz : 1) * sizeof(*a->ts)) : NULL;
    if (!a->indptr || !a->indices || !a->data || (with_ts && !a->ts)) {
        tl_csr_release(a);
        return TL_ENOMEM;
    }
    return TL_OK;
}

/* Sorts one row's (col, val, ts) by col with insertion sort for short rows, else by an
 * index sort; rows are usually short and nearly sorted when input is grouped by user. */
static void sort_row(int32_t *cols, float *vals, int64_t *ts, int64_t n)
{
    for (int64_t i = 1; i < n; i++) {
        int32_t c = cols[i];
        float v = vals[i];
        int64_t t = ts ? ts[i] : 0;
        int64_t j = i - 1;
        while (j >= 0 && cols[j] > c) {
            cols[j + 1] = cols[j];
            vals[j + 1] = vals[j];
            if (ts)
                ts[j + 1] = ts[j];
            j--;
        }
        cols[j + 1] = c;
        vals[j + 1] = v;
        if (ts)
            ts[j + 1] = t;
    }
}

typedef struct {
    int32_t col;
    int32_t pos;
} colpos;

static int cmp_colpos(const void *a, const void *b)
{
    const colpos *x = a, *y = b;
    if (x->col != y->col)
        return x->col < y->col ? -1 : 1;
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static tl_err sort_long_row(int32_t *cols, float *vals, int64_t *ts, int64_t n)
{
    colpos *cp = malloc((size_t)n * sizeof(*cp));
    float *v2 = malloc((size_t)n * sizeof(*v2));
    int64_t *t2 = ts ? malloc((size_t)n * sizeof(*t2)) : NULL;
    if (!cp || !v2 || (ts && !t2)) {
        free(cp);
        free(v2);
        free(t2);
        return TL_ENOMEM;
    }
    for (int64_t i = 0; i < n; i++) {
        cp[i].col = cols[i];
        cp[i].pos = (int32_t)i;
    }
    qsort(cp, (size_t)n, sizeof(*cp), cmp_colpos); /* stable through pos: TL_DUP_LAST works */
    for (int64_t i = 0; i < n; i++) {
        v2[i] = vals[cp[i].pos];
        if (ts)
            t2[i] = ts[cp[i].pos];
    }
    for (int64_t i = 0; i < n; i++)
        cols[i] = cp[i].col;
    memcpy(vals, v2, (size_t)n * sizeof(*v2));
    if (ts)
        memcpy(ts, t2, (size_t)n * sizeof(*t2));
    free(cp);
    free(v2);
    free(t2);
    return TL_OK;
}

/* Sorts each row of a (filled in input order) by column, then merges duplicate columns in
 * place by dup (timestamps keep their maximum); a.nnz becomes the merged count. */
static tl_err sort_and_merge(tl_csr *a, tl_dup dup)
{
    tl_err rc;
    int64_t w = 0;
    for (int32_t r = 0; r < a->nrows; r++) {
        int64_t lo = a->indptr[r], hi = a->indptr[r + 1], n = hi - lo;
        if (n > 32) {
            if ((rc = sort_long_row(a->indices + lo, a->data + lo, a->ts ? a->ts + lo : NULL, n)))
                return rc;
        } else {
            sort_row(a->indices + lo, a->data + lo, a->ts ? a->ts + lo : NULL, n);
        }
        a->indptr[r] = w;
        for (int64_t p = lo; p < hi; p++) {
            if (w > a->indptr[r] && a->indices[w - 1] == a->indices[p]) {
                if (dup == TL_DUP_SUM)
                    a->data[w - 1] += a->data[p];
                else if (dup == TL_DUP_MAX)
                    a->data[w - 1] = a->data[p] > a->data[w - 1] ? a->data[p] : a->data[w - 1];
                else
                    a->data[w - 1] = a->data[p];
                if (a->ts && a->ts[p] > a->ts[w - 1])
                    a->ts[w - 1] = a->ts[p];
                continue;
            }
            a->indices[w] = a->indices[p];
            a->data[w] = a->data[p];
            if (a->ts)
                a->ts[w] = a->ts[p];
            w++;
        }
    }
    a->indptr[a->nrows] = w;
    a->nnz = w;
    return TL_OK;
}

/* indptr (nrows + 1, zeroed) = the row starts of c's entries; TL_EINVAL for one outside the
 * shape. */
static tl_err count_rows(const tl_coo *c, int32_t nrows, int32_t ncols, int64_t *indptr)
{
    for (int64_t i = 0; i < c->n; i++) {
        if (c->rows[i] < 0 || c->rows[i] >= nrows || c->cols[i] < 0 || c->cols[i] >= ncols)
            return TL_EINVAL;
        indptr[c->rows[i] + 1]++;
    }
    for (int32_t r = 0; r < nrows; r++)
        indptr[r + 1] += indptr[r];
    return TL_OK;
}

tl_err tl_csr_from_coo(const tl_coo *c, int32_t nrows, int32_t ncols, tl_dup dup, tl_csr *out)
{
    tl_csr a;
    tl_err rc = csr_alloc(&a, nrows, ncols, c->n, c->ts != NULL);
    if (rc != TL_OK)
        return rc;
    if ((rc = count_rows(c, nrows, ncols, a.indptr)) != TL_OK) {
        tl_csr_release(&a);
        return rc;
    }
    int64_t *next = malloc((size_t)(nrows ? nrows : 1) * sizeof(*next));
    if (!next) {
        tl_csr_release(&a);
        return TL_ENOMEM;
    }
    memcpy(next, a.indptr, (size_t)nrows * sizeof(*next));
    for (int64_t i = 0; i < c->n; i++) {
        int64_t p = next[c->rows[i]]++;
        a.indices[p] = c->cols[i];
        a.data[p] = c->vals[i];
        if (a.ts)
            a.ts[p] = c->ts[i];
    }
    free(next);
    if ((rc = sort_and_merge(&a, dup)) != TL_OK) {
        tl_csr_release(&a);
        return rc;
    }
    *out = a;
    return TL_OK;
}

/* p shrunk to n elements of size sz (n = 0 keeps one); p itself when realloc fails. */
static void *shrink(void *p, int64_t n, size_t sz)
{
    void *q = realloc(p, (size_t)(n ? n : 1) * sz);
    return q ? q : p;
}

tl_err tl_csr_from_coo_take(tl_coo *c, int32_t nrows, int32_t ncols, tl_dup dup, tl_csr *out)
{
    tl_csr a = {0};
    tl_err rc = TL_OK;
    if (c->n > INT32_MAX) { /* positions no longer fit the rows array: build a copy */
        rc = tl_csr_from_coo(c, nrows, ncols, dup, out);
        goto out;
    }
    a.nrows = nrows;
    a.ncols = ncols;
    a.nnz = c->n;
    rc = TL_ENOMEM;
    if (!(a.indptr = calloc((size_t)nrows + 1, sizeof(*a.indptr))))
        goto out;
    if ((rc = count_rows(c, nrows, ncols, a.indptr)) != TL_OK)
        goto out;
    /* Each entry's place in the CSR, in input order within a row (as tl_csr_from_coo puts
     * them), overwrites its row; then the entries move there along the permutation's cycles,
     * each swap settling one, so that sorting and merging see exactly what the copying
     * build sees. indptr[r] serves as row r's next free place and so ends at row r + 1's
     * start: one shift restores the starts. */
    int32_t *dest = c->rows;
    for (int64_t i = 0; i < c->n; i++) {
        int32_t r = dest[i];
        dest[i] = (int32_t)a.indptr[r]++;
    }
    memmove(a.indptr + 1, a.indptr, (size_t)nrows * sizeof(*a.indptr));
    a.indptr[0] = 0;
    for (int64_t i = 0; i < c->n; i++) {
        while (dest[i] != i) {
            int32_t j = dest[i];
            int32_t tc = c->cols[i];
            float tv = c->vals[i];
            c->cols[i] = c->cols[j];
            c->vals[i] = c->vals[j];
            c->cols[j] = tc;
            c->vals[j] = tv;
            if (c->ts) {
                int64_t tt = c->ts[i];
                c->ts[i] = c->ts[j];
                c->ts[j] = tt;
            }
            dest[i] = dest[j];
            dest[j] = j;
        }
    }
    free(c->rows);
    c->rows = NULL;
    a.indices = c->cols;
    a.data = c->vals;
    a.ts = c->ts;
    c->cols = NULL;
    c->vals = NULL;
    c->ts = NULL;
    if ((rc = sort_and_merge(&a, dup)) != TL_OK)
        goto out;
    /* Give back the triplets' spare capacity and what merging freed. */
    a.indices = shrink(a.indices, a.nnz, sizeof(*a.indices));
    a.data = shrink(a.data, a.nnz, sizeof(*a.data));
    if (a.ts)
        a.ts = shrink(a.ts, a.nnz, sizeof(*a.ts));
    *out = a;
    memset(&a, 0, sizeof(a));
out:
    tl_csr_release(&a);
    tl_coo_release(c);
    return rc;
}

static tl_err transpose(const tl_csr *a, int with_ts, tl_csr *out)
{
    tl_csr t;
    tl_err rc = csr_alloc(&t, a->ncols, a->nrows, a->nnz, with_ts && a->ts);
    if (rc != TL_OK)
        return rc;
    for (int64_t p = 0; p < a->nnz; p++)
        t.indptr[a->indices[p] + 1]++;
    for (int32_t r = 0; r < t.nrows; r++)
        t.indptr[r + 1] += t.indptr[r];
    int64_t *next = malloc((size_t)(t.nrows ? t.nrows : 1) * sizeof(*next));
    if (!next) {
        tl_csr_release(&t);
        return TL_ENOMEM;
    }
    memcpy(next, t.indptr, (size_t)t.nrows * sizeof(*next));
    /* Rows of a are visited in order, so each row of t comes out sorted. */
    for (int32_t r = 0; r < a->nrows; r++) {
        for (int64_t p = a->indptr[r]; p < a->indptr[r + 1]; p++) {
            int64_t q = next[a->indices[p]]++;
            t.indices[q] = r;
            t.data[q] = a->data[p];
            if (t.ts)
                t.ts[q] = a->ts[p];
        }
    }
    free(next);
    *out = t;
    return TL_OK;
}

tl_err tl_csr_transpose(const tl_csr *a, tl_csr *out)
{
    return transpose(a, 1, out);
}

tl_err tl_csr_transpose_no_ts(const tl_csr *a, tl_csr *out)
{
    return transpose(a, 0, out);
}

static tl_err copy(const tl_csr *a, int with_ts, tl_csr *out)
{
    tl_csr c;
    tl_err rc = csr_alloc(&c, a->nrows, a->ncols, a->nnz, with_ts && a->ts);
    if (rc != TL_OK)
        return rc;
    memcpy(c.indptr, a->indptr, ((size_t)a->nrows + 1) * sizeof(*c.indptr));
    memcpy(c.indices, a->indices, (size_t)a->nnz * sizeof(*c.indices));
    memcpy(c.data, a->data, (size_t)a->nnz * sizeof(*c.data));
    if (c.ts)
        memcpy(c.ts, a->ts, (size_t)a->nnz * sizeof(*c.ts));
    *out = c;
    return TL_OK;
}

tl_err tl_csr_copy(const tl_csr *a, tl_csr *out)
{
    return copy(a, 1, out);
}

tl_err tl_csr_copy_no_ts(const tl_csr *a, tl_csr *out)
{
    return copy(a, 0, out);
}

size_t tl_csr_bytes(const tl_csr *a)
{
    size_t per = sizeof(int32_t) + sizeof(float) + (a->ts ? sizeof(int64_t) : 0);
    return ((size_t)a->nrows + 1) * sizeof(int64_t) + (size_t)a->nnz * per;
}

int64_t tl_csr_find(const tl_csr *a, int32_t row, int32_t col)
{
    int64_t lo = a->indptr[row], hi = a->indptr[row + 1];
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (a->indices[mid] < col)
            lo = mid + 1;
        else if (a->indices[mid] > col)
            hi = mid;
        else
            return mid;
    }
    return -1;
}

double tl_csr_sum_sq_rows(const tl_csr *a)
{
    double s = 0;
    for (int32_t r = 0; r < a->nrows; r++) {
        double l = (double)(a->indptr[r + 1] - a->indptr[r]);
        s += l * l;
    }
    return s;
}

int tl_csr_has_timestamps(const tl_csr *a)
{
    if (!a->ts)
        return 0;
    for (int64_t p = 0; p < a->nnz; p++)
        if (a->ts[p])
            return 1;
    return 0;
}
