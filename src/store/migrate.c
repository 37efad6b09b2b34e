/* tl_store_migrate: copies a SQLite store into an empty PostgreSQL one, table by table (COPY),
 * in one transaction of the target, then reads every table of both back in key order and
 * compares row counts and a checksum of the rows; the copy is committed only when all agree.
 * Values are compared in one canonical form: NULL, text (integers as decimal text), a double
 * as %.17g, bytes. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/postgres/pg_int.h"
#include "store/postgres/pg_schema.h"
#include "store/sqlite/sqlite_int.h"

#define MAXCOLS 32
#define FETCH_SQL "FETCH 20000 FROM tl_copy"
#define FLUSH (1 << 20)

enum { V_NULL, V_TEXT, V_REAL, V_BLOB };

typedef struct val {
    int kind;
    const char *p; /* text or bytes */
    size_t n;
    double d;
} val;

/* Rows of one table in key order, from either engine. */
typedef struct reader {
    tl_store *st;
    int pg, ncols;
    sqlite3_stmt *q;
    PGresult *r;
    int row, nrows, declared;
    int kind[MAXCOLS]; /* PostgreSQL: each column's V_ kind */
    uint8_t *blob[MAXCOLS];
    size_t blob_cap[MAXCOLS];
    val v[MAXCOLS];
} reader;

static int is_pg(tl_store *st)
{
    return strcmp(tl_store_backend(st), "postgres") == 0;
}

static tl_err sq_failed(tl_store *st)
{
    return tl__sq_fail(st, sqlite3_errcode(tl__sq_db(st)));
}

static tl_err reader_open(reader *rd, tl_store *st, const tl_pg_table *t, const char *cols,
                          int ncols)
{
    memset(rd, 0, sizeof(*rd));
    rd->st = st;
    rd->pg = is_pg(st);
    rd->ncols = ncols;
    char sql[1024];
    snprintf(sql, sizeof(sql), "%sSELECT %s FROM %s ORDER BY %s",
             rd->pg ? "DECLARE tl_copy NO SCROLL CURSOR FOR " : "", cols, t->name,
             rd->pg ? t->pg_order : t->sq_order);
    if (!rd->pg)
        return sqlite3_prepare_v2(tl__sq_db(st), sql, -1, &rd->q, NULL) == SQLITE_OK
                   ? TL_OK
                   : sq_failed(st);
    tl_err rc = tl__pg_query(st, sql, NULL, NULL);
    rd->declared = rc == TL_OK;
    return rc;
}

/* *row = 1 with rd->v filled, or 0 at the end. */
static tl_err reader_next(reader *rd, int *row)
{
    *row = 0;
    if (!rd->pg) {
        int rc = sqlite3_step(rd->q);
        if (rc == SQLITE_DONE)
            return TL_OK;
        if (rc != SQLITE_ROW)
            return sq_failed(rd->st);
        for (int c = 0; c < rd->ncols; c++) {
            val *v = &rd->v[c];
            const char *decl = sqlite3_column_decltype(rd->q, c);
            int type = sqlite3_column_type(rd->q, c);
            v->kind = type == SQLITE_NULL                                      ? V_NULL
                      : decl && strcmp(decl, "REAL") == 0                      ? V_REAL
                      : type == SQLITE_BLOB || (decl && !strcmp(decl, "BLOB")) ? V_BLOB
                                                                               : V_TEXT;
            if (v->kind == V_REAL)
                v->d = sqlite3_column_double(rd->q, c);
            else if (v->kind == V_BLOB)
                v->p = sqlite3_column_blob(rd->q, c);
            else if (v->kind == V_TEXT)
                v->p = (const char *)sqlite3_column_text(rd->q, c);
            v->n = (size_t)sqlite3_column_bytes(rd->q, c);
        }
        *row = 1;
        return TL_OK;
    }
    if (rd->row >= rd->nrows) {
        PQclear(rd->r);
        rd->r = NULL;
        tl_err rc = tl__pg_query(rd->st, FETCH_SQL, NULL, &rd->r);
        if (rc != TL_OK)
            return rc;
        rd->row = 0;
        rd->nrows = PQntuples(rd->r);
        if (!rd->nrows)
            return TL_OK;
        for (int c = 0; c < rd->ncols; c++) {
            Oid t = PQftype(rd->r, c);
            rd->kind[c] = t == 701 || t == 700 ? V_REAL : t == 17 ? V_BLOB : V_TEXT;
        }
    }
    for (int c = 0; c < rd->ncols; c++) {
        val *v = &rd->v[c];
        const char *s = PQgetvalue(rd->r, rd->row, c);
        size_t n = (size_t)PQgetlength(rd->r, rd->row, c);
        v->kind = PQgetisnull(rd->r, rd->row, c) ? V_NULL : rd->kind[c];
        v->p = s;
        v->n = n;
        if (v->kind == V_REAL)
            v->d = strtod(s, NULL);
        if (v->kind == V_BLOB) {
            if (rd->blob_cap[c] < n / 2 + 1) {
                uint8_t *b = realloc(rd->blob[c], n / 2 + 1);
                if (!b)
                    return TL_ENOMEM;
                rd->blob[c] = b;
                rd->blob_cap[c] = n / 2 + 1;
            }
            v->n = tl__pg_bytes(rd->r, rd->row, c, rd->blob[c], rd->blob_cap[c]);
            v->p = (const char *)rd->blob[c];
        }
    }
    rd->row++;
    *row = 1;
    return TL_OK;
}

