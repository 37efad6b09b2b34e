/* hybrid: a weighted blend of other models. Each member's scores for a user are normalized over
 * the candidates (z-score or min-max; the user's history left out), then summed with blend
 * weights that are learned on a validation split carved from the training data (PROTOCOL.md,
 * Tuning): the members are fit on the validation-train part, every validation user's top
 * candidates are scored by all members, and a grid plus coordinate search over the weight
 * simplex maximizes nDCG@10 (members that add too little are pruned). The members used for serving
 * are fit on all the data (each may autotune its own defaults first); the validation fits reuse the
 * parameters they chose. Members whose weight ends at 0 are dropped. The model file nests each
 * member's sections under "m<k>.".
 *
 * Validation split (val_mode): the default, both, carves a random and, when the data has
 * timestamps, a temporal split, and maximizes the smaller of the two nDCG@10, each relative to
 * the best single member on its split. A random split alone gives order-aware members (sequence)
 * almost no weight, which costs on "what next" (temporal) tasks; a temporal split alone gives them
 * so much that a random holdout suffers (ml-100k: 0.3155 -> 0.2513). Weights that must serve both
 * are learned on both. Without timestamps, both is random. */
#include "core/models/models.h"

#include <assert.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/metrics.h"
#include "core/holdout.h"
#include "core/models/content.h"
#include "core/models/hybrid.h"
#include "core/topk.h"
#include "util/clock.h"

typedef struct hybrid_cfg {
    const char *models, *set, *weights, *norm, *val_mode;
    double prune;
    int val_users, val_depth;
    int64_t seed;
} hybrid_cfg;

static const tl_param_def params[] = {
    TL_PARAM(hybrid_cfg, models, "ease,ials,itemknn,rp3beta,sequence,content", 0, 0,
             "members, comma-separated (by default sequence is left out without timestamps and "
             "content without item metadata)"),
    TL_PARAM(hybrid_cfg, set, "", 0, 0,
             "member parameters, e.g. 'ials.factors=128;ease.lambda=200' (others keep their "
             "defaults)"),
    TL_PARAM(hybrid_cfg, weights, "", 0, 0,
             "fixed blend weights, comma-separated in member order (empty: learn them on "
             "validation)"),
    TL_PARAM(hybrid_cfg, norm, "zscore", 0, 0,
             "per-user score normalization of each member over the candidates: zscore or minmax"),
    TL_PARAM(hybrid_cfg, val_mode, "both", 0, 0,
             "validation split(s) for the weights: random, temporal, both (the worse of the two, "
             "relative to the best member on each) or auto (temporal when the data has "
             "timestamps)"),
    TL_PARAM(hybrid_cfg, prune, "0.005", 0, 1,
             "leave out a member whose removal costs less than this fraction of validation "
             "nDCG@10"),
    TL_PARAM(hybrid_cfg, val_users, "3000", 10, 1e9,
             "validation users scored (a deterministic subset)"),
    TL_PARAM(hybrid_cfg, val_depth, "100", 10, 1000,
             "top candidates per member kept per validation user"),
    TL_PARAM(hybrid_cfg, seed, "42", 0, 1e15, "seed of the random validation split"),
};

#define MAX_MEMBERS 8
/* Floats of member score rows held at once while scoring validation users. */
#define VAL_BLOCK_FLOATS (48u << 20)

typedef enum { NORM_ZSCORE, NORM_MINMAX } norm_kind;

typedef struct state {
    int n;
    tl_model *mem[MAX_MEMBERS];
    float wt[MAX_MEMBERS];
    norm_kind norm;
    size_t scratch; /* the largest member scratch, in floats */
    /* Kept for saving (the writer references them until the file is written). */
    char names[MAX_MEMBERS * 32];
    uint64_t names_len;
    char *ptext[MAX_MEMBERS];
} state;

static void release(tl_model *m)
{
    state *st = m->state;
    if (!st)
        return;
    for (int k = 0; k < st->n; k++) {
        tl_model_free(st->mem[k]);
        free(st->ptext[k]);
    }
    free(st);
    m->state = NULL;
}

/* ---- normalization, shared by validation and serving ---- */

/* Normalizes s[0..n) in place over its finite entries, after setting the history items to
 * -INFINITY (they are never candidates). A constant row becomes 0. */
static void normalize(float *s, int32_t n, const int32_t *hist, int64_t nh, norm_kind kind)
{
    for (int64_t h = 0; h < nh; h++)
        if (hist[h] >= 0 && hist[h] < n)
            s[hist[h]] = -INFINITY;
    double sum = 0, sq = 0, lo = INFINITY, hi = -INFINITY;
    int64_t c = 0;
    for (int32_t i = 0; i < n; i++) {
        if (!isfinite(s[i]))
            continue;
        double v = s[i];
        sum += v;
        sq += v * v;
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
        c++;
    }
    if (!c)
        return;
    double shift, scale;
    if (kind == NORM_ZSCORE) {
        double mean = sum / (double)c, var = sq / (double)c - mean * mean;
        shift = mean;
        scale = var > 1e-24 ? 1.0 / sqrt(var) : 0.0;
    } else {
        shift = lo;
        scale = hi > lo ? 1.0 / (hi - lo) : 0.0;
    }
    for (int32_t i = 0; i < n; i++)
        if (isfinite(s[i]))
            s[i] = (float)((s[i] - shift) * scale);
}

