/* Line reading with read(2) and zlib's inflate: one code path for .tsv and .tsv.gz, and every
 * way a gzip file can be damaged is an error that names what is wrong. */
#include "util/lines.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define READ_CHUNK (1u << 18)                  /* bytes asked of read(2) or inflate at once */
#define BUF_MAX (TL_LINE_MAX + 2 * READ_CHUNK) /* a full buffer always holds a line or a piece */
#define GZIP_WBITS (15 + 16)                   /* 32 KiB window, gzip wrapper only */
#define NO_CR SIZE_MAX                         /* cr_next: unknown, look again */

tl_err tl_lines_open_flags(tl_lines *lr, const char *path, unsigned flags)
{
    memset(lr, 0, sizeof(*lr));
    lr->fd = -1;
    lr->flags = flags;
    snprintf(lr->path, sizeof(lr->path), "%s", path);
    int fd = strcmp(path, "-") == 0 ? dup(STDIN_FILENO) : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return TL_EIO;
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) { /* a failure to open, not bad data */
        close(fd);
        errno = EISDIR;
        return TL_EIO;
    }
    lr->cap = 2 * READ_CHUNK;
    if (!(lr->buf = malloc(lr->cap + 1))) {
        close(fd);
        return TL_ENOMEM;
    }
    lr->fd = fd;
    return TL_OK;
}

tl_err tl_lines_open(tl_lines *lr, const char *path)
{
    return tl_lines_open_flags(lr, path, 0);
}

const char *tl_lines_error(const tl_lines *lr)
{
    return lr->msg;
}

/* Ends the stream with rc: the lines before it are returned first. Returns -1. */
static int stop(tl_lines *lr, tl_err rc, const char *why)
{
    lr->err = rc;
    snprintf(lr->msg, sizeof(lr->msg), "%s", why);
    return -1;
}

/* read(2) into dst; returns the count, 0 at the end of the file, -1 after stop(). */
static int read_raw(tl_lines *lr, void *dst, size_t cap)
{
    for (;;) {
        ssize_t n = read(lr->fd, dst, cap);
        if (n >= 0) {
            lr->consumed += n;
            return (int)n;
        }
        if (errno != EINTR)
            return stop(lr, TL_EIO, strerror(errno));
    }
}

/* Inflates into dst, member after member; returns the count, 0 at a clean end, -1 after
 * stop() (or the count of the bytes inflated before the damage, with lr->err set). A member
 * must follow a member; zero bytes to the end of the file are padding. */
static int inflate_some(tl_lines *lr, char *dst, size_t cap)
{
    z_stream *zs = lr->zs;
    for (;;) {
        if (zs->avail_in == 0 && !lr->in_eof) {
            int n = read_raw(lr, lr->in, READ_CHUNK);
            if (n < 0)
                return -1;
            lr->in_eof = n == 0;
            zs->next_in = lr->in;
            zs->avail_in = (uInt)n;
        }
        if (lr->member_done) {
            while (zs->avail_in && *zs->next_in == 0) {
                zs->next_in++;
                zs->avail_in--;
                lr->member_done = 2; /* padding: only zeros may follow now */
            }
            if (zs->avail_in == 0) {
                if (lr->in_eof)
                    return 0;
                continue;
            }
            if (lr->member_done == 2 || *zs->next_in != 0x1f)
                return stop(lr, TL_ECORRUPT, "not gzip data after the end of the gzip stream");
            if (inflateReset(zs) != Z_OK)
                return stop(lr, TL_ECORRUPT, "corrupt gzip stream");
            lr->member_done = 0;
        }
        zs->next_out = (Bytef *)dst;
        zs->avail_out = (uInt)cap;
        int ret = inflate(zs, Z_NO_FLUSH);
        int got = (int)(cap - zs->avail_out);
        if (ret == Z_STREAM_END) {
            lr->member_done = 1;
            lr->members++;
        } else if (ret == Z_BUF_ERROR || (ret == Z_OK && zs->avail_in == 0 && lr->in_eof)) {
            if (zs->avail_in == 0 && lr->in_eof && !got) {
                lr->truncated = 1; /* the message counts the lines returned before it */
                return stop(lr, TL_ECORRUPT, "truncated gzip stream");
            }
        } else if (ret == Z_MEM_ERROR) {
            return stop(lr, TL_ENOMEM, "out of memory");
        } else if (ret != Z_OK) {
            char why[128];
            if (lr->members && zs->msg && strcmp(zs->msg, "incorrect header check") == 0)
                snprintf(why, sizeof(why), "not gzip data after the end of the gzip stream");
            else
                snprintf(why, sizeof(why), "corrupt gzip stream (%s)",
                         zs->msg ? zs->msg : "bad data");
            stop(lr, TL_ECORRUPT, why);
            return got ? got : -1; /* the bytes before the damage still count */
        }
        if (got)
            return got;
    }
}

