/* Python's float() and int() grammars on bytes (CPython 3.11: Objects/floatobject.c,
 * Objects/longobject.c), checked by hand and then handed to strtod for correct rounding. */
#include "eval/pynum.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PY_MAX_STR_DIGITS 4300 /* CPython 3.11's default int() digit limit (a ValueError) */

/* Py_ISSPACE: ASCII whitespace only, which is all float() and int() strip from bytes. */
static int py_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static int digit(char c)
{
    return c >= '0' && c <= '9';
}

static void trim(const char **s, size_t *n)
{
    while (*n && py_space(**s)) {
        (*s)++;
        (*n)--;
    }
    while (*n && py_space((*s)[*n - 1]))
        (*n)--;
}

/* Case-insensitive equality of s[0..n) with the lowercase word w. */
static int word_is(const char *s, size_t n, const char *w)
{
    if (strlen(w) != n)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != w[i])
            return 0;
    }
    return 1;
}

/* The decimal grammar: digits [. digits*] | . digits, then an optional exponent. */
static int decimal_ok(const char *s, size_t n)
{
    size_t i = 0, int_digits = 0, frac_digits = 0;
    while (i < n && digit(s[i])) {
        i++;
        int_digits++;
    }
    if (i < n && s[i] == '.') {
        i++;
        while (i < n && digit(s[i])) {
            i++;
            frac_digits++;
        }
    }
    if (!int_digits && !frac_digits)
        return 0;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        size_t exp_digits = 0;
        while (i < n && digit(s[i])) {
            i++;
            exp_digits++;
        }
        if (!exp_digits)
            return 0;
    }
    return i == n;
}

int tl_pynum_float(const char *s, size_t n, double *out)
{
    char small[64];
    char *buf = small;
    int rc = -1;
    trim(&s, &n);
    if (!n)
        return -1;
    if (n >= sizeof(small) && !(buf = malloc(n + 1)))
        return -1;
    /* '_' is allowed only between two digits, and is then dropped. */
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '_') {
            if (i == 0 || i + 1 == n || !digit(s[i - 1]) || !digit(s[i + 1]))
                goto out;
            continue;
        }
        buf[m++] = s[i];
    }
    buf[m] = '\0';
    const char *p = buf;
    size_t len = m;
    int neg = 0;
    if (len && (*p == '+' || *p == '-')) {
        neg = *p == '-';
        p++;
        len--;
    }
    if (word_is(p, len, "inf") || word_is(p, len, "infinity")) {
        *out = neg ? -INFINITY : INFINITY;
        rc = 0;
    } else if (word_is(p, len, "nan")) {
        *out = NAN;
        rc = 0;
    } else if (decimal_ok(p, len)) {
        *out = strtod(buf, NULL);
        rc = 0;
    }
out:
    if (buf != small)
        free(buf);
    return rc;
}

int tl_pynum_int(const char *s, size_t n, int64_t *out)
{
    trim(&s, &n);
    size_t i = 0;
    int neg = 0;
    if (i < n && (s[i] == '+' || s[i] == '-'))
        neg = s[i++] == '-';
    if (i == n)
        return -1;
    /* Accumulate the magnitude as a negative number so that INT64_MIN fits. */
    int64_t v = 0;
    int over = 0;
    size_t ndigits = 0;
    for (; i < n; i++) {
        char c = s[i];
        if (c == '_') {
            if (i + 1 == n || !digit(s[i + 1]) || !ndigits || !digit(s[i - 1]))
                return -1;
            continue;
        }
        if (!digit(c))
            return -1;
        ndigits++;
        int d = c - '0';
        if (!over) {
            if (v < (INT64_MIN + d) / 10)
                over = 1;
            else
                v = v * 10 - d;
        }
    }
    if (ndigits > PY_MAX_STR_DIGITS)
        return -1;
    if (over || (!neg && v == INT64_MIN)) {
        *out = neg ? INT64_MIN : INT64_MAX;
        return 1;
    }
    *out = neg ? v : -v;
    return 0;
}
