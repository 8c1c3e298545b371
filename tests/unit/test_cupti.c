/* cupti/ without a GPU: record conversion from hand-built CUPTI structs, the
 * buffer walker (ours, and CUPTI's own when libcupti loads), clock
 * alignment on synthetic clocks, callback names, the collector's lifecycle
 * over a fake CUPTI table (buffers, flush, drops, refused buffers, launch
 * callbacks, enable failures), the real libcupti refusing to trace without
 * a driver, and our NVTX injection receiving real NVTX calls. */
#include <nvtx3/nvToolsExt.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <wchar.h>

#include "cupti_internal.h"
#include "tg_clock.h"
#include "tg_test.h"

/* ---- conversion ------------------------------------------------------------ */

static const struct tg_clock_align identity = {.identity = true};

static void test_convert_kernel_memcpy_memset(void **state)
{
	(void)state;
	struct tg_capture *c = tg_capture_new();
	c->pid = 99;
	struct tg_cupti_counts n = {0};
	CUpti_ActivityKernel10 k;
	memset(&k, 0, sizeof(k));
	k.kind = CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL;
	k.start = 1000;
	k.end = 4000;
	k.deviceId = 1;
	k.contextId = 2;
	k.streamId = 13;
	k.correlationId = 77;
	k.gridX = 40;
	k.gridY = 2;
	k.gridZ = 1;
	k.blockX = 256;
	k.blockY = 1;
	k.blockZ = 1;
	k.registersPerThread = 48;
	k.staticSharedMemory = 1024;
	k.dynamicSharedMemory = 2048;
	k.name = "_Z10atc_kernelPKdPdi";
	assert_int_equal(tg_cupti_convert((CUpti_Activity *)&k, &identity, c, &n), 1);
	const struct tg_event *e = &c->events[0];
	assert_int_equal(e->kind, TG_EV_KERNEL);
	assert_int_equal(e->start_ns, 1000);
	assert_int_equal(e->end_ns, 4000);
	assert_int_equal(e->device, 1);
	assert_int_equal(e->context, 2);
	assert_int_equal(e->stream, 13);
	assert_int_equal(e->correlation, 77);
	assert_int_equal(e->grid[0], 40);
	assert_int_equal(e->grid[1], 2);
	assert_int_equal(e->block[0], 256);
	assert_int_equal(e->regs, 48);
	assert_int_equal(e->shmem, 3072);
	assert_int_equal(e->pid, 99);
	assert_string_equal(tg_capture_string(c, e->name), "_Z10atc_kernelPKdPdi");

	CUpti_ActivityMemcpy6 m;
	memset(&m, 0, sizeof(m));
	m.kind = CUPTI_ACTIVITY_KIND_MEMCPY;
	m.copyKind = CUPTI_ACTIVITY_MEMCPY_KIND_DTOH;
	m.srcKind = CUPTI_ACTIVITY_MEMORY_KIND_DEVICE;
	m.dstKind = CUPTI_ACTIVITY_MEMORY_KIND_PAGEABLE;
	m.flags = CUPTI_ACTIVITY_FLAG_MEMCPY_ASYNC;
	m.bytes = 1 << 20;
	m.start = 5000;
	m.end = 6000;
	m.streamId = 13;
	m.correlationId = 78;
	assert_int_equal(tg_cupti_convert((CUpti_Activity *)&m, &identity, c, &n), 1);
	e = &c->events[1];
	assert_int_equal(e->kind, TG_EV_MEMCPY);
	assert_int_equal(e->sub, TG_COPY_DTOH);
	assert_int_equal(e->bytes, 1 << 20);
	assert_true(e->flags & TG_EVF_PAGEABLE);
	assert_true(e->flags & TG_EVF_ASYNC_COPY);
	assert_string_equal(tg_capture_string(c, e->name), "memcpy DtoH");

	CUpti_ActivityMemset4 s;
	memset(&s, 0, sizeof(s));
	s.kind = CUPTI_ACTIVITY_KIND_MEMSET;
	s.bytes = 4096;
	s.start = 7000;
	s.end = 7100;
	s.correlationId = 79;
	assert_int_equal(tg_cupti_convert((CUpti_Activity *)&s, &identity, c, &n), 1);
	assert_int_equal(c->events[2].kind, TG_EV_MEMSET);
	assert_int_equal(c->events[2].bytes, 4096);
	/* a kernel still running when the buffer was flushed reports end 0 */
	k.end = 0;
	assert_int_equal(tg_cupti_convert((CUpti_Activity *)&k, &identity, c, &n), 1);
	assert_int_equal(c->events[3].end_ns, c->events[3].start_ns);
	assert_int_equal(n.kernels, 2);
	assert_int_equal(n.memcpys, 1);
	assert_int_equal(n.memsets, 1);
	assert_int_equal(n.records, 4);
	tg_capture_free(c);
}

