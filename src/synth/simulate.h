/* A simulated library homepage with known truth, to measure row-ordering policies, off-policy
 * estimators and experiment designs against the value they really have.
 *
 * Patrons have an activity level, a visit rate, a share of visits on a phone and latent tastes
 * (per-row offsets). On each visit the page shows TL_SIM_ROWS rows in the order a policy picks;
 * the patron examines row i with probability tl_position_examination(i) and clicks an examined
 * row k with probability a(patron, k, context) = clamp(W_k . x + taste[patron][k]): the context
 * x is the shared TL_CTX_DIM vector (weekday, exam week, term, phone, activity) and W holds the
 * true context effects (exam weeks make the exams row attractive, weekends the events row,
 * phones the trending row, active patrons their own "for you" row). The oracle orders rows by
 * W_k . x, the best order a policy that sees only the context can reach. Everything is keyed by
 * (seed, patron, day): every policy meets the same visits and the same click coins. */
#ifndef TL_SYNTH_SIMULATE_H
#define TL_SYNTH_SIMULATE_H

#include <stddef.h>
#include <stdint.h>

#include "core/bandit.h"
#include "tailor/error.h"

#define TL_SIM_ROWS 7
/* Row kinds as the homepage names them, in the page's fixed (default) order. */
extern const char *const tl_sim_row_names[TL_SIM_ROWS];

typedef enum tl_sim_policy {
    TL_SIM_FIXED,
    TL_SIM_BANDIT,
    TL_SIM_ORACLE,
    TL_SIM_UNIFORM
} tl_sim_policy;
/* "fixed", "bandit", "oracle", "uniform" -> the policy, or -1. */
int tl_sim_policy_parse(const char *name);
const char *tl_sim_policy_name(tl_sim_policy p);

typedef struct tl_sim_world tl_sim_world;
/* patrons >= 1, days >= 1. */
tl_err tl_sim_world_new(int patrons, int days, uint64_t seed, tl_sim_world **out);
void tl_sim_world_free(tl_sim_world *w);
int tl_sim_world_patrons(const tl_sim_world *w);

/* Day d's calendar: weekday 0 = Monday (day 0 is a Monday), exam week, term time. */
int tl_sim_weekday(int day);
int tl_sim_exam_week(int day);
int tl_sim_term(int day);
/* The context vector of a visit. */
void tl_sim_context(const tl_sim_world *w, int patron, int day, int mobile, double *x);
/* The true click probability of row k for an examined row. */
double tl_sim_attract(const tl_sim_world *w, int patron, int k, const double *x);
/* The context-level mean W_k . x (the oracle's score). */
double tl_sim_mean_attract(int k, const double *x);

/* One logged decision: slot `slot` of a visit chose row `chosen` among cand[0..n_cand). */
typedef struct tl_sim_decision {
    int32_t patron;
    int16_t day;
    int8_t slot, chosen, n_cand;
    int8_t cand[TL_SIM_ROWS];
    double propensity;
    double reward; /* the click on that row (1/0), times tl_position_weight(slot) */
    double x[TL_CTX_DIM];
} tl_sim_decision;

/* One visit: who, when, and the clicks it got. */
typedef struct tl_sim_visit {
    int32_t patron;
    int16_t day;
    int16_t clicks;
    double expected; /* the exact expected clicks of the page shown */
} tl_sim_visit;

typedef struct tl_sim_run_opts {
    tl_sim_policy policy;
    tl_bandit_kind kind; /* the bandit's */
    double alpha, p_min; /* the bandit's */
    int log_decisions;   /* 1: fill result.log with every decision */
    int log_visits;      /* 1: fill result.visits */
} tl_sim_run_opts;
void tl_sim_run_opts_init(tl_sim_run_opts *o); /* fixed; LinUCB, alpha 0.3, p_min 0.01 */

typedef struct tl_sim_result {
    long n_visits;
    double clicks;   /* realized */
    double expected; /* sum over visits of the exact expected clicks of the page shown */
    double oracle;   /* the same for the oracle's page on the same visits */
    double *daily_expected, *daily_oracle; /* per day (days entries) */
    tl_sim_decision *log;
    size_t n_log;
    tl_sim_visit *visits;
    tl_bandit *bandit; /* the bandit's final state (policy bandit), owned */
} tl_sim_result;

tl_err tl_sim_run(const tl_sim_world *w, const tl_sim_run_opts *o, tl_sim_result *out);
void tl_sim_result_free(tl_sim_result *r);

/* The probabilities a target policy gives each row at the top slot for context x: fixed (the
 * first row), oracle (the best by W . x), uniform, or a bandit's (b). */
void tl_sim_top_probs(tl_sim_policy p, const tl_bandit *b, const double *x, double *probs);
/* The true value of a target policy at the top slot: the expected click on the top row over the
 * world's visit distribution (every patron and day weighted by its visit probability, both
 * devices by the patron's phone share), computed exactly. */
double tl_sim_true_top_value(const tl_sim_world *w, tl_sim_policy p, const tl_bandit *b);

/* Writes decisions as the impressions export (docs/EXPERIMENTS.md): header, one line each. */
tl_err tl_sim_write_log(const tl_sim_decision *log, size_t n, const char *policy, const char *path);

#endif
