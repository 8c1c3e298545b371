/* `compare`: two results.json files, state by state. */
#include "tg_compare.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tg_json.h"
#include "tg_stats.h"
#include "tg_str.h"

void tg_compare_opts_default(struct tg_compare_opts *o)
{
	*o = (struct tg_compare_opts){0.03, 0.01, 0.95, 2000, 0, 0};
}

const char *tg_verdict_name(int v)
{
	static const char *const names[] = {"same", "faster", "slower", "noisy", "missing"};
	return v >= 0 && v <= TG_MISSING ? names[v] : "?";
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
		row->verdict = TG_NOISY;
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
	const double t = o->threshold;
	if (significant && row->ratio > 1.0 + t) {
		row->verdict = TG_SLOWER;
	} else if (significant && row->ratio < 1.0 - t) {
		row->verdict = TG_FASTER;
	} else if (row->ci_lo >= 1.0 - t && row->ci_hi <= 1.0 + t) {
		row->verdict = TG_SAME;
		if (significant)
			snprintf(row->note, sizeof(row->note), "a real change, smaller than %.3g%%",
				 100 * t);
	} else {
		row->verdict = TG_NOISY;
		snprintf(row->note, sizeof(row->note), "the interval straddles +-%.3g%%: more samples",
			 100 * t);
	}
	return 0;
}

/* ---- reading results.json --------------------------------------------------- */

static json_t *load(const char *path, struct tg_error *err)
{
	json_error_t je;
	json_t *root = json_load_file(path, 0, &je);
	if (!root) {
		TG_ERR(err, TG_E_PARSE, "compare: '%s': line %d: %s", path, je.line, je.text);
		return NULL;
	}
	const char *schema = json_string_value(json_object_get(root, "schema"));
	if (!schema || strcmp(schema, "trendgpu-bench/results") != 0) {
		TG_ERR(err, TG_E_PARSE, "compare: '%s' is not a trendgpu-bench results file (schema %s)",
		       path, schema ? schema : "missing");
		json_decref(root);
		return NULL;
	}
	return root;
}

static const char *str_at(json_t *obj, const char *a, const char *b)
{
	json_t *v = json_object_get(obj, a);
	if (b)
		v = json_object_get(v, b);
	return json_is_string(v) ? json_string_value(v) : "";
}

static void flag(struct tg_compare *c, const char *fmt, const char *what, const char *x,
		 const char *y)
{
	if (c->n_flags < TG_COMPARE_MAX_FLAGS)
		snprintf(c->flags[c->n_flags++], sizeof(c->flags[0]), fmt, what, x, y);
}

/* Machine, build and workload: what makes two runs comparable. */
static void check_context(struct tg_compare *c, json_t *a, json_t *b)
{
	static const char *const machine_keys[] = {"hostname", "cpu_model", "os"};
	static const char *const build_keys[] = {"version", "build_type", "c_compiler", "c_flags",
						 "sanitizers"};
	bool same_machine = true, same_work = true;
	for (size_t i = 0; i < sizeof(machine_keys) / sizeof(machine_keys[0]); i++) {
		const char *x = str_at(a, "machine", machine_keys[i]), *y = str_at(b, "machine", machine_keys[i]);
		if (strcmp(x, y) != 0) {
			flag(c, "different machine: %s '%s' vs '%s'", machine_keys[i], x, y);
			same_machine = false;
		}
	}
	json_int_t ca = json_integer_value(json_object_get(json_object_get(a, "machine"), "logical_cpus"));
	json_int_t cb = json_integer_value(json_object_get(json_object_get(b, "machine"), "logical_cpus"));
	if (ca != cb) {
		char x[32], y[32];
		snprintf(x, sizeof(x), "%lld", (long long)ca);
		snprintf(y, sizeof(y), "%lld", (long long)cb);
		flag(c, "different machine: %s %s vs %s", "logical CPUs", x, y);
		same_machine = false;
	}
	for (size_t i = 0; i < sizeof(build_keys) / sizeof(build_keys[0]); i++) {
		const char *x = str_at(a, "build", build_keys[i]), *y = str_at(b, "build", build_keys[i]);
		if (strcmp(x, y) != 0)
			flag(c, "different build: %s '%s' vs '%s'", build_keys[i], x, y);
	}
	/* the workload: every parameter but how long to measure */
	static const char *const timing_params[] = {"reps", "warmup", "min_reps", "max_reps",
						    "min_time_s", "max_noise", "max_time_s",
						    "stopping_rule", "backends", "ma", "pin"};
	json_t *pa = json_object_get(a, "params"), *pb = json_object_get(b, "params");
	const char *key;
	json_t *va;
	json_object_foreach(pa, key, va)
	{
		bool timing = false;
		for (size_t i = 0; i < sizeof(timing_params) / sizeof(timing_params[0]); i++)
			timing |= strcmp(key, timing_params[i]) == 0;
		if (timing)
			continue;
		json_t *vb = json_object_get(pb, key);
		if (!vb || !json_equal(va, vb)) {
			char *x = json_dumps(va, JSON_ENCODE_ANY), *y = vb ? json_dumps(vb, JSON_ENCODE_ANY)
									  : NULL;
			flag(c, "different workload: %s %s vs %s", key, x ? x : "?", y ? y : "(absent)");
			free(x);
			free(y);
			same_work = false;
		}
	}
	c->comparable = (same_machine && same_work) || c->o.force;
}

