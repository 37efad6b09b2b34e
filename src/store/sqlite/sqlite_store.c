/* The SQLite engine of the store: WAL journal, foreign keys on, schema versioned through
 * PRAGMA user_version and the migrations array below, and every hot statement prepared once
 * and reused. What may be opened at all is decided first by sqlite_file.c. Nothing outside
 * src/store/sqlite includes sqlite3.h. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/sqlite/sqlite_int.h"
#include "store/sqlite/sqlite_search.h"

/* Page cache limit (grown on demand): bulk imports slow down once the events B-tree outgrows
 * it (about 30 bytes per event: 256 MiB covers ~8M events). */
#define CACHE_KIB 262144
#define OPEN_TRIES 16 /* a store removed by a failed creator while we opened it: start over */

/* Schema history. Never edit a released entry: append a new one (version n+1), and it runs
 * once on every store whose user_version is below it, inside one transaction.
 * Events are a WITHOUT ROWID table keyed by their natural key, so dedup costs no second
 * B-tree and a scan comes out grouped by user (the order matrices are built in). There is
 * deliberately no index on events(item_id): it would slow every import for queries that a
 * scan answers; add it in a migration when a feature needs item-first lookups. */
static const struct {
    int version;
    const char *sql;
} migrations[] = {
    {1,
     "CREATE TABLE schema_migrations(version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL);"
     "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;"
     "CREATE TABLE items("
     " id INTEGER PRIMARY KEY,"
     " ext_id TEXT NOT NULL UNIQUE,"
     " type TEXT NOT NULL DEFAULT 'other' CHECK (type IN ('book','ebook','article','journal',"
     "  'database','video','audio','event','course','other')),"
     " title TEXT, authors TEXT, subjects TEXT, year INTEGER, language TEXT, format TEXT,"
     " added INTEGER, copies INTEGER CHECK (copies >= 0), available INTEGER CHECK (available >= 0),"
     " extra TEXT);"
     "CREATE TABLE users("
     " id INTEGER PRIMARY KEY,"
     " ext_id TEXT NOT NULL UNIQUE,"
     " attrs TEXT,"
     " personalize INTEGER NOT NULL DEFAULT 1 CHECK (personalize IN (0, 1)),"
     " created INTEGER);"
     "CREATE TABLE event_types(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);"
     "CREATE TABLE events("
     " user_id INTEGER NOT NULL REFERENCES users(id),"
     " item_id INTEGER NOT NULL REFERENCES items(id),"
     " type_id INTEGER NOT NULL REFERENCES event_types(id),"
     " ts INTEGER NOT NULL DEFAULT 0,"
     " value REAL, device TEXT, channel TEXT, branch TEXT, session TEXT,"
     " PRIMARY KEY (user_id, item_id, type_id, ts)) WITHOUT ROWID;"
     "CREATE TABLE searches("
     " id INTEGER PRIMARY KEY,"
     " user_id INTEGER REFERENCES users(id),"
     " query TEXT NOT NULL,"
     " ts INTEGER NOT NULL DEFAULT 0);"
     "CREATE UNIQUE INDEX searches_key ON searches(ifnull(user_id, 0), query, ts);"
     "CREATE TABLE search_clicks("
     " search_id INTEGER NOT NULL REFERENCES searches(id) ON DELETE CASCADE,"
     " rank INTEGER NOT NULL,"
     " item_id INTEGER NOT NULL REFERENCES items(id),"
     " PRIMARY KEY (search_id, rank)) WITHOUT ROWID;"},
    /* API keys: the public id and a hash of the whole key, never the key */
    {2, "CREATE TABLE api_keys("
        " id TEXT PRIMARY KEY,"
        " hash BLOB NOT NULL,"
        " role TEXT NOT NULL CHECK (role IN ('admin','app','patron')),"
        " user TEXT,"
        " label TEXT,"
        " created INTEGER NOT NULL,"
        " revoked INTEGER);"},
    /* Idempotency-Key records: the first answer to a write, kept for its retries; written in
     * the write's own transaction, pruned by age through the index on created */
    {3, "CREATE TABLE idempotency_keys("
        " scope TEXT NOT NULL,"
        " key TEXT NOT NULL,"
        " hash BLOB NOT NULL,"
        " status INTEGER NOT NULL,"
        " body TEXT NOT NULL,"
        " created INTEGER NOT NULL,"
        " PRIMARY KEY (scope, key)) WITHOUT ROWID;"
        "CREATE INDEX idempotency_keys_created ON idempotency_keys(created);"},
    /* Trust: the tamper-evident audit log (each entry's hash covers the previous one's and its
     * target's hash, not the target, so that an erasure can blank a patron's id in older
     * entries and the chain still holds), every change of a patron's consent, and each
     * patron's retention window */
    {4, "CREATE TABLE audit_log("
        " seq INTEGER PRIMARY KEY,"
        " ts INTEGER NOT NULL,"
        " actor TEXT NOT NULL,"
        " action TEXT NOT NULL,"
        " target TEXT,"
        " target_hash BLOB,"
        " detail TEXT,"
        " prev BLOB NOT NULL,"
        " hash BLOB NOT NULL);"
        "CREATE TABLE consent_log("
        " user_id INTEGER NOT NULL REFERENCES users(id),"
        " ts INTEGER NOT NULL,"
        " personalize INTEGER NOT NULL,"
        " retention_days INTEGER,"
        " actor TEXT);"
        "CREATE INDEX consent_log_user ON consent_log(user_id);"
        "CREATE TABLE retention("
        " user_id INTEGER PRIMARY KEY REFERENCES users(id),"
        " days INTEGER NOT NULL CHECK (days >= 0));"},
    /* Library services: what a catalogue record carries beyond the items row (work, series,
     * summary, cover; start and place of a library event), the copies a library holds (the
     * ILS's item numbers resolve to their record here), patrons' reading lists and reviews,
     * learning paths (steps sharing a position are alternatives) with patrons' feedback, how many
     * results each search found, and patrons' subscriptions to new-arrival alerts */
    {5, "CREATE TABLE item_details("
        " item_id INTEGER PRIMARY KEY REFERENCES items(id),"
        " work TEXT, isbn TEXT, issn TEXT, series TEXT, series_volume REAL, edition TEXT,"
        " publisher TEXT, extent TEXT, contents TEXT, summary TEXT, cover TEXT,"
        " starts INTEGER, ends INTEGER, place TEXT);"
        "CREATE INDEX item_details_work ON item_details(work) WHERE work IS NOT NULL;"
        "CREATE TABLE holdings("
        " id INTEGER PRIMARY KEY,"
        " copy TEXT NOT NULL UNIQUE,"
        " item_id INTEGER NOT NULL REFERENCES items(id),"
        " branch TEXT, location TEXT, status TEXT,"
        " available INTEGER NOT NULL DEFAULT 1 CHECK (available IN (0, 1)));"
        "CREATE INDEX holdings_item ON holdings(item_id);"
        "CREATE TABLE lists("
        " id INTEGER PRIMARY KEY,"
        " ext_id TEXT NOT NULL UNIQUE,"
        " user_id INTEGER REFERENCES users(id),"
        " title TEXT NOT NULL, description TEXT,"
        " public INTEGER NOT NULL DEFAULT 0 CHECK (public IN (0, 1)),"
        " created INTEGER NOT NULL, updated INTEGER NOT NULL);"
        "CREATE INDEX lists_user ON lists(user_id);"
        "CREATE TABLE list_items("
        " list_id INTEGER NOT NULL REFERENCES lists(id) ON DELETE CASCADE,"
        " item_id INTEGER NOT NULL REFERENCES items(id),"
        " pos INTEGER NOT NULL, note TEXT, added INTEGER NOT NULL,"
        " PRIMARY KEY (list_id, item_id)) WITHOUT ROWID;"
        "CREATE INDEX list_items_item ON list_items(item_id);"
        "CREATE TABLE reviews("
        " user_id INTEGER NOT NULL REFERENCES users(id),"
        " item_id INTEGER NOT NULL REFERENCES items(id),"
        " rating REAL, body TEXT,"
        " public INTEGER NOT NULL DEFAULT 1 CHECK (public IN (0, 1)),"
        " ts INTEGER NOT NULL,"
        " PRIMARY KEY (user_id, item_id)) WITHOUT ROWID;"
        "CREATE INDEX reviews_item ON reviews(item_id);"
        "CREATE TABLE paths("
        " id INTEGER PRIMARY KEY,"
        " ext_id TEXT NOT NULL UNIQUE,"
        " title TEXT NOT NULL, topic TEXT,"
        " origin TEXT NOT NULL DEFAULT 'librarian' CHECK (origin IN ('librarian','proposed')),"
        " created INTEGER NOT NULL);"
        "CREATE TABLE path_steps("
        " path_id INTEGER NOT NULL REFERENCES paths(id) ON DELETE CASCADE,"
        " item_id INTEGER NOT NULL REFERENCES items(id),"
        " pos INTEGER NOT NULL, level INTEGER,"
        " PRIMARY KEY (path_id, item_id)) WITHOUT ROWID;"
        "CREATE TABLE path_feedback("
        " path_id INTEGER NOT NULL REFERENCES paths(id) ON DELETE CASCADE,"
        " item_id INTEGER NOT NULL REFERENCES items(id),"
        " user_id INTEGER NOT NULL REFERENCES users(id),"
        " useful INTEGER NOT NULL CHECK (useful IN (0, 1)),"
        " ts INTEGER NOT NULL,"
        " PRIMARY KEY (path_id, item_id, user_id)) WITHOUT ROWID;"
        "CREATE TABLE search_totals("
        " search_id INTEGER PRIMARY KEY REFERENCES searches(id) ON DELETE CASCADE,"
        " total INTEGER NOT NULL CHECK (total >= 0));"
        "CREATE TABLE subscriptions("
        " user_id INTEGER PRIMARY KEY REFERENCES users(id),"
        " email TEXT,"
        " alerts INTEGER NOT NULL DEFAULT 0 CHECK (alerts IN (0, 1)),"
        " since INTEGER NOT NULL);"},
    /* Catalogue search: the full-text index of items and their details, filled with what the
     * store holds, and the triggers that keep it in step (sqlite_search.h) */
    {TL_SQ_SEARCH_VERSION,
     TL_SQ_SEARCH_TABLE(TL_SQ_SEARCH_DEFAULT_LANGS) TL_SQ_SEARCH_FILL TL_SQ_SEARCH_TRIGGERS},
    /* Impressions: what each response showed, in numbers (kinds and policies are the service's
     * codes, the context a few columns): one row per impression and one per decision (a row of
     * the page), whose items are their store ids packed in a blob (8 bytes each, little-endian,
     * by position) with the cards' edition choices (sqlite_impressions.c); the rewards joined
     * to them; the learners' (bandits') state */
    {9, "CREATE TABLE impressions("
        " id INTEGER PRIMARY KEY, ts INTEGER NOT NULL,"
        " user_id INTEGER REFERENCES users(id),"
        " surface INTEGER NOT NULL, policy INTEGER NOT NULL, policy_version INTEGER NOT NULL,"
        " model TEXT, experiment TEXT, arm TEXT,"
        " weekday INTEGER NOT NULL, exam INTEGER NOT NULL, term INTEGER NOT NULL,"
        " mobile INTEGER NOT NULL, activity REAL NOT NULL, branch TEXT);"
        "CREATE INDEX impressions_user ON impressions(user_id, ts) WHERE user_id IS NOT NULL;"
        "CREATE TABLE impression_rows("
        " impression_id INTEGER NOT NULL REFERENCES impressions(id) ON DELETE CASCADE,"
        " row INTEGER NOT NULL, kind INTEGER NOT NULL, candidates INTEGER NOT NULL,"
        " propensity REAL NOT NULL, items BLOB NOT NULL, editions BLOB,"
        " PRIMARY KEY (impression_id, row)) WITHOUT ROWID;"
        "CREATE TABLE impression_rewards("
        " impression_id INTEGER NOT NULL REFERENCES impressions(id) ON DELETE CASCADE,"
        " row INTEGER NOT NULL, position INTEGER NOT NULL, type TEXT NOT NULL,"
        " ts INTEGER NOT NULL);"
        "CREATE INDEX impression_rewards_imp ON impression_rewards(impression_id);"
        "CREATE TABLE learners("
        " name TEXT PRIMARY KEY, version INTEGER NOT NULL, saved INTEGER NOT NULL,"
        " image BLOB NOT NULL);"},
    /* Experiments (A/B tests): their definitions only; assignment is a hash, never stored */
    {TL_SQ_EXPERIMENTS_VERSION, "CREATE TABLE experiments("
                                " name TEXT PRIMARY KEY,"
                                " layer TEXT NOT NULL, metric TEXT NOT NULL, salt TEXT NOT NULL,"
                                " arms TEXT NOT NULL, split TEXT NOT NULL,"
                                " created INTEGER NOT NULL, stopped INTEGER NOT NULL DEFAULT 0);"},
    /* Consortium tenancy: the libraries, the branches each holds copies at, and the keys that
     * act for one (docs/SCALE.md); patrons are per tenant by their kept ids ("T:...") */
    {TL_SQ_TENANT_VERSION,
     "CREATE TABLE tenants(id TEXT PRIMARY KEY, name TEXT NOT NULL, created INTEGER NOT NULL)"
     " WITHOUT ROWID;"
     "CREATE TABLE tenant_branches(branch TEXT PRIMARY KEY, tenant TEXT NOT NULL"
     " REFERENCES tenants(id)) WITHOUT ROWID;"
     "CREATE TABLE tenant_keys(key_id TEXT PRIMARY KEY REFERENCES api_keys(id), tenant TEXT NOT"
     " NULL REFERENCES tenants(id)) WITHOUT ROWID;"},
};
/* The versions whose migration only adds tables: a read-only open reads a store from before
 * them as it is (what they add is missing there, and the functions that need it say
 * TL_EVERSION until a write open migrates the store). */