static void test_convert_api_sync_overhead_device(void **state)
{
	(void)state;
	struct tg_capture *c = tg_capture_new();
	struct tg_cupti_counts n = {0};
	CUpti_ActivityAPI a;
	memset(&a, 0, sizeof(a));
	a.kind = CUPTI_ACTIVITY_KIND_RUNTIME;
	a.cbid = CUPTI_RUNTIME_TRACE_CBID_cudaLaunchKernel_v7000;
	a.start = 100;
	a.end = 150;
	a.processId = 5;
	a.threadId = 6;
	a.correlationId = 77;
	assert_int_equal(tg_cupti_convert((CUpti_Activity *)&a, &identity, c, &n), 1);
	const struct tg_event *e = &c->events[0];
	assert_int_equal(e->kind, TG_EV_RUNTIME);
	assert_string_equal(tg_capture_string(c, e->name), "cudaLaunchKernel");
	assert_string_equal(tg_capture_string(c, e->domain), "runtime");
	assert_int_equal(e->pid, 5);
	assert_int_equal(e->tid, 6);
	assert_int_equal(e->cbid, 211);
	assert_false(e->flags & TG_EVF_FAILED);
	a.kind = CUPTI_ACTIVITY_KIND_DRIVER;
	a.cbid = CUPTI_DRIVER_TRACE_CBID_cuLaunchKernelEx;
	a.returnValue = 1;
	assert_int_equal(tg_cupti_convert((CUpti_Activity *)&a, &identity, c, &n), 1);
	assert_int_equal(c->events[1].kind, TG_EV_DRIVER);
	assert_string_equal(tg_capture_string(c, c->events[1].name), "cuLaunchKernelEx");
	assert_true(c->events[1].flags & TG_EVF_FAILED);
	/* an id newer than this build's table keeps a readable name */
	a.cbid = 99999;
	assert_int_equal(tg_cupti_convert((CUpti_Activity *)&a, &identity, c, &n), 1);
	assert_string_equal(tg_capture_string(c, c->events[2].name), "driver API 99999");

	CUpti_ActivitySynchronization2 y;
	memset(&y, 0, sizeof(y));
	y.kind = CUPTI_ACTIVITY_KIND_SYNCHRONIZATION;
	y.type = CUPTI_ACTIVITY_SYNCHRONIZATION_TYPE_STREAM_SYNCHRONIZE;
	y.start = 200;
	y.end = 900;
	y.streamId = 13;
	y.correlationId = 80;
	assert_int_equal(tg_cupti_convert((CUpti_Activity *)&y, &identity, c, &n), 1);
	assert_int_equal(c->events[3].kind, TG_EV_SYNC);
	assert_string_equal(tg_capture_string(c, c->events[3].name), "cudaStreamSynchronize");
	assert_int_equal(c->events[3].correlation, 80);

	CUpti_ActivityOverhead3 o;
	memset(&o, 0, sizeof(o));
	o.kind = CUPTI_ACTIVITY_KIND_OVERHEAD;
	o.overheadKind = CUPTI_ACTIVITY_OVERHEAD_CUPTI_BUFFER_FLUSH;
	o.objectKind = CUPTI_ACTIVITY_OBJECT_THREAD;
	o.objectId.pt.processId = 5;
	o.objectId.pt.threadId = 6;
	o.start = 300;
	o.end = 310;
	assert_int_equal(tg_cupti_convert((CUpti_Activity *)&o, &identity, c, &n), 1);
	assert_int_equal(c->events[4].kind, TG_EV_OVERHEAD);
	assert_int_equal(c->events[4].tid, 6);
	assert_int_equal(c->events[4].sub, 0);
	assert_string_equal(tg_capture_string(c, c->events[4].name), "CUPTI: buffer flush");

	CUpti_ActivityDevice5 d;
	memset(&d, 0, sizeof(d));
	d.kind = CUPTI_ACTIVITY_KIND_DEVICE;
	d.id = 0;
	d.name = "NVIDIA H100 80GB HBM3";
	d.numMultiprocessors = 132;
	d.computeCapabilityMajor = 9;
	d.globalMemorySize = 85ull << 30;
	d.globalMemoryBandwidth = 3352000000ull; /* KB/s */
	assert_int_equal(tg_cupti_convert((CUpti_Activity *)&d, &identity, c, &n), 1);
	assert_int_equal(c->n_devices, 1);
	assert_string_equal(tg_capture_string(c, c->devices[0].name), "NVIDIA H100 80GB HBM3");
	assert_int_equal(c->devices[0].sms, 132);
	assert_int_equal(c->devices[0].memory_bandwidth, 3352000000000ull);

	/* kinds we do not convert are counted, not lost silently */
	CUpti_ActivityName nm;
	memset(&nm, 0, sizeof(nm));
	nm.kind = CUPTI_ACTIVITY_KIND_NAME;
	assert_int_equal(tg_cupti_convert((CUpti_Activity *)&nm, &identity, c, &n), 0);
	assert_int_equal(n.skipped, 1);
	assert_int_equal(n.api_calls, 3);
	assert_int_equal(n.syncs, 1);
	assert_int_equal(n.overheads, 1);
	assert_int_equal(n.devices, 1);
	tg_capture_free(c);
}

/* ---- walking ------------------------------------------------------------------ */

/* kernel, memcpy, runtime API, marker: laid back to back, 8-aligned */
static size_t build_buffer(uint8_t *buf, size_t cap)
{
	memset(buf, 0, cap);
	size_t off = 0;
	CUpti_ActivityKernel10 *k = (CUpti_ActivityKernel10 *)(void *)(buf + off);
	k->kind = CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL;
	k->start = 10;
	k->end = 20;
	k->correlationId = 1;
	k->name = "_Z1kv";
	off += sizeof(*k);
	CUpti_ActivityMemcpy6 *m = (CUpti_ActivityMemcpy6 *)(void *)(buf + off);
	m->kind = CUPTI_ACTIVITY_KIND_MEMCPY;
	m->copyKind = 1;
	m->bytes = 4096;
	m->start = 30;
	m->end = 40;
	off += sizeof(*m);
	CUpti_ActivityAPI *a = (CUpti_ActivityAPI *)(void *)(buf + off);
	a->kind = CUPTI_ACTIVITY_KIND_RUNTIME;
	a->cbid = 211;
	a->start = 5;
	a->end = 9;
	a->correlationId = 1;
	off += sizeof(*a);
	CUpti_ActivityMarker2 *mk = (CUpti_ActivityMarker2 *)(void *)(buf + off);
	mk->kind = CUPTI_ACTIVITY_KIND_MARKER;
	mk->flags = CUPTI_ACTIVITY_FLAG_MARKER_START;
	mk->name = "outer";
	off += sizeof(*mk);
	return off;
}

