/* A patron's homepage: rows of recommendations, each titled with its reason (see
 * tailor/service.h for the rows and their order). One page never shows an item twice. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/request.h"
#include "service/exp_int.h"
#include "service/history.h"
#include "service/home_int.h"
#include "service/imp_int.h"
#include "service/reason.h"
#include "service/service_int.h"
#include "service/subjects.h"

#define BECAUSE_ROWS 2    /* "because you borrowed" rows, for the most recent items */
#define SUBJECT_ITEMS 200 /* most recent history items whose subjects count */
#define SERIES_ITEMS 50   /* most recent history items whose next volume counts */
#define EVENTS_MAX 256    /* the soonest upcoming library events the events row chooses from */

typedef struct page {
    tl_service *s;
    const char *user;
    tl_model_ref *ref;
    const tl_model *m;
    tl_hist h;
    uint8_t *allow; /* 0: the patron's items and those already on the page (the models'
                       filter, so that each row asks for n items only) */
    int32_t *cand;
    float *score;
    int cap;                  /* candidates asked of the model per row */
    int n;                    /* items per row */
    const int32_t *work_next; /* one entry per work (works.c): the other items of an item's
                                 work, round; NULL when no work has two */
    int64_t t;                /* the request's time: library events over by then are left out */
    tl_home *out;
} page;

#define LIST_ITEMS 20       /* recent history items whose public lists count */
#define LIST_NEIGHBOURS 100 /* items sharing lists with one, read from the store */
#define LIKE_NEIGHBOURS 20  /* "readers like you": the closest patrons */
#define LIKE_MIN 2          /* ... of whom at least this many hold an item it shows */

/* The model's items that share public lists with one history item, most lists first. */
typedef struct list_pick {
    page *p;
    int32_t from;
    int32_t items[LIST_NEIGHBOURS];
    int counts[LIST_NEIGHBOURS];
    int n;
} list_pick;

static tl_err on_list_neighbour(void *ctx, const char *key, const char *label, int64_t count)
{
    (void)label;
    list_pick *c = ctx;
    int32_t i = tl_intern_find(&c->p->m->items, key, strlen(key));
    if (i >= 0 && c->n < LIST_NEIGHBOURS && c->p->allow[i]) {
        c->items[c->n] = i;
        c->counts[c->n++] = (int)count;
    }
    return TL_OK;
}

/* A new row (NULL when the page is full). */
static tl_home_row *new_row(page *p, const char *title_fmt, const char *arg)
{
    if (p->out->n_rows == TL_HOME_MAX_ROWS)
        return NULL;
    tl_home_row *r = &p->out->rows[p->out->n_rows];
    memset(r, 0, sizeof(*r));
    snprintf(r->title, sizeof(r->title), title_fmt, arg);
    if (!(r->items = calloc((size_t)p->n, sizeof(*r->items))))
        return NULL;
    return r;
}

/* Keeps the row when it got items. */
static void close_row(page *p, tl_home_row *r)
{
    if (r->n) {
        p->out->n_rows++;
    } else {
        free(r->items);
        r->items = NULL;
    }
}

static int take(page *p, int32_t item)
{
    if (item < 0 || !p->allow[item])
        return 0;
    p->allow[item] = 0;
    for (int32_t j = p->work_next ? p->work_next[item] : -1; j >= 0 && j != item;
         j = p->work_next[j])
        p->allow[j] = 0; /* the work's other editions and formats */
    return 1;
}

/* Moves the first n candidates of got with a positive score that are not on the page yet to
 * the front of cand/score, taking them; returns how many. */
static int keep(page *p, int got)
{
    int kept = 0;
    for (int k = 0; k < got && kept < p->n; k++)
        if (p->score[k] > 0 && take(p, p->cand[k])) {
            p->cand[kept] = p->cand[k];
            p->score[kept++] = p->score[k];
        }
    return kept;
}

