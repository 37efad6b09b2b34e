/* content: items as TF-IDF or BM25F vectors over their catalogue metadata (title and description
 * words stemmed; creators, subjects, decade and language as whole keys), L2-normalized and kept
 * as an item x term CSR plus its transpose (the inverted index). A user's profile is the weighted
 * centroid of the items in their history; an item scores its cosine with the profile. Items that
 * nobody has used yet score like any other: this is the content route to cold start. */
#include "core/models/content.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/text.h"

enum { F_TITLE, F_DESCRIPTION, F_CREATORS, F_SUBJECTS, F_YEAR, F_LANGUAGE, N_FIELDS };

typedef struct content_cfg {
    const char *weighting;
    double k1, b;
    double w_title, w_description, w_creators, w_subjects, w_year, w_language;
    const char *language;
    int min_df;
    double max_df, pop_weight;
} content_cfg;

static const tl_param_def params[] = {
    TL_PARAM(content_cfg, weighting, "bm25", 0, 0,
             "term weights: bm25 (BM25F over the fields) or tfidf"),
    TL_PARAM(content_cfg, k1, "1.2", 0, 100, "BM25 term-frequency saturation"),
    TL_PARAM(content_cfg, b, "0.75", 0, 1, "BM25 field-length normalization"),
    TL_PARAM(content_cfg, w_title, "1", 0, 100, "weight of title words (stemmed)"),
    TL_PARAM(content_cfg, w_description, "0.5", 0, 100,
             "weight of description words (stemmed; the catalogue has no description field yet)"),
    TL_PARAM(content_cfg, w_creators, "1", 0, 100, "weight of creator keys (author:j-k-rowling)"),
    TL_PARAM(content_cfg, w_subjects, "1", 0, 100,
             "weight of subject keys (subject:science-fiction)"),
    TL_PARAM(content_cfg, w_year, "0", 0, 100, "weight of the decade key (decade:1990)"),
    TL_PARAM(content_cfg, w_language, "0", 0, 100, "weight of the language key (lang:eng)"),
    TL_PARAM(content_cfg, language, "english", 0, 0, "Snowball stemmer for words, or none"),
    TL_PARAM(content_cfg, min_df, "2", 1, 1e9,
             "drop terms found in fewer items (they link nothing)"),
    TL_PARAM(content_cfg, max_df, "1", 0, 1,
             "drop terms found in more than this share of items (1 = keep all; lower it on large "
             "catalogues: common terms say little and their postings dominate scoring time)"),
    TL_PARAM(content_cfg, pop_weight, "0.01", 0, 1000,
             "adds pop_weight * log(1+users)/log(1+max users): breaks ties toward borrowed items"),
};

/* Items tokenized per parallel round: bounds the token buffers held at once. */
#define CHUNK_ITEMS 2048
/* Longest whole key ("subject:..."), in bytes; longer subject headings are dropped. */
#define KEY_MAX 160

typedef struct state {
    int32_t n_items, n_terms;
    tl_csr it;       /* item x term, rows L2-normalized */
    tl_csr ti;       /* term x item: the inverted index */
    float *prior;    /* n_items popularity tie-break, or NULL */
    tl_intern terms; /* term strings (index = column), always owned */
    char *packed;    /* terms packed for the model file */
    uint64_t packed_len;
    int64_t dims[2];
    int owned; /* arrays are malloc'd (fit) rather than in the mapping (load) */
} state;

/* ---- metadata to tokens ---- */

/* The description of item i. tl_catalog has no description yet: the field is wired through
 * tokenizing and weighting so that adding `char **description` to tl_catalog is a one-line
 * change here. */
static const char *item_description(const tl_catalog *c, int32_t i)
{
    (void)c;
    (void)i;
    return NULL;
}

typedef struct tokbuf {
    char *p;
    size_t len, cap;
} tokbuf;

