/* Benchmarks of the ials model: seconds per epoch on the MovieLens-20M-shaped synthetic set
 * (with peak RSS), fold-in latency, and a quick nDCG@10 check on a train/test split.
 *
 *   bench_ials epoch   [--events N] [--epochs E] [key=value ...]   (default 20M events, E = 4)
 *   bench_ials foldin  [--hist 200] [--reps 2000] [key=value ...]
 *   bench_ials quality TRAIN.tsv TEST.tsv [--recs OUT.tsv] [key=value ...]
 *   bench_ials compare A.model B.model    (largest factor difference of two ials models)
 *
 * key=value pairs are ials parameters (factors=64 alpha=40 solver=cg ...). */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "core/model.h"
#include "core/models/ials.h"
#include "ingest/matrix_tsv.h"
#include "synth/synth.h"
#include "util/clock.h"
#include "util/hash.h"
#include "util/lines.h"

static double peak_rss_gb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_maxrss / (1024.0 * 1024.0); /* ru_maxrss is in KiB on Linux */
}

/* Resident memory now (VmRSS), in GiB like peak_rss_gb, or -1. */
static double rss_now_gb(void)
{
    long pages = -1, resident = -1;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
            resident = -1;
        fclose(f);
    }
    return resident < 0
               ? -1
               : (double)resident * (double)sysconf(_SC_PAGESIZE) / (1024.0 * 1024.0 * 1024.0);
}

static double cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double load_avg(void)
{
    double l = -1;
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fscanf(f, "%lf", &l) != 1)
            l = -1;
        fclose(f);
    }
    return l;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static int set_params(tl_model *m, int argc, char **argv, int from)
{
    for (int i = from; i < argc; i++) {
        if (!strchr(argv[i], '='))
            continue;
        tl_diag d;
        tl_diag_clear(&d);
        if (tl_model_set(m, argv[i], &d) != TL_OK) {
            char buf[512];
            tl_diag_format(&d, buf, sizeof(buf));
            fprintf(stderr, "bench_ials: %s: %s\n", argv[i], buf);
            return -1;
        }
    }
    return 0;
}

static const char *opt(int argc, char **argv, const char *name, const char *def)
{
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], name) == 0)
            return argv[i + 1];
    return def;
}

/* The data set as training needs it: weights only, no timestamps (iALS never reads them). */
static int make_synth(int64_t events, tl_data *d)
{
    tl_synth_opts o;
    tl_synth_opts_ml20m(&o);
    o.no_timestamps = 1;
    if (events > 0 && events != o.events) {
        /* Scale users with events so the per-user shape stays MovieLens-like. */
        o.users = (int32_t)((double)o.users * (double)events / (double)o.events);
        o.events = events;
    }
    double t0 = tl_now();
    tl_err rc = tl_synth_powerlaw(&o, d);
    if (rc != TL_OK) {
        fprintf(stderr, "bench_ials: synth: %s\n", tl_strerror(rc));
        return -1;
    }
    int64_t max_u = 0, max_i = 0;
    for (int32_t u = 0; u < d->ui.nrows; u++)
        if (d->ui.indptr[u + 1] - d->ui.indptr[u] > max_u)
            max_u = d->ui.indptr[u + 1] - d->ui.indptr[u];
    for (int32_t i = 0; i < d->iu.nrows; i++)
        if (d->iu.indptr[i + 1] - d->iu.indptr[i] > max_i)
            max_i = d->iu.indptr[i + 1] - d->iu.indptr[i];
    printf("data: %d users x %d items, %lld events (max user %lld, max item %lld), %.1f s, "
           "RSS %.2f GB\n",
           d->ui.nrows, d->ui.ncols, (long long)d->ui.nnz, (long long)max_u, (long long)max_i,
           tl_now() - t0, rss_now_gb());
    return 0;
}

