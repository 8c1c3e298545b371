/* The CUDA backend itself (kernels/cuda/cuda_backend.cu and
 * cuda_kernels.cu) compiled against the emulator: its ops table becomes
 * tg_backend_cuda_emul, which the test programs reach by the backend name
 * "cuda-emul", so the backend contract, the golden cases, chunking and the
 * out-of-memory error run on machines without a GPU. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuda_runtime.h" /* the emulator's */
#include "tg_atc_walk.h"
#include "tg_kernels.h"
#include "tg_nvtx.h"
#include "tg_str.h"

#define tg_backend_cuda tg_backend_cuda_emul

namespace emul {
#include "cuda_kernels.cu"
#include "cuda_backend.cu"
} // namespace emul
