/* Collection analytics on a SQLite store (tailor/store.h, tl_store_analytics): each part is one
 * statement that aggregates in SQL, so a report costs a few scans of the events, never a row
 * of C per event. Subjects are split out of the items' '|'-separated lists (json_each),
 * materialized once per statement. The events have no index by item
 * or time: the aggregates first reduce them to (patron, item) pairs, which the primary key
 * (user_id, item_id, ...) yields in order, without a sort. Reports run rarely (a librarian's
 * request), so the statements are prepared per call. Parameters: ?1 since, ?2 until,
 * ?3 branch, ?4 new_since, ?5 few, ?6 limit. */
#include <stdlib.h>

#include "store/sqlite/sqlite_int.h"

#define LOAN "(SELECT id FROM event_types WHERE name = 'loan')"
#define HOLD "(SELECT id FROM event_types WHERE name = 'hold')"

/* subj(item_id, sid) and names(sid, subject): one row per element of each item's subjects,
 * split by json_each (the list made a JSON array: far faster than a recursive CTE of substr),
 * the subjects numbered so that the large groupings sort integers, not text. A list holding a
 * control character other than TAB, CR or LF (which JSON cannot carry raw) gives no subject. */
#define JSON_LIST                                                                                  \
    "'[\"' || replace(replace(replace(replace(replace(replace(subjects, '\\', '\\\\'),"            \
    " '\"', '\\\"'), char(9), '\\t'), char(10), '\\n'), char(13), '\\r'), '|', '\",\"') || '\"]'"
#define SUBJ                                                                                       \
    "lists AS (SELECT id, " JSON_LIST " AS a FROM items WHERE subjects IS NOT NULL"                \
    " AND subjects <> ''),"                                                                        \
    " subj0 AS MATERIALIZED (SELECT DISTINCT l.id AS item_id, j.value AS subject FROM lists l,"    \
    " json_each(CASE WHEN json_valid(l.a) THEN l.a ELSE '[]' END) j WHERE j.value <> ''),"         \
    " names AS MATERIALIZED (SELECT subject, row_number() OVER (ORDER BY subject) AS sid"          \
    " FROM (SELECT DISTINCT subject FROM subj0)),"                                                 \
    " subj AS MATERIALIZED (SELECT s.item_id, n.sid FROM subj0 s"                                  \
    " JOIN names n ON n.subject = s.subject)"

/* the copies of item i: its holdings (at the branch), else its copies field, else one */
#define COPIES                                                                                     \
    "(CASE WHEN ?3 IS NOT NULL THEN (SELECT count(*) FROM holdings h"                              \
    " WHERE h.item_id = i.id AND h.branch = ?3)"                                                   \
    " ELSE coalesce((SELECT nullif(count(*), 0) FROM holdings h WHERE h.item_id = i.id),"          \
    " i.copies, 1) END)"

/* item i has a copy at the branch (or no branch is asked for) */
#define HELD                                                                                       \
    "(?3 IS NULL OR EXISTS (SELECT 1 FROM holdings h WHERE h.item_id = i.id"                       \
    " AND h.branch = ?3))"

/* events at the branch asked for (alias e) */
#define AT_BRANCH "(?3 IS NULL OR e.branch = ?3)"

/* the items loaned in the period */
#define LOANED                                                                                     \
    "loaned AS MATERIALIZED (SELECT DISTINCT e.item_id FROM events e WHERE e.type_id = " LOAN      \
    " AND e.ts BETWEEN ?1 AND ?2 AND " AT_BRANCH ")"

/* the items in the collection the whole period, and whether they were loaned */
#define COLL                                                                                       \
    "coll AS MATERIALIZED (SELECT i.id, i.id IN (SELECT item_id FROM loaned) AS used"              \
    " FROM items i WHERE (i.added IS NULL OR i.added <= ?1) AND " HELD ")"

