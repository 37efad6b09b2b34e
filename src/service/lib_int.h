/* Private to src/service: what readinglists.c and paths.c share (patrons' lists, reviews and
 * learning paths). */
#ifndef TL_SERVICE_LIB_INT_H
#define TL_SERVICE_LIB_INT_H

#include <jansson.h>

#include "service/service_int.h"

/* TL_EINVAL (d's field) unless v is an id of 1..max bytes without control characters. */
tl_err tl__lib_check_id(const char *v, size_t max, const char *field, tl_diag *d);
/* f in one transaction of the writer (under write_mu): committed when it returns TL_OK. */
tl_err tl__lib_write(tl_service *s, tl_err (*f)(tl_service *, tl_store *, void *, tl_diag *),
                     void *ctx, tl_diag *d);
/* f on a reader of the store. */
tl_err tl__lib_read(tl_service *s, tl_err (*f)(tl_service *, tl_store *, void *, tl_diag *),
                    void *ctx, tl_diag *d);
/* *json = j as compact text (j is released); TL_ENOMEM when j is NULL or text fails. */
tl_err tl__lib_dump(json_t *j, char **json);
/* v as a JSON string, NULL as null. */
json_t *tl__lib_str(const char *v);

#endif
