/* Model files: a versioned, checksummed container of named, 64-byte-aligned arrays that is
 * loaded with mmap, so a server can map a model read-only and swap it without copying.
 *
 * Layout: header (magic "TAILORMF", version, section count, file size, crc32 of everything
 * after the header), a table of sections {name, type, offset, count}, then the arrays. */
#ifndef TL_CORE_MFILE_H
#define TL_CORE_MFILE_H

#include <stdint.h>

#include "tailor/error.h"

#define TL_MFILE_VERSION 1
#define TL_MFILE_NAME_MAX 32

typedef enum tl_mtype {
    TL_MT_BYTES = 1, /* raw bytes (text, NUL-separated strings) */
    TL_MT_F32 = 2,
    TL_MT_I32 = 3,
    TL_MT_I64 = 4,
} tl_mtype;

typedef struct tl_mfile_writer tl_mfile_writer;
typedef struct tl_mfile tl_mfile;

tl_err tl_mfile_writer_new(tl_mfile_writer **out);
void tl_mfile_writer_free(tl_mfile_writer *w);
/* Adds a section. data is referenced, not copied: it must stay valid until write. Names are
 * unique and shorter than TL_MFILE_NAME_MAX. */
tl_err tl_mfile_add(tl_mfile_writer *w, const char *name, tl_mtype type, const void *data,
                    uint64_t count);
/* Sections added from now on are named prefix + name (NULL or "" for none; shorter than
 * TL_MFILE_PREFIX_MAX): a model that nests others (hybrid) stores each member's sections apart,
 * e.g. "m0.", "m1.". TL_EINVAL for a prefix too long. */
#define TL_MFILE_PREFIX_MAX 16
tl_err tl_mfile_writer_set_prefix(tl_mfile_writer *w, const char *prefix);
/* Writes to path atomically (a temporary file renamed over path, see util/afile.h). Only a
 * regular file or nothing may be at path (a symbolic link to a regular file is followed);
 * anything else is refused with TL_EINVAL. TL_EIO with diag naming path and the OS reason; on
 * every error path is left as it was. */
tl_err tl_mfile_write(tl_mfile_writer *w, const char *path, tl_diag *diag);

/* Maps path read-only and checks magic, version, size and checksum. TL_ECORRUPT/TL_EVERSION
 * with diag saying what is wrong. */
tl_err tl_mfile_open(const char *path, tl_mfile **out, tl_diag *diag);
void tl_mfile_close(tl_mfile *f);
/* A view of f whose lookups read the sections named prefix + name (the reading side of
 * tl_mfile_writer_set_prefix). It shares f's mapping: f must outlive the view and whatever
 * points into it; tl_mfile_close(view) frees the view only. TL_EINVAL, TL_ENOMEM. */
tl_err tl_mfile_view(const tl_mfile *f, const char *prefix, tl_mfile **out);
/* The section's data (aligned for its type), or NULL when absent or of another type. */
const void *tl_mfile_get(const tl_mfile *f, const char *name, tl_mtype type, uint64_t *count);

#endif
