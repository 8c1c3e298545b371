/* Private to the CUDA backend: the kernels' arguments and launchers, and
 * the error macro. Included by .cu files only.
 *
 * Prices and middle series are rows ([symbol][bar]): each thread walks the
 * bars of one series and hits L1 for 15 of every 16 bars. The per-family
 * Layer-2 terms are bar-major ([family][bar][symbol]) so the finalize
 * kernel reads them coalesced. Outputs for the host use the host layout of
 * tg_kernels.h ([symbol][bar]).
 */
#ifndef TG_CUDA_INTERNAL_H
#define TG_CUDA_INTERNAL_H

#include <cuda_runtime.h>
#include <stdint.h>

#include "tg_error.h"
#include "tg_kernels.h"

/* Records a failed CUDA call with its text and returns TG_E_DEVICE. */
#define TG_CUDA_TRY(err, call)                                                              \
	do {                                                                                \
		cudaError_t tg_cuda_rc_ = (call);                                          \
		if (tg_cuda_rc_ != cudaSuccess)                                            \
			return tg_error_set((err), TG_E_DEVICE, (int)tg_cuda_rc_, __FILE__, __LINE__, \
					    "cuda: %s: %s (%s)", #call,                   \
					    cudaGetErrorString(tg_cuda_rc_),               \
					    cudaGetErrorName(tg_cuda_rc_));                \
	} while (0)

/* kernel<<<grid, block, 0, stream>>>(args): one spelling that the CPU
 * emulator of the tests (tests/emul) can take over, so its runs of these
 * kernels go through the launchers as they are. */
#ifndef TG_LAUNCH
#define TG_LAUNCH(kernel, grid, block, stream, ...)                                           \
	kernel<<<(grid), (block), 0, (stream)>>>(__VA_ARGS__)
#endif

/* What every kernel needs of the parameters, passed by value. */
struct tg_cuda_plan {
	int32_t lengths[TG_ATC_FAMILIES][TG_ATC_SLOTS];
	double weight[TG_ATC_FAMILIES];
	double d;
	double long_threshold, short_threshold, min_signal;
	int32_t approx;
	int32_t lsma_penultimate;
	int32_t cutout;
	int32_t strategy_mode;
	uint32_t walk; /* exact mode: families run by the walk kernels (1 << family) */
	int32_t prefetch; /* bars ahead the walks prefetch (TG_CUDA_PREFETCH) */
};

/* bars ahead a walk prefetches unless TG_CUDA_PREFETCH says otherwise: two
 * 128-byte lines of doubles */
#define TG_CUDA_PREFETCH_DEFAULT 32

/* One chunk of symbols on the device. */
struct tg_cuda_chunk {
	int32_t cs;          /* symbols in the chunk */
	int32_t stride;      /* bars per row */
	const int32_t *n_bars; /* [cs] */
	const double *close; /* [cs][stride], as uploaded */
	const double *g1, *g2; /* [stride] growth per layer */
	double *cq, *q;      /* [6][stride][cs]: Cut(S)*Q and Q per family */
	double *scratch;     /* [cs * 9][stride]: Hull / approximate DEMA middle series */
	const double *weights; /* approximate WMA weights, per family at weight_off[f] */
	int32_t weight_off[TG_ATC_FAMILIES];
	/* optional outputs, host layout, NULL when not requested */
	double *avg;         /* [cs][stride] */
	double *final_value; /* [cs] */
	int8_t *final_signal;
	double *r, *ma, *l1, *l2; /* r: [cs][stride]; others [6][cs][stride] */
	double *slot_ma, *slot_eq; /* [54][cs][stride] */
	int8_t *slot_sig;
};

/* The plan of a run: parameters as the kernels read them, and the
 * exact-mode layout per family from TG_CUDA_WALK (a bad value is an error
 * naming it). */
int tg_cuda_plan_make(const struct tg_atc_params *p, struct tg_cuda_plan *plan,
		      struct tg_error *err);
/* What the plan runs: "lanes", "walk", or "walk: EMA,KAMA; lanes: the others". */
void tg_cuda_plan_describe(const struct tg_cuda_plan *plan, char *buf, size_t cap);
/* The approximate WMA weights the kernels read (w[off[f]...] for family f);
 * returns how many doubles; fills w unless it is NULL. */
size_t tg_cuda_weights(const struct tg_atc_params *p, double *w, int32_t off[TG_ATC_FAMILIES]);

/* Kernel launchers (cuda_kernels.cu). Each enqueues on stream and returns
 * the launch error, if any. */
cudaError_t tg_cuda_launch_family(int family, const struct tg_cuda_plan *plan,
				  const struct tg_cuda_chunk *c, cudaStream_t stream);
cudaError_t tg_cuda_launch_finalize(const struct tg_cuda_plan *plan, const struct tg_cuda_chunk *c,
				    cudaStream_t stream);
/* Name of the kernel that runs a family under a plan, for NVTX ranges. */
const char *tg_cuda_family_kernel_name(int family, const struct tg_cuda_plan *plan);

/* Bytes the kernels of one chunk read and write in device memory (the
 * traffic model behind the achieved-bandwidth figure). */
double tg_cuda_chunk_kernel_bytes(const struct tg_cuda_plan *plan, const struct tg_cuda_chunk *c);

#endif
