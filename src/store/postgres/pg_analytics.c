/* Collection analytics on a PostgreSQL store (tailor/store.h, tl_store_analytics), and the
 * totals of searches made that its searches section reads (tl_store_search_log): the
 * statements of src/store/sqlite/sqlite_analytics.c in PostgreSQL's dialect, each aggregating
 * in SQL. Subjects are split out of the items' '|'-separated lists with string_to_array, and
 * text sorts byte-wise (COLLATE "C") as SQLite's does. Every statement starts with the same
 * six parameters, typed once: $1 since, $2 until, $3 branch, $4 new_since, $5 few, $6 limit. */
#include <stdlib.h>

#include "store/postgres/pg_int.h"

#define PARAMS                                                                                     \
    "WITH params AS (SELECT $1::bigint, $2::bigint, $3::text, $4::bigint, $5::bigint,"             \
    " $6::bigint)"
#define C " COLLATE \"C\""
#define LOAN "(SELECT id FROM event_types WHERE name = 'loan')"
#define HOLD "(SELECT id FROM event_types WHERE name = 'hold')"
#define BRANCH "$3::text"

/* subj(item_id, sid) and names(sid, subject): one row per element of each item's subjects,
 * the subjects numbered so that the large groupings sort integers, not text */
#define SUBJ                                                                                       \
    "subj0 AS MATERIALIZED (SELECT DISTINCT i.id AS item_id, x.s AS subject FROM items i"          \
    " CROSS JOIN LATERAL unnest(string_to_array(i.subjects, '|')) AS x(s)"                         \
    " WHERE i.subjects IS NOT NULL AND i.subjects <> '' AND x.s <> ''),"                           \
    " names AS MATERIALIZED (SELECT subject, row_number() OVER (ORDER BY subject" C ") AS sid"     \
    " FROM (SELECT DISTINCT subject FROM subj0) d),"                                               \
    " subj AS MATERIALIZED (SELECT s.item_id, n.sid FROM subj0 s"                                  \
    " JOIN names n ON n.subject = s.subject)"

/* the copies of item i: its holdings (at the branch), else its copies field, else one */
#define COPIES                                                                                     \
    "(CASE WHEN " BRANCH " IS NOT NULL THEN (SELECT count(*) FROM holdings h"                      \
    " WHERE h.item_id = i.id AND h.branch = " BRANCH ")"                                           \
    " ELSE coalesce((SELECT nullif(count(*), 0) FROM holdings h WHERE h.item_id = i.id),"          \
    " i.copies, 1) END)"

/* item i has a copy at the branch (or no branch is asked for) */
#define HELD                                                                                       \
    "(" BRANCH " IS NULL OR EXISTS (SELECT 1 FROM holdings h WHERE h.item_id = i.id"               \
    " AND h.branch = " BRANCH "))"

/* events at the branch asked for (alias e) */
#define AT_BRANCH "(" BRANCH " IS NULL OR e.branch = " BRANCH ")"

#define LOANED                                                                                     \
    "loaned AS MATERIALIZED (SELECT DISTINCT e.item_id FROM events e WHERE e.type_id = " LOAN      \
    " AND e.ts BETWEEN $1 AND $2 AND " AT_BRANCH ")"

#define COLL                                                                                       \
    "coll AS MATERIALIZED (SELECT i.id, i.id IN (SELECT item_id FROM loaned) AS used"              \
    " FROM items i WHERE (i.added IS NULL OR i.added <= $1) AND " HELD ")"

#define NEW                                                                                        \
    "newi AS MATERIALIZED (SELECT i.id FROM items i WHERE i.added BETWEEN $4 AND $2 AND " HELD     \
    "),"                                                                                           \
    " nl AS MATERIALIZED (SELECT e.user_id, e.item_id, count(*) AS loans FROM events e"            \
    " JOIN items i ON i.id = e.item_id WHERE e.type_id = " LOAN " AND e.ts <= $2"                  \
    " AND i.added BETWEEN $4 AND $2 AND e.ts >= i.added AND " AT_BRANCH                            \
    " AND e.item_id IN (SELECT id FROM newi) GROUP BY e.user_id, e.item_id)"