/* Raw scores of member mm for rows[0..nr) of ui into out (nr x n_items). */
static tl_err member_rows(const tl_model *mm, const tl_csr *ui, int users_match,
                          const int32_t *rows, int32_t nr, float *out)
{
    size_t n_items = (size_t)mm->n_items;
    if (mm->ops->score_block) {
        mm->ops->score_block(mm, ui, users_match, rows, nr, out);
        return TL_OK;
    }
    size_t ns = mm->ops->scratch_floats ? mm->ops->scratch_floats(mm) : 0;
    tl_err rc = TL_OK;
#pragma omp parallel
    {
        float *scratch = ns ? malloc(ns * sizeof(float)) : NULL;
        if (ns && !scratch) {
#pragma omp atomic write
            rc = TL_ENOMEM;
        }
#pragma omp for schedule(dynamic, 4)
        for (int32_t r = 0; r < nr; r++) {
            if (ns && !scratch)
                continue;
            int32_t u = rows[r];
            int64_t lo = ui->indptr[u], nh = ui->indptr[u + 1] - lo;
            if (mm->ops->score(mm, users_match ? u : -1, ui->indices + lo, ui->data + lo,
                               (int32_t)nh, out + (size_t)r * n_items, scratch) != TL_OK) {
#pragma omp atomic write
                rc = TL_ENUMERIC;
            }
        }
        free(scratch);
    }
    return rc;
}

/* ---- serving ---- */

static size_t scratch_floats(const tl_model *m)
{
    const state *st = m->state;
    return (size_t)m->n_items + st->scratch;
}

static tl_err score(const tl_model *m, int32_t uidx, const int32_t *items, const float *w,
                    int32_t n, float *scores, float *scratch)
{
    const state *st = m->state;
    float *tmp = scratch, *ms = scratch + m->n_items;
    memset(scores, 0, (size_t)m->n_items * sizeof(float));
    for (int k = 0; k < st->n; k++) {
        const tl_model *mm = st->mem[k];
        tl_err rc = mm->ops->score(mm, uidx, items, w, n, tmp, ms);
        if (rc != TL_OK)
            return rc;
        normalize(tmp, m->n_items, items, n, st->norm);
        for (int32_t i = 0; i < m->n_items; i++)
            scores[i] += st->wt[k] * tmp[i];
    }
    return TL_OK;
}

static void score_block(const tl_model *m, const tl_csr *ui, int users_match, const int32_t *rows,
                        int32_t n_rows, float *out)
{
    const state *st = m->state;
    size_t n_items = (size_t)m->n_items;
    float *tmp = malloc((size_t)n_rows * n_items * sizeof(float));
    memset(out, 0, (size_t)n_rows * n_items * sizeof(float));
    if (!tmp) {
        /* score_block cannot fail: fall back to one user at a time. */
        float *one = malloc(scratch_floats(m) * sizeof(float));
        for (int32_t r = 0; one && r < n_rows; r++) {
            int64_t lo = ui->indptr[rows[r]], nh = ui->indptr[rows[r] + 1] - lo;
            score(m, users_match ? rows[r] : -1, ui->indices + lo, ui->data + lo, (int32_t)nh,
                  out + (size_t)r * n_items, one);
        }
        free(one);
        return;
    }
    for (int k = 0; k < st->n; k++) {
        if (member_rows(st->mem[k], ui, users_match, rows, n_rows, tmp) != TL_OK)
            continue; /* out of memory for one member's scratch: that member sits out */
        float wk = st->wt[k];
#pragma omp parallel for schedule(static)
        for (int32_t r = 0; r < n_rows; r++) {
            int64_t lo = ui->indptr[rows[r]], nh = ui->indptr[rows[r] + 1] - lo;
            float *t = tmp + (size_t)r * n_items, *o = out + (size_t)r * n_items;
            normalize(t, m->n_items, ui->indices + lo, nh, st->norm);
            for (size_t i = 0; i < n_items; i++)
                o[i] += wk * t[i];
        }
    }
    free(tmp);
}

const tl_model *tl_hybrid_explainer(const tl_model *m, int32_t uidx, const int32_t *items,
                                    const float *w, int32_t n, int32_t item)
{
    const state *st = m->state;
    if (m->ops != &tl_hybrid_ops || !st || item < 0 || item >= m->n_items)
        return NULL;
    float *buf = malloc(scratch_floats(m) * sizeof(float));
    int best = -1;
    float best_v = -INFINITY;
    for (int k = 0; buf && k < st->n; k++) {
        const tl_model *mm = st->mem[k];
        if (!mm->ops->explain)
            continue;
        if (mm->ops->score(mm, uidx, items, w, n, buf, buf + m->n_items) != TL_OK)
            continue; /* no scores from this member: it explains nothing */
        normalize(buf, m->n_items, items, n, st->norm);
        float v = st->wt[k] * buf[item];
        if (v > best_v) {
            best_v = v;
            best = k;
        }
    }
    free(buf);
    return best < 0 ? NULL : st->mem[best];
}

static int explain(const tl_model *m, int32_t uidx, const int32_t *items, const float *w, int32_t n,
                   int32_t item, int32_t *why, float *contrib, int max)
{
    /* The evidence of the member that adds the most to this item's blended score. */
    const tl_model *mm = max > 0 ? tl_hybrid_explainer(m, uidx, items, w, n, item) : NULL;
    return mm ? mm->ops->explain(mm, uidx, items, w, n, item, why, contrib, max) : 0;
}

/* ---- members ---- */

/* Splits the comma-separated member list; TL_EINVAL (diag) for an unknown, repeated or nested
 * model or too many. */
