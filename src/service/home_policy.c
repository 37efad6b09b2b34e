/* The homepage's decisions after its rows are built: their order (the row policy: fixed, or
 * the contextual bandit choosing each place among the kinds left), the edition each card shows
 * among its work's (the editions bandit, on the edition's features crossed with the patron's
 * own formats and languages), and the impression that logs them with their propensities. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "service/exp_int.h"
#include "service/home_int.h"
#include "service/imp_int.h"
#include "service/reason.h"
#include "service/service_int.h"

#define HISTORY_SCAN 200 /* the most recent history items whose formats and languages count */

static int same(const char *a, const char *b)
{
    return a && b && *a && strcasecmp(a, b) == 0;
}

static int large_print(const tl_catalog *c, int32_t i)
{
    return (c->format && c->format[i] && tl__has_word(c->format[i], "large")) ||
           (c->title && c->title[i] && tl__has_word(c->title[i], "large print"));
}

static int electronic(const tl_catalog *c, int32_t i)
{
    static const char *const words[] = {"ebook", "e-book", "online", "pdf", "epub", "audio"};
    const char *f[2] = {c->type ? c->type[i] : NULL, c->format ? c->format[i] : NULL};
    for (int k = 0; k < 2; k++)
        for (size_t w = 0; f[k] && w < sizeof(words) / sizeof(*words); w++)
            if (tl__has_word(f[k], words[w]))
                return 1;
    return 0;
}

/* Edition i's features: [0] bias, [1] the share of the patron's items in its format, [2] ... in
 * its language, [3] large print, [4] large print x the patron's large-print share, [5] a cover
 * link, [6] electronic, [7] electronic x the patron's electronic share. */
static void edition_features(const tl_model *m, const tl_hist *h, const uint8_t *cover, int32_t i,
                             double *x)
{
    const tl_catalog *c = &m->cat;
    double n = 0, fmt = 0, lang = 0, lp = 0, el = 0;
    int have = i < c->n;
    for (int32_t k = h->n - 1; have && k >= 0 && k >= h->n - HISTORY_SCAN; k--) {
        int32_t j = h->items[k];
        if (j < 0 || j >= c->n)
            continue;
        n++;
        fmt += c->format && same(c->format[i], c->format[j]);
        lang += c->language && same(c->language[i], c->language[j]);
        lp += large_print(c, j);
        el += electronic(c, j);
    }
    if (n > 0) {
        fmt /= n;
        lang /= n;
        lp /= n;
        el /= n;
    }
    int is_lp = have && large_print(c, i), is_el = have && electronic(c, i);
    double v[TL__EDITION_DIM] = {1,     fmt,       lang, is_lp, is_lp * lp, cover && cover[i],
                                 is_el, is_el * el};
    memcpy(x, v, sizeof(v));
}

/* Each card of a work with other editions shows the edition the bandit chooses for the
 * patron; item[k] logs the choice. */
static void choose_editions(tl_service *s, const tl_home_page *p, uint64_t seed,
                            tl_store_imp_item *logged, int n_logged)
{
    const int32_t *next = p->work_next;
    for (int k = 0; next && k < n_logged; k++) {
        tl_rec_item *it = p->cards[k];
        int32_t shown = tl_intern_find(&p->m->items, it->item, strlen(it->item));
        if (shown < 0 || next[shown] < 0)
            continue;
        int32_t cand[TL__EDITIONS_MAX];
        double x[TL__EDITIONS_MAX * TL__EDITION_DIM];
        int n = 0;
        int32_t j = shown;
        do { /* the work's editions, the one the row chose first */
            if (!p->gone || !p->gone[j])
                cand[n++] = j;
            j = next[j];
        } while (j >= 0 && j != shown && n < TL__EDITIONS_MAX);
        if (n < 2)
            continue;
        for (int c = 0; c < n; c++)
            edition_features(p->m, p->h, p->m_has_cover, cand[c], &x[c * TL__EDITION_DIM]);
        double prob;
        int c = tl__imp_choose_edition(s, x, n, seed + (uint64_t)k * 0x9E3779B97F4A7C15ull, &prob);
        int32_t i = cand[c];
        it->item = tl_intern_str(&p->m->items, i);
        it->title = tl__title_of(p->m, i);
        logged[k].item = it->item;
        logged[k].edition_p = prob;
        logged[k].edition_dim = TL__EDITION_DIM;
        for (int f = 0; f < TL__EDITION_DIM; f++)
            logged[k].edition_x[f] = (float)x[c * TL__EDITION_DIM + f];
    }
}

