/* The host's copy bandwidth, measured in the run that uses it. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "tg_clock.h"
#include "tg_harness.h"

struct slice {
	char *dst;
	const char *src;
	size_t bytes;
};

static void *copy_slice(void *arg)
{
	struct slice *s = arg;
	memcpy(s->dst, s->src, s->bytes);
	return NULL;
}

/* Buffers on transparent huge pages where the kernel allows it: touching
 * 2 x 256 MiB in 4 KiB pages costs ~1.5 s of page faults in a VM, against
 * ~0.1 s in 2 MiB pages. */
static char *alloc_buffer(size_t bytes)
{
	const size_t huge = (size_t)2 << 20, rounded = (bytes + huge - 1) / huge * huge;
	void *p = NULL;
	if (posix_memalign(&p, huge, rounded) != 0)
		return NULL;
#ifdef MADV_HUGEPAGE
	madvise(p, rounded, MADV_HUGEPAGE);
#endif
	return p;
}

int tg_host_copy_bandwidth(int threads, size_t bytes, double *bytes_per_s, char *what, size_t cap,
			   struct tg_error *err)
{
	if (threads < 1)
		threads = 1;
	if (threads > 256)
		threads = 256;
	char *a = alloc_buffer(bytes), *b = alloc_buffer(bytes);
	pthread_t *tid = calloc((size_t)threads, sizeof(*tid));
	struct slice *sl = calloc((size_t)threads, sizeof(*sl));
	if (!a || !b || !tid || !sl) {
		free(a);
		free(b);
		free(tid);
		free(sl);
		return TG_ERR(err, TG_E_NOMEM, "copy benchmark: out of memory for 2 x %zu bytes", bytes);
	}
	memset(a, 1, bytes);
	memset(b, 2, bytes);
	double best = 0;
	int rc = 0;
	/* thread start-up (~50 us) is noise against copying hundreds of MiB */
	for (int rep = 0; rep < 6 && rc == 0; rep++) {
		size_t per = bytes / (size_t)threads;
		uint64_t t0 = tg_clock_ns();
		int started = 0;
		for (int t = 0; t < threads; t++) {
			sl[t] = (struct slice){b + per * (size_t)t, a + per * (size_t)t,
					       t == threads - 1 ? bytes - per * (size_t)t : per};
			if (pthread_create(&tid[t], NULL, copy_slice, &sl[t]) != 0) {
				copy_slice(&sl[t]);
				continue;
			}
			tid[started++] = tid[t];
		}
		for (int t = 0; t < started; t++)
			pthread_join(tid[t], NULL);
		double sec = (double)(tg_clock_ns() - t0) * 1e-9;
		if (rep > 0 && (best == 0 || sec < best))
			best = sec;
	}
	if (rc == 0) {
		*bytes_per_s = 2.0 * (double)bytes / best;
		snprintf(what, cap, "host memcpy of %zu MiB on %d thread%s, best of 5", bytes >> 20,
			 threads, threads == 1 ? "" : "s");
	}
	free(a);
	free(b);
	free(tid);
	free(sl);
	return rc;
}
