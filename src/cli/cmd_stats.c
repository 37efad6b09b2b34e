/* tailor stats: what the store holds: counts, density, events per type, the most used items,
 * with --matrix what the training matrices built from it cost in memory, and with --weights the
 * event weights training applies. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/data.h"
#include "tailor/store.h"
#include "util/clock.h"

typedef struct args {
    int json, matrix, weights, top;
} args;

static const tl_opt opts[] = {
    {"json", 0, TL_OPT_FLAG, NULL, NULL, 0, 0, TL_OPT_AT(args, json),
     "one JSON object: db, backend, schema_version, users, items, events,\n"
     "searches, pairs, density, events_by_type, top_items (and matrix)"},
    {"top", 0, TL_OPT_INT, "N", "10", 0, 100000, TL_OPT_AT(args, top),
     "how many top items (0 = none)"},
    {"matrix", 0, TL_OPT_FLAG, NULL, NULL, 0, 0, TL_OPT_AT(args, matrix),
     "also build the training matrices and report their size (bytes per\n"
     "interaction) and the time it took"},
    {"weights", 0, TL_OPT_FLAG, NULL, NULL, 0, 0, TL_OPT_AT(args, weights),
     "only the event weights that training applies: the defaults with the\n"
     "overrides saved by `tailor import --weights` (JSON: event_weights)"},
    {NULL},
};

static const tl_cmd_def def = {
    .name = "stats",
    .synopsis = "[--db PATH] stats [--json] [--top N] [--matrix] [--weights]",
    .about = "Prints the numbers of users, items (including items known only from events),\n"
             "events and searches, the density of the user x item matrix (distinct pairs /\n"
             "(users x items)), events per type and the N items with the most events.",
    .opts = opts,
};

typedef struct collect {
    json_t *arr; /* JSON mode */
    int rank;
    FILE *f;
} collect;

static tl_err on_type(void *ctx, const char *key, const char *label, int64_t n)
{
    collect *c = ctx;
    (void)label;
    if (c->arr)
        return json_object_set_new(c->arr, key, json_integer(n)) == 0 ? TL_OK : TL_ENOMEM;
    fprintf(c->f, "  %s %lld\n", key, (long long)n);
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
    fprintf(c->f, "  %2d. %s  %lld events%s%s\n", c->rank, key, (long long)n, label ? "  " : "",
            label ? label : "");
    return TL_OK;
}

static const char *rule_text(const tl_event_weights *w, const tl_event_weight *e, char *buf,
                             size_t len)
{
    if (e->rule == TL_WEIGHT_RATING)
        snprintf(buf, len, "x value/%g, ratings below %g ignored", (double)w->rate_scale,
                 (double)w->rate_min);
    else if (e->rule == TL_WEIGHT_SECONDS)
        snprintf(buf, len, "x seconds/%g, capped at 1", (double)w->dwell_cap);
    else
        snprintf(buf, len, "%s", e->w > 0 ? "" : "(ignored)");
    return buf;
}

/* The active event weights, as text or as the JSON member event_weights of root. */
static tl_err print_weights(tl_store *st, const args *a, json_t *root, FILE *f, tl_diag *d)
{
    tl_event_weights w;
    char *saved = NULL, spec[4096], rule[96];
    tl_err rc = tl_store_event_weights(st, &w, d);
    if (rc != TL_OK || (rc = tl_store_get_meta(st, TL_META_EVENT_WEIGHTS, &saved)) != TL_OK)
        return rc;
    tl_event_weights_format(&w, spec, sizeof(spec));
    if (a->json) {
        json_t *types = json_object(), *o;
        for (int i = 0; i < w.n; i++)
            json_object_set_new(types, w.e[i].type, tl_json_float(w.e[i].w, "a weight"));
        o = json_pack("{s:o, s:o, s:o, s:o, s:o, s:s, s:s?, s:s}", "types", types, "default",
                      tl_json_float(w.deflt, "default"), "rate_min",
                      tl_json_float(w.rate_min, "rate.min"), "rate_scale",
                      tl_json_float(w.rate_scale, "rate.scale"), "dwell_cap",
                      tl_json_float(w.dwell_cap, "dwell.cap"), "merge", w.merge_max ? "max" : "sum",
                      "saved", saved, "spec", spec);
        rc = o && json_object_set_new(root, "event_weights", o) == 0 ? TL_OK : TL_ENOMEM;
        free(saved);
        return rc;
    }
    fprintf(f, "event weights (what one event of each type counts for in training):\n");
    for (int i = 0; i < w.n; i++)
        fprintf(f, "  %-12s %-5g %s\n", w.e[i].type, (double)w.e[i].w,
                rule_text(&w, &w.e[i], rule, sizeof(rule)));
    fprintf(f, "  %-12s %-5g\n", "(other)", (double)w.deflt);
    fprintf(f, "repeated events of one patron and item: %s\n",
            w.merge_max ? "the largest weight (merge=max)" : "added up (merge=sum)");
    fprintf(f, "saved overrides (tailor import --weights): %s\n", saved ? saved : "none");
    fprintf(f, "as a spec for tailor train --weights: %s\n", spec);
    free(saved);
    return TL_OK;
}

