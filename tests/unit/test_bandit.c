/* bandit: propensity floors and sums, learning the best arm per context, the position model,
 * agreement between rank's draws and the stated probabilities, persistence. */
#include "support.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/bandit.h"
#include "util/hash.h"

#define NARMS 7

/* A context of the shared shape: bias, a weekday, exam week, term, mobile, activity. */
static void make_context(tl_rng *g, double *x)
{
    memset(x, 0, sizeof(double) * TL_CTX_DIM);
    x[TL_CTX_BIAS] = 1;
    x[TL_CTX_WEEKDAY + (int)(tl_rng_next(g) % 7)] = 1;
    x[TL_CTX_EXAM] = tl_rng_uniform(g) < 0.2;
    x[TL_CTX_TERM] = tl_rng_uniform(g) < 0.7;
    x[TL_CTX_MOBILE] = tl_rng_uniform(g) < 0.5;
    x[TL_CTX_ACTIVITY] = tl_rng_uniform(g);
}

/* The true click rate of arm k: arm 3 wins in exam weeks, arm 1 otherwise. */
static double truth(int k, const double *x)
{
    double base = 0.1 + 0.02 * k;
    if (k == 1)
        base = 0.5;
    if (k == 3)
        base = x[TL_CTX_EXAM] ? 0.8 : 0.2;
    return base;
}

static void test_rank_propensities(void **state)
{
    (void)state;
    for (int kind = 0; kind < 2; kind++) {
        tl_bandit *b;
        double p_min = 0.03;
        assert_int_equal(tl_bandit_new((tl_bandit_kind)kind, NARMS, TL_CTX_DIM, 1.0, p_min, &b),
                         TL_OK);
        tl_rng g = {42};
        int arms[NARMS] = {6, 0, 5, 1, 4, 2, 3};
        for (int round = 0; round < 300; round++) {
            double x[TL_CTX_DIM];
            make_context(&g, x);
            int n = 2 + round % (NARMS - 1), order[NARMS];
            double prob[NARMS];
            assert_int_equal(tl_bandit_rank(b, x, arms, n, (uint64_t)round, order, prob), TL_OK);
            /* Every decision: its probabilities over the remaining arms sum to 1, each >= p_min,
             * and the chosen arm's is the one rank reported. */
            for (int s = 0; s < n; s++) {
                double p[NARMS], sum = 0;
                assert_int_equal(tl_bandit_probs(b, x, order + s, n - s, p), TL_OK);
                for (int i = 0; i < n - s; i++) {
                    sum += p[i];
                    if (n - s >= 2)
                        assert_true(p[i] >= p_min - 1e-12);
                }
                assert_true(fabs(sum - 1) < 1e-9);
                /* order+s starts with the chosen arm */
                assert_true(fabs(p[0] - prob[s]) < 1e-12);
            }
            /* order is a permutation of arms[0..n) */
            for (int i = 0; i < n; i++) {
                int hits = 0;
                for (int j = 0; j < n; j++)
                    hits += order[j] == arms[i];
                assert_int_equal(hits, 1);
            }
            int k = order[0];
            tl_bandit_update(b, k, x, tl_rng_uniform(&g) < truth(k, x), 1.0);
        }
        tl_bandit_free(b);
    }
}

static void test_learns_best_arm_per_context(void **state)
{
    (void)state;
    for (int kind = 0; kind < 2; kind++) {
        tl_bandit *b;
        assert_int_equal(tl_bandit_new((tl_bandit_kind)kind, NARMS, TL_CTX_DIM, 0.5, 0.02, &b),
                         TL_OK);
        tl_rng g = {7};
        int arms[NARMS] = {0, 1, 2, 3, 4, 5, 6};
        for (int t = 0; t < 6000; t++) {
            double x[TL_CTX_DIM];
            make_context(&g, x);
            int order[NARMS];
            double prob[NARMS];
            assert_int_equal(tl_bandit_rank(b, x, arms, NARMS, (uint64_t)t * 31 + 1, order, prob),
                             TL_OK);
            tl_bandit_update(b, order[0], x, tl_rng_uniform(&g) < truth(order[0], x), 1.0);
        }
        double x[TL_CTX_DIM] = {1, 0, 0, 1, 0, 0,
                                0, 0, 1, 1, 0, 0.5}; /* a Wednesday of an exam week */
        assert_true(tl_bandit_prob_first(b, x, arms, NARMS, 3) > 0.8);
        x[TL_CTX_EXAM] = 0;
        assert_true(tl_bandit_prob_first(b, x, arms, NARMS, 1) > 0.8);
        assert_true(fabs(tl_bandit_mean(b, 1, x) - 0.5) < 0.1);
        assert_true(tl_bandit_prob_first(b, x, arms, NARMS, 6) >= 0.02 - 1e-12);
        assert_int_equal(tl_bandit_updates(b), 6000);
        tl_bandit_free(b);
    }
}

