/* autotune and the grid syntax: parsing and its errors, a search that is deterministic and
 * sized in work (a small budget samples users, the same way every time), caller-set
 * parameters respected, time decay searched only with timestamps, progress reported and a
 * cancel honoured, and tailor's fit hooks wiring it all. */
#include "support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/model.h"
#include "eval/autotune.h"
#include "eval/grid.h"
#include "synth/synth.h"

static void test_grid_syntax(void **state)
{
    (void)state;
    tl_grid g;
    tl_diag diag = {0};
    assert_int_equal(tl_grid_parse("k=50,200,1000;shrink=~10;lambda=~30@200", &g, &diag), TL_OK);
    assert_int_equal(g.n, 3);
    assert_int_equal(g.ax[0].kind, TL_AXIS_VALUES);
    assert_int_equal(g.ax[0].n, 3);
    assert_string_equal(g.ax[0].values[2], "1000");
    assert_int_equal(g.ax[1].kind, TL_AXIS_LOG);
    assert_float_equal(g.ax[1].span, 10, 0);
    assert_float_equal(g.ax[1].centre, 0, 0);
    assert_float_equal(g.ax[2].centre, 200, 0);
    assert_int_equal(tl_grid_find(&g, "shrink"), 1);
    assert_int_equal(tl_grid_find(&g, "nope"), -1);

    const char *bad[] = {"k", "k=", "=5", "k=1,,2", "k=1,", "k=~1", "k=~x", "k=~10@-1", "k=1;k=2"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(&diag, 0, sizeof(diag));
        assert_int_equal(tl_grid_parse(bad[i], &g, &diag), TL_EINVAL);
        assert_string_equal(diag.field, "grid");
        assert_true(diag.msg[0] != '\0');
    }
}

/* 3000 users x 400 items with planted taste, optionally with timestamps. */
static void make_data(tl_data *d, int with_ts)
{
    tl_synth_opts o = {.users = 3000,
                       .items = 150,
                       .events = 15000,
                       .zipf = 0.8,
                       .activity_sigma = 0.6,
                       .seed = 5};
    tl_data_init(d);
    assert_int_equal(tl_synth_powerlaw(&o, d), TL_OK);
    if (!with_ts) {
        free(d->ui.ts);
        free(d->iu.ts);
        d->ui.ts = d->iu.ts = NULL;
    }
}

typedef struct probe {
    int calls, cancel_after;
    char last[96];
} probe;

static void on_progress(void *ctx, const char *stage, double done)
{
    probe *p = ctx;
    p->calls++;
    assert_true(done >= 0 && done <= 1);
    snprintf(p->last, sizeof(p->last), "%s", stage);
}

static int on_cancelled(void *ctx)
{
    probe *p = ctx;
    return p->cancel_after && p->calls >= p->cancel_after;
}

static tl_model *tuned(const char *name, const tl_data *d, double budget, const char *set)
{
    tl_model *m;
    tl_diag diag = {0};
    assert_int_equal(tl_model_new(name, &m), TL_OK);
    if (set)
        assert_int_equal(tl_model_set(m, set, &diag), TL_OK);
    assert_int_equal(tl_autotune_budget(m, d, NULL, budget, &diag), TL_OK);
    return m;
}

static void test_work_budget_samples_deterministically(void **state)
{
    (void)state;
    tl_data d;
    make_data(&d, 0);
    /* A budget far below one fit's work: the search runs on a sample of the users. */
    tl_model *a = tuned("itemknn", &d, 1e3, NULL), *b = tuned("itemknn", &d, 1e3, NULL);
    assert_non_null(strstr(a->tuned, "a sample"));
    assert_string_equal(a->tuned, b->tuned); /* the same choice, the same scores */
    assert_float_equal(tl_params_num(&a->params, "k"), tl_params_num(&b->params, "k"), 0);
    /* The full budget: no sample, and the chosen value was marked as a default. */
    tl_model *c = tuned("itemknn", &d, TL_AUTOTUNE_WORK, NULL);
    assert_null(strstr(c->tuned, "a sample"));
    assert_non_null(strstr(c->tuned, "random x2"));
    assert_false(tl_params_is_set(&c->params, "k"));
    tl_model_free(a);
    tl_model_free(b);
    tl_model_free(c);
    tl_data_release(&d);
}