static tl_err parse_members(const char *list, char names[][32], int *n, tl_diag *diag)
{
    *n = 0;
    while (*list) {
        const char *comma = strchr(list, ',');
        size_t len = comma ? (size_t)(comma - list) : strlen(list);
        while (len && *list == ' ')
            list++, len--;
        while (len && list[len - 1] == ' ')
            len--;
        if (len) {
            if (*n == MAX_MEMBERS || len >= 32) {
                tl_diag_set(diag, NULL, 0, "models", "at most %d members of known models",
                            MAX_MEMBERS);
                return TL_EINVAL;
            }
            memcpy(names[*n], list, len);
            names[*n][len] = '\0';
            if (!tl_model_find_ops(names[*n]) || strcmp(names[*n], "hybrid") == 0) {
                tl_diag_set(diag, NULL, 0, "models", "'%s' is not a model a hybrid can blend",
                            names[*n]);
                return TL_EINVAL;
            }
            for (int k = 0; k < *n; k++)
                if (strcmp(names[k], names[*n]) == 0) {
                    tl_diag_set(diag, NULL, 0, "models", "'%s' is listed twice", names[k]);
                    return TL_EINVAL;
                }
            (*n)++;
        }
        if (!comma)
            break;
        list = comma + 1;
    }
    if (!*n) {
        tl_diag_set(diag, NULL, 0, "models", "no member model");
        return TL_EINVAL;
    }
    return TL_OK;
}

/* Applies the "name.key=value;..." entries of set that address member mm. */
static tl_err apply_overrides(tl_model *mm, const char *set, tl_diag *diag)
{
    size_t nl = strlen(mm->ops->name);
    char kv[256];
    while (*set) {
        const char *semi = strchr(set, ';');
        size_t len = semi ? (size_t)(semi - set) : strlen(set);
        while (len && *set == ' ')
            set++, len--;
        if (len) {
            const char *dot = memchr(set, '.', len);
            if (!dot || len >= sizeof(kv)) {
                tl_diag_set(diag, NULL, 0, "set", "expected member.key=value, found '%.*s'",
                            (int)len, set);
                return TL_EINVAL;
            }
            if ((size_t)(dot - set) == nl && memcmp(set, mm->ops->name, nl) == 0) {
                memcpy(kv, dot + 1, len - nl - 1);
                kv[len - nl - 1] = '\0';
                tl_err rc = tl_model_set(mm, kv, diag);
                if (rc != TL_OK)
                    return rc;
            }
        }
        if (!semi)
            break;
        set = semi + 1;
    }
    return TL_OK;
}

/* Checks that every "name.key" of set names a member. */
static tl_err check_overrides(const char *set, char names[][32], int n, tl_diag *diag)
{
    while (*set) {
        const char *semi = strchr(set, ';');
        size_t len = semi ? (size_t)(semi - set) : strlen(set);
        while (len && *set == ' ')
            set++, len--;
        const char *dot = len ? memchr(set, '.', len) : NULL;
        int found = !len;
        for (int k = 0; dot && k < n; k++)
            found |= strlen(names[k]) == (size_t)(dot - set) &&
                     memcmp(names[k], set, (size_t)(dot - set)) == 0;
        if (!found) {
            tl_diag_set(diag, NULL, 0, "set", "'%.*s' does not address a member of models",
                        (int)len, set);
            return TL_EINVAL;
        }
        if (!semi)
            break;
        set = semi + 1;
    }
    return TL_OK;
}

static tl_err parse_weights(const char *s, char names[][32], int n, float *wt, tl_diag *diag)
{
    double sum = 0;
    for (int k = 0; k < n; k++) {
        char *end;
        double v = strtod(s, &end);
        if (end == s || !isfinite(v) || v < 0 || (k + 1 < n && *end != ',') ||
            (k + 1 == n && *end)) {
            char list[MAX_MEMBERS * 33] = "";
            for (int q = 0; q < n; q++)
                strcat(strcat(list, q ? "," : ""), names[q]);
            tl_diag_set(diag, NULL, 0, "weights",
                        "expected %d non-negative numbers separated by commas, one per member "
                        "(%s)",
                        n, list);
            return TL_EINVAL;
        }
        wt[k] = (float)v;
        sum += v;
        s = end + (*end == ',');
    }
    if (!(sum > 0)) {
        tl_diag_set(diag, NULL, 0, "weights", "the weights sum to 0");
        return TL_EINVAL;
    }
    for (int k = 0; k < n; k++)
        wt[k] = (float)(wt[k] / sum);
    return TL_OK;
}

/* ---- learning the weights ---- */

/* Every validation user's candidates: the union of each member's top val_depth, with all
 * members' normalized scores (row-major, n per candidate). */
typedef struct val_set {
    int n; /* members */
    int32_t users;
    int64_t *off;  /* users + 1: candidate ranges */
    int32_t *cand; /* candidate items */
    float *val;    /* candidates x n */
    const int32_t **truth;
    int64_t *n_truth;
} val_set;

static void val_release(val_set *v)
{
    free(v->off);
    free(v->cand);
    free(v->val);
    free(v->truth);
    free(v->n_truth);
    memset(v, 0, sizeof(*v));
}

/* Scores the validation users rows[0..nr) with the members fit on view and keeps their
 * candidates in v. */