static tl_err row_for_you(page *p, const char **fallback)
{
    int got = 0;
    tl_filter f = {.allow = p->allow};
    tl_err rc = tl_model_recommend(p->m, p->h.uidx, p->h.items, p->h.w, p->h.n, &f, p->cap, p->cand,
                                   p->score, &got);
    if (rc != TL_OK)
        return rc;
    if (tl__all_zero(p->score, got)) {
        *fallback = "the model found nothing in this patron's history";
        return TL_OK;
    }
    tl_home_row *r = new_row(p, "%s", "Recommended for you");
    if (!r)
        return TL_ENOMEM;
    snprintf(r->id, sizeof(r->id), "for_you");
    int kept = keep(p, got); /* a zero score has no evidence: not "for you" */
    tl__rec_items_fill(p->m, &p->h, r->items, p->cand, p->score, kept, TL__WHY_HISTORY, 1, NULL);
    r->n = kept;
    close_row(p, r);
    return TL_OK;
}

/* "Because you borrowed X": the items most like one recent item of the patron's. */
static tl_err row_because(page *p, int32_t item)
{
    float one = 1.0f;
    tl_hist h1 = {.items = &item, .w = &one, .n = 1, .uidx = -1};
    int got = 0;
    tl_filter f = {.allow = p->allow};
    tl_err rc = tl_model_recommend(p->m, -1, &item, &one, 1, &f, p->cap, p->cand, p->score, &got);
    if (rc != TL_OK || tl__all_zero(p->score, got))
        return rc;
    const char *t = tl__title_of(p->m, item);
    tl_home_row *r =
        new_row(p, "Because you borrowed %s", t ? t : tl_intern_str(&p->m->items, item));
    if (!r)
        return TL_ENOMEM;
    snprintf(r->id, sizeof(r->id), "because:%.80s", tl_intern_str(&p->m->items, item));
    int kept = keep(p, got);
    tl__rec_items_fill(p->m, &h1, r->items, p->cand, p->score, kept, TL__WHY_SIMILAR, 1, NULL);
    r->n = kept;
    close_row(p, r);
    return TL_OK;
}

/* A row of the model's items for the patron among those flagged in only (n_items + 1 flags,
 * changed here): the page's other rows and the patron's items are left out. */
static tl_err row_among(page *p, const char *id, const char *title, uint8_t *only)
{
    for (int32_t i = 0; i < p->m->n_items; i++)
        only[i] = only[i] && p->allow[i];
    int got = 0;
    tl_filter f = {.allow = only};
    tl_err rc = tl_model_recommend(p->m, p->h.uidx, p->h.items, p->h.w, p->h.n, &f, p->cap, p->cand,
                                   p->score, &got);
    if (rc != TL_OK || tl__all_zero(p->score, got))
        return rc;
    tl_home_row *r = new_row(p, "%s", title);
    if (!r)
        return TL_ENOMEM;
    snprintf(r->id, sizeof(r->id), "%s", id);
    int kept = keep(p, got);
    tl__rec_items_fill(p->m, &p->h, r->items, p->cand, p->score, kept, TL__WHY_HISTORY, 1, NULL);
    r->n = kept;
    close_row(p, r);
    return TL_OK;
}

/* "Upcoming events for you": the library's events not over yet that the model finds for the
 * patron (talks and workshops like what they borrowed). */
static tl_err row_events(page *p)
{
    int32_t ev[EVENTS_MAX];
    int n = tl__events_upcoming(p->s, p->ref, p->t, ev, EVENTS_MAX);
    if (!n)
        return TL_OK;
    uint8_t *only = calloc((size_t)p->m->n_items + 1, 1);
    if (!only)
        return TL_ENOMEM;
    for (int k = 0; k < n; k++)
        only[ev[k]] = 1;
    tl_err rc = row_among(p, "events", "Upcoming events for you", only);
    free(only);
    return rc;
}

/* "Borrowed at this time of year": the model's items for the patron in the subjects that the
 * store's loans say are in season this week (season.c). */
static tl_err row_season(page *p)
{
    uint8_t *only = calloc((size_t)p->m->n_items + 1, 1);
    if (!only)
        return TL_ENOMEM;
    tl_err rc = TL_OK;
    if (tl__in_season(p->s, p->ref, p->t, only))
        rc = row_among(p, "season", "Borrowed at this time of year", only);
    free(only);
    return rc;
}

/* "For your exams: NAME", first during an exam period of the academic calendar: the model's
 * items for the patron in the subjects of their recent loans (their coursework). */
