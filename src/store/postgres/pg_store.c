/* The PostgreSQL engine (libpq): the core operations of tl_store_ops over one connection,
 * statements prepared once per connection, events written in bulk with binary COPY (straight
 * into an empty table, else merged), writers serialized by an advisory lock (as SQLite's write
 * lock does), and LISTEN/NOTIFY telling every connection of every process that another one
 * committed. Catalogue search is pg_search.c's. */
#include "store/postgres/pg_int.h"
#include "store/postgres/pg_schema.h"

#include "core/linalg.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <string.h>

#define CHANNEL "tailor_changed"

/* Commits that wrote, by any connection of this process. NOTIFY reaches the other connections
 * when their next read consumes it, which may be after the next request: a write of this
 * process is seen at once through this counter (another process's, when its NOTIFY arrives). */
static atomic_uint_fast64_t process_writes;
#define WRITE_LOCK "1413564749" /* pg_advisory_xact_lock key of writers: "TAIM" */
#define COPY_CHUNK (1 << 20)

typedef struct pg_store {
    tl_store base; /* first: a tl_store* is a pg_store* */
    PGconn *conn;
    unsigned char prepared[TL_PG_SLOTS];
    int seen_first;               /* changed() was called once */
    uint64_t seen_process_writes; /* process_writes when changed() last looked */
    long long writes;             /* commits of this connection since the last changed() */
    int staged;                   /* the temporary events table exists in this session */
    int merging;                  /* this transaction's bulk writes merge (a key existed) */
    int load_tried;               /* this transaction looked whether events was empty */
    int loading;    /* events' primary key and foreign-key trigger are off (bulk load) */
    int in_load;    /* the bulk load's own statements run: they do not end it */
    uint64_t *seen; /* the keys loaded so far, a blocked Bloom filter of SEEN_BLOCKS */
    tl_pg_ids ids;  /* ids in bulk (pg_ids.c) */
} pg_store;

static pg_store *pg(tl_store *st)
{
    return (pg_store *)st;
}

PGconn *tl__pg_conn(tl_store *st)
{
    return pg(st)->conn;
}

/* ---- parameters and results ---- */

void tl__pg_text(tl_pg_args *a, const char *s, size_t n)
{
    a->v[a->n] = s;
    a->len[a->n] = s ? (int)n : 0;
    a->fmt[a->n] = 1; /* binary text: the bytes as they are */
    a->n++;
}

void tl__pg_str(tl_pg_args *a, const char *s)
{
    tl__pg_text(a, s, s ? strlen(s) : 0);
}

void tl__pg_int(tl_pg_args *a, int64_t v)
{
    snprintf(a->num[a->n], sizeof(a->num[0]), "%lld", (long long)v);
    a->v[a->n] = a->num[a->n];
    a->len[a->n] = 0;
    a->fmt[a->n] = 0;
    a->n++;
}

void tl__pg_opt(tl_pg_args *a, int64_t v)
{
    if (v == TL_ABSENT)
        tl__pg_null(a);
    else
        tl__pg_int(a, v);
}

void tl__pg_real(tl_pg_args *a, double v)
{
    snprintf(a->num[a->n], sizeof(a->num[0]), "%.17g", v);
    a->v[a->n] = a->num[a->n];
    a->len[a->n] = 0;
    a->fmt[a->n] = 0;
    a->n++;
}

void tl__pg_null(tl_pg_args *a)
{
    a->v[a->n] = NULL;
    a->len[a->n] = 0;
    a->fmt[a->n] = 0;
    a->n++;
}

void tl__pg_blob(tl_pg_args *a, const uint8_t *b, size_t n)
{
    tl__pg_text(a, (const char *)(b ? b : (const uint8_t *)""), n);
}

long long tl__pg_changes(PGresult *r)
{
    return strtoll(PQcmdTuples(r), NULL, 10);
}

int64_t tl__pg_i64(PGresult *r, int row, int col)
{
    return strtoll(PQgetvalue(r, row, col), NULL, 10);
}

int64_t tl__pg_opt_col(PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? TL_ABSENT : tl__pg_i64(r, row, col);
}

const char *tl__pg_s(PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? NULL : PQgetvalue(r, row, col);
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c - 'A' + 10;
}

size_t tl__pg_bytes(PGresult *r, int row, int col, uint8_t *out, size_t cap)
{
    const char *v = PQgetvalue(r, row, col);
    size_t n = 0;
    if (PQgetisnull(r, row, col) || v[0] != '\\' || v[1] != 'x')
        return 0;
    for (v += 2; v[0] && v[1] && n < cap; v += 2)
        out[n++] = (uint8_t)(hexval(v[0]) << 4 | hexval(v[1]));
    return n;
}

static tl_err fail_msg(tl_store *st, const char *msg)
{
    snprintf(st->errmsg, sizeof(st->errmsg), "%s", msg && *msg ? msg : "unknown error");
    size_t n = strlen(st->errmsg);
    while (n && (st->errmsg[n - 1] == '\n' || st->errmsg[n - 1] == ' '))
        st->errmsg[--n] = '\0';
    return TL_ESTORE;
}

/* Takes r: TL_OK (and r kept in *res, or freed) when it succeeded. */
static tl_err result(tl_store *st, PGresult *r, PGresult **res)
{
    ExecStatusType t = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (t != PGRES_COMMAND_OK && t != PGRES_TUPLES_OK && t != PGRES_COPY_IN &&
        t != PGRES_COPY_OUT) {
        tl_err rc = fail_msg(st, r ? PQresultErrorMessage(r) : PQerrorMessage(pg(st)->conn));
        PQclear(r);
        return rc;
    }
    if (res)
        *res = r;
    else
        PQclear(r);
    return TL_OK;
}

/* Created ids not written yet go first: every statement may need them. */
static tl_err flush_ids(tl_store *st)
{
    pg_store *s = pg(st);
    return s->ids.pending && !s->ids.flushing ? tl__pg_ids_flush(st, &s->ids) : TL_OK;
}

static tl_err end_load(tl_store *st);

/* Any statement that names events sees it whole: with its primary key, its triggers and all
 * of a bulk load's rows checked (end_load). */
static tl_err before(tl_store *st, const char *sql)
{
    pg_store *s = pg(st);
    tl_err rc = flush_ids(st);
    if (rc == TL_OK && s->loading && !s->in_load && strstr(sql, "events"))
        rc = end_load(st);
    return rc;
}

tl_err tl__pg_query(tl_store *st, const char *sql, const tl_pg_args *a, PGresult **res)
{
    PGconn *c = pg(st)->conn;
    tl_err rc = before(st, sql);
    if (rc != TL_OK)
        return rc;
    PGresult *r = a ? PQexecParams(c, sql, a->n, NULL, a->v, a->len, a->fmt, 0) : PQexec(c, sql);
    return result(st, r, res);
}

tl_err tl__pg_run(tl_store *st, const char *sql, const tl_pg_args *a, long long *changes)
{
    PGresult *r = NULL;
    tl_err rc = tl__pg_query(st, sql, a, &r);
    if (rc == TL_OK && changes)
        *changes = tl__pg_changes(r);
    PQclear(r);
    return rc;
}

tl_err tl__pg_prepared(tl_store *st, int slot, const char *sql, const tl_pg_args *a, PGresult **res)
{
    pg_store *s = pg(st);
    char name[16];
    tl_err f = before(st, sql);
    if (f != TL_OK)
        return f;
    snprintf(name, sizeof(name), "q%d", slot);
    if (!s->prepared[slot]) {
        tl_err rc = result(st, PQprepare(s->conn, name, sql, 0, NULL), NULL);
        if (rc != TL_OK)
            return rc;
        s->prepared[slot] = 1;
    }
    static const tl_pg_args none;
    if (!a)
        a = &none;
    return result(st, PQexecPrepared(s->conn, name, a->n, a->v, a->len, a->fmt, 0), res);
}

/* ---- statements ---- */

enum {
    Q_FIND_USER,
    Q_FIND_ITEM,
    Q_FIND_TYPE,
    Q_NEW_USER,
    Q_NEW_ITEM,
    Q_NEW_TYPE,
    Q_PUT_ITEM,
    Q_PUT_USER,
    Q_REPLACE_ITEM,
    Q_REPLACE_USER,
    Q_EV_INSERT,
    Q_EV_UPDATE,
    Q_GET_META,
    Q_SET_META,
    Q_USER_FIND,
    Q_USER_EVENTS,
    Q_KEY_GET,
    Q_GET_ITEM,
    Q_GET_USER,
    Q_USER_ATTR,
    Q_IDEM_GET,
    Q_IDEM_PUT,
    Q_SEARCH_INSERT,
    Q_SEARCH_FIND,
    Q_CLICKS_GET,
    Q_CLICKS_DEL,
    Q_CLICK_INSERT,
    Q_N
};

#define ITEM_COLS                                                                                  \
    "ext_id, type, title, authors, subjects, year, language, format, added, copies, available, "   \
    "extra"
#define ITEM_VALS "$1, coalesce($2, 'other'), $3, $4, $5, $6, $7, $8, $9, $10, $11, $12"