static tl_err collect_candidates(tl_model *const *mem, int n, const tl_data *view,
                                 const tl_csr *test, const int32_t *rows, int32_t nr, int depth,
                                 norm_kind norm, val_set *v)
{
    int32_t n_items = view->ui.ncols;
    int64_t cap = (int64_t)nr * n * depth;
    size_t block = VAL_BLOCK_FLOATS / ((size_t)n * (size_t)n_items + 1);
    block = block < 8 ? 8 : block > 512 ? 512 : block;
    tl_err rc = TL_ENOMEM;
    float *sc = malloc(block * (size_t)n * (size_t)n_items * sizeof(float));
    v->n = n;
    v->users = nr;
    v->off = calloc((size_t)nr + 1, sizeof(*v->off));
    v->cand = malloc((size_t)(cap ? cap : 1) * sizeof(*v->cand));
    v->val = malloc((size_t)(cap ? cap : 1) * (size_t)n * sizeof(*v->val));
    v->truth = malloc((size_t)(nr ? nr : 1) * sizeof(*v->truth));
    v->n_truth = malloc((size_t)(nr ? nr : 1) * sizeof(*v->n_truth));
    int32_t *cnt = calloc((size_t)nr + 1, sizeof(*cnt));
    if (!sc || !v->off || !v->cand || !v->val || !v->truth || !v->n_truth || !cnt)
        goto out;
    for (int32_t r = 0; r < nr; r++) {
        v->truth[r] = test->indices + test->indptr[rows[r]];
        v->n_truth[r] = test->indptr[rows[r] + 1] - test->indptr[rows[r]];
    }
    for (int32_t b0 = 0; b0 < nr; b0 += (int32_t)block) {
        int32_t nb = nr - b0 < (int32_t)block ? nr - b0 : (int32_t)block;
        for (int k = 0; k < n; k++) {
            float *sk = sc + (size_t)k * block * (size_t)n_items;
            if ((rc = member_rows(mem[k], &view->ui, 1, rows + b0, nb, sk)) != TL_OK)
                goto out;
#pragma omp parallel for schedule(static)
            for (int32_t r = 0; r < nb; r++) {
                int32_t u = rows[b0 + r];
                float *s = sk + (size_t)r * (size_t)n_items;
                normalize(s, n_items, view->ui.indices + view->ui.indptr[u],
                          view->ui.indptr[u + 1] - view->ui.indptr[u], norm);
                /* Candidates come from items of the validation-train part, as the protocol
                 * draws them from train. */
                for (int32_t i = 0; i < n_items; i++)
                    if (view->iu.indptr[i + 1] == view->iu.indptr[i])
                        s[i] = -INFINITY;
            }
        }
        rc = TL_OK;
#pragma omp parallel
        {
            int32_t *top = malloc((size_t)depth * sizeof(*top));
            float *topv = malloc((size_t)depth * sizeof(*topv));
            if (!top || !topv) {
#pragma omp atomic write
                rc = TL_ENOMEM;
            }
#pragma omp for schedule(dynamic, 4)
            for (int32_t r = 0; r < nb; r++) {
                if (!top || !topv)
                    continue;
                int64_t base = (int64_t)(b0 + r) * n * depth;
                int32_t c = 0;
                for (int k = 0; k < n; k++) {
                    const float *s = sc + ((size_t)k * block + (size_t)r) * (size_t)n_items;
                    int got = tl_topk(s, n_items, depth, top, topv);
                    for (int g = 0; g < got; g++) {
                        int dup = 0;
                        for (int32_t q = 0; q < c && !dup; q++)
                            dup = v->cand[base + q] == top[g];
                        if (!dup)
                            v->cand[base + c++] = top[g];
                    }
                }
                for (int32_t q = 0; q < c; q++)
                    for (int k = 0; k < n; k++)
                        v->val[(base + q) * n + k] =
                            sc[((size_t)k * block + (size_t)r) * (size_t)n_items +
                               (size_t)v->cand[base + q]];
                cnt[b0 + r] = c;
            }
            free(top);
            free(topv);
        }
        if (rc != TL_OK)
            goto out;
    }
    /* Compact: each user's candidates start at off[r]. */
    for (int32_t r = 0; r < nr; r++) {
        int64_t base = (int64_t)r * n * depth;
        v->off[r + 1] = v->off[r] + cnt[r];
        memmove(v->cand + v->off[r], v->cand + base, (size_t)cnt[r] * sizeof(*v->cand));
        memmove(v->val + v->off[r] * n, v->val + base * n,
                (size_t)cnt[r] * (size_t)n * sizeof(*v->val));
    }
    rc = TL_OK;
out:
    free(sc);
    free(cnt);
    return rc;
}

/* Mean nDCG@10 of the blend wt over the validation users. */
static double val_ndcg(const val_set *v, const double *wt)
{
    double sum = 0;
#pragma omp parallel for schedule(dynamic, 16) reduction(+ : sum)
    for (int32_t r = 0; r < v->users; r++) {
        int32_t top[10];
        float topv[10];
        int have = 0;
        for (int64_t q = v->off[r]; q < v->off[r + 1]; q++) {
            double s = 0;
            for (int k = 0; k < v->n; k++)
                if (wt[k] > 0)
                    s += wt[k] * v->val[q * v->n + k];
            float f = (float)s;
            int32_t item = v->cand[q];
            if (!(f > -INFINITY))
                continue;
            if (have == 10 && (f < topv[9] || (f == topv[9] && item > top[9])))
                continue;
            int p = have < 10 ? have++ : 9;
            while (p > 0 && (topv[p - 1] < f || (topv[p - 1] == f && top[p - 1] > item))) {
                topv[p] = topv[p - 1];
                top[p] = top[p - 1];
                p--;
            }
            topv[p] = f;
            top[p] = item;
        }
        sum += tl_ndcg10_sorted(top, have, v->truth[r], v->n_truth[r]);
    }
    return v->users ? sum / v->users : 0;
}

/* What the weight search maximizes: over one or two validation splits, the smallest nDCG@10
 * relative to the best single member on that split. The minimum, not the mean: blends gain far
 * more on a temporal split (order-aware members) than on a random one, and a mean lets those
 * gains buy losses on the random split (ml-latest-small: 0.2636 with the minimum, 0.2455 with
 * the mean). With one split, base is 1: plain nDCG@10. */
typedef struct objective {
    const val_set *v;
    int nv;
    double base[2];
} objective;

static double objective_eval(const objective *o, const double *wt)
{
    double s = INFINITY;
    for (int q = 0; q < o->nv; q++) {
        double r = val_ndcg(&o->v[q], wt) / o->base[q];
        s = r < s ? r : s;
    }
    return s;
}

/* Grid points of the simplex over the active members: weights c / grid with the c summing to
 * grid; visits each and keeps the best in best/best_s. Inactive members stay at 0. */
