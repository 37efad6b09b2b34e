/* Top-k selection. Long rows (the usual case: one user's scores over the catalogue) use a
 * threshold from block maxima so that only a few hundred candidates reach a quickselect;
 * short rows and large k use a bounded min-heap. Both give the same answer, without
 * allocating (the candidate buffer is on the stack). */
#include "core/topk.h"

#include <math.h>
#if defined(__AVX2__) || defined(__SSE2__)
#include <immintrin.h>
#endif

/* ---- bounded min-heap: the root is the weakest of the best k seen so far ---- */

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

static int heap_topk(const float *scores, int32_t n, int k, int32_t *idx, float *val)
{
    int h = 0;
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

/* ---- selection by the order of tl_scored ---- */

/* The order of the contract (tl_scored): higher score, then lower index. */
static inline int better(tl_scored a, tl_scored b)
{
    return a.v > b.v || (a.v == b.v && a.i < b.i);
}

void tl_topk_select(tl_scored *c, int64_t n, int64_t k)
{
    int64_t lo = 0, hi = n - 1;
    while (lo < hi) {
        tl_scored a = c[lo], b = c[lo + (hi - lo) / 2], d = c[hi], p;
        if (better(a, b))
            p = better(b, d) ? b : better(a, d) ? d : a;
        else
            p = better(a, d) ? a : better(b, d) ? d : b;
        /* Hoare partition: afterwards c[lo..j] are no worse than p, c[i..hi] no better, and
         * what lies between is p itself (the order is strict), in its final place. */
        int64_t i = lo, j = hi;
        while (i <= j) {
            while (better(c[i], p))
                i++;
            while (better(p, c[j]))
                j--;
            if (i <= j) {
                tl_scored t = c[i];
                c[i] = c[j];
                c[j] = t;
                i++;
                j--;
            }
        }
        if (k - 1 <= j)
            hi = j;
        else if (k - 1 >= i)
            lo = i;
        else
            return;
    }
}

int tl_topk_insert(int32_t *idx, float *val, int n, int k, int32_t i, float v)
{
    if (n == k && (k <= 0 || !(v > val[n - 1])))
        return n;
    int pos = n < k ? n++ : k - 1;
    while (pos > 0 && val[pos - 1] < v) {
        val[pos] = val[pos - 1];
        idx[pos] = idx[pos - 1];
        pos--;
    }
    val[pos] = v;
    idx[pos] = i;
    return n;
}

static void sift_worst(tl_scored *c, int n, int r)
{
    for (;;) {
        int l = 2 * r + 1, m = r;
        if (l < n && better(c[m], c[l]))
            m = l;
        if (l + 1 < n && better(c[m], c[l + 1]))
            m = l + 1;
        if (m == r)
            return;
        tl_scored t = c[r];
        c[r] = c[m];
        c[m] = t;
        r = m;
    }
}

/* In-place heap sort of c[0..n), best first: a heap with the worst at the root, whose root
 * goes to the end each round. */
static void sort_best(tl_scored *c, int n)
{
    for (int i = n / 2 - 1; i >= 0; i--)
        sift_worst(c, n, i);
    for (int end = n - 1; end > 0; end--) {
        tl_scored t = c[0];
        c[0] = c[end];
        c[end] = t;
        sift_worst(c, end, 0);
    }
}

/* ---- threshold selection ---- */

/* Largest k for the threshold path (bounds the block-maxima array: 2k blocks). */
#define FAST_MAX_K 256
/* Candidates kept on the stack; more (heavy ties at the threshold) falls back to the heap. */
#define FAST_CAP 4096

/* Max of s[i0..i1), ignoring NaN (-INFINITY for none). */
static float block_max(const float *s, int32_t i0, int32_t i1)
{
    float m = -INFINITY;
    int32_t i = i0;
#if defined(__AVX2__)
    __m256 mv = _mm256_set1_ps(-INFINITY);
    for (; i + 8 <= i1; i += 8) /* max_ps returns its second operand when one is NaN */
        mv = _mm256_max_ps(_mm256_loadu_ps(s + i), mv);
    float t[8];
    _mm256_storeu_ps(t, mv);
    for (int q = 0; q < 8; q++)
        m = t[q] > m ? t[q] : m;
#elif defined(__SSE2__)
    __m128 mv = _mm_set1_ps(-INFINITY);
    for (; i + 4 <= i1; i += 4)
        mv = _mm_max_ps(_mm_loadu_ps(s + i), mv);
    float t[4];
    _mm_storeu_ps(t, mv);
    for (int q = 0; q < 4; q++)
        m = t[q] > m ? t[q] : m;
#endif
    for (; i < i1; i++)
        m = s[i] > m ? s[i] : m;
    return m;
}

/* Writes (s[i], i) for every i in [0, n) with s[i] >= t (never NaN) to c, in index
 * order; returns the count, or -1 when more than FAST_CAP would be needed. */
static int collect(const float *s, int32_t n, float t, tl_scored *c)
{
    int m = 0;
    int32_t i = 0;
#if defined(__AVX2__)
    __m256 tv = _mm256_set1_ps(t);
    for (; i + 8 <= n; i += 8) {
        unsigned bits =
            (unsigned)_mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(s + i), tv, _CMP_GE_OQ));
        while (bits) {
            int q = __builtin_ctz(bits);
            bits &= bits - 1;
            if (m == FAST_CAP)
                return -1;
            c[m].v = s[i + q];
            c[m].i = i + q;
            m++;
        }
    }
