/*
 * snapshot.c — the engine's whole state to one file, and back.
 *
 * Restart = load the latest snapshot + replay the region's log after the
 * offset it records. For the restarted engine to rank exactly as the old one
 * would have, the snapshot holds everything that influences a ranking: the
 * model and its random stream, every table in its row order (video rows are
 * referenced by number everywhere, so they are written and read back at the
 * same numbers), the index lists in their order, top lists, co-engagement
 * lists, the fresh pool, follows, and the sessions with their seen filters
 * (oldest first, so the LRU order comes back too). Only derived lookup
 * structures (id maps) are rebuilt.
 *
 * File dir/rec.snapshot, little-endian, written to dir/rec.snapshot.tmp,
 * fsync'ed, renamed over the old one and the directory fsync'ed, so a crash
 * leaves the old snapshot or the new one, never a mix.
 *
 *   header (48 bytes)
 *     offset  size  field
 *     0       8     magic "REELREC1"
 *     8       4     u32 format version (2)
 *     12      4     u32 dim
 *     16      8     u64 seed
 *     24      8     u64 log_offset   (struct rec_mark)
 *     32      8     i64 event_ms
 *     40      4     u32 section count
 *     44      4     u32 CRC-32C of bytes 0..43
 *   then each section:
 *     0       4     u32 tag (SEC_*)
 *     4       4     u32 zero
 *     8       8     u64 payload length n
 *     16      n     payload (layout per section below)
 *     16+n    4     u32 CRC-32C of the payload
 *
 * Loading checks every length against the section and every row number
 * against the tables, so a damaged or foreign file fails with REC_EFORMAT
 * instead of building a broken engine.
 */
#include "rec/engine_int.h"

#include "core/alloc.h"
#include "core/crc32c.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAGIC "REELREC1"
#define VERSION 2
#define HEADER_SIZE 48
#define SECTION_MAX ((uint64_t)1 << 40)

enum section_tag {
    SEC_ENGINE = 1,   /* clock, counters, the model's globals and random state */
    SEC_TAGS,         /* u32 count, then per tag: u16 len, name, f32 bias, u32 videos */
    SEC_VIDEOS,       /* u32 used, then per row: fields (write_video) + dim x f32 */
    SEC_USERS,        /* sightings sketch, u64 count, per user: u64 id + row bytes */
    SEC_INDEX,        /* ann: nlists, trained_at, centroids, lists */
    SEC_COENG,        /* u32 lists, per list: u32 row, u16 count, u16 cap, entries */
    SEC_TRENDING,     /* half-life, epoch, global, popular, tag lists */
    SEC_FRESH,        /* u32 count, u32 sweep, rows */
    SEC_PREFS,        /* u32 count, per user: id, follows, blocked, interests */
    SEC_CREATORS,     /* u32 count, per creator: u64 id, u8 count, u8 head, rows */
    SEC_SESSIONS,     /* per shard: u32 count, sessions oldest first (session.h) */
    SEC_COUNT = SEC_SESSIONS,
};

/* ---- writing ------------------------------------------------------------ */

struct writer {
    FILE *f;
    uint32_t crc;
    uint64_t len;
    long len_pos;
    int failed;
};

static void w_bytes(struct writer *w, const void *p, size_t n)
{
    if (w->failed || n == 0)
        return;
    if (fwrite(p, 1, n, w->f) != n) {
        w->failed = 1;
        return;
    }
    w->crc = crc32c(w->crc, p, n);
    w->len += n;
}

#define W(w, v) w_bytes(w, &(v), sizeof(v))

static void section_begin(struct writer *w, uint32_t tag)
{
    uint32_t zero = 0;
    uint64_t len = 0;
    if (w->failed)
        return;
    w->len_pos = ftell(w->f);
    if (fwrite(&tag, 4, 1, w->f) != 1 || fwrite(&zero, 4, 1, w->f) != 1 ||
        fwrite(&len, 8, 1, w->f) != 1)
        w->failed = 1;
    w->crc = 0;
    w->len = 0;
}

static void section_end(struct writer *w)
{
    if (w->failed)
        return;
    uint32_t crc = w->crc;
    if (fwrite(&crc, 4, 1, w->f) != 1) {
        w->failed = 1;
        return;
    }
    long end = ftell(w->f);
    if (end < 0 || fseek(w->f, w->len_pos + 8, SEEK_SET) != 0 ||
        fwrite(&w->len, 8, 1, w->f) != 1 || fseek(w->f, end, SEEK_SET) != 0)
        w->failed = 1;
}

static void write_toplist(struct writer *w, const struct toplist *l)
{
    W(w, l->cap);
    W(w, l->count);
    W(w, l->min_pos);
    w_bytes(w, l->rows, (size_t)l->count * sizeof *l->rows);
    w_bytes(w, l->scores, (size_t)l->count * sizeof *l->scores);
}