static void grid_search(const objective *o, int n, const int *active, int grid, int k, int left,
                        double *trial, double *best, double *best_s)
{
    while (k < n && !active[k])
        trial[k++] = 0;
    int last = 1;
    for (int q = k + 1; q < n; q++)
        last &= !active[q];
    if (k == n || last) {
        if (k < n)
            trial[k] = (double)left / grid;
        for (int q = k + 1; q < n; q++)
            trial[q] = 0;
        if (k == n && left)
            return;
        double s = objective_eval(o, trial);
        if (s > *best_s + 1e-9) {
            *best_s = s;
            memcpy(best, trial, (size_t)n * sizeof(*best));
        }
        return;
    }
    for (int c = left; c >= 0; c--) {
        trial[k] = (double)c / grid;
        grid_search(o, n, active, grid, k + 1, left - c, trial, best, best_s);
    }
}

/* The weights of the active members: from start (renormalized) when given, else the best point
 * of a simplex grid (step 0.1 for up to 4 members, coarser beyond, so that about 300 points at
 * most are scored); then a coordinate
 * search that moves single weights by shrinking steps while the objective improves. Ties keep
 * the earlier point, which favors the first members listed. */
static double search_active(const objective *o, int n, const int *active, const double *start,
                            double *wt)
{
    static const int grids[MAX_MEMBERS + 1] = {1, 1, 10, 10, 10, 6, 5, 4, 4};
    double best[MAX_MEMBERS] = {0}, trial[MAX_MEMBERS] = {0};
    double best_s = -INFINITY, total = 0;
    int na = 0;
    for (int k = 0; k < n; k++) {
        na += active[k];
        total += start && active[k] ? start[k] : 0;
    }
    if (start && total > 0) {
        for (int k = 0; k < n; k++)
            best[k] = active[k] ? start[k] / total : 0;
        best_s = objective_eval(o, best);
    } else {
        grid_search(o, n, active, grids[na], 0, grids[na], trial, best, &best_s);
    }
    static const double steps[] = {0.1, 0.05, 0.025};
    for (size_t st = 0; st < sizeof(steps) / sizeof(steps[0]) && na > 1; st++) {
        for (int pass = 0, improved = 1; improved && pass < 20; pass++) {
            improved = 0;
            for (int k = 0; k < n; k++) {
                for (int sign = -1; sign <= 1 && active[k]; sign += 2) {
                    memcpy(trial, best, sizeof(trial));
                    trial[k] += sign * steps[st];
                    if (trial[k] < 0)
                        trial[k] = 0;
                    double sum = 0;
                    for (int q = 0; q < n; q++)
                        sum += trial[q];
                    if (!(sum > 0))
                        continue;
                    for (int q = 0; q < n; q++)
                        trial[q] /= sum;
                    double s = objective_eval(o, trial);
                    if (s > best_s + 1e-9) {
                        best_s = s;
                        memcpy(best, trial, sizeof(best));
                        improved = 1;
                    }
                }
            }
        }
    }
    for (int k = 0; k < n && k < MAX_MEMBERS; k++)
        wt[k] = best[k];
    return best_s;
}

/* Searches the weights of all members, then prunes: while leaving out one member (and
 * searching the others again) costs less than a fraction prune of the objective, the cheapest
 * such member goes. Validation sets are small and blends overfit them; a member that buys
 * less than that is more likely noise than signal. */
static double search_weights(const objective *o, int n, double prune, double *wt)
{
    int active[MAX_MEMBERS];
    double w[MAX_MEMBERS] = {0}, trial[MAX_MEMBERS] = {0};
    for (int k = 0; k < n; k++)
        active[k] = 1;
    double best_s = search_active(o, n, active, NULL, w);
    for (int left = n; left > 1 && prune > 0;) {
        int drop = -1;
        double drop_s = -INFINITY, drop_w[MAX_MEMBERS] = {0};
        for (int k = 0; k < n; k++) {
            if (!active[k])
                continue;
            active[k] = 0;
            double s = search_active(o, n, active, w, trial);
            active[k] = 1;
            if (s > drop_s) {
                drop_s = s;
                drop = k;
                memcpy(drop_w, trial, sizeof(drop_w));
            }
        }
        if (drop < 0 || drop_s < best_s * (1.0 - prune))
            break;
        active[drop] = 0;
        left--;
        memcpy(w, drop_w, sizeof(w));
        if (drop_s > best_s)
            best_s = drop_s;
    }
    for (int k = 0; k < n && k < MAX_MEMBERS; k++)
        wt[k] = w[k];
    return best_s;
}

/* One validation split of d: fits copies of the members (their chosen parameters, no
 * autotune) on its train part and keeps the candidates of up to val_users held-out users in v.
 * test is the held-out part (v points into it). *nr: the users kept. */
