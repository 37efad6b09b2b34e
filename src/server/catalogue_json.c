/* GET /v1/items/{id}'s catalogue part: the item's details ("details": an object, or null) and
 * copies ("holdings": an array, empty when the catalogue lists none), added to its record. */
#include <math.h>

#include "server/catalogue_json.h"
#include "server/http_json.h"

static json_t *opt_int(int64_t v)
{
    return v == TL_ABSENT ? json_null() : json_integer((json_int_t)v);
}

static tl_err details_out(void *ctx, const tl_item_details *d)
{
    json_t *j = ctx;
    json_t *o =
        json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "work",
                  tl__json_text(d->work), "isbn", tl__json_text(d->isbn), "issn",
                  tl__json_text(d->issn), "series", tl__json_text(d->series), "series_volume",
                  isnan(d->series_volume) ? json_null() : json_real(d->series_volume), "edition",
                  tl__json_text(d->edition), "publisher", tl__json_text(d->publisher), "extent",
                  tl__json_text(d->extent), "contents", tl__json_text(d->contents), "summary",
                  tl__json_text(d->summary), "cover", tl__json_text(d->cover), "starts",
                  opt_int(d->starts), "ends", opt_int(d->ends), "place", tl__json_text(d->place));
    return o && json_object_set_new(j, "details", o) == 0 ? TL_OK : TL_ENOMEM;
}

static tl_err holding_out(void *ctx, const tl_holding_rec *h)
{
    json_t *a = json_object_get(ctx, "holdings");
    json_t *o = json_pack("{s:o, s:o, s:o, s:o, s:b}", "copy", tl__json_text(h->copy), "branch",
                          tl__json_text(h->branch), "location", tl__json_text(h->location),
                          "status", tl__json_text(h->status), "available", h->available != 0);
    return o && json_array_append_new(a, o) == 0 ? TL_OK : TL_ENOMEM;
}

tl_err tl__item_catalogue_json(tl_service *svc, const char *id, json_t *item, tl_diag *d)
{
    if (json_object_set_new(item, "details", json_null()) < 0 ||
        json_object_set_new(item, "holdings", json_array()) < 0)
        return TL_ENOMEM;
    return tl_service_item_catalogue(svc, id, details_out, holding_out, item, d);
}
