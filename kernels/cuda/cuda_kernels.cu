/* The ATC kernels. Per chunk of symbols: one kernel per MA family (MAs,
 * crossovers, Layer-1 equities, the rounded family signal and its Layer-2
 * equity, all in registers) and a finalize kernel (Average_Signal, the
 * final signal, back to the host layout).
 *
 * Two ways to lay a family over threads:
 * - "lanes" (exact mode): each (symbol, slot) series has its own thread,
 *   the nine slots of a symbol in neighbouring lanes of one warp (three
 *   symbols per warp). Every bar the slot lead gathers the nine (state,
 *   equity) pairs with warp shuffles and sums them in slot order.
 * - "walk": a thread per (symbol, family) runs the family's MAs in step
 *   (tg_atc_walk.h): no shuffles and no idle lanes, nine times the work
 *   per thread. Approx mode (one MA per family) always walks; exact mode walks
 *   the families in plan.walk (TG_CUDA_WALK).
 * Either way the per-bar MA arithmetic is the shared tg_atc_series.h and
 * the Layer-1 signal is bit-identical to the C engine's.
 *
 * The walk over the bars is latency-bound, so each thread reads its
 * symbol's row (bars contiguous): a 128-byte line serves 16 bars from L1,
 * where a bar-major layout would cost an L2 round trip per bar.
 *
 * Launches are spelled TG_LAUNCH and the CUDA built-ins used are few
 * (thread indices, __shfl_sync, __shfl_xor_sync, __syncthreads), so that
 * test_cuda_emul can compile this file for the CPU (tests/emul) and check
 * every kernel on machines without a GPU.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuda_internal.h"
#include "tg_atc_series.h"
#include "tg_atc_walk.h"
#include "tg_str.h"

#define FULL_MASK 0xffffffffu

/* ---- the moving average of each family, as a streaming state ---------- */

template <int FAM> struct ma_state;

/* ma_state<FAM>: the streaming state of tg_atc_series.h for one family in
 * exact mode, behind one init/step interface. Parameters available to
 * INIT: L (length), pen (LSMA at the penultimate point); to STEP: x, st
 * (series), d, dst (middle series), i (bar). */
#define TG_MA_STATE(fam, type, INIT, STEP)                                                   \
	template <> struct ma_state<fam> {                                                   \
		type s;                                                                      \
		__device__ void init(int32_t L, int pen)                                     \
		{                                                                            \
			(void)pen;                                                           \
			INIT;                                                                \
		}                                                                            \
		__device__ double step(const double *x, int64_t st, double *d, int64_t dst,  \
				       int32_t i)                                            \
		{                                                                            \
			(void)d;                                                             \
			(void)dst;                                                           \
			return STEP;                                                         \
		}                                                                            \
	};

TG_MA_STATE(TG_FAM_EMA, tg_ema, tg_ema_init(&s, L), tg_ema_step(&s, x, st, i))
TG_MA_STATE(TG_FAM_HMA, tg_hma, tg_hma_init(&s, L), tg_hma_step(&s, x, st, d, dst, i))
TG_MA_STATE(TG_FAM_WMA, tg_wsum, tg_wsum_init(&s, L), tg_wma_step(&s, x, st, i))
TG_MA_STATE(TG_FAM_DEMA, tg_dema, tg_dema_init(&s, L), tg_dema_step(&s, x, st, i))
TG_MA_STATE(TG_FAM_LSMA, tg_lsma, tg_lsma_init(&s, L, pen), tg_lsma_step(&s, x, st, i))
TG_MA_STATE(TG_FAM_KAMA, tg_kama, tg_kama_init(&s, L), tg_kama_step(&s, x, st, i))