/* Appends one token as [field][length][bytes]. */
static tl_err tb_put(tokbuf *tb, int field, const char *s, size_t n)
{
    if (n == 0 || n > 255)
        return TL_OK;
    if (tb->len + n + 2 > tb->cap) {
        size_t cap = tb->cap ? tb->cap * 2 : 256;
        while (cap < tb->len + n + 2)
            cap *= 2;
        char *p = realloc(tb->p, cap);
        if (!p)
            return TL_ENOMEM;
        tb->p = p;
        tb->cap = cap;
    }
    tb->p[tb->len++] = (char)field;
    tb->p[tb->len++] = (char)n;
    memcpy(tb->p + tb->len, s, n);
    tb->len += n;
    return TL_OK;
}

typedef struct word_ctx {
    tokbuf *tb;
    int field;
} word_ctx;

static tl_err on_word(const char *tok, size_t len, void *ctx)
{
    word_ctx *c = ctx;
    return tb_put(c->tb, c->field, tok, len);
}

/* Each '|'-separated entry of list as prefix + key. Subject headings with " -- " subdivisions
 * ("Fiction -- Fantasy") also give the key of each leading part, so broader headings match. */
static tl_err put_keys(tokbuf *tb, int field, const char *prefix, const char *list, int prefixes)
{
    char key[KEY_MAX];
    tl_err rc = TL_OK;
    while (list && *list && rc == TL_OK) {
        const char *bar = strchr(list, '|');
        size_t n = bar ? (size_t)(bar - list) : strlen(list);
        if (prefixes) {
            for (size_t k = 0; k + 1 < n && rc == TL_OK; k++) {
                if (list[k] == '-' && list[k + 1] == '-') {
                    size_t kl = tl_text_key(prefix, list, k, key, sizeof(key));
                    if (kl)
                        rc = tb_put(tb, field, key, kl);
                }
            }
        }
        size_t kl = tl_text_key(prefix, list, n, key, sizeof(key));
        if (kl && rc == TL_OK)
            rc = tb_put(tb, field, key, kl);
        list = bar ? bar + 1 : NULL;
    }
    return rc;
}

static tl_err tokenize_item(tl_analyzer *a, const tl_catalog *c, int32_t i, const double *fw,
                            tokbuf *tb)
{
    tl_err rc = TL_OK;
    word_ctx wc = {tb, F_TITLE};
    if (fw[F_TITLE] > 0 && c->title && c->title[i])
        rc = tl_analyzer_words(a, c->title[i], strlen(c->title[i]), on_word, &wc);
    const char *desc = item_description(c, i);
    wc.field = F_DESCRIPTION;
    if (rc == TL_OK && fw[F_DESCRIPTION] > 0 && desc)
        rc = tl_analyzer_words(a, desc, strlen(desc), on_word, &wc);
    if (rc == TL_OK && fw[F_CREATORS] > 0 && c->creators)
        rc = put_keys(tb, F_CREATORS, "author:", c->creators[i], 0);
    if (rc == TL_OK && fw[F_SUBJECTS] > 0 && c->subjects)
        rc = put_keys(tb, F_SUBJECTS, "subject:", c->subjects[i], 1);
    if (rc == TL_OK && fw[F_LANGUAGE] > 0 && c->language)
        rc = put_keys(tb, F_LANGUAGE, "lang:", c->language[i], 0);
    if (rc == TL_OK && fw[F_YEAR] > 0 && c->year && c->year[i]) {
        char key[32];
        int kl = snprintf(key, sizeof(key), "decade:%d", c->year[i] - (c->year[i] % 10 + 10) % 10);
        rc = tb_put(tb, F_YEAR, key, (size_t)kl);
    }
    return rc;
}

static int has_metadata(const tl_catalog *c, int32_t n_items)
{
    int32_t n = c->n < n_items ? c->n : n_items;
    for (int32_t i = 0; i < n; i++)
        if ((c->title && c->title[i]) || (c->creators && c->creators[i]) ||
            (c->subjects && c->subjects[i]) || item_description(c, i))
            return 1;
    return 0;
}

