/* Explanations come from the model that scored: for every model type that explains from a
 * history, taking the top evidence item out of the history lowers the score of the item it
 * explained (the evidence is the history item that contributes most to that score, by the
 * model's own decomposition, not a story told afterwards). popular is not among them: its
 * reason is how many patrons have the item, with no history behind it. With
 * TL_TEST_DB=postgres (test_explanations_postgres) the store is a PostgreSQL database. */
#include "pg_server.h"
#include "support.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const models[] = {"itemknn", "ials",     "ease",  "rp3beta",
                                     "content", "sequence", "hybrid"};

static char db[512];

/* 40 patrons over 30 items in three subjects (the same shape as test_erasure's data). */
static int setup(void **state)
{
    (void)state;
    char *events = malloc(1 << 16), items[1 << 12];
    if (!events)
        return -1;
    size_t o = (size_t)snprintf(items, sizeof(items), "item\ttitle\tsubjects\tauthors\n");
    for (int i = 0; i < 30; i++)
        o +=
            (size_t)snprintf(items + o, sizeof(items) - o, "i%02d\tTitle %d\t%s\tAuthor %d\n", i, i,
                             i % 3 == 0   ? "Birds|Nature"
                             : i % 3 == 1 ? "Ships|History"
                                          : "Stars",
                             i % 7);
    o = (size_t)snprintf(events, 1 << 16, "user\titem\ttype\ttimestamp\n");
    for (int u = 0; u < 40; u++)
        for (int k = 0; k < 6 + u % 5; k++)
            o += (size_t)snprintf(events + o, (1 << 16) - o, "u%02d\ti%02d\tloan\t%d\n", u,
                                  (u * 7 + k * (u % 3 + 1) * 3) % 29, 1000 + u * 50 + k);
    snprintf(db, sizeof(db), "%s", tl_test_store("explain.db"));
    int rc =
        tl_test_write(tl_test_tmp("explain-items.tsv"), items) ||
        tl_test_write(tl_test_tmp("explain-events.tsv"), events) ||
        tl_test_cli("--db '%s' import items '%s' --quiet", db, tl_test_tmp("explain-items.tsv")) ||
        tl_test_cli("--db '%s' import events '%s' --quiet", db, tl_test_tmp("explain-events.tsv"));
    free(events);
    return rc ? -1 : 0;
}

/* `tailor recommend --history H --n 30 --json` with model m, parsed. */
static json_t *recommend(const char *m, const char *history)
{
    assert_int_equal(tl_test_cli("recommend --model '%s' --history '%s' --n 30 --json", m, history),
                     0);
    char *out = tl_test_cli_out();
    json_t *j = json_loads(out, 0, NULL);
    free(out);
    assert_non_null(j);
    return j;
}

/* The score of item in j's items (-inf when it is not among them: below every listed one). */
static double score_of(json_t *j, const char *item)
{
    size_t k;
    json_t *it;
    json_array_foreach(json_object_get(j, "items"), k, it)
    {
        if (strcmp(json_string_value(json_object_get(it, "item")), item) == 0)
            return json_number_value(json_object_get(it, "score"));
    }
    return -1e300;
}

/* history without item (comma-separated lists). */
static void without(const char *history, const char *item, char *out, size_t len)
{
    char copy[256], *save = NULL;
    snprintf(copy, sizeof(copy), "%s", history);
    out[0] = '\0';
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
        if (strcmp(t, item) != 0)
            snprintf(out + strlen(out), len - strlen(out), "%s%s", out[0] ? "," : "", t);
}

static void test_removing_the_top_evidence_lowers_the_score(void **state)
{
    (void)state;
    const char *histories[] = {"i00,i07,i14,i21", "i03,i04,i05,i09,i12", "i01,i10,i19,i28"};
    for (size_t k = 0; k < sizeof(models) / sizeof(models[0]); k++) {
        char m[600];
        snprintf(m, sizeof(m), "%s/explain-%s.tlm", tl_test_tmpdir(), models[k]);
        assert_int_equal(
            tl_test_cli("--db '%s' train --model %s --out '%s' --quiet", db, models[k], m), 0);
        int checked = 0;
        for (size_t h = 0; h < sizeof(histories) / sizeof(histories[0]); h++) {
            json_t *j = recommend(m, histories[h]);
            size_t r;
            json_t *it;
            json_array_foreach(json_object_get(j, "items"), r, it)
            {
                if (r >= 5) /* the top five of each list */
                    break;
                json_t *ev = json_array_get(json_object_get(it, "because"), 0);
                const char *e = json_string_value(json_object_get(ev, "item"));
                if (!e || json_number_value(json_object_get(ev, "weight")) <= 0)
                    continue; /* nothing in the history behind it (a popular fill) */
                const char *item = json_string_value(json_object_get(it, "item"));
                double before = json_number_value(json_object_get(it, "score"));
                char rest[256];
                without(histories[h], e, rest, sizeof(rest));
                json_t *after = recommend(m, rest);
                double now = score_of(after, item);
                if (!(now < before))
                    fail_msg("%s: %s for history %s scored %g; without its top evidence %s, %g",
                             models[k], item, histories[h], before, e, now);
                json_decref(after);
                checked++;
            }
            json_decref(j);
        }
        printf("%s: %d explained recommendations checked\n", models[k], checked);
        assert_true(checked >= 5);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_removing_the_top_evidence_lowers_the_score),
    };
    if (tl_test_on_pg() && !tl_test_pg_start())
        return TL_TEST_SKIP;
    return cmocka_run_group_tests(tests, setup, NULL);
}
