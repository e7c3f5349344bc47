/*
 * crc32c.c — see crc32c.h. The hardware path folds 8 bytes per instruction;
 * the portable path is the classic byte-at-a-time table (records are 64
 * bytes, so neither needs anything cleverer).
 */
#include "events/crc32c.h"

#include <stdbool.h>
#include <string.h>

#define POLY 0x82F63B78u /* reflected Castagnoli polynomial */

static uint32_t table[256];
static bool have_sse42;

/* Runs before main: no thread can see a half-built table. */
__attribute__((constructor)) static void crc32c_init(void)
{
#if defined(__x86_64__)
    __builtin_cpu_init();
    have_sse42 = __builtin_cpu_supports("sse4.2");
#endif
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? (c >> 1) ^ POLY : c >> 1;
        table[i] = c;
    }
}

static uint32_t crc32c_portable(const unsigned char *p, size_t len)
{
    uint32_t c = 0xFFFFFFFFu;
    while (len--)
        c = table[(c ^ *p++) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) static uint32_t crc32c_sse42(const unsigned char *p, size_t len)
{
    uint64_t c = 0xFFFFFFFFu;
    while (len >= 8) {
        uint64_t word;
        memcpy(&word, p, 8);
        c = __builtin_ia32_crc32di(c, word);
        p += 8;
        len -= 8;
    }
    uint32_t c32 = (uint32_t)c;
    while (len--)
        c32 = __builtin_ia32_crc32qi(c32, *p++);
    return c32 ^ 0xFFFFFFFFu;
}
#endif

uint32_t crc32c(const void *data, size_t len)
{
#if defined(__x86_64__)
    if (have_sse42)
        return crc32c_sse42(data, len);
#endif
    return crc32c_portable(data, len);
}
