/* Tailor's store: the durable home of items, users (patrons), events and searches, behind one
 * small interface. The engine is chosen by the target string: a file path (or ":memory:") is
 * SQLite, embedded; a "postgres://" URL is reserved for a PostgreSQL backend. Callers never see
 * the engine. String ids are interned to dense integer ids (stable rowids).
 *
 * Threads: a tl_store is used by one thread at a time; open one per thread. */
#ifndef TAILOR_STORE_H
#define TAILOR_STORE_H

#include <stdint.h>

#include "tailor/error.h"
#include "tailor/ingest.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct tl_store tl_store;
typedef struct tl_data tl_data; /* core/data.h: matrices and catalogue in memory */

#define TL_STORE_DEFAULT_PATH "tailor.db"
#define TL_STORE_ENV "TAILOR_DB"
#define TL_STORE_LOCK_ENV "TAILOR_LOCK_TIMEOUT" /* seconds a writer waits for another's lock */
#define TL_STORE_LOCK_TIMEOUT 30.0              /* ... when neither the caller nor it says */
#define TL_STORE_LOCK_TIMEOUT_MAX 86400.0

enum {
    TL_STORE_CREATE = 1,   /* create the store when there is none (a write open only) */
    TL_STORE_READONLY = 2, /* never write: no journal-mode change, no migration, no mark */
};

typedef struct tl_store_opts {
    int flags;                    /* TL_STORE_CREATE, TL_STORE_READONLY */
    double lock_timeout;          /* seconds to wait while another process writes to the store, 0 to
                                     TL_STORE_LOCK_TIMEOUT_MAX; < 0 (the default): $TAILOR_LOCK_TIMEOUT,
                                     else TL_STORE_LOCK_TIMEOUT */
    const uint8_t *pseudonym_key; /* TL_PSEUDONYM_KEY_LEN bytes (copied), or NULL: patron ids
                                     are kept as they are (see "pseudonymized patron ids") */
} tl_store_opts;

/* flags 0, lock_timeout -1, no pseudonym key. */
TL_API void tl_store_opts_init(tl_store_opts *o);

/* ---- pseudonymized patron ids ----------------------------------------------------------------
 * With a pseudonym key (32 secret bytes), the store never holds a patron's id: every patron id
 * that enters it (events, searches, users records, consent, exports, deletions, the patron of
 * an API key) is replaced at the door by its pseudonym, "u_" and the lowercase hex of the
 * BLAKE2b-128 of the id keyed with the key, before it is stored or looked up; reads by a
 * patron's id hash it the same way, and tl_store_get_user hands back the caller's id. Item ids
 * are kept as they are. What the store gives out by itself (training data, listings, counts)
 * names patrons by their pseudonyms, and so do the models trained on it.
 * The store remembers a check value of its key in its meta table (TL_META_PSEUDONYM_CHECK),
 * written with the first write that has the key, so that plain and hashed ids never mix: a
 * store that has a check value opens only with that key, and a store that holds patrons
 * without one (plain ids) takes no key. */
#define TL_PSEUDONYM_KEY_LEN 32
#define TL_PSEUDONYM_LEN 34 /* "u_" + 32 hex digits */
#define TL_PSEUDONYM_ENV "TAILOR_PSEUDONYM_KEY_FILE"
#define TL_META_PSEUDONYM_CHECK "pseudonym_check"

/* out (TL_PSEUDONYM_LEN + 1 bytes) = the pseudonym of the patron id[0..len) under key. */
TL_API void tl_pseudonym(const uint8_t *key, const char *id, size_t len, char *out);
/* Reads a key file: 64 hexadecimal digits (whitespace around them is ignored). Errors:
 * TL_ENOTFOUND (no such file), TL_EIO (unreadable), TL_EINVAL (not 64 hex digits); d names the
 * path. */
TL_API tl_err tl_pseudonym_key_read(const char *path, uint8_t *key, tl_diag *d);
/* Writes a fresh random key to a new file at path (mode 0600). TL_EEXIST when path exists (a
 * key is never overwritten: the pseudonyms made with it would be lost), TL_EIO. */
TL_API tl_err tl_pseudonym_key_new(const char *path, tl_diag *d);
/* Sets st's key (TL_PSEUDONYM_KEY_LEN bytes): TL_EINVAL (d says why) when the store was
 * pseudonymized with another key, or holds patrons with plain ids. tl_store_open_with does it
 * for opts.pseudonym_key, and refuses to open a pseudonymized store without it. */
TL_API tl_err tl_store_set_pseudonym_key(tl_store *st, const uint8_t *key, tl_diag *d);

/* Opens the store at target with o (NULL = the defaults). What is at a file path decides,
 * whatever the flags, and nothing but a Tailor store is ever written to:
 *  - nothing: TL_ENOTFOUND ("no Tailor store at PATH; import data first or pass --db /
 *    $TAILOR_DB") and no file is made, unless the open writes and has TL_STORE_CREATE: then a
 *    new store is created there;
 *  - an empty (0-byte) file: adopted as a new store by a write open with TL_STORE_CREATE,
 *    else TL_ENOTFOUND;
 *  - a Tailor store: opened. Tailor marks its stores (PRAGMA application_id 0x5441494c,
 *    "TAIL"); a store of an earlier Tailor, recognised by its schema, is read as it is and
 *    marked by its first write open, with the migrations;
 *  - another application's SQLite database ("PATH is an SQLite database but not a Tailor
 *    store; refusing to touch it") or a file that is not a database: TL_ECORRUPT;
 *    a directory, or a path that cannot be read: TL_EIO. Such files keep every byte, and no
 *    -wal, -shm or -journal file appears beside them.
 * A write open also fails with TL_EIO when the store cannot be written ("cannot write to PATH:
 * Permission denied", "Read-only file system"...) or its directory cannot take the write-ahead
 * log (PATH-wal). A read-only open uses SQLite's read-only mode; like any reader of a store in
 * WAL mode it may leave empty PATH-wal and PATH-shm files (a writer that closes last removes
 * them). On a read-only file system it reads without locks or such files.
 * A new store appears at its path whole (made under a temporary name beside it) and stays
 * "being created" until its first commit: read-only opens meanwhile fail with TL_ENOTFOUND
 * ("... the import creating it has not committed anything ..."), and a writer that closes it
 * with nothing committed, while no other connection has it open, removes it again with its
 * -wal, -shm and -journal files (an adopted empty file is emptied again). So a failed, dry or
 * killed first import leaves the path as it was, or as good as: an empty store that no command
 * reads and the next writer removes.
 * Writers wait up to the lock timeout for each other; then a write fails with TL_ESTORE and
 * "the store PATH is locked by another writer (another `tailor import`?); waited N s; try
 * again when it finishes or raise TAILOR_LOCK_TIMEOUT".
 * Other errors: TL_EVERSION (written by a newer Tailor, or an older one opened read-only: it
 * needs a migration), TL_EINVAL ($TAILOR_LOCK_TIMEOUT or o->lock_timeout out of range; a
 * pseudonym key the store refuses, or none for a pseudonymized store),
 * TL_EUNSUPPORTED (a backend that is not built in), TL_ESTORE (the engine failed), TL_ENOMEM;
 * d says why, naming the path. On success *out is the caller's, released with tl_store_free. */
TL_API tl_err tl_store_open_with(const char *target, const tl_store_opts *o, tl_store **out,
                                 tl_diag *d);
/* tl_store_open_with with the given flags and the lock timeout of $TAILOR_LOCK_TIMEOUT, else
 * TL_STORE_LOCK_TIMEOUT. */
TL_API tl_err tl_store_open(const char *target, int flags, tl_store **out, tl_diag *d);
/* 1 when target names a PostgreSQL store (postgres:// or postgresql://), not a file. */
TL_API int tl_store_is_postgres(const char *target);
/* Closes st (rolling back an open transaction); a store being created that got no commit goes
 * away, as tl_store_open_with says. NULL does nothing. */
