/* The audit's metrics (audit.h; docs/AUDIT.md defines each one). Everything is counted per
 * item first (recommendations, loans), so the cost is one pass over the lists and one over
 * the histories, plus sorts of the catalogue. */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "eval/audit.h"
#include "util/intern.h"

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* Sorted ascending copy of counts, or NULL. */
static int64_t *sorted_copy(const int64_t *counts, int32_t n)
{
    int64_t *s = malloc((size_t)(n ? n : 1) * sizeof(*s));
    if (!s)
        return NULL;
    memcpy(s, counts, (size_t)n * sizeof(*s));
    qsort(s, (size_t)n, sizeof(*s), cmp_i64);
    return s;
}

/* G = sum_i (2i - n - 1) x_(i) / (n sum x), x ascending, i from 1: the mean absolute
 * difference over twice the mean, exact for a finite population. */
static double gini_sorted(const int64_t *s, int32_t n)
{
    double num = 0, total = 0;
    for (int32_t i = 0; i < n; i++) {
        num += (2.0 * (i + 1) - n - 1) * (double)s[i];
        total += (double)s[i];
    }
    return total > 0 ? num / ((double)n * total) : 0;
}

double tl_audit_gini(const int64_t *counts, int32_t n)
{
    int64_t *s = n > 0 ? sorted_copy(counts, n) : NULL;
    double g = s ? gini_sorted(s, n) : 0;
    free(s);
    return g;
}

/* out[k]: the share of the total held by the k% smallest counts, interpolated linearly
 * between items (the curve of a Lorenz plot). */
static void lorenz_sorted(const int64_t *s, int32_t n, double *out)
{
    double total = 0;
    for (int32_t i = 0; i < n; i++)
        total += (double)s[i];
    double cum = 0;
    int32_t i = 0;
    for (int k = 0; k < TL_AUDIT_LORENZ_POINTS; k++) {
        double pos = (double)n * k / (TL_AUDIT_LORENZ_POINTS - 1);
        while (i < n && i + 1 <= pos)
            cum += (double)s[i++];
        double part = i < n ? (pos - i) * (double)s[i] : 0;
        out[k] = total > 0 ? (cum + part) / total : 0;
    }
}

double tl_audit_jaccard_distance(const int32_t *a, int na, const int32_t *b, int nb)
{
    int i = 0, j = 0, both = 0;
    while (i < na && j < nb) {
        if (a[i] == b[j]) {
            both++;
            i++;
            j++;
        } else if (a[i] < b[j]) {
            i++;
        } else {
            j++;
        }
    }
    int either = na + nb - both;
    return either ? 1.0 - (double)both / either : 0;
}

/* The catalogue's subjects as sorted, distinct ids per item: item i's are
 * ids[ptr[i]..ptr[i+1]). Subjects are '|'-separated, compared without case (as the subject=
 * filter does) and without surrounding blanks; names keeps each one's first spelling. */
typedef struct subjects {
    int64_t *ptr;
    int32_t *ids;
    tl_intern keys, names;
} subjects;

static void subjects_release(subjects *s)
{
    free(s->ptr);
    free(s->ids);
    tl_intern_release(&s->keys);
    tl_intern_release(&s->names);
}

static tl_err add_subject(subjects *s, const char *p, size_t len, int32_t *id)
{
    char key[512];
    if (len >= sizeof(key))
        len = sizeof(key) - 1; /* a longer subject is told apart by its first 511 bytes */
    for (size_t k = 0; k < len; k++)
        key[k] = (char)tolower((unsigned char)p[k]);
    int32_t before = s->keys.count, name;
    tl_err rc = tl_intern_add(&s->keys, key, len, id);
    if (rc == TL_OK && s->keys.count > before)
        rc = tl_intern_add(&s->names, p, len, &name);
    return rc;
}

static tl_err subjects_build(const tl_model *m, subjects *s)
{
    memset(s, 0, sizeof(*s));
    tl_intern_init(&s->keys);
    tl_intern_init(&s->names);
    if (m->cat.n < m->n_items || !m->cat.subjects)
        return TL_OK;
    int64_t cap = 0;
    for (int32_t i = 0; i < m->n_items; i++)
        for (const char *p = m->cat.subjects[i]; p && *p; p++)
            cap += *p == '|';
    cap += m->n_items;
    s->ptr = calloc((size_t)m->n_items + 1, sizeof(*s->ptr));
    s->ids = malloc((size_t)(cap ? cap : 1) * sizeof(*s->ids));
    if (!s->ptr || !s->ids)
        return TL_ENOMEM;
    int64_t at = 0;
    for (int32_t i = 0; i < m->n_items; i++) {
        int64_t first = at;
        for (const char *p = m->cat.subjects[i]; p && *p;) {
            const char *bar = strchr(p, '|');
            const char *end = bar ? bar : p + strlen(p);
            const char *a = p;
            while (a < end && isspace((unsigned char)*a))
                a++;
            while (end > a && isspace((unsigned char)end[-1]))
                end--;
            tl_err rc;
            if (end > a && (rc = add_subject(s, a, (size_t)(end - a), &s->ids[at++])) != TL_OK)
                return rc;
            p = bar ? bar + 1 : NULL;
        }
        qsort(s->ids + first, (size_t)(at - first), sizeof(*s->ids), cmp_i32);
        int64_t w = first; /* "a|A": one subject */
        for (int64_t k = first; k < at; k++)
            if (k == first || s->ids[k] != s->ids[w - 1])
                s->ids[w++] = s->ids[k];
        at = w;
        s->ptr[i + 1] = at;
    }
    return TL_OK;
}

