/* The sweep.json reader (`compare` of two sweeps): it names the
 * directories compare opens, so nothing may lead outside the sweep. */
#include <string.h>

#include "fuzz.h"
#include "tg_run.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct tg_sweep s, back;
	struct tg_error err;
	if (tg_sweep_read_json((const char *)data, size, "fuzz.json", &s, &err) < 0)
		return 0;
	FUZZ_CHECK(s.n_points >= 0 && s.n_points <= TG_SWEEP_MAX_POINTS);
	FUZZ_CHECK(s.n_symbols <= TG_SWEEP_MAX_AXIS && s.n_bars <= TG_SWEEP_MAX_AXIS);
	for (int i = 0; i < s.n_points; i++)
		FUZZ_CHECK(s.points[i].dir[0] && s.points[i].dir[0] != '.' &&
			   !strchr(s.points[i].dir, '/'));
	/* what we write of it, we read back the same */
	struct tg_sink *k = tg_sink_open_memory();
	FUZZ_CHECK(k && tg_sweep_write_json(&s, k, NULL) == 0);
	size_t len = 0;
	const char *text = tg_sink_memory_data(k, &len);
	if (tg_sweep_read_json(text, len, "again.json", &back, &err) < 0) {
		fprintf(stderr, "fuzz: written back, not read: %s\n", err.msg);
		abort();
	}
	FUZZ_CHECK(back.n_points == s.n_points && back.n_symbols == s.n_symbols &&
		   back.n_bars == s.n_bars);
	for (int i = 0; i < s.n_points; i++)
		FUZZ_CHECK(back.points[i].symbols == s.points[i].symbols &&
			   back.points[i].bars == s.points[i].bars &&
			   strcmp(back.points[i].dir, s.points[i].dir) == 0);
	/* crossovers and the summary of anything read: no crash */
	struct tg_sweep_crossover c[8];
	FUZZ_CHECK(tg_sweep_crossovers(&s, c, 8) >= 0);
	struct tg_sink *m = tg_sink_open_memory();
	FUZZ_CHECK(m && tg_sweep_write_md(&s, m, NULL) == 0);
	tg_sink_close(m, NULL);
	tg_sink_close(k, NULL);
	return 0;
}
