#include "tg_stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Quantile of sorted data, linear interpolation between order statistics. */
static double quantile(const double *s, int n, double q)
{
	if (n == 1)
		return s[0];
	double pos = q * (double)(n - 1);
	int i = (int)pos;
	if (i >= n - 1)
		return s[n - 1];
	double f = pos - (double)i;
	return s[i] + f * (s[i + 1] - s[i]);
}

/* log of the binomial(n, 1/2) probability of k */
static double log_binom_half(int n, int k)
{
	return lgamma((double)n + 1) - lgamma((double)k + 1) - lgamma((double)(n - k) + 1) -
	       (double)n * log(2.0);
}

bool tg_median_ci_ranks(int n, double level, int *k_lo, int *k_hi)
{
	/* largest j with P(B <= j - 1) <= (1 - level) / 2: [X(j), X(n-1-j)] */
	const double tail = (1.0 - level) / 2.0;
	double cum = 0.0;
	int j = -1;
	for (int k = 0; k < n / 2; k++) {
		cum += exp(log_binom_half(n, k));
		if (cum > tail)
			break;
		j = k;
	}
	if (j < 0)
		return false;
	*k_lo = j;
	*k_hi = n - 1 - j;
	return true;
}

int tg_stats_compute(const double *samples, int n, struct tg_stats *out, struct tg_error *err)
{
	memset(out, 0, sizeof(*out));
	out->n = n;
	if (n <= 0) {
		out->median = out->mean = out->stddev = out->min = out->max = NAN;
		out->q1 = out->q3 = out->mad = out->rel_stddev = out->ci_lo = out->ci_hi = NAN;
		return 0;
	}
	double *s = malloc((size_t)n * 2 * sizeof(double));
	TG_FAIL_IF(!s, err, TG_E_NOMEM, "statistics: out of memory for %d samples", n);
	memcpy(s, samples, (size_t)n * sizeof(double));
	qsort(s, (size_t)n, sizeof(double), cmp_double);
	out->min = s[0];
	out->max = s[n - 1];
	out->median = n % 2 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
	out->q1 = quantile(s, n, 0.25);
	out->q3 = quantile(s, n, 0.75);
	/* Welford: stable for samples that are large and close together. */
	double mean = 0.0, m2 = 0.0;
	for (int i = 0; i < n; i++) {
		double d = s[i] - mean;
		mean += d / (double)(i + 1);
		m2 += d * (s[i] - mean);
	}
	out->mean = mean;
	out->stddev = n > 1 ? sqrt(m2 / (double)(n - 1)) : 0.0;
	out->rel_stddev = mean != 0.0 ? out->stddev / fabs(mean) : 0.0;
	double *dev = s + n;
	for (int i = 0; i < n; i++)
		dev[i] = fabs(s[i] - out->median);
	qsort(dev, (size_t)n, sizeof(double), cmp_double);
	out->mad = n % 2 ? dev[n / 2] : 0.5 * (dev[n / 2 - 1] + dev[n / 2]);
	int lo, hi;
	if (tg_median_ci_ranks(n, 0.95, &lo, &hi)) {
		out->ci_lo = s[lo];
		out->ci_hi = s[hi];
	} else {
		out->ci_lo = s[0];
		out->ci_hi = s[n - 1];
	}
	const double iqr = out->q3 - out->q1;
	for (int i = 0; i < n; i++) {
		double x = s[i];
		if (x < out->q1 - 3.0 * iqr || x > out->q3 + 3.0 * iqr)
			out->outliers_severe++;
		else if (x < out->q1 - 1.5 * iqr || x > out->q3 + 1.5 * iqr)
			out->outliers_mild++;
	}
	free(s);
	return 0;
}

/* ---- stopping rule ------------------------------------------------------------ */

void tg_stop_rule_default(struct tg_stop_rule *r)
{
	*r = (struct tg_stop_rule){0, 10, 10000, 0.5, 0.005, 15.0};
}

