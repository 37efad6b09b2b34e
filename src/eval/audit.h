/* An audit of what a model recommends, for a librarian (docs/AUDIT.md has every definition):
 * how much of the catalogue is shown at all, how unequally, how popular the shown items are
 * next to what patrons borrow, how varied each list is, and which subjects get the exposure.
 * The metrics read plain arrays of item indices, so that any list (a model's top-n, a
 * re-ranked one) is audited by the same code against the model's training histories. */
#ifndef TL_EVAL_AUDIT_H
#define TL_EVAL_AUDIT_H

#include <stdint.h>

#include "core/model.h"

#define TL_AUDIT_TOP_SUBJECTS 15   /* subjects reported, most recommended first */
#define TL_AUDIT_LORENZ_POINTS 101 /* the Lorenz curve at 0%, 1%, ..., 100% of the items */
#define TL_AUDIT_HEAD_SHARE 0.2    /* the head: the most popular items, 20% of the loans */

typedef struct tl_audit_subject {
    char *name;                 /* as first spelled in the catalogue (malloc'd) */
    int64_t recs, items, loans; /* recommendations, catalogue items and loans carrying it */
    double rec_share;           /* recs / all recommendations */
    double item_share;          /* items / all catalogue items */
    double loan_share;          /* loans / all loans */
} tl_audit_subject;

/* Each pair of doubles "recs" / "loans" is the same measure over the recommendations and over
 * the training histories (the loans), the baseline a librarian compares against. */
typedef struct tl_audit_report {
    int32_t n_lists, n_items; /* lists audited; items the model can recommend */
    int n;                    /* slots per list */
    int64_t n_recs;           /* recommendations: filled slots */
    int64_t n_loans;          /* entries of the training histories */
    int32_t n_patrons;        /* patrons in the training histories (novelty's denominator) */
    int32_t empty_lists;      /* lists with no item at all */
    /* catalogue coverage: items recommended at least once, and their share of n_items */
    int32_t items_recommended;
    double coverage;
    /* Gini coefficient of the items' counts (0 = equal, (n-1)/n = one item has all) */
    double gini_recs, gini_loans;
    /* Lorenz curves: [k] = share of the recommendations (loans) that go to the k% least
     * recommended (borrowed) items */
    double lorenz_recs[TL_AUDIT_LORENZ_POINTS], lorenz_loans[TL_AUDIT_LORENZ_POINTS];
    /* mean popularity percentile (0-100, mid-rank among the catalogue's items) */
    double pop_pct_recs, pop_pct_loans;
    /* long tail: the share outside the head items; the head's size and its share of loans
     * (at least TL_AUDIT_HEAD_SHARE: items tied with the last one taken are in it too) */
    int32_t head_items;
    double head_loan_share;
    double tail_recs, tail_loans;
    /* novelty: mean -log2(patrons with the item / n_patrons), in bits */
    double novelty_recs, novelty_loans;
    /* intra-list diversity: mean pairwise Jaccard distance of subjects within a list, averaged
     * over the lists with two or more items that have subjects (has_subjects 0: the catalogue
     * has none, and ild and the subjects below are not measured) */
    int has_subjects;
    double ild;
    int32_t ild_lists, ild_lists_skipped; /* lists measured; lists with fewer than 2 */
    int64_t recs_without_subjects;        /* recommendations skipped: no subjects */
    int32_t n_subjects;                   /* distinct subjects in the catalogue */
    int n_top;
    tl_audit_subject top[TL_AUDIT_TOP_SUBJECTS];
} tl_audit_report;

/* Audits lists: n_lists rows of n item indices of m (row-major), best first, -1 for an empty
 * slot; the histories and the catalogue's subjects come from m. Errors: TL_EINVAL (an index
 * out of range, n < 1, no recommendation at all: diag says which), TL_EUNSUPPORTED (m has no
 * training histories), TL_ENOMEM. out is released on error; tl_audit_release frees it. */
tl_err tl_audit_lists(const tl_model *m, const int32_t *lists, int32_t n_lists, int n,
                      tl_audit_report *out, tl_diag *diag);
void tl_audit_release(tl_audit_report *r);

/* The metrics one by one, for callers with their own counts. */
/* Gini coefficient of counts[0..n) (>= 0): 0 when all are equal or all zero. */
double tl_audit_gini(const int64_t *counts, int32_t n);
/* Jaccard distance 1 - |a & b| / |a | b| of two sorted sets of ids (0 for two empty sets). */
double tl_audit_jaccard_distance(const int32_t *a, int na, const int32_t *b, int nb);

#endif
