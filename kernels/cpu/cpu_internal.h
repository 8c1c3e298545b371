/* Private to the C backend: whole-series moving averages and the
 * per-symbol pipeline. Every MA writes n values into out and does O(1) work
 * per bar (running sums are re-summed exactly every TG_CPU_RESYNC bars so
 * rounding cannot drift on long series).
 */
#ifndef TG_CPU_INTERNAL_H
#define TG_CPU_INTERNAL_H

#include <math.h>
#include <stdint.h>

#include "tg_kernels.h"

#define TG_CPU_RESYNC 128

/* Hull lengths: max(L/2, 1) and max(floor(sqrt(L)), 1). */
static inline int32_t tg_cpu_hull_half(int32_t L)
{
	return L / 2 > 0 ? L / 2 : 1;
}

static inline int32_t tg_cpu_hull_root(int32_t L)
{
	int32_t r = 1;
	while ((int64_t)(r + 1) * (r + 1) <= L)
		r++;
	return r;
}

/* Running window sums: S = sum of the window, W = sum of j * x with weights
 * j = 1..L oldest first; NaNs count as 0 in the sums and are counted.
 * Rounding makes running sums drift by ulps, and an MA a few ulps off a
 * constant price crosses it (spec golden case C). So whenever the last L
 * values are all equal the sums are set to their correctly rounded closed
 * forms c*L and c*L(L+1)/2, as an exact summation would give. */
struct tg_window_sums {
	double S, W;
	int32_t nan;
	int32_t run; /* consecutive equal values ending at the current bar */
	double last;
};

/* Re-sums the window ending at bar i from scratch. */
void tg_window_resync(struct tg_window_sums *w, const double *x, int32_t i, int32_t L);

/* Moves the window to end at bar i; total = L(L+1)/2. */
static inline void tg_window_advance(struct tg_window_sums *w, const double *x, int32_t i, int32_t L,
				  double total)
{
	double vin = x[i];
	w->run = vin == w->last ? w->run + 1 : 1;
	w->last = vin;
	if (w->run >= L) {
		w->S = vin * (double)L;
		w->W = vin * total;
		w->nan = 0;
	} else if (i < L) {
		if (vin != vin) {
			w->nan++;
		} else {
			w->S += vin;
			w->W += (double)(i + 1) * vin;
		}
	} else if ((i & (TG_CPU_RESYNC - 1)) == 0) {
		tg_window_resync(w, x, i, L);
	} else {
		double vout = x[i - L];
		double in = vin == vin ? vin : 0.0, old = vout == vout ? vout : 0.0;
		/* one dependent add per chain per bar */
		w->W = w->W + ((double)L * in - w->S);
		w->S = w->S + (in - old);
		w->nan += (vin != vin) - (vout != vout);
	}
}

#define TG_WINDOW_SUMS_START {0.0, 0.0, 0, 0, NAN}

/* ---- exact MAs (spec §3) ---- */

/* numpy's pairwise summation (np.sum): 8 accumulators up to 128 elements,
 * halves above. Sums x[j] * w[j], or x[j] with NaN counted as 0 when w is
 * NULL (pandas nanmean's sum). */
static inline double tg_cpu_pairwise_term(const double *x, const double *w, int32_t j)
{
	if (w)
		return x[j] * w[j];
	return x[j] == x[j] ? x[j] : 0.0;
}

static inline double tg_cpu_pairwise(const double *x, const double *w, int32_t n)
{
	if (n < 8) {
		double res = 0.0;
		for (int32_t j = 0; j < n; j++)
			res += tg_cpu_pairwise_term(x, w, j);
		return res;
	}
	if (n <= 128) {
		double r[8];
		for (int k = 0; k < 8; k++)
			r[k] = tg_cpu_pairwise_term(x, w, k);
		int32_t i;
		for (i = 8; i < n - (n % 8); i += 8)
			for (int k = 0; k < 8; k++)
				r[k] += tg_cpu_pairwise_term(x, w, i + k);
		double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
		for (; i < n; i++)
			res += tg_cpu_pairwise_term(x, w, i);
		return res;
	}
	int32_t n2 = n / 2;
	n2 -= n2 % 8;
	return tg_cpu_pairwise(x, w, n2) + tg_cpu_pairwise(x + n2, w ? w + n2 : NULL, n - n2);
}

