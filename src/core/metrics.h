/* The protocol's metrics (PROTOCOL.md, Metrics), accumulated user by user exactly as
 * tools/evaluate.py computes them, plus two beyond-accuracy measures (novelty, diversity).
 * In memory and index-based, so that `tailor eval`, `tailor tune` and a model that learns on a
 * validation split (e.g. hybrid blend weights) all score the same way.
 *
 * Items are indices in [0, n_items); n_items may exceed the train matrix's columns: indices at
 * or above train->ncols are items that never occur in train (cold test items, or foreign
 * items in a recs file). */
#ifndef TL_CORE_METRICS_H
#define TL_CORE_METRICS_H

#include <stdint.h>

#include "core/csr.h"
#include "core/model.h"

#define TL_METRICS_TOPN 100 /* recommendations scored per user (ranks 1..100) */

typedef struct tl_metrics_result {
    /* Means over users with at least one test item; a user without recommendations scores 0. */
    double ndcg10, ndcg100, recall20, recall50, precision10, map10, hitrate10;
    /* Distinct items in anyone's top 10 that occur in train / distinct items in train. */
    double coverage10;
    /* novelty@10: mean over the user's top-10 items that occur in train of their
     * self-information -log2(p), p = share of train users (users with at least one train item)
     * who have the item; then the mean over users with at least one such item. Higher means
     * less popular recommendations. */
    double novelty10;
    /* diversity@10 (intra-list diversity): mean over pairs of the user's top-10 items that
     * occur in train of 1 - cosine(a, b), the cosine of the items' binary user vectors in
     * train (|users(a) & users(b)| / sqrt(|users(a)| |users(b)|)); then the mean over users
     * with at least two such items. 0 = the same audience, 1 = disjoint audiences. */
    double diversity10;
    int64_t users;                 /* users with at least one test item */
    int64_t users_without_recs;    /* of those, users with no recommendation */
    int64_t train_item_violations; /* recommended items that are in the user's train items */
    int64_t duplicate_rows;        /* repeated items in a user's list (skipped) */
    int64_t novelty_users, diversity_users; /* users the two means run over */
} tl_metrics_result;

typedef struct tl_metrics {
    const tl_csr *train; /* users x items, borrowed */
    tl_csr iu;           /* its transpose (items x users), owned */
    int32_t n_items;
    int32_t train_users; /* rows of train with at least one item */
    int64_t catalogue;   /* columns of train with at least one user */
    double sum[7];       /* ndcg10 .. hitrate10, in tl_metrics_result order */
    double novelty_sum, diversity_sum;
    int64_t users, users_without_recs, violations, duplicates, novelty_users, diversity_users;
    uint8_t *top10;  /* n_items flags: in someone's top 10 */
    uint32_t *truth; /* n_items stamps: in the current user's test set */
    uint32_t *seen;  /* n_items stamps: already in the current user's list */
    uint32_t stamp;
    uint64_t **bits; /* per train item, lazily: its users as a bitset (popular items only) */
    int64_t words;   /* uint64 words per bitset */
} tl_metrics;

/* Prepares m to score against train (users x items, borrowed: it must outlive m) with items
 * indexed in [0, n_items), n_items >= train->ncols. TL_EINVAL, TL_ENOMEM. */
tl_err tl_metrics_init(tl_metrics *m, const tl_csr *train, int32_t n_items);
void tl_metrics_release(tl_metrics *m);

/* Adds one user with at least one test item.
 * train_row: the user's row in train (for counting recommended train items), or -1 when the
 * user has none. ranked[0..n_ranked): the list best first (a negative entry ends it, as the
 * -1 padding of tl_model_recommend_rows); the first TL_METRICS_TOPN distinct items are scored,
 * repeats are counted in duplicate_rows and skipped. truth[0..n_truth): the test items
 * (repeats are ignored). TL_EINVAL for n_truth == 0, an item outside [0, n_items) or a
 * train_row outside train. */
tl_err tl_metrics_add_user(tl_metrics *m, int32_t train_row, const int32_t *ranked,
                           int32_t n_ranked, const int32_t *truth, int32_t n_truth);

/* Adds duplicate rows found before the lists reached tl_metrics_add_user (evaluate.py also
 * counts duplicates of users without test items). */
void tl_metrics_add_duplicates(tl_metrics *m, int64_t n);

/* The means so far. */
void tl_metrics_finish(const tl_metrics *m, tl_metrics_result *out);

/* Scores a trained model on a holdout in memory (e.g. a validation split from
 * tl_holdout_split): for every row of test with an item, the model recommends top_n
 * (<= TL_METRICS_TOPN) items from the user's train row as history (model user = row when
 * users_match), drawn from items that occur in train, train items excluded. Users whose train
 * row is empty get no recommendations and score 0, as a user absent from train.tsv does in
 * evaluate.py. train and test share shape and indices with the model's items; test may be
 * restricted to max_users users (the first ones in row order with a test item; 0 = all).
 * Errors: TL_EINVAL (shapes disagree), TL_ENOMEM, or the model's. */
tl_err tl_metrics_score_model(const tl_model *model, const tl_csr *train, const tl_csr *test,
                              int users_match, int top_n, int32_t max_users,
                              tl_metrics_result *out);

/* nDCG@10 of ranked[0..n) (a negative entry never hits) against the ascending, distinct truth
 * set truth[0..nt) (PROTOCOL.md): the per-user score validation searches maximize. */
double tl_ndcg10_sorted(const int32_t *ranked, int n, const int32_t *truth, int64_t nt);

#endif
