/* A simulated academic library for the demo: the real goodbooks-10k catalogue, SYNTHETIC patrons
 * and SYNTHETIC circulation. Day-by-day, deterministic for a seed. The model (also in
 * demo/README.md):
 *  - Book popularity is (work_ratings_count + 1)^0.75. Copies: 1, plus one above 250k, 1M and
 *    2.5M ratings. The most recent publications (new_arrivals of them) were added in the last
 *    four weeks of the period; every other book some day between its publication (not before
 *    2000) and day 0. No book is borrowed or viewed before it was added.
 *  - Patrons have a level (undergraduate 65%, graduate 20%, faculty 8%, staff 7%), a
 *    department with a home branch, four favourite subjects (two from the department, the
 *    rest drawn by subject popularity), three favourite authors (of popular books in those
 *    subjects) and an activity: loans per teaching week, log-normal (sigma 0.9) around a
 *    median set by level (0.18-0.40), at most 5.
 *  - Calendar (weeks from day 0, a Monday): autumn teaching 0-10, pre-exam 11-12, exams 13-14,
 *    winter break 15-18, spring teaching 19-33 with a spring-break week 27, pre-exam 34-35,
 *    exams 36-37, summer 38-51; then it repeats. Rates are x1 in teaching weeks, x1.7 before
 *    exams, x1.25 in exams, x0.3 in breaks and a level-dependent x0.15-0.6 in summer; weekdays
 *    are busier than weekends.
 *  - Each day a patron borrows Poisson(rate) books. The next book is, in order: the next volume
 *    of a series the patron returned recently (wanted with p 0.55 on return, taken with p 0.8),
 *    else a mixture: a favourite author's book (p 0.15, by popularity), a favourite subject's
 *    book (p 0.45, by popularity), or any book by popularity (p 0.4). A volume #k > 1 picked
 *    when the patron has not had the series' first volume is swapped for it with p 0.7. Nobody
 *    borrows or holds the same book twice.
 *  - A book with a copy on the shelf is lent (after a catalogue view minutes before, with
 *    p 0.4). With none, the patron places a hold (p 0.35, when the queue is shorter than
 *    3 x copies) or picks another book. A returned copy goes to the first hold, picked up 1-3
 *    days later.
 *  - Loans are for 21 days. Patrons keep a book 7-13 days (25%), 14-21 days (60%) or 22-55 days
 *    (15%), renewing at the due date up to twice, unless someone holds the book, in which case
 *    they return it. Loans still out at the end of the period have no return.
 *  - Patrons also browse: Poisson(0.4 x rate) catalogue views a day of books drawn the same way.
 */
#include "synth/library_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "synth/alias.h"
#include "util/civil.h"
#include "util/hash.h"

#define DAY_S 86400
#define DEFAULT_START 1725235200LL /* 2024-09-02 00:00 UTC, a Monday */
#define LOAN_DAYS 21
#define MAX_RENEWALS 2
#define NEW_WINDOW_DAYS 28
#define POP_ALPHA 0.75
#define P_WANT_NEXT 0.55 /* on returning volume k, the patron wants volume k + 1 */
#define P_TAKE_NEXT 0.8  /* at the next loan, a wanted sequel comes first */
#define P_AUTHOR 0.15
#define P_SUBJECT 0.45
#define P_SERIES_START 0.7
#define P_VIEW_BEFORE 0.4
#define VIEW_RATIO 0.4
#define P_HOLD 0.35 /* a patron who finds no copy on the shelf places a hold */
#define HOLD_QUEUE_PER_COPY 3
#define NFAV_SUBJ 4
#define NFAV_AUTH 3
#define NPENDING 4
#define TRIES 8
#define MAX_ACTIVITY 5.0 /* loans per teaching week: the log-normal tail stops here */

enum { DEV_WEB, DEV_MOBILE, DEV_KIOSK, DEV_DESK, DEV_SELF, DEV_DROP, NDEV };
static const char *const device_names[NDEV] = {"web",  "mobile",    "kiosk",
                                               "desk", "selfcheck", "bookdrop"};
enum { BR_ONLINE, BR_MAIN, BR_SCIENCE, BR_ARTS, NBRANCH };
static const char *const branch_names[NBRANCH] = {"", "main", "science", "arts"};

typedef struct dept {
    const char *name;
    int branch;
    double weight;
    const char *subjects[8]; /* NULL-terminated */
} dept;

