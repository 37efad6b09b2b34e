/* Tests of the store (src/store): open, migrate and reopen; schema versions; what an open may
 * touch (foreign files, read-only opens, stores that never got data); the write lock; foreign
 * keys; transactions; upserts; counts and top lists; the matrices and user attributes load_data
 * builds; and popular's segments from those attributes. With TL_TEST_DB=postgres (the
 * test_store_postgres test) the tests that are not about SQLite files run against a
 * PostgreSQL store on a throwaway server instead (tests/pg_server.h). */
#include "pg_server.h"
#include "support.h"

#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/data.h"
#include "core/model.h"
#include "core/models/item_models.h"
#include "store/store_int.h"
#include "tailor/store.h"
#include "util/clock.h"

static const char *db_path(const char *name)
{
    static char bufs[4][512];
    static int next;
    char *b = bufs[next++ % 4];
    snprintf(b, sizeof(bufs[0]), "%s/%s", tl_test_tmpdir(), name);
    return b;
}

static void remove_store(const char *p)
{
    char side[700];
    remove(p);
    snprintf(side, sizeof(side), "%s-wal", p);
    remove(side);
    snprintf(side, sizeof(side), "%s-shm", p);
    remove(side);
    snprintf(side, sizeof(side), "%s-journal", p);
    remove(side);
}

/* The database of a PostgreSQL run: one per test name ("fk.db" -> "fk_db"). */
static const char *pg_name(const char *name)
{
    static char buf[64];
    snprintf(buf, sizeof(buf), "%s", name);
    for (char *c = buf; *c; c++)
        if (*c == '.')
            *c = '_';
    return buf;
}

static tl_store *open_new(const char *name)
{
    tl_store *st = NULL;
    tl_diag d;
    if (tl_test_on_pg()) {
        tl_test_pg_reset(pg_name(name));
        tl_err rc = tl_store_open(tl_test_pg_db(pg_name(name)), TL_STORE_CREATE, &st, &d);
        if (rc != TL_OK)
            fail_msg("%s", d.msg);
        assert_string_equal(tl_store_backend(st), "postgres");
        return st;
    }
    const char *p = db_path(name);
    remove_store(p);
    assert_int_equal(tl_store_open(p, TL_STORE_CREATE, &st, &d), TL_OK);
    return st;
}

/* The name of db_path(name) back (the PostgreSQL run keeps one database per name). */
static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

static int64_t sql_int(const char *path, const char *sql)
{
    if (tl_test_on_pg())
        return tl_test_pg_int(pg_name(base_name(path)), sql);
    sqlite3 *h;
    sqlite3_stmt *q;
    int64_t v = -1;
    assert_int_equal(sqlite3_open_v2(path, &h, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &q, NULL), SQLITE_OK);
    if (sqlite3_step(q) == SQLITE_ROW)
        v = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    sqlite3_close(h);
    return v;
}

