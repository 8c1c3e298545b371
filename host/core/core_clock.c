#include "tg_clock.h"

#include <time.h>

static uint64_t read_clock(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t tg_clock_ns(void)
{
	return read_clock(CLOCK_MONOTONIC);
}

uint64_t tg_clock_realtime_ns(void)
{
	return read_clock(CLOCK_REALTIME);
}

static void format_utc(uint64_t ns, const char *fmt, char *buf, size_t cap)
{
	time_t t = (time_t)(ns / 1000000000ull);
	struct tm tm;
	gmtime_r(&t, &tm);
	if (strftime(buf, cap, fmt, &tm) == 0 && cap > 0)
		buf[0] = '\0';
}

void tg_clock_format_utc(uint64_t realtime_ns, char *buf, size_t cap)
{
	format_utc(realtime_ns, "%Y-%m-%dT%H:%M:%SZ", buf, cap);
}

void tg_clock_format_compact(uint64_t realtime_ns, char *buf, size_t cap)
{
	format_utc(realtime_ns, "%Y%m%d-%H%M%S", buf, cap);
}

/* ---- one clock onto another (tg_clock.h) --------------------------------- */

void tg_clock_measure(tg_clock_read_fn foreign, void *fctx, tg_clock_read_fn mono, void *mctx,
		      int n, struct tg_clock_pair *out)
{
	uint64_t best = UINT64_MAX;
	for (int i = 0; i < (n > 0 ? n : 1); i++) {
		uint64_t a = mono(mctx);
		uint64_t f = foreign(fctx);
		uint64_t b = mono(mctx);
		if (b < a)
			continue;
		if (b - a < best) {
			best = b - a;
			out->foreign_ns = f;
			out->mono_ns = a + (b - a) / 2;
			out->uncertainty_ns = (b - a + 1) / 2;
		}
	}
	if (best == UINT64_MAX) { /* a monotonic clock that never advanced forward */
		uint64_t a = mono(mctx);
		out->foreign_ns = foreign(fctx);
		out->mono_ns = a;
		out->uncertainty_ns = 0;
	}
}

void tg_clock_fit(const struct tg_clock_pair *start, const struct tg_clock_pair *stop,
		  uint64_t max_step_ns, struct tg_clock_align *out)
{
	*out = (struct tg_clock_align){0};
	out->t0_foreign = start->foreign_ns;
	out->offset0 = (int64_t)(start->foreign_ns - start->mono_ns);
	out->uncertainty_ns = start->uncertainty_ns;
	if (!stop || stop->foreign_ns <= start->foreign_ns)
		return;
	int64_t offset1 = (int64_t)(stop->foreign_ns - stop->mono_ns);
	out->drift_ns = offset1 - out->offset0;
	if (stop->uncertainty_ns > out->uncertainty_ns)
		out->uncertainty_ns = stop->uncertainty_ns;
	uint64_t mag = out->drift_ns < 0 ? (uint64_t)-out->drift_ns : (uint64_t)out->drift_ns;
	if (mag > max_step_ns) {
		out->step = true;
		return;
	}
	out->slope = (double)out->drift_ns / (double)(stop->foreign_ns - start->foreign_ns);
}

uint64_t tg_clock_apply(const struct tg_clock_align *a, uint64_t t)
{
	if (a->identity)
		return t;
	double dt = (double)(int64_t)(t - a->t0_foreign);
	int64_t off = a->offset0 + (int64_t)(a->slope * dt);
	return t - (uint64_t)off;
}
