/* `tailor import marc` over every MARC file of ../shared/data/marc (real fixtures of pymarc and
 * ruby-marc, some broken on purpose, MARC-8, UNIMARC): as many items as yaz-marcdump counts
 * records (the broken files: the good records, and a named error per bad one), named records'
 * fields, --skip-bad, a store left unchanged by a failed import, UNIMARC mapped or refused,
 * MARC-8 converted to UTF-8; and Koha 952 copies, series with volumes and work ids from a
 * MARCXML file written here. With TL_TEST_DB=postgres (test_cli_marc_postgres) the tests whose
 * store is not a file to look into run on PostgreSQL databases. */
#include "pg_server.h"
#include "support.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tailor/store.h"

#define MARC_DIR "data/marc"

static const char *fixture(const char *name)
{
    static char buf[4][1024];
    static int next;
    const char *dir = tl_test_shared(MARC_DIR);
    if (!dir)
        return NULL;
    char *b = buf[next++ % 4];
    snprintf(b, sizeof(buf[0]), "%s/%s", dir, name);
    return b;
}

static int have_fixtures(void)
{
    const char *p = fixture("SOURCE.md");
    return p && access(p, R_OK) == 0;
}

#define NEED_FIXTURES()                                                                            \
    do {                                                                                           \
        if (!have_fixtures()) {                                                                    \
            fprintf(stderr, "skipped: ../shared/data/marc is absent\n");                           \
            skip();                                                                                \
        }                                                                                          \
    } while (0)

static long long stats_items(const char *db)
{
    assert_int_equal(tl_test_cli("--db '%s' stats --json", db), 0);
    char *out = tl_test_cli_out();
    json_error_t err;
    json_t *j = json_loads(out, 0, &err);
    if (!j)
        fail_msg("stats --json is not JSON: %s", out);
    long long n = json_integer_value(json_object_get(j, "items"));
    json_decref(j);
    free(out);
    return n;
}

/* What yaz-marcdump counts in path (-1 when it is not installed): "<!-- Record N" lines of an
 * ISO 2709 file, records written back in line mode (001 lines) of a MARCXML one. */
static long yaz_count(const char *path, int xml)
{
    if (tl_test_sh("command -v yaz-marcdump > /dev/null") != 0)
        return -1;
    const char *out = tl_test_tmp("yaz.txt");
    char cmd[2048];
    if (xml)
        snprintf(cmd, sizeof(cmd),
                 "yaz-marcdump -i marcxml -o line '%s' 2>/dev/null"
                 " | grep -c '^001 ' > '%s'",
                 path, out);
    else
        snprintf(cmd, sizeof(cmd),
                 "yaz-marcdump -np '%s' 2>/dev/null | grep -c '^<!-- Record' > '%s'", path, out);
    if (tl_test_sh("%s", cmd) > 1)
        return -1;
    char *t = tl_test_read(out);
    long n = t ? atol(t) : -1;
    free(t);
    return n;
}

/* The fixtures, with what yaz-marcdump says of them: records it reads cleanly are the items;
 * the broken ones list their bad records. */
typedef struct fix {
    const char *name;
    int xml;
    long good;
    const char *bad;   /* "record N: reason" fragments the report must name, '|'-separated */
    int yaz_reads_all; /* yaz-marcdump's count is the good records */
    long items;        /* items in the store when fewer than good (the same 001 twice) */
} fix;