typedef CUptiResult (*next_fn)(uint8_t *, size_t, CUpti_Activity **);

static int walk_kinds(next_fn next, uint8_t *buf, size_t valid, int *kinds, int cap,
		      CUptiResult *end)
{
	CUpti_Activity *r = NULL;
	int n = 0;
	for (;;) {
		CUptiResult rc = next(buf, valid, &r);
		if (rc != CUPTI_SUCCESS) {
			*end = rc;
			return n;
		}
		if (n < cap)
			kinds[n] = r->kind;
		n++;
	}
}

static void check_walker(next_fn next)
{
	static uint8_t buf[4096] __attribute__((aligned(8)));
	int kinds[8];
	CUptiResult end;
	size_t len = build_buffer(buf, sizeof(buf));
	assert_int_equal(walk_kinds(next, buf, len, kinds, 8, &end), 4);
	assert_int_equal(end, CUPTI_ERROR_MAX_LIMIT_REACHED);
	assert_int_equal(kinds[0], CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL);
	assert_int_equal(kinds[1], CUPTI_ACTIVITY_KIND_MEMCPY);
	assert_int_equal(kinds[2], CUPTI_ACTIVITY_KIND_RUNTIME);
	assert_int_equal(kinds[3], CUPTI_ACTIVITY_KIND_MARKER);
	/* cut in the middle of the memcpy: the kernel only */
	assert_int_equal(walk_kinds(next, buf, sizeof(CUpti_ActivityKernel10) + 40, kinds, 8, &end), 1);
	assert_int_equal(end, CUPTI_ERROR_MAX_LIMIT_REACHED);
	/* empty */
	assert_int_equal(walk_kinds(next, buf, 0, kinds, 8, &end), 0);
	assert_int_equal(end, CUPTI_ERROR_MAX_LIMIT_REACHED);
	/* kernel, then INVALID kind */
	build_buffer(buf, sizeof(buf));
	((CUpti_Activity *)(void *)(buf + sizeof(CUpti_ActivityKernel10)))->kind =
		CUPTI_ACTIVITY_KIND_INVALID;
	assert_int_equal(walk_kinds(next, buf, len, kinds, 8, &end), 1);
	assert_int_equal(end, CUPTI_ERROR_INVALID_KIND);
	/* kernel, then a kind beyond the enum: the walk ends */
	((CUpti_Activity *)(void *)(buf + sizeof(CUpti_ActivityKernel10)))->kind =
		(CUpti_ActivityKind)(CUPTI_ACTIVITY_KIND_COUNT + 7);
	assert_int_equal(walk_kinds(next, buf, len, kinds, 8, &end), 1);
}

static void test_walker(void **state)
{
	(void)state;
	check_walker(tg_cupti_walk_next);
	assert_int_equal(tg_cupti_record_size(CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL), 216);
	assert_int_equal(tg_cupti_record_size(CUPTI_ACTIVITY_KIND_INVALID), 0);
}

/* The same buffers through CUPTI's own walker, when libcupti loads (it
 * needs no driver for this). */
static void test_walker_matches_libcupti(void **state)
{
	(void)state;
	struct tg_cupti_api api;
	struct tg_error err;
	if (tg_cupti_api_load(NULL, &api, &err) < 0) {
		printf("libcupti not loadable here (%s): differential walk skipped\n", err.msg);
		skip();
	}
	check_walker(api.ActivityGetNextRecord);
	tg_cupti_api_unload(&api);
}

static void test_api_load_errors(void **state)
{
	(void)state;
	struct tg_cupti_api api;
	struct tg_error err;
	tg_error_clear(&err);
	assert_int_equal(tg_cupti_api_load("/nonexistent/libcupti.so.13", &api, &err), TG_E_UNSUPPORTED);
	assert_non_null(strstr(err.msg, "/nonexistent/libcupti.so.13"));
	assert_non_null(strstr(err.msg, "TG_CUPTI_PATH"));
	/* a library that is not CUPTI */
	tg_error_clear(&err);
	assert_int_equal(tg_cupti_api_load("libm.so.6", &api, &err), TG_E_UNSUPPORTED);
	assert_non_null(strstr(err.msg, "not a usable libcupti"));
	assert_true(tg_cupti_version_ok(CUPTI_API_VERSION));
	assert_true(tg_cupti_version_ok(130100));
	assert_false(tg_cupti_version_ok(140000));
	assert_false(tg_cupti_version_ok(120800));
}

