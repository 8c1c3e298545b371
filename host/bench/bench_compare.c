/* `compare`: two results.json files, state by state. */
#include "tg_compare.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tg_json.h"
#include "tg_stats.h"
#include "tg_str.h"

void tg_compare_opts_default(struct tg_compare_opts *o)
{
	*o = (struct tg_compare_opts){.threshold = 0.03, .alpha = 0.01, .level = 0.95,
				      .bootstrap = 2000, .drift = NAN};
}

const char *tg_verdict_name(int v)
{
	static const char *const names[] = {"same",    "faster",     "slower", "noisy",
					    "missing", "not judged", "drift"};
	return v >= 0 && v <= TG_DRIFT ? names[v] : "?";
}

int tg_compare_samples(const double *base, int nb, const double *cur, int nc,
		       const struct tg_compare_opts *o, struct tg_compare_row *row,
		       struct tg_error *err)
{
	row->n_base = nb;
	row->n_new = nc;
	struct tg_stats sb, sc;
	TG_TRY(tg_stats_compute(base, nb, &sb, err));
	TG_TRY(tg_stats_compute(cur, nc, &sc, err));
	row->base_median = sb.median;
	row->new_median = sc.median;
	row->ratio = sb.median > 0 ? sc.median / sb.median : NAN;
	row->ci_lo = row->ci_hi = row->p = NAN;
	if (nb < 3 || nc < 3) {
		row->verdict = TG_UNJUDGED;
		snprintf(row->note, sizeof(row->note), "too few samples (%d, %d): at least 3 each", nb,
			 nc);
		return 0;
	}
	TG_TRY(tg_bootstrap_ratio_ci(base, nb, cur, nc, o->level, o->bootstrap, 0x7467u, &row->ci_lo,
				     &row->ci_hi, err));
	struct tg_mwu m;
	TG_TRY(tg_mann_whitney(base, nb, cur, nc, &m, err));
	row->p = m.p;
	const bool significant = m.p < o->alpha && (row->ci_lo > 1.0 || row->ci_hi < 1.0);
	const double drift = o->drift == o->drift ? o->drift : 0.0, t = o->threshold + drift;
	/* a run that wandered this far cannot show that nothing changed */
	const double steady = o->threshold > TG_COMPARE_STEADY ? o->threshold : TG_COMPARE_STEADY;
	if (significant && row->ratio > 1.0 + t) {
		row->verdict = TG_SLOWER;
	} else if (significant && row->ratio < 1.0 - t) {
		row->verdict = TG_FASTER;
	} else if (row->ci_lo >= 1.0 - t && row->ci_hi <= 1.0 + t && drift <= steady) {
		row->verdict = TG_SAME;
		if (significant)
			snprintf(row->note, sizeof(row->note), "a real change, smaller than %.3g%%",
				 100 * t);
	} else if (drift > steady) {
		row->verdict = TG_NOISY;
		snprintf(row->note, sizeof(row->note),
			 "wandered %.3g%% within a run: too unsteady to tell (--pin, a quieter "
			 "machine)",
			 100 * drift);
	} else {
		row->verdict = TG_NOISY;
		snprintf(row->note, sizeof(row->note), "the interval straddles +-%.3g%%: more samples",
			 100 * t);
	}
	return 0;
}

/* ---- two runs ------------------------------------------------------------------- */

static void flag(struct tg_compare *c, const char *fmt, const char *what, const char *x,
		 const char *y)
{
	if (c->n_flags < TG_COMPARE_MAX_FLAGS)
		snprintf(c->flags[c->n_flags++], sizeof(c->flags[0]), fmt, what, x, y);
}

static bool same_param(const struct tg_param *a, const struct tg_param *b)
{
	if (a->is_number != b->is_number)
		return false;
	return a->is_number ? a->number == b->number || (a->number != a->number && b->number != b->number)
			    : strcmp(a->text, b->text) == 0;
}

/* As results.json has it: a number, or a string in quotes. */
static void param_text(const struct tg_param *p, char *buf, size_t cap)
{
	if (p->is_number)
		tg_format_double(buf, cap, p->number);
	else
		snprintf(buf, cap, "\"%s\"", p->text);
}

