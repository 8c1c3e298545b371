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

/* ---- the runtime API the backend uses (cuda_emul.cpp): one emulated
 * device whose memory is host memory, of TG_EMUL_DEVICE_BYTES (default
 * 1 GiB), so that small sizes drive the backend's chunking and its
 * out-of-memory error; everything runs at once, in order, so streams and
 * events only keep time. */
typedef int cudaError_t;
enum {
	cudaSuccess = 0,
	cudaErrorMemoryAllocation = 2,
	cudaErrorInvalidValue = 1,
};
typedef struct tg_emul_stream *cudaStream_t;
typedef struct tg_emul_event *cudaEvent_t;
enum cudaMemcpyKind {
	cudaMemcpyHostToDevice = 1,
	cudaMemcpyDeviceToHost = 2,
	cudaMemcpyDeviceToDevice = 3,
};
enum cudaDeviceAttr {
	cudaDevAttrClockRate = 13,
	cudaDevAttrMemoryClockRate = 36,
	cudaDevAttrGlobalMemoryBusWidth = 37
};
enum cudaMemoryType { cudaMemoryTypeUnregistered = 0, cudaMemoryTypeHost = 1, cudaMemoryTypeDevice = 2 };
enum { cudaStreamNonBlocking = 1, cudaEventDisableTiming = 2 };
struct cudaDeviceProp {
	char name[256];
	int major, minor, multiProcessorCount;
	size_t totalGlobalMem;
};
struct cudaPointerAttributes {
	enum cudaMemoryType type;
};

cudaError_t cudaGetLastError();
const char *cudaGetErrorString(cudaError_t e);
const char *cudaGetErrorName(cudaError_t e);
cudaError_t cudaGetDeviceCount(int *n);
cudaError_t cudaGetDeviceProperties(struct cudaDeviceProp *p, int device);
cudaError_t cudaDeviceGetAttribute(int *v, enum cudaDeviceAttr a, int device);
cudaError_t cudaDriverGetVersion(int *v);
cudaError_t cudaRuntimeGetVersion(int *v);
cudaError_t cudaDeviceGetPCIBusId(char *buf, int len, int device);
cudaError_t cudaSetDevice(int device);
cudaError_t cudaDeviceSynchronize();
cudaError_t cudaMalloc(void **p, size_t bytes);
cudaError_t cudaFree(void *p);
cudaError_t cudaMallocHost(void **p, size_t bytes);
cudaError_t cudaFreeHost(void *p);
cudaError_t cudaMemGetInfo(size_t *free_bytes, size_t *total_bytes);
cudaError_t cudaPointerGetAttributes(struct cudaPointerAttributes *a, const void *p);
cudaError_t cudaMemcpy(void *dst, const void *src, size_t bytes, enum cudaMemcpyKind kind);
cudaError_t cudaMemcpyAsync(void *dst, const void *src, size_t bytes, enum cudaMemcpyKind kind,
			    cudaStream_t s = 0);
cudaError_t cudaMemset(void *p, int v, size_t bytes);
cudaError_t cudaStreamCreateWithFlags(cudaStream_t *s, unsigned flags);
cudaError_t cudaStreamDestroy(cudaStream_t s);
cudaError_t cudaStreamSynchronize(cudaStream_t s);
cudaError_t cudaStreamWaitEvent(cudaStream_t s, cudaEvent_t e, unsigned flags);
cudaError_t cudaEventCreate(cudaEvent_t *e);
cudaError_t cudaEventCreateWithFlags(cudaEvent_t *e, unsigned flags);
cudaError_t cudaEventDestroy(cudaEvent_t e);
cudaError_t cudaEventRecord(cudaEvent_t e, cudaStream_t s = 0);
cudaError_t cudaEventSynchronize(cudaEvent_t e);
cudaError_t cudaEventElapsedTime(float *ms, cudaEvent_t a, cudaEvent_t b);
/* Device memory allocated now (tests check that close frees it all). */
size_t tg_emul_device_bytes_in_use();

/* the emulated SM clock: nanoseconds (cudaDevAttrClockRate says 1 GHz) */
long long clock64();

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
