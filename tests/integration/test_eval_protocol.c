/* The evaluation protocol end to end against the referee (tools/split.py, tools/evaluate.py):
 * `tailor split` writes the same bytes, `tailor eval` prints the same metrics (to 1e-6) on the
 * same recs, defects included, and `tailor tune` carves the same validation split. */
#include "support.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/holdout.h"
#include "eval/split.h"
#include "ingest/matrix_tsv.h"
#include "util/lines.h"

#define PYTHON "/usr/bin/python3"

static int have_referee(void)
{
    return access(PYTHON, X_OK) == 0 && tl_test_shared("tools/split.py") &&
           tl_test_shared("tools/evaluate.py");
}

/* tl_test_shared's answer copied (its buffers are reused), or NULL when absent. */
static const char *shared(const char *rel, char *buf, size_t n)
{
    const char *p = tl_test_shared(rel);
    if (!p)
        return NULL;
    snprintf(buf, n, "%s", p);
    return buf;
}

static const char *tmp(const char *name)
{
    static char bufs[16][1024];
    static int next;
    char *b = bufs[next++ % 16];
    snprintf(b, sizeof(bufs[0]), "%s/%s", tl_test_tmpdir(), name);
    return b;
}

/* Runs split.py and tailor split with the same arguments into py-<tag> and c-<tag>; both must
 * succeed and agree byte for byte on train.tsv, test.tsv and the printed counts. */
static void split_both(const char *input, const char *tag, const char *args)
{
    char py[512], c[600];
    snprintf(py, sizeof(py), "%s", tmp(tag));
    snprintf(c, sizeof(c), "%s.c", py);
    assert_int_equal(tl_test_sh(PYTHON " '%s' '%s' '%s' %s > '%s.out'",
                                tl_test_shared("tools/split.py"), input, py, args, py),
                     0);
    assert_int_equal(
        tl_test_sh("'%s' split '%s' '%s' %s > '%s.out'", tl_test_bin(), input, c, args, c), 0);
    if (tl_test_sh("cmp '%s/train.tsv' '%s/train.tsv' && cmp '%s/test.tsv' '%s/test.tsv' && "
                   "cmp '%s.out' '%s.out'",
                   py, c, py, c, py, c) != 0)
        fail_msg("tailor split differs from split.py on %s %s", input, args);
}

/* The ml-100k split of a mode (random seed 42, or temporal), made and checked once. */
static const char *ml100k_split(const char *mode)
{
    static int done[2];
    int t = strcmp(mode, "temporal") == 0;
    const char *tag = t ? "m1-t" : "m1-r42";
    if (!done[t]) {
        split_both(tl_test_shared("data/ml-100k/interactions.tsv"), tag,
                   t ? "--mode temporal" : "--mode random --seed 42");
        done[t] = 1;
    }
    return tmp(tag);
}

static void test_split_identical_on_movielens(void **state)
{
    (void)state;
    char b1[1024], b2[1024];
    const char *ml100k = shared("data/ml-100k/interactions.tsv", b1, sizeof(b1));
    const char *mls = shared("data/ml-latest-small/interactions.tsv", b2, sizeof(b2));
    if (!have_referee() || !ml100k || !mls)
        return;
    ml100k_split("random");
    split_both(ml100k, "m1-r7", "--mode random --seed 7");
    ml100k_split("temporal");
    split_both(mls, "ms-r", "--mode random");
    split_both(mls, "ms-t", "--mode temporal");
}

/* Rows that exercise every rule: binarization of odd spellings, dedup by largest timestamp
 * (negative ones never create a pair), ties, the 5-positive filter at its edge, byte order of
 * multibyte and prefix ids, CRLF, blank lines and an extra header column. */
