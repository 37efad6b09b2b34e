/* kill -9 under load: 4 client threads POST batches of 50 events (each with its own patron,
 * item and timestamp) to `tailor serve` on a copy of a small store, the server is killed with
 * SIGKILL mid-burst, and `tailor export events` must hold every event of every batch the
 * server acknowledged (201 means committed), and each other batch whole or not at all. The
 * server then starts again on the store and answers /v1/health. Three rounds, killed later
 * each time. */
#include "support.h"

#include <curl/curl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "serve_child.h"

#define THREADS 4
#define BATCH 50
#define MAX_BATCHES 4096 /* per thread and round: more than a burst reaches */
#define ROUNDS 3

typedef struct client {
    int port, round, thread;
    atomic_int *stop, *acks;          /* shared by the clients of a round */
    int sent;                         /* batches sent */
    unsigned char acked[MAX_BATCHES]; /* 1: answered 2xx */
    int seen[MAX_BATCHES];            /* events of the batch found in the export */
    int other;                        /* answers neither 2xx nor a cut connection */
} client;

/* The event e of batch b of thread t of round r: its own patron, item and timestamp. */
static long long stamp(int r, int t, int b, int e)
{
    return 1700000000LL + (((long long)r * THREADS + t) * MAX_BATCHES + b) * BATCH + e;
}

static void *run_client(void *arg)
{
    client *c = arg;
    size_t cap = BATCH * 160;
    char *body = malloc(cap);
    if (!body)
        return NULL;
    for (int b = 0; b < MAX_BATCHES && !atomic_load(c->stop); b++) {
        size_t o = 0;
        body[o++] = '[';
        for (int e = 0; e < BATCH; e++)
            o += (size_t)snprintf(body + o, cap - o,
                                  "%s{\"user\":\"k%d_%d_%d_%d\",\"item\":\"i%d_%d_%d_%d\","
                                  "\"type\":\"loan\",\"timestamp\":%lld}",
                                  e ? "," : "", c->round, c->thread, b, e, c->round, c->thread, b,
                                  e, stamp(c->round, c->thread, b, e));
        body[o++] = ']';
        c->sent = b + 1;
        long status = tl_test_http(c->port, "POST", "/v1/events", "application/json", body, o, NULL,
                                   NULL, NULL);
        if (status >= 200 && status < 300) {
            c->acked[b] = 1;
            atomic_fetch_add(c->acks, 1);
        } else if (status < 0)
            break; /* the server is gone */
        else
            c->other++;
    }
    free(body);
    return NULL;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

static int make_data(void **state)
{
    (void)state;
    const char *db = tl_test_tmp("base.db");
    if (tl_test_write(tl_test_tmp("e.tsv"), "user\titem\ttimestamp\n"
                                            "u1\ta\t1000\nu1\tb\t1001\n"
                                            "u2\ta\t1000\nu2\tc\t1001\n"
                                            "u3\tb\t1000\nu3\tc\t1001\n"))
        return -1;
    if (tl_test_cli("--db '%s' import events '%s'", db, tl_test_tmp("e.tsv")) != 0 ||
        tl_test_cli("--db '%s' train --model itemknn --set autotune=0 --out '%s'", db,
                    tl_test_tmp("m.tlm")) != 0)
        return -1;
    return 0;
}

/* Marks the events of the export that the clients of round r sent. */
static void count_exported(const char *path, int r, client *cl)
{
    char *text = tl_test_read(path);
    assert_non_null(text);
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        int lr, t, b, e;
        if (sscanf(line, "k%d_%d_%d_%d\t", &lr, &t, &b, &e) != 4 || lr != r)
            continue;
        assert_true(t >= 0 && t < THREADS && b >= 0 && b < MAX_BATCHES && e >= 0 && e < BATCH);
        char item[64];
        snprintf(item, sizeof(item), "\ti%d_%d_%d_%d\t", r, t, b, e);
        assert_non_null(strstr(line, item));
        cl[t].seen[b]++;
    }
    free(text);
}

