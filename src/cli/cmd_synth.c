/* tailor synth: writes synthetic data sets. --powerlaw makes MovieLens-shaped interactions for
 * benchmarks; --library simulates an academic library (real demo catalogue, synthetic patrons
 * and loans) in Tailor's import formats for the demo; --shape writes a data set with planted
 * structure shaped like data we do not have (sparse long-tail catalogues, short histories,
 * text-heavy items) for robustness checks. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli/cli.h"
#include "synth/synth.h"
#include "util/civil.h"
#include "util/clock.h"

typedef struct args {
    int powerlaw, library;
    const char *out, *books, *subjects, *start, *shape;
    tl_opt_list set;
    int users, items, patrons, days, new_arrivals;
    int64_t events;
    double zipf, sigma;
    uint64_t seed;
} args;

static const tl_opt opts[] = {
    {"powerlaw", 0, TL_OPT_FLAG, NULL, NULL, 0, 0, TL_OPT_AT(args, powerlaw),
     "implicit interactions shaped like MovieLens-20M, written as\n"
     "interactions.tsv (user item value timestamp; .gz when FILE ends in .gz)"},
    {"library", 0, TL_OPT_FLAG, NULL, NULL, 0, 0, TL_OPT_AT(args, library),
     "the demo library: real catalogue (goodbooks-10k, CC BY-SA 4.0), synthetic\n"
     "patrons and circulation over one academic year; writes DIR/items.tsv,\n"
     "DIR/users.tsv and DIR/events.tsv for `tailor import` (demo/README.md)"},
    {"shape", 0, TL_OPT_STR, "NAME", NULL, 0, 0, TL_OPT_AT(args, shape),
     "interactions with planted topics, popularity, drift and series, sized like\n"
     "a kind of data set: articles, music, library, short or sparse17k; writes\n"
     "DIR/interactions.tsv, DIR/items.tsv, DIR/SOURCE.md (and DIR/IMPLICIT when\n"
     "the values are counts, not ratings) for split, eval and train --data"},
    {"set", 0, TL_OPT_LIST, "KEY=VALUE", NULL, 0, 0, TL_OPT_AT(args, set),
     "--shape: change one of the shape's options (e.g. pairs=50000, drift=0.3);\n"
     "repeatable"},
    {"out", 'o', TL_OPT_STR, "PATH", NULL, 0, 0, TL_OPT_AT(args, out),
     "--powerlaw: the file; --library, --shape: the directory"},
    {"seed", 0, TL_OPT_SEED, "N", TL_OPT_PRESET, 0, 0, TL_OPT_AT(args, seed), "the seed"},
    {"users", 0, TL_OPT_INT, "N", TL_OPT_PRESET, 1, INT32_MAX, TL_OPT_AT(args, users),
     "--powerlaw: users"},
    {"items", 0, TL_OPT_INT, "N", TL_OPT_PRESET, 1, INT32_MAX, TL_OPT_AT(args, items),
     "--powerlaw: items"},
    {"events", 0, TL_OPT_I64, "N", TL_OPT_PRESET, 1, 1e12, TL_OPT_AT(args, events),
     "--powerlaw: distinct user-item pairs, met exactly"},
    {"zipf", 0, TL_OPT_NUM, "X", TL_OPT_PRESET, 0, 100, TL_OPT_AT(args, zipf),
     "--powerlaw: item popularity exponent"},
    {"sigma", 0, TL_OPT_NUM, "X", TL_OPT_PRESET, 0, 100, TL_OPT_AT(args, sigma),
     "--powerlaw: log-normal sigma of user activity"},
    {"books", 0, TL_OPT_STR, "FILE", "demo/books.csv", 0, 0, TL_OPT_AT(args, books),
     "--library: goodbooks-10k books.csv"},
    {"subjects", 0, TL_OPT_STR, "FILE", "demo/subjects.tsv", 0, 0, TL_OPT_AT(args, subjects),
     "--library: book_id<TAB>subjects ('none' for none)"},
    {"patrons", 0, TL_OPT_INT, "N", TL_OPT_PRESET, 1, 10000000, TL_OPT_AT(args, patrons),
     "--library: patrons"},
    {"days", 0, TL_OPT_INT, "N", TL_OPT_PRESET, 1, 3650, TL_OPT_AT(args, days),
     "--library: simulated days"},
    {"start", 0, TL_OPT_STR, "DATE", TL_OPT_PRESET, 0, 0, TL_OPT_AT(args, start),
     "--library: first day of the autumn term, YYYY-MM-DD"},
    {"new", 0, TL_OPT_INT, "N", TL_OPT_PRESET, 0, INT32_MAX, TL_OPT_AT(args, new_arrivals),
     "--library: books acquired in the last four weeks"},
    {NULL},
};

static const tl_cmd_def def = {
    .name = "synth",
    .synopsis = "synth --powerlaw [OPTIONS] --out FILE\n"
                "tailor synth --library [OPTIONS] --out DIR\n"
                "tailor synth --shape NAME [--set KEY=VALUE ...] [--seed N] --out DIR",
    .about = "Generates SYNTHETIC data, deterministically for a seed.",
    .opts = opts,
};

static int parse_date(const char *s, int64_t *out)
{
    int y, m, d;
    char tail;
    if (sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3 || y < 1971 || y > 9999 ||
        !tl_civil_valid(y, (unsigned)m, (unsigned)d))
        return -1;
    *out = tl_civil_days(y, (unsigned)m, (unsigned)d) * 86400;
    return 0;
}

/* mkdir -p: the demo script hands a fresh build folder. */
static int make_dirs(const char *path)
{
    char buf[1024];
    size_t n = strlen(path);
    if (!n || n >= sizeof(buf))
        return -1;
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0')
            continue;
        char c = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return -1;
        buf[i] = c;
    }
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode) ? 0 : -1;
}

