/*
 * audit_routes.c — the audit log over HTTP, for the operators' dashboard:
 *
 *   GET /api/v1/admin/audit?region=R[&limit=N][&cursor=C]
 *
 * answers the region's records newest first (a page of at most N, default
 * 25, max 100; the cursor is the index to continue below) together with the
 * log's verification: the same check as `reel audit verify` — every record
 * rehashed into the Merkle tree, every signed tree head checked against it
 * and against the custodian's public key — so the dashboard shows whether
 * the log is intact, how many records and heads were checked, the latest
 * signed head and, when it is not, the first bad record.
 *
 * Who may read it: the gateway's "audit.read" (custodians of R only), and
 * the read is itself recorded in R's log before anything is answered —
 * reading who looked at personal data is an access too. Records carry only
 * pseudonyms of the people concerned (audit.h), never a user id.
 *
 * Verification reads the files while this process may be appending: an
 * append writes its record, then its head, both before it returns. A check
 * that lands between the two sees a record no head covers yet; that is the
 * only way a healthy log can look cut, so a failed check is repeated (up to
 * AUDIT_RETRIES times, after a short pause each) before it is reported. Cost: the whole log is read on
 * every call (the CLI does the same); fine for the dashboard's use, and the
 * page of records comes from the same pass.
 */
#include "api/api.h"

#include "core/clock.h"
#include "core/parse.h"
#include "region/audit.h"
#include "core/alloc.h"
#include "region/custodian.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define AUDIT_PAGE_DEFAULT 25
#define AUDIT_PAGE_MAX 100
#define AUDIT_RETRY_NS 20000000L /* 20 ms */
#define AUDIT_RETRIES 5

static bool bad_query(struct http_request *req, const char *field, const char *message)
{
    json_t *errors = NULL;
    http_errors_add(&errors, field, message);
    http_problem(req, 400, "validation-error", "Invalid request", "a query parameter is invalid",
                 errors);
    return false;
}

/* ?limit= and ?cursor= (a record index). cursor is UINT64_MAX when absent. */
static bool page_params(struct http_request *req, unsigned long long *limit,
                        unsigned long long *cursor)
{
    const char *l = http_request_query(req, "limit");
    const char *c = http_request_query(req, "cursor");
    *limit = AUDIT_PAGE_DEFAULT;
    *cursor = UINT64_MAX;
    if (l && (parse_ull(l, limit) < 0 || *limit < 1 || *limit > AUDIT_PAGE_MAX))
        return bad_query(req, "limit", "must be a whole number from 1 to 100");
    if (c && (parse_ull(c, cursor) < 0 || *cursor == UINT64_MAX))
        return bad_query(req, "cursor", "must be the next_cursor of a previous page");
    return true;
}

static void hex(const uint8_t *data, size_t len, char *out, size_t out_size)
{
    sodium_bin2hex(out, out_size, data, len);
}

static void write_verification(struct jsonw *w, const struct audit_verify_result *v)
{
    char text[2 * MERKLE_HASH_BYTES + 1], key[2 * CUSTODIAN_PUBLIC_KEY_BYTES + 1];
    jsonw_key(w, "verification");
    jsonw_object_begin(w);
    jsonw_kv_bool(w, "intact", v->intact);
    jsonw_kv_int(w, "records", (int64_t)v->records);
    jsonw_kv_int(w, "heads", (int64_t)v->heads);
    jsonw_key(w, "first_bad");
    if (v->has_first_bad)
        jsonw_int(w, (int64_t)v->first_bad);
    else
        jsonw_null(w);
    jsonw_kv_string(w, "message", v->message);
    jsonw_kv_int(w, "tree_size", (int64_t)v->latest.tree_size);
    if (v->latest.tree_size > 0) {
        hex(v->latest.root, sizeof v->latest.root, text, sizeof text);
        jsonw_kv_string(w, "root", text);
        jsonw_kv_time(w, "signed_at", v->latest.time_ms);
    }
    hex(v->public_key, sizeof v->public_key, key, sizeof key);
    jsonw_kv_string(w, "public_key", key);
    jsonw_object_end(w);
}

static void write_record(struct jsonw *w, uint64_t index, const struct audit_record *r)
{
    static const uint8_t no_subject[CUSTODIAN_PSEUDONYM_BYTES] = {0};
    char subject[2 * CUSTODIAN_PSEUDONYM_BYTES + 1];
    jsonw_object_begin(w);
    jsonw_kv_int(w, "index", (int64_t)index);
    jsonw_kv_time(w, "time", r->time_ms);
    jsonw_kv_id(w, "actor_id", r->actor_id);
    jsonw_kv_string(w, "role", r->role);
    jsonw_kv_string(w, "actor_region", r->actor_region);
    jsonw_key(w, "subject");
    if (memcmp(r->subject, no_subject, sizeof no_subject) != 0) {
        hex(r->subject, sizeof r->subject, subject, sizeof subject);
        jsonw_string(w, subject);
    } else {
        jsonw_null(w);
    }
    jsonw_kv_string(w, "action", r->action);
    jsonw_key(w, "fields");
    jsonw_array_begin(w);
    for (int i = 0; i < r->field_count; i++)
        jsonw_string(w, r->fields[i]);
    jsonw_array_end(w);
    jsonw_kv_string(w, "purpose", r->purpose);
    jsonw_kv_string(w, "outcome", audit_outcome_name(r->outcome));
    jsonw_object_end(w);
}

