/* summary.md, the terminal table and the figures derived from results. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "tg_json.h"
#include "tg_phase.h"
#include "tg_report.h"

void tg_format_rate(double v, char *buf, size_t cap)
{
	static const char *const pre[] = {"", " k", " M", " G", " T", " P"};
	if (!(v == v)) {
		snprintf(buf, cap, "-");
		return;
	}
	int i = 0;
	while (fabs(v) >= 1000.0 && i < 5) {
		v /= 1000.0;
		i++;
	}
	snprintf(buf, cap, "%.3g%s", v, pre[i]);
}

double tg_report_throughput(const struct tg_state_result *st)
{
	return st->wall.median > 0 ? st->bar_mas / (st->wall.median * 1e-9) : NAN;
}

double tg_report_bars_per_s(const struct tg_state_result *st)
{
	return st->wall.median > 0 ? st->bars / (st->wall.median * 1e-9) : NAN;
}

int tg_report_throughput_note(const struct tg_run_results *r, char *buf, size_t cap)
{
	bool exact = false, approx = false;
	for (int i = 0; i < r->n_states; i++)
		if (r->states[i].available) {
			exact |= r->states[i].mas_per_bar == TG_RESULTS_FAMILIES * TG_RESULTS_SLOTS;
			approx |= r->states[i].mas_per_bar == TG_RESULTS_FAMILIES;
		}
	if (!exact && !approx) {
		buf[0] = '\0';
		return 0;
	}
	snprintf(buf, cap, "bar*MA counts the MA updates computed: %s%s%s",
		 exact ? "54 per bar exact (6 families x 9 lengths)" : "", exact && approx ? ", " : "",
		 approx ? "6 per bar approx (one MA per family fills all nine slots; bars/s compares "
			  "the modes)"
			: "");
	return 1;
}

double tg_report_ns_per_bar_ma(const struct tg_state_result *st)
{
	return st->bar_mas > 0 ? st->wall.median / st->bar_mas : NAN;
}

double tg_report_speedup(const struct tg_run_results *r, const char *backend, double *exact_ns,
			 double *approx_ns)
{
	const struct tg_state_result *e = tg_results_find_state(r, backend, "exact");
	const struct tg_state_result *a = tg_results_find_state(r, backend, "approx");
	*exact_ns = e && e->available && e->n_samples ? e->wall.median : NAN;
	*approx_ns = a && a->available && a->n_samples ? a->wall.median : NAN;
	return *exact_ns / *approx_ns;
}

int tg_report_speedup_backends(const struct tg_run_results *r, const char **out, int cap)
{
	int n = 0;
	for (int i = 0; i < r->n_states && n < cap; i++) {
		const char *b = r->states[i].backend;
		int seen = 0;
		for (int j = 0; j < n; j++)
			seen |= strcmp(out[j], b) == 0;
		const struct tg_state_result *e = tg_results_find_state(r, b, "exact");
		const struct tg_state_result *a = tg_results_find_state(r, b, "approx");
		if (!seen && e && a && e->available && a->available && e->n_samples && a->n_samples)
			out[n++] = b;
	}
	return n;
}

const char *tg_report_family_name(const struct tg_run_results *r, int f)
{
	return r->family_names[f] ? r->family_names[f] : "?";
}

/* ---- shared table rows ----------------------------------------------------- */

/* Writes one timing row in Markdown (md) or aligned text. */
static void timing_row(struct tg_sink *s, const struct tg_state_result *st, int md)
{
	char med[32], mn[32], mx[32], sd[32], tp[32], bps[32], npb[32];
	if (!st->available) {
		/* a state a signal stopped before it measured is not unavailable */
		const char *why = st->stop_reason && strcmp(st->stop_reason, "interrupted") == 0
					  ? "interrupted"
					  : "unavailable";
		if (md)
			tg_sink_printf(s, "| %s | %s | - | %s: %s | | | | | | |\n", st->backend,
				       st->ma_mode, why, st->error);
		else
			tg_sink_printf(s, "%-6s %-6s  %s: %s\n", st->backend, st->ma_mode, why,
				       st->error);
		return;
	}
	tg_format_duration(st->wall.median, med, sizeof(med));
	tg_format_duration(st->wall.min, mn, sizeof(mn));
	tg_format_duration(st->wall.max, mx, sizeof(mx));
	tg_format_duration(st->wall.stddev, sd, sizeof(sd));
	tg_format_rate(tg_report_throughput(st), tp, sizeof(tp));
	tg_format_rate(tg_report_bars_per_s(st), bps, sizeof(bps));
	snprintf(npb, sizeof(npb), "%.3g", tg_report_ns_per_bar_ma(st));
	if (md) {
		tg_sink_printf(s, "| %s | %s | %d | %s | %s | %s | %s | %s | %s | %s |\n", st->backend,
			       st->ma_mode, st->threads, med, mn, mx, sd, bps, tp, npb);
		return;
	}
	/* the terminal: how sure (n, the median's interval, why it stopped) and
	 * how parallel (CPU time over wall time) beside how fast */
	char lo[32], hi[32], ci[48], eff[16] = "-";
	tg_format_duration(st->wall.ci_lo, lo, sizeof(lo));
	tg_format_duration(st->wall.ci_hi, hi, sizeof(hi));
	snprintf(ci, sizeof(ci), "%s .. %s", lo, hi);
	if (st->cpu.n > 0 && st->wall.median > 0)
		snprintf(eff, sizeof(eff), "%.2f", st->cpu.median / st->wall.median);
	tg_sink_printf(s, "%-6s %-6s %3d %6d %10s %22s %8s %-12s %8s %9s %9s\n", st->backend,
		       st->ma_mode, st->threads, st->n_samples, med, ci, eff,
		       st->stop_reason ? st->stop_reason : "-", bps, tp, npb);
}

