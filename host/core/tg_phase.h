/* The phase of the ATC pipeline a thread is in, for profiles that compare
 * backends phase by phase: every backend (C, Rust, CUDA) marks the same
 * phases, the sampler stamps each sample with its thread's phase, the CUDA
 * collector each launch. One thread-local store per phase change (a few
 * per symbol and family): free enough to leave on when nothing profiles.
 *
 * A phase value is an id (enum tg_phase) | TG_PHASE_APPROX when the MAs are
 * the approximate ones; 0 outside every phase (the harness, idle workers).
 */
#ifndef TG_PHASE_H
#define TG_PHASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum tg_phase {
	TG_PHASE_NONE = 0,
	TG_PHASE_MAS = 1,      /* + family (0..5): the family's nine MAs */
	TG_PHASE_SIGNALS = 7,  /* + family: crossovers, Layer 1, Layer 2 (one fused pass) */
	TG_PHASE_FUSED = 13,   /* + family: all of a family in one GPU kernel */
	TG_PHASE_AVERAGE = 19, /* Average_Signal */
	TG_PHASE_RETURNS = 20, /* returns and growth factors */
	TG_PHASE_UPLOAD = 21,  /* host to device copies */
	TG_PHASE_DOWNLOAD = 22,
	TG_PHASE_PLAN = 23,    /* per-batch set-up */
	TG_PHASE_COUNT = 24
};

#define TG_PHASE_APPROX 0x100u
/* A captured sample's phase: bits 16-31 of its flags (the sampler's). */
#define TG_SAMPLE_PHASE(flags) ((uint32_t)(flags) >> 16)
#define TG_PHASE_ID(p) ((p) & 0xFFu)

/* The calling thread enters phase p (0: leaves every phase). */
void tg_phase_set(uint32_t p);
/* The same, and where phase ranges are on (tg_nvtx_detail: profiling, or
 * an NVTX tool attached) closes the thread's open phase range and opens
 * p's, in the backend's colour. What the backends call. */
void tg_phase_enter(uint32_t p, uint32_t argb);
/* Phase ranges (while profiling) cover the first this many symbols each
 * thread computes in a repetition; TG_NVTX_PHASE_RANGES=all, or another
 * NVTX tool attached, covers every symbol. */
#define TG_PHASE_RANGE_SYMBOLS 16
/* The calling thread's next symbol is n symbols computed together (a
 * group in vector lanes): they count as n for TG_PHASE_RANGE_SYMBOLS.
 * Call before entering its TG_PHASE_RETURNS. */
void tg_phase_next_symbols(unsigned n);
/* Phase ranges (while profiling) cover the warm-ups and the first this
 * many timed repetitions of each state: a state the stopping rule repeats
 * thousands of times would otherwise fill the timeline with the same
 * ranges (150 MB for run --backends cpu,rust --profile cpu). The
 * repetitions' own ranges, the samples (flame graphs, phase table) cover
 * every one; TG_NVTX_PHASE_RANGES=all, or another NVTX tool, keeps all. */
#define TG_PHASE_RANGE_REPS 16
/* A new timed repetition or warm-up begins (the harness calls it);
 * ranges: whether its phases get ranges (TG_PHASE_RANGE_REPS). */
void tg_phase_new_repetition(bool ranges);
/* The calling thread's phase; async-signal-safe (the sampler's handler
 * reads it on the interrupted thread). */
uint32_t tg_phase_get(void);

/* How a phase reads in profiles: its group ("EMA", "Average_Signal") and,
 * inside a family, the part ("MAs", "crossovers, Layer 1, Layer 2",
 * "fused kernel"; NULL otherwise). NULL group for 0 and unknown ids. */
const char *tg_phase_group(uint32_t p);
const char *tg_phase_part(uint32_t p);
/* "EMA MAs", "KAMA crossovers, Layer 1, Layer 2", "Average_Signal":
 * group and part (the NVTX range's name); returns snprintf's count. */
size_t tg_phase_label(uint32_t p, char *buf, size_t cap);
/* Is name one of the frames phases put in a stack ("exact", "EMA", "MAs",
 * "Average_Signal", ...)? */
bool tg_phase_is_frame(const char *name);
/* "exact" / "approx" */
const char *tg_phase_mode(uint32_t p);

#ifdef __cplusplus
}
#endif

#endif
