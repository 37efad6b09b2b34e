/* The catalogue's full-text index in PostgreSQL (docs/SCALE-POSTGRES.md): a table search_docs
 * of one tsvector per item (title weight A, creators and subjects B, series C, contents and
 * summary D) with a GIN index, made by the text search configuration tl_search (the 'simple'
 * parser, diacritics folded by unaccent where the server has it, then the Snowball stems of the
 * store's first language, without stop words), kept in step with items and item_details by
 * triggers. It is derived: built when a writable connection finds it missing, and again whole
 * by a bulk load's end and `tailor search --reindex`. The store's FTS5 MATCH expression (quoted
 * terms, "*" prefixes, implicit AND, OR) becomes a tsquery; ts_rank ranks with the weights of
 * SQLite's columns. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/postgres/pg_int.h"
#include "store/search_filter.h"

#define LOCK_SQL "SELECT pg_advisory_xact_lock(1413564749)" /* pg_store.c's WRITE_LOCK */
#define META_LANGS "search_languages"
#define DEFAULT_LANGS "english"
/* ts_rank's weights {D, C, B, A}: SQLite's column weights 1, 3, 4, 10 scaled into 0..1 */
#define RANK_WEIGHTS "'{0.1, 0.3, 0.4, 1.0}'"

#define BUMP_SQL                                                                                   \
    "INSERT INTO meta(key, value) VALUES ('search_version', '1') ON CONFLICT(key)"                 \
    " DO UPDATE SET value = (meta.value::bigint + 1)::text;"
#define WORD_TOKENS                                                                                \
    "asciiword, word, numword, asciihword, hword, numhword, hword_asciipart, hword_part,"          \
    " hword_numpart"
#define DOC_SQL(WHERE)                                                                             \
    "INSERT INTO search_docs(item_id, doc) SELECT i.id,"                                           \
    " setweight(to_tsvector('tl_search', coalesce(i.title, '')), 'A') ||"                          \
    " setweight(to_tsvector('tl_search', coalesce(i.authors, '') || ' ' ||"                        \
    " coalesce(i.subjects, '')), 'B') ||"                                                          \
    " setweight(to_tsvector('tl_search', coalesce(d.series, '')), 'C') ||"                         \
    " setweight(to_tsvector('tl_search', coalesce(d.contents, '') || ' ' ||"                       \
    " coalesce(d.summary, '')), 'D')"                                                              \
    " FROM items i LEFT JOIN item_details d ON d.item_id = i.id" WHERE
#define DROP_TRIGGERS_SQL                                                                          \
    "DROP TRIGGER IF EXISTS search_items_ai ON items;"                                             \
    "DROP TRIGGER IF EXISTS search_items_au ON items;"                                             \
    "DROP TRIGGER IF EXISTS search_items_ad ON items;"                                             \
    "DROP TRIGGER IF EXISTS search_details_ai ON item_details;"                                    \
    "DROP TRIGGER IF EXISTS search_details_au ON item_details;"                                    \
    "DROP TRIGGER IF EXISTS search_details_ad ON item_details;"                                    \
    "DROP TRIGGER IF EXISTS search_items_version ON items;"                                        \
    "DROP TRIGGER IF EXISTS search_details_version ON item_details;"                               \
    "DROP TRIGGER IF EXISTS search_holdings_version ON holdings;"
/* One item's document written again (deleted when the item is gone); the version moved once
 * per transaction that writes items, their details or holdings (at its first such statement:
 * others see the new version with all of its writes at its commit; one row update per record
 * would double the cost of an import). */
