/* The import engine: a record (a TSV/CSV row under its header, or one JSON Lines object) is
 * mapped to named slots through alias tables, each slot is validated and converted, and the
 * typed record goes to the sink. Bad records are reported with file, line and field, or
 * counted and skipped. Events from TSV never touch jansson: that is the path that must be fast. */
#include "tailor/ingest.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "ingest/csv.h"
#include "ingest/fields.h"
#include "ingest/layout.h"
#include "util/lines.h"

#define PROGRESS_EVERY 8192 /* records between progress callbacks */
#define MAX_CLICKS 1000     /* clicked items kept per search */
#define NAME_MAX_LEN 63

enum slot {
    S_ID,
    S_USER,
    S_ITEM,
    S_TYPE,
    S_VALUE,
    S_TS,
    S_TITLE,
    S_AUTHORS,
    S_SUBJECTS,
    S_YEAR,
    S_LANG,
    S_FORMAT,
    S_ADDED,
    S_COPIES,
    S_AVAIL,
    S_EXTRA,
    S_CONSENT,
    S_CREATED,
    S_DEVICE,
    S_CHANNEL,
    S_BRANCH,
    S_SESSION,
    S_CONTEXT,
    S_QUERY,
    S_CLICKED,
    S_COPY,     /* events: an ILS's copy (itemnumber), resolved through the holdings */
    S_RETURNED, /* events of a circulation layout: the loan's return time */
    S_N
};

/* Column names per slot, normalized (lowercase, '_' for blanks, dashes and dots). */
typedef struct alias {
    int slot;
    const char *names;
} alias;

#define USER_NAMES                                                                                 \
    "user,user_id,userid,patron,patron_id,borrower,borrower_id,borrowernumber,member,member_id,"   \
    "reader,reader_id"
#define ITEM_NAMES                                                                                 \
    "item,item_id,itemid,book_id,bookid,record_id,bib_id,biblionumber,movie_id,movieid,title_id"
#define TS_NAMES                                                                                   \
    "timestamp,time,ts,date,datetime,date_time,event_time,when,unix_time,created_at,issuedate,"    \
    "issue_date,checkout_date,loan_date"
#define COPY_NAMES "itemnumber,item_number,copy,copy_id"

static const alias item_aliases[] = {
    {S_ID, ITEM_NAMES ",id"},
    {S_TYPE, "type,item_type,itemtype,material,material_type,kind"},
    {S_TITLE, "title,name"},
    {S_AUTHORS, "authors,author,creators,creator,contributors"},
    {S_SUBJECTS, "subjects,subject,genres,genre,tags,keywords,topics"},
    {S_YEAR, "year,pub_year,publication_year,original_publication_year,published"},
    {S_LANG, "language,lang,language_code"},
    {S_FORMAT, "format,medium"},
    {S_ADDED, "added,date_added,added_at,acquired,acquisition_date,created,created_at"},
    {S_COPIES, "copies,total_copies,copies_total,holdings"},
    {S_AVAIL, "available,availability,copies_available,available_copies"},
    {S_EXTRA, "extra,extras,metadata,attributes,attrs"},
    {-1, NULL},
};

static const alias user_aliases[] = {
    {S_ID, USER_NAMES ",id"},
    {S_CONSENT, "personalize,personalise,personalization,personalisation,consent,opt_in,optin"},
    {S_CREATED,
     "created,created_at,registered,joined,date_joined,since,date_enrolled,dateenrolled"},
    {S_EXTRA, "attributes,attrs,extra,metadata"},
    {-1, NULL},
};

static const alias event_aliases[] = {
    {S_USER, USER_NAMES},
    {S_ITEM, ITEM_NAMES},
    {S_TYPE, "type,event,event_type,action,kind,verb"},
    {S_VALUE, "value,rating,score,count,weight,seconds,duration,amount"},
    {S_TS, TS_NAMES},
    {S_DEVICE, "device,platform"},
    {S_CHANNEL, "channel,source"},
    {S_BRANCH, "branch,library,location,branch_code,branchcode"},
    {S_SESSION, "session,session_id"},
    {S_CONTEXT, "context"},
    {S_COPY, COPY_NAMES},
    {-1, NULL},
};

static const alias search_aliases[] = {
    {S_USER, USER_NAMES}, {S_QUERY, "query,q,search,text,terms,search_terms"},
    {S_TS, TS_NAMES},     {S_CLICKED, "clicked,clicks,clicked_items,items"},
    {-1, NULL},
};

typedef struct engine {
    const tl_ingest_opts *o;
    const tl_ingest_sink *sink;
    tl_ingest_report *rep;
    tl_diag *d;
    const char *path;
    const alias *al;
    char list_sep;
    size_t max_field;
    const char *default_type;
    long line;
    /* the current record, by slot; v NULL = absent */
    const char *v[S_N];
    size_t n[S_N];
    const char *fname[S_N];
    char sep[S_N];     /* list separator of the value in this slot */
    json_t *extra;     /* items and users: unknown columns and the extra/attrs object */
    json_t *context;   /* events: the context object */
    char *own[S_N];    /* values this record owns (converted JSON) */
    char num[S_N][48]; /* JSON numbers as text */
    char *lbuf[S_N];   /* normalized lists */
    size_t lcap[S_N];
    char typebuf[TL_EVENT_TYPE_MAX + 1];
    char deftype[TL_EVENT_TYPE_MAX + 1]; /* --type, lowercased */
    int json;                            /* JSON Lines: slot names change with every record */
    const char **clicked;
    size_t *clicked_len;
    tl_skip_reason why;
    /* TSV/CSV: header */
    int ncols;
    int *col_slot;
    char **cols;
    /* a circulation layout: its columns as an alias table */
    const tl_ingest_layout *lay;
    alias lay_al[TL_LC_N + 1];
    int ignored; /* the current record is not wanted (counted, neither accepted nor bad) */
} engine;

void tl_ingest_opts_init(tl_ingest_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->kind = TL_INGEST_EVENTS;
    o->format = TL_FORMAT_AUTO;
    o->list_sep = '|';
}

