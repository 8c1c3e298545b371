/* A capture into the profile outputs of a run directory (tg_render.h). */
#include "tg_render.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tg_mem.h"
#include "tg_phase.h"
#include "tg_str.h"
#include "tg_trace.h"

#define MAX_TAGS 64
#define MAX_FRAMES 258

/* ---- capture -> flame ------------------------------------------------------ */

/* The profiler's own frames: the recorder's thread start wrapper and
 * anything else of the injected agent. */
static bool own_frame(const struct tg_symbol *s)
{
	return (s->module && strncmp(s->module, "libtgrecord", 11) == 0) ||
	       strncmp(s->function, "tg_record_", 10) == 0;
}

/* How a thread starts, above its own entry function: what one unwinder
 * reaches and another does not (libunwind adds __clone3 above
 * start_thread, frame pointers may stop at main), so it is left out and
 * every thread has one root. */
static bool plumbing_frame(const char *fn)
{
	static const char *const names[] = {"_start", "__libc_start_main", "__libc_start_main_impl",
					    "__libc_start_call_main", "start_thread", "__clone3",
					    "__clone", "clone", "clone3", "__GI___clone3",
					    "__GI___clone", NULL};
	return tg_name_index(names, fn) >= 0;
}

int tg_stack_frames(const struct tg_capture *c, struct tg_symbolizer *sym, uint32_t stack,
		    const char **names, struct tg_symbol *syms, int cap)
{
	uint32_t depth = 0;
	const uint64_t *pcs = tg_capture_stack(c, stack, &depth);
	uint32_t top = depth; /* frames [0, top) leafward of the plumbing */
	while (top > 0) {
		struct tg_symbol s;
		tg_symbolize(sym, pcs[top - 1], top - 1 > 0, &s);
		if (!plumbing_frame(s.function) && !own_frame(&s))
			break;
		top--;
	}
	int n = 0;
	for (uint32_t k = 0; k < top && n < cap; k++) {
		uint32_t d = top - 1 - k;
		struct tg_symbol s;
		tg_symbolize(sym, pcs[d], d > 0, &s);
		if (own_frame(&s))
			continue;
		if (syms)
			syms[n] = s;
		names[n++] = s.function;
	}
	return n;
}

const char *tg_sample_root(const struct tg_capture *c, int32_t tag)
{
	const char *t = tg_capture_tag_name(c, tag);
	return *t ? t : "[untagged]";
}

int tg_phase_frames(uint32_t phase, const char **names)
{
	const char *group = tg_phase_group(phase);
	if (!group)
		return 0;
	int n = 0;
	names[n++] = tg_phase_mode(phase);
	names[n++] = group;
	const char *part = tg_phase_part(phase);
	if (part)
		names[n++] = part;
	return n;
}

int tg_sample_frames(const struct tg_capture *c, struct tg_symbolizer *sym,
		     const struct tg_capture_sample *s, bool tag_root, const char **names,
		     struct tg_symbol *syms, int cap)
{
	int n = 0;
	if (tag_root && n < cap) {
		if (syms)
			syms[n] = (struct tg_symbol){0};
		names[n++] = tg_sample_root(c, s->tag);
	}
	const char *ph[3];
	const int np = tg_phase_frames(TG_SAMPLE_PHASE(s->flags), ph);
	for (int k = 0; k < np && n < cap; k++) {
		if (syms)
			syms[n] = (struct tg_symbol){0};
		names[n++] = ph[k];
	}
	return n + tg_stack_frames(c, sym, s->stack, names + n, syms ? syms + n : NULL, cap - n);
}

int tg_flame_add_samples(struct tg_flame *f, const struct tg_capture *c, struct tg_symbolizer *sym,
			 int32_t tag, bool tag_root, uint64_t weight, struct tg_error *err)
{
	const char *names[MAX_FRAMES + 1];
	for (size_t i = 0; i < c->n_samples; i++) {
		const struct tg_capture_sample *s = &c->samples[i];
		if (tag >= 0 && s->tag != tag)
			continue;
		const int n = tg_sample_frames(c, sym, s, tag_root, names, NULL, MAX_FRAMES);
		TG_TRY(tg_flame_add(f, names, (size_t)n, weight, err));
	}
	return 0;
}

