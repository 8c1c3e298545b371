/* report.html: one self-contained page per run. Inline CSS, inline SVG
 * charts, flame graphs embedded as data: images; no script, no network,
 * so it reads the same in any browser, offline, with JavaScript off. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tg_phase.h"
#include "tg_report.h"

static void base64(struct tg_sink *s, const unsigned char *d, size_t n)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char out[4];
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)d[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)d[i + 1] << 8;
		if (i + 2 < n)
			v |= d[i + 2];
		out[0] = tab[v >> 18 & 63];
		out[1] = tab[v >> 12 & 63];
		out[2] = i + 1 < n ? tab[v >> 6 & 63] : '=';
		out[3] = i + 2 < n ? tab[v & 63] : '=';
		tg_sink_write(s, out, 4);
	}
}

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *buf = n > 0 ? malloc((size_t)n) : NULL;
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	*len = buf ? (size_t)n : 0;
	return buf;
}

static const char css[] =
	"body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1180px;color:#222;"
	"padding:0 16px}h1{font-size:22px}h2{font-size:18px;margin-top:28px;border-bottom:1px solid "
	"#ddd}table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ddd;padding:3px "
	"8px;text-align:right}th{background:#f4f4f4}td.l,th.l{text-align:left}.meta{color:#555}"
	".bad{color:#b00}.ok{color:#070}figure{margin:12px 0}figcaption{color:#555;font-size:12px}"
	"img.flame{width:100%;border:1px solid #ddd}svg text{font:11px system-ui,sans-serif}"
	"table.acc td{white-space:nowrap}tr.chance td{background:#fde8e8;color:#b00}p.note{color:#555;font-size:12px;max-width:900px}";

/* Horizontal bars of median wall time per state, whiskers at the 95%
 * interval of the median. */
static void bar_chart(const struct tg_run_results *r, struct tg_sink *s)
{
	double max = 0;
	int n = 0;
	for (int i = 0; i < r->n_states; i++)
		if (r->states[i].available && r->states[i].n_samples) {
			double hi = r->states[i].wall.ci_hi > r->states[i].wall.median ? r->states[i].wall.ci_hi
										  : r->states[i].wall.median;
			max = hi > max ? hi : max;
			n++;
		}
	if (!n || !(max > 0))
		return;
	const int w = 900, left = 150, bar = 22, gap = 8, h = n * (bar + gap) + 30;
	tg_sink_printf(s, "<figure><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
			  "role=\"img\" aria-label=\"median time per state\">",
		       w, h);
	int row = 0;
	for (int i = 0; i < r->n_states; i++) {
		const struct tg_state_result *st = &r->states[i];
		if (!st->available || !st->n_samples)
			continue;
		const double scale = (w - left - 120) / max;
		const int y = row * (bar + gap) + 4;
		const double bw = st->wall.median * scale;
		const char *colour = strcmp(st->ma_mode, "approx") == 0 ? "#8fb8de" : "#3a78b5";
		char med[32];
		tg_format_duration(st->wall.median, med, sizeof(med));
		tg_sink_printf(s, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">", left - 6, y + 15);
		tg_sink_put_xml(s, st->backend);
		tg_sink_printf(s, " %s</text><rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\"/>",
			       st->ma_mode, left, y, bw > 1 ? bw : 1, bar, colour);
		if (st->wall.ci_lo == st->wall.ci_lo)
			tg_sink_printf(s, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\" stroke=\"#222\"/>",
				       left + st->wall.ci_lo * scale, left + st->wall.ci_hi * scale,
				       y + bar / 2, y + bar / 2);
		tg_sink_printf(s, "<text x=\"%.1f\" y=\"%d\">%s</text>",
			       left + (st->wall.ci_hi > st->wall.median ? st->wall.ci_hi : st->wall.median) * scale + 6,
			       y + 15, med);
		row++;
	}
	tg_sink_printf(s, "<text x=\"%d\" y=\"%d\" fill=\"#555\">median wall time (end-to-end, hot); "
			  "line: 95%% interval of the median</text></svg></figure>\n",
		       left, h - 6);
}

