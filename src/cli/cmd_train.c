/* tailor train: fit a model on interactions (a TSV file, or the store) and write a model file. */
#include <float.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/data_source.h"
#include "cli/interrupt.h"
#include "cli/progress.h"
#include "core/model.h"
#include "core/models/ials.h"
#include "dist/dist.h"
#include "eval/autotune.h"

typedef struct args {
    const char *model, *out;
    tl_opt_list sets;
    tl_data_source src;
    int quiet, distributed;
} args;

static const tl_opt opts[] = {
    {"model", 'm', TL_OPT_STR, "NAME", NULL, 0, 0, TL_OPT_AT(args, model),
     "the model to train (see the list below)"},
    {"set", 0, TL_OPT_LIST, "KEY=VALUE", NULL, 0, 0, TL_OPT_AT(args, sets),
     "a parameter of the model (see below); autotune=0 keeps the plain\n"
     "defaults instead of choosing unset parameters on a validation split"},
    {"out", 'o', TL_OPT_STR, "FILE", NULL, 0, 0, TL_OPT_AT(args, out),
     "the model file to write (replaced only once the new one is complete)"},
    {"data", 0, TL_OPT_STR, "FILE", NULL, 0, 0, TL_OPT_AT(args, src.data),
     "interactions: a TSV with user and item columns (value, timestamp\n"
     "optional; .gz too); without it, the events of the store (--db)"},
    {"items", 0, TL_OPT_STR, "FILE", NULL, 0, 0, TL_OPT_AT(args, src.items),
     "with --data: the catalogue (item title creators year subjects),\n"
     "which content models and recommend's --filter need"},
    {"min-value", 0, TL_OPT_NUM, "X", NULL, -DBL_MAX, DBL_MAX, TL_OPT_AT(args, src.min_value),
     "with --data: keep rows whose value is at least X (e.g. 4 for\n"
     "1-5 ratings; default: keep all)"},
    {"value-weights", 0, TL_OPT_FLAG, NULL, NULL, 0, 0, TL_OPT_AT(args, src.value_weights),
     "with --data: the value is the weight (repeated pairs add up)"},
    {"weights", 0, TL_OPT_STR, "SPEC", NULL, 0, 0, TL_OPT_AT(args, src.weights),
     "from the store: per-event-type weights over the store's own\n"
     "(tailor stats --weights shows them), e.g. \"loan=1,view=0.2,hold=0.8\";\n"
     "also default=, rate.min=, rate.scale=, dwell.cap=, merge=sum|max"},
    {"quiet", 'q', TL_OPT_FLAG, NULL, NULL, 0, 0, TL_OPT_AT(args, quiet),
     "no progress and no summary on stderr"},
    {"distributed", 0, TL_OPT_FLAG, NULL, NULL, 0, 0, TL_OPT_AT(args, distributed),
     "train across the processes of `mpirun -np N tailor train ...` (ials\n"
     "only; every rank reads the data, rank 0 writes --out; autotune off;\n"
     "without mpirun: one rank). See docs/SCALE.md"},
    {NULL},
};

static void print_models(FILE *f);

static const tl_cmd_def def = {
    .name = "train",
    .synopsis = "train --model NAME --out FILE [--set KEY=VALUE]...\n"
                "             [--data FILE [--items FILE] [--min-value X] [--value-weights]]\n"
                "             [--weights SPEC] [--quiet] [--distributed]",
    .about =
        "Trains NAME on the interactions of --data, or on the events of the store (--db) when\n"
        "--data is absent, and writes a model file that `tailor recommend` maps. From the store,\n"
        "each event counts by its type's weight (loan 1, hold 0.8, view 0.2, ...: the store's\n"
        "weights, `tailor stats --weights`; --weights overrides them for this run); the events\n"
        "of patrons who turned personalization off are left out. Progress goes to stderr;\n"
        "Ctrl-C stops the training without writing the model file (exit 130).\n\n"
        "With --distributed under `mpirun -np N`, the N processes train one ials model\n"
        "together (users and items sharded by rank, factors exchanged every half-epoch): the\n"
        "same model, to rounding, as one process trains with the same settings.\n\n"
        "--out must name a regular file or nothing: a device, FIFO or directory is refused. A\n"
        "symbolic link to a regular file is followed (the file it points to is replaced, so the\n"
        "link then points to the new model); a link to nothing is refused.",
    .opts = opts,
    .more_help = print_models,
    .min_args = 0,
    .max_args = 0,
};

static void print_models(FILE *f)
{
    fprintf(
        f,
        "\nSettings of every model (--set KEY=VALUE):\n"
        "  autotune         1 (default): parameters you do not set are chosen on a validation\n"
        "                   split carved from the training data, searched around values derived\n"
        "                   from the data within a fixed amount of work (the same choice on any\n"
        "                   machine); 0: the plain defaults below\n"
        "  half_life_days   time decay: an event this many days older than the newest one counts\n"
        "                   half (0 = none). Unset, autotune tries none, span/2 and span/8 when\n"
        "                   the events have timestamps and the model reads weights\n"
        "  tune_split       autotune's validation: auto (default: with timestamps a random and\n"
        "                   a temporal split, each setting judged on both; a temporal split\n"
        "                   for sequence; without timestamps two random splits), random,\n"
        "                   temporal (when what matters is what patrons take next) or both\n");
    fprintf(f, "\nModels and their parameters (--set KEY=VALUE):\n");
    for (const tl_model_ops *const *o = tl_model_all_ops(); *o; o++) {
        fprintf(f, "\n%s: %s\n", (*o)->name, (*o)->summary);
        tl_params_print_help((*o)->params, (*o)->n_params, f);
    }
}

