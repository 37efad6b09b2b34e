/* Error strings and diagnostics: the bottom of the util layer. */
#include "tailor/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *tl_strerror(tl_err rc)
{
    switch (rc) {
    case TL_OK:
        return "success";
    case TL_ENOMEM:
        return "out of memory";
    case TL_EIO:
        return "input/output error";
    case TL_EINVAL:
        return "invalid argument";
    case TL_EPARSE:
        return "malformed input";
    case TL_ENOTFOUND:
        return "not found";
    case TL_ECORRUPT:
        return "corrupt file";
    case TL_ETOOBIG:
        return "too large for the memory allowed";
    case TL_ESTORE:
        return "storage error";
    case TL_EUNSUPPORTED:
        return "not supported";
    case TL_EVERSION:
        return "incompatible version";
    case TL_ECANCELED:
        return "canceled";
    case TL_EBUSY:
        return "busy: the same work is already running";
    case TL_ENUMERIC:
        return "numerical failure";
    case TL_EEXIST:
        return "already exists";
    }
    return "unknown error";
}

void tl_diag_clear(tl_diag *d)
{
    if (d)
        memset(d, 0, sizeof(*d));
}

void tl_diag_set(tl_diag *d, const char *file, long line, const char *field, const char *fmt, ...)
{
    if (!d)
        return;
    tl_diag_clear(d);
    if (file)
        snprintf(d->file, sizeof(d->file), "%s", file);
    d->line = line;
    if (field)
        snprintf(d->field, sizeof(d->field), "%s", field);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->msg, sizeof(d->msg), fmt, ap);
    va_end(ap);
}

void tl_diag_format(const tl_diag *d, char *buf, size_t len)
{
    size_t off = 0;
    if (!len)
        return;
    buf[0] = '\0';
    if (d->file[0])
        off += (size_t)snprintf(buf + off, len - off, "%s:", d->file);
    if (d->line > 0 && off < len)
        off += (size_t)snprintf(buf + off, len - off, "%ld:", d->line);
    if (d->field[0] && off < len)
        off += (size_t)snprintf(buf + off, len - off, "%sfield '%s':", off ? " " : "", d->field);
    if (off < len)
        snprintf(buf + off, len - off, "%s%s", off ? " " : "", d->msg);
}
