/* The file behind an SQLite store: what is at the path, and what Tailor may do to it. Nothing
 * here writes to a file that is not a Tailor store: the header is read through SQLite's own
 * file layer under a shared lock (a plain open() and close() would drop the locks that this
 * process's other connections hold on the file: POSIX locks belong to the process), and other
 * applications' databases are recognised before any connection could convert, migrate or
 * journal them. Also: removing a new store that never got data, and saying why the engine
 * failed in words that name the path and the operating system's reason. */
#include "store/sqlite/sqlite_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#define HEADER 100           /* bytes of SQLite's database header */
#define OFF_JOURNAL 18       /* file format write version: 2 = WAL */
#define OFF_APP_ID 68        /* PRAGMA application_id, big-endian */
#define LOCK_POLL_MS 10      /* between tries of the shared lock on the header */
#define SIDE_MAX (4096 + 16) /* a path and a companion suffix */

/* The tables of schema version 1: a store of a Tailor from before the mark has all of them.
 * Every one but schema_migrations holds data. */
static const char *const tailor_tables[] = {
    "schema_migrations", "meta",   "items",    "users",
    "event_types",       "events", "searches", "search_clicks"};
#define N_TAILOR_TABLES ((int)(sizeof(tailor_tables) / sizeof(tailor_tables[0])))
#define TAILOR_TABLES_SQL                                                                          \
    "('schema_migrations', 'meta', 'items', 'users', 'event_types', 'events', 'searches',"         \
    " 'search_clicks')"

/* The tables later migrations added (version 2: api_keys, 3: idempotency_keys, 4: the trust
 * tables, 5: library services, 8: the catalogue's full-text index, 9: impressions, 10:
 * experiments); each holds data. A migration that adds a table lists it here, or a store that
 * a failed first import leaves behind is kept as if it held data. */
static const char *const later_tables[] = {"api_keys",        "idempotency_keys",
                                           "audit_log",       "consent_log",
                                           "retention",       "item_details",
                                           "holdings",        "lists",
                                           "list_items",      "reviews",
                                           "paths",           "path_steps",
                                           "path_feedback",   "search_totals",
                                           "subscriptions",   "search_fts",
                                           "search_heads",    "search_heads_terms",
                                           "experiments",     "impressions",
                                           "impression_rows", "impression_rewards",
                                           "learners",        "tenants",
                                           "tenant_branches", "tenant_keys"};
/* The shadow tables FTS5 keeps for an index above: Tailor's, and never empty (they hold the
 * index's settings and structure), so the index itself is asked whether it holds rows. */
static const char *const shadow_tables[] = {"search_fts_data", "search_fts_idx",
                                            "search_fts_content", "search_fts_docsize",
                                            "search_fts_config"};

static const char *const companions[] = {"-wal", "-shm", "-journal"};

static tl_err refuse(tl_diag *d, tl_err rc, const char *fmt, ...) TL_PRINTF(3, 4);
static tl_err refuse(tl_diag *d, tl_err rc, const char *fmt, ...)
{
    char msg[sizeof(d->msg)];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    tl_diag_set(d, NULL, 0, NULL, "%s", msg);
    return rc;
}

static tl_err no_store(tl_diag *d, const char *path, const char *detail)
{
    return refuse(d, TL_ENOTFOUND,
                  "no Tailor store at %s%s; import data first or pass --db / $" TL_STORE_ENV, path,
                  detail);
}

static void side(char *buf, const char *path, const char *ext)
{
    snprintf(buf, SIDE_MAX, "%s%s", path, ext);
}

static int exists(const char *path)
{
    return access(path, F_OK) == 0;
}

/* The directory of path ("." for a bare name). */
static void dir_of(const char *path, char *buf, size_t len)
{
    snprintf(buf, len, "%s", path);
    char *slash = strrchr(buf, '/');
    if (!slash)
        snprintf(buf, len, ".");
    else if (slash == buf)
        buf[1] = '\0';
    else
        *slash = '\0';
}

/* Why path cannot be written, or its write-ahead log not created beside it, into why ("" when
 * nothing says so: the check uses the effective ids, like the writes themselves). */
static void write_problem(const char *path, const char *real, char *why, size_t len)
{
    char wal[SIDE_MAX], dir[SIDE_MAX];
    why[0] = '\0';
    if (faccessat(AT_FDCWD, real, W_OK, AT_EACCESS) != 0) {
        snprintf(why, len, "cannot write to %s: %s", path, strerror(errno));
        return;
    }
    side(wal, real, "-wal");
    dir_of(real, dir, sizeof(dir));
    if (!exists(wal) && faccessat(AT_FDCWD, dir, W_OK | X_OK, AT_EACCESS) != 0)
        snprintf(why, len,
                 "cannot create %s: %s (the store's directory must be writable: SQLite keeps its "
                 "write-ahead log beside the store)",
                 wal, strerror(errno));
}

