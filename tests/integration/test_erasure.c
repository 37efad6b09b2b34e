/* A patron's rights end to end through the CLI: an export that round-trips, an erasure after
 * which no stored byte and no model output depends on the patron (a model trained after the
 * erasure equals one trained from a store that never had them, for every model type), consent
 * and the retention job, and the audit log's chain (and its failure when edited). */
#include "support.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#define PATRON "patron-zq81x" /* an id no other byte of the store contains by chance */

static const char *const models[] = {"popular", "itemknn", "ials",     "ease",
                                     "rp3beta", "content", "sequence", "hybrid"};

/* 40 patrons over 30 items in three subjects, each with a deterministic history in time; the
 * patron to erase borrows across subjects, including an item no one else has. */
static void write_data(const char *dir)
{
    char path[600], *events = malloc(1 << 16), *items = malloc(1 << 14);
    assert_non_null(events);
    assert_non_null(items);
    size_t o = (size_t)snprintf(items, 1 << 14, "item\ttitle\tsubjects\tauthors\n");
    for (int i = 0; i < 30; i++)
        o += (size_t)snprintf(items + o, (1 << 14) - o, "i%02d\tTitle %d\t%s\tAuthor %d\n", i, i,
                              i % 3 == 0   ? "Birds|Nature"
                              : i % 3 == 1 ? "Ships|History"
                                           : "Stars",
                              i % 7);
    o = (size_t)snprintf(events, 1 << 16, "user\titem\ttype\ttimestamp\n");
    for (int u = 0; u < 40; u++) {
        if (u == 17) /* the patron, in the middle of the file */
            for (int k = 0; k < 9; k++)
                o += (size_t)snprintf(events + o, (1 << 16) - o, "%s\ti%02d\tloan\t%d\n", PATRON,
                                      k == 8 ? 29 : k * 3 + 1, 5000 + k);
        for (int k = 0; k < 6 + u % 5; k++) {
            int i = (u * 7 + k * (u % 3 + 1) * 3) % 29; /* i29 is the patron's alone */
            o += (size_t)snprintf(events + o, (1 << 16) - o, "u%02d\ti%02d\tloan\t%d\n", u, i,
                                  1000 + u * 50 + k);
        }
    }
    snprintf(path, sizeof(path), "%s/items.tsv", dir);
    assert_int_equal(tl_test_write(path, items), 0);
    snprintf(path, sizeof(path), "%s/events.tsv", dir);
    assert_int_equal(tl_test_write(path, events), 0);
    /* the same without the patron's lines */
    char *p = events, *q = events;
    while (*p) {
        char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p + 1) : strlen(p);
        if (strncmp(p, PATRON, strlen(PATRON)) != 0) {
            memmove(q, p, n);
            q += n;
        }
        p += n;
    }
    *q = '\0';
    snprintf(path, sizeof(path), "%s/events-without.tsv", dir);
    assert_int_equal(tl_test_write(path, events), 0);
    free(events);
    free(items);
}

static char dir[512];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "%s", tl_test_tmpdir());
    write_data(dir);
    const char *with = tl_test_tmp("with.db"), *without = tl_test_tmp("without.db");
    char w[600], wo[600];
    snprintf(w, sizeof(w), "%s", with);
    snprintf(wo, sizeof(wo), "%s", without);
    if (tl_test_cli("--db '%s' import items '%s/items.tsv' --quiet", w, dir) ||
        tl_test_cli("--db '%s' import events '%s/events.tsv' --quiet", w, dir) ||
        tl_test_cli("--db '%s' import items '%s/items.tsv' --quiet", wo, dir) ||
        tl_test_cli("--db '%s' import events '%s/events-without.tsv' --quiet", wo, dir))
        return -1;
    return 0;
}

/* `tailor recommend --users all` of model m, as malloc'd text. */
static char *all_recs(const char *m)
{
    assert_int_equal(tl_test_cli("recommend --model '%s' --users all --n 10", m), 0);
    return tl_test_cli_out();
}

/* Two `user item rank score` listings agree: the same users, items and ranks, scores within a
 * relative 1e-4 (a fit on the same data in another store). */