/* ---- approximate WMA and Hull: a thread per (symbol, bar) ---------------
 *
 * Their O(L) pairwise window sums are independent per bar, so they run
 * bar-parallel before the family kernel, which then only reads the series
 * (in approx mode a family kernel has one lane per symbol: with a few
 * hundred symbols, a per-bar O(L) sum in that serial walk made these two
 * the slowest kernels, 33% of the approx run at 500 x 10 000).
 * Scratch rows of a symbol s (approx mode): s*9 + HMA holds the Hull's
 * middle series, s*9 + WMA the WMA series, s*9 + PRE_HMA_ROW the Hull. */
#define PRE_HMA_ROW 6

template <int PASS>
__device__ __forceinline__ void approx_bars(const tg_cuda_plan &plan, const tg_cuda_chunk &c)
{
	const int64_t at = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
	const int64_t s = at / c.stride;
	const int32_t i = (int32_t)(at % c.stride);
	if (s >= c.cs || i >= c.n_bars[s])
		return;
	const double *x = c.close + s * c.stride;
	double *rows = c.scratch + s * TG_ATC_SLOTS * (int64_t)c.stride;
	if (PASS == 0) { /* the WMA */
		const int32_t L = plan.lengths[TG_FAM_WMA][0];
		rows[TG_FAM_WMA * (int64_t)c.stride + i] =
			tg_wma_approx_at(x, 1, i, L, c.weights + c.weight_off[TG_FAM_WMA]);
	} else if (PASS == 1) { /* the Hull's middle series */
		const int32_t L = plan.lengths[TG_FAM_HMA][0];
		rows[TG_FAM_HMA * (int64_t)c.stride + i] =
			tg_hma_approx_middle_at(x, 1, i, L, c.weights + c.weight_off[TG_FAM_HMA]);
	} else { /* the Hull, over the complete middle series */
		const int32_t L = plan.lengths[TG_FAM_HMA][0];
		rows[PRE_HMA_ROW * (int64_t)c.stride + i] =
			tg_hma_approx_outer_at(rows + TG_FAM_HMA * (int64_t)c.stride, 1, i, L,
					       c.weights + c.weight_off[TG_FAM_HMA]);
	}
}

__global__ void __launch_bounds__(256) atc_wma_approx_bars(tg_cuda_plan plan, tg_cuda_chunk c)
{
	approx_bars<0>(plan, c);
}

__global__ void __launch_bounds__(256) atc_hma_approx_middle_bars(tg_cuda_plan plan,
								  tg_cuda_chunk c)
{
	approx_bars<1>(plan, c);
}

__global__ void __launch_bounds__(256) atc_hma_approx_outer_bars(tg_cuda_plan plan,
								 tg_cuda_chunk c)
{
	approx_bars<2>(plan, c);
}

/* ---- lanes: a thread per (symbol, slot), exact mode ---------------------- */

