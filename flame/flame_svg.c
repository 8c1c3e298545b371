/* Interactive flame graph SVGs (plain and differential). Our own renderer:
 * one <g> per frame (title, rect, text), a small inline script for zoom,
 * search and tooltips, colours from a hash of the frame name. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "flame_internal.h"
#include "tg_phase.h"

#define FRAME_H 16
#define FONT_W 7.0 /* px per character at font-size 12 */
#define PAD 10
#define TOP 60     /* title, subtitle, buttons */
#define BOTTOM 30  /* details line */

static uint32_t fnv(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* What kind of code a frame is, for the language palette. */
enum frame_kind { K_C, K_CPP, K_RUST, K_CUDA, K_KERNEL, K_GPU, K_META, K_UNKNOWN };

static enum frame_kind classify(const char *name)
{
	const size_t n = strlen(name);
	if (strncmp(name, "[gpu]", 5) == 0)
		return K_GPU;
	if (strncmp(name, "[kernel", 7) == 0 || (n > 4 && strcmp(name + n - 4, "_[k]") == 0))
		return K_KERNEL;
	if (strcmp(name, "all") == 0 || tg_phase_is_frame(name))
		return K_META;
	if (strncmp(name, "cuda", 4) == 0 || (name[0] == 'c' && name[1] == 'u' && name[2] >= 'A' &&
					      name[2] <= 'Z') ||
	    strncmp(name, "[libcuda", 8) == 0 || strncmp(name, "[libcupti", 9) == 0 ||
	    strncmp(name, "cudart::", 8) == 0 || strncmp(name, "libcudart", 9) == 0)
		return K_CUDA;
	if (name[0] == '[')
		return K_UNKNOWN;
	if (strncmp(name, "core::", 6) == 0 || strncmp(name, "alloc::", 7) == 0 ||
	    strncmp(name, "tg_atc_rs::", 11) == 0 || strstr(name, "{{closure}}") ||
	    strstr(name, "{{vtable.shim}}") || (name[0] == '<' && strstr(name, " as ")) ||
	    strncmp(name, "<std::", 6) == 0 || strncmp(name, "std::rt::", 9) == 0 ||
	    strncmp(name, "std::sys::", 10) == 0)
		return K_RUST;
	if (strstr(name, "::"))
		return K_CPP;
	return K_C;
}

/* The fill of a frame: "hot" shades from a hash of the name, or in the
 * language palette a hue per kind of code (C warm red-yellow, C++ teal,
 * Rust orange-brown, CUDA runtime and driver green, kernel grey-blue,
 * GPU work blue-green, phases and backends lavender, unknown code grey);
 * "[gpu] ..." frames are blue-green in both. */
static void frame_colour(const char *name, int palette, int *r, int *g, int *b)
{
	uint32_t h = fnv(name);
	double v1 = (h & 0xff) / 255.0, v2 = ((h >> 8) & 0xff) / 255.0, v3 = ((h >> 16) & 0xff) / 255.0;
	const enum frame_kind k = classify(name);
	if (k == K_GPU) {
		*r = (int)(40 + 60 * v3);
		*g = (int)(160 + 60 * v1);
		*b = (int)(170 + 60 * v2);
	} else if (strcmp(name, "all") == 0) {
		*r = *g = *b = 200;
	} else if (palette != TG_PALETTE_LANG || k == K_C) {
		*r = (int)(205 + 50 * v3);
		*g = (int)(230 * v1);
		*b = (int)(55 * v2);
	} else if (k == K_RUST) {
		*r = (int)(200 + 40 * v3);
		*g = (int)(120 + 50 * v1);
		*b = (int)(40 + 30 * v2);
	} else if (k == K_CPP) {
		*r = (int)(60 + 40 * v3);
		*g = (int)(180 + 50 * v1);
		*b = (int)(170 + 50 * v2);
	} else if (k == K_CUDA) {
		*r = (int)(80 + 50 * v3);
		*g = (int)(190 + 50 * v1);
		*b = (int)(60 + 40 * v2);
	} else if (k == K_KERNEL) {
		*r = (int)(150 + 40 * v3);
		*g = (int)(160 + 40 * v1);
		*b = (int)(200 + 40 * v2);
	} else if (k == K_META) {
		*r = (int)(190 + 30 * v3);
		*g = (int)(180 + 30 * v1);
		*b = (int)(230 + 25 * v2);
	} else {
		*r = *g = *b = (int)(170 + 40 * v1);
	}
}

/* Whether white text contrasts more than black with the fill (WCAG
 * relative luminance): black on pure blue read at 2.5:1. */
static bool white_text(int r, int g, int b)
{
	const double c[3] = {r / 255.0, g / 255.0, b / 255.0};
	double lin[3];
	for (int i = 0; i < 3; i++)
		lin[i] = c[i] <= 0.04045 ? c[i] / 12.92 : pow((c[i] + 0.055) / 1.055, 2.4);
	const double L = 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2];
	/* contrast with black (L + 0.05) / 0.05 against white 1.05 / (L + 0.05) */
	return (L + 0.05) * (L + 0.05) < 0.05 * 1.05;
}

