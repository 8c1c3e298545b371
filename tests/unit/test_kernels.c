/* kernels/: parameters, the shared per-bar math, and every moving average
 * of the C engine against a brute-force O(L)-per-bar reference in long
 * double. The backend contract is test_backend.c. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu_internal.h"
#include "tg_atc_math.h"
#include "tg_atc_series.h"
#include "tg_test.h"

/* ---- data ---- */

static uint64_t rng_state = 0x12345678abcdefull;

static double urand(void)
{
	return tg_test_urand(&rng_state);
}

static double *walk(int32_t n, int with_nan, int with_flat)
{
	return tg_test_walk(&rng_state, n, with_nan, with_flat);
}

static int window_has_nan(const double *p, int32_t i, int32_t L)
{
	for (int32_t j = i - L + 1; j <= i; j++)
		if (p[j] != p[j])
			return 1;
	return 0;
}

static double ref_wma(const double *p, int32_t i, int32_t L)
{
	if (i < L - 1 || window_has_nan(p, i, L))
		return NAN;
	long double s = 0;
	for (int32_t j = 1; j <= L; j++)
		s += (long double)j * p[i - L + j];
	return (double)(s / ((long double)L * (L + 1) / 2));
}

static double ref_lsma(const double *p, int32_t i, int32_t L, int penultimate)
{
	if (i < L - 1 || window_has_nan(p, i, L))
		return NAN;
	long double sx = 0, sy = 0, sxy = 0, sxx = 0;
	for (int32_t j = 0; j < L; j++) {
		long double x = j, y = p[i - L + 1 + j];
		sx += x;
		sy += y;
		sxy += x * y;
		sxx += x * x;
	}
	long double m = (L * sxy - sx * sy) / (L * sxx - sx * sx);
	long double b = (sy - m * sx) / L;
	return (double)(b + m * (penultimate ? L - 2 : L - 1));
}

static void expect_close(const char *what, const double *got, const double *want, int32_t n,
			 double tol)
{
	char label[128];
	snprintf(label, sizeof(label), "%s", what);
	assert_int_equal(tg_test_compare(label, got, want, n, TG_TOL_REL, tol), 0);
}

/* ---- parameters ---- */

static void test_params_defaults_and_lengths(void **state)
{
	(void)state;
	struct tg_atc_params p;
	tg_atc_params_default(&p);
	assert_int_equal(tg_atc_params_validate(&p, 1500, NULL), 0);
	int32_t len[9];
	const int32_t medium[9] = {28, 29, 30, 32, 34, 27, 26, 24, 22};
	tg_atc_slot_lengths(&p, TG_FAM_EMA, len);
	assert_memory_equal(len, medium, sizeof(len));
	p.robustness = TG_ROBUST_WIDE;
	const int32_t wide[9] = {28, 29, 31, 33, 35, 27, 25, 23, 21};
	tg_atc_slot_lengths(&p, TG_FAM_KAMA, len);
	assert_memory_equal(len, wide, sizeof(len));
	p.robustness = TG_ROBUST_NARROW;
	const int32_t narrow[9] = {28, 29, 30, 31, 32, 27, 26, 25, 24};
	tg_atc_slot_lengths(&p, TG_FAM_HMA, len);
	assert_memory_equal(len, narrow, sizeof(len));
	assert_int_equal(tg_atc_max_length(&p), 32);
	assert_int_equal(tg_atc_min_length(&p), 24);
	assert_int_equal(tg_family_parse("kama"), TG_FAM_KAMA);
	assert_int_equal(tg_family_parse("XYZ"), -1);
	assert_string_equal(tg_slot_name(8), "MA_4");
}

static void expect_invalid(struct tg_atc_params *p, int32_t bars, const char *needle)
{
	struct tg_error err;
	tg_error_clear(&err);
	int rc = tg_atc_params_validate(p, bars, &err);
	assert_true(rc < 0);
	if (!strstr(err.msg, needle))
		fail_msg("message '%s' lacks '%s'", err.msg, needle);
	tg_atc_params_default(p);
}

