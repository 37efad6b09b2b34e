/* Contextual bandits for ordering a page's rows (arms) and choosing an edition's cover.
 * Linear models over a context vector; exploration bounded below by p_min so that the
 * logged propensities stay usable for off-policy evaluation.
 *
 * Each arm has a ridge regression (A = I + sum x x^T, b = sum reward*weight*x, theta = A^-1 b).
 * LinUCB scores an arm theta.x + alpha*sqrt(x^T A^-1 x) and picks the best; Thompson sampling
 * picks the arm whose posterior draw is best, its probabilities estimated from a fixed number of
 * draws seeded by the context alone (so the policy is a fixed function of the context and
 * tl_bandit_prob_first agrees with tl_bandit_rank). Either way the choice is then made from
 * p_i = p_min + (1 - m*p_min) * greedy_i over the m arms left, so every arm keeps p_min.
 * rank/choose/prob_first only read the bandit: several threads may call them at once; update
 * and the others need the caller's exclusive lock. */
#ifndef TL_CORE_BANDIT_H
#define TL_CORE_BANDIT_H

#include <stddef.h>
#include <stdint.h>

#include "tailor/error.h"

/* The context vector (docs: exp_shared): [0] bias 1; [1..7] weekday one-hot Mon..Sun; [8] exam
 * week; [9] term time; [10] device mobile; [11] activity log1p(events in 90 days)/5 capped at 1. */
#define TL_CTX_DIM 12
#define TL_CTX_BIAS 0
#define TL_CTX_WEEKDAY 1 /* + 0 (Monday) .. 6 (Sunday) */
#define TL_CTX_EXAM 8
#define TL_CTX_TERM 9
#define TL_CTX_MOBILE 10
#define TL_CTX_ACTIVITY 11

/* The largest context dimension a bandit accepts (rank/choose keep d x d scratch on the stack). */
#define TL_BANDIT_MAX_DIM 64

/* The most arms one rank/probs decision may choose among. */
#define TL_BANDIT_MAX_CHOICES 256

typedef struct tl_bandit tl_bandit;
typedef enum tl_bandit_kind { TL_BANDIT_LINUCB, TL_BANDIT_THOMPSON } tl_bandit_kind;

/* narms arms with a disjoint linear model each over dim context features; alpha: exploration
 * (LinUCB's width / Thompson's posterior scale); p_min: every available arm's probability at
 * every decision is at least p_min (p_min * n <= 1 is required). */
tl_err tl_bandit_new(tl_bandit_kind kind, int narms, int dim, double alpha, double p_min,
                     tl_bandit **out);
void tl_bandit_free(tl_bandit *b);
int tl_bandit_narms(const tl_bandit *b);
int tl_bandit_dim(const tl_bandit *b);
tl_bandit_kind tl_bandit_get_kind(const tl_bandit *b);

/* Orders the n available arms arms[0..n) for context x[0..dim): writes order[0..n) (arm ids)
 * and prob[0..n): prob[i] = the probability with which order[i] was chosen for slot i among
 * the arms not yet placed (so each decision's probabilities over its choices sum to 1 and
 * each is >= p_min while >= 2 choices remain). Deterministic for a given seed. Arms must be
 * distinct and in [0, narms). */
tl_err tl_bandit_rank(const tl_bandit *b, const double *x, const int *arms, int n, uint64_t seed,
                      int *order, double *prob);
/* The probabilities of one decision: probs[i] = the probability that arms[i] is chosen among
 * arms[0..n) for context x (what tl_bandit_rank uses for each slot). */
tl_err tl_bandit_probs(const tl_bandit *b, const double *x, const int *arms, int n, double *probs);
/* The probability that the policy puts `arm` first among arms[0..n) for context x (for OPE);
 * 0 when arm is not among them or the input is invalid. */
double tl_bandit_prob_first(const tl_bandit *b, const double *x, const int *arms, int n, int arm);
/* The model's expected reward for arm in context x (theta.x), without exploration. */
double tl_bandit_mean(const tl_bandit *b, int arm, const double *x);
/* One reward for arm in context x; weight: an importance weight (e.g. the position-bias
 * correction tl_position_weight below). The model regresses reward*weight on x, so that with
 * weight = 1/examination it learns the arm's attractiveness free of its position. */
void tl_bandit_update(tl_bandit *b, int arm, const double *x, double reward, double weight);

/* Examination probability model (cascade-like, 1 at position 0, decreasing): a click at a
 * lower position counts for more. tl_position_weight(p) = 1 / examination(p). */
double tl_position_examination(int position);
double tl_position_weight(int position);

/* A shared-parameter linear model: scores candidates by their own feature vectors (edition
 * choice: features of the edition crossed with the patron's history), same p_min rule (the
 * floor is min(p_min, 1/n) when n candidates are too many for p_min). Needs narms = 1. */
tl_err tl_bandit_choose(const tl_bandit *b, const double *cand_x /* n*dim */, int n, uint64_t seed,
                        int *chosen, double *prob /* n: every candidate's probability */);
void tl_bandit_update_shared(tl_bandit *b, const double *x, double reward, double weight);

/* Persistence: a versioned little-endian byte image (magic, format version, kind, sizes, update
 * count). *buf is malloc'd (free it). Load checks the magic, version and sizes (TL_ECORRUPT,
 * TL_EVERSION). */
tl_err tl_bandit_save(const tl_bandit *b, unsigned char **buf, size_t *len);
tl_err tl_bandit_load(const unsigned char *buf, size_t len, tl_bandit **out);
uint64_t tl_bandit_updates(const tl_bandit *b); /* how many updates: the state's version */

#endif
