/* core: CSR construction and transpose, top-k selection, the model file container, the
 * binding of every model's parameters to its typed fields. */
#include "support.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "core/csr.h"
#include "core/data.h"
#include "core/mfile.h"
#include "core/model.h"
#include "core/topk.h"

static void test_csr_from_coo_merges_and_sorts(void **state)
{
    (void)state;
    tl_coo c;
    assert_int_equal(tl_coo_init(&c, 2, 1), TL_OK); /* grows past the initial capacity */
    int rows[] = {1, 0, 1, 2, 1, 0};
    int cols[] = {3, 2, 0, 1, 3, 0};
    float vals[] = {1, 2, 3, 4, 5, 6};
    int64_t ts[] = {10, 20, 30, 40, 5, 60};
    for (int i = 0; i < 6; i++)
        assert_int_equal(tl_coo_push(&c, rows[i], cols[i], vals[i], ts[i]), TL_OK);
    tl_csr a;
    assert_int_equal(tl_csr_from_coo(&c, 3, 4, TL_DUP_SUM, &a), TL_OK);
    assert_int_equal(a.nnz, 5);
    int64_t ip[] = {0, 2, 4, 5};
    int32_t ix[] = {0, 2, 0, 3, 1};
    float dv[] = {6, 2, 3, 6 /* 1 + 5 */, 4};
    int64_t dt[] = {60, 20, 30, 10 /* max of 10, 5 */, 40};
    assert_memory_equal(a.indptr, ip, sizeof(ip));
    assert_memory_equal(a.indices, ix, sizeof(ix));
    assert_memory_equal(a.data, dv, sizeof(dv));
    assert_memory_equal(a.ts, dt, sizeof(dt));
    assert_int_equal(tl_csr_find(&a, 1, 3), 3);
    assert_int_equal(tl_csr_find(&a, 1, 1), -1);

    tl_csr m;
    assert_int_equal(tl_csr_from_coo(&c, 3, 4, TL_DUP_MAX, &m), TL_OK);
    assert_true(m.data[3] == 5);
    tl_csr_release(&m);

    tl_csr t, tt;
    assert_int_equal(tl_csr_transpose(&a, &t), TL_OK);
    assert_int_equal(t.nrows, 4);
    assert_int_equal(t.indptr[1] - t.indptr[0], 2); /* column 0 has users 0 and 1 */
    assert_int_equal(tl_csr_transpose(&t, &tt), TL_OK);
    assert_memory_equal(tt.indptr, a.indptr, sizeof(ip));
    assert_memory_equal(tt.indices, a.indices, sizeof(ix));
    assert_memory_equal(tt.data, a.data, sizeof(dv));
    tl_csr_release(&tt);
    tl_csr_release(&t);

    /* an entry outside the shape is refused */
    assert_int_equal(tl_csr_from_coo(&c, 2, 4, TL_DUP_SUM, &m), TL_EINVAL);
    tl_csr_release(&a);
    tl_coo_release(&c);
}

static void test_csr_long_rows(void **state)
{
    (void)state;
    tl_coo c;
    assert_int_equal(tl_coo_init(&c, 16, 0), TL_OK);
    for (int i = 999; i >= 0; i--) /* reverse order, with a duplicate of every 10th column */
        assert_int_equal(tl_coo_push(&c, 0, i % 500, 1.0f, 0), TL_OK);
    tl_csr a;
    assert_int_equal(tl_csr_from_coo(&c, 1, 500, TL_DUP_SUM, &a), TL_OK);
    assert_int_equal(a.nnz, 500);
    for (int i = 0; i < 500; i++) {
        assert_int_equal(a.indices[i], i);
        assert_true(a.data[i] == 2.0f);
    }
    tl_csr_release(&a);
    tl_coo_release(&c);
}

/* a and b hold the same matrix bit for bit; ts compared when want_ts, else b has none. */
static void assert_same_csr(const tl_csr *a, const tl_csr *b, int want_ts)
{
    assert_int_equal(a->nrows, b->nrows);
    assert_int_equal(a->ncols, b->ncols);
    assert_int_equal(a->nnz, b->nnz);
    assert_memory_equal(a->indptr, b->indptr, ((size_t)a->nrows + 1) * sizeof(*a->indptr));
    if (a->nnz) {
        assert_memory_equal(a->indices, b->indices, (size_t)a->nnz * sizeof(*a->indices));
        assert_memory_equal(a->data, b->data, (size_t)a->nnz * sizeof(*a->data));
    }
    if (!want_ts) {
        assert_null(b->ts);
    } else {
        assert_int_equal(!a->ts, !b->ts);
        if (a->ts && a->nnz)
            assert_memory_equal(a->ts, b->ts, (size_t)a->nnz * sizeof(*a->ts));
    }
}

