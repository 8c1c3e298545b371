/* Approximate moving averages of spec §11.1, O(1) per bar. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cpu_internal.h"

/* Running sum + count of the non-NaN values of the last L bars; re-summed
 * every TG_CPU_RESYNC bars and exact (c * count) over a constant window. */
void tg_cpu_sma1(const double *p, int32_t n, int32_t L, double *out)
{
	double sum = 0.0, last = NAN;
	int32_t count = 0, run = 0;
	for (int32_t i = 0; i < n; i++) {
		run = p[i] == last ? run + 1 : 1;
		last = p[i];
		if (i >= L && (i & (TG_CPU_RESYNC - 1)) == 0) {
			sum = 0.0;
			count = 0;
			for (int32_t j = i - L + 1; j <= i; j++) {
				if (p[j] == p[j]) {
					sum += p[j];
					count++;
				}
			}
		} else {
			if (p[i] == p[i]) {
				sum += p[i];
				count++;
			}
			if (i >= L && p[i - L] == p[i - L]) {
				sum -= p[i - L];
				count--;
			}
		}
		if (run >= L || run == i + 1)
			sum = p[i] * (double)count;
		out[i] = count > 0 ? sum / (double)count : NAN;
	}
}

/* The reference's fast_wma_approx: SMA1 during warm-up, then
 * np.sum(window * (w / w.sum())) with w = 1..L; NaN in the window -> NaN.
 * This one is O(L) per bar on purpose: on flat prices the exact value is a
 * tie with the close, and only the reference's own rounding (pre-normalised
 * weights, pairwise sum) reproduces which side of it the MA lands, and so
 * its crossovers (golden case C). Approx mode has one WMA per family. */
void tg_cpu_wma_approx(const double *p, int32_t n, int32_t L, double *out)
{
	if (L <= 1) {
		memmove(out, p, (size_t)n * sizeof(double));
		return;
	}
	double stack_w[256];
	double *w = L <= 256 ? stack_w : malloc((size_t)L * sizeof(double));
	if (!w) {
		/* Out of memory for the weights of a huge L: no value is better
		 * than a wrong one. */
		for (int32_t i = 0; i < n; i++)
			out[i] = NAN;
		return;
	}
	const double total = (double)((int64_t)L * (L + 1) / 2);
	for (int32_t j = 0; j < L; j++)
		w[j] = (double)(j + 1) / total;
	int32_t nan = 0;
	for (int32_t i = 0; i < n; i++) {
		nan += p[i] != p[i];
		if (i >= L)
			nan -= p[i - L] != p[i - L];
		if (i >= L - 1)
			out[i] = nan ? NAN : tg_cpu_pairwise(p + i - L + 1, w, L);
	}
	if (w != stack_w)
		free(w);
	/* SMA1 over the first bars depends only on those bars. */
	tg_cpu_sma1(p, n < L - 1 ? n : L - 1, L, out);
}

void tg_cpu_hma_approx(const double *p, int32_t n, int32_t L, double *out, double *tmp)
{
	tg_cpu_hull(p, n, L, out, tmp, tg_cpu_wma_approx);
}

void tg_cpu_dema_approx(const double *p, int32_t n, int32_t L, double *out, double *tmp)
{
	tg_cpu_sma1(p, n, L, tmp);
	tg_cpu_sma1(tmp, n, L, out);
	for (int32_t i = 0; i < n; i++)
		out[i] = 2.0 * tmp[i] - out[i];
}

/* Window midpoint: last - ((last - first) / L) * (L / 2). */
void tg_cpu_lsma_approx(const double *p, int32_t n, int32_t L, double *out)
{
	if (L <= 2) {
		memmove(out, p, (size_t)n * sizeof(double));
		return;
	}
	int32_t warm = n < L - 1 ? n : L - 1;
	tg_cpu_sma1(p, warm, L, out);
	const double dl = (double)L, half = (double)L / 2.0;
	for (int32_t i = L - 1; i < n; i++) {
		double last = p[i], first = p[i - L + 1];
		double slope = (last - first) / dl;
		out[i] = last - slope * half;
	}
}

/* Fixed-alpha EMA seeded at p[0], alpha = 2 / (L + 1)^2; NaN poisons it. */
void tg_cpu_kama_approx(const double *p, int32_t n, int32_t L, double *out)
{
	if (n == 0)
		return;
	const double alpha = 2.0 / (double)((int64_t)(L + 1) * (L + 1));
	double k = p[0];
	out[0] = k;
	for (int32_t i = 1; i < n; i++) {
		k = k + alpha * (p[i] - k);
		out[i] = k;
	}
}
