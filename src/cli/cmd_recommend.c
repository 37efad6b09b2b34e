/* tailor recommend: top-N from a model file for one patron (with the evidence for each item), for
 * an ad-hoc history, or for every patron the model knows (TSV or JSON Lines). A patron without a
 * usable history gets the most popular items, and is told so. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/rec_context.h"
#include "cli/width.h"
#include "tailor/service.h"

#define ID_COLS 12     /* text output: item ids are padded to this many columns (never cut) */
#define TITLE_COLS 50  /* titles are cut or padded to exactly this many */
#define REASON_COLS 40 /* each title behind a recommendation is cut to this many */

typedef struct args {
    const char *model, *user, *history, *out;
    int all, n, json, live, ignore_shelf;
    tl_cli_rerank rerank;
    tl_opt_list filters;
    tl_cli_context context;
} args;

static const tl_opt opts[] = {
    {"model", 'm', TL_OPT_STR, "FILE", NULL, 0, 0, TL_OPT_AT(args, model),
     "the model file (tailor train --out)"},
    {"user", 'u', TL_OPT_STR, "ID", NULL, 0, 0, TL_OPT_AT(args, user),
     "a patron the model was trained with (their history is in the file)"},
    {"history", 0, TL_OPT_STR, "ID,ID,...", NULL, 0, 0, TL_OPT_AT(args, history),
     "an ad-hoc history of item ids (a patron the model never saw)"},
    {"users", 0, TL_OPT_CHOICE, "all", NULL, 0, 0, TL_OPT_AT(args, all),
     "every patron of the model: TSV `user item rank score`, or with --json\n"
     "one JSON object per patron per line (without the evidence)"},
    {"n", 'n', TL_OPT_INT, "N", "10", 1, 10000, TL_OPT_AT(args, n), "how many items"},
    {"filter", 'f', TL_OPT_LIST, "KEY=VALUE", NULL, 0, 0, TL_OPT_AT(args, filters),
     "only items of the catalogue that match: type=, format=, language=,\n"
     "subject=, year=YYYY or year=YYYY-YYYY, available (a copy on the shelf).\n"
     "The same key again means either (subject=a --filter subject=b: a OR b);\n"
     "different keys must all hold (subject=a --filter language=eng: both)"},
    TL_CLI_RERANK_OPTS(args,
                       rerank){"out", 'o', TL_OPT_STR, "FILE", NULL, 0, 0, TL_OPT_AT(args, out),
                               "write there instead of standard output ('-' = standard output)"},
    {"ignore-shelf", 0, TL_OPT_FLAG, NULL, NULL, 0, 0, TL_OPT_AT(args, ignore_shelf),
     "--live: rank as the model does, without preferring copies on the shelf at\n"
     "the patron's branch (--branch, else their home_branch)"},
    {"live", 0, TL_OPT_FLAG, NULL, NULL, 0, 0, TL_OPT_AT(args, live),
     "--user: the patron's events in the store now (--db), not the history the\n"
     "model was trained with: what the server answers after new events"},
    TL_CLI_CONTEXT_OPTS(args, context){
        "json", 0, TL_OPT_FLAG, NULL, NULL, 0, 0, TL_OPT_AT(args, json),
        "JSON: items with titles, scores and the evidence (kind, item, title)"},
    {NULL},
};

static const tl_cmd_def def = {
    .name = "recommend",
    .synopsis = "recommend --model FILE (--user ID | --history ID,ID,... | --users all)\n"
                "                 [--n N] [--filter KEY=VALUE]... [--live [--device NAME] "
                "[--channel NAME]\n"
                "                 [--branch NAME] [--time WHEN]] [--diversify LAMBDA]\n"
                "                 [--calibrate LAMBDA] [--max-per-author N] [--out FILE] [--json]",
    .about =
        "Recommends the N best items the patron does not have yet, from a model file (mapped,\n"
        "not parsed), with the history items behind each one. A patron without a usable\n"
        "history (none, opted out of personalization, or only items the model does not know)\n"
        "gets the items most patrons have, marked \"popular: no usable history for this\n"
        "patron\". Filters need the catalogue in the model: train from the store, or with\n"
        "--items. A filter that matches no item is an error (exit 1), naming the filter.",
    .notes =
        "JSON of one patron: {\"user\", \"model\", \"items\": [{\"rank\", \"item\", \"title\", "
        "\"score\",\n"
        "\"because\": [{\"kind\", \"item\", \"title\", \"weight\"}]}]}; kind is history "
        "(patrons with\n"
        "these items also had it), next_after (sequence), similar_content (content) or "
        "popular\n"
        "(with \"reason\"); a patron served popular items also has a top-level \"reason\".",
    .opts = opts,
    .min_args = 0,
    .max_args = 0,
};

