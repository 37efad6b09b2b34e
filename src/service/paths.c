/* Adaptive learning paths: librarians' paths (one at a time, or a file of them all or none),
 * proposals for a topic without one, where a patron stands on a path and what comes next, and
 * the patrons' feedback that reorders a step's alternatives for the others. */
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/series.h"
#include "ingest/fields.h"
#include "service/history.h"
#include "service/lib_int.h"
#include "util/lines.h"

#define FEEDBACK_PRIOR 2.0 /* pseudo-votes that keep one vote from deciding */

static tl_err check_path(const tl_path_rec *p, tl_diag *d)
{
    tl_err rc = tl__lib_check_id(p->id, TL_LIST_ID_MAX, "id", d);
    if (rc != TL_OK)
        return rc;
    if (!p->title || !*p->title || strlen(p->title) > TL_LIST_TITLE_MAX) {
        tl_diag_set(d, NULL, 0, "title", "a path needs a title of 1 to %d bytes",
                    TL_LIST_TITLE_MAX);
        return TL_EINVAL;
    }
    if (p->topic && strlen(p->topic) > TL_LIST_TITLE_MAX) {
        tl_diag_set(d, NULL, 0, "topic", "a topic is at most %d bytes", TL_LIST_TITLE_MAX);
        return TL_EINVAL;
    }
    if (p->n_steps < 1 || p->n_steps > TL_PATH_MAX_STEPS) {
        tl_diag_set(d, NULL, 0, "steps", "a path has 1 to %d steps", TL_PATH_MAX_STEPS);
        return TL_EINVAL;
    }
    for (int k = 0; k < p->n_steps; k++) {
        const tl_path_step_rec *st = &p->steps[k];
        if ((rc = tl__lib_check_id(st->item, TL_ID_MAX, "item", d)) != TL_OK)
            return rc;
        if (st->pos < 1 || st->pos > TL_PATH_MAX_STEPS) {
            tl_diag_set(d, NULL, 0, "pos", "step %d: a position is 1 to %d", k + 1,
                        TL_PATH_MAX_STEPS);
            return TL_EINVAL;
        }
        if (st->level != TL_ABSENT && (st->level < 0 || st->level > TL_PATH_LEVEL_MAX)) {
            tl_diag_set(d, NULL, 0, "level", "step %d: a level is 0 to %d", k + 1,
                        TL_PATH_LEVEL_MAX);
            return TL_EINVAL;
        }
        for (int j = 0; j < k; j++)
            if (strcmp(p->steps[j].item, st->item) == 0) {
                tl_diag_set(d, NULL, 0, "item", "step %d: item '%.200s' is on the path twice",
                            k + 1, st->item);
                return TL_EINVAL;
            }
    }
    return TL_OK;
}

/* Writes p in st's open transaction. */
static tl_err write_path(tl_store *st, const tl_path_rec *p, const char *origin, int create,
                         int *added, tl_diag *d)
{
    int found;
    tl_err rc = tl_store_path_get(st, p->id, NULL, NULL, NULL, &found, d);
    if (rc == TL_OK && found && create) {
        tl_diag_set(d, NULL, 0, "id", "the path '%.200s' exists", p->id);
        return TL_EEXIST;
    }
    tl_store_step *steps = rc == TL_OK ? malloc((size_t)p->n_steps * sizeof(*steps)) : NULL;
    if (rc == TL_OK && !steps)
        return TL_ENOMEM;
    if (rc != TL_OK)
        return rc;
    for (int k = 0; k < p->n_steps; k++)
        steps[k] = (tl_store_step){p->steps[k].item, NULL, p->steps[k].pos, p->steps[k].level};
    tl_store_path sp = {
        p->id,     p->title, p->topic && *p->topic ? p->topic : NULL, origin, (int64_t)time(NULL),
        p->n_steps};
    tl_put what;
    rc = tl_store_path_put(st, &sp, steps, p->n_steps, &what, d);
    free(steps);
    if (rc == TL_OK && added)
        *added = what == TL_PUT_ADDED;
    return rc;
}

typedef struct put_job {
    const tl_path_rec *p;
    int create, *added;
} put_job;

static tl_err do_put(tl_service *s, tl_store *st, void *ctx, tl_diag *d)
{
    (void)s;
    put_job *j = ctx;
    return write_path(st, j->p, "librarian", j->create, j->added, d);
}

