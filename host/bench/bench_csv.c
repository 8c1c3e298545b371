/* A strict CSV reader: header + rows, RFC 4180 quoting, LF, CRLF or CR line ends,
 * every error with file:line and the column name. Nothing is skipped:
 * a blank line between rows, a short row or a bad number is an error.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tg_data.h"
#include "tg_mem.h"

struct csv_line {
	const char *start;
	size_t len;
	int32_t lineno; /* 1-based */
};

struct tg_csv {
	char *path;
	char *text;
	struct csv_line header;
	struct csv_line *rows;
	int32_t n_rows;
	char **names;
	int n_cols;
	bool headerless; /* Binance klines: no header, the columns named here */
};

/* Splits the next field off *p (within end); returns its bounds without
 * surrounding quotes. Sets *err_msg on a malformed quoted field. */
static void next_field(const char **p, const char *end, const char **fs, size_t *fl,
		       const char **err_msg)
{
	const char *s = *p;
	if (s < end && *s == '"') {
		const char *q = s + 1;
		while (q < end) {
			if (*q == '"') {
				if (q + 1 < end && q[1] == '"') {
					q += 2;
					continue;
				}
				break;
			}
			q++;
		}
		if (q >= end) {
			*err_msg = "unterminated quoted field";
			*fs = s + 1;
			*fl = (size_t)(end - s - 1);
			*p = end;
			return;
		}
		*fs = s + 1;
		*fl = (size_t)(q - s - 1);
		q++;
		while (q < end && (*q == ' ' || *q == '\t'))
			q++;
		if (q < end && *q != ',')
			*err_msg = "text after a closing quote";
		while (q < end && *q != ',')
			q++;
		*p = q < end ? q + 1 : end + 1;
		return;
	}
	const char *c = s;
	while (c < end && *c != ',')
		c++;
	*fs = s;
	*fl = (size_t)(c - s);
	*p = c < end ? c + 1 : end + 1;
}

static int count_fields(const struct csv_line *ln, const char **err_msg)
{
	const char *p = ln->start, *end = ln->start + ln->len;
	int n = 0;
	while (p <= end) {
		const char *fs;
		size_t fl;
		next_field(&p, end, &fs, &fl, err_msg);
		n++;
		if (*err_msg)
			break;
	}
	return n;
}

