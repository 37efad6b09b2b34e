/* GET /v1/items/{id}'s catalogue part (catalogue_json.c). */
#ifndef TL_SERVER_CATALOGUE_JSON_H
#define TL_SERVER_CATALOGUE_JSON_H

#include <jansson.h>

#include "tailor/service.h"

/* Adds "details" (an object, or null) and "holdings" (an array of {"copy", "branch",
 * "location", "status", "available"}) of item id to the item object. Errors as
 * tl_service_item_catalogue, or TL_ENOMEM. */
tl_err tl__item_catalogue_json(tl_service *svc, const char *id, json_t *item, tl_diag *d);

#endif
