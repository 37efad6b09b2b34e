/* The model registry and what every model shares: lifecycle, parameters, model files with
 * id maps, and top-n recommendation (single user, or many users batched and in parallel). */
#include "core/model.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "core/models/models.h"
#include "core/topk.h"
#include "util/clock.h"

static const tl_model_ops *const registry[] = {
    &tl_popular_ops, &tl_itemknn_ops, &tl_ials_ops,     &tl_ease_ops, &tl_rp3beta_ops,
    &tl_content_ops, &tl_sequence_ops, &tl_hybrid_ops, NULL,
};

/* Users scored per score_block call: big enough for BLAS, small enough for the cache. */
#define BLOCK_USERS 512

const tl_model_ops *const *tl_model_all_ops(void)
{
    return registry;
}

const tl_model_ops *tl_model_find_ops(const char *name)
{
    for (int i = 0; registry[i]; i++)
        if (strcmp(registry[i]->name, name) == 0)
            return registry[i];
    return NULL;
}

tl_err tl_model_new(const char *name, tl_model **out)
{
    const tl_model_ops *ops = tl_model_find_ops(name);
    if (!ops)
        return TL_ENOTFOUND;
    tl_model *m = calloc(1, sizeof(*m));
    if (!m)
        return TL_ENOMEM;
    m->ops = ops;
    tl_intern_init(&m->users);
    tl_intern_init(&m->items);
    tl_err rc = tl_params_init(&m->params, ops->params, ops->n_params);
    if (rc != TL_OK) {
        free(m);
        return rc;
    }
    *out = m;
    return TL_OK;
}

static void release_state(tl_model *m)
{
    if (m->state && m->ops->release)
        m->ops->release(m);
    m->state = NULL;
    tl_mfile_close(m->file);
    m->file = NULL;
}

void tl_model_free(tl_model *m)
{
    if (!m)
        return;
    release_state(m);
    tl_params_release(&m->params);
    tl_intern_release(&m->users);
    tl_intern_release(&m->items);
    free(m);
}

tl_err tl_model_set(tl_model *m, const char *kv, tl_diag *diag)
{
    return tl_params_set_kv(&m->params, kv, diag);
}

tl_err tl_model_fit(tl_model *m, const tl_data *d, tl_diag *diag)
{
    release_state(m);
    tl_intern_release(&m->users);
    tl_intern_release(&m->items);
    tl_err rc = tl_intern_copy(&m->users, &d->users);
    if (rc == TL_OK)
        rc = tl_intern_copy(&m->items, &d->items);
    if (rc != TL_OK)
        return rc;
    m->n_users = d->users.count;
    m->n_items = d->items.count;
    double t0 = tl_now();
    rc = m->ops->fit(m, d, diag);
    m->fit_seconds = tl_now() - t0;
    return rc;
}

tl_err tl_model_save(const tl_model *m, const char *path, tl_diag *diag)
{
    tl_mfile_writer *w = NULL;
    char *params = NULL, *users = NULL, *items = NULL;
    size_t ulen, ilen;
    int64_t dims[2] = {m->n_users, m->n_items};
    tl_err rc = tl_mfile_writer_new(&w);
    if (rc != TL_OK)
        goto out;
    if ((rc = tl_params_to_text(&m->params, &params)) != TL_OK ||
        (rc = tl_intern_pack(&m->users, &users, &ulen)) != TL_OK ||
        (rc = tl_intern_pack(&m->items, &items, &ilen)) != TL_OK)
        goto out;
    if ((rc = tl_mfile_add(w, "tl.model", TL_MT_BYTES, m->ops->name, strlen(m->ops->name))) ||
        (rc = tl_mfile_add(w, "tl.params", TL_MT_BYTES, params, strlen(params))) ||
        (rc = tl_mfile_add(w, "tl.dims", TL_MT_I64, dims, 2)) ||
        (rc = tl_mfile_add(w, "tl.users", TL_MT_BYTES, users, ulen)) ||
        (rc = tl_mfile_add(w, "tl.items", TL_MT_BYTES, items, ilen)))
        goto out;
    if (m->ops->save && (rc = m->ops->save(m, w)) != TL_OK)
        goto out;
    rc = tl_mfile_write(w, path, diag);
out:
    tl_mfile_writer_free(w);
    free(params);
    free(users);
    free(items);
    return rc;
}