static void same_listing(const char *name, char *a, char *b)
{
    char *sa, *sb;
    char *la = strtok_r(a, "\n", &sa), *lb = strtok_r(b, "\n", &sb);
    int lines = 0;
    for (; la && lb; la = strtok_r(NULL, "\n", &sa), lb = strtok_r(NULL, "\n", &sb), lines++) {
        char ua[64], ia[64], ub[64], ib[64];
        int ra, rb;
        double xa, xb;
        if (sscanf(la, "%63s %63s %d %lf", ua, ia, &ra, &xa) != 4 ||
            sscanf(lb, "%63s %63s %d %lf", ub, ib, &rb, &xb) != 4) {
            if (strcmp(la, lb) != 0) /* a header line: must match as it is */
                fail_msg("%s: '%s' vs '%s'", name, la, lb);
            continue;
        }
        if (strcmp(ua, ub) || strcmp(ia, ib) || ra != rb ||
            (xa - xb > 1e-4 * (1 + (xa > 0 ? xa : -xa)) ||
             xb - xa > 1e-4 * (1 + (xa > 0 ? xa : -xa))))
            fail_msg("%s, line %d: '%s' vs '%s'", name, lines, la, lb);
    }
    if (la || lb)
        fail_msg("%s: the listings differ in length after %d lines", name, lines);
    assert_true(lines > 100);
}

static void test_export_round_trips(void **state)
{
    (void)state;
    char db[600];
    snprintf(db, sizeof(db), "%s", tl_test_tmp("export.db"));
    assert_int_equal(tl_test_sh("cp '%s' '%s'", tl_test_tmp("with.db"), db), 0);
    assert_int_equal(tl_test_cli("--db '%s' consent set %s on --retention 400", db, PATRON), 0);
    assert_int_equal(tl_test_cli("--db '%s' user export %s", db, PATRON), 0);
    char *out = tl_test_cli_out();
    json_error_t e;
    json_t *j = json_loads(out, 0, &e);
    free(out);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "user")), PATRON);
    assert_int_equal(json_array_size(json_object_get(j, "events")), 9);
    assert_int_equal(json_integer_value(json_object_get(j, "retention_days")), 400);
    json_t *ev = json_array_get(json_object_get(j, "events"), 0);
    assert_string_equal(json_string_value(json_object_get(ev, "item")), "i01");
    assert_int_equal(json_integer_value(json_object_get(ev, "timestamp")), 5000);
    assert_int_equal(json_array_size(json_object_get(j, "consent_history")), 1);
    /* round trip: the exported events, imported into a fresh store, are the patron's again */
    char jsonl[600], fresh[600];
    snprintf(jsonl, sizeof(jsonl), "%s", tl_test_tmp("export-events.jsonl"));
    snprintf(fresh, sizeof(fresh), "%s", tl_test_tmp("export-fresh.db"));
    FILE *f = fopen(jsonl, "w");
    assert_non_null(f);
    size_t k;
    json_t *x;
    json_array_foreach(json_object_get(j, "events"), k, x)
    {
        json_t *line = json_pack("{s:s, s:O, s:O, s:O}", "user", PATRON, "item",
                                 json_object_get(x, "item"), "type", json_object_get(x, "type"),
                                 "timestamp", json_object_get(x, "timestamp"));
        char *t = json_dumps(line, JSON_COMPACT);
        fprintf(f, "%s\n", t);
        free(t);
        json_decref(line);
    }
    fclose(f);
    assert_int_equal(tl_test_cli("--db '%s' import events '%s' --quiet", fresh, jsonl), 0);
    assert_int_equal(tl_test_cli("--db '%s' user export %s", fresh, PATRON), 0);
    out = tl_test_cli_out();
    json_t *again = json_loads(out, 0, &e);
    free(out);
    assert_non_null(again);
    assert_true(json_equal(json_object_get(again, "events"), json_object_get(j, "events")));
    json_decref(again);
    json_decref(j);
    /* an unknown patron: exit 3 (data), a message naming them */
    tl_test_cli_check(tl_test_cli("--db '%s' user export nobody", db), 3, NULL, "nobody");
}

