/* A scale sweep: which backend wins at each size, and where that changes.
 * Each size is a run of its own (run_bench); this file ranks them and
 * writes sweep.json and summary.md. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tg_json.h"
#include "tg_mem.h"
#include "tg_run.h"
#include "tg_str.h"

int tg_sweep_parse_list(const char *option, const char *list, int32_t lo, int32_t hi, int32_t *v,
			int *n, struct tg_error *err)
{
	*n = 0;
	const char *p = list;
	for (;;) {
		char *end;
		errno = 0;
		const long long x = strtoll(p, &end, 10);
		const size_t len = strcspn(p, ",");
		TG_FAIL_IF(end == p || (size_t)(end - p) != len || errno || x < lo || x > hi, err,
			   TG_E_RANGE, "--%s: '%.*s' is not a whole number from %d to %d (in '%s')",
			   option, (int)len, p, lo, hi, list);
		for (int i = 0; i < *n; i++)
			TG_FAIL_IF(v[i] == x, err, TG_E_RANGE, "--%s: %lld is given twice (in '%s')",
				   option, x, list);
		TG_FAIL_IF(*n == TG_SWEEP_MAX_AXIS, err, TG_E_RANGE,
			   "--%s: at most %d values (in '%s')", option, TG_SWEEP_MAX_AXIS, list);
		v[(*n)++] = (int32_t)x;
		if (*end != ',')
			return 0;
		p = end + 1;
	}
}

void tg_sweep_point_from_results(const struct tg_run_results *r, struct tg_sweep_point *p)
{
	p->n_modes = 0;
	p->measured = true;
	static const char *const modes[] = {"exact", "approx"};
	for (int k = 0; k < 2; k++) {
		/* the mode's fastest state: the `a` of its "mode" ratios, or the
		 * one state measured */
		struct tg_sweep_mode *m = &p->modes[p->n_modes];
		memset(m, 0, sizeof(*m));
		tg_strlcpy(m->ma, modes[k], sizeof(m->ma));
		int faster = 0;
		for (int i = 0; i < r->n_ratios && m->n_ratios < TG_RUN_MAX_BACKENDS; i++) {
			const struct tg_ratio *x = &r->ratios[i];
			if (strcmp(x->kind, "mode") != 0 || strcmp(x->a_ma, modes[k]) != 0)
				continue;
			tg_strlcpy(m->winner, x->a_backend, sizeof(m->winner));
			m->ratios[m->n_ratios++] = *x;
			faster += tg_ratio_verdict(x) == TG_RATIO_FASTER;
		}
		for (int i = 0; !m->winner[0] && i < r->n_states; i++)
			if (r->states[i].available && strcmp(r->states[i].ma_mode, modes[k]) == 0)
				tg_strlcpy(m->winner, r->states[i].backend, sizeof(m->winner));
		m->clear = m->n_ratios > 0 && faster == m->n_ratios;
		if (m->winner[0])
			p->n_modes++;
	}
}

/* The closest competitor: the ratio nearest 1. */
static const struct tg_ratio *runner_up(const struct tg_sweep_mode *m)
{
	const struct tg_ratio *best = NULL;
	for (int i = 0; i < m->n_ratios; i++)
		if (!best || m->ratios[i].speedup < best->speedup)
			best = &m->ratios[i];
	return best;
}

void tg_sweep_mode_text(const struct tg_sweep_mode *m, char *buf, size_t cap)
{
	const struct tg_ratio *x = runner_up(m);
	if (!x)
		snprintf(buf, cap, "%s (alone)", m->winner);
	else if (m->clear)
		snprintf(buf, cap, "%s, %.2fx [%.2f, %.2f] ahead of %s", m->winner, x->speedup,
			 x->ci_lo, x->ci_hi, x->b_backend);
	else
		snprintf(buf, cap, "no clear winner: %s and %s %.2fx [%.2f, %.2f]", m->winner,
			 x->b_backend, x->speedup, x->ci_lo, x->ci_hi);
}

static const struct tg_sweep_point *point_at(const struct tg_sweep *s, int32_t symbols,
					     int32_t bars)
{
	for (int i = 0; i < s->n_points; i++)
		if (s->points[i].symbols == symbols && s->points[i].bars == bars &&
		    s->points[i].measured)
			return &s->points[i];
	return NULL;
}

static const struct tg_sweep_mode *mode_of(const struct tg_sweep_point *p, const char *ma)
{
	for (int i = 0; p && i < p->n_modes; i++)
		if (strcmp(p->modes[i].ma, ma) == 0)
			return &p->modes[i];
	return NULL;
}

/* A change between neighbours a and b (either may be absent). */
static void crossover(const struct tg_sweep_point *a, const struct tg_sweep_point *b,
		      const char *ma, const char *along, int32_t fixed, int32_t from_at,
		      int32_t to_at, struct tg_sweep_crossover *out, int cap, int *n)
{
	const struct tg_sweep_mode *x = mode_of(a, ma), *y = mode_of(b, ma);
	if (!x || !y || !x->clear || !y->clear || strcmp(x->winner, y->winner) == 0)
		return;
	if (*n < cap) {
		struct tg_sweep_crossover *c = &out[*n];
		memset(c, 0, sizeof(*c));
		tg_strlcpy(c->ma, ma, sizeof(c->ma));
		tg_strlcpy(c->along, along, sizeof(c->along));
		c->fixed = fixed;
		c->from_at = from_at;
		c->to_at = to_at;
		tg_strlcpy(c->from, x->winner, sizeof(c->from));
		tg_strlcpy(c->to, y->winner, sizeof(c->to));
	}
	(*n)++;
}

