/* The model registry and what every model shares: lifecycle, parameters, model files with
 * id maps, and top-n recommendation (single user, or many users batched and in parallel). */
#include "core/model.h"

#include <math.h>
#include <stddef.h>
#include <omp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/comm.h"
#include "core/linalg.h"
#include "core/models/models.h"
#include "core/filter.h"
#include "core/topk.h"
#include "util/clock.h"

static const tl_model_ops *const registry[] = {
    &tl_popular_ops, &tl_itemknn_ops,  &tl_ials_ops,   &tl_ease_ops, &tl_rp3beta_ops,
    &tl_content_ops, &tl_sequence_ops, &tl_hybrid_ops, NULL,
};

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
    static atomic_uint_fast64_t next_serial = 1;
    m->ops = ops;
    m->serial = atomic_fetch_add_explicit(&next_serial, 1, memory_order_relaxed);
    m->autotune = 1;
    tl_intern_init(&m->users);
    tl_intern_init(&m->items);
    void *cfg = calloc(1, ops->cfg_size ? ops->cfg_size : 1);
    tl_err rc = cfg ? tl_params_init(&m->params, ops->params, ops->n_params) : TL_ENOMEM;
    if (rc != TL_OK) {
        free(cfg);
        free(m);
        return rc;
    }
    if (ops->n_params)
        tl_params_bind(&m->params, cfg);
    m->cfg = cfg;
    *out = m;
    return TL_OK;
}

static void release_hist(tl_model *m)
{
    if (!m->hist_mapped)
        tl_csr_release(&m->hist);
    memset(&m->hist, 0, sizeof(m->hist));
    m->hist_mapped = 0;
}

static void release_state(tl_model *m)
{
    if (m->state && m->ops->release)
        m->ops->release(m);
    m->state = NULL;
    release_hist(m);
    tl_catalog_release(&m->cat);
    tl_mfile_close(m->file);
    m->file = NULL;
}

void tl_model_free(tl_model *m)
{
    if (!m)
        return;
    release_state(m);
    tl_params_release(&m->params);
    free((void *)m->cfg);
    tl_intern_release(&m->users);
    tl_intern_release(&m->items);
    free(m);
}

tl_err tl_model_set(tl_model *m, const char *kv, tl_diag *diag)
{
    if (strncmp(kv, "half_life_days=", 15) == 0) {
        char *end;
        double v = strtod(kv + 15, &end);
        if (end == kv + 15 || *end || !isfinite(v) || v < 0 || v > 1e6) {
            tl_diag_set(diag, NULL, 0, "half_life_days", "expected a number of days in [0, 1e6]");
            return TL_EINVAL;
        }
        m->half_life_days = v;
        m->half_life_set = 1;
        return TL_OK;
    }
    if (strncmp(kv, "autotune=", 9) == 0) {
        if (strcmp(kv + 9, "0") != 0 && strcmp(kv + 9, "1") != 0) {
            tl_diag_set(diag, NULL, 0, "autotune", "expected 0 or 1");
            return TL_EINVAL;
        }
        m->autotune = kv[9] == '1';
        return TL_OK;
    }
    if (strncmp(kv, "tune_split=", 11) == 0) {
        static const char *const names[] = {"auto", "random", "temporal", "both"};
        for (int k = 0; k < 4; k++)
            if (strcmp(kv + 11, names[k]) == 0) {
                m->tune_split = k;
                return TL_OK;
            }
        tl_diag_set(diag, NULL, 0, "tune_split", "expected auto, random, temporal or both");
        return TL_EINVAL;
    }
    return tl_params_set_kv(&m->params, kv, diag);
}

static tl_err copy_strings(char ***dst, char *const *src, int32_t n)
{
    if (!src)
        return TL_OK;
    for (int32_t i = 0; i < n; i++)
        if (src[i] && !((*dst)[i] = strdup(src[i])))
            return TL_ENOMEM;
    return TL_OK;
}