static bool driver_frame(const struct tg_symbol *s)
{
	const char *m = s->module ? s->module : "";
	return strncmp(m, "libcupti", 8) == 0 || strncmp(m, "libcuda.so", 10) == 0 ||
	       strncmp(s->function, "[libcuda", 8) == 0 || strncmp(s->function, "[libcupti", 9) == 0;
}

/* The static CUDA runtime's internals and our callback. */
static bool internal_frame(const struct tg_symbol *s)
{
	const char *fn = s->function;
	return strncmp(fn, "cudart::", 8) == 0 || strncmp(fn, "libcudart_static_", 17) == 0 ||
	       strcmp(fn, "on_api") == 0 || strcmp(fn, "tg_sampler_backtrace") == 0;
}

/* Root-first names of a launch stack without what lies between the
 * application's launch call and our callback: everything leafward of the
 * outermost CUDA driver / CUPTI frame, then runtime internals. */
static int launch_names(const struct tg_capture *c, struct tg_symbolizer *sym, uint32_t stack,
			const char **names, int cap)
{
	uint32_t depth = 0;
	const uint64_t *pcs = tg_capture_stack(c, stack, &depth);
	uint32_t leaf = 0;
	for (uint32_t k = 0; k < depth; k++) {
		struct tg_symbol s;
		tg_symbolize(sym, pcs[k], k > 0, &s);
		if (driver_frame(&s))
			leaf = k + 1;
	}
	while (leaf < depth) {
		struct tg_symbol s;
		tg_symbolize(sym, pcs[leaf], leaf > 0, &s);
		if (!internal_frame(&s))
			break;
		leaf++;
	}
	int n = 0;
	for (uint32_t k = depth; k > leaf && n < cap; k--) {
		struct tg_symbol s;
		tg_symbolize(sym, pcs[k - 1], k - 1 > 0, &s);
		names[n++] = s.function;
	}
	return n;
}

/* "[gpu] <demangled kernel>" / "[gpu] memcpy HtoD" into buf */
static const char *gpu_frame(const struct tg_capture *c, const struct tg_event *e, char *buf,
			     size_t cap)
{
	const char *name = tg_capture_string(c, e->name);
	if (e->kind == TG_EV_KERNEL) {
		char *d = tg_demangle(name);
		snprintf(buf, cap, "[gpu] %s", d ? d : name);
		free(d);
	} else {
		snprintf(buf, cap, "[gpu] %s", name);
	}
	return buf;
}

int tg_flame_add_gpu(struct tg_flame *f, const struct tg_capture *c, struct tg_symbolizer *sym,
		     int32_t tag, bool tag_root, struct tg_error *err)
{
	const char *names[MAX_FRAMES + 2];
	char leaf[512];
	for (size_t i = 0; i < c->n_events; i++) {
		const struct tg_event *e = &c->events[i];
		if (!tg_event_on_gpu(e->kind))
			continue;
		const struct tg_launch *l = e->correlation ? tg_capture_find_launch(c, e->correlation)
							   : NULL;
		int32_t t = l ? l->tag : -1;
		if (tag >= 0 && t != tag)
			continue;
		int n = 0;
		if (tag_root)
			names[n++] = tg_sample_root(c, t);
		if (l)
			n += tg_phase_frames(l->phase, names + n);
		if (l && l->stack)
			n += launch_names(c, sym, l->stack, names + n, MAX_FRAMES - n);
		else
			names[n++] = "[launch stack not captured]";
		names[n++] = gpu_frame(c, e, leaf, sizeof(leaf));
		uint64_t dur = e->end_ns - e->start_ns;
		TG_TRY(tg_flame_add(f, names, (size_t)n, dur ? dur : 1, err));
	}
	return 0;
}

/* ---- files ------------------------------------------------------------------ */

static int write_file(const char *dir, const char *name, tg_sink_writer_fn fn, const void *ctx,
		      struct tg_profile_info *info, struct tg_error *err)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	TG_TRY(tg_sink_write_file(path, fn, ctx, err));
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

struct trace_job {
	const struct tg_capture *c;
	struct tg_trace_opts opts;
	struct tg_trace_stats st;
};

static int w_trace(const void *c, struct tg_sink *s, struct tg_error *e)
{
	struct trace_job *j = (struct trace_job *)c;
	return tg_trace_write(j->c, &j->opts, s, &j->st, e);
}

