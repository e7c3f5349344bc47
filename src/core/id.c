/*
 * id.c — see id.h. The generator's state is one atomic 64-bit word holding
 * (last millisecond << 12 | sequence); a compare-and-swap loop advances it, so
 * concurrent callers never see the same value and never block.
 */
#include "core/id.h"

#include <stdatomic.h>
#include <time.h>

#define SEQ_BITS 12
#define NODE_BITS 4
#define TIME_BITS 41
#define SEQ_MASK ((1ULL << SEQ_BITS) - 1)
#define TIME_MASK ((1ULL << TIME_BITS) - 1)
#define TIME_SHIFT (SEQ_BITS + NODE_BITS)
#define REGION_SHIFT (TIME_SHIFT + TIME_BITS)

static _Atomic uint64_t generator_state;
static unsigned node_number;

int id_set_node(unsigned node)
{
    if (node > ID_NODE_MAX)
        return -1;
    node_number = node;
    return 0;
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t id_make(unsigned region, uint64_t unix_ms, unsigned node, unsigned seq)
{
    uint64_t t = unix_ms > ID_EPOCH_MS ? unix_ms - ID_EPOCH_MS : 0;
    return ((uint64_t)region << REGION_SHIFT) | ((t & TIME_MASK) << TIME_SHIFT) |
           ((uint64_t)(node & ID_NODE_MAX) << SEQ_BITS) | (seq & SEQ_MASK);
}

uint64_t id_next(unsigned region)
{
    if (region == 0 || region > ID_REGION_MAX)
        return 0;
    uint64_t t = now_ms();
    t = t > ID_EPOCH_MS ? t - ID_EPOCH_MS : 0;
    uint64_t old = atomic_load_explicit(&generator_state, memory_order_relaxed);
    uint64_t next;
    do {
        uint64_t last = old >> SEQ_BITS;
        uint64_t seq = old & SEQ_MASK;
        if (t > last)
            next = t << SEQ_BITS;
        else if (seq < SEQ_MASK)
            next = (last << SEQ_BITS) | (seq + 1);
        else
            next = (last + 1) << SEQ_BITS; /* borrow the next millisecond */
    } while (!atomic_compare_exchange_weak_explicit(&generator_state, &old, next,
                                                    memory_order_relaxed,
                                                    memory_order_relaxed));
    return ((uint64_t)region << REGION_SHIFT) | (((next >> SEQ_BITS) & TIME_MASK) << TIME_SHIFT) |
           ((uint64_t)node_number << SEQ_BITS) | (next & SEQ_MASK);
}

unsigned id_region(uint64_t id)
{
    return (unsigned)(id >> REGION_SHIFT) & ID_REGION_MAX;
}

uint64_t id_unix_ms(uint64_t id)
{
    return ((id >> TIME_SHIFT) & TIME_MASK) + ID_EPOCH_MS;
}

char *id_format(uint64_t id, char *buf)
{
    char tmp[ID_STR_MAX];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + id % 10);
        id /= 10;
    } while (id);
    for (size_t i = 0; i < n; i++)
        buf[i] = tmp[n - 1 - i];
    buf[n] = '\0';
    return buf;
}

bool id_parse_n(const char *s, size_t len, uint64_t *id)
{
    if (len == 0 || len > 19 || (s[0] == '0'))
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (uint64_t)(s[i] - '0'); /* 19 digits cannot overflow 2^64 */
    }
    if (v >> 63)
        return false;
    if (id_region(v) == 0)
        return false;
    *id = v;
    return true;
}

bool id_parse(const char *s, uint64_t *id)
{
    size_t len = 0;
    while (len < 20 && s[len])
        len++;
    if (s[len])
        return false;
    return id_parse_n(s, len, id);
}
