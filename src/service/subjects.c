/* Subjects shared between a patron's recent items and new ones (see subjects.h). */
#include "service/subjects.h"

#include <string.h>
#include <strings.h>

/* Calls fn for each '|'-separated, trimmed subject of text. */
static int each_subject(const char *text, int (*fn)(void *, const char *, size_t), void *ctx)
{
    for (const char *s = text; s && *s;) {
        const char *bar = strchr(s, '|');
        size_t len = bar ? (size_t)(bar - s) : strlen(s);
        const char *a = s;
        while (len && *a == ' ') {
            a++;
            len--;
        }
        while (len && a[len - 1] == ' ')
            len--;
        if (len && fn(ctx, a, len))
            return 1;
        s = bar ? bar + 1 : NULL;
    }
    return 0;
}

static const tl_subject *find_subject(const tl_subjects *ss, const char *t, size_t len)
{
    for (int k = 0; k < ss->n; k++)
        if (ss->s[k].len == len && strncasecmp(ss->s[k].text, t, len) == 0)
            return &ss->s[k];
    return NULL;
}

static int add_subject(void *ctx, const char *t, size_t len)
{
    tl_subjects *ss = ctx;
    if (ss->n < TL_SUBJECTS_MAX && !find_subject(ss, t, len))
        ss->s[ss->n++] = (tl_subject){t, len, ss->from};
    return ss->n == TL_SUBJECTS_MAX;
}

static int match_subject(void *ctx, const char *t, size_t len)
{
    tl_subjects *ss = ctx;
    return (ss->hit = find_subject(ss, t, len)) != NULL;
}

int tl__subjects_collect(tl_subjects *ss, const tl_catalog *cat, const int32_t *hist, int32_t n,
                         int32_t recent)
{
    ss->n = 0;
    ss->hit = NULL;
    for (int32_t k = n - 1; cat->subjects && k >= 0 && k >= n - recent; k--) {
        int32_t i = hist[k];
        if (i >= 0 && i < cat->n && cat->subjects[i]) {
            ss->from = i;
            if (each_subject(cat->subjects[i], add_subject, ss))
                break;
        }
    }
    return ss->n;
}

const tl_subject *tl__subjects_match(tl_subjects *ss, const tl_catalog *cat, int32_t item)
{
    ss->hit = NULL;
    if (!ss->n || !cat->subjects || item < 0 || item >= cat->n || !cat->subjects[item])
        return NULL;
    return each_subject(cat->subjects[item], match_subject, ss) ? ss->hit : NULL;
}