tl_err tl_service_path_put(tl_service *s, const tl_path_rec *p, int create, int *added, tl_diag *d)
{
    tl_err rc = check_path(p, d);
    put_job j = {p, create, added};
    return rc == TL_OK ? tl__lib_write(s, do_put, &j, d) : rc;
}

/* ---- import ---------------------------------------------------------------------------------- */

typedef struct imp_path {
    char *id, *title, *topic;
    tl_path_step_rec *steps;
    long *lines; /* each step's line, for errors found when writing */
    int n, cap;
} imp_path;

typedef struct imp {
    imp_path *paths;
    int n, cap;
    const char *file;
    int total;
} imp;

static void imp_free(imp *x)
{
    for (int k = 0; k < x->n; k++) {
        imp_path *p = &x->paths[k];
        free(p->id);
        free(p->title);
        free(p->topic);
        for (int j = 0; j < p->n; j++)
            free((char *)p->steps[j].item);
        free(p->steps);
        free(p->lines);
    }
    free(x->paths);
}

/* A level: empty (none), a number, or a word for one. -1: not a level. */
static long long parse_level(const char *v)
{
    static const struct {
        const char *word;
        int level;
    } words[] = {{"introductory", 1}, {"introduction", 1}, {"beginner", 1}, {"basic", 1},
                 {"intermediate", 2}, {"advanced", 3},     {"expert", 4}};
    if (!*v)
        return TL_ABSENT;
    for (size_t k = 0; k < sizeof(words) / sizeof(words[0]); k++)
        if (strcasecmp(v, words[k].word) == 0)
            return words[k].level;
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    return errno || *end || n < 0 || n > TL_PATH_LEVEL_MAX ? -1 : n;
}

static tl_err bad(imp *x, long line, const char *field, const char *fmt, const char *v, tl_diag *d)
{
    char msg[300];
    snprintf(msg, sizeof(msg), fmt, v);
    tl_diag_set(d, x->file, line, field, "%s", msg);
    return TL_EPARSE;
}

static imp_path *path_of(imp *x, const char *id)
{
    for (int k = 0; k < x->n; k++)
        if (strcmp(x->paths[k].id, id) == 0)
            return &x->paths[k];
    if (x->n == x->cap) {
        int cap = x->cap ? 2 * x->cap : 8;
        imp_path *p = realloc(x->paths, (size_t)cap * sizeof(*p));
        if (!p)
            return NULL;
        x->paths = p;
        x->cap = cap;
    }
    imp_path *p = &x->paths[x->n];
    memset(p, 0, sizeof(*p));
    if (!(p->id = strdup(id)))
        return NULL;
    x->n++;
    return p;
}

