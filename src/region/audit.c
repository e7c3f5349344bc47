/*
 * audit.c — the audit log's record format and its writer. See audit.h for
 * the file formats; audit_read.c verifies and proves.
 *
 * Design
 * ------
 * Why a Merkle tree and not a hash chain: a chain proves order, but showing
 * an auditor that one record is in the log means handing over the whole log
 * up to it, and showing that today's log extends last month's means
 * re-hashing all of it. A Merkle tree answers both in log2(n) hashes
 * (inclusion and consistency proofs), exactly as Certificate Transparency
 * lets browsers check logs they do not store. We use RFC 9162's tree
 * unchanged (merkle.h), so existing CT tooling and test vectors apply.
 *
 * Why a signed head after every append: the head is the custodian's
 * statement "the log had n records and this root". With one per record,
 * `reel audit verify` can name the exact first record that differs from what
 * was signed — the first head whose root no longer matches covers exactly
 * one more record than the last head that does. Signing costs ~50 us and a
 * head 112 bytes; audit records describe operator accesses, not every
 * request, so both are small next to the two fdatasyncs an append costs.
 *
 * Durability order: the record is written and fdatasync'd, then its head is
 * written and fdatasync'd, and only then does audit_append return — the
 * gateway answers the access after that ("records are durable before the
 * access they describe is answered"). A crash between the two leaves a
 * record with no head: it was never acknowledged, so the access it describes
 * was never answered, and audit_open cuts it off (with a warning). A crash
 * mid-write leaves a torn frame at the end, cut off the same way. Anything
 * else that does not match the last head — a changed, missing or extra
 * record before it — makes audit_open refuse the log: appending to it would
 * sign over the damage.
 *
 * Why records hold a pseudonym of the subject, not the user id: the log is
 * append-only by construction, so it cannot forget. When a user is erased,
 * their id must not survive in it; a keyed hash of the id (custodian.h) lets
 * the custodian still find "every access to user X's data" while X exists,
 * and after erasure nothing in the log points back to a person.
 *
 * Threads: one mutex serialises appends; a second process is kept out by an
 * exclusive flock on audit.log (verification and proofs only read).
 */
#include "region/audit_int.h"

#include "core/alloc.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/parse.h"
#include "region/region.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sodium.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define HEAD_CONTEXT "reel-audit-sth-v1"

/* ---- shared helpers (audit_int.h) ---------------------------------------- */

void audit_put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (56 - 8 * i));
}

uint64_t audit_get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

int audit_paths(const char *dir, char *log_path, char *heads_path)
{
    int a = snprintf(log_path, CONFIG_PATH_MAX, "%s/%s", dir, AUDIT_LOG_NAME);
    int b = snprintf(heads_path, CONFIG_PATH_MAX, "%s/%s", dir, AUDIT_HEADS_NAME);
    return a < 0 || a >= CONFIG_PATH_MAX || b < 0 || b >= CONFIG_PATH_MAX ? -1 : 0;
}

static void put_region(uint8_t *p, const char *region)
{
    memset(p, 0, AUDIT_NAME_MAX);
    memcpy(p, region, strnlen(region, AUDIT_NAME_MAX - 1));
}

void audit_log_header(uint8_t out[AUDIT_LOG_HEADER_BYTES], const char *region)
{
    memset(out, 0, AUDIT_LOG_HEADER_BYTES);
    memcpy(out, AUDIT_LOG_MAGIC, 8);
    out[9] = AUDIT_VERSION;
    put_region(out + 16, region);
}

void audit_heads_header(uint8_t out[AUDIT_HEADS_HEADER_BYTES], const char *region,
                        const uint8_t public_key[CUSTODIAN_PUBLIC_KEY_BYTES])
{
    memset(out, 0, AUDIT_HEADS_HEADER_BYTES);
    memcpy(out, AUDIT_HEADS_MAGIC, 8);
    out[9] = AUDIT_VERSION;
    put_region(out + 16, region);
    memcpy(out + 48, public_key, CUSTODIAN_PUBLIC_KEY_BYTES);
}

