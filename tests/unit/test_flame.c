/* flame/: the results writers against golden files (TG_UPDATE_GOLDEN=1
 * rewrites them), and results.json parsed back with jansson. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tg_report.h"
#include "tg_test.h"

static const struct tg_feature features[] = {{"cuda", false, "off for the test"}};
static const struct tg_build_info build = {"9.9.9", "abcdef123456", "Release", "GNU 12", "-O3",
					   "", features, 1};

/* A fixed, fully populated result: no clock, no machine probe. */
static void fixture(struct tg_run_results *r, bool complete)
{
	tg_results_init(r);
	snprintf(r->command, sizeof(r->command), "trendgpu-bench run --symbols 2 --bars 100");
	snprintf(r->created_utc, sizeof(r->created_utc), "2026-01-02T03:04:05Z");
	snprintf(r->run_dir, sizeof(r->run_dir), "profiles/run-test");
	snprintf(r->machine.hostname, sizeof(r->machine.hostname), "host");
	snprintf(r->machine.cpu_model, sizeof(r->machine.cpu_model), "Test CPU");
	snprintf(r->machine.kernel, sizeof(r->machine.kernel), "Linux 6");
	snprintf(r->machine.arch, sizeof(r->machine.arch), "x86_64");
	snprintf(r->machine.os, sizeof(r->machine.os), "Debian \"12\"");
	r->machine.logical_cpus = 2;
	r->machine.allowed_cpus = 2;
	r->machine.memory_bytes = 24ull << 30;
	r->build = &build;
	static const char *const fam[6] = {"EMA", "HMA", "WMA", "DEMA", "LSMA", "KAMA"};
	for (int f = 0; f < 6; f++)
		r->family_names[f] = fam[f];
	tg_results_param_text(r, "backends", "cpu,cuda");
	tg_results_param_number(r, "symbols", 2);
	tg_results_param_number(r, "lambda", 0.02);
	for (int m = 0; m < 2; m++) {
		struct tg_state_result *st = tg_results_add_state(r);
		snprintf(st->backend, sizeof(st->backend), "cpu");
		snprintf(st->ma_mode, sizeof(st->ma_mode), m ? "approx" : "exact");
		st->available = true;
		st->threads = 2;
		st->warmup = 1;
		st->n_samples = 3;
		st->samples_ns = malloc(3 * sizeof(double));
		for (int i = 0; i < 3; i++)
			st->samples_ns[i] = (m ? 1e6 : 4e6) + 1000.0 * i;
		tg_stats_compute(st->samples_ns, 3, &st->wall, NULL);
		st->bar_mas = 200.0 * 54;
	}
	struct tg_state_result *st = tg_results_add_state(r);
	snprintf(st->backend, sizeof(st->backend), "cuda");
	snprintf(st->ma_mode, sizeof(st->ma_mode), "approx");
	st->available = true;
	st->threads = 0;
	st->n_samples = 2;
	st->samples_ns = malloc(2 * sizeof(double));
	st->kernel_samples_ns = malloc(2 * sizeof(double));
	st->samples_ns[0] = 3e5;
	st->samples_ns[1] = 5e5;
	st->kernel_samples_ns[0] = 1e5;
	st->kernel_samples_ns[1] = 2e5;
	tg_stats_compute(st->samples_ns, 2, &st->wall, NULL);
	tg_stats_compute(st->kernel_samples_ns, 2, &st->kernel, NULL);
	double tot[2] = {2.5e5, 3.5e5};
	tg_stats_compute(tot, 2, &st->device_total, NULL);
	st->kernel_ns = st->kernel.median;
	st->h2d_ns = 5e4;
	st->d2h_ns = 4e4;
	st->kernel_bytes = 3e8;
	st->h2d_bytes = 1.6e6;
	st->d2h_bytes = 1.6e6;
	st->chunks = 1;
	st->pinned = true;
	st->bar_mas = 200.0 * 54;
	snprintf(st->device, sizeof(st->device), "Test GPU (sm_90)");
	st = tg_results_add_state(r);
	snprintf(st->backend, sizeof(st->backend), "cuda");
	snprintf(st->ma_mode, sizeof(st->ma_mode), "exact");
	st->available = false;
	snprintf(st->error, sizeof(st->error), "no CUDA driver (cudaErrorInsufficientDriver)");
	struct tg_accuracy *a = tg_results_add_accuracy(r);
	snprintf(a->backend, sizeof(a->backend), "cpu");
	for (int f = 0; f < 6; f++) {
		a->family[f].mean_rel_err = 0.001 * (f + 1);
		a->family[f].max_rel_err = 0.01 * (f + 1);
		a->family[f].frac_within_5pct = 1.0 - 0.1 * f;
		a->family[f].l1_sign_agreement = 0.9 - 0.05 * f;
	}
	a->avg_sign_agreement = 0.875;
	a->avg_max_abs_diff = 1.0;
	a->avg_frac_below_1e6 = 0.25;
	a->bars = 200;
	struct tg_agreement *g = tg_results_add_agreement(r);
	snprintf(g->reference, sizeof(g->reference), "cpu");
	snprintf(g->backend, sizeof(g->backend), "rust");
	snprintf(g->ma_mode, sizeof(g->ma_mode), "exact");
	g->max_abs_diff = 0;
	g->sign_agreement = 1;
	g->bars = 200;
	if (!complete) {
		r->complete = false;
		snprintf(r->incomplete_reason, sizeof(r->incomplete_reason), "interrupted by SIGINT");
	}
}

