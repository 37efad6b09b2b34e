/* core/metrics: the protocol's formulas on a case worked by hand, the defects evaluate.py
 * counts, novelty and diversity against a brute-force definition, and scoring a model in
 * memory. (Agreement with tools/evaluate.py on real files: tests/integration.) */
#include "support.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/metrics.h"

/* A users x items CSR from rows of item lists (-1 ends a row). */
static void build(tl_csr *out, int32_t nrows, int32_t ncols, const int32_t *cells)
{
    tl_coo c;
    assert_int_equal(tl_coo_init(&c, 16, 0), TL_OK);
    int32_t r = 0;
    for (const int32_t *p = cells; r < nrows; p++) {
        if (*p < 0)
            r++;
        else
            assert_int_equal(tl_coo_push(&c, r, *p, 1.0f, 0), TL_OK);
    }
    assert_int_equal(tl_csr_from_coo(&c, nrows, ncols, TL_DUP_MAX, out), TL_OK);
    tl_coo_release(&c);
}

static void test_hand_worked_case(void **state)
{
    (void)state;
    /* train: u0 {0,1}, u1 {0,2,3}, u2 {0,1,2}; items 4 and 5 have no train user; item 6 is
     * beyond train's columns (a cold test item). */
    const int32_t cells[] = {0, 1, -1, 0, 2, 3, -1, 0, 1, 2, -1};
    tl_csr train;
    build(&train, 3, 6, cells);
    tl_metrics m;
    assert_int_equal(tl_metrics_init(&m, &train, 5), TL_EINVAL); /* fewer items than train */
    assert_int_equal(tl_metrics_init(&m, &train, 7), TL_OK);

    /* User A (train row 0): test {2, 4}; list 2, 0 (its own train item), 5, 4, 2 (repeat). */
    const int32_t ranked[] = {2, 0, 5, 4, 2, -1, 3};
    const int32_t truth[] = {4, 2, 4};
    assert_int_equal(tl_metrics_add_user(&m, 0, ranked, 7, truth, 3), TL_OK);
    /* User B: not in train, test {6}, no list. */
    const int32_t truth_b[] = {6};
    assert_int_equal(tl_metrics_add_user(&m, -1, NULL, 0, truth_b, 1), TL_OK);
    /* Refused: an empty test set, an item out of range, a row outside train. */
    assert_int_equal(tl_metrics_add_user(&m, -1, NULL, 0, truth_b, 0), TL_EINVAL);
    const int32_t bad[] = {7};
    assert_int_equal(tl_metrics_add_user(&m, -1, bad, 1, truth_b, 1), TL_EINVAL);
    assert_int_equal(tl_metrics_add_user(&m, 3, NULL, 0, truth_b, 1), TL_EINVAL);

    tl_metrics_result r;
    tl_metrics_finish(&m, &r);
    assert_int_equal(r.users, 2);
    assert_int_equal(r.users_without_recs, 1);
    assert_int_equal(r.train_item_violations, 1);
    assert_int_equal(r.duplicate_rows, 1);
    /* A's hits at ranks 1 and 4; |T| = 2. B scores 0: every mean is half of A's. */
    double dcg = 1.0 + 1.0 / log2(5.0), idcg = 1.0 + 1.0 / log2(3.0);
    assert_true(fabs(r.ndcg10 - 0.5 * dcg / idcg) < 1e-12);
    assert_true(fabs(r.ndcg100 - 0.5 * dcg / idcg) < 1e-12);
    assert_true(fabs(r.recall20 - 0.5) < 1e-12);
    assert_true(fabs(r.recall50 - 0.5) < 1e-12);
    assert_true(fabs(r.precision10 - 0.5 * 0.2) < 1e-12);
    assert_true(fabs(r.map10 - 0.5 * (1.0 + 2.0 / 4.0) / 2.0) < 1e-12);
    assert_true(fabs(r.hitrate10 - 0.5) < 1e-12);
    /* top 10 {2, 0, 5, 4} against the catalogue {0, 1, 2, 3}: two of four */
    assert_true(fabs(r.coverage10 - 0.5) < 1e-12);
    /* novelty over A's train items 2 (2 of 3 users) and 0 (3 of 3) */
    assert_int_equal(r.novelty_users, 1);
    assert_true(fabs(r.novelty10 - (-log2(2.0 / 3.0) + 0.0) / 2.0) < 1e-12);
    /* diversity: users(2) = {1, 2}, users(0) = {0, 1, 2}: cosine 2 / sqrt(6) */
    assert_int_equal(r.diversity_users, 1);
    assert_true(fabs(r.diversity10 - (1.0 - 2.0 / sqrt(6.0))) < 1e-12);
    tl_metrics_release(&m);
    tl_csr_release(&train);
}