static const char *build_field(const struct tg_build_info *b, int k)
{
	if (!b)
		return "";
	const char *v[] = {b->version, b->build_type, b->c_compiler, b->c_flags, b->sanitizers};
	return v[k] ? v[k] : "";
}

/* Machine, build and workload: what makes two runs comparable. */
static void check_context(struct tg_compare *c, const struct tg_run_results *a,
			  const struct tg_run_results *b)
{
	static const char *const build_keys[] = {"version", "build_type", "c_compiler", "c_flags",
						 "sanitizers"};
	bool same_machine = true, same_work = true;
	const char *ma[] = {a->machine.hostname, a->machine.cpu_model, a->machine.os};
	const char *mb[] = {b->machine.hostname, b->machine.cpu_model, b->machine.os};
	static const char *const machine_keys[] = {"hostname", "cpu_model", "os"};
	for (size_t i = 0; i < 3; i++) {
		if (strcmp(ma[i], mb[i]) != 0) {
			flag(c, "different machine: %s '%s' vs '%s'", machine_keys[i], ma[i], mb[i]);
			same_machine = false;
		}
	}
	if (a->machine.logical_cpus != b->machine.logical_cpus) {
		char x[32], y[32];
		snprintf(x, sizeof(x), "%d", a->machine.logical_cpus);
		snprintf(y, sizeof(y), "%d", b->machine.logical_cpus);
		flag(c, "different machine: %s %s vs %s", "logical CPUs", x, y);
		same_machine = false;
	}
	for (int i = 0; i < 5; i++) {
		const char *x = build_field(a->build, i), *y = build_field(b->build, i);
		if (strcmp(x, y) != 0)
			flag(c, "different build: %s '%s' vs '%s'", build_keys[i], x, y);
	}
	/* the workload: every parameter but how long to measure and how it
	 * was profiled (checked before) */
	for (int i = 0; i < a->n_params; i++) {
		const struct tg_param *pa = &a->params[i];
		if (tg_param_kind(pa->key) != TG_PARAM_WORKLOAD)
			continue;
		const struct tg_param *pb = tg_results_find_param(b, pa->key);
		if (!pb || !same_param(pa, pb)) {
			char x[192], y[192] = "(absent)";
			param_text(pa, x, sizeof(x));
			if (pb)
				param_text(pb, y, sizeof(y));
			flag(c, "different workload: %s %s vs %s", pa->key, x, y);
			same_work = false;
		}
	}
	c->comparable = (same_machine && same_work) || c->o.force;
}

/* The samples of a state (wall or kernel); n = 0 when absent. */
static const double *samples_of(const struct tg_state_result *st, int kernel, int *n)
{
	*n = 0;
	if (!st || !st->available)
		return NULL;
	const double *v = kernel ? st->kernel_samples_ns : st->samples_ns;
	if (v)
		*n = st->n_samples;
	return v;
}

static int compare_state(struct tg_compare *c, const struct tg_compare_opts *o,
			 const struct tg_state_result *sa, const struct tg_state_result *sb,
			 const char *backend, const char *ma, struct tg_error *err)
{
	if (c->n_rows == TG_COMPARE_MAX_ROWS)
		return 0;
	struct tg_compare_row *row = &c->rows[c->n_rows++];
	memset(row, 0, sizeof(*row));
	tg_strlcpy(row->backend, backend, sizeof(row->backend));
	tg_strlcpy(row->ma, ma, sizeof(row->ma));
	int na = 0, nb = 0;
	const double *a = samples_of(sa, o->kernel, &na), *b = samples_of(sb, o->kernel, &nb);
	if (!na || !nb) {
		row->verdict = TG_MISSING;
		row->ratio = row->ci_lo = row->ci_hi = row->p = NAN;
		row->base_median = row->new_median = NAN;
		snprintf(row->note, sizeof(row->note), "%s",
			 !sa || !sb ? "in one run only" : "no samples (unavailable or not measured)");
		return 0;
	}
	/* a state whose own median wandered further within a run than the
	 * run's states did in general is judged against its own wandering */
	struct tg_compare_opts so = *o;
	const double da = na >= 16 ? tg_drift_spread(a, na, 4) : NAN,
		     db = nb >= 16 ? tg_drift_spread(b, nb, 4) : NAN;
	const double own = da > db || db != db ? da : db;
	const bool wanders = own == own && own > so.drift;
	if (wanders)
		so.drift = own;
	TG_TRY(tg_compare_samples(a, na, b, nb, &so, row, err));
	if (wanders && row->verdict != TG_SLOWER && row->verdict != TG_FASTER && !row->note[0])
		snprintf(row->note, sizeof(row->note), "its median wandered %.3g%% within a run",
			 100 * own);
	return 0;
}

