/* The folded-stack reader (`flame`, perf | stackcollapse output). */
#include "fuzz.h"
#include "tg_flame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tg_flame *f = tg_flame_new();
	FUZZ_CHECK(f);
	struct tg_error err;
	if (tg_flame_parse_folded(f, (const char *)data, size, "fuzz.folded", &err) == 0) {
		/* the SVG renders, and the folded text written back reads back
		 * with the same number of samples */
		struct tg_sink *svg = tg_sink_open_memory();
		struct tg_flame_svg_opts so = {.title = "fuzz"};
		FUZZ_CHECK(svg && tg_flame_write_svg(f, &so, svg, NULL) == 0);
		tg_sink_close(svg, NULL);
		struct tg_sink *out = tg_sink_open_memory();
		FUZZ_CHECK(out && tg_flame_write_folded(f, out, NULL) == 0);
		size_t len = 0;
		const char *text = tg_sink_memory_data(out, &len);
		struct tg_flame *g = tg_flame_new();
		if (tg_flame_parse_folded(g, text, len, "again.folded", &err) < 0) {
			fprintf(stderr, "fuzz: written back, not read: %s\n", err.msg);
			abort();
		}
		FUZZ_CHECK(tg_flame_total(g) == tg_flame_total(f));
		tg_flame_free(g);
		tg_sink_close(out, NULL);
	}
	tg_flame_free(f);
	return 0;
}
