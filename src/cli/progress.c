/* Progress bar for the CLI (the library only reports numbers through a callback). */
#include "cli/progress.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util/clock.h"

#define REDRAW_S 0.1 /* redraws per second are capped: a terminal is slower than an import */
#define BAR_WIDTH 24

void tl_progress_init(tl_progress *p, const char *label, int enabled)
{
    memset(p, 0, sizeof(*p));
    p->on = enabled;
    p->label = label;
    p->t0 = p->last = tl_now();
}

void tl_progress_human(double n, char *buf, int len)
{
    if (n >= 1e9)
        snprintf(buf, (size_t)len, "%.2fG", n / 1e9);
    else if (n >= 1e6)
        snprintf(buf, (size_t)len, "%.2fM", n / 1e6);
    else if (n >= 1e4)
        snprintf(buf, (size_t)len, "%.1fk", n / 1e3);
    else
        snprintf(buf, (size_t)len, "%.0f", n);
}

void tl_progress_update(void *ctx, long long done, long long total, long long rows)
{
    tl_progress *p = ctx;
    double now = tl_now();
    if (!p->on || now - p->last < REDRAW_S)
        return;
    p->last = now;
    double el = now - p->t0;
    char nrows[16], rate[16], line[160];
    tl_progress_human((double)rows, nrows, sizeof(nrows));
    tl_progress_human(el > 0 ? (double)rows / el : 0, rate, sizeof(rate));
    int off = snprintf(line, sizeof(line), "\r%s ", p->label);
    if (total > 0) {
        double f = (double)done / (double)total;
        if (f > 1)
            f = 1;
        char bar[BAR_WIDTH + 1];
        int full = (int)(f * BAR_WIDTH);
        for (int i = 0; i < BAR_WIDTH; i++)
            bar[i] = i < full ? '#' : '-';
        bar[BAR_WIDTH] = '\0';
        double eta = f > 0.001 ? el * (1 - f) / f : 0;
        off += snprintf(line + off, sizeof(line) - (size_t)off, "[%s] %3.0f%% ", bar, f * 100);
        snprintf(line + off, sizeof(line) - (size_t)off, "%s rows  %s rows/s  ETA %d:%02d ", nrows,
                 rate, (int)eta / 60, (int)eta % 60);
    } else {
        snprintf(line + off, sizeof(line) - (size_t)off, "%s rows  %s rows/s ", nrows, rate);
    }
    fputs(line, stderr);
    fflush(stderr);
    p->drawn = 1;
}

void tl_progress_done(tl_progress *p)
{
    if (p->on && p->drawn) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
    }
    p->drawn = 0;
}

void tl_stage_init(tl_stage_progress *p, const char *label, int quiet)
{
    memset(p, 0, sizeof(*p));
    p->mode = quiet ? 0 : isatty(STDERR_FILENO) ? 1 : 2;
    p->label = label;
    p->last = tl_now();
}

static void draw(tl_stage_progress *p, const char *stage, double done)
{
    if (p->mode == 1) {
        fprintf(stderr, "\r%s: %.60s %3.0f%%\033[K", p->label, stage, done * 100);
        p->drawn = 1;
    } else {
        fprintf(stderr, "tailor: %s: %s (%.0f%%)\n", p->label, stage, done * 100);
    }
    fflush(stderr);
}

void tl_stage_update(void *ctx, const char *stage, double done)
{
    tl_stage_progress *p = ctx;
    double now = tl_now();
    if (!p->mode || now - p->last < (p->mode == 1 ? REDRAW_S : TL_STAGE_PLAIN_S))
        return;
    p->last = now;
    draw(p, stage, done);
}

void tl_stage_begin(tl_stage_progress *p, const char *stage)
{
    if (p->mode == 1) {
        p->last = tl_now();
        draw(p, stage, 0);
    }
}

void tl_stage_done(tl_stage_progress *p)
{
    if (p->mode == 1 && p->drawn) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
    }
    p->drawn = 0;
}
