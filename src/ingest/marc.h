/* Internal to the MARC reader (marc.c) and its tests: a parsed ISO 2709 record, as YAZ writes
 * it in UTF-8, and the check of a raw ISO 2709 record's structure before YAZ reads it. */
#ifndef TL_INGEST_MARC_H
#define TL_INGEST_MARC_H

#include <stddef.h>

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

#endif
