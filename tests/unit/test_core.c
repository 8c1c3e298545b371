/* host/core: errors, logging, sinks, the JSON emitter, statistics, the
 * capture event model and capture.bin. */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tg_capture.h"
#include "tg_clock.h"
#include "tg_json.h"
#include "tg_log.h"
#include "tg_machine.h"
#include "tg_results.h"
#include "tg_sink.h"
#include "tg_stats.h"
#include "tg_str.h"
#include "tg_test.h"

/* ---- errors ---- */

static int failing(struct tg_error *err)
{
	TG_FAIL_IF(1 + 1 == 2, err, TG_E_RANGE, "area: '%s': failed to %s", "obj", "go");
	return 0;
}

static int propagating(struct tg_error *err)
{
	TG_TRY(failing(err));
	return 5;
}

static void test_error_set_and_try(void **state)
{
	(void)state;
	struct tg_error err;
	tg_error_clear(&err);
	assert_int_equal(propagating(&err), TG_E_RANGE);
	assert_int_equal(err.code, TG_E_RANGE);
	assert_string_equal(err.msg, "area: 'obj': failed to go");
	assert_non_null(strstr(err.file, "test_core.c"));
	assert_true(err.line > 0);
	tg_error_prefix(&err, "loading %s: ", "x");
	assert_string_equal(err.msg, "loading x: area: 'obj': failed to go");
	/* NULL error records are allowed everywhere */
	assert_int_equal(failing(NULL), TG_E_RANGE);
	assert_string_equal(tg_status_name(TG_E_DEVICE), "TG_E_DEVICE");
	assert_string_equal(tg_strerror(TG_E_NOMEM), "out of memory");
	assert_string_equal(tg_status_name(-999), "TG_E_UNKNOWN");
}

static void test_error_prefix_truncates(void **state)
{
	(void)state;
	struct tg_error err;
	char big[2000];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	TG_ERR(&err, TG_E_IO, "%s", big);
	assert_int_equal(strlen(err.msg), TG_ERROR_MSG_MAX - 1);
	tg_error_prefix(&err, "ctx: ");
	assert_int_equal(strlen(err.msg), TG_ERROR_MSG_MAX - 1);
	assert_memory_equal(err.msg, "ctx: aaa", 8);
}

/* ---- logging ---- */

static char last_log[256];
static int log_calls;

static void capture(enum tg_log_level level, const char *msg, void *ctx)
{
	(void)level;
	(void)ctx;
	snprintf(last_log, sizeof(last_log), "%s", msg);
	log_calls++;
}

static void test_log_levels(void **state)
{
	(void)state;
	tg_log_set_handler(capture, NULL);
	tg_log_set_level(TG_LOG_WARN);
	log_calls = 0;
	tg_info("hidden %d", 1);
	assert_int_equal(log_calls, 0);
	tg_warn("shown %d", 2);
	assert_int_equal(log_calls, 1);
	assert_string_equal(last_log, "shown 2");
	enum tg_log_level lvl;
	assert_int_equal(tg_log_level_parse("debug", &lvl), 0);
	assert_int_equal(lvl, TG_LOG_DEBUG);
	assert_int_equal(tg_log_level_parse("loud", &lvl), TG_E_INVAL);
	setenv("TG_LOG_LEVEL", "nonsense", 1);
	struct tg_error err;
	assert_int_equal(tg_log_level_from_env(&err), TG_E_INVAL);
	assert_non_null(strstr(err.msg, "TG_LOG_LEVEL='nonsense'"));
	setenv("TG_LOG_LEVEL", "info", 1);
	assert_int_equal(tg_log_level_from_env(&err), 0);
	assert_int_equal(tg_log_get_level(), TG_LOG_INFO);
	unsetenv("TG_LOG_LEVEL");
	tg_log_set_level(TG_LOG_WARN);
	tg_log_set_handler(NULL, NULL);
}

/* ---- sinks ---- */

static void test_json_uint64_max(void **state)
{
	(void)state;
	struct tg_sink *s = tg_sink_open_memory();
	struct tg_json j;
	tg_json_init(&j, s, false);
	tg_json_begin_array(&j);
	tg_json_uint(&j, 18446744073709551615ULL);
	tg_json_end_array(&j);
	assert_int_equal(tg_json_finish(&j, NULL), 0);
	assert_string_equal(tg_sink_memory_data(s, NULL), "[18446744073709551615]");
	tg_sink_close(s, NULL);
}

static void test_sink_memory(void **state)
{
	(void)state;
	struct tg_sink *s = tg_sink_open_memory();
	assert_non_null(s);
	for (int i = 0; i < 10000; i++)
		tg_sink_printf(s, "%d,", i % 10);
	tg_sink_putc(s, '!');
	size_t len;
	const char *d = tg_sink_memory_data(s, &len);
	assert_int_equal(len, 20001);
	assert_memory_equal(d, "0,1,2,", 6);
	assert_int_equal(d[len - 1], '!');
	assert_int_equal(d[len], '\0');
	assert_int_equal(tg_sink_close(s, NULL), 0);
}

/* Word wrap: lines of at most width columns from column indent, a word
 * longer than the line alone on its own, '\n' kept (indented). */
static void test_sink_wrapped(void **state)
{
	(void)state;
	struct tg_sink *s = tg_sink_open_memory();
	tg_sink_puts(s, "  ");
	tg_sink_put_wrapped(s, "one two three four  five\nsix averyveryverylongword seven", 2, 14);
	size_t len;
	assert_string_equal(tg_sink_memory_data(s, &len), "  one two\n  three four\n  five\n  six\n"
							"  averyveryverylongword\n  seven\n");
	assert_int_equal(tg_sink_close(s, NULL), 0);
}

static void test_sink_double_roundtrip(void **state)
{
	(void)state;
	const double v[] = {0.1, 1.0 / 3.0, 100.80067584619657, 1e-300, -2.5, 0.0, 1e22, 123456789.0};
	char buf[40];
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		tg_format_double(buf, sizeof(buf), v[i]);
		assert_true(strtod(buf, NULL) == v[i]);
	}
	tg_format_double(buf, sizeof(buf), 0.1);
	assert_string_equal(buf, "0.1");
	tg_format_double(buf, sizeof(buf), NAN);
	assert_string_equal(buf, "nan");
}

