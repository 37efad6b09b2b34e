/* Collection analytics for librarians (docs/ANALYTICS.md): the store aggregates
 * (tl_store_analytics, one SQL pass per table), this file turns its rows into the report:
 * ratios, the demand flags, k-anonymity (a group counted over 1 to k-1 distinct patrons is
 * suppressed), the lists' limits, and one JSON object that the CLI prints as JSON, CSV or text
 * and the server answers. Every table of the report is {"columns": [...], "rows": [{...}]}, so
 * that its readers need no knowledge of the sections. */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "service/service_int.h"

#define MONTH_S 2629746 /* 1/12 of a Gregorian year */
#define DAY_S 86400
#define MAX_LIMIT 10000
#define MAX_NEW_DAYS 3650
#define MAX_FEW 1000000
#define MAX_GROUP 1000
#define HIGH 2.0 /* demand per copy this many times the collection's is high; its inverse low */

const char *const tl_analytics_sections[] = {"demand", "holds", "idle", "searches", "new", NULL};

void tl_analytics_opts_init(tl_analytics_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->months = 12;
    o->limit = 20;
    o->new_days = 90;
    o->few = 2;
}

typedef struct report {
    tl_store *st;
    tl_analytics_window w;
    int k;
    tl_diag *d;
} report;

static int suppressed(const report *r, int64_t patrons)
{
    return patrons > 0 && patrons < r->k;
}

/* a / b to three decimals, null when b is 0 */
static json_t *ratio(int64_t a, int64_t b)
{
    return b > 0 ? json_real(round((double)a / (double)b * 1000.0) / 1000.0) : json_null();
}

static json_t *date(int64_t ts)
{
    char buf[32];
    time_t t = (time_t)ts;
    struct tm tm;
    if (ts == TL_ABSENT || !gmtime_r(&t, &tm) || !strftime(buf, sizeof(buf), "%Y-%m-%d", &tm))
        return json_null();
    return json_string(buf);
}

static json_t *text(const char *s)
{
    return s ? json_string(s) : json_null();
}

/* {"definition", "columns", "rows": []} with the columns given, NULL-terminated */
static json_t *table(const char *definition, const char *const *cols)
{
    json_t *c = json_array();
    for (int i = 0; c && cols[i]; i++)
        json_array_append_new(c, json_string(cols[i]));
    return json_pack("{s:s, s:o, s:[]}", "definition", definition, "columns", c, "rows");
}

static tl_err add_row(json_t *tab, json_t *row)
{
    if (!row || json_array_append_new(json_object_get(tab, "rows"), row) != 0)
        return TL_ENOMEM;
    return TL_OK;
}

/* Rows of one part kept for a second pass (the demand flags need the whole collection's). */
typedef struct kept {
    tl_analytics_row *rows;
    char **keys;
    size_t n, cap;
} kept;

static tl_err keep(void *ctx, const tl_analytics_row *row)
{
    kept *k = ctx;
    if (k->n == k->cap) {
        size_t cap = k->cap ? 2 * k->cap : 64;
        tl_analytics_row *r = realloc(k->rows, cap * sizeof(*r));
        if (r)
            k->rows = r;
        char **s = realloc(k->keys, cap * sizeof(*s));
        if (s)
            k->keys = s;
        if (!r || !s)
            return TL_ENOMEM;
        k->cap = cap;
    }
    k->rows[k->n] = *row;
    k->rows[k->n].label = k->rows[k->n].extra = NULL;
    if (!(k->keys[k->n] = strdup(row->key ? row->key : "")))
        return TL_ENOMEM;
    k->rows[k->n].key = k->keys[k->n];
    k->n++;
    return TL_OK;
}

static void kept_free(kept *k)
{
    for (size_t i = 0; i < k->n; i++)
        free(k->keys[i]);
    free(k->keys);
    free(k->rows);
}

static tl_err part(report *r, tl_analytics_part p, tl_analytics_fn fn, void *ctx)
{
    return tl_store_analytics(r->st, p, &r->w, fn, ctx, r->d);
}