static const dept depts[] = {
    {"english",
     BR_ARTS,
     8,
     {"classics", "literature", "poetry", "british-literature", "american-literature", "plays",
      "literary-fiction"}},
    {"history",
     BR_ARTS,
     7,
     {"history", "historical-fiction", "world-war-ii", "american-history", "biography", "war",
      "military"}},
    {"modern-languages",
     BR_ARTS,
     4,
     {"french-literature", "german-literature", "russian-literature", "japanese-literature",
      "latin-american-literature", "scandinavian-literature", "literature"}},
    {"philosophy-and-religion",
     BR_ARTS,
     4,
     {"philosophy", "religion", "spirituality", "mythology", "christian", "buddhism", "essays"}},
    {"art-and-music",
     BR_ARTS,
     4,
     {"art", "music", "graphic-novels", "comics", "poetry", "writing"}},
    {"physics",
     BR_SCIENCE,
     5,
     {"science", "physics", "astronomy", "popular-science", "science-fiction", "mathematics"}},
    {"biology",
     BR_SCIENCE,
     6,
     {"biology", "science", "nature", "animals", "environment", "popular-science"}},
    {"computer-science",
     BR_SCIENCE,
     8,
     {"technology", "science-fiction", "cyberpunk", "mathematics", "popular-science", "business"}},
    {"medicine",
     BR_SCIENCE,
     6,
     {"medicine", "health", "neuroscience", "biology", "memoir", "science"}},
    {"psychology",
     BR_MAIN,
     7,
     {"psychology", "self-help", "mental-health", "neuroscience", "sociology", "non-fiction"}},
    {"economics", BR_MAIN, 6, {"economics", "business", "finance", "politics", "biography"}},
    {"politics",
     BR_MAIN,
     6,
     {"politics", "sociology", "feminism", "race", "journalism", "history", "essays"}},
    {"law", BR_MAIN, 5, {"legal-thriller", "true-crime", "politics", "crime"}},
    {"education",
     BR_MAIN,
     4,
     {"education", "childrens", "middle-grade", "young-adult", "picture-books", "parenting"}},
};
#define NDEPT ((int)(sizeof(depts) / sizeof(depts[0])))
static const char *const staff_depts[] = {"library", "administration"};

typedef struct level {
    const char *name;
    double share;  /* of patrons */
    double median; /* loans per teaching week */
    double summer; /* rate factor in summer */
    int years;     /* accounts were created up to this many years before day 0 */
} level;

static const level levels[] = {
    {"undergraduate", 0.65, 0.22, 0.15, 4},
    {"graduate", 0.20, 0.40, 0.55, 6},
    {"faculty", 0.08, 0.30, 0.45, 25},
    {"staff", 0.07, 0.18, 0.60, 15},
};
#define NLEVEL ((int)(sizeof(levels) / sizeof(levels[0])))
enum { LV_STAFF = 3 };

/* Monday first; they sum to 6, so a week's expected loans are activity x season. */
static const double weekday_factor[7] = {1.0, 1.05, 1.05, 1.0, 0.85, 0.45, 0.6};
#define WEEKDAY_SUM 6.0

void tl_synth_lib_opts_init(tl_synth_lib_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->patrons = 2000;
    o->days = 365;
    o->new_arrivals = 300;
    o->start = DEFAULT_START;
    o->seed = 42;
}

tl_synth_phase tl_synth_calendar(int32_t day)
{
    int32_t w = (day < 0 ? 0 : day / 7) % 52;
    if (w <= 10)
        return TL_PHASE_TERM;
    if (w <= 12)
        return TL_PHASE_PREEXAM;
    if (w <= 14)
        return TL_PHASE_EXAMS;
    if (w <= 18)
        return TL_PHASE_BREAK;
    if (w == 27)
        return TL_PHASE_BREAK;
    if (w <= 33)
        return TL_PHASE_TERM;
    if (w <= 35)
        return TL_PHASE_PREEXAM;
    if (w <= 37)
        return TL_PHASE_EXAMS;
    return TL_PHASE_SUMMER;
}

const char *tl_synth_phase_name(tl_synth_phase p)
{
    static const char *const names[] = {"term", "pre-exam", "exams", "break", "summer"};
    return (unsigned)p < sizeof(names) / sizeof(names[0]) ? names[p] : "?";
}

const char *tl_synth_ev_name(tl_synth_ev t)
{
    static const char *const names[TL_SYNTH_NEV] = {"view", "hold", "loan", "renew", "return"};
    return (unsigned)t < TL_SYNTH_NEV ? names[t] : "?";
}

const char *tl_synth_device_name(int device)
{
    return device >= 0 && device < NDEV ? device_names[device] : "";
}

const char *tl_synth_branch_name(int branch)
{
    return branch >= 0 && branch < NBRANCH ? branch_names[branch] : "";
}

void tl_synth_library_release(tl_synth_library *lib)
{
    for (int32_t i = 0; i < lib->nbooks; i++) {
        free(lib->books[i].id);
        free(lib->books[i].title);
        free(lib->books[i].creators);
        free(lib->books[i].subjects);
        free(lib->books[i].language);
    }
    free(lib->books);
    for (int32_t s = 0; s < lib->nseries; s++)
        free(lib->series[s]);
    free(lib->series);
    free(lib->patrons);
    free(lib->events);
    memset(lib, 0, sizeof(*lib));
}

/* ---- Simulation state ------------------------------------------------------------------- */

typedef struct pstate {
    int32_t subj[NFAV_SUBJ];
    double subj_cdf[NFAV_SUBJ];
    int nsubj;
    int32_t auth[NFAV_AUTH];
    int nauth;
    int32_t pending[NPENDING];
    int npending;
    int level, branch;
} pstate;

typedef struct holdq {
    int32_t *q;
    int32_t head, len, cap;
} holdq;

typedef struct loan {
    int32_t patron, book, want, due;
    uint8_t renewals, branch;
} loan;

enum { ACT_RETURN, ACT_DUE, ACT_PICKUP };
typedef struct action {
    int32_t next; /* next action the same day, -1 = last */
    int32_t a;    /* loan index, or patron for a pickup */
    int32_t b;    /* book for a pickup */
    uint8_t kind;
} action;

