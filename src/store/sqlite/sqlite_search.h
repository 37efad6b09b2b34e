/* Private to src/store/sqlite: the catalogue's full-text index (schema version 8). An FTS5
 * table search_fts (rowid = items.id) over the items' title, creators and subjects and their
 * details' series, contents and summary, kept in step with both tables by triggers, tokenized
 * by the "tailor" tokenizer (unicode61 with diacritics folded, then Snowball stems of the
 * catalogue's languages) and ranked by bm25 with the title weighing most. */
#ifndef TL_STORE_SQLITE_SEARCH_H
#define TL_STORE_SQLITE_SEARCH_H

#include <sqlite3.h>

#include "store/store_int.h"

#define TL_SQ_SEARCH_VERSION 8
#define TL_SQ_SEARCH_DEFAULT_LANGS "english"
/* TL_META_SEARCH_VERSION (tailor/store.h): moved by the triggers with each write of items, their
 * details or holdings, and by a rebuild; the store's other writes (the searches kept) leave it. */
#define TL_SQ_SEARCH_BUMP                                                                          \
    " INSERT INTO meta(key, value) VALUES ('search_version', '1') ON CONFLICT(key)"                \
    " DO UPDATE SET value = CAST(value AS INTEGER) + 1;"
/* The store's languages of the index (meta), as "english,french"; absent: the default. */
#define TL_SQ_SEARCH_META_LANGS "search_languages"

/* The table, its ranking, its rows for what the store holds, and the triggers, for the
 * languages L (a string literal of space-separated Snowball names). Migration 8 runs it with the
 * default; a rebuild with the store's languages. Statements separated by ';'. */
#define TL_SQ_SEARCH_TABLE(L)                                                                      \
    "CREATE VIRTUAL TABLE search_fts USING fts5(title, creators, subjects, series, contents,"      \
    " summary, tokenize = 'tailor " L "');"                                                        \
    "INSERT INTO search_fts(search_fts, rank) VALUES ('rank', 'bm25(10.0, 4.0, 4.0, 3.0, 1.0,"     \
    " 1.0)');"
#define TL_SQ_SEARCH_VERSION_ROW TL_SQ_SEARCH_BUMP
#define TL_SQ_SEARCH_FILL                                                                          \
    "INSERT INTO search_fts(rowid, title, creators, subjects, series, contents, summary)"          \
    " SELECT i.id, i.title, i.authors, i.subjects, d.series, d.contents, d.summary"                \
    " FROM items i LEFT JOIN item_details d ON d.item_id = i.id;"
/* Every write of items or item_details, by whoever makes it, moves the index: a row is
 * deleted by rowid and written again whole (an insert deletes first, so that an INSERT OR
 * REPLACE, which fires no delete trigger, leaves one row). */
#define TL_SQ_SEARCH_ROWS_WHERE(COND)                                                              \
    "INSERT INTO search_fts(rowid, title, creators, subjects, series, contents, summary)"          \
    " SELECT i.id, i.title, i.authors, i.subjects, d.series, d.contents, d.summary"                \
    " FROM items i LEFT JOIN item_details d ON d.item_id = i.id WHERE " COND ";"