static int bench_epoch(int argc, char **argv)
{
    int64_t events = atoll(opt(argc, argv, "--events", "20000000"));
    int epochs = atoi(opt(argc, argv, "--epochs", "4"));
    tl_data d;
    tl_data_init(&d);
    tl_model *m = NULL;
    tl_diag diag;
    tl_diag_clear(&diag);
    int ret = 1;
    char iters[32];
    snprintf(iters, sizeof(iters), "iterations=%d", epochs);
    if (make_synth(events, &d) != 0 || tl_model_new("ials", &m) != TL_OK ||
        tl_model_set(m, iters, NULL) != TL_OK || set_params(m, argc, argv, 2) != 0)
        goto out;
    printf("params: factors=%g alpha=%g reg=%g solver=%s cg_steps=%g threads=%g\n",
           tl_params_num(&m->params, "factors"), tl_params_num(&m->params, "alpha"),
           tl_params_num(&m->params, "reg"), tl_params_str(&m->params, "solver"),
           tl_params_num(&m->params, "cg_steps"), tl_params_num(&m->params, "threads"));
    double la = load_avg();
    double t0 = tl_now(), c0 = cpu_seconds();
    tl_err rc = tl_model_fit(m, &d, NULL, &diag);
    double total = tl_now() - t0, cpu = cpu_seconds() - c0;
    if (rc != TL_OK) {
        fprintf(stderr, "bench_ials: fit: %s %s\n", tl_strerror(rc), diag.msg);
        goto out;
    }
    int n = 0;
    const tl_ials_epoch *ep = tl_ials_epochs(m, &n);
    double v[1024], c[1024];
    printf("epoch   wall s  (items + users)    CPU s\n");
    for (int i = 0; i < n; i++) {
        printf("%5d  %7.3f  (%.3f + %.3f)  %7.3f%s\n", i + 1, ep[i].seconds, ep[i].item_seconds,
               ep[i].user_seconds, ep[i].cpu_seconds, i ? "" : "  (warm-up)");
        if (i > 0 && i - 1 < 1024) {
            v[i - 1] = ep[i].seconds;
            c[i - 1] = ep[i].cpu_seconds;
        }
    }
    if (n > 1) {
        double med = median(v, n - 1), cmed = median(c, n - 1);
        printf("median epoch (after warm-up): %.3f s wall (min %.3f, max %.3f), %.3f s CPU "
               "(%.3f s per core over %g threads)\n",
               med, v[0], v[n - 2], cmed, cmed / omp_get_max_threads(),
               (double)omp_get_max_threads());
    }
    printf("fit total: %.3f s wall, %.3f s CPU (%.2f cores busy; load before %.2f)   peak RSS: "
           "%.2f GB\n",
           total, cpu, cpu / total, la, peak_rss_gb());
    ret = 0;
out:
    tl_model_free(m);
    tl_data_release(&d);
    return ret;
}

static int bench_foldin(int argc, char **argv)
{
    int hist = atoi(opt(argc, argv, "--hist", "200"));
    int reps = atoi(opt(argc, argv, "--reps", "2000"));
    tl_data d;
    tl_data_init(&d);
    tl_model *m = NULL;
    int ret = 1;
    int32_t *items = NULL;
    float *w = NULL, *vec = NULL;
    tl_diag diag;
    tl_diag_clear(&diag);
    /* Fold-in cost depends on factors and history length, not on how good the factors are:
     * a 2M-event set and 2 epochs give realistic (non-random) item factors quickly. */
    if (make_synth(2000000, &d) != 0 || tl_model_new("ials", &m) != TL_OK ||
        tl_model_set(m, "iterations=2", NULL) != TL_OK || set_params(m, argc, argv, 2) != 0)
        goto out;
    if (tl_model_fit(m, &d, NULL, &diag) != TL_OK)
        goto out;
    int k = (int)tl_params_num(&m->params, "factors");
    items = malloc((size_t)hist * 64 * sizeof(*items));
    w = malloc((size_t)hist * 64 * sizeof(*w));
    vec = malloc((size_t)k * sizeof(*vec));
    if (!items || !w || !vec)
        goto out;
    /* 64 different histories of distinct items, each a random run of hist item indices. */
    tl_rng g = {42};
    for (int h = 0; h < 64; h++) {
        int32_t start = (int32_t)(tl_rng_next(&g) % (uint64_t)(m->n_items - hist));
        for (int j = 0; j < hist; j++) {
            items[h * hist + j] = start + j;
            w[h * hist + j] = 1.0f;
        }
    }
    double per[64];
    for (int b = 0; b < 64; b++) {
        double t0 = tl_now();
        for (int r = 0; r < reps / 64 + 1; r++)
            tl_ials_fold_in(m, items + (size_t)b * hist, w + (size_t)b * hist, hist, vec);
        per[b] = (tl_now() - t0) / (reps / 64 + 1) * 1e6;
    }
    double lo = per[0], hi = per[0];
    for (int b = 1; b < 64; b++) {
        lo = per[b] < lo ? per[b] : lo;
        hi = per[b] > hi ? per[b] : hi;
    }
    printf("fold-in, %d events, %d factors: median %.1f us per user (min %.1f, max %.1f)\n", hist,
           k, median(per, 64), lo, hi);
    ret = 0;
out:
    free(items);
    free(w);
    free(vec);
    tl_model_free(m);
    tl_data_release(&d);
    return ret;
}