static const char *const sql_text[Q_N] = {
    [Q_FIND_USER] = "SELECT id FROM users WHERE ext_id = $1",
    [Q_FIND_ITEM] = "SELECT id FROM items WHERE ext_id = $1",
    [Q_FIND_TYPE] = "SELECT id FROM event_types WHERE name = $1",
    [Q_NEW_USER] = "INSERT INTO users(ext_id) VALUES ($1) RETURNING id",
    [Q_NEW_ITEM] = "INSERT INTO items(ext_id) VALUES ($1) RETURNING id",
    [Q_NEW_TYPE] = "INSERT INTO event_types(name) VALUES ($1) RETURNING id",
    /* absent fields (NULL) keep the stored value; the WHERE makes an identical row a no-op */
    [Q_PUT_ITEM] = "INSERT INTO items(" ITEM_COLS ") VALUES (" ITEM_VALS ")"
                   " ON CONFLICT(ext_id) DO UPDATE SET type = excluded.type,"
                   " title = coalesce($3, items.title), authors = coalesce($4, items.authors),"
                   " subjects = coalesce($5, items.subjects), year = coalesce($6, items.year),"
                   " language = coalesce($7, items.language), format = coalesce($8, items.format),"
                   " added = coalesce($9, items.added), copies = coalesce($10, items.copies),"
                   " available = coalesce($11, items.available), extra = coalesce($12, items.extra)"
                   " WHERE items.type IS DISTINCT FROM excluded.type"
                   " OR items.title IS DISTINCT FROM coalesce($3, items.title)"
                   " OR items.authors IS DISTINCT FROM coalesce($4, items.authors)"
                   " OR items.subjects IS DISTINCT FROM coalesce($5, items.subjects)"
                   " OR items.year IS DISTINCT FROM coalesce($6, items.year)"
                   " OR items.language IS DISTINCT FROM coalesce($7, items.language)"
                   " OR items.format IS DISTINCT FROM coalesce($8, items.format)"
                   " OR items.added IS DISTINCT FROM coalesce($9, items.added)"
                   " OR items.copies IS DISTINCT FROM coalesce($10, items.copies)"
                   " OR items.available IS DISTINCT FROM coalesce($11, items.available)"
                   " OR items.extra IS DISTINCT FROM coalesce($12, items.extra) RETURNING id",
    [Q_REPLACE_ITEM] =
        "INSERT INTO items(" ITEM_COLS ") VALUES (" ITEM_VALS ")"
        " ON CONFLICT(ext_id) DO UPDATE SET type = excluded.type, title = $3, authors = $4,"
        " subjects = $5, year = $6, language = $7, format = $8, added = $9, copies = $10,"
        " available = $11, extra = $12"
        " WHERE (items.type, items.title, items.authors, items.subjects, items.year,"
        " items.language, items.format, items.added, items.copies, items.available, items.extra)"
        " IS DISTINCT FROM (excluded.type, excluded.title, excluded.authors, excluded.subjects,"
        " excluded.year, excluded.language, excluded.format, excluded.added, excluded.copies,"
        " excluded.available, excluded.extra) RETURNING id",
    [Q_PUT_USER] =
        "INSERT INTO users(ext_id, attrs, personalize, created) VALUES ($1, $2, coalesce($3, 1),"
        " $4) ON CONFLICT(ext_id) DO UPDATE SET attrs = coalesce($2, users.attrs),"
        " personalize = coalesce($3, users.personalize), created = coalesce($4, users.created)"
        " WHERE users.attrs IS DISTINCT FROM coalesce($2, users.attrs)"
        " OR users.personalize IS DISTINCT FROM coalesce($3, users.personalize)"
        " OR users.created IS DISTINCT FROM coalesce($4, users.created) RETURNING id",
    [Q_REPLACE_USER] =
        "INSERT INTO users(ext_id, attrs, personalize, created) VALUES ($1, $2, coalesce($3, 1),"
        " $4) ON CONFLICT(ext_id) DO UPDATE SET attrs = $2, personalize = coalesce($3, 1),"
        " created = $4 WHERE (users.attrs, users.personalize, users.created) IS DISTINCT FROM"
        " (excluded.attrs, excluded.personalize, excluded.created) RETURNING id",
    [Q_EV_INSERT] = "INSERT INTO events(user_id, item_id, type_id, ts, value, device, channel,"
                    " branch, session) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
                    " ON CONFLICT DO NOTHING",
    [Q_EV_UPDATE] = "UPDATE events SET value = $5, device = $6, channel = $7, branch = $8,"
                    " session = $9 WHERE user_id = $1 AND item_id = $2 AND type_id = $3"
                    " AND ts = $4 AND (value, device, channel, branch, session) IS DISTINCT FROM"
                    " ($5::float8, $6::text, $7::text, $8::text, $9::text)",
    [Q_GET_META] = "SELECT value FROM meta WHERE key = $1",
    [Q_SET_META] = "INSERT INTO meta(key, value) VALUES ($1, $2)"
                   " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
    [Q_USER_FIND] = "SELECT id, personalize FROM users WHERE ext_id = $1",
    [Q_USER_EVENTS] = "SELECT i.ext_id, t.name, e.value, e.ts, e.device, e.channel, e.branch"
                      " FROM events e"
                      " JOIN items i ON i.id = e.item_id JOIN event_types t ON t.id = e.type_id"
                      " WHERE e.user_id = $1 ORDER BY e.item_id",
    [Q_KEY_GET] = "SELECT hash, role, \"user\", revoked FROM api_keys WHERE id = $1",
    [Q_GET_ITEM] = "SELECT " ITEM_COLS " FROM items WHERE ext_id = $1",
    [Q_GET_USER] = "SELECT ext_id, attrs, personalize, created FROM users WHERE ext_id = $1",
    /* attrs that are not a JSON object read as none (SQLite: json_valid) */
    [Q_USER_ATTR] =
        "SELECT CASE WHEN jsonb_typeof(a -> $2::text) IN ('object', 'array')"
        " THEN (a -> $2::text)::text WHEN jsonb_typeof(a -> $2::text) = 'boolean'"
        " THEN CASE WHEN (a ->> $2::text)::boolean THEN '1' ELSE '0' END ELSE a ->> $2::text END"
        " FROM (SELECT tl_json(attrs) AS a FROM users WHERE ext_id = $1) u"
        " WHERE jsonb_typeof(a) = 'object'",
    [Q_IDEM_GET] = "SELECT hash, status, body FROM idempotency_keys"
                   " WHERE scope = $1 AND key = $2 AND created >= $3",
    [Q_IDEM_PUT] = "INSERT INTO idempotency_keys(scope, key, hash, status, body, created)"
                   " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (scope, key) DO UPDATE SET"
                   " hash = excluded.hash, status = excluded.status, body = excluded.body,"
                   " created = excluded.created",
    [Q_SEARCH_INSERT] = "INSERT INTO searches(user_id, query, ts) VALUES ($1, $2, $3)"
                        " ON CONFLICT DO NOTHING RETURNING id",
    [Q_SEARCH_FIND] = "SELECT id FROM searches WHERE coalesce(user_id, 0) = coalesce($1::bigint, 0)"
                      " AND query = $2 AND ts = $3",
    [Q_CLICKS_GET] = "SELECT item_id FROM search_clicks WHERE search_id = $1 ORDER BY rank",
    [Q_CLICKS_DEL] = "DELETE FROM search_clicks WHERE search_id = $1",
    [Q_CLICK_INSERT] = "INSERT INTO search_clicks(search_id, rank, item_id) VALUES ($1, $2, $3)",
};

/* Runs the cached statement q. */
static tl_err run_q(tl_store *st, int q, const tl_pg_args *a, PGresult **res)
{
    return tl__pg_prepared(st, q, sql_text[q], a, res);
}

/* ---- transactions ---- */

static void load_reset(pg_store *s)
{
    s->load_tried = s->loading = s->in_load = 0;
    tl_la_free((float *)s->seen);
    s->seen = NULL;
}

static void pg_close(tl_store *st)
{
    pg_store *s = pg(st);
    tl__pg_ids_reset(&s->ids);
    load_reset(s);
    for (int k = 0; k < TL_ID_NKINDS; k++)
        tl_intern_release(&s->ids.kind[k].names);
    if (s->conn)
        PQfinish(s->conn);
    tl__store_release(st);
    free(s);
}

static tl_err pg_begin(tl_store *st)
{
    pg(st)->merging = 0;
    load_reset(pg(st));
    tl__pg_ids_reset(&pg(st)->ids);
    /* writers one at a time, as SQLite's BEGIN IMMEDIATE: ids are found and then created */
    return tl__pg_query(
        st, st->readonly ? "BEGIN" : "BEGIN; SELECT pg_advisory_xact_lock(" WRITE_LOCK ")", NULL,
        NULL);
}

static tl_err pg_commit(tl_store *st)
{
    pg_store *s = pg(st);
    /* delivered to every listener when (and only if) the commit succeeds */
    tl_err rc = s->loading ? end_load(st) : TL_OK;
    if (rc == TL_OK && !st->readonly)
        rc = tl__pg_query(st, "NOTIFY " CHANNEL, NULL, NULL);
    if (rc == TL_OK && (rc = tl__pg_query(st, "COMMIT", NULL, NULL)) == TL_OK && !st->readonly) {
        s->writes++;
        atomic_fetch_add_explicit(&process_writes, 1, memory_order_release);
    }
    tl__pg_ids_reset(&s->ids);
    load_reset(s);
    return rc;
}

static tl_err pg_rollback(tl_store *st)
{
    tl__pg_ids_reset(&pg(st)->ids); /* what was not written yet never will be */
    load_reset(pg(st));             /* the key and the trigger come back with the rollback */
    if (PQtransactionStatus(pg(st)->conn) == PQTRANS_IDLE)
        return TL_OK;
    return tl__pg_query(st, "ROLLBACK", NULL, NULL);
}

/* ---- ids and records ---- */

