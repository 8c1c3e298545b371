/* The group paths (symbols in vector lanes: the C engine's cpu_lanes.inc,
 * the Rust crate's lanes.rs) give the scalar C engine's bits: every output,
 * on random batches with NaN gaps, flat stretches and uneven lengths,
 * 1 / 2 / 7 / 8 / 9 / 17 / 1000 symbols, each robustness, cutouts, both MA
 * modes, both LSMA points, the strategy shift; on the baseline vector unit
 * and, where the CPU has them, AVX2 and AVX-512 (groups of 8, their tails
 * of 4 or fewer in AVX2); and the Rust crate's scalar walk. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu_internal.h"
#include "tg_config.h"
#include "tg_test.h"

#if TG_HAVE_RUST
int tg_rust_has_avx512(void);
#endif

static uint64_t rng = 0x9E3779B97F4A7C15ull;

struct batch {
	double *close;
	int32_t *bars;
	struct tg_batch b;
};

/* S symbols, the longest `stride` bars; uneven lengths (some shorter than
 * every MA's window) unless `even`; NaN gaps, flat stretches, a leading
 * NaN, a gap at a resync bar and a flat start mixed in; `even` 2: clean
 * (every symbol `stride` bars, no NaN: the groups' clean steps), the flat
 * stretches and flat starts kept */
static void batch_make(struct batch *t, int32_t S, int32_t stride, int even)
{
	const int clean = even == 2;
	t->close = malloc((size_t)S * (size_t)stride * sizeof(double));
	t->bars = malloc((size_t)S * sizeof(int32_t));
	assert_non_null(t->close);
	assert_non_null(t->bars);
	for (int32_t s = 0; s < S; s++) {
		double *w = tg_test_walk(&rng, stride, !clean && s % 3 == 1, s % 4 == 2);
		if (!clean && s % 5 == 3)
			w[0] = NAN;
		if (!clean && s % 7 == 4 && stride > 260)
			w[256] = NAN;
		if (s % 6 == 5)
			for (int32_t i = 0; i < 40 && i < stride; i++)
				w[i] = 101.25;
		/* a zero price: the next return is infinite, and so (or NaN) the
		 * equities after it */
		if (s % 8 == 6 && stride > 120)
			w[60 + s % 50] = 0.0;
		memcpy(t->close + (size_t)s * (size_t)stride, w, (size_t)stride * sizeof(double));
		free(w);
		t->bars[s] = even ? stride : stride - (int32_t)(tg_test_urand(&rng) * (double)stride * 0.7);
		if (!even && s % 11 == 10)
			t->bars[s] = 5 + s % 7;
	}
	t->b = (struct tg_batch){.close = t->close, .n_bars = t->bars, .n_symbols = S, .stride = stride};
}

static void batch_free(struct batch *t)
{
	free(t->close);
	free(t->bars);
}

static void run_on(const struct tg_backend_ops *be, const char *simd, int threads,
		   const struct tg_atc_params *p, const struct tg_batch *b,
		   const struct tg_atc_outputs *o)
{
	setenv("TG_CPU_SIMD", simd, 1);
	struct tg_backend_config cfg = {.threads = threads};
	void *st;
	struct tg_backend_timing t;
	struct tg_error err;
	tg_error_clear(&err);
	if (be->open(&cfg, &st, &err) < 0)
		fail_msg("%s: %s", be->name, err.msg);
	const int rc = be->run(st, p, b, o, &t, &err);
	be->close(st);
	unsetenv("TG_CPU_SIMD");
	if (rc < 0)
		fail_msg("%s: %s", be->name, err.msg);
}

static void run_with(const char *simd, int threads, const struct tg_atc_params *p,
		     const struct tg_batch *b, const struct tg_atc_outputs *o)
{
	run_on(&tg_backend_cpu, simd, threads, p, b, o);
}

/* The walks checked against the scalar C engine. */
static const struct {
	const struct tg_backend_ops *be;
	const char *simd;
} walks[] = {
	{&tg_backend_cpu, "generic"},
	{&tg_backend_cpu, "avx2"},
	{&tg_backend_cpu, "avx512"},
#if TG_HAVE_RUST
	{&tg_backend_rust, "scalar"},
	{&tg_backend_rust, "generic"},
	{&tg_backend_rust, "avx2"},
	{&tg_backend_rust, "avx512"},
#endif
};

/* does this machine run the walk (a Rust crate without the AVX-512 walk
 * runs AVX2's: checked all the same) */
static int walk_runs_here(const char *simd)
{
	if (strcmp(simd, "avx2") == 0)
		return tg_cpu_has_avx2();
	if (strcmp(simd, "avx512") == 0)
		return tg_cpu_has_avx512();
	return 1;
}

/* the widest walk here */
static const char *widest_walk(void)
{
	return tg_cpu_has_avx512() ? "avx512" : tg_cpu_has_avx2() ? "avx2" : "generic";
}