static void reader_close(reader *rd)
{
    if (rd->q)
        sqlite3_finalize(rd->q);
    PQclear(rd->r);
    if (rd->declared)
        tl__pg_query(rd->st, "CLOSE tl_copy", NULL, NULL);
    for (int c = 0; c < MAXCOLS; c++)
        free(rd->blob[c]);
}

/* The row's canonical form into the checksum. */
static void hash_row(crypto_generichash_state *h, const val *v, int n)
{
    for (int c = 0; c < n; c++) {
        char num[40];
        uint8_t tag = (uint8_t)v[c].kind;
        uint64_t len = v[c].n;
        const void *p = v[c].p;
        if (v[c].kind == V_REAL) {
            len = (uint64_t)snprintf(num, sizeof(num), "%.17g", v[c].d);
            p = num;
        } else if (v[c].kind == V_NULL) {
            len = 0;
        }
        crypto_generichash_update(h, &tag, 1);
        crypto_generichash_update(h, (const uint8_t *)&len, sizeof(len));
        if (len)
            crypto_generichash_update(h, p, (unsigned long long)len);
    }
}

typedef struct copy_out {
    char *p;
    size_t len, cap;
} copy_out;

static int out_grow(copy_out *b, size_t more)
{
    if (b->len + more <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap * 2 : FLUSH * 2;
    while (cap < b->len + more)
        cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p)
        return -1;
    b->p = p;
    b->cap = cap;
    return 0;
}

/* Appends the row as a line of COPY's text format. */
static int out_row(copy_out *b, const val *v, int n)
{
    static const char hex[] = "0123456789abcdef";
    for (int c = 0; c < n; c++) {
        if (out_grow(b, 2 * v[c].n + 48))
            return -1;
        char *o = b->p + b->len;
        if (v[c].kind == V_NULL) {
            o += sprintf(o, "\\N");
        } else if (v[c].kind == V_REAL) {
            o += sprintf(o, "%.17g", v[c].d);
        } else if (v[c].kind == V_BLOB) {
            if (out_grow(b, 2 * v[c].n + 48))
                return -1;
            o += sprintf(o, "\\\\x");
            for (size_t i = 0; i < v[c].n; i++) {
                *o++ = hex[(uint8_t)v[c].p[i] >> 4];
                *o++ = hex[(uint8_t)v[c].p[i] & 15];
            }
        } else {
            for (size_t i = 0; i < v[c].n; i++) {
                char ch = v[c].p[i];
                if (ch == '\\' || ch == '\t' || ch == '\n' || ch == '\r') {
                    *o++ = '\\';
                    ch = ch == '\t' ? 't' : ch == '\n' ? 'n' : ch == '\r' ? 'r' : ch;
                }
                *o++ = ch;
            }
        }
        *o++ = c + 1 < n ? '\t' : '\n';
        b->len = (size_t)(o - b->p);
    }
    return 0;
}

/* The SQLite table's columns, quoted and joined ("" when the table is missing: a store of an
 * older schema). */