static void test_params_invalid(void **state)
{
	(void)state;
	struct tg_atc_params p;
	tg_atc_params_default(&p);
	p.length[TG_FAM_EMA] = 7; /* medium: 7 - 6 = 1 < 2 */
	expect_invalid(&p, 0, "--ema-len must be at least 8");
	p.length[TG_FAM_KAMA] = 2;
	p.ma_mode = TG_MA_APPROX; /* approx only needs the base length */
	assert_int_equal(tg_atc_params_validate(&p, 100, NULL), 0);
	p.length[TG_FAM_KAMA] = 1;
	expect_invalid(&p, 0, "--kama-len 1");
	p.weight[TG_FAM_HMA] = -1;
	expect_invalid(&p, 0, "--hma-w");
	p.weight[TG_FAM_HMA] = NAN;
	expect_invalid(&p, 0, "--hma-w");
	p.decay = 100;
	expect_invalid(&p, 0, "--decay");
	p.lambda = INFINITY;
	expect_invalid(&p, 0, "--lambda");
	p.cutout = -1;
	expect_invalid(&p, 0, "--cutout -1");
	p.cutout = 500;
	expect_invalid(&p, 500, "--cutout 500");
	expect_invalid(&p, 33, "shorter than the longest moving average (34 bars)");
	p.short_threshold = 0.5;
	expect_invalid(&p, 0, "--short-threshold");
	p.robustness = 7;
	expect_invalid(&p, 0, "--robustness");
	p.ma_mode = 3;
	expect_invalid(&p, 0, "--ma");
	p.min_signal = -1;
	expect_invalid(&p, 0, "--min-signal");
	p.length[0] = 2000000;
	expect_invalid(&p, 0, "maximum");
}

/* ---- shared math ---- */

static void test_math_steps(void **state)
{
	(void)state;
	/* equity: first active bar = start floored; then (e*d)*(1+a) */
	assert_true(tg_equity_step(NAN, NAN, NAN, 0.2, 0.9997) == 0.25);
	assert_true(tg_equity_step(1.0, 1.0, 0.01, 1.0, 0.9997) == (1.0 * 0.9997) * 1.01);
	assert_true(tg_equity_step(1.0, -1.0, 0.01, 1.0, 0.9997) == (1.0 * 0.9997) * 0.99);
	assert_true(tg_equity_step(1.0, 0.0, 0.01, 1.0, 0.5) == 0.5);
	assert_true(tg_equity_step(1.0, 1.0, NAN, 1.0, 0.5) == 0.5);
	assert_true(tg_equity_step(0.26, 1.0, -0.5, 1.0, 1.0) == 0.25);
	/* crossovers: equality never triggers, a move out of equality does */
	assert_int_equal(tg_cross_step(0, 10, 10, 9, 9), 0);
	assert_int_equal(tg_cross_step(0, 11, 10, 10, 10), 1);
	assert_int_equal(tg_cross_step(1, 9, 10, 10, 10), -1);
	assert_int_equal(tg_cross_step(-1, 11, 10, NAN, 10), -1);
	/* rounding: ties to even, non-finite -> NaN */
	assert_true(tg_round2_ratio(1.0, 3.0) == 0.33);
	assert_true(tg_round2_ratio(0.125, 1.0) == 0.12);
	assert_true(isnan(tg_round2_ratio(1.0, 0.0)));
	assert_true(tg_cut(0.11, 0.1, -0.1) == 1.0 && tg_cut(-0.2, 0.1, -0.1) == -1.0);
	assert_true(tg_cut(NAN, 0.1, -0.1) == 0.0 && tg_cut(0.1, 0.1, -0.1) == 0.0);
	/* growth: bars [1,1,2,...], 1 before the cutout */
	assert_true(tg_growth(0, 0.5, 0) == tg_growth(1, 0.5, 0));
	assert_true(tg_growth(5, 0.5, 10) == 1.0);
	assert_true(tg_growth(10, 0.5, 10) == 1.0);
	assert_true(tg_growth(100000, 1.0, 0) == 1.7976931348623157e308);
	assert_int_equal(tg_final_signal(0.005, 0.01), 0);
	assert_int_equal(tg_final_signal(-0.3, 0.01), -1);
	assert_int_equal(tg_final_signal(NAN, 0.01), 0);
}

/* ---- exact MAs vs brute force ---- */

