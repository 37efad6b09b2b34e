/* The protocol's train/test split (PROTOCOL.md, Splits) as building blocks: the per-pair random
 * key, the per-user choice of held-out positives, and a split of an in-memory matrix that gives
 * the same pairs as tools/split.py, so that a tuner can carve a validation split from train
 * without writing files. The file-level `tailor split` (src/eval/split.c) uses the same blocks. */
#ifndef TL_CORE_HOLDOUT_H
#define TL_CORE_HOLDOUT_H

#include <stddef.h>
#include <stdint.h>

#include "core/data.h"

typedef enum tl_split_mode { TL_SPLIT_RANDOM, TL_SPLIT_TEMPORAL } tl_split_mode;

#define TL_HOLDOUT_MIN_POSITIVES 5 /* the protocol's user filter */
#define TL_HOLDOUT_DEFAULT_SEED 42

/* Parses "random" or "temporal"; TL_EINVAL otherwise. */
tl_err tl_holdout_mode_parse(const char *s, tl_split_mode *out);
const char *tl_holdout_mode_name(tl_split_mode mode);

/* k = max(1, floor(0.2 n + 0.5)) in exact integer arithmetic: how many of a user's n positives
 * are held out. */
static inline int64_t tl_holdout_test_count(int64_t n)
{
    int64_t k = (2 * n + 5) / 10;
    return k < 1 ? 1 : k;
}

/* The random split's key of a pair: splitmix64(seed XOR fnv1a64(user TAB item)). */
uint64_t tl_holdout_key(uint64_t seed, const char *user, size_t ulen, const char *item,
                        size_t ilen);

/* A timestamp as a key that sorts like the signed value. */
static inline uint64_t tl_holdout_ts_key(int64_t ts)
{
    return (uint64_t)ts ^ (1ULL << 63);
}

/* One positive of a user while choosing: its sort key (tl_holdout_key or tl_holdout_ts_key),
 * its tie-breaker (the item's rank in byte order, see tl_holdout_byte_ranks; distinct within a
 * user) and its position in the caller's arrays. */
typedef struct tl_holdout_ent {
    uint64_t key;
    int32_t tie;
    int32_t pos;
} tl_holdout_ent;

/* Chooses a user's held-out positives: sorts e[0..n) by (key, tie) and sets is_test[pos] to 1
 * for the first k (random) or the last k (temporal), 0 for the others; k from
 * tl_holdout_test_count(n). */
void tl_holdout_pick(tl_split_mode mode, tl_holdout_ent *e, int32_t n, uint8_t *is_test);

/* rank[i] = position of string i of in when all its strings are sorted byte by byte (memcmp,
 * a prefix first), as Python sorts bytes. *rank is malloc'd (the caller frees it).
 * TL_ENOMEM. */
tl_err tl_holdout_byte_ranks(const tl_intern *in, int32_t **rank);

/* Splits the rows of d->ui per PROTOCOL.md without re-binarizing: every stored cell is a
 * positive (its timestamp in d->ui.ts). Keys come from the id strings in d->users and
 * d->items, so the pairs equal split.py's on the same pairs with the same mode and seed.
 * min_positives: users with fewer stored cells are left out (empty rows in both); 0 = no
 * filter, as the protocol's validation split from train. train and test get d->ui's shape and
 * indices, with its weights and timestamps. Errors: TL_EINVAL for a temporal split of a matrix
 * without timestamps, TL_ENOMEM. */
tl_err tl_holdout_split(const tl_data *d, tl_split_mode mode, uint64_t seed, int min_positives,
                        tl_csr *train, tl_csr *test);

#endif
