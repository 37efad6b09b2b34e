/* Route matching: patterns are literal segments and {name} segments, compared with the raw
 * path segment by segment, so that an escaped '/' (%2F) inside an id never splits it. */
#include "server/router.h"

#include <stdio.h>
#include <string.h>

#include "server/utf8.h"

static int hex(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

long tl__percent_decode(const char *s, size_t len, int plus, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '%') {
            if (i + 2 >= len || hex(s[i + 1]) < 0 || hex(s[i + 2]) < 0)
                return -1;
            c = (char)(hex(s[i + 1]) * 16 + hex(s[i + 2]));
            i += 2;
        } else if (plus && c == '+') {
            c = ' ';
        }
        if (c == '\0')
            return -1;
        out[o++] = c;
    }
    out[o] = '\0';
    return tl__utf8_check(out, o) < 0 ? (long)o : -1;
}

/* Whether path matches pat; the {id} segments' raw text goes to seg/seg_len. */
static int match_path(const char *pat, const char *path, const char **seg, size_t *seg_len,
                      int *nseg)
{
    *nseg = 0;
    while (*pat && *path) {
        if (*pat == '{') {
            const char *close = strchr(pat, '}');
            size_t len = strcspn(path, "/");
            if (!close || !len || *nseg == TL_ROUTE_MAX_PARAMS)
                return 0;
            seg[*nseg] = path;
            seg_len[(*nseg)++] = len;
            pat = close + 1;
            path += len;
        } else if (*pat++ != *path++) {
            return 0;
        }
    }
    return !*pat && !*path;
}

static int method_matches(const char *route, const char *method)
{
    return strcmp(route, method) == 0 || (strcmp(route, "GET") == 0 && strcmp(method, "HEAD") == 0);
}

static void add_allowed(char *allow, const char *method)
{
    const char *m = strcmp(method, "GET") == 0 ? "GET, HEAD" : method;
    if (strstr(allow, m))
        return;
    size_t len = strlen(allow);
    if (len + strlen(m) + 3 < TL_ROUTE_ALLOW_MAX)
        snprintf(allow + len, TL_ROUTE_ALLOW_MAX - len, "%s%s", len ? ", " : "", m);
}

tl_route_status tl__route_match(const tl_route *t, size_t n, const char *method, const char *path,
                                char *buf, size_t cap, tl_route_match *m)
{
    const char *seg[TL_ROUTE_MAX_PARAMS];
    size_t seg_len[TL_ROUTE_MAX_PARAMS];
    memset(m, 0, sizeof(*m));
    m->route = m->path_route = m->bad_param = -1;
    for (size_t k = 0; k < n; k++) {
        int nseg;
        if (!match_path(t[k].pub.pattern, path, seg, seg_len, &nseg))
            continue;
        if (m->path_route < 0)
            m->path_route = (int)k;
        add_allowed(m->allow, t[k].pub.method);
        if (m->route >= 0 || !method_matches(t[k].pub.method, method))
            continue;
        m->route = (int)k;
        m->n_params = nseg;
        size_t used = 0;
        for (int p = 0; p < nseg; p++) {
            long len = used + seg_len[p] < cap
                           ? tl__percent_decode(seg[p], seg_len[p], 0, buf + used)
                           : -1;
            if (len < 0) {
                m->bad_param = p;
                return TL_ROUTE_BAD_PARAM;
            }
            m->params[p] = buf + used;
            used += (size_t)len + 1;
        }
    }
    if (m->route >= 0)
        return TL_ROUTE_OK;
    if (m->path_route < 0)
        return TL_ROUTE_NOT_FOUND;
    add_allowed(m->allow, "OPTIONS");
    return TL_ROUTE_NO_METHOD;
}