int tg_report_noisy(const struct tg_state_result *st, char *why, size_t cap)
{
	if (!st->available || st->n_samples < 1 || !(st->wall.median > 0))
		return 0;
	/* a budget that ended before the repetitions a verdict needs */
	if (st->n_samples < TG_REPORT_FEW_REPS && st->stop_reason &&
	    strcmp(st->stop_reason, "timeout") == 0) {
		const double per = st->state_seconds / (st->n_samples + st->warmup);
		snprintf(why, cap,
			 "%s %s: only %d repetition%s in its %.3g s budget (%d wanted; compare judges "
			 "from 3): --max-time %.0f, or --max-time auto",
			 st->backend, st->ma_mode, st->n_samples, st->n_samples == 1 ? "" : "s",
			 st->budget_s > 0 ? st->budget_s : st->state_seconds, TG_REPORT_FEW_REPS,
			 ceil(1.25 * per * (TG_REPORT_FEW_REPS + st->warmup)));
		return 1;
	}
	if (st->n_samples < 2)
		return 0;
	const double half = 0.5 * (st->wall.ci_hi - st->wall.ci_lo) / st->wall.median;
	if (st->wall.rel_stddev <= TG_REPORT_NOISY_STDDEV && half <= TG_REPORT_NOISY_CI)
		return 0;
	snprintf(why, cap, "%s %s: relative stddev %.1f%%, median known to +-%.1f%% (n %d)",
		 st->backend, st->ma_mode, 100.0 * st->wall.rel_stddev, 100.0 * half,
		 st->n_samples);
	return 1;
}

void tg_report_ratio_text(const struct tg_ratio *x, char *buf, size_t cap)
{
	switch (tg_ratio_verdict(x)) {
	case TG_RATIO_FASTER:
		snprintf(buf, cap, "%s %s is %.2fx [%.2f, %.2f] faster than %s %s", x->a_backend,
			 x->a_ma, x->speedup, x->ci_lo, x->ci_hi, x->b_backend, x->b_ma);
		break;
	case TG_RATIO_SLOWER:
		snprintf(buf, cap, "%s %s is %.2fx [%.2f, %.2f] slower than %s %s", x->a_backend,
			 x->a_ma, 1.0 / x->speedup, 1.0 / x->ci_hi, 1.0 / x->ci_lo, x->b_backend,
			 x->b_ma);
		break;
	default:
		snprintf(buf, cap,
			 "%s %s and %s %s: no clear difference (%.2fx [%.2f, %.2f], the interval "
			 "holds 1)",
			 x->a_backend, x->a_ma, x->b_backend, x->b_ma, x->speedup, x->ci_lo, x->ci_hi);
	}
}

static void pct(char *buf, size_t cap, double v)
{
	if (v == v)
		snprintf(buf, cap, "%.2f%%", 100.0 * v);
	else
		snprintf(buf, cap, "-");
}

/* " at SYMBOL bar B" where two backends differ most, "" when they agree. */
/* A run split across ranks: each rank's share and own median per state,
 * and the imbalance (the slowest rank over the mean); md: a markdown table,
 * else terminal lines. */
static void write_ranks(const struct tg_run_results *r, struct tg_sink *s, bool md)
{
	if (r->n_rank_results < 2)
		return;
	if (md) {
		tg_sink_printf(s,
			       "\n## Ranks\n\nSplit across %d ranks (%s), contiguous symbols balanced by "
			       "bars. Every repetition starts at a barrier and counts as the slowest "
			       "rank's time; below, each rank's own median (ms) and the imbalance "
			       "(slowest over mean).\n\n| rank | host | symbols | bar-symbols |",
			       r->n_rank_results, r->launcher[0] ? r->launcher : "MPI");
		for (int i = 0; i < r->n_states; i++)
			tg_sink_printf(s, " %s %s |", r->states[i].backend, r->states[i].ma_mode);
		tg_sink_puts(s, "\n|---|---|---|---|");
		for (int i = 0; i < r->n_states; i++)
			tg_sink_puts(s, "---|");
		tg_sink_putc(s, '\n');
	} else {
		tg_sink_printf(s, "\nranks: %d (%s); own median ms per state, then the imbalance "
				  "(slowest over mean)\n",
			       r->n_rank_results, r->launcher[0] ? r->launcher : "MPI");
	}
	for (int k = 0; k < r->n_rank_results; k++) {
		const struct tg_rank_result *x = &r->ranks[k];
		if (md)
			tg_sink_printf(s, "| %d | %s | %d-%d (%d) | %.0f |", x->rank, x->host,
				       x->first_symbol, x->first_symbol + x->symbols - 1, x->symbols,
				       x->bars);
		else
			tg_sink_printf(s, "  rank %d on %s: symbols %d-%d (%d), %.0f bar-symbols:", x->rank,
				       x->host, x->first_symbol, x->first_symbol + x->symbols - 1,
				       x->symbols, x->bars);
		for (int i = 0; i < r->n_states; i++) {
			const double v = i < x->n_states ? x->median_ns[i] : 0;
			if (md)
				tg_sink_printf(s, v > 0 ? " %.4g |" : " - |", v * 1e-6);
			else if (v > 0)
				tg_sink_printf(s, "%s %s %s %.4g", i ? "," : "", r->states[i].backend,
					       r->states[i].ma_mode, v * 1e-6);
		}
		tg_sink_putc(s, '\n');
	}
	tg_sink_puts(s, md ? "| imbalance | | | |" : "  imbalance:");
	for (int i = 0; i < r->n_states; i++) {
		const double v = tg_results_rank_imbalance(r, i);
		if (md)
			tg_sink_printf(s, v > 0 ? " %.3f |" : " - |", v);
		else if (v > 0)
			tg_sink_printf(s, "%s %s %s %.3f", i ? "," : "", r->states[i].backend,
				       r->states[i].ma_mode, v);
	}
	tg_sink_putc(s, '\n');
}

static void worst_cell(const struct tg_agreement *g, char *buf, size_t cap)
{
	buf[0] = '\0';
	if (g->max_abs_diff > 0 && g->worst_symbol >= 0) {
		if (g->worst_name[0])
			snprintf(buf, cap, " at %s bar %d", g->worst_name, g->worst_bar);
		else
			snprintf(buf, cap, " at symbol %d bar %d", g->worst_symbol, g->worst_bar);
	}
}

void tg_report_decision_text(const struct tg_accuracy *a, char *buf, size_t cap)
{
	size_t used = (size_t)snprintf(buf, cap, "%lld of %lld symbols (%.2f%%)",
				       (long long)a->flipped, (long long)a->symbols,
				       a->symbols ? 100.0 * (double)a->flipped / (double)a->symbols : 0.0);
	const int64_t listed = a->n_flips < TG_RESULTS_FLIPS_LISTED ? a->n_flips
								    : TG_RESULTS_FLIPS_LISTED;
	for (int64_t k = 0; k < listed && used < cap; k++)
		used += (size_t)snprintf(buf + used, cap - used, "%s%s %s->%s", k ? ", " : ": ",
					 a->flips[k].name, tg_signal_name(a->flips[k].exact),
					 tg_signal_name(a->flips[k].approx));
	if (a->flipped > listed && used < cap)
		used += (size_t)snprintf(buf + used, cap - used, ", ... (all %lld in results.json)",
					 (long long)a->flipped);
	(void)used;
}

