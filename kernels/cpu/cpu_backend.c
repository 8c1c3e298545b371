/* The C backend: a persistent pool of worker threads that take symbols
 * one at a time from an atomic counter (dynamic scheduling, so uneven
 * series lengths balance), each with its own scratch. The calling thread
 * only waits, so every computing thread is a pool thread the thread hooks
 * see (sampler registration, pinning).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "cpu_internal.h"
#include "tg_machine.h"
#include "tg_nvtx.h"

struct cpu_job {
	const struct tg_cpu_plan *plan;
	const struct tg_batch *batch;
	const struct tg_atc_outputs *out;
	int32_t max_bars;
	enum tg_cpu_simd simd;
	int lanes;              /* symbols per group (1: one at a time) */
};

struct cpu_worker {
	struct cpu_state *st;
	int index;
	pthread_t thread;
	struct tg_cpu_scratch scratch;
	struct tg_cpu_lanes_scratch lanes;
};

struct cpu_state {
	int n_workers;
	struct cpu_worker *workers;
	struct tg_thread_hooks hooks;
	int has_hooks;

	pthread_mutex_t mu;
	pthread_cond_t wake;
	pthread_cond_t done;
	uint64_t generation;
	int busy;
	int stop;

	const struct cpu_job *job;
	atomic_int next_symbol;
	int rc;
	struct tg_error err;

	enum tg_cpu_simd simd; /* chosen at open */
	double *growth; /* g1 and g2, 2 * growth_cap */
	int32_t growth_cap;
};

static void run_job(struct cpu_worker *w, const struct cpu_job *job)
{
	struct cpu_state *st = w->st;
	struct tg_error err;
	tg_error_clear(&err);
	if (tg_cpu_scratch_reserve(&w->scratch, job->max_bars, &err) < 0 ||
	    (job->lanes > 1 &&
	     tg_cpu_lanes_reserve(&w->lanes, job->plan, job->max_bars, &err) < 0)) {
		pthread_mutex_lock(&st->mu);
		if (st->rc == 0) {
			st->rc = err.code;
			st->err = err;
		}
		pthread_mutex_unlock(&st->mu);
		/* Let the other workers take every symbol so none is skipped. */
		return;
	}
	const int32_t S = job->batch->n_symbols;
	const int unit = job->lanes;
	for (;;) {
		int s = atomic_fetch_add_explicit(&st->next_symbol, unit, memory_order_relaxed);
		if (s >= S)
			break;
		const int32_t lanes = S - s < unit ? S - s : unit;
		/* a lone symbol runs faster alone than in an otherwise empty group */
		if (lanes < TG_CPU_GROUP_MIN)
			for (int32_t k = 0; k < lanes; k++)
				tg_cpu_atc_symbol(job->plan, job->batch, s + k, job->out, &w->scratch);
		else
			tg_cpu_group_for(job->simd, lanes)(job->plan, job->batch, s, lanes, job->out,
							   &w->lanes, &w->scratch);
	}
}

static void *worker_main(void *arg)
{
	struct cpu_worker *w = arg;
	struct cpu_state *st = w->st;
	/* named before the hooks run, so profilers see the name */
	char name[16];
	snprintf(name, sizeof(name), "tg-cpu-%d", w->index & 0xffff);
	pthread_setname_np(pthread_self(), name);
	if (st->has_hooks && st->hooks.on_start)
		st->hooks.on_start(st->hooks.ctx, w->index);
	uint64_t seen = 0;
	pthread_mutex_lock(&st->mu);
	for (;;) {
		while (!st->stop && st->generation == seen)
			pthread_cond_wait(&st->wake, &st->mu);
		if (st->stop)
			break;
		seen = st->generation;
		const struct cpu_job *job = st->job;
		pthread_mutex_unlock(&st->mu);
		run_job(w, job);
		pthread_mutex_lock(&st->mu);
		if (--st->busy == 0)
			pthread_cond_signal(&st->done);
	}
	pthread_mutex_unlock(&st->mu);
	if (st->has_hooks && st->hooks.on_stop)
		st->hooks.on_stop(st->hooks.ctx, w->index);
	return NULL;
}

static int cpu_probe(char *reason, size_t cap)
{
	if (cap)
		reason[0] = '\0';
	return 0;
}

static void cpu_close(void *state);

static int cpu_open(const struct tg_backend_config *cfg, void **state, struct tg_error *err)
{
	struct cpu_state *st = calloc(1, sizeof(*st));
	TG_FAIL_IF(!st, err, TG_E_NOMEM, "cpu backend: out of memory");
	int n = cfg && cfg->threads > 0 ? cfg->threads : tg_machine_cpu_count();
	if (cfg && cfg->hooks) {
		st->hooks = *cfg->hooks;
		st->has_hooks = 1;
	}
	st->simd = tg_cpu_simd_choose(NULL);
	pthread_mutex_init(&st->mu, NULL);
	pthread_cond_init(&st->wake, NULL);
	pthread_cond_init(&st->done, NULL);
	st->workers = calloc((size_t)n, sizeof(*st->workers));
	if (!st->workers) {
		cpu_close(st);
		return TG_ERR(err, TG_E_NOMEM, "cpu backend: out of memory for %d workers", n);
	}
	for (int i = 0; i < n; i++) {
		struct cpu_worker *w = &st->workers[i];
		w->st = st;
		w->index = i;
		int rc = pthread_create(&w->thread, NULL, worker_main, w);
		if (rc != 0) {
			cpu_close(st);
			return TG_ERR_SUB(err, TG_E_INVAL, rc,
					  "cpu backend: failed to start worker thread %d of %d: %s", i + 1,
					  n, strerror(rc));
		}
		st->n_workers = i + 1;
	}
	*state = st;
	return 0;
}