/* Stacked H2D / kernels / D2H of device states. */
static void split_chart(const struct tg_run_results *r, struct tg_sink *s)
{
	int n = 0;
	double max = 0;
	for (int i = 0; i < r->n_states; i++) {
		const struct tg_state_result *st = &r->states[i];
		if (st->available && st->kernel.n > 0) {
			double t = st->h2d_ns + st->kernel_ns + st->d2h_ns;
			max = t > max ? t : max;
			n++;
		}
	}
	if (!n || !(max > 0))
		return;
	tg_sink_puts(s, "<h3>Device time split</h3>");
	const int w = 900, left = 150, bar = 22, gap = 8, h = n * (bar + gap) + 30;
	tg_sink_printf(s, "<figure><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
			  "role=\"img\" aria-label=\"device time split\">",
		       w, h);
	int row = 0;
	for (int i = 0; i < r->n_states; i++) {
		const struct tg_state_result *st = &r->states[i];
		if (!st->available || st->kernel.n <= 0)
			continue;
		const double scale = (w - left - 40) / max;
		const int y = row * (bar + gap) + 4;
		const double parts[3] = {st->h2d_ns, st->kernel_ns, st->d2h_ns};
		const char *colours[3] = {"#e39b3b", "#3a78b5", "#6aa84f"};
		tg_sink_printf(s, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">", left - 6, y + 15);
		tg_sink_put_xml(s, st->backend);
		tg_sink_printf(s, " %s</text>", st->ma_mode);
		double x = left;
		for (int k = 0; k < 3; k++) {
			tg_sink_printf(s, "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\"/>",
				       x, y, parts[k] * scale, bar, colours[k]);
			x += parts[k] * scale;
		}
		row++;
	}
	tg_sink_printf(s, "<text x=\"%d\" y=\"%d\" fill=\"#555\">orange H2D, blue kernels, green D2H "
			  "(medians; with several chunks they overlap)</text></svg></figure>\n",
		       left, h - 6);
}

static void trend_chart(const struct tg_report_trend *t, struct tg_sink *s)
{
	if (t->n < 2)
		return;
	double lo = INFINITY, hi = 0;
	for (int i = 0; i < t->n; i++) {
		lo = t->median[i] < lo ? t->median[i] : lo;
		hi = t->median[i] > hi ? t->median[i] : hi;
	}
	if (!(hi > 0))
		return;
	if (hi - lo < hi * 0.02) { /* a flat line: give it some room */
		lo *= 0.98;
		hi *= 1.02;
	}
	const int w = 420, h = 140, pad = 30;
	tg_sink_printf(s, "<figure style=\"display:inline-block\"><svg xmlns=\"http://www.w3.org/2000/svg\" "
			  "width=\"%d\" height=\"%d\" role=\"img\" aria-label=\"trend\"><polyline fill=\"none\" "
			  "stroke=\"#3a78b5\" stroke-width=\"2\" points=\"",
		       w, h);
	for (int i = 0; i < t->n; i++)
		tg_sink_printf(s, "%.1f,%.1f ", pad + (double)i * (w - 2 * pad) / (t->n - 1),
			       h - pad - (t->median[i] - lo) / (hi - lo) * (h - 2 * pad));
	char a[32], b[32];
	tg_format_duration(lo, a, sizeof(a));
	tg_format_duration(hi, b, sizeof(b));
	tg_sink_printf(s, "\"/><text x=\"2\" y=\"%d\">%s</text><text x=\"2\" y=\"14\">%s</text>"
			  "</svg><figcaption>",
		       h - pad, a, b);
	tg_sink_put_xml(s, t->backend);
	tg_sink_printf(s, " %s: median over the last %d runs (oldest left)</figcaption></figure>\n",
		       t->ma, t->n);
}

