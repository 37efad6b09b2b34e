/* The service layer: what a request to Tailor does, whoever asks. The CLI and the HTTP server
 * call this and nothing below it: opening a store and a model, recommendations for a patron, a
 * history or "more like this" (with titles, reasons and evidence, filtered), events in, and
 * swapping in a newly trained model while requests run.
 *
 * Live: with a store, a patron's recommendations are computed from the patron's events in the
 * store at the moment of the request (weighted as training weighs them), so an event written
 * through tl_service_add_events changes the patron's next answer; the model scores that history
 * (a fold-in for factor models, the neighbours of the fresh history for item models). A patron
 * who opted out of personalization gets the popular items at once; those are counted live (the
 * trained histories plus the events since the model's watermark).
 *
 * Threads: every function may be called from any number of threads at once on one service.
 * Results hold a reference to the model that produced them, so a swap never frees what a
 * request still reads. */
#ifndef TAILOR_SERVICE_H
#define TAILOR_SERVICE_H

#include <stddef.h>
#include <stdint.h>

#include "tailor/error.h"
#include "tailor/ingest.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct tl_service tl_service;

/* What a service tells of its own work in the background (a training started, ended or failed,
 * a model swapped in): level "info" or "error", what a short name ("training", "swap"), message
 * one line. Called from the thread doing the work, never under a lock of the service. */
typedef void (*tl_service_log_fn)(void *ctx, const char *level, const char *what,
                                  const char *message);

typedef struct tl_service_opts {
    const char *db;    /* the store's path, or NULL: the model alone (histories from its file) */
    const char *model; /* the model file (tailor train --out), or NULL: a store-only service
                          (API keys, events); what needs a model then fails with
                          TL_EUNSUPPORTED */
    int writable;      /* events may be written (opens the store for writing, creating nothing) */
    long long retrain_events; /* > 0: train again in the background after this many new events
                                 (written through tl_service_add_events) */
    double retrain_seconds;   /* > 0: ... and at least this often while events arrive */
    int serving;              /* requests come from many threads (the server): BLAS becomes
                                 single-threaded for the whole process, once, instead of being switched
                                 per call, which would race between requests and training */
    tl_service_log_fn log;    /* NULL: nobody is told */
    void *log_ctx;
    /* More models a request may pick by name (tl_rec_query.model): each "FILE" (named as its
     * model kind: "ease") or "NAME=FILE"; at most TL_SERVICE_MAX_MODELS - 1, names distinct
     * from each other and from the main model's kind. A training of that kind (without an
     * out file) refits that file and swaps it in. */
    const char *const *more_models;
    int n_more_models;
    /* The patrons' attribute whose groups get a homepage row ("Popular in your department"):
     * letters, digits, '_', '-', at most TL_SEGMENT_ATTR_MAX bytes; NULL: "department"; "": no
     * such row. */
    const char *segment_attribute;
    /* The fewest patrons behind any count a group's row shows (k-anonymity: an item held by
     * fewer patrons of the group is left out of it); 0: TL_MIN_GROUP. */
    int min_group;
    /* The store's pseudonym key (TL_PSEUDONYM_KEY_LEN bytes, copied; tailor/store.h), or NULL:
     * every store connection the service opens gets it, and patrons are looked up in the
     * models (trained on the store: pseudonyms) by their pseudonyms. Answers name a patron by
     * the id the request gave. */
    const uint8_t *pseudonym_key;
    /* The academic calendar, a TSV file of periods (name, kind: term, exam or break, start
     * and end dates; etc/calendar.tsv), or NULL: none. During an exam period the homepage
     * begins with "For your exams". A bad file fails the open with TL_EPARSE (d: file, line,
     * field). */
    const char *calendar;
    /* Catalogue search: the weight of a patron's profile against the text (0..1) when a
     * request gives none; used when search_weight_set, else TL_SEARCH_WEIGHT. */
    double search_weight;
    int search_weight_set;
    /* Answers of recent searches kept (their candidates, total and facets, valid until the
     * store changes): 0: TL_SEARCH_CACHE; < 0: none. */
    int search_cache;
    /* Impressions (docs/IMPRESSIONS.md): 1 = what the responses that ask for it
     * (tl_home_query.impression, ...) showed is logged in the store (needs a writable store;
     * else nothing is logged), and events naming an impression, and loans within
     * attribution_days of one, are joined to it as rewards. */
    int impressions;
    int row_policy;          /* the homepage's row order: TL_ROW_POLICY_FIXED or _BANDIT */
    double bandit_p_min;     /* the least probability of any choice; 0: TL_BANDIT_P_MIN */
    double attribution_days; /* a loan's window; 0: TL_ATTRIBUTION_DAYS */
} tl_service_opts;

#define TL_ROW_POLICY_FIXED 0  /* the rows in the order the homepage lists them (below) */
#define TL_ROW_POLICY_BANDIT 1 /* ordered by a contextual bandit learning from rewards */
#define TL_BANDIT_P_MIN 0.02
#define TL_ATTRIBUTION_DAYS 14.0
#define TL_IMPRESSION_ID_MAX 24 /* bytes of an impression id, with its NUL */

#define TL_MIN_GROUP 5

#define TL_SEGMENT_ATTR_MAX 64

#define TL_SERVICE_MAX_MODELS 8
#define TL_SERVICE_MODEL_NAME 32 /* bytes of a name, with its NUL */

/* Opens the model (mapped) and, with o->db, the store. Errors: those of tl_model_load and
 * tl_store_open (d says why, naming the path), TL_EINVAL (neither a model nor a store). */
TL_API tl_err tl_service_open(const tl_service_opts *o, tl_service **out, tl_diag *d);
/* Waits for nothing: call it when no request runs any more. NULL does nothing. */
TL_API void tl_service_close(tl_service *s);

/* Loads the model file at path and swaps it in atomically: requests that started before keep
 * the old model until they finish; later ones get the new one. No request fails or waits for
 * the load. On error the old model stays. */
TL_API tl_err tl_service_swap_model(tl_service *s, const char *path, tl_diag *d);

/* ---- training in the background -------------------------------------------------------------
 * A training reads the store's events as they are when it starts, fits (choosing the settings
 * it is not given on validation data, as `tailor train` does), writes the model file beside the
 * current one (renamed over it whole) and swaps it in. Requests go on meanwhile. One training
 * at a time. Needs a store. */
typedef struct tl_train_opts {
    const char *model;           /* "ials", ...; NULL = the current model's kind */
    const char *const *settings; /* "key=value" as `tailor train --set` */
    int n_settings;
    const char *out; /* the file to write; NULL = the current model's file */
} tl_train_opts;

/* Starts a training; returns at once. TL_EBUSY while one runs, TL_EINVAL (an unknown model or
 * setting: d names it), TL_EUNSUPPORTED without a store or with a read-only one (a read-only
 * service changes no file). */
TL_API tl_err tl_service_train(tl_service *s, const tl_train_opts *o, tl_diag *d);
/* Waits for the running training to end (none: returns at once) and returns its result. */
TL_API tl_err tl_service_train_wait(tl_service *s, tl_diag *d);

#define TL_TRAIN_RECENT 20
typedef struct tl_train_status {
    int running;
    char model[32];           /* the kind being (or last) trained */
    char stage[96];           /* "loading events", "fitting ials", "ials epoch 3/15", ... */
    double done;              /* fraction of the fit, 0..1 */
    double started, finished; /* Unix seconds (0 = not yet) */
    long long runs, failures; /* trainings finished since open, and how many of them failed */
    char error[320];          /* why the last one failed ("" when it did not) */
    /* The trainings finished since open, the newest TL_TRAIN_RECENT of them, oldest first:
     * quality over time as each training's own validation measured it. */
    int n_recent;
    struct tl_train_record {
        char model[32];
        double started, finished;
        int ok;
        double validation_ndcg; /* autotune's best nDCG@10 on its validation split; -1 when
                                   the parameters were given (no validation ran) or it failed */
    } recent[TL_TRAIN_RECENT];
} tl_train_status;

TL_API void tl_service_train_status(tl_service *s, tl_train_status *out);

