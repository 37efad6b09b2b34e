/* Tests of src/synth: the power-law generator's shape, determinism and tail, its file output,
 * series parsing, the simulated library on the shipped demo catalogue, and the shapes (planted
 * structure, sizes, determinism). */
#include "support.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/series.h"
#include "ingest/matrix_tsv.h"
#include "synth/synth.h"
#include "util/lines.h"

static void small_opts(tl_synth_opts *o, uint64_t seed)
{
    tl_synth_opts_ml20m(o);
    o->users = 400;
    o->items = 1500;
    o->events = 24000;
    o->seed = seed;
}

static int same_csr(const tl_csr *a, const tl_csr *b)
{
    return a->nrows == b->nrows && a->ncols == b->ncols && a->nnz == b->nnz &&
           !memcmp(a->indptr, b->indptr, ((size_t)a->nrows + 1) * sizeof(*a->indptr)) &&
           !memcmp(a->indices, b->indices, (size_t)a->nnz * sizeof(*a->indices)) &&
           !a->ts == !b->ts && (!a->ts || !memcmp(a->ts, b->ts, (size_t)a->nnz * sizeof(*a->ts)));
}

static void test_powerlaw_deterministic(void **state)
{
    (void)state;
    tl_synth_opts o;
    tl_data a, b, c;
    tl_data_init(&a);
    tl_data_init(&b);
    tl_data_init(&c);
    small_opts(&o, 7);
    assert_int_equal(tl_synth_powerlaw(&o, &a), TL_OK);
    assert_int_equal(tl_synth_powerlaw(&o, &b), TL_OK);
    assert_true(same_csr(&a.ui, &b.ui));
    assert_true(same_csr(&a.iu, &b.iu));
    o.seed = 8;
    assert_int_equal(tl_synth_powerlaw(&o, &c), TL_OK);
    assert_int_equal(c.ui.nnz, a.ui.nnz);
    assert_false(same_csr(&a.ui, &c.ui));
    tl_data_release(&a);
    tl_data_release(&b);
    tl_data_release(&c);
}

static void test_powerlaw_shape(void **state)
{
    (void)state;
    tl_synth_opts o;
    tl_data d;
    tl_data_init(&d);
    small_opts(&o, 1);
    assert_int_equal(tl_synth_powerlaw(&o, &d), TL_OK);
    assert_int_equal(d.users.count, o.users);
    assert_int_equal(d.items.count, o.items);
    assert_string_equal(tl_intern_str(&d.users, 17), "u17");
    assert_string_equal(tl_intern_str(&d.items, 1499), "i1499");
    /* The target is met exactly, and the transpose agrees. */
    assert_int_equal(d.ui.nnz, o.events);
    assert_int_equal(d.iu.nnz, o.events);
    assert_non_null(d.ui.ts);
    int64_t mindeg = INT64_MAX, maxdeg = 0;
    for (int32_t u = 0; u < d.ui.nrows; u++) {
        int64_t lo = d.ui.indptr[u], hi = d.ui.indptr[u + 1];
        mindeg = hi - lo < mindeg ? hi - lo : mindeg;
        maxdeg = hi - lo > maxdeg ? hi - lo : maxdeg;
        for (int64_t p = lo; p < hi; p++) {
            assert_true(d.ui.indices[p] >= 0 && d.ui.indices[p] < o.items);
            if (p > lo) /* strictly ascending: no duplicate cells */
                assert_true(d.ui.indices[p] > d.ui.indices[p - 1]);
            assert_true(d.ui.data[p] == 1.0f);
            assert_true(d.ui.ts[p] >= 789652009LL && d.ui.ts[p] <= 1427784002LL);
        }
    }
    /* Mean 60: the floor is 12; log-normal activity spreads users well beyond the mean. */
    assert_int_equal(mindeg, 12);
    assert_true(maxdeg > 4 * 60);
    tl_data_release(&d);
}

/* Rows are sorted three ways (insertion, bitmap, qsort) by length against the item count:
 * a wide, sparse catalogue takes the qsort path, a dense one the bitmap path. */
static void test_powerlaw_rows_sorted(void **state)
{
    (void)state;
    static const int32_t items[] = {200000, 64};
    for (int k = 0; k < 2; k++) {
        tl_synth_opts o;
        tl_data d;
        tl_data_init(&d);
        small_opts(&o, 21);
        o.users = 60;
        o.items = items[k];
        o.events = k ? 60 * 40 : 60 * 60;
        assert_int_equal(tl_synth_powerlaw(&o, &d), TL_OK);
        assert_int_equal(d.ui.nnz, o.events);
        int64_t longest = 0;
        for (int32_t u = 0; u < d.ui.nrows; u++) {
            int64_t lo = d.ui.indptr[u], hi = d.ui.indptr[u + 1];
            longest = hi - lo > longest ? hi - lo : longest;
            for (int64_t p = lo + 1; p < hi; p++)
                assert_true(d.ui.indices[p] > d.ui.indices[p - 1]);
        }
        assert_true(longest > 24); /* not only the insertion-sort path */
        tl_data_release(&d);
    }
}

