#include "tg_test.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	a->o.slot_signal = a->bytes;
	a->o.final_signal = a->bytes + cells * TG_ATC_MAS;
}

void tg_test_outputs_free(struct tg_test_outputs *a)
{
	free(a->block);
	free(a->bytes);
	memset(a, 0, sizeof(*a));
}

void tg_test_outputs_expect_same(const char *what, const struct tg_test_outputs *got,
				 const struct tg_test_outputs *want)
{
	assert_int_equal(got->doubles, want->doubles);
	for (size_t i = 0; i < want->doubles; i++) {
		const double g = got->block[i], e = want->block[i];
		if (!(g != g && e != e) && memcmp(&g, &e, sizeof(double)) != 0)
			fail_msg("%s: double %zu of the outputs is %.17g, expected %.17g", what, i, g, e);
	}
	for (size_t i = 0; i < want->n_bytes; i++)
		if (got->bytes[i] != want->bytes[i])
			fail_msg("%s: byte %zu of the outputs is %d, expected %d", what, i, got->bytes[i],
				 want->bytes[i]);
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