static int run_powerlaw(const tl_synth_opts *o, const char *out)
{
    printf("tailor synth: SYNTHETIC power-law interactions: %d users x %d items, %lld events, "
           "zipf %.3g, sigma %.3g, seed %llu\n",
           (int)o->users, (int)o->items, (long long)o->events, o->zipf, o->activity_sigma,
           (unsigned long long)o->seed);
    fflush(stdout);
    double t0 = tl_now();
    errno = 0;
    tl_err rc = tl_synth_powerlaw_write(o, out);
    if (rc != TL_OK) {
        int err = errno;
        tl_diag d;
        if (rc == TL_EIO)
            tl_diag_set(&d, out, 0, NULL, "cannot write: %s", err ? strerror(err) : "I/O error");
        else
            tl_diag_set(&d, out, 0, NULL, "%s", tl_strerror(rc));
        tl_cli_error("synth", rc, &d);
        return rc == TL_EINVAL ? TL_EXIT_USAGE : TL_EXIT_FAIL;
    }
    printf("wrote %s in %.2f s\n", out, tl_now() - t0);
    return TL_EXIT_OK;
}

static int run_library(const tl_synth_lib_opts *o, const char *dir)
{
    tl_synth_library lib;
    tl_diag d;
    tl_diag_clear(&d);
    if (make_dirs(dir) != 0) {
        fprintf(stderr, "tailor: synth: cannot create directory '%s': %s\n", dir, strerror(errno));
        return TL_EXIT_FAIL;
    }
    double t0 = tl_now();
    tl_err rc = tl_synth_library_generate(o, &lib, &d);
    if (rc != TL_OK) {
        tl_cli_error("synth", rc, &d);
        return rc == TL_EPARSE ? TL_EXIT_DATA : rc == TL_EINVAL ? TL_EXIT_USAGE : TL_EXIT_FAIL;
    }
    double t1 = tl_now();
    if ((rc = tl_synth_library_write(&lib, dir, &d)) != TL_OK) {
        tl_cli_error("synth", rc, &d);
        tl_synth_library_release(&lib);
        return TL_EXIT_FAIL;
    }
    int64_t by_type[TL_SYNTH_NEV] = {0};
    int64_t loans_by_phase[5] = {0}, days_by_phase[5] = {0};
    for (int64_t k = 0; k < lib.nevents; k++) {
        const tl_synth_event *e = &lib.events[k];
        by_type[e->type]++;
        if (e->type == TL_SYNTH_LOAN)
            loans_by_phase[tl_synth_calendar((int32_t)((e->ts - lib.start) / 86400))]++;
    }
    for (int32_t day = 0; day < o->days; day++)
        days_by_phase[tl_synth_calendar(day)]++;
    int32_t newer = 0;
    for (int32_t i = 0; i < lib.nbooks; i++)
        newer += lib.books[i].added >= lib.end - (int64_t)28 * 86400;
    char from[32], to[32];
    time_t a = (time_t)lib.start, b = (time_t)(lib.end - 86400);
    struct tm tma, tmb;
    strftime(from, sizeof(from), "%Y-%m-%d", gmtime_r(&a, &tma));
    strftime(to, sizeof(to), "%Y-%m-%d", gmtime_r(&b, &tmb));

    printf("tailor synth: demo library, SYNTHETIC patrons and loans (seed %llu)\n",
           (unsigned long long)o->seed);
    printf("  catalogue  %d real books from %s (goodbooks-10k, CC BY-SA 4.0), %d new arrivals\n",
           (int)lib.nbooks, o->books_path, (int)newer);
    printf("  patrons    %d synthetic\n", (int)lib.npatrons);
    printf("  events     %lld synthetic, %s .. %s:", (long long)lib.nevents, from, to);
    for (int t = 0; t < TL_SYNTH_NEV; t++)
        printf(" %lld %s%s", (long long)by_type[t], tl_synth_ev_name((tl_synth_ev)t),
               t + 1 < TL_SYNTH_NEV ? "," : "\n");
    printf("  loans/day ");
    for (int p = 0; p < 5; p++)
        if (days_by_phase[p])
            printf(" %s %.1f", tl_synth_phase_name((tl_synth_phase)p),
                   (double)loans_by_phase[p] / (double)days_by_phase[p]);
    printf("\n  wrote      %s/items.tsv, %s/users.tsv, %s/events.tsv, %s/catalogue.mrc (MARC, with "
           "copies by branch; simulated in %.2f s, written in %.2f s)\n",
           dir, dir, dir, dir, t1 - t0, tl_now() - t1);
    tl_synth_library_release(&lib);
    return TL_EXIT_OK;
}

