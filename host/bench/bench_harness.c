#include <stdlib.h>
#include <string.h>

#include "tg_clock.h"
#include "tg_harness.h"
#include "tg_nvtx.h"

static double median_of(double *v, int n, struct tg_error *err)
{
	struct tg_stats s;
	if (tg_stats_compute(v, n, &s, err) < 0)
		return 0.0;
	return s.median;
}

int tg_harness_measure(const struct tg_backend_ops *ops, void *backend,
		       const struct tg_atc_params *params, const struct tg_batch *batch,
		       const struct tg_atc_outputs *out, const struct tg_harness_opts *o,
		       struct tg_state_result *st, struct tg_error *err)
{
	TG_FAIL_IF(o->reps < 1, err, TG_E_RANGE, "harness: --reps %d: expected at least 1", o->reps);
	TG_FAIL_IF(o->warmup < 0, err, TG_E_RANGE, "harness: --warmup %d: expected 0 or more",
		   o->warmup);
	st->samples_ns = calloc((size_t)o->reps, sizeof(double));
	st->kernel_samples_ns = calloc((size_t)o->reps, sizeof(double));
	/* per repetition: h2d, d2h, device total */
	double *dev = calloc(3 * (size_t)o->reps, sizeof(double));
	if (!st->samples_ns || !st->kernel_samples_ns || !dev) {
		free(dev);
		return TG_ERR(err, TG_E_NOMEM, "harness: out of memory for %d repetitions", o->reps);
	}
	st->warmup = o->warmup;
	st->bar_mas = tg_batch_bar_mas(batch);
	st->threads = ops->threads ? ops->threads(backend) : 1;
	const char *label = o->label ? o->label : ops->name;
	int rc = 0;
	char range[96];

	for (int w = 0; w < o->warmup && rc == 0; w++) {
		if (o->stop && *o->stop) {
			rc = TG_ERR(err, TG_E_INTERRUPTED, "%s: interrupted during warm-up", label);
			break;
		}
		if (o->progress)
			o->progress(o->progress_ctx, label, 0, o->reps);
		snprintf(range, sizeof(range), "%s warm-up %d", label, w + 1);
		tg_nvtx_push(range);
		struct tg_backend_timing t;
		rc = ops->run(backend, params, batch, out, &t, err);
		tg_nvtx_pop();
	}
	int done = 0;
	for (int r = 0; r < o->reps && rc == 0; r++) {
		if (o->stop && *o->stop) {
			rc = TG_ERR(err, TG_E_INTERRUPTED, "%s: interrupted after %d of %d repetitions",
				    label, done, o->reps);
			break;
		}
		if (o->progress)
			o->progress(o->progress_ctx, label, done, o->reps);
		snprintf(range, sizeof(range), "%s rep %d", label, r + 1);
		struct tg_backend_timing t;
		memset(&t, 0, sizeof(t));
		tg_nvtx_push(range);
		uint64_t t0 = tg_clock_ns();
		rc = ops->run(backend, params, batch, out, &t, err);
		uint64_t t1 = tg_clock_ns();
		tg_nvtx_pop();
		if (rc < 0)
			break;
		st->samples_ns[done] = (double)(t1 - t0);
		st->kernel_samples_ns[done] = t.kernel_ns;
		dev[done] = t.h2d_ns;
		dev[o->reps + done] = t.d2h_ns;
		dev[2 * o->reps + done] = t.device_total_ns;
		st->kernel_bytes = t.kernel_bytes;
		st->h2d_bytes = t.h2d_bytes;
		st->d2h_bytes = t.d2h_bytes;
		st->chunks = t.chunks;
		st->pinned = t.pinned != 0;
		done++;
	}
	if (o->progress)
		o->progress(o->progress_ctx, label, done, o->reps);
	st->n_samples = done;
	int src = tg_stats_compute(st->samples_ns, done, &st->wall, rc < 0 ? NULL : err);
	if (done > 0 && st->kernel_samples_ns[0] > 0) {
		tg_stats_compute(st->kernel_samples_ns, done, &st->kernel, NULL);
		tg_stats_compute(dev + 2 * o->reps, done, &st->device_total, NULL);
		st->kernel_ns = st->kernel.median;
		st->h2d_ns = median_of(dev, done, NULL);
		st->d2h_ns = median_of(dev + o->reps, done, NULL);
	}
	free(dev);
	return rc < 0 ? rc : src;
}
