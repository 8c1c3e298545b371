/* Price data for the benchmark: a seeded synthetic generator and a strict
 * CSV loader. Both produce a tg_dataset laid out as a tg_batch (symbols x
 * stride, NaN-padded past each symbol's bars).
 */
#ifndef TG_DATA_H
#define TG_DATA_H

#include <stdbool.h>
#include <stdint.h>

#include "tg_error.h"
#include "tg_kernels.h"

#ifdef __cplusplus
extern "C" {
#endif

struct tg_dataset {
	int32_t n_symbols;
	int32_t stride;    /* longest series */
	int32_t *n_bars;   /* [n_symbols] */
	double *close;     /* [n_symbols][stride] */
	char **names;      /* [n_symbols] symbol names */
	char source[600];  /* "synthetic seed=42" or the path loaded */
	/* loaded files with a timestamp column (NULL otherwise): per symbol
	 * the typical step (the median difference, ms; 0 without times) and
	 * the gaps longer than 1.5 steps */
	int64_t *step_ms;  /* [n_symbols] */
	int32_t *n_gaps;   /* [n_symbols] */
	int32_t n_reversed; /* files given newest first, reversed */
	int32_t n_trimmed;  /* series cut to their last max_bars bars */
	int32_t n_files;    /* files in the directory before the selection */
	int32_t n_partial;  /* resampled series whose last interval is partial */
	int64_t bars_before_resampling; /* their sum (0: not resampled) */
};

/* min / median / max bars and their sum over the symbols; the gaps of
 * their times (0 without times) and the symbols that have any */
struct tg_data_shape {
	int32_t min_bars, median_bars, max_bars;
	int64_t total_bars;
	int64_t gaps;
	int32_t symbols_with_gaps;
};
void tg_data_shape(const struct tg_dataset *ds, struct tg_data_shape *out);

struct tg_synth_opts {
	int32_t symbols;
	int32_t bars;
	uint64_t seed;
};

/* Geometric random walks, one independent stream per symbol. Only +, *, /
 * on IEEE doubles: bit-identical on every machine and compiler. */
int tg_data_synthetic(const struct tg_synth_opts *o, struct tg_dataset *ds, struct tg_error *err);

struct tg_load_opts {
	bool allow_nan;    /* NaN closes are gaps (atc); otherwise an error (run) */
	int32_t min_bars;  /* a series with fewer bars is an error (0: no check) */
	const char *min_bars_reason; /* "the longest moving average" */
	const char *price;  /* "close" (NULL) or "adj-close" (yfinance's Adj Close) */
	const char *select; /* fnmatch(3) pattern on symbol names (NULL: all) */
	int64_t timeframe_ms; /* resample to bars of this size (0: as they are) */
	int32_t max_symbols; /* the first N selected symbols in name order (0: all) */
	int32_t max_bars;    /* the last B bars of each series (0: all) */
};

/* path is one CSV file (one symbol) or a directory of *.csv files (one
 * symbol each, sorted by name). Each file needs a header with a `close`
 * column; other columns are ignored, except a timestamp column
 * (`timestamp`, `date`, `datetime`, `time` or `open_time`, any case):
 * its times must increase — a file newest first is reversed with a
 * warning naming it, a repeated or out-of-order time is an error naming
 * file:line — and gaps longer than the typical step are counted. Errors
 * name file:line. */
int tg_data_load(const char *path, const struct tg_load_opts *o, struct tg_dataset *ds,
		 struct tg_error *err);

/* One symbol from CSV text (not modified), as a file of that name would
 * load: what tg_data_load does with each file. */
int tg_data_parse_csv(const char *text, size_t len, const char *name,
		      const struct tg_load_opts *o, struct tg_dataset *ds, struct tg_error *err);
void tg_data_free(struct tg_dataset *ds);

/* Symbols [first, first + count) of ds as a dataset of their own: a view
 * whose arrays point into ds (never freed; ds outlives it), the same
 * stride and source (a rank's share of a split run). */
struct tg_dataset tg_data_share(const struct tg_dataset *ds, int32_t first, int32_t count);

/* A view of the whole dataset, or of symbols [first, first + count). */
struct tg_batch tg_data_batch(const struct tg_dataset *ds);
struct tg_batch tg_data_sub_batch(const struct tg_dataset *ds, int32_t first, int32_t count);
int32_t tg_data_min_bars(const struct tg_dataset *ds);
/* Symbol s's name, or "symbol <s>" (written in buf) for a dataset built
 * without names. */
const char *tg_data_symbol_name(const struct tg_dataset *ds, int32_t s, char buf[32]);

/* ---- timestamps ---------------------------------------------------------- */

/* One timestamp to ms since the epoch: ISO 8601 dates (2024-01-31) and
 * date-times (2024-01-31T09:30, 2024-01-31 09:30:00.250, with Z, +01:00,
 * +0100 or no zone: UTC), epoch seconds (up to 11 digits, a fraction
 * allowed) or milliseconds (12 to 14 digits). 0, or -1 when s is none of
 * these. */
int tg_time_parse(const char *s, size_t len, int64_t *ms);
/* ms as 2024-01-31T09:30:00Z; a span as "15 min", "1 d", "2 d 3 h" */
int tg_time_format(int64_t ms, char *buf, size_t cap);
int tg_time_span(int64_t ms, char *buf, size_t cap);
/* A bar size: N followed by s, m (minutes), h, d or w (15m, 1h, 1d) to
 * ms; 0, or -1 when it is none. */
int tg_timeframe_parse(const char *s, int64_t *ms);

/* ---- generic CSV table (the loader and the conformance tests) ---------- */

struct tg_csv;

/* What a price may be: within 30 decades of 1 either way, so that every
 * moving average's weighted sums stay finite (1e307 overflows them). */
#define TG_PRICE_MIN 1e-30
#define TG_PRICE_MAX 1e30

enum tg_csv_policy {
	TG_CSV_ANY = 0,         /* any number, nan allowed (golden columns) */
	TG_CSV_PRICE = 1,       /* finite, in [TG_PRICE_MIN, TG_PRICE_MAX] */
	TG_CSV_PRICE_OR_NAN = 2 /* the same, or nan */
};

int tg_csv_open(const char *path, struct tg_csv **out, struct tg_error *err);
/* The same from text (malloc'd, NUL-terminated at len, owned by the table
 * from now on, also on error); path names it in errors. */
int tg_csv_parse(char *text, size_t len, const char *path, struct tg_csv **out,
		 struct tg_error *err);
void tg_csv_free(struct tg_csv *c);
int tg_csv_columns(const struct tg_csv *c);
const char *tg_csv_column_name(const struct tg_csv *c, int col);
/* Column index by exact name, or case-insensitively when no exact match;
 * -1 when absent. */
int tg_csv_find(const struct tg_csv *c, const char *name);
/* tg_csv_find, refusing a name that more than one column has (case
 * ignored: 'Close' and 'close'); *col is -1 when none has it. */
int tg_csv_find_unique(const struct tg_csv *c, const char *name, int *col, struct tg_error *err);
int32_t tg_csv_rows(const struct tg_csv *c);
/* Parses column col of every row into out[rows]. */
int tg_csv_column(const struct tg_csv *c, int col, enum tg_csv_policy policy, double *out,
		  struct tg_error *err);
/* Parses column col of every row as timestamps (tg_time_parse) into
 * out[rows]; errors name file:line. */
int tg_csv_times(const struct tg_csv *c, int col, int64_t *out, struct tg_error *err);
/* Was the file Binance klines without a header (columns open_time, open,
 * high, low, close, volume, close_time, ...)? */
bool tg_csv_headerless(const struct tg_csv *c);
/* The 1-based file line of data row r */
int32_t tg_csv_row_line(const struct tg_csv *c, int32_t r);

#ifdef __cplusplus
}
#endif

#endif
