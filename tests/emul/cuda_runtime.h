/* Stands in for <cuda_runtime.h> when test_cuda_emul compiles the kernels'
 * source (kernels/cuda/cuda_kernels.cu) for the CPU: the CUDA keywords
 * become plain C++, and the built-ins (thread indices, warp shuffles,
 * __syncthreads, launches) go to the scheduler of cuda_emul.cpp, which runs
 * every thread of a block as a coroutine, so the kernels run unchanged and
 * their index arithmetic is checked on machines without a GPU. */
#ifndef TG_CUDA_EMUL_RUNTIME_H
#define TG_CUDA_EMUL_RUNTIME_H

#include <stdint.h>
#include <string.h>

#include <functional>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __shared__ static

struct dim3 {
	unsigned x, y, z;
	constexpr dim3(unsigned a = 1, unsigned b = 1, unsigned c = 1) : x(a), y(b), z(c) {}
};

typedef int cudaError_t;
enum { cudaSuccess = 0 };
typedef struct tg_emul_stream *cudaStream_t;
inline cudaError_t cudaGetLastError() { return cudaSuccess; }
inline const char *cudaGetErrorString(cudaError_t) { return "no error"; }
inline const char *cudaGetErrorName(cudaError_t) { return "cudaSuccess"; }

/* the running thread's coordinates, set by the scheduler */
extern dim3 threadIdx, blockIdx, blockDim, gridDim;

/* Runs body for every thread of the grid, block after block. */
void tg_emul_run(dim3 grid, dim3 block, const std::function<void()> &body);
/* Sync points: the value of lane src (xor: of lane ^ src) of the warp, once
 * every lane of the warp has arrived; a barrier of the whole block. */
uint64_t tg_emul_shfl(uint64_t bits, int src, bool xor_lane);
void tg_emul_syncthreads();
/* Launches the emulator ran (tests check that kernels ran at all). */
extern unsigned long tg_emul_launches;

template <class T> T tg_emul_shfl_as(T v, int src, bool xor_lane)
{
	uint64_t b = 0;
	memcpy(&b, &v, sizeof(v));
	b = tg_emul_shfl(b, src, xor_lane);
	memcpy(&v, &b, sizeof(v));
	return v;
}

template <class T> T __shfl_sync(unsigned, T v, int src) { return tg_emul_shfl_as(v, src, false); }
template <class T> T __shfl_xor_sync(unsigned, T v, int mask) { return tg_emul_shfl_as(v, mask, true); }
inline void __syncthreads() { tg_emul_syncthreads(); }
inline int max(int a, int b) { return a > b ? a : b; }

#define TG_LAUNCH(kernel, grid, block, stream, ...)                                  \
	((void)(stream), tg_emul_run(dim3(grid), dim3(block), [&]() { kernel(__VA_ARGS__); }))

#endif
