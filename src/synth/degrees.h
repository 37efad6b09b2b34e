/* Per-user degrees from activity weights, shared by the synthetic generators (powerlaw.c,
 * shapes.c): one scale for all users, found by bisection. */
#ifndef TL_SYNTH_DEGREES_H
#define TL_SYNTH_DEGREES_H

#include <stdint.h>

/* Sets indptr[u + 1] = w[u] * scale rounded and clamped to [lo, hi] for the users 0..n), with
 * the largest scale whose degrees sum to at most total, and returns that sum: the caller hands
 * out the rounding shortfall its own way. indptr[0] is not touched. */
int64_t tl__synth_scale_degrees(const double *w, int32_t n, int64_t lo, int64_t hi, int64_t total,
                                int64_t *indptr);

#endif
