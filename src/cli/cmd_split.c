/* tailor split: the protocol's train/test split, byte-identical to tools/split.py. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "eval/split.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: tailor split INPUT OUTDIR --mode random|temporal [--seed N] [--implicit]\n"
            "                    [--no-filter]\n\n"
            "Writes OUTDIR/train.tsv and OUTDIR/test.tsv from INPUT (user item value timestamp,\n"
            ".gz too) as PROTOCOL.md says, byte for byte what tools/split.py writes.\n\n"
            "  --mode M     random (a hash of seed, user and item) or temporal (latest to test)\n"
            "  --seed N     seed of the random split (default 42)\n"
            "  --implicit   every row is a positive (else value >= 4)\n"
            "  --no-filter  keep users with fewer than 5 positives\n");
}

/* Python's int seed modulo 2^64: accepts -2^63 .. 2^64-1. */
static int parse_seed(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    if (s[0] == '-') {
        long long v = strtoll(s, &end, 10);
        *out = (uint64_t)v;
    } else {
        *out = (uint64_t)strtoull(s, &end, 10);
    }
    return !*s || *end || errno ? -1 : 0;
}

int cmd_split(const tl_cli *cli, int argc, char **argv)
{
    (void)cli;
    if (tl_cli_wants_help(argc, argv)) {
        usage(stdout);
        return TL_EXIT_OK;
    }
    tl_split_opts o;
    tl_split_opts_init(&o);
    const char *pos[2] = {NULL, NULL};
    int npos = 0, have_mode = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val = NULL;
        if (strcmp(a, "--mode") == 0 || strcmp(a, "--seed") == 0) {
            if (i + 1 == argc) {
                fprintf(stderr, "tailor split: %s needs a value\n", a);
                return TL_EXIT_USAGE;
            }
            val = argv[++i];
        } else if (strncmp(a, "--mode=", 7) == 0 || strncmp(a, "--seed=", 7) == 0) {
            val = a + 7;
        }
        if (val && strncmp(a, "--mode", 6) == 0) {
            if (tl_holdout_mode_parse(val, &o.mode) != TL_OK) {
                fprintf(stderr, "tailor split: --mode must be random or temporal\n");
                return TL_EXIT_USAGE;
            }
            have_mode = 1;
        } else if (val) {
            if (parse_seed(val, &o.seed) != 0) {
                fprintf(stderr, "tailor split: --seed must be an integer\n");
                return TL_EXIT_USAGE;
            }
        } else if (strcmp(a, "--implicit") == 0) {
            o.implicit = 1;
        } else if (strcmp(a, "--no-filter") == 0) {
            o.min_positives = 0;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "tailor split: unknown option '%s'\n", a);
            usage(stderr);
            return TL_EXIT_USAGE;
        } else if (npos < 2) {
            pos[npos++] = a;
        } else {
            fprintf(stderr, "tailor split: unexpected argument '%s'\n", a);
            return TL_EXIT_USAGE;
        }
    }
    if (npos != 2 || !have_mode) {
        usage(stderr);
        return TL_EXIT_USAGE;
    }
    tl_split_stats st;
    tl_diag diag;
    tl_diag_clear(&diag);
    tl_err rc = tl_split_file(pos[0], pos[1], &o, &st, &diag);
    if (rc != TL_OK) {
        tl_cli_error("split", rc, &diag);
        return rc == TL_EPARSE || rc == TL_ETOOBIG ? TL_EXIT_DATA : TL_EXIT_FAIL;
    }
    printf("train %lld pairs, test %lld pairs, users %lld\n", (long long)st.train_pairs,
           (long long)st.test_pairs, (long long)st.users);
    return TL_EXIT_OK;
}
