/* The homepage simulator; see simulate.h. */
#include "synth/simulate.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/hash.h"

const char *const tl_sim_row_names[TL_SIM_ROWS] = {
    "exams",           "for_you",          "events",   "next_in_series",
    "new_in_subjects", "readers_like_you", "trending",
};

static const char *const policy_names[] = {"fixed", "bandit", "oracle", "uniform"};

int tl_sim_policy_parse(const char *name)
{
    for (int i = 0; i < 4; i++)
        if (name && strcmp(name, policy_names[i]) == 0)
            return i;
    return -1;
}

const char *tl_sim_policy_name(tl_sim_policy p)
{
    return (unsigned)p < 4 ? policy_names[p] : "?";
}

/* W: the true context effects, one row per row kind over the TL_CTX_DIM features
 * (bias, Mon..Sun, exam, term, mobile, activity). */
static const double truth[TL_SIM_ROWS][TL_CTX_DIM] = {
    /* exams: only in exam weeks */
    {0.04, 0, 0, 0, 0, 0, 0, 0, 0.40, 0.04, 0, 0},
    /* for_you: the more a patron borrows, the better it knows them */
    {0.12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0.30},
    /* events: weekends (and Fridays) */
    {0.06, 0, 0, 0, 0, 0.04, 0.14, 0.14, 0, 0, 0, 0},
    /* next_in_series */
    {0.10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0.10},
    /* new_in_subjects: Mondays, less on a phone */
    {0.16, 0.06, 0, 0, 0, 0, 0, 0, 0, 0, -0.03, 0},
    /* readers_like_you: term time */
    {0.14, 0, 0, 0, 0, 0, 0, 0, 0, 0.04, 0, 0},
    /* trending: phones, weekends */
    {0.09, 0, 0, 0, 0, 0, 0.03, 0.03, 0, 0, 0.14, 0},
};

#define TASTE_SD 0.04
#define ATTRACT_MIN 0.005
#define ATTRACT_MAX 0.95

struct tl_sim_world {
    int patrons, days;
    uint64_t seed;
    float *taste; /* patrons x TL_SIM_ROWS */
    float *activity, *visit_p, *mobile_p;
};

/* Uniform [0,1) keyed by (seed, a, b, c): the same for every policy. */
static double keyed_uniform(uint64_t seed, uint64_t a, uint64_t b, uint64_t c)
{
    uint64_t h =
        tl_splitmix64(seed ^ tl_splitmix64(a * 0x9E3779B97F4A7C15ULL ^
                                           tl_splitmix64(b + 0x632BE59BD9B4E019ULL) ^ (c << 48)));
    return (double)(h >> 11) * (1.0 / 9007199254740992.0);
}

static double normal(tl_rng *g)
{
    double u1 = tl_rng_uniform(g), u2 = tl_rng_uniform(g);
    return sqrt(-2.0 * log(1.0 - u1)) * cos(6.283185307179586 * u2);
}

tl_err tl_sim_world_new(int patrons, int days, uint64_t seed, tl_sim_world **out)
{
    *out = NULL;
    if (patrons < 1 || days < 1 || days > 3660)
        return TL_EINVAL;
    tl_sim_world *w = calloc(1, sizeof *w);
    if (!w)
        return TL_ENOMEM;
    w->patrons = patrons;
    w->days = days;
    w->seed = seed;
    w->taste = malloc(sizeof(float) * (size_t)patrons * TL_SIM_ROWS);
    w->activity = malloc(sizeof(float) * (size_t)patrons);
    w->visit_p = malloc(sizeof(float) * (size_t)patrons);
    w->mobile_p = malloc(sizeof(float) * (size_t)patrons);
    if (!w->taste || !w->activity || !w->visit_p || !w->mobile_p) {
        tl_sim_world_free(w);
        return TL_ENOMEM;
    }
    tl_rng g = {tl_splitmix64(seed ^ 0x51A7E5ULL)};
    for (int p = 0; p < patrons; p++) {
        /* events in the last 90 days: log-normal around 8 */
        double events = exp(log(8.0) + 1.0 * normal(&g));
        double act = log1p(events) / 5;
        w->activity[p] = (float)(act > 1 ? 1 : act);
        /* active patrons come more often: from about one visit a month to several a week */
        w->visit_p[p] = (float)(0.02 + 0.3 * w->activity[p] * w->activity[p]);
        w->mobile_p[p] = (float)tl_rng_uniform(&g);
        for (int k = 0; k < TL_SIM_ROWS; k++)
            w->taste[(size_t)p * TL_SIM_ROWS + k] = (float)(TASTE_SD * normal(&g));
    }
    *out = w;
    return TL_OK;
}

