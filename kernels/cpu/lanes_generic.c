/* The group path on the baseline vector unit (SSE2 on x86-64, NEON on
 * aarch64): the portable one, and the one for CPUs without AVX2. */
#define TG_LANES_FN tg_cpu_group_generic
#define TG_LANES_WIDTH TG_CPU_GENERIC_LANES
#include "cpu_lanes.inc"