static const char script[] =
	"<script type=\"text/ecmascript\"><![CDATA[\n"
	"var svg, frames, details, searchbtn, matchedtxt, unzoombtn, invbtn, icbtn, W, searching = 0, current = '';\n"
	"var PAD = " "10" ", FONTW = 7.0, inv = 0, ic = 0, zoomed = -1;\n"
	"function init(evt) {\n"
	"  svg = document.documentElement; W = parseFloat(svg.getAttribute('width'));\n"
	"  details = document.getElementById('details').firstChild;\n"
	"  searchbtn = document.getElementById('search'); matchedtxt = document.getElementById('matched');\n"
	"  unzoombtn = document.getElementById('unzoom');\n"
	"  frames = document.getElementById('frames').children; invbtn = document.getElementById('invert');\n"
	"  icbtn = document.getElementById('icase'); inv = parseInt(svg.getAttribute('data-inverted')) || 0;\n"
	"  for (var i = 0; i < frames.length; i++) { var g = frames[i], r = g.firstElementChild.nextElementSibling;\n"
	"    g.r = r; g.t = r.nextElementSibling; g.ox = parseFloat(r.getAttribute('x')); g.idx = i;\n"
	"    g.ow = parseFloat(r.getAttribute('width')); var y = parseFloat(r.getAttribute('y')); g.oy = inv ? FLIP - y : y; }\n"
	"  if (invbtn) invbtn.textContent = inv ? 'Flame' : 'Icicle';\n"
	"  from_url();\n"
	"  svg.addEventListener('mouseover', function (e) { var g = frame(e.target); if (g) details.nodeValue = g.firstElementChild.textContent; });\n"
	"  svg.addEventListener('mouseout', function (e) { if (frame(e.target)) details.nodeValue = ' '; });\n"
	"  svg.addEventListener('click', function (e) { var g = frame(e.target); if (g) zoom(g); });\n"
	"  window.addEventListener('keydown', function (e) {\n"
	"    if ((e.ctrlKey || e.metaKey) && e.key === 'f') { e.preventDefault(); search_prompt(); }\n"
	"    else if ((e.ctrlKey || e.metaKey) && e.key === 'i') { e.preventDefault(); toggle_case(); }\n"
	"    else if (e.key === 'Escape') { reset_search(); unzoom(); } });\n"
	"}\n"
	"function frame(el) { while (el && el.parentNode) { if (el.parentNode.id === 'frames') return el; el = el.parentNode; } return null; }\n"
	"function fit(g) { var w = parseFloat(g.r.getAttribute('width')), n = Math.floor((w - 6) / FONTW), name = g.getAttribute('data-n');\n"
	"  g.t.setAttribute('x', parseFloat(g.r.getAttribute('x')) + 3);\n"
	"  g.t.textContent = n < 3 ? '' : (name.length <= n ? name : name.substring(0, n - 2) + '..'); }\n"
	"function place(g, x, w, shown, faded) { g.r.setAttribute('x', x); g.r.setAttribute('width', w);\n"
	"  var y = inv ? FLIP - g.oy : g.oy; g.r.setAttribute('y', y); g.t.setAttribute('y', y + 11.5);\n"
	"  g.style.display = shown ? '' : 'none'; g.style.opacity = faded ? '0.5' : ''; if (shown) fit(g); }\n"
	"function zoom(node) { var x0 = node.ox, w0 = node.ow, y0 = node.oy, k = (W - 2 * PAD) / w0, eps = 1e-6;\n"
	"  unzoombtn.style.opacity = '1'; zoomed = node.idx;\n"
	"  for (var i = 0; i < frames.length; i++) { var g = frames[i], x = g.ox, w = g.ow;\n"
	"    if (g.oy > y0) place(g, PAD, W - 2 * PAD, x <= x0 + eps && x + w >= x0 + w0 - eps, true);\n"
	"    else place(g, PAD + (x - x0) * k, w * k, x >= x0 - eps && x + w <= x0 + w0 + eps, false); }\n"
	"  if (searching) search(current); to_url(); }\n"
	"function unzoom() { unzoombtn.style.opacity = '0'; zoomed = -1;\n"
	"  for (var i = 0; i < frames.length; i++) place(frames[i], frames[i].ox, frames[i].ow, true, false);\n"
	"  if (searching) search(current); to_url(); }\n"
	"function invert() { inv = 1 - inv; if (invbtn) invbtn.textContent = inv ? 'Flame' : 'Icicle';\n"
	"  if (zoomed >= 0) zoom(frames[zoomed]); else unzoom(); }\n"
	"function toggle_case() { ic = 1 - ic; if (icbtn) icbtn.textContent = ic ? 'ic: on' : 'ic: off';\n"
	"  if (searching) search(current); else to_url(); }\n"
	"function to_url() { if (!window.history || !history.replaceState) return; var p = [];\n"
	"  if (zoomed >= 0) p.push('z=' + zoomed); if (searching) p.push('s=' + encodeURIComponent(current));\n"
	"  if (ic) p.push('i=1'); if (inv) p.push('v=1');\n"
	"  try { history.replaceState(null, '', p.length ? '#' + p.join('&') : location.pathname + location.search); } catch (e) {} }\n"
	"function from_url() { var h = (window.location && location.hash || '').replace(/^#/, ''); if (!h) return;\n"
	"  var q = {}; h.split('&').forEach(function (kv) { var i = kv.indexOf('='); if (i > 0) q[kv.substring(0, i)] = decodeURIComponent(kv.substring(i + 1)); });\n"
	"  if (q.v !== undefined) { inv = q.v === '1' ? 1 : 0; if (invbtn) invbtn.textContent = inv ? 'Flame' : 'Icicle'; }\n"
	"  if (q.i === '1') { ic = 1; if (icbtn) icbtn.textContent = 'ic: on'; }\n"
	"  var z = parseInt(q.z); if (z >= 0 && z < frames.length) zoom(frames[z]); else unzoom();\n"
	"  if (q.s) search(q.s); }\n"
	"function search_prompt() { if (searching) { reset_search(); return; }\n"
	"  var term = prompt('Search for (regular expression):', ''); if (term) search(term); }\n"
	"function search(term) { var re; try { re = new RegExp(term, ic ? 'i' : ''); } catch (e) { alert(e); return; }\n"
	"  current = term; searching = 1; searchbtn.textContent = 'Reset Search'; var spans = [], view = 0;\n"
	"  for (var i = 0; i < frames.length; i++) { var g = frames[i];\n"
	"    if (g.style.display === 'none') continue;\n"
	"    var x = parseFloat(g.r.getAttribute('x')), w = parseFloat(g.r.getAttribute('width'));\n"
	"    if (w > view) view = w;\n"
	"    if (re.test(g.getAttribute('data-n'))) { g.r.setAttribute('fill', 'rgb(230,0,230)'); spans.push([x, x + w]); }\n"
	"    else g.r.setAttribute('fill', g.getAttribute('data-f')); }\n"
	"  spans.sort(function (a, b) { return a[0] - b[0]; }); var covered = 0, end = -1;\n"
	"  for (var j = 0; j < spans.length; j++) { var s = Math.max(spans[j][0], end);\n"
	"    if (spans[j][1] > s) covered += spans[j][1] - s; if (spans[j][1] > end) end = spans[j][1]; }\n"
	"  matchedtxt.textContent = 'Matched: ' + (view > 0 ? (100 * covered / view).toFixed(1) : '0.0') + '%'; to_url(); }\n"
	"function reset_search() { searching = 0; current = ''; searchbtn.textContent = 'Search';\n"
	"  matchedtxt.textContent = ' ';\n"
	"  for (var i = 0; i < frames.length; i++) frames[i].r.setAttribute('fill', frames[i].getAttribute('data-f')); to_url(); }\n"
	"]]></script>\n";