static tl_err one_row(void *ctx, const tl_analytics_row *row)
{
    memcpy(ctx, row->v, sizeof(row->v));
    return TL_OK;
}

/* ---- demand by subject ---------------------------------------------------------------------- */

static const char *const demand_cols[] = {"subject", "items",   "copies",         "loans",
                                          "holds",   "patrons", "loans_per_copy", "holds_per_copy",
                                          "demand",  NULL};

static tl_err demand(report *r, json_t *sections)
{
    json_t *tab = table("Per subject: the catalogue's items and copies held, and the loans and "
                        "holds of the period with the distinct patrons behind them; "
                        "loans_per_copy and holds_per_copy divide by the copies; demand is "
                        "\"high\" where (loans + holds) per copy is at least twice the "
                        "collection's and \"low\" where it is at most half of it",
                        demand_cols);
    kept k = {0};
    tl_err rc = tab ? part(r, TL_AN_DEMAND, keep, &k) : TL_ENOMEM;
    /* the collection's demand per copy, over the groups shown */
    int64_t all_demand = 0, all_copies = 0, n_supp = 0;
    for (size_t i = 0; rc == TL_OK && i < k.n; i++)
        if (!suppressed(r, k.rows[i].v[4])) {
            all_demand += k.rows[i].v[2] + k.rows[i].v[3];
            all_copies += k.rows[i].v[1];
        }
    double all = all_copies > 0 ? (double)all_demand / (double)all_copies : 0;
    json_t *chart = json_pack("{s:[], s:[], s:[], s:[], s:[], s:[]}", "subjects", "copies", "loans",
                              "holds", "loans_per_copy", "holds_per_copy");
    if (!chart)
        rc = TL_ENOMEM;
    for (size_t i = 0; rc == TL_OK && i < k.n; i++) {
        const int64_t *v = k.rows[i].v;
        json_t *row;
        if (suppressed(r, v[4])) {
            n_supp++;
            row = json_pack("{s:s, s:I, s:I, s:n, s:n, s:n, s:n, s:n, s:n, s:b}", "subject",
                            k.rows[i].key, "items", (json_int_t)v[0], "copies", (json_int_t)v[1],
                            "loans", "holds", "patrons", "loans_per_copy", "holds_per_copy",
                            "demand", "suppressed", 1);
            rc = add_row(tab, row);
            continue;
        }
        const char *flag = NULL;
        int64_t dem = v[2] + v[3];
        if (v[1] > 0 && all > 0) {
            double per = (double)dem / (double)v[1];
            flag = per >= HIGH * all ? "high" : per <= all / HIGH ? "low" : NULL;
        } else if (v[1] == 0 && dem > 0) {
            flag = "high"; /* wanted where no copy is held */
        }
        row = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:o, s:o, s:o, s:b}", "subject",
                        k.rows[i].key, "items", (json_int_t)v[0], "copies", (json_int_t)v[1],
                        "loans", (json_int_t)v[2], "holds", (json_int_t)v[3], "patrons",
                        (json_int_t)v[4], "loans_per_copy", ratio(v[2], v[1]), "holds_per_copy",
                        ratio(v[3], v[1]), "demand", text(flag), "suppressed", 0);
        if ((rc = add_row(tab, row)) != TL_OK)
            break;
        const char *names[] = {"subjects", "copies",         "loans",
                               "holds",    "loans_per_copy", "holds_per_copy"};
        json_t *vals[] = {json_string(k.rows[i].key), json_integer(v[1]), json_integer(v[2]),
                          json_integer(v[3]),         ratio(v[2], v[1]),  ratio(v[3], v[1])};
        for (int c = 0; c < 6; c++)
            if (json_array_append_new(json_object_get(chart, names[c]), vals[c]) != 0)
                rc = TL_ENOMEM;
    }
    kept_free(&k);
    if (rc == TL_OK &&
        (json_object_set_new(tab, "collection_per_copy",
                             all_copies > 0 ? ratio(all_demand, all_copies) : json_null()) != 0 ||
         json_object_set_new(tab, "suppressed", json_integer(n_supp)) != 0 ||
         json_object_set(tab, "chart", chart) != 0 ||
         json_object_set(sections, "demand", tab) != 0))
        rc = TL_ENOMEM;
    json_decref(chart);
    json_decref(tab);
    return rc;
}

