#include "tg_test.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tg_results.h"

const char *tg_test_golden_dir(void)
{
	const char *env = getenv("TG_TEST_GOLDEN_DIR");
	return env && *env ? env : TG_TEST_GOLDEN_DIR;
}

const char *tg_test_atc_path(char *buf, size_t cap, const char *name)
{
	snprintf(buf, cap, "%s/atc/%s", tg_test_golden_dir(), name);
	return buf;
}

void tg_test_csv_open(struct tg_test_csv *t, const char *path)
{
	struct tg_error err;
	tg_error_clear(&err);
	snprintf(t->path, sizeof(t->path), "%s", path);
	if (tg_csv_open(path, &t->csv, &err) < 0)
		fail_msg("%s", err.msg);
	t->rows = tg_csv_rows(t->csv);
}

void tg_test_csv_close(struct tg_test_csv *t)
{
	tg_csv_free(t->csv);
	t->csv = NULL;
}

int tg_test_csv_has(const struct tg_test_csv *t, const char *column)
{
	int col = tg_csv_find(t->csv, column);
	return col >= 0 && strcmp(tg_csv_column_name(t->csv, col), column) == 0;
}

double *tg_test_csv_column(const struct tg_test_csv *t, const char *column)
{
	if (!tg_test_csv_has(t, column))
		fail_msg("%s: no column '%s'", t->path, column);
	double *v = malloc((size_t)t->rows * sizeof(double) + 1);
	assert_non_null(v);
	struct tg_error err;
	tg_error_clear(&err);
	if (tg_csv_column(t->csv, tg_csv_find(t->csv, column), TG_CSV_ANY, v, &err) < 0)
		fail_msg("%s", err.msg);
	return v;
}

int tg_test_compare(const char *label, const double *got, const double *want, int32_t n,
		    enum tg_test_tol kind, double tol)
{
	int bad = 0;
	for (int32_t i = 0; i < n; i++) {
		double a = got[i], b = want[i];
		int ok;
		if (a != a || b != b)
			ok = (a != a) && (b != b);
		else if (kind == TG_TOL_EQUAL)
			ok = a == b;
		else if (kind == TG_TOL_ABS)
			ok = fabs(a - b) <= tol;
		else
			ok = fabs(a - b) <= tol * fmax(fabs(a), fabs(b));
		if (!ok) {
			if (bad < 3)
				print_error("%s: bar %d: got %.17g, want %.17g\n", label, i, a, b);
			bad++;
		}
	}
	if (bad)
		print_error("%s: %d of %d bars differ\n", label, bad, n);
	return bad;
}

static double number(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	if (!json_is_number(v))
		fail_msg("cases.json: '%s' is missing or not a number", key);
	return json_number_value(v);
}

int tg_test_load_cases(struct tg_test_case *cases, int cap)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/atc/cases.json", tg_test_golden_dir());
	json_error_t je;
	json_t *root = json_load_file(path, 0, &je);
	if (!root)
		fail_msg("%s:%d: %s", path, je.line, je.text);
	json_t *arr = json_object_get(root, "cases");
	assert_true(json_is_array(arr));
	int n = 0;
	size_t i;
	json_t *c;
	json_array_foreach(arr, i, c)
	{
		assert_true(n < cap);
		struct tg_test_case *tc = &cases[n++];
		memset(tc, 0, sizeof(*tc));
		snprintf(tc->name, sizeof(tc->name), "%s", json_string_value(json_object_get(c, "name")));
		snprintf(tc->set_type, sizeof(tc->set_type), "%s",
			 json_string_value(json_object_get(c, "set_type")));
		tc->n_bars = (int32_t)json_integer_value(json_object_get(c, "n_bars"));
		tc->has_approx = json_is_object(json_object_get(c, "approx"));
		json_t *p = json_object_get(c, "params");
		struct tg_atc_params *ap = &tc->params;
		tg_atc_params_default(ap);
		static const char *const len_keys[] = {"ema_len", "hull_len", "wma_len",
						       "dema_len", "lsma_len", "kama_len"};
		static const char *const w_keys[] = {"ema_w", "hma_w", "wma_w",
						     "dema_w", "lsma_w", "kama_w"};
		for (int f = 0; f < TG_ATC_FAMILIES; f++) {
			ap->length[f] = (int32_t)number(p, len_keys[f]);
			ap->weight[f] = number(p, w_keys[f]);
		}
		ap->lambda = number(p, "La");
		ap->decay = number(p, "De");
		ap->cutout = (int32_t)number(p, "cutout");
		ap->long_threshold = number(p, "long_threshold");
		ap->short_threshold = number(p, "short_threshold");
		int r = tg_robustness_parse(json_string_value(json_object_get(p, "robustness")));
		assert_true(r >= 0);
		ap->robustness = r;
	}
	json_decref(root);
	return n;
}