/* every walk against the scalar C one, every output */
static void expect_lanes_match(const char *what, const struct tg_atc_params *p, struct batch *t,
			       int threads)
{
	struct tg_test_outputs want, got;
	tg_test_outputs_alloc(&want, t->b.n_symbols, t->b.stride);
	run_with("scalar", 1, p, &t->b, &want.o);
	for (size_t k = 0; k < sizeof(walks) / sizeof(walks[0]); k++) {
		if (!walk_runs_here(walks[k].simd)) {
			static int said[sizeof(walks) / sizeof(walks[0])];
			if (!said[k]++)
				print_message("not checked here: the %s walk of %s (this CPU lacks it)\n",
					      walks[k].simd, walks[k].be->name);
			continue;
		}
		tg_test_outputs_alloc(&got, t->b.n_symbols, t->b.stride);
		run_on(walks[k].be, walks[k].simd, threads, p, &t->b, &got.o);
		char label[160];
		snprintf(label, sizeof(label), "%s, %s %s, %d symbols, %d thread(s)", what,
			 walks[k].be->name, walks[k].simd, t->b.n_symbols, threads);
		tg_test_outputs_expect_same(label, &got, &want);
		tg_test_outputs_free(&got);
	}
	tg_test_outputs_free(&want);
}

static void every_parameter(struct batch *bt, const char *kind)
{
	struct batch t = *bt;
	for (int mode = 0; mode < 2; mode++)
		for (int rob = 0; rob < 3; rob++)
			for (int variant = 0; variant < 3; variant++) {
				struct tg_atc_params p;
				tg_atc_params_default(&p);
				p.ma_mode = mode;
				p.robustness = rob;
				p.cutout = variant == 1 ? 37 : 0;
				p.strategy_mode = variant == 2;
				p.lsma_point = variant == 2 ? TG_LSMA_PENULTIMATE : TG_LSMA_LAST;
				if (variant == 1) {
					p.lambda = 0.7;
					p.decay = 3.0;
				}
				char what[128];
				snprintf(what, sizeof(what), "%s batch, %s, %s, variant %d", kind,
					 mode ? "approx" : "exact", tg_robustness_name(rob), variant);
				expect_lanes_match(what, &p, &t, 1);
			}
}

static void test_every_parameter(void **state)
{
	(void)state;
	struct batch t;
	batch_make(&t, 9, 700, 0);
	every_parameter(&t, "gaps");
	batch_free(&t);
}

/* groups without a NaN take the clean steps: the same bits */
static void test_clean_groups(void **state)
{
	(void)state;
	struct batch t;
	batch_make(&t, 9, 700, 2);
	every_parameter(&t, "clean");
	batch_free(&t);
	/* groups short of symbols (their empty lanes repeat the first
	 * symbol, so a group of clean symbols stays clean): 3, 5, 6, 7; 8 +
	 * 4, 8 + 5 */
	const int32_t partial[] = {3, 5, 6, 7, 12, 13};
	for (size_t c = 0; c < sizeof(partial) / sizeof(partial[0]); c++) {
		batch_make(&t, partial[c], 500, 2);
		struct tg_atc_params p;
		tg_atc_params_default(&p);
		for (int mode = 0; mode < 2; mode++) {
			p.ma_mode = mode;
			expect_lanes_match(mode ? "clean, a group short of symbols, approx"
						: "clean, a group short of symbols, exact",
					   &p, &t, 1);
		}
		batch_free(&t);
	}
	/* one long enough for several resyncs of every window */
	batch_make(&t, 8, 3000, 2);
	struct tg_atc_params p;
	tg_atc_params_default(&p);
	for (int mode = 0; mode < 2; mode++) {
		p.ma_mode = mode;
		expect_lanes_match(mode ? "clean 3000 bars, approx" : "clean 3000 bars, exact", &p, &t, 2);
	}
	batch_free(&t);
}

static void test_symbol_counts(void **state)
{
	(void)state;
	/* AVX-512: one group of 3, 4 (AVX2), 5, 8; 8 + 1 (alone), 8 + 4
	 * (AVX2), 8 + 5, 8 + 8 + 1 */
	const int32_t counts[] = {1, 2, 3, 4, 5, 7, 8, 9, 12, 13, 17};
	for (size_t c = 0; c < sizeof(counts) / sizeof(counts[0]); c++)
		for (int mode = 0; mode < 2; mode++) {
			struct batch t;
			batch_make(&t, counts[c], 400, c % 2);
			struct tg_atc_params p;
			tg_atc_params_default(&p);
			p.ma_mode = mode;
			expect_lanes_match(mode ? "approx" : "exact", &p, &t, 2);
			batch_free(&t);
		}
}

/* 1000 symbols, two threads sharing the groups: the Average_Signal and
 * final signals (all outputs of 1000 symbols would be 170 MB) */
