/* profile.speedscope.json from a capture (tg_render.h): a sampled profile
 * per thread and state, in time order, weighed by measured intervals. */
#include <stdlib.h>
#include <string.h>

#include "tg_json.h"
#include "flame_internal.h"
#include "tg_mem.h"
#include "tg_phase.h"
#include "tg_render.h"

#define MAX_FRAMES 258
#define GAP_INTERVALS 4.0 /* a longer gap: the thread waited, unsampled */

struct frame {
	const char *name, *file;
	int line;
};

struct frames {
	struct frame *v;
	size_t n, cap;
	uint32_t *slots; /* hash of name -> index + 1 */
	size_t mask;
};

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static int frames_rehash(struct frames *f, size_t cap)
{
	uint32_t *slots = calloc(cap, sizeof(*slots));
	if (!slots)
		return -1;
	for (size_t i = 0; i < f->n; i++) {
		size_t k = hash_str(f->v[i].name) & (cap - 1);
		while (slots[k])
			k = (k + 1) & (cap - 1);
		slots[k] = (uint32_t)i + 1;
	}
	free(f->slots);
	f->slots = slots;
	f->mask = cap - 1;
	return 0;
}

/* The frame of a function, by name; its file and line are where the
 * function starts (one frame per function, as the flame graphs have). */
static int64_t frame_of(struct frames *f, struct tg_symbolizer *sym, const char *name,
			const struct tg_symbol *s)
{
	size_t k = hash_str(name) & f->mask;
	for (; f->slots[k]; k = (k + 1) & f->mask)
		if (strcmp(f->v[f->slots[k] - 1].name, name) == 0)
			return f->slots[k] - 1;
	struct frame *nv = tg_grow_block(f->v, &f->cap, f->n + 1, sizeof(*nv), 256);
	if (!nv)
		return -1;
	f->v = nv;
	struct frame fr = {name, NULL, 0};
	if (s->start) {
		struct tg_symbol at;
		tg_symbolize(sym, s->start, false, &at);
		fr.file = at.file;
		fr.line = at.line;
	}
	f->v[f->n] = fr;
	f->slots[k] = (uint32_t)++f->n;
	if (f->n * 2 > f->mask && frames_rehash(f, (f->mask + 1) * 2) < 0)
		return -1;
	return (int64_t)f->n - 1;
}

struct ss_sample {
	uint64_t t;
	uint32_t tid;
	int32_t tag;
	int mode; /* 0: outside every phase, 1 exact, 2 approx */
	const struct tg_capture_sample *s;
	uint64_t weight;
};

static int cmp_profile_order(const void *a, const void *b)
{
	const struct ss_sample *x = a, *y = b;
	if (x->tag != y->tag)
		return x->tag < y->tag ? -1 : 1;
	if (x->mode != y->mode)
		return x->mode < y->mode ? -1 : 1;
	if (x->tid != y->tid)
		return x->tid < y->tid ? -1 : 1;
	return (x->t > y->t) - (x->t < y->t);
}

struct by_thread {
	uint64_t t;
	uint32_t tid;
	size_t i;
};

static int cmp_thread_order(const void *a, const void *b)
{
	const struct by_thread *x = a, *y = b;
	if (x->tid != y->tid)
		return x->tid < y->tid ? -1 : 1;
	return (x->t > y->t) - (x->t < y->t);
}

int tg_sample_weights(const struct tg_capture *c, uint64_t *w)
{
	const size_t n = c->n_samples;
	const uint64_t period = c->sample_period_ns > 0 ? (uint64_t)c->sample_period_ns : 1000000;
	struct by_thread *v = malloc((n + 1) * sizeof(*v));
	uint64_t *d = malloc((n + 1) * sizeof(*d));
	if (!v || !d) {
		free(v);
		free(d);
		return TG_E_NOMEM;
	}
	for (size_t i = 0; i < n; i++)
		v[i] = (struct by_thread){c->samples[i].t_ns, (uint32_t)c->samples[i].tid, i};
	qsort(v, n, sizeof(*v), cmp_thread_order);
	for (size_t lo = 0; lo < n;) {
		size_t hi = lo + 1;
		while (hi < n && v[hi].tid == v[lo].tid)
			hi++;
		size_t nd = 0;
		for (size_t i = lo; i + 1 < hi; i++)
			d[nd++] = v[i + 1].t - v[i].t;
		uint64_t typical = period;
		if (nd) {
			qsort(d, nd, sizeof(*d), flame_cmp_u64);
			typical = d[nd / 2] ? d[nd / 2] : period;
		}
		for (size_t i = lo; i < hi; i++) {
			const uint64_t gap = i + 1 < hi ? v[i + 1].t - v[i].t : 0;
			w[v[i].i] = gap && (double)gap <= GAP_INTERVALS * (double)typical ? gap : typical;
		}
		lo = hi;
	}
	free(v);
	free(d);
	return 0;
}

/* "cpu exact: tg-cpu-0 (1234)": the state (backend and MA mode) and the
 * thread; a thread's samples outside every phase under its backend alone */
static void profile_name(const struct tg_capture *c, const struct ss_sample *x, char *buf,
			 size_t cap)
{
	const struct tg_capture_thread *t = tg_capture_find_thread(c, x->tid);
	const char *tn = t && t->name ? tg_capture_string(c, t->name)
		       : x->tid == c->pid ? "main"
					  : "thread";
	snprintf(buf, cap, "%s%s: %s (%u)", tg_sample_root(c, x->tag),
		 x->mode == 2 ? " approx" : x->mode == 1 ? " exact" : "", tn, x->tid);
}

