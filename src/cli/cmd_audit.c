/* tailor audit: what a model recommends, audited for a librarian: the top N of every patron
 * of the model (as `recommend --users all` makes them) measured against the loans it was
 * trained on (src/eval/audit.h; docs/AUDIT.md), as a text table, one JSON object, and/or a
 * self-contained HTML page. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/audit_html.h"
#include "cli/cli.h"
#include "cli/rec_context.h"
#include "cli/width.h"
#include "eval/audit.h"
#include "tailor/model.h"
#include "tailor/service.h"

#define SUBJECT_COLS 32 /* text output: subject names cut or padded to this many columns */

typedef struct args {
    const char *model, *html, *out;
    int n, json;
    tl_cli_rerank rerank; /* audit the lists as re-ranked (as recommend's options) */
} args;

static const tl_opt opts[] = {
    {"model", 'm', TL_OPT_STR, "FILE", NULL, 0, 0, TL_OPT_AT(args, model),
     "the model file (tailor train --out)"},
    {"n", 'n', TL_OPT_INT, "N", "10", 1, 1000, TL_OPT_AT(args, n),
     "how many items each patron's list has"},
    {"json", 0, TL_OPT_FLAG, NULL, NULL, 0, 0, TL_OPT_AT(args, json),
     "one JSON object instead of the text table (docs/AUDIT.md has its fields)"},
    {"html", 0, TL_OPT_STR, "FILE", NULL, 0, 0, TL_OPT_AT(args, html),
     "also write the report as a self-contained HTML page (charts as inline\n"
     "SVG, no script, nothing fetched)"},
    TL_CLI_RERANK_OPTS(args, rerank){
        "out", 'o', TL_OPT_STR, "FILE", NULL, 0, 0, TL_OPT_AT(args, out),
        "write the text or JSON there instead of standard output ('-' = standard\n"
        "output)"},
    {NULL},
};

static const tl_cmd_def def = {
    .name = "audit",
    .synopsis = "audit --model FILE [--n N] [--diversify L] [--calibrate L] [--max-per-author N]\n"
                "             [--json] [--html FILE] [--out FILE]",
    .about =
        "Recommends the top N for every patron of the model, from the histories in the model\n"
        "file, and measures the lists against those loans: catalogue coverage, the Gini\n"
        "coefficient of exposure, popularity bias (mean popularity percentile), the long-tail\n"
        "share, novelty, intra-list diversity by subject and the exposure of the top 15\n"
        "subjects against their share of the catalogue and of the loans. docs/AUDIT.md\n"
        "defines each measure.",
    .opts = opts,
};

/* The lists of every patron, as item indices of the model. */
typedef struct lists_ctx {
    const tl_model *m;
    int n;
    tl_rerank rerank;
    int32_t *lists; /* n_users x n, -1 padded */
    int64_t fallbacks;
} lists_ctx;

static tl_err take_row(void *ctx, const char *user, const char *const *items, const float *scores,
                       int n, const char *fallback)
{
    lists_ctx *c = ctx;
    (void)scores;
    int32_t u = tl_model_user_index(c->m, user);
    if (u < 0)
        return TL_ECORRUPT; /* the service and the audit read the same file */
    c->fallbacks += fallback != NULL;
    for (int k = 0; k < n && k < c->n; k++)
        c->lists[(size_t)u * (size_t)c->n + (size_t)k] = tl_model_item_index(c->m, items[k]);
    return TL_OK;
}

static tl_err make_lists(const char *path, const tl_model *m, lists_ctx *c, tl_diag *d)
{
    tl_model_facts facts;
    tl_model_facts_of(m, &facts);
    size_t cells = (size_t)facts.n_users * (size_t)c->n;
    if (!(c->lists = malloc((cells ? cells : 1) * sizeof(*c->lists))))
        return TL_ENOMEM;
    for (size_t k = 0; k < cells; k++)
        c->lists[k] = -1;
    tl_service_opts so = {.model = path};
    tl_service *svc = NULL;
    tl_err rc = tl_service_open(&so, &svc, d);
    if (rc == TL_OK)
        rc = tl_service_recommend_all(svc, c->n, NULL, 0, &c->rerank, take_row, c, d);
    tl_service_close(svc);
    return rc;
}

static json_t *pair(double recs, double loans, const char *what)
{
    return json_pack("{s:o, s:o}", "recommendations", tl_json_num(recs, what), "loans",
                     tl_json_num(loans, what));
}

static json_t *lorenz_json(const double *l)
{
    json_t *a = json_array();
    for (int k = 0; a && k < TL_AUDIT_LORENZ_POINTS; k++)
        json_array_append_new(a, tl_json_num(l[k], "a Lorenz point"));
    return a;
}