#define TRIGGERS_SQL                                                                               \
    "CREATE OR REPLACE FUNCTION tl_search_put(p_item bigint) RETURNS void LANGUAGE plpgsql AS $$"  \
    " BEGIN DELETE FROM search_docs WHERE item_id = p_item; " DOC_SQL(                             \
        " WHERE i.id = p_item") "; END $$;"                                                        \
                                "CREATE OR REPLACE FUNCTION tl_search_row() RETURNS trigger "      \
                                "LANGUAGE plpgsql AS $$ BEGIN"                                     \
                                " IF TG_OP <> 'INSERT' THEN"                                       \
                                "  IF TG_TABLE_NAME = 'items' THEN PERFORM tl_search_put(OLD.id);" \
                                "  ELSE PERFORM tl_search_put(OLD.item_id); END IF;"               \
                                " END IF;"                                                         \
                                " IF TG_OP <> 'DELETE' THEN"                                       \
                                "  IF TG_TABLE_NAME = 'items' THEN PERFORM tl_search_put(NEW.id);" \
                                "  ELSE PERFORM tl_search_put(NEW.item_id); END IF;"               \
                                " END IF; RETURN NULL; END $$;"                                    \
                                "CREATE OR REPLACE FUNCTION tl_search_bump() RETURNS trigger "     \
                                "LANGUAGE plpgsql AS $$ BEGIN"                                     \
                                " IF current_setting('tailor.search_moved', true) = '1' THEN "     \
                                "RETURN NULL; END IF;"                                             \
                                " PERFORM set_config('tailor.search_moved', '1', true); " BUMP_SQL \
                                " RETURN NULL; END $$;"                                            \
                                "CREATE TRIGGER search_items_ai AFTER INSERT ON items FOR EACH "   \
                                "ROW"                                                              \
                                " EXECUTE FUNCTION tl_search_row();"                               \
                                "CREATE TRIGGER search_items_au AFTER UPDATE ON items FOR EACH "   \
                                "ROW "                                                             \
                                "WHEN"                                                             \
                                " (OLD.id IS DISTINCT FROM NEW.id OR OLD.title IS DISTINCT FROM "  \
                                "NEW.title OR"                                                     \
                                " OLD.authors IS DISTINCT FROM NEW.authors OR OLD.subjects IS "    \
                                "DISTINCT FROM NEW.subjects)"                                      \
                                " EXECUTE FUNCTION tl_search_row();"                               \
                                "CREATE TRIGGER search_items_ad AFTER DELETE ON items FOR EACH "   \
                                "ROW"                                                              \
                                " EXECUTE FUNCTION tl_search_row();"                               \
                                "CREATE TRIGGER search_details_ai AFTER INSERT ON item_details "   \
                                "FOR "                                                             \
                                "EACH ROW"                                                         \
                                " EXECUTE FUNCTION tl_search_row();"                               \
                                "CREATE TRIGGER search_details_au AFTER UPDATE ON item_details "   \
                                "FOR "                                                             \
                                "EACH ROW WHEN"                                                    \
                                " (OLD.item_id IS DISTINCT FROM NEW.item_id OR OLD.series IS "     \
                                "DISTINCT FROM NEW.series OR"                                      \
                                " OLD.contents IS DISTINCT FROM NEW.contents OR OLD.summary IS "   \
                                "DISTINCT FROM NEW.summary)"                                       \
                                " EXECUTE FUNCTION tl_search_row();"                               \
                                "CREATE TRIGGER search_details_ad AFTER DELETE ON item_details "   \
                                "FOR "                                                             \
                                "EACH ROW"                                                         \
                                " EXECUTE FUNCTION tl_search_row();"                               \
                                "CREATE TRIGGER search_items_version AFTER INSERT OR UPDATE OR "   \
                                "DELETE ON items"                                                  \
                                " FOR EACH STATEMENT EXECUTE FUNCTION tl_search_bump();"           \
                                "CREATE TRIGGER search_details_version AFTER INSERT OR UPDATE OR " \
                                "DELETE ON item_details"                                           \
                                " FOR EACH STATEMENT EXECUTE FUNCTION tl_search_bump();"           \
                                "CREATE TRIGGER search_holdings_version AFTER INSERT OR UPDATE "   \
                                "OR "                                                              \
                                "DELETE ON holdings"                                               \
                                " FOR EACH STATEMENT EXECUTE FUNCTION tl_search_bump();"

/* ---- building ----------------------------------------------------------------------------- */