static double top_share(const tl_data *d, double frac)
{
    int32_t n = d->iu.nrows;
    int64_t *deg = malloc((size_t)n * sizeof(*deg));
    assert_non_null(deg);
    for (int32_t i = 0; i < n; i++)
        deg[i] = d->iu.indptr[i + 1] - d->iu.indptr[i];
    int32_t k = (int32_t)ceil(frac * n);
    int64_t top = 0;
    for (int32_t t = 0; t < k; t++) { /* selection: k is small */
        int32_t best = t;
        for (int32_t i = t + 1; i < n; i++)
            if (deg[i] > deg[best])
                best = i;
        int64_t x = deg[t];
        deg[t] = deg[best];
        deg[best] = x;
        top += deg[t];
    }
    free(deg);
    return (double)top / (double)d->iu.nnz;
}

static void test_powerlaw_heavy_tail(void **state)
{
    (void)state;
    tl_synth_opts o;
    tl_data d, flat;
    tl_data_init(&d);
    tl_data_init(&flat);
    small_opts(&o, 3);
    assert_int_equal(tl_synth_powerlaw(&o, &d), TL_OK);
    double share = top_share(&d, 0.01);
    /* Uniform popularity would give the top 1% about 1-2% of events. */
    assert_true(share > 0.12);
    o.zipf = 0.0;
    assert_int_equal(tl_synth_powerlaw(&o, &flat), TL_OK);
    assert_true(top_share(&flat, 0.01) < 0.04);
    tl_data_release(&d);
    tl_data_release(&flat);
}

static void test_powerlaw_rejects_impossible(void **state)
{
    (void)state;
    tl_synth_opts o;
    tl_data d;
    tl_data_init(&d);
    small_opts(&o, 1);
    o.events = (int64_t)o.users * o.items + 1;
    assert_int_equal(tl_synth_powerlaw(&o, &d), TL_EINVAL);
    small_opts(&o, 1);
    o.zipf = -1;
    assert_int_equal(tl_synth_powerlaw(&o, &d), TL_EINVAL);
    /* A full matrix is possible, and needs the sampling-without-replacement path. */
    o.zipf = 1.0;
    o.users = 20;
    o.items = 50;
    o.events = 20 * 50 - 3;
    assert_int_equal(tl_synth_powerlaw(&o, &d), TL_OK);
    assert_int_equal(d.ui.nnz, o.events);
    for (int32_t u = 0; u < d.ui.nrows; u++)
        for (int64_t p = d.ui.indptr[u] + 1; p < d.ui.indptr[u + 1]; p++)
            assert_true(d.ui.indices[p] > d.ui.indices[p - 1]);
    tl_data_release(&d);
}

static void check_written(const char *path, const tl_synth_opts *o, const tl_data *mem)
{
    tl_data back;
    tl_tsv_opts to;
    tl_diag diag;
    tl_data_init(&back);
    tl_tsv_opts_init(&to);
    assert_int_equal(tl_synth_powerlaw_write(o, path), TL_OK);
    assert_int_equal(tl_data_load_tsv(&back, path, &to, &diag), TL_OK);
    assert_int_equal(back.ui.nnz, mem->ui.nnz);
    /* Same cells and timestamps, by id. */
    for (int32_t u = 0; u < back.ui.nrows; u++) {
        int32_t mu = tl_intern_find(&mem->users, tl_intern_str(&back.users, u),
                                    tl_intern_len(&back.users, u));
        assert_true(mu >= 0);
        for (int64_t p = back.ui.indptr[u]; p < back.ui.indptr[u + 1]; p++) {
            int32_t bi = back.ui.indices[p];
            int32_t mi = tl_intern_find(&mem->items, tl_intern_str(&back.items, bi),
                                        tl_intern_len(&back.items, bi));
            assert_true(mi >= 0);
            int64_t q = tl_csr_find(&mem->ui, mu, mi);
            assert_true(q >= 0);
            assert_true(mem->ui.ts[q] == back.ui.ts[p]);
        }
    }
    tl_data_release(&back);
}