typedef struct world {
    const tl_synth_lib_opts *o;
    tl_synth_library *lib;
    tl_rng rng;
    double *w;    /* book popularity weights */
    tl_alias pop; /* all books */
    tl_intern subjects;
    int32_t nsubj;
    int32_t *subj_start, *subj_books; /* CSR: subject -> books */
    tl_alias *subj_pop;               /* per subject, over its books */
    tl_alias subj_any;                /* subjects by summed popularity */
    int32_t *auth_start, *auth_books; /* CSR: first author -> books */
    int32_t nauth;
    int32_t *series_first; /* per series: the lowest volume numbered >= 1, or -1 */
    int32_t *avail;
    holdq *holds; /* nholds of them (lib->nbooks, which is gone by the time we release) */
    int32_t nholds;
    uint64_t *touched; /* open-addressing set of (patron + 1) << 32 | book */
    uint64_t tcap, tlen;
    pstate *ps;
    loan *loans;
    int32_t nloans, loans_cap;
    action *acts;
    int32_t nacts, acts_cap;
    int32_t *day_head, *day_tail;
    int32_t day;
    int64_t day_ts;
    tl_synth_event *ev;
    int64_t nev, ev_cap;
} world;

static double uni(world *w)
{
    return tl_rng_uniform(&w->rng);
}

static int32_t below(world *w, int32_t n)
{
    return (int32_t)(((tl_rng_next(&w->rng) >> 32) * (uint64_t)n) >> 32);
}

static int poisson(world *w, double lambda)
{
    /* Knuth's product of uniforms: rates here are far below 1 per day. */
    double l = exp(-lambda), p = 1.0;
    int k = -1;
    do {
        k++;
        p *= uni(w);
    } while (p > l && k < 64);
    return k;
}

static uint64_t tkey(int32_t u, int32_t b)
{
    return ((uint64_t)(uint32_t)(u + 1) << 32) | (uint32_t)b;
}

static uint64_t tslot(uint64_t key, uint64_t mask)
{
    return tl_splitmix64(key) & mask;
}

static int touched(const world *w, int32_t u, int32_t b)
{
    uint64_t key = tkey(u, b), mask = w->tcap - 1;
    for (uint64_t h = tslot(key, mask);; h = (h + 1) & mask) {
        if (w->touched[h] == key)
            return 1;
        if (!w->touched[h])
            return 0;
    }
}

static tl_err touch(world *w, int32_t u, int32_t b)
{
    if (2 * (w->tlen + 1) > w->tcap) {
        uint64_t ncap = w->tcap * 2, mask = ncap - 1;
        uint64_t *t = calloc(ncap, sizeof(*t));
        if (!t)
            return TL_ENOMEM;
        for (uint64_t i = 0; i < w->tcap; i++) {
            if (!w->touched[i])
                continue;
            uint64_t h = tslot(w->touched[i], mask);
            while (t[h])
                h = (h + 1) & mask;
            t[h] = w->touched[i];
        }
        free(w->touched);
        w->touched = t;
        w->tcap = ncap;
    }
    uint64_t key = tkey(u, b), mask = w->tcap - 1, h = tslot(key, mask);
    while (w->touched[h] && w->touched[h] != key)
        h = (h + 1) & mask;
    if (!w->touched[h]) {
        w->touched[h] = key;
        w->tlen++;
    }
    return TL_OK;
}

#define GROW(arr, n, cap, init)                                                                    \
    do {                                                                                           \
        if ((n) == (cap)) {                                                                        \
            __typeof__(cap) nc_ = (cap) ? (cap)*2 : (init);                                        \
            void *p_ = realloc((arr), (size_t)nc_ * sizeof(*(arr)));                               \
            if (!p_)                                                                               \
                return TL_ENOMEM;                                                                  \
            (arr) = p_;                                                                            \
            (cap) = nc_;                                                                           \
        }                                                                                          \
    } while (0)

/* A second of the current day: [from_h, to_h) hours. */
static int64_t at(world *w, int from_h, int to_h)
{
    return w->day_ts + (int64_t)from_h * 3600 + (int64_t)(uni(w) * (to_h - from_h) * 3600.0);
}

static tl_err emit(world *w, int32_t u, int32_t b, tl_synth_ev type, int64_t ts, int dev,
                   int branch, int value)
{
    GROW(w->ev, w->nev, w->ev_cap, 4096);
    w->ev[w->nev++] =
        (tl_synth_event){ts, u, b, (uint8_t)type, (uint8_t)dev, (uint8_t)branch, (uint8_t)value};
    return TL_OK;
}

static tl_err schedule(world *w, int32_t day, int kind, int32_t a, int32_t b)
{
    if (day >= w->o->days)
        return TL_OK; /* beyond the period: the loan stays out, the hold stays unfilled */
    GROW(w->acts, w->nacts, w->acts_cap, 4096);
    int32_t k = w->nacts++;
    w->acts[k] = (action){-1, a, b, (uint8_t)kind};
    if (w->day_tail[day] >= 0)
        w->acts[w->day_tail[day]].next = k;
    else
        w->day_head[day] = k;
    w->day_tail[day] = k;
    return TL_OK;
}

static int32_t keep_days(world *w)
{
    double x = uni(w);
    if (x < 0.25)
        return 7 + below(w, 7);
    if (x < 0.85)
        return 14 + below(w, 8);
    return 22 + below(w, 34);
}

