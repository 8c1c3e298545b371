/* Chrome Trace Event writer (see tg_trace.h). Formatting is done by hand
 * into a local buffer: traces run to millions of events. */
#include "tg_trace.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tg_config.h"
#include "tg_json.h"
#include "tg_mem.h"
#include "tg_render.h"

#define CLAMP_NS 2000u
#define LANE_TID_BASE 0x20000000u
#define SAMPLE_TID_BASE 0x30000000u
#define ASYNC_TID_BASE 0x10000000u

/* ---- output ---------------------------------------------------------------- */

struct out {
	struct tg_sink *s;
	size_t n;
	uint64_t base;
	uint64_t events;
	int first;
	char buf[1 << 16];
};

static void flush(struct out *o)
{
	if (o->n)
		tg_sink_write(o->s, o->buf, o->n);
	o->n = 0;
}

static inline void reserve(struct out *o, size_t n)
{
	if (o->n + n > sizeof(o->buf))
		flush(o);
}

static void raw(struct out *o, const char *s, size_t n)
{
	if (n > sizeof(o->buf) / 2) {
		flush(o);
		tg_sink_write(o->s, s, n);
		return;
	}
	reserve(o, n);
	memcpy(o->buf + o->n, s, n);
	o->n += n;
}

#define LIT(o, s) raw((o), (s), sizeof(s) - 1)

static void u64(struct out *o, uint64_t v)
{
	char tmp[24];
	int n = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	reserve(o, (size_t)n);
	while (n)
		o->buf[o->n++] = tmp[--n];
}

static void i64(struct out *o, int64_t v)
{
	if (v < 0) {
		LIT(o, "-");
		u64(o, (uint64_t)(-(v + 1)) + 1);
	} else {
		u64(o, (uint64_t)v);
	}
}

/* ns as microseconds with three decimals */
static void us(struct out *o, uint64_t ns)
{
	u64(o, ns / 1000);
	unsigned frac = (unsigned)(ns % 1000);
	reserve(o, 4);
	o->buf[o->n++] = '.';
	o->buf[o->n++] = (char)('0' + frac / 100);
	o->buf[o->n++] = (char)('0' + frac / 10 % 10);
	o->buf[o->n++] = (char)('0' + frac % 10);
}

static void ts(struct out *o, uint64_t t)
{
	us(o, t > o->base ? t - o->base : 0);
}

/* A JSON string (tg_json_escape_buf: any bytes give valid JSON). */
static void str(struct out *o, const char *s)
{
	const size_t len = strlen(s);
	if (6 * len + 2 > sizeof(o->buf)) {
		flush(o);
		tg_sink_putc(o->s, '"');
		tg_json_escape(o->s, s, len);
		tg_sink_putc(o->s, '"');
		return;
	}
	reserve(o, 6 * len + 2);
	o->buf[o->n++] = '"';
	o->n += tg_json_escape_buf(o->buf + o->n, s, len);
	o->buf[o->n++] = '"';
}

/* Starts an event object: {"ph":"X","pid":..,"tid":.., */
static void begin(struct out *o, char ph, uint32_t pid, uint32_t tid)
{
	if (!o->first)
		LIT(o, ",\n");
	o->first = 0;
	o->events++;
	LIT(o, "{\"ph\":\"");
	raw(o, &ph, 1);
	LIT(o, "\",\"pid\":");
	u64(o, pid);
	LIT(o, ",\"tid\":");
	u64(o, tid);
}

static void meta_name(struct out *o, const char *what, uint32_t pid, uint32_t tid,
		      const char *name, int sort)
{
	begin(o, 'M', pid, tid);
	LIT(o, ",\"name\":");
	str(o, what);
	LIT(o, ",\"args\":{\"name\":");
	str(o, name);
	LIT(o, "}}");
	char sort_what[32];
	snprintf(sort_what, sizeof(sort_what), "%s_sort_index",
		 strcmp(what, "process_name") == 0 ? "process" : "thread");
	begin(o, 'M', pid, tid);
	LIT(o, ",\"name\":");
	str(o, sort_what);
	LIT(o, ",\"args\":{\"sort_index\":");
	i64(o, sort);
	LIT(o, "}}");
}

/* ---- tracks and lanes ------------------------------------------------------ */

enum group { G_THREAD, G_STREAM, G_GPU_OVERHEAD, G_ASYNC };

struct lane {
	uint64_t *ends;
	size_t n, cap;
	uint32_t tid;
};

struct track {
	uint32_t pid, key; /* key: host tid, stream id, domain string id */
	uint32_t base_tid;
	int group;
	uint32_t device;
	struct lane *lanes;
	int n_lanes;
	size_t cap_lanes;
};

struct tracks {
	struct track *v;
	size_t n, cap;
	uint32_t *slots; /* hash -> index + 1 */
	size_t mask;
	uint32_t next_lane_tid;
	uint64_t lanes, clamped;
};

