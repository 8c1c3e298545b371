#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tg_accuracy.h"
#include "tg_atc_math.h"

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

void tg_accuracy_acc_init(struct tg_accuracy_acc *a, const struct tg_atc_params *p)
{
	memset(a, 0, sizeof(*a));
	a->min_signal = p->min_signal;
	for (int f = 0; f < TG_ATC_FAMILIES; f++)
		tg_atc_slot_lengths(p, f, a->fam[f].length);
}

void tg_accuracy_acc_fini(struct tg_accuracy_acc *a)
{
	free(a->flips);
	a->flips = NULL;
	a->n_flips = a->cap_flips = 0;
}

static void rel_add(struct tg_rel_acc *r, const double *approx, const double *exact, int32_t n)
{
	for (int32_t i = 0; i < n; i++) {
		const double me = exact[i], ma = approx[i];
		if (isfinite(me) && isfinite(ma) && me != 0.0) {
			const double rel = fabs(ma - me) / fabs(me);
			r->sum_rel += rel;
			if (rel > r->max_rel)
				r->max_rel = rel;
			r->n_valid++;
			r->n_within5 += rel <= 0.05;
		}
	}
}

static void add_flip(struct tg_accuracy_acc *a, int32_t symbol, int8_t exact, int8_t approx)
{
	a->flipped++;
	if (a->n_flips == a->cap_flips) {
		/* out of memory: counted, not listed (n_flips < flipped says so) */
		const int64_t cap = a->cap_flips ? 2 * a->cap_flips : 16;
		struct tg_flip *p = realloc(a->flips, (size_t)cap * sizeof(*p));
		if (!p)
			return;
		a->flips = p;
		a->cap_flips = cap;
	}
	struct tg_flip *x = &a->flips[a->n_flips++];
	memset(x, 0, sizeof(*x));
	x->symbol = symbol;
	x->exact = exact;
	x->approx = approx;
}

