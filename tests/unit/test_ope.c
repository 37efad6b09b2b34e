/* ope: IPS is unbiased under a known logging policy, SNIPS and DR agree with the truth, the
 * intervals cover it, malformed samples are refused; the impressions log reader. */
#include "support.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval/ope.h"
#include "eval/ope_log.h"
#include "util/hash.h"

#define K 4

/* A contextual problem: context c in {0,1}; reward of arm k is Bernoulli(mu[c][k]). The logging
 * policy picks k with probability log_p[c][k]; the target always picks best[c]. */
static const double mu[2][K] = {{0.1, 0.5, 0.3, 0.2}, {0.6, 0.1, 0.2, 0.4}};
static const double log_p[2][K] = {{0.4, 0.1, 0.3, 0.2}, {0.1, 0.2, 0.3, 0.4}};

static size_t simulate(tl_rng *g, size_t n, tl_ope_sample *s, double *target, double *qhat,
                       int good_q)
{
    for (size_t i = 0; i < n; i++) {
        int c = tl_rng_uniform(g) < 0.5;
        double u = tl_rng_uniform(g), acc = 0;
        int k = K - 1;
        for (int j = 0; j < K; j++) {
            acc += log_p[c][j];
            if (u < acc) {
                k = j;
                break;
            }
        }
        double *t = target + i * K, *q = qhat + i * K;
        for (int j = 0; j < K; j++) {
            t[j] = j == (c ? 0 : 1);
            q[j] = good_q ? mu[c][j] : 0.9; /* a right or a badly wrong reward model */
        }
        s[i] = (tl_ope_sample){K, k, log_p[c][k], tl_rng_uniform(g) < mu[c][k], t, q};
    }
    return n;
}

static void test_estimators_unbiased_and_cover(void **state)
{
    (void)state;
    const double truth = 0.5 * 0.5 + 0.5 * 0.6; /* best arm in each context */
    const size_t n = 4000;
    const int reps = 200;
    tl_ope_sample *s = malloc(n * sizeof *s);
    double *target = malloc(n * K * sizeof(double)), *qhat = malloc(n * K * sizeof(double));
    double mean_ips = 0, mean_snips = 0, mean_dr = 0, mean_dr_bad = 0, se_ips = 0, se_dr = 0;
    int cover_ips = 0, cover_dr = 0, cover_snips = 0;
    tl_rng g = {2024};
    for (int r = 0; r < reps; r++) {
        tl_ope_result res, bad;
        simulate(&g, n, s, target, qhat, 1);
        assert_int_equal(tl_ope_estimate(s, n, &res), TL_OK);
        for (size_t i = 0; i < n; i++)
            for (int j = 0; j < K; j++)
                qhat[i * K + j] = 0.9;
        assert_int_equal(tl_ope_estimate(s, n, &bad), TL_OK);
        mean_ips += res.ips.value / reps;
        mean_snips += res.snips.value / reps;
        mean_dr += res.dr.value / reps;
        mean_dr_bad += bad.dr.value / reps;
        se_ips += res.ips.se / reps;
        se_dr += res.dr.se / reps;
        cover_ips += res.ips.lo <= truth && truth <= res.ips.hi;
        cover_snips += res.snips.lo <= truth && truth <= res.snips.hi;
        cover_dr += res.dr.lo <= truth && truth <= res.dr.hi;
        assert_true(res.ess > 0 && res.ess <= (double)n);
        assert_int_equal(res.n, n);
    }
    /* unbiased: the average over replications is within a few standard errors of the truth */
    assert_true(fabs(mean_ips - truth) < 4 * se_ips / sqrt(reps));
    assert_true(fabs(mean_snips - truth) < 0.01);
    assert_true(fabs(mean_dr - truth) < 4 * se_dr / sqrt(reps));
    /* DR with a wrong reward model is still unbiased (the logging propensities are right) */
    assert_true(fabs(mean_dr_bad - truth) < 0.01);
    /* a right reward model makes DR tighter than IPS */
    assert_true(se_dr < se_ips);
    assert_true(cover_ips >= 0.9 * reps);
    assert_true(cover_snips >= 0.9 * reps);
    assert_true(cover_dr >= 0.9 * reps);
    free(s);
    free(target);
    free(qhat);
}

static void test_estimate_rejects_bad_samples(void **state)
{
    (void)state;
    double t[2] = {1, 0};
    tl_ope_sample s = {2, 0, 0.5, 1, t, NULL};
    tl_ope_result r;
    assert_int_equal(tl_ope_estimate(&s, 1, &r), TL_OK);
    assert_true(fabs(r.ips.value - 2) < 1e-12);
    assert_true(fabs(r.snips.value - 1) < 1e-12);
    assert_true(fabs(r.dr.value - 2) < 1e-12); /* no reward model: DR = IPS */
    assert_int_equal(tl_ope_estimate(&s, 0, &r), TL_EINVAL);
    s.propensity = 0;
    assert_int_equal(tl_ope_estimate(&s, 1, &r), TL_EINVAL);
    s.propensity = 0.5;
    s.chosen = 2;
    assert_int_equal(tl_ope_estimate(&s, 1, &r), TL_EINVAL);
}

