/* The "cuda" backend: the whole ATC pipeline resident on the GPU.
 *
 * Per run, only the prices go up and only the requested outputs come down
 * (by default Average_Signal and the final signal). The batch is cut into
 * chunks of symbols when it does not fit in device memory, or when it is
 * big enough that overlapping the copies of one chunk with the kernels of
 * another pays; chunks alternate between two pipelines, each a main stream
 * plus one stream per MA family (the six family kernels of a chunk run
 * concurrently). Device buffers and events live in the backend state and
 * are reused across runs; they only grow.
 *
 * The binary links the static CUDA runtime and starts without a driver:
 * probe() then says why the backend is unavailable.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuda_internal.h"
#include "tg_atc_math.h"
#include "tg_atc_series.h"
#include "tg_nvtx.h"
#include "tg_phase.h"

#define PIPES 2
/* A batch is cut into up to 4 chunks, so that uploads and downloads overlap
 * the kernels of other chunks, only while each chunk keeps the GPU busy:
 * the kernels are latency-bound and need threads more than the copies need
 * hiding. Measured on an H100 at 5000 x 1500 exact: 1 chunk 11.3 ms, 2
 * chunks 10.9 ms, 4 chunks 14.2 ms; hence a chunk of at least 2048 symbols
 * (~64 threads each) exact, 16384 (~6 threads each) approx. */
#define OVERLAP_CHUNKS 4
#define FILL_SYMBOLS_EXACT 2048
#define FILL_SYMBOLS_APPROX 16384
/* Share of free device memory the backend plans to use. */
#define MEMORY_SHARE 0.85

/* A device buffer that only grows. */
struct dbuf {
	void *p;
	size_t bytes;
};

static int dbuf_reserve(struct dbuf *b, size_t bytes, const char *what, struct tg_error *err)
{
	if (bytes <= b->bytes)
		return 0;
	if (b->p)
		cudaFree(b->p);
	b->p = NULL;
	b->bytes = 0;
	cudaError_t rc = cudaMalloc(&b->p, bytes ? bytes : 1);
	if (rc != cudaSuccess)
		return tg_error_set(err, TG_E_DEVICE, (int)rc, __FILE__, __LINE__,
				    "cuda: failed to allocate %.1f MB of device memory for %s: %s",
				    (double)bytes / 1e6, what, cudaGetErrorString(rc));
	b->bytes = bytes;
	return 0;
}

static void dbuf_free(struct dbuf *b)
{
	if (b->p)
		cudaFree(b->p);
	b->p = NULL;
	b->bytes = 0;
}

enum { BUF_CLOSE, BUF_CQ, BUF_Q, BUF_SCRATCH, BUF_AVG, BUF_FINAL_VALUE, BUF_FINAL_SIGNAL,
       BUF_N_BARS, BUF_R, BUF_MA, BUF_L1, BUF_L2, BUF_SLOT_MA, BUF_SLOT_EQ, BUF_SLOT_SIG, BUF_COUNT };

struct pipe {
	int ready;
	cudaStream_t main, fam[TG_ATC_FAMILIES];
	cudaEvent_t fork, fam_done[TG_ATC_FAMILIES];
	struct dbuf buf[BUF_COUNT];
	int32_t *h_n_bars; /* page-locked staging of the chunk's bar counts */
	int32_t h_n_bars_cap;
	int last_chunk;    /* last chunk enqueued here, -1 when none */
};

struct cuda_state {
	int device;
	struct pipe pipe[PIPES];
	struct dbuf g; /* growth: g1 then g2 */
	int32_t g_stride, g_cutout;
	double g_lambda;
	struct dbuf weights;
	double *h_weights;
	size_t h_weights_cap, weights_used;
	cudaEvent_t *ev; /* 4 per chunk: start, uploaded, computed, downloaded */
	int ev_cap;
};

/* ---- probe / describe ------------------------------------------------------ */

static int device_usable(int *device, char *reason, size_t cap)
{
	int n = 0;
	cudaError_t rc = cudaGetDeviceCount(&n);
	if (rc != cudaSuccess) {
		snprintf(reason, cap, "no usable CUDA driver: %s (%s)", cudaGetErrorName(rc),
			 cudaGetErrorString(rc));
		return TG_E_UNSUPPORTED;
	}
	if (n < 1) {
		snprintf(reason, cap, "no CUDA device");
		return TG_E_UNSUPPORTED;
	}
	struct cudaDeviceProp prop;
	rc = cudaGetDeviceProperties(&prop, 0);
	if (rc != cudaSuccess) {
		snprintf(reason, cap, "cannot query CUDA device 0: %s", cudaGetErrorString(rc));
		return TG_E_UNSUPPORTED;
	}
	if (prop.major * 10 + prop.minor < 75) {
		snprintf(reason, cap, "%s is sm_%d%d; this build needs sm_75 or newer", prop.name,
			 prop.major, prop.minor);
		return TG_E_UNSUPPORTED;
	}
	*device = 0;
	if (cap)
		reason[0] = '\0';
	return 0;
}

