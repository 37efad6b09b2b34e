/* Table-driven option parsing (getopt_long) and --help for the `tailor` commands. */
#include "cli/opt.h"

#include <assert.h>
#include <errno.h>
#include <float.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

#define MAX_OPTS 64
#define HELP_COL 26    /* where the help text of an option starts */
#define HELP_WIDTH 100 /* the widest help line */
#define LONG_ONLY 256  /* getopt values of options without a short name: LONG_ONLY + index */

int tl_opt_parse_i64(const char *s, int64_t lo, int64_t hi, int64_t *out, const char **why)
{
    const char *p = s + (*s == '-');
    if (!*p || strspn(p, "0123456789") != strlen(p)) {
        *why = "is not a whole number";
        return -1;
    }
    errno = 0;
    long long v = strtoll(s, NULL, 10);
    if (errno == ERANGE || v < lo || v > hi) {
        *why = "is out of range";
        return -1;
    }
    *out = v;
    return 0;
}

int tl_opt_parse_num(const char *s, double lo, double hi, double *out, const char **why)
{
    char *end;
    /* Decimal notation only: no spaces, hex, "inf" or "nan". */
    if (!*s || strspn(s, "0123456789.eE+-") != strlen(s)) {
        *why = "is not a number";
        return -1;
    }
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end) {
        *why = "is not a number";
        return -1;
    }
    if (!isfinite(v) || v < lo || v > hi) {
        *why = "is out of range";
        return -1;
    }
    *out = v;
    return 0;
}

/* Python's int seed modulo 2^64: -2^63 .. 2^64-1. */
static int parse_seed(const char *s, uint64_t *out, const char **why)
{
    const char *p = s + (*s == '-');
    *why = "is not a whole number";
    if (!*p || strspn(p, "0123456789") != strlen(p))
        return -1;
    errno = 0;
    *out = *s == '-' ? (uint64_t)strtoll(s, NULL, 10) : (uint64_t)strtoull(s, NULL, 10);
    *why = "is out of range (-2^63 .. 2^64-1)";
    return errno == ERANGE ? -1 : 0;
}

/* The index of v among "a|b|c", or -1. */
static int choice_index(const char *choices, const char *v)
{
    size_t n = strlen(v);
    int k = 0;
    for (const char *p = choices; p; k++) {
        const char *bar = strchr(p, '|');
        size_t l = bar ? (size_t)(bar - p) : strlen(p);
        if (n && l == n && strncmp(p, v, n) == 0)
            return k;
        p = bar ? bar + 1 : NULL;
    }
    return -1;
}

int tl_opt_usage_error(const tl_cmd_def *c, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "tailor %s: ", c->name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'tailor %s --help'.\n", c->name);
    return TL_EXIT_USAGE;
}

/* Stores text as o's value in args; on a bad value prints why and returns TL_EXIT_USAGE. */
static int store(const tl_cmd_def *c, const tl_opt *o, void *args, const char *text)
{
    char *at = (char *)args + o->offset;
    const char *why = NULL;
    int64_t i64;
    double num;
    switch (o->kind) {
    case TL_OPT_FLAG:
        *(int *)at = 1;
        return 0;
    case TL_OPT_STR:
        if (!*text)
            return tl_opt_usage_error(c, "--%s needs a value, not an empty string", o->name);
        *(const char **)at = text;
        return 0;
    case TL_OPT_LIST: {
        tl_opt_list *l = (tl_opt_list *)at;
        if (!*text)
            return tl_opt_usage_error(c, "--%s needs a value, not an empty string", o->name);
        if (l->n == TL_OPT_LIST_MAX)
            return tl_opt_usage_error(c, "at most %d --%s", TL_OPT_LIST_MAX, o->name);
        l->v[l->n++] = text;
        return 0;
    }
    case TL_OPT_INT:
    case TL_OPT_I64:
        if (tl_opt_parse_i64(text, (int64_t)o->min, (int64_t)o->max, &i64, &why) != 0)
            break;
        if (o->kind == TL_OPT_INT)
            *(int *)at = (int)i64;
        else
            *(int64_t *)at = i64;
        return 0;
    case TL_OPT_SEED:
        if (parse_seed(text, (uint64_t *)at, &why) != 0)
            return tl_opt_usage_error(c, "--%s: '%s' %s", o->name, text, why);
        return 0;
    case TL_OPT_NUM:
        if (tl_opt_parse_num(text, o->min, o->max, &num, &why) != 0)
            break;
        *(double *)at = num;
        return 0;
    case TL_OPT_CHOICE: {
        int k = choice_index(o->arg, text);
        if (k < 0) {
            char list[256];
            size_t n = 0;
            for (const char *p = o->arg; *p && n + 3 < sizeof(list); p++) {
                if (*p == '|')
                    list[n++] = ',', list[n++] = ' ';
                else
                    list[n++] = *p;
            }
            list[n] = '\0';
            return tl_opt_usage_error(c, "--%s: '%s' is not one of %s", o->name, text, list);
        }
        *(int *)at = k;
        return 0;
    }
    }
    if (strcmp(why, "is out of range") == 0)
        return tl_opt_usage_error(c, "--%s: '%s' is out of range (%.15g .. %.15g)", o->name, text,
                                  o->min, o->max);
    return tl_opt_usage_error(c, "--%s: '%s' %s", o->name, text, why);
}