int tg_stopper_init(struct tg_stopper *s, const struct tg_stop_rule *r, struct tg_error *err)
{
	memset(s, 0, sizeof(*s));
	s->r = *r;
	if (s->r.fixed > 0) {
		s->r.min_samples = s->r.max_samples = s->r.fixed;
	} else {
		TG_FAIL_IF(s->r.min_samples < 2 || s->r.max_samples < s->r.min_samples, err, TG_E_RANGE,
			   "stopping rule: need 2 <= min samples (%d) <= max samples (%d)",
			   s->r.min_samples, s->r.max_samples);
		TG_FAIL_IF(!(s->r.max_noise > 0) || !(s->r.timeout_s > 0) || s->r.min_time_s < 0, err,
			   TG_E_RANGE, "stopping rule: noise target and timeout must be positive");
	}
	s->cap = s->r.max_samples < 1024 ? s->r.max_samples : 1024;
	s->samples = malloc((size_t)s->cap * sizeof(double));
	TG_FAIL_IF(!s->samples, err, TG_E_NOMEM, "stopping rule: out of memory");
	return 0;
}

void tg_stopper_fini(struct tg_stopper *s)
{
	free(s->samples);
	s->samples = NULL;
}

/* Relative standard error of the median from the MAD: robust to the odd
 * preempted sample. */
static double median_noise(const double *v, int n, double *dispersion)
{
	double *s = malloc((size_t)n * sizeof(double));
	if (!s)
		return INFINITY;
	memcpy(s, v, (size_t)n * sizeof(double));
	qsort(s, (size_t)n, sizeof(double), cmp_double);
	double med = n % 2 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
	for (int i = 0; i < n; i++)
		s[i] = fabs(s[i] - med);
	qsort(s, (size_t)n, sizeof(double), cmp_double);
	double mad = n % 2 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
	free(s);
	if (med <= 0)
		return INFINITY;
	/* sigma ~ 1.4826 MAD; the median's standard error ~ 1.2533 sigma / sqrt(n) */
	*dispersion = 1.4826 * mad / med;
	return 1.2533 * *dispersion / sqrt((double)n);
}

int tg_stopper_add(struct tg_stopper *s, double sample_ns, double elapsed_s)
{
	if (s->n == s->cap) {
		int cap = s->cap * 2 < s->r.max_samples ? s->cap * 2 : s->r.max_samples;
		double *nv = cap > s->cap ? realloc(s->samples, (size_t)cap * sizeof(double)) : NULL;
		if (!nv)
			return TG_STOP_MAX;
		s->samples = nv;
		s->cap = cap;
	}
	s->samples[s->n++] = sample_ns;
	s->sum_s += sample_ns * 1e-9;
	if (s->r.fixed > 0)
		return s->n >= s->r.fixed ? TG_STOP_COUNT : TG_STOP_CONTINUE;
	if (s->n >= s->r.max_samples)
		return TG_STOP_MAX;
	if (elapsed_s >= s->r.timeout_s && s->n >= 2)
		return TG_STOP_TIMEOUT;
	if (s->n < s->r.min_samples || s->sum_s < s->r.min_time_s)
		return TG_STOP_CONTINUE;
	double dispersion = 0;
	s->last_noise = median_noise(s->samples, s->n, &dispersion);
	if (s->last_noise <= s->r.max_noise)
		return TG_STOP_NOISE;
	/* the dispersion itself has settled: more samples refine the median
	 * only slowly, and the state's time is better spent elsewhere -- when
	 * the median is known well enough all the same (within 4x the target,
	 * 2% by default); a noisier state goes on to its budget and is reported
	 * as noisy, not as stable */
	s->noise[s->n_noise++ % 32] = dispersion;
	if (s->n_noise >= 32 && s->n_noise % 8 == 0 &&
	    s->last_noise <= TG_STOP_STABLE_MAX * s->r.max_noise) {
		double m = 0, m2 = 0;
		for (int i = 0; i < 32; i++)
			m += s->noise[i] / 32.0;
		for (int i = 0; i < 32; i++)
			m2 += (s->noise[i] - m) * (s->noise[i] - m) / 31.0;
		if (m > 0 && sqrt(m2) / m < 0.05)
			return TG_STOP_STABLE;
	}
	return TG_STOP_CONTINUE;
}

const char *tg_stop_reason_name(int reason)
{
	static const char *const names[] = {"running", "count", "noise", "stable-noise", "timeout",
					    "max-samples"};
	return reason >= 0 && reason <= TG_STOP_MAX ? names[reason] : "?";
}

/* ---- Mann-Whitney U ------------------------------------------------------------ */

struct ranked {
	double v;
	int group;
};