typedef struct tl_service_info {
    const char *model;         /* the model's name ("ials", ...) */
    char model_path[1024];     /* its file */
    int32_t users, items;      /* in the model */
    double fit_seconds;        /* its training time */
    double written_at;         /* when its file was written (Unix seconds; 0 = unknown) */
    long long trained_through; /* its watermark: the newest event it was trained on (Unix
                                  seconds; 0 = unknown) */
    long long trained_pairs;   /* the (user, item) pairs it was trained on */
    long long events_since;    /* events in the store newer than the watermark (served by
                                  fold-in until a retrain; -1 = no store or not counted) */
    long long swaps;           /* models swapped in since open */
    int has_store, writable;   /* a store is open; events may be written */
    int n_served;              /* the models a request may name (model=), the main one first */
    struct tl_served_model {
        char name[TL_SERVICE_MODEL_NAME];
        const char *kind; /* "ials", ... (static) */
        int32_t users, items;
        long long trained_through;
    } served[TL_SERVICE_MAX_MODELS];
} tl_service_info;

/* A snapshot (model is a static name). events_since is counted only when count_events is
 * set (a scan of the store's events: for status pages, not per request). */
TL_API void tl_service_info_get(tl_service *s, tl_service_info *out, int count_events);

/* Readiness: 1 when the service can answer recommendations now (a model is loaded and, with a
 * store, the store answers a read), else 0 with why (len bytes) saying what is missing. */
TL_API int tl_service_ready(tl_service *s, char *why, size_t len);

/* Whether the current model has the item (it can be recommended, or be a history). */
TL_API int tl_service_knows_item(tl_service *s, const char *item);

#define TL_REC_MAX_N 10000
#define TL_REC_MAX_EVIDENCE 3
#define TL_REC_MAX_HISTORY 100000

/* Where and when a request is made, for a patron's history: events after time are left out
 * (a replay of what the patron would have seen then; 0 = now), and the patron's events made on
 * the same device, through the same channel or at the same branch weigh TL_CONTEXT_BOOST times
 * more for each that matches (NULL: not given), so that the kiosk in the children's room, or
 * the phone on the way home, leans toward what was borrowed there. */
typedef struct tl_rec_context {
    const char *device, *channel, *branch;
    long long time; /* Unix seconds; 0 = now */
} tl_rec_context;
#define TL_CONTEXT_BOOST 2.0f

/* Re-ranking (all zero: none): the list is chosen again from a pool of about 5n of the model's
 * best, trading some relevance for variety. Items keep the model's scores, reasons and
 * evidence; only which of them make the list, and their order, change. MMR (maximal marginal
 * relevance) penalizes an item for its likeness (shared subjects and authors) to the items
 * above it; calibration makes the list's subjects follow the shares of the patron's history;
 * the author cap limits the items of one first author. A list may come out shorter than n when
 * the cap leaves too few. */
typedef struct tl_rerank {
    int mmr;            /* 1: MMR with lambda */
    float lambda;       /* MMR's trade-off, 0..1: 1 = relevance alone, 0 = variety alone */
    int calibrate;      /* 1: calibrate to the history's subjects with cal_lambda */
    float cal_lambda;   /* 0..1: 0 = relevance alone, 1 = the subject shares alone */
    int max_per_author; /* at most this many items of one first author; 0 = no cap */
    int all_editions;   /* 1: every edition and format of a work may be listed; 0 (default):
                           one entry per work (the catalogue's work ids, tailor import marc),
                           and none of a work the history already has */
} tl_rerank;
#define TL_RERANK_MAX_N 1000 /* the longest list a re-ranker makes (its work grows as n^2) */
/* A patron whose record says "broaden": true (their "broaden my horizons" setting) gets MMR
 * with this lambda on their recommendations, unless the request chooses a re-ranker itself. */
#define TL_BROADEN_LAMBDA 0.7f

typedef struct tl_rec_query {
    const char *model;          /* the served model to ask (NULL: the main one; "popular": the
                                   popular items, not personal, unless a model has that name) */
    tl_rec_context context;     /* for a patron's history (all zero: none) */
    const char *user;           /* a patron id; or NULL and: */
    const char *const *history; /* an ad-hoc history of item ids (unknown ids are skipped) */
    int n_history;              /*   (0..TL_REC_MAX_HISTORY) */
    const char *similar_to;     /* or an item id: the items most like it ("more like this") */
    int n;                      /* how many items, 1..TL_REC_MAX_N */
    const char *const *filters; /* "key=value" as `tailor recommend --filter` (type=, format=,
                                   language=, subject=, year=, available); the same key again
                                   means either, different keys must all hold */
    int n_filters;
    int explain;      /* fill each item's evidence */
    tl_rerank rerank; /* re-ranking of the list (all zero: none); n <= TL_RERANK_MAX_N */
    int ignore_shelf; /* 1: rank as the model does, without preferring copies on the shelf at
                         the request's branch (see TL_SHELF_BOOST) */
    int impression;   /* 1: log what the answer shows (tl_service_opts.impressions) */
} tl_rec_query;

typedef struct tl_rec_evidence {
    const char *item, *title; /* title may be NULL */
    float weight;
} tl_rec_evidence;

/* Branch-aware availability: the branch of a request is its context's branch (the patron is
 * there), else the patron's home branch (the "home_branch", else "branch" attribute of their
 * record). Among a list's candidates, an item with a copy on the shelf at that branch counts
 * its score TL_SHELF_BOOST times more (plus that share of its absolute value), so that it
 * passes items the model scored up to 10% higher that would have to be fetched or reserved;
 * the model's scores are kept in the answer. tl_rec_query.ignore_shelf turns it off. */
#define TL_SHELF_BOOST 0.1f
#define TL_BRANCH_MAX 63

typedef struct tl_rec_item {
    const char *item;  /* id */
    const char *title; /* NULL when the model has no catalogue title */
    float score;       /* the model's score; for popular items the number of patrons */
    const char *kind;  /* the kind of reason: "history" (patrons with these items also had
                          it), "next_after" (sequence), "similar_content" (content),
                          "similar_to" (more like this), "popular"; on the homepage also
                          "next_in_series", "new_in_subjects", "from_lists",
                          "readers_like_you", "segment", "trending" */
    char reason[256];  /* one line a patron can read: "Because you borrowed X", "Popular with
                          patrons: ..." */
    int n_evidence;
    tl_rec_evidence evidence[TL_REC_MAX_EVIDENCE];
    /* The item's copies on the shelf (the store's holdings), for the request's branch: known 0
     * when the item has no holdings (an ebook, an event) or the service no store */
    struct {
        int known;
        char branch[TL_BRANCH_MAX + 1]; /* the branch counted for ("" when none is known) */
        int on_shelf_here, on_shelf_elsewhere;
    } availability;
} tl_rec_item;

typedef struct tl_rec_result {
    const char *model;    /* the name of the model that answered, as model= names it (the main
                             model: its kind, "ials"; "popular" for model=popular) */
    const char *fallback; /* NULL, or why the patron got the popular items instead ("no usable
                             history for this patron", "this patron opted out of
                             personalization", ...) */
    int n;                /* items[0..n): best first; 0 when the filters leave nothing new */
    tl_rec_item *items;
    int32_t history;     /* the number of history items the model scored */
    int32_t live_events; /* of those, how many came from the store rather than the model file */
    char impression_id[TL_IMPRESSION_ID_MAX]; /* "" unless logged (tl_rec_query.impression) */
    void *priv_; /* the model reference and buffers: tl_rec_result_free */
} tl_rec_result;

/* Library events (items of type "event") are left out of every answer once over (their end,
 * else their start, before the context's time, else now): see upcoming.c. */
/* Recommendations for q (exactly one of user, history, similar_to). Strings in *out stay valid
 * until tl_rec_result_free. Errors: TL_EINVAL (bad n, filters, or not exactly one subject; d
 * names the field), TL_ENOTFOUND (an unknown patron: one the model never saw and the store does
 * not know; an unknown similar_to item; a filter that matches no item of the catalogue; d says
 * which), TL_ESTORE, TL_ENOMEM. *out needs tl_rec_result_free after TL_OK only. */
