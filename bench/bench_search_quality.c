/* Search quality: plain BM25 against BM25 re-ranked by the patron's profile. Reads held-out
 * searches (user TAB item TAB query: the query made from the subjects of the item the patron
 * borrowed later, held out of the model's training), runs each through the service at each
 * personal weight, and reports nDCG@10 of the held-out item (1 / log2(rank + 1) when it is in the
 * first 10, else 0), the hit rate @10, and the time per query.
 *
 *   bench_search_quality DB MODEL HOLDOUT.tsv [W ...]   (default weights 0 0.3 0.5 0.7)
 *
 * bench/search_quality.sh makes the inputs from the demo library. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tailor/service.h"

#define MAX_LINE 4096

typedef struct held {
    char *user, *item, *query;
} held;

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: bench_search_quality DB MODEL HOLDOUT.tsv [WEIGHT ...]\n");
        return 2;
    }
    FILE *f = fopen(argv[3], "r");
    if (!f) {
        perror(argv[3]);
        return 1;
    }
    held *h = NULL;
    size_t n = 0, cap = 0;
    char line[MAX_LINE];
    while (fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\r\n")] = '\0';
        char *u = strtok(line, "\t"), *i = strtok(NULL, "\t"), *q = strtok(NULL, "\t");
        if (!u || !i || !q)
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 1024;
            h = realloc(h, cap * sizeof(*h));
        }
        h[n++] = (held){strdup(u), strdup(i), strdup(q)};
    }
    fclose(f);
    double defaults[] = {0, 0.3, 0.5, 0.7};
    int nw = argc > 4 ? argc - 4 : 4;
    tl_service_opts o = {
        .db = argv[1], .model = argv[2], .search_cache = -1}; /* each query ranked */
    tl_service *s = NULL;
    tl_diag d;
    tl_diag_clear(&d);
    if (tl_service_open(&o, &s, &d) != TL_OK) {
        fprintf(stderr, "open: %s\n", d.msg);
        return 1;
    }
    printf("searches %zu (each the subjects of an item the patron borrowed later)\n", n);
    printf("%-8s %-10s %-10s %-12s %-12s\n", "weight", "nDCG@10", "hit@10", "personal", "ms/query");
    for (int k = 0; k < nw; k++) {
        double w = argc > 4 ? atof(argv[4 + k]) : defaults[k];
        double ndcg = 0, t0 = now();
        long hits = 0, personal = 0;
        for (size_t j = 0; j < n; j++) {
            tl_search_query q = {.q = h[j].query, .user = h[j].user, .n = 10, .weight = w};
            tl_search_result r;
            if (tl_service_search(s, &q, &r, &d) != TL_OK) {
                fprintf(stderr, "search '%s': %s\n", h[j].query, d.msg);
                return 1;
            }
            personal += !r.personal;
            for (int i = 0; i < r.n; i++)
                if (strcmp(r.items[i].item, h[j].item) == 0) {
                    ndcg += 1.0 / log2(i + 2.0);
                    hits++;
                    break;
                }
            tl_search_result_free(&r);
        }
        double ms = (now() - t0) * 1e3 / (double)(n ? n : 1);
        printf("%-8.2f %-10.4f %-10.4f %-12ld %-12.3f\n", w, ndcg / (double)(n ? n : 1),
               (double)hits / (double)(n ? n : 1), personal, ms);
    }
    tl_service_close(s);
    for (size_t j = 0; j < n; j++) {
        free(h[j].user);
        free(h[j].item);
        free(h[j].query);
    }
    free(h);
    return 0;
}