static int takes_value(const tl_opt *o)
{
    return o->kind != TL_OPT_FLAG;
}

static const tl_opt *by_val(const tl_cmd_def *c, int val)
{
    int k = 0;
    for (const tl_opt *o = c->opts; o->name; o++, k++)
        if ((o->short_name && o->short_name == val) || LONG_ONLY + k == val)
            return o;
    return NULL;
}

/* getopt's '?': "--flag=value" (optopt names the flag), an unknown short option (optopt is
 * it), or an unknown or ambiguous long option (optopt 0). */
static int unknown_option(const tl_cmd_def *c, const char *arg, int opt)
{
    const tl_opt *o = opt ? by_val(c, opt) : NULL;
    if (o)
        return tl_opt_usage_error(c, "--%s takes no value", o->name);
    if (opt)
        return tl_opt_usage_error(c, "unknown option '-%c'", opt);
    char buf[128];
    return tl_opt_usage_error(c, "unknown or ambiguous option '%s'",
                              tl_cli_printable(arg, buf, sizeof(buf)));
}

int tl_opt_parse(const tl_cmd_def *c, void *args, int argc, char **argv, int *first_arg)
{
    struct option longs[MAX_OPTS + 2];
    char shorts[3 * MAX_OPTS + 4] = ":h";
    size_t ns = 2;
    int n = 0;
    for (const tl_opt *o = c->opts; o->name; o++, n++) {
        assert(n < MAX_OPTS);
        longs[n] = (struct option){o->name, takes_value(o) ? required_argument : no_argument, NULL,
                                   o->short_name ? o->short_name : LONG_ONLY + n};
        if (o->short_name) {
            shorts[ns++] = o->short_name;
            if (takes_value(o))
                shorts[ns++] = ':';
        }
        if (o->def && strcmp(o->def, TL_OPT_PRESET) != 0) {
            int rc = store(c, o, args, o->def);
            assert(rc == 0); /* a bad default is a programmer's mistake */
            (void)rc;
        }
    }
    shorts[ns] = '\0';
    longs[n++] = (struct option){"help", no_argument, NULL, 'h'};
    longs[n] = (struct option){NULL, 0, NULL, 0};
    opterr = 0;
    /* A first pass looks for --help only, so that help shows the defaults, not the values. */
    int ch;
    optind = 0; /* GNU: start afresh (main parsed the global options with getopt too) */
    while ((ch = getopt_long(argc, argv, shorts, longs, NULL)) != -1)
        if (ch == 'h') {
            tl_opt_help(c, args, stdout);
            return TL_EXIT_OK;
        }
    optind = 0;
    while ((ch = getopt_long(argc, argv, shorts, longs, NULL)) != -1) {
        if (ch == '?')
            return unknown_option(c, argv[optind - 1], optopt);
        const tl_opt *o = by_val(c, ch == ':' ? optopt : ch);
        assert(o);
        if (ch == ':')
            return tl_opt_usage_error(c, "--%s needs a value (%s)", o->name, o->arg);
        int rc = store(c, o, args, optarg);
        if (rc != 0)
            return rc;
    }
    int nargs = argc - optind;
    if (nargs > c->max_args)
        return tl_opt_usage_error(c, "unexpected argument '%s'", argv[optind + c->max_args]);
    if (nargs < c->min_args) {
        const char *line_end = strchr(c->synopsis, '\n');
        return tl_opt_usage_error(
            c, "missing argument; usage: tailor %.*s",
            line_end ? (int)(line_end - c->synopsis) : (int)strlen(c->synopsis), c->synopsis);
    }
    *first_arg = optind;
    return TL_OPT_RUN;
}

