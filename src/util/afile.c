/* Atomic file replacement: temporary file, fsync, rename, fsync of the directory. */
#include "util/afile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Temporary names tried before giving up (each is O_EXCL: another writer may hold one). */
#define TMP_TRIES 100

static tl_err os_fail(tl_diag *d, const char *path, const char *what)
{
    int err = errno;
    tl_diag_set(d, path, 0, NULL, "%s: %s", what, strerror(err));
    return TL_EIO;
}

/* "<dir>/.<base>.tmp-<pid>-<k>", created exclusively with mode 0666 less the umask. */
static tl_err open_tmp(tl_afile *a, tl_diag *d)
{
    const char *slash = strrchr(a->target, '/');
    size_t dlen = slash ? (size_t)(slash - a->target) + 1 : 0;
    const char *base = a->target + dlen;
    size_t cap = strlen(a->target) + 64;
    if (!(a->tmp = malloc(cap)))
        return TL_ENOMEM;
    for (int k = 0; k < TMP_TRIES; k++) {
        snprintf(a->tmp, cap, "%.*s.%s.tmp-%ld-%d", (int)dlen, a->target, base, (long)getpid(), k);
        a->fd = open(a->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (a->fd >= 0)
            return TL_OK;
        if (errno != EEXIST)
            break;
    }
    tl_err rc = os_fail(d, a->target, "cannot create");
    free(a->tmp);
    a->tmp = NULL;
    return rc;
}

/* What is at path, by the rules of tl_afile_open: *target (malloc'd) is the path to write,
 * *st what is there (when *exists). */
static tl_err classify(const char *path, int flags, char **target, struct stat *st, int *exists,
                       tl_diag *d)
{
    *target = NULL;
    if (!path || !*path) {
        tl_diag_set(d, NULL, 0, NULL, "an empty file name");
        return TL_EINVAL;
    }
    *exists = lstat(path, st) == 0;
    if (!*exists && errno != ENOENT)
        return os_fail(d, path, "cannot write");
    if (*exists && S_ISLNK(st->st_mode)) {
        /* Follow the link, so that it still points to the new content afterwards. */
        if (!(*target = realpath(path, NULL))) {
            if (errno != ENOENT)
                return os_fail(d, path, "cannot follow the symbolic link");
            tl_diag_set(d, path, 0, NULL,
                        "is a symbolic link to a missing file; refusing to write through it");
            return TL_EINVAL;
        }
        if (stat(*target, st) != 0) {
            tl_err rc = os_fail(d, path, "cannot write");
            free(*target);
            *target = NULL;
            return rc;
        }
    } else if (!(*target = strdup(path))) {
        return TL_ENOMEM;
    }
    const char *why = NULL;
    if (*exists && S_ISDIR(st->st_mode))
        why = "is a directory";
    else if (*exists && !S_ISREG(st->st_mode) && (flags & TL_AFILE_REGULAR))
        why = "is not a regular file (a device, FIFO or socket); refusing to replace it";
    if (why) {
        tl_diag_set(d, path, 0, NULL, "%s", why);
        free(*target);
        *target = NULL;
        return TL_EINVAL;
    }
    return TL_OK;
}

/* The directory of path, for access checks and syncing ("." when path has none). */
static void dir_of(const char *path, char *dir, size_t len)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(dir, len, ".");
    else if (slash == path)
        snprintf(dir, len, "/");
    else
        snprintf(dir, len, "%.*s", (int)(slash - path), path);
}

tl_err tl_afile_check(const char *path, int flags, tl_diag *d)
{
    char *target, dir[PATH_MAX];
    struct stat st;
    int exists;
    tl_err rc = classify(path, flags, &target, &st, &exists, d);
    if (rc != TL_OK)
        return rc;
    if (!exists || S_ISREG(st.st_mode)) {
        dir_of(target, dir, sizeof(dir));
        if (access(dir, W_OK | X_OK) != 0)
            rc = os_fail(d, path, "cannot create");
    } else if (access(target, W_OK) != 0) {
        rc = os_fail(d, path, "cannot write");
    }
    free(target);
    return rc;
}

tl_err tl_afile_open(tl_afile *a, const char *path, int flags, tl_diag *d)
{
    struct stat st;
    int exists;
    a->fd = -1;
    a->tmp = NULL;
    tl_err rc = classify(path, flags, &a->target, &st, &exists, d);
    if (rc != TL_OK)
        return rc;
    if (exists && !S_ISREG(st.st_mode)) {
        if ((a->fd = open(a->target, O_WRONLY | O_CLOEXEC)) >= 0)
            return TL_OK;
        rc = os_fail(d, path, "cannot write");
    } else if ((rc = open_tmp(a, d)) == TL_OK) {
        if (!exists || fchmod(a->fd, st.st_mode & 07777) == 0)
            return TL_OK;
        rc = os_fail(d, path, "cannot set the mode");
    }
    tl_afile_abort(a);
    return rc;
}

/* Makes the rename durable; a file system that cannot sync a directory is not an error. */
static void sync_dir(const char *target)
{
    char dir[PATH_MAX];
    dir_of(target, dir, sizeof(dir));
    int fd = open(dir, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

tl_err tl_afile_commit(tl_afile *a, tl_diag *d)
{
    tl_err rc = TL_OK;
    if (a->fd < 0)
        return TL_EINVAL;
    if (a->tmp && fsync(a->fd) != 0)
        rc = os_fail(d, a->target, "cannot write");
    if (close(a->fd) != 0 && rc == TL_OK)
        rc = os_fail(d, a->target, "cannot write");
    a->fd = -1;
    if (rc == TL_OK && a->tmp) {
        if (rename(a->tmp, a->target) != 0)
            rc = os_fail(d, a->target, "cannot replace");
        else
            sync_dir(a->target);
    }
    if (rc == TL_OK) {
        free(a->tmp);
        a->tmp = NULL;
    }
    tl_afile_abort(a);
    return rc;
}

void tl_afile_abort(tl_afile *a)
{
    if (a->fd >= 0)
        close(a->fd);
    a->fd = -1;
    if (a->tmp)
        unlink(a->tmp);
    free(a->tmp);
    free(a->target);
    a->tmp = NULL;
    a->target = NULL;
}