/* new items and their loans since they were added, per (patron, item) */
#define NEW                                                                                        \
    "newi AS MATERIALIZED (SELECT i.id FROM items i WHERE i.added BETWEEN ?4 AND ?2 AND " HELD     \
    "),"                                                                                           \
    " nl AS MATERIALIZED (SELECT e.user_id, e.item_id, count(*) AS loans FROM events e"            \
    " JOIN items i ON i.id = e.item_id WHERE e.type_id = " LOAN " AND e.ts <= ?2"                  \
    " AND i.added BETWEEN ?4 AND ?2 AND e.ts >= i.added AND " AT_BRANCH                            \
    " AND e.item_id IN (SELECT id FROM newi) GROUP BY e.user_id, e.item_id)"

/* Each statement's columns: key, label, extra, then the numbers. */
static const char *const sql[] = {
    [TL_AN_PERIOD] = "SELECT NULL, NULL, NULL, coalesce(max(ts), 0), count(*) FROM events",
    [TL_AN_DEMAND] =
        "WITH " SUBJ ","
        " cat AS (SELECT s.sid, count(*) AS items, sum(" COPIES ") AS copies FROM subj s"
        " JOIN items i ON i.id = s.item_id GROUP BY s.sid),"
        " pairs AS (SELECT e.user_id, e.item_id, sum(e.type_id = " LOAN ") AS loans,"
        " sum(e.type_id = " HOLD ") AS holds FROM events e WHERE e.type_id IN (" LOAN ", " HOLD ")"
        " AND e.ts BETWEEN ?1 AND ?2 AND " AT_BRANCH " GROUP BY e.user_id, e.item_id),"
        " dem AS (SELECT s.sid, sum(p.loans) AS loans, sum(p.holds) AS holds,"
        " count(DISTINCT p.user_id) AS patrons FROM pairs p JOIN subj s ON s.item_id = p.item_id"
        " GROUP BY s.sid)"
        " SELECT n.subject, NULL, NULL, c.items, c.copies, coalesce(d.loans, 0),"
        " coalesce(d.holds, 0), coalesce(d.patrons, 0) FROM cat c JOIN names n ON n.sid = c.sid"
        " LEFT JOIN dem d ON d.sid = c.sid"
        " WHERE ?3 IS NULL OR c.copies > 0 OR d.sid IS NOT NULL ORDER BY n.subject",
    [TL_AN_HOLDS] =
        "WITH open AS (SELECT e.user_id, e.item_id FROM events e WHERE e.type_id = " HOLD
        " AND e.ts BETWEEN ?1 AND ?2 AND " AT_BRANCH " AND NOT EXISTS (SELECT 1 FROM events l"
        " WHERE l.user_id = e.user_id AND l.item_id = e.item_id AND l.type_id = " LOAN
        " AND l.ts BETWEEN e.ts AND ?2)),"
        " q AS (SELECT item_id, count(DISTINCT user_id) AS patrons FROM open GROUP BY item_id)"
        " SELECT i.ext_id, i.title, NULL, q.patrons, " COPIES " FROM q"
        " JOIN items i ON i.id = q.item_id ORDER BY q.patrons DESC, i.ext_id",
    [TL_AN_IDLE_TOTAL] = "WITH " LOANED ", " COLL
                         " SELECT NULL, NULL, NULL, count(*), coalesce(sum(NOT used), 0) FROM coll",
    [TL_AN_IDLE_SUBJECTS] = "WITH " SUBJ ", " LOANED ", " COLL
                            " SELECT n.subject, NULL, NULL, count(*), sum(NOT c.used) FROM coll c"
                            " JOIN subj s ON s.item_id = c.id JOIN names n ON n.sid = s.sid"
                            " GROUP BY s.sid ORDER BY n.subject",
    [TL_AN_IDLE_BRANCHES] =
        "WITH " LOANED ", " COLL " SELECT h.branch, NULL, NULL, count(DISTINCT h.item_id),"
        " count(DISTINCT CASE WHEN NOT c.used THEN h.item_id END) FROM holdings h"
        " JOIN coll c ON c.id = h.item_id WHERE h.branch IS NOT NULL AND h.branch <> ''"
        " AND (?3 IS NULL OR h.branch = ?3) GROUP BY h.branch ORDER BY h.branch",
    [TL_AN_IDLE_ITEMS] =
        "WITH " LOANED ", " COLL " SELECT i.ext_id, i.title, i.subjects, i.added, " COPIES
        " FROM coll c JOIN items i ON i.id = c.id WHERE NOT c.used"
        " ORDER BY i.added, i.ext_id LIMIT ?6",
    [TL_AN_SEARCHES] =
        "SELECT lower(trim(s.query)) AS q, NULL, NULL, count(*), count(DISTINCT s.user_id),"
        " sum(t.total = 0), max(t.total) FROM searches s JOIN search_totals t"
        " ON t.search_id = s.id WHERE s.ts BETWEEN ?1 AND ?2 AND t.total <= ?5"
        " GROUP BY q HAVING q <> '' ORDER BY count(*) DESC, q",
    [TL_AN_NEW_TOTAL] = "WITH " NEW " SELECT NULL, NULL, NULL, (SELECT count(*) FROM newi),"
                        " count(DISTINCT item_id), coalesce(sum(loans), 0),"
                        " count(DISTINCT user_id) FROM nl",
    [TL_AN_NEW] = "WITH " SUBJ ", " NEW ","
                  " cat AS (SELECT s.sid, count(*) AS items FROM newi n"
                  " JOIN subj s ON s.item_id = n.id GROUP BY s.sid),"
                  " dem AS (SELECT s.sid, count(DISTINCT l.item_id) AS loaned,"
                  " sum(l.loans) AS loans, count(DISTINCT l.user_id) AS patrons FROM nl l"
                  " JOIN subj s ON s.item_id = l.item_id GROUP BY s.sid)"
                  " SELECT n.subject, NULL, NULL, c.items, coalesce(d.loaned, 0),"
                  " coalesce(d.loans, 0), coalesce(d.patrons, 0) FROM cat c"
                  " JOIN names n ON n.sid = c.sid LEFT JOIN dem d ON d.sid = c.sid"
                  " ORDER BY n.subject",
};
#define NPARTS ((int)(sizeof(sql) / sizeof(sql[0])))

