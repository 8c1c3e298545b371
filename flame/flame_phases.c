/* The phase table (tg_render.h): each backend's time per MA mode and
 * pipeline phase, from the samples' phases and the launches' phases. */
#include <stdlib.h>
#include <string.h>

#include "flame_internal.h"
#include "tg_mem.h"
#include "tg_phase.h"
#include "tg_render.h"
#include "tg_str.h"

struct acc {
	int32_t tag;
	uint32_t phase;
	uint64_t samples, weight_ns;
	uint64_t *gpu_ns; /* durations, for the median */
	size_t n_gpu, cap_gpu;
};

static struct acc *row_of(struct acc *rows, int *n, int32_t tag, uint32_t phase)
{
	for (int i = 0; i < *n; i++)
		if (rows[i].tag == tag && rows[i].phase == phase)
			return &rows[i];
	if (*n == TG_MAX_PHASE_ROWS)
		return NULL;
	rows[*n] = (struct acc){.tag = tag, .phase = phase};
	return &rows[(*n)++];
}

static int cmp_acc(const void *a, const void *b)
{
	const struct acc *x = a, *y = b;
	if (x->tag != y->tag)
		return x->tag < y->tag ? -1 : 1;
	const uint32_t mx = x->phase & TG_PHASE_APPROX, my = y->phase & TG_PHASE_APPROX;
	if (mx != my)
		return mx < my ? -1 : 1;
	return (TG_PHASE_ID(x->phase) > TG_PHASE_ID(y->phase)) -
	       (TG_PHASE_ID(x->phase) < TG_PHASE_ID(y->phase));
}

int tg_phase_table(const struct tg_capture *c, struct tg_profile_info *info, struct tg_error *err)
{
	info->n_phases = 0;
	struct acc *rows = calloc(TG_MAX_PHASE_ROWS, sizeof(*rows));
	uint64_t *w = malloc((c->n_samples + 1) * sizeof(*w));
	int n = 0, rc = rows && w && tg_sample_weights(c, w) == 0 ? 0 : TG_E_NOMEM;
	for (size_t i = 0; i < c->n_samples && rc == 0; i++) {
		const uint32_t ph = TG_SAMPLE_PHASE(c->samples[i].flags);
		if (!tg_phase_group(ph))
			continue;
		struct acc *a = row_of(rows, &n, c->samples[i].tag, ph);
		if (a) {
			a->samples++;
			a->weight_ns += w[i];
		}
	}
	for (size_t i = 0; i < c->n_events && rc == 0; i++) {
		const struct tg_event *e = &c->events[i];
		if (!tg_event_on_gpu(e->kind) || !e->correlation)
			continue;
		const struct tg_launch *l = tg_capture_find_launch(c, e->correlation);
		if (!l || !tg_phase_group(l->phase))
			continue;
		struct acc *a = row_of(rows, &n, l->tag, l->phase);
		if (!a)
			continue;
		uint64_t *nd = tg_grow_block(a->gpu_ns, &a->cap_gpu, a->n_gpu + 1, sizeof(*nd), 64);
		if (!nd) {
			rc = TG_E_NOMEM;
			break;
		}
		a->gpu_ns = nd;
		a->gpu_ns[a->n_gpu++] = e->end_ns > e->start_ns ? e->end_ns - e->start_ns : 0;
	}
	if (rc == 0) {
		qsort(rows, (size_t)n, sizeof(*rows), cmp_acc);
		for (int i = 0; i < n; i++) {
			const struct acc *a = &rows[i];
			uint64_t mode_samples = 0;
			for (int k = 0; k < n; k++)
				if (rows[k].tag == a->tag &&
				    (rows[k].phase & TG_PHASE_APPROX) == (a->phase & TG_PHASE_APPROX))
					mode_samples += rows[k].samples;
			struct tg_phase_row *r = &info->phases[info->n_phases++];
			memset(r, 0, sizeof(*r));
			tg_strlcpy(r->backend, tg_sample_root(c, a->tag), sizeof(r->backend));
			r->phase = a->phase;
			r->samples = a->samples;
			r->cpu_ms = (double)a->weight_ns * 1e-6;
			r->cpu_share = mode_samples ? (double)a->samples / (double)mode_samples : 0.0;
			r->gpu_count = a->n_gpu;
			uint64_t total = 0;
			for (size_t k = 0; k < a->n_gpu; k++)
				total += a->gpu_ns[k];
			r->gpu_ms = (double)total * 1e-6;
			if (a->n_gpu) {
				qsort(a->gpu_ns, a->n_gpu, sizeof(uint64_t), flame_cmp_u64);
				r->gpu_median_us = (double)a->gpu_ns[a->n_gpu / 2] * 1e-3;
			}
		}
	}
	for (int i = 0; rows && i < n; i++)
		free(rows[i].gpu_ns);
	free(rows);
	free(w);
	return rc < 0 ? TG_ERR(err, rc, "phase table: out of memory") : 0;
}
