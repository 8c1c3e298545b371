/* `run`: the benchmark. Options in, the run library (host/run) does the
 * work, the table out: every backend x MA mode warmed up and measured, the
 * accuracy of the approximate MAs, the agreement of every backend with the
 * first; results.json + summary.md in a new run directory. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_internal.h"
#include "tg_ranks.h"
#include "tg_clock.h"
#include "tg_comm.h"
#include "tg_config.h"
#include "tg_machine.h"
#include "tg_mem.h"
#include "tg_log.h"
#include "tg_run.h"
#include "tg_str.h"

static volatile sig_atomic_t interrupted;

/* SIGINT, SIGTERM, SIGHUP: the run in flight finishes, what was measured
 * is written; a second signal stops at once. */
static void on_signal(int sig, siginfo_t *si, void *ctx)
{
	(void)si;
	(void)ctx;
	interrupted = sig;
	tg_cli_default_stop_signals();
	/* said at once (write is async-signal-safe), the run stops soon after */
	static const char said[] = "\ntrendgpu-bench: stopping after the repetition in flight "
				   "(a second signal stops at once)\n";
	const int saved = errno;
	ssize_t w = write(2, said, sizeof(said) - 1);
	(void)w;
	errno = saved;
}

struct run_cli {
	struct tg_run_opts o;
	const char *backends, *ma, *out, *history, *max_time, *symbols, *bars;
	const char *signals;
	struct tg_cli_data data;
	/* the sizes: one of each is a run, more make a sweep */
	int32_t symbols_v[TG_SWEEP_MAX_AXIS], bars_v[TG_SWEEP_MAX_AXIS];
	int n_symbols, n_bars;
	double max_noise_pct;
	int32_t no_accuracy, quiet, pin, force, roofline;
	struct tg_profile_opts profile;
	/* under a launcher: this process's rank, the ranks' comm (NULL: one
	 * process) */
	struct tg_rank_info ri;
	struct tg_comm *comm;
};

/* Whether this rank or any other failed at `what` (every rank told the
 * same); rank 0 says which rank and why, each rank logs its own error.
 * One process: logs err when failed. */
static bool ranks_failed(struct tg_comm *comm, bool failed, const struct tg_error *err,
			 const char *what)
{
	char msg[512];
	tg_strlcpy(msg, failed ? err->msg : "", sizeof(msg));
	int who = -1;
	struct tg_error e;
	const int any = tg_comm_agree(comm, failed, msg, sizeof(msg), &who, what, &e);
	if (failed)
		tg_log_error(err);
	if (any < 0) {
		tg_log_error(&e);
		tg_comm_abort(comm, 1);
		return true;
	}
	if (any > 0 && tg_comm_size(comm) > 1 && tg_comm_rank(comm) == 0 && who != 0)
		tg_log(TG_LOG_ERROR, "run: rank %d of %d failed at %s: %s", who, tg_comm_size(comm),
		       what, msg);
	return any > 0;
}

static void progress(void *ctx, const char *label, int done, int total)
{
	(void)ctx;
	if (!label)
		fprintf(stderr, "\r\033[K");
	else if (total > 0)
		fprintf(stderr, "\r\033[K[run] %s: %d/%d repetitions", label, done, total);
	else
		fprintf(stderr, "\r\033[K[run] %s: %d repetitions", label, done);
	fflush(stderr);
}

static const char run_description[] =
	"Benchmarks the ATC pipeline (54 moving averages, crossovers, two equity layers, "
	"Average_Signal) on every requested backend and MA mode. Each state gets warm-up runs, "
	"then timed repetitions of the wall time of one run over the whole batch. The table "
	"gives median / min / max / stddev, throughput in bar x MA updates per second, the "
	"speed-up of approximate over exact MAs, the accuracy of approximate against exact (MA "
	"relative error, Layer-1 signal agreement, Average_Signal sign agreement and max "
	"|delta|) and the agreement of every backend with the first. results.json and "
	"summary.md go to a new run directory. Ctrl-C stops after the run in flight and still "
	"writes the results, marked incomplete.";

static const char profile_help[] =
	"none (default, zero overhead); cpu: sample the stacks of every benchmark thread (flame "
	"graphs per backend and combined, differential flame graphs between backends, top.txt, "
	"profile.speedscope.json); gpu: trace kernels, copies and CUDA calls with CUPTI, each "
	"attributed to the CPU stack that launched it (gpu.svg); both: one run with both, plus "
	"combined.svg. Every mode records NVTX ranges and writes the unified timeline "
	"trace.json (Perfetto, chrome://tracing)";

