/* NVTX ranges of the "trendgpu-bench" domain; without the NVTX headers the
 * header's inline no-ops stand in and this file compiles to nothing. */
#include "tg_nvtx.h"

#if TG_HAVE_NVTX
#include <nvtx3/nvToolsExt.h>

#include <pthread.h>

static nvtxDomainHandle_t domain;
static pthread_once_t domain_once = PTHREAD_ONCE_INIT;

static void create_domain(void)
{
	domain = nvtxDomainCreateA("trendgpu-bench");
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
#endif
