/* Private to src/store/sqlite: the file behind a store. sqlite_store.c opens, reads and writes
 * through SQLite; sqlite_file.c decides, before SQLite touches a path, whether it is Tailor's
 * to touch, makes new stores, removes new stores that never got data, and turns the engine's
 * failures into messages that name the path and the operating system's reason. */
#ifndef TL_STORE_SQLITE_INT_H
#define TL_STORE_SQLITE_INT_H

#include <sqlite3.h>
#include <sys/types.h>

#include "store/store_int.h"

/* PRAGMA application_id of the stores Tailor creates: "TAIL". */
#define TL_SQ_APPLICATION_ID 0x5441494c

/* The meta row of a store that is being created: written with the schema, deleted by the first
 * commit. Readers see no store yet; a writer that closes it alone, still empty, removes it
 * ("created": the path had nothing) or empties the file again ("adopted": an empty file). */
#define TL_SQ_PENDING "tl.pending"
#define TL_SQ_PENDING_CREATED "created"
#define TL_SQ_PENDING_ADOPTED "adopted"

typedef enum sq_origin {
    SQ_FOUND,   /* a store is there */
    SQ_MISSING, /* nothing is there, and the open may create a store */
    SQ_ADOPTED, /* an empty file, which the open may make a store */
} sq_origin;

/* A store's file as tl__sq_inspect found it. */
typedef struct sq_file {
    char *path; /* as the caller named it (malloc'd); NULL for ":memory:" */
    char *real; /* the same resolved (symbolic links, "..": where the companions go) */
    sq_origin origin;
    int legacy;    /* a store of an earlier Tailor: its schema, not yet its mark */
    int immutable; /* on a read-only file system: read without locks or companion files */
    dev_t dev;     /* the file's identity when it was opened */
    ino_t ino;
    double lock_timeout; /* seconds */
} sq_file;

/* Looks at path before SQLite may touch it, as tl_store_open_with says: refuses what is not a
 * Tailor store, tells a path where a store may be created (SQ_MISSING) or an empty file that
 * may be adopted, and checks that a write open can write the file and the directory its
 * write-ahead log goes to. Fills f (release it with tl__sq_file_release, also on error).
 * Errors as tl_store_open_with, with d. */
tl_err tl__sq_inspect(const char *path, int flags, double lock_timeout, sq_file *f, tl_diag *d);
/* A new store is made under a temporary name beside path (tl__sq_new_file creates it, empty,
 * and writes its name into tmp), then appears at path whole (tl__sq_publish: a hard link,
 * which never replaces a store that another process published first; tmp is removed). A
 * failure says "cannot create PATH: reason". tl__sq_remove_new removes tmp and its journal. */
tl_err tl__sq_new_file(const char *path, char *tmp, size_t len, tl_diag *d);
tl_err tl__sq_publish(const char *tmp, const char *path, tl_diag *d);
void tl__sq_remove_new(const char *tmp);
void tl__sq_file_release(sq_file *f);
/* 1 when f->path still names the file that was inspected. */
int tl__sq_same_file(const sq_file *f);
/* A "file:" URI that opens f->path without locks (for f->immutable), malloc'd, or NULL. */
char *tl__sq_immutable_uri(const sq_file *f);
/* Called just before db (f's store) is closed by a writer that found it pending: when no
 * other connection has the store open and it is still pending and holds no data, removes it
 * ("created") or empties the file ("adopted"), with its -wal, -shm and -journal files, and
 * makes the close skip its checkpoint. Otherwise leaves everything as it is. */
void tl__sq_discard(sqlite3 *db, const sq_file *f);
/* Explains the SQLite result code of a failure on db for people, naming the path and the
 * reason (a lock held too long, the OS's errno, a full disk...) into why; "" when the engine's
 * message says it as well as anything would. f may be NULL (":memory:"). */
void tl__sq_explain(const sq_file *f, sqlite3 *db, int code, char *why, size_t len);

/* sqlite_store.c's connection of st and its failure mapping, for sqlite_privacy.c. */
sqlite3 *tl__sq_db(tl_store *st);
tl_err tl__sq_fail(tl_store *st, int code);

/* The trust operations (sqlite_privacy.c): see store_int.h's ops of the same names. */
tl_err tl__sq_audit_append(tl_store *st, const tl_store_audit *e);
tl_err tl__sq_audit_last(tl_store *st, int64_t *seq, uint8_t *hash, int *found);
tl_err tl__sq_audit_each(tl_store *st, tl_store_audit_fn fn, void *ctx);
tl_err tl__sq_audit_forget(tl_store *st, const char *target, long long *changed);
tl_err tl__sq_consent_set(tl_store *st, int64_t user, int personalize, int64_t retention_days,
                          int64_t ts, const char *actor);
tl_err tl__sq_user_dump(tl_store *st, int64_t user, const tl_store_dump_fns *f, void *ctx,
                        int64_t *retention_days);
