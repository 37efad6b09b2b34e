/* Synthetic data: a MovieLens-shaped power-law generator for benchmarks, and a simulated
 * academic library (real goodbooks-10k catalogue, synthetic patrons and loans) for the demo.
 * Both are deterministic for a seed. The synth layer sits on core (and ingest, for CSV). */
#ifndef TL_SYNTH_H
#define TL_SYNTH_H

#include <stdint.h>

#include "core/data.h"
#include "tailor/error.h"

/* ---- Power-law interactions ------------------------------------------------------------- */

typedef struct tl_synth_opts {
    int32_t users, items;
    int64_t events;        /* target number of distinct user-item interactions (met exactly) */
    double zipf;           /* item popularity exponent (~1.0 for MovieLens-like) */
    double activity_sigma; /* log-normal sigma of user activity (~1.0) */
    uint64_t seed;
    int no_timestamps; /* 1: tl_synth_powerlaw leaves out->ui.ts NULL (8 bytes per event
                          less; the cells are the same); the file writer ignores it */
} tl_synth_opts;

/* 138,000 users x 27,000 items x 20,000,000 events, zipf 1.0, sigma 1.0, seed 42, with
 * timestamps. */
void tl_synth_opts_ml20m(tl_synth_opts *o);

/* Generates a MovieLens-20M-shaped implicit data set into out (tl_data_init'ed, empty): ids
 * "u<n>" and "i<n>" interned in order (index n), out->ui with weight 1 and Unix timestamps
 * (unless o->no_timestamps), out->iu its transpose (weights only). Exactly o->events distinct
 * cells; user degrees are log-normal (with a floor of min(20, mean/5)), items are drawn by a Zipf
 * law over a seeded random permutation of the ids. Deterministic for o->seed whatever the number of
 * OpenMP threads. Errors: TL_EINVAL for an impossible shape (events > users * items, non-positive
 * sizes, a negative or non-finite exponent), TL_ENOMEM. On error out is left released. */
tl_err tl_synth_powerlaw(const tl_synth_opts *o, tl_data *out);

/* The same data written as interactions.tsv (header `user\titem\tvalue\ttimestamp`, value 1),
 * rows grouped by user; gzip-compressed when path ends in ".gz". Errors: as above, TL_EIO. */
tl_err tl_synth_powerlaw_write(const tl_synth_opts *o, const char *path);

/* ---- Simulated library ------------------------------------------------------------------ */

typedef struct tl_synth_lib_opts {
    const char *books_path;    /* goodbooks-10k books.csv (demo/books.csv) */
    const char *subjects_path; /* book_id<TAB>subjects (demo/subjects.tsv); NULL = none */
    int32_t patrons;           /* default 2000 */
    int32_t days;              /* simulated days from start (default 365: one academic year) */
    int32_t new_arrivals;      /* books added in the last 4 weeks (default 300) */
    int64_t start;             /* Unix seconds of day 0, 00:00 UTC: the first day of the autumn
                                * term (default 2024-08-26, a Monday) */
    uint64_t seed;             /* default 42 */
} tl_synth_lib_opts;

void tl_synth_lib_opts_init(tl_synth_lib_opts *o);

typedef enum tl_synth_ev {
    TL_SYNTH_VIEW,   /* catalogue page view (web, mobile, kiosk) */
    TL_SYNTH_HOLD,   /* hold placed on a book with no copy on the shelf */
    TL_SYNTH_LOAN,   /* checkout (including a hold picked up) */
    TL_SYNTH_RENEW,  /* renewal at the due date */
    TL_SYNTH_RETURN, /* check-in */
    TL_SYNTH_NEV
} tl_synth_ev;

/* The academic calendar of the simulation, by day since start (weeks of 7 days). */
typedef enum tl_synth_phase {
    TL_PHASE_TERM,    /* teaching weeks */
    TL_PHASE_PREEXAM, /* the two weeks before exams: the busiest */
    TL_PHASE_EXAMS,   /* exam weeks */
    TL_PHASE_BREAK,   /* winter break */
    TL_PHASE_SUMMER,  /* summer vacation */
} tl_synth_phase;

tl_synth_phase tl_synth_calendar(int32_t day);
const char *tl_synth_phase_name(tl_synth_phase p);
const char *tl_synth_ev_name(tl_synth_ev t);

