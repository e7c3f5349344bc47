/*
 * creator.h — statistics for creators: for each video, by day, views,
 * unique viewers, average watch ratio, completion rate, likes, comments,
 * shares and followers gained.
 *
 * One instance per region consumes that region's events, so it sees the
 * region's viewers of videos from every region. A creator's report is built
 * per region (stats_creator_report) and the reports of all regions are merged
 * (stats_creator_report_merge): counters add up and unique-viewer sketches
 * merge, so the combined report counts a viewer once however many videos or
 * regions they touched — and only counts and sketches cross a border, never a
 * viewer id. stats_creator_report_encode is the form a report travels in.
 *
 * Definitions (per video, per UTC day of the event):
 *   impressions  EVENT_IMPRESSION
 *   views        EVENT_PLAY
 *   watches      EVENT_WATCH with a known duration
 *   watch ratio  min(watched_ms / duration_ms, 1), averaged over watches
 *   completions  watches with watched_ms >= duration_ms
 *   viewers      distinct users with an EVENT_PLAY or EVENT_WATCH
 *   likes        EVENT_LIKE - EVENT_UNLIKE (net, may be negative on a day)
 *   comments     EVENT_COMMENT;  shares: EVENT_SHARE
 *   followers    EVENT_FOLLOW - EVENT_UNFOLLOW credited to the video they
 *                came from; follows from the profile (video_id 0) go to a
 *                row with video_id 0
 *
 * Encodings (little-endian). A row's fixed part, 88 bytes:
 *
 *   offset  size  field
 *   ------  ----  ------------------------------------------------------------
 *        0     8  video id (u64; 0 = the creator's profile)
 *        8     4  day: days since 1970-01-01 (i32)
 *       12     4  reserved, 0
 *       16     8  impressions (u64)     24  8  views (u64)
 *       32     8  watches (u64)         40  8  completions (u64)
 *       48     8  watch ratio sum (IEEE 754 binary64 bits)
 *       56     8  likes (i64)           64  8  comments (u64)
 *       72     8  shares (u64)          80  8  followers (i64)
 *       88        the viewers sketch, encoded as in hll.h
 *
 *   report:   creator id (u64), row count (u32), reserved (u32), rows
 *   snapshot: viewer precision (u32), reserved (u32), video count (u64), then
 *             per video: video id (u64), creator id (u64), row count (u32),
 *             reserved (u32), rows
 *
 * Not thread-safe: stats.c serialises calls.
 */
#ifndef REEL_STATS_CREATOR_H
#define REEL_STATS_CREATOR_H

#include "core/buf.h"
#include "events/event.h"

#include <stddef.h>
#include <stdint.h>

struct hll;

struct stats_counters {
    uint64_t impressions;
    uint64_t views;
    uint64_t watches;
    uint64_t completions;
    double watch_ratio_sum;
    int64_t likes;
    uint64_t comments;
    uint64_t shares;
    int64_t followers;
};

/* Average watch ratio (0..1) and completion rate (0..1); 0 without watches. */
double stats_counters_watch_ratio(const struct stats_counters *c);
double stats_counters_completion_rate(const struct stats_counters *c);

struct stats_creator_row {
    uint64_t video_id; /* 0: follows from the creator's profile */
    int32_t day;
    struct stats_counters counters;
    struct hll *viewers; /* owned by the report */
};

/* A creator's rows, sorted by (video_id, day). The caller provides the
 * struct (init/clear). */
struct stats_creator_report {
    uint64_t creator_id;
    struct stats_creator_row *rows;
    size_t count, cap;
};

void stats_creator_report_init(struct stats_creator_report *r, uint64_t creator_id);
void stats_creator_report_clear(struct stats_creator_report *r);
/* Adds src's rows into dst (same creator): counters summed, sketches merged,
 * rows of new (video, day) pairs copied. Returns 0 or -1 (out of memory, or
 * different creators). */
int stats_creator_report_merge(struct stats_creator_report *dst,
                               const struct stats_creator_report *src);
/* Sums every row into *total and counts the distinct viewers across all of
 * them. Returns 0 or -1 (out of memory). */
int stats_creator_report_totals(const struct stats_creator_report *r, struct stats_counters *total,
                                uint64_t *unique_viewers);
/* Distinct viewers of one row (its sketch's estimate). */
uint64_t stats_creator_row_viewers(const struct stats_creator_row *row);
/* Appends the report encoding to out. Returns 0 or -1 (out of memory). */
int stats_creator_report_encode(const struct stats_creator_report *r, struct buf *out);
/* Decodes a report into r (initialised, empty). Returns 0, or -1 with err. */
int stats_creator_report_decode(struct stats_creator_report *r, const uint8_t *data, size_t len,
                                char *err, size_t errlen);

struct stats_creator;

/* viewer_precision: precision of the per-row unique-viewer sketches. Returns
 * NULL on a bad precision or when out of memory. */
struct stats_creator *stats_creator_create(unsigned viewer_precision);
void stats_creator_destroy(struct stats_creator *cs);

/* Applies one event; types creator statistics do not count are ignored.
 * Returns 0, or -1 when out of memory (the event may be partly counted). */
int stats_creator_apply(struct stats_creator *cs, const struct event *ev);

/* The creator's rows for days first..last (inclusive) in this region, added
 * to r (initialised for the same creator). Returns 0 or -1 (out of memory). */
int stats_creator_report(struct stats_creator *cs, uint64_t creator_id, int32_t first, int32_t last,
                         struct stats_creator_report *r);

/* Forgets every row of a day before oldest_day. */
int stats_creator_expire(struct stats_creator *cs, int32_t oldest_day);
/* Erasure: drops every row of creator_id's videos. Returns 0 or -1. */
int stats_creator_forget(struct stats_creator *cs, uint64_t creator_id);

/* Snapshot of everything, and back. decode returns a new instance or NULL
 * with err. */
int stats_creator_encode(const struct stats_creator *cs, struct buf *out);
struct stats_creator *stats_creator_decode(const uint8_t *data, size_t len, char *err,
                                           size_t errlen);

size_t stats_creator_memory_bytes(const struct stats_creator *cs);

#endif