static void test_sink_file_atomic(void **state)
{
	(void)state;
	char path[] = "/tmp/tg_test_sink_XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "old", 3), 3);
	close(fd);

	/* an aborted write leaves the old content */
	struct tg_error err;
	struct tg_sink *s = tg_sink_open_file(path, &err);
	assert_non_null(s);
	tg_sink_puts(s, "new content that is discarded");
	tg_sink_abort(s);
	FILE *f = fopen(path, "r");
	char buf[64] = "";
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	assert_string_equal(buf, "old");

	/* a committed write replaces it */
	s = tg_sink_open_file(path, &err);
	assert_non_null(s);
	tg_sink_puts(s, "new");
	assert_int_equal(tg_sink_close(s, &err), 0);
	f = fopen(path, "r");
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	assert_string_equal(buf, "new");
	unlink(path);
}

static void test_sink_errors(void **state)
{
	(void)state;
	struct tg_error err;
	tg_error_clear(&err);
	assert_null(tg_sink_open_file("/nonexistent-dir/x.json", &err));
	assert_int_equal(err.code, TG_E_IO);
	assert_non_null(strstr(err.msg, "/nonexistent-dir/x.json"));
	/* a full device: the failure is reported at close */
	FILE *full = fopen("/dev/full", "w");
	if (!full)
		skip();
	struct tg_sink *s = tg_sink_open_stream(full, "/dev/full");
	for (int i = 0; i < 100000; i++)
		tg_sink_puts(s, "0123456789");
	assert_int_equal(tg_sink_close(s, &err), TG_E_IO);
	assert_int_equal(err.sub, ENOSPC);
	fclose(full);
}

/* ---- JSON emitter ---- */

static char *render(void (*fn)(struct tg_json *), bool pretty, int *rc)
{
	struct tg_sink *s = tg_sink_open_memory();
	struct tg_json j;
	tg_json_init(&j, s, pretty);
	fn(&j);
	*rc = tg_json_finish(&j, NULL);
	char *out = strdup(tg_sink_memory_data(s, NULL));
	tg_sink_close(s, NULL);
	return out;
}

static void doc_full(struct tg_json *j)
{
	tg_json_begin_object(j);
	tg_json_kv_string(j, "s", "quote\" slash\\ nl\n tab\t ctl\x01 <x>");
	tg_json_kv_int(j, "i", -9007199254740993LL);
	tg_json_kv_uint(j, "u", 9007199254740993ULL);
	tg_json_kv_double(j, "d", 0.1);
	tg_json_kv_double(j, "nan", NAN);
	tg_json_kv_double(j, "inf", INFINITY);
	tg_json_kv_bool(j, "b", true);
	tg_json_key(j, "arr");
	tg_json_begin_array(j);
	tg_json_int(j, 1);
	tg_json_begin_object(j);
	tg_json_end_object(j);
	tg_json_begin_array(j);
	tg_json_end_array(j);
	tg_json_null(j);
	tg_json_end_array(j);
	tg_json_end_object(j);
}

static void test_json_compact_exact(void **state)
{
	(void)state;
	int rc;
	char *out = render(doc_full, false, &rc);
	assert_int_equal(rc, 0);
	assert_string_equal(out, "{\"s\":\"quote\\\" slash\\\\ nl\\n tab\\t ctl\\u0001 <x>\","
				 "\"i\":-9007199254740993,\"u\":9007199254740993,\"d\":0.1,"
				 "\"nan\":null,\"inf\":null,\"b\":true,\"arr\":[1,{},[],null]}");
	free(out);
}

static void test_json_pretty_parses(void **state)
{
	(void)state;
	int rc;
	char *out = render(doc_full, true, &rc);
	assert_int_equal(rc, 0);
	json_error_t je;
	json_t *root = json_loads(out, 0, &je);
	if (!root)
		fail_msg("pretty output does not parse: %s at line %d\n%s", je.text, je.line, out);
	assert_string_equal(json_string_value(json_object_get(root, "s")),
			    "quote\" slash\\ nl\n tab\t ctl\x01 <x>");
	assert_true(json_is_null(json_object_get(root, "nan")));
	assert_true(json_real_value(json_object_get(root, "d")) == 0.1);
	assert_int_equal(json_array_size(json_object_get(root, "arr")), 4);
	assert_true(json_integer_value(json_object_get(root, "u")) == 9007199254740993LL);
	json_decref(root);
	free(out);
}

static void doc_value_without_key(struct tg_json *j)
{
	tg_json_begin_object(j);
	tg_json_int(j, 3);
	tg_json_end_object(j);
}

static void doc_unbalanced(struct tg_json *j)
{
	tg_json_begin_object(j);
	tg_json_kv_int(j, "a", 1);
}

static void doc_key_twice(struct tg_json *j)
{
	tg_json_begin_object(j);
	tg_json_key(j, "a");
	tg_json_key(j, "b");
	tg_json_int(j, 1);
	tg_json_end_object(j);
}

static void doc_empty(struct tg_json *j)
{
	(void)j;
}

static void test_json_misuse(void **state)
{
	(void)state;
	void (*docs[])(struct tg_json *) = {doc_value_without_key, doc_unbalanced, doc_key_twice,
					    doc_empty};
	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		int rc;
		free(render(docs[i], false, &rc));
		assert_int_equal(rc, TG_E_INTERNAL);
	}
}

/* ---- statistics ---- */

static void test_stats_known(void **state)
{
	(void)state;
	const double v[] = {5, 1, 4, 2, 3};
	struct tg_stats s;
	assert_int_equal(tg_stats_compute(v, 5, &s, NULL), 0);
	assert_true(s.median == 3 && s.min == 1 && s.max == 5 && s.mean == 3);
	assert_true(fabs(s.stddev - sqrt(2.5)) < 1e-15);
	const double e[] = {4, 1, 3, 2};
	assert_int_equal(tg_stats_compute(e, 4, &s, NULL), 0);
	assert_true(s.median == 2.5);
	/* large, close samples: no cancellation */
	double big[3] = {1e12 + 1, 1e12 + 2, 1e12 + 3};
	assert_int_equal(tg_stats_compute(big, 3, &s, NULL), 0);
	assert_true(fabs(s.stddev - 1.0) < 1e-9);
	assert_int_equal(tg_stats_compute(v, 0, &s, NULL), 0);
	assert_true(s.n == 0 && isnan(s.median));
	assert_int_equal(tg_stats_compute(v, 1, &s, NULL), 0);
	assert_true(s.stddev == 0.0 && s.median == 5);
}