template <int FAM>
__device__ __forceinline__ void family_lanes(const tg_cuda_plan &plan, const tg_cuda_chunk &c)
{
	constexpr int K = TG_ATC_SLOTS;  /* lanes per symbol */
	constexpr int GROUPS = 32 / K;   /* symbols per warp */
	const int lane = threadIdx.x & 31;
	const int64_t warp = ((int64_t)blockIdx.x * blockDim.x + threadIdx.x) >> 5;
	const int g = lane / K, k = lane % K, lead = g * K;
	const int64_t s = warp * GROUPS + g;
	const bool valid = lane < GROUPS * K && s < c.cs;
	const int32_t n = valid ? c.n_bars[s] : 0;
	/* the warp walks the bars together: up to its longest series */
	int32_t nmax = n;
	for (int off = 16; off > 0; off >>= 1)
		nmax = max(nmax, __shfl_xor_sync(FULL_MASK, nmax, off));

	const int32_t cs = c.cs, stride = c.stride;
	const double *x = c.close + (valid ? s * stride : 0);
	/* the middle series of a Hull: one row per (symbol, slot) */
	double *mid = c.scratch + (valid ? (s * TG_ATC_SLOTS + k) * stride : 0);
	ma_state<FAM> ma;
	ma.init(plan.lengths[FAM][k], plan.lsma_penultimate);

	const double d = plan.d, weight = plan.weight[FAM];
	const int64_t plane = (int64_t)cs * stride; /* one [cs][stride] output plane */
	const int64_t row = valid ? s * stride : 0;
	double *slot_ma = c.slot_ma ? c.slot_ma + (FAM * TG_ATC_SLOTS + k) * plane + row : NULL;
	double *slot_eq = c.slot_eq ? c.slot_eq + (FAM * TG_ATC_SLOTS + k) * plane + row : NULL;
	int8_t *slot_sig = c.slot_sig ? c.slot_sig + (FAM * TG_ATC_SLOTS + k) * plane + row : NULL;
	double *cq = c.cq + (int64_t)FAM * stride * cs, *q = c.q + (int64_t)FAM * stride * cs;

	int sig = 0;
	double eq = 1.0, prev_ma = NAN, prev_close = NAN, prev_S = NAN, Q = NAN;
	for (int32_t i = 0; i < nmax; i++) {
		const bool act = valid && i < n;
		double e = 0.0, close = NAN, R = NAN;
		int sv = 0;
		if (act)
			tg_prefetch_bars(plan.prefetch, i, n, x, c.g1, c.g2);
		if (act) {
			close = x[i];
			const double m = ma.step(x, 1, mid, 1, i);
			R = close / prev_close - 1.0;
			double r1 = R * c.g1[i];
			r1 = r1 == r1 ? r1 : 0.0;
			e = i == 0 ? eq : tg_equity_next(eq, (double)sig, r1, d);
			sv = tg_cross_step(sig, close, m, prev_close, prev_ma);
			eq = e;
			sig = sv;
			prev_ma = m;
			if (slot_ma)
				slot_ma[i] = m;
			if (slot_eq)
				slot_eq[i] = e;
			if (slot_sig)
				slot_sig[i] = (int8_t)sv;
			if (k == 0 && c.ma)
				c.ma[FAM * plane + row + i] = m;
		}
		/* Layer 1: the lead sums its nine slots in slot order */
		double num = 0.0, den = 0.0;
#pragma unroll
		for (int j = 0; j < K; j++) {
			const double ej = __shfl_sync(FULL_MASK, e, lead + j);
			const int sj = __shfl_sync(FULL_MASK, sv, lead + j);
			num += (double)sj * ej;
			den += ej;
		}
		if (act && k == 0) {
			const double S = tg_round2_ratio(num, den);
			Q = i < plan.cutout ? NAN : tg_equity_step(Q, prev_S, R * c.g2[i], weight, d);
			const int64_t at = (int64_t)i * cs + s;
			cq[at] = tg_cut(S, plan.long_threshold, plan.short_threshold) * Q;
			q[at] = Q;
			prev_S = S;
			if (c.l1)
				c.l1[FAM * plane + row + i] = S;
			if (c.l2)
				c.l2[FAM * plane + row + i] = Q;
			if (FAM == TG_FAM_EMA && c.r)
				c.r[row + i] = R;
		}
		prev_close = close;
	}
	/* requested rows are NaN past the symbol's bars (states 0) */
	if (!valid)
		return;
	for (int32_t i = n; i < stride; i++) {
		if (slot_ma)
			slot_ma[i] = NAN;
		if (slot_eq)
			slot_eq[i] = NAN;
		if (slot_sig)
			slot_sig[i] = 0;
		if (k != 0)
			continue;
		if (c.ma)
			c.ma[FAM * plane + row + i] = NAN;
		if (c.l1)
			c.l1[FAM * plane + row + i] = NAN;
		if (c.l2)
			c.l2[FAM * plane + row + i] = NAN;
		if (FAM == TG_FAM_EMA && c.r)
			c.r[row + i] = NAN;
	}
}

/* ---- walk: a thread per (symbol, family) --------------------------------- */

