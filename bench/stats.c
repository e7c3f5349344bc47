/*
 * stats.c — benchmark of the HyperLogLog sketches (src/stats/hll.h) against
 * Redis's PFADD/PFCOUNT on the same ids, and of a 100-million-user MAU.
 *
 *   reel-bench-stats [--redis-port PORT] [--runs N] [--ids N] [--mau-users N]
 *
 * 1. Update rate: N synthetic user ids (id.h layout: region 1, consecutive
 *    sequence numbers) added one call at a time (hll_add, what the event
 *    consumer does) and in batches (hll_add_many), at precision 15 (the
 *    default) and 14 (Redis's). Redis gets the same ids as decimal strings in
 *    PFADD commands of 1,000 ids, 16 commands pipelined per round trip, over
 *    loopback; its rate counts from the first byte sent to the last reply.
 *    Each figure is the median of --runs runs.
 * 2. Bytes per sketch: Reel's encoded size and in-memory size; Redis's STRLEN
 *    (its dense HLL string).
 * 3. Error: relative error of both at 10^3 .. 10^7 distinct ids, and the RMS
 *    error over 8 disjoint id sets per size (single points are luck).
 * 4. MAU: --mau-users distinct users, each active on its own day of a 30-day
 *    month and on 0..4 more, fed through the day-indexed collection
 *    (stats_active_add: 3 events per user on average), then the sliding
 *    30-day count; time, memory of the sketches, error. Median of 3 runs.
 *
 * Without --redis-port the Redis columns are skipped.
 */
#include "core/alloc.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/id.h"
#include "core/parse.h"
#include "stats/active.h"
#include "stats/hll.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_RUNS 15
#define REDIS_BATCH 1000
#define REDIS_PIPELINE 16
#define ERROR_TRIALS 8

static uint64_t synthetic_id(uint64_t i)
{
    return id_make(1, 1767225600000ULL, 0, 0) + i;
}