static tl_err columns(tl_store *sq, const char *table, char *out, size_t len, int *n)
{
    sqlite3_stmt *q;
    char sql[160];
    snprintf(sql, sizeof(sql), "SELECT name FROM pragma_table_info('%s') ORDER BY cid", table);
    if (sqlite3_prepare_v2(tl__sq_db(sq), sql, -1, &q, NULL) != SQLITE_OK)
        return sq_failed(sq);
    size_t off = 0;
    *n = 0;
    out[0] = '\0';
    while (sqlite3_step(q) == SQLITE_ROW && *n < MAXCOLS && off < len)
        off += (size_t)snprintf(out + off, len - off, "%s\"%s\"", (*n)++ ? ", " : "",
                                (const char *)sqlite3_column_text(q, 0));
    sqlite3_finalize(q);
    return TL_OK;
}

static void hex_sum(crypto_generichash_state *h, char *out)
{
    uint8_t sum[16];
    crypto_generichash_final(h, sum, sizeof(sum));
    sodium_bin2hex(out, 33, sum, sizeof(sum));
}

/* Reads table t of st whole into the checksum; *rows = how many. */
static tl_err table_sum(tl_store *st, const tl_pg_table *t, const char *cols, int ncols,
                        int64_t *rows, char *sum)
{
    crypto_generichash_state h;
    crypto_generichash_init(&h, NULL, 0, 16);
    reader rd;
    tl_err rc = reader_open(&rd, st, t, cols, ncols);
    int row = 1;
    *rows = 0;
    while (rc == TL_OK && (rc = reader_next(&rd, &row)) == TL_OK && row) {
        hash_row(&h, rd.v, ncols);
        ++*rows;
    }
    reader_close(&rd);
    hex_sum(&h, sum);
    return rc;
}

/* Copies table t of from into to with COPY; *rows, sum: what was read. */
static tl_err copy_table(tl_store *from, tl_store *to, const tl_pg_table *t, const char *cols,
                         int ncols, int64_t *rows, char *sum)
{
    PGconn *c = tl__pg_conn(to);
    char sql[1200];
    crypto_generichash_state h;
    crypto_generichash_init(&h, NULL, 0, 16);
    snprintf(sql, sizeof(sql), "COPY %s(%s) FROM STDIN", t->name, cols);
    tl_err rc = tl__pg_query(to, sql, NULL, NULL);
    if (rc != TL_OK)
        return rc;
    reader rd;
    copy_out b = {0};
    int row = 1, ok = 1;
    *rows = 0;
    rc = reader_open(&rd, from, t, cols, ncols);
    while (rc == TL_OK && ok && (rc = reader_next(&rd, &row)) == TL_OK && row) {
        hash_row(&h, rd.v, ncols);
        ++*rows;
        if (out_row(&b, rd.v, ncols))
            rc = TL_ENOMEM;
        else if (b.len >= FLUSH) {
            ok = PQputCopyData(c, b.p, (int)b.len) == 1;
            b.len = 0;
        }
    }
    reader_close(&rd);
    if (ok && b.len)
        ok = PQputCopyData(c, b.p, (int)b.len) == 1;
    free(b.p);
    hex_sum(&h, sum);
    PQputCopyEnd(c, rc == TL_OK && ok ? NULL : "the copy stopped");
    PGresult *r;
    while ((r = PQgetResult(c)) != NULL) {
        if (rc == TL_OK && PQresultStatus(r) != PGRES_COMMAND_OK) {
            snprintf(to->errmsg, sizeof(to->errmsg), "%s: %s", t->name, PQresultErrorMessage(r));
            rc = TL_ESTORE;
        }
        PQclear(r);
    }
    return rc == TL_OK && !ok ? TL_ESTORE : rc;
}

/* TL_OK when every table of the SQLite store is one the copy knows (the catalogue's full-text
 * index, search_fts*, and its heads for common words, search_heads*, are derived from the
 * tables and not copied). */
static tl_err all_known(tl_store *from, tl_diag *d)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(tl__sq_db(from),
                           "SELECT name FROM sqlite_master WHERE type = 'table'"
                           " AND name NOT LIKE 'sqlite%' AND name NOT LIKE 'search_fts%'"
                           " AND name NOT LIKE 'search_heads%'",
                           -1, &q, NULL) != SQLITE_OK)
        return tl__store_fail(from, sq_failed(from), d);
    tl_err rc = TL_OK;
    while (rc == TL_OK && sqlite3_step(q) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(q, 0);
        const tl_pg_table *t = tl__pg_tables;
        while (t->name && strcmp(t->name, name) != 0)
            t++;
        if (!t->name) {
            tl_diag_set(d, NULL, 0, NULL,
                        "the SQLite store has a table the PostgreSQL store does not know yet (%s): "
                        "nothing was copied",
                        name);
            rc = TL_EUNSUPPORTED;
        }
    }
    sqlite3_finalize(q);
    return rc;
}

