/* tailor import: loads items, users, events or searches from a file into the store, all or
 * nothing (or skipping bad lines with --skip-bad), with a progress bar on a terminal. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/progress.h"
#include "tailor/store.h"

static void usage(FILE *f)
{
    fprintf(
        f,
        "usage: tailor [--db PATH] import {items|users|events|searches} FILE [OPTIONS]\n\n"
        "Imports FILE (TSV, CSV or JSON Lines; plain or .gz; '-' = stdin) into the store in one\n"
        "transaction: a bad line stops the import with its file, line and field, and the store\n"
        "is left exactly as it was (exit 3). Re-importing a file changes nothing.\n\n"
        "Options:\n"
        "  --format F      tsv, csv or jsonl (default: from the name: .csv, .jsonl/.ndjson/.json,\n"
        "                  else tsv)\n"
        "  --type T        events: the event type when the file has no type column (default:\n"
        "                  rate when there is a value column, else loan); items: the item type\n"
        "                  when there is no type column (default: book)\n"
        "  --strict        events naming unknown users or items are errors (default: create them)\n"
        "  --skip-bad      skip bad lines, import the rest, and report what was skipped and why\n"
        "  --dry-run       validate everything and report, but write nothing\n"
        "  --weights SPEC  save event weights with the data, e.g. \"view=0.1,loan=1,rate.min=4\"\n"
        "                  (also default=, rate.scale=, dwell.cap=, merge=sum|max)\n"
        "  --list-sep C    separator of list fields (authors, subjects, clicked) in TSV/CSV\n"
        "                  (default '|'; e.g. --list-sep , for \"A, B\")\n"
        "  --max-field N   longest field in bytes (default 65536); lines are limited to 1 MiB\n"
        "  --quiet         no progress bar and no summary\n\n"
        "Columns are found by header name (any case; JSON keys alike):\n"
        "  events:   user (user_id, patron, borrower...), item (item_id, book_id, record_id...),\n"
        "            type (event, action), value (rating, score, count, seconds; |value| <= 1e9),\n"
        "            timestamp (time, ts, date: Unix seconds or ISO 8601, 1970 to 3000), device,\n"
        "            channel, branch (library, location), session, context (a JSON object)\n"
        "  items:    item (id, book_id...), type, title, authors (creators, author), subjects\n"
        "            (genres, tags), year, language (language_code), format, added, copies,\n"
        "            available, extra (a JSON object); other columns are kept in extra\n"
        "  users:    user (id, patron...), personalize (consent: yes/no), created, attributes\n"
        "            (a JSON object); other columns (department, level...) are kept as attributes\n"
        "  searches: user, query (q), timestamp, clicked (item ids)\n"
        "Ids keep any Unicode but no tab, line break or other control character. Lines end in\n"
        "LF, CRLF or CR.\n"
        "Event types: loan return renew hold view click rate review download list_add skip dwell,\n"
        "or any other word (kept as given, lowercased).\n");
}

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

static int missing_value; /* set when an option that takes a value came last */

/* "--name value" or "--name=value"; advances *i. */
static const char *opt_value(int argc, char **argv, int *i, const char *name)
{
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, name, n) != 0)
        return NULL;
    if (a[n] == '=')
        return a + n + 1;
    if (a[n] != '\0')
        return NULL;
    if (*i + 1 < argc)
        return argv[++*i];
    missing_value = 1;
    return NULL;
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