/* Runs q, whose one row (if any) holds an id in column 0: *id = it, or 0 without a row. */
static tl_err id_of(tl_store *st, int q, const tl_pg_args *a, int64_t *id)
{
    PGresult *r = NULL;
    tl_err rc = run_q(st, q, a, &r);
    if (rc != TL_OK)
        return rc;
    *id = PQntuples(r) ? tl__pg_i64(r, 0, 0) : 0;
    PQclear(r);
    return TL_OK;
}

static tl_err pg_find_id(tl_store *st, tl_id_kind k, const char *ext, size_t len, int64_t *id)
{
    static const int qs[] = {Q_FIND_USER, Q_FIND_ITEM, Q_FIND_TYPE};
    tl_pg_args a = {0};
    int done = 0;
    tl_err rc = st->in_txn ? tl__pg_ids_find(st, &pg(st)->ids, k, ext, len, id, &done) : TL_OK;
    if (rc != TL_OK || done)
        return rc;
    tl__pg_text(&a, ext, len);
    return id_of(st, qs[k], &a, id);
}

static tl_err pg_create_id(tl_store *st, tl_id_kind k, const char *ext, size_t len, int64_t *id)
{
    static const int qs[] = {Q_NEW_USER, Q_NEW_ITEM, Q_NEW_TYPE};
    tl_pg_args a = {0};
    int done = 0;
    tl_err rc = tl__pg_ids_create(st, &pg(st)->ids, k, ext, len, id, &done);
    if (rc != TL_OK || done)
        return rc;
    tl__pg_text(&a, ext, len);
    return id_of(st, qs[k], &a, id);
}

/* An upsert returning the id when it wrote; else the record was as asked: its id is found. */
static tl_err upsert(tl_store *st, int q, tl_id_kind k, const tl_pg_args *a, const char *ext,
                     size_t len, int64_t *id, int *changed)
{
    tl_err rc = id_of(st, q, a, id);
    if (rc != TL_OK)
        return rc;
    *changed = *id != 0;
    if (!*id && (rc = pg_find_id(st, k, ext, len, id)) != TL_OK)
        return rc;
    return tl__pg_ids_note(&pg(st)->ids, k, ext, len, *id);
}

static tl_err write_item(tl_store *st, int q, const tl_item_rec *r, int64_t *id, int *changed)
{
    tl_pg_args a = {0};
    tl__pg_text(&a, r->id, r->id_len);
    tl__pg_str(&a, r->type);
    tl__pg_str(&a, r->title);
    tl__pg_str(&a, r->authors);
    tl__pg_str(&a, r->subjects);
    tl__pg_opt(&a, r->year);
    tl__pg_str(&a, r->language);
    tl__pg_str(&a, r->format);
    tl__pg_opt(&a, r->added);
    tl__pg_opt(&a, r->copies);
    tl__pg_opt(&a, r->available);
    tl__pg_str(&a, r->extra);
    return upsert(st, q, TL_ID_ITEM, &a, r->id, r->id_len, id, changed);
}

static tl_err pg_put_item(tl_store *st, const tl_item_rec *r, int64_t *id, int *changed)
{
    return write_item(st, Q_PUT_ITEM, r, id, changed);
}

static tl_err pg_replace_item(tl_store *st, const tl_item_rec *r, int64_t *id, int *changed)
{
    return write_item(st, Q_REPLACE_ITEM, r, id, changed);
}

static tl_err write_user(tl_store *st, int q, const tl_user_rec *r, int64_t *id, int *changed)
{
    tl_pg_args a = {0};
    tl__pg_text(&a, r->id, r->id_len);
    tl__pg_str(&a, r->attrs);
    if (r->personalize < 0)
        tl__pg_null(&a);
    else
        tl__pg_int(&a, r->personalize);
    tl__pg_opt(&a, r->created);
    return upsert(st, q, TL_ID_USER, &a, r->id, r->id_len, id, changed);
}

static tl_err pg_put_user(tl_store *st, const tl_user_rec *r, int64_t *id, int *changed)
{
    return write_user(st, Q_PUT_USER, r, id, changed);
}

static tl_err pg_replace_user(tl_store *st, const tl_user_rec *r, int64_t *id, int *changed)
{
    return write_user(st, Q_REPLACE_USER, r, id, changed);
}

static void event_args(tl_pg_args *a, const tl_store_event *e)
{
    tl__pg_int(a, e->user);
    tl__pg_int(a, e->item);
    tl__pg_int(a, e->type);
    tl__pg_int(a, e->ts);
    if (e->has_value)
        tl__pg_real(a, e->value);
    else
        tl__pg_null(a);
    tl__pg_str(a, e->device);
    tl__pg_str(a, e->channel);
    tl__pg_str(a, e->branch);
    tl__pg_str(a, e->session);
}

static tl_err pg_put_event(tl_store *st, const tl_store_event *e, tl_put *what)
{
    tl_pg_args a = {0};
    PGresult *r = NULL;
    event_args(&a, e);
    tl_err rc = run_q(st, Q_EV_INSERT, &a, &r);
    if (rc != TL_OK)
        return rc;
    long long n = tl__pg_changes(r);
    PQclear(r);
    if (n) {
        *what = TL_PUT_ADDED;
        return TL_OK;
    }
    /* the key exists: only a different value or context is written */
    if ((rc = run_q(st, Q_EV_UPDATE, &a, &r)) != TL_OK)
        return rc;
    *what = tl__pg_changes(r) ? TL_PUT_UPDATED : TL_PUT_UNCHANGED;
    PQclear(r);
    return TL_OK;
}

/* ---- bulk events: COPY into a temporary table, then one merge ---- */

typedef struct copy_buf {
    char *p;
    size_t len, cap;
} copy_buf;

static int buf_grow(copy_buf *b, size_t more)
{
    if (b->len + more <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : COPY_CHUNK * 2;
    while (cap < b->len + more)
        cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p)
        return -1;
    b->p = p;
    b->cap = cap;
    return 0;
}

/* COPY's binary format (no printing on this side, no parsing on the server's): a header, per
 * row a field count and each field as its length (-1: NULL) and network-order bytes. */
static const char copy_header[19] = "PGCOPY\n\377\r\n\0\0\0\0\0\0\0\0\0";

static char *put_be(char *o, uint64_t v, int bytes)
{
    for (int i = bytes - 1; i >= 0; i--, v >>= 8)
        o[i] = (char)(v & 0xff);
    return o + bytes;
}

static char *put_i64(char *o, int64_t v)
{
    return put_be(put_be(o, 8, 4), (uint64_t)v, 8);
}

static int put_text(copy_buf *b, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n > INT32_MAX || buf_grow(b, n + 4))
        return -1;
    char *o = put_be(b->p + b->len, s ? (uint32_t)n : UINT32_MAX, 4);
    memcpy(o, s ? s : "", n);
    b->len += n + 4;
    return 0;
}

static int put_event_row(copy_buf *b, const tl_store_event *e)
{
    if (buf_grow(b, sizeof(copy_header) + 2 + 5 * 12))
        return -1;
    if (!b->len) {
        memcpy(b->p, copy_header, sizeof(copy_header));
        b->len = sizeof(copy_header);
    }
    char *o = put_be(b->p + b->len, 9, 2); /* the fields of EV_COLS */
    o = put_i64(put_i64(put_i64(put_i64(o, e->user), e->item), e->type), e->ts);
    if (e->has_value) {
        uint64_t bits;
        memcpy(&bits, &e->value, sizeof(bits));
        o = put_be(put_be(o, 8, 4), bits, 8);
    } else
        o = put_be(o, UINT32_MAX, 4);
    b->len = (size_t)(o - b->p);
    return put_text(b, e->device) || put_text(b, e->channel) || put_text(b, e->branch) ||
                   put_text(b, e->session)
               ? -1
               : 0;
}

/* Ends the rows of b (the binary trailer). */
static int put_end(copy_buf *b)
{
    if (buf_grow(b, sizeof(copy_header) + 2))
        return -1;
    if (!b->len) {
        memcpy(b->p, copy_header, sizeof(copy_header));
        b->len = sizeof(copy_header);
    }
    put_be(b->p + b->len, 0xffff, 2);
    b->len += 2;
    return 0;
}

typedef struct ev_key {
    int64_t user, item, type, ts;
} ev_key;

static int cmp_key(const void *a, const void *b)
{
    const ev_key *x = a, *y = b;
#define CMP1(f)                                                                                    \
    if (x->f != y->f)                                                                              \
        return x->f < y->f ? -1 : 1;
    CMP1(user)
    CMP1(item)
    CMP1(type)
    CMP1(ts)
#undef CMP1
    return 0;
}

static int same_key(const tl_store_event *a, const tl_store_event *b)
{
    return a->user == b->user && a->item == b->item && a->type == b->type && a->ts == b->ts;
}

/* Whether e[0..n), in (user, item) order with short runs of one pair (as the import writes its
 * batches), repeats no key: 1 yes, 0 no, -1 not in that order (sort to know). */
static int distinct_in_order(const tl_store_event *e, int n)
{
    for (int i = 1, run = 0; i < n; i++) {
        const tl_store_event *a = &e[i - 1], *b = &e[i];
        if (a->user > b->user || (a->user == b->user && a->item > b->item))
            return -1;
        run = a->user == b->user && a->item == b->item ? run + 1 : 0;
        if (run > 64)
            return -1;
        for (int j = i - run; j < i; j++)
            if (same_key(&e[j], b))
                return 0;
    }
    return 1;
}