static const int additive[] = {[2] = 1,
                               [3] = 1,
                               [4] = 1,
                               [5] = 1,
                               [TL_SQ_SEARCH_VERSION] = 1,
                               [9] = 1,
                               [TL_SQ_EXPERIMENTS_VERSION] = 1,
                               [TL_SQ_TENANT_VERSION] = 1};
#define NMIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))
#define MARK_SQL "PRAGMA application_id = 1413564748;" /* TL_SQ_APPLICATION_ID, "TAIL" */
#define LATEST_VERSION (migrations[NMIGRATIONS - 1].version)

/* Rows per multi-row INSERT in bulk loads: one statement run per MULTI events amortizes the
 * per-statement work (cursors on the table and the foreign-key parents, VDBE setup). */
#define MULTI 16
#define EV_COLS 9

enum {
    Q_EV_MULTI, /* built at run time: MULTI rows of Q_EV_INSERT */
    Q_FIND_USER,
    Q_FIND_ITEM,
    Q_FIND_TYPE,
    Q_NEW_USER,
    Q_NEW_ITEM,
    Q_NEW_TYPE,
    Q_PUT_ITEM,
    Q_PUT_USER,
    Q_EV_INSERT,
    Q_EV_UPDATE,
    Q_SEARCH_INSERT,
    Q_SEARCH_FIND,
    Q_CLICKS_GET,
    Q_CLICKS_DEL,
    Q_CLICK_INSERT,
    Q_GET_META,
    Q_SET_META,
    Q_USER_FIND,
    Q_USER_EVENTS,
    Q_KEY_GET,
    Q_DATA_VERSION,
    Q_GET_ITEM,
    Q_GET_USER,
    Q_REPLACE_ITEM,
    Q_REPLACE_USER,
    Q_DEL_ITEM_EVENTS,
    Q_DEL_ITEM_CLICKS,
    Q_DEL_ITEM,
    Q_DEL_USER_EVENTS,
    Q_DEL_USER_SEARCHES,
    Q_DEL_USER,
    Q_DEL_USER_CONSENT,
    Q_DEL_USER_RETENTION,
    Q_DEL_USER_SUBS,
    Q_DEL_USER_KEYS,
    Q_USER_ATTR,
    Q_IDEM_GET,
    Q_IDEM_PUT,
    Q_IDEM_PRUNE,
    Q_DEL_ITEM_DETAILS,
    Q_DEL_ITEM_HOLDINGS,
    Q_N
};

static const char *const sql_text[Q_N] = {
    [Q_FIND_USER] = "SELECT id FROM users WHERE ext_id = ?1",
    [Q_FIND_ITEM] = "SELECT id FROM items WHERE ext_id = ?1",
    [Q_FIND_TYPE] = "SELECT id FROM event_types WHERE name = ?1",
    [Q_NEW_USER] = "INSERT INTO users(ext_id) VALUES (?1)",
    [Q_NEW_ITEM] = "INSERT INTO items(ext_id) VALUES (?1)",
    [Q_NEW_TYPE] = "INSERT INTO event_types(name) VALUES (?1)",
    /* absent fields (NULL) keep the stored value; the WHERE makes an identical row a no-op */
    [Q_PUT_ITEM] =
        "INSERT INTO items(ext_id, type, title, authors, subjects, year, language, format, added,"
        " copies, available, extra) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"
        " ON CONFLICT(ext_id) DO UPDATE SET type = ?2, title = coalesce(?3, title),"
        " authors = coalesce(?4, authors), subjects = coalesce(?5, subjects),"
        " year = coalesce(?6, year), language = coalesce(?7, language),"
        " format = coalesce(?8, format), added = coalesce(?9, added),"
        " copies = coalesce(?10, copies), available = coalesce(?11, available),"
        " extra = coalesce(?12, extra)"
        " WHERE type IS NOT ?2 OR title IS NOT coalesce(?3, title)"
        " OR authors IS NOT coalesce(?4, authors) OR subjects IS NOT coalesce(?5, subjects)"
        " OR year IS NOT coalesce(?6, year) OR language IS NOT coalesce(?7, language)"
        " OR format IS NOT coalesce(?8, format) OR added IS NOT coalesce(?9, added)"
        " OR copies IS NOT coalesce(?10, copies) OR available IS NOT coalesce(?11, available)"
        " OR extra IS NOT coalesce(?12, extra)",
    [Q_PUT_USER] =
        "INSERT INTO users(ext_id, attrs, personalize, created) VALUES (?1, ?2, coalesce(?3, 1), "
        "?4)"
        " ON CONFLICT(ext_id) DO UPDATE SET attrs = coalesce(?2, attrs),"
        " personalize = coalesce(?3, personalize), created = coalesce(?4, created)"
        " WHERE attrs IS NOT coalesce(?2, attrs) OR personalize IS NOT coalesce(?3, personalize)"
        " OR created IS NOT coalesce(?4, created)",
    [Q_EV_INSERT] = "INSERT INTO events(user_id, item_id, type_id, ts, value, device, channel,"
                    " branch, session) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
                    " ON CONFLICT DO NOTHING",
    [Q_EV_UPDATE] = "UPDATE events SET value = ?5, device = ?6, channel = ?7, branch = ?8,"
                    " session = ?9 WHERE user_id = ?1 AND item_id = ?2 AND type_id = ?3"
                    " AND ts = ?4 AND (value IS NOT ?5 OR device IS NOT ?6 OR channel IS NOT ?7"
                    " OR branch IS NOT ?8 OR session IS NOT ?9)",
    [Q_SEARCH_INSERT] = "INSERT OR IGNORE INTO searches(user_id, query, ts) VALUES (?1, ?2, ?3)",
    [Q_SEARCH_FIND] = "SELECT id FROM searches WHERE ifnull(user_id, 0) = ifnull(?1, 0)"
                      " AND query = ?2 AND ts = ?3",
    [Q_CLICKS_GET] = "SELECT item_id FROM search_clicks WHERE search_id = ?1 ORDER BY rank",
    [Q_CLICKS_DEL] = "DELETE FROM search_clicks WHERE search_id = ?1",
    [Q_CLICK_INSERT] = "INSERT INTO search_clicks(search_id, rank, item_id) VALUES (?1, ?2, ?3)",
    [Q_GET_META] = "SELECT value FROM meta WHERE key = ?1",
    [Q_DATA_VERSION] = "PRAGMA data_version",
    [Q_SET_META] = "INSERT INTO meta(key, value) VALUES (?1, ?2)"
                   " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
    [Q_USER_FIND] = "SELECT id, personalize FROM users WHERE ext_id = ?1",
    /* the events primary key starts with user_id: one index range per patron */
    [Q_USER_EVENTS] = "SELECT i.ext_id, t.name, e.value, e.ts, e.device, e.channel, e.branch"
                      " FROM events e"
                      " JOIN items i ON i.id = e.item_id JOIN event_types t ON t.id = e.type_id"
                      " WHERE e.user_id = ?1 ORDER BY e.item_id",
    [Q_KEY_GET] = "SELECT hash, role, user, revoked FROM api_keys WHERE id = ?1",
    [Q_GET_ITEM] = "SELECT ext_id, type, title, authors, subjects, year, language, format, added,"
                   " copies, available, extra FROM items WHERE ext_id = ?1",
    [Q_GET_USER] = "SELECT ext_id, attrs, personalize, created FROM users WHERE ext_id = ?1",
    /* every field written: absent ones (NULL) are cleared, unlike Q_PUT_ITEM */
    [Q_REPLACE_ITEM] =
        "INSERT INTO items(ext_id, type, title, authors, subjects, year, language, format, added,"
        " copies, available, extra) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"
        " ON CONFLICT(ext_id) DO UPDATE SET type = ?2, title = ?3, authors = ?4, subjects = ?5,"
        " year = ?6, language = ?7, format = ?8, added = ?9, copies = ?10, available = ?11,"
        " extra = ?12"
        " WHERE type IS NOT ?2 OR title IS NOT ?3 OR authors IS NOT ?4 OR subjects IS NOT ?5"
        " OR year IS NOT ?6 OR language IS NOT ?7 OR format IS NOT ?8 OR added IS NOT ?9"
        " OR copies IS NOT ?10 OR available IS NOT ?11 OR extra IS NOT ?12",
    [Q_REPLACE_USER] = "INSERT INTO users(ext_id, attrs, personalize, created)"
                       " VALUES (?1, ?2, coalesce(?3, 1), ?4)"
                       " ON CONFLICT(ext_id) DO UPDATE SET attrs = ?2,"
                       " personalize = coalesce(?3, 1), created = ?4"
                       " WHERE attrs IS NOT ?2 OR personalize IS NOT coalesce(?3, 1)"
                       " OR created IS NOT ?4",
    /* no index on events(item_id) (see the migrations): deleting an item scans the events */
    [Q_DEL_ITEM_EVENTS] = "DELETE FROM events WHERE item_id = ?1",
    [Q_DEL_ITEM_CLICKS] = "DELETE FROM search_clicks WHERE item_id = ?1",
    [Q_DEL_ITEM] = "DELETE FROM items WHERE id = ?1",
    [Q_DEL_ITEM_DETAILS] = "DELETE FROM item_details WHERE item_id = ?1",
    [Q_DEL_ITEM_HOLDINGS] = "DELETE FROM holdings WHERE item_id = ?1",
    [Q_DEL_USER_EVENTS] = "DELETE FROM events WHERE user_id = ?1",
    [Q_DEL_USER_SEARCHES] = "DELETE FROM searches WHERE user_id = ?1", /* clicks cascade */
    [Q_DEL_USER] = "DELETE FROM users WHERE id = ?1",
    [Q_DEL_USER_CONSENT] = "DELETE FROM consent_log WHERE user_id = ?1",
    [Q_DEL_USER_RETENTION] = "DELETE FROM retention WHERE user_id = ?1",
    [Q_DEL_USER_SUBS] = "DELETE FROM subscriptions WHERE user_id = ?1",
    [Q_USER_ATTR] = "SELECT CAST(json_extract(attrs, ?2) AS TEXT) FROM users"
                    " WHERE ext_id = ?1 AND json_valid(attrs)",
    [Q_DEL_USER_KEYS] = "DELETE FROM api_keys WHERE role = 'patron' AND user ="
                        " (SELECT ext_id FROM users WHERE id = ?1)",
    [Q_IDEM_GET] = "SELECT hash, status, body FROM idempotency_keys"
                   " WHERE scope = ?1 AND key = ?2 AND created >= ?3",
    /* replaces an expired row of the same key that was not pruned yet */
    [Q_IDEM_PUT] =
        "INSERT OR REPLACE INTO idempotency_keys(scope, key, hash, status, body, created)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [Q_IDEM_PRUNE] = "DELETE FROM idempotency_keys WHERE created < ?1",
};

