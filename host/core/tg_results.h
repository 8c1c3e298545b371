/* The results of a benchmark run: what `run` measures and what the
 * writers in flame/ render (results.json, summary.md, the terminal table).
 * Plain data, owned by struct tg_run_results; parameters are kept as typed
 * key/value pairs so renderers need no knowledge of the workload.
 */
#ifndef TG_RESULTS_H
#define TG_RESULTS_H

#include <stdbool.h>
#include <stdint.h>

#include "tg_error.h"
#include "tg_machine.h"
#include "tg_stats.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TG_RESULTS_FAMILIES 6
#define TG_RESULTS_SLOTS 9
#define TG_RESULTS_FLIPS_LISTED 20 /* flipped symbols the terminal and summaries list */

struct tg_param {
	char key[40];
	char text[160];  /* always set */
	bool is_number;
	double number;   /* when is_number */
};


struct tg_state_result {
	char backend[16];
	char ma_mode[8];      /* "exact" / "approx" */
	bool available;       /* false: backend unavailable or failed */
	char error[256];      /* why, when !available */
	int threads;
	int warmup;
	int n_samples;
	double *samples_ns;   /* owned, wall time per repetition */
	struct tg_stats wall; /* over samples_ns */
	/* owned, per repetition as samples_ns (NULL when not recorded): its
	 * start in seconds from the start of measuring, the round of the
	 * interleaved order it ran in, the process's CPU time (user + system,
	 * every thread) it took */
	double *sample_start_s;
	int32_t *sample_round;
	double *cpu_samples_ns;
	struct tg_stats cpu;  /* over cpu_samples_ns */
	double first_run_ns;  /* the state's first run (cold: allocations, first touch) */
	const char *stop_reason; /* why sampling stopped (tg_stop_reason_name), static */
	double state_seconds; /* wall time the state took, warm-up included */
	double budget_s;      /* the time budget it had (--max-time, or planned); 0: none */
	double bytes_moved;   /* compulsory memory traffic of one run: inputs + outputs */
	double bars;          /* symbol bars per repetition */
	int mas_per_bar;      /* MA updates computed per bar: 54 exact, 6 approx */
	double bar_mas;       /* bars x mas_per_bar: MA updates computed per repetition */
	/* measured by device backends (CUDA events); n = 0 / 0 = not measured */
	char device[160];            /* what it ran on */
	char placement[128];         /* where its threads ran (--pin) */
	double *kernel_samples_ns;   /* owned, kernel-only time per repetition */
	struct tg_stats kernel;      /* kernel-only */
	struct tg_stats device_total; /* first upload to last download */
	double h2d_ns, kernel_ns, d2h_ns; /* medians of the split */
	double kernel_bytes;         /* device-memory traffic of the kernels per run */
	double h2d_bytes, d2h_bytes; /* copied per run */
	int chunks;                  /* pieces the batch was cut into */
	bool pinned;                 /* host buffers were page-locked */
	char kernels[64];            /* which kernel variant ran ("" when one only) */
	char isa[128];               /* the instruction set the backend ran with ("" not said) */
	/* owned, per symbol of the dataset (NULL when not kept): the last
	 * Average_Signal and the final signal (spec §10) of its last run */
	double *last_average;
	int8_t *final_signal;
	int32_t n_symbols;
	/* a digest of the Average_Signal of every symbol's every bar as the
	 * state's last run left it (FNV-1a of each symbol's bits, then of those
	 * in symbol order: the same whether one process or several ranks
	 * computed it); has_digest false when not kept */
	uint64_t average_digest;
	bool has_digest;
	/* this process's own median time per repetition: under ranks,
	 * samples_ns hold the slowest rank's times and this its own */
	double own_median_ns;
};

/* The approximate MA of a family (one, at the base length, in all nine
 * slots: spec §11.2) against the exact MA of one slot. */
struct tg_slot_accuracy {
	int slot;                 /* 0 = the base length */
	int32_t length;
	double mean_rel_err;      /* bars where both are finite and the exact is not 0 */
	double max_rel_err;
	double frac_within_5pct;
};

/* The Layer-1 signal's agreement counts as chance when Cohen's kappa is
 * below this (Landis and Koch: "slight" agreement at most). */
#define TG_ACCURACY_CHANCE_KAPPA 0.2

struct tg_family_accuracy {
	double mean_rel_err;      /* approx MA vs exact MA at the base length */
	double max_rel_err;
	double frac_within_5pct;
	double l1_sign_agreement; /* sign(S_approx) == sign(S_exact), all bars */
	/* over the bars where both Layer-1 signals are numbers: the share
	 * whose sign agrees, the share two unrelated signals with the same
	 * sign frequencies would agree on, and Cohen's kappa
	 * (agree - chance) / (1 - chance); NaN when undefined */
	double l1_agree_finite, l1_chance, l1_kappa;
	bool no_better_than_chance; /* l1_kappa < TG_ACCURACY_CHANCE_KAPPA */
	/* against every exact slot, in length order (n_slots 0: not measured) */
	int n_slots;
	struct tg_slot_accuracy slot[TG_RESULTS_SLOTS];
	double slots_mean_rel_err; /* over every slot's bars */
	int worst;                 /* index in slot[] of the largest mean error */
};

