/* Each recommended item's reason: the kind of evidence, the items behind it, and one line a
 * patron can read. */
#include <stdio.h>
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

/* "A", "A and B", "A, B and C", each title (else id) in quotes. */
static void name_list(const tl_rec_item *it, char *buf, size_t len)
{
    size_t o = 0;
    buf[0] = '\0';
    for (int k = 0; k < it->n_evidence && o < len; k++) {
        const char *sep = k == 0 ? "" : k == it->n_evidence - 1 ? " and " : ", ";
        const tl_rec_evidence *e = &it->evidence[k];
        o += (size_t)snprintf(buf + o, len - o, "%s\"%s\"", sep, e->title ? e->title : e->item);
    }
}

static void write_reason(tl_rec_item *it, const char *fallback)
{
    char names[200];
    name_list(it, names, sizeof(names));
    if (fallback || strcmp(it->kind, "popular") == 0)
        snprintf(it->reason, sizeof(it->reason), "Popular with patrons%s%s", fallback ? ": " : "",
                 fallback ? fallback : "");
    else if (!it->n_evidence)
        snprintf(it->reason, sizeof(it->reason), "Recommended for you");
    else if (strcmp(it->kind, "next_after") == 0)
        snprintf(it->reason, sizeof(it->reason), "Often borrowed next after %s", names);
    else if (strcmp(it->kind, "similar_content") == 0)
        snprintf(it->reason, sizeof(it->reason), "Like %s in subject and author", names);
    else if (strcmp(it->kind, "similar_to") == 0)
        snprintf(it->reason, sizeof(it->reason), "Patrons who borrowed %s also borrowed this",
                 names);
    else
        snprintf(it->reason, sizeof(it->reason), "Because you borrowed %s", names);
}

static void explain_item(const tl_model *m, const tl_hist *h, tl_rec_item *it, int32_t item,
                         int similar)
{
    int32_t why[TL_REC_MAX_EVIDENCE];
    float contrib[TL_REC_MAX_EVIDENCE];
    tl_reason_kind kind;
    int nwhy = tl_model_explain(m, h->uidx, h->items, h->w, h->n, item, why, contrib,
                                TL_REC_MAX_EVIDENCE, &kind);
    it->kind = tl_reason_kind_name(kind);
    if (similar && kind == TL_REASON_HISTORY)
        it->kind = "similar_to";
    for (int k = 0; k < nwhy; k++) {
        int32_t j = h->items[why[k]];
        it->evidence[k] =
            (tl_rec_evidence){tl_intern_str(&m->items, j), tl__title_of(m, j), contrib[k]};
    }
    it->n_evidence = nwhy;
}

void tl__rec_item_fill(const tl_model *m, const tl_hist *h, tl_rec_item *it, int32_t item,
                       float score, tl__why why, int explain, const char *fallback)
{
    memset(it, 0, sizeof(*it));
    it->item = tl_intern_str(&m->items, item);
    it->title = tl__title_of(m, item);
    it->score = score;
    it->kind = "popular";
    if (why == TL__WHY_HISTORY || why == TL__WHY_SIMILAR) {
        if (explain) {
            explain_item(m, h, it, item, why == TL__WHY_SIMILAR);
        } else {
            tl_reason_kind k = tl_reason_kind_of(m->ops->name);
            it->kind = why == TL__WHY_SIMILAR && k == TL_REASON_HISTORY ? "similar_to"
                                                                        : tl_reason_kind_name(k);
        }
    }
    write_reason(it, why == TL__WHY_POPULAR ? fallback : NULL);
}
