/* flame/: the report writers against golden files (TG_UPDATE_GOLDEN=1
 * rewrites them), the Chrome trace
 * writer (golden file + the nesting/flow validator), GPU-aware flame
 * graphs from hand-built captures. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tg_capture.h"
#include "tg_flame.h"
#include "tg_phase.h"
#include "tg_render.h"
#include "tg_report.h"
#include "tg_test.h"
#include "tg_trace.h"
#include "tg_trace_check.h"

static char *render(int (*fn)(const struct tg_run_results *, struct tg_sink *, struct tg_error *),
		    const struct tg_run_results *r)
{
	struct tg_sink *s = tg_sink_open_memory();
	struct tg_error err;
	if (fn(r, s, &err) < 0)
		fail_msg("%s", err.msg);
	char *out = strdup(tg_sink_memory_data(s, NULL));
	tg_sink_close(s, NULL);
	return out;
}

static void golden(const char *name, const char *text)
{
	tg_test_golden("report", name, text);
}

static void golden_flame(const char *name, const char *text)
{
	tg_test_golden("flame", name, text);
}

static void test_summary_and_table(void **state)
{
	(void)state;
	struct tg_run_results r;
	tg_test_results_fixture(&r, true);
	char *md = render(tg_report_summary_md, &r);
	golden("summary.md", md);
	assert_non_null(strstr(md, "| cpu | exact | 2 | 4 ms |"));
	assert_non_null(strstr(md, "| cuda | exact | - | unavailable: no CUDA driver"));
	assert_non_null(strstr(md, "| cpu | 4 ms | 1 ms | 4.00x |"));
	assert_non_null(strstr(md, "| cuda | approx | 400 us | 300 us | 50 us | 150 us | 40 us | 2000.0 | 32.0 | 40.0 | 1 | yes |"));
	assert_non_null(strstr(md, "Device of cuda: Test GPU (sm_90)."));
	free(md);
	char *table = render(tg_report_table, &r);
	golden("table.txt", table);
	assert_non_null(strstr(table, "paired over 3 rounds"));
	assert_non_null(strstr(table, "cpu approx is 4.00x [3.99, 4.00] faster than cpu exact"));
	assert_non_null(strstr(table, "cuda approx and cpu approx: no clear difference"));
	assert_non_null(strstr(table, "warning: noisy: cuda approx"));
	assert_non_null(strstr(table, "cuda approx device: total 300 us = H2D 50 us + kernels 150 us + D2H 40 us; kernels 2000.0 GB/s"));
	free(table);
	tg_results_fini(&r);

	tg_test_results_fixture(&r, false);
	md = render(tg_report_summary_md, &r);
	assert_non_null(strstr(md, "**Incomplete run**: interrupted by SIGINT"));
	free(md);
	/* a profile whose threads only waited: sampled, no samples, and why */
	r.profile.enabled = true;
	r.profile.sampled = true;
	r.profile.idle_skipped = 498;
	snprintf(r.profile.mode, sizeof(r.profile.mode), "cpu");
	md = render(tg_report_summary_md, &r);
	assert_non_null(strstr(md, "### CPU samples\n\n0 samples"));
	assert_non_null(strstr(md, "idle skipped 498,"));
	assert_non_null(strstr(md, "No samples: every tick found the program's threads waiting"));
	free(md);
	tg_results_fini(&r);
}

static void test_formatting(void **state)
{
	(void)state;
	char b[32];
	tg_format_duration(1234.0, b, sizeof(b));
	assert_string_equal(b, "1.23 us");
	tg_format_duration(2.5e9, b, sizeof(b));
	assert_string_equal(b, "2.5 s");
	tg_format_duration(NAN, b, sizeof(b));
	assert_string_equal(b, "-");
	tg_format_rate(1.5e9, b, sizeof(b));
	assert_string_equal(b, "1.5 G");
	tg_format_rate(12, b, sizeof(b));
	assert_string_equal(b, "12");
}

/* ---- flame graphs ---- */

static const char *const sample_folded =
	"main;run;compute;ema 40\n"
	"main;run;compute;wma 25\n"
	"main;run;compute 5\n"
	"main;run;io;write 10\n"
	"main;idle 20\n";

static struct tg_flame *parse(const char *text)
{
	struct tg_flame *f = tg_flame_new();
	struct tg_error err;
	if (tg_flame_parse_folded(f, text, strlen(text), "test", &err) < 0)
		fail_msg("%s", err.msg);
	return f;
}

static char *render_flame(int (*fn)(const struct tg_flame *, struct tg_sink *, struct tg_error *),
			  const struct tg_flame *f)
{
	struct tg_sink *s = tg_sink_open_memory();
	assert_int_equal(fn(f, s, NULL), 0);
	char *out = strdup(tg_sink_memory_data(s, NULL));
	tg_sink_close(s, NULL);
	return out;
}

static int write_svg_default(const struct tg_flame *f, struct tg_sink *s, struct tg_error *e)
{
	struct tg_flame_svg_opts o = {"Test profile", "a subtitle", "samples", 800, 0};
	return tg_flame_write_svg(f, &o, s, e);
}

static int write_top_default(const struct tg_flame *f, struct tg_sink *s, struct tg_error *e)
{
	return tg_flame_write_top(f, "samples", 0, s, e);
}

