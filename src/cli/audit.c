/*
 * audit.c — `reel audit`: check a region's audit log, print proofs about
 * it, and print its latest signed head for safekeeping elsewhere.
 *
 *   reel audit verify [--config FILE] [--data DIR] [--region R]
 *                     [--public-key FILE] [--trusted-head FILE]
 *   reel audit prove  [--config FILE] [--data DIR] --region R
 *                     (--index I [--size N] | --from M --to N)
 *   reel audit head   [--config FILE] [--data DIR] --region R
 *
 * verify exits 0 only if every checked log is intact; otherwise it prints
 * the first bad record and exits 1. The heads are checked against the
 * custodian's public key: --public-key, else the region's <region>.audit.pub
 * next to its data key, else the one derived from the data key itself; only
 * when none is available does it fall back to the key recorded in the log
 * (and says so). A head
 * saved earlier with `reel audit head` and given as --trusted-head also
 * catches a log whose records and heads were cut off together.
 *
 * prove prints JSON (stdout): an inclusion proof of one record, or a
 * consistency proof between two tree sizes, each with the signed heads they
 * hang from, so a third party can check them with any RFC 9162
 * implementation. It refuses to prove from a log that does not verify.
 */
#include "cli/cli.h"

#include "core/clock.h"
#include "core/parse.h"
#include "region/audit.h"
#include "region/region.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *out)
{
    fprintf(out, "usage: reel audit verify [--config FILE] [--data DIR] [--region R]\n"
                 "                         [--public-key FILE] [--trusted-head FILE]\n"
                 "       reel audit prove  [--config FILE] [--data DIR] --region R\n"
                 "                         (--index I [--size N] | --from M --to N)\n"
                 "       reel audit head   [--config FILE] [--data DIR] --region R\n"
                 "\n"
                 "verify  recompute each region's audit log (or one) against its signed tree\n"
                 "        heads; exit 0 only if intact, else name the first bad record\n"
                 "prove   print, as JSON, an inclusion proof of record I in the tree of N\n"
                 "        records (default: the latest signed head), or a consistency proof\n"
                 "        between the trees of M and N records\n"
                 "head    print the latest signed tree head as JSON (keep it elsewhere and\n"
                 "        pass it to verify --trusted-head later)\n"
                 "\n"
                 "  --config FILE        configuration (default: config/reel.ini if present)\n"
                 "  --data DIR           data directory (default ./data)\n"
                 "  --region R           the region (all regions for verify by default)\n"
                 "  --public-key FILE    the custodian's public key (64 hex digits)\n"
                 "  --trusted-head FILE  a head printed earlier by `reel audit head`\n");
}

struct audit_args {
    struct cli_common common;
    const char *region;
    const char *public_key;
    const char *trusted_head;
    bool have_index, have_size, have_from, have_to;
    uint64_t index, size, from, to;
};

static int parse_u64(const char *name, const char *value, uint64_t *out)
{
    unsigned long long v;
    if (parse_ull(value, &v) < 0) {
        fprintf(stderr, "reel audit: %s: '%s' is not a number\n", name, value);
        return -1;
    }
    *out = v;
    return 0;
}

static void to_hex(const uint8_t *data, size_t len, char *out)
{
    sodium_bin2hex(out, 2 * len + 1, data, len);
}

static int from_hex(const char *text, uint8_t *out, size_t len)
{
    size_t bin_len = 0;
    return text && strlen(text) == 2 * len &&
                   sodium_hex2bin(out, len, text, 2 * len, NULL, &bin_len, NULL) == 0 &&
                   bin_len == len
               ? 0
               : -1;
}

static json_t *hex_json(const uint8_t *data, size_t len)
{
    char text[2 * 64 + 1];
    to_hex(data, len, text);
    return json_string(text);
}

static json_t *head_json(const char *region, const struct audit_head *h, const uint8_t *key)
{
    char when[RFC3339_MAX];
    return json_pack("{s:s, s:I, s:s, s:I, s:o, s:o, s:o}", "region", region, "tree_size",
                     (json_int_t)h->tree_size, "timestamp", clock_format_rfc3339(h->time_ms, when),
                     "timestamp_ms", (json_int_t)h->time_ms, "root_hash",
                     hex_json(h->root, sizeof h->root), "signature",
                     hex_json(h->signature, sizeof h->signature), "public_key",
                     hex_json(key, CUSTODIAN_PUBLIC_KEY_BYTES));
}

