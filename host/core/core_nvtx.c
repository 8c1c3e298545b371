/* NVTX ranges of the "trendgpu-bench" domain; without the NVTX headers the
 * header's inline no-ops stand in for the ranges. */
#include "tg_nvtx.h"

#include <stdlib.h>
#include <string.h>

#include "tg_phase.h"

const char *tg_nvtx_category_name(uint32_t category)
{
	static const char *const names[] = {NULL, "state", "warm-up", "backend", "phase"};
	return category < sizeof(names) / sizeof(names[0]) ? names[category] : NULL;
}

uint32_t tg_nvtx_backend_color(const char *backend)
{
	static const struct {
		const char *name;
		uint32_t argb;
	} colors[] = {{"cpu", 0xFF1F77B4u}, {"rust", 0xFFD95F02u}, {"cuda", 0xFF2CA02Cu}};
	for (size_t i = 0; backend && i < sizeof(colors) / sizeof(colors[0]); i++)
		if (strncmp(backend, colors[i].name, strlen(colors[i].name)) == 0)
			return colors[i].argb;
	return 0xFF7F7F7Fu;
}

#if TG_HAVE_NVTX
#include <nvtx3/nvToolsExt.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>

static nvtxDomainHandle_t domain;
static pthread_once_t domain_once = PTHREAD_ONCE_INIT;
static nvtxStringHandle_t phase_names[TG_PHASE_COUNT][2]; /* [id][approx] */
static atomic_int detail = -1;                            /* -1: not decided */

static void create_domain(void)
{
	domain = nvtxDomainCreateA("trendgpu-bench");
	for (uint32_t c = TG_NVTX_STATE; c <= TG_NVTX_PHASE; c++)
		nvtxDomainNameCategoryA(domain, c, tg_nvtx_category_name(c));
	/* the hot ranges' names, registered once: "EMA MAs", "KAMA crossovers, ..." */
	for (uint32_t id = 1; id < TG_PHASE_COUNT; id++) {
		if (!tg_phase_group(id))
			continue;
		char name[96];
		const size_t n = tg_phase_label(id, name, sizeof(name) - 10);
		phase_names[id][0] = nvtxDomainRegisterStringA(domain, name);
		/* approx phases read apart in a per-name summary */
		snprintf(name + n, sizeof(name) - n, " (approx)");
		phase_names[id][1] = nvtxDomainRegisterStringA(domain, name);
	}
}

static void fill(nvtxEventAttributes_t *a, const char *name)
{
	*a = (nvtxEventAttributes_t){0};
	a->version = NVTX_VERSION;
	a->size = NVTX_EVENT_ATTRIB_STRUCT_SIZE;
	a->messageType = NVTX_MESSAGE_TYPE_ASCII;
	a->message.ascii = name;
}

void tg_nvtx_push(const char *name)
{
	pthread_once(&domain_once, create_domain);
	nvtxEventAttributes_t a;
	fill(&a, name);
	nvtxDomainRangePushEx(domain, &a);
}

void tg_nvtx_push_ex(const char *name, uint32_t category, uint32_t argb, int64_t payload)
{
	pthread_once(&domain_once, create_domain);
	nvtxEventAttributes_t a;
	fill(&a, name);
	a.category = category;
	if (argb) {
		a.colorType = NVTX_COLOR_ARGB;
		a.color = argb;
	}
	if (payload >= 0) {
		a.payloadType = NVTX_PAYLOAD_TYPE_INT64;
		a.payload.llValue = payload;
	}
	nvtxDomainRangePushEx(domain, &a);
}

void tg_nvtx_push_phase(uint32_t phase, uint32_t argb)
{
	pthread_once(&domain_once, create_domain);
	const uint32_t id = TG_PHASE_ID(phase);
	nvtxEventAttributes_t a;
	fill(&a, NULL);
	const int approx = (phase & TG_PHASE_APPROX) != 0;
	if (id < TG_PHASE_COUNT && phase_names[id][approx]) {
		a.messageType = NVTX_MESSAGE_TYPE_REGISTERED;
		a.message.registered = phase_names[id][approx];
	} else {
		a.message.ascii = "phase";
	}
	a.category = TG_NVTX_PHASE;
	if (argb) {
		a.colorType = NVTX_COLOR_ARGB;
		a.color = argb;
	}
	nvtxDomainRangePushEx(domain, &a);
}

void tg_nvtx_pop(void)
{
	pthread_once(&domain_once, create_domain);
	nvtxDomainRangePop(domain);
}

void tg_nvtx_mark(const char *name)
{
	pthread_once(&domain_once, create_domain);
	nvtxEventAttributes_t a;
	fill(&a, name);
	nvtxDomainMarkEx(domain, &a);
}

void tg_nvtx_init(void)
{
	pthread_once(&domain_once, create_domain);
}

bool tg_nvtx_detail(void)
{
	int d = atomic_load_explicit(&detail, memory_order_relaxed);
	if (d < 0) {
		const char *tool = getenv("NVTX_INJECTION64_PATH");
		d = tool && *tool;
		atomic_store(&detail, d);
	}
	return d != 0;
}

void tg_nvtx_set_detail(bool on)
{
	atomic_store(&detail, on ? 1 : 0);
}
#endif