static void test_log_read_and_estimate(void **state)
{
    (void)state;
    /* Uniform logging over two rows at the top slot: "a" earns 1 always, "b" never. */
    const char *path = tl_test_tmp("impressions.tsv");
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("impression_id\tts\tuser\tpolicy\tpolicy_"
          "version\texperiment\tarm\tdecision\tchosen\tpropensity\t"
          "candidates\tcontext\treward\n",
          f);
    for (int i = 0; i < 400; i++) {
        const char *chosen = i % 2 ? "b" : "a";
        fprintf(f, "i%d\t%d\tu%d\tuniform\t0\t\t\t0\t%s\t0.5\ta,b\t1,0,0,1,0,0,0,0,0,1,0,0.5\t%d\n",
                i, 1000 + i, i % 37, chosen, i % 2 ? 0 : 1);
        fprintf(f, "i%d\t%d\tu%d\tuniform\t0\t\t\t1\t%s\t1\t%s\t1,0,0,1,0,0,0,0,0,1,0,0.5\t0\n", i,
                1000 + i, i % 37, i % 2 ? "a" : "b", i % 2 ? "a" : "b");
    }
    fclose(f);
    tl_ope_log log;
    tl_diag d;
    assert_int_equal(tl_ope_log_read(path, &log, &d), TL_OK);
    assert_int_equal(log.n, 800);
    assert_int_equal(log.narms, 2);
    tl_ope_fixed fixed = {{0}, 1}; /* always "a" */
    tl_ope_result r;
    assert_int_equal(tl_ope_log_estimate(&log, 0, tl_ope_policy_fixed, &fixed, &r), TL_OK);
    assert_int_equal(r.n, 400);
    assert_true(fabs(r.ips.value - 1) < 1e-9);
    assert_true(fabs(r.snips.value - 1) < 1e-9);
    assert_true(fabs(r.dr.value - 1) < 0.05);
    fixed.order[0] = 1; /* always "b" */
    assert_int_equal(tl_ope_log_estimate(&log, 0, tl_ope_policy_fixed, &fixed, &r), TL_OK);
    assert_true(fabs(r.ips.value) < 1e-9);
    assert_int_equal(tl_ope_log_estimate(&log, 0, tl_ope_policy_uniform, NULL, &r), TL_OK);
    assert_true(fabs(r.ips.value - 0.5) < 1e-9);
    /* a bandit fitted on the first half prefers "a" */
    tl_bandit *b;
    assert_int_equal(tl_ope_fit_bandit(&log, 1200, TL_BANDIT_LINUCB, 0, 0.05, &b), TL_OK);
    assert_int_equal(tl_ope_log_estimate(&log, 1200, tl_ope_policy_bandit, b, &r), TL_OK);
    assert_int_equal(r.n, 200);
    assert_true(r.ips.value > 0.9);
    tl_bandit_free(b);
    assert_int_equal(tl_ope_log_estimate(&log, 5000, tl_ope_policy_uniform, NULL, &r),
                     TL_ENOTFOUND);
    tl_ope_log_free(&log);
    /* malformed: the propensity, the chosen row, the header */
    assert_int_equal(
        tl_test_write(path, "impression_id\tts\tuser\tpolicy\tpolicy_version\texperiment\tarm\t"
                            "decision\tchosen\tpropensity\tcandidates\tcontext\treward\n"
                            "i\t1\tu\tp\t0\t\t\t0\ta\t0\ta,b\t1,0,0,0,0,0,0,0,0,0,0,0\t1\n"),
        0);
    assert_int_equal(tl_ope_log_read(path, &log, &d), TL_EPARSE);
    assert_int_equal(d.line, 2);
    assert_int_equal(
        tl_test_write(path, "impression_id\tts\tuser\tpolicy\tpolicy_version\texperiment\tarm\t"
                            "decision\tchosen\tpropensity\tcandidates\tcontext\treward\n"
                            "i\t1\tu\tp\t0\t\t\t0\tc\t0.5\ta,b\t1,0,0,0,0,0,0,0,0,0,0,0\t1\n"),
        0);
    assert_int_equal(tl_ope_log_read(path, &log, &d), TL_EPARSE);
    assert_int_equal(tl_test_write(path, "user\titem\n"), 0);
    assert_int_equal(tl_ope_log_read(path, &log, &d), TL_EPARSE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_estimators_unbiased_and_cover),
        cmocka_unit_test(test_estimate_rejects_bad_samples),
        cmocka_unit_test(test_log_read_and_estimate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
