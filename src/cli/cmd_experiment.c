/* tailor experiment create|assign|report|stop|list: A/B tests of models, parameters, re-rankers
 * and row policies, through the service (src/service/experiments.c). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/experiment_html.h"
#include "tailor/service.h"
#include "util/lines.h"

typedef struct args {
    tl_opt_list arm;
    const char *split, *layer, *users, *html;
    int metric, json;
    double traffic;
} args;

static const tl_opt opts[] = {
    {"arm", 0, TL_OPT_LIST, "NAME[:KEY=VALUE,...]", NULL, 0, 0, TL_OPT_AT(args, arm),
     "create: an arm and its settings (model=, a request parameter, rows=bandit,\n"
     "...); the first arm is the control; repeat for each arm (2 to 8)"},
    {"split", 0, TL_OPT_STR, "P,P,...", NULL, 0, 0, TL_OPT_AT(args, split),
     "create: the arms' shares in percent, summing to 100 (default: equal)"},
    {"metric", 0, TL_OPT_CHOICE, "loans|clicks", "loans", 0, 0, TL_OPT_AT(args, metric),
     "create: the primary metric, per active patron"},
    {"layer", 0, TL_OPT_STR, "NAME", NULL, 0, 0, TL_OPT_AT(args, layer),
     "create: experiments of one layer never share a patron (default: a layer of\n"
     "its own, independent of every other experiment)"},
    {"traffic", 0, TL_OPT_NUM, "PCT", "100", 0.01, 100, TL_OPT_AT(args, traffic),
     "create: the percentage of the layer's patrons it takes"},
    {"users", 0, TL_OPT_STR, "FILE", NULL, 0, 0, TL_OPT_AT(args, users),
     "assign: patron ids, one a line; prints user<TAB>arm lines"},
    {"json", 0, TL_OPT_FLAG, NULL, NULL, 0, 0, TL_OPT_AT(args, json), "report, list: print JSON"},
    {"html", 0, TL_OPT_STR, "FILE", NULL, 0, 0, TL_OPT_AT(args, html),
     "report: also write the report as a self-contained HTML page with charts"},
    {NULL},
};

static const tl_cmd_def def = {
    .name = "experiment",
    .synopsis = "experiment create NAME --arm NAME[:KEY=VALUE,...] --arm ... [--split 50,50] "
                "[--metric loans|clicks] [--layer NAME]\n"
                "tailor experiment assign NAME USER | --users FILE\n"
                "tailor experiment report NAME [--json] [--html FILE]\n"
                "tailor experiment stop NAME\n"
                "tailor experiment list [--json]",
    .about =
        "A/B tests. Patrons are split between the arms by a hash of their id and the experiment's\n"
        "salt: the same patron is always in the same arm, and nothing is stored about them. The\n"
        "report compares each arm's loans (or clicks) per active patron with the first arm's,\n"
        "with a p-value that stays valid however often it is looked at (mSPRT), and checks that\n"
        "the arms got the patrons the split promised. docs/EXPERIMENTS.md is the guide.",
    .opts = opts,
    .min_args = 1,
    .max_args = 3,
};

static int parse_split(const char *text, int n, double *out)
{
    char buf[256];
    if (strlen(text) >= sizeof buf)
        return -1;
    strcpy(buf, text);
    int k = 0;
    char *save = NULL;
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        const char *why;
        if (k >= n || tl_opt_parse_num(t, 0, 100, &out[k], &why) != 0)
            return -1;
        k++;
    }
    return k == n ? 0 : -1;
}

static int create(tl_service *svc, const args *a, const char *name)
{
    if (a->arm.n < 2 || a->arm.n > TL_EXP_MAX_ARMS)
        return tl_opt_usage_error(&def, "create needs 2 to %d --arm", TL_EXP_MAX_ARMS);
    double split[TL_EXP_MAX_ARMS];
    if (a->split && parse_split(a->split, a->arm.n, split) != 0)
        return tl_opt_usage_error(&def, "--split: %d percentages separated by commas", a->arm.n);
    static const char *metrics[] = {"loans", "clicks"};
    tl_experiment_rec e = {name,
                           a->layer,
                           metrics[a->metric],
                           a->arm.v,
                           a->arm.n,
                           a->split ? split : NULL,
                           a->traffic / 100,
                           NULL};
    tl_diag d;
    tl_diag_clear(&d);
    tl_err rc = tl_service_experiment_create(svc, &e, &d);
    if (rc != TL_OK)
        return tl_cli_fail("experiment create", rc, &d);
    printf("created experiment %s with %d arms\n", name, a->arm.n);
    return TL_EXIT_OK;
}

static int assign_file(tl_service *svc, const char *name, const char *path)
{
    tl_lines lr;
    tl_diag d;
    tl_diag_clear(&d);
    if (tl_lines_open(&lr, path) != TL_OK) {
        tl_diag_set(&d, path, 0, NULL, "cannot open");
        return tl_cli_fail("experiment assign", TL_EIO, &d);
    }
    enum { BATCH = 4096 };
    char **users = calloc(BATCH, sizeof *users);
    char(*arms)[TL_EXP_NAME_MAX + 1] = calloc(BATCH, sizeof *arms);
    int n = 0, got, code = TL_EXIT_OK;
    char *line;
    size_t len;
    if (!users || !arms)
        code = tl_cli_fail("experiment assign", TL_ENOMEM, NULL);
    while (code == TL_EXIT_OK) {
        got = tl_lines_next(&lr, &line, &len);
        if (got == 1 && len > 0 && !(users[n++] = strdup(line))) {
            code = tl_cli_fail("experiment assign", TL_ENOMEM, NULL);
            break;
        }
        if (got < 0) {
            tl_diag_set(&d, path, lr.lineno, NULL, "%s", tl_lines_error(&lr));
            code = tl_cli_fail("experiment assign", (tl_err)-got, &d);
            break;
        }
        if (n == BATCH || (got == 0 && n > 0)) {
            tl_err rc =
                tl_service_experiment_assign(svc, name, (const char *const *)users, n, arms, &d);
            if (rc != TL_OK) {
                code = tl_cli_fail("experiment assign", rc, &d);
                break;
            }
            for (int i = 0; i < n; i++) {
                printf("%s\t%s\n", users[i], arms[i]);
                free(users[i]);
                users[i] = NULL;
            }
            n = 0;
        }
        if (got == 0)
            break;
    }
    for (int i = 0; i < n; i++)
        free(users[i]);
    free(users);
    free(arms);
    tl_lines_close(&lr);
    return code;
}

static void print_report(const json_t *r)
{
    const char *metric =
        strcmp(json_string_value(json_object_get(r, "metric")), "clicks") == 0 ? "clicks" : "loans";
    printf("experiment %s: %s, %.1f days, metric %s per active patron\n",
           json_string_value(json_object_get(r, "name")),
           json_string_value(json_object_get(r, "status")),
           json_number_value(json_object_get(r, "days")), metric);
    printf("%-16s %6s %8s %8s %8s %14s %15s\n", "arm", "share", "patrons", "loans", "clicks",
           "loans/patron", "clicks/patron");
    const json_t *arms = json_object_get(r, "arms");
    for (size_t k = 0; k < json_array_size(arms); k++) {
        const json_t *a = json_array_get(arms, k);
        printf("%-16s %5.0f%% %8lld %8lld %8lld %14.4f %15.4f\n",
               json_string_value(json_object_get(a, "name")),
               100 * json_number_value(json_object_get(a, "share")),
               (long long)json_integer_value(json_object_get(a, "patrons")),
               (long long)json_integer_value(json_object_get(a, "loans")),
               (long long)json_integer_value(json_object_get(a, "clicks")),
               json_number_value(json_object_get(a, "loans_per_patron")),
               json_number_value(json_object_get(a, "clicks_per_patron")));
    }
    const json_t *cmp = json_object_get(r, "comparisons");
    for (size_t k = 0; k < json_array_size(cmp); k++) {
        const json_t *c = json_array_get(cmp, k), *ci = json_object_get(c, "ci95");
        printf("%s vs %s: difference %+.4f", json_string_value(json_object_get(c, "arm")),
               json_string_value(json_object_get(c, "control")),
               json_number_value(json_object_get(c, "difference")));
        if (json_is_number(json_object_get(c, "relative")))
            printf(" (%+.1f%%)", 100 * json_number_value(json_object_get(c, "relative")));
        if (json_array_size(ci) == 2)
            printf(", 95%% CI [%+.4f, %+.4f], p %.3g, always-valid p %.3g: %s\n",
                   json_number_value(json_array_get(ci, 0)),
                   json_number_value(json_array_get(ci, 1)),
                   json_number_value(json_object_get(c, "p_value")),
                   json_number_value(json_object_get(c, "always_valid_p_value")),
                   json_is_true(json_object_get(c, "significant")) ? "significant"
                                                                   : "not significant (yet)");
        else
            printf(": not enough data\n");
    }
    const json_t *srm = json_object_get(r, "srm");
    printf("sample ratio check: p %.3g%s\n", json_number_value(json_object_get(srm, "p_value")),
           json_is_true(json_object_get(srm, "mismatch"))
               ? ": MISMATCH, do not trust the comparison"
               : ", fine");
    const json_t *g = json_object_get(r, "guardrails"), *cov = json_object_get(g, "coverage"),
                 *tail = json_object_get(g, "long_tail_share"),
                 *imps = json_object_get(g, "impressions");
    for (size_t k = 0; json_is_object(cov) && k < json_array_size(arms); k++) {
        const char *name = json_string_value(json_object_get(json_array_get(arms, k), "name"));
        const json_t *c = json_object_get(cov, name), *t = json_object_get(tail, name);
        printf("guardrails %s: %lld impressions, catalogue coverage %s%.1f%%, long-tail share ",
               name, (long long)json_integer_value(json_object_get(imps, name)),
               json_is_number(c) ? "" : "n/a ", 100 * json_number_value(c));
        if (json_is_number(t))
            printf("%.1f%%\n", 100 * json_number_value(t));
        else
            printf("n/a\n");
    }
    const json_t *notes = json_object_get(r, "notes");
    for (size_t k = 0; k < json_array_size(notes); k++)
        printf("note: %s\n", json_string_value(json_array_get(notes, k)));
}

static int report(tl_service *svc, const args *a, const char *name)
{
    char *json = NULL;
    tl_diag d;
    tl_diag_clear(&d);
    tl_err rc = tl_service_experiment_report(svc, name, &json, &d);
    if (rc != TL_OK)
        return tl_cli_fail("experiment report", rc, &d);
    json_t *r = json_loads(json, 0, NULL);
    int code = TL_EXIT_OK;
    if (a->html) {
        tl_out o;
        if ((code = tl_out_open(&o, a->html)) == TL_EXIT_OK) {
            tl_experiment_html(o.f, r);
            code = tl_out_close(&o, TL_EXIT_OK);
        }
    }
    if (code == TL_EXIT_OK) {
        if (a->json) {
            rc = tl_cli_print_json(json, 1);
            json = NULL;
        } else {
            print_report(r);
        }
    }
    free(json);
    json_decref(r);
    return code != TL_EXIT_OK ? code
           : rc == TL_OK      ? TL_EXIT_OK
                              : tl_cli_fail("experiment report", rc, NULL);
}

static int list(tl_service *svc, const args *a)
{
    char *json = NULL;
    tl_diag d;
    tl_diag_clear(&d);
    tl_err rc = tl_service_experiments(svc, &json, &d);
    if (rc != TL_OK)
        return tl_cli_fail("experiment list", rc, &d);
    if (a->json)
        return tl_cli_print_json(json, 1) == TL_OK ? TL_EXIT_OK : TL_EXIT_FAIL;
    json_t *j = json_loads(json, 0, NULL);
    free(json);
    const json_t *xs = json_object_get(j, "experiments");
    for (size_t i = 0; i < json_array_size(xs); i++) {
        const json_t *x = json_array_get(xs, i), *arms = json_object_get(x, "arms");
        printf("%s\t%s\t%s\t", json_string_value(json_object_get(x, "name")),
               json_string_value(json_object_get(x, "status")),
               json_string_value(json_object_get(x, "metric")));
        for (size_t k = 0; k < json_array_size(arms); k++)
            printf("%s%s", k ? "," : "",
                   json_string_value(json_object_get(json_array_get(arms, k), "name")));
        printf("\n");
    }
    json_decref(j);
    return TL_EXIT_OK;
}

static int run(const tl_cli *cli, int argc, char **argv)
{
    args a;
    memset(&a, 0, sizeof a);
    int first, code = tl_opt_parse(&def, &a, argc, argv, &first);
    if (code != TL_OPT_RUN)
        return code;
    int nargs = argc - first;
    if (nargs < 1)
        return tl_opt_usage_error(&def, "needs a subcommand: create, assign, report, stop or list");
    const char *sub = argv[first];
    static const struct {
        const char *name;
        int min, max;
    } subs[] = {
        {"create", 2, 2}, {"assign", 2, 3}, {"report", 2, 2}, {"stop", 2, 2}, {"list", 1, 1}};
    int which = -1;
    for (int k = 0; k < 5; k++)
        if (strcmp(sub, subs[k].name) == 0)
            which = k;
    if (which < 0)
        return tl_opt_usage_error(
            &def, "unknown subcommand '%s': create, assign, report, stop or list", sub);
    if (nargs < subs[which].min || nargs > subs[which].max)
        return tl_opt_usage_error(&def, "%s: wrong number of arguments", sub);
    const char *name = nargs > 1 ? argv[first + 1] : NULL;
    if (which == 1 && (nargs == 3) == (a.users != NULL))
        return tl_opt_usage_error(&def, "assign takes one USER or --users FILE");
    char what[32];
    snprintf(what, sizeof what, "experiment %s", sub);
    tl_service *svc = tl_cli_lib_service(cli, what, &code);
    if (!svc)
        return code;
    tl_diag d;
    tl_diag_clear(&d);
    switch (which) {
    case 0:
        code = create(svc, &a, name);
        break;
    case 1:
        if (a.users) {
            code = assign_file(svc, name, a.users);
        } else {
            const char *user = argv[first + 2];
            char arm[1][TL_EXP_NAME_MAX + 1];
            tl_err rc = tl_service_experiment_assign(svc, name, &user, 1, arm, &d);
            if (rc != TL_OK)
                code = tl_cli_fail("experiment assign", rc, &d);
            else
                printf("%s\n", arm[0][0] ? arm[0] : "(not in the experiment)");
        }
        break;
    case 2:
        code = report(svc, &a, name);
        break;
    case 3: {
        int changed = 0;
        tl_err rc = tl_service_experiment_stop(svc, name, &changed, &d);
        if (rc != TL_OK)
            code = tl_cli_fail("experiment stop", rc, &d);
        else
            printf("%s %s\n", name, changed ? "stopped" : "was stopped already");
        break;
    }
    default:
        code = list(svc, &a);
    }
    tl_service_close(svc);
    return code;
}

const tl_cmd tl_cmd_experiment = {&def, "A/B tests: create, assign patrons, report, stop", run};