TL_API void tl_store_free(tl_store *st);
/* "sqlite", ... */
TL_API const char *tl_store_backend(const tl_store *st);
/* The schema version of the open store (PRAGMA user_version for SQLite). */
TL_API int tl_store_schema_version(const tl_store *st);
/* The last engine error message ("" when none). */
TL_API const char *tl_store_errmsg(const tl_store *st);

/* ---- transactions ----------------------------------------------------------------------------
 * One level. Writes outside a transaction commit one by one (slow: use a transaction for bulk).
 * Inside one, ids are cached in memory, so repeated users and items cost no lookup. rollback
 * restores exactly the state at begin. begin takes the write lock (waiting as tl_store_open
 * says) and fails with TL_ESTORE when the file at the store's path is no longer the one that
 * was opened ("the store PATH was removed or replaced since it was opened; ..."). */
TL_API tl_err tl_store_begin(tl_store *st);
TL_API tl_err tl_store_commit(tl_store *st);
TL_API tl_err tl_store_rollback(tl_store *st);

/* ---- writes ----------------------------------------------------------------------------------
 * Upserts: writing the same record twice changes nothing the second time. For items and users,
 * absent (NULL / TL_ABSENT / -1) fields keep the stored value; an item's type is always set.
 * Events are keyed by (user, item, type, timestamp): the same key again updates value and
 * context. Searches are keyed by (user, query, timestamp); their clicks are replaced.
 * Events and searches that name unknown users or items create them (an item created this way
 * has type "other" and no metadata until the items are imported) unless flags has
 * TL_PUT_STRICT: then they fail with TL_ENOTFOUND and d names the field. Event types are
 * always created on first use. *what (may be NULL) tells what happened. Errors: TL_ESTORE
 * (d says why), TL_ENOMEM. */
typedef enum tl_put { TL_PUT_UNCHANGED, TL_PUT_ADDED, TL_PUT_UPDATED } tl_put;
enum { TL_PUT_STRICT = 1 };

TL_API tl_err tl_store_put_item(tl_store *st, const tl_item_rec *r, tl_put *what, tl_diag *d);
TL_API tl_err tl_store_put_user(tl_store *st, const tl_user_rec *r, tl_put *what, tl_diag *d);
TL_API tl_err tl_store_put_event(tl_store *st, const tl_event_rec *r, int flags, tl_put *what,
                                 tl_diag *d);
TL_API tl_err tl_store_put_search(tl_store *st, const tl_search_rec *r, int flags, tl_put *what,
                                  tl_diag *d);

/* ---- reading -------------------------------------------------------------------------------- */

typedef struct tl_store_counts {
    int64_t users, items, events, searches, event_types;
    int64_t pairs; /* distinct (user, item) pairs among the events */
} tl_store_counts;

TL_API tl_err tl_store_count(tl_store *st, tl_store_counts *out);

/* Called once per row; a non-TL_OK return stops the scan and is returned. */
typedef tl_err (*tl_store_row_fn)(void *ctx, const char *key, const char *label, int64_t count);
/* Event counts per type, largest first (key = type, label = NULL). */
TL_API tl_err tl_store_events_by_type(tl_store *st, tl_store_row_fn fn, void *ctx);
/* The limit items with the most events, most first, ties by id (key = item id, label = title
 * or NULL). */
TL_API tl_err tl_store_top_items(tl_store *st, int limit, tl_store_row_fn fn, void *ctx);
/* The limit patrons with the most events, most first, ties by id (key = patron id as the store
 * keeps it, a pseudonym in a pseudonymized store; label = NULL): patrons to show a demo with. */
TL_API tl_err tl_store_top_users(tl_store *st, int limit, tl_store_row_fn fn, void *ctx);

/* The limit items with the most events in the window seconds up to the newest event, most
 * first, ties by id (key = item id, label = NULL): what is borrowed now. */
TL_API tl_err tl_store_trending(tl_store *st, int64_t window, int limit, tl_store_row_fn fn,
                                void *ctx);

/* Whether anything was written to the store, by any connection or process, since the last
 * call on this handle (*changed = 1 on the first call): for caches of what was read from it. */
TL_API tl_err tl_store_changed(tl_store *st, int *changed);

/* Patrons' groups (a department, a home branch): an attribute of their records (letters,
 * digits, '_', '-'; TL_EINVAL otherwise). segment_top: the limit items held by the most patrons
 * whose attribute attr is value (as text), most first (key = item id, label NULL, count = those
 * patrons), leaving out any item fewer than min of them hold (a count of 1 or 2 would point at
 * people). A scan of the group's events: cache it. user_attr: the patron's value of attr as
 * text (*out malloc'd), or *out NULL when the patron or the attribute is not there. */
TL_API tl_err tl_store_segment_top(tl_store *st, const char *attr, const char *value, int min,
                                   int limit, tl_store_row_fn fn, void *ctx);
TL_API tl_err tl_store_user_attr(tl_store *st, const char *user, const char *attr, char **out);

/* The events newer than since (a model's watermark), counted per item and type (key = item
 * id, label = type, count): what was borrowed since a model was trained. A scan of the events
 * since: once per model, not per request. */
TL_API tl_err tl_store_item_counts_since(tl_store *st, int64_t since, tl_store_row_fn fn,
                                         void *ctx);

/* Events newer than a model's watermark (tl_model_facts.trained_through): their number, and
 * the first limit of them, oldest first (key = user id, label = item id, count = the event's
 * time). fn may be NULL to count only. A scan of the events: for monitoring, not per request
 * (a patron's own events reach the model through tl_store_user_history). */
TL_API tl_err tl_store_events_since(tl_store *st, int64_t since, int limit, tl_store_row_fn fn,
                                    void *ctx, int64_t *count);

/* Store-wide settings (key/value text). get: *out is malloc'd (caller frees), or NULL when the
 * key is absent. */
TL_API tl_err tl_store_get_meta(tl_store *st, const char *key, char **out);
TL_API tl_err tl_store_set_meta(tl_store *st, const char *key, const char *value);

#define TL_META_EVENT_WEIGHTS "event_weights" /* overrides saved by `import --weights` */
/* How many times an item was deleted from the catalogue (absent: never); moved by
 * tl_store_delete_item in its transaction, so that a server notices withdrawn items. */
#define TL_META_CATALOGUE "catalogue_version"
/* How many patrons were erased (tl_store_delete_user), so that a server on the store learns of
 * an erasure made by another process and trains its models again. */
#define TL_META_ERASURES "erasures"
/* The last model swapped in by a training of any process: "<real path>\t<stamp>" (the
 * service's swap_notice.c: the other processes serving that file load it). */
#define TL_META_MODEL_SWAP "model_swap"
/* When the last patron was erased (Unix seconds): a model file written before that time may
 * still have learnt from them. */
#define TL_META_ERASED_AT "erased_at"
/* The counter key of the meta table (0 when absent). */
TL_API tl_err tl_store_counter(tl_store *st, const char *key, long long *out);
/* Every item of the catalogue, in the store's order (key = item id, label = title or NULL,
 * count 0). */
TL_API tl_err tl_store_items_each(tl_store *st, tl_store_row_fn fn, void *ctx);

/* w = the defaults with the store's saved overrides applied. */
TL_API tl_err tl_store_event_weights(tl_store *st, tl_event_weights *w, tl_diag *d);

/* Builds the training data in one streaming pass over the events: out->users and out->items
 * interned in store id order (every user and item, also those without events), out->ui (users x
 * items) and out->iu (its transpose) with per-event weights from w (NULL = the store's weights,
 * see tl_store_event_weights), summed per user-item pair (or the maximum, merge=max), keeping the
 * latest timestamp; events whose weight is 0 are left out, and so are all the events of users
 * who turned personalization off. out->cat gets each item's title, authors (creators), subjects,
 * year, language and date added. out->attrs gets the users' attributes: the top-level scalar
 * values of each user's JSON object (strings as they are, numbers as written, true / false);
 * nulls, arrays and objects are left out. out must be freshly tl_data_init'ed; on error it is
 * left for the caller to release. Errors: TL_ESTORE, TL_ENOMEM, TL_ETOOBIG (over 2^31 users or
 * items), TL_ECORRUPT (a user's attributes are not a JSON object). */
