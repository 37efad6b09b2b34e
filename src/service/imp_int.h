/* Private to src/service: impressions (impressions.c) and the learners behind the homepage's row
 * order and the cards' editions. What a response showed is queued in memory and written by a
 * background thread in one transaction per batch; rewards update the bandits online. */
#ifndef TL_SERVICE_IMP_INT_H
#define TL_SERVICE_IMP_INT_H

#include "core/bandit.h"
#include "service/history.h"
#include "tailor/service.h"
#include "tailor/store.h"

/* The kinds of a homepage's rows (the bandit's arms), then the one decision of the other
 * surfaces; their names are the export's. */
enum {
    TL__ROW_EXAMS,
    TL__ROW_FOR_YOU,
    TL__ROW_EVENTS,
    TL__ROW_SEASON,
    TL__ROW_BECAUSE,
    TL__ROW_SERIES,
    TL__ROW_NEW,
    TL__ROW_LISTS,
    TL__ROW_LIKE_YOU,
    TL__ROW_SEGMENT,
    TL__ROW_TRENDING,
    TL__ROW_POPULAR,
    TL__ROW_KINDS, /* the arms */
    TL__KIND_RECOMMENDATIONS = TL__ROW_KINDS,
    TL__KIND_SEARCH,
    TL__KINDS
};
enum { TL__SURFACE_HOME, TL__SURFACE_RECOMMENDATIONS, TL__SURFACE_SEARCH };

#define TL__EDITION_DIM 8       /* an edition's features (editions in homepage.c) */
#define TL__EDITIONS_MAX 16     /* editions of one work a card chooses among */
#define TL__BANDIT_EXTRA_ROWS 0 /* rows built beyond those asked, for the bandit to choose */

const char *tl__kind_name(int kind);
/* 1 when hay (may be NULL) contains needle, ignoring case. */
int tl__has_word(const char *hay, const char *needle);
/* The kind of a homepage row id ("because:ITEM": TL__ROW_BECAUSE), -1 when unknown. */
int tl__row_kind(const char *row_id);

/* The request's context (exp_shared: TL_CTX_DIM features) and its parts as logged. */
typedef struct tl__imp_ctx {
    int weekday, exam, term, mobile;
    double activity;
    double x[TL_CTX_DIM];
} tl__imp_ctx;
void tl__imp_context(tl_service *s, int64_t t, const char *device, const tl_hist *h,
                     tl__imp_ctx *c);
void tl__imp_ctx_vector(tl__imp_ctx *c); /* fills x from the parts */

/* Whether responses are logged (a writable store and the setting). */
int tl__imp_logging(const tl_service *s);
int tl__imp_row_policy(const tl_service *s);
/* A new impression id (time-ordered, unique in this process and after a restart). */
int64_t tl__imp_new_id(tl_service *s);
void tl__imp_id_text(int64_t id, char *buf);
/* The row bandit's decisions for n rows of kinds[0..n): order[0..n) (indices into kinds),
 * prob[k] the probability of the choice at place k among the kinds still unplaced, cands[k]
 * those kinds (bits). Rows of one kind are placed in their order. *version: the state's.
 * policy: TL_ROW_POLICY_* asked; returns the one applied (fixed when there is no bandit). */
int tl__imp_order_rows(tl_service *s, int policy, const double *x, const int *kinds, int n,
                       uint64_t seed, int *order, double *prob, uint32_t *cands, int64_t *version);
/* The editions bandit: the index chosen among n candidates' features (n * TL__EDITION_DIM),
 * *p its probability. */
int tl__imp_choose_edition(tl_service *s, const double *cand_x, int n, uint64_t seed, double *p);
/* Queues imp (copied whole) for the background writer; x: its context vector (the row bandit
 * learns the shown rows as not clicked when it is written). */
void tl__imp_log(tl_service *s, const tl_store_impression *imp);
/* Joins the events ev[0..n) to impressions (in the writer's open transaction, under write_mu):
 * hits[j].found for each that joined. */
tl_err tl__imp_join(tl_service *s, const tl_event_rec *ev, size_t n, tl_store_imp_hit *hits,
                    tl_diag *d);
/* After the commit: the bandits learn from the joined rewards. */
void tl__imp_learn(tl_service *s, const tl_store_imp_hit *hits, size_t n);

/* Logs a list answer (recommendations, search) when logging: one decision, items[0..n) at
 * row 0; the patron (NULL: anonymous) and their experiment and arm (NULL or "": none) are kept
 * unless they opted out. *id_out: its id. */
void tl__imp_log_list(tl_service *s, int surface, const char *user, const char *model,
                      const char *experiment, const char *arm, const tl_rec_context *where,
                      const tl_hist *h, const char *const *items, int n, char *id_out);

tl_err tl__imp_open(tl_service *s, const tl_service_opts *o, tl_diag *d);
void tl__imp_close(tl_service *s);

#endif
