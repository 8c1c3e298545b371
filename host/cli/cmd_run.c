/* `run`: the benchmark. For every backend x MA mode it warms up, repeats,
 * and records wall times; then it measures the accuracy of the approximate
 * MAs against the exact ones and the agreement of every backend with the
 * first, and writes results.json + summary.md into a new run directory.
 */
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli_internal.h"
#include "tg_accuracy.h"
#include "tg_clock.h"
#include "tg_data.h"
#include "tg_harness.h"
#include "tg_history.h"
#include "tg_log.h"
#include "tg_report.h"
#include "tg_str.h"
#include "tg_topo.h"

#define MAX_BACKENDS 8
/* Symbols per accuracy chunk: bounds the memory of the accuracy pass. */
#define ACCURACY_CHUNK 16

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
	(void)sig;
	interrupted = 1;
}

struct run_opts {
	const char *backends;
	const char *ma;
	int32_t symbols, bars;
	uint64_t seed;
	const char *data;
	int32_t threads, reps, warmup;
	struct tg_stop_rule rule;   /* when --reps is not given */
	double max_noise_pct;
	const char *out;
	const char *history;
	int32_t no_accuracy, quiet, pin;
	struct tg_atc_params params;
	struct tg_profile_opts profile;
};

static void progress(void *ctx, const char *label, int done, int total)
{
	(void)ctx;
	if (total > 0)
		fprintf(stderr, "\r\033[K[run] %s: %d/%d repetitions", label, done, total);
	else
		fprintf(stderr, "\r\033[K[run] %s: %d repetitions", label, done);
	fflush(stderr);
}

/* The names of the backends built into this binary, separated by sep. */
static void built_in_backends(char *buf, size_t cap, const char *sep)
{
	size_t used = 0;
	buf[0] = '\0';
	const struct tg_backend_ops *const *all = tg_backends();
	for (int k = 0; all[k] && used < cap; k++)
		used += (size_t)snprintf(buf + used, cap - used, "%s%s", k ? sep : "", all[k]->name);
}

static void record_params(struct tg_run_results *r, const struct run_opts *o,
			  const struct tg_dataset *ds, const char *const *backends, int nb,
			  const int *modes, int nm)
{
	const struct tg_atc_params *p = &o->params;
	char buf[160];
	size_t used = 0;
	buf[0] = '\0';
	for (int i = 0; i < nb && used < sizeof(buf); i++)
		used += (size_t)snprintf(buf + used, sizeof(buf) - used, "%s%s", i ? "," : "",
					 backends[i]);
	tg_results_param_text(r, "backends", buf);
	used = 0;
	buf[0] = '\0';
	for (int i = 0; i < nm && used < sizeof(buf); i++)
		used += (size_t)snprintf(buf + used, sizeof(buf) - used, "%s%s", i ? "," : "",
					 tg_ma_mode_name(modes[i]));
	tg_results_param_text(r, "ma", buf);
	tg_results_param_text(r, "data", ds->source);
	tg_results_param_number(r, "symbols", ds->n_symbols);
	tg_results_param_number(r, "bars", ds->stride);
	tg_results_param_number(r, "min_bars", tg_data_min_bars(ds));
	if (!o->data)
		tg_results_param_number(r, "seed", (double)o->seed);
	tg_results_param_number(r, "threads_requested", o->threads);
	tg_results_param_number(r, "warmup", o->warmup);
	tg_results_param_number(r, "reps", o->reps);
	tg_results_param_text(r, "stopping_rule",
			      o->reps > 0 ? "count" : "median noise, settled noise or time budget");
	tg_results_param_text(r, "pin", o->pin ? "on" : "off");
	tg_results_param_number(r, "min_reps", o->rule.min_samples);
	tg_results_param_number(r, "max_reps", o->rule.max_samples);
	tg_results_param_number(r, "min_time_s", o->rule.min_time_s);
	tg_results_param_number(r, "max_noise", o->rule.max_noise);
	tg_results_param_number(r, "max_time_s", o->rule.timeout_s);
	for (int f = 0; f < TG_ATC_FAMILIES; f++) {
		char key[32];
		snprintf(key, sizeof(key), "%s_len", tg_family_name(f));
		tg_results_param_number(r, key, p->length[f]);
	}
	for (int f = 0; f < TG_ATC_FAMILIES; f++) {
		char key[32];
		snprintf(key, sizeof(key), "%s_w", tg_family_name(f));
		tg_results_param_number(r, key, p->weight[f]);
	}
	tg_results_param_number(r, "lambda", p->lambda);
	tg_results_param_number(r, "decay", p->decay);
	tg_results_param_number(r, "cutout", p->cutout);
	tg_results_param_text(r, "robustness", tg_robustness_name(p->robustness));
	tg_results_param_number(r, "long_threshold", p->long_threshold);
	tg_results_param_number(r, "short_threshold", p->short_threshold);
	tg_results_param_number(r, "min_signal", p->min_signal);
	tg_results_param_text(r, "lsma_point", tg_lsma_point_name(p->lsma_point));
	tg_results_param_number(r, "strategy_mode", p->strategy_mode);
}