double tg_test_urand(uint64_t *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 7;
	*state ^= *state << 17;
	return (double)(*state >> 11) * (1.0 / 9007199254740992.0);
}

double *tg_test_walk(uint64_t *state, int32_t n, int with_nan, int with_flat)
{
	double *p = malloc((size_t)n * sizeof(double));
	assert_non_null(p);
	double v = 100.0;
	for (int32_t i = 0; i < n; i++) {
		v *= 1.0 + 0.02 * (tg_test_urand(state) - 0.5);
		p[i] = v;
	}
	if (with_flat)
		for (int32_t i = n / 3; i < n / 3 + 60 && i < n; i++)
			p[i] = 105.5;
	if (with_nan)
		for (int32_t i = n / 2; i < n / 2 + 4 && i < n; i++)
			p[i] = NAN;
	return p;
}

/* the CUDA backend on the CPU emulator (tests/emul), in the programs that
 * link it */
extern const struct tg_backend_ops tg_backend_cuda_emul __attribute__((weak));

const struct tg_backend_ops *tg_test_backend_or_skip(const char *name)
{
	const struct tg_backend_ops *ops = tg_backend_find(name);
	if (strcmp(name, "cuda-emul") == 0)
		ops = &tg_backend_cuda_emul;
	if (!ops) {
		printf("backend %s is not built into this binary: skipped\n", name);
		return NULL;
	}
	char why[256];
	if (ops->probe(why, sizeof(why)) < 0) {
		printf("backend %s unavailable here (%s): skipped\n", name, why);
		return NULL;
	}
	return ops;
}

void tg_test_outputs_alloc(struct tg_test_outputs *a, int32_t n_symbols, int32_t stride)
{
	const size_t cells = (size_t)n_symbols * (size_t)stride;
	memset(a, 0, sizeof(*a));
	a->doubles = cells * (1 + 1 + 3 * TG_ATC_FAMILIES + 2 * TG_ATC_MAS) + (size_t)n_symbols;
	a->n_bytes = cells * TG_ATC_MAS + (size_t)n_symbols;
	a->block = malloc(a->doubles * sizeof(double));
	a->bytes = malloc(a->n_bytes);
	assert_non_null(a->block);
	assert_non_null(a->bytes);
	for (size_t i = 0; i < a->doubles; i++)
		a->block[i] = -12345.0;
	memset(a->bytes, 0x55, a->n_bytes);
	double *d = a->block;
	a->o.average = d;
	d += cells;
	a->o.r = d;
	d += cells;
	a->o.ma = d;
	d += TG_ATC_FAMILIES * cells;
	a->o.l1_signal = d;
	d += TG_ATC_FAMILIES * cells;
	a->o.l2_equity = d;
	d += TG_ATC_FAMILIES * cells;
	a->o.slot_ma = d;
	d += TG_ATC_MAS * cells;
	a->o.slot_equity = d;
	d += TG_ATC_MAS * cells;
	a->o.final_value = d;
	a->n_symbols = n_symbols;
	a->stride = stride;
	a->o.slot_signal = a->bytes;
	a->o.final_signal = a->bytes + cells * TG_ATC_MAS;
}

void tg_test_outputs_free(struct tg_test_outputs *a)
{
	free(a->block);
	free(a->bytes);
	memset(a, 0, sizeof(*a));
}

/* The doubles of struct tg_test_outputs, region by region, in the order
 * the pipeline computes them, so that the first difference reported is
 * the cause and not a consequence. */