static json_t *find_state(json_t *states, const char *backend, const char *ma)
{
	size_t i;
	json_t *s;
	json_array_foreach(states, i, s)
	{
		if (strcmp(str_at(s, "backend", NULL), backend) == 0 && strcmp(str_at(s, "ma", NULL), ma) == 0)
			return s;
	}
	return NULL;
}

/* The samples of a state (wall or kernel), malloc'd; n = 0 when absent. */
static double *samples_of(json_t *state, int kernel, int *n)
{
	*n = 0;
	if (!state || !json_is_true(json_object_get(state, "available")))
		return NULL;
	json_t *arr = json_object_get(json_object_get(state, kernel ? "kernel_ns" : "wall_ns"), "samples");
	if (!json_is_array(arr) || json_array_size(arr) == 0)
		return NULL;
	double *v = malloc(json_array_size(arr) * sizeof(double));
	if (!v)
		return NULL;
	size_t i;
	json_t *x;
	json_array_foreach(arr, i, x)
	{
		if (json_is_number(x))
			v[(*n)++] = json_number_value(x);
	}
	return v;
}

static int compare_state(struct tg_compare *c, json_t *sa, json_t *sb, const char *backend,
			 const char *ma, struct tg_error *err)
{
	if (c->n_rows == TG_COMPARE_MAX_ROWS)
		return 0;
	struct tg_compare_row *row = &c->rows[c->n_rows++];
	memset(row, 0, sizeof(*row));
	tg_strlcpy(row->backend, backend, sizeof(row->backend));
	tg_strlcpy(row->ma, ma, sizeof(row->ma));
	int na = 0, nb = 0;
	double *a = samples_of(sa, c->o.kernel, &na), *b = samples_of(sb, c->o.kernel, &nb);
	int rc = 0;
	if (!na || !nb) {
		row->verdict = TG_MISSING;
		row->ratio = row->ci_lo = row->ci_hi = row->p = NAN;
		row->base_median = row->new_median = NAN;
		snprintf(row->note, sizeof(row->note), "%s",
			 !sa || !sb ? "in one run only" : "no samples (unavailable or not measured)");
	} else {
		rc = tg_compare_samples(a, na, b, nb, &c->o, row, err);
		if (rc == 0 && !c->comparable && row->verdict != TG_SAME) {
			snprintf(row->note, sizeof(row->note), "not judged: the runs differ (see flags)");
		} else if (rc == 0) {
			c->regressions += row->verdict == TG_SLOWER;
			c->improvements += row->verdict == TG_FASTER;
			c->noisy += row->verdict == TG_NOISY;
		}
	}
	free(a);
	free(b);
	return rc;
}

