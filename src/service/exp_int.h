/* Private to src/service: the running experiments as serving applies them (experiments.c).
 * The definitions are cached in memory, reloaded when this process creates or stops one and
 * every TL__EXP_REFRESH_S seconds (another process may have): a request only hashes the
 * patron's id, it reads nothing from the store. */
#ifndef TL_SERVICE_EXP_INT_H
#define TL_SERVICE_EXP_INT_H

#include <jansson.h>

#include "tailor/service.h"
#include "tailor/store.h"

#define TL__EXP_REFRESH_S 5.0
#define TL__EXP_NAMES (TL_EXP_NAME_MAX * 4 + 4) /* a patron's experiments (or arms), joined */

/* One arm's settings as serving applies them; each unset (-1, "") leaves the service's. */
typedef struct tl__arm_params {
    char model[TL_SERVICE_MODEL_NAME]; /* model=NAME: the served model to ask */
    int rows;                          /* rows=fixed|bandit: TL_ROW_POLICY_*, -1 */
    float diversify, calibrate;        /* MMR's lambda, calibration's lambda (0..1), -1 */
    int max_per_author;                /* -1 */
    double search_weight;              /* search's personal weight (0..1), -1 */
} tl__arm_params;

/* What a request applies and logs: the patron's running experiments and arms (joined with
 * ',' in the store's order of the experiments (creation, then name), "" when in none) and their
 * settings merged (an earlier experiment's key wins). */
typedef struct tl__exp_arms {
    char experiment[TL__EXP_NAMES], arm[TL__EXP_NAMES];
    tl__arm_params p;
    double t0; /* monotonic seconds when the arms were looked up: the latency guardrail's start */
} tl__exp_arms;

struct tl_exp_cache *tl__exp_cache_new(void);
void tl__exp_cache_free(struct tl_exp_cache *c);
/* Fills *out for patron user (as the request names them; NULL: none). */
void tl__exp_arms_of(tl_service *s, const char *user, tl__exp_arms *out);
/* An answer made with arms a is ready: its time since tl__exp_arms_of counts in each of its
 * arms' latency (nothing when the patron is in no experiment). */
void tl__exp_arms_done(tl_service *s, const tl__exp_arms *a);
/* The row policy of a request in arms a (NULL: none): the arm's, else the service's. */
int tl__exp_row_policy(tl_service *s, const tl__exp_arms *a);
/* tl__service_model_named for the model a request asks for: its own (model), else its arm's
 * (a may be NULL), else the main one. An arm's model that is not served here falls back to
 * the main one (the impression logs the model served). */
struct tl_model_ref *tl__exp_model_ref(tl_service *s, const char *model, const tl__exp_arms *a,
                                       int *popular_only, const char **served, tl_err *rc,
                                       tl_diag *d);
/* The re-ranker of a request: the arm's when the request chose none. */
void tl__exp_rerank(const tl__exp_arms *a, tl_rerank *r);

/* The guardrails of experiment name (arms arm[0..n_arms)) over its impressions from `from` up to
 * until (0: now), read from st: {"coverage": {ARM: distinct items shown / catalogue items},
 * "long_tail_share": {ARM: shown items outside the most-borrowed fifth / shown items},
 * "latency_ms": null (not logged), "impressions": {ARM: n}, "catalogue_items", "head_items",
 * "head_by": "loans" (else "events", when the store has no loans)}
 * (exp_guardrails.c). */
tl_err tl__exp_guardrails(tl_store *st, const char *name, const char (*arm)[TL_EXP_NAME_MAX + 1],
                          int n_arms, int64_t from, int64_t until, json_t **out, tl_diag *d);

/* The latency guardrail (exp_latency.c): per (experiment, arm), the service's time per answer
 * (homepage, recommendations, search: from the arm lookup to the answer, HTTP and JSON left out)
 * of this process since it started. */
struct tl_exp_latency *tl__exp_latency_new(void);
void tl__exp_latency_free(struct tl_exp_latency *l);
/* experiments and arms: joined with ',' as in tl__exp_arms, the i-th arm of the i-th. */
void tl__exp_latency_record(struct tl_exp_latency *l, const char *experiments, const char *arms,
                            double ms);
/* {ARM: {"answers", "p50", "p95", "p99"}} in ms (the upper edges of log-spaced buckets, 35% apart)
 * for experiment, or NULL when this process answered none of its patrons. */
json_t *tl__exp_latency_json(struct tl_exp_latency *l, const char *experiment);

#endif
