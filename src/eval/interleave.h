/* Team-draft interleaving (Radlinski et al. 2008): two rankers' lists merged into one, each
 * item credited to the team that drafted it, and a sign test of which team's items get clicked. */
#ifndef TL_EVAL_INTERLEAVE_H
#define TL_EVAL_INTERLEAVE_H

#include <stdint.h>

/* Merges a[0..na) and b[0..nb) into out[0..len) (returns how many were placed, <= len): in each
 * round the team with fewer picks (a coin from seed on a tie) adds its highest item not yet
 * shown. team[i] = 0 when out[i] came from a, 1 from b. Deterministic for a seed. */
int tl_team_draft(const int64_t *a, int na, const int64_t *b, int nb, int len, uint64_t seed,
                  int64_t *out, unsigned char *team);
/* The outcome of one interleaved list from its clicks (clicked[i] != 0: position i clicked):
 * 1 when a's items got more clicks, -1 when b's did, 0 for a tie. */
int tl_interleave_credit(const unsigned char *team, const unsigned char *clicked, int n);
/* Two-sided sign-test p-value of wins_a against wins_b (ties left out): exact binomial up to
 * 1,000 decided lists, the normal approximation beyond. */
double tl_interleave_pvalue(long wins_a, long wins_b);

#endif