struct svg_ctx {
	const struct tg_flame *f;
	const struct tg_flame *before; /* diff: the older profile, else NULL */
	uint32_t *before_node;         /* diff: matching node in `before` per node */
	double before_total, after_total, max_delta;
	const struct tg_flame_svg_opts *o;
	struct tg_sink *s;
	double scale; /* px per count */
	int height;
	int max_depth;
	uint64_t total;
};

/* Deepest level with a frame wide enough to draw. */
static int visible_depth(const struct svg_ctx *c, uint32_t node, int depth)
{
	int best = depth;
	for (uint32_t k = c->f->nodes[node].first_child; k != FLAME_NONE; k = c->f->nodes[k].next_sibling) {
		if ((double)c->f->nodes[k].total * c->scale < c->o->min_px)
			continue;
		int d = visible_depth(c, k, depth + 1);
		if (d > best)
			best = d;
	}
	return best;
}

static double share(uint64_t v, double total)
{
	return total > 0 ? (double)v / total : 0.0;
}

static int emit(struct svg_ctx *c, uint32_t node, int depth, double x)
{
	const struct flame_node *n = &c->f->nodes[node];
	const double w = (double)n->total * c->scale;
	if (w < c->o->min_px)
		return 0;
	const char *name = flame_name(c->f, node);
	/* flame: root at the bottom; icicle: at the top */
	const double y = c->o->inverted ? TOP + depth * FRAME_H
					: c->height - BOTTOM - (depth + 1) * FRAME_H;
	int r, g, b;
	char info[160];
	if (c->before) {
		uint64_t was = c->before_node[node] == FLAME_NONE
				       ? 0
				       : c->before->nodes[c->before_node[node]].total;
		double a = share(was, c->before_total), now = share(n->total, c->after_total);
		double d = now - a, k = c->max_delta > 0 ? fabs(d) / c->max_delta : 0.0;
		int v = (int)(210 * (1.0 - k) + 0.5);
		if (d > 0) {
			r = 255, g = v, b = v;
		} else if (d < 0) {
			r = v, g = v, b = 255;
		} else {
			r = g = b = 235;
		}
		snprintf(info, sizeof(info), " (before %llu %s, %.2f%%; after %llu, %.2f%%; %+.2f points)",
			 (unsigned long long)was, c->o->unit, 100 * a, (unsigned long long)n->total,
			 100 * now, 100 * d);
	} else {
		frame_colour(name, c->o->palette, &r, &g, &b);
		snprintf(info, sizeof(info), " (%llu %s, %.2f%%)", (unsigned long long)n->total,
			 c->o->unit, 100.0 * share(n->total, (double)c->total));
	}
	struct tg_sink *s = c->s;
	tg_sink_puts(s, "<g data-n=\"");
	tg_sink_put_xml(s, name);
	tg_sink_printf(s, "\" data-f=\"rgb(%d,%d,%d)\"><title>", r, g, b);
	tg_sink_put_xml(s, name);
	tg_sink_put_xml(s, info);
	tg_sink_printf(s,
		       "</title><rect x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" height=\"%d\" "
		       "fill=\"rgb(%d,%d,%d)\" rx=\"2\" ry=\"2\"/><text x=\"%.2f\" y=\"%.1f\"%s>",
		       x, y, w, FRAME_H - 1, r, g, b, x + 3, y + 11.5,
		       white_text(r, g, b) ? " fill=\"#fff\"" : "");
	size_t fit = w > 6 ? (size_t)((w - 6) / FONT_W) : 0;
	if (fit >= 3) {
		size_t len = strlen(name);
		if (len <= fit) {
			tg_sink_put_xml(s, name);
		} else {
			char cut[512];
			size_t k = fit - 2 < sizeof(cut) - 3 ? fit - 2 : sizeof(cut) - 3;
			/* never cut inside a UTF-8 sequence */
			while (k > 0 && ((unsigned char)name[k] & 0xc0) == 0x80)
				k--;
			memcpy(cut, name, k);
			memcpy(cut + k, "..", 3);
			tg_sink_put_xml(s, cut);
		}
	}
	tg_sink_puts(s, "</text></g>\n");
	uint32_t *kids;
	int nk = flame_sorted_children(c->f, node, &kids);
	if (nk < 0)
		return TG_E_NOMEM;
	double cx = x;
	int rc = 0;
	for (int i = 0; i < nk && rc == 0; i++) {
		rc = emit(c, kids[i], depth + 1, cx);
		cx += (double)c->f->nodes[kids[i]].total * c->scale;
	}
	free(kids);
	return rc;
}

