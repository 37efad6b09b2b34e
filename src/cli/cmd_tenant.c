/* tailor tenant: the libraries of a consortium sharing one store. `add` makes a tenant (or
 * renames it, and replaces its branches when given), `list` shows them. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "tailor/service.h"

typedef struct args {
    const char *name;
    tl_opt_list branches;
    int no_branches, json;
} args;

static const tl_opt opts[] = {
    {"name", 'n', TL_OPT_STR, "TEXT", NULL, 0, 0, TL_OPT_AT(args, name),
     "add: the library's name (required)"},
    {"branch", 'b', TL_OPT_LIST, "CODE", NULL, 0, 0, TL_OPT_AT(args, branches),
     "add: a branch of the library's holdings (one tenant a branch; it is recommended "
     "the items held there); for a tenant that exists, they replace its branches, and without "
     "any it keeps them"},
    {"no-branches", 0, TL_OPT_FLAG, NULL, NULL, 0, 0, TL_OPT_AT(args, no_branches),
     "add: the library has no branches of its own (it is recommended the whole catalogue)"},
    {"json", 0, TL_OPT_FLAG, NULL, NULL, 0, 0, TL_OPT_AT(args, json),
     "list: one JSON array of {\"id\", \"name\", \"created\", \"branches\"}"},
    {.name = NULL},
};

static const tl_cmd_def def = {
    .name = "tenant",
    .synopsis = "tenant add ID --name TEXT [--branch CODE]...\n"
                "       tailor tenant list [--json]",
    .about = "The libraries (tenants) of a consortium that share one store: one shared\n"
             "catalogue, each library's own patrons. An ID is 1 to 32 of a-z, 0-9, '-', '_'.\n"
             "Keys made with `tailor key create --tenant ID` act for that library only: the\n"
             "patrons they name are its patrons (two libraries' patron 42 are two patrons),\n"
             "and they cannot change the catalogue, train or read consortium-wide listings.\n"
             "`tailor --tenant ID COMMAND` acts for the library from the command line.\n"
             "See docs/SCALE.md, \"Consortium tenancy\".",
    .opts = opts,
    .min_args = 1,
    .max_args = 2,
};

typedef struct list_ctx {
    tl_out *o;
    json_t *arr;
    int n;
    const char *only; /* NULL: every tenant */
} list_ctx;

static tl_err print_tenant(void *ctx, const tl_tenant *t)
{
    list_ctx *c = ctx;
    if (c->only && strcmp(c->only, t->id) != 0)
        return TL_OK;
    c->n++;
    if (c->arr) {
        json_t *b = json_array();
        for (int i = 0; b && i < t->n_branches; i++)
            json_array_append_new(b, json_string(t->branches[i]));
        json_t *j = json_pack("{s:s, s:s, s:I, s:o*}", "id", t->id, "name", t->name, "created",
                              (json_int_t)t->created, "branches", b);
        return j && json_array_append_new(c->arr, j) == 0 ? TL_OK : TL_ENOMEM;
    }
    if (c->n == 1)
        fprintf(c->o->f, "%-20s %-30s %s\n", "ID", "NAME", "BRANCHES");
    fprintf(c->o->f, "%-20s %-30s ", t->id, t->name);
    for (int i = 0; i < t->n_branches; i++)
        fprintf(c->o->f, "%s%s", i ? "," : "", t->branches[i]);
    fprintf(c->o->f, "%s\n", t->n_branches ? "" : "-");
    return tl_out_failed(c->o) ? TL_EIO : TL_OK;
}

static int do_list(tl_service *svc, const args *a)
{
    tl_diag diag;
    tl_diag_clear(&diag);
    tl_out o;
    int code = tl_out_open(&o, NULL);
    if (code != TL_EXIT_OK)
        return code;
    list_ctx c = {.o = &o, .arr = a->json ? json_array() : NULL};
    tl_err rc = tl_service_tenants(svc, print_tenant, &c, &diag);
    if (rc != TL_OK) {
        json_decref(c.arr);
        return tl_out_close(&o, tl_cli_fail("tenant list", rc, &diag));
    }
    if (c.arr)
        return tl_out_close(&o, tl_json_emit(&o, c.arr, 2, 15));
    if (!c.n)
        fprintf(o.f, "no tenants (tailor tenant add ID --name TEXT)\n");
    return tl_out_close(&o, TL_EXIT_OK);
}

static int run(const tl_cli *cli, int argc, char **argv)
{
    args a;
    memset(&a, 0, sizeof(a));
    int first, code = tl_opt_parse(&def, &a, argc, argv, &first);
    if (code != TL_OPT_RUN)
        return code;
    const char *sub = argv[first];
    int nargs = argc - first - 1;
    int add = strcmp(sub, "add") == 0, list = strcmp(sub, "list") == 0;
    if (!add && !list)
        return tl_opt_usage_error(&def, "unknown subcommand '%s': add or list", sub);
    if (add && nargs != 1)
        return tl_opt_usage_error(&def, "add needs the tenant's ID");
    if (list && nargs != 0)
        return tl_opt_usage_error(&def, "list takes no argument '%s'", argv[first + 1]);
    if (add && (!a.name || !*a.name))
        return tl_opt_usage_error(&def, "add needs --name TEXT");
    if (list && (a.name || a.branches.n || a.no_branches))
        return tl_opt_usage_error(&def, "--name, --branch and --no-branches are for add");
    if (a.no_branches && a.branches.n)
        return tl_opt_usage_error(&def, "--no-branches and --branch contradict each other");
    if (add && a.json)
        return tl_opt_usage_error(&def, "--json is for list");
    tl_diag diag;
    tl_diag_clear(&diag);
    tl_service_opts so = {.db = cli->db_path, .writable = add};
    tl_service *svc = NULL;
    tl_err rc = tl_cli_service_open(cli, &so, &svc, &diag);
    if (rc != TL_OK)
        return tl_cli_fail("tenant", rc, &diag);
    if (list) {
        code = do_list(svc, &a);
    } else {
        char who[300];
        tl_cli_actor(who, sizeof(who));
        static const char *const none[1];
        tl_tenant t = {argv[first + 1], a.name, 0,
                       a.branches.n    ? (const char *const *)a.branches.v
                       : a.no_branches ? none
                                       : NULL,
                       a.branches.n};
        rc = tl_service_tenant_put(svc, &t, who, &diag);
        code = rc == TL_OK ? TL_EXIT_OK : tl_cli_fail("tenant add", rc, &diag);
        if (rc == TL_OK) { /* as stored: the branches given, or those it kept */
            tl_out o = {.f = stdout};
            list_ctx c = {.o = &o, .only = t.id};
            rc = tl_service_tenants(svc, print_tenant, &c, &diag);
            code = rc == TL_OK ? TL_EXIT_OK : tl_cli_fail("tenant add", rc, &diag);
        }
    }
    tl_service_close(svc);
    return code;
}

const tl_cmd tl_cmd_tenant = {&def, "the libraries of a consortium: add, list", run};
