/* The run as a library (design §3): what `run`, `record` and `report` do,
 * below the command line and the recording agent, in three parts.
 *
 *  - The benchmark loop: every backend x MA mode warmed up and measured by
 *    the harness, the agreement of every backend with the first, the
 *    accuracy of the approximate MAs; driven by struct tg_run_opts, results
 *    into struct tg_run_results (tg_results.h). Backends are ops tables, so
 *    tests drive the loop with fakes.
 *  - The profiling session: NVTX capture, CUPTI and the host sampler around
 *    whatever runs (a benchmark, or a program the agent is injected into),
 *    exported into one capture (tg_capture.h). One table of profile modes;
 *    the sampler's clocks, unwinders and default rate come from
 *    tg_sampler.h; one mapping from a capture to the profile summary.
 *  - The run directory: created, the raw capture and the process map
 *    written and read back, profiles rendered from them, results.json
 *    written and read with one schema, summary.md and report.html.
 */
#ifndef TG_RUN_H
#define TG_RUN_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tg_capture.h"
#include "tg_clock.h"
#include "tg_comm.h"
#include "tg_data.h"
#include "tg_error.h"
#include "tg_history.h"
#include "tg_kernels.h"
#include "tg_report.h"
#include "tg_results.h"
#include "tg_sink.h"
#include "tg_stats.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ==== the profiling session ============================================== */

enum tg_profile_mode {
	TG_PROFILE_NONE = 0,
	TG_PROFILE_CPU = 1,  /* host stack samples */
	TG_PROFILE_GPU = 2,  /* CUPTI: kernels, copies, CUDA calls with launch stacks */
	TG_PROFILE_BOTH = 3,
};

/* "none", "cpu", "gpu", "both" (index = mode), NULL-terminated. */
extern const char *const tg_profile_mode_names[];

struct tg_profile_opts {
	int32_t mode;         /* enum tg_profile_mode */
	int32_t hz;           /* samples per second per thread */
	int32_t clock;        /* enum tg_sample_clock */
	int32_t unwind;       /* enum tg_unwind_method */
	int32_t include_idle; /* keep wall-clock samples of waiting threads */
	int32_t driver_api;   /* also trace CUDA driver API calls */
	int32_t ring_kb;      /* sample ring per thread, KiB; 0: the sampler's 1 MiB */
};

#define TG_PROFILE_MAX_RING_KB (1 << 20) /* 1 GiB per thread */

/* mode as given, TG_SAMPLER_DEFAULT_HZ, wall clock, the hybrid unwinder. */
void tg_profile_opts_default(struct tg_profile_opts *o, int mode);

/* The settings `record` hands the agent through the environment
 * (TG_RECORD_MODE, _HZ, _CLOCK, _UNWIND, _IDLE, _DRIVER_API, _RING_KB): written by
 * the one, read by the other. Reading refuses a value it does not know,
 * naming the variable, the value and what was expected; unset variables
 * keep the defaults. */
void tg_profile_opts_to_env(const struct tg_profile_opts *o);
int tg_profile_opts_from_env(struct tg_profile_opts *o, struct tg_error *err);

struct tg_session_opts {
	struct tg_profile_opts profile;
	const char *const *tags; /* tag t names what runs as t ("main", a backend) */
	int n_tags;
	const char *process;     /* what runs, for the capture ("trendgpu-bench run") */
	/* false: the gpu modes start CUPTI in tg_session_begin; true: only when
	 * tg_session_start_gpu is called (the agent: when the driver initialises
	 * CUDA). What was not traced says why in the capture. */
	bool defer_gpu;
};

struct tg_session;

/* Starts NVTX capture, CUPTI (gpu modes; when it cannot trace, the reason
 * is kept and, for --profile gpu, host stacks are sampled instead) and the
 * sampler (cpu modes), which samples the calling thread as tag 0. */
int tg_session_begin(const struct tg_session_opts *o, struct tg_session **out,
		     struct tg_error *err);
/* CUPTI now (gpu modes, once); 0 when GPU activity is traced. */
int tg_session_start_gpu(struct tg_session *s);
/* Stops CUPTI and flushes its records now (the agent: before the CUDA
 * runtime tears its contexts down at exit); tg_session_end does it too. */
