/* `record -- COMMAND ...`: profiles any program, CUDA or not, by injection.
 * The agent (libtgrecord.so) is preloaded into COMMAND and named as its
 * NVTX and CUDA injection; it writes the raw capture into the run
 * directory when COMMAND exits, and this command renders it like
 * `run --profile`: trace.json, flame graphs, top.txt. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli_internal.h"
#include "tg_ranks.h"
#include "tg_clock.h"
#include "tg_log.h"
#include "tg_run.h"
#include "tg_str.h"

#define AGENT_NAME "libtgrecord.so"

/* The agent: --agent, $TG_RECORD_AGENT, next to this binary, or in
 * ../lib/trendgpu-bench/ of an installed binary. */
static int find_agent(const char *given, char *out, size_t cap, struct tg_error *err)
{
	const char *env = getenv("TG_RECORD_AGENT");
	const char *explicit_path = given ? given : env && *env ? env : NULL;
	if (explicit_path) {
		TG_FAIL_IF(!realpath(explicit_path, out), err, TG_E_IO,
			   "record: agent '%s': %s", explicit_path, strerror(errno));
		return 0;
	}
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	TG_FAIL_IF(n <= 0, err, TG_E_IO, "record: cannot find this binary: %s", strerror(errno));
	exe[n] = '\0';
	char *slash = strrchr(exe, '/');
	*slash = '\0';
	const char *const rel[] = {"/" AGENT_NAME, "/../lib/trendgpu-bench/" AGENT_NAME};
	for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
		snprintf(out, cap, "%s%s", exe, rel[i]);
		if (access(out, R_OK) == 0)
			return 0;
	}
	return TG_ERR(err, TG_E_IO,
		      "record: %s not found next to %s or in ../lib/trendgpu-bench (set "
		      "TG_RECORD_AGENT or --agent)",
		      AGENT_NAME, exe);
}

static void set_env(const char *name, const char *value)
{
	setenv(name, value, 1);
}

static volatile sig_atomic_t child_pid;

static volatile sig_atomic_t forwarded;

/* A stop signal goes to the program, whose agent writes what it recorded
 * and then stops as the signal asks; record waits for it. One the terminal
 * sent (Ctrl-C, a hang-up) reached the program too: it is not sent again,
 * which the agent would take for a second one (stop at once). */
static void forward(int sig, siginfo_t *si, void *ctx)
{
	(void)ctx;
	forwarded = sig;
	if (child_pid > 0 && si->si_code <= 0) /* SI_USER, SI_QUEUE, ...: sent to us */
		kill((pid_t)child_pid, sig);
}