typedef struct sq_store {
    tl_store base; /* first: a tl_store* is a sq_store* */
    sqlite3 *db;
    sqlite3_stmt *stmt[Q_N];
    sq_file file;
    int pending;          /* the store was being created when opened (see TL_SQ_PENDING) */
    int64_t data_version; /* PRAGMA data_version at the last tl_store_changed, -1 before */
    int own_changes;      /* sqlite3_total_changes then */
    sqlite3_stmt *kept[TL_SQ_KEPT]; /* the other files' statements (tl__sq_kept) */
} sq_store;

static sq_store *sq(tl_store *st)
{
    return (sq_store *)st;
}

/* Keeps the engine's message and its explanation, and maps the code. */
static tl_err fail_with(sq_store *s, int code, const char *msg)
{
    snprintf(s->base.errmsg, sizeof(s->base.errmsg), "%s", msg);
    tl__sq_explain(&s->file, s->db, code, s->base.why, sizeof(s->base.why));
    return (code & 0xff) == SQLITE_NOMEM ? TL_ENOMEM : TL_ESTORE;
}

static tl_err fail(sq_store *s, int code)
{
    return fail_with(s, code, s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(code));
}

sqlite3 *tl__sq_db(tl_store *st)
{
    return sq(st)->db;
}

tl_err tl__sq_fail(tl_store *st, int code)
{
    return fail(sq(st), code);
}

tl_err tl__sq_kept(tl_store *st, int slot, const char *sql, sqlite3_stmt **out)
{
    sq_store *s = sq(st);
    if (!s->kept[slot]) {
        int rc =
            sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s->kept[slot], NULL);
        if (rc != SQLITE_OK)
            return fail(s, rc);
    }
    *out = s->kept[slot];
    return TL_OK;
}

static tl_err exec(sq_store *s, const char *sql)
{
    char *err = NULL;
    int rc = sqlite3_exec(s->db, sql, NULL, NULL, &err);
    if (rc == SQLITE_OK)
        return TL_OK;
    tl_err r = fail_with(s, sqlite3_extended_errcode(s->db), err ? err : sqlite3_errstr(rc));
    sqlite3_free(err);
    return r;
}

tl_err tl__sq_cache_limit(tl_store *st, int kib)
{
    char sql[64];
    snprintf(sql, sizeof(sql), "PRAGMA cache_size = -%d", kib > 0 ? kib : CACHE_KIB);
    return exec(sq(st), sql);
}

static void multi_sql(char *buf, size_t len)
{
    size_t off = (size_t)snprintf(buf, len,
                                  "INSERT INTO events(user_id, item_id, type_id, ts, value,"
                                  " device, channel, branch, session) VALUES ");
    for (int r = 0; r < MULTI && off < len; r++)
        off += (size_t)snprintf(buf + off, len - off, "%s(?,?,?,?,?,?,?,?,?)", r ? "," : "");
    if (off < len)
        snprintf(buf + off, len - off, " ON CONFLICT DO NOTHING");
}

/* The cached statement q, prepared on first use, reset and ready to bind. */
static tl_err stmt(sq_store *s, int q, sqlite3_stmt **out)
{
    if (!s->stmt[q]) {
        char multi[64 + MULTI * 24 + 64];
        const char *text = sql_text[q];
        if (q == Q_EV_MULTI) {
            multi_sql(multi, sizeof(multi));
            text = multi;
        }
        int rc = sqlite3_prepare_v3(s->db, text, -1, SQLITE_PREPARE_PERSISTENT, &s->stmt[q], NULL);
        if (rc != SQLITE_OK)
            return fail(s, rc);
    }
    *out = s->stmt[q];
    return TL_OK;
}

/* Runs a statement that returns no rows; *changes = rows written (may be NULL). */
static tl_err run(sq_store *s, sqlite3_stmt *q, int *changes)
{
    int rc = sqlite3_step(q);
    tl_err r = TL_OK;
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        r = fail(s, rc);
    else if (changes)
        *changes = sqlite3_changes(s->db);
    sqlite3_reset(q);
    return r;
}

static void bind_text(sqlite3_stmt *q, int i, const char *v, size_t n)
{
    if (v)
        sqlite3_bind_text(q, i, v, (int)n, SQLITE_STATIC);
    else
        sqlite3_bind_null(q, i);
}

static void bind_str(sqlite3_stmt *q, int i, const char *v)
{
    bind_text(q, i, v, v ? strlen(v) : 0);
}

static void bind_opt(sqlite3_stmt *q, int i, int64_t v)
{
    if (v == TL_ABSENT)
        sqlite3_bind_null(q, i);
    else
        sqlite3_bind_int64(q, i, v);
}

static void sq_close(tl_store *st)
{
    sq_store *s = sq(st);
    for (int q = 0; q < Q_N; q++)
        sqlite3_finalize(s->stmt[q]);
    for (int q = 0; q < TL_SQ_KEPT; q++)
        sqlite3_finalize(s->kept[q]);
    /* a new store that never got data goes away again: the path is as it was */
    if (!st->readonly && s->pending)
        tl__sq_discard(s->db, &s->file);
    if (s->db)
        sqlite3_close_v2(s->db);
    tl__sq_file_release(&s->file);
    tl__store_release(st);
    free(s);
}

static tl_err sq_begin(tl_store *st)
{
    sq_store *s = sq(st);
    /* IMMEDIATE takes the write lock now: two importers wait for each other instead of
     * failing halfway when a read lock cannot be upgraded */
    tl_err r = exec(s, "BEGIN IMMEDIATE");
    if (r != TL_OK || !s->file.path || tl__sq_same_file(&s->file))
        return r;
    /* writing now would go to a file that is no longer at the path */
    exec(s, "ROLLBACK");
    snprintf(st->errmsg, sizeof(st->errmsg), "the file was removed or replaced");
    snprintf(st->why, sizeof(st->why),
             "the store %s was removed or replaced since it was opened; run the command again",
             s->file.path);
    return TL_ESTORE;
}

static tl_err sq_commit(tl_store *st)
{
    sq_store *s = sq(st);
    /* the first commit makes a new store a store: it stays even if it failed later */
    tl_err r = TL_OK;
    if (s->pending && (r = exec(s, "DELETE FROM meta WHERE key = '" TL_SQ_PENDING "'")) != TL_OK)
        return r;
    if ((r = exec(s, "COMMIT")) == TL_OK)
        s->pending = 0;
    return r;
}

static tl_err sq_rollback(tl_store *st)
{
    sq_store *s = sq(st);
    if (sqlite3_get_autocommit(s->db))
        return TL_OK; /* the engine already rolled back (e.g. after an I/O error) */
    return exec(s, "ROLLBACK");
}

static tl_err sq_find_id(tl_store *st, tl_id_kind k, const char *ext, size_t len, int64_t *id)
{
    static const int qs[] = {Q_FIND_USER, Q_FIND_ITEM, Q_FIND_TYPE};
    sq_store *s = sq(st);
    sqlite3_stmt *q;
    tl_err r = stmt(s, qs[k], &q);
    if (r != TL_OK)
        return r;
    bind_text(q, 1, ext, len);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW)
        *id = sqlite3_column_int64(q, 0);
    else if (rc == SQLITE_DONE)
        *id = 0;
    else
        r = fail(s, rc);
    sqlite3_reset(q);
    return r;
}