static int write_svg(struct svg_ctx *c, struct tg_error *err)
{
	const struct tg_flame_svg_opts *o = c->o;
	struct tg_sink *s = c->s;
	const int width = o->width;
	c->total = tg_flame_total(c->f);
	c->scale = c->total ? (double)(width - 2 * PAD) / (double)c->total : 0.0;
	c->max_depth = c->total ? visible_depth(c, 0, 0) : 0;
	c->height = TOP + (c->max_depth + 1) * FRAME_H + BOTTOM;
	tg_sink_puts(s, "<?xml version=\"1.0\" standalone=\"no\"?>\n");
	tg_sink_printf(s,
		       "<svg version=\"1.1\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
		       "onload=\"init(evt)\" data-inverted=\"%d\" xmlns=\"http://www.w3.org/2000/svg\">\n",
		       width, c->height, width, c->height, o->inverted ? 1 : 0);
	tg_sink_puts(s, "<style>text { font-family: Verdana, sans-serif; font-size: 12px; fill: #000; }\n"
			"#title { font-size: 17px; text-anchor: middle; }\n"
			"#subtitle { text-anchor: middle; fill: #555; }\n"
			"#unzoom, #search, #icase, #invert { cursor: pointer; }\n"
			"#frames > g:hover rect { stroke: #000; stroke-width: 0.5; }\n"
			"#frames text { pointer-events: none; }</style>\n");
	/* y of a frame in one layout from its y in the other */
	tg_sink_printf(s, "<script type=\"text/ecmascript\">var FLIP = %d;</script>\n",
		       TOP + c->height - BOTTOM - FRAME_H);
	tg_sink_puts(s, script);
	tg_sink_printf(s, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#f8f8f4\"/>\n", width,
		       c->height);
	tg_sink_printf(s, "<text id=\"title\" x=\"%d\" y=\"24\">", width / 2);
	tg_sink_put_xml(s, o->title);
	tg_sink_puts(s, "</text>\n");
	if (o->subtitle) {
		tg_sink_printf(s, "<text id=\"subtitle\" x=\"%d\" y=\"42\">", width / 2);
		tg_sink_put_xml(s, o->subtitle);
		tg_sink_puts(s, "</text>\n");
	}
	tg_sink_printf(s,
		       "<text id=\"unzoom\" x=\"%d\" y=\"24\" onclick=\"unzoom()\" "
		       "style=\"opacity:0\">Reset Zoom</text>\n"
		       "<text id=\"search\" x=\"%d\" y=\"24\" text-anchor=\"end\" "
		       "onclick=\"search_prompt()\">Search</text>\n"
		       "<text id=\"icase\" x=\"%d\" y=\"42\" text-anchor=\"end\" "
		       "onclick=\"toggle_case()\">ic: off</text>\n"
		       "<text id=\"invert\" x=\"%d\" y=\"42\" onclick=\"invert()\">Icicle</text>\n"
		       "<text id=\"matched\" x=\"%d\" y=\"%d\" text-anchor=\"end\"> </text>\n"
		       "<text id=\"details\" x=\"%d\" y=\"%d\"> </text>\n",
		       PAD, width - PAD, width - PAD, PAD, width - PAD, c->height - 10, PAD,
		       c->height - 10);
	if (c->total == 0)
		tg_sink_printf(s, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">no samples</text>\n",
			       width / 2, TOP + 12);
	tg_sink_puts(s, "<g id=\"frames\">\n");
	int rc = c->total ? emit(c, 0, 0, PAD) : 0;
	tg_sink_puts(s, "</g>\n</svg>\n");
	if (rc < 0)
		return TG_ERR(err, rc, "flame: out of memory rendering the SVG");
	return 0;
}