#define TL_SQ_SEARCH_ROW_OF(ID) TL_SQ_SEARCH_ROWS_WHERE("i.id = " ID)
/* clang-format off */
#define TL_SQ_SEARCH_TRIGGERS                                                                      \
    "CREATE TRIGGER search_items_ai AFTER INSERT ON items BEGIN"                                   \
    " DELETE FROM search_fts WHERE rowid = new.id;"                                                \
    " INSERT INTO search_fts(rowid, title, creators, subjects, series, contents, summary)"         \
    " SELECT new.id, new.title, new.authors, new.subjects, d.series, d.contents, d.summary"        \
    " FROM (SELECT 1) LEFT JOIN item_details d ON d.item_id = new.id;"                             \
    TL_SQ_SEARCH_BUMP " END;"                                                                      \
    "CREATE TRIGGER search_items_au AFTER UPDATE OF id, title, authors, subjects ON items"         \
    " WHEN old.id IS NOT new.id OR old.title IS NOT new.title OR old.authors IS NOT new.authors"   \
    " OR old.subjects IS NOT new.subjects BEGIN"                                                   \
    " DELETE FROM search_fts WHERE rowid IN (old.id, new.id); "                                    \
    TL_SQ_SEARCH_ROW_OF("new.id") " END;"                                        \
    "CREATE TRIGGER search_items_ad AFTER DELETE ON items BEGIN"                                   \
    " DELETE FROM search_fts WHERE rowid = old.id;" TL_SQ_SEARCH_BUMP " END;"                      \
    "CREATE TRIGGER search_details_ai AFTER INSERT ON item_details BEGIN"                          \
    " DELETE FROM search_fts WHERE rowid = new.item_id; "                                          \
    TL_SQ_SEARCH_ROW_OF("new.item_id") TL_SQ_SEARCH_BUMP " END;"                                   \
    "CREATE TRIGGER search_details_au AFTER UPDATE OF item_id, series, contents, summary"          \
    " ON item_details BEGIN"                                                                       \
    " DELETE FROM search_fts WHERE rowid IN (old.item_id, new.item_id); "                          \
    TL_SQ_SEARCH_ROWS_WHERE("i.id IN (old.item_id, new.item_id)") TL_SQ_SEARCH_BUMP " END;"        \
    "CREATE TRIGGER search_details_ad AFTER DELETE ON item_details BEGIN"                          \
    " DELETE FROM search_fts WHERE rowid = old.item_id; "                                          \
    TL_SQ_SEARCH_ROW_OF("old.item_id") TL_SQ_SEARCH_BUMP " END;"                                   \
    "CREATE TRIGGER search_items_version AFTER UPDATE ON items BEGIN" TL_SQ_SEARCH_BUMP " END;"     \
    "CREATE TRIGGER search_holdings_ai AFTER INSERT ON holdings BEGIN" TL_SQ_SEARCH_BUMP " END;"    \
    "CREATE TRIGGER search_holdings_au AFTER UPDATE ON holdings BEGIN" TL_SQ_SEARCH_BUMP " END;"    \
    "CREATE TRIGGER search_holdings_ad AFTER DELETE ON holdings BEGIN" TL_SQ_SEARCH_BUMP " END;"
/* clang-format on */
#define TL_SQ_SEARCH_DROP_TRIGGERS                                                                 \
    "DROP TRIGGER IF EXISTS search_items_ai; DROP TRIGGER IF EXISTS search_items_au;"              \
    "DROP TRIGGER IF EXISTS search_items_ad; DROP TRIGGER IF EXISTS search_details_ai;"            \
    "DROP TRIGGER IF EXISTS search_details_au; DROP TRIGGER IF EXISTS search_details_ad;"          \
    "DROP TRIGGER IF EXISTS search_holdings_ai; DROP TRIGGER IF EXISTS search_holdings_au;"        \
    "DROP TRIGGER IF EXISTS search_holdings_ad; DROP TRIGGER IF EXISTS search_items_version;"

/* Registers the "tailor" tokenizer on db: every connection, before anything reads or writes
 * the index (the migration included). SQLITE_OK or an SQLite error code. */
int tl__sq_search_register(sqlite3 *db);

/* The store operations of the index: see store_int.h's ops of the same names. */
tl_err tl__sq_search(tl_store *st, const tl_store_search_q *q, tl_store_hit_fn hit,
                     tl_store_facet_fn facet, void *ctx, int64_t *total);
tl_err tl__sq_search_total(tl_store *st, int64_t user, const char *query, int64_t ts,
                           int64_t total);
tl_err tl__sq_search_bulk(tl_store *st, int end, const char *languages);

/* The heads (sqlite_search_heads.c): registers tl_query_token on the connection's FTS5; the
 * word of a match expression that is one quoted word (1, else 0); the heads' term and count of
 * the records that have it (*df; -1: no valid heads for it); builds them again (keep 0: empty,
 * for an index that stems more than one language). */
int tl__sq_heads_register(fts5_api *api);
int tl__sq_heads_word(const char *match, char *word, size_t len);
tl_err tl__sq_heads_find(tl_store *st, const char *match, char *term, size_t len, int64_t *df);
tl_err tl__sq_heads_build(tl_store *st, int keep);

#endif