TL_API tl_err tl_service_recommend(tl_service *s, const tl_rec_query *q, tl_rec_result *out,
                                   tl_diag *d);
TL_API void tl_rec_result_free(tl_rec_result *r);

/* ---- the homepage: rows of recommendations, each titled with its reason ----------------------
 * Rows, in this order, each only when it has items: "exams" ("For your exams: NAME", during
 * an exam period of tl_service_opts.calendar: the model's items in the subjects of the
 * patron's recent loans), "for_you" ("Recommended for you"),
 * "events" ("Upcoming events for you": library events not over yet that the model finds),
 * "season" ("Borrowed at this time of year": in the subjects past loans show in season in the
 * request's week),
 * "because:ITEM" ("Because you borrowed TITLE", for the patron's most recent items),
 * "next_in_series" ("Next in the series": the next volume of a series the patron reads, from
 * titles such as "Catching Fire (The Hunger Games, #2)"), "new_in_subjects" (the newest
 * additions to the catalogue in the subjects of the patron's history), "from_lists:ITEM" ("From
 * lists with TITLE": the items that share the most public reading lists with one of the
 * patron's recent items), "readers_like_you" ("Readers like you": what the patrons whose
 * trained histories overlap the patron's most borrowed, each item held by at least two of
 * them), "segment" ("Popular in
 * your department": the items held by the most patrons who share the patron's value of the
 * service's segment attribute), "trending" ("Trending this week": the most events in the
 * store's last 7 days) and "popular" ("Popular with patrons", live). No item appears twice on a
 * page, nor anything the patron has. A patron without a usable history gets the rows that are
 * not personal (an opted-out patron no group row either), and fallback says why. */
#define TL_HOME_MAX_ROWS 8
#define TL_HOME_MAX_N 100 /* items per row */

typedef struct tl_home_row {
    char id[96];     /* "for_you", "because:ITEM", ... (ITEM cut to fit) */
    char title[300]; /* for people */
    int n;
    tl_rec_item *items;
    /* the group behind a "segment" row (the attribute and the patron's value), else "" */
    char segment_attr[TL_SEGMENT_ATTR_MAX + 1], segment_value[256];
    const char *policy; /* what placed the row there: "fixed" or "bandit" */
    double propensity;  /* the probability with which it chose this row for this place */
} tl_home_row;

typedef struct tl_home {
    const char *model, *fallback;
    char impression_id[TL_IMPRESSION_ID_MAX]; /* "" unless logged */
    int n_rows;
    tl_home_row rows[TL_HOME_MAX_ROWS];
    void *priv_;
} tl_home;

typedef struct tl_home_query {
    const char *user; /* the patron */
    int rows, n; /* up to rows rows (1..TL_HOME_MAX_ROWS) of up to n items (1..TL_HOME_MAX_N) */
    const char *model;      /* as tl_rec_query's */
    tl_rec_context context; /* ditto */
    int impression;         /* 1: log what the page shows (tl_service_opts.impressions) */
} tl_home_query;

/* The patron's homepage. Errors as tl_service_recommend. *out needs tl_home_free after TL_OK
 * only. */
TL_API tl_err tl_service_homepage(tl_service *s, const tl_home_query *q, tl_home *out, tl_diag *d);
TL_API void tl_home_free(tl_home *h);

/* Every patron of the model, in the model's order, in batches: fn gets one patron's top n
 * (item ids and scores, best first; fallback as in tl_rec_result). Without evidence, from the
 * histories in the model file; re-ranked as tl_service_recommend re-ranks (rerank NULL or all
 * zero: not). A non-TL_OK return of fn stops and is returned. */
typedef tl_err (*tl_rec_row_fn)(void *ctx, const char *user, const char *const *items,
                                const float *scores, int n, const char *fallback);
TL_API tl_err tl_service_recommend_all(tl_service *s, int n, const char *const *filters,
                                       int n_filters, const tl_rerank *rerank, tl_rec_row_fn fn,
                                       void *ctx, tl_diag *d);

/* Writes events, all or none, in one transaction; TL_OK only when they are committed (durable
 * against a crash of the process). The events of a patron who opted out of personalization
 * are not kept: they count in the live popularity (an aggregate) only. An event without a timestamp
 * (ts 0) happened now. A bad event (empty or over-long ids, a type that is not a name, a value or
 * timestamp out of range) fails with TL_EINVAL, *bad (when not NULL) = its index and d naming the
 * field; nothing of the batch is written then. Needs a writable store: TL_EUNSUPPORTED otherwise.
 */
TL_API tl_err tl_service_add_events(tl_service *s, const tl_event_rec *ev, size_t n, size_t *bad,
                                    tl_diag *d);

/* ---- idempotent writes ------------------------------------------------------------------------
 * A write made with a client's Idempotency-Key happens at most once: the key, a hash of the
 * request and the answer are stored in the write's own transaction (a crash keeps both or
 * neither); a retry with the same key and the same request within TL_IDEM_TTL writes nothing
 * and gets the first answer back; the same key with another request is TL_EEXIST. Keys are
 * kept apart by scope (the caller's API key id), so two callers never see each other's. Only
 * writes that succeeded are kept: a refused request may be sent again with its key. */
#define TL_IDEM_KEY_MAX 255        /* bytes of a key: printable ASCII, no spaces at the ends */
#define TL_IDEM_TTL (24 * 60 * 60) /* seconds a key is remembered */

typedef struct tl_idem {
    const char *scope;   /* whose key: an API key's id, or NULL / "" without authentication */
    const char *key;     /* the client's Idempotency-Key */
    const char *route;   /* what the request does ("POST /v1/events"): part of the hash */
    const void *request; /* ... and its body */
    size_t request_len;
    int status;        /* the answer to keep when the write succeeds: its status */
    const char *reply; /* ... and its body */
} tl_idem;

typedef struct tl_idem_replay {
    int replayed; /* 1: the key was used before with the same request, nothing was written, and
                     status and body are the first answer */
    int status;
    char *body; /* malloc'd when replayed (the caller frees), else NULL */
} tl_idem_replay;

/* tl_service_add_events with an idempotency key k (NULL: none, out untouched). Errors as
 * tl_service_add_events, and TL_EINVAL (a malformed key: d's field "Idempotency-Key"),
 * TL_EEXIST (the key came with another request: the same field). */
TL_API tl_err tl_service_add_events_idem(tl_service *s, const tl_idem *k, const tl_event_rec *ev,
                                         size_t n, size_t *bad, tl_diag *d, tl_idem_replay *out);

/* ---- the catalogue and patrons' records ------------------------------------------------------
 * Items and users (patrons) written and read one by one or in batches (the HTTP API's
 * /v1/items and /v1/users). A record comes as the text of one JSON object, read exactly as a
 * line of `tailor import items|users` JSON Lines (tl_ingest_json: the same names, aliases and
 * checks; keys it does not know go into extra / attrs). A batch is written all or none, in one
 * transaction on the store, durable when the call returns.
 * The store has the records at once (reads, events naming them, a patron's consent); the
 * model learns new items and changed catalogue fields at its next training. Deleting a record
 * deletes its events in the same transaction. */
typedef enum tl_record_kind { TL_RECORD_ITEM, TL_RECORD_USER } tl_record_kind;

typedef enum tl_record_how {
    TL_RECORD_CREATE,  /* new records only: an id that exists is TL_EEXIST */
    TL_RECORD_REPLACE, /* whole records: a field not given is cleared (new ids are made) */
    TL_RECORD_MERGE,   /* the given fields of an existing record (the others, an item's type
                          included, keep their values): TL_ENOTFOUND when there is none */
    TL_RECORD_UPSERT,  /* as `tailor import`: given fields written, others kept, new ids made
                          (an item without a type is a book) */
} tl_record_how;

typedef struct tl_record_report {
    long long added, updated, unchanged;
} tl_record_report;

