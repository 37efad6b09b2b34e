/* The catalogue's subjects and creators as sorted integer lists per item (facets.h). */
#include "core/facets.h"

#include <stdlib.h>
#include <string.h>

#include "util/intern.h"

#define KEY_MAX 256 /* bytes of a subject or creator that count: longer ones are cut to it */

typedef struct builder {
    tl_intern subjects, creators;
    int32_t *feat;
    int64_t n, cap;
} builder;

static tl_err push(builder *b, int32_t id)
{
    if (b->n == b->cap) {
        int64_t cap = b->cap ? 2 * b->cap : 1024;
        int32_t *p = realloc(b->feat, (size_t)cap * sizeof(*p));
        if (!p)
            return TL_ENOMEM;
        b->feat = p;
        b->cap = cap;
    }
    b->feat[b->n++] = id;
    return TL_OK;
}

/* Interns each '|'-separated, trimmed, lower-cased element of text into in and pushes its id
 * (creators as -(id + 1), until the subjects' number is known). *first: the first id pushed. */
static tl_err add_list(builder *b, tl_intern *in, int creators, const char *text, int32_t *first)
{
    char key[KEY_MAX];
    for (const char *s = text; s && *s;) {
        const char *bar = strchr(s, '|');
        size_t len = bar ? (size_t)(bar - s) : strlen(s);
        const char *a = s;
        s = bar ? bar + 1 : NULL;
        while (len && *a == ' ') {
            a++;
            len--;
        }
        while (len && a[len - 1] == ' ')
            len--;
        if (!len)
            continue;
        if (len > KEY_MAX)
            len = KEY_MAX;
        for (size_t k = 0; k < len; k++)
            key[k] = (char)(a[k] >= 'A' && a[k] <= 'Z' ? a[k] - 'A' + 'a' : a[k]);
        int32_t id;
        tl_err rc = tl_intern_add(in, key, len, &id);
        if (rc != TL_OK)
            return rc;
        int32_t v = creators ? -(id + 1) : id;
        if (*first == INT32_MIN)
            *first = v;
        if ((rc = push(b, v)) != TL_OK)
            return rc;
    }
    return TL_OK;
}

static void sort_ids(int32_t *a, int64_t n)
{
    for (int64_t i = 1; i < n; i++) {
        int32_t v = a[i];
        int64_t j = i;
        for (; j > 0 && a[j - 1] > v; j--)
            a[j] = a[j - 1];
        a[j] = v;
    }
}

void tl_facets_release(tl_facets *f)
{
    free(f->ptr);
    free(f->feat);
    free(f->n_subj);
    free(f->first_creator);
    memset(f, 0, sizeof(*f));
}

tl_err tl_facets_build(const tl_catalog *cat, int32_t n_items, tl_facets *f)
{
    memset(f, 0, sizeof(*f));
    builder b = {.n = 0};
    tl_intern_init(&b.subjects);
    tl_intern_init(&b.creators);
    tl_err rc = TL_ENOMEM;
    f->n_items = n_items;
    f->ptr = calloc((size_t)n_items + 1, sizeof(*f->ptr));
    f->n_subj = calloc((size_t)n_items + 1, sizeof(*f->n_subj));
    f->first_creator = malloc(((size_t)n_items + 1) * sizeof(*f->first_creator));
    if (!f->ptr || !f->n_subj || !f->first_creator)
        goto out;
    for (int32_t i = 0; i < n_items; i++) {
        int32_t first_subject = INT32_MIN, first = INT32_MIN;
        int in_cat = i < cat->n;
        if (in_cat && cat->subjects &&
            (rc = add_list(&b, &b.subjects, 0, cat->subjects[i], &first_subject)) != TL_OK)
            goto out;
        if (in_cat && cat->creators &&
            (rc = add_list(&b, &b.creators, 1, cat->creators[i], &first)) != TL_OK)
            goto out;
        f->first_creator[i] = first == INT32_MIN ? -1 : -first - 1;
        f->ptr[i + 1] = b.n;
    }
    int32_t ns = b.subjects.count;
    if ((int64_t)ns + b.creators.count > INT32_MAX) {
        rc = TL_ETOOBIG;
        goto out;
    }
    /* Creators get the ids after the subjects; each list sorted, duplicates dropped. */
    int64_t w = 0;
    for (int32_t i = 0; i < n_items; i++) {
        int64_t a = f->ptr[i], e = f->ptr[i + 1];
        for (int64_t k = a; k < e; k++)
            if (b.feat[k] < 0)
                b.feat[k] = ns - b.feat[k] - 1;
        sort_ids(b.feat + a, e - a);
        f->ptr[i] = w;
        int32_t subj = 0;
        for (int64_t k = a; k < e; k++)
            if (k == a || b.feat[k] != b.feat[k - 1]) {
                subj += b.feat[k] < ns;
                b.feat[w++] = b.feat[k];
            }
        f->n_subj[i] = subj;
        if (f->first_creator[i] >= 0)
            f->first_creator[i] += ns;
    }
    f->ptr[n_items] = w;
    f->n_subjects = ns;
    f->n_features = ns + b.creators.count;
    f->feat = b.feat;
    b.feat = NULL;
    rc = TL_OK;
out:
    free(b.feat);
    tl_intern_release(&b.subjects);
    tl_intern_release(&b.creators);
    if (rc != TL_OK)
        tl_facets_release(f);
    return rc;
}

float tl_facets_jaccard(const tl_facets *f, int32_t a, int32_t b)
{
    const int32_t *x = f->feat + f->ptr[a], *y = f->feat + f->ptr[b];
    int64_t nx = f->ptr[a + 1] - f->ptr[a], ny = f->ptr[b + 1] - f->ptr[b];
    if (!nx || !ny)
        return 0.0f;
    int64_t i = 0, j = 0, both = 0;
    while (i < nx && j < ny) {
        if (x[i] == y[j]) {
            both++;
            i++;
            j++;
        } else if (x[i] < y[j]) {
            i++;
        } else {
            j++;
        }
    }
    return (float)both / (float)(nx + ny - both);
}