/* The final signal's name: "LONG" (+1), "SHORT" (-1), "none" (0). */
const char *tg_signal_name(int v);

/* A symbol whose final signal differs between exact and approx. */
struct tg_flip {
	int32_t symbol;           /* in the dataset */
	int8_t exact, approx;     /* +1 LONG, -1 SHORT, 0 none */
	char name[64];
};

struct tg_accuracy {
	char backend[16];
	struct tg_family_accuracy family[TG_RESULTS_FAMILIES];
	double avg_sign_agreement;   /* Average_Signal */
	double avg_max_abs_diff;
	double avg_frac_below_1e6;
	int64_t bars;                /* bars compared */
	/* the decision (spec §10): the final signal, LONG +1 / SHORT -1 /
	 * none 0, at each symbol's last bar, and the per-bar class of
	 * Average_Signal (none when NaN or |v| < min_signal) */
	int64_t symbols, flipped;    /* symbols compared, those whose final signal differs */
	double bars_differing;       /* share of bars whose class differs */
	struct tg_flip *flips;       /* owned: every flip in symbol order (n_flips < flipped
				      * only when memory ran out) */
	int64_t n_flips;
};

/* Cross-backend agreement of Average_Signal for one MA mode. */
struct tg_agreement {
	char reference[16];
	char backend[16];
	char ma_mode[8];
	double max_abs_diff;
	double sign_agreement;
	int64_t bars;
	/* the first cell with the largest difference (when max_abs_diff > 0):
	 * symbol index in the batch, its name, bar, and both values */
	int32_t worst_symbol, worst_bar;
	char worst_name[64];
	double worst_reference, worst_value;
};

/* Two states measured in the same rounds, compared pair by pair: how many
 * times faster a is than b (the median over rounds of b's time / a's), with
 * its 95% bootstrap interval. kind "mode": a is the fastest backend of its
 * MA mode, b another; "approx": a is a backend's approx state, b its exact. */
struct tg_ratio {
	char kind[8];
	char a_backend[16], a_ma[8], b_backend[16], b_ma[8];
	int pairs;
	double speedup, ci_lo, ci_hi;
};

/* a faster than b (the interval above 1), slower (below 1), or neither. */
enum tg_ratio_verdict { TG_RATIO_SAME = 0, TG_RATIO_FASTER = 1, TG_RATIO_SLOWER = 2 };
int tg_ratio_verdict(const struct tg_ratio *x);

/* One row of the phase table: a backend's time in one phase of the
 * pipeline (tg_phase.h) in one MA mode, from its CPU samples (each weighed
 * by its measured interval) and its GPU activity (kernels and copies
 * launched while the host thread was in that phase). */
struct tg_phase_row {
	char backend[16];
	uint32_t phase;       /* tg_phase value (id | TG_PHASE_APPROX) */
	uint64_t samples;
	double cpu_ms;        /* the samples' measured intervals, summed over threads */
	double cpu_share;     /* of the backend's samples in that MA mode */
	uint64_t gpu_count;   /* kernels and copies */
	double gpu_ms;        /* their GPU time */
	double gpu_median_us; /* the median kernel or copy */
};

#define TG_MAX_PHASE_ROWS 160

/* What a profiled run recorded (run --profile, record). */
struct tg_profile_info {
	bool enabled;
	char mode[8];           /* "cpu", "gpu", "both" */
	/* the outputs below were rendered; false in the results written as
	 * soon as measuring ends, before rendering (a kill then leaves results
	 * that say so, and `report` can render the raw capture) */
	bool rendered;
	/* host sampling */
	bool sampled;
	int requested_hz;
	double achieved_hz;     /* timer signals handled per thread-second */
	char clock[8];          /* "wall" / "cpu" */
	char unwind[16];        /* "libunwind" / "frame-pointers" */
	char symbolizer[16];    /* "libdw" / "dladdr", "+vdso" with the vDSO's symbols */
	uint64_t samples, dropped, unwind_failures, truncated, idle_skipped;
	int threads;
	uint64_t fallbacks;     /* hybrid unwinding: stacks libunwind completed */
	uint64_t overruns;      /* timer ticks the kernel merged into a pending one */
	/* TG_SAMPLER_COMPARE_UNWIND=1: samples unwound by both the hybrid and
	 * libunwind, and those whose stacks agree */
	uint64_t unwind_compared, unwind_agreed;
	int cpus;               /* online CPUs where it was sampled */
	/* the achieved rate under 80% of the request, or samples dropped: what
	 * happened and why; "" when neither */
	char rate_warning[384];
	double handler_us;      /* the sampler's handler, mean per sample */
	double handler_share;   /* its share of the sampled threads' time */
	char hottest[8][160];   /* top functions by self samples, "name (12.3%)" */
	int n_hottest;
	/* GPU activity (CUPTI) */
	bool gpu_traced;
	char gpu[256];          /* what was traced, or why not */
	uint64_t kernels, memcpys, memsets, api_calls, launches;
	uint64_t gpu_dropped;   /* records CUPTI dropped + buffers refused */
	uint64_t kernel_ns, memcpy_ns;
	char hottest_gpu[8][160]; /* kernels and copies by GPU time, "name (12.3%)" */
	int n_hottest_gpu;
	/* NVTX and the timeline */
	char nvtx[160];         /* who received NVTX calls */
	uint64_t nvtx_ranges;
	uint64_t trace_events, unmatched_correlations;
	char files[1024];       /* what the profile wrote, comma-separated */
	/* the phase table: by backend, MA mode and phase (none for programs
	 * that mark no phases, as under record) */
	struct tg_phase_row phases[TG_MAX_PHASE_ROWS];
	int n_phases;
};