const char *tl_skip_reason_name(tl_skip_reason r)
{
    switch (r) {
    case TL_SKIP_FIELD_COUNT:
        return "wrong field count";
    case TL_SKIP_NUMBER:
        return "bad number or date";
    case TL_SKIP_UTF8:
        return "bad UTF-8";
    case TL_SKIP_TOO_LONG:
        return "too long";
    case TL_SKIP_EMPTY_ID:
        return "empty id";
    case TL_SKIP_UNKNOWN_ID:
        return "unknown id";
    case TL_SKIP_JSON:
        return "bad JSON";
    case TL_SKIP_QUOTE:
        return "bad quoting";
    case TL_SKIP_VALUE:
        return "bad value";
    case TL_SKIP_RANGE:
        return "out of range";
    case TL_SKIP_ID_CHARS:
        return "control character in id";
    case TL_SKIP_N:
        break;
    }
    return "unknown";
}

static void normalize_name(const char *s, size_t n, char *out)
{
    while (n && isspace((unsigned char)*s)) {
        s++;
        n--;
    }
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    if (n > NAME_MAX_LEN)
        n = NAME_MAX_LEN;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        out[i] = (c == ' ' || c == '-' || c == '.') ? '_' : (char)tolower((unsigned char)c);
    }
    out[n] = '\0';
}

static int slot_of(const alias *a, const char *norm)
{
    size_t len = strlen(norm);
    if (!len)
        return -1;
    for (; a->names; a++) {
        const char *p = a->names;
        for (;;) {
            const char *comma = strchr(p, ',');
            size_t n = comma ? (size_t)(comma - p) : strlen(p);
            if (n == len && memcmp(p, norm, n) == 0)
                return a->slot;
            if (!comma)
                break;
            p = comma + 1;
        }
    }
    return -1;
}

/* A data error in the current record: fills d and returns TL_EPARSE. */
static tl_err bad(engine *e, tl_skip_reason why, int slot, const char *fmt, ...) TL_PRINTF(4, 5);
static tl_err bad(engine *e, tl_skip_reason why, int slot, const char *fmt, ...)
{
    char msg[sizeof(e->d->msg)];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    e->why = why;
    tl_diag_set(e->d, e->path, e->line, slot >= 0 ? e->fname[slot] : NULL, "%s", msg);
    return TL_EPARSE;
}

static void row_reset(engine *e)
{
    /* TSV/CSV records overwrite the same mapped slots every time: only JSON needs the loop */
    for (int s = 0; e->json && s < S_N; s++) {
        e->v[s] = NULL;
        e->n[s] = 0;
        free(e->own[s]);
        e->own[s] = NULL;
        e->sep[s] = e->list_sep;
        if (e->json)
            e->fname[s] = NULL;
    }
    if (e->extra) {
        json_decref(e->extra);
        e->extra = NULL;
    }
    if (e->context) {
        json_decref(e->context);
        e->context = NULL;
    }
}

static int present(const engine *e, int s)
{
    return e->v[s] && e->n[s];
}

static tl_err extra_obj(engine *e)
{
    if (!e->extra && !(e->extra = json_object()))
        return TL_ENOMEM;
    return TL_OK;
}

/* Merges a JSON object given as text (TSV/CSV extra or attrs column) into the extras. */
static tl_err merge_object_text(engine *e, int s, json_t **into)
{
    json_error_t jerr;
    json_t *j = json_loadb(e->v[s], e->n[s], 0, &jerr);
    if (!j)
        return bad(e, TL_SKIP_JSON, s, "not JSON: %s", jerr.text);
    if (!json_is_object(j)) {
        json_decref(j);
        return bad(e, TL_SKIP_JSON, s, "must be a JSON object");
    }
    if (!*into) {
        *into = j;
        return TL_OK;
    }
    int rc = json_object_update(*into, j);
    json_decref(j);
    return rc == 0 ? TL_OK : TL_ENOMEM;
}

/* Rewrites the list in slot s as '|'-separated, trimmed, without empty elements. */
static tl_err norm_list(engine *e, int s)
{
    if (!present(e, s)) {
        e->v[s] = NULL;
        return TL_OK;
    }
    char sep = e->sep[s];
    size_t need = e->n[s] + 1;
    if (need > e->lcap[s]) {
        char *nb = realloc(e->lbuf[s], need);
        if (!nb)
            return TL_ENOMEM;
        e->lbuf[s] = nb;
        e->lcap[s] = need;
    }
    const char *p = e->v[s], *end = p + e->n[s];
    char *out = e->lbuf[s];
    size_t o = 0;
    while (p <= end) {
        const char *q = memchr(p, sep, (size_t)(end - p));
        if (!q)
            q = end;
        const char *a = p, *b = q;
        while (a < b && isspace((unsigned char)*a))
            a++;
        while (b > a && isspace((unsigned char)b[-1]))
            b--;
        if (b > a) {
            if (o)
                out[o++] = '|';
            for (; a < b; a++)
                out[o++] = *a == '|' ? '/' : *a;
        }
        p = q + 1;
    }
    out[o] = '\0';
    e->v[s] = o ? out : NULL;
    e->n[s] = o;
    return TL_OK;
}

/* A date or Unix time within lo..TL_TIME_MAX (lo: TL_TIME_MIN or TL_DATE_MIN). */
static tl_err parse_time_slot(engine *e, int s, int64_t lo, int64_t *out)
{
    int len = (int)(e->n[s] > 40 ? 40 : e->n[s]);
    if (tl__parse_time(e->v[s], e->n[s], out) < 0)
        return bad(e, TL_SKIP_NUMBER, s, "'%.*s' is not a date or Unix time", len, e->v[s]);
    if (*out < lo || *out > TL_TIME_MAX)
        return bad(e, TL_SKIP_RANGE, s, "'%.*s' is out of range (%s to 3000-01-01)", len, e->v[s],
                   lo == TL_TIME_MIN ? "1970-01-01" : "0001-01-01");
    return TL_OK;
}

static tl_err parse_count_slot(engine *e, int s, int64_t *out)
{
    if (tl__parse_i64(e->v[s], e->n[s], out) < 0 || *out < 0)
        return bad(e, TL_SKIP_NUMBER, s, "'%.*s' is not a count",
                   (int)(e->n[s] > 40 ? 40 : e->n[s]), e->v[s]);
    return TL_OK;
}

/* An id must not hold a control character (see tailor/ingest.h). */
static tl_err check_id_chars(engine *e, int s, const char *v, size_t n)
{
    long at = tl__id_bad_char(v, n);
    if (at < 0)
        return TL_OK;
    return bad(e, TL_SKIP_ID_CHARS, s,
               "id contains a tab or control character (byte 0x%02X at offset %ld)",
               (unsigned char)v[at], at);
}