/* Parses argv into c; returns TG_CLI_CONTINUE or the exit code. */
static int parse(struct run_cli *c, int argc, char **argv)
{
	struct tg_run_opts *o = &c->o;
	const struct tg_opt run_opts[] = {
		{"backends", TG_OPT_STRING, &c->backends, "LIST",
		 "comma-separated backends to compare, or all: every backend built in, one that "
		 "cannot run here reported and skipped (default all; 'trendgpu-bench info' lists "
		 "them)",
		 0, 0, NULL},
		{"ma", TG_OPT_STRING, &c->ma, "LIST", "MA modes: exact, approx or both (default exact,approx)",
		 0, 0, NULL},
		{"symbols", TG_OPT_STRING, &c->symbols, "N[,N...]",
		 "synthetic symbols (default 20); a list (20,500,5000) sweeps: every combination "
		 "with --bars is a run of its own, and the sweep says which backend wins where",
		 0, 0, NULL},
		{"bars", TG_OPT_STRING, &c->bars, "B[,B...]",
		 "bars per synthetic symbol (default 1500); a list sweeps, as --symbols", 0, 0, NULL},
		{"seed", TG_OPT_U64, &o->seed, "S", "seed of the synthetic random walks (default 42)",
		 0, 0, NULL},
		{"data", TG_OPT_STRING, &o->data, "PATH",
		 "real data instead of synthetic: a CSV file, or a directory with one CSV per "
		 "symbol (header timestamp,open,high,low,close,volume; the close column is used; "
		 "times must increase). With it, --symbols N takes the first N symbols in name "
		 "order and --bars B the last B bars of each",
		 0, 0, NULL},
		{"threads", TG_OPT_INT, &o->threads, "T",
		 "worker threads of the CPU backends (default: one per available CPU)", 0, 4096,
		 NULL},
		{"reps", TG_OPT_INT, &o->reps, "R",
		 "exactly R timed repetitions per state (default: the stopping rule below decides)",
		 1, 1000000, NULL},
		{"min-reps", TG_OPT_INT, &o->rule.min_samples, "N",
		 "stopping rule: at least N repetitions (default 10)", 2, 1000000, NULL},
		{"max-reps", TG_OPT_INT, &o->rule.max_samples, "N",
		 "stopping rule: at most N repetitions (default 10000)", 2, 10000000, NULL},
		{"min-time", TG_OPT_DOUBLE, &o->rule.min_time_s, "S",
		 "stopping rule: at least S seconds of timed repetitions (default 0.5)", 0, 1e6, NULL},
		{"max-noise", TG_OPT_DOUBLE, &c->max_noise_pct, "PCT",
		 "stopping rule: stop when the median's relative standard error is under PCT % "
		 "(default 0.5), or when the noise has settled above it",
		 1e-6, 100, NULL},
		{"max-time", TG_OPT_STRING, &c->max_time, "S|auto",
		 "stopping rule: time budget per state, warm-up included (default 15); auto: "
		 "enough for --min-reps repetitions of the slowest state, planned from the "
		 "warm-ups (15 s at least)",
		 0, 0, NULL},
		{"warmup", TG_OPT_INT, &o->warmup, "W", "untimed warm-up runs per state (default 2)", 0,
		 1000000, NULL},
		{"out", TG_OPT_STRING, &c->out, "DIR",
		 "run directory to write (default: a new profiles/run-<UTC time>; TG_PROFILES_DIR "
		 "changes profiles/)",
		 0, 0, NULL},
		{"force", TG_OPT_FLAG, &c->force, NULL,
		 "let --out name a directory that holds a run already: its outputs are removed "
		 "first",
		 0, 0, NULL},
		{"roofline", TG_OPT_FLAG, &c->roofline, NULL,
		 "measure the host's copy bandwidth (the roofline's roof) now; otherwise it is "
		 "measured once per machine and kept in ~/.cache/trendgpu-bench ($TG_CACHE_DIR)",
		 0, 0, NULL},
		{"history", TG_OPT_STRING, &c->history, "FILE.db",
		 "append this run to a SQLite history ('trendgpu-bench history' shows the trends; "
		 "report.html draws them)",
		 0, 0, NULL},
		{"signals", TG_OPT_STRING, &c->signals, "FILE.csv",
		 "write each symbol's answer: one row per symbol x backend x MA mode with the "
		 "bars, the last Average_Signal, the final signal (LONG / SHORT / none) and "
		 "whether it agrees with the exact one",
		 0, 0, NULL},
		{"no-accuracy", TG_OPT_FLAG, &c->no_accuracy, NULL,
		 "skip the approx-vs-exact accuracy pass", 0, 0, NULL},
		{"quiet", TG_OPT_FLAG, &c->quiet, NULL, "print only the paths written", 0, 0, NULL},
		{"pin", TG_OPT_FLAG, &c->pin, NULL,
		 "bind CPU workers one per core (cores first, then their hardware threads) and a "
		 "GPU backend's host thread to the CPUs nearest its GPU",
		 0, 0, NULL},
	};
	struct tg_opt data_opts[4];
	int n_data = tg_cli_data_options(&c->data, "with --data: ", data_opts, 4);
	struct tg_opt prof_opts[8];
	int n_prof = tg_cli_profile_options(&c->profile, profile_help, prof_opts, 8);
	struct tg_opt param_opts[32];
	int n_param = tg_cli_param_options(&o->params, param_opts, 32);
	const struct tg_opt_group groups[] = {
		{"Run options", run_opts, (int)(sizeof(run_opts) / sizeof(run_opts[0]))},
		{"Data options", data_opts, n_data},
		{"Profiling", prof_opts, n_prof},
		{"ATC parameters (spec §1)", param_opts, n_param},
	};
	const struct tg_cli_spec spec = {
		.command = "run",
		.usage = "run [--backends LIST] [--ma exact,approx] [--symbols N --bars B] [--data "
			 "PATH [--select PATTERN]] [--threads T] [--reps R] [--out DIR] [parameters]",
		.description = run_description,
		.groups = groups,
		.n_groups = 4,
		.epilog = "Examples:\n"
			  "  trendgpu-bench run\n"
			  "  trendgpu-bench run --backends cpu,rust --profile cpu\n"
			  "  trendgpu-bench run --backends cpu --ma exact --symbols 500 --bars 10000 "
			  "--threads 1\n"
			  "  trendgpu-bench run --data prices/ --reps 20 --out profiles/real\n",
	};
	const char *pos[1];
	int n_pos;
	int rc = tg_cli_parse_command(&spec, argc, argv, pos, 0, &n_pos);
	if (rc != TG_CLI_CONTINUE)
		return rc;
	struct tg_error err;
	tg_error_clear(&err);
	o->rule.max_noise = c->max_noise_pct / 100.0;
	o->accuracy = !c->no_accuracy;
	o->fresh_roofs = c->roofline != 0;
	o->pin = c->pin != 0;
	o->profile = c->profile;
	c->symbols_v[0] = o->symbols;
	c->bars_v[0] = o->bars;
	c->n_symbols = c->n_bars = 1;
	if (c->symbols &&
	    tg_sweep_parse_list("symbols", c->symbols, 1, 10000000, c->symbols_v, &c->n_symbols,
				&err) < 0)
		return tg_cli_usage_error("run", &err);
	if (c->bars &&
	    tg_sweep_parse_list("bars", c->bars, 2, 100000000, c->bars_v, &c->n_bars, &err) < 0)
		return tg_cli_usage_error("run", &err);
	o->symbols = c->symbols_v[0];
	o->bars = c->bars_v[0];
	o->data_price = c->data.price;
	o->data_select = c->data.select;
	if (o->data) {
		o->data_symbols = c->symbols ? o->symbols : 0;
		o->data_bars = c->bars ? o->bars : 0;
	}
	if (c->signals && (c->n_symbols > 1 || c->n_bars > 1))
		TG_ERR(&err, TG_E_INVAL, "--signals writes the symbols of one run: it cannot go "
					 "with a sweep (--symbols or --bars with a list)");
	else if (o->data && (c->n_symbols > 1 || c->n_bars > 1))
		TG_ERR(&err, TG_E_INVAL, "a sweep (--symbols or --bars with a list) measures "
					 "synthetic data: it cannot go with --data");
	else if (tg_cli_data_given(&c->data) && !o->data)
		TG_ERR(&err, TG_E_INVAL, "--%s is about --data: give --data PATH too",
		       tg_cli_data_given(&c->data));
	else if (tg_cli_data_check(&c->data, &err) < 0)
		; /* said below */
	else if (c->max_time && strcmp(c->max_time, "auto") == 0) {
		o->auto_budget = true;
		if (o->warmup == 0 && o->reps == 0)
			TG_ERR(&err, TG_E_RANGE, "--max-time auto plans from the warm-ups: give "
						 "--warmup 1 or more");
	} else if (c->max_time) {
		char *end;
		const double v = strtod(c->max_time, &end);
		if (end == c->max_time || *end || !(v >= 0.001 && v <= 1e6))
			TG_ERR(&err, TG_E_RANGE,
			       "--max-time: expected seconds (0.001 to 1e6) or auto, got '%s'",
			       c->max_time);
		else
			o->rule.timeout_s = v;
	}
	if (err.code)
		; /* said below */
	else if (o->reps == 0 && o->rule.max_samples < o->rule.min_samples)
		TG_ERR(&err, TG_E_RANGE, "--max-reps %d is below --min-reps %d", o->rule.max_samples,
		       o->rule.min_samples);
	else if (tg_run_parse_backends(c->backends, o->backends, TG_RUN_MAX_BACKENDS,
				       &o->n_backends, &err) == 0 &&
		 tg_run_parse_modes(c->ma, o->modes, &o->n_modes, &err) == 0)
		tg_run_check_params(o, 0, &err);
	o->data_timeframe_ms = c->data.timeframe_ms;
	return err.code ? tg_cli_usage_error("run", &err) : TG_CLI_CONTINUE;
}

