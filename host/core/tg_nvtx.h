/* NVTX ranges in the "trendgpu-bench" domain, so Nsight Systems and our own
 * NVTX injection see every phase. NVTX3 is header-only: with no tool
 * attached a push/pop pair costs a few ns. Without the NVTX headers
 * (no CUDA toolkit at build time) these are no-ops.
 *
 * Names are stable (a per-range summary, nsys stats' nvtx_sum, has one row
 * per kind of range): what varies (the repetition) is the payload, what
 * kind of range it is the category (named for the tools: "state",
 * "warm-up", "backend", "phase"), the backend its colour. The pipeline's
 * phases (tg_phase.h) open ranges per symbol only while profiling or when
 * another NVTX tool is attached (tg_nvtx_detail), never in plain runs.
 */
#ifndef TG_NVTX_H
#define TG_NVTX_H

#include <stdbool.h>
#include <stdint.h>

#include "tg_config.h"

#ifdef __cplusplus
extern "C" {
#endif

enum tg_nvtx_category {
	TG_NVTX_STATE = 1,   /* one timed repetition of a state; payload: the repetition */
	TG_NVTX_WARMUP = 2,  /* a warm-up run; payload: its number */
	TG_NVTX_BACKEND = 3, /* a backend's call (plan, the batch) */
	TG_NVTX_PHASE = 4    /* a pipeline phase, the same names on every backend */
};

/* The category's name as the tools show it. */
const char *tg_nvtx_category_name(uint32_t category);
/* One ARGB colour per backend ("cpu", "rust", "cuda"; grey for others). */
uint32_t tg_nvtx_backend_color(const char *backend);

#if TG_HAVE_NVTX
/* Opens a range on the calling thread; name is copied by the tool. */
void tg_nvtx_push(const char *name);
/* ... with a category, a colour (0: none) and a payload (< 0: none). */
void tg_nvtx_push_ex(const char *name, uint32_t category, uint32_t argb, int64_t payload);
void tg_nvtx_pop(void);
/* An instantaneous marker. */
void tg_nvtx_mark(const char *name);
/* Initialises NVTX now (it otherwise does so at the first range), so a
 * tool's state can be queried before any range was emitted. */
void tg_nvtx_init(void);
/* Phase ranges (per symbol) on: while profiling, or when
 * NVTX_INJECTION64_PATH names a tool (Nsight Systems). */
bool tg_nvtx_detail(void);
void tg_nvtx_set_detail(bool on);
/* Opens the range of a phase (its registered name, category phase). */
void tg_nvtx_push_phase(uint32_t phase, uint32_t argb);
#else
static inline void tg_nvtx_init(void)
{
}
static inline void tg_nvtx_push(const char *name)
{
	(void)name;
}
static inline void tg_nvtx_push_ex(const char *name, uint32_t category, uint32_t argb,
				   int64_t payload)
{
	(void)name;
	(void)category;
	(void)argb;
	(void)payload;
}
static inline void tg_nvtx_pop(void)
{
}
static inline void tg_nvtx_mark(const char *name)
{
	(void)name;
}
static inline bool tg_nvtx_detail(void)
{
	return false;
}
static inline void tg_nvtx_set_detail(bool on)
{
	(void)on;
}
static inline void tg_nvtx_push_phase(uint32_t phase, uint32_t argb)
{
	(void)phase;
	(void)argb;
}
#endif

#ifdef __cplusplus
}
#endif

#endif