static void test_folded_round_trip(void **state)
{
	(void)state;
	struct tg_flame *f = parse("main;idle 20\n\nmain;run;compute;wma 25\r\nmain;run;compute;ema 40\n"
				   "main;run;io;write 10\nmain;run;compute 5\nmain;idle 0\n");
	assert_true(tg_flame_total(f) == 100);
	char *out = render_flame(tg_flame_write_folded, f);
	/* merged and sorted by name at every level */
	assert_string_equal(out, "main;idle 20\nmain;run;compute 5\nmain;run;compute;ema 40\n"
				 "main;run;compute;wma 25\nmain;run;io;write 10\n");
	struct tg_flame *g = parse(out);
	char *again = render_flame(tg_flame_write_folded, g);
	assert_string_equal(out, again);
	/* the same stack twice merges */
	assert_int_equal(tg_flame_parse_folded(g, "main;idle 5\n", 12, "more", NULL), 0);
	char *merged = render_flame(tg_flame_write_folded, g);
	assert_non_null(strstr(merged, "main;idle 25\n"));
	free(out);
	free(again);
	free(merged);
	tg_flame_free(f);
	tg_flame_free(g);
}

static void expect_parse_error_n(const char *text, size_t len, int code, const char *needle)
{
	struct tg_flame *f = tg_flame_new();
	struct tg_error err;
	tg_error_clear(&err);
	assert_int_equal(tg_flame_parse_folded(f, text, len, "in.folded", &err), code);
	if (!strstr(err.msg, needle))
		fail_msg("'%s' lacks '%s'", err.msg, needle);
	tg_flame_free(f);
}

static void expect_parse_error(const char *text, const char *needle)
{
	struct tg_flame *f = tg_flame_new();
	struct tg_error err;
	tg_error_clear(&err);
	assert_int_equal(tg_flame_parse_folded(f, text, strlen(text), "in.folded", &err), TG_E_PARSE);
	if (!strstr(err.msg, needle))
		fail_msg("'%s' lacks '%s'", err.msg, needle);
	tg_flame_free(f);
}

static void test_folded_errors_and_names(void **state)
{
	(void)state;
	expect_parse_error("a;b 1\na;b\n", "in.folded:2: expected 'frame;frame;... count'");
	expect_parse_error("a;b 1\n\na;b 12x\n", "in.folded:3: count '12x'");
	expect_parse_error("a;b -3\n", "count '-3'");
	expect_parse_error("   7\n", "in.folded:1: empty stack");
	/* a NUL byte inside a frame name (it read past the name's block) */
	static const char nul[] = "a;b 1\nu;start_thread;start_thread\0\0\0\0;w 1\n";
	expect_parse_error_n(nul, sizeof(nul) - 1, TG_E_PARSE, "in.folded:2: a NUL byte");
	/* counts past 2^64: one count, and a sum (it wrapped to "1 samples") */
	expect_parse_error("main;foo 18446744073709551616\n", "count '18446744073709551616'");
	expect_parse_error("main;foo 99999999999999999999\n", "is not an integer 0..2^64-1");
	expect_parse_error_n("main;foo 18446744073709551615\nmain;bar 2\n", 41, TG_E_RANGE,
			     "the counts sum past 2^64");
	struct tg_flame *big = parse("main;foo 18446744073709551615\n");
	assert_true(tg_flame_total(big) == UINT64_MAX);
	tg_flame_free(big);
	/* empty frame names do not make a stack that cannot be read back */
	expect_parse_error(";;; 5\n", "in.folded:1: an empty frame name (frame 1)");
	expect_parse_error("a;;b 5\n", "an empty frame name (frame 2)");
	expect_parse_error("a;b; 5\n", "an empty frame name (frame 3)");
	/* perf's stackcollapse names keep their spaces and annotations */
	struct tg_flame *f = parse("perf-1234;[unknown];do_syscall_64_[k] 3\nfoo bar (inlined);baz 2\n");
	char *out = render_flame(tg_flame_write_folded, f);
	assert_non_null(strstr(out, "foo bar (inlined);baz 2"));
	free(out);
	tg_flame_free(f);
	/* names with ';' and line breaks are sanitised when added */
	f = tg_flame_new();
	const char *stack[] = {"root", "operator<(a;b)", "line\nbreak"};
	assert_int_equal(tg_flame_add(f, stack, 3, 2, NULL), 0);
	out = render_flame(tg_flame_write_folded, f);
	assert_string_equal(out, "root;operator<(a:b);line break 2\n");
	free(out);
	char *svg = render_flame(write_svg_default, f);
	assert_non_null(strstr(svg, "operator&lt;(a:b)"));
	assert_null(strstr(svg, "operator<("));
	free(svg);
	tg_flame_free(f);
}

static void test_flame_golden(void **state)
{
	(void)state;
	struct tg_flame *f = parse(sample_folded);
	char *svg = render_flame(write_svg_default, f);
	golden_flame("flame.svg", svg);
	assert_non_null(strstr(svg, "<title>compute (70 samples, 70.00%)</title>"));
	assert_non_null(strstr(svg, "function search("));
	assert_non_null(strstr(svg, "function zoom("));
	free(svg);
	char *top = render_flame(write_top_default, f);
	golden_flame("top.txt", top);
	/* total counts compute once per sample; self only at the leaf */
	assert_non_null(strstr(top, "            70   70.00%              5    5.00%  compute"));
	free(top);
	/* differential: wma grew, ema shrank */
	struct tg_flame *after = parse("main;run;compute;ema 20\nmain;run;compute;wma 60\n"
				       "main;run;compute 5\nmain;idle 15\n");
	struct tg_sink *s = tg_sink_open_memory();
	struct tg_flame_svg_opts o = {"diff", NULL, "samples", 800, 0};
	assert_int_equal(tg_flame_write_diff_svg(f, after, &o, s, NULL), 0);
	const char *diff = tg_sink_memory_data(s, NULL);
	golden_flame("diff.svg", diff);
	assert_non_null(strstr(diff, "<title>wma (before 25 samples, 25.00%; after 60, 60.00%; +35.00 points)</title>"));
	assert_non_null(strstr(diff, "data-n=\"wma\" data-f=\"rgb(255,0,0)\""));
	/* ema fell 20 points of the largest change's 35: lighter blue */
	assert_non_null(strstr(diff, "data-n=\"ema\" data-f=\"rgb(90,90,255)\""));
	tg_sink_close(s, NULL);
	tg_flame_free(after);
	tg_flame_free(f);
}

