/* CUPTI activity records -> tg_event. The only code that reads CUPTI record
 * structs; everything downstream sees the capture. */
#include "cupti_internal.h"

#include <string.h>

static const char *const sync_names[] = {"cudaSynchronize", "cudaEventSynchronize",
					 "cudaStreamWaitEvent", "cudaStreamSynchronize",
					 "cudaDeviceSynchronize"};

static const char *overhead_name(uint32_t kind)
{
	switch (kind) {
	case CUPTI_ACTIVITY_OVERHEAD_DRIVER_COMPILER:
		return "driver: JIT compilation";
	case CUPTI_ACTIVITY_OVERHEAD_CUPTI_BUFFER_FLUSH:
		return "CUPTI: buffer flush";
	case CUPTI_ACTIVITY_OVERHEAD_CUPTI_INSTRUMENTATION:
		return "CUPTI: instrumentation";
	case CUPTI_ACTIVITY_OVERHEAD_CUPTI_RESOURCE:
		return "CUPTI: resource";
	case CUPTI_ACTIVITY_OVERHEAD_RUNTIME_TRIGGERED_MODULE_LOADING:
		return "runtime: module loading";
	case CUPTI_ACTIVITY_OVERHEAD_LAZY_FUNCTION_LOADING:
		return "driver: lazy function loading";
	case CUPTI_ACTIVITY_OVERHEAD_COMMAND_BUFFER_FULL:
		return "driver: command buffer full";
	case CUPTI_ACTIVITY_OVERHEAD_ACTIVITY_BUFFER_REQUEST:
		return "CUPTI: activity buffer request";
	case CUPTI_ACTIVITY_OVERHEAD_UVM_ACTIVITY_INIT:
		return "CUPTI: UVM activity init";
	default:
		return "overhead";
	}
}

static int add(struct tg_capture *c, struct tg_event *e, const struct tg_clock_align *clk,
	       uint64_t start, uint64_t end)
{
	e->start_ns = tg_clock_apply(clk, start);
	e->end_ns = tg_clock_apply(clk, end);
	if (e->end_ns < e->start_ns) /* CUPTI reports end 0 for work that never finished */
		e->end_ns = e->start_ns;
	return tg_capture_add_event(c, e) < 0 ? TG_E_NOMEM : 1;
}

/* Where GPU work ran and which call issued it. */
static void gpu_place(struct tg_event *e, const struct tg_capture *c, uint32_t device,
		      uint32_t context, uint32_t stream, uint32_t correlation)
{
	e->device = device;
	e->context = context;
	e->stream = stream;
	e->correlation = correlation;
	e->pid = c->pid;
}

static uint32_t intern(struct tg_capture *c, const char *s, int *oom)
{
	uint32_t id = tg_capture_intern(c, s);
	if (id == UINT32_MAX)
		*oom = 1;
	return id;
}

