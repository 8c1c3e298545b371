/* run --profile cpu: the sampler around a benchmark run, and what it
 * writes afterwards (symbolized stacks folded per backend, flame graphs,
 * differential flame graphs between backends, the top table, speedscope,
 * and the raw capture: samples.bin, maps, maps.buildid). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_internal.h"
#include "tg_flame.h"
#include "tg_log.h"
#include "tg_results.h"
#include "tg_sampler.h"
#include "tg_str.h"
#include "tg_symbolize.h"

#define MAX_TAGS 16

struct hook_ctx {
	struct tg_profile *p;
	int tag;
};

struct tg_profile {
	struct tg_profile_opts o;
	struct tg_sampler *sampler;
	const char *tags[MAX_TAGS];
	int n_tags;
	struct hook_ctx ctx[MAX_TAGS];
	struct tg_thread_hooks hooks[MAX_TAGS];
	int main_registered;
};

static void hook_start(void *ctx, int worker)
{
	(void)worker;
	struct hook_ctx *h = ctx;
	struct tg_error err;
	if (tg_sampler_register_thread(h->p->sampler, h->tag, &err) < 0)
		tg_warn("profile: worker thread not sampled: %s", err.msg);
}

static void hook_stop(void *ctx, int worker)
{
	(void)worker;
	struct hook_ctx *h = ctx;
	tg_sampler_unregister_thread(h->p->sampler);
}

int tg_profile_begin(const struct tg_profile_opts *o, const char *const *tags, int n_tags,
		     struct tg_profile **out, struct tg_error *err)
{
	*out = NULL;
	TG_FAIL_IF(n_tags > MAX_TAGS, err, TG_E_RANGE, "profile: at most %d backends", MAX_TAGS - 1);
	struct tg_profile *p = calloc(1, sizeof(*p));
	TG_FAIL_IF(!p, err, TG_E_NOMEM, "profile: out of memory");
	p->o = *o;
	p->n_tags = n_tags;
	for (int t = 0; t < n_tags; t++) {
		p->tags[t] = tags[t];
		p->ctx[t] = (struct hook_ctx){p, t};
		p->hooks[t] = (struct tg_thread_hooks){hook_start, hook_stop, &p->ctx[t]};
	}
	if (o->mode == TG_PROFILE_CPU || o->mode == TG_PROFILE_BOTH) {
		struct tg_sampler_opts so = {.hz = o->hz, .clock = o->clock, .unwind = o->unwind,
					     .include_idle = o->include_idle != 0};
		int rc = tg_sampler_new(&so, &p->sampler, err);
		if (rc == 0)
			rc = tg_sampler_start(p->sampler, err);
		if (rc == 0)
			rc = tg_sampler_register_thread(p->sampler, 0, err);
		if (rc < 0) {
			tg_profile_free(p);
			return rc;
		}
		p->main_registered = 1;
	}
	*out = p;
	return 0;
}

const struct tg_thread_hooks *tg_profile_hooks(struct tg_profile *p, int tag)
{
	if (!p || !p->sampler || tag < 0 || tag >= p->n_tags)
		return NULL;
	return &p->hooks[tag];
}

void tg_profile_set_tag(struct tg_profile *p, int tag, bool busy)
{
	if (!p || !p->sampler)
		return;
	tg_sampler_set_tag(p->sampler, tag);
	if (busy)
		tg_sampler_resume_thread(p->sampler);
	else
		tg_sampler_pause_thread(p->sampler);
}

void tg_profile_free(struct tg_profile *p)
{
	if (!p)
		return;
	if (p->main_registered)
		tg_sampler_unregister_thread(p->sampler);
	tg_sampler_free(p->sampler);
	free(p);
}

/* ---- outputs ------------------------------------------------------------- */

typedef int (*writer_fn)(const void *ctx, struct tg_sink *s, struct tg_error *err);