/* Test pairs grouped by the train index of the user; items unknown to train are -1. */
typedef struct test_set {
    int64_t *start; /* n_users + 1 */
    int32_t *items;
} test_set;

static int load_test(const char *path, const tl_data *d, test_set *t)
{
    tl_lines lr;
    char *line;
    size_t len;
    int64_t n = 0, cap = 1 << 16;
    int32_t *pu = malloc((size_t)cap * sizeof(*pu)), *pi = malloc((size_t)cap * sizeof(*pi));
    if (!pu || !pi || tl_lines_open(&lr, path) != TL_OK)
        return -1;
    int r;
    while ((r = tl_lines_next(&lr, &line, &len)) == 1) {
        if (lr.lineno == 1)
            continue; /* header */
        char *tab = memchr(line, '\t', len);
        if (!tab)
            continue;
        int32_t u = tl_intern_find(&d->users, line, (size_t)(tab - line));
        if (u < 0)
            continue; /* PROTOCOL: such a user has no recommendations (scores 0) */
        char *it = tab + 1;
        char *end = memchr(it, '\t', len - (size_t)(it - line));
        size_t il = end ? (size_t)(end - it) : len - (size_t)(it - line);
        if (n == cap) {
            cap *= 2;
            pu = realloc(pu, (size_t)cap * sizeof(*pu));
            pi = realloc(pi, (size_t)cap * sizeof(*pi));
            if (!pu || !pi)
                return -1;
        }
        pu[n] = u;
        pi[n] = tl_intern_find(&d->items, it, il);
        n++;
    }
    tl_lines_close(&lr);
    int32_t nu = d->users.count;
    t->start = calloc((size_t)nu + 1, sizeof(*t->start));
    t->items = malloc((size_t)(n ? n : 1) * sizeof(*t->items));
    int64_t *fill = calloc((size_t)nu + 1, sizeof(*fill));
    if (!t->start || !t->items || !fill)
        return -1;
    for (int64_t j = 0; j < n; j++)
        t->start[pu[j] + 1]++;
    for (int32_t u = 0; u < nu; u++)
        t->start[u + 1] += t->start[u];
    for (int64_t j = 0; j < n; j++)
        t->items[t->start[pu[j]] + fill[pu[j]]++] = pi[j];
    free(fill);
    free(pu);
    free(pi);
    return r == 0 ? 0 : -1;
}

