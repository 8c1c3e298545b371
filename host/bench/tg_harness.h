/* Timing a backend on a batch: warm-up runs, then timed repetitions of
 * wall time around the backend's run (the "end-to-end, host wall" timing
 * contract: everything the caller waits for, copies included).
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
	int warmup;   /* untimed runs first */
	int reps;     /* timed repetitions, >= 1 */
	/* When it becomes non-zero (SIGINT) the harness stops after the run in
	 * flight and returns TG_E_INTERRUPTED with what it measured. */
	const volatile sig_atomic_t *stop;
	/* Called before each run; done counts timed repetitions finished. */
	void (*progress)(void *ctx, const char *label, int done, int total);
	void *progress_ctx;
	const char *label;  /* "cpu exact" */
};

int tg_harness_measure(const struct tg_backend_ops *ops, void *backend,
		       const struct tg_atc_params *params, const struct tg_batch *batch,
		       const struct tg_atc_outputs *out, const struct tg_harness_opts *o,
		       struct tg_state_result *state, struct tg_error *err);

#ifdef __cplusplus
}
#endif

#endif