int tl_content_applicable(const tl_data *d)
{
    return has_metadata(&d->cat, d->items.count);
}

/* Tokenizes every catalogued item into b: threads stem in parallel (one stemmer each), then one
 * thread interns the tokens in item order, so term numbering does not depend on scheduling. */
static tl_err collect_terms(const tl_catalog *c, int32_t n_items, const char *language,
                            const double *fw, tl_text_builder *b)
{
    int nth = omp_get_max_threads();
    int32_t n = c->n < n_items ? c->n : n_items;
    tl_analyzer **an = calloc((size_t)nth, sizeof(tl_analyzer *));
    tokbuf *bufs = calloc(CHUNK_ITEMS, sizeof(*bufs));
    tl_err rc = TL_ENOMEM;
    if (!an || !bufs)
        goto out;
    for (int t = 0; t < nth; t++)
        if ((rc = tl_analyzer_new(language, &an[t])) != TL_OK)
            goto out;
    for (int32_t c0 = 0; c0 < n && rc == TL_OK; c0 += CHUNK_ITEMS) {
        int32_t nc = n - c0 < CHUNK_ITEMS ? n - c0 : CHUNK_ITEMS;
        int failed = 0;
#pragma omp parallel for schedule(dynamic, 32)
        for (int32_t k = 0; k < nc; k++) {
            bufs[k].len = 0;
            if (tokenize_item(an[omp_get_thread_num()], c, c0 + k, fw, &bufs[k]) != TL_OK) {
#pragma omp atomic write
                failed = 1;
            }
        }
        if (failed) {
            rc = TL_ENOMEM;
            goto out;
        }
        for (int32_t k = 0; k < nc && rc == TL_OK; k++) {
            const char *p = bufs[k].p;
            for (size_t off = 0; off < bufs[k].len && rc == TL_OK;) {
                int field = (unsigned char)p[off];
                size_t len = (unsigned char)p[off + 1];
                rc = tl_text_builder_add(b, c0 + k, field, p + off + 2, len);
                off += len + 2;
            }
        }
    }
out:
    for (int t = 0; an && t < nth; t++)
        tl_analyzer_free(an[t]);
    free(an);
    for (int k = 0; bufs && k < CHUNK_ITEMS; k++)
        free(bufs[k].p);
    free(bufs);
    return rc;
}

static void release(tl_model *m)
{
    state *st = m->state;
    if (!st)
        return;
    if (st->owned) {
        tl_csr_release(&st->it);
        tl_csr_release(&st->ti);
        free(st->prior);
        free(st->packed);
    }
    tl_intern_release(&st->terms);
    free(st);
    m->state = NULL;
}

