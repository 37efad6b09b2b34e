/* The demo catalogue: goodbooks-10k's books.csv (RFC 4180, through ingest/csv) joined with the
 * subjects file on book_id, plus what the simulation derives from it: first authors, series
 * parsed from titles and, for each book in a series, the next volume. */
#include "synth/library_int.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/series.h"
#include "ingest/csv.h"

static int col_of(char **f, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcmp(f[i], name) == 0)
            return i;
    return -1;
}

/* A copy with tabs and line breaks turned into spaces: the outputs are TSV. */
static char *clean_dup(const char *s, size_t n)
{
    char *c = malloc(n + 1);
    if (!c)
        return NULL;
    for (size_t i = 0; i < n; i++)
        c[i] = (char)((s[i] == '\t' || s[i] == '\n' || s[i] == '\r') ? ' ' : s[i]);
    c[n] = '\0';
    return c;
}

/* "J.K. Rowling, Mary GrandPré" -> "J.K. Rowling|Mary GrandPré"; *first_len = first name. */
static char *authors_list(const char *s, size_t n, size_t *first_len)
{
    char *c = malloc(n + 1), *w = c;
    if (!c)
        return NULL;
    *first_len = 0;
    size_t i = 0;
    while (i < n) {
        while (i < n && (s[i] == ' ' || s[i] == ','))
            i++;
        size_t b = i;
        while (i < n && s[i] != ',')
            i++;
        size_t e = i;
        while (e > b && s[e - 1] == ' ')
            e--;
        if (e == b)
            continue;
        if (w != c)
            *w++ = '|';
        for (size_t k = b; k < e; k++)
            *w++ =
                (char)((s[k] == '|' || s[k] == '\t' || s[k] == '\n' || s[k] == '\r') ? ' ' : s[k]);
        if (!*first_len)
            *first_len = (size_t)(w - c);
    }
    *w = '\0';
    return c;
}

static const char *norm_language(const char *s)
{
    /* goodbooks mixes "eng", "en-US", "en-GB", "en-CA" and "en" for English. */
    if (strcmp(s, "en") == 0 || strncmp(s, "en-", 3) == 0)
        return "eng";
    return s;
}

static tl_err load_subjects(const char *path, tl_intern *ids, char ***subj, tl_diag *d)
{
    tl_csv *r = NULL;
    tl_csv_opts co = {.delim = '\t'};
    char **f;
    size_t *fl;
    int nf, got;
    tl_err rc = tl_csv_open(path, &co, &r, d);
    if (rc != TL_OK)
        return rc;
    if ((got = tl_csv_next(r, &f, &fl, &nf, d)) != 1) {
        if (got == 0)
            tl_diag_set(d, path, 1, NULL, "missing header line");
        rc = got < 0 ? (tl_err)-got : TL_EPARSE;
        goto out;
    }
    int cb = col_of(f, nf, "book_id"), cs = col_of(f, nf, "subjects");
    if (cb < 0 || cs < 0) {
        tl_diag_set(d, path, 1, NULL, "header must name the columns 'book_id' and 'subjects'");
        rc = TL_EPARSE;
        goto out;
    }
    while ((got = tl_csv_next(r, &f, &fl, &nf, d)) == 1) {
        if (nf <= cb || nf <= cs) {
            tl_diag_set(d, path, tl_csv_line(r), NULL, "expected at least %d fields, found %d",
                        (cb > cs ? cb : cs) + 1, nf);
            rc = TL_EPARSE;
            goto out;
        }
        int32_t i = tl_intern_find(ids, f[cb], fl[cb]);
        if (i < 0 || (*subj)[i])
            continue; /* a book not in the catalogue, or a repeated row: first one wins */
        if (!((*subj)[i] = clean_dup(f[cs], fl[cs]))) {
            rc = TL_ENOMEM;
            goto out;
        }
    }
    if (got < 0)
        rc = (tl_err)-got;
out:
    tl_csv_close(r);
    return rc;
}

typedef struct volume {
    int32_t series, book;
    double no;
    int64_t ratings;
} volume;

static int cmp_volume(const void *a, const void *b)
{
    const volume *x = a, *y = b;
    if (x->series != y->series)
        return x->series < y->series ? -1 : 1;
    if (x->no != y->no)
        return x->no < y->no ? -1 : 1;
    /* The same volume twice (two editions): the more popular first, then catalogue order. */
    if (x->ratings != y->ratings)
        return x->ratings > y->ratings ? -1 : 1;
    return x->book < y->book ? -1 : 1;
}

/* book.next = the book numbered floor(series_no) + 1 in the same series, when there is one. */
static tl_err link_series(tl_synth_library *lib)
{
    volume *v = malloc((size_t)(lib->nbooks ? lib->nbooks : 1) * sizeof(*v));
    int32_t n = 0;
    if (!v)
        return TL_ENOMEM;
    for (int32_t i = 0; i < lib->nbooks; i++) {
        const tl_synth_book *b = &lib->books[i];
        if (b->series >= 0)
            v[n++] = (volume){b->series, i, b->series_no, b->ratings};
    }
    qsort(v, (size_t)n, sizeof(*v), cmp_volume);
    for (int32_t a = 0; a < n; a++) {
        double want = floor(v[a].no) + 1.0;
        for (int32_t b = a + 1; b < n && v[b].series == v[a].series && v[b].no <= want; b++) {
            if (v[b].no == want) {
                lib->books[v[a].book].next = v[b].book;
                break;
            }
        }
    }
    free(v);
    return TL_OK;
}