static void write_video(struct writer *w, const struct video_table *videos, uint32_t row)
{
    const struct video_row *v = &videos->rows[row];
    W(w, v->id);
    W(w, v->creator_id);
    W(w, v->created_ms);
    W(w, v->trend);
    W(w, v->duration_ms);
    w_bytes(w, v->tags, sizeof v->tags);
    W(w, v->bias);
    W(w, v->engage_bias);
    W(w, v->engage_n);
    W(w, v->value_sum);
    W(w, v->value_n);
    W(w, v->feedback);
    W(w, v->impressions);
    W(w, v->likes);
    W(w, v->shares);
    W(w, v->comments);
    W(w, v->follows);
    W(w, videos->engaged[row].users);
    uint32_t served = __atomic_load_n(&v->fresh_served, __ATOMIC_RELAXED);
    W(w, served);
    W(w, v->state);
    W(w, v->fresh);
    W(w, v->tag_count);
}

/* Sessions are written with video rows in place of ids (rows are stable in
 * a snapshot); spilled sessions use ids. */
static uint64_t row_as_id(void *ctx, uint32_t row)
{
    (void)ctx;
    return row;
}

static int write_all(struct rec_engine *e, struct writer *w)
{
    const struct config_rec *cfg = &e->cfg;
    unsigned dim = cfg->dim;

    section_begin(w, SEC_ENGINE);
    W(w, e->clock_ms);
    W(w, e->last_age_ms);
    W(w, e->events);
    W(w, e->unknown_video_events);
    W(w, e->model.mu);
    W(w, e->model.mu_weight);
    W(w, e->model.engage_offset);
    W(w, e->model.impressions);
    W(w, e->model.likes);
    W(w, e->model.shares);
    W(w, e->model.comments);
    W(w, e->model.rng);
    W(w, e->model.coeng_n);
    W(w, e->model.coeng_sx);
    W(w, e->model.coeng_sr);
    W(w, e->model.coeng_sxx);
    W(w, e->model.coeng_sxr);
    W(w, e->model.coeng_gain);
    section_end(w);

    section_begin(w, SEC_TAGS);
    W(w, e->tags.count);
    for (uint32_t t = 1; t <= e->tags.count; t++) {
        const struct tag_row *tr = &e->tags.rows[t];
        uint16_t len = (uint16_t)strlen(tr->name);
        W(w, len);
        w_bytes(w, tr->name, len);
        W(w, tr->bias);
        W(w, tr->videos);
    }
    section_end(w);

    section_begin(w, SEC_VIDEOS);
    W(w, e->videos.used);
    for (uint32_t r = 0; r < e->videos.used; r++) {
        write_video(w, &e->videos, r);
        w_bytes(w, videos_emb(&e->videos, r), dim * sizeof(float));
    }
    section_end(w);

    section_begin(w, SEC_USERS);
    uint64_t sketch = e->users.sightings_mask + 1;
    W(w, sketch);
    w_bytes(w, e->users.sightings, sketch);
    uint64_t nusers = e->users.map.count;
    W(w, nusers);
    for (size_t i = 0; i <= e->users.map.mask; i++) {
        const struct idmap_slot *s = &e->users.map.slots[i];
        if (!s->key)
            continue;
        W(w, s->key);
        w_bytes(w, users_head(&e->users, s->row), e->users.stride);
    }
    section_end(w);

    section_begin(w, SEC_INDEX);
    W(w, e->ann.nlists);
    W(w, e->ann.trained_at);
    if (e->ann.nlists > 1) {
        w_bytes(w, e->ann.centroids, (size_t)e->ann.nlists * (dim + 1) * sizeof(float));
        w_bytes(w, e->ann.half_norms, (size_t)e->ann.nlists * sizeof(float));
    }
    for (uint32_t l = 0; l < e->ann.nlists; l++) {
        const struct ann_list *al = &e->ann.lists[l];
        W(w, al->count);
        w_bytes(w, al->rows, (size_t)al->count * sizeof *al->rows);
        /* Entry by entry (the lists interleave them in blocks). */
        int8_t code[MODEL_DIM_MAX];
        for (uint32_t i = 0; i < al->count; i++) {
            ann_code_get(al, dim, i, code);
            w_bytes(w, code, dim);
        }
        w_bytes(w, al->scales, (size_t)al->count * sizeof *al->scales);
        w_bytes(w, al->biases, (size_t)al->count * sizeof *al->biases);
    }
    section_end(w);

    section_begin(w, SEC_COENG);
    uint32_t nlists = 0;
    for (uint32_t r = 0; r < e->coeng.cap; r++)
        nlists += e->coeng.lists[r] != NULL;
    W(w, nlists);
    for (uint32_t r = 0; r < e->coeng.cap; r++) {
        const struct coeng_list *l = e->coeng.lists[r];
        if (!l)
            continue;
        W(w, r);
        W(w, l->count);
        W(w, l->cap);
        w_bytes(w, l->e, (size_t)l->count * sizeof l->e[0]);
    }
    section_end(w);

    section_begin(w, SEC_TRENDING);
    W(w, e->trending.half_life_ms);
    W(w, e->trending.epoch_ms);
    write_toplist(w, &e->trending.global);
    write_toplist(w, &e->trending.popular);
    uint32_t ntag_lists = 0;
    for (uint32_t t = 0; t < e->trending.tag_cap; t++)
        ntag_lists += e->trending.per_tag[t].cap != 0;
    W(w, ntag_lists);
    for (uint32_t t = 0; t < e->trending.tag_cap; t++) {
        if (!e->trending.per_tag[t].cap)
            continue;
        W(w, t);
        write_toplist(w, &e->trending.per_tag[t]);
    }
    section_end(w);

    section_begin(w, SEC_FRESH);
    W(w, e->fresh.count);
    W(w, e->fresh.sweep);
    w_bytes(w, e->fresh.rows, (size_t)e->fresh.count * sizeof *e->fresh.rows);
    section_end(w);

    section_begin(w, SEC_PREFS);
    uint32_t nprefs = (uint32_t)e->prefs.map.count;
    W(w, nprefs);
    for (uint32_t i = 0; i < e->prefs.used; i++) {
        const struct prefs_entry *p = &e->prefs.entries[i];
        if (idmap_get(&e->prefs.map, p->user_id) != i)
            continue; /* a free entry */
        W(w, p->user_id);
        W(w, p->follow_count);
        w_bytes(w, p->follows, (size_t)p->follow_count * 8);
        W(w, p->blocked_count);
        w_bytes(w, p->blocked, (size_t)p->blocked_count * 8);
        W(w, p->interest_count);
        w_bytes(w, p->interests, (size_t)p->interest_count * 4);
    }
    section_end(w);

    section_begin(w, SEC_CREATORS);
    uint32_t ncreators = (uint32_t)e->creators.map.count; /* not the lists of erased ones */
    W(w, ncreators);
    for (size_t i = 0; i <= e->creators.map.mask; i++) {
        const struct idmap_slot *s = &e->creators.map.slots[i];
        if (!s->key)
            continue;
        const struct creator_videos *cv = &e->creators.lists[s->row];
        W(w, s->key);
        W(w, cv->count);
        W(w, cv->head);
        w_bytes(w, cv->rows, sizeof cv->rows);
    }
    section_end(w);

    section_begin(w, SEC_SESSIONS);
    unsigned char *buf = NULL;
    size_t bufcap = 0;
    for (int i = 0; i < SESSION_SHARDS; i++) {
        struct session_shard *sh = &e->sessions.shards[i];
        W(w, sh->used);
        W(w, sh->live);
        W(w, sh->sweep);
        W(w, sh->hand);
        for (uint32_t k = 0; k < sh->used; k++) {
            const struct session *s = sh->slots[k];
            if (!s)
                continue;
            size_t n = session_serialised_size(s);
            if (n > bufcap) {
                reel_free(buf);
                buf = reel_malloc(n);
                bufcap = buf ? n : 0;
                if (!buf) {
                    w->failed = 1;
                    break;
                }
            }
            uint64_t len = session_serialise(s, buf, row_as_id, e);
            W(w, k);
            W(w, sh->ref[k]);
            W(w, len);
            w_bytes(w, buf, len);
        }
        W(w, sh->free_count);
        w_bytes(w, sh->free_slots, (size_t)sh->free_count * sizeof *sh->free_slots);
    }
    reel_free(buf);
    section_end(w);
    return w->failed ? -1 : 0;
}