static tl_err row_exams(page *p)
{
    const tl_period *exam = tl__calendar_at(&p->s->calendar, "exam", p->t);
    const tl_model *m = p->m;
    if (!exam || !m->cat.subjects)
        return TL_OK;
    tl_subjects ss;
    tl__subjects_collect(&ss, &m->cat, p->h.items, p->h.n, SUBJECT_ITEMS);
    uint8_t *only = ss.n ? calloc((size_t)m->n_items + 1, 1) : NULL;
    if (!only)
        return ss.n ? TL_ENOMEM : TL_OK;
    for (int32_t i = 0; i < m->cat.n && i < m->n_items; i++)
        only[i] = tl__subjects_match(&ss, &m->cat, i) != NULL;
    char title[160];
    snprintf(title, sizeof(title), "For your exams: %.120s", exam->name);
    tl_err rc = row_among(p, "exams", title, only);
    free(only);
    return rc;
}

/* "New in your subjects": the newest additions that share a subject with the patron's recent
 * items, newest first; the evidence is the item the subject came from. */
static tl_err row_new_in_subjects(page *p)
{
    const tl_model *m = p->m;
    if (!p->ref->n_newest || !m->cat.subjects)
        return TL_OK;
    tl_subjects ss;
    tl__subjects_collect(&ss, &m->cat, p->h.items, p->h.n, SUBJECT_ITEMS);
    if (!ss.n)
        return TL_OK;
    tl_home_row *r = new_row(p, "%s", "New in your subjects");
    if (!r)
        return TL_ENOMEM;
    snprintf(r->id, sizeof(r->id), "new_in_subjects");
    for (int k = 0; k < p->ref->n_newest && r->n < p->n; k++) {
        int32_t i = p->ref->newest[k];
        const tl_subject *hit;
        if (!p->allow[i] || !(hit = tl__subjects_match(&ss, &m->cat, i)))
            continue;
        take(p, i);
        tl_rec_item *it = &r->items[r->n++];
        tl__rec_item_fill(m, &p->h, it, i, (float)m->cat.added[i], TL__WHY_POPULAR, 0, NULL);
        it->kind = "new_in_subjects";
        it->n_evidence = 1;
        it->evidence[0] = (tl_rec_evidence){tl_intern_str(&m->items, hit->from),
                                            tl__title_of(m, hit->from), 1.0f};
        snprintf(it->reason, sizeof(it->reason), "New in %.*s",
                 (int)(hit->len < 200 ? hit->len : 200), hit->text);
    }
    close_row(p, r);
    return TL_OK;
}

/* "Next in the series": for the patron's most recent items that belong to a series, the next
 * volume, when the patron does not have it; the evidence is the volume they had. */
static tl_err row_next_in_series(page *p)
{
    const tl_model *m = p->m;
    const int32_t *next = p->ref->series_next;
    tl_home_row *r = NULL;
    for (int32_t k = p->h.n - 1; next && k >= 0 && k >= p->h.n - SERIES_ITEMS; k--) {
        int32_t had = p->h.items[k], i = next[had];
        if (i < 0 || !take(p, i))
            continue;
        if (!r && !(r = new_row(p, "%s", "Next in the series")))
            return TL_ENOMEM;
        snprintf(r->id, sizeof(r->id), "next_in_series");
        tl_rec_item *it = &r->items[r->n++];
        tl__rec_item_fill(m, &p->h, it, i, 1.0f, TL__WHY_POPULAR, 0, NULL);
        it->kind = "next_in_series";
        it->n_evidence = 1;
        it->evidence[0] =
            (tl_rec_evidence){tl_intern_str(&m->items, had), tl__title_of(m, had), 1.0f};
        const char *t = tl__title_of(m, had);
        snprintf(it->reason, sizeof(it->reason), "Next after \"%.200s\"",
                 t ? t : tl_intern_str(&m->items, had));
        if (r->n == p->n)
            break;
    }
    if (r)
        close_row(p, r);
    return TL_OK;
}