/* Writes json[0..n) (json[k] of len[k] bytes) as how says, all or none. id (NULL: none) is the
 * id every record must have: the record's own id must be absent or equal to it (the id of a
 * path). Errors: TL_EPARSE / TL_EINVAL (a bad record: *bad its index, d's field the key),
 * TL_EEXIST, TL_ENOTFOUND (d's field "id"), TL_EUNSUPPORTED (no writable store), TL_ESTORE,
 * TL_ENOMEM. rep (may be NULL) counts what happened. */
TL_API tl_err tl_service_put_records(tl_service *s, tl_record_kind kind, tl_record_how how,
                                     const char *const *json, const size_t *len, size_t n,
                                     const char *id, tl_record_report *rep, size_t *bad,
                                     tl_diag *d);

/* The stored record id: fn once, with strings valid during the call. TL_ENOTFOUND (d's field
 * "item" or "user") when there is none; TL_EUNSUPPORTED without a store. */
typedef tl_err (*tl_item_fn)(void *ctx, const tl_item_rec *r);
typedef tl_err (*tl_user_fn)(void *ctx, const tl_user_rec *r);
TL_API tl_err tl_service_get_item(tl_service *s, const char *id, tl_item_fn fn, void *ctx,
                                  tl_diag *d);
TL_API tl_err tl_service_get_user(tl_service *s, const char *id, tl_user_fn fn, void *ctx,
                                  tl_diag *d);
/* The stored item id's catalogue details (dfn once, when it has them) and copies (hfn per
 * copy, in copy id order; for a library of a consortium, its own branches' copies only), as a
 * MARC import wrote them. TL_OK also when it has neither (or the
 * item does not exist: ask tl_service_get_item); TL_EVERSION for a store before schema 5. */
typedef tl_err (*tl_details_fn)(void *ctx, const tl_item_details *d);
typedef tl_err (*tl_holding_fn)(void *ctx, const tl_holding_rec *h);
TL_API tl_err tl_service_item_catalogue(tl_service *s, const char *id, tl_details_fn dfn,
                                        tl_holding_fn hfn, void *ctx, tl_diag *d);

/* Up to limit patrons of the store, those with the most events first (a demo's list to choose
 * a patron from): fn once each, with the patron's id and number of events. In a pseudonymized
 * store the ids are hashes nobody can sign in as, so none is listed and *pseudonymized = 1.
 * When the thread acts for a tenant: its patrons only (found among the 20 x limit busiest of
 * the consortium), by the ids it names them by.
 * TL_EUNSUPPORTED without a store. */
typedef tl_err (*tl_patron_fn)(void *ctx, const char *user, long long events);
TL_API tl_err tl_service_list_patrons(tl_service *s, int limit, tl_patron_fn fn, void *ctx,
                                      int *pseudonymized, tl_diag *d);

/* Deletes the record id and its events in one transaction (an item also leaves searches'
 * clicks); *events (may be NULL) = the events deleted. A deleted item leaves every answer of
 * every service on the store from the next request on (the models keep it until their next
 * training). A user is erased: tl_service_user_erase, its audit entry's actor unknown.
 * TL_ENOTFOUND when there is none. */
TL_API tl_err tl_service_delete_record(tl_service *s, tl_record_kind kind, const char *id,
                                       long long *events, tl_diag *d);

/* ---- a patron's rights, and the audit log ------------------------------------------------------
 * actor: who asks, for the audit log ("key:ID" for an API key, "cli:USER" for the command line).
 * Each call below is one transaction with its audit entry. Needs a writable store. */

/* Everything the store holds about the patron, as one JSON object (malloc'd text): "user",
 * "profile" (attributes, consent, created), "retention_days", "events" (every field),
 * "searches" (with the items clicked), "consent_history", "exported_at". TL_ENOTFOUND (field
 * "user") when there is no such patron. The access is logged ("export", the patron's id). */
TL_API tl_err tl_service_user_export(tl_service *s, const char *user, const char *actor,
                                     char **json, tl_diag *d);

typedef struct tl_erase_report {
    long long events; /* the patron's events deleted */
    int scrubbed;     /* 1: the write-ahead log was emptied too (0: a reader held it; the next
                         write's checkpoint overwrites it) */
    int retraining;   /* 1: every served model is being trained again without the patron */
} tl_erase_report;

/* Erases the patron: the users row, events, searches, consent history, retention and the
 * patron's own API keys, in one transaction, overwritten in the file (secure_delete) and
 * flushed out of the write-ahead log; the patron's next request is 404 at once, and every
 * served model is trained again from the store (the patron's influence on others' answers
 * lasts until that swap). The audit entry names no patron. TL_ENOTFOUND when there is none. */
TL_API tl_err tl_service_user_erase(tl_service *s, const char *user, const char *actor,
                                    tl_erase_report *out, tl_diag *d);

/* Sets the patron's consent: personalize 1/0 (-1: unchanged) and retention_days (0: no events
 * kept beyond aggregates, > 0: that many days, -1: no window; TL_ABSENT: unchanged). Applies to
 * the next request at once; the history of changes is kept and exported. */
TL_API tl_err tl_service_consent_set(tl_service *s, const char *user, int personalize,
                                     long long retention_days, const char *actor, tl_diag *d);

/* Deletes the events past each patron's retention window, and every event of patrons who opted
 * out of personalization; *removed = how many (logged as "retention"). */
TL_API tl_err tl_service_retention_run(tl_service *s, const char *actor, long long *removed,
                                       tl_diag *d);

typedef struct tl_audit_check {
    long long entries;   /* read */
    long long broken_at; /* the first entry whose hash or place does not follow from the one
                            before it (an edit, an insertion, a removal), 0 = the chain holds */
} tl_audit_check;

/* Walks the audit log and recomputes its chain. */
TL_API tl_err tl_service_audit_verify(tl_service *s, tl_audit_check *out, tl_diag *d);
typedef struct tl_audit_entry {
    long long seq, ts; /* 1, 2, ...; Unix seconds */
    const char *actor, *action;
    const char *target, *detail; /* NULL: none */
    char hash[65];               /* this entry's hash, hex */
} tl_audit_entry;
typedef tl_err (*tl_audit_fn)(void *ctx, const tl_audit_entry *e);
/* Every entry, oldest first (strings valid during the call). */
TL_API tl_err tl_service_audit_each(tl_service *s, tl_audit_fn fn, void *ctx, tl_diag *d);

/* ---- API keys ---------------------------------------------------------------------------------
 * A key is "tl_" + its public id (8 characters of lower-case base32, so never a leading '-')
 * + "_" + a secret (32 random bytes: 43 characters of URL-safe base64). The store keeps the id
 * and a BLAKE2b-256 hash of the whole key, never the key: it is shown once, when it is made.
 * Roles: admin (everything), app (a library's application: reads every patron, writes events,
 * no catalogue changes, no training, no keys), patron (one patron's own data). */
typedef enum tl_key_role { TL_ROLE_ADMIN, TL_ROLE_APP, TL_ROLE_PATRON } tl_key_role;

#define TL_KEY_LEN 55         /* characters of a key (without the terminating NUL) */
#define TL_KEY_PATRON_MAX 512 /* the longest patron id of a patron key, bytes */
#define TL_TENANT_ID_MAX 32   /* the longest tenant id, bytes (as tailor/store.h) */

/* "admin", "app", "patron"; parse: TL_EINVAL for anything else. */
TL_API const char *tl_key_role_name(tl_key_role r);
TL_API tl_err tl_key_role_parse(const char *name, tl_key_role *out);

/* Makes a key for role (a patron key needs user, the patron's id; others ignore it) with an
 * optional label and writes it into key_out (len >= TL_KEY_LEN + 1); actor's creation of it is
 * in the audit log (its id and role, never the key). Needs a writable store. Errors: TL_EINVAL
 * (no user for a patron key, a short buffer), TL_EUNSUPPORTED (no store, or a read-only one),
 * TL_ESTORE; d says why. */
TL_API tl_err tl_service_key_create(tl_service *s, tl_key_role role, const char *user,
                                    const char *label, const char *actor, char *key_out, size_t len,
                                    tl_diag *d);

