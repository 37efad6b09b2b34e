/* The catalogue's full-text index in SQLite (sqlite_search.h): the "tailor" FTS5 tokenizer
 * (unicode61 folding case and diacritics, then libstemmer's Snowball stems), searches ranked
 * inside FTS5 with their facets counted over the whole match set, the record of how many items
 * a search found, and the bulk rebuild. */
#include <libstemmer.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/filter.h"
#include "store/search_filter.h"
#include "store/sqlite/sqlite_int.h"
#include "store/sqlite/sqlite_search.h"
#include "util/intern.h"

/* ---- the tokenizer ------------------------------------------------------------------------ */

#define STEM_MAX_BYTES 64 /* longer tokens (codes, URLs) are kept as they are */

typedef struct stem_tok {
    fts5_tokenizer parent;
    Fts5Tokenizer *inner;
    struct sb_stemmer *stem[TL_SEARCH_MAX_LANGS];
    int n_stem;
} stem_tok;

typedef struct stem_call {
    stem_tok *t;
    int flags;
    void *ctx;
    int (*token)(void *, int, const char *, int, int, int);
} stem_call;

static void tok_delete(Fts5Tokenizer *p)
{
    stem_tok *t = (stem_tok *)p;
    if (!t)
        return;
    if (t->inner)
        t->parent.xDelete(t->inner);
    for (int i = 0; i < t->n_stem; i++)
        sb_stemmer_delete(t->stem[i]);
    free(t);
}

static int tok_create(void *api_ptr, const char **args, int nargs, Fts5Tokenizer **out)
{
    fts5_api *api = api_ptr;
    void *ud = NULL;
    stem_tok *t = calloc(1, sizeof(*t));
    *out = NULL;
    if (!t)
        return SQLITE_NOMEM;
    int rc = api->xFindTokenizer(api, "unicode61", &ud, &t->parent);
    static const char *inner_args[] = {"remove_diacritics", "2"};
    if (rc == SQLITE_OK)
        rc = t->parent.xCreate(ud, inner_args, 2, &t->inner);
    for (int i = 0; rc == SQLITE_OK && i < nargs; i++) {
        if (strcmp(args[i], "none") == 0)
            continue;
        if (t->n_stem == TL_SEARCH_MAX_LANGS ||
            !(t->stem[t->n_stem] = sb_stemmer_new(args[i], "UTF_8")))
            rc = SQLITE_ERROR; /* an unknown language */
        else
            t->n_stem++;
    }
    if (rc != SQLITE_OK) {
        tok_delete((Fts5Tokenizer *)t);
        return rc;
    }
    *out = (Fts5Tokenizer *)t;
    return SQLITE_OK;
}

/* Each token of unicode61 (lowercase, folded) goes on as its stem in the first language, with
 * the other languages' different stems at the same place. A prefix query's token is not
 * stemmed ("runn*" must match "running"'s stem "run" as a prefix of what was typed). */
static int tok_token(void *p, int tflags, const char *tok, int n, int start, int end)
{
    stem_call *c = p;
    stem_tok *t = c->t;
    if (t->n_stem == 0 || n > STEM_MAX_BYTES || (c->flags & FTS5_TOKENIZE_PREFIX))
        return c->token(c->ctx, tflags, tok, n, start, end);
    char first[4 * STEM_MAX_BYTES + 1];
    int first_n = -1;
    for (int i = 0; i < t->n_stem; i++) {
        const sb_symbol *s = sb_stemmer_stem(t->stem[i], (const sb_symbol *)tok, n);
        if (!s)
            return SQLITE_NOMEM;
        int sn = sb_stemmer_length(t->stem[i]);
        if (first_n >= 0 && sn == first_n && memcmp(first, s, (size_t)sn) == 0)
            continue;
        int rc = c->token(c->ctx, first_n < 0 ? tflags : tflags | FTS5_TOKEN_COLOCATED,
                          (const char *)s, sn, start, end);
        if (rc != SQLITE_OK)
            return rc;
        if (first_n < 0 && sn <= (int)sizeof(first)) {
            memcpy(first, s, (size_t)sn);
            first_n = sn;
        }
    }
    return SQLITE_OK;
}