tl_err tl__synth_load_books(const tl_synth_lib_opts *o, tl_synth_library *lib, tl_intern *authors,
                            tl_diag *d)
{
    tl_csv *r = NULL;
    tl_csv_opts co = {.delim = ',', .quoting = 1};
    tl_intern ids, series;
    char **subj = NULL;
    char **f;
    size_t *fl;
    int nf, got, cap = 0;
    tl_intern_init(&ids);
    tl_intern_init(&series);
    const char *path = o->books_path;
    tl_err rc = tl_csv_open(path, &co, &r, d);
    if (rc != TL_OK)
        goto out;
    if ((got = tl_csv_next(r, &f, &fl, &nf, d)) != 1) {
        if (got == 0)
            tl_diag_set(d, path, 1, NULL, "missing header line");
        rc = got < 0 ? (tl_err)-got : TL_EPARSE;
        goto out;
    }
    int cid = col_of(f, nf, "book_id"), cau = col_of(f, nf, "authors");
    int cti = col_of(f, nf, "title"), cyr = col_of(f, nf, "original_publication_year");
    int cla = col_of(f, nf, "language_code"), cra = col_of(f, nf, "work_ratings_count");
    if (cra < 0)
        cra = col_of(f, nf, "ratings_count");
    if (cid < 0 || cau < 0 || cti < 0 || cra < 0) {
        tl_diag_set(d, path, 1, NULL,
                    "header must name book_id, authors, title and work_ratings_count");
        rc = TL_EPARSE;
        goto out;
    }
    int need = cid;
    int cols[] = {cau, cti, cyr, cla, cra};
    for (size_t k = 0; k < sizeof(cols) / sizeof(cols[0]); k++)
        need = cols[k] > need ? cols[k] : need;
    while ((got = tl_csv_next(r, &f, &fl, &nf, d)) == 1) {
        long line = tl_csv_line(r);
        if (nf <= need) {
            tl_diag_set(d, path, line, NULL, "expected %d fields, found %d", need + 1, nf);
            rc = TL_EPARSE;
            goto out;
        }
        if (!fl[cid] || tl_intern_find(&ids, f[cid], fl[cid]) >= 0) {
            tl_diag_set(d, path, line, "book_id", fl[cid] ? "repeated id" : "empty id");
            rc = TL_EPARSE;
            goto out;
        }
        char *end;
        long long ratings = strtoll(f[cra], &end, 10);
        if (!fl[cra] || *end || ratings < 0) {
            tl_diag_set(d, path, line, "work_ratings_count", "'%s' is not a count", f[cra]);
            rc = TL_EPARSE;
            goto out;
        }
        if (lib->nbooks == cap) {
            int ncap = cap ? cap * 2 : 1024;
            tl_synth_book *nb = realloc(lib->books, (size_t)ncap * sizeof(*nb));
            if (!nb) {
                rc = TL_ENOMEM;
                goto out;
            }
            lib->books = nb;
            cap = ncap;
        }
        int32_t bi;
        if ((rc = tl_intern_add(&ids, f[cid], fl[cid], &bi)) != TL_OK)
            goto out;
        tl_synth_book *b = &lib->books[lib->nbooks++];
        memset(b, 0, sizeof(*b));
        b->series = b->next = b->author = -1;
        b->ratings = ratings;
        b->year = cyr >= 0 && fl[cyr] ? (int32_t)strtod(f[cyr], NULL) : 0;
        size_t first_len = 0;
        b->id = malloc(fl[cid] + 2);
        b->title = clean_dup(f[cti], fl[cti]);
        b->creators = authors_list(f[cau], fl[cau], &first_len);
        b->language = cla >= 0 ? strdup(norm_language(f[cla])) : strdup("");
        if (!b->id || !b->title || !b->creators || !b->language) {
            rc = TL_ENOMEM;
            goto out;
        }
        b->id[0] = 'b';
        memcpy(b->id + 1, f[cid], fl[cid] + 1);
        if ((rc = tl_intern_add(authors, b->creators, first_len, &b->author)) != TL_OK)
            goto out;
        char sname[256];
        double no;
        if (tl_series_parse(b->title, sname, sizeof(sname), &no)) {
            if ((rc = tl_intern_add(&series, sname, strlen(sname), &b->series)) != TL_OK)
                goto out;
            b->series_no = no;
        }
    }
    if (got < 0) {
        rc = (tl_err)-got;
        goto out;
    }
    if (!lib->nbooks) {
        tl_diag_set(d, path, 0, NULL, "no books");
        rc = TL_EPARSE;
        goto out;
    }
    if (!(subj = calloc((size_t)lib->nbooks, sizeof(*subj)))) {
        rc = TL_ENOMEM;
        goto out;
    }
    if (o->subjects_path && (rc = load_subjects(o->subjects_path, &ids, &subj, d)) != TL_OK)
        goto out;
    for (int32_t i = 0; i < lib->nbooks; i++) {
        lib->books[i].subjects = subj[i] ? subj[i] : strdup("");
        subj[i] = NULL;
        if (!lib->books[i].subjects) {
            rc = TL_ENOMEM;
            goto out;
        }
    }
    if (!(lib->series = calloc((size_t)(series.count ? series.count : 1), sizeof(char *)))) {
        rc = TL_ENOMEM;
        goto out;
    }
    for (int32_t s = 0; s < series.count; s++) {
        if (!(lib->series[s] = strdup(tl_intern_str(&series, s)))) {
            rc = TL_ENOMEM;
            goto out;
        }
        lib->nseries = s + 1;
    }
    rc = link_series(lib);
out:
    if (subj)
        for (int32_t i = 0; i < lib->nbooks; i++)
            free(subj[i]);
    free(subj);
    tl_intern_release(&ids);
    tl_intern_release(&series);
    tl_csv_close(r);
    return rc;
}
