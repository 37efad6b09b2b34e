/* Tailor's import engine: reads items, users, events and searches from TSV, CSV or JSON Lines
 * (plain or .gz), maps columns by name (with aliases), validates every field, and hands typed
 * records to a sink. It never writes anywhere itself: the store's importer (tailor/store.h,
 * tl_store_import) is the sink that persists them. Also: the per-event-type weights that turn
 * events into interaction strengths for the models. */
#ifndef TAILOR_INGEST_H
#define TAILOR_INGEST_H

#include <stddef.h>
#include <stdint.h>

#include "tailor/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Marks an absent integer field (year, date, copies...) in the records below. */
#define TL_ABSENT INT64_MIN

/* What the importers (and the TSV readers of train and eval) accept, checked at the door so
 * that no later stage meets an infinity or a time that dwarfs every other:
 * - an event value is finite with |value| <= TL_VALUE_MAX (text such as "nan", "inf" or
 *   "1e999" is not a number);
 * - an event or search timestamp is within TL_TIME_MIN..TL_TIME_MAX (0 = unknown);
 * - an item's date added and a user's date created are within TL_DATE_MIN..TL_TIME_MAX;
 * - a user or item id is not empty and holds no C0 control character (U+0000..U+001F: tab,
 *   line feed, carriage return...) and no DEL (U+007F): such ids would break the TSV files
 *   written from the store. Any other Unicode is kept as it is; at most TL_ID_MAX bytes, the
 *   same for catalogue records, patrons and events, so that every record can be named. */
#define TL_ID_MAX 1024
#define TL_VALUE_MAX 1e9
#define TL_TIME_MIN INT64_C(0)
#define TL_TIME_MAX INT64_C(32503680000)  /* 3000-01-01T00:00:00Z */
#define TL_DATE_MIN INT64_C(-62135596800) /* 0001-01-01T00:00:00Z */

/* ---- records ----------------------------------------------------------------------------
 * Strings are NUL-terminated UTF-8, owned by the engine and valid only during the sink call.
 * NULL means "not given": an upsert then keeps what the store had. Lists are '|'-separated,
 * trimmed, without empty elements ('|' inside one element is written as '/'). */

/* Catalogue item. type is one of tl_item_type_names (synonyms such as "e-book", "dvd" or
 * "periodical" are mapped; anything else becomes "other" and the given word is kept in extra
 * as "material"). */
typedef struct tl_item_rec {
    const char *id;
    size_t id_len;
    const char *type; /* never NULL */
    const char *title;
    const char *authors;  /* list */
    const char *subjects; /* list */
    int64_t year;         /* may be negative (before the common era); TL_ABSENT */
    const char *language;
    const char *format;
    int64_t added;     /* date added to the collection, Unix seconds, or TL_ABSENT */
    int64_t copies;    /* copies held, or TL_ABSENT */
    int64_t available; /* copies on the shelf now, or TL_ABSENT */
    const char *extra; /* JSON object text (compact, keys sorted), or NULL */
} tl_item_rec;

/* Patron. */
typedef struct tl_user_rec {
    const char *id;
    size_t id_len;
    const char *attrs; /* JSON object text (department, level, home branch...), or NULL */
    int personalize;   /* consent to personalization: 1, 0, or -1 = not given */
    int64_t created;   /* Unix seconds, or TL_ABSENT */
} tl_user_rec;

/* One interaction. type is lowercase; the known names are in tl_event_type_names, other names
 * are kept as given (the list is open). */
typedef struct tl_event_rec {
    const char *user, *item;
    size_t user_len, item_len;
    const char *type;
    int has_value;
    double value; /* rating, seconds (dwell), count... when has_value */
    int64_t ts;   /* Unix seconds; 0 = unknown */
    const char *device, *channel, *branch, *session; /* context, each may be NULL */
    /* An ILS's copy (Koha's itemnumber, a barcode) instead of item, or NULL: the importer
     * resolves it to its record through the store's holdings (tl_ingest_sink.copy); records
     * handed to a sink always name the item. */
    const char *copy;
    size_t copy_len;
    /* The response that showed the item (its impression_id, NULL: none) and, with has_place,
     * the row and position (0-based) of the card the event came from: a live event joins that
     * impression as its reward (docs/IMPRESSIONS.md); files never carry these. */
    const char *impression;
    int has_place, row, position;
} tl_event_rec;

