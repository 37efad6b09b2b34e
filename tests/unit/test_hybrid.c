/* hybrid: blend weights learned on a validation split prefer the member that recovers planted
 * structure over one that cannot (itemknn vs popular on evenly popular communities); fixed
 * weights; batched and single-user scoring agree; a nested save/load round trip is bit-exact;
 * bad member lists and overrides are named. */
#include "support.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mfile.h"
#include "core/model.h"

enum { N_USERS = 120, N_ITEMS = 40, BLOCKS = 4, PER_USER = 7 };

/* Four communities of 10 items and 30 users; each user takes 7 of their block's items, chosen
 * by a fixed hash, so every item is about equally popular: popularity carries no signal, while
 * co-occurrence points inside the block. */
static void make_data_ts(tl_data *d, int with_ts);

static void make_data(tl_data *d)
{
    make_data_ts(d, 0);
}

/* with_ts: user u takes their items in the order t = 0..6 at times 100 u + t, so within a
 * block item b is usually followed by b + 3 (mod 10): an order a sequence model can learn. */
static void make_data_ts(tl_data *d, int with_ts)
{
    char id[32];
    int32_t idx;
    tl_coo coo;
    tl_data_init(d);
    for (int u = 0; u < N_USERS; u++) {
        snprintf(id, sizeof(id), "u%d", u);
        assert_int_equal(tl_intern_add(&d->users, id, strlen(id), &idx), TL_OK);
    }
    for (int i = 0; i < N_ITEMS; i++) {
        snprintf(id, sizeof(id), "i%d", i);
        assert_int_equal(tl_intern_add(&d->items, id, strlen(id), &idx), TL_OK);
    }
    assert_int_equal(tl_coo_init(&coo, (int64_t)N_USERS * PER_USER, with_ts), TL_OK);
    for (int u = 0; u < N_USERS; u++) {
        int base = (u % BLOCKS) * 10, start = (u * 7 + u / BLOCKS) % 10;
        for (int t = 0; t < PER_USER; t++)
            assert_int_equal(tl_coo_push(&coo, u, base + (start + t * 3) % 10, 1.0f,
                                         with_ts ? 100 * (int64_t)u + t + 1 : 0),
                             TL_OK);
    }
    assert_int_equal(tl_data_build(d, &coo, TL_DUP_MAX), TL_OK);
    tl_coo_release(&coo);
}

static tl_model *fit_hybrid(const tl_data *d, const char *const *kv, int nkv)
{
    tl_model *m;
    tl_diag diag = {0};
    assert_int_equal(tl_model_new("hybrid", &m), TL_OK);
    for (int k = 0; k < nkv; k++)
        assert_int_equal(tl_model_set(m, kv[k], &diag), TL_OK);
    tl_err rc = tl_model_fit(m, d, NULL, &diag);
    if (rc != TL_OK)
        fprintf(stderr, "fit: %s\n", diag.msg);
    assert_int_equal(rc, TL_OK);
    return m;
}

/* The weight of member name in a saved hybrid (0 when it was dropped). */
static float saved_weight(const char *path, const char *name)
{
    tl_mfile *f;
    tl_diag diag = {0};
    uint64_t nn, nw;
    assert_int_equal(tl_mfile_open(path, &f, &diag), TL_OK);
    const char *names = tl_mfile_get(f, "hybrid.members", TL_MT_BYTES, &nn);
    const float *w = tl_mfile_get(f, "hybrid.weights", TL_MT_F32, &nw);
    assert_non_null(names);
    assert_non_null(w);
    float found = 0;
    const char *p = names;
    for (uint64_t k = 0; k < nw; k++, p += strlen(p) + 1)
        if (strcmp(p, name) == 0)
            found = w[k];
    tl_mfile_close(f);
    return found;
}