static tl_err check_id(engine *e, int s, const char *what)
{
    if (!e->v[s]) { /* JSON Lines: the key is missing (or null) */
        e->why = TL_SKIP_EMPTY_ID;
        tl_diag_set(e->d, e->path, e->line, what, "no %s id", what);
        return TL_EPARSE;
    }
    if (!e->n[s])
        return bad(e, TL_SKIP_EMPTY_ID, s, "empty %s id", what);
    if (e->n[s] > TL_ID_MAX)
        return bad(e, TL_SKIP_TOO_LONG, s, "%s id longer than %d bytes", what, TL_ID_MAX);
    return check_id_chars(e, s, e->v[s], e->n[s]);
}

static const char *opt_str(const engine *e, int s)
{
    return present(e, s) ? e->v[s] : NULL;
}

/* Dumps the extras (compact, sorted keys: the same input gives the same text, which keeps
 * re-imports idempotent). */
static tl_err dump_extra(engine *e, char **out)
{
    *out = NULL;
    if (!e->extra || !json_object_size(e->extra))
        return TL_OK;
    *out = json_dumps(e->extra, JSON_COMPACT | JSON_SORT_KEYS);
    return *out ? TL_OK : TL_ENOMEM;
}

static tl_err do_item(engine *e)
{
    tl_item_rec r = {
        .year = TL_ABSENT, .added = TL_ABSENT, .copies = TL_ABSENT, .available = TL_ABSENT};
    char *extra = NULL;
    tl_err rc;
    if ((rc = check_id(e, S_ID, "item")) != TL_OK)
        return rc;
    r.id = e->v[S_ID];
    r.id_len = e->n[S_ID];
    r.type = e->default_type;
    if (present(e, S_TYPE)) {
        r.type = tl__item_type(e->v[S_TYPE], e->n[S_TYPE]);
        if (!r.type) {
            r.type = "other";
            if ((rc = extra_obj(e)) != TL_OK)
                return rc;
            json_object_set_new(e->extra, "material", json_stringn(e->v[S_TYPE], e->n[S_TYPE]));
        }
    }
    if (present(e, S_YEAR) && tl__parse_year(e->v[S_YEAR], e->n[S_YEAR], &r.year) < 0)
        return bad(e, TL_SKIP_NUMBER, S_YEAR, "'%.*s' is not a year",
                   (int)(e->n[S_YEAR] > 40 ? 40 : e->n[S_YEAR]), e->v[S_YEAR]);
    if (present(e, S_ADDED) && (rc = parse_time_slot(e, S_ADDED, TL_DATE_MIN, &r.added)) != TL_OK)
        return rc;
    if (present(e, S_COPIES) && (rc = parse_count_slot(e, S_COPIES, &r.copies)) != TL_OK)
        return rc;
    if (present(e, S_AVAIL) && (rc = parse_count_slot(e, S_AVAIL, &r.available)) != TL_OK)
        return rc;
    if ((rc = norm_list(e, S_AUTHORS)) != TL_OK || (rc = norm_list(e, S_SUBJECTS)) != TL_OK)
        return rc;
    r.title = opt_str(e, S_TITLE);
    r.authors = opt_str(e, S_AUTHORS);
    r.subjects = opt_str(e, S_SUBJECTS);
    r.language = opt_str(e, S_LANG);
    r.format = opt_str(e, S_FORMAT);
    if ((rc = dump_extra(e, &extra)) != TL_OK)
        return rc;
    r.extra = extra;
    rc = e->sink->item(e->sink->ctx, &r, e->d);
    free(extra);
    return rc;
}

static tl_err do_user(engine *e)
{
    tl_user_rec r = {.personalize = -1, .created = TL_ABSENT};
    char *attrs = NULL;
    tl_err rc;
    if ((rc = check_id(e, S_ID, "user")) != TL_OK)
        return rc;
    r.id = e->v[S_ID];
    r.id_len = e->n[S_ID];
    if (present(e, S_CONSENT) &&
        tl__parse_bool(e->v[S_CONSENT], e->n[S_CONSENT], &r.personalize) < 0)
        return bad(e, TL_SKIP_NUMBER, S_CONSENT, "'%.*s' is not yes/no",
                   (int)(e->n[S_CONSENT] > 40 ? 40 : e->n[S_CONSENT]), e->v[S_CONSENT]);
    if (present(e, S_CREATED) &&
        (rc = parse_time_slot(e, S_CREATED, TL_DATE_MIN, &r.created)) != TL_OK)
        return rc;
    if ((rc = dump_extra(e, &attrs)) != TL_OK)
        return rc;
    r.attrs = attrs;
    rc = e->sink->user(e->sink->ctx, &r, e->d);
    free(attrs);
    return rc;
}

/* Lowercases an event type into e->typebuf (or returns it as is when already lowercase). */
static tl_err event_type(engine *e, const char *t, size_t n, int s, const char **out)
{
    while (n && isspace((unsigned char)*t)) {
        t++;
        n--;
    }
    while (n && isspace((unsigned char)t[n - 1]))
        n--;
    if (!n)
        return bad(e, TL_SKIP_VALUE, s, "empty event type");
    if (n > TL_EVENT_TYPE_MAX)
        return bad(e, TL_SKIP_VALUE, s, "event type longer than %d bytes", TL_EVENT_TYPE_MAX);
    for (size_t i = 0; i < n; i++)
        e->typebuf[i] = (char)tolower((unsigned char)t[i]);
    e->typebuf[n] = '\0';
    *out = e->typebuf;
    /* the circulation words of ILS exports are Tailor's loans, returns and renewals */
    static const char *const synonyms[][2] = {
        {"issue", "loan"}, {"checkout", "loan"}, {"checkin", "return"}, {"renewal", "renew"}};
    for (size_t i = 0; !e->lay && i < sizeof(synonyms) / sizeof(synonyms[0]); i++)
        if (strcmp(e->typebuf, synonyms[i][0]) == 0)
            *out = synonyms[i][1];
    return TL_OK;
}

