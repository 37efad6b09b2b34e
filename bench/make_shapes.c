/* make_shapes: writes the synthetic shapes of src/synth/shapes.c (interactions with planted
 * topics, popularity, drift and series, sized like the held-out data sets) as data-set folders
 * that scripts/quality.sh and bench/robustness.sh read, and prints their sizes.
 *
 *   make_shapes [--out DIR] [--seed N] [NAME ...] [key=value ...]
 *
 * NAME: a preset (articles, music, library, short, sparse17k) or "all" (the default). Each goes
 * to DIR/NAME/ (default DIR: build/shapes) with interactions.tsv, items.tsv, IMPLICIT and
 * SOURCE.md. key=value overrides an option of every preset named (tl_shape_opts' field names,
 * e.g. pairs=50000 drift=0.3). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "synth/synth.h"
#include "util/clock.h"

static void usage(void)
{
    fprintf(stderr, "usage: make_shapes [--out DIR] [--seed N] [NAME ...] [key=value ...]\n"
                    "names:");
    for (const char *const *n = tl_shape_preset_names(); *n; n++)
        fprintf(stderr, " %s", *n);
    fprintf(stderr, " all\n");
}

static int one(const char *name, const char *out, int have_seed, unsigned long long seed, int argc,
               char **argv)
{
    tl_shape_opts o;
    tl_shape s;
    tl_diag d;
    char dir[1024];
    tl_diag_clear(&d);
    if (tl_shape_preset(name, &o) != TL_OK) {
        fprintf(stderr, "make_shapes: unknown shape '%s'\n", name);
        usage();
        return 2;
    }
    if (have_seed)
        o.seed = seed;
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] == '-' || !strchr(argv[i], '='))
            continue;
        if (tl_shape_set(&o, argv[i]) != TL_OK) {
            fprintf(stderr, "make_shapes: bad option '%s'\n", argv[i]);
            return 2;
        }
    }
    double t0 = tl_now();
    tl_err rc = tl_shape_generate(&o, &s);
    if (rc != TL_OK) {
        fprintf(stderr, "make_shapes: %s: %s\n", name, tl_strerror(rc));
        return 1;
    }
    double tg = tl_now() - t0;
    snprintf(dir, sizeof(dir), "%s/%s", out, name);
    rc = tl_shape_write(&s, &o, name, dir, &d);
    double tw = tl_now() - t0 - tg;
    if (rc != TL_OK) {
        char buf[700];
        tl_diag_format(&d, buf, sizeof(buf));
        fprintf(stderr, "make_shapes: %s: %s %s\n", name, tl_strerror(rc), buf);
        tl_shape_release(&s);
        return 1;
    }
    tl_shape_stats st;
    tl_shape_stats_compute(&s, &st);
    printf("| %s | %d | %d | %d | %lld | %.3f %% | %d | %d | %lld | %lld | %lld | %.2f | ", name,
           (int)s.users, (int)s.items, (int)st.items_used, (long long)s.n, 100.0 * st.density,
           (int)st.max_user_degree, (int)st.max_item_degree, (long long)st.items_unused,
           (long long)st.items_once_twice, (long long)st.users_5_8, st.topic_lift);
    if (st.series_pairs)
        printf("%.2f (%lld) | ", st.series_in_order, (long long)st.series_pairs);
    else
        printf("- | ");
    printf("%.2f | %.2f |\n", tg, tw);
    fflush(stdout);
    tl_shape_release(&s);
    return 0;
}

int main(int argc, char **argv)
{
    const char *out = "build/shapes";
    unsigned long long seed = 42;
    int have_seed = 0, named = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage();
            return 0;
        }
        if (strcmp(argv[i], "--out") == 0 && i + 1 < argc) {
            out = argv[++i];
            argv[i - 1] = argv[i] = "-";
        } else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
            seed = strtoull(argv[++i], NULL, 10);
            have_seed = 1;
            argv[i - 1] = argv[i] = "-";
        }
    }
    if (mkdir(out, 0777) != 0) {
        struct stat sb;
        if (stat(out, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
            fprintf(stderr, "make_shapes: cannot create %s\n", out);
            return 1;
        }
    }
    printf("| shape | users | catalogue items | items used | pairs | density | max user | "
           "max item | unused items | items with 1-2 | users with 5-8 | main-topic lift | "
           "series in order (pairs) | gen s | write s |\n");
    printf("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    int rc = 0;
    for (int i = 1; i < argc && !rc; i++) {
        if (argv[i][0] == '-' || strchr(argv[i], '='))
            continue;
        named = 1;
        if (strcmp(argv[i], "all") == 0) {
            for (const char *const *n = tl_shape_preset_names(); *n && !rc; n++)
                rc = one(*n, out, have_seed, seed, argc, argv);
        } else {
            rc = one(argv[i], out, have_seed, seed, argc, argv);
        }
    }
    if (!named)
        for (const char *const *n = tl_shape_preset_names(); *n && !rc; n++)
            rc = one(*n, out, have_seed, seed, argc, argv);
    return rc;
}
