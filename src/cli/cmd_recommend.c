/* tailor recommend: top-N from a model file for one patron (with the evidence for each item), for
 * an ad-hoc history, or for every patron the model knows (TSV or JSON Lines). A patron without a
 * usable history gets the most popular items, and is told so. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/width.h"
#include "core/filter.h"
#include "core/model.h"
#include "core/request.h"

#define MAX_EXPLAIN 3
#define ID_COLS 12           /* text output: item ids are padded to this many columns (never cut) */
#define TITLE_COLS 50        /* titles are cut or padded to exactly this many */
#define REASON_COLS 40       /* each title behind a recommendation is cut to this many */
#define ROWS_CELLS (4 << 20) /* --users all: patrons per batch x N stays under this */

static const char NO_HISTORY[] = "no usable history for this patron";
static const char NO_EVIDENCE[] = "the model found nothing in this patron's history";

typedef struct args {
    const char *model, *user, *history, *out;
    int all, n, json;
    tl_opt_list filters;
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
    {"out", 'o', TL_OPT_STR, "FILE", NULL, 0, 0, TL_OPT_AT(args, out),
     "write there instead of standard output ('-' = standard output)"},
    {"json", 0, TL_OPT_FLAG, NULL, NULL, 0, 0, TL_OPT_AT(args, json),
     "JSON: items with titles, scores and the evidence (kind, item, title)"},
    {NULL},
};

static const tl_cmd_def def = {
    .name = "recommend",
    .synopsis = "recommend --model FILE (--user ID | --history ID,ID,... | --users all)\n"
                "                 [--n N] [--filter KEY=VALUE]... [--out FILE] [--json]",
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
    const tl_model *m;
    const tl_filter *f;
    int n;
    tl_out out;
    int json;
    int explain; /* with the evidence (one patron); --users all goes without */
} request;

static const char *title_of(const tl_model *m, int32_t i)
{
    return i >= 0 && i < m->cat.n && m->cat.title[i] ? m->cat.title[i] : NULL;
}

static const char *kind_label(tl_reason_kind k)
{
    return k == TL_REASON_NEXT_AFTER        ? "  next after: "
           : k == TL_REASON_SIMILAR_CONTENT ? "  similar to: "
                                            : "  because: ";
}

/* One item's evidence as text ("  because: A; B") or as a JSON array. */
static json_t *evidence(const request *q, int32_t uidx, const int32_t *hist, const float *w,
                        int32_t nh, int32_t item, const char *fallback, float score)
{
    const tl_model *m = q->m;
    json_t *arr = q->json ? json_array() : NULL;
    FILE *f = q->out.f;
    if (fallback) {
        if (arr)
            json_array_append_new(arr,
                                  json_pack("{s:s, s:s, s:o}", "kind", "popular", "reason",
                                            fallback, "patrons", json_integer((json_int_t)score)));
        else
            fprintf(f, "  popular: %s", fallback);
        return arr;
    }
    int32_t why[MAX_EXPLAIN];
    float contrib[MAX_EXPLAIN];
    tl_reason_kind kind;
    int nwhy = tl_model_explain(m, uidx, hist, w, nh, item, why, contrib, MAX_EXPLAIN, &kind);
    if (!nwhy && kind == TL_REASON_POPULAR) {
        if (arr)
            json_array_append_new(arr, json_pack("{s:s}", "kind", "popular"));
        else
            fprintf(f, "  popular");
    }
    for (int k = 0; k < nwhy; k++) {
        int32_t j = hist[why[k]];
        const char *id = tl_intern_str(&m->items, j), *t = title_of(m, j);
        if (arr) {
            json_t *o = json_pack("{s:s, s:s, s:s?}", "kind", tl_reason_kind_name(kind), "item", id,
                                  "title", t);
            if (o)
                json_object_set_new(o, "weight", tl_json_float(contrib[k], "an evidence weight"));
            json_array_append_new(arr, o);
        } else {
            char buf[4 * REASON_COLS + 16];
            fprintf(f, "%s%s", k ? "; " : kind_label(kind),
                    tl_width_fit(t ? t : id, REASON_COLS, 0, buf, sizeof(buf)));
        }
    }
    return arr;
}

