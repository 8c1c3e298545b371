/* One MA family of one symbol, walked bar by bar with all its MAs in step:
 * the MAs, their crossovers and Layer-1 equities, the family's rounded
 * Layer-1 signal and its Layer-2 equity, with nothing per (bar, MA) leaving
 * the walker's locals: the body of the CUDA backend's "walk" kernels (a
 * thread per (symbol, family)), host/device code like tg_atc_series.h;
 * test_cuda_emul runs those kernels on the CPU and checks them bit for bit
 * against the C engine.
 *
 * Same operations in the same order as the C engine (kernels/cpu/cpu_atc.c):
 * the MA step of tg_atc_series.h, slots summed in slot order, the spec's
 * rounding; compiled without fused multiply-add on both sides.
 */
#ifndef TG_ATC_WALK_H
#define TG_ATC_WALK_H

#include "tg_atc_series.h"
#include "tg_kernels.h"

#ifdef __CUDACC__
#define TG_UNROLL _Pragma("unroll")
#else
#define TG_UNROLL
#endif

/* What one walk reads and writes. Rows are a symbol's bars, contiguous. */
struct tg_walk {
	const double *x;        /* prices */
	int32_t n;              /* bars of the symbol */
	int32_t stride;         /* row length: the optional rows are NaN from n */
	const int32_t *lengths; /* the family's slot lengths (slot 0 in approx mode) */
	int lsma_penultimate;
	double *mid;            /* middle series (Hull, approximate DEMA): slot k at mid + k * stride */
	const double *pre;      /* the approximate WMA / Hull, computed beforehand */
	const double *g1, *g2;  /* growth per bar, Layer 1 and Layer 2 */
	int32_t prefetch;       /* bars ahead to prefetch (GPU only; 0: none) */
	double d, weight, long_threshold, short_threshold;
	int32_t cutout;
	/* Cut(S) * Q and Q at bar i are cq[i * step] and q[i * step] */
	double *cq, *q;
	int64_t step;
	/* optional rows (NULL: not wanted); r only for one family */
	double *ma, *l1, *l2, *r;
	/* optional per-slot rows: slot k at + k * plane; all nine in approx mode */
	double *slot_ma, *slot_eq;
	int8_t *slot_sig;
	int64_t plane;
};

/* Per-slot outputs of bar i; approx mode has one MA for all nine slots. */
TG_HD void tg_walk_slot_out(const struct tg_walk *w, int k, int copies, int32_t i, double m,
			    double e, int sv)
{
	for (int c = 0; c < copies; c++) {
		const int64_t at = (int64_t)(k + c) * w->plane + i;
		if (w->slot_ma)
			w->slot_ma[at] = m;
		if (w->slot_eq)
			w->slot_eq[at] = e;
		if (w->slot_sig)
			w->slot_sig[at] = (int8_t)sv;
	}
}

/* The optional rows past the symbol's bars: NaN (states 0). */
TG_HD void tg_walk_pad(const struct tg_walk *w, int slots)
{
	for (int32_t i = w->n; i < w->stride; i++) {
		if (w->ma)
			w->ma[i] = NAN;
		if (w->l1)
			w->l1[i] = NAN;
		if (w->l2)
			w->l2[i] = NAN;
		if (w->r)
			w->r[i] = NAN;
		tg_walk_slot_out(w, 0, slots, i, NAN, NAN, 0);
	}
}

/* TG_WALK(name, K, state type, INIT, STEP) defines `void name(const struct
 * tg_walk *w)` for a family of K MAs. INIT and STEP see the state `ma[k]`,
 * its length `L`, the walk `w`, the slot `k` and, in STEP, the bar `i`. */
#define TG_WALK(name, K, type, INIT, STEP)                                                     \
	TG_HD void name(const struct tg_walk *w)                                               \
	{                                                                                      \
		type ma[K];                                                                    \
		int sig[K];                                                                    \
		double eq[K], prev_ma[K];                                                      \
		TG_UNROLL for (int k = 0; k < K; k++)                                          \
		{                                                                              \
			const int32_t L = w->lengths[k];                                       \
			(void)L;                                                               \
			INIT;                                                                  \
			sig[k] = 0;                                                            \
			eq[k] = 1.0; /* the Layer-1 start, used from bar 0 */                   \
			prev_ma[k] = NAN;                                                      \
		}                                                                              \
		const double d = w->d;                                                         \
		double prev_close = NAN, prev_S = NAN, Q = NAN;                                \
		for (int32_t i = 0; i < w->n; i++) {                                           \
			tg_prefetch_bars(w->prefetch, i, w->n, w->x, w->g1, w->g2);            \
			const double close = w->x[i];                                          \
			const double R = close / prev_close - 1.0;                             \
			double r1 = R * w->g1[i];                                              \
			r1 = r1 == r1 ? r1 : 0.0;                                              \
			double num = 0.0, den = 0.0;                                           \
			TG_UNROLL for (int k = 0; k < K; k++)                                  \
			{                                                                      \
				const double m = STEP;                                         \
				const double e =                                               \
					i == 0 ? eq[k] : tg_equity_next(eq[k], (double)sig[k], r1, d); \
				const int sv = tg_cross_step(sig[k], close, m, prev_close, prev_ma[k]); \
				eq[k] = e;                                                     \
				sig[k] = sv;                                                   \
				prev_ma[k] = m;                                                \
				num += (double)sv * e;                                         \
				den += e;                                                      \
				if (w->slot_ma || w->slot_eq || w->slot_sig)                   \
					tg_walk_slot_out(w, k, K == 1 ? TG_ATC_SLOTS : 1, i, m, e, sv); \
				if (k == 0 && w->ma)                                           \
					w->ma[i] = m;                                          \
			}                                                                      \
			const double S = tg_round2_ratio(num, den);                            \
			Q = i < w->cutout ? NAN : tg_equity_step(Q, prev_S, R * w->g2[i], w->weight, d); \
			w->cq[i * w->step] = tg_cut(S, w->long_threshold, w->short_threshold) * Q; \
			w->q[i * w->step] = Q;                                                 \
			prev_S = S;                                                            \
			prev_close = close;                                                    \
			if (w->l1)                                                             \
				w->l1[i] = S;                                                  \
			if (w->l2)                                                             \
				w->l2[i] = Q;                                                  \
			if (w->r)                                                              \
				w->r[i] = R;                                                   \
		}                                                                              \
		tg_walk_pad(w, K == 1 ? TG_ATC_SLOTS : K);                                     \
	}