static void print_table(const struct run_cli *c, const struct tg_run_results *res,
			const struct tg_dataset *ds)
{
	struct tg_sink *so = tg_sink_open_stream(stdout, "<stdout>");
	if (!so)
		return;
	const struct tg_run_opts *o = &c->o;
	char how[160];
	if (o->reps > 0)
		snprintf(how, sizeof(how), "%d reps", o->reps);
	else {
		/* the budget the states had (planned by --max-time auto) */
		double budget = o->rule.timeout_s;
		for (int i = 0; i < res->n_states; i++)
			if (res->states[i].budget_s > budget)
				budget = res->states[i].budget_s;
		snprintf(how, sizeof(how),
			 "reps until the median is known to %.2g%% (%d..%d reps, >= %.2g s, <= %.3g s "
			 "per state%s)",
			 o->rule.max_noise * 100, o->rule.min_samples, o->rule.max_samples,
			 o->rule.min_time_s, budget, o->auto_budget ? ", planned" : "");
	}
	struct tg_data_shape sh;
	tg_data_shape(ds, &sh);
	if (sh.min_bars == sh.max_bars)
		tg_sink_printf(so, "workload: %d symbols x %d bars (%s), %s after %d warm-up\n",
			       ds->n_symbols, ds->stride, ds->source, how, o->warmup);
	else
		tg_sink_printf(so,
			       "workload: %d symbols, %d-%d bars (median %d; %lld bar-symbols) (%s), "
			       "%s after %d warm-up\n",
			       ds->n_symbols, sh.min_bars, sh.max_bars, sh.median_bars,
			       (long long)sh.total_bars, ds->source, how, o->warmup);
	tg_run_print_data_notes(so, &c->o, ds);
	tg_sink_putc(so, '\n');
	tg_report_table(res, so, NULL);
	tg_sink_putc(so, '\n');
	tg_sink_close(so, NULL); /* a failed stdout is reported at exit (main) */
}

