/* Benchmark: top-100 for every user of the MovieLens-20M-shaped synthetic set with ials
 * (history excluded), through tl_model_recommend_rows: per-thread tiles of users scored with
 * the model's score_block (a single-threaded sgemm) and selected by tl_topk while in cache.
 *
 *   bench_recommend [--events N] [--iters 2] [key=value ...]   (key=value: ials parameters) */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "core/model.h"
#include "synth/synth.h"
#include "util/clock.h"

static const char *opt(int argc, char **argv, const char *name, const char *def)
{
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], name) == 0)
            return argv[i + 1];
    return def;
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

int main(int argc, char **argv)
{
    tl_synth_opts o;
    tl_synth_opts_ml20m(&o);
    int64_t events = atoll(opt(argc, argv, "--events", "20000000"));
    if (events != o.events) {
        o.users = (int32_t)((double)o.users * (double)events / (double)o.events);
        o.events = events;
    }
    int iters = atoi(opt(argc, argv, "--iters", "2"));
    const int n = 100;
    tl_data d;
    tl_data_init(&d);
    tl_model *m = NULL;
    tl_diag diag;
    tl_diag_clear(&diag);
    int32_t *rows = NULL, *out = NULL;
    int ret = 1;
    char kv[64];
    if (tl_synth_powerlaw(&o, &d) != TL_OK || tl_model_new("ials", &m) != TL_OK)
        goto out;
    snprintf(kv, sizeof(kv), "iterations=%d", iters);
    if (tl_model_set(m, kv, &diag) != TL_OK)
        goto out;
    for (int i = 1; i < argc; i++)
        if (strchr(argv[i], '=') && tl_model_set(m, argv[i], &diag) != TL_OK) {
            fprintf(stderr, "bench_recommend: %s: %s\n", argv[i], diag.msg);
            goto out;
        }
    if (tl_model_fit(m, &d, NULL, &diag) != TL_OK)
        goto out;
    printf("data: %d users x %d items, %lld events; ials factors=%g, fit %.1f s (%d epochs)\n",
           d.ui.nrows, d.ui.ncols, (long long)d.ui.nnz, tl_params_num(&m->params, "factors"),
           m->fit_seconds, iters);
    int32_t nu = d.ui.nrows;
    rows = malloc((size_t)nu * sizeof(*rows));
    out = malloc((size_t)nu * n * sizeof(*out));
    if (!rows || !out)
        goto out;
    for (int32_t u = 0; u < nu; u++)
        rows[u] = u;
    double la = load_avg(), t0 = tl_now();
    if (tl_model_recommend_rows(m, &d.ui, 1, rows, nu, NULL, n, out, NULL) != TL_OK)
        goto out;
    double t = tl_now() - t0;
    printf("all-users top-%d via tl_model_recommend_rows: %.2f s (%.1f us/user; load before "
           "%.2f)\n",
           n, t, t / nu * 1e6, la);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("peak RSS: %.2f GB\n", (double)ru.ru_maxrss / (1024.0 * 1024.0));
    ret = 0;
out:
    if (ret)
        fprintf(stderr, "bench_recommend: failed: %s\n", diag.msg);
    free(rows);
    free(out);
    tl_model_free(m);
    tl_data_release(&d);
    return ret;
}
