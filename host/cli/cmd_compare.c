/* `compare BASE.json NEW.json`: is NEW faster, slower or the same, state by
 * state; exit 3 on a confirmed regression. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

/* What a positional argument names: a results.json, a run directory (its
 * results.json) or a sweep (a directory with sweep.json, or the file). */
struct input {
	char path[1024]; /* results.json, or sweep.json */
	char dir[1024];  /* the sweep's directory */
	bool sweep;
};

static void resolve(const char *arg, struct input *in)
{
	memset(in, 0, sizeof(*in));
	struct stat st;
	const size_t n = strlen(arg);
	if (stat(arg, &st) == 0 && S_ISDIR(st.st_mode)) {
		snprintf(in->path, sizeof(in->path), "%s/sweep.json", arg);
		in->sweep = access(in->path, F_OK) == 0;
		snprintf(in->dir, sizeof(in->dir), "%s", arg);
		if (!in->sweep)
			snprintf(in->path, sizeof(in->path), "%s/results.json", arg);
		return;
	}
	snprintf(in->path, sizeof(in->path), "%s", arg);
	in->sweep = n >= 10 && strcmp(arg + n - 10, "sweep.json") == 0;
	if (in->sweep) {
		snprintf(in->dir, sizeof(in->dir), "%.*s", (int)(n - 10), arg);
		if (!in->dir[0])
			snprintf(in->dir, sizeof(in->dir), ".");
	}
}

struct outputs {
	const char *md, *json;
};

/* Two results.json files compared into c (the drift calibrated from the
 * history when asked and not given). */
static int compare_files(const char *base_path, const char *new_path, const char *history,
			 const struct tg_compare_opts *opts, struct tg_compare *c,
			 struct tg_error *err)
{
	struct tg_compare_opts co = *opts;
	struct tg_run_results base, cur;
	tg_results_init(&base);
	tg_results_init(&cur);
	int rc = tg_results_load(base_path, &base, err);
	if (rc == 0)
		rc = tg_results_load(new_path, &cur, err);
	if (rc == 0 && history && co.drift != co.drift)
		rc = calibrate(history, &cur, &co, err);
	if (rc == 0)
		rc = tg_compare_runs(&base, &cur, base_path, new_path, &co, c, err);
	tg_results_fini(&base);
	tg_results_fini(&cur);
	if (rc < 0)
		tg_error_prefix(err, "compare: ");
	return rc;
}

static struct tg_sink *open_md(const struct outputs *o, struct tg_error *err)
{
	return o->md ? tg_sink_open_file(o->md, err) : tg_sink_open_stream(stdout, "<stdout>");
}

static int regression_exit(int regressions, double min_effect)
{
	if (regressions == 0)
		return TG_EXIT_OK;
	tg_log(TG_LOG_ERROR, "compare: %d regression%s beyond %.3g%%", regressions,
	       regressions == 1 ? "" : "s", 100 * min_effect);
	return TG_EXIT_REGRESSION;
}

static int compare_one(const struct input *a, const struct input *b, const char *history,
		       const struct tg_compare_opts *co, const struct outputs *o,
		       struct tg_error *err)
{
	static struct tg_compare c;
	TG_TRY(compare_files(a->path, b->path, history, co, &c, err));
	struct tg_sink *s = open_md(o, err);
	if (!s || tg_compare_write_md(&c, s, err) < 0 || tg_sink_close(s, err) < 0)
		return err->code ? err->code : TG_E_IO;
	if (o->json) {
		struct tg_sink *j = tg_sink_open_file(o->json, err);
		if (!j || tg_compare_write_json(&c, j, err) < 0 || tg_sink_close(j, err) < 0)
			return err->code ? err->code : TG_E_IO;
	}
	return regression_exit(c.comparable ? c.regressions : 0, c.min_effect);
}

/* Two sweeps, size by size: every size measured in both is compared as two
 * runs; a size in one only is named. */