/* A backend asked for by name that could not run fails the run (after the
 * others ran); `all` skips what cannot run here. Nothing measured at all
 * fails it too. */
static int check_measured(const struct run_cli *c, const struct tg_run_results *res)
{
	int measured = 0, missing = 0;
	const bool named = strcmp(c->backends, "all") != 0;
	for (int i = 0; i < res->n_states; i++) {
		const struct tg_state_result *st = &res->states[i];
		measured += st->available && st->n_samples > 0;
		if (named && !st->available && st->n_samples == 0 && !st->stop_reason &&
		    (i == 0 || strcmp(res->states[i - 1].backend, st->backend) != 0)) {
			tg_log(TG_LOG_ERROR, "run: backend %s was asked for and could not run: %s",
			       st->backend, st->error);
			missing++;
		}
	}
	if (measured == 0 && !interrupted)
		tg_log(TG_LOG_ERROR, "run: nothing was measured");
	return missing > 0 || (measured == 0 && !interrupted) ? -1 : 0;
}

/* The profiling session around the loop, when asked for. */
static int begin_profile(const struct run_cli *c, const char **tags, struct tg_session **s,
			 struct tg_error *err)
{
	*s = NULL;
	if (c->profile.mode == TG_PROFILE_NONE)
		return 0;
	struct tg_session_opts so = {.profile = c->profile, .tags = tags,
				     .process = "trendgpu-bench run"};
	so.n_tags = tg_run_tags(&c->o, tags, TG_RUN_MAX_BACKENDS + 1);
	return tg_session_begin(&so, s, err);
}

/* The session stopped and its capture taken: the profile summary of the
 * results written before rendering. */
static int end_profile(struct tg_session *s, struct tg_run_results *res, struct tg_capture **cap,
		       struct tg_error *err)
{
	TG_TRY(tg_session_end(s, cap, err));
	memset(&res->profile, 0, sizeof(res->profile));
	tg_profile_info_from_capture(*cap, &res->profile);
	return 0;
}

/* The capture written raw into dir (the run directory, or a rank's),
 * then rendered there; info receives the profile's summary. */
static int render_profile(struct tg_capture *cap, const char *dir, struct tg_profile_info *info,
			  struct tg_error *err)
{
	char *maps = NULL;
	int rc = tg_rundir_write_capture(dir, "", cap, &maps, err);
	if (rc == 0) {
		tg_info("run: rendering the profile");
		rc = tg_rundir_render(cap, maps, dir, NULL, info, err);
	}
	free(maps);
	return rc;
}

