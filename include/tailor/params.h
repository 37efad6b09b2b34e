/* Hyperparameters and options: one table {name, type, default, min, max, help, field} per
 * component drives parsing of "key=value" strings, range checks, --help text, model files and
 * the typed field of a struct that each value is kept in (tl_params_bind), so that code reads
 * cfg->alpha instead of looking "alpha" up by name. */
#ifndef TAILOR_PARAMS_H
#define TAILOR_PARAMS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tailor/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum tl_param_type { TL_PARAM_INT, TL_PARAM_FLOAT, TL_PARAM_STR } tl_param_type;

/* The C type of the struct field a parameter is bound to. */
typedef enum tl_param_field {
    TL_FIELD_NONE,   /* not bound (a table that is never passed to tl_params_bind) */
    TL_FIELD_INT,    /* int (TL_PARAM_INT whose range fits) */
    TL_FIELD_INT64,  /* int64_t (TL_PARAM_INT) */
    TL_FIELD_DOUBLE, /* double (TL_PARAM_FLOAT) */
    TL_FIELD_STR     /* const char * (TL_PARAM_STR): points into the tl_params */
} tl_param_field;

typedef struct tl_param_def {
    const char *name;
    tl_param_type type;
    const char *def; /* default as text; "" for an empty string */
    double min, max; /* inclusive range for numbers */
    const char *help;
    tl_param_field field; /* the type of the value's field in a bound struct */
    size_t offset;        /* that field's offset in the struct */
} tl_param_def;

/* One row of a table whose values live in the fields of struct T: the parameter is named after
 * its field f, and its type follows the field's C type (int or int64_t: TL_PARAM_INT, double:
 * TL_PARAM_FLOAT, const char *: TL_PARAM_STR; any other type does not compile), so the name and
 * the type are written once, in T. C11 only (_Generic). Example:
 *     typedef struct knn_cfg { int k; double shrink; } knn_cfg;
 *     static const tl_param_def params[] = {
 *         TL_PARAM(knn_cfg, k, "200", 1, 1e6, "neighbours kept per item"),
 *         TL_PARAM(knn_cfg, shrink, "10", 0, 1e9, "shrinkage"),
 *     }; */
#define TL_PARAM(T, f, def_, min_, max_, help_)                                                    \
    {                                                                                              \
        .name = #f, .type = TL__PARAM_TYPE(((T *)0)->f), .def = (def_), .min = (min_),             \
        .max = (max_), .help = (help_), .field = TL__PARAM_FIELD(((T *)0)->f),                     \
        .offset = offsetof(T, f)                                                                   \
    }
/* The operand of _Generic is never evaluated: the null pointer is not dereferenced. */
#define TL__PARAM_TYPE(x)                                                                          \
    _Generic((x), int: TL_PARAM_INT, int64_t: TL_PARAM_INT, double: TL_PARAM_FLOAT,               \
             const char *: TL_PARAM_STR)
#define TL__PARAM_FIELD(x)                                                                         \
    _Generic((x), int: TL_FIELD_INT, int64_t: TL_FIELD_INT64, double: TL_FIELD_DOUBLE,            \
             const char *: TL_FIELD_STR)

#define TL_PARAMS_MAX 32

typedef struct tl_params {
    const tl_param_def *defs;
    int n;
    double num[TL_PARAMS_MAX];
    char *str[TL_PARAMS_MAX];
    unsigned char is_set[TL_PARAMS_MAX]; /* set explicitly, not by default */
    void *bound;                         /* the struct the values are mirrored in, or NULL */
} tl_params;

/* Fills p with the defaults of defs[0..n); p is not bound. */
TL_API tl_err tl_params_init(tl_params *p, const tl_param_def *defs, int n);
/* Binds p to cfg, a struct whose fields the table's rows describe (TL_PARAM): writes every
 * current value to its field now, and every successful set, set_default and from_text writes
 * the new value there too, so the struct always holds what the text form says (numbers
 * converted to the field's type; a string field points into p and stays valid until that
 * parameter is set again or p is released). cfg must outlive the binding, which ends at
 * tl_params_release (string fields are then NULL). Every row must have a field, the fields must
 * not overlap, and an int field's range must fit in int: asserted, as a table that breaks
 * this is a programmer's mistake. Not thread-safe against concurrent sets, like every setter;
 * reading the struct while nobody sets is. */
TL_API void tl_params_bind(tl_params *p, void *cfg);
/* Frees the strings and ends a binding. */
TL_API void tl_params_release(tl_params *p);
/* Sets one value from text; TL_EINVAL with d filled for an unknown key, bad number or range. */
TL_API tl_err tl_params_set(tl_params *p, const char *key, const char *value, tl_diag *d);
/* Like tl_params_set, but the value counts as a default (tl_params_is_set stays false): for
 * values chosen by the library itself, e.g. on a validation split. */
TL_API tl_err tl_params_set_default(tl_params *p, const char *key, const char *value, tl_diag *d);
/* Parses "key=value". */
TL_API tl_err tl_params_set_kv(tl_params *p, const char *kv, tl_diag *d);
/* Lookups by name, for code that holds a name (a grid axis, a report), not a field: they
 * compare strings over the table, so hot paths read a bound struct instead. They assert that
 * name is in the table (a programmer's mistake otherwise). */
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