TL_API tl_err tl_store_load_data(tl_store *st, const tl_event_weights *w, tl_data *out, tl_diag *d);

/* One patron's history as training weighs it, read now (live recommendations): fn once per item
 * the patron has events of, in the store's item order, with the summed (merge=max: largest)
 * weight under w of its events and their latest timestamp; items whose weight is 0 are left
 * out. An item whose latest event is a TL_EVENT_DISMISS ("Not interested", after every event
 * that weighs) is reported with weight 0: not evidence, and not to be suggested again. *found = 0
 * when the store has no such patron (fn is not called); else *personalize = the patron's consent to
 * personalization (1 or 0). A non-TL_OK return of fn stops and is returned. Errors: TL_ESTORE,
 * TL_ENOMEM, TL_EUNSUPPORTED (an engine without it); d says why. */
#define TL_EVENT_DISMISS "skip"
typedef tl_err (*tl_store_history_fn)(void *ctx, const char *item, size_t len, float weight,
                                      int64_t ts);
/* The context of a request, for tl_store_user_history: events after until are left out (0:
 * none is), and each event made on the request's device, through its channel or at its branch
 * (NULL: not given) weighs boost times more for each of them that matches. */
typedef struct tl_history_context {
    int64_t until;
    const char *device, *channel, *branch;
    float boost;
} tl_history_context;
/* cx NULL: no context. */
TL_API tl_err tl_store_user_history(tl_store *st, const char *user, size_t len,
                                    const tl_event_weights *w, const tl_history_context *cx,
                                    tl_store_history_fn fn, void *ctx, int *found, int *personalize,
                                    tl_diag *d);

/* ---- API keys (schema version 2) -----------------------------------------------------------
 * Keys that let callers into the server. The store holds each key's public id and a hash of
 * the whole key, never the key. A store of schema version 1 (before keys) is migrated by its
 * next write open; until then the functions below fail with TL_EVERSION (d says how to upgrade).
 * Errors otherwise: TL_ESTORE, TL_ENOMEM; d says why. */
#define TL_KEY_ID_MAX 32    /* the longest key id, bytes */
#define TL_TENANT_ID_MAX 32 /* the longest tenant id, bytes (docs/SCALE.md, tenancy) */
#define TL_KEY_HASH_MAX 64  /* the longest stored hash, bytes */
#define TL_KEY_USER_MAX 512 /* the longest patron id of a patron key, bytes */

typedef struct tl_store_key {
    const char *id;     /* the key's public id */
    const char *role;   /* "admin", "app" or "patron" */
    const char *user;   /* the patron's external id (role patron), else NULL */
    const char *label;  /* for people, or NULL */
    int64_t created;    /* Unix seconds */
    int64_t revoked;    /* Unix seconds, 0 = in force */
    const char *tenant; /* the library the key acts for (schema version 11), NULL: the
                           consortium's own key */
} tl_store_key;

/* One key, as the authentication needs it. */
typedef struct tl_store_key_auth {
    uint8_t hash[TL_KEY_HASH_MAX];
    size_t hash_len;
    char role[16];
    char user[TL_KEY_USER_MAX + 1];    /* "" when none */
    int64_t revoked;                   /* 0 = in force */
    char tenant[TL_TENANT_ID_MAX + 1]; /* "" for a consortium key */
} tl_store_key_auth;

/* Adds the key k (revoked ignored) with its hash (1..TL_KEY_HASH_MAX bytes), in a commit of its
 * own (or the caller's transaction). TL_EINVAL: a bad role, id or user; TL_ESTORE: an id that
 * exists (d says so). */
TL_API tl_err tl_store_put_key(tl_store *st, const tl_store_key *k, const uint8_t *hash,
                               size_t hash_len, tl_diag *d);
/* fn once per key, oldest first; never the hash. Strings are valid during the call. A non-TL_OK
 * return of fn stops the scan and is returned. */
typedef tl_err (*tl_store_key_fn)(void *ctx, const tl_store_key *k);
TL_API tl_err tl_store_list_keys(tl_store *st, tl_store_key_fn fn, void *ctx, tl_diag *d);
/* Marks the key id revoked at time when (a key revoked before keeps its first time).
 * TL_ENOTFOUND: no such key. */
TL_API tl_err tl_store_revoke_key(tl_store *st, const char *id, int64_t when, tl_diag *d);
/* *found = 0 when there is no key id, else *out is filled. */
TL_API tl_err tl_store_get_key(tl_store *st, const char *id, tl_store_key_auth *out, int *found,
                               tl_diag *d);

/* ---- one record: the catalogue and patrons' records over the API ----------------------------
 * get: fn once with the stored record (strings valid during the call; absent fields NULL /
 * TL_ABSENT; a user's personalize is 1 or 0) when it exists, *found = 1; else *found = 0.
 * replace: writes r whole, absent fields cleared (a user's personalize -1 = 1), unlike
 * tl_store_put_item's upsert; *what as there.
 * delete: removes the record and, in the same transaction (the caller's or its own), its
 * events; an item also leaves the clicks of searches, a user its searches. TL_ENOTFOUND (d
 * names the field) when there is none; *events (may be NULL) = the events removed. Deleting an
 * item reads every event (there is no index by item).
 * Errors otherwise: TL_ESTORE, TL_ENOMEM, or fn's. */
typedef tl_err (*tl_store_item_fn)(void *ctx, const tl_item_rec *r);
typedef tl_err (*tl_store_user_fn)(void *ctx, const tl_user_rec *r);
TL_API tl_err tl_store_get_item(tl_store *st, const char *id, size_t len, tl_store_item_fn fn,
                                void *ctx, int *found, tl_diag *d);
TL_API tl_err tl_store_get_user(tl_store *st, const char *id, size_t len, tl_store_user_fn fn,
                                void *ctx, int *found, tl_diag *d);
TL_API tl_err tl_store_replace_item(tl_store *st, const tl_item_rec *r, tl_put *what, tl_diag *d);
TL_API tl_err tl_store_replace_user(tl_store *st, const tl_user_rec *r, tl_put *what, tl_diag *d);
TL_API tl_err tl_store_delete_item(tl_store *st, const char *id, size_t len, long long *events,
                                   tl_diag *d);
TL_API tl_err tl_store_delete_user(tl_store *st, const char *id, size_t len, long long *events,
                                   tl_diag *d);

/* ---- idempotency keys (schema version 3) -----------------------------------------------------
 * The first answer to a write made with a client's Idempotency-Key, kept so that a retry gets
 * it again instead of writing twice. scope keeps callers apart (an API key id, or ""). put is
 * meant for the write's own transaction (a crash then keeps both or neither); it replaces an
 * expired row of the same key. A store before version 3 gives TL_EVERSION. Errors otherwise:
 * TL_ESTORE, TL_ENOMEM. */
#define TL_IDEM_HASH_MAX 64 /* bytes of the request's hash */

typedef struct tl_store_idem {
    uint8_t hash[TL_IDEM_HASH_MAX]; /* of the request the key came with */
    size_t hash_len;
    int status; /* the HTTP status of the first answer */
    char *body; /* its body: get mallocs it (the caller frees), put reads it */
} tl_store_idem;

/* *found = 1 and *out filled when scope/key has a row created at or after since. */
TL_API tl_err tl_store_idem_get(tl_store *st, const char *scope, const char *key, int64_t since,
                                tl_store_idem *out, int *found, tl_diag *d);
TL_API tl_err tl_store_idem_put(tl_store *st, const char *scope, const char *key,
                                const tl_store_idem *rec, int64_t created, tl_diag *d);
