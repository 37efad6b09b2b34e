/* Pseudonymized patron ids through the CLI: a store imported with a pseudonym key holds no
 * byte of any patron's id (nor does a model trained on it, nor the audit log), yet every
 * command that takes a patron's id (recommend, user export, consent, key create, user erase)
 * finds the patron by it and answers with it; the store refuses to open without its key or
 * with another, and a store of plain ids refuses a key. */
#include "support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_PATRONS 12

static char dir[512], key[600], other_key[600], db[600], model[600];

static const char *patron(int u)
{
    static char ids[N_PATRONS][32];
    snprintf(ids[u], sizeof(ids[u]), "reader-%02dqz", u); /* found nowhere by chance */
    return ids[u];
}

/* Whether the store (or model) file at path, or its write-ahead log, holds text. */
static int file_has(const char *path, const char *text)
{
    char wal[1100];
    snprintf(wal, sizeof(wal), "%.1000s-wal", path);
    return tl_test_file_has(path, text) || tl_test_file_has(wal, text);
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "%s", tl_test_tmpdir());
    snprintf(key, sizeof(key), "%s/pseudonym.key", dir);
    snprintf(other_key, sizeof(other_key), "%s/other.key", dir);
    snprintf(db, sizeof(db), "%s/keyed.db", dir);
    snprintf(model, sizeof(model), "%s/keyed.tlm", dir);
    char *events = malloc(1 << 14), path[700];
    if (!events)
        return -1;
    size_t o = (size_t)snprintf(events, 1 << 14, "user\titem\ttype\ttimestamp\n");
    for (int u = 0; u < N_PATRONS; u++)
        for (int k = 0; k < 5; k++)
            o += (size_t)snprintf(events + o, (1 << 14) - o, "%s\tbook-%02d\tloan\t%d\n", patron(u),
                                  (u * 3 + k * 5) % 17, 1000 + u * 10 + k);
    snprintf(path, sizeof(path), "%s/events.tsv", dir);
    int bad = tl_test_write(path, events);
    free(events);
    snprintf(path, sizeof(path), "%s/items.tsv", dir);
    bad = bad || tl_test_write(path, "item\ttitle\nbook-01\tThe First\nbook-02\tThe Second\n");
    snprintf(path, sizeof(path), "%s/users.csv", dir);
    bad = bad || tl_test_write(path, "user,department\nreader-00qz,Physics\nnewcomer-xq7,Law\n");
    return bad || tl_test_cli("key pseudonym-new '%s'", key) ||
                   tl_test_cli("key pseudonym-new '%s'", other_key) ||
                   tl_test_cli("--db '%s' --pseudonym-key '%s' import items '%s/items.tsv' --quiet",
                               db, key, dir) ||
                   tl_test_cli("--db '%s' --pseudonym-key '%s' import events '%s/events.tsv' "
                               "--quiet",
                               db, key, dir) ||
                   tl_test_cli("--db '%s' --pseudonym-key '%s' import users '%s/users.csv' --quiet",
                               db, key, dir) ||
                   tl_test_cli("--db '%s' --pseudonym-key '%s' train --model itemknn --set "
                               "autotune=0 --out '%s'",
                               db, key, model)
               ? -1
               : 0;
}

static void test_no_plain_id_is_stored(void **state)
{
    (void)state;
    for (int u = 0; u < N_PATRONS; u++) {
        if (file_has(db, patron(u)))
            fail_msg("the store holds the plain id %s", patron(u));
        if (file_has(model, patron(u)))
            fail_msg("the model holds the plain id %s", patron(u));
    }
    assert_false(file_has(db, "newcomer-xq7")); /* a users record's id too */
    assert_true(file_has(db, "book-01"));       /* items are kept as they are */
    assert_true(file_has(db, "The First"));
    assert_true(file_has(db, "u_"));
    /* stats reads the store with the key; patrons count as ever */
    tl_test_cli_check(tl_test_cli("--db '%s' --pseudonym-key '%s' stats --json", db, key), 0,
                      "\"users\": 13", NULL);
}

