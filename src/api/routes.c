/*
 * routes.c — the route table: every resource file registers its routes here.
 * Order matters only where patterns overlap: literal-prefixed patterns
 * ("/users/@{username}") come before generic ones ("/users/{id}"), which each
 * resource file already does within itself.
 */
#include "api/api.h"

int api_register_routes(struct http_router *router)
{
    int (*const registrars[])(struct http_router *) = {
        api_health_register,
        api_accounts_register,
        api_interests_register,
        api_videos_register,
        api_uploads_register,
        api_media_register,
        api_social_register,
        api_comments_register,
        api_events_register,
        api_feed_register,
        api_search_register,
        api_regions_register,
        api_admin_register,
        api_audit_register,
        api_stats_register,
        api_privacy_register,
        api_web_register,
    };
    for (size_t i = 0; i < sizeof registrars / sizeof registrars[0]; i++)
        if (registrars[i](router) < 0)
            return -1;
    return 0;
}