/* Removes the rows created before before (an index range); *removed may be NULL. */
TL_API tl_err tl_store_idem_prune(tl_store *st, int64_t before, long long *removed, tl_diag *d);

/* ---- import ----------------------------------------------------------------------------------
 * A whole file in ONE transaction: it commits only when the file imported cleanly (or with
 * skip_bad, when every bad record was skipped); any error rolls back, so the store keeps exactly
 * what it had before. The transaction (and with it the write lock) begins only when the input
 * has been opened and has yielded its first record, so an import waiting on a pipe or a
 * terminal does not hold up other writers. */
typedef struct tl_import_opts {
    tl_ingest_opts in;   /* file, kind, format, skip_bad, progress... (tailor/ingest.h) */
    int strict;          /* unknown users/items are errors instead of being created */
    int dry_run;         /* validate everything, write nothing (rolls back at the end) */
    const char *weights; /* event weight overrides to save with the data (see ingest.h), or NULL */
} tl_import_opts;

typedef struct tl_import_report {
    tl_ingest_report in; /* records read, skipped (by reason) */
    long long added, updated, unchanged;
    long long new_users, new_items; /* created implicitly by events or searches */
    double seconds;
    int committed; /* 1 when the data was written (0 for a dry run or an error) */
} tl_import_report;

TL_API void tl_import_opts_init(tl_import_opts *o);
/* Imports o->in.path into st. Returns TL_OK, or the error of tl_ingest_file (TL_EPARSE /
 * TL_ENOTFOUND with d naming file, line and field; TL_EIO...), TL_EINVAL (bad weights) or
 * TL_ESTORE; in every error case nothing was written. rep may be NULL. st must not be inside a
 * transaction. */
TL_API tl_err tl_store_import(tl_store *st, const tl_import_opts *o, tl_import_report *rep,
                              tl_diag *d);

/* ---- trust (schema version 4) ----------------------------------------------------------------
 * The audit log: appended entries, each with the hash of the one before (the service computes
 * the hashes: BLAKE2b over the previous hash and the entry), so that an edit or a removal
 * breaks the chain. Consent: a patron's personalization and retention window, every change
 * kept with who made it. A store from before version 4 answers TL_EVERSION until a write open
 * migrates it. Errors otherwise: TL_ESTORE, TL_ENOMEM; d says why. */
#define TL_AUDIT_HASH 32

typedef struct tl_store_audit {
    int64_t seq; /* 1, 2, ... (set by the store on append) */
    int64_t ts;  /* Unix seconds */
    const char *actor, *action;
    const char *target, *detail; /* NULL: none (target: also after an erasure blanked it) */
    int has_target;              /* target_hash is set (the entry had a target) */
    uint8_t target_hash[TL_AUDIT_HASH], prev[TL_AUDIT_HASH], hash[TL_AUDIT_HASH];
} tl_store_audit;

typedef tl_err (*tl_store_audit_fn)(void *ctx, const tl_store_audit *e);
/* Appends e (in the caller's transaction, else one of its own). */
TL_API tl_err tl_store_audit_append(tl_store *st, const tl_store_audit *e, tl_diag *d);
/* The last entry's seq and hash (*found 0, seq 0 when the log is empty). */
TL_API tl_err tl_store_audit_last(tl_store *st, int64_t *seq, uint8_t *hash, int *found,
                                  tl_diag *d);
/* Every entry, oldest first. */
TL_API tl_err tl_store_audit_each(tl_store *st, tl_store_audit_fn fn, void *ctx, tl_diag *d);
/* Blanks target in every entry that names it (its hash stays: the chain holds); *changed =
 * how many. For an erasure, in its transaction. */
TL_API tl_err tl_store_audit_forget(tl_store *st, const char *target, long long *changed,
                                    tl_diag *d);

/* Sets user's consent: personalize 1/0 (-1: as it is) and retention_days (the events kept,
 * in days: 0 = none beyond aggregates; -1 = no window; TL_ABSENT: as it is), and keeps the
 * change in the consent history with actor. TL_ENOTFOUND (d's field "user") when the store
 * has no such patron. */
TL_API tl_err tl_store_consent_set(tl_store *st, const char *user, int personalize,
                                   int64_t retention_days, int64_t ts, const char *actor,
                                   tl_diag *d);

/* Whether the store has the patron, and their consent to personalization (1 when unknown). */
TL_API tl_err tl_store_user_consent(tl_store *st, const char *user, size_t len, int *found,
                                    int *personalize, tl_diag *d);

/* Everything the store holds about one patron beyond the users row (tl_store_get_user):
 * strings valid during the call; any fn may be NULL. */
typedef struct tl_store_dump_fns {
    tl_err (*event)(void *ctx, const char *item, const char *type, int has_value, double value,
                    int64_t ts, const char *device, const char *channel, const char *branch,
                    const char *session);
    /* clicked: the items clicked, in rank order, joined by '\t' ("" when none) */
    tl_err (*search)(void *ctx, const char *query, int64_t ts, const char *clicked);
    tl_err (*consent)(void *ctx, int64_t ts, int personalize, int64_t retention_days,
                      const char *actor);
    /* what was shown to the patron (schema version 9): items "ROW:POSITION:ITEM" joined by
     * '\t' */
    tl_err (*impression)(void *ctx, int64_t id, int64_t ts, int surface, const char *items);
} tl_store_dump_fns;
/* *retention_days: the patron's window (-1: none). TL_ENOTFOUND (field "user") when absent. */
TL_API tl_err tl_store_user_dump(tl_store *st, const char *user, const tl_store_dump_fns *f,
                                 void *ctx, int64_t *retention_days, tl_diag *d);

/* Deletes the events past their patron's retention window at now, and every event of a patron
 * who opted out of personalization (and, from schema version 9, their impressions past the
 * window); *removed = how many events. One transaction. */
TL_API tl_err tl_store_retention_run(tl_store *st, int64_t now, long long *removed, tl_diag *d);

/* After deletions that must not linger (an erasure): moves the write-ahead log into the file
 * and empties it, so that deleted rows (overwritten in the file: writers run with
 * secure_delete) survive in no page of either. *complete = 0 when a reader held old pages and
 * the log could not be emptied yet (call again later). */
TL_API tl_err tl_store_scrub(tl_store *st, int *complete, tl_diag *d);

/* ---- collection analytics (schema version 5) -------------------------------------------------
 * Aggregates for librarians, each one SQL pass over the events, items, holdings and searches
 * (src/service/analytics.c makes the report and suppresses small groups). A subject is one
 * element of an item's subjects list. An item's copies: its holdings rows (at w->branch when
 * given: 0 when none there), else its copies field, else 1. With w->branch, events count only
 * when made at that branch, and items (idle, new) only when a copy is held there. fn gets each
 * row: key, label and extra as the part says (NULL otherwise), v[] its numbers in the order
 * listed (TL_ABSENT for an unknown date). */
typedef enum tl_analytics_part {
    TL_AN_PERIOD,        /* one row: v = newest event's time (0: none), events */
    TL_AN_DEMAND,        /* per subject (key): v = items, copies, loans, holds, patrons (loan or
                            hold in [since, until]) */
    TL_AN_HOLDS,         /* per item (key, label = title) with open holds: v = patrons whose
                            hold in [since, until] no loan of theirs followed by until, copies */
    TL_AN_IDLE_TOTAL,    /* one row: v = items in the collection since `since` (added then or
                            before, or unknown), of them idle (no loan in [since, until]) */
    TL_AN_IDLE_SUBJECTS, /* per subject (key): v = items, idle (as TL_AN_IDLE_TOTAL) */
    TL_AN_IDLE_BRANCHES, /* per branch holding copies (key): v = items, idle */
    TL_AN_IDLE_ITEMS,    /* the first w->limit idle items, oldest addition first (key, label =
                            title, extra = subjects): v = added, copies */
    TL_AN_SEARCHES,      /* per query, lowercased and trimmed (key), of the searches in [since,
                            until] whose result total is at most w->few: v = searches, patrons,
                            searches with no result, the largest total */
    TL_AN_NEW_TOTAL,     /* one row: of the items added in [new_since, until]: v = items, items
                            loaned since they were added, loans, patrons who borrowed them */
    TL_AN_NEW,           /* the same per subject (key) */
} tl_analytics_part;