/* Runs sql on path through SQLite itself (another application's database). */
static void sql_exec(const char *path, const char *sql)
{
    if (tl_test_on_pg()) {
        tl_test_pg_int(pg_name(base_name(path)), sql);
        return;
    }
    sqlite3 *h;
    assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
    if (sqlite3_exec(h, sql, NULL, NULL, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(h));
    sqlite3_close(h);
}

static const char *journal_mode(const char *path)
{
    static char mode[16];
    sqlite3 *h;
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_open_v2(path, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(h, "PRAGMA journal_mode", -1, &q, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    snprintf(mode, sizeof(mode), "%s", (const char *)sqlite3_column_text(q, 0));
    sqlite3_finalize(q);
    sqlite3_close(h);
    return mode;
}

static tl_event_rec ev(const char *user, const char *item, const char *type, int has_value,
                       double value, int64_t ts)
{
    tl_event_rec r = {.user = user,
                      .item = item,
                      .user_len = strlen(user),
                      .item_len = strlen(item),
                      .type = type,
                      .has_value = has_value,
                      .value = value,
                      .ts = ts};
    return r;
}

static tl_item_rec item(const char *id, const char *title)
{
    tl_item_rec r = {.id = id,
                     .id_len = strlen(id),
                     .type = "book",
                     .title = title,
                     .year = TL_ABSENT,
                     .added = TL_ABSENT,
                     .copies = TL_ABSENT,
                     .available = TL_ABSENT};
    return r;
}

static void test_open_migrate_reopen(void **state)
{
    (void)state;
    tl_store *st = open_new("reopen.db");
    tl_diag d;
    assert_string_equal(tl_store_backend(st), "sqlite");
    assert_int_equal(tl_store_schema_version(st), 11);
    tl_item_rec it = item("b1", "Dune");
    tl_event_rec e = ev("u1", "b1", "loan", 0, 0, 100);
    assert_int_equal(tl_store_put_item(st, &it, NULL, &d), TL_OK);
    assert_int_equal(tl_store_put_event(st, &e, 0, NULL, &d), TL_OK);
    tl_store_free(st);
    const char *p = db_path("reopen.db");
    assert_int_equal(sql_int(p, "PRAGMA user_version"), 11);
    assert_int_equal(sql_int(p, "SELECT count(*) FROM schema_migrations WHERE version = 1"), 1);
    assert_int_equal(
        sql_int(p, "SELECT count(*) FROM pragma_journal_mode WHERE journal_mode = 'wal'"), 1);
    /* reopening (without CREATE) keeps the data and migrates nothing */
    st = NULL;
    assert_int_equal(tl_store_open(p, 0, &st, &d), TL_OK);
    tl_store_counts c;
    assert_int_equal(tl_store_count(st, &c), TL_OK);
    assert_int_equal(c.users, 1);
    assert_int_equal(c.items, 1);
    assert_int_equal(c.events, 1);
    assert_int_equal(c.event_types, 1);
    tl_store_free(st);
    assert_int_equal(sql_int(p, "SELECT count(*) FROM schema_migrations"), 9);
}

static void test_versions_and_targets(void **state)
{
    (void)state;
    tl_store *st = open_new("newer.db");
    tl_store_set_meta(st, "k", "v"); /* a store that never got a commit is removed again */
    tl_store_free(st);
    const char *p = db_path("newer.db");
    assert_int_equal(sql_int(p, "PRAGMA user_version = 99"), -1);
    assert_int_equal(sql_int(p, "PRAGMA user_version"), 99);
    tl_diag d;
    st = NULL;
    assert_int_equal(tl_store_open(p, 0, &st, &d), TL_EVERSION);
    assert_null(st);
    assert_non_null(strstr(d.msg, "99"));
    assert_int_equal(tl_store_open(db_path("absent.db"), 0, &st, &d), TL_ENOTFOUND);
    /* a PostgreSQL target where no server listens: said, not crashed */
    assert_int_equal(
        tl_store_open("postgres://127.0.0.1:1/tailor?connect_timeout=2", TL_STORE_CREATE, &st, &d),
        TL_ESTORE);
    assert_null(st);
    assert_non_null(strstr(d.msg, "cannot connect to the PostgreSQL store"));
    /* a file that is not a database */
    assert_int_equal(
        tl_test_write(db_path("junk.db"), "this is not SQLite, just text long enough to matter\n"),
        0);
    assert_int_equal(tl_store_open(db_path("junk.db"), 0, &st, &d), TL_ECORRUPT);
    assert_non_null(strstr(d.msg, "file is not a database"));
    /* an in-memory store for dry runs */
    assert_int_equal(tl_store_open(":memory:", TL_STORE_CREATE, &st, &d), TL_OK);
    assert_int_equal(tl_store_schema_version(st), 11);
    tl_store_free(st);
}

/* ---- what an open may touch ------------------------------------------------------------- */

static const int all_modes[] = {TL_STORE_READONLY, 0, TL_STORE_CREATE,
                                TL_STORE_CREATE | TL_STORE_READONLY};
#define N_MODES ((int)(sizeof(all_modes) / sizeof(all_modes[0])))

/* Every open mode fails with want and exactly msg, and leaves path byte for byte as it was. */
static void expect_refused(const char *path, tl_err want, const char *msg)
{
    for (int i = 0; i < N_MODES; i++) {
        tl_test_snap before = tl_test_snapshot(path);
        tl_store *st = NULL;
        tl_diag d;
        tl_diag_clear(&d);
        tl_err rc = tl_store_open(path, all_modes[i], &st, &d);
        if (rc != want)
            fail_msg("open %s with flags %d: %s (want %s): %s", path, all_modes[i], tl_strerror(rc),
                     tl_strerror(want), d.msg);
        assert_null(st);
        assert_string_equal(d.msg, msg);
        tl_test_assert_unchanged(path, &before);
    }
}

static void test_foreign_files_refused(void **state)
{
    (void)state;
    char msg[700];
    /* another application's database, in each journal mode and with or without its own mark */
    const char *foreign[] = {
        "CREATE TABLE accounts(id INTEGER PRIMARY KEY, name TEXT); INSERT INTO accounts VALUES "
        "(1, 'a');",
        "PRAGMA journal_mode = WAL; CREATE TABLE notes(body TEXT); INSERT INTO notes VALUES ('x');",
        "PRAGMA application_id = 1234; CREATE TABLE t(x);",
        /* an application's database that happens to have tables named like Tailor's */
        "CREATE TABLE items(id INTEGER PRIMARY KEY, ext_id TEXT); CREATE TABLE events(x);",
        /* an SQLite database without any table is not Tailor's either */
        "PRAGMA user_version = 3;",
    };
    char p[600], link[600];
    snprintf(p, sizeof(p), "%s", db_path("foreign.db"));
    snprintf(link, sizeof(link), "%s", db_path("link-to-foreign.db"));
    for (size_t i = 0; i < sizeof(foreign) / sizeof(foreign[0]); i++) {
        remove_store(p);
        sql_exec(p, foreign[i]);
        const char *mode = i == 1 ? "wal" : "delete";
        assert_string_equal(journal_mode(p), mode);
        remove_store(p); /* journal_mode() may have left -shm behind for the WAL one */
        sql_exec(p, foreign[i]);
        snprintf(msg, sizeof(msg),
                 "%s is an SQLite database but not a Tailor store; refusing to touch it", p);
        expect_refused(p, TL_ECORRUPT, msg);
        /* through a symbolic link too, named as the caller named it */
        remove(link);
        assert_int_equal(symlink(p, link), 0);
        snprintf(msg, sizeof(msg),
                 "%s is an SQLite database but not a Tailor store; refusing to touch it", link);
        expect_refused(link, TL_ECORRUPT, msg);
        tl_test_snap s = tl_test_snapshot(p);
        tl_test_assert_unchanged(p, &s);
        remove(link);
    }
    /* not SQLite at all, short or long */
    const char *junk[] = {"hello\n", "SQLite format 2\n and then some more text, enough to have "
                                     "a header of a hundred bytes or so, padded padded padded\n"};
    for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
        assert_int_equal(tl_test_write(p, junk[i]), 0);
        snprintf(msg, sizeof(msg), "%s is not a Tailor store: file is not a database", p);
        expect_refused(p, TL_ECORRUPT, msg);
    }
    /* a directory */
    const char *dir = db_path("a-directory.db");
    assert_int_equal(mkdir(dir, 0755), 0);
    for (int i = 0; i < N_MODES; i++) {
        tl_store *st = NULL;
        tl_diag d;
        assert_int_equal(tl_store_open(dir, all_modes[i], &st, &d), TL_EIO);
        snprintf(msg, sizeof(msg), "%s is a directory, not a Tailor store", dir);
        assert_string_equal(d.msg, msg);
        assert_false(tl_test_has_companions(dir));
    }
}

static void test_missing_and_empty_paths(void **state)
{
    (void)state;
    char msg[700];
    const char *p = db_path("missing.db");
    remove_store(p);
    /* nothing there: only a write open with CREATE may make a store; the others leave no file */
    const int no_create[] = {TL_STORE_READONLY, 0, TL_STORE_READONLY | TL_STORE_CREATE};
    for (size_t i = 0; i < sizeof(no_create) / sizeof(no_create[0]); i++) {
        tl_store *st = NULL;
        tl_diag d;
        tl_diag_clear(&d);
        assert_int_equal(tl_store_open(p, no_create[i], &st, &d), TL_ENOTFOUND);
        snprintf(msg, sizeof(msg),
                 "no Tailor store at %s; import data first or pass --db / $TAILOR_DB", p);
        assert_string_equal(d.msg, msg);
        assert_int_equal(access(p, F_OK), -1);
        assert_false(tl_test_has_companions(p));
    }
    /* an empty file: the same for those opens, and it stays empty */
    assert_int_equal(tl_test_write(p, ""), 0);
    for (size_t i = 0; i < sizeof(no_create) / sizeof(no_create[0]); i++) {
        tl_test_snap before = tl_test_snapshot(p);
        tl_store *st = NULL;
        tl_diag d;
        assert_int_equal(tl_store_open(p, no_create[i], &st, &d), TL_ENOTFOUND);
        snprintf(msg, sizeof(msg),
                 "no Tailor store at %s (the file is empty); import data first or pass --db / "
                 "$TAILOR_DB",
                 p);
        assert_string_equal(d.msg, msg);
        tl_test_assert_unchanged(p, &before);
    }
    /* a write open with CREATE adopts it; without a commit it is emptied again */
    tl_store *st = NULL;
    tl_diag d;
    assert_int_equal(tl_store_open(p, TL_STORE_CREATE, &st, &d), TL_OK);
    tl_store_free(st);
    struct stat sb;
    assert_int_equal(stat(p, &sb), 0);
    assert_int_equal(sb.st_size, 0);
    assert_false(tl_test_has_companions(p));
    /* with a commit it is a store */
    assert_int_equal(tl_store_open(p, TL_STORE_CREATE, &st, &d), TL_OK);
    tl_event_rec e = ev("u1", "b1", "loan", 0, 0, 1);
    assert_int_equal(tl_store_put_event(st, &e, 0, NULL, &d), TL_OK);
    tl_store_free(st);
    assert_int_equal(sql_int(p, "SELECT count(*) FROM events"), 1);
    remove_store(p);
    /* a new path: created, and removed again (with its companions) when nothing was committed */
    assert_int_equal(tl_store_open(p, TL_STORE_CREATE, &st, &d), TL_OK);
    assert_int_equal(access(p, F_OK), 0);
    assert_int_equal(tl_store_begin(st), TL_OK);
    assert_int_equal(tl_store_put_event(st, &e, 0, NULL, &d), TL_OK);
    assert_int_equal(tl_store_rollback(st), TL_OK);
    tl_store_free(st);
    assert_int_equal(access(p, F_OK), -1);
    assert_false(tl_test_has_companions(p));
}

/* The mark: new stores carry Tailor's application_id; stores of earlier versions (no mark, but
 * Tailor's schema) are read as they are and marked on their first write open. */
static void test_mark_and_legacy_stores(void **state)
{
    (void)state;
    tl_store *st = open_new("marked.db");
    tl_diag d;
    tl_event_rec e = ev("u1", "b1", "loan", 0, 0, 1);
    assert_int_equal(tl_store_put_event(st, &e, 0, NULL, &d), TL_OK);
    tl_store_free(st);
    const char *p = db_path("marked.db");
    int64_t mark = sql_int(p, "PRAGMA application_id");
    assert_true(mark != 0);
    /* an earlier Tailor's store: the same schema without the mark */
    sql_exec(p, "PRAGMA application_id = 0");
    assert_int_equal(sql_int(p, "PRAGMA application_id"), 0);
    assert_false(tl_test_has_companions(p));
    tl_test_snap before = tl_test_snapshot(p);
    st = NULL;
    assert_int_equal(tl_store_open(p, TL_STORE_READONLY, &st, &d), TL_OK);
    tl_store_counts c;
    assert_int_equal(tl_store_count(st, &c), TL_OK);
    assert_int_equal(c.events, 1);
    tl_store_free(st);
    tl_test_snap after = tl_test_snapshot(p);
    assert_int_equal(after.len, before.len);
    assert_memory_equal(after.bytes, before.bytes, before.len);
    free(after.bytes);
    free(before.bytes);
    assert_int_equal(sql_int(p, "PRAGMA application_id"), 0);
    assert_int_equal(tl_store_open(p, 0, &st, &d), TL_OK);
    tl_store_free(st);
    assert_int_equal(sql_int(p, "PRAGMA application_id"), mark);
    assert_int_equal(sql_int(p, "SELECT count(*) FROM events"), 1);
}

/* Read-only opens of a Tailor store never write: no journal-mode change, no migration. */
static void test_readonly_opens_write_nothing(void **state)
{
    (void)state;
    tl_store *st = open_new("ro.db");
    tl_diag d;
    tl_event_rec e = ev("u1", "b1", "loan", 0, 0, 1);
    assert_int_equal(tl_store_put_event(st, &e, 0, NULL, &d), TL_OK);
    tl_store_free(st);
    const char *p = db_path("ro.db");
    tl_test_snap before = tl_test_snapshot(p);
    st = NULL;
    assert_int_equal(tl_store_open(p, TL_STORE_READONLY, &st, &d), TL_OK);
    tl_data data;
    tl_data_init(&data);
    assert_int_equal(tl_store_load_data(st, NULL, &data, &d), TL_OK);
    assert_int_equal(data.ui.nnz, 1);
    tl_data_release(&data);
    assert_int_equal(tl_store_set_meta(st, "k", "v"), TL_EINVAL);
    tl_store_free(st);
    tl_test_snap after = tl_test_snapshot(p);
    assert_int_equal(after.len, before.len);
    assert_memory_equal(after.bytes, before.bytes, before.len);
    free(after.bytes);
    free(before.bytes);
    assert_string_equal(journal_mode(p), "wal");
    /* a store that would need a migration is not migrated by a read-only open */
    sql_exec(p, "PRAGMA journal_mode = DELETE; PRAGMA user_version = 0");
    before = tl_test_snapshot(p);
    st = NULL;
    assert_int_equal(tl_store_open(p, TL_STORE_READONLY, &st, &d), TL_EVERSION);
    assert_null(st);
    tl_test_assert_unchanged(p, &before);
    assert_string_equal(journal_mode(p), "delete");
}

/* A store opened while another handle has it: the creator's cleanup must not remove it. */
static void test_created_store_kept_while_shared(void **state)
{
    (void)state;
    const char *p = db_path("shared.db");
    remove_store(p);
    tl_store *a = NULL, *b = NULL;
    tl_diag d;
    assert_int_equal(tl_store_open(p, TL_STORE_CREATE, &a, &d), TL_OK);
    assert_int_equal(tl_store_open(p, TL_STORE_CREATE, &b, &d), TL_OK);
    tl_store_counts c;
    assert_int_equal(tl_store_count(b, &c), TL_OK);
    /* until something is committed, readers find no store there */
    tl_store *r = NULL;
    char msg[700];
    assert_int_equal(tl_store_open(p, TL_STORE_READONLY, &r, &d), TL_ENOTFOUND);
    assert_null(r);
    snprintf(msg, sizeof(msg),
             "no Tailor store at %s (the import creating it has not committed anything); import "
             "data first or pass --db / $TAILOR_DB",
             p);
    assert_string_equal(d.msg, msg);
    tl_store_free(a); /* a created it and committed nothing, but b is using it */
    assert_int_equal(access(p, F_OK), 0);
    tl_event_rec e = ev("u1", "b1", "loan", 0, 0, 1);
    assert_int_equal(tl_store_put_event(b, &e, 0, NULL, &d), TL_OK);
    tl_store_free(b);
    assert_int_equal(sql_int(p, "SELECT count(*) FROM events"), 1);
    assert_int_equal(tl_store_open(p, TL_STORE_READONLY, &r, &d), TL_OK);
    tl_store_free(r);
    /* a store replaced under an open handle: its next write says so instead of writing to a
     * file nobody will see */
    assert_int_equal(tl_store_open(p, 0, &a, &d), TL_OK);
    char moved[600];
    snprintf(moved, sizeof(moved), "%s.old", p);
    assert_int_equal(rename(p, moved), 0);
    tl_store_free(open_new("shared.db")); /* nothing committed: removed again */
    tl_store *n = open_new("shared.db");
    assert_int_equal(tl_store_put_event(n, &e, 0, NULL, &d), TL_OK);
    tl_store_free(n);
    tl_event_rec e2 = ev("u2", "b2", "loan", 0, 0, 2);
    assert_int_equal(tl_store_put_event(a, &e2, 0, NULL, &d), TL_ESTORE);
    snprintf(msg, sizeof(msg),
             "the store %s was removed or replaced since it was opened; run the command again", p);
    assert_string_equal(d.msg, msg);
    tl_store_free(a);
    remove(moved);
}

/* ---- the write lock ------------------------------------------------------------------------ */

static void test_lock_timeout(void **state)
{
    (void)state;
    tl_store *a = open_new("lock.db"), *b = NULL;
    const char *p = db_path("lock.db");
    tl_diag d;
    char msg[700];
    tl_event_rec e = ev("u1", "b1", "loan", 0, 0, 1);
    assert_int_equal(tl_store_put_event(a, &e, 0, NULL, &d), TL_OK);
    assert_int_equal(tl_store_begin(a), TL_OK); /* a holds the write lock */
    tl_store_opts o;
    tl_store_opts_init(&o);
    o.lock_timeout = 0.2;
    assert_int_equal(tl_store_open_with(p, &o, &b, &d), TL_OK);
    tl_event_rec e2 = ev("u2", "b2", "loan", 0, 0, 2);
    double t0 = tl_now();
    assert_int_equal(tl_store_put_event(b, &e2, 0, NULL, &d), TL_ESTORE);
    assert_true(tl_now() - t0 >= 0.15); /* it did wait */
    snprintf(msg, sizeof(msg),
             "the store %s is locked by another writer (another `tailor import`?); waited 0.2 s; "
             "try again when it finishes or raise TAILOR_LOCK_TIMEOUT",
             p);
    assert_string_equal(d.msg, msg);
    tl_store_free(b);
    /* the environment sets it when the caller does not */
    setenv(TL_STORE_LOCK_ENV, "0.1", 1);
    assert_int_equal(tl_store_open(p, 0, &b, &d), TL_OK);
    assert_int_equal(tl_store_put_event(b, &e2, 0, NULL, &d), TL_ESTORE);
    assert_non_null(strstr(d.msg, "waited 0.1 s"));
    tl_store_free(b);
    /* ... and a value that is not a number of seconds is refused */
    setenv(TL_STORE_LOCK_ENV, "soon", 1);
    assert_int_equal(tl_store_open(p, 0, &b, &d), TL_EINVAL);
    assert_string_equal(d.msg, "TAILOR_LOCK_TIMEOUT must be a number of seconds from 0 to 86400, "
                               "not 'soon'");
    unsetenv(TL_STORE_LOCK_ENV);
    /* once a lets go, b gets in */
    assert_int_equal(tl_store_commit(a), TL_OK);
    assert_int_equal(tl_store_open_with(p, &o, &b, &d), TL_OK);
    assert_int_equal(tl_store_put_event(b, &e2, 0, NULL, &d), TL_OK);
    tl_store_free(b);
    tl_store_free(a);
}

static void test_foreign_keys_enforced(void **state)
{
    (void)state;
    tl_store *st = open_new("fk.db");
    tl_diag d;
    tl_event_rec e = ev("u1", "b1", "view", 0, 0, 5);
    assert_int_equal(tl_store_put_event(st, &e, 0, NULL, &d), TL_OK);
    /* go below the id resolution: an event naming a user id that does not exist */
    assert_int_equal(tl_store_begin(st), TL_OK);
    tl_store_event bad = {.user = 4242, .item = 1, .type = 1, .ts = 7};
    tl_put what;
    assert_int_equal(st->ops->put_event(st, &bad, &what), TL_ESTORE);
    assert_true(strstr(tl_store_errmsg(st), "FOREIGN KEY") ||
                strstr(tl_store_errmsg(st), "foreign key"));
    assert_int_equal(tl_store_rollback(st), TL_OK);
    tl_store_counts c;
    assert_int_equal(tl_store_count(st, &c), TL_OK);
    assert_int_equal(c.events, 1);
    tl_store_free(st);
}

/* Bulk writes of events large enough for PostgreSQL's load into an empty table (its primary
 * key and foreign-key check built after the rows): keys repeated in a later batch merge as
 * on the ordinary path, a rollback restores everything, and a dangling id still fails. */
#define BULK_N 20000

static tl_err sum_events(void *ctx, int64_t user, int64_t item, int64_t type, int has_value,
                         double value, int64_t ts)
{
    (void)user, (void)item, (void)type, (void)ts;
    double *sum = ctx;
    sum[0] += has_value ? value : 0;
    sum[1] += 1;
    return TL_OK;
}

/* ids[0..2]: the user, item and type of every event; a sequence does not roll back */
static int64_t bulk_id[3];

static tl_err bulk_batch(tl_store *st, int64_t user, int64_t first_ts, double plus,
                         long long *added, long long *updated)
{
    static tl_store_event ev[BULK_N];
    for (int i = 0; i < BULK_N; i++)
        ev[i] = (tl_store_event){.user = user ? user : bulk_id[0],
                                 .item = bulk_id[1],
                                 .type = bulk_id[2],
                                 .ts = first_ts + i,
                                 .has_value = 1,
                                 .value = (double)(first_ts + i) + plus,
                                 .device = i % 2 ? "kiosk" : NULL};
    return st->ops->put_events(st, ev, BULK_N, added, updated);
}

static void bulk_ids(tl_store *st)
{
    assert_int_equal(st->ops->create_id(st, TL_ID_USER, "u1", 2, &bulk_id[0]), TL_OK);
    assert_int_equal(st->ops->create_id(st, TL_ID_ITEM, "b1", 2, &bulk_id[1]), TL_OK);
    assert_int_equal(st->ops->create_id(st, TL_ID_TYPE, "loan", 4, &bulk_id[2]), TL_OK);
}

static void test_bulk_events(void **state)
{
    (void)state;
    tl_store *st = open_new("bulk.db");
    tl_store_counts c;
    long long added = 0, updated = 0;
    /* rolled back: nothing stays, and the next load works */
    assert_int_equal(tl_store_begin(st), TL_OK);
    bulk_ids(st);
    assert_int_equal(bulk_batch(st, 0, 0, 0, &added, &updated), TL_OK);
    assert_int_equal(tl_store_rollback(st), TL_OK);
    assert_int_equal(tl_store_count(st, &c), TL_OK);
    assert_int_equal(c.events + c.users, 0);
    /* the second batch repeats the first's last 10 keys with other values: they are updated */
    added = updated = 0;
    assert_int_equal(tl_store_begin(st), TL_OK);
    bulk_ids(st);
    assert_int_equal(bulk_batch(st, 0, 0, 0, &added, &updated), TL_OK);
    assert_int_equal(bulk_batch(st, 0, BULK_N - 10, 0.5, &added, &updated), TL_OK);
    assert_int_equal(tl_store_commit(st), TL_OK);
    assert_int_equal(added, 2 * BULK_N - 10);
    assert_int_equal(updated, 10);
    double sum[2] = {0, 0};
    assert_int_equal(st->ops->scan_events(st, sum_events, sum), TL_OK);
    double n = 2 * BULK_N - 10;
    assert_true(sum[1] == n);
    assert_true(fabs(sum[0] - (n * (n - 1) / 2 + 0.5 * BULK_N)) < 1e-6);
    /* a duplicate key within the store is still refused: the primary key is back */
    assert_int_equal(tl_store_begin(st), TL_OK);
    tl_store_event again = {.user = bulk_id[0], .item = bulk_id[1], .type = bulk_id[2], .ts = 5};
    tl_put what;
    assert_int_equal(st->ops->put_event(st, &again, &what), TL_OK);
    assert_int_equal(tl_store_commit(st), TL_OK);
    assert_int_equal(tl_store_count(st, &c), TL_OK);
    assert_int_equal(c.events, 2 * BULK_N - 10);
    tl_store_free(st);
    /* into an empty table that another connection is reading: the ordinary path, no waiting */
    if (tl_test_on_pg()) {
        st = open_new("bulk-read.db");
        tl_store *reader = NULL;
        tl_diag d;
        assert_int_equal(
            tl_store_open(tl_test_pg_db(pg_name("bulk-read.db")), TL_STORE_READONLY, &reader, &d),
            TL_OK);
        assert_int_equal(tl_store_begin(reader), TL_OK);
        assert_int_equal(tl_store_count(reader, &c), TL_OK); /* holds events until its end */
        assert_int_equal(c.events, 0);
        added = updated = 0;
        assert_int_equal(tl_store_begin(st), TL_OK);
        bulk_ids(st);
        assert_int_equal(bulk_batch(st, 0, 0, 0, &added, &updated), TL_OK);
        assert_int_equal(tl_store_commit(st), TL_OK);
        assert_int_equal(added, BULK_N);
        assert_int_equal(tl_store_rollback(reader), TL_OK);
        assert_int_equal(tl_store_count(reader, &c), TL_OK);
        assert_int_equal(c.events, BULK_N);
        tl_store_free(reader);
        tl_store_free(st);
    }
    /* a batch naming a user that does not exist fails, whenever the store checks */
    st = open_new("bulk-fk.db");
    assert_int_equal(tl_store_begin(st), TL_OK);
    bulk_ids(st);
    tl_err rc = bulk_batch(st, 4242, 0, 0, &added, &updated);
    if (rc == TL_OK)
        rc = tl_store_commit(st);
    else
        assert_int_equal(tl_store_rollback(st), TL_OK);
    assert_int_equal(rc, TL_ESTORE);
    assert_true(strstr(tl_store_errmsg(st), "FOREIGN KEY") ||
                strstr(tl_store_errmsg(st), "foreign key"));
    assert_int_equal(tl_store_count(st, &c), TL_OK);
    assert_int_equal(c.events + c.users, 0);
    tl_store_free(st);
}

static void test_transactions(void **state)
{
    (void)state;
    tl_store *st = open_new("txn.db");
    tl_diag d;
    tl_store_counts c;
    tl_event_rec e1 = ev("u1", "b1", "loan", 0, 0, 1), e2 = ev("u2", "b2", "loan", 0, 0, 2);
    assert_int_equal(tl_store_begin(st), TL_OK);
    assert_int_equal(tl_store_begin(st), TL_EINVAL); /* one level */
    assert_int_equal(tl_store_put_event(st, &e1, 0, NULL, &d), TL_OK);
    assert_int_equal(tl_store_rollback(st), TL_OK);
    assert_int_equal(tl_store_count(st, &c), TL_OK);
    assert_int_equal(c.users + c.items + c.events + c.event_types, 0);
    /* after a rollback the id cache must not hand out rolled-back ids */
    assert_int_equal(tl_store_begin(st), TL_OK);
    assert_int_equal(tl_store_put_event(st, &e2, 0, NULL, &d), TL_OK);
    assert_int_equal(tl_store_put_event(st, &e1, 0, NULL, &d), TL_OK);
    assert_int_equal(tl_store_commit(st), TL_OK);
    assert_int_equal(tl_store_count(st, &c), TL_OK);
    assert_int_equal(c.users, 2);
    assert_int_equal(c.events, 2);
    assert_int_equal(tl_store_commit(st), TL_EINVAL);
    tl_store_free(st);
}

static void test_upserts(void **state)
{
    (void)state;
    tl_store *st = open_new("upsert.db");
    tl_diag d;
    tl_put what;
    tl_item_rec it = item("b1", "Dune");
    it.year = 1965;
    assert_int_equal(tl_store_put_item(st, &it, &what, &d), TL_OK);
    assert_int_equal(what, TL_PUT_ADDED);
    assert_int_equal(tl_store_put_item(st, &it, &what, &d), TL_OK);
    assert_int_equal(what, TL_PUT_UNCHANGED);
    tl_item_rec partial = item("b1", NULL); /* no title, no year: both are kept */
    partial.language = "en";
    assert_int_equal(tl_store_put_item(st, &partial, &what, &d), TL_OK);
    assert_int_equal(what, TL_PUT_UPDATED);
    tl_user_rec u = {.id = "u1",
                     .id_len = 2,
                     .personalize = -1,
                     .created = TL_ABSENT,
                     .attrs = "{\"level\":\"staff\"}"};
    assert_int_equal(tl_store_put_user(st, &u, &what, &d), TL_OK);
    assert_int_equal(what, TL_PUT_ADDED);
    u.attrs = NULL;
    u.personalize = 0;
    assert_int_equal(tl_store_put_user(st, &u, &what, &d), TL_OK);
    assert_int_equal(what, TL_PUT_UPDATED);
    assert_int_equal(tl_store_put_user(st, &u, &what, &d), TL_OK);
    assert_int_equal(what, TL_PUT_UNCHANGED);
    /* events: same key, same value: unchanged; other value: updated; strict: unknown item */
    tl_event_rec e = ev("u1", "b1", "rate", 1, 4, 10);
    assert_int_equal(tl_store_put_event(st, &e, TL_PUT_STRICT, &what, &d), TL_OK);
    assert_int_equal(what, TL_PUT_ADDED);
    assert_int_equal(tl_store_put_event(st, &e, 0, &what, &d), TL_OK);
    assert_int_equal(what, TL_PUT_UNCHANGED);
    e.value = 5;
    assert_int_equal(tl_store_put_event(st, &e, 0, &what, &d), TL_OK);
    assert_int_equal(what, TL_PUT_UPDATED);
    tl_event_rec strict = ev("u1", "nope", "rate", 1, 4, 10);
    assert_int_equal(tl_store_put_event(st, &strict, TL_PUT_STRICT, &what, &d), TL_ENOTFOUND);
    assert_string_equal(d.field, "item");
    tl_store_free(st);
    const char *p = db_path("upsert.db");
    assert_int_equal(
        sql_int(
            p, "SELECT year FROM items WHERE ext_id = 'b1' AND title = 'Dune' AND language = 'en'"),
        1965);
    assert_int_equal(
        sql_int(p, "SELECT personalize FROM users WHERE attrs = '{\"level\":\"staff\"}'"), 0);
    assert_int_equal(sql_int(p, "SELECT value FROM events"), 5);
}

/* ---- user attributes and segments ------------------------------------------------------- */

static void put_user_attrs(tl_store *st, const char *id, const char *attrs)
{
    tl_diag d;
    tl_user_rec u = {
        .id = id, .id_len = strlen(id), .attrs = attrs, .personalize = -1, .created = TL_ABSENT};
    assert_int_equal(tl_store_put_user(st, &u, NULL, &d), TL_OK);
}

static const char *attr_of(const tl_data *d, const char *key, const char *user)
{
    const tl_attr *a = tl_data_attr(d, key);
    int32_t u = tl_intern_find(&d->users, user, strlen(user));
    assert_true(u >= 0);
    return a ? tl_attr_value(a, u) : NULL;
}

static void test_load_data_user_attrs(void **state)
{
    (void)state;
    tl_store *st = open_new("attrs.db");
    tl_diag d;
    assert_int_equal(tl_store_begin(st), TL_OK);
    put_user_attrs(st, "u1",
                   "{\"department\":\"Physics\",\"level\":\"undergrad\",\"year\":2,\"gpa\":3.5,"
                   "\"staff\":false,\"tags\":[\"a\"],\"home\":{\"branch\":\"x\"},\"note\":null}");
    put_user_attrs(st, "u2", "{\"department\":\"History\",\"level\":\"staff\"}");
    put_user_attrs(st, "u3", NULL);
    put_user_attrs(st, "u4", "{}");
    put_user_attrs(st, "u5", "{\"department\":\"Physics\"}");
    tl_event_rec e = ev("u1", "b1", "loan", 0, 0, 1);
    assert_int_equal(tl_store_put_event(st, &e, 0, NULL, &d), TL_OK);
    assert_int_equal(tl_store_commit(st), TL_OK);
    tl_data data;
    tl_data_init(&data);
    assert_int_equal(tl_store_load_data(st, NULL, &data, &d), TL_OK);
    /* top-level scalars only, as text; nested values and nulls are not attributes */
    assert_int_equal(data.attrs.n, 5);
    assert_string_equal(attr_of(&data, "department", "u1"), "Physics");
    assert_string_equal(attr_of(&data, "department", "u2"), "History");
    assert_null(attr_of(&data, "department", "u3"));
    assert_null(attr_of(&data, "department", "u4"));
    assert_string_equal(attr_of(&data, "department", "u5"), "Physics");
    assert_string_equal(attr_of(&data, "level", "u2"), "staff");
    assert_null(attr_of(&data, "level", "u5"));
    assert_string_equal(attr_of(&data, "year", "u1"), "2");
    assert_string_equal(attr_of(&data, "gpa", "u1"), "3.5");
    assert_string_equal(attr_of(&data, "staff", "u1"), "false");
    assert_null(tl_data_attr(&data, "tags"));
    assert_null(tl_data_attr(&data, "home"));
    assert_null(tl_data_attr(&data, "note"));
    /* values are interned per attribute: two users in Physics share one value */
    const tl_attr *dep = tl_data_attr(&data, "department");
    assert_int_equal(dep->values.count, 2);
    tl_data_release(&data);
    /* attributes that are not a JSON object are damage, named by user */
    sql_exec(db_path("attrs.db"), "UPDATE users SET attrs = 'oops' WHERE ext_id = 'u2'");
    tl_data_init(&data);
    assert_int_equal(tl_store_load_data(st, NULL, &data, &d), TL_ECORRUPT);
    assert_string_equal(d.msg, "store: user 'u2' has attributes that are not a JSON object");
    tl_data_release(&data);
    tl_store_free(st);
}

/* The item popular's score ranks first for model user uidx. */
static int32_t top_item(const tl_model *m, int32_t uidx)
{
    float s[16];
    assert_true(m->n_items <= 16);
    m->ops->score(m, uidx, NULL, NULL, 0, s, NULL);
    int32_t best = 0;
    for (int32_t i = 1; i < m->n_items; i++)
        if (s[i] > s[best])
            best = i;
    return best;
}

static const char *top_for(const tl_model *m, const char *user)
{
    int32_t u = tl_intern_find(&m->users, user, strlen(user));
    assert_true(u >= 0);
    return tl_intern_str(&m->items, top_item(m, u));
}

/* Physics patrons borrow "phys", History patrons "hist", four patrons without a department
 * borrow "pop", which leads the global list. */
static tl_store *segment_store(void)
{
    tl_store *st = open_new("segments.db");
    tl_diag d;
    char id[16];
    assert_int_equal(tl_store_begin(st), TL_OK);
    for (int k = 0; k < 3; k++) {
        snprintf(id, sizeof(id), "p%d", k);
        put_user_attrs(st, id, "{\"department\":\"Physics\",\"level\":\"staff\"}");
        tl_event_rec e = ev(id, "phys", "loan", 0, 0, 1);
        assert_int_equal(tl_store_put_event(st, &e, 0, NULL, &d), TL_OK);
        snprintf(id, sizeof(id), "h%d", k);
        put_user_attrs(st, id, "{\"department\":\"History\"}");
        e = ev(id, "hist", "loan", 0, 0, 1);
        assert_int_equal(tl_store_put_event(st, &e, 0, NULL, &d), TL_OK);
    }
    for (int k = 0; k < 4; k++) {
        snprintf(id, sizeof(id), "x%d", k);
        tl_event_rec e = ev(id, "pop", "loan", 0, 0, 1);
        assert_int_equal(tl_store_put_event(st, &e, 0, NULL, &d), TL_OK);
    }
    assert_int_equal(tl_store_commit(st), TL_OK);
    return st;
}

static void test_popular_segments_from_store(void **state)
{
    (void)state;
    tl_store *st = segment_store();
    tl_data data;
    tl_diag d;
    tl_data_init(&data);
    assert_int_equal(tl_store_load_data(st, NULL, &data, &d), TL_OK);
    tl_store_free(st);
    tl_model *m = NULL, *l = NULL;
    assert_int_equal(tl_model_new("popular", &m), TL_OK);
    assert_int_equal(tl_model_fit(m, &data, NULL, &d), TL_OK);
    assert_string_equal(top_for(m, "p0"), "pop"); /* no segment: one list for all */
    assert_int_equal(tl_model_set(m, "segment=department", &d), TL_OK);
    assert_int_equal(tl_model_fit(m, &data, NULL, &d), TL_OK);
    assert_string_equal(top_for(m, "p0"), "phys");
    assert_string_equal(top_for(m, "h2"), "hist");
    assert_string_equal(top_for(m, "x1"), "pop"); /* no department: the global list */
    assert_string_equal(tl_intern_str(&m->items, top_item(m, -1)), "pop");
    assert_true(tl_popular_segment_find(m, "Physics") >= 0);
    assert_true(tl_popular_segment_find(m, "History") >= 0);
    /* the segments travel in the model file */
    char path[600];
    snprintf(path, sizeof(path), "%s/segments.tlm", tl_test_tmpdir());
    assert_int_equal(tl_model_save(m, path, &d), TL_OK);
    assert_int_equal(tl_model_load(path, &l, &d), TL_OK);
    const char *users[] = {"p0", "p1", "h0", "h2", "x0"};
    for (size_t i = 0; i < sizeof(users) / sizeof(users[0]); i++)
        assert_string_equal(top_for(l, users[i]), top_for(m, users[i]));
    assert_string_equal(top_for(l, "p1"), "phys");
    assert_string_equal(top_for(l, "h0"), "hist");
    tl_model_free(l);
    /* an attribute no user has is an error that names it and what there is */
    assert_int_equal(tl_model_set(m, "segment=branch", &d), TL_OK);
    tl_diag_clear(&d);
    assert_int_equal(tl_model_fit(m, &data, NULL, &d), TL_EINVAL);
    assert_string_equal(d.field, "segment");
    assert_string_equal(d.msg, "no user has the attribute 'branch' (the users' attributes: "
                               "department, level)");
    tl_model_free(m);
    tl_data_release(&data);
    /* data without user attributes (e.g. a TSV of interactions) */
    const int pairs[][2] = {{0, 0}, {1, 1}};
    tl_test_data_from_pairs(&data, 2, 2, pairs, 2);
    assert_int_equal(tl_model_new("popular", &m), TL_OK);
    assert_int_equal(tl_model_set(m, "segment=department", &d), TL_OK);
    assert_int_equal(tl_model_fit(m, &data, NULL, &d), TL_EINVAL);
    assert_string_equal(d.msg, "no user has the attribute 'department' (the training data has no "
                               "user attributes; they come from the users imported into the "
                               "store)");
    tl_model_free(m);
    tl_data_release(&data);
}

typedef struct rows {
    char key[8][32];
    char label[8][32];
    int64_t n[8];
    int k;
} rows;

static tl_err collect(void *ctx, const char *key, const char *label, int64_t n)
{
    rows *r = ctx;
    if (r->k == 8)
        return TL_EINVAL;
    snprintf(r->key[r->k], sizeof(r->key[0]), "%s", key);
    snprintf(r->label[r->k], sizeof(r->label[0]), "%s", label ? label : "-");
    r->n[r->k++] = n;
    return TL_OK;
}

/* The tiny fixture for load_data:
 *   a: loan x (1.0), view y + click y (0.2 + 0.3 = 0.5 summed), rate z 5 (1.0)
 *   b: rate x 2 (ignored: below 3), skip y (ignored), rate z 4 (0.8)
 *   c: loan x, but c turned personalization off: left out
 *   w: an item without events (a column of zeros) */
static tl_store *fixture_store(void)
{
    tl_store *st = open_new("load.db");
    tl_diag d;
    assert_int_equal(tl_store_begin(st), TL_OK);
    tl_item_rec w = item("w", "Cold"), x = item("x", "Ex");
    x.year = 2001;
    x.added = 1600000000;
    x.authors = "A. Author|B. Author";
    x.subjects = "Poetry";
    assert_int_equal(tl_store_put_item(st, &w, NULL, &d), TL_OK);
    assert_int_equal(tl_store_put_item(st, &x, NULL, &d), TL_OK);
    tl_event_rec evs[] = {
        ev("a", "x", "loan", 0, 0, 100),  ev("a", "y", "view", 0, 0, 110),
        ev("a", "y", "click", 0, 0, 120), ev("a", "z", "rate", 1, 5, 130),
        ev("b", "x", "rate", 1, 2, 140),  ev("b", "y", "skip", 0, 0, 150),
        ev("b", "z", "rate", 1, 4, 160),  ev("c", "x", "loan", 0, 0, 170),
    };
    for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++)
        assert_int_equal(tl_store_put_event(st, &evs[i], 0, NULL, &d), TL_OK);
    tl_user_rec c = {.id = "c", .id_len = 1, .personalize = 0, .created = TL_ABSENT};
    assert_int_equal(tl_store_put_user(st, &c, NULL, &d), TL_OK);
    assert_int_equal(tl_store_commit(st), TL_OK);
    return st;
}

static float cell(const tl_data *d, const char *user, const char *it, int64_t *ts)
{
    int32_t u = tl_intern_find(&d->users, user, strlen(user));
    int32_t i = tl_intern_find(&d->items, it, strlen(it));
    assert_true(u >= 0 && i >= 0);
    int64_t k = tl_csr_find(&d->ui, u, i);
    if (k < 0)
        return 0.0f;
    if (ts)
        *ts = d->ui.ts[k];
    return d->ui.data[k];
}

static void test_load_data_weights(void **state)
{
    (void)state;
    tl_store *st = fixture_store();
    tl_data d;
    tl_diag diag;
    tl_data_init(&d);
    assert_int_equal(tl_store_load_data(st, NULL, &d, &diag), TL_OK);
    assert_int_equal(d.users.count, 3);
    assert_int_equal(d.items.count, 4); /* w, x (imported) then y, z (from events) */
    assert_string_equal(tl_intern_str(&d.items, 0), "w");
    assert_int_equal(d.ui.nrows, 3);
    assert_int_equal(d.ui.ncols, 4);
    assert_int_equal(d.ui.nnz, 4);
    int64_t ts = 0;
    assert_true(fabsf(cell(&d, "a", "x", &ts) - 1.0f) < 1e-6f);
    assert_int_equal(ts, 100);
    assert_true(fabsf(cell(&d, "a", "y", &ts) - 0.5f) < 1e-6f);
    assert_int_equal(ts, 120); /* the latest of the merged events */
    assert_true(fabsf(cell(&d, "a", "z", NULL) - 1.0f) < 1e-6f);
    assert_true(cell(&d, "b", "x", NULL) == 0.0f);
    assert_true(cell(&d, "b", "y", NULL) == 0.0f);
    assert_true(fabsf(cell(&d, "b", "z", NULL) - 0.8f) < 1e-6f);
    assert_true(cell(&d, "c", "x", NULL) == 0.0f);
    /* the transpose agrees */
    assert_int_equal(d.iu.nrows, 4);
    assert_int_equal(d.iu.nnz, 4);
    int32_t z = tl_intern_find(&d.items, "z", 1);
    assert_int_equal(d.iu.indptr[z + 1] - d.iu.indptr[z], 2);
    assert_int_equal(d.iu.indptr[1] - d.iu.indptr[0], 0); /* w: no events */
    /* the catalogue */
    int32_t x = tl_intern_find(&d.items, "x", 1);
    assert_string_equal(d.cat.title[x], "Ex");
    assert_string_equal(d.cat.creators[x], "A. Author|B. Author");
    assert_string_equal(d.cat.subjects[x], "Poetry");
    assert_int_equal(d.cat.year[x], 2001);
    assert_int_equal(d.cat.added[x], 1600000000);
    assert_null(d.cat.title[z]);
    tl_data_release(&d);

    /* other weights: merge by max, views worth more, ratings from 2 */
    tl_event_weights w;
    tl_event_weights_init(&w);
    assert_int_equal(tl_event_weights_parse(&w, "view=0.9,rate.min=2,merge=max", &diag), TL_OK);
    tl_data_init(&d);
    assert_int_equal(tl_store_load_data(st, &w, &d, &diag), TL_OK);
    assert_true(fabsf(cell(&d, "a", "y", NULL) - 0.9f) < 1e-6f);
    assert_true(fabsf(cell(&d, "b", "x", NULL) - 0.4f) < 1e-6f);
    assert_int_equal(d.ui.nnz, 5);
    tl_data_release(&d);

    /* saved weights are what load_data uses by default */
    assert_int_equal(tl_store_set_meta(st, TL_META_EVENT_WEIGHTS, "loan=3"), TL_OK);
    tl_data_init(&d);
    assert_int_equal(tl_store_load_data(st, NULL, &d, &diag), TL_OK);
    assert_true(fabsf(cell(&d, "a", "x", NULL) - 3.0f) < 1e-6f);
    tl_data_release(&d);
    tl_store_free(st);
}

static void test_stats_queries(void **state)
{
    (void)state;
    tl_store *st = fixture_store();
    tl_store_counts c;
    assert_int_equal(tl_store_count(st, &c), TL_OK);
    assert_int_equal(c.users, 3);
    assert_int_equal(c.items, 4);
    assert_int_equal(c.events, 8);
    assert_int_equal(c.pairs, 7);
    assert_int_equal(c.event_types, 5);
    rows r = {0};
    assert_int_equal(tl_store_events_by_type(st, collect, &r), TL_OK);
    assert_int_equal(r.k, 5);
    assert_string_equal(r.key[0], "rate");
    assert_int_equal(r.n[0], 3);
    assert_string_equal(r.key[1], "loan");
    assert_int_equal(r.n[1], 2);
    memset(&r, 0, sizeof(r));
    assert_int_equal(tl_store_top_items(st, 2, collect, &r), TL_OK);
    assert_int_equal(r.k, 2);
    assert_string_equal(r.key[0], "x");
    assert_string_equal(r.label[0], "Ex");
    assert_int_equal(r.n[0], 3);
    assert_string_equal(r.key[1], "y"); /* y and z tie at 3... y has 3: view, click, skip */
    assert_int_equal(r.n[1], 3);
    /* a callback error stops the scan and comes back */
    memset(&r, 0, sizeof(r));
    r.k = 8;
    assert_int_equal(tl_store_top_items(st, 5, collect, &r), TL_EINVAL);
    char *v = NULL;
    assert_int_equal(tl_store_get_meta(st, "nothing", &v), TL_OK);
    assert_null(v);
    assert_int_equal(tl_store_set_meta(st, "k", "v1"), TL_OK);
    assert_int_equal(tl_store_set_meta(st, "k", "v2"), TL_OK);
    assert_int_equal(tl_store_get_meta(st, "k", &v), TL_OK);
    assert_string_equal(v, "v2");
    free(v);
    tl_store_free(st);
}

/* A model records the newest event it was trained on; the store counts and lists what came
 * after it, oldest first. */
static void test_watermark_and_events_since(void **state)
{
    (void)state;
    tl_store *st = fixture_store();
    tl_data data;
    tl_diag d;
    tl_data_init(&data);
    assert_int_equal(tl_store_load_data(st, NULL, &data, &d), TL_OK);
    tl_model *m = NULL, *l = NULL;
    assert_int_equal(tl_model_new("popular", &m), TL_OK);
    assert_int_equal(tl_model_fit(m, &data, NULL, &d), TL_OK);
    tl_model_facts f;
    tl_model_facts_of(m, &f);
    assert_string_equal(f.name, "popular");
    assert_int_equal(f.trained_through, 160); /* c (170) opted out: not trained on */
    assert_int_equal(f.trained_pairs, 4);
    char path[512];
    snprintf(path, sizeof(path), "%s", db_path("wm.tlm"));
    assert_int_equal(tl_model_save(m, path, &d), TL_OK);
    assert_int_equal(tl_model_load(path, &l, &d), TL_OK);
    tl_model_facts_of(l, &f);
    assert_int_equal(f.trained_through, 160);
    assert_int_equal(f.trained_pairs, 4);
    assert_true(tl_model_item_index(l, "x") >= 0);
    assert_string_equal(tl_model_item_id(l, tl_model_item_index(l, "z")), "z");
    assert_int_equal(tl_model_item_index(l, "nope"), -1);
    assert_null(tl_model_item_id(l, f.n_items));
    tl_model_free(l);
    tl_model_free(m);
    tl_data_release(&data);

    int64_t n = -1;
    assert_int_equal(tl_store_events_since(st, 170, 10, collect, NULL, &n), TL_OK);
    assert_int_equal(n, 0);
    assert_int_equal(tl_store_begin(st), TL_OK);
    tl_event_rec later[] = {ev("c", "y", "loan", 0, 0, 300), ev("a", "x", "view", 0, 0, 200)};
    for (int k = 0; k < 2; k++)
        assert_int_equal(tl_store_put_event(st, &later[k], 0, NULL, &d), TL_OK);
    assert_int_equal(tl_store_commit(st), TL_OK);
    rows r = {0};
    assert_int_equal(tl_store_events_since(st, 170, 10, collect, &r, &n), TL_OK);
    assert_int_equal(n, 2);
    assert_int_equal(r.k, 2);
    assert_string_equal(r.key[0], "a"); /* oldest first */
    assert_string_equal(r.label[0], "x");
    assert_int_equal(r.n[0], 200);
    assert_string_equal(r.key[1], "c");
    assert_int_equal(r.n[1], 300);
    assert_int_equal(tl_store_events_since(st, 0, 0, NULL, NULL, &n), TL_OK);
    assert_int_equal(n, 10);
    assert_int_equal(tl_store_events_since(st, 0, 0, NULL, NULL, NULL), TL_EINVAL);
    tl_store_free(st);
}

static void test_put_search(void **state)
{
    (void)state;
    tl_store *st = open_new("search.db");
    tl_diag d;
    tl_put what;
    const char *clicked[] = {"b1", "b2"};
    size_t lens[] = {2, 2};
    tl_search_rec s = {.user = "u1",
                       .user_len = 2,
                       .query = "dune",
                       .ts = 5,
                       .clicked = clicked,
                       .clicked_len = lens,
                       .nclicked = 2};
    assert_int_equal(tl_store_put_search(st, &s, 0, &what, &d), TL_OK);
    assert_int_equal(what, TL_PUT_ADDED);
    assert_int_equal(tl_store_put_search(st, &s, 0, &what, &d), TL_OK);
    assert_int_equal(what, TL_PUT_UNCHANGED);
    s.nclicked = 1;
    assert_int_equal(tl_store_put_search(st, &s, 0, &what, &d), TL_OK);
    assert_int_equal(what, TL_PUT_UPDATED);
    tl_search_rec anon = {.query = "dune", .ts = 5};
    assert_int_equal(tl_store_put_search(st, &anon, 0, &what, &d), TL_OK);
    assert_int_equal(what, TL_PUT_ADDED);
    assert_int_equal(tl_store_put_search(st, &anon, 0, &what, &d), TL_OK);
    assert_int_equal(what, TL_PUT_UNCHANGED);
    tl_store_counts c;
    assert_int_equal(tl_store_count(st, &c), TL_OK);
    assert_int_equal(c.searches, 2);
    assert_int_equal(c.items, 2);
    /* a search made with how many it found (the analytics' failed searches), twice: one total */
    for (int k = 0; k < 2; k++)
        assert_int_equal(tl_store_search_log(st, "u1", "no such thing", 7, k, &d), TL_OK);
    tl_store_free(st);
    assert_int_equal(sql_int(db_path("search.db"), "SELECT count(*) FROM search_clicks"), 1);
    assert_int_equal(sql_int(db_path("search.db"), "SELECT count(*) FROM search_totals"), 1);
    assert_int_equal(sql_int(db_path("search.db"), "SELECT max(total) FROM search_totals"), 1);
}

/* ---- one record: get, replace, delete ------------------------------------------------------ */

typedef struct seen {
    int calls;
    char title[64], type[16];
    int64_t year;
    int personalize;
    char attrs[64];
} seen;

static tl_err see_item(void *ctx, const tl_item_rec *r)
{
    seen *s = ctx;
    s->calls++;
    snprintf(s->title, sizeof(s->title), "%s", r->title ? r->title : "(null)");
    snprintf(s->type, sizeof(s->type), "%s", r->type);
    s->year = r->year;
    return TL_OK;
}

static tl_err see_user(void *ctx, const tl_user_rec *r)
{
    seen *s = ctx;
    s->calls++;
    s->personalize = r->personalize;
    snprintf(s->attrs, sizeof(s->attrs), "%s", r->attrs ? r->attrs : "(null)");
    return TL_OK;
}

static void test_records_get_replace_delete(void **state)
{
    (void)state;
    tl_store *st = open_new("records.db");
    tl_diag d;
    tl_put what;
    seen s = {0};
    int found = -1;
    tl_item_rec it = item("b1", "Dune");
    it.year = 1965;
    assert_int_equal(tl_store_put_item(st, &it, NULL, &d), TL_OK);
    assert_int_equal(tl_store_get_item(st, "b1", 2, see_item, &s, &found, &d), TL_OK);
    assert_int_equal(found, 1);
    assert_int_equal(s.calls, 1);
    assert_string_equal(s.title, "Dune");
    assert_int_equal(s.year, 1965);
    assert_int_equal(tl_store_get_item(st, "b2", 2, see_item, &s, &found, &d), TL_OK);
    assert_int_equal(found, 0);
    assert_int_equal(s.calls, 1);
    /* an upsert keeps what it does not give; a replacement clears it */
    tl_item_rec bare = item("b1", NULL);
    assert_int_equal(tl_store_put_item(st, &bare, &what, &d), TL_OK);
    assert_int_equal(what, TL_PUT_UNCHANGED);
    assert_int_equal(tl_store_replace_item(st, &bare, &what, &d), TL_OK);
    assert_int_equal(what, TL_PUT_UPDATED);
    assert_int_equal(tl_store_get_item(st, "b1", 2, see_item, &s, &found, &d), TL_OK);
    assert_string_equal(s.title, "(null)");
    assert_true(s.year == TL_ABSENT);
    assert_int_equal(tl_store_replace_item(st, &bare, &what, &d), TL_OK);
    assert_int_equal(what, TL_PUT_UNCHANGED);
    tl_item_rec fresh = item("b3", "New");
    assert_int_equal(tl_store_replace_item(st, &fresh, &what, &d), TL_OK);
    assert_int_equal(what, TL_PUT_ADDED);
    /* users: a replacement without consent given means consent */
    tl_user_rec u = {.id = "u1",
                     .id_len = 2,
                     .attrs = "{\"dept\":\"x\"}",
                     .personalize = 0,
                     .created = TL_ABSENT};
    assert_int_equal(tl_store_put_user(st, &u, NULL, &d), TL_OK);
    assert_int_equal(tl_store_get_user(st, "u1", 2, see_user, &s, &found, &d), TL_OK);
    assert_int_equal(found, 1);
    assert_int_equal(s.personalize, 0);
    assert_string_equal(s.attrs, "{\"dept\":\"x\"}");
    tl_user_rec bare_u = {.id = "u1", .id_len = 2, .personalize = -1, .created = TL_ABSENT};
    assert_int_equal(tl_store_replace_user(st, &bare_u, &what, &d), TL_OK);
    assert_int_equal(what, TL_PUT_UPDATED);
    assert_int_equal(tl_store_get_user(st, "u1", 2, see_user, &s, &found, &d), TL_OK);
    assert_int_equal(s.personalize, 1);
    assert_string_equal(s.attrs, "(null)");
    /* deletes take the events with them, in one transaction */
    tl_event_rec e1 = ev("u1", "b1", "loan", 0, 0, 100), e2 = ev("u2", "b1", "loan", 0, 0, 100),
                 e3 = ev("u1", "b3", "view", 0, 0, 100);
    assert_int_equal(tl_store_put_event(st, &e1, 0, NULL, &d), TL_OK);
    assert_int_equal(tl_store_put_event(st, &e2, 0, NULL, &d), TL_OK);
    assert_int_equal(tl_store_put_event(st, &e3, 0, NULL, &d), TL_OK);
    long long events = -1, version = -1;
    assert_int_equal(tl_store_counter(st, TL_META_CATALOGUE, &version), TL_OK);
    assert_int_equal(version, 0);
    assert_int_equal(tl_store_delete_item(st, "b1", 2, &events, &d), TL_OK);
    assert_int_equal(events, 2);
    assert_int_equal(tl_store_delete_item(st, "b1", 2, &events, &d), TL_ENOTFOUND);
    /* readers learn of the deletion (and only of a real one) from the catalogue version */
    assert_int_equal(tl_store_counter(st, TL_META_CATALOGUE, &version), TL_OK);
    assert_int_equal(version, 1);
    assert_string_equal(d.field, "item");
    tl_store_counts c;
    assert_int_equal(tl_store_count(st, &c), TL_OK);
    assert_int_equal(c.events, 1);
    assert_int_equal(c.items, 1);
    /* a rolled-back delete leaves everything */
    assert_int_equal(tl_store_begin(st), TL_OK);
    assert_int_equal(tl_store_delete_user(st, "u1", 2, &events, &d), TL_OK);
    assert_int_equal(events, 1);
    assert_int_equal(tl_store_rollback(st), TL_OK);
    assert_int_equal(tl_store_count(st, &c), TL_OK);
    assert_int_equal(c.events, 1);
    assert_int_equal(tl_store_delete_user(st, "u1", 2, NULL, &d), TL_OK);
    assert_int_equal(tl_store_count(st, &c), TL_OK);
    assert_int_equal(c.events, 0);
    assert_int_equal(c.users, 1); /* u2 */
    tl_store_free(st);
}

/* ---- idempotency keys ----------------------------------------------------------------------- */

static void test_idempotency_keys(void **state)
{
    (void)state;
    tl_store *st = open_new("idem.db");
    tl_diag d;
    tl_store_idem rec = {.hash = {1, 2, 3}, .hash_len = 3, .status = 201, .body = "{\"a\":1}\n"};
    tl_store_idem got;
    int found = -1;
    assert_int_equal(tl_store_idem_get(st, "k1", "key", 0, &got, &found, &d), TL_OK);
    assert_int_equal(found, 0);
    assert_int_equal(tl_store_idem_put(st, "k1", "key", &rec, 1000, &d), TL_OK);
    assert_int_equal(tl_store_idem_get(st, "k1", "key", 1000, &got, &found, &d), TL_OK);
    assert_int_equal(found, 1);
    assert_int_equal(got.status, 201);
    assert_int_equal(got.hash_len, 3);
    assert_int_equal(got.hash[2], 3);
    assert_string_equal(got.body, "{\"a\":1}\n");
    free(got.body);
    /* another scope, or a row older than since, is not found */
    assert_int_equal(tl_store_idem_get(st, "k2", "key", 0, &got, &found, &d), TL_OK);
    assert_int_equal(found, 0);
    assert_int_equal(tl_store_idem_get(st, "k1", "key", 1001, &got, &found, &d), TL_OK);
    assert_int_equal(found, 0);
    /* a key written in a rolled-back transaction is not kept */
    assert_int_equal(tl_store_begin(st), TL_OK);
    assert_int_equal(tl_store_idem_put(st, "k1", "other", &rec, 1000, &d), TL_OK);
    assert_int_equal(tl_store_rollback(st), TL_OK);
    assert_int_equal(tl_store_idem_get(st, "k1", "other", 0, &got, &found, &d), TL_OK);
    assert_int_equal(found, 0);
    /* an expired row is replaced by a new one; pruning removes by age */
    rec.status = 200;
    assert_int_equal(tl_store_idem_put(st, "k1", "key", &rec, 5000, &d), TL_OK);
    assert_int_equal(tl_store_idem_put(st, "k1", "old", &rec, 100, &d), TL_OK);
    long long removed = -1;
    assert_int_equal(tl_store_idem_prune(st, 1000, &removed, &d), TL_OK);
    assert_int_equal(removed, 1);
    assert_int_equal(tl_store_idem_get(st, "k1", "key", 0, &got, &found, &d), TL_OK);
    assert_int_equal(found, 1);
    assert_int_equal(got.status, 200);
    free(got.body);
    assert_int_equal(tl_store_idem_put(st, "k1", "", &rec, 100, &d), TL_EINVAL);
    tl_store_free(st);
}

static tl_err tenant_seen(void *ctx, const tl_store_tenant_rec *t)
{
    char *out = ctx;
    size_t n = strlen(out);
    snprintf(out + n, 256 - n, "%s(%s:", t->id, t->name);
    for (int i = 0; i < t->n_branches; i++)
        snprintf(out + strlen(out), 256 - strlen(out), "%s%s", i ? "," : "", t->branches[i]);
    snprintf(out + strlen(out), 256 - strlen(out), ")");
    return TL_OK;
}

/* Consortium tenancy on every engine: tenants and their branches (one tenant a branch), keys
 * of a tenant, and a tenant's patrons apart from another's with the same id. */
static void test_tenants(void **state)
{
    (void)state;
    tl_store *st = open_new("tenants.db");
    tl_diag d;
    const char *ab[] = {"A1", "A2"}, *b[] = {"B1"}, *taken[] = {"A2"};
    tl_store_tenant_rec ta = {"a", "Library A", 100, ab, 2}, tb = {"b", "Library B", 100, b, 1};
    assert_int_equal(tl_store_tenant_put(st, &ta, &d), TL_OK);
    assert_int_equal(tl_store_tenant_put(st, &tb, &d), TL_OK);
    tl_store_tenant_rec clash = {"b", "Library B", 100, taken, 1};
    assert_int_equal(tl_store_tenant_put(st, &clash, &d), TL_EEXIST);
    tb.name = "Library Bee"; /* renamed: its branches replaced */
    assert_int_equal(tl_store_tenant_put(st, &tb, &d), TL_OK);
    char listed[256] = "";
    assert_int_equal(tl_store_tenants(st, tenant_seen, listed, &d), TL_OK);
    assert_string_equal(listed, "a(Library A:A1,A2)b(Library Bee:B1)");
    /* a key of tenant a; one of no tenant; one of a tenant the store lacks */
    uint8_t hash[32] = {1};
    tl_store_key ka = {.id = "keya", .role = "patron", .user = "42", .created = 1, .tenant = "a"};
    tl_store_key kc = {.id = "keyc", .role = "admin", .created = 1};
    tl_store_key kx = {.id = "keyx", .role = "admin", .created = 1, .tenant = "zz"};
    assert_int_equal(tl_store_put_key(st, &ka, hash, sizeof(hash), &d), TL_OK);
    assert_int_equal(tl_store_put_key(st, &kc, hash, sizeof(hash), &d), TL_OK);
    assert_int_equal(tl_store_put_key(st, &kx, hash, sizeof(hash), &d), TL_EINVAL);
    tl_store_key_auth auth;
    int found = 0;
    assert_int_equal(tl_store_get_key(st, "keya", &auth, &found, &d), TL_OK);
    assert_int_equal(found, 1);
    assert_string_equal(auth.tenant, "a");
    assert_string_equal(auth.user, "a:42"); /* its patron as the store keeps a's 42 */
    assert_int_equal(tl_store_get_key(st, "keyc", &auth, &found, &d), TL_OK);
    assert_string_equal(auth.tenant, "");
    assert_int_equal(tl_store_get_key(st, "keyx", &auth, &found, &d), TL_OK);
    assert_int_equal(found, 0); /* refused whole */
    /* the same id in two tenants: two patrons, each out of the other's reach */
    tl_event_rec e1 = ev("42", "b1", "loan", 0, 0, 100), e2 = ev("42", "b2", "loan", 0, 0, 101);
    assert_int_equal(tl_store_tenant_enter("a"), TL_OK);
    assert_int_equal(tl_store_put_event(st, &e1, 0, NULL, &d), TL_OK);
    assert_int_equal(tl_store_tenant_enter("b"), TL_OK);
    assert_int_equal(tl_store_put_event(st, &e2, 0, NULL, &d), TL_OK);
    int personalize = 0;
    assert_int_equal(tl_store_user_consent(st, "42", 2, &found, &personalize, &d), TL_OK);
    assert_int_equal(found, 1);
    assert_int_equal(tl_store_tenant_enter(NULL), TL_OK);
    tl_store_counts c;
    assert_int_equal(tl_store_count(st, &c), TL_OK);
    assert_int_equal(c.users, 2);
    assert_int_equal(tl_store_user_consent(st, "42", 2, &found, &personalize, &d), TL_OK);
    assert_int_equal(found, 0); /* the consortium has no 42 of its own */
    assert_int_equal(tl_store_user_consent(st, "b:42", 4, &found, &personalize, &d), TL_OK);
    assert_int_equal(found, 1);
    tl_store_free(st);
}

/* What a shelf, schedule, season and digest callback saw, as text lines. */
typedef struct lines {
    char text[1024];
    size_t len;
} lines;

static tl_err on_shelf(void *ctx, const char *item, const char *branch, int64_t count,
                       int64_t on_shelf)
{
    lines *l = ctx;
    l->len += (size_t)snprintf(l->text + l->len, sizeof(l->text) - l->len, "%s %s %lld %lld\n",
                               item, branch ? branch : "-", (long long)count, (long long)on_shelf);
    return TL_OK;
}

static tl_err on_schedule(void *ctx, const char *item, int64_t starts, int64_t ends)
{
    lines *l = ctx;
    l->len += (size_t)snprintf(l->text + l->len, sizeof(l->text) - l->len, "%s %lld %lld\n", item,
                               (long long)starts, (long long)ends);
    return TL_OK;
}

static tl_err on_week(void *ctx, const char *subject, int week, int64_t loans)
{
    lines *l = ctx;
    l->len += (size_t)snprintf(l->text + l->len, sizeof(l->text) - l->len, "%s %d %lld\n", subject,
                               week, (long long)loans);
    return TL_OK;
}

static tl_err on_copy(void *ctx, const tl_holding_rec *h)
{
    lines *l = ctx;
    l->len +=
        (size_t)snprintf(l->text + l->len, sizeof(l->text) - l->len, "%s %s %s %d\n", h->copy,
                         h->branch ? h->branch : "-", h->status ? h->status : "-", h->available);
    return TL_OK;
}

/* Copies by their ILS number (added, updated, unchanged, an availability kept), the record of a
 * copy, shelves per branch, an event's schedule from its extra, loans by subject and week. */
static void test_holdings_shelves_seasons(void **state)
{
    (void)state;
    tl_store *st = open_new("holdings.db");
    tl_diag d;
    tl_put what;
    tl_item_rec b1 = item("b1", "Dune");
    b1.subjects = "Science fiction| Deserts ";
    tl_item_rec talk = item("talk", "A talk");
    talk.type = "event";
    talk.extra = "{\"starts\":\"2024-03-01T18:00:00Z\",\"ends\":1709319600}";
    assert_int_equal(tl_store_put_item(st, &b1, NULL, &d), TL_OK);
    assert_int_equal(tl_store_put_item(st, &talk, NULL, &d), TL_OK);
    tl_holding_rec h[] = {{.copy = "101", .item = "b1", .branch = "CPL", .available = 1},
                          {.copy = "102", .item = "b1", .branch = "MPL", .available = 0},
                          {.copy = "103", .item = "b2", .branch = "CPL", .available = -1}};
    for (int k = 0; k < 3; k++) {
        assert_int_equal(tl_store_put_holding(st, &h[k], &what, &d), TL_OK);
        assert_int_equal(what, TL_PUT_ADDED);
    }
    assert_int_equal(tl_store_put_holding(st, &h[0], &what, &d), TL_OK);
    assert_int_equal(what, TL_PUT_UNCHANGED);
    tl_holding_rec moved = {.copy = "102", .item = "b1", .branch = "CPL", .available = -1};
    assert_int_equal(tl_store_put_holding(st, &moved, &what, &d), TL_OK);
    assert_int_equal(what, TL_PUT_UPDATED);
    char *rec = NULL;
    assert_int_equal(tl_store_item_for_copy(st, "103", 3, &rec, &d), TL_OK);
    assert_string_equal(rec, "b2"); /* created bare, as events do */
    free(rec);
    assert_int_equal(tl_store_item_for_copy(st, "999", 3, &rec, &d), TL_ENOTFOUND);
    lines l = {.len = 0};
    assert_int_equal(tl_store_shelves_each(st, on_shelf, &l, &d), TL_OK);
    assert_string_equal(l.text, "b1 CPL 2 1\nb2 CPL 1 1\n"); /* 102 kept its state: out */
    l.len = 0;
    assert_int_equal(tl_store_item_holdings(st, "b1", 2, on_copy, &l, &d), TL_OK);
    assert_string_equal(l.text, "101 CPL - 1\n102 CPL - 0\n");
    l.len = 0;
    assert_int_equal(tl_store_schedules_each(st, on_schedule, &l, &d), TL_OK);
    assert_string_equal(l.text, "talk 1709316000 1709319600\n");
    /* loans on 2024-01-01 (a Monday: week 1) and 2024-01-07 (a Sunday: still week 1) */
    assert_int_equal(tl_store_begin(st), TL_OK);
    const long long when[] = {1704103200, 1704621600, 1704621600};
    const char *who[] = {"u1", "u2", "u3"}, *type[] = {"loan", "renew", "click"};
    for (int k = 0; k < 3; k++) {
        tl_event_rec e = {.user = who[k],
                          .user_len = 2,
                          .item = "b1",
                          .item_len = 2,
                          .type = type[k],
                          .ts = when[k]};
        assert_int_equal(tl_store_put_event(st, &e, 0, NULL, &d), TL_OK);
    }
    assert_int_equal(tl_store_commit(st), TL_OK);
    l.len = 0;
    assert_int_equal(tl_store_loan_weeks(st, on_week, &l, &d), TL_OK);
    assert_non_null(strstr(l.text, "Science fiction 1 2\n"));
    assert_non_null(strstr(l.text, "Deserts 1 2\n"));
    assert_int_equal(l.len, strlen("Science fiction 1 2\nDeserts 1 2\n"));
    tl_store_free(st);
}

/* The tests of what every engine does (not of SQLite's files). */
static const struct CMUnitTest any_engine[] = {
    cmocka_unit_test(test_foreign_keys_enforced),
    cmocka_unit_test(test_transactions),
    cmocka_unit_test(test_upserts),
    cmocka_unit_test(test_load_data_weights),
    cmocka_unit_test(test_load_data_user_attrs),
    cmocka_unit_test(test_popular_segments_from_store),
    cmocka_unit_test(test_stats_queries),
    cmocka_unit_test(test_put_search),
    cmocka_unit_test(test_watermark_and_events_since),
    cmocka_unit_test(test_records_get_replace_delete),
    cmocka_unit_test(test_idempotency_keys),
    cmocka_unit_test(test_tenants),
    cmocka_unit_test(test_bulk_events),
    cmocka_unit_test(test_holdings_shelves_seasons),
};

int main(void)
{
    if (tl_test_on_pg())
        return tl_test_pg_start()
                   ? cmocka_run_group_tests_name("store on postgres", any_engine, NULL, NULL)
                   : TL_TEST_SKIP;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_migrate_reopen),
        cmocka_unit_test(test_versions_and_targets),
        cmocka_unit_test(test_foreign_files_refused),
        cmocka_unit_test(test_missing_and_empty_paths),
        cmocka_unit_test(test_mark_and_legacy_stores),
        cmocka_unit_test(test_readonly_opens_write_nothing),
        cmocka_unit_test(test_created_store_kept_while_shared),
        cmocka_unit_test(test_lock_timeout),
        cmocka_unit_test(test_foreign_keys_enforced),
        cmocka_unit_test(test_transactions),
        cmocka_unit_test(test_upserts),
        cmocka_unit_test(test_load_data_weights),
        cmocka_unit_test(test_load_data_user_attrs),
        cmocka_unit_test(test_popular_segments_from_store),
        cmocka_unit_test(test_stats_queries),
        cmocka_unit_test(test_put_search),
        cmocka_unit_test(test_watermark_and_events_since),
        cmocka_unit_test(test_records_get_replace_delete),
        cmocka_unit_test(test_idempotency_keys),
        cmocka_unit_test(test_tenants),
        cmocka_unit_test(test_bulk_events),
        cmocka_unit_test(test_holdings_shelves_seasons),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
