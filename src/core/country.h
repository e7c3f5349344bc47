/*
 * country.h — ISO 3166-1 alpha-2 country codes.
 *
 * Every country has a small index (0..COUNTRY_COUNT-1) so per-country tables
 * (country -> region, active users per country) are plain arrays.
 */
#ifndef REEL_CORE_COUNTRY_H
#define REEL_CORE_COUNTRY_H

#define COUNTRY_COUNT 249

/* Returns the index of an upper-case alpha-2 code ("DE"), or -1 if `code` is
 * not an officially assigned ISO 3166-1 code. Lower case is accepted. */
int country_index(const char *code);
/* Returns the upper-case code for an index, or NULL when out of range. */
const char *country_code(int index);

#endif
