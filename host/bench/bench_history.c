/* The SQLite history (tg_history.h). */
#include "tg_history.h"

#include <math.h>
#include <stdbool.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tg_mem.h"
#include "tg_stats.h"
#include "tg_str.h"

struct tg_history {
	sqlite3 *db;
	char path[512];
};

static int db_fail(struct tg_history *h, struct tg_error *err, const char *what)
{
	return TG_ERR_SUB(err, TG_E_IO, sqlite3_errcode(h->db), "history '%s': %s: %s", h->path, what,
			  sqlite3_errmsg(h->db));
}

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS runs("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT, created_utc TEXT NOT NULL, kind TEXT,"
	"  command TEXT, run_dir TEXT, version TEXT, git_commit TEXT, build_type TEXT,"
	"  c_flags TEXT, hostname TEXT, cpu_model TEXT, workload TEXT NOT NULL,"
	"  complete INTEGER, status TEXT);"
	"CREATE TABLE IF NOT EXISTS states("
	"  run_id INTEGER NOT NULL REFERENCES runs(id), backend TEXT NOT NULL, ma TEXT NOT NULL,"
	"  available INTEGER, device TEXT, n INTEGER, median_ns REAL, mean_ns REAL,"
	"  stddev_ns REAL, min_ns REAL, max_ns REAL, ci_lo_ns REAL, ci_hi_ns REAL,"
	"  kernel_median_ns REAL, bar_mas REAL, stop_reason TEXT, samples BLOB);"
	"CREATE INDEX IF NOT EXISTS states_run ON states(run_id);"
	"CREATE INDEX IF NOT EXISTS runs_workload ON runs(workload, hostname);";

/* The number of rows of a one-number query, or -1 when it fails. */
static int64_t count_of(struct tg_history *h, const char *sql)
{
	sqlite3_stmt *st = NULL;
	int64_t n = -1;
	if (sqlite3_prepare_v2(h->db, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

/* A database with tables is ours when its meta table names our schema
 * version; one without any is new. */
static int check_or_create(struct tg_history *h, bool create, struct tg_error *err)
{
	const int64_t tables = count_of(h, "SELECT count(*) FROM sqlite_master");
	if (tables < 0)
		return TG_ERR(err, TG_E_PARSE, "history '%s': not an SQLite database (%s)", h->path,
			      sqlite3_errmsg(h->db));
	if (tables == 0) {
		TG_FAIL_IF(!create, err, TG_E_PARSE,
			   "history '%s': an empty database, not a trendgpu-bench history (run "
			   "--history FILE.db creates one)",
			   h->path);
		char *msg = NULL;
		if (sqlite3_exec(h->db, schema, NULL, NULL, &msg) != SQLITE_OK) {
			int rc = TG_ERR(err, TG_E_IO, "history '%s': cannot create the tables: %s",
					h->path, msg ? msg : "?");
			sqlite3_free(msg);
			return rc;
		}
		char sql[128];
		snprintf(sql, sizeof(sql), "INSERT INTO meta(key, value) VALUES ('schema_version', '%d')",
			 TG_HISTORY_SCHEMA_VERSION);
		if (sqlite3_exec(h->db, sql, NULL, NULL, NULL) != SQLITE_OK)
			return db_fail(h, err, "writing the schema version");
		return 0;
	}
	sqlite3_stmt *st = NULL;
	int version = -1;
	if (sqlite3_prepare_v2(h->db, "SELECT value FROM meta WHERE key = 'schema_version'", -1, &st,
			       NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		version = atoi((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	TG_FAIL_IF(version < 0, err, TG_E_PARSE,
		   "history '%s': an SQLite database but not a trendgpu-bench history (no schema "
		   "version in a meta table)",
		   h->path);
	TG_FAIL_IF(version != TG_HISTORY_SCHEMA_VERSION, err, TG_E_UNSUPPORTED,
		   "history '%s': schema version %d, this build reads version %d", h->path, version,
		   TG_HISTORY_SCHEMA_VERSION);
	static const char *const tables_needed[] = {"runs", "states"};
	for (size_t i = 0; i < 2; i++) {
		char sql[128];
		snprintf(sql, sizeof(sql),
			 "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '%s'",
			 tables_needed[i]);
		TG_FAIL_IF(count_of(h, sql) != 1, err, TG_E_PARSE,
			   "history '%s': no '%s' table; not a trendgpu-bench history", h->path,
			   tables_needed[i]);
	}
	return 0;
}

int tg_history_open(const char *path, bool create, struct tg_history **out, struct tg_error *err)
{
	*out = NULL;
	struct tg_history *h = calloc(1, sizeof(*h));
	TG_FAIL_IF(!h, err, TG_E_NOMEM, "history: out of memory");
	tg_strlcpy(h->path, path, sizeof(h->path));
	const int flags = create ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE : SQLITE_OPEN_READWRITE;
	int rc = sqlite3_open_v2(path, &h->db, flags, NULL);
	if (rc != SQLITE_OK) {
		rc = TG_ERR_SUB(err, TG_E_IO, rc, "history '%s': cannot open: %s%s", path,
				h->db ? sqlite3_errmsg(h->db) : sqlite3_errstr(rc),
				create ? "" : " (run --history FILE.db creates a history)");
		tg_history_close(h);
		return rc;
	}
	sqlite3_busy_timeout(h->db, 5000);
	rc = check_or_create(h, create, err);
	if (rc < 0) {
		tg_history_close(h);
		return rc;
	}
	*out = h;
	return 0;
}

void tg_history_close(struct tg_history *h)
{
	if (!h)
		return;
	if (h->db)
		sqlite3_close(h->db);
	free(h);
}

void tg_history_workload(const struct tg_run_results *r, char *buf, size_t cap)
{
	size_t used = 0;
	buf[0] = '\0';
	/* profiled runs keep their own series: profiling slows the program */
	for (int i = 0; i < r->n_params && used < cap; i++) {
		const int kind = tg_param_kind(r->params[i].key);
		if (kind == TG_PARAM_TIMING || kind == TG_PARAM_DERIVED)
			continue;
		int w = r->params[i].is_number
				? snprintf(buf + used, cap - used, "%s%s=%.10g", used ? " " : "",
					   r->params[i].key, r->params[i].number)
				: snprintf(buf + used, cap - used, "%s%s=%s", used ? " " : "",
					   r->params[i].key, r->params[i].text);
		if (w < 0)
			break;
		used += (size_t)w;
	}
}

static void bind_text(sqlite3_stmt *st, int i, const char *v)
{
	sqlite3_bind_text(st, i, v ? v : "", -1, SQLITE_TRANSIENT);
}

static void bind_double(sqlite3_stmt *st, int i, double v)
{
	if (v == v)
		sqlite3_bind_double(st, i, v);
	else
		sqlite3_bind_null(st, i);
}

int tg_history_append(struct tg_history *h, const struct tg_run_results *r, const char *status,
		      int64_t *run_id, struct tg_error *err)
{
	char workload[4096];
	tg_history_workload(r, workload, sizeof(workload));
	if (sqlite3_exec(h->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		return db_fail(h, err, "starting a transaction");
	sqlite3_stmt *st = NULL;
	int rc = 0;
	if (sqlite3_prepare_v2(h->db,
			       "INSERT INTO runs(created_utc, kind, command, run_dir, version, "
			       "git_commit, build_type, c_flags, hostname, cpu_model, workload, "
			       "complete, status) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
			       -1, &st, NULL) != SQLITE_OK) {
		rc = db_fail(h, err, "preparing the run");
		goto out;
	}
	bind_text(st, 1, r->created_utc);
	bind_text(st, 2, r->kind[0] ? r->kind : "run");
	bind_text(st, 3, r->command);
	bind_text(st, 4, r->run_dir);
	bind_text(st, 5, r->build ? r->build->version : "");
	bind_text(st, 6, r->build ? r->build->git_commit : "");
	bind_text(st, 7, r->build ? r->build->build_type : "");
	bind_text(st, 8, r->build ? r->build->c_flags : "");
	bind_text(st, 9, r->machine.hostname);
	bind_text(st, 10, r->machine.cpu_model);
	bind_text(st, 11, workload);
	sqlite3_bind_int(st, 12, r->complete ? 1 : 0);
	bind_text(st, 13, status ? status : "recorded");
	if (sqlite3_step(st) != SQLITE_DONE) {
		rc = db_fail(h, err, "appending the run");
		goto out;
	}
	sqlite3_finalize(st);
	st = NULL;
	*run_id = sqlite3_last_insert_rowid(h->db);
	if (sqlite3_prepare_v2(h->db,
			       "INSERT INTO states(run_id, backend, ma, available, device, n, median_ns, "
			       "mean_ns, stddev_ns, min_ns, max_ns, ci_lo_ns, ci_hi_ns, "
			       "kernel_median_ns, bar_mas, stop_reason, samples) VALUES "
			       "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
			       -1, &st, NULL) != SQLITE_OK) {
		rc = db_fail(h, err, "preparing the states");
		goto out;
	}
	for (int i = 0; i < r->n_states && rc == 0; i++) {
		const struct tg_state_result *s = &r->states[i];
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, *run_id);
		bind_text(st, 2, s->backend);
		bind_text(st, 3, s->ma_mode);
		sqlite3_bind_int(st, 4, s->available ? 1 : 0);
		bind_text(st, 5, s->device);
		sqlite3_bind_int(st, 6, s->n_samples);
		bind_double(st, 7, s->wall.median);
		bind_double(st, 8, s->wall.mean);
		bind_double(st, 9, s->wall.stddev);
		bind_double(st, 10, s->wall.min);
		bind_double(st, 11, s->wall.max);
		bind_double(st, 12, s->wall.ci_lo);
		bind_double(st, 13, s->wall.ci_hi);
		bind_double(st, 14, s->kernel.n > 0 ? s->kernel.median : NAN);
		bind_double(st, 15, s->bar_mas);
		bind_text(st, 16, s->stop_reason ? s->stop_reason : "");
		if (s->n_samples > 0)
			sqlite3_bind_blob(st, 17, s->samples_ns, s->n_samples * (int)sizeof(double),
					  SQLITE_TRANSIENT);
		else
			sqlite3_bind_null(st, 17);
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = db_fail(h, err, "appending a state");
	}
out:
	sqlite3_finalize(st);
	if (sqlite3_exec(h->db, rc == 0 ? "COMMIT" : "ROLLBACK", NULL, NULL, NULL) != SQLITE_OK &&
	    rc == 0)
		rc = db_fail(h, err, "committing");
	return rc;
}

int tg_history_set_status(struct tg_history *h, int64_t run_id, const char *status,
			  struct tg_error *err)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(h->db, "UPDATE runs SET status = ? WHERE id = ?", -1, &st, NULL) !=
	    SQLITE_OK)
		return db_fail(h, err, "preparing a status update");
	bind_text(st, 1, status);
	sqlite3_bind_int64(st, 2, run_id);
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_fail(h, err, "updating a status");
	sqlite3_finalize(st);
	if (rc == 0 && sqlite3_changes(h->db) == 0)
		rc = TG_ERR(err, TG_E_RANGE, "history '%s': no run %lld", h->path, (long long)run_id);
	return rc;
}

static const char *col_text(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	return t ? (const char *)t : "";
}

static double col_double(sqlite3_stmt *st, int i)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? NAN : sqlite3_column_double(st, i);
}

int tg_history_load(struct tg_history *h, const char *workload, const char *hostname, int last,
		    struct tg_history_series **out, int *n, struct tg_error *err)
{
	*out = NULL;
	*n = 0;
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(h->db,
			       "SELECT s.backend, s.ma, r.workload, r.hostname, r.id, r.created_utc, "
			       "r.git_commit, r.status, r.run_dir, s.n, s.median_ns, s.ci_lo_ns, "
			       "s.ci_hi_ns, s.kernel_median_ns FROM states s JOIN runs r ON r.id = "
			       "s.run_id WHERE s.available = 1 AND (?1 IS NULL OR r.workload = ?1) AND "
			       "(?2 IS NULL OR r.hostname = ?2) ORDER BY r.workload, r.hostname, "
			       "s.backend, s.ma, r.id",
			       -1, &st, NULL) != SQLITE_OK)
		return db_fail(h, err, "reading the history");
	if (workload)
		bind_text(st, 1, workload);
	if (hostname)
		bind_text(st, 2, hostname);
	struct tg_history_series *v = NULL;
	int nv = 0, rc = 0, step;
	size_t cap = 0;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		const char *b = col_text(st, 0), *m = col_text(st, 1), *w = col_text(st, 2),
			   *host = col_text(st, 3);
		struct tg_history_series *s = nv ? &v[nv - 1] : NULL;
		if (!s || strcmp(s->backend, b) || strcmp(s->ma, m) || strcmp(s->workload, w) ||
		    strcmp(s->hostname, host)) {
			struct tg_history_series *nv2 =
				tg_grow_block(v, &cap, (size_t)nv + 1, sizeof(*nv2), 8);
			if (!nv2) {
				rc = TG_ERR(err, TG_E_NOMEM, "history: out of memory");
				break;
			}
			v = nv2;
			s = &v[nv++];
			memset(s, 0, sizeof(*s));
			tg_strlcpy(s->backend, b, sizeof(s->backend));
			tg_strlcpy(s->ma, m, sizeof(s->ma));
			tg_strlcpy(s->workload, w, sizeof(s->workload));
			tg_strlcpy(s->hostname, host, sizeof(s->hostname));
		}
		struct tg_history_point *np = tg_grow_block(s->points, &s->cap_points,
							    (size_t)s->n_points + 1, sizeof(*np), 16);
		if (!np) {
			rc = TG_ERR(err, TG_E_NOMEM, "history: out of memory");
			break;
		}
		s->points = np;
		struct tg_history_point *p = &s->points[s->n_points++];
		memset(p, 0, sizeof(*p));
		p->run_id = sqlite3_column_int64(st, 4);
		tg_strlcpy(p->created_utc, col_text(st, 5), sizeof(p->created_utc));
		tg_strlcpy(p->commit, col_text(st, 6), sizeof(p->commit));
		tg_strlcpy(p->status, col_text(st, 7), sizeof(p->status));
		tg_strlcpy(p->run_dir, col_text(st, 8), sizeof(p->run_dir));
		p->n = sqlite3_column_int(st, 9);
		p->median = col_double(st, 10);
		p->ci_lo = col_double(st, 11);
		p->ci_hi = col_double(st, 12);
		p->kernel_median = col_double(st, 13);
	}
	if (rc == 0 && step != SQLITE_DONE)
		rc = db_fail(h, err, "reading the history");
	sqlite3_finalize(st);
	if (rc < 0) {
		tg_history_series_free(v, nv);
		return rc;
	}
	/* keep the newest `last` points of each series */
	for (int i = 0; last > 0 && i < nv; i++)
		if (v[i].n_points > last) {
			memmove(v[i].points, v[i].points + (v[i].n_points - last),
				(size_t)last * sizeof(*v[i].points));
			v[i].n_points = last;
		}
	*out = v;
	*n = nv;
	return 0;
}

void tg_history_series_free(struct tg_history_series *s, int n)
{
	for (int i = 0; s && i < n; i++)
		free(s[i].points);
	free(s);
}

int tg_history_last_good(struct tg_history *h, const char *workload, const char *hostname,
			 int64_t exclude_run_id, char *run_dir, size_t cap, struct tg_error *err)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(h->db,
			       "SELECT run_dir FROM runs WHERE workload = ? AND hostname = ? AND "
			       "status = 'good' AND id != ? ORDER BY id DESC LIMIT 1",
			       -1, &st, NULL) != SQLITE_OK)
		return db_fail(h, err, "finding the last good run");
	bind_text(st, 1, workload);
	bind_text(st, 2, hostname);
	sqlite3_bind_int64(st, 3, exclude_run_id);
	int rc;
	if (sqlite3_step(st) == SQLITE_ROW) {
		tg_strlcpy(run_dir, col_text(st, 0), cap);
		rc = 0;
	} else {
		rc = TG_ERR(err, TG_E_RANGE, "history '%s': no good run of this workload on %s yet",
			    h->path, hostname);
	}
	sqlite3_finalize(st);
	return rc;
}

/* A point a drift estimate may use: measured and not judged bad. */
static bool calm_point(const struct tg_history_point *p, const char *exclude, bool kernel)
{
	const double v = kernel ? p->kernel_median : p->median;
	return v > 0 && (strcmp(p->status, "good") == 0 || strcmp(p->status, "recorded") == 0) &&
	       (!exclude || strcmp(p->run_dir, exclude) != 0);
}

int tg_history_drift(struct tg_history *h, const char *workload, const char *hostname,
		     const char *exclude_run_dir, bool kernel, int min_pairs, double *allowance,
		     int *pairs, struct tg_error *err)
{
	struct tg_history_series *ser = NULL;
	int n_ser = 0;
	*pairs = 0;
	*allowance = NAN;
	TG_TRY(tg_history_load(h, workload, hostname, 60, &ser, &n_ser, err));
	double *d = NULL;
	size_t cap = 0;
	int n = 0, rc = 0;
	for (int i = 0; i < n_ser && rc == 0; i++) {
		const struct tg_history_point *prev = NULL;
		for (int k = 0; k < ser[i].n_points; k++) {
			const struct tg_history_point *p = &ser[i].points[k];
			if (!calm_point(p, exclude_run_dir, kernel)) {
				prev = NULL; /* a pair spans no bad run */
				continue;
			}
			if (prev) {
				double *nd = tg_grow_block(d, &cap, (size_t)n + 1, sizeof(double), 64);
				if (!nd) {
					rc = TG_ERR(err, TG_E_NOMEM, "history: out of memory");
					break;
				}
				d = nd;
				const double a = kernel ? prev->kernel_median : prev->median,
					     b = kernel ? p->kernel_median : p->median;
				d[n++] = fabs(log(b / a));
			}
			prev = p;
		}
	}
	tg_history_series_free(ser, n_ser);
	if (rc == 0) {
		*pairs = n;
		if (n < min_pairs)
			rc = TG_ERR(err, TG_E_RANGE,
				    "history '%s': %d pair%s of consecutive good runs of this workload "
				    "on %s, %d needed to calibrate the drift",
				    h->path, n, n == 1 ? "" : "s", hostname, min_pairs);
		else
			*allowance = exp(2.9 * tg_median_of(d, n)) - 1.0;
	}
	free(d);
	return rc;
}
