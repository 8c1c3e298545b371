/* `compare BASE.json NEW.json`: is NEW faster, slower or the same, state by
 * state; exit 3 on a confirmed regression. */
#include <stdio.h>
#include <string.h>

#include "cli_internal.h"
#include "tg_compare.h"
#include "tg_log.h"
#include "tg_run.h"

int tg_cmd_compare(int argc, char **argv)
{
	struct tg_compare_opts co;
	tg_compare_opts_default(&co);
	double threshold_pct = co.threshold * 100.0;
	const char *json_out = NULL, *md_out = NULL;
	static const char *const metrics[] = {"wall", "kernel", NULL};
	const struct tg_opt opts[] = {
		{"threshold", TG_OPT_DOUBLE, &threshold_pct, "PCT",
		 "smallest change that counts, in percent of the base median (default 3)", 0.01, 1000,
		 NULL},
		{"alpha", TG_OPT_DOUBLE, &co.alpha, "A",
		 "significance level of the Mann-Whitney U test (default 0.01)", 1e-9, 0.5, NULL},
		{"metric", TG_OPT_CHOICE, &co.kernel, NULL,
		 "wall (end-to-end, default) or kernel (kernel-only, device backends)", 0, 0, metrics},
		{"bootstrap", TG_OPT_INT, &co.bootstrap, "N", "bootstrap resamples (default 2000)", 100,
		 1000000, NULL},
		{"allow-profiled", TG_OPT_FLAG, &co.allow_profiled, NULL,
		 "compare a profiled run (run --profile) with a plain one (refused otherwise: "
		 "profiling slows the program)",
		 0, 0, NULL},
		{"force", TG_OPT_FLAG, &co.force, NULL,
		 "judge runs from different machines or workloads too", 0, 0, NULL},
		{"json", TG_OPT_STRING, &json_out, "FILE", "also write the comparison as JSON", 0, 0,
		 NULL},
		{"output", TG_OPT_STRING, &md_out, "FILE", "write the Markdown there instead of stdout",
		 0, 0, NULL, 'o'},
	};
	const struct tg_opt_group groups[] = {{"Options", opts, (int)(sizeof(opts) / sizeof(opts[0]))}};
	const struct tg_cli_spec spec = {
		.command = "compare",
		.usage = "compare BASE/results.json NEW/results.json [--threshold PCT] [--metric wall|kernel]",
		.description =
			"Compares two runs state by state (backend x MA mode) on their raw samples: "
			"the ratio of medians new/base with a bootstrap confidence interval and a "
			"Mann-Whitney U test. Verdicts: slower / faster (significant and beyond the "
			"threshold), same (the interval within +-threshold), noisy (neither: more "
			"samples needed), missing. Runs from different machines or with different "
			"workloads are flagged and not judged unless --force. Exit status: 3 when a "
			"confirmed regression exceeds the threshold, 0 otherwise, 1 on errors.",
		.groups = groups,
		.n_groups = 1,
		.epilog = "Examples:\n  trendgpu-bench compare profiles/run-a/results.json "
			  "profiles/run-b/results.json\n"
			  "  trendgpu-bench compare base.json new.json --metric kernel --threshold 2 --json "
			  "cmp.json\n",
	};
	const char *pos[2];
	int rc = tg_cli_parse_args(&spec, argc, argv, pos, 2, "two results.json files");
	if (rc != TG_CLI_CONTINUE)
		return rc;
	struct tg_error err;
	tg_error_clear(&err);
	co.threshold = threshold_pct / 100.0;
	static struct tg_compare c;
	struct tg_run_results base, cur;
	tg_results_init(&base);
	tg_results_init(&cur);
	rc = tg_results_load(pos[0], &base, &err);
	if (rc == 0)
		rc = tg_results_load(pos[1], &cur, &err);
	if (rc == 0)
		rc = tg_compare_runs(&base, &cur, pos[0], pos[1], &co, &c, &err);
	tg_results_fini(&base);
	tg_results_fini(&cur);
	if (rc < 0) {
		tg_error_prefix(&err, "compare: ");
		tg_log_error(&err);
		return TG_EXIT_FAILURE;
	}
	struct tg_sink *s = md_out ? tg_sink_open_file(md_out, &err) : tg_sink_open_stream(stdout, "<stdout>");
	if (!s || tg_compare_write_md(&c, s, &err) < 0 || tg_sink_close(s, &err) < 0) {
		tg_log_error(&err);
		return TG_EXIT_FAILURE;
	}
	if (json_out) {
		struct tg_sink *j = tg_sink_open_file(json_out, &err);
		if (!j || tg_compare_write_json(&c, j, &err) < 0 || tg_sink_close(j, &err) < 0) {
			tg_log_error(&err);
			return TG_EXIT_FAILURE;
		}
	}
	if (c.regressions > 0 && c.comparable) {
		tg_log(TG_LOG_ERROR, "compare: %d confirmed regression%s beyond %.3g%%", c.regressions,
		       c.regressions == 1 ? "" : "s", threshold_pct);
		return TG_EXIT_REGRESSION;
	}
	return TG_EXIT_OK;
}
