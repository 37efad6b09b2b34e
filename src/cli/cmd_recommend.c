/* tailor recommend: top-N from a model file for one user (with explanations), for an ad-hoc
 * history, or for every user the model knows (TSV). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/filter.h"
#include "core/model.h"

#define MAX_EXPLAIN 3

static void usage(FILE *f)
{
    fprintf(
        f,
        "usage: tailor recommend --model FILE (--user ID | --history ITEM,ITEM,... | --users all)\n"
        "                        [--n N] [--filter key=value]... [--out FILE] [--json]\n\n"
        "--user ID       a user the model was trained with (their history is in the file)\n"
        "--history LIST  an ad-hoc history of item ids (unknown users, fresh sessions)\n"
        "--users all     every user, as TSV `user item rank score` (to --out or stdout)\n"
        "--n N           how many (default 10)\n"
        "--filter F      type=, format=, language=, subject=, year=A-B, available\n"
        "--json          one JSON object per user, with the evidence for each item\n");
}

static void print_json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

static void print_one(const tl_model *m, const char *user, const int32_t *hist, const float *w,
                      int32_t nh, int32_t uidx, const int32_t *items, const float *scores, int n,
                      int json)
{
    if (json) {
        printf("{\"user\":");
        print_json_string(stdout, user);
        printf(",\"model\":\"%s\",\"items\":[", m->ops->name);
    }
    for (int r = 0; r < n; r++) {
        int32_t why[MAX_EXPLAIN];
        float contrib[MAX_EXPLAIN];
        int nwhy = m->ops->explain
                       ? m->ops->explain(m, uidx, hist, w, nh, items[r], why, contrib, MAX_EXPLAIN)
                       : 0;
        const char *id = tl_intern_str(&m->items, items[r]);
        const char *title =
            m->cat.n > items[r] && m->cat.title[items[r]] ? m->cat.title[items[r]] : "";
        if (json) {
            printf("%s{\"rank\":%d,\"item\":", r ? "," : "", r + 1);
            print_json_string(stdout, id);
            printf(",\"title\":");
            print_json_string(stdout, title);
            printf(",\"score\":%.6g,\"because\":[", (double)scores[r]);
            for (int k = 0; k < nwhy; k++) {
                printf("%s{\"item\":", k ? "," : "");
                print_json_string(stdout, tl_intern_str(&m->items, hist[why[k]]));
                printf(",\"weight\":%.6g}", (double)contrib[k]);
            }
            printf("]}");
        } else {
            printf("%2d. %-12s %-50.50s %8.4f", r + 1, id, title, (double)scores[r]);
            for (int k = 0; k < nwhy; k++) {
                int32_t j = hist[why[k]];
                const char *t =
                    m->cat.n > j && m->cat.title[j] ? m->cat.title[j] : tl_intern_str(&m->items, j);
                printf("%s%.40s", k ? "; " : "  because: ", t);
            }
            printf("\n");
        }
    }
    if (json)
        printf("]}\n");
}

/* Parses a comma-separated list of item ids into model indices; unknown ids are skipped. */
static int32_t parse_history(const tl_model *m, const char *list, int32_t *out, float *w,
                             int32_t max)
{
    int32_t n = 0;
    for (const char *p = list; *p && n < max;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        int32_t i = tl_intern_find(&m->items, p, len);
        if (i >= 0) {
            out[n] = i;
            w[n++] = 1.0f;
        } else {
            fprintf(stderr, "tailor: recommend: item '%.*s' is not in the model; ignored\n",
                    (int)len, p);
        }
        p = comma ? comma + 1 : p + len;
    }
    return n;
}

static int all_users(const tl_model *m, const tl_filter *f, int n, const char *out_path)
{
    FILE *out = out_path ? fopen(out_path, "w") : stdout;
    if (!out) {
        perror(out_path);
        return TL_EXIT_FAIL;
    }
    int code = TL_EXIT_FAIL;
    enum { CHUNK = 4096 };
    int32_t *rows = malloc(CHUNK * sizeof(*rows));
    int32_t *items = malloc((size_t)CHUNK * (size_t)n * sizeof(*items));
    float *scores = malloc((size_t)CHUNK * (size_t)n * sizeof(*scores));
    if (!rows || !items || !scores)
        goto out;
    fprintf(out, "user\titem\trank\tscore\n");
    for (int32_t u0 = 0; u0 < m->n_users; u0 += CHUNK) {
        int32_t nr = m->n_users - u0 < CHUNK ? m->n_users - u0 : CHUNK;
        for (int32_t r = 0; r < nr; r++)
            rows[r] = u0 + r;
        tl_err rc = tl_model_recommend_rows(m, &m->hist, 1, rows, nr, f, n, items, scores);
        if (rc != TL_OK) {
            tl_cli_error("recommend", rc, NULL);
            goto out;
        }
        for (int32_t r = 0; r < nr; r++)
            for (int k = 0; k < n && items[(size_t)r * n + k] >= 0; k++)
                fprintf(out, "%s\t%s\t%d\t%.6g\n", tl_intern_str(&m->users, u0 + r),
                        tl_intern_str(&m->items, items[(size_t)r * n + k]), k + 1,
                        (double)scores[(size_t)r * n + k]);
    }
    code = TL_EXIT_OK;
out:
    free(rows);
    free(items);
    free(scores);
    if (out != stdout && fclose(out) != 0)
        code = TL_EXIT_FAIL;
    return code;
}