static const fix fixtures[] = {
    {"pymarc__batch.xml", 1, 2, NULL, 1, 0},
    {"pymarc__diacritic.dat", 0, 1, NULL, 1, 0},
    {"pymarc__marc.dat", 0, 20, NULL, 1, 0},
    {"pymarc__marc8.dat", 0, 1, NULL, 1, 0},
    {"pymarc__one.dat", 0, 1, NULL, 1, 0},
    {"pymarc__regression45.dat", 0, 12, NULL, 1, 0},
    {"pymarc__test.dat", 0, 10, NULL, 1, 0},
    {"pymarc__testunimarc.dat", 0, 1, NULL, 1, 0},
    {"pymarc__utf8.xml", 1, 1, NULL, 1, 0},
    {"pymarc__utf8_with_leader_flag.dat", 0, 1, NULL, 1, 0},
    {"ruby-marc__one.xml", 1, 1, NULL, 1, 0},
    /* the same record (001 000039829) twice: two records read, one item */
    {"ruby-marc__utf8_multirecord.marc", 0, 2, NULL, 1, 1},
    /* yaz-marcdump: records 2-6 "Base address not at end of directory", "Bad value for data
     * length", "Base address ... should hold a number"; 1, 7 (no fields) and 8 are read */
    {"pymarc__bad_records.mrc", 0, 3,
     "record 2: the base address of data 99937|record 3: the base address of data 0|"
     "record 4: the directory is 13 bytes|record 5: the directory is 13 bytes|"
     "record 6: the base address of data (leader/12-16) 'f0037' is not a number",
     0, 0},
    /* yaz-marcdump: "Record 1", then "Premature EOF" (the leader says 1167 bytes, the file
     * has 1166): it reads none */
    {"ruby-marc__cp866_unimarc.marc", 0, 0, "record 1: offset 0: the leader gives 1167 bytes", 0,
     0},
    /* the second record holds bytes that are not UTF-8: yaz-marcdump reads the first only */
    {"ruby-marc__three-records-second-bad.xml", 1, 1, "record 2: not well-formed XML", 1, 0},
};
#define NFIX (sizeof(fixtures) / sizeof(fixtures[0]))

static void check_bad(const char *err, const fix *f)
{
    char want[512];
    snprintf(want, sizeof(want), "%s", f->bad);
    for (char *tok = strtok(want, "|"); tok; tok = strtok(NULL, "|"))
        if (!strstr(err, tok))
            fail_msg("%s: the report does not name \"%s\":\n%s", f->name, tok, err);
}

static void test_every_fixture(void **state)
{
    (void)state;
    NEED_FIXTURES();
    for (size_t i = 0; i < NFIX; i++) {
        const fix *f = &fixtures[i];
        const char *path = fixture(f->name);
        long yaz = yaz_count(path, f->xml);
        if (yaz >= 0 && f->yaz_reads_all && yaz != f->good)
            fail_msg("%s: yaz-marcdump counts %ld records, the test expects %ld", f->name, yaz,
                     f->good);
        char db[600];
        snprintf(db, sizeof(db), "%s/fix%zu.db", tl_test_tmpdir(), i);
        int rc = tl_test_cli("--db '%s' import marc '%s'", db, path);
        if (!f->bad) {
            char says[64];
            snprintf(says, sizeof(says), ": %ld records, %ld added", f->good,
                     f->items ? f->items : f->good);
            tl_test_cli_check(rc, 0, says, NULL);
            assert_int_equal(stats_items(db), f->items ? f->items : f->good);
            continue;
        }
        /* broken: refused as a whole with the first bad record named, nothing written */
        tl_test_cli_check(rc, 3, NULL, "nothing was imported");
        char *err = tl_test_cli_err();
        char first[256];
        snprintf(first, sizeof(first), "%s", f->bad);
        first[strcspn(first, "|")] = '\0';
        if (!strstr(err, first))
            fail_msg("%s: the error does not name \"%s\":\n%s", f->name, first, err);
        free(err);
        /* with --skip-bad: the good records, and every bad one named */
        rc = tl_test_cli("--db '%s' import marc '%s' --skip-bad", db, path);
        /* a file of bad records only imports nothing: that is a failure, not a success */
        tl_test_cli_check(rc, f->good ? 0 : 3, NULL, "skipped");
        err = tl_test_cli_err();
        check_bad(err, f);
        free(err);
        if (f->good)
            assert_int_equal(stats_items(db), f->good);
        else /* nothing good: the new store is not left behind */
            assert_int_not_equal(access(db, F_OK), 0);
    }
}

/* A failed import leaves a store that had data exactly as it was. */
static void test_store_unchanged_on_failure(void **state)
{
    (void)state;
    NEED_FIXTURES();
    const char *db = tl_test_tmp("unchanged.db");
    char dbc[600];
    snprintf(dbc, sizeof(dbc), "%s", db);
    assert_int_equal(tl_test_cli("--db '%s' import marc '%s'", dbc, fixture("pymarc__one.dat")), 0);
    tl_test_snap s = tl_test_snapshot(dbc);
    tl_test_cli_check(
        tl_test_cli("--db '%s' import marc '%s'", dbc, fixture("pymarc__bad_records.mrc")), 3, NULL,
        "record 2");
    tl_test_assert_unchanged(dbc, &s);
    assert_int_equal(stats_items(dbc), 1);
    /* re-importing the same records changes nothing */
    tl_test_cli_check(tl_test_cli("--db '%s' import marc '%s'", dbc, fixture("pymarc__one.dat")), 0,
                      "0 added, 0 updated, 1 unchanged", NULL);
}

