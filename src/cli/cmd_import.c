/* tailor import: loads items, users, events or searches from a file into the store, all or
 * nothing (or skipping bad lines with --skip-bad), with a progress bar on a terminal. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/progress.h"
#include "tailor/store.h"

typedef struct args {
    int format; /* -1 = from the name */
    const char *type, *weights, *list_sep;
    int strict, skip_bad, dry_run, quiet, max_field;
} args;

static const tl_opt opts[] = {
    {"format", 0, TL_OPT_CHOICE, "tsv|csv|jsonl|json", NULL, 0, 0, TL_OPT_AT(args, format),
     "the file's format (default: from the name: .csv, .jsonl/.ndjson/.json,\n"
     "else tsv)"},
    {"type", 0, TL_OPT_STR, "T", NULL, 0, 0, TL_OPT_AT(args, type),
     "events: the event type when the file has no type column (default:\n"
     "rate when there is a value column, else loan); items: the item type\n"
     "when there is no type column (default: book)"},
    {"strict", 0, TL_OPT_FLAG, NULL, NULL, 0, 0, TL_OPT_AT(args, strict),
     "events naming unknown users or items are errors (default: create them)"},
    {"skip-bad", 0, TL_OPT_FLAG, NULL, NULL, 0, 0, TL_OPT_AT(args, skip_bad),
     "skip bad lines, import the rest, and report what was skipped and why"},
    {"dry-run", 0, TL_OPT_FLAG, NULL, NULL, 0, 0, TL_OPT_AT(args, dry_run),
     "validate everything and report, but write nothing"},
    {"weights", 0, TL_OPT_STR, "SPEC", NULL, 0, 0, TL_OPT_AT(args, weights),
     "save event weights with the data, e.g. \"view=0.1,loan=1,rate.min=4\"\n"
     "(also default=, rate.scale=, dwell.cap=, merge=sum|max; shown by\n"
     "tailor stats --weights)"},
    {"list-sep", 0, TL_OPT_STR, "C", NULL, 0, 0, TL_OPT_AT(args, list_sep),
     "separator of list fields (authors, subjects, clicked) in TSV/CSV\n"
     "(default '|'; e.g. --list-sep , for \"A, B\")"},
    {"max-field", 0, TL_OPT_INT, "N", "65536", 1, 1 << 20, TL_OPT_AT(args, max_field),
     "longest field in bytes; lines are limited to 1 MiB"},
    {"quiet", 'q', TL_OPT_FLAG, NULL, NULL, 0, 0, TL_OPT_AT(args, quiet),
     "no progress bar and no summary"},
    {NULL},
};

static const tl_cmd_def def = {
    .name = "import",
    .synopsis = "[--db PATH] import {items|users|events|searches} FILE [OPTIONS]\n"
                "tailor [--db PATH] import marc FILE [OPTIONS]   (tailor import marc --help)\n"
                "tailor [--db PATH] import circulation FILE --layout LAYOUT [OPTIONS]",
    .about =
        "Imports FILE (TSV, CSV or JSON Lines; plain or .gz; '-' = stdin) into the store in one\n"
        "transaction: a bad line stops the import with its file, line and field, and the store\n"
        "is left exactly as it was (exit 3). Re-importing a file changes nothing.",
    .notes =
        "Columns are found by header name (any case; JSON keys alike):\n"
        "  events:   user (user_id, patron, borrower...), item (item_id, book_id, record_id...),\n"
        "            type (event, action), value (rating, score, count, seconds; |value| <= 1e9),\n"
        "            timestamp (time, ts, date: Unix seconds or ISO 8601, 1970 to 3000), device,\n"
        "            channel, branch (library, location), session, context (a JSON object)\n"
        "  items:    item (id, book_id...), type, title, authors (creators, author), subjects\n"
        "            (genres, tags), year, language (language_code), format, added, copies,\n"
        "            available, extra (a JSON object); other columns are kept in extra\n"
        "  users:    user (id, patron...), personalize (consent: yes/no), created, attributes\n"
        "            (a JSON object); other columns (department, level...) are kept as "
        "attributes\n"
        "  searches: user, query (q), timestamp, clicked (item ids)\n"
        "Ids keep any Unicode but no tab, line break or other control character. Lines end in\n"
        "LF, CRLF or CR.\n"
        "Event types: loan return renew hold view click rate review download list_add skip "
        "dwell,\n"
        "local_use, or any other word (kept as given, lowercased; issue and checkout are loans,\n"
        "checkin a return, renewal a renew). An itemnumber (copy) column instead of item names\n"
        "a copy of the holdings. An ILS's circulation export: tailor import circulation --help.",
    .opts = opts,
    .min_args = 2,
    .max_args = 2,
};

static int kind_of(const char *s, tl_ingest_kind *k)
{
    static const struct {
        const char *name;
        tl_ingest_kind kind;
    } kinds[] = {{"items", TL_INGEST_ITEMS},   {"users", TL_INGEST_USERS},
                 {"events", TL_INGEST_EVENTS}, {"searches", TL_INGEST_SEARCHES},
                 {"item", TL_INGEST_ITEMS},    {"user", TL_INGEST_USERS},
                 {"event", TL_INGEST_EVENTS},  {"search", TL_INGEST_SEARCHES}};
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (strcmp(s, kinds[i].name) == 0) {
            *k = kinds[i].kind;
            return 0;
        }
    return -1;
}