void tl_sim_world_free(tl_sim_world *w)
{
    if (!w)
        return;
    free(w->taste);
    free(w->activity);
    free(w->visit_p);
    free(w->mobile_p);
    free(w);
}

int tl_sim_world_patrons(const tl_sim_world *w)
{
    return w->patrons;
}

int tl_sim_weekday(int day)
{
    return day % 7;
}

/* Exam weeks: the fourth week of every five (weeks 3, 8, 13, ... counting from 0). */
int tl_sim_exam_week(int day)
{
    return (day / 7) % 5 == 3;
}

/* A week's break every thirteen weeks (week 12, 25, ...). */
int tl_sim_term(int day)
{
    return (day / 7) % 13 != 12;
}

/* Weekends see fewer visits. */
static double day_factor(int day)
{
    return tl_sim_weekday(day) >= 5 ? 0.6 : 1.0;
}

void tl_sim_context(const tl_sim_world *w, int patron, int day, int mobile, double *x)
{
    memset(x, 0, sizeof(double) * TL_CTX_DIM);
    x[TL_CTX_BIAS] = 1;
    x[TL_CTX_WEEKDAY + tl_sim_weekday(day)] = 1;
    x[TL_CTX_EXAM] = tl_sim_exam_week(day);
    x[TL_CTX_TERM] = tl_sim_term(day);
    x[TL_CTX_MOBILE] = mobile != 0;
    x[TL_CTX_ACTIVITY] = w->activity[patron];
}

double tl_sim_mean_attract(int k, const double *x)
{
    double s = 0;
    for (int f = 0; f < TL_CTX_DIM; f++)
        s += truth[k][f] * x[f];
    return s;
}

double tl_sim_attract(const tl_sim_world *w, int patron, int k, const double *x)
{
    double a = tl_sim_mean_attract(k, x) + w->taste[(size_t)patron * TL_SIM_ROWS + k];
    return a < ATTRACT_MIN ? ATTRACT_MIN : a > ATTRACT_MAX ? ATTRACT_MAX : a;
}

void tl_sim_run_opts_init(tl_sim_run_opts *o)
{
    memset(o, 0, sizeof *o);
    o->policy = TL_SIM_FIXED;
    o->kind = TL_BANDIT_LINUCB;
    o->alpha = 0.3;
    o->p_min = 0.01;
}

