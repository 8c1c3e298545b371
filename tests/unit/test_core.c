/* host/core: errors, logging, sinks, the JSON emitter, statistics. */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tg_clock.h"
#include "tg_json.h"
#include "tg_log.h"
#include "tg_machine.h"
#include "tg_results.h"
#include "tg_sink.h"
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
	assert_true(b->n_features == 6);
	assert_string_equal(b->features[0].name, "cuda");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_error_set_and_try),
		cmocka_unit_test(test_error_prefix_truncates),
		cmocka_unit_test(test_log_levels),
		cmocka_unit_test(test_sink_memory),
		cmocka_unit_test(test_sink_double_roundtrip),
		cmocka_unit_test(test_sink_file_atomic),
		cmocka_unit_test(test_sink_errors),
		cmocka_unit_test(test_json_compact_exact),
		cmocka_unit_test(test_json_pretty_parses),
		cmocka_unit_test(test_json_misuse),
		cmocka_unit_test(test_json_uint64_max),
		cmocka_unit_test(test_stats_known),
		cmocka_unit_test(test_results_params_and_states),
		cmocka_unit_test(test_strlcpy_and_clock),
		cmocka_unit_test(test_machine_probe),
	};
	return cmocka_run_group_tests_name("core", tests, NULL, NULL);
}