static uint64_t track_hash(uint32_t pid, uint32_t key, int group)
{
	uint64_t h = ((uint64_t)pid * 0x9E3779B97F4A7C15ull) ^ ((uint64_t)key << 3) ^ (uint64_t)group;
	return h ^ (h >> 31);
}

static int tracks_rehash(struct tracks *t, size_t cap)
{
	uint32_t *s = calloc(cap, sizeof(*s));
	if (!s)
		return TG_E_NOMEM;
	for (size_t i = 0; i < t->n; i++) {
		size_t k = track_hash(t->v[i].pid, t->v[i].key, t->v[i].group) & (cap - 1);
		while (s[k])
			k = (k + 1) & (cap - 1);
		s[k] = (uint32_t)i + 1;
	}
	free(t->slots);
	t->slots = s;
	t->mask = cap - 1;
	return 0;
}

static struct track *track_get(struct tracks *t, uint32_t pid, uint32_t key, int group)
{
	if ((t->n + 1) * 2 > t->mask + 1 && tracks_rehash(t, (t->mask + 1) * 2) < 0)
		return NULL;
	size_t k = track_hash(pid, key, group) & t->mask;
	while (t->slots[k]) {
		struct track *tr = &t->v[t->slots[k] - 1];
		if (tr->pid == pid && tr->key == key && tr->group == group)
			return tr;
		k = (k + 1) & t->mask;
	}
	struct track *nv = tg_grow_block(t->v, &t->cap, t->n + 1, sizeof(*nv), 32);
	if (!nv)
		return NULL;
	t->v = nv;
	struct track *tr = &t->v[t->n];
	memset(tr, 0, sizeof(*tr));
	tr->pid = pid;
	tr->key = key;
	tr->group = group;
	t->slots[k] = (uint32_t)++t->n;
	return tr;
}

static int lane_push(struct lane *l, uint64_t end)
{
	uint64_t *ne = tg_grow_block(l->ends, &l->cap, l->n + 1, sizeof(*ne), 16);
	if (!ne)
		return TG_E_NOMEM;
	l->ends = ne;
	l->ends[l->n++] = end;
	return 0;
}

/* The output tid of a slice [start, end] on track tr (sorted input:
 * start ascending, enclosing slices first); *end may be clamped. */
static int place(struct tracks *t, struct track *tr, uint32_t base_tid, uint64_t start,
		 uint64_t *end, uint32_t *out_tid)
{
	for (int i = 0; i < tr->n_lanes; i++) {
		struct lane *l = &tr->lanes[i];
		while (l->n && l->ends[l->n - 1] <= start && !(l->ends[l->n - 1] == start && *end == start))
			l->n--;
		if (l->n && *end > l->ends[l->n - 1]) {
			if (*end - l->ends[l->n - 1] > CLAMP_NS)
				continue;
			*end = l->ends[l->n - 1];
			t->clamped++;
		}
		*out_tid = l->tid;
		return lane_push(l, *end);
	}
	struct lane *nl = tg_grow_block(tr->lanes, &tr->cap_lanes, (size_t)tr->n_lanes + 1,
					sizeof(*nl), 2);
	if (!nl)
		return TG_E_NOMEM;
	tr->lanes = nl;
	struct lane *l = &tr->lanes[tr->n_lanes];
	memset(l, 0, sizeof(*l));
	l->tid = tr->n_lanes == 0 ? base_tid : t->next_lane_tid++;
	if (tr->n_lanes)
		t->lanes++;
	tr->n_lanes++;
	*out_tid = l->tid;
	return lane_push(l, *end);
}

static void tracks_free(struct tracks *t)
{
	for (size_t i = 0; i < t->n; i++) {
		for (int k = 0; k < t->v[i].n_lanes; k++)
			free(t->v[i].lanes[k].ends);
		free(t->v[i].lanes);
	}
	free(t->v);
	free(t->slots);
}

/* ---- correlation ------------------------------------------------------------- */

struct corr {
	uint32_t correlation;
	uint32_t index; /* API event */
};