static tl_err fit(tl_model *m, const tl_data *d, tl_diag *diag)
{
    const content_cfg *cfg = m->cfg;
    tl_text_builder b;
    tl_text_builder_init(&b, N_FIELDS);
    tl_err rc = TL_EINVAL;
    state *st = NULL;
    const char *wname = cfg->weighting;
    tl_termw_opts o = {.k1 = cfg->k1, .b = cfg->b, .min_df = cfg->min_df, .max_df = cfg->max_df};
    double fw[N_FIELDS] = {
        [F_TITLE] = cfg->w_title,       [F_DESCRIPTION] = cfg->w_description,
        [F_CREATORS] = cfg->w_creators, [F_SUBJECTS] = cfg->w_subjects,
        [F_YEAR] = cfg->w_year,         [F_LANGUAGE] = cfg->w_language,
    };
    if (strcmp(wname, "bm25") == 0) {
        o.scheme = TL_TERMW_BM25;
    } else if (strcmp(wname, "tfidf") == 0) {
        o.scheme = TL_TERMW_TFIDF;
    } else {
        tl_diag_set(diag, NULL, 0, "weighting", "'%s' is not tfidf or bm25", wname);
        goto out;
    }
    if (!has_metadata(&d->cat, m->n_items)) {
        tl_diag_set(diag, NULL, 0, NULL, "content needs item metadata: pass --items items.tsv");
        goto out;
    }
    tl_analyzer *probe;
    if ((rc = tl_analyzer_new(cfg->language, &probe)) != TL_OK) {
        if (rc == TL_EINVAL)
            tl_diag_set(diag, NULL, 0, "language", "'%s' is not a Snowball stemmer (or none)",
                        cfg->language);
        goto out;
    }
    tl_analyzer_free(probe);
    rc = TL_ENOMEM;
    if (!(st = calloc(1, sizeof(*st))))
        goto out;
    st->owned = 1;
    tl_intern_init(&st->terms);
    if ((rc = collect_terms(&d->cat, m->n_items, cfg->language, fw, &b)) != TL_OK)
        goto out;
    if ((rc = tl_text_builder_weigh(&b, m->n_items, &o, fw, &st->it, &st->terms)) != TL_OK)
        goto out;
    if (st->it.nnz == 0) {
        rc = TL_EINVAL;
        tl_diag_set(diag, NULL, 0, NULL,
                    "content: no metadata term is shared by %d or more items; nothing to compare",
                    o.min_df);
        goto out;
    }
    if ((rc = tl_csr_transpose(&st->it, &st->ti)) != TL_OK)
        goto out;
    st->n_items = m->n_items;
    st->n_terms = st->it.ncols;
    double pw = cfg->pop_weight;
    if (pw > 0 && d->iu.nrows == m->n_items) {
        rc = TL_ENOMEM;
        if (!(st->prior = malloc((size_t)m->n_items * sizeof(float))))
            goto out;
        int64_t maxc = 0;
        for (int32_t i = 0; i < m->n_items; i++) {
            int64_t c = d->iu.indptr[i + 1] - d->iu.indptr[i];
            maxc = c > maxc ? c : maxc;
        }
        for (int32_t i = 0; i < m->n_items; i++) {
            double c = (double)(d->iu.indptr[i + 1] - d->iu.indptr[i]);
            st->prior[i] = maxc ? (float)(pw * log1p(c) / log1p((double)maxc)) : 0.0f;
        }
    }
    size_t plen;
    if ((rc = tl_intern_pack(&st->terms, &st->packed, &plen)) != TL_OK)
        goto out;
    st->packed_len = plen;
    m->state = st;
    st = NULL;
    rc = TL_OK;
out:
    if (st) {
        m->state = st;
        release(m);
    }
    tl_text_builder_release(&b);
    return rc;
}

/* ---- scoring ---- */

static size_t scratch_floats(const tl_model *m)
{
    const state *st = m->state;
    return (size_t)st->n_terms + 1; /* never 0: score() always gets a buffer */
}

/* prof (n_terms, zeroed) += sum of w_h * item vectors; returns the number of items used. */
static int32_t accumulate(const state *st, const int32_t *items, const float *w, int32_t n,
                          float *prof)
{
    int32_t used = 0;
    for (int32_t h = 0; h < n; h++) {
        int32_t i = items[h];
        float wh = w ? w[h] : 1.0f;
        if (i < 0 || i >= st->n_items || !(wh > 0))
            continue;
        for (int64_t k = st->it.indptr[i]; k < st->it.indptr[i + 1]; k++)
            prof[st->it.indices[k]] += wh * st->it.data[k];
        used++;
    }
    return used;
}