static json_t *report_json(const tl_audit_report *r, const tl_audit_meta *meta)
{
    json_t *subjects = json_array();
    for (int k = 0; subjects && k < r->n_top; k++) {
        const tl_audit_subject *s = &r->top[k];
        json_array_append_new(
            subjects,
            json_pack("{s:s, s:I, s:o, s:I, s:o, s:I, s:o}", "subject", s->name, "recommendations",
                      (json_int_t)s->recs, "recommendation_share",
                      tl_json_num(s->rec_share, "a share"), "catalogue_items", (json_int_t)s->items,
                      "catalogue_share", tl_json_num(s->item_share, "a share"), "loans",
                      (json_int_t)s->loans, "loan_share", tl_json_num(s->loan_share, "a share")));
    }
    json_t *ild = r->has_subjects && r->ild_lists ? tl_json_num(r->ild, "diversity") : json_null();
    return json_pack(
        "{s:s, s:s, s:i, s:i, s:i, s:I, s:I, s:I, s:i,"
        " s:{s:i, s:o}, s:{s:o, s:o, s:o, s:o}, s:o,"
        " s:{s:i, s:o, s:o, s:o, s:o}, s:o,"
        " s:{s:o, s:i, s:i, s:I, s:i}, s:o}",
        "model", meta->model, "kind", meta->kind, "n", r->n, "patrons", (int)r->n_lists, "items",
        (int)r->n_items, "recommendations", (json_int_t)r->n_recs, "loans", (json_int_t)r->n_loans,
        "popular_fallbacks", (json_int_t)meta->fallbacks, "empty_lists", (int)r->empty_lists,
        /* coverage */
        "coverage", "items_recommended", (int)r->items_recommended, "share",
        tl_json_num(r->coverage, "coverage"),
        /* gini */
        "gini", "recommendations", tl_json_num(r->gini_recs, "gini"), "loans",
        tl_json_num(r->gini_loans, "gini"), "lorenz_recommendations", lorenz_json(r->lorenz_recs),
        "lorenz_loans", lorenz_json(r->lorenz_loans), "popularity_percentile",
        pair(r->pop_pct_recs, r->pop_pct_loans, "a percentile"),
        /* long tail */
        "long_tail", "head_items", (int)r->head_items, "head_loan_share",
        tl_json_num(r->head_loan_share, "a share"), "head_share_wanted",
        tl_json_num(TL_AUDIT_HEAD_SHARE, "a share"), "recommendations",
        tl_json_num(r->tail_recs, "a share"), "loans", tl_json_num(r->tail_loans, "a share"),
        "novelty_bits", pair(r->novelty_recs, r->novelty_loans, "novelty"),
        /* diversity */
        "intra_list_diversity", "mean", ild, "lists", (int)r->ild_lists, "lists_skipped",
        (int)r->ild_lists_skipped, "recommendations_without_subjects",
        (json_int_t)r->recs_without_subjects, "catalogue_subjects", (int)r->n_subjects, "subjects",
        subjects);
}

static void print_text(FILE *f, const tl_audit_report *r, const tl_audit_meta *meta)
{
    fprintf(f, "audit of %s (%s): top %d for %d patrons, %lld recommendations\n", meta->model,
            meta->kind, r->n, (int)r->n_lists, (long long)r->n_recs);
    fprintf(f, "against %lld loans by %d patrons, over %d catalogue items\n", (long long)r->n_loans,
            (int)r->n_patrons, (int)r->n_items);
    if (meta->fallbacks)
        fprintf(f, "(%lld patrons without a usable history got the most popular items)\n",
                (long long)meta->fallbacks);
    fprintf(f, "\n  %-34s %15s %15s\n", "measure", "recommendations", "loans");
    fprintf(f, "  %-34s %14.1f%% %15s   %d items\n", "catalogue coverage", 100 * r->coverage, "",
            (int)r->items_recommended);
    fprintf(f, "  %-34s %15.3f %15.3f\n", "Gini of exposure", r->gini_recs, r->gini_loans);
    fprintf(f, "  %-34s %15.1f %15.1f\n", "mean popularity percentile", r->pop_pct_recs,
            r->pop_pct_loans);
    fprintf(f, "  %-34s %14.1f%% %14.1f%%   head: %d items, %.1f%% of loans\n", "long-tail share",
            100 * r->tail_recs, 100 * r->tail_loans, (int)r->head_items, 100 * r->head_loan_share);
    fprintf(f, "  %-34s %15.2f %15.2f\n", "novelty (bits)", r->novelty_recs, r->novelty_loans);
    if (!r->has_subjects) {
        fprintf(f,
                "  %-34s %15s\n\nthe catalogue has no subjects: no diversity or subject "
                "exposure\n",
                "intra-list diversity", "-");
        return;
    }
    if (r->ild_lists)
        fprintf(f, "  %-34s %15.3f %15s   %d lists\n", "intra-list diversity", r->ild, "",
                (int)r->ild_lists);
    else
        fprintf(f, "  %-34s %15s\n", "intra-list diversity", "-");
    fprintf(f,
            "  (skipped: %d lists with fewer than 2 items with subjects, %lld recommendations "
            "without subjects)\n",
            (int)r->ild_lists_skipped, (long long)r->recs_without_subjects);
    fprintf(f, "\nsubject exposure (the %d most recommended of %d subjects; shares of all)\n",
            r->n_top, (int)r->n_subjects);
    char buf[4 * SUBJECT_COLS + 16];
    fprintf(f, "  %s %15s %15s %15s\n", tl_width_fit("subject", SUBJECT_COLS, 1, buf, sizeof(buf)),
            "recommendations", "catalogue", "loans");
    for (int k = 0; k < r->n_top; k++) {
        const tl_audit_subject *s = &r->top[k];
        fprintf(f, "  %s %14.1f%% %14.1f%% %14.1f%%\n",
                tl_width_fit(s->name, SUBJECT_COLS, 1, buf, sizeof(buf)), 100 * s->rec_share,
                100 * s->item_share, 100 * s->loan_share);
    }
}

