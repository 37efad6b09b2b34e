/* String interning: maps opaque string ids (users, items) to dense int32 indices in first-seen
 * order, so that matrices can be indexed by integers and ids written back byte for byte. */
#ifndef TL_UTIL_INTERN_H
#define TL_UTIL_INTERN_H

#include <stddef.h>
#include <stdint.h>

#include "tailor/error.h"

typedef struct tl_intern {
    char **chunks; /* string storage; pointers stay valid while the table grows */
    size_t nchunks, chunk_cap, chunk_used;
    const char **strs; /* index -> NUL-terminated string */
    uint32_t *lens;
    int32_t count, cap;
    int32_t *slots; /* open addressing: index + 1, 0 = empty */
    uint64_t nslots;
} tl_intern;

void tl_intern_init(tl_intern *in);
void tl_intern_release(tl_intern *in);
/* Index of s, adding it when new. Returns TL_ENOMEM or TL_ETOOBIG (over INT32_MAX ids). */
tl_err tl_intern_add(tl_intern *in, const char *s, size_t len, int32_t *idx);
/* Deep copy of src into dst (dst initialized here). */
tl_err tl_intern_copy(tl_intern *dst, const tl_intern *src);
/* Adds count NUL-separated strings from buf[0..len) in order (as written by tl_intern_pack). */
tl_err tl_intern_unpack(tl_intern *in, const char *buf, size_t len, int32_t count);
/* Every string, NUL-terminated, back to back, in index order: malloc'd, *len bytes. */
tl_err tl_intern_pack(const tl_intern *in, char **buf, size_t *len);
/* Index of s, or -1 when it was never added. */
int32_t tl_intern_find(const tl_intern *in, const char *s, size_t len);
static inline const char *tl_intern_str(const tl_intern *in, int32_t idx)
{
    return in->strs[idx];
}
static inline size_t tl_intern_len(const tl_intern *in, int32_t idx)
{
    return in->lens[idx];
}

#endif
