/* The streaming CSV/TSV record reader over plain or gzip files (through util/lines) that every
 * delimited file of Tailor goes through: the importer's TSV and CSV, the matrices of train and
 * eval (matrix_tsv.c) and the split and eval files (src/eval). RFC 4180 quoting when asked
 * (quoted fields may hold the delimiter, doubled quotes and line breaks), per-field and
 * per-record size limits, UTF-8 validation unless raw, and no fixed column count. */
#ifndef TL_INGEST_CSV_H
#define TL_INGEST_CSV_H

#include <stddef.h>

#include "tailor/error.h"

typedef struct tl_csv tl_csv;

typedef struct tl_csv_opts {
    char delim;       /* ',' or '\t' */
    int quoting;      /* 1 = RFC 4180 quotes; 0 = a quote is an ordinary character */
    size_t max_field; /* longest field in bytes; 0 = TL_CSV_MAX_FIELD */
    int raw;          /* 1 = fields are bytes as they are: no UTF-8 or NUL check, no field limit
                         (the line limit stays); for files whose ids are written back verbatim */
    int lf_only;      /* 1 = only LF ends a line and every CR before it is dropped, no byte-order
                         mark is skipped: Python's `for line in f` + rstrip(b"\r\n"), which the
                         split and eval files follow; 0 = LF, CRLF or a lone CR ends a line */
} tl_csv_opts;

#define TL_CSV_MAX_FIELD (64u * 1024) /* default field limit */
#define TL_CSV_MAX_RECORD (1u << 20)  /* a record (all its lines) longer than this is an error */
/* More fields than this in one record is an error. There is no fixed array behind it: the
 * field table grows as records need, up to this. */
#define TL_CSV_MAX_FIELDS 4096

/* Why the last record was rejected (tl__csv_reason), so that --skip-bad can count by cause. */
typedef enum tl_csv_reason {
    TL_CSV_OK = 0,
    TL_CSV_TOO_LONG,   /* a field over max_field, a record over TL_CSV_MAX_RECORD or too many
                          fields: skipped whole, the reader goes on after the record's real end */
    TL_CSV_BAD_UTF8,   /* invalid UTF-8 or a NUL byte */
    TL_CSV_BAD_QUOTE,  /* a character after a closing quote, or a quote never closed */
    TL_CSV_READ_ERROR, /* the file could not be read, or the gzip stream is damaged: final */
} tl_csv_reason;

/* Opens path ("-" = stdin; plain or gzip, detected from the content). o may be NULL for
 * tab-separated, unquoted, 64 KiB fields. Returns TL_EIO (d says why) or TL_ENOMEM; on success
 * *out is a reader the caller closes with tl_csv_close. A UTF-8 byte-order mark is skipped. */
tl_err tl_csv_open(const char *path, const tl_csv_opts *o, tl_csv **out, tl_diag *d);

/* Next record: returns 1 with *fields, *lens and *nfields set (fields NUL-terminated, valid until
 * the next call; they may be modified in place), 0 at EOF, or a negative -tl_err with d filled:
 * file, line where the record starts (for a quote never closed: the line where it opened),
 * field (its header name when tl_csv_set_names was called, else "#N", 1-based) and a message.
 * -TL_EPARSE is a bad record: the reader has consumed all of it (a quoted record to its real
 * end, however long) and goes on with the next one. A read error is final: -TL_ECORRUPT for a
 * damaged gzip stream ("truncated gzip stream (unexpected end after N lines)"), -TL_EIO, or
 * -TL_ENOMEM, with reason TL_CSV_READ_ERROR, and every later call returns it again.
 * Empty lines between records are skipped; a line end inside a quoted field reads as "\n". */
int tl_csv_next(tl_csv *r, char ***fields, size_t **lens, int *nfields, tl_diag *d);

/* Line number (1-based) where the last record returned (or rejected) started. */
long tl_csv_line(const tl_csv *r);

/* Bytes of the file consumed so far (compressed bytes for .gz), for progress reports. */
long long tl_csv_offset(const tl_csv *r);

/* Closes r; NULL does nothing. */
void tl_csv_close(tl_csv *r);

/* Optional: names the columns (typically the header record) so diagnostics say "title" rather
 * than "#2". The names are copied. Returns TL_ENOMEM or TL_OK. */
tl_err tl_csv_set_names(tl_csv *r, char *const *names, int n);

/* The cause of the last -TL_EPARSE / -TL_EIO from tl_csv_next, and the 0-based index of the
 * field at fault (-1 when not one field). Internal to the importers. */
tl_csv_reason tl__csv_reason(const tl_csv *r);
int tl__csv_bad_field(const tl_csv *r);

/* Validates UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF, no NUL bytes).
 * Returns the offset of the first bad byte, or -1 when s[0..n) is valid. */
long tl_utf8_check(const char *s, size_t n);

#endif
