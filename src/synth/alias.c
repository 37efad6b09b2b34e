/* Vose's alias method: split weights into "small" and "large" columns and pair them off. */
#include "synth/alias.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

tl_err tl_alias_init(tl_alias *a, const double *w, int32_t n)
{
    tl_err rc = TL_EINVAL;
    double sum = 0;
    double *p = NULL;
    int32_t *small = NULL, *large = NULL;
    tl_alias t = {0};
    if (n < 1)
        return TL_EINVAL;
    for (int32_t i = 0; i < n; i++) {
        if (!(w[i] >= 0) || !isfinite(w[i]))
            return TL_EINVAL;
        sum += w[i];
    }
    if (!(sum > 0) || !isfinite(sum))
        return TL_EINVAL;
    rc = TL_ENOMEM;
    t.n = n;
    t.prob = malloc((size_t)n * sizeof(*t.prob));
    t.alias = malloc((size_t)n * sizeof(*t.alias));
    p = malloc((size_t)n * sizeof(*p));
    small = malloc((size_t)n * sizeof(*small));
    large = malloc((size_t)n * sizeof(*large));
    if (!t.prob || !t.alias || !p || !small || !large)
        goto out;
    int32_t ns = 0, nl = 0;
    for (int32_t i = 0; i < n; i++) {
        p[i] = w[i] * (double)n / sum;
        if (p[i] < 1.0)
            small[ns++] = i;
        else
            large[nl++] = i;
    }
    while (ns && nl) {
        int32_t s = small[--ns], l = large[nl - 1];
        t.prob[s] = (float)p[s];
        t.alias[s] = l;
        p[l] -= 1.0 - p[s];
        if (p[l] < 1.0) {
            nl--;
            small[ns++] = l;
        }
    }
    /* What is left is 1 up to rounding. */
    while (nl) {
        int32_t l = large[--nl];
        t.prob[l] = 1.0f;
        t.alias[l] = l;
    }
    while (ns) {
        int32_t s = small[--ns];
        t.prob[s] = 1.0f;
        t.alias[s] = s;
    }
    *a = t;
    memset(&t, 0, sizeof(t));
    rc = TL_OK;
out:
    tl_alias_release(&t);
    free(p);
    free(small);
    free(large);
    return rc;
}

void tl_alias_release(tl_alias *a)
{
    free(a->prob);
    free(a->alias);
    memset(a, 0, sizeof(*a));
}
