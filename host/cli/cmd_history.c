/* `history FILE.db`: the trend of every state over the stored runs and the
 * change points in it; run statuses for the nightly runner. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_internal.h"
#include "tg_history.h"
#include "tg_json.h"
#include "tg_log.h"
#include "tg_stats.h"
#include "tg_str.h"

#define MAX_SPLITS 8

static int splits_of(const struct tg_history_series *s, double min_rel, int *splits)
{
	double *x = malloc((size_t)(s->n_points ? s->n_points : 1) * sizeof(double));
	if (!x)
		return 0;
	for (int i = 0; i < s->n_points; i++)
		x[i] = s->points[i].median;
	int n = tg_change_points(x, s->n_points, min_rel, 4.0, 2, splits, MAX_SPLITS);
	free(x);
	return n;
}

static void print_series(const struct tg_history_series *s, double min_rel)
{
	printf("\n## %s %s on %s\nworkload: %s\n\n", s->backend, s->ma, s->hostname, s->workload);
	printf("| run | created (UTC) | commit | status | n | median | 95%% CI | vs previous |\n"
	       "|---|---|---|---|---|---|---|---|\n");
	for (int i = 0; i < s->n_points; i++) {
		const struct tg_history_point *p = &s->points[i];
		char med[32], lo[32], hi[32], change[32] = "";
		tg_format_duration(p->median, med, sizeof(med));
		tg_format_duration(p->ci_lo, lo, sizeof(lo));
		tg_format_duration(p->ci_hi, hi, sizeof(hi));
		if (i > 0 && s->points[i - 1].median > 0)
			snprintf(change, sizeof(change), "%+.1f%%",
				 100.0 * (p->median / s->points[i - 1].median - 1.0));
		printf("| %lld | %s | %s | %s | %d | %s | %s .. %s | %s |\n", (long long)p->run_id,
		       p->created_utc, p->commit, p->status, p->n, med, lo, hi, change);
	}
	int splits[MAX_SPLITS];
	int ns = splits_of(s, min_rel, splits);
	if (ns == 0) {
		printf("\nno change point (shifts over %.3g%% with a Welch t over 4)\n", 100 * min_rel);
		return;
	}
	for (int k = 0; k < ns; k++) {
		int at = splits[k], from = k ? splits[k - 1] : 0, to = k + 1 < ns ? splits[k + 1] : s->n_points;
		double before = 0, after = 0;
		for (int i = from; i < at; i++)
			before += s->points[i].median / (at - from);
		for (int i = at; i < to; i++)
			after += s->points[i].median / (to - at);
		char b[32], a[32];
		tg_format_duration(before, b, sizeof(b));
		tg_format_duration(after, a, sizeof(a));
		printf("\n**change point** at run %lld (%s, commit %s): mean median %s -> %s (%+.1f%%)\n",
		       (long long)s->points[at].run_id, s->points[at].created_utc, s->points[at].commit,
		       b, a, 100.0 * (after / before - 1.0));
	}
}

static int write_json(const struct tg_history_series *v, int n, double min_rel, struct tg_error *err)
{
	struct tg_sink *s = tg_sink_open_stream(stdout, "<stdout>");
	if (!s)
		return TG_E_NOMEM;
	struct tg_json j;
	tg_json_init(&j, s, true);
	tg_json_begin_object(&j);
	tg_json_kv_string(&j, "schema", "trendgpu-bench/history");
	tg_json_kv_int(&j, "schema_version", 1);
	tg_json_key(&j, "series");
	tg_json_begin_array(&j);
	for (int i = 0; i < n; i++) {
		tg_json_begin_object(&j);
		tg_json_kv_string(&j, "backend", v[i].backend);
		tg_json_kv_string(&j, "ma", v[i].ma);
		tg_json_kv_string(&j, "hostname", v[i].hostname);
		tg_json_kv_string(&j, "workload", v[i].workload);
		tg_json_key(&j, "points");
		tg_json_begin_array(&j);
		for (int k = 0; k < v[i].n_points; k++) {
			const struct tg_history_point *p = &v[i].points[k];
			tg_json_begin_object(&j);
			tg_json_kv_int(&j, "run", p->run_id);
			tg_json_kv_string(&j, "created_utc", p->created_utc);
			tg_json_kv_string(&j, "commit", p->commit);
			tg_json_kv_string(&j, "status", p->status);
			tg_json_kv_int(&j, "n", p->n);
			tg_json_kv_double(&j, "median_ns", p->median);
			tg_json_kv_double(&j, "ci_lo_ns", p->ci_lo);
			tg_json_kv_double(&j, "ci_hi_ns", p->ci_hi);
			tg_json_end_object(&j);
		}
		tg_json_end_array(&j);
		int splits[MAX_SPLITS];
		int ns = splits_of(&v[i], min_rel, splits);
		tg_json_key(&j, "change_points");
		tg_json_begin_array(&j);
		for (int k = 0; k < ns; k++)
			tg_json_int(&j, v[i].points[splits[k]].run_id);
		tg_json_end_array(&j);
		tg_json_end_object(&j);
	}
	tg_json_end_array(&j);
	tg_json_end_object(&j);
	int rc = tg_json_finish(&j, err);
	if (rc == 0)
		rc = tg_sink_close(s, err);
	else
		tg_sink_abort(s);
	return rc;
}

int tg_cmd_history(int argc, char **argv)
{
	const char *state = NULL, *workload = NULL, *host = NULL, *mark = NULL;
	int32_t last = 20, json = 0, last_good = 0, good_for = 0;
	double min_pct = 5.0;
	const struct tg_opt opts[] = {
		{"state", TG_OPT_STRING, &state, "BACKEND/MA", "only this state, e.g. cuda/exact", 0, 0,
		 NULL},
		{"workload", TG_OPT_STRING, &workload, "TEXT", "only this workload key (as printed)", 0, 0,
		 NULL},
		{"host", TG_OPT_STRING, &host, "NAME", "only runs of this host", 0, 0, NULL},
		{"last", TG_OPT_INT, &last, "N", "the newest N runs of each series (default 20)", 1,
		 1000000, NULL},
		{"min-change", TG_OPT_DOUBLE, &min_pct, "PCT",
		 "smallest shift a change point must have, percent (default 5)", 0.01, 1000, NULL},
		{"json", TG_OPT_FLAG, &json, NULL, "print JSON instead of Markdown", 0, 0, NULL},
		{"mark", TG_OPT_STRING, &mark, "RUN:STATUS",
		 "set a run's status (good, failed, regression, ...) and exit", 0, 0, NULL},
		{"last-good", TG_OPT_FLAG, &last_good, NULL,
		 "print the run directory of the newest good run with the same workload and host as "
		 "the newest run, other than it (exit 1 when there is none)",
		 0, 0, NULL},
		{"last-good-for", TG_OPT_INT, &good_for, "RUN",
		 "the same for run RUN's workload and host", 1, 2147483647, NULL},
	};
	const struct tg_opt_group groups[] = {{"Options", opts, (int)(sizeof(opts) / sizeof(opts[0]))}};
	const struct tg_cli_spec spec = {
		.command = "history",
		.usage = "history FILE.db [--state BACKEND/MA] [--last N] [--json]",
		.description = "Shows the trend of every state (backend x MA mode) of every workload "
			       "and host stored with run --history FILE.db: one row per run (median, "
			       "its 95% interval, change against the run before) and the change points "
			       "that binary segmentation finds in the medians.",
		.groups = groups,
		.n_groups = 1,
		.epilog = "Examples:\n  trendgpu-bench history nightly.db --state cuda/exact --last 30\n"
			  "  trendgpu-bench history nightly.db --mark 42:good\n",
	};
	const char *pos[1];
	int rc = tg_cli_parse_args(&spec, argc, argv, pos, 1, "one history database");
	if (rc != TG_CLI_CONTINUE)
		return rc;
	struct tg_error err;
	tg_error_clear(&err);
	char sb[32] = "", *sm = NULL;
	if (state) {
		tg_strlcpy(sb, state, sizeof(sb));
		sm = strchr(sb, '/');
		if (!sm || !sm[1] || sm == sb) {
			TG_ERR(&err, TG_E_INVAL, "--state '%s': expected BACKEND/MA, e.g. cpu/exact", state);
			return tg_cli_usage_error("history", &err);
		}
		*sm++ = '\0';
	}
	long long mark_id = 0;
	char mark_status[32] = "";
	if (mark && (sscanf(mark, "%lld:%31s", &mark_id, mark_status) != 2 || mark_id <= 0)) {
		TG_ERR(&err, TG_E_INVAL, "--mark '%s': expected RUN:STATUS, e.g. 12:good", mark);
		return tg_cli_usage_error("history", &err);
	}
	struct tg_history *h;
	if (tg_history_open(pos[0], false, &h, &err) < 0) {
		tg_log_error(&err);
		return TG_EXIT_FAILURE;
	}
	int exit_code = TG_EXIT_OK;
	if (mark) {
		if (tg_history_set_status(h, mark_id, mark_status, &err) < 0) {
			tg_log_error(&err);
			exit_code = TG_EXIT_FAILURE;
		}
		tg_history_close(h);
		return exit_code;
	}
	struct tg_history_series *v = NULL;
	int n = 0;
	if (tg_history_load(h, workload, host, last_good || good_for ? 0 : last, &v, &n, &err) < 0) {
		tg_log_error(&err);
		tg_history_close(h);
		return TG_EXIT_FAILURE;
	}
	if (last_good || good_for) {
		/* the newest run over all series, or the one asked for */
		const struct tg_history_series *newest = NULL;
		int64_t newest_id = 0;
		for (int i = 0; i < n; i++)
			for (int k = 0; k < v[i].n_points; k++) {
				int64_t id = v[i].points[k].run_id;
				if (good_for ? id == good_for : id > newest_id) {
					newest_id = id;
					newest = &v[i];
				}
			}
		char dir[512];
		if (!newest || tg_history_last_good(h, newest->workload, newest->hostname, newest_id, dir,
						    sizeof(dir), &err) < 0) {
			if (!newest)
				TG_ERR(&err, TG_E_RANGE, "history '%s': %s", pos[0],
				       good_for ? "no such run with states" : "empty");
			tg_log_error(&err);
			exit_code = TG_EXIT_FAILURE;
		} else {
			printf("%s\n", dir);
		}
	} else {
		/* keep the series asked for */
		int k = 0;
		for (int i = 0; i < n; i++)
			if (!state || (strcmp(v[i].backend, sb) == 0 && strcmp(v[i].ma, sm) == 0))
				v[k++] = v[i];
			else
				free(v[i].points);
		n = k;
		if (json) {
			if (write_json(v, n, min_pct / 100.0, &err) < 0) {
				tg_log_error(&err);
				exit_code = TG_EXIT_FAILURE;
			}
		} else {
			printf("# history %s: %d series\n", pos[0], n);
			for (int i = 0; i < n; i++)
				print_series(&v[i], min_pct / 100.0);
		}
	}
	tg_history_series_free(v, n);
	tg_history_close(h);
	return exit_code;
}
