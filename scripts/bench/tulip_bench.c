/* The 54 MAs of the ATC workload (EMA, HMA, WMA, DEMA, LSMA as linear
 * regression, KAMA; each at the nine lengths of the default robustness:
 * 28, 29, 30, 32, 34, 27, 26, 24, 22) computed by Tulip Indicators, one
 * thread, over SYMBOLS random walks of BARS bars: ns per bar·MA, median of
 * REPS repetitions. Built by scripts/bench-engine.sh against a local Tulip
 * Indicators checkout (TG_TULIP_SRC: its tiamalgamation.c and
 * indicators.h; never vendored).
 *   tulip_bench SYMBOLS BARS REPS */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "indicators.h"

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
	const double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: tulip_bench SYMBOLS BARS REPS\n");
		return 2;
	}
	const int symbols = atoi(argv[1]), bars = atoi(argv[2]), reps = atoi(argv[3]);
	if (symbols < 1 || bars < 100 || reps < 1) {
		fprintf(stderr, "tulip_bench: SYMBOLS >= 1, BARS >= 100, REPS >= 1\n");
		return 2;
	}
	static const int lengths[9] = {28, 29, 30, 32, 34, 27, 26, 24, 22};
	int (*const fns[6])(int, TI_REAL const *const *, TI_REAL const *, TI_REAL *const *) = {
		ti_ema, ti_hma, ti_wma, ti_dema, ti_linreg, ti_kama};
	double *close = malloc((size_t)symbols * (size_t)bars * sizeof(double));
	double *out = malloc((size_t)bars * sizeof(double));
	double *t = malloc((size_t)reps * sizeof(double));
	if (!close || !out || !t)
		return 1;
	srand(7);
	for (int s = 0; s < symbols; s++) {
		double p = 100.0;
		for (int i = 0; i < bars; i++) {
			p *= 1.0 + ((double)rand() / RAND_MAX - 0.5) * 0.02;
			close[(size_t)s * (size_t)bars + (size_t)i] = p;
		}
	}
	volatile double sink = 0;
	for (int r = 0; r < reps; r++) {
		const double t0 = now_s();
		for (int s = 0; s < symbols; s++) {
			const double *in[1] = {close + (size_t)s * (size_t)bars};
			double *outs[1] = {out};
			for (int f = 0; f < 6; f++)
				for (int k = 0; k < 9; k++) {
					const double opt[1] = {(double)lengths[k]};
					if (fns[f](bars, in, opt, outs) != TI_OKAY)
						return 1;
					sink += out[0];
				}
		}
		t[r] = now_s() - t0;
	}
	qsort(t, (size_t)reps, sizeof(*t), cmp_double);
	printf("%.3f\n", t[reps / 2] * 1e9 / ((double)symbols * bars * 54));
	(void)sink;
	free(close);
	free(out);
	free(t);
	return 0;
}
