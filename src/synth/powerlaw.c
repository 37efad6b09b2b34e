/* The power-law generator behind the benchmarks: MovieLens-shaped implicit data made in memory
 * in seconds. Users get log-normal degrees scaled to hit the event target exactly; each user's
 * items are Zipf draws (alias table) deduplicated with a per-thread stamp array, or, for the
 * few users who want a large share of the catalogue, weighted sampling without replacement
 * (Efraimidis-Spirakis keys). Every user has its own RNG stream, so OpenMP changes nothing. */
#include "synth/synth.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "core/topk.h"
#include "synth/alias.h"
#include "synth/degrees.h"
#include "util/hash.h"

/* The time range of MovieLens-20M's ratings: 1995-01-09 .. 2015-03-31. */
#define ML_T0 789652009LL
#define ML_T1 1427784002LL
/* A user's ratings fall in one active stretch; its length is exponential with this mean. */
#define SPAN_MEAN_S (180.0 * 86400.0)
/* Rejection sampling gives up after this many draws per wanted item (plus a constant) and
 * falls back to sampling without replacement, which costs O(items) but never stalls. */
#define REJECT_BUDGET 8

void tl_synth_opts_ml20m(tl_synth_opts *o)
{
    o->users = 138000;
    o->items = 27000;
    o->events = 20000000;
    o->zipf = 1.0;
    o->activity_sigma = 1.0;
    o->seed = 42;
    o->no_timestamps = 0;
}