static tl_err imp_line(imp *x, char *line, long no, tl_diag *d)
{
    static const char *const names[] = {"path", "title", "topic", "pos", "item", "level"};
    char *f[6] = {0};
    int n = 0;
    for (char *p = line; n < 6;) {
        f[n++] = p;
        char *tab = strchr(p, '\t');
        if (!tab)
            break;
        *tab = '\0';
        p = tab + 1;
        if (n == 6)
            return bad(x, no, NULL, "%s",
                       "more than 6 fields (path, title, topic, pos, item, level)", d);
    }
    if (n < 5)
        return bad(x, no, names[n], "missing field '%s' (path, title, topic, pos, item, level)",
                   names[n], d);
    for (int k = 0; k < n; k++)
        if (tl__id_bad_char(f[k], strlen(f[k])) >= 0)
            return bad(x, no, names[k], "field '%s' has a control character", names[k], d);
    if (!*f[0] || strlen(f[0]) > TL_LIST_ID_MAX)
        return bad(x, no, "path", "%s", "expected a path id of 1 to 128 bytes", d);
    if (!*f[4] || strlen(f[4]) > TL_ID_MAX)
        return bad(x, no, "item", "%s", "expected an item id", d);
    char *end;
    errno = 0;
    long long pos = strtoll(f[3], &end, 10);
    if (!*f[3] || errno || *end || pos < 1 || pos > TL_PATH_MAX_STEPS)
        return bad(x, no, "pos", "'%.60s' is not a position (1, 2, ...)", f[3], d);
    long long level = parse_level(n > 5 ? f[5] : "");
    if (level == -1)
        return bad(x, no, "level",
                   "'%.60s' is not a level (a number 0 to 100, introductory, beginner, "
                   "intermediate, advanced)",
                   f[5], d);
    imp_path *p = path_of(x, f[0]);
    if (!p)
        return TL_ENOMEM;
    const char *fields[2] = {f[1], f[2]};
    char **have[2] = {&p->title, &p->topic};
    for (int k = 0; k < 2; k++) {
        if (!*fields[k])
            continue;
        if (strlen(fields[k]) > TL_LIST_TITLE_MAX)
            return bad(x, no, names[k + 1], "%s is too long", names[k + 1], d);
        if (*have[k] && strcmp(*have[k], fields[k]) != 0)
            return bad(x, no, names[k + 1], "the path's %s differs from its first line's",
                       names[k + 1], d);
        if (!*have[k] && !(*have[k] = strdup(fields[k])))
            return TL_ENOMEM;
    }
    if (!p->title)
        return bad(x, no, "title", "%s", "the path's first line needs its title", d);
    for (int j = 0; j < p->n; j++)
        if (strcmp(p->steps[j].item, f[4]) == 0)
            return bad(x, no, "item", "item '%.200s' is on the path twice", f[4], d);
    if (p->n == TL_PATH_MAX_STEPS)
        return bad(x, no, "item", "%s", "a path has at most 10000 steps", d);
    if (p->n == p->cap) {
        int cap = p->cap ? 2 * p->cap : 16;
        tl_path_step_rec *st = realloc(p->steps, (size_t)cap * sizeof(*st));
        if (st)
            p->steps = st;
        long *ln = realloc(p->lines, (size_t)cap * sizeof(*ln));
        if (ln)
            p->lines = ln;
        if (!st || !ln)
            return TL_ENOMEM;
        p->cap = cap;
    }
    char *item = strdup(f[4]);
    if (!item)
        return TL_ENOMEM;
    p->steps[p->n] = (tl_path_step_rec){item, pos, level};
    p->lines[p->n++] = no;
    x->total++;
    return TL_OK;
}

static tl_err do_import(tl_service *s, tl_store *st, void *ctx, tl_diag *d)
{
    (void)s;
    imp *x = ctx;
    for (int k = 0; k < x->n; k++) {
        imp_path *p = &x->paths[k];
        tl_path_rec r = {p->id, p->title, p->topic, p->steps, p->n};
        tl_err rc = write_path(st, &r, "librarian", 0, NULL, d);
        if (rc == TL_ENOTFOUND) /* an unknown item: name its line */
            for (int j = 0; j < p->n; j++)
                if (strstr(d->msg, p->steps[j].item)) {
                    tl_diag_set(d, x->file, p->lines[j], "item", "no item '%.200s' in the store",
                                p->steps[j].item);
                    break;
                }
        if (rc != TL_OK)
            return rc;
    }
    return TL_OK;
}

tl_err tl_service_path_import(tl_service *s, const char *file, int *n_paths, int *n_steps,
                              tl_diag *d)
{
    tl_lines lr;
    imp x = {.file = file};
    tl_err rc = tl__service_need_writer(s, "path import", d);
    if (rc != TL_OK)
        return rc;
    if ((rc = tl_lines_open(&lr, file)) != TL_OK) {
        tl_diag_set(d, file, 0, NULL, "cannot open: %s", strerror(errno));
        return rc == TL_EIO && errno == ENOENT ? TL_ENOTFOUND : rc;
    }
    char *line;
    size_t len;
    int got;
    while (rc == TL_OK && (got = tl_lines_next(&lr, &line, &len)) > 0) {
        if (!len || line[0] == '#')
            continue;
        if (lr.lineno == 1 && strncmp(line, "path\t", 5) == 0)
            continue; /* the header */
        if (strlen(line) != len)
            rc = bad(&x, lr.lineno, NULL, "%s", "a NUL byte in the line", d);
        else
            rc = imp_line(&x, line, lr.lineno, d);
    }
    if (rc == TL_OK && got < 0) {
        tl_diag_set(d, file, lr.lineno, NULL, "%s", tl_lines_error(&lr));
        rc = (tl_err)-got;
    }
    tl_lines_close(&lr);
    if (rc == TL_OK && !x.n) {
        tl_diag_set(d, file, 0, NULL, "no path in the file");
        rc = TL_EPARSE;
    }
    if (rc == TL_OK)
        rc = tl__lib_write(s, do_import, &x, d);
    if (rc == TL_OK && n_paths)
        *n_paths = x.n;
    if (rc == TL_OK && n_steps)
        *n_steps = x.total;
    imp_free(&x);
    return rc;
}

