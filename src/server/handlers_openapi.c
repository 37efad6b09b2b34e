/* GET /v1/openapi.json: the OpenAPI 3.1 document of every route (docs/openapi.json, embedded
 * into the binary at build time), byte for byte. */
#include <stdlib.h>
#include <string.h>

#include "server/handlers.h"
#include "server/http_json.h"
#include "server/openapi_doc.h"

void tl__h_openapi(tl_req *r)
{
    char *text = malloc(tl__openapi_doc_len + 1);
    if (!text) {
        tl__reply_error(r, 503, "overloaded", NULL, -1, "out of memory");
        return;
    }
    memcpy(text, tl__openapi_doc, tl__openapi_doc_len + 1);
    tl__reply_text(r, 200, "application/json", text, tl__openapi_doc_len);
}
