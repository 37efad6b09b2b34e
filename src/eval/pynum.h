/* Numbers parsed the way the reference tools (Python's float() and int() on bytes) parse them,
 * so that `tailor split` and `tailor eval` accept and reject exactly the rows split.py and
 * evaluate.py do: ASCII whitespace around, '_' between digits, inf/nan spelled out. */
#ifndef TL_EVAL_PYNUM_H
#define TL_EVAL_PYNUM_H

#include <stddef.h>
#include <stdint.h>

/* float(s[0..n)): 0 and *out on success, -1 when Python would raise ValueError. */
int tl_pynum_float(const char *s, size_t n, double *out);

/* int(s[0..n)) in base 10: 0 and *out on success, -1 when Python would raise ValueError.
 * Python's integers are unbounded; a well-formed value outside int64 returns 1 with *out
 * clamped to INT64_MIN or INT64_MAX, so that callers decide whether clamping is exact enough. */
int tl_pynum_int(const char *s, size_t n, int64_t *out);

#endif