static int cmp_ranked(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;
	return (x->v > y->v) - (x->v < y->v);
}

/* Exact two-sided p of U (no ties): counts of rank sums by dynamic programming. */
static double exact_p(int na, int nb, double u)
{
	/* f[i][j][k] = arrangements of i a's and j b's with U = k: f(i,j,k) =
	 * f(i-1,j,k-j) + f(i,j-1,k) */
	const int umax = na * nb;
	double *prev = calloc((size_t)(nb + 1) * (size_t)(umax + 1), sizeof(double));
	double *cur = calloc((size_t)(nb + 1) * (size_t)(umax + 1), sizeof(double));
	if (!prev || !cur) {
		free(prev);
		free(cur);
		return NAN;
	}
#define F(arr, j, k) arr[(size_t)(j) * (size_t)(umax + 1) + (size_t)(k)]
	for (int j = 0; j <= nb; j++)
		F(prev, j, 0) = 1.0; /* i = 0 */
	for (int i = 1; i <= na; i++) {
		memset(cur, 0, (size_t)(nb + 1) * (size_t)(umax + 1) * sizeof(double));
		for (int j = 0; j <= nb; j++)
			for (int k = 0; k <= i * j; k++) {
				double v = k >= j ? F(prev, j, k - j) : 0.0;
				if (j > 0)
					v += F(cur, j - 1, k);
				F(cur, j, k) = v;
			}
		double *t = prev;
		prev = cur;
		cur = t;
	}
	double total = 0, tail = 0;
	const double mean = (double)umax / 2.0, dist = fabs(u - mean);
	for (int k = 0; k <= umax; k++) {
		double c = F(prev, nb, k);
		total += c;
		if (fabs((double)k - mean) >= dist - 1e-9)
			tail += c;
	}
#undef F
	free(prev);
	free(cur);
	return total > 0 ? fmin(1.0, tail / total) : NAN;
}

int tg_mann_whitney(const double *a, int na, const double *b, int nb, struct tg_mwu *out,
		    struct tg_error *err)
{
	memset(out, 0, sizeof(*out));
	TG_FAIL_IF(na < 1 || nb < 1, err, TG_E_INVAL, "Mann-Whitney: empty sample");
	const int n = na + nb;
	struct ranked *r = malloc((size_t)n * sizeof(*r));
	TG_FAIL_IF(!r, err, TG_E_NOMEM, "Mann-Whitney: out of memory");
	for (int i = 0; i < na; i++)
		r[i] = (struct ranked){a[i], 0};
	for (int i = 0; i < nb; i++)
		r[na + i] = (struct ranked){b[i], 1};
	qsort(r, (size_t)n, sizeof(*r), cmp_ranked);
	double rank_sum_a = 0, tie_term = 0;
	bool ties = false;
	for (int i = 0; i < n;) {
		int j = i;
		while (j < n && r[j].v == r[i].v)
			j++;
		double avg = 0.5 * ((double)i + 1 + (double)j);
		int t = j - i;
		if (t > 1) {
			ties = true;
			tie_term += (double)t * t * t - t;
		}
		for (int k = i; k < j; k++)
			if (r[k].group == 0)
				rank_sum_a += avg;
		i = j;
	}
	free(r);
	out->u = rank_sum_a - (double)na * (na + 1) / 2.0;
	const double mu = (double)na * nb / 2.0;
	const double var = (double)na * nb / 12.0 * ((double)n + 1 - tie_term / ((double)n * (n - 1)));
	if (var > 0) {
		double d = fabs(out->u - mu) - 0.5;
		out->z = (out->u - mu >= 0 ? 1 : -1) * (d > 0 ? d : 0) / sqrt(var);
	}
	if (!ties && (double)na * nb <= 2500.0) {
		out->p = exact_p(na, nb, out->u);
		out->exact = true;
	} else {
		out->p = var > 0 ? erfc(fabs(out->z) / sqrt(2.0)) : 1.0;
	}
	return 0;
}

/* ---- bootstrap ----------------------------------------------------------------- */