/* The frequency with which rank puts an arm first over many seeds matches prob_first. */
static void test_rank_draws_match_probabilities(void **state)
{
    (void)state;
    tl_bandit *b;
    assert_int_equal(tl_bandit_new(TL_BANDIT_THOMPSON, 4, TL_CTX_DIM, 1.0, 0.05, &b), TL_OK);
    tl_rng g = {3};
    double x[TL_CTX_DIM];
    int arms[4] = {0, 1, 2, 3};
    for (int t = 0; t < 200; t++) {
        make_context(&g, x);
        tl_bandit_update(b, t % 4, x, (t % 4 == 2) ? 0.6 : 0.4, 1.0);
    }
    make_context(&g, x);
    int counts[4] = {0};
    const int n = 20000;
    for (int s = 0; s < n; s++) {
        int order[4];
        double prob[4];
        assert_int_equal(tl_bandit_rank(b, x, arms, 4, (uint64_t)s, order, prob), TL_OK);
        counts[order[0]]++;
    }
    double total = 0;
    for (int k = 0; k < 4; k++) {
        double p = tl_bandit_prob_first(b, x, arms, 4, k);
        total += p;
        assert_true(p >= 0.05 - 1e-12);
        assert_true(fabs((double)counts[k] / n - p) < 4 * sqrt(p * (1 - p) / n) + 1e-3);
    }
    assert_true(fabs(total - 1) < 1e-9);
    /* same seed, same order */
    int o1[4], o2[4];
    double p1[4], p2[4];
    assert_int_equal(tl_bandit_rank(b, x, arms, 4, 99, o1, p1), TL_OK);
    assert_int_equal(tl_bandit_rank(b, x, arms, 4, 99, o2, p2), TL_OK);
    assert_memory_equal(o1, o2, sizeof o1);
    tl_bandit_free(b);
}

static void test_position_model(void **state)
{
    (void)state;
    assert_true(tl_position_examination(0) == 1.0);
    assert_true(tl_position_weight(0) == 1.0);
    for (int p = 1; p < 20; p++) {
        assert_true(tl_position_examination(p) < tl_position_examination(p - 1));
        assert_true(tl_position_examination(p) > 0);
        assert_true(fabs(tl_position_weight(p) * tl_position_examination(p) - 1) < 1e-12);
    }
    /* With weight = 1/examination the model learns the attractiveness, not the click rate at
     * the position it was shown in. */
    tl_bandit *b;
    assert_int_equal(tl_bandit_new(TL_BANDIT_LINUCB, 1, 1, 0.0, 0.0, &b), TL_OK);
    tl_rng g = {5};
    double one = 1;
    for (int t = 0; t < 20000; t++) {
        int pos = 5;
        int click = tl_rng_uniform(&g) < 0.6 * tl_position_examination(pos);
        tl_bandit_update(b, 0, &one, click, tl_position_weight(pos));
    }
    assert_true(fabs(tl_bandit_mean(b, 0, &one) - 0.6) < 0.03);
    tl_bandit_free(b);
}

