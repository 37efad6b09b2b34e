/* Re-rankers: a list of n chosen again, greedily, from a larger pool of scored candidates,
 * trading some relevance for what a list of the most relevant items lacks. Each reorders only:
 * the scores stay the model's. Core only; the service applies them (src/service/recommend.c).
 * - MMR, maximal marginal relevance (Carbonell & Goldstein, SIGIR 1998): each pick maximizes
 *   lambda * relevance - (1 - lambda) * its highest similarity to the items picked before
 *   (Jaccard over subjects and creators, facets.h).
 * - Calibration (Steck, "Calibrated Recommendations", RecSys 2018): each pick maximizes
 *   (1 - lambda) * relevance - lambda * KL(p || q~), p the subject distribution of the patron's
 *   history, q~ that of the list with the pick, smoothed toward p (alpha = 0.01).
 * - A cap on the items of one creator (the first author) in a list.
 * Relevance is the model's score min-max normalized over the pool. With several on, the
 * calibration term is added to the MMR term, and the cap filters both. */
#ifndef TL_CORE_RERANK_H
#define TL_CORE_RERANK_H

#include <stdint.h>

#include "core/facets.h"

#define TL_RERANK_ALPHA 0.01f /* Steck's smoothing of the list's distribution toward p */

typedef struct tl_rerank_spec {
    float mmr;           /* MMR's lambda in [0, 1]; 1 or more = off (relevance alone) */
    float calibrate;     /* calibration's lambda in [0, 1]; 0 or less = off */
    int max_per_creator; /* at most this many items of one first creator; 0 = no cap */
} tl_rerank_spec;

/* Whether s changes anything. */
int tl_rerank_on(const tl_rerank_spec *s);

/* The pool a list of n draws from: 5n, at least 50. */
int tl_rerank_pool(int n);

/* Chooses up to n of the pool items[0..n_pool) (scores[] theirs, best first as the model
 * ranked them; item indices of f) and moves them, in the order chosen, to the front of items
 * and scores; *n_out = how many (fewer than n only when the creator cap leaves too few). The
 * rest follow in no particular order. hist/hist_w[0..n_hist) is the patron's history for
 * calibration (hist_w NULL: all 1; items without subjects count for nothing; no subjects at
 * all: no calibration). Items without features are like no other. Deterministic: ties go to
 * the better-ranked candidate. One allocation (TL_ENOMEM); the work is n_pool x n. */
tl_err tl_rerank_choose(const tl_facets *f, const tl_rerank_spec *s, const int32_t *hist,
                        const float *hist_w, int32_t n_hist, int32_t *items, float *scores,
                        int n_pool, int n, int *n_out);

/* The list's miscalibration KL(p || q~) of Steck's paper (smoothed by TL_RERANK_ALPHA), p from
 * the history, q from items[0..n); 0 when the history has no subjects. For tests and
 * measurements; allocates (-1 on failure). */
double tl_rerank_miscalibration(const tl_facets *f, const int32_t *hist, const float *hist_w,
                                int32_t n_hist, const int32_t *items, int n);

#endif
