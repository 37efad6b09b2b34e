/* Each recommended item's reason: the kind of evidence, the items behind it, and one line a
 * patron can read. */
#include <string.h>

#include "core/request.h"
#include "service/reason.h"

int tl__all_zero(const float *scores, int got)
{
    for (int r = 0; r < got; r++)
        if (scores[r] != 0.0f)
            return 0;
    return got > 0;
}

const char *tl__title_of(const tl_model *m, int32_t i)
{
    return i >= 0 && i < m->cat.n && m->cat.title[i] ? m->cat.title[i] : NULL;
}

/* Appends s to buf[0..len) at *o, cut to fit (the JSON writer drops a character cut in two);
 * the reasons are written for every item of every answer, so without printf's parsing. */
static void put(char *buf, size_t len, size_t *o, const char *s)
{
    size_t n = strlen(s);
    if (*o + n >= len)
        n = len - 1 - *o;
    memcpy(buf + *o, s, n);
    *o += n;
    buf[*o] = '\0';
}

static void write_reason(tl_rec_item *it, const char *fallback)
{
    char *buf = it->reason;
    size_t len = sizeof(it->reason), o = 0;
    buf[0] = '\0';
    if (fallback || strcmp(it->kind, "popular") == 0) {
        put(buf, len, &o, "Popular with patrons");
        if (fallback) {
            put(buf, len, &o, ": ");
            put(buf, len, &o, fallback);
        }
        return;
    }
    if (!it->n_evidence) {
        put(buf, len, &o, "Recommended for you");
        return;
    }
    put(buf, len, &o,
        strcmp(it->kind, "next_after") == 0        ? "Often borrowed next after "
        : strcmp(it->kind, "similar_content") == 0 ? "Like "
        : strcmp(it->kind, "similar_to") == 0      ? "Patrons who borrowed "
                                                   : "Because you borrowed ");
    /* "A", "A and B", "A, B and C", each title (else id) in quotes */
    for (int k = 0; k < it->n_evidence; k++) {
        const tl_rec_evidence *e = &it->evidence[k];
        put(buf, len, &o, k == 0 ? "\"" : k == it->n_evidence - 1 ? " and \"" : ", \"");
        put(buf, len, &o, e->title ? e->title : e->item);
        put(buf, len, &o, "\"");
    }
    if (strcmp(it->kind, "similar_content") == 0)
        put(buf, len, &o, " in subject and author");
    else if (strcmp(it->kind, "similar_to") == 0)
        put(buf, len, &o, " also borrowed this");
}

/* Explained in chunks, so that the evidence of any n fits on the stack. */
#define EXPLAIN_CHUNK 64

void tl__rec_items_fill(const tl_model *m, const tl_hist *h, tl_rec_item *out, const int32_t *items,
                        const float *scores, int n, tl__why why, int explain, const char *fallback)
{
    int32_t pos[EXPLAIN_CHUNK * TL_REC_MAX_EVIDENCE];
    float contrib[EXPLAIN_CHUNK * TL_REC_MAX_EVIDENCE];
    int got[EXPLAIN_CHUNK];
    tl_reason_kind kinds[EXPLAIN_CHUNK];
    int personal = why == TL__WHY_HISTORY || why == TL__WHY_SIMILAR;
    tl_reason_kind plain = tl_reason_kind_of(m->ops->name);
    for (int c0 = 0; c0 < n; c0 += EXPLAIN_CHUNK) {
        int nc = n - c0 < EXPLAIN_CHUNK ? n - c0 : EXPLAIN_CHUNK;
        if (personal && explain)
            tl_model_explain_many(m, h->uidx, h->items, h->w, h->n, items + c0, nc, pos, contrib,
                                  TL_REC_MAX_EVIDENCE, got, kinds);
        for (int t = 0; t < nc; t++) {
            tl_rec_item *it = &out[c0 + t];
            int32_t item = items[c0 + t];
            memset(it, 0, sizeof(*it));
            it->item = tl_intern_str(&m->items, item);
            it->title = tl__title_of(m, item);
            it->score = scores[c0 + t];
            it->kind = "popular";
            if (personal) {
                tl_reason_kind k = explain ? kinds[t] : plain;
                it->kind = why == TL__WHY_SIMILAR && k == TL_REASON_HISTORY
                               ? "similar_to"
                               : tl_reason_kind_name(k);
                for (int g = 0; explain && g < got[t]; g++) {
                    int32_t j = h->items[pos[t * TL_REC_MAX_EVIDENCE + g]];
                    it->evidence[g] =
                        (tl_rec_evidence){tl_intern_str(&m->items, j), tl__title_of(m, j),
                                          contrib[t * TL_REC_MAX_EVIDENCE + g]};
                }
                it->n_evidence = explain ? got[t] : 0;
            }
            write_reason(it, why == TL__WHY_POPULAR ? fallback : NULL);
        }
    }
}

void tl__rec_item_fill(const tl_model *m, const tl_hist *h, tl_rec_item *it, int32_t item,
                       float score, tl__why why, int explain, const char *fallback)
{
    tl__rec_items_fill(m, h, it, &item, &score, 1, why, explain, fallback);
}
