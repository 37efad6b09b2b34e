/* Reading impressions logs and estimating a target policy from them; see ope_log.h. */
#include "eval/ope_log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/hash.h"
#include "util/lines.h"

#define LOG_COLUMNS 13

int tl_ope_log_arm(tl_ope_log *log, const char *name)
{
    for (int i = 0; i < log->narms; i++)
        if (strcmp(log->names[i], name) == 0)
            return i;
    if (log->narms >= TL_OPE_MAX_ARMS || strlen(name) >= sizeof log->names[0] || !*name)
        return -1;
    strcpy(log->names[log->narms], name);
    return log->narms++;
}

tl_err tl_ope_log_add(tl_ope_log *log, const tl_ope_row *row)
{
    if (log->n == log->cap) {
        size_t cap = log->cap ? log->cap * 2 : 1024;
        tl_ope_row *r = realloc(log->rows, cap * sizeof *r);
        if (!r)
            return TL_ENOMEM;
        log->rows = r;
        log->cap = cap;
    }
    log->rows[log->n++] = *row;
    return TL_OK;
}

void tl_ope_log_free(tl_ope_log *log)
{
    free(log->rows);
    memset(log, 0, sizeof *log);
}

static int parse_double(const char *s, double *out)
{
    char *end;
    errno = 0;
    *out = strtod(s, &end);
    return end != s && *end == '\0' && errno == 0 ? 0 : -1;
}

/* Splits line at tabs into at most max fields; returns how many. */
static int split_tabs(char *line, char **f, int max)
{
    int n = 0;
    f[n++] = line;
    for (char *p = line; *p && n <= max; p++)
        if (*p == '\t') {
            *p = '\0';
            if (n == max)
                return max + 1;
            f[n++] = p + 1;
        }
    return n;
}

static const char *parse_row(tl_ope_log *log, char **f, tl_ope_row *r)
{
    double v;
    memset(r, 0, sizeof *r);
    if (parse_double(f[1], &v) != 0)
        return "ts is not a number";
    r->ts = (long long)v;
    r->group = tl_fnv1a64(*f[2] ? f[2] : f[0], strlen(*f[2] ? f[2] : f[0]));
    if (parse_double(f[7], &v) != 0 || v < 0 || v != (int)v)
        return "decision is not a slot number";
    r->decision = (int)v;
    if (parse_double(f[9], &r->propensity) != 0 || !(r->propensity > 0) || r->propensity > 1)
        return "propensity is not in (0, 1]";
    if (parse_double(f[12], &r->reward) != 0)
        return "reward is not a number";
    char *save = NULL;
    for (char *c = strtok_r(f[10], ",", &save); c; c = strtok_r(NULL, ",", &save)) {
        if (r->n_cand >= TL_OPE_MAX_ARMS)
            return "too many candidates";
        int id = tl_ope_log_arm(log, c);
        if (id < 0)
            return "too many distinct row names";
        r->cand[r->n_cand++] = id;
    }
    r->chosen = tl_ope_log_arm(log, f[8]);
    int found = 0;
    for (int i = 0; i < r->n_cand; i++)
        found |= r->cand[i] == r->chosen;
    if (r->chosen < 0 || !found)
        return "chosen is not among the candidates";
    int k = 0;
    for (char *c = strtok_r(f[11], ",", &save); c; c = strtok_r(NULL, ",", &save)) {
        if (k >= TL_CTX_DIM || parse_double(c, &r->x[k]) != 0)
            return "context is not TL_CTX_DIM numbers";
        k++;
    }
    if (k != TL_CTX_DIM)
        return "context is not TL_CTX_DIM (12) numbers";
    return NULL;
}

tl_err tl_ope_log_line(tl_ope_log *log, char *line, size_t len, long lineno, const char *src,
                       tl_diag *d)
{
    if (lineno == 1) {
        if (strncmp(line, "impression_id\t", 14) != 0) {
            tl_diag_set(d, src, 1, NULL,
                        "not an impressions export (the header must start impression_id)");
            return TL_EPARSE;
        }
        return TL_OK;
    }
    if (len == 0)
        return TL_OK;
    char *f[LOG_COLUMNS + 1];
    if (split_tabs(line, f, LOG_COLUMNS) != LOG_COLUMNS) {
        tl_diag_set(d, src, lineno, NULL, "expected %d tab-separated columns", LOG_COLUMNS);
        return TL_EPARSE;
    }
    tl_ope_row r;
    const char *why = parse_row(log, f, &r);
    if (why) {
        tl_diag_set(d, src, lineno, NULL, "%s", why);
        return TL_EPARSE;
    }
    return tl_ope_log_add(log, &r);
}