static int tok_tokenize(Fts5Tokenizer *p, void *ctx, int flags, const char *text, int n,
                        int (*token)(void *, int, const char *, int, int, int))
{
    stem_tok *t = (stem_tok *)p;
    stem_call c = {t, flags, ctx, token};
    return t->parent.xTokenize(t->inner, &c, flags, text, n, tok_token);
}

/* ---- ranking ------------------------------------------------------------------------------ */

/* tl_rank(search_fts[, counter]): BM25 over the columns with their weights (title first),
 * without its length normalization: that one reads each matching row's column sizes from the
 * index's docsize table, a lookup per row that costs more than the rest of the ranking (5 us
 * a row: 1.5 s for a word in 300,000 records). A word early in the title scores a little more
 * instead, so that a short title naming the word still leads. Lower is better, as bm25().
 * counter: a pointer bound as "tl_rank_count", incremented once per row ranked (the match
 * set's size, without a second pass). */
#define TL_STR_(x) #x
#define TL_STR(x) TL_STR_(x)
#define RANK_K1 1.2
#define RANK_MAX_PHRASES 64
#define RANK_DF_SCAN 4096 /* documents counted for a phrase's frequency, then extrapolated */
static const double col_weight[] = {10.0, 4.0, 4.0, 3.0, 1.0, 1.0};
#define RANK_COLS ((int)(sizeof(col_weight) / sizeof(col_weight[0])))

typedef struct df_count {
    const Fts5ExtensionApi *api;
    sqlite3_int64 n, last;
} df_count;

static int df_row(const Fts5ExtensionApi *api, Fts5Context *fts, void *p)
{
    df_count *c = p;
    c->last = api->xRowid(fts);
    return ++c->n >= RANK_DF_SCAN ? SQLITE_DONE : SQLITE_OK;
}

typedef struct rank_aux {
    int n;
    double idf[RANK_MAX_PHRASES];
} rank_aux;

/* Each phrase's idf, once per query: its document frequency counted over the first
 * RANK_DF_SCAN documents that have it and extrapolated by rowid past them (rowids are the
 * catalogue's order, about uniform), as FTS5's bm25 would count it in full. */
static rank_aux *rank_aux_of(const Fts5ExtensionApi *api, Fts5Context *fts)
{
    rank_aux *a = api->xGetAuxdata(fts, 0);
    if (a)
        return a;
    if (!(a = calloc(1, sizeof(*a))))
        return NULL;
    sqlite3_int64 rows = 0;
    api->xRowCount(fts, &rows);
    a->n = api->xPhraseCount(fts);
    if (a->n > RANK_MAX_PHRASES)
        a->n = RANK_MAX_PHRASES;
    for (int p = 0; p < a->n; p++) {
        df_count c = {api, 0, 0};
        api->xQueryPhrase(fts, p, &c, df_row);
        double df = (double)c.n;
        if (c.n >= RANK_DF_SCAN && c.last > 0 && rows > 0) {
            sqlite3_int64 max_rowid = rows; /* about: items ids run 1..N */
            df = (double)c.n * (double)max_rowid / (double)c.last;
            if (df > (double)rows)
                df = (double)rows;
        }
        double idf = log(((double)rows - df + 0.5) / (df + 0.5));
        a->idf[p] = idf > 1e-6 ? idf : 1e-6;
    }
    if (api->xSetAuxdata(fts, a, free) != SQLITE_OK)
        return NULL; /* xSetAuxdata freed it */
    return a;
}

