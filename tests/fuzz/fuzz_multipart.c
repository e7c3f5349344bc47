/*
 * fuzz_multipart.c — libFuzzer driver for the streaming multipart parser.
 * A differential check: the body is parsed in one piece and again cut at
 * two points chosen from the input; both runs must agree on the result, the
 * parts, and every byte of their data (the parser promises that the way a
 * body is cut into pieces never matters).
 */
#include "http/multipart.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct digest {
    int parts, ends;
    uint64_t hash; /* FNV-1a over names, filenames, types and data */
    size_t bytes;
};

static void mix(struct digest *d, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        d->hash = (d->hash ^ b[i]) * 1099511628211ULL;
}

static int on_begin(void *ctx, const struct http_multipart_part *part)
{
    struct digest *d = ctx;
    d->parts++;
    mix(d, part->name, strlen(part->name) + 1);
    mix(d, part->filename, strlen(part->filename) + 1);
    mix(d, part->content_type, strlen(part->content_type) + 1);
    return 0;
}

static int on_data(void *ctx, const char *p, size_t n)
{
    struct digest *d = ctx;
    if (n == 0)
        abort(); /* empty runs are never emitted */
    mix(d, p, n);
    d->bytes += n;
    return 0;
}

static int on_end(void *ctx)
{
    struct digest *d = ctx;
    d->ends++;
    mix(d, "|", 1);
    return 0;
}

static int run(const char *body, size_t len, size_t cut1, size_t cut2, struct digest *d)
{
    static const struct http_multipart_callbacks cb = {on_begin, on_data, on_end};
    struct http_multipart mp;
    memset(d, 0, sizeof *d);
    d->hash = 1469598103934665603ULL;
    if (http_multipart_init(&mp, "fuzzB0undary", &cb, d) != 0)
        abort();
    size_t cuts[3] = {cut1, cut2, len}, at = 0;
    for (int i = 0; i < 3; i++) {
        int rc = http_multipart_feed(&mp, body + at, cuts[i] - at);
        if (rc != 0)
            return rc;
        at = cuts[i];
    }
    return http_multipart_finish(&mp);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    size_t len = size - 2;
    const char *body = (const char *)data + 2;
    size_t a = len ? data[0] % (len + 1) : 0, b = len ? data[1] % (len + 1) : 0;
    if (a > b) {
        size_t t = a;
        a = b;
        b = t;
    }
    struct digest whole, pieces;
    int rc1 = run(body, len, len, len, &whole);
    int rc2 = run(body, len, a, b, &pieces);
    if (rc1 != rc2 || whole.parts != pieces.parts || whole.ends != pieces.ends)
        abort();
    if (rc1 == 0 && (whole.hash != pieces.hash || whole.bytes != pieces.bytes))
        abort();
    if (whole.ends > whole.parts || whole.bytes > len)
        abort();
    return 0;
}
