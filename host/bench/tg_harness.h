/* Timing a backend on a batch: warm-up runs, then timed repetitions of
 * wall time around the backend's run (the "end-to-end, host wall" timing
 * contract: everything the caller waits for, copies included) until the
 * stopping rule is satisfied (tg_stats.h): a fixed count, or enough
 * samples and time with low noise, settled noise, or the time budget.
 *
 * Two ways: tg_harness_measure does one state start to end; struct
 * tg_measure does it a repetition at a time, so that a caller can
 * interleave the repetitions of several states (host/run does).
 */
#ifndef TG_HARNESS_H
#define TG_HARNESS_H

#include <signal.h>
#include <stdbool.h>

#include "tg_kernels.h"
#include "tg_results.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- one repetition at a time ---------------------------------------------- */

struct tg_measure {
	/* set by tg_measure_init */
	const struct tg_backend_ops *ops;
	void *backend;
	struct tg_atc_params params;
	struct tg_batch batch;
	struct tg_atc_outputs out;
	char label[48];
	struct tg_state_result *st;
	uint64_t (*clock_ns)(void); /* the wall clock (tests replace it) */
	/* > 0: each run is made this much slower on purpose (0.15: 15%), by
	 * spinning inside the timed region (TG_INJECT_SLOWDOWN: testing that
	 * a regression is caught) */
	double slowdown;
	/* a run split across ranks (NULL: one process): called after every
	 * timed run with its status and wall time, before anything is kept; it
	 * replaces *wall_ns by the repetition's time over every rank (the
	 * slowest) and returns < 0 when the run failed on any rank (err says
	 * where). This rank's own times are kept in own[]. */
	int (*combine)(void *ctx, int rc, double *wall_ns, struct tg_error *err);
	void *combine_ctx;
	/* kept */
	struct tg_stopper stop;
	double *wall, *kernel, *h2d, *d2h, *total, *cpu, *start_s, *own;
	int32_t *round;
	size_t cap;
	uint64_t started_ns; /* first warm-up run */
	int done;            /* timed repetitions */
	int reason;          /* the stopping rule's verdict after the last one */
};

/* A state to measure: st (zeroed by the caller) receives the results. */
int tg_measure_init(struct tg_measure *m, const struct tg_backend_ops *ops, void *backend,
		    const struct tg_atc_params *params, const struct tg_batch *batch,
		    const struct tg_atc_outputs *out, const struct tg_stop_rule *rule,
		    const char *label, struct tg_state_result *st, struct tg_error *err);
/* warmup untimed runs (the first one timed as the cold run); stop as in
 * struct tg_harness_opts. */
int tg_measure_warmup(struct tg_measure *m, int warmup, const volatile sig_atomic_t *stop,
		      struct tg_error *err);
/* One timed repetition, of round `round`, started `since_s` seconds after
 * measuring began; the stopping rule's verdict goes to m->reason (judged
 * on elapsed_s, the time the caller has spent on the state). */
int tg_measure_rep(struct tg_measure *m, int round, double since_s, double elapsed_s,
		   struct tg_error *err);
/* The statistics into st (stop_reason as given: tg_stop_reason_name or
 * "interrupted"); frees what m holds. */
void tg_measure_finish(struct tg_measure *m, const char *stop_reason, double state_seconds);
/* Frees what m holds without results (a state that failed before). */
void tg_measure_abandon(struct tg_measure *m);

/* ---- one state start to end -------------------------------------------------- */

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
