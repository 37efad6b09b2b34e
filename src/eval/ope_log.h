/* Off-policy evaluation from an impressions log (the export format of docs/EXPERIMENTS.md):
 * reads the decisions, fits a cross-fitted reward model for the doubly robust estimator and
 * estimates a target policy's value at the top slot (decision 0: which row a patron sees first
 * and what that row earned). Later slots are not estimated: their candidates depend on the
 * logging policy's earlier choices, so a target policy's own page cannot be replayed there. */
#ifndef TL_EVAL_OPE_LOG_H
#define TL_EVAL_OPE_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "core/bandit.h"
#include "eval/ope.h"
#include "tailor/error.h"

#define TL_OPE_MAX_ARMS 32 /* distinct row names in one log */

typedef struct tl_ope_row {
    int decision; /* the slot: 0 = top row */
    int chosen;   /* arm id (an index of tl_ope_log.names) */
    int n_cand;
    int cand[TL_OPE_MAX_ARMS]; /* arm ids available at this decision */
    double propensity, reward;
    double x[TL_CTX_DIM];
    long long ts;
    uint64_t group; /* a hash of the patron (else the impression): the cross-fitting folds */
} tl_ope_row;

typedef struct tl_ope_log {
    tl_ope_row *rows;
    size_t n, cap;
    int narms;
    char names[TL_OPE_MAX_ARMS][64];
} tl_ope_log;

/* Reads a log file (plain or .gz). TL_EPARSE with d naming the line on a malformed one. */
tl_err tl_ope_log_read(const char *path, tl_ope_log *out, tl_diag *d);
/* One line of an export (lineno 1: the header, checked; without its newline; line is split in
 * place) added to log (zeroed before the first); src names the source in d's messages. */
tl_err tl_ope_log_line(tl_ope_log *log, char *line, size_t len, long lineno, const char *src,
                       tl_diag *d);
/* Adds one decision (names interned); for callers that build a log in memory. */
tl_err tl_ope_log_add(tl_ope_log *log, const tl_ope_row *row);
/* The arm id of a name, added when new; -1 when the log holds TL_OPE_MAX_ARMS names already. */
int tl_ope_log_arm(tl_ope_log *log, const char *name);
void tl_ope_log_free(tl_ope_log *log);

/* A target policy: probs[i] = its probability of choosing row->cand[i] at row's decision. */
typedef void (*tl_ope_policy_fn)(void *ctx, const tl_ope_log *log, const tl_ope_row *row,
                                 double *probs);

/* Built-in targets. fixed: the first candidate in `order` (arm ids, best first; candidates not in
 * it after, in log order); uniform; greedy: a bandit's probabilities (ctx = the tl_bandit). */
typedef struct tl_ope_fixed {
    int order[TL_OPE_MAX_ARMS];
    int n;
} tl_ope_fixed;
void tl_ope_policy_fixed(void *ctx, const tl_ope_log *log, const tl_ope_row *row, double *probs);
void tl_ope_policy_uniform(void *ctx, const tl_ope_log *log, const tl_ope_row *row, double *probs);
void tl_ope_policy_bandit(void *ctx, const tl_ope_log *log, const tl_ope_row *row, double *probs);

/* Fits a bandit's linear models on the log's top-slot decisions (decision 0: their rewards need
 * no position correction) with ts < before (all when before is 0). */
tl_err tl_ope_fit_bandit(const tl_ope_log *log, long long before, tl_bandit_kind kind, double alpha,
                         double p_min, tl_bandit **out);

/* IPS, SNIPS and DR of the target at decision 0 over the rows with ts >= since (0: all); DR's
 * reward model is a per-arm ridge regression on the context, cross-fitted over two folds of
 * patrons (each fold's predictions come from a model fitted on the other fold's top-slot
 * decisions). TL_ENOTFOUND when no decision-0 row is left. */
tl_err tl_ope_log_estimate(const tl_ope_log *log, long long since, tl_ope_policy_fn target,
                           void *ctx, tl_ope_result *out);

#endif