/* How far a run drifted while it ran: the median over its states of
 * tg_drift_spread in 4 blocks; NaN when no state has 16 samples. */
static double run_drift(const struct tg_run_results *r, int kernel)
{
	double v[TG_COMPARE_MAX_ROWS];
	int n = 0;
	for (int i = 0; i < r->n_states && n < TG_COMPARE_MAX_ROWS; i++) {
		int ns = 0;
		const double *x = samples_of(&r->states[i], kernel, &ns);
		const double d = x && ns >= 16 ? tg_drift_spread(x, ns, 4) : NAN;
		if (d == d)
			v[n++] = d;
	}
	return tg_median_of(v, n);
}

/* The allowance for run-to-run drift: given (--drift, a history's A/A
 * pairs), or the larger of the two runs' own drift. */
static void drift_allowance(struct tg_compare *c, const struct tg_run_results *base,
			    const struct tg_run_results *cur)
{
	c->base_drift = run_drift(base, c->o.kernel);
	c->new_drift = run_drift(cur, c->o.kernel);
	if (c->o.drift == c->o.drift) {
		c->drift_allowance = c->o.drift;
		snprintf(c->drift_source, sizeof(c->drift_source), "%s",
			 c->o.drift_source[0] ? c->o.drift_source : "--drift");
	} else if (c->base_drift == c->base_drift || c->new_drift == c->new_drift) {
		const double x = c->base_drift == c->base_drift ? c->base_drift : 0,
			     y = c->new_drift == c->new_drift ? c->new_drift : 0;
		c->drift_allowance = x > y ? x : y;
		snprintf(c->drift_source, sizeof(c->drift_source),
			 "the runs' own drift, their quarters' medians apart beyond the noise: base %.3g%%, "
			 "new %.3g%%",
			 100 * x, 100 * y);
	} else {
		c->drift_allowance = 0;
		snprintf(c->drift_source, sizeof(c->drift_source),
			 "none: the runs are too short to show their drift (under 16 repetitions)");
	}
	c->min_effect = c->o.threshold + c->drift_allowance;
}

static bool judged(const struct tg_compare_row *r)
{
	return r->verdict != TG_MISSING && r->verdict != TG_UNJUDGED && r->ratio == r->ratio;
}

/* A move every backend shared, per MA mode (a busier machine slows the
 * exact MAs, which compute, otherwise than the approximate ones): when the
 * mode's state of every backend moved the same way beyond half the minimum
 * effect, the backend that moved least bounds what the machine did
 * (independent code does not slow down together). Each of the mode's states
 * is judged again on its ratio over that factor: one within the minimum
 * effect plus half the machine's move of it is `drift`. */
