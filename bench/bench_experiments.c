/* The figures of docs/BENCHMARKS.md "Experiments", measured in the simulator of
 * src/synth/simulate.c where the true value of every policy is known:
 *   bench_experiments regret SEEDS [PATRONS DAYS]  bandit vs fixed order vs the oracle
 *   bench_experiments ope SEEDS                    IPS/SNIPS/DR against the true value
 *   bench_experiments aa SEEDS                     A/A tests looked at daily: mSPRT vs naive
 * t-tests bench_experiments interleave SEEDS             team-draft interleaving vs an A/B test
 * Each prints one JSON object per line (per seed) and a summary line starting "summary". */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval/interleave.h"
#include "eval/ope.h"
#include "eval/ope_log.h"
#include "eval/seqtest.h"
#include "synth/simulate.h"
#include "util/hash.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int regret(int seeds, int patrons, int days)
{
    double *closed = calloc((size_t)seeds, sizeof(double));
    double sum_fixed = 0, sum_bandit = 0, sum_ts = 0, sum_oracle = 0;
    int ok = 0;
    for (int s = 0; s < seeds; s++) {
        tl_sim_world *w;
        if (tl_sim_world_new(patrons, days, (uint64_t)s + 1, &w) != TL_OK)
            return 1;
        tl_sim_run_opts o;
        tl_sim_run_opts_init(&o);
        tl_sim_result rf, rb, rt;
        o.policy = TL_SIM_FIXED;
        tl_sim_run(w, &o, &rf);
        o.policy = TL_SIM_BANDIT;
        tl_sim_run(w, &o, &rb);
        o.kind = TL_BANDIT_THOMPSON;
        o.alpha = 0.1;
        tl_sim_run(w, &o, &rt);
        double gap = rf.oracle - rf.expected;
        closed[s] = gap > 0 ? (rb.expected - rf.expected) / gap : 0;
        ok += closed[s] >= 0.5;
        printf("{\"seed\":%d,\"visits\":%ld,\"oracle\":%.2f,\"fixed\":%.2f,\"linucb\":%.2f,"
               "\"thompson\":%.2f,"
               "\"regret_fixed\":%.2f,\"regret_linucb\":%.2f,\"regret_thompson\":%.2f,\"gap_"
               "closed\":%.4f}\n",
               s + 1, rf.n_visits, rf.oracle, rf.expected, rb.expected, rt.expected,
               rf.oracle - rf.expected, rb.oracle - rb.expected, rt.oracle - rt.expected,
               closed[s]);
        fflush(stdout);
        sum_fixed += rf.oracle - rf.expected;
        sum_bandit += rb.oracle - rb.expected;
        sum_ts += rt.oracle - rt.expected;
        sum_oracle += rf.oracle;
        tl_sim_result_free(&rf);
        tl_sim_result_free(&rb);
        tl_sim_result_free(&rt);
        tl_sim_world_free(w);
    }
    qsort(closed, (size_t)seeds, sizeof(double), cmp_double);
    double mean = 0;
    for (int s = 0; s < seeds; s++)
        mean += closed[s] / seeds;
    printf(
        "summary regret seeds=%d patrons=%d days=%d mean_oracle_clicks=%.1f mean_regret_fixed=%.1f "
        "mean_regret_linucb=%.1f mean_regret_thompson=%.1f gap_closed_mean=%.3f "
        "gap_closed_min=%.3f "
        "gap_closed_median=%.3f seeds_closing_half=%d/%d\n",
        seeds, patrons, days, sum_oracle / seeds, sum_fixed / seeds, sum_bandit / seeds,
        sum_ts / seeds, mean, closed[0], closed[seeds / 2], ok, seeds);
    free(closed);
    return 0;
}

/* ---- off-policy estimates against the truth ---- */

/* The sim's top-slot policy as a target over a log whose arm ids are the sim's row ids. */
typedef struct sim_target {
    tl_sim_policy policy;
    const tl_bandit *bandit;
} sim_target;

static void sim_policy(void *ctx, const tl_ope_log *log, const tl_ope_row *row, double *probs)
{
    (void)log;
    const sim_target *t = ctx;
    double all[TL_SIM_ROWS];
    tl_sim_top_probs(t->policy, t->bandit, row->x, all);
    for (int i = 0; i < row->n_cand; i++)
        probs[i] = all[row->cand[i]];
}

