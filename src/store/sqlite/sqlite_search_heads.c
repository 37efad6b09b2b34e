/* The heads of the catalogue's index (tailor/store.h, TL_SEARCH_HEADS_DF): for each common
 * word, its best records by tl_rank and its document count, in two tables beside the index,
 * valid while the index's structure record (search_fts_data id 10, which every write of the
 * index changes) is the one they were built from. Ranking a word in a third of a million
 * records scores each of them (0.3 s); its heads are one range of a B-tree. */
#include <stdlib.h>
#include <string.h>

#include "store/sqlite/sqlite_int.h"
#include "store/sqlite/sqlite_search.h"

#define STR_(x) #x
#define STR(x) STR_(x)
#define HEADS_AT "search_heads_at" /* meta: hex of the structure record they were built from */
#define HEADS_VALID                                                                                \
    "EXISTS (SELECT 1 FROM meta m, search_fts_data d WHERE m.key = '" HEADS_AT "'"                 \
    " AND d.id = 10 AND m.value = hex(d.block))"

/* ---- tl_query_token(search_fts, text): text's one token by the index's tokenizer ---------- */

typedef struct one_token {
    char tok[256];
    int n, count, colocated;
} one_token;

static int on_token(void *p, int flags, const char *tok, int n, int start, int end)
{
    one_token *o = p;
    (void)start;
    (void)end;
    if (flags & FTS5_TOKEN_COLOCATED) {
        o->colocated = 1;
        return SQLITE_OK;
    }
    if (o->count++ == 0 && n < (int)sizeof(o->tok)) {
        memcpy(o->tok, tok, (size_t)n);
        o->n = n;
    } else {
        o->n = -1;
    }
    return SQLITE_OK;
}

/* NULL unless text is exactly one token (with no other language's stem beside it). */
static void tl_query_token(const Fts5ExtensionApi *api, Fts5Context *fts, sqlite3_context *ctx,
                           int nval, sqlite3_value **vals)
{
    if (nval < 1 || sqlite3_value_type(vals[0]) != SQLITE_TEXT)
        return;
    one_token o;
    memset(&o, 0, sizeof(o));
    const char *text = (const char *)sqlite3_value_text(vals[0]);
    int rc = api->xTokenize(fts, text, sqlite3_value_bytes(vals[0]), &o, on_token);
    if (rc != SQLITE_OK)
        sqlite3_result_error_code(ctx, rc);
    else if (o.count == 1 && o.n > 0 && !o.colocated)
        sqlite3_result_text(ctx, o.tok, o.n, SQLITE_TRANSIENT);
}

int tl__sq_heads_register(fts5_api *api)
{
    return api->xCreateFunction(api, "tl_query_token", NULL, tl_query_token, NULL);
}

/* ---- reading ------------------------------------------------------------------------------ */

int tl__sq_heads_word(const char *match, char *word, size_t len)
{
    size_t n = 0;
    if (match[0] != '"')
        return 0;
    for (const char *p = match + 1; *p; p++) {
        if (*p == '"' && p[1] != '"') /* the closing quote: nothing may follow (" *": a prefix) */
            return p[1] == '\0' && n > 0;
        if (*p == '"')
            p++; /* a doubled quote */
        if (n + 1 >= len)
            return 0;
        word[n++] = *p;
        word[n] = '\0';
    }
    return 0;
}

tl_err tl__sq_heads_find(tl_store *st, const char *match, char *term, size_t len, int64_t *df)
{
    char word[512];
    *df = -1;
    if (!tl__sq_heads_word(match, word, sizeof(word)))
        return TL_OK;
    sqlite3_stmt *s = NULL;
    /* an older store without the tables: no heads */
    if (sqlite3_prepare_v2(tl__sq_db(st),
                           "SELECT t.term, t.df FROM search_heads_terms t WHERE t.term ="
                           " (SELECT tl_query_token(search_fts, ?2) FROM search_fts"
                           " WHERE search_fts MATCH ?1 LIMIT 1) AND " HEADS_VALID,
                           -1, &s, NULL) != SQLITE_OK)
        return TL_OK;
    sqlite3_bind_text(s, 1, match, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, word, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW && (size_t)sqlite3_column_bytes(s, 0) < len) {
        memcpy(term, sqlite3_column_text(s, 0), (size_t)sqlite3_column_bytes(s, 0) + 1);
        *df = sqlite3_column_int64(s, 1);
    }
    sqlite3_finalize(s);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? TL_OK : tl__sq_fail(st, rc);
}

