/* tailor impressions export [--since DATE] [--out FILE] | stats [--json]: the log of what
 * responses showed (docs/IMPRESSIONS.md), as one TSV line per decision for analysis (tailor
 * ope reads it), and its counts. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "tailor/ingest.h"
#include "tailor/service.h"

typedef struct args {
    const char *since, *out;
    int json;
} args;

static const tl_opt opts[] = {
    {"since", 0, TL_OPT_STR, "DATE", NULL, 0, 0, TL_OPT_AT(args, since),
     "export only impressions at or after DATE (YYYY-MM-DD, ISO 8601 or Unix\n"
     "seconds; default: all)"},
    {"out", 'o', TL_OPT_STR, "FILE", NULL, 0, 0, TL_OPT_AT(args, out),
     "write the export to FILE (default: standard output)"},
    {"json", 0, TL_OPT_FLAG, NULL, NULL, 0, 0, TL_OPT_AT(args, json), "stats as one JSON object"},
    {NULL},
};

static const tl_cmd_def def = {
    .name = "impressions",
    .synopsis = "[--db PATH] impressions export [--since DATE] [--out FILE]\n"
                "       tailor [--db PATH] impressions stats [--json]",
    .about = "What the server's recommendations, homepages and searches showed (tailor serve\n"
             "logs them), with the probability of each decision and the rewards joined to\n"
             "them. export writes one TSV line per decision (header: impression_id, ts, user,\n"
             "policy, policy_version, experiment, arm, decision, chosen, propensity,\n"
             "candidates, context, reward); stats counts the log.",
    .opts = opts,
    .min_args = 1,
    .max_args = 1,
};

static tl_err write_line(void *ctx, const char *line, size_t len)
{
    tl_out *o = ctx;
    return fwrite(line, 1, len, o->f) == len ? TL_OK : TL_EIO;
}

static int stats(tl_service *svc, const args *a)
{
    tl_impression_stats st;
    tl_diag d;
    tl_diag_clear(&d);
    tl_err rc = tl_service_impressions_stats(svc, &st, &d);
    if (rc != TL_OK)
        return tl_cli_fail("impressions stats", rc, &d);
    if (a->json) {
        printf("{\"impressions\":%lld,\"anonymous\":%lld,\"decisions\":%lld,\"items\":%lld,"
               "\"rewards\":%lld,\"rewarded\":%lld,\"homepages_fixed\":%lld,"
               "\"homepages_bandit\":%lld,\"bandit_updates\":%lld}\n",
               st.impressions, st.anonymous, st.decisions, st.items, st.rewards, st.rewarded,
               st.by_policy[0], st.by_policy[1], st.bandit_updates);
        return TL_EXIT_OK;
    }
    printf("impressions %lld (anonymous %lld)\ndecisions %lld\nitems shown %lld\n"
           "rewards %lld (impressions with one: %lld)\nhomepages: fixed %lld, bandit %lld\n",
           st.impressions, st.anonymous, st.decisions, st.items, st.rewards, st.rewarded,
           st.by_policy[0], st.by_policy[1]);
    if (st.bandit_updates >= 0)
        printf("row bandit: %lld updates\n", st.bandit_updates);
    else
        printf("row bandit: none saved\n");
    return TL_EXIT_OK;
}

static int run(const tl_cli *cli, int argc, char **argv)
{
    args a;
    memset(&a, 0, sizeof(a));
    int first, code = tl_opt_parse(&def, &a, argc, argv, &first);
    if (code != TL_OPT_RUN)
        return code;
    const char *sub = argv[first];
    int export = strcmp(sub, "export") == 0;
    if (!export && strcmp(sub, "stats") != 0)
        return tl_opt_usage_error(&def, "unknown subcommand '%s': export or stats", sub);
    if (!export && (a.since || a.out))
        return tl_opt_usage_error(&def, "--since and --out are for export");
    if (export && a.json)
        return tl_opt_usage_error(&def, "--json is for stats");
    int64_t since = 0;
    if (a.since && (tl_parse_time(a.since, strlen(a.since), &since) != 0 || since <= 0))
        return tl_opt_usage_error(
            &def, "--since '%s' is not a time after 1970 (YYYY-MM-DD, ISO 8601 or Unix seconds)",
            a.since);
    tl_diag d;
    tl_diag_clear(&d);
    tl_service_opts so = {.db = cli->db_path};
    tl_service *svc = NULL;
    tl_err rc = tl_cli_service_open(cli, &so, &svc, &d);
    if (rc != TL_OK)
        return tl_cli_fail("impressions", rc, &d);
    if (!export) {
        code = stats(svc, &a);
    } else {
        tl_out o;
        code = tl_out_open(&o, a.out);
        if (code == TL_EXIT_OK) {
            rc = tl_service_impressions_export(svc, since, write_line, &o, &d);
            code = tl_out_close(&o, rc == TL_OK ? TL_EXIT_OK
                                                : tl_cli_fail("impressions export", rc, &d));
        }
    }
    tl_service_close(svc);
    return code;
}

const tl_cmd tl_cmd_impressions = {&def, "impressions: export the log for analysis, stats", run};