struct top_job {
	const struct tg_capture *c;
	struct tg_flame *const *flames; /* [0] combined, [1 + t] per tag */
	int n_tags;
	const struct tg_flame *gpu;
};

static int w_top(const void *c, struct tg_sink *s, struct tg_error *e)
{
	const struct top_job *j = c;
	if (tg_flame_total(j->flames[0])) {
		tg_sink_puts(s, "### CPU samples, all backends (the first frame is the backend)\n");
		TG_TRY(tg_flame_write_top(j->flames[0], "samples", 60, s, e));
	}
	for (int t = 0; t < j->n_tags; t++) {
		if (tg_flame_total(j->flames[1 + t]) == 0)
			continue;
		tg_sink_printf(s, "\n### CPU samples: %s\n", tg_capture_tag_name(j->c, t));
		TG_TRY(tg_flame_write_top(j->flames[1 + t], "samples", 40, s, e));
	}
	if (j->gpu && tg_flame_total(j->gpu)) {
		tg_sink_puts(s, "\n### GPU time (ns) under the CPU stacks that launched it\n");
		TG_TRY(tg_flame_write_top(j->gpu, "ns", 40, s, e));
	}
	return 0;
}

struct ss_job {
	const struct tg_capture *c;
	struct tg_symbolizer *sym;
};

static int w_speedscope(const void *c, struct tg_sink *s, struct tg_error *e)
{
	const struct ss_job *j = c;
	return tg_speedscope_write(j->c, j->sym, s, e);
}

static void hottest(const struct tg_flame *f, char out[][160], int *n_out)
{
	const char *hot[8];
	uint64_t self[8];
	size_t nh = tg_flame_hottest(f, 8, hot, self);
	const double total = (double)tg_flame_total(f);
	for (size_t i = 0; i < nh; i++)
		snprintf(out[i], 160, "%s (%.1f%%)", hot[i], 100.0 * (double)self[i] / total);
	*n_out = (int)nh;
}

static void gpu_counts(const struct tg_capture *c, struct tg_profile_info *info)
{
	info->kernels = info->memcpys = info->memsets = info->api_calls = info->nvtx_ranges = 0;
	info->kernel_ns = info->memcpy_ns = 0;
	for (size_t i = 0; i < c->n_events; i++) {
		const struct tg_event *e = &c->events[i];
		switch (e->kind) {
		case TG_EV_KERNEL:
			info->kernels++;
			info->kernel_ns += e->end_ns - e->start_ns;
			break;
		case TG_EV_MEMCPY:
			info->memcpys++;
			info->memcpy_ns += e->end_ns - e->start_ns;
			break;
		case TG_EV_MEMSET:
			info->memsets++;
			break;
		case TG_EV_RUNTIME:
		case TG_EV_DRIVER:
			info->api_calls++;
			break;
		case TG_EV_RANGE:
		case TG_EV_ASYNC:
			info->nvtx_ranges++;
			break;
		default:
			break;
		}
	}
	info->launches = c->n_launches;
	info->gpu_dropped = tg_capture_counter(c, "cupti.dropped_records") +
			    tg_capture_counter(c, "cupti.buffers_refused");
	const char *nvtx = tg_capture_meta(c, "nvtx");
	tg_strlcpy(info->nvtx, nvtx ? nvtx : "not recorded", sizeof(info->nvtx));
}

/* "N samples at A of R Hz (...)": this graph's own count, the rate the
 * sampler achieved next to the one requested. */
static void cpu_subtitle(const struct tg_capture *c, const struct tg_symbolizer *sym,
			 uint64_t samples, char *buf, size_t cap)
{
	const char *req = tg_capture_meta(c, "sampler.hz");
	const char *got = tg_capture_meta(c, "sampler.achieved_hz");
	const char *clock = tg_capture_meta(c, "sampler.clock");
	const char *unwind = tg_capture_meta(c, "sampler.unwind");
	snprintf(buf, cap,
		 "%llu samples at %.0f of %s Hz requested (%s clock, %s unwinding, %s symbols); "
		 "click to zoom, Ctrl-F to search",
		 (unsigned long long)samples, got ? atof(got) : 0.0, req ? req : "?",
		 clock ? clock : "?", unwind ? unwind : "?", tg_symbolizer_method(sym));
}