static void test_kill_mid_burst(void **state)
{
    (void)state;
    static client cl[THREADS];
    char db[512], model[512], err[512], out[512], name[64];
    snprintf(model, sizeof(model), "%s", tl_test_tmp("m.tlm"));
    for (int r = 0; r < ROUNDS; r++) {
        snprintf(name, sizeof(name), "r%d.db", r);
        snprintf(db, sizeof(db), "%s", tl_test_tmp(name));
        snprintf(name, sizeof(name), "r%d.err", r);
        snprintf(err, sizeof(err), "%s", tl_test_tmp(name));
        snprintf(name, sizeof(name), "r%d.tsv", r);
        snprintf(out, sizeof(out), "%s", tl_test_tmp(name));
        assert_int_equal(tl_test_sh("cp '%s' '%s'", tl_test_tmp("base.db"), db), 0);
        tl_test_server s;
        if (tl_test_serve(&s, db, model, err) != 0) {
            char *e = tl_test_read(err);
            fail_msg("round %d: the server did not start; stderr:\n%.2000s", r, e ? e : "");
        }
        atomic_int stop = 0, acks = 0;
        pthread_t th[THREADS];
        memset(cl, 0, sizeof(cl));
        for (int t = 0; t < THREADS; t++) {
            cl[t] = (client){.port = s.port, .round = r, .thread = t, .stop = &stop, .acks = &acks};
            assert_int_equal(pthread_create(&th[t], NULL, run_client, &cl[t]), 0);
        }
        /* a few hundred ms into the burst, and not before its first answer (a slow machine) */
        sleep_ms(250 + 150 * r);
        for (int waited = 0; atomic_load(&acks) == 0 && waited < 10000; waited += 10)
            sleep_ms(10);
        tl_test_serve_stop(&s, SIGKILL); /* mid-burst: the clients are still sending */
        atomic_store(&stop, 1);
        for (int t = 0; t < THREADS; t++)
            pthread_join(th[t], NULL);

        assert_int_equal(tl_test_cli("--db '%s' export events --out '%s'", db, out), 0);
        count_exported(out, r, cl);
        int acked = 0, stored = 0, sent = 0;
        for (int t = 0; t < THREADS; t++) {
            assert_int_equal(cl[t].other, 0);
            sent += cl[t].sent;
            for (int b = 0; b < MAX_BATCHES; b++) {
                if (cl[t].acked[b] && cl[t].seen[b] != BATCH)
                    fail_msg("round %d: batch %d of thread %d was acknowledged, %d of its %d "
                             "events are in the store",
                             r, b, t, cl[t].seen[b], BATCH);
                if (cl[t].seen[b] != 0 && cl[t].seen[b] != BATCH)
                    fail_msg("round %d: batch %d of thread %d is in the store in part (%d)", r, b,
                             t, cl[t].seen[b]);
                acked += cl[t].acked[b];
                stored += cl[t].seen[b] == BATCH;
            }
        }
        print_message("round %d: %d batches sent, %d acknowledged, %d stored\n", r, sent, acked,
                      stored);
        assert_true(acked > 0);    /* the burst had begun */
        assert_true(sent > acked); /* ... and the kill came in its middle */

        /* the store opens again under a new server */
        if (tl_test_serve(&s, db, model, err) != 0) {
            char *e = tl_test_read(err);
            fail_msg("round %d: the server did not start again; stderr:\n%.2000s", r, e ? e : "");
        }
        long status = tl_test_http(s.port, "GET", "/v1/health", NULL, NULL, 0, NULL, NULL, NULL);
        tl_test_serve_stop(&s, SIGTERM);
        assert_int_equal(status, 200);
    }
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kill_mid_burst),
    };
    int rc = cmocka_run_group_tests(tests, make_data, NULL);
    curl_global_cleanup();
    return rc;
}
