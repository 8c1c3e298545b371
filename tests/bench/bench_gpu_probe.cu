/* tg_gpu_probe: the latency of the instructions on the CUDA kernels'
 * per-bar critical path, in cycles per dependent link, and the copy
 * bandwidths that bound a batch's bytes: the two halves of the floor
 * max(bytes / bandwidth, chain depth x per-step latency) that
 * docs/cuda-backend.md measures the kernels against. A benchmark for a GPU
 * machine (scripts/gpu-kit.sh run 1), not a test.
 *
 *   tg_gpu_probe [LINKS [COPY_MIB]]     one line per probe:
 *     latency NAME CYCLES_PER_LINK NS_PER_LINK
 *     bandwidth NAME GB_PER_S
 *     clock MHZ
 *
 * Each latency is one thread (a warp for the shuffle) walking LINKS
 * (default 4096) dependent operations; the copies move COPY_MIB (default
 * 256) MiB between two clock64() reads, the
 * loop's own cost measured by an empty chain and taken off. Built with
 * nvcc (tg_gpu_probe, exit 77 without a device) and, through
 * bench_gpu_probe_emul.cpp, on the CPU emulator of tests/emul
 * (tg_gpu_probe_emul), so that the kit's dry run exercises it: there the
 * figures are the emulator's, not a GPU's. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef __CUDACC__
#include <cuda_runtime.h>
#define TG_LAUNCH(kernel, grid, block, stream, ...) kernel<<<(grid), (block), 0, (stream)>>>(__VA_ARGS__)
#define TG_RN_ADD(a, b) __dadd_rn(a, b)
#define TG_RN_MUL(a, b) __dmul_rn(a, b)
#define TG_FMA(a, b, c) __fma_rn(a, b, c)
#else /* the emulator: its cuda_runtime.h, plain IEEE operations */
#include <math.h>
#include "cuda_runtime.h"
#define TG_RN_ADD(a, b) ((a) + (b))
#define TG_RN_MUL(a, b) ((a) * (b))
#define TG_FMA(a, b, c) fma(a, b, c)
#endif

enum probe { P_EMPTY, P_DADD, P_DMUL, P_DFMA, P_DDIV, P_RECIP, P_SHFL, P_L1, P_L2, P_COUNT };
static const char *const probe_names[P_COUNT] = {
	"loop",	  "dadd",  "dmul",	"dfma",	     "ddiv",
	"recip_div", "shfl", "load_l1", "load_l2",
};

/* what a probe's chain computes; in: 1 + 2^-20 and friends, chosen at run
 * time so that nothing folds */
struct probe_args {
	double b, y, z;
	const uint32_t *chase;
	int links;
	long long *cycles; /* [P_COUNT] */
	double *sink;
};

#define CHAIN(N, BODY)                                                                  \
	do {                                                                            \
		for (int i_ = 0; i_ < (N); i_ += 4) {                                   \
			BODY;                                                           \
			BODY;                                                           \
			BODY;                                                           \
			BODY;                                                           \
		}                                                                       \
	} while (0)

__global__ void probe_kernel(struct probe_args a, int which)
{
	const int lane = (int)threadIdx.x;
	double x = a.z;
	uint32_t at = 0;
	const long long t0 = clock64();
	switch (which) {
	case P_EMPTY:
		CHAIN(a.links, at = at + (uint32_t)lane);
		break;
	case P_DADD:
		CHAIN(a.links, x = TG_RN_ADD(x, a.y));
		break;
	case P_DMUL:
		CHAIN(a.links, x = TG_RN_MUL(x, a.b));
		break;
	case P_DFMA:
		CHAIN(a.links, x = TG_FMA(x, a.b, a.y));
		break;
	case P_DDIV:
		CHAIN(a.links, x = x / a.b);
		break;
	case P_RECIP: {
		/* x / b as the kernels would with y = RN(1/b): q0 = x y,
		 * r = fma(-b, q0, x), q = fma(r, y, q0) */
		const double yb = 1.0 / a.b;
		CHAIN(a.links, {
			const double q0 = TG_RN_MUL(x, yb);
			const double r = TG_FMA(-a.b, q0, x);
			x = TG_FMA(r, yb, q0);
		});
		break;
	}
	case P_SHFL:
		CHAIN(a.links, x = __shfl_sync(0xffffffffu, x, (lane + 1) & 31));
		break;
	case P_L1:
	case P_L2:
		CHAIN(a.links, at = a.chase[at]);
		break;
	default:
		break;
	}
	const long long t1 = clock64();
	if (lane == 0) {
		a.cycles[which] = t1 - t0;
		a.sink[which] = x + (double)at;
	}
}