static char *svg_with(const struct tg_flame *f, const struct tg_flame *before,
		      const struct tg_flame_svg_opts *o)
{
	struct tg_sink *s = tg_sink_open_memory();
	if (before)
		assert_int_equal(tg_flame_write_diff_svg(before, f, o, s, NULL), 0);
	else
		assert_int_equal(tg_flame_write_svg(f, o, s, NULL), 0);
	char *out = strdup(tg_sink_memory_data(s, NULL));
	tg_sink_close(s, NULL);
	return out;
}

/* The y of the frame titled name (its rect follows the title). */
static double frame_y(const char *svg, const char *name)
{
	char key[256];
	snprintf(key, sizeof(key), "<title>%s (", name);
	const char *t = strstr(svg, key);
	assert_non_null(t);
	const char *y = strstr(t, " y=\"");
	assert_non_null(y);
	return atof(y + 4);
}

/* Flame graphs at flamegraph.pl's level: icicle, minimum width, subtitle,
 * palettes by kind of code, readable text on any fill, the view in the URL. */
static void test_flame_views(void **state)
{
	(void)state;
	struct tg_flame *f = parse("main;run;tg_cpu_ema 30\nmain;run;tg_atc_rs::ma::ema 60\n"
				   "main;run;cudaLaunchKernel;[gpu] atc_kernel 9\nmain;tiny 1\n");
	struct tg_flame_svg_opts o = {"T", "my subtitle", "samples", 1000, 0.1, false, TG_PALETTE_LANG};
	char *flame = svg_with(f, NULL, &o);
	o.inverted = true;
	char *icicle = svg_with(f, NULL, &o);
	/* flame: the root below its children; icicle: above them */
	assert_true(frame_y(flame, "main") > frame_y(flame, "run"));
	assert_true(frame_y(icicle, "main") < frame_y(icicle, "run"));
	assert_non_null(strstr(icicle, "data-inverted=\"1\""));
	assert_non_null(strstr(flame, ">my subtitle</text>"));
	/* the buttons and the view kept in the URL fragment */
	assert_non_null(strstr(flame, "id=\"invert\""));
	assert_non_null(strstr(flame, "id=\"icase\""));
	assert_non_null(strstr(flame, "history.replaceState"));
	assert_non_null(strstr(flame, "new RegExp(term, ic ? 'i' : '')"));
	/* the language palette: C warm, Rust orange-brown, CUDA runtime green */
	char want[128];
	const struct {
		const char *name;
		int kind; /* 0 C: g < 231 and b < 56; 1 Rust: r >= 200, 120 <= g < 171, 40 <= b < 71; 2 CUDA: g >= 190 */
	} k[] = {{"tg_cpu_ema", 0}, {"tg_atc_rs::ma::ema", 1}, {"cudaLaunchKernel", 2}};
	for (size_t i = 0; i < 3; i++) {
		snprintf(want, sizeof(want), "<g data-n=\"%s\" data-f=\"rgb(", k[i].name);
		const char *c = strstr(flame, want);
		assert_non_null(c);
		int r, g, b;
		assert_int_equal(sscanf(c + strlen(want), "%d,%d,%d", &r, &g, &b), 3);
		if (k[i].kind == 0)
			assert_true(r >= 205 && b < 56);
		else if (k[i].kind == 1)
			assert_true(r >= 200 && g >= 120 && g < 171 && b >= 40 && b < 71);
		else
			assert_true(g >= 190 && b < 101);
	}
	/* --minwidth: a frame narrower than it is left out */
	o.inverted = false;
	o.min_px = 20; /* "tiny" is 1% of 980 px */
	char *wide = svg_with(f, NULL, &o);
	assert_null(strstr(wide, "<title>tiny ("));
	assert_non_null(strstr(flame, "<title>tiny ("));
	/* a diff that shrinks a frame to nothing: the darkest blue gets white text */
	struct tg_flame *before = parse("main;run;tg_cpu_ema 90\nmain;other 10\n");
	struct tg_flame *after = parse("main;run;tg_cpu_ema 1\nmain;other 99\n");
	o.min_px = 0.1;
	char *diff = svg_with(after, before, &o);
	const char *ema = strstr(diff, "<g data-n=\"tg_cpu_ema\" data-f=\"rgb(");
	assert_non_null(ema);
	int r, g, b;
	assert_int_equal(sscanf(ema + strlen("<g data-n=\"tg_cpu_ema\" data-f=\"rgb("), "%d,%d,%d", &r, &g, &b), 3);
	assert_true(b == 255 && r < 60); /* shrank the most: deep blue */
	const char *text = strstr(ema, "<text ");
	assert_non_null(text);
	assert_true(strncmp(strstr(text, "y=\""), "y=\"", 3) == 0);
	assert_non_null(strstr(text, "fill=\"#fff\""));
	assert_true(strstr(text, "fill=\"#fff\"") < strstr(text, "</text>"));
	/* a light red one keeps black text */
	const char *other = strstr(diff, "<g data-n=\"other\"");
	assert_non_null(other);
	const char *otext = strstr(other, "<text ");
	assert_true(strstr(otext, "fill=\"#fff\"") == NULL || strstr(otext, "fill=\"#fff\"") > strstr(otext, "</text>"));
	free(flame);
	free(icicle);
	free(wide);
	free(diff);
	tg_flame_free(f);
	tg_flame_free(before);
	tg_flame_free(after);
}

