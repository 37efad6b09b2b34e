/* tailor item: one catalogue item as the store holds it, with its catalogue details and its
 * copies by branch (what `tailor import marc` wrote): the demo's "availability by branch". */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "tailor/store.h"

typedef struct args {
    int copies;
} args;

static const tl_opt opts[] = {
    {"copies", 0, TL_OPT_FLAG, NULL, NULL, 0, 0, TL_OPT_AT(args, copies),
     "also list every copy (its id, branch, location and status)"},
    {NULL},
};

static const tl_cmd_def def = {
    .name = "item",
    .synopsis = "[--db PATH] item ID [--copies]",
    .about = "Prints the catalogue item ID: its record, its catalogue details (series, ISBN,\n"
             "publisher... from `tailor import marc`) and its copies by branch, with how many\n"
             "are on the shelf. The HTTP API answers the same as GET /v1/items/{id}.",
    .opts = opts,
    .min_args = 1,
    .max_args = 1,
};

#define MAX_BRANCHES 64

typedef struct shown {
    int list;
    int nb, n, on_shelf;
    char branch[MAX_BRANCHES][64];
    int copies[MAX_BRANCHES], avail[MAX_BRANCHES];
} shown;

static void line(const char *label, const char *v)
{
    if (v && *v)
        printf("  %-10s %s\n", label, v);
}

static tl_err on_item(void *ctx, const tl_item_rec *r)
{
    (void)ctx;
    char what[64] = "";
    snprintf(what, sizeof(what), "%s", r->type ? r->type : "");
    if (r->year != TL_ABSENT)
        snprintf(what + strlen(what), sizeof(what) - strlen(what), ", %lld", (long long)r->year);
    printf("%.*s  %s  (%s)\n", (int)r->id_len, r->id, r->title ? r->title : "(no title)", what);
    line("by", r->authors);
    line("subjects", r->subjects);
    line("language", r->language);
    line("format", r->format);
    return TL_OK;
}

static tl_err on_details(void *ctx, const tl_item_details *d)
{
    (void)ctx;
    if (d->series) {
        char s[512];
        if (isnan(d->series_volume))
            snprintf(s, sizeof(s), "%s", d->series);
        else
            snprintf(s, sizeof(s), "%s #%g", d->series, d->series_volume);
        line("series", s);
    }
    line("edition", d->edition);
    line("publisher", d->publisher);
    line("isbn", d->isbn);
    line("issn", d->issn);
    line("extent", d->extent);
    line("work", d->work);
    line("cover", d->cover);
    if (d->summary)
        printf("  %-10s %.200s%s\n", "summary", d->summary, strlen(d->summary) > 200 ? "..." : "");
    return TL_OK;
}

static tl_err on_copy(void *ctx, const tl_holding_rec *h)
{
    shown *s = ctx;
    const char *b = h->branch ? h->branch : "(no branch)";
    int k = 0;
    while (k < s->nb && strcmp(s->branch[k], b) != 0)
        k++;
    if (k == s->nb && s->nb < MAX_BRANCHES)
        snprintf(s->branch[s->nb++], sizeof(s->branch[0]), "%s", b);
    if (k < s->nb) {
        s->copies[k]++;
        s->avail[k] += h->available != 0;
    }
    s->n++;
    s->on_shelf += h->available != 0;
    if (s->list)
        printf("    copy %-12s %-12s %-10s %s\n", h->copy, b, h->location ? h->location : "",
               h->status ? h->status : (h->available ? "available" : "out"));
    return TL_OK;
}

static int run(const tl_cli *cli, int argc, char **argv)
{
    args a;
    memset(&a, 0, sizeof(a));
    int first, code = tl_opt_parse(&def, &a, argc, argv, &first);
    if (code != TL_OPT_RUN)
        return code;
    const char *id = argv[first];
    tl_store *st = NULL;
    tl_diag d;
    tl_diag_clear(&d);
    tl_err rc = tl_cli_store_open(cli, cli->db_path, TL_STORE_READONLY, &st, &d);
    if (rc != TL_OK)
        return tl_cli_fail("cannot open the store", rc, &d);
    int found = 0;
    shown s;
    memset(&s, 0, sizeof(s));
    s.list = a.copies;
    rc = tl_store_get_item(st, id, strlen(id), on_item, NULL, &found, &d);
    if (rc == TL_OK && !found) {
        tl_diag_set(&d, NULL, 0, "item", "no item '%.80s' in the store", id);
        rc = TL_ENOTFOUND;
    }
    if (rc == TL_OK)
        rc = tl_store_item_details(st, id, strlen(id), on_details, NULL, &found, &d);
    if (rc == TL_OK && s.list)
        printf("  each copy\n");
    if (rc == TL_OK)
        rc = tl_store_item_holdings(st, id, strlen(id), on_copy, &s, &d);
    if (rc == TL_OK && s.n) {
        printf("  %-10s %d, %d on the shelf\n", "copies", s.n, s.on_shelf);
        for (int k = 0; k < s.nb; k++)
            printf("    %-12s %d on the shelf of %d\n", s.branch[k], s.avail[k], s.copies[k]);
    } else if (rc == TL_OK) {
        printf("  %-10s none in the catalogue\n", "copies");
    }
    tl_store_free(st);
    return rc == TL_OK ? TL_EXIT_OK : tl_cli_fail("item", rc, &d);
}

const tl_cmd tl_cmd_item = {&def, "one catalogue item with its details and copies by branch", run};