static void test_choose_shared(void **state)
{
    (void)state;
    for (int kind = 0; kind < 2; kind++) {
        tl_bandit *b;
        enum { D = 4, N = 5 };
        assert_int_equal(tl_bandit_new((tl_bandit_kind)kind, 1, D, 0.3, 0.04, &b), TL_OK);
        tl_rng g = {11};
        const double w[D] = {0.2, -0.1, 0.5, 0.0};
        double cx[N * D], prob[N];
        for (int t = 0; t < 3000; t++) {
            for (int i = 0; i < N * D; i++)
                cx[i] = tl_rng_uniform(&g);
            int c;
            assert_int_equal(tl_bandit_choose(b, cx, N, (uint64_t)t, &c, prob), TL_OK);
            assert_true(c >= 0 && c < N);
            double sum = 0;
            for (int i = 0; i < N; i++) {
                sum += prob[i];
                assert_true(prob[i] >= 0.04 - 1e-12);
            }
            assert_true(fabs(sum - 1) < 1e-9);
            double r = 0;
            for (int f = 0; f < D; f++)
                r += w[f] * cx[c * D + f];
            tl_bandit_update_shared(b, cx + c * D, r + 0.05 * (tl_rng_uniform(&g) - 0.5), 1.0);
        }
        /* the candidate with the largest true score gets the greedy share */
        for (int i = 0; i < N * D; i++)
            cx[i] = 0;
        cx[2 * D + 2] = 1; /* candidate 2 has feature 2, worth 0.5 */
        cx[1 * D + 0] = 1; /* candidate 1: 0.2 */
        int c;
        assert_int_equal(tl_bandit_choose(b, cx, N, 1, &c, prob), TL_OK);
        assert_true(prob[2] > 0.8);
        /* too many candidates for p_min: the floor becomes 1/n */
        double many[30 * D], pm[30];
        for (int i = 0; i < 30 * D; i++)
            many[i] = tl_rng_uniform(&g);
        assert_int_equal(tl_bandit_choose(b, many, 30, 2, &c, pm), TL_OK);
        for (int i = 0; i < 30; i++)
            assert_true(pm[i] > 0.0333 - 1e-3);
        tl_bandit_free(b);
    }
}

static void test_persistence_and_errors(void **state)
{
    (void)state;
    tl_bandit *b, *c;
    assert_int_equal(tl_bandit_new(TL_BANDIT_THOMPSON, NARMS, TL_CTX_DIM, 0.7, 0.01, &b), TL_OK);
    tl_rng g = {9};
    double x[TL_CTX_DIM];
    for (int t = 0; t < 2500; t++) { /* past an exact refresh of A^-1 */
        make_context(&g, x);
        int k = (int)(tl_rng_next(&g) % NARMS);
        tl_bandit_update(b, k, x, tl_rng_uniform(&g) < truth(k, x), tl_position_weight(t % 3));
    }
    unsigned char *buf;
    size_t len;
    assert_int_equal(tl_bandit_save(b, &buf, &len), TL_OK);
    assert_memory_equal(buf, "TLBANDIT", 8);
    assert_int_equal(tl_bandit_load(buf, len, &c), TL_OK);
    assert_int_equal(tl_bandit_updates(c), 2500);
    int arms[NARMS] = {0, 1, 2, 3, 4, 5, 6};
    make_context(&g, x);
    for (int k = 0; k < NARMS; k++) {
        assert_true(fabs(tl_bandit_mean(b, k, x) - tl_bandit_mean(c, k, x)) < 1e-9);
        assert_true(fabs(tl_bandit_prob_first(b, x, arms, NARMS, k) -
                         tl_bandit_prob_first(c, x, arms, NARMS, k)) < 1e-9);
    }
    tl_bandit_free(c);
    assert_int_equal(tl_bandit_load(buf, len - 1, &c), TL_ECORRUPT);
    assert_null(c);
    buf[8] = 99; /* a future format version */
    assert_int_equal(tl_bandit_load(buf, len, &c), TL_EVERSION);
    buf[8] = 1;
    buf[0] = 'X';
    assert_int_equal(tl_bandit_load(buf, len, &c), TL_ECORRUPT);
    free(buf);
    /* invalid arguments */
    int dup[3] = {1, 1, 2}, order[3];
    double prob[3];
    assert_int_equal(tl_bandit_rank(b, x, dup, 3, 1, order, prob), TL_EINVAL);
    int out_of_range[2] = {0, NARMS};
    assert_int_equal(tl_bandit_rank(b, x, out_of_range, 2, 1, order, prob), TL_EINVAL);
    assert_int_equal(tl_bandit_choose(b, x, 1, 1, order, prob), TL_EINVAL); /* narms != 1 */
    tl_bandit_free(b);
    assert_int_equal(tl_bandit_new(TL_BANDIT_LINUCB, 10, TL_CTX_DIM, 1, 0.2, &b),
                     TL_EINVAL); /* 10*0.2 > 1 */
    assert_int_equal(tl_bandit_new(TL_BANDIT_LINUCB, 3, TL_BANDIT_MAX_DIM + 1, 1, 0.1, &b),
                     TL_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rank_propensities),
        cmocka_unit_test(test_learns_best_arm_per_context),
        cmocka_unit_test(test_rank_draws_match_probabilities),
        cmocka_unit_test(test_position_model),
        cmocka_unit_test(test_choose_shared),
        cmocka_unit_test(test_persistence_and_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
