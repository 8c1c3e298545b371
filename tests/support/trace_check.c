/* A validator of Chrome Trace Event files as trendgpu-bench writes them:
 * the JSON parses; every event has a phase, pid and tid within 0..2^32-1
 * and a non-negative ts; X slices are properly nested per (pid, tid);
 * every flow has one start and one finish, each inside a slice of its
 * track; tracks with slices are named; counters carry numbers. */
#include "tg_trace_check.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct slice {
	uint64_t pid, tid;
	double ts, end;
	size_t idx;       /* file order among the slices */
	const char *name; /* owned by the parsed document */
	int sample;       /* "cat":"sample" */
	long parent;      /* sorted index of the parent the importers pick, or -1 */
};

struct flow {
	uint64_t id;
	char cat[32];
	int phase; /* 's' or 'f' */
	uint64_t pid, tid;
	double ts;
};

struct named {
	uint64_t pid, tid;
};

static int fail(char *why, size_t cap, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, cap, fmt, ap);
	va_end(ap);
	return -1;
}

static int cmp_slice(const void *a, const void *b)
{
	const struct slice *x = a, *y = b;
	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	if (x->tid != y->tid)
		return x->tid < y->tid ? -1 : 1;
	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	/* the importers' order: longer first, then file order (catapult and
	 * Perfetto take the first of two equal slices as the parent) */
	if (x->end != y->end)
		return x->end > y->end ? -1 : 1;
	return (x->idx > y->idx) - (x->idx < y->idx);
}

static int get_id(json_t *e, const char *key, uint64_t *out)
{
	json_t *v = json_object_get(e, key);
	if (!json_is_integer(v))
		return -1;
	json_int_t i = json_integer_value(v);
	if (i < 0 || i > 4294967295LL)
		return -1;
	*out = (uint64_t)i;
	return 0;
}

/* The slices of one track are [lo, hi) of the sorted array; is t inside one? */
static int inside(const struct slice *s, size_t n, uint64_t pid, uint64_t tid, double t)
{
	const double eps = 0.0005;
	for (size_t i = 0; i < n; i++)
		if (s[i].pid == pid && s[i].tid == tid && s[i].ts - eps <= t && t <= s[i].end + eps)
			return 1;
	return 0;
}

/* Calls fn with the root-to-self names of every sample slice, as the
 * importers nest them. */
static int sample_paths(const struct slice *sl, size_t n, tg_trace_path_fn fn, void *ctx)
{
	const char **chain = malloc((n + 1) * sizeof(*chain));
	size_t cap = 4096;
	char *path = malloc(cap);
	int rc = chain && path ? 0 : -1;
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (!sl[i].sample)
			continue;
		size_t depth = 0, len = 1;
		for (long k = (long)i; k >= 0; k = sl[k].parent) {
			chain[depth++] = sl[k].name;
			len += strlen(sl[k].name) + 1;
		}
		if (len > cap) {
			char *np = realloc(path, cap = len * 2);
			if (!np) {
				rc = -1;
				break;
			}
			path = np;
		}
		size_t at = 0;
		while (depth) {
			const char *nm = chain[--depth];
			size_t l = strlen(nm);
			memcpy(path + at, nm, l);
			at += l;
			if (depth)
				path[at++] = ';';
		}
		path[at] = '\0';
		rc = fn(ctx, path, sl[i].end - sl[i].ts);
	}
	free(chain);
	free(path);
	return rc;
}