static void test_learns_to_prefer_structure(void **state)
{
    (void)state;
    tl_data d;
    make_data(&d);
    const char *kv[] = {"models=popular,itemknn", "set=itemknn.autotune=0;itemknn.k=20",
                        "val_mode=random"};
    tl_model *m = fit_hybrid(&d, kv, 3);
    char path[512];
    tl_diag diag = {0};
    snprintf(path, sizeof(path), "%s/hybrid.tlm", tl_test_tmpdir());
    assert_int_equal(tl_model_save(m, path, &diag), TL_OK);
    float wk = saved_weight(path, "itemknn"), wp = saved_weight(path, "popular");
    assert_true(wk > wp);
    assert_true(wk >= 0.5f);
    assert_non_null(strstr(m->tuned, "validation nDCG@10"));

    /* Recommendations stay inside the user's community. */
    for (int32_t u = 0; u < 8; u++) {
        int32_t top[3];
        float sc[3];
        int got;
        const int32_t *h = d.ui.indices + d.ui.indptr[u];
        int32_t nh = (int32_t)(d.ui.indptr[u + 1] - d.ui.indptr[u]);
        assert_int_equal(tl_model_recommend(m, u, h, NULL, nh, NULL, 3, top, sc, &got), TL_OK);
        assert_int_equal(got, 3);
        for (int k = 0; k < 3; k++)
            assert_int_equal(top[k] / 10, u % BLOCKS);
    }
    tl_model_free(m);
    tl_data_release(&d);
}

static void test_batched_matches_single_and_round_trip(void **state)
{
    (void)state;
    tl_data d;
    make_data(&d);
    const char *kv[] = {"models=itemknn,popular,ease", "weights=0.6,0.1,0.3",
                        "set=itemknn.autotune=0;ease.autotune=0;ease.lambda=10"};
    tl_model *m = fit_hybrid(&d, kv, 3), *l;
    /* Fixed weights: nothing learned, only the cost is reported. */
    assert_null(strstr(m->tuned, "validation nDCG@10"));
    assert_non_null(strstr(m->tuned, "cost: members"));
    tl_diag diag = {0};
    char path[512];
    snprintf(path, sizeof(path), "%s/hybrid-fixed.tlm", tl_test_tmpdir());
    assert_int_equal(tl_model_save(m, path, &diag), TL_OK);
    assert_float_equal(saved_weight(path, "ease"), 0.3, 1e-6);
    assert_int_equal(tl_model_load(path, &l, &diag), TL_OK);

    int32_t rows[N_USERS];
    for (int32_t u = 0; u < N_USERS; u++)
        rows[u] = u;
    int32_t *ib = malloc(sizeof(int32_t) * N_USERS * 5),
            *il = malloc(sizeof(int32_t) * N_USERS * 5);
    float *sb = malloc(sizeof(float) * N_USERS * 5), *sl = malloc(sizeof(float) * N_USERS * 5);
    assert_int_equal(tl_model_recommend_rows(m, &d.ui, 1, rows, N_USERS, NULL, 5, ib, sb), TL_OK);
    assert_int_equal(tl_model_recommend_rows(l, &d.ui, 1, rows, N_USERS, NULL, 5, il, sl), TL_OK);
    assert_memory_equal(ib, il, sizeof(int32_t) * N_USERS * 5);
    assert_memory_equal(sb, sl, sizeof(float) * N_USERS * 5);
    for (int32_t u = 0; u < N_USERS; u += 13) {
        int32_t top[5];
        float sc[5];
        int got;
        const int32_t *h = d.ui.indices + d.ui.indptr[u];
        int32_t nh = (int32_t)(d.ui.indptr[u + 1] - d.ui.indptr[u]);
        assert_int_equal(
            tl_model_recommend(l, u, h, d.ui.data + d.ui.indptr[u], nh, NULL, 5, top, sc, &got),
            TL_OK);
        assert_int_equal(got, 5);
        /* The batched path may sum in another order (BLAS): scores agree by rank, and items
         * agree wherever no near-tie could swap them. */
        for (int k = 0; k < 5; k++) {
            assert_float_equal(sc[k], sb[u * 5 + k], 1e-4);
            int apart =
                (k == 0 || sc[k - 1] - sc[k] > 1e-4) && (k == 4 || sc[k] - sc[k + 1] > 1e-4);
            if (apart)
                assert_int_equal(top[k], ib[u * 5 + k]);
        }
    }
    /* The explanation comes from a member that has one (itemknn): history positions. */
    int32_t why[3];
    float c[3];
    const int32_t *h = d.ui.indices + d.ui.indptr[0];
    int32_t nh = (int32_t)(d.ui.indptr[1] - d.ui.indptr[0]);
    int nw = l->ops->explain(l, 0, h, NULL, nh, ib[0], why, c, 3);
    assert_true(nw > 0);
    assert_true(why[0] >= 0 && why[0] < nh);
    free(ib);
    free(il);
    free(sb);
    free(sl);
    tl_model_free(m);
    tl_model_free(l);
    tl_data_release(&d);
}