static void test_flame_edge_cases(void **state)
{
	(void)state;
	/* empty */
	struct tg_flame *f = tg_flame_new();
	char *svg = render_flame(write_svg_default, f);
	assert_non_null(strstr(svg, "no samples"));
	assert_non_null(strstr(svg, "</svg>"));
	free(svg);
	char *top = render_flame(write_top_default, f);
	assert_non_null(strstr(top, "no samples"));
	free(top);
	char *folded = render_flame(tg_flame_write_folded, f);
	assert_string_equal(folded, "");
	free(folded);
	tg_flame_free(f);
	/* 3000 frames deep, plus recursion: total counts once per sample */
	f = tg_flame_new();
	const char **deep = malloc(3000 * sizeof(char *));
	for (int i = 0; i < 3000; i++)
		deep[i] = i % 2 ? "recurse" : "helper";
	assert_int_equal(tg_flame_add(f, deep, 3000, 7, NULL), 0);
	free(deep);
	top = render_flame(write_top_default, f);
	assert_non_null(strstr(top, "             7  100.00%              7  100.00%  recurse"));
	free(top);
	svg = render_flame(write_svg_default, f);
	assert_true(strlen(svg) > 3000 * 100);
	free(svg);
	folded = render_flame(tg_flame_write_folded, f);
	assert_true(strlen(folded) > 3000 * 6);
	free(folded);
	tg_flame_free(f);
	/* invalid UTF-8 never reaches the SVG */
	f = tg_flame_new();
	const char *bad[] = {"ok", "bad\xff\xfe name", "\xc3\xa9t\xc3\xa9"};
	assert_int_equal(tg_flame_add(f, bad, 3, 1, NULL), 0);
	svg = render_flame(write_svg_default, f);
	assert_non_null(strstr(svg, "bad?? name"));
	assert_non_null(strstr(svg, "\xc3\xa9t\xc3\xa9"));
	free(svg);
	tg_flame_free(f);
}

/* ---- the unified timeline ------------------------------------------------------ */

static void ev(struct tg_capture *c, int kind, const char *name, uint64_t start, uint64_t end,
	       uint32_t tid, uint32_t stream, uint32_t corr)
{
	struct tg_event e = {0};
	e.kind = (uint8_t)kind;
	e.name = tg_capture_intern(c, name);
	e.start_ns = start;
	e.end_ns = end;
	e.pid = 1000;
	e.tid = tid;
	e.stream = stream;
	e.correlation = corr;
	if (kind == TG_EV_RUNTIME) {
		e.domain = tg_capture_intern(c, "runtime");
		e.cbid = 211;
	}
	if (kind == TG_EV_MEMCPY) {
		e.sub = TG_COPY_HTOD;
		e.bytes = 8000000;
	}
	if (kind == TG_EV_KERNEL) {
		e.grid[0] = 40;
		e.grid[1] = e.grid[2] = 1;
		e.block[0] = 256;
		e.block[1] = e.block[2] = 1;
		e.regs = 32;
	}
	assert_int_equal(tg_capture_add_event(c, &e), 0);
}

/* A small run: NVTX ranges around launches, a copy and two kernels on a
 * stream, a sync, an async range, a mark, overlapping NVTX ranges (a lane),
 * a slice 1 us past its parent (clamped), a kernel without its launch. */
static struct tg_capture *timeline_capture(void)
{
	struct tg_capture *c = tg_capture_new();
	c->pid = 1000;
	c->start_ns = 1000000;
	c->end_ns = 2000000;
	tg_capture_set_thread(c, 1000, 0xABCD, "trendgpu-bench");
	tg_capture_set_thread(c, 1001, 0, "tg-cpu-0");
	struct tg_capture_device d = {0, tg_capture_intern(c, "NVIDIA H100"), 132, 9, 0, 80ull << 30, 0};
	tg_capture_set_device(c, &d);
	ev(c, TG_EV_RANGE, "cuda exact rep 1", 1100000, 1900000, 1000, 0, 0);
	ev(c, TG_EV_RANGE, "cuda: upload \"prices\"", 1110000, 1200000, 1000, 0, 0);
	ev(c, TG_EV_RUNTIME, "cudaMemcpyAsync", 1120000, 1130000, 0xABCD, 0, 10);
	ev(c, TG_EV_MEMCPY, "memcpy HtoD", 1125000, 1145000, 0, 7, 10);
	ev(c, TG_EV_RUNTIME, "cudaLaunchKernel", 1210000, 1215000, 1000, 0, 11);
	ev(c, TG_EV_KERNEL, "_Z10atc_kernelPKdPdi", 1220000, 1400000, 0, 7, 11);
	ev(c, TG_EV_RUNTIME, "cudaLaunchKernel", 1216000, 1218000, 1000, 0, 12);
	ev(c, TG_EV_KERNEL, "_Z10atc_layersPdi", 1400000, 1500000, 0, 7, 12);
	ev(c, TG_EV_KERNEL, "_Z6orphanv", 1500000, 1510000, 0, 8, 99);
	ev(c, TG_EV_RUNTIME, "cudaStreamSynchronize", 1300000, 1600000, 1000, 0, 13);
	ev(c, TG_EV_SYNC, "cudaStreamSynchronize", 1300500, 1599500, 0, 7, 13);
	/* 1 us past the end of the rep range: clamped */
	ev(c, TG_EV_RANGE, "cuda: download", 1850000, 1901000, 1000, 0, 0);
	/* crossing by 50 us: a lane of its own */
	ev(c, TG_EV_RANGE, "late range", 1880000, 1950000, 1000, 0, 0);
	ev(c, TG_EV_MARK, "checkpoint", 1700000, 1700000, 1000, 0, 0);
	ev(c, TG_EV_RANGE, "cpu: EMA MAs", 1100000, 1150000, 1001, 0, 0);
	struct tg_event a = {.kind = TG_EV_ASYNC, .name = tg_capture_intern(c, "batch in flight"),
			     .domain = tg_capture_intern(c, "trendgpu-bench"), .start_ns = 1100000,
			     .end_ns = 1800000, .pid = 1000, .tid = 1000, .bytes = 5};
	tg_capture_add_event(c, &a);
	tg_capture_set_meta(c, "cupti.version", "130001");
	tg_capture_count(c, "cupti.dropped_records", 0);
	tg_capture_set_tag(c, 0, "main");
	tg_capture_set_tag(c, 1, "cuda");
	tg_capture_sort(c);
	return c;
}

