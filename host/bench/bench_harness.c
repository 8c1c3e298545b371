#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "tg_clock.h"
#include "tg_harness.h"
#include "tg_phase.h"
#include "tg_log.h"
#include "tg_mem.h"
#include "tg_nvtx.h"
#include "tg_str.h"

static double median_of(const double *v, int n)
{
	struct tg_stats s;
	if (tg_stats_compute(v, n, &s, NULL) < 0)
		return 0.0;
	return s.median;
}

/* CPU time of the whole process (every thread), user + system. */
static uint64_t cpu_ns(void)
{
	struct rusage ru;
	if (getrusage(RUSAGE_SELF, &ru) != 0)
		return 0;
	return ((uint64_t)ru.ru_utime.tv_sec + (uint64_t)ru.ru_stime.tv_sec) * 1000000000ull +
	       ((uint64_t)ru.ru_utime.tv_usec + (uint64_t)ru.ru_stime.tv_usec) * 1000ull;
}

/* Room for one more repetition in every per-repetition series. */
static int grow(struct tg_measure *m)
{
	double **dv[] = {&m->wall, &m->kernel, &m->h2d, &m->d2h, &m->total, &m->cpu, &m->start_s, &m->own};
	size_t cap = m->cap;
	for (size_t i = 0; i < sizeof(dv) / sizeof(dv[0]); i++) {
		cap = m->cap;
		double *p = tg_grow_block(*dv[i], &cap, (size_t)m->done + 1, sizeof(double), 64);
		if (!p)
			return TG_E_NOMEM;
		*dv[i] = p;
	}
	cap = m->cap;
	int32_t *r = tg_grow_block(m->round, &cap, (size_t)m->done + 1, sizeof(*r), 64);
	if (!r)
		return TG_E_NOMEM;
	m->round = r;
	m->cap = cap;
	return 0;
}

int tg_measure_init(struct tg_measure *m, const struct tg_backend_ops *ops, void *backend,
		    const struct tg_atc_params *params, const struct tg_batch *batch,
		    const struct tg_atc_outputs *out, const struct tg_stop_rule *rule,
		    const char *label, struct tg_state_result *st, struct tg_error *err)
{
	memset(m, 0, sizeof(*m));
	TG_FAIL_IF(rule->fixed < 0, err, TG_E_RANGE, "harness: --reps %d: expected at least 1",
		   rule->fixed);
	TG_TRY(tg_stopper_init(&m->stop, rule, err));
	m->ops = ops;
	m->backend = backend;
	m->params = *params;
	m->batch = *batch;
	m->out = *out;
	m->st = st;
	m->clock_ns = tg_clock_ns;
	tg_strlcpy(m->label, label ? label : ops->name, sizeof(m->label));
	m->reason = TG_STOP_CONTINUE;
	st->bars = tg_batch_total_bars(batch);
	st->mas_per_bar = tg_atc_mas_per_bar(params->ma_mode);
	st->bar_mas = st->bars * st->mas_per_bar;
	st->threads = ops->threads ? ops->threads(backend) : 1;
	if (ops->isa)
		tg_strlcpy(st->isa, ops->isa(), sizeof(st->isa));
	return 0;
}

int tg_measure_warmup(struct tg_measure *m, int warmup, const volatile sig_atomic_t *stop,
		      struct tg_error *err)
{
	TG_FAIL_IF(warmup < 0, err, TG_E_RANGE, "harness: --warmup %d: expected 0 or more", warmup);
	m->st->warmup = warmup;
	m->started_ns = m->clock_ns();
	for (int w = 0; w < warmup; w++) {
		TG_FAIL_IF(stop && *stop, err, TG_E_INTERRUPTED, "%s: interrupted during warm-up",
			   m->label);
		/* stable names: the number is the payload, the kind the category */
		tg_nvtx_push_ex(m->label, TG_NVTX_WARMUP, tg_nvtx_backend_color(m->label), w + 1);
		tg_phase_new_repetition(true);
		struct tg_backend_timing t;
		const uint64_t t0 = m->clock_ns();
		const int rc = m->ops->run(m->backend, &m->params, &m->batch, &m->out, &t, err);
		const uint64_t t1 = m->clock_ns();
		tg_nvtx_pop();
		TG_TRY(rc);
		if (w == 0)
			m->st->first_run_ns = (double)(t1 - t0);
	}
	tg_info("%s: %d warm-up run%s done; measuring", m->label, warmup, warmup == 1 ? "" : "s");
	return 0;
}

