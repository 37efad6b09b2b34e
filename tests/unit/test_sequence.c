/* sequence: a planted series s1 -> s2 -> s3 is recovered from timestamps (not from item or input
 * order), unknown users are read in the order given, explanations name the recent items, and a
 * save/load round trip is bit-exact. */
#include "support.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/model.h"

enum { N_USERS = 12, N_ITEMS = 8 };

/* Items are interned as s3, s2, s1, n0..n4, so index order runs against the series: index 0 is
 * s3, 1 is s2, 2 is s1. Users 0-9 read s1, s2, s3 in that time order, with noise items between
 * them; user 10 has read s1 then s2; user 11 read only noise. Events are pushed in the order
 * perm gives, so a test can shuffle them. */
static const int S1 = 2, S2 = 1, S3 = 0;

typedef struct {
    int u, i;
    int64_t ts;
} event;

static int make_events(event *ev)
{
    int n = 0;
    for (int u = 0; u < 10; u++) {
        int64_t t = 1000 * (int64_t)u;
        ev[n++] = (event){u, S1, t + 1};
        ev[n++] = (event){u, 3 + u % 5, t + 2};
        ev[n++] = (event){u, S2, t + 3};
        ev[n++] = (event){u, 3 + (u + 2) % 5, t + 4};
        ev[n++] = (event){u, S3, t + 5};
    }
    ev[n++] = (event){10, S1, 50000};
    ev[n++] = (event){10, S2, 50100};
    ev[n++] = (event){11, 3, 60000};
    ev[n++] = (event){11, 4, 60001};
    return n;
}

static void make_data(tl_data *d, const int *perm)
{
    static const char *names[N_ITEMS] = {"s3", "s2", "s1", "n0", "n1", "n2", "n3", "n4"};
    event ev[64];
    int n = make_events(ev);
    char id[32];
    int32_t idx;
    tl_coo coo;
    tl_data_init(d);
    for (int u = 0; u < N_USERS; u++) {
        snprintf(id, sizeof(id), "u%d", u);
        assert_int_equal(tl_intern_add(&d->users, id, strlen(id), &idx), TL_OK);
    }
    for (int i = 0; i < N_ITEMS; i++)
        assert_int_equal(tl_intern_add(&d->items, names[i], strlen(names[i]), &idx), TL_OK);
    assert_int_equal(tl_coo_init(&coo, n, 1), TL_OK);
    for (int k = 0; k < n; k++) {
        const event *e = &ev[perm ? perm[k] : k];
        assert_int_equal(tl_coo_push(&coo, e->u, e->i, 1.0f, e->ts), TL_OK);
    }
    assert_int_equal(tl_data_build(d, &coo, TL_DUP_MAX), TL_OK);
    tl_coo_release(&coo);
}

static tl_model *fit_sequence(const tl_data *d)
{
    tl_model *m;
    tl_diag diag = {0};
    assert_int_equal(tl_model_new("sequence", &m), TL_OK);
    assert_int_equal(tl_model_set(m, "autotune=0", &diag), TL_OK);
    assert_int_equal(tl_model_fit(m, d, NULL, &diag), TL_OK);
    return m;
}

static int32_t top1(const tl_model *m, const tl_data *d, int32_t u)
{
    int32_t top;
    float sc;
    int got;
    const int32_t *h = d->ui.indices + d->ui.indptr[u];
    int32_t nh = (int32_t)(d->ui.indptr[u + 1] - d->ui.indptr[u]);
    assert_int_equal(
        tl_model_recommend(m, u, h, d->ui.data + d->ui.indptr[u], nh, NULL, 1, &top, &sc, &got),
        TL_OK);
    assert_int_equal(got, 1);
    return top;
}