static void test_wma_lsma_hma_vs_reference(void **state)
{
	(void)state;
	const int32_t n = 3000;
	for (int variant = 0; variant < 3; variant++) {
		double *p = walk(n, variant >= 1, variant == 2);
		double *got = malloc((size_t)n * sizeof(double)), *want = malloc((size_t)n * sizeof(double));
		double *tmp = malloc(2 * (size_t)n * sizeof(double));
		const int32_t lens[] = {2, 3, 22, 28, 35, 200};
		for (size_t li = 0; li < sizeof(lens) / sizeof(lens[0]); li++) {
			int32_t L = lens[li];
			tg_cpu_wma(p, n, L, got);
			for (int32_t i = 0; i < n; i++)
				want[i] = ref_wma(p, i, L);
			expect_close("wma", got, want, n, 1e-13);
			for (int pen = 0; pen < 2; pen++) {
				if (pen && L < 3)
					continue;
				tg_cpu_lsma(p, n, L, pen ? TG_LSMA_PENULTIMATE : TG_LSMA_LAST, got);
				for (int32_t i = 0; i < n; i++)
					want[i] = ref_lsma(p, i, L, pen);
				expect_close("lsma", got, want, n, 1e-12);
			}
			/* Hull from reference WMAs */
			int32_t half = L / 2 > 0 ? L / 2 : 1, root = 1;
			while ((root + 1) * (root + 1) <= L)
				root++;
			double *diff = malloc((size_t)n * sizeof(double));
			for (int32_t i = 0; i < n; i++)
				diff[i] = 2.0 * ref_wma(p, i, half) - ref_wma(p, i, L);
			for (int32_t i = 0; i < n; i++)
				want[i] = ref_wma(diff, i, root);
			tg_cpu_hma(p, n, L, got, tmp);
			expect_close("hma", got, want, n, 1e-11);
			/* warm-up: first valid index of the true Hull */
			if (variant == 0)
				assert_true(isnan(got[L + root - 3]) && !isnan(got[L + root - 2]));
			free(diff);
		}
		free(p);
		free(got);
		free(want);
		free(tmp);
	}
}

static void test_running_sums_do_not_drift(void **state)
{
	(void)state;
	/* 200k bars over six orders of magnitude: the resync keeps the error at
	 * rounding level. */
	const int32_t n = 200000, L = 34;
	double *p = malloc((size_t)n * sizeof(double)), *got = malloc((size_t)n * sizeof(double));
	for (int32_t i = 0; i < n; i++)
		p[i] = 1e4 * exp(-13.8 * i / n) * (1.0 + 0.01 * sin(i * 0.37));
	tg_cpu_wma(p, n, L, got);
	double worst = 0;
	for (int32_t i = L - 1; i < n; i++) {
		double w = ref_wma(p, i, L);
		double rel = fabs(got[i] - w) / w;
		worst = rel > worst ? rel : worst;
	}
	if (worst > 1e-13)
		fail_msg("WMA drifted: worst relative error %.3g", worst);
	free(p);
	free(got);
}

static void test_flat_windows_are_exact(void **state)
{
	(void)state;
	/* after a step, once the window is flat every window MA equals the
	 * price exactly, so close == MA and nothing crosses (EMA, DEMA and KAMA
	 * only converge) */
	const int32_t n = 400;
	double *p = malloc((size_t)n * sizeof(double)), *got = malloc((size_t)n * sizeof(double));
	double *tmp = malloc(2 * (size_t)n * sizeof(double));
	for (int32_t i = 0; i < n; i++)
		p[i] = i < 100 ? 100.0 + 0.37 * sin(i) : (i < 250 ? 110.0 : 95.3);
	const int window_mas[] = {TG_FAM_WMA, TG_FAM_HMA, TG_FAM_LSMA};
	for (int wi = 0; wi < 3; wi++) {
		int f = window_mas[wi];
		tg_cpu_ma(f, TG_MA_EXACT, TG_LSMA_LAST, p, n, 28, got, tmp);
		for (int32_t i = 200; i < 250; i++)
			if (got[i] != 110.0)
				fail_msg("%s at bar %d = %.17g, want 110 exactly", tg_family_name(f), i,
					 got[i]);
	}
	free(p);
	free(got);
	free(tmp);
}

