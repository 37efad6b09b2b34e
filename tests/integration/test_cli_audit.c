/* `tailor audit` on a small trained model: the JSON fields and their ranges, the text table,
 * the HTML page (inline SVG, nothing fetched, no script), the errors (no model, a bad model
 * file, an unwritable --html path: a message and a non-zero exit, never a partial report), and
 * the demo library's page rendered in headless Chromium (a screenshot, no console message),
 * skipped with a message when no Chromium is installed. */
#include "support.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char ITEMS[] = "item\ttitle\tcreators\tyear\tsubjects\n"
                            "a\tAlpha\t\t2001\tpoetry|verse\n"
                            "b\tBeta\t\t2002\tpoetry\n"
                            "c\tGamma\t\t2003\tchemistry\n"
                            "d\tDelta\t\t2004\tchemistry|physics\n"
                            "e\tEpsilon & <Sons>\t\t2005\thistory\n"
                            "f\tZeta\t\t2006\t\n";

static const char INTERACTIONS[] = "user\titem\tvalue\ttimestamp\n"
                                   "u1\ta\t1\t100\nu1\tb\t1\t101\nu1\tc\t1\t102\n"
                                   "u2\ta\t1\t100\nu2\tc\t1\t101\nu2\td\t1\t102\n"
                                   "u3\tb\t1\t100\nu3\td\t1\t101\nu3\te\t1\t102\n"
                                   "u4\ta\t1\t100\nu4\te\t1\t101\nu4\tf\t1\t102\n"
                                   "u5\tc\t1\t100\nu5\td\t1\t101\n";

static const char *model(void)
{
    static int made;
    if (!made) {
        assert_int_equal(tl_test_write(tl_test_tmp("items.tsv"), ITEMS), 0);
        assert_int_equal(tl_test_write(tl_test_tmp("inter.tsv"), INTERACTIONS), 0);
        tl_test_cli_check(tl_test_cli("train --model itemknn --set autotune=0 --data '%s' "
                                      "--items '%s' --out '%s'",
                                      tl_test_tmp("inter.tsv"), tl_test_tmp("items.tsv"),
                                      tl_test_tmp("m.tlm")),
                          0, NULL, NULL);
        made = 1;
    }
    return tl_test_tmp("m.tlm");
}

static double num_at(json_t *root, const char *obj, const char *key)
{
    json_t *o = obj ? json_object_get(root, obj) : root;
    assert_non_null(o);
    json_t *v = json_object_get(o, key);
    if (!json_is_number(v))
        fail_msg("%s.%s is not a number", obj ? obj : "", key);
    return json_number_value(v);
}

/* The lists after a re-ranker are audited by the same measures: the report says which. */
static void test_rerank(void **state)
{
    (void)state;
    char m[512];
    snprintf(m, sizeof(m), "%s", model());
    tl_test_cli_check(tl_test_cli("audit --model '%s' --json --n 3 --diversify 0.5 "
                                  "--max-per-author 1",
                                  m),
                      0, NULL, NULL);
    char *out = tl_test_cli_out();
    json_t *j = json_loads(out, 0, NULL);
    free(out);
    assert_non_null(j);
    assert_true(num_at(j, "rerank", "diversify") == 0.5);
    assert_int_equal((int)num_at(j, "rerank", "max_per_author"), 1);
    assert_true(num_at(j, "coverage", "share") > 0);
    json_decref(j);
    tl_test_cli_check(tl_test_cli("audit --model '%s' --diversify 2", m), 2, NULL, "diversify");
}

static void test_json(void **state)
{
    (void)state;
    char m[512];
    snprintf(m, sizeof(m), "%s", model());
    tl_test_cli_check(tl_test_cli("audit --model '%s' --json --n 2", m), 0, NULL, NULL);
    char *out = tl_test_cli_out();
    json_error_t err;
    json_t *j = json_loads(out, 0, &err);
    if (!j)
        fail_msg("not JSON (%s): %s", err.text, out);
    assert_string_equal(json_string_value(json_object_get(j, "kind")), "itemknn");
    assert_true(json_is_null(json_object_get(json_object_get(j, "rerank"), "diversify")));
    assert_int_equal((int)num_at(j, NULL, "patrons"), 5);
    assert_int_equal((int)num_at(j, NULL, "items"), 6);
    assert_int_equal((int)num_at(j, NULL, "n"), 2);
    assert_int_equal((int)num_at(j, NULL, "loans"), 14);
    double recs = num_at(j, NULL, "recommendations");
    assert_true(recs > 0 && recs <= 10);
    double cov = num_at(j, "coverage", "share");
    assert_true(cov > 0 && cov <= 1);
    assert_true(num_at(j, "gini", "recommendations") >= 0 && num_at(j, "gini", "loans") < 1);
    assert_int_equal(json_array_size(json_object_get(json_object_get(j, "gini"), "lorenz_loans")),
                     101);
    double pct = num_at(j, "popularity_percentile", "recommendations");
    assert_true(pct >= 0 && pct <= 100);
    assert_true(num_at(j, "long_tail", "head_loan_share") >= 0.2);
    assert_true(num_at(j, "novelty_bits", "loans") > 0);
    double ild = num_at(j, "intra_list_diversity", "mean");
    assert_true(ild >= 0 && ild <= 1);
    assert_int_equal((int)num_at(j, "intra_list_diversity", "catalogue_subjects"), 5);
    json_t *subjects = json_object_get(j, "subjects");
    assert_true(json_array_size(subjects) >= 1);
    json_t *s0 = json_array_get(subjects, 0);
    assert_non_null(json_string_value(json_object_get(s0, "subject")));
    assert_true(num_at(s0, NULL, "recommendation_share") > 0);
    assert_true(num_at(s0, NULL, "catalogue_share") > 0);
    json_decref(j);
    free(out);
}