static void test_cbid_names(void **state)
{
	(void)state;
	assert_string_equal(tg_cupti_runtime_cbid_name(CUPTI_RUNTIME_TRACE_CBID_cudaLaunchKernel_v7000),
			    "cudaLaunchKernel");
	assert_string_equal(tg_cupti_runtime_cbid_name(CUPTI_RUNTIME_TRACE_CBID_cudaLaunchKernelExC_v11060),
			    "cudaLaunchKernelExC");
	assert_string_equal(tg_cupti_runtime_cbid_name(CUPTI_RUNTIME_TRACE_CBID___cudaLaunchKernel_v13000),
			    "__cudaLaunchKernel");
	assert_string_equal(tg_cupti_runtime_cbid_name(CUPTI_RUNTIME_TRACE_CBID_cudaMemcpyAsync_v3020),
			    "cudaMemcpyAsync");
	assert_string_equal(tg_cupti_driver_cbid_name(CUPTI_DRIVER_TRACE_CBID_cuLaunchKernelEx),
			    "cuLaunchKernelEx");
	assert_null(tg_cupti_runtime_cbid_name(0));
	assert_null(tg_cupti_runtime_cbid_name(1000000));
	const char *work[] = {"cudaLaunchKernel", "__cudaLaunchKernel", "cudaLaunchKernelExC_ptsz",
			      "cudaMemcpyAsync", "cudaMemset2D", "cudaGraphLaunch", "cuLaunchKernelEx",
			      "cuMemcpyHtoDAsync", "cuMemsetD8", "cuGraphLaunch", "cudaLaunchCooperativeKernel"};
	for (size_t i = 0; i < sizeof(work) / sizeof(work[0]); i++)
		assert_true(tg_cupti_api_issues_work(work[i]));
	const char *other[] = {"cudaMalloc", "cudaStreamSynchronize", "cudaLaunchHostFunc",
			       "cuLaunchHostFunc", "cudaGetDevice", NULL};
	for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++)
		assert_false(tg_cupti_api_issues_work(other[i]));
}

/* ---- clock alignment ------------------------------------------------------------ */

struct script {
	uint64_t t;
	uint64_t step;
	int64_t offset;
	uint64_t jitter_every; /* every n-th bracket is slow */
	uint64_t calls;
};

static uint64_t fake_mono(void *ctx)
{
	struct script *s = ctx;
	s->calls++;
	s->t += s->step;
	if (s->jitter_every && s->calls % s->jitter_every == 0)
		s->t += 5000; /* a preempted read */
	return s->t;
}

static uint64_t fake_foreign(void *ctx)
{
	struct script *s = ctx;
	s->t += s->step;
	return s->t + (uint64_t)s->offset;
}

static void test_clock_alignment(void **state)
{
	(void)state;
	struct script s = {.t = 1000000, .step = 10, .offset = 1795496872336099161ll, .jitter_every = 3};
	struct tg_clock_pair start, stop;
	tg_clock_measure(fake_foreign, &s, fake_mono, &s, 16, &start);
	/* the tightest bracket: a, f, b 10 ns apart */
	assert_int_equal(start.uncertainty_ns, 10);
	assert_int_equal((int64_t)(start.foreign_ns - start.mono_ns), s.offset);
	/* 1 s later the foreign clock runs 500 ns ahead: drift */
	s.t += 1000000000;
	s.offset += 500;
	tg_clock_measure(fake_foreign, &s, fake_mono, &s, 16, &stop);
	struct tg_clock_align a;
	tg_clock_fit(&start, &stop, 1000000, &a);
	assert_false(a.step);
	assert_false(a.identity);
	assert_int_equal(a.drift_ns, 500);
	/* at the start the start offset, halfway half the drift */
	assert_int_equal(tg_clock_apply(&a, start.foreign_ns), start.mono_ns);
	uint64_t mid_f = start.foreign_ns + (stop.foreign_ns - start.foreign_ns) / 2;
	uint64_t mid_m = tg_clock_apply(&a, mid_f);
	int64_t expect = (int64_t)(mid_f - (uint64_t)(start.foreign_ns - start.mono_ns)) - 250;
	assert_true(llabs((long long)((int64_t)mid_m - expect)) <= 2);
	/* a step of 5 ms (NTP setting CLOCK_REALTIME): flagged, start offset kept */
	s.t += 1000;
	s.offset += 5000000;
	tg_clock_measure(fake_foreign, &s, fake_mono, &s, 16, &stop);
	tg_clock_fit(&start, &stop, 1000000, &a);
	assert_true(a.step);
	assert_true(a.slope == 0.0);
	assert_int_equal(tg_clock_apply(&a, start.foreign_ns + 777), start.mono_ns + 777);
	/* no stop pair: constant offset */
	tg_clock_fit(&start, NULL, 1000000, &a);
	assert_int_equal(tg_clock_apply(&a, start.foreign_ns + 5), start.mono_ns + 5);
	/* identity leaves times alone */
	assert_int_equal(tg_clock_apply(&identity, 123456), 123456);
}

/* ---- the collector over a fake CUPTI --------------------------------------------- */

static struct fake {
	CUpti_BuffersCallbackRequestFunc requested;
	CUpti_BuffersCallbackCompleteFunc completed;
	CUpti_CallbackFunc cb;
	void *cb_ud;
	bool ts_accepted;
	CUptiResult kernel_enable;
	uint32_t version;
	bool enabled[64];
	int callbacks_enabled;
	int64_t offset;    /* CUPTI clock - CLOCK_MONOTONIC */
	size_t dropped;    /* reported per completed buffer */
	int extra_requests;
	uint8_t recs[8192] __attribute__((aligned(8)));
	size_t recs_len;
	int flushes;
	bool subscribed;
} F;

static CUptiResult f_version(uint32_t *v)
{
	*v = F.version;
	return CUPTI_SUCCESS;
}