/* Device `want` of the ones this process sees, wrapping around: ranks on
 * a host ask for their local rank's GPU, more ranks than GPUs share them. */
static int device_for(int want)
{
	int n = 0;
	if (want <= 0 || cudaGetDeviceCount(&n) != cudaSuccess || n < 1)
		return 0;
	return want % n;
}

static int cuda_probe(char *reason, size_t cap)
{
	int device;
	return device_usable(&device, reason, cap);
}

static int cuda_describe(char *buf, size_t cap)
{
	int device;
	if (device_usable(&device, buf, cap) < 0)
		return TG_E_UNSUPPORTED;
	struct cudaDeviceProp prop;
	cudaGetDeviceProperties(&prop, device);
	int mem_khz = 0, bus_bits = 0, driver = 0, runtime = 0;
	cudaDeviceGetAttribute(&mem_khz, cudaDevAttrMemoryClockRate, device);
	cudaDeviceGetAttribute(&bus_bits, cudaDevAttrGlobalMemoryBusWidth, device);
	cudaDriverGetVersion(&driver);
	cudaRuntimeGetVersion(&runtime);
	/* double data rate: two transfers per clock */
	double peak_gbs = 2.0 * mem_khz * 1e3 * (bus_bits / 8.0) / 1e9;
	snprintf(buf, cap,
		 "%s (sm_%d%d, %d SMs, %.1f GiB, %.0f GB/s peak, driver %d.%d, runtime %d.%d)",
		 prop.name, prop.major, prop.minor, prop.multiProcessorCount,
		 (double)prop.totalGlobalMem / (1024.0 * 1024.0 * 1024.0), peak_gbs, driver / 1000,
		 (driver % 1000) / 10, runtime / 1000, (runtime % 1000) / 10);
	return 0;
}

/* ---- open / close ------------------------------------------------------------- */

static void pipe_fini(struct pipe *p)
{
	if (!p->ready)
		return;
	cudaStreamDestroy(p->main);
	cudaEventDestroy(p->fork);
	for (int f = 0; f < TG_ATC_FAMILIES; f++) {
		cudaStreamDestroy(p->fam[f]);
		cudaEventDestroy(p->fam_done[f]);
	}
	for (int b = 0; b < BUF_COUNT; b++)
		dbuf_free(&p->buf[b]);
	cudaFreeHost(p->h_n_bars);
	memset(p, 0, sizeof(*p));
}

static int pipe_init(struct pipe *p, struct tg_error *err)
{
	if (p->ready)
		return 0;
	memset(p, 0, sizeof(*p));
	TG_CUDA_TRY(err, cudaStreamCreateWithFlags(&p->main, cudaStreamNonBlocking));
	TG_CUDA_TRY(err, cudaEventCreateWithFlags(&p->fork, cudaEventDisableTiming));
	for (int f = 0; f < TG_ATC_FAMILIES; f++) {
		TG_CUDA_TRY(err, cudaStreamCreateWithFlags(&p->fam[f], cudaStreamNonBlocking));
		TG_CUDA_TRY(err, cudaEventCreateWithFlags(&p->fam_done[f], cudaEventDisableTiming));
	}
	p->last_chunk = -1;
	p->ready = 1;
	return 0;
}

static void cuda_close(void *state)
{
	struct cuda_state *st = (struct cuda_state *)state;
	if (!st)
		return;
	cudaSetDevice(st->device);
	cudaDeviceSynchronize();
	for (int i = 0; i < PIPES; i++)
		pipe_fini(&st->pipe[i]);
	dbuf_free(&st->g);
	dbuf_free(&st->weights);
	free(st->h_weights);
	for (int i = 0; i < st->ev_cap; i++)
		cudaEventDestroy(st->ev[i]);
	free(st->ev);
	free(st);
}

