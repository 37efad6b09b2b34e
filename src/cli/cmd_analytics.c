/* tailor analytics: the collection report for librarians (tl_service_analytics, docs/ANALYTICS.md)
 * as text (default), the service's JSON object (--json) or CSV (--csv: one table per section
 * after another, each with its header and a first column "section"). Every table of the report
 * is {"columns", "rows"}, so the printers here know no section. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "tailor/service.h"

typedef struct args {
    int json, csv, months, min_group, limit, new_days, few, section;
    const char *since, *branch, *out;
} args;

static const tl_opt opts[] = {
    {"json", 0, TL_OPT_FLAG, NULL, NULL, 0, 0, TL_OPT_AT(args, json),
     "one JSON object (the same as GET /v1/analytics)"},
    {"csv", 0, TL_OPT_FLAG, NULL, NULL, 0, 0, TL_OPT_AT(args, csv),
     "CSV: one table per section, each with its header line and a first\n"
     "column \"section\", separated by an empty line"},
    {"section", 0, TL_OPT_CHOICE, "all|demand|holds|idle|searches|new", "all", 0, 0,
     TL_OPT_AT(args, section), "one section of the report"},
    {"months", 0, TL_OPT_INT, "N", "12", 1, TL_ANALYTICS_MAX_MONTHS, TL_OPT_AT(args, months),
     "the period: the N months up to the store's newest event"},
    {"since", 0, TL_OPT_STR, "TIME", NULL, 0, 0, TL_OPT_AT(args, since),
     "the period starts at TIME instead (YYYY-MM-DD, ISO 8601 or Unix seconds)"},
    {"branch", 0, TL_OPT_STR, "B", NULL, 0, 0, TL_OPT_AT(args, branch),
     "only events made at branch B and copies held there"},
    {"min-group", 0, TL_OPT_INT, "K", "5", 1, 1000, TL_OPT_AT(args, min_group),
     "suppress any group counted over 1 to K-1 distinct patrons"},
    {"limit", 0, TL_OPT_INT, "N", "20", 1, 10000, TL_OPT_AT(args, limit),
     "rows of the lists (hold queues, idle items, searches)"},
    {"new-days", 0, TL_OPT_INT, "N", "90", 1, 3650, TL_OPT_AT(args, new_days),
     "new arrivals: the items added in the last N days"},
    {"few", 0, TL_OPT_INT, "N", "2", 0, 1000000, TL_OPT_AT(args, few),
     "a search that found at most N results found few (0: none)"},
    {"out", 'o', TL_OPT_STR, "FILE", NULL, 0, 0, TL_OPT_AT(args, out),
     "write to FILE instead of standard output"},
    {NULL},
};

static const tl_cmd_def def = {
    .name = "analytics",
    .synopsis = "[--db PATH] analytics [--json|--csv] [--section NAME] [--months N]\n"
                "       [--since TIME] [--branch B] [--min-group K] [--limit N] [--new-days N]\n"
                "       [--few N] [--out FILE]",
    .about = "The collection report for librarians: demand by subject against the copies held\n"
             "(loans and holds per copy, flagged high or low), hold queues, items with no loan\n"
             "in the period, searches that found few or no results, and the uptake of new\n"
             "arrivals. The period ends at the store's newest event. A group counted over\n"
             "fewer than K distinct patrons is shown as suppressed, without its counts (a\n"
             "query so counted is not shown). docs/ANALYTICS.md defines every number.",
    .opts = opts,
};

/* ---- printing a table ----------------------------------------------------------------------- */

/* v as text into buf: strings as they are, numbers as JSON writes them, null "" */
static const char *cell(const json_t *v, char *buf, size_t len)
{
    if (!v || json_is_null(v))
        return "";
    if (json_is_string(v))
        return json_string_value(v);
    if (json_is_true(v))
        return "true";
    if (json_is_false(v))
        return "false";
    if (json_is_integer(v))
        snprintf(buf, len, "%lld", (long long)json_integer_value(v));
    else
        snprintf(buf, len, "%.10g", json_real_value(v));
    return buf;
}