static bool same_number(double a, double b)
{
	return a == b || (a != a && b != b);
}

static bool same_family(const struct tg_family_accuracy *a, const struct tg_family_accuracy *b)
{
	if (!same_number(a->mean_rel_err, b->mean_rel_err) ||
	    !same_number(a->max_rel_err, b->max_rel_err) ||
	    !same_number(a->frac_within_5pct, b->frac_within_5pct) ||
	    !same_number(a->l1_sign_agreement, b->l1_sign_agreement) ||
	    !same_number(a->l1_kappa, b->l1_kappa) || a->n_slots != b->n_slots)
		return false;
	for (int k = 0; k < a->n_slots; k++)
		if (!same_number(a->slot[k].mean_rel_err, b->slot[k].mean_rel_err) ||
		    !same_number(a->slot[k].max_rel_err, b->slot[k].max_rel_err))
			return false;
	return true;
}

static bool same_accuracy(const struct tg_accuracy *a, const struct tg_accuracy *b)
{
	for (int f = 0; f < TG_RESULTS_FAMILIES; f++)
		if (!same_family(&a->family[f], &b->family[f]))
			return false;
	if (a->n_flips != b->n_flips)
		return false;
	for (int64_t k = 0; k < a->n_flips; k++)
		if (a->flips[k].symbol != b->flips[k].symbol || a->flips[k].approx != b->flips[k].approx)
			return false;
	return same_number(a->avg_sign_agreement, b->avg_sign_agreement) &&
	       same_number(a->avg_max_abs_diff, b->avg_max_abs_diff) &&
	       same_number(a->avg_frac_below_1e6, b->avg_frac_below_1e6) && a->bars == b->bars &&
	       a->flipped == b->flipped && a->symbols == b->symbols &&
	       same_number(a->bars_differing, b->bars_differing);
}

int tg_report_accuracy_label(const struct tg_run_results *r, int i, char *label, size_t cap,
			     int *n_backends)
{
	const struct tg_accuracy *a = &r->accuracy[i];
	for (int j = 0; j < i; j++)
		if (same_accuracy(&r->accuracy[j], a))
			return 0;
	const char *names[16];
	int n = 0;
	for (int j = i; j < r->n_accuracy && n < 16; j++)
		if (j == i || same_accuracy(&r->accuracy[j], a))
			names[n++] = r->accuracy[j].backend;
	size_t used = 0;
	label[0] = '\0';
	for (int k = 0; k < n && used < cap; k++)
		used += (size_t)snprintf(label + used, cap - used, "%s%s",
					 k == 0 ? "" : k == n - 1 ? " and " : ", ", names[k]);
	*n_backends = n;
	return 1;
}

const char *const tg_report_family_heads[TG_REPORT_FAMILY_CELLS] = {
	"MA",	       "L",		 "mean rel err at L", "max rel err at L",
	"within 5% at L", "mean rel err, 9 slots", "worst slot",	     "L1 sign agreement",
	"kappa",       "",
};

const bool tg_report_family_text[TG_REPORT_FAMILY_CELLS] = {true,  false, false, false, false,
							     false, true,  false, false, true};

const char tg_report_accuracy_note[] =
	"approx computes one MA per family, at the base length L, and uses it in all nine "
	"slots: 'at L' compares it with the exact MA of length L, '9 slots' with the exact MA "
	"of every slot's length; kappa is the Layer-1 signal's sign agreement beyond chance "
	"(bars where both are numbers); below 0.20 it is flagged no better than chance";

void tg_report_slot_cell(const struct tg_family_accuracy *fa, int k, char *buf, size_t cap)
{
	char e[32];
	pct(e, sizeof(e), fa->slot[k].mean_rel_err);
	snprintf(buf, cap, "L %d: %s", fa->slot[k].length, e);
}

void tg_report_family_row(const struct tg_run_results *r, const struct tg_accuracy *a, int f,
			  struct tg_report_family_row *row)
{
	const struct tg_family_accuracy *fa = &a->family[f];
	memset(row, 0, sizeof(*row));
	char(*c)[48] = row->cell;
	snprintf(c[0], sizeof(c[0]), "%s", tg_report_family_name(r, f));
	for (int k = 0; k < fa->n_slots; k++)
		if (fa->slot[k].slot == 0)
			snprintf(c[1], sizeof(c[1]), "%d", fa->slot[k].length);
	if (!c[1][0])
		snprintf(c[1], sizeof(c[1]), "-");
	pct(c[2], sizeof(c[2]), fa->mean_rel_err);
	pct(c[3], sizeof(c[3]), fa->max_rel_err);
	pct(c[4], sizeof(c[4]), fa->frac_within_5pct);
	pct(c[5], sizeof(c[5]), fa->slots_mean_rel_err);
	if (fa->worst >= 0 && fa->worst < fa->n_slots)
		tg_report_slot_cell(fa, fa->worst, c[6], sizeof(c[6]));
	else
		snprintf(c[6], sizeof(c[6]), "-");
	pct(c[7], sizeof(c[7]), fa->l1_sign_agreement);
	if (fa->l1_kappa == fa->l1_kappa)
		snprintf(c[8], sizeof(c[8]), "%.2f", fa->l1_kappa);
	else
		snprintf(c[8], sizeof(c[8]), "-");
	row->chance = fa->no_better_than_chance;
	snprintf(c[9], sizeof(c[9]), "%s", row->chance ? "no better than chance" : "");
}

