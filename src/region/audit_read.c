/*
 * audit_read.c — verifying an audit log and proving what it holds. See
 * audit.h; audit.c writes the files.
 *
 * Verification streams the records once, appending each leaf to a Merkle
 * frontier (O(log n) memory), and checks each signed head when the record
 * count reaches its tree size. With one head per append, the first head that
 * fails covers exactly one record more than the last head that held, so
 * that record is the first bad one, whatever was done to it:
 *
 *   edited record i        head i+1 no longer matches        -> record i
 *   record i removed       records shift; head i+1 fails      -> record i
 *   i and j swapped (i<j)  head i+1 fails                     -> record i
 *   record inserted at i   head i+1 fails                     -> record i
 *   record appended        no head covers it                  -> that record
 *   tail cut off           heads cover records that are gone  -> first missing
 *
 * A head whose signature fails is reported the same way (the records it
 * covers are unconfirmed). Problems are collected while scanning and the one
 * with the lowest record index is reported.
 *
 * Proofs load every leaf hash into a merkle_tree (64 bytes per record) so
 * any earlier root and path is O(log n).
 */
#include "region/audit_int.h"

#include "core/alloc.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- verification -------------------------------------------------------- */

struct verify_state {
    struct audit_verify_result *out;
    bool problem;
    bool indexed;
};

/* Keeps the problem with the lowest record index (an indexed problem beats
 * one without an index). */
__attribute__((format(printf, 4, 5))) static void flag(struct verify_state *st, bool indexed,
                                                       uint64_t index, const char *fmt, ...)
{
    struct audit_verify_result *out = st->out;
    if (st->problem && (!indexed || (st->indexed && index >= out->first_bad)))
        return;
    st->problem = true;
    st->indexed = indexed;
    out->has_first_bad = indexed;
    out->first_bad = indexed ? index : 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out->message, sizeof out->message, fmt, ap);
    va_end(ap);
}

static void hex(const uint8_t *data, size_t len, char *out)
{
    sodium_bin2hex(out, 2 * len + 1, data, len);
}

/* Appends " — <description of record index>" to the message. */
static void describe_first_bad(const char *log_path, struct audit_verify_result *out)
{
    FILE *f = fopen(log_path, "rb");
    if (!f)
        return;
    struct audit_scan scan = {.f = f, .offset = AUDIT_LOG_HEADER_BYTES};
    uint8_t record[AUDIT_RECORD_MAX];
    size_t len;
    if (fseek(f, AUDIT_LOG_HEADER_BYTES, SEEK_SET) == 0) {
        for (uint64_t i = 0; audit_scan_next(&scan, record, &len) == AUDIT_SCAN_RECORD; i++) {
            if (i < out->first_bad)
                continue;
            struct audit_record r;
            char what[200];
            if (audit_record_decode(record, len, &r) == 0)
                audit_record_describe(&r, what, sizeof what);
            else
                snprintf(what, sizeof what, "undecodable");
            size_t used = strlen(out->message);
            snprintf(out->message + used, sizeof out->message - used,
                     " [record %llu now reads: %s]", (unsigned long long)i, what);
            break;
        }
    }
    fclose(f);
}

static void check_head(struct verify_state *st, const struct audit_head *h, uint64_t number,
                       uint64_t count, const struct merkle_frontier *frontier, const char *region,
                       const uint8_t *key, uint64_t *verified)
{
    if (h->tree_size <= *verified || h->tree_size != count) {
        flag(st, true, *verified,
             "signed head #%llu (tree size %llu) is out of order: heads were removed, "
             "duplicated or reordered",
             (unsigned long long)number, (unsigned long long)h->tree_size);
        return;
    }
    if (!audit_head_verify(h, region, key)) {
        flag(st, true, *verified,
             "record %llu: signed head #%llu (tree size %llu) has an invalid signature, so "
             "records from %llu on are unconfirmed",
             (unsigned long long)*verified, (unsigned long long)number,
             (unsigned long long)h->tree_size, (unsigned long long)*verified);
        return;
    }
    merkle_hash root;
    merkle_frontier_root(frontier, root);
    if (memcmp(root, h->root, sizeof root) != 0) {
        flag(st, true, *verified,
             "record %llu is not the record signed head #%llu (tree size %llu) committed to: "
             "it was edited, removed, reordered or inserted",
             (unsigned long long)*verified, (unsigned long long)number,
             (unsigned long long)h->tree_size);
        return;
    }
    *verified = h->tree_size;
    st->out->heads++;
    st->out->latest = *h;
}

int audit_verify(const char *dir, const char *region,
                 const uint8_t public_key[CUSTODIAN_PUBLIC_KEY_BYTES],
                 const struct audit_head *trusted, struct audit_verify_result *out)
{
    memset(out, 0, sizeof *out);
    struct verify_state st = {.out = out};
    char log_path[CONFIG_PATH_MAX], heads_path[CONFIG_PATH_MAX];
    FILE *lf = NULL, *hf = NULL;
    struct audit_head *heads = NULL;
    int rc = 0;
    if (audit_paths(dir, log_path, heads_path) < 0) {
        snprintf(out->message, sizeof out->message, "%s: path too long", dir);
        return -1;
    }
    lf = fopen(log_path, "rb");
    int log_errno = errno;
    hf = fopen(heads_path, "rb");
    int heads_errno = errno;
    if (!lf && !hf && log_errno == ENOENT && heads_errno == ENOENT) {
        if (trusted && trusted->tree_size > 0)
            flag(&st, true, 0, "the audit log is gone, but a trusted head covers %llu records",
                 (unsigned long long)trusted->tree_size);
        else
            snprintf(out->message, sizeof out->message, "no audit log yet (nothing recorded)");
        goto done;
    }
    if (!lf || !hf) {
        int e = !lf ? log_errno : heads_errno;
        const char *missing = !lf ? log_path : heads_path;
        if (e != ENOENT) {
            snprintf(out->message, sizeof out->message, "%s: %s", missing, strerror(e));
            rc = -1;
            goto out;
        }
        flag(&st, true, 0, "%s is missing", missing);
        goto done;
    }

    uint8_t lh[AUDIT_LOG_HEADER_BYTES], hh[AUDIT_HEADS_HEADER_BYTES], header_key[32];
    char err[AUDIT_MESSAGE_MAX];
    if (fread(lh, 1, sizeof lh, lf) != sizeof lh || fread(hh, 1, sizeof hh, hf) != sizeof hh) {
        flag(&st, false, 0, "the audit files are truncated inside their headers");
        goto done;
    }
    if (audit_check_log_header(lh, region, err, sizeof err) < 0 ||
        audit_check_heads_header(hh, region, header_key, err, sizeof err) < 0) {
        flag(&st, false, 0, "%s", err);
        goto done;
    }
    if (public_key && memcmp(public_key, header_key, sizeof header_key) != 0) {
        char want[65], got[65];
        hex(public_key, 32, want);
        hex(header_key, 32, got);
        flag(&st, false, 0, "the heads are signed with key %s, not the custodian's key %s", got,
             want);
        goto done;
    }
    const uint8_t *key = public_key ? public_key : header_key;
    memcpy(out->public_key, key, sizeof out->public_key);

    struct stat hs;
    if (fstat(fileno(hf), &hs) < 0) {
        snprintf(out->message, sizeof out->message, "%s: %s", heads_path, strerror(errno));
        rc = -1;
        goto out;
    }
    uint64_t head_bytes = (uint64_t)hs.st_size - AUDIT_HEADS_HEADER_BYTES;
    uint64_t head_count = head_bytes / AUDIT_HEAD_BYTES;
    bool torn_heads = head_bytes % AUDIT_HEAD_BYTES != 0;
    if (head_count) {
        heads = reel_malloc(head_count * sizeof *heads);
        if (!heads) {
            snprintf(out->message, sizeof out->message, "out of memory (%llu heads)",
                     (unsigned long long)head_count);
            rc = -1;
            goto out;
        }
    }
    for (uint64_t j = 0; j < head_count; j++) {
        uint8_t raw[AUDIT_HEAD_BYTES];
        if (fread(raw, 1, sizeof raw, hf) != sizeof raw) {
            snprintf(out->message, sizeof out->message, "%s: read error", heads_path);
            rc = -1;
            goto out;
        }
        audit_head_decode(raw, &heads[j]);
    }

    struct merkle_frontier frontier;
    merkle_frontier_init(&frontier);
    struct audit_scan scan = {.f = lf, .offset = AUDIT_LOG_HEADER_BYTES};
    uint8_t record[AUDIT_RECORD_MAX];
    size_t len;
    uint64_t count = 0, verified = 0, j = 0;
    merkle_hash trusted_root;
    bool log_torn = false;
    for (;;) {
        int next = audit_scan_next(&scan, record, &len);
        if (next == AUDIT_SCAN_END)
            break;
        if (next == AUDIT_SCAN_TORN) {
            log_torn = true;
            break;
        }
        struct audit_record r;
        if (audit_record_decode(record, len, &r) < 0)
            flag(&st, true, count, "record %llu does not decode as an audit record",
                 (unsigned long long)count);
        merkle_hash leaf;
        merkle_leaf_hash(record, len, leaf);
        merkle_frontier_append(&frontier, leaf);
        count++;
        if (trusted && count == trusted->tree_size)
            merkle_frontier_root(&frontier, trusted_root);
        for (; j < head_count && heads[j].tree_size <= count; j++)
            check_head(&st, &heads[j], j, count, &frontier, region, key, &verified);
    }
    out->records = count;
    if (log_torn)
        flag(&st, true, count,
             "record %llu: %s ends with a partial or unreadable frame (torn write or damage)",
             (unsigned long long)count, AUDIT_LOG_NAME);
    if (j < head_count) {
        if (!audit_head_verify(&heads[j], region, key))
            flag(&st, true, verified,
                 "record %llu: signed head #%llu (tree size %llu) has an invalid signature",
                 (unsigned long long)verified, (unsigned long long)j,
                 (unsigned long long)heads[j].tree_size);
        else
            flag(&st, true, count,
                 "record %llu is missing: the log ends after %llu records but signed head "
                 "#%llu covers %llu (its tail was cut off)",
                 (unsigned long long)count, (unsigned long long)count, (unsigned long long)j,
                 (unsigned long long)heads[j].tree_size);
    }
    if (verified < count)
        flag(&st, true, verified,
             "record %llu is not covered by any signed head (%llu such record%s: appended "
             "outside the log writer, or an append interrupted before its head)",
             (unsigned long long)verified, (unsigned long long)(count - verified),
             count - verified == 1 ? "" : "s");
    if (torn_heads)
        flag(&st, true, verified, "record %llu: %s ends with a partial head",
             (unsigned long long)verified, AUDIT_HEADS_NAME);
    if (trusted && trusted->tree_size > 0) {
        if (!audit_head_verify(trusted, region, key))
            flag(&st, false, 0, "the trusted head does not carry a valid signature by this key");
        else if (trusted->tree_size > count)
            flag(&st, true, count,
                 "record %llu is missing: a trusted head covers %llu records but the log has "
                 "only %llu (records and heads were cut off)",
                 (unsigned long long)count, (unsigned long long)trusted->tree_size,
                 (unsigned long long)count);
        else if (memcmp(trusted_root, trusted->root, sizeof trusted_root) != 0)
            flag(&st, false, 0,
                 "the log's first %llu records are not those of the trusted head: the log was "
                 "rewritten and re-signed (was the custodian key used elsewhere?)",
                 (unsigned long long)trusted->tree_size);
    }

done:
    out->intact = !st.problem;
    if (out->intact) {
        char root[65] = "-";
        if (out->latest.tree_size)
            hex(out->latest.root, sizeof out->latest.root, root);
        if (out->records || !out->message[0]) {
            snprintf(out->message, sizeof out->message,
                     "intact: %llu records, %llu signed heads, tree size %llu, root %s%s",
                     (unsigned long long)out->records, (unsigned long long)out->heads,
                     (unsigned long long)out->latest.tree_size, root,
                     public_key ? ""
                                : " (checked against the key recorded in audit.heads: give the "
                                  "custodian's public key to rule out a re-signed log)");
        }
    } else if (out->has_first_bad && out->first_bad < out->records) {
        describe_first_bad(log_path, out);
    }
out:
    reel_free(heads);
    if (lf)
        fclose(lf);
    if (hf)
        fclose(hf);
    return rc;
}

/* ---- proofs -------------------------------------------------------------- */

struct audit_reader {
    int fd;
    struct merkle_tree tree;
    uint64_t *offsets; /* of each record's frame */
    uint64_t offsets_cap;
    struct audit_head *heads;
    uint64_t head_count;
};

void audit_reader_close(struct audit_reader *r)
{
    if (!r)
        return;
    if (r->fd >= 0)
        close(r->fd);
    merkle_tree_clear(&r->tree);
    reel_free(r->offsets);
    reel_free(r->heads);
    reel_free(r);
}

int audit_reader_open(struct audit_reader **out, const char *dir, const char *region, char *err,
                      size_t errlen)
{
    char log_path[CONFIG_PATH_MAX], heads_path[CONFIG_PATH_MAX];
    *out = NULL;
    if (audit_paths(dir, log_path, heads_path) < 0) {
        snprintf(err, errlen, "%s: path too long", dir);
        return -1;
    }
    struct audit_reader *r = reel_calloc(1, sizeof *r);
    if (!r) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    merkle_tree_init(&r->tree);
    FILE *lf = NULL, *hf = NULL;
    r->fd = open(log_path, O_RDONLY | O_CLOEXEC);
    lf = fopen(log_path, "rb");
    hf = fopen(heads_path, "rb");
    if (r->fd < 0 || !lf || !hf) {
        snprintf(err, errlen, "%s: %s", !hf ? heads_path : log_path, strerror(errno));
        goto fail;
    }
    uint8_t lh[AUDIT_LOG_HEADER_BYTES], hh[AUDIT_HEADS_HEADER_BYTES], key[32];
    if (fread(lh, 1, sizeof lh, lf) != sizeof lh || fread(hh, 1, sizeof hh, hf) != sizeof hh) {
        snprintf(err, errlen, "%s: truncated header", dir);
        goto fail;
    }
    if (audit_check_log_header(lh, region, err, errlen) < 0 ||
        audit_check_heads_header(hh, region, key, err, errlen) < 0)
        goto fail;
    uint8_t raw[AUDIT_HEAD_BYTES];
    uint64_t heads_cap = 0;
    while (fread(raw, 1, sizeof raw, hf) == sizeof raw) {
        if (r->head_count == heads_cap) {
            uint64_t cap = heads_cap ? heads_cap * 2 : 64;
            void *grown = r->heads;
            if (reel_array_grow(&grown, cap, sizeof *r->heads) < 0)
                goto nomem;
            r->heads = grown;
            heads_cap = cap;
        }
        audit_head_decode(raw, &r->heads[r->head_count++]);
    }
    struct audit_scan scan = {.f = lf, .offset = AUDIT_LOG_HEADER_BYTES};
    uint8_t record[AUDIT_RECORD_MAX];
    size_t len;
    uint64_t at = scan.offset;
    while (audit_scan_next(&scan, record, &len) == AUDIT_SCAN_RECORD) {
        merkle_hash leaf;
        merkle_leaf_hash(record, len, leaf);
        if (r->tree.size == r->offsets_cap) {
            uint64_t cap = r->offsets_cap ? r->offsets_cap * 2 : 64;
            void *grown = r->offsets;
            if (reel_array_grow(&grown, cap, sizeof *r->offsets) < 0)
                goto nomem;
            r->offsets = grown;
            r->offsets_cap = cap;
        }
        if (merkle_tree_append(&r->tree, leaf) < 0)
            goto nomem;
        r->offsets[r->tree.size - 1] = at;
        at = scan.offset;
    }
    fclose(lf);
    fclose(hf);
    *out = r;
    return 0;
nomem:
    snprintf(err, errlen, "out of memory");
fail:
    if (lf)
        fclose(lf);
    if (hf)
        fclose(hf);
    audit_reader_close(r);
    return -1;
}

