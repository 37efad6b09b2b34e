/* Bounded min-heap top-k: the heap root is the weakest of the best k seen so far. */
#include "core/topk.h"

#include <math.h>

/* a is worse than b: lower score, or equal score and higher index. */
static inline int worse(float sa, int32_t ia, float sb, int32_t ib)
{
    return sa < sb || (sa == sb && ia > ib);
}

static void sift_down(float *v, int32_t *ix, int n, int i)
{
    for (;;) {
        int l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && worse(v[l], ix[l], v[m], ix[m]))
            m = l;
        if (r < n && worse(v[r], ix[r], v[m], ix[m]))
            m = r;
        if (m == i)
            return;
        float tv = v[i];
        v[i] = v[m];
        v[m] = tv;
        int32_t ti = ix[i];
        ix[i] = ix[m];
        ix[m] = ti;
        i = m;
    }
}

static void sift_up(float *v, int32_t *ix, int i)
{
    while (i > 0) {
        int p = (i - 1) / 2;
        if (!worse(v[i], ix[i], v[p], ix[p]))
            return;
        float tv = v[i];
        v[i] = v[p];
        v[p] = tv;
        int32_t ti = ix[i];
        ix[i] = ix[p];
        ix[p] = ti;
        i = p;
    }
}

int tl_topk(const float *scores, int32_t n, int k, int32_t *idx, float *val)
{
    int h = 0;
    if (k <= 0)
        return 0;
    for (int32_t i = 0; i < n; i++) {
        float s = scores[i];
        if (!(s > -INFINITY)) /* also rejects NaN */
            continue;
        if (h < k) {
            val[h] = s;
            idx[h] = i;
            sift_up(val, idx, h);
            h++;
        } else if (worse(val[0], idx[0], s, i)) {
            val[0] = s;
            idx[0] = i;
            sift_down(val, idx, h, 0);
        }
    }
    /* Heap sort in place: repeatedly move the weakest to the end, so best ends up first. */
    for (int end = h - 1; end > 0; end--) {
        float tv = val[0];
        val[0] = val[end];
        val[end] = tv;
        int32_t ti = idx[0];
        idx[0] = idx[end];
        idx[end] = ti;
        sift_down(val, idx, end, 0);
    }
    return h;
}
