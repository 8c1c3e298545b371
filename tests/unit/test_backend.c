/* The backend contract, for any backend (argv[1], default cpu; exit 77
 * when it is not usable here): a batch equals its symbols run alone,
 * results do not depend on the thread count, rows past a symbol's bars are
 * NaN, outputs are optional, approx fills all nine slots, bad batches are
 * rejected with a message, thread hooks are called in pairs. */
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tg_atc_math.h"
#include "tg_test.h"

static const char *backend_name = "cpu";
static const struct tg_backend_ops *ops;

static uint64_t rng_state = 0x2545F4914F6CDD1Dull;

static double *walk(int32_t n, int with_nan, int with_flat)
{
	return tg_test_walk(&rng_state, n, with_nan, with_flat);
}

static atomic_int hook_starts, hook_stops;

static void on_start(void *ctx, int worker)
{
	assert_ptr_equal(ctx, &hook_starts);
	assert_true(worker >= 0);
	atomic_fetch_add(&hook_starts, 1);
}

static void on_stop(void *ctx, int worker)
{
	(void)ctx;
	(void)worker;
	atomic_fetch_add(&hook_stops, 1);
}

static void run_batch(int threads, const struct tg_atc_params *p, const struct tg_batch *b,
		      const struct tg_atc_outputs *o)
{
	struct tg_thread_hooks hooks = {on_start, on_stop, &hook_starts};
	struct tg_backend_config cfg = {.threads = threads, .device = 0, .hooks = &hooks};
	void *st;
	struct tg_error err;
	tg_error_clear(&err);
	atomic_store(&hook_starts, 0);
	atomic_store(&hook_stops, 0);
	if (ops->open(&cfg, &st, &err) < 0)
		fail_msg("%s", err.msg);
	/* CPU backends use the threads asked for; a GPU backend has none */
	int workers = ops->threads(st);
	assert_true(workers == threads || workers == 0);
	struct tg_backend_timing t;
	if (ops->run(st, p, b, o, &t, &err) < 0)
		fail_msg("%s", err.msg);
	ops->close(st);
	/* every worker that started also stopped */
	if (workers > 0)
		assert_true(atomic_load(&hook_starts) >= 1);
	assert_int_equal(atomic_load(&hook_starts), atomic_load(&hook_stops));
}

static void test_batch_matches_single_symbols(void **state)
{
	(void)state;
	const int32_t S = 7, stride = 900;
	const int32_t bars[7] = {900, 120, 500, 899, 34, 700, 640};
	double *close = malloc((size_t)S * stride * sizeof(double));
	for (int32_t s = 0; s < S; s++) {
		double *w = walk(stride, s == 2, s == 3);
		memcpy(close + (size_t)s * stride, w, (size_t)stride * sizeof(double));
		free(w);
	}
	struct tg_atc_params p;
	tg_atc_params_default(&p);
	for (int mode = 0; mode < 2; mode++) {
		p.ma_mode = mode;
		double *avg1 = malloc((size_t)S * stride * sizeof(double));
		double *avg4 = malloc((size_t)S * stride * sizeof(double));
		double *l1 = malloc(6 * (size_t)S * stride * sizeof(double));
		int8_t fin[7];
		double fv[7] = {0};
		struct tg_batch b = {.close = close, .n_bars = bars, .n_symbols = S, .stride = stride};
		struct tg_atc_outputs o1 = {.average = avg1, .final_signal = fin, .final_value = fv,
					    .l1_signal = l1};
		run_batch(1, &p, &b, &o1);
		struct tg_atc_outputs o4 = {.average = avg4};
		run_batch(4, &p, &b, &o4);
		assert_memory_equal(avg1, avg4, (size_t)S * stride * sizeof(double));
		for (int32_t s = 0; s < S; s++) {
			/* alone, in a batch of one with its own length */
			double *one = malloc((size_t)bars[s] * sizeof(double));
			struct tg_batch b1 = {.close = close + (size_t)s * stride, .n_bars = NULL,
					      .n_symbols = 1, .stride = bars[s]};
			struct tg_atc_outputs os = {.average = one};
			run_batch(1, &p, &b1, &os);
			assert_memory_equal(one, avg1 + (size_t)s * stride, (size_t)bars[s] * sizeof(double));
			for (int32_t i = bars[s]; i < stride; i++) {
				assert_true(isnan(avg1[(size_t)s * stride + i]));
				assert_true(isnan(l1[(size_t)(5 * S + s) * stride + i]));
			}
			assert_true(fv[s] == one[bars[s] - 1]);
			assert_int_equal(fin[s], tg_final_signal(fv[s], p.min_signal));
			free(one);
		}
		free(avg1);
		free(avg4);
		free(l1);
	}
	free(close);
}