/* ---- named records ------------------------------------------------------------------------- */

typedef struct got {
    char *title, *authors, *subjects, *type, *format, *language, *extra;
    long long year, copies, available;
    int details;
    char *work, *isbn, *series, *publisher, *contents, *summary, *edition;
    double volume;
    int nh;
    char copy[8][128], branch[8][128], status[8][64];
    int avail[8];
} got;

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static tl_err on_item(void *ctx, const tl_item_rec *r)
{
    got *g = ctx;
    g->title = dup_or_null(r->title);
    g->authors = dup_or_null(r->authors);
    g->subjects = dup_or_null(r->subjects);
    g->type = dup_or_null(r->type);
    g->format = dup_or_null(r->format);
    g->language = dup_or_null(r->language);
    g->extra = dup_or_null(r->extra);
    g->year = r->year;
    g->copies = r->copies;
    g->available = r->available;
    return TL_OK;
}

static tl_err on_details(void *ctx, const tl_item_details *d)
{
    got *g = ctx;
    g->details = 1;
    g->work = dup_or_null(d->work);
    g->isbn = dup_or_null(d->isbn);
    g->series = dup_or_null(d->series);
    g->publisher = dup_or_null(d->publisher);
    g->contents = dup_or_null(d->contents);
    g->summary = dup_or_null(d->summary);
    g->edition = dup_or_null(d->edition);
    g->volume = d->series_volume;
    return TL_OK;
}

static tl_err on_holding(void *ctx, const tl_holding_rec *h)
{
    got *g = ctx;
    if (g->nh < 8) {
        snprintf(g->copy[g->nh], sizeof(g->copy[0]), "%s", h->copy);
        snprintf(g->branch[g->nh], sizeof(g->branch[0]), "%s", h->branch ? h->branch : "");
        snprintf(g->status[g->nh], sizeof(g->status[0]), "%s", h->status ? h->status : "");
        g->avail[g->nh] = h->available;
    }
    g->nh++;
    return TL_OK;
}

static void got_free(got *g)
{
    char **s[] = {&g->title,     &g->authors,  &g->subjects, &g->type,   &g->format,
                  &g->language,  &g->extra,    &g->work,     &g->isbn,   &g->series,
                  &g->publisher, &g->contents, &g->summary,  &g->edition};
    for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++)
        free(*s[i]);
    memset(g, 0, sizeof(*g));
}

static void load(const char *db, const char *id, got *g)
{
    memset(g, 0, sizeof(*g));
    tl_store *st;
    tl_diag d;
    int found;
    assert_int_equal(tl_store_open(db, TL_STORE_READONLY, &st, &d), TL_OK);
    assert_int_equal(tl_store_get_item(st, id, strlen(id), on_item, g, &found, &d), TL_OK);
    if (!found)
        fail_msg("no item '%s' in %s", id, db);
    assert_int_equal(tl_store_item_details(st, id, strlen(id), on_details, g, &found, &d), TL_OK);
    assert_int_equal(tl_store_item_holdings(st, id, strlen(id), on_holding, g, &d), TL_OK);
    tl_store_free(st);
}

static void assert_has(const char *s, const char *want)
{
    if (!s || !strstr(s, want))
        fail_msg("\"%s\" does not hold \"%s\"", s ? s : "(null)", want);
}

static void import_ok(const char *db, const char *file, const char *more)
{
    tl_test_cli_check(tl_test_cli("--db '%s' import marc '%s' %s", db, file, more ? more : ""), 0,
                      "records", NULL);
}

