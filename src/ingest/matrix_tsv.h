/* The fast path from a TSV file straight into the in-memory matrices, without the store:
 * `user item [value] [timestamp]` files (interactions.tsv, train.tsv) and items.tsv. */
#ifndef TL_INGEST_MATRIX_TSV_H
#define TL_INGEST_MATRIX_TSV_H

#include "core/data.h"

typedef enum tl_weighting {
    TL_WEIGHT_ONE,   /* every row counts 1 (implicit data) */
    TL_WEIGHT_VALUE, /* the value column is the weight */
} tl_weighting;

typedef struct tl_tsv_opts {
    tl_weighting weighting;
    double min_value; /* rows whose value is below this are dropped (binarization); -inf = keep */
    tl_dup dup;       /* how repeated user-item rows merge */
} tl_tsv_opts;

/* Defaults: weight 1, keep every row, duplicates keep the maximum (binary data stays binary). */
void tl_tsv_opts_init(tl_tsv_opts *o);

/* Reads a header-driven TSV (columns user and item required; value and timestamp optional, any
 * order) into d, interning ids in first-seen order, then builds d->ui and d->iu.
 * Errors: TL_EIO (cannot open), TL_EPARSE with diag naming file, line and field. */
tl_err tl_data_load_tsv(tl_data *d, const char *path, const tl_tsv_opts *o, tl_diag *diag);

/* Reads items.tsv (`item title creators year subjects`, lists '|'-separated) into d->cat.
 * Items not yet interned are added when add_new is set (cold items: no interactions), else
 * skipped. Call before tl_data_build when adding items, so the matrices get every column. */
tl_err tl_data_load_items_tsv(tl_data *d, const char *path, int add_new, tl_diag *diag);

#endif