static int render_cpu(struct tg_capture *c, struct tg_symbolizer *sym, const struct tg_render_opts *o,
		      struct tg_flame **flames, int n_tags, struct tg_profile_info *info,
		      struct tg_error *err)
{
	TG_TRY(tg_flame_add_samples(flames[0], c, sym, -1, true, 1, err));
	for (int t = 0; t < n_tags; t++)
		TG_TRY(tg_flame_add_samples(flames[1 + t], c, sym, t, false, 1, err));
	char subtitle[320];
	cpu_subtitle(c, sym, tg_flame_total(flames[0]), subtitle, sizeof(subtitle));
	char title[160];
	const char *process = o->process ? o->process : tg_capture_meta(c, "process");
	snprintf(title, sizeof(title), "CPU: %s", process ? process : "all threads");
	TG_TRY(write_file(o->dir, "cpu.folded", w_folded, flames[0], info, err));
	struct svg_job all = {NULL, flames[0], {title, subtitle, "samples", 0, 0, false, TG_PALETTE_LANG}};
	TG_TRY(write_file(o->dir, "cpu.svg", w_svg, &all, info, err));
	for (int t = 0; t < n_tags; t++) {
		if (!tg_flame_total(flames[1 + t]))
			continue;
		const char *tag = tg_capture_tag_name(c, t);
		char name[96];
		snprintf(name, sizeof(name), "cpu-%s.folded", tag);
		TG_TRY(write_file(o->dir, name, w_folded, flames[1 + t], info, err));
		snprintf(name, sizeof(name), "cpu-%s.svg", tag);
		snprintf(title, sizeof(title), "CPU: %s", tag);
		char sub[320];
		cpu_subtitle(c, sym, tg_flame_total(flames[1 + t]), sub, sizeof(sub));
		struct svg_job j = {NULL, flames[1 + t], {title, sub, "samples", 0, 0, false, TG_PALETTE_LANG}};
		TG_TRY(write_file(o->dir, name, w_svg, &j, info, err));
	}
	/* differential flame graphs between every pair of backends */
	for (int a = 1; a < n_tags; a++)
		for (int b = a + 1; b < n_tags; b++) {
			if (!tg_flame_total(flames[1 + a]) || !tg_flame_total(flames[1 + b]))
				continue;
			const char *ta = tg_capture_tag_name(c, a), *tb = tg_capture_tag_name(c, b);
			char name[96], dtitle[192];
			snprintf(name, sizeof(name), "diff-%s-vs-%s.svg", ta, tb);
			snprintf(dtitle, sizeof(dtitle),
				 "%s vs %s: frames of %s, red = larger share than in %s, blue = smaller",
				 tb, ta, tb, ta);
			char sub[320];
			snprintf(sub, sizeof(sub),
				 "%llu samples of %s against %llu of %s; shares of each profile's "
				 "total compared",
				 (unsigned long long)tg_flame_total(flames[1 + b]), tb,
				 (unsigned long long)tg_flame_total(flames[1 + a]), ta);
			struct svg_job j = {flames[1 + a], flames[1 + b], {dtitle, sub, "samples", 0, 0, false, TG_PALETTE_LANG}};
			TG_TRY(write_file(o->dir, name, w_svg, &j, info, err));
		}
	struct ss_job sj = {c, sym};
	TG_TRY(write_file(o->dir, "profile.speedscope.json", w_speedscope, &sj, info, err));
	hottest(flames[0], info->hottest, &info->n_hottest);
	return 0;
}

static int render_gpu(struct tg_capture *c, struct tg_symbolizer *sym, const struct tg_render_opts *o,
		      struct tg_flame *gpu, struct tg_profile_info *info, struct tg_error *err)
{
	TG_TRY(tg_flame_add_gpu(gpu, c, sym, -1, true, err));
	if (!tg_flame_total(gpu))
		return 0;
	char subtitle[256];
	snprintf(subtitle, sizeof(subtitle),
		 "%llu kernels, %llu copies: GPU time (ns) under the CPU stack that launched it; "
		 "[gpu] frames are GPU work",
		 (unsigned long long)info->kernels, (unsigned long long)info->memcpys);
	TG_TRY(write_file(o->dir, "gpu.folded", w_folded, gpu, info, err));
	struct svg_job j = {NULL, gpu, {"GPU time by launching CPU stack", subtitle, "ns", 0, 0, false, TG_PALETTE_LANG}};
	TG_TRY(write_file(o->dir, "gpu.svg", w_svg, &j, info, err));
	/* kernels and copies by GPU time: the leaf frames */
	const char *hot[8];
	uint64_t self[8];
	size_t nh = tg_flame_hottest(gpu, 8, hot, self);
	const double total = (double)tg_flame_total(gpu);
	for (size_t i = 0; i < nh; i++)
		snprintf(info->hottest_gpu[i], 160, "%s (%.1f%%)", hot[i], 100.0 * (double)self[i] / total);
	info->n_hottest_gpu = (int)nh;

