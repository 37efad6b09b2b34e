/* Pseudonymized patron ids (tailor/store.h): the keyed hash that replaces a patron's id at the
 * store's door, the key file, and the check value that keeps plain and hashed ids from ever
 * meeting in one store. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/store_int.h"

#define HASH_BYTES 16 /* BLAKE2b-128: 2^64 patrons before a collision is likely */
#define CHECK_HEX (2 * crypto_generichash_BYTES)
#define CHECK_TEXT "tailor pseudonym key check"

static int sodium_ready;

static void start_sodium(void)
{
    sodium_ready = sodium_init() >= 0;
}

/* libsodium picks its fastest BLAKE2b and seeds its generator once per process. */
static tl_err need_sodium(tl_diag *d)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, start_sodium);
    if (sodium_ready)
        return TL_OK;
    tl_diag_set(d, NULL, 0, NULL, "libsodium could not start");
    return TL_EUNSUPPORTED;
}

void tl_pseudonym(const uint8_t *key, const char *id, size_t len, char *out)
{
    unsigned char h[HASH_BYTES];
    crypto_generichash(h, sizeof(h), (const unsigned char *)id, len, key, TL_PSEUDONYM_KEY_LEN);
    out[0] = 'u';
    out[1] = '_';
    sodium_bin2hex(out + 2, TL_PSEUDONYM_LEN - 1, h, sizeof(h));
}

/* What the store says of the key: the keyed hash of a constant, so that the key itself is
 * never written anywhere but its file. */
static void check_value(const uint8_t *key, char *out)
{
    unsigned char h[crypto_generichash_BYTES];
    crypto_generichash(h, sizeof(h), (const unsigned char *)CHECK_TEXT, strlen(CHECK_TEXT), key,
                       TL_PSEUDONYM_KEY_LEN);
    sodium_bin2hex(out, CHECK_HEX + 1, h, sizeof(h));
}

/* ---- the key file ------------------------------------------------------------------------- */

tl_err tl_pseudonym_key_read(const char *path, uint8_t *key, tl_diag *d)
{
    char text[256];
    FILE *f = fopen(path, "r");
    if (!f) {
        int e = errno;
        tl_diag_set(d, NULL, 0, "pseudonym-key", "%s %.300s%s%s",
                    e == ENOENT ? "no pseudonym key file at" : "cannot read the pseudonym key",
                    path, e == ENOENT ? " (tailor key pseudonym-new FILE makes one)" : ": ",
                    e == ENOENT ? "" : strerror(e));
        return e == ENOENT ? TL_ENOTFOUND : TL_EIO;
    }
    size_t n = fread(text, 1, sizeof(text) - 1, f);
    int bad = ferror(f), e = errno;
    fclose(f);
    if (bad) {
        tl_diag_set(d, NULL, 0, "pseudonym-key", "cannot read the pseudonym key %.300s: %s", path,
                    strerror(e));
        return TL_EIO;
    }
    text[n] = '\0';
    const char *p = text;
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    size_t len = strlen(p);
    while (len && strchr(" \t\r\n", p[len - 1]))
        len--;
    size_t got = 0;
    if (len != 2 * TL_PSEUDONYM_KEY_LEN ||
        sodium_hex2bin(key, TL_PSEUDONYM_KEY_LEN, p, len, NULL, &got, NULL) != 0 ||
        got != TL_PSEUDONYM_KEY_LEN) {
        sodium_memzero(text, sizeof(text));
        tl_diag_set(d, NULL, 0, "pseudonym-key",
                    "the pseudonym key file %.300s must hold %d hexadecimal digits (%d random "
                    "bytes; tailor key pseudonym-new FILE makes one)",
                    path, 2 * TL_PSEUDONYM_KEY_LEN, TL_PSEUDONYM_KEY_LEN);
        return TL_EINVAL;
    }
    sodium_memzero(text, sizeof(text));
    return TL_OK;
}

tl_err tl_pseudonym_key_new(const char *path, tl_diag *d)
{
    tl_err rc = need_sodium(d);
    if (rc != TL_OK)
        return rc;
    uint8_t key[TL_PSEUDONYM_KEY_LEN];
    char text[2 * TL_PSEUDONYM_KEY_LEN + 2];
    randombytes_buf(key, sizeof(key));
    sodium_bin2hex(text, sizeof(text), key, sizeof(key));
    sodium_memzero(key, sizeof(key));
    size_t n = strlen(text);
    text[n++] = '\n';
    /* O_EXCL: an existing key is never replaced, its pseudonyms would be lost with it */
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        int e = errno;
        sodium_memzero(text, sizeof(text));
        if (e == EEXIST) {
            tl_diag_set(d, NULL, 0, NULL,
                        "%.300s exists: a key is never overwritten (the pseudonyms made with it "
                        "would be lost); remove the file first if that is meant",
                        path);
            return TL_EEXIST;
        }
        tl_diag_set(d, NULL, 0, NULL, "cannot create %.300s: %s", path, strerror(e));
        return TL_EIO;
    }
    int ok = write(fd, text, n) == (ssize_t)n && fsync(fd) == 0;
    int e = errno;
    sodium_memzero(text, sizeof(text));
    if (close(fd) != 0 && ok) {
        ok = 0;
        e = errno;
    }
    if (!ok) {
        unlink(path);
        tl_diag_set(d, NULL, 0, NULL, "cannot write %.300s: %s", path, strerror(e));
        return TL_EIO;
    }
    return TL_OK;
}