/* Standard normal draws, seeded (Box-Muller over xorshift). */
static double normal(uint64_t *st)
{
	double u1 = tg_test_urand(st), u2 = tg_test_urand(st);
	if (u1 < 1e-300)
		u1 = 1e-300;
	return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

static void test_stats_quantiles_ci_outliers(void **state)
{
	(void)state;
	double v[100];
	for (int i = 0; i < 100; i++)
		v[i] = 100 - i; /* 1..100 reversed */
	struct tg_stats s;
	assert_int_equal(tg_stats_compute(v, 100, &s, NULL), 0);
	assert_true(s.median == 50.5);
	assert_true(fabs(s.q1 - 25.75) < 1e-12 && fabs(s.q3 - 75.25) < 1e-12);
	assert_true(s.mad == 25.0);
	/* the classic distribution-free 95% interval for n = 100: ranks 40 and 61 */
	assert_true(s.ci_lo == 40 && s.ci_hi == 61);
	assert_int_equal(s.outliers_mild + s.outliers_severe, 0);
	int lo, hi;
	assert_true(tg_median_ci_ranks(10, 0.95, &lo, &hi));
	assert_true(lo == 1 && hi == 8); /* n = 10: X(2)..X(9), 97.9% */
	assert_false(tg_median_ci_ranks(5, 0.95, &lo, &hi));
	/* Tukey fences: one mild, one severe */
	double w[20];
	for (int i = 0; i < 18; i++)
		w[i] = 10 + (i % 5);
	w[18] = 19.5; /* IQR 2 (quartiles 11, 13): 16..19 is mild */
	w[19] = 100;
	assert_int_equal(tg_stats_compute(w, 20, &s, NULL), 0);
	assert_int_equal(s.outliers_mild, 1);
	assert_int_equal(s.outliers_severe, 1);
	/* coverage of the median's interval on a known distribution: 400 draws
	 * of 51 normal samples around 1000; the true median is inside >= 93% */
	uint64_t seed = 0xC0FFEEull;
	int covered = 0;
	for (int rep = 0; rep < 400; rep++) {
		double x[51];
		for (int i = 0; i < 51; i++)
			x[i] = 1000 + 10 * normal(&seed);
		assert_int_equal(tg_stats_compute(x, 51, &s, NULL), 0);
		covered += s.ci_lo <= 1000 && 1000 <= s.ci_hi;
		assert_true(fabs(s.rel_stddev - 0.01) < 0.005);
	}
	print_message("median CI coverage: %d of 400\n", covered);
	assert_true(covered >= 372 && covered <= 400);
}

/* The paired ratio's 95% interval holds the true ratio in about 95% of
 * runs: pairs of lognormal times sharing a per-pair machine factor. */
static void test_paired_ratio_coverage(void **state)
{
	(void)state;
	uint64_t seed = 7;
	int covered = 0, faster = 0;
	const int trials = 300, n = 30;
	double a[30], b[30];
	for (int t = 0; t < trials; t++) {
		for (int i = 0; i < n; i++) {
			const double machine = exp(0.2 * normal(&seed)); /* drift, other load */
			a[i] = 1e6 * machine * exp(0.05 * normal(&seed));
			b[i] = 1.1e6 * machine * exp(0.05 * normal(&seed));
		}
		double ratio, lo, hi;
		assert_int_equal(tg_paired_ratio(b, a, n, 0.95, 2000, (uint64_t)t, &ratio, &lo, &hi, NULL), 0);
		assert_true(lo <= ratio && ratio <= hi);
		covered += lo <= 1.1 && 1.1 <= hi;
		faster += lo > 1.0;
	}
	print_message("paired ratio: the 95%% interval held the truth in %d of %d runs, excluded 1 in %d\n",
		      covered, trials, faster);
	assert_true(covered >= 0.90 * trials && covered <= 0.99 * trials);
	/* a 10% difference under 20% common noise is found every time */
	assert_true(faster >= 0.98 * trials);
	/* no difference: the interval holds 1 about 95% of the time */
	int same = 0;
	for (int t = 0; t < trials; t++) {
		for (int i = 0; i < n; i++) {
			const double machine = exp(0.2 * normal(&seed));
			a[i] = 1e6 * machine * exp(0.05 * normal(&seed));
			b[i] = 1e6 * machine * exp(0.05 * normal(&seed));
		}
		double ratio, lo, hi;
		assert_int_equal(tg_paired_ratio(b, a, n, 0.95, 2000, (uint64_t)t, &ratio, &lo, &hi, NULL), 0);
		same += lo <= 1.0 && 1.0 <= hi;
	}
	print_message("paired ratio: A/A interval held 1 in %d of %d runs\n", same, trials);
	assert_true(same >= 0.90 * trials);
}

/* tg_drift_spread: ~0 for a steady run however noisy; a linear drift of
 * 10% over the run reads ~7.5% (the quarters' medians); a 20% step, ~20%. */
static void test_drift_spread(void **state)
{
	(void)state;
	uint64_t st = 4;
	double v[40];
	double worst_steady = 0, lin = 0, step = 0;
	for (int t = 0; t < 50; t++) {
		for (int i = 0; i < 40; i++)
			v[i] = 1e6 * (1 + 0.05 * normal(&st));
		const double d = tg_drift_spread(v, 40, 4);
		worst_steady = d > worst_steady ? d : worst_steady;
		for (int i = 0; i < 40; i++)
			v[i] = 1e6 * (1 + 0.10 * i / 39.0) * (1 + 0.01 * normal(&st));
		lin += tg_drift_spread(v, 40, 4) / 50;
		for (int i = 0; i < 40; i++)
			v[i] = 1e6 * (i < 20 ? 1.0 : 1.2) * (1 + 0.01 * normal(&st));
		step += tg_drift_spread(v, 40, 4) / 50;
	}
	print_message("drift spread: steady (5%% noise) at most %.4f, linear 10%% %.4f, step 20%% "
		      "%.4f\n",
		      worst_steady, lin, step);
	assert_true(worst_steady < 0.04);
	assert_true(lin > 0.06 && lin < 0.09);
	assert_true(step > 0.18 && step < 0.22);
	assert_true(isnan(tg_drift_spread(v, 15, 4)));
	assert_true(isnan(tg_median_of(v, 0)));
	const double w[] = {3, 1, 2};
	assert_true(tg_median_of(w, 3) == 2 && w[0] == 3); /* not reordered */
}

static void test_stopping_rule(void **state)
{
	(void)state;
	struct tg_stop_rule r;
	struct tg_stopper s;
	int reason = 0, n = 0;
	/* a fixed count */
	tg_stop_rule_default(&r);
	r.fixed = 7;
	assert_int_equal(tg_stopper_init(&s, &r, NULL), 0);
	while ((reason = tg_stopper_add(&s, 1e6, 0.0)) == TG_STOP_CONTINUE)
		n++;
	assert_int_equal(reason, TG_STOP_COUNT);
	assert_int_equal(n + 1, 7);
	tg_stopper_fini(&s);
	/* quiet samples of 100 ms: the minimum count and time, then low noise */
	uint64_t seed = 42;
	tg_stop_rule_default(&r);
	assert_int_equal(tg_stopper_init(&s, &r, NULL), 0);
	n = 0;
	double t = 0;
	do {
		double x = 1e8 * (1 + 0.001 * normal(&seed));
		t += x * 1e-9;
		reason = tg_stopper_add(&s, x, t);
		n++;
	} while (reason == TG_STOP_CONTINUE);
	assert_int_equal(reason, TG_STOP_NOISE);
	assert_int_equal(n, 10);
	tg_stopper_fini(&s);
	/* 5% noise on 1 ms samples: the median's error falls under 0.5% after
	 * ~ (1.25 * 5 / 0.5)^2 = 156 samples */
	assert_int_equal(tg_stopper_init(&s, &r, NULL), 0);
	n = 0;
	t = 0;
	do {
		double x = 1e6 * (1 + 0.05 * normal(&seed));
		t += x * 1e-9;
		reason = tg_stopper_add(&s, x, t);
		n++;
	} while (reason == TG_STOP_CONTINUE);
	print_message("5%% noise: stopped by %s after %d samples\n", tg_stop_reason_name(reason), n);
	assert_true(reason == TG_STOP_NOISE || reason == TG_STOP_STABLE);
	assert_true(n >= 500 /* 0.5 s of 1 ms samples */ && n < 2000);
	tg_stopper_fini(&s);
	/* slow and noisy: the time budget ends it */
	r.timeout_s = 3.0;
	assert_int_equal(tg_stopper_init(&s, &r, NULL), 0);
	n = 0;
	t = 0;
	do {
		double x = 1e9 * (1 + 0.2 * normal(&seed));
		t += x * 1e-9;
		reason = tg_stopper_add(&s, x, t);
		n++;
	} while (reason == TG_STOP_CONTINUE);
	assert_int_equal(reason, TG_STOP_TIMEOUT);
	assert_true(n >= 2 && n <= 5);
	tg_stopper_fini(&s);
	/* 10 ms samples with 50% noise: the noise estimate settles early, but
	 * "stable" is said only once the median is known within 4x the target
	 * (such states stopped as "stable-noise" with the median known to ~5%) */
	tg_stop_rule_default(&r);
	r.timeout_s = 60.0;
	assert_int_equal(tg_stopper_init(&s, &r, NULL), 0);
	n = 0;
	t = 0;
	do {
		double x = 1e7 * (1 + 0.5 * fabs(normal(&seed)));
		t += x * 1e-9;
		reason = tg_stopper_add(&s, x, t);
		n++;
	} while (reason == TG_STOP_CONTINUE);
	print_message("50%% noise: stopped by %s after %d samples, median known to %.2f%%\n",
		      tg_stop_reason_name(reason), n, 100 * s.last_noise);
	assert_true(reason == TG_STOP_STABLE || reason == TG_STOP_NOISE);
	assert_true(s.last_noise <= TG_STOP_STABLE_MAX * r.max_noise);
	tg_stopper_fini(&s);
	/* the cap */
	tg_stop_rule_default(&r);
	r.max_samples = 20;
	r.max_noise = 1e-9;
	r.min_time_s = 0;
	assert_int_equal(tg_stopper_init(&s, &r, NULL), 0);
	n = 0;
	do {
		reason = tg_stopper_add(&s, 1e6 * (1 + 0.3 * normal(&seed)), 0.0);
		n++;
	} while (reason == TG_STOP_CONTINUE);
	assert_int_equal(reason, TG_STOP_MAX);
	assert_int_equal(n, 20);
	tg_stopper_fini(&s);
	/* bad rules */
	struct tg_error err;
	r.min_samples = 1;
	assert_int_equal(tg_stopper_init(&s, &r, &err), TG_E_RANGE);
	assert_string_equal(tg_stop_reason_name(TG_STOP_STABLE), "stable-noise");
}

static void test_mann_whitney_bootstrap_changes(void **state)
{
	(void)state;
	const double a[] = {1, 2, 3, 4, 5}, b[] = {6, 7, 8, 9, 10};
	struct tg_mwu m;
	assert_int_equal(tg_mann_whitney(a, 5, b, 5, &m, NULL), 0);
	assert_true(m.exact);
	assert_true(m.u == 0);
	assert_true(fabs(m.p - 2.0 / 252.0) < 1e-12);
	assert_int_equal(tg_mann_whitney(b, 5, a, 5, &m, NULL), 0);
	assert_true(m.u == 25 && fabs(m.p - 2.0 / 252.0) < 1e-12);
	/* interleaved: no difference */
	const double c[] = {1, 3, 5, 7, 9}, d[] = {2, 4, 6, 8, 10};
	assert_int_equal(tg_mann_whitney(c, 5, d, 5, &m, NULL), 0);
	assert_true(m.p > 0.5);
	/* ties: normal approximation */
	const double e[] = {1, 1, 2, 2, 3, 3, 4, 4}, f[] = {3, 3, 4, 4, 5, 5, 6, 6};
	assert_int_equal(tg_mann_whitney(e, 8, f, 8, &m, NULL), 0);
	assert_false(m.exact);
	assert_true(m.p > 0.001 && m.p < 0.05);
	assert_int_equal(tg_mann_whitney(e, 0, f, 8, &m, NULL), TG_E_INVAL);
	/* a 5% slower sample with 1% noise: the ratio's interval holds 1.05 */
	uint64_t seed = 7;
	double x[40], y[40];
	for (int i = 0; i < 40; i++) {
		x[i] = 1e6 * (1 + 0.01 * normal(&seed));
		y[i] = 1.05e6 * (1 + 0.01 * normal(&seed));
	}
	double lo, hi;
	assert_int_equal(tg_bootstrap_ratio_ci(x, 40, y, 40, 0.95, 2000, 1, &lo, &hi, NULL), 0);
	assert_true(lo > 1.03 && lo < 1.05 && hi > 1.05 && hi < 1.07);
	/* deterministic */
	double lo2, hi2;
	tg_bootstrap_ratio_ci(x, 40, y, 40, 0.95, 2000, 1, &lo2, &hi2, NULL);
	assert_true(lo == lo2 && hi == hi2);
	/* change points: a 10% step after 20 runs; pure noise has none */
	double series[40];
	for (int i = 0; i < 40; i++)
		series[i] = (i < 20 ? 100 : 110) * (1 + 0.005 * normal(&seed));
	int splits[4];
	int ns = tg_change_points(series, 40, 0.03, 5.0, 3, splits, 4);
	assert_int_equal(ns, 1);
	assert_int_equal(splits[0], 20);
	for (int i = 0; i < 40; i++)
		series[i] = 100 * (1 + 0.005 * normal(&seed));
	assert_int_equal(tg_change_points(series, 40, 0.03, 5.0, 3, splits, 4), 0);
	/* two steps */
	for (int i = 0; i < 40; i++)
		series[i] = (i < 12 ? 100 : i < 30 ? 120 : 90) * (1 + 0.005 * normal(&seed));
	ns = tg_change_points(series, 40, 0.03, 5.0, 3, splits, 4);
	assert_int_equal(ns, 2);
	assert_true(splits[0] == 12 && splits[1] == 30);
}

static void test_results_params_and_states(void **state)
{
	(void)state;
	struct tg_run_results r;
	tg_results_init(&r);
	for (int i = 0; i < 100; i++)
		assert_int_equal(tg_results_param_number(&r, "k", i), 0);
	assert_int_equal(tg_results_param_text(&r, "name", "value"), 0);
	assert_int_equal(r.n_params, 101);
	assert_string_equal(r.params[100].text, "value");
	struct tg_state_result *st = tg_results_add_state(&r);
	snprintf(st->backend, sizeof(st->backend), "cpu");
	snprintf(st->ma_mode, sizeof(st->ma_mode), "exact");
	st->samples_ns = malloc(sizeof(double));
	assert_ptr_equal(tg_results_find_state(&r, "cpu", "exact"), st);
	assert_null(tg_results_find_state(&r, "cpu", "approx"));
	tg_results_fini(&r);
}

/* ---- misc ---- */

static void test_strlcpy_and_clock(void **state)
{
	(void)state;
	char b[4];
	assert_int_equal(tg_strlcpy(b, "abcdef", sizeof(b)), 6);
	assert_string_equal(b, "abc");
	uint64_t a = tg_clock_ns(), c = tg_clock_ns();
	assert_true(c >= a);
	char t[32];
	tg_clock_format_utc(0, t, sizeof(t));
	assert_string_equal(t, "1970-01-01T00:00:00Z");
	tg_clock_format_compact(86400ull * 1000000000ull, t, sizeof(t));
	assert_string_equal(t, "19700102-000000");
}

static void test_machine_probe(void **state)
{
	(void)state;
	struct tg_machine m;
	tg_machine_probe(&m);
	assert_true(m.logical_cpus >= 1);
	assert_true(m.allowed_cpus >= 1 && m.allowed_cpus <= m.logical_cpus);
	assert_true(m.memory_bytes > 0);
	const struct tg_build_info *b = tg_build_info();
	assert_true(b->n_features == 7);
	assert_string_equal(b->features[0].name, "cuda");
	assert_string_equal(b->features[6].name, "mpi");
}

/* ---- capture ---- */

/* the whole string a decimal integer in range, or nothing is set */
static void test_parse_int(void **state)
{
	(void)state;
	long v = -7;
	assert_true(tg_parse_int("42", 0, 100, &v) && v == 42);
	assert_true(tg_parse_int("-3", -5, 5, &v) && v == -3);
	assert_true(tg_parse_int("0", 0, 0, &v) && v == 0);
	v = -7;
	assert_false(tg_parse_int(NULL, 0, 9, &v));
	assert_false(tg_parse_int("", 0, 9, &v));
	assert_false(tg_parse_int("4x", 0, 9, &v));
	assert_false(tg_parse_int("two", 0, 9, &v));
	assert_false(tg_parse_int("10", 0, 9, &v));
	assert_false(tg_parse_int("-1", 0, 9, &v));
	assert_false(tg_parse_int("99999999999999999999999", 0, 9, &v));
	assert_int_equal(v, -7);
}

static void test_capture_strings_and_stacks(void **state)
{
	(void)state;
	struct tg_capture *c = tg_capture_new();
	assert_non_null(c);
	assert_int_equal(tg_capture_intern(c, NULL), 0);
	assert_int_equal(tg_capture_intern(c, ""), 0);
	assert_string_equal(tg_capture_string(c, 0), "");
	assert_string_equal(tg_capture_string(c, 12345), "");
	uint32_t a = tg_capture_intern(c, "alpha"), b = tg_capture_intern(c, "beta");
	assert_int_not_equal(a, b);
	assert_int_equal(tg_capture_intern(c, "alpha"), a);
	assert_int_equal(tg_capture_intern_n(c, "alphabet", 5), a);
	/* many strings: the table rehashes and keeps every id */
	char buf[32];
	uint32_t ids[3000];
	for (int i = 0; i < 3000; i++) {
		snprintf(buf, sizeof(buf), "s%d", i);
		ids[i] = tg_capture_intern(c, buf);
	}
	for (int i = 0; i < 3000; i++) {
		snprintf(buf, sizeof(buf), "s%d", i);
		assert_int_equal(tg_capture_intern(c, buf), ids[i]);
		assert_string_equal(tg_capture_string(c, ids[i]), buf);
	}
	const uint64_t s1[] = {0x10, 0x20, 0x30}, s2[] = {0x10, 0x20};
	uint32_t k1 = tg_capture_add_stack(c, s1, 3), k2 = tg_capture_add_stack(c, s2, 2);
	assert_int_not_equal(k1, 0);
	assert_int_not_equal(k1, k2);
	assert_int_equal(tg_capture_add_stack(c, s1, 3), k1);
	assert_int_equal(tg_capture_add_stack(c, s1, 0), 0);
	uint32_t depth = 0;
	const uint64_t *pcs = tg_capture_stack(c, k1, &depth);
	assert_int_equal(depth, 3);
	assert_memory_equal(pcs, s1, sizeof(s1));
	assert_null(tg_capture_stack(c, 999, &depth));
	assert_int_equal(depth, 0);
	tg_capture_free(c);
}

static void test_capture_threads_meta_launches(void **state)
{
	(void)state;
	struct tg_capture *c = tg_capture_new();
	assert_int_equal(tg_capture_set_thread(c, 100, 0, "comm"), 0);
	/* an OS name does not replace a name; an explicit one does */
	assert_int_equal(tg_capture_set_thread(c, 100, 0xdeadbeef, "other"), 0);
	assert_string_equal(tg_capture_string(c, tg_capture_find_thread(c, 100)->name), "comm");
	assert_int_equal(tg_capture_name_thread(c, 100, "worker-1"), 0);
	assert_string_equal(tg_capture_string(c, tg_capture_find_thread(c, 100)->name), "worker-1");
	/* CUPTI may report pthread_self() truncated: resolved to the OS tid */
	assert_int_equal(tg_capture_resolve_tid(c, 0xdeadbeef), 100);
	assert_int_equal(tg_capture_resolve_tid(c, 100), 100);
	assert_int_equal(tg_capture_resolve_tid(c, 7), 7);
	assert_int_equal(tg_capture_set_tag(c, 2, "cuda"), 0);
	assert_string_equal(tg_capture_tag_name(c, 2), "cuda");
	assert_string_equal(tg_capture_tag_name(c, 0), "");
	assert_string_equal(tg_capture_tag_name(c, -1), "");
	assert_int_equal(tg_capture_set_tag(c, -1, "x"), TG_E_INVAL);
	assert_int_equal(tg_capture_set_meta(c, "k", "v1"), 0);
	assert_int_equal(tg_capture_set_meta(c, "k", "v2"), 0);
	assert_string_equal(tg_capture_meta(c, "k"), "v2");
	assert_null(tg_capture_meta(c, "missing"));
	assert_int_equal(tg_capture_count(c, "drops", 2), 0);
	assert_int_equal(tg_capture_count(c, "drops", 3), 0);
	assert_int_equal(tg_capture_counter(c, "drops"), 5);
	assert_int_equal(tg_capture_counter(c, "none"), 0);
	for (uint32_t corr = 50; corr > 0; corr -= 5) {
		struct tg_launch l = {1000 + corr, corr, 100, 2, 0};
		assert_int_equal(tg_capture_add_launch(c, &l), 0);
	}
	struct tg_event late = {.start_ns = 30, .end_ns = 40, .kind = TG_EV_KERNEL};
	struct tg_event outer = {.start_ns = 10, .end_ns = 50, .kind = TG_EV_RANGE};
	struct tg_event inner = {.start_ns = 10, .end_ns = 20, .kind = TG_EV_RUNTIME};
	tg_capture_add_event(c, &late);
	tg_capture_add_event(c, &inner);
	tg_capture_add_event(c, &outer);
	tg_capture_sort(c);
	/* start order, enclosing first */
	assert_int_equal(c->events[0].kind, TG_EV_RANGE);
	assert_int_equal(c->events[1].kind, TG_EV_RUNTIME);
	assert_int_equal(c->events[2].kind, TG_EV_KERNEL);
	assert_non_null(tg_capture_find_launch(c, 25));
	assert_int_equal(tg_capture_find_launch(c, 25)->t_ns, 1025);
	assert_null(tg_capture_find_launch(c, 26));
	assert_null(tg_capture_find_launch(c, 0));
	assert_string_equal(tg_copy_kind_name(TG_COPY_HTOD), "HtoD");
	assert_string_equal(tg_copy_kind_name(99), "memcpy");
	assert_string_equal(tg_ev_kind_name(TG_EV_KERNEL), "kernel");
	tg_capture_free(c);
}

/* A capture with one of everything. */
static struct tg_capture *sample_capture(void)
{
	struct tg_capture *c = tg_capture_new();
	c->pid = 4242;
	c->start_ns = 1000;
	c->end_ns = 99000;
	c->sample_period_ns = 1003009.0;
	const uint64_t pcs[] = {0x401000, 0x402000, 0x403000};
	uint32_t st = tg_capture_add_stack(c, pcs, 3);
	struct tg_event k = {.start_ns = 2000, .end_ns = 5000, .kind = TG_EV_KERNEL,
			     .name = tg_capture_intern(c, "_Z6kernelPd"), .device = 0, .stream = 7,
			     .correlation = 11, .grid = {4, 1, 1}, .block = {256, 1, 1}, .regs = 40,
			     .shmem = 1024};
	struct tg_event m = {.start_ns = 1500, .end_ns = 1900, .bytes = 1 << 20, .kind = TG_EV_MEMCPY,
			     .sub = TG_COPY_HTOD, .name = tg_capture_intern(c, "memcpy HtoD"),
			     .stream = 7, .correlation = 10, .flags = TG_EVF_PAGEABLE};
	struct tg_event a = {.start_ns = 1200, .end_ns = 1400, .kind = TG_EV_RUNTIME, .pid = 4242,
			     .tid = 4242, .name = tg_capture_intern(c, "cudaLaunchKernel"),
			     .domain = tg_capture_intern(c, "runtime"), .correlation = 11, .cbid = 211};
	tg_capture_add_event(c, &k);
	tg_capture_add_event(c, &m);
	tg_capture_add_event(c, &a);
	struct tg_launch l = {1210, 11, 4242, 1, st, 7 | 0x100};
	tg_capture_add_launch(c, &l);
	struct tg_capture_sample s = {3000, 4242, 1, 8u << 16, st};
	tg_capture_add_sample(c, &s);
	tg_capture_set_thread(c, 4242, 77, "main");
	struct tg_capture_device d = {0, tg_capture_intern(c, "NVIDIA H100"), 132, 9, 0, 80ull << 30,
				      3352000000000ull};
	tg_capture_set_device(c, &d);
	tg_capture_set_meta(c, "cupti.version", "130001");
	tg_capture_count(c, "cupti.dropped_records", 3);
	tg_capture_set_tag(c, 0, "main");
	tg_capture_set_tag(c, 1, "cuda");
	return c;
}

static char *write_capture(const struct tg_capture *c, size_t *len)
{
	struct tg_sink *s = tg_sink_open_memory();
	assert_int_equal(tg_capture_write(c, s, NULL), 0);
	const char *data = tg_sink_memory_data(s, len);
	char *copy = malloc(*len + 1);
	memcpy(copy, data, *len);
	tg_sink_close(s, NULL);
	return copy;
}

/* A version-1 file (launches without a phase) still reads: its launches
 * are in no phase. */
static void test_capture_version_1(void **state)
{
	(void)state;
	struct tg_capture *c = sample_capture();
	size_t len = 0;
	char *bin = write_capture(c, &len);
	char *lnch = memmem(bin, len, "LNCH", 4);
	assert_non_null(lnch);
	uint64_t n;
	memcpy(&n, lnch + 4, 8);
	assert_int_equal(n, 1);
	/* drop each record's last word (the phase), say version 1 */
	char *v1 = malloc(len);
	size_t at = (size_t)(lnch + 12 - bin);
	memcpy(v1, bin, at);
	memcpy(v1 + at, bin + at, 24);
	memcpy(v1 + at + 24, bin + at + 28, len - at - 28);
	const uint32_t one = 1;
	memcpy(v1 + 8, &one, 4);
	struct tg_capture *r = tg_capture_new();
	struct tg_error err;
	if (tg_capture_read(r, v1, len - 4, "v1", &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(r->n_launches, 1);
	assert_int_equal(r->launches[0].tag, 1);
	assert_int_equal(r->launches[0].phase, 0);
	assert_int_equal(r->n_samples, 1);
	tg_capture_free(r);
	/* a version from the future names what this build reads */
	const uint32_t three = 3;
	memcpy(bin + 8, &three, 4);
	r = tg_capture_new();
	assert_int_equal(tg_capture_read(r, bin, len, "v3", &err), TG_E_PARSE);
	assert_non_null(strstr(err.msg, "format version 3, this build reads versions 1 to 2"));
	tg_capture_free(r);
	free(v1);
	free(bin);
	tg_capture_free(c);
}

static void test_capture_round_trip(void **state)
{
	(void)state;
	struct tg_capture *c = sample_capture();
	size_t len = 0;
	char *bin = write_capture(c, &len);
	struct tg_capture *r = tg_capture_new();
	struct tg_error err;
	tg_error_clear(&err);
	assert_int_equal(tg_capture_read(r, bin, len, "mem", &err), 0);
	assert_int_equal(r->pid, 4242);
	assert_int_equal(r->start_ns, 1000);
	assert_int_equal(r->end_ns, 99000);
	assert_true(r->sample_period_ns == 1003009.0);
	assert_int_equal(r->n_events, 3);
	for (size_t i = 0; i < 3; i++) {
		const struct tg_event *x = &c->events[i], *y = &r->events[i];
		assert_int_equal(x->start_ns, y->start_ns);
		assert_int_equal(x->end_ns, y->end_ns);
		assert_int_equal(x->bytes, y->bytes);
		assert_string_equal(tg_capture_string(c, x->name), tg_capture_string(r, y->name));
		assert_int_equal(x->kind, y->kind);
		assert_int_equal(x->sub, y->sub);
		assert_int_equal(x->flags, y->flags);
		assert_int_equal(x->correlation, y->correlation);
		assert_int_equal(x->cbid, y->cbid);
		assert_memory_equal(x->grid, y->grid, sizeof(x->grid));
		assert_memory_equal(x->block, y->block, sizeof(x->block));
		assert_int_equal(x->regs, y->regs);
		assert_int_equal(x->shmem, y->shmem);
	}
	assert_int_equal(r->n_launches, 1);
	assert_int_equal(r->launches[0].tag, 1);
	assert_int_equal(r->launches[0].phase, 7 | 0x100);
	assert_int_equal(r->samples[0].flags >> 16, 8);
	uint32_t depth = 0;
	const uint64_t *pcs = tg_capture_stack(r, r->launches[0].stack, &depth);
	assert_int_equal(depth, 3);
	assert_int_equal(pcs[2], 0x403000);
	assert_int_equal(r->n_samples, 1);
	assert_int_equal(r->samples[0].stack, r->launches[0].stack);
	assert_string_equal(tg_capture_string(r, tg_capture_find_thread(r, 4242)->name), "main");
	assert_int_equal(tg_capture_find_thread(r, 4242)->alt_id, 77);
	assert_int_equal(r->n_devices, 1);
	assert_string_equal(tg_capture_string(r, r->devices[0].name), "NVIDIA H100");
	assert_int_equal(r->devices[0].memory_bandwidth, 3352000000000ull);
	assert_string_equal(tg_capture_meta(r, "cupti.version"), "130001");
	assert_int_equal(tg_capture_counter(r, "cupti.dropped_records"), 3);
	assert_string_equal(tg_capture_tag_name(r, 1), "cuda");
	/* writing the read capture gives the same bytes */
	size_t len2 = 0;
	char *bin2 = write_capture(r, &len2);
	assert_int_equal(len, len2);
	assert_memory_equal(bin, bin2, len);
	/* reading into a used capture is refused */
	assert_int_equal(tg_capture_read(r, bin, len, "mem", &err), TG_E_INVAL);
	free(bin);
	free(bin2);
	tg_capture_free(r);
	tg_capture_free(c);
}

static void test_capture_bad_input(void **state)
{
	(void)state;
	struct tg_capture *c = sample_capture();
	size_t len = 0;
	char *bin = write_capture(c, &len);
	struct tg_error err;
	/* every truncation is an error naming the source, never a crash */
	for (size_t cut = 0; cut < len; cut++) {
		struct tg_capture *r = tg_capture_new();
		tg_error_clear(&err);
		assert_int_equal(tg_capture_read(r, bin, cut, "cut.bin", &err), TG_E_PARSE);
		assert_non_null(strstr(err.msg, "capture 'cut.bin'"));
		tg_capture_free(r);
	}
	struct {
		size_t off;
		unsigned char byte;
		const char *want;
	} cases[] = {
		{0, 'X', "not a capture.bin file"},
		{8, 9, "format version 9"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *bad = malloc(len);
		memcpy(bad, bin, len);
		bad[cases[i].off] = (char)cases[i].byte;
		struct tg_capture *r = tg_capture_new();
		tg_error_clear(&err);
		assert_int_equal(tg_capture_read(r, bad, len, "bad.bin", &err), TG_E_PARSE);
		assert_non_null(strstr(err.msg, cases[i].want));
		tg_capture_free(r);
		free(bad);
	}
	/* trailing bytes */
	char *longer = malloc(len + 3);
	memcpy(longer, bin, len);
	memset(longer + len, 0, 3);
	struct tg_capture *r = tg_capture_new();
	assert_int_equal(tg_capture_read(r, longer, len + 3, "long.bin", &err), TG_E_PARSE);
	assert_non_null(strstr(err.msg, "3 unexpected bytes"));
	tg_capture_free(r);
	free(longer);
	/* an event naming a string that does not exist */
	struct tg_capture *c2 = tg_capture_new();
	struct tg_event e = {.start_ns = 1, .end_ns = 2, .kind = TG_EV_KERNEL, .name = 500};
	tg_capture_add_event(c2, &e);
	size_t len2 = 0;
	char *bin2 = write_capture(c2, &len2);
	r = tg_capture_new();
	assert_int_equal(tg_capture_read(r, bin2, len2, "ids.bin", &err), TG_E_PARSE);
	assert_non_null(strstr(err.msg, "string id 500 out of range"));
	tg_capture_free(r);
	/* an event ending before it starts */
	c2->events[0] = (struct tg_event){.start_ns = 5, .end_ns = 2, .kind = TG_EV_KERNEL};
	free(bin2);
	bin2 = write_capture(c2, &len2);
	r = tg_capture_new();
	assert_int_equal(tg_capture_read(r, bin2, len2, "time.bin", &err), TG_E_PARSE);
	assert_non_null(strstr(err.msg, "end >= start"));
	tg_capture_free(r);
	/* a sample period that is not a time (it was cast to an integer when
	 * drawing the samples: undefined behaviour); a string with a NUL byte
	 * is tests/fuzz/corpus/capture/regression-nul-in-string.bin */
	c2->events[0] = (struct tg_event){.start_ns = 1, .end_ns = 2, .kind = TG_EV_KERNEL};
	const double periods[] = {INFINITY, -1.0, NAN, 1e300};
	for (size_t i = 0; i < sizeof(periods) / sizeof(periods[0]); i++) {
		c2->sample_period_ns = periods[i];
		free(bin2);
		bin2 = write_capture(c2, &len2);
		r = tg_capture_new();
		assert_int_equal(tg_capture_read(r, bin2, len2, "period.bin", &err), TG_E_PARSE);
		if (!strstr(err.msg, "period.bin': byte 32: sample period"))
			fail_msg("%s", err.msg);
		tg_capture_free(r);
	}
	tg_capture_free(c2);
	free(bin2);
	/* a missing file */
	r = tg_capture_new();
	assert_int_equal(tg_capture_load(r, "/nonexistent/capture.bin", &err), TG_E_IO);
	assert_non_null(strstr(err.msg, "/nonexistent/capture.bin"));
	tg_capture_free(r);
	free(bin);
	tg_capture_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_error_set_and_try),
		cmocka_unit_test(test_error_prefix_truncates),
		cmocka_unit_test(test_log_levels),
		cmocka_unit_test(test_sink_memory),
		cmocka_unit_test(test_sink_wrapped),
		cmocka_unit_test(test_sink_double_roundtrip),
		cmocka_unit_test(test_sink_file_atomic),
		cmocka_unit_test(test_sink_errors),
		cmocka_unit_test(test_json_compact_exact),
		cmocka_unit_test(test_json_pretty_parses),
		cmocka_unit_test(test_json_misuse),
		cmocka_unit_test(test_json_uint64_max),
		cmocka_unit_test(test_stats_known),
		cmocka_unit_test(test_stats_quantiles_ci_outliers),
		cmocka_unit_test(test_paired_ratio_coverage),
		cmocka_unit_test(test_drift_spread),
		cmocka_unit_test(test_stopping_rule),
		cmocka_unit_test(test_mann_whitney_bootstrap_changes),
		cmocka_unit_test(test_results_params_and_states),
		cmocka_unit_test(test_strlcpy_and_clock),
		cmocka_unit_test(test_machine_probe),
		cmocka_unit_test(test_capture_strings_and_stacks),
		cmocka_unit_test(test_capture_threads_meta_launches),
		cmocka_unit_test(test_capture_round_trip),
		cmocka_unit_test(test_parse_int),
		cmocka_unit_test(test_capture_version_1),
		cmocka_unit_test(test_capture_bad_input),
	};
	return cmocka_run_group_tests_name("core", tests, NULL, NULL);
}
