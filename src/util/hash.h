/* Hashes used for interning and for the protocol's random split (PROTOCOL.md). */
#ifndef TL_UTIL_HASH_H
#define TL_UTIL_HASH_H

#include <stddef.h>
#include <stdint.h>

#define TL_FNV64_OFFSET 14695981039346656037ULL
#define TL_FNV64_PRIME 1099511628211ULL

static inline uint64_t tl_fnv1a64_update(uint64_t h, const void *p, size_t n)
{
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ s[i]) * TL_FNV64_PRIME;
    return h;
}

static inline uint64_t tl_fnv1a64(const void *p, size_t n)
{
    return tl_fnv1a64_update(TL_FNV64_OFFSET, p, n);
}

static inline uint64_t tl_splitmix64(uint64_t x)
{
    uint64_t z = x + 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* A small, fast, seedable generator (xoshiro-style state advanced by splitmix64). */
typedef struct tl_rng {
    uint64_t s;
} tl_rng;

static inline uint64_t tl_rng_next(tl_rng *r)
{
    r->s += 0x9E3779B97F4A7C15ULL;
    uint64_t z = r->s;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* Uniform double in [0, 1). */
static inline double tl_rng_uniform(tl_rng *r)
{
    return (double)(tl_rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

#endif