static int compare_sweeps(const struct input *a, const struct input *b, const char *history,
			  const struct tg_compare_opts *co, const struct outputs *o,
			  struct tg_error *err)
{
	static struct tg_sweep sa, sb;
	static struct tg_compare c;
	TG_TRY(tg_sweep_load(a->path, &sa, err));
	TG_TRY(tg_sweep_load(b->path, &sb, err));
	struct tg_sink *s = open_md(o, err);
	if (!s)
		return err->code;
	struct tg_sink *js = o->json ? tg_sink_open_file(o->json, err) : NULL;
	if (o->json && !js) {
		tg_sink_abort(s);
		return err->code;
	}
	struct tg_json j;
	if (js) {
		tg_json_init(&j, js, true);
		tg_json_begin_object(&j);
		tg_json_kv_string(&j, "schema", "trendgpu-bench/compare-sweep");
		tg_json_kv_int(&j, "schema_version", 1);
		tg_json_kv_string(&j, "base", a->path);
		tg_json_kv_string(&j, "new", b->path);
		tg_json_key(&j, "sizes");
		tg_json_begin_array(&j);
	}
	tg_sink_printf(s, "# compare of two sweeps (%s time)\n\n- base: `%s`\n- new: `%s`\n",
		       co->kernel ? "kernel-only" : "wall", a->path, b->path);
	int regressions = 0, sizes = 0, regressed = 0, rc = 0;
	double min_effect = co->threshold;
	for (int i = 0; i < sa.n_points && rc == 0; i++) {
		const struct tg_sweep_point *p = &sa.points[i], *q = NULL;
		for (int k = 0; k < sb.n_points; k++)
			if (sb.points[k].symbols == p->symbols && sb.points[k].bars == p->bars)
				q = &sb.points[k];
		if (!p->measured || !q || !q->measured) {
			tg_sink_printf(s, "\n## %d symbols x %d bars\n\nnot compared: measured in %s\n",
				       p->symbols, p->bars,
				       !p->measured && !(q && q->measured) ? "neither sweep"
				       : p->measured ? "the base only" : "the new sweep only");
			continue;
		}
		char pa[1200], pb[1200], heading[96];
		snprintf(pa, sizeof(pa), "%s/%s/results.json", a->dir, p->dir);
		snprintf(pb, sizeof(pb), "%s/%s/results.json", b->dir, q->dir);
		rc = compare_files(pa, pb, history, co, &c, err);
		if (rc < 0)
			break;
		snprintf(heading, sizeof(heading), "\n## %d symbols x %d bars", p->symbols, p->bars);
		tg_compare_write_md_section(&c, heading, s, err);
		sizes++;
		const int r = c.comparable ? c.regressions : 0;
		regressions += r;
		regressed += r > 0;
		if (c.min_effect > min_effect)
			min_effect = c.min_effect;
		if (js) {
			tg_json_begin_object(&j);
			tg_json_kv_int(&j, "symbols", p->symbols);
			tg_json_kv_int(&j, "bars", p->bars);
			tg_compare_json_members(&c, &j);
			tg_json_end_object(&j);
		}
	}
	for (int k = 0; k < sb.n_points && rc == 0; k++) {
		bool in_base = false;
		for (int i = 0; i < sa.n_points; i++)
			in_base |= sa.points[i].symbols == sb.points[k].symbols &&
				   sa.points[i].bars == sb.points[k].bars;
		if (!in_base)
			tg_sink_printf(s, "\n## %d symbols x %d bars\n\nnot compared: in the new "
					  "sweep only\n",
				       sb.points[k].symbols, sb.points[k].bars);
	}
	if (rc < 0) {
		tg_sink_abort(s);
		tg_sink_abort(js);
		return rc;
	}
	tg_sink_printf(s, "\n%d size%s compared: %d regression%s in %d of them.\n", sizes,
		       sizes == 1 ? "" : "s", regressions, regressions == 1 ? "" : "s", regressed);
	if (tg_sink_close(s, err) < 0) {
		tg_sink_abort(js);
		return err->code;
	}
	if (js) {
		tg_json_end_array(&j);
		tg_json_kv_int(&j, "sizes_compared", sizes);
		tg_json_kv_int(&j, "regressions", regressions);
		tg_json_end_object(&j);
		if (tg_json_finish(&j, err) < 0) {
			tg_sink_abort(js);
			return err->code;
		}
		TG_TRY(tg_sink_close(js, err));
	}
	return regression_exit(regressions, min_effect);
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
		.usage = "compare BASE NEW [--threshold PCT] [--metric wall|kernel] (BASE, NEW: "
			 "results.json files, run directories, or two sweeps)",
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
			  "cmp.json\n"
			  "  trendgpu-bench compare profiles/sweep-a profiles/sweep-b   (size by size)\n",
	};
	const char *pos[2];
	int rc = tg_cli_parse_args(&spec, argc, argv, pos, 2,
				   "two results.json files (or run directories, or two sweeps)");
	if (rc != TG_CLI_CONTINUE)
		return rc;
	struct tg_error err;
	tg_error_clear(&err);
	co.threshold = threshold_pct / 100.0;
	if (drift_pct >= 0) {
		co.drift = drift_pct / 100.0;
		snprintf(co.drift_source, sizeof(co.drift_source), "--drift %g", drift_pct);
	}
	struct input a, b;
	resolve(pos[0], &a);
	resolve(pos[1], &b);
	if (a.sweep != b.sweep) {
		tg_log(TG_LOG_ERROR,
		       "compare: '%s' is a %s and '%s' a %s: compare a sweep with a sweep, or one "
		       "size's results.json with another",
		       pos[0], a.sweep ? "sweep" : "run", pos[1], b.sweep ? "sweep" : "run");
		return TG_EXIT_FAILURE;
	}
	const struct outputs o = {md_out, json_out};
	rc = a.sweep ? compare_sweeps(&a, &b, history, &co, &o, &err)
		     : compare_one(&a, &b, history, &co, &o, &err);
	if (rc < 0) {
		tg_log_error(&err);
		return TG_EXIT_FAILURE;
	}
	return rc;
}