static void sim_log_to_ope(const tl_sim_result *r, tl_ope_log *log)
{
    memset(log, 0, sizeof *log);
    for (int k = 0; k < TL_SIM_ROWS; k++)
        tl_ope_log_arm(log, tl_sim_row_names[k]);
    for (size_t i = 0; i < r->n_log; i++) {
        const tl_sim_decision *d = &r->log[i];
        tl_ope_row row;
        memset(&row, 0, sizeof row);
        row.decision = d->slot;
        row.chosen = d->chosen;
        row.n_cand = d->n_cand;
        for (int j = 0; j < d->n_cand; j++)
            row.cand[j] = d->cand[j];
        row.propensity = d->propensity;
        row.reward = d->reward;
        memcpy(row.x, d->x, sizeof row.x);
        row.ts = 86400LL * d->day;
        row.group = tl_splitmix64((uint64_t)d->patron);
        tl_ope_log_add(log, &row);
    }
}

#define N_TARGETS 3
#define N_EST 3

static int ope(int seeds, int patrons, int days)
{
    static const tl_sim_policy targets[N_TARGETS] = {TL_SIM_FIXED, TL_SIM_ORACLE, TL_SIM_BANDIT};
    static const char *est_names[N_EST] = {"ips", "snips", "dr"};
    double bias[N_TARGETS][N_EST] = {{0}}, sq[N_TARGETS][N_EST] = {{0}},
           width[N_TARGETS][N_EST] = {{0}};
    int covered[N_TARGETS][N_EST] = {{0}};
    for (int s = 0; s < seeds; s++) {
        tl_sim_world *w;
        if (tl_sim_world_new(patrons, days, (uint64_t)s + 1001, &w) != TL_OK)
            return 1;
        tl_sim_run_opts o;
        tl_sim_run_opts_init(&o);
        tl_sim_result logged, trained;
        o.policy = TL_SIM_UNIFORM;
        o.log_decisions = 1;
        tl_sim_run(w, &o, &logged);
        o.policy = TL_SIM_BANDIT; /* the candidate: a bandit after a month of its own */
        o.log_decisions = 0;
        tl_sim_run(w, &o, &trained);
        tl_ope_log log;
        sim_log_to_ope(&logged, &log);
        printf("{\"seed\":%d,\"decisions\":%zu", s + 1001, logged.n_log);
        for (int t = 0; t < N_TARGETS; t++) {
            sim_target st = {targets[t], trained.bandit};
            double truth = tl_sim_true_top_value(w, targets[t], trained.bandit);
            tl_ope_result r;
            if (tl_ope_log_estimate(&log, 0, sim_policy, &st, &r) != TL_OK)
                return 1;
            const tl_ope_value *v[N_EST] = {&r.ips, &r.snips, &r.dr};
            printf(",\"%s\":{\"truth\":%.5f", tl_sim_policy_name(targets[t]), truth);
            for (int e = 0; e < N_EST; e++) {
                double err = v[e]->value - truth;
                bias[t][e] += err / seeds;
                sq[t][e] += err * err / seeds;
                width[t][e] += (v[e]->hi - v[e]->lo) / seeds;
                covered[t][e] += v[e]->lo <= truth && truth <= v[e]->hi;
                printf(",\"%s\":[%.5f,%.5f,%.5f]", est_names[e], v[e]->value, v[e]->lo, v[e]->hi);
            }
            printf("}");
        }
        printf("}\n");
        fflush(stdout);
        tl_ope_log_free(&log);
        tl_sim_result_free(&logged);
        tl_sim_result_free(&trained);
        tl_sim_world_free(w);
    }
    for (int t = 0; t < N_TARGETS; t++)
        for (int e = 0; e < N_EST; e++)
            printf("summary ope target=%s estimator=%s seeds=%d bias=%+.5f rmse=%.5f "
                   "mean_ci_width=%.5f "
                   "coverage=%.3f\n",
                   tl_sim_policy_name(targets[t]), est_names[e], seeds, bias[t][e], sqrt(sq[t][e]),
                   width[t][e], (double)covered[t][e] / seeds);
    return 0;
}

/* ---- A/A tests looked at every day ---- */

/* Per arm: sums over patrons of S (clicks), N (visits), S^2, N^2, S*N: the ratio metric clicks
 * per visit with its patron-clustered (delta-method) variance. */
