/* API keys: making, listing and revoking them, and checking the key of a request. The store
 * keeps a BLAKE2b-256 hash of each whole key, never the key; a request's key is hashed and
 * compared in constant time. A request reads the store at most once per KEY_TTL for its key id,
 * so a revoke takes effect within about a second; and an id the store does not hold is refused
 * from a listing of the ids, made again at most once per KEY_TTL, so that a flood of made-up
 * keys costs no store read each. */
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "service/service_int.h"
#include "util/clock.h"

#define KEY_PREFIX "tl_"
#define KEY_ID_LEN 8   /* base32 of KEY_ID_BYTES */
#define KEY_ID_BYTES 5 /* 40 random bits: ids are public, they need only be unique */
#define KEY_SECRET_BYTES 32
#define KEY_SECRET_LEN 43                       /* unpadded base64 of 32 bytes */
#define KEY_HASH_BYTES crypto_generichash_BYTES /* 32: BLAKE2b-256 */
#define KEY_TTL 1.0                             /* seconds a cached lookup is trusted */
#define TL_KEY_SLOTS 256                        /* cached lookups (direct-mapped by the key id) */

_Static_assert(TL_KEY_LEN == 3 + KEY_ID_LEN + 1 + KEY_SECRET_LEN, "the key's layout");
_Static_assert(TL_KEY_PATRON_MAX == TL_KEY_USER_MAX, "one limit for a patron key's id");
_Static_assert(KEY_HASH_BYTES <= TL_KEY_HASH_MAX, "the hash fits the store's");

/* One cached lookup of a key id: what the store said at `at`. */
struct tl_key_slot {
    double at; /* tl_now(); 0 = empty */
    char id[KEY_ID_LEN + 1];
    int found;
    tl_store_key_auth k;
};

/* A listing of every key id in the store (those of KEY_ID_LEN characters: no other can be
 * authenticated), made again only when an id is not in it and it is KEY_TTL old. */
struct tl_key_cache {
    struct tl_key_slot slots[TL_KEY_SLOTS];
    char (*ids)[KEY_ID_LEN + 1]; /* sorted */
    size_t n_ids;
    int listed;          /* ids holds a listing (possibly of no ids) */
    double listed_at;    /* tl_now() when that listing began; 0 = stale */
    unsigned long epoch; /* bumped when this process makes a key: a listing begun before is stale */
    unsigned long reads; /* store reads made (tl__keys_store_reads) */
};

static pthread_once_t sodium_once = PTHREAD_ONCE_INIT;
static int sodium_ok;

static void sodium_start(void)
{
    sodium_ok = sodium_init() >= 0;
}

tl_err tl__keys_start(tl_diag *d)
{
    pthread_once(&sodium_once, sodium_start);
    if (!sodium_ok) {
        tl_diag_set(d, NULL, 0, NULL, "libsodium could not be initialized");
        return TL_EUNSUPPORTED;
    }
    return TL_OK;
}

static const char *const role_names[] = {
    [TL_ROLE_ADMIN] = "admin", [TL_ROLE_APP] = "app", [TL_ROLE_PATRON] = "patron"};

const char *tl_key_role_name(tl_key_role r)
{
    return (unsigned)r < sizeof(role_names) / sizeof(role_names[0]) ? role_names[r] : "?";
}

tl_err tl_key_role_parse(const char *name, tl_key_role *out)
{
    for (size_t i = 0; name && i < sizeof(role_names) / sizeof(role_names[0]); i++)
        if (strcmp(name, role_names[i]) == 0) {
            *out = (tl_key_role)i;
            return TL_OK;
        }
    return TL_EINVAL;
}

/* RFC 4648 base32 in lower case: an id never starts with '-' (`tailor key revoke ID` would take
 * it for an option), holds no '_' (the key's separator) and reads aloud. */
static void base32_id(const unsigned char b[KEY_ID_BYTES], char out[KEY_ID_LEN + 1])
{
    static const char digits[] = "abcdefghijklmnopqrstuvwxyz234567";
    uint64_t v = 0;
    for (int i = 0; i < KEY_ID_BYTES; i++)
        v = v << 8 | b[i];
    for (int i = KEY_ID_LEN - 1; i >= 0; i--, v >>= 5)
        out[i] = digits[v & 31];
    out[KEY_ID_LEN] = '\0';
}