/* Writes dir/name through fn and remembers the name in info->files. */
static int write_file(const char *dir, const char *name, writer_fn fn, const void *ctx,
		      struct tg_profile_info *info, struct tg_error *err)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	struct tg_sink *s = tg_sink_open_file(path, err);
	if (!s)
		return err ? err->code : TG_E_IO;
	int rc = fn(ctx, s, err);
	if (rc < 0) {
		tg_sink_abort(s);
		return rc;
	}
	TG_TRY(tg_sink_close(s, err));
	size_t used = strlen(info->files);
	snprintf(info->files + used, sizeof(info->files) - used, "%s%s", used ? "," : "", name);
	return 0;
}

struct svg_job {
	const struct tg_flame *before, *after;
	struct tg_flame_svg_opts opts;
};

static int w_folded(const void *c, struct tg_sink *s, struct tg_error *e)
{
	return tg_flame_write_folded(c, s, e);
}

static int w_svg(const void *c, struct tg_sink *s, struct tg_error *e)
{
	const struct svg_job *j = c;
	if (j->before)
		return tg_flame_write_diff_svg(j->before, j->after, &j->opts, s, e);
	return tg_flame_write_svg(j->after, &j->opts, s, e);
}

struct text_job {
	const char *text;
	size_t len;
};

static int w_text(const void *c, struct tg_sink *s, struct tg_error *e)
{
	(void)e;
	const struct text_job *t = c;
	return tg_sink_write(s, t->text, t->len);
}

struct top_job {
	const struct tg_profile *p;
	struct tg_flame *const *flames; /* [0] combined, [1 + t] per tag */
};

static int w_top(const void *c, struct tg_sink *s, struct tg_error *e)
{
	const struct top_job *j = c;
	tg_sink_puts(s, "### all backends (the first frame is the backend)\n");
	TG_TRY(tg_flame_write_top(j->flames[0], "samples", 60, s, e));
	for (int t = 0; t < j->p->n_tags; t++) {
		if (tg_flame_total(j->flames[1 + t]) == 0)
			continue;
		tg_sink_printf(s, "\n### %s\n", j->p->tags[t]);
		TG_TRY(tg_flame_write_top(j->flames[1 + t], "samples", 40, s, e));
	}
	return 0;
}

struct ss_job {
	struct tg_speedscope_profile *prof;
	int n;
};

static int w_speedscope(const void *c, struct tg_sink *s, struct tg_error *e)
{
	const struct ss_job *j = c;
	return tg_flame_write_speedscope(j->prof, j->n, "trendgpu-bench cpu profile", s, e);
}

struct raw_job {
	const struct tg_sampler *sampler;
	const struct tg_profile *p;
};

/* samples.bin: "TGSAMPLE" 1, tag names, then per sample t_ns, tid, tag,
 * flags, depth, pcs (little endian, native widths): the raw capture. */
static int w_samples(const void *c, struct tg_sink *s, struct tg_error *e)
{
	(void)e;
	const struct raw_job *j = c;
	const uint32_t version = 1, ntags = (uint32_t)j->p->n_tags;
	tg_sink_write(s, "TGSAMPLE", 8);
	tg_sink_write(s, &version, 4);
	tg_sink_write(s, &ntags, 4);
	for (int t = 0; t < j->p->n_tags; t++) {
		uint32_t len = (uint32_t)strlen(j->p->tags[t]);
		tg_sink_write(s, &len, 4);
		tg_sink_write(s, j->p->tags[t], len);
	}
	const size_t n = tg_sampler_count(j->sampler);
	for (size_t i = 0; i < n; i++) {
		struct tg_sample sm;
		tg_sampler_get(j->sampler, i, &sm);
		tg_sink_write(s, &sm.t_ns, 8);
		tg_sink_write(s, &sm.tid, 4);
		tg_sink_write(s, &sm.tag, 4);
		tg_sink_write(s, &sm.flags, 4);
		tg_sink_write(s, &sm.depth, 4);
		tg_sink_write(s, sm.pcs, (size_t)sm.depth * 8);
	}
	return 0;
}