/* How many distinct keys e[0..n) has (-1: out of memory). */
static int distinct_keys(const tl_store_event *e, int n)
{
    int in_order = distinct_in_order(e, n);
    if (in_order == 1)
        return n;
    ev_key *k = malloc((size_t)(n ? n : 1) * sizeof(*k));
    if (!k)
        return -1;
    for (int i = 0; i < n; i++)
        k[i] = (ev_key){e[i].user, e[i].item, e[i].type, e[i].ts};
    qsort(k, (size_t)n, sizeof(*k), cmp_key);
    int d = n > 0;
    for (int i = 1; i < n; i++)
        d += cmp_key(&k[i - 1], &k[i]) != 0;
    free(k);
    return d;
}

tl_err tl__pg_copy_in(tl_store *st, const char *sql, const char *data, size_t len)
{
    PGconn *c = pg(st)->conn;
    tl_err rc = tl__pg_query(st, sql, NULL, NULL);
    if (rc != TL_OK)
        return rc;
    int ok = 1;
    for (size_t off = 0; off < len && ok; off += COPY_CHUNK) {
        size_t n = len - off < COPY_CHUNK ? len - off : COPY_CHUNK;
        ok = PQputCopyData(c, data + off, (int)n) == 1;
    }
    if (PQputCopyEnd(c, ok ? NULL : "the client stopped") != 1)
        return fail_msg(st, PQerrorMessage(c));
    PGresult *r = NULL;
    while ((r = PQgetResult(c)) != NULL) {
        if (rc == TL_OK && PQresultStatus(r) != PGRES_COMMAND_OK)
            rc = fail_msg(st, PQresultErrorMessage(r));
        PQclear(r);
    }
    return rc;
}

/* Sends b's rows to the COPY that sql starts, and ends it. */
static tl_err copy_send(tl_store *st, copy_buf *b, const char *sql)
{
    return tl__pg_copy_in(st, sql, b->p, b->len);
}

#define EV_COLS "user_id, item_id, type_id, ts, value, device, channel, branch, session"

/* The first bulk write of a transaction goes straight into events with COPY: the fast path of
 * an import of new events. Where it meets a key that exists it is undone (a savepoint) and this
 * transaction merges from then on. */
static tl_err copy_direct(tl_store *st, copy_buf *b, int *done)
{
    pg_store *s = pg(st);
    *done = 0;
    tl_err rc = tl__pg_query(st, "SAVEPOINT tl_bulk", NULL, NULL);
    if (rc != TL_OK)
        return rc;
    if (copy_send(st, b, "COPY events(" EV_COLS ") FROM STDIN (FORMAT binary)") == TL_OK) {
        *done = 1;
        return tl__pg_query(st, "RELEASE SAVEPOINT tl_bulk", NULL, NULL);
    }
    s->merging = 1;
    return tl__pg_query(st, "ROLLBACK TO SAVEPOINT tl_bulk; RELEASE SAVEPOINT tl_bulk", NULL, NULL);
}

/* Events of the batch (in the temporary table) into events: new keys inserted, existing ones
 * updated where their value or context differ; the last of a key's events in the batch is the
 * one that stays (file order). */
static tl_err merge(tl_store *st, copy_buf *b, int dups, int distinct, long long *added,
                    long long *updated)
{
    pg_store *s = pg(st);
    tl_err rc = TL_OK;
    if (!s->staged &&
        (rc = tl__pg_query(st,
                           "CREATE TEMP TABLE IF NOT EXISTS tl_events_in(seq BIGINT GENERATED"
                           " ALWAYS AS IDENTITY, user_id BIGINT, item_id BIGINT, type_id BIGINT,"
                           " ts BIGINT, value DOUBLE PRECISION, device TEXT, channel TEXT,"
                           " branch TEXT, session TEXT) ON COMMIT DELETE ROWS",
                           NULL, NULL)) != TL_OK)
        return rc;
    s->staged = 1;
    const char *src = dups ? "(SELECT DISTINCT ON (user_id, item_id, type_id, ts) * FROM"
                             " tl_events_in ORDER BY user_id, item_id, type_id, ts, seq DESC)"
                           : "tl_events_in";
    char sql[1024];
    PGresult *r = NULL;
    if ((rc = tl__pg_query(st, "TRUNCATE tl_events_in RESTART IDENTITY", NULL, NULL)) != TL_OK ||
        (rc = copy_send(st, b, "COPY tl_events_in(" EV_COLS ") FROM STDIN (FORMAT binary)")) !=
            TL_OK)
        return rc;
    snprintf(sql, sizeof(sql),
             "INSERT INTO events(" EV_COLS ") SELECT " EV_COLS " FROM %s s ON CONFLICT DO NOTHING",
             src);
    if ((rc = tl__pg_query(st, sql, NULL, &r)) != TL_OK)
        return rc;
    long long ins = tl__pg_changes(r);
    PQclear(r);
    *added += ins;
    if (ins == distinct)
        return TL_OK; /* all new: nothing to compare */
    /* some keys existed: write those whose value or context differ (a row inserted just now
     * equals itself) */
    snprintf(sql, sizeof(sql),
             "UPDATE events e SET value = s.value, device = s.device, channel = s.channel,"
             " branch = s.branch, session = s.session FROM %s s"
             " WHERE e.user_id = s.user_id AND e.item_id = s.item_id AND e.type_id = s.type_id"
             " AND e.ts = s.ts AND (e.value, e.device, e.channel, e.branch, e.session)"
             " IS DISTINCT FROM (s.value, s.device, s.channel, s.branch, s.session)",
             src);
    r = NULL;
    if ((rc = tl__pg_query(st, sql, NULL, &r)) == TL_OK)
        *updated += tl__pg_changes(r);
    PQclear(r);
    return rc;
}

/* ---- bulk load into an empty events table ----
 * Into an empty table a large import COPYs without the primary key and the foreign-key trigger
 * and builds the key once at the end (one sort instead of a B-tree descent per row, 40% of the
 * server's time) and checks the foreign keys once over the table (the trigger's transition
 * tables and hashes per batch cost 18%). Both are off only inside this transaction (ALTER TABLE
 * is rolled back with it); readers of events wait for its commit. Keys must stay unique
 * meanwhile: a Bloom filter of the keys loaded so far sends a batch that may repeat one (or
 * repeats one itself) to the ordinary path after the key is built, which merges as before. */

#define LOAD_MIN 10000         /* events in a batch for a bulk load to be worth it */
#define SEEN_BLOCKS (1u << 19) /* 512-bit blocks: 32 MiB, few false hits below 10^7 keys */
#define SEEN_WORDS (SEEN_BLOCKS * 8u)

static uint64_t key_hash(const tl_store_event *e)
{
    uint64_t h = (uint64_t)e->user * 0x9E3779B97F4A7C15u;
    h = (h ^ (uint64_t)e->item) * 0xBF58476D1CE4E5B9u;
    h = (h ^ (uint64_t)e->type) * 0x94D049BB133111EBu;
    h = (h ^ (uint64_t)e->ts) * 0x9E3779B97F4A7C15u;
    return h ^ (h >> 31);
}

/* Whether e's key may have been loaded (set: and note it). 8 bits in one 512-bit block. */
static int seen_test(const uint64_t *f, uint64_t h)
{
    const uint64_t *blk = f + (h % SEEN_BLOCKS) * 8;
    uint64_t g = h / SEEN_BLOCKS * 0xD6E8FEB86659FD93u;
    for (int j = 0; j < 8; j++, g = g * 0xD6E8FEB86659FD93u + 1) {
        unsigned bit = (unsigned)(g >> 55); /* 0..511 */
        if (!(blk[bit / 64] >> (bit % 64) & 1))
            return 0;
    }
    return 1;
}

static void seen_set(uint64_t *f, uint64_t h)
{
    uint64_t *blk = f + (h % SEEN_BLOCKS) * 8;
    uint64_t g = h / SEEN_BLOCKS * 0xD6E8FEB86659FD93u;
    for (int j = 0; j < 8; j++, g = g * 0xD6E8FEB86659FD93u + 1) {
        unsigned bit = (unsigned)(g >> 55);
        blk[bit / 64] |= (uint64_t)1 << (bit % 64);
    }
}

/* Starts a bulk load when events is empty (once per transaction). */
static tl_err start_load(tl_store *st)
{
    pg_store *s = pg(st);
    PGresult *r = NULL;
    s->load_tried = 1;
    tl_err rc = tl__pg_query(st, "SELECT NOT EXISTS (SELECT 1 FROM events)", NULL, &r);
    int empty = rc == TL_OK && PQntuples(r) == 1 && PQgetvalue(r, 0, 0)[0] == 't';
    PQclear(r);
    if (rc != TL_OK || !empty)
        return rc;
    /* the table to itself only if nobody reads it now: a reader is never made to wait for the
     * lock's turn, nor the import for the reader (the ordinary path blocks nobody) */
    if ((rc = tl__pg_query(st, "SAVEPOINT tl_load", NULL, NULL)) != TL_OK)
        return rc;
    if (tl__pg_query(st, "LOCK TABLE events IN ACCESS EXCLUSIVE MODE NOWAIT", NULL, NULL) != TL_OK)
        return tl__pg_query(st, "ROLLBACK TO SAVEPOINT tl_load; RELEASE SAVEPOINT tl_load", NULL,
                            NULL);
    if ((rc = tl__pg_query(st, "RELEASE SAVEPOINT tl_load", NULL, NULL)) != TL_OK)
        return rc;
    /* zeroed, on huge pages where the system gives them: a key's block misses the TLB less */
    if (!(s->seen = (uint64_t *)tl_la_alloc(SEEN_WORDS * 2)))
        return TL_ENOMEM;
    rc = tl__pg_query(st,
                      /* dropped, not disabled: the rows of a disabled trigger's transition
                       * table are still kept (a tuplestore written to disk) */
                      "ALTER TABLE events DROP CONSTRAINT events_pkey;"
                      " DROP TRIGGER events_fk_insert ON events",
                      NULL, NULL);
    s->loading = rc == TL_OK;
    return rc;
}

