/* tailor eval: train a model on train.tsv, recommend the top 100 for every test user and print
 * the protocol's metrics (the keys of tools/evaluate.py --json, plus novelty and diversity);
 * or score an existing recs file as evaluate.py does. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/interrupt.h"
#include "cli/progress.h"
#include "core/model.h"
#include "eval/autotune.h"
#include "eval/evaluate.h"

typedef struct args {
    const char *train, *test, *recs, *model, *items, *interactions, *recs_out;
    tl_opt_list sets;
    int implicit, json, quiet;
} args;

static const tl_opt opts[] = {
    {"train", 0, TL_OPT_STR, "FILE", NULL, 0, 0, TL_OPT_AT(args, train),
     "the training pairs (user item), e.g. split/train.tsv"},
    {"test", 0, TL_OPT_STR, "FILE", NULL, 0, 0, TL_OPT_AT(args, test),
     "the test pairs (user item), e.g. split/test.tsv"},
    {"model", 'm', TL_OPT_STR, "NAME", NULL, 0, 0, TL_OPT_AT(args, model),
     "the model to train and score (see tailor train --help)"},
    {"recs", 0, TL_OPT_STR, "FILE", NULL, 0, 0, TL_OPT_AT(args, recs),
     "score this recs file (user item rank) instead of a model"},
    {"set", 0, TL_OPT_LIST, "KEY=VALUE", NULL, 0, 0, TL_OPT_AT(args, sets),
     "a model parameter (see tailor train --help)"},
    {"items", 0, TL_OPT_STR, "FILE", NULL, 0, 0, TL_OPT_AT(args, items),
     "catalogue metadata for content-aware models"},
    {"interactions", 0, TL_OPT_STR, "FILE", NULL, 0, 0, TL_OPT_AT(args, interactions),
     "give train pairs their timestamps from the interactions the split was\n"
     "made from (binarized as split does; --implicit)"},
    {"implicit", 0, TL_OPT_FLAG, NULL, NULL, 0, 0, TL_OPT_AT(args, implicit),
     "--interactions: every row is a positive (else value >= 4)"},
    {"recs-out", 0, TL_OPT_STR, "FILE", NULL, 0, 0, TL_OPT_AT(args, recs_out),
     "also write the lists as user item rank"},
    {"json", 0, TL_OPT_FLAG, NULL, NULL, 0, 0, TL_OPT_AT(args, json),
     "one JSON object instead of text"},
    {"quiet", 'q', TL_OPT_FLAG, NULL, NULL, 0, 0, TL_OPT_AT(args, quiet), "no progress on stderr"},
    {NULL},
};

static const tl_cmd_def def = {
    .name = "eval",
    .synopsis = "eval --train FILE --test FILE --model NAME [--set KEY=VALUE]...\n"
                "            [--items FILE] [--interactions FILE [--implicit]]\n"
                "            [--recs-out FILE] [--json] [--quiet]\n"
                "tailor eval --train FILE --test FILE --recs FILE [--json]",
    .about =
        "Trains NAME on train (user item), recommends the top 100 of the train items for every\n"
        "test user found in train (their own train items excluded) and prints the metrics of\n"
        "docs/PROTOCOL.md; test users absent from train score 0. With --recs, scores that file\n"
        "instead, exactly as tools/evaluate.py does. Progress goes to stderr; Ctrl-C stops\n"
        "(exit 130).",
    .opts = opts,
};

/* The metrics in the order they are printed; counts are whole numbers. */
static int metric_rows(const tl_metrics_result *r, const char **keys, double *vals)
{
    const struct {
        const char *k;
        double v;
    } f[] = {{"ndcg@10", r->ndcg10},
             {"ndcg@100", r->ndcg100},
             {"recall@20", r->recall20},
             {"recall@50", r->recall50},
             {"precision@10", r->precision10},
             {"map@10", r->map10},
             {"hitrate@10", r->hitrate10},
             {"coverage@10", r->coverage10},
             {"novelty@10", r->novelty10},
             {"diversity@10", r->diversity10},
             {"users", (double)r->users},
             {"users_without_recs", (double)r->users_without_recs},
             {"train_item_violations", (double)r->train_item_violations},
             {"duplicate_rows", (double)r->duplicate_rows}};
    int n = (int)(sizeof(f) / sizeof(f[0]));
    for (int k = 0; k < n; k++) {
        keys[k] = f[k].k;
        vals[k] = f[k].v;
    }
    return n;
}
#define MAX_METRICS 16
#define N_RATES 10 /* the first rows are rates, the rest counts */

