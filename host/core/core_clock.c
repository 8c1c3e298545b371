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
