/* Per-client rate limits: a token bucket for each API key (by its public id) or, for requests
 * without a key, each client address. The buckets live in one fixed table made at start, so a
 * request allocates nothing; a stripe of mutexes guards them, so workers rarely wait on each
 * other. Nothing here knows HTTP: dispatch.c asks and answers 429. */
#ifndef TL_SERVER_RATELIMIT_H
#define TL_SERVER_RATELIMIT_H

#include <stddef.h>

typedef struct tl_ratelimit tl_ratelimit;

/* A table for rate requests a second with bursts of burst (0: the rate). NULL when rate is 0
 * (no limit) or memory ran out; tl__ratelimit_take(NULL, ...) always allows. */
tl_ratelimit *tl__ratelimit_new(int rate, int burst);
void tl__ratelimit_free(tl_ratelimit *rl);

/* Takes one token from the bucket of the client named by the bytes id[0..len) at monotonic
 * time now (seconds). Returns 0 when the request may go on, else the whole seconds (>= 1)
 * until a token is there again. Any thread. */
int tl__ratelimit_take(tl_ratelimit *rl, const void *id, size_t len, double now);

#endif