#elif defined(__SSE2__)
    __m128 tv = _mm_set1_ps(t);
    for (; i + 4 <= n; i += 4) {
        /* cmpge is an ordered compare: false for NaN */
        unsigned bits = (unsigned)_mm_movemask_ps(_mm_cmpge_ps(_mm_loadu_ps(s + i), tv));
        while (bits) {
            int q = __builtin_ctz(bits);
            bits &= bits - 1;
            if (m == FAST_CAP)
                return -1;
            c[m].v = s[i + q];
            c[m].i = i + q;
            m++;
        }
    }
#endif
    for (; i < n; i++) {
        if (s[i] >= t) {
            if (m == FAST_CAP)
                return -1;
            c[m].v = s[i];
            c[m].i = i;
            m++;
        }
    }
    return m;
}

/* The k-th largest of 2k block maxima is a score that at least k distinct entries reach,
 * so only entries at or above it can be in the top k: one vectorized pass for the maxima,
 * one for the candidates, then quickselect on a few hundred candidates instead of about
 * k ln(n/k) heap sifts. Returns -1 when the heap should do it instead. */
static int threshold_topk(const float *s, int32_t n, int k, int32_t *idx, float *val)
{
    if (k > FAST_MAX_K || n / 16 < k)
        return -1;
    tl_scored mx[2 * FAST_MAX_K];
    int32_t bs = (n + 2 * k - 1) / (2 * k);
    bs = (bs + 7) / 8 * 8;             /* whole vectors per block */
    int nb = (int)((n + bs - 1) / bs); /* <= 2k */
    if (nb < k)
        return -1;
    for (int b = 0; b < nb; b++) {
        int32_t i0 = (int32_t)b * bs;
        mx[b].v = block_max(s, i0, n - i0 < bs ? n : i0 + bs);
        mx[b].i = b;
    }
    tl_topk_select(mx, nb, k);
    float t = mx[k - 1].v; /* the k-th largest block maximum */
    if (!(t > -INFINITY))  /* fewer than k blocks hold a finite score */
        return -1;
    tl_scored c[FAST_CAP];
    int m = collect(s, n, t, c);
    if (m < 0) /* many ties at the threshold */
        return -1;
    if (m > k)
        tl_topk_select(c, m, k);
    m = m < k ? m : k;
    sort_best(c, m);
    for (int j = 0; j < m; j++) {
        idx[j] = c[j].i;
        val[j] = c[j].v;
    }
    return m;
}

int tl_topk(const float *scores, int32_t n, int k, int32_t *idx, float *val)
{
    if (k <= 0 || n <= 0)
        return 0;
    int got = threshold_topk(scores, n, k, idx, val);
    return got >= 0 ? got : heap_topk(scores, n, k, idx, val);
}