static int cuda_open(const struct tg_backend_config *cfg, void **state, struct tg_error *err)
{
	char why[256];
	int device;
	if (device_usable(&device, why, sizeof(why)) < 0)
		return TG_ERR(err, TG_E_UNSUPPORTED, "cuda backend unavailable: %s", why);
	if (cfg && cfg->device > 0)
		device = device_for(cfg->device);
	TG_CUDA_TRY(err, cudaSetDevice(device));
	struct cuda_state *st = (struct cuda_state *)calloc(1, sizeof(*st));
	TG_FAIL_IF(!st, err, TG_E_NOMEM, "cuda backend: out of memory");
	st->device = device;
	st->g_stride = -1;
	*state = st;
	return 0;
}

static int cuda_threads(void *state)
{
	(void)state;
	return 0; /* no CPU worker threads: the calling thread drives the device */
}

/* ---- page-locked host memory ------------------------------------------------ */

static void *cuda_host_alloc(void *state, size_t bytes)
{
	(void)state;
	void *p = NULL;
	if (cudaMallocHost(&p, bytes ? bytes : 1) != cudaSuccess)
		return NULL;
	return p;
}

static void cuda_host_free(void *state, void *p)
{
	(void)state;
	if (p)
		cudaFreeHost(p);
}

/* ---- per-run tables ---------------------------------------------------------- */

/* Growth factors per bar, computed on the host with the C library's pow so
 * every backend gets the same bits, uploaded when the run shape changes. */
static int ensure_growth(struct cuda_state *st, const struct tg_atc_params *p, int32_t stride,
			 struct tg_error *err)
{
	if (st->g_stride == stride && st->g_lambda == p->lambda && st->g_cutout == p->cutout)
		return 0;
	TG_TRY(dbuf_reserve(&st->g, 2 * (size_t)stride * sizeof(double), "growth factors", err));
	double *h = (double *)malloc(2 * (size_t)stride * sizeof(double) + 1);
	TG_FAIL_IF(!h, err, TG_E_NOMEM, "cuda backend: out of memory");
	const double lam = p->lambda / 1000.0;
	for (int32_t i = 0; i < stride; i++) {
		h[i] = tg_growth(i, lam, 0);
		h[stride + i] = tg_growth(i, lam, p->cutout);
	}
	cudaError_t rc = cudaMemcpy(st->g.p, h, 2 * (size_t)stride * sizeof(double),
				    cudaMemcpyHostToDevice);
	free(h);
	TG_CUDA_TRY(err, rc);
	st->g_stride = stride;
	st->g_lambda = p->lambda;
	st->g_cutout = p->cutout;
	return 0;
}

/* The approximate WMA weights each family needs (spec §11), uploaded when
 * they change; off[f] is where family f's start. */
static int ensure_weights(struct cuda_state *st, const struct tg_atc_params *p,
			  int32_t off[TG_ATC_FAMILIES], struct tg_error *err)
{
	const size_t need = tg_cuda_weights(p, NULL, off);
	if (need > st->h_weights_cap) {
		double *nw = (double *)realloc(st->h_weights, need * sizeof(double));
		TG_FAIL_IF(!nw, err, TG_E_NOMEM, "cuda backend: out of memory");
		st->h_weights = nw;
		st->h_weights_cap = need;
	}
	double *w = st->h_weights;
	tg_cuda_weights(p, w, off);
	TG_TRY(dbuf_reserve(&st->weights, need * sizeof(double), "MA weights", err));
	TG_CUDA_TRY(err, cudaMemcpy(st->weights.p, w, need * sizeof(double), cudaMemcpyHostToDevice));
	st->weights_used = need;
	return 0;
}

/* ---- memory planning ------------------------------------------------------------ */

/* Bytes of device memory one symbol of `stride` bars needs in a pipeline. */
static size_t symbol_bytes(int32_t stride, const struct tg_atc_outputs *o)
{
	const size_t row = (size_t)stride * sizeof(double);
	/* close, cq and q (6 each), middle series (9), Average_Signal */
	size_t b = row * (1 + 12 + TG_ATC_SLOTS + 1) + sizeof(int32_t) + sizeof(double) + 1;
	if (o->r)
		b += row;
	b += row * TG_ATC_FAMILIES * ((o->ma != NULL) + (o->l1_signal != NULL) + (o->l2_equity != NULL));
	b += row * TG_ATC_MAS * ((o->slot_ma != NULL) + (o->slot_equity != NULL));
	if (o->slot_signal)
		b += (size_t)stride * TG_ATC_MAS;
	return b;
}