static tl_err score(const tl_model *m, int32_t uidx, const int32_t *items, const float *w,
                    int32_t n, float *scores, float *scratch)
{
    (void)uidx;
    const state *st = m->state;
    float *prof = scratch;
    memset(prof, 0, (size_t)st->n_terms * sizeof(float));
    memset(scores, 0, (size_t)st->n_items * sizeof(float));
    accumulate(st, items, w, n, prof);
    /* Walk the profile's terms through the history again: each term's postings are added
     * once, then the term is zeroed, so no list of touched terms is needed. */
    double norm2 = 0;
    for (int32_t h = 0; h < n; h++) {
        int32_t i = items[h];
        if (i < 0 || i >= st->n_items)
            continue;
        for (int64_t k = st->it.indptr[i]; k < st->it.indptr[i + 1]; k++) {
            int32_t t = st->it.indices[k];
            float pt = prof[t];
            if (pt == 0.0f)
                continue;
            norm2 += (double)pt * pt;
            for (int64_t q = st->ti.indptr[t]; q < st->ti.indptr[t + 1]; q++)
                scores[st->ti.indices[q]] += pt * st->ti.data[q];
            prof[t] = 0.0f;
        }
    }
    float inv = norm2 > 0 ? (float)(1.0 / sqrt(norm2)) : 0.0f;
    for (int32_t j = 0; j < st->n_items; j++)
        scores[j] = scores[j] * inv + (st->prior ? st->prior[j] : 0.0f);
    return TL_OK;
}

/* Dot product of two sorted sparse rows. */
static double row_dot(const tl_csr *a, int32_t r1, int32_t r2)
{
    int64_t x = a->indptr[r1], xe = a->indptr[r1 + 1];
    int64_t y = a->indptr[r2], ye = a->indptr[r2 + 1];
    double s = 0;
    while (x < xe && y < ye) {
        if (a->indices[x] < a->indices[y]) {
            x++;
        } else if (a->indices[x] > a->indices[y]) {
            y++;
        } else {
            s += (double)a->data[x++] * a->data[y++];
        }
    }
    return s;
}

/* The profile of the history (malloc'd, n_terms) and its norm; NULL on ENOMEM. */
static float *profile_of(const state *st, const int32_t *items, const float *w, int32_t n,
                         double *norm)
{
    float *prof = calloc((size_t)st->n_terms + 1, sizeof(float));
    if (!prof)
        return NULL;
    accumulate(st, items, w, n, prof);
    double s = 0;
    for (int32_t t = 0; t < st->n_terms; t++)
        s += (double)prof[t] * prof[t];
    *norm = sqrt(s);
    return prof;
}

/* Keeps the max largest (value, index) pairs, strongest first; returns how many. */
static int keep_top(float v, int32_t id, int32_t *ids, float *vals, int have, int max)
{
    if (!(v > 0) || max <= 0)
        return have;
    if (have == max && v <= vals[have - 1])
        return have;
    int k = have < max ? have++ : have - 1;
    while (k > 0 && vals[k - 1] < v) {
        vals[k] = vals[k - 1];
        ids[k] = ids[k - 1];
        k--;
    }
    vals[k] = v;
    ids[k] = id;
    return have;
}

static int explain(const tl_model *m, int32_t uidx, const int32_t *items, const float *w, int32_t n,
                   int32_t item, int32_t *why, float *contrib, int max)
{
    (void)uidx;
    const state *st = m->state;
    if (item < 0 || item >= st->n_items)
        return 0;
    double norm;
    float *prof = profile_of(st, items, w, n, &norm);
    int got = 0;
    if (!prof)
        return 0;
    for (int32_t h = 0; h < n && norm > 0; h++) {
        int32_t i = items[h];
        float wh = w ? w[h] : 1.0f;
        if (i < 0 || i >= st->n_items || !(wh > 0))
            continue;
        float c = (float)(wh * row_dot(&st->it, i, item) / norm);
        got = keep_top(c, h, why, contrib, got, max);
    }
    free(prof);
    return got;
}

