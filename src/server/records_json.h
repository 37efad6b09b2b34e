/* Items and users in JSON for /v1/items and /v1/users: a stored record as the object the API
 * answers (the shape a PUT takes back), and request bodies as the record texts the service
 * validates (tl_service_put_records). No libmicrohttpd here, so that the fuzz target reaches it
 * directly. */
#ifndef TL_SERVER_RECORDS_JSON_H
#define TL_SERVER_RECORDS_JSON_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "tailor/error.h"
#include "tailor/ingest.h"

/* {"id", "type", "title", "authors": [...], "subjects": [...], "year", "language", "format",
 * "added", "copies", "available", "extra": {...}}; absent fields are null. NULL: no memory. */
json_t *tl__item_json(const tl_item_rec *r);
/* {"id", "attrs": {...}, "personalize": true|false, "created"}. */
json_t *tl__user_json(const tl_user_rec *r);

/* The record texts of a body: one object (bulk 0), with id (the path's; NULL = none) put in
 * when it has no "id"; or (bulk 1) an array of 0..max objects. *texts (malloc'd, each text
 * malloc'd, free with tl__record_texts_free) and *lens get *n records. Errors: TL_EINVAL (a body
 * of the wrong shape: *bad TL_RECORDS_BODY; an element that is not an object: *bad its index),
 * TL_ETOOBIG
 * (more than max: d's field "records"), TL_ENOMEM. */
tl_err tl__records_from_json(json_t *j, int bulk, const char *id, size_t max, char ***texts,
                             size_t **lens, size_t *n, size_t *bad, tl_diag *d);
void tl__record_texts_free(char **texts, size_t *lens, size_t n);

#define TL_RECORDS_BODY SIZE_MAX /* *bad of an error about the whole body */

#endif