static tl_err prepare_split(const tl_model *m, tl_model *const *full, int n, const tl_data *d,
                            tl_split_mode mode, tl_csr *test, val_set *v, int32_t *nr,
                            tl_diag *diag)
{
    const hybrid_cfg *cfg = m->cfg;
    tl_data view = *d; /* shares ids and catalogue; only the matrices are its own */
    tl_model *vm[MAX_MEMBERS] = {0};
    int32_t *rows = NULL;
    /* The members' parameters are chosen: validation fits only forward cancellation. */
    tl_fit_hooks inner = {.cancelled = m->hooks ? m->hooks->cancelled : NULL,
                          .ctx = m->hooks ? m->hooks->ctx : NULL};
    memset(&view.ui, 0, sizeof(view.ui));
    memset(&view.iu, 0, sizeof(view.iu));
    *nr = 0;
    tl_err rc = tl_holdout_split(d, mode, (uint64_t)cfg->seed, 0, &view.ui, test);
    if (rc != TL_OK || (rc = tl_csr_transpose_no_ts(&view.ui, &view.iu)) != TL_OK)
        goto out;

    int32_t max_users = cfg->val_users, eligible = 0;
    for (int32_t u = 0; u < d->ui.nrows; u++)
        eligible +=
            test->indptr[u + 1] > test->indptr[u] && view.ui.indptr[u + 1] > view.ui.indptr[u];
    int32_t stride = eligible > max_users ? (eligible + max_users - 1) / max_users : 1;
    rc = TL_ENOMEM;
    if (!(rows = malloc(((size_t)eligible + 1) * sizeof(*rows))))
        goto out;
    for (int32_t u = 0, seen = 0; u < d->ui.nrows; u++)
        if (test->indptr[u + 1] > test->indptr[u] && view.ui.indptr[u + 1] > view.ui.indptr[u])
            if (seen++ % stride == 0)
                rows[(*nr)++] = u;
    rc = TL_OK;
    if (*nr < 10)
        goto out; /* too little to learn from: the caller falls back to equal weights */
    for (int k = 0; k < n; k++) {
        if ((rc = tl_model_new(full[k]->ops->name, &vm[k])) != TL_OK ||
            (rc = tl_model_copy_settings(vm[k], full[k], diag)) != TL_OK)
            goto out;
        vm[k]->autotune = 0;
        if ((rc = tl_model_fit(vm[k], &view, &inner, diag)) != TL_OK)
            goto out;
    }
    norm_kind norm = strcmp(cfg->norm, "minmax") == 0 ? NORM_MINMAX : NORM_ZSCORE;
    rc = collect_candidates(vm, n, &view, test, rows, *nr, cfg->val_depth, norm, v);
out:
    for (int k = 0; k < n; k++)
        tl_model_free(vm[k]);
    tl_csr_release(&view.ui);
    tl_csr_release(&view.iu);
    free(rows);
    return rc;
}

/* Learns the blend weights of the members full[0..n) (fit on all of d) on validation
 * split(s) carved from d, per val_mode; describes the result in m->tuned. */
static tl_err learn_weights(tl_model *m, tl_model *const *full, int n, const tl_data *d, float *wt,
                            tl_diag *diag)
{
    assert(n >= 1 && n <= MAX_MEMBERS); /* parse_members guarantees it */
    const char *vmode = ((const hybrid_cfg *)m->cfg)->val_mode;
    int ts = tl_csr_has_timestamps(&d->ui), nv = 0;
    tl_split_mode modes[2];
    if (strcmp(vmode, "auto") == 0) {
        modes[nv++] = ts ? TL_SPLIT_TEMPORAL : TL_SPLIT_RANDOM;
    } else if (strcmp(vmode, "both") == 0) {
        modes[nv++] = TL_SPLIT_RANDOM;
        if (ts)
            modes[nv++] = TL_SPLIT_TEMPORAL;
    } else if (tl_holdout_mode_parse(vmode, &modes[0]) != TL_OK) {
        tl_diag_set(diag, NULL, 0, "val_mode", "'%s' is not random, temporal, both or auto", vmode);
        return TL_EINVAL;
    } else if (modes[0] == TL_SPLIT_TEMPORAL && !ts) {
        tl_diag_set(diag, NULL, 0, "val_mode", "a temporal validation split needs timestamps");
        return TL_EINVAL;
    } else {
        nv = 1;
    }
    tl_csr test[2] = {{0}, {0}};
    val_set v[2] = {{0}, {0}};
    int32_t nr[2] = {0, 0};
    tl_err rc = TL_OK;
    for (int q = 0; q < nv && rc == TL_OK; q++)
        rc = prepare_split(m, full, n, d, modes[q], &test[q], &v[q], &nr[q], diag);
    if (rc != TL_OK)
        goto out;
    if (nr[0] < 10 || (nv == 2 && nr[1] < 10)) {
        for (int k = 0; k < n; k++)
            wt[k] = 1.0f / (float)n;
        snprintf(m->tuned, sizeof(m->tuned), "equal weights (only %d validation users)",
                 nr[0] < 10 ? nr[0] : nr[1]);
        goto out;
    }
    objective o = {.v = v, .nv = nv, .base = {1.0, 1.0}};
    if (nv > 1) {
        double one[MAX_MEMBERS];
        for (int q = 0; q < nv; q++) {
            o.base[q] = 0;
            for (int j = 0; j < n; j++) {
                for (int k = 0; k < n; k++)
                    one[k] = k == j;
                double s = val_ndcg(&v[q], one);
                o.base[q] = s > o.base[q] ? s : o.base[q];
            }
            if (!(o.base[q] > 0))
                o.base[q] = 1.0;
        }
    }
    double w[MAX_MEMBERS] = {0};
    double got = search_weights(&o, n, ((const hybrid_cfg *)m->cfg)->prune, w);
    /* Every member alone is a candidate: pruning may give up a little, never below the best
     * single member. */
    for (int j = 0; j < n; j++) {
        double one[MAX_MEMBERS] = {0};
        one[j] = 1;
        double s1 = objective_eval(&o, one);
        if (s1 > got + 1e-12) {
            got = s1;
            memcpy(w, one, sizeof(w));
        }
    }
    size_t off = 0;
    for (int k = 0; k < n; k++) {
        wt[k] = (float)w[k];
        off += (size_t)snprintf(m->tuned + off, sizeof(m->tuned) - off, "%s=%.3f ",
                                full[k]->ops->name, w[k]);
        if (off >= sizeof(m->tuned))
            off = sizeof(m->tuned) - 1;
    }
    for (int q = 0; q < nv && off < sizeof(m->tuned) - 1; q++) {
        off += (size_t)snprintf(m->tuned + off, sizeof(m->tuned) - off,
                                "%s%s validation nDCG@10 %.4f (%d users)%s", q ? ", " : "(",
                                tl_holdout_mode_name(modes[q]), val_ndcg(&v[q], w), nr[q],
                                q + 1 == nv ? ")" : "");
        if (off >= sizeof(m->tuned))
            off = sizeof(m->tuned) - 1;
    }
out:
    for (int q = 0; q < 2; q++) {
        val_release(&v[q]);
        tl_csr_release(&test[q]);
    }
    return rc;
}