/* Prints text from column col on, each '\n' starting a new line at col; returns the length of
 * the last line. */
static int indented(FILE *f, const char *text, int col)
{
    for (const char *p = text;;) {
        const char *nl = strchr(p, '\n');
        int len = nl ? (int)(nl - p) : (int)strlen(p);
        fprintf(f, "%.*s", len, p);
        if (!nl)
            return len;
        fprintf(f, "\n%*s", col, "");
        p = nl + 1;
    }
}

/* The default of o as text: its def, or with TL_OPT_PRESET the value in args. */
static const char *default_text(const tl_opt *o, const void *args, char *buf, size_t len)
{
    if (!o->def || o->kind == TL_OPT_FLAG)
        return NULL;
    if (strcmp(o->def, TL_OPT_PRESET) != 0)
        return o->def;
    const char *at = (const char *)args + o->offset;
    switch (o->kind) {
    case TL_OPT_INT:
        snprintf(buf, len, "%d", *(const int *)at);
        break;
    case TL_OPT_I64:
        snprintf(buf, len, "%lld", (long long)*(const int64_t *)at);
        break;
    case TL_OPT_SEED:
        snprintf(buf, len, "%llu", (unsigned long long)*(const uint64_t *)at);
        break;
    case TL_OPT_NUM:
        snprintf(buf, len, "%g", *(const double *)at);
        break;
    case TL_OPT_STR:
        return *(const char *const *)at;
    default:
        return NULL;
    }
    return buf;
}

static void option_help(FILE *f, const tl_opt *o, const void *args)
{
    char left[128];
    int len = snprintf(left, sizeof(left), "  %s%c%s--%s%s%s", o->short_name ? "-" : "",
                       o->short_name ? o->short_name : ' ', o->short_name ? ", " : " ", o->name,
                       takes_value(o) ? " " : "", takes_value(o) ? o->arg : "");
    if (!o->short_name) /* "  --name" lines up with "  -x, --name" */
        len = snprintf(left, sizeof(left), "      --%s%s%s", o->name, takes_value(o) ? " " : "",
                       takes_value(o) ? o->arg : "");
    fputs(left, f);
    if (len < HELP_COL - 1)
        fprintf(f, "%*s", HELP_COL - len, "");
    else
        fprintf(f, "\n%*s", HELP_COL, "");
    int last = HELP_COL + indented(f, o->help, HELP_COL);
    /* then "(default D; MIN..MAX)" or "(repeatable)", on a line of its own when too long */
    char buf[64], tail[160];
    int ranged = (o->kind == TL_OPT_INT || o->kind == TL_OPT_I64 || o->kind == TL_OPT_NUM) &&
                 !(o->min == -DBL_MAX && o->max == DBL_MAX); /* no range worth showing */
    const char *def = default_text(o, args, buf, sizeof(buf));
    int n = 0;
    if (def)
        n = snprintf(tail, sizeof(tail), "(default %s", def);
    if (ranged)
        n += snprintf(tail + n, sizeof(tail) - (size_t)n, "%s%.15g..%.15g", def ? "; " : "(",
                      o->min, o->max);
    if (def || ranged)
        n += snprintf(tail + n, sizeof(tail) - (size_t)n, ")");
    if (o->kind == TL_OPT_LIST)
        n = snprintf(tail, sizeof(tail), "(repeatable)");
    if (n && last + 1 + n > HELP_WIDTH)
        fprintf(f, "\n%*s%s\n", HELP_COL, "", tail);
    else
        fprintf(f, "%s%s\n", n ? " " : "", n ? tail : "");
}

void tl_opt_help(const tl_cmd_def *c, const void *args, FILE *f)
{
    fprintf(f, "usage: tailor ");
    indented(f, c->synopsis, 7);
    fprintf(f, "\n\n%s\n", c->about);
    if (c->opts[0].name)
        fprintf(f, "\nOptions:\n");
    for (const tl_opt *o = c->opts; o->name; o++)
        option_help(f, o, args);
    static const tl_opt help = {"help", 'h', TL_OPT_FLAG, NULL, NULL, 0, 0, 0, "this text"};
    option_help(f, &help, args);
    if (c->notes)
        fprintf(f, "\n%s\n", c->notes);
    if (c->more_help)
        c->more_help(f);
}