static void test_batch_errors_and_empty(void **state)
{
	(void)state;
	struct tg_atc_params p;
	tg_atc_params_default(&p);
	double close[100];
	for (int i = 0; i < 100; i++)
		close[i] = 100 + i;
	int32_t bad_bars[1] = {101};
	struct tg_batch b = {.close = close, .n_bars = bad_bars, .n_symbols = 1, .stride = 100};
	struct tg_atc_outputs o = {0};
	struct tg_backend_config cfg = {.threads = 2, .device = 0, .hooks = NULL};
	void *st;
	struct tg_error err;
	assert_int_equal(ops->open(&cfg, &st, &err), 0);
	struct tg_backend_timing t;
	assert_int_equal(ops->run(st, &p, &b, &o, &t, &err), TG_E_INVAL);
	if (!strstr(err.msg, "symbol 0 has 101 bars"))
		fail_msg("unexpected message: %s", err.msg);
	/* an empty batch is fine, and outputs may all be NULL */
	b.n_symbols = 0;
	assert_int_equal(ops->run(st, &p, &b, &o, &t, &err), 0);
	b.n_symbols = 1;
	b.n_bars = NULL;
	assert_int_equal(ops->run(st, &p, &b, &o, &t, &err), 0);
	/* a symbol without bars: NaN rows, no final signal */
	int32_t zero[2] = {0, 100};
	double avg[200] = {0};
	int8_t fin[2] = {5, 5};
	struct tg_atc_outputs o2 = {.average = avg, .final_signal = fin};
	struct tg_batch b2 = {.close = close, .n_bars = zero, .n_symbols = 2, .stride = 100};
	double two[200];
	memcpy(two, close, sizeof(close));
	memcpy(two + 100, close, sizeof(close));
	b2.close = two;
	assert_int_equal(ops->run(st, &p, &b2, &o2, &t, &err), 0);
	assert_true(isnan(avg[0]) && isnan(avg[99]) && !isnan(avg[150]));
	assert_int_equal(fin[0], 0);
	ops->close(st);
}

static void test_approx_replicates_slots(void **state)
{
	(void)state;
	const int32_t n = 300;
	double *p = walk(n, 0, 0);
	double *sm = malloc(54 * (size_t)n * sizeof(double)), *se = malloc(54 * (size_t)n * sizeof(double));
	int8_t *ss = malloc(54 * (size_t)n);
	double *l1 = malloc(6 * (size_t)n * sizeof(double));
	struct tg_atc_params prm;
	tg_atc_params_default(&prm);
	prm.ma_mode = TG_MA_APPROX;
	struct tg_batch b = {.close = p, .n_bars = NULL, .n_symbols = 1, .stride = n};
	struct tg_atc_outputs o = {.slot_ma = sm, .slot_equity = se, .slot_signal = ss, .l1_signal = l1};
	run_batch(1, &prm, &b, &o);
	for (int f = 0; f < 6; f++) {
		for (int k = 1; k < 9; k++) {
			assert_memory_equal(sm + (size_t)(f * 9 + k) * n, sm + (size_t)(f * 9) * n,
					    (size_t)n * sizeof(double));
			assert_memory_equal(se + (size_t)(f * 9 + k) * n, se + (size_t)(f * 9) * n,
					    (size_t)n * sizeof(double));
			assert_memory_equal(ss + (size_t)(f * 9 + k) * n, ss + (size_t)(f * 9) * n, (size_t)n);
		}
		/* the Layer-1 signal is that one MA's crossover state */
		for (int32_t i = 0; i < n; i++)
			assert_true(l1[(size_t)f * n + i] == (double)ss[(size_t)(f * 9) * n + i]);
	}
	free(p);
	free(sm);
	free(se);
	free(ss);
	free(l1);
}

/* The per-slot outputs asked for one at a time (the accuracy pass wants the
 * MAs alone) hold what they hold when asked for together, in both modes,
 * over two uneven symbols with NaN gaps. */
