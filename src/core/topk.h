/* Top-k selection: a threshold from block maxima plus quickselect for long rows, a bounded
 * min-heap otherwise; O(n) for the usual rows, no allocation, thread-safe. */
#ifndef TL_CORE_TOPK_H
#define TL_CORE_TOPK_H

#include <stdint.h>

/* Writes the k best (score, index) of scores[0..n), best first, skipping -INFINITY and NaN;
 * ties go to the lower index. Returns how many were written (<= k). */
int tl_topk(const float *scores, int32_t n, int k, int32_t *idx, float *val);

#endif
