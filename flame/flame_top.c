/* The pstats-like top table and the speedscope writer. */
#include <stdlib.h>
#include <string.h>

#include "flame_internal.h"
#include "tg_mem.h"
#include "tg_json.h"

struct fn_stat {
	uint32_t name;
	uint64_t self, total;
};

struct walk {
	const struct tg_flame *f;
	struct fn_stat *st;     /* per name id */
	uint32_t *on_path;      /* per name id: occurrences on the current path */
};

/* A sample ending at a node counts once in the total of every distinct
 * function on its path; recursion does not count twice. */
static void walk_node(struct walk *w, uint32_t node)
{
	const struct flame_node *n = &w->f->nodes[node];
	if (node != 0) {
		w->on_path[n->name]++;
		w->st[n->name].self += n->self;
	}
	for (uint32_t k = n->first_child; k != FLAME_NONE; k = w->f->nodes[k].next_sibling)
		walk_node(w, k);
	if (node != 0) {
		/* this node's total minus what deeper occurrences of the same name
		 * already count */
		if (--w->on_path[n->name] == 0)
			w->st[n->name].total += n->total;
	}
}

static int by_total(const void *a, const void *b, void *ctx)
{
	const struct fn_stat *x = a, *y = b;
	const struct tg_flame *f = ctx;
	if (x->total != y->total)
		return x->total < y->total ? 1 : -1;
	if (x->self != y->self)
		return x->self < y->self ? 1 : -1;
	return strcmp(f->names[x->name], f->names[y->name]);
}

static int by_self(const void *a, const void *b, void *ctx)
{
	const struct fn_stat *x = a, *y = b;
	if (x->self != y->self)
		return x->self < y->self ? 1 : -1;
	return by_total(a, b, ctx);
}

static void table(struct tg_sink *s, const struct tg_flame *f, const struct fn_stat *v, size_t n,
		  size_t max_rows, uint64_t total, const char *unit)
{
	tg_sink_printf(s, "%14s %8s %14s %8s  function\n", "total", "total%", "self", "self%");
	for (size_t i = 0; i < n && i < max_rows; i++) {
		if (v[i].total == 0)
			break;
		tg_sink_printf(s, "%14llu %7.2f%% %14llu %7.2f%%  %s\n", (unsigned long long)v[i].total,
			       100.0 * (double)v[i].total / (double)total, (unsigned long long)v[i].self,
			       100.0 * (double)v[i].self / (double)total, f->names[v[i].name]);
	}
	(void)unit;
}

int tg_flame_write_top(const struct tg_flame *f, const char *unit, size_t max_rows,
		       struct tg_sink *s, struct tg_error *err)
{
	const uint64_t total = tg_flame_total(f);
	const char *u = unit ? unit : "samples";
	tg_sink_printf(s, "# trendgpu-bench top: %llu %s in %zu stack frames\n",
		       (unsigned long long)total, u, tg_flame_nodes(f));
	if (total == 0) {
		tg_sink_puts(s, "# no samples\n");
		return 0;
	}
	struct walk w = {f, calloc(f->n_names ? f->n_names : 1, sizeof(struct fn_stat)),
			 calloc(f->n_names ? f->n_names : 1, sizeof(uint32_t))};
	if (!w.st || !w.on_path) {
		free(w.st);
		free(w.on_path);
		return TG_ERR(err, TG_E_NOMEM, "flame: out of memory for the top table");
	}
	for (uint32_t i = 0; i < f->n_names; i++)
		w.st[i].name = i;
	walk_node(&w, 0);
	if (max_rows == 0)
		max_rows = SIZE_MAX;
	tg_sink_printf(s, "\n# by total (cumulative: samples with the function anywhere on the stack), %s\n", u);
	qsort_r(w.st, f->n_names, sizeof(struct fn_stat), by_total, (void *)f);
	table(s, f, w.st, f->n_names, max_rows, total, u);
	tg_sink_printf(s, "\n# by self (samples with the function at the top of the stack), %s\n", u);
	qsort_r(w.st, f->n_names, sizeof(struct fn_stat), by_self, (void *)f);
	table(s, f, w.st, f->n_names, max_rows, total, u);
	free(w.st);
	free(w.on_path);
	return 0;
}

size_t tg_flame_hottest(const struct tg_flame *f, size_t n, const char **names, uint64_t *self)
{
	if (tg_flame_total(f) == 0 || n == 0)
		return 0;
	struct walk w = {f, calloc(f->n_names, sizeof(struct fn_stat)),
			 calloc(f->n_names, sizeof(uint32_t))};
	size_t k = 0;
	if (w.st && w.on_path) {
		for (uint32_t i = 0; i < f->n_names; i++)
			w.st[i].name = i;
		walk_node(&w, 0);
		qsort_r(w.st, f->n_names, sizeof(struct fn_stat), by_self, (void *)f);
		for (; k < n && k < f->n_names && w.st[k].self > 0; k++) {
			names[k] = f->names[w.st[k].name];
			self[k] = w.st[k].self;
		}
	}
	free(w.st);
	free(w.on_path);
	return k;
}

/* ---- speedscope ---------------------------------------------------------------- */