/* ---- fit, save, load ---- */

/* Keeps the members of positive weight, frees the rest, and fills the saving fields. */
static tl_err finish_state(state *st, tl_model **mem, const float *wt, int n)
{
    st->n = 0;
    for (int k = 0; k < n; k++) {
        if (wt[k] > 0) {
            st->mem[st->n] = mem[k];
            st->wt[st->n] = wt[k];
            st->n++;
        } else {
            tl_model_free(mem[k]);
        }
        mem[k] = NULL;
    }
    st->names_len = 0;
    for (int k = 0; k < st->n; k++) {
        const tl_model *mm = st->mem[k];
        size_t l = strlen(mm->ops->name) + 1;
        memcpy(st->names + st->names_len, mm->ops->name, l);
        st->names_len += l;
        size_t ns = mm->ops->scratch_floats ? mm->ops->scratch_floats(mm) : 0;
        st->scratch = ns > st->scratch ? ns : st->scratch;
    }
    return TL_OK;
}

static tl_err fit(tl_model *m, const tl_data *d, tl_diag *diag)
{
    const hybrid_cfg *cfg = m->cfg;
    char names[MAX_MEMBERS][32];
    tl_model *mem[MAX_MEMBERS] = {0};
    float wt[MAX_MEMBERS];
    int n = 0;
    state *st = NULL;
    const char *norm = cfg->norm;
    double t0 = tl_now();
    tl_err rc = parse_members(cfg->models, names, &n, diag);
    if (rc != TL_OK || (rc = check_overrides(cfg->set, names, n, diag)) != TL_OK)
        goto out;
    /* The default list adapts to the data: members that cannot work on it sit out. A list the
     * caller chose is taken as it is (and a member that cannot work fails the fit). */
    char skipped[160] = "";
    if (!tl_params_is_set(&m->params, "models")) {
        int kept = 0;
        for (int k = 0; k < n; k++) {
            const char *why = NULL;
            if (strcmp(names[k], "sequence") == 0 && !tl_csr_has_timestamps(&d->ui))
                why = "no timestamps";
            else if (strcmp(names[k], "content") == 0 && !tl_content_applicable(d))
                why = "no item metadata";
            if (why) {
                size_t l = strlen(skipped);
                snprintf(skipped + l, sizeof(skipped) - l, "%s%.31s left out: %s", l ? "; " : "",
                         names[k], why);
            } else if (kept != k) {
                memcpy(names[kept++], names[k], sizeof(names[k]));
            } else {
                kept++;
            }
        }
        n = kept;
        if (!n) {
            rc = TL_EINVAL;
            tl_diag_set(diag, NULL, 0, "models", "no member can work on this data (%s)", skipped);
            goto out;
        }
    }
    rc = TL_EINVAL;
    if (strcmp(norm, "zscore") != 0 && strcmp(norm, "minmax") != 0) {
        tl_diag_set(diag, NULL, 0, "norm", "'%s' is not zscore or minmax", norm);
        goto out;
    }
    const char *fixed = cfg->weights;
    if (*fixed && (rc = parse_weights(fixed, names, n, wt, diag)) != TL_OK)
        goto out;
    for (int k = 0; k < n; k++) {
        if ((rc = tl_model_new(names[k], &mem[k])) != TL_OK ||
            (rc = apply_overrides(mem[k], cfg->set, diag)) != TL_OK)
            goto out;
        if (*fixed && !(wt[k] > 0))
            continue; /* a member of weight 0 is never fit */
        /* Fit on all the data first: the member may autotune its own defaults, and the
         * validation fits below then reuse what it chose. */
        char stage[64];
        snprintf(stage, sizeof(stage), "hybrid: member %s", names[k]);
        if (tl_model_progress(m, stage, 0.8 * k / n)) {
            rc = TL_ECANCELED;
            goto out;
        }
        if ((rc = tl_model_fit(mem[k], d, m->hooks, diag)) != TL_OK) {
            if (diag) {
                char msg[sizeof(diag->msg)];
                memcpy(msg, diag->msg, sizeof(msg));
                snprintf(diag->msg, sizeof(diag->msg), "member %.31s: %.270s", names[k], msg);
            }
            goto out;
        }
    }
    double t_members = tl_now() - t0, t_blend = tl_now();
    if (!*fixed) {
        if (tl_model_progress(m, "hybrid: learning the blend weights", 0.8)) {
            rc = TL_ECANCELED;
            goto out;
        }
        if (n == 1)
            wt[0] = 1.0f;
        else if ((rc = learn_weights(m, mem, n, d, wt, diag)) != TL_OK)
            goto out;
    }
    t_blend = tl_now() - t_blend;
    m->tune_seconds += t_blend;
    for (int k = 0; k < n; k++)
        m->tune_seconds += mem[k]->tune_seconds;
    {
        size_t l = strlen(m->tuned);
        l += (size_t)snprintf(m->tuned + l, sizeof(m->tuned) - l, "%scost: members %.1f s (",
                              l ? " " : "", t_members);
        for (int k = 0; k < n && l < sizeof(m->tuned); k++)
            l += (size_t)snprintf(m->tuned + l, sizeof(m->tuned) - l, "%s%s %.1f", k ? ", " : "",
                                  names[k], mem[k]->fit_seconds);
        if (l < sizeof(m->tuned))
            snprintf(m->tuned + l, sizeof(m->tuned) - l, "), blend validation %.1f s", t_blend);
    }
    if (skipped[0]) {
        size_t l = strlen(m->tuned);
        snprintf(m->tuned + l, sizeof(m->tuned) - l, "%s(%s)", l ? " " : "", skipped);
    }
    rc = TL_ENOMEM;
    if (!(st = calloc(1, sizeof(*st))))
        goto out;
    st->norm = strcmp(norm, "minmax") == 0 ? NORM_MINMAX : NORM_ZSCORE;
    finish_state(st, mem, wt, n);
    m->state = st;
    rc = TL_OK;
out:
    for (int k = 0; k < n; k++)
        tl_model_free(mem[k]);
    return rc;
}

