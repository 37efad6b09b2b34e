/* Linear contextual bandits (LinUCB, Thompson sampling) with a propensity floor; see bandit.h. */
#include "core/bandit.h"

#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/bytes.h"
#include "util/hash.h"

/* Thompson sampling's choice probabilities are estimated from this many posterior draws. */
#define TS_DRAWS 256
/* Sherman-Morrison keeps A^-1 current; an exact inverse every so many updates of an arm stops
 * rounding errors from piling up. */
#define REFRESH_EVERY 1024
#define IMAGE_MAGIC "TLBANDIT"
#define IMAGE_VERSION 1u

typedef struct arm_model {
    double *a;     /* d x d: I + sum x x^T */
    double *ainv;  /* d x d */
    double *b;     /* d */
    double *theta; /* d: ainv b */
    uint64_t n;    /* updates of this arm */
} arm_model;

struct tl_bandit {
    tl_bandit_kind kind;
    int narms, dim;
    double alpha, p_min;
    uint64_t updates;
    arm_model *arms;
    double *mem;
};

static tl_err bandit_alloc(tl_bandit_kind kind, int narms, int dim, double alpha, double p_min,
                           tl_bandit **out)
{
    *out = NULL;
    if ((kind != TL_BANDIT_LINUCB && kind != TL_BANDIT_THOMPSON) || narms < 1 || dim < 1 ||
        dim > TL_BANDIT_MAX_DIM || !(alpha >= 0) || !isfinite(alpha) || !(p_min >= 0) ||
        (narms > 1 && p_min * narms > 1 + 1e-12))
        return TL_EINVAL;
    tl_bandit *b = calloc(1, sizeof *b);
    if (!b)
        return TL_ENOMEM;
    size_t per = (size_t)2 * dim * dim + 2 * (size_t)dim;
    b->arms = calloc((size_t)narms, sizeof *b->arms);
    b->mem = calloc((size_t)narms * per, sizeof(double));
    if (!b->arms || !b->mem) {
        tl_bandit_free(b);
        return TL_ENOMEM;
    }
    b->kind = kind;
    b->narms = narms;
    b->dim = dim;
    b->alpha = alpha;
    b->p_min = p_min;
    for (int k = 0; k < narms; k++) {
        arm_model *m = &b->arms[k];
        double *p = b->mem + (size_t)k * per;
        m->a = p;
        m->ainv = p + (size_t)dim * dim;
        m->b = m->ainv + (size_t)dim * dim;
        m->theta = m->b + dim;
        for (int i = 0; i < dim; i++)
            m->a[i * dim + i] = m->ainv[i * dim + i] = 1.0;
    }
    *out = b;
    return TL_OK;
}

tl_err tl_bandit_new(tl_bandit_kind kind, int narms, int dim, double alpha, double p_min,
                     tl_bandit **out)
{
    return bandit_alloc(kind, narms, dim, alpha, p_min, out);
}

void tl_bandit_free(tl_bandit *b)
{
    if (!b)
        return;
    free(b->arms);
    free(b->mem);
    free(b);
}

int tl_bandit_narms(const tl_bandit *b)
{
    return b->narms;
}

int tl_bandit_dim(const tl_bandit *b)
{
    return b->dim;
}

tl_bandit_kind tl_bandit_get_kind(const tl_bandit *b)
{
    return b->kind;
}

uint64_t tl_bandit_updates(const tl_bandit *b)
{
    return b->updates;
}

static double dot(const double *a, const double *b, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}

/* x^T M x for symmetric M (d x d). */
static double quad(const double *m, const double *x, int d)
{
    double s = 0;
    for (int i = 0; i < d; i++)
        s += x[i] * dot(m + (size_t)i * d, x, d);
    return s > 0 ? s : 0;
}

static void refresh_theta(arm_model *m, int d)
{
    for (int i = 0; i < d; i++)
        m->theta[i] = dot(m->ainv + (size_t)i * d, m->b, d);
}

/* ainv = a^-1 exactly (Cholesky); a is positive definite (I + a sum of outer products). */
static int exact_inverse(arm_model *m, int d)
{
    memcpy(m->ainv, m->a, sizeof(double) * (size_t)d * d);
    if (LAPACKE_dpotrf(LAPACK_COL_MAJOR, 'L', d, m->ainv, d) != 0 ||
        LAPACKE_dpotri(LAPACK_COL_MAJOR, 'L', d, m->ainv, d) != 0)
        return -1;
    for (int r = 0; r < d; r++) /* column-major lower = row-major upper: mirror it down */
        for (int c = 0; c < r; c++)
            m->ainv[r * d + c] = m->ainv[c * d + r];
    return 0;
}