static tl_err copy_catalog(tl_catalog *dst, const tl_catalog *src, int32_t n_items)
{
    tl_err rc;
    if (!src->n)
        return TL_OK;
    int32_t n = src->n < n_items ? src->n : n_items;
    if ((rc = tl_catalog_reserve(dst, n_items)) != TL_OK ||
        (rc = copy_strings(&dst->title, src->title, n)) != TL_OK ||
        (rc = copy_strings(&dst->creators, src->creators, n)) != TL_OK ||
        (rc = copy_strings(&dst->subjects, src->subjects, n)) != TL_OK ||
        (rc = copy_strings(&dst->language, src->language, n)) != TL_OK ||
        (rc = copy_strings(&dst->type, src->type, n)) != TL_OK ||
        (rc = copy_strings(&dst->format, src->format, n)) != TL_OK)
        return rc;
    if (src->year)
        memcpy(dst->year, src->year, (size_t)n * sizeof(*dst->year));
    if (src->available)
        memcpy(dst->available, src->available, (size_t)n * sizeof(*dst->available));
    if (src->added)
        memcpy(dst->added, src->added, (size_t)n * sizeof(*dst->added));
    return TL_OK;
}

/* Catalogue text fields travel as n NUL-terminated strings ("" for none) in one section. */
static const struct {
    const char *section;
    size_t offset;
} cat_text[] = {
    {"tl.cat.title", offsetof(tl_catalog, title)},
    {"tl.cat.creators", offsetof(tl_catalog, creators)},
    {"tl.cat.subjects", offsetof(tl_catalog, subjects)},
    {"tl.cat.language", offsetof(tl_catalog, language)},
    {"tl.cat.type", offsetof(tl_catalog, type)},
    {"tl.cat.format", offsetof(tl_catalog, format)},
};
#define N_CAT_TEXT (sizeof(cat_text) / sizeof(cat_text[0]))

static char **cat_field(const tl_catalog *c, size_t k)
{
    return *(char ***)((const char *)c + cat_text[k].offset);
}

static tl_err pack_field(char **field, int32_t n, char **out, size_t *len)
{
    size_t total = 0;
    for (int32_t i = 0; i < n; i++)
        total += (field[i] ? strlen(field[i]) : 0) + 1;
    char *b = malloc(total ? total : 1);
    if (!b)
        return TL_ENOMEM;
    size_t off = 0;
    for (int32_t i = 0; i < n; i++) {
        size_t l = field[i] ? strlen(field[i]) : 0;
        if (l)
            memcpy(b + off, field[i], l);
        b[off + l] = '\0';
        off += l + 1;
    }
    *out = b;
    *len = total;
    return TL_OK;
}

static tl_err unpack_field(char **field, int32_t n, const char *b, uint64_t len)
{
    uint64_t off = 0;
    for (int32_t i = 0; i < n; i++) {
        const char *nul = off < len ? memchr(b + off, '\0', (size_t)(len - off)) : NULL;
        if (!nul)
            return TL_ECORRUPT;
        size_t l = (size_t)(nul - (b + off));
        if (l && !(field[i] = strdup(b + off)))
            return TL_ENOMEM;
        off += l + 1;
    }
    return off == len ? TL_OK : TL_ECORRUPT;
}

static tl_err save_shared(const tl_model *m, tl_mfile_writer *w, char **bufs)
{
    tl_err rc;
    const tl_csr *h = &m->hist;
    if (h->indptr && h->nrows == m->n_users) {
        if ((rc =
                 tl_mfile_add(w, "tl.hist.indptr", TL_MT_I64, h->indptr, (uint64_t)h->nrows + 1)) ||
            (rc = tl_mfile_add(w, "tl.hist.indices", TL_MT_I32, h->indices, (uint64_t)h->nnz)) ||
            (rc = tl_mfile_add(w, "tl.hist.data", TL_MT_F32, h->data, (uint64_t)h->nnz)))
            return rc;
    }
    if (m->cat.n < m->n_items || !m->n_items)
        return TL_OK;
    for (size_t k = 0; k < N_CAT_TEXT; k++) {
        size_t len;
        if ((rc = pack_field(cat_field(&m->cat, k), m->n_items, &bufs[k], &len)) != TL_OK ||
            (rc = tl_mfile_add(w, cat_text[k].section, TL_MT_BYTES, bufs[k], len)) != TL_OK)
            return rc;
    }
    if ((rc = tl_mfile_add(w, "tl.cat.year", TL_MT_I32, m->cat.year, (uint64_t)m->n_items)) ||
        (rc = tl_mfile_add(w, "tl.cat.available", TL_MT_I32, m->cat.available,
                           (uint64_t)m->n_items)))
        return rc;
    return tl_mfile_add(w, "tl.cat.added", TL_MT_I64, m->cat.added, (uint64_t)m->n_items);
}

