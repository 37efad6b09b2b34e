/* The `tailor` command: global options, then one subcommand per file in this folder. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

#ifndef TL_VERSION
#define TL_VERSION "0.0.0"
#endif

#define DEFAULT_DB "tailor.db"

static const struct {
    const char *name;
    tl_cmd_fn fn;
    const char *help;
} commands[] = {
    {"import", cmd_import, "import items, users or events from TSV/CSV/JSON Lines (.gz too)"},
    {"stats", cmd_stats, "counts, density, events per type, top items (--json)"},
    {"train", cmd_train, "train a model and write a model file"},
    {"recommend", cmd_recommend, "top-N items for a user (or all users) from a model file"},
    {"split", cmd_split, "train/test split of interactions (PROTOCOL.md)"},
    {"eval", cmd_eval, "train on a split, recommend, and print the protocol's metrics"},
    {"tune", cmd_tune, "choose hyperparameters on a validation split carved from train"},
    {"synth", cmd_synth, "generate a synthetic data set (power-law, or a library)"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: tailor [--db PATH] COMMAND [ARGS]...\n\n"
               "Tailor, a personalization engine for libraries and catalogues.\n\n"
               "Commands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
    fprintf(f, "\nGlobal options:\n"
               "  --db PATH   the embedded store (default $TAILOR_DB, else ./" DEFAULT_DB ")\n"
               "  --help      this text; `tailor COMMAND --help` for a command\n"
               "  --version   print the version\n\n"
               "Exit codes: 0 success, 1 failure (I/O, store, memory), 2 bad command line,\n"
               "3 bad input data (the store is left as it was).\n");
}

void tl_cli_error(const char *what, tl_err rc, const tl_diag *d)
{
    char buf[1024];
    if (d && (d->msg[0] || d->file[0])) {
        tl_diag_format(d, buf, sizeof(buf));
        fprintf(stderr, "tailor: %s: %s\n", what, buf);
    } else {
        fprintf(stderr, "tailor: %s: %s\n", what, tl_strerror(rc));
    }
}

int tl_cli_wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
            return 1;
    return 0;
}

int main(int argc, char **argv)
{
    tl_cli cli = {.db_path = getenv("TAILOR_DB"), .prog = argv[0]};
    if (!cli.db_path || !*cli.db_path)
        cli.db_path = DEFAULT_DB;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "--db") == 0 && i + 1 < argc) {
            cli.db_path = argv[++i];
        } else if (strncmp(argv[i], "--db=", 5) == 0) {
            cli.db_path = argv[i] + 5;
        } else if (strcmp(argv[i], "--version") == 0) {
            printf("tailor %s\n", TL_VERSION);
            return TL_EXIT_OK;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return TL_EXIT_OK;
        } else {
            fprintf(stderr, "tailor: unknown option '%s'\n", argv[i]);
            usage(stderr);
            return TL_EXIT_USAGE;
        }
    }
    if (i == argc) {
        usage(stderr);
        return TL_EXIT_USAGE;
    }
    for (size_t c = 0; c < sizeof(commands) / sizeof(commands[0]); c++)
        if (strcmp(argv[i], commands[c].name) == 0)
            return commands[c].fn(&cli, argc - i, argv + i);
    fprintf(stderr, "tailor: unknown command '%s' (see tailor --help)\n", argv[i]);
    return TL_EXIT_USAGE;
}