/* A rank of a run split across ranks (mpirun -n R run): its share of the
 * symbols and its own time in each state (the median of its repetitions;
 * the state's samples are the slowest rank's). */
#define TG_RESULTS_MAX_STATES 16
struct tg_rank_result {
	int rank;
	char host[64];
	int32_t first_symbol, symbols;
	double bars;                  /* symbol bars of its share */
	int n_states;                 /* as the run's states, in their order */
	double median_ns[TG_RESULTS_MAX_STATES]; /* 0: the state did not run */
};

struct tg_run_results {
	char kind[16];         /* "run" (default when empty), "record" */
	char command[1024];
	char created_utc[32];
	char run_dir[512];
	bool complete;         /* false when interrupted */
	char incomplete_reason[128];
	struct tg_machine machine;
	const struct tg_build_info *build;
	/* the process's place under a launcher (host/ranks): rank of n_ranks
	 * (n_ranks 0: not launched as one of several), launcher's name */
	int rank, n_ranks, local_rank;
	char launcher[24];
	/* a run split across the n_ranks ranks: each one's share and times
	 * (gathered by rank 0; none otherwise) */
	struct tg_rank_result *ranks;
	int n_rank_results;

	struct tg_param *params;
	int n_params, cap_params;

	struct tg_state_result *states;
	int n_states, cap_states;

	struct tg_accuracy *accuracy;
	int n_accuracy, cap_accuracy;

	struct tg_agreement *agreement;
	int n_agreement, cap_agreement;

	/* rounds of the interleaved measurement (one repetition of every
	 * state each, in rotated order); 0 when states were measured apart */
	int rounds;
	struct tg_ratio *ratios;
	int n_ratios, cap_ratios;

	const char *family_names[TG_RESULTS_FAMILIES];

	struct tg_profile_info profile;

	/* a build read back from results.json: r->build points here */
	struct tg_build_info loaded_build;
	char loaded_build_text[6][512];

	/* copy benchmarks measured in this run: the roofs of the roofline */
	double host_bw;            /* bytes read + written per second, 0 = not measured */
	char host_bw_what[128];
	double device_bw;
	char device_bw_what[128];
};

void tg_results_init(struct tg_run_results *r);
void tg_results_fini(struct tg_run_results *r);
/* Frees what a state owns (its sample arrays), for a state outside a run's
 * results (the harness measured into it). */
void tg_state_result_fini(struct tg_state_result *st);

int tg_results_param_text(struct tg_run_results *r, const char *key, const char *text);
int tg_results_param_number(struct tg_run_results *r, const char *key, double v);
/* Returns a zeroed state appended to r, or NULL when out of memory. */
struct tg_state_result *tg_results_add_state(struct tg_run_results *r);
struct tg_accuracy *tg_results_add_accuracy(struct tg_run_results *r);
struct tg_agreement *tg_results_add_agreement(struct tg_run_results *r);
struct tg_ratio *tg_results_add_ratio(struct tg_run_results *r);
const struct tg_state_result *tg_results_find_state(const struct tg_run_results *r,
						    const char *backend, const char *ma_mode);
const struct tg_param *tg_results_find_param(const struct tg_run_results *r, const char *key);
/* A split run's load imbalance in state i: the slowest rank's own median
 * over the mean of the ranks' (1: even); 0 when not split or not run. */
double tg_results_rank_imbalance(const struct tg_run_results *r, int i);

/* What a parameter says about a run: the workload (what is computed: two
 * runs of different workloads are not comparable), how long it was
 * measured (reps, budgets, which backends), or how it was profiled. The
 * one table compare and the history's workload key both use. */
enum tg_param_kind {
	TG_PARAM_WORKLOAD = 0,
	TG_PARAM_TIMING = 1,
	TG_PARAM_PROFILE = 2,
	/* facts the workload implies (the data's spread, gaps, files): recorded,
	 * neither compared nor part of the history key */
	TG_PARAM_DERIVED = 3
};
int tg_param_kind(const char *key);


#ifdef __cplusplus
}
#endif

#endif
