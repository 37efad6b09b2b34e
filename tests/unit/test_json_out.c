/* The server's JSON writer (src/server/json_out.c) against jansson: every string it writes
 * reads back as the text it was given (cut at the first byte that is not UTF-8), every float
 * as itself to seven digits, and a whole answer parses. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "server/json_out.h"

/* w's text (NUL-terminated) parsed by jansson; JSON_DECODE_ANY for scalars. */
static json_t *parse(tl_jw *w)
{
    assert_false(w->failed);
    json_error_t e;
    json_t *j = json_loadb(w->buf, w->len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
    if (!j)
        fail_msg("%.*s: %s", (int)w->len, w->buf, e.text);
    return j;
}

static void test_strings_read_back(void **state)
{
    (void)state;
    static const char *const texts[] = {"",
                                        "plain",
                                        "quote \" and \\ backslash",
                                        "tab\tnew\nline\rcr\bbs\fff",
                                        "\x01\x1f control",
                                        "/slash/",
                                        "Caf\xc3\xa9 \xe2\x80\x94 \xf0\x9f\x93\x9a",
                                        "\xe2\x80\xa8 line separator"};
    for (size_t k = 0; k < sizeof(texts) / sizeof(texts[0]); k++) {
        tl_jw w;
        tl__jw_init(&w, 4); /* small: the buffer grows */
        tl__jw_str(&w, texts[k]);
        json_t *j = parse(&w);
        assert_true(json_is_string(j));
        assert_string_equal(json_string_value(j), texts[k]);
        json_decref(j);
        tl__jw_free(&w);
    }
    /* cut before the first byte that is not UTF-8; NULL is null */
    tl_jw w;
    tl__jw_init(&w, 64);
    tl__jw_raw(&w, "[");
    tl__jw_str(&w, "ok\xff then");
    tl__jw_raw(&w, ",");
    tl__jw_str(&w, "\xc3");
    tl__jw_raw(&w, ",");
    tl__jw_str(&w, NULL);
    tl__jw_raw(&w, "]");
    json_t *j = parse(&w);
    assert_string_equal(json_string_value(json_array_get(j, 0)), "ok");
    assert_string_equal(json_string_value(json_array_get(j, 1)), "");
    assert_true(json_is_null(json_array_get(j, 2)));
    json_decref(j);
    tl__jw_free(&w);
}

static void test_floats(void **state)
{
    (void)state;
    static const float vals[] = {0.0f,          -0.0f, 1.0f,    3.0f,         -2.5f,
                                 0.1234567891f, 1e-7f, 3.4e38f, 123456789.0f, 1e10f};
    for (size_t k = 0; k < sizeof(vals) / sizeof(vals[0]); k++) {
        tl_jw w;
        tl__jw_init(&w, 8);
        tl__jw_float(&w, vals[k]);
        json_t *j = parse(&w);
        assert_true(json_is_real(j)); /* a number with a point or exponent, as jansson writes */
        double v = json_real_value(j);
        assert_true(fabs(v - vals[k]) <= 1e-6 * fabs((double)vals[k]));
        json_decref(j);
        tl__jw_free(&w);
    }
    /* across magnitudes, signs and rounding edges: seven digits, as printf's %.7g reads back */
    srand(7);
    for (int k = 0; k < 200000; k++) {
        float v = (float)((rand() / (double)RAND_MAX) * pow(10.0, rand() % 16 - 7));
        if (k % 2)
            v = -v;
        if (k % 1000 == 0)
            v = (float)(pow(10.0, rand() % 12 - 5) * (k % 3000 ? 1.0 : 0.99999995));
        tl_jw w;
        tl__jw_init(&w, 8);
        tl__jw_float(&w, v);
        char ref[32], got[40];
        snprintf(ref, sizeof(ref), "%.7g", (double)v);
        snprintf(got, sizeof(got), "%.*s", (int)w.len, w.buf);
        if (fabs(strtod(got, NULL) - strtod(ref, NULL)) > 1e-6 * fabs((double)v) ||
            !strpbrk(got, ".e"))
            fail_msg("%.9g: wrote %s, printf %s", (double)v, got, ref);
        tl__jw_free(&w);
    }
    tl_jw w;
    tl__jw_init(&w, 8);
    tl__jw_raw(&w, "[");
    tl__jw_float(&w, INFINITY);
    tl__jw_raw(&w, ",");
    tl__jw_float(&w, NAN);
    tl__jw_raw(&w, "]");
    json_t *j = parse(&w);
    assert_true(json_is_null(json_array_get(j, 0)));
    assert_true(json_is_null(json_array_get(j, 1)));
    json_decref(j);
    tl__jw_free(&w);
}

static void test_items(void **state)
{
    (void)state;
    tl_rec_item it[2] = {
        {.item = "b1", .title = "A \"title\"", .score = 0.5f, .kind = "history", .n_evidence = 2},
        {.item = "b2", .title = NULL, .score = 2.0f, .kind = "popular"}};
    snprintf(it[0].reason, sizeof(it[0].reason), "Because you borrowed \"X\"");
    it[0].evidence[0] = (tl_rec_evidence){.item = "x", .title = "X", .weight = 0.25f};
    it[0].evidence[1] = (tl_rec_evidence){.item = "y", .title = NULL, .weight = 0.125f};
    it[1].availability.known = 1;
    snprintf(it[1].availability.branch, sizeof(it[1].availability.branch), "C\"PL");
    it[1].availability.on_shelf_here = 2;
    tl_jw w;
    tl__jw_init(&w, 16);
    tl__jw_items(&w, it, 2);
    json_t *j = parse(&w);
    assert_int_equal(json_array_size(j), 2);
    json_t *a = json_array_get(j, 0), *b = json_array_get(j, 1);
    assert_string_equal(json_string_value(json_object_get(a, "title")), "A \"title\"");
    assert_string_equal(json_string_value(json_object_get(a, "reason")),
                        "Because you borrowed \"X\"");
    assert_true(json_real_value(json_object_get(a, "score")) == 0.5);
    json_t *ev = json_object_get(a, "evidence");
    assert_int_equal(json_array_size(ev), 2);
    assert_true(json_is_null(json_object_get(json_array_get(ev, 1), "title")));
    assert_true(json_real_value(json_object_get(json_array_get(ev, 1), "weight")) == 0.125);
    assert_true(json_is_null(json_object_get(b, "title")));
    assert_int_equal(json_array_size(json_object_get(b, "evidence")), 0);
    /* availability only where the item has holdings */
    assert_null(json_object_get(a, "availability"));
    json_t *av = json_object_get(b, "availability");
    assert_string_equal(json_string_value(json_object_get(av, "branch")), "C\"PL");
    assert_int_equal(json_integer_value(json_object_get(av, "on_shelf_here")), 2);
    assert_int_equal(json_integer_value(json_object_get(av, "on_shelf_elsewhere")), 0);
    json_decref(j);
    tl__jw_free(&w);
    tl__jw_init(&w, 16);
    tl__jw_items(&w, it, 0);
    j = parse(&w);
    assert_int_equal(json_array_size(j), 0);
    json_decref(j);
    tl__jw_free(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strings_read_back),
        cmocka_unit_test(test_floats),
        cmocka_unit_test(test_items),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