/* A profiled split run: every rank's capture into DIR/rank<R>, rendered
 * there with its own symbols; its clock against rank 0's from the
 * ping-pongs at the start (pairs[0..size)) and now (pairs[size..2 size)),
 * written by rank 0 beside each capture; then rank 0 merges the ranks
 * into DIR (trace.json, cpu.svg, cpu-ranks.svg, ranks.md). Frees the
 * session. Returns 0, or -1 when a rank failed (every rank told). */
static int profile_ranks(struct tg_comm *comm, struct tg_session *session,
			 struct tg_run_results *res, struct tg_clock_pair *pairs)
{
	const int rank = tg_comm_rank(comm), size = tg_comm_size(comm);
	struct tg_error err;
	tg_error_clear(&err);
	int rc = tg_comm_clock_pairs(comm, 16, pairs + size, &err);
	if (rc < 0) {
		tg_log_error(&err);
		tg_comm_abort(comm, 1);
	}
	struct tg_capture *cap = NULL;
	char dir[600];
	snprintf(dir, sizeof(dir), "%s/rank%d", res->run_dir, rank);
	if (rc == 0)
		rc = end_profile(session, res, &cap, &err);
	tg_session_free(session);
	if (rc == 0 && tg_make_dirs(dir) != 0)
		rc = TG_ERR(&err, TG_E_IO, "run: cannot create '%s': %s", dir, strerror(errno));
	if (rc == 0)
		rc = render_profile(cap, dir, &res->profile, &err);
	tg_capture_free(cap);
	for (int r = 1; rc == 0 && rank == 0 && r < size; r++) {
		char rdir[600];
		snprintf(rdir, sizeof(rdir), "%s/rank%d", res->run_dir, r);
		if (tg_make_dirs(rdir) != 0)
			rc = TG_ERR(&err, TG_E_IO, "run: cannot create '%s': %s", rdir, strerror(errno));
		else
			rc = tg_rank_clock_write(rdir, &pairs[r], &pairs[size + r], &err);
	}
	if (ranks_failed(comm, rc < 0, &err, "writing the ranks' profiles"))
		return -1;
	if (rank == 0) {
		tg_info("run: merging the profiles of %d ranks", size);
		if (tg_rundir_merge_ranks(res->run_dir, res->run_dir, size, &err) < 0) {
			tg_log_error(&err);
			return -1;
		}
	}
	return 0;
}

/* One size measured into its run directory (out, or a new one): data,
 * profile, the loop, results, history, the table. res receives the results
 * (the caller finishes it). Returns the exit status, signals aside. */
