#include <math.h>
#include <string.h>

#include "tg_accuracy.h"

/* |x - y|, with NaN == NaN counted as agreement and NaN vs a number as an
 * infinite difference. */
static double abs_diff(double x, double y)
{
	double d = fabs(x - y);
	if (d != d)
		d = (x != x) == (y != y) ? 0.0 : INFINITY;
	return d;
}

int tg_sign_class(double v)
{
	if (v != v)
		return 2;
	return (v > 0) - (v < 0);
}

void tg_accuracy_acc_init(struct tg_accuracy_acc *a, double min_signal)
{
	memset(a, 0, sizeof(*a));
	a->min_signal = min_signal;
}

int tg_decision_class(double v, double min_signal)
{
	if (!(v == v) || fabs(v) < min_signal)
		return 0;
	return v > 0 ? 1 : -1;
}

void tg_accuracy_acc_add(struct tg_accuracy_acc *a, const struct tg_batch *b, int32_t first,
			 const struct tg_atc_outputs *exact, const struct tg_atc_outputs *approx)
{
	const int64_t plane = (int64_t)b->n_symbols * b->stride;
	for (int32_t s = 0; s < b->n_symbols; s++) {
		const int32_t n = tg_batch_bars(b, s);
		const int64_t off = (int64_t)s * b->stride;
		for (int f = 0; f < TG_ATC_FAMILIES; f++) {
			const double *me = exact->ma + f * plane + off;
			const double *ma = approx->ma + f * plane + off;
			const double *se = exact->l1_signal + f * plane + off;
			const double *sa = approx->l1_signal + f * plane + off;
			for (int32_t i = 0; i < n; i++) {
				if (isfinite(me[i]) && isfinite(ma[i]) && me[i] != 0.0) {
					double rel = fabs(ma[i] - me[i]) / fabs(me[i]);
					a->fam[f].sum_rel += rel;
					if (rel > a->fam[f].max_rel)
						a->fam[f].max_rel = rel;
					a->fam[f].n_valid++;
					a->fam[f].n_within5 += rel <= 0.05;
				}
				a->fam[f].n_sign += tg_sign_class(se[i]) == tg_sign_class(sa[i]);
			}
			a->fam[f].n_bars += n;
		}
		const double *ae = exact->average + off, *aa = approx->average + off;
		for (int32_t i = 0; i < n; i++) {
			double d = abs_diff(ae[i], aa[i]);
			if (d > a->avg_max_abs)
				a->avg_max_abs = d;
			a->avg_below += d < 1e-6;
			a->avg_sign += tg_sign_class(ae[i]) == tg_sign_class(aa[i]);
			a->class_diff += tg_decision_class(ae[i], a->min_signal) !=
					 tg_decision_class(aa[i], a->min_signal);
		}
		a->avg_bars += n;
		if (exact->final_signal && approx->final_signal) {
			const int8_t fe = exact->final_signal[s], fa = approx->final_signal[s];
			a->symbols++;
			if (fe != fa) {
				if (a->n_listed < TG_RESULTS_FLIPS_LISTED) {
					a->flip_symbol[a->n_listed] = first + s;
					a->flip_exact[a->n_listed] = fe;
					a->flip_approx[a->n_listed] = fa;
					a->n_listed++;
				}
				a->flipped++;
			}
		}
	}
}

static double ratio(int64_t num, int64_t den)
{
	return den > 0 ? (double)num / (double)den : NAN;
}

void tg_accuracy_acc_finish(const struct tg_accuracy_acc *a, struct tg_accuracy *out)
{
	for (int f = 0; f < TG_ATC_FAMILIES; f++) {
		out->family[f].mean_rel_err =
			a->fam[f].n_valid ? a->fam[f].sum_rel / (double)a->fam[f].n_valid : NAN;
		out->family[f].max_rel_err = a->fam[f].n_valid ? a->fam[f].max_rel : NAN;
		out->family[f].frac_within_5pct = ratio(a->fam[f].n_within5, a->fam[f].n_valid);
		out->family[f].l1_sign_agreement = ratio(a->fam[f].n_sign, a->fam[f].n_bars);
	}
	out->avg_sign_agreement = ratio(a->avg_sign, a->avg_bars);
	out->avg_max_abs_diff = a->avg_bars ? a->avg_max_abs : NAN;
	out->avg_frac_below_1e6 = ratio(a->avg_below, a->avg_bars);
	out->bars = a->avg_bars;
	out->symbols = a->symbols;
	out->flipped = a->flipped;
	out->bars_differing = a->avg_bars ? (double)a->class_diff / (double)a->avg_bars : NAN;
	out->n_listed = a->n_listed;
	for (int k = 0; k < a->n_listed; k++) {
		out->flip_symbol[k] = a->flip_symbol[k];
		out->flip_exact[k] = a->flip_exact[k];
		out->flip_approx[k] = a->flip_approx[k];
		out->flip_name[k][0] = '\0';
	}
}

void tg_agreement_acc_init(struct tg_agreement_acc *a)
{
	memset(a, 0, sizeof(*a));
	a->worst_symbol = a->worst_bar = -1;
}

void tg_agreement_acc_add(struct tg_agreement_acc *a, const struct tg_batch *b, const double *ref,
			  const double *other)
{
	for (int32_t s = 0; s < b->n_symbols; s++) {
		const int32_t n = tg_batch_bars(b, s);
		const double *x = ref + (int64_t)s * b->stride, *y = other + (int64_t)s * b->stride;
		for (int32_t i = 0; i < n; i++) {
			double d = abs_diff(x[i], y[i]);
			if (d > a->max_abs) {
				a->max_abs = d;
				a->worst_symbol = s;
				a->worst_bar = i;
				a->worst_ref = x[i];
				a->worst_other = y[i];
			}
			a->n_sign += tg_sign_class(x[i]) == tg_sign_class(y[i]);
		}
		a->n_bars += n;
	}
}

void tg_agreement_acc_finish(const struct tg_agreement_acc *a, struct tg_agreement *out)
{
	out->max_abs_diff = a->n_bars ? a->max_abs : NAN;
	out->sign_agreement = ratio(a->n_sign, a->n_bars);
	out->bars = a->n_bars;
	out->worst_symbol = a->worst_symbol;
	out->worst_bar = a->worst_bar;
	out->worst_reference = a->worst_symbol >= 0 ? a->worst_ref : NAN;
	out->worst_value = a->worst_symbol >= 0 ? a->worst_other : NAN;
}

int64_t tg_nonfinite_average(const struct tg_batch *b, const double *average, int32_t *symbol,
			     int32_t *bar)
{
	int64_t count = 0;
	*symbol = *bar = -1;
	for (int32_t s = 0; s < b->n_symbols; s++) {
		const int32_t n = tg_batch_bars(b, s);
		const double *x = b->close + (int64_t)s * b->stride, *y = average + (int64_t)s * b->stride;
		for (int32_t i = 0; i < n; i++) {
			if (isfinite(x[i]) && !isfinite(y[i])) {
				if (count++ == 0) {
					*symbol = s;
					*bar = i;
				}
			}
		}
	}
	return count;
}