static void timing_table(const struct tg_run_results *r, struct tg_sink *s)
{
	tg_sink_puts(s, "<table><tr><th class=l>backend</th><th class=l>MA</th><th>threads</th>"
			"<th>n</th><th>median</th><th>95% CI</th><th>min</th><th>max</th><th>rel "
			"stddev</th><th>bars/s</th><th>ns / bar&middot;MA</th><th class=l>stopped by</th></tr>\n");
	for (int i = 0; i < r->n_states; i++) {
		const struct tg_state_result *st = &r->states[i];
		tg_sink_puts(s, "<tr><td class=l>");
		tg_sink_put_xml(s, st->backend);
		tg_sink_printf(s, "</td><td class=l>%s</td>", st->ma_mode);
		if (!st->available) {
			tg_sink_puts(s, "<td colspan=10 class=\"l bad\">unavailable: ");
			tg_sink_put_xml(s, st->error);
			tg_sink_puts(s, "</td></tr>\n");
			continue;
		}
		char med[32], lo[32], hi[32], mn[32], mx[32], bps[32];
		tg_format_rate(tg_report_bars_per_s(st), bps, sizeof(bps));
		tg_format_duration(st->wall.median, med, sizeof(med));
		tg_format_duration(st->wall.ci_lo, lo, sizeof(lo));
		tg_format_duration(st->wall.ci_hi, hi, sizeof(hi));
		tg_format_duration(st->wall.min, mn, sizeof(mn));
		tg_format_duration(st->wall.max, mx, sizeof(mx));
		tg_sink_printf(s, "<td>%d</td><td>%lld</td><td>%s</td><td>%s .. %s</td><td>%s</td><td>%s</td>"
				  "<td>%.2f%%</td><td>%s</td><td>%.3g</td><td class=l>%s</td></tr>\n",
			       st->threads, (long long)st->wall.n, med, lo, hi, mn, mx,
			       100 * st->wall.rel_stddev, bps, tg_report_ns_per_bar_ma(st),
			       st->stop_reason ? st->stop_reason : "-");
	}
	tg_sink_puts(s, "</table>\n");
	char tnote[256];
	if (tg_report_throughput_note(r, tnote, sizeof(tnote))) {
		tg_sink_puts(s, "<p class=note>");
		tg_sink_put_xml(s, tnote);
		tg_sink_puts(s, ".</p>\n");
	}
}

