/* Where a command's training data comes from: a TSV file (--data) with an optional catalogue
 * (--items), or the store (--db) with its event weights (--weights). */
#ifndef TL_CLI_DATA_SOURCE_H
#define TL_CLI_DATA_SOURCE_H

#include "cli/cli.h"
#include "core/data.h"

typedef struct tl_data_source {
    const char *data;    /* TSV of interactions; NULL = the store */
    const char *items;   /* items.tsv catalogue, optional */
    double min_value;    /* rows below are dropped (-inf = keep all) */
    int value_weights;   /* weight = value */
    const char *weights; /* store: per-event-type weights "loan=1,view=0.2" */
} tl_data_source;

void tl_data_source_init(tl_data_source *s);
/* TL_EXIT_USAGE (message printed) when options meant for one source were given to the other. */
int tl_data_source_check(const tl_data_source *s, const tl_cmd_def *c);
tl_err tl_data_source_load(const tl_data_source *s, const tl_cli *cli, tl_data *d, tl_diag *diag);

#endif
