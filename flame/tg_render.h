/* From a capture to the profile outputs of a run directory: the unified
 * timeline, CPU and GPU-aware flame graphs, differential flame graphs
 * between backends, the top table and speedscope. Used after a profiled
 * run, by `record` and by `report` (offline, from capture.bin + maps).
 */
#ifndef TG_RENDER_H
#define TG_RENDER_H

#include <stdbool.h>
#include <stdint.h>

#include "tg_capture.h"
#include "tg_error.h"
#include "tg_flame.h"
#include "tg_results.h"
#include "tg_symbolize.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The root-first function names of a captured stack as every output
 * shows them (trace.json, folded, flame graphs, speedscope): the thread
 * start plumbing above the thread's entry function and the profiler's own
 * frames left out. At most cap names (and their symbols into syms unless
 * NULL); returns the count. */
int tg_stack_frames(const struct tg_capture *c, struct tg_symbolizer *sym, uint32_t stack,
		    const char **names, struct tg_symbol *syms, int cap);
/* The root frame of a sample or GPU activity: its tag (the backend and MA
 * mode the run was in), "[untagged]" outside every tagged phase. */
const char *tg_sample_root(const struct tg_capture *c, int32_t tag);

/* The frames a phase (tg_phase.h) puts between the root and the stack:
 * "exact"/"approx", the group ("EMA", "Average_Signal"), and within a
 * family its part ("MAs", "crossovers, Layer 1, Layer 2", "fused kernel").
 * None for phase 0. names has room for 3; returns the count. */
int tg_phase_frames(uint32_t phase, const char **names);
/* All the frames of a sample, root first: its tag when tag_root, its
 * phase's frames, then its stack (tg_stack_frames); symbols of the
 * stack's frames into syms unless NULL (zeroed for the others). */
int tg_sample_frames(const struct tg_capture *c, struct tg_symbolizer *sym,
		     const struct tg_capture_sample *s, bool tag_root, const char **names,
		     struct tg_symbol *syms, int cap);

/* Host samples into f: only those of tag (all when tag < 0); the tag name
 * as the root frame when tag_root; each sample weighs `weight`. */
int tg_flame_add_samples(struct tg_flame *f, const struct tg_capture *c, struct tg_symbolizer *sym,
			 int32_t tag, bool tag_root, uint64_t weight, struct tg_error *err);
/* GPU time into f: every kernel, copy and memset weighs its duration in ns
 * and sits under the CPU stack that launched it (CUPTI correlation),
 * profiler and driver frames trimmed, as a "[gpu] <kernel>" /
 * "[gpu] memcpy HtoD" leaf. Work without a launch stack sits under
 * "[launch stack not captured]". Tag filter and root as for samples. */
int tg_flame_add_gpu(struct tg_flame *f, const struct tg_capture *c, struct tg_symbolizer *sym,
		     int32_t tag, bool tag_root, struct tg_error *err);

/* profile.speedscope.json: one "sampled" profile per thread and state
 * (tag: backend and MA mode), its samples in time order, each weighing the
 * time to that thread's next sample (its measured interval: right when the
 * sampler fell behind the requested rate; after a gap of more than four
 * typical intervals, a waiting thread, and for the last sample, the
 * thread's median interval). Frames are shared across profiles, named as
 * tg_stack_frames names them, with the file and line where the function
 * starts. Times in nanoseconds from the capture's start. */
int tg_speedscope_write(const struct tg_capture *c, struct tg_symbolizer *sym, struct tg_sink *s,
			struct tg_error *err);

/* Each sample's weight in ns, in capture order: the time to its thread's
 * next sample (its measured interval), or after a gap of more than four
 * typical intervals (the thread waited) and for the last, the thread's
 * median interval. What speedscope and the phase table weigh samples by. */
int tg_sample_weights(const struct tg_capture *c, uint64_t *w);
/* info->phases: per backend (tag), MA mode and phase, the CPU samples
 * (count, weighed time, share of the backend's samples in that mode) and
 * the GPU work launched in that phase (count, time, median). */
int tg_phase_table(const struct tg_capture *c, struct tg_profile_info *info,
		   struct tg_error *err);

struct tg_render_opts {
	const char *dir;     /* the run directory */
	const char *maps;    /* /proc/<pid>/maps text of the profiled process; NULL: this one */
	const char *process; /* what ran, for titles; NULL: the capture's "process" */
	const char *mode;    /* "cpu", "gpu", "both" (for the record) */
	const char *vdso;    /* the process's vDSO image saved at capture time, or NULL */
};

/* Writes trace.json, and where the capture has what they need cpu*.folded,
 * cpu*.svg, diff-*.svg, top.txt, profile.speedscope.json, gpu.folded,
 * gpu.svg, combined.folded and combined.svg. Sorts c. Fills info (files,
 * hottest functions, GPU and trace counts); sampler fields are taken from
 * the capture's counters. */
int tg_render_profile(struct tg_capture *c, const struct tg_render_opts *o,
		      struct tg_profile_info *info, struct tg_error *err);

#ifdef __cplusplus
}
#endif

#endif