static void tl_rank(const Fts5ExtensionApi *api, Fts5Context *fts, sqlite3_context *ctx, int nval,
                    sqlite3_value **vals)
{
    rank_aux *a = rank_aux_of(api, fts);
    if (!a) {
        sqlite3_result_error_nomem(ctx);
        return;
    }
    if (nval > 0) {
        int64_t *count = sqlite3_value_pointer(vals[0], "tl_rank_count");
        if (count)
            ++*count;
    }
    double tf[RANK_MAX_PHRASES], first[RANK_MAX_PHRASES];
    for (int p = 0; p < a->n; p++) {
        tf[p] = 0;
        first[p] = -1;
    }
    int ninst = 0;
    if (api->xInstCount(fts, &ninst) != SQLITE_OK) {
        sqlite3_result_error(ctx, "tl_rank: no instances", -1);
        return;
    }
    for (int k = 0; k < ninst; k++) {
        int p, col, off;
        if (api->xInst(fts, k, &p, &col, &off) != SQLITE_OK || p >= a->n)
            continue;
        tf[p] += col < RANK_COLS ? col_weight[col] : 1.0;
        if (col == 0 && (first[p] < 0 || off < first[p]))
            first[p] = off;
    }
    double score = 0;
    for (int p = 0; p < a->n; p++) {
        score += a->idf[p] * tf[p] * (RANK_K1 + 1) / (tf[p] + RANK_K1);
        if (first[p] >= 0) /* early in the title */
            score += a->idf[p] * 0.5 / (1.0 + first[p]);
    }
    sqlite3_result_double(ctx, -score);
}

static fts5_api *fts5_of(sqlite3 *db)
{
    fts5_api *api = NULL;
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &q, NULL) != SQLITE_OK)
        return NULL;
    sqlite3_bind_pointer(q, 1, (void *)&api, "fts5_api_ptr", NULL);
    sqlite3_step(q);
    sqlite3_finalize(q);
    return api;
}

int tl__sq_search_register(sqlite3 *db)
{
    fts5_api *api = fts5_of(db);
    if (!api || api->iVersion < 2)
        return SQLITE_ERROR; /* an SQLite built without FTS5 */
    static fts5_tokenizer tok = {tok_create, tok_delete, tok_tokenize};
    int rc = api->xCreateTokenizer(api, "tailor", api, &tok, NULL);
    if (rc == SQLITE_OK)
        rc = api->xCreateFunction(api, "tl_rank", NULL, tl_rank, NULL);
    return rc == SQLITE_OK ? tl__sq_heads_register(api) : rc;
}

/* ---- filters ------------------------------------------------------------------------------ */

#define MAX_VALS (TL_FILTER_MAX + 2) /* the filters' values, a library's branches */

typedef struct where {
    const char *vals[MAX_VALS];
    int nv;
    int64_t ints[2 * MAX_VALS];
    int ni;
    int avail;
    char *held; /* a library's branches, "\x1fA\x1fB\x1f" (freed with the where) */
} where;

/* The filters' values as SQLite's parameters ?2, ?3, ... (?1 is the match) in w->vals. */
static int bind_value(void *ctx, const char *value, char *name, size_t len)
{
    where *w = ctx;
    if (w->nv >= MAX_VALS)
        return 1;
    snprintf(name, len, "?%d", 2 + w->nv);
    w->vals[w->nv++] = value;
    return 0;
}

/* A library's branches as one parameter, "\x1fA\x1fB\x1f" (w->held, freed with the where). */
static int bind_held(void *ctx, const char *const *branches, int n, char *cond, size_t len)
{
    where *w = ctx;
    size_t size = 2;
    for (int k = 0; k < n; k++)
        size += strlen(branches[k]) + 1;
    if (!(w->held = malloc(size)))
        return 1;
    char *o = w->held;
    *o++ = '\x1f';
    for (int k = 0; k < n; k++)
        o += sprintf(o, "%s\x1f", branches[k]);
    char name[16];
    if (bind_value(w, w->held, name, sizeof(name)))
        return 1;
    snprintf(cond, len, "instr(%s, char(31) || h.branch || char(31)) > 0", name);
    return 0;
}

static tl_err filter_sql(const tl_store_search_q *q, tl_sqlbuf *b, where *w, tl_diag *d)
{
    tl_filter_dialect e = {"instr", bind_value, bind_held, w};
    return tl__search_filter_sql(q, &e, b, d);
}