static int chunk_symbols(struct cuda_state *st, const struct tg_batch *b,
			 const struct tg_atc_outputs *o, int approx, int32_t *out,
			 struct tg_error *err)
{
	size_t free_b = 0, total_b = 0;
	TG_CUDA_TRY(err, cudaMemGetInfo(&free_b, &total_b));
	/* what we hold already can be reused */
	for (int i = 0; i < PIPES; i++)
		for (int k = 0; k < BUF_COUNT; k++)
			free_b += st->pipe[i].buf[k].bytes;
	const size_t per = symbol_bytes(b->stride, o);
	const double usable = (double)free_b * MEMORY_SHARE;
	int64_t fit = (int64_t)(usable / ((double)per * PIPES));
	if (fit < 1)
		return TG_ERR(err, TG_E_NOMEM,
			      "cuda: one symbol of %d bars needs %.1f MB of device memory per "
			      "pipeline (%d pipelines) with the outputs requested; %.1f MB of "
			      "%.1f MB are free",
			      b->stride, (double)per / 1e6, PIPES, (double)free_b / 1e6,
			      (double)total_b / 1e6);
	int64_t cs = b->n_symbols < fit ? b->n_symbols : fit;
	const int64_t fill = approx ? FILL_SYMBOLS_APPROX : FILL_SYMBOLS_EXACT;
	int64_t pieces = b->n_symbols / fill;
	pieces = pieces > OVERLAP_CHUNKS ? OVERLAP_CHUNKS : pieces;
	if (pieces > 1) {
		int64_t overlap = (b->n_symbols + pieces - 1) / pieces;
		cs = cs < overlap ? cs : overlap;
	}
	const char *env = getenv("TG_CUDA_CHUNK_SYMBOLS");
	if (env && *env) {
		long v = strtol(env, NULL, 10);
		if (v > 0 && v < cs)
			cs = v;
	}
	*out = (int32_t)(cs > 0 ? cs : 1);
	return 0;
}

static int pipe_reserve(struct pipe *p, int32_t cs, int32_t stride, const struct tg_atc_outputs *o,
			struct tg_error *err)
{
	const size_t cells = (size_t)cs * (size_t)stride, d = sizeof(double);
	const struct {
		int id;
		size_t bytes;
		const char *what;
		int wanted;
	} need[] = {
		{BUF_CLOSE, cells * d, "prices", 1},
		{BUF_CQ, TG_ATC_FAMILIES * cells * d, "Layer-2 terms", 1},
		{BUF_Q, TG_ATC_FAMILIES * cells * d, "Layer-2 equities", 1},
		{BUF_SCRATCH, TG_ATC_SLOTS * cells * d, "middle series", 1},
		{BUF_AVG, cells * d, "Average_Signal", 1},
		{BUF_FINAL_VALUE, (size_t)cs * d, "final values", 1},
		{BUF_FINAL_SIGNAL, (size_t)cs, "final signals", 1},
		{BUF_N_BARS, (size_t)cs * sizeof(int32_t), "bar counts", 1},
		{BUF_R, cells * d, "R", o->r != NULL},
		{BUF_MA, TG_ATC_FAMILIES * cells * d, "MAs", o->ma != NULL},
		{BUF_L1, TG_ATC_FAMILIES * cells * d, "Layer-1 signals", o->l1_signal != NULL},
		{BUF_L2, TG_ATC_FAMILIES * cells * d, "Layer-2 equities", o->l2_equity != NULL},
		{BUF_SLOT_MA, TG_ATC_MAS * cells * d, "per-slot MAs", o->slot_ma != NULL},
		{BUF_SLOT_EQ, TG_ATC_MAS * cells * d, "per-slot equities", o->slot_equity != NULL},
		{BUF_SLOT_SIG, TG_ATC_MAS * cells, "per-slot states", o->slot_signal != NULL},
	};
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++)
		if (need[i].wanted)
			TG_TRY(dbuf_reserve(&p->buf[need[i].id], need[i].bytes, need[i].what, err));
	if (cs > p->h_n_bars_cap) {
		cudaFreeHost(p->h_n_bars);
		p->h_n_bars = NULL;
		p->h_n_bars_cap = 0;
		TG_CUDA_TRY(err, cudaMallocHost((void **)&p->h_n_bars, (size_t)cs * sizeof(int32_t)));
		p->h_n_bars_cap = cs;
	}
	return 0;
}