static int loan_branch(world *w, int32_t u)
{
    return uni(w) < 0.85 ? w->ps[u].branch : 1 + below(w, NBRANCH - 1);
}

static tl_err start_loan(world *w, int32_t u, int32_t b, int64_t ts, int dev, int branch)
{
    tl_err rc = emit(w, u, b, TL_SYNTH_LOAN, ts, dev, branch, 1);
    if (rc != TL_OK)
        return rc;
    GROW(w->loans, w->nloans, w->loans_cap, 4096);
    int32_t k = w->nloans++;
    loan *l = &w->loans[k];
    *l = (loan){u, b, w->day + keep_days(w), w->day + LOAN_DAYS, 0, (uint8_t)branch};
    return l->want <= l->due ? schedule(w, l->want, ACT_RETURN, k, b)
                             : schedule(w, l->due, ACT_DUE, k, b);
}

static tl_err serve_holds(world *w, int32_t b)
{
    holdq *q = &w->holds[b];
    while (w->avail[b] > 0 && q->len) {
        int32_t u = q->q[q->head];
        q->head++;
        q->len--;
        w->avail[b]--;
        tl_err rc = schedule(w, w->day + 1 + below(w, 3), ACT_PICKUP, u, b);
        if (rc != TL_OK)
            return rc;
    }
    if (!q->len)
        q->head = 0;
    return TL_OK;
}

static tl_err do_return(world *w, int32_t k)
{
    loan l = w->loans[k];
    double x = uni(w);
    int dev = x < 0.3 ? DEV_DROP : x < 0.65 ? DEV_DESK : DEV_SELF;
    int branch = uni(w) < 0.75 ? l.branch : 1 + below(w, NBRANCH - 1);
    tl_err rc = emit(w, l.patron, l.book, TL_SYNTH_RETURN, at(w, 8, 20), dev, branch, 1);
    if (rc != TL_OK)
        return rc;
    w->avail[l.book]++;
    int32_t nx = w->lib->books[l.book].next;
    pstate *p = &w->ps[l.patron];
    if (nx >= 0 && uni(w) < P_WANT_NEXT && !touched(w, l.patron, nx)) {
        if (p->npending == NPENDING) { /* forget the oldest wish */
            memmove(p->pending, p->pending + 1, (NPENDING - 1) * sizeof(*p->pending));
            p->npending--;
        }
        p->pending[p->npending++] = nx;
    }
    return serve_holds(w, l.book);
}

static tl_err do_due(world *w, int32_t k)
{
    loan *l = &w->loans[k];
    if (l->want <= w->day || l->renewals >= MAX_RENEWALS || w->holds[l->book].len)
        return do_return(w, k);
    l->renewals++;
    l->due = w->day + LOAN_DAYS;
    double x = uni(w);
    int dev = x < 0.5 ? DEV_WEB : x < 0.8 ? DEV_MOBILE : DEV_DESK;
    tl_err rc = emit(w, l->patron, l->book, TL_SYNTH_RENEW, at(w, 7, 24), dev,
                     dev == DEV_DESK ? l->branch : BR_ONLINE, l->renewals);
    if (rc != TL_OK)
        return rc;
    return l->want <= l->due ? schedule(w, l->want, ACT_RETURN, k, l->book)
                             : schedule(w, l->due, ACT_DUE, k, l->book);
}

static int on_shelf_yet(const world *w, int32_t b)
{
    return w->lib->books[b].added < w->day_ts + DAY_S;
}

static int32_t pick_by_author(world *w, int32_t a)
{
    double sum = 0;
    for (int32_t k = w->auth_start[a]; k < w->auth_start[a + 1]; k++)
        sum += w->w[w->auth_books[k]];
    double x = uni(w) * sum;
    for (int32_t k = w->auth_start[a]; k < w->auth_start[a + 1]; k++) {
        x -= w->w[w->auth_books[k]];
        if (x <= 0)
            return w->auth_books[k];
    }
    return w->auth_books[w->auth_start[a + 1] - 1];
}

static int32_t pick_by_subject(world *w, int32_t s)
{
    return w->subj_books[w->subj_start[s] + tl_alias_draw(&w->subj_pop[s], &w->rng)];
}

/* One draw of the mixture (sequels first); the caller checks shelf date and history. */
static int32_t choose(world *w, int32_t u, int for_loan)
{
    pstate *p = &w->ps[u];
    while (for_loan && p->npending && uni(w) < P_TAKE_NEXT) {
        int32_t b = p->pending[0];
        memmove(p->pending, p->pending + 1, (size_t)(p->npending - 1) * sizeof(*p->pending));
        p->npending--;
        if (!touched(w, u, b))
            return b;
    }
    int32_t b;
    double x = uni(w);
    if (x < P_AUTHOR && p->nauth) {
        b = pick_by_author(w, p->auth[below(w, p->nauth)]);
    } else if (x < P_AUTHOR + P_SUBJECT && p->nsubj) {
        double y = uni(w);
        int k = 0;
        while (k < p->nsubj - 1 && y > p->subj_cdf[k])
            k++;
        b = pick_by_subject(w, p->subj[k]);
    } else {
        b = tl_alias_draw(&w->pop, &w->rng);
    }
    const tl_synth_book *bk = &w->lib->books[b];
    if (bk->series >= 0) {
        int32_t first = w->series_first[bk->series];
        if (first >= 0 && first != b && bk->series_no > w->lib->books[first].series_no &&
            !touched(w, u, first) && uni(w) < P_SERIES_START)
            b = first;
    }
    return b;
}