/* Builds the primary key (its rows are unique: the filter saw to it), puts the trigger back (as
 * pg_schema.c creates it) and checks the loaded rows' foreign keys once. Where a table's ids in
 * the events' range are all there (count = max - min + 1: the usual case of ids from a
 * sequence), the range proves it without probing each row. */
static tl_err end_load(tl_store *st)
{
    pg_store *s = pg(st);
    s->loading = 0;
    tl_la_free((float *)s->seen);
    s->seen = NULL;
    /* one process per import, as elsewhere: parallel workers' CPU would be no cheaper; the
     * key's sort in memory up to ~5 million rows (the default 64 MB spills from 700,000) */
    return tl__pg_query(
        st,
        "SET LOCAL max_parallel_maintenance_workers = 0;"
        "SET LOCAL maintenance_work_mem = '512MB';"
        "ALTER TABLE events ADD CONSTRAINT events_pkey PRIMARY KEY (user_id, item_id, type_id, ts);"
        "CREATE TRIGGER events_fk_insert AFTER INSERT ON events REFERENCING NEW TABLE AS tl_new"
        " FOR EACH STATEMENT EXECUTE FUNCTION tl_events_fk();"
        "DO $$ DECLARE r record; BEGIN"
        " SELECT min(user_id) u0, max(user_id) u1, min(item_id) i0, max(item_id) i1,"
        "  min(type_id) t0, max(type_id) t1 INTO r FROM events;"
        " IF r.u0 IS NOT NULL AND NOT ("
        "  (SELECT count(*) = r.u1 - r.u0 + 1 FROM users WHERE id BETWEEN r.u0 AND r.u1) AND"
        "  (SELECT count(*) = r.i1 - r.i0 + 1 FROM items WHERE id BETWEEN r.i0 AND r.i1) AND"
        "  (SELECT count(*) = r.t1 - r.t0 + 1 FROM event_types WHERE id BETWEEN r.t0 AND r.t1))"
        " AND EXISTS (SELECT 1 FROM events n WHERE NOT EXISTS (SELECT 1 FROM users u"
        "  WHERE u.id = n.user_id) OR NOT EXISTS (SELECT 1 FROM items i WHERE i.id = n.item_id)"
        "  OR NOT EXISTS (SELECT 1 FROM event_types t WHERE t.id = n.type_id)) THEN"
        " RAISE foreign_key_violation USING MESSAGE = 'FOREIGN KEY constraint failed:"
        " an event names a user, item or event type that does not exist';"
        " END IF; END $$;"
        "RESET max_parallel_maintenance_workers; RESET maintenance_work_mem",
        NULL, NULL);
}

/* Loads b (e's n distinct keys) when a bulk load runs and none of its keys may be loaded
 * already; ends the load otherwise. *done: loaded. */
static tl_err load_batch(tl_store *st, const tl_store_event *e, int n, copy_buf *b, int *done)
{
    pg_store *s = pg(st);
    *done = 0;
    uint64_t *h = malloc((size_t)n * sizeof(*h));
    if (!h)
        return TL_ENOMEM;
    for (int i = 0; i < n; i++)
        h[i] = key_hash(&e[i]);
    /* test and note in one pass (a batch that may repeat a key ends the load, and the filter
     * with it); the blocks of keys ahead are fetched meanwhile */
    int hit = 0;
    for (int i = 0; i < n && !hit; i++) {
        if (i + 32 < n)
            __builtin_prefetch(s->seen + (h[i + 32] % SEEN_BLOCKS) * 8, 1);
        hit = seen_test(s->seen, h[i]);
        seen_set(s->seen, h[i]);
    }
    free(h);
    if (hit)
        return end_load(st);
    s->in_load = 1;
    tl_err rc = copy_send(st, b, "COPY events(" EV_COLS ") FROM STDIN (FORMAT binary)");
    s->in_load = 0;
    *done = rc == TL_OK;
    return rc;
}

static tl_err pg_put_events(tl_store *st, const tl_store_event *e, int n, long long *added,
                            long long *updated)
{
    pg_store *s = pg(st);
    copy_buf b = {0};
    int distinct = distinct_keys(e, n), done = 0;
    tl_err rc = distinct < 0 ? TL_ENOMEM : TL_OK;
    for (int i = 0; i < n && rc == TL_OK; i++)
        if (put_event_row(&b, &e[i]))
            rc = TL_ENOMEM;
    if (rc == TL_OK && put_end(&b))
        rc = TL_ENOMEM;
    if (rc == TL_OK && !s->merging && !s->load_tried && distinct == n && n >= LOAD_MIN)
        rc = start_load(st);
    if (rc == TL_OK && s->loading)
        rc = distinct == n ? load_batch(st, e, n, &b, &done) : end_load(st);
    if (done)
        *added += n;
    /* keys repeated within the batch: only a merge keeps the last */
    if (rc == TL_OK && !done && !s->merging && distinct == n &&
        (rc = copy_direct(st, &b, &done)) == TL_OK && done)
        *added += n;
    if (rc == TL_OK && !done)
        rc = merge(st, &b, distinct != n, distinct, added, updated);
    free(b.p);
    return rc;
}

/* ---- searches ---- */

static void search_key(tl_pg_args *a, int64_t user, const tl_search_rec *r)
{
    if (user)
        tl__pg_int(a, user);
    else
        tl__pg_null(a);
    tl__pg_str(a, r->query);
    tl__pg_int(a, r->ts);
}

static tl_err insert_clicks(tl_store *st, int64_t sid, const int64_t *items, int n)
{
    tl_err rc = TL_OK;
    for (int i = 0; i < n && rc == TL_OK; i++) {
        tl_pg_args a = {0};
        tl__pg_int(&a, sid);
        tl__pg_int(&a, i + 1);
        tl__pg_int(&a, items[i]);
        rc = run_q(st, Q_CLICK_INSERT, &a, NULL);
    }
    return rc;
}

static tl_err pg_put_search(tl_store *st, int64_t user, const tl_search_rec *r,
                            const int64_t *items, tl_put *what)
{
    tl_pg_args a = {0};
    int64_t sid = 0;
    search_key(&a, user, r);
    tl_err rc = id_of(st, Q_SEARCH_INSERT, &a, &sid);
    if (rc != TL_OK)
        return rc;
    if (sid) {
        *what = TL_PUT_ADDED;
        return insert_clicks(st, sid, items, r->nclicked);
    }
    if ((rc = id_of(st, Q_SEARCH_FIND, &a, &sid)) != TL_OK)
        return rc;
    /* same clicks in the same order: nothing to write */
    tl_pg_args k = {0};
    PGresult *res;
    tl__pg_int(&k, sid);
    if ((rc = run_q(st, Q_CLICKS_GET, &k, &res)) != TL_OK)
        return rc;
    int n = PQntuples(res), same = n == r->nclicked;
    for (int i = 0; i < n && same; i++)
        same = tl__pg_i64(res, i, 0) == items[i];
    PQclear(res);
    if (same) {
        *what = TL_PUT_UNCHANGED;
        return TL_OK;
    }
    if ((rc = run_q(st, Q_CLICKS_DEL, &k, NULL)) != TL_OK)
        return rc;
    *what = TL_PUT_UPDATED;
    return insert_clicks(st, sid, items, r->nclicked);
}

/* ---- reads ---- */

static tl_err pg_count(tl_store *st, tl_store_counts *out)
{
    PGresult *r = NULL;
    tl_err rc = tl__pg_query(st,
                             "SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM items),"
                             " (SELECT count(*) FROM events), (SELECT count(*) FROM searches),"
                             " (SELECT count(*) FROM event_types),"
                             " (SELECT count(*) FROM (SELECT DISTINCT user_id, item_id"
                             " FROM events) p)",
                             NULL, &r);
    if (rc != TL_OK)
        return rc;
    out->users = tl__pg_i64(r, 0, 0);
    out->items = tl__pg_i64(r, 0, 1);
    out->events = tl__pg_i64(r, 0, 2);
    out->searches = tl__pg_i64(r, 0, 3);
    out->event_types = tl__pg_i64(r, 0, 4);
    out->pairs = tl__pg_i64(r, 0, 5);
    PQclear(r);
    return TL_OK;
}

/* Runs sql and calls fn with columns (key, label, count) of each row. The whole result is read
 * first: fn may use the store. */
static tl_err rows(tl_store *st, const char *sql, const tl_pg_args *a, tl_store_row_fn fn,
                   void *ctx)
{
    PGresult *r = NULL;
    tl_err rc = tl__pg_query(st, sql, a, &r);
    for (int i = 0; rc == TL_OK && i < PQntuples(r); i++)
        rc = fn(ctx, tl__pg_s(r, i, 0), tl__pg_s(r, i, 1), tl__pg_i64(r, i, 2));
    PQclear(r);
    return rc;
}

static tl_err pg_events_by_type(tl_store *st, tl_store_row_fn fn, void *ctx)
{
    return rows(st,
                "SELECT t.name, NULL, c.n FROM (SELECT type_id, count(*) AS n FROM events"
                " GROUP BY type_id) c JOIN event_types t ON t.id = c.type_id"
                " ORDER BY c.n DESC, t.name",
                NULL, fn, ctx);
}