static int run_point(const struct run_cli *c, const char *command, const char *out,
		     struct tg_run_results *res)
{
	tg_results_init(res);
	struct tg_error err;
	tg_error_clear(&err);
	struct tg_comm *comm = c->comm;
	const int rank = tg_comm_rank(comm), size = tg_comm_size(comm);
	struct tg_dataset ds;
	/* every rank loads the batch (the names, signals and agreement are
	 * over all of it) and runs its share */
	const int loaded = tg_run_load_data(&c->o, &ds, &err);
	if (ranks_failed(comm, loaded < 0, &err, "loading the data")) {
		if (loaded == 0)
			tg_data_free(&ds);
		return TG_EXIT_FAILURE;
	}
	if (tg_run_check_params(&c->o, tg_data_min_bars(&ds), &err) < 0) {
		tg_data_free(&ds);
		return tg_cli_usage_error("run", &err);
	}
	int32_t *split = NULL;
	struct tg_dataset share = ds;
	if (size > 1) {
		if (ds.n_symbols < size) {
			TG_ERR(&err, TG_E_RANGE,
			       "%d symbols cannot be split across %d ranks: every rank needs one at "
			       "least (give --symbols %d or more, or fewer ranks)",
			       ds.n_symbols, size, size);
			tg_data_free(&ds);
			return tg_cli_usage_error("run", &err);
		}
		split = malloc((size_t)(size + 1) * sizeof(int32_t));
		if (!split || tg_ranks_split(ds.n_bars, ds.n_symbols, size, split, &err) < 0) {
			if (!split)
				TG_ERR(&err, TG_E_NOMEM, "run: out of memory");
			tg_log_error(&err);
			tg_comm_abort(comm, 1);
			free(split);
			tg_data_free(&ds);
			return TG_EXIT_FAILURE;
		}
		share = tg_data_share(&ds, split[rank], split[rank + 1] - split[rank]);
	}
	tg_results_fini(res);
	tg_run_results_start(res, "run", command, true);
	tg_run_record_params(res, &c->o, &ds);
	if (size > 1) {
		tg_results_param_number(res, "ranks", size);
		tg_cli_rank_results(&c->ri, res);
	}
	const char *tags[TG_RUN_MAX_BACKENDS + 1];
	struct tg_session *session = NULL;
	char what[160];
	snprintf(what, sizeof(what), "trendgpu-bench run, started %s", res->created_utc);
	/* rank 0 writes the run directory */
	int made = 0;
	if (rank == 0 && (tg_rundir_make("run", out, c->force ? TG_RUNDIR_REPLACE : TG_RUNDIR_REFUSE,
					 res->run_dir, sizeof(res->run_dir), &err) < 0 ||
			  tg_rundir_mark_incomplete(res->run_dir, what, &err) < 0))
		made = -1;
	/* every rank profiles itself */
	if (made == 0 && begin_profile(c, tags, &session, &err) < 0)
		made = -1;
	if (ranks_failed(comm, made < 0, &err, "creating the run directory")) {
		tg_session_free(session);
		free(split);
		tg_data_free(&ds);
		return TG_EXIT_FAILURE;
	}
	/* the clocks against rank 0's, at the start (a profiled split run) */
	struct tg_clock_pair *pairs = NULL;
	if (size > 1 && session) {
		pairs = calloc(2 * (size_t)size, sizeof(*pairs));
		if (!pairs || tg_comm_bcast(comm, res->run_dir, sizeof(res->run_dir), 0,
					    "the run directory", &err) < 0 ||
		    tg_comm_clock_pairs(comm, 16, pairs, &err) < 0) {
			if (!pairs)
				TG_ERR(&err, TG_E_NOMEM, "run: out of memory");
			tg_log_error(&err);
			tg_comm_abort(comm, 1);
			free(pairs);
			tg_session_free(session);
			free(split);
			tg_data_free(&ds);
			return TG_EXIT_FAILURE;
		}
	}
	const struct tg_run_env env = {.session = session, .stop = &interrupted,
				       .progress = isatty(2) && !c->quiet && rank == 0 ? progress : NULL,
				       .comm = comm, .whole = &ds, .split = split};
	int exit_code = TG_EXIT_OK;
	const int ran = tg_run_bench(&c->o, &share, &env, res, &err);
	free(split);
	int profiled = 0;
	if (pairs) { /* every rank's capture, then rank 0 merges them */
		profiled = profile_ranks(comm, session, res, pairs);
		session = NULL;
		free(pairs);
	}
	if (rank > 0) { /* rank 0 has the results; each rank logged its own errors */
		tg_data_free(&ds);
		return ran < 0 || profiled < 0 ? TG_EXIT_FAILURE : TG_EXIT_OK;
	}
	if (profiled < 0)
		exit_code = TG_EXIT_FAILURE;
	if (ran < 0) {
		/* a state's failure was reported as it happened */
		if (err.code == TG_E_INTERRUPTED) {
			if (env.progress)
				progress(NULL, NULL, 0, 0);
			tg_log_error(&err);
		}
		exit_code = TG_EXIT_FAILURE;
	}
	/* the results as soon as measuring ends, before any rendering: a kill
	 * while rendering loses no measurement */
	const int stopped_measuring = (int)interrupted;
	if (check_measured(c, res) < 0)
		exit_code = TG_EXIT_FAILURE;
	struct tg_capture *cap = NULL;
	if (session && end_profile(session, res, &cap, &err) < 0) {
		tg_log_error(&err);
		exit_code = TG_EXIT_FAILURE;
	}
	if ((session || c->history) && tg_rundir_write_results(res, NULL, 0, &err) < 0) {
		tg_log_error(&err);
		exit_code = TG_EXIT_FAILURE;
	}
	if (cap && render_profile(cap, res->run_dir, &res->profile, &err) < 0) {
		tg_log_error(&err);
		exit_code = TG_EXIT_FAILURE;
	}
	tg_capture_free(cap);
	tg_session_free(session);
	if (interrupted && !stopped_measuring)
		tg_warn("run: %s after measuring: the results are complete; stopping",
			tg_cli_signal_name((int)interrupted));
	struct tg_run_trends trends = {0};
	if (c->history) {
		int64_t run_id = 0;
		if (tg_run_history(res, c->history, &run_id, &trends, &err) < 0) {
			tg_log_error(&err);
			exit_code = TG_EXIT_FAILURE;
		} else {
			printf("history: run %lld appended to %s\n", (long long)run_id, c->history);
		}
	}
	if (tg_rundir_write_results(res, trends.v, trends.n, &err) < 0) {
		tg_log_error(&err);
		exit_code = TG_EXIT_FAILURE;
	} else {
		if (!c->quiet)
			print_table(c, res, &ds);
		printf("results: %s/results.json\nsummary: %s/summary.md\nreport: %s/report.html\n",
		       res->run_dir, res->run_dir, res->run_dir);
		if (res->profile.enabled && res->n_rank_results > 1)
			printf("profile: every rank's in %s/rank<R>; merged: %s/trace.json (a process per "
			       "rank), %s/cpu.svg, %s/cpu-ranks.svg (by rank), %s/ranks.md\n",
			       res->run_dir, res->run_dir, res->run_dir, res->run_dir, res->run_dir);
		else if (res->profile.enabled)
			tg_cli_print_profile_paths(res->run_dir, &res->profile);
	}
	int64_t rows = 0;
	if (c->signals && tg_run_write_signals(res, &ds, c->signals, &rows, &err) < 0) {
		tg_log_error(&err);
		exit_code = TG_EXIT_FAILURE;
	} else if (c->signals) {
		printf("signals: %s (%lld rows: %d symbols x the states that ran)\n", c->signals,
		       (long long)rows, ds.n_symbols);
	}
	tg_run_trends_free(&trends);
	tg_data_free(&ds);
	return exit_code;
}