/* Tries to borrow b (or hold it). 1 when the patron got it or queued for it, 0 to pick again. */
static int borrow(world *w, int32_t u, int32_t b, tl_err *rc)
{
    if (!on_shelf_yet(w, b) || touched(w, u, b))
        return 0;
    const tl_synth_book *bk = &w->lib->books[b];
    holdq *q = &w->holds[b];
    int64_t ts = at(w, 8, 22);
    int viewed = uni(w) < P_VIEW_BEFORE;
    int64_t vts = ts - 60 - (int64_t)(uni(w) * 3540.0);
    if (vts < w->day_ts)
        vts = w->day_ts;
    int vdev = uni(w) < 0.6 ? DEV_WEB : DEV_MOBILE;
    if (w->avail[b] > 0) {
        if (viewed && (*rc = emit(w, u, b, TL_SYNTH_VIEW, vts, vdev, BR_ONLINE, 1)) != TL_OK)
            return 1;
        w->avail[b]--;
        if ((*rc = touch(w, u, b)) != TL_OK)
            return 1;
        *rc = start_loan(w, u, b, ts, uni(w) < 0.6 ? DEV_SELF : DEV_DESK, loan_branch(w, u));
        return 1;
    }
    if (q->len >= HOLD_QUEUE_PER_COPY * bk->copies || uni(w) >= P_HOLD)
        return 0;
    if ((*rc = emit(w, u, b, TL_SYNTH_VIEW, vts, vdev, BR_ONLINE, 1)) != TL_OK ||
        (*rc = emit(w, u, b, TL_SYNTH_HOLD, vts + 30, vdev, BR_ONLINE, 1)) != TL_OK ||
        (*rc = touch(w, u, b)) != TL_OK)
        return 1;
    if (q->head + q->len == q->cap) {
        if (q->head) {
            memmove(q->q, q->q + q->head, (size_t)q->len * sizeof(*q->q));
            q->head = 0;
        } else {
            int32_t nc = q->cap ? q->cap * 2 : 8;
            int32_t *nq = realloc(q->q, (size_t)nc * sizeof(*nq));
            if (!nq) {
                *rc = TL_ENOMEM;
                return 1;
            }
            q->q = nq;
            q->cap = nc;
        }
    }
    q->q[q->head + q->len++] = u;
    return 1;
}

static double season(int32_t day, int lvl)
{
    switch (tl_synth_calendar(day)) {
    case TL_PHASE_TERM:
        return 1.0;
    case TL_PHASE_PREEXAM:
        return 1.7;
    case TL_PHASE_EXAMS:
        return 1.25;
    case TL_PHASE_BREAK:
        return 0.3;
    case TL_PHASE_SUMMER:
        return levels[lvl].summer;
    }
    return 1.0;
}

static tl_err patron_day(world *w, int32_t u, double wd)
{
    tl_err rc = TL_OK;
    const tl_synth_patron *pt = &w->lib->patrons[u];
    double rate = pt->activity * season(w->day, w->ps[u].level) * wd / WEEKDAY_SUM;
    int n = poisson(w, rate);
    for (int k = 0; k < n && rc == TL_OK; k++)
        for (int t = 0; t < TRIES; t++)
            if (borrow(w, u, choose(w, u, 1), &rc))
                break;
    int nv = poisson(w, rate * VIEW_RATIO);
    for (int k = 0; k < nv && rc == TL_OK; k++) {
        for (int t = 0; t < TRIES; t++) {
            int32_t b = choose(w, u, 0);
            if (!on_shelf_yet(w, b))
                continue;
            double x = uni(w);
            int dev = x < 0.55 ? DEV_WEB : x < 0.9 ? DEV_MOBILE : DEV_KIOSK;
            rc = emit(w, u, b, TL_SYNTH_VIEW, at(w, 7, 24), dev,
                      dev == DEV_KIOSK ? w->ps[u].branch : BR_ONLINE, 1);
            break;
        }
    }
    return rc;
}

/* ---- Setup -------------------------------------------------------------------------------- */

typedef struct recent {
    int32_t year, book;
    uint64_t tie;
} recent;

static int cmp_recent(const void *a, const void *b)
{
    const recent *x = a, *y = b;
    if (x->year != y->year)
        return x->year > y->year ? -1 : 1;
    if (x->tie != y->tie)
        return x->tie < y->tie ? -1 : 1;
    return x->book < y->book ? -1 : 1;
}