static const struct {
	const char *name;
	size_t planes; /* of n_symbols x stride; 0: n_symbols values */
} out_regions[] = {{"average", 1},	       {"r", 1},
		   {"ma", TG_ATC_FAMILIES},	       {"l1_signal", TG_ATC_FAMILIES},
		   {"l2_equity", TG_ATC_FAMILIES}, {"slot_ma", TG_ATC_MAS},
		   {"slot_equity", TG_ATC_MAS},    {"final_value", 0}};
static const int pipeline_order[] = {1, 5, 6, 2, 3, 4, 0, 7};

static void expect_same_doubles(const char *what, const struct tg_test_outputs *got,
				const struct tg_test_outputs *want, int region)
{
	const size_t cells = (size_t)want->n_symbols * (size_t)want->stride;
	size_t from = 0;
	for (int r = 0; r < region; r++)
		from += out_regions[r].planes * cells;
	const size_t count = out_regions[region].planes ? out_regions[region].planes * cells
							 : (size_t)want->n_symbols;
	for (size_t i = from; i < from + count; i++) {
		const double g = got->block[i], e = want->block[i];
		if ((g != g && e != e) || memcmp(&g, &e, sizeof(double)) == 0)
			continue;
		const size_t k = i - from;
		if (!out_regions[region].planes)
			fail_msg("%s: final_value of symbol %zu is %.17g, expected %.17g", what, k, g, e);
		fail_msg("%s: %s plane %zu, symbol %zu, bar %zu is %.17g, expected %.17g", what,
			 out_regions[region].name, k / cells, k % cells / (size_t)want->stride,
			 k % (size_t)want->stride, g, e);
	}
}

void tg_test_outputs_expect_same(const char *what, const struct tg_test_outputs *got,
				 const struct tg_test_outputs *want)
{
	assert_int_equal(got->doubles, want->doubles);
	assert_int_equal(got->n_bytes, want->n_bytes);
	const size_t cells = (size_t)want->n_symbols * (size_t)want->stride;
	for (size_t o = 0; o < sizeof(pipeline_order) / sizeof(pipeline_order[0]); o++) {
		expect_same_doubles(what, got, want, pipeline_order[o]);
		if (pipeline_order[o] != 6)
			continue;
		/* the crossover states, with the equities */
		for (size_t i = 0; i < cells * TG_ATC_MAS; i++)
			if (got->bytes[i] != want->bytes[i])
				fail_msg("%s: slot_signal plane %zu, symbol %zu, bar %zu is %d, expected %d",
					 what, i / cells, i % cells / (size_t)want->stride,
					 i % (size_t)want->stride, got->bytes[i], want->bytes[i]);
	}
	for (size_t i = cells * TG_ATC_MAS; i < want->n_bytes; i++)
		if (got->bytes[i] != want->bytes[i])
			fail_msg("%s: final_signal of symbol %zu is %d, expected %d", what,
				 i - cells * TG_ATC_MAS, got->bytes[i], want->bytes[i]);
}

struct tg_backend_timing tg_test_run(const struct tg_backend_ops *ops, const struct tg_atc_params *p,
				     const struct tg_batch *b, const struct tg_atc_outputs *o)
{
	struct tg_backend_config cfg = {.threads = 1};
	void *st;
	struct tg_backend_timing t;
	struct tg_error err;
	tg_error_clear(&err);
	if (ops->open(&cfg, &st, &err) < 0)
		fail_msg("%s: %s", ops->name, err.msg);
	const int rc = ops->run(st, p, b, o, &t, &err);
	ops->close(st);
	if (rc < 0)
		fail_msg("%s: %s", ops->name, err.msg);
	return t;
}

/* ---- results and golden files ---- */

static const struct tg_feature features[] = {{"cuda", false, "off for the test"}};
static const struct tg_build_info build = {"9.9.9", "abcdef123456", "Release", "GNU 12", "-O3",
					   "", features, 1};

