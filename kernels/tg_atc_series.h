/* Streaming moving averages shared by the C engine and the CUDA kernels.
 *
 * Every MA is a small state plus a step that reads the series at bar i and
 * returns the MA at bar i, O(1) per bar. A series is (base, stride): bar i
 * is x[i * stride], so the CPU walks contiguous rows (stride 1) and a GPU
 * thread walks one column of a bar-major array (stride = series count).
 * Steps must be called for i = 0, 1, 2, ... in order.
 *
 * Rounding is part of the contract (see the user guide, algorithm
 * decisions): running sums are re-summed every TG_RESYNC bars and set to
 * their correctly rounded closed forms over flat windows, LSMA divides
 * once, and the approximate WMA reproduces the reference's pairwise sum.
 */
#ifndef TG_ATC_SERIES_H
#define TG_ATC_SERIES_H

#include <stddef.h>
#include <stdint.h>

#include "tg_atc_math.h"

#define TG_RESYNC 128

TG_HD double tg_at(const double *x, int64_t stride, int32_t i)
{
	return x[(int64_t)i * stride];
}

TG_HD double tg_nan_to_zero(double v)
{
	return v == v ? v : 0.0;
}

/* Hull lengths: max(L/2, 1) and max(floor(sqrt(L)), 1). */
TG_HD int32_t tg_hull_half(int32_t L)
{
	return L / 2 > 0 ? L / 2 : 1;
}

TG_HD int32_t tg_hull_root(int32_t L)
{
	int32_t r = 1;
	while ((int64_t)(r + 1) * (r + 1) <= L)
		r++;
	return r;
}

/* ---- numpy pairwise summation (np.sum) ----------------------------------
 * 8 accumulators up to 128 elements, halves above. Sums x[j] * w[j], or
 * x[j] with NaN counted as 0 when w is NULL (pandas nanmean's sum). */

TG_HD double tg_pairwise_term(const double *x, int64_t stride, const double *w, int32_t j)
{
	double v = tg_at(x, stride, j);
	if (w)
		return v * w[j];
	return tg_nan_to_zero(v);
}

TG_HD double tg_pairwise_block(const double *x, int64_t stride, const double *w, int32_t n)
{
	if (n < 8) {
		double res = 0.0;
		for (int32_t j = 0; j < n; j++)
			res += tg_pairwise_term(x, stride, w, j);
		return res;
	}
	double r[8];
	for (int k = 0; k < 8; k++)
		r[k] = tg_pairwise_term(x, stride, w, k);
	int32_t i;
	for (i = 8; i < n - (n % 8); i += 8)
		for (int k = 0; k < 8; k++)
			r[k] += tg_pairwise_term(x, stride, w, i + k);
	double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
	for (; i < n; i++)
		res += tg_pairwise_term(x, stride, w, i);
	return res;
}

/* Above 128 elements numpy halves recursively (n2 = n/2 rounded down to a
 * multiple of 8) and adds left + right; this walks the same tree in the same
 * order with an explicit stack, so the device needs no recursion. */
TG_HD double tg_pairwise(const double *x, int64_t stride, const double *w, int32_t n)
{
	if (n <= 128)
		return tg_pairwise_block(x, stride, w, n);
	int32_t lo_s[32], n_s[32];
	int stage[32];
	double left[32];
	int top = 0;
	double ret = 0.0; /* the sum of the node that completed last */
	lo_s[0] = 0;
	n_s[0] = n;
	stage[0] = 0;
	while (top >= 0) {
		const int32_t lo = lo_s[top], m = n_s[top];
		if (m <= 128) {
			ret = tg_pairwise_block(x + (int64_t)lo * stride, stride, w ? w + lo : NULL, m);
			top--;
			continue;
		}
		int32_t m2 = m / 2;
		m2 -= m2 % 8;
		if (stage[top] == 0) { /* descend left */
			stage[top] = 1;
			top++;
			lo_s[top] = lo;
			n_s[top] = m2;
			stage[top] = 0;
		} else if (stage[top] == 1) { /* left done, descend right */
			left[top] = ret;
			stage[top] = 2;
			top++;
			lo_s[top] = lo + m2;
			n_s[top] = m - m2;
			stage[top] = 0;
		} else { /* both done */
			ret = left[top] + ret;
			top--;
		}
	}
	return ret;
}

