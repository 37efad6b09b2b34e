/* The tests' throwaway PostgreSQL server (pg_server.h). As root (CI), initdb and postgres
 * refuse to run: they run as nobody, in a directory made theirs. */
#include "pg_server.h"

#include <fcntl.h>
#include <glob.h>
#include <libpq-fe.h>
#include <pwd.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "support.h"

static char dir[256], bin[256], uri[512], as_user[64];

int tl_test_on_pg(void)
{
    const char *v = getenv("TL_TEST_DB");
    return v && strcmp(v, "postgres") == 0;
}

/* The newest server's bin directory (Debian: /usr/lib/postgresql/<major>/bin), else PATH's. */
static int find_bin(void)
{
    glob_t g;
    int found = 0;
    if (glob("/usr/lib/postgresql/*/bin/initdb", 0, NULL, &g) == 0 && g.gl_pathc) {
        /* versions sort as text: pick the longest, then the last (16 after 9) */
        const char *best = g.gl_pathv[0];
        for (size_t i = 1; i < g.gl_pathc; i++)
            if (strlen(g.gl_pathv[i]) >= strlen(best))
                best = g.gl_pathv[i];
        snprintf(bin, sizeof(bin), "%.*s", (int)(strlen(best) - strlen("/initdb")), best);
        found = 1;
    }
    globfree(&g);
    if (!found && system("command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null "
                         "2>&1") == 0) {
        snprintf(bin, sizeof(bin), "%s", "");
        found = 1;
    }
    return found;
}

static int sh(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    int rc = system(cmd);
    return rc == -1 || !WIFEXITED(rc) ? -1 : WEXITSTATUS(rc);
}

#define BIN(tool) bin, bin[0] ? "/" : "", tool

static void stop_server(void)
{
    sh("%s %s%s%s -D %s/data -m immediate stop >/dev/null 2>&1", as_user, BIN("pg_ctl"), dir);
    sh("rm -rf '%s'", dir);
}

/* A child that waits for this process to end (the pipe closes), then stops the server. */
static void watchdog(void)
{
    int p[2];
    if (pipe(p) != 0)
        return;
    pid_t pid = fork();
    if (pid == 0) {
        close(p[1]);
        setsid(); /* a signal to the test's process group leaves it */
        char c;
        while (read(p[0], &c, 1) > 0)
            ;
        stop_server();
        _exit(0);
    }
    close(p[0]);
    fcntl(p[1], F_SETFD, FD_CLOEXEC); /* the tests' own children must not keep it open */
}

const char *tl_test_pg_start(void)
{
    if (uri[0])
        return uri;
    if (!find_bin()) {
        fprintf(stderr, "SKIP: the PostgreSQL server (initdb, pg_ctl) is not installed; "
                        "scripts/deps.sh installs it (Debian: postgresql)\n");
        return NULL;
    }
    snprintf(dir, sizeof(dir), "/tmp/tl-pg-XXXXXX");
    assert_non_null(mkdtemp(dir));
    if (geteuid() == 0) {
        struct passwd *pw = getpwnam("nobody");
        assert_non_null(pw);
        assert_int_equal(chown(dir, pw->pw_uid, pw->pw_gid), 0);
        snprintf(as_user, sizeof(as_user), "runuser -u nobody --");
    }
    watchdog();
    if (sh("cd %s && %s %s%s%s -D %s/data -U tailor -A trust -E UTF8 --no-sync >%s/initdb.log "
           "2>&1",
           dir, as_user, BIN("initdb"), dir, dir) != 0 ||
        sh("cd %s && %s %s%s%s -D %s/data -l %s/server.log -w -o \"-k %s -c listen_addresses='' "
           "-c fsync=off -c synchronous_commit=off -c full_page_writes=off\" start >/dev/null",
           dir, as_user, BIN("pg_ctl"), dir, dir, dir) != 0) {
        sh("cat %s/initdb.log %s/server.log >&2", dir, dir);
        fail_msg("the test's PostgreSQL server did not start (%s)", dir);
    }
    snprintf(uri, sizeof(uri), "postgres:///postgres?host=%s&user=tailor", dir);
    return uri;
}

