/* MMR, calibration and the creator cap as one greedy re-selection (rerank.h). Per call: one
 * block of scratch sized by the pool and the history's subjects, nothing sized by the
 * catalogue, so a request's cost does not grow with the number of subjects a library has. */
#include "core/rerank.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct subj_w {
    int32_t id;
    float w;
} subj_w;

/* The calibration target: p over the history's subjects (ids ascending, p summing to 1). */
typedef struct target {
    int32_t n;
    int32_t *id;
    double *p;
} target;

int tl_rerank_on(const tl_rerank_spec *s)
{
    return s && (s->mmr < 1.0f || s->calibrate > 0.0f || s->max_per_creator > 0);
}

int tl_rerank_pool(int n)
{
    return n > 10 ? 5 * n : 50;
}

static int valid(const tl_facets *f, int32_t i)
{
    return i >= 0 && i < f->n_items;
}

static float weight_of(const float *w, int32_t k)
{
    return w ? w[k] : 1.0f;
}

/* Subject entries of the history's items that count (a positive weight). */
static int64_t history_subjects(const tl_facets *f, const int32_t *hist, const float *w, int32_t n)
{
    int64_t h = 0;
    for (int32_t k = 0; k < n; k++)
        if (valid(f, hist[k]) && weight_of(w, k) > 0)
            h += f->n_subj[hist[k]];
    return h;
}

static int by_id(const void *a, const void *b)
{
    int32_t x = ((const subj_w *)a)->id, y = ((const subj_w *)b)->id;
    return (x > y) - (x < y);
}

/* Steck's p(g|u): each history item spreads its weight evenly over its subjects. pairs holds
 * history_subjects() entries; t->id and t->p as many. */
static void build_target(const tl_facets *f, const int32_t *hist, const float *w, int32_t n,
                         subj_w *pairs, target *t)
{
    int64_t h = 0;
    double total = 0;
    for (int32_t k = 0; k < n; k++) {
        int32_t i = hist[k];
        float wk = valid(f, i) ? weight_of(w, k) : 0.0f;
        if (wk <= 0 || !f->n_subj[i])
            continue;
        total += wk;
        for (int32_t s = 0; s < f->n_subj[i]; s++)
            pairs[h++] = (subj_w){f->feat[f->ptr[i] + s], wk / (float)f->n_subj[i]};
    }
    t->n = 0;
    if (total <= 0)
        return;
    qsort(pairs, (size_t)h, sizeof(*pairs), by_id);
    for (int64_t k = 0; k < h; k++) {
        if (t->n && t->id[t->n - 1] == pairs[k].id) {
            t->p[t->n - 1] += pairs[k].w;
        } else {
            t->id[t->n] = pairs[k].id;
            t->p[t->n++] = pairs[k].w;
        }
    }
    for (int32_t g = 0; g < t->n; g++)
        t->p[g] /= total;
}

