/* The ATC pipeline for one symbol (spec §4-§10): MAs per family, then one
 * fused pass per family over the bars doing crossovers, Layer-1 equities,
 * the rounded weighted signal, the Layer-2 equity and the Average_Signal
 * sums, so nothing per (bar, MA) beyond the MA itself is stored.
 */
#include <stdlib.h>
#include <string.h>

#include "cpu_internal.h"
#include "tg_atc_math.h"
#include "tg_nvtx.h"
#include "tg_phase.h"

int tg_cpu_scratch_reserve(struct tg_cpu_scratch *s, int32_t n, struct tg_error *err)
{
	if (n <= s->cap)
		return 0;
	/* 9 MA rows + tmp + r, r1, r2, nom, den */
	const size_t rows = TG_ATC_SLOTS + 1 + 5;
	double *block = malloc(rows * (size_t)n * sizeof(double));
	TG_FAIL_IF(!block, err, TG_E_NOMEM,
		   "cpu backend: failed to allocate %zu MB of scratch for %d bars",
		   rows * (size_t)n * sizeof(double) >> 20, n);
	free(s->block);
	s->block = block;
	s->cap = n;
	double *p = block;
	for (int k = 0; k < TG_ATC_SLOTS; k++, p += n)
		s->ma[k] = p;
	s->tmp = p;
	p += n;
	s->r = p;
	s->r1 = p + n;
	s->r2 = p + 2 * (size_t)n;
	s->nom = p + 3 * (size_t)n;
	s->den = p + 4 * (size_t)n;
	return 0;
}

void tg_cpu_scratch_fini(struct tg_cpu_scratch *s)
{
	free(s->block);
	memset(s, 0, sizeof(*s));
}

void tg_cpu_plan_init(struct tg_cpu_plan *plan, const struct tg_atc_params *params, double *g1,
		      double *g2, int32_t n)
{
	memset(plan, 0, sizeof(*plan));
	plan->params = params;
	for (int f = 0; f < TG_ATC_FAMILIES; f++)
		tg_atc_slot_lengths(params, f, plan->lengths[f]);
	plan->n_slots = params->ma_mode == TG_MA_APPROX ? 1 : TG_ATC_SLOTS;
	plan->d = 1.0 - params->decay / 100.0;
	const double lam = params->lambda / 1000.0;
	for (int32_t i = 0; i < n; i++) {
		g1[i] = tg_growth(i, lam, 0);
		g2[i] = tg_growth(i, lam, params->cutout);
	}
	plan->g1 = g1;
	plan->g2 = g2;
}

static void pad_nan(double *r, int32_t from, int32_t to)
{
	if (r)
		for (int32_t i = from; i < to; i++)
			r[i] = NAN;
}

/* Output rows of one family for the symbol being computed. */
struct family_rows {
	double *l1, *l2;
	double *slot_eq[TG_ATC_SLOTS];
	int8_t *slot_sig[TG_ATC_SLOTS];
};

/* Crossovers, Layer 1, Layer 2 and the Average_Signal sums of one family.
 * Slots are summed in slot order and families accumulate into nom/den in
 * family order, as the reference does. */
static void family_pass(const struct tg_cpu_plan *plan, int family, const double *p, int32_t n,
			struct tg_cpu_scratch *sc, const struct family_rows *rows)
{
	const struct tg_atc_params *prm = plan->params;
	const int K = plan->n_slots;
	const double d = plan->d;
	const double weight = prm->weight[family];
	const int32_t cutout = prm->cutout;
	const double lt = prm->long_threshold, st = prm->short_threshold;
	const double *r1 = sc->r1, *r2 = sc->r2;
	double *nom = sc->nom, *den = sc->den;

	int sig[TG_ATC_SLOTS];
	double eq[TG_ATC_SLOTS], prev_ma[TG_ATC_SLOTS];
	const double *ma[TG_ATC_SLOTS];
	for (int k = 0; k < K; k++) {
		sig[k] = 0;
		eq[k] = 1.0; /* Layer-1 start, used from bar 0 */
		prev_ma[k] = NAN;
		ma[k] = sc->ma[k];
	}
	double prev_close = NAN, prev_S = NAN, Q = NAN;
	const int want_slots = rows->slot_eq[0] != NULL || rows->slot_sig[0] != NULL;