static void test_caller_choice_and_decay(void **state)
{
    (void)state;
    tl_data d;
    make_data(&d, 0);
    tl_model *m = tuned("ease", &d, TL_AUTOTUNE_WORK, "lambda=77");
    assert_string_equal(m->tuned, ""); /* the caller chose: nothing searched */
    assert_float_equal(tl_params_num(&m->params, "lambda"), 77, 0);
    tl_model_free(m);
    /* No timestamps: no decay axis. */
    m = tuned("ease", &d, TL_AUTOTUNE_WORK, NULL);
    assert_non_null(strstr(m->tuned, "lambda="));
    assert_null(strstr(m->tuned, "half_life_days"));
    tl_model_free(m);
    tl_data_release(&d);

    make_data(&d, 1);
    m = tuned("ease", &d, TL_AUTOTUNE_WORK, NULL);
    assert_non_null(strstr(m->tuned, "half_life_days="));
    assert_non_null(strstr(m->tuned, "random + temporal"));
    assert_int_equal(m->half_life_set, 0);
    tl_model_free(m);
    /* A model that never reads weights is not searched for decay; a decay the caller set
     * stays. */
    m = tuned("sequence", &d, TL_AUTOTUNE_WORK, NULL);
    assert_null(strstr(m->tuned, "half_life_days"));
    tl_model_free(m);
    m = tuned("ease", &d, TL_AUTOTUNE_WORK, "half_life_days=3");
    assert_null(strstr(m->tuned, "half_life_days"));
    assert_float_equal(m->half_life_days, 3, 0);
    tl_model_free(m);
    tl_data_release(&d);
}

/* tune_split picks the validation split(s); without timestamps every choice is random. */
static void test_tune_split(void **state)
{
    (void)state;
    tl_data d;
    make_data(&d, 1);
    static const struct {
        const char *set, *want;
    } cases[] = {{"tune_split=random", "random x2"},
                 {"tune_split=temporal", "temporal split"},
                 {"tune_split=both", "random + temporal"}};
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        tl_model *m = tuned("itemknn", &d, TL_AUTOTUNE_WORK, cases[k].set);
        if (!strstr(m->tuned, cases[k].want))
            fail_msg("%s: '%s' does not say '%s'", cases[k].set, m->tuned, cases[k].want);
        tl_model_free(m);
    }
    tl_model *m = tuned("sequence", &d, TL_AUTOTUNE_WORK, NULL); /* order-aware: temporal */
    assert_non_null(strstr(m->tuned, "temporal split"));
    tl_model_free(m);
    tl_data_release(&d);
    make_data(&d, 0);
    m = tuned("itemknn", &d, TL_AUTOTUNE_WORK, "tune_split=temporal");
    assert_non_null(strstr(m->tuned, "random x2"));
    tl_diag diag = {0};
    assert_int_equal(tl_model_set(m, "tune_split=sideways", &diag), TL_EINVAL);
    assert_non_null(strstr(diag.msg, "expected auto, random, temporal or both"));
    tl_model_free(m);
    tl_data_release(&d);
}

static void test_hooks_progress_and_cancel(void **state)
{
    (void)state;
    tl_data d;
    tl_diag diag = {0};
    make_data(&d, 0);
    probe p = {0};
    tl_fit_hooks h = {
        .progress = on_progress, .cancelled = on_cancelled, .tune = tl_autotune_hook, .ctx = &p};
    tl_model *m;
    assert_int_equal(tl_model_new("itemknn", &m), TL_OK);
    assert_int_equal(tl_model_fit(m, &d, &h, &diag), TL_OK);
    assert_true(p.calls > 3);
    assert_non_null(strstr(m->tuned, "k="));
    assert_non_null(strstr(p.last, "autotune itemknn"));
    tl_model_free(m);

    /* A cancel during the search, and one between iALS epochs (no tuning). */
    p = (probe){.cancel_after = 2};
    assert_int_equal(tl_model_new("itemknn", &m), TL_OK);
    assert_int_equal(tl_model_fit(m, &d, &h, &diag), TL_ECANCELED);
    assert_null(m->state);
    tl_model_free(m);
    p = (probe){.cancel_after = 3};
    h.tune = NULL;
    assert_int_equal(tl_model_new("ials", &m), TL_OK);
    assert_int_equal(tl_model_set(m, "factors=8", &diag), TL_OK);
    assert_int_equal(tl_model_fit(m, &d, &h, &diag), TL_ECANCELED);
    assert_string_equal(p.last, "ials epoch 3/15");
    assert_null(m->state);
    tl_model_free(m);
    tl_data_release(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grid_syntax),
        cmocka_unit_test(test_work_budget_samples_deterministically),
        cmocka_unit_test(test_caller_choice_and_decay),
        cmocka_unit_test(test_tune_split),
        cmocka_unit_test(test_hooks_progress_and_cancel),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
