/* A JSON writer for the answers served most (recommendations, homepages): text appended to
 * one buffer, instead of a tree of jansson values made, hashed, dumped and freed per
 * request. Other answers use jansson (http_json.h). */
#ifndef TL_SERVER_JSON_OUT_H
#define TL_SERVER_JSON_OUT_H

#include <stddef.h>

#include "tailor/service.h"

typedef struct tl_jw {
    char *buf; /* malloc'd; handed to the reply, which frees it */
    size_t len, cap;
    int failed; /* an allocation failed: the text is incomplete */
} tl_jw;

void tl__jw_init(tl_jw *w, size_t cap);
void tl__jw_free(tl_jw *w);
/* Text as is (JSON punctuation and keys the caller wrote). */
void tl__jw_raw(tl_jw *w, const char *s);
/* A JSON string of s, cut at its first byte that is not UTF-8 (as tl__json_text); NULL is
 * null. */
void tl__jw_str(tl_jw *w, const char *s);
/* Seven significant digits, about a float's precision; not finite is null. */
void tl__jw_float(tl_jw *w, float v);
/* [{"item", "title", "score", "reason", "kind", "evidence": [{"item", "title", "weight"}]}] */
void tl__jw_items(tl_jw *w, const tl_rec_item *items, int n);

#endif
