/* tailor eval: train a model on train.tsv, recommend the top 100 for every test user and print
 * the protocol's metrics (the keys of tools/evaluate.py --json, plus novelty and diversity);
 * or score an existing recs file as evaluate.py does. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "eval/evaluate.h"

#define MAX_SETS 64

static void usage(FILE *f)
{
    fprintf(
        f, "usage: tailor eval --train FILE --test FILE --model NAME [--set key=value]...\n"
           "                   [--items items.tsv] [--interactions FILE [--implicit]]\n"
           "                   [--recs-out FILE] [--json]\n"
           "       tailor eval --train FILE --test FILE --recs FILE [--json]\n\n"
           "Trains NAME on train (user item), recommends the top 100 of the train items for every\n"
           "test user found in train (their own train items excluded) and prints PROTOCOL.md's\n"
           "metrics; test users absent from train score 0. With --recs, scores that file instead,\n"
           "exactly as tools/evaluate.py does.\n\n"
           "  --set key=value     a model parameter (repeatable; see tailor train --help)\n"
           "  --items FILE        catalogue metadata for content-aware models\n"
           "  --interactions FILE give train pairs their timestamps from the interactions the\n"
           "                      split was made from (binarized as split does; --implicit)\n"
           "  --recs-out FILE     also write the lists as user item rank\n"
           "  --json              one JSON object instead of text\n");
}

/* A "key=value" line's value as a JSON number when it is one, else a string. */
static json_t *param_value(const char *v)
{
    char *end;
    double x = strtod(v, &end);
    if (*v && !*end) {
        if (!strpbrk(v, ".eEnNiI") && x >= -9e15 && x <= 9e15)
            return json_integer((json_int_t)x);
        return json_real(x);
    }
    return json_string(v);
}

