/* Benchmarks of the item-item models: EASE fit time and peak RSS on a power-law synthetic
 * catalogue (the bar: 20,000 items in <= 120 s and <= 4 GB on the 2-core machine), and a
 * quality driver that trains any model on a split's train.tsv and writes the top-100 recs.tsv
 * for tools/evaluate.py.
 *
 *   bench_ease fit [--users N] [--items N] [--events N] [--model NAME] [key=value ...]
 *        (default ease on 100,000 users x 20,000 items x 2,000,000 events; for ease,
 *        lambda=200 unless given)
 *   bench_ease quality TRAIN.tsv TEST.tsv MODEL RECS.tsv [--items=ITEMS.tsv] [key=value ...]
 *        (--items attaches catalogue metadata to the train items, for rp3beta's attribute walk)
 *
 * key=value pairs are model parameters (autotune=0 switches validation tuning off). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "core/model.h"
#include "ingest/matrix_tsv.h"
#include "synth/synth.h"
#include "util/clock.h"
#include "util/lines.h"

static double peak_rss_mb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_maxrss / 1024.0; /* ru_maxrss is in KiB on Linux */
}

static void report(const char *what, tl_err rc, const tl_diag *d)
{
    char buf[700];
    tl_diag_format(d, buf, sizeof(buf));
    fprintf(stderr, "bench_ease: %s: %s %s\n", what, tl_strerror(rc), buf);
}

static int set_params(tl_model *m, int argc, char **argv, int from)
{
    for (int i = from; i < argc; i++) {
        if (!strchr(argv[i], '=') || argv[i][0] == '-')
            continue;
        tl_diag d;
        tl_diag_clear(&d);
        tl_err rc = tl_model_set(m, argv[i], &d);
        if (rc != TL_OK) {
            report(argv[i], rc, &d);
            return -1;
        }
    }
    return 0;
}

static long long opt_num(int argc, char **argv, const char *name, long long def)
{
    for (int i = 2; i + 1 < argc; i++)
        if (strcmp(argv[i], name) == 0)
            return atoll(argv[i + 1]);
    return def;
}

static const char *opt_str(int argc, char **argv, const char *name, const char *def)
{
    for (int i = 2; i + 1 < argc; i++)
        if (strcmp(argv[i], name) == 0)
            return argv[i + 1];
    return def;
}

static int has_param(int argc, char **argv, const char *prefix)
{
    for (int i = 2; i < argc; i++)
        if (strncmp(argv[i], prefix, strlen(prefix)) == 0)
            return 1;
    return 0;
}

static int bench_fit(int argc, char **argv)
{
    tl_synth_opts o = {.users = (int32_t)opt_num(argc, argv, "--users", 100000),
                       .items = (int32_t)opt_num(argc, argv, "--items", 20000),
                       .events = opt_num(argc, argv, "--events", 2000000),
                       .zipf = 1.0,
                       .activity_sigma = 1.0,
                       .seed = 42};
    tl_data d;
    tl_model *m = NULL;
    tl_diag diag;
    tl_diag_clear(&diag);
    tl_data_init(&d);
    int ret = 1;
    double t0 = tl_now();
    tl_err rc = tl_synth_powerlaw(&o, &d);
    if (rc != TL_OK) {
        report("synth", rc, &diag);
        goto out;
    }
    int32_t active = 0;
    for (int32_t i = 0; i < d.iu.nrows; i++)
        active += d.iu.indptr[i + 1] > d.iu.indptr[i];
    double pair_ops = 0;
    for (int32_t u = 0; u < d.ui.nrows; u++) {
        double n = (double)(d.ui.indptr[u + 1] - d.ui.indptr[u]);
        pair_ops += n * n;
    }
    printf("data: %d users x %d items (%d with events), %lld events, sum |u|^2 = %.3g, %.1f s, "
           "rss %.0f MB\n",
           d.ui.nrows, d.ui.ncols, active, (long long)d.ui.nnz, pair_ops, tl_now() - t0,
           peak_rss_mb());
    const char *name = opt_str(argc, argv, "--model", "ease");
    if ((rc = tl_model_new(name, &m)) != TL_OK) {
        report(name, rc, &diag);
        goto out;
    }
    if (strcmp(name, "ease") == 0 && !has_param(argc, argv, "lambda=") &&
        tl_model_set(m, "lambda=200", &diag) != TL_OK)
        goto out;
    if (set_params(m, argc, argv, 2))
        goto out;
    double rss0 = peak_rss_mb();
    if ((rc = tl_model_fit(m, &d, NULL, &diag)) != TL_OK) {
        report("fit", rc, &diag);
        goto out;
    }
    printf("%s fit: %.1f s, peak rss %.0f MB (before fit %.0f MB)%s%s\n", name, m->fit_seconds,
           peak_rss_mb(), rss0, m->tuned[0] ? ", tuned: " : "", m->tuned);
    /* Top-100 for the first 10,000 users, as an eval would. */
    int32_t nr = d.ui.nrows < 10000 ? d.ui.nrows : 10000;
    int32_t *rows = malloc((size_t)nr * sizeof(*rows));
    int32_t *out = malloc((size_t)nr * 100 * sizeof(*out));
    if (!rows || !out) {
        free(rows);
        free(out);
        goto out;
    }
    for (int32_t r = 0; r < nr; r++)
        rows[r] = r;
    t0 = tl_now();
    rc = tl_model_recommend_rows(m, &d.ui, 1, rows, nr, NULL, 100, out, NULL);
    printf("top-100 for %d users: %.2f s (%s)\n", nr, tl_now() - t0, tl_strerror(rc));
    free(rows);
    free(out);
    ret = rc != TL_OK;
out:
    tl_model_free(m);
    tl_data_release(&d);
    return ret;
}

