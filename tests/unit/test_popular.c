/* popular: counts and summed weights, time decay that puts a recently popular item above an
 * old favourite, per-segment lists with global fallback, and a bit-exact save/load round trip. */
#include "support.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/model.h"
#include "core/models/item_models.h"

#define DAY INT64_C(86400)

typedef struct ev {
    int user, item;
    float w;
    int64_t ts;
} ev;

static void make_data(tl_data *d, int n_users, int n_items, const ev *e, int n, int with_ts)
{
    char id[32];
    int32_t idx;
    tl_coo coo;
    tl_data_init(d);
    for (int u = 0; u < n_users; u++) {
        snprintf(id, sizeof(id), "u%d", u);
        assert_int_equal(tl_intern_add(&d->users, id, strlen(id), &idx), TL_OK);
    }
    for (int i = 0; i < n_items; i++) {
        snprintf(id, sizeof(id), "i%d", i);
        assert_int_equal(tl_intern_add(&d->items, id, strlen(id), &idx), TL_OK);
    }
    assert_int_equal(tl_coo_init(&coo, n, with_ts), TL_OK);
    for (int p = 0; p < n; p++)
        assert_int_equal(tl_coo_push(&coo, e[p].user, e[p].item, e[p].w, e[p].ts), TL_OK);
    assert_int_equal(tl_data_build(d, &coo, TL_DUP_MAX), TL_OK);
    tl_coo_release(&coo);
}

/* Item 0: 6 loans a year ago. Item 1: 3 loans in the last week. Item 2: 1 loan of weight 9,
 * last month. Item 3: never. */
static int make_loans(ev *e)
{
    int n = 0;
    int64_t now = 1700000000;
    for (int u = 0; u < 6; u++)
        e[n++] = (ev){u, 0, 1.0f, now - 365 * DAY + u};
    for (int u = 0; u < 3; u++)
        e[n++] = (ev){u, 1, 1.0f, now - (int64_t)u * DAY};
    e[n++] = (ev){6, 2, 9.0f, now - 30 * DAY};
    return n;
}

static tl_model *fit_pop(const tl_data *d, const char *const *kv, int nkv)
{
    tl_model *m;
    tl_diag diag = {0};
    assert_int_equal(tl_model_new("popular", &m), TL_OK);
    for (int i = 0; i < nkv; i++)
        assert_int_equal(tl_model_set(m, kv[i], &diag), TL_OK);
    assert_int_equal(tl_model_fit(m, d, NULL, &diag), TL_OK);
    return m;
}

static void scores_of(const tl_model *m, int32_t uidx, float *s)
{
    m->ops->score(m, uidx, NULL, NULL, 0, s, NULL);
}

static void test_counts_and_weights(void **state)
{
    (void)state;
    ev e[16];
    tl_data d;
    make_data(&d, 7, 4, e, make_loans(e), 1);
    tl_model *m = fit_pop(&d, NULL, 0);
    float s[4];
    scores_of(m, -1, s);
    assert_true(s[0] == 6.0f && s[1] == 3.0f && s[2] == 1.0f && s[3] == 0.0f);
    int32_t out[4];
    int n;
    /* A user who borrowed item 0 gets the rest, most popular first. */
    int32_t hist[1] = {0};
    assert_int_equal(tl_model_recommend(m, -1, hist, NULL, 1, NULL, 4, out, NULL, &n), TL_OK);
    assert_int_equal(n, 3);
    assert_int_equal(out[0], 1);
    assert_int_equal(out[1], 2);
    tl_model_free(m);
    const char *kv[] = {"use_weights=1"};
    m = fit_pop(&d, kv, 1);
    scores_of(m, -1, s);
    assert_true(s[2] == 9.0f && s[0] == 6.0f);
    tl_model_free(m);
    tl_data_release(&d);
}

static void test_time_decay(void **state)
{
    (void)state;
    ev e[16];
    tl_data d;
    make_data(&d, 7, 4, e, make_loans(e), 1);
    /* Half-life 30 days: a year-old loan counts 2^-12; last week's count almost fully. */
    const char *kv[] = {"half_life_days=30"};
    tl_model *m = fit_pop(&d, kv, 1);
    float s[4];
    scores_of(m, -1, s);
    assert_true(s[1] > s[0]);
    assert_true(s[1] > s[2]);
    assert_float_equal(s[2], 0.5, 1e-4); /* one loan exactly one half-life before the newest */
    assert_float_equal(s[0], 6.0 * exp2(-365.0 / 30.0), 1e-5);
    tl_model_free(m);
    tl_data_release(&d);
}