typedef struct arm_sums {
    double s, n, ss, nn, sn, patrons;
} arm_sums;

static void arm_move(arm_sums *a, double s0, double n0, double s1, double n1)
{
    if (n0 == 0)
        a->patrons++;
    a->s += s1 - s0;
    a->n += n1 - n0;
    a->ss += s1 * s1 - s0 * s0;
    a->nn += n1 * n1 - n0 * n0;
    a->sn += s1 * n1 - s0 * n0;
}

static void arm_ratio(const arm_sums *a, double *r, double *var)
{
    *r = a->n > 0 ? a->s / a->n : 0;
    double m = a->patrons;
    double num = a->ss - 2 * *r * a->sn + *r * *r * a->nn;
    *var = a->n > 0 && m > 1 ? num / (a->n * a->n) * m / (m - 1) : 0;
}

static int aa(int seeds, int patrons, int days)
{
    int fp_naive = 0, fp_msprt = 0, fp_final = 0;
    for (int s = 0; s < seeds; s++) {
        tl_sim_world *w;
        if (tl_sim_world_new(patrons, days, (uint64_t)s + 5001, &w) != TL_OK)
            return 1;
        tl_sim_run_opts o;
        tl_sim_run_opts_init(&o);
        o.log_visits = 1;
        tl_sim_result r;
        tl_sim_run(w, &o, &r);
        double *ps = calloc((size_t)patrons, sizeof(double)),
               *pn = calloc((size_t)patrons, sizeof(double));
        arm_sums arm[2];
        memset(arm, 0, sizeof arm);
        tl_msprt m;
        tl_msprt_init(&m, 0);
        int naive = 0, seq = 0, first_naive = -1;
        double z = 0;
        long v = 0;
        for (int day = 0; day < days; day++) {
            for (; v < r.n_visits && r.visits[v].day == day; v++) {
                int p = r.visits[v].patron,
                    g = (int)(tl_splitmix64((uint64_t)p ^ ((uint64_t)s << 32)) & 1);
                arm_move(&arm[g], ps[p], pn[p], ps[p] + r.visits[v].clicks, pn[p] + 1);
                ps[p] += r.visits[v].clicks;
                pn[p] += 1;
            }
            double ra, va, rb, vb;
            arm_ratio(&arm[0], &ra, &va);
            arm_ratio(&arm[1], &rb, &vb);
            if (va <= 0 || vb <= 0)
                continue;
            /* the mixture's scale: a tenth of the metric, a plausible effect size */
            m.tau2 = 0.01 * ((ra + rb) / 2) * ((ra + rb) / 2);
            z = (rb - ra) / sqrt(va + vb);
            if (fabs(z) > 1.959963984540054 && !naive) {
                naive = 1;
                first_naive = day;
            }
            if (tl_msprt_look(&m, rb - ra, va + vb) <= 0.05)
                seq = 1;
        }
        int final = fabs(z) > 1.959963984540054;
        fp_naive += naive;
        fp_msprt += seq;
        fp_final += final;
        printf("{\"seed\":%d,\"visits\":%ld,\"naive_daily_rejects\":%d,\"first_naive_day\":%d,"
               "\"msprt_rejects\":%d,\"msprt_p\":%.4f,\"final_day_t_rejects\":%d}\n",
               s + 5001, r.n_visits, naive, first_naive, seq, m.p, final);
        fflush(stdout);
        free(ps);
        free(pn);
        tl_sim_result_free(&r);
        tl_sim_world_free(w);
    }
    printf("summary aa seeds=%d patrons=%d days=%d looks=daily false_positive_naive_daily=%.3f "
           "false_positive_msprt_daily=%.3f false_positive_single_final_look=%.3f\n",
           seeds, patrons, days, (double)fp_naive / seeds, (double)fp_msprt / seeds,
           (double)fp_final / seeds);
    return 0;
}

/* ---- interleaving against an A/B test ---- */

#define IL_CAND 30
#define IL_LEN 10
#define Z_ALPHA 1.959963984540054  /* two-sided 5% */
#define Z_POWER 0.8416212335729143 /* 80% power */

/* One query: candidates' true relevance and two rankers' lists (rel + noise of sd sa / sb). */
typedef struct il_query {
    double rel[IL_CAND];
    int64_t a[IL_LEN], b[IL_LEN];
} il_query;