static tl_err load_shared(tl_model *m, const tl_mfile *f)
{
    uint64_t n_ip, n_ix, n_d;
    const int64_t *ip = tl_mfile_get(f, "tl.hist.indptr", TL_MT_I64, &n_ip);
    const int32_t *ix = tl_mfile_get(f, "tl.hist.indices", TL_MT_I32, &n_ix);
    const float *dv = tl_mfile_get(f, "tl.hist.data", TL_MT_F32, &n_d);
    if (ip) {
        if (!ix || !dv || n_ip != (uint64_t)m->n_users + 1 || n_ix != n_d || ip[0] != 0 ||
            (uint64_t)ip[m->n_users] != n_ix)
            return TL_ECORRUPT;
        for (int32_t u = 0; u < m->n_users; u++)
            if (ip[u] > ip[u + 1])
                return TL_ECORRUPT;
        for (uint64_t p = 0; p < n_ix; p++)
            if (ix[p] < 0 || ix[p] >= m->n_items)
                return TL_ECORRUPT;
        m->hist.nrows = m->n_users;
        m->hist.ncols = m->n_items;
        m->hist.nnz = (int64_t)n_ix;
        m->hist.indptr = (int64_t *)ip;
        m->hist.indices = (int32_t *)ix;
        m->hist.data = (float *)dv;
        m->hist_mapped = 1;
    }
    uint64_t n;
    const int32_t *year = tl_mfile_get(f, "tl.cat.year", TL_MT_I32, &n);
    if (!year)
        return TL_OK;
    const int32_t *avail = tl_mfile_get(f, "tl.cat.available", TL_MT_I32, &n_d);
    const int64_t *added = tl_mfile_get(f, "tl.cat.added", TL_MT_I64, &n_ix);
    if (n != (uint64_t)m->n_items || !avail || n_d != n || !added || n_ix != n)
        return TL_ECORRUPT;
    tl_err rc = tl_catalog_reserve(&m->cat, m->n_items);
    if (rc != TL_OK)
        return rc;
    memcpy(m->cat.year, year, (size_t)n * sizeof(*year));
    memcpy(m->cat.available, avail, (size_t)n * sizeof(*avail));
    memcpy(m->cat.added, added, (size_t)n * sizeof(*added));
    for (size_t k = 0; k < N_CAT_TEXT; k++) {
        uint64_t len;
        const char *b = tl_mfile_get(f, cat_text[k].section, TL_MT_BYTES, &len);
        if (!b || (rc = unpack_field(cat_field(&m->cat, k), m->n_items, b, len)) != TL_OK)
            return b ? rc : TL_ECORRUPT;
    }
    return TL_OK;
}

int tl_model_progress(const tl_model *m, const char *stage, double done)
{
    const tl_fit_hooks *h = m->hooks;
    if (!h)
        return 0;
    if (stage && h->progress)
        h->progress(h->ctx, stage, done < 0 ? 0 : done > 1 ? 1 : done);
    return h->cancelled ? h->cancelled(h->ctx) : 0;
}

/* The newest timestamp of a, or INT64_MIN when it has none. */
static int64_t newest(const tl_csr *a)
{
    int64_t t = INT64_MIN;
    for (int64_t p = 0; a->ts && p < a->nnz; p++)
        t = a->ts[p] > t ? a->ts[p] : t;
    return t;
}

/* out = d with every weight times 2^(-(ref - ts) / half-life) (events at or after ref keep
 * theirs), own matrices, d's ids and catalogue. */