uint64_t audit_reader_size(const struct audit_reader *r)
{
    return r->tree.size;
}

int audit_reader_head(const struct audit_reader *r, uint64_t tree_size, struct audit_head *out)
{
    for (uint64_t j = r->head_count; j-- > 0;)
        if (r->heads[j].tree_size == tree_size) {
            *out = r->heads[j];
            return 0;
        }
    return -1;
}

int audit_reader_latest_head(const struct audit_reader *r, struct audit_head *out)
{
    if (!r->head_count)
        return -1;
    *out = r->heads[r->head_count - 1];
    return 0;
}

int audit_reader_record(const struct audit_reader *r, uint64_t index, struct audit_record *out,
                        merkle_hash leaf_hash)
{
    uint8_t frame[AUDIT_FRAME_HEADER_BYTES], record[AUDIT_RECORD_MAX];
    if (index >= r->tree.size ||
        pread(r->fd, frame, sizeof frame, (off_t)r->offsets[index]) != (ssize_t)sizeof frame)
        return -1;
    size_t len = (size_t)frame[2] << 8 | frame[3];
    if (frame[0] || frame[1] || len == 0 || len > AUDIT_RECORD_MAX ||
        pread(r->fd, record, len, (off_t)(r->offsets[index] + sizeof frame)) != (ssize_t)len)
        return -1;
    merkle_tree_leaf(&r->tree, index, leaf_hash);
    return audit_record_decode(record, len, out);
}

int audit_reader_inclusion(const struct audit_reader *r, uint64_t index, uint64_t tree_size,
                           struct merkle_proof *proof, merkle_hash root)
{
    if (merkle_tree_inclusion_proof(&r->tree, index, tree_size, proof) < 0)
        return -1;
    return merkle_tree_root(&r->tree, tree_size, root);
}

int audit_reader_consistency(const struct audit_reader *r, uint64_t old_size, uint64_t new_size,
                             struct merkle_proof *proof, merkle_hash old_root, merkle_hash new_root)
{
    if (merkle_tree_consistency_proof(&r->tree, old_size, new_size, proof) < 0)
        return -1;
    if (merkle_tree_root(&r->tree, old_size, old_root) < 0)
        return -1;
    return merkle_tree_root(&r->tree, new_size, new_root);
}