static void common_mode_of(struct tg_compare *c, const char *ma)
{
	const double m = c->min_effect;
	int nb = 0, up = 0, down = 0;
	double fm = 1.0;
	for (int i = 0; i < c->n_rows; i++) {
		const struct tg_compare_row *r = &c->rows[i];
		if (strcmp(r->ma, ma) != 0 || !judged(r))
			continue;
		/* half the minimum effect: a backend just short of it moved too */
		up += r->ratio > 1 + m / 2;
		down += r->ratio < 1 - m / 2;
		if (nb++ == 0 || fabs(log(r->ratio)) < fabs(log(fm)))
			fm = r->ratio;
	}
	if (nb < 2 || (up != nb && down != nb) || c->n_machine == TG_COMPARE_MAX_MODES)
		return;
	tg_strlcpy(c->machine_ma[c->n_machine], ma, sizeof(c->machine_ma[0]));
	c->machine_factor[c->n_machine++] = fm;
	for (int i = 0; i < c->n_rows; i++) {
		struct tg_compare_row *r = &c->rows[i];
		if (strcmp(r->ma, ma) != 0 || (r->verdict != TG_SLOWER && r->verdict != TG_FASTER))
			continue;
		/* backends feel a busy machine unequally (by a quarter of its
		 * move, seen here): the further it moved, the less its factor says
		 * about each state, so what counts beyond it grows with it */
		const double x = r->ratio / fm, lo = r->ci_lo / fm, hi = r->ci_hi / fm;
		const double mm = m + fabs(fm - 1.0) / 2;
		if ((r->verdict == TG_SLOWER && x > 1 + mm && lo > 1) ||
		    (r->verdict == TG_FASTER && x < 1 - mm && hi < 1)) {
			snprintf(r->note, sizeof(r->note), "x%.3f beyond the machine's x%.3f", x, fm);
		} else {
			r->verdict = TG_DRIFT;
			snprintf(r->note, sizeof(r->note),
				 "moved with every backend's %s state (x%.3f): the machine, not the code",
				 ma, fm);
		}
	}
}

static void common_mode(struct tg_compare *c)
{
	c->n_machine = 0;
	if (c->o.no_common)
		return;
	for (int i = 0; i < c->n_rows; i++) {
		bool seen = false;
		for (int k = 0; k < i; k++)
			seen |= strcmp(c->rows[k].ma, c->rows[i].ma) == 0;
		if (!seen)
			common_mode_of(c, c->rows[i].ma);
	}
}

/* The totals; rows of runs that are not comparable are not judged. */
static void count(struct tg_compare *c)
{
	for (int i = 0; i < c->n_rows; i++) {
		struct tg_compare_row *r = &c->rows[i];
		r->counted = c->comparable || r->verdict == TG_SAME || r->verdict == TG_MISSING ||
			     r->verdict == TG_UNJUDGED;
		if (!r->counted) {
			snprintf(r->note, sizeof(r->note), "not judged: the runs differ (see flags)");
			continue;
		}
		int *const by[] = {&c->same,	&c->improvements, &c->regressions, &c->noisy,
				   &c->missing, &c->unjudged,	  &c->drifted};
		(*by[r->verdict])++;
	}
}

/* How a run was profiled ("none" for a plain run: it carries no param). */
static const char *profiled(const struct tg_run_results *r)
{
	const struct tg_param *p = tg_results_find_param(r, "profile");
	return p && !p->is_number ? p->text : "none";
}

int tg_compare_runs(const struct tg_run_results *base, const struct tg_run_results *cur,
		    const char *base_name, const char *cur_name, const struct tg_compare_opts *o,
		    struct tg_compare *out, struct tg_error *err)
{
	memset(out, 0, sizeof(*out));
	out->o = *o;
	tg_strlcpy(out->base_path, base_name, sizeof(out->base_path));
	tg_strlcpy(out->new_path, cur_name, sizeof(out->new_path));
	/* a profiled program runs slower: never taken for a regression unawares */
	const char *pa = profiled(base), *pb = profiled(cur);
	if (strcmp(pa, pb) != 0) {
		TG_FAIL_IF(!o->allow_profiled, err, TG_E_INVAL,
			   "'%s' was %s%s and '%s' %s%s: a profiled program runs slower than a plain "
			   "one; compare runs profiled alike, or say --allow-profiled",
			   base_name, strcmp(pa, "none") ? "profiled with --profile " : "a plain run",
			   strcmp(pa, "none") ? pa : "", cur_name,
			   strcmp(pb, "none") ? "was profiled with --profile " : "a plain run",
			   strcmp(pb, "none") ? pb : "");
		flag(out, "different profiling: %s '%s' vs '%s'", "--profile", pa, pb);
	}
	check_context(out, base, cur);
	drift_allowance(out, base, cur);
	struct tg_compare_opts so = *o;
	so.threshold = o->threshold;
	so.drift = out->drift_allowance;
	for (int i = 0; i < base->n_states; i++) {
		const struct tg_state_result *s = &base->states[i];
		const struct tg_state_result *t = tg_results_find_state(cur, s->backend, s->ma_mode);
		/* another kernel variant (TG_CUDA_WALK) is another program */
		if (t && strcmp(s->kernels, t->kernels) != 0) {
			char what[80];
			snprintf(what, sizeof(what), "%s %s", s->backend, s->ma_mode);
			flag(out, "different kernels: %s '%s' vs '%s'", what, s->kernels, t->kernels);
		}
		TG_TRY(compare_state(out, &so, s, t, s->backend, s->ma_mode, err));
	}
	for (int i = 0; i < cur->n_states; i++) {
		const struct tg_state_result *s = &cur->states[i];
		if (!tg_results_find_state(base, s->backend, s->ma_mode))
			TG_TRY(compare_state(out, &so, NULL, s, s->backend, s->ma_mode, err));
	}
	if (out->comparable)
		common_mode(out);
	count(out);
	return 0;
}