/* "Popular in your department": the items held by the most patrons of the patron's group. */
static tl_err row_segment(page *p, tl_diag *d)
{
    int32_t items[200];
    float counts[200];
    char value[256];
    int n = 0;
    tl_err rc =
        tl__service_segment(p->s, p->m, p->user, value, sizeof(value), items, counts, 200, &n, d);
    if (rc != TL_OK || !n)
        return rc;
    const char *attr = p->s->segment_attr;
    tl_home_row *r = new_row(p, "Popular in your %s", attr);
    if (!r)
        return TL_ENOMEM;
    for (char *c = r->title; *c; c++)
        *c = *c == '_' ? ' ' : *c; /* home_branch: "Popular in your home branch" */
    snprintf(r->id, sizeof(r->id), "segment");
    snprintf(r->segment_attr, sizeof(r->segment_attr), "%s", attr);
    snprintf(r->segment_value, sizeof(r->segment_value), "%s", value);
    for (int k = 0; k < n && r->n < p->n; k++)
        if (take(p, items[k])) {
            tl_rec_item *it = &r->items[r->n++];
            tl__rec_item_fill(p->m, &p->h, it, items[k], counts[k], TL__WHY_POPULAR, 0, NULL);
            it->kind = "segment";
            snprintf(it->reason, sizeof(it->reason), "Borrowed by %.0f patrons of %.200s",
                     (double)counts[k], value);
        }
    close_row(p, r);
    return TL_OK;
}

/* A row from a list of items with counts: trending or popular. */
static tl_err row_list(page *p, const char *id, const char *title, const char *kind,
                       const char *reason_fmt, const int32_t *items, const float *counts, int n)
{
    tl_home_row *r = new_row(p, "%s", title);
    if (!r)
        return TL_ENOMEM;
    snprintf(r->id, sizeof(r->id), "%s", id);
    for (int k = 0; k < n && r->n < p->n; k++)
        if (take(p, items[k])) {
            tl_rec_item *it = &r->items[r->n++];
            tl__rec_item_fill(p->m, &p->h, it, items[k], counts[k], TL__WHY_POPULAR, 0, NULL);
            it->kind = kind;
            snprintf(it->reason, sizeof(it->reason), reason_fmt, (double)counts[k]);
        }
    close_row(p, r);
    return TL_OK;
}

/* "From lists with X": the items that share the most public reading lists with one of the
 * patron's recent items (the first of them that has such neighbours). */
static tl_err row_from_lists(page *p)
{
    if (!p->s->db)
        return TL_OK;
    tl_store *st;
    tl_diag d;
    tl_diag_clear(&d);
    tl_err rc = tl__service_reader(p->s, &st, &d);
    if (rc != TL_OK)
        return rc;
    tl_home_row *r = NULL;
    list_pick pick = {.p = p};
    for (int32_t k = p->h.n - 1; k >= 0 && k >= p->h.n - LIST_ITEMS && !pick.n; k--) {
        pick.from = p->h.items[k];
        rc = tl_store_list_neighbours(st, tl_intern_str(&p->m->items, pick.from), LIST_NEIGHBOURS,
                                      on_list_neighbour, &pick, &d);
        if (rc == TL_EVERSION || rc == TL_EUNSUPPORTED) /* a store before lists: no row */
            rc = TL_OK;
        if (rc != TL_OK)
            break;
    }
    tl__service_reader_done(p->s, st);
    if (rc != TL_OK || !pick.n)
        return rc;
    const char *t = tl__title_of(p->m, pick.from);
    if (!(r = new_row(p, "From lists with %s", t ? t : tl_intern_str(&p->m->items, pick.from))))
        return TL_ENOMEM;
    snprintf(r->id, sizeof(r->id), "from_lists:%.80s", tl_intern_str(&p->m->items, pick.from));
    for (int k = 0; k < pick.n && r->n < p->n; k++) {
        if (!take(p, pick.items[k]))
            continue;
        tl_rec_item *it = &r->items[r->n++];
        tl__rec_item_fill(p->m, &p->h, it, pick.items[k], (float)pick.counts[k], TL__WHY_POPULAR, 0,
                          NULL);
        it->kind = "from_lists";
        it->n_evidence = 1;
        it->evidence[0] = (tl_rec_evidence){tl_intern_str(&p->m->items, pick.from), t, 1.0f};
        snprintf(it->reason, sizeof(it->reason), "On %d public reading list%s with \"%.200s\"",
                 pick.counts[k], pick.counts[k] == 1 ? "" : "s",
                 t ? t : tl_intern_str(&p->m->items, pick.from));
    }
    close_row(p, r);
    return TL_OK;
}

