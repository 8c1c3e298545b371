#include <stdlib.h>
#include <string.h>

#include "tg_clock.h"
#include "tg_harness.h"
#include "tg_log.h"
#include "tg_mem.h"
#include "tg_nvtx.h"
#include "tg_str.h"

/* Per-repetition series, grown as the stopping rule asks for more. */
struct series {
	double *wall, *kernel, *h2d, *d2h, *total;
	size_t cap; /* of each */
};

static int series_grow(struct series *s, int need)
{
	double **arr[] = {&s->wall, &s->kernel, &s->h2d, &s->d2h, &s->total};
	size_t cap = s->cap;
	for (size_t i = 0; i < sizeof(arr) / sizeof(arr[0]); i++) {
		cap = s->cap;
		double *p = tg_grow_block(*arr[i], &cap, (size_t)need, sizeof(double), 64);
		if (!p)
			return TG_E_NOMEM;
		*arr[i] = p;
	}
	s->cap = cap;
	return 0;
}

static void series_free(struct series *s)
{
	free(s->h2d);
	free(s->d2h);
	free(s->total);
}

static double median_of(const double *v, int n)
{
	struct tg_stats s;
	if (tg_stats_compute(v, n, &s, NULL) < 0)
		return 0.0;
	return s.median;
}

int tg_harness_measure(const struct tg_backend_ops *ops, void *backend,
		       const struct tg_atc_params *params, const struct tg_batch *batch,
		       const struct tg_atc_outputs *out, const struct tg_harness_opts *o,
		       struct tg_state_result *st, struct tg_error *err)
{
	TG_FAIL_IF(o->rule.fixed < 0, err, TG_E_RANGE, "harness: --reps %d: expected at least 1",
		   o->rule.fixed);
	TG_FAIL_IF(o->warmup < 0, err, TG_E_RANGE, "harness: --warmup %d: expected 0 or more",
		   o->warmup);
	struct tg_stopper stop;
	TG_TRY(tg_stopper_init(&stop, &o->rule, err));
	struct series s = {0};
	st->warmup = o->warmup;
	st->bar_mas = tg_batch_bar_mas(batch);
	st->threads = ops->threads ? ops->threads(backend) : 1;
	const char *label = o->label ? o->label : ops->name;
	const int total_hint = o->rule.fixed > 0 ? o->rule.fixed : 0;
	int rc = 0;
	char range[96];
	const uint64_t started = tg_clock_ns();

	for (int w = 0; w < o->warmup && rc == 0; w++) {
		if (o->stop && *o->stop) {
			rc = TG_ERR(err, TG_E_INTERRUPTED, "%s: interrupted during warm-up", label);
			break;
		}
		if (o->progress)
			o->progress(o->progress_ctx, label, 0, total_hint);
		snprintf(range, sizeof(range), "%s warm-up %d", label, w + 1);
		tg_nvtx_push(range);
		struct tg_backend_timing t;
		uint64_t t0 = tg_clock_ns();
		rc = ops->run(backend, params, batch, out, &t, err);
		uint64_t t1 = tg_clock_ns();
		tg_nvtx_pop();
		if (w == 0)
			st->first_run_ns = (double)(t1 - t0);
	}
	int done = 0, reason = TG_STOP_CONTINUE;
	if (rc == 0)
		tg_info("%s: %d warm-up run%s done; measuring", label, o->warmup,
			o->warmup == 1 ? "" : "s");
	while (rc == 0 && reason == TG_STOP_CONTINUE) {
		if (o->stop && *o->stop) {
			rc = TG_ERR(err, TG_E_INTERRUPTED, "%s: interrupted after %d repetitions", label,
				    done);
			break;
		}
		if (series_grow(&s, done + 1) < 0) {
			rc = TG_ERR(err, TG_E_NOMEM, "harness: out of memory after %d repetitions", done);
			break;
		}
		if (o->progress)
			o->progress(o->progress_ctx, label, done, total_hint);
		snprintf(range, sizeof(range), "%s rep %d", label, done + 1);
		struct tg_backend_timing t;
		memset(&t, 0, sizeof(t));
		tg_nvtx_push(range);
		uint64_t t0 = tg_clock_ns();
		rc = ops->run(backend, params, batch, out, &t, err);
		uint64_t t1 = tg_clock_ns();
		tg_nvtx_pop();
		if (rc < 0)
			break;
		if (done == 0 && o->warmup == 0)
			st->first_run_ns = (double)(t1 - t0);
		s.wall[done] = (double)(t1 - t0);
		s.kernel[done] = t.kernel_ns;
		s.h2d[done] = t.h2d_ns;
		s.d2h[done] = t.d2h_ns;
		s.total[done] = t.device_total_ns;
		st->kernel_bytes = t.kernel_bytes;
		st->h2d_bytes = t.h2d_bytes;
		st->d2h_bytes = t.d2h_bytes;
		st->chunks = t.chunks;
		st->pinned = t.pinned != 0;
		tg_strlcpy(st->kernels, t.kernels, sizeof(st->kernels));
		done++;
		reason = tg_stopper_add(&stop, s.wall[done - 1], (double)(tg_clock_ns() - started) * 1e-9);
	}
	if (o->progress)
		o->progress(o->progress_ctx, label, done, total_hint);
	st->samples_ns = s.wall;
	st->kernel_samples_ns = s.kernel;
	st->n_samples = done;
	st->stop_reason = reason == TG_STOP_CONTINUE ? "interrupted" : tg_stop_reason_name(reason);
	st->state_seconds = (double)(tg_clock_ns() - started) * 1e-9;
	tg_info("%s: %d repetition%s in %.3f s, stopped by %s", label, done, done == 1 ? "" : "s",
		st->state_seconds, st->stop_reason);
	int src = tg_stats_compute(st->samples_ns, done, &st->wall, rc < 0 ? NULL : err);
	if (done > 0 && st->kernel_samples_ns[0] > 0) {
		tg_stats_compute(st->kernel_samples_ns, done, &st->kernel, NULL);
		tg_stats_compute(s.total, done, &st->device_total, NULL);
		st->kernel_ns = st->kernel.median;
		st->h2d_ns = median_of(s.h2d, done);
		st->d2h_ns = median_of(s.d2h, done);
	}
	series_free(&s);
	tg_stopper_fini(&stop);
	return rc < 0 ? rc : src;
}