static int write_doc(struct tg_json *j, const struct tg_capture *c, struct tg_symbolizer *sym,
		     const struct ss_sample *v, size_t n, struct frames *fr)
{
	/* every frame first: the shared table precedes the profiles */
	uint32_t *stack_at = malloc((n + 1) * sizeof(*stack_at)); /* offset into ids */
	uint32_t *lens = malloc((n + 1) * sizeof(*lens));
	uint32_t *ids = NULL;
	size_t n_ids = 0, cap_ids = 0;
	const char *names[MAX_FRAMES];
	struct tg_symbol syms[MAX_FRAMES];
	int rc = stack_at && lens ? 0 : -1;
	for (size_t i = 0; i < n && rc == 0; i++) {
		const int k = tg_sample_frames(c, sym, v[i].s, false, names, syms, MAX_FRAMES);
		uint32_t *ni = tg_grow_block(ids, &cap_ids, n_ids + (size_t)k + 1, sizeof(*ids), 4096);
		if (!ni) {
			rc = -1;
			break;
		}
		ids = ni;
		stack_at[i] = (uint32_t)n_ids;
		lens[i] = (uint32_t)k;
		for (int f = 0; f < k && rc == 0; f++) {
			const int64_t id = frame_of(fr, sym, names[f], &syms[f]);
			if (id < 0)
				rc = -1;
			ids[n_ids++] = (uint32_t)id;
		}
	}
	if (rc == 0) {
		tg_json_begin_object(j);
		tg_json_kv_string(j, "$schema", "https://www.speedscope.app/file-format-schema.json");
		tg_json_key(j, "shared");
		tg_json_begin_object(j);
		tg_json_key(j, "frames");
		tg_json_begin_array(j);
		for (size_t k = 0; k < fr->n; k++) {
			tg_json_begin_object(j);
			tg_json_kv_string(j, "name", fr->v[k].name);
			if (fr->v[k].file) {
				tg_json_kv_string(j, "file", fr->v[k].file);
				if (fr->v[k].line > 0)
					tg_json_kv_int(j, "line", fr->v[k].line);
			}
			tg_json_end_object(j);
		}
		tg_json_end_array(j);
		tg_json_end_object(j);
		tg_json_key(j, "profiles");
		tg_json_begin_array(j);
		for (size_t lo = 0; lo < n;) {
			size_t hi = lo + 1;
			while (hi < n && v[hi].tid == v[lo].tid && v[hi].tag == v[lo].tag &&
			       v[hi].mode == v[lo].mode)
				hi++;
			char name[256];
			profile_name(c, &v[lo], name, sizeof(name));
			const uint64_t start = v[lo].t > c->start_ns ? v[lo].t - c->start_ns : 0;
			uint64_t end = start;
			tg_json_begin_object(j);
			tg_json_kv_string(j, "type", "sampled");
			tg_json_kv_string(j, "name", name);
			tg_json_kv_string(j, "unit", "nanoseconds");
			tg_json_kv_uint(j, "startValue", start);
			tg_json_key(j, "samples");
			tg_json_begin_array(j);
			for (size_t i = lo; i < hi; i++) {
				tg_json_begin_array(j);
				for (uint32_t f = 0; f < lens[i]; f++)
					tg_json_uint(j, ids[stack_at[i] + f]);
				tg_json_end_array(j);
			}
			tg_json_end_array(j);
			tg_json_key(j, "weights");
			tg_json_begin_array(j);
			for (size_t i = lo; i < hi; i++) {
				tg_json_uint(j, v[i].weight);
				end += v[i].weight;
			}
			tg_json_end_array(j);
			tg_json_kv_uint(j, "endValue", end);
			tg_json_end_object(j);
			lo = hi;
		}
		tg_json_end_array(j);
		const char *process = tg_capture_meta(c, "process");
		tg_json_kv_string(j, "name", process ? process : "trendgpu-bench profile");
		tg_json_kv_int(j, "activeProfileIndex", 0);
		tg_json_kv_string(j, "exporter", "trendgpu-bench");
		tg_json_end_object(j);
	}
	free(stack_at);
	free(lens);
	free(ids);
	return rc;
}

int tg_speedscope_write(const struct tg_capture *c, struct tg_symbolizer *sym, struct tg_sink *s,
			struct tg_error *err)
{
	struct ss_sample *v = malloc((c->n_samples + 1) * sizeof(*v));
	struct frames fr = {0};
	int rc = v && frames_rehash(&fr, 1024) == 0 ? 0 : -1;
	for (size_t i = 0; i < c->n_samples && rc == 0; i++) {
		const uint32_t ph = TG_SAMPLE_PHASE(c->samples[i].flags);
		const int mode = tg_phase_group(ph) ? (ph & TG_PHASE_APPROX ? 2 : 1) : 0;
		v[i] = (struct ss_sample){c->samples[i].t_ns, (uint32_t)c->samples[i].tid,
					  c->samples[i].tag, mode, &c->samples[i], 0};
	}
	uint64_t *w = rc == 0 ? malloc((c->n_samples + 1) * sizeof(*w)) : NULL;
	if (rc == 0 && (!w || tg_sample_weights(c, w) < 0))
		rc = -1;
	for (size_t i = 0; i < c->n_samples && rc == 0; i++)
		v[i].weight = w[i];
	free(w);
	if (rc == 0) {
		qsort(v, c->n_samples, sizeof(*v), cmp_profile_order);
		struct tg_json j;
		tg_json_init(&j, s, false);
		rc = write_doc(&j, c, sym, v, c->n_samples, &fr);
		if (rc == 0) {
			free(v);
			free(fr.v);
			free(fr.slots);
			return tg_json_finish(&j, err);
		}
	}
	free(v);
	free(fr.v);
	free(fr.slots);
	return TG_ERR(err, TG_E_NOMEM, "speedscope: out of memory for %zu samples", c->n_samples);
}