static const char *edge_rows =
    "user\titem\tvalue\ttimestamp\textra\n"
    "u5\ta\t4\t10\n"
    "u5\tb\t5\t10\n"
    "u5\tc\t4.0\t10\n"
    "u5\td\t 4\t9\n"
    "u5\te\t4_0\t11\n"
    "u5\tf\t3.5\t12\n" /* below 4: not a positive */
    "u4\ta\t5\t1\n"
    "u4\tb\t5\t2\n"
    "u4\tc\t5\t3\n"
    "u4\td\tnan\t4\n" /* NaN is not below 4 */
    "u4\te\t3\t5\n"
    "\xc3\xa9l\xc3\xa8ve\t\xe6\x9b\xb8\t5\t100\n"
    "\xc3\xa9l\xc3\xa8ve\tab\t5\t100\n"
    "\xc3\xa9l\xc3\xa8ve\ta\t5\t100\n"
    "\xc3\xa9l\xc3\xa8ve\tb\t5\t50\r\n"
    "\xc3\xa9l\xc3\xa8ve\tb\t5\t200\n" /* duplicate: the later time counts */
    "\xc3\xa9l\xc3\xa8ve\tb\t5\t150\n"
    "\xc3\xa9l\xc3\xa8ve\tZ\t5\t100\n"
    "\xc3\xa9l\xc3\xa8ve\t\xc3\xa4\t4\t99\n"
    "\n"
    "u\ta\t5\t-5\n" /* a negative time never creates a pair */
    "u\tb\t5\t-1\n"
    "u\tb\t5\t0\n"
    "u\tc\t5\t7\n"
    "u\td\t5\t7\n"
    "u\te\t5\t7\n"
    "u\tf\t5\t7\n"
    "u\tg\t1\t7\n"
    "u10\ti1\t5\t1\n"
    "u10\ti2\t5\t1\n"
    "u10\ti3\t5\t2\n"
    "u10\ti4\t5\t2\n"
    "u10\ti5\t5\t2\n"
    "u10\ti6\t5\t3\n"
    "u10\ti7\t5\t3\n"
    "u10\ti8\t5\t3\n"
    "u10\ti9\t5\t3\n"
    "u10\ti10\t5\t3\n";

static void test_split_edge_cases(void **state)
{
    (void)state;
    if (!have_referee())
        return;
    const char *in = tmp("edge.tsv");
    assert_int_equal(tl_test_write(in, edge_rows), 0);
    split_both(in, "e-r", "--mode random");
    split_both(in, "e-r3", "--mode random --seed 3");
    split_both(in, "e-t", "--mode temporal");
    split_both(in, "e-i", "--mode random --implicit");
    split_both(in, "e-nf", "--mode temporal --no-filter --implicit");
    split_both(in, "e-nfr", "--mode random --seed 99 --no-filter");
    /* gzip input, as split.py reads it */
    assert_int_equal(tl_test_sh("gzip -c '%s' > '%s.gz'", in, in), 0);
    char gz[1100];
    snprintf(gz, sizeof(gz), "%s.gz", in);
    split_both(gz, "e-gz", "--mode temporal --no-filter");
    /* the filter's edge: u5 (5 positives) stays, u4 (4) goes; u5's test pair is e */
    char *test = tl_test_read(tmp("e-t.c/test.tsv"));
    assert_non_null(test);
    assert_non_null(strstr(test, "u5\te\n"));
    assert_null(strstr(test, "u4\t"));
    free(test);
}

/* Bad input fails with split.py's message and line number (after "tailor: split: "). */
static void expect_same_error(const char *name, const char *text, const char *args)
{
    const char *in = tmp(name);
    assert_int_equal(tl_test_write(in, text), 0);
    assert_int_equal(tl_test_sh(PYTHON " '%s' '%s' '%s.py' %s 2> '%s.pyerr' >/dev/null",
                                tl_test_shared("tools/split.py"), in, in, args, in),
                     1);
    assert_int_equal(tl_test_sh("'%s' split '%s' '%s.c' %s 2> '%s.err' >/dev/null", tl_test_bin(),
                                in, in, args, in),
                     3);
    char p1[1100], p2[1100];
    snprintf(p1, sizeof(p1), "%s.pyerr", in);
    snprintf(p2, sizeof(p2), "%s.err", in);
    char *pe = tl_test_read(p1), *ce = tl_test_read(p2);
    assert_non_null(pe);
    assert_non_null(ce);
    const char *prefix = "tailor: split: ";
    assert_memory_equal(ce, prefix, strlen(prefix));
    assert_string_equal(ce + strlen(prefix), pe);
    free(pe);
    free(ce);
}