static int ensure_events(struct cuda_state *st, int n, struct tg_error *err)
{
	if (n <= st->ev_cap)
		return 0;
	cudaEvent_t *ev = (cudaEvent_t *)realloc(st->ev, (size_t)n * sizeof(cudaEvent_t));
	TG_FAIL_IF(!ev, err, TG_E_NOMEM, "cuda backend: out of memory");
	st->ev = ev;
	for (int i = st->ev_cap; i < n; i++) {
		TG_CUDA_TRY(err, cudaEventCreate(&st->ev[i]));
		st->ev_cap = i + 1;
	}
	return 0;
}

/* ---- one chunk ------------------------------------------------------------------ */

static double *dptr(struct pipe *p, int id)
{
	return (double *)p->buf[id].p;
}

/* Copies `planes` planes of the chunk's rows back into the host layout
 * [plane][symbol][bar]. */
static int download_planes(void *host, const void *dev, int planes, int32_t n_symbols,
			   int32_t s0, int32_t cs, int32_t stride, size_t elem, cudaStream_t s,
			   struct tg_error *err)
{
	const size_t rows = (size_t)cs * (size_t)stride * elem;
	for (int k = 0; k < planes; k++) {
		char *h = (char *)host + (((size_t)k * n_symbols + s0) * (size_t)stride) * elem;
		const char *d = (const char *)dev + (size_t)k * rows;
		TG_CUDA_TRY(err, cudaMemcpyAsync(h, d, rows, cudaMemcpyDeviceToHost, s));
	}
	return 0;
}

static int run_chunk(struct cuda_state *st, struct pipe *p, int chunk, const struct tg_cuda_plan *plan,
		     const struct tg_batch *b, const struct tg_atc_outputs *o, int32_t s0, int32_t cs,
		     const int32_t weight_off[TG_ATC_FAMILIES], double *kernel_bytes,
		     struct tg_error *err)
{
	const int32_t stride = b->stride;
	cudaEvent_t *ev = st->ev + 4 * chunk;
	/* the staging buffer of this pipeline's previous chunk must be consumed */
	if (p->last_chunk >= 0)
		TG_CUDA_TRY(err, cudaEventSynchronize(st->ev[4 * p->last_chunk + 1]));
	for (int32_t i = 0; i < cs; i++)
		p->h_n_bars[i] = tg_batch_bars(b, s0 + i);

	struct tg_cuda_chunk c;
	memset(&c, 0, sizeof(c));
	c.cs = cs;
	c.stride = stride;
	c.n_bars = (const int32_t *)p->buf[BUF_N_BARS].p;
	c.close = dptr(p, BUF_CLOSE);
	c.g1 = (const double *)st->g.p;
	c.g2 = (const double *)st->g.p + stride;
	c.cq = dptr(p, BUF_CQ);
	c.q = dptr(p, BUF_Q);
	c.scratch = dptr(p, BUF_SCRATCH);
	c.weights = (const double *)st->weights.p;
	memcpy(c.weight_off, weight_off, sizeof(c.weight_off));
	c.avg = dptr(p, BUF_AVG);
	c.final_value = dptr(p, BUF_FINAL_VALUE);
	c.final_signal = (int8_t *)p->buf[BUF_FINAL_SIGNAL].p;
	c.r = o->r ? dptr(p, BUF_R) : NULL;
	c.ma = o->ma ? dptr(p, BUF_MA) : NULL;
	c.l1 = o->l1_signal ? dptr(p, BUF_L1) : NULL;
	c.l2 = o->l2_equity ? dptr(p, BUF_L2) : NULL;
	c.slot_ma = o->slot_ma ? dptr(p, BUF_SLOT_MA) : NULL;
	c.slot_eq = o->slot_equity ? dptr(p, BUF_SLOT_EQ) : NULL;
	c.slot_sig = o->slot_signal ? (int8_t *)p->buf[BUF_SLOT_SIG].p : NULL;
	const size_t rows = (size_t)cs * (size_t)stride * sizeof(double);
	/* the host thread's phase (launches and copies carry it into the
	 * profile) and one range per phase and chunk */
	const uint32_t mode = plan->approx ? TG_PHASE_APPROX : 0;
	const uint32_t color = tg_nvtx_backend_color("cuda");
	TG_CUDA_TRY(err, cudaEventRecord(ev[0], p->main));
	tg_phase_set(TG_PHASE_UPLOAD | mode);
	tg_nvtx_push_phase(TG_PHASE_UPLOAD | mode, color);
	TG_CUDA_TRY(err, cudaMemcpyAsync(p->buf[BUF_CLOSE].p, b->close + (size_t)s0 * stride, rows,
					 cudaMemcpyHostToDevice, p->main));
	TG_CUDA_TRY(err, cudaMemcpyAsync(p->buf[BUF_N_BARS].p, p->h_n_bars,
					 (size_t)cs * sizeof(int32_t), cudaMemcpyHostToDevice,
					 p->main));
	tg_nvtx_pop();
	TG_CUDA_TRY(err, cudaEventRecord(ev[1], p->main));