static void accuracy_tables(const struct tg_run_results *r, struct tg_sink *s)
{
	if (!r->n_accuracy && !r->n_agreement)
		return;
	tg_sink_puts(s, "<h2>Accuracy and agreement</h2>\n");
	for (int i = 0; i < r->n_accuracy; i++) {
		const struct tg_accuracy *a = &r->accuracy[i];
		char who[160];
		int nb;
		if (!tg_report_accuracy_label(r, i, who, sizeof(who), &nb))
			continue;
		tg_sink_puts(s, "<h3>approx vs exact: ");
		tg_sink_put_xml(s, who);
		if (nb > 1)
			tg_sink_puts(s, ": identical");
		tg_sink_puts(s, "</h3><table class=acc><tr>");
		for (int k = 0; k < TG_REPORT_FAMILY_CELLS; k++) {
			tg_sink_puts(s, tg_report_family_text[k] ? "<th class=l>" : "<th>");
			tg_sink_put_xml(s, tg_report_family_heads[k]);
			tg_sink_puts(s, "</th>");
		}
		tg_sink_puts(s, "</tr>\n");
		for (int f = 0; f < TG_RESULTS_FAMILIES; f++) {
			struct tg_report_family_row row;
			tg_report_family_row(r, a, f, &row);
			tg_sink_puts(s, row.chance ? "<tr class=chance>" : "<tr>");
			for (int k = 0; k < TG_REPORT_FAMILY_CELLS; k++) {
				tg_sink_puts(s, tg_report_family_text[k] ? "<td class=l>" : "<td>");
				tg_sink_put_xml(s, row.cell[k]);
				tg_sink_puts(s, "</td>");
			}
			tg_sink_puts(s, "</tr>\n");
		}
		tg_sink_puts(s, "</table>\n<p class=note>");
		tg_sink_put_xml(s, tg_report_accuracy_note);
		tg_sink_puts(s, ".</p>\n");
		if (a->family[0].n_slots > 0) {
			tg_sink_puts(s, "<table class=acc><tr><th class=l>MA error against each exact slot "
					"(shortest first)</th>");
			for (int k = 0; k < a->family[0].n_slots; k++)
				tg_sink_printf(s, "<th>slot %d</th>", k + 1);
			tg_sink_puts(s, "</tr>\n");
			for (int f = 0; f < TG_RESULTS_FAMILIES; f++) {
				const struct tg_family_accuracy *fa = &a->family[f];
				tg_sink_puts(s, "<tr><td class=l>");
				tg_sink_put_xml(s, tg_report_family_name(r, f));
				tg_sink_puts(s, "</td>");
				for (int k = 0; k < fa->n_slots; k++) {
					char cell[48];
					tg_report_slot_cell(fa, k, cell, sizeof(cell));
					tg_sink_puts(s, "<td>");
					tg_sink_put_xml(s, cell);
					tg_sink_puts(s, "</td>");
				}
				tg_sink_puts(s, "</tr>\n");
			}
			tg_sink_puts(s, "</table>\n");
		}
		tg_sink_printf(s, "<p>Average_Signal: sign agreement %.2f%%, max |&Delta;| %.3g</p>\n",
			       100 * a->avg_sign_agreement, a->avg_max_abs_diff);
		if (a->symbols > 0) {
			char dec[2048];
			tg_report_decision_text(a, dec, sizeof(dec));
			tg_sink_puts(s, "<p><b>The decision</b> (LONG / SHORT / none at the last bar) "
					"differs in ");
			tg_sink_put_xml(s, dec);
			tg_sink_printf(s, "; per bar: %.2f%% of bars.</p>\n", 100 * a->bars_differing);
		}
	}
	if (r->n_agreement) {
		tg_sink_puts(s, "<table><tr><th class=l>backend</th><th class=l>vs</th><th class=l>MA"
				"</th><th>max |&Delta; Average_Signal|</th><th>sign agreement</th></tr>\n");
		for (int i = 0; i < r->n_agreement; i++) {
			const struct tg_agreement *g = &r->agreement[i];
			tg_sink_printf(s, "<tr><td class=l>%s</td><td class=l>%s</td><td class=l>%s</td>"
					  "<td class=\"%s\">%.3g</td><td>%.2f%%</td></tr>\n",
				       g->backend, g->reference, g->ma_mode,
				       g->max_abs_diff == 0 ? "ok" : "bad", g->max_abs_diff,
				       100 * g->sign_agreement);
		}
		tg_sink_puts(s, "</table>\n");
	}
}

/* Time per phase, backends side by side (tg_report_phase_pivot). */
static void phase_table(const struct tg_profile_info *p, struct tg_sink *s)
{
	if (!p->n_phases)
		return;
	static struct tg_phase_pivot pv;
	tg_report_phase_pivot(p, &pv);
	tg_sink_puts(s, "<h3>Phases by backend</h3><p class=meta>CPU time from the samples taken in "
			"each phase (measured intervals, summed over threads), share of the "
			"backend's samples in that MA mode; GPU work launched in it.</p>\n"
			"<table><tr><th>mode</th><th>phase</th>");
	for (int b = 0; b < pv.n_backends; b++) {
		tg_sink_puts(s, "<th>");
		tg_sink_put_xml(s, pv.backend[b]);
		tg_sink_puts(s, "</th>");
	}
	tg_sink_puts(s, "</tr>\n");
	for (int i = 0; i < pv.rows; i++) {
		char label[96];
		tg_phase_label(pv.phase[i], label, sizeof(label));
		tg_sink_printf(s, "<tr><td>%s</td><td>", tg_phase_mode(pv.phase[i]));
		tg_sink_put_xml(s, label);
		tg_sink_puts(s, "</td>");
		for (int b = 0; b < pv.n_backends; b++) {
			char c[160] = "";
			if (pv.cell[i][b] >= 0)
				tg_report_phase_cell(&p->phases[pv.cell[i][b]], c, sizeof(c));
			tg_sink_puts(s, "<td class=num>");
			tg_sink_put_xml(s, c);
			tg_sink_puts(s, "</td>");
		}
		tg_sink_puts(s, "</tr>\n");
	}
	tg_sink_puts(s, "</table>\n");
}