static int check_common(const uint8_t *h, const char *magic, const char *region, const char *what,
                        char *err, size_t errlen)
{
    static const uint8_t zero[6] = {0};
    if (memcmp(h, magic, 8) != 0) {
        snprintf(err, errlen, "%s: not an audit file (bad magic)", what);
        return -1;
    }
    if (h[8] != 0 || h[9] != AUDIT_VERSION || memcmp(h + 10, zero, 6) != 0) {
        snprintf(err, errlen, "%s: unsupported format version or corrupt header", what);
        return -1;
    }
    uint8_t expect[AUDIT_NAME_MAX];
    put_region(expect, region);
    if (memcmp(h + 16, expect, AUDIT_NAME_MAX) != 0) {
        snprintf(err, errlen, "%s: belongs to region '%.31s', not '%s'", what, (const char *)h + 16,
                 region);
        return -1;
    }
    return 0;
}

int audit_check_log_header(const uint8_t h[AUDIT_LOG_HEADER_BYTES], const char *region, char *err,
                           size_t errlen)
{
    return check_common(h, AUDIT_LOG_MAGIC, region, AUDIT_LOG_NAME, err, errlen);
}

int audit_check_heads_header(const uint8_t h[AUDIT_HEADS_HEADER_BYTES], const char *region,
                             uint8_t public_key[CUSTODIAN_PUBLIC_KEY_BYTES], char *err,
                             size_t errlen)
{
    if (check_common(h, AUDIT_HEADS_MAGIC, region, AUDIT_HEADS_NAME, err, errlen) < 0)
        return -1;
    memcpy(public_key, h + 48, CUSTODIAN_PUBLIC_KEY_BYTES);
    return 0;
}

void audit_head_encode(const struct audit_head *head, uint8_t out[AUDIT_HEAD_BYTES])
{
    audit_put_u64(out, head->tree_size);
    audit_put_u64(out + 8, (uint64_t)head->time_ms);
    memcpy(out + 16, head->root, MERKLE_HASH_BYTES);
    memcpy(out + 48, head->signature, CUSTODIAN_SIGNATURE_BYTES);
}

void audit_head_decode(const uint8_t in[AUDIT_HEAD_BYTES], struct audit_head *out)
{
    out->tree_size = audit_get_u64(in);
    out->time_ms = (int64_t)audit_get_u64(in + 8);
    memcpy(out->root, in + 16, MERKLE_HASH_BYTES);
    memcpy(out->signature, in + 48, CUSTODIAN_SIGNATURE_BYTES);
}

/* The bytes a head's signature covers (audit.h). Returns their length. */
static size_t head_message(const struct audit_head *head, const char *region, uint8_t *out)
{
    size_t n = 0, region_len = strnlen(region, AUDIT_NAME_MAX - 1);
    memcpy(out, HEAD_CONTEXT, sizeof HEAD_CONTEXT - 1);
    n += sizeof HEAD_CONTEXT - 1;
    out[n++] = (uint8_t)region_len;
    memcpy(out + n, region, region_len);
    n += region_len;
    audit_put_u64(out + n, (uint64_t)head->time_ms);
    audit_put_u64(out + n + 8, head->tree_size);
    n += 16;
    memcpy(out + n, head->root, MERKLE_HASH_BYTES);
    n += MERKLE_HASH_BYTES;
    out[n++] = 0; /* no extensions */
    out[n++] = 0;
    return n;
}

void audit_head_sign(struct audit_head *head, const char *region, const struct custodian_key *key)
{
    uint8_t message[128];
    size_t n = head_message(head, region, message);
    crypto_sign_detached(head->signature, NULL, message, n, key->sign_secret);
}

bool audit_head_verify(const struct audit_head *head, const char *region,
                       const uint8_t public_key[CUSTODIAN_PUBLIC_KEY_BYTES])
{
    uint8_t message[128];
    size_t n = head_message(head, region, message);
    return crypto_sign_verify_detached(head->signature, message, n, public_key) == 0;
}