static int w_build_ids(const void *c, struct tg_sink *s, struct tg_error *e)
{
	(void)c;
	return tg_sampler_write_build_ids(s, e);
}

/* Symbolizes every sample into the per-tag flames and the combined one. */
static int fold_samples(struct tg_profile *p, const char *maps, struct tg_flame **flames,
			struct tg_profile_info *info, struct tg_error *err)
{
	struct tg_symbolizer *sym;
	TG_TRY(tg_symbolizer_new(maps, &sym, err));
	tg_strlcpy(info->symbolizer, tg_symbolizer_method(sym), sizeof(info->symbolizer));
	const char *names[TG_SAMPLE_MAX_DEPTH + 1];
	int rc = 0;
	const size_t n = tg_sampler_count(p->sampler);
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct tg_sample sm;
		tg_sampler_get(p->sampler, i, &sm);
		int tag = sm.tag >= 0 && sm.tag < p->n_tags ? sm.tag : 0;
		names[0] = p->tags[tag];
		/* root first: the deepest pc is the outermost frame */
		for (uint32_t k = 0; k < sm.depth; k++) {
			uint32_t d = sm.depth - 1 - k;
			struct tg_symbol s;
			tg_symbolize(sym, sm.pcs[d], d > 0, &s);
			names[1 + k] = s.function;
		}
		rc = tg_flame_add(flames[0], names, sm.depth + 1, 1, err);
		if (rc == 0)
			rc = tg_flame_add(flames[1 + tag], names + 1, sm.depth, 1, err);
	}
	tg_symbolizer_free(sym);
	return rc;
}

int tg_profile_finish(struct tg_profile *p, const char *dir, struct tg_profile_info *info,
		      struct tg_error *err)
{
	memset(info, 0, sizeof(*info));
	if (!p || !p->sampler)
		return 0;
	info->enabled = true;
	tg_strlcpy(info->mode, p->o.mode == TG_PROFILE_BOTH ? "both" : "cpu", sizeof(info->mode));
	if (p->main_registered) {
		tg_sampler_unregister_thread(p->sampler);
		p->main_registered = 0;
	}
	TG_TRY(tg_sampler_stop(p->sampler, err));
	struct tg_sampler_stats st;
	tg_sampler_get_stats(p->sampler, &st);
	info->requested_hz = st.requested_hz;
	info->achieved_hz = st.achieved_hz;
	info->samples = st.samples;
	info->dropped = st.dropped;
	info->unwind_failures = st.unwind_failures;
	info->truncated = st.truncated;
	info->idle_skipped = st.idle_skipped;
	info->threads = st.threads;
	tg_strlcpy(info->clock, st.clock, sizeof(info->clock));
	tg_strlcpy(info->unwind, st.unwind, sizeof(info->unwind));

	/* the memory map: written for offline symbolization, used right now */
	struct tg_sink *ms = tg_sink_open_memory();
	TG_FAIL_IF(!ms, err, TG_E_NOMEM, "profile: out of memory");
	int rc = tg_sampler_write_maps(ms, err);
	size_t maps_len = 0;
	const char *maps = tg_sink_memory_data(ms, &maps_len);
	struct text_job maps_job = {maps, maps_len};
	struct raw_job raw = {p->sampler, p};
	if (rc == 0)
		rc = write_file(dir, "maps", w_text, &maps_job, info, err);
	if (rc == 0)
		rc = write_file(dir, "maps.buildid", w_build_ids, NULL, info, err);
	if (rc == 0)
		rc = write_file(dir, "samples.bin", w_samples, &raw, info, err);

