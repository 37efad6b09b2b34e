/* Loading training data for CLI commands from a TSV file or from the store. */
#include "cli/data_source.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/matrix_tsv.h"
#include "tailor/store.h"

void tl_data_source_init(tl_data_source *s)
{
    memset(s, 0, sizeof(*s));
    s->min_value = -INFINITY;
}

int tl_data_source_check(const tl_data_source *s, const tl_cmd_def *c)
{
    if (s->data && s->weights)
        return tl_opt_usage_error(c, "--weights applies to the store's events, not to --data "
                                     "(use --value-weights for a file's values)");
    if (!s->data && (s->items || s->value_weights || !isinf(s->min_value)))
        return tl_opt_usage_error(c, "--items, --min-value and --value-weights need --data "
                                     "(the store has its own catalogue and event weights)");
    return TL_OPT_RUN;
}

/* Events from the store, weighted per type (the store's saved weights, or --weights). */
static tl_err load_store(const tl_data_source *s, const tl_cli *cli, tl_data *d, tl_diag *diag)
{
    tl_store *st = NULL;
    tl_event_weights w;
    tl_err rc = tl_cli_store_open(cli, cli->db_path, TL_STORE_READONLY, &st, diag);
    if (rc != TL_OK)
        return rc;
    if ((rc = tl_store_event_weights(st, &w, diag)) == TL_OK &&
        (!s->weights || (rc = tl_event_weights_parse(&w, s->weights, diag)) == TL_OK))
        rc = tl_store_load_data(st, &w, d, diag);
    tl_store_free(st);
    if (rc == TL_OK && d->ui.nnz == 0) {
        tl_diag_set(diag, NULL, 0, NULL,
                    "the store %s has no events to learn from (import events first; opted-out "
                    "patrons and event types of weight 0 are left out)",
                    cli->db_path);
        rc = TL_ENOTFOUND;
    }
    return rc;
}

tl_err tl_data_source_load(const tl_data_source *s, const tl_cli *cli, tl_data *d, tl_diag *diag)
{
    tl_err rc;
    if (!s->data)
        return load_store(s, cli, d, diag);
    /* The catalogue first, so catalogue-only items (new acquisitions) get matrix columns. */
    if (s->items && (rc = tl_data_load_items_tsv(d, s->items, 1, diag)) != TL_OK)
        return rc;
    tl_tsv_opts o;
    tl_tsv_opts_init(&o);
    o.min_value = s->min_value;
    if (s->value_weights) {
        o.weighting = TL_WEIGHT_VALUE;
        o.dup = TL_DUP_SUM;
    }
    return tl_data_load_tsv(d, s->data, &o, diag);
}