static char *render(int (*fn)(const struct tg_run_results *, struct tg_sink *, struct tg_error *),
		    const struct tg_run_results *r)
{
	struct tg_sink *s = tg_sink_open_memory();
	struct tg_error err;
	if (fn(r, s, &err) < 0)
		fail_msg("%s", err.msg);
	char *out = strdup(tg_sink_memory_data(s, NULL));
	tg_sink_close(s, NULL);
	return out;
}

/* Compares with tests/golden/report/<name>, or rewrites it. */
static void golden(const char *name, const char *text)
{
	char path[600];
	snprintf(path, sizeof(path), "%s/report/%s", tg_test_golden_dir(), name);
	const char *upd = getenv("TG_UPDATE_GOLDEN");
	if (upd && *upd == '1') {
		FILE *f = fopen(path, "w");
		assert_non_null(f);
		fputs(text, f);
		fclose(f);
		print_message("updated %s\n", path);
		return;
	}
	FILE *f = fopen(path, "r");
	if (!f)
		fail_msg("missing golden file %s (run with TG_UPDATE_GOLDEN=1)", path);
	char *want = calloc(1, 1 << 20);
	size_t n = fread(want, 1, (1 << 20) - 1, f);
	fclose(f);
	want[n] = '\0';
	if (strcmp(want, text) != 0) {
		size_t i = 0;
		while (want[i] && want[i] == text[i])
			i++;
		fail_msg("%s differs from the golden file at byte %zu:\n--- want\n%.80s\n--- got\n%.80s",
			 name, i, want + i, text + i);
	}
	free(want);
}