/* ---- search ------------------------------------------------------------------------------- */

/* One facet's counts: values interned, counts beside them. */
typedef struct counter {
    tl_intern names;
    int64_t *count;
    int32_t cap;
} counter;

enum { F_TYPE, F_FORMAT, F_LANGUAGE, F_YEAR, F_SUBJECT, F_BRANCH, F_AVAIL, F_N };
static const char *const facet_names[F_N] = {"type",    "format", "language",    "year",
                                             "subject", "branch", "availability"};

static tl_err count_add(counter *c, const char *v, size_t len, int64_t by)
{
    int32_t k;
    if (!v || !len)
        return TL_OK;
    tl_err rc = tl_intern_add(&c->names, v, len, &k);
    if (rc != TL_OK)
        return rc;
    if (k >= c->cap) {
        int32_t cap = c->cap ? c->cap * 2 : 64;
        while (cap <= k)
            cap *= 2;
        int64_t *n = realloc(c->count, (size_t)cap * sizeof(*n));
        if (!n)
            return TL_ENOMEM;
        memset(n + c->cap, 0, (size_t)(cap - c->cap) * sizeof(*n));
        c->count = n;
        c->cap = cap;
    }
    c->count[k] += by;
    return TL_OK;
}

typedef struct ranked {
    int64_t count;
    const char *name;
} ranked;

static int by_count(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return strcmp(x->name, y->name);
}

/* The most common TL_SEARCH_FACET_VALUES values of c to fn, most first. */
static tl_err count_emit(counter *c, const char *facet, tl_store_facet_fn fn, void *ctx)
{
    int32_t n = c->names.count;
    if (!n)
        return TL_OK;
    ranked *ord = malloc((size_t)n * sizeof(*ord));
    if (!ord)
        return TL_ENOMEM;
    for (int32_t k = 0; k < n; k++)
        ord[k] = (ranked){c->count[k], tl_intern_str(&c->names, k)};
    qsort(ord, (size_t)n, sizeof(*ord), by_count);
    tl_err rc = TL_OK;
    for (int32_t k = 0; rc == TL_OK && k < n && k < TL_SEARCH_FACET_VALUES; k++)
        rc = fn(ctx, facet, ord[k].name, ord[k].count);
    free(ord);
    return rc;
}

static tl_err prepare_where(tl_store *st, const char *head, const char *tail,
                            const tl_sqlbuf *conds, const where *w, const char *match,
                            sqlite3_stmt **out)
{
    tl_sqlbuf b = {0};
    tl_sqlbuf_put(&b, head);
    tl_sqlbuf_put(&b, conds->s ? conds->s : "");
    tl_sqlbuf_put(&b, tail);
    if (b.oom) {
        free(b.s);
        return TL_ENOMEM;
    }
    int rc = sqlite3_prepare_v2(tl__sq_db(st), b.s, -1, out, NULL);
    free(b.s);
    if (rc != SQLITE_OK)
        return tl__sq_fail(st, rc);
    sqlite3_bind_text(*out, 1, match, -1, SQLITE_STATIC);
    for (int k = 0; k < w->nv; k++)
        sqlite3_bind_text(*out, 2 + k, w->vals[k], -1, SQLITE_STATIC);
    return TL_OK;
}

/* An error of the MATCH expression itself is the caller's; others are the engine's. */
static tl_err step_fail(tl_store *st, int rc)
{
    const char *m = sqlite3_errmsg(tl__sq_db(st));
    if ((rc & 0xff) == SQLITE_ERROR && m && strstr(m, "fts5")) {
        snprintf(st->why, sizeof(st->why), "the search: %s", m);
        return TL_EINVAL;
    }
    return tl__sq_fail(st, rc);
}

