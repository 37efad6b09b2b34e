/* seqtest: the chi-square tail, the SRM check trips on an injected imbalance and not on a fair
 * split, and mSPRT keeps its false positives under alpha when looked at after every batch while
 * naive repeated z tests do not, and still finds a real effect. */
#include "support.h"

#include <math.h>

#include "eval/seqtest.h"
#include "util/hash.h"

static double normal(tl_rng *g)
{
    double u1 = tl_rng_uniform(g), u2 = tl_rng_uniform(g);
    return sqrt(-2.0 * log(1.0 - u1)) * cos(6.283185307179586 * u2);
}

static void test_distributions(void **state)
{
    (void)state;
    assert_true(fabs(tl_normal_p_two_sided(1.959963984540054) - 0.05) < 1e-9);
    assert_true(fabs(tl_chisq_sf(3.841458820694124, 1) - 0.05) < 1e-7);
    assert_true(fabs(tl_chisq_sf(5.991464547107979, 2) - 0.05) < 1e-7);
    assert_true(fabs(tl_chisq_sf(18.307038053275146, 10) - 0.05) < 1e-7);
    assert_true(fabs(tl_chisq_sf(0, 3) - 1) < 1e-12);
    assert_true(tl_chisq_sf(200, 2) < 1e-40);
}

static void test_srm(void **state)
{
    (void)state;
    long fair[2] = {50210, 49790};
    double half[2] = {0.5, 0.5};
    assert_true(tl_srm_pvalue(fair, half, 2) > TL_SRM_ALPHA);
    long skewed[2] = {51000, 49000}; /* a 1% imbalance over 100,000 patrons */
    assert_true(tl_srm_pvalue(skewed, half, 2) < TL_SRM_ALPHA);
    long three[3] = {20100, 39900, 40000};
    double shares[3] = {0.2, 0.4, 0.4};
    assert_true(tl_srm_pvalue(three, shares, 3) > TL_SRM_ALPHA);
    three[0] = 18000;
    assert_true(tl_srm_pvalue(three, shares, 3) < TL_SRM_ALPHA);
}

/* n_seq sequences of 50 looks, each adding 100 observations per arm of N(effect, 1) vs N(0, 1). */
static void run_looks(double effect, int n_seq, int *naive_fp, int *msprt_fp)
{
    tl_rng g = {77 + (uint64_t)(effect * 1000)};
    *naive_fp = *msprt_fp = 0;
    for (int s = 0; s < n_seq; s++) {
        double sa = 0, sb = 0, n = 0;
        tl_msprt m;
        tl_msprt_init(&m, 0.1 * 0.1);
        int naive = 0, seq = 0;
        for (int look = 0; look < 50; look++) {
            for (int i = 0; i < 100; i++) {
                sa += normal(&g);
                sb += effect + normal(&g);
            }
            n += 100;
            tl_diff d = tl_diff_means(sa / n, 1, n, sb / n, 1, n);
            naive |= fabs(d.diff / sqrt(d.var)) > 1.959963984540054;
            seq |= tl_msprt_look(&m, d.diff, d.var) <= 0.05;
        }
        assert_int_equal(m.looks, 50);
        *naive_fp += naive;
        *msprt_fp += seq;
    }
}

static void test_msprt_always_valid(void **state)
{
    (void)state;
    int naive, seq;
    run_looks(0, 400, &naive, &seq);
    assert_true(seq <= 0.05 * 400);  /* within alpha though looked at 50 times */
    assert_true(naive > 0.12 * 400); /* peeking inflates the naive test well past alpha */
    run_looks(0.1, 100, &naive, &seq);
    assert_true(seq >= 90); /* a real effect is found */
    /* the p-value never increases */
    tl_msprt m;
    tl_msprt_init(&m, 0.01);
    double p1 = tl_msprt_look(&m, 0.2, 0.01), p2 = tl_msprt_look(&m, 0.0, 0.01);
    assert_true(p2 <= p1);
    assert_true(tl_msprt_look(&m, 0.1, 0) == p2); /* no variance: ignored */
    assert_true(fabs(tl_msprt_lambda(0, 1, 1) - sqrt(0.5)) < 1e-12);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_distributions),
        cmocka_unit_test(test_srm),
        cmocka_unit_test(test_msprt_always_valid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