	TG_CUDA_TRY(err, cudaEventRecord(p->fork, p->main));
	for (int f = 0; f < TG_ATC_FAMILIES; f++) {
		tg_phase_set((TG_PHASE_FUSED + (uint32_t)f) | mode);
		tg_nvtx_push_phase((TG_PHASE_FUSED + (uint32_t)f) | mode, color);
		TG_CUDA_TRY(err, cudaStreamWaitEvent(p->fam[f], p->fork, 0));
		TG_CUDA_TRY(err, tg_cuda_launch_family(f, plan, &c, p->fam[f]));
		TG_CUDA_TRY(err, cudaEventRecord(p->fam_done[f], p->fam[f]));
		TG_CUDA_TRY(err, cudaStreamWaitEvent(p->main, p->fam_done[f], 0));
		tg_nvtx_pop();
	}
	tg_phase_set(TG_PHASE_AVERAGE | mode);
	tg_nvtx_push_phase(TG_PHASE_AVERAGE | mode, color);
	TG_CUDA_TRY(err, tg_cuda_launch_finalize(plan, &c, p->main));
	tg_nvtx_pop();
	TG_CUDA_TRY(err, cudaEventRecord(ev[2], p->main));
	*kernel_bytes += tg_cuda_chunk_kernel_bytes(plan, &c);

	tg_phase_set(TG_PHASE_DOWNLOAD | mode);
	tg_nvtx_push_phase(TG_PHASE_DOWNLOAD | mode, color);
	const int32_t S = b->n_symbols;
	if (o->average)
		TG_TRY(download_planes(o->average, c.avg, 1, S, s0, cs, stride, sizeof(double), p->main,
				       err));
	if (o->final_value)
		TG_CUDA_TRY(err, cudaMemcpyAsync(o->final_value + s0, c.final_value,
						 (size_t)cs * sizeof(double), cudaMemcpyDeviceToHost,
						 p->main));
	if (o->final_signal)
		TG_CUDA_TRY(err, cudaMemcpyAsync(o->final_signal + s0, c.final_signal, (size_t)cs,
						 cudaMemcpyDeviceToHost, p->main));
	if (o->r)
		TG_TRY(download_planes(o->r, c.r, 1, S, s0, cs, stride, sizeof(double), p->main, err));
	if (o->ma)
		TG_TRY(download_planes(o->ma, c.ma, TG_ATC_FAMILIES, S, s0, cs, stride, sizeof(double),
				       p->main, err));
	if (o->l1_signal)
		TG_TRY(download_planes(o->l1_signal, c.l1, TG_ATC_FAMILIES, S, s0, cs, stride,
				       sizeof(double), p->main, err));
	if (o->l2_equity)
		TG_TRY(download_planes(o->l2_equity, c.l2, TG_ATC_FAMILIES, S, s0, cs, stride,
				       sizeof(double), p->main, err));
	/* each per-slot output on its own (the accuracy pass asks for the MAs
	 * alone) */
	if (o->slot_ma)
		TG_TRY(download_planes(o->slot_ma, c.slot_ma, TG_ATC_MAS, S, s0, cs, stride,
				       sizeof(double), p->main, err));
	if (o->slot_equity)
		TG_TRY(download_planes(o->slot_equity, c.slot_eq, TG_ATC_MAS, S, s0, cs, stride,
				       sizeof(double), p->main, err));
	if (o->slot_signal)
		TG_TRY(download_planes(o->slot_signal, c.slot_sig, TG_ATC_MAS, S, s0, cs, stride, 1,
				       p->main, err));
	tg_nvtx_pop();
	tg_phase_set(0);
	TG_CUDA_TRY(err, cudaEventRecord(ev[3], p->main));
	p->last_chunk = chunk;
	return 0;
}

/* Bytes a run copies each way for the outputs requested. */
static void copy_bytes(const struct tg_batch *b, const struct tg_atc_outputs *o, double *up,
		       double *down)
{
	const double cells = (double)b->n_symbols * (double)b->stride, d = sizeof(double);
	*up = cells * d + (double)b->n_symbols * sizeof(int32_t);
	double planes = (o->average != NULL) + (o->r != NULL) +
			TG_ATC_FAMILIES * ((o->ma != NULL) + (o->l1_signal != NULL) +
					   (o->l2_equity != NULL)) +
			TG_ATC_MAS * ((o->slot_ma != NULL) + (o->slot_equity != NULL));
	*down = cells * d * planes + (o->slot_signal ? cells * TG_ATC_MAS : 0.0) +
		(double)b->n_symbols * ((o->final_value ? d : 0.0) + (o->final_signal ? 1.0 : 0.0));
}

