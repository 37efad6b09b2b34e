/* content and core/text: tokenizing, stop words, Snowball stemming, phrase keys, BM25F/TF-IDF
 * weights, planted subject structure with a never-borrowed item, shared-term explanations, a
 * bit-exact save/load round trip, and the refusal to fit without a catalogue. */
#include "support.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/model.h"
#include "core/models/content.h"
#include "core/text.h"

/* ---- text ---- */

typedef struct {
    char toks[16][TL_TEXT_TOKEN_MAX + 1];
    int n;
} tok_list;

static tl_err collect(const char *tok, size_t len, void *ctx)
{
    tok_list *l = ctx;
    if (l->n < 16) {
        memcpy(l->toks[l->n], tok, len);
        l->toks[l->n][len] = '\0';
        l->n++;
    }
    return TL_OK;
}

static void test_stemming_and_tokens(void **state)
{
    (void)state;
    tl_analyzer *a;
    assert_int_equal(tl_analyzer_new("english", &a), TL_OK);
    size_t l1, l2;
    char s1[TL_TEXT_TOKEN_MAX + 1], s2[TL_TEXT_TOKEN_MAX + 1];
    const char *r = tl_analyzer_stem(a, "running", 7, &l1);
    memcpy(s1, r, l1);
    s1[l1] = '\0';
    r = tl_analyzer_stem(a, "runs", 4, &l2);
    memcpy(s2, r, l2);
    s2[l2] = '\0';
    assert_string_equal(s1, "run");
    assert_string_equal(s2, "run");

    /* Case folding (ASCII and Latin-1), possessive 's dropped, stop words and single letters
     * skipped, digits kept (series numbers), typographic punctuation separates. */
    tok_list l = {0};
    const char *t = "The Runner's RUNNING \xC3\x89t\xC3\xA9 \xE2\x80\x94 a Toy Story 2";
    assert_int_equal(tl_analyzer_words(a, t, strlen(t), collect, &l), TL_OK);
    assert_int_equal(l.n, 6);
    assert_string_equal(l.toks[0], "runner");
    assert_string_equal(l.toks[1], "run");
    assert_string_equal(l.toks[2], "\xC3\xA9t\xC3\xA9"); /* "été", lowercased */
    assert_string_equal(l.toks[3], "toy");
    assert_string_equal(l.toks[4], "stori");
    assert_string_equal(l.toks[5], "2");
    tl_analyzer_free(a);

    /* Without stemming, words pass through lowercased. */
    assert_int_equal(tl_analyzer_new("none", &a), TL_OK);
    l.n = 0;
    assert_int_equal(tl_analyzer_words(a, "Runs", 4, collect, &l), TL_OK);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.toks[0], "runs");
    tl_analyzer_free(a);
    assert_int_equal(tl_analyzer_new("klingon", &a), TL_EINVAL);

    assert_true(tl_text_is_stopword("the", 3));
    assert_true(tl_text_is_stopword("a", 1));
    assert_true(tl_text_is_stopword("yourselves", 10));
    assert_false(tl_text_is_stopword("them!", 5));
    assert_false(tl_text_is_stopword("dune", 4));
}

static void test_phrase_keys(void **state)
{
    (void)state;
    char k[64];
    assert_int_equal(tl_text_key("author:", "J. K. Rowling", 13, k, sizeof(k)), 18);
    assert_string_equal(k, "author:j-k-rowling");
    const char *s = "  Science Fiction -- Space Opera ";
    assert_true(tl_text_key("subject:", s, strlen(s), k, sizeof(k)) > 0);
    assert_string_equal(k, "subject:science-fiction-space-opera");
    assert_int_equal(tl_text_key("subject:", " -- ", 4, k, sizeof(k)), 0);
    /* Too long for the buffer: refused, not cut. */
    assert_int_equal(tl_text_key("subject:", s, strlen(s), k, 20), 0);
}

