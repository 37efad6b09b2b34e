/* tailor synth: writes synthetic data sets. --powerlaw makes MovieLens-shaped interactions for
 * benchmarks; --library simulates an academic library (real demo catalogue, synthetic patrons
 * and loans) in Tailor's import formats for the demo. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli/cli.h"
#include "synth/synth.h"
#include "util/clock.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: tailor synth --powerlaw [OPTIONS] --out FILE\n"
            "       tailor synth --library [OPTIONS] --out DIR\n\n"
            "Generates SYNTHETIC data, deterministically for a seed.\n\n"
            "--powerlaw: implicit interactions shaped like MovieLens-20M, written as\n"
            "interactions.tsv (user item value timestamp; .gz when FILE ends in .gz).\n"
            "  --users N      users (default 138000)\n"
            "  --items N      items (default 27000)\n"
            "  --events N     distinct user-item pairs, met exactly (default 20000000)\n"
            "  --zipf X       item popularity exponent (default 1.0)\n"
            "  --sigma X      log-normal sigma of user activity (default 1.0)\n"
            "  --seed N       (default 42)\n\n"
            "--library: the demo library. Real catalogue (goodbooks-10k, CC BY-SA 4.0), synthetic\n"
            "patrons and circulation over one academic year; writes DIR/items.tsv, DIR/users.tsv\n"
            "and DIR/events.tsv for `tailor import`. The model is described in demo/README.md.\n"
            "  --books FILE     goodbooks-10k books.csv (default demo/books.csv)\n"
            "  --subjects FILE  book_id<TAB>subjects (default demo/subjects.tsv; 'none' for none)\n"
            "  --patrons N      (default 2000)\n"
            "  --days N         simulated days (default 365)\n"
            "  --start DATE     first day of the autumn term, YYYY-MM-DD (default 2024-09-02)\n"
            "  --new N          books acquired in the last four weeks (default 300)\n"
            "  --seed N         (default 42)\n");
}

static int parse_i64(const char *s, int64_t lo, int64_t hi, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end || errno || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static int parse_u64(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    if (!*s || *s == '-')
        return -1;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end || errno)
        return -1;
    *out = v;
    return 0;
}

static int parse_f(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (!*s || *end || errno || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

static int parse_date(const char *s, int64_t *out)
{
    int y, m, d;
    char tail;
    if (sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3 || m < 1 || m > 12 || d < 1 || d > 31 ||
        y < 1971 || y > 9999)
        return -1;
    struct tm tm = {0};
    tm.tm_year = y - 1900;
    tm.tm_mon = m - 1;
    tm.tm_mday = d;
    time_t t = timegm(&tm);
    if (t == (time_t)-1 || tm.tm_mday != d)
        return -1;
    *out = (int64_t)t;
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
    printf("\n  wrote      %s/items.tsv, %s/users.tsv, %s/events.tsv (simulated in %.2f s, "
           "written in %.2f s)\n",
           dir, dir, dir, t1 - t0, tl_now() - t1);
    tl_synth_library_release(&lib);
    return TL_EXIT_OK;
}

int cmd_synth(const tl_cli *cli, int argc, char **argv)
{
    (void)cli;
    if (tl_cli_wants_help(argc, argv)) {
        usage(stdout);
        return TL_EXIT_OK;
    }
    int mode = 0; /* 1 powerlaw, 2 library */
    const char *out = NULL;
    tl_synth_opts po;
    tl_synth_lib_opts lo;
    tl_synth_opts_ml20m(&po);
    tl_synth_lib_opts_init(&lo);
    lo.books_path = "demo/books.csv";
    lo.subjects_path = "demo/subjects.tsv";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int64_t n = 0;
        int bad = 0, takes = 1;
        if (strcmp(a, "--powerlaw") == 0) {
            mode = 1;
            takes = 0;
        } else if (strcmp(a, "--library") == 0) {
            mode = 2;
            takes = 0;
        } else if (!v) {
            bad = 1;
        } else if (strcmp(a, "--out") == 0) {
            out = v;
        } else if (strcmp(a, "--users") == 0) {
            bad = parse_i64(v, 1, INT32_MAX, &n);
            po.users = (int32_t)n;
        } else if (strcmp(a, "--items") == 0) {
            bad = parse_i64(v, 1, INT32_MAX, &n);
            po.items = (int32_t)n;
        } else if (strcmp(a, "--events") == 0) {
            bad = parse_i64(v, 1, INT64_MAX / 2, &po.events);
        } else if (strcmp(a, "--zipf") == 0) {
            bad = parse_f(v, &po.zipf) || po.zipf < 0;
        } else if (strcmp(a, "--sigma") == 0) {
            bad = parse_f(v, &po.activity_sigma) || po.activity_sigma < 0;
        } else if (strcmp(a, "--seed") == 0) {
            bad = parse_u64(v, &po.seed);
            lo.seed = po.seed;
        } else if (strcmp(a, "--books") == 0) {
            lo.books_path = v;
        } else if (strcmp(a, "--subjects") == 0) {
            lo.subjects_path = strcmp(v, "none") == 0 ? NULL : v;
        } else if (strcmp(a, "--patrons") == 0) {
            bad = parse_i64(v, 1, 10000000, &n);
            lo.patrons = (int32_t)n;
        } else if (strcmp(a, "--days") == 0) {
            bad = parse_i64(v, 1, 3650, &n);
            lo.days = (int32_t)n;
        } else if (strcmp(a, "--new") == 0) {
            bad = parse_i64(v, 0, INT32_MAX, &n);
            lo.new_arrivals = (int32_t)n;
        } else if (strcmp(a, "--start") == 0) {
            bad = parse_date(v, &lo.start);
        } else {
            fprintf(stderr, "tailor: synth: unknown option '%s'\n", a);
            usage(stderr);
            return TL_EXIT_USAGE;
        }
        if (bad) {
            fprintf(stderr, "tailor: synth: %s needs a valid value%s%s\n", a, v ? ", not " : "",
                    v ? v : "");
            return TL_EXIT_USAGE;
        }
        i += takes;
    }
    if (!mode || !out) {
        fprintf(stderr, "tailor: synth: give --powerlaw or --library, and --out\n");
        usage(stderr);
        return TL_EXIT_USAGE;
    }
    if (mode == 1) {
        if (po.events > (int64_t)po.users * po.items) {
            fprintf(stderr, "tailor: synth: %lld events cannot fit %d users x %d items\n",
                    (long long)po.events, (int)po.users, (int)po.items);
            return TL_EXIT_USAGE;
        }
        return run_powerlaw(&po, out);
    }
    return run_library(&lo, out);
}
