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

#endif