static const char *context_str(engine *e, int s, const char *key)
{
    if (present(e, s))
        return e->v[s];
    if (!e->context)
        return NULL;
    json_t *v = json_object_get(e->context, key);
    return json_is_string(v) && json_string_length(v) ? json_string_value(v) : NULL;
}

/* An ILS's way of writing nothing: an empty field, NULL, or MySQL's zero date. */
static int null_value(const engine *e, int s)
{
    if (!present(e, s))
        return 1;
    const char *v = e->v[s];
    size_t n = e->n[s];
    return (n == 4 && memcmp(v, "NULL", 4) == 0) || (n >= 10 && memcmp(v, "0000-00-00", 10) == 0);
}

/* The record of the event: its item column, else its copy resolved through the holdings. */
static tl_err event_item(engine *e, tl_event_rec *r)
{
    tl_err rc;
    int has_item = e->lay ? !null_value(e, S_ITEM) : present(e, S_ITEM);
    int has_copy = e->lay ? !null_value(e, S_COPY) : present(e, S_COPY);
    if (!has_item && !has_copy && e->v[S_COPY])
        return bad(e, TL_SKIP_EMPTY_ID, S_COPY, "empty item id");
    if (has_item || !has_copy) {
        if (e->lay && !has_item)
            return bad(e, TL_SKIP_EMPTY_ID, S_ITEM, "empty item id");
        if ((rc = check_id(e, S_ITEM, "item")) != TL_OK)
            return rc;
        r->item = e->v[S_ITEM];
        r->item_len = e->n[S_ITEM];
        return TL_OK;
    }
    if ((rc = check_id(e, S_COPY, "copy")) != TL_OK)
        return rc;
    int len = (int)(e->n[S_COPY] > 100 ? 100 : e->n[S_COPY]);
    if (!e->sink->copy)
        return bad(e, TL_SKIP_VALUE, S_COPY, "copies cannot be resolved here");
    rc = e->sink->copy(e->sink->ctx, e->v[S_COPY], e->n[S_COPY], &r->item, &r->item_len, e->d);
    if (rc == TL_ENOTFOUND)
        return bad(e, TL_SKIP_UNKNOWN_ID, S_COPY,
                   "no copy '%.*s' in the holdings (import the catalogue with its holdings first)",
                   len, e->v[S_COPY]);
    if (rc == TL_OK)
        r->copy = e->v[S_COPY], r->copy_len = e->n[S_COPY];
    return rc;
}

/* A time of the layout's date format (else as parse_time_slot reads it). */
static tl_err event_time(engine *e, int s, int64_t *out)
{
    if (!e->lay)
        return parse_time_slot(e, s, TL_TIME_MIN, out);
    int len = (int)(e->n[s] > 40 ? 40 : e->n[s]);
    if (tl_parse_time_format(e->lay->date_format, e->v[s], e->n[s], out) < 0)
        return bad(e, TL_SKIP_NUMBER, s, "'%.*s' is not a date in the format %s", len, e->v[s],
                   e->lay->date_format);
    if (*out < TL_TIME_MIN || *out > TL_TIME_MAX)
        return bad(e, TL_SKIP_RANGE, s, "'%.*s' is out of range (1970-01-01 to 3000-01-01)", len,
                   e->v[s]);
    return TL_OK;
}

static tl_err do_event(engine *e)
{
    tl_event_rec r = {0};
    tl_err rc;
    if (e->lay && null_value(e, S_USER)) { /* anonymous use (or an anonymized loan): no one's */
        e->ignored = 1;
        return TL_OK;
    }
    /* first: a payment or a write-off has no item to look for */
    int mapped = e->lay && present(e, S_TYPE)
                     ? tl__layout_type(e->lay, e->v[S_TYPE], e->n[S_TYPE], &r.type)
                     : -1;
    if (mapped == 0) { /* a type the layout does not take (payment, writeoff...) */
        e->ignored = 1;
        return TL_OK;
    }
    if ((rc = check_id(e, S_USER, "user")) != TL_OK || (rc = event_item(e, &r)) != TL_OK)
        return rc;
    r.user = e->v[S_USER];
    r.user_len = e->n[S_USER];
    if (present(e, S_VALUE)) {
        int len = (int)(e->n[S_VALUE] > 40 ? 40 : e->n[S_VALUE]);
        if (tl__parse_f64(e->v[S_VALUE], e->n[S_VALUE], &r.value) < 0)
            return bad(e, TL_SKIP_NUMBER, S_VALUE, "'%.*s' is not a number", len, e->v[S_VALUE]);
        if (r.value > TL_VALUE_MAX || r.value < -TL_VALUE_MAX)
            return bad(e, TL_SKIP_RANGE, S_VALUE, "'%.*s' is out of range (|value| <= 1e9)", len,
                       e->v[S_VALUE]);
        r.has_value = 1;
    }
    if (!(e->lay ? null_value(e, S_TS) : !present(e, S_TS)) &&
        (rc = event_time(e, S_TS, &r.ts)) != TL_OK)
        return rc;
    if (mapped > 0) {
        /* r.type is the layout's word for it */
    } else if (present(e, S_TYPE)) {
        if ((rc = event_type(e, e->v[S_TYPE], e->n[S_TYPE], S_TYPE, &r.type)) != TL_OK)
            return rc;
    } else {
        r.type = e->default_type ? e->default_type : r.has_value || e->v[S_VALUE] ? "rate" : "loan";
    }
    if (present(e, S_CONTEXT) && !e->context &&
        (rc = merge_object_text(e, S_CONTEXT, &e->context)) != TL_OK)
        return rc;
    r.device = context_str(e, S_DEVICE, "device");
    r.channel = context_str(e, S_CHANNEL, "channel");
    r.branch = context_str(e, S_BRANCH, "branch");
    r.session = context_str(e, S_SESSION, "session");
    /* a loan that came back: its return too (read before the loan is handed on, so that a bad
     * return time rejects the row whole) */
    int64_t back = 0;
    int returned = e->lay && !null_value(e, S_RETURNED);
    if (returned && (rc = event_time(e, S_RETURNED, &back)) != TL_OK)
        return rc;
    if ((rc = e->sink->event(e->sink->ctx, &r, e->d)) != TL_OK || !returned)
        return rc;
    r.type = "return";
    r.ts = back;
    r.has_value = 0;
    return e->sink->event(e->sink->ctx, &r, e->d);
}

