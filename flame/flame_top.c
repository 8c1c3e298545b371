/* The pstats-like top table. */
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