static void test_ema_pandas_rules(void **state)
{
	(void)state;
	const int32_t n = 200, L = 10;
	double *p = walk(n, 0, 0), *got = malloc((size_t)n * sizeof(double));
	tg_cpu_ema(p, n, L, got);
	assert_true(isnan(got[L - 2]));
	double seed = 0;
	for (int i = 0; i < L; i++)
		seed += p[i];
	seed /= L;
	assert_true(fabs(got[L - 1] - seed) <= 1e-15 * seed);
	/* plain recursion agrees to rounding without NaNs */
	double a = 1.0 / (1.0 + (L - 1) / 2.0), y = got[L - 1];
	for (int32_t i = L; i < n; i++) {
		y = a * p[i] + (1 - a) * y;
		assert_true(fabs(got[i] - y) <= 1e-12 * y);
	}
	/* NaN gap: the value carries, then the first valid value gets weight
	 * alpha / ((1 - alpha)^(k+1) + alpha) */
	p[100] = p[101] = p[102] = NAN;
	tg_cpu_ema(p, n, L, got);
	assert_true(got[100] == got[99] && got[102] == got[99]);
	double b = 1 - a, w = b * b * b * b;
	double expect = (w * got[99] + a * p[103]) / (w + a);
	assert_true(fabs(got[103] - expect) <= 1e-14 * expect);
	/* constant input never drifts once the seed is the price */
	for (int32_t i = 0; i < n; i++)
		p[i] = 110.0;
	tg_cpu_ema(p, n, L, got);
	for (int32_t i = L - 1; i < n; i++)
		assert_true(got[i] == 110.0);
	/* shorter than L: all NaN (pandas_ta returns None) */
	tg_cpu_ema(p, L - 1, L, got);
	for (int32_t i = 0; i < L - 1; i++)
		assert_true(isnan(got[i]));
	free(p);
	free(got);
}

static void test_kama_vs_reference(void **state)
{
	(void)state;
	const int32_t n = 1000;
	for (int with_nan = 0; with_nan < 2; with_nan++) {
		double *p = walk(n, with_nan, 1), *got = malloc((size_t)n * sizeof(double));
		double *want = malloc((size_t)n * sizeof(double));
		for (int32_t L = 5; L <= 40; L += 7) {
			tg_cpu_kama(p, n, L, got);
			want[0] = p[0];
			for (int32_t i = 1; i < n; i++) {
				if (i < L) {
					want[i] = want[i - 1];
					continue;
				}
				double noise = 0;
				for (int32_t j = i - L + 1; j <= i; j++)
					noise += fabs(p[j] - p[j - 1]);
				double sig = fabs(p[i] - p[i - L]);
				double ratio = noise == 0 ? 0 : sig / noise;
				double sc = pow(ratio * (0.666 - 0.064) + 0.064, 2);
				double prev = want[i - 1] != want[i - 1] ? p[i] : want[i - 1];
				want[i] = prev + sc * (p[i] - prev);
			}
			expect_close("kama", got, want, n, 1e-12);
		}
		free(p);
		free(got);
		free(want);
	}
}

/* numpy's pairwise_sum, recursive, as a reference for the iterative one */
static double ref_pairwise(const double *a, int32_t n)
{
	if (n < 8) {
		double r = 0.0;
		for (int32_t i = 0; i < n; i++)
			r += a[i];
		return r;
	}
	if (n <= 128) {
		double r[8];
		for (int k = 0; k < 8; k++)
			r[k] = a[k];
		int32_t i;
		for (i = 8; i < n - (n % 8); i += 8)
			for (int k = 0; k < 8; k++)
				r[k] += a[i + k];
		double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
		for (; i < n; i++)
			res += a[i];
		return res;
	}
	int32_t n2 = n / 2;
	n2 -= n2 % 8;
	return ref_pairwise(a, n2) + ref_pairwise(a + n2, n - n2);
}

