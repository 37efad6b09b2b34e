/* Private to src/service: the service's state, the reference-counted model handle that lets a
 * swap happen under running requests, and the pool of store connections (SQLite connections
 * are not shared between threads: each request borrows one). */
#ifndef TL_SERVICE_INT_H
#define TL_SERVICE_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "core/facets.h"
#include "core/model.h"
#include "tailor/service.h"
#include "tailor/store.h"

/* A loaded model and the requests that use it; freed by the last release. */
typedef struct tl_model_ref {
    tl_model *m;
    char *path;
    double written_at; /* the file's modification time when it was loaded */
    atomic_long refs;
    /* Lists every homepage needs, made once per model on first use (tl__ref_lists) */
    pthread_mutex_t lists_mu;
    int lists_done;
    int32_t *newest; /* the latest additions to the catalogue (date added), newest first */
    int n_newest;
    int32_t *series_next; /* per item, the next volume of its series (-1: none); NULL when
                             no title names a series */
    /* Works (works.c): per item, the first item of its work (itself, or -1 when the work has
     * no other item in the model); NULL when no work has two. Made once, under lists_mu. */
    int works_done;
    int32_t *work;
    int32_t *work_next; /* per item, the next item of its work, round (-1: alone) */
    uint8_t *has_cover; /* per item, 1 when its record has a cover link (works.c); NULL: none */
    /* The catalogue's subjects and creators as ids, for re-ranking: made on first use
     * (tl__ref_facets) */
    pthread_mutex_t facets_mu;
    int facets_done;
    tl_facets facets;
    /* The model's items deleted from the store since (withdrawn.c) */
    pthread_mutex_t cat_mu;           /* one check of the store at a time */
    atomic_uint_fast64_t cat_gen;     /* the store generation last checked, + 1 (0: never) */
    long long cat_version;            /* TL_META_CATALOGUE that withdrawn reflects, -1: none */
    _Atomic(uint8_t *) withdrawn;     /* n_items flags, NULL when none is withdrawn */
    struct tl_withdrawn_old *retired; /* replaced flags, freed with the ref (readers may hold) */
    /* Live popularity (popularity.c) */
    pthread_mutex_t pop_mu;       /* guards the fields below */
    float *pop_counts;            /* patrons of each item as trained, plus events since */
    int pop_failed, pop_dirty;    /* no counts can be made; counts moved since the list */
    double pop_built;             /* when the list was made (tl_now) */
    struct tl_pop_list *pop_list; /* the most held, with a reference of the ref's own */
    /* The library events among the model's items and when each is over (upcoming.c) */
    pthread_mutex_t sched_mu; /* guards the two fields below */
    struct tl_snapshot *sched_snap;
    struct tl_sched *sched;
    /* The copies on the shelf of the model's items, per branch (shelves.c) */
    pthread_mutex_t shelf_mu; /* guards the two fields below */
    struct tl_snapshot *shelf_snap;
    struct tl_shelves *shelves;
    /* The weeks of the year each subject of the model's items is borrowed in (season.c) */
    pthread_mutex_t season_mu;  /* one read of them at a time; guards season_snap */
    pthread_rwlock_t season_rw; /* guards seasons (swapped after a read) */
    struct tl_snapshot *season_snap;
    struct tl_seasons *seasons;
} tl_model_ref;

/* A ranked list of the most held items, shared by requests (popularity.c). */
typedef struct tl_pop_list tl_pop_list;
/* r's list now, with a reference (tl__pop_list_release), or NULL (a model without histories). */
tl_pop_list *tl__popular(tl_service *s, tl_model_ref *r);
void tl__pop_list_release(tl_pop_list *l);
int tl__pop_list_n(const tl_pop_list *l);
const int32_t *tl__pop_list_items(const tl_pop_list *l);
const float *tl__pop_list_counts(const tl_pop_list *l);
/* Up to n of the most held items (scores: how many patrons), none of exclude[0..n_exclude) and
 * all through f, into out_items/out_scores; *n_out = how many. As tl_model_popular, live. */
tl_err tl__popular_pick(tl_service *s, tl_model_ref *r, const int32_t *exclude, int32_t n_exclude,
                        const tl_filter *f, int n, int32_t *out_items, float *out_scores,
                        int *n_out);
