/* UTF-8 validation for what the server decodes or echoes (path ids, query values, messages).
 * The server does not see ingest's internals (CMakeLists.txt), hence its own small check with
 * the same rules as tl_utf8_check. */
#include "server/utf8.h"

long tl__utf8_check(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    for (size_t i = 0; i < n;) {
        unsigned c = s[i], lo = 0x80, hi = 0xBF; /* the allowed range of the second byte */
        size_t need;
        if (c == 0)
            return (long)i;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF)
            need = 1;
        else if (c >= 0xE0 && c <= 0xEF) {
            need = 2;
            lo = c == 0xE0 ? 0xA0 : lo; /* overlong */
            hi = c == 0xED ? 0x9F : hi; /* surrogates */
        } else if (c >= 0xF0 && c <= 0xF4) {
            need = 3;
            lo = c == 0xF0 ? 0x90 : lo; /* overlong */
            hi = c == 0xF4 ? 0x8F : hi; /* above U+10FFFF */
        } else
            return (long)i;
        if (i + need >= n || s[i + 1] < lo || s[i + 1] > hi)
            return (long)i;
        for (size_t k = 2; k <= need; k++)
            if (s[i + k] < 0x80 || s[i + k] > 0xBF)
                return (long)i;
        i += need + 1;
    }
    return -1;
}
