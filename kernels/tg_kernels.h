/* The ATC workload's backend ABI, shared by the C, CUDA and Rust backends.
 *
 * Data layout (structure of arrays over symbols): a batch is n_symbols rows
 * of `stride` float64 closes, row s at close + s * stride. Symbol s has
 * n_bars[s] <= stride valid bars (all `stride` when n_bars is NULL); bars past
 * n_bars[s] are ignored and their outputs are NaN.
 *
 * Outputs are caller-owned buffers in the same row layout; a NULL pointer
 * means "not requested". Per-family arrays are family-major:
 * [family][symbol][bar]; per-slot arrays are [family * 9 + slot][symbol][bar].
 * Backends allocate nothing per bar; scratch lives in the backend state.
 *
 * The plain-C structs below are mirrored by #[repr(C)] types in the Rust
 * crate and included by the .cu files; keep them free of C-only syntax.
 */
#ifndef TG_KERNELS_H
#define TG_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "tg_error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TG_ATC_FAMILIES 6
#define TG_ATC_SLOTS 9
#define TG_ATC_MAS (TG_ATC_FAMILIES * TG_ATC_SLOTS)

/* Family order is the order of every per-family array and of the Layer-2
 * sum in Average_Signal (spec §9). */
enum tg_family {
	TG_FAM_EMA = 0,
	TG_FAM_HMA = 1,
	TG_FAM_WMA = 2,
	TG_FAM_DEMA = 3,
	TG_FAM_LSMA = 4,
	TG_FAM_KAMA = 5,
};

enum tg_ma_mode {
	TG_MA_EXACT = 0,  /* spec §3 */
	TG_MA_APPROX = 1, /* spec §11: one approximate MA per family, in all 9 slots */
};

enum tg_robustness {
	TG_ROBUST_NARROW = 0, /* offsets 1, 2, 3, 4 */
	TG_ROBUST_MEDIUM = 1, /* offsets 1, 2, 4, 6 */
	TG_ROBUST_WIDE = 2,   /* offsets 1, 3, 5, 7 */
};

/* Where the LSMA regression line is evaluated (spec §3.5, §14). */
enum tg_lsma_point {
	TG_LSMA_LAST = 0,        /* last point of the window: the project's definition */
	TG_LSMA_PENULTIMATE = 1, /* pandas_ta linreg: one slope earlier */
};

/* The parameters of spec §1, in user units. */
struct tg_atc_params {
	int32_t length[TG_ATC_FAMILIES]; /* base length L per family */
	double weight[TG_ATC_FAMILIES];  /* Layer-2 starting equity (floored at 0.25) */
	double lambda;                   /* growth rate, used as lambda / 1000 */
	double decay;                    /* decay, used as 1 - decay / 100 */
	int32_t cutout;                  /* leading bars excluded from Layer 2 */
	int32_t robustness;              /* enum tg_robustness */
	double long_threshold;           /* Cut: S > long -> +1 */
	double short_threshold;          /* Cut: S < short -> -1 */
	double min_signal;               /* final signal: |last average| below -> 0 */
	int32_t ma_mode;                 /* enum tg_ma_mode */
	int32_t lsma_point;              /* enum tg_lsma_point */
	int32_t strategy_mode;           /* shift Average_Signal one bar, bar 0 = 0 */
	int32_t reserved;                /* zero */
};

struct tg_batch {
	const double *close;   /* [n_symbols][stride] */
	const int32_t *n_bars; /* [n_symbols] or NULL (all = stride) */
	int32_t n_symbols;
	int32_t stride;
};

struct tg_atc_outputs {
	double *average;       /* [S][stride] Average_Signal */
	int8_t *final_signal;  /* [S] +1 long, -1 short, 0 none (spec §10) */
	double *final_value;   /* [S] last Average_Signal */
	double *r;             /* [S][stride] rate of change R */
	double *ma;            /* [6][S][stride] MA at the base length (slot MA) */
	double *l1_signal;     /* [6][S][stride] Layer-1 signals, "EMA_Signal", ... */
	double *l2_equity;     /* [6][S][stride] Layer-2 equities, "EMA_S", ... */
	double *slot_ma;       /* [54][S][stride] every MA */
	int8_t *slot_signal;   /* [54][S][stride] crossover states */
	double *slot_equity;   /* [54][S][stride] Layer-1 equities */
};

/* Timing a backend measured itself (GPU backends: CUDA events); 0 = not
 * measured. With several chunks in flight the three parts overlap, so
 * their sum can exceed device_total_ns. */
struct tg_backend_timing {
	double h2d_ns;          /* host-to-device copies */
	double kernel_ns;       /* kernels */
	double d2h_ns;          /* device-to-host copies */
	double device_total_ns; /* first upload to last download */
	double h2d_bytes, d2h_bytes;
	double kernel_bytes;    /* device-memory traffic of the kernels (model) */
	int32_t chunks;         /* pieces the batch was split into */
	int32_t pinned;         /* 1 when the host buffers were page-locked */
	char kernels[64];       /* which kernels ran, when a backend has variants */
};

/* Called on every worker thread a backend starts, before it computes, and
 * before it exits: the sampler registers threads, --pin binds them. */
