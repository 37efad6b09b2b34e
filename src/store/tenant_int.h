/* Private to src/store: the engine operations behind consortium tenancy (tailor/store.h,
 * schema version 11). tenants.c checks the schema and the input and runs each write in a
 * transaction. */
#ifndef TL_STORE_TENANT_INT_H
#define TL_STORE_TENANT_INT_H

#include "tailor/store.h"

#define TL_TENANT_VERSION 11

typedef struct tl_store_tenant_ops {
    /* t's row added or renamed, and its branches replaced by t's */
    tl_err (*put)(tl_store *st, const tl_store_tenant_rec *t);
    /* fn per tenant by id, with its branches */
    tl_err (*each)(tl_store *st, tl_store_tenant_fn fn, void *ctx);
    tl_err (*key_put)(tl_store *st, const char *key, const char *tenant);
    /* out (TL_TENANT_ID_MAX + 1 bytes) = the key's tenant, "" when it has none */
    tl_err (*key_get)(tl_store *st, const char *key, char *out);
} tl_store_tenant_ops;

/* The key's tenant into out ("" for none, or on a store before version 11). */
tl_err tl__store_key_tenant(tl_store *st, const char *key, char *out);
/* Records key's tenant (NULL or "": none) inside the caller's transaction; TL_EINVAL (d says
 * so) when the tenant does not exist or the store cannot hold tenants. */
tl_err tl__store_key_tenant_put(tl_store *st, const char *key, const char *tenant, tl_diag *d);

#endif