/* The recommendations of one patron, as text lines or one JSON object. */
static int print_one(request *q, const char *user, int32_t uidx, const int32_t *hist,
                     const float *w, int32_t nh, const int32_t *items, const float *scores, int got,
                     const char *fallback)
{
    const tl_model *m = q->m;
    json_t *list = q->json ? json_array() : NULL;
    for (int r = 0; r < got && !tl_out_failed(&q->out); r++) {
        const char *id = tl_intern_str(&m->items, items[r]), *title = title_of(m, items[r]);
        if (list) {
            json_t *o = json_pack("{s:i, s:s, s:s?}", "rank", r + 1, "item", id, "title", title);
            if (o)
                json_object_set_new(o, "score", tl_json_float(scores[r], "a score"));
            if (o && q->explain)
                json_object_set_new(o, "because",
                                    evidence(q, uidx, hist, w, nh, items[r], fallback, scores[r]));
            json_array_append_new(list, o);
            continue;
        }
        char idb[4 * ID_COLS + 256], tb[4 * TITLE_COLS + 16];
        int idw = tl_width_of(id);
        fprintf(q->out.f, "%2d. %s %s %8.4f", r + 1,
                tl_width_fit(id, idw > ID_COLS ? idw : ID_COLS, 1, idb, sizeof(idb)),
                tl_width_fit(title ? title : "", TITLE_COLS, 1, tb, sizeof(tb)), (double)scores[r]);
        evidence(q, uidx, hist, w, nh, items[r], fallback, scores[r]);
        fputc('\n', q->out.f);
    }
    if (!q->json)
        return TL_EXIT_OK;
    json_t *o = json_pack("{s:s?, s:s, s:o}", "user", user, "model", m->ops->name, "items", list);
    if (o && fallback) {
        char reason[128];
        snprintf(reason, sizeof(reason), "popular: %s", fallback);
        json_object_set_new(o, "reason", json_string(reason));
    }
    return tl_json_emit(&q->out, o, 0, 15);
}

/* Parses a comma-separated list of item ids into model indices; unknown ids are skipped. */
static int32_t parse_history(const tl_model *m, const char *list, int32_t *out, float *w,
                             int32_t max)
{
    int32_t n = 0;
    for (const char *p = list; *p && n < max;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        int32_t i = len ? tl_intern_find(&m->items, p, len) : -1;
        if (i >= 0) {
            out[n] = i;
            w[n++] = 1.0f;
        } else if (len) {
            char id[256], buf[128];
            snprintf(id, sizeof(id), "%.*s", (int)(len < 200 ? len : 200), p);
            fprintf(stderr, "tailor: recommend: item '%s' is not in the model; ignored\n",
                    tl_cli_printable(id, buf, sizeof(buf)));
        }
        p = comma ? comma + 1 : p + len;
    }
    return n;
}

/* Every score zero: the model saw nothing to go on (e.g. history items without neighbours). */
static int no_evidence(const float *scores, int got)
{
    for (int r = 0; r < got; r++)
        if (scores[r] != 0.0f)
            return 0;
    return got > 0;
}