/* A demo patron (the demo library's generator: real catalogue, events with type, value, device
 * and branch, patrons with attributes): the export, imported into a fresh store with the
 * catalogue, exports the same again. */
static void test_demo_patron_round_trips(void **state)
{
    (void)state;
    char demo[600], db[600], fresh[600], jsonl[600], users[600];
    snprintf(demo, sizeof(demo), "%s", tl_test_tmp("demo"));
    snprintf(db, sizeof(db), "%s", tl_test_tmp("demo.db"));
    snprintf(fresh, sizeof(fresh), "%s", tl_test_tmp("demo-fresh.db"));
    snprintf(jsonl, sizeof(jsonl), "%s", tl_test_tmp("demo-patron.jsonl"));
    snprintf(users, sizeof(users), "%s", tl_test_tmp("demo-patron-user.jsonl"));
    assert_int_equal(tl_test_cli("synth --library --books '%s' --subjects '%s' --seed 7 "
                                 "--patrons 60 --out '%s'",
                                 tl_test_source("demo/books.csv"),
                                 tl_test_source("demo/subjects.tsv"), demo),
                     0);
    const char *kinds[] = {"items", "users", "events"};
    for (int k = 0; k < 3; k++)
        assert_int_equal(
            tl_test_cli("--db '%s' import %s '%s/%s.tsv' --quiet", db, kinds[k], demo, kinds[k]),
            0);
    /* the patron with the most events in the generated file */
    char path[700], who[64] = "", *text;
    snprintf(path, sizeof(path), "%s/events.tsv", demo);
    assert_non_null(text = tl_test_read(path));
    int best = 0;
    for (int p = 1; p <= 60; p++) {
        char id[32];
        snprintf(id, sizeof(id), "\np%05d\t", p);
        int n = 0;
        for (const char *q = text; (q = strstr(q, id)); q++)
            n++;
        if (n > best) {
            best = n;
            snprintf(who, sizeof(who), "p%05d", p);
        }
    }
    free(text);
    assert_true(best > 5);
    assert_int_equal(tl_test_cli("--db '%s' user export %s", db, who), 0);
    char *out = tl_test_cli_out();
    json_t *first = json_loads(out, 0, NULL);
    free(out);
    assert_non_null(first);
    json_t *events = json_object_get(first, "events");
    assert_true(json_array_size(events) > 5);
    /* the export as the importers read it: the patron's record, then the events */
    FILE *f = fopen(users, "w");
    assert_non_null(f);
    json_t *prof = json_object_get(first, "profile");
    json_t *u =
        json_pack("{s:s, s:O, s:b}", "id", who, "attrs", json_object_get(prof, "attributes"),
                  "personalize", json_is_true(json_object_get(prof, "personalize")));
    char *t = json_dumps(u, JSON_COMPACT);
    fprintf(f, "%s\n", t);
    free(t);
    json_decref(u);
    fclose(f);
    assert_non_null(f = fopen(jsonl, "w"));
    size_t k;
    json_t *e;
    json_array_foreach(events, k, e)
    {
        json_t *line = json_deep_copy(e);
        json_object_set_new(line, "user", json_string(who));
        const char *key;
        json_t *v;
        void *tmp;
        json_object_foreach_safe(line, tmp, key, v) if (json_is_null(v)) json_object_del(line, key);
        t = json_dumps(line, JSON_COMPACT);
        fprintf(f, "%s\n", t);
        free(t);
        json_decref(line);
    }
    fclose(f);
    char items[700];
    snprintf(items, sizeof(items), "%s/items.tsv", demo);
    assert_int_equal(tl_test_cli("--db '%s' import items '%s' --quiet", fresh, items), 0);
    assert_int_equal(tl_test_cli("--db '%s' import users '%s' --quiet", fresh, users), 0);
    assert_int_equal(tl_test_cli("--db '%s' import events '%s' --quiet", fresh, jsonl), 0);
    assert_int_equal(tl_test_cli("--db '%s' user export %s", fresh, who), 0);
    out = tl_test_cli_out();
    json_t *again = json_loads(out, 0, NULL);
    free(out);
    assert_non_null(again);
    if (!json_equal(json_object_get(again, "events"), events))
        fail_msg("the events did not round-trip");
    assert_true(json_equal(json_object_get(json_object_get(again, "profile"), "attributes"),
                           json_object_get(prof, "attributes")));
    json_decref(again);
    json_decref(first);
}

