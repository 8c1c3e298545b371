/* Exact moving averages of spec §3, one series at a time, O(1) per bar. */
#include <math.h>

#include "cpu_internal.h"
#include "tg_atc_math.h"

static void fill_nan(double *out, int32_t from, int32_t to)
{
	for (int32_t i = from; i < to; i++)
		out[i] = NAN;
}

static double nan_to_zero(double v)
{
	return v == v ? v : 0.0;
}

double tg_cpu_pairwise_nansum(const double *a, int32_t n)
{
	return tg_cpu_pairwise(a, NULL, n);
}

/* pandas Series.mean() of a[0..n): NaNs skipped, NaN when all are NaN. */
static double nanmean(const double *a, int32_t n)
{
	int32_t count = 0;
	for (int32_t i = 0; i < n; i++)
		count += a[i] == a[i];
	if (count == 0)
		return NAN;
	return tg_cpu_pairwise_nansum(a, n) / (double)count;
}

void tg_cpu_ema(const double *p, int32_t n, int32_t L, double *out)
{
	if (n < L) {
		fill_nan(out, 0, n);
		return;
	}
	struct tg_ewm s;
	tg_ewm_init(&s, L);
	fill_nan(out, 0, L - 1);
	out[L - 1] = tg_ewm_step(&s, nanmean(p, L));
	for (int32_t i = L; i < n; i++)
		out[i] = tg_ewm_step(&s, p[i]);
}

void tg_cpu_dema(const double *p, int32_t n, int32_t L, double *out, double *tmp)
{
	tg_cpu_ema(p, n, L, tmp);
	tg_cpu_ema(tmp, n, L, out);
	for (int32_t i = 0; i < n; i++)
		out[i] = 2.0 * tmp[i] - out[i];
}

void tg_window_resync(struct tg_window_sums *w, const double *x, int32_t i, int32_t L)
{
	double S = 0.0, W = 0.0;
	int32_t nan = 0;
	const double *win = x + i - L + 1;
	for (int32_t j = 0; j < L; j++) {
		double v = win[j];
		if (v != v) {
			nan++;
		} else {
			S += v;
			W += (double)(j + 1) * v;
		}
	}
	w->S = S;
	w->W = W;
	w->nan = nan;
}

void tg_cpu_wma(const double *p, int32_t n, int32_t L, double *out)
{
	if (n < L) {
		fill_nan(out, 0, n);
		return;
	}
	/* pandas_ta: total_weight = 0.5 * length * (length + 1) */
	const double total = 0.5 * (double)L * (double)(L + 1);
	struct tg_window_sums w = TG_WINDOW_SUMS_START;
	for (int32_t i = 0; i < n; i++) {
		tg_window_advance(&w, p, i, L, total);
		out[i] = (i >= L - 1 && w.nan == 0) ? w.W / total : NAN;
	}
}

void tg_cpu_hull(const double *p, int32_t n, int32_t L, double *out, double *tmp,
		 void (*wma)(const double *, int32_t, int32_t, double *))
{
	int32_t half = tg_cpu_hull_half(L), root = tg_cpu_hull_root(L);
	double *fast = tmp, *slow = tmp + n;
	wma(p, n, half, fast);
	wma(p, n, L, slow);
	for (int32_t i = 0; i < n; i++)
		fast[i] = 2.0 * fast[i] - slow[i];
	wma(fast, n, root, out);
}

void tg_cpu_hma(const double *p, int32_t n, int32_t L, double *out, double *tmp)
{
	tg_cpu_hull(p, n, L, out, tmp, tg_cpu_wma);
}