static void accuracy_rows(struct tg_sink *s, const struct tg_run_results *r,
			  const struct tg_accuracy *a, int md)
{
	if (md) {
		for (int k = 0; k < TG_REPORT_FAMILY_CELLS; k++)
			tg_sink_printf(s, "| %s ", tg_report_family_heads[k]);
		tg_sink_puts(s, "|\n");
		for (int k = 0; k < TG_REPORT_FAMILY_CELLS; k++)
			tg_sink_puts(s, tg_report_family_text[k] ? "|---" : "|--:");
		tg_sink_puts(s, "|\n");
	} else {
		tg_sink_printf(s, "  %-5s %4s %10s %9s %10s %10s %-13s %10s %6s\n", "", "", "at L:",
			       "", "", "9 slots:", "", "L1 sign", "");
		tg_sink_printf(s, "  %-5s %4s %10s %9s %10s %10s %-13s %10s %6s\n", "MA", "L",
			       "mean rel", "max rel", "within 5%", "mean rel", "worst slot", "agree",
			       "kappa");
	}
	for (int f = 0; f < TG_RESULTS_FAMILIES; f++) {
		struct tg_report_family_row row;
		tg_report_family_row(r, a, f, &row);
		char(*c)[48] = row.cell;
		if (md) {
			for (int k = 0; k < TG_REPORT_FAMILY_CELLS; k++)
				tg_sink_printf(s, k == 9 && row.chance ? "| **%s** " : "| %s ", c[k]);
			tg_sink_puts(s, "|\n");
		} else {
			tg_sink_printf(s, "  %-5s %4s %10s %9s %10s %10s %-13s %10s %6s%s%s\n", c[0], c[1],
				       c[2], c[3], c[4], c[5], c[6], c[7], c[8], row.chance ? "  <- " : "",
				       c[9]);
		}
	}
}

/* The approx MA against the exact MA of each slot, shortest first. */
static void slot_matrix_md(struct tg_sink *s, const struct tg_run_results *r,
			   const struct tg_accuracy *a)
{
	if (a->family[0].n_slots <= 0)
		return;
	tg_sink_puts(s, "\nMean relative error of the approximate MA against the exact MA of "
			"each slot (shortest first):\n\n| family |");
	for (int k = 0; k < a->family[0].n_slots; k++)
		tg_sink_printf(s, " slot %d |", k + 1);
	tg_sink_puts(s, "\n|---|");
	for (int k = 0; k < a->family[0].n_slots; k++)
		tg_sink_puts(s, "--:|");
	tg_sink_puts(s, "\n");
	for (int f = 0; f < TG_RESULTS_FAMILIES; f++) {
		const struct tg_family_accuracy *fa = &a->family[f];
		tg_sink_printf(s, "| %s |", tg_report_family_name(r, f));
		for (int k = 0; k < fa->n_slots; k++) {
			char cell[48];
			tg_report_slot_cell(fa, k, cell, sizeof(cell));
			tg_sink_printf(s, " %s |", cell);
		}
		tg_sink_puts(s, "\n");
	}
}

/* ---- summary.md -------------------------------------------------------------- */

static void write_statistics_md(const struct tg_run_results *r, struct tg_sink *s)
{
	if (!r->n_states)
		return;
	tg_sink_puts(s, "\n## Statistics\n\nWall time, end-to-end, hot (after warm-up); the "
			"interval is the 95% distribution-free interval of the median; outliers "
			"(Tukey fences, 1.5 / 3 IQR) are counted, never removed; cold is the "
			"state's first run (allocations, first touch).\n\n"
			"| backend | MA | n | stopped by | median | 95% CI | rel stddev | outliers "
			"mild/severe | cold | time spent |\n|---|---|---|---|---|---|---|---|---|---|\n");
	for (int i = 0; i < r->n_states; i++) {
		const struct tg_state_result *st = &r->states[i];
		if (!st->available || !st->n_samples)
			continue;
		char med[32], lo[32], hi[32], cold[32];
		tg_format_duration(st->wall.median, med, sizeof(med));
		tg_format_duration(st->wall.ci_lo, lo, sizeof(lo));
		tg_format_duration(st->wall.ci_hi, hi, sizeof(hi));
		tg_format_duration(st->first_run_ns, cold, sizeof(cold));
		tg_sink_printf(s, "| %s | %s | %lld | %s | %s | %s .. %s | %.2f%% | %d / %d | %s | %.2f s |\n",
			       st->backend, st->ma_mode, (long long)st->wall.n,
			       st->stop_reason ? st->stop_reason : "-", med, lo, hi,
			       100.0 * st->wall.rel_stddev, st->wall.outliers_mild,
			       st->wall.outliers_severe, cold, st->state_seconds);
	}
}

/* States whose figures may not repeat, and what to do. */
static void write_noise_md(const struct tg_run_results *r, struct tg_sink *s)
{
	int noisy = 0;
	for (int i = 0; i < r->n_states; i++) {
		char why[320];
		if (!tg_report_noisy(&r->states[i], why, sizeof(why)))
			continue;
		if (noisy++ == 0)
			tg_sink_puts(s, "\n**Warning: noisy states** (their figures may not repeat; "
					"more repetitions with `--min-time` / `--max-time`, `--pin`, or a "
					"quieter machine):\n\n");
		tg_sink_printf(s, "- %s\n", why);
	}
}

/* The paired comparisons, one sentence each, then the figures. */
static void write_ratios_md(const struct tg_run_results *r, struct tg_sink *s)
{
	if (r->n_ratios == 0)
		return;
	tg_sink_printf(s, "\n## Paired comparisons\n\nThe states were measured in %d rounds of one "
			  "repetition each, in an order rotated every round; each ratio is the "
			  "median over the rounds of one state's time over the other's, with a 95%% "
			  "bootstrap interval over the rounds. *Faster* or *slower* only when the "
			  "interval excludes 1.\n\n",
		       r->rounds);
	for (int i = 0; i < r->n_ratios; i++) {
		char text[256];
		tg_report_ratio_text(&r->ratios[i], text, sizeof(text));
		tg_sink_printf(s, "- %s (%d pairs)\n", text, r->ratios[i].pairs);
	}
}

static void roof_row(struct tg_sink *s, const struct tg_state_result *st, const char *contract,
		     double bytes, double ns, double roof)
{
	double gbs = ns > 0 ? bytes / ns : NAN;
	char pc[32] = "-";
	if (roof > 0)
		snprintf(pc, sizeof(pc), "%.2f%%", 100.0 * gbs / (roof * 1e-9));
	char rf[32] = "-";
	if (roof > 0)
		snprintf(rf, sizeof(rf), "%.1f GB/s", roof * 1e-9);
	tg_sink_printf(s, "| %s | %s | %s | %.4g | %.3g | %s | %s |\n", st->backend, st->ma_mode,
		       contract, bytes, gbs, rf, pc);
}