static char *trace_text(const struct tg_capture *c, struct tg_symbolizer *sym,
			struct tg_trace_stats *st)
{
	struct tg_sink *s = tg_sink_open_memory();
	struct tg_trace_opts o = {"trendgpu-bench run", sym, 0};
	struct tg_error err;
	assert_int_equal(tg_trace_write(c, &o, s, st, &err), 0);
	size_t len = 0;
	char *text = strdup(tg_sink_memory_data(s, &len));
	tg_sink_close(s, NULL);
	return text;
}

static void test_trace_golden(void **state)
{
	(void)state;
	struct tg_capture *c = timeline_capture();
	struct tg_trace_stats st;
	char *text = trace_text(c, NULL, &st);
	tg_test_golden("trace", "basic.json", text);
	struct tg_trace_check_stats cs;
	char why[512];
	if (tg_trace_check(text, strlen(text), &cs, why, sizeof(why)) < 0)
		fail_msg("the trace fails validation: %s", why);
	assert_int_equal(st.flows, 3);
	assert_int_equal(cs.flows, 3);
	assert_int_equal(st.unmatched, 1);
	assert_int_equal(st.clamped, 1);
	assert_int_equal(st.lanes, 1);
	assert_int_equal(st.counters, 2);
	assert_int_equal(cs.instants, 1);
	/* the sync and the API call reported with CUPTI's pthread id sit on
	 * the OS thread; kernel names are demangled; strings escaped */
	assert_non_null(strstr(text, "\"pid\":1000,\"tid\":1000,\"ts\":120.000,\"dur\":10.000,\"cat\":\"cuda_api\""));
	assert_non_null(strstr(text, "\"cat\":\"sync\""));
	assert_non_null(strstr(text, "\"name\":\"atc_kernel\""));
	assert_non_null(strstr(text, "\"mangled\":\"_Z10atc_kernelPKdPdi\""));
	assert_non_null(strstr(text, "\"name\":\"cuda: upload \\\"prices\\\"\""));
	assert_non_null(strstr(text, "\"GPU 0: NVIDIA H100 (sm_90, 132 SMs)\""));
	assert_non_null(strstr(text, "\"trace.unmatched_correlations\":1"));
	/* Perfetto shows only "metadata": the data-quality counters are there */
	assert_non_null(strstr(text, "\n\"metadata\":{\"tool\":"));
	assert_non_null(strstr(text, "\"data_quality.trace.unmatched_correlations\":1"));
	assert_non_null(strstr(text, "\"data_quality.cupti.dropped_records\":0"));
	free(text);
	tg_capture_free(c);
}

__attribute__((noinline)) static int sample_leaf(int x)
{
	return x * 3 + 1;
}

__attribute__((noinline)) static int sample_root(int x)
{
	return sample_leaf(x) + 2;
}

/* Each sample slice as the importers nest it must be a start of one of
 * the stacks ("cpu;sample_root;sample_leaf" and its parents). */
static int right_way_up(void *ctx, const char *path, double dur_us)
{
	(void)dur_us;
	int *wrong = ctx;
	const char *want = "cpu;sample_root;sample_leaf";
	const size_t n = strlen(path);
	if (strncmp(want, path, n) != 0 || (want[n] != ';' && want[n] != '\0')) {
		fprintf(stderr, "upside down: %s\n", path);
		++*wrong;
	}
	return 0;
}

static void test_trace_samples(void **state)
{
	(void)state;
	struct tg_capture *c = tg_capture_new();
	c->pid = 1000;
	c->sample_period_ns = 1000000;
	tg_capture_set_tag(c, 0, "cpu");
	const uint64_t a[] = {(uint64_t)(uintptr_t)sample_leaf + 1, (uint64_t)(uintptr_t)sample_root + 8};
	const uint64_t b[] = {(uint64_t)(uintptr_t)sample_root + 1};
	uint32_t sa = tg_capture_add_stack(c, a, 2), sb = tg_capture_add_stack(c, b, 1);
	for (int i = 0; i < 10; i++) {
		struct tg_capture_sample s = {1000000ull * (uint64_t)(i + 1), 1000, 0, 0, i < 6 ? sa : sb};
		tg_capture_add_sample(c, &s);
	}
	/* a second thread, after an idle gap */
	struct tg_capture_sample s2 = {50000000, 1001, 0, 0, sa};
	tg_capture_add_sample(c, &s2);
	tg_capture_sort(c);
	struct tg_symbolizer *sym;
	struct tg_error err;
	assert_int_equal(tg_symbolizer_new(NULL, &sym, &err), 0);
	struct tg_trace_stats st;
	char *text = trace_text(c, sym, &st);
	struct tg_trace_check_stats cs;
	char why[512];
	if (tg_trace_check(text, strlen(text), &cs, why, sizeof(why)) < 0)
		fail_msg("the trace fails validation: %s", why);
	/* root frame "cpu" for the whole run of samples, sample_root inside,
	 * sample_leaf for the first six samples only; each slice ends a
	 * microsecond before what follows it begins (speedscope reopens a
	 * same-named frame first at an equal instant) */
	assert_non_null(strstr(text, "\"ts\":0.000,\"dur\":9999.000,\"cat\":\"sample\",\"name\":\"cpu\""));
	assert_non_null(strstr(text, "\"ts\":0.000,\"dur\":9999.000,\"cat\":\"sample\",\"name\":\"sample_root\""));
	assert_non_null(strstr(text, "\"ts\":0.000,\"dur\":5999.000,\"cat\":\"sample\",\"name\":\"sample_leaf\""));
	/* the second thread's sample, after an idle gap, lasts one period */
	assert_non_null(strstr(text, "\"ts\":49000.000,\"dur\":999.000,\"cat\":\"sample\",\"name\":\"cpu\""));
	assert_non_null(strstr(text, "CPU samples"));
	assert_int_equal(cs.max_depth, 3);
	/* frames that open and close together (cpu and sample_root span the
	 * same 10 ms): the caller must come first in the file */
	int wrong = 0;
	if (tg_trace_sample_paths(text, strlen(text), right_way_up, &wrong, why, sizeof(why)) < 0)
		fail_msg("%s", why);
	assert_int_equal(wrong, 0);
	free(text);
	tg_symbolizer_free(sym);
	tg_capture_free(c);
}

