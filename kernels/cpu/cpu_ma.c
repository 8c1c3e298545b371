/* Whole-series moving averages over the shared streaming steps of
 * tg_atc_series.h (the CUDA kernels run the same steps per bar). */
#include <math.h>
#include <stdlib.h>

#include "cpu_internal.h"
#include "tg_atc_series.h"

/* A whole-series MA: a state, its init, and its step for every bar. */
#define TG_WHOLE_SERIES(type, INIT, STEP)        \
	do {                                     \
		type s;                          \
		INIT;                            \
		for (int32_t i = 0; i < n; i++)  \
			out[i] = STEP;           \
	} while (0)

void tg_cpu_ema(const double *p, int32_t n, int32_t L, double *out)
{
	TG_WHOLE_SERIES(struct tg_ema, tg_ema_init(&s, L), tg_ema_step(&s, p, 1, i));
}

void tg_cpu_dema(const double *p, int32_t n, int32_t L, double *out)
{
	TG_WHOLE_SERIES(struct tg_dema, tg_dema_init(&s, L), tg_dema_step(&s, p, 1, i));
}

void tg_cpu_wma(const double *p, int32_t n, int32_t L, double *out)
{
	TG_WHOLE_SERIES(struct tg_wsum, tg_wsum_init(&s, L), tg_wma_step(&s, p, 1, i));
}

void tg_cpu_hma(const double *p, int32_t n, int32_t L, double *out, double *tmp)
{
	TG_WHOLE_SERIES(struct tg_hma, tg_hma_init(&s, L), tg_hma_step(&s, p, 1, tmp, 1, i));
}

void tg_cpu_lsma(const double *p, int32_t n, int32_t L, int point, double *out)
{
	TG_WHOLE_SERIES(struct tg_lsma, tg_lsma_init(&s, L, point == TG_LSMA_PENULTIMATE),
			tg_lsma_step(&s, p, 1, i));
}

void tg_cpu_kama(const double *p, int32_t n, int32_t L, double *out)
{
	TG_WHOLE_SERIES(struct tg_kama, tg_kama_init(&s, L), tg_kama_step(&s, p, 1, i));
}

void tg_cpu_sma1(const double *p, int32_t n, int32_t L, double *out)
{
	TG_WHOLE_SERIES(struct tg_sma1, tg_sma1_init(&s, L), tg_sma1_step(&s, p, 1, i));
}

/* Pre-normalised weights of up to `count` values: on the stack when small,
 * else on the heap (once per series, never per bar). */
struct weights {
	double stack[256];
	double *w;
};

static double *weights_get(struct weights *b, int32_t count)
{
	b->w = count <= 256 ? b->stack : malloc((size_t)count * sizeof(double));
	return b->w;
}

static void weights_put(struct weights *b)
{
	if (b->w != b->stack)
		free(b->w);
}

static void fill_nan(double *out, int32_t n)
{
	/* out of memory for a huge L's weights: no value beats a wrong one */
	for (int32_t i = 0; i < n; i++)
		out[i] = NAN;
}

void tg_cpu_wma_approx(const double *p, int32_t n, int32_t L, double *out)
{
	struct weights b;
	double *w = weights_get(&b, L > 0 ? L : 1);
	if (!w) {
		fill_nan(out, n);
		return;
	}
	tg_wma_approx_weights(w, L);
	TG_WHOLE_SERIES(struct tg_wma_approx, tg_wma_approx_init(&s, L, w),
			tg_wma_approx_step(&s, p, 1, i));
	weights_put(&b);
}

void tg_cpu_hma_approx(const double *p, int32_t n, int32_t L, double *out, double *tmp)
{
	struct weights b;
	double *w = weights_get(&b, tg_hma_approx_weight_count(L));
	if (!w) {
		fill_nan(out, n);
		return;
	}
	tg_hma_approx_weights(w, L);
	TG_WHOLE_SERIES(struct tg_hma_approx, tg_hma_approx_init(&s, L, w),
			tg_hma_approx_step(&s, p, 1, tmp, 1, i));
	weights_put(&b);
}

void tg_cpu_dema_approx(const double *p, int32_t n, int32_t L, double *out, double *tmp)
{
	TG_WHOLE_SERIES(struct tg_dema_approx, tg_dema_approx_init(&s, L),
			tg_dema_approx_step(&s, p, 1, tmp, 1, i));
}

void tg_cpu_lsma_approx(const double *p, int32_t n, int32_t L, double *out)
{
	TG_WHOLE_SERIES(struct tg_lsma_approx, tg_lsma_approx_init(&s, L),
			tg_lsma_approx_step(&s, p, 1, i));
}

void tg_cpu_kama_approx(const double *p, int32_t n, int32_t L, double *out)
{
	TG_WHOLE_SERIES(struct tg_kama_approx, tg_kama_approx_init(&s, L),
			tg_kama_approx_step(&s, p, 1, i));
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
	case TG_FAM_DEMA: tg_cpu_dema(p, n, L, out); return;
	case TG_FAM_LSMA: tg_cpu_lsma(p, n, L, lsma_point, out); return;
	default: tg_cpu_kama(p, n, L, out); return;
	}
}