static void write_roofline_md(const struct tg_run_results *r, struct tg_sink *s)
{
	if (!r->n_states)
		return;
	tg_sink_puts(s, "\n## Roofline\n\n");
	if (r->host_bw > 0)
		tg_sink_printf(s, "- host roof: %.1f GB/s (%s)\n", r->host_bw * 1e-9, r->host_bw_what);
	if (r->device_bw > 0)
		tg_sink_printf(s, "- device roof: %.1f GB/s (%s)\n", r->device_bw * 1e-9,
			       r->device_bw_what);
	tg_sink_puts(s, "\nEnd-to-end rows count the compulsory bytes (prices in, signals out) "
			"against the host roof; kernel rows the modelled device-memory traffic "
			"against the device roof. A low share means the state is bound by compute "
			"or latency, not memory.\n\n"
			"| backend | MA | contract | bytes / run | GB/s | roof | % of roof |\n"
			"|---|---|---|---|---|---|---|\n");
	for (int i = 0; i < r->n_states; i++) {
		const struct tg_state_result *st = &r->states[i];
		if (!st->available || !st->n_samples)
			continue;
		if (st->kernel.n > 0) {
			roof_row(s, st, "end-to-end", st->bytes_moved, st->wall.median, 0);
			roof_row(s, st, "kernel-only", st->kernel_bytes, st->kernel.median, r->device_bw);
		} else {
			roof_row(s, st, "end-to-end", st->bytes_moved, st->wall.median, r->host_bw);
		}
	}
}