template <int FAM, bool APPROX>
__device__ __forceinline__ void family_walk(const tg_cuda_plan &plan, const tg_cuda_chunk &c)
{
	const int64_t s = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
	if (s >= c.cs)
		return;
	const int32_t stride = c.stride;
	const int64_t plane = (int64_t)c.cs * stride, row = s * stride;
	const int64_t scratch = s * TG_ATC_SLOTS * (int64_t)stride;
	int32_t lengths[TG_ATC_SLOTS];
#pragma unroll
	for (int k = 0; k < TG_ATC_SLOTS; k++)
		lengths[k] = plan.lengths[FAM][k];
	tg_walk w;
	w.x = c.close + row;
	w.n = c.n_bars[s];
	w.stride = stride;
	w.lengths = lengths;
	w.lsma_penultimate = plan.lsma_penultimate;
	/* exact: the nine slot rows of the symbol; approx: the family's row
	 * (the Hull and DEMA kernels run at the same time) */
	w.mid = c.scratch + scratch + (APPROX ? FAM * (int64_t)stride : 0);
	w.pre = APPROX && FAM == TG_FAM_WMA   ? c.scratch + scratch + TG_FAM_WMA * (int64_t)stride
		: APPROX && FAM == TG_FAM_HMA ? c.scratch + scratch + PRE_HMA_ROW * (int64_t)stride
					      : NULL;
	w.g1 = c.g1;
	w.prefetch = plan.prefetch;
	w.g2 = c.g2;
	w.d = plan.d;
	w.weight = plan.weight[FAM];
	w.long_threshold = plan.long_threshold;
	w.short_threshold = plan.short_threshold;
	w.cutout = plan.cutout;
	w.cq = c.cq + FAM * plane + s;
	w.q = c.q + FAM * plane + s;
	w.step = c.cs;
	w.ma = c.ma ? c.ma + FAM * plane + row : NULL;
	w.l1 = c.l1 ? c.l1 + FAM * plane + row : NULL;
	w.l2 = c.l2 ? c.l2 + FAM * plane + row : NULL;
	w.r = FAM == TG_FAM_EMA && c.r ? c.r + row : NULL;
	w.slot_ma = c.slot_ma ? c.slot_ma + FAM * TG_ATC_SLOTS * plane + row : NULL;
	w.slot_eq = c.slot_eq ? c.slot_eq + FAM * TG_ATC_SLOTS * plane + row : NULL;
	w.slot_sig = c.slot_sig ? c.slot_sig + FAM * TG_ATC_SLOTS * plane + row : NULL;
	w.plane = plane;
	tg_walk_family(FAM, APPROX, &w);
}

/* One named kernel per family and variant, so profiles show which is which. */
#define TG_LANES_KERNEL(name, fam)                                                          \
	__global__ void __launch_bounds__(128) name(tg_cuda_plan plan, tg_cuda_chunk c)     \
	{                                                                                   \
		family_lanes<fam>(plan, c);                                                 \
	}
#define TG_WALK_KERNEL(name, fam, approx)                                                   \
	__global__ void __launch_bounds__(128) name(tg_cuda_plan plan, tg_cuda_chunk c)     \
	{                                                                                   \
		family_walk<fam, approx>(plan, c);                                          \
	}