int audit_scan_next(struct audit_scan *s, uint8_t *buf, size_t *len)
{
    uint8_t frame[AUDIT_FRAME_HEADER_BYTES];
    size_t n = fread(frame, 1, sizeof frame, s->f);
    if (n == 0 && feof(s->f))
        return AUDIT_SCAN_END;
    if (n != sizeof frame)
        return AUDIT_SCAN_TORN;
    uint32_t length =
        (uint32_t)frame[0] << 24 | (uint32_t)frame[1] << 16 | (uint32_t)frame[2] << 8 | frame[3];
    if (length == 0 || length > AUDIT_RECORD_MAX || fread(buf, 1, length, s->f) != length)
        return AUDIT_SCAN_TORN;
    *len = length;
    s->offset += sizeof frame + length;
    return AUDIT_SCAN_RECORD;
}

const char *audit_outcome_name(enum audit_outcome outcome)
{
    switch (outcome) {
    case AUDIT_ALLOWED: return "allowed";
    case AUDIT_REFUSED: return "refused";
    case AUDIT_FAILED: return "failed";
    }
    return "?";
}

void audit_record_describe(const struct audit_record *r, char *out, size_t size)
{
    char when[RFC3339_MAX];
    snprintf(out, size, "%s %s %llu (%s) %s: %s", clock_format_rfc3339(r->time_ms, when), r->role,
             (unsigned long long)r->actor_id, r->actor_region, r->action,
             audit_outcome_name(r->outcome));
}

/* ---- records ------------------------------------------------------------- */

/* Text allowed in a record: UTF-8, no control characters, length in
 * [min, max]. */
static bool valid_text(const char *s, size_t len, size_t min, size_t max)
{
    return len >= min && len <= max && utf8_valid(s, len) && !utf8_has_controls(s, len, false);
}

static bool put_text(uint8_t *out, size_t *n, const char *s, size_t min, size_t max)
{
    size_t len = strnlen(s, max + 1);
    if (!valid_text(s, len, min, max))
        return false;
    out[(*n)++] = (uint8_t)len;
    memcpy(out + *n, s, len);
    *n += len;
    return true;
}

int audit_record_encode(const struct audit_record *r, uint8_t *out)
{
    size_t n = 0;
    if (r->field_count < 0 || r->field_count > AUDIT_FIELDS_MAX || r->outcome < AUDIT_ALLOWED ||
        r->outcome > AUDIT_FAILED)
        return -1;
    out[n++] = 1;
    audit_put_u64(out + n, (uint64_t)r->time_ms);
    audit_put_u64(out + n + 8, r->actor_id);
    n += 16;
    if (!put_text(out, &n, r->role, 1, AUDIT_NAME_MAX - 1) ||
        !put_text(out, &n, r->actor_region, 1, AUDIT_NAME_MAX - 1))
        return -1;
    memcpy(out + n, r->subject, CUSTODIAN_PSEUDONYM_BYTES);
    n += CUSTODIAN_PSEUDONYM_BYTES;
    if (!put_text(out, &n, r->action, 1, AUDIT_ACTION_MAX - 1))
        return -1;
    out[n++] = (uint8_t)r->field_count;
    for (int i = 0; i < r->field_count; i++)
        if (!put_text(out, &n, r->fields[i], 1, AUDIT_NAME_MAX - 1))
            return -1;
    if (!put_text(out, &n, r->purpose, 0, AUDIT_PURPOSE_MAX - 1))
        return -1;
    out[n++] = (uint8_t)r->outcome;
    return (int)n;
}

static bool take_text(const uint8_t *data, size_t len, size_t *pos, char *out, size_t min,
                      size_t max)
{
    if (*pos >= len)
        return false;
    size_t n = data[(*pos)++];
    if (n > len - *pos || !valid_text((const char *)data + *pos, n, min, max))
        return false;
    memcpy(out, data + *pos, n);
    out[n] = '\0';
    *pos += n;
    return true;
}