static void model_update(arm_model *m, int d, const double *x, double target)
{
    double u[TL_BANDIT_MAX_DIM];
    for (int i = 0; i < d; i++) {
        u[i] = dot(m->ainv + (size_t)i * d, x, d);
        m->b[i] += target * x[i];
        for (int j = 0; j < d; j++)
            m->a[i * d + j] += x[i] * x[j];
    }
    m->n++;
    if (m->n % REFRESH_EVERY == 0 && exact_inverse(m, d) == 0) {
        refresh_theta(m, d);
        return;
    }
    double den = 1 + dot(x, u, d);
    for (int i = 0; i < d; i++)
        for (int j = 0; j < d; j++)
            m->ainv[i * d + j] -= u[i] * u[j] / den;
    refresh_theta(m, d);
}

void tl_bandit_update(tl_bandit *b, int arm, const double *x, double reward, double weight)
{
    if (!b || arm < 0 || arm >= b->narms || !isfinite(reward) || !isfinite(weight))
        return;
    model_update(&b->arms[arm], b->dim, x, reward * weight);
    b->updates++;
}

void tl_bandit_update_shared(tl_bandit *b, const double *x, double reward, double weight)
{
    tl_bandit_update(b, 0, x, reward, weight);
}

double tl_bandit_mean(const tl_bandit *b, int arm, const double *x)
{
    if (!b || arm < 0 || arm >= b->narms)
        return 0;
    return dot(b->arms[arm].theta, x, b->dim);
}

double tl_position_examination(int position)
{
    return position <= 0 ? 1.0 : pow(1.0 + position, -0.7);
}

double tl_position_weight(int position)
{
    return 1.0 / tl_position_examination(position);
}