/* Exact vs approximate accuracy over all symbols, ACCURACY_CHUNK at a time. */
static int accuracy_pass(const struct tg_backend_ops *ops, void *state,
			 const struct tg_atc_params *base, const struct tg_dataset *ds,
			 struct tg_accuracy *acc_out, struct tg_error *err)
{
	const int32_t chunk = ds->n_symbols < ACCURACY_CHUNK ? ds->n_symbols : ACCURACY_CHUNK;
	const size_t plane = (size_t)chunk * (size_t)ds->stride;
	double *buf = malloc(2 * 14 * plane * sizeof(double));
	TG_FAIL_IF(!buf, err, TG_E_NOMEM, "run: out of memory for the accuracy pass (%zu MB)",
		   2 * 14 * plane * sizeof(double) >> 20);
	struct tg_atc_outputs o[2];
	for (int m = 0; m < 2; m++) {
		double *b = buf + (size_t)m * 14 * plane;
		memset(&o[m], 0, sizeof(o[m]));
		o[m].ma = b;
		o[m].l1_signal = b + 6 * plane;
		o[m].average = b + 12 * plane;
	}
	struct tg_accuracy_acc acc;
	tg_accuracy_acc_init(&acc);
	int rc = 0;
	for (int32_t first = 0; first < ds->n_symbols && rc == 0 && !interrupted; first += chunk) {
		int32_t count = ds->n_symbols - first < chunk ? ds->n_symbols - first : chunk;
		struct tg_batch b = tg_data_sub_batch(ds, first, count);
		for (int m = 0; m < 2 && rc == 0; m++) {
			struct tg_atc_params p = *base;
			p.ma_mode = m == 0 ? TG_MA_EXACT : TG_MA_APPROX;
			struct tg_backend_timing t;
			rc = ops->run(state, &p, &b, &o[m], &t, err);
		}
		if (rc == 0)
			tg_accuracy_acc_add(&acc, &b, &o[0], &o[1]);
	}
	free(buf);
	if (rc == 0 && interrupted)
		rc = TG_ERR(err, TG_E_INTERRUPTED, "run: interrupted during the accuracy pass");
	if (rc == 0) {
		tg_accuracy_acc_finish(&acc, acc_out);
		tg_strlcpy(acc_out->backend, ops->name, sizeof(acc_out->backend));
	}
	return rc;
}

/* Host buffers a backend moves fastest (page-locked for GPUs). */
static void *backend_alloc(const struct tg_backend_ops *ops, void *state, size_t bytes)
{
	return ops->host_alloc ? ops->host_alloc(state, bytes) : malloc(bytes);
}

static void backend_free(const struct tg_backend_ops *ops, void *state, void *p)
{
	if (ops->host_alloc)
		ops->host_free(state, p);
	else
		free(p);
}

static void mark_unavailable(struct tg_run_results *r, const char *backend, const int *modes,
			     int nm, const char *why)
{
	for (int m = 0; m < nm; m++) {
		struct tg_state_result *st = tg_results_add_state(r);
		if (!st)
			return;
		tg_strlcpy(st->backend, backend, sizeof(st->backend));
		tg_strlcpy(st->ma_mode, tg_ma_mode_name(modes[m]), sizeof(st->ma_mode));
		st->available = false;
		tg_strlcpy(st->error, why, sizeof(st->error));
	}
	tg_warn("run: backend %s skipped: %s", backend, why);
}

/* --pin: worker threads bound as they start, after the profiler's hook. */
struct pin_hooks {
	const struct tg_thread_hooks *inner;
	struct tg_pinner *pinner;
	struct tg_thread_hooks hooks;
	char where[64];
	_Atomic int failed;
};

static void pin_start(void *ctx, int worker)
{
	struct pin_hooks *h = ctx;
	if (h->inner && h->inner->on_start)
		h->inner->on_start(h->inner->ctx, worker);
	char where[64];
	struct tg_error err;
	if (tg_pin_worker(h->pinner, worker, where, sizeof(where), &err) < 0 &&
	    atomic_exchange(&h->failed, 1) == 0)
		tg_warn("run: --pin: %s", err.msg);
}