static void test_named_records(void **state)
{
    (void)state;
    NEED_FIXTURES();
    char db[600];
    snprintf(db, sizeof(db), "%s", tl_test_store("named.db"));
    const char *files[] = {"pymarc__one.dat", "pymarc__diacritic.dat", "pymarc__regression45.dat",
                           "ruby-marc__three-records-second-bad.xml", "pymarc__batch.xml"};
    for (int i = 0; i < 5; i++)
        import_ok(db, fixture(files[i]), "--skip-bad");
    got g;
    /* pymarc one.dat: 001 "fol05731351 " (trailing blank dropped) */
    load(db, "fol05731351", &g);
    assert_string_equal(g.title, "ActivePerl with ASP and ADO");
    assert_string_equal(g.authors, "Martinsson, Tobias");
    assert_string_equal(g.subjects, "Perl (Computer program language)|Active server pages|ActiveX");
    assert_string_equal(g.type, "book");
    assert_string_equal(g.language, "eng");
    assert_int_equal(g.year, 2000);
    assert_string_equal(g.isbn, "0471383147");
    assert_string_equal(g.publisher, "John Wiley & Sons");
    assert_string_equal(g.work, "w:activeperl with asp and ado/martinsson");
    assert_int_equal(g.copies, TL_ABSENT); /* no holdings in the record: unknown, not 0 */
    got_free(&g);
    /* diacritic.dat: title and subtitle, 505 contents, UTF-8 kept */
    load(db, "17091269", &g);
    assert_string_equal(g.title, "Amateur media: social, cultural and legal perspectives");
    assert_has(g.authors, "Hunter, Dan");
    assert_has(g.contents, "Histories of user-generated content");
    assert_has(g.contents, "Eva Hemmungs Wirte\xcc\x81n"); /* as the UTF-8 record has it */
    got_free(&g);
    /* regression45: a Prokudin-Gorskii glass negative: a picture, a 490 series, a 520 summary */
    load(db, "prk2000001890", &g);
    assert_string_equal(g.type, "other");
    assert_string_equal(g.format, "image");
    assert_string_equal(
        g.series, "Views along the Upper Volga River, from Kashin to Makarev, Russian Empire");
    assert_true(isnan(g.volume));
    assert_has(g.summary, "At the beginning of the 20th century");
    assert_has(g.subjects, "Shrouds");
    assert_int_equal(g.nh, 1);
    assert_string_equal(g.branch[0], "Prints and Photographs Division");
    got_free(&g);
    /* ruby-marc: a sound recording with two 852 locations */
    load(db, "afc99990058366", &g);
    assert_string_equal(g.title, "The Texas ranger");
    assert_string_equal(g.type, "audio");
    assert_string_equal(
        g.authors, "Lomax, John Avery, 1867-1948|Lomax, Ruby T. (Ruby Terrill)|Taylor, Beale D.");
    assert_string_equal(g.subjects, "Medina");
    assert_int_equal(g.copies, 2);
    assert_int_equal(g.nh, 2);
    got_free(&g);
}

static void test_marc8_to_utf8(void **state)
{
    (void)state;
    NEED_FIXTURES();
    char db[600];
    snprintf(db, sizeof(db), "%s", tl_test_tmp("marc8.db"));
    import_ok(db, fixture("pymarc__marc8.dat"), NULL);
    got g;
    load(db, "2", &g);
    assert_string_equal(g.title, "Escape from loneliness");
    assert_string_equal(g.authors, "Tournier, Paul");
    /* 240 in MARC-8 (0xE1 grave, 0xE2 acute before their letters) as precomposed UTF-8 */
    assert_has(g.extra, "\"uniform_title\":\"De la solitude \xc3\xa0 la communaut\xc3\xa9\"");
    assert_string_equal(g.work, "w:de la solitude \xc3\xa0 la communaut\xc3\xa9/tournier");
    got_free(&g);
    /* the same record read as if it were UTF-8: MARC-8's bytes are not UTF-8, and the error says
     * how to name the character set */
    tl_test_cli_check(tl_test_cli("--db '%s' import marc '%s' --encoding utf-8", db,
                                  fixture("pymarc__marc8.dat")),
                      3, NULL, "record 1: field 240 is not valid UTF-8");
}

static void test_unimarc(void **state)
{
    (void)state;
    NEED_FIXTURES();
    char db[600];
    snprintf(db, sizeof(db), "%s", tl_test_tmp("unimarc.db"));
    tl_test_cli_check(tl_test_cli("--db '%s' import marc '%s' --refuse-unimarc", db,
                                  fixture("pymarc__testunimarc.dat")),
                      3, NULL, "record 1: this is a UNIMARC record");
    import_ok(db, fixture("pymarc__testunimarc.dat"), NULL);
    char *out = tl_test_cli_out();
    assert_has(out, "1 UNIMARC");
    free(out);
    got g;
    load(db, "IT\\ICCU\\ANA\\0019370", &g);
    assert_string_equal(g.title, "L'altra faccia della spirale");
    assert_string_equal(g.authors,
                        "Asimov, Isaac|Fruttero, Carlo|Lucentini, Franco|Scaglia, Cesare");
    assert_int_equal(g.year, 1996);
    assert_string_equal(g.language, "ita");
    assert_string_equal(g.isbn, "8804406828");
    /* the nonsorting "L'" (between U+0088 and U+0089 in the title) is not part of the work */
    assert_string_equal(g.work, "w:altra faccia della spirale/asimov");
    assert_string_equal(g.publisher, "A. Mondadori");
    assert_has(g.extra, "\"record_format\":\"unimarc\"");
    got_free(&g);
}