	for (int32_t i = 0; i < n; i++) {
		const double c = p[i];
		/* bar 0 keeps the start equity; afterwards a = sig * r, NaN r -> 0 */
		const double r = r1[i] == r1[i] ? r1[i] : 0.0;
		const int first = i == 0;
		double num = 0.0, wsum = 0.0;
		for (int k = 0; k < K; k++) {
			const double m = ma[k][i];
			const double e = first ? eq[k] : tg_equity_next(eq[k], (double)sig[k], r, d);
			const int s = tg_cross_step(sig[k], c, m, prev_close, prev_ma[k]);
			eq[k] = e;
			sig[k] = s;
			prev_ma[k] = m;
			num += (double)s * e;
			wsum += e;
		}
		if (want_slots) {
			for (int k = 0; k < K; k++) {
				if (rows->slot_eq[k])
					rows->slot_eq[k][i] = eq[k];
				if (rows->slot_sig[k])
					rows->slot_sig[k][i] = (int8_t)sig[k];
			}
		}
		const double S = tg_round2_ratio(num, wsum);
		Q = i < cutout ? NAN : tg_equity_step(Q, prev_S, r2[i], weight, d);
		nom[i] += tg_cut(S, lt, st) * Q;
		den[i] += Q;
		prev_S = S;
		prev_close = c;
		if (rows->l1)
			rows->l1[i] = S;
		if (rows->l2)
			rows->l2[i] = Q;
	}
}

void tg_cpu_atc_symbol(const struct tg_cpu_plan *plan, const struct tg_batch *batch, int32_t s,
		       const struct tg_atc_outputs *out, struct tg_cpu_scratch *sc)
{
	const struct tg_atc_params *prm = plan->params;
	const int32_t n = tg_batch_bars(batch, s), stride = batch->stride;
	const double *p = batch->close + (int64_t)s * stride;
	const uint32_t mode = prm->ma_mode == TG_MA_APPROX ? TG_PHASE_APPROX : 0;
	const uint32_t color = tg_nvtx_backend_color("cpu");

	/* R (pct_change) and the growth-scaled returns of both layers. */
	tg_phase_enter(TG_PHASE_RETURNS | mode, color);
	double *R = sc->r;
	if (n > 0)
		R[0] = NAN;
	for (int32_t i = 1; i < n; i++)
		R[i] = p[i] / p[i - 1] - 1.0;
	for (int32_t i = 0; i < n; i++) {
		sc->r1[i] = R[i] * plan->g1[i];
		sc->r2[i] = R[i] * plan->g2[i];
		sc->nom[i] = 0.0;
		sc->den[i] = 0.0;
	}

	for (int f = 0; f < TG_ATC_FAMILIES; f++) {
		tg_phase_enter((TG_PHASE_MAS + (uint32_t)f) | mode, color);
		for (int k = 0; k < plan->n_slots; k++)
			tg_cpu_ma(f, prm->ma_mode, prm->lsma_point, p, n, plan->lengths[f][k], sc->ma[k],
				  sc->tmp);

		struct family_rows rows;
		memset(&rows, 0, sizeof(rows));
		rows.l1 = tg_cpu_row(out->l1_signal, batch, f, s);
		rows.l2 = tg_cpu_row(out->l2_equity, batch, f, s);
		for (int k = 0; k < plan->n_slots; k++) {
			rows.slot_eq[k] = tg_cpu_row(out->slot_equity, batch, f * TG_ATC_SLOTS + k, s);
			rows.slot_sig[k] = tg_cpu_row8(out->slot_signal, batch, f * TG_ATC_SLOTS + k, s);
		}
		tg_phase_enter((TG_PHASE_SIGNALS + (uint32_t)f) | mode, color);
		family_pass(plan, f, p, n, sc, &rows);

		double *ma_row = tg_cpu_row(out->ma, batch, f, s);
		if (ma_row)
			memcpy(ma_row, sc->ma[0], (size_t)n * sizeof(double));
		for (int k = 0; k < plan->n_slots; k++) {
			double *sm = tg_cpu_row(out->slot_ma, batch, f * TG_ATC_SLOTS + k, s);
			if (sm)
				memcpy(sm, sc->ma[k], (size_t)n * sizeof(double));
		}
	}

	/* Average_Signal: non-finite -> 0 (covers the NaN Layer 2 before the
	 * cutout), then the optional strategy shift. */
	tg_phase_enter(TG_PHASE_AVERAGE | mode, color);
	double *nom = sc->nom;
	for (int32_t i = 0; i < n; i++) {
		double v = nom[i] / sc->den[i];
		nom[i] = isfinite(v) ? v : 0.0;
	}
	tg_cpu_atc_finish(plan, batch, s, out, nom, R);
	tg_phase_enter(0, 0);
}