/* Three documents, one field: checks BM25 and TF-IDF by hand and the min_df pruning. */
static void test_weights_by_hand(void **state)
{
    (void)state;
    tl_text_builder b;
    tl_csr out;
    tl_intern dict;
    double fw[1] = {1.0};
    assert_int_equal(tl_text_builder_init(&b, 1), TL_OK);
    /* d0: x x y; d1: x z; d2: y q. df: x 2, y 2, z 1, q 1. */
    const char *occ[][2] = {{"0", "x"}, {"0", "x"}, {"0", "y"}, {"1", "x"},
                            {"1", "z"}, {"2", "y"}, {"2", "q"}};
    for (int i = 0; i < 7; i++)
        assert_int_equal(tl_text_builder_add(&b, occ[i][0][0] - '0', 0, occ[i][1], 1), TL_OK);
    tl_termw_opts o = {.scheme = TL_TERMW_TFIDF, .k1 = 1.2, .b = 0.75, .min_df = 2};
    assert_int_equal(tl_text_builder_weigh(&b, 3, &o, fw, &out, &dict), TL_OK);
    assert_int_equal(dict.count, 2); /* z and q link nothing */
    assert_int_equal(out.indptr[1] - out.indptr[0], 2);
    /* d0: x (1 + ln 2) idf, y 1 * idf, same idf (both df 2): normalized. */
    double x = 1 + log(2.0), y = 1.0, nrm = sqrt(x * x + y * y);
    assert_float_equal(out.data[0], x / nrm, 1e-6);
    assert_float_equal(out.data[1], y / nrm, 1e-6);
    /* d1 keeps only x: a unit vector. */
    assert_int_equal(out.indptr[2] - out.indptr[1], 1);
    assert_float_equal(out.data[out.indptr[1]], 1.0, 1e-6);
    tl_csr_release(&out);
    tl_intern_release(&dict);

    o.scheme = TL_TERMW_BM25;
    o.min_df = 1;
    assert_int_equal(tl_text_builder_weigh(&b, 3, &o, fw, &out, &dict), TL_OK);
    assert_int_equal(dict.count, 4);
    /* d0 length 3, avg (3 + 2 + 2) / 3; term x tf 2, df 2, N 3. */
    double avg = 7.0 / 3.0, norm_len = 1 - 0.75 + 0.75 * 3 / avg;
    double tx = 2 / norm_len, ty = 1 / norm_len;
    double idf = log(1 + (3 - 2 + 0.5) / (2 + 0.5));
    double wx = idf * tx * 2.2 / (tx + 1.2), wy = idf * ty * 2.2 / (ty + 1.2);
    assert_float_equal(out.data[0], wx / sqrt(wx * wx + wy * wy), 1e-6);
    assert_float_equal(out.data[1], wy / sqrt(wx * wx + wy * wy), 1e-6);
    tl_csr_release(&out);
    tl_intern_release(&dict);

    /* max_df 0.5: x and y (in 2 of 3 documents) go, z and q stay; d0 is left empty. */
    o.max_df = 0.5;
    assert_int_equal(tl_text_builder_weigh(&b, 3, &o, fw, &out, &dict), TL_OK);
    assert_int_equal(dict.count, 2);
    assert_int_equal(tl_intern_find(&dict, "x", 1), -1);
    assert_true(tl_intern_find(&dict, "z", 1) >= 0);
    assert_int_equal(out.indptr[1], 0);
    tl_csr_release(&out);
    tl_intern_release(&dict);
    tl_text_builder_release(&b);
}

/* ---- the model ---- */

/* 12 items: 0-5 are about dragons (subject fantasy), 6-11 about space (science fiction).
 * Item 5 is a new acquisition nobody has borrowed. Users 0-9 read space books (space is
 * popular); user 10 read fantasy items 0, 1, 2. */