/* Every combination of --symbols x --bars, each a run in a directory of
 * its own under the sweep's; sweep.json and summary.md rewritten after
 * each, so a stopped sweep keeps what it measured. */
static int run_sweep(struct run_cli *c, const char *command)
{
	struct tg_sweep *sw = calloc(1, sizeof(*sw));
	if (!sw) {
		tg_log(TG_LOG_ERROR, "run: out of memory for the sweep");
		return TG_EXIT_FAILURE;
	}
	tg_strlcpy(sw->command, command, sizeof(sw->command));
	tg_clock_format_utc(tg_clock_realtime_ns(), sw->created_utc, sizeof(sw->created_utc));
	memcpy(sw->symbols, c->symbols_v, sizeof(sw->symbols));
	memcpy(sw->bars, c->bars_v, sizeof(sw->bars));
	sw->n_symbols = c->n_symbols;
	sw->n_bars = c->n_bars;
	char dir[512];
	struct tg_error err;
	tg_error_clear(&err);
	if (tg_rundir_make("sweep", c->out, c->force ? TG_RUNDIR_REPLACE : TG_RUNDIR_REFUSE, dir,
			   sizeof(dir), &err) < 0) {
		tg_log_error(&err);
		free(sw);
		return TG_EXIT_FAILURE;
	}
	int exit_code = TG_EXIT_OK;
	for (int i = 0; i < c->n_symbols; i++)
		for (int k = 0; k < c->n_bars; k++) {
			struct tg_sweep_point *p = &sw->points[sw->n_points++];
			p->symbols = c->symbols_v[i];
			p->bars = c->bars_v[k];
			snprintf(p->dir, sizeof(p->dir), "s%d-b%d", p->symbols, p->bars);
			if (interrupted)
				continue; /* in sweep.json, not measured */
			c->o.symbols = p->symbols;
			c->o.bars = p->bars;
			if (!c->quiet)
				printf("== %d symbols x %d bars (%d of %d)\n", p->symbols, p->bars,
				       sw->n_points, c->n_symbols * c->n_bars);
			fflush(stdout);
			char out[1024];
			snprintf(out, sizeof(out), "%s/%s", dir, p->dir);
			struct tg_run_results res;
			p->exit_status = run_point(c, command, out, &res);
			if (p->exit_status > exit_code)
				exit_code = p->exit_status;
			if (res.n_states > 0)
				tg_sweep_point_from_results(&res, p);
			tg_results_fini(&res);
			if (!c->quiet)
				putchar('\n');
			if (tg_sweep_write(sw, dir, &err) < 0) {
				tg_log_error(&err);
				exit_code = TG_EXIT_FAILURE;
			}
		}
	sw->complete = !interrupted;
	for (int i = 0; i < sw->n_points; i++)
		sw->complete &= sw->points[i].measured;
	if (tg_sweep_write(sw, dir, &err) < 0) {
		tg_log_error(&err);
		exit_code = TG_EXIT_FAILURE;
	} else {
		if (!c->quiet) {
			struct tg_sink *so = tg_sink_open_stream(stdout, "<stdout>");
			if (so) {
				tg_sweep_write_md(sw, so, NULL);
				tg_sink_putc(so, '\n');
				tg_sink_close(so, NULL);
			}
		}
		printf("sweep: %s/sweep.json\nsummary: %s/summary.md\n", dir, dir);
	}
	free(sw);
	return exit_code;
}

/* A run under mpirun / srun: MPI started, the options that cannot be
 * split refused, each rank's threads a share of its host's CPUs. Returns
 * TG_CLI_CONTINUE or the exit status. */
