/* Per-user accumulation of the protocol's metrics (the formulas of tools/evaluate.py, in the
 * same order of operations) and of novelty and intra-list diversity. Stamps instead of sets:
 * one O(n_items) array per question, reset by bumping the stamp. */
#include "core/metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { M_NDCG10, M_NDCG100, M_RECALL20, M_RECALL50, M_PREC10, M_MAP10, M_HIT10 };

tl_err tl_metrics_init(tl_metrics *m, const tl_csr *train, int32_t n_items)
{
    memset(m, 0, sizeof(*m));
    if (n_items < train->ncols)
        return TL_EINVAL;
    tl_err rc = tl_csr_transpose(train, &m->iu);
    if (rc != TL_OK)
        return rc;
    m->train = train;
    m->n_items = n_items;
    size_t n = (size_t)(n_items ? n_items : 1);
    m->top10 = calloc(n, 1);
    m->truth = calloc(n, sizeof(*m->truth));
    m->seen = calloc(n, sizeof(*m->seen));
    m->bits = calloc((size_t)(train->ncols ? train->ncols : 1), sizeof(*m->bits));
    if (!m->top10 || !m->truth || !m->seen || !m->bits) {
        tl_metrics_release(m);
        return TL_ENOMEM;
    }
    for (int32_t u = 0; u < train->nrows; u++)
        m->train_users += train->indptr[u + 1] > train->indptr[u];
    for (int32_t i = 0; i < train->ncols; i++)
        m->catalogue += m->iu.indptr[i + 1] > m->iu.indptr[i];
    m->words = ((int64_t)train->nrows + 63) / 64;
    return TL_OK;
}

void tl_metrics_release(tl_metrics *m)
{
    if (m->bits)
        for (int32_t i = 0; i < m->iu.nrows; i++)
            free(m->bits[i]);
    free(m->bits);
    tl_csr_release(&m->iu);
    free(m->top10);
    free(m->truth);
    free(m->seen);
    memset(m, 0, sizeof(*m));
}

void tl_metrics_add_duplicates(tl_metrics *m, int64_t n)
{
    m->duplicates += n;
}

static int64_t col_len(const tl_metrics *m, int32_t i)
{
    return m->iu.indptr[i + 1] - m->iu.indptr[i];
}

/* The users of item i as a bitset, built on first use; NULL when i's column is short (a
 * merge is then as cheap as a bitset scan) or memory is short (the merge still works). */
static const uint64_t *bits_of(tl_metrics *m, int32_t i)
{
    if (col_len(m, i) <= m->words)
        return NULL;
    if (!m->bits[i]) {
        uint64_t *b = calloc((size_t)m->words, sizeof(*b));
        if (!b)
            return NULL;
        for (int64_t p = m->iu.indptr[i]; p < m->iu.indptr[i + 1]; p++)
            b[m->iu.indices[p] >> 6] |= 1ULL << (m->iu.indices[p] & 63);
        m->bits[i] = b;
    }
    return m->bits[i];
}

/* |users(a) & users(b)| in train. */
static int64_t common_users(tl_metrics *m, int32_t a, int32_t b)
{
    const uint64_t *ba = bits_of(m, a), *bb = bits_of(m, b);
    int64_t c = 0;
    if (ba && bb) {
        for (int64_t w = 0; w < m->words; w++)
            c += __builtin_popcountll(ba[w] & bb[w]);
        return c;
    }
    if (ba || bb) {
        const uint64_t *bs = ba ? ba : bb;
        int32_t other = ba ? b : a;
        for (int64_t p = m->iu.indptr[other]; p < m->iu.indptr[other + 1]; p++) {
            int32_t u = m->iu.indices[p];
            c += (int64_t)((bs[u >> 6] >> (u & 63)) & 1);
        }
        return c;
    }
    const int32_t *x = m->iu.indices + m->iu.indptr[a], *xe = m->iu.indices + m->iu.indptr[a + 1];
    const int32_t *y = m->iu.indices + m->iu.indptr[b], *ye = m->iu.indices + m->iu.indptr[b + 1];
    while (x < xe && y < ye) {
        if (*x < *y) {
            x++;
        } else if (*y < *x) {
            y++;
        } else {
            c++;
            x++;
            y++;
        }
    }
    return c;
}