static tl_err save(const tl_model *m, tl_mfile_writer *w)
{
    state *st = m->state;
    tl_err rc;
    if ((rc = tl_mfile_add(w, "hybrid.members", TL_MT_BYTES, st->names, st->names_len)) ||
        (rc = tl_mfile_add(w, "hybrid.weights", TL_MT_F32, st->wt, (uint64_t)st->n)))
        return rc;
    for (int k = 0; k < st->n && rc == TL_OK; k++) {
        char prefix[TL_MFILE_PREFIX_MAX];
        snprintf(prefix, sizeof(prefix), "m%d.", k);
        free(st->ptext[k]);
        st->ptext[k] = NULL;
        if ((rc = tl_params_to_text(&st->mem[k]->params, &st->ptext[k])) != TL_OK ||
            (rc = tl_mfile_writer_set_prefix(w, prefix)) != TL_OK ||
            (rc = tl_mfile_add(w, "tl.params", TL_MT_BYTES, st->ptext[k], strlen(st->ptext[k]))) !=
                TL_OK ||
            (rc = tl__model_save_settings(st->mem[k], w)) != TL_OK)
            break;
        if (st->mem[k]->ops->save)
            rc = st->mem[k]->ops->save(st->mem[k], w);
    }
    tl_err rc2 = tl_mfile_writer_set_prefix(w, NULL);
    return rc ? rc : rc2;
}

static tl_err load(tl_model *m, const tl_mfile *f, tl_diag *diag)
{
    uint64_t nn, nw;
    const char *names = tl_mfile_get(f, "hybrid.members", TL_MT_BYTES, &nn);
    const float *wt = tl_mfile_get(f, "hybrid.weights", TL_MT_F32, &nw);
    tl_mfile *view = NULL;
    char *text = NULL;
    tl_err rc = TL_ENOMEM;
    state *st = calloc(1, sizeof(*st));
    if (!st)
        return rc;
    m->state = st; /* release() frees what is loaded so far */
    rc = TL_ECORRUPT;
    if (!names || !wt || nw < 1 || nw > MAX_MEMBERS || nn > sizeof(st->names) || !nn ||
        names[nn - 1] != '\0') {
        tl_diag_set(diag, NULL, 0, NULL, "hybrid: missing or malformed member sections");
        goto out;
    }
    st->norm =
        strcmp(((const hybrid_cfg *)m->cfg)->norm, "minmax") == 0 ? NORM_MINMAX : NORM_ZSCORE;
    const char *name = names;
    for (int k = 0; k < (int)nw; k++) {
        char prefix[TL_MFILE_PREFIX_MAX];
        uint64_t plen;
        if (name >= names + nn || !(wt[k] >= 0)) {
            tl_diag_set(diag, NULL, 0, NULL, "hybrid: member list and weights disagree");
            goto out;
        }
        snprintf(prefix, sizeof(prefix), "m%d.", k);
        if ((rc = tl_mfile_view(f, prefix, &view)) != TL_OK)
            goto out;
        rc = TL_ECORRUPT;
        const char *ptext = tl_mfile_get(view, "tl.params", TL_MT_BYTES, &plen);
        tl_model *mm = NULL;
        if (!ptext || !tl_model_find_ops(name) || strcmp(name, "hybrid") == 0) {
            tl_diag_set(diag, NULL, 0, NULL, "hybrid: member %d ('%s') is malformed", k, name);
            goto out;
        }
        if ((rc = tl_model_new(name, &mm)) != TL_OK)
            goto out;
        st->mem[st->n] = mm;
        st->wt[st->n] = wt[k];
        st->n++;
        rc = TL_ENOMEM;
        if (!(text = malloc(plen + 1)))
            goto out;
        memcpy(text, ptext, plen);
        text[plen] = '\0';
        if (tl_params_from_text(&mm->params, text, diag) != TL_OK) {
            rc = TL_ECORRUPT;
            goto out;
        }
        free(text);
        text = NULL;
        mm->n_users = m->n_users;
        mm->n_items = m->n_items;
        if ((rc = tl__model_load_settings(mm, view, diag)) != TL_OK)
            goto out;
        if (!mm->ops->load) {
            rc = TL_EUNSUPPORTED;
            tl_diag_set(diag, NULL, 0, NULL, "hybrid: member '%s' cannot be loaded", name);
            goto out;
        }
        if ((rc = mm->ops->load(mm, view, diag)) != TL_OK)
            goto out;
        tl_mfile_close(view);
        view = NULL;
        size_t ns = mm->ops->scratch_floats ? mm->ops->scratch_floats(mm) : 0;
        st->scratch = ns > st->scratch ? ns : st->scratch;
        name += strlen(name) + 1;
    }
    memcpy(st->names, names, nn);
    st->names_len = nn;
    rc = TL_OK;
out:
    tl_mfile_close(view);
    free(text);
    if (rc != TL_OK)
        release(m);
    return rc;
}

const tl_model_ops tl_hybrid_ops = {
    .name = "hybrid",
    .summary = "blend of models with weights learned on a validation split of the training data",
    TL_MODEL_PARAMS(params, hybrid_cfg),
    .ignores_weights = 1, /* its members decay their own */
    .fit = fit,
    .scratch_floats = scratch_floats,
    .score = score,
    .score_block = score_block,
    .save = save,
    .load = load,
    .release = release,
    .explain = explain,
};