static void test_slot_outputs_one_at_a_time(void **state)
{
	(void)state;
	const int32_t n = 400, S = 2;
	const size_t cells = (size_t)S * n * 54;
	double *p = malloc((size_t)S * n * sizeof(double));
	for (int32_t s = 0; s < S; s++) {
		double *w = walk(n, s == 1, 0);
		memcpy(p + (size_t)s * n, w, (size_t)n * sizeof(double));
		free(w);
	}
	const int32_t bars[2] = {n, n - 37};
	double *sm = malloc(cells * sizeof(double)), *se = malloc(cells * sizeof(double));
	double *one = malloc(cells * sizeof(double));
	int8_t *ss = malloc(cells), *one8 = malloc(cells);
	for (int mode = 0; mode < 2; mode++) {
		struct tg_atc_params prm;
		tg_atc_params_default(&prm);
		prm.ma_mode = mode ? TG_MA_APPROX : TG_MA_EXACT;
		struct tg_batch b = {.close = p, .n_bars = bars, .n_symbols = S, .stride = n};
		struct tg_atc_outputs all = {.slot_ma = sm, .slot_equity = se, .slot_signal = ss};
		run_batch(1, &prm, &b, &all);
		struct tg_atc_outputs o_ma = {.slot_ma = one};
		run_batch(1, &prm, &b, &o_ma);
		assert_memory_equal(one, sm, cells * sizeof(double));
		struct tg_atc_outputs o_eq = {.slot_equity = one};
		run_batch(1, &prm, &b, &o_eq);
		assert_memory_equal(one, se, cells * sizeof(double));
		struct tg_atc_outputs o_sig = {.slot_signal = one8};
		run_batch(1, &prm, &b, &o_sig);
		assert_memory_equal(one8, ss, cells);
	}
	free(p);
	free(sm);
	free(se);
	free(one);
	free(ss);
	free(one8);
}

static void test_agrees_with_cpu(void **state)
{
	(void)state;
	/* every backend computes the same bits as the C engine, over uneven
	 * series with NaN gaps and flat stretches */
	const int32_t S = 11, n = 1000;
	double *close = malloc((size_t)S * n * sizeof(double));
	for (int32_t s = 0; s < S; s++) {
		double *w = walk(n, s % 3 == 1, s % 3 == 2);
		memcpy(close + (size_t)s * n, w, (size_t)n * sizeof(double));
		free(w);
	}
	struct tg_atc_params p;
	tg_atc_params_default(&p);
	p.cutout = 50;
	p.robustness = TG_ROBUST_WIDE;
	for (int mode = 0; mode < 2; mode++) {
		p.ma_mode = mode;
		int32_t bars[11];
		for (int32_t s = 0; s < S; s++)
			bars[s] = n - 37 * s;
		struct tg_batch b = {.close = close, .n_bars = bars, .n_symbols = S, .stride = n};
		double *a = malloc((size_t)S * n * sizeof(double)), *c = malloc((size_t)S * n * sizeof(double));
		double *la = malloc(6 * (size_t)S * n * sizeof(double)), *lc = malloc(6 * (size_t)S * n * sizeof(double));
		struct tg_atc_outputs oa = {.average = a, .l2_equity = la};
		struct tg_atc_outputs oc = {.average = c, .l2_equity = lc};
		run_batch(2, &p, &b, &oa);
		tg_test_run(&tg_backend_cpu, &p, &b, &oc);
		/* the same bits: every backend runs the same arithmetic */
		assert_int_equal(tg_test_compare("Average_Signal", a, c, S * n, TG_TOL_EQUAL, 0), 0);
		assert_int_equal(tg_test_compare("Layer 2", la, lc, 6 * S * n, TG_TOL_EQUAL, 0), 0);
		free(a);
		free(c);
		free(la);
		free(lc);
	}
	free(close);
}

int main(int argc, char **argv)
{
	if (argc > 1)
		backend_name = argv[1];
	ops = tg_test_backend_or_skip(backend_name);
	if (!ops)
		return 77;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_batch_matches_single_symbols),
		cmocka_unit_test(test_batch_errors_and_empty),
		cmocka_unit_test(test_approx_replicates_slots),
		cmocka_unit_test(test_slot_outputs_one_at_a_time),
		cmocka_unit_test(test_agrees_with_cpu),
	};
	char group[64];
	snprintf(group, sizeof(group), "backend_%s", backend_name);
	return _cmocka_run_group_tests(group, tests, sizeof(tests) / sizeof(tests[0]), NULL, NULL);
}