/* ---- reading --------------------------------------------------------------------------------- */

typedef struct read_job {
    const char *id, *topic;
    json_t *out;
    int found;
} read_job;

static json_t *level_json(int64_t level)
{
    return level == TL_ABSENT ? json_null() : json_integer(level);
}

static tl_err on_path(void *ctx, const tl_store_path *p)
{
    read_job *j = ctx;
    json_t *o = json_pack("{s:s, s:s, s:o, s:s, s:I, s:I}", "id", p->id, "title", p->title, "topic",
                          tl__lib_str(p->topic), "origin", p->origin, "created",
                          (json_int_t)p->created, "n_steps", (json_int_t)p->n_steps);
    if (!o)
        return TL_ENOMEM;
    if (json_is_array(j->out))
        return json_array_append_new(j->out, o) == 0 ? TL_OK : TL_ENOMEM;
    j->out = o;
    return json_object_set_new(o, "steps", json_array()) == 0 ? TL_OK : TL_ENOMEM;
}

static tl_err on_step(void *ctx, const tl_store_step *st)
{
    read_job *j = ctx;
    json_t *o = json_pack("{s:s, s:o, s:I, s:o}", "item", st->item, "title", tl__lib_str(st->title),
                          "pos", (json_int_t)st->pos, "level", level_json(st->level));
    return o && json_array_append_new(json_object_get(j->out, "steps"), o) == 0 ? TL_OK : TL_ENOMEM;
}

static tl_err path_missing(const char *id, tl_diag *d)
{
    tl_diag_set(d, NULL, 0, "path", "no path '%.200s'", id);
    return TL_ENOTFOUND;
}

static tl_err do_get(tl_service *s, tl_store *st, void *ctx, tl_diag *d)
{
    (void)s;
    read_job *j = ctx;
    tl_err rc = tl_store_path_get(st, j->id, on_path, on_step, j, &j->found, d);
    return rc == TL_OK && !j->found ? path_missing(j->id, d) : rc;
}

tl_err tl_service_path_get(tl_service *s, const char *id, char **json, tl_diag *d)
{
    read_job j = {.id = id};
    *json = NULL;
    tl_err rc = tl__lib_read(s, do_get, &j, d);
    if (rc == TL_OK)
        return tl__lib_dump(j.out, json);
    json_decref(j.out);
    return rc;
}

static tl_err do_list(tl_service *s, tl_store *st, void *ctx, tl_diag *d)
{
    (void)s;
    read_job *j = ctx;
    return tl_store_paths_each(st, j->topic, on_path, j, d);
}

tl_err tl_service_paths(tl_service *s, const char *topic, char **json, tl_diag *d)
{
    read_job j = {.topic = topic, .out = json_array()};
    *json = NULL;
    tl_err rc = j.out ? tl__lib_read(s, do_list, &j, d) : TL_ENOMEM;
    if (rc == TL_OK)
        return tl__lib_dump(json_pack("{s:o}", "paths", j.out), json);
    json_decref(j.out);
    return rc;
}

static tl_err do_delete(tl_service *s, tl_store *st, void *ctx, tl_diag *d)
{
    (void)s;
    return tl_store_path_delete(st, ctx, d);
}

tl_err tl_service_path_delete(tl_service *s, const char *id, tl_diag *d)
{
    return tl__lib_write(s, do_delete, (void *)id, d);
}

typedef struct feedback_job {
    const char *id, *item, *user;
    int useful;
} feedback_job;

static tl_err do_feedback(tl_service *s, tl_store *st, void *ctx, tl_diag *d)
{
    (void)s;
    feedback_job *j = ctx;
    return tl_store_feedback_put(st, j->id, j->item, j->user, j->useful, time(NULL), d);
}

tl_err tl_service_path_feedback(tl_service *s, const char *id, const char *item, const char *user,
                                int useful, tl_diag *d)
{
    tl_err rc = tl__lib_check_id(user, TL_ID_MAX, "user", d);
    feedback_job j = {id, item, user, useful != 0};
    return rc == TL_OK ? tl__lib_write(s, do_feedback, &j, d) : rc;
}

/* ---- where a patron stands ------------------------------------------------------------------- */

typedef struct cand {
    char *item, *title;
    int64_t pos, level;
    int useful, not_useful, has; /* has: in the patron's history */
    double score;                /* the model's, NAN when none */
} cand;

