/* popular: the most-borrowed list, optionally with exponential time decay (recent events count
 * more) and optionally per user segment (e.g. department or home branch: a user attribute of
 * the training data, or any grouping through tl_popular_fit_segments). It is the baseline
 * every other model must beat and the fallback for users with no history. */
#include "core/models/item_models.h"
#include "core/models/models.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct pop_cfg {
    int use_weights;
    const char *segment;
    double segment_mix;
} pop_cfg;

static const tl_param_def params[] = {
    TL_PARAM(
        pop_cfg, use_weights, "0", 0, 1,
        "1 = sum the event weights (ratings, loan counts); 0 = count each user-item pair once"),
    TL_PARAM(pop_cfg, segment, "", 0, 0,
             "user attribute (e.g. department) whose values get their own lists; users without it "
             "get the global list. The attributes come from the users imported into the store"),
    TL_PARAM(pop_cfg, segment_mix, "0.01", 0, 1,
             "share of the global list mixed into a segment's list (breaks ties, fills gaps)"),
};

/* Segment lists are n_segments x n_items floats (and doubles while fitting): an attribute with
 * more distinct values than this allows is not a segmentation. */
#define SEG_MAX_CELLS ((size_t)1 << 27)

#define SEC_GLOBAL "pop_global"
#define SEC_SEG "pop_seg"
#define SEC_NAMES "pop_seg_names"
#define SEC_USERSEG "pop_user_seg"

typedef struct pop_state {
    int32_t n_items;
    float *global; /* n_items raw popularity (decayed counts or weights) */
    int32_t n_seg;
    float *seg;        /* n_seg x n_items, ready-to-serve blended scores */
    char *names;       /* n_seg NUL-terminated values, back to back */
    size_t names_len;  /* bytes of names */
    int32_t n_users;   /* entries of user_seg */
    int32_t *user_seg; /* the model's user index -> segment, -1 = none */
    int owned;         /* arrays are malloc'd; 0 = they point into the model file */
} pop_state;

static void release_arrays(pop_state *s)
{
    if (s->owned) {
        free(s->global);
        free(s->seg);
        free(s->names);
        free(s->user_seg);
    }
}

static void release(tl_model *m)
{
    pop_state *s = m->state;
    if (!s)
        return;
    release_arrays(s);
    free(s);
    m->state = NULL;
}

/* Weight of one event: its value or 1, times 2^(-age / half-life). */
static inline double event_weight(const tl_csr *a, int64_t p, int use_w, double tmax, double hl)
{
    double v = use_w ? a->data[p] : 1.0;
    if (hl > 0.0)
        v *= exp2(-(tmax - (double)a->ts[p]) / hl);
    return v;
}

/* Reads the decay settings; TL_EINVAL when decay is asked for but d has no timestamps. */
static tl_err decay_setup(const tl_model *m, const tl_data *d, double *tmax, double *hl,
                          tl_diag *diag)
{
    (void)d;
    (void)diag;
    double days = m->half_life_days; /* the model-wide decay: popular decays counts itself */
    *tmax = (double)m->decay_ref;
    *hl = days * 86400.0;
    return TL_OK;
}

static tl_err fit_attr_segments(tl_model *m, const tl_data *d, const char *key, tl_diag *diag);

