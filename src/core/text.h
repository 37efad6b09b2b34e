/* Text analysis for content-based models (core layer, no I/O): UTF-8 word tokenizing, English
 * stop words, Snowball stemming (libstemmer), whole-phrase keys such as "subject:science-fiction",
 * and the fielded term weighting (TF-IDF or BM25F) that turns documents into L2-normalized
 * sparse vectors over a term dictionary. */
#ifndef TL_CORE_TEXT_H
#define TL_CORE_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "core/csr.h"
#include "util/intern.h"

/* Longest token kept, in bytes; longer runs (URLs, ISBN lists) are dropped, not cut. */
#define TL_TEXT_TOKEN_MAX 64

/* A tokenizer + stemmer. Not thread-safe (the Snowball stemmer keeps state): one per thread. */
typedef struct tl_analyzer tl_analyzer;

/* language: a Snowball algorithm name ("english", "french", ...) or "none" for no stemming.
 * TL_EINVAL when libstemmer does not know the language, TL_ENOMEM. */
tl_err tl_analyzer_new(const char *language, tl_analyzer **out);
void tl_analyzer_free(tl_analyzer *a);

/* Called once per token; a non-TL_OK return stops the walk and is passed back. */
typedef tl_err (*tl_token_fn)(const char *tok, size_t len, void *ctx);

/* Splits text[0..n) (UTF-8) into words: runs of letters, digits and non-ASCII letters, lowercased
 * (ASCII and Latin-1), "'s" possessives dropped, other apostrophes split words. Stop words and
 * single letters are skipped; the rest are stemmed and handed to fn (the token is valid only
 * during the call). Returns TL_OK or fn's first error. */
tl_err tl_analyzer_words(tl_analyzer *a, const char *text, size_t n, tl_token_fn fn, void *ctx);

/* Stems one lowercase word; the result (NUL-terminated) is valid until the next call on a. */
const char *tl_analyzer_stem(tl_analyzer *a, const char *word, size_t n, size_t *out_len);

/* 1 when the lowercase word w[0..n) is an English stop word. */
int tl_text_is_stopword(const char *w, size_t n);

/* A whole-phrase key: prefix followed by phrase lowercased, with every run of characters other
 * than letters and digits turned into one '-' and none at either end ("author:", "J. K. Rowling"
 * -> "author:j-k-rowling"). Writes a NUL-terminated key to out[0..cap) and returns its length,
 * or 0 when the phrase has no letter or digit or the key would not fit. */
size_t tl_text_key(const char *prefix, const char *phrase, size_t n, char *out, size_t cap);

/* Term weighting schemes. */
typedef enum tl_termw {
    TL_TERMW_TFIDF, /* sum over fields of w_f (1 + ln tf_f), times idf = ln((1+N)/(1+df)) + 1 */
    TL_TERMW_BM25,  /* BM25F: x = sum_f w_f tf_f / (1 - b + b len_f/avglen_f);
                       idf ln(1 + (N-df+.5)/(df+.5)) * x (k1+1)/(x+k1) */
} tl_termw;

typedef struct tl_termw_opts {
    tl_termw scheme;
    double k1, b;
    int min_df;    /* terms found in fewer documents are dropped (they cannot link two items) */
    double max_df; /* terms found in more than this fraction of documents are dropped (0 = keep
                      all): they say little and their postings dominate scoring time */
} tl_termw_opts;

#define TL_TEXT_FIELDS_MAX 8

/* Collects (document, field, term) occurrences, then weighs them into document vectors. */
typedef struct tl_text_builder {
    int n_fields;
    tl_intern terms;
    int32_t *doc, *term;
    uint8_t *field;
    int64_t n, cap;
} tl_text_builder;

tl_err tl_text_builder_init(tl_text_builder *b, int n_fields);
void tl_text_builder_release(tl_text_builder *b);
/* One occurrence of term[0..len) in field of doc (doc >= 0, 0 <= field < n_fields). */
tl_err tl_text_builder_add(tl_text_builder *b, int32_t doc, int field, const char *term,
                           size_t len);

/* Weighs the occurrences into out: n_docs x n_terms, rows L2-normalized, columns ascending,
 * and dict: the kept terms (index = column). field_w[0..n_fields) weighs each field; a field
 * of weight 0 is ignored. Documents with no kept term have empty rows. The builder is left
 * as it was. out and dict are initialized here and owned by the caller. */
tl_err tl_text_builder_weigh(const tl_text_builder *b, int32_t n_docs, const tl_termw_opts *o,
                             const double *field_w, tl_csr *out, tl_intern *dict);

#endif