/* Novelty and diversity of one top-10 list (items already distinct). */
static void beyond_accuracy(tl_metrics *m, const int32_t *top, int n)
{
    int32_t in_train[10];
    int k = 0;
    for (int j = 0; j < n && j < 10; j++)
        if (top[j] < m->iu.nrows && col_len(m, top[j]) > 0)
            in_train[k++] = top[j];
    if (k >= 1) {
        double s = 0;
        for (int j = 0; j < k; j++)
            s += -log2((double)col_len(m, in_train[j]) / (double)m->train_users);
        m->novelty_sum += s / k;
        m->novelty_users++;
    }
    if (k >= 2) {
        double s = 0;
        int pairs = 0;
        for (int a = 0; a < k; a++)
            for (int b = a + 1; b < k; b++) {
                double ca = (double)col_len(m, in_train[a]), cb = (double)col_len(m, in_train[b]);
                double cos = (double)common_users(m, in_train[a], in_train[b]) / sqrt(ca * cb);
                s += 1.0 - cos;
                pairs++;
            }
        m->diversity_sum += s / pairs;
        m->diversity_users++;
    }
}

tl_err tl_metrics_add_user(tl_metrics *m, int32_t train_row, const int32_t *ranked,
                           int32_t n_ranked, const int32_t *truth, int32_t n_truth)
{
    if (n_truth <= 0 || train_row >= m->train->nrows)
        return TL_EINVAL;
    for (int32_t j = 0; j < n_truth; j++)
        if (truth[j] < 0 || truth[j] >= m->n_items)
            return TL_EINVAL;
    for (int32_t j = 0; j < n_ranked && ranked[j] >= 0; j++)
        if (ranked[j] >= m->n_items)
            return TL_EINVAL;
    if (++m->stamp == 0) { /* wrapped: old stamps could look current */
        memset(m->truth, 0, (size_t)m->n_items * sizeof(*m->truth));
        memset(m->seen, 0, (size_t)m->n_items * sizeof(*m->seen));
        m->stamp = 1;
    }
    uint32_t st = m->stamp;
    int64_t nt = 0;
    for (int32_t j = 0; j < n_truth; j++)
        if (m->truth[truth[j]] != st) {
            m->truth[truth[j]] = st;
            nt++;
        }
    /* The distinct list: evaluate.py keeps the first of repeated items. */
    int32_t top[TL_METRICS_TOPN];
    int rel[TL_METRICS_TOPN] = {0};
    int n = 0;
    int64_t listed = 0;
    for (int32_t j = 0; j < n_ranked && ranked[j] >= 0; j++) {
        int32_t it = ranked[j];
        if (m->seen[it] == st) {
            m->duplicates++;
            continue;
        }
        m->seen[it] = st;
        listed++;
        if (train_row >= 0 && it < m->train->ncols && tl_csr_find(m->train, train_row, it) >= 0)
            m->violations++;
        if (n < TL_METRICS_TOPN) {
            top[n] = it;
            rel[n] = m->truth[it] == st;
            n++;
        }
    }
    m->users++;
    if (!listed)
        m->users_without_recs++;
    for (int j = 0; j < n && j < 10; j++)
        m->top10[top[j]] = 1;

    double dcg10 = 0, dcg100 = 0, idcg10 = 0, idcg100 = 0;
    for (int p = 0; p < TL_METRICS_TOPN; p++) {
        double g = 1.0 / log2((double)p + 2.0);
        if (rel[p]) {
            dcg100 += g;
            if (p < 10)
                dcg10 += g;
        }
        if (p < nt) {
            idcg100 += g;
            if (p < 10)
                idcg10 += g;
        }
    }
    int hits10 = 0, hits20 = 0, hits50 = 0;
    double ap = 0;
    for (int p = 0; p < 50; p++) {
        if (!rel[p])
            continue;
        if (p < 10) {
            hits10++;
            ap += (double)hits10 / (double)(p + 1);
        }
        if (p < 20)
            hits20++;
        hits50++;
    }
    m->sum[M_NDCG10] += dcg10 / idcg10;
    m->sum[M_NDCG100] += dcg100 / idcg100;
    m->sum[M_RECALL20] += (double)hits20 / (double)(nt < 20 ? nt : 20);
    m->sum[M_RECALL50] += (double)hits50 / (double)(nt < 50 ? nt : 50);
    m->sum[M_PREC10] += (double)hits10 / 10.0;
    m->sum[M_MAP10] += ap / (double)(nt < 10 ? nt : 10);
    m->sum[M_HIT10] += hits10 ? 1.0 : 0.0;
    beyond_accuracy(m, top, n);
    return TL_OK;
}