static int is_pinned(const void *p)
{
	struct cudaPointerAttributes a;
	if (!p || cudaPointerGetAttributes(&a, p) != cudaSuccess) {
		cudaGetLastError(); /* clear the error of an unregistered pointer */
		return 0;
	}
	return a.type == cudaMemoryTypeHost;
}

static float elapsed_ms(cudaEvent_t a, cudaEvent_t b)
{
	float ms = 0.0f;
	cudaEventElapsedTime(&ms, a, b);
	return ms;
}

static int cuda_run(void *state, const struct tg_atc_params *params, const struct tg_batch *batch,
		    const struct tg_atc_outputs *out, struct tg_backend_timing *timing,
		    struct tg_error *err)
{
	struct cuda_state *st = (struct cuda_state *)state;
	if (timing)
		memset(timing, 0, sizeof(*timing));
	TG_FAIL_IF(batch->n_symbols < 0 || batch->stride < 0, err, TG_E_INVAL,
		   "cuda backend: invalid batch shape %d x %d", batch->n_symbols, batch->stride);
	TG_FAIL_IF(!batch->close && batch->n_symbols > 0, err, TG_E_INVAL,
		   "cuda backend: batch has no prices");
	for (int32_t s = 0; s < batch->n_symbols; s++) {
		int32_t n = tg_batch_bars(batch, s);
		TG_FAIL_IF(n < 0 || n > batch->stride, err, TG_E_INVAL,
			   "cuda backend: symbol %d has %d bars, outside 0..%d", s, n, batch->stride);
	}
	if (batch->n_symbols == 0 || batch->stride == 0) {
		for (int32_t s = 0; s < batch->n_symbols; s++) {
			if (out->final_value)
				out->final_value[s] = NAN;
			if (out->final_signal)
				out->final_signal[s] = 0;
		}
		return 0;
	}
	struct tg_cuda_plan plan;
	TG_TRY(tg_cuda_plan_make(params, &plan, err));
	TG_CUDA_TRY(err, cudaSetDevice(st->device));
	tg_nvtx_push_ex(params->ma_mode == TG_MA_APPROX ? "cuda: atc approx" : "cuda: atc exact",
			TG_NVTX_BACKEND, tg_nvtx_backend_color("cuda"), -1);
	int rc = 0;
	int32_t weight_off[TG_ATC_FAMILIES];
	int32_t cs = 0;
	TG_TRY_GOTO(rc, ensure_growth(st, params, batch->stride, err), done);
	TG_TRY_GOTO(rc, ensure_weights(st, params, weight_off, err), done);
	TG_TRY_GOTO(rc, chunk_symbols(st, batch, out, plan.approx, &cs, err), done);
	{
		const int chunks = (batch->n_symbols + cs - 1) / cs;
		TG_TRY_GOTO(rc, ensure_events(st, 4 * chunks, err), done);
		for (int i = 0; i < PIPES; i++)
			st->pipe[i].last_chunk = -1;
		double kernel_bytes = 0.0;
		for (int k = 0; k < chunks && rc == 0; k++) {
			struct pipe *p = &st->pipe[k % PIPES];
			const int32_t s0 = k * cs;
			const int32_t n = batch->n_symbols - s0 < cs ? batch->n_symbols - s0 : cs;
			TG_TRY_GOTO(rc, pipe_init(p, err), done);
			TG_TRY_GOTO(rc, pipe_reserve(p, cs, batch->stride, out, err), done);
			rc = run_chunk(st, p, k, &plan, batch, out, s0, n, weight_off, &kernel_bytes, err);
		}
		/* wait for everything, even after an error, before buffers are reused */
		for (int i = 0; i < PIPES; i++)
			if (st->pipe[i].ready) {
				cudaError_t e = cudaStreamSynchronize(st->pipe[i].main);
				if (e != cudaSuccess && rc == 0)
					rc = tg_error_set(err, TG_E_DEVICE, (int)e, __FILE__, __LINE__,
							  "cuda: the ATC kernels failed: %s (%s)",
							  cudaGetErrorString(e), cudaGetErrorName(e));
			}
		if (rc == 0 && timing) {
			for (int k = 0; k < chunks; k++) {
				cudaEvent_t *ev = st->ev + 4 * k;
				timing->h2d_ns += 1e6 * elapsed_ms(ev[0], ev[1]);
				timing->kernel_ns += 1e6 * elapsed_ms(ev[1], ev[2]);
				timing->d2h_ns += 1e6 * elapsed_ms(ev[2], ev[3]);
			}
			timing->device_total_ns = 1e6 * elapsed_ms(st->ev[0], st->ev[4 * (chunks - 1) + 3]);
			timing->kernel_bytes = kernel_bytes;
			copy_bytes(batch, out, &timing->h2d_bytes, &timing->d2h_bytes);
			timing->chunks = chunks;
			timing->pinned = is_pinned(batch->close) && (!out->average || is_pinned(out->average));
			tg_cuda_plan_describe(&plan, timing->kernels, sizeof(timing->kernels));
		}
	}
done:
	tg_nvtx_pop();
	return rc;
}