/* ---- writers ---------------------------------------------------------------------- */

/* "2 regressions, 1 improvement, ..." */
static void totals(const struct tg_compare *c, char *buf, size_t cap)
{
	snprintf(buf, cap,
		 "%d regression%s, %d improvement%s, %d drift, %d noisy, %d not judged (too few "
		 "samples), %d missing, %d same",
		 c->regressions, c->regressions == 1 ? "" : "s", c->improvements,
		 c->improvements == 1 ? "" : "s", c->drifted, c->noisy, c->unjudged, c->missing,
		 c->same);
}

int tg_compare_write_md(const struct tg_compare *c, struct tg_sink *s, struct tg_error *err)
{
	char heading[64];
	snprintf(heading, sizeof(heading), "# compare (%s time)",
		 c->o.kernel ? "kernel-only" : "wall");
	return tg_compare_write_md_section(c, heading, s, err);
}

int tg_compare_write_md_section(const struct tg_compare *c, const char *heading,
				struct tg_sink *s, struct tg_error *err)
{
	(void)err;
	tg_sink_printf(s, "%s\n\n- base: `%s`\n- new: `%s`\n", heading, c->base_path,
		       c->new_path);
	tg_sink_printf(s,
		       "- a change counts beyond **%.3g%%**: the threshold %.3g%% + %.3g%% for "
		       "run-to-run drift (%s); a state whose median wandered further within a run "
		       "is judged against its own wandering\n- significant: U test at alpha %.3g and the %.0f%% "
		       "bootstrap interval of the ratio of medians excluding 1\n",
		       100 * c->min_effect, 100 * c->o.threshold, 100 * c->drift_allowance,
		       c->drift_source, c->o.alpha, 100 * c->o.level);
	for (int i = 0; i < c->n_machine; i++)
		tg_sink_printf(s,
			       "- **every backend's %s state moved together, x%.3f**: the machine "
			       "(load, clock, another tenant), or a change every backend shares; "
			       "states within %.3g%% of that are `drift`, not regressions "
			       "(--no-common judges each alone)\n",
			       c->machine_ma[i], c->machine_factor[i],
			       100 * (c->min_effect + fabs(c->machine_factor[i] - 1.0) / 2));
	for (int i = 0; i < c->n_flags; i++)
		tg_sink_printf(s, "- **flag**: %s\n", c->flags[i]);
	if (!c->comparable)
		tg_sink_puts(s, "- **the runs are not comparable**: verdicts other than `same` are "
				"not counted (--force counts them)\n");
	tg_sink_puts(s, "\n| backend | MA | base median | new median | new / base | 95% CI | p | "
			"verdict | note |\n|---|---|---|---|---|---|---|---|---|\n");
	for (int i = 0; i < c->n_rows; i++) {
		const struct tg_compare_row *r = &c->rows[i];
		char a[32], b[32], ratio[32] = "-", ci[48] = "-", p[32] = "-";
		tg_format_duration(r->base_median, a, sizeof(a));
		tg_format_duration(r->new_median, b, sizeof(b));
		if (r->ratio == r->ratio)
			snprintf(ratio, sizeof(ratio), "%.4f", r->ratio);
		if (r->ci_lo == r->ci_lo)
			snprintf(ci, sizeof(ci), "%.4f .. %.4f", r->ci_lo, r->ci_hi);
		if (r->p == r->p)
			snprintf(p, sizeof(p), "%.2g", r->p);
		tg_sink_printf(s, "| %s | %s | %s | %s | %s | %s | %s | **%s** | %s |\n", r->backend,
			       r->ma, a, b, ratio, ci, p, tg_verdict_name(r->verdict), r->note);
	}
	char t[256];
	totals(c, t, sizeof(t));
	tg_sink_printf(s, "\n%s.\n", t);
	return 0;
}

