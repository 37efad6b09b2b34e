/* The line reader over plain and gzip files (src/util/lines.c), checked against a reference:
 * the input decoded in one go by zlib (member after member, zero padding allowed) and split
 * at LF, CRLF and CR. When the reference decodes the whole input, the reader must return
 * exactly its lines; when it cannot (truncated, corrupt, junk after the end), the reader must
 * fail, after lines that the reference also has. Lines over TL_LINE_MAX come in pieces. */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "util/lines.h"

/* Decodes data as tl_lines should; returns 0 and *out (malloc'd) or -1 when it is damaged.
 * Plain data is itself. */
static int reference(const uint8_t *data, size_t size, uint8_t **out, size_t *outlen)
{
    size_t cap = 4096, len = 0;
    uint8_t *buf = malloc(cap);
    TL_FUZZ_CHECK(buf != NULL);
    *out = buf;
    *outlen = 0;
    if (size < 2 || data[0] != 0x1f || data[1] != 0x8b) {
        free(buf);
        *out = malloc(size + 1);
        TL_FUZZ_CHECK(*out != NULL);
        memcpy(*out, data, size);
        *outlen = size;
        return 0;
    }
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    TL_FUZZ_CHECK(inflateInit2(&zs, 31) == Z_OK);
    zs.next_in = (Bytef *)data;
    zs.avail_in = (uInt)size;
    int rc = -1;
    for (;;) {
        if (len == cap) {
            buf = realloc(buf, cap *= 2);
            TL_FUZZ_CHECK(buf != NULL);
            *out = buf;
        }
        zs.next_out = buf + len;
        zs.avail_out = (uInt)(cap - len);
        int ret = inflate(&zs, Z_NO_FLUSH);
        len = cap - zs.avail_out;
        if (ret == Z_STREAM_END) {
            int padded = 0;
            while (zs.avail_in && *zs.next_in == 0) { /* padding to the end, or junk */
                zs.next_in++;
                zs.avail_in--;
                padded = 1;
            }
            if (zs.avail_in == 0) {
                rc = 0;
                break;
            }
            if (padded || *zs.next_in != 0x1f)
                break; /* junk after the end (or after zero padding) */
            TL_FUZZ_CHECK(inflateReset(&zs) == Z_OK);
        } else if (ret != Z_OK && !(ret == Z_BUF_ERROR && zs.avail_out == 0)) {
            break;
        } else if (zs.avail_in == 0 && zs.avail_out != 0) {
            break; /* truncated */
        }
    }
    inflateEnd(&zs);
    *outlen = len;
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *ref;
    size_t reflen;
    int ref_ok = reference(data, size, &ref, &reflen) == 0;
    const char *path = tl_fuzz_file(data, size, ".gz");
    tl_lines lr;
    TL_FUZZ_CHECK(tl_lines_open(&lr, path) == TL_OK);
    size_t pos = 0; /* where the next line starts in ref */
    long lines = 0;
    int got, more = 0, in_long = 0;
    char *line;
    size_t len;
    while ((got = tl_lines_next_piece(&lr, &line, &len, &more)) == 1) {
        TL_FUZZ_CHECK(len <= TL_LINE_MAX && (!more || len == TL_LINE_MAX));
        TL_FUZZ_CHECK(pos + len <= reflen && memcmp(ref + pos, line, len) == 0);
        TL_FUZZ_CHECK(more || line[len] == '\0');
        pos += len;
        if (!in_long)
            lines++;
        in_long = more;
        TL_FUZZ_CHECK(lr.lineno == lines);
        if (more)
            continue;
        /* the line end that the reader dropped: CRLF, LF or CR, or the end of the data */
        if (pos < reflen && ref[pos] == '\r')
            pos += pos + 1 < reflen && ref[pos + 1] == '\n' ? 2 : 1;
        else if (pos < reflen)
            TL_FUZZ_CHECK(ref[pos++] == '\n');
    }
    if (ref_ok) {
        TL_FUZZ_CHECK(got == 0 && pos == reflen);
    } else {
        TL_FUZZ_CHECK(got == -TL_ECORRUPT);
        TL_FUZZ_CHECK(tl_lines_error(&lr)[0] != '\0');
    }
    tl_lines_close(&lr);
    free(ref);
    return 0;
}
