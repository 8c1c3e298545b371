/* Time sources. Every timestamp inside a run is CLOCK_MONOTONIC in ns. */
#ifndef TG_CLOCK_H
#define TG_CLOCK_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* CLOCK_MONOTONIC, nanoseconds. */
uint64_t tg_clock_ns(void);
/* CLOCK_REALTIME, nanoseconds since the epoch. */
uint64_t tg_clock_realtime_ns(void);
/* "2026-11-24T09:30:12Z" (UTC) for a realtime ns stamp. */
void tg_clock_format_utc(uint64_t realtime_ns, char *buf, size_t cap);
/* "20261124-093012" (UTC), for directory names. */
void tg_clock_format_compact(uint64_t realtime_ns, char *buf, size_t cap);

#ifdef __cplusplus
}
#endif

#endif