static void test_erasure_leaves_nothing(void **state)
{
    (void)state;
    char db[600];
    snprintf(db, sizeof(db), "%s", tl_test_tmp("erase.db"));
    assert_int_equal(tl_test_sh("cp '%s' '%s'", tl_test_tmp("with.db"), db), 0);
    /* the patron's reading list and review (each also an event) go with them */
    assert_int_equal(tl_test_cli("--db '%s' list create %s Mine --id zq-list --description "
                                 "zq-secret-desc",
                                 db, PATRON),
                     0);
    assert_int_equal(tl_test_cli("--db '%s' list add zq-list i01 --note zq-secret-note", db), 0);
    assert_int_equal(
        tl_test_cli("--db '%s' review put %s i01 --rating 4 --text zq-secret-review", db, PATRON),
        0);
    tl_test_cli_check(tl_test_cli("--db '%s' user export %s", db, PATRON), 0, "zq-secret-review",
                      NULL); /* logged */
    tl_test_cli_check(tl_test_cli("--db '%s' user erase %s", db, PATRON), 0, "11 events", NULL);
    /* the store counts what the store without the patron counts */
    assert_int_equal(tl_test_cli("--db '%s' stats --json", db), 0);
    char *a = tl_test_cli_out();
    assert_int_equal(tl_test_cli("--db '%s' stats --json", tl_test_tmp("without.db")), 0);
    char *b = tl_test_cli_out();
    json_t *ja = json_loads(a, 0, NULL), *jb = json_loads(b, 0, NULL);
    free(a);
    free(b);
    const char *keys[] = {"users", "items", "events"};
    for (int k = 0; k < 3; k++)
        assert_int_equal(json_integer_value(json_object_get(ja, keys[k])),
                         json_integer_value(json_object_get(jb, keys[k])));
    json_decref(ja);
    json_decref(jb);
    tl_test_cli_check(tl_test_cli("--db '%s' user export %s", db, PATRON), 3, NULL, PATRON);
    tl_test_cli_check(tl_test_cli("--db '%s' user erase %s", db, PATRON), 3, NULL, NULL);
    /* no byte of the file or its log holds the id: deleted rows are overwritten, the audit
     * log keeps a hash of the export's target, and the erasure's entry names no one */
    char wal[640];
    snprintf(wal, sizeof(wal), "%s-wal", db);
    assert_false(tl_test_file_has(db, PATRON));
    assert_false(tl_test_file_has(wal, PATRON));
    assert_false(tl_test_file_has(db, "zq-secret"));
    assert_false(tl_test_file_has(wal, "zq-secret"));
    tl_test_cli_check(tl_test_cli("--db '%s' auditlog verify", db), 0, "holds: 2 entries", NULL);
}

/* For every model type: trained on the store after the erasure, the same as trained on a
 * store that never had the patron. */
static void test_models_after_erasure_equal_models_without(void **state)
{
    (void)state;
    char db[600], m1[600], m2[600];
    snprintf(db, sizeof(db), "%s", tl_test_tmp("erase-models.db"));
    assert_int_equal(tl_test_sh("cp '%s' '%s'", tl_test_tmp("with.db"), db), 0);
    assert_int_equal(tl_test_cli("--db '%s' user erase %s", db, PATRON), 0);
    for (size_t k = 0; k < sizeof(models) / sizeof(models[0]); k++) {
        snprintf(m1, sizeof(m1), "%s/after-%s.tlm", dir, models[k]);
        snprintf(m2, sizeof(m2), "%s/without-%s.tlm", dir, models[k]);
        assert_int_equal(
            tl_test_cli("--db '%s' train --model %s --out '%s' --quiet", db, models[k], m1), 0);
        assert_int_equal(tl_test_cli("--db '%s' train --model %s --out '%s' --quiet",
                                     tl_test_tmp("without.db"), models[k], m2),
                         0);
        char *a = all_recs(m1), *b = all_recs(m2);
        assert_null(strstr(a, PATRON));
        same_listing(models[k], a, b);
        free(a);
        free(b);
    }
}