/* One catalogue search and the items clicked from its results, in click order. */
typedef struct tl_search_rec {
    const char *user; /* NULL = anonymous */
    size_t user_len;
    const char *query;
    int64_t ts; /* 0 = unknown */
    const char *const *clicked;
    const size_t *clicked_len;
    int nclicked;
} tl_search_rec;

TL_API extern const char *const tl_item_type_names[];  /* NULL-terminated */
TL_API extern const char *const tl_event_type_names[]; /* NULL-terminated, the known types */

/* ---- the engine --------------------------------------------------------------------------- */

typedef enum tl_ingest_kind {
    TL_INGEST_ITEMS,
    TL_INGEST_USERS,
    TL_INGEST_EVENTS,
    TL_INGEST_SEARCHES,
} tl_ingest_kind;

typedef enum tl_ingest_format {
    TL_FORMAT_AUTO, /* from the name: .csv[.gz] = CSV, .jsonl/.ndjson/.json[.gz] = JSONL, else TSV
                     */
    TL_FORMAT_TSV,  /* tab-separated, no quoting: tabs and newlines cannot occur in fields */
    TL_FORMAT_CSV,  /* comma-separated with RFC 4180 quoting */
    TL_FORMAT_JSONL,
} tl_ingest_format;

/* Why a record was rejected; --skip-bad counts them by reason. */
typedef enum tl_skip_reason {
    TL_SKIP_FIELD_COUNT, /* not as many fields as the header */
    TL_SKIP_NUMBER,      /* a number, date or yes/no that does not parse */
    TL_SKIP_UTF8,        /* invalid UTF-8 or a NUL byte */
    TL_SKIP_TOO_LONG,    /* a field over the field limit or a line over 1 MiB */
    TL_SKIP_EMPTY_ID,    /* a user or item id is empty */
    TL_SKIP_UNKNOWN_ID,  /* strict mode: the user or item does not exist */
    TL_SKIP_JSON,        /* not a JSON object, or a value of the wrong JSON type */
    TL_SKIP_QUOTE,       /* CSV quoting is broken */
    TL_SKIP_VALUE,       /* any other invalid value */
    TL_SKIP_RANGE,       /* a value or timestamp outside the ranges above */
    TL_SKIP_ID_CHARS,    /* a user or item id holds a control character */
    TL_SKIP_N
} tl_skip_reason;

TL_API const char *tl_skip_reason_name(tl_skip_reason r);

#define TL_INGEST_FIRST_LINES 5 /* line numbers remembered per skip reason */

typedef struct tl_ingest_report {
    long long rows;     /* records read (header and blank lines excluded) */
    long long accepted; /* records handed to the sink and accepted */
    long long skipped;  /* records rejected (only with skip_bad; otherwise the first one stops) */
    long long skipped_by[TL_SKIP_N];
    long first_lines[TL_SKIP_N][TL_INGEST_FIRST_LINES]; /* 0 = unused */
    tl_diag first_skip;      /* the diagnostic of the first skipped record */
    tl_ingest_format format; /* the format used (AUTO resolved) */
    long long ignored;       /* rows read but not wanted (a circulation layout's unmapped
                                types, rows without a patron): neither accepted nor bad */
    int damaged; /* the file itself is damaged (a truncated or corrupt .gz): the import failed
                    with TL_EPARSE, and skip_bad cannot go past that */
} tl_ingest_report;

/* Receives the records. Each callback returns TL_OK, or an error: TL_ENOTFOUND (unknown id in
 * strict mode) and TL_EPARSE / TL_EINVAL (a value the sink rejects) are data errors that
 * skip_bad may skip, and the sink should fill d (the engine adds file and line); any other
 * error stops the import. A NULL callback rejects that kind with TL_EUNSUPPORTED. */
typedef struct tl_ingest_sink {
    void *ctx;
    tl_err (*item)(void *ctx, const tl_item_rec *r, tl_diag *d);
    tl_err (*user)(void *ctx, const tl_user_rec *r, tl_diag *d);
    tl_err (*event)(void *ctx, const tl_event_rec *r, tl_diag *d);
    tl_err (*search)(void *ctx, const tl_search_rec *r, tl_diag *d);
    /* Resolves an event's copy (tl_event_rec.copy) to the id of its record: *item (valid
     * until the next call) and *item_len, or TL_ENOTFOUND when the holdings have no such copy
     * (the engine names the line and field). NULL: a copy column is an error. */
    tl_err (*copy)(void *ctx, const char *copy, size_t len, const char **item, size_t *item_len,
                   tl_diag *d);
} tl_ingest_sink;

