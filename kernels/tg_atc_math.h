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

/* ---- software prefetch ----------------------------------------------------
 * A GPU walk over bars reads each bar's price and growth factors when it
 * gets there: at few warps per SM nothing hides that load's latency, once
 * per bar on the critical path. Every 16 bars (a 128-byte line of doubles)
 * this asks L1 for the lines `ahead` bars on (PTX prefetch.global.L1: no
 * register, no wait), so the walk's loads hit L1. A no-op on the CPU and in
 * the emulator; ahead 0 turns it off (TG_CUDA_PREFETCH). */
TG_HD void tg_prefetch_bars(int32_t ahead, int32_t i, int32_t n, const double *x, const double *g1,
			    const double *g2)
{
#ifdef __CUDA_ARCH__
	if (ahead > 0 && (i & 15) == 0 && i + ahead < n) {
		asm volatile("prefetch.global.L1 [%0];" ::"l"(x + i + ahead));
		asm volatile("prefetch.global.L1 [%0];" ::"l"(g1 + i + ahead));
		asm volatile("prefetch.global.L1 [%0];" ::"l"(g2 + i + ahead));
	}
#else
	(void)ahead, (void)i, (void)n, (void)x, (void)g1, (void)g2;
#endif
}

/* ---- division by a constant divisor -------------------------------------
 * a / d as one multiply and two fused multiply-adds, with rd = RN(1/d):
 * q0 = RN(a rd) is within 1.5 ulp of a / d, so r = a - d q0 is exact (one
 * FMA), and q0 + r rd = a/d + e (a/d - q0), e = d rd - 1, |e| <= 2^-53, is
 * within 2^-52 ulp of a / d. A quotient a / d with d = B 2^k, B odd, lies
 * at least ulp / (2B) from every midpoint between doubles, so for
 * B < 2^50 the last FMA rounds to the same double as the division: the
 * same bits. tg_recip_for_div gives rd only for such divisors (NaN
 * otherwise, which makes tg_div_by_fma divide), and the guard divides where
 * an intermediate could leave the normal range (|q0| outside [2^-1000,
 * 2^1000]: zero, tiny and huge quotients, infinities, NaN). The pipeline's
 * divisors are small integers: the WMA totals L(L+1)/2, the LSMA
 * denominators and 100; test_kernels' test_div_by_* checks them. The GPU
 * runs this (__CUDA_ARCH__, and the CPU emulator of the kernels,
 * TG_DIV_BY_FMA), where a division is a slow multi-instruction sequence
 * on the per-bar critical path; the CPU divides (no FMA in these builds;
 * the bits are the same). */
TG_HD double tg_recip_for_div(double d)
{
	if (!(d > 0.0) || !isfinite(d))
		return NAN;
	int e = 0;
	double m = frexp(d, &e); /* d = m 2^e, m in [0.5, 1) */
	uint64_t B = (uint64_t)ldexp(m, 53);
	while ((B & 1u) == 0)
		B >>= 1;
	return B < (1ull << 50) ? 1.0 / d : NAN;
}

TG_HD double tg_div_by_fma(double a, double d, double rd)
{
	const double q0 = a * rd;
	if (!(fabs(q0) >= 0x1p-1000 && fabs(q0) <= 0x1p1000))
		return a / d;
	const double r = fma(-d, q0, a);
	return fma(r, rd, q0);
}

TG_HD double tg_div_by(double a, double d, double rd)
{
#if defined(__CUDA_ARCH__) || defined(TG_DIV_BY_FMA)
	return tg_div_by_fma(a, d, rd);
#else
	(void)rd;
	return a / d;
#endif
}

/* n / 100 for an integer n (numpy's round(2) divides by 100 after rint),
 * by the same scheme with no guard: an integer quotient is never tiny, and
 * copysign gives -0 / 100 its sign (the FMAs make it +0); test_kernels
 * checks every |n| <= 10^6. */
TG_HD double tg_hundredths_fma(double n)
{
	const double q0 = n * 0.01;
	const double r = fma(-100.0, q0, n);
	return copysign(fma(r, 0.01, q0), n);
}

TG_HD double tg_hundredths(double n)
{
#if defined(__CUDA_ARCH__) || defined(TG_DIV_BY_FMA)
	return tg_hundredths_fma(n);
#else
	return n / 100.0;
#endif
}

/* Layer-1 weighted signal: num/den, non-finite -> NaN, then numpy round(2):
 * multiply, round half to even, divide (spec §7). */
TG_HD double tg_round2_ratio(double num, double den)
{
	double v = num / den;
	if (!isfinite(v))
		return NAN;
	return tg_hundredths(rint(v * 100.0));
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
