/* itemknn: item-to-item nearest neighbours over the item -> user vectors ("patrons who borrowed
 * this also borrowed"), with cosine, asymmetric cosine or Jaccard similarity, optional TF-IDF or
 * BM25 weighting of the user-item matrix, a shrinkage term, and the k best neighbours kept per
 * item (Sarwar et al. 2001; Dacrema et al. 2019's tuned baseline). Scores sum the neighbour
 * weights of a user's history items, so any history (unknown users too) is scored directly. */
#include "core/models/item_models.h"
#include "core/models/models.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct knn_cfg {
    int k;
    double shrink;
    const char *similarity;
    double alpha;
    const char *weighting;
    double bm25_k1, bm25_b;
    int normalize;
} knn_cfg;

static const tl_param_def params[] = {
    TL_PARAM(knn_cfg, k, "200", 1, 1e6, "neighbours kept per item (top-k pruning)"),
    TL_PARAM(knn_cfg, shrink, "10", 0, 1e9,
             "shrinkage added to the similarity's denominator (damps pairs seen by few users)"),
    TL_PARAM(knn_cfg, similarity, "cosine", 0, 0, "cosine | asymmetric | jaccard"),
    TL_PARAM(knn_cfg, alpha, "0.5", 0, 1,
             "asymmetric cosine: dot / (|x_hist|^(2 alpha) |x_target|^(2 (1 - alpha)) + shrink)"),
    TL_PARAM(knn_cfg, weighting, "none", 0, 0,
             "none | tfidf | bm25: reweigh the user-item matrix first (users are the terms)"),
    TL_PARAM(knn_cfg, bm25_k1, "1.2", 0, 100, "BM25 term-frequency saturation"),
    TL_PARAM(knn_cfg, bm25_b, "0.75", 0, 1, "BM25 length normalization"),
    TL_PARAM(knn_cfg, normalize, "0", 0, 1,
             "1 = divide a score by the summed |similarity| of the history items that reach it"),
};

#define SEC_PREFIX "knn_"

enum { SIM_COSINE, SIM_ASYM, SIM_JACCARD };
enum { WEIGHT_NONE, WEIGHT_TFIDF, WEIGHT_BM25 };

typedef struct knn_ctx {
    const tl_csr *ui, *iu;
    const float *ui_w, *iu_w; /* the (re)weighted values of ui and iu */
    const double *sq;         /* per item: sum of squared weights */
    const int32_t *cnt;       /* per item: users */
    int sim;
    double shrink, alpha;
} knn_ctx;

/* Row of the target item t: dot products with every co-occurring item j, then the
 * similarity. Column pruning of the per-target rows is what classic item kNN keeps. */
static void knn_row(const void *vctx, int32_t t, tl_simacc *acc)
{
    const knn_ctx *c = vctx;
    const tl_csr *iu = c->iu, *ui = c->ui;
    int binary = c->sim == SIM_JACCARD;
    for (int64_t p = iu->indptr[t]; p < iu->indptr[t + 1]; p++) {
        int32_t u = iu->indices[p];
        float xt = binary ? 1.0f : c->iu_w[p];
        for (int64_t q = ui->indptr[u]; q < ui->indptr[u + 1]; q++)
            tl_simacc_add(acc, ui->indices[q], binary ? 1.0f : xt * c->ui_w[q]);
    }
    for (int32_t e = 0; e < acc->nt; e++) {
        int32_t j = acc->idx[e];
        double dot = acc->val[j], den;
        if (c->sim == SIM_JACCARD)
            den = (double)c->cnt[t] + (double)c->cnt[j] - dot;
        else if (c->sim == SIM_ASYM)
            den = pow(c->sq[j], c->alpha) * pow(c->sq[t], 1.0 - c->alpha);
        else
            den = sqrt(c->sq[j]) * sqrt(c->sq[t]);
        den += c->shrink;
        acc->val[j] = den > 0.0 ? (float)(dot / den) : 0.0f;
    }
}

static tl_err parse_choice(const char *v, const char *const *names, int n, const char *param,
                           int *out, tl_diag *diag)
{
    for (int i = 0; i < n; i++) {
        if (strcmp(v, names[i]) == 0) {
            *out = i;
            return TL_OK;
        }
    }
    tl_diag_set(diag, NULL, 0, param, "unknown value '%s'", v);
    return TL_EINVAL;
}

/* TF-IDF / BM25 with items as documents and users as terms (Dacrema et al.'s feature
 * weighting of URM^T): a user who borrows everything says little about any one item. */
static tl_err reweigh(const tl_csr *ui, const tl_csr *iu, int weighting, double k1, double b,
                      float *ui_w, float *iu_w)
{
    int32_t ni = iu->nrows, nu = ui->nrows;
    double *len = calloc((size_t)ni + 1, sizeof(*len));
    double *idf = calloc((size_t)nu + 1, sizeof(*idf));
    double avg = 0.0;
    tl_err rc = TL_ENOMEM;
    if (!len || !idf)
        goto out;
    for (int32_t u = 0; u < nu; u++)
        idf[u] = log((double)ni / (1.0 + (double)(ui->indptr[u + 1] - ui->indptr[u])));
    for (int32_t i = 0; i < ni; i++) {
        for (int64_t p = iu->indptr[i]; p < iu->indptr[i + 1]; p++)
            len[i] += iu->data[p];
        avg += len[i];
    }
    avg = ni ? avg / ni : 1.0;
    if (avg <= 0.0)
        avg = 1.0;
#define WEIGH(x, i, u)                                                                             \
    (weighting == WEIGHT_TFIDF                                                                     \
         ? sqrt(fabs(x)) * idf[u]                                                                  \
         : (x) * (k1 + 1.0) / (k1 * ((1.0 - b) + b * len[i] / avg) + (x)) * idf[u])
    for (int32_t u = 0; u < nu; u++)
        for (int64_t p = ui->indptr[u]; p < ui->indptr[u + 1]; p++)
            ui_w[p] = (float)WEIGH((double)ui->data[p], ui->indices[p], u);
    for (int32_t i = 0; i < ni; i++)
        for (int64_t p = iu->indptr[i]; p < iu->indptr[i + 1]; p++)
            iu_w[p] = (float)WEIGH((double)iu->data[p], i, iu->indices[p]);
#undef WEIGH
    rc = TL_OK;
out:
    free(len);
    free(idf);
    return rc;
}

