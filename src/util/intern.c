/* String interning with an open-addressing table and chunked string storage. */
#include "util/intern.h"

#include <stdlib.h>
#include <string.h>

#include "util/hash.h"

#define CHUNK_BYTES (1u << 20) /* large enough that one chunk holds thousands of ids */

void tl_intern_init(tl_intern *in)
{
    memset(in, 0, sizeof(*in));
}

void tl_intern_release(tl_intern *in)
{
    for (size_t i = 0; i < in->nchunks; i++)
        free(in->chunks[i]);
    free(in->chunks);
    free(in->strs);
    free(in->lens);
    free(in->slots);
    tl_intern_init(in);
}

static uint64_t hash_of(const char *s, size_t len)
{
    return tl_fnv1a64(s, len);
}

int32_t tl_intern_find(const tl_intern *in, const char *s, size_t len)
{
    if (!in->nslots)
        return -1;
    uint64_t mask = in->nslots - 1;
    for (uint64_t h = hash_of(s, len) & mask;; h = (h + 1) & mask) {
        int32_t v = in->slots[h];
        if (!v)
            return -1;
        v--;
        if (in->lens[v] == len && memcmp(in->strs[v], s, len) == 0)
            return v;
    }
}

static tl_err rehash(tl_intern *in, uint64_t nslots)
{
    int32_t *slots = calloc(nslots, sizeof(*slots));
    if (!slots)
        return TL_ENOMEM;
    uint64_t mask = nslots - 1;
    for (int32_t i = 0; i < in->count; i++) {
        uint64_t h = hash_of(in->strs[i], in->lens[i]) & mask;
        while (slots[h])
            h = (h + 1) & mask;
        slots[h] = i + 1;
    }
    free(in->slots);
    in->slots = slots;
    in->nslots = nslots;
    return TL_OK;
}

static char *store_string(tl_intern *in, const char *s, size_t len)
{
    size_t need = len + 1;
    if (!in->nchunks || in->chunk_used + need > in->chunk_cap) {
        size_t cap = need > CHUNK_BYTES ? need : CHUNK_BYTES;
        char **chunks = realloc(in->chunks, (in->nchunks + 1) * sizeof(*chunks));
        if (!chunks)
            return NULL;
        in->chunks = chunks;
        if (!(chunks[in->nchunks] = malloc(cap)))
            return NULL;
        in->nchunks++;
        in->chunk_cap = cap;
        in->chunk_used = 0;
    }
    char *dst = in->chunks[in->nchunks - 1] + in->chunk_used;
    memcpy(dst, s, len);
    dst[len] = '\0';
    in->chunk_used += need;
    return dst;
}

tl_err tl_intern_add(tl_intern *in, const char *s, size_t len, int32_t *idx)
{
    if ((uint64_t)(in->count + 1) * 2 > in->nslots) {
        tl_err rc = rehash(in, in->nslots ? in->nslots * 2 : 1024);
        if (rc != TL_OK)
            return rc;
    }
    uint64_t mask = in->nslots - 1;
    uint64_t h = hash_of(s, len) & mask;
    for (;; h = (h + 1) & mask) {
        int32_t v = in->slots[h];
        if (!v)
            break;
        v--;
        if (in->lens[v] == len && memcmp(in->strs[v], s, len) == 0) {
            *idx = v;
            return TL_OK;
        }
    }
    if (in->count == INT32_MAX - 1)
        return TL_ETOOBIG;
    if (in->count == in->cap) {
        int32_t cap = in->cap ? in->cap * 2 : 1024;
        const char **strs = realloc(in->strs, (size_t)cap * sizeof(*strs));
        if (!strs)
            return TL_ENOMEM;
        in->strs = strs;
        uint32_t *lens = realloc(in->lens, (size_t)cap * sizeof(*lens));
        if (!lens)
            return TL_ENOMEM;
        in->lens = lens;
        in->cap = cap;
    }
    char *copy = store_string(in, s, len);
    if (!copy)
        return TL_ENOMEM;
    in->strs[in->count] = copy;
    in->lens[in->count] = (uint32_t)len;
    in->slots[h] = in->count + 1;
    *idx = in->count++;
    return TL_OK;
}

tl_err tl_intern_copy(tl_intern *dst, const tl_intern *src)
{
    tl_intern_init(dst);
    for (int32_t i = 0; i < src->count; i++) {
        int32_t idx;
        tl_err rc = tl_intern_add(dst, src->strs[i], src->lens[i], &idx);
        if (rc != TL_OK) {
            tl_intern_release(dst);
            return rc;
        }
    }
    return TL_OK;
}

tl_err tl_intern_pack(const tl_intern *in, char **buf, size_t *len)
{
    size_t n = 0;
    for (int32_t i = 0; i < in->count; i++)
        n += in->lens[i] + 1;
    char *b = malloc(n ? n : 1);
    if (!b)
        return TL_ENOMEM;
    size_t off = 0;
    for (int32_t i = 0; i < in->count; i++) {
        memcpy(b + off, in->strs[i], in->lens[i] + 1);
        off += in->lens[i] + 1;
    }
    *buf = b;
    *len = n;
    return TL_OK;
}

tl_err tl_intern_unpack(tl_intern *in, const char *buf, size_t len, int32_t count)
{
    size_t off = 0;
    for (int32_t i = 0; i < count; i++) {
        const char *nul = off < len ? memchr(buf + off, '\0', len - off) : NULL;
        if (!nul)
            return TL_ECORRUPT;
        int32_t idx;
        size_t n = (size_t)(nul - (buf + off));
        tl_err rc = tl_intern_add(in, buf + off, n, &idx);
        if (rc != TL_OK)
            return rc;
        if (idx != i)
            return TL_ECORRUPT; /* a repeated id */
        off += n + 1;
    }
    return off == len ? TL_OK : TL_ECORRUPT;
}