static void test_split_errors(void **state)
{
    (void)state;
    if (!have_referee())
        return;
    const char *h = "user\titem\tvalue\ttimestamp\n";
    char buf[512];
    snprintf(buf, sizeof(buf), "%su\ta\t5\t1\nu\tb\t5\t\nu\tc\t5\t3\n", h);
    expect_same_error("err-ts.tsv", buf, "--mode temporal"); /* line 3 */
    snprintf(buf, sizeof(buf), "%su\ta\t5\t1\n\nu\tb\tfive\t2\n", h);
    expect_same_error("err-val.tsv", buf, "--mode random"); /* line 4, blank line counted */
    snprintf(buf, sizeof(buf), "%su\ta\t5\t1\nu\tb\t5\n", h);
    expect_same_error("err-fields.tsv", buf, "--mode random");
    snprintf(buf, sizeof(buf), "%su\ta\t5\t1.5\n", h);
    expect_same_error("err-int.tsv", buf, "--mode random");
    expect_same_error("err-head.tsv", "user\titem\trating\ttimestamp\nu\ta\t5\t1\n",
                      "--mode random");
    expect_same_error("err-empty.tsv", "", "--mode random");
    /* a row that is not a positive is not checked further, by either */
    snprintf(buf, sizeof(buf), "%su\ta\t2\tnot-a-time\n", h);
    assert_int_equal(tl_test_write(tmp("ok-neg.tsv"), buf), 0);
    split_both(tmp("ok-neg.tsv"), "ok-neg", "--mode random");
}

/* Both JSON objects have every key of evaluate.py with values within 1e-6. */
static void assert_metrics_agree(const char *py_json, const char *c_json)
{
    json_error_t e;
    json_t *a = json_load_file(py_json, 0, &e), *b = json_load_file(c_json, 0, &e);
    assert_non_null(a);
    assert_non_null(b);
    static const char *const keys[] = {"ndcg@10",
                                       "ndcg@100",
                                       "recall@20",
                                       "recall@50",
                                       "precision@10",
                                       "map@10",
                                       "hitrate@10",
                                       "coverage@10",
                                       "users",
                                       "users_without_recs",
                                       "train_item_violations",
                                       "duplicate_rows"};
    assert_int_equal(json_object_size(a), 12);
    for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
        json_t *x = json_object_get(a, keys[k]), *y = json_object_get(b, keys[k]);
        if (!x || !y)
            fail_msg("key %s missing", keys[k]);
        double dx = json_number_value(x), dy = json_number_value(y);
        if (fabs(dx - dy) > 1e-6)
            fail_msg("%s: evaluate.py %.9f, tailor %.9f", keys[k], dx, dy);
    }
    json_decref(a);
    json_decref(b);
}

/* A recs file with every defect evaluate.py counts, written from a split's files: lists that
 * cycle through the train catalogue, some test items placed at known ranks, own train items,
 * repeated items, ties in rank, ranks past 100, users without lists and users not in test. */
