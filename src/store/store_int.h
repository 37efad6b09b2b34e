/* Private to src/store: the backend interface (a table of operations each engine fills in)
 * and the engine-neutral state of a tl_store. A new engine is a folder beside sqlite/ that
 * provides an open function returning a struct whose first member is struct tl_store. */
#ifndef TL_STORE_INT_H
#define TL_STORE_INT_H

#include "tailor/store.h"
#include "util/intern.h"

/* What an external id names. */
typedef enum tl_id_kind { TL_ID_USER, TL_ID_ITEM, TL_ID_TYPE, TL_ID_NKINDS } tl_id_kind;

/* An event with its ids resolved. */
typedef struct tl_store_event {
    int64_t user, item, type, ts;
    int has_value;
    double value;
    const char *device, *channel, *branch, *session;
} tl_store_event;

/* Rows handed out by the scans used to build matrices. Strings are valid during the call. */
typedef struct tl_store_item_row {
    int64_t id;
    const char *ext;
    size_t ext_len;
    const char *title, *authors, *subjects, *language, *type, *format;
    int64_t year, added, available; /* TL_ABSENT when unknown */
} tl_store_item_row;

typedef tl_err (*tl_scan_item_fn)(void *ctx, const tl_store_item_row *r);
/* attrs: the user's attributes as JSON object text, or NULL */
typedef tl_err (*tl_scan_user_fn)(void *ctx, int64_t id, const char *ext, size_t len,
                                  int personalize, const char *attrs);
typedef tl_err (*tl_scan_type_fn)(void *ctx, int64_t id, const char *name);
typedef tl_err (*tl_scan_event_fn)(void *ctx, int64_t user, int64_t item, int64_t type,
                                   int has_value, double value, int64_t ts);
/* One event of one patron, ids as text (valid during the call); where: its device, channel
 * and branch (each NULL when not recorded). */
typedef tl_err (*tl_user_event_fn)(void *ctx, const char *item, size_t len, const char *type,
                                   int has_value, double value, int64_t ts,
                                   const char *const where[3]);

/* Every operation returns TL_OK or an error; on TL_ESTORE the engine's message is in
 * st->errmsg. Writes are only called inside a transaction (the generic layer makes sure). */
