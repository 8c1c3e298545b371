/* Validates a Chrome Trace Event file against the rules trace.json
 * follows (design §5): parses, ids in range, X slices nested per track,
 * flows paired and bound to slices, named tracks, numeric counters. */
#ifndef TG_TRACE_CHECK_H
#define TG_TRACE_CHECK_H

#include <stddef.h>
#include <stdint.h>

struct tg_trace_check_stats {
	size_t events, slices, flows, counters, instants, tracks, max_depth;
};

/* 0 when valid; -1 with the first violation in why. */
int tg_trace_check(const char *json, size_t len, struct tg_trace_check_stats *st, char *why,
		   size_t cap);

/* Every sample slice ("cat":"sample") with the names from its track's
 * root to itself, ';'-joined, nested as catapult's and Perfetto's
 * importers nest them (by ts, then longer dur first, then file order; the
 * first that holds a slice is its parent), and its duration in us. fn
 * returns < 0 to stop. 0, or -1 with why (invalid trace, or fn stopped). */
typedef int (*tg_trace_path_fn)(void *ctx, const char *path, double dur_us);
int tg_trace_sample_paths(const char *json, size_t len, tg_trace_path_fn fn, void *ctx, char *why,
			  size_t cap);

#endif
