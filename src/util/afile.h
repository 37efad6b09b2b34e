/* Replacing a file safely: the new content goes to a temporary file in the target's directory,
 * is synced, and is renamed over the target, so a reader sees the old file or the new one and
 * a failed write leaves the old file as it was. Used by model files and the CLI's --out. */
#ifndef TL_UTIL_AFILE_H
#define TL_UTIL_AFILE_H

#include "tailor/error.h"

typedef struct tl_afile {
    int fd;       /* write here (-1 when closed) */
    char *target; /* the path that gets the content (a followed symlink's target) */
    char *tmp;    /* the temporary file renamed over target, or NULL when writing directly */
} tl_afile;

enum {
    /* Only a regular file (or nothing) may be at the path: refuse devices, FIFOs and sockets
     * instead of writing to them (a model file must never replace /dev/something). */
    TL_AFILE_REGULAR = 1,
};

/* Opens path for writing. Absent or a regular file: a temporary file beside it (same mode as
 * the file it replaces, else 0666 less the umask) that tl_afile_commit renames over it. A
 * symbolic link is followed when it leads to a regular file (the file it points to is replaced,
 * the link stays), and refused when it dangles or loops. A device, FIFO or socket is written
 * directly, unless flags has TL_AFILE_REGULAR: then it is refused. A directory is refused.
 * Errors: TL_EIO (the OS refused; d names path and says why), TL_EINVAL (refused by the rules
 * above; d says why), TL_ENOMEM. On error a is left closed (tl_afile_abort is harmless). */
tl_err tl_afile_open(tl_afile *a, const char *path, int flags, tl_diag *d);
/* Checks what tl_afile_open would refuse (and whether the directory, or the device, can be
 * written) without creating anything: to fail before a long computation. Same errors. */
tl_err tl_afile_check(const char *path, int flags, tl_diag *d);
/* Syncs and closes the file and renames the temporary over the target (then syncs the
 * directory). TL_EIO with d naming the target and the OS reason; the temporary is removed and
 * the target is left as it was. a is closed in every case. */
tl_err tl_afile_commit(tl_afile *a, tl_diag *d);
/* Closes a without touching the target: the temporary file is removed. Safe on a closed a. */
void tl_afile_abort(tl_afile *a);

#endif
