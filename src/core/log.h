/*
 * log.h — structured logging: one line per event, key=value pairs.
 *
 *   ts=2026-11-27T23:40:01.123Z level=info event=listening addr=127.0.0.1:8080
 *
 * Each line is formatted into a stack buffer and written with a single
 * write(2), so lines from different threads never interleave (lines are
 * capped at LOG_LINE_MAX bytes and truncated past it). Values that may hold
 * spaces or quotes are written with log_quote().
 */
#ifndef REEL_CORE_LOG_H
#define REEL_CORE_LOG_H

#include <stddef.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR, LOG_OFF };

#define LOG_LINE_MAX 2048

/* Sets the minimum level written (default LOG_INFO; thread-safe, so a config
 * reload may change it while other threads log) and the file descriptor
 * (default 2; not thread-safe: set it before starting threads). */
void log_set_level(enum log_level level);
void log_set_fd(int fd);
enum log_level log_get_level(void);
/* Parses "debug", "info", "warn", "error", "off"; returns 0 or -1. */
int log_level_parse(const char *name, enum log_level *out);

/* Writes one line; fmt holds the key=value pairs after the ts and level. */
void log_write(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Quotes `value` for a key=value line into buf (always terminated): plain
 * tokens are copied, anything with spaces, quotes, '=' or control bytes is
 * wrapped in double quotes with escapes. Returns buf. */
const char *log_quote(char *buf, size_t size, const char *value);

#define log_debug(...) log_write(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_write(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_write(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_write(LOG_ERROR, __VA_ARGS__)

#endif
