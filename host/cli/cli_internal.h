/* The trendgpu-bench command line: option tables, the parser that reads
 * them, help generated from them, and the commands (one file each).
 */
#ifndef TG_CLI_INTERNAL_H
#define TG_CLI_INTERNAL_H

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
/* Splits "a,b,c" into at most cap items (pointers into buf, which is
 * modified); returns the count or TG_E_INVAL for an empty item. */
int tg_cli_split_list(char *buf, const char **items, int cap);
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

/* ---- run directories (cli_rundir.c) ---- */

/* profiles/<command>-<UTC stamp>[-N] (TG_PROFILES_DIR replaces profiles/),
 * created; or out, created with its parents. */
int tg_cli_make_run_dir(const char *command, const char *out, char *dir, size_t cap,
			struct tg_error *err);
struct tg_run_results;
struct tg_report_trend;
/* results.json, summary.md and report.html (with the trends, may be none)
 * into r->run_dir. */
int tg_cli_write_results(const struct tg_run_results *r, const struct tg_report_trend *trends,
			 int n_trends, struct tg_error *err);
struct tg_profile_info;
/* Renders in_dir/capture.bin (+ maps) into out_dir: the profile outputs of
 * tg_render_profile; fills info (cmd_record.c). */
int tg_cli_render_dir(const char *in_dir, const char *out_dir, const char *process,
		      struct tg_profile_info *info, struct tg_error *err);
/* One line per main profile output that was written. */
void tg_cli_print_profile_paths(const char *dir, const struct tg_profile_info *p);

/* Commands return their exit code. */
/* ---- run --profile (cli_profile.c) ---- */

enum tg_profile_mode { TG_PROFILE_NONE = 0, TG_PROFILE_CPU = 1, TG_PROFILE_GPU = 2, TG_PROFILE_BOTH = 3 };

struct tg_profile_opts {
	int32_t mode;         /* enum tg_profile_mode */
	int32_t hz;           /* --sample-hz */
	int32_t clock;        /* enum tg_sample_clock */
	int32_t unwind;       /* enum tg_unwind_method */
	int32_t include_idle; /* --include-idle */
	int32_t driver_api;   /* --trace-driver-api */
};

struct tg_profile;
/* tags[t] names what tag t runs ("main", then one per backend). Starts NVTX
 * capture, CUPTI (gpu modes; when it cannot trace, the reason is kept and
 * host stacks are sampled instead) and the sampler (cpu modes), which
 * samples the calling thread as tag 0. */
int tg_profile_begin(const struct tg_profile_opts *o, const char *const *tags, int n_tags,
		     struct tg_profile **out, struct tg_error *err);
/* Hooks that tag (and, when sampling, sample) a backend's worker threads. */
const struct tg_thread_hooks *tg_profile_hooks(struct tg_profile *p, int tag);
/* The calling (main) thread works for `tag` from now on; it is sampled
 * only while `busy` (a backend without worker threads runs on it). */
void tg_profile_set_tag(struct tg_profile *p, int tag, bool busy);
/* Stops, symbolizes and writes every profile output into dir; fills info. */
struct tg_profile_info;
int tg_profile_finish(struct tg_profile *p, const char *dir, struct tg_profile_info *info,
		      struct tg_error *err);
void tg_profile_free(struct tg_profile *p);

int tg_cmd_run(int argc, char **argv);
int tg_cmd_flame(int argc, char **argv);
int tg_cmd_atc(int argc, char **argv);
int tg_cmd_info(int argc, char **argv);
int tg_cmd_record(int argc, char **argv);
int tg_cmd_report(int argc, char **argv);
int tg_cmd_compare(int argc, char **argv);
int tg_cmd_history(int argc, char **argv);

#endif