/* The same for a key that acts for the tenant (NULL or "": the consortium's own key; else a
 * tenant of tailor tenant add, TL_EINVAL when there is none): its patron is that tenant's
 * patron user, and its requests only ever reach that tenant's patrons (docs/SCALE.md). When the
 * thread acts for a tenant (tl_service_act_for), keys are made for it (another tenant:
 * TL_EINVAL), listed and revoked only of it (another's: TL_ENOTFOUND). */
TL_API tl_err tl_service_key_create_for(tl_service *s, tl_key_role role, const char *user,
                                        const char *label, const char *tenant, const char *actor,
                                        char *key_out, size_t len, tl_diag *d);

typedef struct tl_key_entry {
    const char *id; /* the public id (the key's characters 4 to 11) */
    tl_key_role role;
    const char *user, *label; /* NULL when none */
    int64_t created, revoked; /* Unix seconds; revoked 0 = in force */
    const char *tenant;       /* NULL: the consortium's own key */
} tl_key_entry;
typedef tl_err (*tl_key_fn)(void *ctx, const tl_key_entry *k);
/* fn once per key, oldest first (never a secret or a hash). */
TL_API tl_err tl_service_key_list(tl_service *s, tl_key_fn fn, void *ctx, tl_diag *d);
/* Revokes the key id: requests with it are refused within about a second, in every server on
 * the store. TL_ENOTFOUND: no such key. Needs a writable store. */
TL_API tl_err tl_service_key_revoke(tl_service *s, const char *id, const char *actor, tl_diag *d);

typedef struct tl_key_info {
    char id[16];
    tl_key_role role;
    char user[TL_KEY_PATRON_MAX + 1];  /* the patron of a patron key (as the store keeps it: a
                                          pseudonym with a pseudonym key), else "" */
    const uint8_t *pseudonym_key;      /* the service's, or NULL: what user is hashed with */
    char tenant[TL_TENANT_ID_MAX + 1]; /* the library the key acts for; "" for the consortium's */
} tl_key_info;

/* Checks the key of a request (the text after "Bearer "). TL_OK: *out says whose it is. A key
 * that is malformed, unknown, wrong or revoked is TL_ENOTFOUND, all alike; TL_EUNSUPPORTED: no
 * store; TL_ESTORE, TL_EVERSION (a store from before API keys), TL_ENOMEM. Lookups are cached
 * for at most a second. */
TL_API tl_err tl_service_authenticate(tl_service *s, const char *bearer, tl_key_info *out);

typedef enum tl_key_action {
    TL_KEY_READ_USER,      /* a patron's recommendations, homepage; the catalogue, models */
    TL_KEY_WRITE_EVENTS,   /* events of user */
    TL_KEY_CATALOGUE,      /* change the catalogue: items and patrons' records */
    TL_KEY_TRAIN,          /* start a training */
    TL_KEY_MANAGE_KEYS,    /* make, list, revoke keys */
    TL_KEY_OWN_DATA,       /* a patron's rights over their data: export, erase, consent (admin,
                              or that patron's own key; not an app's) */
    TL_KEY_PATRON_RECORDS, /* create and change patrons' records (admin, a tenant's too) */
    TL_KEY_OWN_KEYS,       /* make, list, revoke keys: an admin, a tenant's of its tenant's keys
                              (the service keeps to the thread's tenant) */
} tl_key_action;

/* A tenant's key (tl_key_info.tenant) may do what its role allows, about its own tenant's
 * patrons only (a tenant's admin: its tenant's keys too); never change the shared catalogue,
 * train, or read consortium-wide listings (audit, analytics, impressions, experiments). */

/* 1 when the key k may do action (for user, where the action is about one patron; NULL =
 * not about one patron, which a patron key may not do), else 0. */
TL_API int tl_key_allows(const tl_key_info *k, tl_key_action action, const char *user);

/* ---- consortium tenancy (src/service/tenants.c; docs/SCALE.md "Consortium tenancy") ---------
 * The calling thread's requests act for k's tenant (k NULL, or a consortium key: none) until the
 * next call: every patron id they name is that tenant's (the store's door), and a tenant with
 * branches gets recommendations and homepage rows of the items it holds. The server calls it
 * around each request; a CLI command may call it once. */
TL_API void tl_service_act_for(const tl_key_info *k);
/* A consortium admin or app key k acting for one tenant (the server's X-Tailor-Tenant): k becomes
 * that tenant's key for this request. TL_EINVAL: not a tenant id's shape; TL_ENOTFOUND: no such
 * tenant; TL_EUNSUPPORTED: a patron key, a key of another tenant, or no store; d says why. */
TL_API tl_err tl_service_key_for_tenant(tl_service *s, tl_key_info *k, const char *tenant,
                                        tl_diag *d);
/* The same by tenant id (NULL: none). TL_EINVAL for an id that is not a tenant id's shape. */
TL_API tl_err tl_service_act_for_tenant(const char *tenant);

typedef struct tl_tenant {
    const char *id, *name;
    int64_t created;
    const char *const *branches;
    int n_branches;
} tl_tenant;
/* Adds the tenant t or replaces its name and branches (a branch belongs to one tenant), in the
 * audit log as actor's. t->branches NULL: a tenant that exists keeps its branches (a new one
 * has none); non-NULL with n_branches 0: none (it sees the whole catalogue). Needs a writable
 * store. TL_EINVAL (a bad id, name or branch), TL_EEXIST (a branch of another tenant), TL_EVERSION
 * (a store before schema 11 opened read-only). */
TL_API tl_err tl_service_tenant_put(tl_service *s, const tl_tenant *t, const char *actor,
                                    tl_diag *d);
typedef tl_err (*tl_tenant_fn)(void *ctx, const tl_tenant *t);
/* fn once per tenant, by id. */
TL_API tl_err tl_service_tenants(tl_service *s, tl_tenant_fn fn, void *ctx, tl_diag *d);

/* ---- collection analytics (src/service/analytics.c; docs/ANALYTICS.md) --------------------
 * A report for librarians: demand by subject against the copies held, hold queues, idle items,
 * searches that found little, uptake of new arrivals. The period ends at the store's newest
 * event (so a copy of a store reports the same whenever it is run) and starts months before it
 * or at since. Any group (a subject, an item's queue, a query) whose count rests on fewer than
 * min_group distinct patrons (but more than none) is shown as suppressed, without its counts,
 * and counted in its section's "suppressed"; a query so suppressed is not shown at all. */
typedef struct tl_analytics_opts {
    const char *section; /* NULL or "": every section; else one of tl_analytics_sections */
    int months;          /* the period: this many months (1/12 of a year each) up to the newest
                            event, 1..TL_ANALYTICS_MAX_MONTHS */
    int64_t since;       /* > 0: the period starts then instead (Unix seconds) */
    const char *branch;  /* NULL: every branch; else events made and copies held there */
    int min_group;       /* k; a smaller one than the service's is raised to the service's */
    int limit;           /* rows of the lists (hold queues, idle items, searches), 1..10000 */
    int new_days;        /* new arrivals: added in the last N days, 1..3650 */
    int few;             /* a search with at most this many results found few, 0..1000000 */
} tl_analytics_opts;

#define TL_ANALYTICS_MAX_MONTHS 1200
TL_API extern const char *const tl_analytics_sections[]; /* NULL-terminated */

/* months 12, limit 20, new_days 90, few 2, the rest 0 / NULL. */
TL_API void tl_analytics_opts_init(tl_analytics_opts *o);
/* The report as one JSON object (malloc'd text; docs/ANALYTICS.md has its shape). Errors:
 * TL_EINVAL (an option out of range or an unknown section: d's field names it), TL_EUNSUPPORTED
 * (no store), TL_EVERSION (a store before version 5), TL_ESTORE, TL_ENOMEM. */
TL_API tl_err tl_service_analytics(tl_service *s, const tl_analytics_opts *o, char **json,
                                   tl_diag *d);
/* ---- catalogue search -----------------------------------------------------------------------
 * Full-text search of the store's catalogue (BM25 over title, creators, subjects, series,
 * contents and summary, stemmed), re-ranked for a patron: the best TL_SEARCH_CANDIDATES by text
 * are ordered again by (1 - w) * text + w * the model's score for the patron, each normalized
 * over the candidates (w = 0 for anonymous and opted-out patrons, and without a model). The
 * patron's words are always terms: "a phrase" in double quotes, word* a prefix; the index's
 * own syntax (AND, OR, NOT, NEAR, column:, ^) is never passed through. All the words must
 * match; when that finds nothing, any of them does (match "any"). */