static CUptiResult f_result_string(CUptiResult r, const char **s)
{
	*s = r == CUPTI_ERROR_UNKNOWN ? "CUPTI_ERROR_UNKNOWN" : "CUPTI_ERROR_OTHER";
	return CUPTI_SUCCESS;
}

static CUptiResult f_timestamp(uint64_t *t)
{
	*t = tg_clock_ns() + (uint64_t)F.offset;
	return CUPTI_SUCCESS;
}

static CUptiResult f_enable(CUpti_ActivityKind k)
{
	if (k == CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL && F.kernel_enable != CUPTI_SUCCESS)
		return F.kernel_enable;
	if (k == CUPTI_ACTIVITY_KIND_DEVICE)
		return CUPTI_ERROR_NOT_COMPATIBLE; /* an optional kind refused: a warning only */
	F.enabled[k & 63] = true;
	return CUPTI_SUCCESS;
}

static CUptiResult f_disable(CUpti_ActivityKind k)
{
	F.enabled[k & 63] = false;
	return CUPTI_SUCCESS;
}

static CUptiResult f_register(CUpti_BuffersCallbackRequestFunc r, CUpti_BuffersCallbackCompleteFunc c)
{
	F.requested = r;
	F.completed = c;
	return CUPTI_SUCCESS;
}


static CUptiResult f_register_ts(CUpti_TimestampCallbackFunc fn)
{
	if (!F.ts_accepted)
		return CUPTI_ERROR_UNKNOWN;
	(void)fn;
	return CUPTI_SUCCESS;
}

/* Delivers the pending records in one buffer, then asks for extra buffers
 * (completed empty) to exhaust the pool. */
static CUptiResult f_flush(uint32_t flag)
{
	(void)flag;
	F.flushes++;
	if (F.recs_len) {
		uint8_t *b = NULL;
		size_t size = 0, max = 0;
		F.requested(&b, &size, &max);
		assert_non_null(b);
		assert_true(size >= F.recs_len);
		assert_int_equal((uintptr_t)b % 8, 0);
		memcpy(b, F.recs, F.recs_len);
		F.completed(NULL, 0, b, size, F.recs_len);
		F.recs_len = 0;
	}
	uint8_t *held[8];
	int n_held = 0;
	for (int i = 0; i < F.extra_requests && n_held < 8; i++) {
		uint8_t *b = NULL;
		size_t size = 0, max = 0;
		F.requested(&b, &size, &max);
		if (b)
			held[n_held++] = b;
		else
			assert_int_equal(size, 0);
	}
	F.extra_requests = 0;
	for (int i = 0; i < n_held; i++)
		F.completed(NULL, 0, held[i], 0, 0);
	return CUPTI_SUCCESS;
}

static CUptiResult f_dropped(CUcontext ctx, uint32_t stream, size_t *d)
{
	(void)ctx;
	(void)stream;
	*d = F.dropped;
	return CUPTI_SUCCESS;
}

static CUptiResult f_subscribe(CUpti_SubscriberHandle *sub, CUpti_CallbackFunc cb, void *ud)
{
	*sub = (CUpti_SubscriberHandle)(void *)&F;
	F.cb = cb;
	F.cb_ud = ud;
	F.subscribed = true;
	return CUPTI_SUCCESS;
}

static CUptiResult f_unsubscribe(CUpti_SubscriberHandle sub)
{
	(void)sub;
	F.subscribed = false;
	return CUPTI_SUCCESS;
}

static CUptiResult f_enable_cb(uint32_t en, CUpti_SubscriberHandle sub, CUpti_CallbackDomain d,
			       CUpti_CallbackId id)
{
	(void)sub;
	(void)d;
	(void)id;
	F.callbacks_enabled += en ? 1 : 0;
	return CUPTI_SUCCESS;
}

static struct tg_cupti_api fake_api(void)
{
	struct tg_cupti_api a;
	memset(&a, 0, sizeof(a));
	a.GetVersion = f_version;
	a.GetResultString = f_result_string;
	a.GetTimestamp = f_timestamp;
	a.ActivityEnable = f_enable;
	a.ActivityDisable = f_disable;
	a.ActivityRegisterCallbacks = f_register;
	a.ActivityRegisterTimestampCallback = f_register_ts;
	a.ActivityFlushAll = f_flush;
	a.ActivityGetNextRecord = NULL; /* our walker */
	a.ActivityGetNumDroppedRecords = f_dropped;
	a.Subscribe = f_subscribe;
	a.Unsubscribe = f_unsubscribe;
	a.EnableCallback = f_enable_cb;
	snprintf(a.library, sizeof(a.library), "fake-cupti");
	return a;
}

static int fake_setup(void **state)
{
	(void)state;
	memset(&F, 0, sizeof(F));
	F.version = CUPTI_API_VERSION;
	F.kernel_enable = CUPTI_SUCCESS;
	return 0;
}

static const uint64_t launch_pcs[] = {0x1111, 0x2222, 0x3333};

static int fake_backtrace(uint64_t *pcs, int max)
{
	int n = max < 3 ? max : 3;
	memcpy(pcs, launch_pcs, (size_t)n * 8);
	return n;
}

static int32_t fake_tag(void)
{
	return 2;
}

static void call_api(CUpti_CallbackDomain d, CUpti_CallbackId id, CUpti_ApiCallbackSite site,
		     uint32_t corr)
{
	CUpti_CallbackData cb;
	memset(&cb, 0, sizeof(cb));
	cb.callbackSite = site;
	cb.correlationId = corr;
	F.cb(F.cb_ud, d, id, &cb);
}