static void test_both_validation_splits(void **state)
{
    (void)state;
    tl_data d;
    make_data_ts(&d, 1);
    const char *kv[] = {"models=popular,sequence", "val_mode=both", "set=sequence.autotune=0"};
    tl_model *m = fit_hybrid(&d, kv, 3);
    /* Both splits were scored, and the order-aware member earns the larger weight. */
    assert_non_null(strstr(m->tuned, "random validation nDCG@10"));
    assert_non_null(strstr(m->tuned, "temporal validation nDCG@10"));
    char path[512];
    tl_diag diag = {0};
    snprintf(path, sizeof(path), "%s/hybrid-both.tlm", tl_test_tmpdir());
    assert_int_equal(tl_model_save(m, path, &diag), TL_OK);
    assert_true(saved_weight(path, "sequence") > saved_weight(path, "popular"));
    tl_model_free(m);
    tl_data_release(&d);
}

static void test_default_members_adapt(void **state)
{
    (void)state;
    tl_data d;
    make_data(&d); /* no timestamps, no catalogue */
    const char *kv[] = {"weights=1,1,1,1",
                        "set=ease.autotune=0;itemknn.autotune=0;content.w_title=2"};
    tl_model *m = fit_hybrid(&d, kv, 2);
    assert_non_null(strstr(m->tuned, "sequence left out: no timestamps"));
    assert_non_null(strstr(m->tuned, "content left out: no item metadata"));
    tl_model_free(m);
    /* The weights count the members in use, and the message lists them. */
    tl_diag diag = {0};
    assert_int_equal(tl_model_new("hybrid", &m), TL_OK);
    assert_int_equal(tl_model_set(m, "weights=1,1", &diag), TL_OK);
    assert_int_equal(tl_model_fit(m, &d, NULL, &diag), TL_EINVAL);
    assert_string_equal(diag.field, "weights");
    assert_non_null(strstr(diag.msg, "(ease,ials,itemknn,rp3beta)"));
    tl_model_free(m);
    tl_data_release(&d);
}

static void test_bad_members_are_named(void **state)
{
    (void)state;
    tl_data d;
    tl_model *m;
    tl_diag diag = {0};
    make_data(&d);
    static const char *bad[][2] = {
        {"models=itemknn,nosuch", "models"},
        {"models=itemknn,itemknn", "models"},
        {"models=hybrid", "models"},
        {"set=ials.factors=8", "set"},
        {"set=itemknn.nosuch=1", "nosuch"},
        {"weights=1", "weights"},
        {"norm=rank", "norm"},
    };
    for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
        assert_int_equal(tl_model_new("hybrid", &m), TL_OK);
        assert_int_equal(tl_model_set(m, "models=itemknn,popular", &diag), TL_OK);
        assert_int_equal(tl_model_set(m, bad[k][0], &diag), TL_OK);
        tl_diag_clear(&diag);
        assert_int_equal(tl_model_fit(m, &d, NULL, &diag), TL_EINVAL);
        assert_string_equal(diag.field, bad[k][1]);
        tl_model_free(m);
    }
    /* No timestamps: a temporal validation split is refused. */
    assert_int_equal(tl_model_new("hybrid", &m), TL_OK);
    assert_int_equal(tl_model_set(m, "models=itemknn,popular", &diag), TL_OK);
    assert_int_equal(tl_model_set(m, "val_mode=temporal", &diag), TL_OK);
    assert_int_equal(tl_model_fit(m, &d, NULL, &diag), TL_EINVAL);
    assert_string_equal(diag.field, "val_mode");
    tl_model_free(m);
    tl_data_release(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_learns_to_prefer_structure),
        cmocka_unit_test(test_batched_matches_single_and_round_trip),
        cmocka_unit_test(test_both_validation_splits),
        cmocka_unit_test(test_default_members_adapt),
        cmocka_unit_test(test_bad_members_are_named),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
