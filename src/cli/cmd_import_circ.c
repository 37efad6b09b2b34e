/* tailor import circulation: an ILS's loans, returns, renewals and in-library uses, read
 * through a layout (Koha's statistics or issues tables built in, a mapping file for others),
 * each copy resolved to its record through the holdings; one transaction, as every import. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

typedef struct args {
    const char *layout, *date_format;
    int strict, skip_bad, dry_run, quiet;
} args;

static const tl_opt opts[] = {
    {"layout", 0, TL_OPT_STR, "LAYOUT", NULL, 0, 0, TL_OPT_AT(args, layout),
     "koha-statistics (Koha's statistics table), koha-issues (its issues or\n"
     "old_issues tables), or the path of a mapping file (docs/ILS.md;\n"
     "examples for Evergreen, Alma and FOLIO in etc/ils/)"},
    {"date-format", 0, TL_OPT_STR, "F", NULL, 0, 0, TL_OPT_AT(args, date_format),
     "the dates' format instead of the layout's: iso, or a pattern of %Y %y\n"
     "%m %d %H %M %S, e.g. \"%d/%m/%Y %H:%M\""},
    {"strict", 0, TL_OPT_FLAG, NULL, NULL, 0, 0, TL_OPT_AT(args, strict),
     "rows naming unknown patrons or records are errors (default: create\n"
     "them)"},
    {"skip-bad", 0, TL_OPT_FLAG, NULL, NULL, 0, 0, TL_OPT_AT(args, skip_bad),
     "skip bad rows (an unknown itemnumber...), import the rest, and report\n"
     "what was skipped and why"},
    {"dry-run", 0, TL_OPT_FLAG, NULL, NULL, 0, 0, TL_OPT_AT(args, dry_run),
     "validate everything and report, but write nothing"},
    {"quiet", 'q', TL_OPT_FLAG, NULL, NULL, 0, 0, TL_OPT_AT(args, quiet),
     "no progress bar and no summary"},
    {NULL},
};

static const tl_cmd_def def = {
    .name = "import circulation",
    .synopsis = "[--db PATH] import circulation FILE --layout LAYOUT [OPTIONS]",
    .about =
        "Imports an ILS's circulation export (plain or .gz; '-' = stdin) into the store in one\n"
        "transaction: a bad row stops the import with its line and field, and the store is left\n"
        "exactly as it was (exit 3).",
    .notes = "koha-statistics: columns datetime, branch, type, itemnumber, borrowernumber\n"
             "  (biblionumber when present); types issue and onsite_checkout = loan, renew,\n"
             "  return, localuse = local_use; other types (payment, writeoff...) are ignored.\n"
             "koha-issues: borrowernumber, itemnumber, issuedate, returndate, branchcode; each\n"
             "  row is a loan, and a return when returndate is set.\n"
             "Both read ';'-separated files with dates as YYYY-MM-DD HH:MM:SS. An itemnumber\n"
             "is found through the holdings (imported with the catalogue): one that is not\n"
             "there is an error naming its line, unless the row names its biblionumber. Rows\n"
             "without a patron (anonymous use) are counted as ignored. Patron ids are\n"
             "pseudonymized as they enter when the store has a key (--pseudonym-key).",
    .opts = opts,
    .min_args = 1,
    .max_args = 1,
};

int tl_cli_import_circulation(const tl_cli *cli, int argc, char **argv)
{
    args a;
    memset(&a, 0, sizeof(a));
    int first, code = tl_opt_parse(&def, &a, argc, argv, &first);
    if (code != TL_OPT_RUN)
        return code;
    if (!a.layout)
        return tl_opt_usage_error(&def, "--layout is required (koha-statistics, koha-issues or "
                                        "a mapping file)");
    tl_ingest_layout *lay = NULL;
    tl_diag d;
    tl_diag_clear(&d);
    tl_err rc = tl_ingest_layout_load(a.layout, &lay, &d);
    if (rc != TL_OK)
        return tl_cli_fail("cannot read the layout", rc, &d);
    if (a.date_format) {
        int64_t t;
        if (tl_parse_time_format(a.date_format, "", 0, &t) == -2) {
            tl_ingest_layout_free(lay);
            return tl_opt_usage_error(&def, "--date-format '%s' has an unknown %%-code",
                                      a.date_format);
        }
        tl_ingest_layout_set_date_format(lay, a.date_format);
    }
    tl_import_opts o;
    tl_import_opts_init(&o);
    o.in.kind = TL_INGEST_EVENTS;
    o.in.format = TL_FORMAT_CSV;
    o.in.layout = lay;
    o.in.skip_bad = a.skip_bad;
    o.in.path = argv[first];
    o.strict = a.strict;
    o.dry_run = a.dry_run;
    code = tl_cli_import_run(cli, &o, "circulation", a.quiet);
    tl_ingest_layout_free(lay);
    return code;
}
