/* Benchmark: the per-request cost of consortium tenancy. The same patrons' recommendations,
 * asked by the consortium (the patron's kept id "a:ID", no filter) and by their library (its
 * id, through the door, filtered to the library's holdings), interleaved, on a store and model
 * that bench/tenancy.sh makes. Half the items are held by library a (branch A1), half by b.
 *
 *   bench_tenancy --db DB --model M --items ITEMS.txt --users USERS.txt [--rounds 5] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tailor/service.h"
#include "tailor/store.h"
#include "util/clock.h"

static const char *opt(int argc, char **argv, const char *name, const char *def)
{
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], name) == 0)
            return argv[i + 1];
    return def;
}

/* The lines of path (at most max), malloc'd; *n = how many. */
static char **lines(const char *path, int max, int *n)
{
    FILE *f = fopen(path, "r");
    char **v = calloc((size_t)max, sizeof(*v)), buf[1100];
    *n = 0;
    while (f && v && *n < max && fgets(buf, sizeof(buf), f)) {
        buf[strcspn(buf, "\r\n")] = '\0';
        if (buf[0])
            v[(*n)++] = strdup(buf);
    }
    if (f)
        fclose(f);
    return v;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Seconds for one recommendation of each user, as tenant (NULL: the consortium, by kept id). */
static double round_of(tl_service *s, char **users, int n, const char *tenant)
{
    double t0 = tl_now();
    for (int i = 0; i < n; i++) {
        char kept[1200];
        snprintf(kept, sizeof(kept), "a:%s", users[i]);
        tl_service_act_for_tenant(tenant);
        tl_rec_query q = {.user = tenant ? users[i] : kept, .n = 10, .ignore_shelf = 1};
        tl_rec_result r;
        tl_diag d;
        tl_diag_clear(&d);
        if (tl_service_recommend(s, &q, &r, &d) != TL_OK) {
            fprintf(stderr, "bench_tenancy: %s: %s\n", users[i], d.msg);
            exit(1);
        }
        tl_rec_result_free(&r);
        tl_service_act_for(NULL);
    }
    return tl_now() - t0;
}

int main(int argc, char **argv)
{
    const char *db = opt(argc, argv, "--db", NULL), *model = opt(argc, argv, "--model", NULL);
    int rounds = atoi(opt(argc, argv, "--rounds", "5")), n_items, n_users;
    char **items = lines(opt(argc, argv, "--items", ""), 10000000, &n_items);
    char **users = lines(opt(argc, argv, "--users", ""), 2000, &n_users);
    if (!db || !model || !n_items || !n_users || rounds < 1) {
        fprintf(stderr, "usage: bench_tenancy --db DB --model M --items F --users F\n");
        return 2;
    }
    tl_store *st = NULL;
    tl_diag d;
    tl_diag_clear(&d);
    if (tl_store_open(db, 0, &st, &d) != TL_OK || tl_store_begin(st) != TL_OK) {
        fprintf(stderr, "bench_tenancy: %s\n", d.msg);
        return 1;
    }
    for (int i = 0; i < n_items; i++) {
        char copy[32];
        snprintf(copy, sizeof(copy), "c%d", i);
        tl_holding_rec h = {
            .copy = copy, .branch = i % 2 ? "B1" : "A1", .available = 1, .item = items[i]};
        if (tl_store_put_holding(st, &h, NULL, &d) != TL_OK) {
            fprintf(stderr, "bench_tenancy: %s\n", d.msg);
            return 1;
        }
    }
    tl_store_commit(st);
    tl_store_free(st);
    tl_service_opts o = {.db = db, .model = model};
    tl_service *s = NULL;
    if (tl_service_open(&o, &s, &d) != TL_OK) {
        fprintf(stderr, "bench_tenancy: %s\n", d.msg);
        return 1;
    }
    round_of(s, users, n_users, NULL); /* warm: histories, shelves, tenants */
    round_of(s, users, n_users, "a");
    double *plain = malloc((size_t)rounds * sizeof(double));
    double *tenant = malloc((size_t)rounds * sizeof(double));
    for (int r = 0; r < rounds; r++) {
        plain[r] = round_of(s, users, n_users, NULL);
        tenant[r] = round_of(s, users, n_users, "a");
    }
    qsort(plain, (size_t)rounds, sizeof(double), cmp_double);
    qsort(tenant, (size_t)rounds, sizeof(double), cmp_double);
    double p = plain[rounds / 2] / n_users * 1e6, t = tenant[rounds / 2] / n_users * 1e6;
    printf("items %d, patrons asked %d, rounds %d (median)\n", n_items, n_users, rounds);
    printf("consortium (no filter): %.1f us/request\n", p);
    printf("library (door + holdings filter): %.1f us/request\n", t);
    printf("ratio tenant/consortium: %.3f\n", t / p);
    tl_service_close(s);
    return 0;
}
