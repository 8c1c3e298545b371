/* Time sources. Every timestamp inside a run is CLOCK_MONOTONIC in ns. */
#ifndef TG_CLOCK_H
#define TG_CLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* CLOCK_MONOTONIC, nanoseconds. */
uint64_t tg_clock_ns(void);
/* CLOCK_REALTIME, nanoseconds since the epoch. */
uint64_t tg_clock_realtime_ns(void);
/* "2026-11-24T09:30:12Z" (UTC) for a realtime ns stamp. */
void tg_clock_format_utc(uint64_t realtime_ns, char *buf, size_t cap);
/* "20261124-093012" (UTC), for directory names. */
void tg_clock_format_compact(uint64_t realtime_ns, char *buf, size_t cap);

/* ---- one clock onto another: CUPTI's onto CLOCK_MONOTONIC (when its
 * timestamp callback is refused), another rank's onto the reference rank's
 * (host/ranks). The offset from the tightest of many bracketed reads, at
 * the start and the stop, then linear in between (drift). A foreign read
 * may be a round trip to another process: a = mono(), f = foreign(), b =
 * mono() is then a ping-pong, the tightest the one of least round trip
 * (Cristian's algorithm). */

/* One simultaneous reading of a foreign clock and CLOCK_MONOTONIC. */
struct tg_clock_pair {
	uint64_t foreign_ns;
	uint64_t mono_ns;       /* middle of the bracketing monotonic reads */
	uint64_t uncertainty_ns; /* half the bracket */
};

typedef uint64_t (*tg_clock_read_fn)(void *ctx);

/* The tightest bracket of n reads: a = mono(), f = foreign(), b = mono(). */
void tg_clock_measure(tg_clock_read_fn foreign, void *fctx, tg_clock_read_fn mono, void *mctx,
		      int n, struct tg_clock_pair *out);

struct tg_clock_align {
	bool identity;          /* records already in CLOCK_MONOTONIC */
	uint64_t t0_foreign;    /* start reading */
	int64_t offset0;        /* foreign - mono at the start */
	double slope;           /* change of the offset per foreign ns */
	bool step;              /* start and stop offsets differ by more than max_step */
	int64_t drift_ns;       /* stop offset - start offset */
	uint64_t uncertainty_ns;
};

/* From start and stop pairs: linear when the offsets agree within
 * max_step_ns (drift), constant start offset otherwise (a clock step, e.g.
 * NTP setting CLOCK_REALTIME; flagged). stop may be NULL (constant). */
void tg_clock_fit(const struct tg_clock_pair *start, const struct tg_clock_pair *stop,
		  uint64_t max_step_ns, struct tg_clock_align *out);
uint64_t tg_clock_apply(const struct tg_clock_align *a, uint64_t foreign_ns);

#ifdef __cplusplus
}
#endif

#endif