static int one_user(request *q, const char *user, const char *history)
{
    const tl_model *m = q->m;
    int32_t uidx = -1, nh = 0;
    int32_t *hist = NULL, *items = malloc((size_t)q->n * sizeof(*items));
    float *w = NULL, *scores = malloc((size_t)q->n * sizeof(*scores));
    int code = TL_EXIT_FAIL, got = 0;
    const char *fallback = NULL;
    tl_err rc = TL_ENOMEM;
    if (!items || !scores)
        goto fail;
    if (user) {
        uidx = tl_intern_find(&m->users, user, strlen(user));
        if (uidx < 0 || !m->hist.indptr) {
            char buf[128];
            fprintf(stderr, "tailor: recommend: user '%s' is not in the model (try --history)\n",
                    tl_cli_printable(user, buf, sizeof(buf)));
            code = TL_EXIT_DATA;
            goto out;
        }
        nh = (int32_t)(m->hist.indptr[uidx + 1] - m->hist.indptr[uidx]);
        if (!(hist = malloc(((size_t)nh + 1) * sizeof(*hist))) ||
            !(w = malloc(((size_t)nh + 1) * sizeof(*w))))
            goto fail;
        memcpy(hist, m->hist.indices + m->hist.indptr[uidx], (size_t)nh * sizeof(*hist));
        memcpy(w, m->hist.data + m->hist.indptr[uidx], (size_t)nh * sizeof(*w));
    } else {
        size_t cap = strlen(history) / 2 + 2;
        if (!(hist = malloc(cap * sizeof(*hist))) || !(w = malloc(cap * sizeof(*w))))
            goto fail;
        nh = parse_history(m, history, hist, w, (int32_t)cap);
    }
    if (nh > 0 &&
        (rc = tl_model_recommend(m, uidx, hist, w, nh, q->f, q->n, items, scores, &got)) != TL_OK)
        goto fail;
    if (nh == 0 || no_evidence(scores, got)) {
        fallback = nh == 0 ? NO_HISTORY : NO_EVIDENCE;
        if ((rc = tl_model_popular(m, hist, nh, q->f, q->n, items, scores, &got)) != TL_OK)
            goto fail;
    }
    if (got == 0) {
        fprintf(stderr, "tailor: recommend: nothing to recommend: every item the filters allow "
                        "is already in this patron's history\n");
        goto out;
    }
    code = print_one(q, user, uidx, hist, w, nh, items, scores, got, fallback);
    goto out;
fail:
    code = tl_cli_fail("recommend", rc, NULL);
out:
    free(hist);
    free(w);
    free(items);
    free(scores);
    return code;
}

/* Patron u's row of the batch as TSV lines or one JSON line. */
static int print_row(request *q, int32_t u, const int32_t *items, const float *scores,
                     const char *fallback)
{
    const tl_model *m = q->m;
    const char *user = tl_intern_str(&m->users, u);
    int got = 0;
    while (got < q->n && items[got] >= 0)
        got++;
    if (q->json)
        return print_one(q, user, u, NULL, NULL, 0, items, scores, got, fallback);
    if (!tl_tsv_field_ok("recommend", "user id", user))
        return TL_EXIT_DATA;
    for (int k = 0; k < got; k++) {
        const char *id = tl_intern_str(&m->items, items[k]);
        if (!tl_tsv_field_ok("recommend", "item id", id))
            return TL_EXIT_DATA;
        char sc[32];
        fprintf(q->out.f, "%s\t%s\t%d\t%s\n", user, id, k + 1,
                tl_float_text(scores[k], sc, sizeof(sc)));
    }
    return TL_EXIT_OK;
}

static int all_users(request *q)
{
    const tl_model *m = q->m;
    int32_t chunk = ROWS_CELLS / q->n > 4096 ? 4096 : ROWS_CELLS / q->n;
    int32_t *rows = malloc((size_t)chunk * sizeof(*rows));
    int32_t *items = malloc((size_t)chunk * (size_t)q->n * sizeof(*items));
    float *scores = malloc((size_t)chunk * (size_t)q->n * sizeof(*scores));
    int32_t *pop = malloc((size_t)q->n * sizeof(*pop));
    float *pop_s = malloc((size_t)q->n * sizeof(*pop_s));
    int code = TL_EXIT_OK, npop = 0;
    long long fallbacks = 0;
    tl_err rc = TL_ENOMEM;
    if (!rows || !items || !scores || !pop || !pop_s)
        goto fail;
    if (!m->hist.indptr) {
        fprintf(stderr, "tailor: recommend: the model file has no training histories\n");
        code = TL_EXIT_FAIL;
        goto out;
    }
    if ((rc = tl_model_popular(m, NULL, 0, q->f, q->n, pop, pop_s, &npop)) != TL_OK)
        goto fail;
    for (int k = npop; k < q->n; k++)
        pop[k] = -1;
    if (!q->json)
        fprintf(q->out.f, "user\titem\trank\tscore\n");
    for (int32_t u0 = 0; u0 < m->n_users && code == TL_EXIT_OK; u0 += chunk) {
        int32_t nr = m->n_users - u0 < chunk ? m->n_users - u0 : chunk;
        for (int32_t r = 0; r < nr; r++)
            rows[r] = u0 + r;
        if ((rc = tl_model_recommend_rows(m, &m->hist, 1, rows, nr, q->f, q->n, items, scores)) !=
            TL_OK)
            goto fail;
        for (int32_t r = 0; r < nr && code == TL_EXIT_OK && !tl_out_failed(&q->out); r++) {
            size_t at = (size_t)r * (size_t)q->n;
            int32_t u = u0 + r;
            int empty = m->hist.indptr[u + 1] == m->hist.indptr[u];
            fallbacks += empty;
            code = empty ? print_row(q, u, pop, pop_s, NO_HISTORY)
                         : print_row(q, u, items + at, scores + at, NULL);
        }
        if (tl_out_failed(&q->out))
            break; /* tl_out_close says why */
    }
    if (fallbacks && code == TL_EXIT_OK)
        fprintf(stderr,
                "tailor: recommend: %lld patron%s without a usable history got the most popular "
                "items%s\n",
                fallbacks, fallbacks == 1 ? "" : "s",
                q->json ? "" : " (score = the number of patrons who have the item)");
    goto out;
fail:
    code = tl_cli_fail("recommend", rc, NULL);
out:
    free(rows);
    free(items);
    free(scores);
    free(pop);
    free(pop_s);
    return code;
}