static tl_err fit(tl_model *m, const tl_data *d, tl_diag *diag)
{
    const pop_cfg *cfg = m->cfg;
    tl_err rc;
    double tmax, hl;
    if ((rc = tl_simmat_check_data(d, m->n_items, diag)) != TL_OK ||
        (rc = decay_setup(m, d, &tmax, &hl, diag)) != TL_OK)
        return rc;
    int use_w = cfg->use_weights;
    pop_state *s = calloc(1, sizeof(*s));
    if (!s)
        return TL_ENOMEM;
    s->owned = 1;
    s->n_items = m->n_items;
    s->global = calloc((size_t)(m->n_items ? m->n_items : 1), sizeof(*s->global));
    if (!s->global) {
        free(s);
        return TL_ENOMEM;
    }
    /* Sequential over users, a double sum per item: each item's events are added in user
     * order, the order of its row of d->iu, whatever the threads (d->iu has no timestamps,
     * which the decay needs, and this O(events) pass is cheap next to any other model). */
    const tl_csr *ui = &d->ui;
    double *acc = calloc((size_t)(m->n_items ? m->n_items : 1), sizeof(*acc));
    if (!acc) {
        free(s->global);
        free(s);
        return TL_ENOMEM;
    }
    for (int32_t u = 0; u < ui->nrows; u++)
        for (int64_t p = ui->indptr[u]; p < ui->indptr[u + 1]; p++)
            if (ui->indices[p] < s->n_items)
                acc[ui->indices[p]] += event_weight(ui, p, use_w, tmax, hl);
    for (int32_t i = 0; i < s->n_items; i++)
        s->global[i] = (float)acc[i];
    free(acc);
    release(m);
    m->state = s;
    return cfg->segment && *cfg->segment ? fit_attr_segments(m, d, cfg->segment, diag) : TL_OK;
}

void tl_popular_score_segment(const tl_model *m, int32_t seg, float *scores)
{
    const pop_state *s = m->state;
    const float *src = (seg >= 0 && seg < s->n_seg) ? s->seg + (size_t)seg * s->n_items : s->global;
    memcpy(scores, src, (size_t)s->n_items * sizeof(*scores));
}

static tl_err score(const tl_model *m, int32_t uidx, const int32_t *items, const float *w,
                    int32_t n, float *scores, float *scratch)
{
    const pop_state *s = m->state;
    (void)items;
    (void)w;
    (void)n;
    (void)scratch;
    int32_t seg = (uidx >= 0 && uidx < s->n_users) ? s->user_seg[uidx] : -1;
    tl_popular_score_segment(m, seg, scores);
    return TL_OK;
}

static float max_of(const float *v, int32_t n)
{
    float mx = 0.0f;
    for (int32_t i = 0; i < n; i++)
        mx = v[i] > mx ? v[i] : mx;
    return mx;
}