static tl_err setup_books(world *w)
{
    tl_synth_library *lib = w->lib;
    const tl_synth_lib_opts *o = w->o;
    int32_t n = lib->nbooks;
    recent *r = malloc((size_t)n * sizeof(*r));
    if (!r)
        return TL_ENOMEM;
    for (int32_t i = 0; i < n; i++)
        r[i] = (recent){lib->books[i].year, i, tl_splitmix64(o->seed ^ (uint64_t)i)};
    qsort(r, (size_t)n, sizeof(*r), cmp_recent);
    int64_t day0 = o->start / DAY_S, floor_day = tl_civil_days(2000, 1, 1);
    int32_t nnew = o->new_arrivals < n ? o->new_arrivals : n;
    for (int32_t k = 0; k < n; k++) {
        tl_synth_book *b = &lib->books[r[k].book];
        int64_t day;
        if (k < nnew) {
            int32_t win = o->days < NEW_WINDOW_DAYS ? o->days : NEW_WINDOW_DAYS;
            day = day0 + o->days - 1 - below(w, win);
        } else {
            int64_t lo = b->year > 2000 ? tl_civil_days(b->year, 1, 1) : floor_day;
            int64_t hi = day0 - 1;
            if (lo > hi)
                lo = hi;
            day = lo + (int64_t)(uni(w) * (double)(hi - lo + 1));
        }
        b->added = day * DAY_S;
        b->copies = 1 + (b->ratings > 250000) + (b->ratings > 1000000) + (b->ratings > 2500000);
    }
    free(r);
    if (!(w->w = malloc((size_t)n * sizeof(*w->w))) ||
        !(w->avail = malloc((size_t)n * sizeof(*w->avail))) ||
        !(w->holds = calloc((size_t)n, sizeof(*w->holds))))
        return TL_ENOMEM;
    w->nholds = n;
    for (int32_t i = 0; i < n; i++) {
        /* +1: a book nobody rated still has a (tiny) chance to be borrowed. */
        w->w[i] = pow((double)lib->books[i].ratings + 1.0, POP_ALPHA);
        w->avail[i] = lib->books[i].copies;
    }
    return tl_alias_init(&w->pop, w->w, n);
}

/* Steps *s over a '|'-separated list: 1 with the subject just before *s (length *len), 0 at
 * the end. A repeated subject of one book would count twice, which the catalogue never has. */
static int next_subject(const char **s, size_t *len)
{
    while (**s == '|')
        (*s)++;
    if (!**s)
        return 0;
    const char *e = strchr(*s, '|');
    *len = e ? (size_t)(e - *s) : strlen(*s);
    *s += *len;
    return 1;
}

/* Subject and author indexes (CSR), per-subject alias tables, first volumes of series. */
static tl_err setup_indexes(world *w, const tl_intern *authors)
{
    tl_synth_library *lib = w->lib;
    int32_t n = lib->nbooks;
    tl_err rc;
    int64_t nlinks = 0;
    const char *sp;
    size_t len;
    for (int32_t i = 0; i < n; i++) {
        for (sp = lib->books[i].subjects; next_subject(&sp, &len);) {
            int32_t id;
            if ((rc = tl_intern_add(&w->subjects, sp - len, len, &id)) != TL_OK)
                return rc;
            nlinks++;
        }
    }
    w->nsubj = w->subjects.count;
    w->subj_start = calloc((size_t)w->nsubj + 1, sizeof(*w->subj_start));
    w->subj_books = malloc((size_t)(nlinks ? nlinks : 1) * sizeof(*w->subj_books));
    int32_t *sfill = malloc(((size_t)w->nsubj + 1) * sizeof(*sfill));
    if (!w->subj_start || !w->subj_books || !sfill) {
        free(sfill);
        return TL_ENOMEM;
    }
    for (int32_t i = 0; i < n; i++)
        for (sp = lib->books[i].subjects; next_subject(&sp, &len);)
            w->subj_start[tl_intern_find(&w->subjects, sp - len, len) + 1]++;
    for (int32_t s = 0; s < w->nsubj; s++)
        w->subj_start[s + 1] += w->subj_start[s];
    memcpy(sfill, w->subj_start, (size_t)w->nsubj * sizeof(*sfill));
    for (int32_t i = 0; i < n; i++)
        for (sp = lib->books[i].subjects; next_subject(&sp, &len);)
            w->subj_books[sfill[tl_intern_find(&w->subjects, sp - len, len)]++] = i;
    free(sfill);
    if (w->nsubj) {
        double *sw = malloc((size_t)w->nsubj * sizeof(*sw));
        double *bw = malloc((size_t)n * sizeof(*bw));
        if (!sw || !bw || !(w->subj_pop = calloc((size_t)w->nsubj, sizeof(*w->subj_pop)))) {
            free(sw);
            free(bw);
            return TL_ENOMEM;
        }
        rc = TL_OK;
        for (int32_t s = 0; s < w->nsubj && rc == TL_OK; s++) {
            int32_t lo = w->subj_start[s], m = w->subj_start[s + 1] - lo;
            sw[s] = 0;
            for (int32_t k = 0; k < m; k++) {
                bw[k] = w->w[w->subj_books[lo + k]];
                sw[s] += bw[k];
            }
            rc = tl_alias_init(&w->subj_pop[s], bw, m);
        }
        if (rc == TL_OK)
            rc = tl_alias_init(&w->subj_any, sw, w->nsubj);
        free(sw);
        free(bw);
        if (rc != TL_OK)
            return rc;
    }
    w->nauth = authors->count;
    w->auth_start = calloc((size_t)w->nauth + 1, sizeof(*w->auth_start));
    w->auth_books = malloc((size_t)n * sizeof(*w->auth_books));
    int32_t *fill = malloc(((size_t)w->nauth + 1) * sizeof(*fill));
    if (!w->auth_start || !w->auth_books || !fill) {
        free(fill);
        return TL_ENOMEM;
    }
    for (int32_t i = 0; i < n; i++)
        w->auth_start[lib->books[i].author + 1]++;
    for (int32_t a = 0; a < w->nauth; a++)
        w->auth_start[a + 1] += w->auth_start[a];
    memcpy(fill, w->auth_start, (size_t)w->nauth * sizeof(*fill));
    for (int32_t i = 0; i < n; i++)
        w->auth_books[fill[lib->books[i].author]++] = i;
    free(fill);

    if (!(w->series_first = malloc((size_t)(lib->nseries ? lib->nseries : 1) * sizeof(int32_t))))
        return TL_ENOMEM;
    for (int32_t s = 0; s < lib->nseries; s++)
        w->series_first[s] = -1;
    for (int32_t i = 0; i < n; i++) {
        const tl_synth_book *b = &lib->books[i];
        if (b->series < 0 || b->series_no < 1)
            continue;
        int32_t *f = &w->series_first[b->series];
        if (*f < 0 || b->series_no < lib->books[*f].series_no ||
            (b->series_no == lib->books[*f].series_no && b->ratings > lib->books[*f].ratings))
            *f = i;
    }
    return TL_OK;
}

