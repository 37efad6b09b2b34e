/* simulate: determinism, the oracle's page is the best for the context, the bandit beats fixed
 * order, uniform logging's propensities, the exact true value against a Monte Carlo estimate, and
 * the written log reads back through the OPE reader. */
#include "support.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "eval/ope_log.h"
#include "synth/simulate.h"

static void test_runs(void **state)
{
    (void)state;
    tl_sim_world *w;
    assert_int_equal(tl_sim_world_new(800, 28, 5, &w), TL_OK);
    tl_sim_run_opts o;
    tl_sim_run_opts_init(&o);
    tl_sim_result f1, f2, orc, bandit, uni;
    assert_int_equal(tl_sim_run(w, &o, &f1), TL_OK);
    assert_int_equal(tl_sim_run(w, &o, &f2), TL_OK);
    assert_true(f1.n_visits > 500);
    assert_int_equal(f1.n_visits, f2.n_visits);
    assert_true(f1.clicks == f2.clicks && f1.expected == f2.expected);
    o.policy = TL_SIM_ORACLE;
    assert_int_equal(tl_sim_run(w, &o, &orc), TL_OK);
    assert_int_equal(orc.n_visits, f1.n_visits); /* every policy meets the same visits */
    assert_true(fabs(orc.expected - orc.oracle) < 1e-6);
    assert_true(orc.expected > f1.expected);
    o.policy = TL_SIM_BANDIT;
    assert_int_equal(tl_sim_run(w, &o, &bandit), TL_OK);
    assert_true(bandit.expected > f1.expected);
    assert_true(bandit.expected < orc.expected);
    assert_true(tl_bandit_updates(bandit.bandit) == (uint64_t)bandit.n_visits * TL_SIM_ROWS);
    o.policy = TL_SIM_UNIFORM;
    o.log_decisions = 1;
    assert_int_equal(tl_sim_run(w, &o, &uni), TL_OK);
    assert_int_equal(uni.n_log, (size_t)uni.n_visits * TL_SIM_ROWS);
    for (size_t i = 0; i < uni.n_log; i++) {
        assert_true(fabs(uni.log[i].propensity * uni.log[i].n_cand - 1) < 1e-12);
        assert_int_equal(uni.log[i].cand[0], uni.log[i].chosen);
    }
    /* the true top-slot value of fixed order against the click rate of the top row logged under
     * uniform logging when the first row happened to be row 0 */
    double hits = 0, n = 0;
    for (size_t i = 0; i < uni.n_log; i++)
        if (uni.log[i].slot == 0 && uni.log[i].chosen == 0) {
            hits += uni.log[i].reward;
            n++;
        }
    double truth = tl_sim_true_top_value(w, TL_SIM_FIXED, NULL);
    assert_true(fabs(hits / n - truth) < 4 * sqrt(truth * (1 - truth) / n));
    assert_true(tl_sim_true_top_value(w, TL_SIM_ORACLE, NULL) > truth);
    /* the log file reads back */
    const char *path = tl_test_tmp("sim.tsv");
    assert_int_equal(tl_sim_write_log(uni.log, uni.n_log, "uniform", path), TL_OK);
    tl_ope_log log;
    tl_diag d;
    assert_int_equal(tl_ope_log_read(path, &log, &d), TL_OK);
    assert_int_equal(log.n, uni.n_log);
    assert_int_equal(log.narms, TL_SIM_ROWS);
    tl_ope_log_free(&log);
    tl_sim_result_free(&f1);
    tl_sim_result_free(&f2);
    tl_sim_result_free(&orc);
    tl_sim_result_free(&bandit);
    tl_sim_result_free(&uni);
    tl_sim_world_free(w);
    assert_int_equal(tl_sim_world_new(0, 10, 1, &w), TL_EINVAL);
    assert_int_equal(tl_sim_policy_parse("oracle"), TL_SIM_ORACLE);
    assert_int_equal(tl_sim_policy_parse("nope"), -1);
}

static void test_calendar(void **state)
{
    (void)state;
    assert_int_equal(tl_sim_weekday(0), 0);
    assert_int_equal(tl_sim_weekday(13), 6);
    assert_int_equal(tl_sim_exam_week(21), 1);
    assert_int_equal(tl_sim_exam_week(20), 0);
    assert_int_equal(tl_sim_term(84), 0);
    assert_int_equal(tl_sim_term(83), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_runs),
        cmocka_unit_test(test_calendar),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