static int open_ranks(struct run_cli *c, struct tg_comm *comm)
{
	struct tg_error err;
	tg_error_clear(&err);
	struct tg_rank_info *ri = &c->ri;
#if TG_HAVE_MPI
	if (c->n_symbols > 1 || c->n_bars > 1)
		TG_ERR(&err, TG_E_UNSUPPORTED,
		       "a sweep (--symbols or --bars with a list) cannot be split across ranks yet: "
		       "run each size under mpirun, or the sweep in one process");
	if (err.code)
		return tg_cli_usage_error("run", &err);
	if (tg_comm_mpi_open(comm, NULL, NULL, &err) < 0) {
		tg_log_error(&err);
		return TG_EXIT_FAILURE;
	}
	c->comm = comm;
	if (comm->size != ri->size)
		tg_warn("run: the launcher's environment (%s) says rank %d of %d, but MPI started %d "
			"process%s: %s",
			tg_launcher_name(ri->launcher), ri->rank, ri->size, comm->size,
			comm->size == 1 ? "" : "es",
			comm->size == 1 ? "running alone, the whole batch in this process"
					: "splitting across MPI's ranks");
	/* MPI's numbering is the one the batch is split by */
	c->ri.rank = comm->rank;
	c->ri.size = comm->size;
	c->ri.local_rank = comm->local_rank;
	c->ri.local_size = comm->local_size;
	char name[64];
	snprintf(name, sizeof(name), "trendgpu-bench[rank %d]", comm->rank);
	tg_log_set_program(name);
	/* the others say only what goes wrong: rank 0 speaks for the run */
	if (comm->rank > 0 && !getenv("TG_LOG_LEVEL"))
		tg_log_set_level(TG_LOG_ERROR);
	/* each rank on a host drives the GPU of its local rank */
	if (comm->local_rank > 0)
		c->o.device = comm->local_rank;
	/* ranks on one host share its CPUs */
	const int local = comm->local_size > 0 ? comm->local_size : ri->local_size;
	if (c->o.threads == 0 && local > 1) {
		const int cpus = tg_machine_cpu_count();
		c->o.threads = cpus / local > 0 ? cpus / local : 1;
		tg_info("run: %d ranks on this host: %d worker threads each", local, c->o.threads);
	}
	/* --pin: each rank's workers on CPUs of their own */
	if (comm->local_rank > 0 && c->o.threads > 0)
		c->o.pin_first = comm->local_rank * c->o.threads;
	return TG_CLI_CONTINUE;
#else
	(void)comm;
	TG_ERR(&err, TG_E_UNSUPPORTED,
	       "launched as rank %d of %d (%s), but this binary was built without MPI "
	       "(TG_WITH_MPI; Debian libopenmpi-dev): it cannot split the batch across ranks, "
	       "and every rank would run the whole batch and time it alone. Rebuild with MPI, "
	       "run one process, or profile each rank of an MPI program with 'record --out DIR "
	       "-- PROGRAM'",
	       ri->rank, ri->size, tg_launcher_name(ri->launcher));
	return tg_cli_usage_error("run", &err);
#endif
}

int tg_cmd_run(int argc, char **argv)
{
	struct run_cli c = {.backends = "all", .ma = "exact,approx"};
	tg_run_opts_default(&c.o);
	c.max_noise_pct = c.o.rule.max_noise * 100.0;
	tg_profile_opts_default(&c.profile, TG_PROFILE_NONE);
	int rc = parse(&c, argc, argv);
	if (rc != TG_CLI_CONTINUE)
		return rc;
	/* under a launcher: the batch split across the ranks */
	if (tg_cli_rank(&c.ri) < 0)
		return TG_EXIT_FAILURE;
	struct tg_comm comm;
	if (c.ri.size > 1) {
		rc = open_ranks(&c, &comm);
		if (rc != TG_CLI_CONTINUE)
			return rc;
	}

	/* a stop signal from here on: what the run has done so far finishes,
	 * what was measured is written (and rendered); before the run
	 * directory exists nothing is lost by stopping at once */
	struct sigaction old_sa[TG_CLI_STOP_SIGNALS];
	interrupted = 0;
	tg_cli_catch_stop_signals(on_signal, old_sa);
	char command[1024];
	tg_cli_command_line(argc, argv, command, sizeof(command));
	int exit_code;
	if (c.n_symbols > 1 || c.n_bars > 1) {
		exit_code = run_sweep(&c, command);
	} else {
		struct tg_run_results res;
		exit_code = run_point(&c, command, c.out, &res);
		tg_results_fini(&res);
	}
	tg_cli_restore_stop_signals(old_sa);
	if (c.comm) {
		/* the ranks end together: rank 0 is done writing */
		struct tg_error e;
		if (tg_comm_barrier(c.comm, "the end of the run", &e) < 0) {
			tg_log_error(&e);
			tg_comm_abort(c.comm, 1);
		}
#if TG_HAVE_MPI
		tg_comm_mpi_close(c.comm);
#endif
	}
	/* stopped by a signal: the exit status says which */
	return interrupted ? TG_EXIT_SIGNAL(interrupted) : exit_code;
}