static void test_rank_cutoffs(void **state)
{
    (void)state;
    /* 150 items, no train users; one test item ranked 100th, another 101st. */
    const int32_t cells[] = {-1};
    tl_csr train;
    build(&train, 1, 150, cells);
    tl_metrics m;
    assert_int_equal(tl_metrics_init(&m, &train, 150), TL_OK);
    int32_t ranked[150];
    for (int k = 0; k < 150; k++)
        ranked[k] = k;
    const int32_t truth[] = {99, 100, 11, 30};
    assert_int_equal(tl_metrics_add_user(&m, 0, ranked, 150, truth, 4), TL_OK);
    tl_metrics_result r;
    tl_metrics_finish(&m, &r);
    double dcg100 = 1 / log2(13.0) + 1 / log2(32.0) + 1 / log2(101.0);
    double idcg = 1 + 1 / log2(3.0) + 1 / log2(4.0) + 1 / log2(5.0);
    assert_true(fabs(r.ndcg100 - dcg100 / idcg) < 1e-12);
    assert_true(fabs(r.ndcg10 - 0.0) < 1e-12);
    assert_true(fabs(r.recall20 - 1.0 / 4.0) < 1e-12); /* rank 12 */
    assert_true(fabs(r.recall50 - 2.0 / 4.0) < 1e-12); /* ranks 12 and 31 */
    assert_true(fabs(r.hitrate10) < 1e-12);
    assert_true(fabs(r.coverage10) < 1e-12); /* an empty catalogue */
    assert_int_equal(r.novelty_users, 0);
    tl_metrics_release(&m);
    tl_csr_release(&train);
}

/* Diversity through every intersection path (bitset pairs, bitset probes, merges) equals the
 * definition computed naively. */
static void test_diversity_brute_force(void **state)
{
    (void)state;
    const int32_t nu = 2000, ni = 40;
    tl_coo c;
    assert_int_equal(tl_coo_init(&c, 1024, 0), TL_OK);
    uint64_t x = 12345;
    for (int32_t u = 0; u < nu; u++)
        for (int32_t i = 0; i < ni; i++) {
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
            /* item i is held by about 1 in 2^(i/4) users: from dense to very sparse */
            if ((x >> 33) % (1u << (i / 4)) == 0)
                assert_int_equal(tl_coo_push(&c, u, i, 1.0f, 0), TL_OK);
        }
    tl_csr train;
    assert_int_equal(tl_csr_from_coo(&c, nu, ni, TL_DUP_MAX, &train), TL_OK);
    tl_coo_release(&c);
    uint8_t *has = calloc((size_t)nu * ni, 1);
    int64_t cnt[40] = {0};
    for (int32_t u = 0; u < nu; u++)
        for (int64_t p = train.indptr[u]; p < train.indptr[u + 1]; p++) {
            has[(size_t)u * ni + train.indices[p]] = 1;
            cnt[train.indices[p]]++;
        }
    tl_metrics m;
    assert_int_equal(tl_metrics_init(&m, &train, ni), TL_OK);
    double want = 0;
    int lists = 0;
    for (int t = 0; t < 30; t++) {
        int32_t list[10];
        for (int k = 0; k < 10; k++)
            list[k] = (t * 7 + k * 3) % ni; /* distinct within a list */
        double s = 0;
        int pairs = 0;
        for (int a = 0; a < 10; a++)
            for (int b = a + 1; b < 10; b++) {
                if (!cnt[list[a]] || !cnt[list[b]])
                    continue;
                int64_t common = 0;
                for (int32_t u = 0; u < nu; u++)
                    common += has[(size_t)u * ni + list[a]] && has[(size_t)u * ni + list[b]];
                s += 1.0 - (double)common / sqrt((double)cnt[list[a]] * (double)cnt[list[b]]);
                pairs++;
            }
        if (pairs) {
            want += s / pairs;
            lists++;
        }
        const int32_t truth[] = {0};
        assert_int_equal(tl_metrics_add_user(&m, t, list, 10, truth, 1), TL_OK);
    }
    tl_metrics_result r;
    tl_metrics_finish(&m, &r);
    assert_int_equal(r.diversity_users, lists);
    assert_true(fabs(r.diversity10 - want / lists) < 1e-9);
    tl_metrics_release(&m);
    tl_csr_release(&train);
    free(has);
}