#define TL_SEARCH_MAX_N 1000
#define TL_SEARCH_MAX_Q 4096     /* bytes of a query */
#define TL_SEARCH_MAX_TERMS 32   /* words and phrases of a query used; more are left out */
#define TL_SEARCH_CANDIDATES 100 /* re-ranked for the patron */
#define TL_SEARCH_WEIGHT 0.3     /* the personal weight when the service's setting is not given */
#define TL_SEARCH_MAX_FACETS 8
#define TL_SEARCH_CACHE 1024 /* answers kept by default (tl_service_opts.search_cache) */

typedef struct tl_search_query {
    const char *q;              /* the patron's text (UTF-8; invalid bytes count as spaces) */
    const char *user;           /* the patron, or NULL (anonymous) */
    int n;                      /* items, 1..TL_SEARCH_MAX_N */
    const char *const *filters; /* "key=value": type=, format=, language=, subject=, year=A[-B],
                                   branch=, available; the same key again means either */
    int n_filters;
    double weight;      /* the personal weight 0..1; < 0: the service's (search_weight) */
    int facets;         /* count facets over the whole match set */
    int log;            /* keep the search and its total in the store (a writable service) */
    long long time;     /* when it was made (Unix seconds; 0 = now), for the record */
    int impression;     /* 1: log what the answer shows (tl_service_opts.impressions) */
    const char *device; /* the request's device, for the impression's context (may be NULL) */
} tl_search_query;

typedef struct tl_search_hit {
    const char *item, *title; /* title may be NULL */
    double score;             /* the blend: 0..1, higher first */
    double text, personal;    /* its parts, each normalized 0..1 over the candidates */
    int text_rank;            /* its place by text alone (0 = first) */
    char reason[256];         /* "" unless the patron's profile moved it up: "Close to what you
                                 borrowed: TITLE" */
} tl_search_hit;

typedef struct tl_search_facet {
    const char *name; /* "type", "format", "language", "year", "subject", "branch",
                         "availability" */
    int n;
    const char **values;
    long long *counts;
} tl_search_facet;

typedef struct tl_search_result {
    long long total; /* the items that match (filters applied) */
    int n;
    tl_search_hit *items;
    int n_facets;
    tl_search_facet facets[TL_SEARCH_MAX_FACETS];
    const char *match;    /* "all" or "any" (see above); "none" when the text has no word */
    double weight;        /* the personal weight applied */
    const char *personal; /* NULL when personalized, else why not ("anonymous", ...) */
    char impression_id[TL_IMPRESSION_ID_MAX]; /* "" unless logged */
    long long facets_scanned; /* 0: the facets count the whole match set; else how many
                                 matches they count: the first TL_SEARCH_FACET_SCAN in the
                                 catalogue's order, or for one common word the best
                                 TL_SEARCH_HEADS_N by text (facets_best) */
    int facets_best;          /* 1: facets_scanned counts the best matches by text */
    int from_heads;           /* 1: ranked from the index's heads (tailor/store.h) */
    int total_estimated;      /* 1: total is an estimate (filters on one common word: its count
                                 in the proportion of its heads that pass them) */
    void *priv_;
} tl_search_result;

/* Searches the catalogue for q. Strings in *out stay valid until tl_search_result_free.
 * Errors: TL_EINVAL (q->q missing or over TL_SEARCH_MAX_Q bytes, bad n, weight or filters: d
 * names the field), TL_EUNSUPPORTED (no store), TL_EVERSION (a store before the index),
 * TL_ESTORE, TL_ENOMEM. A patron the store does not know is searched for as anonymous. */
TL_API tl_err tl_service_search(tl_service *s, const tl_search_query *q, tl_search_result *out,
                                tl_diag *d);
TL_API void tl_search_result_free(tl_search_result *r);
/* Builds the catalogue's index again whole, for languages (comma-separated Snowball names;
 * NULL: the store's). Needs a writable service. */
TL_API tl_err tl_service_search_reindex(tl_service *s, const char *languages, double *seconds,
                                        tl_diag *d);
/* ---- new-arrival alerts and newsletters --------------------------------------------------------
 * Patrons opt in with an address (tl_service_subscription_set); a digest lists, for each patron
 * with alerts on, the items added to the catalogue in a window that match their interests
 * (content similarity of titles, creators and subjects with what they borrowed, else a shared
 * subject: items nobody has borrowed yet have no loans for the other models to go by), each
 * with its reason, and the library events that start soon. A patron who opted out of
 * personalization, or has no history, gets the newest arrivals, not chosen for them. */
#define TL_DIGEST_MAX_N 50 /* items per patron */
#define TL_EMAIL_MAX 254   /* bytes of an address */
#define TL_DIGEST_REASON 320

/* Sets the patron's subscription: alerts 1/0 (-1: unchanged), email (NULL: unchanged, "":
 * removed; else one address local@domain, printable ASCII, no spaces or angle brackets:
 * TL_EINVAL, field "email"). Audited ("subscription", detail without the address). TL_ENOTFOUND
 * (field "user") when there is no such patron. */
TL_API tl_err tl_service_subscription_set(tl_service *s, const char *user, int alerts,
                                          const char *email, const char *actor, tl_diag *d);
/* The unsubscribe link's check: sig (hex) must be the store's MAC of user (the id as the store
 * keeps it, as the link carries it); then the patron's alerts are turned off (audited as
 * "unsubscribe" by "link"). TL_EINVAL (field "sig"): a signature that does not verify;
 * TL_ENOTFOUND: no such patron. *changed = 0 when alerts were off already. */
TL_API tl_err tl_service_unsubscribe(tl_service *s, const char *user, const char *sig, int *changed,
                                     tl_diag *d);

typedef struct tl_digest_item {
    const char *id, *title, *creators; /* NULL: unknown */
    const char *cover;                 /* item_details.cover (a URL), NULL: none */
    const char *kind; /* "similar" (content), "subject", "new" (not personal), "event" */
    char reason[TL_DIGEST_REASON];
    int64_t added;     /* Unix seconds */
    int64_t starts;    /* an event's start, else 0 */
    const char *place; /* an event's place, NULL: none */
    float score;
} tl_digest_item;

typedef struct tl_digest_msg {
    const char *user;  /* as the store keeps it (a pseudonym with a pseudonym key) */
    const char *email; /* NULL in a preview of a patron without a subscription */
    int personal;      /* 0: the newest arrivals, not chosen for the patron */
    const tl_digest_item *items;
    int n_items;
    const tl_digest_item *events; /* upcoming library events */
    int n_events;
    const char *unsubscribe; /* the signed link */
    int64_t since, now;
} tl_digest_msg;

typedef struct tl_digest_query {
    int64_t since, now; /* items added in [since, now]; events starting in [now, now + (now -
                           since)); now 0: the clock */
    const char *user;   /* NULL: every patron with alerts on; else this patron alone (a preview:
                           subscribed or not) */
    int n;              /* items per patron, 1..TL_DIGEST_MAX_N (0: 10) */
    const char *unsubscribe_url; /* the unsubscribe route as patrons reach it (NULL:
                                    http://127.0.0.1:8080/v1/unsubscribe) */
} tl_digest_query;

typedef struct tl_digest_report {
    long long patrons;           /* with alerts on (or the one asked for) */
    long long sent;              /* messages handed to fn (written, sent) */
    long long empty;             /* nothing new for them: no message */
    long long failed;            /* fn failed for them (see tl_digest_out.failures) */
    long long new_items, events; /* in the window */
    double seconds;
} tl_digest_report;

/* fn gets each patron's digest (valid during the call), in the store's patron order; a
 * non-TL_OK return of fn counts the patron as failed and goes on to the next. Needs a store
 * (TL_EUNSUPPORTED); TL_EINVAL for a bad window or n; TL_ENOTFOUND for an unknown q->user. */