/* "Readers like you": what the patrons whose histories overlap the patron's most (cosine over
 * the trained histories; opted-out patrons are not in them) borrowed and the patron has not,
 * each held by at least LIKE_MIN of them, so that no row points at one reader. */
static tl_err row_readers_like_you(page *p)
{
    const tl_csr *hist = &p->m->hist;
    int32_t nu = hist->nrows, ni = p->m->n_items;
    if (!nu || !p->h.n || !hist->indptr)
        return TL_OK;
    uint8_t *mine = calloc((size_t)ni, 1);
    float *sim = calloc((size_t)nu, sizeof(*sim)), *votes = calloc((size_t)ni, sizeof(*votes));
    int32_t *holders = calloc((size_t)ni, sizeof(*holders)), *shared = NULL;
    int32_t nb[LIKE_NEIGHBOURS];
    int n_nb = 0;
    tl_err rc = mine && sim && votes && holders ? TL_OK : TL_ENOMEM;
    for (int32_t k = 0; rc == TL_OK && k < p->h.n; k++)
        mine[p->h.items[k]] = 1;
    for (int32_t u = 0; rc == TL_OK && u < nu; u++) { /* one pass over the histories */
        if (u == p->h.uidx)
            continue;
        int64_t a = hist->indptr[u], b = hist->indptr[u + 1], both = 0;
        for (int64_t e = a; e < b; e++)
            both += hist->indices[e] < ni && mine[hist->indices[e]];
        if (!both || b == a)
            continue;
        sim[u] = (float)((double)both / sqrt((double)(b - a) * (double)p->h.n));
        int at; /* the closest LIKE_NEIGHBOURS, closest first */
        if (n_nb < LIKE_NEIGHBOURS)
            at = n_nb++;
        else if (sim[nb[LIKE_NEIGHBOURS - 1]] >= sim[u])
            continue;
        else
            at = LIKE_NEIGHBOURS - 1;
        for (; at > 0 && sim[nb[at - 1]] < sim[u]; at--)
            nb[at] = nb[at - 1];
        nb[at] = u;
    }
    if (rc == TL_OK && n_nb && !(shared = calloc((size_t)ni, sizeof(*shared))))
        rc = TL_ENOMEM;
    for (int k = 0; rc == TL_OK && k < n_nb; k++)
        for (int64_t e = hist->indptr[nb[k]]; e < hist->indptr[nb[k] + 1]; e++) {
            int32_t i = hist->indices[e];
            if (i >= ni)
                continue;
            if (mine[i]) {
                shared[i]++; /* the patron's items behind the likeness: the evidence */
            } else {
                votes[i] += sim[nb[k]];
                holders[i]++;
            }
        }
    tl_home_row *r = NULL;
    if (rc == TL_OK && n_nb && !(r = new_row(p, "%s", "Readers like you")))
        rc = TL_ENOMEM;
    if (r) {
        snprintf(r->id, sizeof(r->id), "readers_like_you");
        int32_t ev[TL_REC_MAX_EVIDENCE];
        int n_ev = 0;
        while (n_ev < TL_REC_MAX_EVIDENCE) { /* the most shared, the most recent first */
            int32_t best = -1;
            for (int32_t k = p->h.n - 1; k >= 0; k--) {
                int32_t i = p->h.items[k];
                int used = 0;
                for (int e = 0; e < n_ev; e++)
                    used |= ev[e] == i;
                if (shared[i] && !used && (best < 0 || shared[i] > shared[best]))
                    best = i;
            }
            if (best < 0)
                break;
            ev[n_ev++] = best;
        }
        while (r->n < p->n) {
            int32_t best = -1;
            for (int32_t i = 0; i < ni; i++)
                if (holders[i] >= LIKE_MIN && p->allow[i] && (best < 0 || votes[i] > votes[best]))
                    best = i;
            if (best < 0)
                break;
            take(p, best);
            tl_rec_item *it = &r->items[r->n++];
            tl__rec_item_fill(p->m, &p->h, it, best, votes[best], TL__WHY_POPULAR, 0, NULL);
            it->kind = "readers_like_you";
            it->n_evidence = n_ev;
            for (int k = 0; k < n_ev; k++)
                it->evidence[k] =
                    (tl_rec_evidence){tl_intern_str(&p->m->items, ev[k]), tl__title_of(p->m, ev[k]),
                                      (float)shared[ev[k]]};
            snprintf(it->reason, sizeof(it->reason),
                     "Borrowed by %d of the %d readers whose loans are most like yours",
                     holders[best], n_nb);
        }
        close_row(p, r);
    }
    free(mine);
    free(sim);
    free(votes);
    free(holders);
    free(shared);
    return rc;
}