/* Device-to-device cudaMemcpy of 2 x 512 MiB (or a quarter of free memory),
 * best of 5 after a warm-up: bytes read + written per second. */
static int cuda_copy_bandwidth(void *state, double *bytes_per_s, char *what, size_t cap,
			       struct tg_error *err)
{
	(void)state;
	size_t free_b = 0, total_b = 0;
	TG_CUDA_TRY(err, cudaMemGetInfo(&free_b, &total_b));
	size_t bytes = (size_t)512 << 20;
	if (bytes > free_b / 4)
		bytes = free_b / 4 & ~(size_t)0xFFFF;
	TG_FAIL_IF(bytes < ((size_t)1 << 20), err, TG_E_DEVICE,
		   "copy benchmark: only %zu bytes of device memory free", free_b);
	void *a = NULL, *b = NULL;
	cudaEvent_t e0 = NULL, e1 = NULL;
	int rc = 0;
	if (cudaMalloc(&a, bytes) != cudaSuccess || cudaMalloc(&b, bytes) != cudaSuccess ||
	    cudaEventCreate(&e0) != cudaSuccess || cudaEventCreate(&e1) != cudaSuccess) {
		rc = TG_ERR(err, TG_E_DEVICE, "copy benchmark: cannot allocate 2 x %zu bytes", bytes);
	} else {
		float best = 0;
		cudaMemset(a, 1, bytes);
		for (int i = 0; i < 6 && rc == 0; i++) {
			cudaEventRecord(e0, 0);
			cudaMemcpyAsync(b, a, bytes, cudaMemcpyDeviceToDevice, 0);
			cudaEventRecord(e1, 0);
			if (cudaEventSynchronize(e1) != cudaSuccess) {
				rc = TG_ERR(err, TG_E_DEVICE, "copy benchmark: %s",
					    cudaGetErrorString(cudaGetLastError()));
				break;
			}
			float ms = 0;
			cudaEventElapsedTime(&ms, e0, e1);
			if (i > 0 && (best == 0 || ms < best))
				best = ms;
		}
		if (rc == 0) {
			*bytes_per_s = 2.0 * (double)bytes / (best * 1e-3);
			snprintf(what, cap, "device-to-device cudaMemcpy of %zu MiB, best of 5",
				 bytes >> 20);
		}
	}
	cudaFree(a);
	cudaFree(b);
	if (e0)
		cudaEventDestroy(e0);
	if (e1)
		cudaEventDestroy(e1);
	return rc;
}

#ifndef TG_CUDA_ARCHS
#define TG_CUDA_ARCHS "?"
#endif

/* float64 kernels without fused multiply-add (the C engine's bits), as
 * built: SASS for the real architectures, PTX for the JIT on newer ones */
static const char *cuda_isa(void)
{
	return "CUDA float64, no FMA contraction, built for " TG_CUDA_ARCHS;
}

static int cuda_pci_bus_id(int device, char *buf, size_t cap)
{
	if (cudaDeviceGetPCIBusId(buf, (int)cap, device_for(device)) != cudaSuccess)
		return TG_E_DEVICE;
	return 0;
}

extern "C" const struct tg_backend_ops tg_backend_cuda = {
	"cuda",
	"CUDA kernels, whole pipeline on the GPU, float64",
	cuda_probe,
	cuda_open,
	cuda_run,
	cuda_threads,
	cuda_close,
	cuda_describe,
	cuda_host_alloc,
	cuda_host_free,
	cuda_copy_bandwidth,
	cuda_pci_bus_id,
	cuda_isa,
};