static void test_pairwise_tree(void **state)
{
	(void)state;
	const int32_t sizes[] = {1, 7, 8, 9, 127, 128, 129, 136, 200, 257, 1000, 4099, 100000};
	double *a = malloc(100000 * sizeof(double)), *w = malloc(100000 * sizeof(double));
	double *prod = malloc(100000 * sizeof(double));
	for (int32_t i = 0; i < 100000; i++) {
		a[i] = 1.0 / (1.0 + i) + urand();
		w[i] = urand();
		prod[i] = a[i] * w[i];
	}
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		int32_t n = sizes[k];
		assert_true(tg_pairwise(a, 1, NULL, n) == ref_pairwise(a, n));
		assert_true(tg_pairwise(a, 1, w, n) == ref_pairwise(prod, n));
	}
	/* strided: every 3rd element */
	double *s3 = malloc(1000 * sizeof(double));
	for (int32_t i = 0; i < 1000; i++)
		s3[i] = a[3 * i];
	assert_true(tg_pairwise(a, 3, NULL, 1000) == ref_pairwise(s3, 1000));
	free(s3);
	free(a);
	free(w);
	free(prod);
}

/* ---- approximate MAs ---- */

static void test_approx_vs_reference(void **state)
{
	(void)state;
	const int32_t n = 600, L = 28;
	double *p = walk(n, 0, 1), *got = malloc((size_t)n * sizeof(double));
	double *want = malloc((size_t)n * sizeof(double)), *tmp = malloc(2 * (size_t)n * sizeof(double));
	/* SMA1: mean of the last min(L, i+1) bars */
	tg_cpu_sma1(p, n, L, got);
	for (int32_t i = 0; i < n; i++) {
		long double s = 0;
		int32_t k0 = i - L + 1 < 0 ? 0 : i - L + 1;
		for (int32_t k = k0; k <= i; k++)
			s += p[k];
		want[i] = (double)(s / (i - k0 + 1));
	}
	expect_close("sma1", got, want, n, 1e-13);
	/* WMA approx: exact WMA after warm-up, SMA1 before */
	double *sma = malloc((size_t)n * sizeof(double));
	memcpy(sma, want, (size_t)n * sizeof(double));
	tg_cpu_wma_approx(p, n, L, got);
	for (int32_t i = 0; i < n; i++)
		want[i] = i < L - 1 ? sma[i] : ref_wma(p, i, L);
	expect_close("wma approx", got, want, n, 1e-13);
	/* LSMA approx: window midpoint */
	tg_cpu_lsma_approx(p, n, L, got);
	for (int32_t i = L - 1; i < n; i++)
		assert_true(fabs(got[i] - (p[i] + p[i - L + 1]) / 2) <= 1e-13 * got[i]);
	/* KAMA approx: fixed alpha 2/(L+1)^2 from p[0] */
	tg_cpu_kama_approx(p, n, L, got);
	double k = p[0], alpha = 2.0 / ((L + 1) * (L + 1));
	for (int32_t i = 1; i < n; i++) {
		k += alpha * (p[i] - k);
		assert_true(got[i] == k);
	}
	/* DEMA approx = 2 SMA1 - SMA1(SMA1) */
	tg_cpu_dema_approx(p, n, L, got, tmp);
	double *s2 = malloc((size_t)n * sizeof(double));
	tg_cpu_sma1(sma, n, L, s2);
	for (int32_t i = 0; i < n; i++)
		want[i] = 2 * sma[i] - s2[i];
	expect_close("dema approx", got, want, n, 1e-12);
	free(s2);
	free(sma);
	free(p);
	free(got);
	free(want);
	free(tmp);
}

/* bit-identical, NaN matching NaN */
static void expect_same_bits(const char *what, int32_t L, const double *got, const double *want,
			     int32_t n)
{
	for (int32_t i = 0; i < n; i++) {
		if (got[i] != got[i] && want[i] != want[i])
			continue;
		if (memcmp(&got[i], &want[i], sizeof(double)) != 0)
			fail_msg("%s L=%d bar %d: per bar %.17g, streaming %.17g", what, L, i, got[i],
				 want[i]);
	}
}

/* The per-bar approximate WMA and Hull (what the GPU computes a thread per
 * bar) equal the streaming forms bit for bit: warm-up, NaN windows, flat
 * runs, lengths 1 to 49. */