static tl_err decayed(const tl_data *d, double days, int64_t ref, tl_data *out)
{
    *out = *d;
    memset(&out->ui, 0, sizeof(out->ui));
    memset(&out->iu, 0, sizeof(out->iu));
    tl_err rc = tl_csr_copy(&d->ui, &out->ui);
    if (rc != TL_OK)
        return rc;
    double hl = days * 86400.0;
    for (int64_t p = 0; p < out->ui.nnz; p++) {
        double age = (double)ref - (double)out->ui.ts[p];
        out->ui.data[p] *= (float)exp2(-(age > 0 ? age : 0) / hl);
    }
    return tl_csr_transpose_no_ts(&out->ui, &out->iu);
}

tl_err tl_model_fit(tl_model *m, const tl_data *d, const tl_fit_hooks *hooks, tl_diag *diag)
{
    tl_data dd;
    int own = 0;
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
    if (hooks && hooks->comm && hooks->comm->size > 1 && !m->ops->distributed) {
        tl_diag_set(diag, NULL, 0, NULL, "%s cannot be trained across processes", m->ops->name);
        return TL_EUNSUPPORTED;
    }
    double t0 = tl_now();
    m->tuned[0] = '\0';
    m->tune_seconds = 0;
    if (hooks && hooks->tune && m->autotune &&
        (rc = hooks->tune(hooks->ctx, m, d, hooks, diag)) != TL_OK)
        return rc;
    m->tune_seconds = tl_now() - t0;
    m->decay_ref = 0;
    if (m->half_life_days > 0) {
        if ((m->decay_ref = newest(&d->ui)) == INT64_MIN) {
            tl_diag_set(diag, NULL, 0, "half_life_days", "time decay needs event timestamps");
            return TL_EINVAL;
        }
        if (!m->ops->own_decay) {
            if ((rc = decayed(d, m->half_life_days, m->decay_ref, &dd)) != TL_OK)
                goto out;
            own = 1;
            d = &dd;
        }
    }
    if ((rc = copy_catalog(&m->cat, &d->cat, m->n_items)) != TL_OK)
        goto out;
    m->hooks = hooks;
    rc = tl_model_progress(m, NULL, 0) ? TL_ECANCELED : m->ops->fit(m, d, diag);
    m->hooks = NULL;
    /* The histories recommend reads: what a user has (with the weights the model saw), not
     * when. Copied after the fit, so that they never sit beside its working memory. */
    if (rc == TL_OK && (rc = tl_csr_copy_no_ts(&d->ui, &m->hist)) != TL_OK)
        release_state(m);
    m->fit_seconds = tl_now() - t0;
    if (rc == TL_OK) {
        int64_t newest_ts = newest(&d->ui);
        m->trained_through = newest_ts == INT64_MIN ? 0 : newest_ts;
        m->trained_pairs = d->ui.nnz;
    }
out:
    if (own) {
        tl_csr_release(&dd.ui);
        tl_csr_release(&dd.iu);
    }
    return rc;
}

tl_err tl_model_copy_settings(tl_model *dst, const tl_model *src, tl_diag *diag)
{
    char *text = NULL;
    tl_err rc = tl_params_to_text(&src->params, &text);
    if (rc == TL_OK)
        rc = tl_params_from_text(&dst->params, text, diag);
    free(text);
    dst->autotune = src->autotune;
    dst->tune_split = src->tune_split;
    dst->half_life_days = src->half_life_days;
    dst->half_life_set = src->half_life_set;
    return rc;
}

/* The settings every model has beyond its parameters: the time decay, when there is one. */
tl_err tl__model_save_settings(const tl_model *m, tl_mfile_writer *w)
{
    if (!(m->half_life_days > 0))
        return TL_OK;
    /* The writer keeps a pointer until the file is written: the array lives in m. */
    tl_model *mm = (tl_model *)m;
    mm->decay_sec[0] = (int64_t)llround(m->half_life_days * 86400.0);
    mm->decay_sec[1] = m->decay_ref;
    return tl_mfile_add(w, "tl.decay", TL_MT_I64, mm->decay_sec, 2);
}