static void add_kernel(uint64_t start, uint64_t end, uint32_t corr)
{
	CUpti_ActivityKernel10 *k = (CUpti_ActivityKernel10 *)(void *)(F.recs + F.recs_len);
	memset(k, 0, sizeof(*k));
	k->kind = CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL;
	k->start = start;
	k->end = end;
	k->correlationId = corr;
	k->streamId = 7;
	k->name = "_Z3fooPd";
	F.recs_len += sizeof(*k);
}

static void run_collector(bool ts_accepted)
{
	F.ts_accepted = ts_accepted;
	F.offset = 1795496872000000000ll;
	struct tg_cupti_api api = fake_api();
	struct tg_cupti_opts o = {.buffers = 2, .buffer_bytes = 4096, .backtrace = fake_backtrace,
				  .current_tag = fake_tag};
	struct tg_cupti *c = NULL;
	struct tg_error err;
	tg_error_clear(&err);
	assert_int_equal(tg_cupti_new_with_api(&o, &api, &c, &err), 0);
	assert_int_equal(tg_cupti_start(c, &err), 0);
	assert_true(F.enabled[CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL]);
	assert_true(F.enabled[CUPTI_ACTIVITY_KIND_MEMCPY]);
	assert_true(F.enabled[CUPTI_ACTIVITY_KIND_RUNTIME]);
	assert_false(F.enabled[CUPTI_ACTIVITY_KIND_DRIVER]); /* opt-in */
	assert_true(F.enabled[CUPTI_ACTIVITY_KIND_SYNCHRONIZATION]);
	assert_true(F.subscribed);
	/* launches, copies, memsets and graph launches of both APIs */
	assert_true(F.callbacks_enabled > 20);
	/* a second collector cannot start while this one runs */
	struct tg_cupti *c2 = NULL;
	assert_int_equal(tg_cupti_new_with_api(&o, &api, &c2, &err), 0);
	assert_int_equal(tg_cupti_start(c2, &err), TG_E_INVAL);
	assert_non_null(strstr(err.msg, "another collector"));
	tg_cupti_free(c2);

	/* cudaLaunchKernel calling cuLaunchKernel: both correlation ids get the
	 * application's stack */
	call_api(CUPTI_CB_DOMAIN_RUNTIME_API, 211, CUPTI_API_ENTER, 11);
	call_api(CUPTI_CB_DOMAIN_DRIVER_API, 307, CUPTI_API_ENTER, 12);
	call_api(CUPTI_CB_DOMAIN_DRIVER_API, 307, CUPTI_API_EXIT, 12);
	call_api(CUPTI_CB_DOMAIN_RUNTIME_API, 211, CUPTI_API_EXIT, 11);
	const uint64_t now = tg_clock_ns();
	const uint64_t base = ts_accepted ? now : now + (uint64_t)F.offset;
	add_kernel(base + 1000, base + 5000, 11);
	add_kernel(base + 6000, base + 9000, 99);
	F.dropped = 3;
	F.extra_requests = 3; /* a pool of 2: at least one request is refused */
	assert_int_equal(tg_cupti_stop(c, &err), 0);
	assert_true(F.flushes >= 1);
	assert_false(F.enabled[CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL]);
	assert_false(F.subscribed);

	struct tg_cupti_stats st;
	tg_cupti_get_stats(c, &st);
	assert_string_equal(st.clock, ts_accepted ? "callback" : "offset");
	assert_int_equal(st.kernels, 2);
	assert_int_equal(st.launches, 2);
	assert_int_equal(st.stacks, 1);
	assert_true(st.buffers_refused >= 1);
	assert_true(st.dropped >= 3);
	assert_true(st.callbacks);
	assert_non_null(strstr(st.kinds, "kernel,memcpy"));
	assert_null(strstr(st.kinds, "device"));

	struct tg_capture *cap = tg_capture_new();
	assert_int_equal(tg_cupti_export(c, cap, &err), 0);
	tg_capture_sort(cap);
	assert_int_equal(cap->n_events, 2);
	/* in CLOCK_MONOTONIC: exactly with the callback, within the bracket
	 * otherwise */
	int64_t d0 = (int64_t)cap->events[0].start_ns - (int64_t)(now + 1000);
	assert_true(llabs((long long)d0) <= (ts_accepted ? 0 : 20000));
	/* the offset method may stretch by the measured drift: a few ns */
	assert_true(llabs((long long)(cap->events[0].end_ns - cap->events[0].start_ns) - 4000) <=
		    (ts_accepted ? 0 : 2));
	assert_int_equal(cap->n_launches, 2);
	const struct tg_launch *l11 = tg_capture_find_launch(cap, 11), *l12 = tg_capture_find_launch(cap, 12);
	assert_non_null(l11);
	assert_non_null(l12);
	assert_int_equal(l11->stack, l12->stack);
	assert_int_equal(l11->tag, 2);
	assert_int_equal(l11->tid, (uint32_t)syscall(SYS_gettid));
	uint32_t depth = 0;
	const uint64_t *pcs = tg_capture_stack(cap, l11->stack, &depth);
	assert_int_equal(depth, 3);
	assert_memory_equal(pcs, launch_pcs, sizeof(launch_pcs));
	assert_null(tg_capture_find_launch(cap, 99));
	assert_non_null(tg_capture_find_thread(cap, (uint32_t)syscall(SYS_gettid)));
	assert_true(tg_capture_counter(cap, "cupti.dropped_records") >= 3);
	assert_true(tg_capture_counter(cap, "cupti.buffers_refused") >= 1);
	assert_string_equal(tg_capture_meta(cap, "cupti.library"), "fake-cupti");
	tg_capture_free(cap);
	tg_cupti_free(c);
}