static void test_text(void **state)
{
    (void)state;
    char m[512];
    snprintf(m, sizeof(m), "%s", model());
    tl_test_cli_check(tl_test_cli("audit --model '%s'", m), 0, "catalogue coverage", NULL);
    tl_test_cli_check(tl_test_cli("audit --model '%s'", m), 0, "subject exposure", NULL);
    tl_test_cli_check(tl_test_cli("audit --model '%s' --out '%s'", m, tl_test_tmp("a.txt")), 0,
                      NULL, NULL);
    char *t = tl_test_read(tl_test_tmp("a.txt"));
    assert_non_null(t);
    assert_non_null(strstr(t, "Gini of exposure"));
    free(t);
}

static void test_html(void **state)
{
    (void)state;
    char m[512], page[512];
    snprintf(m, sizeof(m), "%s", model());
    snprintf(page, sizeof(page), "%s", tl_test_tmp("audit.html"));
    tl_test_cli_check(tl_test_cli("audit --model '%s' --html '%s' --json", m, page), 0, "\"gini\"",
                      NULL);
    char *h = tl_test_read(page);
    assert_non_null(h);
    assert_int_equal(strncmp(h, "<!DOCTYPE html>", 15), 0);
    assert_non_null(strstr(h, "<svg"));
    assert_non_null(strstr(h, "<polyline"));      /* the Lorenz curves */
    assert_non_null(strstr(h, "class=\"recs\"")); /* the subject bars */
    assert_non_null(strstr(h, "Catalogue coverage"));
    assert_null(strstr(h, "http://"));
    assert_null(strstr(h, "https://"));
    assert_null(strstr(h, "<script"));
    assert_null(strstr(h, "<link"));
    assert_non_null(strstr(h, "</html>"));
    free(h);
}

static void test_errors(void **state)
{
    (void)state;
    char m[512];
    snprintf(m, sizeof(m), "%s", model());
    tl_test_cli_check(tl_test_cli("audit"), 2, NULL, "needs --model FILE");
    tl_test_cli_check(tl_test_cli("audit --model '%s' --n 0", m), 2, NULL, "--n");
    tl_test_cli_check(tl_test_cli("audit --model '%s'", tl_test_tmp("absent.tlm")), 1, NULL,
                      "audit: loading the model");
    assert_int_equal(tl_test_write(tl_test_tmp("junk.tlm"), "not a model\n"), 0);
    tl_test_cli_check(tl_test_cli("audit --model '%s' --json", tl_test_tmp("junk.tlm")), 1, NULL,
                      "audit: loading the model");
    char *out = tl_test_cli_out();
    assert_string_equal(out, ""); /* nothing half-written */
    free(out);
    /* an --html path in a missing directory: an error before any output, exit 1 */
    int rc = tl_test_cli("audit --model '%s' --json --html '%s/no/such/dir/a.html'", m,
                         tl_test_tmpdir());
    tl_test_cli_check(rc, 1, NULL, "a.html");
    out = tl_test_cli_out();
    assert_string_equal(out, "");
    free(out);
    /* a failed --out leaves no --html behind, and the other way round */
    rc = tl_test_cli("audit --model '%s' --html '%s' --out '%s/no/dir/r.json'", m,
                     tl_test_tmp("orphan.html"), tl_test_tmpdir());
    assert_int_not_equal(rc, 0);
    struct stat st;
    assert_int_not_equal(stat(tl_test_tmp("orphan.html"), &st), 0);
    tl_test_cli_check(tl_test_cli("audit --model '%s' --html -", m), 2, NULL, "--html");
}

/* $TL_CHROMIUM, else the first of the usual names of Chromium on PATH; NULL when that is not
 * a command. */
