/* `report DIR`: re-renders a profiled run directory from its raw capture
 * (capture.bin + maps), e.g. after an upgrade or on another machine with
 * the same binaries. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli_internal.h"
#include "tg_log.h"
#include "tg_run.h"

/* dir/rank0 .. rank<n-1> re-rendered (into out_dir/rank<R>), then one
 * merged timeline, flame graphs and rank table in out_dir */
static int report_ranks(const char *dir, const char *out_dir, int n)
{
	struct tg_error err;
	tg_error_clear(&err);
	for (int r = 0; r < n; r++) {
		char in[1200], want[1200], out[1200];
		snprintf(in, sizeof(in), "%s/rank%d", dir, r);
		snprintf(want, sizeof(want), "%s/rank%d", out_dir, r);
		snprintf(out, sizeof(out), "%s", want);
		struct tg_profile_info info;
		memset(&info, 0, sizeof(info));
		if ((strcmp(in, want) != 0 &&
		     tg_rundir_make("report", want, TG_RUNDIR_KEEP, out, sizeof(out), &err) < 0) ||
		    tg_rundir_rerender(in, out, &info, &err) < 0) {
			tg_error_prefix(&err, "report: rank %d: ", r);
			tg_log_error(&err);
			return TG_EXIT_FAILURE;
		}
	}
	if (tg_rundir_merge_ranks(dir, out_dir, n, &err) < 0) {
		tg_error_prefix(&err, "report: merging %d ranks: ", n);
		tg_log_error(&err);
		return TG_EXIT_FAILURE;
	}
	printf("ranks: %d merged\ntimeline: %s/trace.json\nflame graphs: %s/cpu.svg (merged), "
	       "%s/cpu-ranks.svg (by rank)\nranks: %s/ranks.md\n",
	       n, out_dir, out_dir, out_dir, out_dir);
	return TG_EXIT_OK;
}

int tg_cmd_report(int argc, char **argv)
{
	const char *out = NULL;
	const struct tg_opt opts[] = {
		{"out", TG_OPT_STRING, &out, "DIR", "write the outputs there (default: DIR itself)", 0,
		 0, NULL, 'o'},
	};
	const struct tg_opt_group groups[] = {{"Options", opts, 1}};
	const struct tg_cli_spec spec = {
		.command = "report",
		.usage = "report DIR [--out DIR2]",
		.description = "Renders the profile outputs of a run directory written by run "
			       "--profile or record from its raw capture (capture.bin, maps): "
			       "trace.json, cpu*.svg, gpu.svg, combined.svg, top.txt, speedscope.",
		.groups = groups,
		.n_groups = 1,
		.epilog = "Example:\n  trendgpu-bench report profiles/run-20261124-093012\n",
	};
	const char *pos[1];
	int rc = tg_cli_parse_args(&spec, argc, argv, pos, 1, "one run directory");
	if (rc != TG_CLI_CONTINUE)
		return rc;
	struct tg_error err;
	tg_error_clear(&err);
	const char *dir = pos[0];
	struct stat st;
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		TG_ERR(&err, TG_E_IO, "report: '%s' is not a directory", dir);
		tg_log_error(&err);
		return TG_EXIT_FAILURE;
	}
	char out_dir[1024];
	if (out) {
		if (tg_rundir_make("report", out, TG_RUNDIR_KEEP, out_dir, sizeof(out_dir), &err) < 0) {
			tg_log_error(&err);
			return TG_EXIT_FAILURE;
		}
	} else {
		snprintf(out_dir, sizeof(out_dir), "%s", dir);
	}
	/* what a run killed while writing left behind */
	for (int k = 0; k < 2; k++) {
		const char *d = k ? out_dir : dir;
		if (k && strcmp(out_dir, dir) == 0)
			break;
		int removed = tg_rundir_clean_temps(d, &err);
		if (removed > 0)
			tg_warn("report: removed %d temporary file%s a killed run left in '%s'", removed,
				removed == 1 ? "" : "s", d);
	}
	struct tg_profile_info info;
	memset(&info, 0, sizeof(info));
	/* a job's folder (record under a launcher): every rank rendered, then
	 * merged */
	const int ranks = tg_rundir_count_ranks(dir);
	if (ranks > 0)
		return report_ranks(dir, out_dir, ranks);
	if (tg_rundir_rerender(dir, out_dir, &info, &err) < 0) {
		tg_error_prefix(&err, "report: ");
		tg_log_error(&err);
		return TG_EXIT_FAILURE;
	}
	tg_cli_print_profile_paths(out_dir, &info);
	return TG_EXIT_OK;
}