void tg_session_flush_gpu(struct tg_session *s);
/* Hooks that tag (and, when sampling, sample) a backend's worker threads. */
const struct tg_thread_hooks *tg_session_hooks(struct tg_session *s, int tag);
/* The calling thread works for `tag` from now on; when sampled, it is
 * sampled only while `busy` (a thread that waits for its workers is not). */
void tg_session_set_tag(struct tg_session *s, int tag, bool busy);
/* A thread that starts / ends being sampled (the agent's threads). */
int tg_session_thread_enter(struct tg_session *s, int tag, struct tg_error *err);
void tg_session_thread_exit(struct tg_session *s);
/* The calling thread's stack seen again from here (tg_sampler_rebase_thread). */
void tg_session_thread_rebase(struct tg_session *s);
/* Whether the session samples host stacks. */
bool tg_session_samples(const struct tg_session *s);
/* Stops every collector and exports what they recorded into a new capture
 * (the caller frees it): tags, profile mode, GPU status, NVTX ranges, CUPTI
 * activity, samples and the sampler's counters. */
int tg_session_end(struct tg_session *s, struct tg_capture **out, struct tg_error *err);
void tg_session_free(struct tg_session *s);

/* The profile summary of a capture: mode, the sampler's rate, counters and
 * settings, whether GPU activity was traced. The one mapping, for a capture
 * just taken and one read back by `report`. Renderers add the rest. */
/* Fills p->rate_warning from the sampler's counters: an achieved rate
 * under 80% of the request with its likely cause (CPU contention seen as
 * merged timer ticks, the handler's cost, the cpu clock), dropped samples. */
void tg_profile_rate_check(struct tg_profile_info *p);
void tg_profile_info_from_capture(const struct tg_capture *c, struct tg_profile_info *info);

/* ==== the run directory ================================================== */

/* What to do with an `out` directory that holds a run already. */
enum tg_rundir_existing {
	TG_RUNDIR_REFUSE = 0,  /* an error naming it (run, record) */
	TG_RUNDIR_REPLACE = 1, /* remove the outputs a run writes there first (--force) */
	TG_RUNDIR_KEEP = 2,    /* write over them (report re-renders into one) */
};

/* profiles/<command>-<UTC stamp>[-N] (TG_PROFILES_DIR replaces profiles/),
 * created; or out, created with its parents. */
int tg_rundir_make(const char *command, const char *out, int existing, char *dir, size_t cap,
		   struct tg_error *err);
/* dir/INCOMPLETE, saying what was under way: written when a run starts,
 * removed once its results.json is written (tg_rundir_write_results), so a
 * run killed before (a second stop signal, SIGKILL, a crash) leaves a
 * directory that says so; tg_results_load names it. */
#define TG_RUNDIR_INCOMPLETE "INCOMPLETE"
int tg_rundir_mark_incomplete(const char *dir, const char *what, struct tg_error *err);
/* The raw capture of this process into dir: maps<suffix>,
 * maps<suffix>.buildid and, last, capture<suffix>.bin (its presence says
 * the others are complete). *maps_text, when asked for, receives the map
 * (the caller frees it). */
int tg_rundir_write_capture(const char *dir, const char *suffix, const struct tg_capture *c,
			    char **maps_text, struct tg_error *err);
/* The process's memory map (/proc/self/maps), for symbolizing after the
 * run or offline, and the GNU build ids of the mapped files, one
 * "build-id <hex> <path>" line each. */
int tg_rundir_write_maps(struct tg_sink *sink, struct tg_error *err);
int tg_rundir_write_build_ids(struct tg_sink *sink, struct tg_error *err);
/* The process's vDSO image, as the kernel mapped it, for naming vDSO code
 * offline (vdso<suffix>.so beside the map). */
int tg_rundir_write_vdso(struct tg_sink *sink, struct tg_error *err);
/* record: gives the agent's capture-<pid>.bin, maps-<pid>,
 * maps-<pid>.buildid and vdso-<pid>.so the names `report` reads. */
