/* tg_bench_trace [N]: trace writing speed. Builds a capture shaped like a
 * long profiled CUDA run (per launch: an NVTX range, a runtime API call, a
 * kernel or copy on one of 4 streams, a flow), then times tg_trace_write
 * into a file (5 repetitions, median) and capture.bin write + read. Prints
 * trace events per second; the goal is >= 2 million. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tg_capture.h"
#include "tg_clock.h"
#include "tg_sink.h"
#include "tg_trace.h"

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	const long launches = argc > 1 ? atol(argv[1]) : 250000;
	const char *path = argc > 2 ? argv[2] : "/tmp/tg_bench_trace.json";
	struct tg_capture *c = tg_capture_new();
	c->pid = 4000;
	tg_capture_set_thread(c, 4000, 0, "main");
	const char *kernels[] = {"_Z14ema_family_kerPKdPdii", "_Z15hull_family_kerPKdPdii",
				 "_Z14layers_kernelPKdPdS1_ii", "_Z11avg_kernelPKdPdi"};
	uint32_t knames[4], api = tg_capture_intern(c, "cudaLaunchKernel"),
			    rt = tg_capture_intern(c, "runtime"), copy = tg_capture_intern(c, "memcpy HtoD"),
			    range = tg_capture_intern(c, "cuda: family kernels");
	for (int i = 0; i < 4; i++)
		knames[i] = tg_capture_intern(c, kernels[i]);
	uint64_t t = 1000000;
	for (long i = 0; i < launches; i++) {
		struct tg_event r = {.start_ns = t, .end_ns = t + 9000, .kind = TG_EV_RANGE, .name = range,
				     .pid = 4000, .tid = 4000};
		struct tg_event a = {.start_ns = t + 1000, .end_ns = t + 4000, .kind = TG_EV_RUNTIME,
				     .name = api, .domain = rt, .pid = 4000, .tid = 4000,
				     .correlation = (uint32_t)i + 1, .cbid = 211};
		struct tg_event k = {.start_ns = t + 5000, .end_ns = t + 8000, .correlation = (uint32_t)i + 1,
				     .stream = 13 + (uint32_t)(i % 4), .grid = {40, 1, 1}, .block = {256, 1, 1}};
		if (i % 8 == 0) {
			k.kind = TG_EV_MEMCPY;
			k.sub = TG_COPY_HTOD;
			k.name = copy;
			k.bytes = 1 << 20;
		} else {
			k.kind = TG_EV_KERNEL;
			k.name = knames[i % 4];
		}
		tg_capture_add_event(c, &r);
		tg_capture_add_event(c, &a);
		tg_capture_add_event(c, &k);
		t += 10000;
	}
	tg_capture_sort(c);
	double secs[5];
	struct tg_trace_stats st;
	for (int rep = 0; rep < 5; rep++) {
		struct tg_error err;
		uint64_t t0 = tg_clock_ns();
		struct tg_sink *s = tg_sink_open_file(path, &err);
		if (!s || tg_trace_write(c, NULL, s, &st, &err) < 0 || tg_sink_close(s, &err) < 0) {
			fprintf(stderr, "tg_bench_trace: %s\n", err.msg);
			return 1;
		}
		secs[rep] = (double)(tg_clock_ns() - t0) * 1e-9;
	}
	qsort(secs, 5, sizeof(secs[0]), cmp_double);
	printf("trace.json: %zu capture events -> %llu trace events (%llu slices, %llu flows), "
	       "median %.3f s (min %.3f, max %.3f): %.2f million events/s\n",
	       c->n_events, (unsigned long long)st.events, (unsigned long long)st.slices,
	       (unsigned long long)st.flows, secs[2], secs[0], secs[4], (double)st.events / secs[2] * 1e-6);
	/* capture.bin round trip */
	uint64_t t0 = tg_clock_ns();
	struct tg_sink *m = tg_sink_open_memory();
	tg_capture_write(c, m, NULL);
	size_t len = 0;
	const char *bin = tg_sink_memory_data(m, &len);
	uint64_t t1 = tg_clock_ns();
	struct tg_capture *r = tg_capture_new();
	struct tg_error err;
	int rc = tg_capture_read(r, bin, len, "memory", &err);
	uint64_t t2 = tg_clock_ns();
	printf("capture.bin: %zu bytes, write %.3f s, read %.3f s (%s)\n", len, (double)(t1 - t0) * 1e-9,
	       (double)(t2 - t1) * 1e-9, rc == 0 ? "ok" : err.msg);
	tg_sink_close(m, NULL);
	tg_capture_free(r);
	tg_capture_free(c);
	remove(path);
	return rc == 0 ? 0 : 1;
}