static void test_collector_timestamp_callback(void **state)
{
	(void)state;
	run_collector(true);
}

static void test_collector_clock_offset(void **state)
{
	(void)state;
	run_collector(false);
}

static void test_collector_refusals(void **state)
{
	(void)state;
	struct tg_cupti_api api = fake_api();
	struct tg_cupti_opts o = {0};
	struct tg_cupti *c = NULL;
	struct tg_error err;
	/* no GPU: CUPTI refuses the kernel kind */
	F.kernel_enable = CUPTI_ERROR_UNKNOWN;
	tg_error_clear(&err);
	assert_int_equal(tg_cupti_new_with_api(&o, &api, &c, &err), 0);
	assert_int_equal(tg_cupti_start(c, &err), TG_E_DEVICE);
	assert_non_null(strstr(err.msg, "cuptiActivityEnable(CONCURRENT_KERNEL) failed"));
	assert_non_null(strstr(err.msg, "CUPTI_ERROR_UNKNOWN (999)"));
	assert_non_null(strstr(err.msg, "no usable GPU"));
	/* stopping a collector that never started is harmless */
	assert_int_equal(tg_cupti_stop(c, &err), 0);
	tg_cupti_free(c);
	/* and the next one may start */
	F.kernel_enable = CUPTI_SUCCESS;
	assert_int_equal(tg_cupti_new_with_api(&o, &api, &c, &err), 0);
	assert_int_equal(tg_cupti_start(c, &err), 0);
	assert_int_equal(tg_cupti_start(c, &err), TG_E_INVAL);
	tg_cupti_free(c); /* stops */
	/* a CUPTI whose records this build cannot read */
	F.version = 140000;
	tg_error_clear(&err);
	assert_int_equal(tg_cupti_new_with_api(&o, &api, &c, &err), TG_E_UNSUPPORTED);
	assert_non_null(strstr(err.msg, "API version 140000"));
	assert_null(c);
}

/* The real libcupti on this machine: without a GPU it must refuse cleanly. */
static void test_real_libcupti(void **state)
{
	(void)state;
	struct tg_cupti_opts o = {0};
	struct tg_cupti *c = NULL;
	struct tg_error err;
	tg_error_clear(&err);
	if (tg_cupti_new(&o, &c, &err) < 0) {
		printf("libcupti not usable here (%s): skipped\n", err.msg);
		skip();
	}
	int rc = tg_cupti_start(c, &err);
	if (rc == 0) {
		printf("a GPU is present: CUPTI started\n");
		assert_int_equal(tg_cupti_stop(c, &err), 0);
	} else {
		assert_int_equal(rc, TG_E_DEVICE);
		assert_non_null(strstr(err.msg, "CUPTI: cupti"));
		printf("refused as expected: %s\n", err.msg);
	}
	tg_cupti_free(c);
}

/* ---- NVTX injection ---------------------------------------------------------------- */

static int nvtx_setup(void **state)
{
	(void)state;
	const char *env = getenv("NVTX_INJECTION64_PATH");
	if (env && *env)
		return 0;
	tg_nvtx_capture_stop();
	tg_nvtx_capture_reset();
	return 0;
}

static const struct tg_event *find_event(const struct tg_capture *c, int kind, const char *name)
{
	for (size_t i = 0; i < c->n_events; i++)
		if (c->events[i].kind == kind && strcmp(tg_capture_string(c, c->events[i].name), name) == 0)
			return &c->events[i];
	return NULL;
}

static nvtxRangeId_t cross_range;

static void *ender(void *arg)
{
	(void)arg;
	nvtxRangeEnd(cross_range);
	nvtxNameOsThreadA((uint32_t)syscall(SYS_gettid), "ender-thread");
	return NULL;
}