static double normal01(world *w)
{
    double u1 = 1.0 - uni(w), u2 = uni(w);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

static tl_err setup_patrons(world *w)
{
    tl_synth_library *lib = w->lib;
    const tl_synth_lib_opts *o = w->o;
    int32_t np = o->patrons;
    double dw[NDEPT];
    for (int d = 0; d < NDEPT; d++)
        dw[d] = depts[d].weight;
    tl_alias dal;
    tl_err rc = tl_alias_init(&dal, dw, NDEPT);
    if (rc != TL_OK)
        return rc;
    lib->patrons = calloc((size_t)np, sizeof(*lib->patrons));
    w->ps = calloc((size_t)np, sizeof(*w->ps));
    if (!lib->patrons || !w->ps) {
        tl_alias_release(&dal);
        return TL_ENOMEM;
    }
    lib->npatrons = np;
    int64_t day0 = o->start / DAY_S;
    for (int32_t u = 0; u < np; u++) {
        tl_synth_patron *pt = &lib->patrons[u];
        pstate *p = &w->ps[u];
        snprintf(pt->id, sizeof(pt->id), "p%05d", (int)u + 1);
        double x = uni(w), acc = 0;
        int lv = 0;
        for (; lv < NLEVEL - 1; lv++) {
            acc += levels[lv].share;
            if (x < acc)
                break;
        }
        p->level = lv;
        pt->level = levels[lv].name;
        const dept *dp = NULL;
        if (lv == LV_STAFF) {
            pt->department = staff_depts[below(w, 2)];
            p->branch = BR_MAIN;
        } else {
            dp = &depts[tl_alias_draw(&dal, &w->rng)];
            pt->department = dp->name;
            p->branch = dp->branch;
        }
        pt->branch = branch_names[p->branch];
        int64_t back = (int64_t)(uni(w) * levels[lv].years * 365.0);
        if (lv == 0 && uni(w) < 0.3)
            back = below(w, 14); /* this year's intake */
        pt->created = (day0 - 1 - back) * DAY_S + (int64_t)9 * 3600 + below(w, 8 * 3600);
        pt->consent = uni(w) < 0.88;
        pt->activity = fmin(MAX_ACTIVITY, levels[lv].median * exp(0.9 * normal01(w)));

        /* Favourite subjects: two from the department (when the catalogue has them), the rest
         * by subject popularity; weights fall with the slot. */
        static const double slot_w[NFAV_SUBJ] = {0.35, 0.25, 0.25, 0.15};
        int ns = 0;
        for (int t = 0; dp && ns < 2 && t < 16; t++) {
            int nd = 0;
            while (nd < 8 && dp->subjects[nd])
                nd++;
            const char *name = dp->subjects[below(w, nd)];
            int32_t s = tl_intern_find(&w->subjects, name, strlen(name));
            int dup = s < 0;
            for (int k = 0; k < ns && !dup; k++)
                dup = p->subj[k] == s;
            if (!dup)
                p->subj[ns++] = s;
        }
        for (int t = 0; w->nsubj && ns < NFAV_SUBJ && t < 32; t++) {
            int32_t s = tl_alias_draw(&w->subj_any, &w->rng);
            int dup = 0;
            for (int k = 0; k < ns && !dup; k++)
                dup = p->subj[k] == s;
            if (!dup)
                p->subj[ns++] = s;
        }
        p->nsubj = ns;
        double tot = 0;
        for (int k = 0; k < ns; k++)
            tot += slot_w[k];
        for (int k = 0; k < ns; k++)
            p->subj_cdf[k] = (k ? p->subj_cdf[k - 1] : 0) + slot_w[k] / tot;
        for (int k = 0; k < NFAV_AUTH; k++) {
            int32_t b =
                ns ? pick_by_subject(w, p->subj[below(w, ns)]) : tl_alias_draw(&w->pop, &w->rng);
            p->auth[p->nauth++] = lib->books[b].author;
        }
    }
    tl_alias_release(&dal);
    return TL_OK;
}

/* Stable merge sort of events by time: same-second events keep the order they happened in. */
static tl_err sort_events(tl_synth_event *ev, int64_t n)
{
    tl_synth_event *tmp = malloc((size_t)(n ? n : 1) * sizeof(*tmp));
    if (!tmp)
        return TL_ENOMEM;
    for (int64_t width = 1; width < n; width *= 2) {
        for (int64_t lo = 0; lo < n; lo += 2 * width) {
            int64_t mid = lo + width < n ? lo + width : n;
            int64_t hi = lo + 2 * width < n ? lo + 2 * width : n;
            int64_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi)
                tmp[k++] = ev[j].ts < ev[i].ts ? ev[j++] : ev[i++];
            while (i < mid)
                tmp[k++] = ev[i++];
            while (j < hi)
                tmp[k++] = ev[j++];
        }
        memcpy(ev, tmp, (size_t)n * sizeof(*ev));
    }
    free(tmp);
    return TL_OK;
}