static int ensure_growth(struct cpu_state *st, int32_t n, struct tg_error *err)
{
	if (n <= st->growth_cap)
		return 0;
	double *g = malloc(2 * (size_t)n * sizeof(double));
	TG_FAIL_IF(!g, err, TG_E_NOMEM, "cpu backend: out of memory for %d bars", n);
	free(st->growth);
	st->growth = g;
	st->growth_cap = n;
	return 0;
}

static int cpu_run(void *state, const struct tg_atc_params *params, const struct tg_batch *batch,
		   const struct tg_atc_outputs *out, struct tg_backend_timing *timing,
		   struct tg_error *err)
{
	struct cpu_state *st = state;
	if (timing)
		memset(timing, 0, sizeof(*timing));
	TG_FAIL_IF(batch->n_symbols < 0 || batch->stride < 0, err, TG_E_INVAL,
		   "cpu backend: invalid batch shape %d x %d", batch->n_symbols, batch->stride);
	TG_FAIL_IF(!batch->close && batch->n_symbols > 0, err, TG_E_INVAL,
		   "cpu backend: batch has no prices");
	int32_t max_bars = 0;
	for (int32_t s = 0; s < batch->n_symbols; s++) {
		int32_t n = tg_batch_bars(batch, s);
		TG_FAIL_IF(n < 0 || n > batch->stride, err, TG_E_INVAL,
			   "cpu backend: symbol %d has %d bars, outside 0..%d", s, n, batch->stride);
		if (n > max_bars)
			max_bars = n;
	}
	TG_TRY(ensure_growth(st, batch->stride, err));

	const uint32_t color = tg_nvtx_backend_color("cpu");
	tg_nvtx_push_ex("cpu: plan", TG_NVTX_BACKEND, color, -1);
	struct tg_cpu_plan plan;
	tg_cpu_plan_init(&plan, params, st->growth, st->growth + batch->stride, batch->stride);
	tg_nvtx_pop();

	struct cpu_job job = {.plan = &plan, .batch = batch, .out = out, .max_bars = max_bars,
			      .simd = st->simd,
			      .lanes = tg_cpu_group_lanes(st->simd)};
	tg_nvtx_push_ex(params->ma_mode == TG_MA_APPROX ? "cpu: atc approx" : "cpu: atc exact",
			TG_NVTX_BACKEND, color, -1);
	pthread_mutex_lock(&st->mu);
	st->job = &job;
	st->rc = 0;
	tg_error_clear(&st->err);
	atomic_store(&st->next_symbol, 0);
	st->busy = st->n_workers;
	st->generation++;
	pthread_cond_broadcast(&st->wake);
	while (st->busy > 0)
		pthread_cond_wait(&st->done, &st->mu);
	st->job = NULL;
	int rc = st->rc;
	if (rc < 0 && err)
		*err = st->err;
	pthread_mutex_unlock(&st->mu);
	tg_nvtx_pop();
	/* A worker that failed its scratch allocation computed nothing; if all
	 * failed, symbols are missing, so the error stands either way. */
	return rc;
}

static int cpu_threads(void *state)
{
	return ((struct cpu_state *)state)->n_workers;
}

static void cpu_close(void *state)
{
	struct cpu_state *st = state;
	if (!st)
		return;
	pthread_mutex_lock(&st->mu);
	st->stop = 1;
	pthread_cond_broadcast(&st->wake);
	pthread_mutex_unlock(&st->mu);
	for (int i = 0; i < st->n_workers; i++)
		pthread_join(st->workers[i].thread, NULL);
	for (int i = 0; i < st->n_workers; i++) {
		tg_cpu_scratch_fini(&st->workers[i].scratch);
		tg_cpu_lanes_fini(&st->workers[i].lanes);
	}
	free(st->workers);
	free(st->growth);
	pthread_mutex_destroy(&st->mu);
	pthread_cond_destroy(&st->wake);
	pthread_cond_destroy(&st->done);
	free(st);
}

/* What the engine runs with here: the walk TG_CPU_SIMD and the CPU choose
 * (the same choice cpu_open makes). */
static const char *cpu_isa(void)
{
	static _Thread_local char buf[256];
	tg_cpu_isa_describe(buf, sizeof(buf), tg_cpu_simd_choose(NULL),
			    "scalar C, one symbol at a time");
	return buf;
}

const struct tg_backend_ops tg_backend_cpu = {
	.name = "cpu",
	.description = "C11 engine, O(1) per bar per MA, threads over symbols",
	.probe = cpu_probe,
	.open = cpu_open,
	.run = cpu_run,
	.threads = cpu_threads,
	.close = cpu_close,
	.isa = cpu_isa,
};
