/* The re-rankers (src/core/rerank.c) and the facets they compare (src/core/facets.c): MMR with
 * lambda 1 keeps the model's order and lower lambdas make lists more varied, calibration moves
 * a list's subjects toward the history's, the author cap holds, items without subjects, and
 * the same answer every time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/facets.h"
#include "core/rerank.h"

#define MAX_ITEMS 64

/* A catalogue of n items: subjects[i] and creators[i] (NULL: none). */
static void make_facets(tl_facets *f, int n, const char *const *subjects,
                        const char *const *creators)
{
    tl_catalog cat;
    memset(&cat, 0, sizeof(cat));
    assert_int_equal(tl_catalog_reserve(&cat, n), TL_OK);
    for (int i = 0; i < n; i++) {
        cat.subjects[i] = subjects && subjects[i] ? strdup(subjects[i]) : NULL;
        cat.creators[i] = creators && creators[i] ? strdup(creators[i]) : NULL;
    }
    assert_int_equal(tl_facets_build(&cat, n, f), TL_OK);
    tl_catalog_release(&cat);
}

/* The pool 0..n) with scores falling by rank. */
static void pool_of(int n, int32_t *items, float *scores)
{
    for (int k = 0; k < n; k++) {
        items[k] = k;
        scores[k] = 10.0f - 0.1f * (float)k;
    }
}

/* Intra-list diversity: the mean of 1 - Jaccard over the list's pairs. */
static double ild(const tl_facets *f, const int32_t *items, int n)
{
    double sum = 0;
    int pairs = 0;
    for (int a = 0; a < n; a++)
        for (int b = a + 1; b < n; b++, pairs++)
            sum += 1.0 - tl_facets_jaccard(f, items[a], items[b]);
    return pairs ? sum / pairs : 0;
}

static int choose(const tl_facets *f, tl_rerank_spec s, const int32_t *hist, int32_t n_hist,
                  int32_t *items, float *scores, int n_pool, int n)
{
    int got = -1;
    assert_int_equal(tl_rerank_choose(f, &s, hist, NULL, n_hist, items, scores, n_pool, n, &got),
                     TL_OK);
    return got;
}

static void test_facets(void **state)
{
    (void)state;
    const char *subjects[] = {" Drama | comedy", "drama|DRAMA", NULL, "war"};
    const char *creators[] = {"Ann Lee|Bob", NULL, "Bob", "ann lee"};
    tl_facets f;
    make_facets(&f, 4, subjects, creators);
    assert_int_equal(f.n_subjects, 3); /* drama, comedy, war: case and spaces do not count */
    assert_int_equal(f.n_features, 5);
    assert_int_equal(f.n_subj[0], 2);
    assert_int_equal(f.ptr[1] - f.ptr[0], 4);
    assert_int_equal(f.n_subj[1], 1); /* a subject twice is one */
    assert_int_equal(f.n_subj[2], 0);
    assert_int_equal(f.first_creator[0], f.first_creator[3]); /* Ann Lee, both */
    assert_int_equal(f.first_creator[1], -1);
    assert_true(f.first_creator[2] >= f.n_subjects);
    assert_float_equal(tl_facets_jaccard(&f, 0, 1), 0.25, 1e-6); /* {drama} of 4 */
    assert_float_equal(tl_facets_jaccard(&f, 1, 1), 1.0, 1e-6);
    assert_float_equal(tl_facets_jaccard(&f, 0, 2), 0.25, 1e-6); /* Bob, of 4 */
    tl_facets_release(&f);
    tl_facets_release(&f); /* released twice is harmless */
}

/* 10 dramas score best, then 10 items of a subject each: the plain top 10 is all drama. */
static void drama_catalogue(tl_facets *f)
{
    static char buf[10][8];
    const char *subjects[20];
    for (int i = 0; i < 10; i++)
        subjects[i] = "drama";
    for (int i = 10; i < 20; i++) {
        snprintf(buf[i - 10], sizeof(buf[0]), "s%d", i);
        subjects[i] = buf[i - 10];
    }
    make_facets(f, 20, subjects, NULL);
}

static void test_mmr_lambda_one_keeps_order(void **state)
{
    (void)state;
    tl_facets f;
    drama_catalogue(&f);
    int32_t items[20];
    float scores[20];
    pool_of(20, items, scores);
    items[3] = 12; /* a varied item among the dramas, to see that it stays in place */
    items[12] = 3;
    assert_int_equal(choose(&f, (tl_rerank_spec){.mmr = 1.0f}, NULL, 0, items, scores, 20, 10), 10);
    for (int k = 0; k < 10; k++) {
        assert_int_equal(items[k], k == 3 ? 12 : k);
        assert_float_equal(scores[k], 10.0f - 0.1f * (float)k, 1e-6);
    }
    assert_false(tl_rerank_on(&(tl_rerank_spec){.mmr = 1.0f}));
    tl_facets_release(&f);
}

