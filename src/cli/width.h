/* Text laid out in terminal columns: titles are cut and padded by display width (a CJK
 * character takes two columns, a combining mark none), never inside a UTF-8 sequence, and
 * control characters or invalid bytes never reach the terminal. */
#ifndef TL_CLI_WIDTH_H
#define TL_CLI_WIDTH_H

#include <stddef.h>

/* Selects a UTF-8 LC_CTYPE (C.UTF-8, else the environment's) so that wcwidth knows Unicode;
 * without one a small built-in table decides widths. Call once, before any output. */
void tl_width_init(void);

/* Columns that s takes on a terminal (as tl_width_fit would print it). */
int tl_width_of(const char *s);

/* Writes s into buf (cap bytes) to take exactly cols columns: cut at a character boundary
 * with "…" when longer (when pad is set; else only cut), padded with spaces when shorter and
 * pad is set. Invalid UTF-8 and control characters are written as U+FFFD. Returns buf. */
const char *tl_width_fit(const char *s, int cols, int pad, char *buf, size_t cap);

#endif