typedef struct next_job {
    const char *id, *user;
    char ref[TL_PATRON_REF_SIZE]; /* the patron as the store keeps them */
    const char *kept;
    cand *c;
    int n, cap, found, personalize, known;
    char **hist; /* the patron's items (sorted) */
    int n_hist, hist_cap;
    const tl_event_weights *w;
} next_job;

static tl_err on_next_step(void *ctx, const tl_store_step *st)
{
    next_job *j = ctx;
    if (j->n == j->cap) {
        int cap = j->cap ? 2 * j->cap : 16;
        cand *c = realloc(j->c, (size_t)cap * sizeof(*c));
        if (!c)
            return TL_ENOMEM;
        j->c = c;
        j->cap = cap;
    }
    cand *c = &j->c[j->n];
    memset(c, 0, sizeof(*c));
    c->item = strdup(st->item);
    c->title = st->title ? strdup(st->title) : NULL;
    c->pos = st->pos;
    c->level = st->level;
    c->score = NAN;
    j->n++;
    return c->item && (!st->title || c->title) ? TL_OK : TL_ENOMEM;
}

static tl_err on_hist(void *ctx, const char *item, size_t len, float weight, int64_t ts)
{
    (void)ts;
    next_job *j = ctx;
    if (weight <= 0)
        return TL_OK; /* dismissed ("Not interested"): not a step taken */
    if (j->n_hist == j->hist_cap) {
        int cap = j->hist_cap ? 2 * j->hist_cap : 64;
        char **h = realloc(j->hist, (size_t)cap * sizeof(*h));
        if (!h)
            return TL_ENOMEM;
        j->hist = h;
        j->hist_cap = cap;
    }
    return (j->hist[j->n_hist] = strndup(item, len)) ? (j->n_hist++, TL_OK) : TL_ENOMEM;
}

static int str_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static tl_err on_feedback(void *ctx, const char *path, const char *item, const char *user,
                          int useful, int64_t ts)
{
    (void)path;
    (void)ts;
    next_job *j = ctx;
    if (strcmp(user, j->kept) == 0)
        return TL_OK; /* the patron's own votes reorder for others, not for them */
    for (int k = 0; k < j->n; k++)
        if (strcmp(j->c[k].item, item) == 0) {
            if (useful)
                j->c[k].useful++;
            else
                j->c[k].not_useful++;
        }
    return TL_OK;
}

static tl_err do_next(tl_service *s, tl_store *st, void *ctx, tl_diag *d)
{
    (void)s;
    next_job *j = ctx;
    tl_err rc = tl_store_path_get(st, j->id, NULL, on_next_step, j, &j->found, d);
    if (rc == TL_OK && !j->found)
        return path_missing(j->id, d);
    if (rc == TL_OK)
        rc = tl_store_feedback_each(st, j->id, NULL, on_feedback, j, d);
    if (rc == TL_OK)
        rc = tl_store_user_history(st, j->user, strlen(j->user), j->w, NULL, on_hist, j, &j->known,
                                   &j->personalize, d);
    if (rc != TL_OK || !j->known || !j->personalize)
        return rc;
    qsort(j->hist, (size_t)j->n_hist, sizeof(*j->hist), str_cmp);
    for (int k = 0; k < j->n; k++)
        j->c[k].has =
            bsearch(&j->c[k].item, j->hist, (size_t)j->n_hist, sizeof(*j->hist), str_cmp) != NULL;
    return TL_OK;
}

static double feedback(const cand *c)
{
    return (c->useful - c->not_useful) / (c->useful + c->not_useful + FEEDBACK_PRIOR);
}

/* Feedback first, then the model's score (a scored item before one without), then the
 * librarian's order (the store's: position, then item id). */
static int cand_cmp(const void *a, const void *b)
{
    const cand *x = a, *y = b;
    double fx = feedback(x), fy = feedback(y);
    if (fx != fy)
        return fx > fy ? -1 : 1;
    int sx = !isnan(x->score), sy = !isnan(y->score);
    if (sx != sy)
        return sy - sx;
    if (sx && x->score != y->score)
        return x->score > y->score ? -1 : 1;
    return strcmp(x->item, y->item);
}

/* The model's scores of c[0..n) for the patron, where the service has a model and the patron a
 * usable history (else they stay NAN). */