/* profile.speedscope.json: a profile per thread and state, samples in
 * the order they were taken, weighed by the measured intervals (the
 * sampler fell behind: 3 ms apart at a requested 1 ms). */
static void test_speedscope(void **state)
{
	(void)state;
	struct tg_capture *c = tg_capture_new();
	c->pid = 1000;
	c->start_ns = 0;
	c->sample_period_ns = 1000000;
	tg_capture_set_tag(c, 0, "cpu exact");
	tg_capture_set_tag(c, 1, "rust exact");
	tg_capture_set_thread(c, 1001, 0, "worker-1");
	const uint64_t a[] = {(uint64_t)(uintptr_t)sample_leaf + 1, (uint64_t)(uintptr_t)sample_root + 8};
	const uint64_t b[] = {(uint64_t)(uintptr_t)sample_root + 1};
	const uint32_t sa = tg_capture_add_stack(c, a, 2), sb = tg_capture_add_stack(c, b, 1);
	const struct {
		double ms;
		int tid, tag;
		uint32_t stack;
	} in[] = {{1, 1000, 0, 0}, {2, 1000, 0, 1}, {3, 1000, 0, 0}, {6, 1000, 1, 0},
		  {9, 1000, 1, 1}, {1.5, 1001, 0, 0}, {2.5, 1001, 0, 0}};
	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		struct tg_capture_sample sm = {(uint64_t)(in[i].ms * 1e6), in[i].tid, in[i].tag, 0,
					       in[i].stack ? sb : sa};
		tg_capture_add_sample(c, &sm);
	}
	tg_capture_sort(c);
	struct tg_symbolizer *sym;
	struct tg_error err;
	assert_int_equal(tg_symbolizer_new(NULL, &sym, &err), 0);
	struct tg_sink *s = tg_sink_open_memory();
	if (tg_speedscope_write(c, sym, s, &err) < 0)
		fail_msg("%s", err.msg);
	const char *text = tg_sink_memory_data(s, NULL);
	json_error_t je;
	json_t *root = json_loads(text, 0, &je);
	assert_non_null(root);
	assert_string_equal(json_string_value(json_object_get(root, "$schema")),
			    "https://www.speedscope.app/file-format-schema.json");
	json_t *frames = json_object_get(json_object_get(root, "shared"), "frames");
	assert_int_equal(json_array_size(frames), 2); /* sample_root, sample_leaf */
	for (size_t k = 0; k < 2; k++) {
		json_t *fr = json_array_get(frames, k);
		const char *file = json_string_value(json_object_get(fr, "file"));
		if (file) /* built with debug information */
			assert_non_null(strstr(file, "test_flame.c"));
	}
	json_t *profs = json_object_get(root, "profiles");
	assert_int_equal(json_array_size(profs), 3);
	const struct {
		const char *name;
		size_t n;
		double start, w[3];
		size_t depth[3];
	} want[] = {{"cpu exact: main (1000)", 3, 1e6, {1e6, 1e6, 3e6}, {2, 1, 2}},
		    {"cpu exact: worker-1 (1001)", 2, 1.5e6, {1e6, 1e6, 0}, {2, 2, 0}},
		    {"rust exact: main (1000)", 2, 6e6, {3e6, 3e6, 0}, {2, 1, 0}}};
	for (size_t i = 0; i < 3; i++) {
		json_t *pr = json_array_get(profs, i);
		assert_string_equal(json_string_value(json_object_get(pr, "name")), want[i].name);
		assert_string_equal(json_string_value(json_object_get(pr, "type")), "sampled");
		assert_string_equal(json_string_value(json_object_get(pr, "unit")), "nanoseconds");
		json_t *samples = json_object_get(pr, "samples"), *weights = json_object_get(pr, "weights");
		assert_int_equal(json_array_size(samples), want[i].n);
		assert_int_equal(json_array_size(weights), want[i].n);
		double sum = 0;
		for (size_t k = 0; k < want[i].n; k++) {
			/* in time order: the second sample of main/cpu is the short stack */
			assert_int_equal(json_array_size(json_array_get(samples, k)), want[i].depth[k]);
			assert_true(json_number_value(json_array_get(weights, k)) == want[i].w[k]);
			sum += want[i].w[k];
		}
		const double start = json_number_value(json_object_get(pr, "startValue"));
		assert_true(start == want[i].start);
		assert_true(json_number_value(json_object_get(pr, "endValue")) == start + sum);
	}
	json_decref(root);
	tg_sink_close(s, NULL);
	tg_symbolizer_free(sym);
	tg_capture_free(c);
}

/* The phase table: each backend's samples by MA mode and phase, weighed
 * by their measured intervals, GPU work by the launching thread's phase. */
