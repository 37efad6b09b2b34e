/* The query string of the recommendation routes: n, explain, and the filters, given as
 * filter=KEY=VALUE (repeatable) or directly as type=, format=, language=, subject=, year=,
 * available=. */
#ifndef TL_SERVER_REC_PARAMS_H
#define TL_SERVER_REC_PARAMS_H

#include "server/server_int.h"

typedef struct tl_rec_params {
    int n, explain;
    const char *filters[TL_REQ_MAX_FILTERS]; /* "key=value" or "available", in r's arena */
    int n_filters;
} tl_rec_params;

/* Reads r's query string into p (n defaults to 10). Returns 0, or -1 after replying 400 with
 * the parameter at fault as the field (an unknown parameter is an error, not ignored). */
int tl__rec_params_parse(tl_req *r, tl_rec_params *p);

#endif