static tl_err do_search(engine *e)
{
    tl_search_rec r = {0};
    tl_err rc;
    if (!present(e, S_QUERY))
        return bad(e, TL_SKIP_VALUE, e->v[S_QUERY] ? S_QUERY : -1, "empty query");
    r.query = e->v[S_QUERY];
    if (present(e, S_USER)) {
        if ((rc = check_id_chars(e, S_USER, e->v[S_USER], e->n[S_USER])) != TL_OK)
            return rc;
        r.user = e->v[S_USER];
        r.user_len = e->n[S_USER];
    }
    if (present(e, S_TS) && (rc = parse_time_slot(e, S_TS, TL_TIME_MIN, &r.ts)) != TL_OK)
        return rc;
    if ((rc = norm_list(e, S_CLICKED)) != TL_OK)
        return rc;
    if (e->v[S_CLICKED]) {
        if (!e->clicked) {
            e->clicked = malloc(MAX_CLICKS * sizeof(*e->clicked));
            e->clicked_len = malloc(MAX_CLICKS * sizeof(*e->clicked_len));
            if (!e->clicked || !e->clicked_len)
                return TL_ENOMEM;
        }
        char *p = e->lbuf[S_CLICKED];
        while (p && r.nclicked < MAX_CLICKS) {
            char *bar = strchr(p, '|');
            if (bar)
                *bar = '\0';
            e->clicked[r.nclicked] = p;
            e->clicked_len[r.nclicked] = strlen(p);
            if ((rc = check_id_chars(e, S_CLICKED, p, e->clicked_len[r.nclicked++])) != TL_OK)
                return rc;
            p = bar ? bar + 1 : NULL;
        }
        r.clicked = e->clicked;
        r.clicked_len = e->clicked_len;
    }
    return e->sink->search(e->sink->ctx, &r, e->d);
}

static tl_err do_record(engine *e)
{
    switch (e->o->kind) {
    case TL_INGEST_ITEMS:
        return do_item(e);
    case TL_INGEST_USERS:
        return do_user(e);
    case TL_INGEST_EVENTS:
        return do_event(e);
    case TL_INGEST_SEARCHES:
        return do_search(e);
    }
    return TL_EINVAL;
}

/* Counts a finished record; a data error is skipped (skip_bad) or returned. */
static tl_err settle(engine *e, tl_err rc)
{
    if (rc == TL_OK && e->ignored) {
        e->ignored = 0;
        e->rep->ignored++;
        return TL_OK;
    }
    e->ignored = 0;
    if (rc == TL_OK) {
        e->rep->accepted++;
        return TL_OK;
    }
    int data = rc == TL_EPARSE || rc == TL_ENOTFOUND || rc == TL_EINVAL;
    if (!data)
        return rc;
    /* errors from the sink come without a place or a reason: add them */
    if (e->why == TL_SKIP_N) {
        e->why = rc == TL_ENOTFOUND ? TL_SKIP_UNKNOWN_ID : TL_SKIP_VALUE;
        snprintf(e->d->file, sizeof(e->d->file), "%s", e->path);
        e->d->line = e->line;
    }
    if (!e->o->skip_bad)
        return rc;
    tl_ingest_report *rep = e->rep;
    if (!rep->skipped)
        rep->first_skip = *e->d;
    rep->skipped++;
    long long k = rep->skipped_by[e->why]++;
    if (k < TL_INGEST_FIRST_LINES)
        rep->first_lines[e->why][k] = e->line;
    tl_diag_clear(e->d);
    return TL_OK;
}

static int progress_due(const engine *e)
{
    return e->o->progress && e->rep->rows % PROGRESS_EVERY == 0;
}

static tl_ingest_format guess_format(const char *path)
{
    char name[512];
    snprintf(name, sizeof(name), "%s", path);
    size_t n = strlen(name);
    if (n > 3 && strcmp(name + n - 3, ".gz") == 0)
        name[n - 3] = '\0';
    const char *dot = strrchr(name, '.');
    if (dot && strcasecmp(dot, ".csv") == 0)
        return TL_FORMAT_CSV;
    if (dot && (strcasecmp(dot, ".jsonl") == 0 || strcasecmp(dot, ".ndjson") == 0 ||
                strcasecmp(dot, ".json") == 0))
        return TL_FORMAT_JSONL;
    return TL_FORMAT_TSV;
}

/* A final error of the file itself: a damaged .gz is bad input that skip_bad cannot skip
 * (TL_EPARSE and rep->damaged); read errors and no memory stay what they are. */
static tl_err stream_error(engine *e, int got)
{
    tl_err rc = (tl_err)-got;
    if (rc == TL_ECORRUPT) {
        e->rep->damaged = 1;
        rc = TL_EPARSE;
    }
    return rc;
}

static tl_skip_reason csv_reason(const tl_csv *r)
{
    switch (tl__csv_reason(r)) {
    case TL_CSV_TOO_LONG:
        return TL_SKIP_TOO_LONG;
    case TL_CSV_BAD_UTF8:
        return TL_SKIP_UTF8;
    case TL_CSV_BAD_QUOTE:
        return TL_SKIP_QUOTE;
    default:
        return TL_SKIP_VALUE;
    }
}

static const char *required_slot_name(tl_ingest_kind k, int *s1, int *s2)
{
    *s2 = -1;
    switch (k) {
    case TL_INGEST_ITEMS:
        *s1 = S_ID;
        return "item (or item_id, book_id, id...)";
    case TL_INGEST_USERS:
        *s1 = S_ID;
        return "user (or user_id, patron, id...)";
    case TL_INGEST_EVENTS:
        *s1 = S_USER;
        *s2 = S_ITEM;
        return "user and item (or user_id, patron, item_id, book_id...)";
    case TL_INGEST_SEARCHES:
        *s1 = S_QUERY;
        return "query (or q, search...)";
    }
    return "";
}

/* Every column a layout relies on must be in the file: the patron, the record or the copy,
 * and the type and time when the layout names them (a layout that silently read no times
 * would import every loan at time 0). */
