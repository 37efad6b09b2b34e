/* tailor key: API keys for the server. `create` prints the new key once (the store keeps only
 * its hash), `list` shows the keys without any secret, `revoke` ends one. `pseudonym-new FILE`
 * writes a fresh pseudonym key for the store's patron ids (no store needed). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "tailor/service.h"

typedef struct args {
    const char *role, *user, *label, *tenant;
    int json;
} args;

static const tl_opt opts[] = {
    {"role", 'r', TL_OPT_STR, "ROLE", NULL, 0, 0, TL_OPT_AT(args, role),
     "create: admin (everything), app (all patrons, events; no training) or patron (one "
     "patron)"},
    {"user", 'u', TL_OPT_STR, "ID", NULL, 0, 0, TL_OPT_AT(args, user),
     "create: the patron of a patron key"},
    {"label", 'l', TL_OPT_STR, "TEXT", NULL, 0, 0, TL_OPT_AT(args, label),
     "create: a note for people (who holds the key)"},
    {"tenant", 't', TL_OPT_STR, "ID", NULL, 0, 0, TL_OPT_AT(args, tenant),
     "create: the library (tailor tenant add) the key acts for, its patrons only"},
    {"json", 0, TL_OPT_FLAG, NULL, NULL, 0, 0, TL_OPT_AT(args, json),
     "list: one JSON array of {\"id\", \"role\", \"user\", \"label\", \"created\", \"revoked\", "
     "\"tenant\"}"},
    {.name = NULL},
};

static const tl_cmd_def def = {
    .name = "key",
    .synopsis = "key create --role admin|app|patron [--user ID] [--label TEXT] [--tenant ID]\n"
                "       tailor key list [--json]\n"
                "       tailor key revoke ID\n"
                "       tailor key pseudonym-new FILE",
    .about = "API keys for `tailor serve`, kept in the store (--db). create prints the new key\n"
             "once, as the last word of its last line: the store keeps only a hash of it.\n"
             "Clients send it as `Authorization: Bearer KEY`. revoke ends a key within about\n"
             "a second in every server on the store.\n\n"
             "pseudonym-new writes a new random pseudonym key (64 hex digits, mode 0600) to\n"
             "FILE, which must not exist. Given to every command (tailor --pseudonym-key FILE,\n"
             "$" TL_PSEUDONYM_ENV ") from a store's first import on, it makes the store\n"
             "keep each patron id as a keyed hash (docs/API.md, pseudonymized patron ids).\n"
             "Keep it apart from the store, and keep it: without it the store cannot be read.",
    .opts = opts,
    .min_args = 1,
    .max_args = 2,
};

static void time_text(int64_t t, char *buf, size_t len)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (!t || !gmtime_r(&tt, &tm) || !strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm))
        snprintf(buf, len, "-");
}

typedef struct list_ctx {
    tl_out *o;
    json_t *arr; /* --json */
    int n;
} list_ctx;

static tl_err print_key(void *ctx, const tl_key_entry *k)
{
    list_ctx *c = ctx;
    c->n++;
    if (c->arr) {
        json_t *j = json_pack("{s:s, s:s, s:s?, s:s?, s:I, s:s?}", "id", k->id, "role",
                              tl_key_role_name(k->role), "user", k->user, "label", k->label,
                              "created", (json_int_t)k->created, "tenant", k->tenant);
        if (!j)
            return TL_ENOMEM;
        json_object_set_new(j, "revoked", k->revoked ? json_integer(k->revoked) : json_null());
        return json_array_append_new(c->arr, j) == 0 ? TL_OK : TL_ENOMEM;
    }
    char created[32], revoked[32];
    time_text(k->created, created, sizeof(created));
    time_text(k->revoked, revoked, sizeof(revoked));
    if (c->n == 1)
        fprintf(c->o->f, "%-10s %-7s %-12s %-20s %-21s %-21s %s\n", "ID", "ROLE", "TENANT", "USER",
                "CREATED", "REVOKED", "LABEL");
    fprintf(c->o->f, "%-10s %-7s %-12s %-20s %-21s %-21s %s\n", k->id, tl_key_role_name(k->role),
            k->tenant ? k->tenant : "-", k->user ? k->user : "-", created, revoked,
            k->label ? k->label : "");
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
    tl_err rc = tl_service_key_list(svc, print_key, &c, &diag);
    if (rc != TL_OK) {
        json_decref(c.arr);
        return tl_out_close(&o, tl_cli_fail("key list", rc, &diag));
    }
    if (c.arr)
        return tl_out_close(&o, tl_json_emit(&o, c.arr, 2, 15));
    if (!c.n)
        fprintf(o.f, "no API keys (tailor key create --role ROLE)\n");
    return tl_out_close(&o, TL_EXIT_OK);
}

