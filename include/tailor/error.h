/* Error codes and diagnostics shared by every Tailor module.
 * Functions return tl_err; where bad input is the cause they also fill a tl_diag that says
 * where (file, line, field) so that the CLI can print it and the server can return it. */
#ifndef TAILOR_ERROR_H
#define TAILOR_ERROR_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define TL_API __attribute__((visibility("default")))
#define TL_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define TL_API
#define TL_PRINTF(a, b)
#endif

typedef enum tl_err {
    TL_OK = 0,
    TL_ENOMEM,       /* an allocation failed */
    TL_EIO,          /* reading or writing a file failed */
    TL_EINVAL,       /* an argument or option is invalid */
    TL_EPARSE,       /* input data is malformed (see the tl_diag) */
    TL_ENOTFOUND,    /* a named user, item, model or file does not exist */
    TL_ECORRUPT,     /* a model or data file fails its checks */
    TL_ETOOBIG,      /* the work would need more memory than allowed */
    TL_ESTORE,       /* the storage engine reported an error */
    TL_EUNSUPPORTED, /* the operation is not supported by this component */
    TL_EVERSION,     /* a file was written by an incompatible version */
    TL_ECANCELED,    /* the caller asked to stop (a progress hook said so) */
    TL_EBUSY,        /* the same work is already running (a training in progress) */
    TL_ENUMERIC,     /* a computation broke down (a system that should be positive definite) */
    TL_EEXIST,       /* a record to create exists already; a key reused for another request */
} tl_err;

/* Returns a static, human-readable description of rc. Never NULL. */
TL_API const char *tl_strerror(tl_err rc);

/* Where bad input was found. line 0 means "not line-based"; empty strings mean unknown. */
typedef struct tl_diag {
    char file[256];
    long line;
    char field[64];
    char msg[320];
} tl_diag;

/* Fills d (when not NULL); a NULL file/field leaves that part empty. */
TL_API void tl_diag_set(tl_diag *d, const char *file, long line, const char *field, const char *fmt,
                        ...) TL_PRINTF(5, 6);
TL_API void tl_diag_clear(tl_diag *d);
/* Formats d as "file:line: field: msg" into buf (always NUL-terminated). */
TL_API void tl_diag_format(const tl_diag *d, char *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif
