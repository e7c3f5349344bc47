/*
 * audit.h — a region's append-only, tamper-evident log of accesses to
 * personal data, built as Certificate Transparency builds its logs
 * (RFC 9162): every record is a leaf of a Merkle tree (merkle.h), and after
 * every append the tree's root is signed with the region custodian's
 * Ed25519 key (custodian.h) into a signed tree head. audit.c explains the
 * design; this header holds the formats.
 *
 * Files, in <primary site dir>/audit/ (all integers big-endian, as in TLS
 * and RFC 9162):
 *
 * audit.log — a 48-byte header, then records:
 *
 *   offset  size  field
 *   ------  ----  ------------------------------------------------------------
 *        0     8  magic "REELAUDL"
 *        8     2  format version, 1
 *       10     6  reserved, 0
 *       16    32  region name, NUL-padded
 *       48        frames: a u32 length L (1..AUDIT_RECORD_MAX), then L bytes of
 *                 record — the Merkle leaf, hashed as SHA-256(0x00 || record)
 *
 * A record (AuditRecordV1 in TLS presentation language; opaque x<a..b> is a
 * one-byte length followed by that many bytes of UTF-8 without control
 * characters):
 *
 *   uint8  version = 1;
 *   uint64 time_ms;                 when the access happened (Unix ms)
 *   uint64 actor_id;                operator (or user) id; 0 = the system
 *   opaque role<1..31>;             custodian, moderator, support, user, system
 *   opaque actor_region<1..31>;     the actor's region
 *   opaque subject[16];             pseudonym of the data subject (custodian.h),
 *                                   all zero when there is none
 *   opaque action<1..63>;           e.g. admin.user.read, export.run
 *   uint8  field_count;             0..16, then field_count x opaque field<1..31>
 *   opaque purpose<0..255>;         why (ticket, legal basis)
 *   uint8  outcome;                 1 allowed, 2 refused, 3 failed
 *
 * audit.heads — an 80-byte header, then one 112-byte signed tree head per
 * append:
 *
 *   offset  size  field
 *   ------  ----  ------------------------------------------------------------
 *        0     8  magic "REELAUDH"
 *        8     2  format version, 1
 *       10     6  reserved, 0
 *       16    32  region name, NUL-padded
 *       48    32  Ed25519 public key the heads are signed with
 *       80        heads: tree_size (u64), timestamp_ms (u64), root hash (32),
 *                 Ed25519 signature (64)
 *
 * The signature covers, like RFC 9162's TreeHeadDataV2:
 *   "reel-audit-sth-v1" (17 bytes) || uint8 len || region || uint64 timestamp
 *   || uint64 tree_size || root_hash[32] || uint16 0 (no extensions)
 * so a head of one region's log cannot pass for another's.
 */
#ifndef REEL_REGION_AUDIT_H
#define REEL_REGION_AUDIT_H

#include "region/custodian.h"
#include "region/merkle.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AUDIT_NAME_MAX 32     /* role, actor region, field names: 1..31 bytes */
#define AUDIT_ACTION_MAX 64   /* 1..63 bytes */
#define AUDIT_PURPOSE_MAX 256 /* 0..255 bytes */
#define AUDIT_FIELDS_MAX 16
#define AUDIT_RECORD_MAX 1024 /* largest encoded record (931 in practice) */
#define AUDIT_MESSAGE_MAX 1024

enum audit_outcome { AUDIT_ALLOWED = 1, AUDIT_REFUSED = 2, AUDIT_FAILED = 3 };

/* What the custodian gateway records. Strings are borrowed for the call. */
struct audit_entry {
    int64_t time_ms;
    uint64_t actor_id;
    const char *role;
    const char *actor_region;
    uint64_t subject_id; /* the user whose data was touched; 0 = none */
    const char *action;
    const char *const *fields;
    int field_count;
    const char *purpose; /* NULL = "" */
    enum audit_outcome outcome;
};

/* A stored record, decoded. */
struct audit_record {
    int64_t time_ms;
    uint64_t actor_id;
    char role[AUDIT_NAME_MAX];
    char actor_region[AUDIT_NAME_MAX];
    uint8_t subject[CUSTODIAN_PSEUDONYM_BYTES];
    char action[AUDIT_ACTION_MAX];
    char fields[AUDIT_FIELDS_MAX][AUDIT_NAME_MAX];
    int field_count;
    char purpose[AUDIT_PURPOSE_MAX];
    enum audit_outcome outcome;
};

struct audit_head {
    uint64_t tree_size;
    int64_t time_ms;
    merkle_hash root;
    uint8_t signature[CUSTODIAN_SIGNATURE_BYTES];
};

const char *audit_outcome_name(enum audit_outcome outcome);

/* Encodes a record into out (AUDIT_RECORD_MAX bytes). Returns the length, or
 * -1 if a field is empty where required, too long, not UTF-8 or holds
 * control characters. */
int audit_record_encode(const struct audit_record *r, uint8_t *out);
/* Decodes exactly len bytes. Returns 0, or -1 if they are not a record. */
int audit_record_decode(const uint8_t *data, size_t len, struct audit_record *out);

