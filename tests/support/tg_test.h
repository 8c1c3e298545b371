/* Helpers shared by the test programs: golden CSV columns, cases.json,
 * tolerance comparisons with a readable first mismatch. */
#ifndef TG_TEST_H
#define TG_TEST_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>

#ifdef __cplusplus
extern "C" {
#endif

#include <cmocka.h>

#include "tg_data.h"
#include "tg_kernels.h"

/* Directory of tests/golden (compile-time TG_TEST_GOLDEN_DIR). */
const char *tg_test_golden_dir(void);
/* "<golden>/atc/<name>" into buf. */
const char *tg_test_atc_path(char *buf, size_t cap, const char *name);

/* A golden CSV loaded whole; columns parsed on demand. */
struct tg_test_csv {
	struct tg_csv *csv;
	char path[512];
	int32_t rows;
};

void tg_test_csv_open(struct tg_test_csv *t, const char *path);
void tg_test_csv_close(struct tg_test_csv *t);
int tg_test_csv_has(const struct tg_test_csv *t, const char *column);
/* Returns a malloc'd column (fails the test when absent or malformed). */
double *tg_test_csv_column(const struct tg_test_csv *t, const char *column);

enum tg_test_tol {
	TG_TOL_REL = 0,   /* |a-b| <= tol * max(|a|,|b|) */
	TG_TOL_ABS = 1,   /* |a-b| <= tol */
	TG_TOL_EQUAL = 2, /* identical values (signals) */
};

/* Compares n values; NaN positions must be identical. Returns the number of
 * mismatches and prints the first few with their bar and label. */
int tg_test_compare(const char *label, const double *got, const double *want, int32_t n,
		    enum tg_test_tol kind, double tol);

/* One case of golden/atc/cases.json. */
struct tg_test_case {
	char name[64];
	char set_type[16];
	int32_t n_bars;
	struct tg_atc_params params;
	int has_approx;
};

/* Loads every case (at most cap); fails the test on a malformed file. */
int tg_test_load_cases(struct tg_test_case *cases, int cap);

/* xorshift64 uniform in [0,1); the state is the caller's, so each test
 * program keeps its own reproducible stream. */
double tg_test_urand(uint64_t *state);
/* A malloc'd random walk around 100 (steps within +-1%), with optional NaN
 * gap (4 bars at n/2) and flat stretch (60 bars at n/3). */
double *tg_test_walk(uint64_t *state, int32_t n, int with_nan, int with_flat);

/* Every output of a run (struct tg_atc_outputs with all pointers set), in
 * two blocks, first filled with a value no output equals so that an
 * unwritten cell shows. */
struct tg_test_outputs {
	struct tg_atc_outputs o;
	double *block;
	int8_t *bytes;
	size_t doubles, n_bytes;
	int32_t n_symbols, stride;
};

void tg_test_outputs_alloc(struct tg_test_outputs *a, int32_t n_symbols, int32_t stride);
void tg_test_outputs_free(struct tg_test_outputs *a);
/* Fails the test unless got and want are the same bits (NaN matching NaN),
 * naming `what` and the first differing value. */
void tg_test_outputs_expect_same(const char *what, const struct tg_test_outputs *got,
				 const struct tg_test_outputs *want);

/* Opens a backend with one thread, runs it once over a batch, closes it;
 * fails the test on an error. Returns the run's timing. */
struct tg_backend_timing tg_test_run(const struct tg_backend_ops *ops, const struct tg_atc_params *p,
				     const struct tg_batch *b, const struct tg_atc_outputs *o);

/* The backend the test program was asked for, or NULL after printing why it
 * is skipped (not built into this binary, or probe says unavailable); the
 * caller then returns 77 so ctest reports "Skipped". */
const struct tg_backend_ops *tg_test_backend_or_skip(const char *name);

/* A fixed, fully populated result (no clock, no machine probe): two cpu
 * states, a cuda state with kernel times, an unavailable one, accuracy,
 * agreement; interrupted when !complete. tg_results_fini frees it. */
struct tg_run_results;
void tg_test_results_fixture(struct tg_run_results *r, bool complete);

/* A fresh directory /tmp/<prefix>_XXXXXX (fails the test when it cannot be
 * made), removed with what it holds when the program exits. */
const char *tg_test_tmpdir(const char *prefix);

/* Compares text with tests/golden/<dir>/<name>, or rewrites the file when
 * TG_UPDATE_GOLDEN=1; fails the test at the first differing byte. */
void tg_test_golden(const char *dir, const char *name, const char *text);

#ifdef __cplusplus
}
#endif

#endif
