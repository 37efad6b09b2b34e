/* tailor search: the catalogue's full-text search, re-ranked for a patron, with facets, as the
 * server's GET /v1/search gives it; and --reindex, which builds the index again whole. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/width.h"
#include "tailor/service.h"

#define TITLE_COLS 50

typedef struct args {
    const char *model, *user, *out, *languages;
    int n, json, reindex, no_log, no_facets;
    double weight;
    tl_opt_list filters;
} args;

static const tl_opt opts[] = {
    {"user", 'u', TL_OPT_STR, "ID", NULL, 0, 0, TL_OPT_AT(args, user),
     "the patron: their profile re-ranks the results (none: anonymous)"},
    {"n", 'n', TL_OPT_INT, "N", "10", 1, TL_SEARCH_MAX_N, TL_OPT_AT(args, n), "how many items"},
    {"filter", 'f', TL_OPT_LIST, "KEY=VALUE", NULL, 0, 0, TL_OPT_AT(args, filters),
     "only items with type=, format=, language=, subject=, year=A[-B], branch= or available;\n"
     "the same key again means either, different keys must all hold"},
    {"model", 'm', TL_OPT_STR, "FILE", NULL, 0, 0, TL_OPT_AT(args, model),
     "the model file (tailor train --out) that scores the patron's profile; without it the\n"
     "order is the text's alone"},
    {"weight", 'w', TL_OPT_NUM, "W", "-1", -1, 1, TL_OPT_AT(args, weight),
     "the weight of the patron's profile against the text, 0..1 (-1: the default, 0.3)"},
    {"no-facets", 0, TL_OPT_FLAG, NULL, NULL, 0, 0, TL_OPT_AT(args, no_facets),
     "do not count the facets"},
    {"no-log", 0, TL_OPT_FLAG, NULL, NULL, 0, 0, TL_OPT_AT(args, no_log),
     "do not keep the search in the store (by default it is kept with its total)"},
    {"reindex", 0, TL_OPT_FLAG, NULL, NULL, 0, 0, TL_OPT_AT(args, reindex),
     "build the catalogue's index again whole (no QUERY)"},
    {"languages", 0, TL_OPT_STR, "LIST", NULL, 0, 0, TL_OPT_AT(args, languages),
     "--reindex: the catalogue's languages for stemming, comma-separated Snowball names\n"
     "(english, french, german, ..., none); kept by the store (default english)"},
    {"out", 'o', TL_OPT_STR, "FILE", NULL, 0, 0, TL_OPT_AT(args, out),
     "write there instead of standard output ('-' = standard output)"},
    {"json", 0, TL_OPT_FLAG, NULL, NULL, 0, 0, TL_OPT_AT(args, json),
     "JSON as GET /v1/search: {\"total\", \"items\": [{\"item\", \"title\", \"score\",\n"
     "\"reason\"}], \"facets\": {NAME: {VALUE: COUNT}}}"},
    {NULL},
};

static const tl_cmd_def def = {
    .name = "search",
    .synopsis = "search QUERY [--user ID] [--n N] [--filter KEY=VALUE]... [--model FILE]\n"
                "              [--weight W] [--no-facets] [--no-log] [--out FILE] [--json]\n"
                "       tailor search --reindex [--languages LIST]",
    .about = "Searches the catalogue of the store (--db): words match their stems (running finds\n"
             "run), \"a phrase\" matches in order, word* is a prefix; the index's own operators\n"
             "are taken as words. All the words must match; when that finds nothing, any does.\n"
             "Ranked by BM25 (the title weighs most); with --user and --model the best 100 are\n"
             "re-ranked by the patron's profile. Facets count the whole match set. The search is\n"
             "kept in the store with how many items it found.",
    .opts = opts,
    .min_args = 0,
    .max_args = 1,
};

static json_t *result_json(const tl_search_result *r)
{
    json_t *items = json_array(), *facets = json_object();
    for (int k = 0; k < r->n; k++) {
        const tl_search_hit *h = &r->items[k];
        json_t *it = json_pack("{s:s, s:s?, s:o}", "item", h->item, "title", h->title, "score",
                               tl_json_float((float)h->score, "a score"));
        if (it && h->reason[0])
            json_object_set_new(it, "reason", json_string(h->reason));
        json_array_append_new(items, it);
    }
    for (int f = 0; f < r->n_facets; f++) {
        json_t *v = json_object();
        for (int k = 0; k < r->facets[f].n; k++)
            json_object_set_new(v, r->facets[f].values[k], json_integer(r->facets[f].counts[k]));
        json_object_set_new(facets, r->facets[f].name, v);
    }
    json_t *j = json_pack("{s:I, s:o, s:o, s:s}", "total", (json_int_t)r->total, "items", items,
                          "facets", facets, "match", r->match);
    if (j && r->personal)
        json_object_set_new(j, "personal", json_string(r->personal));
    if (j && r->total_estimated)
        json_object_set_new(j, "total_estimated", json_true());
    if (j && r->facets_scanned) {
        json_object_set_new(j, "facets_scanned", json_integer(r->facets_scanned));
        json_object_set_new(j, "facets_sample", json_string(r->facets_best ? "best" : "first"));
    }
    return j;
}

static int print_result(tl_out *o, const tl_search_result *r, int json)
{
    if (json)
        return tl_json_emit(o, result_json(r), 0, 6);
    fprintf(o->f, "%lld item%s match%s%s\n", r->total, r->total == 1 ? "" : "s",
            r->match[0] == 'a' && r->match[1] == 'n' ? " (any of the words)" : "",
            r->personal || !r->n ? "" : " (re-ranked for the patron)");
    for (int k = 0; k < r->n && !tl_out_failed(o); k++) {
        const tl_search_hit *h = &r->items[k];
        char tb[4 * TITLE_COLS + 16];
        fprintf(o->f, "  %-12s %s  %.3f%s%s\n", h->item,
                tl_width_fit(h->title ? h->title : "", TITLE_COLS, 1, tb, sizeof(tb)), h->score,
                h->reason[0] ? "  " : "", h->reason);
    }
    for (int f = 0; f < r->n_facets && !tl_out_failed(o); f++) {
        fprintf(o->f, "%s%s:", f ? "\n" : "\n", r->facets[f].name);
        for (int k = 0; k < r->facets[f].n && k < 8; k++)
            fprintf(o->f, " %s (%lld)%s", r->facets[f].values[k], r->facets[f].counts[k],
                    k + 1 < r->facets[f].n && k < 7 ? "," : "");
        if (r->facets[f].n > 8)
            fprintf(o->f, ", ...");
    }
    if (r->n_facets)
        fputc('\n', o->f);
    return TL_EXIT_OK;
}

static int reindex(const tl_cli *cli, const args *a)
{
    tl_diag diag;
    tl_diag_clear(&diag);
    tl_service_opts so = {.db = cli->db_path, .writable = 1};
    tl_service *svc = NULL;
    tl_err rc = tl_cli_service_open(cli, &so, &svc, &diag);
    double secs = 0;
    if (rc == TL_OK)
        rc = tl_service_search_reindex(svc, a->languages, &secs, &diag);
    tl_service_close(svc);
    if (rc != TL_OK)
        return tl_cli_fail("search", rc, &diag);
    fprintf(stderr, "reindexed the catalogue of %s (%.2f s)\n", cli->db_path, secs);
    return TL_EXIT_OK;
}

static int run(const tl_cli *cli, int argc, char **argv)
{
    args a;
    memset(&a, 0, sizeof(a));
    int first, code = tl_opt_parse(&def, &a, argc, argv, &first);
    if (code != TL_OPT_RUN)
        return code;
    if (a.reindex) {
        if (first < argc)
            return tl_opt_usage_error(&def, "--reindex takes no QUERY");
        return reindex(cli, &a);
    }
    if (a.languages)
        return tl_opt_usage_error(&def, "--languages goes with --reindex");
    if (first >= argc)
        return tl_opt_usage_error(&def, "needs a QUERY (or --reindex)");
    if (a.user && !a.model && a.weight != 0)
        fprintf(stderr, "tailor: search: note: no --model, so the order is the text's alone; "
                        "give --model FILE to re-rank for the patron\n");
    tl_diag diag;
    tl_diag_clear(&diag);
    tl_service_opts so = {.db = cli->db_path, .model = a.model, .writable = !a.no_log};
    tl_service *svc = NULL;
    tl_err rc = tl_cli_service_open(cli, &so, &svc, &diag);
    if (rc != TL_OK)
        return tl_cli_fail("search", rc, &diag);
    tl_search_query q = {.q = argv[first],
                         .user = a.user,
                         .n = a.n,
                         .filters = a.filters.v,
                         .n_filters = a.filters.n,
                         .weight = a.weight,
                         .facets = !a.no_facets,
                         .log = !a.no_log};
    tl_search_result r;
    rc = tl_service_search(svc, &q, &r, &diag);
    if (rc != TL_OK) {
        code = tl_cli_fail("search", rc, &diag);
    } else {
        tl_out o;
        if ((code = tl_out_open(&o, a.out)) == TL_EXIT_OK)
            code = tl_out_close(&o, print_result(&o, &r, a.json));
        tl_search_result_free(&r);
    }
    tl_service_close(svc);
    return code;
}

const tl_cmd tl_cmd_search = {&def, "search the catalogue (full text, re-ranked for a patron)",
                              run};