static double seconds_since(uint64_t start_ns)
{
    return (double)(clock_mono_ns() - start_ns) / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* ---- a minimal RESP client ----------------------------------------------- */

struct redis {
    int fd;
    char *in;
    size_t in_len, in_cap;
};

static int redis_connect(struct redis *r, int port)
{
    memset(r, 0, sizeof *r);
    r->fd = socket(AF_INET, SOCK_STREAM, 0);
    if (r->fd < 0)
        return -1;
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    setsockopt(r->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(r->fd, (struct sockaddr *)&addr, sizeof addr) < 0)
        return -1;
    r->in_cap = 1 << 16;
    r->in = malloc(r->in_cap);
    return r->in ? 0 : -1;
}

static void redis_close(struct redis *r)
{
    close(r->fd);
    free(r->in);
}

static int send_all(int fd, const char *p, size_t len)
{
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Reads `count` integer replies; stores the last one in *value. */
static int redis_read_integers(struct redis *r, int count, long long *value)
{
    size_t pos = 0;
    r->in_len = 0;
    while (count > 0) {
        char *nl = memchr(r->in + pos, '\n', r->in_len - pos);
        if (!nl) {
            if (pos > 0) {
                memmove(r->in, r->in + pos, r->in_len - pos);
                r->in_len -= pos;
                pos = 0;
            }
            ssize_t n = read(r->fd, r->in + r->in_len, r->in_cap - r->in_len);
            if (n <= 0)
                return -1;
            r->in_len += (size_t)n;
            continue;
        }
        if (r->in[pos] != ':') {
            fprintf(stderr, "redis: unexpected reply %.*s\n", (int)(nl - r->in - (long)pos),
                    r->in + pos);
            return -1;
        }
        if (value)
            *value = strtoll(r->in + pos + 1, NULL, 10);
        pos = (size_t)(nl - r->in) + 1;
        count--;
    }
    return 0;
}

static void resp_arg(struct buf *b, const char *s, size_t len)
{
    buf_printf(b, "$%zu\r\n", len);
    buf_append(b, s, len);
    buf_append(b, "\r\n", 2);
}

static int redis_simple(struct redis *r, const char *cmd, const char *key, long long *value)
{
    struct buf b;
    buf_init(&b, 1 << 20);
    buf_printf(&b, "*2\r\n");
    resp_arg(&b, cmd, strlen(cmd));
    resp_arg(&b, key, strlen(key));
    int rc = send_all(r->fd, b.data, b.len) < 0 ? -1 : redis_read_integers(r, 1, value);
    buf_clear(&b);
    return rc;
}

/* PFADDs ids first..first+n-1 to key; returns seconds, or -1. */
static double redis_pfadd_range(struct redis *r, const char *key, uint64_t first, uint64_t n)
{
    struct buf b;
    buf_init(&b, (size_t)1 << 30);
    uint64_t start = clock_mono_ns();
    uint64_t done = 0;
    while (done < n) {
        b.len = 0;
        int commands = 0;
        while (commands < REDIS_PIPELINE && done < n) {
            uint64_t k = n - done < REDIS_BATCH ? n - done : REDIS_BATCH;
            buf_printf(&b, "*%llu\r\n", (unsigned long long)k + 2);
            resp_arg(&b, "PFADD", 5);
            resp_arg(&b, key, strlen(key));
            for (uint64_t j = 0; j < k; j++) {
                char digits[ID_STR_MAX];
                id_format(synthetic_id(first + done + j), digits);
                resp_arg(&b, digits, strlen(digits));
            }
            done += k;
            commands++;
        }
        if (send_all(r->fd, b.data, b.len) < 0 || redis_read_integers(r, commands, NULL) < 0) {
            buf_clear(&b);
            return -1;
        }
    }
    double s = seconds_since(start);
    buf_clear(&b);
    return s;
}

/* ---- Reel ---------------------------------------------------------------- */

static double reel_add_range(struct hll *h, uint64_t first, uint64_t n, int batched)
{
    enum { CHUNK = 4096 };
    static uint64_t ids[CHUNK];
    uint64_t start = clock_mono_ns();
    if (!batched) {
        for (uint64_t i = 0; i < n; i++)
            hll_add(h, synthetic_id(first + i));
        return seconds_since(start);
    }
    for (uint64_t done = 0; done < n;) {
        size_t k = n - done < CHUNK ? (size_t)(n - done) : CHUNK;
        for (size_t j = 0; j < k; j++)
            ids[j] = synthetic_id(first + done + j);
        hll_add_many(h, ids, k);
        done += k;
    }
    return seconds_since(start);
}

static double rel_error(double estimate, uint64_t n)
{
    return (estimate - (double)n) / (double)n;
}

struct options {
    int redis_port;
    int runs;
    uint64_t ids;
    uint64_t mau_users;
};

static int parse_args(int argc, char **argv, struct options *o)
{
    for (int i = 1; i < argc; i++) {
        unsigned long long v;
        if (i + 1 >= argc || parse_ull(argv[i + 1], &v) < 0) {
            fprintf(stderr, "usage: %s [--redis-port P] [--runs N] [--ids N] [--mau-users N]\n",
                    argv[0]);
            return -1;
        }
        if (strcmp(argv[i], "--redis-port") == 0 && v < 65536)
            o->redis_port = (int)v;
        else if (strcmp(argv[i], "--runs") == 0 && v >= 1 && v <= MAX_RUNS)
            o->runs = (int)v;
        else if (strcmp(argv[i], "--ids") == 0 && v >= 1000)
            o->ids = v;
        else if (strcmp(argv[i], "--mau-users") == 0 && v >= 1000)
            o->mau_users = v;
        else {
            fprintf(stderr, "%s: bad option %s %s\n", argv[0], argv[i], argv[i + 1]);
            return -1;
        }
        i++;
    }
    return 0;
}

/* ---- 1 and 2: update rate and size --------------------------------------- */

static void bench_rates(const struct options *o, struct redis *redis)
{
    double one[2][MAX_RUNS], many[2][MAX_RUNS], rd[MAX_RUNS];
    const unsigned precisions[2] = {15, 14};
    size_t encoded[2] = {0}, memory[2] = {0};
    for (int run = 0; run < o->runs; run++) {
        for (int p = 0; p < 2; p++) {
            struct hll *h = hll_create(precisions[p]);
            one[p][run] = (double)o->ids / reel_add_range(h, (uint64_t)run << 40, o->ids, 0);
            hll_reset(h);
            many[p][run] = (double)o->ids / reel_add_range(h, (uint64_t)run << 40, o->ids, 1);
            struct buf b;
            buf_init(&b, 1 << 20);
            hll_encode(h, &b);
            encoded[p] = b.len;
            memory[p] = hll_memory_bytes(h);
            buf_clear(&b);
            hll_destroy(h);
        }
        if (redis) {
            redis_simple(redis, "DEL", "reel:bench:rate", NULL);
            double s = redis_pfadd_range(redis, "reel:bench:rate", (uint64_t)run << 40, o->ids);
            rd[run] = s > 0 ? (double)o->ids / s : 0;
        }
    }
    double m15 = median(one[0], o->runs), m14 = median(one[1], o->runs);
    double b15 = median(many[0], o->runs), b14 = median(many[1], o->runs);
    printf("\n1. Sketch updates per second (%llu distinct ids, median of %d runs)\n",
           (unsigned long long)o->ids, o->runs);
    printf("   %-44s %14s %10s\n", "", "updates/s", "vs Redis");
    double r = redis ? median(rd, o->runs) : 0;
    printf("   %-44s %14.0f %9.1fx\n", "Reel p=15, hll_add (one call per id)", m15,
           r ? m15 / r : 0);
    printf("   %-44s %14.0f %9.1fx\n", "Reel p=15, hll_add_many (batches of 4096)", b15,
           r ? b15 / r : 0);
    printf("   %-44s %14.0f %9.1fx\n", "Reel p=14, hll_add", m14, r ? m14 / r : 0);
    printf("   %-44s %14.0f %9.1fx\n", "Reel p=14, hll_add_many", b14, r ? b14 / r : 0);
    if (redis)
        printf("   %-44s %14.0f %9.1fx\n", "Redis PFADD (1000 ids/cmd, 16 pipelined)", r, 1.0);

    printf("\n2. Bytes per sketch (dense, after %llu ids)\n", (unsigned long long)o->ids);
    printf("   Reel p=15: %zu bytes encoded, %zu in memory\n", encoded[0], memory[0]);
    printf("   Reel p=14: %zu bytes encoded, %zu in memory\n", encoded[1], memory[1]);
    if (redis) {
        long long len = 0;
        redis_simple(redis, "STRLEN", "reel:bench:rate", &len);
        printf("   Redis:     %lld bytes (STRLEN of the HLL string)\n", len);
        redis_simple(redis, "DEL", "reel:bench:rate", NULL);
    }
    struct hll *small = hll_create(15);
    reel_add_range(small, 1ULL << 50, 1000, 0);
    struct buf b;
    buf_init(&b, 1 << 20);
    hll_encode(small, &b);
    printf("   sparse, 1000 ids: Reel p=15 %zu bytes encoded, %zu in memory", b.len,
           hll_memory_bytes(small));
    buf_clear(&b);
    hll_destroy(small);
    if (redis) {
        long long len = 0;
        redis_simple(redis, "DEL", "reel:bench:small", NULL);
        redis_pfadd_range(redis, "reel:bench:small", 1ULL << 50, 1000);
        redis_simple(redis, "STRLEN", "reel:bench:small", &len);
        printf("; Redis %lld bytes", len);
        redis_simple(redis, "DEL", "reel:bench:small", NULL);
    }
    printf("\n");
}

/* ---- 3: error ------------------------------------------------------------ */

static void bench_errors(struct redis *redis)
{
    const uint64_t sizes[] = {1000, 10000, 100000, 1000000, 10000000};
    printf("\n3. Relative error (same ids; first set, and RMS over %d disjoint sets)\n",
           ERROR_TRIALS);
    printf("   %10s %12s %12s %12s %12s %12s %12s\n", "distinct", "Reel p=15", "Reel p=14", "Redis",
           "RMS p=15", "RMS p=14", "RMS Redis");
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        uint64_t n = sizes[s];
        int trials = n >= 10000000 ? 1 : ERROR_TRIALS;
        double first[3] = {0}, sq[3] = {0};
        for (int t = 0; t < trials; t++) {
            uint64_t base = ((uint64_t)t + 1) << 36;
            double e[3];
            for (int p = 0; p < 2; p++) {
                struct hll *h = hll_create(p == 0 ? 15 : 14);
                reel_add_range(h, base, n, 1);
                e[p] = rel_error(hll_estimate(h), n);
                hll_destroy(h);
            }
            e[2] = 0;
            if (redis) {
                long long count = 0;
                redis_simple(redis, "DEL", "reel:bench:err", NULL);
                redis_pfadd_range(redis, "reel:bench:err", base, n);
                redis_simple(redis, "PFCOUNT", "reel:bench:err", &count);
                e[2] = rel_error((double)count, n);
            }
            for (int k = 0; k < 3; k++) {
                if (t == 0)
                    first[k] = e[k];
                sq[k] += e[k] * e[k];
            }
        }
        printf("   %10llu %+11.3f%% %+11.3f%% ", (unsigned long long)n, 100 * first[0],
               100 * first[1]);
        if (redis)
            printf("%+11.3f%% ", 100 * first[2]);
        else
            printf("%12s ", "-");
        printf("%11.3f%% %11.3f%% ", 100 * sqrt(sq[0] / trials), 100 * sqrt(sq[1] / trials));
        if (redis)
            printf("%11.3f%%", 100 * sqrt(sq[2] / trials));
        printf("%s\n", trials == 1 ? "  (one set)" : "");
    }
    if (redis)
        redis_simple(redis, "DEL", "reel:bench:err", NULL);
}

/* ---- 4: MAU of a region -------------------------------------------------- */

static uint64_t mix(uint64_t x)
{
    return hll_hash(x ^ 0x5bd1e9955bd1e995ULL);
}

static void bench_mau(const struct options *o)
{
    const int32_t first_day = 20419;
    const unsigned precision = 15;
    double times[3], query_ms[3], abs_errors[3], run_errors[3], last_error = 0;
    size_t memory = 0;
    uint64_t events = 0, count = 0;
    for (int run = 0; run < 3; run++) {
        char err[256];
        struct stats_active *a = stats_active_create(precision, NULL, err, sizeof err);
        if (!a) {
            fprintf(stderr, "%s\n", err);
            return;
        }
        events = 0;
        uint64_t start = clock_mono_ns();
        for (uint64_t u = 0; u < o->mau_users; u++) {
            uint64_t user = synthetic_id(((uint64_t)run << 40) + u);
            uint64_t h = mix(user);
            /* Its own day, then 0..4 more (2 on average; a repeat is harmless). */
            int32_t day = (int32_t)(h % 30);
            int64_t time_of_day = (int64_t)((h >> 8) % (uint64_t)STATS_DAY_MS);
            unsigned extra = (unsigned)((h >> 40) % 5);
            for (unsigned k = 0; k <= extra; k++) {
                if (k > 0)
                    day = (day + 1 + (int32_t)((h >> (5 * k)) % 29)) % 30;
                stats_active_add(a, user, (int64_t)(first_day + day) * STATS_DAY_MS + time_of_day,
                                 -1);
                events++;
            }
        }
        uint64_t query_start = clock_mono_ns();
        stats_active_count(a, STATS_PERIOD_MONTH, first_day + 29, -1, &count, err, sizeof err);
        query_ms[run] = seconds_since(query_start) * 1000;
        times[run] = seconds_since(start);
        last_error = rel_error((double)count, o->mau_users);
        run_errors[run] = last_error;
        abs_errors[run] = fabs(last_error);
        memory = stats_active_memory_bytes(a);
        stats_active_destroy(a);
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("\n4. MAU of %llu distinct users in one region (30 daily sketches, p=%u, median of 3)\n",
           (unsigned long long)o->mau_users, precision);
    printf("   events fed (user-days): %llu\n", (unsigned long long)events);
    printf("   total time (feed + 30-day count): %.2f s   count query alone: %.2f ms\n",
           median(times, 3), median(query_ms, 3));
    printf("   MAU estimate (last run): %llu; errors of the 3 runs (different users) "
           "%+.3f%% %+.3f%% %+.3f%%, median |error| %.3f%%\n",
           (unsigned long long)count, 100 * run_errors[0], 100 * run_errors[1], 100 * run_errors[2],
           100 * median(abs_errors, 3));
    printf("   memory of the day sketches: %zu bytes (%.1f KiB); process max RSS %ld KiB\n", memory,
           (double)memory / 1024, ru.ru_maxrss);
}

int main(int argc, char **argv)
{
    struct options o = {.redis_port = 0, .runs = 5, .ids = 10000000, .mau_users = 100000000};
    reel_alloc_init();
    if (parse_args(argc, argv, &o) < 0)
        return 2;
    struct redis redis, *r = NULL;
    if (o.redis_port) {
        if (redis_connect(&redis, o.redis_port) < 0) {
            fprintf(stderr, "cannot connect to redis on 127.0.0.1:%d\n", o.redis_port);
            return 1;
        }
        r = &redis;
    }
    printf("Reel stats benchmark: HyperLogLog vs Redis %s\n",
           r ? "(redis-server on loopback)" : "(Redis skipped: no --redis-port)");
    bench_rates(&o, r);
    bench_errors(r);
    bench_mau(&o);
    if (r)
        redis_close(r);
    return 0;
}
