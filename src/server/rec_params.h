/* The query string of the recommendation routes: n, explain, the served model, the request's
 * context (device, channel, branch, time), the filters, given as filter=KEY=VALUE
 * (repeatable) or directly as type=, format=, language=, subject=, year=, available=, and the
 * re-rankers (diversify=LAMBDA, calibrate=LAMBDA, max_per_author=N). The homepage takes rows,
 * n, model and the context. */
#ifndef TL_SERVER_REC_PARAMS_H
#define TL_SERVER_REC_PARAMS_H

#include "server/server_int.h"

typedef enum tl_params_route { TL_PARAMS_RECS, TL_PARAMS_HOME } tl_params_route;

typedef struct tl_rec_params {
    int n, explain, rows;
    const char *model;                       /* NULL: the main one */
    tl_rec_context context;                  /* strings in r's arena */
    const char *filters[TL_REQ_MAX_FILTERS]; /* "key=value" or "available", in r's arena */
    int n_filters;
    tl_rerank rerank; /* all zero: none */
    int prefer_shelf; /* prefer_shelf= (default 1): copies on the shelf at the branch first */
} tl_rec_params;

/* Reads r's query string into p for the route kind (n defaults to 10, rows to 6). Returns 0,
 * or -1 after replying 400 with the parameter at fault as the field (an unknown parameter is
 * an error, not ignored). */
int tl__rec_params_parse(tl_req *r, tl_params_route route, tl_rec_params *p);

#endif