typedef struct tl_store_ops {
    const char *name;
    void (*close)(tl_store *st);
    tl_err (*begin)(tl_store *st);
    tl_err (*commit)(tl_store *st);
    tl_err (*rollback)(tl_store *st);
    /* *id = the id of ext, or 0 when there is none */
    tl_err (*find_id)(tl_store *st, tl_id_kind k, const char *ext, size_t len, int64_t *id);
    /* adds a bare user / item / event type (known not to exist) and returns its id */
    tl_err (*create_id)(tl_store *st, tl_id_kind k, const char *ext, size_t len, int64_t *id);
    /* upserts; *changed = 1 when a row was written; *id = the item's / user's id */
    tl_err (*put_item)(tl_store *st, const tl_item_rec *r, int64_t *id, int *changed);
    tl_err (*put_user)(tl_store *st, const tl_user_rec *r, int64_t *id, int *changed);
    tl_err (*put_event)(tl_store *st, const tl_store_event *e, tl_put *what);
    /* the same for e[0..n) in that order (for bulk loads; may be NULL: put_event is then
     * called for each); adds to *added and *updated (the rest were unchanged) */
    tl_err (*put_events)(tl_store *st, const tl_store_event *e, int n, long long *added,
                         long long *updated);
    /* user 0 = anonymous; items[0..r->nclicked) are the clicked items' ids */
    tl_err (*put_search)(tl_store *st, int64_t user, const tl_search_rec *r, const int64_t *items,
                         tl_put *what);
    tl_err (*count)(tl_store *st, tl_store_counts *out);
    tl_err (*events_by_type)(tl_store *st, tl_store_row_fn fn, void *ctx);
    tl_err (*top_items)(tl_store *st, int limit, tl_store_row_fn fn, void *ctx);
    tl_err (*top_users)(tl_store *st, int limit, tl_store_row_fn fn, void *ctx);
    tl_err (*trending)(tl_store *st, int64_t window, int limit, tl_store_row_fn fn, void *ctx);
    tl_err (*changed)(tl_store *st, int *changed);
    tl_err (*segment_top)(tl_store *st, const char *attr, const char *value, int min, int limit,
                          tl_store_row_fn fn, void *ctx);
    tl_err (*user_attr)(tl_store *st, const char *user, const char *attr, char **out);
    tl_err (*item_counts_since)(tl_store *st, int64_t since, tl_store_row_fn fn, void *ctx);
    tl_err (*events_since)(tl_store *st, int64_t since, int limit, tl_store_row_fn fn, void *ctx,
                           int64_t *count);
    tl_err (*get_meta)(tl_store *st, const char *key, char **out);
    tl_err (*set_meta)(tl_store *st, const char *key, const char *value);
    /* full scans in id order (events: in the engine's natural order) */
    tl_err (*scan_items)(tl_store *st, tl_scan_item_fn fn, void *ctx);
    tl_err (*scan_users)(tl_store *st, tl_scan_user_fn fn, void *ctx);
    tl_err (*scan_types)(tl_store *st, tl_scan_type_fn fn, void *ctx);
    tl_err (*scan_events)(tl_store *st, tl_scan_event_fn fn, void *ctx);
    /* one patron's events, grouped by item; *found = 0 when there is no such patron, else
     * *personalize = their consent (1 or 0) */
    tl_err (*user_consent)(tl_store *st, const char *ext, size_t len, int *found, int *personalize);
    tl_err (*user_events)(tl_store *st, const char *ext, size_t len, int *found, int *personalize,
                          tl_user_event_fn fn, void *ctx);
    /* API keys (tailor/store.h); callers check the schema version first */
    tl_err (*put_key)(tl_store *st, const tl_store_key *k, const uint8_t *hash, size_t len);
    tl_err (*list_keys)(tl_store *st, tl_store_key_fn fn, void *ctx);
    /* *changes = 0 when there is no such key */
    tl_err (*revoke_key)(tl_store *st, const char *id, int64_t when, int *changes);
    tl_err (*get_key)(tl_store *st, const char *id, tl_store_key_auth *out, int *found);
    /* one record by its external id: fn once when *found = 1 */
    tl_err (*get_item)(tl_store *st, const char *ext, size_t len, tl_store_item_fn fn, void *ctx,
                       int *found);
    tl_err (*get_user)(tl_store *st, const char *ext, size_t len, tl_store_user_fn fn, void *ctx,
                       int *found);
    /* as put_item / put_user, but absent fields are cleared: the record becomes r */
    tl_err (*replace_item)(tl_store *st, const tl_item_rec *r, int64_t *id, int *changed);
    tl_err (*replace_user)(tl_store *st, const tl_user_rec *r, int64_t *id, int *changed);
    /* removes the item or user id (known to exist) with its events and searches' clicks (an
     * item) or searches (a user); *events = the events removed */
    tl_err (*delete_record)(tl_store *st, tl_id_kind k, int64_t id, long long *events);
    /* idempotency keys (schema version 3): a row of scope and key no older than since */
    tl_err (*idem_get)(tl_store *st, const char *scope, const char *key, int64_t since,
                       tl_store_idem *out, int *found);
    tl_err (*idem_put)(tl_store *st, const char *scope, const char *key, const tl_store_idem *rec,
                       int64_t created);
    tl_err (*idem_prune)(tl_store *st, int64_t before, long long *removed);
    /* trust (schema version 4); user: the store's id of a patron known to exist */
    tl_err (*audit_append)(tl_store *st, const tl_store_audit *e);
    tl_err (*audit_last)(tl_store *st, int64_t *seq, uint8_t *hash, int *found);
    tl_err (*audit_each)(tl_store *st, tl_store_audit_fn fn, void *ctx);
    tl_err (*audit_forget)(tl_store *st, const char *target, long long *changed);
    tl_err (*consent_set)(tl_store *st, int64_t user, int personalize, int64_t retention_days,
                          int64_t ts, const char *actor);
    tl_err (*user_dump)(tl_store *st, int64_t user, const tl_store_dump_fns *f, void *ctx,
                        int64_t *retention_days);
    tl_err (*retention_run)(tl_store *st, int64_t now, long long *removed);
    tl_err (*scrub)(tl_store *st, int *complete);
    /* collection analytics (schema version 5): tailor/store.h's tl_store_analytics */
    tl_err (*analytics)(tl_store *st, tl_analytics_part part, const tl_analytics_window *w,
                        tl_analytics_fn fn, void *ctx);
    /* catalogue details and copies (schema version 5) of the item id (known to exist);
     * put_holdings: the item's copies become h[0..n) (existed: it may have had others, which
     * go); *changed = 1 when a row was written or removed */
    tl_err (*put_details)(tl_store *st, int64_t item, const tl_item_details *d, int *changed);
    tl_err (*put_holdings)(tl_store *st, int64_t item, int existed, const tl_holding_rec *h, int n,
                           int *changed);
    tl_err (*get_details)(tl_store *st, const char *ext, size_t len, tl_store_details_fn fn,
                          void *ctx, int *found);
    tl_err (*get_holdings)(tl_store *st, const char *ext, size_t len, tl_store_holding_fn fn,
                           void *ctx);
    /* the page cache's limit for this connection, KiB (0 = the engine's default): a
     * catalogue import keeps its memory flat with a smaller one (may be NULL) */
    tl_err (*cache_limit)(tl_store *st, int kib);
    /* the items of works with more than one item: fn(ctx, item id, work id, 0), by work */
    tl_err (*works_each)(tl_store *st, tl_store_row_fn fn, void *ctx);
    /* holdings (schema version 5); item: the store's id of a record known to exist */
    tl_err (*put_holding)(tl_store *st, const tl_holding_rec *h, int64_t item, tl_put *what);
    /* *item malloc'd, or NULL when there is no such copy */
    tl_err (*copy_item)(tl_store *st, const char *copy, size_t len, char **item);
    tl_err (*shelves_each)(tl_store *st, tl_store_shelf_fn fn, void *ctx);
    tl_err (*schedules_each)(tl_store *st, tl_store_schedule_fn fn, void *ctx);
    tl_err (*loan_weeks)(tl_store *st, tl_store_week_fn fn, void *ctx);
    /* catalogue search (schema version 8; tailor/store.h): q is checked; user of a search: the
     * store's id, 0 anonymous; bulk: end 0 stops the index's triggers, 1 builds the index again
     * whole for languages (NULL: the store's) and starts them again, 2 builds the heads
     * again (tl_store_search_heads) */
    tl_err (*search)(tl_store *st, const tl_store_search_q *q, tl_store_hit_fn hit,
                     tl_store_facet_fn facet, void *ctx, int64_t *total);
    tl_err (*search_total)(tl_store *st, int64_t user, const char *query, int64_t ts,
                           int64_t total);
    tl_err (*search_bulk)(tl_store *st, int end, const char *languages);
    /* new-arrival alerts (schema version 5); user as in trust */
    tl_err (*sub_set)(tl_store *st, int64_t user, int alerts, const char *email, int64_t ts);
    tl_err (*sub_get)(tl_store *st, int64_t user, tl_store_sub_fn fn, void *ctx, int *found);
    tl_err (*sub_off)(tl_store *st, int64_t user, int *changed);
    tl_err (*sub_each)(tl_store *st, tl_store_sub_fn fn, void *ctx);
    tl_err (*details)(tl_store *st, int64_t added_from, int64_t starts_from, int64_t starts_to,
                      tl_store_detail_fn fn, void *ctx);
    /* reading lists, reviews, learning paths (schema version 5; lib_int.h); NULL: none */
    const struct tl_store_lib_ops *lib;
    /* impressions and learners' state (schema version 9; imp_int.h); NULL: none */
    const struct tl_store_imp_ops *imp;
    /* experiments (schema version 10; exp_int.h); NULL: none */
    const struct tl_store_exp_ops *exp;
    const struct tl_store_tenant_ops *tenants; /* NULL: the engine cannot hold tenants */
} tl_store_ops;