void tl_metrics_finish(const tl_metrics *m, tl_metrics_result *out)
{
    memset(out, 0, sizeof(*out));
    double users = (double)m->users;
    double *dst[7] = {&out->ndcg10,      &out->ndcg100, &out->recall20, &out->recall50,
                      &out->precision10, &out->map10,   &out->hitrate10};
    for (int k = 0; k < 7; k++)
        *dst[k] = m->users ? m->sum[k] / users : 0.0;
    int64_t covered = 0;
    for (int32_t i = 0; i < m->iu.nrows; i++)
        covered += m->top10[i] && col_len(m, i) > 0;
    out->coverage10 = m->catalogue ? (double)covered / (double)m->catalogue : 0.0;
    out->novelty10 = m->novelty_users ? m->novelty_sum / (double)m->novelty_users : 0.0;
    out->diversity10 = m->diversity_users ? m->diversity_sum / (double)m->diversity_users : 0.0;
    out->users = m->users;
    out->users_without_recs = m->users_without_recs;
    out->train_item_violations = m->violations;
    out->duplicate_rows = m->duplicates;
    out->novelty_users = m->novelty_users;
    out->diversity_users = m->diversity_users;
}

/* Users scored per batch of tl_model_recommend_rows: bounds the n x top_n output buffers. */
#define SCORE_BATCH 4096

tl_err tl_metrics_score_model(const tl_model *model, const tl_csr *train, const tl_csr *test,
                              int users_match, int top_n, int32_t max_users, tl_metrics_result *out)
{
    tl_metrics m;
    int32_t *rows = NULL, *recs = NULL;
    uint8_t *allow = NULL;
    tl_err rc = TL_EINVAL;
    memset(&m, 0, sizeof(m));
    if (test->nrows != train->nrows || test->ncols != train->ncols ||
        train->ncols != model->n_items || top_n <= 0 || top_n > TL_METRICS_TOPN)
        return TL_EINVAL;
    if ((rc = tl_metrics_init(&m, train, train->ncols)) != TL_OK)
        return rc;
    rc = TL_ENOMEM;
    if (!(rows = malloc(SCORE_BATCH * sizeof(*rows))) ||
        !(recs = malloc((size_t)SCORE_BATCH * (size_t)top_n * sizeof(*recs))) ||
        !(allow = malloc((size_t)(train->ncols ? train->ncols : 1))))
        goto out;
    for (int32_t i = 0; i < train->ncols; i++)
        allow[i] = m.iu.indptr[i + 1] > m.iu.indptr[i];
    tl_filter filter = {.allow = allow};
    int32_t taken = 0, u = 0;
    while (u < test->nrows && (!max_users || taken < max_users)) {
        /* Gather a batch of users with test items; those with train items get recs. */
        int32_t nb = 0, first = u, last = u;
        for (; u < test->nrows && nb < SCORE_BATCH && (!max_users || taken < max_users); u++) {
            if (test->indptr[u + 1] == test->indptr[u])
                continue;
            taken++;
            last = u + 1;
            if (train->indptr[u + 1] > train->indptr[u])
                rows[nb++] = u;
        }
        if (nb && (rc = tl_model_recommend_rows(model, train, users_match, rows, nb, &filter, top_n,
                                                recs, NULL)) != TL_OK)
            goto out;
        int32_t r = 0;
        for (int32_t v = first; v < last; v++) {
            int64_t b = test->indptr[v], n = test->indptr[v + 1] - b;
            if (!n)
                continue;
            int has = r < nb && rows[r] == v;
            const int32_t *list = has ? recs + (size_t)r * (size_t)top_n : NULL;
            if ((rc = tl_metrics_add_user(&m, has ? v : -1, list, has ? top_n : 0,
                                          test->indices + b, (int32_t)n)) != TL_OK)
                goto out;
            r += has;
        }
    }
    tl_metrics_finish(&m, out);
    rc = TL_OK;
out:
    tl_metrics_release(&m);
    free(rows);
    free(recs);
    free(allow);
    return rc;
}

double tl_ndcg10_sorted(const int32_t *ranked, int n, const int32_t *truth, int64_t nt)
{
    double dcg = 0, idcg = 0;
    for (int r = 0; r < n && r < 10; r++) {
        int64_t lo = 0, hi = nt;
        while (lo < hi) {
            int64_t mid = lo + (hi - lo) / 2;
            if (truth[mid] < ranked[r])
                lo = mid + 1;
            else
                hi = mid;
        }
        if (ranked[r] >= 0 && lo < nt && truth[lo] == ranked[r])
            dcg += 1.0 / log2(r + 2.0);
    }
    for (int r = 0; r < nt && r < 10; r++)
        idcg += 1.0 / log2(r + 2.0);
    return idcg > 0 ? dcg / idcg : 0;
}