#define TG_WALK_MID(k) (w->mid + (int64_t)(k) * w->stride)

TG_WALK(tg_walk_ema_exact, TG_ATC_SLOTS, struct tg_ema, tg_ema_init(&ma[k], L),
	tg_ema_step(&ma[k], w->x, 1, i))
TG_WALK(tg_walk_hma_exact, TG_ATC_SLOTS, struct tg_hma, tg_hma_init(&ma[k], L),
	tg_hma_step(&ma[k], w->x, 1, TG_WALK_MID(k), 1, i))
TG_WALK(tg_walk_wma_exact, TG_ATC_SLOTS, struct tg_wsum, tg_wsum_init(&ma[k], L),
	tg_wma_step(&ma[k], w->x, 1, i))
TG_WALK(tg_walk_dema_exact, TG_ATC_SLOTS, struct tg_dema, tg_dema_init(&ma[k], L),
	tg_dema_step(&ma[k], w->x, 1, i))
TG_WALK(tg_walk_lsma_exact, TG_ATC_SLOTS, struct tg_lsma,
	tg_lsma_init(&ma[k], L, w->lsma_penultimate), tg_lsma_step(&ma[k], w->x, 1, i))
TG_WALK(tg_walk_kama_exact, TG_ATC_SLOTS, struct tg_kama, tg_kama_init(&ma[k], L),
	tg_kama_step(&ma[k], w->x, 1, i))
TG_WALK(tg_walk_ema_approx, 1, struct tg_sma1, tg_sma1_init(&ma[k], L),
	tg_sma1_step(&ma[k], w->x, 1, i))
/* the approximate Hull and WMA are O(L) per bar: computed a thread per bar
 * beforehand (tg_hma_approx_middle_at / _outer_at, tg_wma_approx_at) */
TG_WALK(tg_walk_hma_approx, 1, char, ma[k] = 0, ((void)ma[k], w->pre[i]))
TG_WALK(tg_walk_wma_approx, 1, char, ma[k] = 0, ((void)ma[k], w->pre[i]))
TG_WALK(tg_walk_dema_approx, 1, struct tg_dema_approx, tg_dema_approx_init(&ma[k], L),
	tg_dema_approx_step(&ma[k], w->x, 1, TG_WALK_MID(k), 1, i))
TG_WALK(tg_walk_lsma_approx, 1, struct tg_lsma_approx, tg_lsma_approx_init(&ma[k], L),
	tg_lsma_approx_step(&ma[k], w->x, 1, i))
TG_WALK(tg_walk_kama_approx, 1, struct tg_kama_approx, tg_kama_approx_init(&ma[k], L),
	tg_kama_approx_step(&ma[k], w->x, 1, i))

/* The walk of a family and mode; with constant arguments it folds to one. */
TG_HD void tg_walk_family(int family, int approx, const struct tg_walk *w)
{
	switch (family) {
	case TG_FAM_EMA: approx ? tg_walk_ema_approx(w) : tg_walk_ema_exact(w); return;
	case TG_FAM_HMA: approx ? tg_walk_hma_approx(w) : tg_walk_hma_exact(w); return;
	case TG_FAM_WMA: approx ? tg_walk_wma_approx(w) : tg_walk_wma_exact(w); return;
	case TG_FAM_DEMA: approx ? tg_walk_dema_approx(w) : tg_walk_dema_exact(w); return;
	case TG_FAM_LSMA: approx ? tg_walk_lsma_approx(w) : tg_walk_lsma_exact(w); return;
	default: approx ? tg_walk_kama_approx(w) : tg_walk_kama_exact(w); return;
	}
}

/* Average_Signal at bar i of a symbol of n bars from the six families'
 * Cut(S) * Q and Q (family f, bar j at [f * plane + j * step]): non-finite
 * -> 0, 0 before the cutout, shifted one bar in strategy mode; NaN past
 * the bars. */
TG_HD double tg_walk_average_at(const double *cq, const double *q, int64_t plane, int64_t step,
				int32_t i, int32_t n, int32_t cutout, int strategy_mode)
{
	const int32_t j = strategy_mode ? i - 1 : i;
	if (i >= n)
		return NAN;
	if (j < 0 || (cutout > 0 && cutout < n && j < cutout))
		return 0.0;
	double nom = 0.0, den = 0.0;
	for (int f = 0; f < TG_ATC_FAMILIES; f++) {
		nom += cq[f * plane + j * step];
		den += q[f * plane + j * step];
	}
	const double a = nom / den;
	return isfinite(a) ? a : 0.0;
}

#endif