static double il_normal(tl_rng *g)
{
    double u1 = tl_rng_uniform(g), u2 = tl_rng_uniform(g);
    return sqrt(-2.0 * log(1.0 - u1)) * cos(6.283185307179586 * u2);
}

static void il_rank(const double *rel, const double *noise, double sd, int64_t *out)
{
    double score[IL_CAND];
    int idx[IL_CAND];
    for (int j = 0; j < IL_CAND; j++) {
        score[j] = rel[j] + sd * noise[j];
        idx[j] = j;
    }
    for (int i = 0; i < IL_LEN; i++) { /* partial selection sort: the top IL_LEN */
        int best = i;
        for (int j = i + 1; j < IL_CAND; j++)
            if (score[idx[j]] > score[idx[best]])
                best = j;
        int t = idx[i];
        idx[i] = idx[best];
        idx[best] = t;
        out[i] = idx[i];
    }
}

static void il_query_make(uint64_t key, double sa, double sb, il_query *q)
{
    tl_rng g = {tl_splitmix64(key)};
    double na[IL_CAND], nb[IL_CAND];
    for (int j = 0; j < IL_CAND; j++) {
        double u = tl_rng_uniform(&g);
        q->rel[j] = 0.6 * u * u * u;
        na[j] = il_normal(&g);
        nb[j] = il_normal(&g);
    }
    il_rank(q->rel, na, sa, q->a);
    il_rank(q->rel, nb, sb, q->b);
}

static double il_expected(const il_query *q, const int64_t *list)
{
    double e = 0;
    for (int i = 0; i < IL_LEN; i++)
        e += tl_position_examination(i) * q->rel[list[i]];
    return e;
}

/* Clicks of one shown list (coins keyed by the impression): returns the count, fills clicked. */
static int il_clicks(const il_query *q, const int64_t *list, int n, uint64_t key,
                     unsigned char *clicked)
{
    tl_rng g = {tl_splitmix64(key ^ 0xC11C5ULL)};
    int c = 0;
    for (int i = 0; i < n; i++) {
        clicked[i] = tl_rng_uniform(&g) < tl_position_examination(i) * q->rel[list[i]];
        c += clicked[i];
    }
    return c;
}

static double il_ratio(double sa, double sb, int n)
{
    double ea = 0, eb = 0;
    for (int i = 0; i < n; i++) {
        il_query q;
        il_query_make(0xCA11B ^ ((uint64_t)i << 8), sa, sb, &q);
        ea += il_expected(&q, q.a);
        eb += il_expected(&q, q.b);
    }
    return eb / ea;
}