static void model_scores(tl_service *s, const char *user, cand *c, int n)
{
    tl_model_ref *ref = tl__service_model(s);
    if (!ref)
        return;
    const tl_model *m = ref->m;
    tl_hist h = {.uidx = -1};
    const char *fallback = NULL;
    tl_diag d;
    tl_diag_clear(&d);
    size_t ns = m->ops->scratch_floats ? m->ops->scratch_floats(m) : 0;
    float *scores = NULL, *scratch = NULL;
    if (tl__patron_history(s, m, user, NULL, &h, &fallback, &d) == TL_OK && !fallback && h.n &&
        (scores = malloc((size_t)m->n_items * sizeof(*scores))) &&
        (!ns || (scratch = malloc(ns * sizeof(*scratch)))) &&
        m->ops->score(m, h.uidx, h.items, h.w, h.n, scores, scratch) == TL_OK)
        for (int k = 0; k < n; k++) {
            int32_t i = tl_intern_find(&m->items, c[k].item, strlen(c[k].item));
            if (i >= 0 && isfinite(scores[i]))
                c[k].score = scores[i];
        }
    free(scores);
    free(scratch);
    tl__hist_release(&h);
    tl__model_ref_release(ref);
}

static json_t *cand_json(const cand *c)
{
    return json_pack("{s:s, s:o, s:i, s:i, s:f, s:o}", "item", c->item, "title",
                     tl__lib_str(c->title), "useful", c->useful, "not_useful", c->not_useful,
                     "feedback", feedback(c), "score",
                     isnan(c->score) ? json_null() : json_real(c->score));
}

static json_t *next_json(next_job *j)
{
    int64_t at = 0, positions = 0, last = 0;
    for (int k = 0; k < j->n; k++) {
        if (j->c[k].pos != last)
            positions++, last = j->c[k].pos;
        if (j->c[k].has && j->c[k].pos > at)
            at = j->c[k].pos;
    }
    json_t *done = json_array(), *next = json_null();
    int first = -1, end = j->n;
    for (int k = 0; k < j->n; k++) {
        if (j->c[k].has)
            json_array_append_new(done, json_pack("{s:I, s:s, s:o}", "pos", (json_int_t)j->c[k].pos,
                                                  "item", j->c[k].item, "title",
                                                  tl__lib_str(j->c[k].title)));
        if (first < 0 && j->c[k].pos > at)
            first = k;
        else if (first >= 0 && end == j->n && j->c[k].pos != j->c[first].pos)
            end = k;
    }
    if (first >= 0) {
        qsort(j->c + first, (size_t)(end - first), sizeof(*j->c), cand_cmp);
        json_t *alts = json_array();
        for (int k = first + 1; alts && k < end; k++)
            json_array_append_new(alts, cand_json(&j->c[k]));
        next = json_pack("{s:I, s:o, s:o, s:o}", "pos", (json_int_t)j->c[first].pos, "level",
                         level_json(j->c[first].level), "item", cand_json(&j->c[first]),
                         "alternatives", alts);
    }
    json_t *o = json_pack("{s:s, s:s, s:I, s:I, s:b, s:o, s:o}", "path", j->id, "user", j->user,
                          "positions", (json_int_t)positions, "position", (json_int_t)at,
                          "complete", first < 0, "done", done, "next", next);
    if (o && !j->personalize)
        json_object_set_new(o, "fallback", json_string(TL__OPTED_OUT));
    return o;
}

tl_err tl_service_path_next(tl_service *s, const char *id, const char *user, char **json,
                            tl_diag *d)
{
    next_job j = {.id = id, .user = user, .w = &s->weights, .personalize = 1};
    *json = NULL;
    tl_err rc = tl__lib_check_id(user, TL_ID_MAX, "user", d);
    if (rc != TL_OK)
        return rc;
    j.kept = tl__patron_ref(s, user, j.ref);
    if ((rc = tl__lib_read(s, do_next, &j, d)) == TL_OK) {
        if (!j.known) {
            tl_diag_set(d, NULL, 0, "user", "no patron '%.200s' in the store", user);
            rc = TL_ENOTFOUND;
        } else {
            if (j.personalize)
                model_scores(s, user, j.c, j.n);
            rc = tl__lib_dump(next_json(&j), json);
        }
    }
    for (int k = 0; k < j.n; k++) {
        free(j.c[k].item);
        free(j.c[k].title);
    }
    free(j.c);
    for (int k = 0; k < j.n_hist; k++)
        free(j.hist[k]);
    free(j.hist);
    return rc;
}