/* The in-memory id cache of one kind: ext id -> store id, valid for one transaction. */
typedef struct tl_id_cache {
    tl_intern names;
    int64_t *ids;
    int32_t cap;
} tl_id_cache;

struct tl_store {
    const tl_store_ops *ops;
    int in_txn;
    int schema_version;
    int readonly;
    tl_id_cache cache[TL_ID_NKINDS];
    long long created[TL_ID_NKINDS];       /* implicit creations since begin */
    char last_type[TL_EVENT_TYPE_MAX + 1]; /* most events in a file share one type: skip the */
    int64_t last_type_id;                  /* hash lookup for it (0 = none) */
    int64_t *click_ids;                    /* scratch for put_search */
    int click_cap;
    int has_pkey; /* patron ids are pseudonymized with pkey */
    uint8_t pkey[TL_PSEUDONYM_KEY_LEN];
    char errmsg[256]; /* the engine's last message */
    char why[320];    /* the last failure explained for people (path, reason), or "" */
};

/* The engines. o is complete: lock_timeout in [0, TL_STORE_LOCK_TIMEOUT_MAX]. */
tl_err tl__sqlite_open(const char *path, const tl_store_opts *o, tl_store **out, tl_diag *d);
/* target: a libpq URI (postgres://... or postgresql://...) */
tl_err tl__postgres_open(const char *target, const tl_store_opts *o, tl_store **out, tl_diag *d);