int tg_report_summary_md(const struct tg_run_results *r, struct tg_sink *s, struct tg_error *err)
{
	tg_sink_printf(s, "# trendgpu-bench %s %s\n\n", r->kind[0] ? r->kind : "run", r->created_utc);
	if (!r->complete)
		tg_sink_printf(s, "> **Incomplete run**: %s. The figures below cover what finished.\n\n",
			       r->incomplete_reason);
	tg_sink_printf(s, "- command: `%s`\n", r->command);
	if (r->machine.topo.source[0]) {
		char topo[1024];
		tg_topology_describe(&r->machine.topo, topo, sizeof(topo));
		tg_sink_printf(s, "- topology (%s): %s\n", r->machine.topo.source, topo);
	}
	tg_sink_printf(s, "- machine: %s, %d CPUs (%d allowed), %.1f GiB, %s\n", r->machine.cpu_model,
		       r->machine.logical_cpus, r->machine.allowed_cpus,
		       (double)r->machine.memory_bytes / (1024.0 * 1024.0 * 1024.0), r->machine.os);
	if (r->build)
		tg_sink_printf(s, "- build: trendgpu-bench %s (%s), %s, %s\n", r->build->version,
			       r->build->git_commit, r->build->build_type, r->build->c_compiler);
	tg_sink_puts(s, "\n## Parameters\n\n| parameter | value |\n|---|---|\n");
	for (int i = 0; i < r->n_params; i++) {
		if (r->params[i].is_number)
			tg_sink_printf(s, "| %s | %.10g |\n", r->params[i].key, r->params[i].number);
		else
			tg_sink_printf(s, "| %s | %s |\n", r->params[i].key, r->params[i].text);
	}

	if (r->n_states) {
		tg_sink_printf(s, "\n## Timing\n\nContract: %s.\n\n", TG_TIMING_CONTRACT);
		tg_sink_puts(s, "| backend | MA | threads | median | min | max | stddev | bars/s | "
				"bar·MA/s | ns per bar·MA |\n|---|---|---|---|---|---|---|---|---|---|\n");
	}
	for (int i = 0; i < r->n_states; i++)
		timing_row(s, &r->states[i], 1);
	char tnote[256];
	if (tg_report_throughput_note(r, tnote, sizeof(tnote)))
		tg_sink_printf(s, "\n%s.\n", tnote);

	int has_split = 0;
	for (int i = 0; i < r->n_states; i++)
		has_split |= r->states[i].kernel.n > 0;
	if (has_split) {
		tg_sink_puts(s, "\n### Device time (CUDA events, medians per repetition)\n\n"
				"End-to-end is the wall time above (copies included); kernel-only "
				"excludes the copies. With several chunks the copies of one overlap the "
				"kernels of another, so the parts can add up to more than the device "
				"total.\n\n"
				"| backend | MA | end-to-end | device total | H2D | kernels | D2H | kernel "
				"GB/s | H2D GB/s | D2H GB/s | chunks | pinned |\n"
				"|---|---|---|---|---|---|---|---|---|---|---|---|\n");
		for (int i = 0; i < r->n_states; i++) {
			const struct tg_state_result *st = &r->states[i];
			if (st->kernel.n <= 0)
				continue;
			char w[32], t[32], h[32], k[32], d[32];
			tg_format_duration(st->wall.median, w, sizeof(w));
			tg_format_duration(st->device_total.median, t, sizeof(t));
			tg_format_duration(st->h2d_ns, h, sizeof(h));
			tg_format_duration(st->kernel_ns, k, sizeof(k));
			tg_format_duration(st->d2h_ns, d, sizeof(d));
			tg_sink_printf(s, "| %s | %s | %s | %s | %s | %s | %s | %.1f | %.1f | %.1f | %d | %s |\n",
				       st->backend, st->ma_mode, w, t, h, k, d,
				       st->kernel_bytes / st->kernel_ns,
				       st->h2d_ns > 0 ? st->h2d_bytes / st->h2d_ns : 0.0,
				       st->d2h_ns > 0 ? st->d2h_bytes / st->d2h_ns : 0.0, st->chunks,
				       st->pinned ? "yes" : "no");
		}
		for (int i = 0; i < r->n_states; i++)
			if (r->states[i].kernel.n > 0 && r->states[i].kernels[0])
				tg_sink_printf(s, "\nKernels of %s %s: %s.\n", r->states[i].backend,
					       r->states[i].ma_mode, r->states[i].kernels);
	}
	for (int i = 0; i < r->n_states; i++)
		if (r->states[i].device[0]) {
			tg_sink_printf(s, "\nDevice of %s: %s.\n", r->states[i].backend, r->states[i].device);
			break;
		}
	write_statistics_md(r, s);
	write_noise_md(r, s);
	write_ratios_md(r, s);
	write_roofline_md(r, s);

	const char *sb[16];
	int nsb = tg_report_speedup_backends(r, sb, 16);
	if (nsb > 0) {
		tg_sink_puts(s, "\n## Speed-up of approximate over exact MAs\n\n"
				"| backend | exact median | approx median | speed-up |\n|---|---|---|---|\n");
		for (int i = 0; i < nsb; i++) {
			double e, a, x = tg_report_speedup(r, sb[i], &e, &a);
			char es[32], as[32];
			tg_format_duration(e, es, sizeof(es));
			tg_format_duration(a, as, sizeof(as));
			tg_sink_printf(s, "| %s | %s | %s | %.2fx |\n", sb[i], es, as, x);
		}
	}

	for (int i = 0; i < r->n_accuracy; i++) {
		const struct tg_accuracy *a = &r->accuracy[i];
		char who[160];
		int nb;
		if (!tg_report_accuracy_label(r, i, who, sizeof(who), &nb))
			continue;
		tg_sink_printf(s, "\n## Accuracy of approximate vs exact (%s backend%s, %lld bars)\n\n",
			       who, nb > 1 ? "s: identical" : "", (long long)a->bars);
		accuracy_rows(s, r, a, 1);
		tg_sink_printf(s, "\n%c%s.\n", 'A', tg_report_accuracy_note + 1);
		slot_matrix_md(s, r, a);
		char sa[32], b6[32];
		pct(sa, sizeof(sa), a->avg_sign_agreement);
		pct(b6, sizeof(b6), a->avg_frac_below_1e6);
		tg_sink_printf(s,
			       "\n`Average_Signal`: sign agreement %s, max |Δ| %.4g, |Δ| < 1e-6 on %s "
			       "of bars.\n",
			       sa, a->avg_max_abs_diff, b6);
		if (a->symbols > 0) {
			char dec[2048];
			tg_report_decision_text(a, dec, sizeof(dec));
			tg_sink_printf(s,
				       "\n**The decision** (spec §10: LONG / SHORT / none at the last "
				       "bar): approx differs from exact in %s. Per bar, the final "
				       "signal's class differs on %.2f%% of bars.\n",
				       dec, 100 * a->bars_differing);
		}
	}

	if (r->n_agreement > 0) {
		tg_sink_puts(s, "\n## Cross-backend agreement of `Average_Signal`\n\n"
				"| reference | backend | MA | max abs diff | sign agreement | bars |\n"
				"|---|---|---|---|---|---|\n");
		for (int i = 0; i < r->n_agreement; i++) {
			const struct tg_agreement *g = &r->agreement[i];
			char sa[32];
			pct(sa, sizeof(sa), g->sign_agreement);
			char at[128];
			worst_cell(g, at, sizeof(at));
			tg_sink_printf(s, "| %s | %s | %s | %.3g%s | %s | %lld |\n", g->reference,
				       g->backend, g->ma_mode, g->max_abs_diff, at, sa, (long long)g->bars);
		}
	}
	write_ranks(r, s, true);
	if (r->profile.enabled) {
		const struct tg_profile_info *p = &r->profile;
		tg_sink_printf(s,
			       "\n## Profile (%s)\n\nTimeline: [trace.json](trace.json) (open in "
			       "https://ui.perfetto.dev or chrome://tracing): %llu events, %llu NVTX ranges "
			       "(%s).\n",
			       p->mode, (unsigned long long)p->trace_events,
			       (unsigned long long)p->nvtx_ranges, p->nvtx);
		if (!p->rendered)
			tg_sink_printf(s, "\n**The profile's outputs are not rendered yet** (these results "
					  "were written when measuring ended; if this stays, the run was "
					  "stopped while rendering): `trendgpu-bench report %s` renders them "
					  "from the raw capture.\n",
				       r->run_dir);
		if (p->sampled) {
			tg_sink_printf(s,
				       "\n### CPU samples\n\n%llu samples from %d threads at %d Hz "
				       "requested, %.0f Hz achieved (%s clock, %s unwinding, %s symbols); "
				       "dropped %llu, unwinding failures %llu, truncated %llu, idle skipped "
				       "%llu, stacks completed by libunwind %llu. The sampler's handler "
				       "took %.2f us per sample, %.2f%% of "
				       "the sampled threads' time (the kernel's signal delivery comes on "
				       "top).\n\n"
				       "Flame graph: [cpu.svg](cpu.svg); top functions: [top.txt](top.txt); "
				       "speedscope: profile.speedscope.json. Hottest by self samples:\n\n",
				       (unsigned long long)p->samples, p->threads, p->requested_hz,
				       p->achieved_hz, p->clock, p->unwind, p->symbolizer,
				       (unsigned long long)p->dropped,
				       (unsigned long long)p->unwind_failures,
				       (unsigned long long)p->truncated,
				       (unsigned long long)p->idle_skipped,
				       (unsigned long long)p->fallbacks, p->handler_us,
				       100.0 * p->handler_share);
			for (int i = 0; i < p->n_hottest; i++)
				tg_sink_printf(s, "%d. `%s`\n", i + 1, p->hottest[i]);
			if (p->rate_warning[0])
				tg_sink_printf(s, "\n**Warning: %s.**\n", p->rate_warning);
			if (p->samples == 0)
				tg_sink_printf(s, "No samples: %s (--include-idle keeps the samples of "
						  "waiting threads).\n",
					       p->idle_skipped ? "every tick found the program's threads "
								 "waiting"
							       : "no tick reached a sampled thread");
		}
		if (p->n_phases) {
			static struct tg_phase_pivot pv; /* 5 KiB: not on the stack */
			tg_report_phase_pivot(p, &pv);
			tg_sink_puts(s, "\n### Phases by backend\n\nTime in each phase of the pipeline, "
					"from the CPU samples taken in it (each weighed by its measured "
					"interval, summed over threads) and the GPU work launched in it; the "
					"share is of the backend's samples in that MA mode. The same phases on "
					"every backend: `cpu-<backend>.svg` and `diff-*.svg` are rooted at "
					"them.\n\n| mode | phase |");
			for (int b = 0; b < pv.n_backends; b++)
				tg_sink_printf(s, " %s |", pv.backend[b]);
			tg_sink_puts(s, "\n|---|---|");
			for (int b = 0; b < pv.n_backends; b++)
				tg_sink_puts(s, "---:|");
			tg_sink_puts(s, "\n");
			for (int i = 0; i < pv.rows; i++) {
				char label[96];
				tg_phase_label(pv.phase[i], label, sizeof(label));
				tg_sink_printf(s, "| %s | %s |", tg_phase_mode(pv.phase[i]), label);
				for (int b = 0; b < pv.n_backends; b++) {
					char c[160] = "";
					if (pv.cell[i][b] >= 0)
						tg_report_phase_cell(&p->phases[pv.cell[i][b]], c, sizeof(c));
					tg_sink_printf(s, " %s |", c);
				}
				tg_sink_puts(s, "\n");
			}
		}
		tg_sink_printf(s, "\n### GPU activity\n\nGPU activity %s.\n", p->gpu);
		char why[320];
		if (tg_report_combined_missing(p, why, sizeof(why)))
			tg_sink_printf(s, "\ncombined.svg was not drawn: %s.\n", why);
		if (p->gpu_traced) {
			tg_sink_printf(s,
				       "\n%llu kernels (%.3f ms), %llu copies (%.3f ms), %llu memsets, "
				       "%llu CUDA API calls, %llu launches with CPU stacks; dropped "
				       "records %llu, unmatched correlations %llu.\n\n"
				       "GPU time by launching CPU stack: [gpu.svg](gpu.svg)%s. By GPU "
				       "time:\n\n",
				       (unsigned long long)p->kernels, (double)p->kernel_ns * 1e-6,
				       (unsigned long long)p->memcpys, (double)p->memcpy_ns * 1e-6,
				       (unsigned long long)p->memsets, (unsigned long long)p->api_calls,
				       (unsigned long long)p->launches,
				       (unsigned long long)p->gpu_dropped,
				       (unsigned long long)p->unmatched_correlations,
				       p->sampled ? "; CPU and GPU per backend: [combined.svg](combined.svg)"
						  : "");
			for (int i = 0; i < p->n_hottest_gpu; i++)
				tg_sink_printf(s, "%d. `%s`\n", i + 1, p->hottest_gpu[i]);
		}
	}
	(void)err;
	return 0;
}

