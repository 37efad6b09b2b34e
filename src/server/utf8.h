/* UTF-8 validation for the server (utf8.c). */
#ifndef TL_SERVER_UTF8_H
#define TL_SERVER_UTF8_H

#include <stddef.h>

/* The offset of the first byte of s[0..n) that is not UTF-8 (overlongs, surrogates, code
 * points above U+10FFFF and NUL bytes included), or -1 when all of it is. */
long tl__utf8_check(const char *s, size_t n);

#endif