/* Rows sorted by W . x, best first (ties by row index). */
static void oracle_order(const double *x, int *order)
{
    double s[TL_SIM_ROWS];
    for (int k = 0; k < TL_SIM_ROWS; k++) {
        s[k] = tl_sim_mean_attract(k, x);
        order[k] = k;
    }
    for (int i = 1; i < TL_SIM_ROWS; i++) /* insertion sort, stable */
        for (int j = i; j > 0 && s[order[j]] > s[order[j - 1]]; j--) {
            int t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
}

static double page_expected(const tl_sim_world *w, int patron, const double *x, const int *order)
{
    double e = 0;
    for (int i = 0; i < TL_SIM_ROWS; i++)
        e += tl_position_examination(i) * tl_sim_attract(w, patron, order[i], x);
    return e;
}

static tl_err grow(void **p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return TL_OK;
    size_t c = *cap ? *cap * 2 : 4096;
    while (c < need)
        c *= 2;
    void *q = realloc(*p, c * size);
    if (!q)
        return TL_ENOMEM;
    *p = q;
    *cap = c;
    return TL_OK;
}

tl_err tl_sim_run(const tl_sim_world *w, const tl_sim_run_opts *o, tl_sim_result *out)
{
    memset(out, 0, sizeof *out);
    out->daily_expected = calloc((size_t)w->days, sizeof(double));
    out->daily_oracle = calloc((size_t)w->days, sizeof(double));
    if (!out->daily_expected || !out->daily_oracle) {
        tl_sim_result_free(out);
        return TL_ENOMEM;
    }
    tl_err rc = TL_OK;
    if (o->policy == TL_SIM_BANDIT &&
        (rc = tl_bandit_new(o->kind, TL_SIM_ROWS, TL_CTX_DIM, o->alpha, o->p_min, &out->bandit)) !=
            TL_OK) {
        tl_sim_result_free(out);
        return rc;
    }
    size_t log_cap = 0, visit_cap = 0;
    const int all[TL_SIM_ROWS] = {0, 1, 2, 3, 4, 5, 6};
    for (int day = 0; day < w->days && rc == TL_OK; day++) {
        for (int p = 0; p < w->patrons && rc == TL_OK; p++) {
            if (keyed_uniform(w->seed, (uint64_t)p, (uint64_t)day, 1) >=
                w->visit_p[p] * day_factor(day))
                continue;
            int mobile = keyed_uniform(w->seed, (uint64_t)p, (uint64_t)day, 2) < w->mobile_p[p];
            double x[TL_CTX_DIM], prob[TL_SIM_ROWS];
            int order[TL_SIM_ROWS], best[TL_SIM_ROWS];
            tl_sim_context(w, p, day, mobile, x);
            oracle_order(x, best);
            uint64_t vseed =
                tl_splitmix64(w->seed ^ ((uint64_t)p << 20) ^ (uint64_t)day ^ 0xB4D17ULL);
            switch (o->policy) {
            case TL_SIM_FIXED:
                for (int i = 0; i < TL_SIM_ROWS; i++)
                    order[i] = i, prob[i] = 1;
                break;
            case TL_SIM_ORACLE:
                for (int i = 0; i < TL_SIM_ROWS; i++)
                    order[i] = best[i], prob[i] = 1;
                break;
            case TL_SIM_UNIFORM: {
                tl_rng g = {vseed};
                memcpy(order, all, sizeof order);
                for (int i = 0; i < TL_SIM_ROWS; i++) {
                    int j = i + (int)(tl_rng_next(&g) % (uint64_t)(TL_SIM_ROWS - i));
                    int t = order[i];
                    order[i] = order[j];
                    order[j] = t;
                    prob[i] = 1.0 / (TL_SIM_ROWS - i);
                }
                break;
            }
            case TL_SIM_BANDIT:
                rc = tl_bandit_rank(out->bandit, x, all, TL_SIM_ROWS, vseed, order, prob);
                break;
            }
            if (rc != TL_OK)
                break;
            int clicks = 0;
            unsigned char clicked[TL_SIM_ROWS];
            for (int i = 0; i < TL_SIM_ROWS; i++) {
                double pc = tl_position_examination(i) * tl_sim_attract(w, p, order[i], x);
                clicked[i] = keyed_uniform(w->seed, (uint64_t)p, (uint64_t)day,
                                           16 + (uint64_t)order[i]) < pc;
                clicks += clicked[i];
            }
            double exp_page = page_expected(w, p, x, order),
                   exp_best = page_expected(w, p, x, best);
            out->n_visits++;
            out->clicks += clicks;
            out->expected += exp_page;
            out->oracle += exp_best;
            out->daily_expected[day] += exp_page;
            out->daily_oracle[day] += exp_best;
            if (o->log_visits) {
                if ((rc = grow((void **)&out->visits, &visit_cap, (size_t)out->n_visits,
                               sizeof(tl_sim_visit))) != TL_OK)
                    break;
                out->visits[out->n_visits - 1] =
                    (tl_sim_visit){p, (int16_t)day, (int16_t)clicks, exp_page};
            }
            for (int i = 0; i < TL_SIM_ROWS && o->log_decisions; i++) {
                if ((rc = grow((void **)&out->log, &log_cap, out->n_log + 1,
                               sizeof(tl_sim_decision))) != TL_OK)
                    break;
                tl_sim_decision *d = &out->log[out->n_log++];
                d->patron = p;
                d->day = (int16_t)day;
                d->slot = (int8_t)i;
                d->chosen = (int8_t)order[i];
                d->n_cand = (int8_t)(TL_SIM_ROWS - i);
                for (int j = i; j < TL_SIM_ROWS; j++) /* what was left, the chosen first */
                    d->cand[j - i] = (int8_t)order[j];
                d->propensity = prob[i];
                d->reward = clicked[i] * tl_position_weight(i);
                memcpy(d->x, x, sizeof x);
            }
            if (o->policy == TL_SIM_BANDIT)
                for (int i = 0; i < TL_SIM_ROWS; i++)
                    tl_bandit_update(out->bandit, order[i], x, clicked[i], tl_position_weight(i));
        }
    }
    if (rc != TL_OK)
        tl_sim_result_free(out);
    return rc;
}

void tl_sim_result_free(tl_sim_result *r)
{
    free(r->daily_expected);
    free(r->daily_oracle);
    free(r->log);
    free(r->visits);
    tl_bandit_free(r->bandit);
    memset(r, 0, sizeof *r);
}

void tl_sim_top_probs(tl_sim_policy p, const tl_bandit *b, const double *x, double *probs)
{
    int order[TL_SIM_ROWS];
    const int all[TL_SIM_ROWS] = {0, 1, 2, 3, 4, 5, 6};
    for (int k = 0; k < TL_SIM_ROWS; k++)
        probs[k] = p == TL_SIM_UNIFORM ? 1.0 / TL_SIM_ROWS : 0;
    switch (p) {
    case TL_SIM_FIXED:
        probs[0] = 1;
        break;
    case TL_SIM_ORACLE:
        oracle_order(x, order);
        probs[order[0]] = 1;
        break;
    case TL_SIM_UNIFORM:
        break;
    case TL_SIM_BANDIT:
        if (!b || tl_bandit_probs(b, x, all, TL_SIM_ROWS, probs) != TL_OK)
            probs[0] = 1;
        break;
    }
}

double tl_sim_true_top_value(const tl_sim_world *w, tl_sim_policy p, const tl_bandit *b)
{
    double num = 0, den = 0;
    for (int day = 0; day < w->days; day++)
        for (int pt = 0; pt < w->patrons; pt++) {
            double v = w->visit_p[pt] * day_factor(day);
            for (int mobile = 0; mobile < 2; mobile++) {
                double pm = mobile ? w->mobile_p[pt] : 1 - w->mobile_p[pt], x[TL_CTX_DIM],
                       probs[TL_SIM_ROWS];
                tl_sim_context(w, pt, day, mobile, x);
                tl_sim_top_probs(p, b, x, probs);
                double e = 0;
                for (int k = 0; k < TL_SIM_ROWS; k++)
                    if (probs[k] > 0)
                        e += probs[k] * tl_sim_attract(w, pt, k, x);
                num += v * pm * e;
                den += v * pm;
            }
        }
    return den > 0 ? num / den : 0;
}

tl_err tl_sim_write_log(const tl_sim_decision *log, size_t n, const char *policy, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return TL_EIO;
    fputs("impression_id\tts\tuser\tpolicy\tpolicy_"
          "version\texperiment\tarm\tdecision\tchosen\tpropensity\t"
          "candidates\tcontext\treward\n",
          f);
    const long day0 = 1767225600; /* 2026-01-01, a Thursday; only the order matters */
    for (size_t i = 0; i < n; i++) {
        const tl_sim_decision *d = &log[i];
        fprintf(f, "sim-%d-%d\t%ld\tp%d\t%s\t0\t\t\t%d\t%s\t%.17g\t", d->patron, d->day,
                day0 + 86400L * d->day, d->patron, policy, d->slot, tl_sim_row_names[d->chosen],
                d->propensity);
        for (int j = 0; j < d->n_cand; j++)
            fprintf(f, "%s%s", j ? "," : "", tl_sim_row_names[d->cand[j]]);
        fputc('\t', f);
        for (int j = 0; j < TL_CTX_DIM; j++)
            fprintf(f, "%s%.6g", j ? "," : "", d->x[j]);
        fprintf(f, "\t%.6g\n", d->reward);
    }
    int bad = ferror(f);
    if (fclose(f) != 0 || bad)
        return TL_EIO;
    return TL_OK;
}