static void test_mmr_lower_lambda_more_varied(void **state)
{
    (void)state;
    tl_facets f;
    drama_catalogue(&f);
    const float lambdas[] = {1.0f, 0.9f, 0.7f, 0.5f, 0.3f};
    double last = -1;
    for (size_t l = 0; l < sizeof(lambdas) / sizeof(lambdas[0]); l++) {
        int32_t items[20];
        float scores[20];
        pool_of(20, items, scores);
        int got = choose(&f, (tl_rerank_spec){.mmr = lambdas[l]}, NULL, 0, items, scores, 20, 10);
        assert_int_equal(got, 10);
        double d = ild(&f, items, got);
        assert_true(d >= last);
        if (l == 0)
            assert_float_equal(d, 0.0, 1e-9); /* ten dramas */
        else if (lambdas[l] <= 0.7f)
            assert_true(d > 0.5);
        assert_int_equal(items[0], 0); /* the best item leads: nothing to be unlike yet */
        for (int k = 0; k < got; k++)  /* each item keeps its own score */
            assert_float_equal(scores[k], 10.0f - 0.1f * (float)items[k], 1e-6);
        last = d;
    }
    tl_facets_release(&f);
}

static void test_calibration_moves_toward_history(void **state)
{
    (void)state;
    /* Items 0..9 drama, 10..19 comedy; the history: 7 dramas and 3 comedies (p = 0.7 / 0.3),
     * items 20..29 (not in the pool). The pool's dramas all score above its comedies. */
    const char *subjects[30];
    for (int i = 0; i < 30; i++)
        subjects[i] = (i < 10 || (i >= 20 && i < 27)) ? "drama" : "comedy";
    tl_facets f;
    make_facets(&f, 30, subjects, NULL);
    int32_t hist[10];
    for (int k = 0; k < 10; k++)
        hist[k] = 20 + k;
    int32_t plain[20];
    float ps[20];
    pool_of(20, plain, ps);
    double kl0 = tl_rerank_miscalibration(&f, hist, NULL, 10, plain, 10);
    assert_true(kl0 > 0.5); /* ten dramas for a 70% drama reader */
    double last = kl0;
    const float lambdas[] = {0.2f, 0.5f, 0.9f};
    for (size_t l = 0; l < sizeof(lambdas) / sizeof(lambdas[0]); l++) {
        int32_t items[20];
        float scores[20];
        pool_of(20, items, scores);
        int got = choose(&f, (tl_rerank_spec){.mmr = 1.0f, .calibrate = lambdas[l]}, hist, 10,
                         items, scores, 20, 10);
        assert_int_equal(got, 10);
        double kl = tl_rerank_miscalibration(&f, hist, NULL, 10, items, got);
        assert_true(kl <= last + 1e-9);
        last = kl;
    }
    assert_true(last < 0.05); /* 7 dramas and 3 comedies: as near as ten items get */
    /* without subjects in the history there is nothing to calibrate to */
    int32_t items[20];
    float scores[20];
    pool_of(20, items, scores);
    tl_facets none;
    make_facets(&none, 30, NULL, NULL);
    assert_int_equal(choose(&none, (tl_rerank_spec){.mmr = 1.0f, .calibrate = 0.9f}, hist, 10,
                            items, scores, 20, 10),
                     10);
    for (int k = 0; k < 10; k++)
        assert_int_equal(items[k], k);
    assert_float_equal(tl_rerank_miscalibration(&none, hist, NULL, 10, items, 10), 0.0, 1e-12);
    tl_facets_release(&none);
    tl_facets_release(&f);
}

static void test_author_cap(void **state)
{
    (void)state;
    /* Ann wrote items 0..5, Bob 6..7 (Bob's first, Ann second on 7), the rest no one. */
    const char *creators[12] = {"Ann", "Ann", "Ann", "Ann", "ann", "Ann", "Bob", "Bob|Ann"};
    tl_facets f;
    make_facets(&f, 12, NULL, creators);
    int32_t items[12];
    float scores[12];
    pool_of(12, items, scores);
    int got = choose(&f, (tl_rerank_spec){.mmr = 1.0f, .max_per_creator = 2}, NULL, 0, items,
                     scores, 12, 8);
    assert_int_equal(got, 8);
    const int32_t want[8] = {0, 1, 6, 7, 8, 9, 10, 11}; /* otherwise in the model's order */
    for (int k = 0; k < 8; k++)
        assert_int_equal(items[k], want[k]);
    /* a pool of Ann's alone: the list ends short rather than break the cap */
    pool_of(6, items, scores);
    assert_int_equal(choose(&f, (tl_rerank_spec){.mmr = 1.0f, .max_per_creator = 2}, NULL, 0, items,
                            scores, 6, 5),
                     2);
    tl_facets_release(&f);
}

