/* Timing a backend on a batch: warm-up runs, then timed repetitions of
 * wall time around the backend's run (the "end-to-end, host wall" timing
 * contract: everything the caller waits for, copies included) until the
 * stopping rule is satisfied (tg_stats.h): a fixed count, or enough
 * samples and time with low noise, settled noise, or the time budget.
 */
#ifndef TG_HARNESS_H
#define TG_HARNESS_H

#include <signal.h>

#include "tg_kernels.h"
#include "tg_results.h"

#ifdef __cplusplus
extern "C" {
#endif

struct tg_harness_opts {
	int warmup;   /* untimed runs first; the first one is timed as "cold" */
	struct tg_stop_rule rule; /* rule.fixed > 0: exactly that many repetitions */
	/* When it becomes non-zero (SIGINT) the harness stops after the run in
	 * flight and returns TG_E_INTERRUPTED with what it measured. */
	const volatile sig_atomic_t *stop;
	/* Called before each run; done counts timed repetitions finished, total
	 * is the fixed count or 0 when the stopping rule decides. */
	void (*progress)(void *ctx, const char *label, int done, int total);
	void *progress_ctx;
	const char *label;  /* "cpu exact" */
};

int tg_harness_measure(const struct tg_backend_ops *ops, void *backend,
		       const struct tg_atc_params *params, const struct tg_batch *batch,
		       const struct tg_atc_outputs *out, const struct tg_harness_opts *o,
		       struct tg_state_result *state, struct tg_error *err);

/* The host's copy bandwidth, measured now: `threads` threads each
 * memcpy a slice of two `bytes` buffers (first touched beforehand); best of
 * 5 after a warm-up, bytes read + written per second. The roof of the CPU
 * backends' memory traffic. */
int tg_host_copy_bandwidth(int threads, size_t bytes, double *bytes_per_s, char *what, size_t cap,
			   struct tg_error *err);

#ifdef __cplusplus
}
#endif

#endif