/* ---- terminal table ---------------------------------------------------------------- */

/* "  phases, cpu exact: HMA MAs 28%, ..." for each backend and MA mode: the
 * three phases with the largest share of its samples (the table is in
 * summary.md). */
static void phase_lines(const struct tg_profile_info *p, struct tg_sink *s)
{
	for (int i = 0; i < p->n_phases; i++) {
		const struct tg_phase_row *r = &p->phases[i];
		bool first = true; /* of its backend and mode */
		for (int k = 0; k < i && first; k++)
			first = !(strcmp(p->phases[k].backend, r->backend) == 0 &&
				  (p->phases[k].phase & TG_PHASE_APPROX) == (r->phase & TG_PHASE_APPROX));
		if (!first)
			continue;
		int top[3] = {-1, -1, -1};
		for (int k = i; k < p->n_phases; k++) {
			const struct tg_phase_row *x = &p->phases[k];
			if (strcmp(x->backend, r->backend) != 0 || !x->samples ||
			    (x->phase & TG_PHASE_APPROX) != (r->phase & TG_PHASE_APPROX))
				continue;
			for (int t = 0; t < 3; t++)
				if (top[t] < 0 || x->cpu_share > p->phases[top[t]].cpu_share) {
					for (int u = 2; u > t; u--)
						top[u] = top[u - 1];
					top[t] = k;
					break;
				}
		}
		if (top[0] < 0)
			continue;
		tg_sink_printf(s, "  phases, %s %s:", r->backend, tg_phase_mode(r->phase));
		for (int t = 0; t < 3 && top[t] >= 0; t++) {
			char label[96];
			tg_phase_label(p->phases[top[t]].phase, label, sizeof(label));
			tg_sink_printf(s, "%s %s %.0f%%", t ? "," : "", label,
				       100.0 * p->phases[top[t]].cpu_share);
		}
		tg_sink_puts(s, "\n");
	}
}