/* The first of "english,french" (a Snowball name, or "none") into out; 0 when the list is not
 * one of lowercase names. PostgreSQL's snowball dictionary refuses an unknown one. The index
 * stems one language: a Snowball dictionary takes every word, so a second never would. */
static int first_lang(const char *in, char *out, size_t len)
{
    size_t k = strcspn(in, ",");
    if (k == 0 || k >= len)
        return 0;
    for (const char *p = in; *p; p++)
        if ((*p < 'a' || *p > 'z') && *p != ',')
            return 0;
    memcpy(out, in, k);
    out[k] = '\0';
    return 1;
}

/* 1 when the server has unaccent here (made now if it can be: a savepoint keeps a refusal from
 * failing the caller's transaction). */
static int has_unaccent(tl_store *st)
{
    if (tl__pg_query(st, "SAVEPOINT tl_unaccent", NULL, NULL) != TL_OK)
        return 0;
    if (tl__pg_query(st, "CREATE EXTENSION IF NOT EXISTS unaccent", NULL, NULL) == TL_OK)
        return tl__pg_query(st, "RELEASE SAVEPOINT tl_unaccent", NULL, NULL) == TL_OK;
    tl__pg_query(st, "ROLLBACK TO SAVEPOINT tl_unaccent", NULL, NULL);
    return 0;
}

/* The configurations, the table filled with the catalogue, its index and triggers, for lang;
 * meta: 1 moves the catalogue's version and keeps languages as the store's (a first build
 * writes no meta row: a store just made stays empty for tailor migrate). */