int audit_record_decode(const uint8_t *data, size_t len, struct audit_record *out)
{
    memset(out, 0, sizeof *out);
    size_t pos = 0;
    if (len < 17 || data[0] != 1)
        return -1;
    out->time_ms = (int64_t)audit_get_u64(data + 1);
    out->actor_id = audit_get_u64(data + 9);
    pos = 17;
    if (!take_text(data, len, &pos, out->role, 1, AUDIT_NAME_MAX - 1) ||
        !take_text(data, len, &pos, out->actor_region, 1, AUDIT_NAME_MAX - 1) ||
        len - pos < CUSTODIAN_PSEUDONYM_BYTES)
        return -1;
    memcpy(out->subject, data + pos, CUSTODIAN_PSEUDONYM_BYTES);
    pos += CUSTODIAN_PSEUDONYM_BYTES;
    if (!take_text(data, len, &pos, out->action, 1, AUDIT_ACTION_MAX - 1) || pos >= len)
        return -1;
    out->field_count = data[pos++];
    if (out->field_count > AUDIT_FIELDS_MAX)
        return -1;
    for (int i = 0; i < out->field_count; i++)
        if (!take_text(data, len, &pos, out->fields[i], 1, AUDIT_NAME_MAX - 1))
            return -1;
    if (!take_text(data, len, &pos, out->purpose, 0, AUDIT_PURPOSE_MAX - 1) || pos != len - 1)
        return -1;
    out->outcome = (enum audit_outcome)data[pos];
    if (out->outcome < AUDIT_ALLOWED || out->outcome > AUDIT_FAILED)
        return -1;
    return 0;
}

/* Copies an entry into a record, pseudonymising the subject. */
static int entry_to_record(const struct audit_entry *e, const struct custodian_key *key,
                           struct audit_record *r, char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    r->time_ms = e->time_ms;
    r->actor_id = e->actor_id;
    r->outcome = e->outcome;
    if (!e->role || !e->actor_region || !e->action || e->field_count < 0 ||
        e->field_count > AUDIT_FIELDS_MAX || (e->field_count > 0 && !e->fields)) {
        snprintf(err, errlen,
                 "audit entry: role, actor region and action are required, at most "
                 "%d fields",
                 AUDIT_FIELDS_MAX);
        return -1;
    }
    snprintf(r->role, sizeof r->role, "%s", e->role);
    snprintf(r->actor_region, sizeof r->actor_region, "%s", e->actor_region);
    snprintf(r->action, sizeof r->action, "%s", e->action);
    snprintf(r->purpose, sizeof r->purpose, "%s", e->purpose ? e->purpose : "");
    r->field_count = e->field_count;
    for (int i = 0; i < e->field_count; i++) {
        if (!e->fields[i] || strlen(e->fields[i]) >= AUDIT_NAME_MAX) {
            snprintf(err, errlen, "audit entry: field %d missing or longer than %d bytes", i,
                     AUDIT_NAME_MAX - 1);
            return -1;
        }
        snprintf(r->fields[i], sizeof r->fields[i], "%s", e->fields[i]);
    }
    if (strlen(e->role) >= sizeof r->role || strlen(e->actor_region) >= sizeof r->actor_region ||
        strlen(e->action) >= sizeof r->action ||
        (e->purpose && strlen(e->purpose) >= sizeof r->purpose)) {
        snprintf(err, errlen, "audit entry: a text field is too long");
        return -1;
    }
    if (e->subject_id)
        custodian_pseudonym(key, e->subject_id, r->subject);
    return 0;
}

/* ---- the writer ---------------------------------------------------------- */

#define AUDIT_MAX_MIRRORS 4

/* A replica site's copy of the two files, written with the same bytes at the
 * same positions before an append returns. */
struct audit_mirror {
    char dir[CONFIG_PATH_MAX];
    int log_fd, heads_fd;
    bool healthy;
};

static void mirror_drop(struct audit_mirror *m, const char *why);

struct audit_log {
    pthread_mutex_t lock;
    struct audit_mirror mirrors[AUDIT_MAX_MIRRORS];
    int mirror_count;
    int log_fd, heads_fd;
    uint64_t log_end, heads_end; /* bytes */
    struct merkle_frontier frontier;
    struct audit_head latest; /* tree_size 0: none yet */
    struct custodian_key key;
    char region[AUDIT_NAME_MAX];
    bool broken;
};