/* n random triplets in nrows x ncols: many duplicates, long rows (> 32, the other sort) in
 * the first rows, empty rows, values whose sums depend on the order of addition. */
static void random_coo(tl_coo *c, int32_t nrows, int32_t ncols, int64_t n, int with_ts,
                       uint64_t seed)
{
    assert_int_equal(tl_coo_init(c, 16, with_ts), TL_OK);
    uint64_t x = seed * 2862933555777941757ull + 3037000493ull;
    for (int64_t i = 0; i < n; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        uint32_t h = (uint32_t)(x >> 33);
        int32_t r = (h & 3) ? (int32_t)(h % 3) : (int32_t)((h >> 2) % (uint32_t)nrows);
        if (r == nrows - 1)
            r = 0; /* the last row stays empty */
        int32_t col = (int32_t)((x >> 13) % (uint64_t)ncols);
        float v = (float)((x >> 40) & 0xffff) / 977.0f;
        assert_int_equal(tl_coo_push(c, r, col, v, with_ts ? (int64_t)(x >> 20) : 0), TL_OK);
    }
}

static void test_csr_from_coo_take_bit_exact(void **state)
{
    (void)state;
    const tl_dup dups[] = {TL_DUP_SUM, TL_DUP_MAX, TL_DUP_LAST};
    for (int with_ts = 0; with_ts < 2; with_ts++)
        for (int k = 0; k < 3; k++) {
            tl_coo c;
            tl_csr want, got;
            random_coo(&c, 50, 120, 5000, with_ts, (uint64_t)(k + 3 * with_ts + 1));
            assert_int_equal(tl_csr_from_coo(&c, 50, 120, dups[k], &want), TL_OK);
            assert_true(want.nnz < c.n);                       /* duplicates merged */
            assert_true(want.indptr[1] - want.indptr[0] > 32); /* a long row */
            assert_int_equal(tl_csr_from_coo_take(&c, 50, 120, dups[k], &got), TL_OK);
            assert_null(c.rows); /* consumed */
            assert_int_equal(c.n, 0);
            assert_same_csr(&want, &got, 1);
            tl_csr_release(&want);
            tl_csr_release(&got);
        }
    /* empty input, and an entry outside the shape (c is released on error too) */
    tl_coo c;
    tl_csr a;
    assert_int_equal(tl_coo_init(&c, 4, 1), TL_OK);
    assert_int_equal(tl_csr_from_coo_take(&c, 3, 4, TL_DUP_SUM, &a), TL_OK);
    assert_int_equal(a.nnz, 0);
    assert_int_equal(a.indptr[3], 0);
    tl_csr_release(&a);
    random_coo(&c, 10, 10, 100, 1, 9);
    assert_int_equal(tl_csr_from_coo_take(&c, 10, 5, TL_DUP_SUM, &a), TL_EINVAL);
    assert_null(c.rows);
    assert_null(c.cols);
}

static void test_csr_transpose_and_copy_no_ts(void **state)
{
    (void)state;
    tl_coo c;
    tl_csr a, t, t0, k, k0;
    random_coo(&c, 40, 70, 3000, 1, 5);
    assert_int_equal(tl_csr_from_coo(&c, 40, 70, TL_DUP_SUM, &a), TL_OK);
    assert_int_equal(tl_csr_transpose(&a, &t), TL_OK);
    assert_int_equal(tl_csr_transpose_no_ts(&a, &t0), TL_OK);
    assert_non_null(t.ts);
    assert_same_csr(&t, &t0, 0);
    assert_int_equal(tl_csr_copy(&a, &k), TL_OK);
    assert_int_equal(tl_csr_copy_no_ts(&a, &k0), TL_OK);
    assert_same_csr(&a, &k, 1);
    assert_same_csr(&a, &k0, 0);
    assert_true(tl_csr_bytes(&k0) < tl_csr_bytes(&k));
    tl_csr_release(&a);
    tl_csr_release(&t);
    tl_csr_release(&t0);
    tl_csr_release(&k);
    tl_csr_release(&k0);
    tl_coo_release(&c);
}

