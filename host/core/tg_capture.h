/* The event model of a profiled run: everything the collectors recorded,
 * in one clock (CLOCK_MONOTONIC ns), as plain data.
 *
 * A capture holds
 *   - events: GPU activity (kernels, copies, memsets), CUDA API calls,
 *     synchronizations, CUPTI overhead, NVTX ranges and marks;
 *   - launches: the CPU stack that issued each GPU operation, keyed by the
 *     CUPTI correlation id;
 *   - samples: host stack samples;
 *   - stacks: deduplicated program-counter arrays (leaf first) that
 *     launches and samples point to;
 *   - threads, tags (what a thread was working for: backends), devices,
 *     metadata and data-quality counters.
 * Strings are interned; id 0 is the empty string. Collectors (cupti/,
 * host/sampler) fill a capture after they stop; renderers (flame/) read it.
 * capture.bin is its serialized form, so a run directory re-renders offline.
 */
#ifndef TG_CAPTURE_H
#define TG_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tg_error.h"
#include "tg_sink.h"

#ifdef __cplusplus
extern "C" {
#endif

enum tg_ev_kind {
	TG_EV_KERNEL = 1,
	TG_EV_MEMCPY = 2,
	TG_EV_MEMSET = 3,
	TG_EV_RUNTIME = 4,  /* CUDA runtime API call (host thread) */
	TG_EV_DRIVER = 5,   /* CUDA driver API call (host thread) */
	TG_EV_SYNC = 6,     /* a host wait on a stream, event or context */
	TG_EV_OVERHEAD = 7, /* time CUPTI or the driver spent on itself */
	TG_EV_RANGE = 8,    /* NVTX push/pop range (nested per thread and domain) */
	TG_EV_ASYNC = 9,    /* NVTX start/end range (may cross threads, may overlap) */
	TG_EV_MARK = 10,    /* NVTX instantaneous marker */
	TG_EV_KIND_MAX = 10,
};

/* copy kinds of TG_EV_MEMCPY (sub), the values CUPTI uses */
enum tg_copy_kind {
	TG_COPY_UNKNOWN = 0,
	TG_COPY_HTOD = 1,
	TG_COPY_DTOH = 2,
	TG_COPY_HTOA = 3,
	TG_COPY_ATOH = 4,
	TG_COPY_ATOA = 5,
	TG_COPY_ATOD = 6,
	TG_COPY_DTOA = 7,
	TG_COPY_DTOD = 8,
	TG_COPY_HTOH = 9,
	TG_COPY_PTOP = 10,
	TG_COPY_KIND_MAX = 10,
};

/* event flags */
#define TG_EVF_PAGEABLE 1u  /* memcpy from/to pageable host memory */
#define TG_EVF_UNCLOSED 2u  /* NVTX range still open when the capture ended */
#define TG_EVF_ASYNC_COPY 4u
#define TG_EVF_FAILED 8u    /* API call returned an error */
#define TG_EVF_COLOR 16u    /* NVTX: the program set a colour (ARGB in regs) */
#define TG_EVF_PAYLOAD 32u  /* NVTX push/pop range or mark: an integer payload in bytes */

struct tg_event {
	uint64_t start_ns, end_ns; /* CLOCK_MONOTONIC; end == start for marks */
	uint64_t bytes;            /* memcpy/memset bytes; NVTX start/end: range id; NVTX
				    * push/pop and marks: the payload (TG_EVF_PAYLOAD) */
	uint32_t name;             /* kernel (mangled), API function, NVTX message */
	uint32_t domain;           /* NVTX domain ("" = default), API: "runtime"/"driver" */
	uint32_t pid, tid;         /* host process and OS thread (API, sync, NVTX) */
	uint32_t device, context, stream;
	uint32_t correlation;      /* CUPTI correlation id; 0 = none */
	int32_t grid[3], block[3];
	uint32_t regs;             /* registers per thread; NVTX: ARGB colour (TG_EVF_COLOR) */
	uint32_t shmem;            /* static + dynamic shared memory, bytes */
	uint16_t flags;            /* TG_EVF_* */
	uint8_t kind;              /* enum tg_ev_kind */
	uint8_t sub;               /* memcpy: enum tg_copy_kind; sync: CUPTI sync type;
				    * overhead: kind >> 16 | kind & 0xff; API: 0 */
	uint32_t cbid;             /* API callback id; NVTX: category */
};

/* Kernels, copies and memsets: work that ran on the GPU, on a stream. */
static inline bool tg_event_on_gpu(int kind)
{
	return kind == TG_EV_KERNEL || kind == TG_EV_MEMCPY || kind == TG_EV_MEMSET;
}

/* The CPU stack that issued GPU work. */
struct tg_launch {
	uint64_t t_ns;
	uint32_t correlation;
	uint32_t tid;
	int32_t tag;
	uint32_t stack; /* id into stacks; 0 = not captured */
	uint32_t phase; /* the launching thread's phase (tg_phase.h) */
};

struct tg_capture_sample {
	uint64_t t_ns;
	int32_t tid;
	int32_t tag;
	uint32_t flags; /* TG_SAMPLE_* of tg_sampler.h; bits 16-31: the phase (tg_phase.h) */
	uint32_t stack;
};

struct tg_capture_thread {
	uint32_t tid;       /* OS thread id */
	uint32_t alt_id;    /* pthread_self() truncated to 32 bits, as CUPTI may report it */
	uint32_t name;      /* string id; 0 = unnamed */
};

struct tg_capture_device {
	uint32_t id;
	uint32_t name;      /* string id */
	uint32_t sms;
	uint32_t cc_major, cc_minor;
	uint64_t memory_bytes;
	uint64_t memory_bandwidth; /* bytes/s, 0 = unknown */
};

struct tg_capture_kv {
	uint32_t key, value; /* string ids */
};

struct tg_capture_counter {
	uint32_t key;
	uint64_t value;
};

struct tg_capture {
	uint32_t pid;
	uint64_t start_ns, end_ns; /* the capture window */

	struct tg_event *events;
	size_t n_events, cap_events;
	struct tg_launch *launches;
	size_t n_launches, cap_launches;
	struct tg_capture_sample *samples;
	size_t n_samples, cap_samples;
	struct tg_capture_thread *threads;
	size_t n_threads, cap_threads;
	struct tg_capture_device *devices;
	size_t n_devices, cap_devices;
	struct tg_capture_kv *meta;
	size_t n_meta, cap_meta;
	struct tg_capture_counter *counters;
	size_t n_counters, cap_counters;
	uint32_t *tags;          /* string ids, index = tag */
	size_t n_tags, cap_tags;
	double sample_period_ns; /* weight of one sample; 0 when none */

	/* stacks: stack i (1-based) is pcs[stack_off[i] .. + stack_depth[i]) */
	uint64_t *pcs;
	size_t n_pcs, cap_pcs;
	uint64_t *stack_off;
	uint32_t *stack_depth;
	size_t n_stacks, cap_stacks;
	uint32_t *stack_hash; /* open addressing over stack ids */
	size_t hash_cap;

	/* strings: string i is text + str_off[i] */
	char *text;
	size_t text_len, text_cap;
	uint64_t *str_off;
	size_t n_strings, cap_strings;
	uint32_t *str_hash;
	size_t str_hash_cap;
};

struct tg_capture *tg_capture_new(void);
void tg_capture_free(struct tg_capture *c);

/* Interns s (NULL and "" give 0); returns UINT32_MAX when out of memory. */
uint32_t tg_capture_intern(struct tg_capture *c, const char *s);
uint32_t tg_capture_intern_n(struct tg_capture *c, const char *s, size_t len);
/* "" for 0 or an unknown id. */
const char *tg_capture_string(const struct tg_capture *c, uint32_t id);

int tg_capture_add_event(struct tg_capture *c, const struct tg_event *e);
/* Deduplicated; depth 0 gives 0; returns UINT32_MAX when out of memory. */
uint32_t tg_capture_add_stack(struct tg_capture *c, const uint64_t *pcs, uint32_t depth);
const uint64_t *tg_capture_stack(const struct tg_capture *c, uint32_t id, uint32_t *depth);
int tg_capture_add_launch(struct tg_capture *c, const struct tg_launch *l);
int tg_capture_add_sample(struct tg_capture *c, const struct tg_capture_sample *s);
/* Adds or updates a thread. A name given here only names a thread that has
 * none (OS names: collectors see the same thread in several places); NULL
 * keeps the old one. */
int tg_capture_set_thread(struct tg_capture *c, uint32_t tid, uint32_t alt_id, const char *name);
/* Names a thread, replacing any name (nvtxNameOsThread: the program's own
 * choice wins over the OS name). */
int tg_capture_name_thread(struct tg_capture *c, uint32_t tid, const char *name);
const struct tg_capture_thread *tg_capture_find_thread(const struct tg_capture *c, uint32_t tid);
/* The OS thread behind a CUDA API record's thread id (an OS tid or a
 * truncated pthread_self()); id itself when unknown. */
uint32_t tg_capture_resolve_tid(const struct tg_capture *c, uint32_t id);
int tg_capture_set_tag(struct tg_capture *c, int32_t tag, const char *name);
const char *tg_capture_tag_name(const struct tg_capture *c, int32_t tag);
int tg_capture_set_device(struct tg_capture *c, const struct tg_capture_device *d);
/* Metadata: replaces an existing key. */
/* CLOCK_REALTIME - CLOCK_MONOTONIC (ns, decimal) at the capture's start
 * and end: the anchors that put captures of several processes (ranks,
 * hosts) on one time line when nothing better was measured */
#define TG_META_CLOCK_START "clock.realtime_minus_monotonic.start"
#define TG_META_CLOCK_END "clock.realtime_minus_monotonic.end"
int tg_capture_set_meta(struct tg_capture *c, const char *key, const char *value);
const char *tg_capture_meta(const struct tg_capture *c, const char *key);
/* Data-quality counters: adds to an existing key. */
int tg_capture_count(struct tg_capture *c, const char *key, uint64_t add);
uint64_t tg_capture_counter(const struct tg_capture *c, const char *key);

/* Sorts events by start time (then longer first, then kind), launches by
 * correlation id and samples by time, so renderers can merge. */
void tg_capture_sort(struct tg_capture *c);
/* The launch of a correlation id after tg_capture_sort, or NULL. */
const struct tg_launch *tg_capture_find_launch(const struct tg_capture *c, uint32_t correlation);

/* "HtoD", "DtoH", ... */
const char *tg_copy_kind_name(int kind);
/* "kernel", "memcpy", "runtime", "nvtx", ... */
const char *tg_ev_kind_name(int kind);

/* capture.bin: "TGCAPTUR", version, then the sections above, little
 * endian. Reading validates every count, offset and id and names the file
 * and byte offset of the first problem. */
int tg_capture_write(const struct tg_capture *c, struct tg_sink *s, struct tg_error *err);
int tg_capture_read(struct tg_capture *c, const void *data, size_t len, const char *source,
		    struct tg_error *err);
int tg_capture_load(struct tg_capture *c, const char *path, struct tg_error *err);

#ifdef __cplusplus
}
#endif

#endif