/* ---- hold queues ---------------------------------------------------------------------------- */

static const char *const holds_cols[] = {"item",   "title",          "queue",
                                         "copies", "queue_per_copy", NULL};

typedef struct holds_ctx {
    report *r;
    json_t *tab;
    int64_t items, supp, shown;
} holds_ctx;

static tl_err on_hold(void *ctx, const tl_analytics_row *row)
{
    holds_ctx *h = ctx;
    h->items++;
    if (suppressed(h->r, row->v[0])) {
        h->supp++;
        return TL_OK;
    }
    if (h->shown >= h->r->w.limit)
        return TL_OK;
    h->shown++;
    return add_row(h->tab,
                   json_pack("{s:s, s:o, s:I, s:I, s:o}", "item", row->key ? row->key : "", "title",
                             text(row->label), "queue", (json_int_t)row->v[0], "copies",
                             (json_int_t)row->v[1], "queue_per_copy", ratio(row->v[0], row->v[1])));
}

static tl_err holds(report *r, json_t *sections)
{
    holds_ctx h = {r,
                   table("The items with the most open holds: a hold of the period is open when "
                         "the same patron has not borrowed the item since (by the period's end); "
                         "queue is the distinct patrons holding it, queue_per_copy divides by "
                         "the copies. items: the items with open holds; items whose queue has "
                         "fewer than min_group patrons are counted in suppressed, not listed",
                         holds_cols),
                   0, 0, 0};
    tl_err rc = h.tab ? part(r, TL_AN_HOLDS, on_hold, &h) : TL_ENOMEM;
    if (rc == TL_OK && (json_object_set_new(h.tab, "items", json_integer(h.items)) != 0 ||
                        json_object_set_new(h.tab, "suppressed", json_integer(h.supp)) != 0 ||
                        json_object_set(sections, "holds", h.tab) != 0))
        rc = TL_ENOMEM;
    json_decref(h.tab);
    return rc;
}

/* ---- idle items ----------------------------------------------------------------------------- */

typedef struct list_ctx {
    json_t *tab, *chart;
    const char *key; /* the rows' key column */
} list_ctx;

static tl_err on_idle_group(void *ctx, const tl_analytics_row *row)
{
    list_ctx *l = ctx;
    if (l->chart &&
        (json_array_append_new(json_object_get(l->chart, "subjects"), text(row->key)) != 0 ||
         json_array_append_new(json_object_get(l->chart, "idle_share"),
                               ratio(row->v[1], row->v[0])) != 0))
        return TL_ENOMEM;
    return add_row(l->tab, json_pack("{s:o, s:I, s:I, s:o}", l->key, text(row->key), "items",
                                     (json_int_t)row->v[0], "idle", (json_int_t)row->v[1],
                                     "idle_share", ratio(row->v[1], row->v[0])));
}

static tl_err on_idle_item(void *ctx, const tl_analytics_row *row)
{
    list_ctx *l = ctx;
    return add_row(l->tab, json_pack("{s:o, s:o, s:o, s:o, s:I}", "item", text(row->key), "title",
                                     text(row->label), "subjects", text(row->extra), "added",
                                     date(row->v[0]), "copies", (json_int_t)row->v[1]));
}