static void flames(const struct tg_run_results *r, struct tg_sink *s)
{
	static const struct {
		const char *file, *caption;
	} svgs[] = {
		{"cpu.svg", "CPU samples of every backend (first frame: the backend)"},
		{"gpu.svg", "GPU time under the CPU stacks that launched it"},
		{"combined.svg", "CPU samples and GPU time per backend"},
	};
	bool any = false;
	for (size_t i = 0; i < sizeof(svgs) / sizeof(svgs[0]); i++) {
		char path[1200];
		snprintf(path, sizeof(path), "%s/%s", r->run_dir, svgs[i].file);
		size_t len = 0;
		char *data = read_file(path, &len);
		if (!data)
			continue;
		if (!any)
			tg_sink_puts(s, "<h2>Profile</h2>\n<p>Embedded as pictures (the files next to this "
					"page are interactive: click to zoom, Ctrl-F to search). The "
					"timeline is <a href=\"trace.json\">trace.json</a> "
					"(ui.perfetto.dev).</p>\n");
		any = true;
		tg_sink_printf(s, "<figure><a href=\"%s\"><img class=flame alt=\"%s\" src=\"data:image/svg+xml;base64,",
			       svgs[i].file, svgs[i].file);
		base64(s, (const unsigned char *)data, len);
		tg_sink_printf(s, "\"></a><figcaption>%s (<a href=\"%s\">%s</a>)</figcaption></figure>\n",
			       svgs[i].caption, svgs[i].file, svgs[i].file);
		free(data);
	}
	if (r->profile.enabled) {
		const struct tg_profile_info *p = &r->profile;
		tg_sink_printf(s, "<p class=meta>Profile %s: %llu samples, GPU activity ", p->mode,
			       (unsigned long long)p->samples);
		tg_sink_put_xml(s, p->gpu);
		tg_sink_printf(s, "; %llu trace events.</p>\n", (unsigned long long)p->trace_events);
		if (p->rate_warning[0]) {
			tg_sink_puts(s, "<p class=bad><b>Sampling:</b> ");
			tg_sink_put_xml(s, p->rate_warning);
			tg_sink_puts(s, "</p>\n");
		}
		phase_table(p, s);
	}
}