static double normal01(tl_rng *r)
{
    double u1 = 1.0 - tl_rng_uniform(r), u2 = tl_rng_uniform(r);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

static tl_rng stream(uint64_t seed, uint64_t which, uint64_t idx)
{
    tl_rng r = {tl_splitmix64(seed ^ tl_splitmix64(which * 0x100000000ULL + idx))};
    return r;
}

static tl_err check_opts(const tl_synth_opts *o)
{
    if (o->users < 1 || o->items < 1 || o->events < 1)
        return TL_EINVAL;
    if (o->events > (int64_t)o->users * o->items)
        return TL_EINVAL;
    if (!(o->zipf >= 0) || !isfinite(o->zipf) || !(o->activity_sigma >= 0) ||
        !isfinite(o->activity_sigma))
        return TL_EINVAL;
    return TL_OK;
}

/* Fills indptr (users + 1) with log-normal degrees summing to exactly o->events. */
static tl_err degrees(const tl_synth_opts *o, int64_t *indptr)
{
    int32_t n = o->users;
    double *w = malloc((size_t)n * sizeof(*w));
    if (!w)
        return TL_ENOMEM;
    double mean = (double)o->events / n;
    /* MovieLens keeps users with at least 20 ratings; smaller shapes get a proportional
     * floor so that the floor never eats the whole budget. */
    int64_t lo = mean < 1 ? 0 : (int64_t)fmin(20.0, fmax(1.0, floor(mean / 5.0)));
    int64_t hi = o->items;
    tl_rng r = stream(o->seed, 1, 0);
    for (int32_t u = 0; u < n; u++)
        w[u] = exp(o->activity_sigma * normal01(&r));

    int64_t total = tl__synth_scale_degrees(w, n, lo, hi, o->events, indptr);
    /* Rounding leaves a small shortfall: hand it out one by one from a seeded start, so no
     * user id is favoured. total(slo) <= events <= users * items guarantees progress. */
    int64_t need = o->events - total;
    int32_t u = (int32_t)(tl_rng_next(&r) % (uint64_t)n);
    while (need > 0) {
        if (indptr[u + 1] < hi) {
            indptr[u + 1]++;
            need--;
        }
        u = u + 1 == n ? 0 : u + 1;
    }
    indptr[0] = 0;
    for (int32_t v = 0; v < n; v++)
        indptr[v + 1] += indptr[v];
    free(w);
    return TL_OK;
}

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* Sorts a row of distinct item indices. Short rows: insertion sort. Rows long enough that a
 * scan of an items-wide bitmap costs no more than sorting: set the bits, read them back in
 * order (and leave the bitmap clear). Else qsort. Sorting was a third of the time with qsort. */
static void sort_row(int32_t *row, int64_t d, int32_t ni, uint64_t *bits)
{
    int64_t words = ((int64_t)ni + 63) / 64;
    if (d <= 24) {
        for (int64_t i = 1; i < d; i++) {
            int32_t x = row[i];
            int64_t j = i - 1;
            for (; j >= 0 && row[j] > x; j--)
                row[j + 1] = row[j];
            row[j + 1] = x;
        }
    } else if (words <= 16 * d) {
        for (int64_t k = 0; k < d; k++)
            bits[row[k] >> 6] |= 1ULL << (row[k] & 63);
        int64_t k = 0;
        for (int64_t wd = 0; wd < words; wd++) {
            uint64_t b = bits[wd];
            bits[wd] = 0;
            while (b) {
                row[k++] = (int32_t)(wd * 64 + __builtin_ctzll(b));
                b &= b - 1;
            }
        }
    } else {
        qsort(row, (size_t)d, sizeof(*row), cmp_i32);
    }
}

/* Per-thread scratch: stamp[i] == u marks item i as taken by user u; bits is an all-zero
 * bitmap over the items between rows. */
typedef struct scratch {
    int32_t *stamp;
    uint64_t *bits;
    tl_scored *keys; /* items, allocated on first need */
} scratch;

static tl_err fill_user(const tl_synth_opts *o, const tl_alias *pop, const double *w, int32_t u,
                        int32_t *row, int64_t d, int64_t *ts, scratch *s)
{
    tl_rng r = stream(o->seed, 2, (uint64_t)u);
    int32_t ni = o->items;
    int64_t got = 0;
    if (d == ni) {
        for (int32_t i = 0; i < ni; i++)
            row[i] = i;
        got = d;
    } else if (2 * d < ni) {
        int64_t budget = REJECT_BUDGET * d + 64;
        for (int64_t t = 0; got < d && t < budget; t++) {
            int32_t x = tl_alias_draw(pop, &r);
            if (s->stamp[x] != u) {
                s->stamp[x] = u;
                row[got++] = x;
            }
        }
    }
    if (got < d) {
        if (!s->keys && !(s->keys = malloc((size_t)ni * sizeof(*s->keys))))
            return TL_ENOMEM;
        for (int32_t i = 0; i < ni; i++) {
            /* log(U)/w: the d largest are a weighted sample without replacement. */
            s->keys[i].v = (float)(log(1.0 - tl_rng_uniform(&r)) / w[i]);
            s->keys[i].i = i;
        }
        tl_topk_select(s->keys, ni, d);
        for (int64_t k = 0; k < d; k++)
            row[k] = s->keys[k].i;
    }
    sort_row(row, d, ni, s->bits);
    if (!ts) /* the timestamps draw last from r: leaving them out changes no cell */
        return TL_OK;
    double t0 = (double)ML_T0 + tl_rng_uniform(&r) * (double)(ML_T1 - ML_T0);
    double span = -log(1.0 - tl_rng_uniform(&r)) * SPAN_MEAN_S;
    if (t0 + span > (double)ML_T1)
        span = (double)ML_T1 - t0;
    for (int64_t k = 0; k < d; k++)
        ts[k] = (int64_t)(t0 + tl_rng_uniform(&r) * span);
    return TL_OK;
}

/* The user x item matrix only (no ids), with timestamps when with_ts: shared by the
 * in-memory and the file outputs. */
static tl_err gen_csr(const tl_synth_opts *o, int with_ts, tl_csr *out)
{
    tl_err rc = check_opts(o);
    tl_csr a = {0};
    tl_alias pop = {0};
    double *w = NULL;
    int32_t *perm = NULL;
    if (rc != TL_OK)
        return rc;
    rc = TL_ENOMEM;
    a.nrows = o->users;
    a.ncols = o->items;
    a.nnz = o->events;
    a.indptr = calloc((size_t)o->users + 1, sizeof(*a.indptr));
    a.indices = malloc((size_t)o->events * sizeof(*a.indices));
    a.data = malloc((size_t)o->events * sizeof(*a.data));
    a.ts = with_ts ? malloc((size_t)o->events * sizeof(*a.ts)) : NULL;
    w = malloc((size_t)o->items * sizeof(*w));
    perm = malloc((size_t)o->items * sizeof(*perm));
    if (!a.indptr || !a.indices || !a.data || (with_ts && !a.ts) || !w || !perm)
        goto out;
    if ((rc = degrees(o, a.indptr)) != TL_OK)
        goto out;

    /* Popularity rank r belongs to a random item, so ids carry no popularity order. */
    tl_rng r = stream(o->seed, 3, 0);
    for (int32_t i = 0; i < o->items; i++)
        perm[i] = i;
    for (int32_t i = o->items - 1; i > 0; i--) {
        int32_t j = (int32_t)(tl_rng_next(&r) % (uint64_t)(i + 1));
        int32_t t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
    for (int32_t k = 0; k < o->items; k++)
        w[perm[k]] = pow((double)k + 1.0, -o->zipf);
    if ((rc = tl_alias_init(&pop, w, o->items)) != TL_OK)
        goto out;
    for (int64_t p = 0; p < o->events; p++)
        a.data[p] = 1.0f;

    tl_err trc = TL_OK;
#pragma omp parallel
    {
        scratch s = {malloc((size_t)o->items * sizeof(int32_t)),
                     calloc(((size_t)o->items + 63) / 64, sizeof(uint64_t)), NULL};
        tl_err mine = s.stamp && s.bits ? TL_OK : TL_ENOMEM;
        if (s.stamp)
            for (int32_t i = 0; i < o->items; i++)
                s.stamp[i] = -1;
#pragma omp for schedule(dynamic, 512)
        for (int32_t u = 0; u < o->users; u++) {
            if (mine != TL_OK)
                continue;
            int64_t lo = a.indptr[u], d = a.indptr[u + 1] - lo;
            mine = fill_user(o, &pop, w, u, a.indices + lo, d, a.ts ? a.ts + lo : NULL, &s);
        }
        if (mine != TL_OK) {
#pragma omp critical
            trc = mine;
        }
        free(s.stamp);
        free(s.bits);
        free(s.keys);
    }
    if ((rc = trc) != TL_OK)
        goto out;
    *out = a;
    memset(&a, 0, sizeof(a));
out:
    tl_csr_release(&a);
    tl_alias_release(&pop);
    free(w);
    free(perm);
    return rc;
}

static tl_err intern_seq(tl_intern *in, char prefix, int32_t n)
{
    char buf[16];
    for (int32_t k = 0; k < n; k++) {
        int len = snprintf(buf, sizeof(buf), "%c%d", prefix, (int)k);
        int32_t idx;
        tl_err rc = tl_intern_add(in, buf, (size_t)len, &idx);
        if (rc != TL_OK)
            return rc;
    }
    return TL_OK;
}

tl_err tl_synth_powerlaw(const tl_synth_opts *o, tl_data *out)
{
    tl_err rc = gen_csr(o, !o->no_timestamps, &out->ui);
    if (rc == TL_OK)
        rc = intern_seq(&out->users, 'u', o->users);
    if (rc == TL_OK)
        rc = intern_seq(&out->items, 'i', o->items);
    if (rc == TL_OK)
        rc = tl_csr_transpose_no_ts(&out->ui, &out->iu);
    if (rc != TL_OK) {
        tl_data_release(out);
        tl_data_init(out);
    }
    return rc;
}

/* ---- Writing: a buffered sink over stdio or zlib ---------------------------------------- */

#define SINK_BYTES (1u << 20)

typedef struct sink {
    FILE *f;
    gzFile gz;
    char *buf;
    size_t len;
    int failed;
} sink;

static void sink_flush(sink *s)
{
    if (!s->len || s->failed)
        return;
    if (s->gz)
        s->failed = gzwrite(s->gz, s->buf, (unsigned)s->len) != (int)s->len;
    else
        s->failed = fwrite(s->buf, 1, s->len, s->f) != s->len;
    s->len = 0;
}

static char *put_u64(char *p, uint64_t v)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        *p++ = tmp[--n];
    return p;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

tl_err tl_synth_powerlaw_write(const tl_synth_opts *o, const char *path)
{
    tl_csr a = {0};
    sink s = {0};
    int created = 0;
    tl_err rc = check_opts(o);
    if (rc != TL_OK)
        return rc;
    rc = TL_ENOMEM;
    if (!(s.buf = malloc(SINK_BYTES)))
        goto out;
    /* Open before generating, so that a bad path fails at once rather than after seconds. */
    rc = TL_EIO;
    if (ends_with(path, ".gz")) {
        /* Level 1: 20M rows compress in seconds rather than a minute, at ~20% more bytes. */
        if (!(s.gz = gzopen(path, "wb1")))
            goto out;
        gzbuffer(s.gz, 1u << 18);
    } else if (!(s.f = fopen(path, "wb"))) {
        goto out;
    }
    created = 1;
    if ((rc = gen_csr(o, 1, &a)) != TL_OK)
        goto out;
    static const char header[] = "user\titem\tvalue\ttimestamp\n";
    memcpy(s.buf, header, sizeof(header) - 1);
    s.len = sizeof(header) - 1;
    for (int32_t u = 0; u < a.nrows; u++) {
        for (int64_t p = a.indptr[u]; p < a.indptr[u + 1]; p++) {
            if (s.len > SINK_BYTES - 64)
                sink_flush(&s);
            char *q = s.buf + s.len;
            *q++ = 'u';
            q = put_u64(q, (uint64_t)u);
            *q++ = '\t';
            *q++ = 'i';
            q = put_u64(q, (uint64_t)a.indices[p]);
            memcpy(q, "\t1\t", 3);
            q = put_u64(q + 3, (uint64_t)a.ts[p]);
            *q++ = '\n';
            s.len = (size_t)(q - s.buf);
        }
    }
    sink_flush(&s);
    rc = s.failed ? TL_EIO : TL_OK;
out:
    if (s.gz && gzclose(s.gz) != Z_OK)
        rc = TL_EIO;
    if (s.f && fclose(s.f) != 0)
        rc = TL_EIO;
    if (rc != TL_OK && created)
        remove(path); /* no half-written data set left behind */
    free(s.buf);
    tl_csr_release(&a);
    return rc;
}