typedef struct tl_analytics_window {
    int64_t since, until; /* the period (Unix seconds, both included) */
    const char *branch;   /* NULL: every branch */
    int64_t new_since;    /* TL_AN_NEW*: items added from then on */
    int64_t few;          /* TL_AN_SEARCHES */
    int limit;            /* TL_AN_IDLE_ITEMS */
} tl_analytics_window;

typedef struct tl_analytics_row {
    const char *key, *label, *extra; /* valid during the call */
    int64_t v[6];
} tl_analytics_row;

typedef tl_err (*tl_analytics_fn)(void *ctx, const tl_analytics_row *r);
/* Errors: TL_EVERSION (a store before version 5, opened read-only), TL_ESTORE, TL_ENOMEM, or
 * fn's; d says why. */
TL_API tl_err tl_store_analytics(tl_store *st, tl_analytics_part part, const tl_analytics_window *w,
                                 tl_analytics_fn fn, void *ctx, tl_diag *d);
/* ---- the catalogue: MARC records, details and copies (schema version 5) ----------------------
 * tl_store_import_marc reads a MARC file (tl_marc_read, tailor/ingest.h) and writes each record
 * as an item (replaced: the record is the whole truth), its details (item_details) and its
 * copies (holdings: those of the record, the others of the item removed), all in one
 * transaction: on any error, or a bad record without skip_bad, nothing is written. */
typedef struct tl_marc_import_report {
    tl_marc_report in; /* records read, accepted, skipped (with reasons) */
    long long added, updated, unchanged;
    long long holdings; /* copies written */
    double seconds;
    int committed;
} tl_marc_import_report;

TL_API tl_err tl_store_import_marc(tl_store *st, const tl_marc_opts *o, tl_marc_import_report *rep,
                                   tl_diag *d);

/* An item's details and copies, by its id: fn once (details, *found = 1) or per copy (by copy
 * id). TL_OK with *found = 0 / no call when there are none; TL_EVERSION before schema 5. */
typedef tl_err (*tl_store_details_fn)(void *ctx, const tl_item_details *d);
typedef tl_err (*tl_store_holding_fn)(void *ctx, const tl_holding_rec *h);
TL_API tl_err tl_store_item_details(tl_store *st, const char *id, size_t len,
                                    tl_store_details_fn fn, void *ctx, int *found, tl_diag *d);
TL_API tl_err tl_store_item_holdings(tl_store *st, const char *id, size_t len,
                                     tl_store_holding_fn fn, void *ctx, tl_diag *d);
/* The items of every work that has more than one (editions, formats): fn(ctx, item id, work
 * id, 0) grouped by work, in id order within one. */
TL_API tl_err tl_store_works_each(tl_store *st, tl_store_row_fn fn, void *ctx, tl_diag *d);
/* ---- holdings and library events (schema version 5) ------------------------------------------
 * The copies a library holds: each copy's number in the ILS (Koha's itemnumber, MARC 952$9)
 * names its catalogue record, so that circulation exported by copy finds its record. A store
 * before version 5 answers TL_EVERSION until a write open migrates it. Errors otherwise:
 * TL_ESTORE, TL_ENOMEM; d says why. */
/* tl_holding_rec is tailor/ingest.h's: here its item names the record, and available -1
 * keeps what the copy had (a new one: 1). */

/* Upserts one copy (in the caller's transaction, else one of its own); *what (may be NULL) as
 * tl_store_put_item. TL_EINVAL (d's field names it) for an empty copy or item. */
TL_API tl_err tl_store_put_holding(tl_store *st, const tl_holding_rec *h, tl_put *what, tl_diag *d);
/* The record of copy[0..len): *item malloc'd (the caller frees), or TL_ENOTFOUND (d's field
 * "copy") when the holdings have no such copy. */
TL_API tl_err tl_store_item_for_copy(tl_store *st, const char *copy, size_t len, char **item,
                                     tl_diag *d);
/* The copies per record and branch: fn once per (item, branch) with branch NULL for copies
 * without one, count = the copies, on_shelf = those available; in the store's item order. */
typedef tl_err (*tl_store_shelf_fn)(void *ctx, const char *item, const char *branch, int64_t count,
                                    int64_t on_shelf);
TL_API tl_err tl_store_shelves_each(tl_store *st, tl_store_shelf_fn fn, void *ctx, tl_diag *d);
/* Library events (items of type "event"): fn once each with its start and end (Unix seconds,
 * TL_ABSENT when unknown), from its item_details, else from the "starts" / "ends" fields of
 * its extra (an items file's columns of those names: ISO 8601 or Unix seconds). */
typedef tl_err (*tl_store_schedule_fn)(void *ctx, const char *item, int64_t starts, int64_t ends);
TL_API tl_err tl_store_schedules_each(tl_store *st, tl_store_schedule_fn fn, void *ctx, tl_diag *d);
/* Seasonality: the loans (and renewals) with a time, per subject of their items and week of
 * the year (0..53, weeks beginning on Monday, as strftime's %W; tl_civil_week): fn once per
 * subject and week with loans. One pass over the events, aggregated in memory (subjects x 54
 * counts): cache it. */
typedef tl_err (*tl_store_week_fn)(void *ctx, const char *subject, int week, int64_t loans);
TL_API tl_err tl_store_loan_weeks(tl_store *st, tl_store_week_fn fn, void *ctx, tl_diag *d);
/* ---- catalogue search (schema version 8) -----------------------------------------------------
 * A full-text index of the catalogue (title, creators, subjects, series, contents, summary),
 * kept in step with every write of items and their details, stemmed for the catalogue's
 * languages, ranked by BM25. A store before version 8 answers TL_EVERSION until a write open
 * migrates it. Errors otherwise: TL_ESTORE, TL_ENOMEM; d says why. */
#define TL_SEARCH_MAX_LANGS 8

typedef struct tl_store_search_q {
    const char *match;          /* an FTS5 MATCH expression, made by the caller from a patron's
                                   text with every term quoted (never the text itself) */
    const char *const *filters; /* "key=value": type=, format=, language=, subject=, year=A[-B],
                                   branch= (a copy held there), available (a copy on the
                                   shelf); the same key again means either, keys all hold */
    int n_filters;
    /* A library's branches in a consortium (n_held_at > 0): only the records with a copy at one
     * of them, or with no copy anywhere (ebooks, events); 0: the whole catalogue */
    const char *const *held_at;
    int n_held_at;
    int limit;  /* the candidates handed to hit, best first (1..) */
    int facets; /* 1: count the facets of the (filtered) match set: of all of it up to
                   TL_SEARCH_FACET_SCAN matches, else of the first TL_SEARCH_FACET_SCAN in the
                   catalogue's order (a word in a third of a million records would cost a
                   second; *total stays exact) */
    struct tl_store_search_info *info; /* NULL, or told how the search was answered */
} tl_store_search_q;
#define TL_SEARCH_FACET_SCAN 10000
/* The heads of the index: for each word in at least TL_SEARCH_HEADS_DF records, its best
 * TL_SEARCH_HEADS_N records by the ranking and how many records have it, kept beside the index
 * (built by a bulk load, a rebuild and tl_store_search_heads). A search for one such word alone
 * is answered from them with the same order and scores as ranking the whole match set, and its
 * facets count those best records; the total is exact without filters, estimated with them
 * (info), and filters that leave fewer than q->limit of the heads rank the whole match set.
 * While the index has changed since they were built, every search ranks the whole match set. */