static void test_approx_per_bar_matches_streaming(void **state)
{
	(void)state;
	const int32_t n = 700;
	double *p = walk(n, 1, 1); /* a flat run at n/3, NaNs at n/2 */
	p[2] = NAN;                /* and one in the warm-up */
	const int32_t lengths[] = {1, 2, 3, 4, 5, 9, 28, 49};
	double *got = malloc((size_t)n * sizeof(double)), *want = malloc((size_t)n * sizeof(double));
	double *d = malloc((size_t)n * sizeof(double)), *d2 = malloc((size_t)n * sizeof(double));
	double *w = malloc(256 * sizeof(double));
	for (size_t t = 0; t < sizeof(lengths) / sizeof(lengths[0]); t++) {
		const int32_t L = lengths[t];
		tg_wma_approx_weights(w, L);
		struct tg_wma_approx sw;
		tg_wma_approx_init(&sw, L, w);
		for (int32_t i = 0; i < n; i++) {
			want[i] = tg_wma_approx_step(&sw, p, 1, i);
			got[i] = tg_wma_approx_at(p, 1, i, L, w);
		}
		expect_same_bits("wma approx", L, got, want, n);

		assert_true(tg_hma_approx_weight_count(L) <= 256);
		tg_hma_approx_weights(w, L);
		struct tg_hma_approx sh;
		tg_hma_approx_init(&sh, L, w);
		for (int32_t i = 0; i < n; i++) {
			want[i] = tg_hma_approx_step(&sh, p, 1, d, 1, i);
			d2[i] = tg_hma_approx_middle_at(p, 1, i, L, w);
		}
		expect_same_bits("hma approx middle", L, d2, d, n);
		for (int32_t i = 0; i < n; i++)
			got[i] = tg_hma_approx_outer_at(d2, 1, i, L, w);
		expect_same_bits("hma approx", L, got, want, n);
	}
	free(p);
	free(got);
	free(want);
	free(d);
	free(d2);
	free(w);
}

static void test_dema_approx_golden_lengths(void **state)
{
	(void)state;
	/* golden case A carries the approximate DEMA at all nine lengths */
	char path[600];
	struct tg_test_csv g;
	tg_test_csv_open(&g, tg_test_atc_path(path, sizeof(path), "A_grw_default_set_DEMA.csv"));
	struct tg_test_csv e;
	tg_test_csv_open(&e, tg_test_atc_path(path, sizeof(path), "A_grw_default_exact.csv"));
	double *close = tg_test_csv_column(&e, "close");
	int32_t n = g.rows;
	double *got = malloc((size_t)n * sizeof(double)), *tmp = malloc(2 * (size_t)n * sizeof(double));
	struct tg_atc_params prm;
	tg_atc_params_default(&prm);
	int32_t len[9];
	tg_atc_slot_lengths(&prm, TG_FAM_DEMA, len);
	for (int s = 0; s < 9; s++) {
		char col[64];
		snprintf(col, sizeof(col), "approx_DEMA_%s_L%d", tg_slot_name(s), len[s]);
		double *want = tg_test_csv_column(&g, col);
		tg_cpu_dema_approx(close, n, len[s], got, tmp);
		assert_int_equal(tg_test_compare(col, got, want, n, TG_TOL_REL, 1e-12), 0);
		free(want);
	}
	free(got);
	free(tmp);
	free(close);
	tg_test_csv_close(&g);
	tg_test_csv_close(&e);
}

static void test_family_set_parse(void **state)
{
	(void)state;
	struct tg_error err;
	uint32_t set = 99;
	assert_int_equal(tg_family_set_parse("X", NULL, &set, &err), 0);
	assert_int_equal(set, 0);
	assert_int_equal(tg_family_set_parse("X", "none", &set, &err), 0);
	assert_int_equal(set, 0);
	assert_int_equal(tg_family_set_parse("X", "ALL", &set, &err), 0);
	assert_int_equal(set, 0x3f);
	assert_int_equal(tg_family_set_parse("X", "ema,KAMA", &set, &err), 0);
	assert_int_equal(set, 1u << TG_FAM_EMA | 1u << TG_FAM_KAMA);
	assert_int_equal(tg_family_set_parse("X", "hma", &set, &err), 0);
	assert_int_equal(set, 1u << TG_FAM_HMA);
	const char *bad[] = {"ema,", ",ema", "ema,,kama", "sma", "emaemaemaemaemaema", "ema kama"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		tg_error_clear(&err);
		assert_int_equal(tg_family_set_parse("TG_CUDA_WALK", bad[i], &set, &err), TG_E_INVAL);
		assert_non_null(strstr(err.msg, "TG_CUDA_WALK"));
		assert_non_null(strstr(err.msg, bad[i]));
	}
	tg_error_clear(&err);
	tg_family_set_parse("TG_CUDA_WALK", "ema,sma", &set, &err);
	assert_non_null(strstr(err.msg, "'sma' is not a family"));
}

