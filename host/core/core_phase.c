/* The calling thread's pipeline phase (tg_phase.h). */
#include "tg_phase.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
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
/* the symbols this thread began in the current repetition */
static _Thread_local unsigned long tls_rep;
static _Thread_local unsigned symbols_in_rep;
static _Thread_local unsigned symbols_next = 1;
static _Atomic unsigned long repetition = 1;
/* the current repetition's phases get ranges (TG_PHASE_RANGE_REPS) */
static atomic_bool repetition_ranges = true;

void tg_phase_new_repetition(bool ranges)
{
	atomic_store_explicit(&repetition_ranges, ranges, memory_order_relaxed);
	atomic_fetch_add_explicit(&repetition, 1, memory_order_relaxed);
}

/* Ranges for this symbol? While profiling, those of the first
 * TG_PHASE_RANGE_SYMBOLS symbols each thread computes per repetition, in
 * the first TG_PHASE_RANGE_REPS repetitions of each state (a
 * 5000-symbol profile would otherwise hold 13 ranges per symbol and
 * repetition: half a GB of trace); all of them under another NVTX tool
 * (Nsight Systems keeps what it is given) or with
 * TG_NVTX_PHASE_RANGES=all. */
static bool ranges_for_this_symbol(uint32_t p)
{
	const unsigned long rep = atomic_load_explicit(&repetition, memory_order_relaxed);
	if (tls_rep != rep) {
		tls_rep = rep;
		symbols_in_rep = 0;
	}
	if (TG_PHASE_ID(p) == TG_PHASE_RETURNS) {
		/* every backend's symbol (or group of symbols) starts with its returns */
		symbols_in_rep += symbols_next;
		symbols_next = 1;
	}
	static atomic_int all = -1; /* read from every worker: decided once */
	int a = atomic_load_explicit(&all, memory_order_relaxed);
	if (a < 0) {
		const char *env = getenv("TG_NVTX_PHASE_RANGES"), *tool = getenv("NVTX_INJECTION64_PATH");
		a = (env && strcmp(env, "all") == 0) || (tool && *tool && !strstr(tool, "libtgrecord"));
		atomic_store_explicit(&all, a, memory_order_relaxed);
	}
	return a || (symbols_in_rep <= TG_PHASE_RANGE_SYMBOLS &&
		     atomic_load_explicit(&repetition_ranges, memory_order_relaxed));
}

void tg_phase_next_symbols(unsigned n)
{
	symbols_next = n ? n : 1;
}

void tg_phase_enter(uint32_t p, uint32_t argb)
{
	phase_now = p;
	const bool detail = tg_nvtx_detail();
	if (!range_open && !detail)
		return;
	if (range_open) {
		tg_nvtx_pop();
		range_open = 0;
	}
	if (p && detail && ranges_for_this_symbol(p)) {
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