/* The facets of q's match set (the first TL_SEARCH_FACET_SCAN), or of the heads of term. */
static tl_err facets_of(tl_store *st, const tl_store_search_q *q, const char *term,
                        const tl_sqlbuf *conds, const where *w, tl_store_facet_fn facet, void *ctx)
{
    counter c[F_N];
    memset(c, 0, sizeof(c));
    for (int k = 0; k < F_N; k++)
        tl_intern_init(&c[k].names);
    sqlite3_stmt *s = NULL;
#define FACET_COLS "SELECT i.type, i.format, i.language, i.year, i.subjects, " TL_AVAIL_SQL
    tl_err r =
        term ? prepare_where(st,
                             FACET_COLS " FROM search_heads s JOIN items i ON i.id = s.item_id"
                                        " WHERE s.term = ?1",
                             "", conds, w, term, &s)
             : prepare_where(st,
                             FACET_COLS " FROM search_fts JOIN items i ON i.id = search_fts.rowid"
                                        " WHERE search_fts MATCH ?1",
                             " LIMIT " TL_STR(TL_SEARCH_FACET_SCAN), conds, w, q->match, &s);
    int rc = SQLITE_OK;
    int64_t n = 0;
    while (r == TL_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        n++;
        for (int k = 0; r == TL_OK && k < 3; k++)
            r = count_add(&c[k], (const char *)sqlite3_column_text(s, k),
                          (size_t)sqlite3_column_bytes(s, k), 1);
        if (r == TL_OK && sqlite3_column_type(s, 3) == SQLITE_INTEGER) {
            char dec[48];
            long long y = sqlite3_column_int64(s, 3),
                      lo = y >= 0 ? y / 10 * 10 : -((-y + 9) / 10 * 10);
            int len = snprintf(dec, sizeof(dec), "%lld-%lld", lo, lo + 9);
            r = count_add(&c[F_YEAR], dec, (size_t)len, 1);
        }
        const char *sub = (const char *)sqlite3_column_text(s, 4);
        while (r == TL_OK && sub && *sub) {
            const char *e = strchr(sub, '|');
            size_t len = e ? (size_t)(e - sub) : strlen(sub);
            r = count_add(&c[F_SUBJECT], sub, len, 1);
            sub = e ? e + 1 : NULL;
        }
        if (r == TL_OK && sqlite3_column_type(s, 5) == SQLITE_INTEGER)
            r = sqlite3_column_int(s, 5) ? count_add(&c[F_AVAIL], "available", 9, 1)
                                         : count_add(&c[F_AVAIL], "unavailable", 11, 1);
    }
    if (r == TL_OK && rc != SQLITE_DONE)
        r = step_fail(st, rc);
    sqlite3_finalize(s);
    s = NULL;
    /* copies by branch: the items held at each (a store without holdings skips the scan) */
    if (r == TL_OK) {
        sqlite3_stmt *h = NULL;
        r = prepare_where(st, "SELECT EXISTS (SELECT 1 FROM holdings)", "", &(tl_sqlbuf){0}, w,
                          q->match, &h);
        int any = r == TL_OK && sqlite3_step(h) == SQLITE_ROW && sqlite3_column_int(h, 0);
        sqlite3_finalize(h);
        if (r == TL_OK && any && term)
            r = prepare_where(st,
                              "SELECT h.branch, count(DISTINCT h.item_id) FROM search_heads s"
                              " JOIN items i ON i.id = s.item_id"
                              " JOIN holdings h ON h.item_id = i.id"
                              " WHERE s.term = ?1 AND h.branch IS NOT NULL",
                              " GROUP BY h.branch", conds, w, term, &s);
        else if (r == TL_OK && any)
            r = prepare_where(st,
                              "SELECT h.branch, count(DISTINCT h.item_id) FROM search_fts"
                              " JOIN items i ON i.id = search_fts.rowid"
                              " JOIN holdings h ON h.item_id = i.id"
                              " WHERE search_fts MATCH ?1 AND h.branch IS NOT NULL",
                              " AND search_fts.rowid IN (SELECT search_fts.rowid FROM search_fts"
                              " WHERE search_fts MATCH ?1 LIMIT " TL_STR(
                                  TL_SEARCH_FACET_SCAN) ") GROUP BY h.branch",
                              conds, w, q->match, &s);
        while (r == TL_OK && any && (rc = sqlite3_step(s)) == SQLITE_ROW)
            r = count_add(&c[F_BRANCH], (const char *)sqlite3_column_text(s, 0),
                          (size_t)sqlite3_column_bytes(s, 0), sqlite3_column_int64(s, 1));
        if (r == TL_OK && any && rc != SQLITE_DONE)
            r = step_fail(st, rc);
        sqlite3_finalize(s);
    }
    for (int k = 0; r == TL_OK && k < F_N; k++)
        r = count_emit(&c[k], facet_names[k], facet, ctx);
    for (int k = 0; k < F_N; k++) {
        tl_intern_release(&c[k].names);
        free(c[k].count);
    }
    (void)n;
    return r;
}