/* ---- the store's check -------------------------------------------------------------------- */

typedef enum pstate {
    P_UNKEYED,   /* no check value (with a key: and no patron either) */
    P_PLAIN,     /* no check value, and patrons (asked with a key only) */
    P_SAME,      /* a check value of the key given */
    P_OTHER_KEY, /* a check value of another key (or of one, when none is given) */
} pstate;

static tl_err stop_at_first(void *ctx, int64_t id, const char *ext, size_t len, int personalize,
                            const char *attrs)
{
    (void)id, (void)ext, (void)len, (void)personalize, (void)attrs;
    *(int *)ctx = 1;
    return TL_EEXIST; /* one is enough */
}

static tl_err classify(tl_store *st, const uint8_t *key, pstate *out)
{
    char *v = NULL, want[CHECK_HEX + 1];
    tl_err rc = st->ops->get_meta(st, TL_META_PSEUDONYM_CHECK, &v);
    if (rc != TL_OK)
        return rc;
    if (v) {
        *out = P_OTHER_KEY;
        if (key) {
            check_value(key, want);
            if (sodium_memcmp(v, want, CHECK_HEX + 1) == 0 && strlen(v) == CHECK_HEX)
                *out = P_SAME;
        }
        free(v);
        return TL_OK;
    }
    *out = P_UNKEYED;
    if (!key)
        return TL_OK;
    int any = 0;
    rc = st->ops->scan_users(st, stop_at_first, &any);
    if (rc == TL_EEXIST && any)
        rc = TL_OK;
    if (any)
        *out = P_PLAIN;
    return rc;
}

#define NEEDS_KEY                                                                                  \
    "the store holds pseudonymized patron ids: open it with its pseudonym key (--pseudonym-key "   \
    "FILE, $" TL_PSEUDONYM_ENV ", or the server's setting pseudonym-key)"
#define OTHER_KEY                                                                                  \
    "the store's patron ids were pseudonymized with another key than the one given (its check "    \
    "value differs)"
#define HAS_PLAIN                                                                                  \
    "the store holds patrons under their plain ids, so it cannot take a pseudonym key: "           \
    "pseudonymize from the first import (a new store imported with the key)"

tl_err tl__store_pseudonym_open(tl_store *st, const uint8_t *key, tl_diag *d)
{
    pstate p = P_UNKEYED;
    tl_err rc = key ? need_sodium(d) : TL_OK;
    if (rc == TL_OK && (rc = classify(st, key, &p)) != TL_OK)
        return tl__store_fail(st, rc, d);
    if (rc != TL_OK)
        return rc;
    const char *why = p == P_OTHER_KEY ? (key ? OTHER_KEY : NEEDS_KEY)
                      : p == P_PLAIN   ? HAS_PLAIN
                                       : NULL;
    if (why) {
        tl_diag_set(d, NULL, 0, "pseudonym-key", "%s", why);
        return TL_EINVAL;
    }
    st->has_pkey = key != NULL;
    if (key)
        memcpy(st->pkey, key, TL_PSEUDONYM_KEY_LEN);
    else
        sodium_memzero(st->pkey, sizeof(st->pkey));
    return TL_OK;
}

tl_err tl_store_set_pseudonym_key(tl_store *st, const uint8_t *key, tl_diag *d)
{
    if (!key) {
        tl_diag_set(d, NULL, 0, "pseudonym-key", "no key given");
        return TL_EINVAL;
    }
    return tl__store_pseudonym_open(st, key, d);
}

tl_err tl__store_pseudonym_guard(tl_store *st)
{
    pstate p;
    tl_err rc = classify(st, st->has_pkey ? st->pkey : NULL, &p);
    if (rc != TL_OK)
        return rc;
    const char *why = NULL;
    if (p == P_OTHER_KEY)
        why = st->has_pkey ? OTHER_KEY " (since this connection opened it)"
                           : NEEDS_KEY " (another process pseudonymized it since this one opened "
                                       "it)";
    else if (p == P_PLAIN)
        why = HAS_PLAIN " (another process imported plain ids since this one opened it)";
    if (why) {
        snprintf(st->why, sizeof(st->why), "%s", why);
        return TL_ESTORE;
    }
    if (p == P_UNKEYED && st->has_pkey) { /* the first write with the key: remember it */
        char v[CHECK_HEX + 1];
        check_value(st->pkey, v);
        return st->ops->set_meta(st, TL_META_PSEUDONYM_CHECK, v);
    }
    return TL_OK;
}