static int n_subj(const subjects *s, int32_t i)
{
    return s->ptr ? (int)(s->ptr[i + 1] - s->ptr[i]) : 0;
}

/* Intra-list diversity over the lists (see audit.h). */
static void diversity(const subjects *s, const int32_t *lists, int32_t n_lists, int n,
                      tl_audit_report *r)
{
    double sum = 0;
    for (int32_t l = 0; l < n_lists; l++) {
        const int32_t *row = lists + (size_t)l * (size_t)n;
        double d = 0;
        int with = 0, pairs = 0;
        for (int a = 0; a < n; a++) {
            if (row[a] < 0)
                continue;
            if (!n_subj(s, row[a])) {
                r->recs_without_subjects++;
                continue;
            }
            with++;
            for (int b = a + 1; b < n; b++) {
                if (row[b] < 0 || !n_subj(s, row[b]))
                    continue;
                d += tl_audit_jaccard_distance(s->ids + s->ptr[row[a]], n_subj(s, row[a]),
                                               s->ids + s->ptr[row[b]], n_subj(s, row[b]));
                pairs++;
            }
        }
        if (with < 2) {
            r->ild_lists_skipped++;
            continue;
        }
        sum += d / pairs;
        r->ild_lists++;
    }
    r->ild = r->ild_lists ? sum / r->ild_lists : 0;
}

typedef struct subject_count {
    int32_t id;
    int64_t recs, items, loans;
} subject_count;

static int cmp_exposure(const void *a, const void *b)
{
    const subject_count *x = a, *y = b;
    if (x->recs != y->recs)
        return x->recs > y->recs ? -1 : 1;
    if (x->items != y->items)
        return x->items > y->items ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id); /* ties: the catalogue's order */
}

/* Per subject: recommendations, catalogue items and loans carrying it; the top ones by
 * recommendations into r->top. */
static tl_err exposure(const subjects *s, const int64_t *rec_count, const int64_t *pop,
                       int32_t n_items, tl_audit_report *r)
{
    int32_t ns = s->keys.count;
    r->n_subjects = ns;
    if (!ns)
        return TL_OK;
    subject_count *c = calloc((size_t)ns, sizeof(*c));
    if (!c)
        return TL_ENOMEM;
    for (int32_t k = 0; k < ns; k++)
        c[k].id = k;
    for (int32_t i = 0; i < n_items; i++)
        for (int64_t p = s->ptr[i]; p < s->ptr[i + 1]; p++) {
            subject_count *e = &c[s->ids[p]];
            e->recs += rec_count[i];
            e->items++;
            e->loans += pop[i];
        }
    qsort(c, (size_t)ns, sizeof(*c), cmp_exposure);
    tl_err rc = TL_OK;
    for (int32_t k = 0; k < ns && k < TL_AUDIT_TOP_SUBJECTS; k++) {
        tl_audit_subject *t = &r->top[k];
        if (!(t->name = strdup(tl_intern_str(&s->names, c[k].id)))) {
            rc = TL_ENOMEM;
            break;
        }
        r->n_top = k + 1;
        t->recs = c[k].recs;
        t->items = c[k].items;
        t->loans = c[k].loans;
        t->rec_share = r->n_recs ? (double)t->recs / (double)r->n_recs : 0;
        t->item_share = (double)t->items / n_items;
        t->loan_share = r->n_loans ? (double)t->loans / (double)r->n_loans : 0;
    }
    free(c);
    return rc;
}

/* The head: items in order of popularity until they hold TL_AUDIT_HEAD_SHARE of the loans,
 * and every item tied with the last one taken. Returns the popularity an item needs to be in
 * the head (at least 1). s: the popularities sorted ascending. */
static int64_t head_cut(const int64_t *s, int32_t n, int64_t total)
{
    double want = TL_AUDIT_HEAD_SHARE * (double)total, cum = 0;
    for (int32_t i = n - 1; i >= 0; i--) {
        cum += (double)s[i];
        if (cum >= want)
            return s[i] > 0 ? s[i] : 1;
    }
    return 1;
}