static tl_err build(tl_store *st, const char *lang, const char *languages, int meta)
{
    const char *fold = has_unaccent(st) ? "unaccent, " : "";
    char dict[160];
    if (strcmp(lang, "none") == 0)
        snprintf(dict, sizeof(dict), "TEMPLATE = pg_catalog.simple");
    else
        snprintf(dict, sizeof(dict), "TEMPLATE = snowball, Language = %s", lang);
    size_t cap = 4096;
    char *sql = malloc(cap);
    if (!sql)
        return TL_ENOMEM;
    snprintf(sql, cap,
             "DROP TABLE IF EXISTS search_docs;"
             "DROP TEXT SEARCH CONFIGURATION IF EXISTS tl_search;"
             "DROP TEXT SEARCH CONFIGURATION IF EXISTS tl_prefix;"
             "DROP TEXT SEARCH DICTIONARY IF EXISTS tl_stem;"
             "CREATE TEXT SEARCH DICTIONARY tl_stem (%s);"
             "CREATE TEXT SEARCH CONFIGURATION tl_search (COPY = pg_catalog.simple);"
             "ALTER TEXT SEARCH CONFIGURATION tl_search ALTER MAPPING FOR " WORD_TOKENS
             " WITH %stl_stem;"
             "CREATE TEXT SEARCH CONFIGURATION tl_prefix (COPY = pg_catalog.simple);"
             "ALTER TEXT SEARCH CONFIGURATION tl_prefix ALTER MAPPING FOR " WORD_TOKENS
             " WITH %ssimple;"
             "CREATE TABLE search_docs(item_id BIGINT PRIMARY KEY, doc tsvector NOT NULL);",
             dict, fold, fold);
    tl_err rc = tl__pg_query(st, sql, NULL, NULL);
    free(sql);
    if (rc != TL_OK && strstr(st->errmsg, "language")) {
        snprintf(st->why, sizeof(st->why),
                 "languages: '%.100s' is not a comma-separated list of Snowball languages"
                 " (english, french, german, ..., or none)",
                 languages);
        return TL_EINVAL;
    }
    if (rc == TL_OK)
        rc = tl__pg_query(st, DOC_SQL("") ";", NULL, NULL);
    if (rc == TL_OK)
        rc = tl__pg_query(
            st,
            "CREATE INDEX search_docs_doc ON search_docs USING gin(doc);" DROP_TRIGGERS_SQL
                TRIGGERS_SQL,
            NULL, NULL);
    if (rc != TL_OK || !meta)
        return rc;
    tl_pg_args a = {0};
    tl__pg_str(&a, languages);
    rc = tl__pg_query(st, BUMP_SQL, NULL, NULL);
    if (rc == TL_OK)
        rc = tl__pg_query(st,
                          "INSERT INTO meta(key, value) VALUES ('" META_LANGS "', $1)"
                          " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                          &a, NULL);
    return rc;
}

static tl_err rebuild(tl_store *st, int end, const char *languages, int meta)
{
    if (end == 0)
        return tl__pg_query(st, DROP_TRIGGERS_SQL, NULL, NULL);
    if (end == 2) /* no heads on PostgreSQL: the GIN index answers common words */
        return TL_OK;
    char *stored = NULL;
    if (!languages) {
        PGresult *r = NULL;
        tl_err rc =
            tl__pg_query(st, "SELECT value FROM meta WHERE key = '" META_LANGS "'", NULL, &r);
        if (rc != TL_OK)
            return rc;
        if (PQntuples(r) == 1 && !(stored = strdup(PQgetvalue(r, 0, 0)))) {
            PQclear(r);
            return TL_ENOMEM;
        }
        PQclear(r);
        languages = stored ? stored : DEFAULT_LANGS;
    }
    char lang[32];
    tl_err rc;
    if (!first_lang(languages, lang, sizeof(lang))) {
        snprintf(st->why, sizeof(st->why),
                 "languages: '%.100s' is not a comma-separated list of Snowball languages"
                 " (english, french, german, ..., or none)",
                 languages);
        rc = TL_EINVAL;
    } else
        rc = build(st, lang, languages, meta);
    free(stored);
    return rc;
}

tl_err tl__pg_search_bulk(tl_store *st, int end, const char *languages)
{
    return rebuild(st, end, languages, 1);
}

tl_err tl__pg_search_ensure(tl_store *st)
{
    PGresult *r = NULL;
    tl_err rc = tl__pg_query(st, "SELECT to_regclass('search_docs') IS NULL", NULL, &r);
    int missing = rc == TL_OK && PQntuples(r) == 1 && PQgetvalue(r, 0, 0)[0] == 't';
    PQclear(r);
    if (rc != TL_OK || !missing)
        return rc;
    if ((rc = tl__pg_query(st, "BEGIN; " LOCK_SQL, NULL, NULL)) != TL_OK)
        return rc;
    rc = tl__pg_query(st, "SELECT to_regclass('search_docs') IS NULL", NULL, &r);
    missing = rc == TL_OK && PQntuples(r) == 1 && PQgetvalue(r, 0, 0)[0] == 't';
    PQclear(r);
    if (rc == TL_OK && missing) /* not made by another process meanwhile */
        rc = rebuild(st, 1, NULL, 0);
    tl_err end = tl__pg_query(st, rc == TL_OK ? "COMMIT" : "ROLLBACK", NULL, NULL);
    return rc == TL_OK ? end : rc;
}

/* ---- text ----------------------------------------------------------------------------------- */

/* An element of a PostgreSQL array literal: quoted, '"' and '\' escaped. */
static void put_elem(tl_sqlbuf *b, const char *t, size_t n)
{
    tl_sqlbuf_put(b, b->n > 1 ? ",\"" : "\"");
    for (size_t i = 0; i < n; i++) {
        if (t[i] == '"' || t[i] == '\\')
            tl_sqlbuf_putn(b, "\\", 1);
        tl_sqlbuf_putn(b, t + i, 1);
    }
    tl_sqlbuf_put(b, "\"");
}

static int word_byte(unsigned char c)
{
    return c >= 0x80 || (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
}

/* A prefix term as to_tsquery's text: its runs of letters and digits quoted, in order, the
 * last a prefix ("'the' <-> 'rabb':*"); nothing when it has none. */
static void prefix_query(tl_sqlbuf *b, const char *t, size_t n)
{
    size_t i = 0;
    int first = 1;
    while (i < n) {
        while (i < n && !word_byte((unsigned char)t[i]))
            i++;
        size_t s = i;
        while (i < n && word_byte((unsigned char)t[i]))
            i++;
        if (i == s)
            break;
        tl_sqlbuf_put(b, first ? "'" : " <-> '");
        tl_sqlbuf_putn(b, t + s, i - s);
        tl_sqlbuf_put(b, "'");
        first = 0;
    }
    if (!first)
        tl_sqlbuf_put(b, ":*");
}

/* The MATCH expression as SQL making a tsquery (terms[k] the k-th element of $1::text::text[]), and
 * the terms as that array's literal. TL_EINVAL (st->why "the search: ...") for what the store's
 * callers never write: FTS5's other operators, columns, parentheses. */
static tl_err match_sql(tl_store *st, const char *m, tl_sqlbuf *q, tl_sqlbuf *terms)
{
    tl_sqlbuf_put(terms, "{");
    int nterm = 0, in_group = 0;
    size_t i = 0, len = strlen(m);
    tl_sqlbuf_put(q, "((");
    while (i < len) {
        if (m[i] == ' ' || m[i] == '\t' || m[i] == '\n' || m[i] == '\r') {
            i++;
            continue;
        }
        tl_sqlbuf text = {0};
        if (m[i] == '"') {
            size_t j = i + 1;
            for (; j < len; j++) {
                if (m[j] == '"' && m[j + 1] == '"')
                    tl_sqlbuf_putn(&text, m + j++, 1);
                else if (m[j] == '"')
                    break;
                else
                    tl_sqlbuf_putn(&text, m + j, 1);
            }
            if (j >= len) {
                free(text.s);
                snprintf(st->why, sizeof(st->why), "the search: unterminated string");
                return TL_EINVAL;
            }
            i = j + 1;
        } else {
            size_t j = i;
            while (j < len && m[j] != ' ' && m[j] != '\t' && m[j] != '"' && m[j] != '*')
                j++;
            size_t k = j - i;
            if (k == 2 && memcmp(m + i, "OR", 2) == 0) {
                if (!in_group)
                    goto syntax;
                tl_sqlbuf_put(q, ") || (");
                in_group = 0;
                i = j;
                continue;
            }
            if (k == 3 && memcmp(m + i, "AND", 3) == 0) {
                i = j;
                continue;
            }
            for (size_t c = i; c < j; c++)
                if (!word_byte((unsigned char)m[c]) && m[c] != '_')
                    goto syntax;
            if (k == 0 || (k == 3 && memcmp(m + i, "NOT", 3) == 0) ||
                (k == 4 && memcmp(m + i, "NEAR", 4) == 0))
                goto syntax;
            tl_sqlbuf_putn(&text, m + i, k);
            i = j;
        }
        size_t p = i;
        while (p < len && (m[p] == ' ' || m[p] == '\t'))
            p++;
        int prefix = p < len && m[p] == '*';
        if (prefix)
            i = p + 1;
        char op[128];
        if (prefix) {
            tl_sqlbuf pq = {0};
            prefix_query(&pq, text.s ? text.s : "", text.n);
            put_elem(terms, pq.s ? pq.s : "", pq.n);
            free(pq.s);
            snprintf(op, sizeof(op), "%sto_tsquery('tl_prefix', ($1::text::text[])[%d])",
                     in_group ? " && " : "", ++nterm);
        } else {
            put_elem(terms, text.s ? text.s : "", text.n);
            snprintf(op, sizeof(op), "%sphraseto_tsquery('tl_search', ($1::text::text[])[%d])",
                     in_group ? " && " : "", ++nterm);
        }
        free(text.s);
        tl_sqlbuf_put(q, op);
        in_group = 1;
    }
    if (!in_group && nterm) /* a trailing OR */
        goto syntax;
    if (!nterm)
        tl_sqlbuf_put(q, "''::tsquery");
    tl_sqlbuf_put(q, "))");
    tl_sqlbuf_put(terms, "}");
    return q->oom || terms->oom ? TL_ENOMEM : TL_OK;
syntax:
    snprintf(st->why, sizeof(st->why), "the search: syntax error near \"%.40s\"", m + i);
    return TL_EINVAL;
}

/* ---- filters ------------------------------------------------------------------------------ */

/* The filters' values as the elements of $2::text::text[] (vals, an array literal). */
typedef struct pg_binds {
    tl_sqlbuf *vals, *held;
    int nv;
} pg_binds;

static int bind_value(void *ctx, const char *value, char *name, size_t len)
{
    pg_binds *p = ctx;
    put_elem(p->vals, value, strlen(value));
    snprintf(name, len, "($2::text::text[])[%d]", ++p->nv);
    return p->vals->oom;
}

/* A library's branches as $3::text::text[]. */
static int bind_held(void *ctx, const char *const *branches, int n, char *cond, size_t len)
{
    pg_binds *p = ctx;
    for (int k = 0; k < n; k++)
        put_elem(p->held, branches[k], strlen(branches[k]));
    snprintf(cond, len, "h.branch = ANY($3::text::text[])");
    return p->held->oom;
}

/* The filters' conditions over items i (search_filter.c), their values in vals and the
 * library's branches in held, each an array literal. */
static tl_err filter_sql(const tl_store_search_q *q, tl_sqlbuf *b, tl_sqlbuf *vals, tl_sqlbuf *held,
                         tl_diag *d)
{
    pg_binds p = {vals, held, 0};
    tl_filter_dialect e = {"strpos", bind_value, bind_held, &p};
    tl_sqlbuf_put(vals, "{");
    tl_sqlbuf_put(held, "{");
    tl_err rc = tl__search_filter_sql(q, &e, b, d);
    tl_sqlbuf_put(vals, "}");
    tl_sqlbuf_put(held, "}");
    return rc == TL_OK && (vals->oom || held->oom) ? TL_ENOMEM : rc;
}

/* ---- search ------------------------------------------------------------------------------- */

static const char *const facet_names[] = {"type",    "format", "language",    "year",
                                          "subject", "branch", "availability"};

#define STR_(x) #x
#define STR(x) STR_(x)

/* The facets of the first TL_SEARCH_FACET_SCAN matches in the catalogue's order, counted by
 * the server: the most common TL_SEARCH_FACET_VALUES of each, most first (ties by value). */
#define FACETS_SQL                                                                                 \
    "), f AS ("                                                                                    \
    " SELECT 0 AS k, type AS v, count(*) AS n FROM m WHERE type <> '' GROUP BY type"               \
    " UNION ALL SELECT 1, format, count(*) FROM m WHERE format <> '' GROUP BY format"              \
    " UNION ALL SELECT 2, language, count(*) FROM m WHERE language <> '' GROUP BY language"        \
    " UNION ALL SELECT 3, dec || '-' || (dec + 9), count(*) FROM (SELECT CASE WHEN year >= 0"      \
    "  THEN year / 10 * 10 ELSE -((-year + 9) / 10 * 10) END AS dec FROM m"                        \
    "  WHERE year IS NOT NULL) y GROUP BY dec"                                                     \
    " UNION ALL SELECT 4, sub, count(*) FROM m, unnest(string_to_array(m.subjects, '|')) sub"      \
    "  WHERE sub <> '' GROUP BY sub"                                                               \
    " UNION ALL SELECT 5, h.branch, count(DISTINCT h.item_id) FROM m"                              \
    "  JOIN holdings h ON h.item_id = m.id WHERE h.branch <> '' GROUP BY h.branch"                 \
    " UNION ALL SELECT 6, CASE WHEN av <> 0 THEN 'available' ELSE 'unavailable' END, count(*)"     \
    "  FROM m WHERE av IS NOT NULL GROUP BY 2)"                                                    \
    " SELECT k, v, n FROM (SELECT k, v, n, row_number() OVER (PARTITION BY k"                      \
    " ORDER BY n DESC, v COLLATE \"C\") AS rn FROM f) x WHERE rn <= " STR(                         \
        TL_SEARCH_FACET_VALUES) " ORDER BY k, rn"

static tl_err run(tl_store *st, const char *head, const char *tsq, const char *conds,
                  const char *tail, const tl_pg_args *a, PGresult **r)
{
    tl_sqlbuf b = {0};
    tl_sqlbuf_put(&b, head);
    tl_sqlbuf_put(&b, tsq);
    tl_sqlbuf_put(
        &b, " AS q, $2::text AS vals, $3::text AS held) q, search_docs s JOIN items i ON i.id = "
            "s.item_id"
            " WHERE s.doc @@ q.q");
    tl_sqlbuf_put(&b, conds);
    tl_sqlbuf_put(&b, tail);
    if (b.oom) {
        free(b.s);
        return TL_ENOMEM;
    }
    tl_err rc = tl__pg_query(st, b.s, a, r);
    free(b.s);
    return rc;
}

tl_err tl__pg_search(tl_store *st, const tl_store_search_q *q, tl_store_hit_fn hit,
                     tl_store_facet_fn facet, void *ctx, int64_t *total)
{
    tl_sqlbuf tsq = {0}, terms = {0}, conds = {0}, vals = {0}, held = {0};
    tl_diag d;
    tl_diag_clear(&d);
    *total = 0;
    tl_store_search_info info_;
    tl_store_search_info *info = q->info ? q->info : &info_;
    memset(info, 0, sizeof(*info));
    tl_sqlbuf_put(&conds, "");
    tl_err rc = filter_sql(q, &conds, &vals, &held, &d);
    if (rc == TL_EINVAL)
        snprintf(st->why, sizeof(st->why), "%s", d.msg);
    if (rc == TL_OK)
        rc = match_sql(st, q->match, &tsq, &terms);
    tl_pg_args a = {0};
    if (rc == TL_OK) {
        tl__pg_str(&a, terms.s);
        tl__pg_str(&a, vals.s);
        tl__pg_str(&a, held.s);
    }
    PGresult *r = NULL;
    if (rc == TL_OK) {
        char tail[96];
        snprintf(tail, sizeof(tail), " ORDER BY 3 DESC, s.item_id LIMIT %d", q->limit);
        rc = run(st,
                 "SELECT i.ext_id, i.title, ts_rank(" RANK_WEIGHTS ", s.doc, q.q, 1),"
                 " count(*) OVER () FROM (SELECT ",
                 tsq.s, conds.s, tail, &a, &r);
    }
    if (rc == TL_ESTORE && strstr(st->errmsg, "\"search_docs\" does not exist"))
        snprintf(st->errmsg, sizeof(st->errmsg),
                 "the catalogue's search index is not built yet: a writable open builds it, or"
                 " `tailor search --reindex`");
    for (int k = 0; rc == TL_OK && k < PQntuples(r); k++) {
        *total = tl__pg_i64(r, k, 3);
        rc = hit(ctx, tl__pg_s(r, k, 0), tl__pg_s(r, k, 1), strtod(PQgetvalue(r, k, 2), NULL));
    }
    PQclear(r);
    r = NULL;
    if (rc == TL_OK && q->facets) {
        rc = run(st,
                 "WITH m AS (SELECT i.id, i.type, i.format, i.language, i.year, "
                 "i.subjects, " TL_AVAIL_SQL " AS av FROM (SELECT ",
                 tsq.s, conds.s, " ORDER BY s.item_id LIMIT " STR(TL_SEARCH_FACET_SCAN) FACETS_SQL,
                 &a, &r);
        for (int k = 0; rc == TL_OK && k < PQntuples(r); k++) {
            int64_t f = tl__pg_i64(r, k, 0);
            rc = facet(ctx, facet_names[f], tl__pg_s(r, k, 1), tl__pg_i64(r, k, 2));
        }
        PQclear(r);
        info->facets_scanned = *total > TL_SEARCH_FACET_SCAN ? TL_SEARCH_FACET_SCAN : 0;
    }
    free(tsq.s);
    free(terms.s);
    free(conds.s);
    free(vals.s);
    free(held.s);
    return rc;
}