static void write_defective_recs(const char *train, const char *test, const char *out)
{
    char **items = NULL, **own = NULL, **users = NULL, **truth = NULL;
    size_t ni = 0, nu = 0, cap = 0, ucap = 0;
    tl_lines lr;
    char *line;
    size_t len;
    assert_int_equal(tl_lines_open(&lr, train), TL_OK);
    char *last_user = NULL;
    while (tl_lines_next(&lr, &line, &len) == 1) {
        if (lr.lineno == 1)
            continue;
        char *tab = strchr(line, '\t');
        *tab = '\0';
        if (ni == cap) {
            cap = cap ? cap * 2 : 1024;
            items = realloc(items, cap * sizeof(*items));
            own = realloc(own, cap * sizeof(*own));
        }
        own[ni] = strdup(line); /* the row's user, to find a user's own items */
        items[ni++] = strdup(tab + 1);
    }
    tl_lines_close(&lr);
    assert_int_equal(tl_lines_open(&lr, test), TL_OK);
    while (tl_lines_next(&lr, &line, &len) == 1) {
        if (lr.lineno == 1)
            continue;
        char *tab = strchr(line, '\t');
        *tab = '\0';
        if (last_user && strcmp(last_user, line) == 0)
            continue; /* the first test item of each user */
        if (nu == ucap) {
            ucap = ucap ? ucap * 2 : 1024;
            users = realloc(users, ucap * sizeof(*users));
            truth = realloc(truth, ucap * sizeof(*truth));
        }
        users[nu] = strdup(line);
        truth[nu++] = strdup(tab + 1);
        last_user = users[nu - 1];
    }
    tl_lines_close(&lr);
    FILE *f = fopen(out, "wb");
    assert_non_null(f);
    fprintf(f, "user\titem\trank\n");
    for (size_t u = 0; u < nu; u++) {
        if (u % 17 == 3)
            continue;                  /* no list */
        int n = 60 + (int)(u % 50);    /* some lists run past rank 100 */
        for (int r = n; r >= 1; r--) { /* written backwards: ranks decide, not file order */
            const char *it = items[(u * 31 + (size_t)r * 7) % ni];
            if (r == (int)(u % 12) + 1)
                it = truth[u];
            fprintf(f, "%s\t%s\t%d\n", users[u], it, r);
        }
        if (u % 5 == 0) /* a repeat of the rank-1 item, and a tie at rank 2 */
            fprintf(f, "%s\t%s\t%d\n%s\tTIE-%zu\t2\n", users[u], items[(u * 31 + 7) % ni], 40,
                    users[u], u);
        if (u % 7 == 0) /* one of the user's own train items */
            for (size_t j = 0; j < ni; j++)
                if (strcmp(own[j], users[u]) == 0) {
                    fprintf(f, "%s\t%s\t3\n", users[u], items[j]);
                    break;
                }
    }
    fprintf(f, "ghost\t%s\t1\nghost\t%s\t2\r\n\nghost\t%s\t3\n", items[0], items[0], items[1]);
    fclose(f);
    for (size_t j = 0; j < ni; j++) {
        free(items[j]);
        free(own[j]);
    }
    for (size_t u = 0; u < nu; u++) {
        free(users[u]);
        free(truth[u]);
    }
    free(items);
    free(own);
    free(users);
    free(truth);
}

/* split.py reads lines up to LF and strips the CRs before it: a lone CR inside a line is part
 * of an id, kept byte for byte by both; ids may hold any bytes. A truncated .gz is an error. */
static void test_split_reads_lines_as_split_py(void **state)
{
    (void)state;
    if (!have_referee())
        return;
    const char *in = tmp("cr-in-id.tsv");
    assert_int_equal(tl_test_write(in, "user\titem\tvalue\ttimestamp\r\r\n"
                                       "u1\ta\rb\t5\t1\r\r\n"
                                       "u1\tc\t5\t2\n"
                                       "\r\n"
                                       "u\xff\tc\t5\t3\r\n"
                                       "u2\t\rd\t5\t4\n"),
                     0);
    split_both(in, "cr-r", "--mode random --no-filter");
    split_both(in, "cr-t", "--mode temporal --no-filter --implicit");
    char *test = tl_test_read(tmp("cr-t.c/train.tsv"));
    assert_non_null(test);
    assert_non_null(strstr(test, "u1\ta\rb\n"));
    free(test);
    /* a damaged .gz is refused (split.py dies with a traceback) */
    const char *edge = tmp("edge-cut.tsv");
    FILE *f = fopen(edge, "w");
    assert_non_null(f);
    fputs("user\titem\tvalue\ttimestamp\n", f);
    for (int i = 0; i < 20000; i++)
        fprintf(f, "u%d\ti%d\t5\t%d\n", i % 50, i, i);
    fclose(f);
    assert_int_equal(tl_test_sh("gzip -c '%s' | head -c 20000 > '%s.gz'", edge, edge), 0);
    assert_int_equal(tl_test_sh("'%s' split '%s.gz' '%s' --mode random 2> '%s'", tl_test_bin(),
                                edge, tmp("cut-out"), tmp("cut.err")),
                     3);
    char *err = tl_test_read(tmp("cut.err"));
    assert_non_null(err);
    assert_non_null(strstr(err, "edge-cut.tsv.gz:"));
    assert_non_null(strstr(err, "truncated gzip stream (unexpected end after "));
    free(err);
}

