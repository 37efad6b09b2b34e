/* Model file container: written once through a temporary file and rename (util/afile.h), read
 * by mmap. */
#include "core/mfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "util/afile.h"

static const char MAGIC[8] = {'T', 'A', 'I', 'L', 'O', 'R', 'M', 'F'};
#define HEADER_BYTES 64
#define ENTRY_BYTES 64
#define ALIGN 64
#define MAX_SECTIONS 256

typedef struct {
    char magic[8];
    uint32_t version;
    uint32_t nsections;
    uint64_t file_size;
    uint32_t crc; /* crc32 of bytes [HEADER_BYTES, file_size) */
    uint32_t reserved;
    uint8_t pad[32];
} header;

typedef struct {
    char name[TL_MFILE_NAME_MAX];
    uint32_t type;
    uint32_t reserved;
    uint64_t offset;
    uint64_t count;
    uint64_t bytes;
} entry;

_Static_assert(sizeof(header) == HEADER_BYTES, "header layout");
_Static_assert(sizeof(entry) == ENTRY_BYTES, "entry layout");

struct tl_mfile_writer {
    entry e[MAX_SECTIONS];
    const void *data[MAX_SECTIONS];
    uint32_t n;
    char prefix[TL_MFILE_PREFIX_MAX]; /* prepended to the names added */
};

struct tl_mfile {
    const uint8_t *map;
    size_t size;
    const entry *e;
    uint32_t n;
    char prefix[TL_MFILE_PREFIX_MAX]; /* prepended to the names looked up */
    int is_view;                      /* the mapping belongs to another tl_mfile */
};

static size_t elem_size(uint32_t type)
{
    switch (type) {
    case TL_MT_BYTES:
        return 1;
    case TL_MT_F32:
        return 4;
    case TL_MT_I32:
        return 4;
    case TL_MT_I64:
        return 8;
    }
    return 0;
}

static uint64_t align_up(uint64_t x)
{
    return (x + ALIGN - 1) & ~(uint64_t)(ALIGN - 1);
}

tl_err tl_mfile_writer_new(tl_mfile_writer **out)
{
    tl_mfile_writer *w = calloc(1, sizeof(*w));
    if (!w)
        return TL_ENOMEM;
    *out = w;
    return TL_OK;
}

void tl_mfile_writer_free(tl_mfile_writer *w)
{
    free(w);
}

tl_err tl_mfile_writer_set_prefix(tl_mfile_writer *w, const char *prefix)
{
    size_t len = prefix ? strlen(prefix) : 0;
    if (len >= TL_MFILE_PREFIX_MAX)
        return TL_EINVAL;
    memcpy(w->prefix, prefix ? prefix : "", len + 1);
    return TL_OK;
}

tl_err tl_mfile_add(tl_mfile_writer *w, const char *name, tl_mtype type, const void *data,
                    uint64_t count)
{
    char full[TL_MFILE_NAME_MAX + TL_MFILE_PREFIX_MAX];
    if (w->prefix[0]) {
        snprintf(full, sizeof(full), "%s%s", w->prefix, name);
        name = full;
    }
    size_t len = strlen(name);
    if (!len || len >= TL_MFILE_NAME_MAX || w->n == MAX_SECTIONS || !elem_size(type) ||
        (count && !data))
        return TL_EINVAL;
    for (uint32_t i = 0; i < w->n; i++)
        if (strcmp(w->e[i].name, name) == 0)
            return TL_EINVAL;
    entry *e = &w->e[w->n];
    memset(e, 0, sizeof(*e));
    memcpy(e->name, name, len);
    e->type = type;
    e->count = count;
    e->bytes = count * elem_size(type);
    w->data[w->n++] = data;
    return TL_OK;
}

static int write_all(int fd, const void *p, size_t n, uLong *crc)
{
    const uint8_t *s = p;
    if (crc)
        *crc = crc32_z(*crc, s, n);
    while (n) {
        ssize_t k = write(fd, s, n > (1u << 30) ? (1u << 30) : n);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        s += k;
        n -= (size_t)k;
    }
    return 0;
}

tl_err tl_mfile_write(tl_mfile_writer *w, const char *path, tl_diag *diag)
{
    static const uint8_t zeros[ALIGN];
    uint64_t off = align_up(HEADER_BYTES + (uint64_t)w->n * ENTRY_BYTES);
    for (uint32_t i = 0; i < w->n; i++) {
        w->e[i].offset = off;
        off = align_up(off + w->e[i].bytes);
    }
    header h;
    memset(&h, 0, sizeof(h));
    memcpy(h.magic, MAGIC, sizeof(MAGIC));
    h.version = TL_MFILE_VERSION;
    h.nsections = w->n;
    h.file_size = off;

    /* A model file replaces only a regular file (or nothing), never a device at path. */
    tl_afile af;
    tl_err rc = tl_afile_open(&af, path, TL_AFILE_REGULAR, diag);
    if (rc != TL_OK)
        return rc;
    int fd = af.fd;
    uLong crc = crc32_z(0L, Z_NULL, 0);
    uint64_t pos = HEADER_BYTES;
    int bad = write_all(fd, &h, sizeof(h), NULL);
    bad = bad || write_all(fd, w->e, (size_t)w->n * ENTRY_BYTES, &crc);
    pos += (uint64_t)w->n * ENTRY_BYTES;
    for (uint32_t i = 0; i < w->n && !bad; i++) {
        bad = write_all(fd, zeros, (size_t)(w->e[i].offset - pos), &crc);
        bad = bad || write_all(fd, w->data[i], (size_t)w->e[i].bytes, &crc);
        pos = w->e[i].offset + w->e[i].bytes;
    }
    bad = bad || write_all(fd, zeros, (size_t)(off - pos), &crc);
    h.crc = (uint32_t)crc;
    bad = bad || pwrite(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h);
    if (bad) {
        tl_diag_set(diag, path, 0, NULL, "cannot write: %s", strerror(errno));
        tl_afile_abort(&af);
        return TL_EIO;
    }
    return tl_afile_commit(&af, diag);
}

