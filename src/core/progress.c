/*
 * progress.c — see progress.h.
 */
#include "core/progress.h"

#include "core/clock.h"

#include <stdio.h>
#include <unistd.h>

#define WIDTH 30

void progress_init(struct progress *p, const char *label, uint64_t total, uint64_t min_total)
{
    p->label = label;
    p->total = total;
    p->done = 0;
    p->last_draw_ns = 0;
    p->last_tenth = -1;
    p->tty = isatty(STDERR_FILENO);
    p->active = total >= min_total && total > 0;
    p->start_ns = clock_mono_ns();
}

static void draw(struct progress *p, bool final)
{
    double frac = p->total ? (double)p->done / (double)p->total : 1.0;
    if (frac > 1.0)
        frac = 1.0;
    double secs = (double)(clock_mono_ns() - p->start_ns) / 1e9;
    if (p->tty) {
        char bar[WIDTH + 1];
        int fill = (int)(frac * WIDTH);
        for (int i = 0; i < WIDTH; i++)
            bar[i] = i < fill ? '#' : '.';
        bar[WIDTH] = '\0';
        fprintf(stderr, "\r%s [%s] %5.1f%% %llu/%llu %.1fs%s", p->label, bar, frac * 100.0,
                (unsigned long long)p->done, (unsigned long long)p->total, secs,
                final ? "\n" : "");
    } else {
        fprintf(stderr, "%s: %3.0f%% (%llu/%llu, %.1fs)\n", p->label, frac * 100.0,
                (unsigned long long)p->done, (unsigned long long)p->total, secs);
    }
    fflush(stderr);
}

void progress_update(struct progress *p, uint64_t done)
{
    p->done = done;
    if (!p->active)
        return;
    if (p->tty) {
        uint64_t now = clock_mono_ns();
        if (now - p->last_draw_ns < 100000000ULL)
            return;
        p->last_draw_ns = now;
        draw(p, false);
        return;
    }
    int tenth = p->total ? (int)(done * 10 / p->total) : 10;
    if (tenth != p->last_tenth && tenth < 10) {
        p->last_tenth = tenth;
        draw(p, false);
    }
}

void progress_finish(struct progress *p)
{
    if (!p->active)
        return;
    p->done = p->total;
    draw(p, true);
    p->active = false;
}
