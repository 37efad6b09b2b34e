/* API keys over HTTP, for admin keys (routes.c checks the role): POST /v1/keys makes one and
 * shows it once, GET /v1/keys lists them without secret or hash, DELETE /v1/keys/{id} revokes
 * one. The service (src/service/keys.c) does the work, as for `tailor key`; a library's admin
 * key reaches its library's keys only (the service keeps to the request's tenant). */
#include <string.h>

#include "server/handlers.h"
#include "server/http_json.h"

/* An optional string member of o: 0 with *out (NULL when absent or null), or -1 after 400. */
static int opt_string(tl_req *r, json_t *o, const char *name, const char **out)
{
    json_t *v = json_object_get(o, name);
    *out = json_is_string(v) ? json_string_value(v) : NULL;
    if (!v || json_is_null(v) || (*out && **out))
        return 0;
    tl__reply_error(r, 400, "invalid", name, -1, "%s must be a non-empty string", name);
    return -1;
}

/* The body {role, user?, label?, tenant?} into its parts; 0, or -1 after replying 400. */
static int read_key_body(tl_req *r, json_t *j, tl_key_role *role, const char **user,
                         const char **label, const char **tenant)
{
    const char *key, *name;
    json_t *v;
    json_object_foreach(j, key, v) if (strcmp(key, "role") && strcmp(key, "user") &&
                                       strcmp(key, "label") && strcmp(key, "tenant"))
    {
        tl__reply_error(r, 400, "invalid", key, -1,
                        "%s is not a field of a key (role, user, label, tenant)", key);
        return -1;
    }
    if (opt_string(r, j, "role", &name) || opt_string(r, j, "user", user) ||
        opt_string(r, j, "label", label) || opt_string(r, j, "tenant", tenant))
        return -1;
    if (!name || tl_key_role_parse(name, role) != TL_OK) {
        tl__reply_error(r, 400, "invalid", "role", -1, "role must be admin, app or patron");
        return -1;
    }
    if ((*role == TL_ROLE_PATRON) != (*user != NULL)) {
        tl__reply_error(r, 400, "invalid", "user", -1, "%s",
                        *user ? "user is for patron keys only" : "a patron key needs a user");
        return -1;
    }
    return 0;
}

void tl__h_key_create(tl_req *r)
{
    json_t *j = tl__body_json(r, NULL);
    if (j && !json_is_object(j))
        tl__reply_error(r, 400, "invalid_json", NULL, -1, "the body must be a JSON object");
    tl_key_role role;
    const char *user = NULL, *label = NULL, *tenant = NULL;
    if (!j || !json_is_object(j) || read_key_body(r, j, &role, &user, &label, &tenant) != 0) {
        json_decref(j);
        return;
    }
    char key[TL_KEY_LEN + 1];
    tl_diag d;
    tl_diag_clear(&d);
    char who[48];
    tl_err rc = tl_service_key_create_for(r->srv->svc, role, user, label, tenant,
                                          tl__req_actor(r, who, sizeof(who)), key, sizeof(key), &d);
    if (rc != TL_OK)
        tl__reply_failure(r, rc, &d, NULL);
    else /* the id is the key's characters 4 to 11 (tl_XXXXXXXX_...) */
        tl__reply_json(r, 201,
                       json_pack("{s:s%, s:s, s:o, s:o, s:o, s:s}", "id", key + 3, (size_t)8,
                                 "role", tl_key_role_name(role), "user", tl__json_text(user),
                                 "label", tl__json_text(label), "tenant",
                                 tl__json_text(tenant             ? tenant
                                               : r->key.tenant[0] ? r->key.tenant
                                                                  : NULL),
                                 "key", key));
    memset(key, 0, sizeof(key));
    json_decref(j);
}

static tl_err add_key(void *ctx, const tl_key_entry *k)
{
    json_t *o = json_pack("{s:s, s:s, s:o, s:o, s:I, s:o, s:o}", "id", k->id, "role",
                          tl_key_role_name(k->role), "user", tl__json_text(k->user), "label",
                          tl__json_text(k->label), "created", (json_int_t)k->created, "revoked",
                          k->revoked ? json_integer(k->revoked) : json_null(), "tenant",
                          tl__json_text(k->tenant));
    return o && json_array_append_new(ctx, o) == 0 ? TL_OK : TL_ENOMEM;
}

void tl__h_keys(tl_req *r)
{
    json_t *arr = json_array();
    tl_diag d;
    tl_diag_clear(&d);
    tl_err rc = arr ? tl_service_key_list(r->srv->svc, add_key, arr, &d) : TL_ENOMEM;
    if (rc != TL_OK) {
        json_decref(arr);
        tl__reply_failure(r, rc, &d, NULL);
        return;
    }
    tl__reply_json(r, 200, json_pack("{s:o}", "keys", arr));
}

void tl__h_key_revoke(tl_req *r)
{
    tl_diag d;
    tl_diag_clear(&d);
    char who[48];
    tl_err rc = tl_service_key_revoke(r->srv->svc, r->match.params[0],
                                      tl__req_actor(r, who, sizeof(who)), &d);
    if (rc != TL_OK)
        tl__reply_failure(r, rc, &d, "id");
    else
        tl__reply_empty(r, 204);
}
