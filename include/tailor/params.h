/* Hyperparameters and options: one table {name, type, default, min, max, help} per component
 * drives parsing of "key=value" strings, range checks, --help text and model files. */
#ifndef TAILOR_PARAMS_H
#define TAILOR_PARAMS_H

#include <stdio.h>

#include "tailor/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum tl_param_type { TL_PARAM_INT, TL_PARAM_FLOAT, TL_PARAM_STR } tl_param_type;

typedef struct tl_param_def {
    const char *name;
    tl_param_type type;
    const char *def; /* default as text; "" for an empty string */
    double min, max; /* inclusive range for numbers */
    const char *help;
} tl_param_def;

#define TL_PARAMS_MAX 32

typedef struct tl_params {
    const tl_param_def *defs;
    int n;
    double num[TL_PARAMS_MAX];
    char *str[TL_PARAMS_MAX];
    unsigned char is_set[TL_PARAMS_MAX]; /* set explicitly, not by default */
} tl_params;

/* Fills p with the defaults of defs[0..n). */
TL_API tl_err tl_params_init(tl_params *p, const tl_param_def *defs, int n);
TL_API void tl_params_release(tl_params *p);
/* Sets one value from text; TL_EINVAL with d filled for an unknown key, bad number or range. */
TL_API tl_err tl_params_set(tl_params *p, const char *key, const char *value, tl_diag *d);
/* Like tl_params_set, but the value counts as a default (tl_params_is_set stays false): for
 * values chosen by the library itself, e.g. on a validation split. */
TL_API tl_err tl_params_set_default(tl_params *p, const char *key, const char *value, tl_diag *d);
/* Parses "key=value". */
TL_API tl_err tl_params_set_kv(tl_params *p, const char *kv, tl_diag *d);
/* Lookups assert that name is in the table (a programmer's mistake otherwise). */
TL_API double tl_params_num(const tl_params *p, const char *name);
TL_API const char *tl_params_str(const tl_params *p, const char *name);
TL_API int tl_params_is_set(const tl_params *p, const char *name);
/* Writes "key=value" lines (every parameter) to a malloc'd string the caller frees. Numbers are
 * written with the fewest digits (up to 17) that read back to the same double. */
TL_API tl_err tl_params_to_text(const tl_params *p, char **out);
/* Applies "key=value" lines (as written by tl_params_to_text); unknown keys are errors. */
TL_API tl_err tl_params_from_text(tl_params *p, const char *text, tl_diag *d);
/* Prints the table as help text. */
TL_API void tl_params_print_help(const tl_param_def *defs, int n, FILE *f);

#ifdef __cplusplus
}
#endif
#endif
