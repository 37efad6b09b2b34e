/* `tailor split`: interactions.tsv[.gz] -> OUTDIR/train.tsv and OUTDIR/test.tsv, byte for byte
 * what tools/split.py writes (PROTOCOL.md), with the same rows accepted and rejected. */
#ifndef TL_EVAL_SPLIT_H
#define TL_EVAL_SPLIT_H

#include <stdint.h>

#include "core/holdout.h"
#include "ingest/csv.h"

typedef struct tl_split_opts {
    tl_split_mode mode;
    uint64_t seed;     /* split.py's seed modulo 2^64 */
    int implicit;      /* every row is a positive (else value >= 4) */
    int min_positives; /* TL_HOLDOUT_MIN_POSITIVES, or 0 for --no-filter */
} tl_split_opts;

void tl_split_opts_init(tl_split_opts *o);

typedef struct tl_split_stats {
    int64_t rows;        /* data lines read */
    int64_t train_pairs; /* lines written to train.tsv (header excluded) */
    int64_t test_pairs;
    int64_t users; /* users with a test pair */
} tl_split_stats;

/* Reads in (plain or gzip), splits and writes outdir/train.tsv and outdir/test.tsv (creating
 * outdir and its parents). Nothing is written when the input is bad.
 * Errors: TL_EIO (cannot read or write; diag names the file), TL_EPARSE (bad header, field
 * count, value or timestamp, or a missing timestamp in a temporal split; diag names file and
 * line with split.py's message), TL_ETOOBIG (a timestamp outside int64, which split.py would
 * accept), TL_ENOMEM. */
tl_err tl_split_file(const char *in, const char *outdir, const tl_split_opts *o, tl_split_stats *st,
                     tl_diag *diag);

/* Gives every cell of d->ui the timestamp that interactions (user item value timestamp, read
 * with o's binarization and split.py's dedup) has for that positive pair, then rebuilds d->iu:
 * train.tsv has no timestamps, and a temporal validation split or an order-aware model needs
 * them. Only train pairs are looked up, so nothing of a test set leaks. Errors: those of
 * tl_split_file's reading, TL_EPARSE when a cell of d has no positive in interactions,
 * TL_ENOMEM. */
tl_err tl_split_attach_timestamps(const char *interactions, const tl_split_opts *o, tl_data *d,
                                  tl_diag *diag);

/* Opens a TSV file of the protocol as tools/split.py and evaluate.py read it (lines end in LF,
 * CRs before it dropped, fields are bytes as they are) and reads its header, which must start
 * with the columns want[0..nwant). On success *out is the reader, positioned after the header.
 * Errors: TL_EIO (cannot open), TL_EPARSE with diag "PATH:1: header must be user, item, ..."
 * (the referee's message; a hint is added when line 1 holds a CR: CR-only line ends, which the
 * referee cannot read either) or for a damaged .gz, TL_ENOMEM. For the eval layer. */
tl_err tl__protocol_tsv_open(const char *path, const char *const *want, int nwant, tl_csv **out,
                             tl_diag *diag);
/* The error of a tl_csv_next that failed (its diag is filled): a damaged .gz is TL_EPARSE. */
tl_err tl__protocol_read_error(int got);

#endif
