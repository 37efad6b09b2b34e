/* tailor tune: grid search on a validation split carved from train alone; prints every
 * setting's validation nDCG@10, then the best as --set arguments and as JSON. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "eval/tune.h"

#define MAX_ARGS 64

static void usage(FILE *f)
{
    fprintf(f,
            "usage: tailor tune --train FILE --model NAME [--grid key=v1,v2,...]...\n"
            "                   [--set key=value]... [--mode random|temporal] [--seed N]\n"
            "                   [--items items.tsv] [--interactions FILE [--implicit]] [--json]\n\n"
            "Carves a validation split from train (PROTOCOL.md, Tuning: same rule, mode and seed,\n"
            "no 5-positive filter), fits NAME at every point of the grid on its train part and\n"
            "scores the top 100 on its test part. Never reads a test file.\n\n"
            "  --grid key=v1,v2    one axis of the grid (repeatable); default: the model's grid\n"
            "                      from REFERENCE.md, else its own tune_grid, else its defaults\n"
            "  --set key=value     a fixed parameter at every point\n"
            "  --mode M            random (default) or temporal (needs timestamps)\n"
            "  --seed N            seed of the random split (default 42)\n"
            "  --interactions FILE timestamps of train pairs, from the file train was split from\n"
            "  --json              only the JSON object on stdout (progress on stderr)\n");
}

typedef struct progress {
    FILE *f;
} progress;

static void on_point(void *ctx, const tl_tune_point *p, int k, int n)
{
    progress *pr = ctx;
    fprintf(pr->f, "[%d/%d] %-40s ndcg@10 %.4f  recall@20 %.4f  coverage@10 %.4f  fit %.2f s\n",
            k + 1, n, p->setting[0] ? p->setting : "(defaults)", p->metrics.ndcg10,
            p->metrics.recall20, p->metrics.coverage10, p->fit_seconds);
    fflush(pr->f);
}

/* "k=50 shrink=10" as {"k": "50", ...} with numbers where the value is one. */
static json_t *setting_json(const char *s)
{
    json_t *o = json_object();
    char *copy = strdup(s);
    for (char *save = NULL, *kv = strtok_r(copy, " ", &save); kv; kv = strtok_r(NULL, " ", &save)) {
        char *eq = strchr(kv, '=');
        if (!eq)
            continue;
        *eq = '\0';
        const char *v = eq + 1;
        char *end;
        double x = strtod(v, &end);
        json_t *j;
        if (*end || end == v)
            j = json_string(v);
        else if (!strpbrk(v, ".eEnNiI") && x >= -9e15 && x <= 9e15)
            j = json_integer((json_int_t)x);
        else
            j = json_real(x);
        json_object_set_new(o, kv, j);
    }
    free(copy);
    return o;
}

static int parse_seed(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    *out = s[0] == '-' ? (uint64_t)strtoll(s, &end, 10) : (uint64_t)strtoull(s, &end, 10);
    return !*s || *end || errno ? -1 : 0;
}