/* ---- building ----------------------------------------------------------------------------- */

static tl_err exec(tl_store *st, const char *sql)
{
    int rc = sqlite3_exec(tl__sq_db(st), sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? TL_OK : tl__sq_fail(st, rc);
}

/* The common terms of the index (malloc'd array of malloc'd strings). */
static tl_err common_terms(tl_store *st, char ***out, int *n)
{
    *out = NULL;
    *n = 0;
    tl_err r = exec(st, "DROP TABLE IF EXISTS temp.search_heads_vocab;"
                        " CREATE VIRTUAL TABLE temp.search_heads_vocab"
                        " USING fts5vocab(main, search_fts, row)");
    sqlite3_stmt *s = NULL;
    if (r == TL_OK) {
        int rc = sqlite3_prepare_v2(tl__sq_db(st),
                                    "SELECT term FROM temp.search_heads_vocab WHERE doc >= ?1", -1,
                                    &s, NULL);
        r = rc == SQLITE_OK ? TL_OK : tl__sq_fail(st, rc);
    }
    if (r == TL_OK)
        sqlite3_bind_int(s, 1, TL_SEARCH_HEADS_DF);
    int cap = 0, rc = SQLITE_OK;
    while (r == TL_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? 2 * cap : 64;
            char **m = realloc(*out, (size_t)cap * sizeof(*m));
            if (!m) {
                r = TL_ENOMEM;
                break;
            }
            *out = m;
        }
        if (!((*out)[*n] = strdup((const char *)sqlite3_column_text(s, 0))))
            r = TL_ENOMEM;
        else
            ++*n;
    }
    if (r == TL_OK && rc != SQLITE_DONE)
        r = tl__sq_fail(st, rc);
    sqlite3_finalize(s);
    if (r == TL_OK)
        r = exec(st, "DROP TABLE temp.search_heads_vocab");
    return r;
}

/* `"term"`, quotes doubled (malloc'd). */
static char *quote(const char *term)
{
    size_t n = strlen(term);
    char *q = malloc(2 * n + 3), *o = q;
    if (!q)
        return NULL;
    *o++ = '"';
    for (const char *p = term; *p; p++) {
        if (*p == '"')
            *o++ = '"';
        *o++ = *p;
    }
    *o++ = '"';
    *o = '\0';
    return q;
}

/* One term's heads: its best records in order, and its count. A term whose own text is not
 * its token again (a stem that stems further) is left out: a query never reaches it. */
