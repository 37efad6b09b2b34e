/* The patron's search text as an FTS5 expression of quoted terms (search_query.h). */
#include <stdlib.h>
#include <string.h>

#include "service/search_query.h"
#include "tailor/error.h"

/* The length of the valid UTF-8 sequence at s[0..n) (1..4), or 0 when it is not one. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t k = c < 0x80             ? 1
               : (c & 0xe0) == 0xc0 ? 2
               : (c & 0xf0) == 0xe0 ? 3
               : (c & 0xf8) == 0xf0 ? 4
                                    : 0;
    if (!k || k > n || (k == 2 && c < 0xc2) || (k == 4 && c > 0xf4))
        return 0;
    for (size_t i = 1; i < k; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    if (k == 3 && ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] >= 0xa0)))
        return 0; /* overlong, surrogate */
    if (k == 4 && ((c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] >= 0x90)))
        return 0;
    return k;
}

/* A copy of text with what is not valid UTF-8, and control bytes, as spaces. */
static char *clean(const char *text, size_t len)
{
    char *o = malloc(len + 1);
    if (!o)
        return NULL;
    const unsigned char *s = (const unsigned char *)text;
    size_t i = 0;
    while (i < len) {
        size_t k = utf8_seq(s + i, len - i);
        if (!k || (k == 1 && (s[i] < 0x20 || s[i] == 0x7f))) {
            o[i++] = ' ';
            continue;
        }
        memcpy(o + i, s + i, k);
        i += k;
    }
    o[len] = '\0';
    return o;
}

/* 1 when t[0..n) has something the tokenizer keeps: a letter or digit (any non-ASCII counts). */
static int has_word(const char *t, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)t[i];
        if (c >= 0x80 || (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z'))
            return 1;
    }
    return 0;
}

typedef struct buf {
    char *s;
    size_t n;
} buf;

/* Appends "t" (quotes inside doubled; the caller sized the buffer) and " *" for a prefix. */
static void quoted(buf *b, const char *t, size_t n, int prefix)
{
    b->s[b->n++] = '"';
    for (size_t i = 0; i < n; i++) {
        if (t[i] == '"')
            b->s[b->n++] = '"';
        b->s[b->n++] = t[i];
    }
    b->s[b->n++] = '"';
    if (prefix) {
        memcpy(b->s + b->n, " *", 2);
        b->n += 2;
    }
}

int tl__search_match(const char *text, size_t len, int any, int max_terms, char **out, int *terms)
{
    *out = NULL;
    *terms = 0;
    char *t = clean(text, len);
    /* each byte at most doubled, plus quotes, " *" and " OR " per term */
    buf b = {malloc(2 * len + 8 * (size_t)(max_terms + 1) + 1), 0};
    if (!t || !b.s) {
        free(t);
        free(b.s);
        return TL_ENOMEM;
    }
    size_t i = 0;
    while (i < len && *terms < max_terms) {
        while (i < len && (t[i] == ' ' || t[i] == '\t'))
            i++;
        if (i >= len)
            break;
        const char *w;
        size_t n;
        int prefix = 0;
        if (t[i] == '"') { /* a phrase, to the next quote or the end */
            const char *e = memchr(t + i + 1, '"', len - i - 1);
            w = t + i + 1;
            n = e ? (size_t)(e - w) : len - i - 1;
            i += n + (e ? 2 : 1);
        } else { /* a word: to the next space or quote; a trailing '*' makes it a prefix */
            w = t + i;
            while (i < len && t[i] != ' ' && t[i] != '\t' && t[i] != '"')
                i++;
            n = (size_t)(t + i - w);
            while (n && w[n - 1] == '*') {
                n--;
                prefix = 1;
            }
        }
        if (!has_word(w, n))
            continue;
        if (*terms) {
            const char *sep = any ? " OR " : " ";
            memcpy(b.s + b.n, sep, strlen(sep));
            b.n += strlen(sep);
        }
        quoted(&b, w, n, prefix);
        ++*terms;
    }
    b.s[b.n] = '\0';
    free(t);
    *out = b.s;
    return TL_OK;
}
