/* Text analysis: a byte-level UTF-8 tokenizer with ASCII/Latin-1 case folding, the Snowball
 * stemmers of libstemmer, English stop words, phrase keys, and fielded TF-IDF / BM25F weights.
 * Used by the content model; kept apart so that search and other models can share it. */
#include "core/text.h"

#include <assert.h>
#include <libstemmer.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct tl_analyzer {
    struct sb_stemmer *stem; /* NULL: no stemming */
    char word[TL_TEXT_TOKEN_MAX + 8];
};

/* The Snowball English stop list, apostrophe forms left out (the tokenizer splits at
 * apostrophes), plus the "ll"/"ve" fragments that splitting leaves. Sorted (strcmp order). */
static const char *const stop_words[] = {
    "a",          "about",  "above", "after", "again",   "against", "all",     "am",
    "an",         "and",    "any",   "are",   "as",      "at",      "be",      "because",
    "been",       "before", "being", "below", "between", "both",    "but",     "by",
    "can",        "could",  "did",   "do",    "does",    "doing",   "down",    "during",
    "each",       "few",    "for",   "from",  "further", "had",     "has",     "have",
    "having",     "he",     "her",   "here",  "hers",    "herself", "him",     "himself",
    "his",        "how",    "i",     "if",    "in",      "into",    "is",      "it",
    "its",        "itself", "just",  "ll",    "me",      "more",    "most",    "my",
    "myself",     "no",     "nor",   "not",   "now",     "of",      "off",     "on",
    "once",       "only",   "or",    "other", "ought",   "our",     "ours",    "ourselves",
    "out",        "over",   "own",   "same",  "she",     "should",  "so",      "some",
    "such",       "than",   "that",  "the",   "their",   "theirs",  "them",    "themselves",
    "then",       "there",  "these", "they",  "this",    "those",   "through", "to",
    "too",        "under",  "until", "up",    "ve",      "very",    "was",     "we",
    "were",       "what",   "when",  "where", "which",   "while",   "who",     "whom",
    "why",        "will",   "with",  "would", "you",     "your",    "yours",   "yourself",
    "yourselves",
};
#define N_STOP ((int)(sizeof(stop_words) / sizeof(stop_words[0])))

static int cmp_word(const char *w, size_t n, const char *s)
{
    size_t sl = strlen(s);
    int c = memcmp(w, s, n < sl ? n : sl);
    if (c)
        return c;
    return n < sl ? -1 : n > sl;
}

int tl_text_is_stopword(const char *w, size_t n)
{
#ifndef NDEBUG
    for (int i = 1; i < N_STOP; i++)
        assert(strcmp(stop_words[i - 1], stop_words[i]) < 0);
#endif
    int lo = 0, hi = N_STOP - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        int c = cmp_word(w, n, stop_words[mid]);
        if (c == 0)
            return 1;
        if (c < 0)
            hi = mid - 1;
        else
            lo = mid + 1;
    }
    return 0;
}

tl_err tl_analyzer_new(const char *language, tl_analyzer **out)
{
    tl_analyzer *a = calloc(1, sizeof(*a));
    if (!a)
        return TL_ENOMEM;
    if (language && *language && strcmp(language, "none") != 0) {
        a->stem = sb_stemmer_new(language, NULL);
        if (!a->stem) {
            free(a);
            return TL_EINVAL; /* libstemmer also returns NULL on ENOMEM; unknown is likelier */
        }
    }
    *out = a;
    return TL_OK;
}

void tl_analyzer_free(tl_analyzer *a)
{
    if (!a)
        return;
    if (a->stem)
        sb_stemmer_delete(a->stem);
    free(a);
}

const char *tl_analyzer_stem(tl_analyzer *a, const char *word, size_t n, size_t *out_len)
{
    if (a->stem && n <= TL_TEXT_TOKEN_MAX) {
        const sb_symbol *s = sb_stemmer_stem(a->stem, (const sb_symbol *)word, (int)n);
        if (s) {
            *out_len = (size_t)sb_stemmer_length(a->stem);
            return (const char *)s;
        }
    }
    size_t k = n < TL_TEXT_TOKEN_MAX ? n : TL_TEXT_TOKEN_MAX;
    memcpy(a->word, word, k);
    a->word[k] = '\0';
    *out_len = k;
    return a->word;
}

/* Character classes of the tokenizer. */
enum { C_SEP, C_WORD, C_APOS };