static const char *chromium(void)
{
    static const char *const names[] = {"chromium", "chromium-browser", "google-chrome"};
    const char *env = getenv("TL_CHROMIUM");
    if (env && *env)
        return tl_test_sh("command -v '%s' >/dev/null 2>&1", env) == 0 ? env : NULL;
    for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++)
        if (tl_test_sh("command -v %s >/dev/null 2>&1", names[k]) == 0)
            return names[k];
    return NULL;
}

/* Renders url headless; returns its stderr log (malloc'd) after checking the exit status. */
static char *render(const char *browser, const char *url, const char *what)
{
    char log[512], dom[512];
    snprintf(log, sizeof(log), "%s", tl_test_tmp("chromium.log"));
    snprintf(dom, sizeof(dom), "%s", tl_test_tmp("dom.html"));
    int rc =
        tl_test_sh("timeout 120 '%s' --headless --disable-gpu --no-sandbox --user-data-dir='%s' "
                   "%s --enable-logging=stderr --v=0 '%s' > '%s' 2> '%s'",
                   browser, tl_test_tmp("chromium-profile"), what, url, dom, log);
    assert_int_equal(rc, 0);
    char *text = tl_test_read(log);
    assert_non_null(text);
    return text;
}

/* The demo library's report, as `make demo` makes the library (fewer patrons, for time). */
static void test_chromium_renders_demo_report(void **state)
{
    (void)state;
    const char *browser = chromium();
    if (!browser) {
        fprintf(stderr, "test_cli_audit: no Chromium (chromium on PATH, or $TL_CHROMIUM; "
                        "scripts/deps.sh installs it): skipping the rendering check\n");
        skip();
    }
    char dir[512], db[512], m[512], page[512], url[600], shot[512];
    snprintf(dir, sizeof(dir), "%s", tl_test_tmp("demo"));
    snprintf(db, sizeof(db), "%s", tl_test_tmp("demo.db"));
    snprintf(m, sizeof(m), "%s", tl_test_tmp("demo.tlm"));
    snprintf(page, sizeof(page), "%s", tl_test_tmp("demo-audit.html"));
    snprintf(shot, sizeof(shot), "%s", tl_test_tmp("demo-audit.png"));
    tl_test_cli_check(tl_test_cli("synth --library --books '%s' --subjects '%s' --seed 42 "
                                  "--patrons 400 --out '%s'",
                                  tl_test_source("demo/books.csv"),
                                  tl_test_source("demo/subjects.tsv"), dir),
                      0, NULL, NULL);
    const char *kinds[] = {"items", "users", "events"};
    for (int k = 0; k < 3; k++)
        tl_test_cli_check(
            tl_test_cli("--db '%s' import %s '%s/%s.tsv'", db, kinds[k], dir, kinds[k]), 0, NULL,
            NULL);
    tl_test_cli_check(
        tl_test_cli("--db '%s' train --model itemknn --set autotune=0 --out '%s'", db, m), 0, NULL,
        NULL);
    tl_test_cli_check(tl_test_cli("audit --model '%s' --html '%s'", m, page), 0, NULL, NULL);
    snprintf(url, sizeof(url), "file://%s", page);

    /* the harness sees console messages: a page that logs one is caught */
    char bad[512], bad_url[600];
    snprintf(bad, sizeof(bad), "%s", tl_test_tmp("bad.html"));
    assert_int_equal(
        tl_test_write(bad, "<!DOCTYPE html><p>x</p><script>console.error('boom')</script>\n"), 0);
    snprintf(bad_url, sizeof(bad_url), "file://%s", bad);
    char *log = render(browser, bad_url, "--dump-dom");
    assert_non_null(strstr(log, "CONSOLE"));
    free(log);

    log = render(browser, url, "--dump-dom");
    if (strstr(log, "CONSOLE"))
        fail_msg("the report logged to the console:\n%.4000s", log);
    free(log);
    char *dom = tl_test_read(tl_test_tmp("dom.html"));
    assert_non_null(dom);
    assert_non_null(strstr(dom, "<svg"));
    assert_non_null(strstr(dom, "Recommendation audit"));
    free(dom);

    char what[600];
    snprintf(what, sizeof(what), "--screenshot='%s' --window-size=1200,2000", shot);
    log = render(browser, url, what);
    if (strstr(log, "CONSOLE"))
        fail_msg("the report logged to the console:\n%.4000s", log);
    free(log);
    struct stat st;
    assert_int_equal(stat(shot, &st), 0);
    assert_true(st.st_size > 20000); /* a blank 1200x2000 PNG is a few kB */
    FILE *f = fopen(shot, "rb");
    assert_non_null(f);
    unsigned char sig[8];
    assert_int_equal(fread(sig, 1, 8, f), 8);
    fclose(f);
    assert_memory_equal(sig, "\x89PNG\r\n\x1a\n", 8);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json),   cmocka_unit_test(test_rerank),
        cmocka_unit_test(test_text),   cmocka_unit_test(test_html),
        cmocka_unit_test(test_errors), cmocka_unit_test(test_chromium_renders_demo_report),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
