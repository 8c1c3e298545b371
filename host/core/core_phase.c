/* The calling thread's pipeline phase (tg_phase.h). */
#include "tg_phase.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "tg_nvtx.h"

/* initial-exec: static TLS, read without a call from the signal handler
 * (also inside the LD_PRELOADed agent, loaded at start-up) */
static _Thread_local uint32_t phase_now __attribute__((tls_model("initial-exec")));

void tg_phase_set(uint32_t p)
{
	phase_now = p;
}

/* a phase range of this thread is open (tg_nvtx_detail) */
static _Thread_local int range_open;

void tg_phase_enter(uint32_t p, uint32_t argb)
{
	phase_now = p;
	if (!range_open && !tg_nvtx_detail())
		return;
	if (range_open) {
		tg_nvtx_pop();
		range_open = 0;
	}
	if (p && tg_nvtx_detail()) {
		tg_nvtx_push_phase(p, argb);
		range_open = 1;
	}
}

uint32_t tg_phase_get(void)
{
	return phase_now;
}

static const char *const families[6] = {"EMA", "HMA", "WMA", "DEMA", "LSMA", "KAMA"};

const char *tg_phase_group(uint32_t p)
{
	const uint32_t id = TG_PHASE_ID(p);
	if (id >= TG_PHASE_MAS && id < TG_PHASE_AVERAGE)
		return families[(id - TG_PHASE_MAS) % 6];
	switch (id) {
	case TG_PHASE_AVERAGE:
		return "Average_Signal";
	case TG_PHASE_RETURNS:
		return "returns";
	case TG_PHASE_UPLOAD:
		return "upload";
	case TG_PHASE_DOWNLOAD:
		return "download";
	case TG_PHASE_PLAN:
		return "plan";
	default:
		return NULL;
	}
}

const char *tg_phase_part(uint32_t p)
{
	const uint32_t id = TG_PHASE_ID(p);
	if (id >= TG_PHASE_MAS && id < TG_PHASE_SIGNALS)
		return "MAs";
	if (id >= TG_PHASE_SIGNALS && id < TG_PHASE_FUSED)
		return "crossovers, Layer 1, Layer 2";
	if (id >= TG_PHASE_FUSED && id < TG_PHASE_AVERAGE)
		return "fused kernel";
	return NULL;
}

const char *tg_phase_mode(uint32_t p)
{
	return p & TG_PHASE_APPROX ? "approx" : "exact";
}

size_t tg_phase_label(uint32_t p, char *buf, size_t cap)
{
	const char *g = tg_phase_group(p), *part = tg_phase_part(p);
	const int n = snprintf(buf, cap, "%s%s%s", g ? g : "none", part ? " " : "", part ? part : "");
	return n < 0 ? 0 : (size_t)n;
}

bool tg_phase_is_frame(const char *name)
{
	if (strcmp(name, "exact") == 0 || strcmp(name, "approx") == 0)
		return true;
	for (uint32_t id = 1; id < TG_PHASE_COUNT; id++) {
		const char *g = tg_phase_group(id), *part = tg_phase_part(id);
		if ((g && strcmp(name, g) == 0) || (part && strcmp(name, part) == 0))
			return true;
	}
	return false;
}