int tg_rundir_adopt(const char *dir, long pid, struct tg_error *err);
/* Removes what a killed process left in dir: files "<name>.tmp.<pid>" (the
 * sinks' temporaries) whose process is gone. Returns how many, or a
 * negative status when dir cannot be read. */
int tg_rundir_clean_temps(const char *dir, struct tg_error *err);
/* dir/capture.bin and dir/maps, validated; the caller frees both. */
int tg_rundir_read_capture(const char *dir, struct tg_capture **c, char **maps_text,
			   struct tg_error *err);
/* The profile outputs (trace.json, flame graphs, top.txt, speedscope) of a
 * capture into dir; maps_text is the profiled process's map (NULL: this
 * process's), process names it (NULL: the capture's). Fills info. */
int tg_rundir_render(struct tg_capture *c, const char *maps_text, const char *dir,
		     const char *process, struct tg_profile_info *info, struct tg_error *err);
/* tg_rundir_read_capture of in_dir, then tg_rundir_render into out_dir. */
int tg_rundir_rerender(const char *in_dir, const char *out_dir, struct tg_profile_info *info,
		       struct tg_error *err);
/* results.json, summary.md and report.html (with the trends, may be none)
 * into r->run_dir, each written whole or not at all. */
int tg_rundir_write_results(const struct tg_run_results *r, const struct tg_report_trend *trends,
			    int n_trends, struct tg_error *err);

/* ---- a job's ranks merged (run_ranks.c) ------------------------------------ */

/* How many ranks' run directories DIR holds: rank0 .. rank<n-1>, each with
 * its capture (record under mpirun, mpiexec or srun). 0: none. */
int tg_rundir_count_ranks(const char *dir);

/* A rank's capture window and its clock put on rank 0's. */
struct tg_rank_clock {
	int rank;
	char host[64];
	uint32_t pid;
	uint64_t start_ns, end_ns; /* its own CLOCK_MONOTONIC */
	struct tg_clock_align align;
	char source[64];           /* how: "same host: CLOCK_MONOTONIC", "wall clocks..." */
};
/* c's clock onto ref's (rank 0's): the identity on one host (one
 * CLOCK_MONOTONIC); across hosts from the wall-clock anchors both captures
 * took at start and end (TG_META_CLOCK_*; drift corrected, a clock step
 * flagged); not aligned, said in source, without anchors. */
void tg_rank_clock_align(const struct tg_capture *c, const struct tg_capture *ref,
			 struct tg_rank_clock *out);
/* rank_dir/clock.txt: the rank's clock against rank 0's measured with
 * MPI at its capture's start and end (tg_comm_clock_pairs), which the
 * merge prefers to the anchors */
#define TG_RANK_CLOCK_FILE "clock.txt"
int tg_rank_clock_write(const char *rank_dir, const struct tg_clock_pair *start,
			const struct tg_clock_pair *stop, struct tg_error *err);
/* Merges dir's n ranks (their captures in dir/rank<R>, rendered already
 * into out_dir/rank<R>: trace.json, cpu.folded) into out_dir: trace.json with every rank's processes (named
 * "host:rank ...", pids renumbered, flow ids per rank, times on rank 0's
 * clock; otherData.ranks says how each was aligned), cpu.svg/.folded
 * merged and cpu-ranks.svg/.folded under a root frame per rank, ranks.md
 * (the ranks, their clocks, the NVTX ranges' time per rank and their
 * imbalance). */
int tg_rundir_merge_ranks(const char *dir, const char *out_dir, int n, struct tg_error *err);

/* ---- results.json: one schema ---------------------------------------------- */

#define TG_RESULTS_SCHEMA "trendgpu-bench/results"
#define TG_RESULTS_SCHEMA_VERSION 2
/* the oldest version this build reads */
#define TG_RESULTS_SCHEMA_OLDEST 1

int tg_results_write_json(const struct tg_run_results *r, struct tg_sink *s,
			  struct tg_error *err);
/* Reads what tg_results_write_json wrote into r (initialised here; the
 * caller finishes it with tg_results_fini): identity, machine, build,
 * params, states with their raw samples (statistics recomputed from them),
 * agreement. Refuses another schema, a newer (or older than readable)
 * schema_version naming both versions, and any member of the wrong type,
 * naming its path ("states[2].wall_ns.samples[7]"). */