static tl_err layout_header(engine *e, const int *slot_col)
{
    static const struct {
        int slot, col;
    } need[] = {{S_USER, TL_LC_USER}, {S_TYPE, TL_LC_TYPE}, {S_TS, TL_LC_TIME}};
    for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++)
        if (e->lay->cols[need[i].col] && slot_col[need[i].slot] < 0) {
            tl_diag_set(e->d, e->path, 1, NULL,
                        "the header has no column %s, which layout %s reads for the %s",
                        e->lay->cols[need[i].col], e->lay->name,
                        need[i].slot == S_USER   ? "patron"
                        : need[i].slot == S_TYPE ? "event type"
                                                 : "time");
            return TL_EPARSE;
        }
    if (slot_col[S_ITEM] < 0 && slot_col[S_COPY] < 0) {
        const char *c =
            e->lay->cols[TL_LC_COPY] ? e->lay->cols[TL_LC_COPY] : e->lay->cols[TL_LC_ITEM];
        tl_diag_set(e->d, e->path, 1, NULL,
                    "the header has no column %s, which layout %s reads for the item", c,
                    e->lay->name);
        return TL_EPARSE;
    }
    return TL_OK;
}

static tl_err read_delimited(engine *e, tl_ingest_format fmt, long long total)
{
    tl_csv_opts co = {.delim = e->lay                 ? e->lay->delim
                               : fmt == TL_FORMAT_CSV ? ','
                                                      : '\t',
                      .quoting = e->lay ? e->lay->quoting : fmt == TL_FORMAT_CSV,
                      .max_field = e->max_field};
    tl_csv *r = NULL;
    char **f;
    size_t *l;
    int nf;
    int slot_col[S_N];
    tl_err rc = tl_csv_open(e->path, &co, &r, e->d);
    if (rc != TL_OK)
        return rc;
    int got = tl_csv_next(r, &f, &l, &nf, e->d);
    if (got <= 0) {
        if (got == 0)
            tl_diag_set(e->d, e->path, 1, NULL, "empty file: expected a header line");
        rc = got == 0 ? TL_EPARSE : stream_error(e, got);
        goto out;
    }
    e->ncols = nf;
    e->col_slot = malloc((size_t)nf * sizeof(*e->col_slot));
    e->cols = calloc((size_t)nf, sizeof(*e->cols));
    rc = TL_ENOMEM;
    if (!e->col_slot || !e->cols)
        goto out;
    for (int s = 0; s < S_N; s++)
        slot_col[s] = -1;
    for (int c = 0; c < nf; c++) {
        char norm[NAME_MAX_LEN + 1];
        if (!(e->cols[c] = strdup(f[c])))
            goto out;
        normalize_name(f[c], l[c], norm);
        int s = slot_of(e->al, norm);
        if (s >= 0 && slot_col[s] < 0) {
            slot_col[s] = c;
            e->fname[s] = e->cols[c];
        } else {
            s = -1; /* an unknown or repeated column */
        }
        e->col_slot[c] = s;
    }
    int s1 = S_ID, s2 = -1;
    const char *need = required_slot_name(e->o->kind, &s1, &s2);
    if (s2 == S_ITEM && slot_col[S_ITEM] < 0 && slot_col[S_COPY] >= 0)
        s2 = S_COPY; /* events may name a copy instead (itemnumber) */
    if (e->lay) {
        rc = layout_header(e, slot_col);
        if (rc != TL_OK)
            goto out;
    } else if (slot_col[s1] < 0 || (s2 >= 0 && slot_col[s2] < 0)) {
        tl_diag_set(e->d, e->path, 1, NULL, "the header must name the column(s) %s", need);
        rc = TL_EPARSE;
        goto out;
    }
    if ((rc = tl_csv_set_names(r, e->cols, nf)) != TL_OK)
        goto out;
    int extras = e->o->kind == TL_INGEST_ITEMS || e->o->kind == TL_INGEST_USERS;
    if (e->o->kind == TL_INGEST_EVENTS && !e->default_type)
        e->default_type = slot_col[S_VALUE] >= 0 ? "rate" : "loan";
    for (;;) {
        got = tl_csv_next(r, &f, &l, &nf, e->d);
        if (got == 0)
            break;
        if (got < 0 && tl__csv_reason(r) == TL_CSV_READ_ERROR) {
            rc = stream_error(e, got);
            goto out;
        }
        e->rep->rows++;
        e->line = tl_csv_line(r);
        e->why = TL_SKIP_N;
        row_reset(e);
        if (got < 0) {
            e->why = csv_reason(r);
            rc = TL_EPARSE;
        } else if (nf != e->ncols) {
            char fld[16];
            snprintf(fld, sizeof(fld), "#%d", nf + 1);
            e->why = TL_SKIP_FIELD_COUNT;
            tl_diag_set(e->d, e->path, e->line, nf < e->ncols ? e->cols[nf] : fld,
                        "expected %d fields, found %d", e->ncols, nf);
            rc = TL_EPARSE;
        } else {
            rc = TL_OK;
            for (int c = 0; c < nf && rc == TL_OK; c++) {
                int s = e->col_slot[c];
                if (s >= 0) {
                    e->v[s] = f[c];
                    e->n[s] = l[c];
                } else if (extras && l[c]) {
                    if ((rc = extra_obj(e)) == TL_OK &&
                        json_object_set_new(e->extra, e->cols[c], json_stringn(f[c], l[c])) < 0)
                        rc = TL_ENOMEM;
                }
            }
            if (rc == TL_OK && extras && present(e, S_EXTRA))
                rc = merge_object_text(e, S_EXTRA, &e->extra);
            if (rc == TL_OK)
                rc = do_record(e);
        }
        if ((rc = settle(e, rc)) != TL_OK)
            goto out;
        if (progress_due(e)) /* the offset costs a system call: not on every record */
            e->o->progress(e->o->progress_ctx, tl_csv_offset(r), total, e->rep->rows);
    }
    if (e->o->progress)
        e->o->progress(e->o->progress_ctx, total ? total : tl_csv_offset(r), total, e->rep->rows);
    rc = TL_OK;
out:
    tl_csv_close(r);
    return rc;
}

