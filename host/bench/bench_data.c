/* Datasets: the synthetic generator and the CSV file/directory loader. */
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "tg_data.h"
#include "tg_mem.h"
#include "tg_log.h"
#include "tg_str.h"

void tg_data_free(struct tg_dataset *ds)
{
	if (!ds)
		return;
	if (ds->names)
		for (int32_t i = 0; i < ds->n_symbols; i++)
			free(ds->names[i]);
	free(ds->names);
	free(ds->n_bars);
	free(ds->close);
	free(ds->step_ms);
	free(ds->n_gaps);
	memset(ds, 0, sizeof(*ds));
}

static int cmp_i32(const void *a, const void *b)
{
	const int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
	return (x > y) - (x < y);
}

static int cmp_i64(const void *a, const void *b)
{
	const int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

void tg_data_shape(const struct tg_dataset *ds, struct tg_data_shape *out)
{
	memset(out, 0, sizeof(*out));
	if (ds->n_symbols <= 0)
		return;
	int32_t *v = malloc((size_t)ds->n_symbols * sizeof(*v));
	if (v) {
		memcpy(v, ds->n_bars, (size_t)ds->n_symbols * sizeof(*v));
		qsort(v, (size_t)ds->n_symbols, sizeof(*v), cmp_i32);
		out->median_bars = v[(ds->n_symbols - 1) / 2];
		free(v);
	}
	out->min_bars = out->max_bars = ds->n_bars[0];
	for (int32_t i = 0; i < ds->n_symbols; i++) {
		const int32_t n = ds->n_bars[i];
		out->min_bars = n < out->min_bars ? n : out->min_bars;
		out->max_bars = n > out->max_bars ? n : out->max_bars;
		out->total_bars += n;
		if (ds->n_gaps) {
			out->gaps += ds->n_gaps[i];
			out->symbols_with_gaps += ds->n_gaps[i] > 0;
		}
	}
	if (!v)
		out->median_bars = out->min_bars;
}

static int dataset_alloc(struct tg_dataset *ds, int32_t symbols, int32_t stride,
			 struct tg_error *err)
{
	memset(ds, 0, sizeof(*ds));
	size_t cells = (size_t)symbols * (size_t)stride;
	ds->close = malloc((cells ? cells : 1) * sizeof(double));
	ds->n_bars = calloc((size_t)symbols ? (size_t)symbols : 1, sizeof(int32_t));
	ds->names = calloc((size_t)symbols ? (size_t)symbols : 1, sizeof(char *));
	if (!ds->close || !ds->n_bars || !ds->names) {
		tg_data_free(ds);
		return TG_ERR(err, TG_E_NOMEM, "data: out of memory for %d symbols x %d bars (%zu MB)",
			      symbols, stride, cells * sizeof(double) >> 20);
	}
	ds->n_symbols = symbols;
	ds->stride = stride;
	for (size_t i = 0; i < cells; i++)
		ds->close[i] = NAN;
	return 0;
}

/* ---- synthetic ----------------------------------------------------------- */

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

struct xoshiro {
	uint64_t s[4];
};

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t xoshiro_next(struct xoshiro *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

/* Uniform in [0, 1) with 53 random bits. */
static double uniform(struct xoshiro *r)
{
	return (double)(xoshiro_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

/* Irwin-Hall(12) - 6: a unit-variance bell curve from additions only, so
 * the series are the same bits everywhere (no libm transcendental). */
static double gauss12(struct xoshiro *r)
{
	double s = 0.0;
	for (int i = 0; i < 12; i++)
		s += uniform(r);
	return s - 6.0;
}

int tg_data_synthetic(const struct tg_synth_opts *o, struct tg_dataset *ds, struct tg_error *err)
{
	TG_FAIL_IF(o->symbols < 1, err, TG_E_RANGE, "data: --symbols %d: expected at least 1",
		   o->symbols);
	TG_FAIL_IF(o->bars < 2, err, TG_E_RANGE, "data: --bars %d: expected at least 2", o->bars);
	TG_TRY(dataset_alloc(ds, o->symbols, o->bars, err));
	snprintf(ds->source, sizeof(ds->source), "synthetic seed=%llu", (unsigned long long)o->seed);
	for (int32_t s = 0; s < o->symbols; s++) {
		/* Each symbol has its own stream: adding symbols never changes the
		 * earlier ones. */
		uint64_t sm = o->seed ^ (0xa0761d6478bd642full * (uint64_t)(s + 1));
		struct xoshiro r;
		for (int i = 0; i < 4; i++)
			r.s[i] = splitmix64(&sm);
		double price = 20.0 + 480.0 * uniform(&r);
		double vol = 0.005 + 0.02 * uniform(&r);
		double drift = 0.0004 * (uniform(&r) - 0.5);
		double *p = ds->close + (size_t)s * (size_t)o->bars;
		for (int32_t i = 0; i < o->bars; i++) {
			p[i] = price;
			price = price * (1.0 + drift + vol * gauss12(&r));
		}
		ds->n_bars[s] = o->bars;
		char name[32];
		snprintf(name, sizeof(name), "SYN%04d", s);
		ds->names[s] = strdup(name);
		if (!ds->names[s]) {
			tg_data_free(ds);
			return TG_ERR(err, TG_E_NOMEM, "data: out of memory");
		}
	}
	return 0;
}

/* ---- CSV ------------------------------------------------------------------- */

struct series {
	char *name;
	double *close;
	int32_t n;
	bool timed;      /* the file had a timestamp column */
	bool reversed;   /* newest first: reversed */
	bool trimmed;    /* cut to its last max_bars bars */
	int64_t step_ms; /* the median step between bars */
	int32_t n_gaps;  /* steps longer than 1.5 step_ms */
	int64_t *times;  /* while loading: the bars' times (NULL without) */
	int64_t times_last; /* the last bar's time, before resampling */
	int32_t n_before; /* bars before resampling (0: not resampled) */
	bool partial;     /* resampled: the last interval is not whole */
};

/* The symbol name of a file: its name without directory and extension
 * (*len bytes from the returned pointer) */
static const char *symbol_span(const char *path, size_t *len)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	const char *dot = strrchr(base, '.');
	*len = dot && dot != base ? (size_t)(dot - base) : strlen(base);
	return base;
}

/* The columns that may hold a file's times, in the order looked for */
static const char *const time_columns[] = {"timestamp", "date", "datetime", "time", "open_time"};

/* Checks that t[0..n) increases; a file that decreases throughout is
 * reversed (close with it). Repeats and disorder are errors at file:line. */
static int order_times(struct tg_csv *c, const char *path, const char *col, int64_t *t,
		       double *close, int32_t n, bool *reversed, struct tg_error *err)
{
	*reversed = false;
	if (n < 2)
		return 0;
	const bool down = t[n - 1] < t[0];
	for (int32_t i = 1; i < n; i++) {
		if (t[i] == t[i - 1]) {
			char a[40];
			tg_time_format(t[i], a, sizeof(a));
			return TG_ERR(err, TG_E_PARSE,
				      "data: %s:%d: column '%s': %s repeats line %d's time; expected "
				      "one row per bar",
				      path, tg_csv_row_line(c, i), col, a, tg_csv_row_line(c, i - 1));
		}
		if ((t[i] < t[i - 1]) != down) {
			char a[40], b[40];
			tg_time_format(t[i], a, sizeof(a));
			tg_time_format(t[i - 1], b, sizeof(b));
			return TG_ERR(err, TG_E_PARSE,
				      "data: %s:%d: column '%s': %s is %s than line %d's %s; expected "
				      "times in order (%s, as the file's first and last rows are)",
				      path, tg_csv_row_line(c, i), col, a, down ? "later" : "earlier",
				      tg_csv_row_line(c, i - 1), b,
				      down ? "newest first" : "oldest first");
		}
	}
	if (!down)
		return 0;
	for (int32_t i = 0, j = n - 1; i < j; i++, j--) {
		const int64_t tt = t[i];
		t[i] = t[j];
		t[j] = tt;
		const double cc = close[i];
		close[i] = close[j];
		close[j] = cc;
	}
	*reversed = true;
	return 0;
}

/* The typical step of increasing t[0..n): the median difference (0 for
 * fewer than 2 bars, or without memory) */
static int64_t median_step(const int64_t *t, int32_t n)
{
	if (n < 2)
		return 0;
	int64_t *d = malloc((size_t)(n - 1) * sizeof(*d));
	if (!d)
		return 0;
	for (int32_t i = 1; i < n; i++)
		d[i - 1] = t[i] - t[i - 1];
	qsort(d, (size_t)(n - 1), sizeof(*d), cmp_i64);
	const int64_t step = d[(n - 2) / 2];
	free(d);
	return step;
}

/* The typical step and the steps longer than 1.5 of it */
static void count_gaps(const int64_t *t, int32_t n, int64_t *step, int32_t *gaps)
{
	*step = median_step(t, n);
	*gaps = 0;
	for (int32_t i = 1; *step > 0 && i < n; i++)
		*gaps += 2 * (t[i] - t[i - 1]) > 3 * *step;
}

static int64_t floor_to(int64_t t, int64_t tf)
{
	const int64_t q = t / tf;
	return (q - (t % tf < 0)) * tf;
}

/* Bars of tf ms from increasing times: one per interval that holds a bar
 * (its start the time, its last close the close: NaN only when all its
 * closes are). Fails when the data's own step is coarser than tf. */
static int resample(struct series *s, const char *path, int64_t tf, struct tg_error *err)
{
	const int64_t step = median_step(s->times, s->n);
	if (step > tf) {
		char a[32], b[32];
		tg_time_span(step, a, sizeof(a));
		tg_time_span(tf, b, sizeof(b));
		return TG_ERR(err, TG_E_RANGE,
			      "data: '%s': its bars are %s apart; --timeframe %s cannot make finer "
			      "ones (give %s or coarser)",
			      path, a, b, a);
	}
	int32_t m = 0;
	for (int32_t i = 0; i < s->n; i++) {
		const int64_t b = floor_to(s->times[i], tf);
		if (m == 0 || s->times[m - 1] != b) {
			s->times[m] = b;
			s->close[m] = s->close[i];
			m++;
		} else if (s->close[i] == s->close[i]) {
			s->close[m - 1] = s->close[i];
		}
	}
	/* the last interval is whole when its last bar is the interval's last */
	s->partial = s->n > 0 && s->times[m - 1] + tf > s->times_last + (step > 0 ? step : 1);
	s->n_before = s->n;
	s->n = m;
	return 0;
}

/* The times of a file with a timestamp column: parsed, ordered (close
 * reversed with them), gaps counted. */
static int series_times(struct tg_csv *c, const char *path, struct series *out,
			struct tg_error *err)
{
	int col = -1;
	for (size_t k = 0; col < 0 && k < sizeof(time_columns) / sizeof(time_columns[0]); k++)
		TG_TRY(tg_csv_find_unique(c, time_columns[k], &col, err));
	if (col < 0)
		return 0;
	const char *col_name = tg_csv_column_name(c, col);
	int64_t *t = malloc((size_t)out->n * sizeof(*t));
	TG_FAIL_IF(!t, err, TG_E_NOMEM, "data: '%s': out of memory", path);
	int rc = tg_csv_times(c, col, t, err);
	if (rc == 0)
		rc = order_times(c, path, col_name, t, out->close, out->n, &out->reversed, err);
	if (rc < 0) {
		free(t);
		return rc;
	}
	out->timed = true;
	out->times = t;
	if (out->reversed)
		tg_warn("data: '%s': its rows are newest first; reversed to oldest first", path);
	return 0;
}

/* The price column's names for o->price (NULL: close) */
static const char *const adj_close_names[] = {"adj close", "adj_close", "adjclose", "adjusted_close",
					      "adjusted close"};

static int find_price(struct tg_csv *c, const char *path, const struct tg_load_opts *o, int *col,
		      struct tg_error *err)
{
	*col = -1;
	if (!o->price || strcmp(o->price, "close") == 0)
		return tg_csv_find_unique(c, "close", col, err);
	for (size_t k = 0; *col < 0 && k < sizeof(adj_close_names) / sizeof(adj_close_names[0]); k++)
		TG_TRY(tg_csv_find_unique(c, adj_close_names[k], col, err));
	TG_FAIL_IF(*col < 0, err, TG_E_PARSE,
		   "data: %s:1: --price adj-close, but the header has no adjusted close column "
		   "('Adj Close' as yfinance writes it, or adj_close)",
		   path);
	return 0;
}

/* The close column of a parsed file (freed here) as a series named after
 * path: the file name without directory and extension. */
static int series_from_csv(struct tg_csv *c, const char *path, const struct tg_load_opts *o,
			   struct series *out, struct tg_error *err)
{
	int col = -1;
	if (find_price(c, path, o, &col, err) < 0) {
		tg_csv_free(c);
		return err ? err->code : TG_E_PARSE;
	}
	if (tg_csv_headerless(c))
		tg_info("data: '%s': no header: read as Binance klines (open time in ms, open, high, "
			"low, close, volume, ...)",
			path);
	if (col < 0) {
		char cols[256] = "";
		size_t used = 0;
		for (int i = 0; i < tg_csv_columns(c) && used + 2 < sizeof(cols); i++) {
			int w = snprintf(cols + used, sizeof(cols) - used, "%s%s", i ? "," : "",
					 tg_csv_column_name(c, i));
			if (w < 0)
				break;
			used += (size_t)w;
		}
		tg_csv_free(c);
		return TG_ERR(err, TG_E_PARSE,
			      "data: %s:1: no 'close' column in the header '%s'; expected e.g. "
			      "timestamp,open,high,low,close,volume",
			      path, cols);
	}
	int32_t n = tg_csv_rows(c);
	if (n == 0) {
		tg_csv_free(c);
		return TG_ERR(err, TG_E_PARSE, "data: '%s': a header but no data rows", path);
	}
	out->close = malloc((size_t)n * sizeof(double));
	if (!out->close) {
		tg_csv_free(c);
		return TG_ERR(err, TG_E_NOMEM, "data: '%s': out of memory", path);
	}
	int rc = tg_csv_column(c, col, o->allow_nan ? TG_CSV_PRICE_OR_NAN : TG_CSV_PRICE, out->close,
			       err);
	out->n = n;
	if (rc == 0)
		rc = series_times(c, path, out, err);
	tg_csv_free(c);
	if (rc < 0) {
		free(out->close);
		out->close = NULL;
		return rc;
	}
	if (o->timeframe_ms > 0) {
		if (!out->times) {
			free(out->close);
			out->close = NULL;
			return TG_ERR(err, TG_E_PARSE,
				      "data: %s:1: --timeframe needs the bars' times, and the header has "
				      "no timestamp column (timestamp, date, datetime, time or open_time)",
				      path);
		}
		out->times_last = out->times[n - 1];
		rc = resample(out, path, o->timeframe_ms, err);
		if (rc < 0) {
			free(out->times);
			free(out->close);
			out->times = NULL;
			out->close = NULL;
			return rc;
		}
		n = out->n;
	}
	int32_t first = 0;
	if (o->max_bars > 0 && n > o->max_bars) {
		/* the last max_bars bars, oldest first */
		first = n - o->max_bars;
		memmove(out->close, out->close + first, (size_t)o->max_bars * sizeof(double));
		n = out->n = o->max_bars;
		out->trimmed = true;
	}
	if (out->times) {
		count_gaps(out->times + first, n, &out->step_ms, &out->n_gaps);
		free(out->times);
		out->times = NULL;
	}
	int32_t finite = 0;
	for (int32_t i = 0; i < n; i++)
		finite += out->close[i] == out->close[i];
	if (finite == 0) {
		free(out->close);
		out->close = NULL;
		return TG_ERR(err, TG_E_PARSE,
			      "data: '%s': every close of its %d rows is NaN; expected prices", path, n);
	}
	if (o->min_bars > 0 && n < o->min_bars) {
		free(out->close);
		out->close = NULL;
		return TG_ERR(err, TG_E_RANGE,
			      "data: '%s': %d bars, fewer than %s (%d bars)", path, n,
			      o->min_bars_reason ? o->min_bars_reason : "required", o->min_bars);
	}
	size_t name_len;
	const char *base = symbol_span(path, &name_len);
	out->name = strndup(base, name_len);
	if (!out->name) {
		free(out->close);
		out->close = NULL;
		return TG_ERR(err, TG_E_NOMEM, "data: out of memory");
	}
	return 0;
}

/* The times' facts of the loaded series into ds (when any had times) */
static int dataset_times(struct tg_dataset *ds, const struct series *ser, struct tg_error *err)
{
	bool timed = false;
	for (int32_t i = 0; i < ds->n_symbols; i++) {
		timed |= ser[i].timed;
		ds->n_reversed += ser[i].reversed;
		ds->n_trimmed += ser[i].trimmed;
		ds->n_partial += ser[i].partial;
		ds->bars_before_resampling += ser[i].n_before;
	}
	if (!timed)
		return 0;
	ds->step_ms = calloc((size_t)ds->n_symbols, sizeof(*ds->step_ms));
	ds->n_gaps = calloc((size_t)ds->n_symbols, sizeof(*ds->n_gaps));
	TG_FAIL_IF(!ds->step_ms || !ds->n_gaps, err, TG_E_NOMEM, "data: out of memory");
	for (int32_t i = 0; i < ds->n_symbols; i++) {
		ds->step_ms[i] = ser[i].step_ms;
		ds->n_gaps[i] = ser[i].n_gaps;
	}
	return 0;
}

static int load_series(const char *path, const struct tg_load_opts *o, struct series *out,
		       struct tg_error *err)
{
	struct tg_csv *c;
	TG_TRY(tg_csv_open(path, &c, err));
	return series_from_csv(c, path, o, out, err);
}

int tg_data_parse_csv(const char *text, size_t len, const char *name,
		      const struct tg_load_opts *o, struct tg_dataset *ds, struct tg_error *err)
{
	memset(ds, 0, sizeof(*ds));
	char *copy = malloc(len + 1);
	TG_FAIL_IF(!copy, err, TG_E_NOMEM, "data: '%s': out of memory", name);
	memcpy(copy, text, len);
	copy[len] = '\0';
	struct tg_csv *c;
	TG_TRY(tg_csv_parse(copy, len, name, &c, err));
	struct series ser = {0};
	TG_TRY(series_from_csv(c, name, o, &ser, err));
	int rc = dataset_alloc(ds, 1, ser.n, err);
	if (rc == 0)
		rc = dataset_times(ds, &ser, err);
	if (rc == 0) {
		ds->n_files = 1;
		tg_strlcpy(ds->source, name, sizeof(ds->source));
		memcpy(ds->close, ser.close, (size_t)ser.n * sizeof(double));
		ds->n_bars[0] = ser.n;
		ds->names[0] = ser.name;
		ser.name = NULL;
	} else {
		tg_data_free(ds);
	}
	free(ser.name);
	free(ser.close);
	return rc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool has_csv_suffix(const char *name)
{
	size_t n = strlen(name);
	return n > 4 && strcasecmp(name + n - 4, ".csv") == 0;
}

/* Lists dir's *.csv files (sorted); other entries are reported, not read. */
static int list_dir(const char *dir, char ***files, int *n_files, struct tg_error *err)
{
	DIR *d = opendir(dir);
	TG_FAIL_IF(!d, err, TG_E_IO, "data: '%s': cannot open directory: %s", dir, strerror(errno));
	char **v = NULL;
	int n = 0, skipped = 0;
	size_t cap = 0;
	struct dirent *e;
	int rc = 0;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		if (!has_csv_suffix(e->d_name)) {
			tg_warn("data: '%s/%s' is not a .csv file; not loaded", dir, e->d_name);
			skipped++;
			continue;
		}
		char **nv = tg_grow_block(v, &cap, (size_t)n + 1, sizeof(*nv), 64);
		if (!nv) {
			rc = TG_ERR(err, TG_E_NOMEM, "data: out of memory");
			break;
		}
		v = nv;
		size_t len = strlen(dir) + strlen(e->d_name) + 2;
		v[n] = malloc(len);
		if (!v[n]) {
			rc = TG_ERR(err, TG_E_NOMEM, "data: out of memory");
			break;
		}
		snprintf(v[n], len, "%s/%s", dir, e->d_name);
		n++;
	}
	closedir(d);
	if (rc == 0 && n == 0)
		rc = TG_ERR(err, TG_E_INVAL, "data: '%s': no .csv files in the directory%s", dir,
			    skipped ? " (other files were skipped)" : "");
	if (rc < 0) {
		for (int i = 0; i < n; i++)
			free(v[i]);
		free(v);
		return rc;
	}
	qsort(v, (size_t)n, sizeof(char *), cmp_str);
	*files = v;
	*n_files = n;
	return 0;
}

/* Keeps the files whose symbol matches o->select, then the first
 * o->max_symbols of them (files[] is in name order); those dropped move to
 * the end of files[] (the caller frees every entry). */
static int select_files(const char *path, const struct tg_load_opts *o, char **files, int *n,
			struct tg_error *err)
{
	int kept = 0;
	for (int i = 0; i < *n; i++) {
		if (o->select) {
			size_t len;
			const char *base = symbol_span(files[i], &len);
			char *sym = strndup(base, len);
			TG_FAIL_IF(!sym, err, TG_E_NOMEM, "data: out of memory");
			const bool match = fnmatch(o->select, sym, 0) == 0;
			free(sym);
			if (!match)
				continue;
		}
		char *f = files[kept];
		files[kept] = files[i];
		files[i] = f;
		kept++;
	}
	TG_FAIL_IF(kept == 0, err, TG_E_INVAL,
		   "data: '%s': no symbol matches --select '%s' (of %d files; symbols are file "
		   "names without .csv)",
		   path, o->select ? o->select : "", *n);
	if (o->max_symbols > 0 && o->max_symbols > kept)
		return TG_ERR(err, TG_E_RANGE,
			      "data: '%s': --symbols %d, but %s %d symbol%s; give at most %d or "
			      "leave --symbols out",
			      path, o->max_symbols, o->select ? "--select matches" : "it holds", kept,
			      kept == 1 ? "" : "s", kept);
	if (o->max_symbols > 0)
		kept = o->max_symbols;
	*n = kept;
	return 0;
}

int tg_data_load(const char *path, const struct tg_load_opts *o, struct tg_dataset *ds,
		 struct tg_error *err)
{
	memset(ds, 0, sizeof(*ds));
	struct stat st;
	TG_FAIL_IF(stat(path, &st) != 0, err, TG_E_IO, "data: '%s': %s", path, strerror(errno));
	char **files = NULL;
	int n_files = 0;
	if (S_ISDIR(st.st_mode)) {
		TG_TRY(list_dir(path, &files, &n_files, err));
	} else {
		files = malloc(sizeof(char *));
		TG_FAIL_IF(!files, err, TG_E_NOMEM, "data: out of memory");
		files[0] = strdup(path);
		n_files = 1;
		if (!files[0]) {
			free(files);
			return TG_ERR(err, TG_E_NOMEM, "data: out of memory");
		}
	}
	const int listed = n_files;
	int rc = select_files(path, o, files, &n_files, err);
	struct series *ser = rc == 0 ? calloc((size_t)(n_files ? n_files : 1), sizeof(*ser)) : NULL;
	if (rc == 0 && !ser)
		rc = TG_ERR(err, TG_E_NOMEM, "data: out of memory");
	int32_t stride = 0;
	for (int i = 0; rc == 0 && i < n_files; i++) {
		rc = load_series(files[i], o, &ser[i], err);
		if (rc == 0 && ser[i].n > stride)
			stride = ser[i].n;
	}
	if (rc == 0)
		rc = dataset_alloc(ds, n_files, stride, err);
	if (rc == 0)
		rc = dataset_times(ds, ser, err);
	if (rc == 0) {
		tg_strlcpy(ds->source, path, sizeof(ds->source));
		ds->n_files = listed;
		for (int i = 0; i < n_files; i++) {
			memcpy(ds->close + (size_t)i * (size_t)stride, ser[i].close,
			       (size_t)ser[i].n * sizeof(double));
			ds->n_bars[i] = ser[i].n;
			ds->names[i] = ser[i].name;
			ser[i].name = NULL;
		}
	} else {
		tg_data_free(ds);
	}
	for (int i = listed - 1; i >= n_files; i--)
		free(files[i]);
	for (int i = 0; i < n_files; i++) {
		if (ser) {
			free(ser[i].name);
			free(ser[i].close);
		}
		free(files[i]);
	}
	free(ser);
	free(files);
	return rc;
}

struct tg_batch tg_data_sub_batch(const struct tg_dataset *ds, int32_t first, int32_t count)
{
	struct tg_batch b;
	b.close = ds->close + (size_t)first * (size_t)ds->stride;
	b.n_bars = ds->n_bars + first;
	b.n_symbols = count;
	b.stride = ds->stride;
	return b;
}

struct tg_batch tg_data_batch(const struct tg_dataset *ds)
{
	return tg_data_sub_batch(ds, 0, ds->n_symbols);
}

const char *tg_data_symbol_name(const struct tg_dataset *ds, int32_t s, char buf[32])
{
	if (ds->names && ds->names[s])
		return ds->names[s];
	snprintf(buf, 32, "symbol %d", s);
	return buf;
}

int32_t tg_data_min_bars(const struct tg_dataset *ds)
{
	int32_t m = ds->n_symbols > 0 ? ds->n_bars[0] : 0;
	for (int32_t i = 1; i < ds->n_symbols; i++)
		if (ds->n_bars[i] < m)
			m = ds->n_bars[i];
	return m;
}

struct tg_dataset tg_data_share(const struct tg_dataset *ds, int32_t first, int32_t count)
{
	struct tg_dataset v = *ds;
	v.n_symbols = count;
	v.n_bars = ds->n_bars ? ds->n_bars + first : NULL;
	v.close = ds->close ? ds->close + (size_t)first * (size_t)ds->stride : NULL;
	v.names = ds->names ? ds->names + first : NULL;
	v.step_ms = ds->step_ms ? ds->step_ms + first : NULL;
	v.n_gaps = ds->n_gaps ? ds->n_gaps + first : NULL;
	return v;
}