static json_t *record_json(const struct audit_record *r)
{
    static const uint8_t no_subject[CUSTODIAN_PSEUDONYM_BYTES] = {0};
    char when[RFC3339_MAX], actor[24];
    snprintf(actor, sizeof actor, "%llu", (unsigned long long)r->actor_id);
    json_t *fields = json_array();
    for (int i = 0; i < r->field_count; i++)
        json_array_append_new(fields, json_string(r->fields[i]));
    return json_pack("{s:s, s:s, s:s, s:s, s:o, s:s, s:o, s:s, s:s}", "time",
                     clock_format_rfc3339(r->time_ms, when), "actor_id", actor, "role", r->role,
                     "actor_region", r->actor_region, "subject",
                     memcmp(r->subject, no_subject, sizeof no_subject)
                         ? hex_json(r->subject, sizeof r->subject)
                         : json_null(),
                     "action", r->action, "fields", fields, "purpose", r->purpose, "outcome",
                     audit_outcome_name(r->outcome));
}

static json_t *path_json(const struct merkle_proof *proof)
{
    json_t *a = json_array();
    for (size_t i = 0; i < proof->len; i++)
        json_array_append_new(a, hex_json(proof->hashes[i], MERKLE_HASH_BYTES));
    return a;
}

static int print_json(json_t *value)
{
    if (!value) {
        fprintf(stderr, "reel audit: out of memory\n");
        return 1;
    }
    json_dumpf(value, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    fputc('\n', stdout);
    json_decref(value);
    return 0;
}

static int audit_dir(const struct region *r, char *out)
{
    size_t n = strlen(r->primary_dir);
    if (n + sizeof "/audit" > CONFIG_PATH_MAX)
        return -1;
    memcpy(out, r->primary_dir, n);
    memcpy(out + n, "/audit", sizeof "/audit");
    return 0;
}

/* The custodian's public key for a region. Returns 1 found, 0 none, -1 error. */
static int find_public_key(const struct config *cfg, const struct audit_args *a,
                           const struct region *r, uint8_t key[CUSTODIAN_PUBLIC_KEY_BYTES])
{
    char path[CONFIG_PATH_MAX], err[CONFIG_ERR_MAX];
    if (a->public_key) {
        if (custodian_public_key_read(a->public_key, key, err, sizeof err) < 0) {
            fprintf(stderr, "reel audit: %s\n", err);
            return -1;
        }
        return 1;
    }
    if (custodian_public_key_path(cfg, r, path) == 0 && access(path, F_OK) == 0) {
        if (custodian_public_key_read(path, key, err, sizeof err) < 0) {
            fprintf(stderr, "reel audit: %s\n", err);
            return -1;
        }
        return 1;
    }
    if (region_key_path(cfg, r, path) == 0 && access(path, R_OK) == 0) {
        struct custodian_key secret;
        if (custodian_key_load(cfg, r, false, &secret, err, sizeof err) < 0) {
            fprintf(stderr, "reel audit: %s\n", err);
            return -1;
        }
        memcpy(key, secret.sign_public, CUSTODIAN_PUBLIC_KEY_BYTES);
        custodian_key_wipe(&secret);
        return 1;
    }
    return 0;
}

static int read_trusted_head(const char *path, const char *region, struct audit_head *out)
{
    json_error_t error;
    json_t *j = json_load_file(path, 0, &error);
    if (!j) {
        fprintf(stderr, "reel audit: %s:%d: %s\n", path, error.line, error.text);
        return -1;
    }
    const char *head_region = NULL, *root = NULL, *signature = NULL;
    json_int_t size = -1, time_ms = -1;
    int rc = -1;
    if (json_unpack(j, "{s:s, s:I, s:I, s:s, s:s}", "region", &head_region, "tree_size", &size,
                    "timestamp_ms", &time_ms, "root_hash", &root, "signature", &signature) < 0 ||
        size < 0 || from_hex(root, out->root, sizeof out->root) < 0 ||
        from_hex(signature, out->signature, sizeof out->signature) < 0) {
        fprintf(stderr, "reel audit: %s: not a head printed by `reel audit head`\n", path);
    } else if (strcmp(head_region, region) != 0) {
        fprintf(stderr, "reel audit: %s: a head of region %s, not %s\n", path, head_region, region);
    } else {
        out->tree_size = (uint64_t)size;
        out->time_ms = (int64_t)time_ms;
        rc = 0;
    }
    json_decref(j);
    return rc;
}

static int verify_region(const struct config *cfg, const struct audit_args *a,
                         const struct region *r, bool quiet, struct audit_verify_result *res)
{
    char dir[CONFIG_PATH_MAX];
    uint8_t key[CUSTODIAN_PUBLIC_KEY_BYTES];
    struct audit_head trusted;
    if (audit_dir(r, dir) < 0) {
        fprintf(stderr, "reel audit: %s: path too long\n", r->primary_dir);
        return -1;
    }
    int found = find_public_key(cfg, a, r, key);
    if (found < 0)
        return -1;
    if (a->trusted_head && read_trusted_head(a->trusted_head, r->name, &trusted) < 0)
        return -1;
    if (audit_verify(dir, r->name, found ? key : NULL, a->trusted_head ? &trusted : NULL, res) <
        0) {
        fprintf(stderr, "reel audit: region %s: %s\n", r->name, res->message);
        return -1;
    }
    if (!quiet || !res->intact)
        fprintf(res->intact ? stdout : stderr, "audit log %s (%s): %s%s\n", r->name, dir,
                res->intact ? "" : "NOT INTACT: ", res->message);
    return 0;
}

static int run_verify(const struct config *cfg, const struct region_map *map,
                      const struct audit_args *a)
{
    int status = 0;
    for (int i = 0; i < map->count; i++) {
        const struct region *r = &map->regions[i];
        if (a->region && strcmp(a->region, r->name) != 0)
            continue;
        struct audit_verify_result res;
        if (verify_region(cfg, a, r, false, &res) < 0 || !res.intact)
            status = 1;
    }
    return status;
}

static int run_prove(const struct config *cfg, const struct region *r, const struct audit_args *a)
{
    struct audit_verify_result res;
    if (verify_region(cfg, a, r, true, &res) < 0 || !res.intact)
        return 1;
    char dir[CONFIG_PATH_MAX], err[AUDIT_MESSAGE_MAX];
    audit_dir(r, dir);
    struct audit_reader *reader;
    if (audit_reader_open(&reader, dir, r->name, err, sizeof err) < 0) {
        fprintf(stderr, "reel audit: %s\n", err);
        return 1;
    }
    int status = 1;
    struct merkle_proof proof;
    json_t *out = NULL;
    if (a->have_index) {
        uint64_t size = a->have_size ? a->size : res.latest.tree_size;
        struct audit_head head;
        struct audit_record record;
        merkle_hash leaf, root;
        if (a->index >= size || size > audit_reader_size(reader) ||
            audit_reader_head(reader, size, &head) < 0 ||
            audit_reader_record(reader, a->index, &record, leaf) < 0 ||
            audit_reader_inclusion(reader, a->index, size, &proof, root) < 0) {
            fprintf(stderr,
                    "reel audit: no record %llu in a signed tree of %llu records (the log has "
                    "%llu)\n",
                    (unsigned long long)a->index, (unsigned long long)size,
                    (unsigned long long)audit_reader_size(reader));
            goto out;
        }
        out = json_pack("{s:s, s:s, s:I, s:I, s:o, s:o, s:o, s:o, s:o}", "region", r->name, "type",
                        "inclusion", "leaf_index", (json_int_t)a->index, "tree_size",
                        (json_int_t)size, "leaf_hash", hex_json(leaf, sizeof leaf), "root_hash",
                        hex_json(root, sizeof root), "inclusion_path", path_json(&proof), "record",
                        record_json(&record), "signed_head",
                        head_json(r->name, &head, res.public_key));
    } else {
        struct audit_head first, second;
        merkle_hash first_root, second_root;
        if (a->from > a->to || a->to > audit_reader_size(reader) ||
            (a->from > 0 && audit_reader_head(reader, a->from, &first) < 0) ||
            audit_reader_head(reader, a->to, &second) < 0 ||
            audit_reader_consistency(reader, a->from, a->to, &proof, first_root, second_root) < 0) {
            fprintf(stderr,
                    "reel audit: no consistency proof from %llu to %llu records (the log has "
                    "%llu; sizes must be signed heads)\n",
                    (unsigned long long)a->from, (unsigned long long)a->to,
                    (unsigned long long)audit_reader_size(reader));
            goto out;
        }
        out = json_pack("{s:s, s:s, s:I, s:I, s:o, s:o, s:o, s:o, s:o}", "region", r->name, "type",
                        "consistency", "first", (json_int_t)a->from, "second", (json_int_t)a->to,
                        "first_root", hex_json(first_root, sizeof first_root), "second_root",
                        hex_json(second_root, sizeof second_root), "consistency_path",
                        path_json(&proof), "first_head",
                        a->from ? head_json(r->name, &first, res.public_key) : json_null(),
                        "second_head", head_json(r->name, &second, res.public_key));
    }
    status = print_json(out);
out:
    audit_reader_close(reader);
    return status;
}

static int run_head(const struct config *cfg, const struct region *r, const struct audit_args *a)
{
    struct audit_verify_result res;
    if (verify_region(cfg, a, r, true, &res) < 0 || !res.intact)
        return 1;
    if (res.latest.tree_size == 0) {
        fprintf(stderr, "reel audit: region %s: the audit log has no signed head yet\n", r->name);
        return 1;
    }
    return print_json(head_json(r->name, &res.latest, res.public_key));
}

int cli_audit(int argc, char **argv)
{
    static const struct option options[] = {
        {"config", required_argument, NULL, 'c'},
        {"data", required_argument, NULL, 'd'},
        {"region", required_argument, NULL, 'r'},
        {"public-key", required_argument, NULL, 'k'},
        {"trusted-head", required_argument, NULL, 't'},
        {"index", required_argument, NULL, 'i'},
        {"size", required_argument, NULL, 's'},
        {"from", required_argument, NULL, 'f'},
        {"to", required_argument, NULL, 'T'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *action = argv[1];
    if (strcmp(action, "--help") == 0 || strcmp(action, "-h") == 0) {
        usage(stdout);
        return 0;
    }
    bool verify = strcmp(action, "verify") == 0, prove = strcmp(action, "prove") == 0,
         head = strcmp(action, "head") == 0;
    if (!verify && !prove && !head) {
        fprintf(stderr, "reel audit: unknown action '%s'\n\n", action);
        usage(stderr);
        return EXIT_USAGE;
    }
    struct audit_args a = {0};
    int opt;
    optind = 1;
    opterr = 1;
    while ((opt = getopt_long(argc - 1, argv + 1, "h", options, NULL)) != -1) {
        int bad = 0;
        switch (opt) {
        case 'c': a.common.config_path = optarg; break;
        case 'd': a.common.data_dir = optarg; break;
        case 'r': a.region = optarg; break;
        case 'k': a.public_key = optarg; break;
        case 't': a.trusted_head = optarg; break;
        case 'i':
            bad = parse_u64("--index", optarg, &a.index);
            a.have_index = true;
            break;
        case 's':
            bad = parse_u64("--size", optarg, &a.size);
            a.have_size = true;
            break;
        case 'f':
            bad = parse_u64("--from", optarg, &a.from);
            a.have_from = true;
            break;
        case 'T':
            bad = parse_u64("--to", optarg, &a.to);
            a.have_to = true;
            break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return EXIT_USAGE;
        }
        if (bad < 0)
            return EXIT_USAGE;
    }
    const char *problem = NULL;
    if (optind < argc - 1)
        problem = "unexpected argument";
    else if ((a.public_key || a.trusted_head) && !a.region)
        problem = "--public-key and --trusted-head need --region";
    else if (verify && (a.have_index || a.have_size || a.have_from || a.have_to))
        problem = "verify takes no --index, --size, --from or --to";
    else if (head && (a.have_index || a.have_size || a.have_from || a.have_to))
        problem = "head takes no --index, --size, --from or --to";
    else if (prove && a.have_index == (a.have_from || a.have_to))
        problem = "prove needs either --index I [--size N] or --from M --to N";
    else if (prove && !a.have_index && (!a.have_from || !a.have_to || a.have_size))
        problem = "a consistency proof needs --from M and --to N (and no --size)";
    else if ((prove || head) && !a.region)
        problem = "--region is required";
    if (problem) {
        fprintf(stderr, "reel audit %s: %s\n\n", action, problem);
        usage(stderr);
        return EXIT_USAGE;
    }

    struct config cfg;
    if (cli_load_config(&cfg, &a.common) < 0)
        return 1;
    static struct region_map map; /* large: keep it off the stack */
    char err[CONFIG_ERR_MAX];
    if (region_map_init(&map, &cfg, err, sizeof err) < 0 ||
        region_map_apply_promotions(&map, &cfg, err, sizeof err) < 0) {
        fprintf(stderr, "reel: %s\n", err);
        return 1;
    }
    const struct region *region = NULL;
    if (a.region && !(region = region_by_name(&map, a.region))) {
        fprintf(stderr, "reel audit %s: no region '%s' in the configuration\n", action, a.region);
        return EXIT_USAGE;
    }
    if (verify)
        return run_verify(&cfg, &map, &a);
    if (prove)
        return run_prove(&cfg, region, &a);
    return run_head(&cfg, region, &a);
}
