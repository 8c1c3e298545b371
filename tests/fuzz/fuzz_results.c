/* The results.json reader (`compare`, the nightly runner). */
#include <string.h>

#include "fuzz.h"
#include "tg_run.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tg_run_results r;
	struct tg_error err;
	if (tg_results_read_json((const char *)data, size, "fuzz.json", &r, &err) < 0)
		return 0;
	for (int i = 0; i < r.n_states; i++)
		FUZZ_CHECK(r.states[i].n_samples >= 0 &&
			   (r.states[i].n_samples == 0 || r.states[i].samples_ns));
	/* what we write of it, we read back the same */
	struct tg_sink *s = tg_sink_open_memory();
	FUZZ_CHECK(s && tg_results_write_json(&r, s, NULL) == 0);
	size_t len = 0;
	const char *text = tg_sink_memory_data(s, &len);
	struct tg_run_results back;
	if (tg_results_read_json(text, len, "again.json", &back, &err) < 0) {
		fprintf(stderr, "fuzz: written back, not read: %s\n", err.msg);
		abort();
	}
	FUZZ_CHECK(back.n_states == r.n_states && back.n_params == r.n_params &&
		   back.n_agreement == r.n_agreement);
	for (int i = 0; i < r.n_states; i++)
		FUZZ_CHECK(back.states[i].n_samples == r.states[i].n_samples &&
			   strcmp(back.states[i].backend, r.states[i].backend) == 0);
	tg_results_fini(&back);
	tg_sink_close(s, NULL);
	tg_results_fini(&r);
	return 0;
}