static int cmp_corr(const void *a, const void *b)
{
	const struct corr *x = a, *y = b;
	if (x->correlation != y->correlation)
		return x->correlation < y->correlation ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

static const struct corr *find_corr(const struct corr *v, size_t n, uint32_t id)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (v[mid].correlation < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && v[lo].correlation == id ? &v[lo] : NULL;
}

/* ---- the writer ----------------------------------------------------------- */

struct writer {
	const struct tg_capture *c;
	const struct tg_trace_opts *opt;
	struct out *o;
	struct tracks tracks;
	struct corr *api;
	size_t n_api;
	uint32_t *out_tid;  /* per event */
	uint64_t *out_end;  /* per event: end after clamping */
	uint32_t *host_tid; /* per event: resolved host thread (API, sync, NVTX) */
	struct tg_trace_stats st;
	char **demangled;   /* per string id: demangled kernel name, "" when not mangled */
};

static const char *category(const struct tg_event *e)
{
	switch (e->kind) {
	case TG_EV_KERNEL:
		return "kernel";
	case TG_EV_MEMCPY:
		return "memcpy";
	case TG_EV_MEMSET:
		return "memset";
	case TG_EV_RUNTIME:
	case TG_EV_DRIVER:
		return "cuda_api";
	case TG_EV_SYNC:
		return "sync";
	case TG_EV_OVERHEAD:
		return "overhead";
	case TG_EV_ASYNC:
		return "nvtx_async";
	default:
		return "nvtx";
	}
}

static double gbps(const struct tg_event *e)
{
	uint64_t d = e->end_ns - e->start_ns;
	return d ? (double)e->bytes / (double)d : 0.0;
}

static void num(struct out *o, double v)
{
	char b[32];
	int n = snprintf(b, sizeof(b), "%.6g", v);
	raw(o, b, (size_t)n);
}

static void dim3(struct out *o, const int32_t *v)
{
	LIT(o, "[");
	i64(o, v[0]);
	LIT(o, ",");
	i64(o, v[1]);
	LIT(o, ",");
	i64(o, v[2]);
	LIT(o, "]");
}

static void slice_args(struct writer *w, const struct tg_event *e)
{
	struct out *o = w->o;
	const struct tg_capture *c = w->c;
	LIT(o, ",\"args\":{");
	switch (e->kind) {
	case TG_EV_KERNEL:
		LIT(o, "\"grid\":");
		dim3(o, e->grid);
		LIT(o, ",\"block\":");
		dim3(o, e->block);
		LIT(o, ",\"registers\":");
		u64(o, e->regs);
		LIT(o, ",\"shared_bytes\":");
		u64(o, e->shmem);
		LIT(o, ",\"mangled\":");
		str(o, tg_capture_string(c, e->name));
		break;
	case TG_EV_MEMCPY:
	case TG_EV_MEMSET:
		LIT(o, "\"bytes\":");
		u64(o, e->bytes);
		LIT(o, ",\"GB/s\":");
		num(o, gbps(e));
		if (e->kind == TG_EV_MEMCPY) {
			LIT(o, ",\"kind\":");
			str(o, tg_copy_kind_name(e->sub));
			if (e->flags & TG_EVF_PAGEABLE)
				LIT(o, ",\"host_memory\":\"pageable\"");
		}
		break;
	case TG_EV_RUNTIME:
	case TG_EV_DRIVER:
		LIT(o, "\"cbid\":");
		u64(o, e->cbid);
		if (e->flags & TG_EVF_FAILED)
			LIT(o, ",\"failed\":true");
		break;
	case TG_EV_SYNC:
		LIT(o, "\"stream\":");
		u64(o, e->stream);
		break;
	case TG_EV_RANGE:
	case TG_EV_ASYNC:
	case TG_EV_MARK:
		LIT(o, "\"domain\":");
		str(o, e->domain ? tg_capture_string(c, e->domain) : "default");
		if (e->cbid) {
			char key[48];
			snprintf(key, sizeof(key), "nvtx.category.%u", (unsigned)e->cbid);
			const char *cat = tg_capture_meta(c, key);
			LIT(o, ",\"category\":");
			if (cat)
				str(o, cat);
			else
				u64(o, e->cbid);
		}
		if (e->flags & TG_EVF_PAYLOAD) {
			LIT(o, ",\"payload\":");
			i64(o, (int64_t)e->bytes);
		}
		if (e->flags & TG_EVF_COLOR) {
			char rgb[16];
			snprintf(rgb, sizeof(rgb), "#%06x", (unsigned)(e->regs & 0xFFFFFFu));
			LIT(o, ",\"color\":");
			str(o, rgb);
		}
		if (e->flags & TG_EVF_UNCLOSED)
			LIT(o, ",\"unclosed\":true");
		break;
	default:
		LIT(o, "\"kind\":\"overhead\"");
		break;
	}
	if (e->correlation) {
		LIT(o, ",\"correlation\":");
		u64(o, e->correlation);
	}
	if (tg_event_on_gpu(e->kind)) {
		LIT(o, ",\"stream\":");
		u64(o, e->stream);
		LIT(o, ",\"device\":");
		u64(o, e->device);
	}
	LIT(o, "}");
}

static const char *event_name(struct writer *w, const struct tg_event *e)
{
	const char *name = tg_capture_string(w->c, e->name);
	if (e->kind == TG_EV_KERNEL && e->name < w->c->n_strings) {
		char **d = &w->demangled[e->name];
		if (!*d) {
			*d = tg_demangle(name);
			if (!*d)
				*d = strdup("");
		}
		const char *dm = *d;
		if (dm && *dm)
			return dm;
	}
	return *name ? name : "(unnamed)";
}

/* Host thread of an event: API records carry CUPTI's thread id (an OS tid
 * or a truncated pthread_self()), syncs the one of their API call. */
static uint32_t resolve_host_tid(struct writer *w, size_t i)
{
	const struct tg_event *e = &w->c->events[i];
	switch (e->kind) {
	case TG_EV_RUNTIME:
	case TG_EV_DRIVER:
	case TG_EV_OVERHEAD:
		return tg_capture_resolve_tid(w->c, e->tid);
	case TG_EV_SYNC: {
		const struct corr *k = e->correlation ? find_corr(w->api, w->n_api, e->correlation) : NULL;
		return k ? tg_capture_resolve_tid(w->c, w->c->events[k->index].tid) : 0;
	}
	default:
		return e->tid;
	}
}

static int assign_tracks(struct writer *w)
{
	const struct tg_capture *c = w->c;
	for (size_t i = 0; i < c->n_events; i++) {
		const struct tg_event *e = &c->events[i];
		w->host_tid[i] = resolve_host_tid(w, i);
		struct track *tr;
		uint32_t base;
		uint64_t end = e->end_ns;
		if (tg_event_on_gpu(e->kind)) {
			tr = track_get(&w->tracks, TG_TRACE_GPU_PID(e->device), e->stream, G_STREAM);
			base = e->stream;
		} else if (e->kind == TG_EV_OVERHEAD && e->sub == 1) {
			tr = track_get(&w->tracks, TG_TRACE_GPU_PID(e->device), 0, G_GPU_OVERHEAD);
			base = 0xFFFFFFF0u;
		} else if (e->kind == TG_EV_ASYNC) {
			tr = track_get(&w->tracks, e->pid ? e->pid : c->pid, e->domain, G_ASYNC);
			base = ASYNC_TID_BASE + e->domain;
		} else {
			tr = track_get(&w->tracks, e->pid ? e->pid : c->pid, w->host_tid[i], G_THREAD);
			base = w->host_tid[i];
		}
		if (!tr)
			return TG_E_NOMEM;
		tr->base_tid = base;
		if (tg_event_on_gpu(e->kind))
			tr->device = e->device;
		w->out_end[i] = end;
		if (e->kind == TG_EV_MARK) { /* instants need no nesting */
			w->out_tid[i] = base;
			continue;
		}
		TG_TRY(place(&w->tracks, tr, base, e->start_ns, &w->out_end[i], &w->out_tid[i]));
	}
	return 0;
}

static void write_slices(struct writer *w)
{
	const struct tg_capture *c = w->c;
	struct out *o = w->o;
	for (size_t i = 0; i < c->n_events; i++) {
		const struct tg_event *e = &c->events[i];
		const uint32_t pid = tg_event_on_gpu(e->kind) || (e->kind == TG_EV_OVERHEAD && e->sub == 1)
					     ? TG_TRACE_GPU_PID(e->device)
					     : (e->pid ? e->pid : c->pid);
		if (e->kind == TG_EV_MARK) {
			begin(o, 'i', pid, w->out_tid[i]);
			LIT(o, ",\"s\":\"t\",\"ts\":");
		} else {
			begin(o, 'X', pid, w->out_tid[i]);
			LIT(o, ",\"ts\":");
		}
		ts(o, e->start_ns);
		if (e->kind != TG_EV_MARK) {
			LIT(o, ",\"dur\":");
			us(o, w->out_end[i] - e->start_ns);
			w->st.slices++;
		}
		LIT(o, ",\"cat\":");
		str(o, category(e));
		LIT(o, ",\"name\":");
		str(o, event_name(w, e));
		slice_args(w, e);
		LIT(o, "}");
	}
}

static void write_flows(struct writer *w)
{
	const struct tg_capture *c = w->c;
	struct out *o = w->o;
	for (size_t i = 0; i < c->n_events; i++) {
		const struct tg_event *e = &c->events[i];
		if (!tg_event_on_gpu(e->kind) || !e->correlation)
			continue;
		const struct corr *k = find_corr(w->api, w->n_api, e->correlation);
		if (!k) {
			w->st.unmatched++;
			continue;
		}
		const struct tg_event *a = &c->events[k->index];
		begin(o, 's', a->pid ? a->pid : c->pid, w->out_tid[k->index]);
		LIT(o, ",\"ts\":");
		ts(o, a->start_ns + (a->end_ns - a->start_ns) / 2);
		LIT(o, ",\"id\":");
		u64(o, e->correlation);
		LIT(o, ",\"cat\":\"launch\",\"name\":\"launch\"}");
		begin(o, 'f', TG_TRACE_GPU_PID(e->device), w->out_tid[i]);
		LIT(o, ",\"ts\":");
		ts(o, e->start_ns);
		LIT(o, ",\"id\":");
		u64(o, e->correlation);
		LIT(o, ",\"bp\":\"e\",\"cat\":\"launch\",\"name\":\"launch\"}");
		w->st.flows++;
	}
}

struct change {
	uint64_t t;
	double delta;
	uint32_t device;
	uint8_t dir;
};

static int cmp_change(const void *a, const void *b)
{
	const struct change *x = a, *y = b;
	if (x->device != y->device)
		return x->device < y->device ? -1 : 1;
	if (x->dir != y->dir)
		return x->dir < y->dir ? -1 : 1;
	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return (x->delta > y->delta) - (x->delta < y->delta);
}

/* Achieved copy bandwidth per device and direction, summed over copies
 * in flight. */
static int write_counters(struct writer *w)
{
	const struct tg_capture *c = w->c;
	size_t n = 0;
	for (size_t i = 0; i < c->n_events; i++)
		if (c->events[i].kind == TG_EV_MEMCPY && c->events[i].end_ns > c->events[i].start_ns)
			n++;
	if (!n)
		return 0;
	struct change *ch = malloc(2 * n * sizeof(*ch));
	if (!ch)
		return TG_E_NOMEM;
	size_t k = 0;
	for (size_t i = 0; i < c->n_events; i++) {
		const struct tg_event *e = &c->events[i];
		if (e->kind != TG_EV_MEMCPY || e->end_ns <= e->start_ns)
			continue;
		double bw = gbps(e);
		ch[k++] = (struct change){e->start_ns, bw, e->device, e->sub};
		ch[k++] = (struct change){e->end_ns, -bw, e->device, e->sub};
	}
	qsort(ch, k, sizeof(*ch), cmp_change);
	double level = 0.0;
	for (size_t i = 0; i < k; i++) {
		if (i == 0 || ch[i].device != ch[i - 1].device || ch[i].dir != ch[i - 1].dir)
			level = 0.0;
		level += ch[i].delta;
		if (level < 1e-9)
			level = 0.0;
		/* one value per timestamp: the last change at t wins */
		if (i + 1 < k && ch[i + 1].t == ch[i].t && ch[i + 1].device == ch[i].device &&
		    ch[i + 1].dir == ch[i].dir)
			continue;
		char name[48];
		snprintf(name, sizeof(name), "%s GB/s", tg_copy_kind_name(ch[i].dir));
		begin(w->o, 'C', TG_TRACE_GPU_PID(ch[i].device), 0);
		LIT(w->o, ",\"ts\":");
		ts(w->o, ch[i].t);
		LIT(w->o, ",\"name\":");
		str(w->o, name);
		LIT(w->o, ",\"args\":{\"GB/s\":");
		num(w->o, level);
		LIT(w->o, "}}");
		w->st.counters++;
	}
	free(ch);
	return 0;
}

/* ---- samples as flame charts --------------------------------------------- */

struct frame_open {
	const char *name;
	uint64_t start;
};

static uint64_t whole_us(uint64_t ns)
{
	return (ns + 500) / 1000 * 1000;
}

static void close_frames(struct writer *w, uint32_t pid, uint32_t tid, struct frame_open *open,
			 int *n_open, int keep, uint64_t t)
{
	/* Outermost first: a caller and its callee that opened in the same
	 * sample close together with equal ts and dur, and both importers
	 * (catapult and Perfetto) then take the one earlier in the file as the
	 * parent. */
	/* Whole microseconds (a sample's time is a tick's, good to a few us):
	 * frames that close together then end at the same double in every
	 * importer (speedscope computes ts + dur, and 1995.559 + 0.001 is not
	 * always 1995.56: "Tried to end cpu when tg_cpu_atc_symbol was on the
	 * top of the stack") */
	/* ... and a microsecond before the next sample's frames begin: a frame
	 * that closes and reopens under the same name at one instant reads to
	 * speedscope as a zero-length one (it opens the new one first) */
	uint64_t end = whole_us(t > w->o->base ? t - w->o->base : 0);
	end = end >= 1000 ? end - 1000 : 0;
	for (int k = keep; k < *n_open; k++) {
		const struct frame_open *f = &open[k];
		const uint64_t start = whole_us(f->start > w->o->base ? f->start - w->o->base : 0);
		begin(w->o, 'X', pid, tid);
		LIT(w->o, ",\"ts\":");
		us(w->o, start);
		LIT(w->o, ",\"dur\":");
		us(w->o, end > start ? end - start : 1000);
		LIT(w->o, ",\"cat\":\"sample\",\"name\":");
		str(w->o, f->name);
		LIT(w->o, "}");
		w->st.slices++;
	}
	if (*n_open > keep)
		*n_open = keep;
}

static int cmp_tid_sample(const void *a, const void *b, void *ctx)
{
	const struct tg_capture *c = ctx;
	const struct tg_capture_sample *x = &c->samples[*(const size_t *)a];
	const struct tg_capture_sample *y = &c->samples[*(const size_t *)b];
	if (x->tid != y->tid)
		return x->tid < y->tid ? -1 : 1;
	return x->t_ns < y->t_ns ? -1 : x->t_ns > y->t_ns;
}

static int write_samples(struct writer *w)
{
	const struct tg_capture *c = w->c;
	if (!w->opt->sym || !c->n_samples)
		return 0;
	const int max_depth = w->opt->max_sample_depth > 0 ? w->opt->max_sample_depth : 64;
	size_t *idx = malloc(c->n_samples * sizeof(*idx));
	struct frame_open *open = malloc((size_t)(max_depth + 1) * sizeof(*open));
	const char **names = malloc((size_t)(max_depth + 1) * sizeof(*names));
	if (!idx || !open || !names) {
		free(idx);
		free(open);
		free(names);
		return TG_E_NOMEM;
	}
	for (size_t i = 0; i < c->n_samples; i++)
		idx[i] = i;
	qsort_r(idx, c->n_samples, sizeof(*idx), cmp_tid_sample, (void *)c);
	const uint64_t period = c->sample_period_ns > 0 ? (uint64_t)c->sample_period_ns : 1000000;
	int n_open = 0;
	uint64_t last_end = 0;
	for (size_t j = 0; j < c->n_samples; j++) {
		const struct tg_capture_sample *s = &c->samples[idx[j]];
		const uint32_t tid = SAMPLE_TID_BASE + (uint32_t)s->tid;
		const bool new_thread = j == 0 || c->samples[idx[j - 1]].tid != s->tid;
		if (new_thread)
			close_frames(w, c->pid, SAMPLE_TID_BASE + (uint32_t)(j ? c->samples[idx[j - 1]].tid : 0),
				     open, &n_open, 0, last_end);
		else if (s->t_ns > last_end)
			close_frames(w, c->pid, tid, open, &n_open, 0, last_end); /* a gap: idle */
		const int n = tg_sample_frames(c, w->opt->sym, s, true, names, NULL, max_depth + 1);
		int common = 0;
		while (common < n_open && common < n &&
		       (open[common].name == names[common] || strcmp(open[common].name, names[common]) == 0))
			common++;
		close_frames(w, c->pid, tid, open, &n_open, common, s->t_ns);
		for (int k = n_open; k < n; k++)
			open[k] = (struct frame_open){names[k], s->t_ns};
		n_open = n;
		uint64_t next = j + 1 < c->n_samples && c->samples[idx[j + 1]].tid == s->tid
					? c->samples[idx[j + 1]].t_ns
					: s->t_ns + period;
		last_end = next - s->t_ns <= 2 * period ? next : s->t_ns + period;
	}
	if (c->n_samples)
		close_frames(w, c->pid, SAMPLE_TID_BASE + (uint32_t)c->samples[idx[c->n_samples - 1]].tid,
			     open, &n_open, 0, last_end);
	free(idx);
	free(open);
	free(names);
	return 0;
}

/* ---- names and metadata ------------------------------------------------------ */

static const char *thread_name(const struct tg_capture *c, uint32_t tid, char *buf, size_t cap)
{
	const struct tg_capture_thread *t = tg_capture_find_thread(c, tid);
	if (t && t->name)
		snprintf(buf, cap, "%s (%u)", tg_capture_string(c, t->name), tid);
	else if (tid == c->pid)
		snprintf(buf, cap, "main (%u)", tid);
	else if (tid == 0)
		snprintf(buf, cap, "CUDA (thread unknown)");
	else
		snprintf(buf, cap, "thread %u", tid);
	return buf;
}

static const struct tg_capture_device *device_of(const struct tg_capture *c, uint32_t id)
{
	for (size_t i = 0; i < c->n_devices; i++)
		if (c->devices[i].id == id)
			return &c->devices[i];
	return NULL;
}

static void write_metadata(struct writer *w)
{
	const struct tg_capture *c = w->c;
	struct out *o = w->o;
	char name[256];
	snprintf(name, sizeof(name), "%s (pid %u)",
		 w->opt->process_name ? w->opt->process_name : "host", c->pid);
	meta_name(o, "process_name", c->pid, 0, name, 0);
	/* every track that got a slice, plus sampled threads */
	for (size_t i = 0; i < w->tracks.n; i++) {
		const struct track *tr = &w->tracks.v[i];
		char base[192];
		int sort = 0;
		switch (tr->group) {
		case G_STREAM:
			snprintf(base, sizeof(base), "stream %u", tr->key);
			/* ids beyond 2^20 (none real) share sort indices; sort * 4 stays an int */
			sort = (int)(tr->key & 0xFFFFF);
			break;
		case G_GPU_OVERHEAD:
			snprintf(base, sizeof(base), "CUPTI / driver overhead");
			sort = 1 << 20;
			break;
		case G_ASYNC:
			snprintf(base, sizeof(base), "NVTX ranges: %s",
				 tr->key ? tg_capture_string(c, tr->key) : "default domain");
			sort = 1 << 21;
			break;
		default:
			thread_name(c, tr->key, base, sizeof(base));
			sort = tr->key == c->pid ? -1 : (int)(tr->key & 0xFFFFF);
			break;
		}
		if (tr->pid != c->pid && tr->group != G_STREAM && tr->group != G_GPU_OVERHEAD)
			meta_name(o, "process_name", tr->pid, 0, "host process", 0);
		if (tr->n_lanes == 0) /* marks only */
			meta_name(o, "thread_name", tr->pid, tr->base_tid, base, sort * 4);
		for (int k = 0; k < tr->n_lanes; k++) {
			char lane[240];
			if (k == 0)
				snprintf(lane, sizeof(lane), "%s", base);
			else
				snprintf(lane, sizeof(lane), "%s (overlapping, lane %d)", base, k + 1);
			meta_name(o, "thread_name", tr->pid, tr->lanes[k].tid, lane, sort * 4 + (k ? 1 : 0));
		}
	}
	/* GPU processes */
	uint32_t seen[64];
	int n_seen = 0;
	for (size_t i = 0; i < w->tracks.n; i++) {
		const struct track *tr = &w->tracks.v[i];
		if (tr->group != G_STREAM && tr->group != G_GPU_OVERHEAD)
			continue;
		uint32_t dev = tr->pid - TG_TRACE_GPU_PID(0);
		int dup = 0;
		for (int k = 0; k < n_seen; k++)
			dup |= seen[k] == dev;
		if (dup || n_seen == 64)
			continue;
		seen[n_seen++] = dev;
		const struct tg_capture_device *d = device_of(c, dev);
		if (d)
			snprintf(name, sizeof(name), "GPU %u: %s (sm_%u%u, %u SMs)", dev,
				 tg_capture_string(c, d->name), d->cc_major, d->cc_minor, d->sms);
		else
			snprintf(name, sizeof(name), "GPU %u", dev);
		meta_name(o, "process_name", tr->pid, 0, name, 100 + (int)dev);
	}
	/* sample tracks */
	uint32_t tids[256];
	int n_tids = 0;
	for (size_t i = 0; w->opt->sym && i < c->n_samples; i++) {
		uint32_t tid = (uint32_t)c->samples[i].tid;
		bool done = false;
		for (int k = 0; k < n_tids && !done; k++)
			done = tids[k] == tid;
		if (done)
			continue;
		if (n_tids < 256)
			tids[n_tids++] = tid;
		char base[192], full[240];
		thread_name(c, tid, base, sizeof(base));
		snprintf(full, sizeof(full), "%s: CPU samples", base);
		meta_name(o, "thread_name", c->pid, SAMPLE_TID_BASE + tid, full,
			  (tid == c->pid ? -1 : (int)(tid & 0xFFFFF)) * 4 + 2);
	}
}

/* `,"name":` nested, `,"prefix.name":` flat (the comma left out first). */
static void info_key(struct out *o, bool flat, const char *prefix, const char *name, bool first)
{
	char key[256];
	snprintf(key, sizeof(key), "%s%s", flat && prefix ? prefix : "", name);
	if (!first)
		LIT(o, ",");
	str(o, key);
	LIT(o, ":");
}

/* The run's metadata and data-quality counters. Perfetto reads only the
 * top-level "metadata" object, so it is flat there (devices and counters
 * as "device.0.name", "data_quality.<counter>"); catapult shows
 * "otherData", nested. Both come from this one function. */
static void write_info(struct writer *w, bool flat)
{
	const struct tg_capture *c = w->c;
	struct out *o = w->o;
	LIT(o, "{\"tool\":\"trendgpu-bench " TG_VERSION "\",\"capture_ns\":");
	u64(o, c->end_ns > c->start_ns ? c->end_ns - c->start_ns : 0);
	for (size_t i = 0; i < c->n_meta; i++) {
		info_key(o, flat, NULL, tg_capture_string(c, c->meta[i].key), false);
		str(o, tg_capture_string(c, c->meta[i].value));
	}
	if (!flat)
		LIT(o, ",\"devices\":[");
	for (size_t i = 0; i < c->n_devices; i++) {
		const struct tg_capture_device *d = &c->devices[i];
		char pre[32], cc[32];
		snprintf(pre, sizeof(pre), "device.%zu.", i);
		snprintf(cc, sizeof(cc), "%u.%u", (unsigned)d->cc_major, (unsigned)d->cc_minor);
		if (!flat && i)
			LIT(o, ",");
		if (!flat)
			LIT(o, "{");
		info_key(o, flat, pre, "id", !flat);
		u64(o, d->id);
		info_key(o, flat, pre, "name", false);
		str(o, tg_capture_string(c, d->name));
		info_key(o, flat, pre, "sms", false);
		u64(o, d->sms);
		info_key(o, flat, pre, "compute_capability", false);
		str(o, cc);
		info_key(o, flat, pre, "memory_bytes", false);
		u64(o, d->memory_bytes);
		if (!flat)
			LIT(o, "}");
	}
	if (!flat)
		LIT(o, "],\"data_quality\":{");
	const char *dq = "data_quality.";
	for (size_t i = 0; i < c->n_counters; i++) {
		info_key(o, flat, dq, tg_capture_string(c, c->counters[i].key), !flat && i == 0);
		u64(o, c->counters[i].value);
	}
	info_key(o, flat, dq, "trace.unmatched_correlations", !flat && c->n_counters == 0);
	u64(o, w->st.unmatched);
	info_key(o, flat, dq, "trace.lane_tracks", false);
	u64(o, w->tracks.lanes);
	info_key(o, flat, dq, "trace.clamped_slices", false);
	u64(o, w->tracks.clamped);
	LIT(o, "}");
	if (!flat)
		LIT(o, "}");
}

static void write_other_data(struct writer *w)
{
	LIT(w->o, "\n],\n\"metadata\":");
	write_info(w, true);
	LIT(w->o, ",\n\"otherData\":");
	write_info(w, false);
	LIT(w->o, "}\n");
}

int tg_trace_write(const struct tg_capture *c, const struct tg_trace_opts *opt, struct tg_sink *s,
		   struct tg_trace_stats *st, struct tg_error *err)
{
	static const struct tg_trace_opts defaults = {0};
	struct writer w;
	memset(&w, 0, sizeof(w));
	w.c = c;
	w.opt = opt ? opt : &defaults;
	w.o = malloc(sizeof(*w.o));
	w.out_tid = malloc((c->n_events + 1) * sizeof(uint32_t));
	w.out_end = malloc((c->n_events + 1) * sizeof(uint64_t));
	w.host_tid = malloc((c->n_events + 1) * sizeof(uint32_t));
	w.api = malloc((c->n_events + 1) * sizeof(*w.api));
	w.demangled = calloc(c->n_strings + 1, sizeof(char *));
	int rc = 0;
	if (!w.o || !w.out_tid || !w.out_end || !w.host_tid || !w.api || !w.demangled ||
	    tracks_rehash(&w.tracks, 64) < 0) {
		rc = TG_ERR(err, TG_E_NOMEM, "trace: out of memory for %zu events", c->n_events);
		goto out;
	}
	w.tracks.next_lane_tid = LANE_TID_BASE;
	w.o->s = s;
	w.o->n = 0;
	w.o->events = 0;
	w.o->first = 1;
	/* the earliest time in the capture is ts 0 */
	uint64_t base = c->start_ns ? c->start_ns : UINT64_MAX;
	for (size_t i = 0; i < c->n_events; i++)
		if (c->events[i].start_ns < base)
			base = c->events[i].start_ns;
	for (size_t i = 0; i < c->n_samples; i++)
		if (c->samples[i].t_ns < base)
			base = c->samples[i].t_ns;
	w.o->base = base == UINT64_MAX ? 0 : base;

	/* launch calls by correlation id: runtime before driver */
	for (size_t i = 0; i < c->n_events; i++) {
		const struct tg_event *e = &c->events[i];
		if ((e->kind == TG_EV_RUNTIME || e->kind == TG_EV_DRIVER) && e->correlation)
			w.api[w.n_api++] = (struct corr){e->correlation, (uint32_t)i};
	}
	qsort(w.api, w.n_api, sizeof(*w.api), cmp_corr);
	/* one call per correlation id, the runtime's when both are traced */
	size_t kept = 0;
	for (size_t i = 0; i < w.n_api; i++) {
		if (kept && w.api[kept - 1].correlation == w.api[i].correlation) {
			if (c->events[w.api[i].index].kind == TG_EV_RUNTIME &&
			    c->events[w.api[kept - 1].index].kind != TG_EV_RUNTIME)
				w.api[kept - 1] = w.api[i];
		} else {
			w.api[kept++] = w.api[i];
		}
	}
	w.n_api = kept;
	if ((rc = assign_tracks(&w)) < 0) {
		rc = TG_ERR(err, rc, "trace: out of memory assigning tracks");
		goto out;
	}
	LIT(w.o, "{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n");
	write_metadata(&w);
	write_slices(&w);
	write_flows(&w);
	if (write_counters(&w) < 0 || write_samples(&w) < 0) {
		rc = TG_ERR(err, TG_E_NOMEM, "trace: out of memory");
		goto out;
	}
	write_other_data(&w);
	flush(w.o);
	w.st.events = w.o->events;
	w.st.lanes = w.tracks.lanes;
	w.st.clamped = w.tracks.clamped;
	if (st)
		*st = w.st;
out:
	for (size_t i = 0; w.demangled && i < c->n_strings; i++)
		free(w.demangled[i]);
	free(w.demangled);
	free(w.out_end);
	tracks_free(&w.tracks);
	free(w.api);
	free(w.out_tid);
	free(w.host_tid);
	free(w.o);
	return rc;
}
