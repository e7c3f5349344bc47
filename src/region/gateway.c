/*
 * gateway.c — see gateway.h.
 */
#include "region/gateway.h"

#include "core/clock.h"
#include "core/log.h"

#include <stdbool.h>
#include <string.h>

struct rule {
    const char *action;
    unsigned roles;    /* bit per enum store_role */
    bool cross_region; /* aggregates only: any region's operators may see them */
};

#define ROLE(r) (1u << (r))

static const struct rule rules[] = {
    {"user.read", ROLE(STORE_ROLE_CUSTODIAN) | ROLE(STORE_ROLE_MODERATOR) | ROLE(STORE_ROLE_SUPPORT),
     false},
    {"user.deactivate", ROLE(STORE_ROLE_CUSTODIAN) | ROLE(STORE_ROLE_MODERATOR), false},
    {"user.export", ROLE(STORE_ROLE_CUSTODIAN), false},
    {"audit.read", ROLE(STORE_ROLE_CUSTODIAN), false},
    {"stats.read", ROLE(STORE_ROLE_CUSTODIAN) | ROLE(STORE_ROLE_MODERATOR) | ROLE(STORE_ROLE_SUPPORT),
     false},
    {"stats.aggregate",
     ROLE(STORE_ROLE_CUSTODIAN) | ROLE(STORE_ROLE_MODERATOR) | ROLE(STORE_ROLE_SUPPORT), true},
};

static const struct rule *find_rule(const char *action)
{
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
        if (strcmp(rules[i].action, action) == 0)
            return &rules[i];
    return NULL; /* unknown actions are refused */
}

const char *gateway_verdict_reason(enum gateway_verdict verdict)
{
    switch (verdict) {
    case GATEWAY_ALLOW: return "allowed";
    case GATEWAY_DENY_NOT_OPERATOR: return "only operators may access other people's data";
    case GATEWAY_DENY_ROLE: return "your operator role does not allow this action";
    case GATEWAY_DENY_REGION:
        return "this data belongs to another region; only that region's operators may access it";
    case GATEWAY_FAILED: return "the access could not be recorded in the audit log, so it is refused";
    }
    return "refused";
}

enum gateway_verdict gateway_check(struct gateway *gw, const struct gateway_actor *actor,
                                   const struct gateway_access *access, uint64_t *audit_index)
{
    enum gateway_verdict verdict;
    const struct rule *rule = find_rule(access->action);
    bool same_region = actor->region && access->region && actor->region == access->region;
    if (actor->role == STORE_ROLE_NONE)
        verdict = GATEWAY_DENY_NOT_OPERATOR;
    else if (!same_region && !(rule && rule->cross_region && access->subject_id == 0))
        verdict = GATEWAY_DENY_REGION;
    else if (!rule || !(rule->roles & ROLE(actor->role)))
        verdict = GATEWAY_DENY_ROLE;
    else
        verdict = GATEWAY_ALLOW;

    /* The data's region keeps the record; if this node does not hold that
     * region's log, the actor's region does. */
    struct audit_log *log = access->region ? gw->logs[access->region->index] : NULL;
    if (!log && actor->region)
        log = gw->logs[actor->region->index];
    struct audit_entry entry = {
        .time_ms = clock_now_ms(),
        .actor_id = actor->user_id,
        .role = actor->role == STORE_ROLE_NONE ? "user" : store_role_name(actor->role),
        .actor_region = actor->region ? actor->region->name : "unknown",
        .subject_id = access->subject_id,
        .action = access->action,
        .fields = access->fields,
        .field_count = access->field_count,
        .purpose = access->purpose,
        .outcome = verdict == GATEWAY_ALLOW ? AUDIT_ALLOWED : AUDIT_REFUSED,
    };
    char err[256];
    if (!log || audit_append(log, &entry, audit_index, err, sizeof err) < 0) {
        log_error("event=audit_append_failed action=%s error=\"%s\"", access->action,
                  log ? err : "no audit log for this region");
        return GATEWAY_FAILED;
    }
    return verdict;
}