int tg_results_read_json(const char *text, size_t len, const char *source,
			 struct tg_run_results *r, struct tg_error *err);
int tg_results_load(const char *path, struct tg_run_results *r, struct tg_error *err);

/* ==== the benchmark loop ================================================= */

#define TG_RUN_MAX_BACKENDS 8
#define TG_RUN_MAX_MODES 2

struct tg_run_backend {
	char name[16];                    /* as asked for */
	const struct tg_backend_ops *ops; /* NULL: a backend this binary was built without */
};

/* "cpu,rust" or "all" (every backend built in) into out; an unknown name
 * or one given twice is an error naming it and what this build has. */
int tg_run_parse_backends(const char *list, struct tg_run_backend *out, int cap, int *n,
			  struct tg_error *err);
/* "exact", "approx", "exact,approx": distinct modes, at most
 * TG_RUN_MAX_MODES. */
int tg_run_parse_modes(const char *list, int32_t *modes, int *n, struct tg_error *err);

struct tg_run_opts {
	struct tg_run_backend backends[TG_RUN_MAX_BACKENDS];
	int n_backends;
	int32_t modes[TG_RUN_MAX_MODES]; /* enum tg_ma_mode, distinct */
	int n_modes;
	struct tg_atc_params params;     /* ma_mode is set per state */
	/* the data: a CSV file or directory, else synthetic */
	const char *data;
	int32_t symbols, bars;
	/* with data: a name pattern, the first N symbols, the last B bars (0:
	 * all) */
	const char *data_select;
	int32_t data_symbols, data_bars;
	const char *data_price;  /* close (NULL) or adj-close */
	int64_t data_timeframe_ms; /* resample to these bars (0: as they are) */
	uint64_t seed;
	/* measurement */
	int32_t threads;                 /* CPU backends' workers; 0: one per CPU */
	int32_t device;                  /* GPU backends' device (ranks: the local rank;
					  * it wraps around the GPUs a process sees) */
	int32_t warmup;
	int32_t reps;                    /* > 0: exactly this many, else the rule */
	struct tg_stop_rule rule;
	/* --max-time auto: after the warm-ups, every state's budget grows to
	 * hold rule.min_samples repetitions of the slowest state (and
	 * rule.min_time_s), projected from its warm-up, rule.timeout_s at least */
	bool auto_budget;
	bool accuracy;                   /* the approx-vs-exact pass */
	int32_t accuracy_chunk;          /* symbols per accuracy batch; 0: 16 */
	bool pin;                        /* --pin */
	int32_t pin_first;               /* --pin: workers take the CPUs from this
					  * one in the pin order (ranks on a host:
					  * local rank x threads, one share each) */
	bool roofs;                      /* the copy bandwidths (the roofline) */
	bool fresh_roofs;                /* measure the host's again, not from the cache */
	struct tg_profile_opts profile;  /* how the run is profiled: recorded in params */
};

/* The defaults of `run`: every backend built in, exact and approx, 20 x
 * 1500 synthetic bars of seed 42, the stopping rule, 2 warm-up runs,
 * accuracy and roofs on. */
void tg_run_opts_default(struct tg_run_opts *o);
/* The parameters fit every mode, and series of min_bars bars (0: only the
 * parameters themselves). Messages name the option. */
int tg_run_check_params(const struct tg_run_opts *o, int32_t min_bars, struct tg_error *err);
/* The data the options name: the CSV file or directory (at least the
 * longest MA's bars), else the synthetic walks. */
int tg_run_load_data(const struct tg_run_opts *o, struct tg_dataset *ds, struct tg_error *err);
/* What the data is, beyond its shape, for the terminal: the selection,
 * the cut, reversed files, the timestamps' step and gaps (nothing for
 * synthetic data). */
struct tg_sink;
void tg_run_print_data_notes(struct tg_sink *so, const struct tg_run_opts *o,
			     const struct tg_dataset *ds);
/* The names of the profiling tags: 0 "main" (the loop itself), 1 + b
 * backend b. Returns the count. */
