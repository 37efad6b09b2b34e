/* tailor stats: what the store holds: counts, density, events per type, the most used items,
 * and with --matrix what the training matrices built from it cost in memory. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/data.h"
#include "tailor/store.h"
#include "util/clock.h"

#define DEFAULT_TOP 10

static void usage(FILE *f)
{
    fprintf(
        f,
        "usage: tailor [--db PATH] stats [--json] [--top N] [--matrix]\n\n"
        "Prints the numbers of users, items (including items known only from events),\n"
        "events and searches, the density of the user x item matrix (distinct pairs /\n"
        "(users x items)), events per type and the N items with the most events (default 10).\n\n"
        "  --json      one JSON object: users, items, events, searches, pairs, density,\n"
        "              events_by_type, top_items (and matrix with --matrix)\n"
        "  --top N     how many top items (0 = none)\n"
        "  --matrix    also build the training matrices and report their size\n"
        "              (bytes per interaction) and the time it took\n");
}

typedef struct collect {
    json_t *arr; /* JSON mode */
    int rank;
    int top; /* top items mode (text) */
    tl_err err;
} collect;

static tl_err on_type(void *ctx, const char *key, const char *label, int64_t n)
{
    collect *c = ctx;
    (void)label;
    if (c->arr)
        return json_object_set_new(c->arr, key, json_integer(n)) == 0 ? TL_OK : TL_ENOMEM;
    printf("  %s %lld\n", key, (long long)n);
    return TL_OK;
}

static tl_err on_top(void *ctx, const char *key, const char *label, int64_t n)
{
    collect *c = ctx;
    c->rank++;
    if (c->arr) {
        json_t *o =
            json_pack("{s:s, s:s?, s:I}", "item", key, "title", label, "events", (json_int_t)n);
        return o && json_array_append_new(c->arr, o) == 0 ? TL_OK : TL_ENOMEM;
    }
    printf("  %2d. %s  %lld events%s%s\n", c->rank, key, (long long)n, label ? "  " : "",
           label ? label : "");
    return TL_OK;
}

int cmd_stats(const tl_cli *cli, int argc, char **argv)
{
    if (tl_cli_wants_help(argc, argv)) {
        usage(stdout);
        return TL_EXIT_OK;
    }
    int as_json = 0, matrix = 0, top = DEFAULT_TOP;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            as_json = 1;
        } else if (strcmp(argv[i], "--matrix") == 0) {
            matrix = 1;
        } else if ((strcmp(argv[i], "--top") == 0 && i + 1 < argc) ||
                   strncmp(argv[i], "--top=", 6) == 0) {
            const char *v = argv[i][5] == '=' ? argv[i] + 6 : argv[++i];
            char *end;
            long n = strtol(v, &end, 10);
            if (*end || n < 0 || n > 100000) {
                fprintf(stderr, "tailor stats: --top must be 0..100000\n");
                return TL_EXIT_USAGE;
            }
            top = (int)n;
        } else {
            fprintf(stderr, "tailor stats: unknown argument '%s' (see tailor stats --help)\n",
                    argv[i]);
            return TL_EXIT_USAGE;
        }
    }
    tl_store *st = NULL;
    tl_diag d;
    tl_diag_clear(&d);
    tl_err rc = tl_store_open(cli->db_path, TL_STORE_READONLY, &st, &d);
    if (rc != TL_OK) {
        tl_cli_error("cannot open the store", rc, &d);
        return TL_EXIT_FAIL;
    }
    int code = TL_EXIT_FAIL;
    json_t *root = NULL;
    tl_data data;
    tl_data_init(&data);
    tl_store_counts n;
    if ((rc = tl_store_count(st, &n)) != TL_OK)
        goto fail;
    double density = n.users && n.items ? (double)n.pairs / ((double)n.users * (double)n.items) : 0;
    collect types = {0}, tops = {0};
    if (as_json) {
        root = json_pack("{s:s, s:s, s:i, s:I, s:I, s:I, s:I, s:I, s:f}", "db", cli->db_path,
                         "backend", tl_store_backend(st), "schema_version",
                         tl_store_schema_version(st), "users", (json_int_t)n.users, "items",
                         (json_int_t)n.items, "events", (json_int_t)n.events, "searches",
                         (json_int_t)n.searches, "pairs", (json_int_t)n.pairs, "density", density);
        types.arr = json_object();
        tops.arr = json_array();
        if (!root || !types.arr || !tops.arr) {
            json_decref(types.arr);
            json_decref(tops.arr);
            rc = TL_ENOMEM;
            goto fail;
        }
        json_object_set_new(root, "events_by_type", types.arr);
        json_object_set_new(root, "top_items", tops.arr);
    } else {
        printf("store %s (%s, schema %d)\n", cli->db_path, tl_store_backend(st),
               tl_store_schema_version(st));
        printf("users %lld\nitems %lld\nevents %lld\nsearches %lld\n", (long long)n.users,
               (long long)n.items, (long long)n.events, (long long)n.searches);
        printf("pairs %lld\ndensity %.6f\n", (long long)n.pairs, density);
        printf("events by type:\n");
    }
    if ((rc = tl_store_events_by_type(st, on_type, &types)) != TL_OK)
        goto fail;
    if (top > 0) {
        if (!as_json)
            printf("top %d items by events:\n", top);
        if ((rc = tl_store_top_items(st, top, on_top, &tops)) != TL_OK)
            goto fail;
    }
    if (matrix) {
        double t0 = tl_now();
        if ((rc = tl_store_load_data(st, NULL, &data, &d)) != TL_OK)
            goto fail;
        double secs = tl_now() - t0;
        size_t bytes = tl_csr_bytes(&data.ui) + tl_csr_bytes(&data.iu);
        double per = data.ui.nnz ? (double)bytes / (double)data.ui.nnz : 0;
        if (as_json) {
            json_object_set_new(root, "matrix",
                                json_pack("{s:I, s:I, s:I, s:I, s:f, s:f}", "rows",
                                          (json_int_t)data.ui.nrows, "cols",
                                          (json_int_t)data.ui.ncols, "nnz", (json_int_t)data.ui.nnz,
                                          "bytes", (json_int_t)bytes, "bytes_per_interaction", per,
                                          "load_seconds", secs));
        } else {
            printf("matrix %d x %d, %lld non-zeros, %zu bytes (CSR + CSC), %.1f bytes per "
                   "interaction, "
                   "loaded in %.2f s\n",
                   data.ui.nrows, data.ui.ncols, (long long)data.ui.nnz, bytes, per, secs);
        }
    }
    if (as_json) {
        if (json_dumpf(root, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) < 0)
            goto fail;
        putchar('\n');
    }
    code = TL_EXIT_OK;
    goto out;
fail:
    tl_cli_error("stats", rc, &d);
out:
    json_decref(root);
    tl_data_release(&data);
    tl_store_free(st);
    return code;
}