tl_err tl_service_key_create(tl_service *s, tl_key_role role, const char *user, const char *label,
                             const char *actor, char *key_out, size_t len, tl_diag *d)
{
    return tl_service_key_create_for(s, role, user, label, NULL, actor, key_out, len, d);
}

tl_err tl_service_key_create_for(tl_service *s, tl_key_role role, const char *user,
                                 const char *label, const char *tenant, const char *actor,
                                 char *key_out, size_t len, tl_diag *d)
{
    tl_err rc = tl__service_need_writer(s, "API keys", d);
    if (rc != TL_OK)
        return rc;
    const char *acting = tl_store_tenant(); /* a library makes keys of its own only */
    if (acting[0] && tenant && *tenant && strcmp(tenant, acting) != 0) {
        tl_diag_set(d, NULL, 0, "tenant", "a key acting for '%s' makes keys of '%s' only", acting,
                    acting);
        return TL_EINVAL;
    }
    if (acting[0])
        tenant = acting;
    if (tl_key_role_parse(tl_key_role_name(role), &role) != TL_OK) {
        tl_diag_set(d, NULL, 0, "role", "expected a role admin, app or patron");
        return TL_EINVAL;
    }
    if (role == TL_ROLE_PATRON && (!user || !*user)) {
        tl_diag_set(d, NULL, 0, "user", "a patron key needs the patron's id (--user ID)");
        return TL_EINVAL;
    }
    if (role != TL_ROLE_PATRON)
        user = NULL;
    if (!key_out || len < TL_KEY_LEN + 1) {
        tl_diag_set(d, NULL, 0, NULL, "the buffer for the key is too short");
        return TL_EINVAL;
    }
    unsigned char idb[KEY_ID_BYTES], secret[KEY_SECRET_BYTES], hash[KEY_HASH_BYTES];
    char id[KEY_ID_LEN + 1], sec[KEY_SECRET_LEN + 1], key[TL_KEY_LEN + 1];
    randombytes_buf(idb, sizeof(idb));
    randombytes_buf(secret, sizeof(secret));
    base32_id(idb, id);
    sodium_bin2base64(sec, sizeof(sec), secret, sizeof(secret),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    snprintf(key, sizeof(key), KEY_PREFIX "%s_%s", id, sec);
    crypto_generichash(hash, sizeof(hash), (const unsigned char *)key, strlen(key), NULL, 0);
    tl_store_key k = {.id = id,
                      .role = tl_key_role_name(role),
                      .user = user,
                      .label = label && *label ? label : NULL,
                      .created = (int64_t)time(NULL),
                      .tenant = tenant && *tenant ? tenant : NULL};
    char detail[64 + TL_TENANT_ID_MAX];
    snprintf(detail, sizeof(detail), "role=%s%s%.32s", tl_key_role_name(role),
             k.tenant ? " tenant=" : "", k.tenant ? k.tenant : "");
    pthread_mutex_lock(&s->write_mu);
    rc = tl_store_begin(s->writer);
    if (rc == TL_OK && (rc = tl_store_put_key(s->writer, &k, hash, sizeof(hash), d)) == TL_OK)
        rc = tl__audit_append(s, actor, "key.create", id, detail, d);
    if (rc == TL_OK)
        rc = tl_store_commit(s->writer);
    else
        tl_store_rollback(s->writer);
    pthread_mutex_unlock(&s->write_mu);
    if (rc == TL_OK) {
        memcpy(key_out, key, sizeof(key));
        pthread_mutex_lock(&s->keys_mu); /* usable at once in this process */
        if (s->keys) {
            s->keys->listed_at = 0;
            s->keys->epoch++;
        }
        pthread_mutex_unlock(&s->keys_mu);
    }
    sodium_memzero(secret, sizeof(secret));
    sodium_memzero(sec, sizeof(sec));
    sodium_memzero(key, sizeof(key));
    return rc;
}

typedef struct list_ctx {
    tl_key_fn fn;
    void *ctx;
    const char *tenant; /* "": every key; else that tenant's only */
} list_ctx;

static tl_err list_one(void *ctx, const tl_store_key *k)
{
    list_ctx *c = ctx;
    if (c->tenant[0] && (!k->tenant || strcmp(k->tenant, c->tenant) != 0))
        return TL_OK;
    tl_key_entry e = {.id = k->id,
                      .user = k->user,
                      .label = k->label,
                      .created = k->created,
                      .revoked = k->revoked,
                      .tenant = k->tenant};
    if (tl_key_role_parse(k->role, &e.role) != TL_OK)
        return TL_ECORRUPT;
    return c->fn(c->ctx, &e);
}

tl_err tl_service_key_list(tl_service *s, tl_key_fn fn, void *ctx, tl_diag *d)
{
    if (!s->db) {
        tl_diag_set(d, NULL, 0, NULL, "API keys need a store (--db)");
        return TL_EUNSUPPORTED;
    }
    list_ctx c = {.fn = fn, .ctx = ctx, .tenant = tl_store_tenant()};
    if (s->writer) {
        pthread_mutex_lock(&s->write_mu);
        tl_err rc = tl_store_list_keys(s->writer, list_one, &c, d);
        pthread_mutex_unlock(&s->write_mu);
        return rc;
    }
    tl_store *st;
    tl_err rc = tl__service_reader(s, &st, d);
    if (rc != TL_OK)
        return rc;
    rc = tl_store_list_keys(st, list_one, &c, d);
    tl__service_reader_done(s, st);
    return rc;
}

tl_err tl_service_key_revoke(tl_service *s, const char *id, const char *actor, tl_diag *d)
{
    tl_err rc = tl__service_need_writer(s, "API keys", d);
    if (rc != TL_OK)
        return rc;
    pthread_mutex_lock(&s->write_mu);
    rc = tl_store_begin(s->writer);
    const char *acting = tl_store_tenant();
    if (rc == TL_OK && acting[0]) { /* a library revokes its own keys; others are not there */
        tl_store_key_auth k;
        int found = 0;
        rc = tl_store_get_key(s->writer, id ? id : "", &k, &found, d);
        if (rc == TL_OK && (!found || strcmp(k.tenant, acting) != 0)) {
            tl_diag_set(d, NULL, 0, "id", "no key '%.40s' of '%s'", id ? id : "", acting);
            rc = TL_ENOTFOUND;
        }
    }
    if (rc == TL_OK && (rc = tl_store_revoke_key(s->writer, id, (int64_t)time(NULL), d)) == TL_OK)
        rc = tl__audit_append(s, actor, "key.revoke", id, NULL, d);
    if (rc == TL_OK)
        rc = tl_store_commit(s->writer);
    else
        tl_store_rollback(s->writer);
    pthread_mutex_unlock(&s->write_mu);
    pthread_mutex_lock(&s->keys_mu); /* this process at once; others within KEY_TTL */
    for (int i = 0; rc == TL_OK && s->keys && i < TL_KEY_SLOTS; i++)
        if (strcmp(s->keys->slots[i].id, id) == 0)
            s->keys->slots[i].at = 0;
    pthread_mutex_unlock(&s->keys_mu);
    return rc;
}

static int is_b64url(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return 0;
    }
    return 1;
}

