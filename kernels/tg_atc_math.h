/* Per-bar ATC math shared by the C backend and the CUDA kernels.
 *
 * Each function is one step of a recurrence of ../shared/spec/atc.md, written
 * so that host and device produce the same bits: no fused multiply-add (the
 * project compiles with -ffp-contract=off and nvcc --fmad=false) and the
 * operation order of the reference.
 */
#ifndef TG_ATC_MATH_H
#define TG_ATC_MATH_H

#include <math.h>
#include <stdint.h>

#ifdef __CUDACC__
#define TG_HD static __host__ __device__ __forceinline__
#else
#define TG_HD static inline
#endif

#define TG_EQUITY_FLOOR 0.25
#define TG_KAMA_FAST 0.666
#define TG_KAMA_SLOW 0.064

/* pandas ewm(span=L, adjust=False).mean() state (spec §3.1). */
struct tg_ewm {
	double y;     /* current value, NaN until the first observation */
	double w;     /* old weight */
	double alpha; /* 1 / (1 + (L - 1) / 2) */
	double beta;  /* 1 - alpha */
};

TG_HD void tg_ewm_init(struct tg_ewm *s, int32_t length)
{
	s->y = NAN;
	s->w = 1.0;
	s->alpha = 1.0 / (1.0 + (double)(length - 1) / 2.0);
	s->beta = 1.0 - s->alpha;
}

/* One pandas ewm update; returns the output for this bar. */
TG_HD double tg_ewm_step(struct tg_ewm *s, double x)
{
	if (s->y == s->y) {
		s->w = s->w * s->beta;
		if (x == x) {
			/* "skip if equal" keeps constant inputs from drifting */
			if (s->y != x) {
				double num = s->w * s->y + s->alpha * x;
				double den = s->w + s->alpha;
				/* den is exactly 1 between gaps; x / 1.0 == x */
				s->y = den == 1.0 ? num : num / den;
			}
			s->w = 1.0;
		}
	} else if (x == x) {
		s->y = x;
	}
	return s->y;
}

/* Crossover state machine (spec §5): returns the new state in {-1, 0, 1}.
 * NaN operands compare false, so they never cross. Branch-free: whether the
 * close is above its MA is a coin flip the predictor cannot learn. */
TG_HD int tg_cross_step(int state, double close, double ma, double prev_close, double prev_ma)
{
	int up = (close > ma) & (prev_close <= prev_ma);
	int down = (close < ma) & (prev_close >= prev_ma);
	return state + up * (1 - state) - down * (1 + state);
}

/* Equity recursion of spec §6 for one bar. prev is NaN on the first active
 * bar; sp is the previous bar's signal (NaN at bar 0); r = R * growth. */
TG_HD double tg_equity_step(double prev, double sp, double r, double start, double d)
{
	double e;
	if (prev != prev) {
		e = start;
	} else {
		double a;
		if (sp != sp || r != r || sp == 0.0)
			a = 0.0;
		else
			a = sp > 0.0 ? r : -r;
		e = (prev * d) * (1.0 + a);
	}
	return e < TG_EQUITY_FLOOR ? TG_EQUITY_FLOOR : e;
}

/* tg_equity_step after the first active bar, for a signal in {-1, 0, 1}
 * and r with NaN replaced by 0: a = sp * r is then exactly +r, -r or 0
 * (1 + -0.0 == 1), so the result is bit-identical, without branches. */
TG_HD double tg_equity_next(double prev, double sp, double r_clean, double d)
{
	double e = (prev * d) * (1.0 + sp * r_clean);
	return e < TG_EQUITY_FLOOR ? TG_EQUITY_FLOOR : e;
}

/* Layer-1 weighted signal: num/den, non-finite -> NaN, then numpy round(2):
 * multiply, round half to even, divide (spec §7). */
TG_HD double tg_round2_ratio(double num, double den)
{
	double v = num / den;
	if (!isfinite(v))
		return NAN;
	return rint(v * 100.0) / 100.0;
}

/* Cut with the long/short thresholds (spec §9); NaN -> 0. */
TG_HD double tg_cut(double s, double long_threshold, double short_threshold)
{
	if (s > long_threshold)
		return 1.0;
	if (s < short_threshold)
		return -1.0;
	return 0.0;
}

/* exp_growth of spec §4: bars = [1, 1, 2, 3, ...]; e ** (lambda * (bars -
 * cutout)) where bars >= cutout, else 1; infinities become DBL_MAX. */
TG_HD double tg_growth(int32_t bar, double lambda_scaled, int32_t cutout)
{
	int32_t b = bar == 0 ? 1 : bar;
	if (b < cutout)
		return 1.0;
	double g = pow(2.718281828459045, lambda_scaled * (double)(b - cutout));
	if (isinf(g))
		g = g > 0 ? 1.7976931348623157e308 : -1.7976931348623157e308;
	return g;
}

/* KAMA smoothing constant from the efficiency ratio (spec §3.6). */
TG_HD double tg_kama_sc(double signal, double noise)
{
	double ratio = noise == 0.0 ? 0.0 : signal / noise;
	double t = ratio * (TG_KAMA_FAST - TG_KAMA_SLOW) + TG_KAMA_SLOW;
	return t * t;
}

/* Final long/short classification (spec §10). */
TG_HD int tg_final_signal(double last, double min_signal)
{
	if (last != last || fabs(last) < min_signal)
		return 0;
	return last > 0.0 ? 1 : (last < 0.0 ? -1 : 0);
}

#endif
