/*
 * progress.h — a progress bar on standard error for long command-line work
 * (rebuilding analytics from a log, replaying a dataset).
 *
 * On a terminal it redraws one line ("\r") at most ten times a second; when
 * stderr is a file or pipe it prints a plain line at every tenth instead, so
 * logs stay readable. Nothing is printed for work below `min_total` units.
 */
#ifndef REEL_CORE_PROGRESS_H
#define REEL_CORE_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

struct progress {
    const char *label;
    uint64_t total;
    uint64_t done;
    uint64_t last_draw_ns;
    int last_tenth;
    bool tty;
    bool active;
    uint64_t start_ns;
};

/* Starts a bar for `total` units of work; silent when total < min_total. */
void progress_init(struct progress *p, const char *label, uint64_t total, uint64_t min_total);
/* Records that `done` units (cumulative) are complete. */
void progress_update(struct progress *p, uint64_t done);
/* Draws 100% and ends the line. */
void progress_finish(struct progress *p);

#endif