static void intern_n(tl_intern *in, char prefix, int32_t n)
{
    char id[16];
    for (int32_t i = 0; i < n; i++) {
        int32_t got;
        int len = snprintf(id, sizeof(id), "%c%d", prefix, i);
        assert_int_equal(tl_intern_add(in, id, (size_t)len, &got), TL_OK);
        assert_int_equal(got, i);
    }
}

static void test_data_build_take_bit_exact(void **state)
{
    (void)state;
    for (int with_ts = 0; with_ts < 2; with_ts++) {
        tl_data a, b;
        tl_coo c;
        tl_data_init(&a);
        tl_data_init(&b);
        intern_n(&a.users, 'u', 60);
        intern_n(&a.items, 'i', 90);
        intern_n(&b.users, 'u', 60);
        intern_n(&b.items, 'i', 90);
        random_coo(&c, 60, 90, 4000, with_ts, 11);
        assert_int_equal(tl_data_build(&a, &c, TL_DUP_SUM), TL_OK);
        assert_int_equal(tl_data_build_take(&b, &c, TL_DUP_SUM), TL_OK);
        assert_null(c.rows);
        assert_same_csr(&a.ui, &b.ui, 1);
        assert_same_csr(&a.iu, &b.iu, 0); /* the transpose carries weights only */
        assert_null(a.iu.ts);
        tl_csr t;
        assert_int_equal(tl_csr_transpose(&a.ui, &t), TL_OK);
        assert_same_csr(&t, &b.iu, 0);
        tl_csr_release(&t);
        tl_data_release(&a);
        tl_data_release(&b);
    }
}

static void test_topk(void **state)
{
    (void)state;
    float s[] = {0.5f, 3.0f, -INFINITY, 3.0f, NAN, 1.0f, 2.0f};
    int32_t idx[4];
    float val[4];
    int n = tl_topk(s, 7, 4, idx, val);
    assert_int_equal(n, 4);
    int32_t want[] = {1, 3, 6, 5}; /* ties to the lower index */
    assert_memory_equal(idx, want, sizeof(want));
    assert_true(val[0] == 3.0f && val[3] == 1.0f);
    int32_t idx8[8];
    float val8[8];
    assert_int_equal(tl_topk(s, 7, 8, idx8, val8), 5); /* only 5 finite candidates */
}

static void test_topk_exhaustive_vs_sort(void **state)
{
    (void)state;
    enum { N = 2000, K = 50 };
    float *s = malloc(N * sizeof(float));
    unsigned x = 12345;
    for (int i = 0; i < N; i++) {
        x = x * 1103515245u + 12345u;
        s[i] = (float)((x >> 16) % 300); /* many ties */
    }
    int32_t idx[K];
    float val[K];
    assert_int_equal(tl_topk(s, N, K, idx, val), K);
    for (int r = 0; r < K; r++) {
        /* count items strictly better than the r-th: must be <= r */
        int better = 0;
        for (int i = 0; i < N; i++)
            if (s[i] > val[r] || (s[i] == val[r] && i < idx[r]))
                better++;
        assert_int_equal(better, r);
    }
    free(s);
}

typedef struct ref_pair {
    float v;
    int32_t i;
} ref_pair;

/* The contract's order: higher score first, ties to the lower index. */
static int ref_cmp(const void *a, const void *b)
{
    const ref_pair *x = a, *y = b;
    if (x->v != y->v)
        return x->v > y->v ? -1 : 1;
    return x->i < y->i ? -1 : 1;
}

/* tl_topk against a full sort on rows built to hit both of its paths (threshold for long
 * rows and small k, heap otherwise) and their edges: heavy ties at the threshold (more
 * candidates than its stack buffer), NaN, -INFINITY, +-0, ascending rows, fewer finite
 * scores than k, k > n, lengths that are not multiples of the vector width. */
