/* tailor simulate: runs a homepage row-ordering policy in the simulator of src/synth/simulate.c
 * (known truth) and prints its cumulative reward and its regret against the oracle, with fixed
 * order's on the same visits for scale. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "synth/simulate.h"

typedef struct args {
    int patrons, days, policy, kind, json;
    uint64_t seed;
    double alpha, p_min;
    const char *log_out;
} args;

static const tl_opt opts[] = {
    {"patrons", 0, TL_OPT_INT, "N", "5000", 1, 10000000, TL_OPT_AT(args, patrons),
     "simulated patrons"},
    {"days", 0, TL_OPT_INT, "D", "30", 1, 3650, TL_OPT_AT(args, days),
     "simulated days (day 0 is a Monday)"},
    {"seed", 0, TL_OPT_SEED, "S", "1", 0, 0, TL_OPT_AT(args, seed), "the world's seed"},
    {"policy", 0, TL_OPT_CHOICE, "fixed|bandit|oracle|uniform", NULL, 0, 0, TL_OPT_AT(args, policy),
     "fixed: the page's default row order; bandit: a contextual bandit learning\n"
     "online; oracle: the best order for each context (knows the truth); uniform:\n"
     "a random order (a logging policy for tailor ope)"},
    {"bandit", 0, TL_OPT_CHOICE, "linucb|thompson", "linucb", 0, 0, TL_OPT_AT(args, kind),
     "the bandit's algorithm"},
    {"alpha", 0, TL_OPT_NUM, "X", "0.3", 0, 100, TL_OPT_AT(args, alpha),
     "the bandit's exploration (LinUCB's width, Thompson's posterior scale)"},
    {"p-min", 0, TL_OPT_NUM, "P", "0.01", 0, 1.0 / TL_SIM_ROWS, TL_OPT_AT(args, p_min),
     "the least probability every row keeps at every decision"},
    {"log-out", 0, TL_OPT_STR, "FILE", NULL, 0, 0, TL_OPT_AT(args, log_out),
     "also write every decision in the impressions export format (for tailor ope)"},
    {"json", 0, TL_OPT_FLAG, NULL, NULL, 0, 0, TL_OPT_AT(args, json), "print JSON"},
    {NULL},
};

static const tl_cmd_def def = {
    .name = "simulate",
    .synopsis = "simulate --policy fixed|bandit|oracle|uniform [--patrons N] [--days D] [--seed S] "
                "[--json]",
    .about =
        "Runs a homepage row-ordering policy in a simulated library whose patrons' tastes and\n"
        "click model (position bias, weekday and exam-week effects) are known, and prints the\n"
        "cumulative reward (clicks), the regret against the oracle (the expected clicks lost\n"
        "to the best order for each context) and fixed order's regret on the same visits.\n"
        "docs/EXPERIMENTS.md describes the model.",
    .opts = opts,
};

static int run(const tl_cli *cli, int argc, char **argv)
{
    (void)cli;
    args a;
    memset(&a, 0, sizeof a);
    a.policy = -1;
    int first, code = tl_opt_parse(&def, &a, argc, argv, &first);
    if (code != TL_OPT_RUN)
        return code;
    if (a.policy < 0)
        return tl_opt_usage_error(&def, "needs --policy fixed, bandit, oracle or uniform");
    tl_sim_world *w;
    tl_err rc = tl_sim_world_new(a.patrons, a.days, a.seed, &w);
    if (rc != TL_OK)
        return tl_cli_fail("simulate", rc, NULL);
    tl_sim_run_opts o;
    tl_sim_run_opts_init(&o);
    o.policy = (tl_sim_policy)a.policy;
    o.kind = a.kind ? TL_BANDIT_THOMPSON : TL_BANDIT_LINUCB;
    o.alpha = a.alpha;
    o.p_min = a.p_min;
    o.log_decisions = a.log_out != NULL;
    tl_sim_result r, fixed;
    memset(&fixed, 0, sizeof fixed);
    rc = tl_sim_run(w, &o, &r);
    tl_sim_run_opts fo;
    tl_sim_run_opts_init(&fo);
    if (rc == TL_OK)
        rc = tl_sim_run(w, &fo, &fixed);
    if (rc == TL_OK && a.log_out)
        rc = tl_sim_write_log(r.log, r.n_log, tl_sim_policy_name(o.policy), a.log_out);
    tl_sim_world_free(w);
    if (rc != TL_OK) {
        tl_sim_result_free(&r);
        tl_sim_result_free(&fixed);
        return tl_cli_fail(a.log_out && rc == TL_EIO ? a.log_out : "simulate", rc, NULL);
    }
    double regret = r.oracle - r.expected, fixed_regret = fixed.oracle - fixed.expected;
    double closed = fixed_regret > 0 ? 1 - regret / fixed_regret : 0;
    if (a.json) {
        json_t *j =
            json_pack("{s:s,s:i,s:i,s:I,s:I,s:f,s:f,s:f,s:f,s:f,s:f}", "policy",
                      tl_sim_policy_name(o.policy), "patrons", a.patrons, "days", a.days, "seed",
                      (json_int_t)a.seed, "visits", (json_int_t)r.n_visits, "reward", r.clicks,
                      "expected_reward", r.expected, "oracle_expected_reward", r.oracle, "regret",
                      regret, "fixed_regret", fixed_regret, "gap_closed", closed);
        if (o.policy == TL_SIM_BANDIT)
            json_object_set_new(j, "bandit",
                                json_pack("{s:s,s:f,s:f}", "algorithm",
                                          a.kind ? "thompson" : "linucb", "alpha", a.alpha, "p_min",
                                          a.p_min));
        rc = tl_cli_print_json(json_dumps(j, JSON_COMPACT), 0);
        json_decref(j);
    } else {
        printf("policy %s, %d patrons, %d days, seed %llu: %ld visits\n",
               tl_sim_policy_name(o.policy), a.patrons, a.days, (unsigned long long)a.seed,
               r.n_visits);
        printf("cumulative reward  %.0f clicks (expected %.1f)\n", r.clicks, r.expected);
        printf("oracle             %.1f expected clicks\n", r.oracle);
        printf("regret             %.1f expected clicks (%.2f%% of the oracle's)\n", regret,
               r.oracle > 0 ? 100 * regret / r.oracle : 0);
        printf("fixed order regret %.1f; gap to the oracle closed: %.1f%%\n", fixed_regret,
               100 * closed);
        rc = fflush(stdout) == 0 ? TL_OK : TL_EIO;
    }
    tl_sim_result_free(&r);
    tl_sim_result_free(&fixed);
    return rc == TL_OK ? TL_EXIT_OK : tl_cli_fail("simulate", rc, NULL);
}

const tl_cmd tl_cmd_simulate = {
    &def, "run a row-ordering policy in the simulated library (known truth)", run};