/* A store may be made at path: no log of a deleted store lies beside it (SQLite would replay
 * it into the new one). */
static tl_err check_new(const char *path, tl_diag *d)
{
    char s[SIDE_MAX];
    for (size_t i = 0; i < sizeof(companions) / sizeof(companions[0]); i++) {
        side(s, path, companions[i]);
        if (i != 1 && exists(s)) /* a lone -shm is only an index, rebuilt from the log */
            return refuse(d, TL_EIO,
                          "%s exists but %s does not (left from a deleted store?); remove it or "
                          "choose another path",
                          s, path);
    }
    return TL_OK;
}

tl_err tl__sq_new_file(const char *path, char *tmp, size_t len, tl_diag *d)
{
    static int counter;
    char dir[SIDE_MAX];
    const char *base = strrchr(path, '/');
    dir_of(path, dir, sizeof(dir));
    base = base ? base + 1 : path;
    for (int tries = 0;; tries++) {
        snprintf(tmp, len, "%s/.%s.tailor-new.%ld.%d", dir, base, (long)getpid(),
                 __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED));
        /* a new file: no connection of this process holds locks on it that closing the
         * descriptor could drop */
        int fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0) {
            close(fd);
            return TL_OK;
        }
        if (errno != EEXIST || tries == 100)
            return refuse(d, TL_EIO, "cannot create %s: %s", path, strerror(errno));
    }
}

tl_err tl__sq_publish(const char *tmp, const char *path, tl_diag *d)
{
    tl_err rc = TL_OK;
    /* link() never replaces: a store another process made meanwhile wins, and is used */
    if (link(tmp, path) != 0 && errno != EEXIST && !exists(path)) {
        /* a file system without hard links: rename, which is not atomic against a creator */
        if (rename(tmp, path) == 0)
            return TL_OK;
        rc = refuse(d, TL_EIO, "cannot create %s: %s", path, strerror(errno));
    }
    tl__sq_remove_new(tmp);
    return rc;
}

void tl__sq_remove_new(const char *tmp)
{
    char s[SIDE_MAX];
    unlink(tmp);
    for (size_t i = 0; i < sizeof(companions) / sizeof(companions[0]); i++) {
        side(s, tmp, companions[i]);
        unlink(s);
    }
}

/* Reads the first HEADER bytes of path (zeros past its end) and its size through SQLite's file
 * layer, under a shared lock so that a first page being written is never seen half done.
 * Returns an SQLite result code (SQLITE_BUSY: still locked after timeout seconds). */
static int read_header(const char *real, double timeout, unsigned char *hdr, sqlite3_int64 *size)
{
    sqlite3_vfs *vfs = sqlite3_vfs_find(NULL);
    const char *name = sqlite3_create_filename(real, "", "", 0, NULL);
    sqlite3_file *f = vfs ? sqlite3_malloc(vfs->szOsFile) : NULL;
    int rc = SQLITE_NOMEM, flags;
    memset(hdr, 0, HEADER);
    *size = 0;
    if (!name || !f)
        goto out;
    memset(f, 0, (size_t)vfs->szOsFile);
    if ((rc = vfs->xOpen(vfs, name, f, SQLITE_OPEN_READONLY | SQLITE_OPEN_MAIN_DB, &flags)) !=
        SQLITE_OK)
        goto out;
    for (double waited = 0;; waited += LOCK_POLL_MS / 1000.0) {
        rc = f->pMethods->xLock(f, SQLITE_LOCK_SHARED);
        if (rc != SQLITE_BUSY || waited >= timeout)
            break;
        sqlite3_sleep(LOCK_POLL_MS);
    }
    if (rc != SQLITE_OK)
        goto out;
    if ((rc = f->pMethods->xFileSize(f, size)) == SQLITE_OK && *size > 0) {
        rc = f->pMethods->xRead(f, hdr, HEADER, 0);
        if (rc == SQLITE_IOERR_SHORT_READ)
            rc = SQLITE_OK; /* the layer zero-fills the rest */
    }
    f->pMethods->xUnlock(f, SQLITE_LOCK_NONE);
out:
    if (f && f->pMethods)
        f->pMethods->xClose(f);
    sqlite3_free(f);
    sqlite3_free_filename(name);
    return rc;
}

