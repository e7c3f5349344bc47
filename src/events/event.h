/*
 * event.h — one engagement event, the unit of the per-region event log and
 * the input of the recommendation engine and analytics.
 *
 * Clients send impression/play/watch/skip/not_interested (API.md
 * "Engagement events"); the server appends like/unlike/share/comment/
 * follow/unfollow itself when those actions happen, so consumers (rec/,
 * stats/) learn from one ordered stream per region.
 */
#ifndef REEL_EVENTS_EVENT_H
#define REEL_EVENTS_EVENT_H

#include <stdint.h>

enum event_type {
    EVENT_ERASED = 0,      /* a tombstone: the event of an erased user, emptied in place
                              (eventlog_erase_user); consumers skip it */
    EVENT_IMPRESSION = 1,  /* the video was shown */
    EVENT_PLAY = 2,        /* playback started */
    EVENT_WATCH = 3,       /* watched_ms of playback (may exceed duration: loops) */
    EVENT_SKIP = 4,        /* swiped away quickly: an explicit negative */
    EVENT_NOT_INTERESTED = 5,
    EVENT_LIKE = 6,
    EVENT_UNLIKE = 7,
    EVENT_SHARE = 8,
    EVENT_COMMENT = 9,
    EVENT_FOLLOW = 10,     /* video_id: the video the follow came from, or 0 */
    EVENT_UNFOLLOW = 11,
    EVENT_TYPE_MAX = 11,
};

struct event {
    uint64_t user_id;     /* who; its region bits are the log's region */
    uint64_t video_id;    /* what (0 for follows without a video) */
    uint64_t creator_id;  /* the video's creator, or the followed user */
    int64_t at_ms;        /* when it happened (client time, clamped by the server) */
    uint32_t watched_ms;  /* EVENT_WATCH: milliseconds watched */
    uint32_t duration_ms; /* the video's duration, filled in by the server */
    uint8_t type;         /* enum event_type */
};

/* The type's name as in the API ("watch", "not_interested", "like"...), or
 * "unknown". */
const char *event_type_name(int type);
/* The type named `name`, or -1. */
int event_type_parse(const char *name);
/* True for the types clients send (impression..not_interested); the others
 * are appended by the server itself. */
int event_type_is_client(int type);

#endif
