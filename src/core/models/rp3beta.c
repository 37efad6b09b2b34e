/* rp3beta: a three-step random walk item -> user -> item with transition probabilities raised to
 * alpha and the landing item's popularity discounted by beta (Paudel et al. 2017; Dacrema et
 * al. 2019's RP3beta), top-k pruned per item. Extended with catalogue edges: when items carry
 * subjects or creators, the walk may also go item -> attribute -> item, so an item nobody has
 * borrowed yet (a new acquisition) is reachable from the history items it shares subjects or
 * authors with: the knowledge-graph route to cold start. */
#include "core/models/item_models.h"
#include "core/models/models.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/intern.h"

typedef struct rp3_cfg {
    double alpha, beta;
    int k, normalize;
    double attr_weight;
    const char *attributes;
    double attr_max_df;
    int attr_max_items;
} rp3_cfg;

static const tl_param_def params[] = {
    TL_PARAM(rp3_cfg, alpha, "0.8", 0, 10, "exponent of the transition probabilities"),
    TL_PARAM(rp3_cfg, beta, "0.5", 0, 10,
             "popularity discount: a landing item's weight is divided by its popularity^beta"),
    TL_PARAM(rp3_cfg, k, "200", 1, 1e6, "neighbours kept per item (top-k pruning)"),
    TL_PARAM(rp3_cfg, normalize, "0", 0, 1, "1 = scale each item's kept weights to sum to 1"),
    TL_PARAM(rp3_cfg, attr_weight, "0.05", 0, 1,
             "share of the first step that goes to the item's subjects/creators instead of its "
             "users (0 = the interaction walk only; items without users always walk through "
             "attributes)"),
    TL_PARAM(rp3_cfg, attributes, "subjects,creators", 0, 0,
             "catalogue fields whose '|'-separated values become attribute nodes (subjects, "
             "creators)"),
    TL_PARAM(rp3_cfg, attr_max_df, "0.2", 0, 1,
             "ignore attributes on more than this share of the catalogue (too generic to relate "
             "items)"),
    TL_PARAM(rp3_cfg, attr_max_items, "20000", 2, 1e9,
             "ignore attributes on more items than this (each costs its items squared to walk)"),
};

#define SEC_PREFIX "rp3_"

typedef struct rp3_ctx {
    const tl_csr *ui, *iu;
    const float *pui;  /* per ui entry: P(user -> item)^alpha */
    const float *piu;  /* per item: P(item -> one of its users)^alpha, before the mix */
    const float *deg;  /* per item: popularity^-beta (at least 1 before the power) */
    const tl_csr *ia;  /* item x attribute (binary), or NULL */
    const tl_csr *ai;  /* attribute x item, or NULL */
    const float *pia;  /* per item: P(item -> one of its attributes)^alpha, before the mix */
    const float *pai;  /* per attribute: P(attribute -> one of its items)^alpha */
    double user_share; /* 1 - attr_weight: the first step's mass on users */
    double alpha;
} rp3_ctx;

static void rp3_row(const void *vctx, int32_t i, tl_simacc *acc)
{
    const rp3_ctx *c = vctx;
    int64_t nu = c->iu->indptr[i + 1] - c->iu->indptr[i];
    int64_t na = c->ia ? c->ia->indptr[i + 1] - c->ia->indptr[i] : 0;
    /* Mass of the first step on users vs attributes; all of it goes where edges exist. */
    double mu = na ? c->user_share : 1.0, ma = nu ? 1.0 - c->user_share : 1.0;
    if (nu && mu > 0.0) {
        float f = (float)(pow(mu, c->alpha) * c->piu[i]);
        for (int64_t p = c->iu->indptr[i]; p < c->iu->indptr[i + 1]; p++) {
            int32_t u = c->iu->indices[p];
            for (int64_t q = c->ui->indptr[u]; q < c->ui->indptr[u + 1]; q++)
                tl_simacc_add(acc, c->ui->indices[q], f * c->pui[q]);
        }
    }
    if (na && ma > 0.0) {
        float f = (float)(pow(ma, c->alpha) * c->pia[i]);
        for (int64_t p = c->ia->indptr[i]; p < c->ia->indptr[i + 1]; p++) {
            int32_t a = c->ia->indices[p];
            float fa = f * c->pai[a];
            for (int64_t q = c->ai->indptr[a]; q < c->ai->indptr[a + 1]; q++)
                tl_simacc_add(acc, c->ai->indices[q], fa);
        }
    }
    for (int32_t e = 0; e < acc->nt; e++) {
        int32_t j = acc->idx[e];
        acc->val[j] *= c->deg[j];
    }
}