static void test_powerlaw_write(void **state)
{
    (void)state;
    tl_synth_opts o;
    tl_data d;
    tl_data_init(&d);
    small_opts(&o, 11);
    o.users = 100;
    o.events = 4000;
    assert_int_equal(tl_synth_powerlaw(&o, &d), TL_OK);
    char path[512];
    snprintf(path, sizeof(path), "%s/pl.tsv", tl_test_tmpdir());
    check_written(path, &o, &d);
    char *text = tl_test_read(path);
    assert_non_null(text);
    assert_memory_equal(text, "user\titem\tvalue\ttimestamp\n", 26);
    free(text);
    snprintf(path, sizeof(path), "%s/pl.tsv.gz", tl_test_tmpdir());
    check_written(path, &o, &d);
    assert_int_equal(tl_test_sh("gzip -t '%s'", path), 0);
    snprintf(path, sizeof(path), "%s/no/such/dir/pl.tsv", tl_test_tmpdir());
    assert_int_equal(tl_synth_powerlaw_write(&o, path), TL_EIO);
    tl_data_release(&d);
}

static void test_parse_series(void **state)
{
    (void)state;
    char name[64];
    double no = 0;
    assert_true(
        tl_series_parse("The Hunger Games (The Hunger Games, #1)", name, sizeof(name), &no));
    assert_string_equal(name, "The Hunger Games");
    assert_true(no == 1.0);
    assert_true(tl_series_parse("Mort (Death, #1; Discworld, #4)", name, sizeof(name), &no));
    assert_string_equal(name, "Death");
    assert_true(tl_series_parse("Dragonfly in Amber (Outlander #2)", name, sizeof(name), &no));
    assert_string_equal(name, "Outlander");
    assert_true(no == 2.0);
    assert_true(tl_series_parse("A Tale (Some Saga, #2.5) ", name, sizeof(name), &no));
    assert_true(no == 2.5);
    assert_true(tl_series_parse("Ranma, Vol. 1 (Ranma (US 2nd), #1)", name, sizeof(name), &no));
    assert_string_equal(name, "Ranma (US 2nd)");
    /* Omnibus ranges, no number, no group, or a '#' in the title itself: not a volume. */
    assert_false(tl_series_parse("The Hunger Games Trilogy (The Hunger Games, #1-3)", name,
                                 sizeof(name), &no));
    assert_false(tl_series_parse("Nancy Drew (Nancy Drew)", name, sizeof(name), &no));
    assert_false(tl_series_parse("Saga #1", name, sizeof(name), &no));
    assert_false(tl_series_parse("(#3)", name, sizeof(name), &no));
    assert_false(tl_series_parse("", name, sizeof(name), &no));
    assert_true(tl_series_parse("X (A Very Long Series Name, #3)", name, 7, &no));
    assert_string_equal(name, "A Very");
}

/* ---- The library ------------------------------------------------------------------------ */

static int lib_opts(tl_synth_lib_opts *o, uint64_t seed)
{
    tl_synth_lib_opts_init(o);
    o->books_path = tl_test_source("demo/books.csv");
    o->subjects_path = tl_test_source("demo/subjects.tsv");
    o->patrons = 600;
    o->seed = seed;
    FILE *f = fopen(o->books_path, "rb");
    if (!f)
        return 0;
    fclose(f);
    return 1;
}

static int same_events(const tl_synth_library *a, const tl_synth_library *b)
{
    if (a->nevents != b->nevents)
        return 0;
    for (int64_t k = 0; k < a->nevents; k++) {
        const tl_synth_event *x = &a->events[k], *y = &b->events[k];
        if (x->ts != y->ts || x->patron != y->patron || x->book != y->book || x->type != y->type ||
            x->device != y->device || x->branch != y->branch || x->value != y->value)
            return 0;
    }
    return 1;
}

static void test_library_deterministic(void **state)
{
    (void)state;
    tl_synth_lib_opts o;
    tl_synth_library a, b, c;
    tl_diag d;
    if (!lib_opts(&o, 5))
        fail_msg("demo/books.csv is missing");
    assert_int_equal(tl_synth_library_generate(&o, &a, &d), TL_OK);
    assert_int_equal(tl_synth_library_generate(&o, &b, &d), TL_OK);
    assert_true(same_events(&a, &b));
    o.seed = 6;
    assert_int_equal(tl_synth_library_generate(&o, &c, &d), TL_OK);
    assert_false(same_events(&a, &c));
    tl_synth_library_release(&a);
    tl_synth_library_release(&b);
    tl_synth_library_release(&c);
}

