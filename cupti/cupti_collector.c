/* The CUPTI activity collector.
 *
 * Buffers come from a fixed pool handed to CUPTI on request; completed
 * buffers are queued, and a worker thread walks and converts them into a
 * private capture, then returns them to the pool. CUPTI callbacks never
 * allocate: an empty pool refuses the request (CUPTI then drops records,
 * which it counts and we report). Launch callbacks record the issuing CPU
 * stack per correlation id into pre-sized tables.
 *
 * Records are converted in CUPTI's clock; export maps them to
 * CLOCK_MONOTONIC, exactly (timestamp callback) or through offsets measured
 * at start and stop.
 */
#include "cupti_internal.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "tg_clock.h"
#include "tg_log.h"
#include "tg_phase.h"
#include "tg_str.h"

#define MAX_THREADS 1024
#define CLOCK_READS 64
#define MAX_CLOCK_STEP_NS 1000000u

struct done_buf {
	uint8_t *buf;
	size_t valid;
};

struct launch_rec {
	uint64_t t_ns;
	uint32_t correlation, tid;
	int32_t tag;
	uint32_t stack; /* 1-based index into the stack table, 0 = none */
	uint32_t phase; /* the launching thread's (tg_phase.h) */
};

struct tg_cupti {
	struct tg_cupti_opts o;
	struct tg_cupti_api api;
	bool started;

	/* buffer pool and completed queue */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	uint8_t *pool;
	uint8_t **free_bufs;
	int n_free;
	struct done_buf *queue;
	int q_head, q_len;
	bool stopping;
	pthread_t worker;
	bool worker_started;

	/* converted records, raw CUPTI clock (worker-owned while running) */
	struct tg_capture *cap;
	struct tg_cupti_counts counts;
	int convert_error;
	_Atomic uint64_t dropped, buffers_completed, buffers_refused;

	/* clock */
	struct tg_clock_align clk;
	struct tg_clock_pair start_pair;

	/* launches */
	pthread_mutex_t lmu;
	struct launch_rec *launches;
	size_t n_launches;
	uint64_t *stack_pcs;
	uint32_t *stack_depth, *stack_hash;
	uint32_t n_stacks, max_stacks, hash_cap;
	uint32_t thr_tid[MAX_THREADS], thr_alt[MAX_THREADS];
	int n_thr;
	uint64_t launches_dropped, stacks_dropped, launches_seen;
	CUpti_SubscriberHandle sub;
	bool subscribed, had_callbacks;

	char kinds[160];
	uint32_t version;
	uint64_t gen; /* this run of a collector, for per-thread state */
};

static struct tg_cupti *_Atomic active;

static _Thread_local int tls_depth;
static _Thread_local uint32_t tls_stack;
static _Thread_local uint64_t tls_thread_known; /* generation that saw this thread */
static _Atomic uint64_t generation;

bool tg_cupti_built(void)
{
	return true;
}

static int cupti_fail(struct tg_cupti *c, struct tg_error *err, int code, CUptiResult r,
		      const char *call, const char *hint)
{
	char buf[128];
	return TG_ERR_SUB(err, code, (int)r, "CUPTI: %s failed: %s%s%s", call,
			  tg_cupti_result_text(&c->api, r, buf, sizeof(buf)), hint ? ": " : "",
			  hint ? hint : "");
}

/* ---- buffers ------------------------------------------------------------- */

static void CUPTIAPI buffer_requested(uint8_t **buffer, size_t *size, size_t *max_records)
{
	struct tg_cupti *c = atomic_load(&active);
	*buffer = NULL;
	*size = 0;
	*max_records = 0;
	if (!c)
		return;
	pthread_mutex_lock(&c->mu);
	if (c->n_free > 0) {
		*buffer = c->free_bufs[--c->n_free];
		*size = c->o.buffer_bytes;
	}
	pthread_mutex_unlock(&c->mu);
	if (!*buffer)
		atomic_fetch_add(&c->buffers_refused, 1);
}

