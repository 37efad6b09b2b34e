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

#endif