/* "--filter a --filter b" for messages. */
static void describe_filters(const tl_opt_list *l, char *buf, size_t len)
{
    size_t o = 0;
    buf[0] = '\0';
    for (int k = 0; k < l->n && o < len; k++)
        o += (size_t)snprintf(buf + o, len - o, "%s--filter %s", k ? " " : "", l->v[k]);
}

static int run(const tl_cli *cli, int argc, char **argv)
{
    (void)cli;
    args a;
    memset(&a, 0, sizeof(a));
    a.all = -1;
    int first, code = tl_opt_parse(&def, &a, argc, argv, &first);
    if (code != TL_OPT_RUN)
        return code;
    if (!a.model)
        return tl_opt_usage_error(&def, "needs --model FILE");
    if (!!a.user + !!a.history + (a.all >= 0) != 1)
        return tl_opt_usage_error(&def, "needs exactly one of --user, --history and --users all");
    tl_filter_spec spec;
    memset(&spec, 0, sizeof(spec));
    tl_diag diag;
    tl_diag_clear(&diag);
    for (int k = 0; k < a.filters.n; k++)
        if (tl_filter_parse(&spec, a.filters.v[k], &diag) != TL_OK)
            return tl_cli_fail("recommend: --filter", TL_EINVAL, &diag);
    tl_model *m = NULL;
    uint8_t *allow = NULL;
    tl_err rc = tl_model_load(a.model, &m, &diag);
    if (rc != TL_OK)
        return tl_cli_fail("recommend: loading the model", rc, &diag);
    code = TL_EXIT_FAIL;
    if (!(allow = malloc((size_t)m->n_items + 1))) {
        code = tl_cli_fail("recommend", TL_ENOMEM, NULL);
        goto out;
    }
    if ((rc = tl_filter_build(m, &spec, allow, &diag)) != TL_OK) {
        code = tl_cli_fail("recommend: --filter", rc, &diag);
        goto out;
    }
    int32_t allowed = 0;
    for (int32_t i = 0; i < m->n_items; i++)
        allowed += allow[i];
    if (spec.n && !allowed) {
        char buf[1024];
        describe_filters(&a.filters, buf, sizeof(buf));
        fprintf(stderr, "tailor: recommend: no item of the catalogue matches %s\n", buf);
        goto out;
    }
    tl_filter f = {.allow = allow};
    request q = {.m = m, .f = &f, .n = a.n, .json = a.json, .explain = a.all < 0};
    if ((code = tl_out_open(&q.out, a.out)) != TL_EXIT_OK)
        goto out;
    code = a.all >= 0 ? all_users(&q) : one_user(&q, a.user, a.history);
    code = tl_out_close(&q.out, code);
out:
    free(allow);
    tl_model_free(m);
    return code;
}

const tl_cmd tl_cmd_recommend = {&def, "top-N items for a patron (or all) from a model file", run};