static void test_series_next(void **state)
{
    (void)state;
    tl_data d;
    make_data(&d, NULL);
    tl_model *m = fit_sequence(&d);
    /* After s1 and s2, the next in the series. */
    assert_int_equal(top1(m, &d, 10), S3);

    /* Strictly forward: s3 follows s2 more than anything, s1 follows nothing in the series. */
    float s[N_ITEMS];
    int32_t h2[1] = {S2};
    m->ops->score(m, -1, h2, NULL, 1, s, NULL);
    for (int i = 0; i < N_ITEMS; i++)
        if (i != S3 && i != S2)
            assert_true(s[S3] > s[i]);

    /* An unknown user is read in the order given: [s1, s2] means s2 is the latest. */
    int32_t h[2] = {S1, S2}, top;
    float sc;
    int got;
    assert_int_equal(tl_model_recommend(m, -1, h, NULL, 2, NULL, 1, &top, &sc, &got), TL_OK);
    assert_int_equal(top, S3);

    /* The explanation names the history entries, the latest first. */
    int32_t why[2];
    float c[2];
    int nw = m->ops->explain(m, 10, d.ui.indices + d.ui.indptr[10], NULL, 2, S3, why, c, 2);
    assert_int_equal(nw, 2);
    assert_int_equal(d.ui.indices[d.ui.indptr[10] + why[0]], S2);
    assert_true(c[0] > c[1] && c[1] > 0);
    tl_model_free(m);
    tl_data_release(&d);
}

static void test_order_comes_from_timestamps(void **state)
{
    (void)state;
    event ev[64];
    int n = make_events(ev), perm[64] = {0};
    /* Reverse, then a fixed shuffle: input order carries no sequence. */
    for (int k = 0; k < n; k++)
        perm[k] = n - 1 - k;
    for (int k = n - 1; k > 0; k--) {
        int j = (k * 7 + 3) % (k + 1), t = perm[k];
        perm[k] = perm[j];
        perm[j] = t;
    }
    tl_data a, b;
    make_data(&a, NULL);
    make_data(&b, perm);
    tl_model *ma = fit_sequence(&a), *mb = fit_sequence(&b);
    assert_int_equal(top1(mb, &b, 10), S3);
    for (int32_t u = 0; u < N_USERS; u++) {
        float sa[N_ITEMS], sb[N_ITEMS];
        const int32_t *h = a.ui.indices + a.ui.indptr[u];
        int32_t nh = (int32_t)(a.ui.indptr[u + 1] - a.ui.indptr[u]);
        ma->ops->score(ma, u, h, NULL, nh, sa, NULL);
        mb->ops->score(mb, u, b.ui.indices + b.ui.indptr[u], NULL, nh, sb, NULL);
        assert_memory_equal(sa, sb, sizeof(sa));
    }
    tl_model_free(ma);
    tl_model_free(mb);
    tl_data_release(&a);
    tl_data_release(&b);
}

static void test_save_load_bit_exact(void **state)
{
    (void)state;
    tl_data d;
    make_data(&d, NULL);
    tl_model *m = fit_sequence(&d), *l;
    tl_diag diag = {0};
    char path[512];
    snprintf(path, sizeof(path), "%s/sequence.tlm", tl_test_tmpdir());
    assert_int_equal(tl_model_save(m, path, &diag), TL_OK);
    assert_int_equal(tl_model_load(path, &l, &diag), TL_OK);
    for (int32_t u = -1; u < N_USERS; u++) {
        int32_t r = u < 0 ? 10 : u;
        float sa[N_ITEMS], sb[N_ITEMS];
        const int32_t *h = d.ui.indices + d.ui.indptr[r];
        int32_t nh = (int32_t)(d.ui.indptr[r + 1] - d.ui.indptr[r]);
        m->ops->score(m, u, h, NULL, nh, sa, NULL);
        l->ops->score(l, u, h, NULL, nh, sb, NULL);
        assert_memory_equal(sa, sb, sizeof(sa));
    }
    assert_int_equal(top1(l, &d, 10), S3);
    tl_model_free(m);
    tl_model_free(l);
    tl_data_release(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_series_next),
        cmocka_unit_test(test_order_comes_from_timestamps),
        cmocka_unit_test(test_save_load_bit_exact),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