/* Progress: bytes of the file consumed (compressed bytes for .gz), its size (0 when unknown,
 * e.g. stdin) and records so far. Called every few thousand records and once at the end. */
typedef void (*tl_progress_fn)(void *ctx, long long done, long long total, long long rows);

typedef struct tl_ingest_opts {
    tl_ingest_kind kind;
    tl_ingest_format format;
    const char *path;         /* "-" = stdin */
    const char *default_type; /* events: the type when the file has no type column (NULL = "rate"
                                 when there is a value column, else "loan"); items: the item type
                                 when there is no type column (NULL = "book") */
    char list_sep;            /* separator of authors/subjects/clicked lists in TSV/CSV; 0 = '|' */
    int skip_bad;             /* skip bad records (counted in the report) instead of stopping */
    size_t max_field;         /* per-field limit in bytes; 0 = 64 KiB */
    tl_progress_fn progress;
    void *progress_ctx;
    /* events only: an ILS's circulation layout (tl_ingest_layout_load) that names the columns,
     * the delimiter, the date format and the event types; NULL = the usual header aliases */
    const struct tl_ingest_layout *layout;
} tl_ingest_opts;

/* Defaults: events, automatic format, '|' lists, stop at the first bad record, 64 KiB fields. */
TL_API void tl_ingest_opts_init(tl_ingest_opts *o);

/* Reads o->path and calls the sink once per valid record, streaming in constant memory.
 * Column names (TSV/CSV header, JSON keys) are matched case-insensitively with aliases, e.g.
 * user = user_id = patron, item = item_id = book_id, value = rating, timestamp = time = ts,
 * authors = creators; see docs or tailor import --help. Unknown columns of items and users go
 * into extra / attrs; for events and searches they are ignored.
 * Lines end in LF, CRLF or a lone CR. Every value is checked (see TL_VALUE_MAX above).
 * Returns TL_OK (rep says how many were skipped), TL_EPARSE / TL_ENOTFOUND with d naming the
 * file, line and field of the first bad record (when !skip_bad; also for an empty file or a
 * header without the required columns), TL_EPARSE with rep->damaged set when a .gz is truncated
 * or corrupt (also with skip_bad: no record of such a file is accepted, d says what is wrong
 * and after how many lines), TL_EIO (cannot open or read), TL_EINVAL (bad options,
 * e.g. an unknown default_type), TL_EUNSUPPORTED (the sink lacks that kind), or the sink's error.
 * rep is filled in every case (it may be NULL). Not thread-safe per call; calls are independent. */
TL_API tl_err tl_ingest_file(const tl_ingest_opts *o, const tl_ingest_sink *sink,
                             tl_ingest_report *rep, tl_diag *d);

/* Validates one record given as the text json[0..len) of one JSON object, exactly as a line of
 * a JSON Lines file of kind o->kind (the same names and aliases, the same checks; unknown keys
 * of items and users go into extra / attrs; o->default_type, list_sep and max_field apply;
 * o->path is ignored), and hands it to the sink. Returns TL_OK, TL_EPARSE (d's field names the
 * bad key, without file or line), the sink's error, or TL_EINVAL / TL_EUNSUPPORTED (bad
 * options, no callback for the kind). Thread-safe: calls are independent. */
TL_API tl_err tl_ingest_json(const tl_ingest_opts *o, const char *json, size_t len,
                             const tl_ingest_sink *sink, tl_diag *d);

/* ---- circulation layouts -------------------------------------------------------------------
 * How an integrated library system (Koha, Evergreen, Alma, FOLIO...) exports its circulation:
 * which columns hold the patron, the record or the copy (resolved through the holdings), the
 * event type and its time, the delimiter, the date format, and which of the ILS's types are
 * which of Tailor's events. Built in: "koha-statistics" (Koha's statistics table) and
 * "koha-issues" (its issues / old_issues tables); anything else is the path of a mapping file
 * (docs/ILS.md describes the format; etc/ils/ has examples). */
typedef struct tl_ingest_layout tl_ingest_layout;

TL_API extern const char *const tl_ingest_layout_names[]; /* the built-in layouts, NULL-ended */

