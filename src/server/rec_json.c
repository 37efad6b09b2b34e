/* Recommended items as JSON, the same shape on every route: item, title, score, reason, kind
 * and the evidence behind it. */
#include "server/rec_json.h"

#include "server/http_json.h"

static json_t *evidence(const tl_rec_item *it)
{
    json_t *arr = json_array();
    for (int k = 0; arr && k < it->n_evidence; k++) {
        const tl_rec_evidence *e = &it->evidence[k];
        if (json_array_append_new(arr, json_pack("{s:o, s:o, s:o}", "item", tl__json_text(e->item),
                                                 "title", tl__json_text(e->title), "weight",
                                                 tl__json_float(e->weight)))) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

json_t *tl__items_json(const tl_rec_item *items, int n)
{
    json_t *arr = json_array();
    for (int k = 0; arr && k < n; k++) {
        const tl_rec_item *it = &items[k];
        if (json_array_append_new(
                arr, json_pack("{s:o, s:o, s:o, s:o, s:o, s:o}", "item", tl__json_text(it->item),
                               "title", tl__json_text(it->title), "score",
                               tl__json_float(it->score), "reason", tl__json_text(it->reason),
                               "kind", tl__json_text(it->kind), "evidence", evidence(it)))) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}