static tl_err sq_create_id(tl_store *st, tl_id_kind k, const char *ext, size_t len, int64_t *id)
{
    static const int qs[] = {Q_NEW_USER, Q_NEW_ITEM, Q_NEW_TYPE};
    sq_store *s = sq(st);
    sqlite3_stmt *q;
    tl_err r = stmt(s, qs[k], &q);
    if (r != TL_OK)
        return r;
    bind_text(q, 1, ext, len);
    if ((r = run(s, q, NULL)) == TL_OK)
        *id = sqlite3_last_insert_rowid(s->db);
    return r;
}

/* Q_PUT_ITEM (absent fields kept) or Q_REPLACE_ITEM (absent fields cleared). */
static tl_err write_item(tl_store *st, int which, const tl_item_rec *r, int64_t *id, int *changed)
{
    sq_store *s = sq(st);
    sqlite3_stmt *q;
    tl_err rc = stmt(s, which, &q);
    if (rc != TL_OK)
        return rc;
    bind_text(q, 1, r->id, r->id_len);
    bind_str(q, 2, r->type);
    bind_str(q, 3, r->title);
    bind_str(q, 4, r->authors);
    bind_str(q, 5, r->subjects);
    bind_opt(q, 6, r->year);
    bind_str(q, 7, r->language);
    bind_str(q, 8, r->format);
    bind_opt(q, 9, r->added);
    bind_opt(q, 10, r->copies);
    bind_opt(q, 11, r->available);
    bind_str(q, 12, r->extra);
    if ((rc = run(s, q, changed)) == TL_OK)
        *id = sqlite3_last_insert_rowid(s->db);
    return rc;
}

static tl_err sq_put_item(tl_store *st, const tl_item_rec *r, int64_t *id, int *changed)
{
    return write_item(st, Q_PUT_ITEM, r, id, changed);
}

static tl_err sq_replace_item(tl_store *st, const tl_item_rec *r, int64_t *id, int *changed)
{
    return write_item(st, Q_REPLACE_ITEM, r, id, changed);
}

/* Q_PUT_USER or Q_REPLACE_USER, as write_item. */
static tl_err write_user(tl_store *st, int which, const tl_user_rec *r, int64_t *id, int *changed)
{
    sq_store *s = sq(st);
    sqlite3_stmt *q;
    tl_err rc = stmt(s, which, &q);
    if (rc != TL_OK)
        return rc;
    bind_text(q, 1, r->id, r->id_len);
    bind_str(q, 2, r->attrs);
    if (r->personalize < 0)
        sqlite3_bind_null(q, 3);
    else
        sqlite3_bind_int(q, 3, r->personalize);
    bind_opt(q, 4, r->created);
    if ((rc = run(s, q, changed)) == TL_OK)
        *id = sqlite3_last_insert_rowid(s->db);
    return rc;
}

static tl_err sq_put_user(tl_store *st, const tl_user_rec *r, int64_t *id, int *changed)
{
    return write_user(st, Q_PUT_USER, r, id, changed);
}

static tl_err sq_replace_user(tl_store *st, const tl_user_rec *r, int64_t *id, int *changed)
{
    return write_user(st, Q_REPLACE_USER, r, id, changed);
}

/* Binds e to parameters base+1 .. base+EV_COLS. */
static void bind_event_at(sqlite3_stmt *q, int base, const tl_store_event *e)
{
    sqlite3_bind_int64(q, base + 1, e->user);
    sqlite3_bind_int64(q, base + 2, e->item);
    sqlite3_bind_int64(q, base + 3, e->type);
    sqlite3_bind_int64(q, base + 4, e->ts);
    if (e->has_value)
        sqlite3_bind_double(q, base + 5, e->value);
    else
        sqlite3_bind_null(q, base + 5);
    bind_str(q, base + 6, e->device);
    bind_str(q, base + 7, e->channel);
    bind_str(q, base + 8, e->branch);
    bind_str(q, base + 9, e->session);
}

static void bind_event(sqlite3_stmt *q, const tl_store_event *e)
{
    bind_event_at(q, 0, e);
}

static tl_err sq_put_event(tl_store *st, const tl_store_event *e, tl_put *what)
{
    sq_store *s = sq(st);
    sqlite3_stmt *q;
    int changes = 0;
    tl_err rc = stmt(s, Q_EV_INSERT, &q);
    if (rc != TL_OK)
        return rc;
    bind_event(q, e);
    if ((rc = run(s, q, &changes)) != TL_OK)
        return rc;
    if (changes) {
        *what = TL_PUT_ADDED;
        return TL_OK;
    }
    /* the key exists: only a different value or context is written */
    if ((rc = stmt(s, Q_EV_UPDATE, &q)) != TL_OK)
        return rc;
    bind_event(q, e);
    if ((rc = run(s, q, &changes)) == TL_OK)
        *what = changes ? TL_PUT_UPDATED : TL_PUT_UNCHANGED;
    return rc;
}

static tl_err sq_put_events(tl_store *st, const tl_store_event *e, int n, long long *added,
                            long long *updated)
{
    sq_store *s = sq(st);
    sqlite3_stmt *q, *up;
    tl_err rc = TL_OK;
    int i = 0;
    for (; n - i >= MULTI; i += MULTI) {
        int ins = 0;
        if ((rc = stmt(s, Q_EV_MULTI, &q)) != TL_OK)
            return rc;
        for (int k = 0; k < MULTI; k++)
            bind_event_at(q, k * EV_COLS, &e[i + k]);
        if ((rc = run(s, q, &ins)) != TL_OK)
            return rc;
        *added += ins;
        if (ins == MULTI)
            continue;
        /* some keys existed: write those whose value or context differ, in file order (a row
         * inserted just now is equal to itself and stays untouched) */
        if ((rc = stmt(s, Q_EV_UPDATE, &up)) != TL_OK)
            return rc;
        for (int k = 0; k < MULTI; k++) {
            int ch = 0;
            bind_event(up, &e[i + k]);
            if ((rc = run(s, up, &ch)) != TL_OK)
                return rc;
            *updated += ch;
        }
    }
    for (; i < n; i++) {
        tl_put what;
        if ((rc = sq_put_event(st, &e[i], &what)) != TL_OK)
            return rc;
        *added += what == TL_PUT_ADDED;
        *updated += what == TL_PUT_UPDATED;
    }
    return TL_OK;
}

static void bind_search_key(sqlite3_stmt *q, int64_t user, const tl_search_rec *r)
{
    if (user)
        sqlite3_bind_int64(q, 1, user);
    else
        sqlite3_bind_null(q, 1);
    bind_str(q, 2, r->query);
    sqlite3_bind_int64(q, 3, r->ts);
}

static tl_err insert_clicks(sq_store *s, int64_t sid, const int64_t *items, int n)
{
    sqlite3_stmt *q;
    tl_err rc = stmt(s, Q_CLICK_INSERT, &q);
    for (int i = 0; i < n && rc == TL_OK; i++) {
        sqlite3_bind_int64(q, 1, sid);
        sqlite3_bind_int(q, 2, i + 1);
        sqlite3_bind_int64(q, 3, items[i]);
        rc = run(s, q, NULL);
    }
    return rc;
}

static tl_err sq_put_search(tl_store *st, int64_t user, const tl_search_rec *r,
                            const int64_t *items, tl_put *what)
{
    sq_store *s = sq(st);
    sqlite3_stmt *q;
    int changes = 0, rc;
    int64_t sid = 0;
    tl_err r2 = stmt(s, Q_SEARCH_INSERT, &q);
    if (r2 != TL_OK)
        return r2;
    bind_search_key(q, user, r);
    if ((r2 = run(s, q, &changes)) != TL_OK)
        return r2;
    if (changes) {
        *what = TL_PUT_ADDED;
        return insert_clicks(s, sqlite3_last_insert_rowid(s->db), items, r->nclicked);
    }
    if ((r2 = stmt(s, Q_SEARCH_FIND, &q)) != TL_OK)
        return r2;
    bind_search_key(q, user, r);
    if ((rc = sqlite3_step(q)) == SQLITE_ROW)
        sid = sqlite3_column_int64(q, 0);
    sqlite3_reset(q);
    if (rc != SQLITE_ROW)
        return fail(s, rc);
    /* same clicks in the same order: nothing to write */
    if ((r2 = stmt(s, Q_CLICKS_GET, &q)) != TL_OK)
        return r2;
    sqlite3_bind_int64(q, 1, sid);
    int n = 0, same = 1;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        if (n >= r->nclicked || sqlite3_column_int64(q, 0) != items[n])
            same = 0;
        n++;
    }
    sqlite3_reset(q);
    if (rc != SQLITE_DONE)
        return fail(s, rc);
    if (same && n == r->nclicked) {
        *what = TL_PUT_UNCHANGED;
        return TL_OK;
    }
    if ((r2 = stmt(s, Q_CLICKS_DEL, &q)) != TL_OK)
        return r2;
    sqlite3_bind_int64(q, 1, sid);
    if ((r2 = run(s, q, NULL)) != TL_OK)
        return r2;
    *what = TL_PUT_UPDATED;
    return insert_clicks(s, sid, items, r->nclicked);
}

/* Prepares a one-off statement (reads that run once per command are not worth caching). */
static tl_err prepare(sq_store *s, const char *sql, sqlite3_stmt **q)
{
    int rc = sqlite3_prepare_v2(s->db, sql, -1, q, NULL);
    return rc == SQLITE_OK ? TL_OK : fail(s, rc);
}

static tl_err sq_count(tl_store *st, tl_store_counts *out)
{
    sq_store *s = sq(st);
    sqlite3_stmt *q;
    tl_err r = prepare(s,
                       "SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM items),"
                       " (SELECT count(*) FROM events), (SELECT count(*) FROM searches),"
                       " (SELECT count(*) FROM event_types),"
                       " (SELECT count(*) FROM (SELECT DISTINCT user_id, item_id FROM events))",
                       &q);
    if (r != TL_OK)
        return r;
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        out->users = sqlite3_column_int64(q, 0);
        out->items = sqlite3_column_int64(q, 1);
        out->events = sqlite3_column_int64(q, 2);
        out->searches = sqlite3_column_int64(q, 3);
        out->event_types = sqlite3_column_int64(q, 4);
        out->pairs = sqlite3_column_int64(q, 5);
    } else {
        r = fail(s, rc);
    }
    sqlite3_finalize(q);
    return r;
}