static void csv_field(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static void csv_table(FILE *f, const char *name, const json_t *tab, int *first)
{
    const json_t *cols = json_object_get(tab, "columns"), *rows = json_object_get(tab, "rows");
    size_t i, j;
    json_t *c, *row;
    char buf[64];
    if (!*first)
        fputc('\n', f);
    *first = 0;
    fputs("section", f);
    json_array_foreach(cols, i, c)
    {
        fputc(',', f);
        csv_field(f, json_string_value(c));
    }
    fputs(",suppressed\n", f);
    json_array_foreach(rows, j, row)
    {
        csv_field(f, name);
        json_array_foreach(cols, i, c)
        {
            fputc(',', f);
            csv_field(f, cell(json_object_get(row, json_string_value(c)), buf, sizeof(buf)));
        }
        fputc(',', f);
        fputs(json_is_true(json_object_get(row, "suppressed")) ? "true" : "false", f);
        fputc('\n', f);
    }
}

/* Aligned columns; control characters in catalogue text are shown escaped. */
static void text_table(FILE *f, const json_t *tab)
{
    const json_t *cols = json_object_get(tab, "columns"), *rows = json_object_get(tab, "rows");
    size_t nc = json_array_size(cols), nr = json_array_size(rows);
    int *w = calloc(nc ? nc : 1, sizeof(*w));
    char buf[64], safe[256];
    if (!w)
        return;
    for (size_t i = 0; i < nc; i++) {
        const char *name = json_string_value(json_array_get(cols, i));
        w[i] = (int)strlen(name);
        for (size_t j = 0; j < nr; j++) {
            const json_t *v = json_object_get(json_array_get(rows, j), name);
            int n = (int)strlen(tl_cli_printable(cell(v, buf, sizeof(buf)), safe, sizeof(safe)));
            if (n > w[i])
                w[i] = n > 40 ? 40 : n;
        }
    }
    fputs(" ", f);
    for (size_t i = 0; i < nc; i++)
        fprintf(f, " %-*s", i + 1 < nc ? w[i] : 0, json_string_value(json_array_get(cols, i)));
    fputc('\n', f);
    for (size_t j = 0; j < nr; j++) {
        const json_t *row = json_array_get(rows, j);
        int supp = json_is_true(json_object_get(row, "suppressed"));
        fputs(" ", f);
        for (size_t i = 0; i < nc; i++) {
            const json_t *v = json_object_get(row, json_string_value(json_array_get(cols, i)));
            const char *s = tl_cli_printable(cell(v, buf, sizeof(buf)), safe, sizeof(safe));
            if (supp && json_is_null(v))
                s = i + 1 == nc ? "(suppressed)" : "-";
            else if (!*s)
                s = "-";
            fprintf(f, " %-*.*s", i + 1 < nc ? w[i] : 0, 40, s);
        }
        fputc('\n', f);
    }
    if (nr == 0)
        fputs("  (none)\n", f);
    free(w);
}

/* ---- the sections --------------------------------------------------------------------------- */

static const char *const titles[][2] = {
    {"demand", "Demand by subject vs holdings"},
    {"holds", "Hold queues"},
    {"idle", "Idle items"},
    {"searches", "Searches with few or no results"},
    {"new", "New-arrival uptake"},
};

static const char *title_of(const char *name)
{
    for (size_t i = 0; i < sizeof(titles) / sizeof(titles[0]); i++)
        if (strcmp(titles[i][0], name) == 0)
            return titles[i][1];
    return name;
}

/* The scalars of a section (suppressed, items, few...) on one line. */
static void text_scalars(FILE *f, const json_t *sec)
{
    const char *k;
    json_t *v;
    char buf[64];
    int any = 0;
    json_object_foreach((json_t *)sec, k, v)
    {
        if (json_is_object(v) || json_is_array(v) || strcmp(k, "definition") == 0)
            continue;
        fprintf(f, "%s%s %s", any ? ", " : "  ", k,
                json_is_null(v) ? "-" : cell(v, buf, sizeof(buf)));
        any = 1;
    }
    if (any)
        fputc('\n', f);
}

/* s wrapped at about 94 columns, each line indented by two spaces */
static void wrapped(FILE *f, const char *s)
{
    while (*s) {
        size_t n = strlen(s), cut = n;
        if (n > 94) {
            cut = 94;
            while (cut > 0 && s[cut] != ' ')
                cut--;
            if (cut == 0)
                cut = n;
        }
        fprintf(f, "  %.*s\n", (int)cut, s);
        s += cut;
        while (*s == ' ')
            s++;
    }
}

static void print_text(FILE *f, const json_t *root)
{
    const json_t *p = json_object_get(root, "period");
    const char *branch = json_string_value(json_object_get(root, "branch"));
    fprintf(f, "collection analytics, %s to %s%s%s, groups of fewer than %lld patrons suppressed\n",
            json_string_value(json_object_get(p, "from")),
            json_string_value(json_object_get(p, "to")), branch ? ", branch " : "",
            branch ? branch : "",
            (long long)json_integer_value(json_object_get(root, "min_group")));
    const char *name;
    json_t *sec;
    json_object_foreach(json_object_get(root, "sections"), name, sec)
    {
        fprintf(f, "\n== %s ==\n", title_of(name));
        wrapped(f, json_string_value(json_object_get(sec, "definition")));
        text_scalars(f, sec);
        if (json_object_get(sec, "columns")) {
            text_table(f, sec);
            continue;
        }
        const char *sub;
        json_t *t;
        json_object_foreach(sec, sub, t)
        {
            if (!json_object_get(t, "columns"))
                continue;
            fprintf(f, " %s:\n", sub);
            wrapped(f, json_string_value(json_object_get(t, "definition")));
            text_table(f, t);
        }
    }
}

static void print_csv(FILE *f, const json_t *root)
{
    const char *name, *sub;
    json_t *sec, *t;
    int first = 1;
    char full[128];
    json_object_foreach(json_object_get(root, "sections"), name, sec)
    {
        if (json_object_get(sec, "columns")) {
            csv_table(f, name, sec, &first);
            continue;
        }
        json_object_foreach(sec, sub, t)
        {
            if (!json_object_get(t, "columns"))
                continue;
            snprintf(full, sizeof(full), "%s_%s", name, sub);
            csv_table(f, full, t, &first);
        }
    }
}

static int run(const tl_cli *cli, int argc, char **argv)
{
    args a;
    memset(&a, 0, sizeof(a));
    int first, code = tl_opt_parse(&def, &a, argc, argv, &first);
    if (code != TL_OPT_RUN)
        return code;
    if (a.json && a.csv)
        return tl_opt_usage_error(&def, "--json and --csv exclude each other");
    tl_analytics_opts o;
    tl_analytics_opts_init(&o);
    o.section = a.section > 0 ? tl_analytics_sections[a.section - 1] : NULL;
    o.months = a.months;
    o.branch = a.branch;
    o.min_group = a.min_group;
    o.limit = a.limit;
    o.new_days = a.new_days;
    o.few = a.few;
    if (a.since && (tl_parse_time(a.since, strlen(a.since), &o.since) != 0 || o.since <= 0))
        return tl_opt_usage_error(&def,
                                  "--since '%s' is not a time after 1970 (YYYY-MM-DD, ISO 8601 or "
                                  "Unix seconds)",
                                  a.since);
    tl_diag d;
    tl_diag_clear(&d);
    /* k is the command's: the service's own default must not raise it */
    tl_service_opts so = {.db = cli->db_path, .min_group = a.min_group};
    tl_service *svc = NULL;
    tl_err rc = tl_cli_service_open(cli, &so, &svc, &d);
    if (rc != TL_OK)
        return tl_cli_fail("cannot open the store", rc, &d);
    char *text = NULL;
    rc = tl_service_analytics(svc, &o, &text, &d);
    tl_service_close(svc);
    if (rc != TL_OK)
        return tl_cli_fail("analytics", rc, &d);
    json_t *root = json_loads(text, 0, NULL);
    free(text);
    if (!root)
        return tl_cli_fail("analytics", TL_ENOMEM, NULL);
    tl_out out;
    if ((code = tl_out_open(&out, a.out)) != TL_EXIT_OK) {
        json_decref(root);
        return code;
    }
    if (a.json)
        return tl_out_close(&out, tl_json_emit(&out, root, 2, 10));
    if (a.csv)
        print_csv(out.f, root);
    else
        print_text(out.f, root);
    json_decref(root);
    return tl_out_close(&out, TL_EXIT_OK);
}

const tl_cmd tl_cmd_analytics = {
    &def, "the collection report: demand vs holdings, holds, idle items, searches, new arrivals",
    run};
