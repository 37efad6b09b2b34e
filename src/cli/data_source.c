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

int tl_data_source_arg(tl_data_source *s, int argc, char **argv, int *i)
{
    const char *a = argv[*i];
    int has_value = *i + 1 < argc;
    if (strcmp(a, "--value-weights") == 0) {
        s->value_weights = 1;
        return 1;
    }
    if (strcmp(a, "--data") != 0 && strcmp(a, "--items") != 0 && strcmp(a, "--min-value") != 0 &&
        strcmp(a, "--weights") != 0)
        return 0;
    if (!has_value)
        return -1;
    const char *v = argv[++*i];
    if (strcmp(a, "--data") == 0) {
        s->data = v;
    } else if (strcmp(a, "--items") == 0) {
        s->items = v;
    } else if (strcmp(a, "--weights") == 0) {
        s->weights = v;
    } else {
        char *end;
        s->min_value = strtod(v, &end);
        if (*end || !*v)
            return -1;
    }
    return 1;
}

/* Events from the store, weighted per type (the store's saved weights, or --weights). */
static tl_err load_store(const tl_data_source *s, const tl_cli *cli, tl_data *d, tl_diag *diag)
{
    tl_store *st = NULL;
    tl_event_weights w;
    tl_err rc = tl_store_open(cli->db_path, TL_STORE_READONLY, &st, diag);
    if (rc != TL_OK)
        return rc;
    if ((rc = tl_store_event_weights(st, &w, diag)) == TL_OK &&
        (!s->weights || (rc = tl_event_weights_parse(&w, s->weights, diag)) == TL_OK))
        rc = tl_store_load_data(st, &w, d, diag);
    tl_store_free(st);
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
