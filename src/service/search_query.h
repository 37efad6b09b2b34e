/* Private to src/service: a patron's search text made into an FTS5 MATCH expression that
 * cannot be anything but terms: every word and "phrase" quoted, word* a prefix, the index's
 * operators and column filters taken as words, invalid UTF-8 and control bytes as spaces. */
#ifndef TL_SERVICE_SEARCH_QUERY_H
#define TL_SERVICE_SEARCH_QUERY_H

#include <stddef.h>

/* The expression for text[0..len) into a malloc'd string (*out), its terms joined by " "
 * (all must match) or, with any, " OR "; *terms = how many (0: the text has no word, *out
 * ""); at most max_terms. TL_ENOMEM. */
int tl__search_match(const char *text, size_t len, int any, int max_terms, char **out, int *terms);

#endif