#define QUERY "lower(btrim(s.query))"

/* Each statement's columns: key, label, extra, then the numbers. */
static const char *const sql[] = {
    [TL_AN_PERIOD] = PARAMS " SELECT NULL, NULL, NULL, coalesce(max(ts), 0), count(*) FROM events",
    [TL_AN_DEMAND] =
        PARAMS ", " SUBJ ","
               " cat AS (SELECT s.sid, count(*) AS items, sum(" COPIES ") AS copies FROM subj s"
               " JOIN items i ON i.id = s.item_id GROUP BY s.sid),"
               " pairs AS (SELECT e.user_id, e.item_id,"
               " count(*) FILTER (WHERE e.type_id = " LOAN ") AS loans,"
               " count(*) FILTER (WHERE e.type_id = " HOLD ") AS holds FROM events e"
               " WHERE e.type_id IN (" LOAN ", " HOLD ") AND e.ts BETWEEN $1 AND $2"
               " AND " AT_BRANCH " GROUP BY e.user_id, e.item_id),"
               " dem AS (SELECT s.sid, sum(p.loans) AS loans, sum(p.holds) AS holds,"
               " count(DISTINCT p.user_id) AS patrons FROM pairs p"
               " JOIN subj s ON s.item_id = p.item_id GROUP BY s.sid)"
               " SELECT n.subject, NULL, NULL, c.items, c.copies, coalesce(d.loans, 0),"
               " coalesce(d.holds, 0), coalesce(d.patrons, 0) FROM cat c"
               " JOIN names n ON n.sid = c.sid LEFT JOIN dem d ON d.sid = c.sid"
               " WHERE " BRANCH " IS NULL OR c.copies > 0 OR d.sid IS NOT NULL"
               " ORDER BY n.subject" C,
    [TL_AN_HOLDS] =
        PARAMS ", open AS (SELECT e.user_id, e.item_id FROM events e WHERE e.type_id = " HOLD
               " AND e.ts BETWEEN $1 AND $2 AND " AT_BRANCH " AND NOT EXISTS (SELECT 1 FROM"
               " events l WHERE l.user_id = e.user_id AND l.item_id = e.item_id"
               " AND l.type_id = " LOAN " AND l.ts BETWEEN e.ts AND $2)),"
               " q AS (SELECT item_id, count(DISTINCT user_id) AS patrons FROM open"
               " GROUP BY item_id)"
               " SELECT i.ext_id, i.title, NULL, q.patrons, " COPIES " FROM q"
               " JOIN items i ON i.id = q.item_id ORDER BY q.patrons DESC, i.ext_id" C,
    [TL_AN_IDLE_TOTAL] = PARAMS ", " LOANED ", " COLL " SELECT NULL, NULL, NULL, count(*),"
                                " count(*) FILTER (WHERE NOT used) FROM coll",
    [TL_AN_IDLE_SUBJECTS] =
        PARAMS ", " SUBJ ", " LOANED ", " COLL " SELECT n.subject, NULL, NULL, count(*),"
               " count(*) FILTER (WHERE NOT c.used) FROM coll c"
               " JOIN subj s ON s.item_id = c.id JOIN names n ON n.sid = s.sid"
               " GROUP BY s.sid, n.subject ORDER BY n.subject" C,
    [TL_AN_IDLE_BRANCHES] =
        PARAMS ", " LOANED ", " COLL " SELECT h.branch, NULL, NULL, count(DISTINCT h.item_id),"
               " count(DISTINCT CASE WHEN NOT c.used THEN h.item_id END)"
               " FROM holdings h JOIN coll c ON c.id = h.item_id"
               " WHERE h.branch IS NOT NULL AND h.branch <> ''"
               " AND (" BRANCH " IS NULL OR h.branch = " BRANCH ")"
               " GROUP BY h.branch ORDER BY h.branch" C,
    [TL_AN_IDLE_ITEMS] =
        PARAMS ", " LOANED ", " COLL " SELECT i.ext_id, i.title, i.subjects, i.added, " COPIES
               " FROM coll c JOIN items i ON i.id = c.id WHERE NOT c.used"
               " ORDER BY i.added, i.ext_id" C " LIMIT $6",
    [TL_AN_SEARCHES] =
        PARAMS " SELECT " QUERY ", NULL, NULL, count(*), count(DISTINCT s.user_id),"
               " count(*) FILTER (WHERE t.total = 0), max(t.total) FROM searches s"
               " JOIN search_totals t ON t.search_id = s.id WHERE s.ts BETWEEN $1 AND $2"
               " AND t.total <= $5 GROUP BY " QUERY " HAVING " QUERY " <> ''"
               " ORDER BY count(*) DESC, " QUERY C,
    [TL_AN_NEW_TOTAL] = PARAMS ", " NEW " SELECT NULL, NULL, NULL, (SELECT count(*) FROM newi),"
                               " count(DISTINCT item_id), coalesce(sum(loans), 0),"
                               " count(DISTINCT user_id) FROM nl",
    [TL_AN_NEW] = PARAMS ", " SUBJ ", " NEW ","
                         " cat AS (SELECT s.sid, count(*) AS items FROM newi n"
                         " JOIN subj s ON s.item_id = n.id GROUP BY s.sid),"
                         " dem AS (SELECT s.sid, count(DISTINCT l.item_id) AS loaned,"
                         " sum(l.loans) AS loans, count(DISTINCT l.user_id) AS patrons FROM nl l"
                         " JOIN subj s ON s.item_id = l.item_id GROUP BY s.sid)"
                         " SELECT n.subject, NULL, NULL, c.items, coalesce(d.loaned, 0),"
                         " coalesce(d.loans, 0), coalesce(d.patrons, 0) FROM cat c"
                         " JOIN names n ON n.sid = c.sid LEFT JOIN dem d ON d.sid = c.sid"
                         " ORDER BY n.subject" C,
};
#define NPARTS ((int)(sizeof(sql) / sizeof(sql[0])))