/* Generic helpers shared by the engine-neutral files of src/store. */
void tl__store_init(tl_store *st, const tl_store_ops *ops);
void tl__store_release(tl_store *st);
/* Resolves the ids of r (creating its user and item unless flags has TL_PUT_STRICT, and its
 * type) into *e without writing the event; the strings of *e point into r. Must be called
 * inside a transaction. Errors as tl_store_put_event. */
tl_err tl__store_resolve_event(tl_store *st, const tl_event_rec *r, int flags, tl_store_event *e,
                               tl_diag *d);
/* TL_OK when st's engine has the operation (has_op) and its schema is at least version, else
 * TL_EUNSUPPORTED or TL_EVERSION with d naming what is missing and the commands (writers)
 * whose write open migrates the store. */
tl_err tl__store_ready(tl_store *st, int has_op, int version, const char *what, const char *writers,
                       tl_diag *d);
/* The patron id st keeps for ext[0..len) (tenants.c): tl_patron_ref with st's pseudonym key and
 * the thread's tenant; buf: TL_PATRON_REF_SIZE bytes. *out_len (may be NULL) = its length. */
const char *tl__store_patron(const tl_store *st, const char *ext, size_t len, char *buf,
                             size_t *out_len);
/* The pseudonym checks (pseudonym.c). At open: the key against the store's check value (and
 * none at all against a pseudonymized store); TL_EINVAL with d saying why. At the start of each
 * write transaction, under the write lock, the same again (another process may have written
 * since the open), and the check value written by the first transaction with a key: TL_ESTORE
 * with st->why saying why. */
tl_err tl__store_pseudonym_open(tl_store *st, const uint8_t *key, tl_diag *d);
tl_err tl__store_pseudonym_guard(tl_store *st);

/* Fills d with st->why, else "store: <engine message>" (TL_ESTORE), or "out of memory"
 * (TL_ENOMEM); returns rc. */
tl_err tl__store_fail(tl_store *st, tl_err rc, tl_diag *d);

#endif