tl_err tl__model_load_settings(tl_model *m, const tl_mfile *f, tl_diag *diag)
{
    uint64_t n;
    const int64_t *decay = tl_mfile_get(f, "tl.decay", TL_MT_I64, &n);
    if (!decay)
        return TL_OK;
    if (n != 2 || decay[0] <= 0) {
        tl_diag_set(diag, NULL, 0, "tl.decay", "malformed time decay section");
        return TL_ECORRUPT;
    }
    m->half_life_days = (double)decay[0] / 86400.0;
    m->decay_ref = decay[1];
    return TL_OK;
}

tl_err tl_model_save(const tl_model *m, const char *path, tl_diag *diag)
{
    tl_mfile_writer *w = NULL;
    char *params = NULL, *users = NULL, *items = NULL, *catbufs[N_CAT_TEXT] = {0};
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
    /* The writer keeps a pointer until the file is written: the array lives in m. */
    ((tl_model *)m)->watermark[0] = m->trained_through;
    ((tl_model *)m)->watermark[1] = m->trained_pairs;
    if ((rc = tl__model_save_settings(m, w)) != TL_OK ||
        (rc = save_shared(m, w, catbufs)) != TL_OK ||
        (rc = tl_mfile_add(w, "tl.watermark", TL_MT_I64, m->watermark, 2)) != TL_OK)
        goto out;
    if (m->ops->save && (rc = m->ops->save(m, w)) != TL_OK)
        goto out;
    rc = tl_mfile_write(w, path, diag);
out:
    for (size_t k = 0; k < N_CAT_TEXT; k++)
        free(catbufs[k]);
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
    if ((rc = tl__model_load_settings(m, f, diag)) != TL_OK)
        goto out;
    const int64_t *wm = tl_mfile_get(f, "tl.watermark", TL_MT_I64, &n);
    if (wm && n == 2) { /* files from before the watermark have none: 0, unknown */
        m->trained_through = wm[0];
        m->trained_pairs = wm[1];
    }
    if ((rc = load_shared(m, f)) != TL_OK) {
        tl_diag_set(diag, path, 0, NULL, "malformed history or catalogue sections");
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
    tl_filter_apply(f, scores, m->n_items);
    return tl_topk(scores, m->n_items, n, out_items, out_scores);
}

/* tl_model_recommend's working memory, one buffer per thread that grows to the largest need
 * and is freed when the thread ends: a server thread answers request after request without
 * allocating. */
typedef struct thread_scratch {
    float *buf;
    size_t cap;
} thread_scratch;
static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;
static int scratch_key_ok;

static void scratch_release(void *p)
{
    thread_scratch *s = p;
    free(s->buf);
    free(s);
}

static void scratch_key_make(void)
{
    scratch_key_ok = pthread_key_create(&scratch_key, scratch_release) == 0;
}

/* n floats of this thread's scratch (contents undefined; 64-byte aligned), or NULL. */
static float *thread_floats(size_t n)
{
    pthread_once(&scratch_once, scratch_key_make);
    if (!scratch_key_ok)
        return NULL;
    thread_scratch *s = pthread_getspecific(scratch_key);
    if (!s) {
        if (!(s = calloc(1, sizeof(*s))) || pthread_setspecific(scratch_key, s) != 0) {
            free(s);
            return NULL;
        }
    }
    if (s->cap < n) {
        void *b = NULL;
        if (posix_memalign(&b, 64, n * sizeof(float)) != 0)
            return NULL;
        free(s->buf);
        s->buf = b;
        s->cap = n;
    }
    return s->buf;
}

tl_err tl_model_recommend(const tl_model *m, int32_t uidx, const int32_t *items, const float *w,
                          int32_t n_hist, const tl_filter *f, int n, int32_t *out_items,
                          float *out_scores, int *n_out)
{
    if (!m->state || n < 0)
        return TL_EINVAL;
    size_t ns = m->ops->scratch_floats ? m->ops->scratch_floats(m) : 0;
    /* scores, the model's scratch, then the selected scores when the caller wants none; each
     * part on a 64-byte boundary, as an allocation of its own would be */
    size_t at_scratch = ((size_t)m->n_items + 15) / 16 * 16,
           at_vals = at_scratch + (ns + 15) / 16 * 16;
    float *scores = thread_floats(at_vals + (size_t)n + 1);
    if (!scores)
        return TL_ENOMEM;
    float *scratch = ns ? scores + at_scratch : NULL, *vals = scores + at_vals;
    tl_err rc = m->ops->score(m, uidx, items, w, n_hist, scores, scratch);
    if (rc != TL_OK)
        return rc;
    *n_out = select_top(m, scores, items, n_hist, f, n, out_items, out_scores ? out_scores : vals);
    return TL_OK;
}

tl_err tl_model_score_items(const tl_model *m, int32_t uidx, const int32_t *items, const float *w,
                            int32_t n_hist, const int32_t *cand, int32_t ncand, float *out)
{
    if (!m->state || ncand < 0)
        return TL_EINVAL;
    size_t ns = m->ops->scratch_floats ? m->ops->scratch_floats(m) : 0;
    for (int32_t k = 0; k < ncand; k++)
        if (cand[k] < 0 || cand[k] >= m->n_items)
            return TL_EINVAL;
    if (m->ops->score_items) {
        float *scratch = thread_floats(ns + 1);
        return scratch ? m->ops->score_items(m, uidx, items, w, n_hist, cand, ncand, out, scratch)
                       : TL_ENOMEM;
    }
    size_t at_scratch = ((size_t)m->n_items + 15) / 16 * 16;
    float *scores = thread_floats(at_scratch + ns + 1);
    if (!scores)
        return TL_ENOMEM;
    tl_err rc = m->ops->score(m, uidx, items, w, n_hist, scores, ns ? scores + at_scratch : NULL);
    for (int32_t k = 0; rc == TL_OK && k < ncand; k++)
        out[k] = scores[cand[k]];
    return rc;
}

/* One user's row of ui: score (unless scores already hold it), mask, select, pad with -1.
 * The scorer's error leaves the row all -1. */
static tl_err recommend_row(const tl_model *m, const tl_csr *ui, int users_match, int32_t row,
                            int have_scores, float *s, float *scratch, const tl_filter *f, int n,
                            int32_t *oi, float *os)
{
    const int32_t *hist = ui->indices + ui->indptr[row];
    int64_t nh = ui->indptr[row + 1] - ui->indptr[row];
    tl_err rc = TL_OK;
    if (!have_scores)
        rc = m->ops->score(m, users_match ? row : -1, hist, ui->data + ui->indptr[row], (int32_t)nh,
                           s, scratch);
    int got = rc == TL_OK ? select_top(m, s, hist, nh, f, n, oi, os) : 0;
    for (int k = got; k < n; k++) {
        oi[k] = -1;
        os[k] = -INFINITY;
    }
    return rc;
}

/* Users per score_block call on one thread: enough rows for an efficient sgemm, and about
 * four tiles per thread so that the dynamic schedule can balance uneven rows. */
#define TILE_MAX 256
#define TILE_MIN 16

static int32_t tile_users(int32_t n_rows, int nthreads)
{
    int32_t t = n_rows / (4 * nthreads);
    return t > TILE_MAX ? TILE_MAX : t < TILE_MIN ? TILE_MIN : t;
}

tl_err tl_model_recommend_rows(const tl_model *m, const tl_csr *ui, int users_match,
                               const int32_t *rows, int32_t n_rows, const tl_filter *f, int n,
                               int32_t *out_items, float *out_scores)
{
    if (!m->state || n <= 0)
        return TL_EINVAL;
    int nthreads = omp_get_max_threads();
    size_t ns = m->ops->scratch_floats ? m->ops->scratch_floats(m) : 0;
    int batched = m->ops->score_block != NULL;
    int32_t tile = batched ? tile_users(n_rows, nthreads) : 1;
    float *scores = malloc((size_t)nthreads * (size_t)tile * (size_t)m->n_items * sizeof(float));
    float *scratch = ns && !batched ? malloc((size_t)nthreads * ns * sizeof(float)) : NULL;
    float *vals = malloc((size_t)nthreads * (size_t)n * sizeof(float));
    tl_err rc = TL_ENOMEM, failed = TL_OK; /* failed: a row's scorer said its scores are unusable */
    if (!scores || (ns && !batched && !scratch) || !vals)
        goto out;
    if (!batched) {
        /* One parallel region over every row: each thread scores into its own buffer. */
#pragma omp parallel
        {
            int t = omp_get_thread_num();
            float *s = scores + (size_t)t * (size_t)m->n_items;
            float *sc = scratch ? scratch + (size_t)t * ns : NULL;
#pragma omp for schedule(dynamic, 16)
            for (int32_t r = 0; r < n_rows; r++) {
                float *os =
                    out_scores ? out_scores + (size_t)r * (size_t)n : vals + (size_t)t * (size_t)n;
                tl_err e = recommend_row(m, ui, users_match, rows[r], 0, s, sc, f, n,
                                         out_items + (size_t)r * (size_t)n, os);
                if (e != TL_OK) {
#pragma omp atomic write
                    failed = e;
                }
            }
        }
    } else if (tl_la_blas_threads() == 1) {
        /* Each thread scores a tile of users into its own buffer and selects from it at
         * once, while the scores are still in cache, instead of one block for all threads
         * written to memory and read back. score_block runs inside the parallel region:
         * every model's score_block only reads the model, writes its own rows, and keeps
         * any OpenMP it uses on the calling thread when nested (ials checks
         * omp_in_parallel; ease and hybrid open plain regions, which nested run with one
         * thread). BLAS is single-threaded (the program's setting), so nothing
         * oversubscribes. */
#pragma omp parallel
        {
            int t = omp_get_thread_num();
            float *s = scores + (size_t)t * (size_t)tile * (size_t)m->n_items;
            float *ov = vals + (size_t)t * (size_t)n;
#pragma omp for schedule(dynamic, 1)
            for (int32_t t0 = 0; t0 < n_rows; t0 += tile) {
                int32_t nt = n_rows - t0 < tile ? n_rows - t0 : tile;
                m->ops->score_block(m, ui, users_match, rows + t0, nt, s);
                for (int32_t r = 0; r < nt; r++) {
                    size_t at = (size_t)(t0 + r) * (size_t)n;
                    recommend_row(m, ui, users_match, rows[t0 + r], 1,
                                  s + (size_t)r * (size_t)m->n_items, NULL, f, n, out_items + at,
                                  out_scores ? out_scores + at : ov);
                }
            }
        }
    } else {
        /* BLAS is threaded (the program's setting, which core never changes per call):
         * blocks of nthreads tiles are scored one at a time on BLAS's threads, then selected
         * from in parallel. */
        int32_t block = tile * nthreads;
        for (int32_t t0 = 0; t0 < n_rows; t0 += block) {
            int32_t nt = n_rows - t0 < block ? n_rows - t0 : block;
            m->ops->score_block(m, ui, users_match, rows + t0, nt, scores);
#pragma omp parallel for schedule(dynamic, 16)
            for (int32_t r = 0; r < nt; r++) {
                size_t at = (size_t)(t0 + r) * (size_t)n;
                float *ov = vals + (size_t)omp_get_thread_num() * (size_t)n;
                recommend_row(m, ui, users_match, rows[t0 + r], 1,
                              scores + (size_t)r * (size_t)m->n_items, NULL, f, n, out_items + at,
                              out_scores ? out_scores + at : ov);
            }
        }
    }
    rc = failed;
out:
    free(scores);
    free(scratch);
    free(vals);
    return rc;
}

void tl_model_facts_of(const tl_model *m, tl_model_facts *out)
{
    *out = (tl_model_facts){.name = m->ops->name,
                            .n_users = m->n_users,
                            .n_items = m->n_items,
                            .trained_through = m->trained_through,
                            .trained_pairs = m->trained_pairs,
                            .fit_seconds = m->fit_seconds};
}

int32_t tl_model_item_index(const tl_model *m, const char *id)
{
    return id ? tl_intern_find(&m->items, id, strlen(id)) : -1;
}

const char *tl_model_item_id(const tl_model *m, int32_t index)
{
    return index >= 0 && index < m->n_items ? tl_intern_str(&m->items, index) : NULL;
}

int32_t tl_model_user_index(const tl_model *m, const char *id)
{
    return id && m->users.count > 0 ? tl_intern_find(&m->users, id, strlen(id)) : -1;
}