static unsigned slot_of(const char *id)
{
    unsigned h = 2166136261u; /* FNV-1a */
    for (const char *p = id; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    return h % TL_KEY_SLOTS;
}

void tl__keys_free(tl_service *s)
{
    if (s->keys)
        free(s->keys->ids);
    free(s->keys);
    s->keys = NULL;
}

unsigned long tl__keys_store_reads(tl_service *s)
{
    pthread_mutex_lock(&s->keys_mu);
    unsigned long n = s->keys ? s->keys->reads : 0;
    pthread_mutex_unlock(&s->keys_mu);
    return n;
}

static int id_cmp(const void *a, const void *b)
{
    return memcmp(a, b, KEY_ID_LEN + 1);
}

/* 1 when the listing holds id (keys_mu held). */
static int listed(const struct tl_key_cache *c, const char *id)
{
    char want[KEY_ID_LEN + 1] = {0};
    memcpy(want, id, KEY_ID_LEN);
    return c->n_ids && bsearch(want, c->ids, c->n_ids, sizeof(*c->ids), id_cmp) != NULL;
}

typedef struct listing {
    char (*ids)[KEY_ID_LEN + 1];
    size_t n, cap;
} listing;

static tl_err list_id(void *ctx, const tl_store_key *k)
{
    listing *l = ctx;
    if (strlen(k->id) != KEY_ID_LEN)
        return TL_OK;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        void *p = realloc(l->ids, cap * sizeof(*l->ids));
        if (!p)
            return TL_ENOMEM;
        l->ids = p;
        l->cap = cap;
    }
    memset(l->ids[l->n], 0, sizeof(*l->ids));
    memcpy(l->ids[l->n++], k->id, KEY_ID_LEN);
    return TL_OK;
}