static void trim(const char **s, size_t *len)
{
	while (*len > 0 && (**s == ' ' || **s == '\t')) {
		(*s)++;
		(*len)--;
	}
	while (*len > 0 && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t'))
		(*len)--;
}

void tg_csv_free(struct tg_csv *c)
{
	if (!c)
		return;
	for (int i = 0; i < c->n_cols; i++)
		free(c->names[i]);
	free(c->names);
	free(c->rows);
	free(c->text);
	free(c->path);
	free(c);
}

int tg_csv_open(const char *path, struct tg_csv **out, struct tg_error *err)
{
	*out = NULL;
	char *text = NULL;
	size_t len = 0;
	TG_TRY(tg_read_file(path, "data", &text, &len, err));
	return tg_csv_parse(text, len, path, out, err);
}

/* Binance klines (exported by its API and data.binance.vision) have no
 * header: open time (ms), open, high, low, close, volume, close time, quote
 * volume, trades, taker buy base, taker buy quote, ignore. A first line of
 * 6 to 12 numbers, the first an epoch-ms time, is such a row; returns its
 * field count, or 0. */
static const char *const klines_columns[12] = {
	"open_time", "open",    "high",       "low",        "close",       "volume",
	"close_time", "quote_volume", "trades", "taker_base", "taker_quote", "ignore"};

static int is_klines(const struct csv_line *ln)
{
	const char *msg = NULL;
	const int nf = count_fields(ln, &msg);
	if (msg || nf < 6 || nf > 12)
		return 0;
	const char *p = ln->start, *end = ln->start + ln->len;
	for (int i = 0; i < nf; i++) {
		const char *fs;
		size_t fl;
		next_field(&p, end, &fs, &fl, &msg);
		trim(&fs, &fl);
		if (fl == 0)
			return 0;
		for (size_t j = 0; j < fl; j++)
			if (!((fs[j] >= '0' && fs[j] <= '9') || fs[j] == '.' || fs[j] == '-' ||
			      fs[j] == 'e' || fs[j] == 'E' || fs[j] == '+'))
				return 0;
		if (i == 0) {
			int64_t ms;
			if (fl < 12 || fl > 14 || tg_time_parse(fs, fl, &ms) < 0)
				return 0;
		}
	}
	return nf;
}

static int klines_names(struct tg_csv *c, int nf, struct tg_error *err)
{
	c->names = calloc((size_t)nf, sizeof(char *));
	TG_FAIL_IF(!c->names, err, TG_E_NOMEM, "data: '%s': out of memory", c->path);
	c->n_cols = nf;
	for (int i = 0; i < nf; i++) {
		c->names[i] = strdup(klines_columns[i]);
		TG_FAIL_IF(!c->names[i], err, TG_E_NOMEM, "data: '%s': out of memory", c->path);
	}
	return 0;
}

bool tg_csv_headerless(const struct tg_csv *c)
{
	return c->headerless;
}

int tg_csv_parse(char *text_in, size_t len, const char *path, struct tg_csv **out,
		 struct tg_error *err)
{
	*out = NULL;
	struct tg_csv *c = calloc(1, sizeof(*c));
	if (!c) {
		free(text_in);
		return TG_ERR(err, TG_E_NOMEM, "data: '%s': out of memory", path);
	}
	c->text = text_in;
	struct csv_line *lines = NULL;
	int rc;
	c->path = strdup(path);
	if (!c->path) {
		rc = TG_ERR(err, TG_E_NOMEM, "data: out of memory");
		goto fail;
	}
	const char *text = c->text;
	if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
		text += 3, len -= 3;
	if (strlen(text) != len) {
		rc = TG_ERR(err, TG_E_PARSE, "data: '%s': contains NUL bytes; expected a text CSV",
			    path);
		goto fail;
	}

	/* Split into lines ending in LF, CRLF or a lone CR (old Mac exports);
	 * count them first. */
	int32_t n_lines = 1;
	for (size_t i = 0; i < len; i++)
		n_lines += text[i] == '\n' || (text[i] == '\r' && (i + 1 == len || text[i + 1] != '\n'));
	lines = calloc((size_t)n_lines + 1, sizeof(*lines));
	if (!lines) {
		rc = TG_ERR(err, TG_E_NOMEM, "data: '%s': out of memory", path);
		goto fail;
	}
	int32_t k = 0;
	const char *p = text, *end = text + len;
	while (p < end) {
		const char *e = p;
		while (e < end && *e != '\n' && *e != '\r')
			e++;
		lines[k].start = p;
		lines[k].len = (size_t)(e - p);
		lines[k].lineno = k + 1;
		k++;
		p = e < end && *e == '\r' && e + 1 < end && e[1] == '\n' ? e + 2 : e + 1;
	}
	/* Trailing blank lines are the end of the file, not data. */
	while (k > 0 && lines[k - 1].len == 0)
		k--;
	if (k == 0) {
		rc = TG_ERR(err, TG_E_PARSE,
			    "data: '%s': empty file; expected a header line with a 'close' column "
			    "and one row per bar",
			    path);
		goto fail;
	}
	const int klines = is_klines(&lines[0]);
	c->header = lines[0];
	if (klines) {
		/* no header: Binance klines, the first line is a row */
		c->headerless = true;
		rc = klines_names(c, klines, err);
		if (rc < 0)
			goto fail;
		memmove(lines + 1, lines, (size_t)k * sizeof(*lines));
		k++;
	}
	if (klines) {
		/* (the names are set) */
	} else if (c->header.len == 0) {
		rc = TG_ERR(err, TG_E_PARSE, "data: %s:1: empty header line", path);
		goto fail;
	}
	const char *msg = NULL;
	if (!klines)
		c->n_cols = count_fields(&c->header, &msg);
	if (msg) {
		c->n_cols = 0;
		rc = TG_ERR(err, TG_E_PARSE, "data: %s:1: header: %s", path, msg);
		goto fail;
	}
	if (!klines)
		c->names = calloc((size_t)c->n_cols, sizeof(char *));
	if (!c->names) {
		c->n_cols = 0;
		rc = TG_ERR(err, TG_E_NOMEM, "data: '%s': out of memory", path);
		goto fail;
	}
	const char *hp = c->header.start, *hend = c->header.start + c->header.len;
	for (int i = 0; !klines && i < c->n_cols; i++) {
		const char *fs;
		size_t fl;
		next_field(&hp, hend, &fs, &fl, &msg);
		trim(&fs, &fl);
		c->names[i] = strndup(fs, fl);
		if (!c->names[i]) {
			rc = TG_ERR(err, TG_E_NOMEM, "data: '%s': out of memory", path);
			goto fail;
		}
	}
	for (int32_t i = 1; i < k; i++) {
		if (lines[i].len == 0) {
			rc = TG_ERR(err, TG_E_PARSE,
				    "data: %s:%d: empty line between rows; expected %d comma-separated "
				    "fields",
				    path, lines[i].lineno, c->n_cols);
			goto fail;
		}
		msg = NULL;
		int nf = count_fields(&lines[i], &msg);
		if (msg) {
			rc = TG_ERR(err, TG_E_PARSE, "data: %s:%d: %s", path, lines[i].lineno, msg);
			goto fail;
		}
		if (nf != c->n_cols) {
			rc = TG_ERR(err, TG_E_PARSE,
				    "data: %s:%d: expected %d fields as in the %s, found %d", path,
				    lines[i].lineno, c->n_cols,
				    klines ? "first line (Binance klines)" : "header", nf);
			goto fail;
		}
	}
	c->n_rows = k - 1;
	memmove(lines, lines + 1, (size_t)c->n_rows * sizeof(*lines));
	c->rows = lines;
	*out = c;
	return 0;
fail:
	free(lines);
	tg_csv_free(c);
	return rc;
}

int tg_csv_columns(const struct tg_csv *c)
{
	return c->n_cols;
}

const char *tg_csv_column_name(const struct tg_csv *c, int col)
{
	return col >= 0 && col < c->n_cols ? c->names[col] : NULL;
}

int tg_csv_find_unique(const struct tg_csv *c, const char *name, int *col, struct tg_error *err)
{
	*col = tg_csv_find(c, name);
	if (*col < 0)
		return 0;
	for (int i = 0; i < c->n_cols; i++)
		TG_FAIL_IF(i != *col && strcasecmp(c->names[i], name) == 0, err, TG_E_PARSE,
			   "data: %s:1: columns %d ('%s') and %d ('%s') both name the %s; expected "
			   "one '%s' column",
			   c->path, (i < *col ? i : *col) + 1, c->names[i < *col ? i : *col],
			   (i < *col ? *col : i) + 1, c->names[i < *col ? *col : i], name, name);
	return 0;
}

int tg_csv_find(const struct tg_csv *c, const char *name)
{
	for (int i = 0; i < c->n_cols; i++)
		if (strcmp(c->names[i], name) == 0)
			return i;
	for (int i = 0; i < c->n_cols; i++)
		if (strcasecmp(c->names[i], name) == 0)
			return i;
	return -1;
}

int32_t tg_csv_rows(const struct tg_csv *c)
{
	return c->n_rows;
}

/* Strict number: optional sign, digits, optional fraction and exponent,
 * or nan (any case). Returns 0 and sets *v, or -1. */
static int parse_number(const char *s, size_t len, double *v)
{
	if (len == 3 && strncasecmp(s, "nan", 3) == 0) {
		*v = NAN;
		return 0;
	}
	if (len == 0 || len > 64)
		return -1;
	for (size_t i = 0; i < len; i++) {
		char ch = s[i];
		if (!((ch >= '0' && ch <= '9') || ch == '.' || ch == '-' || ch == '+' || ch == 'e' ||
		      ch == 'E'))
			return -1;
	}
	char buf[72];
	memcpy(buf, s, len);
	buf[len] = '\0';
	char *endp;
	errno = 0;
	double d = strtod(buf, &endp);
	if (endp != buf + len || errno == ERANGE || !isfinite(d))
		return -1;
	*v = d;
	return 0;
}

/* Field col of a row, trimmed */
static void cell(const struct csv_line *ln, int col, const char **fs, size_t *fl)
{
	const char *p = ln->start, *end = ln->start + ln->len, *msg = NULL;
	*fs = NULL;
	*fl = 0;
	for (int i = 0; i <= col; i++)
		next_field(&p, end, fs, fl, &msg);
	trim(fs, fl);
}

int tg_csv_column(const struct tg_csv *c, int col, enum tg_csv_policy policy, double *out,
		  struct tg_error *err)
{
	TG_FAIL_IF(col < 0 || col >= c->n_cols, err, TG_E_INVAL, "data: '%s': no column %d",
		   c->path, col);
	const char *name = c->names[col];
	for (int32_t r = 0; r < c->n_rows; r++) {
		const struct csv_line *ln = &c->rows[r];
		const char *fs;
		size_t fl;
		cell(ln, col, &fs, &fl);
		TG_FAIL_IF(fl == 0, err, TG_E_PARSE, "data: %s:%d: column '%s' is empty; expected a number",
			   c->path, ln->lineno, name);
		double v;
		if (parse_number(fs, fl, &v) < 0)
			return TG_ERR(err, TG_E_PARSE,
				      "data: %s:%d: column '%s': '%.*s' is not a number", c->path,
				      ln->lineno, name, (int)(fl > 40 ? 40 : fl), fs);
		if (policy != TG_CSV_ANY) {
			if (v != v) {
				TG_FAIL_IF(policy == TG_CSV_PRICE, err, TG_E_RANGE,
					   "data: %s:%d: column '%s' is NaN; prices must be finite "
					   "and > 0",
					   c->path, ln->lineno, name);
			} else {
				TG_FAIL_IF(v <= 0.0, err, TG_E_RANGE,
					   "data: %s:%d: column '%s' is %.*s; prices must be > 0",
					   c->path, ln->lineno, name, (int)fl, fs);
				TG_FAIL_IF(v < TG_PRICE_MIN || v > TG_PRICE_MAX, err, TG_E_RANGE,
					   "data: %s:%d: column '%s' is %.*s; prices must lie between "
					   "%g and %g (the MAs' weighted sums of such prices stay "
					   "finite)",
					   c->path, ln->lineno, name, (int)fl, fs, TG_PRICE_MIN,
					   TG_PRICE_MAX);
			}
		}
		out[r] = v;
	}
	return 0;
}

int32_t tg_csv_row_line(const struct tg_csv *c, int32_t r)
{
	return r >= 0 && r < c->n_rows ? c->rows[r].lineno : 0;
}

int tg_csv_times(const struct tg_csv *c, int col, int64_t *out, struct tg_error *err)
{
	TG_FAIL_IF(col < 0 || col >= c->n_cols, err, TG_E_INVAL, "data: '%s': no column %d",
		   c->path, col);
	const char *name = c->names[col];
	for (int32_t r = 0; r < c->n_rows; r++) {
		const struct csv_line *ln = &c->rows[r];
		const char *fs;
		size_t fl;
		cell(ln, col, &fs, &fl);
		if (tg_time_parse(fs, fl, &out[r]) < 0)
			return TG_ERR(err, TG_E_PARSE,
				      "data: %s:%d: column '%s': '%.*s' is not a timestamp; expected "
				      "an ISO 8601 date or date-time (2024-01-31, "
				      "2024-01-31T09:30:00Z) or epoch seconds or milliseconds",
				      c->path, ln->lineno, name, (int)(fl > 40 ? 40 : fl), fs);
	}
	return 0;
}