tl_err tl__home_decide(tl_service *s, tl_home_page *p, int rows, const tl_home_query *q,
                       const char *fallback)
{
    tl_home *out = p->out;
    int n = out->n_rows, kinds[TL_HOME_MAX_ROWS], order[TL_HOME_MAX_ROWS];
    double prob[TL_HOME_MAX_ROWS];
    uint32_t cands[TL_HOME_MAX_ROWS];
    int64_t version = 0;
    int64_t id = tl__imp_new_id(s);
    tl__imp_ctx c;
    tl__imp_context(s, p->t, q->context.device, p->h, &c);
    for (int k = 0; k < n; k++)
        kinds[k] =
            tl__row_kind(out->rows[k].id) >= 0 ? tl__row_kind(out->rows[k].id) : TL__ROW_POPULAR;
    int bandit = tl__imp_order_rows(s, tl__exp_row_policy(s, p->arms), c.x, kinds, n, (uint64_t)id,
                                    order, prob, cands, &version) == TL_ROW_POLICY_BANDIT;
    tl_home_row sorted[TL_HOME_MAX_ROWS];
    for (int k = 0; k < n; k++) {
        sorted[k] = out->rows[order[k]];
        sorted[k].policy = bandit ? "bandit" : "fixed";
        sorted[k].propensity = prob[k];
    }
    int keep = n < rows ? n : rows;
    for (int k = keep; k < n; k++) /* the candidates not placed */
        free(sorted[k].items);
    memset(out->rows, 0, sizeof(out->rows));
    memcpy(out->rows, sorted, (size_t)keep * sizeof(*sorted));
    out->n_rows = keep;
    /* the cards, in page order, and what is logged of them */
    int n_cards = 0;
    for (int k = 0; k < keep; k++)
        n_cards += out->rows[k].n;
    tl_store_imp_item *items = calloc((size_t)n_cards + 1, sizeof(*items));
    tl_rec_item **cards = calloc((size_t)n_cards + 1, sizeof(*cards));
    if (!items || !cards) {
        free(items);
        free(cards);
        return TL_ENOMEM;
    }
    n_cards = 0;
    for (int k = 0; k < keep; k++)
        for (int j = 0; j < out->rows[k].n; j++) {
            cards[n_cards] = &out->rows[k].items[j];
            items[n_cards++] = (tl_store_imp_item){
                .row = k, .position = j, .item = out->rows[k].items[j].item, .edition_p = -1};
        }
    p->cards = cards;
    choose_editions(s, p, (uint64_t)id ^ 0x5bd1e995u, items, n_cards);
    if (q->impression && tl__imp_logging(s)) {
        tl_store_imp_row logged[TL_HOME_MAX_ROWS];
        for (int k = 0; k < keep; k++)
            logged[k] = (tl_store_imp_row){kinds[order[k]], cands[k], prob[k]};
        int anonymous = fallback && strcmp(fallback, TL__OPTED_OUT) == 0;
        int in_exp = !anonymous && p->arms && p->arms->experiment[0];
        tl_store_impression imp = {.id = id,
                                   .ts = p->t,
                                   .user = anonymous ? NULL : q->user,
                                   .surface = TL__SURFACE_HOME,
                                   .policy = bandit,
                                   .policy_version = version,
                                   .model = out->model,
                                   .experiment = in_exp ? p->arms->experiment : NULL,
                                   .arm = in_exp ? p->arms->arm : NULL,
                                   .branch = q->context.branch,
                                   .weekday = c.weekday,
                                   .exam = c.exam,
                                   .term = c.term,
                                   .mobile = c.mobile,
                                   .activity = c.activity,
                                   .rows = logged,
                                   .n_rows = keep,
                                   .items = items,
                                   .n_items = n_cards};
        tl__imp_log(s, &imp);
        tl__imp_id_text(id, out->impression_id);
    }
    free(items);
    free(cards);
    p->cards = NULL;
    return TL_OK;
}
