/* Shared by the subcommands of the `tailor` program: global options and exit codes. */
#ifndef TL_CLI_H
#define TL_CLI_H

#include "tailor/error.h"

/* Exit codes (documented in README.md and `tailor --help`). */
enum {
    TL_EXIT_OK = 0,
    TL_EXIT_FAIL = 1,  /* the command failed (I/O, store, out of memory) */
    TL_EXIT_USAGE = 2, /* bad command line */
    TL_EXIT_DATA = 3,  /* bad input data: nothing was changed */
};

typedef struct tl_cli {
    const char *db_path; /* --db, else $TAILOR_DB, else the default */
    const char *prog;
} tl_cli;

/* Each subcommand: argv[0] is the subcommand name. Returns an exit code. */
typedef int (*tl_cmd_fn)(const tl_cli *cli, int argc, char **argv);

int cmd_import(const tl_cli *cli, int argc, char **argv);
int cmd_stats(const tl_cli *cli, int argc, char **argv);
int cmd_train(const tl_cli *cli, int argc, char **argv);
int cmd_recommend(const tl_cli *cli, int argc, char **argv);
int cmd_split(const tl_cli *cli, int argc, char **argv);
int cmd_eval(const tl_cli *cli, int argc, char **argv);
int cmd_tune(const tl_cli *cli, int argc, char **argv);
int cmd_synth(const tl_cli *cli, int argc, char **argv);

/* Prints "tailor: <what>: <diag or strerror>" to stderr. */
void tl_cli_error(const char *what, tl_err rc, const tl_diag *d);
/* True when argv[i] is -h or --help. */
int tl_cli_wants_help(int argc, char **argv);

#endif
