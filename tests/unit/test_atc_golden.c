/* Conformance: every golden case of tests/golden/atc (copied from
 * ../shared/golden) through a backend, within the tolerances of spec §17:
 * MAs and equities relative 1e-12, signals identical, Average_Signal
 * absolute 1e-12, NaN positions identical. A signal flip fails.
 *
 * usage: test_atc_golden [BACKEND]   (default cpu; exit 77 when the backend
 * is not usable here)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tg_test.h"

#define MAX_CASES 8

static const char *backend_name = "cpu";
static const struct tg_backend_ops *ops;
static void *backend;
static struct tg_test_case cases[MAX_CASES];
static int n_cases;

static const char *const fam_names[TG_ATC_FAMILIES] = {"EMA", "HMA", "WMA", "DEMA", "LSMA", "KAMA"};

struct run_out {
	int32_t n;
	double *r, *ma, *l1, *l2, *avg, *slot_ma, *slot_eq;
	int8_t *slot_sig;
};

static void run_pipeline(const struct tg_atc_params *p, const double *close, int32_t n,
			 struct run_out *o)
{
	memset(o, 0, sizeof(*o));
	o->n = n;
	o->r = malloc((size_t)n * sizeof(double));
	o->ma = malloc(6 * (size_t)n * sizeof(double));
	o->l1 = malloc(6 * (size_t)n * sizeof(double));
	o->l2 = malloc(6 * (size_t)n * sizeof(double));
	o->avg = malloc((size_t)n * sizeof(double));
	o->slot_ma = malloc(54 * (size_t)n * sizeof(double));
	o->slot_eq = malloc(54 * (size_t)n * sizeof(double));
	o->slot_sig = malloc(54 * (size_t)n);
	assert_true(o->r && o->ma && o->l1 && o->l2 && o->avg && o->slot_ma && o->slot_eq &&
		    o->slot_sig);
	struct tg_batch b = {.close = close, .n_bars = NULL, .n_symbols = 1, .stride = n};
	struct tg_atc_outputs out = {.average = o->avg, .r = o->r, .ma = o->ma, .l1_signal = o->l1,
				     .l2_equity = o->l2, .slot_ma = o->slot_ma,
				     .slot_signal = o->slot_sig, .slot_equity = o->slot_eq};
	struct tg_error err;
	tg_error_clear(&err);
	assert_int_equal(tg_atc_params_validate(p, n, &err), 0);
	struct tg_backend_timing t;
	if (ops->run(backend, p, &b, &out, &t, &err) < 0)
		fail_msg("%s backend: %s", backend_name, err.msg);
}

static void free_out(struct run_out *o)
{
	free(o->r);
	free(o->ma);
	free(o->l1);
	free(o->l2);
	free(o->avg);
	free(o->slot_ma);
	free(o->slot_eq);
	free(o->slot_sig);
}

/* Compares a golden column with one of our rows. */
static int check(const struct tg_test_csv *g, const char *column, const double *got,
		 enum tg_test_tol kind, double tol)
{
	double *want = tg_test_csv_column(g, column);
	char label[160];
	snprintf(label, sizeof(label), "%s [%s]", column, g->path);
	int bad = tg_test_compare(label, got, want, g->rows, kind, tol);
	free(want);
	return bad;
}

/* The 13 series of the exact file, with LSMA-dependent columns taken from
 * suffix ("" = pandas_ta columns, "_lastpoint" = the project's LSMA). */
static int check_exact_file(const struct tg_test_csv *g, const struct run_out *o,
			    const char *suffix)
{
	int bad = check(g, "R", o->r, TG_TOL_REL, 1e-12);
	char col[64];
	for (int f = 0; f < TG_ATC_FAMILIES; f++) {
		const char *sfx = f == TG_FAM_LSMA ? suffix : "";
		snprintf(col, sizeof(col), "MA_%s%s", fam_names[f], sfx);
		bad += check(g, col, o->ma + (size_t)f * o->n, TG_TOL_REL, 1e-12);
		snprintf(col, sizeof(col), "%s_Signal%s", fam_names[f], sfx);
		bad += check(g, col, o->l1 + (size_t)f * o->n, TG_TOL_EQUAL, 0);
		snprintf(col, sizeof(col), "%s_S%s", fam_names[f], sfx);
		bad += check(g, col, o->l2 + (size_t)f * o->n, TG_TOL_REL, 1e-12);
	}
	snprintf(col, sizeof(col), "Average_Signal%s", suffix);
	bad += check(g, col, o->avg, TG_TOL_ABS, 1e-12);
	return bad;
}