/* Loads the built-in layout named name, else the mapping file at name. TL_ENOTFOUND (neither),
 * TL_EIO, TL_EPARSE (d names the file, line and key), TL_ENOMEM. *out is freed with
 * tl_ingest_layout_free. */
TL_API tl_err tl_ingest_layout_load(const char *name, tl_ingest_layout **out, tl_diag *d);
/* The same for the text of a mapping file; origin names it in diagnostics. */
TL_API tl_err tl_ingest_layout_parse(const char *text, size_t len, const char *origin,
                                     tl_ingest_layout **out, tl_diag *d);
TL_API const char *tl_ingest_layout_name(const tl_ingest_layout *l);
/* Replaces l's date format (see tl_parse_time_format), e.g. from the command line. */
TL_API void tl_ingest_layout_set_date_format(tl_ingest_layout *l, const char *fmt);
TL_API void tl_ingest_layout_free(tl_ingest_layout *l);

/* ---- event weights -------------------------------------------------------------------------
 * How much one event says about a user's interest in an item. Each type has a weight w and a
 * rule: CONST (w), RATING (w * value / scale when value >= min, else ignored) or SECONDS
 * (w * min(value, cap) / cap). Types without an entry get the default weight. A weight of 0
 * (or less) means the event is ignored. Defaults: loan 1, renew 0.5, hold 0.8, view 0.2,
 * click 0.3, rate 1 x value/5 from 3 up, review 1, download 0.6, list_add 0.7, dwell 0.5 x
 * seconds/300 capped, return 0, skip 0, local_use 0.4 (used in the library), default 0.5; repeated
 * user-item events add up. */
typedef enum tl_weight_rule { TL_WEIGHT_CONST, TL_WEIGHT_RATING, TL_WEIGHT_SECONDS } tl_weight_rule;

#define TL_EVENT_WEIGHTS_MAX 64
#define TL_EVENT_TYPE_MAX 64 /* longest event type name, bytes */

typedef struct tl_event_weight {
    char type[TL_EVENT_TYPE_MAX + 1];
    float w;
    tl_weight_rule rule;
} tl_event_weight;

typedef struct tl_event_weights {
    int n;
    tl_event_weight e[TL_EVENT_WEIGHTS_MAX];
    float deflt;      /* weight of types without an entry */
    float rate_min;   /* ratings below this are ignored (default 3) */
    float rate_scale; /* a rating is divided by this (default 5) */
    float dwell_cap;  /* seconds counted at most (default 300) */
    int merge_max;    /* 1: repeated user-item events keep the largest weight instead of the sum */
} tl_event_weights;

TL_API void tl_event_weights_init(tl_event_weights *w);
/* Applies overrides "type=w[,type=w...]" and the settings default=, rate.min=, rate.scale=,
 * dwell.cap=, merge=sum|max. Types not listed are added (as CONST). Returns TL_EINVAL with d
 * naming the bad entry; w is unchanged then. */
TL_API tl_err tl_event_weights_parse(tl_event_weights *w, const char *spec, tl_diag *d);
/* Writes the whole table as a spec that tl_event_weights_parse reads back. */
TL_API void tl_event_weights_format(const tl_event_weights *w, char *buf, size_t len);
/* The weight of one event (0 = ignore it). value is used by the RATING and SECONDS rules; an
 * event of those types without a value counts as CONST w. */
TL_API float tl_event_weight_of(const tl_event_weights *w, const char *type, int has_value,
                                double value);
/* The same in two steps for hot loops: the table index of a type (-1 = no entry, the default
 * weight applies), then the weight of one event of the type at that index. */
TL_API int tl_event_weights_find(const tl_event_weights *w, const char *type);
TL_API float tl_event_weight_at(const tl_event_weights *w, int idx, int has_value, double value);

/* A moment written in format fmt: "iso" (or NULL: as tl_parse_time), else a pattern of
 * %Y (4 digits), %y (2: 1970-2069), %m, %d, %H, %M, %S (1 or 2 digits each), %% and literal
 * characters, where a blank matches any run of blanks and the input may end at a blank of the
 * pattern (a date without its time: midnight); seconds may carry a fraction. UTC. 0, -1 when
 * s is not such a moment, -2 when fmt has an unknown %-code. */
TL_API int tl_parse_time_format(const char *fmt, const char *s, size_t n, int64_t *out);