static int check(const char *json, size_t len, struct tg_trace_check_stats *st, char *why,
		 size_t cap, tg_trace_path_fn fn, void *ctx)
{
	memset(st, 0, sizeof(*st));
	json_error_t jerr;
	json_t *root = json_loadb(json, len, 0, &jerr);
	if (!root)
		return fail(why, cap, "not JSON: line %d: %s", jerr.line, jerr.text);
	int rc = 0;
	json_t *events = json_object_get(root, "traceEvents");
	struct slice *slices = NULL;
	struct flow *flows = NULL;
	struct named *names = NULL;
	size_t n_slices = 0, n_flows = 0, n_names = 0;
	if (!json_is_array(events)) {
		rc = fail(why, cap, "no traceEvents array");
		goto out;
	}
	size_t n = json_array_size(events);
	slices = calloc(n + 1, sizeof(*slices));
	flows = calloc(n + 1, sizeof(*flows));
	names = calloc(n + 1, sizeof(*names));
	if (!slices || !flows || !names) {
		rc = fail(why, cap, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		json_t *e = json_array_get(events, i);
		const char *ph = json_string_value(json_object_get(e, "ph"));
		uint64_t pid, tid;
		if (!ph || strlen(ph) != 1) {
			rc = fail(why, cap, "event %zu: no phase", i);
			break;
		}
		if (get_id(e, "pid", &pid) < 0 || get_id(e, "tid", &tid) < 0) {
			rc = fail(why, cap, "event %zu (%s): pid/tid missing or outside 0..2^32-1", i, ph);
			break;
		}
		st->events++;
		if (*ph == 'M') {
			const char *name = json_string_value(json_object_get(e, "name"));
			json_t *args = json_object_get(e, "args");
			if (!name || !json_is_object(args)) {
				rc = fail(why, cap, "event %zu: metadata without name/args", i);
				break;
			}
			if (strcmp(name, "thread_name") == 0) {
				if (!json_is_string(json_object_get(args, "name"))) {
					rc = fail(why, cap, "event %zu: thread_name without a name", i);
					break;
				}
				names[n_names++] = (struct named){pid, tid};
			}
			continue;
		}
		json_t *tsv = json_object_get(e, "ts");
		if (!json_is_number(tsv) || json_number_value(tsv) < 0) {
			rc = fail(why, cap, "event %zu (%s): ts missing or negative", i, ph);
			break;
		}
		double ts = json_number_value(tsv);
		switch (*ph) {
		case 'X': {
			json_t *d = json_object_get(e, "dur");
			if (!json_is_number(d) || json_number_value(d) < 0) {
				rc = fail(why, cap, "event %zu: X without a non-negative dur", i);
				break;
			}
			if (!json_is_string(json_object_get(e, "name"))) {
				rc = fail(why, cap, "event %zu: X without a name", i);
				break;
			}
			const char *cat = json_string_value(json_object_get(e, "cat"));
			slices[n_slices] = (struct slice){pid, tid, ts, ts + json_number_value(d), n_slices,
							  json_string_value(json_object_get(e, "name")),
							  cat && strcmp(cat, "sample") == 0, -1};
			n_slices++;
			st->slices++;
			break;
		}
		case 's':
		case 'f': {
			uint64_t id;
			json_t *idv = json_object_get(e, "id");
			if (!json_is_integer(idv)) {
				rc = fail(why, cap, "event %zu: flow without an integer id", i);
				break;
			}
			id = (uint64_t)json_integer_value(idv);
			const char *cat = json_string_value(json_object_get(e, "cat"));
			struct flow *f = &flows[n_flows++];
			f->id = id;
			snprintf(f->cat, sizeof(f->cat), "%s", cat ? cat : "");
			f->phase = *ph;
			f->pid = pid;
			f->tid = tid;
			f->ts = ts;
			if (*ph == 'f') {
				const char *bp = json_string_value(json_object_get(e, "bp"));
				if (!bp || strcmp(bp, "e") != 0) {
					rc = fail(why, cap, "event %zu: flow finish without bp \"e\"", i);
					break;
				}
			}
			break;
		}
		case 'C': {
			json_t *args = json_object_get(e, "args");
			const char *k;
			json_t *v;
			if (!json_is_object(args) || json_object_size(args) == 0) {
				rc = fail(why, cap, "event %zu: counter without args", i);
				break;
			}
			json_object_foreach(args, k, v)
			{
				if (!json_is_number(v)) {
					rc = fail(why, cap, "event %zu: counter %s is not a number", i, k);
					break;
				}
			}
			st->counters++;
			break;
		}
		case 'i':
		case 'I':
			st->instants++;
			break;
		default:
			rc = fail(why, cap, "event %zu: unexpected phase '%s'", i, ph);
			break;
		}
	}
	if (rc < 0)
		goto out;
	/* nesting per track */
	qsort(slices, n_slices, sizeof(*slices), cmp_slice);
	{
		const double eps = 0.0005; /* printed with 3 decimals */
		size_t *stack = malloc((n_slices + 1) * sizeof(*stack));
		size_t depth = 0;
		for (size_t i = 0; i < n_slices && rc == 0; i++) {
			const struct slice *s = &slices[i];
			if (i == 0 || s->pid != slices[i - 1].pid || s->tid != slices[i - 1].tid) {
				depth = 0;
				st->tracks++;
				int found = 0;
				for (size_t k = 0; k < n_names && !found; k++)
					found = names[k].pid == s->pid && names[k].tid == s->tid;
				if (!found)
					rc = fail(why, cap, "track pid %llu tid %llu has slices but no thread_name",
						  (unsigned long long)s->pid, (unsigned long long)s->tid);
			}
			while (depth && slices[stack[depth - 1]].end <= s->ts + eps &&
			       !(slices[stack[depth - 1]].end >= s->end - eps))
				depth--;
			if (depth) {
				slices[i].parent = (long)stack[depth - 1];
				const struct slice *p = &slices[stack[depth - 1]];
				if (s->end > p->end + eps)
					rc = fail(why, cap,
						  "pid %llu tid %llu: slice [%.3f, %.3f] crosses the end of "
						  "[%.3f, %.3f]",
						  (unsigned long long)s->pid, (unsigned long long)s->tid, s->ts,
						  s->end, p->ts, p->end);
			}
			stack[depth++] = i;
			if (depth > st->max_depth)
				st->max_depth = depth;
		}
		free(stack);
	}
	if (rc == 0 && fn && sample_paths(slices, n_slices, fn, ctx) < 0)
		rc = fail(why, cap, "stopped while listing the sample paths");
	/* flows: one start and one finish per (cat, id), each bound to a slice */
	for (size_t i = 0; i < n_flows && rc == 0; i++) {
		const struct flow *f = &flows[i];
		int starts = 0, finishes = 0;
		for (size_t k = 0; k < n_flows; k++)
			if (flows[k].id == f->id && strcmp(flows[k].cat, f->cat) == 0)
				flows[k].phase == 's' ? starts++ : finishes++;
		if (starts != 1 || finishes != 1)
			rc = fail(why, cap, "flow %s/%llu has %d starts and %d finishes", f->cat,
				  (unsigned long long)f->id, starts, finishes);
		else if (!inside(slices, n_slices, f->pid, f->tid, f->ts))
			rc = fail(why, cap, "flow %s/%llu: its %c event at %.3f is not inside a slice of "
				  "pid %llu tid %llu",
				  f->cat, (unsigned long long)f->id, f->phase, f->ts,
				  (unsigned long long)f->pid, (unsigned long long)f->tid);
		if (f->phase == 's')
			st->flows++;
	}
out:
	free(slices);
	free(flows);
	free(names);
	json_decref(root);
	return rc;
}

int tg_trace_check(const char *json, size_t len, struct tg_trace_check_stats *st, char *why,
		   size_t cap)
{
	return check(json, len, st, why, cap, NULL, NULL);
}

int tg_trace_sample_paths(const char *json, size_t len, tg_trace_path_fn fn, void *ctx, char *why,
			  size_t cap)
{
	struct tg_trace_check_stats st;
	return check(json, len, &st, why, cap, fn, ctx);
}