static tl_err print_matrix(tl_store *st, const args *a, json_t *root, FILE *f, tl_diag *d)
{
    tl_data data;
    tl_data_init(&data);
    double t0 = tl_now();
    tl_err rc = tl_store_load_data(st, NULL, &data, d);
    if (rc != TL_OK)
        goto out;
    double secs = tl_now() - t0;
    size_t bytes = tl_csr_bytes(&data.ui) + tl_csr_bytes(&data.iu);
    double per = data.ui.nnz ? (double)bytes / (double)data.ui.nnz : 0;
    if (a->json) {
        json_t *o =
            json_pack("{s:I, s:I, s:I, s:I, s:f, s:f}", "rows", (json_int_t)data.ui.nrows, "cols",
                      (json_int_t)data.ui.ncols, "nnz", (json_int_t)data.ui.nnz, "bytes",
                      (json_int_t)bytes, "bytes_per_interaction", per, "load_seconds", secs);
        rc = o && json_object_set_new(root, "matrix", o) == 0 ? TL_OK : TL_ENOMEM;
    } else {
        fprintf(f,
                "matrix %d x %d, %lld non-zeros, %zu bytes (CSR + CSC), %.1f bytes per "
                "interaction, loaded in %.2f s\n",
                data.ui.nrows, data.ui.ncols, (long long)data.ui.nnz, bytes, per, secs);
    }
out:
    tl_data_release(&data);
    return rc;
}

static tl_err collect_stats(tl_store *st, const tl_cli *cli, const args *a, json_t *root, FILE *f,
                            tl_diag *d)
{
    tl_store_counts n;
    tl_err rc = tl_store_count(st, &n);
    if (rc != TL_OK)
        return rc;
    double density = n.users && n.items ? (double)n.pairs / ((double)n.users * (double)n.items) : 0;
    collect types = {.f = f}, tops = {.f = f};
    if (a->json) {
        json_t *o = json_pack(
            "{s:s, s:i, s:I, s:I, s:I, s:I, s:I, s:o, s:o, s:o}", "backend", tl_store_backend(st),
            "schema_version", tl_store_schema_version(st), "users", (json_int_t)n.users, "items",
            (json_int_t)n.items, "events", (json_int_t)n.events, "searches", (json_int_t)n.searches,
            "pairs", (json_int_t)n.pairs, "density", tl_json_num(density, "density"),
            "events_by_type", types.arr = json_object(), "top_items", tops.arr = json_array());
        if (!o || json_object_update(root, o) != 0) {
            json_decref(o);
            return TL_ENOMEM;
        }
        json_decref(o);
    } else {
        fprintf(f, "store %s (%s, schema %d)\n", cli->db_path, tl_store_backend(st),
                tl_store_schema_version(st));
        fprintf(f, "users %lld\nitems %lld\nevents %lld\nsearches %lld\n", (long long)n.users,
                (long long)n.items, (long long)n.events, (long long)n.searches);
        fprintf(f, "pairs %lld\ndensity %.6f\nevents by type:\n", (long long)n.pairs, density);
    }
    if ((rc = tl_store_events_by_type(st, on_type, &types)) != TL_OK)
        return rc;
    if (a->top > 0) {
        if (!a->json)
            fprintf(f, "top %d items by events:\n", a->top);
        if ((rc = tl_store_top_items(st, a->top, on_top, &tops)) != TL_OK)
            return rc;
    }
    return a->matrix ? print_matrix(st, a, root, f, d) : TL_OK;
}

static int run(const tl_cli *cli, int argc, char **argv)
{
    args a;
    memset(&a, 0, sizeof(a));
    int first, code = tl_opt_parse(&def, &a, argc, argv, &first);
    if (code != TL_OPT_RUN)
        return code;
    tl_store *st = NULL;
    tl_diag d;
    tl_diag_clear(&d);
    tl_err rc = tl_cli_store_open(cli, cli->db_path, TL_STORE_READONLY, &st, &d);
    if (rc != TL_OK)
        return tl_cli_fail("cannot open the store", rc, &d);
    tl_out out;
    tl_out_open(&out, NULL);
    json_t *root = a.json ? json_pack("{s:s}", "db", cli->db_path) : NULL;
    if (a.json && !root)
        rc = TL_ENOMEM;
    else if (a.weights)
        rc = print_weights(st, &a, root, out.f, &d);
    else
        rc = collect_stats(st, cli, &a, root, out.f, &d);
    if (rc != TL_OK) {
        json_decref(root);
        code = tl_cli_fail("stats", rc, &d);
    } else {
        code = a.json ? tl_json_emit(&out, root, 2, 15) : TL_EXIT_OK;
    }
    tl_store_free(st);
    return tl_out_close(&out, code);
}

const tl_cmd tl_cmd_stats = {&def, "counts, density, events per type, top items, event weights",
                             run};