static void make_library(tl_data *d, int with_catalog)
{
    static const char *titles[12] = {
        "Dragon Rider",      "The Last Dragon", "Dragons of Autumn",   "A Wizard's Dragons",
        "The Dragon Reborn", "Dragonflight",    "Space Cadet",         "The Space Merchants",
        "Starship Troopers", "Space Opera",     "Red Planet in Space", "The Stars My Destination",
    };
    char id[32];
    int32_t idx;
    tl_coo coo;
    tl_data_init(d);
    for (int u = 0; u < 11; u++) {
        snprintf(id, sizeof(id), "u%d", u);
        assert_int_equal(tl_intern_add(&d->users, id, strlen(id), &idx), TL_OK);
    }
    for (int i = 0; i < 12; i++) {
        snprintf(id, sizeof(id), "i%d", i);
        assert_int_equal(tl_intern_add(&d->items, id, strlen(id), &idx), TL_OK);
    }
    if (with_catalog) {
        assert_int_equal(tl_catalog_reserve(&d->cat, 12), TL_OK);
        for (int i = 0; i < 12; i++) {
            d->cat.title[i] = strdup(titles[i]);
            d->cat.subjects[i] = strdup(i < 6 ? "Fantasy|Dragons" : "Science Fiction|Space");
            d->cat.creators[i] = strdup(i % 2 ? "Anne McCaffrey" : "Robert A. Heinlein");
        }
    }
    assert_int_equal(tl_coo_init(&coo, 64, 0), TL_OK);
    for (int u = 0; u < 10; u++)
        for (int i = 6; i < 12; i++)
            if ((u + i) % 3)
                assert_int_equal(tl_coo_push(&coo, u, i, 1.0f, 0), TL_OK);
    for (int i = 0; i < 3; i++)
        assert_int_equal(tl_coo_push(&coo, 10, i, 1.0f, 0), TL_OK);
    assert_int_equal(tl_coo_push(&coo, 0, 3, 1.0f, 0), TL_OK);
    assert_int_equal(tl_coo_push(&coo, 1, 4, 1.0f, 0), TL_OK);
    assert_int_equal(tl_data_build(d, &coo, TL_DUP_MAX), TL_OK);
    tl_coo_release(&coo);
}

static tl_model *fit_content(const tl_data *d, const char *kv)
{
    tl_model *m;
    tl_diag diag = {0};
    assert_int_equal(tl_model_new("content", &m), TL_OK);
    if (kv)
        assert_int_equal(tl_model_set(m, kv, &diag), TL_OK);
    assert_int_equal(tl_model_fit(m, d, NULL, &diag), TL_OK);
    return m;
}

static void test_planted_subjects_reach_cold_item(void **state)
{
    (void)state;
    const char *schemes[2] = {"weighting=bm25", "weighting=tfidf"};
    for (int s = 0; s < 2; s++) {
        tl_data d;
        make_library(&d, 1);
        tl_model *m = fit_content(&d, schemes[s]);
        const int32_t *hist = d.ui.indices + d.ui.indptr[10];
        int32_t nh = (int32_t)(d.ui.indptr[11] - d.ui.indptr[10]);
        int32_t top[3];
        float sc[3];
        int got;
        assert_int_equal(tl_model_recommend(m, 10, hist, d.ui.data + d.ui.indptr[10], nh, NULL, 3,
                                            top, sc, &got),
                         TL_OK);
        assert_int_equal(got, 3);
        /* The three other fantasy items, the never-borrowed item 5 among them, beat the popular
         * space books. */
        int seen5 = 0;
        for (int k = 0; k < 3; k++) {
            assert_true(top[k] >= 3 && top[k] <= 5);
            seen5 |= top[k] == 5;
        }
        assert_true(seen5);
        assert_true(d.iu.indptr[6] == d.iu.indptr[5]); /* item 5 really is cold */

        /* Evidence: a shared subject key, and the history items behind it. */
        const char *terms[4];
        float contrib[4];
        int nt = tl_content_explain_terms(m, hist, NULL, nh, 5, terms, contrib, 4);
        assert_true(nt >= 2);
        int subj = 0;
        for (int k = 0; k < nt; k++) {
            subj |= strcmp(terms[k], "subject:fantasy") == 0;
            assert_true(k == 0 || contrib[k] <= contrib[k - 1]);
        }
        assert_true(subj);
        int32_t why[3];
        float wc[3];
        int nw = m->ops->explain(m, 10, hist, NULL, nh, 5, why, wc, 3);
        assert_int_equal(nw, 3);
        assert_true(wc[0] > 0 && wc[0] >= wc[1] && wc[1] >= wc[2]);
        /* The contributions sum to the cosine part of the score. */
        float full[12], scratch[64];
        assert_true(m->ops->scratch_floats(m) <= 64);
        m->ops->score(m, 10, hist, NULL, nh, full, scratch);
        assert_float_equal(wc[0] + wc[1] + wc[2], full[5], 0.011); /* 0.01: popularity prior */
        tl_model_free(m);
        tl_data_release(&d);
    }
}