static void add_metrics(json_t *o, const tl_metrics_result *r)
{
    const char *keys[MAX_METRICS];
    double vals[MAX_METRICS];
    int n = metric_rows(r, keys, vals);
    for (int k = 0; k < n; k++)
        json_object_set_new(o, keys[k],
                            k < N_RATES ? tl_json_num(vals[k], keys[k])
                                        : json_integer((json_int_t)vals[k]));
}

static void print_text(FILE *out, const tl_metrics_result *r)
{
    const char *keys[MAX_METRICS];
    double vals[MAX_METRICS];
    int n = metric_rows(r, keys, vals);
    for (int k = 0; k < n; k++)
        fprintf(out, k < N_RATES ? "%-22s %.6f\n" : "%-22s %.0f\n", keys[k], vals[k]);
}

static json_t *report_json(const args *a, const tl_eval_report *rep)
{
    json_t *out = json_object();
    if (!out)
        return NULL;
    add_metrics(out, &rep->metrics);
    if (!a->recs) {
        json_object_set_new(out, "model", json_string(a->model));
        json_object_set_new(out, "params", tl_json_params(rep->params, "\n"));
        json_object_set_new(out, "fit_seconds", tl_json_num(rep->fit_seconds, "fit_seconds"));
        json_object_set_new(out, "tune_seconds", tl_json_num(rep->tune_seconds, "tune_seconds"));
        json_object_set_new(out, "recommend_seconds",
                            tl_json_num(rep->recommend_seconds, "recommend_seconds"));
        if (rep->autotune[0])
            json_object_set_new(out, "autotune", json_string(rep->autotune));
    }
    return out;
}

static int run(const tl_cli *cli, int argc, char **argv)
{
    (void)cli;
    args a;
    memset(&a, 0, sizeof(a));
    int first, code = tl_opt_parse(&def, &a, argc, argv, &first);
    if (code != TL_OPT_RUN)
        return code;
    if (!a.train || !a.test || !a.recs == !a.model)
        return tl_opt_usage_error(&def, "needs --train, --test and one of --model or --recs");
    if (a.model && !tl_model_find_ops(a.model))
        return tl_opt_usage_error(&def, "unknown model '%s' (see tailor train --help)", a.model);
    tl_eval_opts o;
    tl_eval_opts_init(&o);
    o.model = a.model;
    o.sets = a.sets.v;
    o.n_sets = a.sets.n;
    o.items = a.items;
    o.interactions = a.interactions;
    o.implicit = a.implicit;
    o.recs_out = a.recs_out;
    tl_stage_progress pg;
    tl_stage_init(&pg, "eval", a.quiet);
    tl_fit_hooks hooks = {.tune = tl_autotune_hook,
                          .progress = tl_stage_update,
                          .cancelled = tl_interrupted,
                          .ctx = &pg};
    o.hooks = &hooks;
    tl_diag diag;
    tl_diag_clear(&diag);
    tl_eval_report rep;
    memset(&rep, 0, sizeof(rep));
    tl_interrupt_catch();
    tl_stage_begin(&pg, a.recs ? "reading the recommendations" : "reading the data");
    tl_err rc = a.recs ? tl_eval_recs_file(a.train, a.test, a.recs, &rep.metrics, &diag)
                       : tl_eval_model(a.train, a.test, &o, &rep, &diag);
    tl_stage_done(&pg);
    tl_interrupt_release();
    if (rc == TL_OK && tl_interrupted(NULL))
        rc = TL_ECANCELED;
    if (rc != TL_OK) {
        tl_eval_report_release(&rep);
        if (rc == TL_ECANCELED) {
            fprintf(stderr, "tailor: eval: interrupted\n");
            return TL_EXIT_INTERRUPTED;
        }
        return tl_cli_fail("eval", rc, &diag);
    }
    tl_out out;
    tl_out_open(&out, NULL);
    if (a.json) {
        code = tl_json_emit(&out, report_json(&a, &rep), 0, 17);
    } else {
        if (!a.recs)
            fprintf(out.f, "model %s: fit %.3f s (autotune %.3f s), recommend %.3f s%s%s\n",
                    a.model, rep.fit_seconds, rep.tune_seconds, rep.recommend_seconds,
                    rep.autotune[0] ? "; autotune: " : "", rep.autotune);
        print_text(out.f, &rep.metrics);
        code = TL_EXIT_OK;
    }
    tl_eval_report_release(&rep);
    return tl_out_close(&out, code);
}

const tl_cmd tl_cmd_eval = {&def, "train on a split, recommend, and print the protocol's metrics",
                            run};