/* Popularity measures of the recommendations and, as the baseline, of the loans. */
static void popularity(const tl_model *m, const int64_t *pop, const int64_t *sorted,
                       const int64_t *rec_count, tl_audit_report *r)
{
    int32_t n = m->n_items;
    int64_t cut = head_cut(sorted, n, r->n_loans);
    double pct_r = 0, pct_l = 0, nov_r = 0, nov_l = 0, tail_r = 0, tail_l = 0, head_l = 0;
    for (int32_t i = 0; i < n; i++) {
        if (!rec_count[i] && !pop[i])
            continue;
        /* mid-rank percentile: items less popular, and half of those as popular */
        const int64_t *lo = sorted, *hi = sorted + n;
        while (lo < hi) { /* first >= pop[i] */
            const int64_t *mid = lo + (hi - lo) / 2;
            if (*mid < pop[i])
                lo = mid + 1;
            else
                hi = mid;
        }
        const int64_t *eq = lo;
        while (eq < sorted + n && *eq == pop[i])
            eq++;
        double pct = 100.0 * ((double)(lo - sorted) + 0.5 * (double)(eq - lo)) / n;
        double bits = -log2((double)(pop[i] > 0 ? pop[i] : 1) / r->n_patrons);
        double rc = (double)rec_count[i], lc = (double)pop[i];
        pct_r += rc * pct;
        pct_l += lc * pct;
        nov_r += rc * bits;
        nov_l += lc * bits;
        if (pop[i] >= cut) {
            r->head_items++;
            head_l += lc;
        } else {
            tail_r += rc;
            tail_l += lc;
        }
    }
    double nr = (double)r->n_recs, nl = (double)r->n_loans;
    r->pop_pct_recs = pct_r / nr;
    r->pop_pct_loans = pct_l / nl;
    r->novelty_recs = nov_r / nr;
    r->novelty_loans = nov_l / nl;
    r->tail_recs = tail_r / nr;
    r->tail_loans = tail_l / nl;
    r->head_loan_share = head_l / nl;
}

tl_err tl_audit_lists(const tl_model *m, const int32_t *lists, int32_t n_lists, int n,
                      tl_audit_report *out, tl_diag *diag)
{
    memset(out, 0, sizeof(*out));
    if (n < 1 || n_lists < 0) {
        tl_diag_set(diag, NULL, 0, "n", "expected at least 1 item per list, got %d", n);
        return TL_EINVAL;
    }
    const tl_csr *h = &m->hist;
    if (!h->indptr || h->nnz <= 0 || m->n_items < 1) {
        tl_diag_set(diag, NULL, 0, "model",
                    "the model file has no training histories to audit "
                    "against");
        return TL_EUNSUPPORTED;
    }
    int32_t ni = m->n_items;
    out->n_lists = n_lists;
    out->n_items = ni;
    out->n = n;
    out->n_loans = h->nnz;
    out->n_patrons = (int32_t)h->nrows;
    int64_t *rec_count = calloc((size_t)ni, sizeof(*rec_count));
    int64_t *pop = calloc((size_t)ni, sizeof(*pop));
    int64_t *sorted = NULL;
    subjects subj;
    memset(&subj, 0, sizeof(subj));
    tl_err rc = TL_ENOMEM;
    if (!rec_count || !pop)
        goto out;
    for (int32_t l = 0; l < n_lists; l++) {
        const int32_t *row = lists + (size_t)l * (size_t)n;
        int got = 0;
        for (int k = 0; k < n; k++) {
            if (row[k] < 0)
                continue;
            if (row[k] >= ni) {
                tl_diag_set(diag, NULL, 0, "lists", "list %d has item index %d; the model has %d",
                            (int)l, (int)row[k], (int)ni);
                rc = TL_EINVAL;
                goto out;
            }
            rec_count[row[k]]++;
            got++;
        }
        out->n_recs += got;
        out->empty_lists += !got;
    }
    if (!out->n_recs) {
        tl_diag_set(diag, NULL, 0, "lists", "no recommendation to audit (%d empty lists)",
                    (int)n_lists);
        rc = TL_EINVAL;
        goto out;
    }
    for (int64_t p = 0; p < h->nnz; p++)
        pop[h->indices[p]]++;
    for (int32_t i = 0; i < ni; i++)
        out->items_recommended += rec_count[i] > 0;
    out->coverage = (double)out->items_recommended / ni;
    if (!(sorted = sorted_copy(rec_count, ni)))
        goto out;
    out->gini_recs = gini_sorted(sorted, ni);
    lorenz_sorted(sorted, ni, out->lorenz_recs);
    free(sorted);
    if (!(sorted = sorted_copy(pop, ni)))
        goto out;
    out->gini_loans = gini_sorted(sorted, ni);
    lorenz_sorted(sorted, ni, out->lorenz_loans);
    popularity(m, pop, sorted, rec_count, out);
    if ((rc = subjects_build(m, &subj)) != TL_OK)
        goto out;
    out->has_subjects = subj.keys.count > 0;
    if (out->has_subjects) {
        diversity(&subj, lists, n_lists, n, out);
        rc = exposure(&subj, rec_count, pop, ni, out);
    }
out:
    subjects_release(&subj);
    free(rec_count);
    free(pop);
    free(sorted);
    if (rc != TL_OK)
        tl_audit_release(out);
    return rc;
}

void tl_audit_release(tl_audit_report *r)
{
    for (int k = 0; k < r->n_top; k++)
        free(r->top[k].name);
    r->n_top = 0;
}