static tl_err idle(report *r, json_t *sections)
{
    static const char *const subj_cols[] = {"subject", "items", "idle", "idle_share", NULL};
    static const char *const branch_cols[] = {"branch", "items", "idle", "idle_share", NULL};
    static const char *const item_cols[] = {"item", "title", "subjects", "added", "copies", NULL};
    int64_t tot[6] = {0};
    json_t *by_subject = table("Per subject: the items in the collection the whole period "
                               "and how many of them had no loan in it",
                               subj_cols),
           *by_branch = table("The same per branch holding copies (holdings)", branch_cols),
           *sample = table("Idle items, the longest in the collection first", item_cols),
           *chart = json_pack("{s:[], s:[]}", "subjects", "idle_share");
    tl_err rc = by_subject && by_branch && sample && chart ? TL_OK : TL_ENOMEM;
    list_ctx ls = {by_subject, chart, "subject"}, lb = {by_branch, NULL, "branch"},
             li = {sample, NULL, NULL};
    if (rc == TL_OK)
        rc = part(r, TL_AN_IDLE_TOTAL, one_row, tot);
    if (rc == TL_OK)
        rc = part(r, TL_AN_IDLE_SUBJECTS, on_idle_group, &ls);
    if (rc == TL_OK)
        rc = part(r, TL_AN_IDLE_BRANCHES, on_idle_group, &lb);
    if (rc == TL_OK)
        rc = part(r, TL_AN_IDLE_ITEMS, on_idle_item, &li);
    json_t *o = NULL;
    if (rc == TL_OK) {
        o = json_pack("{s:s, s:I, s:I, s:o, s:O, s:O, s:O, s:O}", "definition",
                      "Items with no loan in the period that were in the collection the whole "
                      "period (added before it starts, or with no date added); counts of items, "
                      "not of patrons, so nothing is suppressed",
                      "items", (json_int_t)tot[0], "idle", (json_int_t)tot[1], "idle_share",
                      ratio(tot[1], tot[0]), "by_subject", by_subject, "by_branch", by_branch,
                      "sample", sample, "chart", chart);
        if (!o || json_object_set_new(sections, "idle", o) != 0)
            rc = TL_ENOMEM;
    }
    json_decref(by_subject);
    json_decref(by_branch);
    json_decref(sample);
    json_decref(chart);
    return rc;
}

/* ---- searches with few results -------------------------------------------------------------- */

static const char *const search_cols[] = {"query",        "searches",    "patrons",
                                          "zero_results", "max_results", NULL};

typedef struct search_ctx {
    report *r;
    json_t *tab;
    int64_t searches, queries, supp, shown;
} search_ctx;

static tl_err on_search(void *ctx, const tl_analytics_row *row)
{
    search_ctx *s = ctx;
    s->queries++;
    s->searches += row->v[0];
    /* a query is personal data too: one searched by fewer than k patrons (or only
     * anonymously) is never shown */
    if (row->v[1] < s->r->k) {
        s->supp++;
        return TL_OK;
    }
    if (s->shown >= s->r->w.limit)
        return TL_OK;
    s->shown++;
    return add_row(s->tab, json_pack("{s:s, s:I, s:I, s:I, s:I}", "query", row->key ? row->key : "",
                                     "searches", (json_int_t)row->v[0], "patrons",
                                     (json_int_t)row->v[1], "zero_results", (json_int_t)row->v[2],
                                     "max_results", (json_int_t)row->v[3]));
}

static tl_err searches(report *r, json_t *sections)
{
    search_ctx s = {r,
                    table("Searches of the period that found at most `few` results (their "
                          "totals as the search recorded them), per query lowercased and "
                          "trimmed, most searched first; a query searched by fewer than "
                          "min_group distinct patrons is counted in suppressed and not shown",
                          search_cols),
                    0,
                    0,
                    0,
                    0};
    tl_err rc = s.tab ? part(r, TL_AN_SEARCHES, on_search, &s) : TL_ENOMEM;
    if (rc == TL_OK && (json_object_set_new(s.tab, "few", json_integer(r->w.few)) != 0 ||
                        json_object_set_new(s.tab, "searches", json_integer(s.searches)) != 0 ||
                        json_object_set_new(s.tab, "queries", json_integer(s.queries)) != 0 ||
                        json_object_set_new(s.tab, "suppressed", json_integer(s.supp)) != 0 ||
                        json_object_set(sections, "searches", s.tab) != 0))
        rc = TL_ENOMEM;
    json_decref(s.tab);
    return rc;
}