typedef struct tl_synth_book {
    char *id;        /* "b<book_id>" */
    char *title;     /* as in books.csv, series in parentheses */
    char *creators;  /* '|'-separated */
    char *subjects;  /* '|'-separated, may be "" */
    char *language;  /* "eng" for every English variant, else books.csv's code, may be "" */
    int32_t year;    /* original publication year, 0 = unknown */
    int64_t ratings; /* work_ratings_count: the popularity the simulation follows */
    int64_t added;   /* Unix seconds */
    int32_t copies;
    int32_t available; /* copies on the shelf at the end of the simulated period */
    int32_t series;    /* index into tl_synth_library.series, -1 = not in a series */
    double series_no;  /* number in the series (#2.5 is 2.5) */
    int32_t next;      /* the book numbered series_no + 1 in the same series, or -1 */
    int32_t author;    /* index of the first author (dense, internal) */
} tl_synth_book;

typedef struct tl_synth_patron {
    char id[16];            /* "p00001" */
    const char *department; /* static strings */
    const char *level;
    const char *branch;
    int64_t created;
    int consent;     /* 1: agreed to personalised recommendations */
    double activity; /* expected loans per teaching week */
} tl_synth_patron;

typedef struct tl_synth_event {
    int64_t ts;
    int32_t patron, book;
    uint8_t type;   /* tl_synth_ev */
    uint8_t device; /* index into tl_synth_device_name */
    uint8_t branch; /* 0 = online (none), else a branch index + 1 */
    uint8_t value;  /* 1, or the renewal number for TL_SYNTH_RENEW */
} tl_synth_event;

const char *tl_synth_device_name(int device);
const char *tl_synth_branch_name(int branch); /* "" for 0 */

typedef struct tl_synth_library {
    int32_t nbooks, npatrons, nseries;
    tl_synth_book *books;
    tl_synth_patron *patrons;
    char **series; /* series names */
    int64_t nevents;
    tl_synth_event *events; /* sorted by time */
    int64_t start, end;     /* simulated period [start, end) */
} tl_synth_library;

/* Reads the catalogue and simulates the library (model: library.c's header comment and
 * demo/README.md). out is written only on success; release it with tl_synth_library_release.
 * Errors: TL_EIO (cannot read a file), TL_EPARSE (malformed books.csv or subjects file: diag
 * says where), TL_EINVAL (bad options), TL_ENOMEM. */
tl_err tl_synth_library_generate(const tl_synth_lib_opts *o, tl_synth_library *out, tl_diag *d);

/* Writes dir/items.tsv, dir/users.tsv and dir/events.tsv (dir must exist). TL_EIO on failure,
 * with diag naming the file. */
tl_err tl_synth_library_write(const tl_synth_library *lib, const char *dir, tl_diag *d);
/* Writes dir/catalogue.mrc: the books as MARC 21 records with their copies (Koha 952 across the
 * branches, those out at the end on loan), for `tailor import marc` (library_marc.c). */
tl_err tl_synth_library_write_marc(const tl_synth_library *lib, const char *dir, tl_diag *d);

void tl_synth_library_release(tl_synth_library *lib);

/* ---- Shapes: interactions with planted structure (shapes.c) ----------------------------- */

/* Data sets with real, learnable structure (topics, popularity, drifting interests, ordered
 * series), sized like the held-out sets quality is judged on: the model is in shapes.c's header
 * comment. Deterministic for a seed, whatever the number of OpenMP threads. */

typedef enum tl_shape_value {
    TL_SHAPE_ONE,    /* every row has value 1 (loans, saved articles) */
    TL_SHAPE_COUNT,  /* heavy-tailed counts (plays), larger where the user's affinity is */
    TL_SHAPE_RATING, /* 1-5 ratings correlated with affinity (explicit: no IMPLICIT marker) */
} tl_shape_value;

typedef enum tl_shape_text {
    TL_SHAPE_TEXT_ARTICLE, /* long titles full of topical words, several authors */
    TL_SHAPE_TEXT_ARTIST,  /* names that say nothing, genres as subjects, no creators */
    TL_SHAPE_TEXT_BOOK,    /* shorter titles, one or two authors, "(Name series, #n)" volumes */
} tl_shape_text;