/* "name=v name=v" from the model's parameter lines. */
static void print_summary(const tl_model *m, const tl_data *d, const char *out)
{
    char *params = NULL;
    if (tl_params_to_text(&m->params, &params) == TL_OK)
        for (char *p = params; (p = strchr(p, '\n'));)
            *p = ' ';
    fprintf(stderr, "trained %s on %d users x %d items (%lld interactions) in %.2f s -> %s\n  %s\n",
            m->ops->name, d->users.count, d->items.count, (long long)d->ui.nnz, m->fit_seconds, out,
            params ? params : "");
    if (m->tuned[0])
        fprintf(stderr, "  autotune: %s\n", m->tuned);
    free(params);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Rank 0's epochs: the median seconds, and the median part of them spent exchanging. */
static void print_distributed(const tl_model *m, const tl_comm *comm)
{
    int n = 0;
    const tl_ials_epoch *e = tl_ials_epochs(m, &n);
    double *sec = n > 0 ? malloc(2 * (size_t)n * sizeof(double)) : NULL;
    if (!sec)
        return;
    double *ex = sec + n;
    for (int i = 0; i < n; i++) {
        sec[i] = e[i].seconds;
        ex[i] = e[i].comm_seconds;
    }
    qsort(sec, (size_t)n, sizeof(double), cmp_double);
    qsort(ex, (size_t)n, sizeof(double), cmp_double);
    fprintf(stderr,
            "  distributed: %d ranks, %.3f s per epoch (median of %d; %.3f s of it exchanging, "
            "rank 0)\n",
            comm->size, sec[n / 2], n, ex[n / 2]);
    free(sec);
}

static int run(const tl_cli *cli, int argc, char **argv)
{
    args a;
    memset(&a, 0, sizeof(a));
    tl_data_source_init(&a.src);
    int first, code = tl_opt_parse(&def, &a, argc, argv, &first);
    if (code != TL_OPT_RUN)
        return code;
    if (!a.model || !a.out)
        return tl_opt_usage_error(&def, "needs --model NAME and --out FILE");
    if ((code = tl_data_source_check(&a.src, &def)) != TL_OPT_RUN)
        return code;
    if (a.distributed && strcmp(a.model, "ials") != 0)
        return tl_opt_usage_error(&def, "--distributed trains ials only, not '%s'", a.model);
    tl_model *m = NULL;
    tl_dist *dist = NULL;
    const tl_comm *comm = NULL;
    tl_data d;
    tl_data_init(&d);
    tl_diag diag;
    tl_diag_clear(&diag);
    /* Refuse an --out that tl_model_save would refuse before the training, not after it. */
    tl_err rc = tl_afile_check(a.out, TL_AFILE_REGULAR, &diag);
    if (rc != TL_OK)
        return tl_cli_fail("train: --out", rc, &diag);
    rc = tl_model_new(a.model, &m);
    if (rc == TL_ENOTFOUND)
        return tl_opt_usage_error(&def, "unknown model '%s' (see tailor train --help)", a.model);
    if (rc != TL_OK)
        return tl_cli_fail("train", rc, NULL);
    for (int i = 0; i < a.sets.n; i++)
        if ((rc = tl_model_set(m, a.sets.v[i], &diag)) != TL_OK) {
            code = tl_cli_fail("train: --set", rc, &diag);
            goto out;
        }
    if (a.distributed) {
        if ((rc = tl_dist_open(&dist, &diag)) != TL_OK) {
            code = tl_cli_fail("train: --distributed", rc, &diag);
            goto out;
        }
        comm = tl_dist_comm(dist);
        m->autotune = 0; /* every rank must fit the same settings: the ones given */
    }
    int leader = !comm || comm->rank == 0; /* the rank that reports and writes */
    tl_stage_progress pg;
    tl_stage_init(&pg, "train", a.quiet || !leader);
    tl_interrupt_catch();
    tl_stage_begin(&pg, "loading data");
    if ((rc = tl_data_source_load(&a.src, cli, &d, &diag)) != TL_OK) {
        tl_stage_done(&pg);
        code = tl_cli_fail("train: loading data", rc, &diag);
        goto out;
    }
    tl_fit_hooks hooks = {.tune = comm ? NULL : tl_autotune_hook,
                          .progress = tl_stage_update,
                          .cancelled = tl_interrupted,
                          .ctx = &pg,
                          .comm = comm};
    char stage[64];
    snprintf(stage, sizeof(stage), "fitting %s", m->ops->name);
    tl_stage_begin(&pg, stage);
    rc = tl_model_fit(m, &d, &hooks, &diag);
    tl_stage_done(&pg);
    if (rc == TL_OK && tl_interrupted(NULL))
        rc = TL_ECANCELED; /* asked to stop after the last check: still write nothing */
    if (rc == TL_ECANCELED) {
        fprintf(stderr, "tailor: train: interrupted; no model written\n");
        code = TL_EXIT_INTERRUPTED;
        goto out;
    }
    if (rc != TL_OK) {
        code = tl_cli_fail("train", rc, &diag);
        goto out;
    }
    if (leader && (rc = tl_model_save(m, a.out, &diag)) != TL_OK) {
        code = tl_cli_fail("train: writing the model", rc, &diag);
        goto out;
    }
    if (!a.quiet && leader) {
        print_summary(m, &d, a.out);
        if (comm)
            print_distributed(m, comm);
    }
    code = TL_EXIT_OK;
out:
    tl_interrupt_release();
    tl_model_free(m);
    tl_data_release(&d);
    tl_dist_close(dist);
    return code;
}

const tl_cmd tl_cmd_train = {&def, "train a model and write a model file", run};