/* Turns one JSON value into the text of slot s. */
static tl_err json_to_slot(engine *e, int s, const char *key, json_t *val)
{
    e->fname[s] = key;
    switch (json_typeof(val)) {
    case JSON_NULL:
        return TL_OK;
    case JSON_STRING:
        e->v[s] = json_string_value(val);
        e->n[s] = json_string_length(val);
        if (e->n[s] > e->max_field)
            return bad(e, TL_SKIP_TOO_LONG, s, "field of %zu bytes exceeds the limit of %zu",
                       e->n[s], e->max_field);
        if (memchr(e->v[s], '\0', e->n[s]))
            return bad(e, TL_SKIP_UTF8, s, "NUL character");
        return TL_OK;
    case JSON_INTEGER:
        snprintf(e->num[s], sizeof(e->num[s]), "%" JSON_INTEGER_FORMAT, json_integer_value(val));
        break;
    case JSON_REAL:
        snprintf(e->num[s], sizeof(e->num[s]), "%.17g", json_real_value(val));
        break;
    case JSON_TRUE:
    case JSON_FALSE:
        snprintf(e->num[s], sizeof(e->num[s]), "%d", json_is_true(val));
        break;
    case JSON_ARRAY: {
        if (s != S_AUTHORS && s != S_SUBJECTS && s != S_CLICKED)
            return bad(e, TL_SKIP_JSON, s, "expected a single value, not an array");
        size_t cap = 64, len = 0, i;
        char *buf = malloc(cap);
        json_t *x;
        if (!buf)
            return TL_ENOMEM;
        json_array_foreach(val, i, x)
        {
            char tmp[48];
            const char *p = tmp;
            size_t n;
            if (json_is_string(x)) {
                p = json_string_value(x);
                n = json_string_length(x);
            } else if (json_is_integer(x)) {
                n = (size_t)snprintf(tmp, sizeof(tmp), "%" JSON_INTEGER_FORMAT,
                                     json_integer_value(x));
            } else {
                free(buf);
                return bad(e, TL_SKIP_JSON, s, "list elements must be strings or integers");
            }
            if (len + n + 2 > e->max_field + 1) {
                free(buf);
                return bad(e, TL_SKIP_TOO_LONG, s, "list exceeds the limit of %zu bytes",
                           e->max_field);
            }
            while (len + n + 2 > cap)
                cap *= 2;
            char *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                return TL_ENOMEM;
            }
            buf = nb;
            if (len)
                buf[len++] = '|';
            for (size_t k = 0; k < n; k++)
                buf[len++] = p[k] == '|' ? '/' : p[k]; /* keep one element one element */
        }
        buf[len] = '\0';
        e->own[s] = buf;
        e->v[s] = buf;
        e->n[s] = len;
        e->sep[s] = '|';
        return TL_OK;
    }
    case JSON_OBJECT:
        if (s == S_EXTRA && e->o->kind != TL_INGEST_EVENTS) {
            if (!e->extra) {
                e->extra = json_deep_copy(val);
                return e->extra ? TL_OK : TL_ENOMEM;
            }
            return json_object_update(e->extra, val) == 0 ? TL_OK : TL_ENOMEM;
        }
        if (s == S_CONTEXT) {
            json_decref(e->context);
            e->context = json_incref(val);
            return TL_OK;
        }
        return bad(e, TL_SKIP_JSON, s, "expected a single value, not an object");
    }
    e->v[s] = e->num[s];
    e->n[s] = strlen(e->num[s]);
    return TL_OK;
}

static tl_err json_record(engine *e, const char *line, size_t len)
{
    long bad_at = tl_utf8_check(line, len);
    if (bad_at >= 0)
        return bad(e, TL_SKIP_UTF8, -1, "invalid UTF-8 at column %ld", bad_at + 1);
    json_error_t jerr;
    json_t *root = json_loadb(line, len, 0, &jerr);
    if (!root)
        return bad(e, TL_SKIP_JSON, -1, "invalid JSON at column %d: %s", jerr.column, jerr.text);
    tl_err rc = TL_OK;
    if (!json_is_object(root)) {
        rc = bad(e, TL_SKIP_JSON, -1, "each line must be a JSON object");
        goto out;
    }
    int extras = e->o->kind == TL_INGEST_ITEMS || e->o->kind == TL_INGEST_USERS;
    const char *key;
    json_t *val;
    json_object_foreach(root, key, val)
    {
        char norm[NAME_MAX_LEN + 1];
        normalize_name(key, strlen(key), norm);
        int s = slot_of(e->al, norm);
        /* an extra object is merged with the unknown keys, whichever comes first */
        if ((s == S_EXTRA && json_is_object(val)) ||
            (s >= 0 && !e->v[s] && !(s == S_CONTEXT && e->context))) {
            if ((rc = json_to_slot(e, s, key, val)) != TL_OK)
                goto out;
        } else if (extras && !json_is_null(val)) {
            if ((rc = extra_obj(e)) != TL_OK)
                goto out;
            if (json_object_set(e->extra, key, val) < 0) {
                rc = TL_ENOMEM;
                goto out;
            }
        }
    }
    /* an extra/attributes object given as a JSON string */
    if (extras && present(e, S_EXTRA) && (rc = merge_object_text(e, S_EXTRA, &e->extra)) != TL_OK)
        goto out;
    rc = do_record(e);
out:
    json_decref(root);
    return rc;
}

static tl_err read_jsonl(engine *e, long long total)
{
    tl_lines lr;
    char *line;
    size_t len;
    tl_err rc = tl_lines_open(&lr, e->path);
    if (rc != TL_OK) {
        tl_diag_set(e->d, e->path, 0, NULL, "cannot open: %s",
                    rc == TL_EIO ? strerror(errno) : tl_strerror(rc));
        return rc;
    }
    int got;
    while ((got = tl_lines_next(&lr, &line, &len)) != 0) {
        if (got < 0 && got != -TL_EPARSE) {
            tl_diag_set(e->d, e->path, lr.lineno + 1, NULL, "%s", tl_lines_error(&lr));
            rc = stream_error(e, got);
            goto out;
        }
        if (got == 1) {
            if (lr.lineno == 1 && len >= 3 && memcmp(line, "\xEF\xBB\xBF", 3) == 0) {
                line += 3;
                len -= 3;
            }
            size_t k = 0;
            while (k < len && isspace((unsigned char)line[k]))
                k++;
            if (k == len)
                continue;
        }
        e->rep->rows++;
        e->line = lr.lineno;
        e->why = TL_SKIP_N;
        row_reset(e);
        if (got < 0)
            rc = bad(e, TL_SKIP_TOO_LONG, -1, "line longer than 1 MiB");
        else
            rc = json_record(e, line, len);
        if ((rc = settle(e, rc)) != TL_OK)
            goto out;
        if (progress_due(e))
            e->o->progress(e->o->progress_ctx, tl_lines_offset(&lr), total, e->rep->rows);
    }
    if (e->o->progress)
        e->o->progress(e->o->progress_ctx, total ? total : tl_lines_offset(&lr), total,
                       e->rep->rows);
    rc = TL_OK;
out:
    tl_lines_close(&lr);
    return rc;
}

