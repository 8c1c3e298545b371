/* The unified timeline: a capture as Chrome Trace Event JSON (the format
 * Perfetto UI and chrome://tracing open).
 *
 * One process per host process and per GPU. Host threads get a track with
 * their NVTX push/pop ranges, CUDA API calls, synchronizations and marks,
 * and a "samples" track where consecutive host stack samples become a flame
 * chart. GPUs get a track per CUDA stream (kernels, copies, memsets) and
 * counters of achieved copy bandwidth. NVTX start/end ranges get tracks per
 * domain. Flow arrows join each launch call to its kernel or copy
 * (CUPTI correlation id). Slices are properly nested per track: a slice
 * that would cross its parent's end moves to an extra lane track (or is
 * clamped when it crosses by at most 2 us of clock noise, counted). ts and
 * dur are microseconds relative to the start of the capture, printed with
 * nanosecond precision. "otherData" carries the capture's metadata and
 * data-quality counters.
 */
#ifndef TG_TRACE_H
#define TG_TRACE_H

#include <stdbool.h>
#include <stdint.h>

#include "tg_capture.h"
#include "tg_error.h"
#include "tg_sink.h"
#include "tg_symbolize.h"

#ifdef __cplusplus
extern "C" {
#endif

/* pid of GPU device d's process in the trace */
#define TG_TRACE_GPU_PID(d) (0x40000000u + (uint32_t)(d))

struct tg_trace_opts {
	const char *process_name; /* the host process; default "host" */
	struct tg_symbolizer *sym; /* names sample frames; NULL: samples not drawn */
	int max_sample_depth;      /* frames per sample drawn from the root; 0 -> 64 */
};

struct tg_trace_stats {
	uint64_t events;       /* trace events written (all phases) */
	uint64_t slices;       /* X events */
	uint64_t flows;        /* launch -> GPU flows (s + f pairs) */
	uint64_t counters;     /* C events */
	uint64_t unmatched;    /* GPU work whose launch call is not in the capture */
	uint64_t lanes;        /* extra lane tracks created to keep nesting */
	uint64_t clamped;      /* slices shortened by <= 2 us to nest */
};

/* Writes c (sorted with tg_capture_sort) as a trace. */
int tg_trace_write(const struct tg_capture *c, const struct tg_trace_opts *o, struct tg_sink *s,
		   struct tg_trace_stats *st, struct tg_error *err);

#ifdef __cplusplus
}
#endif

#endif