static struct tg_flame_svg_opts defaults(const struct tg_flame_svg_opts *o)
{
	struct tg_flame_svg_opts d = {"Flame Graph", NULL, "samples", 1200, 0.1, false, TG_PALETTE_HOT};
	if (o) {
		d.inverted = o->inverted;
		d.palette = o->palette;
		if (o->title)
			d.title = o->title;
		d.subtitle = o->subtitle;
		if (o->unit)
			d.unit = o->unit;
		if (o->width > 100)
			d.width = o->width;
		if (o->min_px > 0)
			d.min_px = o->min_px;
	}
	return d;
}

int tg_flame_write_svg(const struct tg_flame *f, const struct tg_flame_svg_opts *o,
		       struct tg_sink *s, struct tg_error *err)
{
	struct tg_flame_svg_opts d = defaults(o);
	struct svg_ctx c;
	memset(&c, 0, sizeof(c));
	c.f = f;
	c.o = &d;
	c.s = s;
	return write_svg(&c, err);
}

/* For every node of `after`, the node with the same path in `before`. */
static void match_nodes(const struct tg_flame *after, const struct tg_flame *before, uint32_t *map)
{
	map[0] = 0;
	for (uint32_t i = 1; i < after->n_nodes; i++) {
		/* parents precede children in creation order */
		uint32_t p = map[after->nodes[i].parent];
		map[i] = p == FLAME_NONE ? FLAME_NONE : flame_find_child(before, p, flame_name(after, i));
	}
}

int tg_flame_write_diff_svg(const struct tg_flame *before, const struct tg_flame *after,
			    const struct tg_flame_svg_opts *o, struct tg_sink *s,
			    struct tg_error *err)
{
	struct tg_flame_svg_opts d = defaults(o);
	struct svg_ctx c;
	memset(&c, 0, sizeof(c));
	c.f = after;
	c.before = before;
	c.o = &d;
	c.s = s;
	c.before_node = malloc((size_t)after->n_nodes * sizeof(uint32_t));
	TG_FAIL_IF(!c.before_node, err, TG_E_NOMEM, "flame: out of memory");
	match_nodes(after, before, c.before_node);
	c.before_total = (double)tg_flame_total(before);
	c.after_total = (double)tg_flame_total(after);
	for (uint32_t i = 1; i < after->n_nodes; i++) {
		uint64_t was = c.before_node[i] == FLAME_NONE ? 0 : before->nodes[c.before_node[i]].total;
		double dd = fabs(share(after->nodes[i].total, c.after_total) - share(was, c.before_total));
		if (dd > c.max_delta)
			c.max_delta = dd;
	}
	int rc = write_svg(&c, err);
	free(c.before_node);
	return rc;
}
