/* core/holdout: the protocol's k, keys, per-user choice and the in-memory split, checked
 * against tools/split.py (the referee) on MovieLens 100K. */
#include "support.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/holdout.h"
#include "ingest/matrix_tsv.h"
#include "util/lines.h"

#define PYTHON "/usr/bin/python3"

static int have_python(void)
{
    return access(PYTHON, X_OK) == 0;
}

static void test_test_count(void **state)
{
    (void)state;
    /* PROTOCOL.md: n = 5..7 gives k = 1, n = 8..12 gives k = 2; k is at least 1. */
    const int64_t want[] = {1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 3, 3};
    for (int64_t n = 0; n < 15; n++)
        assert_int_equal(tl_holdout_test_count(n), want[n]);
    assert_int_equal(tl_holdout_test_count(100), 20);
    assert_int_equal(tl_holdout_test_count(102), 20); /* 20.4 rounds down */
    assert_int_equal(tl_holdout_test_count(103), 21); /* 20.6 rounds up */
}

static void test_key_matches_split_py(void **state)
{
    (void)state;
    if (!have_python() || !tl_test_shared("tools/split.py"))
        return;
    char out[1024];
    snprintf(out, sizeof(out), "%s/keys.txt", tl_test_tmpdir());
    /* split.py's own split_key, on ASCII and multibyte ids and a seed above 2^63. */
    assert_int_equal(
        tl_test_sh("cd '%s' && " PYTHON " -c 'import split as s; "
                   "print(s.split_key(42, b\"u1\", b\"i1\")); "
                   "print(s.split_key(7, \"\\u00e9\".encode(), \"\\u66f8\".encode())); "
                   "print(s.split_key(2**64 - 5, b\"\", b\"x\"))' > '%s'",
                   tl_test_shared("tools"), out),
        0);
    char *text = tl_test_read(out);
    assert_non_null(text);
    unsigned long long k1, k2, k3;
    assert_int_equal(sscanf(text, "%llu %llu %llu", &k1, &k2, &k3), 3);
    assert_true(tl_holdout_key(42, "u1", 2, "i1", 2) == k1);
    assert_true(tl_holdout_key(7, "\xc3\xa9", 2, "\xe6\x9b\xb8", 3) == k2);
    assert_true(tl_holdout_key(UINT64_MAX - 4, "", 0, "x", 1) == k3);
    free(text);
}

static void test_byte_ranks(void **state)
{
    (void)state;
    tl_intern in;
    tl_intern_init(&in);
    const char *s[] = {"b", "a", "ab", "", "\xc3\xa9", "Z", "a\xff"};
    int32_t idx;
    for (int k = 0; k < 7; k++)
        assert_int_equal(tl_intern_add(&in, s[k], strlen(s[k]), &idx), TL_OK);
    int32_t *rank;
    assert_int_equal(tl_holdout_byte_ranks(&in, &rank), TL_OK);
    /* "" < "Z" < "a" < "ab" < "a\xff" < "b" < "\xc3\xa9": bytes unsigned, a prefix first. */
    const int32_t want[] = {5, 2, 3, 0, 6, 1, 4};
    assert_memory_equal(rank, want, sizeof(want));
    free(rank);
    tl_intern_release(&in);
}

static void test_pick(void **state)
{
    (void)state;
    uint8_t is_test[10];
    /* random: the k smallest keys; equal keys fall to the smaller tie (item byte rank). */
    tl_holdout_ent e[8];
    const uint64_t keys[8] = {50, 10, 10, 70, 5, 90, 60, 80};
    const int32_t ties[8] = {0, 7, 3, 1, 2, 4, 5, 6};
    for (int j = 0; j < 8; j++)
        e[j] = (tl_holdout_ent){keys[j], ties[j], j};
    tl_holdout_pick(TL_SPLIT_RANDOM, e, 8, is_test); /* n = 8: k = 2 */
    const uint8_t want_r[8] = {0, 0, 1, 0, 1, 0, 0, 0};
    assert_memory_equal(is_test, want_r, 8);
    /* temporal: the k latest; at equal times the larger item rank is the later one. */
    const uint64_t ts[8] = {1, 9, 9, 3, 9, 2, 2, 2};
    for (int j = 0; j < 8; j++)
        e[j] = (tl_holdout_ent){tl_holdout_ts_key(ts[j]), ties[j], j};
    tl_holdout_pick(TL_SPLIT_TEMPORAL, e, 8, is_test);
    const uint8_t want_t[8] = {0, 1, 1, 0, 0, 0, 0, 0}; /* at time 9, ties 7 and 3 beat 2 */
    assert_memory_equal(is_test, want_t, 8);
    /* negative timestamps sort before positive ones */
    assert_true(tl_holdout_ts_key(-5) < tl_holdout_ts_key(0));
    assert_true(tl_holdout_ts_key(INT64_MIN) < tl_holdout_ts_key(-1));
}