struct ss_ctx {
	struct tg_json *j;
	const struct tg_flame *f;
	const uint32_t *frame_of_name; /* this flame's name id -> shared frame index */
	uint32_t *path;
	size_t depth, cap;
	int pass; /* 0: samples, 1: weights */
	double ns;
	double end;
};

static int ss_walk(struct ss_ctx *c, uint32_t node)
{
	const struct flame_node *n = &c->f->nodes[node];
	if (node != 0) {
		uint32_t *np = tg_grow_block(c->path, &c->cap, c->depth + 1, sizeof(*np), 64);
		if (!np)
			return TG_E_NOMEM;
		c->path = np;
		c->path[c->depth++] = c->frame_of_name[n->name];
		if (n->self) {
			if (c->pass == 0) {
				tg_json_begin_array(c->j);
				for (size_t i = 0; i < c->depth; i++)
					tg_json_uint(c->j, c->path[i]);
				tg_json_end_array(c->j);
			} else {
				tg_json_double(c->j, (double)n->self * c->ns);
				c->end += (double)n->self * c->ns;
			}
		}
	}
	uint32_t *kids;
	int nk = flame_sorted_children(c->f, node, &kids);
	if (nk < 0)
		return TG_E_NOMEM;
	int rc = 0;
	for (int i = 0; i < nk && rc == 0; i++)
		rc = ss_walk(c, kids[i]);
	free(kids);
	if (node != 0)
		c->depth--;
	return rc;
}

int tg_flame_write_speedscope(const struct tg_speedscope_profile *p, int n, const char *name,
			      struct tg_sink *s, struct tg_error *err)
{
	/* shared frames: the union of names, in first-seen order (a tg_flame
	 * used only for its name table) */
	struct tg_flame *names = tg_flame_new();
	TG_FAIL_IF(!names, err, TG_E_NOMEM, "speedscope: out of memory");
	uint32_t **maps = calloc((size_t)(n > 0 ? n : 1), sizeof(uint32_t *));
	int rc = maps ? 0 : TG_ERR(err, TG_E_NOMEM, "speedscope: out of memory");
	for (int i = 0; i < n && rc == 0; i++) {
		const struct tg_flame *f = p[i].flame;
		maps[i] = malloc((f->n_names ? f->n_names : 1) * sizeof(uint32_t));
		if (!maps[i]) {
			rc = TG_ERR(err, TG_E_NOMEM, "speedscope: out of memory");
			break;
		}
		for (uint32_t k = 0; k < f->n_names && rc == 0; k++) {
			maps[i][k] = flame_intern(names, f->names[k], strlen(f->names[k]));
			if (maps[i][k] == FLAME_NONE)
				rc = TG_ERR(err, TG_E_NOMEM, "speedscope: out of memory");
		}
	}
	if (rc == 0) {
		struct tg_json j;
		tg_json_init(&j, s, false);
		tg_json_begin_object(&j);
		tg_json_kv_string(&j, "$schema", "https://www.speedscope.app/file-format-schema.json");
		tg_json_key(&j, "shared");
		tg_json_begin_object(&j);
		tg_json_key(&j, "frames");
		tg_json_begin_array(&j);
		for (uint32_t k = 0; k < names->n_names; k++) {
			tg_json_begin_object(&j);
			tg_json_kv_string(&j, "name", names->names[k]);
			tg_json_end_object(&j);
		}
		tg_json_end_array(&j);
		tg_json_end_object(&j);
		tg_json_key(&j, "profiles");
		tg_json_begin_array(&j);
		for (int i = 0; i < n && rc == 0; i++) {
			struct ss_ctx c = {&j, p[i].flame, maps[i], malloc(256 * sizeof(uint32_t)), 0, 256, 0,
					   p[i].ns_per_count, 0.0};
			if (!c.path) {
				rc = TG_ERR(err, TG_E_NOMEM, "speedscope: out of memory");
				break;
			}
			tg_json_begin_object(&j);
			tg_json_kv_string(&j, "type", "sampled");
			tg_json_kv_string(&j, "name", p[i].name);
			tg_json_kv_string(&j, "unit", "nanoseconds");
			tg_json_kv_double(&j, "startValue", 0);
			tg_json_key(&j, "samples");
			tg_json_begin_array(&j);
			rc = ss_walk(&c, 0);
			tg_json_end_array(&j);
			c.pass = 1;
			tg_json_key(&j, "weights");
			tg_json_begin_array(&j);
			if (rc == 0)
				rc = ss_walk(&c, 0);
			tg_json_end_array(&j);
			tg_json_kv_double(&j, "endValue", c.end);
			tg_json_end_object(&j);
			free(c.path);
			if (rc < 0)
				rc = TG_ERR(err, rc, "speedscope: out of memory");
		}
		tg_json_end_array(&j);
		tg_json_kv_string(&j, "name", name);
		tg_json_kv_int(&j, "activeProfileIndex", 0);
		tg_json_kv_string(&j, "exporter", "trendgpu-bench");
		tg_json_end_object(&j);
		if (rc == 0)
			rc = tg_json_finish(&j, err);
	}
	for (int i = 0; maps && i < n; i++)
		free(maps[i]);
	free(maps);
	tg_flame_free(names);
	return rc;
}