/* ---- division by a constant as the GPU does it (tg_div_by_fma) ---------- */

static uint64_t bits_of(double v)
{
	uint64_t b;
	memcpy(&b, &v, sizeof(b));
	return b;
}

static void expect_same_quotient(double a, double d, double got)
{
	const double want = a / d;
	if (isnan(want) && isnan(got))
		return;
	if (bits_of(want) != bits_of(got))
		fail_msg("%.17g / %.17g: the FMA form gives %.17g (%016llx), the division %.17g (%016llx)", a, d,
			 got, (unsigned long long)bits_of(got), want, (unsigned long long)bits_of(want));
}

static uint64_t div_rng = 0x243f6a8885a308d3ull;
static uint64_t div_next(void)
{
	div_rng ^= div_rng << 13;
	div_rng ^= div_rng >> 7;
	div_rng ^= div_rng << 17;
	return div_rng;
}

/* n / 100 after numpy's rint: every integer up to a million, both zeros */
static void test_div_by_hundredths(void **state)
{
	(void)state;
	for (int32_t n = -1000000; n <= 1000000; n++)
		expect_same_quotient((double)n, 100.0, tg_hundredths_fma((double)n));
	expect_same_quotient(-0.0, 100.0, tg_hundredths_fma(-0.0));
	assert_true(signbit(tg_hundredths_fma(-0.0)));
	assert_true(bits_of(tg_round2_ratio(-1.0, 1000.0)) == bits_of(-0.0));
}

/* A dividend whose quotient by d = B 2^k (B odd) is as close to a midpoint
 * between doubles as any can be, ulp / (2B): a = (B M + sign) 2^e with M a
 * 54-bit odd integer (a midpoint of the 53-bit grid) chosen so that B M =
 * -sign modulo 2^t, t the bits of B M past 53, so that B M + sign fits in
 * 53 bits. 0 when the random start does not lead to one. */
static double hardest_dividend(double d, int sign)
{
	int k = 0;
	uint64_t B = (uint64_t)d;
	while ((B & 1u) == 0) {
		B >>= 1;
		k++;
	}
	uint64_t inv = B; /* B^-1 modulo 2^64 (Newton: each step doubles the bits) */
	for (int i = 0; i < 6; i++)
		inv *= 2 - B * inv;
	const uint64_t M0 = (1ull << 53) | (div_next() >> 11) | 1u;
	unsigned __int128 P = (unsigned __int128)B * M0;
	int bits = 0;
	for (unsigned __int128 v = P; v; v >>= 1)
		bits++;
	const int t = bits - 53;
	if (t <= 0)
		return 0.0;
	const uint64_t mask = (1ull << t) - 1;
	/* M = -sign / B modulo 2^t, in M0's place */
	const uint64_t want = (uint64_t)(-(int64_t)sign) * inv & mask;
	const uint64_t M = (M0 & ~mask) | want;
	if (!(M & 1u) || M < (1ull << 53) || M >= (1ull << 54))
		return 0.0;
	P = (unsigned __int128)B * M;
	P = sign > 0 ? P + 1 : P - 1;
	int pbits = 0;
	for (unsigned __int128 v = P; v; v >>= 1)
		pbits++;
	if (pbits > 53 && (P & (((unsigned __int128)1 << (pbits - 53)) - 1)) != 0)
		return 0.0; /* not a double: the start crossed a power of two */
	const double a = ldexp((double)P, (int)(div_next() % 1201) - 600 + k);
	return (div_next() & 1) ? -a : a;
}

