/* One entry per work: the editions and formats of one work (the same item_details.work, which
 * a MARC import sets from the title and first creator) are one entry in a recommendation list
 * unless the request asks for every edition (tl_rerank.all_editions). The map from the model's
 * items to their works is read from the store once per model. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "service/service_int.h"

typedef struct works_build {
    const tl_model *m;
    int32_t *work;
    char *last;    /* the work of the previous row */
    int32_t first; /* the first of its items in the model, -1: none yet */
    int any;
    uint8_t *cover; /* per item: has a cover link */
    int any_cover;
} works_build;

static tl_err on_detail(void *ctx, const tl_store_detail *r)
{
    works_build *b = ctx;
    int32_t i = r->cover && *r->cover ? tl_model_item_index(b->m, r->item) : -1;
    if (i >= 0 && i < b->m->n_items)
        b->cover[i] = b->any_cover = 1;
    return TL_OK;
}

static tl_err on_row(void *ctx, const char *item, const char *work, int64_t n)
{
    (void)n;
    works_build *b = ctx;
    if (!b->last || strcmp(b->last, work) != 0) {
        free(b->last);
        if (!(b->last = strdup(work)))
            return TL_ENOMEM;
        b->first = -1;
    }
    int32_t i = tl_model_item_index(b->m, item);
    if (i < 0 || i >= b->m->n_items)
        return TL_OK;
    if (b->first < 0) {
        b->first = i;
    } else {
        b->work[b->first] = b->first;
        b->work[i] = b->first;
        b->any = 1;
    }
    return TL_OK;
}

/* The items of each work as a cycle: next[i] is the work's next item after i (the last goes
 * back to the first), -1 for an item alone. */
static int32_t *cycles(const int32_t *work, int32_t n)
{
    int32_t *next = malloc((size_t)n * sizeof(*next)), *head = malloc((size_t)n * sizeof(*head)),
            *last = malloc((size_t)n * sizeof(*last));
    if (!next || !head || !last) {
        free(next);
        free(head);
        free(last);
        return NULL;
    }
    for (int32_t i = 0; i < n; i++)
        next[i] = head[i] = last[i] = -1;
    for (int32_t i = 0; i < n; i++) {
        int32_t w = work[i];
        if (w < 0)
            continue;
        if (head[w] < 0) {
            head[w] = i;
        } else {
            next[last[w]] = i;
        }
        next[i] = head[w]; /* the last so far goes back to the first */
        last[w] = i;
    }
    free(head);
    free(last);
    return next;
}

static void build(tl_service *s, tl_model_ref *r)
{
    const tl_model *m = r->m;
    tl_store *st = NULL;
    tl_diag d;
    works_build b = {.m = m, .first = -1};
    if (!s->db || m->n_items <= 0 || tl__service_reader(s, &st, &d) != TL_OK)
        return;
    if ((b.work = malloc((size_t)m->n_items * sizeof(*b.work)))) {
        for (int32_t i = 0; i < m->n_items; i++)
            b.work[i] = -1;
        /* a store without the catalogue tables (before schema 5) simply has no works */
        if (tl_store_works_each(st, on_row, &b, &d) == TL_OK && b.any &&
            (r->work_next = cycles(b.work, m->n_items)))
            r->work = b.work;
        else
            free(b.work);
    }
    free(b.last);
    /* which editions have a cover link: a feature of a card's edition choice */
    if (r->work_next && (b.cover = calloc((size_t)m->n_items, 1)) &&
        (tl_store_digest_details(st, INT64_MIN, 0, 0, on_detail, &b, &d) != TL_OK ||
         !b.any_cover)) {
        free(b.cover);
        b.cover = NULL;
    }
    r->has_cover = b.cover;
    tl__service_reader_done(s, st);
}

const int32_t *tl__ref_works(tl_service *s, tl_model_ref *r, const int32_t **next)
{
    pthread_mutex_lock(&r->lists_mu);
    if (!r->works_done) {
        build(s, r);
        r->works_done = 1;
    }
    pthread_mutex_unlock(&r->lists_mu);
    if (next)
        *next = r->work_next;
    return r->work;
}

void tl__works_dedupe(const int32_t *work, const int32_t *hist, int32_t n_hist, int32_t *items,
                      float *scores, int *got)
{
    int out = 0;
    for (int k = 0; k < *got; k++) {
        int32_t w = work[items[k]], seen = 0;
        for (int j = 0; j < out && w >= 0 && !seen; j++)
            seen = work[items[j]] == w;
        for (int32_t j = 0; j < n_hist && w >= 0 && !seen; j++)
            seen = hist[j] >= 0 && work[hist[j]] == w;
        if (seen)
            continue;
        items[out] = items[k];
        scores[out++] = scores[k];
    }
    *got = out;
}