/* Verifies the log in dir against the custodian's public key, repeating a
 * failed check a few times (see the top of the file). Returns 0 or -1 (unreadable;
 * message in res). */
static int verify_log(const char *dir, const struct region *r, const uint8_t *public_key,
                      struct audit_verify_result *res)
{
    if (audit_verify(dir, r->name, public_key, NULL, res) < 0)
        return -1;
    /* Several tries: the dashboard's own parallel reads append records, so
     * on a loaded machine one retry can land between a record and its head
     * again. */
    for (int attempt = 0; attempt < AUDIT_RETRIES && !res->intact; attempt++) {
        struct timespec pause = {.tv_sec = 0, .tv_nsec = AUDIT_RETRY_NS};
        nanosleep(&pause, NULL);
        if (audit_verify(dir, r->name, public_key, NULL, res) < 0)
            return -1;
    }
    return 0;
}

static void get_audit(struct http_request *req)
{
    struct gateway_actor actor;
    if (!api_admin_actor(req, &actor))
        return;
    struct app *app = api_app(req);
    const char *name = http_request_query(req, "region");
    const struct region *r = name ? region_by_name(&app->regions, name) : NULL;
    unsigned long long limit, cursor;
    if (!r) {
        bad_query(req, "region", "must name a region (GET /api/v1/regions lists them)");
        return;
    }
    if (!page_params(req, &limit, &cursor))
        return;
    static const char *const fields[] = {"audit_log"};
    struct gateway_access access = {.region = r, .action = "audit.read", .fields = fields,
                                    .field_count = 1, .purpose = "dashboard"};
    if (!api_admin_authorize(req, &actor, &access))
        return;
    if (!api_store_for_region(req, r))
        return; /* 421: another node serves it */

    char dir[CONFIG_PATH_MAX + 8], err[256];
    if ((size_t)snprintf(dir, sizeof dir, "%s/audit", r->primary_dir) >= sizeof dir) {
        http_problem_status(req, 500, "the audit log's path is too long");
        return;
    }
    struct custodian_key key;
    if (custodian_key_load(&app->cfg, r, false, &key, err, sizeof err) < 0) {
        http_problem_status(req, 500, err);
        return;
    }
    uint8_t public_key[CUSTODIAN_PUBLIC_KEY_BYTES];
    memcpy(public_key, key.sign_public, sizeof public_key);
    custodian_key_wipe(&key);

    struct audit_verify_result *res = reel_malloc(sizeof *res);
    struct audit_reader *reader = NULL;
    if (!res) {
        http_problem_status(req, 503, "out of memory");
        return;
    }
    if (verify_log(dir, r, public_key, res) < 0 ||
        audit_reader_open(&reader, dir, r->name, err, sizeof err) < 0) {
        http_problem_status(req, 500, reader ? err : res->message);
        goto out;
    }

    struct api_reply reply;
    api_reply_begin(&reply, 512 * 1024);
    struct jsonw *w = &reply.w;
    jsonw_object_begin(w);
    jsonw_kv_string(w, "region", r->name);
    write_verification(w, res);
    jsonw_key(w, "items");
    jsonw_array_begin(w);
    uint64_t size = audit_reader_size(reader);
    uint64_t top = cursor < size ? cursor : size; /* records [0, top) remain, newest first */
    uint64_t n = 0;
    for (; n < limit && n < top; n++) {
        struct audit_record record;
        merkle_hash leaf;
        uint64_t index = top - 1 - n;
        if (audit_reader_record(reader, index, &record, leaf) < 0)
            continue; /* undecodable: the verification above names it */
        write_record(w, index, &record);
    }
    jsonw_array_end(w);
    jsonw_key(w, "next_cursor");
    if (top > n) {
        char next[24];
        snprintf(next, sizeof next, "%llu", (unsigned long long)(top - n));
        jsonw_string(w, next);
    } else {
        jsonw_null(w);
    }
    jsonw_object_end(w);
    api_reply_end(req, 200, &reply);
out:
    if (reader)
        audit_reader_close(reader);
    reel_free(res);
}

int api_audit_register(struct http_router *router)
{
    /* Blocking: the gateway fsyncs its record; verification reads the log. */
    struct http_route r = {.method = HTTP_GET, .pattern = "/api/v1/admin/audit",
                           .handler = get_audit, .flags = HTTP_ROUTE_BLOCKING};
    return http_router_add(router, &r);
}