/* Each row of s (item, title, tl_rank) to hit, best first; finalizes s. */
static tl_err hits_of(tl_store *st, sqlite3_stmt *s, tl_store_hit_fn hit, void *ctx)
{
    tl_err r = TL_OK;
    int rc = SQLITE_OK;
    while (r == TL_OK && (rc = sqlite3_step(s)) == SQLITE_ROW)
        r = hit(ctx, (const char *)sqlite3_column_text(s, 0),
                (const char *)sqlite3_column_text(s, 1), -sqlite3_column_double(s, 2));
    if (r == TL_OK && rc != SQLITE_DONE)
        r = step_fail(st, rc);
    sqlite3_finalize(s);
    return r;
}

/* How many of term's heads pass the filters (conds); -1 on an error. */
static int64_t heads_passing(tl_store *st, const char *term, const tl_sqlbuf *conds, const where *w)
{
    sqlite3_stmt *s = NULL;
    if (prepare_where(st,
                      "SELECT count(*) FROM search_heads hd JOIN items i ON i.id = hd.item_id"
                      " WHERE hd.term = ?1",
                      "", conds, w, term, &s) != TL_OK)
        return -1;
    int64_t n = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
    sqlite3_finalize(s);
    return n;
}

/* q answered from the heads of term (df records have it): the best q->limit that pass the
 * filters, in order, the total (with filters: df in the proportion of the heads that pass,
 * estimated), and the facets of the heads that pass. *answered = 0 when fewer than q->limit
 * heads pass: records past the heads might come next, so the whole match set is ranked. The
 * best that pass are the best of the filtered match set: every record past the heads ranks
 * below all of them. */
static tl_err heads_search(tl_store *st, const tl_store_search_q *q, const char *term, int64_t df,
                           const tl_sqlbuf *conds, const where *w, tl_store_hit_fn hit,
                           tl_store_facet_fn facet, void *ctx, int64_t *total,
                           tl_store_search_info *info, int *answered)
{
    int filtered = conds->s && conds->s[0];
    int64_t heads = df < TL_SEARCH_HEADS_N ? df : TL_SEARCH_HEADS_N, passing = heads;
    *answered = 0;
    if (filtered && (passing = heads_passing(st, term, conds, w)) < 0)
        return tl__sq_fail(st, sqlite3_errcode(tl__sq_db(st)));
    if (passing < q->limit && passing < df)
        return TL_OK;
    *answered = 1;
    char tail[64];
    snprintf(tail, sizeof(tail), " ORDER BY hd.pos LIMIT %d", q->limit);
    sqlite3_stmt *s = NULL;
    tl_err r = prepare_where(st,
                             "SELECT i.ext_id, i.title, hd.r FROM search_heads hd"
                             " JOIN items i ON i.id = hd.item_id WHERE hd.term = ?1",
                             tail, conds, w, term, &s);
    if (r == TL_OK)
        r = hits_of(st, s, hit, ctx);
    info->from_heads = 1;
    info->total_estimated = filtered && df > heads;
    *total = !filtered               ? df
             : info->total_estimated ? (int64_t)((double)df * (double)passing / (double)heads + 0.5)
                                     : passing;
    if (r == TL_OK && q->facets) {
        r = facets_of(st, q, term, conds, w, facet, ctx);
        info->facets_scanned = df > heads ? passing : 0;
        info->facets_best = 1;
    }
    return r;
}

