/* Benchmark history in SQLite: every run appended (`run --history
 * FILE.db`), series per state read back for trends, change points and the
 * report's trend chart. A series is one state (backend, MA mode) of one
 * workload on one host.
 */
#ifndef TG_HISTORY_H
#define TG_HISTORY_H

#include <stdbool.h>
#include <stdint.h>

#include "tg_error.h"
#include "tg_results.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TG_HISTORY_SCHEMA_VERSION 1

struct tg_history;

/* Opens a history, or creates one when `create` and the file is new (or
 * an empty database); fails with a message naming the file for a file that
 * is not SQLite, a database that is not a history (it is never written to)
 * and a history of another schema version. */
int tg_history_open(const char *path, bool create, struct tg_history **out, struct tg_error *err);
void tg_history_close(struct tg_history *h);

/* The workload key of a run: every parameter that changes the work (not
 * how long it is measured), "symbols=20 bars=1500 ...". */
void tg_history_workload(const struct tg_run_results *r, char *buf, size_t cap);

/* Appends the run and its states (with raw samples); *run_id receives its id. */
int tg_history_append(struct tg_history *h, const struct tg_run_results *r, const char *status,
		      int64_t *run_id, struct tg_error *err);
/* Sets a run's status ("good", "failed", "regression", ...). */
int tg_history_set_status(struct tg_history *h, int64_t run_id, const char *status,
			  struct tg_error *err);

struct tg_history_point {
	int64_t run_id;
	char created_utc[32];
	char commit[24];
	char status[16];
	char run_dir[256];
	int n;
	double median, ci_lo, ci_hi, kernel_median; /* ns; kernel NaN when not measured */
};

struct tg_history_series {
	char backend[16], ma[8];
	char workload[512];
	char hostname[128];
	struct tg_history_point *points; /* oldest first */
	int n_points;
	size_t cap_points;
};

/* Every series (optionally only those of workload/host, NULL = any), each
 * with at most last points. */
int tg_history_load(struct tg_history *h, const char *workload, const char *hostname, int last,
		    struct tg_history_series **out, int *n, struct tg_error *err);
void tg_history_series_free(struct tg_history_series *s, int n);

/* The newest run of this workload and host whose status is "good", other
 * than exclude_run_id: its run directory, or TG_E_RANGE when none. */
int tg_history_last_good(struct tg_history *h, const char *workload, const char *hostname,
			 int64_t exclude_run_id, char *run_dir, size_t cap, struct tg_error *err);

/* How far runs of this workload lie apart on this host when nothing
 * changed, from its history: consecutive runs of each state (both recorded
 * or good, neither the run whose run_dir is exclude_run_dir) give
 * |log(median_i / median_i-1)|, kernel medians when `kernel`; *allowance
 * is exp(2.9 x their median) - 1 (the 95th percentile, were the drift
 * normal; a real change now and then barely moves it). TG_E_RANGE when
 * fewer than min_pairs pairs; *pairs says how many there were. */
int tg_history_drift(struct tg_history *h, const char *workload, const char *hostname,
		     const char *exclude_run_dir, bool kernel, int min_pairs, double *allowance,
		     int *pairs, struct tg_error *err);

#ifdef __cplusplus
}
#endif

#endif