int tl_content_explain_terms(const tl_model *m, const int32_t *items, const float *w, int32_t n,
                             int32_t item, const char **terms, float *contrib, int max)
{
    if (!m || m->ops != &tl_content_ops || !m->state)
        return 0;
    const state *st = m->state;
    if (item < 0 || item >= st->n_items || max <= 0)
        return 0;
    double norm;
    float *prof = profile_of(st, items, w, n, &norm);
    int32_t *ids = malloc((size_t)max * sizeof(*ids));
    int got = 0;
    if (prof && ids && norm > 0)
        for (int64_t k = st->it.indptr[item]; k < st->it.indptr[item + 1]; k++) {
            int32_t t = st->it.indices[k];
            got = keep_top((float)(prof[t] * st->it.data[k] / norm), t, ids, contrib, got, max);
        }
    for (int k = 0; k < got; k++)
        terms[k] = tl_intern_str(&st->terms, ids[k]);
    free(prof);
    free(ids);
    return got;
}

size_t tl_content_n_terms(const tl_model *m)
{
    return m && m->ops == &tl_content_ops && m->state ? scratch_floats(m) : 0;
}

int tl_content_score_items(const tl_model *m, const int32_t *items, const float *w, int32_t n,
                           const int32_t *targets, int nt, float *out, float *prof)
{
    if (!m || m->ops != &tl_content_ops || !m->state)
        return -1;
    const state *st = m->state;
    accumulate(st, items, w, n, prof);
    for (int k = 0; k < nt; k++) {
        int32_t j = targets[k];
        double s = 0;
        for (int64_t q = j >= 0 && j < st->n_items ? st->it.indptr[j] : 0;
             j >= 0 && j < st->n_items && q < st->it.indptr[j + 1]; q++)
            s += (double)prof[st->it.indices[q]] * st->it.data[q];
        out[k] = (float)s;
    }
    /* the norm over the profile's terms, zeroing each once counted (as score() does) */
    double norm2 = 0;
    for (int32_t h = 0; h < n; h++) {
        int32_t i = items[h];
        for (int64_t k = i >= 0 && i < st->n_items ? st->it.indptr[i] : 0;
             i >= 0 && i < st->n_items && k < st->it.indptr[i + 1]; k++) {
            float pt = prof[st->it.indices[k]];
            norm2 += (double)pt * pt;
            prof[st->it.indices[k]] = 0.0f;
        }
    }
    float inv = norm2 > 0 ? (float)(1.0 / sqrt(norm2)) : 0.0f;
    for (int k = 0; k < nt; k++)
        out[k] *= inv;
    return 0;
}

/* ---- model file ---- */

static tl_err save(const tl_model *m, tl_mfile_writer *w)
{
    state *st = m->state;
    st->dims[0] = st->n_items;
    st->dims[1] = st->n_terms;
    tl_err rc;
    if ((rc = tl_mfile_add(w, "content.dims", TL_MT_I64, st->dims, 2)) ||
        (rc = tl_mfile_add(w, "content.it.ptr", TL_MT_I64, st->it.indptr,
                           (uint64_t)st->n_items + 1)) ||
        (rc = tl_mfile_add(w, "content.it.idx", TL_MT_I32, st->it.indices, (uint64_t)st->it.nnz)) ||
        (rc = tl_mfile_add(w, "content.it.val", TL_MT_F32, st->it.data, (uint64_t)st->it.nnz)) ||
        (rc = tl_mfile_add(w, "content.ti.ptr", TL_MT_I64, st->ti.indptr,
                           (uint64_t)st->n_terms + 1)) ||
        (rc = tl_mfile_add(w, "content.ti.idx", TL_MT_I32, st->ti.indices, (uint64_t)st->ti.nnz)) ||
        (rc = tl_mfile_add(w, "content.ti.val", TL_MT_F32, st->ti.data, (uint64_t)st->ti.nnz)) ||
        (rc = tl_mfile_add(w, "content.terms", TL_MT_BYTES, st->packed, st->packed_len)))
        return rc;
    if (st->prior)
        rc = tl_mfile_add(w, "content.prior", TL_MT_F32, st->prior, (uint64_t)st->n_items);
    return rc;
}

/* Points a CSR into the mapping after checking its shape: monotone row pointers that end at
 * nnz and column indices within ncols, so a damaged file cannot send score() out of bounds. */