tl_err tl_mfile_open(const char *path, tl_mfile **out, tl_diag *diag)
{
    tl_err rc = TL_EIO;
    tl_mfile *f = NULL;
    void *map = MAP_FAILED;
    struct stat st;
    int fd = open(path, O_RDONLY);
    if (fd < 0 || fstat(fd, &st) != 0) {
        tl_diag_set(diag, path, 0, NULL, "cannot open: %s", strerror(errno));
        goto out;
    }
    rc = TL_ECORRUPT;
    if ((size_t)st.st_size < HEADER_BYTES) {
        tl_diag_set(diag, path, 0, NULL, "not a Tailor model file (too short)");
        goto out;
    }
    map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map == MAP_FAILED) {
        rc = TL_EIO;
        tl_diag_set(diag, path, 0, NULL, "cannot map: %s", strerror(errno));
        goto out;
    }
    const uint8_t *p = map;
    header h;
    memcpy(&h, p, sizeof(h));
    if (memcmp(h.magic, MAGIC, sizeof(MAGIC)) != 0) {
        tl_diag_set(diag, path, 0, NULL, "not a Tailor model file (bad magic)");
        goto out;
    }
    if (h.version != TL_MFILE_VERSION) {
        rc = TL_EVERSION;
        tl_diag_set(diag, path, 0, NULL, "model file version %u, this build reads version %u",
                    h.version, TL_MFILE_VERSION);
        goto out;
    }
    if (h.file_size != (uint64_t)st.st_size || h.nsections > MAX_SECTIONS ||
        HEADER_BYTES + (uint64_t)h.nsections * ENTRY_BYTES > h.file_size) {
        tl_diag_set(diag, path, 0, NULL, "truncated or damaged (size %lld, header says %llu)",
                    (long long)st.st_size, (unsigned long long)h.file_size);
        goto out;
    }
    uLong crc =
        crc32_z(crc32_z(0L, Z_NULL, 0), p + HEADER_BYTES, (size_t)(h.file_size - HEADER_BYTES));
    if ((uint32_t)crc != h.crc) {
        tl_diag_set(diag, path, 0, NULL, "checksum mismatch: the file is damaged");
        goto out;
    }
    const entry *e = (const entry *)(p + HEADER_BYTES);
    for (uint32_t i = 0; i < h.nsections; i++) {
        size_t es = elem_size(e[i].type);
        /* count from bytes, not bytes from count: count * es can wrap around to bytes */
        if (!es || e[i].offset % ALIGN || e[i].bytes % es || e[i].count != e[i].bytes / es ||
            e[i].offset > h.file_size || e[i].bytes > h.file_size - e[i].offset ||
            memchr(e[i].name, '\0', TL_MFILE_NAME_MAX) == NULL) {
            tl_diag_set(diag, path, 0, NULL, "section %u is malformed", i);
            goto out;
        }
    }
    if (!(f = calloc(1, sizeof(*f)))) {
        rc = TL_ENOMEM;
        goto out;
    }
    f->map = p;
    f->size = (size_t)st.st_size;
    f->e = e;
    f->n = h.nsections;
    map = MAP_FAILED;
    *out = f;
    rc = TL_OK;
out:
    if (map != MAP_FAILED)
        munmap(map, (size_t)st.st_size);
    if (fd >= 0)
        close(fd);
    return rc;
}

void tl_mfile_close(tl_mfile *f)
{
    if (!f)
        return;
    if (!f->is_view)
        munmap((void *)f->map, f->size);
    free(f);
}

tl_err tl_mfile_view(const tl_mfile *f, const char *prefix, tl_mfile **out)
{
    size_t len = prefix ? strlen(prefix) : 0;
    if (len >= TL_MFILE_PREFIX_MAX)
        return TL_EINVAL;
    tl_mfile *v = malloc(sizeof(*v));
    if (!v)
        return TL_ENOMEM;
    *v = *f;
    v->is_view = 1;
    memcpy(v->prefix, prefix ? prefix : "", len + 1);
    *out = v;
    return TL_OK;
}

const void *tl_mfile_get(const tl_mfile *f, const char *name, tl_mtype type, uint64_t *count)
{
    char full[TL_MFILE_NAME_MAX + TL_MFILE_PREFIX_MAX];
    if (f->prefix[0]) {
        snprintf(full, sizeof(full), "%s%s", f->prefix, name);
        name = full;
    }
    for (uint32_t i = 0; i < f->n; i++) {
        if (strcmp(f->e[i].name, name) == 0) {
            if (f->e[i].type != (uint32_t)type)
                return NULL;
            if (count)
                *count = f->e[i].count;
            return f->map + f->e[i].offset;
        }
    }
    return NULL;
}