static void test_library_model(void **state)
{
    (void)state;
    tl_synth_lib_opts o;
    tl_synth_library lib;
    tl_diag d;
    if (!lib_opts(&o, 42))
        fail_msg("demo/books.csv is missing");
    assert_int_equal(tl_synth_library_generate(&o, &lib, &d), TL_OK);
    assert_int_equal(lib.nbooks, 10000);
    assert_int_equal(lib.npatrons, 600);
    assert_string_equal(lib.books[0].id, "b1");
    assert_string_equal(lib.books[0].creators, "Suzanne Collins");
    assert_string_equal(lib.books[1].creators, "J.K. Rowling|Mary GrandPré");
    assert_string_equal(lib.books[0].language, "eng");
    assert_non_null(strstr(lib.books[0].subjects, "dystopia"));
    assert_int_equal(lib.books[0].year, 2008);
    /* Catching Fire follows The Hunger Games. */
    int32_t next = lib.books[0].next;
    assert_true(next >= 0);
    assert_non_null(strstr(lib.books[next].title, "(The Hunger Games, #2)"));

    int64_t by_type[TL_SYNTH_NEV] = {0};
    int64_t *first_loan = calloc((size_t)lib.npatrons * (size_t)lib.nbooks, sizeof(int64_t));
    assert_non_null(first_loan);
    int64_t term_loans = 0, term_days = 0, summer_loans = 0, summer_days = 0;
    for (int64_t k = 0; k < lib.nevents; k++) {
        const tl_synth_event *e = &lib.events[k];
        assert_true(e->patron >= 0 && e->patron < lib.npatrons);
        assert_true(e->book >= 0 && e->book < lib.nbooks);
        assert_true(e->type < TL_SYNTH_NEV);
        assert_true(e->ts >= lib.start && e->ts < lib.end);
        if (k)
            assert_true(e->ts >= lib.events[k - 1].ts);
        /* Nothing happens to a book before the library had it. */
        assert_true(e->ts >= lib.books[e->book].added);
        by_type[e->type]++;
        int64_t *fl = &first_loan[(size_t)e->patron * (size_t)lib.nbooks + (size_t)e->book];
        if (e->type == TL_SYNTH_LOAN) {
            assert_int_equal(*fl, 0); /* nobody borrows a book twice */
            *fl = e->ts;
            tl_synth_phase ph = tl_synth_calendar((int32_t)((e->ts - lib.start) / 86400));
            term_loans += ph == TL_PHASE_TERM;
            summer_loans += ph == TL_PHASE_SUMMER;
        } else if (e->type == TL_SYNTH_RETURN || e->type == TL_SYNTH_RENEW) {
            assert_true(*fl > 0 && *fl < e->ts); /* a return follows its loan */
        }
    }
    for (int32_t day = 0; day < o.days; day++) {
        term_days += tl_synth_calendar(day) == TL_PHASE_TERM;
        summer_days += tl_synth_calendar(day) == TL_PHASE_SUMMER;
    }
    for (int t = 0; t < TL_SYNTH_NEV; t++)
        assert_true(by_type[t] > 0);
    /* Roughly 50 events per patron-year; the demo's 2000 patrons give 60k-120k. */
    assert_true(lib.nevents > 30 * lib.npatrons && lib.nevents < 60 * lib.npatrons);
    assert_true(by_type[TL_SYNTH_RETURN] <= by_type[TL_SYNTH_LOAN]);
    /* Term time is busier than summer, per day. */
    double term_rate = (double)term_loans / (double)term_days;
    double summer_rate = (double)summer_loans / (double)summer_days;
    assert_true(term_rate > 2.0 * summer_rate);

    /* Sequels: of the patrons who borrowed both volume k and k + 1, most borrowed k first;
     * and having borrowed k makes k + 1 far likelier than its overall popularity does. */
    int64_t after = 0, before = 0, had_k = 0, had_k_and_next = 0, next_loans = 0, in_series = 0;
    for (int32_t b = 0; b < lib.nbooks; b++) {
        int32_t n2 = lib.books[b].next;
        if (n2 < 0)
            continue;
        in_series++;
        for (int32_t u = 0; u < lib.npatrons; u++) {
            int64_t tk = first_loan[(size_t)u * (size_t)lib.nbooks + (size_t)b];
            int64_t tn = first_loan[(size_t)u * (size_t)lib.nbooks + (size_t)n2];
            next_loans += tn > 0;
            if (tk > 0) {
                had_k++;
                had_k_and_next += tn > 0;
            }
            if (tk > 0 && tn > 0) {
                after += tn > tk;
                before += tn < tk;
            }
        }
    }
    assert_true(after + before > 100);
    assert_true((double)after > 0.8 * (double)(after + before));
    double p_next_given_k = (double)had_k_and_next / (double)had_k;
    double p_next = (double)next_loans / ((double)in_series * lib.npatrons);
    assert_true(p_next_given_k > 10.0 * p_next);

    /* New arrivals: o.new_arrivals books added in the last four weeks. */
    int32_t newer = 0;
    for (int32_t i = 0; i < lib.nbooks; i++)
        newer += lib.books[i].added >= lib.end - 28 * 86400;
    assert_int_equal(newer, o.new_arrivals);
    free(first_loan);
    tl_synth_library_release(&lib);
}

