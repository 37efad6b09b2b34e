/* Monotonic wall-clock seconds for progress reports and benchmarks (never for tests). */
#ifndef TL_UTIL_CLOCK_H
#define TL_UTIL_CLOCK_H

#include <time.h>

static inline double tl_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

#endif
