/* Replies: every response of the server is queued here, with the headers every response
 * carries (X-Request-Id, CORS, Cache-Control), a JSON body built with jansson, and errors
 * always as {"error": {"code", "message", "field"?, "index"?}}. Also the JSON helpers the
 * handlers share. */
#ifndef TL_SERVER_HTTP_JSON_H
#define TL_SERVER_HTTP_JSON_H

#include <jansson.h>
#include <stddef.h>

#include "server/json_out.h"
#include "server/server_int.h"

/* Queues status with body j as JSON (stolen; NULL means memory ran out: 503 instead). */
void tl__reply_json(tl_req *r, unsigned status, json_t *j);
/* Queues status with w's text as JSON (w's buffer is taken; a failed w means 503 instead). */
void tl__reply_jw(tl_req *r, unsigned status, tl_jw *w);
/* The text tl__reply_json sends for j (malloc'd, NUL-terminated, *len bytes with the final
 * newline), or NULL when memory ran out; j is not stolen. */
char *tl__json_body_text(const json_t *j, size_t *len);
/* Queues an error body; field NULL = none, index < 0 = none. */
void tl__reply_error(tl_req *r, unsigned status, const char *code, const char *field, long index,
                     const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* Queues text (owned: freed by the server) with the given Content-Type. */
void tl__reply_text(tl_req *r, unsigned status, const char *ctype, char *text, size_t len);
/* Queues bytes that outlive the server (a file built into the binary), with more headers given
 * as NULL-terminated name, value pairs; r->cache, when set, is its Cache-Control. */
void tl__reply_static(tl_req *r, unsigned status, const char *ctype, const void *data, size_t len,
                      const char *const *headers);
/* Queues an empty response (204 to OPTIONS). */
void tl__reply_empty(tl_req *r, unsigned status);

/* The reply to a failed service call: TL_EINVAL 400 (d's field, else field), TL_ENOTFOUND 404,
 * TL_EUNSUPPORTED 503 read_only, TL_ENOMEM/TL_ETOOBIG 503, anything else 500 (its detail goes
 * to the log, not to the client). */
void tl__reply_failure(tl_req *r, tl_err rc, const tl_diag *d, const char *field);

/* s as a JSON string, cut before the first byte that is not UTF-8 (a message cut mid-character
 * by snprintf); NULL s = JSON null. NULL only when memory ran out. */
json_t *tl__json_text(const char *s);
/* The request's body parsed (owned by the caller), depth-checked first; an empty body reads as
 * the text empty (NULL: an empty body is not JSON). NULL after replying 400 too_deep or
 * invalid_json (or 503 when memory ran out). */
json_t *tl__body_json(tl_req *r, const char *empty);
/* 1 when the JSON text s[0..n) nests arrays and objects no deeper than max (counted before
 * parsing, so that a deep body costs no recursion and no allocation), else 0. */
int tl__json_depth_ok(const char *s, size_t n, int max);

#endif