/* Reads column col of a TSV with the given header into a set of ids. */
static void read_ids(const char *path, const char *header, tl_intern *ids)
{
    tl_lines lr;
    char *line;
    size_t len;
    assert_int_equal(tl_lines_open(&lr, path), TL_OK);
    assert_int_equal(tl_lines_next(&lr, &line, &len), 1);
    assert_string_equal(line, header);
    while (tl_lines_next(&lr, &line, &len) == 1) {
        char *tab = strchr(line, '\t');
        assert_non_null(tab);
        int32_t idx;
        assert_int_equal(tl_intern_add(ids, line, (size_t)(tab - line), &idx), TL_OK);
    }
    tl_lines_close(&lr);
}

static void test_library_files(void **state)
{
    (void)state;
    tl_synth_lib_opts o;
    tl_synth_library lib;
    tl_diag d;
    if (!lib_opts(&o, 9))
        fail_msg("demo/books.csv is missing");
    o.patrons = 150;
    o.days = 120;
    assert_int_equal(tl_synth_library_generate(&o, &lib, &d), TL_OK);
    char dir[512], path[600];
    snprintf(dir, sizeof(dir), "%s/lib", tl_test_tmpdir());
    assert_int_equal(tl_test_sh("mkdir -p '%s'", dir), 0);
    assert_int_equal(tl_synth_library_write(&lib, dir, &d), TL_OK);

    tl_intern items, users;
    tl_intern_init(&items);
    tl_intern_init(&users);
    snprintf(path, sizeof(path), "%s/items.tsv", dir);
    read_ids(
        path,
        "item\ttype\ttitle\tcreators\tsubjects\tyear\tlanguage\tformat\tadded\tcopies\tavailable",
        &items);
    snprintf(path, sizeof(path), "%s/users.tsv", dir);
    read_ids(path, "user\tdepartment\tlevel\tbranch\tcreated\tconsent", &users);
    assert_int_equal(items.count, 10000);
    assert_int_equal(users.count, 150);

    /* Every event names a catalogue item and a generated patron, with 7 fields. */
    tl_lines lr;
    char *line;
    size_t len;
    int64_t rows = 0;
    snprintf(path, sizeof(path), "%s/events.tsv", dir);
    assert_int_equal(tl_lines_open(&lr, path), TL_OK);
    assert_int_equal(tl_lines_next(&lr, &line, &len), 1);
    assert_string_equal(line, "user\titem\ttype\tvalue\ttimestamp\tbranch\tdevice");
    while (tl_lines_next(&lr, &line, &len) == 1) {
        char *f[8] = {0};
        int n = 0;
        for (char *p = line; n < 8; n++) {
            f[n] = p;
            char *tab = strchr(p, '\t');
            if (!tab) {
                n++;
                break;
            }
            *tab = '\0';
            p = tab + 1;
        }
        assert_int_equal(n, 7);
        assert_true(tl_intern_find(&users, f[0], strlen(f[0])) >= 0);
        assert_true(tl_intern_find(&items, f[1], strlen(f[1])) >= 0);
        assert_true(strcmp(f[2], "loan") == 0 || strcmp(f[2], "return") == 0 ||
                    strcmp(f[2], "renew") == 0 || strcmp(f[2], "hold") == 0 ||
                    strcmp(f[2], "view") == 0);
        assert_true(strtoll(f[4], NULL, 10) >= lib.start);
        rows++;
    }
    tl_lines_close(&lr);
    assert_int_equal(rows, lib.nevents);
    /* Titles with commas and quotes survive the CSV -> TSV conversion. */
    snprintf(path, sizeof(path), "%s/items.tsv", dir);
    char *text = tl_test_read(path);
    assert_non_null(text);
    assert_non_null(strstr(text, "b2\tbook\tHarry Potter and the Sorcerer's Stone (Harry Potter, "
                                 "#1)\tJ.K. Rowling|Mary GrandPré\t"));
    free(text);
    tl_intern_release(&items);
    tl_intern_release(&users);
    tl_synth_library_release(&lib);
}