/* A moment as the importers read it: Unix seconds, or ISO 8601 (YYYY-MM-DD, optionally with
 * 'T' or ' ' and hh:mm[:ss[.fff]], and 'Z' or an offset; UTC without one). 0, or -1 when s[0..n)
 * is not one. */
TL_API int tl_parse_time(const char *s, size_t n, int64_t *out);

/* ---- MARC catalogue records (marc.c) ---------------------------------------------------------
 * MARC 21 (and UNIMARC) bibliographic records read with YAZ from ISO 2709 or MARCXML, streaming
 * one record at a time, converted to UTF-8 (MARC-8 and other legacy encodings through
 * yaz_iconv) and mapped to an item, its catalogue details and its copies (holdings). */

/* The details of a catalogue record beyond the item row (the store's item_details). NULL /
 * TL_ABSENT / NaN (series_volume) mean "not given". */
typedef struct tl_item_details {
    const char *work; /* work id shared by the editions and formats of one work */
    const char *isbn, *issn, *series;
    double series_volume; /* NaN when absent */
    const char *edition, *publisher, *extent, *contents, *summary, *cover;
    int64_t starts, ends; /* events and courses: Unix seconds, or TL_ABSENT */
    const char *place;
} tl_item_details;

/* One copy: copy is the ILS's id of it (Koha's itemnumber 952$9, else its barcode), unique in
 * the store. available: 1 on the shelf, 0 on loan, lost, withdrawn or not for loan. */
typedef struct tl_holding_rec {
    const char *copy, *branch, *location, *status;
    int available;
    const char *item; /* tl_store_put_holding: the record's id (created bare, as events do,
                         when the store lacks it); unused in a tl_marc_rec */
} tl_holding_rec;

typedef struct tl_marc_rec {
    long recno;       /* 1-based position in the file */
    tl_item_rec item; /* copies / available counted from the holdings when it has some */
    tl_item_details details;
    const tl_holding_rec *holdings;
    int nholdings;
    int unimarc; /* the record was UNIMARC (mapped from 200/210/700/606...) */
} tl_marc_rec;

typedef enum tl_marc_format { TL_MARC_AUTO, TL_MARC_ISO2709, TL_MARC_XML } tl_marc_format;

typedef struct tl_marc_opts {
    const char *path;      /* "-" = stdin */
    tl_marc_format format; /* AUTO: MARCXML when the file starts with '<', else ISO 2709 */
    const char *encoding;  /* ISO 2709 records' character set for yaz_iconv (e.g. "marc8",
                              "cp866", "iso-8859-1"); NULL = from each record: leader/09 'a' =
                              UTF-8, else MARC-8 (MARC 21) or UNIMARC's 100$a/26-27 */
    int skip_bad;          /* report bad records and go on instead of stopping at the first */
    int refuse_unimarc;    /* a UNIMARC record is an error instead of being mapped */
    tl_progress_fn progress;
    void *progress_ctx;
} tl_marc_opts;

#define TL_MARC_FIRST_BAD 8 /* bad records remembered (number and reason) */

typedef struct tl_marc_report {
    long long records; /* records read, good and bad */
    long long accepted, skipped;
    long long unimarc; /* of the accepted, mapped from UNIMARC */
    tl_marc_format format;
    int damaged; /* the file cannot be read past its last bad record (broken XML, a record cut
                    short by the end of the file): skip_bad cannot go on from there */
    int nbad;    /* entries of bad[] filled */
    tl_diag bad[TL_MARC_FIRST_BAD]; /* the first bad records: file, record number, reason */
} tl_marc_report;

/* Receives each good record; an error stops the reading and is returned (TL_EPARSE / TL_EINVAL
 * with d filled are data errors that skip_bad skips, naming the record). */
typedef tl_err (*tl_marc_fn)(void *ctx, const tl_marc_rec *r, tl_diag *d);

TL_API void tl_marc_opts_init(tl_marc_opts *o);
/* Reads o->path and calls fn per good record, in constant memory. A record with a structure or
 * encoding error is TL_EPARSE with d naming the file, the record's number and why (without
 * skip_bad; with it the record is counted in rep and the reading goes on). TL_EIO: cannot open
 * or read; TL_EINVAL: an unknown encoding. rep may be NULL. */
TL_API tl_err tl_marc_read(const tl_marc_opts *o, tl_marc_fn fn, void *ctx, tl_marc_report *rep,
                           tl_diag *d);

#ifdef __cplusplus
}
#endif
#endif
