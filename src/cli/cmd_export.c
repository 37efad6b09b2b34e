/* tailor export events: the store's interactions as the evaluation protocol's interactions.tsv,
 * so that a library can split and evaluate on its own data (docs/PROTOCOL.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/data.h"
#include "tailor/store.h"

typedef struct args {
    const char *out, *weights;
} args;

static const tl_opt opts[] = {
    {"out", 'o', TL_OPT_STR, "FILE", NULL, 0, 0, TL_OPT_AT(args, out),
     "write there (replaced only once complete) instead of standard output"},
    {"weights", 0, TL_OPT_STR, "SPEC", NULL, 0, 0, TL_OPT_AT(args, weights),
     "per-event-type weights over the store's own, as for tailor train"},
    {NULL},
};

static const tl_cmd_def def = {
    .name = "export",
    .synopsis = "[--db PATH] export events [--out FILE] [--weights SPEC]",
    .about =
        "Writes what training on the store sees as docs/PROTOCOL.md's interactions.tsv: the\n"
        "header `user item value timestamp`, then one line per patron and item, where value is\n"
        "the weight training gives the pair (the sum of its events' weights under the store's\n"
        "event weights, see tailor stats --weights; the largest with merge=max) and timestamp\n"
        "its latest event (Unix seconds; empty when unknown). Events whose weight is 0 (returns,\n"
        "skips) and all events of patrons who turned personalization off are left out, as\n"
        "training leaves them out. Evaluate on your own store:\n\n"
        "  tailor export events --out interactions.tsv\n"
        "  tailor split interactions.tsv split --mode temporal --implicit\n"
        "  tailor eval --train split/train.tsv --test split/test.tsv --model ials",
    .opts = opts,
    .min_args = 1,
    .max_args = 1,
};

static int write_pairs(const tl_data *d, tl_out *out)
{
    const tl_csr *ui = &d->ui;
    char value[32];
    fprintf(out->f, "user\titem\tvalue\ttimestamp\n");
    for (int32_t u = 0; u < ui->nrows && !tl_out_failed(out); u++) {
        const char *user = tl_intern_str(&d->users, u);
        if (ui->indptr[u + 1] > ui->indptr[u] && !tl_tsv_field_ok("export", "user id", user))
            return TL_EXIT_DATA;
        for (int64_t p = ui->indptr[u]; p < ui->indptr[u + 1]; p++) {
            const char *item = tl_intern_str(&d->items, ui->indices[p]);
            if (!tl_tsv_field_ok("export", "item id", item))
                return TL_EXIT_DATA;
            fprintf(out->f, "%s\t%s\t%s\t", user, item,
                    tl_float_text(ui->data[p], value, sizeof(value)));
            if (ui->ts && ui->ts[p] > 0)
                fprintf(out->f, "%lld", (long long)ui->ts[p]);
            fputc('\n', out->f);
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
    if (strcmp(argv[first], "events") != 0)
        return tl_opt_usage_error(&def, "can export events, not '%s'", argv[first]);
    tl_store *st = NULL;
    tl_event_weights w;
    tl_data d;
    tl_data_init(&d);
    tl_diag diag;
    tl_diag_clear(&diag);
    tl_out out = {0};
    tl_err rc = tl_cli_store_open(cli, cli->db_path, TL_STORE_READONLY, &st, &diag);
    if (rc != TL_OK)
        return tl_cli_fail("cannot open the store", rc, &diag);
    if ((rc = tl_store_event_weights(st, &w, &diag)) != TL_OK ||
        (a.weights && (rc = tl_event_weights_parse(&w, a.weights, &diag)) != TL_OK) ||
        (rc = tl_store_load_data(st, &w, &d, &diag)) != TL_OK) {
        code = tl_cli_fail("export", rc, &diag);
        goto out;
    }
    if ((code = tl_out_open(&out, a.out)) != TL_EXIT_OK)
        goto out;
    code = tl_out_close(&out, write_pairs(&d, &out));
out:
    tl_store_free(st);
    tl_data_release(&d);
    return code;
}

const tl_cmd tl_cmd_export = {
    &def, "write the store's events as interactions.tsv (for split, eval)", run};