static void test_library_bad_input(void **state)
{
    (void)state;
    tl_synth_lib_opts o;
    tl_synth_library lib;
    tl_diag d;
    char path[512];
    tl_synth_lib_opts_init(&o);
    snprintf(path, sizeof(path), "%s/books-bad.csv", tl_test_tmpdir());
    assert_int_equal(tl_test_write(path, "book_id,authors,title,work_ratings_count\n"
                                         "1,A,\"T (S, #1)\",10\n"
                                         "2,B,U,many\n"),
                     0);
    o.books_path = path;
    o.subjects_path = NULL;
    assert_int_equal(tl_synth_library_generate(&o, &lib, &d), TL_EPARSE);
    assert_int_equal(d.line, 3);
    assert_string_equal(d.field, "work_ratings_count");
    snprintf(path, sizeof(path), "%s/no-such.csv", tl_test_tmpdir());
    assert_int_equal(tl_synth_library_generate(&o, &lib, &d), TL_EIO);
    o.patrons = 0;
    assert_int_equal(tl_synth_library_generate(&o, &lib, &d), TL_EINVAL);
}

static void test_cli(void **state)
{
    (void)state;
    const char *tmp = tl_test_tmpdir();
    assert_int_equal(tl_test_sh("'%s' synth --powerlaw --users 50 --items 80 --events 900 "
                                "--seed 3 --out '%s/cli.tsv' >/dev/null",
                                tl_test_bin(), tmp),
                     0);
    assert_int_equal(tl_test_sh("test $(wc -l < '%s/cli.tsv') -eq 901", tmp), 0);
    assert_int_equal(tl_test_sh("'%s' synth --powerlaw --users 5 --items 5 --events 26 "
                                "--out '%s/x.tsv' 2>/dev/null",
                                tl_test_bin(), tmp),
                     2);
    assert_int_equal(tl_test_sh("'%s' synth --library --books '%s' --subjects '%s' --patrons 40 "
                                "--days 30 --out '%s/cli-lib' | grep -q SYNTHETIC",
                                tl_test_bin(), tl_test_source("demo/books.csv"),
                                tl_test_source("demo/subjects.tsv"), tmp),
                     0);
    assert_int_equal(tl_test_sh("test -s '%s/cli-lib/events.tsv'", tmp), 0);
    assert_int_equal(
        tl_test_sh("'%s' synth --library --patrons x --out '%s/y' 2>/dev/null", tl_test_bin(), tmp),
        2);
    assert_int_equal(tl_test_sh("'%s' synth --help | grep -q powerlaw", tl_test_bin()), 0);
}

/* ---- Shapes (src/synth/shapes.c) -------------------------------------------------------- */

static void write_shape(const char *name, uint64_t seed, int threads, const char *dir)
{
    tl_shape_opts o;
    tl_shape s;
    tl_diag d;
    tl_diag_clear(&d);
    assert_int_equal(tl_shape_preset(name, &o), TL_OK);
    o.seed = seed;
    int before = omp_get_max_threads();
    omp_set_num_threads(threads);
    assert_int_equal(tl_shape_generate(&o, &s), TL_OK);
    omp_set_num_threads(before);
    assert_int_equal(tl_shape_write(&s, &o, name, dir, &d), TL_OK);
    tl_shape_release(&s);
}

static void test_shapes_deterministic(void **state)
{
    (void)state;
    const char *tmp = tl_test_tmpdir();
    char a[512], b[512], c[512];
    for (const char *const *n = tl_shape_preset_names(); *n; n++) {
        snprintf(a, sizeof(a), "%s/shape-a-%s", tmp, *n);
        snprintf(b, sizeof(b), "%s/shape-b-%s", tmp, *n);
        snprintf(c, sizeof(c), "%s/shape-c-%s", tmp, *n);
        /* Same seed, one thread or two: the same bytes; another seed: other data. */
        write_shape(*n, 42, 1, a);
        write_shape(*n, 42, 2, b);
        write_shape(*n, 43, 2, c);
        assert_int_equal(tl_test_sh("cmp -s '%s/interactions.tsv' '%s/interactions.tsv'", a, b), 0);
        assert_int_equal(tl_test_sh("cmp -s '%s/items.tsv' '%s/items.tsv'", a, b), 0);
        assert_int_equal(tl_test_sh("cmp -s '%s/SOURCE.md' '%s/SOURCE.md'", a, b), 0);
        assert_int_not_equal(tl_test_sh("cmp -s '%s/interactions.tsv' '%s/interactions.tsv'", a, c),
                             0);
        assert_int_equal(tl_test_sh("test -f '%s/IMPLICIT'", a), 0);
        /* The files load: every row, every catalogue item with a title. */
        tl_data d;
        tl_tsv_opts to;
        tl_diag dg;
        char path[600];
        tl_data_init(&d);
        tl_tsv_opts_init(&to);
        snprintf(path, sizeof(path), "%s/interactions.tsv", a);
        assert_int_equal(tl_data_load_tsv(&d, path, &to, &dg), TL_OK);
        tl_shape_opts o;
        assert_int_equal(tl_shape_preset(*n, &o), TL_OK);
        assert_int_equal(d.ui.nnz, o.pairs);
        assert_int_equal(d.users.count, o.users);
        snprintf(path, sizeof(path), "%s/items.tsv", a);
        assert_int_equal(tl_data_load_items_tsv(&d, path, 1, &dg), TL_OK);
        assert_int_equal(d.items.count, o.items);
        for (int32_t i = 0; i < d.items.count; i++)
            assert_true(d.cat.title[i] && d.cat.title[i][0]);
        tl_data_release(&d);
    }
}