/* Axis values in ascending order. */
static void sorted(const int32_t *v, int n, int32_t *out)
{
	memcpy(out, v, (size_t)n * sizeof(*v));
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && out[j - 1] > out[j]; j--) {
			const int32_t t = out[j];
			out[j] = out[j - 1];
			out[j - 1] = t;
		}
}

int tg_sweep_crossovers(const struct tg_sweep *s, struct tg_sweep_crossover *out, int cap)
{
	static const char *const modes[] = {"exact", "approx"};
	int32_t sy[TG_SWEEP_MAX_AXIS], ba[TG_SWEEP_MAX_AXIS];
	sorted(s->symbols, s->n_symbols, sy);
	sorted(s->bars, s->n_bars, ba);
	int n = 0;
	for (int k = 0; k < 2; k++) {
		for (int b = 0; b < s->n_bars; b++)
			for (int i = 0; i + 1 < s->n_symbols; i++)
				crossover(point_at(s, sy[i], ba[b]), point_at(s, sy[i + 1], ba[b]),
					  modes[k], "symbols", ba[b], sy[i], sy[i + 1], out, cap, &n);
		for (int i = 0; i < s->n_symbols; i++)
			for (int b = 0; b + 1 < s->n_bars; b++)
				crossover(point_at(s, sy[i], ba[b]), point_at(s, sy[i], ba[b + 1]),
					  modes[k], "bars", sy[i], ba[b], ba[b + 1], out, cap, &n);
	}
	return n;
}

/* ---- writers ---------------------------------------------------------------------- */

static void crossover_text(const struct tg_sweep_crossover *c, char *buf, size_t cap)
{
	const bool by_symbols = strcmp(c->along, "symbols") == 0;
	snprintf(buf, cap, "%s: at %d %s, %s wins up to %d %s and %s from %d on", c->ma, c->fixed,
		 by_symbols ? "bars" : "symbols", c->from, c->from_at, c->along, c->to, c->to_at);
}

int tg_sweep_write_md(const struct tg_sweep *s, struct tg_sink *o, struct tg_error *err)
{
	(void)err;
	tg_sink_printf(o, "# trendgpu-bench sweep %s\n\n- command: `%s`\n- %d sizes (%d symbols x %d "
			  "bars values)%s; each is a run of its own, linked below\n",
		       s->created_utc, s->command, s->n_points, s->n_symbols, s->n_bars,
		       s->complete ? "" : ", **stopped before the end**");
	static const char *const modes[] = {"exact", "approx"};
	for (int k = 0; k < 2; k++) {
		bool any = false;
		for (int i = 0; i < s->n_points; i++)
			any |= mode_of(&s->points[i], modes[k]) != NULL;
		if (!any)
			continue;
		tg_sink_printf(o, "\n## %s MAs: the fastest backend at each size\n\n"
				  "Paired ratios over the rounds of each run, 95%% bootstrap "
				  "interval; a winner is clear when every other backend's interval "
				  "excludes 1.\n\n| symbols | bars | winner | runner-up | run |\n"
				  "|---|---|---|---|---|\n",
			       modes[k]);
		for (int i = 0; i < s->n_points; i++) {
			const struct tg_sweep_point *p = &s->points[i];
			const struct tg_sweep_mode *m = mode_of(p, modes[k]);
			char text[192] = "not measured";
			if (m)
				tg_sweep_mode_text(m, text, sizeof(text));
			const struct tg_ratio *x = m ? runner_up(m) : NULL;
			char winner[48] = "-", second[160] = "-";
			if (m && m->clear)
				snprintf(winner, sizeof(winner), "**%s**", m->winner);
			else if (m && !x)
				snprintf(winner, sizeof(winner), "%s (alone)", m->winner);
			else if (m)
				snprintf(winner, sizeof(winner), "no clear winner (%s by median)",
					 m->winner);
			if (x)
				snprintf(second, sizeof(second), "%s, %.2fx [%.2f, %.2f] %s", x->b_backend,
					 x->speedup, x->ci_lo, x->ci_hi, m->clear ? "slower" : "vs the fastest");
			tg_sink_printf(o, "| %d | %d | %s | %s | [%s](%s/report.html) |\n", p->symbols,
				       p->bars, p->measured ? winner : "not run", p->measured ? second : "-",
				       p->dir, p->dir);
		}
	}
	struct tg_sweep_crossover c[64];
	const int n = tg_sweep_crossovers(s, c, 64);
	tg_sink_puts(o, "\n## Where the ranking changes\n\n");
	if (n == 0)
		tg_sink_puts(o, "No crossover: where a winner is clear, it is the same at every "
				"neighbouring size.\n");
	for (int i = 0; i < n && i < 64; i++) {
		char text[256];
		crossover_text(&c[i], text, sizeof(text));
		tg_sink_printf(o, "- %s\n", text);
	}
	return 0;
}

