/* Circulation import throughput: a synthetic Koha statistics export (';'-separated, a
 * datetime, a type among issue/renew/return/localuse/payment, an itemnumber resolved through
 * the holdings) imported with the koha-statistics layout into a store that holds the copies,
 * against the same events as a plain events TSV naming the records directly. Prints rows/s,
 * wall and CPU.
 * usage: bench_ils [N_ROWS (default 1000000)] [N_COPIES (default 50000)]
 *        bench_ils --season STORE   (the service's read of loans by subject and week) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tailor/store.h"
#include "util/clock.h"
#include "util/hash.h"

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The same rows twice: Koha's statistics (by copy) and a plain TSV (by record). */
static int write_files(const char *koha, const char *plain, long n, long copies)
{
    FILE *k = fopen(koha, "w"), *p = fopen(plain, "w");
    if (!k || !p)
        return -1;
    static const char *const types[] = {"issue", "renew", "return", "localuse", "payment"};
    static const char *const plain_types[] = {"loan", "renew", "return", "local_use", NULL};
    tl_rng rng = {7};
    long users = n / 40 + 1;
    fputs("datetime;branch;value;type;other;itemnumber;itemtype;location;borrowernumber;ccode;"
          "categorycode;interface\n",
          k);
    fputs("user\titem\ttype\ttimestamp\tbranch\n", p);
    long long ts = 1600000000;
    for (long i = 0; i < n; i++) {
        double a = tl_rng_uniform(&rng), b = tl_rng_uniform(&rng);
        long u = (long)(a * a * (double)users), c = (long)(b * b * (double)copies);
        int t = (int)(tl_rng_next(&rng) % 20);
        t = t < 10 ? 0 : t < 13 ? 1 : t < 18 ? 2 : t < 19 ? 3 : 4;
        ts += (long long)(tl_rng_next(&rng) % 60);
        time_t tt = (time_t)ts;
        struct tm tm;
        gmtime_r(&tt, &tm);
        char when[32];
        strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
        fprintf(k, "%s;B%ld;0.000000;%s;;%ld;BK;GEN;%ld;;PT;intranet\n", when, c % 5, types[t],
                100000 + c, u);
        if (plain_types[t])
            fprintf(p, "%ld\tbib%ld\t%s\t%lld\tB%ld\n", u, c / 3, plain_types[t], ts, c % 5);
    }
    return fclose(k) | fclose(p);
}

static int run(const char *db, const char *file, const tl_ingest_layout *lay, const char *what)
{
    tl_store *st = NULL;
    tl_diag d;
    if (tl_store_open(db, 0, &st, &d) != TL_OK) {
        fprintf(stderr, "%s\n", d.msg);
        return 1;
    }
    tl_import_opts o;
    tl_import_opts_init(&o);
    o.in.path = file;
    o.in.layout = lay;
    if (lay)
        o.in.format = TL_FORMAT_CSV;
    tl_import_report rep;
    double w0 = tl_now(), c0 = cpu_now();
    tl_err rc = tl_store_import(st, &o, &rep, &d);
    double wall = tl_now() - w0, cpu = cpu_now() - c0;
    tl_store_free(st);
    if (rc != TL_OK) {
        fprintf(stderr, "%s: %s\n", what, d.msg);
        return 1;
    }
    printf("%-40s %9lld rows %8.3f s %10.0f rows/s wall %10.0f rows/s cpu (%lld ignored)\n", what,
           rep.in.rows, wall, (double)rep.in.rows / wall, (double)rep.in.rows / cpu,
           rep.in.ignored);
    return 0;
}

/* The seasonality read of the service (loans per subject and week) on an existing store. */
static tl_err count_week(void *ctx, const char *subject, int week, int64_t loans)
{
    (void)subject;
    (void)week;
    *(long long *)ctx += loans;
    return TL_OK;
}

static int season(const char *db)
{
    tl_store *st = NULL;
    tl_diag d;
    if (tl_store_open(db, TL_STORE_READONLY, &st, &d) != TL_OK) {
        fprintf(stderr, "%s\n", d.msg);
        return 1;
    }
    tl_store_counts c;
    tl_store_count(st, &c);
    long long loans = 0;
    double w0 = tl_now(), c0 = cpu_now();
    tl_err rc = tl_store_loan_weeks(st, count_week, &loans, &d);
    printf("loans by subject and week of %s: %lld events, %lld subject-loans, %.3f s wall, "
           "%.3f s cpu\n",
           db, (long long)c.events, loans, tl_now() - w0, cpu_now() - c0);
    tl_store_free(st);
    return rc != TL_OK;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--season") == 0)
        return season(argv[2]);
    long n = argc > 1 ? atol(argv[1]) : 1000000, copies = argc > 2 ? atol(argv[2]) : 50000;
    char dir[] = "/tmp/tailor-bench-ils-XXXXXX", koha[512], plain[512], db1[512], db2[512];
    if (!mkdtemp(dir) || n <= 0 || copies <= 0)
        return 1;
    snprintf(koha, sizeof(koha), "%s/statistics.csv", dir);
    snprintf(plain, sizeof(plain), "%s/events.tsv", dir);
    snprintf(db1, sizeof(db1), "%s/koha.db", dir);
    snprintf(db2, sizeof(db2), "%s/plain.db", dir);
    if (write_files(koha, plain, n, copies) != 0)
        return 1;
    const char *dbs[] = {db1, db2};
    for (int k = 0; k < 2; k++) { /* the same holdings (three copies a record) in both */
        tl_store *st = NULL;
        tl_diag d;
        if (tl_store_open(dbs[k], TL_STORE_CREATE, &st, &d) != TL_OK || tl_store_begin(st) != TL_OK)
            return 1;
        for (long c = 0; c < copies; c++) {
            char copy[32], item[32];
            snprintf(copy, sizeof(copy), "%ld", 100000 + c);
            snprintf(item, sizeof(item), "bib%ld", c / 3);
            tl_holding_rec h = {.copy = copy, .item = item, .available = 1};
            if (tl_store_put_holding(st, &h, NULL, &d) != TL_OK)
                return 1;
        }
        if (tl_store_commit(st) != TL_OK)
            return 1;
        tl_store_free(st);
    }
    tl_ingest_layout *lay = NULL;
    tl_diag d;
    if (tl_ingest_layout_load("koha-statistics", &lay, &d) != TL_OK)
        return 1;
    printf("%ld rows, %ld copies\n", n, copies);
    int rc = run(db1, koha, lay, "import circulation (koha-statistics)") ||
             run(db2, plain, NULL, "import events (plain TSV, by record)");
    tl_ingest_layout_free(lay);
    unlink(koha);
    unlink(plain);
    for (int k = 0; k < 2; k++) {
        char side[600];
        unlink(dbs[k]);
        snprintf(side, sizeof(side), "%s-wal", dbs[k]);
        unlink(side);
        snprintf(side, sizeof(side), "%s-shm", dbs[k]);
        unlink(side);
    }
    rmdir(dir);
    return rc;
}
