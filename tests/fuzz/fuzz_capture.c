/* The capture reader (`report DIR` reads capture.bin from any machine). */
#include "fuzz.h"
#include "tg_capture.h"
#include "tg_trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tg_capture *c = tg_capture_new();
	FUZZ_CHECK(c);
	struct tg_error err;
	if (tg_capture_read(c, data, size, "fuzz.bin", &err) == 0) {
		/* written back, read back */
		struct tg_sink *bin = tg_sink_open_memory();
		FUZZ_CHECK(bin && tg_capture_write(c, bin, NULL) == 0);
		size_t len = 0;
		const char *text = tg_sink_memory_data(bin, &len);
		struct tg_capture *d = tg_capture_new();
		if (tg_capture_read(d, text, len, "again.bin", &err) < 0) {
			fprintf(stderr, "fuzz: written back, not read: %s\n", err.msg);
			abort();
		}
		FUZZ_CHECK(d->n_events == c->n_events && d->n_samples == c->n_samples);
		tg_capture_free(d);
		tg_sink_close(bin, NULL);
		/* and the timeline renders (samples unnamed: no process map) */
		tg_capture_sort(c);
		struct tg_sink *trace = tg_sink_open_memory();
		struct tg_trace_stats st;
		struct tg_trace_opts to = {.process_name = "fuzz"};
		FUZZ_CHECK(trace && tg_trace_write(c, &to, trace, &st, NULL) == 0);
		tg_sink_close(trace, NULL);
	}
	tg_capture_free(c);
	return 0;
}