tl_err tl_popular_fit_segments(tl_model *m, const tl_data *d, const int32_t *user_segment,
                               const char *const *names, int32_t n_segments, tl_diag *diag)
{
    tl_err rc = TL_ENOMEM;
    if (!m || m->ops != &tl_popular_ops || !m->state || n_segments < 0) {
        tl_diag_set(diag, NULL, 0, "segment", "needs a fitted 'popular' model");
        return TL_EINVAL;
    }
    pop_state *s = m->state;
    if (!s->owned || d->ui.ncols != s->n_items) {
        tl_diag_set(diag, NULL, 0, "segment", "the model was not fitted on this data");
        return TL_EINVAL;
    }
    double tmax, hl;
    if ((rc = decay_setup(m, d, &tmax, &hl, diag)) != TL_OK)
        return rc;
    const pop_cfg *cfg = m->cfg;
    int use_w = cfg->use_weights;
    int32_t nu = d->ui.nrows, ni = s->n_items;
    for (int32_t u = 0; u < nu; u++) {
        if (user_segment[u] < -1 || user_segment[u] >= n_segments) {
            tl_diag_set(diag, NULL, 0, "segment", "user %d has segment %d, outside [-1, %d)", u,
                        user_segment[u], n_segments);
            return TL_EINVAL;
        }
    }
    rc = TL_ENOMEM;
    double *acc = calloc((size_t)n_segments * (size_t)ni + 1, sizeof(*acc));
    float *seg = malloc(((size_t)n_segments * (size_t)ni + 1) * sizeof(*seg));
    int32_t *us = malloc(((size_t)nu + 1) * sizeof(*us));
    size_t names_len = 0;
    char num[16];
    for (int32_t g = 0; g < n_segments; g++) {
        snprintf(num, sizeof(num), "%d", g);
        names_len += strlen(names && names[g] ? names[g] : num) + 1;
    }
    char *nm = malloc(names_len + 1);
    if (!acc || !seg || !us || !nm)
        goto out;
    size_t off = 0;
    for (int32_t g = 0; g < n_segments; g++) {
        snprintf(num, sizeof(num), "%d", g);
        const char *v = names && names[g] ? names[g] : num;
        memcpy(nm + off, v, strlen(v) + 1);
        off += strlen(v) + 1;
    }
    /* Sequential over users: the sums then follow one fixed order (determinism), and the pass
     * is O(events), far cheaper than training any other model. */
    for (int32_t u = 0; u < nu; u++) {
        int32_t g = user_segment[u];
        us[u] = g;
        if (g < 0)
            continue;
        double *row = acc + (size_t)g * ni;
        for (int64_t p = d->ui.indptr[u]; p < d->ui.indptr[u + 1]; p++)
            row[d->ui.indices[p]] += event_weight(&d->ui, p, use_w, tmax, hl);
    }
    float mix = (float)cfg->segment_mix;
    float gmax = max_of(s->global, ni);
    for (int32_t g = 0; g < n_segments; g++) {
        const double *row = acc + (size_t)g * ni;
        double smax = 0.0;
        for (int32_t i = 0; i < ni; i++)
            smax = row[i] > smax ? row[i] : smax;
        float *out = seg + (size_t)g * ni;
        for (int32_t i = 0; i < ni; i++)
            out[i] = (float)(smax > 0.0 ? row[i] / smax : 0.0) +
                     (gmax > 0.0f ? mix * (s->global[i] / gmax) : 0.0f);
    }
    free(s->seg);
    free(s->names);
    free(s->user_seg);
    s->seg = seg;
    s->names = nm;
    s->names_len = names_len;
    s->user_seg = us;
    s->n_seg = n_segments;
    s->n_users = nu;
    seg = NULL;
    nm = NULL;
    us = NULL;
    rc = TL_OK;
out:
    free(acc);
    free(seg);
    free(us);
    free(nm);
    return rc;
}

/* "department, level" into buf (cut short with "..." when it does not fit). */
static void attr_names(const tl_data *d, char *buf, size_t len)
{
    size_t off = 0;
    buf[0] = '\0';
    for (int32_t k = 0; k < d->attrs.n && off < len; k++) {
        int n = snprintf(buf + off, len - off, "%s%s", k ? ", " : "", d->attrs.cols[k].key);
        if (n < 0 || (size_t)n >= len - off) {
            snprintf(buf + (len > 4 ? len - 4 : 0), len > 4 ? 4 : len, "...");
            break;
        }
        off += (size_t)n;
    }
}

/* The segments of the `segment` parameter: the values of d's user attribute key. */
static tl_err fit_attr_segments(tl_model *m, const tl_data *d, const char *key, tl_diag *diag)
{
    const tl_attr *a = tl_data_attr(d, key);
    char names[200];
    if (!a) {
        attr_names(d, names, sizeof(names));
        if (names[0])
            tl_diag_set(diag, NULL, 0, "segment",
                        "no user has the attribute '%s' (the users' attributes: %s)", key, names);
        else
            tl_diag_set(diag, NULL, 0, "segment",
                        "no user has the attribute '%s' (the training data has no user "
                        "attributes; they come from the users imported into the store)",
                        key);
        return TL_EINVAL;
    }
    int32_t n_seg = a->values.count, nu = d->ui.nrows;
    if ((size_t)n_seg * (size_t)(m->n_items ? m->n_items : 1) > SEG_MAX_CELLS) {
        tl_diag_set(diag, NULL, 0, "segment",
                    "the attribute '%s' has %d distinct values: too many lists of %d items "
                    "(at most %zu values x items)",
                    key, n_seg, m->n_items, SEG_MAX_CELLS);
        return TL_ETOOBIG;
    }
    int32_t *seg = malloc(((size_t)nu + 1) * sizeof(*seg));
    if (!seg)
        return TL_ENOMEM;
    for (int32_t u = 0; u < nu; u++)
        seg[u] = u < a->n_users ? a->of_user[u] : -1;
    tl_err rc = tl_popular_fit_segments(m, d, seg, a->values.strs, n_seg, diag);
    free(seg);
    return rc;
}

