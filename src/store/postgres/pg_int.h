/* Private to src/store/postgres: the PostgreSQL engine's connection and its helpers, shared by
 * the files of the engine (pg_store.c: the core operations; pg_privacy.c: trust). */
#ifndef TL_PG_INT_H
#define TL_PG_INT_H

#include <libpq-fe.h>

#include "store/store_int.h"

/* Parameters of one statement: strings are sent as binary text (no terminator needed),
 * numbers as text. */
#define TL_PG_MAXP 16
typedef struct tl_pg_args {
    int n;
    const char *v[TL_PG_MAXP];
    int len[TL_PG_MAXP];
    int fmt[TL_PG_MAXP];
    char num[TL_PG_MAXP][32];
} tl_pg_args;

void tl__pg_text(tl_pg_args *a, const char *s, size_t n); /* s NULL: SQL NULL */
void tl__pg_str(tl_pg_args *a, const char *s);
void tl__pg_int(tl_pg_args *a, int64_t v);
void tl__pg_opt(tl_pg_args *a, int64_t v); /* TL_ABSENT: SQL NULL */
void tl__pg_real(tl_pg_args *a, double v);
void tl__pg_null(tl_pg_args *a);
void tl__pg_blob(tl_pg_args *a, const uint8_t *b, size_t n);

/* Runs sql with a's parameters (a may be NULL); *res = its result (PQclear it) when res is not
 * NULL. TL_ESTORE with st->errmsg on failure. */
tl_err tl__pg_query(tl_store *st, const char *sql, const tl_pg_args *a, PGresult **res);
/* The same for a statement run many times: prepared once per connection, by its slot. */
tl_err tl__pg_prepared(tl_store *st, int slot, const char *sql, const tl_pg_args *a,
                       PGresult **res);
/* tl__pg_query for a write: *changes (may be NULL) = the rows it wrote. */
tl_err tl__pg_run(tl_store *st, const char *sql, const tl_pg_args *a, long long *changes);
/* The rows a statement changed (PQcmdTuples). */
long long tl__pg_changes(PGresult *r);
int64_t tl__pg_i64(PGresult *r, int row, int col);
int64_t tl__pg_opt_col(PGresult *r, int row, int col); /* NULL: TL_ABSENT */
const char *tl__pg_s(PGresult *r, int row, int col);   /* NULL stays NULL */
/* Decodes a bytea column (text form "\x..") into out (at most cap bytes); returns its length. */
size_t tl__pg_bytes(PGresult *r, int row, int col, uint8_t *out, size_t cap);
PGconn *tl__pg_conn(tl_store *st);
/* Consortium tenancy (pg_tenants.c). */
extern const struct tl_store_tenant_ops tl__pg_tenant_ops;

/* Sends data[0..len) (COPY text rows) to the COPY that sql starts, and ends it. */
tl_err tl__pg_copy_in(tl_store *st, const char *sql, const char *data, size_t len);

/* Ids in bulk (pg_ids.c): per kind, the table read once, and creations not yet written. */
typedef struct tl_pg_kind_ids {
    tl_intern names; /* ext id -> index into ids, once loaded */
    int64_t *ids;
    int32_t cap;
    int loaded, finds, creates;
    int64_t *reserved; /* ids taken from the sequence, next .. nreserved unused */
    int next, nreserved;
    char *pending; /* COPY rows "id\text" of created ids not yet written */
    size_t pending_len, pending_cap;
} tl_pg_kind_ids;
typedef struct tl_pg_ids {
    tl_pg_kind_ids kind[TL_ID_NKINDS];
    long long pending; /* creations not yet written */
    int flushing;
} tl_pg_ids;
/* Forgets everything (at each transaction's start and end); the caller inits once before. */
void tl__pg_ids_reset(tl_pg_ids *x);
/* *done = 1 when answered here (*id, 0: none), else the caller asks the server. */
tl_err tl__pg_ids_find(tl_store *st, tl_pg_ids *x, tl_id_kind k, const char *ext, size_t len,
                       int64_t *id, int *done);
tl_err tl__pg_ids_create(tl_store *st, tl_pg_ids *x, tl_id_kind k, const char *ext, size_t len,
                         int64_t *id, int *done);
/* Records that ext is id now (0: gone) where the kind's table was read (a record written or
 * deleted by other statements). */
tl_err tl__pg_ids_note(tl_pg_ids *x, tl_id_kind k, const char *ext, size_t len, int64_t id);
/* Writes the pending creations (before any other statement: tl__pg_query and the like). */
tl_err tl__pg_ids_flush(tl_store *st, tl_pg_ids *x);