static void test_eval_recs_matches_evaluate_py(void **state)
{
    (void)state;
    char b1[1024];
    const char *ml100k = shared("data/ml-100k/interactions.tsv", b1, sizeof(b1));
    if (!have_referee() || !ml100k)
        return;
    const char *dir = ml100k_split("random");
    char train[1100], test[1100];
    snprintf(train, sizeof(train), "%s/train.tsv", dir);
    snprintf(test, sizeof(test), "%s/test.tsv", dir);
    const char *recs = tmp("defects.tsv");
    write_defective_recs(train, test, recs);
    assert_int_equal(tl_test_sh(PYTHON " '%s' '%s' '%s' '%s' --json > '%s'",
                                tl_test_shared("tools/evaluate.py"), train, test, recs,
                                tmp("defects.py.json")),
                     0);
    assert_int_equal(tl_test_sh("'%s' eval --train '%s' --test '%s' --recs '%s' --json > '%s'",
                                tl_test_bin(), train, test, recs, tmp("defects.c.json")),
                     0);
    assert_metrics_agree(tmp("defects.py.json"), tmp("defects.c.json"));
    /* the defects are really there */
    json_error_t e;
    json_t *a = json_load_file(tmp("defects.py.json"), 0, &e);
    assert_true(json_integer_value(json_object_get(a, "duplicate_rows")) > 0);
    assert_true(json_integer_value(json_object_get(a, "train_item_violations")) > 0);
    assert_true(json_integer_value(json_object_get(a, "users_without_recs")) > 0);
    assert_true(json_real_value(json_object_get(a, "ndcg@10")) > 0.05);
    json_decref(a);
    /* evaluate.py's errors are ours too */
    assert_int_equal(tl_test_write(tmp("badrank.tsv"), "user\titem\trank\nu\ta\t0\n"), 0);
    assert_int_equal(tl_test_sh("'%s' eval --train '%s' --test '%s' --recs '%s' 2> '%s'",
                                tl_test_bin(), train, test, tmp("badrank.tsv"), tmp("badrank.err")),
                     3);
    char *err = tl_test_read(tmp("badrank.err"));
    assert_non_null(strstr(err, "badrank.tsv:2: rank must be at least 1"));
    free(err);
}

static void test_eval_model_matches_evaluate_py(void **state)
{
    (void)state;
    char b1[1024];
    const char *ml100k = shared("data/ml-100k/interactions.tsv", b1, sizeof(b1));
    if (!have_referee() || !ml100k)
        return;
    const char *dir = ml100k_split("temporal");
    char train[1100], test[1100];
    snprintf(train, sizeof(train), "%s/train.tsv", dir);
    snprintf(test, sizeof(test), "%s/test.tsv", dir);
    int rc = tl_test_sh("'%s' eval --train '%s' --test '%s' --model popular --recs-out '%s' "
                        "--json > '%s'",
                        tl_test_bin(), train, test, tmp("pop.tsv"), tmp("pop.c.json"));
    if (rc != 0) /* the popular model has not landed in this tree yet */
        return;
    assert_int_equal(tl_test_sh(PYTHON " '%s' '%s' '%s' '%s' --json > '%s'",
                                tl_test_shared("tools/evaluate.py"), train, test, tmp("pop.tsv"),
                                tmp("pop.py.json")),
                     0);
    assert_metrics_agree(tmp("pop.py.json"), tmp("pop.c.json"));
    json_error_t e;
    json_t *c = json_load_file(tmp("pop.c.json"), 0, &e);
    assert_non_null(c);
    assert_string_equal(json_string_value(json_object_get(c, "model")), "popular");
    assert_true(json_is_object(json_object_get(c, "params")));
    assert_true(json_is_number(json_object_get(c, "fit_seconds")));
    assert_true(json_is_number(json_object_get(c, "recommend_seconds")));
    double nov = json_number_value(json_object_get(c, "novelty@10"));
    double div = json_number_value(json_object_get(c, "diversity@10"));
    assert_true(nov > 0 && nov < 20);
    assert_true(div > 0 && div < 1);
    assert_int_equal(json_integer_value(json_object_get(c, "train_item_violations")), 0);
    assert_int_equal(json_integer_value(json_object_get(c, "duplicate_rows")), 0);
    json_decref(c);
    /* an unknown model or parameter is a usage error */
    assert_int_equal(tl_test_sh("'%s' eval --train '%s' --test '%s' --model nosuch 2>/dev/null",
                                tl_test_bin(), train, test),
                     2);
    assert_int_equal(tl_test_sh("'%s' eval --train '%s' --test '%s' --model popular --set "
                                "nosuch=1 2>/dev/null",
                                tl_test_bin(), train, test),
                     2);
}