static void test_results_json(void **state)
{
	(void)state;
	struct tg_run_results r;
	fixture(&r, true);
	char *text = render(tg_report_results_json, &r);
	golden("results.json", text);
	json_error_t je;
	json_t *root = json_loads(text, 0, &je);
	if (!root)
		fail_msg("results.json does not parse: %s (line %d)", je.text, je.line);
	assert_string_equal(json_string_value(json_object_get(root, "schema")), TG_RESULTS_SCHEMA);
	assert_int_equal(json_integer_value(json_object_get(root, "schema_version")),
			 TG_RESULTS_SCHEMA_VERSION);
	assert_true(json_is_true(json_object_get(root, "complete")));
	json_t *states = json_object_get(root, "states");
	assert_int_equal(json_array_size(states), 4);
	json_t *cu = json_array_get(states, 2);
	assert_true(json_number_value(json_object_get(json_object_get(cu, "kernel_ns"), "median")) == 1.5e5);
	assert_true(json_number_value(json_object_get(json_object_get(cu, "bandwidth_gbs"), "kernels")) == 2000.0);
	assert_string_equal(json_string_value(json_object_get(cu, "device")), "Test GPU (sm_90)");
	assert_null(json_object_get(json_array_get(states, 0), "kernel_ns"));
	json_t *s0 = json_array_get(states, 0);
	json_t *wall = json_object_get(s0, "wall_ns");
	assert_int_equal(json_array_size(json_object_get(wall, "samples")), 3);
	assert_true(json_number_value(json_object_get(wall, "median")) == 4001000.0);
	double tput = json_number_value(json_object_get(json_object_get(s0, "throughput"), "bar_mas_per_s"));
	assert_true(fabs(tput - 10800.0 / 4001000e-9) < 1e-6 * tput);
	json_t *s2 = json_array_get(states, 3);
	assert_true(json_is_false(json_object_get(s2, "available")));
	assert_non_null(strstr(json_string_value(json_object_get(s2, "error")), "no CUDA driver"));
	json_t *sp = json_array_get(json_object_get(root, "speedup_approx_vs_exact"), 0);
	assert_true(fabs(json_number_value(json_object_get(sp, "speedup")) - 4001000.0 / 1001000.0) < 1e-12);
	json_t *acc = json_array_get(json_object_get(root, "accuracy"), 0);
	json_t *kama = json_object_get(json_object_get(acc, "families"), "KAMA");
	assert_true(json_number_value(json_object_get(kama, "mean_rel_err")) == 0.006);
	assert_string_equal(json_string_value(json_object_get(json_object_get(root, "machine"), "os")),
			    "Debian \"12\"");
	json_decref(root);
	free(text);
	tg_results_fini(&r);
}

static void test_summary_and_table(void **state)
{
	(void)state;
	struct tg_run_results r;
	fixture(&r, true);
	char *md = render(tg_report_summary_md, &r);
	golden("summary.md", md);
	assert_non_null(strstr(md, "| cpu | exact | 2 | 4 ms |"));
	assert_non_null(strstr(md, "| cuda | exact | - | unavailable: no CUDA driver"));
	assert_non_null(strstr(md, "| cpu | 4 ms | 1 ms | 4.00x |"));
	assert_non_null(strstr(md, "| cuda | approx | 400 us | 300 us | 50 us | 150 us | 40 us | 2000.0 | 32.0 | 40.0 | 1 | yes |"));
	assert_non_null(strstr(md, "Device of cuda: Test GPU (sm_90)."));
	free(md);
	char *table = render(tg_report_table, &r);
	golden("table.txt", table);
	assert_non_null(strstr(table, "speed-up approx vs exact (cpu): 4.00x"));
	assert_non_null(strstr(table, "cuda approx device: total 300 us = H2D 50 us + kernels 150 us + D2H 40 us; kernels 2000.0 GB/s"));
	free(table);
	tg_results_fini(&r);

	fixture(&r, false);
	md = render(tg_report_summary_md, &r);
	assert_non_null(strstr(md, "**Incomplete run**: interrupted by SIGINT"));
	char *js = render(tg_report_results_json, &r);
	assert_non_null(strstr(js, "\"complete\": false"));
	assert_non_null(strstr(js, "\"incomplete_reason\": \"interrupted by SIGINT\""));
	free(md);
	free(js);
	tg_results_fini(&r);
}

static void test_formatting(void **state)
{
	(void)state;
	char b[32];
	tg_format_duration(1234.0, b, sizeof(b));
	assert_string_equal(b, "1.23 us");
	tg_format_duration(2.5e9, b, sizeof(b));
	assert_string_equal(b, "2.5 s");
	tg_format_duration(NAN, b, sizeof(b));
	assert_string_equal(b, "-");
	tg_format_rate(1.5e9, b, sizeof(b));
	assert_string_equal(b, "1.5 G");
	tg_format_rate(12, b, sizeof(b));
	assert_string_equal(b, "12");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_results_json),
		cmocka_unit_test(test_summary_and_table),
		cmocka_unit_test(test_formatting),
	};
	return cmocka_run_group_tests_name("flame", tests, NULL, NULL);
}