static void test_consent_and_retention(void **state)
{
    (void)state;
    char db[600];
    snprintf(db, sizeof(db), "%s", tl_test_tmp("retention.db"));
    assert_int_equal(tl_test_sh("cp '%s' '%s'", tl_test_tmp("with.db"), db), 0);
    /* u01 keeps 1 day: its 7 events (in 1970) expire; u02 opts out: all 8 of its go; u03
     * keeps everything */
    assert_int_equal(tl_test_cli("--db '%s' consent set u01 on --retention 1", db), 0);
    assert_int_equal(tl_test_cli("--db '%s' consent set u02 off", db), 0);
    tl_test_cli_check(tl_test_cli("--db '%s' consent set u03 maybe", db), 2, NULL, "on or off");
    tl_test_cli_check(tl_test_cli("--db '%s' consent set u03 on --retention -4", db), 2, NULL,
                      "--retention");
    tl_test_cli_check(tl_test_cli("--db '%s' consent set nobody off", db), 3, NULL, "nobody");
    assert_int_equal(tl_test_cli("--db '%s' user export u01", db), 0);
    char *before = tl_test_cli_out();
    assert_non_null(strstr(before, "\"events\":[{"));
    free(before);
    tl_test_cli_check(tl_test_cli("--db '%s' retention run", db), 0, "deleted 15 expired", NULL);
    const char *empty[] = {"u01", "u02"};
    for (int k = 0; k < 2; k++) {
        assert_int_equal(tl_test_cli("--db '%s' user export %s", db, empty[k]), 0);
        char *out = tl_test_cli_out();
        assert_non_null(strstr(out, "\"events\":[]"));
        free(out);
    }
    assert_int_equal(tl_test_cli("--db '%s' user export u03", db), 0);
    char *out = tl_test_cli_out();
    assert_non_null(strstr(out, "\"events\":[{"));
    assert_non_null(strstr(out, "\"consent_history\":[]"));
    free(out);
    tl_test_cli_check(tl_test_cli("--db '%s' auditlog list", db), 0, "retention", NULL);
}

static void test_audit_chain_detects_edits(void **state)
{
    (void)state;
    char db[600];
    snprintf(db, sizeof(db), "%s", tl_test_tmp("chain.db"));
    assert_int_equal(tl_test_sh("cp '%s' '%s'", tl_test_tmp("with.db"), db), 0);
    for (int k = 0; k < 3; k++)
        assert_int_equal(tl_test_cli("--db '%s' consent set u0%d off", db, k + 4), 0);
    tl_test_cli_check(tl_test_cli("--db '%s' auditlog verify --json", db), 0,
                      "{\"entries\":3,\"intact\":true,\"broken_at\":0}", NULL);
    sqlite3 *s;
    assert_int_equal(sqlite3_open(db, &s), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(s, "UPDATE audit_log SET detail = 'nothing' WHERE seq = 2", NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(s);
    tl_test_cli_check(tl_test_cli("--db '%s' auditlog verify", db), 3, "broken at entry 2", NULL);
    /* a removed entry breaks the chain too (the next one's place and previous hash) */
    assert_int_equal(tl_test_sh("cp '%s' '%s'", tl_test_tmp("with.db"), db), 0);
    for (int k = 0; k < 3; k++)
        assert_int_equal(tl_test_cli("--db '%s' consent set u0%d off", db, k + 4), 0);
    assert_int_equal(sqlite3_open(db, &s), SQLITE_OK);
    assert_int_equal(sqlite3_exec(s, "DELETE FROM audit_log WHERE seq = 2", NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(s);
    tl_test_cli_check(tl_test_cli("--db '%s' auditlog verify", db), 3, "broken at entry 3", NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_export_round_trips),
        cmocka_unit_test(test_demo_patron_round_trips),
        cmocka_unit_test(test_erasure_leaves_nothing),
        cmocka_unit_test(test_models_after_erasure_equal_models_without),
        cmocka_unit_test(test_consent_and_retention),
        cmocka_unit_test(test_audit_chain_detects_edits),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