/* Classifies the character at s[0..n): returns its class, its byte length in *len, and writes
 * its lowercase bytes to low (up to 4). Invalid UTF-8 bytes are separators of length 1. */
static int classify(const unsigned char *s, size_t n, size_t *len, unsigned char *low)
{
    unsigned char c = s[0];
    *len = 1;
    if (c < 0x80) {
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
            low[0] = c;
            return C_WORD;
        }
        if (c >= 'A' && c <= 'Z') {
            low[0] = (unsigned char)(c + 32);
            return C_WORD;
        }
        return c == '\'' ? C_APOS : C_SEP;
    }
    size_t k = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
    if (!k || k > n)
        return C_SEP;
    for (size_t i = 1; i < k; i++)
        if ((s[i] & 0xC0) != 0x80)
            return C_SEP;
    *len = k;
    if (c == 0xC2)
        return C_SEP; /* U+0080..U+00BF: controls, no-break space, Latin-1 punctuation */
    if (c == 0xC3 && (s[1] == 0x97 || s[1] == 0xB7))
        return C_SEP; /* multiplication and division signs */
    if (c == 0xE2 && s[1] == 0x80 && s[2] == 0x99)
        return C_APOS; /* right single quotation mark, the typographic apostrophe */
    if (c == 0xE2 && (s[1] == 0x80 || s[1] == 0x81))
        return C_SEP; /* U+2000..U+207F: spaces, dashes, quotes, bullets */
    memcpy(low, s, k);
    if (c == 0xC3 && s[1] >= 0x80 && s[1] <= 0x9E)
        low[1] = (unsigned char)(s[1] + 0x20); /* Latin-1 capitals to small letters */
    return C_WORD;
}

static tl_err emit(tl_analyzer *a, const char *w, size_t n, tl_token_fn fn, void *ctx)
{
    if (!n || (n == 1 && w[0] >= 'a' && w[0] <= 'z') || tl_text_is_stopword(w, n))
        return TL_OK;
    size_t sl;
    const char *s = tl_analyzer_stem(a, w, n, &sl);
    return sl ? fn(s, sl, ctx) : TL_OK;
}

tl_err tl_analyzer_words(tl_analyzer *a, const char *text, size_t n, tl_token_fn fn, void *ctx)
{
    const unsigned char *s = (const unsigned char *)text;
    char buf[TL_TEXT_TOKEN_MAX + 8];
    size_t len = 0, i = 0;
    int too_long = 0;
    tl_err rc = TL_OK;
    while (i < n && rc == TL_OK) {
        size_t cl;
        unsigned char low[4];
        int cls = classify(s + i, n - i, &cl, low);
        if (cls == C_WORD) {
            if (len + cl > TL_TEXT_TOKEN_MAX)
                too_long = 1;
            else
                memcpy(buf + len, low, cl);
            len += too_long ? 0 : cl;
            i += cl;
            continue;
        }
        if (cls == C_APOS && len) {
            /* "'s" closing a word is a possessive: drop it with the apostrophe. */
            size_t j = i + cl;
            if (j < n && (s[j] == 's' || s[j] == 'S')) {
                size_t nl;
                unsigned char nlow[4];
                if (j + 1 >= n || classify(s + j + 1, n - j - 1, &nl, nlow) != C_WORD)
                    cl += 1;
            }
        }
        if (!too_long)
            rc = emit(a, buf, len, fn, ctx);
        len = 0;
        too_long = 0;
        i += cl;
    }
    if (rc == TL_OK && !too_long)
        rc = emit(a, buf, len, fn, ctx);
    return rc;
}

size_t tl_text_key(const char *prefix, const char *phrase, size_t n, char *out, size_t cap)
{
    size_t pl = strlen(prefix), len = pl, i = 0;
    int dash = 0, any = 0;
    if (pl + 2 > cap)
        return 0;
    memcpy(out, prefix, pl);
    const unsigned char *s = (const unsigned char *)phrase;
    while (i < n) {
        size_t cl;
        unsigned char low[4];
        int cls = classify(s + i, n - i, &cl, low);
        i += cl;
        if (cls != C_WORD) {
            dash = any;
            continue;
        }
        if (len + cl + (size_t)dash + 1 > cap)
            return 0;
        if (dash)
            out[len++] = '-';
        memcpy(out + len, low, cl);
        len += cl;
        dash = 0;
        any = 1;
    }
    out[len] = '\0';
    return any ? len : 0;
}

