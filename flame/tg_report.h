/* Renderers of benchmark results for people: summary.md, the terminal
 * table, report.html (results.json, the machine-readable record, is
 * host/run's). Pure functions of struct tg_run_results into a sink.
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

/* Figures derived from a state (NaN when it was not measured): bar x MA
 * updates per second, ns per bar x MA. */
/* MA updates computed per second at the median (st->mas_per_bar per bar) */
double tg_report_throughput(const struct tg_state_result *st);
/* What bar*MA counts in the modes of r (the line under the timing table);
 * 0 when no state ran. */
int tg_report_throughput_note(const struct tg_run_results *r, char *buf, size_t cap);
/* symbol bars per second at the median: the same unit in both MA modes */
double tg_report_bars_per_s(const struct tg_state_result *st);
double tg_report_ns_per_bar_ma(const struct tg_state_result *st);
/* Backends with both an exact and an approx state measured, in state
 * order; and one's speed-up of approx over exact (medians). */
int tg_report_speedup_backends(const struct tg_run_results *r, const char **out, int cap);
double tg_report_speedup(const struct tg_run_results *r, const char *backend, double *exact_ns,
			 double *approx_ns);
/* A state noisy enough that its figures may not repeat: its relative
 * stddev above TG_REPORT_NOISY_STDDEV, its median's interval wider than
 * +-TG_REPORT_NOISY_CI, or its budget over before TG_REPORT_FEW_REPS
 * repetitions (with the budget that would hold them); why into why. */
#define TG_REPORT_NOISY_STDDEV 0.30
#define TG_REPORT_NOISY_CI 0.02
#define TG_REPORT_FEW_REPS 10
int tg_report_noisy(const struct tg_state_result *st, char *why, size_t cap);
/* "cpu exact is 1.17x [1.09, 1.26] faster than rust exact", "... slower
 * ...", or "... no clear difference ..." when the interval holds 1. */
void tg_report_ratio_text(const struct tg_ratio *x, char *buf, size_t cap);

/* "EMA", ...; "?" when unnamed */
const char *tg_report_family_name(const struct tg_run_results *r, int f);
/* "4 of 30 symbols (13.33%): AAA LONG->SHORT, ..." (the first
 * TG_RESULTS_FLIPS_LISTED) */
void tg_report_decision_text(const struct tg_accuracy *a, char *buf, size_t cap);
/* One family's accuracy as the cells every renderer shows, in the order
 * of tg_report_family_heads (flag: "no better than chance" or ""). */
#define TG_REPORT_FAMILY_CELLS 10
struct tg_report_family_row {
	char cell[TG_REPORT_FAMILY_CELLS][48];
	bool chance; /* flagged: the Layer-1 signal is no better than chance */
};
extern const char *const tg_report_family_heads[TG_REPORT_FAMILY_CELLS];
/* the cells that are text (left-aligned), not numbers */
extern const bool tg_report_family_text[TG_REPORT_FAMILY_CELLS];
void tg_report_family_row(const struct tg_run_results *r, const struct tg_accuracy *a, int f,
			  struct tg_report_family_row *row);
/* The cell of the per-slot matrix: "L 21: 1.23%" for slot k in length order. */
void tg_report_slot_cell(const struct tg_family_accuracy *fa, int k, char *buf, size_t cap);
/* The note under every accuracy table: what the columns compare. */
extern const char tg_report_accuracy_note[];
/* The backends whose approx-vs-exact accuracy r->accuracy[i] reports: 0
 * when an earlier entry has the same numbers (it was reported there),
 * else 1 and label "cpu", or "cpu and rust" (every later entry with the
 * same numbers, named once: the caller says they are identical);
 * n_backends their count. */
int tg_report_accuracy_label(const struct tg_run_results *r, int i, char *label, size_t cap,
			     int *n_backends);

int tg_report_summary_md(const struct tg_run_results *r, struct tg_sink *s, struct tg_error *err);

/* combined.svg (CPU samples and GPU time per backend) needs both: true,
 * with the reason in why, when a profile has samples but no combined.svg. */
bool tg_report_combined_missing(const struct tg_profile_info *p, char *why, size_t cap);

/* The phase table pivoted for reading across backends: one row per MA
 * mode and phase (in pipeline order), one column per backend; cell[r][b]
 * indexes p->phases, or -1. */
#define TG_PIVOT_BACKENDS 8
struct tg_phase_pivot {
	uint32_t phase[TG_MAX_PHASE_ROWS];
	int cell[TG_MAX_PHASE_ROWS][TG_PIVOT_BACKENDS];
	const char *backend[TG_PIVOT_BACKENDS];
	int rows, n_backends;
};
void tg_report_phase_pivot(const struct tg_profile_info *p, struct tg_phase_pivot *out);
/* A cell as the tables show it: "12.3 ms (45%)", GPU time added as
 * "+ 1.2 ms GPU (30 x, median 40 us)". */
void tg_report_phase_cell(const struct tg_phase_row *r, char *buf, size_t cap);
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