/* Runs q (already bound) and calls fn with columns (key, label, count). */
static tl_err rows(sq_store *s, sqlite3_stmt *q, tl_store_row_fn fn, void *ctx)
{
    tl_err r = TL_OK;
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        r = fn(ctx, (const char *)sqlite3_column_text(q, 0),
               (const char *)sqlite3_column_text(q, 1), sqlite3_column_int64(q, 2));
        if (r != TL_OK)
            break;
    }
    if (r == TL_OK && rc != SQLITE_DONE)
        r = fail(s, rc);
    sqlite3_finalize(q);
    return r;
}

static tl_err sq_events_by_type(tl_store *st, tl_store_row_fn fn, void *ctx)
{
    sq_store *s = sq(st);
    sqlite3_stmt *q;
    tl_err r = prepare(s,
                       "SELECT t.name, NULL, c.n FROM (SELECT type_id, count(*) AS n FROM events"
                       " GROUP BY type_id) c JOIN event_types t ON t.id = c.type_id"
                       " ORDER BY c.n DESC, t.name",
                       &q);
    return r == TL_OK ? rows(s, q, fn, ctx) : r;
}

static tl_err sq_top_items(tl_store *st, int limit, tl_store_row_fn fn, void *ctx)
{
    sq_store *s = sq(st);
    sqlite3_stmt *q;
    tl_err r = prepare(s,
                       "SELECT i.ext_id, i.title, c.n FROM (SELECT item_id, count(*) AS n"
                       " FROM events GROUP BY item_id ORDER BY n DESC, item_id LIMIT ?1) c"
                       " JOIN items i ON i.id = c.item_id ORDER BY c.n DESC, c.item_id",
                       &q);
    if (r != TL_OK)
        return r;
    sqlite3_bind_int(q, 1, limit);
    return rows(s, q, fn, ctx);
}

static tl_err sq_top_users(tl_store *st, int limit, tl_store_row_fn fn, void *ctx)
{
    sq_store *s = sq(st);
    sqlite3_stmt *q;
    tl_err r = prepare(s,
                       "SELECT u.ext_id, NULL, c.n FROM (SELECT user_id, count(*) AS n"
                       " FROM events GROUP BY user_id ORDER BY n DESC, user_id LIMIT ?1) c"
                       " JOIN users u ON u.id = c.user_id ORDER BY c.n DESC, c.user_id",
                       &q);
    if (r != TL_OK)
        return r;
    sqlite3_bind_int(q, 1, limit);
    return rows(s, q, fn, ctx);
}

static tl_err sq_trending(tl_store *st, int64_t window, int limit, tl_store_row_fn fn, void *ctx)
{
    sq_store *s = sq(st);
    sqlite3_stmt *q;
    tl_err r = prepare(s,
                       "SELECT i.ext_id, NULL, c.n FROM (SELECT item_id, count(*) AS n FROM events"
                       " WHERE ts >= (SELECT max(ts) FROM events) - ?1"
                       " GROUP BY item_id ORDER BY n DESC, item_id LIMIT ?2) c"
                       " JOIN items i ON i.id = c.item_id ORDER BY c.n DESC, c.item_id",
                       &q);
    if (r != TL_OK)
        return r;
    sqlite3_bind_int64(q, 1, window);
    sqlite3_bind_int(q, 2, limit);
    return rows(s, q, fn, ctx);
}

/* '$."attr"': attribute names are checked by the caller (letters, digits, '_', '-'). */
static void attr_path(char *buf, size_t len, const char *attr)
{
    snprintf(buf, len, "$.\"%s\"", attr);
}

static tl_err sq_segment_top(tl_store *st, const char *attr, const char *value, int min, int limit,
                             tl_store_row_fn fn, void *ctx)
{
    sq_store *s = sq(st);
    sqlite3_stmt *q;
    char path[128];
    attr_path(path, sizeof(path), attr);
    tl_err r =
        prepare(s,
                "SELECT i.ext_id, NULL, c.n FROM (SELECT e.item_id, count(DISTINCT e.user_id)"
                " AS n FROM users u JOIN events e ON e.user_id = u.id"
                " WHERE u.attrs IS NOT NULL AND CAST(json_extract(u.attrs, ?1) AS TEXT) = ?2"
                " GROUP BY e.item_id HAVING n >= ?4 ORDER BY n DESC, e.item_id LIMIT ?3) c"
                " JOIN items i ON i.id = c.item_id ORDER BY c.n DESC, c.item_id",
                &q);
    if (r != TL_OK)
        return r;
    bind_str(q, 1, path);
    bind_str(q, 2, value);
    sqlite3_bind_int(q, 3, limit);
    sqlite3_bind_int(q, 4, min);
    return rows(s, q, fn, ctx);
}

static tl_err sq_user_attr(tl_store *st, const char *user, const char *attr, char **out)
{
    sq_store *s = sq(st);
    sqlite3_stmt *q;
    char path[128];
    attr_path(path, sizeof(path), attr);
    *out = NULL;
    tl_err r = stmt(s, Q_USER_ATTR, &q); /* kept: a homepage asks it every time */
    if (r != TL_OK)
        return r;
    bind_str(q, 1, user);
    bind_str(q, 2, path);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW && sqlite3_column_type(q, 0) != SQLITE_NULL) {
        if (!(*out = strdup((const char *)sqlite3_column_text(q, 0))))
            r = TL_ENOMEM;
    } else if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        r = fail(s, rc);
    }
    sqlite3_reset(q);
    return r;
}

static tl_err sq_item_counts_since(tl_store *st, int64_t since, tl_store_row_fn fn, void *ctx)
{
    sq_store *s = sq(st);
    sqlite3_stmt *q;
    tl_err r = prepare(s,
                       "SELECT i.ext_id, t.name, c.n FROM (SELECT item_id, type_id, count(*) AS n"
                       " FROM events WHERE ts > ?1 GROUP BY item_id, type_id) c"
                       " JOIN items i ON i.id = c.item_id JOIN event_types t ON t.id = c.type_id",
                       &q);
    if (r != TL_OK)
        return r;
    sqlite3_bind_int64(q, 1, since);
    return rows(s, q, fn, ctx);
}

static tl_err sq_events_since(tl_store *st, int64_t since, int limit, tl_store_row_fn fn, void *ctx,
                              int64_t *count)
{
    sq_store *s = sq(st);
    sqlite3_stmt *q;
    tl_err r = prepare(s, "SELECT count(*) FROM events WHERE ts > ?1", &q);
    if (r != TL_OK)
        return r;
    sqlite3_bind_int64(q, 1, since);
    int rc = sqlite3_step(q);
    *count = rc == SQLITE_ROW ? sqlite3_column_int64(q, 0) : 0;
    sqlite3_finalize(q);
    if (rc != SQLITE_ROW)
        return fail(s, rc);
    if (!fn || limit == 0)
        return TL_OK;
    if ((r = prepare(
             s,
             "SELECT u.ext_id, i.ext_id, e.ts FROM events e JOIN users u ON u.id = e.user_id"
             " JOIN items i ON i.id = e.item_id WHERE e.ts > ?1 ORDER BY e.ts, u.ext_id,"
             " i.ext_id LIMIT ?2",
             &q)) != TL_OK)
        return r;
    sqlite3_bind_int64(q, 1, since);
    sqlite3_bind_int(q, 2, limit);
    return rows(s, q, fn, ctx);
}

static tl_err sq_changed(tl_store *st, int *changed)
{
    sq_store *s = sq(st);
    sqlite3_stmt *q;
    tl_err r = stmt(s, Q_DATA_VERSION, &q);
    if (r != TL_OK)
        return r;
    int rc = sqlite3_step(q);
    int64_t v = rc == SQLITE_ROW ? sqlite3_column_int64(q, 0) : -1;
    sqlite3_reset(q);
    if (rc != SQLITE_ROW)
        return fail(s, rc);
    /* PRAGMA data_version moves when another connection commits; this connection's own
     * writes do not move it, so they count as changes too (the caller cannot tell) */
    *changed = v != s->data_version || sqlite3_total_changes(s->db) != s->own_changes;
    s->data_version = v;
    s->own_changes = sqlite3_total_changes(s->db);
    return TL_OK;
}

static tl_err sq_get_meta(tl_store *st, const char *key, char **out)
{
    sq_store *s = sq(st);
    sqlite3_stmt *q;
    tl_err r = stmt(s, Q_GET_META, &q);
    if (r != TL_OK)
        return r;
    *out = NULL;
    bind_str(q, 1, key);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        const char *v = (const char *)sqlite3_column_text(q, 0);
        if (!(*out = strdup(v ? v : "")))
            r = TL_ENOMEM;
    } else if (rc != SQLITE_DONE) {
        r = fail(s, rc);
    }
    sqlite3_reset(q);
    return r;
}

static tl_err sq_set_meta(tl_store *st, const char *key, const char *value)
{
    sq_store *s = sq(st);
    sqlite3_stmt *q;
    tl_err r = stmt(s, Q_SET_META, &q);
    if (r != TL_OK)
        return r;
    bind_str(q, 1, key);
    bind_str(q, 2, value);
    return run(s, q, NULL);
}

static int64_t col_opt(sqlite3_stmt *q, int i)
{
    return sqlite3_column_type(q, i) == SQLITE_NULL ? TL_ABSENT : sqlite3_column_int64(q, i);
}

static tl_err sq_scan_items(tl_store *st, tl_scan_item_fn fn, void *ctx)
{
    sq_store *s = sq(st);
    sqlite3_stmt *q;
    /* A catalogue series with a volume (schema 5, a MARC import's item_details) reaches the
     * models as the title's "(Series, #N)", the form the series parser reads in goodbooks
     * titles: "next in the series" then works for MARC catalogues too. */
    tl_err r =
        prepare(s,
                st->schema_version < 5
                    ? "SELECT id, ext_id, title, authors, subjects, year, language, added, type,"
                      " format, available FROM items ORDER BY id"
                    : "SELECT i.id, i.ext_id,"
                      " CASE WHEN d.series IS NULL OR d.series_volume IS NULL OR i.title IS NULL"
                      " OR substr(i.title, -1) = ')' THEN i.title"
                      " ELSE i.title || ' (' || d.series || ', #' || CASE"
                      " WHEN d.series_volume = CAST(d.series_volume AS INTEGER)"
                      " THEN CAST(CAST(d.series_volume AS INTEGER) AS TEXT)"
                      " ELSE CAST(d.series_volume AS TEXT) END || ')' END,"
                      " i.authors, i.subjects, i.year, i.language, i.added, i.type, i.format,"
                      " i.available FROM items i LEFT JOIN item_details d ON d.item_id = i.id"
                      " ORDER BY i.id",
                &q);
    if (r != TL_OK)
        return r;
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        tl_store_item_row row = {
            .id = sqlite3_column_int64(q, 0),
            .ext = (const char *)sqlite3_column_text(q, 1),
            .ext_len = (size_t)sqlite3_column_bytes(q, 1),
            .title = (const char *)sqlite3_column_text(q, 2),
            .authors = (const char *)sqlite3_column_text(q, 3),
            .subjects = (const char *)sqlite3_column_text(q, 4),
            .year = col_opt(q, 5),
            .language = (const char *)sqlite3_column_text(q, 6),
            .added = col_opt(q, 7),
            .type = (const char *)sqlite3_column_text(q, 8),
            .format = (const char *)sqlite3_column_text(q, 9),
            .available = col_opt(q, 10),
        };
        if ((r = fn(ctx, &row)) != TL_OK)
            break;
    }
    if (r == TL_OK && rc != SQLITE_DONE)
        r = fail(s, rc);
    sqlite3_finalize(q);
    return r;
}