int32_t tl_popular_segment_find(const tl_model *m, const char *name)
{
    if (!m || m->ops != &tl_popular_ops || !m->state)
        return -1;
    const pop_state *s = m->state;
    size_t off = 0;
    for (int32_t g = 0; g < s->n_seg; g++) {
        const char *v = s->names + off;
        if (strcmp(v, name) == 0)
            return g;
        off += strlen(v) + 1;
    }
    return -1;
}

static tl_err save(const tl_model *m, tl_mfile_writer *w)
{
    const pop_state *s = m->state;
    tl_err rc = tl_mfile_add(w, SEC_GLOBAL, TL_MT_F32, s->global, (uint64_t)s->n_items);
    if (rc != TL_OK || !s->n_seg)
        return rc;
    if ((rc = tl_mfile_add(w, SEC_SEG, TL_MT_F32, s->seg,
                           (uint64_t)s->n_seg * (uint64_t)s->n_items)) != TL_OK ||
        (rc = tl_mfile_add(w, SEC_NAMES, TL_MT_BYTES, s->names, s->names_len)) != TL_OK)
        return rc;
    return tl_mfile_add(w, SEC_USERSEG, TL_MT_I32, s->user_seg, (uint64_t)s->n_users);
}

static tl_err load(tl_model *m, const tl_mfile *f, tl_diag *diag)
{
    uint64_t ng = 0, ns = 0, nn = 0, nu = 0;
    const float *g = tl_mfile_get(f, SEC_GLOBAL, TL_MT_F32, &ng);
    const float *sg = tl_mfile_get(f, SEC_SEG, TL_MT_F32, &ns);
    const char *names = tl_mfile_get(f, SEC_NAMES, TL_MT_BYTES, &nn);
    const int32_t *us = tl_mfile_get(f, SEC_USERSEG, TL_MT_I32, &nu);
    const char *bad = SEC_GLOBAL;
    int32_t n_seg = 0;
    if (!g || ng != (uint64_t)m->n_items)
        goto corrupt;
    if (sg) {
        bad = SEC_NAMES;
        if (!names || !us || !nn || names[nn - 1] != '\0')
            goto corrupt;
        for (uint64_t i = 0; i < nn; i++)
            n_seg += names[i] == '\0';
        bad = SEC_SEG;
        if (ns != (uint64_t)n_seg * (uint64_t)m->n_items)
            goto corrupt;
        bad = SEC_USERSEG;
        for (uint64_t u = 0; u < nu; u++)
            if (us[u] < -1 || us[u] >= n_seg)
                goto corrupt;
    }
    pop_state *s = calloc(1, sizeof(*s));
    if (!s)
        return TL_ENOMEM;
    s->n_items = m->n_items;
    s->global = (float *)g;
    if (sg) {
        s->seg = (float *)sg;
        s->n_seg = n_seg;
        s->names = (char *)names;
        s->names_len = nn;
        s->user_seg = (int32_t *)us;
        s->n_users = (int32_t)nu;
    }
    s->owned = 0;
    release(m);
    m->state = s;
    return TL_OK;
corrupt:
    tl_diag_set(diag, NULL, 0, bad, "missing or inconsistent popularity section");
    return TL_ECORRUPT;
}

const tl_model_ops tl_popular_ops = {
    .name = "popular",
    .summary = "most popular items, optionally time-decayed and per user segment",
    TL_MODEL_PARAMS(params, pop_cfg),
    .own_decay = 1,
    .fit = fit,
    .score = score,
    .save = save,
    .load = load,
    .release = release,
};
