/*
 * rec_bench.c — reel-bench-rec: the recommendation engine at platform scale
 * (bench/rec.sh runs it and the PyTorch comparison).
 *
 * A synthetic region: --users users (10 million) and --videos videos
 * (1 million) with heavy-tailed popularity — user and video ranks are drawn
 * from bounded power laws (rank = N * u^(1 / (1 - s))), so a few ids get most
 * events and most ids few, as on real platforms — scattered over the id
 * space. Users and videos have a hidden taste cluster; a view is an
 * impression followed by a watch whose length depends on the match (or a
 * skip), plus the occasional like, share, comment, follow, not-interested.
 *
 *   population   every user gets two views first (all admitted, so memory
 *                per user is measured over the whole population), timed
 *   learning     --runs rounds of --events Zipf-drawn events, one core,
 *                events/s per round -> median
 *   feeds        --feeds For You requests of 20 from Zipf-drawn users, one
 *                thread: p50 / p99 / p999 latency; then two threads
 *   memory       resident bytes (VmRSS growth) and the engine's own
 *                accounting, per user and per video
 *   index        the nearest-neighbour index against brute force over the
 *                same embeddings: query time and recall@200
 *   --dump FILE  writes the learning rounds' events for bench/rec_torch.py
 *                (16-byte records: u32 user index, u32 video index, u8 type,
 *                3 pad, f32 watch ratio)
 */
#include "core/alloc.h"
#include "core/clock.h"
#include "core/parse.h"
#include "rec/engine_int.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define T0 1767225600000LL
#define CLUSTERS 64
#define PAGE 20

static struct {
    uint64_t users, videos, events, feeds;
    unsigned runs, dim, negatives;
    const char *dump;
} opt = {10000000, 1000000, 4000000, 20000, 5, 32, 4, NULL};

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static inline uint64_t rnd(void)
{
    rng_state += 0x9e3779b97f4a7c15ULL;
    return rec_mix64(rng_state);
}

static inline double rnd01(void)
{
    return (double)(rnd() >> 11) * (1.0 / 9007199254740992.0);
}

/* Bounded power law over ranks 0..n-1: P(rank <= r) = (r / n)^(1 - s). */
static inline uint64_t power_rank(uint64_t n, double s)
{
    uint64_t r = (uint64_t)((double)n * pow(rnd01(), 1.0 / (1.0 - s)));
    return r < n ? r : n - 1;
}

/* Rank -> id: a bijection scattering popular ranks over the id space. */
static inline uint64_t user_id(uint64_t rank)
{
    return ((rank * 0x9e3779b97f4a7c15ULL) >> 8) | (1ULL << 56);
}

static inline uint64_t video_id(uint64_t rank)
{
    return ((rank * 0xc2b2ae3d27d4eb4fULL) >> 8) | (2ULL << 56);
}

static inline unsigned user_cluster(uint64_t rank)
{
    return (unsigned)(rec_mix64(rank ^ 0xc1) % CLUSTERS);
}

static inline unsigned video_cluster(uint64_t rank)
{
    return (unsigned)(rec_mix64(rank ^ 0xc2) % CLUSTERS);
}

struct sample {
    uint32_t user, video;
    uint8_t type, pad[3];
    float ratio;
};

static FILE *dump_file;

/* Appends one view (impression + watch or skip, maybe more) of video rank v
 * by user rank u to evs; returns the count. */