TG_LANES_KERNEL(atc_ema_exact, TG_FAM_EMA)
TG_LANES_KERNEL(atc_hma_exact, TG_FAM_HMA)
TG_LANES_KERNEL(atc_wma_exact, TG_FAM_WMA)
TG_LANES_KERNEL(atc_dema_exact, TG_FAM_DEMA)
TG_LANES_KERNEL(atc_lsma_exact, TG_FAM_LSMA)
TG_LANES_KERNEL(atc_kama_exact, TG_FAM_KAMA)
TG_WALK_KERNEL(atc_ema_exact_walk, TG_FAM_EMA, false)
TG_WALK_KERNEL(atc_hma_exact_walk, TG_FAM_HMA, false)
TG_WALK_KERNEL(atc_wma_exact_walk, TG_FAM_WMA, false)
TG_WALK_KERNEL(atc_dema_exact_walk, TG_FAM_DEMA, false)
TG_WALK_KERNEL(atc_lsma_exact_walk, TG_FAM_LSMA, false)
TG_WALK_KERNEL(atc_kama_exact_walk, TG_FAM_KAMA, false)
TG_WALK_KERNEL(atc_ema_approx, TG_FAM_EMA, true)
TG_WALK_KERNEL(atc_hma_approx, TG_FAM_HMA, true)
TG_WALK_KERNEL(atc_wma_approx, TG_FAM_WMA, true)
TG_WALK_KERNEL(atc_dema_approx, TG_FAM_DEMA, true)
TG_WALK_KERNEL(atc_lsma_approx, TG_FAM_LSMA, true)
TG_WALK_KERNEL(atc_kama_approx, TG_FAM_KAMA, true)

typedef void (*family_kernel)(tg_cuda_plan, tg_cuda_chunk);

/* [variant][family]: exact lanes, exact walk, approx (walk) */
enum { VARIANT_LANES, VARIANT_WALK, VARIANT_APPROX, VARIANTS };

static const family_kernel family_kernels[VARIANTS][TG_ATC_FAMILIES] = {
	{atc_ema_exact, atc_hma_exact, atc_wma_exact, atc_dema_exact, atc_lsma_exact, atc_kama_exact},
	{atc_ema_exact_walk, atc_hma_exact_walk, atc_wma_exact_walk, atc_dema_exact_walk,
	 atc_lsma_exact_walk, atc_kama_exact_walk},
	{atc_ema_approx, atc_hma_approx, atc_wma_approx, atc_dema_approx, atc_lsma_approx,
	 atc_kama_approx},
};

static const char *const family_kernel_names[VARIANTS][TG_ATC_FAMILIES] = {
	{"atc_ema_exact", "atc_hma_exact", "atc_wma_exact", "atc_dema_exact", "atc_lsma_exact",
	 "atc_kama_exact"},
	{"atc_ema_exact_walk", "atc_hma_exact_walk", "atc_wma_exact_walk", "atc_dema_exact_walk",
	 "atc_lsma_exact_walk", "atc_kama_exact_walk"},
	{"atc_ema_approx", "atc_hma_approx", "atc_wma_approx", "atc_dema_approx", "atc_lsma_approx",
	 "atc_kama_approx"},
};

static int variant(int family, const tg_cuda_plan *plan)
{
	if (plan->approx)
		return VARIANT_APPROX;
	return plan->walk >> family & 1u ? VARIANT_WALK : VARIANT_LANES;
}

/* ---- Average_Signal: families in order, then back to [symbol][bar] ------ */

__global__ void atc_finalize(tg_cuda_plan plan, tg_cuda_chunk c)
{
	__shared__ double tile[32][33];
	const int32_t bar0 = blockIdx.x * 32, sym0 = blockIdx.y * 32;
	const int32_t cs = c.cs, stride = c.stride;
	const int64_t fam_plane = (int64_t)stride * cs;
	for (int r = threadIdx.y; r < 32; r += blockDim.y) {
		const int32_t i = bar0 + r, s = sym0 + threadIdx.x;
		double v = NAN;
		if (s < cs && i < stride) {
			const int32_t n = c.n_bars[s];
			v = tg_walk_average_at(c.cq + s, c.q + s, fam_plane, cs, i, n, plan.cutout,
					       plan.strategy_mode);
			if (i == n - 1) {
				if (c.final_value)
					c.final_value[s] = v;
				if (c.final_signal)
					c.final_signal[s] = (int8_t)tg_final_signal(v, plan.min_signal);
			}
			if (n == 0 && i == 0) {
				if (c.final_value)
					c.final_value[s] = NAN;
				if (c.final_signal)
					c.final_signal[s] = 0;
			}
		}
		tile[r][threadIdx.x] = v;
	}
	__syncthreads();
	if (!c.avg)
		return;
	for (int r = threadIdx.y; r < 32; r += blockDim.y) {
		const int32_t s = sym0 + r, i = bar0 + threadIdx.x;
		if (s < cs && i < stride)
			c.avg[(int64_t)s * stride + i] = tile[threadIdx.x][r];
	}
}

