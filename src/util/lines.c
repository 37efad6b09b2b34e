/* Line reading through zlib's gzread: one code path for .tsv and .tsv.gz. */
#include "util/lines.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#define READ_CHUNK (1u << 18)

tl_err tl_lines_open(tl_lines *lr, const char *path)
{
    memset(lr, 0, sizeof(*lr));
    snprintf(lr->path, sizeof(lr->path), "%s", path);
    gzFile gz = strcmp(path, "-") == 0 ? gzdopen(dup(STDIN_FILENO), "rb") : gzopen(path, "rb");
    if (!gz)
        return TL_EIO;
    gzbuffer(gz, READ_CHUNK);
    lr->gz = gz;
    lr->cap = 2 * READ_CHUNK;
    if (!(lr->buf = malloc(lr->cap + 1))) {
        gzclose(gz);
        lr->gz = NULL;
        return TL_ENOMEM;
    }
    return TL_OK;
}

/* Moves unread bytes to the front and reads more; returns bytes read, 0 at EOF, -1 on error. */
static int fill(tl_lines *lr)
{
    if (lr->pos > 0) {
        memmove(lr->buf, lr->buf + lr->pos, lr->len - lr->pos);
        lr->len -= lr->pos;
        lr->pos = 0;
    }
    if (lr->len == lr->cap) {
        if (lr->cap >= TL_LINE_MAX + READ_CHUNK)
            return -2;
        char *nb = realloc(lr->buf, lr->cap * 2 + 1);
        if (!nb)
            return -1;
        lr->buf = nb;
        lr->cap *= 2;
    }
    int n = gzread(lr->gz, lr->buf + lr->len, (unsigned)(lr->cap - lr->len));
    if (n < 0)
        return -1;
    lr->len += (size_t)n;
    return n;
}

/* The buffer is full without a newline: drop the rest of that line so that the caller can go on
 * with the next one (a reader that keeps the bytes would return this error forever). */
static int skip_long_line(tl_lines *lr)
{
    for (;;) {
        lr->pos = lr->len = 0;
        int n = gzread(lr->gz, lr->buf, (unsigned)lr->cap);
        if (n < 0)
            return -TL_EIO;
        if (n == 0) {
            lr->eof = 1;
            return -TL_EPARSE;
        }
        lr->len = (size_t)n;
        char *nl = memchr(lr->buf, '\n', lr->len);
        if (nl) {
            lr->pos = (size_t)(nl - lr->buf) + 1;
            return -TL_EPARSE;
        }
    }
}

int tl_lines_next(tl_lines *lr, char **line, size_t *len)
{
    for (;;) {
        char *start = lr->buf + lr->pos;
        char *nl = memchr(start, '\n', lr->len - lr->pos);
        if (nl || (lr->eof && lr->pos < lr->len)) {
            size_t n = nl ? (size_t)(nl - start) : lr->len - lr->pos;
            lr->pos += n + (nl ? 1 : 0);
            if (n > TL_LINE_MAX)
                return -TL_EPARSE;
            if (n && start[n - 1] == '\r')
                n--;
            start[n] = '\0';
            *line = start;
            *len = n;
            lr->lineno++;
            return 1;
        }
        if (lr->eof)
            return 0;
        int got = fill(lr);
        if (got == -2)
            return skip_long_line(lr);
        if (got < 0)
            return -TL_EIO;
        if (got == 0)
            lr->eof = 1;
    }
}

long long tl_lines_offset(const tl_lines *lr)
{
    return lr->gz ? (long long)gzoffset(lr->gz) : 0;
}

void tl_lines_close(tl_lines *lr)
{
    if (lr->gz)
        gzclose(lr->gz);
    free(lr->buf);
    memset(lr, 0, sizeof(*lr));
}
