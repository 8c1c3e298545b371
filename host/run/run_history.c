/* A run appended to the benchmark history, and its workload's trends read
 * back for the report. */
#include <stdlib.h>
#include <string.h>

#include "tg_history.h"
#include "tg_run.h"

#define TREND_POINTS 30

int tg_run_history(const struct tg_run_results *r, const char *path, int64_t *run_id,
		   struct tg_run_trends *t, struct tg_error *err)
{
	memset(t, 0, sizeof(*t));
	*run_id = 0;
	struct tg_history *h = NULL;
	char workload[4096];
	tg_history_workload(r, workload, sizeof(workload));
	int rc = tg_history_open(path, true, &h, err);
	if (rc == 0)
		rc = tg_history_append(h, r, r->complete ? "recorded" : "incomplete", run_id, err);
	if (rc == 0)
		rc = tg_history_load(h, workload, r->machine.hostname, TREND_POINTS, &t->series,
				     &t->n_series, err);
	tg_history_close(h);
	if (rc < 0)
		return rc;
	int total = 0;
	for (int i = 0; i < t->n_series; i++)
		total += t->series[i].n_points;
	t->values = malloc((size_t)(total ? total : 1) * sizeof(double));
	TG_FAIL_IF(!t->values, err, TG_E_NOMEM, "history: out of memory for %d points", total);
	const int cap = (int)(sizeof(t->v) / sizeof(t->v[0]));
	for (int i = 0, k = 0; i < t->n_series && t->n < cap; i++) {
		const struct tg_history_series *s = &t->series[i];
		t->v[t->n++] = (struct tg_report_trend){s->backend, s->ma, t->values + k, s->n_points};
		for (int p = 0; p < s->n_points; p++)
			t->values[k++] = s->points[p].median;
	}
	return 0;
}

void tg_run_trends_free(struct tg_run_trends *t)
{
	free(t->values);
	tg_history_series_free(t->series, t->n_series);
	memset(t, 0, sizeof(*t));
}
