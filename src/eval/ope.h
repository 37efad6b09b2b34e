/* Off-policy evaluation: how a target policy would have done, estimated from decisions logged
 * under another policy with known propensities. Inverse propensity scoring (IPS), its
 * self-normalized form (SNIPS) and the doubly robust estimator (DR), each with a normal 95%
 * confidence interval. */
#ifndef TL_EVAL_OPE_H
#define TL_EVAL_OPE_H

#include <stddef.h>

#include "tailor/error.h"

/* One logged decision among n_cand candidates. */
typedef struct tl_ope_sample {
    int n_cand;
    int chosen;           /* index of the logged choice among the candidates */
    double propensity;    /* the logging policy's probability of that choice (> 0) */
    double reward;        /* what the choice earned */
    const double *target; /* n_cand: the target policy's probabilities (sum 1) */
    const double *qhat;   /* n_cand: a reward model's predictions, or NULL (DR with q = 0) */
} tl_ope_sample;

typedef struct tl_ope_value {
    double value, se, lo, hi; /* estimate, standard error, 95% interval */
} tl_ope_value;

typedef struct tl_ope_result {
    tl_ope_value ips, snips, dr;
    double ess; /* effective sample size of the importance weights: (sum w)^2 / sum w^2 */
    size_t n;
} tl_ope_result;

/* TL_EINVAL when n is 0 or a sample is malformed (chosen out of range, propensity <= 0). */
tl_err tl_ope_estimate(const tl_ope_sample *s, size_t n, tl_ope_result *out);

#endif
