/* tg_bench_nvtx [N]: what the benchmark's NVTX ranges and phase marks cost
 * with no tool attached (a plain run): ns per tg_nvtx_push_ex + pop (a
 * state's range: name, category, colour, payload), per tg_nvtx_push_phase
 * + pop, and per tg_phase_enter with phase ranges off (what the backends
 * call per symbol and family), medians of 7 rounds of N each. */
#include <stdio.h>
#include <stdlib.h>

#include "tg_clock.h"
#include "tg_nvtx.h"
#include "tg_phase.h"

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median_ns(void (*fn)(long), long n)
{
	double t[7];
	for (int r = 0; r < 7; r++) {
		const uint64_t t0 = tg_clock_ns();
		fn(n);
		t[r] = (double)(tg_clock_ns() - t0) / (double)n;
	}
	qsort(t, 7, sizeof(t[0]), cmp_double);
	return t[3];
}

static void state_ranges(long n)
{
	for (long i = 0; i < n; i++) {
		tg_nvtx_push_ex("cpu exact", TG_NVTX_STATE, 0xFF1F77B4u, i);
		tg_nvtx_pop();
	}
}

static void phase_ranges(long n)
{
	for (long i = 0; i < n; i++) {
		tg_nvtx_push_phase(TG_PHASE_MAS + (uint32_t)(i % 6), 0xFF1F77B4u);
		tg_nvtx_pop();
	}
}

static void phase_marks(long n)
{
	for (long i = 0; i < n; i++)
		tg_phase_enter(TG_PHASE_MAS + (uint32_t)(i % 6), 0xFF1F77B4u);
	tg_phase_enter(0, 0);
}

int main(int argc, char **argv)
{
	const long n = argc > 1 ? atol(argv[1]) : 2000000;
	tg_nvtx_init();
	printf("NVTX with no tool attached (%s), medians of 7 x %ld:\n",
	       TG_HAVE_NVTX ? "NVTX3 headers" : "built without NVTX: no-ops", n);
	printf("  state range (push_ex + pop):      %6.2f ns\n", median_ns(state_ranges, n));
	printf("  phase range (push_phase + pop):   %6.2f ns\n", median_ns(phase_ranges, n));
	tg_nvtx_set_detail(false);
	printf("  tg_phase_enter, phase ranges off: %6.2f ns\n", median_ns(phase_marks, n));
	return 0;
}