const char *tl_test_pg_db(const char *name)
{
    static char bufs[4][600];
    static int next;
    char *b = bufs[next++ % 4];
    assert_non_null(tl_test_pg_start());
    char q[160];
    snprintf(q, sizeof(q), "SELECT 1 FROM pg_database WHERE datname = '%s'", name);
    if (tl_test_pg_int("postgres", q) != 1) {
        snprintf(q, sizeof(q), "CREATE DATABASE \"%s\"", name);
        tl_test_pg_int("postgres", q);
    }
    snprintf(b, sizeof(bufs[0]), "postgres:///%s?host=%s&user=tailor", name, dir);
    return b;
}

void tl_test_pg_reset(const char *name)
{
    tl_test_pg_db(name);
    tl_test_pg_int(name, "DROP SCHEMA public CASCADE; CREATE SCHEMA public");
}

/* sql's result on the database name (the connection closed); fails the test on an error. */
static PGresult *exec_on(const char *name, const char *sql)
{
    char conn[600];
    snprintf(conn, sizeof(conn), "dbname=%s host=%s user=tailor", name, dir);
    PGconn *c = PQconnectdb(conn);
    if (PQstatus(c) != CONNECTION_OK)
        fail_msg("%s: %s", conn, PQerrorMessage(c));
    PGresult *r = PQexec(c, sql);
    ExecStatusType t = PQresultStatus(r);
    if (t != PGRES_COMMAND_OK && t != PGRES_TUPLES_OK)
        fail_msg("%s: %s", sql, PQresultErrorMessage(r));
    PQfinish(c);
    return r;
}

int64_t tl_test_pg_int(const char *name, const char *sql)
{
    PGresult *r = exec_on(name, sql);
    int64_t v = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) && !PQgetisnull(r, 0, 0)
                    ? strtoll(PQgetvalue(r, 0, 0), NULL, 10)
                    : -1;
    PQclear(r);
    return v;
}

/* "lists.db" -> "lists" */
static void base_of(const char *name, char *out, size_t cap)
{
    snprintf(out, cap, "%.*s", (int)strcspn(name, "."), name);
}

const char *tl_test_db(const char *name)
{
    static char bufs[4][600];
    static int next;
    char *b = bufs[next++ % 4], base[64];
    if (!tl_test_on_pg())
        return tl_test_tmp(name);
    base_of(name, base, sizeof(base));
    snprintf(b, sizeof(bufs[0]), "%s", tl_test_pg_db(base));
    return b;
}

const char *tl_test_store(const char *name)
{
    char base[64];
    if (tl_test_on_pg()) {
        base_of(name, base, sizeof(base));
        tl_test_pg_reset(base);
    }
    return tl_test_db(name);
}

const char *tl_test_pg_name(const char *db_uri)
{
    static char name[64];
    const char *p = strstr(db_uri, ":///");
    p = p ? p + 4 : db_uri;
    snprintf(name, sizeof(name), "%.*s", (int)strcspn(p, "?"), p);
    return name;
}

char *tl_test_pg_rows(const char *name, const char *sql)
{
    PGresult *r = exec_on(name, sql);
    size_t cap = 1, len = 0;
    for (int i = 0; i < PQntuples(r); i++)
        for (int k = 0; k < PQnfields(r); k++)
            cap += (size_t)PQgetlength(r, i, k) + 1;
    char *out = malloc(cap);
    assert_non_null(out);
    for (int i = 0; i < PQntuples(r); i++)
        for (int k = 0; k < PQnfields(r); k++)
            len += (size_t)snprintf(out + len, cap - len, "%s%c", PQgetvalue(r, i, k),
                                    k + 1 < PQnfields(r) ? ' ' : '\n');
    out[len] = '\0';
    PQclear(r);
    return out;
}
