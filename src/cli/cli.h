/* Shared by the commands of the `tailor` program: the command table, exit codes and the one
 * mapping from library errors to them, and checked output (stdout and --out files). */
#ifndef TL_CLI_H
#define TL_CLI_H

#include <jansson.h>
#include <stdio.h>

#include "cli/opt.h"
#include "tailor/error.h"
#include "tailor/service.h"
#include "tailor/store.h"
#include "util/afile.h"

/* Exit codes (documented in README.md and `tailor --help`). */
enum {
    TL_EXIT_OK = 0,
    TL_EXIT_FAIL = 1,          /* the command failed (I/O, store, memory), or found nothing */
    TL_EXIT_USAGE = 2,         /* bad command line */
    TL_EXIT_DATA = 3,          /* bad input data: nothing was changed */
    TL_EXIT_INTERRUPTED = 130, /* Ctrl-C (128 + SIGINT, as a shell reports it) */
};

typedef struct tl_cli {
    const char *db_path;            /* --db, else $TAILOR_DB, else the default */
    const char *pseudonym_key_file; /* --pseudonym-key, else $TAILOR_PSEUDONYM_KEY_FILE, else
                                       NULL: patron ids are stored as they are */
} tl_cli;

/* ---- the store and the pseudonym key (pseudonym.c) -------------------------------------------
 * The key of file (NULL: none, *key = NULL), read into a buffer of the process's. Errors as
 * tl_pseudonym_key_read. */
tl_err tl_cli_pseudonym_key(const char *file, const uint8_t **key, tl_diag *d);
/* tl_store_open_with(target, flags) with cli's pseudonym key: every command that opens the
 * store goes through here (or gives the key to its service). */
tl_err tl_cli_store_open(const tl_cli *cli, const char *target, int flags, tl_store **out,
                         tl_diag *d);
/* tl_service_open(so) with cli's pseudonym key (so->pseudonym_key is set). */
tl_err tl_cli_service_open(const tl_cli *cli, tl_service_opts *so, tl_service **out, tl_diag *d);

/* A command: argv[0] is its name. Returns an exit code. */
typedef struct tl_cmd {
    const tl_cmd_def *def; /* name, options, help */
    const char *summary;   /* one line for `tailor --help` */
    int (*run)(const tl_cli *cli, int argc, char **argv);
} tl_cmd;

extern const tl_cmd tl_cmd_import, tl_cmd_stats, tl_cmd_export, tl_cmd_train, tl_cmd_recommend,
    tl_cmd_split, tl_cmd_eval, tl_cmd_tune, tl_cmd_synth, tl_cmd_homepage, tl_cmd_serve, tl_cmd_key,
    tl_cmd_user, tl_cmd_consent, tl_cmd_retention, tl_cmd_auditlog, tl_cmd_audit;
extern const tl_cmd tl_cmd_analytics;   /* cmd_analytics.c */
extern const tl_cmd tl_cmd_item;        /* cmd_item.c */
extern const tl_cmd tl_cmd_impressions; /* cmd_impressions.c */
extern const tl_cmd tl_cmd_migrate;     /* cmd_migrate.c */
extern const tl_cmd tl_cmd_tenant;      /* cmd_tenant.c */
/* `tailor import marc ...` (cmd_import_marc.c), argv[0] = "marc" */
int tl_cli_import_marc(const tl_cli *cli, int argc, char **argv);
/* tailor import: opens the store, imports o (its in.path) with a progress bar, reports; kind
 * names the records in messages. For the import commands (cmd_import.c, cmd_import_circ.c). */
int tl_cli_import_run(const tl_cli *cli, tl_import_opts *o, const char *kind, int quiet);
/* tailor import circulation (cmd_import_circ.c): argv[0] is "circulation". */
int tl_cli_import_circulation(const tl_cli *cli, int argc, char **argv);
extern const tl_cmd tl_cmd_search;
extern const tl_cmd tl_cmd_subscription, tl_cmd_digest; /* cmd_digest.c */
/* Reading lists, reviews and learning paths (cmd_lists.c, cmd_paths.c). */
extern const tl_cmd tl_cmd_list, tl_cmd_review, tl_cmd_path;
/* Experiments (cmd_simulate.c, cmd_ope.c, cmd_experiment.c). */
extern const tl_cmd tl_cmd_simulate, tl_cmd_ope, tl_cmd_experiment;
/* The service on cli's store for writing, or NULL after printing why (*code = the exit code). */
tl_service *tl_cli_lib_service(const tl_cli *cli, const char *what, int *code);
/* Prints JSON text (freed here) on one line, or indented; TL_EIO when standard output fails. */
tl_err tl_cli_print_json(char *json, int pretty);