int tg_run_tags(const struct tg_run_opts *o, const char **tags, int cap);

/* Identity of a new result: kind ("run", "record"), command line, time,
 * machine (with the topology when `topology`), build, family names. */
void tg_run_results_start(struct tg_run_results *r, const char *kind, const char *command,
			  bool topology);
/* Every option that defines the run, as params. */
void tg_run_record_params(struct tg_run_results *r, const struct tg_run_opts *o,
			  const struct tg_dataset *ds);

/* What surrounds the loop. */
struct tg_run_env {
	struct tg_session *session;          /* NULL: not profiled */
	/* non-zero: stop after the run in flight; the value is the signal
	 * that asked (SIGINT, SIGTERM, SIGHUP), for the results */
	const volatile sig_atomic_t *stop;
	/* before each run of a state: its label ("cpu exact"), repetitions
	 * done, and the total when fixed (else 0); label NULL: a backend is
	 * done (a progress line can be cleared) */
	void (*progress)(void *ctx, const char *label, int done, int total);
	void *progress_ctx;
	/* the wall clock the repetitions are timed with; NULL: tg_clock_ns
	 * (tests give a clock of their own) */
	uint64_t (*clock_ns)(void);
	/* A run split across ranks (comm NULL or of size 1: one process). ds
	 * is this rank's share, symbols [split[rank], split[rank + 1]) of
	 * `whole` (every rank holds it: names, signals and agreement are over
	 * all symbols). Every rank takes the same decisions: a backend or a
	 * state that fails on one fails on all (with that rank's reason), each
	 * repetition starts at a barrier and counts as the slowest rank's time
	 * (each rank's own is kept), a stop signal seen by any stops all after
	 * the repetition in flight, and rank 0 receives the merged results
	 * (the others' r holds only their share). A rank that does not answer
	 * within the comm's timeout stops the job. */
	struct tg_comm *comm;
	const struct tg_dataset *whole;
	const int32_t *split;
};

/* Runs every backend x mode on ds into r: states in backend-then-mode
 * order (a backend not built in, unusable here or failing to open gets
 * unavailable states and a warning; the others go on), then per backend
 * its agreement with the first backend that ran each mode, and its
 * accuracy pass when it ran both modes. Returns 0; TG_E_INTERRUPTED when
 * env->stop stopped it (r marked incomplete); or the first error of a
 * state that failed (in err; r holds everything else). */
/* ---- per-symbol signals (run_signals.c) ---------------------------------- */

/* One row of a signals file: a symbol's answer from one backend in one MA
 * mode, and the exact answer it is compared with (compared_with "" or
 * NULL: none, the last three columns left empty). */
struct tg_signal_row {
	const char *symbol, *backend, *ma;
	int32_t bars;
	double last_average;  /* NaN written as NaN */
	int final_signal;     /* +1 LONG, -1 SHORT, 0 none */
	const char *compared_with; /* "cpu exact" */
	int exact_final;
};
/* The header line (newline included) and a row of the signals CSV. */
extern const char tg_signals_header[];
void tg_signals_write_row(struct tg_sink *s, const struct tg_signal_row *row);
/* run --signals PATH: every symbol x state that kept its signals, symbol
 * by symbol; an approx state is compared with its own backend's exact
 * one, an exact state with the first backend's. *rows: how many. */
int tg_run_write_signals(const struct tg_run_results *r, const struct tg_dataset *ds,
			 const char *path, int64_t *rows, struct tg_error *err);

int tg_run_bench(const struct tg_run_opts *o, const struct tg_dataset *ds,
		 const struct tg_run_env *env, struct tg_run_results *r, struct tg_error *err);

/* ---- a scale sweep ------------------------------------------------------------ */

/* `run --symbols 20,500,5000 --bars 1500,10000`: every combination is a run
 * of its own (a run directory under the sweep's, with its results.json,
 * history series and compare), and the sweep says, per MA mode, which
 * backend wins at each size, by how much, and where the ranking changes. */

