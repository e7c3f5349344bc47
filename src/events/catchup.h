/*
 * catchup.h — read-your-writes over a log consumer.
 *
 * Writers note, per key (a user), the log offset just past the events they
 * appended; the consumer publishes how far it has applied; a reader waits,
 * for a bounded time, only until its own key's events are applied. Waiting
 * for the whole log instead would hold every reader up while others write.
 *
 * Keys hash to a fixed number of slots; keys sharing a slot wait for each
 * other's events (a little too long, never too short). Every call is
 * thread-safe.
 */
#ifndef REEL_EVENTS_CATCHUP_H
#define REEL_EVENTS_CATCHUP_H

#include <stdbool.h>
#include <stdint.h>

struct catchup;

/* 2^slots_log2 slots (8 bytes each); applied starts at `applied`. NULL if
 * out of memory. */
struct catchup *catchup_create(unsigned slots_log2, uint64_t applied);
void catchup_destroy(struct catchup *c);
/* key's events end at end_offset (the slot keeps the highest seen). */
void catchup_wrote(struct catchup *c, uint64_t key, uint64_t end_offset);
/* Everything before `next` is applied; wakes the waiters. */
void catchup_applied(struct catchup *c, uint64_t next);
uint64_t catchup_position(const struct catchup *c);
/* True if every event noted for key is applied (never waits). */
bool catchup_done(struct catchup *c, uint64_t key);
/* Waits until every event noted for key is applied, or timeout_ms passed:
 * true if caught up. Returns at once when nothing of key's is pending. */
bool catchup_wait(struct catchup *c, uint64_t key, unsigned timeout_ms);

#endif
