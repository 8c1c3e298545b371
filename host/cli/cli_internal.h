/* The trendgpu-bench command line: option tables, the parser that reads
 * them, help generated from them, and the commands (one file each).
 */
#ifndef TG_CLI_INTERNAL_H
#define TG_CLI_INTERNAL_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "tg_error.h"
#include "tg_kernels.h"

enum tg_opt_type {
	TG_OPT_FLAG,   /* int32_t *dest = 1 */
	TG_OPT_INT,    /* int32_t *dest */
	TG_OPT_U64,    /* uint64_t *dest */
	TG_OPT_DOUBLE, /* double *dest */
	TG_OPT_STRING, /* const char **dest */
	TG_OPT_CHOICE, /* int32_t *dest = index into choices */
};

struct tg_opt {
	const char *name;   /* long name without "--" */
	enum tg_opt_type type;
	void *dest;
	const char *arg;    /* placeholder in help: "N", "FILE" */
	const char *help;
	double min, max;    /* numeric range, checked when min < max */
	const char *const *choices; /* TG_OPT_CHOICE: NULL-terminated */
	char short_name;    /* "-o" style alias, 0 for none */
};

struct tg_opt_group {
	const char *title;
	const struct tg_opt *opts;
	int n;
};

struct tg_cli_spec {
	const char *command;     /* "run" */
	const char *usage;       /* "run [options]" */
	const char *description; /* paragraph(s) */
	const struct tg_opt_group *groups;
	int n_groups;
	const char *epilog;      /* examples */
};

#define TG_CLI_HELP 1

/* Parses argv[1..argc) against spec. Returns 0, TG_CLI_HELP when --help was
 * given, or TG_E_INVAL with a message naming the option. Positional
 * arguments (and everything after "--") go to pos. */
int tg_cli_parse(const struct tg_cli_spec *spec, int argc, char **argv, const char **pos,
		 int max_pos, int *n_pos, struct tg_error *err);
void tg_cli_help(const struct tg_cli_spec *spec, FILE *f);
/* The start of every command: parses argv; --help prints the help. Returns
 * TG_CLI_CONTINUE when the command should go on, else the exit code to
 * return (0 after --help, TG_EXIT_USAGE after reporting a usage error). */
#define TG_CLI_CONTINUE (-1)
int tg_cli_parse_command(const struct tg_cli_spec *spec, int argc, char **argv, const char **pos,
			 int max_pos, int *n_pos);

/* tg_cli_parse_command for a command that takes exactly `want` (< 16)
 * positional arguments, described by `what` in the usage error ("two
 * results.json files"). */
int tg_cli_parse_args(const struct tg_cli_spec *spec, int argc, char **argv, const char **pos,
		      int want, const char *what);

/* The ATC parameter options shared by run and atc; returns how many were
 * written into opts (cap >= 24). */
int tg_cli_param_options(struct tg_atc_params *p, struct tg_opt *opts, int cap);

/* How price files load: --price, --timeframe, --select (cli_data.c). */
struct tg_cli_data {
	const char *price, *timeframe, *select; /* as given, NULL when not */
	int64_t timeframe_ms;                   /* --timeframe, by tg_cli_data_check */
	char help[3][256];
};
/* The three options into opts (cap at least 3), their help starting with
 * `with` ("with --data: "); returns how many. */
int tg_cli_data_options(struct tg_cli_data *d, const char *with, struct tg_opt *opts, int cap);
/* Checks --price and parses --timeframe. */
int tg_cli_data_check(struct tg_cli_data *d, struct tg_error *err);
/* The first of them given ("select", "price", "timeframe"), NULL when none. */
const char *tg_cli_data_given(const struct tg_cli_data *d);
/* The full command line, shell-quoted where needed. */
void tg_cli_command_line(int argc, char **argv, char *buf, size_t cap);

/* Exit codes of design §4. */
#define TG_EXIT_OK 0
#define TG_EXIT_FAILURE 1
#define TG_EXIT_USAGE 2
#define TG_EXIT_REGRESSION 3

/* Reports a usage error ("trendgpu-bench run: <msg>", then a pointer to
 * --help) and returns TG_EXIT_USAGE. */
int tg_cli_usage_error(const char *command, const struct tg_error *err);

/* This process's place under mpirun, mpiexec or srun (host/ranks: from the
 * launcher's environment); size 1 when not launched as one of several. A
 * bad launcher environment is logged: -1, the command fails. */
struct tg_rank_info;
struct tg_run_results;
int tg_cli_rank(struct tg_rank_info *ri);
/* that place, in the results (nothing for a single process) */
void tg_cli_rank_results(const struct tg_rank_info *ri, struct tg_run_results *res);

/* ---- profiling (cli_profile.c) ---- */

struct tg_profile_opts;
struct tg_profile_info;
/* The profiling options of run and record, one table: --profile (with
 * mode_help, which says what each mode gives that command), --sample-hz,
 * --sample-clock, --unwind, --include-idle, --trace-driver-api. Returns how
 * many were written into opts (cap >= 6). */
int tg_cli_profile_options(struct tg_profile_opts *p, const char *mode_help, struct tg_opt *opts,
			   int cap);
/* One line per main profile output that was written. */
void tg_cli_print_profile_paths(const char *dir, const struct tg_profile_info *p);

/* ---- stopping (cli_signals.c) ---- */

/* SIGINT, SIGTERM, SIGHUP: each asks a command to stop, writing what it has. */
#define TG_CLI_STOP_SIGNALS 3
extern const int tg_cli_stop_signals[TG_CLI_STOP_SIGNALS];
/* handler for all three (each blocked while it runs); the old actions go
 * to old, for tg_cli_restore_stop_signals. */
void tg_cli_catch_stop_signals(void (*handler)(int, siginfo_t *, void *),
			       struct sigaction old[TG_CLI_STOP_SIGNALS]);
void tg_cli_restore_stop_signals(const struct sigaction old[TG_CLI_STOP_SIGNALS]);
/* The default action again for all three, so that a second signal stops at
 * once; async-signal-safe (handlers call it). */
void tg_cli_default_stop_signals(void);
/* "SIGINT", "SIGTERM", "SIGHUP" */
const char *tg_cli_signal_name(int sig);
/* The exit status of a command a signal stopped: 128 + its number. */
#define TG_EXIT_SIGNAL(sig) (128 + (sig))

/* Commands return their exit code. */
int tg_cmd_run(int argc, char **argv);
int tg_cmd_flame(int argc, char **argv);
int tg_cmd_atc(int argc, char **argv);
int tg_cmd_info(int argc, char **argv);
int tg_cmd_record(int argc, char **argv);
int tg_cmd_report(int argc, char **argv);
int tg_cmd_compare(int argc, char **argv);
int tg_cmd_history(int argc, char **argv);

#endif