/* ---- host side of a plan --------------------------------------------------- */

/* TG_CUDA_WALK: the exact-mode families the walk kernels run (a thread per
 * (symbol, family)) instead of the lanes kernels (a thread per (symbol,
 * slot)); "all", "none" (the default) or a list such as "ema,kama".
 * TG_CUDA_PREFETCH: the bars ahead of a walk that it prefetches into L1
 * (tg_prefetch_bars), 0 to 4096, default TG_CUDA_PREFETCH_DEFAULT; 0 turns
 * it off. */
int tg_cuda_plan_make(const struct tg_atc_params *p, struct tg_cuda_plan *plan,
		      struct tg_error *err)
{
	memset(plan, 0, sizeof(*plan));
	TG_TRY(tg_family_set_parse("cuda backend: TG_CUDA_WALK", getenv("TG_CUDA_WALK"), &plan->walk,
				   err));
	plan->prefetch = TG_CUDA_PREFETCH_DEFAULT;
	const char *pf = getenv("TG_CUDA_PREFETCH");
	if (pf && *pf) {
		long v = 0;
		TG_FAIL_IF(!tg_parse_int(pf, 0, 4096, &v), err, TG_E_INVAL,
			   "cuda backend: TG_CUDA_PREFETCH '%s': expected the bars to prefetch ahead, "
			   "0 (off) to 4096",
			   pf);
		plan->prefetch = (int32_t)v;
	}
	for (int f = 0; f < TG_ATC_FAMILIES; f++) {
		tg_atc_slot_lengths(p, f, plan->lengths[f]);
		plan->weight[f] = p->weight[f];
	}
	plan->d = 1.0 - p->decay / 100.0;
	plan->long_threshold = p->long_threshold;
	plan->short_threshold = p->short_threshold;
	plan->min_signal = p->min_signal;
	plan->approx = p->ma_mode == TG_MA_APPROX;
	plan->lsma_penultimate = p->lsma_point == TG_LSMA_PENULTIMATE;
	plan->cutout = p->cutout;
	plan->strategy_mode = p->strategy_mode;
	return 0;
}

void tg_cuda_plan_describe(const struct tg_cuda_plan *plan, char *buf, size_t cap)
{
	const uint32_t all = (1u << TG_ATC_FAMILIES) - 1;
	size_t at = 0;
	if (plan->approx || plan->walk == all) {
		at = (size_t)snprintf(buf, cap, "walk");
	} else if (plan->walk == 0) {
		at = (size_t)snprintf(buf, cap, "lanes");
	} else {
		at = (size_t)snprintf(buf, cap, "walk:");
		for (int f = 0; f < TG_ATC_FAMILIES && at < cap; f++)
			if (plan->walk >> f & 1u)
				at += (size_t)snprintf(buf + at, cap - at, "%s%s", at > 5 ? "," : " ",
						       tg_family_name(f));
		if (at < cap)
			at += (size_t)snprintf(buf + at, cap - at, "; lanes: the others");
	}
	/* the default prefetch is not named (runs before it compare as equal) */
	if (at < cap && plan->prefetch == 0)
		snprintf(buf + at, cap - at, "; prefetch off");
	else if (at < cap && plan->prefetch != TG_CUDA_PREFETCH_DEFAULT)
		snprintf(buf + at, cap - at, "; prefetch %d bars", plan->prefetch);
}