static uint64_t next_rand(uint64_t *s)
{
	/* splitmix64 */
	uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

/* The median of n draws with replacement from sorted[0..n): how often each
 * order statistic is drawn (counts, n zeroed ints), then the middle of the
 * cumulative counts; O(n) a resample where sorting the draws costs
 * O(n log n). */
static double resampled_median(const double *sorted, int n, int *counts, uint64_t *seed)
{
	memset(counts, 0, (size_t)n * sizeof(int));
	for (int i = 0; i < n; i++) /* an index in [0, n): the high half of r * n */
		counts[(uint64_t)(((unsigned __int128)next_rand(seed) * (uint64_t)n) >> 64)]++;
	/* the draws' order statistics lo = n/2 - 1 + n%2 and hi = n/2 (0-based) */
	const int lo = (n - 1) / 2, hi = n / 2;
	double v_lo = sorted[n - 1], v_hi = sorted[n - 1];
	int seen = 0, k = 0;
	for (; k < n; k++) {
		seen += counts[k];
		if (seen > lo) {
			v_lo = sorted[k];
			break;
		}
	}
	for (; k < n; k++) {
		if (seen > hi) {
			v_hi = sorted[k];
			break;
		}
		if (k + 1 < n)
			seen += counts[k + 1];
	}
	return 0.5 * (v_lo + v_hi);
}

int tg_bootstrap_ratio_ci(const double *a, int na, const double *b, int nb, double level,
			  int iters, uint64_t seed, double *lo, double *hi, struct tg_error *err)
{
	TG_FAIL_IF(na < 1 || nb < 1 || iters < 10, err, TG_E_INVAL,
		   "bootstrap: needs samples on both sides and at least 10 resamples");
	double *ratios = malloc((size_t)iters * sizeof(double));
	double *sa = malloc((size_t)na * sizeof(double)), *sb = malloc((size_t)nb * sizeof(double));
	int *counts = malloc((size_t)(na > nb ? na : nb) * sizeof(int));
	if (!ratios || !sa || !sb || !counts) {
		free(ratios);
		free(sa);
		free(sb);
		free(counts);
		return TG_ERR(err, TG_E_NOMEM, "bootstrap: out of memory");
	}
	memcpy(sa, a, (size_t)na * sizeof(double));
	memcpy(sb, b, (size_t)nb * sizeof(double));
	qsort(sa, (size_t)na, sizeof(double), cmp_double);
	qsort(sb, (size_t)nb, sizeof(double), cmp_double);
	for (int i = 0; i < iters; i++) {
		double ma = resampled_median(sa, na, counts, &seed);
		double mb = resampled_median(sb, nb, counts, &seed);
		ratios[i] = ma > 0 ? mb / ma : NAN;
	}
	free(sa);
	free(sb);
	free(counts);
	qsort(ratios, (size_t)iters, sizeof(double), cmp_double);
	const double tail = (1.0 - level) / 2.0;
	*lo = quantile(ratios, iters, tail);
	*hi = quantile(ratios, iters, 1.0 - tail);
	free(ratios);
	return 0;
}

int tg_paired_ratio(const double *num, const double *den, int n, double level, int iters,
		    uint64_t seed, double *ratio, double *lo, double *hi, struct tg_error *err)
{
	TG_FAIL_IF(n < 1 || iters < 10, err, TG_E_INVAL,
		   "paired ratio: needs pairs and at least 10 resamples");
	double *r = malloc((size_t)n * sizeof(double));
	double *meds = malloc((size_t)iters * sizeof(double));
	int *counts = malloc((size_t)n * sizeof(int));
	if (!r || !meds || !counts) {
		free(r);
		free(meds);
		free(counts);
		return TG_ERR(err, TG_E_NOMEM, "paired ratio: out of memory");
	}
	int m = 0;
	for (int i = 0; i < n; i++)
		if (den[i] > 0 && num[i] >= 0)
			r[m++] = num[i] / den[i];
	if (m == 0) {
		*ratio = *lo = *hi = NAN;
	} else {
		qsort(r, (size_t)m, sizeof(double), cmp_double);
		*ratio = m % 2 ? r[m / 2] : 0.5 * (r[m / 2 - 1] + r[m / 2]);
		for (int i = 0; i < iters; i++)
			meds[i] = resampled_median(r, m, counts, &seed);
		qsort(meds, (size_t)iters, sizeof(double), cmp_double);
		const double tail = (1.0 - level) / 2.0;
		*lo = quantile(meds, iters, tail);
		*hi = quantile(meds, iters, 1.0 - tail);
	}
	free(r);
	free(meds);
	free(counts);
	return 0;
}

/* ---- change points --------------------------------------------------------------- */

static void mean_var(const double *x, int n, double *m, double *v)
{
	double s = 0;
	for (int i = 0; i < n; i++)
		s += x[i];
	*m = s / n;
	double q = 0;
	for (int i = 0; i < n; i++)
		q += (x[i] - *m) * (x[i] - *m);
	*v = n > 1 ? q / (n - 1) : 0;
}

static int segment(const double *x, int off, int n, double min_rel, double t_min, int min_seg,
		   int *splits, int cap, int count)
{
	if (n < 2 * min_seg || count >= cap)
		return count;
	int best = -1;
	double best_t = 0;
	for (int k = min_seg; k <= n - min_seg; k++) {
		double m1, v1, m2, v2;
		mean_var(x + off, k, &m1, &v1);
		mean_var(x + off + k, n - k, &m2, &v2);
		double se = sqrt(v1 / k + v2 / (n - k));
		/* identical points on both sides: any real shift is significant */
		double t = se > 0 ? fabs(m2 - m1) / se : (m1 != m2 ? INFINITY : 0);
		if (fabs(m2 - m1) > min_rel * fabs(m1) && t > best_t) {
			best_t = t;
			best = k;
		}
	}
	if (best < 0 || best_t < t_min)
		return count;
	count = segment(x, off, best, min_rel, t_min, min_seg, splits, cap, count);
	if (count < cap)
		splits[count++] = off + best;
	return segment(x, off + best, n - best, min_rel, t_min, min_seg, splits, cap, count);
}

int tg_change_points(const double *x, int n, double min_rel, double t_min, int min_seg, int *splits,
		     int cap)
{
	if (min_seg < 1)
		min_seg = 1;
	return segment(x, 0, n, min_rel, t_min, min_seg, splits, cap, 0);
}

double tg_median_of(const double *v, int n)
{
	if (n <= 0)
		return NAN;
	double small[64], *s = n <= 64 ? small : malloc((size_t)n * sizeof(double));
	if (!s)
		return NAN;
	memcpy(s, v, (size_t)n * sizeof(double));
	qsort(s, (size_t)n, sizeof(double), cmp_double);
	const double m = quantile(s, n, 0.5);
	if (s != small)
		free(s);
	return m;
}

double tg_drift_spread(const double *samples, int n, int blocks)
{
	if (blocks < 2 || n < 4 * blocks)
		return NAN;
	double lo = INFINITY, hi = -INFINITY;
	for (int b = 0; b < blocks; b++) {
		const int from = (int)((int64_t)n * b / blocks), to = (int)((int64_t)n * (b + 1) / blocks);
		const double m = tg_median_of(samples + from, to - from);
		if (!(m > 0))
			return NAN;
		lo = m < lo ? m : lo;
		hi = m > hi ? m : hi;
	}
	/* what the noise alone spreads block medians by: the expected range of
	 * `blocks` normal draws (2.06 sigma for 4) of a median of k samples
	 * (1.2533 sigma / sqrt k); sigma, relative, from the differences of
	 * successive samples (median |x[i] - x[i-1]| / (0.6745 sqrt 2)), which a
	 * slow drift barely moves */
	double *dif = malloc((size_t)(n - 1) * sizeof(double));
	if (!dif)
		return NAN;
	for (int i = 1; i < n; i++)
		dif[i - 1] = fabs(samples[i] - samples[i - 1]);
	const double sigma = tg_median_of(dif, n - 1) / (0.6745 * sqrt(2.0)) / tg_median_of(samples, n);
	free(dif);
	static const double range[] = {0, 0, 1.128, 1.693, 2.059, 2.326, 2.534, 2.704, 2.847};
	const double d = blocks < (int)(sizeof(range) / sizeof(range[0])) ? range[blocks] : 3.0;
	const double noise = d * 1.2533 * sigma / sqrt((double)n / blocks);
	const double spread = hi / lo - 1.0 - noise;
	return spread > 0 ? spread : 0;
}

double tg_stats_imbalance(const double *load, int n)
{
	double sum = 0, max = 0;
	for (int i = 0; i < n; i++) {
		sum += load[i];
		if (load[i] > max)
			max = load[i];
	}
	return sum > 0 ? max / (sum / n) : 1.0;
}