static void test_title_words_link_items(void **state)
{
    (void)state;
    tl_data d;
    make_library(&d, 1);
    /* Titles only: "Dragons"/"Dragon" stem alike, so item 2 is closer to 0 than space books. */
    tl_model *m;
    tl_diag diag = {0};
    assert_int_equal(tl_model_new("content", &m), TL_OK);
    assert_int_equal(tl_model_set(m, "w_subjects=0", &diag), TL_OK);
    assert_int_equal(tl_model_set(m, "w_creators=0", &diag), TL_OK);
    assert_int_equal(tl_model_set(m, "pop_weight=0", &diag), TL_OK);
    assert_int_equal(tl_model_fit(m, &d, NULL, &diag), TL_OK);
    int32_t hist[1] = {0};
    float s[12], scratch[64];
    m->ops->score(m, -1, hist, NULL, 1, s, scratch);
    assert_true(s[2] > 0.1f);
    assert_true(s[8] == 0.0f); /* "Starship Troopers" shares no word */
    tl_model_free(m);
    tl_data_release(&d);
}

static void test_save_load_bit_exact(void **state)
{
    (void)state;
    tl_data d;
    make_library(&d, 1);
    tl_model *m = fit_content(&d, NULL), *l;
    tl_diag diag = {0};
    char path[512];
    snprintf(path, sizeof(path), "%s/content.tlm", tl_test_tmpdir());
    assert_int_equal(tl_model_save(m, path, &diag), TL_OK);
    assert_int_equal(tl_model_load(path, &l, &diag), TL_OK);
    assert_ptr_equal(l->ops, m->ops);
    int32_t hist[3] = {0, 7, 11};
    float w[3] = {1.0f, 2.0f, 0.5f};
    float a[12], b[12], scratch[64];
    m->ops->score(m, -1, hist, w, 3, a, scratch);
    l->ops->score(l, -1, hist, w, 3, b, scratch);
    assert_memory_equal(a, b, sizeof(a));
    const char *ta[2], *tb[2];
    float ca[2], cb[2];
    int na = tl_content_explain_terms(m, hist, w, 3, 9, ta, ca, 2);
    int nb = tl_content_explain_terms(l, hist, w, 3, 9, tb, cb, 2);
    assert_int_equal(na, nb);
    assert_true(na > 0);
    for (int k = 0; k < na; k++)
        assert_string_equal(ta[k], tb[k]);
    tl_model_free(m);
    tl_model_free(l);

    /* A damaged file is refused. */
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    assert_int_equal(fseek(f, -8, SEEK_END), 0);
    fputc('x', f);
    fclose(f);
    assert_int_not_equal(tl_model_load(path, &l, &diag), TL_OK);
    tl_data_release(&d);
}

static void test_refuses_without_catalogue(void **state)
{
    (void)state;
    tl_data d;
    tl_model *m;
    tl_diag diag = {0};
    make_library(&d, 0);
    assert_int_equal(tl_model_new("content", &m), TL_OK);
    assert_int_equal(tl_model_fit(m, &d, NULL, &diag), TL_EINVAL);
    assert_string_equal(diag.msg, "content needs item metadata: pass --items items.tsv");
    tl_diag_clear(&diag);
    tl_model_free(m);
    tl_data_release(&d);

    /* A bad weighting or stemmer is named. */
    make_library(&d, 1);
    assert_int_equal(tl_model_new("content", &m), TL_OK);
    assert_int_equal(tl_model_set(m, "weighting=lsi", &diag), TL_OK);
    assert_int_equal(tl_model_fit(m, &d, NULL, &diag), TL_EINVAL);
    assert_string_equal(diag.field, "weighting");
    assert_int_equal(tl_model_set(m, "weighting=bm25", &diag), TL_OK);
    assert_int_equal(tl_model_set(m, "language=klingon", &diag), TL_OK);
    assert_int_equal(tl_model_fit(m, &d, NULL, &diag), TL_EINVAL);
    assert_string_equal(diag.field, "language");
    tl_model_free(m);
    tl_data_release(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stemming_and_tokens),
        cmocka_unit_test(test_phrase_keys),
        cmocka_unit_test(test_weights_by_hand),
        cmocka_unit_test(test_planted_subjects_reach_cold_item),
        cmocka_unit_test(test_title_words_link_items),
        cmocka_unit_test(test_save_load_bit_exact),
        cmocka_unit_test(test_refuses_without_catalogue),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