static json_t *params_json(const char *text)
{
    json_t *o = json_object();
    char *copy = strdup(text ? text : "");
    for (char *save = NULL, *line = strtok_r(copy, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        char *eq = strchr(line, '=');
        if (!eq)
            continue;
        *eq = '\0';
        json_object_set_new(o, line, param_value(eq + 1));
    }
    free(copy);
    return o;
}

static void add_metrics(json_t *o, const tl_metrics_result *r)
{
    json_object_set_new(o, "ndcg@10", json_real(r->ndcg10));
    json_object_set_new(o, "ndcg@100", json_real(r->ndcg100));
    json_object_set_new(o, "recall@20", json_real(r->recall20));
    json_object_set_new(o, "recall@50", json_real(r->recall50));
    json_object_set_new(o, "precision@10", json_real(r->precision10));
    json_object_set_new(o, "map@10", json_real(r->map10));
    json_object_set_new(o, "hitrate@10", json_real(r->hitrate10));
    json_object_set_new(o, "coverage@10", json_real(r->coverage10));
    json_object_set_new(o, "novelty@10", json_real(r->novelty10));
    json_object_set_new(o, "diversity@10", json_real(r->diversity10));
    json_object_set_new(o, "users", json_integer(r->users));
    json_object_set_new(o, "users_without_recs", json_integer(r->users_without_recs));
    json_object_set_new(o, "train_item_violations", json_integer(r->train_item_violations));
    json_object_set_new(o, "duplicate_rows", json_integer(r->duplicate_rows));
}

static void print_text(const tl_metrics_result *r)
{
    const struct {
        const char *k;
        double v;
    } f[] = {{"ndcg@10", r->ndcg10},           {"ndcg@100", r->ndcg100},
             {"recall@20", r->recall20},       {"recall@50", r->recall50},
             {"precision@10", r->precision10}, {"map@10", r->map10},
             {"hitrate@10", r->hitrate10},     {"coverage@10", r->coverage10},
             {"novelty@10", r->novelty10},     {"diversity@10", r->diversity10}};
    for (size_t k = 0; k < sizeof(f) / sizeof(f[0]); k++)
        printf("%-22s %.6f\n", f[k].k, f[k].v);
    printf("%-22s %lld\n%-22s %lld\n%-22s %lld\n%-22s %lld\n", "users", (long long)r->users,
           "users_without_recs", (long long)r->users_without_recs, "train_item_violations",
           (long long)r->train_item_violations, "duplicate_rows", (long long)r->duplicate_rows);
}

int cmd_eval(const tl_cli *cli, int argc, char **argv)
{
    (void)cli;
    if (tl_cli_wants_help(argc, argv)) {
        usage(stdout);
        return TL_EXIT_OK;
    }
    const char *train = NULL, *test = NULL, *recs = NULL, *sets[MAX_SETS];
    int json = 0;
    tl_eval_opts o;
    tl_eval_opts_init(&o);
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
        if (strcmp(a, "--train") == 0)
            dst = &train;
        else if (strcmp(a, "--test") == 0)
            dst = &test;
        else if (strcmp(a, "--recs") == 0)
            dst = &recs;
        else if (strcmp(a, "--model") == 0)
            dst = &o.model;
        else if (strcmp(a, "--items") == 0)
            dst = &o.items;
        else if (strcmp(a, "--interactions") == 0)
            dst = &o.interactions;
        else if (strcmp(a, "--recs-out") == 0)
            dst = &o.recs_out;
        else if (strcmp(a, "--set") == 0) {
            if (o.n_sets == MAX_SETS) {
                fprintf(stderr, "tailor eval: at most %d --set\n", MAX_SETS);
                return TL_EXIT_USAGE;
            }
            dst = &sets[o.n_sets++];
        } else {
            fprintf(stderr, "tailor eval: unknown argument '%s'\n", a);
            usage(stderr);
            return TL_EXIT_USAGE;
        }
        if (i + 1 == argc) {
            fprintf(stderr, "tailor eval: %s needs a value\n", a);
            return TL_EXIT_USAGE;
        }
        *dst = argv[++i];
    }
    o.sets = sets;
    if (!train || !test || !recs == !o.model) {
        fprintf(stderr, "tailor eval: needs --train, --test and one of --model or --recs\n");
        usage(stderr);
        return TL_EXIT_USAGE;
    }
    tl_diag diag;
    tl_diag_clear(&diag);
    tl_eval_report rep;
    memset(&rep, 0, sizeof(rep));
    tl_err rc = recs ? tl_eval_recs_file(train, test, recs, &rep.metrics, &diag)
                     : tl_eval_model(train, test, &o, &rep, &diag);
    if (rc != TL_OK) {
        tl_cli_error("eval", rc, &diag);
        return rc == TL_EPARSE                         ? TL_EXIT_DATA
               : rc == TL_EINVAL || rc == TL_ENOTFOUND ? TL_EXIT_USAGE
                                                       : TL_EXIT_FAIL;
    }
    if (json) {
        json_t *out = json_object();
        add_metrics(out, &rep.metrics);
        if (!recs) {
            json_object_set_new(out, "model", json_string(o.model));
            json_object_set_new(out, "params", params_json(rep.params));
            json_object_set_new(out, "fit_seconds", json_real(rep.fit_seconds));
            json_object_set_new(out, "recommend_seconds", json_real(rep.recommend_seconds));
            if (rep.autotune[0])
                json_object_set_new(out, "autotune", json_string(rep.autotune));
        }
        char *s = json_dumps(out, JSON_SORT_KEYS | JSON_REAL_PRECISION(17));
        if (s)
            puts(s);
        free(s);
        json_decref(out);
    } else {
        if (!recs)
            printf("model %s: fit %.3f s, recommend %.3f s%s%s\n", o.model, rep.fit_seconds,
                   rep.recommend_seconds, rep.autotune[0] ? "; autotune: " : "", rep.autotune);
        print_text(&rep.metrics);
    }
    tl_eval_report_release(&rep);
    return TL_EXIT_OK;
}
