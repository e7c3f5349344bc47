/*
 * replicate.h — copying published media from a region's primary site to its
 * replica sites (replication within borders: a region's media lives only in
 * the region's sites, like its store).
 *
 * What is copied is a video's published directory, media/<video_id>/
 * (renditions, thumbnail, result.json), and only once it is complete. A copy
 * keeps the layout's invariant on the replica: it is written into a
 * temporary directory under media/.incoming/ (named copy-<id>-...), every
 * file and the directory fsynced, then renamed to media/<video_id> in one
 * step. So a replica's media/<video_id>/ is, like the primary's, either
 * absent or complete, and a promoted replica serves whole files or none.
 *
 * The caller (api/) copies a video to every replica before it marks the
 * video ready, deletes the copies with the original, and runs
 * media_replicate_sync at start-up to repair what a crash or an unreachable
 * replica left behind. Nothing here knows about regions: only directories.
 */
#ifndef REEL_MEDIA_REPLICATE_H
#define REEL_MEDIA_REPLICATE_H

#include <stdint.h>

/* Copies from_site's published media/<video_id>/ to to_site, replacing an
 * older copy there. Returns 0, or -1 with errno set (ENOENT: the video is
 * not published on from_site); a failed copy leaves nothing on to_site
 * beyond what was there before. */
int media_replicate_video(const char *from_site, const char *to_site, uint64_t video_id);

struct media_sync_report {
    unsigned videos;  /* published videos on from_site */
    unsigned copied;  /* copied because missing or different on to_site */
    unsigned removed; /* on to_site but no longer on from_site */
    unsigned failed;  /* copies or removals that failed (logged) */
};

/* Brings to_site's published media in line with from_site's: copies every
 * video missing on to_site or differing from the original (another set of
 * files, another size, another result.json), removes videos from_site no
 * longer has, and clears copies a crash left half-done. Run it when nothing
 * else writes either site's media (start-up). Fills *report (may be NULL).
 * Returns 0, or -1 if either media directory cannot be read or prepared. */
int media_replicate_sync(const char *from_site, const char *to_site,
                         struct media_sync_report *report);

#endif
