/*
 * ticker.h — a thread that runs one piece of housekeeping every so often
 * until told to stop: the card refresher, the upload sweeper, the privacy
 * purger.
 *
 * The wait is on a condition variable, so ticker_stop does not wait out an
 * interval: it wakes the thread, lets a call in progress finish, and joins.
 */
#ifndef REEL_CORE_TICKER_H
#define REEL_CORE_TICKER_H

#include <stdbool.h>
#include <stdint.h>

struct ticker;
typedef void (*ticker_fn)(void *arg);

/* Starts a thread calling fn(arg) every every_ms (> 0) milliseconds, the
 * first time at once if at_once, else after every_ms. An interval is
 * counted from the end of a call, so calls never overlap or pile up.
 * Returns NULL if the thread cannot be started (or out of memory). */
struct ticker *ticker_start(ticker_fn fn, void *arg, int64_t every_ms, bool at_once);
/* Stops and frees the ticker (NULL: nothing): no call of fn is running or
 * will run once this returns. */
void ticker_stop(struct ticker *t);

#endif