static void test_decay_needs_timestamps(void **state)
{
    (void)state;
    ev e[16];
    tl_data d;
    tl_model *m;
    tl_diag diag = {0};
    make_data(&d, 7, 4, e, make_loans(e), 0);
    assert_int_equal(tl_model_new("popular", &m), TL_OK);
    assert_int_equal(tl_model_set(m, "half_life_days=7", &diag), TL_OK);
    assert_int_equal(tl_model_fit(m, &d, NULL, &diag), TL_EINVAL);
    assert_string_equal(diag.field, "half_life_days");
    tl_model_free(m);
    tl_data_release(&d);
}

static void test_segments(void **state)
{
    (void)state;
    /* Users 0-3 (segment "child") borrow item 3; users 4-9 ("adult") items 0 and 1; item 2 is
     * borrowed by user 9 only. Globally item 0/1 lead; the children's list starts with 3. */
    ev e[32];
    int n = 0;
    for (int u = 0; u < 4; u++)
        e[n++] = (ev){u, 3, 1.0f, 0};
    for (int u = 4; u < 10; u++) {
        e[n++] = (ev){u, 0, 1.0f, 0};
        e[n++] = (ev){u, 1, 1.0f, 0};
    }
    e[n++] = (ev){9, 2, 1.0f, 0};
    tl_data d;
    tl_diag diag = {0};
    make_data(&d, 11, 4, e, n, 0);
    tl_model *m = fit_pop(&d, NULL, 0);
    int32_t seg[11] = {0, 0, 0, 0, 1, 1, 1, 1, 1, 1, -1};
    const char *names[2] = {"child", "adult"};
    assert_int_equal(tl_popular_fit_segments(m, &d, seg, names, 2, &diag), TL_OK);
    assert_int_equal(tl_popular_segment_find(m, "adult"), 1);
    assert_int_equal(tl_popular_segment_find(m, "senior"), -1);
    float s[4];
    scores_of(m, 0, s); /* a child */
    assert_true(s[3] > s[0] && s[3] > s[1]);
    /* Items the children never touched are still ordered by global popularity. */
    assert_true(s[0] > s[2] && s[2] > 0.0f);
    scores_of(m, 10, s); /* no segment: the global list */
    assert_true(s[0] == 6.0f && s[3] == 4.0f);
    scores_of(m, -1, s); /* unknown user */
    assert_true(s[0] == 6.0f);
    /* A segment out of range is bad input. */
    seg[10] = 2;
    assert_int_equal(tl_popular_fit_segments(m, &d, seg, names, 2, &diag), TL_EINVAL);
    tl_model_free(m);
    tl_data_release(&d);
}

static void test_save_load_bit_exact(void **state)
{
    (void)state;
    ev e[16];
    tl_data d;
    tl_diag diag = {0};
    make_data(&d, 7, 4, e, make_loans(e), 1);
    const char *kv[] = {"half_life_days=10"};
    tl_model *m = fit_pop(&d, kv, 1), *l = NULL;
    int32_t seg[7] = {0, 1, 0, 1, -1, 0, 1};
    assert_int_equal(tl_popular_fit_segments(m, &d, seg, NULL, 2, &diag), TL_OK);
    char path[512];
    snprintf(path, sizeof(path), "%s/pop.tlm", tl_test_tmpdir());
    assert_int_equal(tl_model_save(m, path, &diag), TL_OK);
    assert_int_equal(tl_model_load(path, &l, &diag), TL_OK);
    assert_int_equal(tl_popular_segment_find(l, "1"), 1);
    for (int32_t u = -1; u < 7; u++) {
        float a[4], b[4];
        scores_of(m, u, a);
        scores_of(l, u, b);
        assert_memory_equal(a, b, sizeof(a));
    }
    for (int32_t g = -1; g < 2; g++) {
        float a[4], b[4];
        tl_popular_score_segment(m, g, a);
        tl_popular_score_segment(l, g, b);
        assert_memory_equal(a, b, sizeof(a));
    }
    tl_model_free(l);
    tl_model_free(m);
    tl_data_release(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts_and_weights),     cmocka_unit_test(test_time_decay),
        cmocka_unit_test(test_decay_needs_timestamps), cmocka_unit_test(test_segments),
        cmocka_unit_test(test_save_load_bit_exact),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