int tg_cmd_record(int argc, char **argv)
{
	struct tg_profile_opts po;
	tg_profile_opts_default(&po, TG_PROFILE_BOTH);
	const char *out = NULL, *agent_opt = NULL;
	int32_t force = 0;
	struct tg_opt opts[10];
	int n_opts = tg_cli_profile_options(
		&po,
		"cpu (host stack samples), gpu (CUPTI: kernels, copies, CUDA calls with their "
		"launch stacks) or both (default); NVTX ranges are recorded in every mode",
		opts, 6);
	opts[n_opts++] = (struct tg_opt){"out", TG_OPT_STRING, &out, "DIR",
					 "run directory (default: a new profiles/record-<UTC time>)",
					 0, 0, NULL, 'o'};
	opts[n_opts++] = (struct tg_opt){"force", TG_OPT_FLAG, &force, NULL,
					 "let --out name a directory that holds a run already: its "
					 "outputs are removed first",
					 0, 0, NULL, 0};
	opts[n_opts++] = (struct tg_opt){"agent", TG_OPT_STRING, &agent_opt, "PATH",
					 "the recording agent (default: " AGENT_NAME
					 " next to this binary)",
					 0, 0, NULL, 0};
	const struct tg_opt_group groups[] = {{"Options", opts, n_opts}};
	const struct tg_cli_spec spec = {
		.command = "record",
		.usage = "record [--profile cpu|gpu|both] [--out DIR] -- COMMAND [ARGS...]",
		.description =
			"Runs COMMAND with the recording agent injected (LD_PRELOAD, "
			"NVTX_INJECTION64_PATH, CUDA_INJECTION64_PATH) and writes the same run "
			"directory as run --profile: trace.json (NVTX ranges, CUDA calls, kernels and "
			"copies per stream, sampled stacks), cpu.svg, gpu.svg, combined.svg, top.txt, "
			"summary.md and the raw capture. COMMAND's threads are sampled from start to "
			"exit; the capture is written when COMMAND exits normally. The exit status is "
			"COMMAND's.",
		.groups = groups,
		.n_groups = 1,
		.epilog = "Examples:\n  trendgpu-bench record -- ./my_cuda_app --size 1024\n"
			  "  trendgpu-bench record --profile cpu -o prof/py -- python3 train.py\n",
	};
	int dash = -1;
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--") == 0) {
			dash = i;
			break;
		}
	const char *pos[1];
	int n_pos = 0;
	int rc = tg_cli_parse_command(&spec, dash < 0 ? argc : dash, argv, pos, 0, &n_pos);
	if (rc != TG_CLI_CONTINUE)
		return rc;
	struct tg_error err;
	tg_error_clear(&err);
	if (dash < 0 || dash + 1 >= argc) {
		TG_ERR(&err, TG_E_INVAL, "expected the program to record after '--'");
		return tg_cli_usage_error("record", &err);
	}
	if (po.mode == TG_PROFILE_NONE) {
		TG_ERR(&err, TG_E_INVAL, "--profile none records nothing; use cpu, gpu or both");
		return tg_cli_usage_error("record", &err);
	}
	/* under mpirun, mpiexec or srun every rank records itself: into
	 * DIR/rank<R> of the job's folder, which must be named */
	struct tg_rank_info ri;
	char rank_out[PATH_MAX];
	if (tg_cli_rank(&ri) < 0)
		return TG_EXIT_FAILURE;
	if (ri.size > 1) {
		if (!out) {
			TG_ERR(&err, TG_E_INVAL,
			       "launched as rank %d of %d (%s): name the job's folder with --out DIR; "
			       "each rank records into DIR/rank<R>",
			       ri.rank, ri.size, tg_launcher_name(ri.launcher));
			return tg_cli_usage_error("record", &err);
		}
		snprintf(rank_out, sizeof(rank_out), "%s/rank%d", out, ri.rank);
		out = rank_out;
	}
	char agent[PATH_MAX];
	char **cmd = argv + dash + 1;
	/* the recorded command, without our own name in front */
	char command[1024];
	tg_cli_command_line(argc - dash - 1, cmd, command, sizeof(command));
	const size_t skip = strlen("trendgpu-bench ");
	struct tg_run_results res;
	tg_run_results_start(&res, "record",
			     strncmp(command, "trendgpu-bench ", skip) == 0 ? command + skip : command,
			     false);
	tg_cli_rank_results(&ri, &res);
	if (find_agent(agent_opt, agent, sizeof(agent), &err) < 0 ||
	    tg_rundir_make("record", out, force ? TG_RUNDIR_REPLACE : TG_RUNDIR_REFUSE,
			   res.run_dir, sizeof(res.run_dir), &err) < 0 ||
	    tg_rundir_mark_incomplete(res.run_dir, "trendgpu-bench record", &err) < 0) {
		tg_log_error(&err);
		tg_results_fini(&res);
		return TG_EXIT_FAILURE;
	}

	/* the child's environment */
	char abs_dir[PATH_MAX];
	if (!realpath(res.run_dir, abs_dir))
		tg_strlcpy(abs_dir, res.run_dir, sizeof(abs_dir));
	set_env("TG_RECORD_DIR", abs_dir);
	tg_profile_opts_to_env(&po);
	const char *pre = getenv("LD_PRELOAD");
	char preload[PATH_MAX * 2];
	snprintf(preload, sizeof(preload), "%s%s%s", agent, pre && *pre ? ":" : "", pre ? pre : "");
	set_env("LD_PRELOAD", preload);
	const char *nvtx = getenv("NVTX_INJECTION64_PATH");
	if (nvtx && *nvtx && strcmp(nvtx, agent) != 0)
		tg_warn("record: NVTX_INJECTION64_PATH=%s is kept: NVTX ranges go to that tool", nvtx);
	else
		set_env("NVTX_INJECTION64_PATH", agent);
	const char *cuda = getenv("CUDA_INJECTION64_PATH");
	if (po.mode != TG_PROFILE_CPU) {
		if (cuda && *cuda && strcmp(cuda, agent) != 0)
			tg_warn("record: CUDA_INJECTION64_PATH=%s is kept: GPU activity is not traced",
				cuda);
		else
			set_env("CUDA_INJECTION64_PATH", agent);
	}

	fflush(NULL);
	const uint64_t t0 = tg_clock_ns();
	pid_t pid = fork();
	if (pid < 0) {
		TG_ERR(&err, TG_E_IO, "record: fork failed: %s", strerror(errno));
		tg_log_error(&err);
		tg_results_fini(&res);
		return TG_EXIT_FAILURE;
	}
	if (pid == 0) {
		/* the program gets the SIGPIPE disposition it would have had */
		signal(SIGPIPE, SIG_DFL);
		char self[32];
		snprintf(self, sizeof(self), "%ld", (long)getpid());
		setenv("TG_RECORD_PID", self, 1); /* the agent records this pid, through exec */
		execvp(cmd[0], cmd);
		fprintf(stderr, "trendgpu-bench record: cannot run '%s': %s\n", cmd[0], strerror(errno));
		_exit(127);
	}
	child_pid = pid;
	forwarded = 0;
	struct sigaction old_sa[TG_CLI_STOP_SIGNALS];
	tg_cli_catch_stop_signals(forward, old_sa);
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	tg_cli_restore_stop_signals(old_sa);
	const double seconds = (double)(tg_clock_ns() - t0) * 1e-9;
	int child_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	if (WIFSIGNALED(status))
		tg_warn("record: '%s' was killed by signal %d", cmd[0], WTERMSIG(status));
	else if (child_code == 127)
		tg_warn("record: '%s' exited with 127 (command not found?)", cmd[0]);

	tg_results_param_text(&res, "recorded_command", res.command);
	tg_results_param_number(&res, "exit_status", child_code);
	tg_results_param_number(&res, "seconds", seconds);
	int exit_code = child_code;
	if (forwarded) {
		res.complete = false;
		snprintf(res.incomplete_reason, sizeof(res.incomplete_reason),
			 "interrupted by %s (passed on to the program, which stopped)",
			 tg_cli_signal_name((int)forwarded));
	}
	/* the results before rendering, then again with the profile's summary */
	struct tg_capture *cap = NULL;
	char *maps = NULL;
	rc = tg_rundir_adopt(res.run_dir, (long)pid, &err);
	if (rc == 0)
		rc = tg_rundir_read_capture(res.run_dir, &cap, &maps, &err);
	if (rc == 0) {
		tg_profile_info_from_capture(cap, &res.profile);
		if (tg_rundir_write_results(&res, NULL, 0, &err) < 0)
			tg_log_error(&err);
		rc = tg_rundir_render(cap, maps, res.run_dir, NULL, &res.profile, &err);
	}
	free(maps);
	tg_capture_free(cap);
	if (rc < 0) {
		tg_log_error(&err);
		res.complete = false;
		snprintf(res.incomplete_reason, sizeof(res.incomplete_reason), "%s", err.msg);
		if (exit_code == 0)
			exit_code = TG_EXIT_FAILURE;
	}
	if (tg_rundir_write_results(&res, NULL, 0, &err) < 0) {
		tg_log_error(&err);
		if (exit_code == 0)
			exit_code = TG_EXIT_FAILURE;
	}
	printf("recorded: %s (exit status %d, %.2f s)\nresults: %s/results.json\nsummary: "
	       "%s/summary.md\n",
	       res.command, child_code, seconds, res.run_dir, res.run_dir);
	if (rc == 0)
		tg_cli_print_profile_paths(res.run_dir, &res.profile);
	tg_results_fini(&res);
	return exit_code;
}
