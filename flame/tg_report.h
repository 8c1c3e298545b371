/* Renderers of benchmark results: results.json (schema-versioned, the
 * machine-readable record), summary.md and the terminal table. Pure
 * functions of struct tg_run_results into a sink.
 */
#ifndef TG_REPORT_H
#define TG_REPORT_H

#include "tg_results.h"
#include "tg_sink.h"
#include "tg_str.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The timing contract every wall-time figure follows. */
#define TG_TIMING_CONTRACT                                                                   \
	"wall: host CLOCK_MONOTONIC around one backend run over the whole batch "           \
	"(end-to-end: uploads, compute and downloads included; hot: after warm-up runs)"

int tg_report_results_json(const struct tg_run_results *r, struct tg_sink *s,
			   struct tg_error *err);
int tg_report_summary_md(const struct tg_run_results *r, struct tg_sink *s, struct tg_error *err);
/* The table `run` prints: one line per state, then speed-ups, accuracy and
 * agreement. */
int tg_report_table(const struct tg_run_results *r, struct tg_sink *s, struct tg_error *err);

/* One state's medians over stored runs, oldest first (from the history). */
struct tg_report_trend {
	const char *backend, *ma;
	const double *median; /* ns */
	int n;
};

/* report.html: a self-contained page (inline CSS and SVG, flame graphs of
 * the run directory embedded as data: images, no script, no network). */
int tg_report_html(const struct tg_run_results *r, const struct tg_report_trend *trends,
		   int n_trends, struct tg_sink *s, struct tg_error *err);

/* "1.23 G", "456 M" (SI prefixes) */
void tg_format_rate(double per_second, char *buf, size_t cap);

#ifdef __cplusplus
}
#endif

#endif
