/* The subjects of a patron's recent items, and whether a new item shares one: "New in your
 * subjects" on the homepage and "In your subject: Y" in a new-arrivals digest. */
#ifndef TL_SERVICE_SUBJECTS_H
#define TL_SERVICE_SUBJECTS_H

#include <stddef.h>
#include <stdint.h>

#include "core/data.h"

#define TL_SUBJECTS_MAX 64 /* of the patron's history */

typedef struct tl_subject {
    const char *text; /* into the catalogue: not NUL-terminated */
    size_t len;
    int32_t from; /* the history item it came from (the most recent) */
} tl_subject;

typedef struct tl_subjects {
    tl_subject s[TL_SUBJECTS_MAX];
    int n;
    int32_t from;
    const tl_subject *hit;
} tl_subjects;

/* ss = the distinct subjects (case-insensitive) of the last `recent` items of hist[0..n)
 * (oldest first), newest first, up to TL_SUBJECTS_MAX; returns how many. */
int tl__subjects_collect(tl_subjects *ss, const tl_catalog *cat, const int32_t *hist, int32_t n,
                         int32_t recent);
/* The first of item's '|'-separated subjects that ss has, or NULL. */
const tl_subject *tl__subjects_match(tl_subjects *ss, const tl_catalog *cat, int32_t item);

#endif