typedef tl_err (*tl_digest_fn)(void *ctx, const tl_digest_msg *m, tl_diag *d);
TL_API tl_err tl_service_digest(tl_service *s, const tl_digest_query *q, tl_digest_fn fn, void *ctx,
                                tl_digest_report *rep, tl_diag *d);

/* A time for a digest: "7d" / "12h" (that long before now), "YYYY-MM-DD" (midnight UTC),
 * "YYYY-MM-DDTHH:MM[:SS]Z" or Unix seconds. TL_EINVAL (d's field: what) otherwise. */
TL_API tl_err tl_digest_parse_time(const char *text, int64_t now, const char *what, int64_t *out,
                                   tl_diag *d);

/* A digest rendered: "eml" (the whole message: RFC 5322 headers, multipart/alternative with
 * text/plain and text/html in UTF-8, quoted-printable, CRLF line ends), "text" or "html" (the
 * body alone). from: the From header ("Library <news@example.org>"). *out malloc'd. */
TL_API tl_err tl_digest_render(const tl_digest_msg *m, const char *format, const char *from,
                               char **out, size_t *len, tl_diag *d);

/* Where digests go: one file per patron in dir (DIR/<patron>.eml, written whole under a
 * temporary name and renamed), or to an SMTP server through libcurl: smtp_url
 * ("smtp://host:port", "smtps://host"), starttls (1: require STARTTLS on smtp://), user and
 * password (NULL: no authentication). failures: a malloc'd text, one line per patron whose
 * message failed ("PATRON <EMAIL>: why"), NULL when none (the caller frees). */
typedef struct tl_digest_out {
    const char *dir;
    const char *smtp_url;
    int starttls;
    const char *user, *password;
    const char *from; /* NULL: "Tailor <tailor@localhost>" */
    char *failures;
} tl_digest_out;

/* tl_service_digest delivered to o. TL_OK when every message went; TL_EIO (d says how many
 * and the first) when any failed; errors of tl_service_digest; TL_EIO for a dir that is not a
 * directory. */
TL_API tl_err tl_service_digest_deliver(tl_service *s, const tl_digest_query *q, tl_digest_out *o,
                                        tl_digest_report *rep, tl_diag *d);

/* The scheduled digest: the items added since the last scheduled run (the store remembers its
 * time, so that a restart neither skips nor repeats a window; the first run: every seconds
 * back) up to now, delivered to o with links to unsubscribe_url (NULL: the default). The run's
 * time is kept when it completed, also when some messages failed (they are in o->failures and
 * the log; the others are not sent twice). Errors as tl_service_digest_deliver. */
#define TL_META_DIGEST_LAST "digest_last_run"
TL_API tl_err tl_service_digest_scheduled(tl_service *s, long long every,
                                          const char *unsubscribe_url, tl_digest_out *o,
                                          tl_digest_report *rep, tl_diag *d);
/* ---- reading lists, reviews and ratings -------------------------------------------------------
 * Patrons' lists of items, public or private, and their reviews with ratings. Adding an item to
 * a list is a "list_add" event of the list's owner and a review a "rate" event (value: the
 * rating; "review" without one), written in the same transaction, so that the event weights
 * (tailor stats --weights), training and live answers count them (not for a patron who opted
 * out). Who reads decides what is seen: tl_viewer. Reads answer JSON text (malloc'd, the
 * caller frees) as docs/API.md shows. Writes need a writable store (TL_EUNSUPPORTED); a list,
 * item or review that is not there (or that the viewer may not see) is TL_ENOTFOUND with d's
 * field naming it; bad fields are TL_EINVAL. A patron's lists, reviews and path feedback are in
 * their export and go with their erasure. */
typedef struct tl_viewer {
    tl_key_role role; /* admin: every list and review; app: the public ones, and writes for any
                         patron; patron: the public ones and the patron's own */
    const char *user; /* a patron key's patron as the store keeps it (tl_key_info.user) */
} tl_viewer;

#define TL_LIST_ID_MAX 128
#define TL_LIST_TITLE_MAX 500
#define TL_LIST_TEXT_MAX 20000 /* a description, a note or a review's text, bytes */
#define TL_RATING_MAX 5.0      /* ratings are 0 to this */

typedef struct tl_list_rec {
    const char *id;    /* NULL on create: a fresh id is made */
    const char *user;  /* the owner (create only): a patron id */
    const char *title; /* required */
    const char *description;
    int public;
} tl_list_rec;

/* Creates list l (TL_EEXIST when its id is taken); id_out (TL_LIST_ID_MAX + 1 bytes) gets its
 * id. */
TL_API tl_err tl_service_list_create(tl_service *s, const tl_list_rec *l, char *id_out, tl_diag *d);
/* Sets the title, description and public flag of list id (l's id and user are ignored). */
TL_API tl_err tl_service_list_update(tl_service *s, const char *id, const tl_list_rec *l,
                                     const tl_viewer *v, tl_diag *d);
TL_API tl_err tl_service_list_delete(tl_service *s, const char *id, const tl_viewer *v, tl_diag *d);
/* Adds item to list id with an optional note (again: the note changes, the place stays). */
TL_API tl_err tl_service_list_add(tl_service *s, const char *id, const char *item, const char *note,
                                  const tl_viewer *v, tl_diag *d);
TL_API tl_err tl_service_list_remove(tl_service *s, const char *id, const char *item,
                                     const tl_viewer *v, tl_diag *d);
/* {"id", "user", "title", "description", "public", "created", "updated", "n_items", "items":
 * [{"item", "title", "note", "pos", "added"}]} */
TL_API tl_err tl_service_list_get(tl_service *s, const char *id, const tl_viewer *v, char **json,
                                  tl_diag *d);
/* {"lists": [the same without "items"]}: the lists of patron user (non-NULL), else the public
 * lists holding item, newest first. */
TL_API tl_err tl_service_lists(tl_service *s, const char *user, const char *item,
                               const tl_viewer *v, char **json, tl_diag *d);

typedef struct tl_review_rec {
    const char *user, *item;
    int has_rating;
    double rating;    /* 0..TL_RATING_MAX */
    const char *body; /* NULL: none; a review needs a rating or a body */
    int public;
} tl_review_rec;
TL_API tl_err tl_service_review_put(tl_service *s, const tl_review_rec *r, tl_diag *d);
TL_API tl_err tl_service_review_delete(tl_service *s, const char *user, const char *item,
                                       tl_diag *d);
/* {"reviews": [{"user", "item", "rating", "body", "public", "timestamp"}], "ratings": N,
 * "mean_rating": X|null}: by patron user (non-NULL), else of item. */
TL_API tl_err tl_service_reviews(tl_service *s, const char *user, const char *item,
                                 const tl_viewer *v, char **json, tl_diag *d);

/* ---- adaptive learning paths -----------------------------------------------------------------
 * A path is an ordered list of steps (items) for a topic or course; steps that share a position
 * are alternatives; each may have a level (1 introductory, 2 intermediate, 3 advanced, ...).
 * Librarians define them (tl_service_path_put, or a file: tl_service_path_import); where none
 * exists for a topic, tl_service_path_propose orders the topic's items from what patrons
 * borrowed before what, series order and levels. For a patron, tl_service_path_next says where
 * they are (the furthest position with an item of their history), the next position, its best
 * item and its alternatives, ordered by other patrons' feedback (tl_service_path_feedback),
 * then by the model's score for the patron. Reads answer JSON text (malloc'd) as docs/API.md
 * shows; errors as the lists'. */
#define TL_PATH_MAX_STEPS 10000
#define TL_PATH_LEVEL_MAX 100

typedef struct tl_path_step_rec {
    const char *item;
    long long pos;   /* 1.. */
    long long level; /* TL_ABSENT: none, else 0..TL_PATH_LEVEL_MAX */
} tl_path_step_rec;

typedef struct tl_path_rec {
    const char *id, *title, *topic; /* topic may be NULL */
    const tl_path_step_rec *steps;
    int n_steps; /* 1..TL_PATH_MAX_STEPS, each item once */
} tl_path_rec;