static tl_err sq_scan_users(tl_store *st, tl_scan_user_fn fn, void *ctx)
{
    sq_store *s = sq(st);
    sqlite3_stmt *q;
    tl_err r = prepare(s, "SELECT id, ext_id, personalize, attrs FROM users ORDER BY id", &q);
    if (r != TL_OK)
        return r;
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        const char *ext = (const char *)sqlite3_column_text(q, 1);
        size_t len = (size_t)sqlite3_column_bytes(q, 1);
        if ((r = fn(ctx, sqlite3_column_int64(q, 0), ext, len, sqlite3_column_int(q, 2),
                    (const char *)sqlite3_column_text(q, 3))) != TL_OK)
            break;
    }
    if (r == TL_OK && rc != SQLITE_DONE)
        r = fail(s, rc);
    sqlite3_finalize(q);
    return r;
}

static tl_err sq_scan_types(tl_store *st, tl_scan_type_fn fn, void *ctx)
{
    sq_store *s = sq(st);
    sqlite3_stmt *q;
    tl_err r = prepare(s, "SELECT id, name FROM event_types ORDER BY id", &q);
    if (r != TL_OK)
        return r;
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW)
        if ((r = fn(ctx, sqlite3_column_int64(q, 0), (const char *)sqlite3_column_text(q, 1))) !=
            TL_OK)
            break;
    if (r == TL_OK && rc != SQLITE_DONE)
        r = fail(s, rc);
    sqlite3_finalize(q);
    return r;
}

static tl_err sq_scan_events(tl_store *st, tl_scan_event_fn fn, void *ctx)
{
    sq_store *s = sq(st);
    sqlite3_stmt *q;
    tl_err r = prepare(s, "SELECT user_id, item_id, type_id, value, ts FROM events", &q);
    if (r != TL_OK)
        return r;
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        int has_value = sqlite3_column_type(q, 3) != SQLITE_NULL;
        r = fn(ctx, sqlite3_column_int64(q, 0), sqlite3_column_int64(q, 1),
               sqlite3_column_int64(q, 2), has_value, has_value ? sqlite3_column_double(q, 3) : 0.0,
               sqlite3_column_int64(q, 4));
        if (r != TL_OK)
            break;
    }
    if (r == TL_OK && rc != SQLITE_DONE)
        r = fail(s, rc);
    sqlite3_finalize(q);
    return r;
}

static tl_err sq_user_consent(tl_store *st, const char *ext, size_t len, int *found,
                              int *personalize)
{
    sq_store *s = sq(st);
    sqlite3_stmt *q;
    tl_err r = stmt(s, Q_USER_FIND, &q);
    if (r != TL_OK)
        return r;
    bind_text(q, 1, ext, len);
    int rc = sqlite3_step(q);
    *found = rc == SQLITE_ROW;
    *personalize = rc == SQLITE_ROW ? sqlite3_column_int(q, 1) : 1;
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        r = fail(s, rc);
    sqlite3_reset(q);
    return r;
}

static tl_err sq_user_events(tl_store *st, const char *ext, size_t len, int *found,
                             int *personalize, tl_user_event_fn fn, void *ctx)
{
    sq_store *s = sq(st);
    sqlite3_stmt *q;
    tl_err r = stmt(s, Q_USER_FIND, &q);
    if (r != TL_OK)
        return r;
    bind_text(q, 1, ext, len);
    int rc = sqlite3_step(q);
    int64_t user = 0;
    *found = rc == SQLITE_ROW;
    if (rc == SQLITE_ROW) {
        user = sqlite3_column_int64(q, 0);
        *personalize = sqlite3_column_int(q, 1);
    } else if (rc != SQLITE_DONE) {
        r = fail(s, rc);
    }
    sqlite3_reset(q);
    if (r != TL_OK || !*found || (r = stmt(s, Q_USER_EVENTS, &q)) != TL_OK)
        return r;
    sqlite3_bind_int64(q, 1, user);
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        int has_value = sqlite3_column_type(q, 2) != SQLITE_NULL;
        const char *where[3];
        for (int k = 0; k < 3; k++)
            where[k] = (const char *)sqlite3_column_text(q, 4 + k);
        r = fn(ctx, (const char *)sqlite3_column_text(q, 0), (size_t)sqlite3_column_bytes(q, 0),
               (const char *)sqlite3_column_text(q, 1), has_value,
               has_value ? sqlite3_column_double(q, 2) : 0.0, sqlite3_column_int64(q, 3), where);
        if (r != TL_OK)
            break;
    }
    if (r == TL_OK && rc != SQLITE_DONE)
        r = fail(s, rc);
    sqlite3_reset(q);
    return r;
}

static tl_err sq_put_key(tl_store *st, const tl_store_key *k, const uint8_t *hash, size_t len)
{
    sq_store *s = sq(st);
    sqlite3_stmt *q;
    tl_err r = prepare(s,
                       "INSERT INTO api_keys(id, hash, role, user, label, created)"
                       " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                       &q);
    if (r != TL_OK)
        return r;
    bind_str(q, 1, k->id);
    sqlite3_bind_blob(q, 2, hash, (int)len, SQLITE_STATIC);
    bind_str(q, 3, k->role);
    bind_str(q, 4, k->user);
    bind_str(q, 5, k->label);
    sqlite3_bind_int64(q, 6, k->created);
    r = run(s, q, NULL);
    sqlite3_finalize(q);
    return r;
}

static tl_err sq_list_keys(tl_store *st, tl_store_key_fn fn, void *ctx)
{
    sq_store *s = sq(st);
    sqlite3_stmt *q;
    tl_err r = prepare(s,
                       "SELECT id, role, user, label, created, revoked FROM api_keys"
                       " ORDER BY created, id",
                       &q);
    if (r != TL_OK)
        return r;
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        tl_store_key k = {.id = (const char *)sqlite3_column_text(q, 0),
                          .role = (const char *)sqlite3_column_text(q, 1),
                          .user = (const char *)sqlite3_column_text(q, 2),
                          .label = (const char *)sqlite3_column_text(q, 3),
                          .created = sqlite3_column_int64(q, 4),
                          .revoked = sqlite3_column_int64(q, 5)};
        if ((r = fn(ctx, &k)) != TL_OK)
            break;
    }
    if (r == TL_OK && rc != SQLITE_DONE)
        r = fail(s, rc);
    sqlite3_finalize(q);
    return r;
}

static tl_err sq_revoke_key(tl_store *st, const char *id, int64_t when, int *changes)
{
    sq_store *s = sq(st);
    sqlite3_stmt *q;
    tl_err r = prepare(s, "UPDATE api_keys SET revoked = coalesce(revoked, ?2) WHERE id = ?1", &q);
    if (r != TL_OK)
        return r;
    bind_str(q, 1, id);
    sqlite3_bind_int64(q, 2, when);
    r = run(s, q, changes);
    sqlite3_finalize(q);
    return r;
}

static tl_err sq_get_key(tl_store *st, const char *id, tl_store_key_auth *out, int *found)
{
    sq_store *s = sq(st);
    sqlite3_stmt *q;
    tl_err r = stmt(s, Q_KEY_GET, &q);
    if (r != TL_OK)
        return r;
    memset(out, 0, sizeof(*out));
    bind_str(q, 1, id);
    int rc = sqlite3_step(q);
    *found = rc == SQLITE_ROW;
    if (rc == SQLITE_ROW) {
        size_t n = (size_t)sqlite3_column_bytes(q, 0);
        out->hash_len = n < sizeof(out->hash) ? n : sizeof(out->hash);
        if (n)
            memcpy(out->hash, sqlite3_column_blob(q, 0), out->hash_len);
        const char *role = (const char *)sqlite3_column_text(q, 1);
        const char *user = (const char *)sqlite3_column_text(q, 2);
        snprintf(out->role, sizeof(out->role), "%s", role ? role : "");
        snprintf(out->user, sizeof(out->user), "%s", user ? user : "");
        out->revoked = sqlite3_column_int64(q, 3);
    } else if (rc != SQLITE_DONE) {
        r = fail(s, rc);
    }
    sqlite3_reset(q);
    return r;
}

/* Runs the cached statement which with ?1 = ext[0..len): *found = 1 when it gives a row, which
 * the caller reads from *out before it resets *out; otherwise it is reset here. */
static tl_err one_row(sq_store *s, int which, const char *ext, size_t len, sqlite3_stmt **out,
                      int *found)
{
    *found = 0;
    tl_err r = stmt(s, which, out);
    if (r != TL_OK)
        return r;
    bind_text(*out, 1, ext, len);
    int rc = sqlite3_step(*out);
    *found = rc == SQLITE_ROW;
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        r = fail(s, rc);
    if (!*found)
        sqlite3_reset(*out);
    return r;
}

static tl_err sq_get_item(tl_store *st, const char *ext, size_t len, tl_store_item_fn fn, void *ctx,
                          int *found)
{
    sqlite3_stmt *q;
    tl_err r = one_row(sq(st), Q_GET_ITEM, ext, len, &q, found);
    if (r == TL_OK && *found) {
        tl_item_rec it = {
            .id = (const char *)sqlite3_column_text(q, 0),
            .id_len = (size_t)sqlite3_column_bytes(q, 0),
            .type = (const char *)sqlite3_column_text(q, 1),
            .title = (const char *)sqlite3_column_text(q, 2),
            .authors = (const char *)sqlite3_column_text(q, 3),
            .subjects = (const char *)sqlite3_column_text(q, 4),
            .year = col_opt(q, 5),
            .language = (const char *)sqlite3_column_text(q, 6),
            .format = (const char *)sqlite3_column_text(q, 7),
            .added = col_opt(q, 8),
            .copies = col_opt(q, 9),
            .available = col_opt(q, 10),
            .extra = (const char *)sqlite3_column_text(q, 11),
        };
        r = fn(ctx, &it);
        sqlite3_reset(q);
    }
    return r;
}