/* The slot of subject id in t, or -1 when the history does not have it. */
static int32_t slot_of(const target *t, int32_t id)
{
    int32_t lo = 0, hi = t->n;
    while (lo < hi) {
        int32_t mid = lo + (hi - lo) / 2;
        if (t->id[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < t->n && t->id[lo] == id ? lo : -1;
}

/* q~(g) of a list whose subject-bearing items sum to q_sum[g] over c of them. */
static double smoothed(double q_sum, int32_t c, double p)
{
    return (1.0 - TL_RERANK_ALPHA) * q_sum / c + TL_RERANK_ALPHA * p;
}

/* KL(p || q~) of the list so far; with no subject-bearing item, q~ = alpha p. */
static double kl_of(const target *t, const double *q_sum, int32_t c)
{
    if (!c)
        return -log(TL_RERANK_ALPHA);
    double kl = 0;
    for (int32_t g = 0; g < t->n; g++)
        kl += t->p[g] * log(t->p[g] / smoothed(q_sum[g], c, t->p[g]));
    return kl;
}

/* Adds item i's subjects to q_sum (its weight spread over them); returns 1 when it has any. */
static int add_subjects(const tl_facets *f, const target *t, int32_t i, double *q_sum)
{
    int32_t ns = f->n_subj[i];
    for (int32_t s = 0; s < ns; s++) {
        int32_t g = slot_of(t, f->feat[f->ptr[i] + s]);
        if (g >= 0)
            q_sum[g] += 1.0 / ns;
    }
    return ns > 0;
}

/* Relevance: the scores min-max normalized over the pool (all 1 when they are equal). */
static void normalize(const float *scores, int n, float *rel)
{
    float lo = INFINITY, hi = -INFINITY;
    for (int k = 0; k < n; k++)
        if (isfinite(scores[k])) {
            lo = scores[k] < lo ? scores[k] : lo;
            hi = scores[k] > hi ? scores[k] : hi;
        }
    for (int k = 0; k < n; k++)
        rel[k] = !(hi > lo) ? 1.0f : isfinite(scores[k]) ? (scores[k] - lo) / (hi - lo) : 0.0f;
}

/* slot[k]: the first pool position with candidate k's first creator, -1 when it has none. */
static void creator_slots(const tl_facets *f, const int32_t *items, int n, int32_t *slot)
{
    for (int k = 0; k < n; k++) {
        int32_t c = valid(f, items[k]) ? f->first_creator[items[k]] : -1;
        slot[k] = c < 0 ? -1 : k;
        for (int j = 0; c >= 0 && j < k; j++)
            if (slot[j] == j && f->first_creator[items[j]] == c) {
                slot[k] = j;
                break;
            }
    }
}

tl_err tl_rerank_choose(const tl_facets *f, const tl_rerank_spec *s, const int32_t *hist,
                        const float *hist_w, int32_t n_hist, int32_t *items, float *scores,
                        int n_pool, int n, int *n_out)
{
    *n_out = 0;
    if (n > n_pool)
        n = n_pool;
    if (n <= 0)
        return TL_OK;
    int mmr = s->mmr < 1.0f;
    float lm = s->mmr < 0 ? 0.0f : s->mmr;
    float lc = s->calibrate > 1.0f ? 1.0f : s->calibrate;
    int cap = s->max_per_creator;
    int64_t h = lc > 0 ? history_subjects(f, hist, hist_w, n_hist) : 0;
    size_t P = (size_t)n_pool, H = (size_t)h;
    /* doubles first, then 4-byte arrays, then bytes: each part stays aligned */
    size_t bytes = 3 * H * sizeof(double) + H * (sizeof(subj_w) + sizeof(int32_t)) +
                   P * (2 * sizeof(float) + 3 * sizeof(int32_t) + 1);
    char *block = malloc(bytes ? bytes : 1);
    if (!block)
        return TL_ENOMEM;
    double *q_sum = (double *)block, *lq = q_sum + H;
    target t = {.p = lq + H, .id = (int32_t *)(lq + 2 * H)};
    subj_w *pairs = (subj_w *)(t.id + H);
    float *rel = (float *)(pairs + H), *maxsim = rel + P;
    int32_t *slot = (int32_t *)(maxsim + P), *count = slot + P, *order = count + P;
    uint8_t *taken = (uint8_t *)(order + P);
    if (h)
        build_target(f, hist, hist_w, n_hist, pairs, &t);
    int calibrate = lc > 0 && t.n > 0;
    normalize(scores, n_pool, rel);
    if (cap > 0)
        creator_slots(f, items, n_pool, slot);
    for (int k = 0; k < n_pool; k++) {
        maxsim[k] = 0;
        count[k] = 0;
        taken[k] = 0;
    }
    for (int32_t g = 0; g < t.n; g++)
        q_sum[g] = 0;
    int32_t c = 0; /* subject-bearing items picked */
    int got = 0;
    for (; got < n; got++) {
        double base = 0, kl_now = 0;
        if (calibrate) {
            /* KL once the pick is in, before its own subjects: the same for every
             * subject-bearing candidate; each then corrects for its own subjects only */
            for (int32_t g = 0; g < t.n; g++) {
                lq[g] = log(smoothed(q_sum[g], c + 1, t.p[g]));
                base += t.p[g] * (log(t.p[g]) - lq[g]);
            }
            kl_now = kl_of(&t, q_sum, c);
        }
        int best = -1;
        double best_v = 0;
        for (int k = 0; k < n_pool; k++) {
            if (taken[k] || (cap > 0 && slot[k] >= 0 && count[slot[k]] >= cap))
                continue;
            double v = mmr ? lm * rel[k] - (1.0 - lm) * maxsim[k] : rel[k];
            if (calibrate) {
                int32_t i = items[k], ns = valid(f, i) ? f->n_subj[i] : 0;
                double kl = ns ? base : kl_now;
                for (int32_t j = 0; j < ns; j++) {
                    int32_t g = slot_of(&t, f->feat[f->ptr[i] + j]);
                    if (g >= 0)
                        kl -= t.p[g] * (log(smoothed(q_sum[g] + 1.0 / ns, c + 1, t.p[g])) - lq[g]);
                }
                v = (1.0 - lc) * v - lc * kl;
            }
            if (best < 0 || v > best_v) {
                best = k;
                best_v = v;
            }
        }
        if (best < 0)
            break; /* the cap left nothing */
        order[got] = best;
        taken[best] = 1;
        if (cap > 0 && slot[best] >= 0)
            count[slot[best]]++;
        if (calibrate && valid(f, items[best]))
            c += add_subjects(f, &t, items[best], q_sum);
        for (int k = 0; mmr && k < n_pool; k++)
            if (!taken[k] && valid(f, items[k]) && valid(f, items[best])) {
                float sim = tl_facets_jaccard(f, items[k], items[best]);
                maxsim[k] = sim > maxsim[k] ? sim : maxsim[k];
            }
    }
    /* The chosen in their order, then the others in the pool's; slot and maxsim are free. */
    int w = 0;
    for (int j = 0; j < got; j++) {
        slot[w] = items[order[j]];
        maxsim[w++] = scores[order[j]];
    }
    for (int k = 0; k < n_pool; k++)
        if (!taken[k]) {
            slot[w] = items[k];
            maxsim[w++] = scores[k];
        }
    memcpy(items, slot, P * sizeof(*items));
    memcpy(scores, maxsim, P * sizeof(*scores));
    *n_out = got;
    free(block);
    return TL_OK;
}

double tl_rerank_miscalibration(const tl_facets *f, const int32_t *hist, const float *hist_w,
                                int32_t n_hist, const int32_t *items, int n)
{
    size_t h = (size_t)history_subjects(f, hist, hist_w, n_hist);
    subj_w *pairs = malloc(h ? h * sizeof(*pairs) : 1);
    double *p = malloc(h ? h * sizeof(*p) : 1), *q_sum = calloc(h ? h : 1, sizeof(*q_sum));
    int32_t *id = malloc(h ? h * sizeof(*id) : 1);
    double kl = -1;
    if (pairs && p && q_sum && id) {
        target t = {.id = id, .p = p};
        build_target(f, hist, hist_w, n_hist, pairs, &t);
        int32_t c = 0;
        for (int k = 0; t.n && k < n; k++)
            if (valid(f, items[k]))
                c += add_subjects(f, &t, items[k], q_sum);
        kl = t.n ? kl_of(&t, q_sum, c) : 0;
    }
    free(pairs);
    free(p);
    free(q_sum);
    free(id);
    return kl;
}