static void test_nvtx_capture(void **state)
{
	(void)state;
	const char *env = getenv("NVTX_INJECTION64_PATH");
	if (env && *env)
		skip(); /* another tool owns NVTX in this process */
	char why[256];
	nvtxMarkA("before start: not recorded");
	assert_int_equal(tg_nvtx_capture_state(why, sizeof(why)), TG_NVTX_OURS);
	assert_string_equal(why, "NVTX static injection");
	tg_nvtx_capture_start();
	nvtxRangePushA("outer");
	nvtxRangePushA("inner");
	nvtxRangePop();
	nvtxMarkA("a-mark");
	nvtxDomainHandle_t d = nvtxDomainCreateA("test-domain");
	nvtxStringHandle_t reg = nvtxDomainRegisterStringA(d, "registered message");
	nvtxEventAttributes_t a = {0};
	a.version = NVTX_VERSION;
	a.size = NVTX_EVENT_ATTRIB_STRUCT_SIZE;
	a.category = 3;
	a.messageType = NVTX_MESSAGE_TYPE_REGISTERED;
	a.message.registered = reg;
	nvtxDomainRangePushEx(d, &a);
	nvtxRangePushW(L"wide \u00e9");
	nvtxRangePop();
	nvtxDomainRangePop(d);
	/* a reused buffer: the message is copied at the call */
	char buf[32];
	snprintf(buf, sizeof(buf), "rep %d", 1);
	nvtxRangePushA(buf);
	snprintf(buf, sizeof(buf), "rep %d", 2);
	nvtxRangePop();
	cross_range = nvtxRangeStartA("crosses threads");
	pthread_t t;
	pthread_create(&t, NULL, ender, NULL);
	pthread_join(t, NULL);
	nvtxRangePop(); /* outer */
	nvtxRangePop(); /* nothing open: counted */
	nvtxRangePushA("left open");
	tg_nvtx_capture_stop();
	nvtxRangePushA("after stop: not recorded");
	nvtxRangePop();

	struct tg_capture *c = tg_capture_new();
	struct tg_error err;
	const uint64_t end = tg_clock_ns();
	assert_int_equal(tg_nvtx_capture_export(c, end, &err), 0);
	tg_capture_sort(c);
	const struct tg_event *outer = find_event(c, TG_EV_RANGE, "outer");
	const struct tg_event *inner = find_event(c, TG_EV_RANGE, "inner");
	assert_non_null(outer);
	assert_non_null(inner);
	assert_true(outer->start_ns <= inner->start_ns && inner->end_ns <= outer->end_ns);
	assert_int_equal(outer->tid, (uint32_t)syscall(SYS_gettid));
	assert_int_equal(outer->domain, 0);
	assert_non_null(find_event(c, TG_EV_MARK, "a-mark"));
	assert_null(find_event(c, TG_EV_MARK, "before start: not recorded"));
	const struct tg_event *r = find_event(c, TG_EV_RANGE, "registered message");
	assert_non_null(r);
	assert_string_equal(tg_capture_string(c, r->domain), "test-domain");
	assert_int_equal(r->cbid, 3);
	assert_non_null(find_event(c, TG_EV_RANGE, "wide \xc3\xa9"));
	assert_non_null(find_event(c, TG_EV_RANGE, "rep 1"));
	const struct tg_event *x = find_event(c, TG_EV_ASYNC, "crosses threads");
	assert_non_null(x);
	assert_true(x->end_ns > x->start_ns);
	const struct tg_event *open = find_event(c, TG_EV_RANGE, "left open");
	assert_non_null(open);
	assert_true(open->flags & TG_EVF_UNCLOSED);
	assert_int_equal(open->end_ns, end);
	assert_null(find_event(c, TG_EV_RANGE, "after stop: not recorded"));
	assert_int_equal(tg_capture_counter(c, "nvtx.unmatched_pops"), 1);
	assert_int_equal(tg_capture_counter(c, "nvtx.unclosed"), 1);
	assert_int_equal(tg_capture_counter(c, "nvtx.dropped"), 0);
	bool named = false;
	for (size_t i = 0; i < c->n_threads; i++)
		named |= strcmp(tg_capture_string(c, c->threads[i].name), "ender-thread") == 0;
	assert_true(named);
	tg_capture_free(c);
	/* a second export sees only what came after the first */
	c = tg_capture_new();
	assert_int_equal(tg_nvtx_capture_export(c, tg_clock_ns(), &err), 0);
	assert_int_equal(c->n_events, 0);
	tg_capture_free(c);
}

#define PER_THREAD 3000

static void *pusher(void *arg)
{
	(void)arg;
	for (int i = 0; i < PER_THREAD; i++) {
		nvtxRangePushA("a fairly long range name that spans many chunks of the buffer");
		nvtxRangePop();
	}
	return NULL;
}

static void test_nvtx_threads(void **state)
{
	(void)state;
	const char *env = getenv("NVTX_INJECTION64_PATH");
	if (env && *env)
		skip();
	tg_nvtx_capture_start();
	pthread_t t[4];
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, pusher, NULL);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	tg_nvtx_capture_stop();
	struct tg_capture *c = tg_capture_new();
	struct tg_error err;
	assert_int_equal(tg_nvtx_capture_export(c, tg_clock_ns(), &err), 0);
	assert_int_equal(c->n_events, 4 * PER_THREAD);
	uint32_t tids[4];
	int n_tids = 0;
	for (size_t i = 0; i < c->n_events; i++) {
		assert_int_equal(c->events[i].kind, TG_EV_RANGE);
		assert_true(c->events[i].end_ns >= c->events[i].start_ns);
		bool seen = false;
		for (int k = 0; k < n_tids; k++)
			seen |= tids[k] == c->events[i].tid;
		if (!seen) {
			assert_true(n_tids < 4);
			tids[n_tids++] = c->events[i].tid;
		}
	}
	assert_int_equal(n_tids, 4);
	tg_capture_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_convert_kernel_memcpy_memset),
		cmocka_unit_test(test_convert_api_sync_overhead_device),
		cmocka_unit_test(test_walker),
		cmocka_unit_test(test_walker_matches_libcupti),
		cmocka_unit_test(test_api_load_errors),
		cmocka_unit_test(test_cbid_names),
		cmocka_unit_test(test_clock_alignment),
		cmocka_unit_test_setup(test_collector_timestamp_callback, fake_setup),
		cmocka_unit_test_setup(test_collector_clock_offset, fake_setup),
		cmocka_unit_test_setup(test_collector_refusals, fake_setup),
		cmocka_unit_test(test_real_libcupti),
		cmocka_unit_test_setup(test_nvtx_capture, nvtx_setup),
		cmocka_unit_test_setup(test_nvtx_threads, nvtx_setup),
	};
	return cmocka_run_group_tests_name("cupti", tests, NULL, NULL);
}