/* ---- new arrivals --------------------------------------------------------------------------- */

static const char *const new_cols[] = {"subject", "items",          "loaned",  "loaned_share",
                                       "loans",   "loans_per_item", "patrons", NULL};

/* one row of new-arrival uptake: v = items, loaned, loans, patrons */
static json_t *new_row(const report *r, const char *subject, const int64_t *v, int64_t *supp)
{
    if (suppressed(r, v[3])) {
        (*supp)++;
        return json_pack("{s:s, s:I, s:n, s:n, s:n, s:n, s:n, s:b}", "subject", subject, "items",
                         (json_int_t)v[0], "loaned", "loaned_share", "loans", "loans_per_item",
                         "patrons", "suppressed", 1);
    }
    return json_pack("{s:s, s:I, s:I, s:o, s:I, s:o, s:I, s:b}", "subject", subject, "items",
                     (json_int_t)v[0], "loaned", (json_int_t)v[1], "loaned_share",
                     ratio(v[1], v[0]), "loans", (json_int_t)v[2], "loans_per_item",
                     ratio(v[2], v[0]), "patrons", (json_int_t)v[3], "suppressed", 0);
}

typedef struct new_ctx {
    report *r;
    json_t *tab, *chart;
    int64_t supp;
} new_ctx;

static tl_err on_new(void *ctx, const tl_analytics_row *row)
{
    new_ctx *n = ctx;
    const char *subject = row->key ? row->key : "";
    if (!suppressed(n->r, row->v[3]) &&
        (json_array_append_new(json_object_get(n->chart, "subjects"), json_string(subject)) != 0 ||
         json_array_append_new(json_object_get(n->chart, "loaned_share"),
                               ratio(row->v[1], row->v[0])) != 0))
        return TL_ENOMEM;
    return add_row(n->tab, new_row(n->r, subject, row->v, &n->supp));
}

static tl_err arrivals(report *r, json_t *sections)
{
    new_ctx n = {r,
                 table("Items added to the collection in the last `days` days of the period: "
                       "per subject, the share loaned at least once since it was added, loans "
                       "per new item and the distinct borrowers; the row \"(all)\" is every new "
                       "item",
                       new_cols),
                 json_pack("{s:[], s:[]}", "subjects", "loaned_share"), 0};
    int64_t tot[6] = {0};
    tl_err rc = n.tab && n.chart ? part(r, TL_AN_NEW_TOTAL, one_row, tot) : TL_ENOMEM;
    if (rc == TL_OK)
        rc = add_row(n.tab, new_row(r, "(all)", tot, &n.supp));
    if (rc == TL_OK)
        rc = part(r, TL_AN_NEW, on_new, &n);
    if (rc == TL_OK &&
        (json_object_set_new(n.tab, "days", json_integer((r->w.until - r->w.new_since) / DAY_S)) !=
             0 ||
         json_object_set_new(n.tab, "from", date(r->w.new_since)) != 0 ||
         json_object_set_new(n.tab, "suppressed", json_integer(n.supp)) != 0 ||
         json_object_set(n.tab, "chart", n.chart) != 0 ||
         json_object_set(sections, "new", n.tab) != 0))
        rc = TL_ENOMEM;
    json_decref(n.tab);
    json_decref(n.chart);
    return rc;
}

/* ---- the report ----------------------------------------------------------------------------- */

static tl_err bad(tl_diag *d, const char *field, const char *msg)
{
    tl_diag_set(d, NULL, 0, field, "%s", msg);
    return TL_EINVAL;
}