static void test_shapes_sizes(void **state)
{
    (void)state;
    for (const char *const *n = tl_shape_preset_names(); *n; n++) {
        tl_shape_opts o;
        tl_shape s;
        assert_int_equal(tl_shape_preset(*n, &o), TL_OK);
        assert_int_equal(tl_shape_generate(&o, &s), TL_OK);
        assert_int_equal(s.users, o.users);
        assert_int_equal(s.items, o.items);
        assert_int_equal(s.n, o.pairs);
        assert_int_equal(s.indptr[s.users], o.pairs);
        int32_t hi = o.max_degree > 0 ? o.max_degree : o.items;
        int32_t *seen = malloc((size_t)s.items * sizeof(*seen));
        assert_non_null(seen);
        for (int32_t i = 0; i < s.items; i++)
            seen[i] = -1;
        int64_t users_5_8 = 0;
        for (int32_t u = 0; u < s.users; u++) {
            int64_t lo = s.indptr[u], up = s.indptr[u + 1];
            assert_true(up - lo >= o.min_degree && up - lo <= hi);
            users_5_8 += up - lo >= 5 && up - lo <= 8;
            for (int64_t p = lo; p < up; p++) {
                assert_true(s.item[p] >= 0 && s.item[p] < s.items);
                assert_int_not_equal(seen[s.item[p]], u); /* distinct pairs */
                seen[s.item[p]] = u;
                assert_true(s.ts[p] >= o.t0 && s.ts[p] < o.t1);
                if (p > lo)
                    assert_true(s.ts[p] >= s.ts[p - 1]); /* time order */
                assert_true(s.value[p] >= 1.0f);
            }
        }
        free(seen);
        tl_shape_stats st;
        tl_shape_stats_compute(&s, &st);
        double density = (double)s.n / ((double)s.users * s.items);
        if (strcmp(*n, "articles") == 0) {
            assert_true(density > 0.0019 && density < 0.0024);
            assert_true(st.items_used > 0.99 * s.items); /* a flat long tail */
            assert_true(st.max_item_degree < 0.1 * s.users);
        } else if (strcmp(*n, "music") == 0) {
            /* Heavy-tailed play counts. */
            int64_t ones = 0;
            float mx = 0;
            for (int64_t p = 0; p < s.n; p++) {
                ones += s.value[p] == 1.0f;
                mx = s.value[p] > mx ? s.value[p] : mx;
            }
            assert_true(mx > 1000.0f);
            assert_true(ones < s.n / 4);
        } else if (strcmp(*n, "short") == 0) {
            assert_true(users_5_8 > 0.7 * s.users); /* most histories are 5-8 items */
        } else if (strcmp(*n, "sparse17k") == 0) {
            assert_true(st.items_unused + st.items_once_twice > 0.3 * s.items); /* cold-ish */
        } else if (strcmp(*n, "library") == 0) {
            assert_true(s.ts[s.n - 1] - s.ts[0] < 2 * 366 * 86400LL);
            assert_true(s.nseries > 0);
        }
        tl_shape_release(&s);
    }
}

