/* interleave: team-draft keeps each list's order and balances the teams, credit follows the
 * clicks, the sign test matches the binomial, and a better ranker wins. */
#include "support.h"

#include <math.h>
#include <stdlib.h>

#include "eval/interleave.h"
#include "util/hash.h"

static void test_team_draft(void **state)
{
    (void)state;
    const int64_t a[6] = {1, 2, 3, 4, 5, 6}, b[6] = {3, 7, 1, 8, 9, 2};
    for (uint64_t seed = 0; seed < 50; seed++) {
        int64_t out[8];
        unsigned char team[8];
        int n = tl_team_draft(a, 6, b, 6, 8, seed, out, team);
        assert_int_equal(n, 8);
        int na = 0, nb = 0;
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < i; j++)
                assert_true(out[i] != out[j]); /* no duplicates */
            na += team[i] == 0;
            nb += team[i] == 1;
        }
        assert_true(abs(na - nb) <= 1); /* balanced teams */
        /* each team's items come in its list's order */
        int last_a = -1, last_b = -1;
        for (int i = 0; i < n; i++) {
            const int64_t *l = team[i] ? b : a;
            int pos = 0;
            while (l[pos] != out[i])
                pos++;
            int *last = team[i] ? &last_b : &last_a;
            assert_true(pos > *last);
            *last = pos;
        }
        int64_t out2[8];
        unsigned char team2[8];
        tl_team_draft(a, 6, b, 6, 8, seed, out2, team2);
        assert_memory_equal(out, out2, sizeof out);
    }
    /* identical lists: the union is the list itself */
    int64_t out[6];
    unsigned char team[6];
    assert_int_equal(tl_team_draft(a, 6, a, 6, 10, 3, out, team), 6);
    assert_memory_equal(out, a, sizeof out);
}

static void test_credit_and_pvalue(void **state)
{
    (void)state;
    const unsigned char team[4] = {0, 1, 0, 1};
    const unsigned char c1[4] = {1, 0, 0, 0}, c2[4] = {0, 1, 0, 1}, c3[4] = {1, 1, 0, 0},
                        c0[4] = {0};
    assert_int_equal(tl_interleave_credit(team, c1, 4), 1);
    assert_int_equal(tl_interleave_credit(team, c2, 4), -1);
    assert_int_equal(tl_interleave_credit(team, c3, 4), 0);
    assert_int_equal(tl_interleave_credit(team, c0, 4), 0);
    /* exact binomial: 2 * P(X <= 2), n = 10 -> 2 * 56/1024 */
    assert_true(fabs(tl_interleave_pvalue(8, 2) - 112.0 / 1024) < 1e-12);
    assert_true(fabs(tl_interleave_pvalue(2, 8) - 112.0 / 1024) < 1e-12);
    assert_true(tl_interleave_pvalue(5, 5) == 1.0);
    assert_true(tl_interleave_pvalue(0, 0) == 1.0);
    assert_true(tl_interleave_pvalue(5200, 4800) < 0.001); /* normal approximation */
    assert_true(tl_interleave_pvalue(5010, 4990) > 0.5);
}

/* A ranker that knows the relevances beats one that shuffles, under a position-biased click
 * model: the sign test says so. */
static void test_better_ranker_wins(void **state)
{
    (void)state;
    tl_rng g = {1};
    long wa = 0, wb = 0;
    for (int q = 0; q < 2000; q++) {
        int64_t a[10], b[10], out[10];
        unsigned char team[10], clicked[10];
        for (int i = 0; i < 10; i++)
            a[i] = b[i] = i; /* item i has relevance (10 - i) / 20 */
        for (int i = 9; i > 0; i--) {
            int j = (int)(tl_rng_next(&g) % (uint64_t)(i + 1));
            int64_t t = b[i];
            b[i] = b[j];
            b[j] = t;
        }
        int n = tl_team_draft(a, 10, b, 10, 10, (uint64_t)q, out, team);
        for (int i = 0; i < n; i++)
            clicked[i] = tl_rng_uniform(&g) < (10 - out[i]) / 20.0 / (1 + i);
        int c = tl_interleave_credit(team, clicked, n);
        wa += c > 0;
        wb += c < 0;
    }
    assert_true(wa > wb);
    assert_true(tl_interleave_pvalue(wa, wb) < 0.01);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_team_draft),
        cmocka_unit_test(test_credit_and_pvalue),
        cmocka_unit_test(test_better_ranker_wins),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
