/* A one-line progress bar on stderr (bar, percent, rows, rate, ETA) for long imports. It draws
 * only when enabled (the caller passes isatty(stderr)) and at most ten times a second. */
#ifndef TL_CLI_PROGRESS_H
#define TL_CLI_PROGRESS_H

typedef struct tl_progress {
    int on;
    int drawn;
    double t0, last;
    const char *label;
} tl_progress;

void tl_progress_init(tl_progress *p, const char *label, int enabled);
/* A tl_progress_fn (tailor/ingest.h): ctx is the tl_progress. */
void tl_progress_update(void *ctx, long long done, long long total, long long rows);
/* Erases the bar so that the next output starts on a clean line. */
void tl_progress_done(tl_progress *p);
/* Formats n as 1234, 12.3k, 4.56M into buf. */
void tl_progress_human(double n, char *buf, int len);

/* The progress of a fit (tl_fit_hooks.progress): on a terminal one updating line "label: stage
 * 42%"; when stderr is not a terminal a plain line at most every TL_STAGE_PLAIN_S seconds, so
 * that a log shows a long run is alive; nothing when quiet. */
#define TL_STAGE_PLAIN_S 30.0
typedef struct tl_stage_progress {
    int mode; /* 0 quiet, 1 terminal, 2 plain lines */
    int drawn;
    double last;
    const char *label;
} tl_stage_progress;

void tl_stage_init(tl_stage_progress *p, const char *label, int quiet);
/* The shape of tl_fit_hooks.progress: ctx is the tl_stage_progress; done in [0, 1]. */
void tl_stage_update(void *ctx, const char *stage, double done);
/* Shows a new stage at once on a terminal (e.g. "loading data"); nothing elsewhere. */
void tl_stage_begin(tl_stage_progress *p, const char *stage);
/* Erases the line (terminal) so that the next output starts clean. */
void tl_stage_done(tl_stage_progress *p);

#endif
