/* What a run directory shows: the profile outputs rendered from a capture
 * (flame/), and the reports of the results. */
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "tg_render.h"
#include "tg_run.h"
#include "tg_str.h"

/* Renders into out_dir what in_dir's capture holds. */
static int render(struct tg_capture *c, const char *maps_text, const char *in_dir,
		  const char *out_dir, const char *process, struct tg_profile_info *info,
		  struct tg_error *err)
{
	memset(info, 0, sizeof(*info));
	tg_profile_info_from_capture(c, info);
	tg_strlcpy(info->files, "maps,maps.buildid,capture.bin", sizeof(info->files));
	char vdso[1200];
	snprintf(vdso, sizeof(vdso), "%s/vdso.so", in_dir);
	struct tg_render_opts ro = {out_dir, maps_text, process, info->mode,
				    access(vdso, R_OK) == 0 ? vdso : NULL};
	TG_TRY(tg_render_profile(c, &ro, info, err));
	info->rendered = true;
	return 0;
}

int tg_rundir_render(struct tg_capture *c, const char *maps_text, const char *dir,
		     const char *process, struct tg_profile_info *info, struct tg_error *err)
{
	return render(c, maps_text, dir, dir, process, info, err);
}

int tg_rundir_rerender(const char *in_dir, const char *out_dir, struct tg_profile_info *info,
		       struct tg_error *err)
{
	struct tg_capture *c = NULL;
	char *maps = NULL;
	int rc = tg_rundir_read_capture(in_dir, &c, &maps, err);
	if (rc == 0)
		rc = render(c, maps, in_dir, out_dir, NULL, info, err);
	free(maps);
	tg_capture_free(c);
	return rc;
}

typedef int (*report_fn)(const struct tg_run_results *r, const struct tg_report_trend *t, int n,
			 struct tg_sink *s, struct tg_error *err);

static int json_fn(const struct tg_run_results *r, const struct tg_report_trend *t, int n,
		   struct tg_sink *s, struct tg_error *err)
{
	(void)t;
	(void)n;
	return tg_results_write_json(r, s, err);
}

static int md_fn(const struct tg_run_results *r, const struct tg_report_trend *t, int n,
		 struct tg_sink *s, struct tg_error *err)
{
	(void)t;
	(void)n;
	return tg_report_summary_md(r, s, err);
}

struct report_job {
	const struct tg_run_results *r;
	const struct tg_report_trend *trends;
	int n_trends;
	report_fn fn;
};

static int report_write(const void *ctx, struct tg_sink *s, struct tg_error *err)
{
	const struct report_job *j = ctx;
	return j->fn(j->r, j->trends, j->n_trends, s, err) < 0 ? (err && err->code ? err->code : TG_E_IO)
							      : 0;
}

int tg_rundir_write_results(const struct tg_run_results *r, const struct tg_report_trend *trends,
			    int n_trends, struct tg_error *err)
{
	static const struct {
		const char *name;
		report_fn fn;
	} files[] = {{"results.json", json_fn}, {"summary.md", md_fn}, {"report.html", tg_report_html}};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char path[1024];
		snprintf(path, sizeof(path), "%s/%s", r->run_dir, files[i].name);
		const struct report_job job = {r, trends, n_trends, files[i].fn};
		TG_TRY(tg_sink_write_file(path, report_write, &job, err));
		if (i == 0) { /* the results are there: no longer incomplete */
			snprintf(path, sizeof(path), "%s/" TG_RUNDIR_INCOMPLETE, r->run_dir);
			unlink(path);
		}
	}
	return 0;
}

int tg_rundir_mark_incomplete(const char *dir, const char *what, struct tg_error *err)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/" TG_RUNDIR_INCOMPLETE, dir);
	struct tg_sink *s = tg_sink_open_file(path, err);
	if (!s)
		return err ? err->code : TG_E_IO;
	tg_sink_printf(s, "%s\nIts results were not written: it was stopped at once (a second stop "
			  "signal, SIGKILL, a crash) before they were. This file goes when they are.\n",
		       what);
	return tg_sink_close(s, err);
}
