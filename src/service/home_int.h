/* Private to src/service: what homepage.c hands home_policy.c once the page's candidate rows
 * are built. */
#ifndef TL_SERVICE_HOME_INT_H
#define TL_SERVICE_HOME_INT_H

#include "service/history.h"
#include "tailor/service.h"

typedef struct tl_home_page {
    tl_home *out;
    const tl_model *m;
    const tl_hist *h;
    int64_t t;                       /* the request's time */
    const int32_t *work_next;        /* works.c's cycles, NULL: none */
    const uint8_t *gone;             /* withdrawn items, NULL: none */
    const uint8_t *m_has_cover;      /* works.c, NULL: unknown */
    tl_rec_item **cards;             /* scratch */
    const struct tl__exp_arms *arms; /* the patron's experiments (exp_int.h), NULL: none */
} tl_home_page;

/* Orders the page's rows by the row policy, keeping rows of them, chooses the cards' editions
 * and logs the impression when q asks for it. fallback: the page's (an opted-out patron is
 * logged without identity). */
tl_err tl__home_decide(tl_service *s, tl_home_page *p, int rows, const tl_home_query *q,
                       const char *fallback);

#endif