static tl_err term_heads(tl_store *st, sqlite3_stmt *token, sqlite3_stmt *rank, sqlite3_stmt *put,
                         sqlite3_stmt *put_df, const char *term)
{
    char *match = quote(term);
    if (!match)
        return TL_ENOMEM;
    tl_err r = TL_OK;
    sqlite3_bind_text(token, 1, match, -1, SQLITE_STATIC);
    sqlite3_bind_text(token, 2, term, -1, SQLITE_STATIC);
    int rc = sqlite3_step(token);
    int same = rc == SQLITE_ROW && sqlite3_column_type(token, 0) == SQLITE_TEXT &&
               strcmp((const char *)sqlite3_column_text(token, 0), term) == 0;
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        r = tl__sq_fail(st, rc);
    sqlite3_reset(token);
    int64_t counted = 0;
    if (r == TL_OK && same) {
        sqlite3_bind_text(rank, 1, match, -1, SQLITE_STATIC);
        sqlite3_bind_pointer(rank, 2, &counted, "tl_rank_count", NULL);
        for (int pos = 0; r == TL_OK && (rc = sqlite3_step(rank)) == SQLITE_ROW; pos++) {
            sqlite3_bind_text(put, 1, term, -1, SQLITE_STATIC);
            sqlite3_bind_int(put, 2, pos);
            sqlite3_bind_int64(put, 3, sqlite3_column_int64(rank, 0));
            sqlite3_bind_double(put, 4, sqlite3_column_double(rank, 1));
            if ((rc = sqlite3_step(put)) != SQLITE_DONE)
                r = tl__sq_fail(st, rc);
            sqlite3_reset(put);
        }
        if (r == TL_OK && rc != SQLITE_DONE)
            r = tl__sq_fail(st, rc);
        sqlite3_reset(rank);
        sqlite3_bind_text(put_df, 1, term, -1, SQLITE_STATIC);
        sqlite3_bind_int64(put_df, 2, counted);
        if (r == TL_OK && (rc = sqlite3_step(put_df)) != SQLITE_DONE)
            r = tl__sq_fail(st, rc);
        sqlite3_reset(put_df);
    }
    free(match);
    return r;
}

tl_err tl__sq_heads_build(tl_store *st, int keep)
{
    tl_err r =
        exec(st, "DROP TABLE IF EXISTS search_heads; DROP TABLE IF EXISTS search_heads_terms;"
                 " DELETE FROM meta WHERE key = '" HEADS_AT "';"
                 " CREATE TABLE search_heads(term TEXT NOT NULL, pos INTEGER NOT NULL,"
                 " item_id INTEGER NOT NULL, r REAL NOT NULL, PRIMARY KEY (term, pos))"
                 " WITHOUT ROWID;"
                 " CREATE TABLE search_heads_terms(term TEXT PRIMARY KEY,"
                 " df INTEGER NOT NULL) WITHOUT ROWID");
    if (r != TL_OK || !keep)
        return r;
    char **terms = NULL;
    int n = 0;
    r = common_terms(st, &terms, &n);
    sqlite3 *db = tl__sq_db(st);
    sqlite3_stmt *token = NULL, *rank = NULL, *put = NULL, *put_df = NULL;
    int rc = SQLITE_OK;
    if (r == TL_OK && n)
        rc = sqlite3_prepare_v2(db,
                                "SELECT tl_query_token(search_fts, ?2) FROM search_fts"
                                " WHERE search_fts MATCH ?1 LIMIT 1",
                                -1, &token, NULL);
    if (r == TL_OK && n && rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(db,
                                "SELECT rowid, tl_rank(search_fts, ?2) AS r FROM search_fts"
                                " WHERE search_fts MATCH ?1"
                                " ORDER BY r, rowid LIMIT " STR(TL_SEARCH_HEADS_N),
                                -1, &rank, NULL);
    if (r == TL_OK && n && rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(db, "INSERT INTO search_heads VALUES (?1, ?2, ?3, ?4)", -1, &put,
                                NULL);
    if (r == TL_OK && n && rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(db, "INSERT INTO search_heads_terms VALUES (?1, ?2)", -1, &put_df,
                                NULL);
    if (r == TL_OK && rc != SQLITE_OK)
        r = tl__sq_fail(st, rc);
    for (int k = 0; r == TL_OK && k < n; k++)
        r = term_heads(st, token, rank, put, put_df, terms[k]);
    sqlite3_finalize(token);
    sqlite3_finalize(rank);
    sqlite3_finalize(put);
    sqlite3_finalize(put_df);
    for (int k = 0; k < n; k++)
        free(terms[k]);
    free(terms);
    /* the queries above flushed what the index held in memory: its structure is final */
    if (r == TL_OK)
        r = exec(st, "INSERT INTO meta(key, value) SELECT '" HEADS_AT "', hex(block)"
                     " FROM search_fts_data WHERE id = 10");
    return r;
}