/* a / d for every divisor the pipeline uses with lengths up to 2000 (WMA
 * totals, both LSMA denominators, SMA counts): random dividends of every
 * magnitude, the dividends whose quotients come closest to a midpoint
 * between doubles (the hard cases of rounding), and the edges of the
 * range */
static void test_div_by_divisors(void **state)
{
	(void)state;
	static const double edges[] = {0.0, -0.0, DBL_MIN, -DBL_MIN, DBL_TRUE_MIN, 0x1p-1000, 0x1p-970,
				       DBL_MAX, -DBL_MAX, INFINITY, -INFINITY, NAN, 1.0, 3.0, 1e300};
	long checked = 0, hard = 0;
	for (int32_t L = 1; L <= 2000; L++) {
		const double l = (double)L;
		const double divisors[4] = {0.5 * l * (l + 1.0), l * (l + 1.0), l * (l + 1.0) * (l - 1.0), l};
		for (int k = 0; k < 4; k++) {
			const double d = divisors[k];
			if (d <= 0.0)
				continue;
			const double rd = tg_recip_for_div(d);
			assert_false(isnan(rd)); /* small integers qualify */
			for (size_t e = 0; e < sizeof(edges) / sizeof(edges[0]); e++)
				expect_same_quotient(edges[e], d, tg_div_by_fma(edges[e], d, rd));
			for (int j = 0; j < 200; j++) {
				const uint64_t u = div_next();
				/* a random double of magnitude 2^-900 .. 2^900, either sign */
				const double m = 1.0 + (double)(u >> 12) * 0x1p-52;
				const double a = ldexp((u & 1) ? -m : m, (int)(div_next() % 1801) - 900);
				expect_same_quotient(a, d, tg_div_by_fma(a, d, rd));
				checked++;
				const double h = hardest_dividend(d, (j & 1) ? 1 : -1);
				if (h != 0.0 && d > 1.0) {
					expect_same_quotient(h, d, tg_div_by_fma(h, d, rd));
					hard++;
				}
			}
		}
	}
	assert_true(checked > 1500000);
	assert_true(hard > 500000);
}

/* the reciprocal is refused (NaN: tg_div_by_fma then divides) where the
 * rounding argument does not hold */
static void test_div_by_refuses(void **state)
{
	(void)state;
	assert_true(tg_recip_for_div(3.0) == 1.0 / 3.0);
	assert_true(tg_recip_for_div(0x1p40 * 5.0) == 1.0 / (0x1p40 * 5.0));
	assert_true(isnan(tg_recip_for_div(0x1p52 + 1.0))); /* odd part 2^52 + 1 */
	assert_true(isnan(tg_recip_for_div(0.0)));
	assert_true(isnan(tg_recip_for_div(-3.0)));
	assert_true(isnan(tg_recip_for_div(INFINITY)));
	assert_true(isnan(tg_recip_for_div(NAN)));
	const double d = 0x1p52 + 1.0;
	expect_same_quotient(12345.678, d, tg_div_by_fma(12345.678, d, tg_recip_for_div(d)));
	/* a zero divisor (an LSMA of length 1) divides too */
	assert_true(isinf(tg_div_by_fma(1.0, 0.0, tg_recip_for_div(0.0))));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_params_defaults_and_lengths),
		cmocka_unit_test(test_params_invalid),
		cmocka_unit_test(test_math_steps),
		cmocka_unit_test(test_wma_lsma_hma_vs_reference),
		cmocka_unit_test(test_running_sums_do_not_drift),
		cmocka_unit_test(test_flat_windows_are_exact),
		cmocka_unit_test(test_ema_pandas_rules),
		cmocka_unit_test(test_kama_vs_reference),
		cmocka_unit_test(test_pairwise_tree),
		cmocka_unit_test(test_approx_vs_reference),
		cmocka_unit_test(test_dema_approx_golden_lengths),
		cmocka_unit_test(test_approx_per_bar_matches_streaming),
		cmocka_unit_test(test_family_set_parse),
		cmocka_unit_test(test_div_by_hundredths),
		cmocka_unit_test(test_div_by_divisors),
		cmocka_unit_test(test_div_by_refuses),
	};
	return cmocka_run_group_tests_name("kernels", tests, NULL, NULL);
}