static int pseudonym_new(const args *a, int nargs, char **argv)
{
    if (nargs != 1)
        return tl_opt_usage_error(&def, "pseudonym-new needs the FILE to write the key to");
    if (a->role || a->user || a->label || a->tenant || a->json)
        return tl_opt_usage_error(&def, "pseudonym-new takes no option");
    tl_diag d;
    tl_diag_clear(&d);
    tl_err rc = tl_pseudonym_key_new(argv[0], &d);
    if (rc != TL_OK)
        return tl_cli_fail("key pseudonym-new", rc, &d);
    printf("Wrote a new pseudonym key to %s (mode 0600). Give it to every command on the store\n"
           "(tailor --pseudonym-key %s ...) from its first import on, and keep a copy apart\n"
           "from the store: without the key the store cannot be read.\n",
           argv[0], argv[0]);
    return TL_EXIT_OK;
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
    int create = strcmp(sub, "create") == 0, list = strcmp(sub, "list") == 0,
        revoke = strcmp(sub, "revoke") == 0;
    if (strcmp(sub, "pseudonym-new") == 0)
        return pseudonym_new(&a, nargs, argv + first + 1);
    if (!create && !list && !revoke)
        return tl_opt_usage_error(
            &def, "unknown subcommand '%s': create, list, revoke or pseudonym-new", sub);
    if (revoke && nargs != 1)
        return tl_opt_usage_error(&def, "revoke needs the key's ID (see tailor key list)");
    if (!revoke && nargs != 0)
        return tl_opt_usage_error(&def, "%s takes no argument '%s'", sub, argv[first + 1]);
    tl_key_role role = TL_ROLE_APP;
    if (create && (!a.role || tl_key_role_parse(a.role, &role) != TL_OK))
        return tl_opt_usage_error(&def, "create needs --role admin, app or patron");
    if (create && role == TL_ROLE_PATRON && (!a.user || !*a.user))
        return tl_opt_usage_error(&def, "a patron key needs --user ID (the patron)");
    if (create && role != TL_ROLE_PATRON && a.user)
        return tl_opt_usage_error(&def, "--user is for patron keys only");
    if (!create && (a.role || a.user || a.label || a.tenant))
        return tl_opt_usage_error(&def, "--role, --user, --label and --tenant are for create");
    if (!list && a.json)
        return tl_opt_usage_error(&def, "--json is for list");
    tl_diag diag;
    tl_diag_clear(&diag);
    char who[300];
    tl_cli_actor(who, sizeof(who));
    tl_service_opts so = {.db = cli->db_path, .writable = !list};
    tl_service *svc = NULL;
    tl_err rc = tl_cli_service_open(cli, &so, &svc, &diag);
    if (rc != TL_OK)
        return tl_cli_fail("key", rc, &diag);
    if (list) {
        code = do_list(svc, &a);
    } else if (revoke) {
        rc = tl_service_key_revoke(svc, argv[first + 1], who, &diag);
        if (rc == TL_OK)
            printf("revoked %s\n", argv[first + 1]);
        code = rc == TL_OK ? TL_EXIT_OK : tl_cli_fail("key revoke", rc, &diag);
    } else {
        char key[TL_KEY_LEN + 1];
        rc = tl_service_key_create_for(svc, role, a.user, a.label, a.tenant, who, key, sizeof(key),
                                       &diag);
        if (rc == TL_OK) {
            const char *lib = a.tenant && *a.tenant ? a.tenant : tl_store_tenant();
            printf("Created a%s %s key%s%s%s%s (id %.8s). It is shown only now; keep it "
                   "secret:\n%s\n",
                   role == TL_ROLE_ADMIN || role == TL_ROLE_APP ? "n" : "", tl_key_role_name(role),
                   role == TL_ROLE_PATRON ? " for patron " : "",
                   role == TL_ROLE_PATRON ? a.user : "", lib[0] ? " of the library " : "", lib,
                   key + 3, key);
            memset(key, 0, sizeof(key));
        }
        code = rc == TL_OK ? TL_EXIT_OK : tl_cli_fail("key create", rc, &diag);
    }
    tl_service_close(svc);
    return code;
}

const tl_cmd tl_cmd_key = {&def, "API keys for the server: create, list, revoke", run};