tl_err tl__sq_search(tl_store *st, const tl_store_search_q *q, tl_store_hit_fn hit,
                     tl_store_facet_fn facet, void *ctx, int64_t *total)
{
    tl_sqlbuf conds = {0};
    where w;
    memset(&w, 0, sizeof(w));
    tl_diag d;
    tl_diag_clear(&d);
    *total = 0;
    tl_err r = filter_sql(q, &conds, &w, &d);
    if (r == TL_EINVAL) {
        snprintf(st->why, sizeof(st->why), "%s", d.msg);
        free(conds.s);
        free(w.held);
        return r;
    }
    tl_store_search_info info_;
    tl_store_search_info *info = q->info ? q->info : &info_;
    memset(info, 0, sizeof(*info));
    /* one common word: its heads, when they are those of the index as it is */
    int filtered = conds.s && conds.s[0];
    char term[256];
    int64_t df = -1;
    if (r == TL_OK)
        r = tl__sq_heads_find(st, q->match, term, sizeof(term), &df);
    if (r == TL_OK && df >= 0) {
        int answered = 0;
        r = heads_search(st, q, term, df, &conds, &w, hit, facet, ctx, total, info, &answered);
        if (r != TL_OK || answered) {
            free(conds.s);
            free(w.held);
            return r;
        }
    }
    /* ranked inside SQLite: a bounded sort of the match set by tl_rank, which counts it too;
     * only the best reach the items table (unless filters need it for every match) */
    char head[512], tail[96];
    if (filtered) {
        snprintf(head, sizeof(head),
                 "SELECT i.ext_id, i.title, tl_rank(search_fts, ?%d) AS r FROM search_fts"
                 " JOIN items i ON i.id = search_fts.rowid WHERE search_fts MATCH ?1",
                 2 + w.nv);
        snprintf(tail, sizeof(tail), " ORDER BY r, search_fts.rowid LIMIT %d", q->limit);
    } else {
        snprintf(head, sizeof(head),
                 "SELECT i.ext_id, i.title, f.r FROM (SELECT rowid AS id,"
                 " tl_rank(search_fts, ?%d) AS r FROM search_fts WHERE search_fts MATCH ?1"
                 " ORDER BY r, rowid LIMIT %d) f JOIN items i ON i.id = f.id ORDER BY f.r, f.id",
                 2 + w.nv, q->limit);
        tail[0] = '\0';
    }
    sqlite3_stmt *s = NULL;
    int64_t counted = 0;
    if (r == TL_OK)
        r = prepare_where(st, head, tail, &conds, &w, q->match, &s);
    if (r == TL_OK)
        sqlite3_bind_pointer(s, 2 + w.nv, &counted, "tl_rank_count", NULL);
    if (r == TL_OK)
        r = hits_of(st, s, hit, ctx);
    else
        sqlite3_finalize(s);
    *total = counted;
    if (r == TL_OK && q->facets) {
        r = facets_of(st, q, NULL, &conds, &w, facet, ctx);
        info->facets_scanned = counted > TL_SEARCH_FACET_SCAN ? TL_SEARCH_FACET_SCAN : 0;
    }
    free(conds.s);
    free(w.held);
    return r;
}

tl_err tl__sq_search_total(tl_store *st, int64_t user, const char *query, int64_t ts, int64_t total)
{
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(tl__sq_db(st),
                                "INSERT OR REPLACE INTO search_totals(search_id, total)"
                                " SELECT id, ?4 FROM searches WHERE ifnull(user_id, 0) = ?1"
                                " AND query = ?2 AND ts = ?3",
                                -1, &s, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(s, 1, user);
        sqlite3_bind_text(s, 2, query, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 3, ts);
        sqlite3_bind_int64(s, 4, total);
        rc = sqlite3_step(s);
    }
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? TL_OK : tl__sq_fail(st, rc);
}