tl_err tl__sq_retention_run(tl_store *st, int64_t now, long long *removed);
tl_err tl__sq_scrub(tl_store *st, int *complete);
/* Collection analytics (sqlite_analytics.c). */
tl_err tl__sq_analytics(tl_store *st, tl_analytics_part part, const tl_analytics_window *w,
                        tl_analytics_fn fn, void *ctx);

/* Statements of the other sqlite_*.c files, prepared on first use and kept until the store
 * closes: slot (below TL_SQ_KEPT) names one, sql is its text (always the same for a slot). */
#define TL_SQ_KEPT 16
tl_err tl__sq_kept(tl_store *st, int slot, const char *sql, sqlite3_stmt **out);

/* The catalogue tables (sqlite_catalogue.c): see store_int.h's ops of the same names. */
tl_err tl__sq_put_details(tl_store *st, int64_t item, const tl_item_details *d, int *changed);
tl_err tl__sq_put_holdings(tl_store *st, int64_t item, int existed, const tl_holding_rec *h, int n,
                           int *changed);
tl_err tl__sq_get_details(tl_store *st, const char *ext, size_t len, tl_store_details_fn fn,
                          void *ctx, int *found);
tl_err tl__sq_cache_limit(tl_store *st, int kib);
tl_err tl__sq_works_each(tl_store *st, tl_store_row_fn fn, void *ctx);
tl_err tl__sq_get_holdings(tl_store *st, const char *ext, size_t len, tl_store_holding_fn fn,
                           void *ctx);

/* The holdings and library events (sqlite_holdings.c): see store_int.h's ops. */
tl_err tl__sq_put_holding(tl_store *st, const tl_holding_rec *h, int64_t item, tl_put *what);
tl_err tl__sq_copy_item(tl_store *st, const char *copy, size_t len, char **item);
tl_err tl__sq_shelves_each(tl_store *st, tl_store_shelf_fn fn, void *ctx);
tl_err tl__sq_schedules_each(tl_store *st, tl_store_schedule_fn fn, void *ctx);
tl_err tl__sq_loan_weeks(tl_store *st, tl_store_week_fn fn, void *ctx);
/* new-arrival alerts (sqlite_subscriptions.c) */
tl_err tl__sq_sub_set(tl_store *st, int64_t user, int alerts, const char *email, int64_t ts);
tl_err tl__sq_sub_get(tl_store *st, int64_t user, tl_store_sub_fn fn, void *ctx, int *found);
tl_err tl__sq_sub_off(tl_store *st, int64_t user, int *changed);
tl_err tl__sq_sub_each(tl_store *st, tl_store_sub_fn fn, void *ctx);
tl_err tl__sq_details(tl_store *st, int64_t added_from, int64_t starts_from, int64_t starts_to,
                      tl_store_detail_fn fn, void *ctx);

/* Reading lists, reviews, learning paths (sqlite_lists.c). forget: before the item or patron id
 * is deleted, what of theirs those tables hold (a patron's lists, reviews and feedback; an
 * item's places on lists and paths, its reviews and feedback). */
extern const struct tl_store_lib_ops tl__sq_lib_ops;
/* Experiments (sqlite_experiments.c, schema version TL_SQ_EXPERIMENTS_VERSION). */
#define TL_SQ_EXPERIMENTS_VERSION 10
/* Consortium tenancy (sqlite_tenants.c, schema version TL_SQ_TENANT_VERSION). */
#define TL_SQ_TENANT_VERSION 11
extern const struct tl_store_tenant_ops tl__sq_tenant_ops;
extern const struct tl_store_exp_ops tl__sq_exp_ops;
/* Statements prepared per call (the rarely run ones: trust, lists): prepare; step to the end and
 * finalize (*changes, may be NULL: the rows written); bind text or NULL; a column as text. */
tl_err tl__sq_prep(tl_store *st, const char *sql, sqlite3_stmt **q);
tl_err tl__sq_finish(tl_store *st, sqlite3_stmt *q, long long *changes);
void tl__sq_text(sqlite3_stmt *q, int i, const char *v);
const char *tl__sq_col(sqlite3_stmt *q, int i);
tl_err tl__sq_lib_forget(tl_store *st, tl_id_kind k, int64_t id);
/* Impressions (sqlite_impressions.c, schema version 9). forget: a patron's impressions, an
 * item's places in them; retention: the impressions of patrons past their window. */
extern const struct tl_store_imp_ops tl__sq_imp_ops;
tl_err tl__sq_imp_forget(tl_store *st, tl_id_kind k, int64_t id);
tl_err tl__sq_imp_retention(tl_store *st, int64_t now);
tl_err tl__sq_imp_dump(tl_store *st, int64_t user, const tl_store_dump_fns *f, void *ctx);

#endif
