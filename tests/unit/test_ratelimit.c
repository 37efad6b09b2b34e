/* The server's token buckets (src/server/ratelimit.c) with the clock given by the test: a
 * burst, then one request per 1/rate seconds; Retry-After in whole seconds (>= 1); clients
 * apart; more clients than the table holds never refused wrongly; no table, no limit. */
#include "support.h"

#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "server/ratelimit.h"

static int take(tl_ratelimit *rl, const char *id, double now)
{
    return tl__ratelimit_take(rl, id, strlen(id), now);
}

static void test_burst_then_rate(void **state)
{
    (void)state;
    tl_ratelimit *rl = tl__ratelimit_new(2, 3); /* 2 a second, 3 at once */
    assert_non_null(rl);
    double t = 100.0;
    for (int k = 0; k < 3; k++)
        assert_int_equal(take(rl, "key-a", t), 0);
    assert_int_equal(take(rl, "key-a", t), 1); /* half a second to the next token: 1 s */
    assert_int_equal(take(rl, "key-b", t), 0); /* another client has its own bucket */
    assert_int_equal(take(rl, "key-a", t + 0.5), 0);
    assert_int_equal(take(rl, "key-a", t + 0.5), 1);
    /* refused requests take nothing: the next token still comes on time */
    assert_int_equal(take(rl, "key-a", t + 1.0), 0);
    /* a long pause refills to the burst, not beyond */
    t += 100.0;
    for (int k = 0; k < 3; k++)
        assert_int_equal(take(rl, "key-a", t), 0);
    assert_int_not_equal(take(rl, "key-a", t), 0);
    tl__ratelimit_free(rl);
}

static void test_slow_rate_waits_whole_seconds(void **state)
{
    (void)state;
    tl_ratelimit *rl = tl__ratelimit_new(1, 0); /* burst 0: the rate */
    assert_non_null(rl);
    assert_int_equal(take(rl, "k", 5.0), 0);
    assert_int_equal(take(rl, "k", 5.0), 1);
    assert_int_equal(take(rl, "k", 5.9), 1); /* 0.1 s left: still a whole second */
    assert_int_equal(take(rl, "k", 6.0), 0);
    /* a clock read before another worker's is not a refill backwards */
    assert_int_equal(take(rl, "k", 5.5), 1);
    tl__ratelimit_free(rl);
}

/* More clients than the table's slots: whoever is evicted starts with a full bucket, so no
 * client is refused before it spent its own burst. */
static void test_many_clients_never_refused_early(void **state)
{
    (void)state;
    tl_ratelimit *rl = tl__ratelimit_new(1, 2);
    assert_non_null(rl);
    char id[32];
    for (int round = 0; round < 2; round++)
        for (int c = 0; c < 20000; c++) {
            snprintf(id, sizeof(id), "client-%d", c);
            assert_int_equal(take(rl, id, 1.0), 0);
        }
    /* with fewer clients than slots, the third request of one at once is refused */
    tl__ratelimit_free(rl);
    rl = tl__ratelimit_new(1, 2);
    for (int c = 0; c < 100; c++) {
        snprintf(id, sizeof(id), "client-%d", c);
        assert_int_equal(take(rl, id, 1.0), 0);
        assert_int_equal(take(rl, id, 1.0), 0);
    }
    for (int c = 0; c < 100; c++) {
        snprintf(id, sizeof(id), "client-%d", c);
        assert_int_equal(take(rl, id, 1.0), 1);
    }
    tl__ratelimit_free(rl);
}

static void test_off(void **state)
{
    (void)state;
    assert_null(tl__ratelimit_new(0, 10));
    for (int k = 0; k < 1000; k++)
        assert_int_equal(take(NULL, "k", 1.0), 0);
    tl__ratelimit_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_burst_then_rate),
        cmocka_unit_test(test_slow_rate_waits_whole_seconds),
        cmocka_unit_test(test_many_clients_never_refused_early),
        cmocka_unit_test(test_off),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