#define TG_SWEEP_SCHEMA "trendgpu-bench/sweep"
#define TG_SWEEP_SCHEMA_VERSION 1
#define TG_SWEEP_MAX_AXIS 16
#define TG_SWEEP_MAX_POINTS (TG_SWEEP_MAX_AXIS * TG_SWEEP_MAX_AXIS)

/* One MA mode at one size: the fastest backend and the paired ratios of
 * every other against it ("mode" ratios of the run). clear: every ratio's
 * interval lies above 1 (a backend alone is never a clear winner). */
struct tg_sweep_mode {
	char ma[8];
	char winner[16];
	bool clear;
	struct tg_ratio ratios[TG_RUN_MAX_BACKENDS];
	int n_ratios;
};

struct tg_sweep_point {
	int32_t symbols, bars;
	char dir[64];          /* relative to the sweep's directory: "s20-b1500" */
	int exit_status;       /* the point's run (0 good) */
	bool measured;         /* it ran (a stopped sweep leaves the rest out) */
	struct tg_sweep_mode modes[TG_RUN_MAX_MODES];
	int n_modes;
};

/* Where the winner of a mode changes between two neighbouring sizes
 * (along symbols at fixed bars, or along bars at fixed symbols). */
struct tg_sweep_crossover {
	char ma[8];
	char along[8];                 /* "symbols" or "bars" */
	int32_t fixed;                 /* the other axis's value */
	int32_t from_at, to_at;        /* the two values along the axis */
	char from[16], to[16];         /* the winners ("" no clear winner) */
};

struct tg_sweep {
	char command[1024];
	char created_utc[32];
	bool complete;
	int32_t symbols[TG_SWEEP_MAX_AXIS], bars[TG_SWEEP_MAX_AXIS];
	int n_symbols, n_bars;
	struct tg_sweep_point points[TG_SWEEP_MAX_POINTS]; /* symbols outer, bars inner */
	int n_points;
};

/* "20,500,5000" into v (distinct, each in lo..hi, at most
 * TG_SWEEP_MAX_AXIS); errors name the option and the item. */
int tg_sweep_parse_list(const char *option, const char *list, int32_t lo, int32_t hi, int32_t *v,
			int *n, struct tg_error *err);
/* The point's winners from a finished run's results. */
void tg_sweep_point_from_results(const struct tg_run_results *r, struct tg_sweep_point *p);
/* Every change of a clear winner between neighbours; returns the count
 * (at most cap written). */
int tg_sweep_crossovers(const struct tg_sweep *s, struct tg_sweep_crossover *out, int cap);
/* "cpu, 1.17x [1.09, 1.26] ahead of rust" / "no clear winner (...)". */
void tg_sweep_mode_text(const struct tg_sweep_mode *m, char *buf, size_t cap);
/* sweep.json and summary.md into dir, each written whole or not at all. */
int tg_sweep_write(const struct tg_sweep *s, const char *dir, struct tg_error *err);
int tg_sweep_write_json(const struct tg_sweep *s, struct tg_sink *sink, struct tg_error *err);
int tg_sweep_write_md(const struct tg_sweep *s, struct tg_sink *sink, struct tg_error *err);
/* Reads what tg_sweep_write wrote (untrusted: every member checked, named
 * in errors): the points' sizes, directories and status; winners are not
 * read back (each point's results.json has the ratios). */
int tg_sweep_read_json(const char *text, size_t len, const char *source, struct tg_sweep *s,
		       struct tg_error *err);
int tg_sweep_load(const char *path, struct tg_sweep *s, struct tg_error *err);

/* ---- history ----------------------------------------------------------------- */

/* The trends of a run's workload read back from a history, for the report. */
struct tg_run_trends {
	struct tg_report_trend v[32];
	int n;
	double *values;
	struct tg_history_series *series;
	int n_series;
};

/* Appends r to the SQLite history at path (status "recorded" or
 * "incomplete") and reads back the last 30 points of its workload's series
 * into t (tg_run_trends_free frees them). */
int tg_run_history(const struct tg_run_results *r, const char *path, int64_t *run_id,
		   struct tg_run_trends *t, struct tg_error *err);
void tg_run_trends_free(struct tg_run_trends *t);

#ifdef __cplusplus
}
#endif

#endif
