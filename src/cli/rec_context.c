#include "cli/rec_context.h"

#include <string.h>

#include "tailor/ingest.h"

int tl_cli_context_get(const tl_cmd_def *def, const tl_cli_context *c, tl_rec_context *out)
{
    *out = (tl_rec_context){.device = c->device, .channel = c->channel, .branch = c->branch};
    if (!c->time)
        return 0;
    int64_t t;
    if (tl_parse_time(c->time, strlen(c->time), &t) != 0 || t <= 0) {
        tl_opt_usage_error(def, "--time: '%.64s' is not Unix seconds or an ISO 8601 date or time",
                           c->time);
        return -1;
    }
    out->time = t;
    return 0;
}

void tl_cli_rerank_init(tl_cli_rerank *r)
{
    r->diversify = r->calibrate = -1;
    r->max_per_author = 0;
}

tl_rerank tl_cli_rerank_get(const tl_cli_rerank *r)
{
    return (tl_rerank){.mmr = r->diversify >= 0,
                       .lambda = (float)r->diversify,
                       .calibrate = r->calibrate >= 0,
                       .cal_lambda = (float)r->calibrate,
                       .max_per_author = r->max_per_author,
                       .all_editions = r->all_editions};
}
