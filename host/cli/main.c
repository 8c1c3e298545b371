/* trendgpu-bench: one binary, one command per file. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* fopencookie */
#endif
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli_internal.h"
#include "tg_config.h"
#include "tg_log.h"

struct command {
	const char *name;
	const char *summary;
	int (*fn)(int argc, char **argv);
};

static const struct command commands[] = {
	{"run", "benchmark the ATC pipeline on every backend and MA mode", tg_cmd_run},
	{"atc", "run the pipeline on one CSV series and write every column (conformance)",
	 tg_cmd_atc},
	{"compare", "compare two runs state by state: ratio, interval, U test, verdict (exit 3 on a regression)",
	 tg_cmd_compare},
	{"history", "trends and change points of the runs stored with run --history", tg_cmd_history},
	{"record", "profile any program (CUDA or not) by injection: timeline, flame graphs",
	 tg_cmd_record},
	{"report", "re-render a profiled run directory from its raw capture", tg_cmd_report},
	{"flame", "render folded stacks as an interactive or differential flame graph", tg_cmd_flame},
	{"info", "build features, backends available here, machine", tg_cmd_info},
};
#define N_COMMANDS ((int)(sizeof(commands) / sizeof(commands[0])))

static void usage(FILE *f)
{
	fprintf(f, "usage: trendgpu-bench <command> [options]\n\n"
		   "A GPU-aware benchmark and profiler for the Adaptive Trend Classification\n"
		   "indicator on C, CUDA and Rust backends.\n\ncommands:\n");
	for (int i = 0; i < N_COMMANDS; i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\nOptions without a command are run's: 'trendgpu-bench --profile both'.\n"
		   "'trendgpu-bench <command> --help' describes each command;\n"
		   "'trendgpu-bench --version' prints the version.\n");
}

/* Standard output through a stream that remembers why its first write
 * failed: stdio keeps only an error flag, and by the time the output is
 * closed errno says something else (output longer than one buffer failed
 * long before the end). */
static int stdout_errno;

static ssize_t stdout_write(void *cookie, const char *buf, size_t n)
{
	(void)cookie;
	size_t done = 0;
	while (done < n) {
		const ssize_t w = write(STDOUT_FILENO, buf + done, n - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (!stdout_errno)
				stdout_errno = w < 0 ? errno : EIO;
			return done ? (ssize_t)done : -1;
		}
		done += (size_t)w;
	}
	return (ssize_t)done;
}

static void open_stdout(void)
{
	cookie_io_functions_t io = {.write = stdout_write};
	FILE *f = fopencookie(NULL, "w", io);
	if (!f)
		return; /* keep the plain stream */
	setvbuf(f, NULL, isatty(STDOUT_FILENO) ? _IOLBF : _IOFBF, BUFSIZ);
	fflush(stdout);
	stdout = f;
}

/* What went to standard output reached it: a full disk, a closed pipe or
 * any write error is a failure (exit 1), said on stderr. */
static int close_stdout(int rc)
{
	errno = 0;
	if (fflush(stdout) == 0 && !ferror(stdout) && fclose(stdout) == 0)
		return rc;
	const int e = stdout_errno ? stdout_errno : errno ? errno : EIO;
	fprintf(stderr, "trendgpu-bench: error: writing to standard output: %s\n", strerror(e));
	return rc == TG_EXIT_OK ? TG_EXIT_FAILURE : rc;
}

static int dispatch(int argc, char **argv);

/* Edit distance of two short words (case-sensitive). */
static int distance(const char *a, const char *b)
{
	int prev[32], cur[32];
	const int lb = (int)strlen(b);
	if (lb >= 31 || strlen(a) >= 31)
		return 99;
	for (int j = 0; j <= lb; j++)
		prev[j] = j;
	for (int i = 1; a[i - 1]; i++) {
		cur[0] = i;
		for (int j = 1; j <= lb; j++) {
			const int sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
			const int del = prev[j] + 1, ins = cur[j - 1] + 1;
			cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
		}
		memcpy(prev, cur, sizeof(prev));
	}
	return prev[lb];
}

/* The command a mistyped one most likely meant, or NULL. */
static const char *did_you_mean(const char *cmd)
{
	const char *best = NULL;
	int best_d = 3; /* up to 2 edits */
	for (int i = 0; i < N_COMMANDS; i++) {
		const int d = distance(cmd, commands[i].name);
		if (d < best_d) {
			best_d = d;
			best = commands[i].name;
		}
	}
	return best;
}

int main(int argc, char **argv)
{
	/* a closed pipe is an error to report, not a silent death */
	signal(SIGPIPE, SIG_IGN);
	open_stdout();
	return close_stdout(dispatch(argc, argv));
}

static int dispatch(int argc, char **argv)
{
	struct tg_error err;
	tg_error_clear(&err);
	if (tg_log_level_from_env(&err) < 0)
		tg_log_error(&err);
	if (argc < 2) {
		usage(stderr);
		return TG_EXIT_USAGE;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
		if (strcmp(cmd, "help") == 0 && argc > 2) {
			for (int i = 0; i < N_COMMANDS; i++)
				if (strcmp(argv[2], commands[i].name) == 0) {
					char *help_argv[] = {argv[2], "--help", NULL};
					return commands[i].fn(2, help_argv);
				}
			fprintf(stderr, "trendgpu-bench: unknown command '%s'\n", argv[2]);
			return TG_EXIT_USAGE;
		}
		usage(stdout);
		return TG_EXIT_OK;
	}
	if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
		printf("trendgpu-bench %s (commit %s)\n", TG_VERSION, TG_GIT_COMMIT);
		return TG_EXIT_OK;
	}
	for (int i = 0; i < N_COMMANDS; i++)
		if (strcmp(cmd, commands[i].name) == 0)
			return commands[i].fn(argc - 1, argv + 1);
	/* options without a command are run's: `trendgpu-bench --profile both` */
	if (cmd[0] == '-' && cmd[1] == '-') {
		argv[0] = "run";
		return tg_cmd_run(argc, argv);
	}
	const char *guess = did_you_mean(cmd);
	if (guess)
		fprintf(stderr, "trendgpu-bench: unknown command '%s'; did you mean '%s'?\n\n", cmd,
			guess);
	else
		fprintf(stderr, "trendgpu-bench: unknown command '%s'\n\n", cmd);
	usage(stderr);
	return TG_EXIT_USAGE;
}