/* The popular model on data where its lists are known: items ranked by their train users,
 * each user's test item the most popular item it lacks, so nDCG@10 is 1 for users with a
 * train history and 0 for the one without. */
static void test_score_model_popular(void **state)
{
    (void)state;
    tl_data d;
    tl_data_init(&d);
    char id[16];
    int32_t idx;
    const int32_t nu = 12, ni = 10;
    for (int32_t u = 0; u < nu; u++) {
        snprintf(id, sizeof(id), "u%d", u);
        assert_int_equal(tl_intern_add(&d.users, id, strlen(id), &idx), TL_OK);
    }
    for (int32_t i = 0; i < ni; i++) {
        snprintf(id, sizeof(id), "i%d", i);
        assert_int_equal(tl_intern_add(&d.items, id, strlen(id), &idx), TL_OK);
    }
    /* item i has users 0 .. 10 - i (item 0 the most popular); user 11 has none. */
    tl_coo c, t;
    assert_int_equal(tl_coo_init(&c, 64, 0), TL_OK);
    assert_int_equal(tl_coo_init(&t, 16, 0), TL_OK);
    for (int32_t i = 0; i < ni; i++)
        for (int32_t u = 0; u <= 10 - i; u++)
            assert_int_equal(tl_coo_push(&c, u, i, 1.0f, 0), TL_OK);
    /* user u (1..10) lacks items 11-u .. 9; its best unseen item is 11 - u. */
    for (int32_t u = 2; u <= 10; u++)
        assert_int_equal(tl_coo_push(&t, u, 11 - u, 1.0f, 0), TL_OK);
    assert_int_equal(tl_coo_push(&t, 11, 0, 1.0f, 0), TL_OK);
    assert_int_equal(tl_data_build(&d, &c, TL_DUP_MAX), TL_OK);
    tl_csr test;
    assert_int_equal(tl_csr_from_coo(&t, nu, ni, TL_DUP_MAX, &test), TL_OK);
    tl_coo_release(&c);
    tl_coo_release(&t);

    tl_model *model;
    tl_diag diag;
    assert_int_equal(tl_model_new("popular", &model), TL_OK);
    tl_err rc = tl_model_fit(model, &d, NULL, &diag);
    if (rc == TL_EUNSUPPORTED) { /* the model has not landed in this tree yet */
        tl_model_free(model);
        tl_csr_release(&test);
        tl_data_release(&d);
        return;
    }
    assert_int_equal(rc, TL_OK);
    tl_metrics_result r;
    assert_int_equal(tl_metrics_score_model(model, &d.ui, &test, 1, 100, 0, &r), TL_OK);
    assert_int_equal(r.users, 10);
    assert_int_equal(r.users_without_recs, 1); /* user 11 has no train history */
    assert_int_equal(r.train_item_violations, 0);
    assert_true(fabs(r.ndcg10 - 9.0 / 10.0) < 1e-9);
    assert_true(fabs(r.hitrate10 - 9.0 / 10.0) < 1e-9);
    /* max_users: only the first 3 users with test items */
    assert_int_equal(tl_metrics_score_model(model, &d.ui, &test, 1, 100, 3, &r), TL_OK);
    assert_int_equal(r.users, 3);
    assert_true(fabs(r.ndcg10 - 1.0) < 1e-9);
    /* shapes must agree */
    tl_csr small;
    build(&small, 2, ni, (const int32_t[]){-1, -1});
    assert_int_equal(tl_metrics_score_model(model, &d.ui, &small, 1, 100, 0, &r), TL_EINVAL);
    tl_csr_release(&small);
    tl_model_free(model);
    tl_csr_release(&test);
    tl_data_release(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hand_worked_case),
        cmocka_unit_test(test_rank_cutoffs),
        cmocka_unit_test(test_diversity_brute_force),
        cmocka_unit_test(test_score_model_popular),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
