/* tailor tune: grid search on a validation split carved from train alone; prints every
 * setting's validation nDCG@10, then the best as --set arguments and as JSON. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "eval/tune.h"

typedef struct args {
    const char *train, *model, *items, *interactions, *test;
    tl_opt_list sets, grids;
    int mode, implicit, json;
    uint64_t seed;
} args;

static const tl_opt opts[] = {
    {"train", 0, TL_OPT_STR, "FILE", NULL, 0, 0, TL_OPT_AT(args, train),
     "the training pairs (user item)"},
    {"model", 'm', TL_OPT_STR, "NAME", NULL, 0, 0, TL_OPT_AT(args, model),
     "the model to tune (see tailor train --help)"},
    {"grid", 0, TL_OPT_LIST, "KEY=V1,V2,...", NULL, 0, 0, TL_OPT_AT(args, grids),
     "one axis of the grid; default: the model's grid from REFERENCE.md,\n"
     "else its own tune_grid, else its defaults"},
    {"set", 0, TL_OPT_LIST, "KEY=VALUE", NULL, 0, 0, TL_OPT_AT(args, sets),
     "a fixed parameter at every point"},
    {"mode", 0, TL_OPT_CHOICE, "random|temporal", "random", 0, 0, TL_OPT_AT(args, mode),
     "the validation split (temporal needs timestamps)"},
    {"seed", 0, TL_OPT_SEED, "N", "42", 0, 0, TL_OPT_AT(args, seed), "seed of the random split"},
    {"items", 0, TL_OPT_STR, "FILE", NULL, 0, 0, TL_OPT_AT(args, items),
     "catalogue metadata for content-aware models"},
    {"interactions", 0, TL_OPT_STR, "FILE", NULL, 0, 0, TL_OPT_AT(args, interactions),
     "timestamps of train pairs, from the file train was split from"},
    {"implicit", 0, TL_OPT_FLAG, NULL, NULL, 0, 0, TL_OPT_AT(args, implicit),
     "--interactions: every row is a positive (else value >= 4)"},
    {"json", 0, TL_OPT_FLAG, NULL, NULL, 0, 0, TL_OPT_AT(args, json),
     "only the JSON object on stdout (progress on stderr)"},
    {"test", 0, TL_OPT_STR, "FILE", NULL, 0, 0, TL_OPT_AT(args, test),
     "refused: tuning never reads a test file (PROTOCOL.md, Tuning)"},
    {NULL},
};

static const tl_cmd_def def = {
    .name = "tune",
    .synopsis = "tune --train FILE --model NAME [--grid KEY=V1,V2,...]...\n"
                "            [--set KEY=VALUE]... [--mode random|temporal] [--seed N]\n"
                "            [--items FILE] [--interactions FILE [--implicit]] [--json]",
    .about = "Carves a validation split from train (docs/PROTOCOL.md, Tuning: same rule, mode and\n"
             "seed, no 5-positive filter), fits NAME at every point of the grid on its train part\n"
             "and scores the top 100 on its test part. Never reads a test file.",
    .opts = opts,
};

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

static int run(const tl_cli *cli, int argc, char **argv)
{
    (void)cli;
    args a;
    memset(&a, 0, sizeof(a));
    int first, code = tl_opt_parse(&def, &a, argc, argv, &first);
    if (code != TL_OPT_RUN)
        return code;
    if (a.test)
        return tl_opt_usage_error(&def, "never reads a test file (PROTOCOL.md, Tuning)");
    if (!a.train || !a.model)
        return tl_opt_usage_error(&def, "needs --train FILE and --model NAME");
    if (!tl_model_find_ops(a.model))
        return tl_opt_usage_error(&def, "unknown model '%s' (see tailor train --help)", a.model);
    static const tl_split_mode modes[] = {TL_SPLIT_RANDOM, TL_SPLIT_TEMPORAL};
    tl_tune_opts o;
    tl_tune_opts_init(&o);
    o.model = a.model;
    o.sets = a.sets.v;
    o.n_sets = a.sets.n;
    o.grids = a.grids.v;
    o.n_grids = a.grids.n;
    o.mode = modes[a.mode];
    o.seed = a.seed;
    o.items = a.items;
    o.interactions = a.interactions;
    o.implicit = a.implicit;
    int json = a.json;
    progress pr = {json ? stderr : stdout};
    tl_tune_result res;
    tl_diag diag;
    tl_diag_clear(&diag);
    tl_err rc = tl_tune_run(a.train, &o, on_point, &pr, &res, &diag);
    if (rc != TL_OK)
        return tl_cli_fail("tune", rc, &diag);
    const tl_tune_point *best = &res.points[res.best];
    json_t *all = json_array();
    for (int k = 0; all && k < res.n; k++) {
        const tl_tune_point *p = &res.points[k];
        json_array_append_new(
            all, json_pack("{s:o, s:o, s:o, s:o}", "params", tl_json_params(p->setting, " "),
                           "ndcg@10", tl_json_num(p->metrics.ndcg10, "ndcg@10"), "recall@20",
                           tl_json_num(p->metrics.recall20, "recall@20"), "fit_seconds",
                           tl_json_num(p->fit_seconds, "fit_seconds")));
    }
    json_t *out =
        json_pack("{s:s, s:s, s:I, s:s, s:I, s:I, s:I, s:o, s:o, s:o}", "model", o.model, "mode",
                  tl_holdout_mode_name(o.mode), "seed", (json_int_t)o.seed, "grid", res.grid,
                  "validation_train_pairs", (json_int_t)res.val_train_pairs,
                  "validation_test_pairs", (json_int_t)res.val_test_pairs, "validation_users",
                  (json_int_t)res.val_users, "best", tl_json_params(best->setting, " "),
                  "best_ndcg@10", tl_json_num(best->metrics.ndcg10, "ndcg@10"), "results", all);
    tl_out dst;
    tl_out_open(&dst, NULL);
    if (!json) {
        fprintf(dst.f,
                "validation: %lld train pairs, %lld test pairs, %lld users (%s, seed %llu)\n",
                (long long)res.val_train_pairs, (long long)res.val_test_pairs,
                (long long)res.val_users, tl_holdout_mode_name(o.mode), (unsigned long long)o.seed);
        fprintf(dst.f, "best (validation ndcg@10 %.4f):", best->metrics.ndcg10);
        for (int k = 0; k < o.n_sets; k++)
            fprintf(dst.f, " --set %s", a.sets.v[k]);
        char *copy = strdup(best->setting);
        for (char *save = NULL, *kv = copy ? strtok_r(copy, " ", &save) : NULL; kv;
             kv = strtok_r(NULL, " ", &save))
            fprintf(dst.f, " --set %s", kv);
        free(copy);
        fprintf(dst.f, "\n");
    }
    code = tl_json_emit(&dst, out, 0, 10);
    tl_tune_result_release(&res);
    return tl_out_close(&dst, code);
}

const tl_cmd tl_cmd_tune = {&def, "choose hyperparameters on a validation split carved from train",
                            run};
