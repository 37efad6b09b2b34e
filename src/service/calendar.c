/* The academic calendar: terms, exam weeks and breaks, read once from a small TSV file
 * (name, kind, start, end; a header line and '#' comments allowed), so that the homepage can
 * follow the year of a university library ("For your exams" during exam weeks). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ingest/csv.h"
#include "service/service_int.h"

#define CALENDAR_MAX 1000 /* periods in one file */

static tl_err period_of(char **f, size_t *l, const char *path, long line, tl_period *p, tl_diag *d)
{
    static const char *const kinds[] = {"term", "exam", "break"};
    static const char *const names[] = {"name", "kind", "start", "end"};
    if (!l[0] || l[0] >= sizeof(p->name)) {
        tl_diag_set(d, path, line, names[0], "a name of 1 to %zu bytes", sizeof(p->name) - 1);
        return TL_EPARSE;
    }
    snprintf(p->name, sizeof(p->name), "%s", f[0]);
    int k = 0;
    while (k < 3 && strcasecmp(f[1], kinds[k]) != 0)
        k++;
    if (k == 3) {
        tl_diag_set(d, path, line, names[1], "'%.40s' is not term, exam or break", f[1]);
        return TL_EPARSE;
    }
    snprintf(p->kind, sizeof(p->kind), "%s", kinds[k]);
    int64_t t[2];
    for (int j = 0; j < 2; j++)
        if (tl_parse_time(f[2 + j], l[2 + j], &t[j]) != 0) {
            tl_diag_set(d, path, line, names[2 + j], "'%.40s' is not a date (YYYY-MM-DD)",
                        f[2 + j]);
            return TL_EPARSE;
        }
    p->start = t[0];
    p->end = t[1] + (l[3] == 10 ? 86400 : 0); /* a date: the whole day */
    if (p->end <= p->start) {
        tl_diag_set(d, path, line, names[3], "the end is before the start");
        return TL_EPARSE;
    }
    return TL_OK;
}

tl_err tl__calendar_load(const char *path, tl_calendar *c, tl_diag *d)
{
    memset(c, 0, sizeof(*c));
    tl_csv_opts o = {.delim = '\t'};
    tl_csv *r = NULL;
    tl_err rc = tl_csv_open(path, &o, &r, d);
    if (rc != TL_OK)
        return rc;
    char **f;
    size_t *l;
    int nf, got;
    while ((got = tl_csv_next(r, &f, &l, &nf, d)) > 0) {
        long line = tl_csv_line(r);
        if (f[0][0] == '#' ||
            (nf > 1 && strcasecmp(f[0], "name") == 0 && strcasecmp(f[1], "kind") == 0))
            continue; /* a comment, the header */
        if (nf != 4) {
            tl_diag_set(d, path, line, NULL,
                        "expected 4 tab-separated fields (name, kind, start, "
                        "end), found %d",
                        nf);
            rc = TL_EPARSE;
            break;
        }
        if (c->n == CALENDAR_MAX) {
            tl_diag_set(d, path, line, NULL, "more than %d periods", CALENDAR_MAX);
            rc = TL_EPARSE;
            break;
        }
        tl_period *p = realloc(c->p, ((size_t)c->n + 1) * sizeof(*p));
        if (!p) {
            rc = TL_ENOMEM;
            break;
        }
        c->p = p;
        if ((rc = period_of(f, l, path, line, &c->p[c->n], d)) != TL_OK)
            break;
        c->n++;
    }
    if (got < 0)
        rc = (tl_err)-got;
    tl_csv_close(r);
    if (rc != TL_OK)
        tl__calendar_free(c);
    return rc;
}

const tl_period *tl__calendar_at(const tl_calendar *c, const char *kind, int64_t t)
{
    for (int k = 0; k < c->n; k++)
        if (strcmp(c->p[k].kind, kind) == 0 && c->p[k].start <= t && t < c->p[k].end)
            return &c->p[k];
    return NULL;
}

void tl__calendar_free(tl_calendar *c)
{
    free(c->p);
    memset(c, 0, sizeof(*c));
}