/* ---- Koha copies, series volumes, work ids -------------------------------------------------- */

static const char koha_xml[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<collection xmlns=\"http://www.loc.gov/MARC21/slim\">\n"
    " <record><leader>00000nam a2200000 a 4500</leader>\n"
    "  <controlfield tag=\"001\">k1</controlfield>\n"
    "  <datafield tag=\"100\" ind1=\"1\" ind2=\" \"><subfield code=\"a\">Le Guin, Ursula "
    "K.,</subfield></datafield>\n"
    "  <datafield tag=\"245\" ind1=\"1\" ind2=\"4\"><subfield code=\"a\">The tombs of Atuan "
    "/</subfield></datafield>\n"
    "  <datafield tag=\"250\" ind1=\" \" ind2=\" \"><subfield code=\"a\">1st "
    "ed.</subfield></datafield>\n"
    "  <datafield tag=\"264\" ind1=\" \" ind2=\"1\"><subfield "
    "code=\"b\">Atheneum,</subfield><subfield code=\"c\">1971.</subfield></datafield>\n"
    "  <datafield tag=\"490\" ind1=\"1\" ind2=\" \"><subfield code=\"a\">Earthsea "
    ";</subfield><subfield code=\"v\">v. 2</subfield></datafield>\n"
    "  <datafield tag=\"830\" ind1=\" \" ind2=\"0\"><subfield code=\"a\">Earthsea cycle "
    ";</subfield><subfield code=\"v\">2.</subfield></datafield>\n"
    "  <datafield tag=\"650\" ind1=\" \" ind2=\"0\"><subfield "
    "code=\"a\">Wizards</subfield><subfield code=\"v\">Fiction.</subfield></datafield>\n"
    "  <datafield tag=\"655\" ind1=\" \" ind2=\"7\"><subfield code=\"a\">Fantasy "
    "fiction.</subfield></datafield>\n"
    "  <datafield tag=\"856\" ind1=\"4\" ind2=\"2\"><subfield code=\"3\">Cover "
    "image</subfield><subfield code=\"u\">http://covers.example/k1</subfield></datafield>\n"
    "  <datafield tag=\"952\" ind1=\" \" ind2=\" \"><subfield code=\"9\">501</subfield><subfield "
    "code=\"a\">CENTRAL</subfield><subfield code=\"b\">CENTRAL</subfield><subfield "
    "code=\"c\">FIC</subfield><subfield code=\"p\">3900501</subfield><subfield "
    "code=\"d\">2020-03-01</subfield></datafield>\n"
    "  <datafield tag=\"952\" ind1=\" \" ind2=\" \"><subfield code=\"9\">502</subfield><subfield "
    "code=\"a\">CENTRAL</subfield><subfield code=\"b\">EAST</subfield><subfield "
    "code=\"q\">2026-12-01</subfield></datafield>\n"
    "  <datafield tag=\"952\" ind1=\" \" ind2=\" \"><subfield "
    "code=\"p\">3900503</subfield><subfield code=\"a\">WEST</subfield><subfield "
    "code=\"1\">1</subfield></datafield>\n"
    " </record>\n"
    " <record><leader>00000cam a2200000 i 4500</leader>\n"
    "  <controlfield tag=\"001\">k2</controlfield>\n"
    "  <controlfield tag=\"008\">150101s2012    xxu     o     000 1 eng d</controlfield>\n"
    "  <datafield tag=\"100\" ind1=\"1\" ind2=\" \"><subfield code=\"a\">Le Guin, Ursula "
    "K.</subfield></datafield>\n"
    "  <datafield tag=\"245\" ind1=\"1\" ind2=\"4\"><subfield code=\"a\">The Tombs of "
    "Atuan</subfield><subfield code=\"h\">[electronic resource]</subfield></datafield>\n"
    "  <datafield tag=\"952\" ind1=\" \" ind2=\" \"><subfield code=\"9\">601</subfield><subfield "
    "code=\"a\">EAST</subfield><subfield code=\"7\">1</subfield></datafield>\n"
    " </record>\n"
    "</collection>\n";

/* The first item's title, as the models read the catalogue. */
static tl_err first_title(void *ctx, const char *id, const char *title, int64_t n)
{
    (void)n;
    char *out = ctx;
    if (!out[0] && strcmp(id, "k1") == 0)
        snprintf(out, 256, "%s", title ? title : "");
    return TL_OK;
}

static void test_koha_copies_series_work(void **state)
{
    (void)state;
    const char *file = tl_test_tmp("koha.xml");
    char path[600], db[600];
    snprintf(path, sizeof(path), "%s", file);
    assert_int_equal(tl_test_write(path, koha_xml), 0);
    snprintf(db, sizeof(db), "%s", tl_test_store("koha.db"));
    tl_test_cli_check(tl_test_cli("--db '%s' import marc '%s'", db, path), 0, "4 copies", NULL);
    got g;
    load(db, "k1", &g);
    assert_string_equal(g.title, "The tombs of Atuan");
    assert_string_equal(g.authors, "Le Guin, Ursula K."); /* an initial keeps its period */
    assert_string_equal(g.subjects, "Wizards|Fantasy fiction");
    assert_int_equal(g.year, 1971);
    assert_string_equal(g.edition, "1st ed");
    assert_string_equal(g.series, "Earthsea cycle"); /* 830, the authorized form, before 490 */
    assert_true(g.volume == 2.0);
    assert_int_equal(g.copies, 3);
    assert_int_equal(g.available, 1);
    assert_int_equal(g.nh, 3);
    /* by copy id: Koha's itemnumber (952$9), else the barcode (952$p) */
    assert_string_equal(g.copy[0], "3900503");
    assert_string_equal(g.branch[0], "WEST");
    assert_string_equal(g.status[0], "lost");
    assert_int_equal(g.avail[0], 0);
    assert_string_equal(g.copy[1], "501");
    assert_string_equal(g.branch[1], "CENTRAL");
    assert_string_equal(g.status[1], "available");
    assert_int_equal(g.avail[1], 1);
    assert_string_equal(g.copy[2], "502");
    assert_string_equal(g.branch[2], "EAST"); /* where it is (952$b), not its home */
    assert_string_equal(g.status[2], "on loan");
    char *work = strdup(g.work);
    got_free(&g);
    /* the ebook edition of the same work: same work id; not for loan */
    load(db, "k2", &g);
    assert_string_equal(g.type, "ebook");
    assert_string_equal(g.work, work);
    assert_string_equal(work, "w:tombs of atuan/le guin");
    assert_int_equal(g.available, 0);
    assert_string_equal(g.status[0], "not for loan");
    got_free(&g);
    free(work);
    /* copy 502 back on the shelf and copy 3900503 gone: the item's copies follow the record */
    char *edited = strdup(koha_xml);
    char *q = strstr(edited, "<subfield code=\"q\">2026-12-01</subfield>");
    memcpy(q, "<subfield code=\"o\">", 19);
    char *lost = strstr(edited, "<subfield code=\"p\">3900503</subfield>");
    memcpy(lost + 19, "3900504", 7);
    assert_int_equal(tl_test_write(path, edited), 0);
    free(edited);
    tl_test_cli_check(tl_test_cli("--db '%s' import marc '%s'", db, path), 0,
                      "1 updated, 1 unchanged", NULL);
    load(db, "k1", &g);
    assert_int_equal(g.nh, 3);
    assert_string_equal(g.copy[0], "3900504");
    assert_string_equal(g.status[2], "available");
    assert_int_equal(g.available, 2);
    got_free(&g);
    assert_int_equal(stats_items(db), 2);
    /* the series and volume reach the models' titles as "(Series, #N)", which "next in the
     * series" reads */
    tl_store *st;
    tl_diag d;
    assert_int_equal(tl_store_open(db, TL_STORE_READONLY, &st, &d), TL_OK);
    char title[256] = "";
    assert_int_equal(tl_store_items_each(st, first_title, title), TL_OK);
    assert_string_equal(title, "The tombs of Atuan (Earthsea cycle, #2)");
    tl_store_free(st);
}

static void test_usage_errors(void **state)
{
    (void)state;
    const char *db = tl_test_tmp("usage.db");
    char dbc[600];
    snprintf(dbc, sizeof(dbc), "%s", db);
    tl_test_cli_check(tl_test_cli("--db '%s' import marc /nonexistent.mrc", dbc), 1, NULL,
                      "cannot open");
    tl_test_cli_check(tl_test_cli("--db '%s' import marc x.mrc --format pica", dbc), 2, NULL, NULL);
    const char *f = tl_test_tmp("empty.mrc");
    char fc[600];
    snprintf(fc, sizeof(fc), "%s", f);
    assert_int_equal(tl_test_write(fc, ""), 0);
    tl_test_cli_check(tl_test_cli("--db '%s' import marc '%s' --encoding no-such-set", dbc, fc), 2,
                      NULL, "no-such-set");
    tl_test_cli_check(tl_test_cli("--db '%s' import marc '%s'", dbc, fc), 3, NULL, "no records");
    /* not MARC at all */
    assert_int_equal(tl_test_write(fc, "id\ttitle\n1\tDune\n"), 0);
    tl_test_cli_check(tl_test_cli("--db '%s' import marc '%s'", dbc, fc), 3, NULL,
                      "record 1: offset 0: the record length");
}

/* The demo library's catalogue.mrc (tailor synth --library): one record per book, copies across
 * the branches as many as items.tsv says, the ones out on loan; `tailor item` shows them. */
static void test_demo_catalogue(void **state)
{
    (void)state;
    char dir[600], db[600];
    snprintf(dir, sizeof(dir), "%s", tl_test_tmp("demo"));
    snprintf(db, sizeof(db), "%s", tl_test_store("demo.db"));
    tl_test_cli_check(tl_test_cli("synth --library --books '%s' --subjects '%s' --seed 7 "
                                  "--patrons 50 --out '%s'",
                                  tl_test_source("demo/books.csv"),
                                  tl_test_source("demo/subjects.tsv"), dir),
                      0, "catalogue.mrc", NULL);
    char items[700], marc[700];
    snprintf(items, sizeof(items), "%s/items.tsv", dir);
    snprintf(marc, sizeof(marc), "%s/catalogue.mrc", dir);
    assert_int_equal(tl_test_cli("--db '%s' import items '%s'", db, items), 0);
    long long n = stats_items(db);
    tl_test_cli_check(tl_test_cli("--db '%s' import marc '%s'", db, marc), 0, "0 added", NULL);
    assert_int_equal(stats_items(db), n);
    /* b1's copies and availability are those of items.tsv */
    char *tsv = tl_test_read(items);
    assert_non_null(tsv);
    char *row = strstr(tsv, "\nb1\t");
    assert_non_null(row);
    int copies = -1, avail = -1, col = 0;
    for (char *p = row + 1; *p && *p != '\n'; p++)
        if (*p == '\t' && ++col == 9)
            sscanf(p + 1, "%d\t%d", &copies, &avail);
    free(tsv);
    assert_true(copies > 0);
    got g;
    load(db, "b1", &g);
    assert_string_equal(g.title, "The Hunger Games"); /* its series group went to 830 */
    assert_string_equal(g.series, "The Hunger Games");
    assert_true(g.volume == 1.0);
    assert_int_equal(g.copies, copies);
    assert_int_equal(g.available, avail);
    assert_int_equal(g.nh, copies);
    got_free(&g);
    tl_test_cli_check(tl_test_cli("--db '%s' item b1", db), 0, "on the shelf of", NULL);
    tl_test_cli_check(tl_test_cli("--db '%s' item no-such", db), 1, NULL, "no item 'no-such'");
}

/* One entry per work: two editions of one work (the same title and first creator) are one
 * entry in a patron's recommendations, and none when the patron has the other edition;
 * --all-editions lists both. */
static void test_one_entry_per_work(void **state)
{
    (void)state;
    static const char xml[] = "<collection xmlns=\"http://www.loc.gov/MARC21/slim\">"
#define REC(id, title, who)                                                                        \
    "<record><leader>00000nam a2200000 a 4500</leader><controlfield tag=\"001\">" id               \
    "</controlfield><datafield tag=\"100\" ind1=\"1\" ind2=\" \"><subfield code=\"a\">" who        \
    "</subfield></datafield><datafield tag=\"245\" ind1=\"1\" ind2=\"0\"><subfield "               \
    "code=\"a\">" title "</subfield></datafield></record>"
        REC("w1", "Solaris", "Lem, Stanislaw") REC("w2", "Solaris /", "Lem, Stanislaw.")
            REC("w3", "Dune", "Herbert, Frank") REC("w4", "Emma", "Austen, Jane")
#undef REC
                "</collection>";
    static const char events[] = "user\titem\nu1\tw3\nu1\tw1\nu1\tw2\nu1\tw4\n"
                                 "u2\tw3\nu2\tw1\nu2\tw2\nu3\tw1\nu3\tw4\nu4\tw3\nu4\tw2\n"
                                 "u9\tw3\nu8\tw1\n";
    char file[600], ev[600], db[600], model[600];
    snprintf(file, sizeof(file), "%s", tl_test_tmp("works.xml"));
    snprintf(ev, sizeof(ev), "%s", tl_test_tmp("works.tsv"));
    snprintf(db, sizeof(db), "%s", tl_test_store("works.db"));
    snprintf(model, sizeof(model), "%s", tl_test_tmp("works.tlm"));
    assert_int_equal(tl_test_write(file, xml), 0);
    assert_int_equal(tl_test_write(ev, events), 0);
    assert_int_equal(tl_test_cli("--db '%s' import marc '%s'", db, file), 0);
    assert_int_equal(tl_test_cli("--db '%s' import events '%s'", db, ev), 0);
    assert_int_equal(
        tl_test_cli("--db '%s' train --model itemknn --set autotune=0 --out '%s'", db, model), 0);
    /* u9 read Dune: Solaris once (w1 or w2), and Emma */
    assert_int_equal(
        tl_test_cli("--db '%s' recommend --model '%s' --user u9 --live --n 5", db, model), 0);
    char *out = tl_test_cli_out();
    int solaris = (strstr(out, "w1") != NULL) + (strstr(out, "w2") != NULL);
    if (solaris != 1)
        fail_msg("expected one edition of Solaris:\n%s", out);
    free(out);
    assert_int_equal(tl_test_cli("--db '%s' recommend --model '%s' --user u9 --live --n 5 "
                                 "--all-editions",
                                 db, model),
                     0);
    out = tl_test_cli_out();
    if (!strstr(out, "w1") || !strstr(out, "w2"))
        fail_msg("expected both editions of Solaris:\n%s", out);
    free(out);
    /* u8 has w1: never w2, the same work */
    assert_int_equal(
        tl_test_cli("--db '%s' recommend --model '%s' --user u8 --live --n 5", db, model), 0);
    out = tl_test_cli_out();
    if (strstr(out, "w2"))
        fail_msg("w2 is the work u8 already has:\n%s", out);
    free(out);
    /* the homepage too: one edition on the whole page, none of a work the patron has */
    assert_int_equal(
        tl_test_cli("--db '%s' homepage --model '%s' --user u9 --rows 4 --n 3", db, model), 0);
    out = tl_test_cli_out();
    if ((strstr(out, "w1") != NULL) + (strstr(out, "w2") != NULL) != 1)
        fail_msg("expected one edition of Solaris on the page:\n%s", out);
    free(out);
    assert_int_equal(
        tl_test_cli("--db '%s' homepage --model '%s' --user u8 --rows 4 --n 3", db, model), 0);
    out = tl_test_cli_out();
    if (strstr(out, "w2"))
        fail_msg("w2 is the work u8 already has:\n%s", out);
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_fixture),
        cmocka_unit_test(test_store_unchanged_on_failure),
        cmocka_unit_test(test_named_records),
        cmocka_unit_test(test_marc8_to_utf8),
        cmocka_unit_test(test_unimarc),
        cmocka_unit_test(test_koha_copies_series_work),
        cmocka_unit_test(test_usage_errors),
        cmocka_unit_test(test_demo_catalogue),
        cmocka_unit_test(test_one_entry_per_work),
    };
    /* test_cli_marc_postgres: the tests whose store is not a file to look into */
    const struct CMUnitTest any_engine[] = {
        cmocka_unit_test(test_named_records),
        cmocka_unit_test(test_koha_copies_series_work),
        cmocka_unit_test(test_demo_catalogue),
        cmocka_unit_test(test_one_entry_per_work),
    };
    if (tl_test_on_pg())
        return tl_test_pg_start()
                   ? cmocka_run_group_tests_name("marc on postgres", any_engine, NULL, NULL)
                   : TL_TEST_SKIP;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