static tl_err build(page *p, int rows, const char **fallback, tl_diag *d)
{
    tl_err rc = TL_OK;
    int personal = p->h.n > 0 && !*fallback;
    if (personal && (rc = row_exams(p)) != TL_OK)
        return rc;
    if (personal && p->out->n_rows < rows && (rc = row_for_you(p, fallback)) != TL_OK)
        return rc;
    personal = personal && !*fallback;
    if (personal && p->out->n_rows < rows && (rc = row_events(p)) != TL_OK)
        return rc;
    if (personal && p->out->n_rows < rows && (rc = row_season(p)) != TL_OK)
        return rc;
    for (int k = 0; personal && k < BECAUSE_ROWS && k < p->h.n && p->out->n_rows < rows; k++)
        if ((rc = row_because(p, p->h.items[p->h.n - 1 - k])) != TL_OK)
            return rc;
    if (personal && p->out->n_rows < rows && (rc = row_next_in_series(p)) != TL_OK)
        return rc;
    if (personal && p->out->n_rows < rows && (rc = row_new_in_subjects(p)) != TL_OK)
        return rc;
    if (personal && p->out->n_rows < rows && (rc = row_from_lists(p)) != TL_OK)
        return rc;
    if (personal && p->out->n_rows < rows && (rc = row_readers_like_you(p)) != TL_OK)
        return rc;
    /* the group is the patron's record, not their history; not for one who opted out */
    int impersonal = *fallback && (strcmp(*fallback, TL__OPTED_OUT) == 0 ||
                                   strcmp(*fallback, TL__POPULAR_ASKED) == 0);
    if (!impersonal && p->out->n_rows < rows && (rc = row_segment(p, d)) != TL_OK)
        return rc;
    if (p->out->n_rows < rows) {
        int32_t items[200];
        float counts[200];
        int n = 0;
        if ((rc = tl__service_trending(p->s, p->m, items, counts, 200, &n, d)) != TL_OK)
            return rc;
        if (n && (rc = row_list(p, "trending", "Trending this week", "trending",
                                "Borrowed %.0f times this week", items, counts, n)) != TL_OK)
            return rc;
    }
    tl_pop_list *pop = p->out->n_rows < rows ? tl__popular(p->s, p->ref) : NULL;
    if (tl__pop_list_n(pop))
        rc = row_list(p, "popular", "Popular with patrons", "popular",
                      "Popular with patrons: %.0f have it", tl__pop_list_items(pop),
                      tl__pop_list_counts(pop), tl__pop_list_n(pop));
    tl__pop_list_release(pop);
    return rc;
}

