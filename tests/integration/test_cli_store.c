/* The store as the `tailor` program meets it, attacked the way users and their machines do:
 * missing paths, other applications' databases, files that are not databases, failed first
 * imports, unwritable stores and directories, a full disk, two writers, an import waiting on a
 * pipe, kill -9 in the middle of an import; and segments of `popular` from user attributes.
 * Every case ends in the right result or a clear error, and the files are checked byte for
 * byte. */
#include "support.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BG_WAIT_S 60 /* a background command that takes longer than this has hung */

static char dir[512];

/* dir/name; the same name always gives the same (lasting) string. */
static const char *in_dir(const char *name)
{
    static char names[128][64], paths[128][700];
    static int n;
    if (!dir[0]) {
        /* readable by the unprivileged user of the permission tests */
        snprintf(dir, sizeof(dir), "%s/cli", tl_test_tmpdir());
        assert_int_equal(chmod(tl_test_tmpdir(), 0755), 0);
        assert_int_equal(mkdir(dir, 0755), 0);
    }
    for (int i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0)
            return paths[i];
    assert_true(n < 128 && strlen(name) < sizeof(names[0]));
    snprintf(names[n], sizeof(names[0]), "%s", name);
    snprintf(paths[n], sizeof(paths[0]), "%s/%s", dir, name);
    return paths[n++];
}

static void remove_store(const char *p)
{
    tl_test_sh("rm -f '%s' '%s-wal' '%s-shm' '%s-journal'", p, p, p, p);
}