struct tg_thread_hooks {
	void (*on_start)(void *ctx, int worker_index);
	void (*on_stop)(void *ctx, int worker_index);
	void *ctx;
};

struct tg_backend_config {
	int32_t threads; /* worker threads; <= 0 means one per available CPU */
	int32_t device;  /* GPU ordinal for device backends */
	const struct tg_thread_hooks *hooks; /* may be NULL */
};

struct tg_backend_ops {
	const char *name;        /* "cpu", "rust", "cuda" */
	const char *description;
	/* 0 when usable here; otherwise < 0 and why, e.g. "no CUDA driver". */
	int (*probe)(char *reason, size_t cap);
	int (*open)(const struct tg_backend_config *cfg, void **state, struct tg_error *err);
	/* Runs the whole pipeline over a batch; params must have passed
	 * tg_atc_params_validate for the batch's shortest series. */
	int (*run)(void *state, const struct tg_atc_params *params, const struct tg_batch *batch,
		   const struct tg_atc_outputs *out, struct tg_backend_timing *timing,
		   struct tg_error *err);
	/* CPU worker threads used (0: none, e.g. a GPU driven by the caller). */
	int (*threads)(void *state);
	void (*close)(void *state);
	/* Optional (NULL: none). The device this backend runs on, e.g.
	 * "NVIDIA H100 80GB HBM3 (sm_90, 132 SMs, 79.1 GiB, driver 13.0)". */
	int (*describe)(char *buf, size_t cap);
	/* Optional (NULL: use malloc/free). Host memory the backend moves
	 * fastest (page-locked for GPUs), for batches and outputs. */
	void *(*host_alloc)(void *state, size_t bytes);
	void (*host_free)(void *state, void *p);
	/* Optional (NULL: none). Measured copy bandwidth of the memory the
	 * backend's kernels use (device to device, bytes read + written per
	 * second): the roof of its kernels. */
	int (*copy_bandwidth)(void *state, double *bytes_per_s, char *what, size_t cap,
			      struct tg_error *err);
	/* Optional (NULL: none). PCI bus id of the device ("0000:3b:00.0"), to
	 * find the CPUs nearest to it. */
	int (*pci_bus_id)(int device, char *buf, size_t cap);
	/* Optional (NULL: not said). The instruction set its kernels run with,
	 * e.g. "scalar C (the CPU has AVX2, FMA)", "CUDA sm_90". */
	const char *(*isa)(void);
};

/* ---- parameters (kernels/atc_params.c) --------------------------------- */

void tg_atc_params_default(struct tg_atc_params *p);
/* Checks every parameter and that the lengths fit series of min_bars bars
 * (min_bars <= 0 skips that check). Messages name the option
 * ("--ema-len"). */
int tg_atc_params_validate(const struct tg_atc_params *p, int32_t min_bars, struct tg_error *err);
/* The 9 lengths of a family in slot order MA, MA1..MA4, MA_1..MA_4. */
void tg_atc_slot_lengths(const struct tg_atc_params *p, int family, int32_t out[TG_ATC_SLOTS]);
/* Longest window any MA of these parameters needs. */
int32_t tg_atc_max_length(const struct tg_atc_params *p);
int32_t tg_atc_min_length(const struct tg_atc_params *p);

const char *tg_family_name(int family);   /* "EMA" */
int tg_family_parse(const char *name);    /* -> family or -1, case-insensitive */
/* A set of families as bits (1 << family): "all", "none" or "" (empty),
 * or a comma-separated list of names ("ema,KAMA"). `what` names the input
 * in the error ("TG_CUDA_WALK"). */
int tg_family_set_parse(const char *what, const char *text, uint32_t *set, struct tg_error *err);
const char *tg_slot_name(int slot);       /* "MA", "MA1", ..., "MA_4" */
const char *tg_ma_mode_name(int mode);    /* "exact" / "approx" */
int tg_ma_mode_parse(const char *name);   /* -> mode or -1 */
const char *tg_robustness_name(int r);    /* "narrow" / "medium" / "wide" */
int tg_robustness_parse(const char *name); /* -> enum or -1, case-insensitive */
const char *tg_lsma_point_name(int p);    /* "last" / "penultimate" */
int tg_lsma_point_parse(const char *name);

/* The MA updates one bar computes in a mode: 54 exact (6 families x 9
 * lengths), 6 approx (one per family, in all nine slots: spec §11.2). */
int tg_atc_mas_per_bar(int32_t ma_mode);
/* The bars of a batch, every symbol's: bars x tg_atc_mas_per_bar are the
 * MA updates a run computes, the throughput unit. */
double tg_batch_total_bars(const struct tg_batch *b);
int32_t tg_batch_bars(const struct tg_batch *b, int32_t symbol);

/* ---- backends (kernels/backends.c) ------------------------------------- */

extern const struct tg_backend_ops tg_backend_cpu;
extern const struct tg_backend_ops tg_backend_rust; /* when TG_HAVE_RUST */
extern const struct tg_backend_ops tg_backend_cuda; /* when TG_HAVE_CUDA */

/* Every backend compiled in, in display order; NULL-terminated. */
const struct tg_backend_ops *const *tg_backends(void);
const struct tg_backend_ops *tg_backend_find(const char *name);

#ifdef __cplusplus
}
#endif

#endif
