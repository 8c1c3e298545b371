/* A job's ranks merged (tg_run.h): the run directories rank0 .. rank<R-1>
 * of one job (record under a launcher) become one timeline, one flame
 * graph with a root frame per rank and a merged one, and a per-rank table
 * of the NVTX ranges with their imbalance. Each rank's own outputs are
 * rendered by it (its symbols, its maps); the merge moves their events
 * onto rank 0's clock and gives every process of every rank a pid of its
 * own. */
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tg_flame.h"
#include "tg_log.h"
#include "tg_mem.h"
#include "tg_run.h"
#include "tg_stats.h"
#include "tg_str.h"

#define MAX_RANKS 4096
/* a step of the wall clock of more than this between a capture's start
 * and end (NTP setting the clock) is not drift: the start offset holds */
#define MAX_DRIFT_NS 50000000ull

static bool is_file(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int tg_rundir_count_ranks(const char *dir)
{
	int n = 0;
	for (; n < MAX_RANKS; n++) {
		char path[1200];
		snprintf(path, sizeof(path), "%s/rank%d/capture.bin", dir, n);
		if (!is_file(path))
			break;
	}
	return n;
}

static bool meta_i64(const struct tg_capture *c, const char *key, int64_t *v)
{
	long x = 0;
	if (!tg_parse_int(tg_capture_meta(c, key), LONG_MIN, LONG_MAX, &x))
		return false;
	*v = x;
	return true;
}

int tg_rank_clock_write(const char *rank_dir, const struct tg_clock_pair *start,
			const struct tg_clock_pair *stop, struct tg_error *err)
{
	char path[1200];
	snprintf(path, sizeof(path), "%s/" TG_RANK_CLOCK_FILE, rank_dir);
	struct tg_sink *s = tg_sink_open_file(path, err);
	if (!s)
		return err ? err->code : TG_E_IO;
	tg_sink_puts(s, "trendgpu-bench rank clock: mpi ping-pong\n");
	const struct tg_clock_pair *p[2] = {start, stop};
	for (int k = 0; k < 2; k++)
		tg_sink_printf(s, "%s %llu %llu %llu\n", k ? "end" : "start",
			       (unsigned long long)p[k]->foreign_ns, (unsigned long long)p[k]->mono_ns,
			       (unsigned long long)p[k]->uncertainty_ns);
	return tg_sink_close(s, err);
}

/* rank_dir/clock.txt (untrusted: a bad one is an error naming it) */
static int read_clock_file(const char *rank_dir, struct tg_clock_pair p[2], bool *found,
			   struct tg_error *err)
{
	char path[1200];
	snprintf(path, sizeof(path), "%s/" TG_RANK_CLOCK_FILE, rank_dir);
	*found = is_file(path);
	if (!*found)
		return 0;
	char *text = NULL;
	size_t len = 0;
	TG_TRY(tg_read_file(path, "a rank's clock", &text, &len, err));
	unsigned long long v[2][3];
	char head[64] = "";
	int used = 0;
	const int got = sscanf(text, "trendgpu-bench rank clock: %63s ping-pong\nstart %llu %llu %llu\nend %llu %llu %llu\n%n",
			       head, &v[0][0], &v[0][1], &v[0][2], &v[1][0], &v[1][1], &v[1][2], &used);
	const bool ok = got == 7 && strcmp(head, "mpi") == 0 && (size_t)used == len &&
			v[1][0] >= v[0][0];
	free(text);
	TG_FAIL_IF(!ok, err, TG_E_PARSE,
		   "report: %s: expected 'trendgpu-bench rank clock: mpi ping-pong', then 'start' and "
		   "'end' lines of three numbers (the rank's clock, rank 0's, the uncertainty, ns)",
		   path);
	for (int k = 0; k < 2; k++)
		p[k] = (struct tg_clock_pair){v[k][0], v[k][1], v[k][2]};
	return 0;
}

void tg_rank_clock_align(const struct tg_capture *c, const struct tg_capture *ref,
			 struct tg_rank_clock *out)
{
	memset(&out->align, 0, sizeof(out->align));
	out->align.identity = true;
	const char *host = tg_capture_meta(c, "host"), *ref_host = tg_capture_meta(ref, "host");
	if (c == ref) {
		tg_strlcpy(out->source, "the reference", sizeof(out->source));
		return;
	}
	if (host && ref_host && *host && strcmp(host, ref_host) == 0) {
		/* one host, one CLOCK_MONOTONIC */
		tg_strlcpy(out->source, "same host: CLOCK_MONOTONIC", sizeof(out->source));
		return;
	}
	int64_t d0s, d0e, drs, dre;
	if (!meta_i64(c, TG_META_CLOCK_START, &drs) || !meta_i64(c, TG_META_CLOCK_END, &dre) ||
	    !meta_i64(ref, TG_META_CLOCK_START, &d0s) || !meta_i64(ref, TG_META_CLOCK_END, &d0e)) {
		tg_strlcpy(out->source, "not aligned: no clock anchors in the capture",
			   sizeof(out->source));
		return;
	}
	/* rank r's CLOCK_MONOTONIC t is rank 0's t + d_r - d_0, d = realtime -
	 * monotonic: pairs of (rank r's time, rank 0's time) at both ends */
	const struct tg_clock_pair start = {c->start_ns, (uint64_t)((int64_t)c->start_ns + drs - d0s), 0};
	const struct tg_clock_pair stop = {c->end_ns, (uint64_t)((int64_t)c->end_ns + dre - d0e), 0};
	tg_clock_fit(&start, &stop, MAX_DRIFT_NS, &out->align);
	tg_strlcpy(out->source, out->align.step ? "wall clocks (a step: start offset kept)"
						 : "wall clocks, drift corrected",
		   sizeof(out->source));
}

/* ---- the timeline ---------------------------------------------------------- */

struct pid_map {
	json_int_t from[64];
	json_int_t to[64];
	int n;
};

static json_int_t map_pid(struct pid_map *m, json_int_t pid, json_int_t *next)
{
	for (int i = 0; i < m->n; i++)
		if (m->from[i] == pid)
			return m->to[i];
	if (m->n == 64)
		return m->to[63]; /* a rank with more processes shares its last */
	m->from[m->n] = pid;
	m->to[m->n] = (*next)++;
	return m->to[m->n++];
}

/* A rank's trace time (us from its capture's start) as ns from the merged
 * origin on rank 0's clock. */
static int64_t on_origin(const struct tg_rank_clock *rc, double us, uint64_t origin_ns)
{
	const uint64_t t = rc->start_ns + (uint64_t)llround(us * 1e3);
	return (int64_t)(tg_clock_apply(&rc->align, t) - origin_ns);
}

/* One rank's events into the merged trace: pids mapped, ts moved from its
 * capture's start to rank 0's, flow ids made the rank's own, process names
 * "host:rank ...". */
static int merge_events(struct tg_sink *s, json_t *events, const struct tg_rank_clock *rc,
			uint64_t origin_ns, json_int_t *next_pid, bool *first, const char *source,
			struct tg_error *err)
{
	struct pid_map map = {.n = 0};
	size_t i;
	json_t *e;
	json_array_foreach(events, i, e)
	{
		if (!json_is_object(e))
			return TG_ERR(err, TG_E_PARSE, "report: %s: traceEvents[%zu] is not an object",
				      source, i);
		json_t *pid = json_object_get(e, "pid"), *ts = json_object_get(e, "ts"),
		       *ph = json_object_get(e, "ph"), *id = json_object_get(e, "id");
		if (json_is_integer(pid))
			json_object_set_new(e, "pid",
					    json_integer(map_pid(&map, json_integer_value(pid), next_pid)));
		if (json_is_number(ts)) {
			/* both ends through the clock (a drifting clock stretches a
			 * slice): what nests on the rank's clock nests on rank 0's */
			json_t *dur = json_object_get(e, "dur");
			const double t0 = json_number_value(ts);
			const int64_t a = on_origin(rc, t0, origin_ns);
			json_object_set_new(e, "ts", json_real((double)a * 1e-3));
			if (json_is_number(dur)) {
				const int64_t b = on_origin(rc, t0 + json_number_value(dur), origin_ns);
				json_object_set_new(e, "dur", json_real((double)(b - a) * 1e-3));
			}
		}
		if (json_is_integer(id))
			json_object_set_new(e, "id",
					    json_integer(((json_int_t)rc->rank << 40) | json_integer_value(id)));
		const char *phs = json_string_value(ph), *name = json_string_value(json_object_get(e, "name"));
		if (phs && strcmp(phs, "M") == 0 && name && strcmp(name, "process_name") == 0) {
			json_t *args = json_object_get(e, "args");
			const char *was = json_string_value(json_object_get(args, "name"));
			char buf[600];
			snprintf(buf, sizeof(buf), "%s:%d %s", rc->host, rc->rank, was ? was : "");
			json_object_set_new(args, "name", json_string(buf));
		}
		if (phs && strcmp(phs, "M") == 0 && name && strcmp(name, "process_sort_index") == 0) {
			json_t *args = json_object_get(e, "args");
			const json_int_t k = json_integer_value(json_object_get(args, "sort_index"));
			json_object_set_new(args, "sort_index", json_integer(rc->rank * 1000 + k));
		}
		char *text = json_dumps(e, JSON_COMPACT | JSON_REAL_PRECISION(16));
		if (!text)
			return TG_ERR(err, TG_E_NOMEM, "report: out of memory merging %s", source);
		tg_sink_puts(s, *first ? "\n" : ",\n");
		tg_sink_puts(s, text);
		free(text);
		*first = false;
	}
	return 0;
}

static int load_trace(const char *dir, json_t **out, struct tg_error *err)
{
	char path[1200];
	snprintf(path, sizeof(path), "%s/trace.json", dir);
	json_error_t je;
	*out = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	if (!*out)
		return TG_ERR(err, TG_E_PARSE, "report: %s: line %d: %s", path, je.line, je.text);
	if (!json_is_array(json_object_get(*out, "traceEvents"))) {
		json_decref(*out);
		*out = NULL;
		return TG_ERR(err, TG_E_PARSE, "report: %s: no traceEvents array", path);
	}
	return 0;
}

static int write_trace(const char *out_dir, const struct tg_rank_clock *clk,
		       int n, struct tg_error *err)
{
	char path[1200];
	snprintf(path, sizeof(path), "%s/trace.json", out_dir);
	struct tg_sink *s = tg_sink_open_file(path, err);
	if (!s)
		return err ? err->code : TG_E_IO;
	tg_sink_puts(s, "{\"displayTimeUnit\":\"ns\",\"traceEvents\":[");
	json_int_t next_pid = 1;
	bool first = true;
	int rc = 0;
	/* time 0: the first rank to start, on rank 0's clock */
	uint64_t origin = UINT64_MAX;
	for (int r = 0; r < n; r++) {
		const uint64_t t = tg_clock_apply(&clk[r].align, clk[r].start_ns);
		origin = t < origin ? t : origin;
	}
	for (int r = 0; r < n && rc == 0; r++) {
		char rdir[1200];
		snprintf(rdir, sizeof(rdir), "%s/rank%d", out_dir, r);
		json_t *t = NULL;
		rc = load_trace(rdir, &t, err);
		if (rc == 0)
			rc = merge_events(s, json_object_get(t, "traceEvents"), &clk[r], origin,
					  &next_pid, &first, rdir, err);
		json_decref(t);
	}
	json_t *ranks = json_array();
	for (int r = 0; r < n && ranks; r++) {
		const struct tg_clock_align *a = &clk[r].align;
		json_array_append_new(
			ranks, json_pack("{s:i, s:s, s:I, s:s, s:I, s:I, s:I, s:b}", "rank", r, "host",
					 clk[r].host, "pid", (json_int_t)clk[r].pid, "clock", clk[r].source,
					 "offset_ns", (json_int_t)(a->identity ? 0 : a->offset0),
					 "drift_ns", (json_int_t)(a->identity ? 0 : a->drift_ns),
					 "uncertainty_ns", (json_int_t)a->uncertainty_ns, "step", a->step));
	}
	json_t *other = json_pack("{s:s, s:o}", "tool", "trendgpu-bench", "ranks", ranks);
	char *text = other ? json_dumps(other, JSON_COMPACT) : NULL;
	json_decref(other);
	if (rc == 0 && !text)
		rc = TG_ERR(err, TG_E_NOMEM, "report: out of memory merging the ranks");
	if (rc < 0) {
		free(text);
		tg_sink_abort(s);
		return rc;
	}
	tg_sink_puts(s, "\n],\"otherData\":");
	tg_sink_puts(s, text);
	tg_sink_puts(s, "}\n");
	free(text);
	return tg_sink_close(s, err);
}

/* ---- flame graphs ------------------------------------------------------------ */

static int w_folded(const void *f, struct tg_sink *s, struct tg_error *err)
{
	return tg_flame_write_folded(f, s, err);
}

struct svg_job {
	const struct tg_flame *f;
	struct tg_flame_svg_opts opts;
};

static int w_svg(const void *ctx, struct tg_sink *s, struct tg_error *err)
{
	const struct svg_job *j = ctx;
	return tg_flame_write_svg(j->f, &j->opts, s, err);
}

/* every rank's cpu.folded: below a root frame per rank ("rank 1 (host)")
 * into cpu-ranks.*, as they are into the merged cpu.* */
static int write_flames(const char *out_dir, const struct tg_rank_clock *clk,
			int n, int *ranks_with, struct tg_error *err)
{
	struct tg_flame *by_rank = tg_flame_new(), *merged = tg_flame_new();
	int rc = by_rank && merged ? 0 : TG_ERR(err, TG_E_NOMEM, "report: out of memory");
	*ranks_with = 0;
	for (int r = 0; r < n && rc == 0; r++) {
		char path[1200];
		snprintf(path, sizeof(path), "%s/rank%d/cpu.folded", out_dir, r);
		if (!is_file(path))
			continue;
		char *text = NULL;
		size_t len = 0;
		rc = tg_read_file(path, "folded stacks", &text, &len, err);
		if (rc == 0)
			rc = tg_flame_parse_folded(merged, text, len, path, err);
		/* the same lines under the rank's frame */
		char root[128];
		snprintf(root, sizeof(root), "rank %d (%s)", r, clk[r].host);
		struct tg_sink *m = rc == 0 ? tg_sink_open_memory() : NULL;
		for (char *line = text, *nl; m && line && *line; line = nl ? nl + 1 : NULL) {
			nl = strchr(line, '\n');
			const size_t k = nl ? (size_t)(nl - line) : strlen(line);
			if (k == 0)
				continue;
			tg_sink_printf(m, "%s;%.*s\n", root, (int)k, line);
		}
		if (m) {
			size_t mlen = 0;
			const char *mt = tg_sink_memory_data(m, &mlen);
			rc = tg_flame_parse_folded(by_rank, mt, mlen, path, err);
			tg_sink_close(m, NULL);
		}
		free(text);
		++*ranks_with;
	}
	const struct {
		const struct tg_flame *f;
		const char *name, *title;
	} outs[] = {
		{merged, "cpu", "CPU stacks of every rank, merged"},
		{by_rank, "cpu-ranks", "CPU stacks by rank"},
	};
	for (size_t k = 0; k < 2 && rc == 0 && *ranks_with > 0; k++) {
		char path[1200], sub[96];
		snprintf(path, sizeof(path), "%s/%s.folded", out_dir, outs[k].name);
		rc = tg_sink_write_file(path, w_folded, outs[k].f, err);
		snprintf(sub, sizeof(sub), "%d ranks of %d with CPU samples", *ranks_with, n);
		const struct svg_job j = {outs[k].f, {.title = outs[k].title, .subtitle = sub,
						      .palette = TG_PALETTE_LANG}};
		snprintf(path, sizeof(path), "%s/%s.svg", out_dir, outs[k].name);
		if (rc == 0)
			rc = tg_sink_write_file(path, w_svg, &j, err);
	}
	tg_flame_free(by_rank);
	tg_flame_free(merged);
	return rc;
}

/* ---- the per-rank phase table ----------------------------------------------- */

/* time per NVTX push/pop range name, per rank */
struct phase_table {
	char (*name)[96];
	double *ms; /* [phase][rank] */
	int n, cap, ranks;
};

static int phase_add(struct phase_table *t, const char *name, int rank, double ms)
{
	int i = 0;
	while (i < t->n && strcmp(t->name[i], name) != 0)
		i++;
	if (i == t->n) {
		if (t->n == t->cap) {
			const int cap = t->cap ? 2 * t->cap : 16;
			char(*nn)[96] = realloc(t->name, (size_t)cap * sizeof(*nn));
			if (nn)
				t->name = nn;
			double *nm = nn ? realloc(t->ms, (size_t)cap * (size_t)t->ranks * sizeof(double)) : NULL;
			if (!nn || !nm)
				return TG_E_NOMEM;
			t->ms = nm;
			t->cap = cap;
		}
		tg_strlcpy(t->name[t->n], name, sizeof(t->name[0]));
		for (int r = 0; r < t->ranks; r++)
			t->ms[(size_t)t->n * (size_t)t->ranks + (size_t)r] = 0;
		t->n++;
	}
	t->ms[(size_t)i * (size_t)t->ranks + (size_t)rank] += ms;
	return 0;
}

static const struct tg_capture *sort_capture;

/* by thread, then start, then the longer first (the enclosing one) */
static int cmp_range(const void *a, const void *b)
{
	const struct tg_event *x = &sort_capture->events[*(const size_t *)a];
	const struct tg_event *y = &sort_capture->events[*(const size_t *)b];
	if (x->tid != y->tid)
		return x->tid < y->tid ? -1 : 1;
	if (x->start_ns != y->start_ns)
		return x->start_ns < y->start_ns ? -1 : 1;
	return x->end_ns > y->end_ns ? -1 : x->end_ns < y->end_ns;
}

/* Every NVTX push/pop range of c, as "outermost / name" (the outermost
 * range around it on its thread: "cpu exact / cpu: plan", so that the
 * same phase of two backends or modes stays apart), its time into rank's
 * column. */
static int add_ranges(struct phase_table *t, const struct tg_capture *c, int rank)
{
	size_t n = 0;
	for (size_t i = 0; i < c->n_events; i++)
		n += c->events[i].kind == TG_EV_RANGE && c->events[i].end_ns > c->events[i].start_ns;
	size_t *idx = malloc((n ? n : 1) * sizeof(size_t));
	if (!idx)
		return TG_E_NOMEM;
	n = 0;
	for (size_t i = 0; i < c->n_events; i++)
		if (c->events[i].kind == TG_EV_RANGE && c->events[i].end_ns > c->events[i].start_ns)
			idx[n++] = i;
	sort_capture = c; /* report runs one merge at a time */
	qsort(idx, n, sizeof(size_t), cmp_range);
	int rc = 0;
	uint32_t tid = 0;
	const struct tg_event *outer = NULL;
	for (size_t k = 0; k < n && rc == 0; k++) {
		const struct tg_event *e = &c->events[idx[k]];
		if (k == 0 || e->tid != tid || !outer || e->start_ns >= outer->end_ns) {
			outer = e; /* a new outermost range */
			tid = e->tid;
		}
		char label[96];
		if (outer == e)
			snprintf(label, sizeof(label), "%s", tg_capture_string(c, e->name));
		else
			snprintf(label, sizeof(label), "%s / %s", tg_capture_string(c, outer->name),
				 tg_capture_string(c, e->name));
		rc = phase_add(t, label, rank, (double)(e->end_ns - e->start_ns) * 1e-6);
	}
	free(idx);
	return rc;
}

static int write_table(const char *out_dir, const struct tg_rank_clock *clk, int n,
		       const struct phase_table *t, int ranks_with_samples, struct tg_error *err)
{
	char path[1200];
	snprintf(path, sizeof(path), "%s/ranks.md", out_dir);
	struct tg_sink *s = tg_sink_open_file(path, err);
	if (!s)
		return err ? err->code : TG_E_IO;
	tg_sink_printf(s,
		       "# %d ranks merged\n\nOne timeline ([trace.json](trace.json): a process per "
		       "rank, named host:rank, every clock on rank 0's), CPU stacks merged "
		       "([cpu.svg](cpu.svg)) and by rank ([cpu-ranks.svg](cpu-ranks.svg); %d ranks "
		       "with samples).\n\n| rank | host | pid | captured ms | clock | offset ms | drift "
		       "us |\n|---|---|---|---|---|---|---|\n",
		       n, ranks_with_samples);
	for (int r = 0; r < n; r++) {
		const struct tg_clock_align *a = &clk[r].align;
		tg_sink_printf(s, "| %d | %s | %u | %.3f | %s | %.3f | %.1f |\n", r, clk[r].host,
			       clk[r].pid, (double)(clk[r].end_ns - clk[r].start_ns) * 1e-6,
			       clk[r].source, a->identity ? 0.0 : (double)a->offset0 * 1e-6,
			       a->identity ? 0.0 : (double)a->drift_ns * 1e-3);
	}
	if (t->n > 0) {
		tg_sink_puts(s, "\n## NVTX ranges by rank\n\nEach range's time summed over its "
				"threads (ms), named after the outermost range around it on its "
				"thread; the imbalance is the slowest rank over the mean.\n\n| range |");
		for (int r = 0; r < n; r++)
			tg_sink_printf(s, " rank %d |", r);
		tg_sink_puts(s, " imbalance |\n|---|");
		for (int r = 0; r <= n; r++)
			tg_sink_puts(s, "---|");
		tg_sink_putc(s, '\n');
		for (int i = 0; i < t->n; i++) {
			tg_sink_puts(s, "| ");
			for (const char *p = t->name[i]; *p; p++) /* a table cell */
				tg_sink_puts(s, *p == '|' ? "\\|" : *p == '\n' ? " " : (char[2]){*p, 0});
			tg_sink_puts(s, " |");
			const double *v = t->ms + (size_t)i * (size_t)t->ranks;
			for (int r = 0; r < n; r++)
				tg_sink_printf(s, " %.3f |", v[r]);
			tg_sink_printf(s, " %.3f |\n", tg_stats_imbalance(v, n));
		}
	}
	return tg_sink_close(s, err);
}

int tg_rundir_merge_ranks(const char *dir, const char *out_dir, int n, struct tg_error *err)
{
	TG_FAIL_IF(n < 1 || n > MAX_RANKS, err, TG_E_RANGE, "report: %d ranks: expected 1 to %d", n,
		   MAX_RANKS);
	struct tg_rank_clock *clk = calloc((size_t)n, sizeof(*clk));
	struct tg_capture *ref = NULL;
	struct phase_table t = {.ranks = n};
	TG_FAIL_IF(!clk, err, TG_E_NOMEM, "report: out of memory");
	int rc = 0;
	for (int r = 0; r < n && rc == 0; r++) {
		char rdir[1200];
		snprintf(rdir, sizeof(rdir), "%s/rank%d", dir, r);
		struct tg_capture *c = NULL;
		char *maps = NULL;
		rc = tg_rundir_read_capture(rdir, &c, &maps, err);
		free(maps);
		if (rc < 0)
			break;
		struct tg_rank_clock *k = &clk[r];
		k->rank = r;
		k->pid = c->pid;
		k->start_ns = c->start_ns;
		k->end_ns = c->end_ns;
		const char *host = tg_capture_meta(c, "host");
		tg_strlcpy(k->host, host && *host ? host : "?", sizeof(k->host));
		tg_rank_clock_align(c, r == 0 ? c : ref, k);
		/* measured with MPI by the run itself: better than any anchor */
		struct tg_clock_pair pp[2];
		bool measured = false;
		if (r > 0 && read_clock_file(rdir, pp, &measured, err) < 0) {
			tg_log_error(err);
			tg_warn("report: rank %d: the clock file is ignored; %s", r, k->source);
			tg_error_clear(err);
		} else if (measured) {
			tg_clock_fit(&pp[0], &pp[1], MAX_DRIFT_NS, &k->align);
			tg_strlcpy(k->source, k->align.step ? "MPI ping-pong (a step: start offset kept)"
							    : "MPI ping-pong, drift corrected",
				   sizeof(k->source));
		}
		if (add_ranges(&t, c, r) < 0)
			rc = TG_ERR(err, TG_E_NOMEM, "report: out of memory");
		if (r == 0)
			ref = c;
		else
			tg_capture_free(c);
	}
	tg_capture_free(ref);
	int with = 0;
	if (rc == 0)
		rc = write_trace(out_dir, clk, n, err);
	if (rc == 0)
		rc = write_flames(out_dir, clk, n, &with, err);
	if (rc == 0)
		rc = write_table(out_dir, clk, n, &t, with, err);
	free(t.name);
	free(t.ms);
	free(clk);
	return rc;
}
