/* Learning paths from the command line: `tailor path import FILE`, `show [ID]`, `next ID
 * USER`, `feedback ID ITEM USER useful|not`, `propose TOPIC` and `delete ID`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "tailor/service.h"

typedef struct path_args {
    const char *topic, *model;
    int n, json;
} path_args;

static const tl_opt path_opts[] = {
    {"topic", 0, TL_OPT_STR, "TOPIC", NULL, 0, 0, TL_OPT_AT(path_args, topic),
     "show without an ID: the paths of this topic only"},
    {"n", 'n', TL_OPT_INT, "N", "10", 1, TL_PATH_MAX_STEPS, TL_OPT_AT(path_args, n),
     "propose: at most this many steps"},
    {"json", 0, TL_OPT_FLAG, NULL, NULL, 0, 0, TL_OPT_AT(path_args, json),
     "show, next: the JSON of the HTTP API"},
    {"model", 'm', TL_OPT_STR, "FILE", NULL, 0, 0, TL_OPT_AT(path_args, model),
     "next: then order alternatives by this model's scores for the patron"},
    {.name = NULL},
};

static const tl_cmd_def path_def = {
    .name = "path",
    .synopsis = "path import FILE\n"
                "       tailor path show [ID] [--topic TOPIC] [--json]\n"
                "       tailor path next ID USER [--model FILE] [--json]\n"
                "       tailor path feedback ID ITEM USER useful|not\n"
                "       tailor path propose TOPIC [-n N]\n"
                "       tailor path delete ID",
    .about = "Learning paths: ordered steps (items) for a topic or course; steps that share a\n"
             "position are alternatives. import reads a TSV file of lines PATH, TITLE, TOPIC,\n"
             "POS, ITEM, LEVEL (an optional header naming them; title and topic on a path's\n"
             "first line; LEVEL empty, a number, or introductory, beginner, intermediate,\n"
             "advanced), all or nothing. next tells where a patron stands (the furthest step\n"
             "in their history), the next step and its alternatives, ordered by other\n"
             "patrons' feedback, then by the model's score. propose orders a topic's items by\n"
             "level, the order patrons borrowed them in and series order, and stores the path\n"
             "as proposed.",
    .opts = path_opts,
    .min_args = 1,
    .max_args = 5,
};

static void print_cand(const char *lead, json_t *c)
{
    const char *title = json_string_value(json_object_get(c, "title"));
    printf("%s%s%s%s  (useful %lld, not useful %lld)\n", lead,
           json_string_value(json_object_get(c, "item")), title ? "  " : "", title ? title : "",
           (long long)json_integer_value(json_object_get(c, "useful")),
           (long long)json_integer_value(json_object_get(c, "not_useful")));
}

static tl_err print_next(char *json)
{
    json_t *j = json_loads(json, 0, NULL), *n, *e;
    free(json);
    if (!j)
        return TL_ENOMEM;
    size_t k;
    printf("step %lld of %lld done\n",
           (long long)json_integer_value(json_object_get(j, "position")),
           (long long)json_integer_value(json_object_get(j, "positions")));
    n = json_object_get(j, "next");
    if (json_is_object(n)) {
        printf("next: step %lld\n", (long long)json_integer_value(json_object_get(n, "pos")));
        print_cand("  ", json_object_get(n, "item"));
        json_array_foreach(json_object_get(n, "alternatives"), k, e) print_cand("  or ", e);
    } else {
        printf("the path is complete\n");
    }
    json_decref(j);
    return fflush(stdout) == 0 ? TL_OK : TL_EIO;
}

static tl_err print_path(char *json, int one)
{
    json_t *j = json_loads(json, 0, NULL), *p, *s;
    free(json);
    if (!j)
        return TL_ENOMEM;
    size_t k, m;
    json_t *paths = one ? json_pack("[O]", j) : json_incref(json_object_get(j, "paths"));
    json_array_foreach(paths, k, p)
    {
        const char *topic = json_string_value(json_object_get(p, "topic"));
        printf("%s\t%s\t%s\t%s\t%lld steps\n", json_string_value(json_object_get(p, "id")),
               json_string_value(json_object_get(p, "title")), topic ? topic : "-",
               json_string_value(json_object_get(p, "origin")),
               (long long)json_integer_value(json_object_get(p, "n_steps")));
        json_array_foreach(json_object_get(p, "steps"), m, s)
        {
            const char *title = json_string_value(json_object_get(s, "title"));
            json_t *level = json_object_get(s, "level");
            printf("  %lld. %s%s%s", (long long)json_integer_value(json_object_get(s, "pos")),
                   json_string_value(json_object_get(s, "item")), title ? "  " : "",
                   title ? title : "");
            if (json_is_integer(level))
                printf("  (level %lld)", (long long)json_integer_value(level));
            printf("\n");
        }
    }
    json_decref(paths);
    json_decref(j);
    return fflush(stdout) == 0 ? TL_OK : TL_EIO;
}

static int path_run(const tl_cli *cli, int argc, char **argv)
{
    path_args a = {0};
    int first, code = tl_opt_parse(&path_def, &a, argc, argv, &first);
    if (code != TL_OPT_RUN)
        return code;
    static const struct {
        const char *name;
        int lo, hi;
    } subs[] = {{"import", 1, 1},   {"show", 0, 1},    {"next", 2, 2},
                {"feedback", 4, 4}, {"propose", 1, 1}, {"delete", 1, 1}};
    const char *sub = argv[first];
    int nargs = argc - first - 1, which = -1;
    for (int k = 0; k < 6; k++)
        if (strcmp(sub, subs[k].name) == 0)
            which = k;
    if (which < 0)
        return tl_opt_usage_error(&path_def,
                                  "unknown subcommand '%s': import, show, next, feedback, propose "
                                  "or delete",
                                  sub);
    if (nargs < subs[which].lo || nargs > subs[which].hi)
        return tl_opt_usage_error(&path_def, "wrong number of arguments for %s", sub);
    char **v = argv + first + 1;
    int useful = 0;
    if (which == 3) {
        useful = strcmp(v[3], "useful") == 0;
        if (!useful && strcmp(v[3], "not") != 0)
            return tl_opt_usage_error(&path_def, "feedback is useful or not, not '%s'", v[3]);
    }
    char what[32];
    snprintf(what, sizeof(what), "path %s", sub);
    tl_diag d;
    tl_diag_clear(&d);
    tl_service_opts so = {.db = cli->db_path, .writable = 1, .model = a.model};
    tl_service *svc = NULL;
    tl_err rc = tl_cli_service_open(cli, &so, &svc, &d);
    if (rc != TL_OK)
        return tl_cli_fail(what, rc, &d);
    char *json = NULL, id[TL_LIST_ID_MAX + 1];
    int np = 0, ns = 0;
    switch (which) {
    case 0:
        if ((rc = tl_service_path_import(svc, v[0], &np, &ns, &d)) == TL_OK)
            printf("imported %d path%s, %d steps\n", np, np == 1 ? "" : "s", ns);
        break;
    case 1:
        rc = nargs ? tl_service_path_get(svc, v[0], &json, &d)
                   : tl_service_paths(svc, a.topic, &json, &d);
        if (rc == TL_OK)
            rc = a.json ? tl_cli_print_json(json, 0) : print_path(json, nargs);
        break;
    case 2:
        if ((rc = tl_service_path_next(svc, v[0], v[1], &json, &d)) == TL_OK)
            rc = a.json ? tl_cli_print_json(json, 0) : print_next(json);
        break;
    case 3:
        rc = tl_service_path_feedback(svc, v[0], v[1], v[2], useful, &d);
        break;
    case 4:
        if ((rc = tl_service_path_propose(svc, v[0], a.n, id, &d)) == TL_OK &&
            (rc = tl_service_path_get(svc, id, &json, &d)) == TL_OK)
            rc = print_path(json, 1);
        break;
    default:
        rc = tl_service_path_delete(svc, v[0], &d);
        break;
    }
    code = rc == TL_OK ? TL_EXIT_OK : tl_cli_fail(what, rc, &d);
    tl_service_close(svc);
    return code;
}

const tl_cmd tl_cmd_path = {&path_def, "learning paths: import, where a patron stands, proposals",
                            path_run};