tl_err tl_service_homepage(tl_service *s, const tl_home_query *q, tl_home *out, tl_diag *d)
{
    memset(out, 0, sizeof(*out));
    const char *user = q->user;
    int rows = q->rows, n = q->n;
    if (!user) {
        tl_diag_set(d, NULL, 0, "user", "needs a patron");
        return TL_EINVAL;
    }
    if (rows < 1 || rows > TL_HOME_MAX_ROWS) {
        tl_diag_set(d, NULL, 0, "rows", "expected 1 to %d rows, got %d", TL_HOME_MAX_ROWS, rows);
        return TL_EINVAL;
    }
    if (n < 1 || n > TL_HOME_MAX_N) {
        tl_diag_set(d, NULL, 0, "n", "expected 1 to %d items per row, got %d", TL_HOME_MAX_N, n);
        return TL_EINVAL;
    }
    page p = {.s = s,
              .user = user,
              .n = n,
              .out = out,
              .h = {.uidx = -1},
              .t = tl__request_time(&q->context)};
    int popular_only;
    const char *served = NULL;
    tl_err rc;
    tl__exp_arms arms;
    tl__exp_arms_of(s, user, &arms);
    if (!(p.ref = tl__exp_model_ref(s, q->model, &arms, &popular_only, &served, &rc, d)))
        return rc;
    p.m = p.ref->m;
    const char *fallback = NULL;
    rc = tl__ref_lists(p.ref);
    if (rc == TL_OK)
        rc = tl__patron_history(s, p.m, user, &q->context, &p.h, &fallback, d);
    if (rc == TL_OK && !fallback && popular_only)
        fallback = TL__POPULAR_ASKED;
    if (rc == TL_OK && !fallback && p.h.n == 0)
        fallback = "no usable history for this patron";
    /* the filter keeps the page's repeats and the history out: n candidates fill a row */
    p.cap = n < p.m->n_items ? n : p.m->n_items;
    const uint8_t *gone = rc == TL_OK ? tl__withdrawn(s, p.ref, 1) : NULL; /* after the history */
    if ((p.allow = malloc((size_t)p.m->n_items + 1))) {
        memset(p.allow, 1, (size_t)p.m->n_items + 1);
        for (int32_t i = 0; gone && i < p.m->n_items; i++)
            p.allow[i] = !gone[i];
    }
    p.cand = malloc(((size_t)p.cap + 1) * sizeof(*p.cand));
    p.score = malloc(((size_t)p.cap + 1) * sizeof(*p.score));
    if (rc == TL_OK && (!p.allow || !p.cand || !p.score))
        rc = TL_ENOMEM;
    if (rc == TL_OK)
        rc = tl__tenant_allow(s, p.ref, &p.allow); /* a tenant's holdings only */
    if (rc == TL_OK)
        tl__ref_works(s, p.ref, &p.work_next);
    for (int32_t k = 0; rc == TL_OK && k < p.h.n; k++)
        take(&p, p.h.items[k]); /* the history's items, and the other editions of their works */
    for (int32_t k = 0; rc == TL_OK && k < p.h.n_dismissed; k++)
        take(&p, p.h.dismissed[k]); /* "Not interested", and its other editions */
    if (rc == TL_OK)                /* library events that are over */
        tl__events_over(s, p.ref, p.t, p.allow, 0);
    /* the bandit chooses among a few more rows than are shown */
    int build_rows =
        tl__exp_row_policy(s, &arms) == TL_ROW_POLICY_BANDIT ? rows + TL__BANDIT_EXTRA_ROWS : rows;
    if (rc == TL_OK)
        rc = build(&p, build_rows < TL_HOME_MAX_ROWS ? build_rows : TL_HOME_MAX_ROWS, &fallback, d);
    out->model = served;
    if (rc == TL_OK) {
        tl_home_page hp = {.out = out,
                           .m = p.m,
                           .h = &p.h,
                           .t = p.t,
                           .work_next = p.work_next,
                           .gone = gone,
                           .m_has_cover = p.ref->has_cover,
                           .arms = &arms};
        rc = tl__home_decide(s, &hp, rows, q, fallback);
    }
    if (rc == TL_OK) { /* each item's copies on the shelf at the patron's branch */
        char branch[TL_BRANCH_MAX + 1];
        tl__shelf_branch(s, p.ref, user, &q->context, branch);
        for (int k = 0; k < out->n_rows; k++)
            tl__shelf_fill(s, p.ref, branch, out->rows[k].items, out->rows[k].n);
    }
    if (rc == TL_OK)
        tl__exp_arms_done(s, &arms);
    free(p.allow);
    free(p.cand);
    free(p.score);
    tl__hist_release(&p.h);
    out->model = served;
    out->fallback = fallback;
    out->priv_ = p.ref;
    if (rc != TL_OK)
        tl_home_free(out);
    return rc;
}

void tl_home_free(tl_home *h)
{
    for (int k = 0; k < TL_HOME_MAX_ROWS; k++)
        free(h->rows[k].items);
    tl__model_ref_release(h->priv_);
    memset(h, 0, sizeof(*h));
}
