/* README.md's command examples run as written: every ```sh block of "Using the `tailor`
 * command" is executed with `sh -e` in a folder holding tests/data/readme/, with `tailor` on the
 * PATH. An example that stops working fails here, not in a new user's hands. */
#include "support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SECTION "## Using the `tailor` command"

/* The ```sh blocks of the section, one after the other. */
static char *examples(const char *readme)
{
    const char *s = strstr(readme, SECTION);
    assert_non_null(s);
    const char *end = strstr(s + strlen(SECTION), "\n## ");
    size_t cap = strlen(s) + 1, n = 0;
    char *out = malloc(cap);
    assert_non_null(out);
    for (const char *p = s; p && (!end || p < end);) {
        const char *open = strstr(p, "```sh\n");
        if (!open || (end && open > end))
            break;
        open += 6;
        const char *close = strstr(open, "```");
        assert_non_null(close);
        memcpy(out + n, open, (size_t)(close - open));
        n += (size_t)(close - open);
        p = close + 3;
    }
    out[n] = '\0';
    return out;
}

static void test_readme_examples_run(void **state)
{
    (void)state;
    char *readme = tl_test_read(tl_test_source("README.md"));
    assert_non_null(readme);
    char *script = examples(readme);
    assert_non_null(strstr(script, "tailor recommend"));
    const char *dir = tl_test_tmp("readme");
    char path[600];
    snprintf(path, sizeof(path), "%s/run.sh", dir);
    assert_int_equal(tl_test_sh("mkdir -p '%s/bin' && cp '%s'/* '%s' && gzip '%s/loans.jsonl' && "
                                "ln -s '%s' '%s/bin/tailor'",
                                dir, tl_test_source("tests/data/readme"), dir, dir, tl_test_bin(),
                                dir),
                     0);
    assert_int_equal(tl_test_write(path, script), 0);
    int rc = tl_test_sh("cd '%s' && env -u TAILOR_DB PATH=\"$PWD/bin:$PATH\" sh -e -x run.sh "
                        "> out.txt 2> err.txt",
                        dir);
    if (rc != 0) {
        char *err = tl_test_read(tl_test_tmp("readme/err.txt"));
        fail_msg("README example failed (exit %d); the trace ends:\n%s", rc,
                 err ? err + (strlen(err) > 3000 ? strlen(err) - 3000 : 0) : "");
    }
    /* what the examples promise */
    char *out = tl_test_read(tl_test_tmp("readme/out.txt"));
    char *recs = tl_test_read(tl_test_tmp("readme/recs.tsv"));
    assert_non_null(out);
    assert_non_null(recs);
    assert_non_null(strstr(out, "\"reason\":\"popular: no usable history for this patron\""));
    assert_non_null(strstr(out, "ndcg@10"));
    /* tailor analytics --section demand, and the CSV file of every section */
    assert_non_null(strstr(out, "== Demand by subject vs holdings =="));
    assert_non_null(strstr(out, "  fantasy 54    54     49    16    23      0.907"));
    char *csv = tl_test_read(tl_test_tmp("readme/analytics.csv"));
    assert_non_null(csv);
    assert_true(strncmp(csv, "section,subject,items,copies,loans,", 35) == 0);
    assert_non_null(strstr(csv, "\nnew,(all),"));
    free(csv);
    assert_true(strncmp(recs, "user\titem\trank\tscore\n", 21) == 0);
    /* the learning path walk-through: p1 is at step 2 of 4, the next step is 3 with item 1
     * first and 16 as its alternative, until other patrons' feedback puts 16 first */
    assert_non_null(strstr(out, "imported 1 path, 5 steps"));
    const char *walk = strstr(out, "step 2 of 4 done\nnext: step 3\n  1  ");
    assert_non_null(walk);
    assert_non_null(strstr(walk, "  or 16  "));
    assert_non_null(strstr(out, "\"position\":2,\"complete\":false"));
    assert_non_null(strstr(out, "\"next\":{\"pos\":3,\"level\":2,\"item\":{\"item\":\"16\""));
    assert_non_null(strstr(out, "\"alternatives\":[{\"item\":\"1\""));
    assert_non_null(strstr(out, "proposed-poetry\tpoetry: a proposed path"));
    assert_non_null(strstr(out, "1 ratings, mean 5.00"));
    char *exp = tl_test_read(tl_test_tmp("readme/p1.json"));
    assert_non_null(exp);
    assert_non_null(strstr(exp, "\"lists\":[{\"id\":\"p1-summer\""));
    free(exp);
    free(out);
    free(recs);
    free(script);
    free(readme);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_readme_examples_run),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