/* The first bytes tell plain from gzip (magic 1f 8b). They are read into buf; for gzip they
 * move to the compressed side. Returns 0 or -1 after stop(). */
static int sniff(tl_lines *lr)
{
    lr->sniffed = 1;
    while (lr->len < 2) {
        int n = read_raw(lr, lr->buf + lr->len, READ_CHUNK - lr->len);
        if (n < 0)
            return -1;
        if (n == 0) {
            lr->eof = 1;
            return 0;
        }
        lr->len += (size_t)n;
    }
    if ((unsigned char)lr->buf[0] != 0x1f || (unsigned char)lr->buf[1] != 0x8b)
        return 0;
    z_stream *zs = calloc(1, sizeof(*zs));
    lr->in = malloc(READ_CHUNK);
    if (!zs || !lr->in || inflateInit2(zs, GZIP_WBITS) != Z_OK) {
        free(zs);
        return stop(lr, TL_ENOMEM, "out of memory");
    }
    lr->zs = zs;
    memcpy(lr->in, lr->buf, lr->len);
    zs->next_in = lr->in;
    zs->avail_in = (uInt)lr->len;
    lr->len = 0;
    return 0;
}

/* After bytes were added to buf[from..len): where the next CR is, when no CR was known before
 * them (one memchr per read, instead of one per line, for the files that have none). */
static void scan_cr(tl_lines *lr, size_t from)
{
    if (lr->cr_next != from || lr->flags & TL_LINES_LF_ONLY)
        return;
    const char *c = memchr(lr->buf + from, '\r', lr->len - from);
    lr->cr_next = c ? (size_t)(c - lr->buf) : lr->len;
}

/* Moves unread bytes to the front and reads more; at the end (or an error) sets eof. */
static void fill(tl_lines *lr)
{
    if (!lr->sniffed && (sniff(lr) < 0 || lr->len > 0 || lr->eof)) {
        if (lr->err)
            lr->eof = 1;
        scan_cr(lr, 0);
        return;
    }
    if (lr->pos > 0) {
        memmove(lr->buf, lr->buf + lr->pos, lr->len - lr->pos);
        lr->cr_next = lr->cr_next >= lr->pos ? lr->cr_next - lr->pos : NO_CR;
        lr->len -= lr->pos;
        lr->pos = 0;
    }
    if (lr->cap - lr->len < READ_CHUNK && lr->cap < BUF_MAX) {
        size_t cap = lr->cap * 2 < BUF_MAX ? lr->cap * 2 : BUF_MAX;
        char *nb = realloc(lr->buf, cap + 1);
        if (!nb) {
            stop(lr, TL_ENOMEM, "out of memory");
            lr->eof = 1;
            return;
        }
        lr->buf = nb;
        lr->cap = cap;
    }
    size_t room = lr->cap - lr->len;
    if (room > READ_CHUNK)
        room = READ_CHUNK;
    int n =
        lr->zs ? inflate_some(lr, lr->buf + lr->len, room) : read_raw(lr, lr->buf + lr->len, room);
    if (n > 0) {
        lr->len += (size_t)n;
        scan_cr(lr, lr->len - (size_t)n);
    }
    if (n <= 0 || lr->err)
        lr->eof = 1;
}