void tg_accuracy_acc_add(struct tg_accuracy_acc *a, const struct tg_batch *b, int32_t first,
			 const struct tg_atc_outputs *exact, const struct tg_atc_outputs *approx)
{
	const int64_t plane = (int64_t)b->n_symbols * b->stride;
	if (exact->slot_ma)
		a->slots_seen = true;
	for (int32_t s = 0; s < b->n_symbols; s++) {
		const int32_t n = tg_batch_bars(b, s);
		const int64_t off = (int64_t)s * b->stride;
		for (int f = 0; f < TG_ATC_FAMILIES; f++) {
			const double *ma = approx->ma + f * plane + off;
			rel_add(&a->fam[f].base, ma, exact->ma + f * plane + off, n);
			if (exact->slot_ma)
				for (int k = 0; k < TG_ATC_SLOTS; k++)
					rel_add(&a->fam[f].slot[k], ma,
						exact->slot_ma + (f * TG_ATC_SLOTS + k) * plane + off, n);
			const double *se = exact->l1_signal + f * plane + off;
			const double *sa = approx->l1_signal + f * plane + off;
			for (int32_t i = 0; i < n; i++) {
				const int ce = tg_sign_class(se[i]), ca = tg_sign_class(sa[i]);
				a->fam[f].n_sign += ce == ca;
				if (ce != 2 && ca != 2)
					a->fam[f].classes[ce + 1][ca + 1]++;
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
			a->class_diff += tg_final_signal(ae[i], a->min_signal) !=
					 tg_final_signal(aa[i], a->min_signal);
		}
		a->avg_bars += n;
		if (exact->final_signal && approx->final_signal) {
			const int8_t fe = exact->final_signal[s], fa = approx->final_signal[s];
			a->symbols++;
			if (fe != fa)
				add_flip(a, first + s, fe, fa);
		}
	}
}

static void rel_merge(struct tg_rel_acc *a, const struct tg_rel_acc *b)
{
	a->sum_rel += b->sum_rel;
	if (b->max_rel > a->max_rel)
		a->max_rel = b->max_rel;
	a->n_valid += b->n_valid;
	a->n_within5 += b->n_within5;
}

void tg_accuracy_acc_merge(struct tg_accuracy_acc *a, const struct tg_accuracy_acc *b,
			   const struct tg_flip *flips, int64_t n, int32_t first)
{
	for (int f = 0; f < TG_ATC_FAMILIES; f++) {
		rel_merge(&a->fam[f].base, &b->fam[f].base);
		for (int k = 0; k < TG_ATC_SLOTS; k++)
			rel_merge(&a->fam[f].slot[k], &b->fam[f].slot[k]);
		a->fam[f].n_sign += b->fam[f].n_sign;
		a->fam[f].n_bars += b->fam[f].n_bars;
		for (int i = 0; i < 3; i++)
			for (int j = 0; j < 3; j++)
				a->fam[f].classes[i][j] += b->fam[f].classes[i][j];
	}
	a->slots_seen |= b->slots_seen;
	a->avg_sign += b->avg_sign;
	a->avg_below += b->avg_below;
	a->avg_bars += b->avg_bars;
	if (b->avg_max_abs > a->avg_max_abs)
		a->avg_max_abs = b->avg_max_abs;
	a->symbols += b->symbols;
	a->class_diff += b->class_diff;
	/* the flips b counted but could not list stay counted */
	const int64_t unlisted = b->flipped - n;
	for (int64_t k = 0; k < n; k++)
		add_flip(a, first + flips[k].symbol, flips[k].exact, flips[k].approx);
	a->flipped += unlisted > 0 ? unlisted : 0;
}

static double ratio(int64_t num, int64_t den)
{
	return den > 0 ? (double)num / (double)den : NAN;
}

double tg_kappa(const int64_t classes[3][3], double *observed, double *chance)
{
	int64_t n = 0, diag = 0, row[3] = {0, 0, 0}, col[3] = {0, 0, 0};
	for (int i = 0; i < 3; i++)
		for (int j = 0; j < 3; j++) {
			n += classes[i][j];
			row[i] += classes[i][j];
			col[j] += classes[i][j];
			diag += i == j ? classes[i][j] : 0;
		}
	double po = NAN, pe = NAN, kappa = NAN;
	if (n > 0) {
		po = (double)diag / (double)n;
		pe = 0;
		for (int c = 0; c < 3; c++)
			pe += ((double)row[c] / (double)n) * ((double)col[c] / (double)n);
		if (pe < 1.0)
			kappa = (po - pe) / (1.0 - pe);
	}
	if (observed)
		*observed = po;
	if (chance)
		*chance = pe;
	return kappa;
}

static void rel_finish(const struct tg_rel_acc *r, double *mean, double *max, double *within)
{
	*mean = r->n_valid ? r->sum_rel / (double)r->n_valid : NAN;
	*max = r->n_valid ? r->max_rel : NAN;
	*within = ratio(r->n_within5, r->n_valid);
}

void tg_accuracy_acc_finish(struct tg_accuracy_acc *a, struct tg_accuracy *out)
{
	for (int f = 0; f < TG_ATC_FAMILIES; f++) {
		struct tg_family_accuracy *o = &out->family[f];
		memset(o, 0, sizeof(*o));
		rel_finish(&a->fam[f].base, &o->mean_rel_err, &o->max_rel_err, &o->frac_within_5pct);
		o->l1_sign_agreement = ratio(a->fam[f].n_sign, a->fam[f].n_bars);
		o->l1_kappa = tg_kappa((const int64_t(*)[3])a->fam[f].classes, &o->l1_agree_finite,
				       &o->l1_chance);
		/* undefined (no bars with both signals) is not flagged: nothing to judge */
		o->no_better_than_chance = o->l1_kappa == o->l1_kappa &&
					   o->l1_kappa < TG_ACCURACY_CHANCE_KAPPA;
		o->slots_mean_rel_err = NAN;
		o->worst = -1;
		if (!a->slots_seen)
			continue;
		/* in length order (slot 0, the base, among them) */
		int order[TG_ATC_SLOTS] = {0};
		for (int k = 0; k < TG_ATC_SLOTS; k++) {
			int j = k;
			while (j > 0 && a->fam[f].length[order[j - 1]] > a->fam[f].length[k]) {
				order[j] = order[j - 1];
				j--;
			}
			order[j] = k;
		}
		struct tg_rel_acc all = {0};
		for (int j = 0; j < TG_ATC_SLOTS; j++) {
			const int k = order[j];
			const struct tg_rel_acc *r = &a->fam[f].slot[k];
			struct tg_slot_accuracy *x = &o->slot[j];
			x->slot = k;
			x->length = a->fam[f].length[k];
			rel_finish(r, &x->mean_rel_err, &x->max_rel_err, &x->frac_within_5pct);
			all.sum_rel += r->sum_rel;
			all.n_valid += r->n_valid;
			if (x->mean_rel_err == x->mean_rel_err &&
			    (o->worst < 0 || x->mean_rel_err > o->slot[o->worst].mean_rel_err))
				o->worst = j;
		}
		o->n_slots = TG_ATC_SLOTS;
		o->slots_mean_rel_err = all.n_valid ? all.sum_rel / (double)all.n_valid : NAN;
	}
	out->avg_sign_agreement = ratio(a->avg_sign, a->avg_bars);
	out->avg_max_abs_diff = a->avg_bars ? a->avg_max_abs : NAN;
	out->avg_frac_below_1e6 = ratio(a->avg_below, a->avg_bars);
	out->bars = a->avg_bars;
	out->symbols = a->symbols;
	out->flipped = a->flipped;
	out->bars_differing = a->avg_bars ? (double)a->class_diff / (double)a->avg_bars : NAN;
	out->flips = a->flips;
	out->n_flips = a->n_flips;
	a->flips = NULL;
	a->n_flips = a->cap_flips = 0;
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

void tg_agreement_acc_merge(struct tg_agreement_acc *a, const struct tg_agreement_acc *b,
			    int32_t first)
{
	if (b->max_abs > a->max_abs) {
		a->max_abs = b->max_abs;
		a->worst_symbol = b->worst_symbol >= 0 ? first + b->worst_symbol : -1;
		a->worst_bar = b->worst_bar;
		a->worst_ref = b->worst_ref;
		a->worst_other = b->worst_other;
	}
	a->n_sign += b->n_sign;
	a->n_bars += b->n_bars;
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
