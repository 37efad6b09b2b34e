/* Import throughput: a synthetic interactions TSV (or a given one) read (a) straight into the
 * in-memory matrices by tl_data_load_tsv, (p) through the import engine with a no-op sink
 * (parsing alone), (b) into a fresh SQLite store by tl_store_import, (r) re-imported (the
 * idempotent path), and (l) loaded back from the store into matrices. Prints events/s and the
 * bytes per interaction of the matrices.
 * usage: bench_import [N_EVENTS (default 2000000)] [FILE.tsv] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/data.h"
#include "ingest/matrix_tsv.h"
#include "tailor/store.h"
#include "util/clock.h"
#include "util/hash.h"

/* CPU seconds of this process: on a shared machine wall time mostly measures the neighbours */
static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Users and items drawn from skewed distributions, like real circulation data. */
static int write_synthetic(const char *path, long n)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    tl_rng rng = {42};
    long users = n / 50 + 1, items = n / 20 + 1;
    fputs("user\titem\tvalue\ttimestamp\n", f);
    long long ts = 1500000000;
    for (long i = 0; i < n; i++) {
        double a = tl_rng_uniform(&rng), b = tl_rng_uniform(&rng);
        long u = (long)(a * a * (double)users);      /* a few heavy readers */
        long it = (long)(b * b * b * (double)items); /* a long tail of items */
        int v = 1 + (int)(tl_rng_next(&rng) % 5);
        ts += (long long)(tl_rng_next(&rng) % 7);
        fprintf(f, "u%ld\tb%ld\t%d\t%lld\n", u, it, v, ts);
    }
    return fclose(f);
}

static void row(const char *what, double wall, double cpu, long long n)
{
    printf("%-44s %9.3f %12.0f %9.3f %12.0f\n", what, wall, (double)n / wall, cpu, (double)n / cpu);
}