static void test_topk_paths_match_full_sort(void **state)
{
    (void)state;
    enum { MAXN = 20011, CASES = 240 };
    float *s = malloc(MAXN * sizeof(float));
    ref_pair *ref = malloc(MAXN * sizeof(ref_pair));
    int32_t *idx = malloc(MAXN * sizeof(int32_t));
    float *val = malloc(MAXN * sizeof(float));
    assert_true(s && ref && idx && val);
    unsigned x = 777;
    for (int c = 0; c < CASES; c++) {
        x = x * 1103515245u + 12345u;
        int32_t n = (int32_t)((x >> 8) % (c % 2 ? MAXN : 600));
        x = x * 1103515245u + 12345u;
        int k = c % 11 == 0 ? 300 + (int)((x >> 8) % 200) : 1 + (int)((x >> 8) % 120);
        int mode = c % 8;
        for (int32_t i = 0; i < n; i++) {
            x = x * 1103515245u + 12345u;
            unsigned r = x >> 8;
            float v;
            switch (mode) {
            case 0:
                v = (float)(r % 100000) * 0.01f;
                break;
            case 1:
                v = (float)(r % 3);
                break; /* thousands tie at the threshold */
            case 2:
                v = r % 3 == 0 ? -INFINITY : (float)(r % 40);
                break;
            case 3:
                v = r % 4 == 0 ? NAN : (float)((int)(r % 2000) - 1000);
                break;
            case 4:
                v = r % 200 == 0 ? (float)(r % 7) : -INFINITY;
                break; /* few finite */
            case 5:
                v = r & 1 ? 0.0f : -0.0f;
                break;
            case 6:
                v = (float)i;
                break; /* ascending: the best are all in the last blocks */
            default:
                v = r % 50 == 0 ? NAN : (float)(r % 1000) / 7.0f;
                break;
            }
            s[i] = v;
        }
        int32_t m = 0;
        for (int32_t i = 0; i < n; i++)
            if (s[i] > -INFINITY) {
                ref[m].v = s[i];
                ref[m].i = i;
                m++;
            }
        qsort(ref, (size_t)m, sizeof(*ref), ref_cmp);
        int want = m < k ? (int)m : k;
        int got = tl_topk(s, n, k, idx, val);
        assert_int_equal(got, want);
        for (int j = 0; j < got; j++) {
            assert_int_equal(idx[j], ref[j].i);
            assert_memory_equal(&val[j], &ref[j].v, sizeof(float)); /* -0 stays -0 */
        }
    }
    assert_int_equal(tl_topk(s, 0, 5, idx, val), 0);
    assert_int_equal(tl_topk(s, 10, 0, idx, val), 0);
    free(s);
    free(ref);
    free(idx);
    free(val);
}

/* tl_topk_select against a full sort: a[k-1] is the k-th best, the better ones come before
 * it and the worse after, on rows with heavy ties (broken by index), -INFINITY, +-0, indices
 * out of order, sorted and reversed rows, and every edge of k. */
static void test_topk_select_matches_sort(void **state)
{
    (void)state;
    enum { MAXN = 3001, CASES = 400 };
    tl_scored *a = malloc(MAXN * sizeof(*a));
    ref_pair *ref = malloc(MAXN * sizeof(*ref));
    unsigned char *seen = malloc(MAXN);
    assert_true(a && ref && seen);
    unsigned x = 4242;
    for (int c = 0; c < CASES; c++) {
        x = x * 1103515245u + 12345u;
        int64_t n = 1 + (int64_t)((x >> 8) % (c % 3 ? 200 : MAXN));
        int mode = c % 6;
        for (int64_t j = 0; j < n; j++) {
            x = x * 1103515245u + 12345u;
            unsigned r = x >> 8;
            float v = mode == 0   ? (float)(r % 5)                        /* heavy ties */
                      : mode == 1 ? (float)(r % 100000) * 0.25f - 9000.0f /* spread */
                      : mode == 2 ? (r % 3 ? -INFINITY : (float)(r % 9))  /* -inf */
                      : mode == 3 ? (r & 1 ? 0.0f : -0.0f)                /* +-0 tie */
                      : mode == 4 ? (float)j                              /* ascending */
                                  : (float)(n - j);                       /* descending */
            a[j].v = v;
            a[j].i = (int32_t)((j * 7919 + c) % n); /* a permutation: distinct, unordered */
            ref[j].v = a[j].v;
            ref[j].i = a[j].i;
        }
        qsort(ref, (size_t)n, sizeof(*ref), ref_cmp);
        x = x * 1103515245u + 12345u;
        int64_t ks[3] = {1, n, 1 + (int64_t)((x >> 8) % (uint64_t)n)};
        for (int q = 0; q < 3; q++) {
            int64_t k = ks[q];
            tl_scored *b = malloc((size_t)n * sizeof(*b));
            memcpy(b, a, (size_t)n * sizeof(*b)); /* the same row for each k */
            tl_topk_select(b, n, k);
            assert_int_equal(b[k - 1].i, ref[k - 1].i);
            assert_memory_equal(&b[k - 1].v, &ref[k - 1].v, sizeof(float));
            memset(seen, 0, (size_t)n);
            for (int64_t j = 0; j < n; j++) {
                /* rank of b[j] in the reference order: better than the k-th iff before it */
                int before =
                    b[j].v > ref[k - 1].v || (b[j].v == ref[k - 1].v && b[j].i < ref[k - 1].i);
                if (j < k - 1)
                    assert_true(before);
                else if (j > k - 1)
                    assert_false(before);
                assert_false(seen[b[j].i]); /* a permutation of the input */
                seen[b[j].i] = 1;
            }
            free(b);
        }
    }
    free(a);
    free(ref);
    free(seen);
}