/* A standard normal drawn from the key alone (Box-Muller on two hashed uniforms). */
static double keyed_normal(uint64_t key)
{
    uint64_t h1 = tl_splitmix64(key), h2 = tl_splitmix64(h1 ^ 0x5851F42D4C957F2DULL);
    double u1 = ((double)(h1 >> 11) + 0.5) * (1.0 / 9007199254740992.0);
    double u2 = (double)(h2 >> 11) * (1.0 / 9007199254740992.0);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

static uint64_t hash_doubles(const double *x, size_t n)
{
    return tl_fnv1a64(x, n * sizeof(double));
}

/* p_i = floor + (1 - m*floor) * greedy_i, in place over greedy[0..m). */
static void apply_floor(double *greedy, int m, double p_min)
{
    if (m == 1) {
        greedy[0] = 1;
        return;
    }
    double floor = p_min * m > 1 ? 1.0 / m : p_min;
    for (int i = 0; i < m; i++)
        greedy[i] = floor + (1 - m * floor) * greedy[i];
}

static int check_arms(const tl_bandit *b, const int *arms, int n)
{
    if (!b || !arms || n < 1 || n > b->narms || n > TL_BANDIT_MAX_CHOICES)
        return -1;
    for (int i = 0; i < n; i++) {
        if (arms[i] < 0 || arms[i] >= b->narms)
            return -1;
        for (int j = 0; j < i; j++)
            if (arms[j] == arms[i])
                return -1;
    }
    return 0;
}

/* The greedy part of one decision among arms[0..m): LinUCB's argmax (ties to the lowest arm id,
 * so the answer does not depend on the order of arms[]) or Thompson's argmax frequencies. */
static void greedy_probs(const tl_bandit *b, const double *x, const int *arms, int m, double *out)
{
    int d = b->dim;
    if (b->kind == TL_BANDIT_LINUCB) {
        int best = 0;
        double best_s = -INFINITY;
        for (int i = 0; i < m; i++) {
            const arm_model *am = &b->arms[arms[i]];
            double s = dot(am->theta, x, d) + b->alpha * sqrt(quad(am->ainv, x, d));
            out[i] = 0;
            if (s > best_s || (s == best_s && arms[i] < arms[best])) {
                best_s = s;
                best = i;
            }
        }
        out[best] = 1;
        return;
    }
    /* Thompson: for disjoint models the draw of arm k's score at x is normal with mean
     * theta_k.x and sd alpha*sqrt(x^T A_k^-1 x); the draws are keyed by (context, draw, arm). */
    uint64_t ctx = hash_doubles(x, (size_t)d);
    double mean[TL_BANDIT_MAX_CHOICES], sd[TL_BANDIT_MAX_CHOICES];
    for (int i = 0; i < m; i++) {
        const arm_model *am = &b->arms[arms[i]];
        mean[i] = dot(am->theta, x, d);
        sd[i] = b->alpha * sqrt(quad(am->ainv, x, d));
        out[i] = 0;
    }
    for (int t = 0; t < TS_DRAWS; t++) {
        int best = 0;
        double best_s = -INFINITY;
        for (int i = 0; i < m; i++) {
            double z = keyed_normal(ctx ^ ((uint64_t)t * 0x9E3779B97F4A7C15ULL) ^
                                    ((uint64_t)(arms[i] + 1) * 0xD1B54A32D192ED03ULL));
            double s = mean[i] + sd[i] * z;
            if (s > best_s || (s == best_s && arms[i] < arms[best])) {
                best_s = s;
                best = i;
            }
        }
        out[best] += 1.0 / TS_DRAWS;
    }
}

tl_err tl_bandit_probs(const tl_bandit *b, const double *x, const int *arms, int n, double *probs)
{
    if (!x || !probs || check_arms(b, arms, n) != 0)
        return TL_EINVAL;
    greedy_probs(b, x, arms, n, probs);
    apply_floor(probs, n, b->p_min);
    return TL_OK;
}

static int draw_index(const double *p, int m, uint64_t seed)
{
    tl_rng g = {seed};
    double u = tl_rng_uniform(&g), c = 0;
    for (int i = 0; i < m - 1; i++) {
        c += p[i];
        if (u < c)
            return i;
    }
    return m - 1;
}

tl_err tl_bandit_rank(const tl_bandit *b, const double *x, const int *arms, int n, uint64_t seed,
                      int *order, double *prob)
{
    if (!x || !order || !prob || check_arms(b, arms, n) != 0)
        return TL_EINVAL;
    memcpy(order, arms, sizeof(int) * (size_t)n);
    for (int s = 0; s < n; s++) {
        int m = n - s;
        greedy_probs(b, x, order + s, m, prob + s);
        apply_floor(prob + s, m, b->p_min);
        int j =
            draw_index(prob + s, m, tl_splitmix64(seed ^ ((uint64_t)s * 0x2545F4914F6CDD1DULL)));
        double pj = prob[s + j];
        int t = order[s];
        order[s] = order[s + j];
        order[s + j] = t;
        prob[s] = pj;
    }
    return TL_OK;
}

double tl_bandit_prob_first(const tl_bandit *b, const double *x, const int *arms, int n, int arm)
{
    double p[TL_BANDIT_MAX_CHOICES];
    if (tl_bandit_probs(b, x, arms, n, p) != TL_OK)
        return 0;
    for (int i = 0; i < n; i++)
        if (arms[i] == arm)
            return p[i];
    return 0;
}

tl_err tl_bandit_choose(const tl_bandit *b, const double *cand_x, int n, uint64_t seed, int *chosen,
                        double *prob)
{
    if (!b || b->narms != 1 || !cand_x || n < 1 || !chosen || !prob)
        return TL_EINVAL;
    int d = b->dim;
    const arm_model *am = &b->arms[0];
    for (int i = 0; i < n; i++)
        prob[i] = 0;
    if (b->kind == TL_BANDIT_LINUCB) {
        int best = 0;
        double best_s = -INFINITY;
        for (int i = 0; i < n; i++) {
            const double *x = cand_x + (size_t)i * d;
            double s = dot(am->theta, x, d) + b->alpha * sqrt(quad(am->ainv, x, d));
            if (s > best_s) {
                best_s = s;
                best = i;
            }
        }
        prob[best] = 1;
    } else {
        /* A shared posterior: one draw theta + alpha*L*z (L L^T = A^-1) scores every candidate. */
        double l[TL_BANDIT_MAX_DIM * TL_BANDIT_MAX_DIM], th[TL_BANDIT_MAX_DIM];
        memcpy(l, am->ainv, sizeof(double) * (size_t)d * d);
        if (LAPACKE_dpotrf(LAPACK_COL_MAJOR, 'L', d, l, d) != 0)
            return TL_ENUMERIC;
        uint64_t ctx = hash_doubles(cand_x, (size_t)n * d);
        for (int t = 0; t < TS_DRAWS; t++) {
            double z[TL_BANDIT_MAX_DIM];
            for (int i = 0; i < d; i++)
                z[i] = keyed_normal(ctx ^ ((uint64_t)t * 0x9E3779B97F4A7C15ULL) ^
                                    ((uint64_t)(i + 1) * 0xD1B54A32D192ED03ULL));
            for (int r = 0; r < d; r++) { /* column-major lower L: L[r][c] = l[c*d + r] */
                double s = 0;
                for (int c = 0; c <= r; c++)
                    s += l[c * d + r] * z[c];
                th[r] = am->theta[r] + b->alpha * s;
            }
            int best = 0;
            double best_s = -INFINITY;
            for (int i = 0; i < n; i++) {
                double s = dot(th, cand_x + (size_t)i * d, d);
                if (s > best_s) {
                    best_s = s;
                    best = i;
                }
            }
            prob[best] += 1.0 / TS_DRAWS;
        }
    }
    apply_floor(prob, n, b->p_min);
    *chosen = draw_index(prob, n, tl_splitmix64(seed));
    return TL_OK;
}

/* ---- persistence: little-endian, independent of the host's byte order ---- */

/* magic(8) version kind narms dim (u64 each) alpha p_min (f64) updates (u64), then per arm its
 * update count (u64), A (d*d f64) and b (d f64). */
#define HEADER_BYTES (8 + 8 * 8)

tl_err tl_bandit_save(const tl_bandit *b, unsigned char **buf, size_t *len)
{
    if (!b || !buf || !len)
        return TL_EINVAL;
    size_t d = (size_t)b->dim, per = 8 + 8 * (d * d + d);
    size_t n = HEADER_BYTES + per * (size_t)b->narms;
    unsigned char *p = malloc(n);
    if (!p)
        return TL_ENOMEM;
    memcpy(p, IMAGE_MAGIC, 8);
    tl_put_le64(p + 8, IMAGE_VERSION);
    tl_put_le64(p + 16, (uint64_t)b->kind);
    tl_put_le64(p + 24, (uint64_t)b->narms);
    tl_put_le64(p + 32, (uint64_t)b->dim);
    tl_put_lef64(p + 40, b->alpha);
    tl_put_lef64(p + 48, b->p_min);
    tl_put_le64(p + 56, b->updates);
    unsigned char *q = p + HEADER_BYTES;
    for (int k = 0; k < b->narms; k++) {
        const arm_model *m = &b->arms[k];
        tl_put_le64(q, m->n);
        q += 8;
        for (size_t i = 0; i < d * d; i++, q += 8)
            tl_put_lef64(q, m->a[i]);
        for (size_t i = 0; i < d; i++, q += 8)
            tl_put_lef64(q, m->b[i]);
    }
    *buf = p;
    *len = n;
    return TL_OK;
}

tl_err tl_bandit_load(const unsigned char *buf, size_t len, tl_bandit **out)
{
    if (!out)
        return TL_EINVAL;
    *out = NULL;
    if (!buf || len < HEADER_BYTES || memcmp(buf, IMAGE_MAGIC, 8) != 0)
        return TL_ECORRUPT;
    if (tl_get_le64(buf + 8) != IMAGE_VERSION)
        return TL_EVERSION;
    uint64_t kind = tl_get_le64(buf + 16), narms = tl_get_le64(buf + 24),
             dim = tl_get_le64(buf + 32);
    if (kind > TL_BANDIT_THOMPSON || narms < 1 || narms > (1u << 20) || dim < 1 ||
        dim > TL_BANDIT_MAX_DIM)
        return TL_ECORRUPT;
    size_t per = 8 + 8 * (size_t)(dim * dim + dim);
    if (len != HEADER_BYTES + per * narms)
        return TL_ECORRUPT;
    tl_bandit *b;
    tl_err rc = bandit_alloc((tl_bandit_kind)kind, (int)narms, (int)dim, tl_get_lef64(buf + 40),
                             tl_get_lef64(buf + 48), &b);
    if (rc != TL_OK)
        return rc == TL_ENOMEM ? rc : TL_ECORRUPT;
    b->updates = tl_get_le64(buf + 56);
    const unsigned char *q = buf + HEADER_BYTES;
    int d = (int)dim;
    for (int k = 0; k < b->narms; k++) {
        arm_model *m = &b->arms[k];
        m->n = tl_get_le64(q);
        q += 8;
        for (int i = 0; i < d * d; i++, q += 8)
            m->a[i] = tl_get_lef64(q);
        for (int i = 0; i < d; i++, q += 8) {
            m->b[i] = tl_get_lef64(q);
            if (!isfinite(m->b[i])) {
                tl_bandit_free(b);
                return TL_ECORRUPT;
            }
        }
        if (exact_inverse(m, d) != 0) {
            tl_bandit_free(b);
            return TL_ECORRUPT;
        }
        refresh_theta(m, d);
    }
    *out = b;
    return TL_OK;
}