int tg_compare_files(const char *base, const char *cur, const struct tg_compare_opts *o,
		     struct tg_compare *out, struct tg_error *err)
{
	memset(out, 0, sizeof(*out));
	out->o = *o;
	tg_strlcpy(out->base_path, base, sizeof(out->base_path));
	tg_strlcpy(out->new_path, cur, sizeof(out->new_path));
	json_t *a = load(base, err);
	if (!a)
		return err ? err->code : TG_E_PARSE;
	json_t *b = load(cur, err);
	if (!b) {
		json_decref(a);
		return err ? err->code : TG_E_PARSE;
	}
	check_context(out, a, b);
	json_t *sa = json_object_get(a, "states"), *sb = json_object_get(b, "states");
	int rc = 0;
	size_t i;
	json_t *s;
	json_array_foreach(sa, i, s)
	{
		if (rc < 0)
			break;
		const char *backend = str_at(s, "backend", NULL), *ma = str_at(s, "ma", NULL);
		json_t *t = find_state(sb, backend, ma);
		/* another kernel variant (TG_CUDA_WALK) is another program */
		const char *ka = str_at(s, "kernels", NULL), *kb = str_at(t, "kernels", NULL);
		if (t && strcmp(ka, kb) != 0) {
			char what[80];
			snprintf(what, sizeof(what), "%s %s", backend, ma);
			flag(out, "different kernels: %s '%s' vs '%s'", what, ka, kb);
		}
		rc = compare_state(out, s, t, backend, ma, err);
	}
	json_array_foreach(sb, i, s)
	{
		if (rc < 0)
			break;
		const char *backend = str_at(s, "backend", NULL), *ma = str_at(s, "ma", NULL);
		if (!find_state(sa, backend, ma))
			rc = compare_state(out, NULL, s, backend, ma, err);
	}
	json_decref(a);
	json_decref(b);
	return rc;
}

/* ---- writers ---------------------------------------------------------------------- */

int tg_compare_write_md(const struct tg_compare *c, struct tg_sink *s, struct tg_error *err)
{
	(void)err;
	tg_sink_printf(s, "# compare (%s time)\n\n- base: `%s`\n- new: `%s`\n- threshold %.3g%%, "
			  "U test at alpha %.3g, %.0f%% bootstrap interval of the ratio of medians\n",
		       c->o.kernel ? "kernel-only" : "wall", c->base_path, c->new_path,
		       100 * c->o.threshold, c->o.alpha, 100 * c->o.level);
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
	tg_sink_printf(s, "\n%d regression%s, %d improvement%s, %d noisy.\n", c->regressions,
		       c->regressions == 1 ? "" : "s", c->improvements,
		       c->improvements == 1 ? "" : "s", c->noisy);
	return 0;
}

int tg_compare_write_json(const struct tg_compare *c, struct tg_sink *s, struct tg_error *err)
{
	struct tg_json j;
	tg_json_init(&j, s, true);
	tg_json_begin_object(&j);
	tg_json_kv_string(&j, "schema", "trendgpu-bench/compare");
	tg_json_kv_int(&j, "schema_version", 1);
	tg_json_kv_string(&j, "base", c->base_path);
	tg_json_kv_string(&j, "new", c->new_path);
	tg_json_kv_string(&j, "metric", c->o.kernel ? "kernel_ns" : "wall_ns");
	tg_json_kv_double(&j, "threshold", c->o.threshold);
	tg_json_kv_double(&j, "alpha", c->o.alpha);
	tg_json_kv_bool(&j, "comparable", c->comparable);
	tg_json_key(&j, "flags");
	tg_json_begin_array(&j);
	for (int i = 0; i < c->n_flags; i++)
		tg_json_string(&j, c->flags[i]);
	tg_json_end_array(&j);
	tg_json_key(&j, "states");
	tg_json_begin_array(&j);
	for (int i = 0; i < c->n_rows; i++) {
		const struct tg_compare_row *r = &c->rows[i];
		tg_json_begin_object(&j);
		tg_json_kv_string(&j, "backend", r->backend);
		tg_json_kv_string(&j, "ma", r->ma);
		tg_json_kv_int(&j, "n_base", r->n_base);
		tg_json_kv_int(&j, "n_new", r->n_new);
		tg_json_kv_double(&j, "base_median_ns", r->base_median);
		tg_json_kv_double(&j, "new_median_ns", r->new_median);
		tg_json_kv_double(&j, "ratio", r->ratio);
		tg_json_key(&j, "ratio_ci");
		tg_json_begin_array(&j);
		tg_json_double(&j, r->ci_lo);
		tg_json_double(&j, r->ci_hi);
		tg_json_end_array(&j);
		tg_json_kv_double(&j, "p", r->p);
		tg_json_kv_string(&j, "verdict", tg_verdict_name(r->verdict));
		tg_json_kv_string(&j, "note", r->note);
		tg_json_end_object(&j);
	}
	tg_json_end_array(&j);
	tg_json_kv_int(&j, "regressions", c->regressions);
	tg_json_kv_int(&j, "improvements", c->improvements);
	tg_json_kv_int(&j, "noisy", c->noisy);
	tg_json_end_object(&j);
	return tg_json_finish(&j, err);
}