/* Adds the '|'-separated values of one field (prefixed by tag, so a subject and a creator of
 * the same name stay apart) as attribute edges of item i. */
static tl_err add_values(tl_intern *names, tl_coo *coo, int32_t i, const char *tag,
                         const char *list)
{
    char buf[512];
    size_t tl = strlen(tag);
    memcpy(buf, tag, tl + 1);
    while (list && *list) {
        const char *end = strchr(list, '|');
        size_t len = end ? (size_t)(end - list) : strlen(list);
        const char *v = list;
        list = end ? end + 1 : NULL;
        while (len && isspace((unsigned char)*v)) {
            v++;
            len--;
        }
        while (len && isspace((unsigned char)v[len - 1]))
            len--;
        if (!len || tl + len >= sizeof(buf))
            continue;
        memcpy(buf + tl, v, len);
        int32_t a;
        tl_err rc = tl_intern_add(names, buf, tl + len, &a);
        if (rc == TL_OK)
            rc = tl_coo_push(coo, i, a, 1.0f, 0);
        if (rc != TL_OK)
            return rc;
    }
    return TL_OK;
}

/* Builds the item x attribute graph from the catalogue fields named in `attributes`, keeping
 * only attributes that relate at least two items and are not too generic. *ia stays empty
 * (nrows 0) when nothing qualifies. */
static tl_err build_attrs(const tl_model *m, const tl_data *d, int32_t ni, tl_csr *ia,
                          tl_diag *diag)
{
    const rp3_cfg *cfg = m->cfg;
    const char *fields = cfg->attributes;
    int use_s = 0, use_c = 0;
    for (const char *f = fields; *f;) {
        size_t len = strcspn(f, ",");
        if (len == 8 && strncmp(f, "subjects", 8) == 0)
            use_s = 1;
        else if (len == 8 && strncmp(f, "creators", 8) == 0)
            use_c = 1;
        else if (len) {
            tl_diag_set(diag, NULL, 0, "attributes", "unknown field '%.*s'", (int)len, f);
            return TL_EINVAL;
        }
        f += len + (f[len] == ',');
    }
    const tl_catalog *cat = &d->cat;
    int32_t nc = cat->n < ni ? cat->n : ni;
    if ((!use_s || !cat->subjects) && (!use_c || !cat->creators))
        nc = 0;
    tl_intern names;
    tl_coo coo;
    tl_csr raw = {0};
    tl_intern_init(&names);
    tl_err rc = tl_coo_init(&coo, 1024, 0);
    if (rc != TL_OK)
        goto out;
    for (int32_t i = 0; i < nc; i++) {
        if (use_s && cat->subjects && (rc = add_values(&names, &coo, i, "s:", cat->subjects[i])))
            goto out;
        if (use_c && cat->creators && (rc = add_values(&names, &coo, i, "c:", cat->creators[i])))
            goto out;
    }
    if (!names.count)
        goto out;
    /* Attribute x item, deduplicated; then drop attributes outside [2, cap] items. */
    for (int64_t e = 0; e < coo.n; e++) {
        int32_t t = coo.rows[e];
        coo.rows[e] = coo.cols[e];
        coo.cols[e] = t;
    }
    if ((rc = tl_csr_from_coo(&coo, names.count, ni, TL_DUP_MAX, &raw)) != TL_OK)
        goto out;
    double cap = cfg->attr_max_df * ni;
    double cap2 = cfg->attr_max_items;
    cap = cap < cap2 ? cap : cap2;
    coo.n = 0;
    for (int32_t a = 0; a < raw.nrows; a++) {
        int64_t df = raw.indptr[a + 1] - raw.indptr[a];
        if (df < 2 || (double)df > cap)
            continue;
        for (int64_t p = raw.indptr[a]; p < raw.indptr[a + 1]; p++)
            if ((rc = tl_coo_push(&coo, raw.indices[p], a, 1.0f, 0)) != TL_OK)
                goto out;
    }
    if (coo.n)
        rc = tl_csr_from_coo(&coo, ni, names.count, TL_DUP_MAX, ia);
out:
    tl_csr_release(&raw);
    tl_coo_release(&coo);
    tl_intern_release(&names);
    return rc;
}

