/* Field parsers shared by the importers: numbers, dates, years, yes/no, item types. Each takes
 * (ptr, len) of one field as read (not necessarily NUL-terminated) and returns 0 or -1. */
#ifndef TL_INGEST_FIELDS_H
#define TL_INGEST_FIELDS_H

#include <stddef.h>
#include <stdint.h>

/* A finite decimal number (surrounding blanks allowed). */
int tl__parse_f64(const char *s, size_t n, double *out);
/* A decimal integer that fits int64 (surrounding blanks allowed). */
int tl__parse_i64(const char *s, size_t n, int64_t *out);
/* Unix seconds (an integer, or a decimal whose fraction is dropped), or ISO 8601:
 * YYYY-MM-DD, optionally followed by 'T' or ' ' and hh:mm[:ss[.fff]], optionally 'Z' or an
 * offset +hh[:mm] / -hh[:mm]. Dates without an offset are UTC. */
int tl__parse_time(const char *s, size_t n, int64_t *out);
/* A year: an integer or an integral decimal ("2008.0"), -9999..9999. */
int tl__parse_year(const char *s, size_t n, int64_t *out);
/* 1/0, true/false, yes/no, y/n, on/off, t/f (any case). */
int tl__parse_bool(const char *s, size_t n, int *out);
/* The canonical item type for a name or synonym (any case), or NULL when unknown. */
const char *tl__item_type(const char *s, size_t n);
/* The offset of the first C0 control character or DEL in s[0..n), or -1 when there is none:
 * ids must not hold them (see tailor/ingest.h). */
long tl__id_bad_char(const char *s, size_t n);

#endif
