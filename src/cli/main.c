/* The `tailor` command: global options, then one command per file in this folder. */
#include <getopt.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/width.h"
#include "core/linalg.h"
#include "tailor/store.h"

#ifndef TL_VERSION
#define TL_VERSION "0.0.0"
#endif

static const tl_cmd *const commands[] = {
    &tl_cmd_import,       &tl_cmd_stats,     &tl_cmd_export,  &tl_cmd_train,
    &tl_cmd_recommend,    &tl_cmd_homepage,  &tl_cmd_split,   &tl_cmd_eval,
    &tl_cmd_audit,        &tl_cmd_tune,      &tl_cmd_synth,   &tl_cmd_serve,
    &tl_cmd_key,          &tl_cmd_user,      &tl_cmd_consent, &tl_cmd_retention,
    &tl_cmd_auditlog,     &tl_cmd_analytics, &tl_cmd_item,    &tl_cmd_search,
    &tl_cmd_subscription, &tl_cmd_digest,    &tl_cmd_list,    &tl_cmd_review,
    &tl_cmd_path,         &tl_cmd_simulate,  &tl_cmd_ope,     &tl_cmd_experiment,
    &tl_cmd_impressions,  &tl_cmd_migrate,   &tl_cmd_tenant,
};
#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
    fprintf(f,
            "usage: tailor [--db PATH] [--pseudonym-key FILE] [--tenant ID] COMMAND [ARGS]...\n\n"
            "Tailor, a personalization engine for libraries and catalogues.\n\n"
            "Commands:\n");
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(f, "  %-10s %s\n", commands[i]->def->name, commands[i]->summary);
    fprintf(f, "\nGlobal options:\n"
               "  --db PATH   the embedded store (default $" TL_STORE_ENV
               ", else ./" TL_STORE_DEFAULT_PATH ")\n"
               "  --pseudonym-key FILE\n"
               "              the store keeps patron ids as hashes keyed with this key (default\n"
               "              $" TL_PSEUDONYM_ENV "; tailor key pseudonym-new FILE makes one)\n"
               "  --tenant ID act for this library of a consortium: the patron ids the command\n"
               "              names are its patrons (tailor tenant; docs/SCALE.md)\n"
               "  --help      this text; `tailor COMMAND --help` for a command\n"
               "  --version   print the version\n\n"
               "Exit codes: 0 success; 1 failure (I/O, store, memory) or nothing found (a filter\n"
               "that matches no item); 2 bad command line; 3 bad input data (the store is left as\n"
               "it was); 130 interrupted (Ctrl-C).\n");
}

static int run(int argc, char **argv)
{
    tl_cli cli = {.db_path = getenv(TL_STORE_ENV)};
    if (!cli.db_path || !*cli.db_path) /* an empty $TAILOR_DB means unset */
        cli.db_path = TL_STORE_DEFAULT_PATH;
    cli.pseudonym_key_file = getenv(TL_PSEUDONYM_ENV); /* read when a command opens the store */
    if (cli.pseudonym_key_file && !*cli.pseudonym_key_file)
        cli.pseudonym_key_file = NULL;
    static const struct option longs[] = {
        {"db", required_argument, NULL, 'd'},     {"pseudonym-key", required_argument, NULL, 'k'},
        {"tenant", required_argument, NULL, 't'}, {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0}};
    int ch;
    opterr = 0;
    /* "+": stop at the command; its own options are parsed by its table */
    while ((ch = getopt_long(argc, argv, "+:h", longs, NULL)) != -1) {
        switch (ch) {
        case 'd':
            if (!*optarg) {
                fprintf(stderr, "tailor: --db needs a path, not an empty string (the default is "
                                "./" TL_STORE_DEFAULT_PATH ")\n");
                return TL_EXIT_USAGE;
            }
            cli.db_path = optarg;
            break;
        case 'k':
            if (!*optarg) {
                fprintf(stderr, "tailor: --pseudonym-key needs a file, not an empty string\n");
                return TL_EXIT_USAGE;
            }
            cli.pseudonym_key_file = optarg;
            break;
        case 't':
            if (tl_service_act_for_tenant(optarg) != TL_OK || !*optarg) {
                fprintf(stderr,
                        "tailor: --tenant needs a tenant id (1 to %d of a-z, 0-9, '-', "
                        "'_')\n",
                        TL_TENANT_ID_MAX);
                return TL_EXIT_USAGE;
            }
            break;
        case 'V':
            printf("tailor %s\n", TL_VERSION);
            return TL_EXIT_OK;
        case 'h':
            usage(stdout);
            return TL_EXIT_OK;
        case ':':
            fprintf(stderr, "tailor: %s needs a value (%s)\n", argv[optind - 1],
                    optopt == 'k'   ? "FILE"
                    : optopt == 't' ? "ID"
                                    : "PATH");
            return TL_EXIT_USAGE;
        default:
            fprintf(stderr, "tailor: unknown option '%s' (see tailor --help)\n", argv[optind - 1]);
            return TL_EXIT_USAGE;
        }
    }
    if (optind == argc) {
        usage(stderr);
        return TL_EXIT_USAGE;
    }
    for (size_t c = 0; c < N_COMMANDS; c++)
        if (strcmp(argv[optind], commands[c]->def->name) == 0)
            return commands[c]->run(&cli, argc - optind, argv + optind);
    char name[128];
    fprintf(stderr, "tailor: unknown command '%s' (see tailor --help)\n",
            tl_cli_printable(argv[optind], name, sizeof(name)));
    return TL_EXIT_USAGE;
}

int main(int argc, char **argv)
{
    /* A closed pipe ends the program quietly, as it ends cat or grep, even when the parent
     * left SIGPIPE ignored. */
    signal(SIGPIPE, SIG_DFL);
    /* BLAS single-threaded, once, for the whole run: the parallelism is OpenMP's, and
     * OpenBLAS's own threads would spin on the cores the OpenMP loops need. */
    tl_la_blas_threads_set(1);
    tl_width_init();
    return tl_cli_close_stdout(run(argc, argv));
}