/* Sets e up for o and sink (rep and d are the caller's); TL_EINVAL or TL_EUNSUPPORTED with d
 * saying why. engine_release frees what it holds in every case. */
static tl_err engine_init(engine *e, const tl_ingest_opts *o, const tl_ingest_sink *sink,
                          tl_ingest_report *rep, tl_diag *d)
{
    memset(e, 0, sizeof(*e));
    e->o = o;
    e->sink = sink;
    e->rep = rep;
    e->d = d;
    e->path = o->path;
    e->list_sep = o->list_sep ? o->list_sep : '|';
    e->max_field = o->max_field ? o->max_field : TL_CSV_MAX_FIELD;
    for (int s = 0; s < S_N; s++)
        e->sep[s] = e->list_sep;
    int has_cb = 0;
    switch (o->kind) {
    case TL_INGEST_ITEMS:
        has_cb = sink->item != NULL;
        break;
    case TL_INGEST_USERS:
        has_cb = sink->user != NULL;
        break;
    case TL_INGEST_EVENTS:
        has_cb = sink->event != NULL;
        break;
    case TL_INGEST_SEARCHES:
        has_cb = sink->search != NULL;
        break;
    default:
        tl_diag_set(d, NULL, 0, NULL, "unknown kind of record");
        return TL_EINVAL;
    }
    if (!has_cb) {
        tl_diag_set(d, o->path, 0, NULL, "this sink does not take that kind of record");
        return TL_EUNSUPPORTED;
    }
    static const alias *const tables[] = {item_aliases, user_aliases, event_aliases,
                                          search_aliases};
    e->al = tables[o->kind];
    if (o->layout) {
        static const int slots[TL_LC_N] = {
            [TL_LC_USER] = S_USER,     [TL_LC_ITEM] = S_ITEM,   [TL_LC_COPY] = S_COPY,
            [TL_LC_TYPE] = S_TYPE,     [TL_LC_TIME] = S_TS,     [TL_LC_RETURNED] = S_RETURNED,
            [TL_LC_BRANCH] = S_BRANCH, [TL_LC_VALUE] = S_VALUE,
        };
        if (o->kind != TL_INGEST_EVENTS) {
            tl_diag_set(d, NULL, 0, NULL, "a circulation layout reads events only");
            return TL_EINVAL;
        }
        int k = 0;
        for (int c = 0; c < TL_LC_N; c++)
            if (o->layout->cols[c])
                e->lay_al[k++] = (alias){slots[c], o->layout->cols[c]};
        e->lay_al[k] = (alias){-1, NULL};
        e->al = e->lay_al;
        e->lay = o->layout;
        if (!o->default_type && o->layout->default_type[0])
            e->default_type = o->layout->default_type;
    }
    if (o->kind == TL_INGEST_ITEMS) {
        e->default_type =
            o->default_type ? tl__item_type(o->default_type, strlen(o->default_type)) : "book";
        if (!e->default_type) {
            tl_diag_set(d, NULL, 0, "type",
                        "'%s' is not an item type (book, ebook, article, journal, "
                        "database, video, audio, event, course, other)",
                        o->default_type);
            return TL_EINVAL;
        }
    } else if (o->kind == TL_INGEST_EVENTS && o->default_type) {
        e->fname[S_TYPE] = "--type";
        const char *t;
        if (event_type(e, o->default_type, strlen(o->default_type), S_TYPE, &t) != TL_OK)
            return TL_EINVAL;
        memcpy(e->deftype, t, strlen(t) + 1);
        e->default_type = e->deftype;
        e->fname[S_TYPE] = NULL;
    }
    return TL_OK;
}

static void engine_release(engine *e)
{
    row_reset(e);
    for (int s = 0; s < S_N; s++)
        free(e->lbuf[s]);
    for (int c = 0; c < e->ncols && e->cols; c++)
        free(e->cols[c]);
    free(e->cols);
    free(e->col_slot);
    free(e->clicked);
    free(e->clicked_len);
}

tl_err tl_ingest_file(const tl_ingest_opts *o, const tl_ingest_sink *sink, tl_ingest_report *rep,
                      tl_diag *d)
{
    tl_ingest_report dummy;
    tl_diag dd;
    engine e;
    tl_err rc = TL_EINVAL;
    if (!rep)
        rep = &dummy;
    if (!d)
        d = &dd;
    memset(rep, 0, sizeof(*rep));
    tl_diag_clear(d);
    if (!o->path) {
        memset(&e, 0, sizeof(e));
        tl_diag_set(d, NULL, 0, NULL, "no input file");
        goto out;
    }
    if ((rc = engine_init(&e, o, sink, rep, d)) != TL_OK)
        goto out;
    long long total = 0;
    struct stat st;
    if (strcmp(o->path, "-") != 0 && stat(o->path, &st) == 0 && S_ISREG(st.st_mode))
        total = (long long)st.st_size;
    rep->format = o->format == TL_FORMAT_AUTO
                      ? (strcmp(o->path, "-") == 0 ? TL_FORMAT_TSV : guess_format(o->path))
                      : o->format;
    e.json = rep->format == TL_FORMAT_JSONL;
    if (e.json)
        rc = read_jsonl(&e, total);
    else
        rc = read_delimited(&e, rep->format, total);
out:
    engine_release(&e);
    return rc;
}

tl_err tl_ingest_json(const tl_ingest_opts *o, const char *json, size_t len,
                      const tl_ingest_sink *sink, tl_diag *d)
{
    tl_ingest_report rep;
    tl_ingest_opts one = *o;
    engine e;
    memset(&rep, 0, sizeof(rep));
    tl_diag_clear(d);
    one.path = NULL; /* not a file: d names no file and no line */
    tl_err rc = engine_init(&e, &one, sink, &rep, d);
    if (rc == TL_OK) {
        e.json = 1;
        e.why = TL_SKIP_N;
        row_reset(&e);
        rc = json_record(&e, json, len);
    }
    engine_release(&e);
    return rc;
}