static int pwrite_all(int fd, const void *data, size_t len, uint64_t offset)
{
    const uint8_t *p = data;
    while (len) {
        ssize_t n = pwrite(fd, p, len, (off_t)offset);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
        offset += (uint64_t)n;
    }
    return 0;
}

void audit_close(struct audit_log *log)
{
    if (!log)
        return;
    for (int i = 0; i < log->mirror_count; i++) {
        if (log->mirrors[i].log_fd >= 0)
            close(log->mirrors[i].log_fd);
        if (log->mirrors[i].heads_fd >= 0)
            close(log->mirrors[i].heads_fd);
    }
    if (log->log_fd >= 0)
        close(log->log_fd); /* releases the flock */
    if (log->heads_fd >= 0)
        close(log->heads_fd);
    custodian_key_wipe(&log->key);
    pthread_mutex_destroy(&log->lock);
    reel_free(log);
}

/* Writes the headers of a new, empty pair of files. */
static int create_files(struct audit_log *log, const char *log_path, char *err, size_t errlen)
{
    uint8_t lh[AUDIT_LOG_HEADER_BYTES], hh[AUDIT_HEADS_HEADER_BYTES];
    audit_log_header(lh, log->region);
    audit_heads_header(hh, log->region, log->key.sign_public);
    if (pwrite_all(log->log_fd, lh, sizeof lh, 0) < 0 || fdatasync(log->log_fd) < 0 ||
        pwrite_all(log->heads_fd, hh, sizeof hh, 0) < 0 || fdatasync(log->heads_fd) < 0 ||
        region_fsync_parent(log_path) < 0) {
        snprintf(err, errlen, "%s: cannot initialise the audit log: %s", log_path, strerror(errno));
        return -1;
    }
    log->log_end = sizeof lh;
    log->heads_end = sizeof hh;
    return 0;
}

/* Reads the headers and heads, replays the records into the frontier, cuts
 * off what no head covers, and checks the last head. */
