/* The group path's buffers and the choice of walk (scalar, baseline vector
 * unit, AVX2); the per-bar code is in cpu_lanes.inc. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu_internal.h"
#include "tg_atc_series.h"
#include "tg_machine.h"

static int32_t pow2_at_least(int32_t n)
{
	int32_t p = 1;
	while (p < n)
		p <<= 1;
	return p;
}

int tg_cpu_lanes_reserve(struct tg_cpu_lanes_scratch *s, const struct tg_cpu_plan *plan, int32_t n,
			 struct tg_error *err)
{
	/* the rings hold Hull's middle series per slot (its outer WMA reads
	 * sqrt(L) + 1 bars back) and the approximate DEMA's inner SMA (L + 1) */
	int32_t need = 1;
	for (int k = 0; k < TG_ATC_SLOTS; k++) {
		const int32_t r = tg_hull_root(plan->lengths[TG_FAM_HMA][k]) + 1;
		need = r > need ? r : need;
	}
	const int32_t dl = plan->lengths[TG_FAM_DEMA][0] + 1;
	need = dl > need ? dl : need;
	const int32_t ring = pow2_at_least(need);
	int32_t wcap = tg_hma_approx_weight_count(plan->lengths[TG_FAM_HMA][0]);
	const int32_t wl = plan->lengths[TG_FAM_WMA][0];
	wcap = wl > wcap ? wl : wcap;
	if (n <= s->cap && ring - 1 == s->ring_mask && wcap <= s->weights_cap)
		return 0;
	const size_t lane_row = (size_t)TG_CPU_LANES * sizeof(double);
	const size_t bars = (size_t)(n > 0 ? n : 1);
	const size_t series = 7 * bars * lane_row;
	const size_t rings = (size_t)TG_ATC_SLOTS * (size_t)ring * lane_row;
	const size_t weights = ((size_t)wcap * sizeof(double) + 63) / 64 * 64;
	/* (aligned_alloc wants a multiple of the alignment) */
	const size_t run_max = (bars * sizeof(int32_t) + 63) / 64 * 64;
	const size_t bytes = (series + rings + weights + run_max + 63) / 64 * 64;
	void *block = aligned_alloc(64, bytes);
	TG_FAIL_IF(!block, err, TG_E_NOMEM,
		   "cpu backend: failed to allocate %zu MB of group scratch for %d bars", bytes >> 20,
		   n);
	free(s->block);
	memset(s, 0, sizeof(*s));
	s->block = block;
	s->cap = n;
	s->ring_mask = ring - 1;
	s->weights_cap = wcap;
	double *p = block;
	const size_t step = bars * TG_CPU_LANES;
	s->p = p;
	s->r1 = p + step;
	s->r2 = p + 2 * step;
	s->nom = p + 3 * step;
	s->den = p + 4 * step;
	s->mid = p + 5 * step;
	s->run = p + 6 * step;
	s->rings = p + 7 * step;
	s->weights = s->rings + (size_t)TG_ATC_SLOTS * (size_t)ring * TG_CPU_LANES;
	s->run_max = (int32_t *)((char *)s->weights + weights);
	return 0;
}

void tg_cpu_lanes_fini(struct tg_cpu_lanes_scratch *s)
{
	free(s->block);
	memset(s, 0, sizeof(*s));
}

int tg_cpu_has_avx2(void)
{
#if defined(__x86_64__)
	__builtin_cpu_init();
	return __builtin_cpu_supports("avx2");
#else
	return 0;
#endif
}

int tg_cpu_has_avx512(void)
{
#if defined(__x86_64__)
	/* (the OS saves the 512-bit state: GCC's check reads XCR0 too) */
	__builtin_cpu_init();
	return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx2");
#else
	return 0;
#endif
}

/* the widest walk this CPU runs */
static enum tg_cpu_simd widest(void)
{
	if (tg_cpu_has_avx512())
		return TG_CPU_AVX512;
	return tg_cpu_has_avx2() ? TG_CPU_AVX2 : TG_CPU_GENERIC;
}

enum tg_cpu_simd tg_cpu_simd_choose(const char **why)
{
	const char *want = getenv("TG_CPU_SIMD");
	if (why)
		*why = NULL;
	if (!want || !*want || strcmp(want, "auto") == 0)
		return widest();
	if (strcmp(want, "scalar") == 0)
		return TG_CPU_SCALAR;
	if (strcmp(want, "generic") == 0)
		return TG_CPU_GENERIC;
	if (strcmp(want, "avx512") == 0) {
		if (tg_cpu_has_avx512())
			return TG_CPU_AVX512;
		const enum tg_cpu_simd got = widest();
		if (why)
			*why = got == TG_CPU_AVX2
				       ? "TG_CPU_SIMD=avx512 but this CPU has no AVX-512F: AVX2 instead"
				       : "TG_CPU_SIMD=avx512 but this CPU has no AVX-512F: the baseline vector unit instead";
		return got;
	}
	if (strcmp(want, "avx2") == 0) {
		if (tg_cpu_has_avx2())
			return TG_CPU_AVX2;
		if (why)
			*why = "TG_CPU_SIMD=avx2 but this CPU has no AVX2: the baseline vector unit instead";
		return TG_CPU_GENERIC;
	}
	if (why)
		*why = "TG_CPU_SIMD is not one of scalar, generic, avx2, avx512, auto: auto";
	return widest();
}

tg_cpu_group_fn *tg_cpu_group_for(enum tg_cpu_simd simd, int lanes)
{
	switch (simd) {
	case TG_CPU_SCALAR: return NULL;
#if defined(__x86_64__)
	case TG_CPU_AVX512:
		return lanes > TG_CPU_AVX2_LANES ? tg_cpu_group_avx512 : tg_cpu_group_avx2;
	case TG_CPU_AVX2: return tg_cpu_group_avx2;
#endif
	default: (void)lanes; return tg_cpu_group_generic;
	}
}

int tg_cpu_group_lanes(enum tg_cpu_simd simd)
{
	switch (simd) {
	case TG_CPU_SCALAR: return 1;
	case TG_CPU_AVX512: return TG_CPU_AVX512_LANES;
	case TG_CPU_AVX2: return TG_CPU_AVX2_LANES;
	default: return TG_CPU_GENERIC_LANES;
	}
}

void tg_cpu_isa_describe(char *buf, size_t cap, enum tg_cpu_simd simd, const char *scalar)
{
	const char *why;
	tg_cpu_simd_choose(&why);
	snprintf(buf, cap, "%s (the CPU has %s)%s%s",
		 simd == TG_CPU_SCALAR ? scalar : tg_cpu_simd_name(simd), tg_machine_simd(),
		 why ? "; " : "", why ? why : "");
}

const char *tg_cpu_simd_name(enum tg_cpu_simd simd)
{
	switch (simd) {
	case TG_CPU_SCALAR: return "scalar C, one symbol at a time";
	case TG_CPU_AVX512:
		return "AVX-512F (no FMA), 8 symbols per group, one per lane (4 or fewer in AVX2)";
	case TG_CPU_AVX2: return "AVX2 (no FMA), 4 symbols per group, one per lane";
	default:
#if defined(__aarch64__)
		return "NEON, 2 symbols per group, one per lane";
#elif defined(__SSE4_2__)
		return "SSE4.2, 2 symbols per group, one per lane";
#elif defined(__x86_64__)
		return "SSE2, 2 symbols per group, one per lane";
#else
		return "the compiler's generic vectors, 2 symbols per group, one per lane";
#endif
	}
}