/* The test users of TEST.tsv (header user, item) in first-seen order, as train user indices;
 * users absent from train get -1 (they score nothing, as the protocol counts them). */
static int read_test_users(const char *path, const tl_data *d, int32_t **out, char ***ids,
                           int32_t *n)
{
    tl_lines lr;
    char *line;
    size_t len;
    int32_t cap = 1024, cnt = 0;
    char *last = NULL;
    if (tl_lines_open(&lr, path) != TL_OK)
        return -1;
    int32_t *rows = malloc((size_t)cap * sizeof(*rows));
    char **names = malloc((size_t)cap * sizeof(*names));
    int first = 1, ok = rows && names;
    while (ok && tl_lines_next(&lr, &line, &len) == 1) {
        char *tab = strchr(line, '\t');
        if (first || !tab) {
            first = 0;
            continue;
        }
        *tab = '\0';
        if (last && strcmp(last, line) == 0)
            continue;
        if (cnt == cap) {
            cap *= 2;
            int32_t *nr = realloc(rows, (size_t)cap * sizeof(*rows));
            char **nn = realloc(names, (size_t)cap * sizeof(*names));
            rows = nr ? nr : rows;
            names = nn ? nn : names;
            if (!nr || !nn) {
                ok = 0;
                break;
            }
        }
        names[cnt] = strdup(line);
        if (!names[cnt]) {
            ok = 0;
            break;
        }
        rows[cnt] = tl_intern_find(&d->users, line, strlen(line));
        last = names[cnt++];
    }
    tl_lines_close(&lr);
    if (!ok) {
        for (int32_t i = 0; i < cnt; i++)
            free(names[i]);
        free(rows);
        free(names);
        return -1;
    }
    *out = rows;
    *ids = names;
    *n = cnt;
    return 0;
}

static int bench_quality(int argc, char **argv)
{
    if (argc < 6) {
        fprintf(stderr, "usage: bench_ease quality TRAIN TEST MODEL RECS [--items=ITEMS] "
                        "[key=value ...]\n");
        return 2;
    }
    tl_data d;
    tl_tsv_opts to;
    tl_diag diag;
    tl_model *m = NULL;
    int32_t *users = NULL, n_users = 0, *known = NULL, *recs = NULL;
    char **ids = NULL;
    FILE *f = NULL;
    int ret = 1;
    tl_diag_clear(&diag);
    tl_data_init(&d);
    tl_tsv_opts_init(&to);
    tl_err rc = tl_data_load_tsv(&d, argv[2], &to, &diag);
    if (rc != TL_OK) {
        report(argv[2], rc, &diag);
        goto out;
    }
    for (int i = 6; i < argc; i++) {
        if (strncmp(argv[i], "--items=", 8) == 0 &&
            (rc = tl_data_load_items_tsv(&d, argv[i] + 8, 0, &diag)) != TL_OK) {
            report(argv[i] + 8, rc, &diag);
            goto out;
        }
    }
    if ((rc = tl_model_new(argv[4], &m)) != TL_OK) {
        report(argv[4], rc, &diag);
        goto out;
    }
    if (set_params(m, argc, argv, 6) || read_test_users(argv[3], &d, &users, &ids, &n_users))
        goto out;
    if ((rc = tl_model_fit(m, &d, NULL, &diag)) != TL_OK) {
        report("fit", rc, &diag);
        goto out;
    }
    double fit_s = m->fit_seconds, t0 = tl_now();
    known = malloc(((size_t)n_users + 1) * sizeof(*known));
    recs = malloc(((size_t)n_users + 1) * 100 * sizeof(*recs));
    if (!known || !recs)
        goto out;
    int32_t nk = 0;
    for (int32_t r = 0; r < n_users; r++)
        if (users[r] >= 0)
            known[nk++] = users[r];
    if ((rc = tl_model_recommend_rows(m, &d.ui, 1, known, nk, NULL, 100, recs, NULL)) != TL_OK) {
        report("recommend", rc, &diag);
        goto out;
    }
    double rec_s = tl_now() - t0;
    if (!(f = fopen(argv[5], "w")))
        goto out;
    fprintf(f, "user\titem\trank\n");
    for (int32_t r = 0, k = 0; r < n_users; r++) {
        if (users[r] < 0)
            continue;
        const int32_t *row = recs + (size_t)k++ * 100;
        for (int j = 0; j < 100 && row[j] >= 0; j++)
            fprintf(f, "%s\t%s\t%d\n", ids[r], tl_intern_str(&d.items, row[j]), j + 1);
    }
    fprintf(stderr, "%s: fit %.2f s, top-100 for %d users %.2f s%s%s\n", argv[4], fit_s, nk, rec_s,
            m->tuned[0] ? ", tuned: " : "", m->tuned);
    ret = 0;
out:
    if (f && fclose(f) != 0)
        ret = 1;
    for (int32_t i = 0; i < n_users; i++)
        free(ids[i]);
    free(ids);
    free(users);
    free(known);
    free(recs);
    tl_model_free(m);
    tl_data_release(&d);
    return ret;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "quality") == 0)
        return bench_quality(argc, argv);
    if (argc >= 2 && strcmp(argv[1], "fit") == 0)
        return bench_fit(argc, argv);
    fprintf(stderr,
            "usage: bench_ease fit [--users N] [--items N] [--events N] [--model NAME] "
            "[key=value ...]\n"
            "       bench_ease quality TRAIN TEST MODEL RECS [--items=ITEMS] [key=value ...]\n");
    return 2;
}