typedef struct request {
    tl_out out;
    int json;
} request;

static const char *kind_label(const char *kind)
{
    return strcmp(kind, "next_after") == 0        ? "  next after: "
           : strcmp(kind, "similar_content") == 0 ? "  similar to: "
                                                  : "  because: ";
}

/* One item's evidence as text ("  because: A; B") or as a JSON array. */
static json_t *evidence(request *q, const tl_rec_item *it, const char *fallback)
{
    json_t *arr = q->json ? json_array() : NULL;
    FILE *f = q->out.f;
    if (fallback) {
        if (arr)
            json_array_append_new(arr, json_pack("{s:s, s:s, s:o}", "kind", "popular", "reason",
                                                 fallback, "patrons",
                                                 json_integer((json_int_t)it->score)));
        else
            fprintf(f, "  popular: %s", fallback);
        return arr;
    }
    if (!it->n_evidence && strcmp(it->kind, "popular") == 0) {
        if (arr)
            json_array_append_new(arr, json_pack("{s:s}", "kind", "popular"));
        else
            fprintf(f, "  popular");
    }
    for (int k = 0; k < it->n_evidence; k++) {
        const tl_rec_evidence *e = &it->evidence[k];
        if (arr) {
            json_t *o =
                json_pack("{s:s, s:s, s:s?}", "kind", it->kind, "item", e->item, "title", e->title);
            if (o)
                json_object_set_new(o, "weight", tl_json_float(e->weight, "an evidence weight"));
            json_array_append_new(arr, o);
        } else {
            char buf[4 * REASON_COLS + 16];
            fprintf(f, "%s%s", k ? "; " : kind_label(it->kind),
                    tl_width_fit(e->title ? e->title : e->item, REASON_COLS, 0, buf, sizeof(buf)));
        }
    }
    return arr;
}

/* The recommendations of one patron, as text lines or one JSON object. */
static int print_one(request *q, const char *user, const tl_rec_result *res)
{
    json_t *list = q->json ? json_array() : NULL;
    for (int r = 0; r < res->n && !tl_out_failed(&q->out); r++) {
        const tl_rec_item *it = &res->items[r];
        if (list) {
            json_t *o =
                json_pack("{s:i, s:s, s:s?}", "rank", r + 1, "item", it->item, "title", it->title);
            if (o) {
                json_object_set_new(o, "score", tl_json_float(it->score, "a score"));
                json_object_set_new(o, "reason", json_string(it->reason));
                json_object_set_new(o, "because", evidence(q, it, res->fallback));
                if (it->availability.known)
                    json_object_set_new(o, "availability", tl_json_availability(it));
            }
            json_array_append_new(list, o);
            continue;
        }
        char idb[4 * ID_COLS + 256], tb[4 * TITLE_COLS + 16];
        int idw = tl_width_of(it->item);
        fprintf(q->out.f, "%2d. %s %s %8.4f", r + 1,
                tl_width_fit(it->item, idw > ID_COLS ? idw : ID_COLS, 1, idb, sizeof(idb)),
                tl_width_fit(it->title ? it->title : "", TITLE_COLS, 1, tb, sizeof(tb)),
                (double)it->score);
        evidence(q, it, res->fallback);
        fputc('\n', q->out.f);
    }
    if (!q->json)
        return TL_EXIT_OK;
    json_t *o = json_pack("{s:s?, s:s, s:o}", "user", user, "model", res->model, "items", list);
    if (o && res->fallback) {
        char reason[128];
        snprintf(reason, sizeof(reason), "popular: %s", res->fallback);
        json_object_set_new(o, "reason", json_string(reason));
    }
    return tl_json_emit(&q->out, o, 0, 15);
}

