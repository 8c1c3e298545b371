/* Comparing two runs: per state, the ratio of medians with a bootstrap
 * confidence interval, a Mann-Whitney U test on the raw samples and a
 * verdict. Results from different machines or workloads are flagged and
 * never count as regressions unless forced.
 */
#ifndef TG_COMPARE_H
#define TG_COMPARE_H

#include <stdbool.h>

#include "tg_error.h"
#include "tg_json.h"
#include "tg_results.h"
#include "tg_sink.h"

#ifdef __cplusplus
extern "C" {
#endif

enum tg_verdict {
	TG_SAME = 0,     /* the interval lies within +-the minimum effect */
	TG_FASTER = 1,   /* significantly faster by more than the minimum effect */
	TG_SLOWER = 2,   /* significantly slower by more than the minimum effect: a regression */
	TG_NOISY = 3,    /* neither: the data cannot tell (re-run with more samples) */
	TG_MISSING = 4,  /* the state is in one run only, or unavailable */
	TG_UNJUDGED = 5, /* too few samples in a run (under 3) to judge: counted, shown */
	TG_DRIFT = 6,    /* moved as far as every other backend did: the machine, not the code */
};

struct tg_compare_opts {
	double threshold;    /* relative change that matters; default 0.03 */
	double alpha;        /* significance level of the U test; default 0.01 */
	double level;        /* confidence of the ratio interval; default 0.95 */
	int bootstrap;       /* resamples; default 2000 */
	int kernel;          /* compare kernel-only time instead of wall time */
	int force;           /* judge even when machines or workloads differ */
	int allow_profiled;  /* compare a profiled run with a plain one */
	/* how far two runs of the same program lie apart on this machine
	 * (relative), added to the threshold; NaN (default): estimated from
	 * the runs' own drift (tg_drift_spread). drift_source says where a
	 * given value came from ("--drift", "history: 14 pairs"). */
	double drift;
	char drift_source[128];
	/* judge each state alone: a move every backend shared is not put down
	 * to the machine */
	int no_common;
};

struct tg_compare_row {
	char backend[16], ma[8];
	int n_base, n_new;
	double base_median, new_median; /* ns */
	double ratio, ci_lo, ci_hi;     /* new / base */
	double p;
	int verdict;                    /* enum tg_verdict */
	bool counted;                   /* in the totals (runs comparable, or forced) */
	char note[112];
};

/* A drift allowance above this (or the threshold, if larger) leaves a
 * state `noisy`, never `same`: a run that wandered further cannot show that
 * nothing changed. */
#define TG_COMPARE_STEADY 0.10

#define TG_COMPARE_MAX_ROWS 64
#define TG_COMPARE_MAX_MODES 4
#define TG_COMPARE_MAX_FLAGS 16

struct tg_compare {
	struct tg_compare_opts o;
	char base_path[512], new_path[512];
	struct tg_compare_row rows[TG_COMPARE_MAX_ROWS];
	int n_rows;
	char flags[TG_COMPARE_MAX_FLAGS][256]; /* what differs between the runs */
	int n_flags;
	bool comparable;                     /* same machine and workload (or forced) */
	/* the change that counts: threshold + drift allowance */
	double min_effect, drift_allowance;
	char drift_source[192];
	double base_drift, new_drift;        /* each run's own drift; NaN: too short to tell */
	/* per MA mode, the move every backend's state of it shared (new / base):
	 * the machine's; modes without one are not listed */
	char machine_ma[TG_COMPARE_MAX_MODES][8];
	double machine_factor[TG_COMPARE_MAX_MODES];
	int n_machine;
	/* every row is one of these (counted rows only; the rest not judged) */
	int regressions, improvements, noisy, unjudged, drifted, missing, same;
};

void tg_compare_opts_default(struct tg_compare_opts *o);
/* The verdict on one pair of sample sets (ns) at the minimum effect
 * threshold + drift (drift NaN: 0); fills the statistics of row. */
int tg_compare_samples(const double *base, int nb, const double *cur, int nc,
		       const struct tg_compare_opts *o, struct tg_compare_row *row,
		       struct tg_error *err);
/* Compares every state present in either run (read by tg_results_load,
 * host/run); the names are what the report calls them. */
int tg_compare_runs(const struct tg_run_results *base, const struct tg_run_results *cur,
		    const char *base_name, const char *cur_name, const struct tg_compare_opts *o,
		    struct tg_compare *out, struct tg_error *err);
int tg_compare_write_md(const struct tg_compare *c, struct tg_sink *s, struct tg_error *err);
/* The same under a heading of the caller's ("## 20 symbols x 1500 bars"). */
int tg_compare_write_md_section(const struct tg_compare *c, const char *heading,
				struct tg_sink *s, struct tg_error *err);
/* The members of the comparison's JSON object, into an object the caller
 * has begun (a sweep's comparison nests one per size). */
void tg_compare_json_members(const struct tg_compare *c, struct tg_json *j);
int tg_compare_write_json(const struct tg_compare *c, struct tg_sink *s, struct tg_error *err);
const char *tg_verdict_name(int verdict);

#ifdef __cplusplus
}
#endif

#endif