static void test_commands_take_plain_ids(void **state)
{
    (void)state;
    const char *p = patron(3);
    /* live (the store's history) and from the model file alone: both find the patron */
    tl_test_cli_check(tl_test_cli("--db '%s' --pseudonym-key '%s' recommend --model '%s' --user "
                                  "%s --live -n 3 --json",
                                  db, key, model, p),
                      0, "\"user\":\"reader-03qz\"", NULL);
    tl_test_cli_check(
        tl_test_cli("--pseudonym-key '%s' recommend --model '%s' --user %s -n 3", key, model, p), 0,
        "book-", NULL);
    /* without the key, the model file knows no such patron */
    tl_test_cli_check(tl_test_cli("recommend --model '%s' --user %s -n 3", model, p), 3, NULL,
                      "'reader-03qz' is not in the model");
    tl_test_cli_check(tl_test_cli("--db '%s' --pseudonym-key '%s' homepage --model '%s' --user %s",
                                  db, key, model, "reader-00qz"),
                      0, NULL, NULL);

    /* a patron's rights by the plain id */
    tl_test_cli_check(
        tl_test_cli("--db '%s' --pseudonym-key '%s' consent set %s off", db, key, patron(5)), 0,
        NULL, NULL);
    tl_test_cli_check(tl_test_cli("--db '%s' --pseudonym-key '%s' user export %s", db, key, p), 0,
                      "\"user\":\"reader-03qz\"", NULL);
    char *out = tl_test_cli_out();
    assert_non_null(strstr(out, "\"id\":\"reader-03qz\"")); /* the profile, as asked */
    assert_non_null(strstr(out, "\"item\":\"book-"));       /* and the patron's events */
    free(out);
    tl_test_cli_check(
        tl_test_cli("--db '%s' --pseudonym-key '%s' user export %s", db, key, "reader-99qz"), 3,
        NULL, "reader-99qz");
    /* the audit log names patrons by their pseudonyms */
    tl_test_cli_check(tl_test_cli("--db '%s' --pseudonym-key '%s' auditlog list", db, key), 0, "u_",
                      NULL);
    out = tl_test_cli_out();
    assert_null(strstr(out, "reader-"));
    free(out);

    /* a patron key for the plain id, listed under the pseudonym */
    tl_test_cli_check(tl_test_cli("--db '%s' --pseudonym-key '%s' key create --role patron "
                                  "--user %s",
                                  db, key, patron(7)),
                      0, "for patron reader-07qz", NULL);
    tl_test_cli_check(tl_test_cli("--db '%s' --pseudonym-key '%s' key list", db, key), 0, "u_",
                      NULL);
    out = tl_test_cli_out();
    assert_null(strstr(out, "reader-"));
    free(out);

    /* the erasure by the plain id */
    tl_test_cli_check(
        tl_test_cli("--db '%s' --pseudonym-key '%s' user erase %s", db, key, patron(9)), 0,
        "5 events", NULL);
    tl_test_cli_check(
        tl_test_cli("--db '%s' --pseudonym-key '%s' user export %s", db, key, patron(9)), 3, NULL,
        NULL);

    /* $TAILOR_PSEUDONYM_KEY_FILE is the default of --pseudonym-key */
    setenv("TAILOR_PSEUDONYM_KEY_FILE", key, 1);
    tl_test_cli_check(tl_test_cli("--db '%s' user export %s", db, p), 0, "reader-03qz", NULL);
    tl_test_cli_check(
        tl_test_cli("--db '%s' --pseudonym-key '%s' user export %s", db, other_key, p), 2, NULL,
        "another key");
    unsetenv("TAILOR_PSEUDONYM_KEY_FILE");
}

static void test_wrong_or_missing_key(void **state)
{
    (void)state;
    const char *why = "holds pseudonymized patron ids";
    tl_test_cli_check(tl_test_cli("--db '%s' stats", db), 2, NULL, why);
    tl_test_cli_check(tl_test_cli("--db '%s' user export %s", db, patron(3)), 2, NULL, why);
    tl_test_cli_check(
        tl_test_cli("--db '%s' recommend --model '%s' --user %s --live", db, model, patron(3)), 2,
        NULL, why);
    tl_test_cli_check(tl_test_cli("--db '%s' import events '%s/events.tsv' --quiet", db, dir), 2,
                      NULL, why);
    tl_test_cli_check(tl_test_cli("--db '%s' train --model popular --out '%s/x.tlm'", db, dir), 2,
                      NULL, why);
    tl_test_cli_check(tl_test_cli("--db '%s' --pseudonym-key '%s' stats", db, other_key), 2, NULL,
                      "another key");
    /* the key file itself */
    tl_test_cli_check(tl_test_cli("--db '%s' --pseudonym-key '%s/none.key' stats", db, dir), 1,
                      NULL, "no pseudonym key file at");
    char path[700];
    snprintf(path, sizeof(path), "%s/short.key", dir);
    assert_int_equal(tl_test_write(path, "00112233\n"), 0);
    tl_test_cli_check(tl_test_cli("--db '%s' --pseudonym-key '%s' stats", db, path), 2, NULL,
                      "64 hexadecimal digits");
    tl_test_cli_check(tl_test_cli("key pseudonym-new '%s'", key), 1, NULL, "never overwritten");
    tl_test_cli_check(tl_test_cli("--pseudonym-key '' stats"), 2, NULL, "needs a file");
}

static void test_plain_store_refuses_a_key(void **state)
{
    (void)state;
    char plain[700];
    snprintf(plain, sizeof(plain), "%s/plain.db", dir);
    assert_int_equal(tl_test_cli("--db '%s' import events '%s/events.tsv' --quiet", plain, dir), 0);
    assert_true(file_has(plain, patron(0)));
    const char *why = "pseudonymize from the first import";
    tl_test_cli_check(tl_test_cli("--db '%s' --pseudonym-key '%s' import events '%s/events.tsv' "
                                  "--quiet",
                                  plain, key, dir),
                      2, NULL, why);
    tl_test_cli_check(tl_test_cli("--db '%s' --pseudonym-key '%s' stats", plain, key), 2, NULL,
                      why);
    tl_test_cli_check(tl_test_cli("--db '%s' stats", plain), 0, NULL, NULL); /* as it was */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_plain_id_is_stored),
        cmocka_unit_test(test_commands_take_plain_ids),
        cmocka_unit_test(test_wrong_or_missing_key),
        cmocka_unit_test(test_plain_store_refuses_a_key),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