/* tl_topk_insert keeps the k best, best first, ties in insertion order: a stable sort by
 * value, truncated, whatever the order of arrival. */
static void test_topk_insert_is_a_stable_truncated_sort(void **state)
{
    (void)state;
    enum { N = 60 };
    unsigned x = 99;
    for (int c = 0; c < 200; c++) {
        int k = c % 7; /* 0 (keeps nothing) .. 6 */
        int32_t idx[8];
        float val[8];
        float in[N];
        int n = 0;
        for (int j = 0; j < N; j++) {
            x = x * 1103515245u + 12345u;
            in[j] = (float)((x >> 8) % 6);
            n = tl_topk_insert(idx, val, n, k, j, in[j]);
        }
        /* The reference: positions by value descending, earlier first among equals. */
        int want = 0;
        for (float v = 5; v >= 0 && want < k; v--)
            for (int j = 0; j < N && want < k; j++)
                if (in[j] == v) {
                    assert_int_equal(idx[want], j);
                    assert_true(val[want] == v);
                    want++;
                }
        assert_int_equal(n, want);
    }
}

static void test_mfile_roundtrip_and_corruption(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof(path), "%s/m.tlm", tl_test_tmpdir());
    float f[100];
    int64_t l[3] = {1, -2, 1LL << 40};
    for (int i = 0; i < 100; i++)
        f[i] = (float)i * 0.25f;
    tl_mfile_writer *w;
    assert_int_equal(tl_mfile_writer_new(&w), TL_OK);
    assert_int_equal(tl_mfile_add(w, "floats", TL_MT_F32, f, 100), TL_OK);
    assert_int_equal(tl_mfile_add(w, "text", TL_MT_BYTES, "hello", 5), TL_OK);
    assert_int_equal(tl_mfile_add(w, "longs", TL_MT_I64, l, 3), TL_OK);
    assert_int_equal(tl_mfile_add(w, "floats", TL_MT_F32, f, 1), TL_EINVAL); /* duplicate */
    assert_int_equal(tl_mfile_write(w, path, NULL), TL_OK);
    tl_mfile_writer_free(w);

    tl_mfile *mf;
    tl_diag d;
    assert_int_equal(tl_mfile_open(path, &mf, &d), TL_OK);
    uint64_t n;
    const float *g = tl_mfile_get(mf, "floats", TL_MT_F32, &n);
    assert_non_null(g);
    assert_int_equal(n, 100);
    assert_int_equal((uintptr_t)g % 64, 0);
    assert_memory_equal(g, f, sizeof(f));
    assert_null(tl_mfile_get(mf, "floats", TL_MT_I32, &n)); /* wrong type */
    assert_null(tl_mfile_get(mf, "absent", TL_MT_F32, &n));
    const int64_t *gl = tl_mfile_get(mf, "longs", TL_MT_I64, &n);
    assert_memory_equal(gl, l, sizeof(l));
    tl_mfile_close(mf);

    /* A count that only matches the byte size modulo 2^64 (count * 4 wraps around): refused,
     * though the checksum is right, instead of handing out 2^62 floats. */
    FILE *fp = fopen(path, "r+b");
    assert_non_null(fp);
    unsigned char buf[4096];
    size_t len = fread(buf, 1, sizeof(buf), fp);
    uint64_t count;
    memcpy(&count, buf + 64 + 48, 8); /* section 0 ("floats"): entry.count */
    count += 1ull << 62;
    memcpy(buf + 64 + 48, &count, 8);
    uint32_t crc = (uint32_t)crc32(crc32(0L, Z_NULL, 0), buf + 64, (uInt)(len - 64));
    memcpy(buf + 24, &crc, 4); /* header.crc */
    assert_int_equal(fseek(fp, 0, SEEK_SET), 0);
    assert_int_equal(fwrite(buf, 1, len, fp), len);
    assert_int_equal(fclose(fp), 0);
    assert_int_equal(tl_mfile_open(path, &mf, &d), TL_ECORRUPT);
    assert_non_null(strstr(d.msg, "section 0 is malformed"));

    /* Flip one byte of data: the checksum refuses it. */
    assert_int_equal(
        tl_test_sh("printf '\\377' | dd of='%s' bs=1 seek=400 conv=notrunc 2>/dev/null", path), 0);
    assert_int_equal(tl_mfile_open(path, &mf, &d), TL_ECORRUPT);
    assert_non_null(strstr(d.msg, "checksum"));
    /* Truncated file. */
    assert_int_equal(tl_test_sh("truncate -s 100 '%s'", path), 0);
    assert_int_equal(tl_mfile_open(path, &mf, &d), TL_ECORRUPT);
    /* Not a model file at all. */
    assert_int_equal(
        tl_test_write(
            path,
            "user\titem\n1\t2\n................................................................"),
        0);
    assert_int_equal(tl_mfile_open(path, &mf, &d), TL_ECORRUPT);
    assert_non_null(strstr(d.msg, "magic"));
}