static void pin_stop(void *ctx, int worker)
{
	struct pin_hooks *h = ctx;
	if (h->inner && h->inner->on_stop)
		h->inner->on_stop(h->inner->ctx, worker);
}

int tg_cmd_run(int argc, char **argv)
{
	struct run_opts o = {
		.backends = "all", .ma = "exact,approx", .symbols = 20, .bars = 1500, .seed = 42,
		.threads = 0, .reps = 0, .warmup = 2,
	};
	tg_stop_rule_default(&o.rule);
	o.max_noise_pct = o.rule.max_noise * 100.0;
	tg_atc_params_default(&o.params);
	const struct tg_opt run_opts[] = {
		{"backends", TG_OPT_STRING, &o.backends, "LIST",
		 "comma-separated backends to compare, or all: every backend built in, one that "
		 "cannot run here reported and skipped (default all; 'trendgpu-bench info' lists "
		 "them)",
		 0, 0, NULL},
		{"ma", TG_OPT_STRING, &o.ma, "LIST", "MA modes: exact, approx or both (default exact,approx)",
		 0, 0, NULL},
		{"symbols", TG_OPT_INT, &o.symbols, "N", "synthetic symbols (default 20)", 1, 10000000,
		 NULL},
		{"bars", TG_OPT_INT, &o.bars, "B", "bars per synthetic symbol (default 1500)", 2,
		 100000000, NULL},
		{"seed", TG_OPT_U64, &o.seed, "S", "seed of the synthetic random walks (default 42)",
		 0, 0, NULL},
		{"data", TG_OPT_STRING, &o.data, "PATH",
		 "real data instead of synthetic: a CSV file, or a directory with one CSV per "
		 "symbol (header timestamp,open,high,low,close,volume; the close column is used)",
		 0, 0, NULL},
		{"threads", TG_OPT_INT, &o.threads, "T",
		 "worker threads of the CPU backends (default: one per available CPU)", 0, 4096,
		 NULL},
		{"reps", TG_OPT_INT, &o.reps, "R",
		 "exactly R timed repetitions per state (default: the stopping rule below decides)",
		 1, 1000000, NULL},
		{"min-reps", TG_OPT_INT, &o.rule.min_samples, "N",
		 "stopping rule: at least N repetitions (default 10)", 2, 1000000, NULL},
		{"max-reps", TG_OPT_INT, &o.rule.max_samples, "N",
		 "stopping rule: at most N repetitions (default 10000)", 2, 10000000, NULL},
		{"min-time", TG_OPT_DOUBLE, &o.rule.min_time_s, "S",
		 "stopping rule: at least S seconds of timed repetitions (default 0.5)", 0, 1e6, NULL},
		{"max-noise", TG_OPT_DOUBLE, &o.max_noise_pct, "PCT",
		 "stopping rule: stop when the median's relative standard error is under PCT % "
		 "(default 0.5), or when the noise has settled above it",
		 1e-6, 100, NULL},
		{"max-time", TG_OPT_DOUBLE, &o.rule.timeout_s, "S",
		 "stopping rule: time budget per state, warm-up included (default 15)", 0.001, 1e6,
		 NULL},
		{"warmup", TG_OPT_INT, &o.warmup, "W", "untimed warm-up runs per state (default 2)", 0,
		 1000000, NULL},
		{"out", TG_OPT_STRING, &o.out, "DIR",
		 "run directory to write (default: a new profiles/run-<UTC time>; TG_PROFILES_DIR "
		 "changes profiles/)",
		 0, 0, NULL},
		{"history", TG_OPT_STRING, &o.history, "FILE.db",
		 "append this run to a SQLite history ('trendgpu-bench history' shows the trends; "
		 "report.html draws them)",
		 0, 0, NULL},
		{"no-accuracy", TG_OPT_FLAG, &o.no_accuracy, NULL,
		 "skip the approx-vs-exact accuracy pass", 0, 0, NULL},
		{"quiet", TG_OPT_FLAG, &o.quiet, NULL, "print only the paths written", 0, 0, NULL},
		{"pin", TG_OPT_FLAG, &o.pin, NULL,
		 "bind CPU workers one per core (cores first, then their hardware threads) and a "
		 "GPU backend's host thread to the CPUs nearest its GPU",
		 0, 0, NULL},
	};
	static const char *const profile_modes[] = {"none", "cpu", "gpu", "both", NULL};
	static const char *const clocks[] = {"wall", "cpu", NULL};
	static const char *const unwinders[] = {"auto", "fp", "libunwind", "hybrid", NULL};
	const struct tg_opt prof_opts[] = {
		{"profile", TG_OPT_CHOICE, &o.profile.mode, NULL,
		 "none (default, zero overhead); cpu: sample the stacks of every benchmark thread "
		 "(flame graphs per backend and combined, differential flame graphs between "
		 "backends, top.txt, profile.speedscope.json); gpu: trace kernels, copies and CUDA "
		 "calls with CUPTI, each attributed to the CPU stack that launched it (gpu.svg); "
		 "both: one run with both, plus combined.svg. Every mode records NVTX ranges and "
		 "writes the unified timeline trace.json (Perfetto, chrome://tracing)",
		 0, 0, profile_modes},
		{"sample-hz", TG_OPT_INT, &o.profile.hz, "N",
		 "samples per second per thread (default 997)", 1, 100000, NULL},
		{"sample-clock", TG_OPT_CHOICE, &o.profile.clock, NULL,
		 "wall (default: CLOCK_MONOTONIC timers, waiting threads skipped) or cpu (thread "
		 "CPU time; the kernel tick limits the rate)",
		 0, 0, clocks},
		{"unwind", TG_OPT_CHOICE, &o.profile.unwind, NULL,
		 "auto = hybrid (default: frame pointers, the caller of a frameless leaf repaired "
		 "from a verified return address, libunwind where the chain breaks; ~1 us per "
		 "sample), fp (the frame-pointer chain alone) or libunwind (DWARF for every "
		 "sample: complete through libraries without frame pointers, 10-40 us per sample)",
		 0, 0, unwinders},
		{"include-idle", TG_OPT_FLAG, &o.profile.include_idle, NULL,
		 "keep wall-clock samples of threads that were waiting", 0, 0, NULL},
		{"trace-driver-api", TG_OPT_FLAG, &o.profile.driver_api, NULL,
		 "gpu modes: also trace CUDA driver API calls (nested under the runtime calls)", 0,
		 0, NULL},
	};
	struct tg_opt param_opts[32];
	int n_param = tg_cli_param_options(&o.params, param_opts, 32);
	const struct tg_opt_group groups[] = {
		{"Run options", run_opts, (int)(sizeof(run_opts) / sizeof(run_opts[0]))},
		{"Profiling", prof_opts, (int)(sizeof(prof_opts) / sizeof(prof_opts[0]))},
		{"ATC parameters (spec §1)", param_opts, n_param},
	};
	const struct tg_cli_spec spec = {
		.command = "run",
		.usage = "run [--backends LIST] [--ma exact,approx] [--symbols N --bars B | --data "
			 "PATH] [--threads T] [--reps R] [--out DIR] [parameters]",
		.description =
			"Benchmarks the ATC pipeline (54 moving averages, crossovers, two equity "
			"layers, Average_Signal) on every requested backend and MA mode. Each state "
			"gets warm-up runs, then timed repetitions of the wall time of one run over "
			"the whole batch. The table gives median / min / max / stddev, throughput in "
			"bar x MA updates per second, the speed-up of approximate over exact MAs, the "
			"accuracy of approximate against exact (MA relative error, Layer-1 signal "
			"agreement, Average_Signal sign agreement and max |delta|) and the agreement "
			"of every backend with the first. results.json and summary.md go to a new "
			"run directory. Ctrl-C stops after the run in flight and still writes the "
			"results, marked incomplete.",
		.groups = groups,
		.n_groups = 3,
		.epilog = "Examples:\n"
			  "  trendgpu-bench run\n"
			  "  trendgpu-bench run --backends cpu,rust --profile cpu\n"
			  "  trendgpu-bench run --backends cpu --ma exact --symbols 500 --bars 10000 "
			  "--threads 1\n"
			  "  trendgpu-bench run --data prices/ --reps 20 --out profiles/real\n",
	};

	struct tg_error err;
	tg_error_clear(&err);
	const char *pos[1];
	int n_pos;
	int rc = tg_cli_parse_command(&spec, argc, argv, pos, 0, &n_pos);
	if (rc != TG_CLI_CONTINUE)
		return rc;
	o.rule.max_noise = o.max_noise_pct / 100.0;
	o.rule.fixed = o.reps;
	if (o.reps == 0 && o.rule.max_samples < o.rule.min_samples) {
		TG_ERR(&err, TG_E_RANGE, "--max-reps %d is below --min-reps %d", o.rule.max_samples,
		       o.rule.min_samples);
		return tg_cli_usage_error("run", &err);
	}

	/* backends and modes */
	char bbuf[256], mbuf[64];
	if (strcmp(o.backends, "all") == 0)
		built_in_backends(bbuf, sizeof(bbuf), ",");
	else
		tg_strlcpy(bbuf, o.backends, sizeof(bbuf));
	tg_strlcpy(mbuf, o.ma, sizeof(mbuf));
	const char *bnames[MAX_BACKENDS], *mnames[4];
	int nb = tg_cli_split_list(bbuf, bnames, MAX_BACKENDS);
	int nm = tg_cli_split_list(mbuf, mnames, 4);
	if (nb < 0) {
		TG_ERR(&err, TG_E_INVAL, "--backends '%s': expected a comma-separated list such as cpu,rust",
		       o.backends);
		return tg_cli_usage_error("run", &err);
	}
	if (nm < 0) {
		TG_ERR(&err, TG_E_INVAL, "--ma '%s': expected exact, approx or exact,approx", o.ma);
		return tg_cli_usage_error("run", &err);
	}
	int modes[2];
	for (int i = 0; i < nm; i++) {
		modes[i] = tg_ma_mode_parse(mnames[i]);
		for (int j = 0; j < i; j++)
			if (modes[j] == modes[i])
				modes[i] = -2;
		if (modes[i] < 0 || i >= 2) {
			TG_ERR(&err, TG_E_INVAL, "--ma: '%s' is %s; expected exact and/or approx",
			       mnames[i], modes[i] == -2 ? "given twice" : "not a mode");
			return tg_cli_usage_error("run", &err);
		}
	}
	const struct tg_backend_ops *ops[MAX_BACKENDS];
	for (int i = 0; i < nb; i++) {
		ops[i] = tg_backend_find(bnames[i]);
		for (int j = 0; j < i; j++)
			if (strcmp(bnames[j], bnames[i]) == 0) {
				TG_ERR(&err, TG_E_INVAL, "--backends: '%s' is given twice", bnames[i]);
				return tg_cli_usage_error("run", &err);
			}
		if (!ops[i] && strcmp(bnames[i], "cuda") != 0 && strcmp(bnames[i], "rust") != 0) {
			char known[128];
			built_in_backends(known, sizeof(known), ", ");
			TG_ERR(&err, TG_E_INVAL, "--backends: unknown backend '%s'; this build has: %s",
			       bnames[i], known);
			return tg_cli_usage_error("run", &err);
		}
	}

	/* parameters: each mode must fit the data */
	for (int m = 0; m < nm; m++) {
		struct tg_atc_params p = o.params;
		p.ma_mode = modes[m];
		if (tg_atc_params_validate(&p, 0, &err) < 0)
			return tg_cli_usage_error("run", &err);
	}
	struct tg_atc_params longest = o.params;
	longest.ma_mode = TG_MA_EXACT;
	int32_t need = tg_atc_max_length(&longest);

	struct tg_dataset ds;
	if (o.data) {
		struct tg_load_opts lo = {.allow_nan = false,
					  .min_bars = need,
					  .min_bars_reason = "the longest moving average"};
		rc = tg_data_load(o.data, &lo, &ds, &err);
	} else {
		struct tg_synth_opts so = {.symbols = o.symbols, .bars = o.bars, .seed = o.seed};
		rc = tg_data_synthetic(&so, &ds, &err);
	}
	if (rc < 0) {
		tg_log_error(&err);
		return TG_EXIT_FAILURE;
	}
	for (int m = 0; m < nm; m++) {
		struct tg_atc_params p = o.params;
		p.ma_mode = modes[m];
		if (tg_atc_params_validate(&p, tg_data_min_bars(&ds), &err) < 0) {
			tg_data_free(&ds);
			return tg_cli_usage_error("run", &err);
		}
	}

	struct tg_run_results res;
	tg_results_init(&res);
	tg_cli_command_line(argc, argv, res.command, sizeof(res.command));
	tg_clock_format_utc(tg_clock_realtime_ns(), res.created_utc, sizeof(res.created_utc));
	tg_machine_probe(&res.machine);
	tg_topo_probe(&res.machine.topo, NULL);
	res.build = tg_build_info();
	for (int f = 0; f < TG_ATC_FAMILIES; f++)
		res.family_names[f] = tg_family_name(f);
	record_params(&res, &o, &ds, bnames, nb, modes, nm);
	if (tg_cli_make_run_dir("run", o.out, res.run_dir, sizeof(res.run_dir), &err) < 0) {
		tg_log_error(&err);
		tg_results_fini(&res);
		tg_data_free(&ds);
		return TG_EXIT_FAILURE;
	}

	/* Ctrl-C from here on: finish the run in flight, write what was measured */
	struct sigaction sa, old_sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigint;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_sa);
	interrupted = 0;

	/* the host's copy bandwidth: the roof of the CPU backends' traffic */
	{
		const int bw_threads = o.threads > 0 ? o.threads : tg_machine_cpu_count();
		struct tg_error bw_err;
		if (tg_host_copy_bandwidth(bw_threads, (size_t)256 << 20, &res.host_bw, res.host_bw_what,
					   sizeof(res.host_bw_what), &bw_err) < 0)
			tg_warn("run: host copy benchmark failed: %s", bw_err.msg);
	}

	struct tg_pinner *pinner = NULL;
	if (o.pin && tg_pinner_new(&pinner, &err) < 0) {
		tg_log_error(&err);
		sigaction(SIGINT, &old_sa, NULL);
		tg_results_fini(&res);
		tg_data_free(&ds);
		return TG_EXIT_FAILURE;
	}

	/* profiling: tag 0 is the main thread outside backends, 1 + b backend b */
	const char *tags[MAX_BACKENDS + 1];
	tags[0] = "main";
	for (int b = 0; b < nb; b++)
		tags[1 + b] = bnames[b];
	struct tg_profile *prof = NULL;
	if (o.profile.mode != TG_PROFILE_NONE &&
	    tg_profile_begin(&o.profile, tags, nb + 1, &prof, &err) < 0) {
		tg_log_error(&err);
		sigaction(SIGINT, &old_sa, NULL);
		tg_pinner_free(pinner);
		tg_results_fini(&res);
		tg_data_free(&ds);
		return TG_EXIT_FAILURE;
	}

	const int tty = isatty(2) && !o.quiet;
	const size_t cells = (size_t)ds.n_symbols * (size_t)ds.stride;
	/* Average_Signal of the reference backend (the first that ran) per mode */
	double *ref_avg = malloc(2 * cells * sizeof(double));
	const char *reference[2] = {NULL, NULL}; /* per mode */
	int exit_code = TG_EXIT_OK;
	if (!ref_avg) {
		tg_log(TG_LOG_ERROR, "run: out of memory for outputs of %d x %d bars", ds.n_symbols,
		       ds.stride);
		exit_code = TG_EXIT_FAILURE;
		goto done;
	}

	for (int b = 0; b < nb && !interrupted; b++) {
		tg_profile_set_tag(prof, 0, true);
		char why[256];
		if (!ops[b]) {
			snprintf(why, sizeof(why), "not built into this binary (configure with TG_WITH_%s=ON)",
				 strcmp(bnames[b], "cuda") == 0 ? "CUDA" : "RUST");
			mark_unavailable(&res, bnames[b], modes, nm, why);
			continue;
		}
		if (ops[b]->probe(why, sizeof(why)) < 0) {
			mark_unavailable(&res, bnames[b], modes, nm, why);
			continue;
		}
		void *state = NULL;
		struct tg_backend_config cfg = {.threads = o.threads, .device = 0,
						.hooks = tg_profile_hooks(prof, 1 + b)};
		struct pin_hooks pin = {.inner = cfg.hooks, .pinner = pinner};
		if (pinner) {
			pin.hooks = (struct tg_thread_hooks){pin_start, pin_stop, &pin};
			cfg.hooks = &pin.hooks;
		}
		tg_profile_set_tag(prof, 1 + b, true);
		if (ops[b]->open(&cfg, &state, &err) < 0) {
			mark_unavailable(&res, bnames[b], modes, nm, err.msg);
			continue;
		}
		/* the main thread only waits while a backend's own workers compute */
		tg_profile_set_tag(prof, 1 + b, ops[b]->threads(state) == 0);
		char placement[128] = "";
		if (pinner && ops[b]->threads(state) > 0) {
			snprintf(placement, sizeof(placement),
				 "workers bound one per CPU, cores first (--pin)");
		} else if (pinner && ops[b]->pci_bus_id) {
			/* the thread that drives the GPU runs next to it */
			char pci[32];
			struct tg_error pin_err;
			if (ops[b]->pci_bus_id(0, pci, sizeof(pci)) == 0 &&
			    tg_pin_near_pci(pinner, pci, placement, sizeof(placement), &pin_err) < 0) {
				tg_warn("run: --pin: %s", pin_err.msg);
				placement[0] = '\0';
			}
		}
		char device[160] = "";
		if (ops[b]->describe)
			ops[b]->describe(device, sizeof(device));
		if (ops[b]->copy_bandwidth && res.device_bw == 0) {
			struct tg_error bw_err;
			if (ops[b]->copy_bandwidth(state, &res.device_bw, res.device_bw_what,
						   sizeof(res.device_bw_what), &bw_err) < 0)
				tg_warn("run: %s copy benchmark failed: %s", ops[b]->name, bw_err.msg);
		}
		/* this backend's copy of the prices and its outputs, in the memory
		 * it moves fastest (outside the timed region) */
		double *close = backend_alloc(ops[b], state, cells * sizeof(double));
		double *cur_avg = backend_alloc(ops[b], state, 2 * cells * sizeof(double));
		int8_t *final_sig = backend_alloc(ops[b], state, (size_t)ds.n_symbols);
		if (!close || !cur_avg || !final_sig) {
			backend_free(ops[b], state, close);
			backend_free(ops[b], state, cur_avg);
			backend_free(ops[b], state, final_sig);
			ops[b]->close(state);
			snprintf(why, sizeof(why), "out of host memory for %d x %d bars", ds.n_symbols,
				 ds.stride);
			mark_unavailable(&res, bnames[b], modes, nm, why);
			exit_code = TG_EXIT_FAILURE;
			continue;
		}
		memcpy(close, ds.close, cells * sizeof(double));
		struct tg_batch batch = tg_data_batch(&ds);
		batch.close = close;
		int ran[2] = {0, 0};
		for (int m = 0; m < nm && !interrupted; m++) {
			struct tg_state_result *st = tg_results_add_state(&res);
			if (!st) {
				tg_log(TG_LOG_ERROR, "run: out of memory");
				exit_code = TG_EXIT_FAILURE;
				break;
			}
			tg_strlcpy(st->backend, ops[b]->name, sizeof(st->backend));
			tg_strlcpy(st->ma_mode, tg_ma_mode_name(modes[m]), sizeof(st->ma_mode));
			tg_strlcpy(st->device, device, sizeof(st->device));
			tg_strlcpy(st->placement, placement[0] ? placement : "unpinned",
				   sizeof(st->placement));
			struct tg_atc_params p = o.params;
			p.ma_mode = modes[m];
			struct tg_atc_outputs out;
			memset(&out, 0, sizeof(out));
			out.average = cur_avg + (size_t)modes[m] * cells;
			out.final_signal = final_sig;
			char label[48];
			snprintf(label, sizeof(label), "%s %s", ops[b]->name, tg_ma_mode_name(modes[m]));
			struct tg_harness_opts ho = {
				.warmup = o.warmup, .rule = o.rule, .stop = &interrupted,
				.progress = tty ? progress : NULL, .label = label,
			};
			/* compulsory traffic: the prices in, Average_Signal and the final
			 * signal out */
			st->bytes_moved = 2.0 * (double)cells * sizeof(double) + (double)ds.n_symbols;
			rc = tg_harness_measure(ops[b], state, &p, &batch, &out, &ho, st, &err);
			st->available = rc == 0 || (rc == TG_E_INTERRUPTED && st->n_samples > 0);
			if (rc < 0 && rc != TG_E_INTERRUPTED) {
				tg_strlcpy(st->error, err.msg, sizeof(st->error));
				tg_log_error(&err);
				exit_code = TG_EXIT_FAILURE;
			}
			ran[modes[m]] = rc == 0;
		}
		if (tty)
			fprintf(stderr, "\r\033[K");
		/* cross-backend agreement with the reference */
		for (int m = 0; m < nm && !interrupted; m++) {
			int mode = modes[m];
			if (!ran[mode])
				continue;
			if (!reference[mode]) {
				memcpy(ref_avg + (size_t)mode * cells, cur_avg + (size_t)mode * cells,
				       cells * sizeof(double));
				reference[mode] = ops[b]->name;
				continue;
			}
			struct tg_agreement_acc acc;
			tg_agreement_acc_init(&acc);
			tg_agreement_acc_add(&acc, &batch, ref_avg + (size_t)mode * cells,
					     cur_avg + (size_t)mode * cells);
			struct tg_agreement *g = tg_results_add_agreement(&res);
			if (g) {
				tg_agreement_acc_finish(&acc, g);
				tg_strlcpy(g->reference, reference[mode], sizeof(g->reference));
				tg_strlcpy(g->backend, ops[b]->name, sizeof(g->backend));
				tg_strlcpy(g->ma_mode, tg_ma_mode_name(mode), sizeof(g->ma_mode));
			}
		}
		if (ran[TG_MA_EXACT] && ran[TG_MA_APPROX] && !o.no_accuracy && !interrupted) {
			struct tg_accuracy *a = tg_results_add_accuracy(&res);
			if (a && accuracy_pass(ops[b], state, &o.params, &ds, a, &err) < 0) {
				res.n_accuracy--;
				if (err.code != TG_E_INTERRUPTED) {
					tg_log_error(&err);
					exit_code = TG_EXIT_FAILURE;
				}
			}
		}
		backend_free(ops[b], state, close);
		backend_free(ops[b], state, cur_avg);
		backend_free(ops[b], state, final_sig);
		ops[b]->close(state);
		if (pinner)
			tg_pin_restore(pinner);
		tg_profile_set_tag(prof, 0, true);
	}