/* Whether head carries a valid signature by public_key for region. */
bool audit_head_verify(const struct audit_head *head, const char *region,
                       const uint8_t public_key[CUSTODIAN_PUBLIC_KEY_BYTES]);

/* ---- writing ------------------------------------------------------------- */

struct audit_log;

/* Opens (creating if missing, mode 0600 in a 0700 directory) the region's
 * log in dir and takes an exclusive lock on it. The last signed head is
 * checked against the records and key; a log that fails is refused (run
 * `reel audit verify`), never appended to. Records after the last head — an
 * append interrupted before its head was written, so never acknowledged —
 * are cut off with a warning in the log. Returns 0, or -1 with err. key is
 * copied. */
int audit_open(struct audit_log **out, const char *dir, const char *region,
               const struct custodian_key *key, char *err, size_t errlen);
void audit_close(struct audit_log *log);
/* Keeps a copy of the log in dir (a replica site's audit directory): the
 * files are copied now, and every later append writes and syncs the copy
 * before it returns. A copy that fails a write is dropped and marked STALE.
 * Returns 0, or -1 with err. */
int audit_add_mirror(struct audit_log *log, const char *dir, char *err, size_t errlen);

/* Appends a record and a signed head for the new tree, and returns only once
 * both are on disk (fdatasync): a caller answers the access it records only
 * after this returns 0. *index (may be NULL) receives the record's index.
 * Thread-safe. Returns 0, or -1 with err: an invalid entry (the log is
 * unchanged), or a write failure (the log refuses further appends until it is
 * reopened). */
int audit_append(struct audit_log *log, const struct audit_entry *entry, uint64_t *index, char *err,
                 size_t errlen);
/* Records in the log. */
uint64_t audit_size(struct audit_log *log);
/* The pseudonym this log records for a subject (custodian_pseudonym with the
 * log's key): how a user's own records are found for their export. */
void audit_subject_pseudonym(struct audit_log *log, uint64_t user_id,
                             uint8_t out[CUSTODIAN_PSEUDONYM_BYTES]);
/* The latest signed head. Returns 0, or -1 if the log is empty. */
int audit_latest_head(struct audit_log *log, struct audit_head *out);

/* ---- verifying ----------------------------------------------------------- */

struct audit_verify_result {
    bool intact;
    uint64_t records; /* records read */
    uint64_t heads;   /* signed heads checked and valid */
    bool has_first_bad;
    uint64_t first_bad;       /* index of the first record that is not as signed */
    struct audit_head latest; /* the last valid head (tree_size 0 if none) */
    uint8_t public_key[CUSTODIAN_PUBLIC_KEY_BYTES]; /* the key the heads were checked with */
    char message[AUDIT_MESSAGE_MAX];
};

/* Recomputes the Merkle tree from every record and checks every signed head
 * against it, in order: any edited, removed, reordered or inserted record,
 * a record no head covers, a head covering records that are gone (a cut
 * tail), a bad signature, or a record that does not decode makes the log not
 * intact, and the message names the first bad record. public_key: the key
 * the heads must be signed with (NULL: the key in audit.heads, which only
 * proves self-consistency — the message says so). trusted (may be NULL): a
 * head kept outside the log (`reel audit head`), which must still be
 * consistent with the log — the only defence against cutting records and
 * heads alike. Returns 0 when the check ran (see out->intact), -1 when the
 * log could not be read at all (message in out->message). */
int audit_verify(const char *dir, const char *region,
                 const uint8_t public_key[CUSTODIAN_PUBLIC_KEY_BYTES],
                 const struct audit_head *trusted, struct audit_verify_result *out);

/* ---- proving ------------------------------------------------------------- */

struct audit_reader;

/* Loads a log's records (as a Merkle tree) and heads for proofs. Does not
 * verify anything: run audit_verify first. Returns 0, or -1 with err. */
int audit_reader_open(struct audit_reader **out, const char *dir, const char *region, char *err,
                      size_t errlen);
void audit_reader_close(struct audit_reader *r);
uint64_t audit_reader_size(const struct audit_reader *r);
/* The signed head for exactly tree_size records (0 or -1 if none), and the
 * latest one. */
int audit_reader_head(const struct audit_reader *r, uint64_t tree_size, struct audit_head *out);
int audit_reader_latest_head(const struct audit_reader *r, struct audit_head *out);
/* Record `index`, decoded, and its leaf hash. Returns 0 or -1. */
int audit_reader_record(const struct audit_reader *r, uint64_t index, struct audit_record *out,
                        merkle_hash leaf_hash);
/* Inclusion proof of record index in the tree of tree_size records, and that
 * tree's root. Returns 0 or -1 (out of range). */
int audit_reader_inclusion(const struct audit_reader *r, uint64_t index, uint64_t tree_size,
                           struct merkle_proof *proof, merkle_hash root);
/* Consistency proof between the trees of old_size and new_size records, and
 * both roots. Returns 0 or -1 (out of range). */
int audit_reader_consistency(const struct audit_reader *r, uint64_t old_size, uint64_t new_size,
                             struct merkle_proof *proof, merkle_hash old_root,
                             merkle_hash new_root);

#endif