static void write_json(const struct tg_sweep *s, struct tg_json *j)
{
	tg_json_begin_object(j);
	tg_json_kv_string(j, "schema", TG_SWEEP_SCHEMA);
	tg_json_kv_int(j, "schema_version", TG_SWEEP_SCHEMA_VERSION);
	tg_json_kv_string(j, "command", s->command);
	tg_json_kv_string(j, "created_utc", s->created_utc);
	tg_json_kv_bool(j, "complete", s->complete);
	tg_json_key(j, "symbols");
	tg_json_begin_array(j);
	for (int i = 0; i < s->n_symbols; i++)
		tg_json_int(j, s->symbols[i]);
	tg_json_end_array(j);
	tg_json_key(j, "bars");
	tg_json_begin_array(j);
	for (int i = 0; i < s->n_bars; i++)
		tg_json_int(j, s->bars[i]);
	tg_json_end_array(j);
	tg_json_key(j, "points");
	tg_json_begin_array(j);
	for (int i = 0; i < s->n_points; i++) {
		const struct tg_sweep_point *p = &s->points[i];
		tg_json_begin_object(j);
		tg_json_kv_int(j, "symbols", p->symbols);
		tg_json_kv_int(j, "bars", p->bars);
		tg_json_kv_string(j, "dir", p->dir);
		tg_json_kv_bool(j, "measured", p->measured);
		tg_json_kv_int(j, "exit_status", p->exit_status);
		tg_json_key(j, "modes");
		tg_json_begin_array(j);
		for (int k = 0; k < p->n_modes; k++) {
			const struct tg_sweep_mode *m = &p->modes[k];
			tg_json_begin_object(j);
			tg_json_kv_string(j, "ma", m->ma);
			tg_json_kv_string(j, "fastest", m->winner);
			tg_json_kv_bool(j, "clear", m->clear);
			tg_json_key(j, "others");
			tg_json_begin_array(j);
			for (int r = 0; r < m->n_ratios; r++) {
				const struct tg_ratio *x = &m->ratios[r];
				tg_json_begin_object(j);
				tg_json_kv_string(j, "backend", x->b_backend);
				tg_json_kv_double(j, "fastest_speedup", x->speedup);
				tg_json_kv_interval(j, "ci", x->ci_lo, x->ci_hi);
				tg_json_kv_int(j, "pairs", x->pairs);
				tg_json_end_object(j);
			}
			tg_json_end_array(j);
			tg_json_end_object(j);
		}
		tg_json_end_array(j);
		tg_json_end_object(j);
	}
	tg_json_end_array(j);
	struct tg_sweep_crossover c[64];
	const int n = tg_sweep_crossovers(s, c, 64);
	tg_json_key(j, "crossovers");
	tg_json_begin_array(j);
	for (int i = 0; i < n && i < 64; i++) {
		tg_json_begin_object(j);
		tg_json_kv_string(j, "ma", c[i].ma);
		tg_json_kv_string(j, "along", c[i].along);
		tg_json_kv_int(j, strcmp(c[i].along, "symbols") == 0 ? "bars" : "symbols", c[i].fixed);
		tg_json_kv_int(j, "from", c[i].from_at);
		tg_json_kv_string(j, "from_winner", c[i].from);
		tg_json_kv_int(j, "to", c[i].to_at);
		tg_json_kv_string(j, "to_winner", c[i].to);
		tg_json_end_object(j);
	}
	tg_json_end_array(j);
	tg_json_end_object(j);
}

int tg_sweep_write_json(const struct tg_sweep *s, struct tg_sink *k, struct tg_error *err)
{
	struct tg_json j;
	tg_json_init(&j, k, true);
	write_json(s, &j);
	return tg_json_finish(&j, err);
}

/* dir/name from writer, whole or not at all. */
static int write_whole(const struct tg_sweep *s, const char *dir, const char *name,
		       int (*writer)(const struct tg_sweep *, struct tg_sink *, struct tg_error *),
		       struct tg_error *err)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	struct tg_sink *k = tg_sink_open_file(path, err);
	if (!k)
		return err ? err->code : TG_E_IO;
	if (writer(s, k, err) < 0) {
		tg_sink_abort(k);
		return err ? err->code : TG_E_INTERNAL;
	}
	return tg_sink_close(k, err);
}

int tg_sweep_write(const struct tg_sweep *s, const char *dir, struct tg_error *err)
{
	TG_TRY(write_whole(s, dir, "sweep.json", tg_sweep_write_json, err));
	return write_whole(s, dir, "summary.md", tg_sweep_write_md, err);
}

int tg_sweep_load(const char *path, struct tg_sweep *s, struct tg_error *err)
{
	char *text = NULL;
	size_t len = 0;
	TG_TRY(tg_read_file(path, "sweep", &text, &len, err));
	const int rc = tg_sweep_read_json(text, len, path, s, err);
	free(text);
	return rc;
}