int cmd_import(const tl_cli *cli, int argc, char **argv)
{
    if (tl_cli_wants_help(argc, argv)) {
        usage(stdout);
        return TL_EXIT_OK;
    }
    tl_import_opts o;
    tl_import_opts_init(&o);
    const char *kind = NULL, *file = NULL, *v;
    int quiet = 0;
    for (int i = 1; i < argc; i++) {
        if ((v = opt_value(argc, argv, &i, "--format"))) {
            if (strcmp(v, "tsv") == 0)
                o.in.format = TL_FORMAT_TSV;
            else if (strcmp(v, "csv") == 0)
                o.in.format = TL_FORMAT_CSV;
            else if (strcmp(v, "jsonl") == 0 || strcmp(v, "json") == 0)
                o.in.format = TL_FORMAT_JSONL;
            else {
                fprintf(stderr, "tailor import: --format must be tsv, csv or jsonl\n");
                return TL_EXIT_USAGE;
            }
        } else if ((v = opt_value(argc, argv, &i, "--type"))) {
            o.in.default_type = v;
        } else if ((v = opt_value(argc, argv, &i, "--weights"))) {
            o.weights = v;
        } else if ((v = opt_value(argc, argv, &i, "--list-sep"))) {
            if (strlen(v) != 1) {
                fprintf(stderr, "tailor import: --list-sep takes one character\n");
                return TL_EXIT_USAGE;
            }
            o.in.list_sep = v[0];
        } else if ((v = opt_value(argc, argv, &i, "--max-field"))) {
            char *end;
            long long n = strtoll(v, &end, 10);
            if (*end || n < 1 || n > (1 << 20)) {
                fprintf(stderr, "tailor import: --max-field must be 1..1048576\n");
                return TL_EXIT_USAGE;
            }
            o.in.max_field = (size_t)n;
        } else if (strcmp(argv[i], "--strict") == 0) {
            o.strict = 1;
        } else if (strcmp(argv[i], "--skip-bad") == 0) {
            o.in.skip_bad = 1;
        } else if (strcmp(argv[i], "--dry-run") == 0) {
            o.dry_run = 1;
        } else if (strcmp(argv[i], "--quiet") == 0 || strcmp(argv[i], "-q") == 0) {
            quiet = 1;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            if (missing_value)
                fprintf(stderr, "tailor import: %s needs a value\n", argv[i]);
            else
                fprintf(stderr, "tailor import: unknown option '%s' (see tailor import --help)\n",
                        argv[i]);
            return TL_EXIT_USAGE;
        } else if (!kind) {
            kind = argv[i];
        } else if (!file) {
            file = argv[i];
        } else {
            fprintf(stderr, "tailor import: unexpected argument '%s'\n", argv[i]);
            return TL_EXIT_USAGE;
        }
    }
    if (!kind || !file || kind_of(kind, &o.in.kind) < 0) {
        if (kind && kind_of(kind, &o.in.kind) < 0)
            fprintf(stderr, "tailor import: '%s' is not items, users, events or searches\n", kind);
        else
            usage(stderr);
        return TL_EXIT_USAGE;
    }
    o.in.path = file;

    /* a dry run must not create a store: with none yet, validate against an empty one */
    const char *target = cli->db_path;
    if (o.dry_run && access(target, F_OK) != 0)
        target = ":memory:";
    tl_store *st = NULL;
    tl_diag d;
    tl_diag_clear(&d);
    tl_err rc = tl_store_open(target, TL_STORE_CREATE, &st, &d);
    if (rc != TL_OK) {
        tl_cli_error("cannot open the store", rc, &d);
        return TL_EXIT_FAIL;
    }
    tl_progress pg;
    char label[64];
    snprintf(label, sizeof(label), "importing %s", kind);
    tl_progress_init(&pg, label, !quiet && isatty(STDERR_FILENO));
    o.in.progress = tl_progress_update;
    o.in.progress_ctx = &pg;
    tl_import_report rep;
    rc = tl_store_import(st, &o, &rep, &d);
    tl_progress_done(&pg);
    int code = TL_EXIT_OK;
    if (rc != TL_OK) {
        char what[600];
        snprintf(what, sizeof(what), "import %s", file);
        tl_cli_error(what, rc, &d);
        if (rc == TL_EPARSE || rc == TL_ENOTFOUND) {
            fprintf(stderr, "tailor: nothing was imported (%s)\n",
                    rep.in.damaged ? "the file is damaged"
                                   : "use --skip-bad to import the other lines");
            code = TL_EXIT_DATA;
        } else {
            code = rc == TL_EINVAL ? TL_EXIT_USAGE : TL_EXIT_FAIL;
        }
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
        if (rep.new_users || rep.new_items)
            printf("; %lld new users, %lld new items", rep.new_users, rep.new_items);
        printf(" (%.2f s, %s rows/s)\n", rep.seconds, r);
    }
out:
    tl_store_free(st);
    return code;
}
