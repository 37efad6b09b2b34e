/* Command-line options of the `tailor` commands: one table per command {name, short name, kind,
 * argument, default, range, where the value goes, help} drives parsing (getopt_long), strict
 * number checks and the --help text, so that the three never disagree (Redis's config table). */
#ifndef TL_CLI_OPT_H
#define TL_CLI_OPT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define TL_OPT_LIST_MAX 64 /* values of one repeatable option */

typedef enum tl_opt_kind {
    TL_OPT_FLAG,   /* int, set to 1 */
    TL_OPT_STR,    /* const char *, never empty */
    TL_OPT_INT,    /* int: a base-10 whole number in [min, max] */
    TL_OPT_I64,    /* int64_t: the same */
    TL_OPT_SEED,   /* uint64_t: -2^63 .. 2^64-1 taken modulo 2^64 (Python's seeds) */
    TL_OPT_NUM,    /* double: a finite decimal number in [min, max] */
    TL_OPT_CHOICE, /* int: the index of the argument among arg's "a|b|c" */
    TL_OPT_LIST,   /* tl_opt_list: repeatable, each value appended */
} tl_opt_kind;

typedef struct tl_opt_list {
    const char *v[TL_OPT_LIST_MAX];
    int n;
} tl_opt_list;

typedef struct tl_opt {
    const char *name; /* long name, without "--" */
    char short_name;  /* 0 = none */
    tl_opt_kind kind; /* and so the C type at offset */
    const char *arg;  /* the argument's name in help ("N", "FILE"); CHOICE: "a|b|c" */
    const char *def;  /* default as text, applied before parsing and shown in help; NULL for
                         none; TL_OPT_PRESET: the value the command put in args before
                         parsing (a library's default), shown in help */
    double min, max;  /* INT, I64, NUM: the inclusive range */
    size_t offset;    /* where the value goes in the command's argument struct */
    const char *help; /* one sentence; '\n' starts a new help line */
} tl_opt;

#define TL_OPT_AT(type, member) offsetof(type, member)
#define TL_OPT_PRESET "\x01"

/* One command: its option table (ending with a {NULL} entry) and the text around it. */
typedef struct tl_cmd_def {
    const char *name;     /* "recommend" */
    const char *synopsis; /* after "usage: tailor ", lines separated by '\n' */
    const char *about;    /* what it does, a paragraph or two */
    const tl_opt *opts;
    const char *notes;          /* printed after the options, or NULL */
    void (*more_help)(FILE *f); /* prints what the table cannot (a model list), or NULL */
    int min_args, max_args;     /* positional arguments */
} tl_cmd_def;

/* Returned by tl_opt_parse when the command should run. */
#define TL_OPT_RUN (-1)

/* Applies the table's defaults to args, then parses argv[1..argc) (argv[0] is the command's
 * name) into args; positional arguments end up in argv[*first_arg..argc). -h/--help prints the
 * help to stdout and returns 0; a bad command line prints one message naming the option to
 * stderr and returns 2 (TL_EXIT_USAGE). Otherwise returns TL_OPT_RUN. */
int tl_opt_parse(const tl_cmd_def *c, void *args, int argc, char **argv, int *first_arg);

/* Prints the command's --help text (synopsis, about, options with defaults and ranges); args
 * holds the values before parsing (TL_OPT_PRESET defaults are read from it). */
void tl_opt_help(const tl_cmd_def *c, const void *args, FILE *f);

/* Prints "tailor CMD: <message>" and a pointer to --help on stderr; returns TL_EXIT_USAGE. */
int tl_opt_usage_error(const tl_cmd_def *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Strict parsers used by the table (exposed for values that come from elsewhere): the whole
 * text must be the number. Return 0, or -1 with *why set to a static reason. */
int tl_opt_parse_i64(const char *s, int64_t lo, int64_t hi, int64_t *out, const char **why);
int tl_opt_parse_num(const char *s, double lo, double hi, double *out, const char **why);

#endif