/* Every pair of a split.py output file is in m, and m has no other pair. */
static void assert_file_equals_csr(const char *path, const tl_data *d, const tl_csr *m)
{
    tl_lines lr;
    assert_int_equal(tl_lines_open(&lr, path), TL_OK);
    char *line;
    size_t len;
    assert_int_equal(tl_lines_next(&lr, &line, &len), 1);
    assert_string_equal(line, "user\titem");
    int64_t n = 0;
    while (tl_lines_next(&lr, &line, &len) == 1) {
        char *tab = strchr(line, '\t');
        assert_non_null(tab);
        int32_t u = tl_intern_find(&d->users, line, (size_t)(tab - line));
        int32_t i = tl_intern_find(&d->items, tab + 1, strlen(tab + 1));
        assert_true(u >= 0 && i >= 0);
        if (tl_csr_find(m, u, i) < 0)
            fail_msg("%s: pair %s missing from the in-memory split", path, line);
        n++;
    }
    tl_lines_close(&lr);
    assert_int_equal(n, m->nnz);
}

static void check_against_split_py(const char *input, const tl_data *d, tl_split_mode mode,
                                   uint64_t seed, int min_positives)
{
    char dir[1024];
    snprintf(dir, sizeof(dir), "%s/py-%s-%llu-%d", tl_test_tmpdir(), tl_holdout_mode_name(mode),
             (unsigned long long)seed, min_positives);
    assert_int_equal(tl_test_sh(PYTHON " '%s' '%s' '%s' --mode %s --seed %llu %s > /dev/null",
                                tl_test_shared("tools/split.py"), input, dir,
                                tl_holdout_mode_name(mode), (unsigned long long)seed,
                                min_positives ? "" : "--no-filter"),
                     0);
    tl_csr train, test;
    assert_int_equal(tl_holdout_split(d, mode, seed, min_positives, &train, &test), TL_OK);
    assert_int_equal(train.nrows, d->ui.nrows);
    assert_int_equal(train.ncols, d->ui.ncols);
    assert_int_equal(train.nnz + test.nnz <= d->ui.nnz, 1);
    char path[1100];
    snprintf(path, sizeof(path), "%s/train.tsv", dir);
    assert_file_equals_csr(path, d, &train);
    snprintf(path, sizeof(path), "%s/test.tsv", dir);
    assert_file_equals_csr(path, d, &test);
    tl_csr_release(&train);
    tl_csr_release(&test);
}

/* Binarized ml-100k in memory (value >= 4, latest timestamp per pair) splits as split.py
 * splits the file, filtered or not, random or temporal. */
static void test_split_equals_split_py_on_ml100k(void **state)
{
    (void)state;
    const char *input = tl_test_shared("data/ml-100k/interactions.tsv");
    if (!have_python() || !input || !tl_test_shared("tools/split.py"))
        return;
    tl_data d;
    tl_data_init(&d);
    tl_tsv_opts o;
    tl_tsv_opts_init(&o);
    o.min_value = 4;
    tl_diag diag;
    assert_int_equal(tl_data_load_tsv(&d, input, &o, &diag), TL_OK);
    assert_non_null(d.ui.ts);
    check_against_split_py(input, &d, TL_SPLIT_RANDOM, 42, TL_HOLDOUT_MIN_POSITIVES);
    check_against_split_py(input, &d, TL_SPLIT_TEMPORAL, 42, TL_HOLDOUT_MIN_POSITIVES);
    check_against_split_py(input, &d, TL_SPLIT_RANDOM, 7, 0);

    /* A validation split of a split's train.tsv (no filter) is split.py --no-filter on a
     * four-column copy of that train.tsv (value 5: every pair a positive). */
    char dir[1024], train4[1100], trainp[1100];
    snprintf(dir, sizeof(dir), "%s/outer", tl_test_tmpdir());
    snprintf(trainp, sizeof(trainp), "%s/train.tsv", dir);
    snprintf(train4, sizeof(train4), "%s/train4.tsv", dir);
    assert_int_equal(tl_test_sh(PYTHON " '%s' '%s' '%s' --mode random > /dev/null",
                                tl_test_shared("tools/split.py"), input, dir),
                     0);
    assert_int_equal(tl_test_sh("awk 'BEGIN{FS=OFS=\"\\t\"} NR==1{print \"user\",\"item\","
                                "\"value\",\"timestamp\";next} {print $1,$2,5,\"\"}' '%s' > '%s'",
                                trainp, train4),
                     0);
    tl_data t;
    tl_data_init(&t);
    tl_tsv_opts_init(&o);
    assert_int_equal(tl_data_load_tsv(&t, trainp, &o, &diag), TL_OK);
    assert_null(t.ui.ts);
    check_against_split_py(train4, &t, TL_SPLIT_RANDOM, 42, 0);
    check_against_split_py(train4, &t, TL_SPLIT_RANDOM, 1234567, 0);

    /* A temporal split needs timestamps. */
    tl_csr a, b;
    assert_int_equal(tl_holdout_split(&t, TL_SPLIT_TEMPORAL, 42, 0, &a, &b), TL_EINVAL);
    tl_data_release(&t);
    tl_data_release(&d);
}