int tg_compare_write_json(const struct tg_compare *c, struct tg_sink *s, struct tg_error *err)
{
	struct tg_json j;
	tg_json_init(&j, s, true);
	tg_json_begin_object(&j);
	tg_json_kv_string(&j, "schema", "trendgpu-bench/compare");
	tg_json_kv_int(&j, "schema_version", 2);
	tg_compare_json_members(c, &j);
	tg_json_end_object(&j);
	return tg_json_finish(&j, err);
}

void tg_compare_json_members(const struct tg_compare *c, struct tg_json *j)
{
	tg_json_kv_string(j, "base", c->base_path);
	tg_json_kv_string(j, "new", c->new_path);
	tg_json_kv_string(j, "metric", c->o.kernel ? "kernel_ns" : "wall_ns");
	tg_json_kv_double(j, "threshold", c->o.threshold);
	tg_json_kv_double(j, "alpha", c->o.alpha);
	tg_json_kv_double(j, "min_effect", c->min_effect);
	tg_json_kv_double(j, "drift_allowance", c->drift_allowance);
	tg_json_kv_string(j, "drift_source", c->drift_source);
	tg_json_kv_double(j, "base_drift", c->base_drift);
	tg_json_kv_double(j, "new_drift", c->new_drift);
	tg_json_key(j, "machine_factor");
	tg_json_begin_object(j);
	for (int i = 0; i < c->n_machine; i++)
		tg_json_kv_double(j, c->machine_ma[i], c->machine_factor[i]);
	tg_json_end_object(j);
	tg_json_kv_bool(j, "comparable", c->comparable);
	tg_json_key(j, "flags");
	tg_json_begin_array(j);
	for (int i = 0; i < c->n_flags; i++)
		tg_json_string(j, c->flags[i]);
	tg_json_end_array(j);
	tg_json_key(j, "states");
	tg_json_begin_array(j);
	for (int i = 0; i < c->n_rows; i++) {
		const struct tg_compare_row *r = &c->rows[i];
		tg_json_begin_object(j);
		tg_json_kv_string(j, "backend", r->backend);
		tg_json_kv_string(j, "ma", r->ma);
		tg_json_kv_int(j, "n_base", r->n_base);
		tg_json_kv_int(j, "n_new", r->n_new);
		tg_json_kv_double(j, "base_median_ns", r->base_median);
		tg_json_kv_double(j, "new_median_ns", r->new_median);
		tg_json_kv_double(j, "ratio", r->ratio);
		tg_json_kv_interval(j, "ratio_ci", r->ci_lo, r->ci_hi);
		tg_json_kv_double(j, "p", r->p);
		tg_json_kv_string(j, "verdict", tg_verdict_name(r->verdict));
		tg_json_kv_bool(j, "counted", r->counted);
		tg_json_kv_string(j, "note", r->note);
		tg_json_end_object(j);
	}
	tg_json_end_array(j);
	tg_json_kv_int(j, "regressions", c->regressions);
	tg_json_kv_int(j, "improvements", c->improvements);
	tg_json_kv_int(j, "noisy", c->noisy);
	tg_json_kv_int(j, "drift", c->drifted);
	tg_json_kv_int(j, "not_judged", c->unjudged);
	tg_json_kv_int(j, "missing", c->missing);
	tg_json_kv_int(j, "same", c->same);
}
