/*
 * event.c — names of event types (see event.h).
 */
#include "events/event.h"

#include <string.h>

static const char *const names[] = {
    [EVENT_IMPRESSION] = "impression",
    [EVENT_PLAY] = "play",
    [EVENT_WATCH] = "watch",
    [EVENT_SKIP] = "skip",
    [EVENT_NOT_INTERESTED] = "not_interested",
    [EVENT_LIKE] = "like",
    [EVENT_UNLIKE] = "unlike",
    [EVENT_SHARE] = "share",
    [EVENT_COMMENT] = "comment",
    [EVENT_FOLLOW] = "follow",
    [EVENT_UNFOLLOW] = "unfollow",
};

const char *event_type_name(int type)
{
    if (type == EVENT_ERASED)
        return "erased";
    return type >= 1 && type <= EVENT_TYPE_MAX ? names[type] : "unknown";
}

int event_type_parse(const char *name)
{
    for (int t = 1; t <= EVENT_TYPE_MAX; t++)
        if (strcmp(names[t], name) == 0)
            return t;
    return -1;
}

int event_type_is_client(int type)
{
    return type >= EVENT_IMPRESSION && type <= EVENT_NOT_INTERESTED;
}