#define TL_SEARCH_HEADS_DF 2000
#define TL_SEARCH_HEADS_N 1000
typedef struct tl_store_search_info {
    int from_heads;         /* 1: answered from the heads */
    int total_estimated;    /* 1: *total estimated: filters on a word answered from its heads
                               (its count in the proportion of its heads that pass them) */
    int64_t facets_scanned; /* 0: the facets counted the whole match set; else how many matches
                               they counted */
    int facets_best;        /* 1: those were the best matches by text, 0: the first in the
                               catalogue's order */
} tl_store_search_info;
/* The meta key of the catalogue's version as search sees it: a number that every write of
 * items, their details or holdings (and a rebuild) moves, in the write's transaction; answers
 * cached for one version are valid while it stands. */
#define TL_META_SEARCH_VERSION "search_version"
/* One candidate: the item's id, title (or NULL) and its text score (higher is better). */
typedef tl_err (*tl_store_hit_fn)(void *ctx, const char *item, const char *title, double score);
/* One facet value and how many matching items have it: facets type, format, language, year
 * (decades, "1990-1999"), subject, branch, availability ("available", "unavailable"), each
 * value most first, at most TL_SEARCH_FACET_VALUES of one facet. */
#define TL_SEARCH_FACET_VALUES 20
typedef tl_err (*tl_store_facet_fn)(void *ctx, const char *facet, const char *value, int64_t count);
/* Runs q: hit for the best q->limit, then (q->facets) facet for each value; *total = the
 * items that match. TL_EINVAL (d's field "filter") for a bad filter; TL_EINVAL (field "q")
 * when the index refuses the expression. */
TL_API tl_err tl_store_search(tl_store *st, const tl_store_search_q *q, tl_store_hit_fn hit,
                              tl_store_facet_fn facet, void *ctx, int64_t *total, tl_diag *d);
/* Keeps a search made (tl_store_put_search's record, anonymous when user is NULL) with how
 * many items it found (search_totals), in one transaction (the caller's, else its own). */
TL_API tl_err tl_store_search_log(tl_store *st, const char *user, const char *query, int64_t ts,
                                  int64_t total, tl_diag *d);
/* A bulk load of the catalogue: begin stops the index from following each write (inside the
 * caller's transaction); end builds it again whole from the tables, in bulk, and makes it
 * follow writes again (in the same transaction, before its commit). A rollback undoes both. */
TL_API tl_err tl_store_search_bulk_begin(tl_store *st, tl_diag *d);
TL_API tl_err tl_store_search_bulk_end(tl_store *st, tl_diag *d);
/* Builds the index again whole (a transaction of its own, or the caller's), for languages
 * (comma-separated Snowball names, "none" for no stemming; NULL: the store's, else
 * "english"), which become the store's. TL_EINVAL (field "languages") for an unknown one. */
TL_API tl_err tl_store_search_rebuild(tl_store *st, const char *languages, tl_diag *d);
/* Builds the index's heads again (TL_SEARCH_HEADS_DF above) from the index as it stands, in the
 * caller's transaction or one of its own: after writes that went through the index's triggers.
 * A store whose index stems more than one language keeps none. */
TL_API tl_err tl_store_search_heads(tl_store *st, tl_diag *d);
/* ---- new-arrival alerts (schema version 5) ---------------------------------------------------
 * A patron's subscription: an e-mail address (personal data: exported and erased with the
 * patron) and whether they want alerts. A store before version 5 gives TL_EVERSION.
 * set: alerts 1/0 (-1: as it is; a new subscription starts with 0), email NULL: as it is, "":
 * none; since = ts when the row is made. TL_ENOTFOUND (field "user") when there is no patron.
 * get: fn once when the patron has a subscription (*found 1). */
typedef tl_err (*tl_store_sub_fn)(void *ctx, const char *user, const char *email, int alerts,
                                  int64_t since, int personalize);
TL_API tl_err tl_store_subscription_set(tl_store *st, const char *user, int alerts,
                                        const char *email, int64_t ts, tl_diag *d);
TL_API tl_err tl_store_subscription_get(tl_store *st, const char *user, tl_store_sub_fn fn,
                                        void *ctx, int *found, tl_diag *d);
/* Turns alerts off for the patron whose id is kept as stored (a pseudonym with a key: the id an
 * unsubscribe link carries, never hashed again); *changed = 0 when there was nothing to turn
 * off. */
TL_API tl_err tl_store_unsubscribe_stored(tl_store *st, const char *stored, int *changed,
                                          tl_diag *d);
/* Every subscription with alerts on and an address, by the patron's id as stored, in id order:
 * fn(ctx, user as stored, email, 1, since, personalize). */
TL_API tl_err tl_store_subscriptions_each(tl_store *st, tl_store_sub_fn fn, void *ctx, tl_diag *d);

/* What item_details says about the items added at or after added_from, and the library events
 * (type event) that start in [starts_from, starts_to): fn once per item that has details, in id
 * order (NULL fields: unknown; starts TL_ABSENT when none). */
typedef struct tl_store_detail {
    const char *item, *type, *title, *cover, *place;
    int64_t added, starts, ends;
} tl_store_detail;
typedef tl_err (*tl_store_detail_fn)(void *ctx, const tl_store_detail *r);
TL_API tl_err tl_store_digest_details(tl_store *st, int64_t added_from, int64_t starts_from,
                                      int64_t starts_to, tl_store_detail_fn fn, void *ctx,
                                      tl_diag *d);
/* ---- reading lists, reviews and learning paths (schema version 5) ----------------------------
 * Patrons' lists of items (public or private) and reviews with ratings; learning paths (ordered
 * steps, steps sharing a position are alternatives, each with an optional level) and patrons'
 * feedback on a path's steps. Patron ids pass the door as everywhere (a list's owner, a
 * review's author and a feedback's patron are pseudonymized with a key; what the store hands
 * out names them as it keeps them). A patron named by a write is created when unknown (as by
 * an event); an item must exist: TL_ENOTFOUND with d's field "item". Writes run in the
 * caller's transaction, else one of their own. A store before version 5 answers TL_EVERSION
 * until a write open migrates it. Errors otherwise: TL_ESTORE, TL_ENOMEM; d says why. Strings
 * handed to callbacks are valid during the call. */
typedef struct tl_store_readlist {
    const char *id;    /* the list's id (any id string) */
    const char *user;  /* its owner as the store keeps them (NULL: the library's own list) */
    const char *title; /* never NULL */
    const char *description;
    int public; /* 1: anyone may read it; 0: its owner (and an admin) only */
    int64_t created, updated, n_items;
} tl_store_readlist;

typedef struct tl_store_readlist_item {
    const char *item, *title, *note; /* title: the catalogue's, or NULL */
    int64_t pos, added;
} tl_store_readlist_item;

typedef tl_err (*tl_store_readlist_fn)(void *ctx, const tl_store_readlist *l);
typedef tl_err (*tl_store_readlist_item_fn)(void *ctx, const tl_store_readlist_item *e);

/* Creates list l->id owned by l->user (created: *what TL_PUT_ADDED), or updates its title,
 * description and public flag (the owner stays: l->user is then ignored). now: Unix seconds. */
TL_API tl_err tl_store_list_put(tl_store *st, const tl_store_readlist *l, int64_t now, tl_put *what,
                                tl_diag *d);
/* fn once with the list and ifn (may be NULL) once per item in position order; *found = 0 and
 * no call when there is no list id. */
TL_API tl_err tl_store_list_get(tl_store *st, const char *id, tl_store_readlist_fn fn,
                                tl_store_readlist_item_fn ifn, void *ctx, int *found, tl_diag *d);
/* Deletes the list with its items. TL_ENOTFOUND (field "list") when there is none. */
TL_API tl_err tl_store_list_delete(tl_store *st, const char *id, tl_diag *d);
/* Adds item at the end of list (TL_PUT_ADDED), or updates its note (an item already there keeps
 * its place). An added item is also an event of the list's owner (type TL_LIST_EVENT at now),
 * unless they opted out of personalization, so that training and live answers count it.
 * TL_ENOTFOUND: no such list (field "list") or item (field "item"). */
