/* Flame graphs: a tree of merged stacks and its renderings.
 *
 * A tg_flame holds stacks (root first) with counts, merged into a prefix
 * tree. It is built from symbolized samples or parsed from Brendan Gregg's
 * folded format ("a;b;c 12"), and rendered as folded text, an interactive
 * self-contained SVG, a differential SVG or a pstats-like top table
 * (speedscope files come from captures: tg_render.h). Every writer is deterministic: children are visited
 * in name order.
 */
#ifndef TG_FLAME_H
#define TG_FLAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tg_error.h"
#include "tg_sink.h"

#ifdef __cplusplus
extern "C" {
#endif

struct tg_flame;

struct tg_flame *tg_flame_new(void);
void tg_flame_free(struct tg_flame *f);

/* Adds a stack, root first. Frame names are copied; ';' and line breaks in
 * a name are replaced (they would break the folded format). */
int tg_flame_add(struct tg_flame *f, const char *const *frames, size_t n, uint64_t count,
		 struct tg_error *err);
/* Parses folded text (one "frame;frame;... count" per line); errors name
 * source:line. Blank lines are allowed. */
int tg_flame_parse_folded(struct tg_flame *f, const char *text, size_t len, const char *source,
			  struct tg_error *err);
int tg_flame_load_folded(struct tg_flame *f, const char *path, struct tg_error *err);

uint64_t tg_flame_total(const struct tg_flame *f);
size_t tg_flame_nodes(const struct tg_flame *f);

int tg_flame_write_folded(const struct tg_flame *f, struct tg_sink *s, struct tg_error *err);

enum tg_flame_palette {
	TG_PALETTE_HOT = 0, /* flamegraph.pl's: warm shades from a hash of the name */
	TG_PALETTE_LANG = 1 /* a hue per kind of code: C, C++, Rust, CUDA runtime,
			       kernel, [gpu] work, phases and backends, unknown */
};

struct tg_flame_svg_opts {
	const char *title;    /* default "Flame Graph" */
	const char *subtitle; /* optional second line */
	const char *unit;     /* what a count is: "samples" (default), "ns" */
	int width;            /* pixels, default 1200 */
	double min_px;        /* frames narrower than this are left out, default 0.1 */
	bool inverted;        /* icicle: the root at the top (a button switches) */
	int palette;          /* enum tg_flame_palette */
};

/* An interactive flame graph: click to zoom, Ctrl-F / "Search" for a
 * regular expression (matches highlighted, matched share shown; "ic" or
 * Ctrl-I ignores case), tooltips with counts and percentages, "Reset
 * Zoom", "Icicle"/"Flame" to turn it over; zoom, search, case and
 * orientation are kept in the URL fragment (#z=12&s=kama&i=1&v=1), so a
 * link shows the same view. Colours from the palette; "[gpu]" frames
 * blue-green; text black or white by the fill's luminance. */
int tg_flame_write_svg(const struct tg_flame *f, const struct tg_flame_svg_opts *o,
		       struct tg_sink *s, struct tg_error *err);
/* The frames of `after`, coloured by how their share of all samples
 * changed from `before`: red grew, blue shrank (normalised by each
 * profile's total). */
int tg_flame_write_diff_svg(const struct tg_flame *before, const struct tg_flame *after,
			    const struct tg_flame_svg_opts *o, struct tg_sink *s,
			    struct tg_error *err);
/* Self and total counts and percentages per function, sorted by total
 * (cumulative) and by self, like pstats. A function recursing counts once
 * per sample in its total. */
int tg_flame_write_top(const struct tg_flame *f, const char *unit, size_t max_rows,
		       struct tg_sink *s, struct tg_error *err);

/* The n functions with the most self samples (ties by name); returns how
 * many were written. */
size_t tg_flame_hottest(const struct tg_flame *f, size_t n, const char **names, uint64_t *self);

#ifdef __cplusplus
}
#endif

#endif
