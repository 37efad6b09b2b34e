/* Buffered line reader over plain or gzip-compressed files (zlib reads both transparently).
 * Lines are handed out in place, writable and NUL-terminated, with "\r\n" or "\n" stripped. */
#ifndef TL_UTIL_LINES_H
#define TL_UTIL_LINES_H

#include <stddef.h>

#include "tailor/error.h"

#define TL_LINE_MAX (1u << 20) /* a longer line is an error, not a reason to grow forever */

typedef struct tl_lines {
    void *gz; /* gzFile */
    char *buf;
    size_t cap, len, pos;
    long lineno; /* 1-based number of the line last returned */
    int eof;
    char path[256];
} tl_lines;

/* Opens path ("-" = stdin). Returns TL_EIO (with errno set) when it cannot. */
tl_err tl_lines_open(tl_lines *lr, const char *path);
/* Next line: 1 and (*line, *len) on success, 0 at end of file, TL_E* negated on error
 * (-TL_EIO for a read error, -TL_EPARSE for a line over TL_LINE_MAX). */
int tl_lines_next(tl_lines *lr, char **line, size_t *len);
/* Bytes of the underlying file consumed so far (compressed bytes for .gz), for progress. */
long long tl_lines_offset(const tl_lines *lr);
void tl_lines_close(tl_lines *lr);

#endif