void tg_test_results_fixture(struct tg_run_results *r, bool complete)
{
	tg_results_init(r);
	snprintf(r->command, sizeof(r->command), "trendgpu-bench run --symbols 2 --bars 100");
	snprintf(r->created_utc, sizeof(r->created_utc), "2026-01-02T03:04:05Z");
	snprintf(r->run_dir, sizeof(r->run_dir), "profiles/run-test");
	snprintf(r->machine.hostname, sizeof(r->machine.hostname), "host");
	r->host_bw = 20e9;
	snprintf(r->host_bw_what, sizeof(r->host_bw_what), "host memcpy, test");
	r->device_bw = 3e12;
	snprintf(r->device_bw_what, sizeof(r->device_bw_what), "device copy, test");
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
		st->bars = 200;
		st->mas_per_bar = m ? 6 : 54;
		st->bar_mas = st->bars * st->mas_per_bar;
		st->first_run_ns = m ? 2.5e6 : 9e6;
		st->stop_reason = "count";
		st->state_seconds = m ? 0.01 : 0.03;
		st->bytes_moved = 3202;
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
	st->first_run_ns = 2.5e8;
	st->stop_reason = "timeout";
	st->state_seconds = 15.2;
	st->bytes_moved = 3202;
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
	snprintf(st->kernels, sizeof(st->kernels), "walk");
	st->bars = 200;
	st->mas_per_bar = 6;
	st->bar_mas = 200.0 * 6;
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
		a->family[f].l1_agree_finite = f == 5 ? 0.55 : 0.9 - 0.05 * f; /* KAMA: chance */
		a->family[f].l1_chance = 0.5;
		a->family[f].l1_kappa = (a->family[f].l1_agree_finite - 0.5) / 0.5;
		a->family[f].no_better_than_chance = a->family[f].l1_kappa < TG_ACCURACY_CHANCE_KAPPA;
		/* nine slots of lengths 22..34 (medium), the error growing away from 28 */
		static const int32_t len[9] = {22, 24, 26, 27, 28, 29, 30, 32, 34};
		static const int slot[9] = {8, 7, 6, 5, 0, 1, 2, 3, 4};
		a->family[f].n_slots = 9;
		a->family[f].worst = 0;
		a->family[f].slots_mean_rel_err = 0.002 * (f + 1);
		for (int k = 0; k < 9; k++) {
			struct tg_slot_accuracy *x = &a->family[f].slot[k];
			x->slot = slot[k];
			x->length = len[k];
			x->mean_rel_err = 0.001 * (f + 1) * (1 + abs(len[k] - 28) / 2.0);
			x->max_rel_err = 10 * x->mean_rel_err;
			x->frac_within_5pct = 1.0 - 0.1 * f;
		}
	}
	/* two of 4 symbols flip */
	a->symbols = 4;
	a->flipped = 2;
	a->bars_differing = 0.125;
	a->flips = calloc(2, sizeof(*a->flips));
	a->n_flips = 2;
	a->flips[0] = (struct tg_flip){.symbol = 1, .exact = 1, .approx = -1, .name = "BBB"};
	a->flips[1] = (struct tg_flip){.symbol = 3, .exact = 0, .approx = 1, .name = "DDD"};
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
	r->rounds = 3;
	struct tg_ratio *x = tg_results_add_ratio(r);
	*x = (struct tg_ratio){"approx", "cpu", "approx", "cpu", "exact", 3, 3.997, 3.99, 4.002};
	x = tg_results_add_ratio(r);
	*x = (struct tg_ratio){"mode", "cuda", "approx", "cpu", "approx", 2, 2.5, 0.8, 3.3};
	if (!complete) {
		r->complete = false;
		snprintf(r->incomplete_reason, sizeof(r->incomplete_reason), "interrupted by SIGINT");
	}
}

void tg_test_golden(const char *dir, const char *name, const char *text)
{
	char path[600];
	snprintf(path, sizeof(path), "%s/%s/%s", tg_test_golden_dir(), dir, name);
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


static char tmp_root[256];

static void remove_tmp_root(void)
{
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp_root);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmp_root);
}

const char *tg_test_tmpdir(const char *prefix)
{
	snprintf(tmp_root, sizeof(tmp_root), "/tmp/%s_XXXXXX", prefix);
	if (!mkdtemp(tmp_root)) {
		perror(tmp_root);
		abort();
	}
	atexit(remove_tmp_root);
	return tmp_root;
}