static int bench_quality(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: bench_ials quality TRAIN.tsv TEST.tsv [key=value ...]\n");
        return 2;
    }
    const char *recs_path = opt(argc, argv, "--recs", NULL);
    tl_data d;
    tl_data_init(&d);
    tl_tsv_opts o;
    tl_tsv_opts_init(&o);
    tl_diag diag;
    tl_diag_clear(&diag);
    tl_model *m = NULL;
    test_set t = {0};
    int32_t *rows = NULL, *out = NULL;
    int ret = 1;
    if (tl_data_load_tsv(&d, argv[2], &o, &diag) != TL_OK || load_test(argv[3], &d, &t) != 0 ||
        tl_model_new("ials", &m) != TL_OK || set_params(m, argc, argv, 4) != 0) {
        fprintf(stderr, "bench_ials: cannot load %s / %s: %s\n", argv[2], argv[3], diag.msg);
        goto out;
    }
    if (tl_model_fit(m, &d, NULL, &diag) != TL_OK) {
        fprintf(stderr, "bench_ials: fit: %s\n", diag.msg);
        goto out;
    }
    int32_t nu = d.users.count, n_rows = 0;
    rows = malloc((size_t)nu * sizeof(*rows));
    out = malloc((size_t)nu * 100 * sizeof(*out));
    if (!rows || !out)
        goto out;
    for (int32_t u = 0; u < nu; u++)
        if (t.start[u + 1] > t.start[u])
            rows[n_rows++] = u;
    double t0 = tl_now();
    if (tl_model_recommend_rows(m, &d.ui, 1, rows, n_rows, NULL, 100, out, NULL) != TL_OK)
        goto out;
    double trec = tl_now() - t0;
    double ndcg10 = 0, ndcg100 = 0, hr10 = 0;
    for (int32_t r = 0; r < n_rows; r++) {
        int32_t u = rows[r];
        int64_t nt = t.start[u + 1] - t.start[u];
        double dcg10 = 0, dcg100 = 0, idcg10 = 0, idcg100 = 0;
        for (int q = 0; q < 100; q++) {
            int32_t it = out[(size_t)r * 100 + q];
            int rel = 0;
            for (int64_t j = t.start[u]; it >= 0 && j < t.start[u + 1]; j++)
                rel |= t.items[j] == it;
            double g = rel / log2(q + 2.0);
            dcg100 += g;
            if (q < 10)
                dcg10 += g;
            if (q < nt)
                idcg100 += 1 / log2(q + 2.0);
            if (q < nt && q < 10)
                idcg10 += 1 / log2(q + 2.0);
        }
        ndcg10 += dcg10 / idcg10;
        ndcg100 += dcg100 / idcg100;
        hr10 += dcg10 > 0;
    }
    printf("users %d  nDCG@10 %.4f  nDCG@100 %.4f  HR@10 %.4f  (fit %.2f s, recommend %.2f s)\n",
           n_rows, ndcg10 / n_rows, ndcg100 / n_rows, hr10 / n_rows, m->fit_seconds, trec);
    if (recs_path) {
        FILE *f = fopen(recs_path, "w");
        if (!f)
            goto out;
        fprintf(f, "user\titem\trank\n");
        for (int32_t r = 0; r < n_rows; r++)
            for (int q = 0; q < 100 && out[(size_t)r * 100 + q] >= 0; q++)
                fprintf(f, "%s\t%s\t%d\n", tl_intern_str(&d.users, rows[r]),
                        tl_intern_str(&d.items, out[(size_t)r * 100 + q]), q + 1);
        fclose(f);
    }
    ret = 0;
out:
    free(rows);
    free(out);
    free(t.start);
    free(t.items);
    tl_model_free(m);
    tl_data_release(&d);
    return ret;
}

/* The largest absolute difference between two ials model files' factors (bench/ials_mpi.sh:
 * the distributed model against the one-process one). */
static int bench_compare(int argc, char **argv)
{
    tl_model *m[2] = {NULL, NULL};
    tl_ials_view v[2];
    tl_diag diag;
    if (argc != 4) {
        fprintf(stderr, "usage: bench_ials compare A.model B.model\n");
        return 2;
    }
    for (int s = 0; s < 2; s++)
        if (tl_model_load(argv[2 + s], &m[s], &diag) != TL_OK || tl_ials_view_get(m[s], &v[s])) {
            fprintf(stderr, "bench_ials: %s is not a readable ials model\n", argv[2 + s]);
            return 1;
        }
    if (v[0].n_users != v[1].n_users || v[0].n_items != v[1].n_items || v[0].ld != v[1].ld) {
        fprintf(stderr, "bench_ials: the models have different shapes\n");
        return 1;
    }
    double du = 0, di = 0, su = 0, si = 0;
    for (size_t i = 0; i < (size_t)v[0].n_users * v[0].ld; i++) {
        du = fmax(du, fabs((double)v[0].user_factors[i] - v[1].user_factors[i]));
        su = fmax(su, fabs((double)v[0].user_factors[i]));
    }
    for (size_t i = 0; i < (size_t)v[0].n_items * v[0].ld; i++) {
        di = fmax(di, fabs((double)v[0].item_factors[i] - v[1].item_factors[i]));
        si = fmax(si, fabs((double)v[0].item_factors[i]));
    }
    printf("max |difference|: user factors %.3g (largest |factor| %.3g), item factors %.3g "
           "(largest %.3g)\n",
           du, su, di, si);
    tl_model_free(m[0]);
    tl_model_free(m[1]);
    return 0;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    if (strcmp(mode, "epoch") == 0)
        return bench_epoch(argc, argv);
    if (strcmp(mode, "foldin") == 0)
        return bench_foldin(argc, argv);
    if (strcmp(mode, "quality") == 0)
        return bench_quality(argc, argv);
    if (strcmp(mode, "compare") == 0)
        return bench_compare(argc, argv);
    fprintf(stderr,
            "usage: bench_ials epoch|foldin|quality|compare ... (see bench/bench_ials.c)\n");
    return 2;
}
