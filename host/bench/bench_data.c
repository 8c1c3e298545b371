/* Datasets: the synthetic generator and the CSV file/directory loader. */
#include <dirent.h>
#include <errno.h>
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
	memset(ds, 0, sizeof(*ds));
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
};

/* The close column of a parsed file (freed here) as a series named after
 * path: the file name without directory and extension. */
static int series_from_csv(struct tg_csv *c, const char *path, const struct tg_load_opts *o,
			   struct series *out, struct tg_error *err)
{
	int col = -1;
	if (tg_csv_find_unique(c, "close", &col, err) < 0) {
		tg_csv_free(c);
		return err ? err->code : TG_E_PARSE;
	}
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
	tg_csv_free(c);
	if (rc < 0) {
		free(out->close);
		out->close = NULL;
		return rc;
	}
	out->n = n;
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
	/* Symbol name: the file name without directory and extension. */
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	const char *dot = strrchr(base, '.');
	out->name = strndup(base, dot && dot != base ? (size_t)(dot - base) : strlen(base));
	if (!out->name) {
		free(out->close);
		out->close = NULL;
		return TG_ERR(err, TG_E_NOMEM, "data: out of memory");
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
	if (rc == 0) {
		tg_strlcpy(ds->source, name, sizeof(ds->source));
		memcpy(ds->close, ser.close, (size_t)ser.n * sizeof(double));
		ds->n_bars[0] = ser.n;
		ds->names[0] = ser.name;
		ser.name = NULL;
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
	struct series *ser = calloc((size_t)n_files, sizeof(*ser));
	int rc = ser ? 0 : TG_ERR(err, TG_E_NOMEM, "data: out of memory");
	int32_t stride = 0;
	for (int i = 0; rc == 0 && i < n_files; i++) {
		rc = load_series(files[i], o, &ser[i], err);
		if (rc == 0 && ser[i].n > stride)
			stride = ser[i].n;
	}
	if (rc == 0)
		rc = dataset_alloc(ds, n_files, stride, err);
	if (rc == 0) {
		tg_strlcpy(ds->source, path, sizeof(ds->source));
		for (int i = 0; i < n_files; i++) {
			memcpy(ds->close + (size_t)i * (size_t)stride, ser[i].close,
			       (size_t)ser[i].n * sizeof(double));
			ds->n_bars[i] = ser[i].n;
			ds->names[i] = ser[i].name;
			ser[i].name = NULL;
		}
	}
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

int32_t tg_data_min_bars(const struct tg_dataset *ds)
{
	int32_t m = ds->n_symbols > 0 ? ds->n_bars[0] : 0;
	for (int32_t i = 1; i < ds->n_symbols; i++)
		if (ds->n_bars[i] < m)
			m = ds->n_bars[i];
	return m;
}