/* Counts events just written through the service into every served model's popularity. */
void tl__popular_add(tl_service *s, const tl_event_rec *ev, size_t n);
void tl__popular_free(tl_model_ref *r);

#define TL_REF_POPULAR 1000 /* items kept in the popular list */
#define TL_REF_NEWEST 500

/* r's list of newest additions and its series' next volumes, made on the first call
 * (TL_ENOMEM). */
tl_err tl__ref_lists(tl_model_ref *r);

#define TL_SERVICE_IDLE_READERS 64 /* read connections kept for reuse; more are closed */
#define TL_SERVICE_LISTS 33        /* lists read from the store kept (trending, segments) */

/* The academic calendar's periods (calendar.c). */
typedef struct tl_period {
    char name[96], kind[8];
    int64_t start, end; /* Unix seconds: [start, end) (an end date counts whole) */
} tl_period;
typedef struct tl_calendar {
    int n;
    tl_period *p;
} tl_calendar;

struct tl_service {
    pthread_mutex_t mu; /* guards the slots, swaps and the idle readers (pointer moves only) */
    /* The models served: slot 0 is the main one (tl_service_opts.model: the default, which
     * trainings replace), the others tl_service_opts.more_models, by name */
    tl_model_ref *slot[TL_SERVICE_MAX_MODELS];
    char slot_name[TL_SERVICE_MAX_MODELS][TL_SERVICE_MODEL_NAME]; /* slot 0: its model's kind */
    int n_slots;
    long long swaps;
    char swap_seen[4200]; /* the store's TL_META_MODEL_SWAP last seen (swap_notice.c) */
    int swap_looked;      /* ... once looked for */
    char *db;
    tl_event_weights weights; /* the store's, as training applies them */
    tl_store *readers[TL_SERVICE_IDLE_READERS];
    int n_readers;
    /* The store's generation: moved when a reader, as it is taken, sees a write since it last
     * looked (tl_store_changed); what was cached from the store is valid for one generation */
    atomic_uint_fast64_t store_gen;
    struct tl_hist_cache *hcache;               /* patrons' histories (hist_cache.h); NULL: none */
    pthread_mutex_t lists_mu;                   /* guards the lists read from the store */
    struct tl_store_list *lists;                /* TL_SERVICE_LISTS of them (lists.c) */
    uint64_t lists_clock;                       /* use stamps, for replacing the oldest */
    char segment_attr[TL_SEGMENT_ATTR_MAX + 1]; /* of "Popular in your department"; "" none */
    int min_group; /* the fewest patrons a group's count may show (k-anonymity) */
    /* training in the background (train.c) */
    pthread_mutex_t train_mu; /* guards the fields below */
    pthread_cond_t train_cv;  /* signalled when a training ends */
    pthread_t train_thread;
    int train_joinable;
    atomic_int train_cancel; /* set by close: the fit stops at its next check */
    tl_train_status train;
    tl_err train_rc;
    tl_diag train_diag;
    unsigned erase_pending;     /* slots to train again since an erasure (bit k: slot k) */
    atomic_llong erasures_seen; /* the store's erasure count this service has acted on */
    double erased_at;           /* wall seconds of the last erasure, 0 = none */
    long long retrain_events;
    double retrain_seconds;
    long long events_since_train;
    double last_train_at;     /* Unix seconds: the last training's start, else the service's open */
    pthread_mutex_t write_mu; /* one writer at a time (SQLite's rule too) */
    tl_store *writer;         /* NULL unless writable */
    int64_t idem_pruned_at;   /* when expired idempotency keys were last pruned (write_mu) */
    /* API key lookups (keys.c) */
    pthread_mutex_t keys_mu;         /* guards keys (held for copies, never for a store read) */
    pthread_mutex_t keys_list_mu;    /* one listing of the store's key ids at a time */
    struct tl_key_cache *keys;       /* the listing of ids and cached lookups; made on first use */
    struct tl_tenant_cache *tenants; /* tenants' branches, read at most once a second (tenants.c) */
    tl_service_log_fn log;           /* the opener's, or NULL */
    void *log_ctx;
    tl_calendar calendar; /* the academic calendar (tl_service_opts.calendar); n 0: none */
    int has_pkey; /* patron ids are pseudonymized with pkey (tl_service_opts.pseudonym_key) */
    uint8_t pkey[TL_PSEUDONYM_KEY_LEN];
    double search_weight; /* catalogue search: the personal weight a request gives none of */
    struct tl_search_cache *search_cache; /* recent searches' answers (search.c); NULL: none */
    struct tl_imp *imp;       /* impressions and the learners (impressions.c, imp_int.h) */
    struct tl_exp_cache *exp; /* the running experiments (experiments.c, exp_int.h) */
};