/* Splits a comma-separated list of item ids in place; says which are not in the model. */
static int split_history(char *list, const char ***out)
{
    int n = 1;
    for (const char *p = list; *p; p++)
        n += *p == ',';
    const char **ids = malloc((size_t)n * sizeof(*ids));
    if (!ids)
        return -1;
    n = 0;
    for (char *p = list, *next; p; p = next) {
        next = strchr(p, ',');
        if (next)
            *next++ = '\0';
        if (*p)
            ids[n++] = p;
    }
    *out = ids;
    return n;
}

/* "--filter a --filter b" for messages. */
static void describe_filters(const tl_opt_list *l, char *buf, size_t len)
{
    size_t o = 0;
    buf[0] = '\0';
    for (int k = 0; k < l->n && o < len; k++)
        o += (size_t)snprintf(buf + o, len - o, "%s--filter %s", k ? " " : "", l->v[k]);
}

/* A filter the service refused: bad (exit 2), no catalogue in the model, or matching nothing
 * (exit 1, naming the filters as typed). */
static int filter_failed(const tl_opt_list *filters, tl_err rc, const tl_diag *d)
{
    if (rc != TL_ENOTFOUND)
        return tl_cli_fail("recommend: --filter", rc, d);
    char buf[1024];
    describe_filters(filters, buf, sizeof(buf));
    fprintf(stderr, "tailor: recommend: no item of the catalogue matches %s\n", buf);
    return TL_EXIT_FAIL;
}

/* Ids of an ad-hoc history that the model does not have are skipped, and said so. */
static void warn_unknown(tl_service *svc, const char *const *ids, int n)
{
    for (int k = 0; k < n; k++)
        if (!tl_service_knows_item(svc, ids[k])) {
            char id[256], buf[128];
            snprintf(id, sizeof(id), "%.200s", ids[k]);
            fprintf(stderr, "tailor: recommend: item '%s' is not in the model; ignored\n",
                    tl_cli_printable(id, buf, sizeof(buf)));
        }
}

static int one_user(request *q, tl_service *svc, const tl_rec_query *query,
                    const tl_opt_list *filters)
{
    tl_rec_result res;
    tl_diag diag;
    tl_diag_clear(&diag);
    tl_err rc = tl_service_recommend(svc, query, &res, &diag);
    if (rc == TL_ENOTFOUND && strcmp(diag.field, "user") == 0) {
        char buf[128];
        fprintf(stderr, "tailor: recommend: user '%s' is not in the model (try --history)\n",
                tl_cli_printable(query->user, buf, sizeof(buf)));
        return TL_EXIT_DATA;
    }
    if (rc != TL_OK && strcmp(diag.field, "filter") == 0)
        return filter_failed(filters, rc, &diag);
    if (rc != TL_OK)
        return tl_cli_fail("recommend", rc, &diag);
    int code = TL_EXIT_FAIL;
    if (res.n == 0)
        fprintf(stderr, "tailor: recommend: nothing to recommend: every item the filters allow "
                        "is already in this patron's history\n");
    else
        code = print_one(q, query->user, &res);
    tl_rec_result_free(&res);
    return code;
}

typedef struct rows_ctx {
    request *q;
    const char *model;
    long long fallbacks;
    int code;
} rows_ctx;