size_t tg_cuda_weights(const struct tg_atc_params *p, double *w, int32_t off[TG_ATC_FAMILIES])
{
	size_t need = 1; /* w[0]: a valid pointer in exact mode too */
	for (int f = 0; f < TG_ATC_FAMILIES; f++) {
		off[f] = (int32_t)need;
		if (p->ma_mode != TG_MA_APPROX)
			continue;
		if (f == TG_FAM_WMA)
			need += (size_t)p->length[f];
		else if (f == TG_FAM_HMA)
			need += (size_t)tg_hma_approx_weight_count(p->length[f]);
	}
	if (!w)
		return need;
	w[0] = 0.0;
	if (p->ma_mode == TG_MA_APPROX) {
		tg_wma_approx_weights(w + off[TG_FAM_WMA], p->length[TG_FAM_WMA]);
		tg_hma_approx_weights(w + off[TG_FAM_HMA], p->length[TG_FAM_HMA]);
	}
	return need;
}

/* ---- launchers ----------------------------------------------------------- */

static dim3 tile_grid(const tg_cuda_chunk *c)
{
	return dim3((unsigned)((c->stride + 31) / 32), (unsigned)((c->cs + 31) / 32));
}

cudaError_t tg_cuda_launch_family(int family, const tg_cuda_plan *plan, const tg_cuda_chunk *c,
				  cudaStream_t stream)
{
	if (plan->approx && (family == TG_FAM_WMA || family == TG_FAM_HMA)) {
		const int64_t cells = (int64_t)c->cs * c->stride;
		const unsigned bar_blocks = (unsigned)((cells + 255) / 256);
		if (family == TG_FAM_WMA) {
			TG_LAUNCH(atc_wma_approx_bars, bar_blocks, 256, stream, *plan, *c);
		} else {
			TG_LAUNCH(atc_hma_approx_middle_bars, bar_blocks, 256, stream, *plan, *c);
			TG_LAUNCH(atc_hma_approx_outer_bars, bar_blocks, 256, stream, *plan, *c);
		}
		cudaError_t rc = cudaGetLastError();
		if (rc != cudaSuccess)
			return rc;
	}
	const int v = variant(family, plan);
	/* lanes: nine threads per symbol, three symbols per warp; walk: one */
	const int64_t threads_needed =
		v == VARIANT_LANES ? (c->cs + 32 / TG_ATC_SLOTS - 1) / (32 / TG_ATC_SLOTS) * 32 : c->cs;
	const int threads = 128;
	const int64_t blocks = (threads_needed + threads - 1) / threads;
	TG_LAUNCH(family_kernels[v][family], (unsigned)blocks, threads, stream, *plan, *c);
	return cudaGetLastError();
}

cudaError_t tg_cuda_launch_finalize(const tg_cuda_plan *plan, const tg_cuda_chunk *c,
				    cudaStream_t stream)
{
	TG_LAUNCH(atc_finalize, tile_grid(c), dim3(32, 8), stream, *plan, *c);
	return cudaGetLastError();
}

const char *tg_cuda_family_kernel_name(int family, const struct tg_cuda_plan *plan)
{
	return family_kernel_names[variant(family, plan)][family];
}

double tg_cuda_chunk_kernel_bytes(const tg_cuda_plan *plan, const tg_cuda_chunk *c)
{
	const double cells = (double)c->cs * (double)c->stride, w = sizeof(double);
	double bytes = 0.0;
	for (int f = 0; f < TG_ATC_FAMILIES; f++) {
		bytes += cells * w;         /* prices, once per family (look-backs hit cache) */
		bytes += 2 * cells * w;     /* Cut(S)*Q and Q */
		const int slots = plan->approx ? 1 : TG_ATC_SLOTS;
		const bool middle = f == TG_FAM_HMA || (plan->approx && f == TG_FAM_DEMA);
		if (middle)
			bytes += 2 * slots * cells * w; /* middle series, written and read back */
		if (plan->approx && (f == TG_FAM_WMA || f == TG_FAM_HMA))
			bytes += 3 * cells * w; /* bar-parallel pass: prices, the series out and back */
	}
	bytes += 12 * cells * w + cells * w; /* finalize: read 6 x 2, write Average_Signal */
	return bytes;
}