static int load_existing(struct audit_log *log, const char *log_path, const char *heads_path,
                         uint64_t log_size, uint64_t heads_size, char *err, size_t errlen)
{
    uint8_t lh[AUDIT_LOG_HEADER_BYTES], hh[AUDIT_HEADS_HEADER_BYTES], pk[32];
    if (log_size < sizeof lh || heads_size < sizeof hh ||
        pread(log->log_fd, lh, sizeof lh, 0) != (ssize_t)sizeof lh ||
        pread(log->heads_fd, hh, sizeof hh, 0) != (ssize_t)sizeof hh) {
        snprintf(err, errlen, "%s: audit files truncated inside their headers", log_path);
        return -1;
    }
    if (audit_check_log_header(lh, log->region, err, errlen) < 0 ||
        audit_check_heads_header(hh, log->region, pk, err, errlen) < 0)
        return -1;
    if (memcmp(pk, log->key.sign_public, sizeof pk) != 0) {
        snprintf(err, errlen, "%s: signed with a different key than this region's custodian key",
                 heads_path);
        return -1;
    }
    uint64_t heads = (heads_size - sizeof hh) / AUDIT_HEAD_BYTES;
    uint64_t heads_end = sizeof hh + heads * AUDIT_HEAD_BYTES;
    if (heads_end != heads_size) {
        log_warn("event=audit_repair region=%s what=torn_head bytes=%llu", log->region,
                 (unsigned long long)(heads_size - heads_end));
        if (ftruncate(log->heads_fd, (off_t)heads_end) < 0 || fdatasync(log->heads_fd) < 0) {
            snprintf(err, errlen, "%s: %s", heads_path, strerror(errno));
            return -1;
        }
    }
    log->heads_end = heads_end;
    if (heads > 0) {
        uint8_t raw[AUDIT_HEAD_BYTES];
        if (pread(log->heads_fd, raw, sizeof raw, (off_t)(heads_end - sizeof raw)) !=
            (ssize_t)sizeof raw) {
            snprintf(err, errlen, "%s: read error", heads_path);
            return -1;
        }
        audit_head_decode(raw, &log->latest);
    }
    uint64_t signed_size = log->latest.tree_size;

    FILE *f = fopen(log_path, "rb");
    if (!f || fseek(f, AUDIT_LOG_HEADER_BYTES, SEEK_SET) != 0) {
        snprintf(err, errlen, "%s: %s", log_path, strerror(errno));
        if (f)
            fclose(f);
        return -1;
    }
    struct audit_scan scan = {.f = f, .offset = AUDIT_LOG_HEADER_BYTES};
    uint8_t record[AUDIT_RECORD_MAX];
    size_t len;
    uint64_t count = 0, signed_end = AUDIT_LOG_HEADER_BYTES;
    merkle_frontier_init(&log->frontier);
    while (count < signed_size && audit_scan_next(&scan, record, &len) == AUDIT_SCAN_RECORD) {
        merkle_hash leaf;
        merkle_leaf_hash(record, len, leaf);
        merkle_frontier_append(&log->frontier, leaf);
        count++;
    }
    signed_end = scan.offset;
    uint64_t extra = 0;
    while (audit_scan_next(&scan, record, &len) == AUDIT_SCAN_RECORD)
        extra++;
    fclose(f);
    if (count < signed_size) {
        snprintf(err, errlen,
                 "%s: holds %llu records but its last signed head covers %llu: records were "
                 "removed (run `reel audit verify` to find the first)",
                 log_path, (unsigned long long)count, (unsigned long long)signed_size);
        return -1;
    }
    merkle_hash root;
    merkle_frontier_root(&log->frontier, root);
    if (signed_size > 0 && (!audit_head_verify(&log->latest, log->region, log->key.sign_public) ||
                            memcmp(root, log->latest.root, sizeof root) != 0)) {
        snprintf(err, errlen,
                 "%s: does not match its last signed head (tree size %llu): the log was "
                 "altered; run `reel audit verify`",
                 log_path, (unsigned long long)signed_size);
        return -1;
    }
    if (log_size > signed_end) {
        /* An append that never got its head: never acknowledged. */
        log_warn("event=audit_repair region=%s what=unsigned_tail records=%llu bytes=%llu",
                 log->region, (unsigned long long)extra,
                 (unsigned long long)(log_size - signed_end));
        if (ftruncate(log->log_fd, (off_t)signed_end) < 0 || fdatasync(log->log_fd) < 0) {
            snprintf(err, errlen, "%s: %s", log_path, strerror(errno));
            return -1;
        }
    }
    log->log_end = signed_end;
    return 0;
}

