/* The ceiling of catalogue search: the same ranking query GET /v1/search runs, straight against
 * the store's FTS5 index (no HTTP, no service), on T threads with a connection each, for D
 * seconds; queries are the words of the files given, taken in turn (a mix of files: one word
 * of each in turn). Prints queries/s and p50/p99 latency. With --store, each query is the
 * store's own search instead (tl_store_search, no facets: the index's heads for a common word,
 * as the server answers it).
 *
 *   bench_search_fts [--store] DB SECONDS THREADS N FILE...
 *
 * bench/search_serve.sh runs it beside wrk against the server, in the same run. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/sqlite/sqlite_search.h"
#include "tailor/store.h"

#define MAX_Q 4096
#define MAX_LAT 4000000

static char *queries[MAX_Q];
static int n_queries;
static const char *db_path;
static double seconds;
static int limit, use_store;

typedef struct worker {
    pthread_t t;
    int id;
    long done;
    float *lat; /* ms */
    long n_lat;
} worker;

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static tl_err count_hit(void *ctx, const char *item, const char *title, double score)
{
    (void)item;
    (void)title;
    (void)score;
    ++*(size_t *)ctx;
    return TL_OK;
}

/* --store: tl_store_search, one read-only store per thread */
static void run_store(worker *w)
{
    tl_store *st = NULL;
    tl_diag d;
    if (tl_store_open(db_path, TL_STORE_READONLY, &st, &d) != TL_OK) {
        fprintf(stderr, "open %s: %s\n", db_path, d.msg);
        exit(1);
    }
    double end = now() + seconds;
    long k = w->id * 7919L;
    while (now() < end) {
        char match[256];
        snprintf(match, sizeof(match), "\"%s\"", queries[k++ % n_queries]);
        double t0 = now();
        size_t n = 0;
        int64_t total = 0;
        tl_store_search_q q = {.match = match, .limit = limit};
        if (tl_store_search(st, &q, count_hit, NULL, &n, &total, &d) != TL_OK) {
            fprintf(stderr, "search %s: %s\n", match, d.msg);
            exit(1);
        }
        if (w->n_lat < MAX_LAT)
            w->lat[w->n_lat++] = (float)((now() - t0) * 1e3);
        w->done++;
    }
    tl_store_free(st);
}

static void *run(void *p)
{
    worker *w = p;
    if (use_store) {
        run_store(w);
        return NULL;
    }
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
        tl__sq_search_register(db) != SQLITE_OK) {
        fprintf(stderr, "open %s: %s\n", db_path, sqlite3_errmsg(db));
        exit(1);
    }
    char sql[512];
    snprintf(sql, sizeof(sql),
             "SELECT i.ext_id, i.title, f.r FROM (SELECT rowid AS id, tl_rank(search_fts) AS r"
             " FROM search_fts WHERE search_fts MATCH ?1 ORDER BY r, rowid LIMIT %d) f"
             " JOIN items i ON i.id = f.id ORDER BY f.r, f.id",
             limit);
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK) {
        fprintf(stderr, "prepare: %s\n", sqlite3_errmsg(db));
        exit(1);
    }
    double end = now() + seconds;
    long k = w->id * 7919L;
    while (now() < end) {
        char match[256];
        snprintf(match, sizeof(match), "\"%s\"", queries[k++ % n_queries]);
        double t0 = now();
        sqlite3_bind_text(q, 1, match, -1, SQLITE_TRANSIENT);
        size_t bytes = 0;
        while (sqlite3_step(q) == SQLITE_ROW)
            bytes += (size_t)sqlite3_column_bytes(q, 0) + (size_t)sqlite3_column_bytes(q, 1);
        sqlite3_reset(q);
        if (w->n_lat < MAX_LAT)
            w->lat[w->n_lat++] = (float)((now() - t0) * 1e3);
        w->done += bytes > 0 || bytes == 0;
    }
    sqlite3_finalize(q);
    sqlite3_close(db);
    return NULL;
}

static int by_value(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    use_store = argc > 1 && strcmp(argv[1], "--store") == 0;
    argv += use_store;
    argc -= use_store;
    if (argc < 6) {
        fprintf(stderr, "usage: bench_search_fts [--store] DB SECONDS THREADS N FILE...\n");
        return 2;
    }
    db_path = argv[1];
    seconds = atof(argv[2]);
    int threads = atoi(argv[3]);
    limit = atoi(argv[4]);
    /* interleave the files' words: one of each in turn */
    char *lists[8][MAX_Q];
    int counts[8] = {0}, nf = argc - 5 > 8 ? 8 : argc - 5;
    for (int f = 0; f < nf; f++) {
        FILE *in = fopen(argv[5 + f], "r");
        char line[256];
        if (!in) {
            perror(argv[5 + f]);
            return 1;
        }
        while (counts[f] < MAX_Q && fgets(line, sizeof(line), in)) {
            line[strcspn(line, "\r\n")] = '\0';
            if (line[0])
                lists[f][counts[f]++] = strdup(line);
        }
        fclose(in);
    }
    /* one word of each file in turn, each file cycling through its own words */
    for (int k = 0; nf && n_queries < MAX_Q; k++) {
        int f = k % nf;
        if (counts[f])
            queries[n_queries++] = lists[f][(k / nf) % counts[f]];
    }
    worker *w = calloc((size_t)threads, sizeof(*w));
    double t0 = now();
    for (int k = 0; k < threads; k++) {
        w[k].id = k;
        w[k].lat = malloc(MAX_LAT * sizeof(float));
        pthread_create(&w[k].t, NULL, run, &w[k]);
    }
    long done = 0, n = 0;
    for (int k = 0; k < threads; k++) {
        pthread_join(w[k].t, NULL);
        done += w[k].done;
        n += w[k].n_lat;
    }
    double el = now() - t0;
    float *all = malloc((size_t)(n ? n : 1) * sizeof(float));
    long o = 0;
    for (int k = 0; k < threads; k++) {
        memcpy(all + o, w[k].lat, (size_t)w[k].n_lat * sizeof(float));
        o += w[k].n_lat;
    }
    qsort(all, (size_t)n, sizeof(float), by_value);
    printf("%s: %d threads, %d words, %ld queries in %.1f s: %.0f queries/s, "
           "p50 %.2f ms, p99 %.2f ms\n",
           use_store ? "store direct" : "fts5 direct", threads, n_queries, done, el,
           (double)done / el, n ? all[n / 2] : 0.0, n ? all[(long)(0.99 * (double)n)] : 0.0);
    return 0;
}
