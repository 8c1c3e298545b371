/* `compare BASE.json NEW.json`: is NEW faster, slower or the same, state by
 * state; exit 3 on a confirmed regression. */
#include <stdio.h>
#include <string.h>

#include "cli_internal.h"
#include "tg_compare.h"
#include "tg_history.h"
#include "tg_log.h"
#include "tg_run.h"

/* The drift allowance from a history's good runs of cur's workload on
 * cur's host (cur itself left out); too few pairs: a note, and the runs'
 * own drift is used. */
static int calibrate(const char *path, const struct tg_run_results *cur,
		     struct tg_compare_opts *co, struct tg_error *err)
{
	struct tg_history *h = NULL;
	TG_TRY(tg_history_open(path, false, &h, err));
	char workload[4096];
	tg_history_workload(cur, workload, sizeof(workload));
	double allowance;
	int pairs;
	struct tg_error e;
	tg_error_clear(&e);
	if (tg_history_drift(h, workload, cur->machine.hostname, cur->run_dir, co->kernel != 0, 5,
			     &allowance, &pairs, &e) == 0) {
		co->drift = allowance;
		snprintf(co->drift_source, sizeof(co->drift_source),
			 "calibrated from %d pairs of good runs in the history", pairs);
	} else if (e.code == TG_E_RANGE) {
		tg_log(TG_LOG_WARN, "compare: %s; the runs' own drift is used", e.msg);
	} else {
		*err = e;
		tg_history_close(h);
		return e.code;
	}
	tg_history_close(h);
	return 0;
}

int tg_cmd_compare(int argc, char **argv)
{
	struct tg_compare_opts co;
	tg_compare_opts_default(&co);
	double threshold_pct = co.threshold * 100.0;
	const char *json_out = NULL, *md_out = NULL, *history = NULL;
	double drift_pct = -1;
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
		{"drift", TG_OPT_DOUBLE, &drift_pct, "PCT",
		 "how far two runs of the same program lie apart on this machine, added to the "
		 "threshold (default: from --history, else the larger of the two runs' own drift)",
		 0, 1000, NULL},
		{"history", TG_OPT_STRING, &history, "FILE.db",
		 "calibrate the drift from this history: consecutive good runs of the same workload "
		 "on this host (at least 5 pairs)",
		 0, 0, NULL},
		{"no-common", TG_OPT_FLAG, &co.no_common, NULL,
		 "judge every state alone (by default a move every backend shared is put down to the "
		 "machine: verdict drift)",
		 0, 0, NULL},
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
			"Mann-Whitney U test. A change counts beyond the threshold plus an allowance "
			"for run-to-run drift (--drift, calibrated from --history, or the runs' own "
			"drift). Verdicts: slower / faster (significant and beyond it), same (the "
			"interval within it), drift (moved as far as every other backend: the "
			"machine), noisy (neither: more samples needed), not judged (under 3 "
			"samples), missing. Runs from different machines or with different "
			"workloads are flagged and not judged unless --force. Exit status: 3 on a "
			"regression, 0 otherwise, 1 on errors.",
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
	if (rc == 0 && drift_pct >= 0) {
		co.drift = drift_pct / 100.0;
		snprintf(co.drift_source, sizeof(co.drift_source), "--drift %g", drift_pct);
	} else if (rc == 0 && history) {
		rc = calibrate(history, &cur, &co, &err);
	}
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
		tg_log(TG_LOG_ERROR, "compare: %d regression%s beyond %.3g%%", c.regressions,
		       c.regressions == 1 ? "" : "s", 100 * c.min_effect);
		return TG_EXIT_REGRESSION;
	}
	return TG_EXIT_OK;
}
