/* tg_tracecheck FILE: validates a trace.json (tests/support/trace_check.c)
 * and prints its counts; exit 0 valid, 1 invalid, 2 unreadable. */
#include <stdio.h>
#include <stdlib.h>

#include "tg_trace_check.h"

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: tg_tracecheck TRACE.json\n");
		return 2;
	}
	FILE *f = fopen(argv[1], "rb");
	if (!f) {
		perror(argv[1]);
		return 2;
	}
	size_t cap = 1 << 20, len = 0;
	char *buf = malloc(cap);
	size_t got;
	while (buf && (got = fread(buf + len, 1, cap - len, f)) > 0) {
		len += got;
		if (len == cap) {
			char *nb = realloc(buf, cap *= 2);
			if (!nb) {
				free(buf);
				buf = NULL;
			} else {
				buf = nb;
			}
		}
	}
	fclose(f);
	if (!buf)
		return 2;
	struct tg_trace_check_stats st;
	char why[512];
	int rc = tg_trace_check(buf, len, &st, why, sizeof(why));
	free(buf);
	if (rc < 0) {
		fprintf(stderr, "%s: invalid trace: %s\n", argv[1], why);
		return 1;
	}
	printf("events %zu slices %zu flows %zu counters %zu instants %zu tracks %zu max_depth %zu\n",
	       st.events, st.slices, st.flows, st.counters, st.instants, st.tracks, st.max_depth);
	return 0;
}
