/* tailor homepage: a patron's homepage of rows ("Recommended for you", "Because you borrowed
 * X", "New in your subjects", "Trending this week", "Popular with patrons"), as the server's
 * /v1/users/{id}/homepage gives it, from the store's events now. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/rec_context.h"
#include "cli/width.h"
#include "tailor/service.h"

#define TITLE_COLS 50

typedef struct args {
    const char *model, *user, *out, *calendar;
    int rows, n, json, no_store;
    tl_cli_context context;
} args;

static const tl_opt opts[] = {
    {"model", 'm', TL_OPT_STR, "FILE", NULL, 0, 0, TL_OPT_AT(args, model),
     "the model file (tailor train --out)"},
    {"user", 'u', TL_OPT_STR, "ID", NULL, 0, 0, TL_OPT_AT(args, user), "the patron"},
    {"rows", 'r', TL_OPT_INT, "N", "6", 1, TL_HOME_MAX_ROWS, TL_OPT_AT(args, rows),
     "how many rows at most"},
    {"n", 'n', TL_OPT_INT, "N", "10", 1, TL_HOME_MAX_N, TL_OPT_AT(args, n), "items per row"},
    TL_CLI_CONTEXT_OPTS(args, context){
        "no-store", 0, TL_OPT_FLAG, NULL, NULL, 0, 0, TL_OPT_AT(args, no_store),
        "only the model file: its training histories, no trending row"},
    {"calendar", 0, TL_OPT_STR, "FILE", NULL, 0, 0, TL_OPT_AT(args, calendar),
     "the academic calendar (TSV: name, kind term|exam|break, start, end):\n"
     "during an exam week the page begins with \"For your exams\""},
    {"out", 'o', TL_OPT_STR, "FILE", NULL, 0, 0, TL_OPT_AT(args, out),
     "write there instead of standard output ('-' = standard output)"},
    {"json", 0, TL_OPT_FLAG, NULL, NULL, 0, 0, TL_OPT_AT(args, json),
     "JSON: {\"user\", \"model\", \"rows\": [{\"id\", \"title\", \"items\": [...]}]}"},
    {NULL},
};

static const tl_cmd_def def = {
    .name = "homepage",
    .synopsis = "homepage --model FILE --user ID [--rows N] [--n N] [--device NAME]\n"
                "                [--channel NAME] [--branch NAME] [--time WHEN] [--no-store]\n"
                "                [--out FILE] [--json]",
    .about = "A patron's homepage: rows of recommendations, each titled with its reason, no\n"
             "item twice and nothing the patron has. Reads the patron's events in the store\n"
             "(--db) as they are now, so what was borrowed since training counts. A patron\n"
             "without a usable history, or opted out, gets the rows that are not personal.",
    .opts = opts,
};

static json_t *item_json(const tl_rec_item *it)
{
    json_t *ev = json_array();
    for (int k = 0; k < it->n_evidence; k++)
        json_array_append_new(ev, json_pack("{s:s, s:s?, s:o}", "item", it->evidence[k].item,
                                            "title", it->evidence[k].title, "weight",
                                            tl_json_float(it->evidence[k].weight, "a weight")));
    json_t *o = json_pack("{s:s, s:s?, s:o, s:s, s:s, s:o}", "item", it->item, "title", it->title,
                          "score", tl_json_float(it->score, "a score"), "kind", it->kind, "reason",
                          it->reason, "evidence", ev);
    if (o && it->availability.known)
        json_object_set_new(o, "availability", tl_json_availability(it));
    return o;
}

static int print_page(tl_out *o, const char *user, const tl_home *h, int json)
{
    if (json) {
        json_t *rows = json_array();
        for (int r = 0; r < h->n_rows; r++) {
            json_t *items = json_array();
            for (int k = 0; k < h->rows[r].n; k++)
                json_array_append_new(items, item_json(&h->rows[r].items[k]));
            json_t *row = json_pack("{s:s, s:s, s:o}", "id", h->rows[r].id, "title",
                                    h->rows[r].title, "items", items);
            if (row && h->rows[r].segment_attr[0])
                json_object_set_new(row, "segment",
                                    json_pack("{s:s, s:s}", "attribute", h->rows[r].segment_attr,
                                              "value", h->rows[r].segment_value));
            json_array_append_new(rows, row);
        }
        json_t *j = json_pack("{s:s, s:s, s:o}", "user", user, "model", h->model, "rows", rows);
        if (j && h->fallback)
            json_object_set_new(j, "fallback", json_string(h->fallback));
        return tl_json_emit(o, j, 0, 15);
    }
    if (h->fallback)
        fprintf(o->f, "(%s)\n", h->fallback);
    for (int r = 0; r < h->n_rows && !tl_out_failed(o); r++) {
        fprintf(o->f, "%s%s\n", r ? "\n" : "", h->rows[r].title);
        for (int k = 0; k < h->rows[r].n; k++) {
            const tl_rec_item *it = &h->rows[r].items[k];
            char tb[4 * TITLE_COLS + 16];
            fprintf(o->f, "  %-12s %s  %s\n", it->item,
                    tl_width_fit(it->title ? it->title : "", TITLE_COLS, 1, tb, sizeof(tb)),
                    it->reason);
        }
    }
    return TL_EXIT_OK;
}

static int run(const tl_cli *cli, int argc, char **argv)
{
    args a;
    memset(&a, 0, sizeof(a));
    int first, code = tl_opt_parse(&def, &a, argc, argv, &first);
    if (code != TL_OPT_RUN)
        return code;
    if (!a.model || !a.user)
        return tl_opt_usage_error(&def, "needs --model FILE and --user ID");
    tl_home_query hq = {.user = a.user, .rows = a.rows, .n = a.n};
    if (tl_cli_context_get(&def, &a.context, &hq.context) != 0)
        return TL_EXIT_USAGE;
    tl_diag diag;
    tl_diag_clear(&diag);
    tl_service_opts so = {
        .model = a.model, .db = a.no_store ? NULL : cli->db_path, .calendar = a.calendar};
    tl_service *svc = NULL;
    tl_err rc = tl_cli_service_open(cli, &so, &svc, &diag);
    if (rc != TL_OK)
        return tl_cli_fail("homepage", rc, &diag);
    tl_home h;
    rc = tl_service_homepage(svc, &hq, &h, &diag);
    if (rc == TL_ENOTFOUND) {
        code = tl_cli_fail("homepage", rc, &diag);
        code = TL_EXIT_DATA;
    } else if (rc != TL_OK) {
        code = tl_cli_fail("homepage", rc, &diag);
    } else {
        tl_out o;
        if ((code = tl_out_open(&o, a.out)) == TL_EXIT_OK)
            code = tl_out_close(&o, print_page(&o, a.user, &h, a.json));
        tl_home_free(&h);
    }
    tl_service_close(svc);
    return code;
}

const tl_cmd tl_cmd_homepage = {&def, "a patron's homepage of titled rows (live from the store)",
                                run};
