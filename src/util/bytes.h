/* Little-endian byte images of integers and floats, independent of the host's byte order:
 * what the bandit's saved state and the impressions' packed blobs are written in. */
#ifndef TL_UTIL_BYTES_H
#define TL_UTIL_BYTES_H

#include <stdint.h>
#include <string.h>

static inline void tl_put_le32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static inline uint32_t tl_get_le32(const unsigned char *p)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v |= (uint32_t)p[i] << (8 * i);
    return v;
}

static inline void tl_put_le64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static inline uint64_t tl_get_le64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static inline void tl_put_lef32(unsigned char *p, float f)
{
    uint32_t v;
    memcpy(&v, &f, 4);
    tl_put_le32(p, v);
}

static inline float tl_get_lef32(const unsigned char *p)
{
    uint32_t v = tl_get_le32(p);
    float f;
    memcpy(&f, &v, 4);
    return f;
}

static inline void tl_put_lef64(unsigned char *p, double d)
{
    uint64_t v;
    memcpy(&v, &d, 8);
    tl_put_le64(p, v);
}

static inline double tl_get_lef64(const unsigned char *p)
{
    uint64_t v = tl_get_le64(p);
    double d;
    memcpy(&d, &v, 8);
    return d;
}

#endif