tl_err tl__pg_analytics(tl_store *st, tl_analytics_part part, const tl_analytics_window *w,
                        tl_analytics_fn fn, void *ctx)
{
    if ((int)part < 0 || (int)part >= NPARTS || !sql[part])
        return TL_EINVAL;
    tl_pg_args a = {0};
    PGresult *r = NULL;
    tl__pg_int(&a, w->since);
    tl__pg_int(&a, w->until);
    tl__pg_str(&a, w->branch);
    tl__pg_int(&a, w->new_since);
    tl__pg_int(&a, w->few);
    tl__pg_int(&a, w->limit);
    tl_err rc = tl__pg_query(st, sql[part], &a, &r);
    int ncols = rc == TL_OK ? PQnfields(r) : 0;
    for (int i = 0; rc == TL_OK && i < PQntuples(r); i++) {
        tl_analytics_row row = {tl__pg_s(r, i, 0), tl__pg_s(r, i, 1), tl__pg_s(r, i, 2), {0}};
        for (int c = 3; c < ncols && c - 3 < 6; c++)
            row.v[c - 3] = tl__pg_opt_col(r, i, c);
        rc = fn(ctx, &row);
    }
    PQclear(r);
    return rc;
}

tl_err tl__pg_search_total(tl_store *st, int64_t user, const char *query, int64_t ts, int64_t total)
{
    tl_pg_args a = {0};
    tl__pg_int(&a, user);
    tl__pg_str(&a, query);
    tl__pg_int(&a, ts);
    tl__pg_int(&a, total);
    return tl__pg_query(st,
                        "INSERT INTO search_totals(search_id, total) SELECT id, $4 FROM searches"
                        " WHERE coalesce(user_id, 0) = $1 AND query = $2 AND ts = $3"
                        " ON CONFLICT(search_id) DO UPDATE SET total = excluded.total",
                        &a, NULL);
}