/* TL_OK when every table of the PostgreSQL store is empty. */
static tl_err target_empty(tl_store *to, tl_diag *d)
{
    for (const tl_pg_table *t = tl__pg_tables + 1; t->name; t++) {
        char sql[160];
        PGresult *r = NULL;
        snprintf(sql, sizeof(sql), "SELECT EXISTS (SELECT 1 FROM %s)", t->name);
        tl_err rc = tl__pg_query(to, sql, NULL, &r);
        int full = rc == TL_OK && PQgetvalue(r, 0, 0)[0] == 't';
        PQclear(r);
        if (rc != TL_OK)
            return tl__store_fail(to, rc, d);
        if (full) {
            tl_diag_set(d, NULL, 0, NULL,
                        "the target store is not empty (table %s has rows): migrate copies into "
                        "an empty PostgreSQL store only",
                        t->name);
            return TL_EEXIST;
        }
    }
    return TL_OK;
}

static tl_err copy_all(tl_store *from, tl_store *to, tl_store_check_fn fn, void *ctx,
                       int *mismatches, tl_diag *d)
{
    char cols[1024];
    tl_err rc = TL_OK;
    /* schema_migrations: each store keeps its own (PostgreSQL's has the same versions) */
    for (const tl_pg_table *t = tl__pg_tables + 1; t->name && rc == TL_OK; t++) {
        int ncols = 0;
        tl_store_table_check k = {.table = t->name};
        if ((rc = columns(from, t->name, cols, sizeof(cols), &ncols)) != TL_OK)
            break;
        if (ncols && (rc = copy_table(from, to, t, cols, ncols, &k.rows_from, k.sum_from)) == TL_OK)
            rc = table_sum(to, t, cols, ncols, &k.rows_to, k.sum_to);
        if (rc != TL_OK)
            break;
        if (!ncols) /* a store of an older schema: nothing to copy */
            snprintf(k.sum_from, sizeof(k.sum_from), "%s", "-");
        if (!ncols)
            snprintf(k.sum_to, sizeof(k.sum_to), "%s", "-");
        k.same = k.rows_from == k.rows_to && strcmp(k.sum_from, k.sum_to) == 0;
        *mismatches += !k.same;
        if (fn)
            rc = fn(ctx, &k);
    }
    return rc == TL_OK ? tl__pg_reset_ids(to) : tl__store_fail(to, rc, d);
}

tl_err tl_store_migrate(tl_store *from, tl_store *to, tl_store_check_fn fn, void *ctx, tl_diag *d)
{
    if (is_pg(from) || !is_pg(to)) {
        tl_diag_set(d, NULL, 0, NULL,
                    "migrate copies a SQLite store into a PostgreSQL store (--from sqlite:FILE "
                    "--to postgres://...)");
        return TL_EUNSUPPORTED;
    }
    if (sodium_init() < 0)
        return TL_ENOMEM;
    tl_err rc = tl_store_begin(to);
    if (rc != TL_OK)
        return tl__store_fail(to, rc, d);
    /* one snapshot of the source for the copy and its checksum */
    if (sqlite3_exec(tl__sq_db(from), "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
        tl_store_rollback(to);
        return tl__store_fail(from, sq_failed(from), d);
    }
    int mismatches = 0;
    /* the target's search index (derived) follows no row of the copy: built whole after it */
    if ((rc = all_known(from, d)) == TL_OK && (rc = target_empty(to, d)) == TL_OK &&
        (rc = tl_store_search_bulk_begin(to, d)) == TL_OK)
        rc = copy_all(from, to, fn, ctx, &mismatches, d);
    sqlite3_exec(tl__sq_db(from), "COMMIT", NULL, NULL, NULL);
    if (rc == TL_OK && mismatches) {
        tl_diag_set(d, NULL, 0, NULL,
                    "%d table(s) differ after the copy: nothing was written to the target",
                    mismatches);
        rc = TL_ECORRUPT;
    }
    if (rc == TL_OK)
        rc = tl_store_search_bulk_end(to, d);
    if (rc != TL_OK) {
        tl_store_rollback(to);
        return rc;
    }
    rc = tl_store_commit(to);
    return rc == TL_OK ? TL_OK : tl__store_fail(to, rc, d);
}