/* The cache of catalogue searches' answers (search.c): n entries (0: none, NULL). */
struct tl_search_cache *tl__search_cache_new(int n);
void tl__search_cache_free(struct tl_search_cache *c);

/* Opens a connection to s's store with flags and s's pseudonym key. */
tl_err tl__service_store_open(tl_service *s, int flags, tl_store **out, tl_diag *d);
/* The id under which the store and the models know patron user: its pseudonym (written into
 * buf, TL_PSEUDONYM_LEN + 1 bytes) with a pseudonym key, else user itself. */
const char *tl__patron_ref(const tl_service *s, const char *user, char *buf);
/* Consortium tenancy (tenants.c): when the thread's tenant has branches, clears (*allow) the
 * model's items that no branch of it holds; *allow NULL is made (every item allowed first,
 * TL_ENOMEM). TL_OK without change otherwise. */
tl_err tl__tenant_allow(tl_service *s, tl_model_ref *r, uint8_t **allow);
/* The branches of the tenant this thread acts for, as a malloc'd array of malloc'd strings
 * (tl__tenant_branches_free them); *n = 0 and nothing to free for no tenant, or one without
 * branches (it sees the whole catalogue). */
tl_err tl__tenant_branches(tl_service *s, char ***branches, int *n);
void tl__tenant_branches_free(char **branches, int n);
/* Clears allow[i] (n_items bytes) for each item of r with copies, none at one of
 * branches[0..n) (shelves.c; the set of items is kept per set of branches until the holdings
 * are read again). TL_ENOMEM. */
tl_err tl__shelf_held(tl_service *s, tl_model_ref *r, const char *const *branches, int n,
                      uint8_t *allow);
void tl__tenants_free(tl_service *s);
/* 1 when the patron kept as owner (NULL: none) is the thread's tenant's, or the thread acts for
 * no tenant (the consortium sees all); a record without an owner is everyone's. */
int tl__tenant_owns(const char *owner);