static void test_phase_table(void **state)
{
	(void)state;
	struct tg_capture *c = tg_capture_new();
	c->pid = 1000;
	c->sample_period_ns = 1000000;
	tg_capture_set_tag(c, 0, "main");
	tg_capture_set_tag(c, 1, "cpu");
	tg_capture_set_tag(c, 2, "cuda");
	const uint64_t pcs[] = {(uint64_t)(uintptr_t)sample_leaf + 1};
	const uint32_t st = tg_capture_add_stack(c, pcs, 1);
	/* cpu, thread 1001: 3 ms EMA MAs, 1 ms KAMA signals, exact; 2 ms approx
	 * HMA MAs; a sample outside every phase (not in the table) */
	const struct {
		int ms;
		uint32_t phase;
	} in[] = {{1, TG_PHASE_MAS + 0},
		  {2, TG_PHASE_MAS + 0},
		  {3, TG_PHASE_MAS + 0},
		  {4, TG_PHASE_SIGNALS + 5},
		  {5, (TG_PHASE_MAS + 1) | TG_PHASE_APPROX},
		  {6, (TG_PHASE_MAS + 1) | TG_PHASE_APPROX},
		  {7, 0}};
	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		struct tg_capture_sample sm = {(uint64_t)in[i].ms * 1000000, 1001, 1, in[i].phase << 16, st};
		tg_capture_add_sample(c, &sm);
	}
	/* cuda: two kernels of 40 and 60 us launched in the EMA fused kernel phase */
	struct tg_launch l1 = {100, 21, 1000, 2, st, TG_PHASE_FUSED + 0}, l2 = {200, 22, 1000, 2, st,
									     TG_PHASE_FUSED + 0};
	tg_capture_add_launch(c, &l1);
	tg_capture_add_launch(c, &l2);
	ev(c, TG_EV_KERNEL, "k", 1000, 41000, 0, 7, 21);
	ev(c, TG_EV_KERNEL, "k", 50000, 110000, 0, 7, 22);
	tg_capture_sort(c);
	struct tg_profile_info info;
	memset(&info, 0, sizeof(info));
	struct tg_error err;
	assert_int_equal(tg_phase_table(c, &info, &err), 0);
	assert_int_equal(info.n_phases, 4);
	const struct tg_phase_row *r = info.phases;
	assert_string_equal(r[0].backend, "cpu");
	assert_int_equal(r[0].phase, TG_PHASE_MAS + 0);
	assert_int_equal(r[0].samples, 3);
	assert_true(fabs(r[0].cpu_ms - 3.0) < 1e-9);
	assert_true(fabs(r[0].cpu_share - 0.75) < 1e-12); /* of the 4 exact samples */
	assert_int_equal(r[1].phase, TG_PHASE_SIGNALS + 5);
	assert_int_equal(r[2].phase, (TG_PHASE_MAS + 1) | TG_PHASE_APPROX);
	assert_true(fabs(r[2].cpu_share - 1.0) < 1e-12);
	assert_string_equal(r[3].backend, "cuda");
	assert_int_equal(r[3].gpu_count, 2);
	assert_true(fabs(r[3].gpu_ms - 0.1) < 1e-9);
	assert_true(fabs(r[3].gpu_median_us - 60.0) < 1e-9);
	/* pivoted: a row per mode and phase, a column per backend */
	static struct tg_phase_pivot pv;
	tg_report_phase_pivot(&info, &pv);
	assert_int_equal(pv.rows, 4);
	assert_int_equal(pv.n_backends, 2);
	assert_int_equal(pv.phase[0], TG_PHASE_MAS + 0);
	assert_int_equal(pv.phase[1], TG_PHASE_SIGNALS + 5);
	assert_int_equal(pv.phase[2], TG_PHASE_FUSED + 0);
	assert_int_equal(pv.phase[3], (TG_PHASE_MAS + 1) | TG_PHASE_APPROX);
	assert_int_equal(pv.cell[2][0], -1);
	char text[160];
	tg_report_phase_cell(&info.phases[pv.cell[0][0]], text, sizeof(text));
	assert_string_equal(text, "3.0 ms (75%)");
	tg_report_phase_cell(&info.phases[pv.cell[2][1]], text, sizeof(text));
	assert_string_equal(text, "0.10 ms GPU (2 x, median 60 us)");
	char label[96];
	tg_phase_label(pv.phase[1], label, sizeof(label));
	assert_string_equal(label, "KAMA crossovers, Layer 1, Layer 2");
	tg_capture_free(c);
}

static void expect_invalid(const char *json, const char *want)
{
	struct tg_trace_check_stats cs;
	char why[512] = "";
	assert_int_equal(tg_trace_check(json, strlen(json), &cs, why, sizeof(why)), -1);
	if (!strstr(why, want))
		fail_msg("expected '%s' in: %s", want, why);
}