int tg_report_html(const struct tg_run_results *r, const struct tg_report_trend *trends,
		   int n_trends, struct tg_sink *s, struct tg_error *err)
{
	(void)err;
	tg_sink_printf(s, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
			  "<meta name=\"viewport\" content=\"width=device-width\"><title>trendgpu-bench "
			  "%s %s</title><style>%s</style></head><body>\n",
		       r->kind[0] ? r->kind : "run", r->created_utc, css);
	tg_sink_printf(s, "<h1>trendgpu-bench %s %s</h1>\n<p class=meta><code>", r->kind[0] ? r->kind : "run",
		       r->created_utc);
	tg_sink_put_xml(s, r->command);
	tg_sink_puts(s, "</code><br>");
	tg_sink_put_xml(s, r->machine.cpu_model);
	tg_sink_printf(s, ", %d CPUs, %.1f GiB, ", r->machine.logical_cpus,
		       (double)r->machine.memory_bytes / (1024.0 * 1024.0 * 1024.0));
	tg_sink_put_xml(s, r->machine.os);
	if (r->machine.topo.source[0]) {
		char topo[1024];
		tg_topology_describe(&r->machine.topo, topo, sizeof(topo));
		tg_sink_puts(s, "<br>topology: ");
		tg_sink_put_xml(s, topo);
	}
	if (r->build)
		tg_sink_printf(s, "<br>build %s (%s), %s, %s", r->build->version, r->build->git_commit,
			       r->build->build_type, r->build->c_compiler);
	tg_sink_puts(s, "</p>\n");
	if (!r->complete) {
		tg_sink_puts(s, "<p class=bad><b>Incomplete run:</b> ");
		tg_sink_put_xml(s, r->incomplete_reason);
		tg_sink_puts(s, "</p>\n");
	}
	if (r->n_states) {
		tg_sink_printf(s, "<h2>Timing</h2><p class=meta>%s</p>\n", TG_TIMING_CONTRACT);
		bar_chart(r, s);
		timing_table(r, s);
		for (int i = 0, noisy = 0; i < r->n_states; i++) {
			char why[320];
			if (!tg_report_noisy(&r->states[i], why, sizeof(why)))
				continue;
			if (noisy++ == 0)
				tg_sink_puts(s, "<p class=bad><b>Noisy states</b> (their figures may not "
						"repeat: more repetitions, --pin, or a quieter machine):</p><ul>\n");
			tg_sink_puts(s, "<li>");
			tg_sink_put_xml(s, why);
			tg_sink_puts(s, "</li>\n");
			if (i + 1 == r->n_states)
				tg_sink_puts(s, "</ul>\n");
		}
		if (r->n_ratios > 0) {
			tg_sink_printf(s, "<h2>Paired comparisons</h2><p class=meta>%d rounds of one "
					  "repetition of every state, order rotated each round; median of "
					  "the per-round ratios, 95%% bootstrap interval</p><ul>\n",
				       r->rounds);
			for (int i = 0; i < r->n_ratios; i++) {
				char text[256];
				tg_report_ratio_text(&r->ratios[i], text, sizeof(text));
				tg_sink_puts(s, "<li>");
				tg_sink_put_xml(s, text);
				tg_sink_printf(s, " (%d pairs)</li>\n", r->ratios[i].pairs);
			}
			tg_sink_puts(s, "</ul>\n");
		}
		split_chart(r, s);
		tg_sink_puts(s, "<h2>Roofline</h2><table><tr><th class=l>backend</th><th class=l>MA</th>"
				"<th class=l>contract</th><th>bytes / run</th><th>GB/s</th><th>roof GB/s</th>"
				"<th>% of roof</th></tr>\n");
		for (int i = 0; i < r->n_states; i++) {
			const struct tg_state_result *st = &r->states[i];
			if (!st->available || !st->n_samples)
				continue;
			const bool dev = st->kernel.n > 0;
			double bytes = dev ? st->kernel_bytes : st->bytes_moved;
			double ns = dev ? st->kernel.median : st->wall.median;
			double roof = dev ? r->device_bw : r->host_bw;
			double gbs = ns > 0 ? bytes / ns : NAN;
			tg_sink_printf(s, "<tr><td class=l>%s</td><td class=l>%s</td><td class=l>%s</td>"
					  "<td>%.4g</td><td>%.3g</td><td>%.1f</td><td>%.2f%%</td></tr>\n",
				       st->backend, st->ma_mode, dev ? "kernel-only" : "end-to-end", bytes, gbs,
				       roof * 1e-9, roof > 0 ? 100 * gbs / (roof * 1e-9) : NAN);
		}
		tg_sink_puts(s, "</table>\n");
	}
	accuracy_tables(r, s);
	if (n_trends > 0) {
		tg_sink_puts(s, "<h2>Trend</h2>\n");
		int drawn = 0;
		for (int i = 0; i < n_trends; i++) {
			trend_chart(&trends[i], s);
			drawn += trends[i].n >= 2;
		}
		if (!drawn)
			tg_sink_puts(s, "<p class=meta>The history holds one run of this workload on this "
					"host: the trend appears from the second.</p>\n");
	}
	flames(r, s);
	tg_sink_puts(s, "<p class=meta>Machine-readable: <a href=\"results.json\">results.json</a>; "
			"summary: <a href=\"summary.md\">summary.md</a>.</p>\n</body></html>\n");
	return 0;
}