static tl_err noop_event(void *ctx, const tl_event_rec *r, tl_diag *d)
{
    (void)d;
    *(long long *)ctx += (long long)r->user_len;
    return TL_OK;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 2000000;
    char dir[] = "/tmp/tailor-bench-XXXXXX", path[512], db[512];
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    if (argc > 2) {
        snprintf(path, sizeof(path), "%s", argv[2]);
    } else {
        snprintf(path, sizeof(path), "%s/events.tsv", dir);
        if (write_synthetic(path, n) != 0) {
            perror(path);
            return 1;
        }
    }
    snprintf(db, sizeof(db), "%s/bench.db", dir);
    tl_diag d;
    tl_err rc;
    int status = 1;
    tl_store *st = NULL;

    /* (a) TSV -> matrices, best of 3 */
    double best = 1e30, best_cpu = 1e30;
    long long nnz = 0, rows = 0;
    size_t bytes_ui = 0, bytes_both = 0;
    for (int rep = 0; rep < 3; rep++) {
        tl_data data;
        tl_tsv_opts o;
        tl_data_init(&data);
        tl_tsv_opts_init(&o);
        o.weighting = TL_WEIGHT_VALUE;
        double t0 = tl_now(), c0 = cpu_now();
        if ((rc = tl_data_load_tsv(&data, path, &o, &d)) != TL_OK) {
            fprintf(stderr, "load_tsv: %s %s\n", tl_strerror(rc), d.msg);
            return 1;
        }
        double t = tl_now() - t0, c = cpu_now() - c0;
        best = t < best ? t : best;
        best_cpu = c < best_cpu ? c : best_cpu;
        nnz = data.ui.nnz;
        bytes_ui = tl_csr_bytes(&data.ui);
        bytes_both = bytes_ui + tl_csr_bytes(&data.iu);
        rows = data.users.count;
        tl_data_release(&data);
    }
    struct stat sb;
    stat(path, &sb);
    long long lines = 0;
    {
        /* count the data lines once (the events the file holds) */
        FILE *f = fopen(path, "r");
        int c;
        while (f && (c = getc_unlocked(f)) != EOF)
            lines += c == '\n';
        if (f)
            fclose(f);
        lines -= 1;
    }
    printf("input: %s, %lld events, %.1f MB, %lld users, %lld distinct pairs\n", path, lines,
           (double)sb.st_size / 1e6, rows, nnz);
    printf("%-44s %9s %12s %9s %12s\n", "path", "wall s", "events/s", "CPU s", "events/CPU-s");
    row("(a) TSV -> matrices (tl_data_load_tsv)", best, best_cpu, lines);

    /* (p) the import engine alone */
    tl_ingest_opts io;
    tl_ingest_opts_init(&io);
    io.path = path;
    long long sum = 0;
    tl_ingest_sink sink = {.ctx = &sum, .event = noop_event};
    tl_ingest_report ir;
    double t0 = tl_now(), c0 = cpu_now();
    if ((rc = tl_ingest_file(&io, &sink, &ir, &d)) != TL_OK) {
        fprintf(stderr, "ingest: %s %s\n", tl_strerror(rc), d.msg);
        goto out;
    }
    row("(p) TSV -> parsed records (no store)", tl_now() - t0, cpu_now() - c0, ir.rows);

    /* (b) TSV -> SQLite, then (r) the same file again */
    if ((rc = tl_store_open(db, TL_STORE_CREATE, &st, &d)) != TL_OK) {
        fprintf(stderr, "open: %s %s\n", tl_strerror(rc), d.msg);
        goto out;
    }
    tl_import_opts o;
    tl_import_report rep;
    tl_import_opts_init(&o);
    o.in.path = path;
    t0 = tl_now();
    c0 = cpu_now();
    if ((rc = tl_store_import(st, &o, &rep, &d)) != TL_OK) {
        fprintf(stderr, "import: %s %s\n", tl_strerror(rc), d.msg);
        goto out;
    }
    row("(b) TSV -> SQLite store (tl_store_import)", tl_now() - t0, cpu_now() - c0, rep.in.rows);
    t0 = tl_now();
    c0 = cpu_now();
    if ((rc = tl_store_import(st, &o, &rep, &d)) != TL_OK) {
        fprintf(stderr, "re-import: %s %s\n", tl_strerror(rc), d.msg);
        goto out;
    }
    row("(r) same file again (all unchanged)", tl_now() - t0, cpu_now() - c0, rep.in.rows);
    if (rep.added || rep.updated)
        printf("  !! re-import changed %lld + %lld rows\n", rep.added, rep.updated);

    /* (l) store -> matrices */
    tl_data data;
    tl_data_init(&data);
    t0 = tl_now();
    c0 = cpu_now();
    if ((rc = tl_store_load_data(st, NULL, &data, &d)) != TL_OK) {
        fprintf(stderr, "load_data: %s %s\n", tl_strerror(rc), d.msg);
        tl_data_release(&data);
        goto out;
    }
    row("(l) SQLite store -> matrices (load_data)", tl_now() - t0, cpu_now() - c0, lines);
    size_t sbytes = tl_csr_bytes(&data.ui) + tl_csr_bytes(&data.iu);
    long long snnz = data.ui.nnz;
    tl_data_release(&data);
    struct stat dbst;
    tl_store_free(st); /* closing checkpoints the WAL into the file */
    st = NULL;
    long long dbbytes = stat(db, &dbst) == 0 ? (long long)dbst.st_size : 0;
    printf("bytes per interaction: %.1f (user x item CSR with timestamps), %.1f (CSR + CSC); "
           "from the store: %.1f; SQLite file: %.1f bytes per event\n",
           (double)bytes_ui / (double)nnz, (double)bytes_both / (double)nnz,
           snnz ? (double)sbytes / (double)snnz : 0.0, (double)dbbytes / (double)lines);
    status = 0;
out:
    tl_store_free(st);
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return status;
}