/* ---- bulk --------------------------------------------------------------------------------- */

static tl_err exec_sql(tl_store *st, const char *sql)
{
    char *err = NULL;
    int rc = sqlite3_exec(tl__sq_db(st), sql, NULL, NULL, &err);
    sqlite3_free(err);
    return rc == SQLITE_OK ? TL_OK : tl__sq_fail(st, rc);
}

/* "english,french" -> "english french" into out; 0 when a name is not a Snowball language. */
static int langs_ok(const char *in, char *out, size_t len)
{
    size_t n = 0;
    const char *p = in;
    int count = 0;
    while (*p) {
        const char *e = strchr(p, ',');
        size_t k = e ? (size_t)(e - p) : strlen(p);
        char name[32];
        if (k == 0 || k >= sizeof(name) || ++count > TL_SEARCH_MAX_LANGS || n + k + 2 > len)
            return 0;
        memcpy(name, p, k);
        name[k] = '\0';
        for (size_t i = 0; i < k; i++)
            if (name[i] < 'a' || name[i] > 'z')
                return 0;
        struct sb_stemmer *s = strcmp(name, "none") ? sb_stemmer_new(name, "UTF_8") : NULL;
        if (!s && strcmp(name, "none") != 0)
            return 0;
        sb_stemmer_delete(s);
        if (n)
            out[n++] = ' ';
        memcpy(out + n, name, k);
        n += k;
        out[n] = '\0';
        p = e ? e + 1 : p + k;
    }
    return count > 0;
}

tl_err tl__sq_search_bulk(tl_store *st, int end, const char *languages)
{
    if (!end)
        return exec_sql(st, TL_SQ_SEARCH_DROP_TRIGGERS);
    char *stored = NULL, langs[TL_SEARCH_MAX_LANGS * 32 + 1];
    tl_err r = TL_OK;
    if (!languages) {
        sqlite3_stmt *s = NULL;
        if (sqlite3_prepare_v2(tl__sq_db(st),
                               "SELECT value FROM meta WHERE key = '" TL_SQ_SEARCH_META_LANGS "'",
                               -1, &s, NULL) == SQLITE_OK &&
            sqlite3_step(s) == SQLITE_ROW)
            stored = strdup((const char *)sqlite3_column_text(s, 0));
        sqlite3_finalize(s);
        languages = stored ? stored : TL_SQ_SEARCH_DEFAULT_LANGS;
    }
    if (!langs_ok(languages, langs, sizeof(langs))) {
        snprintf(st->why, sizeof(st->why),
                 "languages: '%.100s' is not a comma-separated list of Snowball languages"
                 " (english, french, german, ..., or none)",
                 languages);
        free(stored);
        return TL_EINVAL;
    }
    if (end == 2) { /* the heads alone, of the index as it stands */
        free(stored);
        return tl__sq_heads_build(st, !strchr(langs, ' '));
    }
    char *sql = sqlite3_mprintf("DROP TABLE IF EXISTS search_fts;" TL_SQ_SEARCH_TABLE("%s")
                                    TL_SQ_SEARCH_FILL TL_SQ_SEARCH_DROP_TRIGGERS
                                        TL_SQ_SEARCH_TRIGGERS TL_SQ_SEARCH_VERSION_ROW
                                "INSERT INTO meta(key, value) VALUES ('" TL_SQ_SEARCH_META_LANGS
                                "', %Q) ON CONFLICT(key) DO UPDATE SET value = excluded.value;",
                                langs, languages);
    free(stored);
    if (!sql)
        return TL_ENOMEM;
    r = exec_sql(st, sql);
    sqlite3_free(sql);
    /* the heads of the common words, for one language (another's stems would stand beside) */
    return r == TL_OK ? tl__sq_heads_build(st, !strchr(langs, ' ')) : r;
}