	/* CPU samples (as ns) and GPU time side by side per backend */
	if (c->n_samples && c->sample_period_ns > 0) {
		struct tg_flame *comb = tg_flame_new();
		TG_FAIL_IF(!comb, err, TG_E_NOMEM, "render: out of memory");
		int rc = tg_flame_add_samples(comb, c, sym, -1, true, (uint64_t)c->sample_period_ns, err);
		if (rc == 0)
			rc = tg_flame_add_gpu(comb, c, sym, -1, true, err);
		if (rc == 0)
			rc = write_file(o->dir, "combined.folded", w_folded, comb, info, err);
		if (rc == 0) {
			struct svg_job cj = {NULL, comb,
					     {"CPU samples and GPU time per backend",
					      "first frame: backend; CPU samples weighed by the sampling "
					      "period, [gpu] frames by kernel/copy duration (ns)",
					      "ns", 0, 0, false, TG_PALETTE_LANG}};
			rc = write_file(o->dir, "combined.svg", w_svg, &cj, info, err);
		}
		tg_flame_free(comb);
		TG_TRY(rc);
	}
	return 0;
}

int tg_render_profile(struct tg_capture *c, const struct tg_render_opts *o,
		      struct tg_profile_info *info, struct tg_error *err)
{
	tg_capture_sort(c);
	gpu_counts(c, info);
	struct tg_symbolizer *sym;
	TG_TRY(tg_symbolizer_new(o->maps, &sym, err));
	tg_strlcpy(info->symbolizer, tg_symbolizer_method(sym), sizeof(info->symbolizer));
	if (o->vdso) {
		/* naming only: an unreadable image leaves vDSO code as "[vdso]" */
		char *img = NULL;
		size_t len = 0;
		struct tg_error verr;
		if (tg_read_file(o->vdso, "vdso", &img, &len, &verr) == 0 &&
		    tg_symbolizer_load_vdso(sym, img, len, &verr) == 0)
			tg_strlcpy(info->symbolizer + strlen(info->symbolizer), "+vdso",
				   sizeof(info->symbolizer) - strlen(info->symbolizer));
		free(img);
	}
	const int n_tags = c->n_tags < MAX_TAGS ? (int)c->n_tags : MAX_TAGS;

	const char *process = o->process ? o->process : tg_capture_meta(c, "process");
	struct trace_job tj = {c, {process, sym, 64}, {0}};
	int rc = write_file(o->dir, "trace.json", w_trace, &tj, info, err);
	info->trace_events = tj.st.events;
	info->unmatched_correlations = tj.st.unmatched;

	struct tg_flame *flames[1 + MAX_TAGS] = {0};
	struct tg_flame *gpu = NULL;
	for (int t = 0; t < 1 + n_tags && rc == 0; t++)
		if (!(flames[t] = tg_flame_new()))
			rc = TG_ERR(err, TG_E_NOMEM, "render: out of memory");
	if (rc == 0 && !(gpu = tg_flame_new()))
		rc = TG_ERR(err, TG_E_NOMEM, "render: out of memory");
	if (rc == 0 && c->n_samples)
		rc = render_cpu(c, sym, o, flames, n_tags, info, err);
	if (rc == 0)
		rc = render_gpu(c, sym, o, gpu, info, err);
	if (rc == 0)
		rc = tg_phase_table(c, info, err);
	if (rc == 0 && (c->n_samples || tg_flame_total(gpu))) {
		struct top_job j = {c, flames, n_tags, gpu};
		rc = write_file(o->dir, "top.txt", w_top, &j, info, err);
	}
	for (int t = 0; t < 1 + n_tags; t++)
		tg_flame_free(flames[t]);
	tg_flame_free(gpu);
	tg_symbolizer_free(sym);
	return rc;
}