/* One patron's row of --users all as TSV lines or one JSON line. */
static tl_err print_row(void *ctx, const char *user, const char *const *items, const float *scores,
                        int n, const char *fallback)
{
    rows_ctx *c = ctx;
    request *q = c->q;
    c->fallbacks += fallback != NULL;
    if (q->json) {
        tl_rec_item *its = calloc((size_t)(n ? n : 1), sizeof(*its));
        if (!its)
            return TL_ENOMEM;
        for (int k = 0; k < n; k++)
            its[k] = (tl_rec_item){.item = items[k], .score = scores[k], .kind = "popular"};
        tl_rec_result res = {.model = c->model, .fallback = fallback, .n = n, .items = its};
        c->code = print_one(q, user, &res);
        free(its);
    } else {
        if (!tl_tsv_field_ok("recommend", "user id", user)) {
            c->code = TL_EXIT_DATA;
            return TL_ECANCELED;
        }
        for (int k = 0; k < n; k++) {
            if (!tl_tsv_field_ok("recommend", "item id", items[k])) {
                c->code = TL_EXIT_DATA;
                return TL_ECANCELED;
            }
            char sc[32];
            fprintf(q->out.f, "%s\t%s\t%d\t%s\n", user, items[k], k + 1,
                    tl_float_text(scores[k], sc, sizeof(sc)));
        }
    }
    return c->code != TL_EXIT_OK || tl_out_failed(&q->out) ? TL_ECANCELED : TL_OK;
}
static int all_users(request *q, tl_service *svc, const args *a, const tl_rerank *rerank)
{
    tl_service_info info;
    tl_service_info_get(svc, &info, 0);
    rows_ctx c = {.q = q, .model = info.model, .code = TL_EXIT_OK};
    tl_diag diag;
    tl_diag_clear(&diag);
    if (!q->json)
        fprintf(q->out.f, "user\titem\trank\tscore\n");
    tl_err rc = tl_service_recommend_all(svc, a->n, (const char *const *)a->filters.v, a->filters.n,
                                         rerank, print_row, &c, &diag);
    if (rc == TL_ECANCELED)
        return c.code; /* a bad id or a failed write: said already, or tl_out_close says */
    if (rc != TL_OK && strcmp(diag.field, "filter") == 0)
        return filter_failed(&a->filters, rc, &diag);
    if (rc != TL_OK)
        return tl_cli_fail("recommend", rc, &diag);
    if (c.fallbacks)
        fprintf(stderr,
                "tailor: recommend: %lld patron%s without a usable history got the most popular "
                "items%s\n",
                c.fallbacks, c.fallbacks == 1 ? "" : "s",
                q->json ? "" : " (score = the number of patrons who have the item)");
    return TL_EXIT_OK;
}

static int run(const tl_cli *cli, int argc, char **argv)
{
    args a;
    memset(&a, 0, sizeof(a));
    a.all = -1;
    tl_cli_rerank_init(&a.rerank);
    int first, code = tl_opt_parse(&def, &a, argc, argv, &first);
    if (code != TL_OPT_RUN)
        return code;
    if (!a.model)
        return tl_opt_usage_error(&def, "needs --model FILE");
    if (!!a.user + !!a.history + (a.all >= 0) != 1)
        return tl_opt_usage_error(&def, "needs exactly one of --user, --history and --users all");
    if (a.live && !a.user)
        return tl_opt_usage_error(&def, "--live goes with --user");
    tl_rec_context cx;
    if (tl_cli_context_get(&def, &a.context, &cx) != 0)
        return TL_EXIT_USAGE;
    if (!a.live && (cx.device || cx.channel || cx.branch || cx.time))
        return tl_opt_usage_error(&def, "--device, --channel, --branch and --time go with --live "
                                        "(the store's events have the context)");
    tl_diag diag;
    tl_diag_clear(&diag);
    tl_service_opts so = {.model = a.model, .db = a.live ? cli->db_path : NULL};
    tl_service *svc = NULL;
    tl_err rc = tl_cli_service_open(cli, &so, &svc, &diag);
    if (rc != TL_OK)
        return tl_cli_fail(a.live ? "recommend" : "recommend: loading the model", rc, &diag);
    request q = {.json = a.json};
    tl_rec_query query = {.context = cx,
                          .user = a.user,
                          .n = a.n,
                          .filters = (const char *const *)a.filters.v,
                          .n_filters = a.filters.n,
                          .explain = 1,
                          .rerank = tl_cli_rerank_get(&a.rerank),
                          .ignore_shelf = a.ignore_shelf};
    const char **ids = NULL;
    char *list = a.history ? strdup(a.history) : NULL;
    if (a.history && (!list || (query.n_history = split_history(list, &ids)) < 0)) {
        code = tl_cli_fail("recommend", TL_ENOMEM, NULL);
        goto out;
    }
    query.history = ids;
    if (a.history)
        warn_unknown(svc, ids, query.n_history);
    if ((code = tl_out_open(&q.out, a.out)) != TL_EXIT_OK)
        goto out;
    code =
        a.all >= 0 ? all_users(&q, svc, &a, &query.rerank) : one_user(&q, svc, &query, &a.filters);
    code = tl_out_close(&q.out, code);
out:
    free(ids);
    free(list);
    tl_service_close(svc);
    return code;
}

const tl_cmd tl_cmd_recommend = {&def, "top-N items for a patron (or all) from a model file", run};