static void print_skips(const tl_import_report *rep)
{
    const tl_ingest_report *in = &rep->in;
    char buf[1024];
    fprintf(stderr, "tailor: skipped %lld bad line%s of %lld:\n", in->skipped,
            in->skipped == 1 ? "" : "s", in->rows);
    for (int r = 0; r < TL_SKIP_N; r++) {
        if (!in->skipped_by[r])
            continue;
        fprintf(stderr, "  %lld %s (line%s", in->skipped_by[r],
                tl_skip_reason_name((tl_skip_reason)r), in->skipped_by[r] == 1 ? "" : "s");
        for (int k = 0; k < TL_INGEST_FIRST_LINES && in->first_lines[r][k]; k++)
            fprintf(stderr, "%s %ld", k ? "," : "", in->first_lines[r][k]);
        fprintf(stderr, "%s)\n", in->skipped_by[r] > TL_INGEST_FIRST_LINES ? ", ..." : "");
    }
    tl_diag_format(&in->first_skip, buf, sizeof(buf));
    fprintf(stderr, "  first: %s\n", buf);
}

static const char *format_name(tl_ingest_format f)
{
    return f == TL_FORMAT_CSV ? "csv" : f == TL_FORMAT_JSONL ? "jsonl" : "tsv";
}

static int run(const tl_cli *cli, int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "marc") == 0) /* its own options: cmd_import_marc.c */
        return tl_cli_import_marc(cli, argc - 1, argv + 1);
    args a;
    memset(&a, 0, sizeof(a));
    a.format = -1;
    if (argc > 1 && strcmp(argv[1], "circulation") == 0)
        return tl_cli_import_circulation(cli, argc - 1, argv + 1);
    int first, code = tl_opt_parse(&def, &a, argc, argv, &first);
    if (code != TL_OPT_RUN)
        return code;
    const char *kind = argv[first], *file = argv[first + 1];
    tl_import_opts o;
    tl_import_opts_init(&o);
    static const tl_ingest_format formats[] = {TL_FORMAT_TSV, TL_FORMAT_CSV, TL_FORMAT_JSONL,
                                               TL_FORMAT_JSONL};
    if (a.format >= 0)
        o.in.format = formats[a.format];
    if (a.type)
        o.in.default_type = a.type;
    o.weights = a.weights;
    if (a.list_sep) {
        if (strlen(a.list_sep) != 1)
            return tl_opt_usage_error(&def, "--list-sep takes one character, not '%s'", a.list_sep);
        o.in.list_sep = a.list_sep[0];
    }
    o.in.max_field = (size_t)a.max_field;
    o.strict = a.strict;
    o.in.skip_bad = a.skip_bad;
    o.dry_run = a.dry_run;
    if (kind_of(kind, &o.in.kind) < 0)
        return tl_opt_usage_error(&def, "'%s' is not items, users, events, searches or circulation",
                                  kind);
    o.in.path = file;
    return tl_cli_import_run(cli, &o, kind, a.quiet);
}

int tl_cli_import_run(const tl_cli *cli, tl_import_opts *o_, const char *kind, int quiet)
{
    tl_import_opts o = *o_;
    const char *file = o.in.path;
    int code;

    /* a dry run must not create a store: with none yet (no file, or a database without
     * Tailor's tables), validate against an empty one */
    const char *target = cli->db_path;
    int on_pg = tl_store_is_postgres(target);
    if (o.dry_run && !on_pg && access(target, F_OK) != 0)
        target = ":memory:";
    tl_store *st = NULL;
    tl_diag d;
    tl_diag_clear(&d);
    tl_err rc = tl_cli_store_open(cli, target, o.dry_run && on_pg ? 0 : TL_STORE_CREATE, &st, &d);
    if (rc == TL_ENOTFOUND && o.dry_run && on_pg) {
        tl_diag_clear(&d);
        rc = tl_cli_store_open(cli, ":memory:", TL_STORE_CREATE, &st, &d);
    }
    if (rc != TL_OK)
        return tl_cli_fail("cannot open the store", rc, &d);
    tl_progress pg;
    char label[64];
    snprintf(label, sizeof(label), "importing %s", kind);
    tl_progress_init(&pg, label, !quiet && isatty(STDERR_FILENO));
    o.in.progress = tl_progress_update;
    o.in.progress_ctx = &pg;
    tl_import_report rep;
    rc = tl_store_import(st, &o, &rep, &d);
    tl_progress_done(&pg);
    if (rc != TL_OK) {
        char what[600];
        snprintf(what, sizeof(what), "import %s", file);
        code = tl_cli_fail(what, rc, &d);
        if (code == TL_EXIT_DATA)
            fprintf(stderr, "tailor: nothing was imported (%s)\n",
                    rep.in.damaged ? "the file is damaged"
                                   : "use --skip-bad to import the other lines");
        goto out;
    }
    if (rep.in.skipped)
        print_skips(&rep);
    if (!rep.in.rows)
        fprintf(stderr, "tailor: %s has no rows: nothing to import\n", file);
    if (!quiet) {
        double rate = rep.seconds > 0 ? (double)rep.in.rows / rep.seconds : 0;
        char r[16];
        tl_progress_human(rate, r, sizeof(r));
        printf("%s %s from %s (%s): %lld rows, %lld added, %lld updated, %lld unchanged",
               o.dry_run ? "dry run, nothing written:" : "imported", kind, file,
               format_name(rep.in.format), rep.in.rows, rep.added, rep.updated, rep.unchanged);
        if (rep.in.skipped)
            printf(", %lld skipped", rep.in.skipped);
        if (rep.in.ignored)
            printf(", %lld ignored (types not mapped or no patron)", rep.in.ignored);
        if (rep.new_users || rep.new_items)
            printf("; %lld new users, %lld new items", rep.new_users, rep.new_items);
        printf(" (%.2f s, %s rows/s)\n", rep.seconds, r);
    }
    code = TL_EXIT_OK;
out:
    tl_store_free(st);
    return code;
}

const tl_cmd tl_cmd_import = {
    &def, "import items, users, events or searches (TSV/CSV/JSON Lines, .gz)", run};
