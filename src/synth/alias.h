/* Walker/Vose alias tables: O(1) draws from a fixed discrete distribution, the sampler behind
 * both synthetic generators (item popularity, subjects, departments). Internal to src/synth. */
#ifndef TL_SYNTH_ALIAS_H
#define TL_SYNTH_ALIAS_H

#include <stdint.h>

#include "tailor/error.h"
#include "util/hash.h"

typedef struct tl_alias {
    int32_t n;
    float *prob;    /* n: chance of keeping column i rather than taking alias[i] */
    int32_t *alias; /* n */
} tl_alias;

/* Builds a table over n >= 1 non-negative weights with a positive sum. TL_EINVAL otherwise,
 * TL_ENOMEM. a is written only on success. */
tl_err tl_alias_init(tl_alias *a, const double *w, int32_t n);
void tl_alias_release(tl_alias *a);

static inline int32_t tl_alias_draw(const tl_alias *a, tl_rng *r)
{
    uint64_t x = tl_rng_next(r);
    /* High bits pick the column (multiply-shift, no modulo bias to speak of), low 24 bits
     * the coin: independent enough for a simulation. */
    int32_t i = (int32_t)(((x >> 32) * (uint64_t)a->n) >> 32);
    float coin = (float)(x & 0xFFFFFF) * (1.0f / 16777216.0f);
    return coin < a->prob[i] ? i : a->alias[i];
}

#endif