static tl_err fit(tl_model *m, const tl_data *d, tl_diag *diag)
{
    const rp3_cfg *cfg = m->cfg;
    double alpha = cfg->alpha, beta = cfg->beta;
    double aw = cfg->attr_weight;
    int32_t ni = d->iu.nrows, nu = d->ui.nrows;
    rp3_ctx c = {.ui = &d->ui, .iu = &d->iu, .user_share = 1.0 - aw, .alpha = alpha};
    tl_csr ia = {0}, ai = {0};
    tl_err rc = tl_simmat_check_data(d, m->n_items, diag);
    if (rc != TL_OK)
        return rc;
    if (aw > 0.0 && (rc = build_attrs(m, d, ni, &ia, diag)) != TL_OK)
        return rc;
    rc = TL_ENOMEM;
    float *pui = malloc((size_t)(d->ui.nnz + 1) * sizeof(*pui));
    float *piu = malloc(((size_t)ni + 1) * sizeof(*piu));
    float *deg = malloc(((size_t)ni + 1) * sizeof(*deg));
    float *pia = malloc(((size_t)ni + 1) * sizeof(*pia));
    float *pai = NULL;
    if (!pui || !piu || !deg || !pia)
        goto out;
    /* User -> item: the user's row, L1-normalized by weight. */
    for (int32_t u = 0; u < nu; u++) {
        double sum = 0.0;
        for (int64_t q = d->ui.indptr[u]; q < d->ui.indptr[u + 1]; q++)
            sum += fabsf(d->ui.data[q]);
        for (int64_t q = d->ui.indptr[u]; q < d->ui.indptr[u + 1]; q++)
            pui[q] = sum > 0.0 ? (float)pow(fabsf(d->ui.data[q]) / sum, alpha) : 0.0f;
    }
    /* Item -> user: uniform over the item's users (the binarized column, as in RP3beta). The
     * popularity of a never-borrowed item counts as 1, so the attribute walk can land on it. */
    for (int32_t i = 0; i < ni; i++) {
        int64_t n = d->iu.indptr[i + 1] - d->iu.indptr[i];
        piu[i] = n ? (float)pow(1.0 / (double)n, alpha) : 0.0f;
        deg[i] = (float)pow(n ? (double)n : 1.0, -beta);
        int64_t na = ia.nrows ? ia.indptr[i + 1] - ia.indptr[i] : 0;
        pia[i] = na ? (float)pow(1.0 / (double)na, alpha) : 0.0f;
    }
    if (ia.nrows) {
        if ((rc = tl_csr_transpose(&ia, &ai)) != TL_OK)
            goto out;
        rc = TL_ENOMEM;
        if (!(pai = malloc(((size_t)ai.nrows + 1) * sizeof(*pai))))
            goto out;
        for (int32_t a = 0; a < ai.nrows; a++) {
            int64_t n = ai.indptr[a + 1] - ai.indptr[a];
            pai[a] = n ? (float)pow(1.0 / (double)n, alpha) : 0.0f;
        }
        c.ia = &ia;
        c.ai = &ai;
        c.pia = pia;
        c.pai = pai;
    }
    c.pui = pui;
    c.piu = piu;
    c.deg = deg;
    tl_simmat_opts o = {.k = cfg->k, .normalize = cfg->normalize};
    rc = tl__item_sim_fit(m, &o, rp3_row, &c);
out:
    tl_csr_release(&ia);
    tl_csr_release(&ai);
    free(pui);
    free(piu);
    free(deg);
    free(pia);
    free(pai);
    return rc;
}

static tl_err save(const tl_model *m, tl_mfile_writer *w)
{
    return tl__item_sim_save(m, SEC_PREFIX, w);
}

static tl_err load(tl_model *m, const tl_mfile *f, tl_diag *diag)
{
    return tl__item_sim_load(m, f, SEC_PREFIX, diag);
}

const tl_model_ops tl_rp3beta_ops = {
    .name = "rp3beta",
    .summary = "random walk item-user-item (and item-subject/creator-item) with popularity "
               "discount",
    TL_MODEL_PARAMS(params, rp3_cfg),
    .tune_grid = "beta=0,0.15,0.3,0.45,0.6,0.75;alpha=0.4,0.6,0.8,1,1.2;attr_weight=0,0.05,0.2",
    .fit_work = tl__item_sim_fit_work,
    .fit = fit,
    .score = tl__item_sim_score,
    .save = save,
    .load = load,
    .release = tl__item_sim_release,
    .explain = tl__item_sim_explain,
};
