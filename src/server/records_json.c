/* Items and users to and from JSON (records_json.h). What makes a record valid is the
 * importer's to say (tl_ingest_json, through the service); here only the body's shape. */
#include "server/records_json.h"

#include <stdlib.h>
#include <string.h>

#include "server/http_json.h"

static json_t *opt_int(int64_t v)
{
    return v == TL_ABSENT ? json_null() : json_integer((json_int_t)v);
}

/* A '|'-separated list as an array of strings; NULL = null. */
static json_t *list(const char *s)
{
    if (!s)
        return json_null();
    json_t *a = json_array();
    for (const char *p = s; a && *p;) {
        const char *bar = strchr(p, '|');
        size_t n = bar ? (size_t)(bar - p) : strlen(p);
        if (json_array_append_new(a, json_stringn(p, n)) < 0) {
            json_decref(a);
            return NULL;
        }
        p += n + (bar != NULL);
    }
    return a;
}

/* Stored JSON object text as an object (text that no longer parses stays a string). */
static json_t *object_text(const char *s)
{
    if (!s)
        return json_null();
    json_t *j = json_loads(s, 0, NULL);
    return j ? j : tl__json_text(s);
}

/* The id of r (its bytes, which may hold no NUL but need not end in one). */
static json_t *id_json(const char *id, size_t len)
{
    return json_stringn(id, len);
}

json_t *tl__item_json(const tl_item_rec *r)
{
    return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "id",
                     id_json(r->id, r->id_len), "type", tl__json_text(r->type), "title",
                     tl__json_text(r->title), "authors", list(r->authors), "subjects",
                     list(r->subjects), "year", opt_int(r->year), "language",
                     tl__json_text(r->language), "format", tl__json_text(r->format), "added",
                     opt_int(r->added), "copies", opt_int(r->copies), "available",
                     opt_int(r->available), "extra", object_text(r->extra));
}

json_t *tl__user_json(const tl_user_rec *r)
{
    return json_pack("{s:o, s:o, s:b, s:o}", "id", id_json(r->id, r->id_len), "attrs",
                     object_text(r->attrs), "personalize", r->personalize != 0, "created",
                     opt_int(r->created));
}

void tl__record_texts_free(char **texts, size_t *lens, size_t n)
{
    for (size_t k = 0; texts && k < n; k++)
        free(texts[k]);
    free(texts);
    free(lens);
}

tl_err tl__records_from_json(json_t *j, int bulk, const char *id, size_t max, char ***texts,
                             size_t **lens, size_t *n, size_t *bad, tl_diag *d)
{
    size_t count = bulk ? json_array_size(j) : 1;
    *bad = TL_RECORDS_BODY;
    if (bulk && !json_is_array(j)) {
        tl_diag_set(d, NULL, 0, "", "the body must be a JSON array of records");
        return TL_EINVAL;
    }
    if (!bulk && !json_is_object(j)) {
        tl_diag_set(d, NULL, 0, "", "the body must be a JSON object (one record)");
        return TL_EINVAL;
    }
    if (count > max) {
        tl_diag_set(d, NULL, 0, "records", "%zu records in one request; the limit is %zu", count,
                    max);
        return TL_ETOOBIG;
    }
    if (!bulk && id && !json_object_get(j, "id") &&
        json_object_set_new(j, "id", json_string(id)) < 0)
        return TL_ENOMEM;
    char **t = calloc(count ? count : 1, sizeof(*t));
    size_t *l = calloc(count ? count : 1, sizeof(*l));
    tl_err rc = t && l ? TL_OK : TL_ENOMEM;
    for (size_t k = 0; rc == TL_OK && k < count; k++) {
        json_t *r = bulk ? json_array_get(j, k) : j;
        if (!json_is_object(r)) {
            *bad = k;
            tl_diag_set(d, NULL, 0, "", "a record must be a JSON object");
            rc = TL_EINVAL;
        } else if (!(t[k] = json_dumps(r, JSON_COMPACT))) {
            rc = TL_ENOMEM;
        } else {
            l[k] = strlen(t[k]);
        }
    }
    if (rc != TL_OK) {
        tl__record_texts_free(t, l, count);
        return rc;
    }
    *texts = t;
    *lens = l;
    *n = count;
    return TL_OK;
}