/* Counts the data lines of a pairs file. */
static long count_pairs(const char *path)
{
    char *t = tl_test_read(path);
    assert_non_null(t);
    long n = -1; /* the header */
    for (char *p = t; *p; p++)
        n += *p == '\n';
    free(t);
    return n;
}

/* Every pair of a split.py file is in m, and m has no other. */
static void assert_file_equals_csr(const char *path, const tl_data *d, const tl_csr *m)
{
    tl_lines lr;
    char *line;
    size_t len;
    int64_t n = 0;
    assert_int_equal(tl_lines_open(&lr, path), TL_OK);
    while (tl_lines_next(&lr, &line, &len) == 1) {
        if (lr.lineno == 1)
            continue;
        char *tab = strchr(line, '\t');
        int32_t u = tl_intern_find(&d->users, line, (size_t)(tab - line));
        int32_t i = tl_intern_find(&d->items, tab + 1, strlen(tab + 1));
        if (u < 0 || i < 0 || tl_csr_find(m, u, i) < 0)
            fail_msg("%s: %s not in the in-memory split", path, line);
        n++;
    }
    tl_lines_close(&lr);
    assert_int_equal(n, m->nnz);
}

/* The temporal validation split of train.tsv, with timestamps taken from the interactions,
 * equals split.py --no-filter on train with those timestamps written in. */
static void test_temporal_validation_split(void **state)
{
    (void)state;
    char b1[1024];
    const char *ml100k = shared("data/ml-100k/interactions.tsv", b1, sizeof(b1));
    if (!have_referee() || !ml100k)
        return;
    char train[1100];
    snprintf(train, sizeof(train), "%s/train.tsv", ml100k_split("temporal"));
    tl_data d;
    tl_data_init(&d);
    tl_tsv_opts to;
    tl_tsv_opts_init(&to);
    tl_diag diag;
    assert_int_equal(tl_data_load_tsv(&d, train, &to, &diag), TL_OK);
    tl_split_opts so;
    tl_split_opts_init(&so);
    so.mode = TL_SPLIT_TEMPORAL;
    assert_int_equal(tl_split_attach_timestamps(ml100k, &so, &d, &diag), TL_OK);
    assert_non_null(d.ui.ts);
    assert_non_null(d.iu.ts);
    FILE *f = fopen(tmp("train4.tsv"), "wb");
    fprintf(f, "user\titem\tvalue\ttimestamp\n");
    for (int32_t u = 0; u < d.ui.nrows; u++)
        for (int64_t p = d.ui.indptr[u]; p < d.ui.indptr[u + 1]; p++)
            fprintf(f, "%s\t%s\t5\t%lld\n", tl_intern_str(&d.users, u),
                    tl_intern_str(&d.items, d.ui.indices[p]), (long long)d.ui.ts[p]);
    fclose(f);
    assert_int_equal(tl_test_sh(PYTHON " '%s' '%s' '%s' --mode temporal --no-filter >/dev/null",
                                tl_test_shared("tools/split.py"), tmp("train4.tsv"), tmp("vt-py")),
                     0);
    tl_csr tr, te;
    assert_int_equal(tl_holdout_split(&d, TL_SPLIT_TEMPORAL, 42, 0, &tr, &te), TL_OK);
    char p[1100];
    snprintf(p, sizeof(p), "%s/train.tsv", tmp("vt-py"));
    assert_file_equals_csr(p, &d, &tr);
    snprintf(p, sizeof(p), "%s/test.tsv", tmp("vt-py"));
    assert_file_equals_csr(p, &d, &te);
    tl_csr_release(&tr);
    tl_csr_release(&te);
    /* a train pair that the interactions lack is an error, not a silent zero */
    assert_int_equal(tl_test_write(tmp("few.tsv"), "user\titem\tvalue\ttimestamp\n1\t1\t5\t9\n"),
                     0);
    assert_int_equal(tl_split_attach_timestamps(tmp("few.tsv"), &so, &d, &diag), TL_EPARSE);
    tl_data_release(&d);
}