static size_t make_view(struct event *evs, uint64_t u, uint64_t v, int64_t at)
{
    size_t n = 0;
    struct event base;
    memset(&base, 0, sizeof base);
    base.user_id = user_id(u);
    base.video_id = video_id(v);
    base.creator_id = 0;
    base.duration_ms = 15000;
    base.at_ms = at;
    evs[n] = base;
    evs[n++].type = EVENT_IMPRESSION;
    int match = user_cluster(u) == video_cluster(v);
    double p_skip = match ? 0.1 : 0.35;
    double x = rnd01();
    if (x < p_skip) {
        evs[n] = base;
        evs[n].type = EVENT_SKIP;
        evs[n++].watched_ms = 800;
        return n;
    }
    double ratio = (match ? 1.2 : 0.5) * exp(0.6 * (rnd01() - 0.5));
    evs[n] = base;
    evs[n].type = EVENT_WATCH;
    evs[n++].watched_ms = (uint32_t)(ratio * 15000);
    double y = rnd01();
    uint8_t extra = y < 0.05 ? EVENT_LIKE : y < 0.06 ? EVENT_SHARE : y < 0.07 ? EVENT_COMMENT
                                          : y < 0.075 ? EVENT_FOLLOW : y < 0.077 ? EVENT_NOT_INTERESTED : 0;
    if (extra) {
        evs[n] = base;
        evs[n].type = extra;
        n++;
    }
    return n;
}

static void dump_events(const struct event *evs, size_t n, const uint64_t *ranks_u,
                        const uint64_t *ranks_v)
{
    if (!dump_file)
        return;
    for (size_t i = 0; i < n; i++) {
        struct sample s = {.user = (uint32_t)ranks_u[i], .video = (uint32_t)ranks_v[i],
                           .type = evs[i].type};
        s.ratio = evs[i].type == EVENT_WATCH ? (float)evs[i].watched_ms / (float)evs[i].duration_ms
                                             : 0.0f;
        fwrite(&s, sizeof s, 1, dump_file);
    }
}

/* CPU time of this thread: the machine is shared and noisy, so rates are
 * reported per CPU-second as well as per wall-second. */