static int run_shape(const char *name, const tl_opt_list *set, uint64_t seed, const char *dir)
{
    tl_shape_opts o;
    tl_shape s;
    tl_diag d;
    tl_diag_clear(&d);
    if (tl_shape_preset(name, &o) != TL_OK) {
        char names[256] = "";
        for (const char *const *n = tl_shape_preset_names(); *n; n++)
            snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s",
                     *names ? ", " : "", *n);
        return tl_opt_usage_error(&def, "--shape: '%s' is not a shape (the shapes: %s)", name,
                                  names);
    }
    o.seed = seed; /* every generator's default seed is 42 */
    for (int i = 0; i < set->n; i++)
        if (tl_shape_set(&o, set->v[i]) != TL_OK)
            return tl_opt_usage_error(&def, "--set: '%s' is not an option of the shapes",
                                      set->v[i]);
    printf("tailor synth: SYNTHETIC data set shaped like '%s' (seed %llu)\n", name,
           (unsigned long long)o.seed);
    fflush(stdout);
    double t0 = tl_now();
    tl_err rc = tl_shape_generate(&o, &s);
    if (rc != TL_OK) {
        tl_diag_set(&d, NULL, 0, NULL, "%s: %s", name,
                    rc == TL_EINVAL ? "impossible options (see --set)" : tl_strerror(rc));
        return tl_cli_fail("synth", rc, &d);
    }
    tl_shape_stats st;
    tl_shape_stats_compute(&s, &st);
    long long pairs = (long long)s.n;
    rc = tl_shape_write(&s, &o, name, dir, &d);
    tl_shape_release(&s);
    if (rc != TL_OK)
        return tl_cli_fail("synth", rc, &d);
    printf("  %d users, %d catalogue items (%d used), %lld pairs, density %.3f %%\n"
           "  wrote %s/interactions.tsv and items.tsv in %.2f s\n",
           (int)o.users, (int)o.items, (int)st.items_used, pairs, 100.0 * st.density, dir,
           tl_now() - t0);
    return TL_EXIT_OK;
}

static int run(const tl_cli *cli, int argc, char **argv)
{
    (void)cli;
    tl_synth_opts po;
    tl_synth_lib_opts lo;
    tl_synth_opts_ml20m(&po);
    tl_synth_lib_opts_init(&lo);
    char start[32];
    time_t t0 = (time_t)lo.start;
    struct tm tm0;
    strftime(start, sizeof(start), "%Y-%m-%d", gmtime_r(&t0, &tm0));
    args a = {.users = po.users,
              .items = po.items,
              .events = po.events,
              .zipf = po.zipf,
              .sigma = po.activity_sigma,
              .seed = po.seed,
              .patrons = lo.patrons,
              .days = lo.days,
              .new_arrivals = lo.new_arrivals,
              .start = start};
    int first, code = tl_opt_parse(&def, &a, argc, argv, &first);
    if (code != TL_OPT_RUN)
        return code;
    if (a.powerlaw + a.library + (a.shape != NULL) != 1 || !a.out)
        return tl_opt_usage_error(&def, "give one of --powerlaw, --library and --shape, and --out");
    if (a.set.n && !a.shape)
        return tl_opt_usage_error(&def, "--set goes with --shape");
    if (a.shape)
        return run_shape(a.shape, &a.set, a.seed, a.out);
    if (a.library && parse_date(a.start, &lo.start) != 0)
        return tl_opt_usage_error(&def, "--start: '%s' is not a date YYYY-MM-DD", a.start);
    po.users = a.users;
    po.items = a.items;
    po.events = a.events;
    po.zipf = a.zipf;
    po.activity_sigma = a.sigma;
    po.seed = lo.seed = a.seed;
    lo.books_path = a.books;
    lo.subjects_path = strcmp(a.subjects, "none") == 0 ? NULL : a.subjects;
    lo.patrons = a.patrons;
    lo.days = a.days;
    lo.new_arrivals = a.new_arrivals;
    if (a.powerlaw) {
        if (po.events > (int64_t)po.users * po.items)
            return tl_opt_usage_error(&def, "%lld events cannot fit %d users x %d items",
                                      (long long)po.events, (int)po.users, (int)po.items);
        return run_powerlaw(&po, a.out);
    }
    return run_library(&lo, a.out);
}

const tl_cmd tl_cmd_synth = {&def, "generate a synthetic data set (power-law, or a library)", run};