int cmd_tune(const tl_cli *cli, int argc, char **argv)
{
    (void)cli;
    if (tl_cli_wants_help(argc, argv)) {
        usage(stdout);
        return TL_EXIT_OK;
    }
    const char *train = NULL, *sets[MAX_ARGS], *grids[MAX_ARGS], *mode = NULL, *seed = NULL;
    int json = 0;
    tl_tune_opts o;
    tl_tune_opts_init(&o);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char **dst = NULL;
        if (strcmp(a, "--json") == 0) {
            json = 1;
            continue;
        }
        if (strcmp(a, "--implicit") == 0) {
            o.implicit = 1;
            continue;
        }
        if (strcmp(a, "--test") == 0) {
            fprintf(stderr, "tailor tune: never reads a test file (PROTOCOL.md, Tuning)\n");
            return TL_EXIT_USAGE;
        }
        if (strcmp(a, "--train") == 0)
            dst = &train;
        else if (strcmp(a, "--model") == 0)
            dst = &o.model;
        else if (strcmp(a, "--mode") == 0)
            dst = &mode;
        else if (strcmp(a, "--seed") == 0)
            dst = &seed;
        else if (strcmp(a, "--items") == 0)
            dst = &o.items;
        else if (strcmp(a, "--interactions") == 0)
            dst = &o.interactions;
        else if (strcmp(a, "--set") == 0 && o.n_sets < MAX_ARGS)
            dst = &sets[o.n_sets++];
        else if (strcmp(a, "--grid") == 0 && o.n_grids < MAX_ARGS)
            dst = &grids[o.n_grids++];
        else {
            fprintf(stderr, "tailor tune: unknown argument '%s'\n", a);
            usage(stderr);
            return TL_EXIT_USAGE;
        }
        if (i + 1 == argc) {
            fprintf(stderr, "tailor tune: %s needs a value\n", a);
            return TL_EXIT_USAGE;
        }
        *dst = argv[++i];
    }
    o.sets = sets;
    o.grids = grids;
    if (!train || !o.model) {
        usage(stderr);
        return TL_EXIT_USAGE;
    }
    if (mode && tl_holdout_mode_parse(mode, &o.mode) != TL_OK) {
        fprintf(stderr, "tailor tune: --mode must be random or temporal\n");
        return TL_EXIT_USAGE;
    }
    if (seed && parse_seed(seed, &o.seed) != 0) {
        fprintf(stderr, "tailor tune: --seed must be an integer\n");
        return TL_EXIT_USAGE;
    }
    progress pr = {json ? stderr : stdout};
    tl_tune_result res;
    tl_diag diag;
    tl_diag_clear(&diag);
    tl_err rc = tl_tune_run(train, &o, on_point, &pr, &res, &diag);
    if (rc != TL_OK) {
        tl_cli_error("tune", rc, &diag);
        return rc == TL_EPARSE                                             ? TL_EXIT_DATA
               : rc == TL_EINVAL || rc == TL_ENOTFOUND || rc == TL_ETOOBIG ? TL_EXIT_USAGE
                                                                           : TL_EXIT_FAIL;
    }
    const tl_tune_point *best = &res.points[res.best];
    json_t *out = json_object();
    json_object_set_new(out, "model", json_string(o.model));
    json_object_set_new(out, "mode", json_string(tl_holdout_mode_name(o.mode)));
    json_object_set_new(out, "seed", json_integer((json_int_t)o.seed));
    json_object_set_new(out, "grid", json_string(res.grid));
    json_object_set_new(out, "validation_train_pairs", json_integer(res.val_train_pairs));
    json_object_set_new(out, "validation_test_pairs", json_integer(res.val_test_pairs));
    json_object_set_new(out, "validation_users", json_integer(res.val_users));
    json_object_set_new(out, "best", setting_json(best->setting));
    json_object_set_new(out, "best_ndcg@10", json_real(best->metrics.ndcg10));
    json_t *all = json_array();
    for (int k = 0; k < res.n; k++) {
        json_t *p = json_object();
        json_object_set_new(p, "params", setting_json(res.points[k].setting));
        json_object_set_new(p, "ndcg@10", json_real(res.points[k].metrics.ndcg10));
        json_object_set_new(p, "recall@20", json_real(res.points[k].metrics.recall20));
        json_object_set_new(p, "fit_seconds", json_real(res.points[k].fit_seconds));
        json_array_append_new(all, p);
    }
    json_object_set_new(out, "results", all);
    if (!json) {
        printf("validation: %lld train pairs, %lld test pairs, %lld users (%s, seed %llu)\n",
               (long long)res.val_train_pairs, (long long)res.val_test_pairs,
               (long long)res.val_users, tl_holdout_mode_name(o.mode), (unsigned long long)o.seed);
        printf("best (validation ndcg@10 %.4f):", best->metrics.ndcg10);
        for (int k = 0; k < o.n_sets; k++)
            printf(" --set %s", sets[k]);
        char *copy = strdup(best->setting);
        for (char *save = NULL, *kv = strtok_r(copy, " ", &save); kv;
             kv = strtok_r(NULL, " ", &save))
            printf(" --set %s", kv);
        free(copy);
        printf("\n");
    }
    char *s = json_dumps(out, JSON_SORT_KEYS | JSON_REAL_PRECISION(10));
    if (s)
        puts(s);
    free(s);
    json_decref(out);
    tl_tune_result_release(&res);
    return TL_EXIT_OK;
}