tl_err tl_ope_log_read(const char *path, tl_ope_log *out, tl_diag *d)
{
    memset(out, 0, sizeof *out);
    tl_lines lr;
    tl_err rc = tl_lines_open(&lr, path);
    if (rc != TL_OK) {
        tl_diag_set(d, path, 0, NULL, "cannot open: %s", strerror(errno));
        return rc;
    }
    char *line;
    size_t len;
    int got = 0;
    while (rc == TL_OK && (got = tl_lines_next(&lr, &line, &len)) == 1)
        rc = tl_ope_log_line(out, line, len, (long)lr.lineno, path, d);
    if (rc == TL_OK && got < 0) {
        rc = (tl_err)-got;
        tl_diag_set(d, path, lr.lineno, NULL, "%s", tl_lines_error(&lr));
    }
    tl_lines_close(&lr);
    if (rc != TL_OK)
        tl_ope_log_free(out);
    return rc;
}

void tl_ope_policy_fixed(void *ctx, const tl_ope_log *log, const tl_ope_row *row, double *probs)
{
    (void)log;
    const tl_ope_fixed *f = ctx;
    int pick = 0;
    for (int j = 0, done = 0; j < f->n && !done; j++)
        for (int i = 0; i < row->n_cand; i++)
            if (row->cand[i] == f->order[j]) {
                pick = i;
                done = 1;
                break;
            }
    for (int i = 0; i < row->n_cand; i++)
        probs[i] = i == pick;
}

void tl_ope_policy_uniform(void *ctx, const tl_ope_log *log, const tl_ope_row *row, double *probs)
{
    (void)ctx;
    (void)log;
    for (int i = 0; i < row->n_cand; i++)
        probs[i] = 1.0 / row->n_cand;
}

void tl_ope_policy_bandit(void *ctx, const tl_ope_log *log, const tl_ope_row *row, double *probs)
{
    (void)log;
    if (tl_bandit_probs(ctx, row->x, row->cand, row->n_cand, probs) != TL_OK)
        tl_ope_policy_uniform(NULL, log, row, probs);
}

/* Fits on the decision-0 rows before `before` (0: all) outside fold `fold` (-1: none). */
static tl_err fit(const tl_ope_log *log, tl_bandit_kind kind, double alpha, double p_min,
                  long long before, int fold, tl_bandit **out)
{
    tl_err rc = tl_bandit_new(kind, log->narms > 0 ? log->narms : 1, TL_CTX_DIM, alpha, p_min, out);
    if (rc != TL_OK)
        return rc;
    for (size_t i = 0; i < log->n; i++) {
        const tl_ope_row *r = &log->rows[i];
        if (r->decision != 0 || (before && r->ts >= before))
            continue;
        if (fold >= 0 && (int)(r->group & 1) == fold)
            continue;
        tl_bandit_update(*out, r->chosen, r->x, r->reward, 1.0);
    }
    return TL_OK;
}

tl_err tl_ope_fit_bandit(const tl_ope_log *log, long long before, tl_bandit_kind kind, double alpha,
                         double p_min, tl_bandit **out)
{
    if (p_min * log->narms > 1)
        p_min = 1.0 / log->narms;
    return fit(log, kind, alpha, p_min, before, -1, out);
}

tl_err tl_ope_log_estimate(const tl_ope_log *log, long long since, tl_ope_policy_fn target,
                           void *ctx, tl_ope_result *out)
{
    memset(out, 0, sizeof *out);
    size_t n = 0;
    for (size_t i = 0; i < log->n; i++)
        n += log->rows[i].decision == 0 && log->rows[i].ts >= since;
    if (n == 0)
        return TL_ENOTFOUND;
    tl_bandit *q[2] = {NULL, NULL};
    tl_ope_sample *s = calloc(n, sizeof *s);
    double *probs = calloc(n * TL_OPE_MAX_ARMS, sizeof(double)),
           *qhat = calloc(n * TL_OPE_MAX_ARMS, sizeof(double));
    tl_err rc = !s || !probs || !qhat ? TL_ENOMEM : TL_OK;
    /* q[f]: fitted on the other fold, used to predict fold f */
    for (int f = 0; f < 2 && rc == TL_OK; f++)
        rc = fit(log, TL_BANDIT_LINUCB, 0, 0, 0, f, &q[f]);
    size_t k = 0;
    for (size_t i = 0; i < log->n && rc == TL_OK; i++) {
        const tl_ope_row *r = &log->rows[i];
        if (r->decision != 0 || r->ts < since)
            continue;
        double *p = probs + k * TL_OPE_MAX_ARMS, *qh = qhat + k * TL_OPE_MAX_ARMS;
        target(ctx, log, r, p);
        int chosen = 0;
        for (int j = 0; j < r->n_cand; j++) {
            qh[j] = tl_bandit_mean(q[r->group & 1], r->cand[j], r->x);
            if (r->cand[j] == r->chosen)
                chosen = j;
        }
        s[k] = (tl_ope_sample){r->n_cand, chosen, r->propensity, r->reward, p, qh};
        k++;
    }
    if (rc == TL_OK)
        rc = tl_ope_estimate(s, n, out);
    tl_bandit_free(q[0]);
    tl_bandit_free(q[1]);
    free(s);
    free(probs);
    free(qhat);
    return rc;
}