static void CUPTIAPI buffer_completed(CUcontext ctx, uint32_t stream, uint8_t *buffer, size_t size,
				      size_t valid)
{
	(void)size;
	struct tg_cupti *c = atomic_load(&active);
	if (!c || !buffer)
		return;
	if (c->api.ActivityGetNumDroppedRecords) {
		size_t dropped = 0;
		if (c->api.ActivityGetNumDroppedRecords(ctx, stream, &dropped) == CUPTI_SUCCESS)
			atomic_fetch_add(&c->dropped, dropped);
	}
	atomic_fetch_add(&c->buffers_completed, 1);
	pthread_mutex_lock(&c->mu);
	/* the queue holds every pool buffer, so it cannot overflow */
	int tail = (c->q_head + c->q_len) % c->o.buffers;
	c->queue[tail] = (struct done_buf){buffer, valid};
	c->q_len++;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

static void convert_buffer(struct tg_cupti *c, uint8_t *buf, size_t valid)
{
	CUpti_Activity *rec = NULL;
	const struct tg_clock_align raw = {.identity = true};
	for (;;) {
		CUptiResult r = c->api.ActivityGetNextRecord ? c->api.ActivityGetNextRecord(buf, valid, &rec)
							     : tg_cupti_walk_next(buf, valid, &rec);
		if (r != CUPTI_SUCCESS)
			break; /* MAX_LIMIT_REACHED: the end; INVALID_KIND: nothing after it is usable */
		if (tg_cupti_convert(rec, &raw, c->cap, &c->counts) < 0)
			c->convert_error = TG_E_NOMEM;
	}
}

static void *worker_main(void *arg)
{
	struct tg_cupti *c = arg;
	pthread_mutex_lock(&c->mu);
	for (;;) {
		while (c->q_len == 0 && !c->stopping)
			pthread_cond_wait(&c->cv, &c->mu);
		if (c->q_len == 0 && c->stopping)
			break;
		struct done_buf d = c->queue[c->q_head];
		c->q_head = (c->q_head + 1) % c->o.buffers;
		c->q_len--;
		pthread_mutex_unlock(&c->mu);
		convert_buffer(c, d.buf, d.valid);
		pthread_mutex_lock(&c->mu);
		c->free_bufs[c->n_free++] = d.buf;
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

/* ---- launch callbacks ---------------------------------------------------- */

static uint32_t stack_hash_of(const uint64_t *pcs, int n)
{
	uint64_t h = 1469598103934665603ull ^ (uint64_t)n;
	for (int i = 0; i < n; i++) {
		h ^= pcs[i];
		h *= 1099511628211ull;
	}
	return (uint32_t)(h ^ (h >> 32));
}

/* Under lmu: the id of this stack in the table (added if new), 0 when full. */
static uint32_t intern_stack(struct tg_cupti *c, const uint64_t *pcs, int n)
{
	if (n <= 0)
		return 0;
	const int depth = c->o.stack_depth;
	uint32_t k = stack_hash_of(pcs, n) & (c->hash_cap - 1);
	while (c->stack_hash[k]) {
		uint32_t id = c->stack_hash[k];
		if (c->stack_depth[id - 1] == (uint32_t)n &&
		    memcmp(c->stack_pcs + (size_t)(id - 1) * depth, pcs, (size_t)n * 8) == 0)
			return id;
		k = (k + 1) & (c->hash_cap - 1);
	}
	if (c->n_stacks == c->max_stacks) {
		c->stacks_dropped++;
		return 0;
	}
	uint32_t id = ++c->n_stacks;
	memcpy(c->stack_pcs + (size_t)(id - 1) * depth, pcs, (size_t)n * 8);
	c->stack_depth[id - 1] = (uint32_t)n;
	c->stack_hash[k] = id;
	return id;
}

static void CUPTIAPI on_api(void *userdata, CUpti_CallbackDomain domain, CUpti_CallbackId cbid,
			    const void *data)
{
	(void)domain;
	(void)cbid;
	struct tg_cupti *c = userdata;
	const CUpti_CallbackData *cb = data;
	if (cb->callbackSite == CUPTI_API_EXIT) {
		if (tls_depth > 0)
			tls_depth--;
		return;
	}
	const uint64_t t = tg_clock_ns();
	uint64_t pcs[256];
	int n = 0;
	/* the outermost launch call carries the application's stack; calls it
	 * makes (runtime -> driver) share it */
	if (tls_depth++ == 0 && c->o.backtrace)
		n = c->o.backtrace(pcs, c->o.stack_depth < 256 ? c->o.stack_depth : 256);
	const uint32_t tid = (uint32_t)syscall(SYS_gettid);
	const int32_t tag = c->o.current_tag ? c->o.current_tag() : 0;
	pthread_mutex_lock(&c->lmu);
	if (tls_thread_known != c->gen && c->n_thr < MAX_THREADS) {
		c->thr_tid[c->n_thr] = tid;
		c->thr_alt[c->n_thr++] = (uint32_t)(uintptr_t)pthread_self();
		tls_thread_known = c->gen;
	}
	if (tls_depth == 1)
		tls_stack = intern_stack(c, pcs, n);
	c->launches_seen++;
	if (c->n_launches < c->o.max_launches)
		c->launches[c->n_launches++] =
			(struct launch_rec){t, cb->correlationId, tid, tag, tls_stack, tg_phase_get()};
	else
		c->launches_dropped++;
	pthread_mutex_unlock(&c->lmu);
}

bool tg_cupti_api_issues_work(const char *name)
{
	static const char *const prefixes[] = {"cudaLaunch", "__cudaLaunch", "cudaMemcpy",
					       "cudaMemset", "cudaGraphLaunch", "cuLaunch",
					       "cuMemcpy", "cuMemset", "cuGraphLaunch"};
	if (!name)
		return false;
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (strncmp(name, prefixes[i], strlen(prefixes[i])) == 0)
			return strncmp(name, "cudaLaunchHostFunc", 18) != 0 &&
			       strncmp(name, "cuLaunchHostFunc", 16) != 0;
	return false;
}

static int subscribe(struct tg_cupti *c, struct tg_error *err)
{
	if (!c->api.Subscribe || !c->api.EnableCallback)
		return TG_ERR(err, TG_E_UNSUPPORTED, "CUPTI: this libcupti has no callback API");
	CUptiResult r = c->api.Subscribe(&c->sub, on_api, c);
	if (r != CUPTI_SUCCESS)
		return cupti_fail(c, err, TG_E_DEVICE, r, "cuptiSubscribe",
				  r == CUPTI_ERROR_MULTIPLE_SUBSCRIBERS_NOT_SUPPORTED
					  ? "another CUPTI client holds the callback API"
					  : NULL);
	c->subscribed = true;
	c->had_callbacks = true;
	int enabled = 0;
	for (uint32_t id = 1; id < CUPTI_RUNTIME_TRACE_CBID_SIZE; id++)
		if (tg_cupti_api_issues_work(tg_cupti_runtime_cbid_name(id)) &&
		    c->api.EnableCallback(1, c->sub, CUPTI_CB_DOMAIN_RUNTIME_API, id) == CUPTI_SUCCESS)
			enabled++;
	for (uint32_t id = 1; id < CUPTI_DRIVER_TRACE_CBID_SIZE; id++)
		if (tg_cupti_api_issues_work(tg_cupti_driver_cbid_name(id)) &&
		    c->api.EnableCallback(1, c->sub, CUPTI_CB_DOMAIN_DRIVER_API, id) == CUPTI_SUCCESS)
			enabled++;
	if (enabled == 0)
		return TG_ERR(err, TG_E_DEVICE, "CUPTI: no launch callback could be enabled");
	return 0;
}

/* ---- lifecycle ----------------------------------------------------------- */

static uint64_t read_cupti(void *ctx)
{
	struct tg_cupti *c = ctx;
	uint64_t t = 0;
	if (c->api.GetTimestamp(&t) != CUPTI_SUCCESS)
		t = tg_clock_realtime_ns();
	return t;
}

static uint64_t read_mono(void *ctx)
{
	(void)ctx;
	return tg_clock_ns();
}

static uint64_t CUPTIAPI mono_timestamp(void)
{
	return tg_clock_ns();
}

int tg_cupti_new_with_api(const struct tg_cupti_opts *o, const struct tg_cupti_api *api,
			  struct tg_cupti **out, struct tg_error *err)
{
	*out = NULL;
	struct tg_cupti *c = calloc(1, sizeof(*c));
	TG_FAIL_IF(!c, err, TG_E_NOMEM, "CUPTI: out of memory");
	c->o = *o;
	if (!c->o.buffer_bytes)
		c->o.buffer_bytes = 4u << 20;
	c->o.buffer_bytes = (c->o.buffer_bytes + 7) & ~(size_t)7;
	if (c->o.buffers <= 0)
		c->o.buffers = 16;
	if (!c->o.max_launches)
		c->o.max_launches = 262144;
	if (c->o.stack_depth <= 0 || c->o.stack_depth > 256)
		c->o.stack_depth = 64;
	c->api = *api;
	pthread_mutex_init(&c->mu, NULL);
	pthread_mutex_init(&c->lmu, NULL);
	pthread_cond_init(&c->cv, NULL);
	c->max_stacks = 4096;
	c->hash_cap = 8192;
	/* the pool is committed lazily by the kernel as CUPTI fills it */
	c->pool = aligned_alloc(8, c->o.buffer_bytes * (size_t)c->o.buffers);
	c->free_bufs = calloc((size_t)c->o.buffers, sizeof(*c->free_bufs));
	c->queue = calloc((size_t)c->o.buffers, sizeof(*c->queue));
	c->launches = malloc(c->o.max_launches * sizeof(*c->launches));
	c->stack_pcs = malloc((size_t)c->max_stacks * (size_t)c->o.stack_depth * 8);
	c->stack_depth = calloc(c->max_stacks, sizeof(uint32_t));
	c->stack_hash = calloc(c->hash_cap, sizeof(uint32_t));
	c->cap = tg_capture_new();
	if (!c->pool || !c->free_bufs || !c->queue || !c->launches || !c->stack_pcs ||
	    !c->stack_depth || !c->stack_hash || !c->cap) {
		c->api.handle = NULL; /* not ours to close on this path */
		tg_cupti_free(c);
		return TG_ERR(err, TG_E_NOMEM, "CUPTI: out of memory for %d x %zu-byte buffers",
			      o->buffers, o->buffer_bytes);
	}
	for (int i = 0; i < c->o.buffers; i++)
		c->free_bufs[c->n_free++] = c->pool + (size_t)i * c->o.buffer_bytes;
	uint32_t v = 0;
	CUptiResult r = c->api.GetVersion(&v);
	if (r != CUPTI_SUCCESS) {
		int rc = cupti_fail(c, err, TG_E_UNSUPPORTED, r, "cuptiGetVersion", NULL);
		c->api.handle = NULL;
		tg_cupti_free(c);
		return rc;
	}
	c->version = v;
	if (!tg_cupti_version_ok(v) && !getenv("TG_CUPTI_FORCE")) {
		c->api.handle = NULL;
		tg_cupti_free(c);
		return TG_ERR(err, TG_E_UNSUPPORTED,
			      "CUPTI: '%s' is API version %u; this build reads the records of "
			      "version %u (same major version needed; TG_CUPTI_FORCE=1 overrides)",
			      api->library, v, (unsigned)CUPTI_API_VERSION);
	}
	*out = c;
	return 0;
}

int tg_cupti_new(const struct tg_cupti_opts *o, struct tg_cupti **out, struct tg_error *err)
{
	struct tg_cupti_api api;
	TG_TRY(tg_cupti_api_load(o->library, &api, err));
	int rc = tg_cupti_new_with_api(o, &api, out, err);
	if (rc < 0)
		tg_cupti_api_unload(&api);
	return rc;
}

static void disable_all(struct tg_cupti *c)
{
	static const CUpti_ActivityKind kinds[] = {
		CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL, CUPTI_ACTIVITY_KIND_MEMCPY,
		CUPTI_ACTIVITY_KIND_MEMCPY2,           CUPTI_ACTIVITY_KIND_MEMSET,
		CUPTI_ACTIVITY_KIND_RUNTIME,           CUPTI_ACTIVITY_KIND_DRIVER,
		CUPTI_ACTIVITY_KIND_SYNCHRONIZATION,   CUPTI_ACTIVITY_KIND_OVERHEAD,
		CUPTI_ACTIVITY_KIND_DEVICE};
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		c->api.ActivityDisable(kinds[i]);
	if (c->subscribed && c->api.Unsubscribe)
		c->api.Unsubscribe(c->sub);
	c->subscribed = false;
}

int tg_cupti_start(struct tg_cupti *c, struct tg_error *err)
{
	TG_FAIL_IF(c->started, err, TG_E_INVAL, "CUPTI: the collector is already running");
	struct tg_cupti *expected = NULL;
	TG_FAIL_IF(!atomic_compare_exchange_strong(&active, &expected, c), err, TG_E_INVAL,
		   "CUPTI: another collector is running in this process");

	c->gen = atomic_fetch_add(&generation, 1) + 1;
	/* records in CLOCK_MONOTONIC when CUPTI accepts our clock */
	c->clk = (struct tg_clock_align){0};
	if (c->api.ActivityRegisterTimestampCallback &&
	    c->api.ActivityRegisterTimestampCallback(mono_timestamp) == CUPTI_SUCCESS)
		c->clk.identity = true;
	else
		tg_clock_measure(read_cupti, c, read_mono, NULL, CLOCK_READS, &c->start_pair);

	CUptiResult r = c->api.ActivityRegisterCallbacks(buffer_requested, buffer_completed);
	int rc = 0;
	if (r != CUPTI_SUCCESS) {
		rc = cupti_fail(c, err, TG_E_DEVICE, r, "cuptiActivityRegisterCallbacks",
				"no usable GPU or NVIDIA driver");
		atomic_store(&active, NULL);
		return rc;
	}
	r = c->api.ActivityEnable(CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL);
	if (r != CUPTI_SUCCESS) {
		rc = cupti_fail(c, err, TG_E_DEVICE, r, "cuptiActivityEnable(CONCURRENT_KERNEL)",
				r == CUPTI_ERROR_UNKNOWN || r == CUPTI_ERROR_NOT_INITIALIZED
					? "no usable GPU or NVIDIA driver"
					: NULL);
		atomic_store(&active, NULL);
		return rc;
	}
	tg_strlcpy(c->kinds, "kernel", sizeof(c->kinds));
	struct {
		CUpti_ActivityKind kind;
		const char *name;
		bool on;
	} optional[] = {
		{CUPTI_ACTIVITY_KIND_MEMCPY, "memcpy", true},
		{CUPTI_ACTIVITY_KIND_MEMCPY2, "memcpy-p2p", true},
		{CUPTI_ACTIVITY_KIND_MEMSET, "memset", true},
		{CUPTI_ACTIVITY_KIND_RUNTIME, "runtime", true},
		{CUPTI_ACTIVITY_KIND_DRIVER, "driver", c->o.driver_api},
		{CUPTI_ACTIVITY_KIND_SYNCHRONIZATION, "synchronization", true},
		{CUPTI_ACTIVITY_KIND_OVERHEAD, "overhead", true},
		{CUPTI_ACTIVITY_KIND_DEVICE, "device", true},
	};
	for (size_t i = 0; i < sizeof(optional) / sizeof(optional[0]); i++) {
		if (!optional[i].on)
			continue;
		r = c->api.ActivityEnable(optional[i].kind);
		if (r == CUPTI_SUCCESS) {
			size_t used = strlen(c->kinds);
			snprintf(c->kinds + used, sizeof(c->kinds) - used, ",%s", optional[i].name);
		} else {
			char buf[96];
			tg_warn("CUPTI: %s activity not traced: %s", optional[i].name,
				tg_cupti_result_text(&c->api, r, buf, sizeof(buf)));
		}
	}
	struct tg_error sub_err;
	tg_error_clear(&sub_err);
	if (subscribe(c, &sub_err) < 0)
		tg_warn("%s; GPU work is not attributed to CPU stacks", sub_err.msg);

	c->stopping = false;
	if (pthread_create(&c->worker, NULL, worker_main, c) != 0) {
		disable_all(c);
		atomic_store(&active, NULL);
		return TG_ERR(err, TG_E_INTERNAL, "CUPTI: cannot start the conversion thread");
	}
	c->worker_started = true;
	c->started = true;
	return 0;
}

int tg_cupti_stop(struct tg_cupti *c, struct tg_error *err)
{
	if (!c->started)
		return 0;
	CUptiResult r = c->api.ActivityFlushAll(CUPTI_ACTIVITY_FLAG_FLUSH_FORCED);
	disable_all(c);
	/* again: records completed while kinds were being disabled */
	c->api.ActivityFlushAll(CUPTI_ACTIVITY_FLAG_FLUSH_FORCED);
	if (!c->clk.identity) {
		struct tg_clock_pair stop;
		tg_clock_measure(read_cupti, c, read_mono, NULL, CLOCK_READS, &stop);
		tg_clock_fit(&c->start_pair, &stop, MAX_CLOCK_STEP_NS, &c->clk);
		if (c->clk.step)
			tg_warn("CUPTI: its clock stepped by %lld ns during the run; GPU times use the "
				"start offset",
				(long long)c->clk.drift_ns);
	}
	pthread_mutex_lock(&c->mu);
	c->stopping = true;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
	if (c->worker_started)
		pthread_join(c->worker, NULL);
	c->worker_started = false;
	c->started = false;
	atomic_store(&active, NULL);
	if (r != CUPTI_SUCCESS)
		return cupti_fail(c, err, TG_E_DEVICE, r, "cuptiActivityFlushAll", NULL);
	if (c->convert_error)
		return TG_ERR(err, c->convert_error, "CUPTI: out of memory converting records");
	return 0;
}

static int move_events(struct tg_cupti *c, struct tg_capture *cap)
{
	for (size_t i = 0; i < c->cap->n_events; i++) {
		struct tg_event e = c->cap->events[i];
		e.start_ns = tg_clock_apply(&c->clk, e.start_ns);
		e.end_ns = tg_clock_apply(&c->clk, e.end_ns);
		e.name = tg_capture_intern(cap, tg_capture_string(c->cap, e.name));
		e.domain = tg_capture_intern(cap, tg_capture_string(c->cap, e.domain));
		if (e.name == UINT32_MAX || e.domain == UINT32_MAX || tg_capture_add_event(cap, &e) < 0)
			return TG_E_NOMEM;
	}
	for (size_t i = 0; i < c->cap->n_devices; i++) {
		struct tg_capture_device d = c->cap->devices[i];
		d.name = tg_capture_intern(cap, tg_capture_string(c->cap, d.name));
		if (d.name == UINT32_MAX || tg_capture_set_device(cap, &d) < 0)
			return TG_E_NOMEM;
	}
	return 0;
}

static int move_launches(struct tg_cupti *c, struct tg_capture *cap)
{
	uint32_t *ids = calloc((size_t)c->n_stacks + 1, sizeof(*ids));
	if (!ids)
		return TG_E_NOMEM;
	int rc = 0;
	for (uint32_t s = 1; s <= c->n_stacks && rc == 0; s++) {
		ids[s] = tg_capture_add_stack(cap, c->stack_pcs + (size_t)(s - 1) * c->o.stack_depth,
					      c->stack_depth[s - 1]);
		if (ids[s] == UINT32_MAX)
			rc = TG_E_NOMEM;
	}
	for (size_t i = 0; i < c->n_launches && rc == 0; i++) {
		const struct launch_rec *l = &c->launches[i];
		struct tg_launch tl = {l->t_ns, l->correlation, l->tid, l->tag, ids[l->stack], l->phase};
		rc = tg_capture_add_launch(cap, &tl);
	}
	for (int i = 0; i < c->n_thr && rc == 0; i++)
		rc = tg_capture_set_thread(cap, c->thr_tid[i], c->thr_alt[i], NULL);
	free(ids);
	return rc;
}

int tg_cupti_export(struct tg_cupti *c, struct tg_capture *cap, struct tg_error *err)
{
	TG_FAIL_IF(c->started, err, TG_E_INVAL, "CUPTI: export needs a stopped collector");
	int rc = move_events(c, cap);
	if (rc == 0)
		rc = move_launches(c, cap);
	struct tg_cupti_stats st;
	tg_cupti_get_stats(c, &st);
	char buf[64];
	snprintf(buf, sizeof(buf), "%u", st.version);
	if (rc == 0)
		rc = tg_capture_set_meta(cap, "cupti.version", buf);
	if (rc == 0)
		rc = tg_capture_set_meta(cap, "cupti.library", st.library);
	if (rc == 0)
		rc = tg_capture_set_meta(cap, "cupti.kinds", st.kinds);
	snprintf(buf, sizeof(buf), "%s%s", st.clock, st.clock_step ? " (step detected)" : "");
	if (rc == 0)
		rc = tg_capture_set_meta(cap, "cupti.clock", buf);
	const struct {
		const char *key;
		uint64_t v;
	} counters[] = {
		{"cupti.records", st.records},
		{"cupti.dropped_records", st.dropped},
		{"cupti.buffers_refused", st.buffers_refused},
		{"cupti.skipped_records", st.skipped},
		{"cupti.launches", st.launches},
		{"cupti.launches_dropped", st.launches_dropped},
		{"cupti.stacks_dropped", st.stacks_dropped},
	};
	for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]) && rc == 0; i++)
		rc = tg_capture_count(cap, counters[i].key, counters[i].v);
	TG_FAIL_IF(rc < 0, err, TG_E_NOMEM, "CUPTI: out of memory exporting %zu records",
		   c->cap->n_events);
	return 0;
}

