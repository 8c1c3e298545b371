/* tg_gpu_probe on the CPU emulator (tests/emul): the kit's dry run runs it
 * where there is no GPU; its figures are the emulator's. */
#include "bench_gpu_probe.cu"