int tg_cupti_convert(const CUpti_Activity *record, const struct tg_clock_align *clk,
		     struct tg_capture *c, struct tg_cupti_counts *n)
{
	struct tg_event e;
	memset(&e, 0, sizeof(e));
	int oom = 0;
	n->records++;
	switch (record->kind) {
	case CUPTI_ACTIVITY_KIND_KERNEL:
	case CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL: {
		const CUpti_ActivityKernel10 *k = (const CUpti_ActivityKernel10 *)(const void *)record;
		e.kind = TG_EV_KERNEL;
		e.name = intern(c, k->name ? k->name : "[unnamed kernel]", &oom);
		gpu_place(&e, c, k->deviceId, k->contextId, k->streamId, k->correlationId);
		e.grid[0] = k->gridX;
		e.grid[1] = k->gridY;
		e.grid[2] = k->gridZ;
		e.block[0] = k->blockX;
		e.block[1] = k->blockY;
		e.block[2] = k->blockZ;
		e.regs = k->registersPerThread;
		e.shmem = (uint32_t)k->staticSharedMemory + (uint32_t)k->dynamicSharedMemory;
		n->kernels++;
		return oom ? TG_E_NOMEM : add(c, &e, clk, k->start, k->end);
	}
	case CUPTI_ACTIVITY_KIND_MEMCPY: {
		const CUpti_ActivityMemcpy6 *m = (const CUpti_ActivityMemcpy6 *)(const void *)record;
		e.kind = TG_EV_MEMCPY;
		e.sub = m->copyKind <= TG_COPY_KIND_MAX ? m->copyKind : TG_COPY_UNKNOWN;
		char name[32];
		snprintf(name, sizeof(name), "memcpy %s", tg_copy_kind_name(e.sub));
		e.name = intern(c, name, &oom);
		e.bytes = m->bytes;
		gpu_place(&e, c, m->deviceId, m->contextId, m->streamId, m->correlationId);
		if (m->srcKind == CUPTI_ACTIVITY_MEMORY_KIND_PAGEABLE ||
		    m->dstKind == CUPTI_ACTIVITY_MEMORY_KIND_PAGEABLE)
			e.flags |= TG_EVF_PAGEABLE;
		if (m->flags & CUPTI_ACTIVITY_FLAG_MEMCPY_ASYNC)
			e.flags |= TG_EVF_ASYNC_COPY;
		n->memcpys++;
		return oom ? TG_E_NOMEM : add(c, &e, clk, m->start, m->end);
	}
	case CUPTI_ACTIVITY_KIND_MEMCPY2: {
		const CUpti_ActivityMemcpyPtoP4 *m =
			(const CUpti_ActivityMemcpyPtoP4 *)(const void *)record;
		e.kind = TG_EV_MEMCPY;
		e.sub = TG_COPY_PTOP;
		e.name = intern(c, "memcpy PtoP", &oom);
		e.bytes = m->bytes;
		gpu_place(&e, c, m->deviceId, m->contextId, m->streamId, m->correlationId);
		n->memcpys++;
		return oom ? TG_E_NOMEM : add(c, &e, clk, m->start, m->end);
	}
	case CUPTI_ACTIVITY_KIND_MEMSET: {
		const CUpti_ActivityMemset4 *m = (const CUpti_ActivityMemset4 *)(const void *)record;
		e.kind = TG_EV_MEMSET;
		e.name = intern(c, "memset", &oom);
		e.bytes = m->bytes;
		gpu_place(&e, c, m->deviceId, m->contextId, m->streamId, m->correlationId);
		n->memsets++;
		return oom ? TG_E_NOMEM : add(c, &e, clk, m->start, m->end);
	}
	case CUPTI_ACTIVITY_KIND_RUNTIME:
	case CUPTI_ACTIVITY_KIND_DRIVER: {
		const CUpti_ActivityAPI *a = (const CUpti_ActivityAPI *)(const void *)record;
		const bool rt = record->kind == CUPTI_ACTIVITY_KIND_RUNTIME;
		const char *name = rt ? tg_cupti_runtime_cbid_name(a->cbid)
				      : tg_cupti_driver_cbid_name(a->cbid);
		char unknown[48];
		if (!name) {
			snprintf(unknown, sizeof(unknown), "%s API %u", rt ? "runtime" : "driver",
				 (unsigned)a->cbid);
			name = unknown;
		}
		e.kind = rt ? TG_EV_RUNTIME : TG_EV_DRIVER;
		e.name = intern(c, name, &oom);
		e.domain = intern(c, rt ? "runtime" : "driver", &oom);
		e.cbid = a->cbid;
		e.pid = a->processId;
		e.tid = a->threadId;
		e.correlation = a->correlationId;
		if (a->returnValue != 0)
			e.flags |= TG_EVF_FAILED;
		n->api_calls++;
		return oom ? TG_E_NOMEM : add(c, &e, clk, a->start, a->end);
	}
	case CUPTI_ACTIVITY_KIND_SYNCHRONIZATION: {
		const CUpti_ActivitySynchronization2 *s =
			(const CUpti_ActivitySynchronization2 *)(const void *)record;
		uint32_t type = (uint32_t)s->type;
		e.kind = TG_EV_SYNC;
		e.sub = (uint8_t)(type < 5 ? type : 0);
		e.name = intern(c, sync_names[e.sub], &oom);
		e.context = s->contextId;
		e.stream = s->streamId;
		e.correlation = s->correlationId;
		e.pid = c->pid;
		n->syncs++;
		return oom ? TG_E_NOMEM : add(c, &e, clk, s->start, s->end);
	}
	case CUPTI_ACTIVITY_KIND_OVERHEAD: {
		const CUpti_ActivityOverhead3 *o = (const CUpti_ActivityOverhead3 *)(const void *)record;
		e.kind = TG_EV_OVERHEAD;
		e.name = intern(c, overhead_name((uint32_t)o->overheadKind), &oom);
		e.correlation = o->correlationId;
		if (o->objectKind == CUPTI_ACTIVITY_OBJECT_THREAD ||
		    o->objectKind == CUPTI_ACTIVITY_OBJECT_PROCESS) {
			e.pid = o->objectId.pt.processId;
			e.tid = o->objectId.pt.threadId;
		} else {
			e.pid = c->pid;
			e.device = o->objectId.dcs.deviceId;
			e.context = o->objectId.dcs.contextId;
			e.stream = o->objectId.dcs.streamId;
			e.sub = 1; /* device-side */
		}
		n->overheads++;
		return oom ? TG_E_NOMEM : add(c, &e, clk, o->start, o->end);
	}
	case CUPTI_ACTIVITY_KIND_DEVICE: {
		const CUpti_ActivityDevice5 *d = (const CUpti_ActivityDevice5 *)(const void *)record;
		struct tg_capture_device dev = {
			.id = d->id,
			.name = intern(c, d->name ? d->name : "GPU", &oom),
			.sms = d->numMultiprocessors,
			.cc_major = d->computeCapabilityMajor,
			.cc_minor = d->computeCapabilityMinor,
			.memory_bytes = d->globalMemorySize,
			/* CUPTI reports KB/s */
			.memory_bandwidth = d->globalMemoryBandwidth * 1000ull,
		};
		n->devices++;
		if (oom || tg_capture_set_device(c, &dev) < 0)
			return TG_E_NOMEM;
		return 1;
	}
	default:
		n->skipped++;
		return 0;
	}
}