/* The value of def's field in cfg, as a double (strings: NAN). */
static double field_num(const void *cfg, const tl_param_def *def)
{
    const char *at = (const char *)cfg + def->offset;
    switch (def->field) {
    case TL_FIELD_INT:
        return *(const int *)(const void *)at;
    case TL_FIELD_INT64:
        return (double)*(const int64_t *)(const void *)at;
    case TL_FIELD_DOUBLE:
        return *(const double *)(const void *)at;
    default:
        return NAN;
    }
}

/* Every value a model's table allows reaches its typed field, through every setter, and the
 * field agrees with the name lookup: what a model reads from m->cfg is what its parameters
 * say. */
static void test_every_model_binds_its_params(void **state)
{
    (void)state;
    const tl_model_ops *const *all = tl_model_all_ops();
    int models = 0;
    for (int k = 0; all[k]; k++, models++) {
        tl_model *m;
        assert_int_equal(tl_model_new(all[k]->name, &m), TL_OK);
        assert_non_null(m->cfg);
        assert_true(all[k]->n_params > 0 && all[k]->cfg_size > 0);
        for (int i = 0; i < all[k]->n_params; i++) {
            const tl_param_def *def = &all[k]->params[i];
            char kv[256];
            tl_diag d;
            assert_true(def->field != TL_FIELD_NONE);
            if (def->type == TL_PARAM_STR) {
                const char *got =
                    *(const char *const *)(const void *)((const char *)m->cfg + def->offset);
                assert_string_equal(got, def->def);
                assert_ptr_equal(got, tl_params_str(&m->params, def->name));
                snprintf(kv, sizeof(kv), "%s=bound-%d", def->name, i);
                assert_int_equal(tl_model_set(m, kv, &d), TL_OK);
                got = *(const char *const *)(const void *)((const char *)m->cfg + def->offset);
                assert_string_equal(got, kv + strlen(def->name) + 1);
                continue;
            }
            assert_true(field_num(m->cfg, def) == atof(def->def));
            const double ends[2] = {def->min, def->max};
            for (int e = 0; e < 2; e++) {
                snprintf(kv, sizeof(kv), "%s=%.17g", def->name, ends[e]);
                assert_int_equal(tl_model_set(m, kv, &d), TL_OK);
                assert_true(field_num(m->cfg, def) == ends[e]);
                assert_true(field_num(m->cfg, def) == tl_params_num(&m->params, def->name));
            }
            /* A default chosen by the library (autotune) lands in the field too. */
            assert_int_equal(tl_params_set_default(&m->params, def->name, def->def, &d), TL_OK);
            assert_true(field_num(m->cfg, def) == atof(def->def));
        }
        tl_model_free(m);
    }
    assert_int_equal(models, 8);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csr_from_coo_merges_and_sorts),
        cmocka_unit_test(test_csr_long_rows),
        cmocka_unit_test(test_csr_from_coo_take_bit_exact),
        cmocka_unit_test(test_csr_transpose_and_copy_no_ts),
        cmocka_unit_test(test_data_build_take_bit_exact),
        cmocka_unit_test(test_topk),
        cmocka_unit_test(test_topk_exhaustive_vs_sort),
        cmocka_unit_test(test_topk_paths_match_full_sort),
        cmocka_unit_test(test_topk_select_matches_sort),
        cmocka_unit_test(test_topk_insert_is_a_stable_truncated_sort),
        cmocka_unit_test(test_mfile_roundtrip_and_corruption),
        cmocka_unit_test(test_every_model_binds_its_params),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
