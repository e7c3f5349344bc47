/*
 * The audit log: appends are verifiable; every kind of tampering — a flipped
 * byte, a deleted, swapped, inserted or forged record, a cut tail, a bad
 * signature, a re-signed log — is caught and the first bad record named;
 * proofs verify for good records and fail for changed ones; a crash between
 * a record and its head is repaired on open, real damage is refused; the
 * custodian key file is private; and `reel audit` works end to end.
 */
#include "cli/cli.h"
#include "core/config.h"
#include "region/audit.h"
#include "region/custodian.h"
#include "region/custody.h"
#include "region/region.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define T0 1767225600000LL
#define REGION "eu"

static char tmpdir[256], logdir[320], keypath[320], log_path[400], heads_path[400];
static struct custodian_key key;

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* A region data key at path (custody.h) and the audit keys derived from it. */
static void make_key(const char *path, struct custodian_key *out)
{
    unsigned char data_key[CUSTODY_KEY_BYTES];
    char err[256];
    cr_assert_eq(custody_key_load_or_create(path, data_key, err, sizeof err), 0, "%s", err);
    custodian_key_derive(data_key, out);
}

static void setup(void)
{
    cr_assert_geq(sodium_init(), 0);
    snprintf(tmpdir, sizeof tmpdir, "/tmp/reel-audit-XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir));
    snprintf(logdir, sizeof logdir, "%s/audit", tmpdir);
    snprintf(keypath, sizeof keypath, "%s/custody/eu.key", tmpdir);
    snprintf(log_path, sizeof log_path, "%s/audit.log", logdir);
    snprintf(heads_path, sizeof heads_path, "%s/audit.heads", logdir);
    make_key(keypath, &key);
}

static void teardown(void)
{
    nftw(tmpdir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static const char *const some_fields[] = {"email", "country", "watch_history"};

static struct audit_entry entry(int i)
{
    static char purpose[64];
    snprintf(purpose, sizeof purpose, "support ticket #%d", 4000 + i);
    struct audit_entry e = {
        .time_ms = T0 + i * 1000,
        .actor_id = 500 + (uint64_t)(i % 3),
        .role = i % 2 ? "support" : "custodian",
        .actor_region = REGION,
        .subject_id = i % 5 == 4 ? 0 : 148056038008356864ULL + (uint64_t)i,
        .action = "admin.user.read",
        .fields = some_fields,
        .field_count = i % 4,
        .purpose = purpose,
        .outcome = i % 7 == 6 ? AUDIT_REFUSED : AUDIT_ALLOWED,
    };
    return e;
}

static struct audit_log *open_log(void)
{
    char err[512];
    struct audit_log *log = NULL;
    cr_assert_eq(audit_open(&log, logdir, REGION, &key, err, sizeof err), 0, "%s", err);
    return log;
}

/* Appends records from..to-1, the i-th made from entry(i + shift). */
static void fill_shifted(int from, int to, int shift)
{
    struct audit_log *log = open_log();
    char err[512];
    for (int i = from; i < to; i++) {
        struct audit_entry e = entry(i + shift);
        uint64_t index = 0;
        cr_assert_eq(audit_append(log, &e, &index, err, sizeof err), 0, "%s", err);
        cr_assert_eq(index, (uint64_t)i);
    }
    audit_close(log);
}

static void fill(int from, int to)
{
    fill_shifted(from, to, 0);
}

static struct audit_verify_result verify(const struct audit_head *trusted)
{
    struct audit_verify_result res;
    cr_assert_eq(audit_verify(logdir, REGION, key.sign_public, trusted, &res), 0, "%s",
                 res.message);
    return res;
}

static void assert_first_bad(uint64_t index, const char *what)
{
    struct audit_verify_result res = verify(NULL);
    cr_log_info("%s: %s", what, res.message);
    cr_assert_not(res.intact, "%s: not detected", what);
    cr_assert(res.has_first_bad, "%s: no record named: %s", what, res.message);
    cr_assert_eq(res.first_bad, index, "%s: first bad record %llu, expected %llu: %s", what,
                 (unsigned long long)res.first_bad, (unsigned long long)index, res.message);
    char needle[32];
    snprintf(needle, sizeof needle, "record %llu", (unsigned long long)index);
    cr_assert_not_null(strstr(res.message, needle), "%s: message does not name it: %s", what,
                       res.message);
}

/* ---- whole files in memory ----------------------------------------------- */

struct file {
    uint8_t *data;
    size_t len;
};

static struct file slurp(const char *path)
{
    struct file f = {0};
    FILE *in = fopen(path, "rb");
    cr_assert_not_null(in);
    fseek(in, 0, SEEK_END);
    f.len = (size_t)ftell(in);
    fseek(in, 0, SEEK_SET);
    f.data = malloc(f.len + 1);
    cr_assert_eq(fread(f.data, 1, f.len, in), f.len);
    fclose(in);
    return f;
}

static void spit(const char *path, const uint8_t *data, size_t len)
{
    FILE *out = fopen(path, "wb");
    cr_assert_not_null(out);
    cr_assert_eq(fwrite(data, 1, len, out), len);
    fclose(out);
}

/* Byte offsets of each record frame in audit.log, and the end. */
static size_t frames(const struct file *f, size_t *offsets, size_t max)
{
    size_t n = 0, at = 48;
    while (at + 4 <= f->len && n < max) {
        size_t len = (size_t)f->data[at + 2] << 8 | f->data[at + 3];
        offsets[n++] = at;
        at += 4 + len;
    }
    offsets[n] = at;
    return n;
}

/* Replaces bytes [from, to) of audit.log with insert[0..insert_len). */
static void splice_log(size_t from, size_t to, const uint8_t *insert, size_t insert_len)
{
    struct file f = slurp(log_path);
    uint8_t *out = malloc(f.len - (to - from) + insert_len);
    memcpy(out, f.data, from);
    if (insert_len)
        memcpy(out + from, insert, insert_len);
    memcpy(out + from + insert_len, f.data + to, f.len - to);
    spit(log_path, out, f.len - (to - from) + insert_len);
    free(out);
    free(f.data);
}

/* A well-formed frame an attacker could write (no key needed). */
static size_t forged_frame(uint8_t *out)
{
    struct audit_record r = {.time_ms = T0, .actor_id = 1, .outcome = AUDIT_ALLOWED};
    snprintf(r.role, sizeof r.role, "custodian");
    snprintf(r.actor_region, sizeof r.actor_region, REGION);
    snprintf(r.action, sizeof r.action, "admin.user.read");
    int len = audit_record_encode(&r, out + 4);
    cr_assert_gt(len, 0);
    out[0] = out[1] = 0;
    out[2] = (uint8_t)(len >> 8);
    out[3] = (uint8_t)len;
    return (size_t)len + 4;
}

/* ---- appending and verifying --------------------------------------------- */

Test(audit, appends_verify_and_survive_reopening, .init = setup, .fini = teardown)
{
    fill(0, 20);
    struct audit_verify_result res = verify(NULL);
    cr_assert(res.intact, "%s", res.message);
    cr_assert_eq(res.records, 20);
    cr_assert_eq(res.heads, 20);
    cr_assert_eq(res.latest.tree_size, 20);
    cr_assert(audit_head_verify(&res.latest, REGION, key.sign_public));
    cr_assert_not(audit_head_verify(&res.latest, "us", key.sign_public),
                  "a head must not pass for another region's");
    cr_assert_not_null(strstr(res.message, "intact"));

    struct audit_log *log = open_log();
    cr_assert_eq(audit_size(log), 20);
    struct audit_head head;
    cr_assert_eq(audit_latest_head(log, &head), 0);
    cr_assert(memcmp(head.root, res.latest.root, 32) == 0);
    audit_close(log);
    fill(20, 25);
    res = verify(NULL);
    cr_assert(res.intact, "%s", res.message);
    cr_assert_eq(res.records, 25);

    /* Both files are private to the server's user. */
    struct stat st;
    cr_assert_eq(stat(log_path, &st), 0);
    cr_assert_eq(st.st_mode & 077, 0);
    cr_assert_eq(stat(heads_path, &st), 0);
    cr_assert_eq(st.st_mode & 077, 0);
}

Test(audit, records_round_trip_and_bad_entries_are_refused, .init = setup, .fini = teardown)
{
    fill(0, 8);
    struct audit_reader *r;
    char err[256];
    cr_assert_eq(audit_reader_open(&r, logdir, REGION, err, sizeof err), 0, "%s", err);
    for (int i = 0; i < 8; i++) {
        struct audit_record rec;
        merkle_hash leaf;
        struct audit_entry e = entry(i);
        cr_assert_eq(audit_reader_record(r, (uint64_t)i, &rec, leaf), 0);
        cr_assert_eq(rec.time_ms, e.time_ms);
        cr_assert_eq(rec.actor_id, e.actor_id);
        cr_assert_str_eq(rec.role, e.role);
        cr_assert_str_eq(rec.actor_region, REGION);
        cr_assert_str_eq(rec.action, e.action);
        cr_assert_str_eq(rec.purpose, e.purpose);
        cr_assert_eq(rec.field_count, e.field_count);
        for (int k = 0; k < e.field_count; k++)
            cr_assert_str_eq(rec.fields[k], e.fields[k]);
        cr_assert_eq(rec.outcome, e.outcome);
        uint8_t want[CUSTODIAN_PSEUDONYM_BYTES] = {0};
        if (e.subject_id)
            custodian_pseudonym(&key, e.subject_id, want);
        cr_assert(memcmp(rec.subject, want, sizeof want) == 0, "record %d subject", i);
    }
    audit_reader_close(r);

    struct audit_log *log = open_log();
    char long_text[300];
    memset(long_text, 'x', sizeof long_text - 1);
    long_text[sizeof long_text - 1] = '\0';
    const char *bad_fields[] = {"email", ""};
    struct audit_entry bad[8];
    for (int i = 0; i < 8; i++)
        bad[i] = entry(1);
    bad[0].role = "";
    bad[1].action = NULL;
    bad[2].purpose = long_text;
    bad[3].actor_region = "e\nu";
    bad[4].action = "\xff\xfe";
    bad[5].fields = bad_fields;
    bad[5].field_count = 2;
    bad[6].field_count = 17;
    bad[7].outcome = (enum audit_outcome)9;
    for (int i = 0; i < 8; i++)
        cr_assert_eq(audit_append(log, &bad[i], NULL, err, sizeof err), -1, "bad entry %d", i);
    cr_assert_eq(audit_size(log), 8, "refused entries leave the log unchanged");
    audit_close(log);
    cr_assert(verify(NULL).intact);
}

/* The subject's id is never written: only its keyed pseudonym. */
Test(audit, subjects_are_pseudonymised, .init = setup, .fini = teardown)
{
    fill(0, 10);
    struct file f = slurp(log_path);
    for (int i = 0; i < 10; i++) {
        struct audit_entry e = entry(i);
        if (!e.subject_id)
            continue;
        uint8_t be[8];
        char decimal[24];
        for (int k = 0; k < 8; k++)
            be[k] = (uint8_t)(e.subject_id >> (56 - 8 * k));
        snprintf(decimal, sizeof decimal, "%llu", (unsigned long long)e.subject_id);
        cr_assert_null(memmem(f.data, f.len, be, sizeof be), "raw id of record %d in the log", i);
        cr_assert_null(memmem(f.data, f.len, decimal, strlen(decimal)));
    }
    free(f.data);
    struct custodian_key other;
    char other_path[400];
    snprintf(other_path, sizeof other_path, "%s/custody/us.key", tmpdir);
    make_key(other_path, &other);
    uint8_t a[16], b[16], c[16];
    custodian_pseudonym(&key, 42, a);
    custodian_pseudonym(&key, 42, b);
    custodian_pseudonym(&other, 42, c);
    cr_assert(memcmp(a, b, 16) == 0, "stable for one key");
    cr_assert(memcmp(a, c, 16) != 0, "another key, another pseudonym");
}

/* ---- tampering ----------------------------------------------------------- */

Test(audit, flipped_byte_is_caught, .init = setup, .fini = teardown)
{
    fill(0, 10);
    struct file f = slurp(log_path);
    size_t off[16];
    frames(&f, off, 15);
    f.data[off[4] + 4 + 20] ^= 0x01; /* inside record 4's role/region text */
    spit(log_path, f.data, f.len);
    free(f.data);
    assert_first_bad(4, "flipped byte");
    /* The server refuses to append to it. */
    struct audit_log *log = NULL;
    char err[512];
    cr_assert_eq(audit_open(&log, logdir, REGION, &key, err, sizeof err), -1);
    cr_assert_not_null(strstr(err, "altered"), "%s", err);
}

Test(audit, flipped_length_byte_is_caught, .init = setup, .fini = teardown)
{
    fill(0, 10);
    struct file f = slurp(log_path);
    size_t off[16];
    frames(&f, off, 15);
    f.data[off[4] + 3] ^= 0x02;
    spit(log_path, f.data, f.len);
    free(f.data);
    assert_first_bad(4, "flipped length");
}

Test(audit, deleted_record_is_caught, .init = setup, .fini = teardown)
{
    fill(0, 10);
    struct file f = slurp(log_path);
    size_t off[16];
    frames(&f, off, 15);
    free(f.data);
    splice_log(off[4], off[5], NULL, 0);
    assert_first_bad(4, "deleted record");
}

Test(audit, swapped_records_are_caught, .init = setup, .fini = teardown)
{
    fill(0, 10);
    struct file f = slurp(log_path);
    size_t off[16];
    frames(&f, off, 15);
    /* Records 3 and 6 trade places. */
    size_t len3 = off[4] - off[3], len6 = off[7] - off[6];
    uint8_t *out = malloc(f.len);
    size_t n = 0;
    memcpy(out, f.data, off[3]);
    n = off[3];
    memcpy(out + n, f.data + off[6], len6);
    n += len6;
    memcpy(out + n, f.data + off[4], off[6] - off[4]);
    n += off[6] - off[4];
    memcpy(out + n, f.data + off[3], len3);
    n += len3;
    memcpy(out + n, f.data + off[7], f.len - off[7]);
    n += f.len - off[7];
    cr_assert_eq(n, f.len);
    spit(log_path, out, n);
    free(out);
    free(f.data);
    assert_first_bad(3, "swapped records");
}

Test(audit, inserted_record_is_caught, .init = setup, .fini = teardown)
{
    fill(0, 10);
    struct file f = slurp(log_path);
    size_t off[16];
    frames(&f, off, 15);
    free(f.data);
    uint8_t frame[4 + AUDIT_RECORD_MAX];
    size_t len = forged_frame(frame);
    splice_log(off[5], off[5], frame, len);
    assert_first_bad(5, "inserted record");
}

Test(audit, appended_forged_record_is_caught, .init = setup, .fini = teardown)
{
    fill(0, 10);
    struct file f = slurp(log_path);
    uint8_t frame[4 + AUDIT_RECORD_MAX];
    size_t len = forged_frame(frame);
    splice_log(f.len, f.len, frame, len);
    free(f.data);
    assert_first_bad(10, "appended record");
    struct audit_verify_result res = verify(NULL);
    cr_assert_not_null(strstr(res.message, "not covered"), "%s", res.message);
}

Test(audit, cut_tail_is_caught, .init = setup, .fini = teardown)
{
    fill(0, 10);
    struct file f = slurp(log_path);
    size_t off[16];
    frames(&f, off, 15);
    free(f.data);
    cr_assert_eq(truncate(log_path, (off_t)off[8]), 0); /* records 8 and 9 gone */
    assert_first_bad(8, "cut tail");
    cr_assert_eq(truncate(log_path, (off_t)off[7] + 5), 0); /* and a torn frame */
    assert_first_bad(7, "torn tail");
    struct audit_log *log = NULL;
    char err[512];
    cr_assert_eq(audit_open(&log, logdir, REGION, &key, err, sizeof err), -1);
    cr_assert_not_null(strstr(err, "removed"), "%s", err);
}

Test(audit, bad_signature_is_caught, .init = setup, .fini = teardown)
{
    fill(0, 10);
    struct file f = slurp(heads_path);
    f.data[80 + 3 * 112 + 60] ^= 0x80; /* head #3's signature */
    spit(heads_path, f.data, f.len);
    free(f.data);
    assert_first_bad(3, "bad signature");
    struct audit_verify_result res = verify(NULL);
    cr_assert_not_null(strstr(res.message, "signature"), "%s", res.message);
}

/* An attacker who rewrites the log and signs it with their own key passes
 * only a check that trusts the key in the file. */
Test(audit, a_log_signed_by_another_key_is_caught, .init = setup, .fini = teardown)
{
    struct custodian_key mine = key, attacker;
    char err[256], path[400];
    snprintf(path, sizeof path, "%s/custody/attacker.key", tmpdir);
    make_key(path, &attacker);
    key = attacker;
    fill(0, 5);
    key = mine;
    struct audit_verify_result res;
    cr_assert_eq(audit_verify(logdir, REGION, NULL, NULL, &res), 0);
    cr_assert(res.intact, "self-consistent");
    cr_assert_not_null(strstr(res.message, "key recorded in audit.heads"), "%s", res.message);
    res = verify(NULL);
    cr_assert_not(res.intact);
    cr_assert_not_null(strstr(res.message, "not the custodian's key"), "%s", res.message);
    struct audit_log *log = NULL;
    cr_assert_eq(audit_open(&log, logdir, REGION, &key, err, sizeof err), -1);
}

/* Cutting records and heads together leaves a self-consistent log; a head
 * kept elsewhere catches it. */
Test(audit, a_trusted_head_catches_a_consistent_cut, .init = setup, .fini = teardown)
{
    fill(0, 10);
    struct audit_verify_result before = verify(NULL);
    struct audit_head trusted = before.latest;
    struct file f = slurp(log_path);
    size_t off[16];
    frames(&f, off, 15);
    free(f.data);
    cr_assert_eq(truncate(log_path, (off_t)off[7]), 0);
    cr_assert_eq(truncate(heads_path, 80 + 7 * 112), 0);
    cr_assert(verify(NULL).intact, "undetectable from the log alone");
    struct audit_verify_result res = verify(&trusted);
    cr_assert_not(res.intact);
    cr_assert_eq(res.first_bad, 7, "%s", res.message);
    /* New, different records after the cut do not make it consistent again. */
    fill_shifted(7, 12, 100);
    cr_assert(verify(NULL).intact);
    cr_assert_not(verify(&trusted).intact, "records 7..9 were replaced by different ones");
    /* A trusted head from before the cut still holds. */
    struct audit_head early;
    struct audit_reader *r;
    char err[256];
    cr_assert_eq(audit_reader_open(&r, logdir, REGION, err, sizeof err), 0);
    cr_assert_eq(audit_reader_head(r, 5, &early), 0);
    audit_reader_close(r);
    cr_assert(verify(&early).intact);
}

/* ---- crash repair -------------------------------------------------------- */

Test(audit, an_unacknowledged_tail_is_repaired_on_open, .init = setup, .fini = teardown)
{
    fill(0, 6);
    /* A crash after the record's fsync but before its head: */
    uint8_t frame[4 + AUDIT_RECORD_MAX];
    size_t len = forged_frame(frame);
    struct file f = slurp(log_path);
    splice_log(f.len, f.len, frame, len);
    free(f.data);
    /* and a torn head frame. */
    f = slurp(heads_path);
    uint8_t *grown = malloc(f.len + 50);
    memcpy(grown, f.data, f.len);
    memset(grown + f.len, 0xab, 50);
    spit(heads_path, grown, f.len + 50);
    free(grown);
    free(f.data);
    cr_assert_not(verify(NULL).intact, "verify reports it until the server repairs it");
    struct audit_log *log = open_log();
    cr_assert_eq(audit_size(log), 6);
    char err[256];
    struct audit_entry e = entry(6);
    cr_assert_eq(audit_append(log, &e, NULL, err, sizeof err), 0, "%s", err);
    audit_close(log);
    struct audit_verify_result res = verify(NULL);
    cr_assert(res.intact, "%s", res.message);
    cr_assert_eq(res.records, 7);
}

Test(audit, one_writer_at_a_time, .init = setup, .fini = teardown)
{
    struct audit_log *a = open_log(), *b = NULL;
    char err[512];
    cr_assert_eq(audit_open(&b, logdir, REGION, &key, err, sizeof err), -1);
    cr_assert_not_null(strstr(err, "in use"), "%s", err);
    audit_close(a);
    b = open_log();
    audit_close(b);
    /* Another region's name is refused. */
    cr_assert_eq(audit_open(&b, logdir, "us", &key, err, sizeof err), -1);
}

struct writer {
    struct audit_log *log;
    int id;
};

static void *append_many(void *arg)
{
    struct writer *w = arg;
    char err[256];
    for (int i = 0; i < 25; i++) {
        struct audit_entry e = entry(w->id * 100 + i);
        if (audit_append(w->log, &e, NULL, err, sizeof err) < 0)
            return (void *)1;
    }
    return NULL;
}

Test(audit, concurrent_appends, .init = setup, .fini = teardown)
{
    struct audit_log *log = open_log();
    pthread_t t[4];
    struct writer w[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (struct writer){log, i};
        pthread_create(&t[i], NULL, append_many, &w[i]);
    }
    for (int i = 0; i < 4; i++) {
        void *rc;
        pthread_join(t[i], &rc);
        cr_assert_null(rc);
    }
    cr_assert_eq(audit_size(log), 100);
    audit_close(log);
    struct audit_verify_result res = verify(NULL);
    cr_assert(res.intact, "%s", res.message);
    cr_assert_eq(res.heads, 100);
}

/* ---- proofs -------------------------------------------------------------- */

Test(audit, proofs_verify_for_good_records_and_fail_for_changed_ones, .init = setup,
     .fini = teardown)
{
    fill(0, 37);
    struct audit_reader *r;
    char err[256];
    cr_assert_eq(audit_reader_open(&r, logdir, REGION, err, sizeof err), 0, "%s", err);
    cr_assert_eq(audit_reader_size(r), 37);
    struct audit_head latest;
    cr_assert_eq(audit_reader_latest_head(r, &latest), 0);
    cr_assert(audit_head_verify(&latest, REGION, key.sign_public));
    for (uint64_t i = 0; i < 37; i++) {
        struct audit_record rec;
        merkle_hash leaf, root;
        struct merkle_proof proof;
        cr_assert_eq(audit_reader_record(r, i, &rec, leaf), 0);
        /* The leaf hash is SHA-256(0x00 || the encoded record). */
        uint8_t encoded[AUDIT_RECORD_MAX];
        int len = audit_record_encode(&rec, encoded);
        merkle_hash again;
        merkle_leaf_hash(encoded, (size_t)len, again);
        cr_assert(memcmp(again, leaf, 32) == 0);
        for (uint64_t size = i + 1; size <= 37; size += 9) {
            struct audit_head head;
            cr_assert_eq(audit_reader_head(r, size, &head), 0);
            cr_assert_eq(audit_reader_inclusion(r, i, size, &proof, root), 0);
            cr_assert(memcmp(root, head.root, 32) == 0);
            cr_assert_eq(merkle_verify_inclusion(i, size, leaf, &proof, head.root), 0,
                         "record %llu in %llu", (unsigned long long)i, (unsigned long long)size);
        }
        /* A changed record does not verify against the signed root. */
        rec.outcome = rec.outcome == AUDIT_ALLOWED ? AUDIT_REFUSED : AUDIT_ALLOWED;
        len = audit_record_encode(&rec, encoded);
        merkle_leaf_hash(encoded, (size_t)len, again);
        cr_assert_eq(audit_reader_inclusion(r, i, 37, &proof, root), 0);
        cr_assert_neq(merkle_verify_inclusion(i, 37, again, &proof, latest.root), 0);
        if ((i ^ 1) < 37)
            cr_assert_neq(merkle_verify_inclusion(i ^ 1, 37, leaf, &proof, root), 0,
                          "a proof for record %llu must not prove another position",
                          (unsigned long long)i);
    }
    for (uint64_t m = 1; m <= 37; m += 4)
        for (uint64_t n = m; n <= 37; n += 5) {
            struct audit_head hm, hn;
            struct merkle_proof proof;
            merkle_hash rm, rn;
            cr_assert_eq(audit_reader_head(r, m, &hm), 0);
            cr_assert_eq(audit_reader_head(r, n, &hn), 0);
            cr_assert_eq(audit_reader_consistency(r, m, n, &proof, rm, rn), 0);
            cr_assert(memcmp(rm, hm.root, 32) == 0 && memcmp(rn, hn.root, 32) == 0);
            cr_assert_eq(merkle_verify_consistency(m, n, hm.root, hn.root, &proof), 0,
                         "%llu -> %llu", (unsigned long long)m, (unsigned long long)n);
            if (m < n && m > 1) {
                struct audit_head other;
                cr_assert_eq(audit_reader_head(r, m - 1, &other), 0);
                cr_assert_neq(merkle_verify_consistency(m, n, other.root, hn.root, &proof), 0);
            }
        }
    audit_reader_close(r);

    /* After an edit, the edited record's proof no longer reaches the signed root. */
    struct file f = slurp(log_path);
    size_t off[64];
    frames(&f, off, 63);
    f.data[off[12] + 4 + 30] ^= 0x04;
    spit(log_path, f.data, f.len);
    free(f.data);
    cr_assert_eq(audit_reader_open(&r, logdir, REGION, err, sizeof err), 0, "%s", err);
    struct audit_record rec;
    merkle_hash leaf, root;
    struct merkle_proof proof;
    audit_reader_record(r, 12, &rec, leaf);
    cr_assert_eq(audit_reader_inclusion(r, 12, 37, &proof, root), 0);
    cr_assert_neq(merkle_verify_inclusion(12, 37, leaf, &proof, latest.root), 0);
    audit_reader_record(r, 11, &rec, leaf);
    cr_assert_eq(audit_reader_inclusion(r, 11, 37, &proof, root), 0);
    cr_assert_neq(merkle_verify_inclusion(11, 37, leaf, &proof, latest.root), 0,
                  "the tree's root moved with the edit");
    audit_reader_close(r);
}

/* ---- the custodian key --------------------------------------------------- */

/* The built-in configuration with data in tmpdir: region eu's data key is
 * tmpdir/custody/eu.key, its primary site tmpdir/sites/eu-ie. */
static void load_map(struct config *cfg, struct region_map *map)
{
    char err[CONFIG_ERR_MAX];
    config_init(cfg);
    cr_assert_eq(config_load_string(cfg, config_default_text, "built-in", err, sizeof err), 0);
    snprintf(cfg->data_dir, sizeof cfg->data_dir, "%s", tmpdir);
    cr_assert_eq(region_map_init(map, cfg, err, sizeof err), 0, "%s", err);
}

Test(audit, custodian_keys_derive_from_the_region_data_key, .init = setup, .fini = teardown)
{
    static struct config cfg;
    static struct region_map map;
    load_map(&cfg, &map);
    const struct region *eu = region_by_name(&map, "eu"), *us = region_by_name(&map, "us");
    struct custodian_key loaded, other;
    char err[512], pub[CONFIG_PATH_MAX];
    /* setup() made tmpdir/custody/eu.key: the region's own key file. */
    cr_assert_eq(custodian_key_load(&cfg, eu, false, &loaded, err, sizeof err), 0, "%s", err);
    cr_assert(memcmp(loaded.sign_public, key.sign_public, 32) == 0);
    cr_assert(memcmp(loaded.pseudonym_key, key.pseudonym_key, 32) == 0);
    unsigned char data_key[CUSTODY_KEY_BYTES];
    cr_assert_eq(custody_key_load(keypath, data_key, err, sizeof err), 0);
    cr_assert(memcmp(loaded.pseudonym_key, data_key, 32) != 0, "derived, not the data key");
    cr_assert(memcmp(loaded.sign_secret, data_key, 32) != 0);

    /* Loading with create writes the public half for auditors. */
    cr_assert_eq(custodian_public_key_path(&cfg, eu, pub), 0);
    cr_assert_neq(access(pub, F_OK), 0);
    cr_assert_eq(custodian_key_load(&cfg, eu, true, &loaded, err, sizeof err), 0, "%s", err);
    uint8_t public_key[32];
    cr_assert_eq(custodian_public_key_read(pub, public_key, err, sizeof err), 0, "%s", err);
    cr_assert(memcmp(public_key, key.sign_public, 32) == 0);
    struct stat st;
    cr_assert_eq(stat(pub, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0644);

    /* Another region, another key; a missing key is created only when asked. */
    cr_assert_eq(custodian_key_load(&cfg, us, false, &other, err, sizeof err), -1);
    cr_assert_eq(custodian_key_load(&cfg, us, true, &other, err, sizeof err), 0, "%s", err);
    cr_assert(memcmp(other.sign_public, key.sign_public, 32) != 0);

    /* A key file others can read is refused. */
    cr_assert_eq(chmod(keypath, 0640), 0);
    cr_assert_eq(custodian_key_load(&cfg, eu, false, &loaded, err, sizeof err), -1);
    cr_assert_eq(chmod(keypath, 0600), 0);
    spit(pub, (const uint8_t *)"not hex\n", 8);
    cr_assert_eq(custodian_public_key_read(pub, public_key, err, sizeof err), -1);
}

/* ---- the command line ---------------------------------------------------- */

struct output {
    int status;
    char out[16384];
    char err[8192];
};

static void read_back(int fd, char *buf, size_t size)
{
    lseek(fd, 0, SEEK_SET);
    ssize_t n = read(fd, buf, size - 1);
    buf[n > 0 ? n : 0] = '\0';
    close(fd);
}

static struct output run(const char *const *args)
{
    static struct output o;
    char *argv[32];
    int argc = 0;
    for (; args[argc]; argc++)
        argv[argc] = (char *)args[argc];
    argv[argc] = NULL;
    char out_path[400], err_path[400];
    snprintf(out_path, sizeof out_path, "%s/stdout", tmpdir);
    snprintf(err_path, sizeof err_path, "%s/stderr", tmpdir);
    fflush(stdout);
    fflush(stderr);
    int saved_out = dup(1), saved_err = dup(2);
    int out_fd = open(out_path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    int err_fd = open(err_path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    dup2(out_fd, 1);
    dup2(err_fd, 2);
    o.status = cli_audit(argc, argv);
    fflush(stdout);
    fflush(stderr);
    dup2(saved_out, 1);
    dup2(saved_err, 2);
    close(saved_out);
    close(saved_err);
    read_back(out_fd, o.out, sizeof o.out);
    read_back(err_fd, o.err, sizeof o.err);
    return o;
}

static char config_path[512];

/* The built-in configuration with --data tmpdir: region eu's primary site is
 * tmpdir/sites/eu-ie and its data key tmpdir/custody/eu.key. */
static void cli_setup(void)
{
    setup();
    const char *root = getenv("REEL_SOURCE_ROOT");
    cr_assert_not_null(root, "REEL_SOURCE_ROOT is not set");
    snprintf(config_path, sizeof config_path, "%s/config/reel.ini", root);
    snprintf(logdir, sizeof logdir, "%s/sites/eu-ie/audit", tmpdir);
    snprintf(log_path, sizeof log_path, "%s/audit.log", logdir);
    snprintf(heads_path, sizeof heads_path, "%s/audit.heads", logdir);
}

static bool hex_to(const char *hex, uint8_t *out, size_t len)
{
    size_t got = 0;
    return hex && sodium_hex2bin(out, len, hex, strlen(hex), NULL, &got, NULL) == 0 && got == len;
}

Test(audit_cli, verify_prove_and_head, .init = cli_setup, .fini = teardown)
{
    fill(0, 12);
    const char *verify_args[] = {"audit",  "verify", "--config", config_path,
                                 "--data", tmpdir,   NULL};
    struct output o = run(verify_args);
    cr_assert_eq(o.status, 0, "%s%s", o.out, o.err);
    cr_assert_not_null(strstr(o.out, "audit log eu"), "%s", o.out);
    cr_assert_not_null(strstr(o.out, "intact: 12 records"), "%s", o.out);
    cr_assert_not_null(strstr(o.out, "audit log us"), "%s", o.out);

    /* An inclusion proof, checked from its JSON alone. */
    const char *prove_args[] = {"audit",    "prove", "--config", config_path, "--data", tmpdir,
                                "--region", "eu",    "--index",  "5",         NULL};
    o = run(prove_args);
    cr_assert_eq(o.status, 0, "%s", o.err);
    json_error_t error;
    json_t *j = json_loads(o.out, 0, &error);
    cr_assert_not_null(j, "%s: %s", error.text, o.out);
    cr_assert_str_eq(json_string_value(json_object_get(j, "type")), "inclusion");
    cr_assert_eq(json_integer_value(json_object_get(j, "tree_size")), 12);
    struct merkle_proof proof = {0};
    json_t *path = json_object_get(j, "inclusion_path"), *item;
    size_t i;
    json_array_foreach(path, i, item)
        cr_assert(hex_to(json_string_value(item), proof.hashes[proof.len++], 32));
    merkle_hash leaf;
    struct audit_head head;
    json_t *signed_head = json_object_get(j, "signed_head");
    cr_assert(hex_to(json_string_value(json_object_get(j, "leaf_hash")), leaf, 32));
    cr_assert(hex_to(json_string_value(json_object_get(signed_head, "root_hash")), head.root, 32));
    cr_assert(
        hex_to(json_string_value(json_object_get(signed_head, "signature")), head.signature, 64));
    head.tree_size = (uint64_t)json_integer_value(json_object_get(signed_head, "tree_size"));
    head.time_ms = json_integer_value(json_object_get(signed_head, "timestamp_ms"));
    cr_assert(audit_head_verify(&head, "eu", key.sign_public));
    cr_assert_eq(merkle_verify_inclusion(5, 12, leaf, &proof, head.root), 0);
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "record"), "action")),
                     "admin.user.read");
    json_decref(j);

    const char *consistency_args[] = {"audit", "prove",    "--config", config_path, "--data",
                                      tmpdir,  "--region", "eu",       "--from",    "5",
                                      "--to",  "12",       NULL};
    o = run(consistency_args);
    cr_assert_eq(o.status, 0, "%s", o.err);
    j = json_loads(o.out, 0, &error);
    cr_assert_not_null(j);
    struct merkle_proof cproof = {0};
    json_array_foreach(json_object_get(j, "consistency_path"), i, item)
        cr_assert(hex_to(json_string_value(item), cproof.hashes[cproof.len++], 32));
    merkle_hash r1, r2;
    cr_assert(hex_to(json_string_value(json_object_get(j, "first_root")), r1, 32));
    cr_assert(hex_to(json_string_value(json_object_get(j, "second_root")), r2, 32));
    cr_assert_eq(merkle_verify_consistency(5, 12, r1, r2, &cproof), 0);
    json_decref(j);

    /* A head saved now catches a later consistent cut. */
    const char *head_args[] = {"audit", "head",     "--config", config_path, "--data",
                               tmpdir,  "--region", "eu",       NULL};
    o = run(head_args);
    cr_assert_eq(o.status, 0, "%s", o.err);
    char head_file[400];
    snprintf(head_file, sizeof head_file, "%s/eu-head.json", tmpdir);
    spit(head_file, (const uint8_t *)o.out, strlen(o.out));
    cr_assert_eq(truncate(heads_path, 80 + 9 * 112), 0);
    struct file f = slurp(log_path);
    size_t off[32];
    frames(&f, off, 31);
    free(f.data);
    cr_assert_eq(truncate(log_path, (off_t)off[9]), 0);
    o = run(verify_args);
    cr_assert_eq(o.status, 0, "a consistent cut passes without a trusted head");
    const char *trusted_args[] = {"audit",          "verify",  "--config", config_path,
                                  "--data",         tmpdir,    "--region", "eu",
                                  "--trusted-head", head_file, NULL};
    o = run(trusted_args);
    cr_assert_eq(o.status, 1, "%s%s", o.out, o.err);
    cr_assert_not_null(strstr(o.err, "record 9"), "%s", o.err);
}

Test(audit_cli, tampering_fails_with_the_first_bad_record, .init = cli_setup, .fini = teardown)
{
    fill(0, 10);
    struct file f = slurp(log_path);
    size_t off[16];
    frames(&f, off, 15);
    f.data[off[6] + 4 + 18] ^= 0x20;
    spit(log_path, f.data, f.len);
    free(f.data);
    const char *args[] = {"audit", "verify", "--config", config_path, "--data", tmpdir, NULL};
    struct output o = run(args);
    cr_assert_eq(o.status, 1);
    cr_assert_not_null(strstr(o.err, "NOT INTACT"), "%s", o.err);
    cr_assert_not_null(strstr(o.err, "record 6"), "%s", o.err);
    /* No proofs from a damaged log. */
    const char *prove[] = {"audit",    "prove", "--config", config_path, "--data", tmpdir,
                           "--region", "eu",    "--index",  "2",         NULL};
    o = run(prove);
    cr_assert_eq(o.status, 1);
    cr_assert_str_eq(o.out, "");
}

Test(audit_cli, usage_errors_exit_2, .init = cli_setup, .fini = teardown)
{
    const char *cases[][12] = {
        {"audit", NULL},
        {"audit", "bogus", NULL},
        {"audit", "verify", "--index", "3", NULL},
        {"audit", "prove", "--region", "eu", NULL},
        {"audit", "prove", "--region", "eu", "--index", "x", NULL},
        {"audit", "prove", "--region", "eu", "--index", "1", "--from", "1", "--to", "2", NULL},
        {"audit", "prove", "--index", "1", NULL},
        {"audit", "head", "--region", "eu", "--size", "3", NULL},
        {"audit", "verify", "--public-key", "k.pub", NULL},
        {"audit", "verify", "extra", NULL},
        {"audit", "verify", "--config", config_path, "--region", "mars", NULL},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        struct output o = run(cases[c]);
        cr_assert_eq(o.status, EXIT_USAGE, "case %zu: exit %d (%s)", c, o.status, o.err);
    }
    const char *help[] = {"audit", "--help", NULL};
    struct output o = run(help);
    cr_assert_eq(o.status, 0);
    cr_assert_not_null(strstr(o.out, "reel audit verify"));
}