/* Statement slots of the engine's files (each file its own range). */
enum { TL_PG_SLOTS = 96, TL_PG_PRIVACY_SLOT0 = 64, TL_PG_IMP_SLOT0 = 80, TL_PG_CAT_SLOT0 = 84 };

/* Reading lists, reviews, paths (pg_lists.c; lib_int.h). */
extern const struct tl_store_lib_ops tl__pg_lib_ops;

/* Catalogue details and copies, shelves, schedules, seasons and the digest's details
 * (pg_catalogue.c): store_int.h's ops of the same names. */
tl_err tl__pg_put_details(tl_store *st, int64_t item, const tl_item_details *d, int *changed);
tl_err tl__pg_put_holdings(tl_store *st, int64_t item, int existed, const tl_holding_rec *h, int n,
                           int *changed);
tl_err tl__pg_get_details(tl_store *st, const char *ext, size_t len, tl_store_details_fn fn,
                          void *ctx, int *found);
tl_err tl__pg_get_holdings(tl_store *st, const char *ext, size_t len, tl_store_holding_fn fn,
                           void *ctx);
tl_err tl__pg_works_each(tl_store *st, tl_store_row_fn fn, void *ctx);
tl_err tl__pg_put_holding(tl_store *st, const tl_holding_rec *h, int64_t item, tl_put *what);
tl_err tl__pg_copy_item(tl_store *st, const char *copy, size_t len, char **item);
tl_err tl__pg_shelves_each(tl_store *st, tl_store_shelf_fn fn, void *ctx);
tl_err tl__pg_schedules_each(tl_store *st, tl_store_schedule_fn fn, void *ctx);
tl_err tl__pg_loan_weeks(tl_store *st, tl_store_week_fn fn, void *ctx);
tl_err tl__pg_details(tl_store *st, int64_t added_from, int64_t starts_from, int64_t starts_to,
                      tl_store_detail_fn fn, void *ctx);

/* Collection analytics and searches' totals (pg_analytics.c): store_int.h's ops. */
tl_err tl__pg_analytics(tl_store *st, tl_analytics_part part, const tl_analytics_window *w,
                        tl_analytics_fn fn, void *ctx);
/* Catalogue search (pg_search.c): store_int.h's ops of the same names, and the index built
 * where a writable connection finds none (its own transaction). */
tl_err tl__pg_search(tl_store *st, const tl_store_search_q *q, tl_store_hit_fn hit,
                     tl_store_facet_fn facet, void *ctx, int64_t *total);
tl_err tl__pg_search_bulk(tl_store *st, int end, const char *languages);
tl_err tl__pg_search_ensure(tl_store *st);
tl_err tl__pg_search_total(tl_store *st, int64_t user, const char *query, int64_t ts,
                           int64_t total);

/* Impressions and learners' state (pg_impressions.c; imp_int.h), with a patron's impressions
 * for an export and the retention job's part; experiments (pg_experiments.c; exp_int.h). */
extern const struct tl_store_imp_ops tl__pg_imp_ops;
tl_err tl__pg_imp_dump(tl_store *st, int64_t user, const tl_store_dump_fns *f, void *ctx);
tl_err tl__pg_imp_retention(tl_store *st, int64_t now);
extern const struct tl_store_exp_ops tl__pg_exp_ops;

/* Trust (pg_privacy.c). */
tl_err tl__pg_audit_append(tl_store *st, const tl_store_audit *e);
tl_err tl__pg_audit_last(tl_store *st, int64_t *seq, uint8_t *hash, int *found);
tl_err tl__pg_audit_each(tl_store *st, tl_store_audit_fn fn, void *ctx);
tl_err tl__pg_audit_forget(tl_store *st, const char *target, long long *changed);
tl_err tl__pg_consent_set(tl_store *st, int64_t user, int personalize, int64_t retention_days,
                          int64_t ts, const char *actor);
tl_err tl__pg_user_dump(tl_store *st, int64_t user, const tl_store_dump_fns *f, void *ctx,
                        int64_t *retention_days);
tl_err tl__pg_retention_run(tl_store *st, int64_t now, long long *removed);
tl_err tl__pg_sub_set(tl_store *st, int64_t user, int alerts, const char *email, int64_t ts);
tl_err tl__pg_sub_get(tl_store *st, int64_t user, tl_store_sub_fn fn, void *ctx, int *found);
tl_err tl__pg_sub_off(tl_store *st, int64_t user, int *changed);
tl_err tl__pg_sub_each(tl_store *st, tl_store_sub_fn fn, void *ctx);

#endif