/* Lists the store's key ids into s->keys (keys_list_mu held, keys_mu not). */
static tl_err relist(tl_service *s)
{
    pthread_mutex_lock(&s->keys_mu);
    unsigned long epoch = s->keys->epoch;
    pthread_mutex_unlock(&s->keys_mu);
    double began = tl_now();
    listing l = {0};
    tl_store *st;
    tl_diag d;
    tl_diag_clear(&d);
    tl_err rc = tl__service_reader(s, &st, &d);
    if (rc != TL_OK)
        return rc;
    rc = tl_store_list_keys(st, list_id, &l, &d);
    tl__service_reader_done(s, st);
    if (rc != TL_OK) {
        free(l.ids);
        return rc;
    }
    if (l.n)
        qsort(l.ids, l.n, sizeof(*l.ids), id_cmp);
    pthread_mutex_lock(&s->keys_mu);
    struct tl_key_cache *c = s->keys;
    free(c->ids);
    c->ids = l.ids;
    c->n_ids = l.n;
    c->listed = 1;
    c->reads++;
    c->listed_at = c->epoch == epoch ? began : 0; /* a key made meanwhile may be missing */
    pthread_mutex_unlock(&s->keys_mu);
    return TL_OK;
}

/* What the store says about key id (KEY_ID_LEN characters). An id missing from the listing is
 * not found without a store read while the listing is younger than KEY_TTL; past that, one
 * thread lists again while the others answer from the old listing (they wait only for the
 * first). An id in the listing is read from the store at most once per KEY_TTL. */
static tl_err lookup(tl_service *s, const char *id, tl_store_key_auth *k, int *found)
{
    double now = tl_now();
    unsigned i = slot_of(id);
    pthread_mutex_lock(&s->keys_mu);
    if (!s->keys && !(s->keys = calloc(1, sizeof(*s->keys)))) {
        pthread_mutex_unlock(&s->keys_mu);
        return TL_ENOMEM;
    }
    struct tl_key_cache *c = s->keys;
    struct tl_key_slot *slot = &c->slots[i];
    if (slot->at > 0 && now - slot->at < KEY_TTL && strcmp(slot->id, id) == 0) {
        *found = slot->found;
        *k = slot->k;
        pthread_mutex_unlock(&s->keys_mu);
        return TL_OK;
    }
    int known = c->listed && listed(c, id);
    int fresh = c->listed && c->listed_at > 0 && now - c->listed_at < KEY_TTL;
    int first = !c->listed;
    pthread_mutex_unlock(&s->keys_mu);
    tl_err rc = TL_OK;
    if (!known && !fresh) {
        /* a new key may have been made since the listing: list again, one thread at a time */
        if (first ? pthread_mutex_lock(&s->keys_list_mu) == 0
                  : pthread_mutex_trylock(&s->keys_list_mu) == 0) {
            pthread_mutex_lock(&s->keys_mu);
            int again = !c->listed || c->listed_at == 0 || tl_now() - c->listed_at >= KEY_TTL;
            pthread_mutex_unlock(&s->keys_mu);
            if (again)
                rc = relist(s);
            pthread_mutex_unlock(&s->keys_list_mu);
            if (rc != TL_OK)
                return rc;
        }
        pthread_mutex_lock(&s->keys_mu);
        known = c->listed && listed(c, id);
        pthread_mutex_unlock(&s->keys_mu);
    }
    if (!known) {
        memset(k, 0, sizeof(*k));
        *found = 0;
        return TL_OK;
    }
    tl_store *st;
    tl_diag d;
    tl_diag_clear(&d);
    if ((rc = tl__service_reader(s, &st, &d)) != TL_OK)
        return rc;
    rc = tl_store_get_key(st, id, k, found, &d);
    tl__service_reader_done(s, st);
    if (rc != TL_OK)
        return rc;
    pthread_mutex_lock(&s->keys_mu);
    c->reads++;
    slot->at = now;
    snprintf(slot->id, sizeof(slot->id), "%s", id);
    slot->found = *found;
    slot->k = *k;
    pthread_mutex_unlock(&s->keys_mu);
    return TL_OK;
}