/* "file:PATH" + params, with PATH percent-encoded. */
static char *uri_of(const char *path, const char *params)
{
    size_t n = strlen(path);
    char *u = malloc(5 + 3 * n + strlen(params) + 1), *p = u;
    if (!u)
        return NULL;
    p += sprintf(p, "file:");
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)path[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            strchr("/._-~", c))
            *p++ = (char)c;
        else
            p += sprintf(p, "%%%02X", c);
    }
    strcpy(p, params);
    return u;
}

char *tl__sq_immutable_uri(const sq_file *f)
{
    return uri_of(f->real, "?mode=ro&immutable=1");
}

static uint32_t be32(const unsigned char *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* *yes = 1 when the SQLite database f has Tailor's schema (version 1 or later). Looks through
 * a read-only connection; without locks when the database is in WAL mode and has no log (a
 * locking reader would create the log and its index beside a file that may not be Tailor's). */
static tl_err has_tailor_schema(const sq_file *f, int wal, int *yes, tl_diag *d)
{
    char log[SIDE_MAX];
    side(log, f->real, "-wal");
    char *uri = uri_of(f->real, wal && !exists(log) ? "?mode=ro&immutable=1" : "?mode=ro");
    sqlite3 *db = NULL;
    sqlite3_stmt *q = NULL;
    if (!uri)
        return TL_ENOMEM;
    int rc = sqlite3_open_v2(uri, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_extended_result_codes(db, 1);
        sqlite3_busy_timeout(db, (int)(f->lock_timeout * 1000));
        rc = sqlite3_prepare_v2(db,
                                "SELECT (SELECT count(*) FROM sqlite_master WHERE type = 'table'"
                                " AND name IN " TAILOR_TABLES_SQL "), user_version"
                                " FROM pragma_user_version",
                                -1, &q, NULL);
    }
    if (rc == SQLITE_OK && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        *yes = sqlite3_column_int(q, 0) == N_TAILOR_TABLES && sqlite3_column_int(q, 1) >= 1;
        rc = SQLITE_OK;
    }
    tl_err r = TL_OK;
    if (rc != SQLITE_OK) {
        char why[sizeof(d->msg)];
        tl__sq_explain(f, db, rc, why, sizeof(why));
        if (!why[0])
            snprintf(why, sizeof(why), "cannot read %s: %s", f->path,
                     db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        r = (rc & 0xff) == SQLITE_NOMEM                                     ? TL_ENOMEM
            : (rc & 0xff) == SQLITE_NOTADB || (rc & 0xff) == SQLITE_CORRUPT ? TL_ECORRUPT
            : (rc & 0xff) == SQLITE_BUSY                                    ? TL_ESTORE
                                                                            : TL_EIO;
        refuse(d, r, "%s", why);
    }
    sqlite3_finalize(q);
    sqlite3_close_v2(db);
    free(uri);
    return r;
}

/* A read-only open of a store in WAL mode without its log: SQLite must create PATH-wal and
 * PATH-shm to read it safely. On a read-only file system nobody can be writing, so it may read
 * without locks; elsewhere an unwritable directory is an error that says so. */
static tl_err check_readable(sq_file *f, const unsigned char *hdr, tl_diag *d)
{
    char log[SIDE_MAX], dir[SIDE_MAX];
    struct statvfs v;
    side(log, f->real, "-wal");
    dir_of(f->real, dir, sizeof(dir));
    if (hdr[OFF_JOURNAL] != 2 || exists(log) ||
        faccessat(AT_FDCWD, dir, W_OK | X_OK, AT_EACCESS) == 0)
        return TL_OK;
    int e = errno;
    if (statvfs(dir, &v) == 0 && (v.f_flag & ST_RDONLY)) {
        f->immutable = 1;
        return TL_OK;
    }
    return refuse(
        d, TL_EIO,
        "cannot read %s: SQLite must create %s beside a store in WAL mode to read it, and "
        "its directory refuses: %s",
        f->path, log, strerror(e));
}

tl_err tl__sq_inspect(const char *path, int flags, double lock_timeout, sq_file *f, tl_diag *d)
{
    int write = !(flags & TL_STORE_READONLY), create = write && (flags & TL_STORE_CREATE);
    struct stat sb;
    unsigned char hdr[HEADER];
    sqlite3_int64 size = 0;
    tl_err rc;
    memset(f, 0, sizeof(*f));
    f->lock_timeout = lock_timeout;
    if (!(f->path = strdup(path)))
        return TL_ENOMEM;
    if (stat(path, &sb) != 0) {
        if (errno != ENOENT)
            return refuse(d, TL_EIO, "cannot open %s: %s", path, strerror(errno));
        if (!create)
            return no_store(d, path, "");
        char target[1024];
        ssize_t n = readlink(path, target, sizeof(target) - 1);
        if (n >= 0) {
            target[n] = '\0';
            return refuse(d, TL_EIO,
                          "%s is a symbolic link to %s, which does not exist; make the store "
                          "there, or remove the link",
                          path, target);
        }
        f->origin = SQ_MISSING;
        return check_new(path, d);
    }
    if (S_ISDIR(sb.st_mode))
        return refuse(d, TL_EIO, "%s is a directory, not a Tailor store", path);
    if (!S_ISREG(sb.st_mode))
        return refuse(d, TL_EIO, "%s is not a regular file, so not a Tailor store", path);
    f->dev = sb.st_dev;
    f->ino = sb.st_ino;
    if (!(f->real = realpath(path, NULL)))
        return refuse(d, TL_EIO, "cannot open %s: %s", path, strerror(errno));
    int src = read_header(f->real, lock_timeout, hdr, &size);
    if (src != SQLITE_OK) {
        char why[sizeof(d->msg)];
        tl__sq_explain(f, NULL, src, why, sizeof(why));
        if ((src & 0xff) == SQLITE_BUSY)
            return refuse(d, TL_ESTORE, "%s", why);
        if ((src & 0xff) == SQLITE_NOMEM)
            return TL_ENOMEM;
        return refuse(d, TL_EIO, "cannot read %s: %s", path,
                      access(f->real, R_OK) != 0 ? strerror(errno) : sqlite3_errstr(src));
    }
    if (size == 0) {
        if (!create)
            return no_store(d, path, " (the file is empty)");
        f->origin = SQ_ADOPTED;
    } else {
        if (memcmp(hdr, "SQLite format 3", 16) != 0)
            return refuse(d, TL_ECORRUPT, "%s is not a Tailor store: file is not a database", path);
        if (be32(hdr + OFF_APP_ID) != TL_SQ_APPLICATION_ID) {
            int yes = 0;
            if (be32(hdr + OFF_APP_ID) == 0 &&
                (rc = has_tailor_schema(f, hdr[OFF_JOURNAL] == 2, &yes, d)) != TL_OK)
                return rc;
            if (!yes)
                return refuse(d, TL_ECORRUPT,
                              "%s is an SQLite database but not a Tailor store; refusing to touch "
                              "it",
                              path);
            f->legacy = 1;
        }
    }
    if (!write)
        return check_readable(f, hdr, d);
    char why[sizeof(d->msg)];
    write_problem(path, f->real, why, sizeof(why));
    return why[0] ? refuse(d, TL_EIO, "%s", why) : TL_OK;
}

void tl__sq_file_release(sq_file *f)
{
    free(f->path);
    free(f->real);
    memset(f, 0, sizeof(*f));
}

int tl__sq_same_file(const sq_file *f)
{
    struct stat sb;
    return stat(f->path, &sb) == 0 && sb.st_dev == f->dev && sb.st_ino == f->ino;
}

/* 1 unless every table is one of Tailor's and empty (errors count as data: keep the file). */
static int holds_data(sqlite3 *db)
{
    sqlite3_stmt *q;
    int found = 0, rc;
    if (sqlite3_prepare_v2(db,
                           "SELECT name FROM sqlite_master WHERE type = 'table'"
                           " AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
                           -1, &q, NULL) != SQLITE_OK)
        return 1;
    while (!found && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(q, 0);
        int k = 0;
        while (k < N_TAILOR_TABLES && strcmp(name, tailor_tables[k]) != 0)
            k++;
        for (size_t j = 0; k == N_TAILOR_TABLES && j < sizeof(later_tables) / sizeof(*later_tables);
             j++)
            if (strcmp(name, later_tables[j]) == 0)
                k = 2; /* a table of data */
        for (size_t j = 0;
             k == N_TAILOR_TABLES && j < sizeof(shadow_tables) / sizeof(*shadow_tables); j++)
            if (strcmp(name, shadow_tables[j]) == 0)
                k = -1; /* Tailor's, not asked */
        if (k < 0) {
            continue;
        } else if (k == N_TAILOR_TABLES) {
            found = 1;
        } else if (k > 0) {
            char *sql = sqlite3_mprintf("SELECT 1 FROM \"%w\"%s LIMIT 1", name,
                                        k == 1 ? " WHERE key <> '" TL_SQ_PENDING "'" : "");
            sqlite3_stmt *c = NULL;
            found = !sql || sqlite3_prepare_v2(db, sql, -1, &c, NULL) != SQLITE_OK ||
                    sqlite3_step(c) != SQLITE_DONE;
            sqlite3_finalize(c);
            sqlite3_free(sql);
        }
    }
    if (!found && rc != SQLITE_DONE)
        found = 1;
    sqlite3_finalize(q);
    return found;
}

/* The pending row of the store ("created", "adopted"), or "" when it has none. */
static void pending_kind(sqlite3 *db, char *kind, size_t len)
{
    sqlite3_stmt *q;
    kind[0] = '\0';
    if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = '" TL_SQ_PENDING "'", -1, &q,
                           NULL) != SQLITE_OK)
        return;
    if (sqlite3_step(q) == SQLITE_ROW)
        snprintf(kind, len, "%s", (const char *)sqlite3_column_text(q, 0));
    sqlite3_finalize(q);
}

void tl__sq_discard(sqlite3 *db, const sq_file *f)
{
    char s[SIDE_MAX], kind[16];
    if (!db || !f->path)
        return;
    /* Only alone: the exclusive lock fails while any other connection, reader or writer, in
     * this process or another, has the store open (each holds a shared lock on it). */
    sqlite3_busy_timeout(db, 0);
    if (sqlite3_exec(db, "PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE", NULL, NULL, NULL) !=
        SQLITE_OK)
        return;
    pending_kind(db, kind, sizeof(kind));
    if (!kind[0] || holds_data(db) || !tl__sq_same_file(f)) {
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        return;
    }
    /* the lock is held until the close, so nobody opens what is removed here */
    sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
    for (size_t i = 0; i < sizeof(companions) / sizeof(companions[0]); i++) {
        side(s, f->real, companions[i]);
        unlink(s);
    }
    if (strcmp(kind, TL_SQ_PENDING_ADOPTED) != 0) {
        unlink(f->path);
    } else {
        sqlite3_file *file = NULL;
        if (sqlite3_file_control(db, "main", SQLITE_FCNTL_FILE_POINTER, &file) == SQLITE_OK &&
            file && file->pMethods)
            file->pMethods->xTruncate(file, 0);
    }
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
}

/* The OS's errno behind db's last I/O error. sqlite3_system_errno() reads errno when the error
 * reaches the statement, which may be long after the failing call (a page spilled to the log
 * by an earlier statement); the files keep their own: the log's (or journal's) first. */
static int io_errno(sqlite3 *db)
{
    int e = sqlite3_system_errno(db);
    sqlite3_file *log = NULL;
    if (e)
        return e;
    if (sqlite3_file_control(db, "main", SQLITE_FCNTL_JOURNAL_POINTER, &log) == SQLITE_OK && log &&
        log->pMethods &&
        log->pMethods->xFileControl(log, SQLITE_FCNTL_LAST_ERRNO, &e) == SQLITE_OK && e)
        return e;
    if (sqlite3_file_control(db, "main", SQLITE_FCNTL_LAST_ERRNO, &e) != SQLITE_OK)
        e = 0;
    return e;
}

void tl__sq_explain(const sq_file *f, sqlite3 *db, int code, char *why, size_t len)
{
    why[0] = '\0';
    if (!f || !f->path)
        return;
    const char *p = f->path;
    int e = db ? io_errno(db) : 0;
    const char *reason = e ? strerror(e) : sqlite3_errstr(code);
    switch (code & 0xff) {
    case SQLITE_BUSY:
        snprintf(
            why, len,
            "the store %s is locked by another writer (another `tailor import`?); waited %g s; "
            "try again when it finishes or raise " TL_STORE_LOCK_ENV,
            p, f->lock_timeout);
        break;
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN:
        if (f->real)
            write_problem(p, f->real, why, len);
        if (!why[0])
            snprintf(why, len, "cannot %s %s: %s",
                     (code & 0xff) == SQLITE_CANTOPEN ? "open" : "write to", p, reason);
        break;
    case SQLITE_FULL:
        snprintf(why, len, "cannot write to %s: %s", p, strerror(e ? e : ENOSPC));
        break;
    case SQLITE_IOERR:
        snprintf(why, len, "cannot %s %s: %s",
                 code == SQLITE_IOERR_READ || code == SQLITE_IOERR_SHORT_READ ? "read" : "write to",
                 p, reason);
        break;
    case SQLITE_NOTADB:
        snprintf(why, len, "%s is not a Tailor store: file is not a database", p);
        break;
    case SQLITE_CORRUPT:
        snprintf(why, len, "the store %s is damaged: %s", p,
                 db ? sqlite3_errmsg(db) : sqlite3_errstr(code));
        break;
    default:
        break;
    }
}