/* pandas Series.mean() of x[0..n): NaNs skipped, NaN when all are NaN. */
TG_HD double tg_nanmean(const double *x, int64_t stride, int32_t n)
{
	int32_t count = 0;
	for (int32_t i = 0; i < n; i++) {
		double v = tg_at(x, stride, i);
		count += v == v;
	}
	if (count == 0)
		return NAN;
	return tg_pairwise(x, stride, NULL, n) / (double)count;
}

/* ---- window sums: S = sum of the last L values, W = sum of j * x with
 * weights j = 1..L oldest first; NaNs count 0 and are counted ------------ */

struct tg_wsum {
	double S, W;
	double last;  /* previous value, for the run of equal values */
	double total; /* pandas_ta's WMA divisor 0.5 L (L + 1) */
	double rtotal; /* its reciprocal for tg_div_by */
	int32_t nan;
	int32_t run;
	int32_t L;
};

TG_HD void tg_wsum_init(struct tg_wsum *w, int32_t L)
{
	w->S = 0.0;
	w->W = 0.0;
	w->last = NAN;
	w->total = 0.5 * (double)L * (double)(L + 1);
	w->rtotal = tg_recip_for_div(w->total);
	w->nan = 0;
	w->run = 0;
	w->L = L;
}

TG_HD void tg_wsum_resync(struct tg_wsum *w, const double *x, int64_t st, int32_t i)
{
	double S = 0.0, W = 0.0;
	int32_t nan = 0;
	for (int32_t j = 0; j < w->L; j++) {
		double v = tg_at(x, st, i - w->L + 1 + j);
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

/* Moves the window to end at bar i. Over a flat window (the last L values
 * equal) the sums are the correctly rounded closed forms c*L and c*total:
 * running sums a few ulps off would make the MA cross a flat price it
 * equals (golden case C). */
TG_HD void tg_wsum_advance(struct tg_wsum *w, const double *x, int64_t st, int32_t i)
{
	const int32_t L = w->L;
	const double vin = tg_at(x, st, i);
	w->run = vin == w->last ? w->run + 1 : 1;
	w->last = vin;
	if (w->run >= L) {
		w->S = vin * (double)L;
		w->W = vin * w->total;
		w->nan = 0;
	} else if (i < L) {
		if (vin != vin) {
			w->nan++;
		} else {
			w->S += vin;
			w->W += (double)(i + 1) * vin;
		}
	} else if ((i & (TG_RESYNC - 1)) == 0) {
		tg_wsum_resync(w, x, st, i);
	} else {
		const double vout = tg_at(x, st, i - L);
		const double in = tg_nan_to_zero(vin), old = tg_nan_to_zero(vout);
		/* one dependent add per chain per bar */
		w->W = w->W + ((double)L * in - w->S);
		w->S = w->S + (in - old);
		w->nan += (vin != vin) - (vout != vout);
	}
}

TG_HD double tg_wsum_wma(const struct tg_wsum *w, int32_t i)
{
	return (i >= w->L - 1 && w->nan == 0) ? tg_div_by(w->W, w->total, w->rtotal) : NAN;
}

/* ---- EMA (pandas_ta: SMA seed at L-1, then pandas ewm) ------------------ */

struct tg_ema {
	struct tg_ewm e;
	int32_t L;
};

TG_HD void tg_ema_init(struct tg_ema *s, int32_t L)
{
	tg_ewm_init(&s->e, L);
	s->L = L;
}

TG_HD double tg_ema_step(struct tg_ema *s, const double *x, int64_t st, int32_t i)
{
	if (i < s->L - 1)
		return NAN;
	if (i == s->L - 1)
		return tg_ewm_step(&s->e, tg_nanmean(x, st, s->L));
	return tg_ewm_step(&s->e, tg_at(x, st, i));
}

/* DEMA = 2 EMA - EMA(EMA). The inner EMA's seed is the mean of its first L
 * values, of which only the last is defined: exactly that value. */
struct tg_dema {
	struct tg_ema e1;
	struct tg_ewm e2;
	int32_t L;
};

TG_HD void tg_dema_init(struct tg_dema *s, int32_t L)
{
	tg_ema_init(&s->e1, L);
	tg_ewm_init(&s->e2, L);
	s->L = L;
}

TG_HD double tg_dema_step(struct tg_dema *s, const double *x, int64_t st, int32_t i)
{
	double v1 = tg_ema_step(&s->e1, x, st, i);
	if (i < s->L - 1)
		return NAN;
	double v2 = tg_ewm_step(&s->e2, v1);
	return 2.0 * v1 - v2;
}

/* ---- WMA, Hull, LSMA ------------------------------------------------------ */

TG_HD double tg_wma_step(struct tg_wsum *w, const double *x, int64_t st, int32_t i)
{
	tg_wsum_advance(w, x, st, i);
	return tg_wsum_wma(w, i);
}

/* The line through the window read at its last point is 3 WMA - 2 SMA =
 * (6W - 2(L+1)S) / (L(L+1)); one slope earlier (pandas_ta linreg) it is
 * (6(L-3)W - 2(L+1)(L-4)S) / (L(L+1)(L-1)). One division: exact when the
 * sums are, so a line through a price lands on it (golden case C). */
struct tg_lsma {
	struct tg_wsum w;
	double cw, cs, den, rden; /* rden: den's reciprocal for tg_div_by */
};

TG_HD void tg_lsma_init(struct tg_lsma *s, int32_t L, int penultimate)
{
	const double l = (double)L;
	tg_wsum_init(&s->w, L);
	if (penultimate) {
		s->cw = 6.0 * (l - 3.0);
		s->cs = 2.0 * (l + 1.0) * (l - 4.0);
		s->den = l * (l + 1.0) * (l - 1.0);
	} else {
		s->cw = 6.0;
		s->cs = 2.0 * (l + 1.0);
		s->den = l * (l + 1.0);
	}
	s->rden = tg_recip_for_div(s->den);
}

TG_HD double tg_lsma_step(struct tg_lsma *s, const double *x, int64_t st, int32_t i)
{
	tg_wsum_advance(&s->w, x, st, i);
	if (i < s->w.L - 1 || s->w.nan != 0)
		return NAN;
	return tg_div_by(s->cw * s->w.W - s->cs * s->w.S, s->den, s->rden);
}

/* True Hull: WMA(2 WMA(x, L/2) - WMA(x, L), floor(sqrt L)). The middle
 * series is written to (d, dst) at bar i, because the outer WMA reads it
 * back L bars later. */
struct tg_hma {
	struct tg_wsum fast, slow, outer;
};

TG_HD void tg_hma_init(struct tg_hma *s, int32_t L)
{
	tg_wsum_init(&s->fast, tg_hull_half(L));
	tg_wsum_init(&s->slow, L);
	tg_wsum_init(&s->outer, tg_hull_root(L));
}

TG_HD double tg_hma_step(struct tg_hma *s, const double *x, int64_t st, double *d, int64_t dst,
			 int32_t i)
{
	double f = tg_wma_step(&s->fast, x, st, i);
	double w = tg_wma_step(&s->slow, x, st, i);
	d[(int64_t)i * dst] = 2.0 * f - w;
	return tg_wma_step(&s->outer, d, dst, i);
}

/* ---- KAMA, fast 0.666 / slow 0.064, seeded at x[0] (spec §3.6) -----------
 * noise = sum of |x[j] - x[j-1]| over j = i-L+1..i as a running sum with a
 * count of NaN differences; 0 exactly once the L+1 prices are equal. */
struct tg_kama {
	double k;
	double noise;
	int32_t nan;
	int32_t run;
	int32_t L;
};

TG_HD void tg_kama_init(struct tg_kama *s, int32_t L)
{
	s->k = NAN;
	s->noise = 0.0;
	s->nan = 0;
	s->run = 1;
	s->L = L;
}

TG_HD double tg_kama_diff(const double *x, int64_t st, int32_t j)
{
	return fabs(tg_at(x, st, j) - tg_at(x, st, j - 1));
}

TG_HD double tg_kama_step(struct tg_kama *s, const double *x, int64_t st, int32_t i)
{
	const int32_t L = s->L;
	const double p = tg_at(x, st, i);
	if (i == 0) {
		s->k = p;
		return s->k;
	}
	if (i < L)
		return s->k;
	if (i == L) {
		for (int32_t j = 1; j <= L; j++) {
			s->run = tg_at(x, st, j) == tg_at(x, st, j - 1) ? s->run + 1 : 1;
			double d = tg_kama_diff(x, st, j);
			if (d != d)
				s->nan++;
			else
				s->noise += d;
		}
	} else {
		s->run = p == tg_at(x, st, i - 1) ? s->run + 1 : 1;
		if (s->run > L) {
			s->noise = 0.0;
			s->nan = 0;
		} else if ((i & (TG_RESYNC - 1)) == 0) {
			double noise = 0.0;
			int32_t nan = 0;
			for (int32_t j = i - L + 1; j <= i; j++) {
				double d = tg_kama_diff(x, st, j);
				if (d != d)
					nan++;
				else
					noise += d;
			}
			s->noise = noise;
			s->nan = nan;
		} else {
			double din = tg_kama_diff(x, st, i), dout = tg_kama_diff(x, st, i - L);
			s->noise = s->noise - tg_nan_to_zero(dout) + tg_nan_to_zero(din);
			s->nan += (din != din) - (dout != dout);
		}
	}
	double signal = fabs(p - tg_at(x, st, i - L));
	double sc = tg_kama_sc(signal, s->nan ? NAN : s->noise);
	double prev = s->k == s->k ? s->k : p;
	s->k = prev + sc * (p - prev);
	return s->k;
}

/* ---- approximate MAs (spec §11.1) ---------------------------------------- */

/* pandas rolling(L, min_periods=1).mean(): the mean of the non-NaN values of
 * the last min(L, i+1) bars; exact (c * count) over a flat window. */
struct tg_sma1 {
	double sum, last;
	int32_t count, run, L;
};

TG_HD void tg_sma1_init(struct tg_sma1 *s, int32_t L)
{
	s->sum = 0.0;
	s->last = NAN;
	s->count = 0;
	s->run = 0;
	s->L = L;
}

TG_HD double tg_sma1_step(struct tg_sma1 *s, const double *x, int64_t st, int32_t i)
{
	const int32_t L = s->L;
	const double v = tg_at(x, st, i);
	s->run = v == s->last ? s->run + 1 : 1;
	s->last = v;
	if (i >= L && (i & (TG_RESYNC - 1)) == 0) {
		double sum = 0.0;
		int32_t count = 0;
		for (int32_t j = i - L + 1; j <= i; j++) {
			double u = tg_at(x, st, j);
			if (u == u) {
				sum += u;
				count++;
			}
		}
		s->sum = sum;
		s->count = count;
	} else {
		if (v == v) {
			s->sum += v;
			s->count++;
		}
		if (i >= L) {
			double u = tg_at(x, st, i - L);
			if (u == u) {
				s->sum -= u;
				s->count--;
			}
		}
	}
	if (s->run >= L || s->run == i + 1)
		s->sum = v * (double)s->count;
	return s->count > 0 ? s->sum / (double)s->count : NAN;
}

/* The reference's fast_wma_approx: SMA1 during warm-up, then
 * np.sum(window * (w / w.sum())) with w = 1..L pre-normalised in `weights`
 * (L values). O(L) per bar on purpose: over flat prices the exact value ties
 * with the close, and only this rounding reproduces the reference's side of
 * the tie, so its crossovers (golden case C). L <= 1 is the series itself. */
struct tg_wma_approx {
	struct tg_sma1 warm;
	const double *weights;
	int32_t nan, L;
};

TG_HD void tg_wma_approx_init(struct tg_wma_approx *s, int32_t L, const double *weights)
{
	tg_sma1_init(&s->warm, L);
	s->weights = weights;
	s->nan = 0;
	s->L = L;
}

TG_HD double tg_wma_approx_step(struct tg_wma_approx *s, const double *x, int64_t st, int32_t i)
{
	const int32_t L = s->L;
	const double v = tg_at(x, st, i);
	if (L <= 1)
		return v;
	s->nan += v != v;
	if (i >= L) {
		double u = tg_at(x, st, i - L);
		s->nan -= u != u;
	}
	if (i < L - 1)
		return tg_sma1_step(&s->warm, x, st, i);
	if (s->nan)
		return NAN;
	return tg_pairwise(x + (int64_t)(i - L + 1) * st, st, s->weights, L);
}

/* The value tg_wma_approx_step returns at bar i, computed from the series
 * alone, so that every bar can be computed on its own (a GPU thread per
 * (symbol, bar)): the warm-up replays SMA1 over bars 0..i (i < L - 1, so
 * O(L)), then NaN when the window holds one, else the pairwise sum.
 * Bit-identical to the streaming form. */
TG_HD double tg_wma_approx_at(const double *x, int64_t st, int32_t i, int32_t L,
			      const double *weights)
{
	if (L <= 1)
		return tg_at(x, st, i);
	if (i < L - 1) {
		struct tg_sma1 warm;
		tg_sma1_init(&warm, L);
		double v = NAN;
		for (int32_t j = 0; j <= i; j++)
			v = tg_sma1_step(&warm, x, st, j);
		return v;
	}
	for (int32_t j = i - L + 1; j <= i; j++) {
		const double u = tg_at(x, st, j);
		if (u != u)
			return NAN;
	}
	return tg_pairwise(x + (int64_t)(i - L + 1) * st, st, weights, L);
}

/* weights[j] = (j + 1) / (L (L + 1) / 2), as numpy divides integer weights
 * by their integer sum. */
TG_HD void tg_wma_approx_weights(double *weights, int32_t L)
{
	const double total = (double)((int64_t)L * (L + 1) / 2);
	for (int32_t j = 0; j < L; j++)
		weights[j] = (double)(j + 1) / total;
}

/* Hull over the approximate WMA; weights for L/2, L and sqrt(L) in order
 * (tg_hma_approx_weight_count values); the middle series goes to (d, dst). */
struct tg_hma_approx {
	struct tg_wma_approx fast, slow, outer;
};

TG_HD int32_t tg_hma_approx_weight_count(int32_t L)
{
	return tg_hull_half(L) + L + tg_hull_root(L);
}

TG_HD void tg_hma_approx_init(struct tg_hma_approx *s, int32_t L, const double *weights)
{
	int32_t half = tg_hull_half(L);
	tg_wma_approx_init(&s->fast, half, weights);
	tg_wma_approx_init(&s->slow, L, weights + half);
	tg_wma_approx_init(&s->outer, tg_hull_root(L), weights + half + L);
}

TG_HD void tg_hma_approx_weights(double *weights, int32_t L)
{
	int32_t half = tg_hull_half(L);
	tg_wma_approx_weights(weights, half);
	tg_wma_approx_weights(weights + half, L);
	tg_wma_approx_weights(weights + half + L, tg_hull_root(L));
}

TG_HD double tg_hma_approx_step(struct tg_hma_approx *s, const double *x, int64_t st, double *d,
				int64_t dst, int32_t i)
{
	double f = tg_wma_approx_step(&s->fast, x, st, i);
	double w = tg_wma_approx_step(&s->slow, x, st, i);
	d[(int64_t)i * dst] = 2.0 * f - w;
	return tg_wma_approx_step(&s->outer, d, dst, i);
}

/* The approximate Hull per bar, in two passes over a series (see
 * tg_wma_approx_at): the middle series 2 WMA(L/2) - WMA(L) at bar i, then,
 * once the middle series is complete up to i, the outer WMA(sqrt L) of it.
 * Bit-identical to tg_hma_approx_step. */
TG_HD double tg_hma_approx_middle_at(const double *x, int64_t st, int32_t i, int32_t L,
				     const double *weights)
{
	const int32_t half = tg_hull_half(L);
	const double f = tg_wma_approx_at(x, st, i, half, weights);
	const double w = tg_wma_approx_at(x, st, i, L, weights + half);
	return 2.0 * f - w;
}

TG_HD double tg_hma_approx_outer_at(const double *d, int64_t dst, int32_t i, int32_t L,
				    const double *weights)
{
	return tg_wma_approx_at(d, dst, i, tg_hull_root(L), weights + tg_hull_half(L) + L);
}

/* 2 SMA1 - SMA1(SMA1); the inner SMA1 series goes to (d, dst). */
struct tg_dema_approx {
	struct tg_sma1 a, b;
};

TG_HD void tg_dema_approx_init(struct tg_dema_approx *s, int32_t L)
{
	tg_sma1_init(&s->a, L);
	tg_sma1_init(&s->b, L);
}

TG_HD double tg_dema_approx_step(struct tg_dema_approx *s, const double *x, int64_t st, double *d,
				 int64_t dst, int32_t i)
{
	double a = tg_sma1_step(&s->a, x, st, i);
	d[(int64_t)i * dst] = a;
	return 2.0 * a - tg_sma1_step(&s->b, d, dst, i);
}

/* The window midpoint written as the reference does: last - slope * L/2;
 * SMA1 during warm-up; L <= 2 is the series itself. */
struct tg_lsma_approx {
	struct tg_sma1 warm;
	int32_t L;
};

TG_HD void tg_lsma_approx_init(struct tg_lsma_approx *s, int32_t L)
{
	tg_sma1_init(&s->warm, L);
	s->L = L;
}

TG_HD double tg_lsma_approx_step(struct tg_lsma_approx *s, const double *x, int64_t st, int32_t i)
{
	const int32_t L = s->L;
	const double last = tg_at(x, st, i);
	if (L <= 2)
		return last;
	if (i < L - 1)
		return tg_sma1_step(&s->warm, x, st, i);
	const double first = tg_at(x, st, i - L + 1);
	const double slope = (last - first) / (double)L;
	return last - slope * ((double)L / 2.0);
}

/* A fixed-alpha EMA seeded at x[0], alpha = 2 / (L+1)^2; NaN poisons it. */
struct tg_kama_approx {
	double k, alpha;
};

TG_HD void tg_kama_approx_init(struct tg_kama_approx *s, int32_t L)
{
	s->k = NAN;
	s->alpha = 2.0 / (double)((int64_t)(L + 1) * (L + 1));
}

TG_HD double tg_kama_approx_step(struct tg_kama_approx *s, const double *x, int64_t st, int32_t i)
{
	const double p = tg_at(x, st, i);
	s->k = i == 0 ? p : s->k + s->alpha * (p - s->k);
	return s->k;
}

#endif