tl_err tl_model_load(const char *path, tl_model **out, tl_diag *diag)
{
    tl_mfile *f = NULL;
    tl_model *m = NULL;
    char name[64], *params = NULL;
    uint64_t n;
    tl_err rc = tl_mfile_open(path, &f, diag);
    if (rc != TL_OK)
        goto out;
    rc = TL_ECORRUPT;
    const char *s = tl_mfile_get(f, "tl.model", TL_MT_BYTES, &n);
    if (!s || n >= sizeof(name)) {
        tl_diag_set(diag, path, 0, NULL, "no model name in the file");
        goto out;
    }
    memcpy(name, s, n);
    name[n] = '\0';
    if ((rc = tl_model_new(name, &m)) != TL_OK) {
        tl_diag_set(diag, path, 0, NULL, "unknown model '%s'", name);
        goto out;
    }
    rc = TL_ECORRUPT;
    const int64_t *dims = tl_mfile_get(f, "tl.dims", TL_MT_I64, &n);
    uint64_t ulen, ilen, plen;
    const char *users = tl_mfile_get(f, "tl.users", TL_MT_BYTES, &ulen);
    const char *items = tl_mfile_get(f, "tl.items", TL_MT_BYTES, &ilen);
    const char *ptext = tl_mfile_get(f, "tl.params", TL_MT_BYTES, &plen);
    if (!dims || n != 2 || dims[0] < 0 || dims[1] < 0 || dims[0] > INT32_MAX ||
        dims[1] > INT32_MAX || !users || !items || !ptext) {
        tl_diag_set(diag, path, 0, NULL, "missing or malformed header sections");
        goto out;
    }
    m->n_users = (int32_t)dims[0];
    m->n_items = (int32_t)dims[1];
    if (tl_intern_unpack(&m->users, users, ulen, m->n_users) != TL_OK ||
        tl_intern_unpack(&m->items, items, ilen, m->n_items) != TL_OK) {
        tl_diag_set(diag, path, 0, NULL, "malformed id maps");
        goto out;
    }
    if (!(params = malloc(plen + 1))) {
        rc = TL_ENOMEM;
        goto out;
    }
    memcpy(params, ptext, plen);
    params[plen] = '\0';
    if ((rc = tl_params_from_text(&m->params, params, diag)) != TL_OK) {
        rc = TL_ECORRUPT;
        goto out;
    }
    m->file = f;
    f = NULL;
    if (m->ops->load && (rc = m->ops->load(m, m->file, diag)) != TL_OK)
        goto out;
    if (!m->ops->load) {
        rc = TL_EUNSUPPORTED;
        tl_diag_set(diag, path, 0, NULL, "model '%s' cannot be loaded", name);
        goto out;
    }
    *out = m;
    m = NULL;
out:
    free(params);
    tl_mfile_close(f);
    tl_model_free(m);
    return rc;
}

/* Masks history and filtered items, then selects the top n of one score row. */
static int select_top(const tl_model *m, float *scores, const int32_t *hist, int64_t n_hist,
                      const tl_filter *f, int n, int32_t *out_items, float *out_scores)
{
    for (int64_t j = 0; j < n_hist; j++)
        if (hist[j] >= 0 && hist[j] < m->n_items)
            scores[hist[j]] = -INFINITY;
    if (f && f->allow)
        for (int32_t i = 0; i < m->n_items; i++)
            if (!f->allow[i])
                scores[i] = -INFINITY;
    return tl_topk(scores, m->n_items, n, out_items, out_scores);
}

tl_err tl_model_recommend(const tl_model *m, int32_t uidx, const int32_t *items, const float *w,
                          int32_t n_hist, const tl_filter *f, int n, int32_t *out_items,
                          float *out_scores, int *n_out)
{
    if (!m->state)
        return TL_EINVAL;
    size_t ns = m->ops->scratch_floats ? m->ops->scratch_floats(m) : 0;
    float *scores = malloc((size_t)m->n_items * sizeof(float));
    float *scratch = ns ? malloc(ns * sizeof(float)) : NULL;
    float *vals = out_scores ? NULL : malloc((size_t)(n > 0 ? n : 1) * sizeof(float));
    tl_err rc = TL_ENOMEM;
    if (!scores || (ns && !scratch) || (!out_scores && !vals))
        goto out;
    m->ops->score(m, uidx, items, w, n_hist, scores, scratch);
    *n_out = select_top(m, scores, items, n_hist, f, n, out_items, out_scores ? out_scores : vals);
    rc = TL_OK;
out:
    free(scores);
    free(scratch);
    free(vals);
    return rc;
}

tl_err tl_model_recommend_rows(const tl_model *m, const tl_csr *ui, int users_match,
                               const int32_t *rows, int32_t n_rows, const tl_filter *f, int n,
                               int32_t *out_items, float *out_scores)
{
    if (!m->state || n <= 0)
        return TL_EINVAL;
    int nthreads = omp_get_max_threads();
    size_t ns = m->ops->scratch_floats ? m->ops->scratch_floats(m) : 0;
    size_t block = m->ops->score_block ? BLOCK_USERS : (size_t)nthreads;
    float *scores = malloc(block * (size_t)m->n_items * sizeof(float));
    float *scratch = ns ? malloc((size_t)nthreads * ns * sizeof(float)) : NULL;
    float *vals = malloc((size_t)nthreads * (size_t)n * sizeof(float));
    tl_err rc = TL_ENOMEM;
    if (!scores || (ns && !scratch) || !vals)
        goto out;
    for (int32_t b0 = 0; b0 < n_rows; b0 += (int32_t)block) {
        int32_t nb = n_rows - b0 < (int32_t)block ? n_rows - b0 : (int32_t)block;
        if (m->ops->score_block)
            m->ops->score_block(m, ui, users_match, rows + b0, nb, scores);
#pragma omp parallel for schedule(dynamic, 4)
        for (int32_t r = 0; r < nb; r++) {
            int t = omp_get_thread_num();
            int32_t row = rows[b0 + r];
            const int32_t *hist = ui->indices + ui->indptr[row];
            int64_t nh = ui->indptr[row + 1] - ui->indptr[row];
            float *s = scores + (size_t)(m->ops->score_block ? r : t) * (size_t)m->n_items;
            if (!m->ops->score_block)
                m->ops->score(m, users_match ? row : -1, hist, ui->data + ui->indptr[row],
                              (int32_t)nh, s, scratch ? scratch + (size_t)t * ns : NULL);
            int32_t *oi = out_items + (size_t)(b0 + r) * (size_t)n;
            float *os = out_scores ? out_scores + (size_t)(b0 + r) * (size_t)n : vals + (size_t)t * (size_t)n;
            int got = select_top(m, s, hist, nh, f, n, oi, os);
            for (int k = got; k < n; k++) {
                oi[k] = -1;
                os[k] = -INFINITY;
            }
        }
    }
    rc = TL_OK;
out:
    free(scores);
    free(scratch);
    free(vals);
    return rc;
}
