/* tailor train: fit a model on interactions (a TSV file, or the store) and write a model file. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/data_source.h"
#include "core/model.h"
#include "eval/autotune.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: tailor train --model NAME [--set key=value]... --out FILE\n"
            "                    [--data interactions.tsv [--min-value X] [--value-weights]]\n"
            "                    [--items items.tsv]\n\n"
            "Trains NAME on the interactions of --data (a TSV with user and item columns, .gz\n"
            "too), or on the events of the store (--db) when --data is absent, and writes a model\n"
            "file that `tailor recommend` maps. --min-value keeps rows whose value is at least X\n"
            "(e.g. 4 for 1-5 ratings); --value-weights uses the value as the weight.\n\n"
            "Models and their parameters (--set key=value):\n");
    for (const tl_model_ops *const *o = tl_model_all_ops(); *o; o++) {
        fprintf(f, "\n%s: %s\n", (*o)->name, (*o)->summary);
        tl_params_print_help((*o)->params, (*o)->n_params, f);
    }
}

int cmd_train(const tl_cli *cli, int argc, char **argv)
{
    const char *name = NULL, *out = NULL;
    const char **sets = calloc((size_t)argc, sizeof(*sets));
    int nsets = 0, code = TL_EXIT_USAGE;
    tl_data_source src;
    tl_data_source_init(&src);
    tl_model *m = NULL;
    tl_data d;
    tl_data_init(&d);
    tl_diag diag;
    tl_diag_clear(&diag);
    if (!sets)
        return TL_EXIT_FAIL;
    if (tl_cli_wants_help(argc, argv)) {
        usage(stdout);
        code = TL_EXIT_OK;
        goto out;
    }
    for (int i = 1; i < argc; i++) {
        int used = tl_data_source_arg(&src, argc, argv, &i);
        if (used < 0)
            goto bad;
        if (used)
            continue;
        if (strcmp(argv[i], "--model") == 0 && i + 1 < argc)
            name = argv[++i];
        else if (strcmp(argv[i], "--set") == 0 && i + 1 < argc)
            sets[nsets++] = argv[++i];
        else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
            out = argv[++i];
        else
            goto bad;
    }
    if (!name || !out)
        goto bad;
    tl_err rc = tl_model_new(name, &m);
    if (rc != TL_OK) {
        fprintf(stderr, "tailor: train: unknown model '%s' (see tailor train --help)\n", name);
        goto out;
    }
    for (int i = 0; i < nsets; i++) {
        if ((rc = tl_model_set(m, sets[i], &diag)) != TL_OK) {
            tl_cli_error("train: --set", rc, &diag);
            goto out;
        }
    }
    code = TL_EXIT_FAIL;
    if ((rc = tl_data_source_load(&src, cli, &d, &diag)) != TL_OK) {
        tl_cli_error("train: loading data", rc, &diag);
        code = rc == TL_EPARSE ? TL_EXIT_DATA : TL_EXIT_FAIL;
        goto out;
    }
    tl_fit_hooks hooks = {.tune = tl_autotune_hook};
    if ((rc = tl_model_fit(m, &d, &hooks, &diag)) != TL_OK) {
        tl_cli_error("train", rc, &diag);
        goto out;
    }
    if ((rc = tl_model_save(m, out, &diag)) != TL_OK) {
        tl_cli_error("train: writing the model", rc, &diag);
        goto out;
    }
    char *params = NULL;
    if (tl_params_to_text(&m->params, &params) == TL_OK) {
        for (char *p = params; (p = strchr(p, '\n'));)
            *p = ' ';
    }
    fprintf(stderr, "trained %s on %d users x %d items (%lld interactions) in %.2f s -> %s\n  %s\n",
            name, d.users.count, d.items.count, (long long)d.ui.nnz, m->fit_seconds, out,
            params ? params : "");
    if (m->tuned[0])
        fprintf(stderr, "  autotune: %s\n", m->tuned);
    free(params);
    code = TL_EXIT_OK;
    goto out;
bad:
    usage(stderr);
out:
    tl_model_free(m);
    tl_data_release(&d);
    free(sets);
    return code;
}