/* ---- proposals ------------------------------------------------------------------------------- */

typedef struct prop_item {
    char *item;
    char series[128];
    double volume; /* NAN: no series */
    int level;
    long long users;
    double precedence; /* patrons who took it before another of the topic, minus after */
    int order;
} prop_item;

typedef struct prop_job {
    const char *topic, *id;
    prop_item *it;
    int n, cap, want, existing;
    /* the patron whose first uses are being gathered */
    int64_t patron;
    int *seq; /* the patron's items (indices into it), in the order of their first use */
    int n_seq, seq_cap;
} prop_job;

/* Whether text contains w, ignoring case (ASCII). */
static int contains(const char *text, const char *w)
{
    size_t n = strlen(w);
    for (; *text; text++)
        if (strncasecmp(text, w, n) == 0)
            return 1;
    return 0;
}

/* The level a title or subjects suggest: 1 introductory, 3 advanced, 2 otherwise. */
static int level_of(const char *title, const char *subjects)
{
    static const char *const intro[] = {"introduction", "introductory", "beginner",    "basics",
                                        "primer",       "first steps",  "for dummies", "101"};
    static const char *const adv[] = {"advanced", "expert", "mastering", "in depth"};
    const char *texts[2] = {title, subjects};
    for (int t = 0; t < 2; t++) {
        if (!texts[t])
            continue;
        for (size_t k = 0; k < sizeof(intro) / sizeof(intro[0]); k++)
            if (contains(texts[t], intro[k]))
                return 1;
        for (size_t k = 0; k < sizeof(adv) / sizeof(adv[0]); k++)
            if (contains(texts[t], adv[k]))
                return 3;
    }
    return 2;
}

static tl_err on_topic_item(void *ctx, const tl_store_topic_item *t)
{
    prop_job *j = ctx;
    if (j->n == j->cap) {
        int cap = j->cap ? 2 * j->cap : 64;
        prop_item *p = realloc(j->it, (size_t)cap * sizeof(*p));
        if (!p)
            return TL_ENOMEM;
        j->it = p;
        j->cap = cap;
    }
    prop_item *p = &j->it[j->n];
    memset(p, 0, sizeof(*p));
    p->volume = NAN;
    if (t->series && isfinite(t->series_volume)) {
        snprintf(p->series, sizeof(p->series), "%s", t->series);
        p->volume = t->series_volume;
    } else if (t->title && !tl_series_parse(t->title, p->series, sizeof(p->series), &p->volume)) {
        p->volume = NAN;
    }
    long long given = t->level ? parse_level(t->level) : TL_ABSENT; /* the catalogue's own */
    p->level = given != TL_ABSENT && given >= 0 ? (int)given : level_of(t->title, t->subjects);
    if (!(p->item = strdup(t->item)))
        return TL_ENOMEM;
    j->n++;
    return TL_OK;
}

static int find_item(const prop_job *j, const char *item)
{
    for (int k = 0; k < j->n; k++) /* a topic's items: a few hundred at most in practice */
        if (strcmp(j->it[k].item, item) == 0)
            return k;
    return -1;
}

/* One patron's first uses are complete: each item taken before another gains, the other loses. */
static void flush_patron(prop_job *j)
{
    for (int a = 0; a < j->n_seq; a++) {
        j->it[j->seq[a]].users++;
        j->it[j->seq[a]].precedence += (j->n_seq - 1 - a) - a;
    }
    j->n_seq = 0;
}

static tl_err on_use(void *ctx, int64_t patron, const char *item, int64_t ts)
{
    (void)ts; /* the rows come in the order of the first uses */
    prop_job *j = ctx;
    if (patron != j->patron) {
        flush_patron(j);
        j->patron = patron;
    }
    int k = find_item(j, item);
    if (k < 0)
        return TL_OK;
    if (j->n_seq == j->seq_cap) {
        int cap = j->seq_cap ? 2 * j->seq_cap : 32;
        int *s = realloc(j->seq, (size_t)cap * sizeof(*s));
        if (!s)
            return TL_ENOMEM;
        j->seq = s;
        j->seq_cap = cap;
    }
    j->seq[j->n_seq++] = k;
    return TL_OK;
}

static tl_err on_existing(void *ctx, const tl_store_path *p)
{
    (void)p;
    ((prop_job *)ctx)->existing++;
    return TL_OK;
}