	struct tg_flame *flames[1 + MAX_TAGS] = {0};
	for (int t = 0; t < 1 + p->n_tags && rc == 0; t++)
		if (!(flames[t] = tg_flame_new()))
			rc = TG_ERR(err, TG_E_NOMEM, "profile: out of memory");
	if (rc == 0)
		rc = fold_samples(p, maps, flames, info, err);

	char subtitle[256];
	snprintf(subtitle, sizeof(subtitle),
		 "%llu samples at %d Hz (%s clock, %s unwinding, %s symbols); click to zoom, "
		 "Ctrl-F to search",
		 (unsigned long long)info->samples, info->requested_hz, info->clock, info->unwind,
		 info->symbolizer);
	if (rc == 0)
		rc = write_file(dir, "cpu.folded", w_folded, flames[0], info, err);
	if (rc == 0) {
		struct svg_job j = {NULL, flames[0], {"CPU: all backends", subtitle, "samples", 0, 0}};
		rc = write_file(dir, "cpu.svg", w_svg, &j, info, err);
	}
	for (int t = 0; t < p->n_tags && rc == 0; t++) {
		if (tg_flame_total(flames[1 + t]) == 0)
			continue;
		char name[96], title[96];
		snprintf(name, sizeof(name), "cpu-%s.folded", p->tags[t]);
		rc = write_file(dir, name, w_folded, flames[1 + t], info, err);
		snprintf(name, sizeof(name), "cpu-%s.svg", p->tags[t]);
		snprintf(title, sizeof(title), "CPU: %s", p->tags[t]);
		struct svg_job j = {NULL, flames[1 + t], {title, subtitle, "samples", 0, 0}};
		if (rc == 0)
			rc = write_file(dir, name, w_svg, &j, info, err);
	}
	/* differential flame graphs between every pair of backends */
	for (int a = 1; a < p->n_tags && rc == 0; a++)
		for (int b = a + 1; b < p->n_tags && rc == 0; b++) {
			if (!tg_flame_total(flames[1 + a]) || !tg_flame_total(flames[1 + b]))
				continue;
			char name[96], title[128];
			snprintf(name, sizeof(name), "diff-%s-vs-%s.svg", p->tags[a], p->tags[b]);
			snprintf(title, sizeof(title),
				 "%s vs %s: frames of %s, red = larger share than in %s, blue = smaller",
				 p->tags[b], p->tags[a], p->tags[b], p->tags[a]);
			struct svg_job j = {flames[1 + a], flames[1 + b], {title, subtitle, "samples", 0, 0}};
			rc = write_file(dir, name, w_svg, &j, info, err);
		}
	if (rc == 0) {
		struct top_job tj = {p, flames};
		rc = write_file(dir, "top.txt", w_top, &tj, info, err);
	}
	if (rc == 0) {
		struct tg_speedscope_profile prof[MAX_TAGS];
		int np = 0;
		const double ns = 1e9 / (double)(info->requested_hz > 0 ? info->requested_hz : 1);
		for (int t = 0; t < p->n_tags; t++)
			if (tg_flame_total(flames[1 + t]))
				prof[np++] = (struct tg_speedscope_profile){p->tags[t], flames[1 + t], ns};
		struct ss_job sj = {prof, np};
		rc = write_file(dir, "profile.speedscope.json", w_speedscope, &sj, info, err);
	}
	if (rc == 0) {
		const char *hot[8];
		uint64_t self[8];
		size_t nh = tg_flame_hottest(flames[0], 8, hot, self);
		const double total = (double)tg_flame_total(flames[0]);
		for (size_t i = 0; i < nh; i++)
			snprintf(info->hottest[i], sizeof(info->hottest[i]), "%s (%.1f%%)", hot[i],
				 100.0 * (double)self[i] / total);
		info->n_hottest = (int)nh;
	}
	for (int t = 0; t < 1 + p->n_tags; t++)
		tg_flame_free(flames[t]);
	tg_sink_close(ms, NULL);
	return rc;
}