static int check_set_file(const struct tg_test_csv *g, const struct run_out *o, int family)
{
	int32_t len[TG_ATC_SLOTS] = {0};
	int bad = 0;
	char col[80];
	for (int k = 0; k < TG_ATC_SLOTS; k++) {
		/* the slot lengths are in the column names: find them */
		for (int L = 1; L < 1000; L++) {
			snprintf(col, sizeof(col), "%s_%s_L%d", fam_names[family], tg_slot_name(k), L);
			if (tg_test_csv_has(g, col)) {
				len[k] = L;
				break;
			}
		}
		if (len[k] == 0)
			fail_msg("%s: no %s_%s_L<n> column", g->path, fam_names[family], tg_slot_name(k));
		size_t plane = (size_t)(family * TG_ATC_SLOTS + k) * o->n;
		snprintf(col, sizeof(col), "%s_%s_L%d", fam_names[family], tg_slot_name(k), len[k]);
		bad += check(g, col, o->slot_ma + plane, TG_TOL_REL, 1e-12);
		double *sig = malloc((size_t)o->n * sizeof(double));
		assert_non_null(sig);
		for (int32_t i = 0; i < o->n; i++)
			sig[i] = o->slot_sig[plane + i];
		snprintf(col, sizeof(col), "sig_%s_L%d", tg_slot_name(k), len[k]);
		bad += check(g, col, sig, TG_TOL_EQUAL, 0);
		free(sig);
		snprintf(col, sizeof(col), "eq_%s_L%d", tg_slot_name(k), len[k]);
		bad += check(g, col, o->slot_eq + plane, TG_TOL_REL, 1e-12);
	}
	snprintf(col, sizeof(col), "%s_Signal", fam_names[family]);
	bad += check(g, col, o->l1 + (size_t)family * o->n, TG_TOL_EQUAL, 0);
	return bad;
}

static void test_case(void **state)
{
	const struct tg_test_case *tc = *state;
	char path[600], file[128];
	struct tg_test_csv g;

	snprintf(file, sizeof(file), "%s_exact.csv", tc->name);
	tg_test_csv_open(&g, tg_test_atc_path(path, sizeof(path), file));
	assert_int_equal(g.rows, tc->n_bars);
	double *close = tg_test_csv_column(&g, "close");

	/* exact, LSMA at the last point (the project's definition) */
	struct run_out last, pen;
	run_pipeline(&tc->params, close, g.rows, &last);
	int bad = check_exact_file(&g, &last, "_lastpoint");
	/* exact, LSMA read one slope earlier: the pandas_ta columns */
	struct tg_atc_params pp = tc->params;
	pp.lsma_point = TG_LSMA_PENULTIMATE;
	run_pipeline(&pp, close, g.rows, &pen);
	bad += check_exact_file(&g, &pen, "");
	tg_test_csv_close(&g);

	/* the per-slot file of the case's family */
	int family = tg_family_parse(tc->set_type);
	assert_true(family >= 0);
	snprintf(file, sizeof(file), "%s_set_%s.csv", tc->name, tc->set_type);
	tg_test_csv_open(&g, tg_test_atc_path(path, sizeof(path), file));
	/* set files were produced with pandas_ta's LSMA */
	bad += check_set_file(&g, family == TG_FAM_LSMA ? &pen : &last, family);
	tg_test_csv_close(&g);
	free_out(&last);
	free_out(&pen);

	if (tc->has_approx) {
		snprintf(file, sizeof(file), "%s_approx.csv", tc->name);
		tg_test_csv_open(&g, tg_test_atc_path(path, sizeof(path), file));
		struct tg_atc_params ap = tc->params;
		ap.ma_mode = TG_MA_APPROX;
		struct run_out ao;
		run_pipeline(&ap, close, g.rows, &ao);
		char col[64];
		for (int f = 0; f < TG_ATC_FAMILIES; f++) {
			snprintf(col, sizeof(col), "AMA_%s", fam_names[f]);
			bad += check(&g, col, ao.ma + (size_t)f * ao.n, TG_TOL_REL, 1e-12);
			snprintf(col, sizeof(col), "%s_Signal", fam_names[f]);
			bad += check(&g, col, ao.l1 + (size_t)f * ao.n, TG_TOL_EQUAL, 0);
			snprintf(col, sizeof(col), "%s_S", fam_names[f]);
			bad += check(&g, col, ao.l2 + (size_t)f * ao.n, TG_TOL_REL, 1e-12);
			/* approx: the one MA fills all 9 slots */
			for (int k = 1; k < TG_ATC_SLOTS; k++)
				assert_memory_equal(ao.slot_ma + (size_t)(f * 9 + k) * ao.n,
						    ao.slot_ma + (size_t)(f * 9) * ao.n,
						    (size_t)ao.n * sizeof(double));
		}
		bad += check(&g, "Average_Signal", ao.avg, TG_TOL_ABS, 1e-12);
		free_out(&ao);
		tg_test_csv_close(&g);
	}
	free(close);
	if (bad)
		fail_msg("%s: %d mismatches against the golden vectors (%s backend)", tc->name, bad,
			 backend_name);
}

static int setup(void **state)
{
	(void)state;
	struct tg_error err;
	tg_error_clear(&err);
	struct tg_backend_config cfg = {.threads = 1, .device = 0, .hooks = NULL};
	if (ops->open(&cfg, &backend, &err) < 0) {
		print_error("cannot open backend %s: %s\n", backend_name, err.msg);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	ops->close(backend);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 1)
		backend_name = argv[1];
	ops = tg_test_backend_or_skip(backend_name);
	if (!ops)
		return 77;
	n_cases = tg_test_load_cases(cases, MAX_CASES);
	struct CMUnitTest tests[MAX_CASES];
	for (int i = 0; i < n_cases; i++) {
		tests[i] = (struct CMUnitTest)cmocka_unit_test_prestate(test_case, &cases[i]);
		tests[i].name = cases[i].name;
	}
	char group[64];
	snprintf(group, sizeof(group), "atc_golden_%s", backend_name);
	return _cmocka_run_group_tests(group, tests, (size_t)n_cases, setup, teardown);
}