int tg_measure_rep(struct tg_measure *m, int round, double since_s, double elapsed_s,
		   struct tg_error *err)
{
	TG_FAIL_IF(grow(m) < 0, err, TG_E_NOMEM, "harness: out of memory after %d repetitions",
		   m->done);
	struct tg_backend_timing t;
	memset(&t, 0, sizeof(t));
	tg_nvtx_push_ex(m->label, TG_NVTX_STATE, tg_nvtx_backend_color(m->label), m->done + 1);
	tg_phase_new_repetition(m->done < TG_PHASE_RANGE_REPS);
	const uint64_t c0 = cpu_ns(), t0 = m->clock_ns();
	const int rc = m->ops->run(m->backend, &m->params, &m->batch, &m->out, &t, err);
	uint64_t t1 = m->clock_ns();
	if (m->slowdown > 0 && rc == 0) {
		const uint64_t until = t1 + (uint64_t)(m->slowdown * (double)(t1 - t0));
		while ((t1 = m->clock_ns()) < until)
			;
	}
	const uint64_t c1 = cpu_ns();
	tg_nvtx_pop();
	const int i = m->done;
	double wall = (double)(t1 - t0);
	m->own[i] = wall;
	TG_TRY(m->combine ? m->combine(m->combine_ctx, rc, &wall, err) : rc);
	struct tg_state_result *st = m->st;
	if (i == 0 && st->warmup == 0)
		st->first_run_ns = wall;
	m->wall[i] = wall;
	m->kernel[i] = t.kernel_ns;
	m->h2d[i] = t.h2d_ns;
	m->d2h[i] = t.d2h_ns;
	m->total[i] = t.device_total_ns;
	m->cpu[i] = (double)(c1 - c0);
	m->start_s[i] = since_s;
	m->round[i] = round;
	st->kernel_bytes = t.kernel_bytes;
	st->h2d_bytes = t.h2d_bytes;
	st->d2h_bytes = t.d2h_bytes;
	st->chunks = t.chunks;
	st->pinned = t.pinned != 0;
	tg_strlcpy(st->kernels, t.kernels, sizeof(st->kernels));
	m->done++;
	m->reason = tg_stopper_add(&m->stop, m->wall[i], elapsed_s);
	return 0;
}

static void free_series(struct tg_measure *m)
{
	free(m->h2d);
	free(m->d2h);
	free(m->total);
	free(m->own);
	tg_stopper_fini(&m->stop);
}

void tg_measure_finish(struct tg_measure *m, const char *stop_reason, double state_seconds)
{
	struct tg_state_result *st = m->st;
	const int done = m->done;
	st->samples_ns = m->wall;
	st->kernel_samples_ns = m->kernel;
	st->cpu_samples_ns = m->cpu;
	st->sample_start_s = m->start_s;
	st->sample_round = m->round;
	st->n_samples = done;
	st->stop_reason = stop_reason;
	st->state_seconds = state_seconds;
	tg_info("%s: %d repetition%s in %.3f s, stopped by %s", m->label, done,
		done == 1 ? "" : "s", state_seconds, stop_reason);
	tg_stats_compute(st->samples_ns, done, &st->wall, NULL);
	if (done > 0)
		tg_stats_compute(st->cpu_samples_ns, done, &st->cpu, NULL);
	if (done > 0 && st->kernel_samples_ns[0] > 0) {
		tg_stats_compute(st->kernel_samples_ns, done, &st->kernel, NULL);
		tg_stats_compute(m->total, done, &st->device_total, NULL);
		st->kernel_ns = st->kernel.median;
		st->h2d_ns = median_of(m->h2d, done);
		st->d2h_ns = median_of(m->d2h, done);
	}
	st->own_median_ns = done > 0 ? median_of(m->own, done) : 0;
	free_series(m);
	memset(m, 0, sizeof(*m));
}

void tg_measure_abandon(struct tg_measure *m)
{
	free(m->wall);
	free(m->kernel);
	free(m->cpu);
	free(m->start_s);
	free(m->round);
	free_series(m);
	memset(m, 0, sizeof(*m));
}

int tg_harness_measure(const struct tg_backend_ops *ops, void *backend,
		       const struct tg_atc_params *params, const struct tg_batch *batch,
		       const struct tg_atc_outputs *out, const struct tg_harness_opts *o,
		       struct tg_state_result *st, struct tg_error *err)
{
	struct tg_measure m;
	TG_TRY(tg_measure_init(&m, ops, backend, params, batch, out, &o->rule, o->label, st, err));
	const int total_hint = o->rule.fixed > 0 ? o->rule.fixed : 0;
	if (o->progress)
		o->progress(o->progress_ctx, m.label, 0, total_hint);
	int rc = tg_measure_warmup(&m, o->warmup, o->stop, err);
	const uint64_t measuring = m.clock_ns();
	while (rc == 0 && m.reason == TG_STOP_CONTINUE) {
		if (o->stop && *o->stop) {
			rc = TG_ERR(err, TG_E_INTERRUPTED, "%s: interrupted after %d repetitions",
				    m.label, m.done);
			break;
		}
		if (o->progress)
			o->progress(o->progress_ctx, m.label, m.done, total_hint);
		const uint64_t now = m.clock_ns();
		rc = tg_measure_rep(&m, m.done, (double)(now - measuring) * 1e-9,
				    (double)(now - m.started_ns) * 1e-9, err);
	}
	if (o->progress)
		o->progress(o->progress_ctx, m.label, m.done, total_hint);
	const char *reason =
		m.reason == TG_STOP_CONTINUE ? "interrupted" : tg_stop_reason_name(m.reason);
	const double seconds = (double)(m.clock_ns() - m.started_ns) * 1e-9;
	tg_measure_finish(&m, reason, seconds);
	return rc;
}