#define TL_LIST_EVENT "list_add"
TL_API tl_err tl_store_list_add(tl_store *st, const char *list, const char *item, const char *note,
                                int64_t now, tl_put *what, tl_diag *d);
/* TL_ENOTFOUND when the list or the item on it is not there. */
TL_API tl_err tl_store_list_remove(tl_store *st, const char *list, const char *item, tl_diag *d);
/* The lists of patron user (user non-NULL), else the lists holding item; only public ones when
 * public_only. Newest first. */
TL_API tl_err tl_store_lists_each(tl_store *st, const char *user, const char *item, int public_only,
                                  tl_store_readlist_fn fn, void *ctx, tl_diag *d);
/* The items that share public lists with item, by how many lists they share with it, most
 * first, ties by id (key = item id, label = title or NULL, count = shared lists); at most
 * limit. */
TL_API tl_err tl_store_list_neighbours(tl_store *st, const char *item, int limit,
                                       tl_store_row_fn fn, void *ctx, tl_diag *d);

typedef struct tl_store_review {
    const char *user, *item;
    int has_rating;
    double rating;
    const char *body; /* NULL: none */
    int public;
    int64_t ts;
} tl_store_review;
typedef tl_err (*tl_store_review_fn)(void *ctx, const tl_store_review *r);
/* Writes the review of r->item by r->user (one per patron and item: a second replaces it). */
TL_API tl_err tl_store_review_put(tl_store *st, const tl_store_review *r, tl_put *what, tl_diag *d);
/* TL_ENOTFOUND (field "review") when the patron has no review of the item. */
TL_API tl_err tl_store_review_delete(tl_store *st, const char *user, const char *item, tl_diag *d);
/* The reviews by user (non-NULL), else of item, newest first; public ones only when
 * public_only. */
TL_API tl_err tl_store_reviews_each(tl_store *st, const char *user, const char *item,
                                    int public_only, tl_store_review_fn fn, void *ctx, tl_diag *d);

typedef struct tl_store_path {
    const char *id, *title, *topic; /* topic may be NULL */
    const char *origin;             /* "librarian" or "proposed" */
    int64_t created;
    int64_t n_steps;
} tl_store_path;
typedef struct tl_store_step {
    const char *item, *title; /* title: the catalogue's (read only), or NULL */
    int64_t pos;              /* 1, 2, ...: steps of one position are alternatives */
    int64_t level;            /* TL_ABSENT: none */
} tl_store_step;
typedef tl_err (*tl_store_path_fn)(void *ctx, const tl_store_path *p);
typedef tl_err (*tl_store_step_fn)(void *ctx, const tl_store_step *s);
/* Writes path p whole with steps[0..n) (a path of that id is replaced, its feedback on steps it
 * still has kept). TL_ENOTFOUND (field "item") for a step's unknown item; TL_EINVAL for an
 * origin other than librarian or proposed. */
TL_API tl_err tl_store_path_put(tl_store *st, const tl_store_path *p, const tl_store_step *steps,
                                int n, tl_put *what, tl_diag *d);
/* fn once, then sfn (may be NULL) per step by position then item; *found as list_get. */
TL_API tl_err tl_store_path_get(tl_store *st, const char *id, tl_store_path_fn fn,
                                tl_store_step_fn sfn, void *ctx, int *found, tl_diag *d);
/* Every path (topic non-NULL: of that topic, case-insensitive), by id. */
TL_API tl_err tl_store_paths_each(tl_store *st, const char *topic, tl_store_path_fn fn, void *ctx,
                                  tl_diag *d);
/* TL_ENOTFOUND (field "path") when there is none. */
TL_API tl_err tl_store_path_delete(tl_store *st, const char *id, tl_diag *d);
/* Patron user's feedback on path's step item: useful 1 or 0 (again: replaced). TL_ENOTFOUND
 * (field "item") when the item is no step of the path, (field "path") when there is no path. */
TL_API tl_err tl_store_feedback_put(tl_store *st, const char *path, const char *item,
                                    const char *user, int useful, int64_t ts, tl_diag *d);
/* The feedback on path (non-NULL), else by patron user; user in the callback as the store
 * keeps it. */
typedef tl_err (*tl_store_feedback_fn)(void *ctx, const char *path, const char *item,
                                       const char *user, int useful, int64_t ts);
TL_API tl_err tl_store_feedback_each(tl_store *st, const char *path, const char *user,
                                     tl_store_feedback_fn fn, void *ctx, tl_diag *d);

/* For a learning path's proposal: the items whose subjects name topic (one of an item's
 * '|'-separated subjects, case-insensitive), with their series from the catalogue's details
 * (NULL, volume NAN when unknown), by id; and the first event of each patron with each of those
 * items (patron: an opaque number, the same for one patron), by patron. */
typedef struct tl_store_topic_item {
    const char *item, *title, *subjects, *series;
    double series_volume;
    const char *level; /* the item's "level" extra field as text (a number or a word), or NULL */
} tl_store_topic_item;
typedef tl_err (*tl_store_topic_fn)(void *ctx, const tl_store_topic_item *t);
typedef tl_err (*tl_store_use_fn)(void *ctx, int64_t patron, const char *item, int64_t ts);
TL_API tl_err tl_store_topic_items(tl_store *st, const char *topic, tl_store_topic_fn fn, void *ctx,
                                   tl_diag *d);
TL_API tl_err tl_store_topic_uses(tl_store *st, const char *topic, tl_store_use_fn fn, void *ctx,
                                  tl_diag *d);

/* ---- Experiments (schema version 10) ---------------------------------------------------------
 * A/B tests: a name, a layer (experiments of one layer share its patrons, one experiment each),
 * the primary metric, the salt its assignment hashes with, its arms as JSON text (what
 * tl_svc_experiment_* writes), the split in percent ("50,50"), and when it started and stopped
 * (0: running). Assignment is computed from the salt and the patron's id, never stored, so an
 * experiment holds no personal data. put: TL_EEXIST when the name is taken. */
typedef struct tl_store_experiment {
    const char *name, *layer, *metric, *salt, *arms, *split;
    int64_t created, stopped;
} tl_store_experiment;
typedef tl_err (*tl_store_experiment_fn)(void *ctx, const tl_store_experiment *e);
TL_API tl_err tl_store_experiment_put(tl_store *st, const tl_store_experiment *e, tl_diag *d);
TL_API tl_err tl_store_experiment_get(tl_store *st, const char *name, tl_store_experiment_fn fn,
                                      void *ctx, int *found, tl_diag *d);
/* Every experiment, by creation time then name. */
TL_API tl_err tl_store_experiments_each(tl_store *st, tl_store_experiment_fn fn, void *ctx,
                                        tl_diag *d);
/* Stops a running experiment at when; *changed = 0 when it was stopped already or is unknown. */
TL_API tl_err tl_store_experiment_stop(tl_store *st, const char *name, int64_t when, int *changed,
                                       tl_diag *d);
/* Per patron who consents to personalization and has events in [since, until) (until 0: no end):
 * the patron's id as the store keeps it, the number of those events, of loans and of clicks. */
typedef tl_err (*tl_store_activity_fn)(void *ctx, const char *user, int64_t events, int64_t loans,
                                       int64_t clicks);
TL_API tl_err tl_store_patron_activity(tl_store *st, int64_t since, int64_t until,
                                       tl_store_activity_fn fn, void *ctx, tl_diag *d);
/* ---- impressions (schema version 9) ----------------------------------------------------------
 * What a response showed a patron (docs/IMPRESSIONS.md): one impression per response, its rows
 * (each the decision of the policy that placed it there: the row kind chosen, the kinds it was
 * chosen among as a bit set, and the probability of that choice), the items at each row and
 * position (with the probability of the edition chosen for a card, when one was chosen among a
 * work's editions), and the rewards joined to it (events on a shown item). Ids are numbers;
 * user NULL: anonymous or opted out (no identity is kept). */
