/*
 * gateway.h — the custodian gateway: the one function every access to a
 * person's data by anyone but that person goes through.
 *
 * The admin API, moderation, support tools and staff-run exports call
 * gateway_check before touching the data. It decides from the actor's
 * region and role and the action, and records the decision — allowed or
 * refused — in the audit log of the region whose data it is (or, if this
 * node does not hold that region's log, the actor's region), durably, before
 * returning. An access whose record cannot be written is refused: nothing is
 * answered that the log does not show.
 *
 * Policy:
 *   - operators act only on their own region's data; any other region's is
 *     refused whatever the role (cross-border access goes through that
 *     region's own staff);
 *   - within the region, actions are allowed by role:
 *
 *       action            custodian  moderator  support
 *       user.read             x          x          x    (fields narrowed by role)
 *       user.deactivate       x          x
 *       user.export           x
 *       audit.read            x
 *       stats.read            x          x          x    (a region's aggregates)
 *       stats.aggregate       x          x          x    (counts only, any region's:
 *                                                         the one cross-region action)
 *
 *   - a plain user is refused every action (and the refusal recorded).
 */
#ifndef REEL_REGION_GATEWAY_H
#define REEL_REGION_GATEWAY_H

#include "region/audit.h"
#include "region/region.h"
#include "store/store.h"

#include <stddef.h>
#include <stdint.h>

enum gateway_verdict {
    GATEWAY_ALLOW = 0,
    GATEWAY_DENY_NOT_OPERATOR = -1, /* a plain user */
    GATEWAY_DENY_ROLE = -2,         /* the role may not do this */
    GATEWAY_DENY_REGION = -3,       /* the data belongs to another region */
    GATEWAY_FAILED = -4,            /* the audit record could not be written: refused */
};

struct gateway_actor {
    uint64_t user_id;
    enum store_role role;         /* STORE_ROLE_NONE: not an operator */
    const struct region *region;  /* the actor's home region */
};

struct gateway_access {
    const struct region *region;  /* whose data: the subject's region */
    uint64_t subject_id;          /* the person, or 0 for region-level data */
    const char *action;           /* "user.read", ... (see the table above) */
    const char *const *fields;    /* the fields touched */
    int field_count;
    const char *purpose;          /* why (free text from the operator), may be NULL */
};

/* Where records go: the audit log of each region this node holds (by region
 * index; NULL for a region it does not serve). */
struct gateway {
    struct audit_log *logs[CONFIG_MAX_REGIONS];
};

/* Decides, records, and returns the verdict. The record is on disk before
 * this returns. *audit_index (may be NULL) receives the record's index. */
enum gateway_verdict gateway_check(struct gateway *gw, const struct gateway_actor *actor,
                                   const struct gateway_access *access, uint64_t *audit_index);

/* A short reason for a refusal, for the 403 answer. */
const char *gateway_verdict_reason(enum gateway_verdict verdict);

#endif
