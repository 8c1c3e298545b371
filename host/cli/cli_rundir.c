/* Run directories and what every command writes into them. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli_internal.h"
#include "tg_clock.h"
#include "tg_report.h"
#include "tg_results.h"
#include "tg_str.h"

/* mkdir -p */
static int make_dirs(const char *path)
{
	char buf[512];
	tg_strlcpy(buf, path, sizeof(buf));
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0777) != 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return mkdir(buf, 0777) != 0 && errno != EEXIST ? -1 : 0;
}

/* The main profile outputs that were written, one line each. */
void tg_cli_print_profile_paths(const char *dir, const struct tg_profile_info *p)
{
	static const struct {
		const char *file, *what;
	} main_files[] = {
		{"trace.json", "timeline (ui.perfetto.dev, chrome://tracing)"},
		{"cpu.svg", "CPU flame graph"},
		{"gpu.svg", "GPU time by launching CPU stack"},
		{"combined.svg", "CPU and GPU per backend"},
		{"top.txt", "top functions"},
	};
	for (size_t i = 0; i < sizeof(main_files) / sizeof(main_files[0]); i++) {
		const char *hit = strstr(p->files, main_files[i].file);
		size_t len = strlen(main_files[i].file);
		if (hit && (hit == p->files || hit[-1] == ',') && (hit[len] == ',' || hit[len] == '\0'))
			printf("profile: %s/%s (%s)\n", dir, main_files[i].file, main_files[i].what);
	}
}

int tg_cli_make_run_dir(const char *command, const char *out, char *dir, size_t cap,
			struct tg_error *err)
{
	if (out) {
		snprintf(dir, cap, "%s", out);
		if (make_dirs(dir) != 0)
			return TG_ERR(err, TG_E_IO, "%s: --out '%s': cannot create: %s", command, dir,
				      strerror(errno));
		struct stat st;
		TG_FAIL_IF(stat(dir, &st) != 0 || !S_ISDIR(st.st_mode), err, TG_E_IO,
			   "%s: --out '%s' exists and is not a directory", command, dir);
		return 0;
	}
	const char *base = getenv("TG_PROFILES_DIR");
	if (!base || !*base)
		base = "profiles";
	if (make_dirs(base) != 0)
		return TG_ERR(err, TG_E_IO, "%s: cannot create '%s': %s", command, base,
			      strerror(errno));
	char stamp[32];
	tg_clock_format_compact(tg_clock_realtime_ns(), stamp, sizeof(stamp));
	for (int k = 1; k < 1000; k++) {
		if (k == 1)
			snprintf(dir, cap, "%s/%s-%s", base, command, stamp);
		else
			snprintf(dir, cap, "%s/%s-%s-%d", base, command, stamp, k);
		if (mkdir(dir, 0777) == 0)
			return 0;
		if (errno != EEXIST)
			return TG_ERR(err, TG_E_IO, "%s: cannot create '%s': %s", command, dir,
				      strerror(errno));
	}
	return TG_ERR(err, TG_E_IO, "%s: too many run directories named %s/%s-%s-*", command,
		      base, command, stamp);
}

typedef int (*report_fn)(const struct tg_run_results *r, const struct tg_report_trend *t, int n,
			 struct tg_sink *s, struct tg_error *err);

static int json_fn(const struct tg_run_results *r, const struct tg_report_trend *t, int n,
		   struct tg_sink *s, struct tg_error *err)
{
	(void)t;
	(void)n;
	return tg_report_results_json(r, s, err);
}

static int md_fn(const struct tg_run_results *r, const struct tg_report_trend *t, int n,
		 struct tg_sink *s, struct tg_error *err)
{
	(void)t;
	(void)n;
	return tg_report_summary_md(r, s, err);
}

int tg_cli_write_results(const struct tg_run_results *r, const struct tg_report_trend *trends,
			 int n_trends, struct tg_error *err)
{
	static const struct {
		const char *name;
		report_fn fn;
	} files[] = {{"results.json", json_fn}, {"summary.md", md_fn}, {"report.html", tg_report_html}};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char path[1024];
		snprintf(path, sizeof(path), "%s/%s", r->run_dir, files[i].name);
		struct tg_sink *s = tg_sink_open_file(path, err);
		if (!s)
			return err ? err->code : TG_E_IO;
		if (files[i].fn(r, trends, n_trends, s, err) < 0) {
			tg_sink_abort(s);
			return err ? err->code : TG_E_IO;
		}
		TG_TRY(tg_sink_close(s, err));
	}
	return 0;
}