static tl_err pg_top_items(tl_store *st, int limit, tl_store_row_fn fn, void *ctx)
{
    tl_pg_args a = {0};
    tl__pg_int(&a, limit);
    return rows(st,
                "SELECT i.ext_id, i.title, c.n FROM (SELECT item_id, count(*) AS n"
                " FROM events GROUP BY item_id ORDER BY n DESC, item_id LIMIT $1) c"
                " JOIN items i ON i.id = c.item_id ORDER BY c.n DESC, c.item_id",
                &a, fn, ctx);
}

static tl_err pg_top_users(tl_store *st, int limit, tl_store_row_fn fn, void *ctx)
{
    tl_pg_args a = {0};
    tl__pg_int(&a, limit);
    return rows(st,
                "SELECT u.ext_id, NULL, c.n FROM (SELECT user_id, count(*) AS n"
                " FROM events GROUP BY user_id ORDER BY n DESC, user_id LIMIT $1) c"
                " JOIN users u ON u.id = c.user_id ORDER BY c.n DESC, c.user_id",
                &a, fn, ctx);
}

static tl_err pg_trending(tl_store *st, int64_t window, int limit, tl_store_row_fn fn, void *ctx)
{
    tl_pg_args a = {0};
    tl__pg_int(&a, window);
    tl__pg_int(&a, limit);
    return rows(st,
                "SELECT i.ext_id, NULL, c.n FROM (SELECT item_id, count(*) AS n FROM events"
                " WHERE ts >= (SELECT max(ts) FROM events) - $1"
                " GROUP BY item_id ORDER BY n DESC, item_id LIMIT $2) c"
                " JOIN items i ON i.id = c.item_id ORDER BY c.n DESC, c.item_id",
                &a, fn, ctx);
}

static tl_err pg_segment_top(tl_store *st, const char *attr, const char *value, int min, int limit,
                             tl_store_row_fn fn, void *ctx)
{
    tl_pg_args a = {0};
    tl__pg_str(&a, attr);
    tl__pg_str(&a, value);
    tl__pg_int(&a, limit);
    tl__pg_int(&a, min);
    return rows(st,
                "SELECT i.ext_id, NULL, c.n FROM (SELECT e.item_id, count(DISTINCT e.user_id)"
                " AS n FROM users u JOIN events e ON e.user_id = u.id"
                " WHERE u.attrs IS NOT NULL AND tl_json(u.attrs) ->> $1::text = $2::text"
                " GROUP BY e.item_id HAVING count(DISTINCT e.user_id) >= $4"
                " ORDER BY n DESC, e.item_id LIMIT $3) c"
                " JOIN items i ON i.id = c.item_id ORDER BY c.n DESC, c.item_id",
                &a, fn, ctx);
}

static tl_err pg_user_attr(tl_store *st, const char *user, const char *attr, char **out)
{
    tl_pg_args a = {0};
    PGresult *r = NULL;
    tl__pg_str(&a, user);
    tl__pg_str(&a, attr);
    *out = NULL;
    tl_err rc = run_q(st, Q_USER_ATTR, &a, &r);
    if (rc != TL_OK)
        return rc;
    if (PQntuples(r) && !PQgetisnull(r, 0, 0) && !(*out = strdup(PQgetvalue(r, 0, 0))))
        rc = TL_ENOMEM;
    PQclear(r);
    return rc;
}

static tl_err pg_item_counts_since(tl_store *st, int64_t since, tl_store_row_fn fn, void *ctx)
{
    tl_pg_args a = {0};
    tl__pg_int(&a, since);
    return rows(st,
                "SELECT i.ext_id, t.name, c.n FROM (SELECT item_id, type_id, count(*) AS n"
                " FROM events WHERE ts > $1 GROUP BY item_id, type_id) c"
                " JOIN items i ON i.id = c.item_id JOIN event_types t ON t.id = c.type_id",
                &a, fn, ctx);
}

static tl_err pg_events_since(tl_store *st, int64_t since, int limit, tl_store_row_fn fn, void *ctx,
                              int64_t *count)
{
    tl_pg_args a = {0};
    PGresult *r = NULL;
    tl__pg_int(&a, since);
    tl_err rc = tl__pg_query(st, "SELECT count(*) FROM events WHERE ts > $1", &a, &r);
    if (rc != TL_OK)
        return rc;
    *count = tl__pg_i64(r, 0, 0);
    PQclear(r);
    if (!fn || limit == 0)
        return TL_OK;
    tl__pg_int(&a, limit);
    return rows(st,
                "SELECT u.ext_id, i.ext_id, e.ts FROM events e JOIN users u ON u.id = e.user_id"
                " JOIN items i ON i.id = e.item_id WHERE e.ts > $1"
                " ORDER BY e.ts, u.ext_id COLLATE \"C\", i.ext_id COLLATE \"C\" LIMIT $2",
                &a, fn, ctx);
}

/* Another process's commits arrive as notifications on CHANNEL (LISTEN at the open); this
 * connection's own commits count too, as SQLite's data_version and total_changes do. */
static tl_err pg_changed(tl_store *st, int *changed)
{
    pg_store *s = pg(st);
    if (!PQconsumeInput(s->conn))
        return fail_msg(st, PQerrorMessage(s->conn));
    int heard = 0;
    PGnotify *n;
    while ((n = PQnotifies(s->conn)) != NULL) {
        heard = 1;
        PQfreemem(n);
    }
    uint64_t w = atomic_load_explicit(&process_writes, memory_order_acquire);
    *changed = heard || s->writes || !s->seen_first || w != s->seen_process_writes;
    s->seen_process_writes = w;
    s->seen_first = 1;
    s->writes = 0;
    return TL_OK;
}

static tl_err pg_get_meta(tl_store *st, const char *key, char **out)
{
    tl_pg_args a = {0};
    PGresult *r = NULL;
    tl__pg_str(&a, key);
    *out = NULL;
    tl_err rc = run_q(st, Q_GET_META, &a, &r);
    if (rc != TL_OK)
        return rc;
    if (PQntuples(r) && !(*out = strdup(PQgetvalue(r, 0, 0))))
        rc = TL_ENOMEM;
    PQclear(r);
    return rc;
}

static tl_err pg_set_meta(tl_store *st, const char *key, const char *value)
{
    tl_pg_args a = {0};
    tl__pg_str(&a, key);
    tl__pg_str(&a, value);
    return run_q(st, Q_SET_META, &a, NULL);
}

static tl_err pg_scan_items(tl_store *st, tl_scan_item_fn fn, void *ctx)
{
    PGresult *r = NULL;
    /* a series with a volume reaches the models as the title's "(Series, #N)", as in SQLite */
    tl_err rc = tl__pg_query(
        st,
        "SELECT i.id, i.ext_id,"
        " CASE WHEN d.series IS NULL OR d.series_volume IS NULL OR i.title IS NULL"
        " OR right(i.title, 1) = ')' THEN i.title"
        " ELSE i.title || ' (' || d.series || ', #' || CASE"
        " WHEN d.series_volume = trunc(d.series_volume)"
        " THEN CAST(CAST(d.series_volume AS BIGINT) AS TEXT)"
        " ELSE CAST(d.series_volume AS TEXT) END || ')' END,"
        " i.authors, i.subjects, i.year, i.language, i.added, i.type, i.format,"
        " i.available FROM items i LEFT JOIN item_details d ON d.item_id = i.id ORDER BY i.id",
        NULL, &r);
    for (int i = 0; rc == TL_OK && i < PQntuples(r); i++) {
        tl_store_item_row row = {
            .id = tl__pg_i64(r, i, 0),
            .ext = PQgetvalue(r, i, 1),
            .ext_len = (size_t)PQgetlength(r, i, 1),
            .title = tl__pg_s(r, i, 2),
            .authors = tl__pg_s(r, i, 3),
            .subjects = tl__pg_s(r, i, 4),
            .year = tl__pg_opt_col(r, i, 5),
            .language = tl__pg_s(r, i, 6),
            .added = tl__pg_opt_col(r, i, 7),
            .type = tl__pg_s(r, i, 8),
            .format = tl__pg_s(r, i, 9),
            .available = tl__pg_opt_col(r, i, 10),
        };
        rc = fn(ctx, &row);
    }
    PQclear(r);
    return rc;
}

static tl_err pg_scan_users(tl_store *st, tl_scan_user_fn fn, void *ctx)
{
    PGresult *r = NULL;
    tl_err rc =
        tl__pg_query(st, "SELECT id, ext_id, personalize, attrs FROM users ORDER BY id", NULL, &r);
    for (int i = 0; rc == TL_OK && i < PQntuples(r); i++)
        rc = fn(ctx, tl__pg_i64(r, i, 0), PQgetvalue(r, i, 1), (size_t)PQgetlength(r, i, 1),
                (int)tl__pg_i64(r, i, 2), tl__pg_s(r, i, 3));
    PQclear(r);
    return rc;
}

static tl_err pg_scan_types(tl_store *st, tl_scan_type_fn fn, void *ctx)
{
    PGresult *r = NULL;
    tl_err rc = tl__pg_query(st, "SELECT id, name FROM event_types ORDER BY id", NULL, &r);
    for (int i = 0; rc == TL_OK && i < PQntuples(r); i++)
        rc = fn(ctx, tl__pg_i64(r, i, 0), PQgetvalue(r, i, 1));
    PQclear(r);
    return rc;
}