typedef struct tl_store_imp_row {
    int kind;            /* the row kind chosen (the service's numbering) */
    uint32_t candidates; /* the kinds available at that decision, bit k = kind k */
    double propensity;   /* the probability of the choice */
} tl_store_imp_row;
#define TL_IMP_FEATURES_MAX 16 /* an edition's feature vector, as logged */
typedef struct tl_store_imp_item {
    int row, position;
    const char *item;
    double edition_p; /* < 0: no edition was chosen for this card */
    int edition_dim;  /* 0..TL_IMP_FEATURES_MAX: the chosen edition's features */
    float edition_x[TL_IMP_FEATURES_MAX];
} tl_store_imp_item;
typedef struct tl_store_impression {
    int64_t id, ts;   /* id: unique, increasing with time */
    const char *user; /* as the request named the patron (kept as the store keeps patrons);
                         in a listing, as the store keeps them; NULL: anonymous */
    int surface, policy;
    int64_t policy_version;
    const char *model, *experiment, *arm, *branch; /* each may be NULL */
    int weekday, exam, term, mobile;               /* weekday 0 = Monday */
    double activity;
    const tl_store_imp_row *rows;
    int n_rows;
    const tl_store_imp_item *items;
    int n_items;
    char tenant[TL_TENANT_ID_MAX + 1]; /* the tenant user is a patron of, when it is written from
                                          another thread than the request's; "": the thread's */
} tl_store_impression;
typedef struct tl_store_imp_reward {
    int row, position;
    const char *type; /* the event's type */
    int64_t ts;
} tl_store_imp_reward;
/* Writes imp[0..n) in one transaction (the caller's, else its own). Items the store does not
 * know are left out. */
TL_API tl_err tl_store_impressions_put(tl_store *st, const tl_store_impression *imp, int n,
                                       tl_diag *d);
/* Each impression since (Unix seconds; 0: all) of user (NULL: every patron's and the anonymous
 * ones), oldest first, with its rewards. */
typedef tl_err (*tl_store_impression_fn)(void *ctx, const tl_store_impression *imp,
                                         const tl_store_imp_reward *rw, int n_rw);
TL_API tl_err tl_store_impressions_each(tl_store *st, int64_t since, const char *user,
                                        tl_store_impression_fn fn, void *ctx, tl_diag *d);
/* As tl_store_impressions_each over every patron, with the items shown listed (items[k]: its
 * id, row and position; the items the store no longer knows are left out): an experiment's
 * guardrails. Slower: a lookup per item. */
TL_API tl_err tl_store_impressions_shown(tl_store *st, int64_t since, tl_store_impression_fn fn,
                                         void *ctx, tl_diag *d);
/* What a reward joined: the impression (its context and policy), the row and position of the
 * item in it, the row's kind and the card's edition choice. found = 0: nothing joined. */
typedef struct tl_store_imp_hit {
    int found;
    int64_t impression;
    int row, position, kind, surface, policy;
    int weekday, exam, term, mobile;
    double activity, edition_p;
    int edition_dim;
    float edition_x[TL_IMP_FEATURES_MAX];
} tl_store_imp_hit;
/* Joins an event to an impression and records it as a reward, inside the caller's write
 * transaction: with impression (its id as text), to that impression when it showed item (row
 * and position, when >= 0, say where; else the item's first place in it); without, when type
 * is "loan" and user is given, to the latest impression of user within window seconds before
 * ts that showed item. */
TL_API tl_err tl_store_impression_reward(tl_store *st, const char *impression, int row,
                                         int position, const char *user, const char *item,
                                         const char *type, int64_t ts, int64_t window,
                                         tl_store_imp_hit *hit, tl_diag *d);
/* A learner's state by name (a bandit's image and its version), malloc'd into *img (NULL and
 * *found = 0 when none is stored); put replaces it (the caller's transaction, else its own). */
TL_API tl_err tl_store_learner_get(tl_store *st, const char *name, unsigned char **img, size_t *len,
                                   int64_t *version, int *found, tl_diag *d);
TL_API tl_err tl_store_learner_put(tl_store *st, const char *name, const unsigned char *img,
                                   size_t len, int64_t version, int64_t ts, tl_diag *d);
/* tailor migrate: copies the SQLite store from into the empty PostgreSQL store to (every
 * table, ids kept), in one transaction of to; then reads each table of both back in key order
 * and compares its row count and a checksum of its rows, calling fn (may be NULL) per table.
 * Commits only when every table agrees: else TL_ECORRUPT and to is left as it was. TL_EEXIST
 * when to is not empty; TL_EUNSUPPORTED for other engine pairs. */
typedef struct tl_store_table_check {
    const char *table;
    int64_t rows_from, rows_to;
    char sum_from[33], sum_to[33]; /* hex; "-" for a table the source's schema lacks */
    int same;
} tl_store_table_check;
typedef tl_err (*tl_store_check_fn)(void *ctx, const tl_store_table_check *c);
TL_API tl_err tl_store_migrate(tl_store *from, tl_store *to, tl_store_check_fn fn, void *ctx,
                               tl_diag *d);

/* ---- consortium tenancy (schema version 11; docs/SCALE.md "Consortium tenancy") ------------
 * A tenant is a library of a consortium. The catalogue is shared; patrons are not: a patron id
 * named in a request made for tenant T is kept as "T:" followed by what the store would keep
 * without tenancy (the id, or its pseudonym), so that two libraries' patron "42" are two
 * patrons and a request for T can only ever name T's patrons. The tenant of a request is the
 * calling thread's (tl_store_tenant_enter), applied at the store's door to every patron id. */
#define TL_PATRON_REF_SIZE (TL_TENANT_ID_MAX + 2 + TL_ID_MAX + 1) /* a kept patron id's buffer */
#define TL_TENANT_NAME_MAX 200
#define TL_TENANT_MAX_BRANCHES 256

/* 1 when id is a valid tenant id: 1 to TL_TENANT_ID_MAX of a-z, 0-9, '-' and '_'. */
TL_API int tl_tenant_id_ok(const char *id);
/* The calling thread's tenant becomes tenant (NULL or "": none, the consortium's own requests)
 * until the next call; an invalid id is refused (TL_EINVAL) and leaves none. */
TL_API tl_err tl_store_tenant_enter(const char *tenant);
/* The calling thread's tenant, "" when none. */
TL_API const char *tl_store_tenant(void);
/* The id a store keeps for the patron ext[0..len) of tenant (NULL or "": none) under the
 * pseudonym key pkey (NULL: none): ext itself, its pseudonym, or either after "tenant:".
 * Written into buf (TL_PATRON_REF_SIZE bytes) unless it is ext itself; *out_len (may be NULL)
 * = its length. */
TL_API const char *tl_patron_ref(const uint8_t *pkey, const char *tenant, const char *ext,
                                 size_t len, char *buf, size_t *out_len);

typedef struct tl_store_tenant_rec {
    const char *id, *name;
    int64_t created;             /* Unix seconds */
    const char *const *branches; /* the branch codes of its holdings */
    int n_branches;              /* 0..TL_TENANT_MAX_BRANCHES */
} tl_store_tenant_rec;
/* Adds tenant t, or replaces its name and branches (a branch belongs to one tenant:
 * TL_EEXIST, d naming it, when another has it). TL_EINVAL: a bad id, name or branch. */
TL_API tl_err tl_store_tenant_put(tl_store *st, const tl_store_tenant_rec *t, tl_diag *d);
/* fn once per tenant, by id (strings valid during the call). */
typedef tl_err (*tl_store_tenant_fn)(void *ctx, const tl_store_tenant_rec *t);
TL_API tl_err tl_store_tenants(tl_store *st, tl_store_tenant_fn fn, void *ctx, tl_diag *d);

#ifdef __cplusplus
}
#endif
#endif
