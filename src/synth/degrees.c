/* Degrees from activity weights by bisection on one scale (synth/degrees.h). */
#include "synth/degrees.h"

static int64_t deg_at(double w, double scale, int64_t lo, int64_t hi)
{
    double x = w * scale;
    int64_t d = x >= (double)hi ? hi : (int64_t)(x + 0.5);
    return d < lo ? lo : d > hi ? hi : d;
}

int64_t tl__synth_scale_degrees(const double *w, int32_t n, int64_t lo, int64_t hi, int64_t total,
                                int64_t *indptr)
{
    double slo = 0, shi = n ? (double)total / n : 0;
    for (int it = 0; it < 200; it++) {
        int64_t t = 0;
        for (int32_t u = 0; u < n; u++)
            t += deg_at(w[u], shi, lo, hi);
        if (t >= total)
            break;
        shi *= 2;
    }
    for (int it = 0; it < 100; it++) {
        double mid = 0.5 * (slo + shi);
        int64_t t = 0;
        for (int32_t u = 0; u < n; u++)
            t += deg_at(w[u], mid, lo, hi);
        if (t <= total)
            slo = mid;
        else
            shi = mid;
    }
    int64_t sum = 0;
    for (int32_t u = 0; u < n; u++) {
        indptr[u + 1] = deg_at(w[u], slo, lo, hi);
        sum += indptr[u + 1];
    }
    return sum;
}