void tg_cpu_atc_finish(const struct tg_cpu_plan *plan, const struct tg_batch *batch, int32_t s,
		       const struct tg_atc_outputs *out, double *avg_in, const double *R)
{
	const struct tg_atc_params *prm = plan->params;
	const int32_t n = tg_batch_bars(batch, s), stride = batch->stride;
	double *nom = avg_in;
	/* Average_Signal (non-finite already 0, which covers the NaN Layer 2
	 * before the cutout), then the optional strategy shift. */
	double *avg = tg_cpu_row(out->average, batch, 0, s);
	if (prm->cutout > 0 && prm->cutout < n)
		for (int32_t i = 0; i < prm->cutout; i++)
			nom[i] = 0.0;
	if (prm->strategy_mode && n > 0) {
		memmove(nom + 1, nom, (size_t)(n - 1) * sizeof(double));
		nom[0] = 0.0;
	}
	if (avg) {
		memcpy(avg, nom, (size_t)n * sizeof(double));
		pad_nan(avg, n, stride);
	}
	double last = n > 0 ? nom[n - 1] : NAN;
	if (out->final_value)
		out->final_value[s] = last;
	if (out->final_signal)
		out->final_signal[s] = (int8_t)tg_final_signal(last, prm->min_signal);

	double *r_row = tg_cpu_row(out->r, batch, 0, s);
	if (r_row) {
		if (R)
			memcpy(r_row, R, (size_t)n * sizeof(double));
		pad_nan(r_row, n, stride);
	}
	/* approx: the one MA (and its signal/equity) fills all 9 slots */
	for (int f = 0; f < TG_ATC_FAMILIES; f++) {
		for (int k = plan->n_slots; k < TG_ATC_SLOTS; k++) {
			const int64_t plane = f * TG_ATC_SLOTS + k, src = f * TG_ATC_SLOTS;
			double *sm = tg_cpu_row(out->slot_ma, batch, plane, s);
			double *se = tg_cpu_row(out->slot_equity, batch, plane, s);
			int8_t *ss = tg_cpu_row8(out->slot_signal, batch, plane, s);
			if (sm)
				memcpy(sm, tg_cpu_row(out->slot_ma, batch, src, s), (size_t)n * sizeof(double));
			if (se)
				memcpy(se, tg_cpu_row(out->slot_equity, batch, src, s), (size_t)n * sizeof(double));
			if (ss)
				memcpy(ss, tg_cpu_row8(out->slot_signal, batch, src, s), (size_t)n);
		}
	}
	for (int f = 0; f < TG_ATC_FAMILIES; f++) {
		pad_nan(tg_cpu_row(out->ma, batch, f, s), n, stride);
		pad_nan(tg_cpu_row(out->l1_signal, batch, f, s), n, stride);
		pad_nan(tg_cpu_row(out->l2_equity, batch, f, s), n, stride);
	}
	for (int k = 0; k < TG_ATC_MAS; k++) {
		pad_nan(tg_cpu_row(out->slot_ma, batch, k, s), n, stride);
		pad_nan(tg_cpu_row(out->slot_equity, batch, k, s), n, stride);
		int8_t *ss = tg_cpu_row8(out->slot_signal, batch, k, s);
		if (ss && stride > n)
			memset(ss + n, 0, (size_t)(stride - n));
	}
}
