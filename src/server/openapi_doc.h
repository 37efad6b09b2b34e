/* docs/openapi.json, embedded at build time (scripts/embed_file.cmake writes the .c into the
 * build tree): the document GET /v1/openapi.json serves. */
#ifndef TL_SERVER_OPENAPI_DOC_H
#define TL_SERVER_OPENAPI_DOC_H

#include <stddef.h>

extern const unsigned char tl__openapi_doc[]; /* the bytes, then a NUL */
extern const size_t tl__openapi_doc_len;      /* without the NUL */

#endif
