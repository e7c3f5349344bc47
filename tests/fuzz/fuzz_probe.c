/*
 * fuzz_probe.c — libFuzzer driver for the upload probe: every input is an
 * "uploaded file" handed to media_probe_fd, exactly as the upload route and
 * the transcoding job do. Besides crashes and sanitizer reports, it checks
 * the probe's own promises: a reason from the documented set, and an
 * accepted file that really is within the limits.
 *
 * Built with clang -fsanitize=fuzzer when meson's fuzz option is on; the
 * same file is linked with replay.c into a plain unit test that runs the
 * committed corpus (tests/fuzz/corpus/probe) on every `make test`.
 */
#include "media/probe.h"

#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int fd = -1;
    if (fd < 0) {
        fd = memfd_create("reel-fuzz-upload", MFD_CLOEXEC);
        if (fd < 0)
            abort();
    }
    if (ftruncate(fd, 0) < 0 || (size && pwrite(fd, data, size, 0) != (ssize_t)size))
        abort();
    const struct media_limits limits = {
        .max_bytes = 4u << 20,
        .max_duration_ms = 10 * 60 * 1000,
        .max_dimension = 4096,
        .min_dimension = 2,
    };
    struct media_probe_info info;
    enum media_reason reason = media_probe_fd(fd, &limits, &info);
    if (reason != info.reason)
        abort();
    switch (reason) {
    case MEDIA_OK:
        if (info.duration_ms > (int64_t)limits.max_duration_ms || info.width > 4096 ||
            info.height > 4096 || info.width < 2 || info.height < 2 || info.video_frames < 1)
            abort();
        break;
    case MEDIA_EMPTY:
        if (size != 0)
            abort();
        break;
    case MEDIA_TOO_LARGE:
    case MEDIA_NOT_VIDEO:
    case MEDIA_IMAGE:
    case MEDIA_AUDIO_ONLY:
    case MEDIA_NO_VIDEO:
    case MEDIA_TRUNCATED:
    case MEDIA_TOO_LONG:
    case MEDIA_BAD_DIMENSIONS:
    case MEDIA_INCONSISTENT:
    case MEDIA_NO_MEMORY:
        if (!info.message[0])
            abort(); /* every refusal says why */
        break;
    default: abort(); /* IO errors cannot happen on a memfd */
    }
    return 0;
}