/* Writes path p whole (create: TL_EEXIST when its id is taken; else a path of that id is
 * replaced); *added (may be NULL) = 1 when it is new. */
TL_API tl_err tl_service_path_put(tl_service *s, const tl_path_rec *p, int create, int *added,
                                  tl_diag *d);
/* Imports the paths of a TSV file, all or none: columns path, title, topic, pos, item, level
 * (an optional header line naming them; '#' comments; title and topic on a path's first line,
 * later lines may leave them empty; level empty, a number, or introductory / beginner (1),
 * intermediate (2), advanced (3)). A path in the file replaces the stored one. TL_EPARSE with d
 * naming the file, line and field; TL_ENOTFOUND for an unknown item (its line). *n_paths and
 * *n_steps (may be NULL) count what was written. */
TL_API tl_err tl_service_path_import(tl_service *s, const char *file, int *n_paths, int *n_steps,
                                     tl_diag *d);
/* {"id", "title", "topic", "origin", "created", "n_steps", "steps": [{"item", "title", "pos",
 * "level"}]} */
TL_API tl_err tl_service_path_get(tl_service *s, const char *id, char **json, tl_diag *d);
/* {"paths": [the same without "steps"]}, of topic (NULL: all). */
TL_API tl_err tl_service_paths(tl_service *s, const char *topic, char **json, tl_diag *d);
TL_API tl_err tl_service_path_delete(tl_service *s, const char *id, tl_diag *d);
/* Where patron user stands on path id: {"path", "user", "positions", "position" (0: not
 * started), "complete", "done": [{"pos", "item", "title"}], "next": null | {"pos", "level",
 * "item": C, "alternatives": [C...]}} with C = {"item", "title", "useful", "not_useful",
 * "feedback", "score"}: feedback = (useful - not useful) / (useful + not useful + 2) from the
 * other patrons, score = the model's for the patron (null without a model or a history). */
TL_API tl_err tl_service_path_next(tl_service *s, const char *id, const char *user, char **json,
                                   tl_diag *d);
/* Patron user found step item of path id useful (1) or not (0); again: replaced. */
TL_API tl_err tl_service_path_feedback(tl_service *s, const char *id, const char *item,
                                       const char *user, int useful, tl_diag *d);
/* Proposes a path for topic (a subject) when it has none: up to n (1..TL_PATH_MAX_STEPS) of
 * the topic's items most patrons used, ordered by level (the item's own "level" field, else words
 * in titles and subjects such as "introduction", "beginner", "advanced"), then by the co-use
 * sequence (how many patrons took one before the other), series kept in volume order; stored with
 * origin "proposed" under "proposed-" + the topic (id_out, TL_LIST_ID_MAX + 1 bytes). TL_EEXIST
 * when the topic has a path; TL_ENOTFOUND when no item has the subject. */
TL_API tl_err tl_service_path_propose(tl_service *s, const char *topic, int n, char *id_out,
                                      tl_diag *d);

/* ---- experiments (A/B tests) -----------------------------------------------------------------
 * An experiment splits patrons between arms (a model, its parameters, a re-ranker, a row policy:
 * KEY=VALUE parameters the integration applies) by hashing the patron's id as the store keeps it
 * (its pseudonym with a key) with the experiment's salt: the same patron always lands in the same
 * arm, and nothing about a patron is stored. Experiments of one layer are mutually exclusive: a
 * patron's hash with the layer's salt falls in at most one experiment's range of it (each takes
 * its traffic share of the layer); an experiment without a layer has one of its own, so
 * independent experiments overlap freely. The report counts, per arm, the patrons active since
 * the start (opted-out patrons are left out), their loans and clicks, tests the primary metric
 * against the first arm (the control) with a fixed-horizon z test and an always-valid mSPRT
 * p-value, and checks the sample ratio (SRM). Errors: TL_EINVAL with d's field for a bad
 * definition; TL_ENOTFOUND for an unknown experiment; TL_EEXIST for a name taken or a full
 * layer. */
#define TL_EXP_NAME_MAX 64
#define TL_EXP_MAX_ARMS 8
#define TL_EXP_PARAMS_MAX 1024 /* bytes of one arm's KEY=VALUE,... */

typedef struct tl_experiment_rec {
    const char *name;        /* [A-Za-z0-9_.-], 1..TL_EXP_NAME_MAX */
    const char *layer;       /* NULL: a layer of its own */
    const char *metric;      /* "loans" (loans per patron) or "clicks" (clicks per patron) */
    const char *const *arms; /* "NAME" or "NAME:KEY=VALUE[,KEY=VALUE...]", 2..TL_EXP_MAX_ARMS */
    int n_arms;
    const double *split; /* n_arms percentages summing to 100; NULL: equal */
    double traffic;      /* the share of the layer's patrons, (0, 1]; 0: 1 */
    const char
        *salt; /* NULL: a random one (the usual); else 1..64 bytes, to repeat an assignment */
} tl_experiment_rec;
TL_API tl_err tl_service_experiment_create(tl_service *s, const tl_experiment_rec *e, tl_diag *d);
/* The arm of each of users[0..n) in experiment name: arms[i] (TL_EXP_NAME_MAX + 1 bytes) is
 * the arm's name, or "" when the patron is outside the experiment (another experiment of its
 * layer has them). A stopped experiment still answers. */
TL_API tl_err tl_service_experiment_assign(tl_service *s, const char *name,
                                           const char *const *users, int n,
                                           char (*arms)[TL_EXP_NAME_MAX + 1], tl_diag *d);
/* {"name", "layer", "metric", "status": "running"|"stopped", "created", "stopped", "days",
 *  "arms": [{"name", "params": {K: V}, "share", "patrons", "loans", "clicks", "loans_per_patron",
 *  "clicks_per_patron"}], "srm": {"p_value", "mismatch"}, "comparisons": [{"arm", "control",
 *  "metric", "control_mean", "mean", "difference", "relative", "ci95": [lo, hi], "p_value",
 *  "always_valid_p_value", "significant"}], "guardrails": {...}, "notes": [text]} */
TL_API tl_err tl_service_experiment_report(tl_service *s, const char *name, char **json,
                                           tl_diag *d);
/* Stops a running experiment (its report ends then); *changed (may be NULL) = 0 when it was
 * stopped already. */
TL_API tl_err tl_service_experiment_stop(tl_service *s, const char *name, int *changed, tl_diag *d);
/* {"experiments": [{"name", "layer", "metric", "status", "created", "stopped", "arms": [{"name",
 * "params", "share"}]}]} */
TL_API tl_err tl_service_experiments(tl_service *s, char **json, tl_diag *d);
/* The arms patron user is in, over the running experiments: {"user", "experiments":
 * [{"experiment", "layer", "arm", "params": {K: V}}]}: what a recommendation or a homepage
 * applies (params) and logs with its impressions (experiment, arm). */
TL_API tl_err tl_service_experiment_arms(tl_service *s, const char *user, char **json, tl_diag *d);
/* ---- impressions (docs/IMPRESSIONS.md) ---------------------------------------------------------
 * The export for analysis: one TSV line per decision (a homepage's place i and the row chosen
 * for it; one per recommendations or search answer), with the header line first, to fn in
 * order. since: Unix seconds (0: all). Needs a store at schema version 9. */
typedef tl_err (*tl_line_fn)(void *ctx, const char *line, size_t len);
TL_API tl_err tl_service_impressions_export(tl_service *s, long long since, tl_line_fn fn,
                                            void *ctx, tl_diag *d);
typedef struct tl_impression_stats {
    long long impressions, anonymous, decisions, items, rewards, rewarded;
    long long by_policy[2];   /* impressions of the homepage by row policy: fixed, bandit */
    long long bandit_updates; /* the row bandit's state version in the store (-1: none) */
} tl_impression_stats;
TL_API tl_err tl_service_impressions_stats(tl_service *s, tl_impression_stats *out, tl_diag *d);
/* Writes the impressions waiting in memory now (they are written in batches in the
 * background) and saves the learners' state. */
TL_API tl_err tl_service_impressions_flush(tl_service *s, tl_diag *d);

#ifdef __cplusplus
}
#endif
#endif
