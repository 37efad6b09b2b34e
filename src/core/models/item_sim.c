/* What the item-to-item models (itemknn, rp3beta and the sparse ease) share: their state is,
 * or starts with, a tl_simmat, and these functions fit it into place, score, explain, save and
 * load it through the models' ops tables, so that each model says only how its matrix is built
 * and under which section prefix it is saved. */
#include "core/models/item_models.h"
#include "core/models/models.h"

#include <stdlib.h>

tl_err tl__item_sim_fit(tl_model *m, const tl_simmat_opts *o, tl_simmat_row_fn fn, const void *ctx)
{
    tl_simmat *s = calloc(1, sizeof(*s));
    if (!s)
        return TL_ENOMEM;
    tl_err rc = tl_simmat_build(m->n_items, o, fn, ctx, s);
    if (rc != TL_OK) {
        free(s);
        return rc;
    }
    tl__item_sim_release(m);
    m->state = s;
    return TL_OK;
}

void tl__item_sim_release(tl_model *m)
{
    tl_simmat *s = m->state;
    if (!s)
        return;
    tl_simmat_release(s);
    free(s);
    m->state = NULL;
}

tl_err tl__item_sim_score(const tl_model *m, int32_t uidx, const int32_t *items, const float *w,
                          int32_t n, float *scores, float *scratch)
{
    (void)uidx;
    (void)scratch;
    tl_simmat_score(m->state, items, w, n, scores);
    return TL_OK;
}

int tl__item_sim_explain(const tl_model *m, int32_t uidx, const int32_t *items, const float *w,
                         int32_t n, int32_t item, int32_t *why, float *contrib, int max)
{
    (void)uidx;
    return tl_simmat_explain(m->state, items, w, n, item, why, contrib, max);
}

tl_err tl__item_sim_save(const tl_model *m, const char *prefix, tl_mfile_writer *w)
{
    return tl_simmat_save(m->state, prefix, w);
}

tl_err tl__item_sim_load(tl_model *m, const tl_mfile *f, const char *prefix, tl_diag *diag)
{
    tl_simmat *s = calloc(1, sizeof(*s));
    if (!s)
        return TL_ENOMEM;
    tl_err rc = tl_simmat_load(s, f, prefix, m->n_items, diag);
    if (rc != TL_OK) {
        free(s);
        return rc;
    }
    tl__item_sim_release(m);
    m->state = s;
    return TL_OK;
}

/* Co-occurrence (itemknn's counts, rp3beta's two-step walk) visits every pair of items in a
 * history. */
double tl__item_sim_fit_work(const tl_model *m, const tl_data *d)
{
    (void)m;
    return tl_csr_sum_sq_rows(&d->ui) + (double)d->ui.nnz;
}

const tl_simmat *tl_item_model_simmat(const tl_model *m)
{
    if (!m || !m->state)
        return NULL;
    /* Each of these models' states starts with its tl_simmat (EASE: empty when dense). */
    if (m->ops != &tl_itemknn_ops && m->ops != &tl_rp3beta_ops && m->ops != &tl_ease_ops)
        return NULL;
    const tl_simmat *s = m->state;
    return s->w.indptr ? s : NULL;
}
