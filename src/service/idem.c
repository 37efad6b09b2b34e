/* Idempotency keys: what makes a retried write answer as the first one did instead of writing
 * twice. The key row is written in the write's own transaction, so a crash keeps both the
 * write and its key or neither. */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "service/service_int.h"

#define FIELD "Idempotency-Key"
#define PRUNE_EVERY 3600 /* seconds between prunes of expired keys: one index range each */

static tl_err check_key(const char *key, tl_diag *d)
{
    size_t n = key ? strlen(key) : 0;
    if (n == 0 || n > TL_IDEM_KEY_MAX) {
        tl_diag_set(d, NULL, 0, FIELD, "an idempotency key is 1 to %d characters", TL_IDEM_KEY_MAX);
        return TL_EINVAL;
    }
    for (size_t i = 0; i < n; i++)
        if (key[i] < 0x20 || key[i] > 0x7e) {
            tl_diag_set(d, NULL, 0, FIELD, "an idempotency key is printable ASCII");
            return TL_EINVAL;
        }
    return TL_OK;
}

/* BLAKE2b of the route and the body, kept apart by a NUL. */
static tl_err hash_request(const tl_idem *k, uint8_t *hash, tl_diag *d)
{
    crypto_generichash_state h;
    tl_err rc = tl__keys_start(d);
    if (rc != TL_OK)
        return rc;
    const char *route = k->route ? k->route : "";
    if (crypto_generichash_init(&h, NULL, 0, TL_IDEM_HASH_LEN) != 0 ||
        crypto_generichash_update(&h, (const unsigned char *)route, strlen(route) + 1) != 0 ||
        crypto_generichash_update(&h, k->request, k->request_len) != 0 ||
        crypto_generichash_final(&h, hash, TL_IDEM_HASH_LEN) != 0) {
        tl_diag_set(d, NULL, 0, NULL, "hashing the request failed");
        return TL_EUNSUPPORTED;
    }
    return TL_OK;
}

tl_err tl__idem_begin(tl_service *s, const tl_idem *k, uint8_t *hash, tl_idem_replay *out,
                      tl_diag *d)
{
    tl_store_idem old;
    int found = 0;
    tl_err rc;
    out->replayed = 0;
    out->body = NULL;
    if ((rc = check_key(k->key, d)) != TL_OK || (rc = hash_request(k, hash, d)) != TL_OK)
        return rc;
    int64_t since = (int64_t)time(NULL) - TL_IDEM_TTL;
    if ((rc = tl_store_idem_get(s->writer, k->scope, k->key, since, &old, &found, d)) != TL_OK ||
        !found)
        return rc;
    if (old.hash_len != TL_IDEM_HASH_LEN || sodium_memcmp(old.hash, hash, TL_IDEM_HASH_LEN)) {
        free(old.body);
        tl_diag_set(d, NULL, 0, FIELD,
                    "this idempotency key was used with another request (within %d hours)",
                    TL_IDEM_TTL / 3600);
        return TL_EEXIST;
    }
    out->replayed = 1;
    out->status = old.status;
    out->body = old.body;
    return TL_OK;
}

tl_err tl__idem_end(tl_service *s, const tl_idem *k, const uint8_t *hash, tl_diag *d)
{
    int64_t now = (int64_t)time(NULL);
    tl_store_idem rec = {.hash_len = TL_IDEM_HASH_LEN, .status = k->status};
    memcpy(rec.hash, hash, TL_IDEM_HASH_LEN);
    rec.body = (char *)(k->reply ? k->reply : "");
    tl_err rc = tl_store_idem_put(s->writer, k->scope, k->key, &rec, now, d);
    if (rc == TL_OK && now - s->idem_pruned_at >= PRUNE_EVERY &&
        (rc = tl_store_idem_prune(s->writer, now - TL_IDEM_TTL, NULL, d)) == TL_OK)
        s->idem_pruned_at = now;
    return rc;
}