/* A hand-made matrix: filtered users get empty rows in both halves, weights and timestamps
 * travel with their cells, and the seed changes the random choice. */
static void test_split_shapes_and_filter(void **state)
{
    (void)state;
    tl_data d;
    tl_data_init(&d);
    tl_coo c;
    assert_int_equal(tl_coo_init(&c, 16, 1), TL_OK);
    char id[16];
    int32_t u, i;
    for (int k = 0; k < 20; k++) {
        snprintf(id, sizeof(id), "i%d", k);
        assert_int_equal(tl_intern_add(&d.items, id, strlen(id), &i), TL_OK);
    }
    const int counts[3] = {4, 5, 13};
    for (int r = 0; r < 3; r++) {
        snprintf(id, sizeof(id), "u%d", r);
        assert_int_equal(tl_intern_add(&d.users, id, strlen(id), &u), TL_OK);
        for (int k = 0; k < counts[r]; k++)
            assert_int_equal(tl_coo_push(&c, u, k, (float)(k + 1), 100 + k), TL_OK);
    }
    assert_int_equal(tl_data_build(&d, &c, TL_DUP_MAX), TL_OK);
    tl_coo_release(&c);

    tl_csr tr, te;
    assert_int_equal(tl_holdout_split(&d, TL_SPLIT_TEMPORAL, 42, 5, &tr, &te), TL_OK);
    assert_int_equal(tr.indptr[1], 0); /* u0 (4 positives) is filtered out */
    assert_int_equal(te.indptr[1], 0);
    assert_int_equal(te.indptr[2] - te.indptr[1], 1); /* u1: k = 1, its latest item */
    assert_int_equal(te.indices[te.indptr[1]], 4);
    assert_int_equal(te.indptr[3] - te.indptr[2], 3); /* u2: k = 3, items 10..12 */
    assert_int_equal(te.indices[te.indptr[2]], 10);
    assert_true(te.data[te.indptr[2]] == 11.0f);
    assert_int_equal(te.ts[te.indptr[2] + 2], 112);
    assert_int_equal(tr.nnz, 4 + 10);
    tl_csr_release(&tr);
    tl_csr_release(&te);

    assert_int_equal(tl_holdout_split(&d, TL_SPLIT_RANDOM, 42, 0, &tr, &te), TL_OK);
    assert_int_equal(te.indptr[1], 1); /* no filter: u0 gives one away */
    assert_int_equal(tr.nnz + te.nnz, d.ui.nnz);
    int differs = 0;
    for (uint64_t seed = 1; seed < 6 && !differs; seed++) {
        tl_csr tr2, te2;
        assert_int_equal(tl_holdout_split(&d, TL_SPLIT_RANDOM, seed, 0, &tr2, &te2), TL_OK);
        differs = memcmp(te.indices, te2.indices, (size_t)te.nnz * sizeof(int32_t)) != 0;
        tl_csr_release(&tr2);
        tl_csr_release(&te2);
    }
    assert_true(differs);
    tl_csr_release(&tr);
    tl_csr_release(&te);
    tl_data_release(&d);
}

static void test_mode_names(void **state)
{
    (void)state;
    tl_split_mode m;
    assert_int_equal(tl_holdout_mode_parse("temporal", &m), TL_OK);
    assert_int_equal(m, TL_SPLIT_TEMPORAL);
    assert_int_equal(tl_holdout_mode_parse("random", &m), TL_OK);
    assert_int_equal(m, TL_SPLIT_RANDOM);
    assert_int_equal(tl_holdout_mode_parse("Random", &m), TL_EINVAL);
    assert_string_equal(tl_holdout_mode_name(TL_SPLIT_TEMPORAL), "temporal");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_test_count),
        cmocka_unit_test(test_key_matches_split_py),
        cmocka_unit_test(test_byte_ranks),
        cmocka_unit_test(test_pick),
        cmocka_unit_test(test_split_equals_split_py_on_ml100k),
        cmocka_unit_test(test_split_shapes_and_filter),
        cmocka_unit_test(test_mode_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
