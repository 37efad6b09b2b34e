/* tailor import marc: a MARC catalogue (ISO 2709 or MARCXML) into the store, all or nothing
 * (or skipping bad records with --skip-bad), with a progress bar on a terminal. Reached through
 * `tailor import marc FILE`, the import command's dispatch. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/progress.h"
#include "tailor/store.h"

typedef struct args {
    int format; /* index into auto|iso2709|marcxml */
    const char *encoding;
    int skip_bad, refuse_unimarc, quiet;
} args;

static const tl_opt opts[] = {
    {"format", 0, TL_OPT_CHOICE, "auto|iso2709|marcxml", "auto", 0, 0, TL_OPT_AT(args, format),
     "the file's format (auto: MARCXML when it starts with '<', else ISO 2709)"},
    {"encoding", 0, TL_OPT_STR, "NAME", NULL, 0, 0, TL_OPT_AT(args, encoding),
     "ISO 2709 records' character set, converted to UTF-8 by YAZ (marc8,\n"
     "iso-8859-1, cp866...; default: leader/09 'a' = UTF-8, else MARC-8; UNIMARC:\n"
     "its 100$a)"},
    {"skip-bad", 0, TL_OPT_FLAG, NULL, NULL, 0, 0, TL_OPT_AT(args, skip_bad),
     "skip records with a structure or encoding error, import the rest, and name\n"
     "each skipped record and why"},
    {"refuse-unimarc", 0, TL_OPT_FLAG, NULL, NULL, 0, 0, TL_OPT_AT(args, refuse_unimarc),
     "a UNIMARC record is an error (default: mapped from 200, 210, 700, 606...)"},
    {"quiet", 'q', TL_OPT_FLAG, NULL, NULL, 0, 0, TL_OPT_AT(args, quiet),
     "no progress bar and no summary"},
    {NULL},
};

static const tl_cmd_def def = {
    .name = "import marc",
    .synopsis = "[--db PATH] import marc FILE [--format auto|iso2709|marcxml] [--skip-bad]",
    .about =
        "Imports the MARC 21 (or UNIMARC) records of FILE ('-' = stdin) as catalogue items, with\n"
        "their details and copies, in one transaction: a record with a structure or encoding\n"
        "error stops the import with its number and the reason, and the store is left exactly\n"
        "as it was (exit 3). Each record replaces the item of the same id.",
    .notes = "Mapped: 001 (else 035) id; 020 ISBN; 022 ISSN; 100/110/111/700/710/711 creators;\n"
             "245 title: subtitle; 250 edition; 260/264 publisher and year (else 008/07-10);\n"
             "008/35-37 (else 041) language; 300 extent; leader/06-07 type (book, ebook, video,\n"
             "audio, serial = journal; map, score... = other with that format); 336-338 and 856\n"
             "in extra; 830/800/490 series and volume; 505 contents; 520 summary; 600/610/611/\n"
             "630/650/651/655 subjects; 856 cover image. Copies: Koha 952 ($9 itemnumber, else $p\n"
             "barcode; $b/$a branch; $c location; $q on loan, $0 withdrawn, $1 lost, $7 not for\n"
             "loan), MARC 852, Koha UNIMARC 995. UNIMARC: 200, 205, 210, 215, 225, 330, 606...",
    .opts = opts,
    .min_args = 1,
    .max_args = 1,
};

static void print_bad(const tl_marc_report *in)
{
    char buf[1024];
    fprintf(stderr, "tailor: skipped %lld bad record%s of %lld:\n", in->skipped,
            in->skipped == 1 ? "" : "s", in->records);
    for (int i = 0; i < in->nbad; i++) {
        tl_diag_format(&in->bad[i], buf, sizeof(buf));
        fprintf(stderr, "  %s\n", buf);
    }
    if (in->skipped > in->nbad)
        fprintf(stderr, "  ... and %lld more\n", in->skipped - in->nbad);
}

int tl_cli_import_marc(const tl_cli *cli, int argc, char **argv)
{
    args a;
    memset(&a, 0, sizeof(a));
    int first, code = tl_opt_parse(&def, &a, argc, argv, &first);
    if (code != TL_OPT_RUN)
        return code;
    const char *file = argv[first];
    static const tl_marc_format formats[] = {TL_MARC_AUTO, TL_MARC_ISO2709, TL_MARC_XML};
    tl_marc_opts o;
    tl_marc_opts_init(&o);
    o.path = file;
    o.format = formats[a.format];
    o.encoding = a.encoding;
    o.skip_bad = a.skip_bad;
    o.refuse_unimarc = a.refuse_unimarc;
    tl_store *st = NULL;
    tl_diag d;
    tl_diag_clear(&d);
    tl_err rc = tl_cli_store_open(cli, cli->db_path, TL_STORE_CREATE, &st, &d);
    if (rc != TL_OK)
        return tl_cli_fail("cannot open the store", rc, &d);
    tl_progress pg;
    tl_progress_init(&pg, "importing marc", !a.quiet && isatty(STDERR_FILENO));
    o.progress = tl_progress_update;
    o.progress_ctx = &pg;
    tl_marc_import_report rep;
    rc = tl_store_import_marc(st, &o, &rep, &d);
    tl_progress_done(&pg);
    if (rc != TL_OK) {
        code = tl_cli_fail("import marc", rc, &d);
        if (rep.in.skipped)
            print_bad(&rep.in);
        /* (not for a file with no good record at all: the error says so) */
        if (code == TL_EXIT_DATA && !(rep.in.accepted == 0 && rep.in.skipped == rep.in.records))
            fprintf(stderr, "tailor: nothing was imported (%s)\n",
                    rep.in.damaged || !rep.in.nbad ? "the file cannot be read past the fault"
                                                   : "use --skip-bad to import the other records");
        goto out;
    }
    if (rep.in.skipped)
        print_bad(&rep.in);
    if (!a.quiet) {
        double rate = rep.seconds > 0 ? (double)rep.in.records / rep.seconds : 0;
        char r[16];
        tl_progress_human(rate, r, sizeof(r));
        printf("imported marc from %s (%s): %lld records, %lld added, %lld updated, %lld "
               "unchanged, %lld copies",
               file, rep.in.format == TL_MARC_XML ? "marcxml" : "iso2709", rep.in.records,
               rep.added, rep.updated, rep.unchanged, rep.holdings);
        if (rep.in.unimarc)
            printf(", %lld UNIMARC", rep.in.unimarc);
        if (rep.in.skipped)
            printf(", %lld skipped", rep.in.skipped);
        printf(" (%.2f s, %s records/s)\n", rep.seconds, r);
    }
    code = TL_EXIT_OK;
out:
    tl_store_free(st);
    return code;
}