tl_err tl_text_builder_init(tl_text_builder *b, int n_fields)
{
    assert(n_fields > 0 && n_fields <= TL_TEXT_FIELDS_MAX);
    memset(b, 0, sizeof(*b));
    b->n_fields = n_fields;
    tl_intern_init(&b->terms);
    return TL_OK;
}

void tl_text_builder_release(tl_text_builder *b)
{
    tl_intern_release(&b->terms);
    free(b->doc);
    free(b->term);
    free(b->field);
    memset(b, 0, sizeof(*b));
}

tl_err tl_text_builder_add(tl_text_builder *b, int32_t doc, int field, const char *term, size_t len)
{
    assert(doc >= 0 && field >= 0 && field < b->n_fields);
    if (b->n == b->cap) {
        int64_t cap = b->cap ? b->cap * 2 : 1024;
        int32_t *d = realloc(b->doc, (size_t)cap * sizeof(*d));
        if (!d)
            return TL_ENOMEM;
        b->doc = d;
        int32_t *t = realloc(b->term, (size_t)cap * sizeof(*t));
        if (!t)
            return TL_ENOMEM;
        b->term = t;
        uint8_t *f = realloc(b->field, (size_t)cap);
        if (!f)
            return TL_ENOMEM;
        b->field = f;
        b->cap = cap;
    }
    int32_t t;
    tl_err rc = tl_intern_add(&b->terms, term, len, &t);
    if (rc != TL_OK)
        return rc;
    b->doc[b->n] = doc;
    b->term[b->n] = t;
    b->field[b->n] = (uint8_t)field;
    b->n++;
    return TL_OK;
}

/* Occurrence keys within one document: term then field, so that a term's fields are adjacent. */
static int cmp_occ(const void *pa, const void *pb)
{
    uint64_t a = *(const uint64_t *)pa, b = *(const uint64_t *)pb;
    return a < b ? -1 : a > b;
}