static tl_err sq_get_user(tl_store *st, const char *ext, size_t len, tl_store_user_fn fn, void *ctx,
                          int *found)
{
    sqlite3_stmt *q;
    tl_err r = one_row(sq(st), Q_GET_USER, ext, len, &q, found);
    if (r == TL_OK && *found) {
        tl_user_rec u = {
            .id = (const char *)sqlite3_column_text(q, 0),
            .id_len = (size_t)sqlite3_column_bytes(q, 0),
            .attrs = (const char *)sqlite3_column_text(q, 1),
            .personalize = sqlite3_column_int(q, 2),
            .created = col_opt(q, 3),
        };
        r = fn(ctx, &u);
        sqlite3_reset(q);
    }
    return r;
}

/* Runs the statements qs[0..n) with ?1 = id, in order; *first = the rows the first removed. */
static tl_err delete_by_id(sq_store *s, const int *qs, int n, int64_t id, long long *first)
{
    for (int k = 0; k < n; k++) {
        sqlite3_stmt *q;
        int changes = 0;
        tl_err r = stmt(s, qs[k], &q);
        if (r != TL_OK)
            return r;
        sqlite3_bind_int64(q, 1, id);
        if ((r = run(s, q, &changes)) != TL_OK)
            return r;
        if (k == 0)
            *first = changes;
    }
    return TL_OK;
}

static tl_err sq_delete_record(tl_store *st, tl_id_kind k, int64_t id, long long *events)
{
    static const int item_qs[] = {Q_DEL_ITEM_EVENTS, Q_DEL_ITEM_CLICKS, Q_DEL_ITEM_DETAILS,
                                  Q_DEL_ITEM_HOLDINGS, Q_DEL_ITEM};
    static const int item_qs_v4[] = {Q_DEL_ITEM_EVENTS, Q_DEL_ITEM_CLICKS, Q_DEL_ITEM};
    /* a patron goes with everything of theirs: consent history, retention, their own keys */
    static const int user_qs[] = {Q_DEL_USER_EVENTS,    Q_DEL_USER_SEARCHES, Q_DEL_USER_CONSENT,
                                  Q_DEL_USER_RETENTION, Q_DEL_USER_KEYS,     Q_DEL_USER};
    static const int user_qs_v3[] = {Q_DEL_USER_EVENTS, Q_DEL_USER_SEARCHES, Q_DEL_USER};
    /* ... and from version 5 their subscription (an e-mail address) */
    static const int user_qs_v5[] = {
        Q_DEL_USER_EVENTS, Q_DEL_USER_SEARCHES, Q_DEL_USER_CONSENT, Q_DEL_USER_RETENTION,
        Q_DEL_USER_KEYS,   Q_DEL_USER_SUBS,     Q_DEL_USER};
    tl_err r = tl__sq_lib_forget(st, k, id); /* lists, reviews, paths, feedback */
    if (r == TL_OK)
        r = tl__sq_imp_forget(st, k, id); /* impressions of the patron, places of the item */
    if (r != TL_OK)
        return r;
    if (k == TL_ID_ITEM) /* its catalogue details and copies (schema 5) go with it */
        return st->schema_version < 5 ? delete_by_id(sq(st), item_qs_v4, 3, id, events)
                                      : delete_by_id(sq(st), item_qs, 5, id, events);
    if (st->schema_version < 4) /* a write open migrates: only a store opened before it */
        return delete_by_id(sq(st), user_qs_v3, 3, id, events);
    if (st->schema_version >= 5)
        return delete_by_id(sq(st), user_qs_v5, 7, id, events);
    return delete_by_id(sq(st), user_qs, 6, id, events);
}

static tl_err sq_idem_get(tl_store *st, const char *scope, const char *key, int64_t since,
                          tl_store_idem *out, int *found)
{
    sq_store *s = sq(st);
    sqlite3_stmt *q;
    tl_err r = stmt(s, Q_IDEM_GET, &q);
    if (r != TL_OK)
        return r;
    bind_str(q, 1, scope);
    bind_str(q, 2, key);
    sqlite3_bind_int64(q, 3, since);
    int rc = sqlite3_step(q);
    *found = rc == SQLITE_ROW;
    if (rc == SQLITE_ROW) {
        size_t n = (size_t)sqlite3_column_bytes(q, 0);
        out->hash_len = n < sizeof(out->hash) ? n : sizeof(out->hash);
        if (n)
            memcpy(out->hash, sqlite3_column_blob(q, 0), out->hash_len);
        out->status = sqlite3_column_int(q, 1);
        const char *body = (const char *)sqlite3_column_text(q, 2);
        if (!(out->body = strdup(body ? body : "")))
            r = TL_ENOMEM;
    } else if (rc != SQLITE_DONE) {
        r = fail(s, rc);
    }
    sqlite3_reset(q);
    return r;
}

static tl_err sq_idem_put(tl_store *st, const char *scope, const char *key,
                          const tl_store_idem *rec, int64_t created)
{
    sq_store *s = sq(st);
    sqlite3_stmt *q;
    tl_err r = stmt(s, Q_IDEM_PUT, &q);
    if (r != TL_OK)
        return r;
    bind_str(q, 1, scope);
    bind_str(q, 2, key);
    sqlite3_bind_blob(q, 3, rec->hash, (int)rec->hash_len, SQLITE_STATIC);
    sqlite3_bind_int(q, 4, rec->status);
    bind_str(q, 5, rec->body ? rec->body : "");
    sqlite3_bind_int64(q, 6, created);
    return run(s, q, NULL);
}

static tl_err sq_idem_prune(tl_store *st, int64_t before, long long *removed)
{
    sq_store *s = sq(st);
    sqlite3_stmt *q;
    int changes = 0;
    tl_err r = stmt(s, Q_IDEM_PRUNE, &q);
    if (r != TL_OK)
        return r;
    sqlite3_bind_int64(q, 1, before);
    if ((r = run(s, q, &changes)) == TL_OK)
        *removed = changes;
    return r;
}

static const tl_store_ops sqlite_ops = {
    .name = "sqlite",
    .close = sq_close,
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .find_id = sq_find_id,
    .create_id = sq_create_id,
    .put_item = sq_put_item,
    .put_user = sq_put_user,
    .put_event = sq_put_event,
    .put_events = sq_put_events,
    .put_search = sq_put_search,
    .count = sq_count,
    .events_by_type = sq_events_by_type,
    .top_items = sq_top_items,
    .top_users = sq_top_users,
    .trending = sq_trending,
    .events_since = sq_events_since,
    .item_counts_since = sq_item_counts_since,
    .segment_top = sq_segment_top,
    .user_attr = sq_user_attr,
    .changed = sq_changed,
    .get_meta = sq_get_meta,
    .set_meta = sq_set_meta,
    .scan_items = sq_scan_items,
    .scan_users = sq_scan_users,
    .scan_types = sq_scan_types,
    .scan_events = sq_scan_events,
    .user_events = sq_user_events,
    .user_consent = sq_user_consent,
    .put_key = sq_put_key,
    .list_keys = sq_list_keys,
    .revoke_key = sq_revoke_key,
    .get_key = sq_get_key,
    .get_item = sq_get_item,
    .get_user = sq_get_user,
    .replace_item = sq_replace_item,
    .replace_user = sq_replace_user,
    .delete_record = sq_delete_record,
    .idem_get = sq_idem_get,
    .idem_put = sq_idem_put,
    .idem_prune = sq_idem_prune,
    .audit_append = tl__sq_audit_append,
    .audit_last = tl__sq_audit_last,
    .audit_each = tl__sq_audit_each,
    .audit_forget = tl__sq_audit_forget,
    .consent_set = tl__sq_consent_set,
    .user_dump = tl__sq_user_dump,
    .retention_run = tl__sq_retention_run,
    .scrub = tl__sq_scrub,
    .analytics = tl__sq_analytics,
    .put_details = tl__sq_put_details,
    .put_holdings = tl__sq_put_holdings,
    .get_details = tl__sq_get_details,
    .get_holdings = tl__sq_get_holdings,
    .cache_limit = tl__sq_cache_limit,
    .works_each = tl__sq_works_each,
    .put_holding = tl__sq_put_holding,
    .copy_item = tl__sq_copy_item,
    .shelves_each = tl__sq_shelves_each,
    .schedules_each = tl__sq_schedules_each,
    .loan_weeks = tl__sq_loan_weeks,
    .search = tl__sq_search,
    .search_total = tl__sq_search_total,
    .search_bulk = tl__sq_search_bulk,
    .sub_set = tl__sq_sub_set,
    .sub_get = tl__sq_sub_get,
    .sub_off = tl__sq_sub_off,
    .sub_each = tl__sq_sub_each,
    .details = tl__sq_details,
    .lib = &tl__sq_lib_ops,
    .exp = &tl__sq_exp_ops,
    .tenants = &tl__sq_tenant_ops,
    .imp = &tl__sq_imp_ops,
};

static tl_err user_version(sq_store *s, int *v)
{
    sqlite3_stmt *q;
    tl_err r = prepare(s, "PRAGMA user_version", &q);
    if (r != TL_OK)
        return r;
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW)
        *v = sqlite3_column_int(q, 0);
    else
        r = fail(s, rc);
    sqlite3_finalize(q);
    return r;
}

static tl_err count_tables(sq_store *s, int *n)
{
    sqlite3_stmt *q;
    tl_err r = prepare(s, "SELECT count(*) FROM sqlite_master", &q);
    if (r != TL_OK)
        return r;
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW)
        *n = sqlite3_column_int(q, 0);
    else
        r = fail(s, rc);
    sqlite3_finalize(q);
    return r;
}

/* 1 when every migration after version v only adds tables. */
static int additive_since(int v)
{
    for (int i = 0; i < NMIGRATIONS; i++)
        if (migrations[i].version > v &&
            (migrations[i].version >= (int)(sizeof(additive) / sizeof(additive[0])) ||
             !additive[migrations[i].version]))
            return 0;
    return 1;
}

/* Brings the schema to LATEST_VERSION, all steps in one transaction, and marks a store of an
 * earlier Tailor as Tailor's; a store created from nothing (v 0) gets the pending row (a
 * TL_SQ_PENDING_* value, or NULL for none) in the same transaction. A read-only open changes
 * nothing: it takes the store as it is or says what is missing. */