tl_err tl__sq_analytics(tl_store *st, tl_analytics_part part, const tl_analytics_window *w,
                        tl_analytics_fn fn, void *ctx)
{
    if ((int)part < 0 || (int)part >= NPARTS || !sql[part])
        return TL_EINVAL;
    sqlite3 *db = tl__sq_db(st);
    sqlite3_stmt *q;
    int rc = sqlite3_prepare_v2(db, sql[part], -1, &q, NULL);
    if (rc != SQLITE_OK)
        return tl__sq_fail(st, rc);
    int np = sqlite3_bind_parameter_count(q);
    int64_t nums[] = {w->since, w->until, 0, w->new_since, w->few, w->limit};
    for (int i = 1; i <= np && i <= 6; i++) {
        if (i == 3 && !w->branch)
            sqlite3_bind_null(q, 3);
        else if (i == 3)
            sqlite3_bind_text(q, 3, w->branch, -1, SQLITE_STATIC);
        else
            sqlite3_bind_int64(q, i, nums[i - 1]);
    }
    int ncols = sqlite3_column_count(q);
    tl_err r = TL_OK;
    while (r == TL_OK && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        tl_analytics_row row = {0};
        const char **s[3] = {&row.key, &row.label, &row.extra};
        for (int c = 0; c < 3; c++)
            *s[c] = (const char *)sqlite3_column_text(q, c);
        for (int c = 3; c < ncols && c - 3 < 6; c++)
            row.v[c - 3] =
                sqlite3_column_type(q, c) == SQLITE_NULL ? TL_ABSENT : sqlite3_column_int64(q, c);
        r = fn(ctx, &row);
    }
    if (r == TL_OK && rc != SQLITE_DONE)
        r = tl__sq_fail(st, rc);
    sqlite3_finalize(q);
    return r;
}
