/* The group path compiled with -mavx2 (and without FMA, so the bits are
 * the scalar engine's); called only when the CPU has AVX2. */
#define TG_LANES_FN tg_cpu_group_avx2
#define TG_LANES_WIDTH TG_CPU_AVX2_LANES
#include "cpu_lanes.inc"
