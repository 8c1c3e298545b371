/* NVTX ranges in the "trendgpu-bench" domain, so Nsight Systems and our own
 * NVTX injection see every phase. NVTX3 is header-only: with no tool
 * attached a push/pop pair costs a few ns. Without the NVTX headers
 * (no CUDA toolkit at build time) these are no-ops.
 */
#ifndef TG_NVTX_H
#define TG_NVTX_H

#include "tg_config.h"

#ifdef __cplusplus
extern "C" {
#endif

#if TG_HAVE_NVTX
/* Opens a range on the calling thread; name is copied by the tool. */
void tg_nvtx_push(const char *name);
void tg_nvtx_pop(void);
/* An instantaneous marker. */
void tg_nvtx_mark(const char *name);
/* Initialises NVTX now (it otherwise does so at the first range), so a
 * tool's state can be queried before any range was emitted. */
void tg_nvtx_init(void);
#else
static inline void tg_nvtx_init(void)
{
}
static inline void tg_nvtx_push(const char *name)
{
	(void)name;
}
static inline void tg_nvtx_pop(void)
{
}
static inline void tg_nvtx_mark(const char *name)
{
	(void)name;
}
#endif

#ifdef __cplusplus
}
#endif

#endif