int cmd_recommend(const tl_cli *cli, int argc, char **argv)
{
    (void)cli;
    const char *path = NULL, *user = NULL, *history = NULL, *users = NULL, *out = NULL;
    int n = 10, json = 0, code = TL_EXIT_USAGE;
    tl_filter_spec spec;
    memset(&spec, 0, sizeof(spec));
    tl_diag diag;
    tl_diag_clear(&diag);
    tl_model *m = NULL;
    uint8_t *allow = NULL;
    int32_t *hist = NULL, *items = NULL;
    float *w = NULL, *scores = NULL;
    if (tl_cli_wants_help(argc, argv)) {
        usage(stdout);
        return TL_EXIT_OK;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has = i + 1 < argc;
        if (strcmp(a, "--model") == 0 && has)
            path = argv[++i];
        else if (strcmp(a, "--user") == 0 && has)
            user = argv[++i];
        else if (strcmp(a, "--history") == 0 && has)
            history = argv[++i];
        else if (strcmp(a, "--users") == 0 && has)
            users = argv[++i];
        else if (strcmp(a, "--out") == 0 && has)
            out = argv[++i];
        else if (strcmp(a, "--n") == 0 && has)
            n = atoi(argv[++i]);
        else if (strcmp(a, "--json") == 0)
            json = 1;
        else if (strcmp(a, "--filter") == 0 && has) {
            if (tl_filter_parse(&spec, argv[++i], &diag) != TL_OK) {
                tl_cli_error("recommend: --filter", TL_EINVAL, &diag);
                return TL_EXIT_USAGE;
            }
        } else {
            usage(stderr);
            return TL_EXIT_USAGE;
        }
    }
    if (!path || n < 1 || n > 10000 || (!!user + !!history + !!users) != 1 ||
        (users && strcmp(users, "all") != 0)) {
        usage(stderr);
        return TL_EXIT_USAGE;
    }
    tl_err rc = tl_model_load(path, &m, &diag);
    if (rc != TL_OK) {
        tl_cli_error("recommend: loading the model", rc, &diag);
        return TL_EXIT_FAIL;
    }
    code = TL_EXIT_FAIL;
    if (!(allow = malloc((size_t)m->n_items + 1)))
        goto out;
    if ((rc = tl_filter_build(m, &spec, allow, &diag)) != TL_OK) {
        tl_cli_error("recommend", rc, &diag);
        code = TL_EXIT_USAGE;
        goto out;
    }
    tl_filter f = {.allow = allow};
    if (users) {
        code = all_users(m, &f, n, out);
        goto out;
    }
    int32_t uidx = -1, nh = 0;
    if (!(items = malloc((size_t)n * sizeof(*items))) ||
        !(scores = malloc((size_t)n * sizeof(*scores))))
        goto out;
    if (user) {
        uidx = tl_intern_find(&m->users, user, strlen(user));
        if (uidx < 0 || !m->hist.indptr) {
            fprintf(stderr, "tailor: recommend: user '%s' is not in the model (try --history)\n",
                    user);
            code = TL_EXIT_DATA;
            goto out;
        }
        nh = (int32_t)(m->hist.indptr[uidx + 1] - m->hist.indptr[uidx]);
        if (!(hist = malloc(((size_t)nh + 1) * sizeof(*hist))) ||
            !(w = malloc(((size_t)nh + 1) * sizeof(*w))))
            goto out;
        memcpy(hist, m->hist.indices + m->hist.indptr[uidx], (size_t)nh * sizeof(*hist));
        memcpy(w, m->hist.data + m->hist.indptr[uidx], (size_t)nh * sizeof(*w));
    } else {
        size_t cap = strlen(history) / 2 + 2;
        if (!(hist = malloc(cap * sizeof(*hist))) || !(w = malloc(cap * sizeof(*w))))
            goto out;
        nh = parse_history(m, history, hist, w, (int32_t)cap);
        user = "(history)";
    }
    int got;
    if ((rc = tl_model_recommend(m, uidx, hist, w, nh, &f, n, items, scores, &got)) != TL_OK) {
        tl_cli_error("recommend", rc, NULL);
        goto out;
    }
    print_one(m, user, hist, w, nh, uidx, items, scores, got, json);
    code = TL_EXIT_OK;
out:
    free(allow);
    free(hist);
    free(w);
    free(items);
    free(scores);
    tl_model_free(m);
    return code;
}
