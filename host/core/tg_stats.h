/* Statistics of benchmark samples: summaries with distribution-free
 * confidence intervals and outlier counts, the stopping rule that decides
 * how many samples a state gets, and the two-sample comparisons behind
 * `compare` (Mann-Whitney U, bootstrap interval of a ratio of medians).
 * Pure functions over arrays; deterministic (seeded) where random.
 */
#ifndef TG_STATS_H
#define TG_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tg_error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Summary of raw samples (ns unless stated). */
struct tg_stats {
	int64_t n;
	double median, mean, stddev, min, max;
	double q1, q3;            /* quartiles (linear interpolation) */
	double mad;               /* median absolute deviation */
	double rel_stddev;        /* stddev / mean */
	double ci_lo, ci_hi;      /* 95% confidence interval of the median (order
				   * statistics, distribution-free); min/max for n < 6 */
	int outliers_mild;        /* outside 1.5 IQR of the quartiles (Tukey), kept */
	int outliers_severe;      /* outside 3 IQR */
};

/* Statistics of n samples (copied and sorted internally); n may be 0. */
int tg_stats_compute(const double *samples, int n, struct tg_stats *out, struct tg_error *err);

/* Ranks k_lo, k_hi (0-based, into the sorted samples) bounding the median
 * with at least `level` confidence: P(X(k_lo) <= median <= X(k_hi)) from the
 * binomial(n, 1/2). Returns false when n is too small for the level. */
bool tg_median_ci_ranks(int n, double level, int *k_lo, int *k_hi);

/* ---- stopping rule --------------------------------------------------------- */

enum tg_stop_reason {
	TG_STOP_CONTINUE = 0,
	TG_STOP_COUNT = 1,    /* the fixed number of samples asked for */
	TG_STOP_NOISE = 2,    /* relative noise under the target */
	TG_STOP_STABLE = 3,   /* the noise estimate settled above the target */
	TG_STOP_TIMEOUT = 4,  /* the time budget ran out */
	TG_STOP_MAX = 5,      /* the sample cap */
};

struct tg_stop_rule {
	int fixed;          /* > 0: exactly this many samples (no rule) */
	int min_samples;    /* default 10 */
	int max_samples;    /* default 10000 */
	double min_time_s;  /* accumulated sample time before stopping; default 0.5 */
	double max_noise;   /* relative standard error of the median target; default 0.005 */
	double timeout_s;   /* wall time budget of the state; default 15 */
};

/* nvbench-style: stop once there are min_samples and min_time of samples
 * and the noise (relative stddev of the samples / sqrt(n), i.e. of their
 * mean; robust: 1.4826 MAD / median / sqrt(n)) is under max_noise, or when
 * the noise estimate has stabilised (relative spread of the last 32
 * estimates under 5%, checked every 8 samples past 32), or on timeout. */
struct tg_stopper {
	struct tg_stop_rule r;
	double *samples;
	int n, cap;
	double sum_s;
	double noise[32];
	int n_noise;
	double last_noise;
};

/* A settled noise ends sampling only up to this many times the target. */
#define TG_STOP_STABLE_MAX 4.0

void tg_stop_rule_default(struct tg_stop_rule *r);
int tg_stopper_init(struct tg_stopper *s, const struct tg_stop_rule *r, struct tg_error *err);
void tg_stopper_fini(struct tg_stopper *s);
/* Adds a sample; elapsed_s is the wall time the state has taken so far
 * (warm-up and overhead included). Returns a tg_stop_reason. */
int tg_stopper_add(struct tg_stopper *s, double sample_ns, double elapsed_s);
const char *tg_stop_reason_name(int reason);

/* ---- two samples ------------------------------------------------------------ */

struct tg_mwu {
	double u;      /* U of the first sample */
	double z;      /* normal approximation (tie-corrected, continuity) */
	double p;      /* two-sided p-value (exact for small samples without ties) */
	bool exact;
};

int tg_mann_whitney(const double *a, int na, const double *b, int nb, struct tg_mwu *out,
		    struct tg_error *err);

/* A `level` bootstrap percentile interval of median(b) / median(a) from
 * `iters` resamples with a fixed seed. */
int tg_bootstrap_ratio_ci(const double *a, int na, const double *b, int nb, double level,
			  int iters, uint64_t seed, double *lo, double *hi, struct tg_error *err);

/* Paired samples (two states measured in the same rounds): the median of
 * the per-pair ratios num[i] / den[i] and a `level` bootstrap percentile
 * interval of it, pairs resampled `iters` times with a fixed seed. Pairing
 * cancels what the machine did to both in a round (drift, other load). */
int tg_paired_ratio(const double *num, const double *den, int n, double level, int iters,
		    uint64_t seed, double *ratio, double *lo, double *hi, struct tg_error *err);

/* How far a run's speed wandered while it ran: samples in the order they
 * were taken cut into `blocks` consecutive blocks, the largest block median
 * over the smallest, minus 1, less what the noise alone spreads block
 * medians by (so 0 for a steady run however noisy; 0.04: the median moved
 * by 4% between the calmest and the busiest part of the run). NaN below 4
 * samples a block. A lower bound of how far two runs of one program can
 * lie apart. */
double tg_drift_spread(const double *samples, int n, int blocks);

/* The median of n values (copied, not reordered); NaN when n = 0. */
double tg_median_of(const double *v, int n);
/* The largest of n loads over their mean (1: even; 1 when all are 0):
 * the load imbalance of ranks or workers. */
double tg_stats_imbalance(const double *load, int n);

/* ---- change points in a series ------------------------------------------------ */

/* Binary segmentation on a series (e.g. a state's medians over runs): a
 * split where the means on both sides differ by more than min_rel of the
 * left mean and a Welch t above t_min; recursively, segments of at least
 * min_seg points. Writes up to cap split indices (the first point of each
 * new segment), ascending; returns the count. */
int tg_change_points(const double *x, int n, double min_rel, double t_min, int min_seg,
		     int *splits, int cap);

#ifdef __cplusplus
}
#endif

#endif