/* Runs `[ENV] tailor --db DB ARGS` with stdout and stderr kept; returns the exit code. */
static int tailor_env(const char *env, const char *db, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int tailor_env(const char *env, const char *db, const char *fmt, ...)
{
    char args[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof(args), fmt, ap);
    va_end(ap);
    return tl_test_sh("%s '%s' --db '%s' %s > '%s' 2> '%s'", env ? env : "", tl_test_bin(), db,
                      args, in_dir("out.txt"), in_dir("err.txt"));
}

#define tailor(db, ...) tailor_env(NULL, db, __VA_ARGS__)

static char *err_text(void)
{
    char *s = tl_test_read(in_dir("err.txt"));
    assert_non_null(s);
    return s;
}

static char *out_text(void)
{
    char *s = tl_test_read(in_dir("out.txt"));
    assert_non_null(s);
    return s;
}

static void expect_err(const char *want)
{
    char *e = err_text();
    if (!strstr(e, want))
        fail_msg("stderr should say\n  %s\nbut says\n  %s", want, e);
    free(e);
}

static void expect_err_is(const char *want)
{
    char *e = err_text();
    if (strcmp(e, want) != 0)
        fail_msg("stderr should be\n  %s\nbut is\n  %s", want, e);
    free(e);
}

/* Counts from a raw SQLite connection (no Tailor code involved). */
static long long sql_count(const char *db, const char *table)
{
    sqlite3 *h;
    sqlite3_stmt *q;
    char sql[128];
    long long n = -1;
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", table);
    assert_int_equal(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    if (sqlite3_prepare_v2(h, sql, -1, &q, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(h));
    if (sqlite3_step(q) == SQLITE_ROW)
        n = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    sqlite3_close(h);
    return n;
}

static long long events_in(const char *db)
{
    assert_int_equal(tailor(db, "stats --json --top 0"), 0);
    char *o = out_text();
    const char *k = strstr(o, "\"events\":");
    assert_non_null(k);
    long long n = strtoll(k + 9, NULL, 10);
    free(o);
    return n;
}

/* A TSV of n events "user<k>\titem<k % items>" with user ids prefixed by tag. */
static const char *events_file(const char *name, const char *tag, int n)
{
    const char *p = in_dir(name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fprintf(f, "user\titem\n");
    for (int k = 0; k < n; k++)
        fprintf(f, "%s%d\titem%d\n", tag, k, k % 97);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(p, 0644), 0);
    return p;
}

/* A store holding the 4 events of tests/data/import/events.tsv, closed cleanly. */
static const char *base_store(const char *name)
{
    const char *db = in_dir(name);
    remove_store(db);
    assert_int_equal(
        tailor(db, "import events '%s' --quiet", tl_test_source("tests/data/import/events.tsv")),
        0);
    assert_false(tl_test_has_companions(db));
    assert_int_equal(chmod(db, 0644), 0);
    return db;
}

/* ---- background commands ---------------------------------------------------------------- */

static const char *bg_tags[8];
static int n_bg;

/* Starts `sh -c CMD` in the background; its pid, exit code, stdout and stderr go to
 * in_dir(tag.pid / .rc / .out / .err). */
static void bg_start(const char *tag, const char *cmd)
{
    char rc[700];
    if (n_bg < 8)
        bg_tags[n_bg++] = tag;
    snprintf(rc, sizeof(rc), "%s", in_dir(tag));
    tl_test_sh("rm -f '%s.rc' '%s.pid'", rc, rc);
    assert_int_equal(tl_test_sh("(%s > '%s.out' 2> '%s.err' & echo $! > '%s.pid'; wait $!;"
                                " echo $? > '%s.rc') > /dev/null 2>&1 &",
                                cmd, rc, rc, rc, rc),
                     0);
}

static char *bg_file(const char *tag, const char *ext)
{
    char p[800];
    snprintf(p, sizeof(p), "%s.%s", in_dir(tag), ext);
    return tl_test_read(p);
}

/* The exit code of a background command, waiting up to BG_WAIT_S seconds. */
static int bg_wait(const char *tag)
{
    for (int i = 0; i < BG_WAIT_S * 20; i++) {
        char *rc = bg_file(tag, "rc");
        if (rc && *rc) {
            int code = atoi(rc);
            free(rc);
            return code;
        }
        free(rc);
        usleep(50000);
    }
    fail_msg("background command %s did not finish in %d s", tag, BG_WAIT_S);
    return -1;
}

static pid_t bg_pid(const char *tag)
{
    for (int i = 0; i < BG_WAIT_S * 20; i++) {
        char *p = bg_file(tag, "pid");
        if (p && *p) {
            pid_t pid = (pid_t)atol(p);
            free(p);
            return pid;
        }
        free(p);
        usleep(50000);
    }
    fail_msg("background command %s did not start", tag);
    return -1;
}

/* Opens the FIFO for writing once its reader has opened it (at most BG_WAIT_S seconds). */
static int fifo_writer(const char *fifo)
{
    for (int i = 0; i < BG_WAIT_S * 100; i++) {
        int fd = open(fifo, O_WRONLY | O_NONBLOCK);
        if (fd >= 0) {
            fcntl(fd, F_SETFL, 0);
            return fd;
        }
        assert_int_equal(errno, ENXIO);
        usleep(10000);
    }
    fail_msg("nobody opened %s for reading", fifo);
    return -1;
}

static void write_all(int fd, const char *s, size_t n)
{
    while (n) {
        ssize_t w = write(fd, s, n);
        assert_true(w > 0);
        s += w;
        n -= (size_t)w;
    }
}

/* n event lines "tag<k>\titem<k % 97>\n" into fd. */
static void write_events(int fd, const char *tag, int from, int n)
{
    char line[64];
    for (int k = from; k < from + n; k++) {
        int len = snprintf(line, sizeof(line), "%s%d\titem%d\n", tag, k, k % 97);
        write_all(fd, line, (size_t)len);
    }
}

/* ---- what a command may touch ------------------------------------------------------------ */

static void test_missing_store(void **state)
{
    (void)state;
    const char *db = in_dir("missing.db");
    char want[1200];
    snprintf(want, sizeof(want),
             "tailor: cannot open the store: no Tailor store at %s; import data first or pass "
             "--db / $TAILOR_DB\n",
             db);
    assert_int_equal(tailor(db, "stats"), 1);
    expect_err_is(want);
    assert_int_equal(access(db, F_OK), -1);
    assert_false(tl_test_has_companions(db));
    assert_int_equal(tailor(db, "stats --json"), 1);
    assert_int_equal(tailor(db, "train --model popular --out '%s'", in_dir("m.tlm")), 1);
    expect_err(want + strlen("tailor: cannot open the store: "));
    assert_int_equal(access(db, F_OK), -1);
    assert_int_equal(access(in_dir("m.tlm"), F_OK), -1);
    assert_false(tl_test_has_companions(db));
}

/* Another application's database, a text file, a directory, and links to them: every command
 * refuses with a clear message and leaves them byte for byte as they were. */
static void test_foreign_files_untouched(void **state)
{
    (void)state;
    const char *cmds[] = {"stats", "stats --json --matrix", "import events '%s'",
                          "import events '%s' --dry-run", "train --model popular --out '%s'"};
    const char *foreign = in_dir("app.db"), *text = in_dir("notes.db"), *link = in_dir("link.db");
    const char *files[] = {foreign, text, link};
    sqlite3 *h;
    remove_store(foreign);
    assert_int_equal(sqlite3_open(foreign, &h), SQLITE_OK);
    assert_int_equal(sqlite3_exec(h,
                                  "CREATE TABLE customers(id INTEGER PRIMARY KEY, name TEXT);"
                                  "INSERT INTO customers(name) VALUES ('Ada'), ('Grace');",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(h);
    assert_int_equal(tl_test_write(text, "shopping list: milk, eggs\n"), 0);
    remove(link);
    assert_int_equal(symlink(foreign, link), 0);
    const char *events = tl_test_source("tests/data/import/events.tsv");
    for (size_t f = 0; f < 3; f++) {
        char want[1200];
        if (f == 1)
            snprintf(want, sizeof(want), "%s is not a Tailor store: file is not a database",
                     files[f]);
        else
            snprintf(want, sizeof(want),
                     "%s is an SQLite database but not a Tailor store; refusing to touch it",
                     files[f]);
        for (size_t c = 0; c < sizeof(cmds) / sizeof(cmds[0]); c++) {
            tl_test_snap before = tl_test_snapshot(foreign), tb = tl_test_snapshot(text);
            char args[1200];
            snprintf(args, sizeof(args), cmds[c], c == 4 ? in_dir("m.tlm") : events);
            int code = tailor(files[f], "%s", args);
            if (code != 1)
                fail_msg("tailor --db %s %s: exit %d, want 1", files[f], args, code);
            expect_err(want);
            tl_test_assert_unchanged(foreign, &before);
            tl_test_assert_unchanged(text, &tb);
        }
    }
    assert_int_equal(sql_count(foreign, "customers"), 2);
    assert_int_equal(sql_count(foreign, "sqlite_master"), 1);
    /* a directory */
    const char *d = in_dir("store-dir");
    assert_int_equal(mkdir(d, 0755), 0);
    assert_int_equal(tailor(d, "import events '%s'", events), 1);
    char want[1200];
    snprintf(want, sizeof(want), "%s is a directory, not a Tailor store", d);
    expect_err(want);
    assert_int_equal(tailor(d, "stats"), 1);
    expect_err(want);
    assert_false(tl_test_has_companions(d));
}

/* A first import that fails (or is a dry run) leaves the path as it was: no file at all, or
 * the empty file that was there. */
static void test_failed_first_import_leaves_nothing(void **state)
{
    (void)state;
    const char *db = in_dir("first.db");
    const char *bad = tl_test_source("tests/data/import/events_bad_number.tsv");
    const char *good = tl_test_source("tests/data/import/events.tsv");
    remove_store(db);
    assert_int_equal(tailor(db, "import events '%s'", bad), 3);
    expect_err("nothing was imported");
    assert_int_equal(access(db, F_OK), -1);
    assert_false(tl_test_has_companions(db));
    assert_int_equal(tailor(db, "import events '%s' --dry-run", good), 0);
    assert_int_equal(access(db, F_OK), -1);
    assert_int_equal(tailor(db, "import events '%s'", in_dir("no-such-input.tsv")), 1);
    assert_int_equal(access(db, F_OK), -1);
    assert_false(tl_test_has_companions(db));
    /* an empty file is adopted by an import, and is empty again after a failed one */
    assert_int_equal(tl_test_write(db, ""), 0);
    tl_test_snap before = tl_test_snapshot(db);
    assert_int_equal(tailor(db, "import events '%s'", bad), 3);
    tl_test_assert_unchanged(db, &before);
    assert_int_equal(tailor(db, "stats"), 1);
    expect_err("(the file is empty)");
    assert_int_equal(tailor(db, "import events '%s' --quiet", good), 0);
    assert_int_equal(events_in(db), 4);
    remove_store(db);
}

/* ---- unwritable stores ------------------------------------------------------------------- */

/* Runs the command as an unprivileged user: root ignores file permissions. Returns NULL when
 * that is impossible here. */
static const char *as_user(void)
{
    if (geteuid() != 0)
        return "";
    static int ok = -1;
    if (ok < 0)
        ok = tl_test_sh("setpriv --reuid=65534 --regid=65534 --clear-groups true") == 0;
    return ok ? "setpriv --reuid=65534 --regid=65534 --clear-groups" : NULL;
}

static void test_unwritable_store(void **state)
{
    (void)state;
    const char *user = as_user();
    const char *events = tl_test_source("tests/data/import/events_typed.csv");
    char want[1200];
    if (!user) {
        printf("skipped: cannot run as an unprivileged user (setpriv failed), and root writes "
               "anything\n");
        return;
    }
    if (access(tl_test_bin(), X_OK) != 0) {
        printf("skipped: %s is not executable\n", tl_test_bin());
        return;
    }
    /* the store file is not writable */
    const char *db = base_store("ro-file.db");
    assert_int_equal(chmod(dir, 0777), 0);
    tl_test_snap before = tl_test_snapshot(db);
    assert_int_equal(tailor_env(user, db, "import events '%s'", events), 1);
    snprintf(want, sizeof(want), "cannot write to %s: Permission denied", db);
    expect_err(want);
    tl_test_assert_unchanged(db, &before);
    /* ... but it can be read */
    assert_int_equal(tailor_env(user, db, "stats"), 0);
    remove_store(db);
    /* the directory is not writable: SQLite cannot create the write-ahead log beside it */
    assert_int_equal(chmod(dir, 0755), 0);
    db = base_store("ro-dir.db");
    assert_int_equal(chmod(db, 0666), 0);
    before = tl_test_snapshot(db);
    assert_int_equal(tailor_env(user, db, "import events '%s'", events), 1);
    snprintf(want, sizeof(want),
             "cannot create %s-wal: Permission denied (the store's directory must be writable: "
             "SQLite keeps its write-ahead log beside the store)",
             db);
    expect_err(want);
    tl_test_assert_unchanged(db, &before);
    /* a new store in that directory */
    assert_int_equal(tailor_env(user, in_dir("new.db"), "import events '%s'", events), 1);
    snprintf(want, sizeof(want), "cannot create %s: Permission denied", in_dir("new.db"));
    expect_err(want);
    assert_int_equal(access(in_dir("new.db"), F_OK), -1);
    remove_store(db);
}

/* An immutable file (chattr +i) stops root too; not every file system or container allows it. */
static void test_immutable_store(void **state)
{
    (void)state;
    const char *db = base_store("immutable.db");
    if (tl_test_sh("chattr +i '%s' 2> /dev/null", db) != 0) {
        printf("skipped: chattr +i is not permitted here\n");
        remove_store(db);
        return;
    }
    tl_test_snap before = tl_test_snapshot(db);
    assert_int_equal(
        tailor(db, "import events '%s'", tl_test_source("tests/data/import/events_typed.csv")), 1);
    char want[1200];
    snprintf(want, sizeof(want), "cannot write to %s: Operation not permitted", db);
    expect_err(want);
    assert_int_equal(tl_test_sh("chattr -i '%s'", db), 0);
    tl_test_assert_unchanged(db, &before);
    remove_store(db);
}

/* A read-only file system: a private mount namespace with a read-only bind of the directory. */
static void test_read_only_file_system(void **state)
{
    (void)state;
    const char *db = base_store("rofs.db");
    const char *events = tl_test_source("tests/data/import/events_typed.csv");
    tl_test_snap before = tl_test_snapshot(db);
    char err[700];
    snprintf(err, sizeof(err), "%s/rofs.err", tl_test_tmpdir()); /* outside the mount */
    if (tl_test_sh("unshare -m sh -c \"mount --bind '%s' '%s' && mount -o remount,bind,ro '%s'\""
                   " 2> /dev/null",
                   dir, dir, dir) != 0) {
        printf("skipped: cannot make a read-only mount here\n");
        free(before.bytes);
        remove_store(db);
        return;
    }
    int code = tl_test_sh("unshare -m sh -c \"mount --bind '%s' '%s' && mount -o remount,bind,ro "
                          "'%s' && '%s' --db '%s' import events '%s' 2> '%s'; e=\\$?;"
                          " '%s' --db '%s' stats > /dev/null 2>> '%s' || e=9; exit \\$e\"",
                          dir, dir, dir, tl_test_bin(), db, events, err, tl_test_bin(), db, err);
    char *e = tl_test_read(err);
    assert_non_null(e);
    char want[1200];
    snprintf(want, sizeof(want), "cannot write to %s: Read-only file system", db);
    if (code != 1 || !strstr(e, want))
        fail_msg("import on a read-only file system: exit %d (want 1; 9 = stats failed): %s", code,
                 e);
    free(e);
    tl_test_assert_unchanged(db, &before);
    remove_store(db);
}

/* A full disk, simulated by a file size limit: the import fails, saying why, and the store
 * keeps exactly what it had. */
static void test_full_disk(void **state)
{
    (void)state;
    const char *db = base_store("full.db");
    const char *big = events_file("big.tsv", "f", 60000);
    tl_test_snap before = tl_test_snapshot(db);
    int code = tl_test_sh("sh -c \"trap '' XFSZ; ulimit -f 200; exec '%s' --db '%s' import "
                          "events '%s' --quiet\" > /dev/null 2> '%s'",
                          tl_test_bin(), db, big, in_dir("err.txt"));
    assert_int_equal(code, 1);
    char want[1200];
    snprintf(want, sizeof(want), "cannot write to %s", db);
    expect_err(want);
    expect_err("File too large");
    tl_test_assert_unchanged(db, &before);
    assert_int_equal(events_in(db), 4);
    remove_store(db);
}

/* ---- two writers ------------------------------------------------------------------------- */

/* An import waiting for its input (a FIFO nobody writes to yet) holds no lock: another import
 * goes through at once; then the first gets its data and both land. */
static void test_waiting_import_holds_no_lock(void **state)
{
    (void)state;
    const char *db = base_store("fifo.db");
    const char *fifo = in_dir("events.fifo");
    char cmd[2000];
    remove(fifo);
    assert_int_equal(mkfifo(fifo, 0644), 0);
    snprintf(cmd, sizeof(cmd), "'%s' --db '%s' import events '%s' --quiet", tl_test_bin(), db,
             fifo);
    bg_start("fifo1", cmd);
    (void)bg_pid("fifo1");
    usleep(200000); /* let it reach the open of the FIFO */
    const char *other = events_file("other.tsv", "o", 50);
    assert_int_equal(tailor_env("TAILOR_LOCK_TIMEOUT=5", db, "import events '%s' --quiet", other),
                     0);
    /* the writer is there but the header has not come yet: still no lock */
    int fd = fifo_writer(fifo);
    write_all(fd, "user\t", 5);
    usleep(200000);
    const char *third = events_file("third.tsv", "t", 30);
    assert_int_equal(tailor_env("TAILOR_LOCK_TIMEOUT=5", db, "import events '%s' --quiet", third),
                     0);
    write_all(fd, "item\n", 5);
    write_events(fd, "p", 0, 200);
    close(fd);
    assert_int_equal(bg_wait("fifo1"), 0);
    assert_int_equal(events_in(db), 4 + 50 + 30 + 200);
    assert_int_equal(sql_count(db, "users WHERE ext_id LIKE 'p%'"), 200);
    assert_int_equal(sql_count(db, "users WHERE ext_id LIKE 'o%'"), 50);
    remove(fifo);
    remove_store(db);
}

/* A writer that holds the lock (an import in the middle of a pipe) and a second writer with a
 * short TAILOR_LOCK_TIMEOUT: the second fails with the full story, the first completes; then
 * kill -9 in the middle of an import leaves the store exactly as it was. */
static void test_locked_store_and_kill(void **state)
{
    (void)state;
    const char *db = base_store("locked.db");
    const char *fifo = in_dir("locked.fifo");
    char cmd[2000], want[1200];
    remove(fifo);
    assert_int_equal(mkfifo(fifo, 0644), 0);
    snprintf(cmd, sizeof(cmd), "'%s' --db '%s' import events '%s' --quiet", tl_test_bin(), db,
             fifo);
    bg_start("holder", cmd);
    int fd = fifo_writer(fifo);
    write_all(fd, "user\titem\n", 10);
    /* more than the reader buffers, so it has handed records to the store and holds the lock */
    write_events(fd, "h", 0, 120000);
    const char *other = events_file("second.tsv", "s", 10);
    assert_int_equal(tailor_env("TAILOR_LOCK_TIMEOUT=1", db, "import events '%s'", other), 1);
    snprintf(want, sizeof(want),
             "the store %s is locked by another writer (another `tailor import`?); waited 1 s; "
             "try again when it finishes or raise TAILOR_LOCK_TIMEOUT",
             db);
    expect_err(want);
    write_events(fd, "h", 120000, 10);
    close(fd);
    assert_int_equal(bg_wait("holder"), 0);
    assert_int_equal(events_in(db), 4 + 120010);
    assert_int_equal(sql_count(db, "users WHERE ext_id LIKE 's%'"), 0);

    /* kill -9 while the import is inside its transaction */
    assert_int_equal(tailor(db, "import events '%s' --quiet", other), 0); /* the last writer */
    assert_false(tl_test_has_companions(db));
    tl_test_snap before = tl_test_snapshot(db);
    bg_start("victim", cmd);
    fd = fifo_writer(fifo);
    write_all(fd, "user\titem\n", 10);
    write_events(fd, "k", 0, 120000);
    pid_t pid = bg_pid("victim");
    assert_int_equal(kill(pid, SIGKILL), 0);
    close(fd);
    assert_int_equal(bg_wait("victim"), 128 + SIGKILL);
    tl_test_snap after = tl_test_snapshot(db);
    assert_int_equal(after.len, before.len); /* the main file was not touched ... */
    assert_memory_equal(after.bytes, before.bytes, before.len);
    free(after.bytes);
    free(before.bytes);
    assert_int_equal(events_in(db), 4 + 120010 + 10); /* ... and the log adds nothing */
    assert_int_equal(sql_count(db, "users WHERE ext_id LIKE 'k%'"), 0);
    remove(fifo);
    remove_store(db);
}

/* kill -9 in the middle of the first import into a new path: the store it was creating holds
 * nothing and is treated as no store; the next writer that commits nothing removes it. */
static void test_killed_first_import(void **state)
{
    (void)state;
    const char *db = in_dir("killed.db"), *fifo = in_dir("killed.fifo");
    char cmd[2000], want[1200];
    remove_store(db);
    remove(fifo);
    assert_int_equal(mkfifo(fifo, 0644), 0);
    snprintf(cmd, sizeof(cmd), "'%s' --db '%s' import events '%s' --quiet", tl_test_bin(), db,
             fifo);
    bg_start("killed", cmd);
    int fd = fifo_writer(fifo);
    write_all(fd, "user\titem\n", 10);
    write_events(fd, "k", 0, 120000);
    assert_int_equal(kill(bg_pid("killed"), SIGKILL), 0);
    close(fd);
    assert_int_equal(bg_wait("killed"), 128 + SIGKILL);
    assert_int_equal(access(db, F_OK), 0);
    snprintf(want, sizeof(want),
             "no Tailor store at %s (the import creating it has not committed anything)", db);
    assert_int_equal(tailor(db, "stats"), 1);
    expect_err(want);
    assert_int_equal(tailor(db, "train --model popular --out '%s'", in_dir("k.tlm")), 1);
    expect_err(want);
    assert_int_equal(
        tailor(db, "import events '%s'", tl_test_source("tests/data/import/events_bad_number.tsv")),
        3);
    assert_int_equal(access(db, F_OK), -1);
    assert_false(tl_test_has_companions(db));
    assert_int_equal(
        tailor(db, "import events '%s' --quiet", tl_test_source("tests/data/import/events.tsv")),
        0);
    assert_int_equal(events_in(db), 4);
    remove(fifo);
    remove_store(db);
}

/* Two imports at once into the same store (and into a new one, with two failing ones beside
 * them): both wait their turn and both land. */
static void test_concurrent_writers(void **state)
{
    (void)state;
    const char *a = events_file("conc-a.tsv", "a", 20000);
    const char *b = events_file("conc-b.tsv", "b", 20000);
    for (int fresh = 0; fresh < 2; fresh++) {
        const char *db = fresh ? in_dir("conc-new.db") : base_store("conc.db");
        if (fresh)
            remove_store(db);
        char cmd[2000];
        snprintf(cmd, sizeof(cmd), "'%s' --db '%s' import events '%s' --quiet", tl_test_bin(), db,
                 a);
        bg_start("conc-a", cmd);
        snprintf(cmd, sizeof(cmd), "'%s' --db '%s' import events '%s' --quiet", tl_test_bin(), db,
                 b);
        bg_start("conc-b", cmd);
        /* and, into the new store, imports that fail: they must not take it away */
        const char *bad = tl_test_source("tests/data/import/events_bad_number.tsv");
        snprintf(cmd, sizeof(cmd), "'%s' --db '%s' import events '%s'", tl_test_bin(), db, bad);
        bg_start("conc-bad", cmd);
        snprintf(cmd, sizeof(cmd), "'%s' --db '%s' import events '%s' --dry-run", tl_test_bin(), db,
                 bad);
        bg_start("conc-dry", cmd);
        int ra = bg_wait("conc-a"), rb = bg_wait("conc-b");
        if (ra || rb) {
            char *ea = bg_file("conc-a", "err"), *eb = bg_file("conc-b", "err");
            fail_msg("concurrent imports: exit %d (%s) and %d (%s)", ra, ea, rb, eb);
        }
        assert_int_equal(bg_wait("conc-bad"), 3);
        assert_int_equal(bg_wait("conc-dry"), 3);
        assert_int_equal(events_in(db), (fresh ? 0 : 4) + 40000);
        remove_store(db);
    }
}

/* ---- segments ----------------------------------------------------------------------------- */

/* The first item id of `recommend --user U` (its line "  1. ID ..."). */
static char *first_rec(const char *db, const char *model, const char *user)
{
    assert_int_equal(tailor(db, "recommend --model '%s' --user %s --n 3", model, user), 0);
    char *o = out_text();
    char *p = strstr(o, " 1. ");
    assert_non_null(p);
    p += 4;
    size_t n = strcspn(p, " ");
    memmove(o, p, n);
    o[n] = '\0';
    return o;
}

static void test_popular_segments_end_to_end(void **state)
{
    (void)state;
    const char *db = in_dir("seg.db");
    remove_store(db);
    /* History patrons borrow the history books, Physics patrons the physics books; the most
     * borrowed book overall (pop) is borrowed by patrons without a department */
    assert_int_equal(tl_test_write(in_dir("seg-users.tsv"), "patron\tdepartment\tlevel\n"
                                                            "h1\tHistory\tstaff\n"
                                                            "h2\tHistory\tundergrad\n"
                                                            "h3\tHistory\t\n"
                                                            "p1\tPhysics\tstaff\n"
                                                            "p2\tPhysics\t\n"
                                                            "p3\tPhysics\t\n"
                                                            "n1\t\t\n"),
                     0);
    assert_int_equal(tl_test_write(in_dir("seg-events.tsv"),
                                   "user\titem\n"
                                   "h1\thist1\nh2\thist1\nh3\thist1\n"
                                   "h1\thist2\nh2\thist2\n"
                                   "p1\tphys1\np2\tphys1\np3\tphys1\n"
                                   "p1\tphys2\np2\tphys2\n"
                                   "n1\tpop\nn1\thist1\nx1\tpop\nx2\tpop\n"
                                   "x3\tpop\nx4\tpop\n"),
                     0);
    assert_int_equal(tailor(db, "import users '%s' --quiet", in_dir("seg-users.tsv")), 0);
    assert_int_equal(tailor(db, "import events '%s' --quiet", in_dir("seg-events.tsv")), 0);
    const char *model = in_dir("seg.tlm");
    assert_int_equal(tailor(db, "train --model popular --set segment=department --out '%s'", model),
                     0);
    /* each department gets its own list (without what the patron already borrowed) */
    char *r = first_rec(db, model, "h3");
    assert_string_equal(r, "hist2");
    free(r);
    r = first_rec(db, model, "p3");
    assert_string_equal(r, "phys2");
    free(r);
    r = first_rec(db, model, "x1"); /* no department: the global list */
    assert_string_equal(r, "hist1");
    free(r);
    /* without the segment, everybody gets the global list */
    assert_int_equal(tailor(db, "train --model popular --out '%s'", model), 0);
    r = first_rec(db, model, "h3");
    assert_string_equal(r, "pop");
    free(r);
    r = first_rec(db, model, "p3");
    assert_string_equal(r, "pop");
    free(r);
    /* an attribute nobody has, and data without attributes, are errors that say so */
    assert_int_equal(tailor(db, "train --model popular --set segment=branch --out '%s'", model), 2);
    expect_err("no user has the attribute 'branch' (the users' attributes: department, level)");
    assert_int_equal(tl_test_write(in_dir("seg.tsv"), "user\titem\nh1\thist1\np1\tphys1\n"), 0);
    assert_int_equal(tailor(db,
                            "train --model popular --set segment=department --data '%s' --out "
                            "'%s'",
                            in_dir("seg.tsv"), model),
                     2);
    expect_err("no user has the attribute 'department' (the training data has no user "
               "attributes; they come from the users imported into the store)");
    remove_store(db);
}

/* A failed test must not leave its background commands behind (waiting on a FIFO forever). */
static int kill_bg(void **state)
{
    (void)state;
    for (int i = 0; i < n_bg; i++) {
        char *p = bg_file(bg_tags[i], "pid"), *rc = bg_file(bg_tags[i], "rc");
        if (p && *p && !(rc && *rc))
            kill((pid_t)atol(p), SIGKILL);
        free(p);
        free(rc);
    }
    n_bg = 0;
    return 0;
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_missing_store, kill_bg),
        cmocka_unit_test_teardown(test_foreign_files_untouched, kill_bg),
        cmocka_unit_test_teardown(test_failed_first_import_leaves_nothing, kill_bg),
        cmocka_unit_test_teardown(test_unwritable_store, kill_bg),
        cmocka_unit_test_teardown(test_immutable_store, kill_bg),
        cmocka_unit_test_teardown(test_read_only_file_system, kill_bg),
        cmocka_unit_test_teardown(test_full_disk, kill_bg),
        cmocka_unit_test_teardown(test_waiting_import_holds_no_lock, kill_bg),
        cmocka_unit_test_teardown(test_locked_store_and_kill, kill_bg),
        cmocka_unit_test_teardown(test_killed_first_import, kill_bg),
        cmocka_unit_test_teardown(test_concurrent_writers, kill_bg),
        cmocka_unit_test_teardown(test_popular_segments_end_to_end, kill_bg),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