static int run(const tl_cli *cli, int argc, char **argv)
{
    (void)cli;
    args a;
    memset(&a, 0, sizeof(a));
    tl_cli_rerank_init(&a.rerank);
    int first, code = tl_opt_parse(&def, &a, argc, argv, &first);
    if (code != TL_OPT_RUN)
        return code;
    if (!a.model)
        return tl_opt_usage_error(&def, "needs --model FILE");
    if (a.html && (!strcmp(a.html, "-") || (a.out && !strcmp(a.html, a.out))))
        return tl_opt_usage_error(&def, "--html needs a file of its own");
    tl_diag d;
    tl_diag_clear(&d);
    tl_model *m = NULL;
    tl_err rc = tl_model_load(a.model, &m, &d);
    if (rc != TL_OK)
        return tl_cli_fail("audit: loading the model", rc, &d);
    tl_out out, html;
    memset(&html, 0, sizeof(html));
    lists_ctx c = {.m = m, .n = a.n, .rerank = tl_cli_rerank_get(&a.rerank)};
    tl_audit_report rep;
    memset(&rep, 0, sizeof(rep));
    /* the outputs first: an unwritable path fails before the work */
    if ((code = tl_out_open(&out, a.out)) != TL_EXIT_OK)
        goto done;
    if (a.html && (code = tl_out_open(&html, a.html)) != TL_EXIT_OK) {
        tl_out_close(&out, code);
        goto done;
    }
    tl_model_facts facts;
    tl_model_facts_of(m, &facts);
    if ((rc = make_lists(a.model, m, &c, &d)) != TL_OK ||
        (rc = tl_audit_lists(m, c.lists, facts.n_users, a.n, &rep, &d)) != TL_OK) {
        /* the lists come from the model, not the command line: never a usage error */
        code = rc == TL_EINVAL ? TL_EXIT_FAIL : tl_cli_exit_code(rc, &d);
        tl_cli_error("audit", rc, &d);
    } else {
        tl_audit_meta meta = {.model = a.model, .kind = facts.name, .fallbacks = c.fallbacks};
        if (a.html)
            tl_audit_html(html.f, &rep, &meta); /* write errors: tl_out_close says */
        if (a.json) {
            json_t *j = report_json(&rep, &meta);
            if (j) /* the re-rankers the lists went through (none: the model's own order) */
                json_object_set_new(
                    j, "rerank",
                    json_pack("{s:o, s:o, s:i}", "diversify",
                              a.rerank.diversify >= 0 ? json_real(a.rerank.diversify) : json_null(),
                              "calibrate",
                              a.rerank.calibrate >= 0 ? json_real(a.rerank.calibrate) : json_null(),
                              "max_per_author", a.rerank.max_per_author));
            code = tl_json_emit(&out, j, 2, 15);
        } else
            print_text(out.f, &rep, &meta);
    }
    if (a.html)
        code = tl_out_close(&html, code);
    code = tl_out_close(&out, code);
done:
    tl_audit_release(&rep);
    free(c.lists);
    tl_model_free(m);
    return code;
}

const tl_cmd tl_cmd_audit = {
    &def, "coverage, exposure, popularity bias and diversity of a model's recommendations", run};
