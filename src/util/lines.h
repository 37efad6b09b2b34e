/* Buffered line reader over plain or gzip-compressed files: the one place where bytes become
 * lines for every reader above it (ingest's CSV/TSV and JSON Lines readers, eval's files).
 * gzip is decoded here with zlib's inflate, not gzread, so that a stream that ends early, fails
 * its CRC or is followed by junk is an error instead of a shorter file, and concatenated gzip
 * members (RFC 1952: cat a.gz b.gz > c.gz) are read one after the other.
 * Lines are handed out in place, writable and NUL-terminated, without their line end. */
#ifndef TL_UTIL_LINES_H
#define TL_UTIL_LINES_H

#include <stddef.h>

#include "tailor/error.h"

#define TL_LINE_MAX (1u << 20) /* a longer line is an error, not a reason to grow forever */

/* Line ends. By default LF, CRLF and a lone CR (old Mac files) each end a line. With
 * TL_LINES_LF_ONLY only LF does: a CR right before it is dropped, any other CR is data. That
 * is how Python reads a binary file line by line, which the split and eval readers mirror. */
#define TL_LINES_LF_ONLY 1u

typedef struct tl_lines {
    int fd;
    unsigned flags;
    void *zs;           /* the z_stream while the file is gzip, else NULL */
    unsigned char *in;  /* compressed bytes not yet inflated (gzip) */
    int sniffed;        /* the first bytes were read and the format is known */
    int in_eof;         /* the file has no more bytes (gzip: compressed ones) */
    int member_done;    /* gzip: the last member ended; more data must be another member */
    long members;       /* gzip members completed */
    long long consumed; /* bytes read from the file */
    char *buf;
    size_t cap, len, pos;
    size_t cr_next; /* index of the first CR at or after pos, len when none (SIZE_MAX: unknown) */
    long lineno;    /* 1-based number of the line last returned (a long line counts once) */
    int eof;        /* no more bytes will come into buf */
    int err;        /* the tl_err that ended the stream, reported after the lines before it */
    int in_long;    /* a line over TL_LINE_MAX is being handed out in pieces */
    int truncated;  /* err is a gzip stream that ended early */
    char path[256];
    char msg[160]; /* why the last call failed */
} tl_lines;

/* Opens path ("-" = stdin) with LF, CRLF and CR as line ends. Plain or gzip is told from the
 * first bytes, not the name. Returns TL_EIO (errno set) when it cannot open, TL_ENOMEM. */
tl_err tl_lines_open(tl_lines *lr, const char *path);
/* The same with flags (TL_LINES_LF_ONLY). */
tl_err tl_lines_open_flags(tl_lines *lr, const char *path, unsigned flags);

/* Next line: 1 and (*line, *len) on success, 0 at end of file, or a negated tl_err with
 * tl_lines_error saying why: -TL_EPARSE for a line over TL_LINE_MAX (consumed: the next call
 * goes on with the line after it), -TL_ECORRUPT when the gzip stream is truncated, fails its
 * checks or is followed by bytes that are not gzip, -TL_EIO for a read error, -TL_ENOMEM.
 * The last three are final; every complete line before the damage is returned first, a
 * partial line cut by it never is. */
int tl_lines_next(tl_lines *lr, char **line, size_t *len);

/* Like tl_lines_next, but a line over TL_LINE_MAX is no error: it comes in pieces of
 * TL_LINE_MAX bytes with *more = 1, then its last piece (possibly empty) with *more = 0. Only
 * a last piece is NUL-terminated. For readers that must see every byte (a CSV quote state). */
int tl_lines_next_piece(tl_lines *lr, char **line, size_t *len, int *more);

/* Why the last call failed ("truncated gzip stream (unexpected end after 12 lines)"), or "". */
const char *tl_lines_error(const tl_lines *lr);

/* Bytes of the underlying file consumed so far (compressed bytes for .gz), for progress. */
long long tl_lines_offset(const tl_lines *lr);

/* Closes lr (a zeroed or closed reader too). */
void tl_lines_close(tl_lines *lr);

#endif