int tg_report_table(const struct tg_run_results *r, struct tg_sink *s, struct tg_error *err)
{
	tg_sink_printf(s, "%-6s %-6s %3s %6s %10s %22s %8s %-12s %8s %9s %9s\n", "backend", "MA", "thr",
		       "n", "median", "95% CI of the median", "cpu/wall", "stopped by", "bars/s",
		       "bar*MA/s", "ns/bar*MA");
	for (int i = 0; i < r->n_states; i++)
		timing_row(s, &r->states[i], 0);
	char tnote[256];
	if (tg_report_throughput_note(r, tnote, sizeof(tnote)))
		tg_sink_put_wrapped(s, tnote, 0, 108);
	int noisy = 0;
	for (int i = 0; i < r->n_states; i++) {
		char why[320];
		if (tg_report_noisy(&r->states[i], why, sizeof(why)))
			tg_sink_printf(s, "%s%s\n", noisy++ ? "         " : "\nwarning: noisy: ", why);
	}
	if (noisy)
		tg_sink_puts(s, "         these may not repeat: more repetitions (--min-time, "
				"--max-time), --pin, or a quieter machine\n");
	for (int i = 0; i < r->n_states; i++) {
		const struct tg_state_result *st = &r->states[i];
		if (st->kernel.n <= 0)
			continue;
		char t[32], h[32], k[32], d[32];
		tg_format_duration(st->device_total.median, t, sizeof(t));
		tg_format_duration(st->h2d_ns, h, sizeof(h));
		tg_format_duration(st->kernel_ns, k, sizeof(k));
		tg_format_duration(st->d2h_ns, d, sizeof(d));
		tg_sink_printf(s,
			       "%s %s device: total %s = H2D %s + kernels %s + D2H %s; kernels %.1f "
			       "GB/s, %d chunk(s), %s host memory%s%s\n",
			       st->backend, st->ma_mode, t, h, k, d, st->kernel_bytes / st->kernel_ns,
			       st->chunks, st->pinned ? "pinned" : "pageable",
			       st->kernels[0] ? ", kernels: " : "", st->kernels);
	}
	if (r->n_ratios > 0) {
		tg_sink_printf(s, "\npaired over %d rounds (95%% intervals):\n", r->rounds);
		for (int i = 0; i < r->n_ratios; i++) {
			char text[256];
			tg_report_ratio_text(&r->ratios[i], text, sizeof(text));
			tg_sink_printf(s, "  %s\n", text);
		}
	} else {
		const char *sb[16];
		int nsb = tg_report_speedup_backends(r, sb, 16);
		for (int i = 0; i < nsb; i++) {
			double e, a, x = tg_report_speedup(r, sb[i], &e, &a);
			tg_sink_printf(s, "\nspeed-up approx vs exact (%s): %.2fx\n", sb[i], x);
		}
	}
	for (int i = 0; i < r->n_accuracy; i++) {
		const struct tg_accuracy *a = &r->accuracy[i];
		char who[160];
		int nb;
		if (!tg_report_accuracy_label(r, i, who, sizeof(who), &nb))
			continue;
		tg_sink_printf(s, "\naccuracy of approx vs exact (%s%s):\n", who,
			       nb > 1 ? ": identical" : "");
		accuracy_rows(s, r, a, 0);
		tg_sink_puts(s, "  ");
		tg_sink_put_wrapped(s, tg_report_accuracy_note, 2, 94);
		char sa[32];
		pct(sa, sizeof(sa), a->avg_sign_agreement);
		tg_sink_printf(s, "  Average_Signal: sign agreement %s, max |delta| %.4g\n", sa,
			       a->avg_max_abs_diff);
		if (a->symbols > 0) {
			char dec[2048];
			tg_report_decision_text(a, dec, sizeof(dec));
			tg_sink_printf(s,
				       "  final signal (LONG/SHORT/none at the last bar) differs in %s; "
				       "per bar: %.2f%% of bars\n",
				       dec, 100 * a->bars_differing);
		}
	}
	for (int i = 0; i < r->n_agreement; i++) {
		const struct tg_agreement *g = &r->agreement[i];
		char sa[32], at[128];
		pct(sa, sizeof(sa), g->sign_agreement);
		worst_cell(g, at, sizeof(at));
		tg_sink_printf(s, "\nagreement %s vs %s (%s): max |delta| %.3g%s, sign agreement %s\n",
			       g->backend, g->reference, g->ma_mode, g->max_abs_diff, at, sa);
	}
	write_ranks(r, s, false);
	if (r->profile.enabled) {
		const struct tg_profile_info *p = &r->profile;
		if (p->sampled) {
			tg_sink_printf(s,
				       "\ncpu profile: %llu samples, %d threads, %.0f of %d Hz, dropped %llu, "
				       "unwinding failures %llu (%s, %llu by libunwind, %.2f us per sample "
				       "in the handler)\n",
				       (unsigned long long)p->samples, p->threads, p->achieved_hz,
				       p->requested_hz, (unsigned long long)p->dropped,
				       (unsigned long long)p->unwind_failures, p->unwind,
				       (unsigned long long)p->fallbacks, p->handler_us);
			if (p->rate_warning[0])
				tg_sink_printf(s, "  warning: %s\n", p->rate_warning);
			for (int i = 0; i < p->n_hottest && i < 5; i++)
				tg_sink_printf(s, "  %d. %s\n", i + 1, p->hottest[i]);
			phase_lines(p, s);
		}
		if (p->gpu_traced) {
			tg_sink_printf(s,
				       "\ngpu profile: %llu kernels (%.3f ms), %llu copies (%.3f ms), "
				       "%llu API calls, dropped %llu\n",
				       (unsigned long long)p->kernels, (double)p->kernel_ns * 1e-6,
				       (unsigned long long)p->memcpys, (double)p->memcpy_ns * 1e-6,
				       (unsigned long long)p->api_calls, (unsigned long long)p->gpu_dropped);
			for (int i = 0; i < p->n_hottest_gpu && i < 5; i++)
				tg_sink_printf(s, "  %d. %s\n", i + 1, p->hottest_gpu[i]);
		}
		tg_sink_printf(s, "timeline: %llu events, %llu NVTX ranges\n",
			       (unsigned long long)p->trace_events, (unsigned long long)p->nvtx_ranges);
	}
	(void)err;
	return 0;
}

void tg_report_phase_pivot(const struct tg_profile_info *p, struct tg_phase_pivot *out)
{
	out->n_backends = out->rows = 0;
	for (int i = 0; i < p->n_phases; i++) {
		const struct tg_phase_row *x = &p->phases[i];
		int b = 0;
		while (b < out->n_backends && strcmp(out->backend[b], x->backend) != 0)
			b++;
		if (b == out->n_backends) {
			if (b == TG_PIVOT_BACKENDS)
				continue;
			out->backend[out->n_backends++] = x->backend;
		}
		/* rows in mode, then pipeline order */
		int r = 0;
		while (r < out->rows && out->phase[r] != x->phase)
			r++;
		if (r == out->rows) {
			if (out->rows == TG_MAX_PHASE_ROWS)
				continue;
			const uint32_t mode = x->phase & TG_PHASE_APPROX, id = TG_PHASE_ID(x->phase);
			int at = out->rows;
			while (at > 0 && ((out->phase[at - 1] & TG_PHASE_APPROX) > mode ||
					  ((out->phase[at - 1] & TG_PHASE_APPROX) == mode &&
					   TG_PHASE_ID(out->phase[at - 1]) > id))) {
				out->phase[at] = out->phase[at - 1];
				memcpy(out->cell[at], out->cell[at - 1], sizeof(out->cell[0]));
				at--;
			}
			out->phase[at] = x->phase;
			for (int k = 0; k < TG_PIVOT_BACKENDS; k++)
				out->cell[at][k] = -1;
			out->rows++;
			r = at;
		}
		out->cell[r][b] = i;
	}
}

void tg_report_phase_cell(const struct tg_phase_row *r, char *buf, size_t cap)
{
	int n = 0;
	if (r->samples)
		n = snprintf(buf, cap, "%.1f ms (%.0f%%)", r->cpu_ms, 100.0 * r->cpu_share);
	if (r->gpu_count && n >= 0 && (size_t)n < cap)
		snprintf(buf + n, cap - (size_t)n, "%s%.2f ms GPU (%llu x, median %.0f us)",
			 n ? " + " : "", r->gpu_ms, (unsigned long long)r->gpu_count, r->gpu_median_us);
}

bool tg_report_combined_missing(const struct tg_profile_info *p, char *why, size_t cap)
{
	if (!p->enabled || !p->sampled || !p->rendered || strstr(p->files, "combined.svg"))
		return false;
	if (!p->gpu_traced)
		snprintf(why, cap, "it puts GPU time beside the CPU samples, and GPU activity was %s",
			 p->gpu[0] ? p->gpu : "not traced");
	else if (!p->kernels && !p->memcpys)
		snprintf(why, cap, "GPU activity was traced, but no kernel or copy ran");
	else
		snprintf(why, cap, "no CPU samples to put beside the GPU time");
	return true;
}
