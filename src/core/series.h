/* The series a title names, for "next in the series" and the demo's simulated readers. */
#ifndef TL_CORE_SERIES_H
#define TL_CORE_SERIES_H

#include <stddef.h>

/* Parses the series of a goodbooks title, "Catching Fire (The Hunger Games, #2)": copies the
 * series name into name (NUL-terminated, truncated to cap) and sets *no = 2. Returns 1 when
 * the title ends in a "(Series, #N)" or "(Series #N)" group with a plain number (ranges such
 * as "#1-3" are omnibus editions and do not count), else 0. With several series ("(A, #1; B,
 * #3)") the first is taken. */
int tl_series_parse(const char *title, char *name, size_t cap, double *no);

#endif
