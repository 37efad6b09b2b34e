/* The handlers of the routes (routes.c lists them): each answers through http_json.h. */
#ifndef TL_SERVER_HANDLERS_H
#define TL_SERVER_HANDLERS_H

#include "server/server_int.h"

void tl__h_health(tl_req *r);          /* GET /v1/health */
void tl__h_ready(tl_req *r);           /* GET /v1/ready */
void tl__h_models(tl_req *r);          /* GET /v1/models */
void tl__h_metrics(tl_req *r);         /* GET /metrics */
void tl__h_recommendations(tl_req *r); /* GET /v1/users/{id}/recommendations */
void tl__h_similar(tl_req *r);         /* GET /v1/items/{id}/similar */
void tl__h_events(tl_req *r);          /* POST /v1/events */
void tl__h_homepage(tl_req *r);        /* GET /v1/users/{id}/homepage */
void tl__h_train(tl_req *r);           /* POST /v1/models/train */
void tl__h_openapi(tl_req *r);         /* GET /v1/openapi.json */
void tl__h_key_create(tl_req *r);      /* POST /v1/keys */
void tl__h_keys(tl_req *r);            /* GET /v1/keys */
void tl__h_key_revoke(tl_req *r);      /* DELETE /v1/keys/{id} */

/* handlers_records.c: the catalogue's and patrons' records */
void tl__h_item_create(tl_req *r);  /* POST /v1/items */
void tl__h_item_get(tl_req *r);     /* GET /v1/items/{id} */
void tl__h_item_put(tl_req *r);     /* PUT /v1/items/{id} */
void tl__h_item_patch(tl_req *r);   /* PATCH /v1/items/{id} */
void tl__h_item_delete(tl_req *r);  /* DELETE /v1/items/{id} */
void tl__h_items_bulk(tl_req *r);   /* POST /v1/items/bulk */
void tl__h_user_create(tl_req *r);  /* POST /v1/users */
void tl__h_user_get(tl_req *r);     /* GET /v1/users/{id} */
void tl__h_user_put(tl_req *r);     /* PUT /v1/users/{id} */
void tl__h_user_patch(tl_req *r);   /* PATCH /v1/users/{id} */
void tl__h_user_erase(tl_req *r);   /* DELETE /v1/users/{id}: the erasure */
void tl__h_user_export(tl_req *r);  /* GET /v1/users/{id}/export */
void tl__h_user_consent(tl_req *r); /* PUT /v1/users/{id}/consent */
void tl__h_audit(tl_req *r);        /* GET /v1/audit */

/* Who asks, for the audit log: "key:ID", or "no-auth" when the server asks for no keys. */
const char *tl__req_actor(const tl_req *r, char *buf, size_t len);
void tl__h_users_bulk(tl_req *r);         /* POST /v1/users/bulk */
void tl__h_analytics(tl_req *r);          /* GET /v1/analytics: the collection report (admin) */
void tl__h_impressions_export(tl_req *r); /* GET /v1/impressions/export: TSV (admin) */

/* handlers_web.c: the web page's files, and the patrons a demo page lists */
void tl__h_web_index(tl_req *r); /* GET / */
void tl__h_web_file(tl_req *r);  /* GET /web/{name} */
void tl__h_users(tl_req *r);     /* GET /v1/users */
void tl__h_search(tl_req *r);    /* GET /v1/search (handlers_search.c) */

/* handlers_digest.c: new-arrival alerts */
void tl__h_user_subscription(tl_req *r); /* PUT /v1/users/{id}/subscription */
void tl__h_user_digest(tl_req *r);       /* GET /v1/users/{id}/digest */
void tl__h_unsubscribe(tl_req *r);       /* GET /v1/unsubscribe (no key: signed) */

/* handlers_lists.c: reading lists, reviews, learning paths */
void tl__h_list_create(tl_req *r);   /* POST /v1/lists */
void tl__h_list_get(tl_req *r);      /* GET /v1/lists/{id} */
void tl__h_list_put(tl_req *r);      /* PUT /v1/lists/{id} */
void tl__h_list_delete(tl_req *r);   /* DELETE /v1/lists/{id} */
void tl__h_list_add(tl_req *r);      /* POST /v1/lists/{id}/items/{item} */
void tl__h_list_remove(tl_req *r);   /* DELETE /v1/lists/{id}/items/{item} */
void tl__h_item_lists(tl_req *r);    /* GET /v1/items/{id}/lists */
void tl__h_user_lists(tl_req *r);    /* GET /v1/users/{id}/lists */
void tl__h_review_put(tl_req *r);    /* PUT /v1/users/{id}/reviews/{item} */
void tl__h_review_delete(tl_req *r); /* DELETE /v1/users/{id}/reviews/{item} */
void tl__h_item_reviews(tl_req *r);  /* GET /v1/items/{id}/reviews */
void tl__h_paths(tl_req *r);         /* GET /v1/paths */
void tl__h_path_create(tl_req *r);   /* POST /v1/paths */
void tl__h_path_get(tl_req *r);      /* GET /v1/paths/{id} */
void tl__h_path_put(tl_req *r);      /* PUT /v1/paths/{id} */
void tl__h_path_delete(tl_req *r);   /* DELETE /v1/paths/{id} */
void tl__h_path_next(tl_req *r);     /* GET /v1/paths/{id}/next */
void tl__h_path_feedback(tl_req *r); /* POST /v1/paths/{id}/feedback */
void tl__h_path_propose(tl_req *r);  /* POST /v1/paths/propose */
/* experiments (handlers_experiments.c) */
void tl__h_experiments(tl_req *r);       /* GET /v1/experiments */
void tl__h_experiment_create(tl_req *r); /* POST /v1/experiments */
void tl__h_experiment_report(tl_req *r); /* GET /v1/experiments/{name} */
void tl__h_experiment_assign(tl_req *r); /* GET /v1/experiments/{name}/assign */
void tl__h_experiment_stop(tl_req *r);   /* POST /v1/experiments/{name}/stop */
void tl__h_user_experiments(tl_req *r);  /* GET /v1/users/{id}/experiments */

#endif