static void world_release(world *w)
{
    tl_alias_release(&w->pop);
    tl_alias_release(&w->subj_any);
    if (w->subj_pop)
        for (int32_t s = 0; s < w->nsubj; s++)
            tl_alias_release(&w->subj_pop[s]);
    free(w->subj_pop);
    tl_intern_release(&w->subjects);
    free(w->subj_start);
    free(w->subj_books);
    free(w->auth_start);
    free(w->auth_books);
    free(w->series_first);
    free(w->w);
    free(w->avail);
    for (int32_t i = 0; i < w->nholds; i++)
        free(w->holds[i].q);
    free(w->holds);
    free(w->touched);
    free(w->ps);
    free(w->loans);
    free(w->acts);
    free(w->day_head);
    free(w->day_tail);
    free(w->ev);
}

static tl_err simulate(world *w)
{
    const tl_synth_lib_opts *o = w->o;
    int32_t np = o->patrons;
    int32_t *order = malloc((size_t)np * sizeof(*order));
    tl_err rc = TL_ENOMEM;
    if (!order)
        return rc;
    for (int32_t u = 0; u < np; u++)
        order[u] = u;
    /* 1970-01-01 was a Thursday: day 3 of a Monday-first week. */
    int64_t wd0 = ((o->start / DAY_S) % 7 + 7 + 3) % 7;
    rc = TL_OK;
    for (w->day = 0; w->day < o->days && rc == TL_OK; w->day++) {
        w->day_ts = o->start + (int64_t)w->day * DAY_S;
        for (int32_t k = w->day_head[w->day]; k >= 0 && rc == TL_OK; k = w->acts[k].next) {
            action a = w->acts[k];
            if (a.kind == ACT_RETURN)
                rc = do_return(w, a.a);
            else if (a.kind == ACT_DUE)
                rc = do_due(w, a.a);
            else
                rc = start_loan(w, a.a, a.b, at(w, 9, 21), DEV_DESK, w->ps[a.a].branch);
        }
        double wd = weekday_factor[(wd0 + w->day) % 7];
        /* A new order every day, so no patron always comes first to the last copy. */
        for (int32_t i = np - 1; i > 0; i--) {
            int32_t j = below(w, i + 1), t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        for (int32_t i = 0; i < np && rc == TL_OK; i++)
            rc = patron_day(w, order[i], wd);
    }
    free(order);
    if (rc == TL_OK)
        rc = sort_events(w->ev, w->nev);
    return rc;
}

tl_err tl_synth_library_generate(const tl_synth_lib_opts *o, tl_synth_library *out, tl_diag *d)
{
    tl_synth_library lib = {0};
    world w = {0};
    tl_intern authors;
    tl_intern_init(&authors);
    tl_intern_init(&w.subjects);
    w.o = o;
    w.lib = &lib;
    tl_err rc = TL_EINVAL;
    if (!o->books_path || o->patrons < 1 || o->patrons > 10000000 || o->days < 1 ||
        o->days > 3650 || o->new_arrivals < 0) {
        tl_diag_set(d, NULL, 0, NULL,
                    "need books, 1..10000000 patrons, 1..3650 days, new arrivals >= 0");
        goto out;
    }
    w.rng.s = tl_splitmix64(o->seed ^ 0x11b7a7e5ULL);
    if ((rc = tl__synth_load_books(o, &lib, &authors, d)) != TL_OK)
        goto out;
    rc = TL_ENOMEM;
    w.tcap = 1 << 16;
    w.touched = calloc(w.tcap, sizeof(*w.touched));
    w.day_head = malloc((size_t)o->days * sizeof(*w.day_head));
    w.day_tail = malloc((size_t)o->days * sizeof(*w.day_tail));
    if (!w.touched || !w.day_head || !w.day_tail)
        goto out;
    for (int32_t k = 0; k < o->days; k++)
        w.day_head[k] = w.day_tail[k] = -1;
    if ((rc = setup_books(&w)) != TL_OK || (rc = setup_indexes(&w, &authors)) != TL_OK ||
        (rc = setup_patrons(&w)) != TL_OK || (rc = simulate(&w)) != TL_OK)
        goto out;
    for (int32_t i = 0; i < lib.nbooks; i++)
        lib.books[i].available = w.avail[i]; /* copies on the shelf when the year ends */
    lib.events = w.ev;
    lib.nevents = w.nev;
    w.ev = NULL;
    lib.start = o->start;
    lib.end = o->start + (int64_t)o->days * DAY_S;
    *out = lib;
    memset(&lib, 0, sizeof(lib));
out:
    world_release(&w);
    tl_synth_library_release(&lib);
    tl_intern_release(&authors);
    return rc;
}