static tl_err migrate(sq_store *s, int readonly, const char *pending, tl_diag *d)
{
    const char *name = s->file.path ? s->file.path : ":memory:";
    int v = 0, n = 0;
    tl_err r = user_version(s, &v);
    if (r != TL_OK)
        return r;
    if (v == LATEST_VERSION && (!s->file.legacy || readonly))
        goto out;
    if (readonly && v >= 1 && v < LATEST_VERSION && additive_since(v))
        goto out; /* read as it is: what the later steps add says TL_EVERSION when used */
    if (readonly && v == 0 && !s->file.legacy && (r = count_tables(s, &n)) != TL_OK)
        return r;
    if (readonly && v == 0 && !s->file.legacy && n == 0) {
        /* marked, but its creation stopped before the schema: nothing to read */
        tl_diag_set(d, NULL, 0, NULL,
                    "no Tailor store at %s (it was never filled); import data first or pass "
                    "--db / $" TL_STORE_ENV,
                    name);
        return TL_ENOTFOUND;
    }
    if (v > LATEST_VERSION || readonly) {
        tl_diag_set(d, NULL, 0, NULL,
                    "the store %s has schema version %d; this Tailor %s version %d", name, v,
                    v > LATEST_VERSION ? "knows up to" : "(read-only) needs", LATEST_VERSION);
        return TL_EVERSION;
    }
    if ((r = exec(s, "BEGIN IMMEDIATE")) != TL_OK)
        return r;
    if ((r = user_version(s, &v)) != TL_OK) /* another process may have migrated meanwhile */
        goto fail;
    for (int i = 0; i < NMIGRATIONS; i++) {
        if (migrations[i].version <= v)
            continue;
        char sql[160];
        if ((r = exec(s, migrations[i].sql)) != TL_OK)
            goto fail;
        snprintf(
            sql, sizeof(sql),
            "INSERT INTO schema_migrations VALUES (%d, CAST(strftime('%%s', 'now') AS INTEGER));"
            "PRAGMA user_version = %d;",
            migrations[i].version, migrations[i].version);
        if ((r = exec(s, sql)) != TL_OK)
            goto fail;
    }
    if (s->file.legacy && (r = exec(s, MARK_SQL)) != TL_OK)
        goto fail;
    if (pending && v == 0 &&
        (r = exec(s, pending[0] == 'c' ? "INSERT INTO meta VALUES ('" TL_SQ_PENDING
                                         "', '" TL_SQ_PENDING_CREATED "')"
                                       : "INSERT INTO meta VALUES ('" TL_SQ_PENDING
                                         "', '" TL_SQ_PENDING_ADOPTED "')")) != TL_OK)
        goto fail;
    if ((r = exec(s, "COMMIT")) != TL_OK)
        goto fail;
    v = LATEST_VERSION;
out:
    s->base.schema_version = v;
    return TL_OK;
fail:
    exec(s, "ROLLBACK");
    return r;
}

/* Process-wide: memory statistics cost a global mutex on every SQLite allocation, and Tailor
 * never reads them. Only possible before SQLite initializes; harmless (ignored) after. */
static void configure_once(void)
{
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

/* Makes a new, pending store at path: schema, mark and all under a temporary name, then
 * published whole. Another process publishing first is no error: its store is used. */
static tl_err create_store(const char *path, tl_diag *d)
{
    char tmp[4200];
    tl_err r = tl__sq_new_file(path, tmp, sizeof(tmp), d);
    if (r != TL_OK)
        return r;
    sq_store *t = calloc(1, sizeof(*t));
    if (!t) {
        tl__sq_remove_new(tmp);
        return TL_ENOMEM;
    }
    tl__store_init(&t->base, &sqlite_ops);
    int rc = sqlite3_open_v2(tmp, &t->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc == SQLITE_OK)
        rc = tl__sq_search_register(t->db); /* the schema's index needs its tokenizer */
    r = rc == SQLITE_OK ? TL_OK : fail(t, rc);
    if (r == TL_OK)
        r = exec(t, "PRAGMA page_size = 8192; " MARK_SQL);
    if (r == TL_OK)
        r = migrate(t, 0, TL_SQ_PENDING_CREATED, d);
    if (r == TL_ESTORE)
        tl_diag_set(d, NULL, 0, NULL, "cannot create %s: %s", path, t->base.errmsg);
    sq_close(&t->base); /* the file is whole: rollback journal mode until its first open */
    if (r != TL_OK) {
        tl__sq_remove_new(tmp);
        return r;
    }
    return tl__sq_publish(tmp, path, d);
}

/* The store's pending row: TL_SQ_PENDING_CREATED -> 1, TL_SQ_PENDING_ADOPTED -> 2, none -> 0. */
static tl_err read_pending(sq_store *s, int *pending)
{
    char *v = NULL;
    tl_err r = sq_get_meta(&s->base, TL_SQ_PENDING, &v);
    *pending = !v ? 0 : strcmp(v, TL_SQ_PENDING_ADOPTED) == 0 ? 2 : 1;
    free(v);
    return r;
}

/* One try of tl__sqlite_open; *again = 1 when the file went away while it was being opened
 * (a failed first import removing the store it had created): the caller starts over. */
static tl_err open_once(const char *path, const tl_store_opts *o, tl_store **out, int *again,
                        tl_diag *d)
{
    int memory = strcmp(path, ":memory:") == 0;
    int readonly = (o->flags & TL_STORE_READONLY) != 0;
    char *uri = NULL;
    tl_err r = TL_ENOMEM;
    sq_store *s = calloc(1, sizeof(*s));
    if (s)
        s->data_version = -1;
    if (!s)
        return r;
    tl__store_init(&s->base, &sqlite_ops);
    s->base.readonly = readonly;
    s->file.lock_timeout = o->lock_timeout;
    if (!memory && (r = tl__sq_inspect(path, o->flags, o->lock_timeout, &s->file, d)) == TL_OK &&
        s->file.origin == SQ_MISSING) {
        tl__sq_file_release(&s->file);
        if ((r = create_store(path, d)) == TL_OK)
            r = tl__sq_inspect(path, o->flags, o->lock_timeout, &s->file, d);
        if (r == TL_OK && s->file.origin == SQ_MISSING) {
            *again = 1; /* created, and removed by a failed import at once: again */
            r = TL_ESTORE;
            tl_diag_set(d, NULL, 0, NULL,
                        "the store %s was removed while it was being created; run the command "
                        "again",
                        path);
        }
    }
    if (r != TL_OK && !memory) {
        /* the file seen at first went away while it was looked at: look again */
        *again = *again || (s->file.ino && !tl__sq_same_file(&s->file));
        tl__sq_file_release(&s->file); /* nothing was opened: nothing to discard either */
        goto out;
    }
    r = TL_ENOMEM;
    if (s->file.immutable && !(uri = tl__sq_immutable_uri(&s->file)))
        goto out;
    /* never SQLITE_OPEN_CREATE: create_store made the file when it was ours to make */
    int oflags = readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
    if (memory)
        oflags |= SQLITE_OPEN_CREATE;
    int rc = sqlite3_open_v2(uri ? uri : path, &s->db,
                             oflags | SQLITE_OPEN_NOMUTEX | (uri ? SQLITE_OPEN_URI : 0), NULL);
    if (rc != SQLITE_OK) {
        *again = !memory && access(path, F_OK) != 0;
        r = fail(s, rc);
        goto out;
    }
    sqlite3_extended_result_codes(s->db, 1);
    sqlite3_busy_timeout(s->db, (int)(o->lock_timeout * 1000 + 0.5));
    /* before anything touches the catalogue's index (the migration included) */
    if ((rc = tl__sq_search_register(s->db)) != SQLITE_OK) {
        r = fail(s, rc);
        goto out;
    }
    r = TL_ESTORE;
    if (!readonly && sqlite3_db_readonly(s->db, "main") == 1) {
        fail(s, SQLITE_READONLY); /* the file system said no after all: say why */
        goto out;
    }
    /* page_size only takes effect on a new file (before WAL and the first table): 8 KiB pages
     * make bulk imports and full scans ~10% faster than 4 KiB in bench_import. The mark goes
     * in first, before WAL, so that it is in the file itself from the start. */
    if (!readonly && s->file.origin == SQ_ADOPTED &&
        (r = exec(s, "PRAGMA page_size = 8192; " MARK_SQL)) != TL_OK)
        goto out;
    char pragmas[256];
    snprintf(pragmas, sizeof(pragmas),
             "PRAGMA foreign_keys = ON; PRAGMA temp_store = MEMORY; PRAGMA cache_size = -%d;",
             CACHE_KIB);
    if ((r = exec(s, pragmas)) != TL_OK)
        goto out;
    /* WAL: readers never block the writer; NORMAL sync is durable at checkpoints and safe
     * against corruption, and much faster than FULL for bulk imports */
    if (!readonly && !memory &&
        ((r = exec(s, "PRAGMA journal_mode = WAL")) != TL_OK ||
         (r = exec(s, "PRAGMA synchronous = NORMAL")) != TL_OK))
        goto out;
    /* what is deleted (an erased patron, expired events) is overwritten, not left in free
     * space for a file reader to find */
    if (!readonly && (r = exec(s, "PRAGMA secure_delete = ON")) != TL_OK)
        goto out;
    if ((r = migrate(s, readonly, s->file.origin == SQ_ADOPTED ? TL_SQ_PENDING_ADOPTED : NULL,
                     d)) != TL_OK ||
        (!memory && (r = read_pending(s, &s->pending)) != TL_OK))
        goto out;
    if (readonly && s->pending) {
        tl_diag_set(d, NULL, 0, NULL,
                    "no Tailor store at %s (the import creating it has not committed anything); "
                    "import data first or pass --db / $" TL_STORE_ENV,
                    path);
        r = TL_ENOTFOUND;
        s->pending = 0;
        goto out;
    }
    /* the connection holds a shared lock from its first read on: from here on a failing
     * creator cannot remove the file, so it only has to be the one that was inspected */
    if (!memory && !tl__sq_same_file(&s->file)) {
        *again = 1;
        r = TL_ESTORE;
        snprintf(s->base.why, sizeof(s->base.why),
                 "the store %s was removed or replaced while it was being opened", path);
        goto out;
    }
    *out = &s->base;
    s = NULL;
out:
    free(uri);
    if (s) {
        /* whatever failed, it failed on a file that is gone: look again */
        if (s->file.ino && !tl__sq_same_file(&s->file))
            *again = 1;
        if (r == TL_ESTORE && s->base.why[0])
            tl_diag_set(d, NULL, 0, NULL, "%s", s->base.why);
        else if (r == TL_ESTORE || r == TL_ENOMEM)
            tl_diag_set(d, path, 0, NULL, "store: %s", s->base.errmsg);
        sq_close(&s->base);
    }
    return r;
}

tl_err tl__sqlite_open(const char *path, const tl_store_opts *o, tl_store **out, tl_diag *d)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, configure_once);
    tl_err r = TL_ESTORE;
    for (int i = 0; i < OPEN_TRIES; i++) {
        int again = 0;
        if ((r = open_once(path, o, out, &again, d)) == TL_OK || !again)
            break;
    }
    return r;
}