static int by_users(const void *a, const void *b)
{
    const prop_item *x = a, *y = b;
    if (x->users != y->users)
        return x->users > y->users ? -1 : 1;
    return strcmp(x->item, y->item);
}

/* Level, then the mean place in patrons' sequences (earlier first), then id. */
static int by_order(const void *a, const void *b)
{
    const prop_item *x = a, *y = b;
    if (x->level != y->level)
        return x->level - y->level;
    double px = x->users ? x->precedence / x->users : 0,
           py = y->users ? y->precedence / y->users : 0;
    if (px != py)
        return px > py ? -1 : 1;
    return strcmp(x->item, y->item);
}

/* The items of one series keep the places the order gave them, filled in volume order. */
static void series_in_order(prop_item *it, int n)
{
    for (int a = 0; a < n; a++) {
        if (isnan(it[a].volume))
            continue;
        for (int b = a + 1; b < n; b++)
            if (!isnan(it[b].volume) && strcmp(it[a].series, it[b].series) == 0 &&
                it[b].volume < it[a].volume) {
                prop_item t = it[a];
                it[a] = it[b];
                it[b] = t;
            }
    }
}

static tl_err do_propose(tl_service *s, tl_store *st, void *ctx, tl_diag *d)
{
    (void)s;
    prop_job *j = ctx;
    tl_err rc = tl_store_paths_each(st, j->topic, on_existing, j, d);
    if (rc == TL_OK && j->existing) {
        tl_diag_set(d, NULL, 0, "topic", "the topic '%.200s' has a path", j->topic);
        return TL_EEXIST;
    }
    if (rc == TL_OK)
        rc = tl_store_topic_items(st, j->topic, on_topic_item, j, d);
    if (rc == TL_OK && !j->n) {
        tl_diag_set(d, NULL, 0, "topic", "no item has the subject '%.200s'", j->topic);
        return TL_ENOTFOUND;
    }
    j->patron = -1;
    if (rc == TL_OK && (rc = tl_store_topic_uses(st, j->topic, on_use, j, d)) == TL_OK)
        flush_patron(j);
    if (rc != TL_OK)
        return rc;
    qsort(j->it, (size_t)j->n, sizeof(*j->it), by_users);
    int n = j->n < j->want ? j->n : j->want;
    qsort(j->it, (size_t)n, sizeof(*j->it), by_order);
    series_in_order(j->it, n);
    tl_path_step_rec *steps = malloc((size_t)n * sizeof(*steps));
    if (!steps)
        return TL_ENOMEM;
    for (int k = 0; k < n; k++)
        steps[k] = (tl_path_step_rec){j->it[k].item, k + 1, j->it[k].level};
    char title[TL_LIST_TITLE_MAX + 1];
    snprintf(title, sizeof(title), "%.*s: a proposed path", TL_LIST_TITLE_MAX - 20, j->topic);
    tl_path_rec p = {j->id, title, j->topic, steps, n};
    rc = write_path(st, &p, "proposed", 1, NULL, d);
    free(steps);
    return rc;
}

tl_err tl_service_path_propose(tl_service *s, const char *topic, int n, char *id_out, tl_diag *d)
{
    char id[TL_LIST_ID_MAX + 1];
    if (!topic || !*topic || strlen(topic) > TL_LIST_ID_MAX - 9) {
        tl_diag_set(d, NULL, 0, "topic", "a topic of 1 to %d bytes", TL_LIST_ID_MAX - 9);
        return TL_EINVAL;
    }
    if (n < 1 || n > TL_PATH_MAX_STEPS) {
        tl_diag_set(d, NULL, 0, "n", "a proposal has 1 to %d steps", TL_PATH_MAX_STEPS);
        return TL_EINVAL;
    }
    snprintf(id, sizeof(id), "proposed-%s", topic);
    for (char *p = id; *p; p++)
        *p = *p == ' ' ? '-' : (char)tolower((unsigned char)*p);
    prop_job j = {.topic = topic, .id = id, .want = n};
    tl_err rc = tl__lib_write(s, do_propose, &j, d);
    if (rc == TL_OK && id_out)
        snprintf(id_out, TL_LIST_ID_MAX + 1, "%s", id);
    for (int k = 0; k < j.n; k++)
        free(j.it[k].item);
    free(j.it);
    free(j.seq);
    return rc;
}
