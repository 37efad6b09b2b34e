/* Display width of UTF-8 text: our own decoder (invalid bytes become U+FFFD) and the C library's
 * wcwidth under a UTF-8 LC_CTYPE, with a small table of wide and zero-width ranges for systems
 * without a UTF-8 locale. */
#define _XOPEN_SOURCE 700 /* wcwidth */
#include "cli/width.h"

#include <langinfo.h>
#include <locale.h>
#include <stdint.h>
#include <string.h>
#include <wchar.h>

#define REPLACEMENT 0xFFFDu
static const char ELLIPSIS[] = "\xe2\x80\xa6"; /* U+2026, one column */

static int have_wcwidth;

void tl_width_init(void)
{
    /* Only LC_CTYPE: numbers keep the C locale's decimal point everywhere. */
    const char *names[] = {"C.UTF-8", "C.utf8", "en_US.UTF-8", ""};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (setlocale(LC_CTYPE, names[i]) && strcmp(nl_langinfo(CODESET), "UTF-8") == 0) {
            have_wcwidth = 1;
            return;
        }
    }
    setlocale(LC_CTYPE, "C");
}

/* Decodes one character of s (not at its end); returns the bytes it takes (1 for an invalid
 * byte, which decodes to U+FFFD). Rejects overlong forms, surrogates and code points past
 * U+10FFFF, as a UTF-8 validator must. */
static int decode(const unsigned char *s, uint32_t *cp)
{
    unsigned char c = s[0];
    int n;
    uint32_t v, min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if ((c & 0xE0) == 0xC0) {
        n = 2, v = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
        n = 3, v = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
        n = 4, v = c & 0x07, min = 0x10000;
    } else {
        *cp = REPLACEMENT;
        return 1;
    }
    for (int k = 1; k < n; k++) {
        if ((s[k] & 0xC0) != 0x80) {
            *cp = REPLACEMENT;
            return 1;
        }
        v = (v << 6) | (s[k] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) {
        *cp = REPLACEMENT;
        return 1;
    }
    *cp = v;
    return n;
}

static int in(const uint32_t (*r)[2], size_t n, uint32_t cp)
{
    for (size_t i = 0; i < n; i++)
        if (cp >= r[i][0] && cp <= r[i][1])
            return 1;
    return 0;
}

/* Without a UTF-8 locale: the common zero-width (combining) and double-width blocks. */
static int table_width(uint32_t cp)
{
    static const uint32_t zero[][2] = {
        {0x0300, 0x036F}, {0x0483, 0x0489}, {0x0591, 0x05BD}, {0x0610, 0x061A}, {0x064B, 0x065F},
        {0x0670, 0x0670}, {0x06D6, 0x06DC}, {0x06DF, 0x06E4}, {0x06E7, 0x06E8}, {0x06EA, 0x06ED},
        {0x0900, 0x0902}, {0x093C, 0x093C}, {0x0941, 0x0948}, {0x094D, 0x094D}, {0x1AB0, 0x1AFF},
        {0x1DC0, 0x1DFF}, {0x200B, 0x200F}, {0x20D0, 0x20FF}, {0x3099, 0x309A}, {0xFE00, 0xFE0F},
        {0xFE20, 0xFE2F},
    };
    static const uint32_t wide[][2] = {
        {0x1100, 0x115F},   {0x2E80, 0x303E},   {0x3041, 0x33FF},   {0x3400, 0x4DBF},
        {0x4E00, 0x9FFF},   {0xA000, 0xA4CF},   {0xAC00, 0xD7A3},   {0xF900, 0xFAFF},
        {0xFE30, 0xFE4F},   {0xFF00, 0xFF60},   {0xFFE0, 0xFFE6},   {0x1F300, 0x1F64F},
        {0x1F900, 0x1F9FF}, {0x20000, 0x2FFFD}, {0x30000, 0x3FFFD},
    };
    if (in(zero, sizeof(zero) / sizeof(zero[0]), cp))
        return 0;
    return in(wide, sizeof(wide) / sizeof(wide[0]), cp) ? 2 : 1;
}

/* The character as printed (controls and unprintables become U+FFFD) and its width. */
static int printed(uint32_t *cp)
{
    if (*cp < 0x20 || (*cp >= 0x7F && *cp < 0xA0)) {
        *cp = REPLACEMENT;
        return 1;
    }
    if (!have_wcwidth)
        return table_width(*cp);
    int w = wcwidth((wchar_t)*cp);
    if (w < 0) {
        *cp = REPLACEMENT;
        return 1;
    }
    return w;
}

static size_t encode(uint32_t cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

int tl_width_of(const char *s)
{
    int w = 0;
    for (const unsigned char *p = (const unsigned char *)s; p && *p;) {
        uint32_t cp;
        p += decode(p, &cp);
        w += printed(&cp);
    }
    return w;
}

const char *tl_width_fit(const char *s, int cols, int pad, char *buf, size_t cap)
{
    size_t o = 0;
    int used = 0;
    int cut = tl_width_of(s) > cols; /* then leave one column for the ellipsis */
    int room = cut ? cols - 1 : cols;
    if (!cap)
        return buf;
    for (const unsigned char *p = (const unsigned char *)s; p && *p;) {
        uint32_t cp;
        int n = decode(p, &cp);
        int w = printed(&cp);
        if (used + w > room || o + 4 + sizeof(ELLIPSIS) + (size_t)(room - used) >= cap)
            break; /* a combining mark stays with its base: it is only met after one */
        o += encode(cp, buf + o);
        used += w;
        p += n;
    }
    if (cut && cols > 0 && o + sizeof(ELLIPSIS) < cap) {
        memcpy(buf + o, ELLIPSIS, sizeof(ELLIPSIS) - 1);
        o += sizeof(ELLIPSIS) - 1;
        used++;
    }
    while (pad && used < cols && o + 1 < cap) {
        buf[o++] = ' ';
        used++;
    }
    buf[o] = '\0';
    return buf;
}
