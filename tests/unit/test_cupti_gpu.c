/* On a GPU (label gpu; exit 77 elsewhere): the CUDA backend under the real
 * CUPTI collector. Kernels and copies must appear, with sane CLOCK_MONOTONIC
 * times inside the run, each correlated to a launch whose CPU stack passes
 * through the backend. Prints what CUPTI did (version, clock method,
 * overhead) for the GPU report. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tg_clock.h"
#include "tg_cupti.h"
#include "tg_sampler.h"
#include "tg_symbolize.h"
#include "tg_test.h"

static const struct tg_backend_ops *ops;
static uint64_t rng = 0x9E3779B97F4A7C15ull;

static int32_t tag_one(void)
{
	return 1;
}

static void test_cuda_under_cupti(void **state)
{
	(void)state;
	const int32_t S = 300, n = 1500;
	double *close = malloc((size_t)S * n * sizeof(double));
	for (int32_t s = 0; s < S; s++) {
		double *w = tg_test_walk(&rng, n, 0, 0);
		memcpy(close + (size_t)s * n, w, (size_t)n * sizeof(double));
		free(w);
	}
	double *avg = malloc((size_t)S * n * sizeof(double));
	struct tg_batch b = {.close = close, .n_symbols = S, .stride = n};
	struct tg_atc_outputs out = {.average = avg};
	struct tg_atc_params p;
	tg_atc_params_default(&p);

	struct tg_cupti_opts co = {.backtrace = tg_sampler_backtrace, .current_tag = tag_one};
	struct tg_cupti *c = NULL;
	struct tg_error err;
	tg_error_clear(&err);
	if (tg_cupti_new(&co, &c, &err) < 0 || tg_cupti_start(c, &err) < 0)
		fail_msg("CUPTI could not trace on a machine where the CUDA backend works: %s", err.msg);
	const uint64_t t0 = tg_clock_ns();
	void *bs = NULL;
	struct tg_backend_config cfg = {.threads = 0, .device = 0};
	assert_int_equal(ops->open(&cfg, &bs, &err), 0);
	struct tg_backend_timing tm;
	for (int rep = 0; rep < 3; rep++) {
		p.ma_mode = rep == 2 ? TG_MA_APPROX : TG_MA_EXACT;
		if (ops->run(bs, &p, &b, &out, &tm, &err) < 0)
			fail_msg("cuda run: %s", err.msg);
	}
	ops->close(bs);
	const uint64_t t1 = tg_clock_ns();
	assert_int_equal(tg_cupti_stop(c, &err), 0);
	struct tg_cupti_stats st;
	tg_cupti_get_stats(c, &st);
	printf("CUPTI %u from %s: clock %s (offset %lld ns, drift %lld ns, +-%llu ns), kinds %s, "
	       "%llu records (%llu kernels, %llu copies, %llu API calls, %llu syncs, %llu overhead), "
	       "dropped %llu, refused buffers %llu, launches %llu with %llu distinct stacks\n",
	       st.version, st.library, st.clock, (long long)st.clock_offset_ns,
	       (long long)st.clock_drift_ns, (unsigned long long)st.clock_uncertainty_ns, st.kinds,
	       (unsigned long long)st.records, (unsigned long long)st.kernels,
	       (unsigned long long)st.memcpys, (unsigned long long)st.api_calls,
	       (unsigned long long)st.syncs, (unsigned long long)st.overheads,
	       (unsigned long long)st.dropped, (unsigned long long)st.buffers_refused,
	       (unsigned long long)st.launches, (unsigned long long)st.stacks);
	struct tg_capture *cap = tg_capture_new();
	cap->pid = (uint32_t)getpid();
	assert_int_equal(tg_cupti_export(c, cap, &err), 0);
	tg_cupti_free(c);
	tg_capture_sort(cap);

	struct tg_symbolizer *sym;
	assert_int_equal(tg_symbolizer_new(NULL, &sym, &err), 0);
	uint64_t kernels = 0, h2d = 0, d2h = 0, kernel_ns = 0, attributed = 0;
	const uint64_t slack = 2000000; /* the offset method's worst case, generously */
	for (size_t i = 0; i < cap->n_events; i++) {
		const struct tg_event *e = &cap->events[i];
		if (e->kind != TG_EV_KERNEL && e->kind != TG_EV_MEMCPY)
			continue;
		assert_true(e->end_ns > e->start_ns);
		if (e->start_ns + slack < t0 || e->end_ns > t1 + slack)
			fail_msg("%s at [%llu, %llu] outside the run [%llu, %llu]",
				 tg_capture_string(cap, e->name), (unsigned long long)e->start_ns,
				 (unsigned long long)e->end_ns, (unsigned long long)t0,
				 (unsigned long long)t1);
		if (e->kind == TG_EV_KERNEL) {
			kernels++;
			kernel_ns += e->end_ns - e->start_ns;
		} else if (e->sub == TG_COPY_HTOD) {
			h2d++;
		} else if (e->sub == TG_COPY_DTOH) {
			d2h++;
		}
		const struct tg_launch *l = tg_capture_find_launch(cap, e->correlation);
		if (!l)
			fail_msg("%s (correlation %u) has no launch record", tg_capture_string(cap, e->name),
				 e->correlation);
		assert_int_equal(l->tag, 1);
		uint32_t depth = 0;
		const uint64_t *pcs = tg_capture_stack(cap, l->stack, &depth);
		bool through_backend = false;
		for (uint32_t k = 0; k < depth; k++) {
			struct tg_symbol s;
			tg_symbolize(sym, pcs[k], k > 0, &s);
			through_backend |= strstr(s.function, "cuda_run") != NULL ||
					   strstr(s.function, "run_chunk") != NULL;
		}
		attributed += through_backend;
	}
	printf("%llu kernels (%.3f ms of kernel time), %llu HtoD and %llu DtoH copies, %llu of them "
	       "attributed to the backend's stack; run %.3f ms\n",
	       (unsigned long long)kernels, (double)kernel_ns * 1e-6, (unsigned long long)h2d,
	       (unsigned long long)d2h, (unsigned long long)attributed, (double)(t1 - t0) * 1e-6);
	assert_true(kernels >= 3);
	assert_true(h2d >= 3);
	assert_true(d2h >= 3);
	assert_true(kernel_ns < t1 - t0);
	assert_int_equal(attributed, kernels + h2d + d2h);
	/* the runtime calls that launched them are in the capture too */
	uint64_t launches_api = 0;
	for (size_t i = 0; i < cap->n_events; i++)
		if (cap->events[i].kind == TG_EV_RUNTIME &&
		    strstr(tg_capture_string(cap, cap->events[i].name), "Launch"))
			launches_api++;
	assert_true(launches_api >= kernels);
	tg_symbolizer_free(sym);
	tg_capture_free(cap);
	free(close);
	free(avg);
}

int main(void)
{
	ops = tg_test_backend_or_skip("cuda");
	if (!ops)
		return 77;
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_cuda_under_cupti)};
	return cmocka_run_group_tests_name("cupti_gpu", tests, NULL, NULL);
}
