/* The group path compiled with -mavx512f (8 symbols, one register, lane
 * masks in mask registers; no FMA is formed: -ffp-contract=off, so the
 * bits are the scalar engine's); called only when the CPU has AVX-512F. */
#define TG_LANES_FN tg_cpu_group_avx512
#define TG_LANES_WIDTH TG_CPU_AVX512_LANES
#include "cpu_lanes.inc"
