/* host/bench: synthetic data, the CSV loader and its bad inputs, the
 * accuracy metrics (checked against the reference's own cases.json), the
 * harness with a fake backend. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tg_accuracy.h"
#include "tg_compare.h"
#include "tg_data.h"
#include "tg_harness.h"
#include "tg_history.h"
#include "tg_report.h"
#include "tg_log.h"
#include "tg_test.h"

static const char *tmpdir;

static int make_tmpdir(void **state)
{
	(void)state;
	tmpdir = tg_test_tmpdir("tg_test_bench");
	return 0;
}

static const char *write_file(const char *name, const char *content)
{
	static char path[512];
	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
	return path;
}

/* ---- synthetic ---- */

static uint64_t fnv1a(const void *data, size_t len)
{
	const unsigned char *p = data;
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

static void test_synthetic_deterministic(void **state)
{
	(void)state;
	struct tg_synth_opts o = {.symbols = 5, .bars = 1000, .seed = 42};
	struct tg_dataset a, b;
	assert_int_equal(tg_data_synthetic(&o, &a, NULL), 0);
	assert_int_equal(tg_data_synthetic(&o, &b, NULL), 0);
	assert_memory_equal(a.close, b.close, 5 * 1000 * sizeof(double));
	/* The exact bits are part of the contract: the same on every machine
	 * and compiler (only +, *, / on doubles). */
	uint64_t h = fnv1a(a.close, 5 * 1000 * sizeof(double));
	print_message("synthetic seed 42 hash: %016llx\n", (unsigned long long)h);
	assert_true(h == 0x67b7c5e312d2b2d1ull);
	for (int i = 0; i < 5000; i++)
		assert_true(isfinite(a.close[i]) && a.close[i] > 0);
	assert_string_equal(a.names[3], "SYN0003");
	/* adding symbols keeps the earlier ones */
	struct tg_dataset c;
	o.symbols = 8;
	assert_int_equal(tg_data_synthetic(&o, &c, NULL), 0);
	assert_memory_equal(a.close, c.close, 5 * 1000 * sizeof(double));
	/* another seed, other data */
	o.seed = 43;
	struct tg_dataset d;
	assert_int_equal(tg_data_synthetic(&o, &d, NULL), 0);
	assert_true(memcmp(a.close, d.close, 1000 * sizeof(double)) != 0);
	tg_data_free(&a);
	tg_data_free(&b);
	tg_data_free(&c);
	tg_data_free(&d);
	struct tg_error err;
	o.symbols = 0;
	assert_int_equal(tg_data_synthetic(&o, &a, &err), TG_E_RANGE);
	assert_non_null(strstr(err.msg, "--symbols 0"));
}

/* ---- CSV ---- */

static void expect_load_error(const char *name, const char *content, int allow_nan,
			      int32_t min_bars, const char *needle)
{
	const char *path = write_file(name, content);
	struct tg_dataset ds;
	struct tg_error err;
	tg_error_clear(&err);
	struct tg_load_opts o = {.allow_nan = allow_nan, .min_bars = min_bars,
				 .min_bars_reason = "the longest moving average"};
	int rc = tg_data_load(path, &o, &ds, &err);
	if (rc == 0)
		fail_msg("%s: loaded, expected an error containing '%s'", name, needle);
	if (!strstr(err.msg, needle))
		fail_msg("%s: message '%s' lacks '%s'", name, err.msg, needle);
}

static void test_csv_bad_inputs(void **state)
{
	(void)state;
	const char *hdr = "timestamp,open,high,low,close,volume\n";
	char buf[512];
	expect_load_error("empty.csv", "", 0, 0, "empty file");
	expect_load_error("blank.csv", "\n\n", 0, 0, "empty file");
	expect_load_error("nohdr.csv", "timestamp,open,high,low,volume\n1,2,3,4,5\n", 0, 0,
			  "nohdr.csv:1: no 'close' column in the header 'timestamp,open,high,low,volume'");
	expect_load_error("norows.csv", hdr, 0, 0, "a header but no data rows");
	snprintf(buf, sizeof(buf), "%s1,1,1,1,10,5\n2,1,1,1,abc,5\n", hdr);
	expect_load_error("text.csv", buf, 0, 0, "text.csv:3: column 'close': 'abc' is not a number");
	snprintf(buf, sizeof(buf), "%s1,1,1,1,10,5\n2,1,1,1,,5\n", hdr);
	expect_load_error("emptyfield.csv", buf, 0, 0, "emptyfield.csv:3: column 'close' is empty");
	snprintf(buf, sizeof(buf), "%s1,1,1,1,10,5\n2,1,1,1,nan,5\n", hdr);
	expect_load_error("nan.csv", buf, 0, 0, "nan.csv:3: column 'close' is NaN");
	snprintf(buf, sizeof(buf), "%s1,1,1,1,10,5\n2,1,1,1,0,5\n", hdr);
	expect_load_error("zero.csv", buf, 0, 0, "zero.csv:3: column 'close' is 0; prices must be > 0");
	snprintf(buf, sizeof(buf), "%s1,1,1,1,-3.5,5\n", hdr);
	expect_load_error("neg.csv", buf, 1, 0, "neg.csv:2: column 'close' is -3.5");
	snprintf(buf, sizeof(buf), "%s1,1,1,1,inf,5\n", hdr);
	expect_load_error("inf.csv", buf, 0, 0, "'inf' is not a number");
	snprintf(buf, sizeof(buf), "%s1,1,1,1,1e999,5\n", hdr);
	expect_load_error("huge.csv", buf, 0, 0, "'1e999' is not a number");
	snprintf(buf, sizeof(buf), "%s1,1,1,1,10,5\n2,1,1,10,5\n", hdr);
	expect_load_error("short.csv", buf, 0, 0, "short.csv:3: expected 6 fields as in the header, found 5");
	snprintf(buf, sizeof(buf), "%s1,1,1,1,10,5\n\n2,1,1,1,11,5\n", hdr);
	expect_load_error("gap.csv", buf, 0, 0, "gap.csv:3: empty line between rows");
	snprintf(buf, sizeof(buf), "%s1,1,1,1,\"10,5\n", hdr);
	expect_load_error("quote.csv", buf, 0, 0, "quote.csv:2: unterminated quoted field");
	snprintf(buf, sizeof(buf), "%s1,1,1,1,10,5\n2,1,1,1,11,5\n", hdr);
	expect_load_error("few.csv", buf, 0, 34,
			  "few.csv': 2 bars, fewer than the longest moving average (34 bars)");
	/* two close columns: which one was meant is not ours to guess */
	expect_load_error("twice.csv", "bar,close,close\n1,2,3\n", 0, 0,
			  "twice.csv:1: columns 2 ('close') and 3 ('close') both name the close");
	expect_load_error("cases.csv", "bar,Close,close\n1,2,3\n", 0, 0,
			  "cases.csv:1: columns 2 ('Close') and 3 ('close') both name the close");
	/* prices the pipeline cannot hold: its sums overflow (inf MAs, NaN
	 * signals), so they are refused with the row */
	expect_load_error("big.csv", "close\n100\n1e307\n", 0, 0,
			  "big.csv:3: column 'close' is 1e307; prices must lie between 1e-30 and 1e+30");
	expect_load_error("tiny.csv", "close\n1e-300\n1e300\n", 1, 0,
			  "tiny.csv:2: column 'close' is 1e-300; prices must lie between");
	/* a series without a single price */
	expect_load_error("allnan.csv", "close\nnan\nNaN\nnan\n", 1, 0,
			  "allnan.csv': every close of its 3 rows is NaN; expected prices");
	/* lines ending in a lone CR (old Mac exports) are lines */
	expect_load_error("cr.csv", "close\r100\r101\r102\r", 0, 34,
			  "cr.csv': 3 bars, fewer than the longest moving average");
	expect_load_error("crhdr.csv", "time,price\r1,2\r", 0, 0,
			  "crhdr.csv:1: no 'close' column in the header 'time,price';");
}

static void test_csv_nul_and_missing(void **state)
{
	(void)state;
	char path[512];
	snprintf(path, sizeof(path), "%s/nul.csv", tmpdir);
	FILE *f = fopen(path, "wb");
	fwrite("close\n1\0\n", 1, 9, f);
	fclose(f);
	struct tg_dataset ds;
	struct tg_error err;
	struct tg_load_opts o = {0};
	assert_int_equal(tg_data_load(path, &o, &ds, &err), TG_E_PARSE);
	assert_non_null(strstr(err.msg, "NUL bytes"));
	assert_int_equal(tg_data_load("/nonexistent/file.csv", &o, &ds, &err), TG_E_IO);
	assert_non_null(strstr(err.msg, "/nonexistent/file.csv"));
}

static void test_csv_good_file(void **state)
{
	(void)state;
	/* CRLF, BOM, quoted fields, spaces, a trailing blank line, other column
	 * order, case-insensitive header, NaN allowed for atc */
	const char *path = write_file("good.csv", "\xEF\xBB\xBFVolume,\"Close\",ts\r\n"
						  "1, 10.5 ,a\r\n2,\"11\",b\r\n3,nan,c\r\n4,1e1,d\r\n\r\n");
	struct tg_dataset ds;
	struct tg_error err;
	tg_error_clear(&err);
	struct tg_load_opts o = {.allow_nan = true};
	if (tg_data_load(path, &o, &ds, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(ds.n_symbols, 1);
	assert_int_equal(ds.n_bars[0], 4);
	assert_true(ds.close[0] == 10.5 && ds.close[1] == 11 && isnan(ds.close[2]) &&
		    ds.close[3] == 10);
	assert_string_equal(ds.names[0], "good");
	tg_data_free(&ds);
}

static void test_csv_directory(void **state)
{
	(void)state;
	char dir[400];
	snprintf(dir, sizeof(dir), "%s/data", tmpdir);
	mkdir(dir, 0777);
	const char *hdr = "timestamp,open,high,low,close,volume\n";
	char buf[4096], name[64];
	/* b has 50 bars, a has 40: stride 50, NaN-padded */
	for (int k = 0; k < 2; k++) {
		int n = k == 0 ? 50 : 40;
		size_t used = (size_t)snprintf(buf, sizeof(buf), "%s", hdr);
		for (int i = 0; i < n; i++)
			used += (size_t)snprintf(buf + used, sizeof(buf) - used, "%d,1,1,1,%d.5,9\n", i,
						 100 + i + k);
		snprintf(name, sizeof(name), "data/%s.csv", k == 0 ? "b" : "a");
		write_file(name, buf);
	}
	write_file("data/README.txt", "not data");
	struct tg_dataset ds;
	struct tg_error err;
	struct tg_load_opts o = {.min_bars = 34, .min_bars_reason = "x"};
	assert_int_equal(tg_data_load(dir, &o, &ds, &err), 0);
	assert_int_equal(ds.n_symbols, 2);
	assert_string_equal(ds.names[0], "a");
	assert_string_equal(ds.names[1], "b");
	assert_int_equal(ds.stride, 50);
	assert_int_equal(ds.n_bars[0], 40);
	assert_true(ds.close[0] == 101.5 && isnan(ds.close[45]));
	assert_int_equal(tg_data_min_bars(&ds), 40);
	struct tg_batch sub = tg_data_sub_batch(&ds, 1, 1);
	assert_true(sub.close[0] == 100.5 && sub.n_bars[0] == 50);
	tg_data_free(&ds);
	/* one bad file fails the whole load, naming it */
	write_file("data/c.csv", "close\n-1\n");
	assert_true(tg_data_load(dir, &o, &ds, &err) < 0);
	assert_non_null(strstr(err.msg, "c.csv:2"));
	/* a directory without CSV files */
	char empty[400];
	snprintf(empty, sizeof(empty), "%s/empty", tmpdir);
	mkdir(empty, 0777);
	assert_int_equal(tg_data_load(empty, &o, &ds, &err), TG_E_INVAL);
	assert_non_null(strstr(err.msg, "no .csv files"));
}

/* ---- timestamps ---- */

static int64_t t_of(const char *s)
{
	int64_t ms = -1;
	if (tg_time_parse(s, strlen(s), &ms) < 0)
		fail_msg("'%s' did not parse", s);
	return ms;
}

static void test_time_parse(void **state)
{
	(void)state;
	/* 2024-01-31T09:30:00Z = 1706693400 s */
	const int64_t t = 1706693400000;
	assert_true(t_of("2024-01-31T09:30:00Z") == t);
	assert_true(t_of("2024-01-31 09:30:00") == t);
	assert_true(t_of("2024-01-31T09:30") == t);
	assert_true(t_of("2024-01-31T10:30:00+01:00") == t);
	assert_true(t_of("2024-01-31T10:30:00+0100") == t);
	assert_true(t_of("2024-01-31T04:30:00-05:00") == t);
	assert_true(t_of("2024-01-31T09:30:00.250Z") == t + 250);
	assert_true(t_of("2024-01-31") == t - (9 * 60 + 30) * 60000);
	assert_true(t_of("1706693400") == t);
	assert_true(t_of("1706693400.5") == t + 500);
	assert_true(t_of("1706693400000") == t);
	assert_true(t_of("1970-01-01") == 0);
	assert_true(t_of("2024-02-29") == t_of("2024-03-01") - 86400000);
	assert_true(t_of("2000-02-29") + 86400000 == t_of("2000-03-01"));
	const char *bad[] = {"", "2024-13-01", "2024-02-30", "2023-02-29", "1900-02-29",
			     "2024-01-31T24:00", "2024-01-31T09:60", "2024-01-31X09:30",
			     "2024-01-31T09:30Q", "2024/01/31", "31.01.2024", "12abc",
			     "1706693400000000", "17066934000000.5", "-5", "2024-01-31T09:30:00+19:00",
			     "2024-1-31", "."};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int64_t ms;
		if (tg_time_parse(bad[i], strlen(bad[i]), &ms) == 0)
			fail_msg("'%s' parsed as %lld, expected an error", bad[i], (long long)ms);
	}
	char buf[40];
	tg_time_format(t + 250, buf, sizeof(buf));
	assert_string_equal(buf, "2024-01-31T09:30:00Z");
	tg_time_span(15 * 60000, buf, sizeof(buf));
	assert_string_equal(buf, "15 min");
	tg_time_span((2 * 24 + 3) * 3600000LL, buf, sizeof(buf));
	assert_string_equal(buf, "2 d 3 h");
}

/* n 15-minute bars from 2024-01-01, close 100 + i, as ISO times or epoch
 * ms, newest first when rev; a 5 h hole before each bar in gaps */
static const char *bars_csv(const char *name, int n, int rev, int ms, const int *gaps, int n_gaps)
{
	static char buf[1 << 16];
	size_t used = (size_t)snprintf(buf, sizeof(buf), "timestamp,open,high,low,close,volume\n");
	int64_t t = 1704067200000, *tv = malloc((size_t)n * sizeof(*tv));
	assert_non_null(tv);
	for (int i = 0; i < n; i++) {
		for (int g = 0; g < n_gaps; g++)
			t += gaps[g] == i ? 5 * 3600000LL : 0;
		tv[i] = t;
		t += 15 * 60000;
	}
	for (int k = 0; k < n; k++) {
		const int i = rev ? n - 1 - k : k;
		char ts[40];
		if (ms)
			snprintf(ts, sizeof(ts), "%lld", (long long)tv[i]);
		else
			tg_time_format(tv[i], ts, sizeof(ts));
		used += (size_t)snprintf(buf + used, sizeof(buf) - used, "%s,1,1,1,%d,9\n", ts,
					 100 + i);
	}
	free(tv);
	return write_file(name, buf);
}

static void test_csv_times(void **state)
{
	(void)state;
	struct tg_dataset ds;
	struct tg_error err;
	tg_error_clear(&err);
	struct tg_load_opts o = {0};
	/* newest first: reversed, closes oldest first, counted */
	const int gaps[] = {10, 30};
	const char *path = bars_csv("rev.csv", 40, 1, 0, gaps, 2);
	assert_int_equal(tg_data_load(path, &o, &ds, &err), 0);
	assert_int_equal(ds.n_reversed, 1);
	for (int i = 0; i < 40; i++)
		assert_true(ds.close[i] == 100 + i);
	assert_non_null(ds.step_ms);
	assert_true(ds.step_ms[0] == 15 * 60000);
	assert_int_equal(ds.n_gaps[0], 2);
	tg_data_free(&ds);
	/* epoch milliseconds, oldest first, no gaps */
	path = bars_csv("ms.csv", 40, 0, 1, NULL, 0);
	assert_int_equal(tg_data_load(path, &o, &ds, &err), 0);
	assert_int_equal(ds.n_reversed, 0);
	assert_int_equal(ds.n_gaps[0], 0);
	assert_true(ds.close[39] == 139);
	tg_data_free(&ds);
	/* no timestamp column: no times */
	path = write_file("notime.csv", "close\n1\n2\n");
	assert_int_equal(tg_data_load(path, &o, &ds, &err), 0);
	assert_null(ds.step_ms);
	tg_data_free(&ds);
	/* a repeated time, out of order, in a newest-first file, not a time */
	const char *hdr = "date,close\n";
	char buf[512];
	snprintf(buf, sizeof(buf), "%s2024-01-01,1\n2024-01-02,2\n2024-01-02,3\n2024-01-03,4\n", hdr);
	expect_load_error("dup.csv", buf, 0, 0,
			  "dup.csv:4: column 'date': 2024-01-02T00:00:00Z repeats line 3's time");
	snprintf(buf, sizeof(buf), "%s2024-01-01,1\n2024-01-03,2\n2024-01-02,3\n2024-01-04,4\n", hdr);
	expect_load_error("order.csv", buf, 0, 0,
			  "order.csv:4: column 'date': 2024-01-02T00:00:00Z is earlier than line 3's "
			  "2024-01-03T00:00:00Z; expected times in order (oldest first");
	snprintf(buf, sizeof(buf), "%s2024-01-04,1\n2024-01-02,2\n2024-01-03,3\n2024-01-01,4\n", hdr);
	expect_load_error("order2.csv", buf, 0, 0,
			  "order2.csv:4: column 'date': 2024-01-03T00:00:00Z is later than line 3's "
			  "2024-01-02T00:00:00Z; expected times in order (newest first");
	snprintf(buf, sizeof(buf), "%s2024-01-01,1\nyesterday,2\n", hdr);
	expect_load_error("word.csv", buf, 0, 0,
			  "word.csv:3: column 'date': 'yesterday' is not a timestamp");
	/* two columns that both name the time */
	expect_load_error("twotimes.csv", "Date,date,close\n1,1,1\n", 0, 0, "both name the date");
}

static void test_csv_selection(void **state)
{
	(void)state;
	char dir[400];
	snprintf(dir, sizeof(dir), "%s/sel", tmpdir);
	mkdir(dir, 0777);
	bars_csv("sel/BTC.csv", 60, 0, 0, NULL, 0);
	bars_csv("sel/ETH.csv", 50, 0, 0, NULL, 0);
	bars_csv("sel/BNB.csv", 40, 1, 0, NULL, 0);
	struct tg_dataset ds;
	struct tg_error err;
	tg_error_clear(&err);
	/* the first 2 in name order (BNB, BTC), their last 45 bars */
	struct tg_load_opts o = {.max_symbols = 2, .max_bars = 45};
	assert_int_equal(tg_data_load(dir, &o, &ds, &err), 0);
	assert_int_equal(ds.n_symbols, 2);
	assert_int_equal(ds.n_files, 3);
	assert_string_equal(ds.names[0], "BNB");
	assert_string_equal(ds.names[1], "BTC");
	assert_int_equal(ds.n_bars[0], 40);
	assert_int_equal(ds.n_bars[1], 45);
	assert_int_equal(ds.n_trimmed, 1);
	assert_true(ds.close[ds.stride] == 115 && ds.close[ds.stride + 44] == 159);
	struct tg_data_shape sh;
	tg_data_shape(&ds, &sh);
	assert_true(sh.min_bars == 40 && sh.max_bars == 45 && sh.total_bars == 85);
	tg_data_free(&ds);
	/* a pattern */
	o = (struct tg_load_opts){.select = "B*"};
	assert_int_equal(tg_data_load(dir, &o, &ds, &err), 0);
	assert_int_equal(ds.n_symbols, 2);
	assert_string_equal(ds.names[1], "BTC");
	tg_data_free(&ds);
	o = (struct tg_load_opts){.select = "E*", .max_symbols = 1};
	assert_int_equal(tg_data_load(dir, &o, &ds, &err), 0);
	assert_string_equal(ds.names[0], "ETH");
	assert_int_equal(ds.n_bars[0], 50);
	tg_data_free(&ds);
	/* refused, with the reason */
	o = (struct tg_load_opts){.max_symbols = 4};
	assert_int_equal(tg_data_load(dir, &o, &ds, &err), TG_E_RANGE);
	assert_non_null(strstr(err.msg, "--symbols 4, but it holds 3 symbols"));
	o = (struct tg_load_opts){.select = "X*"};
	assert_int_equal(tg_data_load(dir, &o, &ds, &err), TG_E_INVAL);
	assert_non_null(strstr(err.msg, "no symbol matches --select 'X*'"));
	/* the cut is checked against the longest MA after cutting */
	o = (struct tg_load_opts){.max_bars = 20, .min_bars = 34, .min_bars_reason = "the MA"};
	assert_int_equal(tg_data_load(dir, &o, &ds, &err), TG_E_RANGE);
	assert_non_null(strstr(err.msg, "20 bars, fewer than the MA"));
}

static void test_csv_layouts(void **state)
{
	(void)state;
	struct tg_dataset ds;
	struct tg_error err;
	tg_error_clear(&err);
	struct tg_load_opts o = {0};
	/* Binance klines: no header, open time in ms first, close 5th */
	const char *path = write_file("BTCUSDT-15m.csv",
				      "1704067200000,42283.58,42554.57,42261.02,42475.23,1271.68,"
				      "1704068099999,53957248.97,47134,682.57,28957416.81,0\n"
				      "1704068100000,42475.23,42475.23,42431.65,42444.00,305.44,"
				      "1704068999999,12969290.33,14374,150.60,6394916.60,0\n");
	if (tg_data_load(path, &o, &ds, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(ds.n_bars[0], 2);
	assert_true(ds.close[0] == 42475.23 && ds.close[1] == 42444.00);
	assert_true(ds.step_ms[0] == 15 * 60000);
	tg_data_free(&ds);
	expect_load_error("kl-short.csv",
			  "1704067200000,1,1,1,5,1,1704068099999,1,1,1,1,0\n1704068100000,1,1,1,5\n",
			  0, 0, "kl-short.csv:2: expected 12 fields as in the first line (Binance klines)");
	/* yfinance: Date, ..., Close, Adj Close; --price adj-close picks the latter */
	const char *yf = "Date,Open,High,Low,Close,Adj Close,Volume\n"
			 "2024-01-02,10,11,9,10.5,10.25,100\n"
			 "2024-01-03,10,11,9,10.75,10.5,100\n";
	path = write_file("yf.csv", yf);
	assert_int_equal(tg_data_load(path, &o, &ds, &err), 0);
	assert_true(ds.close[0] == 10.5);
	tg_data_free(&ds);
	o.price = "adj-close";
	assert_int_equal(tg_data_load(path, &o, &ds, &err), 0);
	assert_true(ds.close[0] == 10.25 && ds.close[1] == 10.5);
	tg_data_free(&ds);
	path = write_file("noadj.csv", "date,close\n2024-01-02,1\n");
	assert_int_equal(tg_data_load(path, &o, &ds, &err), TG_E_PARSE);
	assert_non_null(strstr(err.msg, "noadj.csv:1: --price adj-close, but the header has no"));
}

static void test_csv_timeframe(void **state)
{
	(void)state;
	struct tg_dataset ds;
	struct tg_error err;
	tg_error_clear(&err);
	/* 15-minute bars from 00:00, closes 100 + i: 1 h bars close at the 4th
	 * of each hour; 10 bars make 3 hours, the last with 2 of its 4 bars */
	const char *path = bars_csv("tf.csv", 10, 0, 0, NULL, 0);
	struct tg_load_opts o = {.timeframe_ms = 3600000};
	if (tg_data_load(path, &o, &ds, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(ds.n_bars[0], 3);
	assert_true(ds.close[0] == 103 && ds.close[1] == 107 && ds.close[2] == 109);
	assert_int_equal(ds.n_partial, 1);
	assert_true(ds.bars_before_resampling == 10);
	assert_true(ds.step_ms[0] == 3600000);
	tg_data_free(&ds);
	/* whole last interval: 12 bars, 3 hours */
	path = bars_csv("tf12.csv", 12, 0, 0, NULL, 0);
	assert_int_equal(tg_data_load(path, &o, &ds, &err), 0);
	assert_int_equal(ds.n_bars[0], 3);
	assert_int_equal(ds.n_partial, 0);
	tg_data_free(&ds);
	/* a 5 h gap: no bar for the empty hours; newest first resampled after
	 * the reversal */
	const int gaps[] = {8};
	path = bars_csv("tfgap.csv", 16, 1, 0, gaps, 1);
	assert_int_equal(tg_data_load(path, &o, &ds, &err), 0);
	assert_int_equal(ds.n_bars[0], 4); /* hours 0, 1, 7, 8 */
	assert_true(ds.close[0] == 103 && ds.close[1] == 107 && ds.close[2] == 111 &&
		    ds.close[3] == 115);
	assert_int_equal(ds.n_gaps[0], 1);
	assert_int_equal(ds.n_reversed, 1);
	tg_data_free(&ds);
	/* finer than the data, no times: refused */
	o.timeframe_ms = 5 * 60000;
	assert_int_equal(tg_data_load(path, &o, &ds, &err), TG_E_RANGE);
	assert_non_null(strstr(err.msg, "its bars are 15 min apart; --timeframe 5 min cannot"));
	path = write_file("tfnotime.csv", "close\n1\n2\n");
	assert_int_equal(tg_data_load(path, &o, &ds, &err), TG_E_PARSE);
	assert_non_null(strstr(err.msg, "--timeframe needs the bars' times"));
	int64_t ms;
	assert_int_equal(tg_timeframe_parse("15m", &ms), 0);
	assert_true(ms == 900000);
	assert_int_equal(tg_timeframe_parse("1d", &ms), 0);
	assert_true(ms == 86400000);
	assert_true(tg_timeframe_parse("0h", &ms) < 0 && tg_timeframe_parse("h", &ms) < 0 &&
		    tg_timeframe_parse("15", &ms) < 0 && tg_timeframe_parse("15mm", &ms) < 0 &&
		    tg_timeframe_parse("2y", &ms) < 0);
}

/* ---- the decision: symbols whose final signal flips ---- */

static void test_accuracy_decision(void **state)
{
	(void)state;
	/* 3 symbols x 4 bars; exact and approx the same but for symbol 1's
	 * last bar (0.5 -> -0.5: LONG -> SHORT) and symbol 2's first bar (0.2
	 * -> 0.005: a class change to none that is not at the last bar) */
	enum { S = 3, N = 4 };
	double close[S * N], ma[2][6 * S * N], l1[2][6 * S * N], avg[2][S * N];
	int8_t fin[2][S];
	int32_t bars[S] = {N, N, N};
	for (int i = 0; i < S * N; i++)
		close[i] = 100;
	for (int m = 0; m < 2; m++) {
		for (int i = 0; i < 6 * S * N; i++)
			ma[m][i] = l1[m][i] = 1;
		for (int i = 0; i < S * N; i++)
			avg[m][i] = 0.2;
	}
	avg[1][1 * N + 3] = -0.5;
	avg[0][1 * N + 3] = 0.5;
	avg[1][2 * N + 0] = 0.005;
	for (int s = 0; s < S; s++)
		fin[0][s] = fin[1][s] = 1;
	fin[1][1] = -1;
	struct tg_batch b = {.close = close, .n_bars = bars, .n_symbols = S, .stride = N};
	struct tg_atc_outputs out[2];
	for (int m = 0; m < 2; m++) {
		memset(&out[m], 0, sizeof(out[m]));
		out[m].ma = ma[m];
		out[m].l1_signal = l1[m];
		out[m].average = avg[m];
		out[m].final_signal = fin[m];
	}
	struct tg_atc_params prm;
	tg_atc_params_default(&prm);
	struct tg_accuracy_acc acc;
	tg_accuracy_acc_init(&acc, &prm);
	tg_accuracy_acc_add(&acc, &b, 10, &out[0], &out[1]); /* symbols 10..12 */
	struct tg_accuracy r;
	memset(&r, 0, sizeof(r));
	tg_accuracy_acc_finish(&acc, &r);
	assert_int_equal(r.symbols, 3);
	assert_int_equal(r.flipped, 1);
	assert_int_equal(r.n_flips, 1);
	assert_int_equal(r.flips[0].symbol, 11);
	assert_int_equal(r.flips[0].exact, 1);
	assert_int_equal(r.flips[0].approx, -1);
	assert_true(r.bars_differing == 2.0 / 12.0);
	/* no exact slot MAs given: no per-slot error */
	assert_int_equal(r.family[0].n_slots, 0);
	free(r.flips);
	/* more flips than the terminal lists: every one kept, in symbol order */
	tg_accuracy_acc_init(&acc, &prm);
	for (int k = 0; k < 30; k++)
		tg_accuracy_acc_add(&acc, &b, 3 * k, &out[0], &out[1]);
	tg_accuracy_acc_finish(&acc, &r);
	assert_int_equal(r.flipped, 30);
	assert_int_equal(r.n_flips, 30);
	assert_int_equal(r.flips[19].symbol, 3 * 19 + 1);
	assert_int_equal(r.flips[29].symbol, 3 * 29 + 1);
	char text[2048];
	for (int k = 0; k < 30; k++)
		snprintf(r.flips[k].name, sizeof(r.flips[k].name), "S%d", r.flips[k].symbol);
	tg_report_decision_text(&r, text, sizeof(text));
	assert_non_null(strstr(text, "30 of 90 symbols"));
	assert_non_null(strstr(text, "S58 LONG->SHORT, ... (all 30 in results.json)"));
	assert_null(strstr(text, "S61 "));
	free(r.flips);
}

/* The approx MA (one per family, at the base length) against the exact MA
 * of every slot: each slot's own error, in length order; and the Layer-1
 * signal's agreement beyond chance. */
static void test_accuracy_slots(void **state)
{
	(void)state;
	enum { N = 8 };
	struct tg_atc_params prm;
	tg_atc_params_default(&prm);
	prm.robustness = TG_ROBUST_MEDIUM; /* offsets 1, 2, 4, 6 */
	int32_t len[TG_ATC_SLOTS];
	tg_atc_slot_lengths(&prm, 0, len);
	static double ma[2][6 * N], l1[2][6 * N], avg[2][N], slot_ma[TG_ATC_MAS * N];
	double close[N];
	for (int i = 0; i < N; i++) {
		close[i] = 100;
		avg[0][i] = avg[1][i] = 0.5;
	}
	for (int i = 0; i < 6 * N; i++) {
		ma[0][i] = ma[1][i] = 100;
		l1[0][i] = l1[1][i] = 1;
	}
	/* exact slot k of every family: 100 * (1 + (length - L) / 100), so
	 * the approx MA (100) is off by |length - L| / (100 + length - L) */
	for (int f = 0; f < 6; f++) {
		tg_atc_slot_lengths(&prm, f, len);
		for (int k = 0; k < TG_ATC_SLOTS; k++)
			for (int i = 0; i < N; i++)
				slot_ma[(f * TG_ATC_SLOTS + k) * N + i] = 100.0 + (len[k] - len[0]);
	}
	/* family 4: the approx signal's sign has nothing to do with the exact
	 * one's (exact + + - - + + - -, approx + - + - + - + -): kappa 0;
	 * family 5: the same but for one bar */
	for (int i = 0; i < N; i++) {
		l1[0][4 * N + i] = (i / 2) % 2 ? -0.3 : 0.3;
		l1[1][4 * N + i] = i % 2 ? -0.2 : 0.2;
		l1[0][5 * N + i] = (i / 2) % 2 ? -0.3 : 0.3;
		l1[1][5 * N + i] = i == 3 ? 0.1 : l1[0][5 * N + i];
	}
	struct tg_batch b = {.close = close, .n_bars = NULL, .n_symbols = 1, .stride = N};
	struct tg_atc_outputs out[2];
	for (int m = 0; m < 2; m++) {
		memset(&out[m], 0, sizeof(out[m]));
		out[m].ma = ma[m];
		out[m].l1_signal = l1[m];
		out[m].average = avg[m];
	}
	out[0].slot_ma = slot_ma;
	struct tg_accuracy_acc acc;
	tg_accuracy_acc_init(&acc, &prm);
	tg_accuracy_acc_add(&acc, &b, 0, &out[0], &out[1]);
	struct tg_accuracy r;
	tg_accuracy_acc_finish(&acc, &r);
	for (int f = 0; f < 6; f++) {
		const struct tg_family_accuracy *fa = &r.family[f];
		const int32_t L = prm.length[f];
		assert_int_equal(fa->n_slots, TG_ATC_SLOTS);
		assert_true(fa->mean_rel_err == 0); /* at the base length: no error */
		double sum = 0;
		for (int k = 0; k < TG_ATC_SLOTS; k++) {
			const struct tg_slot_accuracy *x = &fa->slot[k];
			if (k > 0)
				assert_true(x->length > fa->slot[k - 1].length);
			const double want = fabs((double)(x->length - L)) / (100.0 + (x->length - L));
			assert_true(fabs(x->mean_rel_err - want) < 1e-15);
			assert_true(fabs(x->max_rel_err - want) < 1e-15);
			if (x->length == L)
				assert_int_equal(x->slot, 0);
			sum += want;
		}
		assert_int_equal(fa->slot[0].length, L - 6);
		assert_int_equal(fa->slot[8].length, L + 6);
		/* L - 6 is off by 6/94, L + 6 by 6/106: the shortest is the worst */
		assert_int_equal(fa->worst, 0);
		assert_true(fabs(fa->slots_mean_rel_err - sum / 9) < 1e-15);
	}
	/* identical signals: kappa undefined (one class: chance 1), not flagged */
	assert_true(r.family[0].l1_sign_agreement == 1.0);
	assert_true(r.family[0].l1_kappa != r.family[0].l1_kappa);
	assert_false(r.family[0].no_better_than_chance);
	/* unrelated signs: half agree, as chance would: kappa 0, flagged */
	assert_true(r.family[4].l1_agree_finite == 0.5);
	assert_true(r.family[4].l1_chance == 0.5);
	assert_true(r.family[4].l1_kappa == 0.0);
	assert_true(r.family[4].no_better_than_chance);
	/* 7 of 8 agree: kappa (7/8 - 1/2) / (1 - 1/2) = 0.75, not flagged */
	assert_true(fabs(r.family[5].l1_kappa - 0.75) < 1e-15);
	assert_false(r.family[5].no_better_than_chance);
	free(r.flips);
}

/* ---- accuracy: reproduces the reference's cases.json numbers ---- */

/* A batch of S symbols x N bars of random outputs, exact and approx, with
 * NaN gaps, some final signals that differ and one large Average_Signal
 * difference; part() gives symbols [a, b) in a batch of their own (a
 * rank's share). */
enum { MS = 7, MN = 30 };
struct merge_data {
	double close[MS * MN];
	double ma[2][6 * MS * MN], l1[2][6 * MS * MN], avg[2][MS * MN], slot[TG_ATC_MAS * MS * MN];
	int8_t fin[2][MS];
	int32_t bars[MS];
};

struct merge_part {
	double close[MS * MN];
	double ma[2][6 * MS * MN], l1[2][6 * MS * MN], avg[2][MS * MN], slot[TG_ATC_MAS * MS * MN];
	int8_t fin[2][MS];
	struct tg_batch b;
	struct tg_atc_outputs out[2];
};

static void merge_fill(struct merge_data *d)
{
	uint64_t st = 99;
	for (int s = 0; s < MS; s++) {
		d->bars[s] = MN - (s % 3) * 4; /* uneven series */
		d->fin[0][s] = (int8_t)(s % 3 - 1);
		d->fin[1][s] = (int8_t)(s == 2 || s == 5 ? -d->fin[0][s] : d->fin[0][s]);
	}
	for (int i = 0; i < MS * MN; i++) {
		d->close[i] = 100 + tg_test_urand(&st);
		for (int m = 0; m < 2; m++) {
			d->avg[m][i] = tg_test_urand(&st) - 0.5;
			if (i % 17 == 3)
				d->avg[m][i] = NAN;
		}
	}
	d->avg[1][4 * MN + 9] += 5; /* the worst cell: symbol 4, bar 9 */
	for (int i = 0; i < 6 * MS * MN; i++)
		for (int m = 0; m < 2; m++) {
			d->ma[m][i] = 100 + tg_test_urand(&st);
			d->l1[m][i] = tg_test_urand(&st) - 0.4;
		}
	for (int i = 0; i < TG_ATC_MAS * MS * MN; i++)
		d->slot[i] = 100 + tg_test_urand(&st);
}

static void merge_part_of(const struct merge_data *d, int a, int b, struct merge_part *p)
{
	const int n = b - a;
	memcpy(p->close, d->close + a * MN, (size_t)n * MN * sizeof(double));
	for (int m = 0; m < 2; m++) {
		for (int f = 0; f < 6; f++) {
			memcpy(p->ma[m] + f * n * MN, d->ma[m] + (f * MS + a) * MN, (size_t)n * MN * sizeof(double));
			memcpy(p->l1[m] + f * n * MN, d->l1[m] + (f * MS + a) * MN, (size_t)n * MN * sizeof(double));
		}
		memcpy(p->avg[m], d->avg[m] + a * MN, (size_t)n * MN * sizeof(double));
		memcpy(p->fin[m], d->fin[m] + a, (size_t)n);
		memset(&p->out[m], 0, sizeof(p->out[m]));
		p->out[m].ma = p->ma[m];
		p->out[m].l1_signal = p->l1[m];
		p->out[m].average = p->avg[m];
		p->out[m].final_signal = p->fin[m];
	}
	for (int k = 0; k < TG_ATC_MAS; k++)
		memcpy(p->slot + k * n * MN, d->slot + (k * MS + a) * MN, (size_t)n * MN * sizeof(double));
	p->out[0].slot_ma = p->slot;
	p->b = (struct tg_batch){.close = p->close, .n_bars = d->bars + a, .n_symbols = n, .stride = MN};
}

static bool near(double a, double b)
{
	return (isnan(a) && isnan(b)) || a == b || fabs(a - b) <= 1e-12 * fabs(a);
}

/* The accumulators of a split batch (the ranks' shares) merged give what
 * one accumulator over the whole batch gives: counts, maxima and the worst
 * cell exactly, means to rounding, the flips with their global symbols. */
static void test_accuracy_merge(void **state)
{
	(void)state;
	struct merge_data *d = calloc(1, sizeof(*d));
	struct merge_part *p = calloc(1, sizeof(*p));
	assert_non_null(d);
	assert_non_null(p);
	merge_fill(d);
	struct tg_atc_params prm;
	tg_atc_params_default(&prm);
	/* one process */
	merge_part_of(d, 0, MS, p);
	struct tg_accuracy_acc one;
	tg_accuracy_acc_init(&one, &prm);
	tg_accuracy_acc_add(&one, &p->b, 0, &p->out[0], &p->out[1]);
	struct tg_agreement_acc g1;
	tg_agreement_acc_init(&g1);
	tg_agreement_acc_add(&g1, &p->b, p->avg[0], p->avg[1]);
	/* three ranks: symbols 0-1, 2-4, 5-6, each counting from its own 0 */
	const int cut[] = {0, 2, 5, MS};
	struct tg_accuracy_acc all;
	tg_accuracy_acc_init(&all, &prm);
	struct tg_agreement_acc gall;
	tg_agreement_acc_init(&gall);
	for (int r = 0; r < 3; r++) {
		merge_part_of(d, cut[r], cut[r + 1], p);
		struct tg_accuracy_acc mine;
		tg_accuracy_acc_init(&mine, &prm);
		tg_accuracy_acc_add(&mine, &p->b, 0, &p->out[0], &p->out[1]);
		tg_accuracy_acc_merge(&all, &mine, mine.flips, mine.n_flips, cut[r]);
		tg_accuracy_acc_fini(&mine);
		struct tg_agreement_acc g;
		tg_agreement_acc_init(&g);
		tg_agreement_acc_add(&g, &p->b, p->avg[0], p->avg[1]);
		tg_agreement_acc_merge(&gall, &g, cut[r]);
	}
	struct tg_accuracy a, b;
	tg_accuracy_acc_finish(&one, &a);
	tg_accuracy_acc_finish(&all, &b);
	assert_int_equal(a.symbols, MS);
	assert_int_equal(b.symbols, a.symbols);
	assert_int_equal(b.bars, a.bars);
	assert_int_equal(a.flipped, 2);
	assert_int_equal(b.flipped, a.flipped);
	assert_int_equal(b.n_flips, 2);
	assert_int_equal(b.flips[0].symbol, 2);
	assert_int_equal(b.flips[1].symbol, 5);
	assert_true(b.avg_max_abs_diff == a.avg_max_abs_diff);
	assert_true(near(b.avg_sign_agreement, a.avg_sign_agreement));
	assert_true(near(b.bars_differing, a.bars_differing));
	for (int f = 0; f < 6; f++) {
		const struct tg_family_accuracy *x = &a.family[f], *y = &b.family[f];
		assert_true(y->max_rel_err == x->max_rel_err);
		assert_true(near(y->mean_rel_err, x->mean_rel_err));
		assert_true(near(y->frac_within_5pct, x->frac_within_5pct));
		assert_true(near(y->l1_kappa, x->l1_kappa));
		assert_int_equal(y->n_slots, x->n_slots);
		for (int k = 0; k < x->n_slots; k++)
			assert_true(near(y->slot[k].mean_rel_err, x->slot[k].mean_rel_err));
	}
	free(a.flips);
	free(b.flips);
	struct tg_agreement x, y;
	tg_agreement_acc_finish(&g1, &x);
	tg_agreement_acc_finish(&gall, &y);
	assert_int_equal(x.worst_symbol, 4);
	assert_int_equal(x.worst_bar, 9);
	assert_int_equal(y.worst_symbol, x.worst_symbol);
	assert_int_equal(y.worst_bar, x.worst_bar);
	assert_true(y.max_abs_diff == x.max_abs_diff);
	assert_true(y.sign_agreement == x.sign_agreement);
	assert_int_equal(y.bars, x.bars);
	free(d);
	free(p);
}

static void test_accuracy_matches_cases_json(void **state)
{
	(void)state;
	static const char *const fam[6] = {"EMA", "HMA", "WMA", "DEMA", "LSMA", "KAMA"};
	/* case A, from cases.json */
	const double mean_rel[6] = {0.005169048603166262, 1.4875608531704624e-16,
				    1.179165466514971e-16, 0.009877038762686809,
				    0.022600764860017997, 0.06581846250968525};
	const double within5[6] = {1.0, 1.0, 1.0, 1.0, 0.8830715532286213, 0.5133333333333333};
	const double l1_agree[6] = {0.85, 0.9483333333333334, 0.9366666666666666,
				    0.8216666666666667, 0.5183333333333333, 0.7883333333333333};
	char path[600];
	struct tg_test_csv ex, ap;
	tg_test_csv_open(&ex, tg_test_atc_path(path, sizeof(path), "A_grw_default_exact.csv"));
	tg_test_csv_open(&ap, tg_test_atc_path(path, sizeof(path), "A_grw_default_approx.csv"));
	int32_t n = ex.rows;
	double *buf[2][13];
	char col[64];
	for (int f = 0; f < 6; f++) {
		snprintf(col, sizeof(col), "MA_%s", fam[f]);
		buf[0][f] = tg_test_csv_column(&ex, col);
		snprintf(col, sizeof(col), "AMA_%s", fam[f]);
		buf[1][f] = tg_test_csv_column(&ap, col);
		snprintf(col, sizeof(col), "%s_Signal", fam[f]);
		buf[0][6 + f] = tg_test_csv_column(&ex, col);
		buf[1][6 + f] = tg_test_csv_column(&ap, col);
	}
	buf[0][12] = tg_test_csv_column(&ex, "Average_Signal");
	buf[1][12] = tg_test_csv_column(&ap, "Average_Signal");
	/* lay the columns out as backend outputs of a 1-symbol batch */
	double *o[2];
	struct tg_atc_outputs out[2];
	for (int m = 0; m < 2; m++) {
		o[m] = malloc(13 * (size_t)n * sizeof(double));
		for (int c = 0; c < 13; c++)
			memcpy(o[m] + (size_t)c * n, buf[m][c], (size_t)n * sizeof(double));
		memset(&out[m], 0, sizeof(out[m]));
		out[m].ma = o[m];
		out[m].l1_signal = o[m] + 6 * (size_t)n;
		out[m].average = o[m] + 12 * (size_t)n;
	}
	struct tg_batch b = {.close = NULL, .n_bars = NULL, .n_symbols = 1, .stride = n};
	struct tg_atc_params prm;
	tg_atc_params_default(&prm);
	struct tg_accuracy_acc acc;
	tg_accuracy_acc_init(&acc, &prm);
	tg_accuracy_acc_add(&acc, &b, 0, &out[0], &out[1]);
	struct tg_accuracy r;
	tg_accuracy_acc_finish(&acc, &r);
	for (int f = 0; f < 6; f++) {
		/* mean relative error within rounding of the reference's numpy */
		assert_true(fabs(r.family[f].mean_rel_err - mean_rel[f]) <= 1e-6 * mean_rel[f] + 1e-17);
		assert_true(r.family[f].frac_within_5pct == within5[f]);
		assert_true(r.family[f].l1_sign_agreement == l1_agree[f]);
	}
	/* the reference's LSMA approximation agrees on the Layer-1 sign about
	 * as often as chance would (51.8%): flagged; the others are not */
	for (int f = 0; f < 6; f++)
		assert_int_equal(r.family[f].no_better_than_chance, f == TG_FAM_LSMA);
	assert_true(fabs(r.avg_max_abs_diff - 1.0078543068001864) < 1e-12);
	assert_true(r.avg_sign_agreement == 0.8733333333333333);
	assert_true(r.avg_frac_below_1e6 == 0.31833333333333336);
	assert_int_equal(r.bars, 600);
	/* agreement of a series with itself, and with a shifted copy */
	struct tg_agreement_acc ag;
	tg_agreement_acc_init(&ag);
	tg_agreement_acc_add(&ag, &b, out[0].average, out[0].average);
	struct tg_agreement g;
	tg_agreement_acc_finish(&ag, &g);
	assert_true(g.max_abs_diff == 0 && g.sign_agreement == 1.0 && g.bars == 600);
	tg_agreement_acc_init(&ag);
	tg_agreement_acc_add(&ag, &b, out[0].average, out[1].average);
	tg_agreement_acc_finish(&ag, &g);
	assert_true(g.sign_agreement == 0.8733333333333333);
	for (int m = 0; m < 2; m++) {
		for (int c = 0; c < 13; c++)
			free(buf[m][c]);
		free(o[m]);
	}
	tg_test_csv_close(&ex);
	tg_test_csv_close(&ap);
	assert_int_equal(tg_sign_class(NAN), 2);
	assert_int_equal(tg_sign_class(-0.0), 0);
}

/* ---- harness with a fake backend ---- */

static int fake_runs, fake_fail_at;
static volatile sig_atomic_t fake_stop;

static int fake_probe(char *why, size_t cap)
{
	(void)why;
	(void)cap;
	return 0;
}

static int fake_open(const struct tg_backend_config *c, void **s, struct tg_error *e)
{
	(void)c;
	(void)e;
	*s = NULL;
	return 0;
}

static int fake_run(void *s, const struct tg_atc_params *p, const struct tg_batch *b,
		    const struct tg_atc_outputs *o, struct tg_backend_timing *t, struct tg_error *e)
{
	(void)s;
	(void)p;
	(void)b;
	(void)o;
	fake_runs++;
	t->kernel_ns = 1000.0 * fake_runs;
	t->h2d_ns = 10;
	t->d2h_ns = 20;
	t->device_total_ns = 1030.0 * fake_runs;
	t->kernel_bytes = 1e6;
	t->chunks = 2;
	t->pinned = 1;
	snprintf(t->kernels, sizeof(t->kernels), "walk");
	if (fake_runs == fake_fail_at)
		return TG_ERR(e, TG_E_DEVICE, "fake: device lost");
	if (fake_runs == 4)
		fake_stop = 1 * (fake_fail_at == -1);
	return 0;
}

static int fake_threads(void *s)
{
	(void)s;
	return 3;
}

static void fake_close(void *s)
{
	(void)s;
}

static const struct tg_backend_ops fake_ops = {.name = "fake",
					       .description = "test double",
					       .probe = fake_probe,
					       .open = fake_open,
					       .run = fake_run,
					       .threads = fake_threads,
					       .close = fake_close};

static void test_harness_counts_and_stats(void **state)
{
	(void)state;
	struct tg_atc_params p;
	tg_atc_params_default(&p);
	int32_t bars[2] = {100, 50};
	struct tg_batch b = {.close = NULL, .n_bars = bars, .n_symbols = 2, .stride = 100};
	struct tg_atc_outputs o = {0};
	struct tg_state_result st;
	memset(&st, 0, sizeof(st));
	struct tg_harness_opts ho = {.warmup = 2, .rule = {.fixed = 5}, .stop = &fake_stop, .label = "fake"};
	fake_runs = 0;
	fake_fail_at = 0;
	fake_stop = 0;
	assert_int_equal(tg_harness_measure(&fake_ops, NULL, &p, &b, &o, &ho, &st, NULL), 0);
	assert_int_equal(fake_runs, 7);
	assert_int_equal(st.n_samples, 5);
	assert_int_equal(st.wall.n, 5);
	assert_string_equal(st.stop_reason, "count");
	assert_int_equal(st.threads, 3);
	assert_int_equal(st.warmup, 2);
	assert_true(st.bar_mas == 150.0 * 54);
	assert_true(st.wall.min <= st.wall.median && st.wall.median <= st.wall.max);
	/* device split: medians of the timed reps' values 3000..7000 */
	assert_true(st.kernel_ns == 5000.0 && st.h2d_ns == 10 && st.d2h_ns == 20);
	assert_int_equal(st.kernel.n, 5);
	assert_true(st.kernel.min == 3000.0 && st.kernel.max == 7000.0);
	assert_true(st.device_total.median == 5150.0);
	assert_true(st.kernel_bytes == 1e6 && st.chunks == 2 && st.pinned);
	assert_string_equal(st.kernels, "walk");
	tg_state_result_fini(&st);

	/* an error stops it and is reported */
	memset(&st, 0, sizeof(st));
	fake_runs = 0;
	fake_fail_at = 5;
	struct tg_error err;
	assert_int_equal(tg_harness_measure(&fake_ops, NULL, &p, &b, &o, &ho, &st, &err), TG_E_DEVICE);
	assert_int_equal(st.n_samples, 2);
	assert_string_equal(err.msg, "fake: device lost");
	tg_state_result_fini(&st);

	/* SIGINT (the stop flag) after the 4th run: 2 samples kept */
	memset(&st, 0, sizeof(st));
	fake_runs = 0;
	fake_fail_at = -1;
	fake_stop = 0;
	assert_int_equal(tg_harness_measure(&fake_ops, NULL, &p, &b, &o, &ho, &st, &err),
			 TG_E_INTERRUPTED);
	assert_int_equal(st.n_samples, 2);
	assert_non_null(strstr(err.msg, "interrupted after 2 repetitions"));
	assert_string_equal(st.stop_reason, "interrupted");
	tg_state_result_fini(&st);

	ho.rule.fixed = -1;
	assert_int_equal(tg_harness_measure(&fake_ops, NULL, &p, &b, &o, &ho, &st, &err), TG_E_RANGE);

	/* the stopping rule decides: the fake's samples grow by 1000 ns per run,
	 * so the noise never settles and the sample cap ends it */
	memset(&st, 0, sizeof(st));
	fake_runs = 0;
	fake_fail_at = -1;
	fake_stop = 0;
	ho.stop = NULL;
	tg_stop_rule_default(&ho.rule);
	ho.rule.min_samples = 3;
	ho.rule.max_samples = 12;
	ho.rule.min_time_s = 0;
	assert_int_equal(tg_harness_measure(&fake_ops, NULL, &p, &b, &o, &ho, &st, &err), 0);
	assert_true(st.n_samples >= 3 && st.n_samples <= 12);
	assert_non_null(st.stop_reason);
	assert_true(st.first_run_ns > 0);
	assert_true(st.state_seconds > 0);
	tg_state_result_fini(&st);
}

/* ---- compare ------------------------------------------------------------------ */

static double gauss(uint64_t *st)
{
	double u1 = tg_test_urand(st), u2 = tg_test_urand(st);
	if (u1 < 1e-300)
		u1 = 1e-300;
	return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

static void fill(double *v, int n, double centre, double noise, uint64_t *st)
{
	for (int i = 0; i < n; i++)
		v[i] = centre * (1 + noise * gauss(st));
}

static void test_compare_verdicts(void **state)
{
	(void)state;
	struct tg_compare_opts o;
	tg_compare_opts_default(&o);
	uint64_t st = 99;
	double a[30], b[30];
	struct tg_compare_row row;
	/* a 5% regression with 1% noise is caught (default threshold 3%), in
	 * every one of 50 trials */
	for (int t = 0; t < 50; t++) {
		fill(a, 30, 1e6, 0.01, &st);
		fill(b, 30, 1.05e6, 0.01, &st);
		assert_int_equal(tg_compare_samples(a, 30, b, 30, &o, &row, NULL), 0);
		assert_int_equal(row.verdict, TG_SLOWER);
		assert_true(row.ratio > 1.035 && row.ratio < 1.065 && row.p < 1e-6);
	}
	/* a 2% change is real but under the threshold: not a regression */
	fill(a, 30, 1e6, 0.002, &st);
	fill(b, 30, 1.02e6, 0.002, &st);
	assert_int_equal(tg_compare_samples(a, 30, b, 30, &o, &row, NULL), 0);
	assert_int_equal(row.verdict, TG_SAME);
	assert_non_null(strstr(row.note, "smaller than 3%"));
	/* an 8% improvement */
	fill(b, 30, 0.92e6, 0.01, &st);
	assert_int_equal(tg_compare_samples(a, 30, b, 30, &o, &row, NULL), 0);
	assert_int_equal(row.verdict, TG_FASTER);
	/* pure noise is never flagged: 200 trials of two draws of one distribution */
	int flagged = 0, same = 0;
	for (int t = 0; t < 200; t++) {
		fill(a, 20, 1e6, 0.02, &st);
		fill(b, 20, 1e6, 0.02, &st);
		assert_int_equal(tg_compare_samples(a, 20, b, 20, &o, &row, NULL), 0);
		flagged += row.verdict == TG_SLOWER || row.verdict == TG_FASTER;
		same += row.verdict == TG_SAME;
	}
	print_message("pure noise: %d of 200 flagged, %d same\n", flagged, same);
	assert_int_equal(flagged, 0);
	assert_true(same > 150);
	/* very noisy: cannot tell */
	fill(a, 10, 1e6, 0.3, &st);
	fill(b, 10, 1.1e6, 0.3, &st);
	assert_int_equal(tg_compare_samples(a, 10, b, 10, &o, &row, NULL), 0);
	assert_int_equal(row.verdict, TG_NOISY);
	/* too few samples: not judged, and said so (it was "noisy") */
	assert_int_equal(tg_compare_samples(a, 2, b, 10, &o, &row, NULL), 0);
	assert_int_equal(row.verdict, TG_UNJUDGED);
	assert_string_equal(tg_verdict_name(TG_UNJUDGED), "not judged");
	assert_non_null(strstr(row.note, "too few samples"));
	/* a drift allowance widens the minimum effect: 5% is no longer news at 3% + 4% */
	fill(a, 30, 1e6, 0.01, &st);
	fill(b, 30, 1.05e6, 0.01, &st);
	o.drift = 0.04;
	assert_int_equal(tg_compare_samples(a, 30, b, 30, &o, &row, NULL), 0);
	assert_int_not_equal(row.verdict, TG_SLOWER);
	o.drift = NAN;
	assert_string_equal(tg_verdict_name(TG_SLOWER), "slower");
}

/* The kernel variant make_results gives its state ("" none). */
static const char *results_kernels = "";

/* A run with one state whose samples are centre * (1 + noise), and an
 * unavailable one. */
static struct tg_run_results *make_results(const char *host, int symbols, double centre,
					   uint64_t *st)
{
	static struct tg_run_results runs[8];
	static int k;
	struct tg_run_results *r = &runs[k++ % 8];
	tg_results_fini(r);
	tg_results_init(r);
	snprintf(r->command, sizeof(r->command), "trendgpu-bench run");
	snprintf(r->created_utc, sizeof(r->created_utc), "2026-11-24T00:00:00Z");
	snprintf(r->machine.hostname, sizeof(r->machine.hostname), "%s", host);
	snprintf(r->machine.cpu_model, sizeof(r->machine.cpu_model), "Test CPU");
	r->machine.logical_cpus = 2;
	r->build = tg_build_info();
	tg_results_param_number(r, "symbols", symbols);
	tg_results_param_number(r, "reps", 0);
	struct tg_state_result *s = tg_results_add_state(r);
	snprintf(s->backend, sizeof(s->backend), "cpu");
	snprintf(s->ma_mode, sizeof(s->ma_mode), "exact");
	s->available = true;
	s->n_samples = 25;
	s->samples_ns = malloc(25 * sizeof(double));
	fill(s->samples_ns, 25, centre, 0.01, st);
	tg_stats_compute(s->samples_ns, 25, &s->wall, NULL);
	snprintf(s->kernels, sizeof(s->kernels), "%s", results_kernels);
	struct tg_state_result *u = tg_results_add_state(r);
	snprintf(u->backend, sizeof(u->backend), "cuda");
	snprintf(u->ma_mode, sizeof(u->ma_mode), "exact");
	snprintf(u->error, sizeof(u->error), "no GPU");
	return r;
}

static int compare(const struct tg_run_results *a, const struct tg_run_results *b,
		   const struct tg_compare_opts *o, struct tg_compare *c)
{
	return tg_compare_runs(a, b, "base.json", "new.json", o, c, NULL);
}

static void test_compare_runs(void **state)
{
	(void)state;
	uint64_t st = 5;
	struct tg_compare_opts o;
	tg_compare_opts_default(&o);
	static struct tg_compare c;
	const struct tg_run_results *base = make_results("hostA", 20, 1e6, &st);
	const struct tg_run_results *slow = make_results("hostA", 20, 1.2e6, &st);
	assert_int_equal(compare(base, slow, &o, &c), 0);
	assert_true(c.comparable);
	assert_int_equal(c.n_rows, 2);
	assert_int_equal(c.rows[0].verdict, TG_SLOWER);
	assert_int_equal(c.rows[1].verdict, TG_MISSING); /* cuda unavailable in both */
	assert_int_equal(c.regressions, 1);
	assert_string_equal(c.base_path, "base.json");
	struct tg_sink *m = tg_sink_open_memory();
	assert_int_equal(tg_compare_write_md(&c, m, NULL), 0);
	assert_non_null(strstr(tg_sink_memory_data(m, NULL), "| cpu | exact |"));
	assert_non_null(strstr(tg_sink_memory_data(m, NULL), "**slower**"));
	tg_sink_close(m, NULL);
	m = tg_sink_open_memory();
	assert_int_equal(tg_compare_write_json(&c, m, NULL), 0);
	assert_non_null(strstr(tg_sink_memory_data(m, NULL), "\"verdict\": \"slower\""));
	tg_sink_close(m, NULL);
	/* another host: flagged, not judged */
	const struct tg_run_results *other = make_results("hostB", 20, 1.2e6, &st);
	assert_int_equal(compare(base, other, &o, &c), 0);
	assert_false(c.comparable);
	assert_int_equal(c.regressions, 0);
	assert_true(c.n_flags >= 1);
	assert_non_null(strstr(c.flags[0], "different machine: hostname"));
	/* forced, it counts */
	o.force = 1;
	assert_int_equal(compare(base, other, &o, &c), 0);
	assert_int_equal(c.regressions, 1);
	/* another workload: flagged, naming the values as results.json has them */
	o.force = 0;
	const struct tg_run_results *work = make_results("hostA", 40, 1.2e6, &st);
	assert_int_equal(compare(base, work, &o, &c), 0);
	assert_false(c.comparable);
	assert_string_equal(c.flags[0], "different workload: symbols 20 vs 40");
	/* another kernel variant: flagged, still judged */
	results_kernels = "walk";
	const struct tg_run_results *walked = make_results("hostA", 20, 1.2e6, &st);
	results_kernels = "";
	assert_int_equal(compare(base, walked, &o, &c), 0);
	assert_true(c.comparable);
	assert_int_equal(c.n_flags, 1);
	assert_string_equal(c.flags[0], "different kernels: cpu exact '' vs 'walk'");
	assert_int_equal(c.regressions, 1);
	/* a profiled run against a plain one: refused, saying why, unless asked
	 * (it was taken for a 2.24x regression) */
	struct tg_run_results *prof = make_results("hostA", 20, 2.24e6, &st);
	tg_results_param_text(prof, "profile", "both");
	tg_results_param_number(prof, "sample_hz", 997);
	struct tg_error err;
	assert_int_equal(tg_compare_runs(base, prof, "base.json", "prof.json", &o, &c, &err), TG_E_INVAL);
	assert_non_null(strstr(err.msg, "'base.json' was a plain run and 'prof.json' was profiled with "
					"--profile both"));
	assert_non_null(strstr(err.msg, "--allow-profiled"));
	o.allow_profiled = 1;
	assert_int_equal(compare(base, prof, &o, &c), 0);
	assert_string_equal(c.flags[0], "different profiling: --profile 'none' vs 'both'");
	assert_true(c.comparable);
	/* and the history keeps it in a series of its own */
	char wa[512], wb[512];
	tg_history_workload(base, wa, sizeof(wa));
	tg_history_workload(prof, wb, sizeof(wb));
	assert_string_not_equal(wa, wb);
	assert_non_null(strstr(wb, "profile=both"));
	/* the data's derived facts (the bars' spread, new in a later version)
	 * neither make runs incomparable nor start a new history series */
	o.allow_profiled = 0;
	struct tg_run_results *newer = make_results("hostA", 20, 1.0e6, &st);
	tg_results_param_number(newer, "median_bars", 1500);
	tg_results_param_number(newer, "total_bars", 30000);
	tg_results_param_number(newer, "data_gaps", 3);
	assert_int_equal(compare(base, newer, &o, &c), 0);
	assert_true(c.comparable);
	assert_int_equal(compare(newer, base, &o, &c), 0);
	assert_true(c.comparable);
	tg_history_workload(newer, wb, sizeof(wb));
	assert_string_equal(wa, wb);
	assert_int_equal(tg_param_kind("median_bars"), TG_PARAM_DERIVED);
	assert_int_equal(tg_param_kind("data_last_bars"), TG_PARAM_WORKLOAD);
}

/* A run of cpu and rust x exact and approx, n samples per state in the
 * order taken: centre[k] x factor x (1 + slope x its place in the run) x
 * (1 + 1% noise); the host and workload of make_results. */
static void make_pair_run(struct tg_run_results *r, const double centre[4], double factor,
			  double slope, int n, uint64_t *st)
{
	static const char *const backends[] = {"cpu", "rust"}, *const modes[] = {"exact", "approx"};
	tg_results_init(r);
	snprintf(r->machine.hostname, sizeof(r->machine.hostname), "hostA");
	snprintf(r->machine.cpu_model, sizeof(r->machine.cpu_model), "Test CPU");
	r->machine.logical_cpus = 2;
	r->build = tg_build_info();
	tg_results_param_number(r, "symbols", 20);
	for (int k = 0; k < 4; k++) {
		struct tg_state_result *s = tg_results_add_state(r);
		snprintf(s->backend, sizeof(s->backend), "%s", backends[k / 2]);
		snprintf(s->ma_mode, sizeof(s->ma_mode), "%s", modes[k % 2]);
		s->available = true;
		s->n_samples = n;
		s->samples_ns = malloc((size_t)n * sizeof(double));
		for (int i = 0; i < n; i++)
			s->samples_ns[i] = centre[k] * factor * (1 + slope * i / (n - 1)) *
					   (1 + 0.01 * gauss(st));
		tg_stats_compute(s->samples_ns, n, &s->wall, NULL);
	}
}

static int regressions_of(const struct tg_run_results *a, const struct tg_run_results *b,
			  const struct tg_compare_opts *o, struct tg_compare *c)
{
	assert_int_equal(compare(a, b, o, c), 0);
	return c->regressions;
}

static void test_compare_drift(void **state)
{
	(void)state;
	uint64_t st = 77;
	static const double centre[4] = {5.7e6, 1.6e6, 6.0e6, 1.6e6};
	struct tg_compare_opts o;
	tg_compare_opts_default(&o);
	static struct tg_compare c;
	struct tg_run_results a, b;
	/* A/A: the second run of the same program on a machine that drifted
	 * between runs, the whole run x0.9 .. x1.1 (observed: +6% a minute
	 * later). Judged alone, most pairs cry wolf; with the common move put
	 * down to the machine, none does. */
	int alone = 0, together = 0, drift = 0;
	for (int t = 0; t < 100; t++) {
		const double factor = 0.9 + 0.2 * tg_test_urand(&st);
		make_pair_run(&a, centre, 1.0, 0, 30, &st);
		make_pair_run(&b, centre, factor, 0, 30, &st);
		together += regressions_of(&a, &b, &o, &c) > 0;
		drift += c.drifted;
		o.no_common = 1;
		alone += regressions_of(&a, &b, &o, &c) > 0;
		o.no_common = 0;
		tg_results_fini(&a);
		tg_results_fini(&b);
	}
	print_message("A/A with machine drift: %d of 100 flagged judged alone, %d with the common "
		      "move; %d states drift\n",
		      alone, together, drift);
	assert_int_equal(together, 0);
	assert_true(alone > 15); /* the slower quarter or so */
	assert_true(drift > 100);
	/* A/A on a steady machine: nothing flagged, in 100 pairs */
	int flagged = 0;
	for (int t = 0; t < 100; t++) {
		make_pair_run(&a, centre, 1.0, 0, 30, &st);
		make_pair_run(&b, centre, 1.0, 0, 30, &st);
		flagged += regressions_of(&a, &b, &o, &c) > 0;
		tg_results_fini(&a);
		tg_results_fini(&b);
	}
	assert_int_equal(flagged, 0);
	/* a 5% slowdown of one state on a steady machine: caught, every time */
	static const double slow[4] = {5.7e6 * 1.05, 1.6e6, 6.0e6, 1.6e6};
	for (int t = 0; t < 50; t++) {
		make_pair_run(&a, centre, 1.0, 0, 30, &st);
		make_pair_run(&b, slow, 1.0, 0, 30, &st);
		assert_int_equal(regressions_of(&a, &b, &o, &c), 1);
		assert_int_equal(c.rows[0].verdict, TG_SLOWER);
		assert_int_equal(c.n_machine, 0);
		tg_results_fini(&a);
		tg_results_fini(&b);
	}
	/* a 15% slowdown of the C backend while the machine went 8% slower:
	 * caught beyond the machine's move; rust is drift */
	static const double cslow[4] = {5.7e6 * 1.15, 1.6e6 * 1.15, 6.0e6, 1.6e6};
	make_pair_run(&a, centre, 1.0, 0, 30, &st);
	make_pair_run(&b, cslow, 1.08, 0, 30, &st);
	assert_int_equal(regressions_of(&a, &b, &o, &c), 2);
	assert_int_equal(c.n_machine, 2); /* exact and approx */
	assert_true(fabs(c.machine_factor[0] - 1.08) < 0.02 && fabs(c.machine_factor[1] - 1.08) < 0.02);
	assert_int_equal(c.rows[0].verdict, TG_SLOWER);
	assert_non_null(strstr(c.rows[0].note, "beyond the machine's"));
	assert_int_equal(c.rows[2].verdict, TG_DRIFT);
	assert_int_equal(c.drifted, 2);
	struct tg_sink *m = tg_sink_open_memory();
	assert_int_equal(tg_compare_write_md(&c, m, NULL), 0);
	assert_non_null(strstr(tg_sink_memory_data(m, NULL), "every backend's exact state moved together, x1.0"));
	assert_non_null(strstr(tg_sink_memory_data(m, NULL), "2 regressions, 0 improvements, 2 drift"));
	tg_sink_close(m, NULL);
	tg_results_fini(&a);
	tg_results_fini(&b);
	/* a busier machine (another tenant on one of 2 CPUs, measured so):
	 * the exact states x1.82 / x1.93, the approx ones x1.60 / x1.73 -- each
	 * mode's states moved together, though the modes moved apart: drift,
	 * no regression (judged by backend, rust exact read 'x1.127 beyond') */
	static const double busy[4] = {5.7e6 * 1.82, 1.6e6 * 1.60, 6.0e6 * 1.93, 1.6e6 * 1.73};
	make_pair_run(&a, centre, 1.0, 0, 30, &st);
	make_pair_run(&b, busy, 1.0, 0, 30, &st);
	assert_int_equal(regressions_of(&a, &b, &o, &c), 0);
	assert_int_equal(c.drifted, 4);
	assert_true(fabs(c.machine_factor[0] - 1.82) < 0.03 && fabs(c.machine_factor[1] - 1.60) < 0.03);
	tg_results_fini(&a);
	tg_results_fini(&b);
	/* a run that drifted 10% while it ran: its own drift widens the minimum
	 * effect, so a 6% difference is no regression */
	make_pair_run(&a, centre, 1.0, 0.10, 40, &st);
	make_pair_run(&b, slow, 1.06 / 1.05, 0.10, 40, &st);
	o.no_common = 1;
	assert_int_equal(regressions_of(&a, &b, &o, &c), 0);
	assert_true(c.base_drift > 0.05 && c.base_drift < 0.15);
	assert_true(c.min_effect > 0.08);
	assert_non_null(strstr(c.drift_source, "the runs' own drift"));
	o.no_common = 0;
	tg_results_fini(&a);
	tg_results_fini(&b);
	/* a state with 2 samples is not judged, and counted */
	make_pair_run(&a, centre, 1.0, 0, 30, &st);
	make_pair_run(&b, centre, 1.0, 0, 30, &st);
	b.states[3].n_samples = 2;
	assert_int_equal(compare(&a, &b, &o, &c), 0);
	assert_int_equal(c.unjudged, 1);
	assert_int_equal(c.rows[3].verdict, TG_UNJUDGED);
	m = tg_sink_open_memory();
	assert_int_equal(tg_compare_write_md(&c, m, NULL), 0);
	assert_non_null(strstr(tg_sink_memory_data(m, NULL), "1 not judged (too few samples)"));
	assert_non_null(strstr(tg_sink_memory_data(m, NULL), "**not judged**"));
	tg_sink_close(m, NULL);
	m = tg_sink_open_memory();
	assert_int_equal(tg_compare_write_json(&c, m, NULL), 0);
	assert_non_null(strstr(tg_sink_memory_data(m, NULL), "\"not_judged\": 1"));
	tg_sink_close(m, NULL);
	tg_results_fini(&a);
	tg_results_fini(&b);
}

/* ---- history ----------------------------------------------------------------- */

static void history_run(struct tg_run_results *r, const char *host, double centre, uint64_t *st)
{
	tg_results_init(r);
	snprintf(r->created_utc, sizeof(r->created_utc), "2026-11-24T00:00:00Z");
	snprintf(r->run_dir, sizeof(r->run_dir), "profiles/run-%g", centre);
	snprintf(r->machine.hostname, sizeof(r->machine.hostname), "%s", host);
	r->build = tg_build_info();
	r->complete = true;
	tg_results_param_number(r, "symbols", 20);
	tg_results_param_number(r, "reps", 7); /* not part of the workload */
	struct tg_state_result *s = tg_results_add_state(r);
	snprintf(s->backend, sizeof(s->backend), "cpu");
	snprintf(s->ma_mode, sizeof(s->ma_mode), "exact");
	s->available = true;
	s->n_samples = 12;
	s->samples_ns = malloc(12 * sizeof(double));
	fill(s->samples_ns, 12, centre, 0.01, st);
	tg_stats_compute(s->samples_ns, 12, &s->wall, NULL);
	s->stop_reason = "noise";
}

static void test_history_round_trip(void **state)
{
	(void)state;
	char path[512];
	snprintf(path, sizeof(path), "%s/history.db", tmpdir);
	struct tg_history *h;
	struct tg_error err;
	/* reading a history that is not there creates nothing */
	assert_true(tg_history_open(path, false, &h, &err) < 0);
	assert_non_null(strstr(err.msg, "history.db"));
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(tg_history_open(path, true, &h, &err), 0);
	uint64_t st = 11;
	int64_t ids[6];
	for (int i = 0; i < 6; i++) {
		struct tg_run_results r;
		history_run(&r, "hostA", i < 3 ? 1e6 : 1.3e6, &st);
		assert_int_equal(tg_history_append(h, &r, "recorded", &ids[i], &err), 0);
		tg_results_fini(&r);
	}
	struct tg_run_results other;
	history_run(&other, "hostB", 5e6, &st);
	int64_t other_id;
	assert_int_equal(tg_history_append(h, &other, "recorded", &other_id, &err), 0);
	char workload[512];
	tg_history_workload(&other, workload, sizeof(workload));
	assert_string_equal(workload, "symbols=20");
	tg_results_fini(&other);
	assert_int_equal(tg_history_set_status(h, ids[1], "good", &err), 0);
	assert_int_equal(tg_history_set_status(h, 9999, "good", &err), TG_E_RANGE);
	tg_history_close(h);
	/* read back in a new connection */
	assert_int_equal(tg_history_open(path, false, &h, &err), 0);
	struct tg_history_series *v;
	int n;
	assert_int_equal(tg_history_load(h, NULL, NULL, 0, &v, &n, &err), 0);
	assert_int_equal(n, 2); /* one series per host */
	const struct tg_history_series *a = strcmp(v[0].hostname, "hostA") == 0 ? &v[0] : &v[1];
	assert_int_equal(a->n_points, 6);
	assert_true(a->points[0].run_id == ids[0] && a->points[5].run_id == ids[5]);
	assert_true(fabs(a->points[4].median / 1.3e6 - 1) < 0.02);
	assert_string_equal(a->points[1].status, "good");
	/* the change point between run 3 and run 4 */
	double x[6];
	for (int i = 0; i < 6; i++)
		x[i] = a->points[i].median;
	int splits[4];
	assert_int_equal(tg_change_points(x, 6, 0.05, 4.0, 2, splits, 4), 1);
	assert_int_equal(splits[0], 3);
	tg_history_series_free(v, n);
	assert_int_equal(tg_history_load(h, "symbols=20", "hostA", 2, &v, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(v[0].n_points, 2);
	assert_true(v[0].points[1].run_id == ids[5]);
	tg_history_series_free(v, n);
	/* the drift of this workload from its history: 5 pairs of calm runs
	 * (1e6 x3, 1.3e6 x3: one real step among them) */
	double allowance;
	int pairs;
	assert_int_equal(tg_history_drift(h, "symbols=20", "hostA", NULL, false, 5, &allowance,
					  &pairs, &err), 0);
	assert_int_equal(pairs, 5);
	assert_true(allowance > 0 && allowance < 0.15); /* the step barely moves it */
	/* the run being judged is left out; too few pairs say so */
	assert_int_equal(tg_history_drift(h, "symbols=20", "hostA", "profiles/run-1e+06", false, 5,
					  &allowance, &pairs, &err), TG_E_RANGE);
	assert_non_null(strstr(err.msg, "needed to calibrate the drift"));
	assert_int_equal(tg_history_drift(h, "symbols=20", "hostB", NULL, false, 5, &allowance,
					  &pairs, &err), TG_E_RANGE);
	assert_int_equal(pairs, 0);
	char dir[256];
	assert_int_equal(tg_history_last_good(h, "symbols=20", "hostA", ids[5], dir, sizeof(dir), &err), 0);
	assert_string_equal(dir, "profiles/run-1e+06");
	assert_int_equal(tg_history_last_good(h, "symbols=20", "hostB", 0, dir, sizeof(dir), &err),
			 TG_E_RANGE);
	tg_history_close(h);
	/* not a database */
	const char *junk = write_file("junk.db", "this is not sqlite, not at all, not even close....\n");
	assert_true(tg_history_open(junk, true, &h, &err) < 0);
	assert_non_null(strstr(err.msg, "junk.db"));
	assert_non_null(strstr(err.msg, "not an SQLite database"));
	/* an SQLite database of another program: refused, never written to */
	char other_db[512];
	snprintf(other_db, sizeof(other_db), "%s/other.db", tmpdir);
	char cmd[700];
	snprintf(cmd, sizeof(cmd), "python3 -c \"import sqlite3; c = sqlite3.connect('%s'); "
				   "c.execute('create table t(x)'); c.commit()\"", other_db);
	assert_int_equal(system(cmd), 0);
	struct stat before, after;
	assert_int_equal(stat(other_db, &before), 0);
	assert_true(tg_history_open(other_db, true, &h, &err) < 0);
	assert_non_null(strstr(err.msg, "not a trendgpu-bench history"));
	assert_int_equal(stat(other_db, &after), 0);
	assert_true(before.st_size == after.st_size && before.st_mtime == after.st_mtime);
	/* an empty database is a history only when asked to create one */
	const char *empty = write_file("empty.db", "");
	assert_true(tg_history_open(empty, false, &h, &err) < 0);
	assert_non_null(strstr(err.msg, "not a trendgpu-bench history"));
	assert_int_equal(tg_history_open(empty, true, &h, &err), 0);
	tg_history_close(h);
}

int main(void)
{
	tg_log_set_level(TG_LOG_ERROR);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_synthetic_deterministic),
		cmocka_unit_test(test_csv_bad_inputs),
		cmocka_unit_test(test_csv_nul_and_missing),
		cmocka_unit_test(test_csv_good_file),
		cmocka_unit_test(test_csv_directory),
		cmocka_unit_test(test_time_parse),
		cmocka_unit_test(test_csv_times),
		cmocka_unit_test(test_csv_selection),
		cmocka_unit_test(test_csv_layouts),
		cmocka_unit_test(test_csv_timeframe),
		cmocka_unit_test(test_accuracy_decision),
		cmocka_unit_test(test_accuracy_slots),
		cmocka_unit_test(test_accuracy_merge),
		cmocka_unit_test(test_accuracy_matches_cases_json),
		cmocka_unit_test(test_harness_counts_and_stats),
		cmocka_unit_test(test_compare_verdicts),
		cmocka_unit_test(test_compare_runs),
		cmocka_unit_test(test_compare_drift),
		cmocka_unit_test(test_history_round_trip),
	};
	return cmocka_run_group_tests_name("bench", tests, make_tmpdir, NULL);
}