__attribute__((format(printf, 3, 4))) static void set_err(char *err, size_t errlen,
                                                          const char *fmt, ...)
{
    if (!err || !errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static int sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

/* Writes the file: tmp, fsync, rename over path, fsync of dir. The engine
 * must not change meanwhile (the caller holds its lock, or is the forked
 * child that owns a frozen copy). Takes no lock and logs nothing: it runs in
 * that child, where another thread's lock may be held for ever. */
static int write_file(struct rec_engine *e, const char *dir, const char *tmp, const char *path,
                      const struct rec_mark *mark, char *err, size_t errlen)
{
    /* Personal data (users' vectors, seen filters): owner-only. */
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
    if (!f) {
        if (fd >= 0)
            close(fd);
        set_err(err, errlen, "%s: %s", tmp, strerror(errno));
        return REC_EIO;
    }
    unsigned char header[HEADER_SIZE] = {0};
    uint32_t version = VERSION, dim = e->cfg.dim, sections = SEC_COUNT;
    uint64_t seed = e->cfg.seed, offset = mark ? mark->log_offset : 0;
    int64_t at = mark ? mark->event_ms : 0;
    memcpy(header, MAGIC, 8);
    memcpy(header + 8, &version, 4);
    memcpy(header + 12, &dim, 4);
    memcpy(header + 16, &seed, 8);
    memcpy(header + 24, &offset, 8);
    memcpy(header + 32, &at, 8);
    memcpy(header + 40, &sections, 4);
    uint32_t hcrc = crc32c(0, header, 44);
    memcpy(header + 44, &hcrc, 4);
    struct writer w = {.f = f};
    if (fwrite(header, 1, HEADER_SIZE, f) != HEADER_SIZE)
        w.failed = 1;
    write_all(e, &w);
    int failed = w.failed || fflush(f) != 0 || fsync(fileno(f)) != 0;
    if (fclose(f) != 0)
        failed = 1;
    if (failed) {
        set_err(err, errlen, "%s: write failed: %s", tmp, strerror(errno));
        unlink(tmp);
        return REC_EIO;
    }
    if (rename(tmp, path) != 0) {
        set_err(err, errlen, "%s: %s", path, strerror(errno));
        unlink(tmp);
        return REC_EIO;
    }
    sync_dir(dir);
    return 0;
}

/* The child's side of a forked snapshot: its copy of the engine is frozen
 * at the fork; the outcome goes back as the exit status and, on failure,
 * the message on the pipe. */
static void __attribute__((noreturn))
snapshot_child(struct rec_engine *e, const char *dir, const char *tmp, const char *path,
               const struct rec_mark *mark, int out)
{
    /* Drop every inherited descriptor but the pipe: an flock (the data
     * directory's, an upload's, the audit log's) lives as long as any copy
     * of its descriptor, so a child holding copies would keep an upload
     * "busy" after its request ended. And die with the parent. */
    if (out > 3)
        close_range(3, (unsigned)out - 1, 0);
    close_range((unsigned)out + 1, ~0u, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    char msg[512] = "";
    int rc = write_file(e, dir, tmp, path, mark, msg, sizeof msg);
    if (rc != 0) {
        size_t len = strlen(msg);
        if (write(out, msg, len) != (ssize_t)len) {
            /* the parent reports a failure without the detail */
        }
    }
    _exit(rc == 0 ? 0 : 1);
}

static pthread_mutex_t snapshot_mu = PTHREAD_MUTEX_INITIALIZER;

int rec_engine_snapshot(struct rec_engine *e, const char *dir, const struct rec_mark *mark,
                        char *err, size_t errlen)
{
    char path[4096], tmp[4096];
    if (snprintf(path, sizeof path, "%s/rec.snapshot", dir) >= (int)sizeof path ||
        snprintf(tmp, sizeof tmp, "%s/rec.snapshot.tmp", dir) >= (int)sizeof tmp) {
        set_err(err, errlen, "%s: path too long", dir);
        return REC_EINVAL;
    }
    /* Exclusive: no event, and no feed (feeds write sessions). Pending index
     * refreshes are applied first: the snapshot has none. Then, as Redis's
     * BGSAVE does, a forked child writes its copy-on-write image of the
     * engine while this process goes on: the engine is locked for the fork
     * (page tables, milliseconds) rather than for writing and fsync'ing
     * gigabytes. This caller waits for the child, so the snapshot is on disk
     * when it returns, as before. If fork fails (memory), the file is written
     * under the lock. */
    /* One snapshot at a time in the process: the engine lock no longer
     * covers the write, and two writers would share the temporary file. */
    pthread_mutex_lock(&snapshot_mu);
    pthread_rwlock_wrlock(&e->lock);
    engine_flush_dirty(e);
    int pipefd[2];
    pid_t pid = -1;
    if (pipe2(pipefd, O_CLOEXEC) == 0) {
        pid = fork();
        if (pid == 0) {
            close(pipefd[0]);
            snapshot_child(e, dir, tmp, path, mark, pipefd[1]);
        }
        close(pipefd[1]);
        if (pid < 0)
            close(pipefd[0]);
    }
    if (pid < 0) {
        int rc = write_file(e, dir, tmp, path, mark, err, errlen);
        pthread_rwlock_unlock(&e->lock);
        pthread_mutex_unlock(&snapshot_mu);
        return rc;
    }
    pthread_rwlock_unlock(&e->lock);
    char msg[512];
    size_t len = 0;
    for (;;) {
        ssize_t n = read(pipefd[0], msg + len, sizeof msg - 1 - len);
        if (n > 0 && (len += (size_t)n) < sizeof msg - 1)
            continue;
        if (n < 0 && errno == EINTR)
            continue;
        break;
    }
    msg[len] = '\0';
    close(pipefd[0]);
    int status;
    pid_t got;
    while ((got = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
        ;
    int rc = 0;
    if (got != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        if (len)
            set_err(err, errlen, "%s", msg);
        else
            set_err(err, errlen, "%s: the snapshot writer failed (status %d)", tmp,
                    got == pid ? status : -1);
        unlink(tmp);
        rc = REC_EIO;
    }
    pthread_mutex_unlock(&snapshot_mu);
    return rc;
}

/* ---- reading ------------------------------------------------------------ */

struct reader {
    const unsigned char *p, *end;
    int failed;
};

static void r_bytes(struct reader *r, void *out, size_t n)
{
    if (r->failed || (size_t)(r->end - r->p) < n) {
        r->failed = 1;
        memset(out, 0, n);
        return;
    }
    memcpy(out, r->p, n);
    r->p += n;
}

#define R(r, v) r_bytes(r, &(v), sizeof(v))

static int read_toplist(struct reader *r, struct toplist *l, uint32_t video_rows)
{
    uint32_t cap, count, min_pos;
    R(r, cap);
    R(r, count);
    R(r, min_pos);
    if (r->failed || cap == 0 || cap > TOP_GLOBAL || count > cap || (count && min_pos >= count))
        return -1;
    struct video_table *tracked = l->videos;
    unsigned index = l->pos_index;
    toplist_clear(l);
    if (toplist_init(l, cap) < 0)
        return -1;
    if (tracked)
        toplist_track(l, tracked, index);
    l->count = count;
    l->min_pos = min_pos;
    r_bytes(r, l->rows, (size_t)count * sizeof *l->rows);
    r_bytes(r, l->scores, (size_t)count * sizeof *l->scores);
    for (uint32_t i = 0; i < count; i++) {
        if (l->rows[i] >= video_rows)
            return -1;
        if (tracked) {
            if (tracked->rows[l->rows[i]].top_pos[index])
                return -1; /* listed twice */
            tracked->rows[l->rows[i]].top_pos[index] = (uint16_t)(i + 1);
        }
    }
    return r->failed ? -1 : 0;
}

static int read_video(struct reader *r, struct video_table *videos, uint32_t row)
{
    struct video_row *v = &videos->rows[row];
    R(r, v->id);
    R(r, v->creator_id);
    R(r, v->created_ms);
    R(r, v->trend);
    R(r, v->duration_ms);
    r_bytes(r, v->tags, sizeof v->tags);
    R(r, v->bias);
    R(r, v->engage_bias);
    R(r, v->engage_n);
    R(r, v->value_sum);
    R(r, v->value_n);
    R(r, v->feedback);
    R(r, v->impressions);
    R(r, v->likes);
    R(r, v->shares);
    R(r, v->comments);
    R(r, v->follows);
    uint32_t engaged = 0;
    R(r, engaged);
    video_engaged_set(&videos->engaged[row], engaged);
    R(r, v->fresh_served);
    R(r, v->state);
    R(r, v->fresh);
    R(r, v->tag_count);
    v->ann_list = UINT32_MAX;
    v->ann_pos = 0;
    v->fresh_pos = UINT32_MAX;
    if (r->failed || v->state > VIDEO_REMOVED || v->fresh > FRESH_RETIRED ||
        v->tag_count > REC_VIDEO_TAGS)
        return -1;
    return 0;
}

static uint32_t id_as_row(void *ctx, uint64_t id)
{
    struct rec_engine *e = ctx;
    return id < e->videos.used ? (uint32_t)id : IDMAP_NONE;
}

static int load_section(struct rec_engine *e, uint32_t tag, struct reader *r)
{
    unsigned dim = e->cfg.dim;
    switch (tag) {
    case SEC_ENGINE:
        R(r, e->clock_ms);
        R(r, e->last_age_ms);
        R(r, e->events);
        R(r, e->unknown_video_events);
        R(r, e->model.mu);
        R(r, e->model.mu_weight);
        R(r, e->model.engage_offset);
        R(r, e->model.impressions);
        R(r, e->model.likes);
        R(r, e->model.shares);
        R(r, e->model.comments);
        R(r, e->model.rng);
        R(r, e->model.coeng_n);
        R(r, e->model.coeng_sx);
        R(r, e->model.coeng_sr);
        R(r, e->model.coeng_sxx);
        R(r, e->model.coeng_sxr);
        R(r, e->model.coeng_gain);
        return r->failed ? -1 : 0;
    case SEC_TAGS: {
        uint32_t count;
        R(r, count);
        if (r->failed || count >= TAGS_MAX)
            return -1;
        for (uint32_t t = 1; t <= count; t++) {
            uint16_t len;
            char name[REC_HASHTAG_MAX];
            R(r, len);
            if (r->failed || len == 0 || len >= REC_HASHTAG_MAX)
                return -1;
            r_bytes(r, name, len);
            name[len] = '\0';
            if (r->failed || tags_intern(&e->tags, name) != t)
                return -1;
            R(r, e->tags.rows[t].bias);
            R(r, e->tags.rows[t].videos);
        }
        return r->failed ? -1 : 0;
    }
    case SEC_VIDEOS: {
        uint32_t used;
        R(r, used);
        if (r->failed || (uint64_t)used * (dim * 4 + 64) > (uint64_t)(r->end - r->p) + 64)
            return -1;
        for (uint32_t row = 0; row < used; row++) {
            if (videos_new_row(&e->videos) != row)
                return -1;
            struct video_row *v = &e->videos.rows[row];
            if (read_video(r, &e->videos, row) < 0)
                return -1;
            for (unsigned k = 0; k < v->tag_count; k++)
                if (v->tags[k] == 0 || v->tags[k] > e->tags.count)
                    return -1;
            r_bytes(r, videos_emb(&e->videos, row), dim * sizeof(float));
            if (v->state == VIDEO_LIVE) {
                if (videos_publish(&e->videos, v->id, row) < 0)
                    return -1;
            } else {
                e->videos.live--;
            }
        }
        return r->failed ? -1 : 0;
    }
    case SEC_USERS: {
        uint64_t sketch, count;
        R(r, sketch);
        if (r->failed || sketch != e->users.sightings_mask + 1)
            return -1;
        r_bytes(r, e->users.sightings, sketch);
        R(r, count);
        if (r->failed || count > (uint64_t)(r->end - r->p) / (8 + e->users.stride))
            return -1;
        for (uint64_t i = 0; i < count; i++) {
            uint64_t id;
            R(r, id);
            if (r->failed || id == 0 || users_find(&e->users, id) != IDMAP_NONE)
                return -1;
            uint32_t row = users_admit(&e->users, id);
            if (row == IDMAP_NONE)
                return -1;
            r_bytes(r, users_head(&e->users, row), e->users.stride);
        }
        return r->failed ? -1 : 0;
    }
    case SEC_INDEX: {
        uint32_t nlists, trained_at;
        R(r, nlists);
        R(r, trained_at);
        if (r->failed || nlists == 0 || nlists > (1u << 20))
            return -1;
        int avx2 = e->ann.avx2;
        ann_clear(&e->ann);
        memset(&e->ann, 0, sizeof e->ann);
        e->ann.dim = dim;
        e->ann.avx2 = avx2;
        e->ann.lists = reel_calloc(nlists, sizeof *e->ann.lists);
        if (!e->ann.lists)
            return -1;
        e->ann.nlists = nlists;
        e->ann.trained_at = trained_at;
        if (nlists > 1) {
            e->ann.centroids = reel_malloc((size_t)nlists * (dim + 1) * sizeof(float));
            e->ann.half_norms = reel_malloc((size_t)nlists * sizeof(float));
            if (!e->ann.centroids || !e->ann.half_norms)
                return -1;
            r_bytes(r, e->ann.centroids, (size_t)nlists * (dim + 1) * sizeof(float));
            r_bytes(r, e->ann.half_norms, (size_t)nlists * sizeof(float));
        }
        for (uint32_t l = 0; l < nlists; l++) {
            uint32_t count;
            R(r, count);
            if (r->failed || count > e->videos.used)
                return -1;
            struct ann_list *al = &e->ann.lists[l];
            if (ann_list_alloc(al, dim, count) < 0)
                return -1;
            al->count = count;
            r_bytes(r, al->rows, (size_t)count * sizeof *al->rows);
            int8_t code[MODEL_DIM_MAX];
            for (uint32_t i = 0; i < count && !r->failed; i++) {
                r_bytes(r, code, dim);
                ann_code_set(al, dim, i, code);
            }
            r_bytes(r, al->scales, (size_t)count * sizeof *al->scales);
            r_bytes(r, al->biases, (size_t)count * sizeof *al->biases);
            if (r->failed)
                return -1;
            for (uint32_t i = 0; i < count; i++) {
                uint32_t row = al->rows[i];
                if (row >= e->videos.used || e->videos.rows[row].ann_list != UINT32_MAX)
                    return -1;
                e->videos.rows[row].ann_list = l;
                e->videos.rows[row].ann_pos = i;
                e->ann.count++;
            }
        }
        return 0;
    }
    case SEC_COENG: {
        uint32_t nlists;
        R(r, nlists);
        for (uint32_t i = 0; i < nlists && !r->failed; i++) {
            uint32_t row;
            uint16_t count, cap;
            R(r, row);
            R(r, count);
            R(r, cap);
            if (r->failed || row >= e->videos.used || count > cap || cap == 0 ||
                cap > e->cfg.coengagement_neighbours)
                return -1;
            struct coeng_list *l = reel_malloc(sizeof *l + (size_t)cap * sizeof l->e[0]);
            if (!l)
                return -1;
            l->count = count;
            l->cap = cap;
            r_bytes(r, l->e, (size_t)count * sizeof l->e[0]);
            int bad = r->failed;
            for (uint16_t k = 0; k < count; k++)
                bad |= l->e[k].row >= e->videos.used;
            if (bad || coeng_set(&e->coeng, row, l) < 0) {
                reel_free(l);
                return -1;
            }
        }
        return r->failed ? -1 : 0;
    }
    case SEC_TRENDING: {
        R(r, e->trending.half_life_ms);
        R(r, e->trending.epoch_ms);
        if (r->failed || read_toplist(r, &e->trending.global, e->videos.used) < 0 ||
            read_toplist(r, &e->trending.popular, e->videos.used) < 0)
            return -1;
        uint32_t n;
        R(r, n);
        for (uint32_t i = 0; i < n && !r->failed; i++) {
            uint32_t t;
            R(r, t);
            if (r->failed || t > e->tags.count)
                return -1;
            struct toplist *l = trending_tag_list(&e->trending, t);
            if (!l || read_toplist(r, l, e->videos.used) < 0)
                return -1;
        }
        return r->failed ? -1 : 0;
    }
    case SEC_FRESH: {
        uint32_t count, sweep;
        R(r, count);
        R(r, sweep);
        if (r->failed || count > e->videos.used)
            return -1;
        for (uint32_t i = 0; i < count; i++) {
            uint32_t row;
            R(r, row);
            if (r->failed || row >= e->videos.used || e->videos.rows[row].fresh != FRESH_POOL)
                return -1;
            /* fresh_enter would skip a video already marked as in the pool. */
            e->videos.rows[row].fresh = FRESH_NONE;
            if (fresh_enter(&e->fresh, &e->videos, row) < 0)
                return -1;
        }
        e->fresh.sweep = sweep;
        return 0;
    }
    case SEC_PREFS: {
        uint32_t n;
        R(r, n);
        for (uint32_t i = 0; i < n && !r->failed; i++) {
            uint64_t user;
            uint32_t nf, nb, ni;
            R(r, user);
            struct prefs_entry *p = r->failed ? NULL : prefs_get(&e->prefs, user, 1);
            if (!p)
                return -1;
            R(r, nf);
            if (r->failed || nf > PREFS_FOLLOWS_MAX)
                return -1;
            for (uint32_t k = 0; k < nf; k++) {
                uint64_t c;
                R(r, c);
                if (r->failed || prefs_follow(p, c) < 0)
                    return -1;
            }
            R(r, nb);
            if (r->failed || nb > PREFS_BLOCKED_MAX)
                return -1;
            for (uint32_t k = 0; k < nb; k++) {
                uint64_t c;
                R(r, c);
                if (r->failed || prefs_block(p, c) < 0)
                    return -1;
            }
            R(r, ni);
            if (r->failed || ni > REC_INTERESTS_MAX)
                return -1;
            r_bytes(r, p->interests, (size_t)ni * 4);
            p->interest_count = ni;
            for (uint32_t k = 0; k < ni; k++)
                if (p->interests[k] == 0 || p->interests[k] > e->tags.count)
                    return -1;
        }
        return r->failed ? -1 : 0;
    }
    case SEC_CREATORS: {
        uint32_t n;
        R(r, n);
        for (uint32_t i = 0; i < n && !r->failed; i++) {
            uint64_t creator;
            struct creator_videos cv;
            R(r, creator);
            R(r, cv.count);
            R(r, cv.head);
            r_bytes(r, cv.rows, sizeof cv.rows);
            if (r->failed || creator == 0 || cv.count > CREATOR_RECENT ||
                cv.head >= CREATOR_RECENT)
                return -1;
            for (unsigned k = 0; k < CREATOR_RECENT; k++)
                if (k < cv.count && cv.rows[(cv.head + CREATOR_RECENT - 1 - k) % CREATOR_RECENT] >=
                                        e->videos.used)
                    return -1;
            if (creators_get(&e->creators, creator) || creators_add(&e->creators, creator, 0) < 0)
                return -1;
            uint32_t idx = idmap_get(&e->creators.map, creator);
            e->creators.lists[idx] = cv;
        }
        return r->failed ? -1 : 0;
    }
    case SEC_SESSIONS:
        for (int i = 0; i < SESSION_SHARDS; i++) {
            struct session_shard *sh = &e->sessions.shards[i];
            uint32_t used, live, sweep, free_count, hand;
            R(r, used);
            R(r, live);
            R(r, sweep);
            R(r, hand);
            if (r->failed || live > used || used > (1u << 28))
                return -1;
            for (uint32_t k = 0; k < live; k++) {
                uint32_t slot;
                uint8_t ref;
                uint64_t len;
                R(r, slot);
                R(r, ref);
                R(r, len);
                if (r->failed || slot >= used || len > (uint64_t)(r->end - r->p))
                    return -1;
                struct session *s = reel_calloc(1, sizeof *s);
                if (!s)
                    return -1;
                size_t got = session_deserialise(s, r->p, (size_t)len, id_as_row, e);
                if (got != len || session_shard_of(&e->sessions, s->user_id) != sh ||
                    session_place(&e->sessions, sh, slot, s, ref) < 0) {
                    session_destroy(s);
                    return -1;
                }
                r->p += len;
            }
            /* Slots up to `used` exist; the free list comes back in its order. */
            if (session_shard_reserve(sh, used) < 0)
                return -1;
            R(r, free_count);
            if (r->failed || free_count > used)
                return -1;
            for (uint32_t k = 0; k < free_count; k++) {
                uint32_t slot;
                R(r, slot);
                if (r->failed || slot >= used || sh->slots[slot])
                    return -1;
                sh->free_slots[k] = slot;
            }
            sh->free_count = free_count;
            if (sh->live != live || free_count + live != used)
                return -1;
            sh->sweep = sweep;
            sh->hand = hand;
        }
        return 0;
    }
    return -1;
}

struct rec_engine *rec_engine_load(const struct config_rec *cfg, const char *dir,
                                   struct rec_mark *mark, int *errcode, char *err, size_t errlen)
{
    int dummy;
    if (!errcode)
        errcode = &dummy;
    char path[4096];
    if (snprintf(path, sizeof path, "%s/rec.snapshot", dir) >= (int)sizeof path) {
        set_err(err, errlen, "%s: path too long", dir);
        *errcode = REC_EINVAL;
        return NULL;
    }
    struct rec_engine *e = NULL;
    unsigned char *buf = NULL;
    FILE *f = fopen(path, "rb");
    *errcode = REC_EIO;
    if (!f) {
        set_err(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    unsigned char header[HEADER_SIZE];
    uint32_t version, dim, sections, hcrc;
    uint64_t seed;
    if (fread(header, 1, HEADER_SIZE, f) != HEADER_SIZE) {
        set_err(err, errlen, "%s: too short for a snapshot", path);
        *errcode = REC_EFORMAT;
        goto fail;
    }
    memcpy(&version, header + 8, 4);
    memcpy(&dim, header + 12, 4);
    memcpy(&seed, header + 16, 8);
    memcpy(&sections, header + 40, 4);
    memcpy(&hcrc, header + 44, 4);
    *errcode = REC_EFORMAT;
    if (memcmp(header, MAGIC, 8) != 0 || hcrc != crc32c(0, header, 44)) {
        set_err(err, errlen, "%s: not a Reel engine snapshot (bad magic or header checksum)",
                path);
        goto fail;
    }
    if (version != VERSION || sections != SEC_COUNT) {
        set_err(err, errlen, "%s: snapshot format %u, this build reads %u", path, version,
                VERSION);
        goto fail;
    }
    if (dim != cfg->dim || seed != cfg->seed) {
        set_err(err, errlen, "%s: taken with dim %u seed %llu, configured dim %u seed %llu", path,
                dim, (unsigned long long)seed, cfg->dim, (unsigned long long)cfg->seed);
        goto fail;
    }
    if (mark) {
        memcpy(&mark->log_offset, header + 24, 8);
        memcpy(&mark->event_ms, header + 32, 8);
    }
    int code;
    e = rec_engine_create(cfg, &code);
    if (!e) {
        *errcode = code;
        set_err(err, errlen, "engine: %s", rec_strerror(code));
        goto fail;
    }
    for (uint32_t s = 1; s <= SEC_COUNT; s++) {
        uint32_t tag, zero, crc;
        uint64_t len;
        if (fread(&tag, 4, 1, f) != 1 || fread(&zero, 4, 1, f) != 1 || fread(&len, 8, 1, f) != 1 ||
            tag != s || len > SECTION_MAX) {
            set_err(err, errlen, "%s: section %u missing or damaged", path, s);
            goto fail;
        }
        buf = reel_malloc(len ? len : 1);
        if (!buf) {
            *errcode = REC_ENOMEM;
            set_err(err, errlen, "%s: out of memory for section %u (%llu bytes)", path, s,
                    (unsigned long long)len);
            goto fail;
        }
        if (fread(buf, 1, len, f) != len || fread(&crc, 4, 1, f) != 1) {
            set_err(err, errlen, "%s: section %u is truncated", path, s);
            goto fail;
        }
        if (crc != crc32c(0, buf, len)) {
            set_err(err, errlen, "%s: section %u fails its checksum", path, s);
            goto fail;
        }
        struct reader r = {.p = buf, .end = buf + len};
        if (load_section(e, tag, &r) < 0 || r.failed || r.p != r.end) {
            set_err(err, errlen, "%s: section %u is inconsistent", path, s);
            goto fail;
        }
        reel_free(buf);
        buf = NULL;
    }
    fclose(f);
    *errcode = 0;
    return e;
fail:
    reel_free(buf);
    fclose(f);
    rec_engine_destroy(e);
    return NULL;
}