static void test_trace_validator_rejects(void **state)
{
	(void)state;
	const char *named = "{\"ph\":\"M\",\"pid\":1,\"tid\":2,\"name\":\"thread_name\",\"args\":{\"name\":\"t\"}}";
	char buf[1024];
	expect_invalid("{\"traceEvents\":[", "not JSON");
	expect_invalid("{\"events\":[]}", "no traceEvents");
	snprintf(buf, sizeof(buf),
		 "{\"traceEvents\":[%s,{\"ph\":\"X\",\"pid\":1,\"tid\":2,\"ts\":0,\"dur\":10,\"name\":\"a\"},"
		 "{\"ph\":\"X\",\"pid\":1,\"tid\":2,\"ts\":5,\"dur\":10,\"name\":\"b\"}]}",
		 named);
	expect_invalid(buf, "crosses the end");
	expect_invalid("{\"traceEvents\":[{\"ph\":\"X\",\"pid\":1,\"tid\":2,\"ts\":0,\"dur\":10,\"name\":\"a\"}]}",
		       "no thread_name");
	snprintf(buf, sizeof(buf),
		 "{\"traceEvents\":[%s,{\"ph\":\"X\",\"pid\":1,\"tid\":2,\"ts\":0,\"dur\":10,\"name\":\"a\"},"
		 "{\"ph\":\"s\",\"pid\":1,\"tid\":2,\"ts\":5,\"id\":7,\"cat\":\"launch\"}]}",
		 named);
	expect_invalid(buf, "1 starts and 0 finishes");
	snprintf(buf, sizeof(buf),
		 "{\"traceEvents\":[%s,{\"ph\":\"X\",\"pid\":1,\"tid\":2,\"ts\":0,\"dur\":10,\"name\":\"a\"},"
		 "{\"ph\":\"s\",\"pid\":1,\"tid\":2,\"ts\":50,\"id\":7,\"cat\":\"launch\"},"
		 "{\"ph\":\"f\",\"bp\":\"e\",\"pid\":1,\"tid\":2,\"ts\":5,\"id\":7,\"cat\":\"launch\"}]}",
		 named);
	expect_invalid(buf, "not inside a slice");
	expect_invalid("{\"traceEvents\":[{\"ph\":\"X\",\"pid\":-1,\"tid\":2,\"ts\":0,\"dur\":1,\"name\":\"a\"}]}",
		       "outside 0..2^32-1");
	expect_invalid("{\"traceEvents\":[{\"ph\":\"X\",\"pid\":1,\"tid\":2,\"ts\":-3,\"dur\":1,\"name\":\"a\"}]}",
		       "ts missing or negative");
	expect_invalid("{\"traceEvents\":[{\"ph\":\"C\",\"pid\":1,\"tid\":0,\"ts\":1,\"name\":\"bw\",\"args\":{\"v\":\"x\"}}]}",
		       "not a number");
}

static void test_gpu_flame(void **state)
{
	(void)state;
	struct tg_capture *c = tg_capture_new();
	c->pid = 1000;
	c->sample_period_ns = 1000;
	tg_capture_set_tag(c, 0, "main");
	tg_capture_set_tag(c, 1, "cuda");
	const uint64_t pcs[] = {(uint64_t)(uintptr_t)sample_leaf + 1, (uint64_t)(uintptr_t)sample_root + 8};
	uint32_t st = tg_capture_add_stack(c, pcs, 2);
	struct tg_launch l = {10, 11, 1000, 1, st};
	tg_capture_add_launch(c, &l);
	ev(c, TG_EV_KERNEL, "_Z3fooPd", 100, 4100, 0, 7, 11);
	ev(c, TG_EV_KERNEL, "_Z3fooPd", 5000, 7000, 0, 7, 11);
	ev(c, TG_EV_MEMCPY, "memcpy HtoD", 8000, 8500, 0, 7, 42);
	struct tg_capture_sample smp = {50, 1000, 1, 0, st};
	tg_capture_add_sample(c, &smp);
	tg_capture_sort(c);
	struct tg_symbolizer *sym;
	struct tg_error err;
	assert_int_equal(tg_symbolizer_new(NULL, &sym, &err), 0);
	struct tg_flame *f = tg_flame_new();
	assert_int_equal(tg_flame_add_gpu(f, c, sym, -1, true, &err), 0);
	struct tg_sink *s = tg_sink_open_memory();
	assert_int_equal(tg_flame_write_folded(f, s, &err), 0);
	const char *text = tg_sink_memory_data(s, NULL);
	/* kernel time in ns under the launching stack, root first */
	assert_non_null(strstr(text, "cuda;sample_root;sample_leaf;[gpu] foo 6000\n"));
	assert_non_null(strstr(text, "[untagged];[launch stack not captured];[gpu] memcpy HtoD 500\n"));
	tg_sink_close(s, NULL);
	tg_flame_free(f);
	/* per tag, and combined with samples weighed by the period */
	f = tg_flame_new();
	assert_int_equal(tg_flame_add_samples(f, c, sym, 1, true, (uint64_t)c->sample_period_ns, &err), 0);
	assert_int_equal(tg_flame_add_gpu(f, c, sym, 1, true, &err), 0);
	assert_int_equal(tg_flame_total(f), 1000 + 6000);
	tg_flame_free(f);
	tg_symbolizer_free(sym);
	tg_capture_free(c);
}

static void test_demangle_basic(void **state)
{
	(void)state;
	static const char *const cases[][2] = {
		{"_Z14atc_hma_approx12tg_cuda_plan13tg_cuda_chunk", "atc_hma_approx"},
		{"_Z3fooPd", "foo"},
		{"_ZN2tg4cuda6launchEv", "tg::cuda::launch"},
		{"_ZNK3foo3barEv", "foo::bar"},
		{"_ZNSt6vectorIiSaIiEE9push_backERKi", "std::vector"},
		{"_ZN9tg_atc_rs8pipeline10run_symbol17h0123456789abcdefE", "tg_atc_rs::pipeline::run_symbol"},
		{"_Z6kernelIfEvPT_", "kernel"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *d = tg_demangle_basic(cases[i][0]);
		assert_non_null(d);
		assert_string_equal(d, cases[i][1]);
		free(d);
	}
	assert_null(tg_demangle_basic("main"));
	assert_null(tg_demangle_basic("_Z"));
	assert_null(tg_demangle_basic("_Z99short"));
	assert_null(tg_demangle_basic(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_summary_and_table),
		cmocka_unit_test(test_formatting),
		cmocka_unit_test(test_folded_round_trip),
		cmocka_unit_test(test_folded_errors_and_names),
		cmocka_unit_test(test_flame_golden),
		cmocka_unit_test(test_flame_edge_cases),
		cmocka_unit_test(test_flame_views),
		cmocka_unit_test(test_speedscope),
		cmocka_unit_test(test_trace_golden),
		cmocka_unit_test(test_trace_samples),
		cmocka_unit_test(test_phase_table),
		cmocka_unit_test(test_trace_validator_rejects),
		cmocka_unit_test(test_gpu_flame),
		cmocka_unit_test(test_demangle_basic),
	};
	return cmocka_run_group_tests_name("flame", tests, NULL, NULL);
}