static int map_csr(const tl_mfile *f, const char *base, int32_t nrows, int32_t ncols, tl_csr *a)
{
    char name[TL_MFILE_NAME_MAX];
    uint64_t np, ni, nv;
    snprintf(name, sizeof(name), "%s.ptr", base);
    const int64_t *ptr = tl_mfile_get(f, name, TL_MT_I64, &np);
    snprintf(name, sizeof(name), "%s.idx", base);
    const int32_t *idx = tl_mfile_get(f, name, TL_MT_I32, &ni);
    snprintf(name, sizeof(name), "%s.val", base);
    const float *val = tl_mfile_get(f, name, TL_MT_F32, &nv);
    if (!ptr || !idx || !val || np != (uint64_t)nrows + 1 || ni != nv || ptr[0] != 0 ||
        ptr[nrows] != (int64_t)ni)
        return 0;
    for (int32_t r = 0; r < nrows; r++)
        if (ptr[r + 1] < ptr[r])
            return 0;
    for (uint64_t k = 0; k < ni; k++)
        if (idx[k] < 0 || idx[k] >= ncols)
            return 0;
    a->nrows = nrows;
    a->ncols = ncols;
    a->nnz = (int64_t)ni;
    a->indptr = (int64_t *)ptr;
    a->indices = (int32_t *)idx;
    a->data = (float *)val;
    a->ts = NULL;
    return 1;
}

static tl_err load(tl_model *m, const tl_mfile *f, tl_diag *diag)
{
    tl_err rc = TL_ENOMEM;
    state *st = calloc(1, sizeof(*st));
    if (!st)
        return rc;
    tl_intern_init(&st->terms);
    rc = TL_ECORRUPT;
    uint64_t n, nt;
    const int64_t *dims = tl_mfile_get(f, "content.dims", TL_MT_I64, &n);
    const char *terms = tl_mfile_get(f, "content.terms", TL_MT_BYTES, &nt);
    if (!dims || n != 2 || dims[0] != m->n_items || dims[1] < 0 || dims[1] > INT32_MAX || !terms) {
        tl_diag_set(diag, NULL, 0, NULL, "content: missing or malformed sections");
        goto out;
    }
    st->n_items = m->n_items;
    st->n_terms = (int32_t)dims[1];
    if (!map_csr(f, "content.it", st->n_items, st->n_terms, &st->it) ||
        !map_csr(f, "content.ti", st->n_terms, st->n_items, &st->ti)) {
        tl_diag_set(diag, NULL, 0, NULL, "content: malformed term matrices");
        goto out;
    }
    const float *prior = tl_mfile_get(f, "content.prior", TL_MT_F32, &n);
    if (prior && n != (uint64_t)st->n_items) {
        tl_diag_set(diag, NULL, 0, NULL, "content: malformed prior");
        goto out;
    }
    st->prior = (float *)prior;
    st->packed = (char *)terms;
    st->packed_len = nt;
    if ((rc = tl_intern_unpack(&st->terms, terms, nt, st->n_terms)) != TL_OK) {
        if (rc != TL_ENOMEM) {
            rc = TL_ECORRUPT;
            tl_diag_set(diag, NULL, 0, NULL, "content: malformed term dictionary");
        }
        goto out;
    }
    m->state = st;
    st = NULL;
    rc = TL_OK;
out:
    if (st) {
        tl_intern_release(&st->terms);
        free(st);
    }
    return rc;
}

const tl_model_ops tl_content_ops = {
    .name = "content",
    .summary = "catalogue metadata (TF-IDF/BM25, stemmed); cosine to the user's profile",
    TL_MODEL_PARAMS(params, content_cfg),
    .ignores_weights = 1,
    .fit = fit,
    .scratch_floats = scratch_floats,
    .score = score,
    .save = save,
    .load = load,
    .release = release,
    .explain = explain,
};
