/* Recommended items as the JSON array every recommendation route answers with. */
#ifndef TL_SERVER_REC_JSON_H
#define TL_SERVER_REC_JSON_H

#include <jansson.h>

#include "tailor/service.h"

/* [{"item", "title", "score", "reason", "kind", "evidence": [{"item", "title", "weight"}]}];
 * NULL when memory ran out. */
json_t *tl__items_json(const tl_rec_item *items, int n);

#endif
