/* tailor migrate: copies a SQLite store into an empty PostgreSQL store and proves the copy
 * exact (each table's rows and checksum compared); the work is tl_store_migrate's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "tailor/store.h"

typedef struct args {
    const char *from, *to;
    int json;
} args;

static const tl_opt opts[] = {
    {"from", 0, TL_OPT_STR, "sqlite:FILE", NULL, 0, 0, TL_OPT_AT(args, from),
     "the SQLite store to copy (sqlite:FILE, or FILE)"},
    {"to", 0, TL_OPT_STR, "URI", NULL, 0, 0, TL_OPT_AT(args, to),
     "the PostgreSQL store to fill (postgres://...; its database must exist\n"
     "and hold no Tailor data)"},
    {"json", 0, TL_OPT_FLAG, NULL, NULL, 0, 0, TL_OPT_AT(args, json),
     "one JSON object: from, to, tables [{table, rows_from, rows_to,\n"
     "checksum_from, checksum_to, same}], same"},
    {NULL},
};

static const tl_cmd_def def = {
    .name = "migrate",
    .synopsis = "migrate --from sqlite:FILE --to postgres://... [--json]",
    .about = "Copies every table of a SQLite store into an empty PostgreSQL store (ids kept) in\n"
             "one transaction, then reads every table of both back in key order and compares\n"
             "its row count and a checksum of its rows. The copy is committed only when every\n"
             "table agrees; otherwise the target is left as it was and the exit status is 1.",
    .opts = opts,
};

typedef struct report {
    json_t *tables; /* --json */
    FILE *f;
} report;

static tl_err on_table(void *ctx, const tl_store_table_check *c)
{
    report *r = ctx;
    if (r->tables) {
        json_t *o =
            json_pack("{s:s, s:I, s:I, s:s, s:s, s:b}", "table", c->table, "rows_from",
                      (json_int_t)c->rows_from, "rows_to", (json_int_t)c->rows_to, "checksum_from",
                      c->sum_from, "checksum_to", c->sum_to, "same", c->same);
        return o && json_array_append_new(r->tables, o) == 0 ? TL_OK : TL_ENOMEM;
    }
    fprintf(r->f, "  %-18s %10lld -> %-10lld %s %s\n", c->table, (long long)c->rows_from,
            (long long)c->rows_to, c->sum_to, c->same ? "same" : "DIFFERENT");
    return TL_OK;
}

static int run(const tl_cli *cli, int argc, char **argv)
{
    args a;
    memset(&a, 0, sizeof(a));
    int first, code = tl_opt_parse(&def, &a, argc, argv, &first);
    if (code != TL_OPT_RUN)
        return code;
    code = TL_EXIT_OK;
    if (!a.from || !a.to) {
        fprintf(stderr,
                "tailor: migrate: --from and --to are both needed (tailor migrate --help)\n");
        return TL_EXIT_USAGE;
    }
    const char *from = strncmp(a.from, "sqlite:", 7) == 0 ? a.from + 7 : a.from;
    if (!*from || strstr(from, "://")) {
        fprintf(stderr, "tailor: migrate: --from must name a SQLite store (sqlite:FILE)\n");
        return TL_EXIT_USAGE;
    }
    if (!tl_store_is_postgres(a.to)) {
        fprintf(stderr, "tailor: migrate: --to must be a PostgreSQL URI (postgres://...)\n");
        return TL_EXIT_USAGE;
    }
    tl_store *src = NULL, *dst = NULL;
    tl_diag d;
    tl_diag_clear(&d);
    tl_err rc = tl_cli_store_open(cli, from, TL_STORE_READONLY, &src, &d);
    if (rc != TL_OK)
        return tl_cli_fail("cannot open the source store", rc, &d);
    if ((rc = tl_cli_store_open(cli, a.to, TL_STORE_CREATE, &dst, &d)) != TL_OK) {
        tl_store_free(src);
        return tl_cli_fail("cannot open the target store", rc, &d);
    }
    tl_out out;
    tl_out_open(&out, NULL);
    report r = {.f = out.f, .tables = a.json ? json_array() : NULL};
    if (!a.json)
        fprintf(out.f, "copying %s into %s\n", from, a.to);
    rc = tl_store_migrate(src, dst, on_table, &r, &d);
    if (a.json) {
        json_t *o = json_pack("{s:s, s:s, s:O, s:b}", "from", from, "to", a.to, "tables", r.tables,
                              "same", rc == TL_OK);
        code = tl_json_emit(&out, o, 2, 15);
    } else if (rc == TL_OK) {
        fprintf(out.f, "every table copied exactly (rows and checksums agree)\n");
    }
    json_decref(r.tables);
    if (rc != TL_OK)
        code = tl_cli_fail("migrate", rc, &d);
    tl_store_free(src);
    tl_store_free(dst);
    return tl_out_close(&out, code);
}

const tl_cmd tl_cmd_migrate = {&def, "copy a SQLite store into PostgreSQL, checked table by table",
                               run};
