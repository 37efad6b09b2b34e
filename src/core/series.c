/* A book's series from its title, as catalogues such as Goodreads' write it: "The Hunger
 * Games (The Hunger Games, #1)", "Mort (Death, #1; Discworld, #4)" (the first series counts). */
#include "core/series.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

int tl_series_parse(const char *title, char *name, size_t cap, double *no)
{
    size_t n = strlen(title);
    while (n && isspace((unsigned char)title[n - 1]))
        n--;
    if (!n || title[n - 1] != ')')
        return 0;
    /* The group that closes the title, nested parentheses included. */
    size_t open = n - 1;
    int depth = 0;
    for (;;) {
        char c = title[open];
        depth += c == ')' ? 1 : c == '(' ? -1 : 0;
        if (!depth)
            break;
        if (!open)
            return 0;
        open--;
    }
    const char *g = title + open + 1, *end = title + n - 1;
    const char *semi = memchr(g, ';', (size_t)(end - g));
    if (semi)
        end = semi;
    const char *hash = NULL;
    for (const char *p = g; p < end; p++)
        if (*p == '#')
            hash = p;
    if (!hash)
        return 0;
    /* A plain number after '#': digits with at most one decimal point, nothing else. */
    const char *p = hash + 1;
    size_t digits = 0, dots = 0;
    for (; p < end && (isdigit((unsigned char)*p) || *p == '.'); p++) {
        digits += *p != '.';
        dots += *p == '.';
    }
    while (p < end && isspace((unsigned char)*p))
        p++;
    if (!digits || dots > 1 || p != end)
        return 0;
    const char *ne = hash;
    while (ne > g && (isspace((unsigned char)ne[-1]) || ne[-1] == ','))
        ne--;
    if (ne == g)
        return 0;
    size_t len = (size_t)(ne - g);
    if (cap) {
        if (len >= cap)
            len = cap - 1;
        memcpy(name, g, len);
        name[len] = '\0';
    }
    *no = strtod(hash + 1, NULL);
    return 1;
}