typedef struct tl_shape_opts {
    int32_t users, items;
    int64_t pairs;                  /* distinct user-item pairs, one row each (met exactly) */
    int32_t topics;                 /* latent topics */
    int32_t fields;                 /* groups of topics that share vocabulary (<= topics) */
    double topic_zipf;              /* users' interest in topics: rank^-topic_zipf */
    double zipf;                    /* item popularity: rank^-zipf over a random permutation */
    double gamma;                   /* p(item | user) ~ pop^gamma * sum_k theta_uk phi_k(item) */
    double noise;                   /* share of events drawn by popularity alone */
    double secondary;               /* share of items with a second topic */
    double user_topics;             /* mean number of topics in a user's mix (1 + Poisson) */
    double concentration;           /* Dirichlet parameter of a user's topic weights */
    double activity_sigma;          /* log-normal sigma of the users' numbers of items */
    int32_t min_degree, max_degree; /* bounds of a user's number of items (max 0 = items) */
    double drift;        /* chance that a topic of the start mix is replaced in the end mix */
    double series_share; /* share of items in ordered series / courses */
    int32_t series_min, series_max; /* volumes per series */
    double follow; /* chance that an event is the next volume of a started series */
    tl_shape_text text;
    int32_t title_min, title_max; /* words per title (not for artists) */
    double title_topic;           /* share of title words from the item's topic and field */
    int64_t t0, t1;               /* timestamps fall in [t0, t1), Unix seconds */
    double span_days;             /* mean (exponential) of a user's active span */
    tl_shape_value value;
    uint64_t seed;
} tl_shape_opts;

/* Fills o with a named preset ("articles", "music", "library", "short", "sparse17k"), seed 42.
 * TL_EINVAL for an unknown name. */
tl_err tl_shape_preset(const char *name, tl_shape_opts *o);
/* The preset names, NULL-terminated. */
const char *const *tl_shape_preset_names(void);
/* Sets one option from "name=value" (the field names of tl_shape_opts; text = article | artist
 * | book, value = one | count | rating). TL_EINVAL for an unknown name or a malformed value. */
tl_err tl_shape_set(tl_shape_opts *o, const char *kv);

typedef struct tl_shape {
    int32_t users, items, topics, nseries;
    int64_t n;            /* rows = distinct pairs */
    int64_t *indptr;      /* users + 1: user u's rows are [indptr[u], indptr[u + 1]) */
    int32_t *item;        /* n: in the user's time order */
    float *value;         /* n */
    int64_t *ts;          /* n: non-decreasing within a user */
    int32_t *user_topic;  /* users: the topic of largest weight in the user's start mix */
    int32_t *item_topic;  /* items: primary topic */
    int32_t *item_topic2; /* items: second topic, -1 = none */
    int32_t *item_series; /* items: series, -1 = none */
    int32_t *item_volume; /* items: 1-based volume in the series, 0 = none */
    int32_t *item_next;   /* items: the next volume, -1 = none */
    int32_t *item_year;   /* items: publication year, 0 = none */
    char **title, **creators, **subjects; /* items; creators and subjects '|'-separated */
} tl_shape;

/* Generates the shape (ids u<n> and i<n> are the indices). out is written only on success;
 * release it with tl_shape_release. TL_EINVAL for impossible options (e.g. pairs outside
 * [users * min_degree, users * max_degree]), TL_ENOMEM. */
tl_err tl_shape_generate(const tl_shape_opts *o, tl_shape *out);
void tl_shape_release(tl_shape *s);

typedef struct tl_shape_stats {
    int32_t items_used;       /* items with at least one row */
    int64_t items_unused;     /* catalogue items nobody has */
    int64_t items_once_twice; /* items with one or two rows */
    int32_t max_item_degree, max_user_degree;
    int64_t users_5_8;      /* users with 5 to 8 rows */
    double density;         /* rows / (users * items used) */
    double topic_lift;      /* mean over users of (share of their rows in their main topic) /
                               (share of all rows in that topic): > 1 = planted taste */
    int64_t series_pairs;   /* (volume v, volume v + 1) pairs a user has both of */
    double series_in_order; /* share of those taken in order */
} tl_shape_stats;

void tl_shape_stats_compute(const tl_shape *s, tl_shape_stats *st);

/* Writes dir/interactions.tsv (user item value timestamp, grouped by user in time order),
 * dir/items.tsv (item title creators year subjects, as tl_data_load_items_tsv reads them),
 * dir/IMPLICIT unless values are ratings, and dir/SOURCE.md (options and counts). Creates dir
 * (not its parents). TL_EIO with diag naming the file. */
tl_err tl_shape_write(const tl_shape *s, const tl_shape_opts *o, const char *name, const char *dir,
                      tl_diag *d);

#endif
