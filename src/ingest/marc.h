/* Internal to the MARC reader (marc.c) and its tests: a parsed ISO 2709 record, as YAZ writes
 * it in UTF-8, and the check of a raw ISO 2709 record's structure before YAZ reads it. */
#ifndef TL_INGEST_MARC_H
#define TL_INGEST_MARC_H

#include <stddef.h>
#include <stdio.h>

#define TL_MARC_LEADER 24
#define TL_MARC_RS 0x1D /* record terminator */
#define TL_MARC_FS 0x1E /* field terminator */
#define TL_MARC_US 0x1F /* subfield delimiter */

/* One field: tag, and its data without the field terminator (for a data field: the two
 * indicators, then the subfields, each 0x1F, code, text). */
typedef struct tl_marc_field {
    char tag[4];
    const char *data;
    size_t len;
} tl_marc_field;

/* Checks the structure of the ISO 2709 record b[0..n) (n as its leader says, ending in the
 * record terminator): numeric lengths, a base address that ends the directory, directory
 * entries whose fields lie inside the record and end in a field terminator. Returns 0, or -1
 * with why (a sentence naming the leader position or the field) filled. */
int tl__marc_check(const unsigned char *b, size_t n, char *why, size_t wlen);

/* Splits a record known to be well formed (tl__marc_check, or YAZ's output) into fields:
 * at most cap of them into f; returns how many there are (may be more than cap), or -1. */
int tl__marc_fields(const char *b, size_t n, tl_marc_field *f, int cap);

/* ---- writing (marc_write.c): MARC 21 records in ISO 2709, UTF-8, through YAZ --------------
 * For the benchmark's generated catalogue and the demo library (tailor synth --library). */
typedef struct tl_marc_out tl_marc_out;

/* A writer appending records to f (not closed by it); NULL when out of memory. */
tl_marc_out *tl_marc_out_new(FILE *f);
/* Starts a record: leader/06 type and /07 level ("am": a book), and its 001. */
void tl_marc_out_begin(tl_marc_out *o, const char *type_level, const char *id);
void tl_marc_out_control(tl_marc_out *o, const char *tag, const char *data);
/* A data field: tag, two indicators ("1 "), then subfields as (code, text) pairs, a NULL
 * code ending them; subfields with NULL text are left out. */
void tl_marc_out_field(tl_marc_out *o, const char *tag, const char *ind, ...);
/* Writes the record. 0, or -1 when it cannot be written (too long, or an I/O error). */
int tl_marc_out_end(tl_marc_out *o);
void tl_marc_out_free(tl_marc_out *o);

#endif