#define TRY(call)                                                                        \
	do {                                                                             \
		cudaError_t rc_ = (call);                                                \
		if (rc_ != cudaSuccess) {                                                \
			fprintf(stderr, "tg_gpu_probe: %s: %s\n", #call, cudaGetErrorString(rc_)); \
			return 1;                                                        \
		}                                                                        \
	} while (0)

/* a pointer chase over `bytes`, one link per `stride` bytes, in an order
 * that defeats prefetching (a fixed LCG permutation of the strides) */
static uint32_t *chase_table(size_t bytes, size_t stride, size_t *words)
{
	const size_t n = bytes / sizeof(uint32_t), step = stride / sizeof(uint32_t), m = n / step;
	uint32_t *t = (uint32_t *)calloc(n, sizeof(uint32_t));
	size_t *order = (size_t *)malloc(m * sizeof(size_t));
	if (!t || !order) {
		free(t);
		free(order);
		return NULL;
	}
	for (size_t i = 0; i < m; i++)
		order[i] = i;
	uint64_t s = 0x9e3779b97f4a7c15ull;
	for (size_t i = m - 1; i > 0; i--) {
		s = s * 6364136223846793005ull + 1442695040888963407ull;
		const size_t j = (size_t)(s >> 33) % (i + 1);
		const size_t tmp = order[i];
		order[i] = order[j];
		order[j] = tmp;
	}
	for (size_t i = 0; i < m; i++)
		t[order[i] * step] = (uint32_t)(order[(i + 1) % m] * step);
	free(order);
	*words = n;
	return t;
}

static int latency(struct probe_args a, int which, int threads, long long *cycles)
{
	TG_LAUNCH(probe_kernel, 1, threads, 0, a, which); /* warm: code, caches */
	TRY(cudaDeviceSynchronize());
	TG_LAUNCH(probe_kernel, 1, threads, 0, a, which);
	TRY(cudaDeviceSynchronize());
	TRY(cudaMemcpy(cycles, a.cycles + which, sizeof(long long), cudaMemcpyDeviceToHost));
	return 0;
}

static int bandwidth(const char *name, void *dst, const void *src, size_t bytes, enum cudaMemcpyKind k)
{
	cudaEvent_t e0, e1;
	TRY(cudaEventCreate(&e0));
	TRY(cudaEventCreate(&e1));
	TRY(cudaMemcpy(dst, src, bytes, k)); /* warm */
	float best = 0;
	for (int r = 0; r < 5; r++) {
		TRY(cudaEventRecord(e0, 0));
		TRY(cudaMemcpyAsync(dst, src, bytes, k, 0));
		TRY(cudaEventRecord(e1, 0));
		TRY(cudaEventSynchronize(e1));
		float ms = 0;
		TRY(cudaEventElapsedTime(&ms, e0, e1));
		if (ms > 0 && (best == 0 || ms < best))
			best = ms;
	}
	/* a device-to-device copy reads and writes every byte */
	const double moved = (double)bytes * (k == cudaMemcpyDeviceToDevice ? 2.0 : 1.0);
	printf("bandwidth %s %.1f\n", name, best > 0 ? moved / (best * 1e6) : 0.0);
	TRY(cudaEventDestroy(e0));
	TRY(cudaEventDestroy(e1));
	return 0;
}

int main(int argc, char **argv)
{
	int links = argc > 1 ? atoi(argv[1]) : 4096;
	if (links < 4 || links % 4) {
		fprintf(stderr, "tg_gpu_probe: LINKS must be a positive multiple of 4, got '%s'\n", argv[1]);
		return 2;
	}
	const long mib = argc > 2 ? atol(argv[2]) : 256;
	if (mib < 1 || mib > 4096) {
		fprintf(stderr, "tg_gpu_probe: COPY_MIB must be 1..4096, got '%s'\n", argv[2]);
		return 2;
	}
	int n = 0;
	if (cudaGetDeviceCount(&n) != cudaSuccess || n < 1) {
		printf("no CUDA device: skipped\n");
		return 77;
	}
	struct cudaDeviceProp prop;
	TRY(cudaGetDeviceProperties(&prop, 0));
	int khz = 0;
	TRY(cudaDeviceGetAttribute(&khz, cudaDevAttrClockRate, 0));
	printf("device %s sm_%d%d\nclock %.0f\n", prop.name, prop.major, prop.minor, khz / 1000.0);

	struct probe_args a;
	a.b = 1.0 + 1.0 / 1048576.0;
	a.y = 1.0 / 1048576.0;
	a.z = 1.5;
	a.links = links;
	TRY(cudaMalloc((void **)&a.cycles, P_COUNT * sizeof(long long)));
	TRY(cudaMalloc((void **)&a.sink, P_COUNT * sizeof(double)));
	/* L1: 16 KiB, a link per 128-byte line; L2: 8 MiB (past L1, within L2) */
	const size_t sizes[2] = {16u << 10, 8u << 20}, strides[2] = {128, 4096};
	uint32_t *chase[2] = {NULL, NULL};
	for (int c = 0; c < 2; c++) {
		size_t words = 0;
		uint32_t *h = chase_table(sizes[c], strides[c], &words);
		if (!h) {
			fprintf(stderr, "tg_gpu_probe: out of host memory\n");
			return 1;
		}
		TRY(cudaMalloc((void **)&chase[c], words * sizeof(uint32_t)));
		TRY(cudaMemcpy(chase[c], h, words * sizeof(uint32_t), cudaMemcpyHostToDevice));
		free(h);
	}
	long long empty = 0;
	a.chase = chase[0];
	if (latency(a, P_EMPTY, 1, &empty))
		return 1;
	for (int p = P_DADD; p < P_COUNT; p++) {
		a.chase = chase[p == P_L2];
		long long cyc = 0;
		if (latency(a, p, p == P_SHFL ? 32 : 1, &cyc))
			return 1;
		const long long net = cyc > empty ? cyc - empty : 0;
		const double per = (double)net / links;
		printf("latency %s %.1f %.2f\n", probe_names[p], per, khz > 0 ? per / (khz / 1e6) : 0.0);
	}
	printf("latency %s %.1f (subtracted from the others)\n", probe_names[P_EMPTY], (double)empty / links);

	const size_t bytes = (size_t)mib << 20;
	void *d0 = NULL, *d1 = NULL, *h = NULL;
	TRY(cudaMalloc(&d0, bytes));
	TRY(cudaMalloc(&d1, bytes));
	TRY(cudaMallocHost(&h, bytes));
	memset(h, 1, bytes);
	TRY(cudaMemset(d0, 0, bytes));
	if (bandwidth("htod_pinned", d0, h, bytes, cudaMemcpyHostToDevice) ||
	    bandwidth("dtoh_pinned", h, d0, bytes, cudaMemcpyDeviceToHost) ||
	    bandwidth("dtod", d1, d0, bytes, cudaMemcpyDeviceToDevice))
		return 1;
	TRY(cudaFreeHost(h));
	TRY(cudaFree(d0));
	TRY(cudaFree(d1));
	for (int c = 0; c < 2; c++)
		TRY(cudaFree(chase[c]));
	TRY(cudaFree(a.cycles));
	TRY(cudaFree(a.sink));
	return 0;
}