static tl_err check(const tl_analytics_opts *o, int *which, tl_diag *d)
{
    *which = -1;
    if (o->section && *o->section) {
        for (int i = 0; tl_analytics_sections[i]; i++)
            if (strcmp(o->section, tl_analytics_sections[i]) == 0)
                *which = i;
        if (*which < 0)
            return bad(d, "section", "unknown section: demand, holds, idle, searches or new");
    }
    if (o->months < 1 || o->months > TL_ANALYTICS_MAX_MONTHS)
        return bad(d, "months", "must be a whole number from 1 to 1200");
    if (o->since < 0)
        return bad(d, "since", "must be a time after 1970");
    if (o->branch && !*o->branch)
        return bad(d, "branch", "must not be empty");
    if (o->min_group < 0 || o->min_group > MAX_GROUP)
        return bad(d, "min_group", "must be a whole number from 1 to 1000");
    if (o->limit < 1 || o->limit > MAX_LIMIT)
        return bad(d, "limit", "must be a whole number from 1 to 10000");
    if (o->new_days < 1 || o->new_days > MAX_NEW_DAYS)
        return bad(d, "new_days", "must be a whole number from 1 to 3650");
    if (o->few < 0 || o->few > MAX_FEW)
        return bad(d, "few", "must be a whole number from 0 to 1000000");
    return TL_OK;
}

static tl_err run(report *r, const tl_analytics_opts *o, int which, json_t *root)
{
    static tl_err (*const fns[])(report *, json_t *) = {demand, holds, idle, searches, arrivals};
    int64_t period[6] = {0};
    tl_err rc = part(r, TL_AN_PERIOD, one_row, period);
    if (rc != TL_OK)
        return rc;
    /* the store's "now": its newest event (or the clock, with none) */
    r->w.until = period[0] > 0 ? period[0] : (int64_t)time(NULL);
    r->w.since = o->since > 0 ? o->since : r->w.until - (int64_t)o->months * MONTH_S;
    if (r->w.since < 0)
        r->w.since = 0;
    if (r->w.since > r->w.until) {
        tl_diag_set(r->d, NULL, 0, "since", "the period would start after the newest event");
        return TL_EINVAL;
    }
    r->w.new_since = r->w.until - (int64_t)o->new_days * DAY_S;
    json_t *p =
        json_pack("{s:o, s:o, s:I, s:I, s:o}", "from", date(r->w.since), "to", date(r->w.until),
                  "since", (json_int_t)r->w.since, "until", (json_int_t)r->w.until, "months",
                  o->since > 0 ? json_null() : json_integer(o->months));
    json_t *sections = json_object();
    if (!p || !sections || json_object_set_new(root, "period", p) != 0 ||
        json_object_set_new(root, "branch", text(r->w.branch)) != 0 ||
        json_object_set_new(root, "min_group", json_integer(r->k)) != 0 ||
        json_object_set_new(root, "events", json_integer(period[1])) != 0) {
        json_decref(sections);
        return TL_ENOMEM;
    }
    for (int i = 0; rc == TL_OK && tl_analytics_sections[i]; i++)
        if (which < 0 || which == i)
            rc = fns[i](r, sections);
    if (json_object_set_new(root, "sections", sections) != 0)
        rc = TL_ENOMEM;
    return rc;
}

tl_err tl_service_analytics(tl_service *s, const tl_analytics_opts *o, char **json, tl_diag *d)
{
    *json = NULL;
    int which;
    tl_err rc = check(o, &which, d);
    if (rc != TL_OK || (rc = tl__service_need_store(s, d)) != TL_OK)
        return rc;
    tl_store *st;
    if ((rc = tl__service_reader(s, &st, d)) != TL_OK)
        return rc;
    report r = {st, {0}, o->min_group > s->min_group ? o->min_group : s->min_group, d};
    r.w.branch = o->branch;
    r.w.few = o->few;
    r.w.limit = o->limit;
    json_t *root = json_object();
    rc = root ? run(&r, o, which, root) : TL_ENOMEM;
    tl__service_reader_done(s, st);
    if (rc == TL_OK && !(*json = json_dumps(root, JSON_COMPACT | JSON_REAL_PRECISION(10))))
        rc = TL_ENOMEM;
    json_decref(root);
    return rc;
}