/* One line of COPY's text output: user, item, type, value (\N), ts. */
static tl_err event_line(char *line, tl_scan_event_fn fn, void *ctx)
{
    char *p = line, *end;
    int64_t f[3];
    for (int k = 0; k < 3; k++) {
        f[k] = strtoll(p, &end, 10);
        p = end + 1;
    }
    int has_value = p[0] != '\\';
    double v = has_value ? strtod(p, &end) : 0.0;
    p = has_value ? end + 1 : p + 3;
    return fn(ctx, f[0], f[1], f[2], has_value, v, strtoll(p, NULL, 10));
}

/* Streams the events with COPY (no result of millions of rows in memory); fn must not use the
 * store (the model builders only collect). In key order, as SQLite's table is: weights add up
 * in the same order, and a model trained on either store is the same. */
static tl_err pg_scan_events(tl_store *st, tl_scan_event_fn fn, void *ctx)
{
    PGconn *c = pg(st)->conn;
    tl_err f = flush_ids(st);
    if (f != TL_OK)
        return f;
    PGresult *r = PQexec(c, "COPY (SELECT user_id, item_id, type_id, value, ts FROM events"
                            " ORDER BY user_id, item_id, type_id, ts) "
                            "TO STDOUT");
    if (PQresultStatus(r) != PGRES_COPY_OUT) {
        tl_err rc = fail_msg(st, PQresultErrorMessage(r));
        PQclear(r);
        return rc;
    }
    PQclear(r);
    tl_err rc = TL_OK;
    char *line;
    int n;
    while ((n = PQgetCopyData(c, &line, 0)) > 0) {
        if (rc == TL_OK)
            rc = event_line(line, fn, ctx);
        PQfreemem(line);
    }
    while ((r = PQgetResult(c)) != NULL) {
        if (rc == TL_OK && PQresultStatus(r) != PGRES_COMMAND_OK)
            rc = fail_msg(st, PQresultErrorMessage(r));
        PQclear(r);
    }
    return rc;
}

static tl_err find_user(tl_store *st, const char *ext, size_t len, int *found, int64_t *id,
                        int *personalize)
{
    tl_pg_args a = {0};
    PGresult *r = NULL;
    tl__pg_text(&a, ext, len);
    tl_err rc = run_q(st, Q_USER_FIND, &a, &r);
    if (rc != TL_OK)
        return rc;
    *found = PQntuples(r) > 0;
    *id = *found ? tl__pg_i64(r, 0, 0) : 0;
    *personalize = *found ? (int)tl__pg_i64(r, 0, 1) : 1;
    PQclear(r);
    return TL_OK;
}

static tl_err pg_user_consent(tl_store *st, const char *ext, size_t len, int *found,
                              int *personalize)
{
    int64_t id;
    return find_user(st, ext, len, found, &id, personalize);
}

static tl_err pg_user_events(tl_store *st, const char *ext, size_t len, int *found,
                             int *personalize, tl_user_event_fn fn, void *ctx)
{
    int64_t id;
    tl_err rc = find_user(st, ext, len, found, &id, personalize);
    if (rc != TL_OK || !*found)
        return rc;
    tl_pg_args a = {0};
    PGresult *r = NULL;
    tl__pg_int(&a, id);
    if ((rc = run_q(st, Q_USER_EVENTS, &a, &r)) != TL_OK)
        return rc;
    for (int i = 0; rc == TL_OK && i < PQntuples(r); i++) {
        int has_value = !PQgetisnull(r, i, 2);
        const char *where[3] = {tl__pg_s(r, i, 4), tl__pg_s(r, i, 5), tl__pg_s(r, i, 6)};
        rc = fn(ctx, PQgetvalue(r, i, 0), (size_t)PQgetlength(r, i, 0), PQgetvalue(r, i, 1),
                has_value, has_value ? strtod(PQgetvalue(r, i, 2), NULL) : 0.0, tl__pg_i64(r, i, 3),
                where);
    }
    PQclear(r);
    return rc;
}

/* ---- API keys ---- */

static tl_err pg_put_key(tl_store *st, const tl_store_key *k, const uint8_t *hash, size_t len)
{
    tl_pg_args a = {0};
    tl__pg_str(&a, k->id);
    tl__pg_blob(&a, hash, len);
    tl__pg_str(&a, k->role);
    tl__pg_str(&a, k->user);
    tl__pg_str(&a, k->label);
    tl__pg_int(&a, k->created);
    return tl__pg_query(st,
                        "INSERT INTO api_keys(id, hash, role, \"user\", label, created)"
                        " VALUES ($1, $2::bytea, $3, $4, $5, $6)",
                        &a, NULL);
}

static tl_err pg_list_keys(tl_store *st, tl_store_key_fn fn, void *ctx)
{
    PGresult *r = NULL;
    tl_err rc = tl__pg_query(st,
                             "SELECT id, role, \"user\", label, created, coalesce(revoked, 0)"
                             " FROM api_keys ORDER BY created, id COLLATE \"C\"",
                             NULL, &r);
    for (int i = 0; rc == TL_OK && i < PQntuples(r); i++) {
        tl_store_key k = {.id = tl__pg_s(r, i, 0),
                          .role = tl__pg_s(r, i, 1),
                          .user = tl__pg_s(r, i, 2),
                          .label = tl__pg_s(r, i, 3),
                          .created = tl__pg_i64(r, i, 4),
                          .revoked = tl__pg_i64(r, i, 5)};
        rc = fn(ctx, &k);
    }
    PQclear(r);
    return rc;
}

static tl_err pg_revoke_key(tl_store *st, const char *id, int64_t when, int *changes)
{
    tl_pg_args a = {0};
    PGresult *r = NULL;
    tl__pg_str(&a, id);
    tl__pg_int(&a, when);
    tl_err rc = tl__pg_query(
        st, "UPDATE api_keys SET revoked = coalesce(revoked, $2) WHERE id = $1", &a, &r);
    if (rc == TL_OK) {
        *changes = (int)tl__pg_changes(r);
        PQclear(r);
    }
    return rc;
}

static tl_err pg_get_key(tl_store *st, const char *id, tl_store_key_auth *out, int *found)
{
    tl_pg_args a = {0};
    PGresult *r = NULL;
    memset(out, 0, sizeof(*out));
    tl__pg_str(&a, id);
    tl_err rc = run_q(st, Q_KEY_GET, &a, &r);
    if (rc != TL_OK)
        return rc;
    *found = PQntuples(r) > 0;
    if (*found) {
        out->hash_len = tl__pg_bytes(r, 0, 0, out->hash, sizeof(out->hash));
        const char *role = tl__pg_s(r, 0, 1), *user = tl__pg_s(r, 0, 2);
        snprintf(out->role, sizeof(out->role), "%s", role ? role : "");
        snprintf(out->user, sizeof(out->user), "%s", user ? user : "");
        out->revoked = PQgetisnull(r, 0, 3) ? 0 : tl__pg_i64(r, 0, 3);
    }
    PQclear(r);
    return TL_OK;
}

/* ---- one record ---- */

static tl_err one_row(tl_store *st, int q, const char *ext, size_t len, PGresult **r, int *found)
{
    tl_pg_args a = {0};
    tl__pg_text(&a, ext, len);
    tl_err rc = run_q(st, q, &a, r);
    *found = rc == TL_OK && PQntuples(*r) > 0;
    return rc;
}

static tl_err pg_get_item(tl_store *st, const char *ext, size_t len, tl_store_item_fn fn, void *ctx,
                          int *found)
{
    PGresult *r = NULL;
    tl_err rc = one_row(st, Q_GET_ITEM, ext, len, &r, found);
    if (rc != TL_OK)
        return rc;
    if (*found) {
        tl_item_rec it = {
            .id = PQgetvalue(r, 0, 0),
            .id_len = (size_t)PQgetlength(r, 0, 0),
            .type = tl__pg_s(r, 0, 1),
            .title = tl__pg_s(r, 0, 2),
            .authors = tl__pg_s(r, 0, 3),
            .subjects = tl__pg_s(r, 0, 4),
            .year = tl__pg_opt_col(r, 0, 5),
            .language = tl__pg_s(r, 0, 6),
            .format = tl__pg_s(r, 0, 7),
            .added = tl__pg_opt_col(r, 0, 8),
            .copies = tl__pg_opt_col(r, 0, 9),
            .available = tl__pg_opt_col(r, 0, 10),
            .extra = tl__pg_s(r, 0, 11),
        };
        rc = fn(ctx, &it);
    }
    PQclear(r);
    return rc;
}

static tl_err pg_get_user(tl_store *st, const char *ext, size_t len, tl_store_user_fn fn, void *ctx,
                          int *found)
{
    PGresult *r = NULL;
    tl_err rc = one_row(st, Q_GET_USER, ext, len, &r, found);
    if (rc != TL_OK)
        return rc;
    if (*found) {
        tl_user_rec u = {
            .id = PQgetvalue(r, 0, 0),
            .id_len = (size_t)PQgetlength(r, 0, 0),
            .attrs = tl__pg_s(r, 0, 1),
            .personalize = (int)tl__pg_i64(r, 0, 2),
            .created = tl__pg_opt_col(r, 0, 3),
        };
        rc = fn(ctx, &u);
    }
    PQclear(r);
    return rc;
}

/* Runs the statements sql[0..n) with $1 = id, in order; *first = the rows the first removed. */
static tl_err delete_by_id(tl_store *st, const char *const *sql, int n, int64_t id,
                           long long *first)
{
    for (int k = 0; k < n; k++) {
        tl_pg_args a = {0};
        PGresult *r = NULL;
        tl__pg_int(&a, id);
        tl_err rc = tl__pg_query(st, sql[k], &a, &r);
        if (rc != TL_OK)
            return rc;
        if (k == 0)
            *first = tl__pg_changes(r);
        PQclear(r);
    }
    return TL_OK;
}

