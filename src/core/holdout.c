/* The protocol's split: per-pair keys, the per-user choice and the in-memory split of a matrix.
 * Everything that decides which pair is held out lives here, so that the file writer and the
 * tuner cannot drift apart. */
#include "core/holdout.h"

#include <stdlib.h>
#include <string.h>

#include "util/hash.h"

tl_err tl_holdout_mode_parse(const char *s, tl_split_mode *out)
{
    if (strcmp(s, "random") == 0)
        *out = TL_SPLIT_RANDOM;
    else if (strcmp(s, "temporal") == 0)
        *out = TL_SPLIT_TEMPORAL;
    else
        return TL_EINVAL;
    return TL_OK;
}

const char *tl_holdout_mode_name(tl_split_mode mode)
{
    return mode == TL_SPLIT_TEMPORAL ? "temporal" : "random";
}

static uint64_t user_prefix_hash(const char *user, size_t ulen)
{
    return tl_fnv1a64_update(tl_fnv1a64(user, ulen), "\t", 1);
}

uint64_t tl_holdout_key(uint64_t seed, const char *user, size_t ulen, const char *item, size_t ilen)
{
    return tl_splitmix64(seed ^ tl_fnv1a64_update(user_prefix_hash(user, ulen), item, ilen));
}

static int cmp_ent(const void *a, const void *b)
{
    const tl_holdout_ent *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return (x->tie > y->tie) - (x->tie < y->tie);
}

void tl_holdout_pick(tl_split_mode mode, tl_holdout_ent *e, int32_t n, uint8_t *is_test)
{
    if (n <= 0)
        return;
    int32_t k = (int32_t)tl_holdout_test_count(n);
    qsort(e, (size_t)n, sizeof(*e), cmp_ent);
    int32_t lo = mode == TL_SPLIT_RANDOM ? 0 : n - k;
    for (int32_t j = 0; j < n; j++)
        is_test[e[j].pos] = (uint8_t)(j >= lo && j < lo + k);
}

typedef struct str_ref {
    const char *s;
    size_t len;
    int32_t idx;
} str_ref;

static int cmp_bytes(const void *a, const void *b)
{
    const str_ref *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->s, y->s, n);
    if (c)
        return c;
    return (x->len > y->len) - (x->len < y->len);
}

tl_err tl_holdout_byte_ranks(const tl_intern *in, int32_t **rank)
{
    int32_t n = in->count;
    str_ref *refs = malloc((size_t)(n ? n : 1) * sizeof(*refs));
    int32_t *r = malloc((size_t)(n ? n : 1) * sizeof(*r));
    if (!refs || !r) {
        free(refs);
        free(r);
        return TL_ENOMEM;
    }
    for (int32_t i = 0; i < n; i++)
        refs[i] = (str_ref){tl_intern_str(in, i), tl_intern_len(in, i), i};
    qsort(refs, (size_t)n, sizeof(*refs), cmp_bytes);
    for (int32_t i = 0; i < n; i++)
        r[refs[i].idx] = i;
    free(refs);
    *rank = r;
    return TL_OK;
}

/* Allocates a CSR of the given shape and nnz, with timestamps when with_ts. */
static tl_err csr_new(tl_csr *a, int32_t nrows, int32_t ncols, int64_t nnz, int with_ts)
{
    memset(a, 0, sizeof(*a));
    a->nrows = nrows;
    a->ncols = ncols;
    a->nnz = nnz;
    size_t cells = (size_t)(nnz ? nnz : 1);
    a->indptr = calloc((size_t)nrows + 1, sizeof(*a->indptr));
    a->indices = malloc(cells * sizeof(*a->indices));
    a->data = malloc(cells * sizeof(*a->data));
    a->ts = with_ts ? malloc(cells * sizeof(*a->ts)) : NULL;
    if (!a->indptr || !a->indices || !a->data || (with_ts && !a->ts)) {
        tl_csr_release(a);
        return TL_ENOMEM;
    }
    return TL_OK;
}

tl_err tl_holdout_split(const tl_data *d, tl_split_mode mode, uint64_t seed, int min_positives,
                        tl_csr *train, tl_csr *test)
{
    const tl_csr *ui = &d->ui;
    tl_err rc = TL_EINVAL;
    int32_t *irank = NULL;
    uint8_t *is_test = NULL;
    tl_holdout_ent *ent = NULL;
    tl_csr tr = {0}, te = {0};
    int32_t maxrow = 0;
    int64_t ntest = 0, ntrain = 0, ptr = 0, pte = 0;
    if (mode == TL_SPLIT_TEMPORAL && !ui->ts)
        goto out;
    if (ui->nrows > d->users.count || ui->ncols > d->items.count)
        goto out; /* ids are needed for every row and column */
    for (int32_t u = 0; u < ui->nrows; u++) {
        int64_t n = ui->indptr[u + 1] - ui->indptr[u];
        if (n > maxrow)
            maxrow = (int32_t)n;
        if (n == 0 || n < min_positives)
            continue;
        int64_t k = tl_holdout_test_count(n);
        ntest += k;
        ntrain += n - k;
    }
    if ((rc = tl_holdout_byte_ranks(&d->items, &irank)) != TL_OK)
        goto out;
    rc = TL_ENOMEM;
    if (!(is_test = malloc((size_t)maxrow + 1)) ||
        !(ent = malloc(((size_t)maxrow + 1) * sizeof(*ent))))
        goto out;
    if ((rc = csr_new(&tr, ui->nrows, ui->ncols, ntrain, ui->ts != NULL)) != TL_OK ||
        (rc = csr_new(&te, ui->nrows, ui->ncols, ntest, ui->ts != NULL)) != TL_OK)
        goto out;
    for (int32_t u = 0; u < ui->nrows; u++) {
        int64_t b = ui->indptr[u];
        int32_t n = (int32_t)(ui->indptr[u + 1] - b);
        if (n > 0 && n >= min_positives) {
            uint64_t prefix =
                user_prefix_hash(tl_intern_str(&d->users, u), tl_intern_len(&d->users, u));
            for (int32_t j = 0; j < n; j++) {
                int32_t it = ui->indices[b + j];
                uint64_t key;
                if (mode == TL_SPLIT_TEMPORAL && ui->ts)
                    key = tl_holdout_ts_key(ui->ts[b + j]);
                else
                    key =
                        tl_splitmix64(seed ^ tl_fnv1a64_update(prefix, tl_intern_str(&d->items, it),
                                                               tl_intern_len(&d->items, it)));
                ent[j] = (tl_holdout_ent){key, irank[it], j};
            }
            tl_holdout_pick(mode, ent, n, is_test);
            for (int32_t j = 0; j < n; j++) {
                tl_csr *dst = is_test[j] ? &te : &tr;
                int64_t *p = is_test[j] ? &pte : &ptr;
                dst->indices[*p] = ui->indices[b + j];
                dst->data[*p] = ui->data ? ui->data[b + j] : 1.0f;
                if (ui->ts)
                    dst->ts[*p] = ui->ts[b + j];
                (*p)++;
            }
        }
        tr.indptr[u + 1] = ptr;
        te.indptr[u + 1] = pte;
    }
    *train = tr;
    *test = te;
    memset(&tr, 0, sizeof(tr));
    memset(&te, 0, sizeof(te));
    rc = TL_OK;
out:
    tl_csr_release(&tr);
    tl_csr_release(&te);
    free(irank);
    free(is_test);
    free(ent);
    return rc;
}