/* Tells the opener's log (if any) one line, formatted. Never call it under a lock. */
void tl__service_log(tl_service *s, const char *level, const char *what, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Starts libsodium once per process (thread-safe): TL_EUNSUPPORTED when it cannot start. */
tl_err tl__keys_start(tl_diag *d);
/* Idempotency keys (idem.c), inside the writer's transaction under write_mu. begin checks k
 * (TL_EINVAL), hashes its request into hash and looks it up: out->replayed when it was seen
 * with the same request (the caller writes nothing), TL_EEXIST with another. end stores it
 * with its answer, pruning expired keys at most once an hour. */
#define TL_IDEM_HASH_LEN 32
tl_err tl__idem_begin(tl_service *s, const tl_idem *k, uint8_t *hash, tl_idem_replay *out,
                      tl_diag *d);
tl_err tl__idem_end(tl_service *s, const tl_idem *k, const uint8_t *hash, tl_diag *d);
/* Frees s->keys. */
void tl__keys_free(tl_service *s);
/* How many times authentication has read the store (listings of ids and reads of one key). */
unsigned long tl__keys_store_reads(tl_service *s);

/* The current model, or NULL (a store-only service) with d saying so (TL_EUNSUPPORTED). */
tl_model_ref *tl__service_need_model(tl_service *s, tl_diag *d);
/* The served model named name (NULL or "": the main one), with a reference; NULL with d's field
 * "model" saying which are served (TL_EINVAL) or that none is (TL_EUNSUPPORTED) in *rc.
 * *popular_only: 1 when name is "popular" and no served model has that name: the main model's
 * popular items are wanted, not a personal answer. *served: the name it answers under (the
 * main model: its kind; valid while the reference is held). */
tl_model_ref *tl__service_model_named(tl_service *s, const char *name, int *popular_only,
                                      const char **served, tl_err *rc, tl_diag *d);

/* Loads the model file at path into slot (0: the main model) and swaps it in. */
tl_err tl__service_swap_slot(tl_service *s, int slot, const char *path, tl_diag *d);
/* Other processes and the swaps of models (swap_notice.c): announce records the swap of the
 * model file path in the store; check, with a reader that saw the store changed, loads a file
 * another process announced into the slots that serve it. */
void tl__swap_announce(tl_service *s, const char *path);
void tl__swap_check(tl_service *s, tl_store *st);
/* The slot a training of kind name refits: k > 0 when a served model other than the main one
 * is named name, with its file and kind copied out; 0 (the main model) otherwise. */
int tl__service_train_slot(tl_service *s, const char *name, char **path, char *kind,
                           size_t kind_len);

/* The current model with a reference the caller releases; NULL when the service has none. */
tl_model_ref *tl__service_model(tl_service *s);
void tl__model_ref_release(tl_model_ref *r);

/* The homepage's group row: the patron's value of the service's segment attribute (into
 * value, "" when the patron has none) and the items held by the most patrons of that group, as
 * m's items, most first: up to max into items and counts (how many patrons); *n = how many.
 * Cached for a minute per group. */
tl_err tl__service_segment(tl_service *s, const tl_model *m, const char *user, char *value,
                           size_t value_len, int32_t *items, float *counts, int max, int *n,
                           tl_diag *d);
/* Frees the lists (close). */
void tl__service_lists_free(tl_service *s);

/* What is trending in the store as m's items, most events first: up to max into items and
 * counts (the number of events), *n = how many; none without a store. Cached for a minute. */
tl_err tl__service_trending(tl_service *s, const tl_model *m, int32_t *items, float *counts,
                            int max, int *n, tl_diag *d);

/* The flags of r's items deleted from the store since r was trained (a tl_filter's deny), or
 * NULL when none is: checked against the store when it changed, rebuilt when an item was
 * deleted. looked: the request took a store reader already (tl__service_reader), so the
 * store's generation is current. Valid while the caller holds r. */
const uint8_t *tl__withdrawn(tl_service *s, tl_model_ref *r, int looked);
/* Frees what tl__withdrawn kept in r. */
void tl__withdrawn_free(tl_model_ref *r);

/* After an erasure: every served model is trained again from the store (one after the other,
 * in the training thread; one already running is followed by another). 1 when that is under
 * way, 0 when the service cannot train (no writable store, no model). */
int tl__service_retrain_after_erasure(tl_service *s);
/* Appends an audit entry in the writer's open transaction (under write_mu): its hash chains
 * it to the last one. */
tl_err tl__audit_append(tl_service *s, const char *actor, const char *action, const char *target,
                        const char *detail, tl_diag *d);
/* TL_OK when s has a store, else TL_EUNSUPPORTED with d saying so. */
tl_err tl__service_need_store(tl_service *s, tl_diag *d);

/* Counts n new events and starts a training when the service's retrain settings say so. */
void tl__service_events_added(tl_service *s, size_t n);
/* Stops a running training and waits for it (close). */
void tl__service_train_stop(tl_service *s);

/* TL_OK when s may write to its store, else TL_EUNSUPPORTED with d saying why ("WHAT need a
 * store (--db)", or that it was opened read-only). */
tl_err tl__service_need_writer(tl_service *s, const char *what, tl_diag *d);

/* r's works (see tl_model_ref.work) read from the store on first use, or NULL (none, or no
 * store); *next (may be NULL) = r->work_next. Valid while the caller holds r. */
const int32_t *tl__ref_works(tl_service *s, tl_model_ref *r, const int32_t **next);
/* Drops from items/scores[0..*got) each item whose work an item above it, or one of the
 * history hist[0..n_hist) (the patron's, or the item of "more like this"), already has. */
void tl__works_dedupe(const int32_t *work, const int32_t *hist, int32_t n_hist, int32_t *items,
                      float *scores, int *got);
/* Library events (upcoming.c): an event is recommended only until it is over (its end, else
 * its start), at the request's time (tl__request_time), without a training. The events of r
 * are read from the store on first use and again at most once a minute after the store changed.
 * tl__events_over: how many of r's events are over at t, each marked with value in flags
 * (when not NULL; n_items flags). tl__deny_at: the deny flags of a request at t, gone (the
 * withdrawn items, may be NULL) with the events over; *own is set (and the result) to flags the
 * caller frees when an event is over, else NULL and gone is the result. tl__events_upcoming:
 * r's events not over at t that have a start, soonest first, up to max into items; how many. */
int64_t tl__request_time(const tl_rec_context *c);
int32_t tl__events_over(tl_service *s, tl_model_ref *r, int64_t t, uint8_t *flags, uint8_t value);
const uint8_t *tl__deny_at(tl_service *s, tl_model_ref *r, const uint8_t *gone, int64_t t,
                           uint8_t **own);
int tl__events_upcoming(tl_service *s, tl_model_ref *r, int64_t t, int32_t *items, int max);
void tl__events_free(tl_model_ref *r);

/* What a request reads from the store about a model's items that time and loans change
 * without a training (events, shelves, seasons): read on first use and again at most every
 * ttl seconds after the store changed. tl__snapshot_due: 1 with a reader in *st
 * (the caller reads, then tl__snapshot_done and tl__service_reader_done) when a read is due,
 * else 0. *snap is made on first use (NULL: out of memory, 0). Under the caller's mutex. */
#define TL_SNAPSHOT_TTL 60.0
struct tl_snapshot;
int tl__snapshot_due(tl_service *s, struct tl_snapshot **snap, double ttl, tl_store **st);
void tl__snapshot_done(tl_service *s, struct tl_snapshot *snap);

/* Branch-aware availability (shelves.c). tl__shelf_branch: the branch of a request for user
 * (may be NULL) in context cx, into buf (TL_BRANCH_MAX + 1 bytes; "" when none, or when the
 * store holds no copy of r's items: then nothing needs it).
 * tl__shelf_fill: each item's availability at branch. tl__shelf_prefer: reorders
 * items/scores[0..n) (best first) so that items on the shelf at branch count TL_SHELF_BOOST
 * more, stable, the scores kept. */
void tl__shelf_branch(tl_service *s, tl_model_ref *r, const char *user, const tl_rec_context *cx,
                      char *buf);
void tl__shelf_fill(tl_service *s, tl_model_ref *r, const char *branch, tl_rec_item *items, int n);
void tl__shelf_prefer(tl_service *s, tl_model_ref *r, const char *branch, int32_t *items,
                      float *scores, int n);
void tl__shelves_free(tl_model_ref *r);

/* Learned seasonality (season.c): from the store's loans by week of the year (read once a
 * day at most), the subjects in season at t: borrowed in t's week and the weeks either side at
 * least TL_SEASON_RATIO times their average and TL_SEASON_MIN times in all. tl__in_season:
 * marks in flags (n_items, zeroed by the caller) r's items with a subject in season at t;
 * their number. */
#define TL_SEASON_RATIO 2.0
#define TL_SEASON_MIN 5
#define TL_SEASON_TTL 86400.0
int32_t tl__in_season(tl_service *s, tl_model_ref *r, int64_t t, uint8_t *flags);
void tl__seasons_free(tl_model_ref *r);

/* The academic calendar (calendar.c): periods of kind term, exam or break, read from a TSV
 * file at the service's open (tl_service_opts.calendar). tl__calendar_load: TL_EPARSE with d
 * naming the file, line and field, TL_EIO. tl__calendar_at: the first period of kind at t, or
 * NULL. */
tl_err tl__calendar_load(const char *path, tl_calendar *c, tl_diag *d);
const tl_period *tl__calendar_at(const tl_calendar *c, const char *kind, int64_t t);
void tl__calendar_free(tl_calendar *c);

/* A read connection to the store (opened when none is idle) and its return. */
tl_err tl__service_reader(tl_service *s, tl_store **out, tl_diag *d);
void tl__service_reader_done(tl_service *s, tl_store *st);

/* Adds the patron's "lists" (with their items), "reviews" and "path_feedback" to an export
 * (readinglists.c); nothing on a store before schema version 5. */
struct json_t;
tl_err tl__lib_export(tl_store *st, const char *user, struct json_t *out, tl_diag *d);

#endif
