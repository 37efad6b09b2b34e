/* tailor split: the protocol's train/test split, byte-identical to tools/split.py. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "eval/split.h"

typedef struct args {
    int mode, implicit, no_filter;
    uint64_t seed;
} args;

static const tl_opt opts[] = {
    {"mode", 0, TL_OPT_CHOICE, "random|temporal", NULL, 0, 0, TL_OPT_AT(args, mode),
     "random (a hash of seed, user and item) or temporal (latest to test)"},
    {"seed", 0, TL_OPT_SEED, "N", "42", 0, 0, TL_OPT_AT(args, seed),
     "seed of the random split (-2^63 .. 2^64-1)"},
    {"implicit", 0, TL_OPT_FLAG, NULL, NULL, 0, 0, TL_OPT_AT(args, implicit),
     "every row is a positive (else value >= 4)"},
    {"no-filter", 0, TL_OPT_FLAG, NULL, NULL, 0, 0, TL_OPT_AT(args, no_filter),
     "keep users with fewer than 5 positives"},
    {NULL},
};

static const tl_cmd_def def = {
    .name = "split",
    .synopsis = "split INPUT OUTDIR --mode random|temporal [--seed N] [--implicit] [--no-filter]",
    .about = "Writes OUTDIR/train.tsv and OUTDIR/test.tsv from INPUT (user item value timestamp,\n"
             ".gz too) as docs/PROTOCOL.md says, byte for byte what tools/split.py writes. For a\n"
             "store's events: tailor export events --out interactions.tsv, then --implicit.",
    .opts = opts,
    .min_args = 2,
    .max_args = 2,
};

static int run(const tl_cli *cli, int argc, char **argv)
{
    (void)cli;
    args a;
    memset(&a, 0, sizeof(a));
    a.mode = -1;
    int first, code = tl_opt_parse(&def, &a, argc, argv, &first);
    if (code != TL_OPT_RUN)
        return code;
    if (a.mode < 0)
        return tl_opt_usage_error(&def, "needs --mode random or --mode temporal");
    static const tl_split_mode modes[] = {TL_SPLIT_RANDOM, TL_SPLIT_TEMPORAL};
    tl_split_opts o;
    tl_split_opts_init(&o);
    o.mode = modes[a.mode];
    o.seed = a.seed;
    o.implicit = a.implicit;
    if (a.no_filter)
        o.min_positives = 0;
    tl_split_stats st;
    tl_diag diag;
    tl_diag_clear(&diag);
    tl_err rc = tl_split_file(argv[first], argv[first + 1], &o, &st, &diag);
    if (rc != TL_OK)
        return tl_cli_fail("split", rc, &diag);
    printf("train %lld pairs, test %lld pairs, users %lld\n", (long long)st.train_pairs,
           (long long)st.test_pairs, (long long)st.users);
    return TL_EXIT_OK;
}

const tl_cmd tl_cmd_split = {&def, "train/test split of interactions (docs/PROTOCOL.md)", run};