static void test_thousand_symbols(void **state)
{
	(void)state;
	struct batch t;
	batch_make(&t, 1000, 300, 0);
	const size_t cells = (size_t)t.b.n_symbols * (size_t)t.b.stride;
	for (int mode = 0; mode < 2; mode++) {
		struct tg_atc_params p;
		tg_atc_params_default(&p);
		p.ma_mode = mode;
		double *a = malloc(cells * sizeof(double)), *b = malloc(cells * sizeof(double));
		double *l2a = malloc(6 * cells * sizeof(double)), *l2b = malloc(6 * cells * sizeof(double));
		int8_t *fa = malloc(1000), *fb = malloc(1000);
		struct tg_atc_outputs oa = {.average = a, .final_signal = fa, .l2_equity = l2a};
		struct tg_atc_outputs ob = {.average = b, .final_signal = fb, .l2_equity = l2b};
		run_with("scalar", 1, &p, &t.b, &oa);
		const struct tg_backend_ops *bes[] = {
			&tg_backend_cpu,
#if TG_HAVE_RUST
			&tg_backend_rust,
#endif
		};
		for (size_t k = 0; k < sizeof(bes) / sizeof(bes[0]); k++) {
			run_on(bes[k], widest_walk(), 2, &p, &t.b, &ob);
			for (size_t i = 0; i < cells; i++)
				if (!(isnan(a[i]) && isnan(b[i])) &&
				    memcmp(&a[i], &b[i], sizeof(double)) != 0)
					fail_msg("%s %s: Average_Signal of symbol %zu bar %zu: %.17g, "
						 "scalar C %.17g",
						 bes[k]->name, mode ? "approx" : "exact", i / 300,
						 i % 300, b[i], a[i]);
			for (size_t i = 0; i < 6 * cells; i++)
				if (!(isnan(l2a[i]) && isnan(l2b[i])) &&
				    memcmp(&l2a[i], &l2b[i], sizeof(double)) != 0)
					fail_msg("%s: Layer 2 cell %zu differs", bes[k]->name, i);
			assert_memory_equal(fa, fb, 1000);
		}
		free(a);
		free(b);
		free(l2a);
		free(l2b);
		free(fa);
		free(fb);
	}
	batch_free(&t);
}

/* what info and results.json report: the walk that runs */
static void test_isa_names_the_walk(void **state)
{
	(void)state;
	setenv("TG_CPU_SIMD", "scalar", 1);
	assert_non_null(strstr(tg_backend_cpu.isa(), "scalar C"));
	setenv("TG_CPU_SIMD", "generic", 1);
	assert_non_null(strstr(tg_backend_cpu.isa(), "2 symbols per group"));
	setenv("TG_CPU_SIMD", "bogus", 1);
	assert_non_null(strstr(tg_backend_cpu.isa(), "not one of scalar, generic, avx2, avx512, auto"));
	setenv("TG_CPU_SIMD", "avx512", 1);
	if (tg_cpu_has_avx512())
		assert_non_null(strstr(tg_backend_cpu.isa(), "AVX-512F (no FMA), 8 symbols per group"));
	else
		assert_non_null(strstr(tg_backend_cpu.isa(), "TG_CPU_SIMD=avx512 but this CPU has no AVX-512F"));
	unsetenv("TG_CPU_SIMD");
	/* auto: the widest */
	if (tg_cpu_has_avx512())
		assert_non_null(strstr(tg_backend_cpu.isa(), "AVX-512F (no FMA)"));
	else if (tg_cpu_has_avx2())
		assert_non_null(strstr(tg_backend_cpu.isa(), "AVX2 (no FMA)"));
	setenv("TG_CPU_SIMD", "avx2", 1);
	if (tg_cpu_has_avx2())
		assert_non_null(strstr(tg_backend_cpu.isa(), "AVX2 (no FMA), 4 symbols"));
	unsetenv("TG_CPU_SIMD");
#if TG_HAVE_RUST
	/* the Rust crate walks as TG_CPU_SIMD says, and says so */
	setenv("TG_CPU_SIMD", "scalar", 1);
	assert_non_null(strstr(tg_backend_rust.isa(), "scalar Rust"));
	setenv("TG_CPU_SIMD", "generic", 1);
	assert_non_null(strstr(tg_backend_rust.isa(), "2 symbols per group"));
	setenv("TG_CPU_SIMD", "avx2", 1);
	if (tg_cpu_has_avx2())
		assert_non_null(strstr(tg_backend_rust.isa(), "AVX2 (no FMA), 4 symbols per group"));
	unsetenv("TG_CPU_SIMD");
	/* the crate has the 8-lane walk where its compiler has AVX-512, and
	 * says when it has not */
	if (tg_cpu_has_avx512())
		assert_non_null(strstr(tg_backend_rust.isa(), tg_rust_has_avx512()
								      ? "AVX-512F (no FMA), 8 symbols"
								      : "the Rust crate has no AVX-512 walk"));
#endif
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_parameter),
		cmocka_unit_test(test_clean_groups),
		cmocka_unit_test(test_symbol_counts),
		cmocka_unit_test(test_thousand_symbols),
		cmocka_unit_test(test_isa_names_the_walk),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