double tg_cpu_pairwise_nansum(const double *a, int32_t n);
/* pandas_ta ema: SMA seed at L-1, then pandas ewm(span=L, adjust=False). */
void tg_cpu_ema(const double *p, int32_t n, int32_t L, double *out);
/* 2*EMA - EMA(EMA); tmp holds n doubles. */
void tg_cpu_dema(const double *p, int32_t n, int32_t L, double *out, double *tmp);
/* Linear weights 1..L, oldest first; NaN anywhere in the window -> NaN. */
void tg_cpu_wma(const double *p, int32_t n, int32_t L, double *out);
/* Hull composition over a given WMA: wma(2*wma(p, L/2) - wma(p, L),
 * floor(sqrt(L))); tmp holds 2n. */
void tg_cpu_hull(const double *p, int32_t n, int32_t L, double *out, double *tmp,
		 void (*wma)(const double *, int32_t, int32_t, double *));
/* True Hull: WMA(2*WMA(p, L/2) - WMA(p, L), floor(sqrt(L))); tmp holds 2n. */
void tg_cpu_hma(const double *p, int32_t n, int32_t L, double *out, double *tmp);
/* Least-squares line over the window, evaluated at the last point (or one
 * slope earlier for TG_LSMA_PENULTIMATE). */
void tg_cpu_lsma(const double *p, int32_t n, int32_t L, int point, double *out);
/* KAMA with fast 0.666 / slow 0.064, seeded at p[0] (spec §3.6). */
void tg_cpu_kama(const double *p, int32_t n, int32_t L, double *out);

/* ---- approximate MAs (spec §11.1) ---- */

/* pandas rolling(L, min_periods=1).mean() */
void tg_cpu_sma1(const double *p, int32_t n, int32_t L, double *out);
/* O(L) per bar: reproduces the reference's rounding, see the definition. */
void tg_cpu_wma_approx(const double *p, int32_t n, int32_t L, double *out);
/* tmp holds 2n doubles. */
void tg_cpu_hma_approx(const double *p, int32_t n, int32_t L, double *out, double *tmp);
/* tmp holds n doubles. */
void tg_cpu_dema_approx(const double *p, int32_t n, int32_t L, double *out, double *tmp);
void tg_cpu_lsma_approx(const double *p, int32_t n, int32_t L, double *out);
void tg_cpu_kama_approx(const double *p, int32_t n, int32_t L, double *out);

/* Computes the MA of one family/length with the given mode; tmp holds 2n. */
void tg_cpu_ma(int family, int mode, int lsma_point, const double *p, int32_t n, int32_t L,
	       double *out, double *tmp);

/* ---- the pipeline ---- */

/* Read-only per-run data shared by all workers. */
struct tg_cpu_plan {
	const struct tg_atc_params *params;
	int32_t lengths[TG_ATC_FAMILIES][TG_ATC_SLOTS];
	int32_t n_slots;     /* 9 exact, 1 approx (replicated) */
	double d;            /* 1 - decay/100 */
	const double *g1;    /* growth, cutout 0, [stride] */
	const double *g2;    /* growth, user cutout, [stride] */
};

/* Per-worker buffers, grown to the batch stride. */
struct tg_cpu_scratch {
	int32_t cap;
	double *block;       /* one allocation for everything below */
	double *ma[TG_ATC_SLOTS];
	double *tmp;         /* 2 * cap */
	double *r, *r1, *r2, *nom, *den;
};

int tg_cpu_scratch_reserve(struct tg_cpu_scratch *s, int32_t n, struct tg_error *err);
void tg_cpu_scratch_fini(struct tg_cpu_scratch *s);

/* Fills the growth tables g1/g2 ([n] each) for a plan. */
void tg_cpu_plan_init(struct tg_cpu_plan *plan, const struct tg_atc_params *params, double *g1,
		      double *g2, int32_t n);

/* Runs symbol s of the batch and writes its requested outputs. */
void tg_cpu_atc_symbol(const struct tg_cpu_plan *plan, const struct tg_batch *batch, int32_t s,
		       const struct tg_atc_outputs *out, struct tg_cpu_scratch *scratch);

#endif
