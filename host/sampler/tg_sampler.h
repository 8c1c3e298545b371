/* Host stack sampling: the in-process py-spy of trendgpu-bench.
 *
 * Every registered thread gets its own POSIX timer (timer_create with
 * SIGEV_THREAD_ID) delivering SIGPROF to that thread only. The handler
 * unwinds the interrupted stack (libunwind from the signal context, or the
 * frame-pointer chain) into the thread's pre-sized lock-free ring and counts
 * what it cannot store; it never allocates or locks. A drain thread moves
 * samples out of the rings into the sampler's store every few milliseconds.
 * Samples are raw program counters plus a monotonic timestamp and a tag (the
 * backend that was running); symbols are resolved after the run (flame/).
 */
#ifndef TG_SAMPLER_H
#define TG_SAMPLER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tg_capture.h"
#include "tg_error.h"

#ifdef __cplusplus
extern "C" {
#endif

enum tg_sample_clock {
	TG_SAMPLE_WALL = 0, /* CLOCK_MONOTONIC timers; idle samples skipped unless asked */
	TG_SAMPLE_CPU = 1,  /* the thread's CPU-time clock (kernel tick resolution) */
};

enum tg_unwind_method {
	TG_UNWIND_AUTO = 0,      /* the hybrid */
	TG_UNWIND_FP = 1,        /* the frame-pointer chain alone: cheapest, misses the
				  * caller of a frameless leaf */
	TG_UNWIND_LIBUNWIND = 2, /* DWARF CFI from the signal context: complete stacks,
				  * ~10-40 us per sample */
	TG_UNWIND_HYBRID = 3,    /* checked frame pointers: the frameless leaf's caller
				  * repaired from a verified return address at the stack
				  * pointer, a verified scan past code without frame
				  * pointers, libunwind for what is left (~0.1-0.3% of
				  * stacks); ~1 us per sample */
};

/* The names of the clocks and unwinders (index = enum value), as options
 * and settings spell them; NULL-terminated. */
extern const char *const tg_sample_clock_names[];
extern const char *const tg_unwind_names[];

/* Samples per second per thread when none is asked for: a prime, so the
 * timer does not beat with periodic work. */
#define TG_SAMPLER_DEFAULT_HZ 997
#define TG_SAMPLER_MAX_HZ 100000

#define TG_SAMPLE_MAX_DEPTH 256

/* flags of a sample */
#define TG_SAMPLE_TRUNCATED 1u     /* deeper than max_depth */
#define TG_SAMPLE_UNWIND_FAILED 2u /* the unwinder stopped on an error */
/* bits 16-31 of a sample's flags: the thread's phase then (TG_SAMPLE_PHASE
 * of tg_phase.h) */

struct tg_sampler_opts {
	int hz;              /* samples per second per thread; 0 -> TG_SAMPLER_DEFAULT_HZ */
	int clock;           /* enum tg_sample_clock */
	int unwind;          /* enum tg_unwind_method */
	bool include_idle;   /* wall clock: keep samples of threads that were waiting */
	int max_depth;       /* 0 -> 128, at most TG_SAMPLE_MAX_DEPTH */
	size_t ring_bytes;   /* per thread; 0 -> 1 MiB */
	int drain_ms;        /* how often rings are emptied; 0 -> 10 ms */
	/* hybrid: also unwind every sample with libunwind and count the
	 * samples whose stacks agree (a check of the unwinder, 10-40 us per
	 * sample; TG_SAMPLER_COMPARE_UNWIND=1 in the environment) */
	bool compare_unwinders;
};

struct tg_sample {
	uint64_t t_ns;       /* CLOCK_MONOTONIC */
	int32_t tid;
	int32_t tag;
	uint32_t flags;
	uint32_t depth;
	const uint64_t *pcs; /* leaf first: pcs[0] is the interrupted instruction */
};

struct tg_sampler_stats {
	int requested_hz;
	double achieved_hz;       /* signals handled per thread-second sampled */
	uint64_t samples;         /* stored */
	uint64_t dropped;         /* ring full */
	uint64_t unwind_failures; /* stored with TG_SAMPLE_UNWIND_FAILED */
	uint64_t truncated;
	uint64_t idle_skipped;    /* wall clock: thread was not running */
	int threads;              /* threads ever registered */
	double thread_seconds;    /* registered time summed over threads */
	const char *clock;        /* "wall" / "cpu" */
	const char *unwind;       /* "hybrid" / "libunwind" / "frame-pointers" */
	uint64_t fallbacks;       /* hybrid: stacks libunwind took over */
	uint64_t overruns;        /* ticks merged by the kernel into a pending one */
	uint64_t unwind_compared, unwind_agreed; /* compare_unwinders */
	/* the handler's own cost (unwinding and storing), entry to exit: mean
	 * per sample, and its share of the sampled threads' time; the kernel's
	 * cost of delivering the signal comes on top (see the profiling guide) */
	double handler_us;
	double handler_share;
};

struct tg_sampler;

int tg_sampler_new(const struct tg_sampler_opts *o, struct tg_sampler **out, struct tg_error *err);
/* Installs the SIGPROF handler and starts the drain thread. */
int tg_sampler_start(struct tg_sampler *s, struct tg_error *err);
/* Starts sampling the calling thread, its samples tagged `tag`. */
int tg_sampler_register_thread(struct tg_sampler *s, int32_t tag, struct tg_error *err);
/* The calling (registered) thread's stack base again, from here: for a
 * thread registered before it reached the code it will run (the agent
 * registers the main thread in a constructor, before main). */
void tg_sampler_rebase_thread(struct tg_sampler *s);
/* Changes the calling (registered) thread's tag from now on. */
void tg_sampler_set_tag(struct tg_sampler *s, int32_t tag);
/* Disarms / re-arms the calling (registered) thread's timer: a thread
 * that only waits while others work (the harness around a CPU backend's
 * pool) costs a wake-up per tick otherwise. */
void tg_sampler_pause_thread(struct tg_sampler *s);
void tg_sampler_resume_thread(struct tg_sampler *s);
/* Stops sampling the calling thread. */
void tg_sampler_unregister_thread(struct tg_sampler *s);
/* Disarms every timer, restores SIGPROF and drains the rings. */
int tg_sampler_stop(struct tg_sampler *s, struct tg_error *err);
void tg_sampler_free(struct tg_sampler *s);

size_t tg_sampler_count(const struct tg_sampler *s);
void tg_sampler_get(const struct tg_sampler *s, size_t i, struct tg_sample *out);
void tg_sampler_get_stats(const struct tg_sampler *s, struct tg_sampler_stats *st);

/* Adds every stored sample (stacks deduplicated), the sampled threads,
 * the sample period and the data-quality counters (sampler.*) to c. */
int tg_sampler_export(const struct tg_sampler *s, struct tg_capture *c, struct tg_error *err);

/* The calling thread's stack, leaf first, without this function's frame:
 * libunwind when built in (complete through code without frame pointers,
 * such as the CUDA driver calling back into us), else the frame-pointer
 * chain. For call sites that are not signal handlers (CUPTI callbacks).
 * Returns the depth. */
int tg_sampler_backtrace(uint64_t *pcs, int max);

/* The registers of an interrupted context the unwinders read. */
struct tg_sampler_regs {
	uint64_t ip, sp;
	uint64_t fp; /* frame pointer: %rbp, x29 */
	uint64_t lr; /* link register (x30 on aarch64); 0 where calls push the return address */
};

/* The hybrid unwinder's frame walk (no libunwind fallback) from registers
 * whose stack lies in [stack_lo, stack_hi), with the objects loaded now:
 * what the handler does, callable on a hand-built context. Returns the
 * depth; flags as in a sample. */
int tg_sampler_walk_frames(struct tg_sampler *s, const struct tg_sampler_regs *regs,
			   uintptr_t stack_lo, uintptr_t stack_hi, uint64_t *pcs, int max,
			   uint32_t *flags);

/* What this architecture's sampler can do ("x86-64: checked frame pointers
 * (...)"), for `info`. */
const char *tg_sampler_arch(void);

/* Whether libunwind is built in. */
bool tg_sampler_has_libunwind(void);

#ifdef __cplusplus
}
#endif

#endif