int audit_open(struct audit_log **out, const char *dir, const char *region,
               const struct custodian_key *key, char *err, size_t errlen)
{
    char log_path[CONFIG_PATH_MAX], heads_path[CONFIG_PATH_MAX];
    *out = NULL;
    if (!region[0] || strlen(region) >= AUDIT_NAME_MAX ||
        audit_paths(dir, log_path, heads_path) < 0) {
        snprintf(err, errlen, "%s: bad region name or path too long", dir);
        return -1;
    }
    if (region_mkdirs(dir, 0700) < 0) {
        snprintf(err, errlen, "%s: %s", dir, strerror(errno));
        return -1;
    }
    struct audit_log *log = reel_calloc(1, sizeof *log);
    if (!log) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    pthread_mutex_init(&log->lock, NULL);
    log->key = *key;
    snprintf(log->region, sizeof log->region, "%s", region);
    log->log_fd = open(log_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    log->heads_fd = -1;
    if (log->log_fd < 0) {
        snprintf(err, errlen, "%s: %s", log_path, strerror(errno));
        goto fail;
    }
    if (flock(log->log_fd, LOCK_EX | LOCK_NB) < 0) {
        snprintf(err, errlen, "%s: in use by another process", log_path);
        goto fail;
    }
    log->heads_fd = open(heads_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (log->heads_fd < 0) {
        snprintf(err, errlen, "%s: %s", heads_path, strerror(errno));
        goto fail;
    }
    struct stat ls, hs;
    if (fstat(log->log_fd, &ls) < 0 || fstat(log->heads_fd, &hs) < 0) {
        snprintf(err, errlen, "%s: %s", log_path, strerror(errno));
        goto fail;
    }
    if (ls.st_size == 0 && hs.st_size == 0) {
        if (create_files(log, log_path, err, errlen) < 0)
            goto fail;
    } else if (ls.st_size == 0 || hs.st_size == 0) {
        snprintf(err, errlen, "%s: %s is empty while %s is not: the audit log is damaged", dir,
                 ls.st_size == 0 ? AUDIT_LOG_NAME : AUDIT_HEADS_NAME,
                 ls.st_size == 0 ? AUDIT_HEADS_NAME : AUDIT_LOG_NAME);
        goto fail;
    } else if (load_existing(log, log_path, heads_path, (uint64_t)ls.st_size, (uint64_t)hs.st_size,
                             err, errlen) < 0) {
        goto fail;
    }
    *out = log;
    return 0;
fail:
    audit_close(log);
    return -1;
}

int audit_append(struct audit_log *log, const struct audit_entry *entry, uint64_t *index, char *err,
                 size_t errlen)
{
    struct audit_record r;
    uint8_t frame[AUDIT_FRAME_HEADER_BYTES + AUDIT_RECORD_MAX];
    if (entry_to_record(entry, &log->key, &r, err, errlen) < 0)
        return -1;
    int len = audit_record_encode(&r, frame + AUDIT_FRAME_HEADER_BYTES);
    if (len < 0) {
        snprintf(err, errlen, "audit entry: empty, too long or non-text field");
        return -1;
    }
    frame[0] = 0;
    frame[1] = 0;
    frame[2] = (uint8_t)(len >> 8);
    frame[3] = (uint8_t)len;
    merkle_hash leaf;
    merkle_leaf_hash(frame + AUDIT_FRAME_HEADER_BYTES, (size_t)len, leaf);

    pthread_mutex_lock(&log->lock);
    int rc = -1;
    if (log->broken) {
        snprintf(err, errlen, "audit log %s: a previous write failed; reopen it", log->region);
        goto out;
    }
    struct merkle_frontier next = log->frontier;
    merkle_frontier_append(&next, leaf);
    struct audit_head head = {.tree_size = next.size};
    int64_t now = clock_now_ms();
    head.time_ms = now > log->latest.time_ms ? now : log->latest.time_ms;
    merkle_frontier_root(&next, head.root);
    audit_head_sign(&head, log->region, &log->key);
    uint8_t raw[AUDIT_HEAD_BYTES];
    audit_head_encode(&head, raw);

    size_t frame_len = AUDIT_FRAME_HEADER_BYTES + (size_t)len;
    if (pwrite_all(log->log_fd, frame, frame_len, log->log_end) < 0 || fdatasync(log->log_fd) < 0 ||
        pwrite_all(log->heads_fd, raw, sizeof raw, log->heads_end) < 0 ||
        fdatasync(log->heads_fd) < 0) {
        snprintf(err, errlen, "audit log %s: write failed: %s", log->region, strerror(errno));
        /* Roll back what may have reached the files; either way the state on
         * disk is unknown after a failed fsync, so stop appending until a
         * reopen re-reads it. */
        if (ftruncate(log->heads_fd, (off_t)log->heads_end) == 0)
            (void)ftruncate(log->log_fd, (off_t)log->log_end);
        log->broken = true;
        goto out;
    }
    for (int i = 0; i < log->mirror_count; i++) {
        struct audit_mirror *m = &log->mirrors[i];
        if (m->healthy &&
            (pwrite_all(m->log_fd, frame, frame_len, log->log_end) < 0 ||
             fdatasync(m->log_fd) < 0 || pwrite_all(m->heads_fd, raw, sizeof raw, log->heads_end) < 0 ||
             fdatasync(m->heads_fd) < 0))
            mirror_drop(m, "write or sync failed");
    }
    log->log_end += frame_len;
    log->heads_end += sizeof raw;
    log->frontier = next;
    log->latest = head;
    if (index)
        *index = head.tree_size - 1;
    rc = 0;
out:
    pthread_mutex_unlock(&log->lock);
    return rc;
}

static void mirror_drop(struct audit_mirror *m, const char *why)
{
    char path[CONFIG_PATH_MAX + 8];
    snprintf(path, sizeof path, "%s/STALE", m->dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd >= 0) {
        if (write(fd, why, strlen(why)) < 0 || fsync(fd) < 0)
            log_error("event=audit_mirror_stale_marker_failed dir=%s", m->dir);
        close(fd);
    }
    log_error("event=audit_mirror_dropped dir=%s reason=\"%s\"", m->dir, why);
    m->healthy = false;
}

/* Copies `size` bytes of src into the file at path, replacing it. */
static int copy_file(int src, uint64_t size, const char *path, int *out_fd)
{
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    uint8_t buf[64 * 1024];
    for (uint64_t at = 0; at < size;) {
        size_t n = size - at < sizeof buf ? (size_t)(size - at) : sizeof buf;
        ssize_t r = pread(src, buf, n, (off_t)at);
        if (r <= 0 || pwrite_all(fd, buf, (size_t)r, at) < 0) {
            close(fd);
            return -1;
        }
        at += (uint64_t)r;
    }
    if (fdatasync(fd) < 0) {
        close(fd);
        return -1;
    }
    *out_fd = fd;
    return 0;
}

int audit_add_mirror(struct audit_log *log, const char *dir, char *err, size_t errlen)
{
    pthread_mutex_lock(&log->lock);
    int rc = -1;
    if (log->mirror_count >= AUDIT_MAX_MIRRORS) {
        snprintf(err, errlen, "audit log %s: too many copies", log->region);
        goto out;
    }
    struct audit_mirror *m = &log->mirrors[log->mirror_count];
    memset(m, 0, sizeof *m);
    m->log_fd = m->heads_fd = -1;
    char log_path[CONFIG_PATH_MAX + 32], heads_path[CONFIG_PATH_MAX + 32];
    if (snprintf(m->dir, sizeof m->dir, "%s", dir) >= (int)sizeof m->dir ||
        region_mkdirs(dir, 0700) < 0) {
        snprintf(err, errlen, "audit copy %s: cannot create: %s", dir, strerror(errno));
        goto out;
    }
    snprintf(log_path, sizeof log_path, "%s/%s", dir, AUDIT_LOG_NAME);
    snprintf(heads_path, sizeof heads_path, "%s/%s", dir, AUDIT_HEADS_NAME);
    /* The files are small: the copy is made whole at every open, so a copy
     * that missed appends, was cut or was edited is simply replaced. */
    if (copy_file(log->log_fd, log->log_end, log_path, &m->log_fd) < 0 ||
        copy_file(log->heads_fd, log->heads_end, heads_path, &m->heads_fd) < 0 ||
        region_fsync_parent(log_path) < 0) {
        snprintf(err, errlen, "audit copy %s: cannot copy the log: %s", dir, strerror(errno));
        if (m->log_fd >= 0)
            close(m->log_fd);
        if (m->heads_fd >= 0)
            close(m->heads_fd);
        goto out;
    }
    char marker[CONFIG_PATH_MAX + 8];
    snprintf(marker, sizeof marker, "%s/STALE", dir);
    unlink(marker);
    m->healthy = true;
    log->mirror_count++;
    rc = 0;
out:
    pthread_mutex_unlock(&log->lock);
    return rc;
}

void audit_subject_pseudonym(struct audit_log *log, uint64_t user_id,
                             uint8_t out[CUSTODIAN_PSEUDONYM_BYTES])
{
    custodian_pseudonym(&log->key, user_id, out);
}

uint64_t audit_size(struct audit_log *log)
{
    pthread_mutex_lock(&log->lock);
    uint64_t n = log->frontier.size;
    pthread_mutex_unlock(&log->lock);
    return n;
}

int audit_latest_head(struct audit_log *log, struct audit_head *out)
{
    pthread_mutex_lock(&log->lock);
    int rc = log->latest.tree_size ? 0 : -1;
    *out = log->latest;
    pthread_mutex_unlock(&log->lock);
    return rc;
}
