/* The CUDA runtime calls of the emulated device (see cuda_runtime.h):
 * device memory is host memory counted against TG_EMUL_DEVICE_BYTES,
 * page-locked memory is host memory the emulator remembers, copies are
 * memcpy, and since every launch has finished when it returns, streams
 * only exist and events only keep the time. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <map>

#include "cuda_runtime.h"

namespace {

std::map<const char *, size_t> device_blocks, host_blocks;
size_t device_in_use;

size_t capacity()
{
	const char *v = getenv("TG_EMUL_DEVICE_BYTES");
	return v && *v ? (size_t)strtoull(v, NULL, 10) : (size_t)1 << 30;
}

double now_ms()
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}

bool inside(const std::map<const char *, size_t> &blocks, const void *p)
{
	const char *c = (const char *)p;
	auto it = blocks.upper_bound(c);
	if (it == blocks.begin())
		return false;
	--it;
	return c < it->first + it->second;
}

} // namespace

struct tg_emul_stream {
	unsigned flags;
};

struct tg_emul_event {
	double ms;
};

cudaError_t cudaGetLastError() { return cudaSuccess; }

const char *cudaGetErrorString(cudaError_t e)
{
	return e == cudaSuccess ? "no error"
	       : e == cudaErrorMemoryAllocation ? "out of memory"
						 : "invalid argument";
}

const char *cudaGetErrorName(cudaError_t e)
{
	return e == cudaSuccess ? "cudaSuccess"
	       : e == cudaErrorMemoryAllocation ? "cudaErrorMemoryAllocation"
						 : "cudaErrorInvalidValue";
}

cudaError_t cudaGetDeviceCount(int *n)
{
	*n = 1;
	return cudaSuccess;
}

cudaError_t cudaGetDeviceProperties(struct cudaDeviceProp *p, int device)
{
	if (device != 0)
		return cudaErrorInvalidValue;
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "emulated GPU (tests/emul)");
	p->major = 9;
	p->minor = 0;
	p->multiProcessorCount = 1;
	p->totalGlobalMem = capacity();
	return cudaSuccess;
}

cudaError_t cudaDeviceGetAttribute(int *v, enum cudaDeviceAttr a, int)
{
	*v = a == cudaDevAttrMemoryClockRate || a == cudaDevAttrClockRate ? 1000000 : 64;
	return cudaSuccess;
}

long long clock64()
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

cudaError_t cudaDriverGetVersion(int *v)
{
	*v = 13000;
	return cudaSuccess;
}

cudaError_t cudaRuntimeGetVersion(int *v)
{
	*v = 13000;
	return cudaSuccess;
}

cudaError_t cudaDeviceGetPCIBusId(char *buf, int len, int)
{
	snprintf(buf, (size_t)len, "0000:00:00.0");
	return cudaSuccess;
}

cudaError_t cudaSetDevice(int device) { return device == 0 ? cudaSuccess : cudaErrorInvalidValue; }
cudaError_t cudaDeviceSynchronize() { return cudaSuccess; }

cudaError_t cudaMalloc(void **p, size_t bytes)
{
	*p = NULL;
	if (device_in_use + bytes > capacity())
		return cudaErrorMemoryAllocation;
	char *m = (char *)malloc(bytes ? bytes : 1);
	if (!m)
		return cudaErrorMemoryAllocation;
	/* device memory is not cleared: large finite doubles (0x7e7e...), so
	 * that a kernel reading a cell nobody wrote gives a wrong answer */
	memset(m, 0x7e, bytes);
	device_blocks[m] = bytes;
	device_in_use += bytes;
	*p = m;
	return cudaSuccess;
}

cudaError_t cudaFree(void *p)
{
	if (!p)
		return cudaSuccess;
	auto it = device_blocks.find((const char *)p);
	if (it == device_blocks.end())
		return cudaErrorInvalidValue;
	device_in_use -= it->second;
	device_blocks.erase(it);
	free(p);
	return cudaSuccess;
}

cudaError_t cudaMallocHost(void **p, size_t bytes)
{
	char *m = (char *)malloc(bytes ? bytes : 1);
	*p = m;
	if (!m)
		return cudaErrorMemoryAllocation;
	host_blocks[m] = bytes ? bytes : 1;
	return cudaSuccess;
}

cudaError_t cudaFreeHost(void *p)
{
	if (!p)
		return cudaSuccess;
	if (!host_blocks.erase((const char *)p))
		return cudaErrorInvalidValue;
	free(p);
	return cudaSuccess;
}

cudaError_t cudaMemGetInfo(size_t *free_bytes, size_t *total_bytes)
{
	*total_bytes = capacity();
	*free_bytes = device_in_use < *total_bytes ? *total_bytes - device_in_use : 0;
	return cudaSuccess;
}

cudaError_t cudaPointerGetAttributes(struct cudaPointerAttributes *a, const void *p)
{
	a->type = inside(host_blocks, p)     ? cudaMemoryTypeHost
		  : inside(device_blocks, p) ? cudaMemoryTypeDevice
					     : cudaMemoryTypeUnregistered;
	return cudaSuccess;
}

cudaError_t cudaMemcpy(void *dst, const void *src, size_t bytes, enum cudaMemcpyKind)
{
	memcpy(dst, src, bytes);
	return cudaSuccess;
}

cudaError_t cudaMemcpyAsync(void *dst, const void *src, size_t bytes, enum cudaMemcpyKind kind,
			    cudaStream_t)
{
	return cudaMemcpy(dst, src, bytes, kind);
}

cudaError_t cudaMemset(void *p, int v, size_t bytes)
{
	memset(p, v, bytes);
	return cudaSuccess;
}

cudaError_t cudaStreamCreateWithFlags(cudaStream_t *s, unsigned flags)
{
	*s = new tg_emul_stream{flags};
	return cudaSuccess;
}

cudaError_t cudaStreamDestroy(cudaStream_t s)
{
	delete s;
	return cudaSuccess;
}

cudaError_t cudaStreamSynchronize(cudaStream_t) { return cudaSuccess; }
cudaError_t cudaStreamWaitEvent(cudaStream_t, cudaEvent_t, unsigned) { return cudaSuccess; }

cudaError_t cudaEventCreate(cudaEvent_t *e)
{
	*e = new tg_emul_event{0.0};
	return cudaSuccess;
}

cudaError_t cudaEventCreateWithFlags(cudaEvent_t *e, unsigned) { return cudaEventCreate(e); }

cudaError_t cudaEventDestroy(cudaEvent_t e)
{
	delete e;
	return cudaSuccess;
}

cudaError_t cudaEventRecord(cudaEvent_t e, cudaStream_t)
{
	e->ms = now_ms();
	return cudaSuccess;
}

cudaError_t cudaEventSynchronize(cudaEvent_t) { return cudaSuccess; }

cudaError_t cudaEventElapsedTime(float *ms, cudaEvent_t a, cudaEvent_t b)
{
	*ms = (float)(b->ms - a->ms);
	return cudaSuccess;
}

size_t tg_emul_device_bytes_in_use() { return device_in_use; }
