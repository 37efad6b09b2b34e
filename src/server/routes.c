/* The one routing table: every route of the server with its handler. docs/API.md documents
 * each; tl_server_route_at lists them for whoever compares the two (an OpenAPI check). */
#include "server/handlers.h"
#include "server/router.h"

static const tl_route routes[] = {
    {{"GET", "/v1/health"}, tl__h_health, 0, TL_AUTH_OPEN},
    {{"GET", "/v1/ready"}, tl__h_ready, 0, TL_AUTH_OPEN},
    {{"GET", "/v1/models"}, tl__h_models, 0, TL_AUTH_STAFF},
    {{"GET", "/v1/users/{id}/recommendations"}, tl__h_recommendations, 0, TL_AUTH_USER},
    {{"GET", "/v1/items/{id}/similar"}, tl__h_similar, 0, TL_AUTH_KEY},
    {{"POST", "/v1/events"}, tl__h_events, 1, TL_AUTH_EVENTS},
    {{"GET", "/v1/users/{id}/homepage"}, tl__h_homepage, 0, TL_AUTH_USER},
    {{"POST", "/v1/models/train"}, tl__h_train, 1, TL_AUTH_TRAIN},
    {{"GET", "/metrics"}, tl__h_metrics, 0, TL_AUTH_STAFF},
    {{"GET", "/v1/openapi.json"}, tl__h_openapi, 0, TL_AUTH_OPEN},
    {{"POST", "/v1/keys"}, tl__h_key_create, 1, TL_AUTH_OWN_KEYS},
    {{"GET", "/v1/keys"}, tl__h_keys, 0, TL_AUTH_OWN_KEYS},
    {{"DELETE", "/v1/keys/{id}"}, tl__h_key_revoke, 0, TL_AUTH_OWN_KEYS},
    {{"POST", "/v1/items"}, tl__h_item_create, 1, TL_AUTH_CATALOGUE},
    {{"POST", "/v1/items/bulk"}, tl__h_items_bulk, 1, TL_AUTH_CATALOGUE},
    {{"GET", "/v1/items/{id}"}, tl__h_item_get, 0, TL_AUTH_KEY},
    {{"PUT", "/v1/items/{id}"}, tl__h_item_put, 1, TL_AUTH_CATALOGUE},
    {{"PATCH", "/v1/items/{id}"}, tl__h_item_patch, 1, TL_AUTH_CATALOGUE},
    {{"DELETE", "/v1/items/{id}"}, tl__h_item_delete, 0, TL_AUTH_CATALOGUE},
    {{"POST", "/v1/users"}, tl__h_user_create, 1, TL_AUTH_PATRONS},
    {{"POST", "/v1/users/bulk"}, tl__h_users_bulk, 1, TL_AUTH_PATRONS},
    {{"GET", "/v1/users/{id}"}, tl__h_user_get, 0, TL_AUTH_USER},
    {{"PUT", "/v1/users/{id}"}, tl__h_user_put, 1, TL_AUTH_PATRONS},
    {{"PATCH", "/v1/users/{id}"}, tl__h_user_patch, 1, TL_AUTH_PATRONS},
    {{"DELETE", "/v1/users/{id}"}, tl__h_user_erase, 0, TL_AUTH_OWN},
    {{"GET", "/v1/users/{id}/export"}, tl__h_user_export, 0, TL_AUTH_OWN},
    {{"PUT", "/v1/users/{id}/consent"}, tl__h_user_consent, 1, TL_AUTH_OWN},
    {{"GET", "/v1/audit"}, tl__h_audit, 0, TL_AUTH_KEYS},
    {{"GET", "/v1/analytics"}, tl__h_analytics, 0, TL_AUTH_KEYS},
    {{"GET", "/v1/impressions/export"}, tl__h_impressions_export, 0, TL_AUTH_KEYS},
    {{"GET", "/"}, tl__h_web_index, 0, TL_AUTH_OPEN},
    {{"GET", "/web/{name}"}, tl__h_web_file, 0, TL_AUTH_OPEN},
    {{"GET", "/v1/users"}, tl__h_users, 0, TL_AUTH_STAFF},
    {{"GET", "/v1/search"}, tl__h_search, 0, TL_AUTH_KEY},
    {{"PUT", "/v1/users/{id}/subscription"}, tl__h_user_subscription, 1, TL_AUTH_OWN},
    {{"GET", "/v1/users/{id}/digest"}, tl__h_user_digest, 0, TL_AUTH_USER},
    {{"GET", "/v1/unsubscribe"}, tl__h_unsubscribe, 0, TL_AUTH_OPEN},
    /* reading lists, reviews and learning paths (handlers_lists.c) */
    {{"POST", "/v1/lists"}, tl__h_list_create, 1, TL_AUTH_KEY},
    {{"GET", "/v1/lists/{id}"}, tl__h_list_get, 0, TL_AUTH_KEY},
    {{"PUT", "/v1/lists/{id}"}, tl__h_list_put, 1, TL_AUTH_KEY},
    {{"DELETE", "/v1/lists/{id}"}, tl__h_list_delete, 0, TL_AUTH_KEY},
    {{"POST", "/v1/lists/{id}/items/{item}"}, tl__h_list_add, 1, TL_AUTH_KEY},
    {{"DELETE", "/v1/lists/{id}/items/{item}"}, tl__h_list_remove, 0, TL_AUTH_KEY},
    {{"GET", "/v1/items/{id}/lists"}, tl__h_item_lists, 0, TL_AUTH_KEY},
    {{"GET", "/v1/users/{id}/lists"}, tl__h_user_lists, 0, TL_AUTH_USER},
    {{"PUT", "/v1/users/{id}/reviews/{item}"}, tl__h_review_put, 1, TL_AUTH_USER},
    {{"DELETE", "/v1/users/{id}/reviews/{item}"}, tl__h_review_delete, 0, TL_AUTH_USER},
    {{"GET", "/v1/items/{id}/reviews"}, tl__h_item_reviews, 0, TL_AUTH_KEY},
    {{"GET", "/v1/paths"}, tl__h_paths, 0, TL_AUTH_KEY},
    {{"POST", "/v1/paths"}, tl__h_path_create, 1, TL_AUTH_CATALOGUE},
    {{"POST", "/v1/paths/propose"}, tl__h_path_propose, 1, TL_AUTH_CATALOGUE},
    {{"GET", "/v1/paths/{id}"}, tl__h_path_get, 0, TL_AUTH_KEY},
    {{"PUT", "/v1/paths/{id}"}, tl__h_path_put, 1, TL_AUTH_CATALOGUE},
    {{"DELETE", "/v1/paths/{id}"}, tl__h_path_delete, 0, TL_AUTH_CATALOGUE},
    {{"GET", "/v1/paths/{id}/next"}, tl__h_path_next, 0, TL_AUTH_KEY},
    {{"POST", "/v1/paths/{id}/feedback"}, tl__h_path_feedback, 1, TL_AUTH_KEY},
    /* A/B tests (handlers_experiments.c): admin, but a patron's own arms */
    {{"GET", "/v1/experiments"}, tl__h_experiments, 0, TL_AUTH_KEYS},
    {{"POST", "/v1/experiments"}, tl__h_experiment_create, 1, TL_AUTH_KEYS},
    {{"GET", "/v1/experiments/{name}"}, tl__h_experiment_report, 0, TL_AUTH_KEYS},
    {{"GET", "/v1/experiments/{name}/assign"}, tl__h_experiment_assign, 0, TL_AUTH_KEYS},
    {{"POST", "/v1/experiments/{name}/stop"}, tl__h_experiment_stop, 0, TL_AUTH_KEYS},
    {{"GET", "/v1/users/{id}/experiments"}, tl__h_user_experiments, 0, TL_AUTH_USER},
};
#define N_ROUTES (sizeof(routes) / sizeof(routes[0]))

_Static_assert(N_ROUTES < TL_METRICS_ROUTES, "a metrics row for each route and the unmatched");

const tl_route *tl__routes(size_t *n)
{
    *n = N_ROUTES;
    return routes;
}

const tl_server_route *tl_server_route_at(size_t i)
{
    return i < N_ROUTES ? &routes[i].pub : NULL;
}