/* The exit code of a library error, the same for every command: TL_OK 0; TL_EINVAL 2 (the CLI
 * hands the library what the user typed: a parameter, weights, a filter, a path); TL_EPARSE 3,
 * and any other error but TL_ENOMEM whose d names a line of an input (a record names an unknown
 * user, a timestamp out of range); TL_ECANCELED 130; everything else 1 (I/O, store, memory, a
 * missing or corrupt file). */
int tl_cli_exit_code(tl_err rc, const tl_diag *d);
/* Prints "tailor: <what>: <diag, else strerror>" to stderr. */
void tl_cli_error(const char *what, tl_err rc, const tl_diag *d);
/* tl_cli_error, then returns tl_cli_exit_code(rc, d). */
int tl_cli_fail(const char *what, tl_err rc, const tl_diag *d);

/* ---- output ----------------------------------------------------------------------------------
 * Every byte a command writes goes through a checked stream: a full disk, a closed stdout or an
 * unwritable --out file ends the command with a message naming the file and the OS reason, and
 * exit 1, never a silent 0. A broken pipe (`tailor ... | head`) ends quietly, by SIGPIPE. */
typedef struct tl_out {
    FILE *f;
    const char *name; /* the --out path, or NULL for standard output */
    tl_afile af;      /* a file: written to a temporary file renamed into place at the end */
} tl_out;

/* Opens path for writing (NULL or "-": standard output). A regular file (or none) at path is
 * replaced only when tl_out_close succeeds; a device or FIFO is written directly. Prints the
 * error and returns an exit code, or TL_EXIT_OK. */
int tl_out_open(tl_out *o, const char *path);
/* Nonzero once a write to o failed (a command stops early then; tl_out_close reports it). */
int tl_out_failed(const tl_out *o);
/* Ends the output: when code is TL_EXIT_OK, flushes and checks it (and puts a file in place);
 * otherwise discards a file's temporary. Returns code, or TL_EXIT_FAIL after printing
 * "tailor: writing <name>: <reason>". */
int tl_out_close(tl_out *o, int code);
/* The check main makes on standard output before exiting; returns the final exit code. */
int tl_cli_close_stdout(int code);
/* Describes name for messages: "standard output" for NULL. */
const char *tl_out_label(const tl_out *o);

/* ---- JSON (jansson only: no JSON is written by hand) ------------------------------------------
 * A number as JSON: non-finite values (which JSON cannot hold) become null, with a warning
 * naming what on stderr. Never NULL unless memory ran out. */
json_t *tl_json_num(double v, const char *what);
/* The shortest text (6 to 9 significant digits) that reads back as the same float: 0.2, not
 * 0.200000003. Returns buf. */
const char *tl_float_text(float v, char *buf, size_t len);
/* A float as JSON with the value of its shortest text (0.8, not 0.800000011920929), so that
 * emitting with 15 digits or fewer prints that text. */
json_t *tl_json_float(float v, const char *what);
/* An item's copies on the shelf: {"branch", "on_shelf_here", "on_shelf_elsewhere"}. */
json_t *tl_json_availability(const tl_rec_item *it);
/* "key=value" pairs separated by any of seps as a JSON object; values that are numbers become
 * JSON numbers (whole ones integers), the rest strings. NULL text = {}. */
json_t *tl_json_params(const char *text, const char *seps);
/* Writes j (stolen: decref'd here) as one line (indent 0) or indented, with numbers to prec
 * significant digits (17 round-trips a double, 7 suits a float score), and a newline, to o.
 * TL_EXIT_FAIL when j is NULL (memory) after a message; write errors are left to
 * tl_out_close. */
int tl_json_emit(tl_out *o, json_t *j, int indent, int prec);

/* Who runs the command, for the audit log: "cli:LOGIN" (the account, not an environment
 * variable that anyone can set). */
const char *tl_cli_actor(char *buf, size_t len);

/* 1 when s can be a TSV field (no TAB, CR or LF); else prints "tailor: <cmd>: <what> '<s>'
 * contains a TAB or line break..." and returns 0. Importers reject such ids; a writer still
 * checks, so that one can never shift the columns of what it writes. */
int tl_tsv_field_ok(const char *cmd, const char *what, const char *s);

/* Copies s into buf for a message, with control characters (TAB, newline, ESC...) written as
 * \t, \n, \x1b so that a hostile id cannot rewrite the terminal; truncated to fit. */
const char *tl_cli_printable(const char *s, char *buf, size_t len);

#endif