tl_err tl_service_authenticate(tl_service *s, const char *bearer, tl_key_info *out)
{
    memset(out, 0, sizeof(*out));
    if (!s->db)
        return TL_EUNSUPPORTED;
    if (!bearer || strlen(bearer) != TL_KEY_LEN || strncmp(bearer, KEY_PREFIX, 3) != 0 ||
        bearer[3 + KEY_ID_LEN] != '_' || !is_b64url(bearer + 3, TL_KEY_LEN - 3))
        return TL_ENOTFOUND;
    char id[KEY_ID_LEN + 1];
    memcpy(id, bearer + 3, KEY_ID_LEN);
    id[KEY_ID_LEN] = '\0';
    tl_store_key_auth k;
    int found = 0;
    tl_err rc = lookup(s, id, &k, &found);
    if (rc != TL_OK)
        return rc;
    unsigned char hash[KEY_HASH_BYTES];
    crypto_generichash(hash, sizeof(hash), (const unsigned char *)bearer, TL_KEY_LEN, NULL, 0);
    int ok = found && k.hash_len == sizeof(hash) && sodium_memcmp(hash, k.hash, sizeof(hash)) == 0;
    if (!ok || k.revoked || tl_key_role_parse(k.role, &out->role) != TL_OK) {
        memset(out, 0, sizeof(*out));
        return TL_ENOTFOUND;
    }
    snprintf(out->id, sizeof(out->id), "%s", id);
    snprintf(out->user, sizeof(out->user), "%s", k.user);
    snprintf(out->tenant, sizeof(out->tenant), "%s", k.tenant);
    out->pseudonym_key = s->has_pkey ? s->pkey : NULL;
    return TL_OK;
}

/* Whether user (as a request names the patron) is the patron of k. */
static int own_patron(const tl_key_info *k, const char *user)
{
    char pseudo[TL_PATRON_REF_SIZE];
    if (k->role != TL_ROLE_PATRON || !user || !k->user[0])
        return 0;
    user = tl_patron_ref(k->pseudonym_key, k->tenant, user, strlen(user), pseudo, NULL);
    return strcmp(k->user, user) == 0;
}

int tl_key_allows(const tl_key_info *k, tl_key_action action, const char *user)
{
    if (!k)
        return 0;
    switch (action) {
    case TL_KEY_READ_USER:
    case TL_KEY_WRITE_EVENTS:
        if (k->role == TL_ROLE_ADMIN || k->role == TL_ROLE_APP)
            return 1;
        return own_patron(k, user);
    case TL_KEY_CATALOGUE: /* the shared catalogue, the shared models, keys: the consortium's */
    case TL_KEY_TRAIN:
    case TL_KEY_MANAGE_KEYS:
        return k->role == TL_ROLE_ADMIN && !k->tenant[0];
    case TL_KEY_PATRON_RECORDS:
    case TL_KEY_OWN_KEYS:
        return k->role == TL_ROLE_ADMIN;
    case TL_KEY_OWN_DATA:
        if (k->role == TL_ROLE_ADMIN)
            return 1;
        return own_patron(k, user);
    }
    return 0;
}