static void test_without_subjects(void **state)
{
    (void)state;
    /* Half the items have no subjects: they are like no other item, and calibration neither
     * counts them nor fails on them. */
    const char *subjects[20] = {"drama", NULL,    "drama", NULL,     "drama",
                                NULL,    "drama", NULL,    "comedy", NULL};
    tl_facets f;
    make_facets(&f, 20, subjects, NULL);
    int32_t hist[] = {8, 1, 19}; /* one comedy, two without subjects */
    int32_t items[20];
    float scores[20];
    pool_of(20, items, scores);
    int got = choose(&f, (tl_rerank_spec){.mmr = 0.5f, .calibrate = 0.5f, .max_per_creator = 1},
                     hist, 3, items, scores, 20, 10);
    assert_int_equal(got, 10);
    int seen[20] = {0};
    for (int k = 0; k < 20; k++) /* a permutation of the pool */
        assert_int_equal(seen[items[k]]++, 0);
    assert_true(tl_rerank_miscalibration(&f, hist, NULL, 3, items, 1) >= 0);
    /* an empty catalogue: every re-ranker keeps the model's order */
    tl_facets none;
    make_facets(&none, 20, NULL, NULL);
    pool_of(20, items, scores);
    got = choose(&none, (tl_rerank_spec){.mmr = 0.2f, .calibrate = 0.5f, .max_per_creator = 1},
                 hist, 3, items, scores, 20, 10);
    assert_int_equal(got, 10);
    for (int k = 0; k < 10; k++)
        assert_int_equal(items[k], k);
    /* out-of-range history entries and an empty pool are no trouble */
    int32_t odd[] = {-1, 1000};
    assert_int_equal(choose(&f, (tl_rerank_spec){.calibrate = 1.0f}, odd, 2, items, scores, 0, 10),
                     0);
    tl_facets_release(&none);
    tl_facets_release(&f);
}

static void test_deterministic(void **state)
{
    (void)state;
    const char *subjects[MAX_ITEMS];
    const char *creators[MAX_ITEMS];
    static const char *const pick_s[] = {"a", "b", "a|b", "c", "a|c", NULL};
    static const char *const pick_c[] = {"x", "y", NULL, "x|y"};
    for (int i = 0; i < MAX_ITEMS; i++) {
        subjects[i] = pick_s[(i * 7) % 6];
        creators[i] = pick_c[(i * 5) % 4];
    }
    tl_facets f;
    make_facets(&f, MAX_ITEMS, subjects, creators);
    int32_t hist[] = {1, 2, 3, 5, 8, 13};
    int32_t first[MAX_ITEMS], items[MAX_ITEMS];
    float fs[MAX_ITEMS], scores[MAX_ITEMS];
    tl_rerank_spec s = {.mmr = 0.6f, .calibrate = 0.3f, .max_per_creator = 3};
    for (int run = 0; run < 3; run++) {
        for (int k = 0; k < MAX_ITEMS; k++) {
            items[k] = k;
            scores[k] = (float)((k * 37) % 11); /* ties, many */
        }
        int got = choose(&f, s, hist, 6, items, scores, MAX_ITEMS, 12);
        assert_int_equal(got, 12);
        if (run == 0) {
            memcpy(first, items, sizeof(items));
            memcpy(fs, scores, sizeof(scores));
        } else {
            assert_memory_equal(first, items, sizeof(items));
            assert_memory_equal(fs, scores, sizeof(scores));
        }
    }
    /* equal scores and equal items: the model's order decides */
    for (int k = 0; k < 8; k++) {
        items[k] = 0;
        scores[k] = 1.0f;
    }
    const char *same[] = {"a"};
    tl_facets one;
    make_facets(&one, 1, same, NULL);
    assert_int_equal(choose(&one, (tl_rerank_spec){.mmr = 0.5f}, NULL, 0, items, scores, 8, 4), 4);
    tl_facets_release(&one);
    tl_facets_release(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_facets),
        cmocka_unit_test(test_mmr_lambda_one_keeps_order),
        cmocka_unit_test(test_mmr_lower_lambda_more_varied),
        cmocka_unit_test(test_calibration_moves_toward_history),
        cmocka_unit_test(test_author_cap),
        cmocka_unit_test(test_without_subjects),
        cmocka_unit_test(test_deterministic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