static tl_err pg_delete_record(tl_store *st, tl_id_kind k, int64_t id, long long *events)
{
    static const char *const item_sql[] = {
        "DELETE FROM events WHERE item_id = $1",
        "DELETE FROM search_clicks WHERE item_id = $1",
        "DELETE FROM list_items WHERE item_id = $1",
        "DELETE FROM path_steps WHERE item_id = $1",
        "DELETE FROM path_feedback WHERE item_id = $1",
        "DELETE FROM reviews WHERE item_id = $1",
        "DELETE FROM item_details WHERE item_id = $1",
        "DELETE FROM holdings WHERE item_id = $1",
        "DELETE FROM items WHERE id = $1",
    };
    /* a patron goes with everything of theirs: consent history, retention, their own keys,
     * subscription, lists, reviews, feedback and impressions */
    static const char *const user_sql[] = {
        "DELETE FROM events WHERE user_id = $1",
        "DELETE FROM searches WHERE user_id = $1", /* clicks and totals cascade */
        "DELETE FROM consent_log WHERE user_id = $1",
        "DELETE FROM retention WHERE user_id = $1",
        ("DELETE FROM api_keys WHERE role = 'patron'"
         " AND \"user\" = (SELECT ext_id FROM users WHERE id = $1)"),
        "DELETE FROM subscriptions WHERE user_id = $1",
        "DELETE FROM lists WHERE user_id = $1", /* their items cascade */
        "DELETE FROM reviews WHERE user_id = $1",
        "DELETE FROM path_feedback WHERE user_id = $1",
        "DELETE FROM impressions WHERE user_id = $1", /* rows and rewards cascade */
        "DELETE FROM users WHERE id = $1",
    };
    /* a table read for an import knows the id no more: read it again when asked */
    tl_err rc = flush_ids(st);
    if (rc != TL_OK)
        return rc;
    tl__pg_ids_reset(&pg(st)->ids);
    return k == TL_ID_ITEM
               ? delete_by_id(st, item_sql, (int)(sizeof(item_sql) / sizeof(item_sql[0])), id,
                              events)
               : delete_by_id(st, user_sql, (int)(sizeof(user_sql) / sizeof(user_sql[0])), id,
                              events);
}

/* ---- idempotency keys ---- */

static tl_err pg_idem_get(tl_store *st, const char *scope, const char *key, int64_t since,
                          tl_store_idem *out, int *found)
{
    tl_pg_args a = {0};
    PGresult *r = NULL;
    tl__pg_str(&a, scope);
    tl__pg_str(&a, key);
    tl__pg_int(&a, since);
    tl_err rc = run_q(st, Q_IDEM_GET, &a, &r);
    if (rc != TL_OK)
        return rc;
    *found = PQntuples(r) > 0;
    if (*found) {
        out->hash_len = tl__pg_bytes(r, 0, 0, out->hash, sizeof(out->hash));
        out->status = (int)tl__pg_i64(r, 0, 1);
        if (!(out->body = strdup(PQgetvalue(r, 0, 2))))
            rc = TL_ENOMEM;
    }
    PQclear(r);
    return rc;
}

static tl_err pg_idem_put(tl_store *st, const char *scope, const char *key,
                          const tl_store_idem *rec, int64_t created)
{
    tl_pg_args a = {0};
    tl__pg_str(&a, scope);
    tl__pg_str(&a, key);
    tl__pg_blob(&a, rec->hash, rec->hash_len);
    tl__pg_int(&a, rec->status);
    tl__pg_str(&a, rec->body ? rec->body : "");
    tl__pg_int(&a, created);
    return run_q(st, Q_IDEM_PUT, &a, NULL);
}

static tl_err pg_idem_prune(tl_store *st, int64_t before, long long *removed)
{
    tl_pg_args a = {0};
    PGresult *r = NULL;
    tl__pg_int(&a, before);
    tl_err rc = tl__pg_query(st, "DELETE FROM idempotency_keys WHERE created < $1", &a, &r);
    if (rc == TL_OK) {
        *removed = tl__pg_changes(r);
        PQclear(r);
    }
    return rc;
}

/* ---- scrub ---- */

static tl_err pg_scrub(tl_store *st, int *complete)
{
    /* PostgreSQL has no write-ahead log of the store's to empty: VACUUM reclaims dead rows */
    *complete = 1;
    return tl__pg_query(st, "SELECT 1", NULL, NULL);
}

/* Left NULL below: catalogue search (and the page cache's limit); the generic layer then says
 * "the postgres store has no ..." (TL_EUNSUPPORTED). */
static const tl_store_ops postgres_ops = {
    .name = "postgres",
    .close = pg_close,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .find_id = pg_find_id,
    .create_id = pg_create_id,
    .put_item = pg_put_item,
    .put_user = pg_put_user,
    .put_event = pg_put_event,
    .put_events = pg_put_events,
    .put_search = pg_put_search,
    .count = pg_count,
    .events_by_type = pg_events_by_type,
    .top_items = pg_top_items,
    .top_users = pg_top_users,
    .trending = pg_trending,
    .events_since = pg_events_since,
    .item_counts_since = pg_item_counts_since,
    .segment_top = pg_segment_top,
    .user_attr = pg_user_attr,
    .changed = pg_changed,
    .get_meta = pg_get_meta,
    .set_meta = pg_set_meta,
    .scan_items = pg_scan_items,
    .scan_users = pg_scan_users,
    .scan_types = pg_scan_types,
    .scan_events = pg_scan_events,
    .user_events = pg_user_events,
    .user_consent = pg_user_consent,
    .put_key = pg_put_key,
    .list_keys = pg_list_keys,
    .revoke_key = pg_revoke_key,
    .get_key = pg_get_key,
    .tenants = &tl__pg_tenant_ops,
    .get_item = pg_get_item,
    .get_user = pg_get_user,
    .replace_item = pg_replace_item,
    .replace_user = pg_replace_user,
    .delete_record = pg_delete_record,
    .idem_get = pg_idem_get,
    .idem_put = pg_idem_put,
    .idem_prune = pg_idem_prune,
    .audit_append = tl__pg_audit_append,
    .audit_last = tl__pg_audit_last,
    .audit_each = tl__pg_audit_each,
    .audit_forget = tl__pg_audit_forget,
    .consent_set = tl__pg_consent_set,
    .user_dump = tl__pg_user_dump,
    .retention_run = tl__pg_retention_run,
    .scrub = pg_scrub,
    .sub_set = tl__pg_sub_set,
    .sub_get = tl__pg_sub_get,
    .sub_off = tl__pg_sub_off,
    .sub_each = tl__pg_sub_each,
    .details = tl__pg_details,
    .analytics = tl__pg_analytics,
    .search = tl__pg_search,
    .search_total = tl__pg_search_total,
    .search_bulk = tl__pg_search_bulk,
    .put_details = tl__pg_put_details,
    .put_holdings = tl__pg_put_holdings,
    .get_details = tl__pg_get_details,
    .get_holdings = tl__pg_get_holdings,
    .works_each = tl__pg_works_each,
    .put_holding = tl__pg_put_holding,
    .copy_item = tl__pg_copy_item,
    .shelves_each = tl__pg_shelves_each,
    .schedules_each = tl__pg_schedules_each,
    .loan_weeks = tl__pg_loan_weeks,
    .lib = &tl__pg_lib_ops,
    .imp = &tl__pg_imp_ops,
    .exp = &tl__pg_exp_ops,
};

static const char *const session_sql = "SET client_min_messages = warning; LISTEN " CHANNEL;

tl_err tl__postgres_open(const char *target, const tl_store_opts *o, tl_store **out, tl_diag *d)
{
    pg_store *s = calloc(1, sizeof(*s));
    if (!s)
        return TL_ENOMEM;
    tl__store_init(&s->base, &postgres_ops);
    for (int k = 0; k < TL_ID_NKINDS; k++)
        tl_intern_init(&s->ids.kind[k].names);
    s->base.readonly = (o->flags & TL_STORE_READONLY) != 0;
    tl_err rc = TL_ESTORE;
    s->conn = PQconnectdb(target);
    if (PQstatus(s->conn) != CONNECTION_OK) {
        fail_msg(&s->base, PQerrorMessage(s->conn));
        tl_diag_set(d, NULL, 0, NULL, "cannot connect to the PostgreSQL store: %s", s->base.errmsg);
        pg_close(&s->base);
        return TL_ESTORE;
    }
    char lock[96];
    long long ms = (long long)(o->lock_timeout * 1000 + 0.5);
    snprintf(lock, sizeof(lock), "SET lock_timeout = %lld", ms > 0 ? ms : 1); /* 0: none */
    if ((rc = tl__pg_query(&s->base, lock, NULL, NULL)) != TL_OK ||
        (rc = tl__pg_migrate(&s->base, (o->flags & TL_STORE_CREATE) != 0, target, d)) != TL_OK ||
        (rc = tl__pg_query(&s->base, session_sql, NULL, NULL)) != TL_OK ||
        (!s->base.readonly && (rc = tl__pg_search_ensure(&s->base)) != TL_OK) ||
        (s->base.readonly && (rc = tl__pg_query(&s->base, "SET default_transaction_read_only = on",
                                                NULL, NULL)) != TL_OK))
        goto out;
    *out = &s->base;
    return TL_OK;
out:
    if (rc == TL_ESTORE)
        tl_diag_set(d, NULL, 0, NULL, "store: %s", s->base.errmsg);
    pg_close(&s->base);
    return rc;
}