static uint64_t cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static size_t rss_bytes(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    size_t kb = 0;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %zu kB", &kb) == 1)
            break;
    if (f)
        fclose(f);
    return kb * 1024;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static double percentile(double *sorted, size_t n, double p)
{
    size_t i = (size_t)(p * (double)(n - 1) + 0.5);
    return sorted[i < n ? i : n - 1];
}

struct feed_thread {
    struct rec_engine *e;
    uint64_t seed;
    uint64_t offset; /* rank offset: another set of users */
    size_t requests;
    double *lat_us;
    double *cpu_us;
    int errors;
};

static void *feed_main(void *arg)
{
    struct feed_thread *t = arg;
    struct rec_feed_item items[PAGE];
    uint64_t s = t->seed;
    for (size_t i = 0; i < t->requests; i++) {
        s += 0x9e3779b97f4a7c15ULL;
        double u01 = (double)(rec_mix64(s) >> 11) * (1.0 / 9007199254740992.0);
        uint64_t rank = (uint64_t)((double)opt.users * pow(u01, 1.0 / (1.0 - 0.6)));
        if (rank >= opt.users)
            rank = opt.users - 1;
        rank = (rank + t->offset) % opt.users;
        struct rec_feed_request r = {.user_id = user_id(rank), .now_ms = T0 + 7200000,
                                     .limit = PAGE};
        uint64_t c0 = cpu_ns();
        uint64_t t0 = clock_mono_ns();
        int n = rec_engine_feed(t->e, &r, items);
        uint64_t t1 = clock_mono_ns();
        uint64_t c1 = cpu_ns();
        if (n < PAGE)
            t->errors++;
        if (t->lat_us)
            t->lat_us[i] = (double)(t1 - t0) / 1000.0;
        if (t->cpu_us)
            t->cpu_us[i] = (double)(c1 - c0) / 1000.0;
    }
    return NULL;
}

struct snap_run {
    struct rec_engine *e;
    const char *dir;
    int rc;
    char err[256];
    atomic_int done;
};

static void *snap_main(void *arg)
{
    struct snap_run *s = arg;
    s->rc = rec_engine_snapshot(s->e, s->dir, NULL, s->err, sizeof s->err);
    atomic_store(&s->done, 1);
    return NULL;
}

static int parse_args(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        unsigned long long v;
        const char *a = argv[i];
        if (strcmp(a, "--dump") == 0 && i + 1 < argc) {
            opt.dump = argv[++i];
            continue;
        }
        if (i + 1 >= argc || parse_ull(argv[i + 1], &v) < 0 ||
            (v == 0 && strcmp(a, "--negatives") != 0)) {
            fprintf(stderr,
                    "usage: reel-bench-rec [--users N] [--videos N] [--events N] [--runs N] "
                    "[--feeds N] [--dim N] [--negatives N] [--dump FILE]\n");
            return -1;
        }
        i++;
        if (strcmp(a, "--users") == 0)
            opt.users = v;
        else if (strcmp(a, "--videos") == 0)
            opt.videos = v;
        else if (strcmp(a, "--events") == 0)
            opt.events = v;
        else if (strcmp(a, "--runs") == 0)
            opt.runs = (unsigned)v;
        else if (strcmp(a, "--feeds") == 0)
            opt.feeds = v;
        else if (strcmp(a, "--dim") == 0)
            opt.dim = (unsigned)v;
        else if (strcmp(a, "--negatives") == 0)
            opt.negatives = (unsigned)v;
        else {
            fprintf(stderr, "reel-bench-rec: unknown option %s\n", a);
            return -1;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (parse_args(argc, argv) < 0)
        return 2;
    reel_alloc_init();
    struct config_rec cfg;
    config_rec_init(&cfg);
    cfg.dim = opt.dim;
    cfg.negatives = opt.negatives;
    cfg.users_expected = (unsigned)opt.users;
    cfg.videos_expected = (unsigned)opt.videos;
    int err;
    size_t rss0 = rss_bytes();
    struct rec_engine *e = rec_engine_create(&cfg, &err);
    if (!e) {
        fprintf(stderr, "engine: %s\n", rec_strerror(err));
        return 1;
    }
    printf("reel-bench-rec: %llu users, %llu videos, dim %u, power-law ids (users s=0.6, "
           "videos s=0.9), %u clusters of taste\n\n",
           (unsigned long long)opt.users, (unsigned long long)opt.videos, opt.dim, CLUSTERS);

    /* ---- catalogue ---- */
    rec_engine_tick(e, T0);
    uint64_t t0 = clock_mono_ns();
    for (uint64_t v = 0; v < opt.videos; v++) {
        char tag1[16], tag2[16];
        snprintf(tag1, sizeof tag1, "c%u", video_cluster(v));
        snprintf(tag2, sizeof tag2, "t%llu", (unsigned long long)power_rank(50000, 0.8));
        const char *tags[] = {tag1, tag2};
        struct rec_video rv = {.id = video_id(v), .creator_id = 7000000 + power_rank(200000, 0.8),
                               .created_ms = T0 - 86400000LL * 10, .duration_ms = 15000,
                               .hashtags = tags, .hashtag_count = 2};
        if (rec_video_add(e, &rv) != 0) {
            fprintf(stderr, "video add failed\n");
            return 1;
        }
    }
    double add_s = (double)(clock_mono_ns() - t0) / 1e9;
    t0 = clock_mono_ns();
    rec_engine_tick(e, T0); /* trains the index (catalogue > ANN_TRAIN_MIN) */
    double train_s = (double)(clock_mono_ns() - t0) / 1e9;
    printf("%-44s %12.0f videos/s\n", "register videos", (double)opt.videos / add_s);
    printf("%-44s %12.2f s (%u lists)\n", "index training (k-means) at registration", train_s,
           e->ann.nlists);

    /* ---- population: two views per user ---- */
    size_t cap = 64 * 1024;
    struct event *evs = reel_malloc(cap * 4 * sizeof *evs);
    uint64_t *ru = reel_malloc(cap * 4 * sizeof *ru), *rv = reel_malloc(cap * 4 * sizeof *rv);
    if (!evs || !ru || !rv)
        return 1;
    int64_t at = T0;
    t0 = clock_mono_ns();
    uint64_t pop_events = 0;
    for (uint64_t base = 0; base < opt.users; base += cap / 2) {
        size_t n = 0;
        for (uint64_t k = 0; k < cap / 2 && base + k < opt.users; k++) {
            uint64_t u = base + k;
            for (int view = 0; view < 2; view++) {
                uint64_t v = power_rank(opt.videos, 0.9);
                n += make_view(evs + n, u, v, at);
                at += 0;
            }
        }
        at += 1000;
        pop_events += rec_engine_observe_batch(e, evs, n);
        if ((base / (cap / 2)) % 16 == 0)
            rec_engine_tick(e, at);
    }
    double pop_s = (double)(clock_mono_ns() - t0) / 1e9;
    printf("%-44s %12.0f events/s (%llu events)\n", "population: 2 views per user",
           (double)pop_events / pop_s, (unsigned long long)pop_events);

    /* ---- learning rounds ---- */
    if (opt.dump) {
        dump_file = fopen(opt.dump, "wb");
        if (!dump_file) {
            perror(opt.dump);
            return 1;
        }
    }
    struct event *stream = reel_malloc((opt.events + 8) * sizeof *stream);
    uint64_t *su = reel_malloc((opt.events + 8) * sizeof *su);
    uint64_t *sv = reel_malloc((opt.events + 8) * sizeof *sv);
    if (!stream || !su || !sv)
        return 1;
    double *rates = calloc(opt.runs, sizeof *rates);
    double *cpu_rates = calloc(opt.runs, sizeof *cpu_rates);
    for (unsigned run = 0; run < opt.runs; run++) {
        size_t n = 0;
        while (n + 4 <= opt.events) {
            uint64_t u = power_rank(opt.users, 0.6), v = power_rank(opt.videos, 0.9);
            size_t k = make_view(stream + n, u, v, at);
            for (size_t j = 0; j < k; j++) {
                su[n + j] = u;
                sv[n + j] = v;
            }
            n += k;
            if ((n & 1023) < 4)
                at += 1;
        }
        if (run == 0)
            dump_events(stream, n, su, sv);
        /* The consumer's loop: batches, and the once-a-second maintenance
         * (index refresh, expiry) timed with them. */
        uint64_t c0 = cpu_ns();
        t0 = clock_mono_ns();
        size_t applied = 0;
        const size_t per_tick = 500000;
        for (size_t off = 0; off < n; off += per_tick) {
            size_t len = n - off < per_tick ? n - off : per_tick;
            applied += rec_engine_observe_batch(e, stream + off, len);
            rec_engine_tick(e, stream[off + len - 1].at_ms);
        }
        double s = (double)(clock_mono_ns() - t0) / 1e9;
        double cs = (double)(cpu_ns() - c0) / 1e9;
        rates[run] = (double)applied / s;
        cpu_rates[run] = (double)applied / cs;
        rec_engine_tick(e, at);
        printf("%-44s %12.0f events/s (%.0f per CPU-second)\n",
               run == 0 ? "learning round 1" : "learning round", rates[run], cpu_rates[run]);
        fflush(stdout);
    }
    if (dump_file)
        fclose(dump_file);
    double learn_median = median(rates, opt.runs);
    double learn_cpu_median = median(cpu_rates, opt.runs);

    /* ---- memory ---- */
    struct rec_memory mem;
    rec_engine_memory(e, &mem);
    size_t rss = rss_bytes();

    /* ---- feeds ---- */
    double *lat = reel_malloc(opt.feeds * sizeof *lat);
    double *cpu_lat = reel_malloc(opt.feeds * sizeof *cpu_lat);
    struct feed_thread ft = {.e = e, .seed = 11, .requests = opt.feeds, .lat_us = lat,
                             .cpu_us = cpu_lat};
    feed_main(&ft);
    qsort(lat, opt.feeds, sizeof *lat, cmp_double);
    qsort(cpu_lat, opt.feeds, sizeof *cpu_lat, cmp_double);
    double p50 = percentile(lat, opt.feeds, 0.5), p99 = percentile(lat, opt.feeds, 0.99),
           p999 = percentile(lat, opt.feeds, 0.999);
    double c50 = percentile(cpu_lat, opt.feeds, 0.5), c99 = percentile(cpu_lat, opt.feeds, 0.99);
    struct feed_thread t2[2] = {
        {.e = e, .seed = 21, .offset = opt.users / 3, .requests = opt.feeds},
        {.e = e, .seed = 31, .offset = 2 * (opt.users / 3), .requests = opt.feeds}};
    pthread_t th[2];
    t0 = clock_mono_ns();
    for (int i = 0; i < 2; i++)
        pthread_create(&th[i], NULL, feed_main, &t2[i]);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    double two_s = (double)(clock_mono_ns() - t0) / 1e9;

    /* ---- a snapshot while feeds are served ---- */
    /* The snapshot (rec_engine_snapshot: the engine locked for a fork, a
     * child writing) runs in a thread; this one serves feeds until it is
     * done and keeps the slowest: how long feeds pause for a snapshot. */
    char snap_dir[] = "/tmp/reel-bench-rec-XXXXXX";
    double snap_s = 0, snap_max_ms = 0;
    size_t snap_feeds = 0;
    if (mkdtemp(snap_dir)) {
        struct snap_run sr = {.e = e, .dir = snap_dir};
        struct rec_feed_item items[PAGE];
        pthread_t st;
        t0 = clock_mono_ns();
        pthread_create(&st, NULL, snap_main, &sr);
        for (uint64_t k = 0; !atomic_load(&sr.done); k++) {
            struct rec_feed_request r = {.user_id = user_id(power_rank(opt.users, 0.6)),
                                         .now_ms = T0 + 7200000,
                                         .limit = PAGE};
            uint64_t a = clock_mono_ns();
            rec_engine_feed(e, &r, items);
            double ms = (double)(clock_mono_ns() - a) / 1e6;
            if (ms > snap_max_ms)
                snap_max_ms = ms;
            snap_feeds++;
        }
        pthread_join(st, NULL);
        snap_s = (double)(clock_mono_ns() - t0) / 1e9;
        if (sr.rc != 0)
            fprintf(stderr, "snapshot failed: %s\n", sr.err);
        char path[128];
        snprintf(path, sizeof path, "%s/rec.snapshot", snap_dir);
        unlink(path);
        rmdir(snap_dir);
    }

    /* ---- index vs brute force ---- */
    pthread_rwlock_wrlock(&e->lock);
    float *biases = reel_malloc((size_t)e->videos.used * sizeof *biases);
    for (uint32_t r = 0; r < e->videos.used; r++)
        biases[r] = engine_video_bias(e, r);
    t0 = clock_mono_ns();
    ann_train(&e->ann, &e->videos, biases, 7); /* re-cluster on learnt embeddings */
    double retrain_s = (double)(clock_mono_ns() - t0) / 1e9;
    enum { QUERIES = 200, K = 200 };
    double ann_us[QUERIES], exact_us[QUERIES], recall = 0;
    static uint32_t rows[K], exact[K];
    static float sc[K], esc[K];
    for (int q = 0; q < QUERIES; q++) {
        uint32_t urow = users_find(&e->users, user_id(power_rank(opt.users, 0.6)));
        float query[MODEL_DIM_MAX];
        if (urow == IDMAP_NONE)
            urow = 0;
        model_user_vector(&e->users, urow, query);
        uint64_t a = clock_mono_ns();
        size_t n1 = ann_search(&e->ann, query, K, cfg.ann_probe, NULL, NULL, rows, sc);
        uint64_t b = clock_mono_ns();
        size_t n2 = ann_search_exact(&e->videos, biases, query, K, NULL, NULL, exact, esc);
        uint64_t c = clock_mono_ns();
        ann_us[q] = (double)(b - a) / 1000.0;
        exact_us[q] = (double)(c - b) / 1000.0;
        int hit = 0;
        for (size_t i = 0; i < n1; i++)
            for (size_t j = 0; j < n2; j++)
                hit += rows[i] == exact[j];
        recall += n2 ? (double)hit / (double)n2 : 0;
    }
    recall /= QUERIES;
    reel_free(biases);
    pthread_rwlock_unlock(&e->lock);
    double ann_med = median(ann_us, QUERIES), exact_med = median(exact_us, QUERIES);

    printf("\n%-44s %12s %12s\n", "result", "measured", "target");
    printf("%-44s %12.0f %12s\n", "learning events/s, one core (median)", learn_median,
           ">= 1000000");
    printf("%-44s %12.0f %12s\n", "learning events per CPU-second (median)", learn_cpu_median,
           ">= 1000000");
    printf("%-44s %12.3f %12s\n", "For You latency p50 (ms), in-process", p50 / 1000, "");
    printf("%-44s %12.3f %12s\n", "For You latency p99 (ms), in-process", p99 / 1000, "< 2");
    printf("%-44s %12.3f %12s\n", "For You CPU time p50 (ms) per request", c50 / 1000, "");
    printf("%-44s %12.3f %12s\n", "For You CPU time p99 (ms) per request", c99 / 1000, "");
    printf("%-44s %12.3f %12s\n", "For You latency p99.9 (ms), in-process", p999 / 1000, "");
    printf("%-44s %12.0f %12s\n", "For You requests/s, 2 threads in-process",
           (double)(2 * opt.feeds) / two_s, "");
    printf("%-44s %12.2f %12s\n", "snapshot to disk (s)", snap_s, "");
    printf("%-44s %12.1f %12s\n", "For You slowest during it (ms)", snap_max_ms, "");
    printf("%-44s %12zu %12s\n", "For You served during it", snap_feeds, "");
    printf("%-44s %12.1f %12s\n", "model state per user (bytes)",
           (double)mem.user_bytes / (double)(mem.users ? mem.users : 1), "< 128");
    printf("%-44s %12.1f %12s\n", "state per video (bytes, with index, co-eng.)",
           (double)mem.video_bytes / (double)(mem.videos ? mem.videos : 1), "");
    printf("%-44s %12.1f %12s\n", "sessions: bytes per active session",
           (double)mem.session_bytes / (double)(mem.sessions ? mem.sessions : 1), "");
    printf("%-44s %12zu %12s\n", "users with model state", mem.users, "");
    printf("%-44s %12zu %12s\n", "sessions in memory (sessions_max)", mem.sessions, "");
    printf("%-44s %12.2f %12s\n", "resident memory growth (GiB)",
           (double)(rss - rss0) / (1024.0 * 1024 * 1024), "");
    printf("%-44s %12.2f %12s\n", "engine accounting, total (GiB)",
           (double)(mem.user_bytes + mem.video_bytes + mem.session_bytes + mem.other_bytes) /
               (1024.0 * 1024 * 1024),
           "");
    printf("%-44s %12.1f %12s\n", "index query k=200 (us, median)", ann_med, "");
    printf("%-44s %12.1f %12s\n", "brute force k=200 (us, median)", exact_med, "");
    printf("%-44s %12.1f %12s\n", "index speed-up over brute force (x)", exact_med / ann_med, "> 1");
    printf("%-44s %12.3f %12s\n", "index recall@200 vs brute force", recall, "");
    printf("%-44s %12.2f %12s\n", "index re-training on learnt embeddings (s)", retrain_s, "");
    if (ft.errors + t2[0].errors + t2[1].errors)
        printf("(%d feed requests returned fewer than %d items)\n",
               ft.errors + t2[0].errors + t2[1].errors, PAGE);
    printf("LEARN_EVENTS_PER_S %.0f\nLEARN_EVENTS_PER_CPU_S %.0f\n", learn_median,
           learn_cpu_median);
    rec_engine_destroy(e);
    reel_free(evs);
    reel_free(ru);
    reel_free(rv);
    reel_free(stream);
    reel_free(su);
    reel_free(sv);
    reel_free(lat);
    reel_free(cpu_lat);
    free(rates);
    free(cpu_rates);
    return 0;
}