static tl_err fit(tl_model *m, const tl_data *d, tl_diag *diag)
{
    static const char *const sims[] = {"cosine", "asymmetric", "jaccard"};
    static const char *const weights[] = {"none", "tfidf", "bm25"};
    const knn_cfg *cfg = m->cfg;
    knn_ctx c = {.ui = &d->ui, .iu = &d->iu, .shrink = cfg->shrink, .alpha = cfg->alpha};
    int weighting;
    tl_err rc;
    if ((rc = tl_simmat_check_data(d, m->n_items, diag)) != TL_OK)
        return rc;
    if ((rc = parse_choice(cfg->similarity, sims, 3, "similarity", &c.sim, diag)) != TL_OK ||
        (rc = parse_choice(cfg->weighting, weights, 3, "weighting", &weighting, diag)) != TL_OK)
        return rc;
    int32_t ni = d->iu.nrows;
    rc = TL_ENOMEM;
    float *ui_w = NULL, *iu_w = NULL;
    double *sq = calloc((size_t)ni + 1, sizeof(*sq));
    int32_t *cnt = calloc((size_t)ni + 1, sizeof(*cnt));
    if (!sq || !cnt)
        goto out;
    c.ui_w = d->ui.data;
    c.iu_w = d->iu.data;
    if (weighting != WEIGHT_NONE) {
        ui_w = malloc((size_t)(d->ui.nnz + 1) * sizeof(*ui_w));
        iu_w = malloc((size_t)(d->iu.nnz + 1) * sizeof(*iu_w));
        if (!ui_w || !iu_w)
            goto out;
        if ((rc = reweigh(&d->ui, &d->iu, weighting, cfg->bm25_k1, cfg->bm25_b, ui_w, iu_w)) !=
            TL_OK)
            goto out;
        c.ui_w = ui_w;
        c.iu_w = iu_w;
    }
    for (int32_t i = 0; i < ni; i++) {
        for (int64_t q = d->iu.indptr[i]; q < d->iu.indptr[i + 1]; q++)
            sq[i] += (double)c.iu_w[q] * c.iu_w[q];
        cnt[i] = (int32_t)(d->iu.indptr[i + 1] - d->iu.indptr[i]);
    }
    c.sq = sq;
    c.cnt = cnt;
    tl_simmat_opts o = {.k = cfg->k, .transpose = 1};
    rc = tl__item_sim_fit(m, &o, knn_row, &c);
out:
    free(ui_w);
    free(iu_w);
    free(sq);
    free(cnt);
    return rc;
}

static size_t scratch_floats(const tl_model *m)
{
    return ((const knn_cfg *)m->cfg)->normalize ? (size_t)m->n_items : 0;
}

static tl_err score(const tl_model *m, int32_t uidx, const int32_t *items, const float *w,
                    int32_t n, float *scores, float *scratch)
{
    tl_err rc = tl__item_sim_score(m, uidx, items, w, n, scores, scratch);
    if (rc != TL_OK || !((const knn_cfg *)m->cfg)->normalize)
        return rc;
    /* The summed |weight| of the neighbours that reached each item, then the weighted mean. */
    const float one = 1.0f;
    const tl_csr *a = &((const tl_simmat *)m->state)->w;
    memset(scratch, 0, (size_t)m->n_items * sizeof(*scratch));
    for (int32_t h = 0; h < n; h++) {
        int32_t j = items[h];
        if (j < 0 || j >= a->nrows)
            continue;
        for (int64_t p = a->indptr[j]; p < a->indptr[j + 1]; p++)
            scratch[a->indices[p]] += fabsf(a->data[p]) * fabsf(w ? w[h] : one);
    }
    for (int32_t i = 0; i < m->n_items; i++)
        if (scratch[i] > 0.0f)
            scores[i] /= scratch[i];
    return TL_OK;
}

static tl_err save(const tl_model *m, tl_mfile_writer *w)
{
    return tl__item_sim_save(m, SEC_PREFIX, w);
}

static tl_err load(tl_model *m, const tl_mfile *f, tl_diag *diag)
{
    return tl__item_sim_load(m, f, SEC_PREFIX, diag);
}

const tl_model_ops tl_itemknn_ops = {
    .name = "itemknn",
    .summary = "item-to-item neighbours (cosine/asymmetric/jaccard, tfidf/bm25, shrinkage)",
    TL_MODEL_PARAMS(params, knn_cfg),
    .tune_grid = "k=~10;shrink=0,3,10,30,100",
    .fit_work = tl__item_sim_fit_work,
    .fit = fit,
    .scratch_floats = scratch_floats,
    .score = score,
    .save = save,
    .load = load,
    .release = tl__item_sim_release,
    .explain = tl__item_sim_explain,
};