/* Finds the end of the line at start: its length and the length of its line end (0 when none
 * is in sight). Returns 0 when more bytes are needed to tell (a CR last in the buffer). */
static int find_eol(tl_lines *lr, const char *start, size_t avail, size_t *n, size_t *eol)
{
    const char *nl = memchr(start, '\n', avail);
    if (lr->flags & TL_LINES_LF_ONLY) {
        *n = nl ? (size_t)(nl - start) : avail;
        *eol = nl ? 1 : 0;
        if (nl && *n && start[*n - 1] == '\r') {
            (*n)--;
            *eol = 2;
        }
        return 1;
    }
    size_t lim = nl ? (size_t)(nl - start) : avail;
    if (lr->cr_next == NO_CR || lr->cr_next < lr->pos) { /* the CR seen last was consumed */
        const char *c = memchr(start, '\r', avail);
        lr->cr_next = c ? (size_t)(c - lr->buf) : lr->len;
    }
    const char *cr = lr->cr_next - lr->pos < lim ? lr->buf + lr->cr_next : NULL;
    if (!cr) {
        *n = lim;
        *eol = nl ? 1 : 0;
        return 1;
    }
    *n = (size_t)(cr - start);
    if (*n + 1 < avail) {
        *eol = start[*n + 1] == '\n' ? 2 : 1;
        return 1;
    }
    *eol = 1; /* a CR last in the buffer: a lone CR at the end of the file, else look further */
    return lr->eof;
}

int tl_lines_next_piece(tl_lines *lr, char **line, size_t *len, int *more)
{
    for (;;) {
        char *start = lr->buf + lr->pos;
        size_t avail = lr->len - lr->pos, n, eol;
        int sure = find_eol(lr, start, avail, &n, &eol);
        if ((sure && eol) || n > TL_LINE_MAX || (lr->eof && !lr->err && (avail || lr->in_long))) {
            if (!lr->in_long)
                lr->lineno++;
            if (n > TL_LINE_MAX) { /* a piece: no NUL, it would overwrite the line's next byte */
                lr->pos += TL_LINE_MAX;
                lr->in_long = 1;
                *line = start;
                *len = TL_LINE_MAX;
                *more = 1;
                return 1;
            }
            lr->pos += n + eol;
            lr->in_long = 0;
            start[n] = '\0';
            *line = start;
            *len = n;
            *more = 0;
            return 1;
        }
        if (lr->eof) {
            if (!lr->err)
                return 0;
            if (lr->truncated)
                snprintf(lr->msg, sizeof(lr->msg),
                         "truncated gzip stream (unexpected end after %ld lines)", lr->lineno);
            return -(int)lr->err;
        }
        fill(lr);
    }
}

int tl_lines_next(tl_lines *lr, char **line, size_t *len)
{
    int more;
    int got = tl_lines_next_piece(lr, line, len, &more);
    if (got != 1 || !more)
        return got;
    while ((got = tl_lines_next_piece(lr, line, len, &more)) == 1 && more)
        ;
    if (got < 0)
        return got;
    snprintf(lr->msg, sizeof(lr->msg), "line longer than 1 MiB");
    return -TL_EPARSE;
}

long long tl_lines_offset(const tl_lines *lr)
{
    return lr->consumed;
}

void tl_lines_close(tl_lines *lr)
{
    if (!lr->buf)
        return;
    if (lr->zs) {
        inflateEnd(lr->zs);
        free(lr->zs);
    }
    close(lr->fd);
    free(lr->in);
    free(lr->buf);
    memset(lr, 0, sizeof(*lr));
    lr->fd = -1;
}
