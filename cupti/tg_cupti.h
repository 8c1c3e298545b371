/* GPU activity capture: CUPTI activity tracing, launch-stack correlation
 * and our own NVTX injection, all into a tg_capture in CLOCK_MONOTONIC ns.
 *
 * CUPTI is dlopen'd at run time through a function table, so the binary
 * starts on machines without it; a missing library, a missing driver or a
 * refused activity kind become a one-line reason, never a crash. This
 * header has no CUDA or CUPTI types, so the CLI and the recording agent
 * include it without the toolkit.
 *
 * NVTX: the process's NVTX calls land in our handlers (static injection
 * for the module this is linked into, NVTX_INJECTION64_PATH for the
 * recording agent), on every machine, with or without a GPU.
 */
#ifndef TG_CUPTI_H
#define TG_CUPTI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tg_capture.h"
#include "tg_error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- NVTX capture (nvtx_inject.c) ---------------------------------------- */

enum tg_nvtx_state {
	TG_NVTX_NOT_LOADED = 0, /* no NVTX call has initialised a tool yet */
	TG_NVTX_OURS = 1,       /* our handlers receive the NVTX calls */
	TG_NVTX_OTHER_TOOL = 2, /* NVTX_INJECTION64_PATH names another tool */
	TG_NVTX_UNAVAILABLE = 3 /* built without the NVTX headers */
};

/* Who receives this process's NVTX calls, with a one-line explanation. */
enum tg_nvtx_state tg_nvtx_capture_state(char *why, size_t cap);
/* Records NVTX events from now on / stops recording (handlers stay
 * installed and return at once). */
void tg_nvtx_capture_start(void);
void tg_nvtx_capture_stop(void);
/* Moves the events recorded so far into c: push/pop pairs per thread and
 * domain become TG_EV_RANGE, start/end pairs TG_EV_ASYNC, marks TG_EV_MARK;
 * ranges still open end at end_ns (flag TG_EVF_UNCLOSED); thread names
 * from nvtxNameOsThread; counters nvtx.events, nvtx.dropped,
 * nvtx.unmatched_pops, nvtx.unmatched_ends, nvtx.unclosed. */
int tg_nvtx_capture_export(struct tg_capture *c, uint64_t end_ns, struct tg_error *err);
/* Forgets everything recorded (tests). */
void tg_nvtx_capture_reset(void);

/* ---- CUPTI collector (cupti_collector.c) ---------------------------------- */

struct tg_cupti_opts {
	const char *library;  /* libcupti path; NULL: $TG_CUPTI_PATH, the toolkit's, the loader's */
	size_t buffer_bytes;  /* per activity buffer; 0 -> 4 MiB */
	int buffers;          /* buffers in the pool; 0 -> 16 */
	bool driver_api;      /* also trace CUDA driver API calls */
	size_t max_launches;  /* launch records kept; 0 -> 262144 */
	int stack_depth;      /* frames per launch stack; 0 -> 64 */
	/* The calling thread's stack, leaf first (tg_sampler_backtrace);
	 * NULL: launches are recorded without stacks. */
	int (*backtrace)(uint64_t *pcs, int max);
	/* What the calling thread works for (a backend tag); NULL: 0. */
	int32_t (*current_tag)(void);
};

struct tg_cupti_stats {
	uint32_t version;          /* cuptiGetVersion */
	char library[256];         /* the libcupti that was loaded */
	char clock[16];            /* "callback" (records in CLOCK_MONOTONIC) or "offset" */
	int64_t clock_offset_ns;   /* offset method: CUPTI time - CLOCK_MONOTONIC at start */
	int64_t clock_drift_ns;    /* offset method: change of the offset from start to stop */
	uint64_t clock_uncertainty_ns;
	bool clock_step;           /* the offset jumped by more than 1 ms during the run */
	uint64_t records;          /* activity records converted */
	uint64_t kernels, memcpys, memsets, api_calls, syncs, overheads;
	uint64_t skipped;          /* records of kinds we do not convert */
	uint64_t dropped;          /* records CUPTI reports it dropped */
	uint64_t buffers_completed;
	uint64_t buffers_refused;  /* requests answered with no buffer (pool exhausted) */
	uint64_t launches;         /* launch callbacks recorded */
	uint64_t launches_dropped; /* launch table full */
	uint64_t stacks;           /* distinct launch stacks */
	uint64_t stacks_dropped;   /* stack table full: launch kept without stack */
	bool callbacks;            /* launch callbacks subscribed */
	char kinds[160];           /* activity kinds enabled, comma-separated */
};

struct tg_cupti;

/* Loads CUPTI and checks its version; TG_E_UNSUPPORTED with the reason
 * when the build has no CUPTI or the library cannot be loaded. */
int tg_cupti_new(const struct tg_cupti_opts *o, struct tg_cupti **out, struct tg_error *err);
/* Registers the timestamp callback (or measures the clock offset), the
 * buffer callbacks and the launch callbacks, and enables the activity
 * kinds. TG_E_DEVICE with CUPTI's reason when kernels cannot be traced (no
 * GPU or driver); the collector is then left stopped. One collector may
 * run at a time. */
int tg_cupti_start(struct tg_cupti *c, struct tg_error *err);
/* Flushes every buffer (forced), disables the kinds, converts what is
 * left. */
int tg_cupti_stop(struct tg_cupti *c, struct tg_error *err);
/* Moves the converted events, launches, devices and counters (cupti.*)
 * into cap. */
int tg_cupti_export(struct tg_cupti *c, struct tg_capture *cap, struct tg_error *err);
void tg_cupti_get_stats(const struct tg_cupti *c, struct tg_cupti_stats *st);
void tg_cupti_free(struct tg_cupti *c);

/* Whether CUPTI support is built in. */
bool tg_cupti_built(void);

#ifdef __cplusplus
}
#endif

#endif