done:
	if (interrupted) {
		res.complete = false;
		snprintf(res.incomplete_reason, sizeof(res.incomplete_reason),
			 "interrupted by SIGINT");
		if (isatty(2))
			fprintf(stderr, "\r\033[K");
		tg_log(TG_LOG_ERROR, "run: interrupted; writing partial results");
		exit_code = TG_EXIT_FAILURE;
	}
	sigaction(SIGINT, &old_sa, NULL);
	if (prof) {
		if (tg_profile_finish(prof, res.run_dir, &res.profile, &err) < 0) {
			tg_log_error(&err);
			exit_code = TG_EXIT_FAILURE;
		}
		tg_profile_free(prof);
	}
	/* the history: this run appended, the trends of its workload read back */
	struct tg_history_series *series = NULL;
	int n_series = 0;
	struct tg_report_trend trends[32];
	double *trend_values = NULL;
	int n_trends = 0;
	if (o.history) {
		struct tg_history *h = NULL;
		int64_t run_id = 0;
		char workload[4096];
		tg_history_workload(&res, workload, sizeof(workload));
		if (tg_history_open(o.history, &h, &err) < 0 ||
		    tg_history_append(h, &res, res.complete ? "recorded" : "incomplete", &run_id, &err) < 0 ||
		    tg_history_load(h, workload, res.machine.hostname, 30, &series, &n_series, &err) < 0) {
			tg_log_error(&err);
			exit_code = TG_EXIT_FAILURE;
		} else {
			printf("history: run %lld appended to %s\n", (long long)run_id, o.history);
			int total = 0;
			for (int i = 0; i < n_series; i++)
				total += series[i].n_points;
			trend_values = malloc((size_t)(total ? total : 1) * sizeof(double));
			for (int i = 0, k = 0; trend_values && i < n_series && n_trends < 32; i++) {
				trends[n_trends] = (struct tg_report_trend){series[i].backend, series[i].ma,
									    trend_values + k,
									    series[i].n_points};
				for (int p = 0; p < series[i].n_points; p++)
					trend_values[k++] = series[i].points[p].median;
				n_trends++;
			}
		}
		tg_history_close(h);
	}
	int wrote = tg_cli_write_results(&res, trends, n_trends, &err);
	free(trend_values);
	tg_history_series_free(series, n_series);
	if (wrote < 0) {
		tg_log_error(&err);
		exit_code = TG_EXIT_FAILURE;
	} else {
		if (!o.quiet) {
			struct tg_sink *so = tg_sink_open_stream(stdout, "<stdout>");
			if (so) {
				char how[160];
				if (o.reps > 0)
					snprintf(how, sizeof(how), "%d reps", o.reps);
				else
					snprintf(how, sizeof(how),
						 "reps until the median is known to %.2g%% (%d..%d reps, "
						 ">= %.2g s, <= %.3g s per state)",
						 o.rule.max_noise * 100, o.rule.min_samples, o.rule.max_samples,
						 o.rule.min_time_s, o.rule.timeout_s);
				tg_sink_printf(so, "workload: %d symbols x %d bars (%s), %s after %d warm-up\n\n",
					       ds.n_symbols, ds.stride, ds.source, how, o.warmup);
				tg_report_table(&res, so, &err);
				tg_sink_putc(so, '\n');
				tg_sink_close(so, NULL);
			}
		}
		printf("results: %s/results.json\nsummary: %s/summary.md\nreport: %s/report.html\n",
		       res.run_dir, res.run_dir, res.run_dir);
		if (res.profile.enabled)
			tg_cli_print_profile_paths(res.run_dir, &res.profile);
	}
	free(ref_avg);
	tg_pinner_free(pinner);
	tg_results_fini(&res);
	tg_data_free(&ds);
	return exit_code;
}