void tg_cupti_get_stats(const struct tg_cupti *c, struct tg_cupti_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->version = c->version;
	tg_strlcpy(st->library, c->api.library, sizeof(st->library));
	tg_strlcpy(st->clock, c->clk.identity ? "callback" : "offset", sizeof(st->clock));
	st->clock_offset_ns = c->clk.offset0;
	st->clock_drift_ns = c->clk.drift_ns;
	st->clock_uncertainty_ns = c->clk.uncertainty_ns;
	st->clock_step = c->clk.step;
	st->records = c->counts.records;
	st->kernels = c->counts.kernels;
	st->memcpys = c->counts.memcpys;
	st->memsets = c->counts.memsets;
	st->api_calls = c->counts.api_calls;
	st->syncs = c->counts.syncs;
	st->overheads = c->counts.overheads;
	st->skipped = c->counts.skipped;
	st->dropped = atomic_load(&c->dropped);
	st->buffers_completed = atomic_load(&c->buffers_completed);
	st->buffers_refused = atomic_load(&c->buffers_refused);
	st->launches = c->launches_seen;
	st->launches_dropped = c->launches_dropped;
	st->stacks = c->n_stacks;
	st->stacks_dropped = c->stacks_dropped;
	st->callbacks = c->had_callbacks;
	tg_strlcpy(st->kinds, c->kinds, sizeof(st->kinds));
}

void tg_cupti_free(struct tg_cupti *c)
{
	if (!c)
		return;
	if (c->started)
		tg_cupti_stop(c, NULL);
	tg_capture_free(c->cap);
	free(c->pool);
	free(c->free_bufs);
	free(c->queue);
	free(c->launches);
	free(c->stack_pcs);
	free(c->stack_depth);
	free(c->stack_hash);
	pthread_mutex_destroy(&c->mu);
	pthread_mutex_destroy(&c->lmu);
	pthread_cond_destroy(&c->cv);
	tg_cupti_api_unload(&c->api);
	free(c);
}