static void test_shapes_planted(void **state)
{
    (void)state;
    for (const char *const *n = tl_shape_preset_names(); *n; n++) {
        tl_shape_opts o;
        tl_shape s;
        tl_shape_stats st;
        assert_int_equal(tl_shape_preset(*n, &o), TL_OK);
        assert_int_equal(tl_shape_generate(&o, &s), TL_OK);
        tl_shape_stats_compute(&s, &st);
        /* A user's main topic is over-represented in their history several times over. */
        assert_true(st.topic_lift > 3.0);
        /* Series are read in order (when the shape has them). */
        if (o.series_share > 0) {
            assert_true(st.series_pairs > 100);
            assert_true(st.series_in_order > 0.8);
        }
        tl_shape_release(&s);
    }
    /* Without the planted structure (one topic, no series) the lift is 1. */
    tl_shape_opts o;
    tl_shape s;
    tl_shape_stats st;
    assert_int_equal(tl_shape_preset("library", &o), TL_OK);
    o.topics = 1;
    o.fields = 1;
    o.series_share = 0;
    assert_int_equal(tl_shape_generate(&o, &s), TL_OK);
    tl_shape_stats_compute(&s, &st);
    assert_true(fabs(st.topic_lift - 1.0) < 1e-9);
    assert_int_equal(st.series_pairs, 0);
    tl_shape_release(&s);
}

static void test_shapes_options(void **state)
{
    (void)state;
    tl_shape_opts o;
    tl_shape s;
    assert_int_equal(tl_shape_preset("nope", &o), TL_EINVAL);
    assert_int_equal(tl_shape_preset("library", &o), TL_OK);
    assert_int_equal(tl_shape_set(&o, "pairs=9000"), TL_OK);
    assert_int_equal(o.pairs, 9000);
    assert_int_equal(tl_shape_set(&o, "drift=0.5"), TL_OK);
    assert_true(o.drift == 0.5);
    assert_int_equal(tl_shape_set(&o, "value=rating"), TL_OK);
    assert_int_equal(o.value, TL_SHAPE_RATING);
    assert_int_equal(tl_shape_set(&o, "seed=7"), TL_OK);
    assert_int_equal(tl_shape_set(&o, "pairs=x"), TL_EINVAL);
    assert_int_equal(tl_shape_set(&o, "bogus=1"), TL_EINVAL);
    assert_int_equal(tl_shape_set(&o, "drift"), TL_EINVAL);
    assert_int_equal(tl_shape_set(&o, "text=poem"), TL_EINVAL);
    /* Ratings are 1..5 and higher where the user's affinity is. */
    assert_int_equal(tl_shape_generate(&o, &s), TL_OK);
    assert_int_equal(s.n, 9000);
    double in_main = 0, n_main = 0, other = 0, n_other = 0;
    for (int32_t u = 0; u < s.users; u++) {
        for (int64_t p = s.indptr[u]; p < s.indptr[u + 1]; p++) {
            float v = s.value[p];
            assert_true(v >= 1.0f && v <= 5.0f && v == floorf(v));
            if (s.item_topic[s.item[p]] == s.user_topic[u]) {
                in_main += v;
                n_main++;
            } else {
                other += v;
                n_other++;
            }
        }
    }
    assert_true(in_main / n_main > other / n_other + 0.3);
    char dir[512];
    tl_diag d;
    snprintf(dir, sizeof(dir), "%s/shape-rating", tl_test_tmpdir());
    assert_int_equal(tl_shape_write(&s, &o, "library", dir, &d), TL_OK);
    assert_int_not_equal(tl_test_sh("test -f '%s/IMPLICIT'", dir), 0); /* explicit ratings */
    tl_shape_release(&s);
    /* Impossible sizes. */
    assert_int_equal(tl_shape_preset("music", &o), TL_OK);
    o.pairs = (int64_t)o.users * o.max_degree + 1;
    assert_int_equal(tl_shape_generate(&o, &s), TL_EINVAL);
    o.pairs = (int64_t)o.users * o.min_degree - 1;
    assert_int_equal(tl_shape_generate(&o, &s), TL_EINVAL);
    assert_int_equal(tl_shape_preset("short", &o), TL_OK);
    o.fields = o.topics + 1;
    assert_int_equal(tl_shape_generate(&o, &s), TL_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_powerlaw_deterministic),
        cmocka_unit_test(test_powerlaw_shape),
        cmocka_unit_test(test_powerlaw_rows_sorted),
        cmocka_unit_test(test_powerlaw_heavy_tail),
        cmocka_unit_test(test_powerlaw_rejects_impossible),
        cmocka_unit_test(test_powerlaw_write),
        cmocka_unit_test(test_parse_series),
        cmocka_unit_test(test_library_deterministic),
        cmocka_unit_test(test_library_model),
        cmocka_unit_test(test_library_files),
        cmocka_unit_test(test_library_bad_input),
        cmocka_unit_test(test_cli),
        cmocka_unit_test(test_shapes_deterministic),
        cmocka_unit_test(test_shapes_sizes),
        cmocka_unit_test(test_shapes_planted),
        cmocka_unit_test(test_shapes_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
