/* `flame`: renders any folded-stack file (ours, or perf script |
 * stackcollapse-perf.pl output) as an interactive SVG, a differential SVG
 * against another file, or a top table. */
#include <string.h>

#include "cli_internal.h"
#include "tg_flame.h"
#include "tg_log.h"

int tg_cmd_flame(int argc, char **argv)
{
	const char *out = NULL, *title = NULL, *subtitle = NULL, *diff = NULL, *unit = "samples";
	int32_t top = 0, width = 1200, inverted = 0, palette = TG_PALETTE_LANG;
	double minwidth = 0.1;
	static const char *const palettes[] = {"hot", "lang", NULL};
	const struct tg_opt opts[] = {
		{"output", TG_OPT_STRING, &out, "OUT.svg",
		 "where to write (default: IN with .svg, or .txt with --top; '-' = stdout)", 0, 0, NULL,
		 'o'},
		{"title", TG_OPT_STRING, &title, "TEXT", "title of the graph", 0, 0, NULL, 0},
		{"subtitle", TG_OPT_STRING, &subtitle, "TEXT", "a second line under the title", 0, 0,
		 NULL, 0},
		{"diff", TG_OPT_STRING, &diff, "BASE.folded",
		 "draw IN's frames coloured by how their share changed from BASE: red grew, blue "
		 "shrank (shares of each file's total samples)",
		 0, 0, NULL, 0},
		{"top", TG_OPT_FLAG, &top, NULL,
		 "write the top table (self and total per function) instead of a graph", 0, 0, NULL, 0},
		{"unit", TG_OPT_STRING, &unit, "NAME", "what a count is (default samples)", 0, 0, NULL, 0},
		{"width", TG_OPT_INT, &width, "PX", "image width (default 1200)", 200, 100000, NULL, 0},
		{"minwidth", TG_OPT_DOUBLE, &minwidth, "PX",
		 "leave out frames narrower than this (default 0.1; flamegraph.pl's --minwidth)", 0,
		 10000, NULL, 0},
		{"inverted", TG_OPT_FLAG, &inverted, NULL,
		 "an icicle graph: the roots at the top (the graph's Icicle button switches)", 0, 0,
		 NULL, 0},
		{"palette", TG_OPT_CHOICE, &palette, NULL,
		 "lang (default: a hue per kind of code: C, C++, Rust, CUDA runtime, kernel, [gpu], "
		 "phases) or hot (flamegraph.pl's warm shades)",
		 0, 0, palettes, 0},
	};
	const struct tg_opt_group groups[] = {{"Options", opts, (int)(sizeof(opts) / sizeof(opts[0]))}};
	const struct tg_cli_spec spec = {
		.command = "flame",
		.usage = "flame IN.folded [-o OUT.svg] [--title TEXT] [--subtitle TEXT] [--diff "
			 "BASE.folded] [--top] [--inverted] [--minwidth PX] [--palette lang|hot]",
		.description = "Renders folded stacks (one 'frame;frame;... count' per line, as "
			       "trendgpu-bench writes them and as perf script | stackcollapse-perf.pl "
			       "does) as a self-contained interactive SVG flame graph: click to zoom, "
			       "Ctrl-F or Search for a regular expression, hover for counts.",
		.groups = groups,
		.n_groups = 1,
		.epilog = "Examples:\n  trendgpu-bench flame profiles/run-x/cpu.folded -o cpu.svg\n"
			  "  trendgpu-bench flame new.folded --diff old.folded -o diff.svg\n"
			  "  trendgpu-bench flame cpu.folded --inverted --minwidth 1 -o icicle.svg\n",
	};
	const char *pos[1];
	int rc = tg_cli_parse_args(&spec, argc, argv, pos, 1, "exactly one folded file");
	if (rc != TG_CLI_CONTINUE)
		return rc;
	struct tg_error err;
	tg_error_clear(&err);
	const char *in = pos[0];
	char def[1024];
	if (!out) {
		const char *dot = strrchr(in, '.');
		size_t stem = dot && strchr(dot, '/') == NULL ? (size_t)(dot - in) : strlen(in);
		snprintf(def, sizeof(def), "%.*s.%s", (int)stem, in, top ? "txt" : "svg");
		out = def;
	}
	struct tg_flame *f = tg_flame_new(), *base = NULL;
	int exit_code = TG_EXIT_FAILURE;
	struct tg_sink *s = NULL;
	if (!f) {
		tg_log(TG_LOG_ERROR, "flame: out of memory");
		return TG_EXIT_FAILURE;
	}
	if (tg_flame_load_folded(f, in, &err) < 0)
		goto fail;
	if (diff) {
		base = tg_flame_new();
		if (!base || tg_flame_load_folded(base, diff, &err) < 0)
			goto fail;
	}
	s = strcmp(out, "-") == 0 ? tg_sink_open_stream(stdout, "<stdout>") : tg_sink_open_file(out, &err);
	if (!s)
		goto fail;
	char dtitle[512];
	if (!title) {
		if (diff)
			snprintf(dtitle, sizeof(dtitle), "%s vs %s (red grew, blue shrank)", in, diff);
		else
			snprintf(dtitle, sizeof(dtitle), "%s", in);
		title = dtitle;
	}
	struct tg_flame_svg_opts so = {title, subtitle, unit, width, minwidth > 0 ? minwidth : 0.1,
				       inverted != 0, palette};
	if (top)
		rc = tg_flame_write_top(f, unit, 0, s, &err);
	else if (base)
		rc = tg_flame_write_diff_svg(base, f, &so, s, &err);
	else
		rc = tg_flame_write_svg(f, &so, s, &err);
	if (rc < 0)
		goto fail;
	if (tg_sink_close(s, &err) < 0) {
		s = NULL;
		goto fail;
	}
	s = NULL;
	if (strcmp(out, "-") != 0)
		fprintf(stderr, "%s: %llu %s, %zu frames\n", out, (unsigned long long)tg_flame_total(f),
			unit, tg_flame_nodes(f));
	exit_code = TG_EXIT_OK;
	goto done;
fail:
	tg_log_error(&err);
	tg_sink_abort(s);
done:
	tg_flame_free(f);
	tg_flame_free(base);
	return exit_code;
}