tl_err tl_text_builder_weigh(const tl_text_builder *b, int32_t n_docs, const tl_termw_opts *o,
                             const double *field_w, tl_csr *out, tl_intern *dict)
{
    tl_err rc = TL_ENOMEM;
    int nf = b->n_fields;
    int32_t nt = b->terms.count;
    int64_t *dptr = calloc((size_t)n_docs + 1, sizeof(*dptr));
    uint64_t *occ = malloc((size_t)(b->n ? b->n : 1) * sizeof(*occ));
    int32_t *df = calloc((size_t)nt + 1, sizeof(*df));
    int32_t *remap = malloc(((size_t)nt + 1) * sizeof(*remap));
    int64_t *flen = calloc((size_t)n_docs * (size_t)nf + 1, sizeof(*flen));
    tl_csr r = {0};
    tl_intern kept;
    tl_intern_init(&kept);
    double avg[TL_TEXT_FIELDS_MAX] = {0};
    int64_t have[TL_TEXT_FIELDS_MAX] = {0};
    if (!dptr || !occ || !df || !remap || !flen)
        goto out;

    /* Bucket the occurrences by document (fields of weight 0 are dropped here), then sort each
     * document's (term, field) keys. */
    for (int64_t k = 0; k < b->n; k++)
        if (b->doc[k] < n_docs && field_w[b->field[k]] > 0)
            dptr[b->doc[k] + 1]++;
    for (int32_t d = 0; d < n_docs; d++)
        dptr[d + 1] += dptr[d];
    {
        int64_t *fill = malloc((size_t)(n_docs ? n_docs : 1) * sizeof(*fill));
        if (!fill)
            goto out;
        memcpy(fill, dptr, (size_t)n_docs * sizeof(*fill));
        for (int64_t k = 0; k < b->n; k++)
            if (b->doc[k] < n_docs && field_w[b->field[k]] > 0)
                occ[fill[b->doc[k]]++] = (uint64_t)b->term[k] << 8 | b->field[k];
        free(fill);
    }
    int32_t n_nonempty = 0;
    for (int32_t d = 0; d < n_docs; d++) {
        int64_t lo = dptr[d], hi = dptr[d + 1];
        if (hi == lo)
            continue;
        n_nonempty++;
        qsort(occ + lo, (size_t)(hi - lo), sizeof(*occ), cmp_occ);
        for (int64_t k = lo; k < hi; k++) {
            flen[(size_t)d * (size_t)nf + (occ[k] & 0xFF)]++;
            if (k == lo || occ[k] >> 8 != occ[k - 1] >> 8)
                df[occ[k] >> 8]++;
        }
    }
    for (int32_t d = 0; d < n_docs; d++)
        for (int f = 0; f < nf; f++)
            if (flen[(size_t)d * (size_t)nf + (size_t)f]) {
                avg[f] += (double)flen[(size_t)d * (size_t)nf + (size_t)f];
                have[f]++;
            }
    for (int f = 0; f < nf; f++)
        avg[f] = have[f] ? avg[f] / (double)have[f] : 1.0;

    /* Keep the terms that can link documents, in their original order (so columns stay sorted). */
    int32_t n_kept = 0;
    for (int32_t t = 0; t < nt; t++) {
        remap[t] = -1;
        if (df[t] >= (o->min_df > 1 ? o->min_df : 1) &&
            (o->max_df <= 0 || o->max_df >= 1 || df[t] <= o->max_df * n_nonempty)) {
            int32_t idx;
            if ((rc = tl_intern_add(&kept, tl_intern_str(&b->terms, t), tl_intern_len(&b->terms, t),
                                    &idx)) != TL_OK)
                goto out;
            remap[t] = n_kept++;
        }
    }

    /* Count the output entries, then fill them. */
    rc = TL_ENOMEM;
    r.nrows = n_docs;
    r.ncols = n_kept;
    if (!(r.indptr = calloc((size_t)n_docs + 1, sizeof(*r.indptr))))
        goto out;
    for (int32_t d = 0; d < n_docs; d++) {
        int64_t c = 0;
        for (int64_t k = dptr[d]; k < dptr[d + 1]; k++)
            if ((k == dptr[d] || occ[k] >> 8 != occ[k - 1] >> 8) && remap[occ[k] >> 8] >= 0)
                c++;
        r.indptr[d + 1] = r.indptr[d] + c;
    }
    r.nnz = r.indptr[n_docs];
    r.indices = malloc((size_t)(r.nnz ? r.nnz : 1) * sizeof(*r.indices));
    r.data = malloc((size_t)(r.nnz ? r.nnz : 1) * sizeof(*r.data));
    if (!r.indices || !r.data)
        goto out;
    double N = n_nonempty;
    for (int32_t d = 0; d < n_docs; d++) {
        int64_t pos = r.indptr[d];
        double ss = 0;
        const int64_t *dl = flen + (size_t)d * (size_t)nf;
        for (int64_t k = dptr[d]; k < dptr[d + 1];) {
            int32_t t = (int32_t)(occ[k] >> 8);
            double x = 0;
            int64_t e = k;
            while (e < dptr[d + 1] && (int32_t)(occ[e] >> 8) == t) {
                int64_t s = e;
                int f = (int)(occ[s] & 0xFF);
                while (e < dptr[d + 1] && occ[e] == occ[s])
                    e++;
                int64_t tf = e - s;
                if (o->scheme == TL_TERMW_BM25)
                    x += field_w[f] * (double)tf / (1.0 - o->b + o->b * (double)dl[f] / avg[f]);
                else
                    x += field_w[f] * (1.0 + log((double)tf));
            }
            k = e;
            if (remap[t] < 0)
                continue;
            double wt;
            if (o->scheme == TL_TERMW_BM25) {
                double idf = log(1.0 + (N - df[t] + 0.5) / (df[t] + 0.5));
                wt = idf * x * (o->k1 + 1.0) / (x + o->k1);
            } else {
                wt = x * (log((1.0 + N) / (1.0 + df[t])) + 1.0);
            }
            r.indices[pos] = remap[t];
            r.data[pos] = (float)wt;
            ss += wt * wt;
            pos++;
        }
        if (ss > 0) {
            float inv = (float)(1.0 / sqrt(ss));
            for (int64_t k = r.indptr[d]; k < pos; k++)
                r.data[k] *= inv;
        }
    }
    *out = r;
    memset(&r, 0, sizeof(r));
    *dict = kept;
    tl_intern_init(&kept);
    rc = TL_OK;
out:
    tl_csr_release(&r);
    tl_intern_release(&kept);
    free(dptr);
    free(occ);
    free(df);
    free(remap);
    free(flen);
    return rc;
}
