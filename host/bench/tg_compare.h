/* Comparing two runs: per state, the ratio of medians with a bootstrap
 * confidence interval, a Mann-Whitney U test on the raw samples and a
 * verdict. Results from different machines or workloads are flagged and
 * never count as regressions unless forced.
 */
#ifndef TG_COMPARE_H
#define TG_COMPARE_H

#include <stdbool.h>

#include "tg_error.h"
#include "tg_results.h"
#include "tg_sink.h"

#ifdef __cplusplus
extern "C" {
#endif

enum tg_verdict {
	TG_SAME = 0,    /* the interval lies within +-threshold */
	TG_FASTER = 1,  /* significantly faster by more than the threshold */
	TG_SLOWER = 2,  /* significantly slower by more than the threshold: a regression */
	TG_NOISY = 3,   /* neither: the data cannot tell (re-run with more samples) */
	TG_MISSING = 4, /* the state is in one run only, or unavailable */
};

struct tg_compare_opts {
	double threshold;    /* relative change that matters; default 0.03 */
	double alpha;        /* significance level of the U test; default 0.01 */
	double level;        /* confidence of the ratio interval; default 0.95 */
	int bootstrap;       /* resamples; default 2000 */
	int kernel;          /* compare kernel-only time instead of wall time */
	int force;           /* judge even when machines or workloads differ */
	int allow_profiled;  /* compare a profiled run with a plain one */
};

struct tg_compare_row {
	char backend[16], ma[8];
	int n_base, n_new;
	double base_median, new_median; /* ns */
	double ratio, ci_lo, ci_hi;     /* new / base */
	double p;
	int verdict;                    /* enum tg_verdict */
	char note[96];
};

#define TG_COMPARE_MAX_ROWS 64
#define TG_COMPARE_MAX_FLAGS 16

struct tg_compare {
	struct tg_compare_opts o;
	char base_path[512], new_path[512];
	struct tg_compare_row rows[TG_COMPARE_MAX_ROWS];
	int n_rows;
	char flags[TG_COMPARE_MAX_FLAGS][256]; /* what differs between the runs */
	int n_flags;
	bool comparable;                     /* same machine and workload (or forced) */
	int regressions, improvements, noisy;
};

void tg_compare_opts_default(struct tg_compare_opts *o);
/* The verdict on one pair of sample sets (ns); fills the statistics of row. */
int tg_compare_samples(const double *base, int nb, const double *cur, int nc,
		       const struct tg_compare_opts *o, struct tg_compare_row *row,
		       struct tg_error *err);
/* Compares every state present in either run (read by tg_results_load,
 * host/run); the names are what the report calls them. */
int tg_compare_runs(const struct tg_run_results *base, const struct tg_run_results *cur,
		    const char *base_name, const char *cur_name, const struct tg_compare_opts *o,
		    struct tg_compare *out, struct tg_error *err);
int tg_compare_write_md(const struct tg_compare *c, struct tg_sink *s, struct tg_error *err);
int tg_compare_write_json(const struct tg_compare *c, struct tg_sink *s, struct tg_error *err);
const char *tg_verdict_name(int verdict);

#ifdef __cplusplus
}
#endif

#endif