static void test_tune(void **state)
{
    (void)state;
    char b1[1024];
    const char *ml100k = shared("data/ml-100k/interactions.tsv", b1, sizeof(b1));
    if (!have_referee() || !ml100k)
        return;
    char train[1100];
    snprintf(train, sizeof(train), "%s/train.tsv", ml100k_split("random"));
    /* the validation split's size is split.py --no-filter's on train */
    assert_int_equal(tl_test_sh("awk 'BEGIN{FS=OFS=\"\\t\"} NR==1{print \"user\",\"item\","
                                "\"value\",\"timestamp\";next} {print $1,$2,5,\"\"}' '%s' > '%s'",
                                train, tmp("tu4.tsv")),
                     0);
    assert_int_equal(tl_test_sh(PYTHON " '%s' '%s' '%s' --mode random --no-filter >/dev/null",
                                tl_test_shared("tools/split.py"), tmp("tu4.tsv"), tmp("tu-py")),
                     0);
    char vt[1100];
    snprintf(vt, sizeof(vt), "%s/test.tsv", tmp("tu-py"));
    long want_test = count_pairs(vt);

    int rc = tl_test_sh("'%s' tune --train '%s' --model popular --grid use_weights=0,1 --json "
                        "> '%s' 2>/dev/null",
                        tl_test_bin(), train, tmp("tune.json"));
    if (rc != 0) /* the popular model has not landed in this tree yet */
        return;
    json_error_t e;
    json_t *j = json_load_file(tmp("tune.json"), 0, &e);
    assert_non_null(j);
    assert_int_equal(json_integer_value(json_object_get(j, "validation_test_pairs")), want_test);
    assert_int_equal(json_integer_value(json_object_get(j, "validation_train_pairs")) + want_test,
                     count_pairs(train));
    json_t *results = json_object_get(j, "results");
    assert_int_equal(json_array_size(results), 2);
    double best = json_number_value(json_object_get(j, "best_ndcg@10")), top = 0;
    for (size_t k = 0; k < 2; k++) {
        double v = json_number_value(json_object_get(json_array_get(results, k), "ndcg@10"));
        assert_true(v > 0.05 && v < 1);
        if (v > top)
            top = v;
    }
    assert_true(best == top);
    assert_true(json_is_object(json_object_get(j, "best")));
    json_decref(j);
    /* temporal needs timestamps: refused without them, accepted with the interactions */
    assert_int_equal(tl_test_sh("'%s' tune --train '%s' --model popular --mode temporal "
                                ">/dev/null 2>&1",
                                tl_test_bin(), train),
                     2);
    assert_int_equal(tl_test_sh("'%s' tune --train '%s' --model popular --mode temporal "
                                "--interactions '%s' > '%s'",
                                tl_test_bin(), train, ml100k, tmp("tune.txt")),
                     0);
    char *text = tl_test_read(tmp("tune.txt"));
    assert_non_null(strstr(text, "best (validation ndcg@10"));
    free(text);
    /* a test file is never an input */
    assert_int_equal(tl_test_sh("'%s' tune --train '%s' --test x --model popular 2>/dev/null",
                                tl_test_bin(), train),
                     2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split_identical_on_movielens),
        cmocka_unit_test(test_split_edge_cases),
        cmocka_unit_test(test_split_errors),
        cmocka_unit_test(test_split_reads_lines_as_split_py),
        cmocka_unit_test(test_eval_recs_matches_evaluate_py),
        cmocka_unit_test(test_eval_model_matches_evaluate_py),
        cmocka_unit_test(test_temporal_validation_split),
        cmocka_unit_test(test_tune),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