static int interleave(int seeds)
{
    const double sa = 0.02;
    /* sb so that B's expected clicks are exactly 2% below A's (bisection, common numbers) */
    double lo = sa, hi = 2.0;
    for (int it = 0; it < 40; it++) {
        double mid = (lo + hi) / 2;
        if (il_ratio(sa, mid, 20000) > 0.98)
            lo = mid;
        else
            hi = mid;
    }
    double sb = (lo + hi) / 2, ratio = il_ratio(sa, sb, 200000);
    /* per-impression moments from a large sample: clicks under A and B, interleaving credit */
    const int big = 200000;
    double ma = 0, qa = 0, mb = 0, qb = 0, mc = 0, qc = 0;
    for (int i = 0; i < big; i++) {
        il_query q;
        il_query_make(0x5EED ^ ((uint64_t)i << 8), sa, sb, &q);
        unsigned char clicked[IL_LEN], team[IL_LEN];
        int64_t out[IL_LEN];
        double ca = il_clicks(&q, q.a, IL_LEN, (uint64_t)i, clicked);
        double cb = il_clicks(&q, q.b, IL_LEN, (uint64_t)i + 0x1000000ULL, clicked);
        int n = tl_team_draft(q.a, IL_LEN, q.b, IL_LEN, IL_LEN, (uint64_t)i, out, team);
        il_clicks(&q, out, n, (uint64_t)i + 0x2000000ULL, clicked);
        double c = tl_interleave_credit(team, clicked, n);
        ma += ca, qa += ca * ca, mb += cb, qb += cb * cb, mc += c, qc += c * c;
    }
    ma /= big, mb /= big, mc /= big;
    double va = qa / big - ma * ma, vb = qb / big - mb * mb, vc = qc / big - mc * mc;
    double k = (Z_ALPHA + Z_POWER) * (Z_ALPHA + Z_POWER);
    long n_ab = (long)ceil(k * (va + vb) / ((ma - mb) * (ma - mb))); /* per arm */
    long n_il = (long)ceil(k * vc / (mc * mc));
    /* check both sizes: how often each test is significant over the seeds */
    int sig_ab = 0, sig_il = 0;
    for (int s = 0; s < seeds; s++) {
        double sa_sum = 0, sa_sq = 0, sb_sum = 0, sb_sq = 0;
        long wins_a = 0, wins_b = 0;
        uint64_t base = (uint64_t)(s + 1) << 40;
        for (long i = 0; i < n_ab; i++) {
            il_query q;
            unsigned char clicked[IL_LEN];
            il_query_make(base ^ (uint64_t)(2 * i), sa, sb, &q);
            double c = il_clicks(&q, q.a, IL_LEN, base ^ (uint64_t)(2 * i), clicked);
            sa_sum += c, sa_sq += c * c;
            il_query_make(base ^ (uint64_t)(2 * i + 1), sa, sb, &q);
            c = il_clicks(&q, q.b, IL_LEN, base ^ (uint64_t)(2 * i + 1), clicked);
            sb_sum += c, sb_sq += c * c;
        }
        double xa = sa_sum / n_ab, xb = sb_sum / n_ab;
        tl_diff d = tl_diff_means(xa, sa_sq / n_ab - xa * xa, (double)n_ab, xb,
                                  sb_sq / n_ab - xb * xb, (double)n_ab);
        int ab = tl_normal_p_two_sided(d.diff / sqrt(d.var)) < 0.05;
        for (long i = 0; i < n_il; i++) {
            il_query q;
            unsigned char clicked[IL_LEN], team[IL_LEN];
            int64_t out[IL_LEN];
            uint64_t key = base ^ 0x8000000000ULL ^ (uint64_t)i;
            il_query_make(key, sa, sb, &q);
            int n = tl_team_draft(q.a, IL_LEN, q.b, IL_LEN, IL_LEN, key, out, team);
            il_clicks(&q, out, n, key, clicked);
            int c = tl_interleave_credit(team, clicked, n);
            wins_a += c > 0;
            wins_b += c < 0;
        }
        int il = tl_interleave_pvalue(wins_a, wins_b) < 0.05 && wins_a > wins_b;
        sig_ab += ab;
        sig_il += il;
        printf("{\"seed\":%d,\"ab_impressions\":%ld,\"ab_significant\":%d,\"interleaved_"
               "impressions\":%ld,"
               "\"wins_a\":%ld,\"wins_b\":%ld,\"interleaving_significant\":%d}\n",
               s + 1, 2 * n_ab, ab, n_il, wins_a, wins_b, il);
        fflush(stdout);
    }
    printf("summary interleave seeds=%d true_ratio_b_over_a=%.4f clicks_a=%.4f clicks_b=%.4f "
           "ab_impressions_for_80pct_power=%ld interleaved_impressions_for_80pct_power=%ld "
           "fraction=%.4f observed_power_ab=%.2f observed_power_interleaving=%.2f\n",
           seeds, ratio, ma, mb, 2 * n_ab, n_il, (double)n_il / (2.0 * n_ab),
           (double)sig_ab / seeds, (double)sig_il / seeds);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bench_experiments regret|ope|aa|interleave SEEDS [PATRONS DAYS]\n");
        return 2;
    }
    int seeds = atoi(argv[2]);
    if (strcmp(argv[1], "regret") == 0)
        return regret(seeds, argc > 3 ? atoi(argv[3]) : 5000, argc > 4 ? atoi(argv[4]) : 30);
    if (strcmp(argv[1], "ope") == 0)
        return ope(seeds, argc > 3 ? atoi(argv[3]) : 5000, argc > 4 ? atoi(argv[4]) : 30);
    if (strcmp(argv[1], "aa") == 0)
        return aa(seeds, argc > 3 ? atoi(argv[3]) : 5000, argc > 4 ? atoi(argv[4]) : 91);
    if (strcmp(argv[1], "interleave") == 0)
        return interleave(seeds);
    fprintf(stderr, "unknown mode %s\n", argv[1]);
    return 2;
}