void tg_cpu_lsma(const double *p, int32_t n, int32_t L, int point, double *out)
{
	if (n < L) {
		fill_nan(out, 0, n);
		return;
	}
	/* With x = 1..L the fitted line at the last point is 3*WMA - 2*SMA =
	 * (6W - 2(L+1)S) / (L(L+1)); one slope earlier it is
	 * (6(L-3)W - 2(L+1)(L-4)S) / (L(L+1)(L-1)). One division at the end:
	 * when the sums are exact and the line passes exactly through a price
	 * (a step, golden case C) the value is exactly that price. */
	const double total = 0.5 * (double)L * (double)(L + 1);
	const double dl = (double)L;
	double cw, cs, den;
	if (point == TG_LSMA_PENULTIMATE) {
		cw = 6.0 * (dl - 3.0);
		cs = 2.0 * (dl + 1.0) * (dl - 4.0);
		den = dl * (dl + 1.0) * (dl - 1.0);
	} else {
		cw = 6.0;
		cs = 2.0 * (dl + 1.0);
		den = dl * (dl + 1.0);
	}
	struct tg_window_sums w = TG_WINDOW_SUMS_START;
	for (int32_t i = 0; i < n; i++) {
		tg_window_advance(&w, p, i, L, total);
		out[i] = (i < L - 1 || w.nan != 0) ? NAN : (cw * w.W - cs * w.S) / den;
	}
}

void tg_cpu_kama(const double *p, int32_t n, int32_t L, double *out)
{
	if (n == 0)
		return;
	out[0] = p[0];
	int32_t flat_end = n < L ? n : L;
	for (int32_t i = 1; i < flat_end; i++)
		out[i] = out[i - 1];
	if (n <= L)
		return;
	/* noise = sum of |p[j] - p[j-1]| over j = i-L+1..i, kept as a running
	 * sum with a count of NaN differences; re-summed every TG_CPU_RESYNC
	 * bars, and exactly 0 once the L+1 prices of the window are equal. */
	double noise = 0.0;
	int32_t nan = 0, run = 1;
	for (int32_t j = 1; j <= L; j++) {
		double d = fabs(p[j] - p[j - 1]);
		run = p[j] == p[j - 1] ? run + 1 : 1;
		if (d != d)
			nan++;
		else
			noise += d;
	}
	for (int32_t i = L; i < n; i++) {
		if (i > L) {
			run = p[i] == p[i - 1] ? run + 1 : 1;
			if (run > L) {
				noise = 0.0;
				nan = 0;
			} else if ((i & (TG_CPU_RESYNC - 1)) == 0) {
				noise = 0.0;
				nan = 0;
				for (int32_t j = i - L + 1; j <= i; j++) {
					double d = fabs(p[j] - p[j - 1]);
					if (d != d)
						nan++;
					else
						noise += d;
				}
			} else {
				double din = fabs(p[i] - p[i - 1]);
				double dout = fabs(p[i - L] - p[i - L - 1]);
				noise = noise - nan_to_zero(dout) + nan_to_zero(din);
				nan += (din != din) - (dout != dout);
			}
		}
		double signal = fabs(p[i] - p[i - L]);
		double sc = tg_kama_sc(signal, nan ? NAN : noise);
		double prev = out[i - 1];
		if (prev != prev)
			prev = p[i];
		out[i] = prev + sc * (p[i] - prev);
	}
}

void tg_cpu_ma(int family, int mode, int lsma_point, const double *p, int32_t n, int32_t L,
	       double *out, double *tmp)
{
	if (mode == TG_MA_APPROX) {
		switch (family) {
		case TG_FAM_EMA: tg_cpu_sma1(p, n, L, out); return;
		case TG_FAM_HMA: tg_cpu_hma_approx(p, n, L, out, tmp); return;
		case TG_FAM_WMA: tg_cpu_wma_approx(p, n, L, out); return;
		case TG_FAM_DEMA: tg_cpu_dema_approx(p, n, L, out, tmp); return;
		case TG_FAM_LSMA: tg_cpu_lsma_approx(p, n, L, out); return;
		default: tg_cpu_kama_approx(p, n, L, out); return;
		}
	}
	switch (family) {
	case TG_FAM_EMA: tg_cpu_ema(p, n, L, out); return;
	case TG_FAM_HMA: tg_cpu_hma(p, n, L, out, tmp); return;
	case TG_FAM_WMA: tg_cpu_wma(p, n, L, out); return;
	case TG_FAM_DEMA: tg_cpu_dema(p, n, L, out, tmp); return;
	case TG_FAM_LSMA: tg_cpu_lsma(p, n, L, lsma_point, out); return;
	default: tg_cpu_kama(p, n, L, out); return;
	}
}
