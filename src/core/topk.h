/* Top-k selection: a threshold from block maxima plus quickselect for long rows, a bounded
 * min-heap otherwise; O(n) for the usual rows, no allocation, thread-safe. Also the one
 * quickselect every layer uses, and the short best-first lists explanations keep. */
#ifndef TL_CORE_TOPK_H
#define TL_CORE_TOPK_H

#include <stdint.h>

/* Writes the k best (score, index) of scores[0..n), best first, skipping -INFINITY and NaN;
 * ties go to the lower index. Returns how many were written (<= k). */
int tl_topk(const float *scores, int32_t n, int k, int32_t *idx, float *val);

/* A scored index. The order of every selection here: a is better than b when a.v > b.v, or
 * a.v == b.v and a.i < b.i; with distinct indices that is a strict total order, so what is
 * selected never depends on the algorithm or the input's order. */
typedef struct tl_scored {
    float v;
    int32_t i;
} tl_scored;

/* Reorders a[0..n) so that a[k-1] is the k-th best of them, a[0..k-1) the better ones and
 * a[k..n) the worse ones, each part in no particular order. Quickselect with median-of-three
 * pivots: O(n) expected, in place. Needs 1 <= k <= n, distinct indices and no NaN. */
void tl_topk_select(tl_scored *a, int64_t n, int64_t k);

/* Inserts (i, v) into the list idx/val[0..n), kept best first and at most k long, behind
 * every entry whose value is >= v (ties keep the order of insertion); into a full list only
 * when v beats its last entry, which drops out. Returns the new length. For the few entries
 * an explanation keeps: O(k) per insertion. */
int tl_topk_insert(int32_t *idx, float *val, int n, int k, int32_t i, float v);

#endif
