/* Private to the C backend: whole-series moving averages (loops over the
 * shared per-bar steps of tg_atc_series.h) and the per-symbol pipeline.
 */
#ifndef TG_CPU_INTERNAL_H
#define TG_CPU_INTERNAL_H

#include <stdint.h>

#include "tg_kernels.h"

/* ---- whole-series MAs: n values of p into out ---- */

/* pandas_ta ema: SMA seed at L-1, then pandas ewm(span=L, adjust=False). */
void tg_cpu_ema(const double *p, int32_t n, int32_t L, double *out);
/* 2*EMA - EMA(EMA) */
void tg_cpu_dema(const double *p, int32_t n, int32_t L, double *out);
/* Linear weights 1..L, oldest first; NaN anywhere in the window -> NaN. */
void tg_cpu_wma(const double *p, int32_t n, int32_t L, double *out);
/* True Hull; tmp holds n doubles (the middle series). */
void tg_cpu_hma(const double *p, int32_t n, int32_t L, double *out, double *tmp);
/* Least-squares line at the last point (or one slope earlier). */
void tg_cpu_lsma(const double *p, int32_t n, int32_t L, int point, double *out);
/* KAMA with fast 0.666 / slow 0.064, seeded at p[0] (spec §3.6). */
void tg_cpu_kama(const double *p, int32_t n, int32_t L, double *out);

/* approximate (spec §11.1); tmp holds n doubles */
void tg_cpu_sma1(const double *p, int32_t n, int32_t L, double *out);
void tg_cpu_wma_approx(const double *p, int32_t n, int32_t L, double *out);
void tg_cpu_hma_approx(const double *p, int32_t n, int32_t L, double *out, double *tmp);
void tg_cpu_dema_approx(const double *p, int32_t n, int32_t L, double *out, double *tmp);
void tg_cpu_lsma_approx(const double *p, int32_t n, int32_t L, double *out);
void tg_cpu_kama_approx(const double *p, int32_t n, int32_t L, double *out);

/* The MA of one family/length in the given mode; tmp holds n doubles. */
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
	double *tmp;         /* a middle series (Hull, approximate DEMA) */
	double *r, *r1, *r2, *nom, *den;
};

int tg_cpu_scratch_reserve(struct tg_cpu_scratch *s, int32_t n, struct tg_error *err);
void tg_cpu_scratch_fini(struct tg_cpu_scratch *s);

/* Fills the growth tables g1/g2 ([n] each) for a plan. */
void tg_cpu_plan_init(struct tg_cpu_plan *plan, const struct tg_atc_params *params, double *g1,
		      double *g2, int32_t n);

/* Writes symbol s's Average_Signal (avg: n values, non-finite already 0;
 * the cutout and the strategy shift are applied here, in place), its final
 * value and signal, R (NULL: written already), the approx slots' copies of
 * slot 0 and the NaN padding past its bars. Both paths end with it. */
void tg_cpu_atc_finish(const struct tg_cpu_plan *plan, const struct tg_batch *batch, int32_t s,
		       const struct tg_atc_outputs *out, double *avg, const double *R);

/* Row s of output plane `plane` ([planes][S][stride]); NULL when the
 * output was not asked for. */
static inline double *tg_cpu_row(double *base, const struct tg_batch *b, int64_t plane, int32_t s)
{
	return base ? base + (plane * b->n_symbols + s) * (int64_t)b->stride : NULL;
}

static inline int8_t *tg_cpu_row8(int8_t *base, const struct tg_batch *b, int64_t plane, int32_t s)
{
	return base ? base + (plane * b->n_symbols + s) * (int64_t)b->stride : NULL;
}

/* ---- symbols in groups, one vector lane each (cpu_lanes.inc) ---- */

/* symbols per group: one register's doubles */
#define TG_CPU_AVX512_LANES 8
#define TG_CPU_AVX2_LANES 4
#define TG_CPU_GENERIC_LANES 2
/* the most symbols a group holds (the buffers' lane count) */
#define TG_CPU_LANES TG_CPU_AVX512_LANES
/* Fewer symbols than this left over: they run one at a time. */
#define TG_CPU_GROUP_MIN 2

/* How the C engine walks symbols. */
enum tg_cpu_simd {
	TG_CPU_SCALAR = 0,  /* one symbol at a time */
	TG_CPU_GENERIC = 1, /* groups, the baseline vector unit (SSE2/NEON) */
	TG_CPU_AVX2 = 2,    /* groups, AVX2 (no FMA) */
	TG_CPU_AVX512 = 3   /* groups, AVX-512F (no FMA); groups of 4 or fewer in AVX2 */
};

/* Per-worker buffers of the group path: bar-major [bars][lanes] series. */
struct tg_cpu_lanes_scratch {
	int32_t cap;          /* bars */
	int32_t ring_mask;    /* ring size - 1 (Hull's middle series per slot) */
	int32_t weights_cap;
	void *block;          /* one 64-byte-aligned allocation for all below */
	double *p, *r1, *r2, *nom, *den, *mid, *rings, *weights;
	double *run;          /* the prices' runs of equal values, [bars][lanes] */
	int32_t *run_max;     /* the longest run over the lanes, [bars] */
};

int tg_cpu_lanes_reserve(struct tg_cpu_lanes_scratch *s, const struct tg_cpu_plan *plan, int32_t n,
			 struct tg_error *err);
void tg_cpu_lanes_fini(struct tg_cpu_lanes_scratch *s);

/* Runs symbols s0 .. s0 + lanes - 1 (lanes <= the walk's group size) as
 * one group. */
typedef void tg_cpu_group_fn(const struct tg_cpu_plan *plan, const struct tg_batch *batch,
			     int32_t s0, int32_t lanes, const struct tg_atc_outputs *out,
			     struct tg_cpu_lanes_scratch *gs, struct tg_cpu_scratch *sc);
tg_cpu_group_fn tg_cpu_group_generic;
#if defined(__x86_64__)
tg_cpu_group_fn tg_cpu_group_avx2;
tg_cpu_group_fn tg_cpu_group_avx512;
#endif

/* The walk to use: TG_CPU_SIMD=scalar|generic|avx2|auto (unset: auto, the
 * widest the CPU runs); *why says why when the request cannot be met. */
enum tg_cpu_simd tg_cpu_simd_choose(const char **why);
/* Does this CPU run AVX2 (0 off x86-64)? */
int tg_cpu_has_avx2(void);
int tg_cpu_has_avx512(void);
/* The function that runs a group of `lanes` symbols (1 .. the walk's
 * group size) under that walk: NULL for the scalar walk; a group that
 * fits a narrower register runs in it (AVX-512: 4 or fewer in AVX2, where
 * an instruction does half the work at less cost). */
tg_cpu_group_fn *tg_cpu_group_for(enum tg_cpu_simd simd, int lanes);
/* symbols per group of that walk (1: scalar) */
int tg_cpu_group_lanes(enum tg_cpu_simd simd);
const char *tg_cpu_simd_name(enum tg_cpu_simd simd);
/* What a CPU backend runs with, for `isa`: the walk's name (`scalar` for
 * the scalar walk), the CPU's instruction sets and why TG_CPU_SIMD was
 * not followed, if it was not. The C and Rust backends share it. */
void tg_cpu_isa_describe(char *buf, size_t cap, enum tg_cpu_simd simd, const char *scalar);

/* Runs symbol s of the batch and writes its requested outputs. */
void tg_cpu_atc_symbol(const struct tg_cpu_plan *plan, const struct tg_batch *batch, int32_t s,
		       const struct tg_atc_outputs *out, struct tg_cpu_scratch *scratch);

#endif
