/* The host sampler: per-thread SIGPROF timers, an async-signal-safe
 * handler that unwinds into per-thread SPSC rings, a drain thread. */
#include <elf.h>
#include <errno.h>
#include <link.h>
#include <stddef.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "tg_config.h"
#include "tg_mem.h"
#include "tg_phase.h"
#include "tg_sampler.h"

#if TG_HAVE_LIBUNWIND
#define UNW_LOCAL_ONLY
#include <libunwind.h>
#endif

#define RING_SKIP 0xffffffffu

/* The unwinders read the raw stack of an interrupted thread, and GOT slots
 * found by decoding instructions: words that the address sanitizer may have
 * poisoned (redzones of the frames there, which a stale frame pointer or
 * the stack-pointer words can land in; of globals next to a slot) are read
 * on purpose, as any unwinder reads them. */
#if defined(__SANITIZE_ADDRESS__) || defined(__clang__)
#define TG_RAW_READ __attribute__((no_sanitize("address")))
#else
#define TG_RAW_READ
#endif

/* A record in a ring: header, then depth program counters. */
struct ring_rec {
	uint32_t len; /* bytes, header included; RING_SKIP: wrap to the start */
	uint32_t depth;
	uint64_t t_ns;
	int32_t tag;
	uint32_t flags;
};

struct thread_rec {
	struct tg_sampler *s;
	atomic_int active;
	atomic_int retired; /* unregistered; reusable once drained */
	atomic_int_least32_t tag;
	pid_t tid;
	char name[16];
	timer_t timer;
	int has_timer;
	uintptr_t stack_lo, stack_hi;
	/* where the frame-pointer chain of this thread ends for good: the
	 * return address out of main into glibc's start code, which keeps no
	 * frame pointer (found at registration, see chain_top_here); a chain
	 * that reaches it is complete. 0 when the chain ends cleanly. */
	uintptr_t top_ret;
	/* the frames above it, as libunwind saw them then (they do not change
	 * while the thread runs below them) */
	uint64_t outer[16];
	int n_outer;
	/* the ring: head written by the handler, tail by the drain thread */
	uint8_t *buf;
	size_t cap; /* power of two */
	_Atomic uint64_t head, tail;
	_Atomic uint64_t signals, dropped, idle, failed, truncated;
	_Atomic uint64_t fallbacks; /* hybrid: stacks libunwind completed */
	_Atomic uint64_t overruns;  /* ticks that expired while one was still pending */
	_Atomic uint64_t compared, agreed; /* compare_unwinders: samples, same stacks */
	_Atomic uint64_t handler_ns; /* time spent in the handler, entry to exit */
	uint64_t registered_at_ns;
	uint64_t paused_at_ns;  /* 0 when running */
	double paused_s;        /* paused time of the current registration */
	double registered_s; /* finished registrations, paused time excluded */
	struct thread_rec *next;
};

struct code_map;

struct tg_sampler {
	struct tg_sampler_opts o;
	int use_libunwind; /* the whole stack by libunwind */
	int hybrid;        /* frame pointers + leaf repair, libunwind where the chain breaks */
	struct code_map *_Atomic map; /* hybrid: the loaded objects' segments */
	uint64_t interval_ns;
	pthread_mutex_t mu; /* registry and store ownership */
	struct thread_rec *threads;
	int n_threads_ever;
	pthread_t drain;
	atomic_int running;
	int drain_started;
	int handler_installed;
	struct sigaction old_action;
	/* drained samples: packed records + offsets */
	uint8_t *store;
	size_t store_len, store_cap;
	size_t *offsets;
	size_t n_samples, cap_samples;
	/* every thread ever sampled, with its name when it stopped being sampled */
	struct thread_name {
		pid_t tid;
		char name[16];
	} *names;
	size_t n_names, cap_names;
};

/* initial-exec TLS: safe to read in a signal handler */
static __thread struct thread_rec *tls_rec __attribute__((tls_model("initial-exec")));

static uint64_t now_ns(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

const char *const tg_sample_clock_names[] = {"wall", "cpu", NULL};
const char *const tg_unwind_names[] = {"auto", "fp", "libunwind", "hybrid", NULL};

bool tg_sampler_has_libunwind(void)
{
	return TG_HAVE_LIBUNWIND;
}

/* ---- unwinding (signal context) ---------------------------------------- */


/* ---- the hybrid unwinder ----------------------------------------------------
 *
 * Frame pointers, checked and repaired, so that complete stacks cost what
 * the plain chain costs:
 * - every return address of the chain must follow a call instruction in a
 *   loaded object's code, and frames lie between the interrupted stack
 *   pointer and the stack's top;
 * - the plain chain misses one frame where the interrupted function has no
 *   frame of its own (a leaf that never touches the stack: gcc and rustc
 *   emit none even with -mno-omit-leaf-frame-pointer; a prologue or an
 *   epilogue). Its return address is then the word at the stack pointer
 *   (or the one above, after `push %rbp`), taken only when the instruction
 *   before it calls exactly the function holding the interrupted
 *   instruction (function starts from the object's .eh_frame_hdr; a
 *   direct call, a PLT stub, a GOT slot, or a wrapper tail-jumping to it);
 * - where the chain breaks (code without frame pointers: glibc's futex
 *   waits, malloc), a bounded scan up the stack finds each return address
 *   the same way and resumes the chain at a saved frame pointer whose chain
 *   checks all the way to its end (scan_recover);
 * - a thread whose chain never ends cleanly (the main thread, under
 *   glibc's start code) gets the frames above the last agreeing one from a
 *   libunwind backtrace taken once, at registration (chain_top_here).
 * What is left goes to libunwind (on_sigprof). Code and data are read only
 * inside the loaded objects' segments: a map taken when threads register
 * and refreshed by the drain thread when the loader's counts change; old
 * maps are kept until the sampler is freed, so a handler never reads a
 * freed one. */

struct seg {
	uintptr_t lo, hi;
	int object;
};

/* An object's .eh_frame_hdr search table: (function start, FDE) pairs,
 * sorted, as 32-bit offsets from hdr. NULL when the object has none in the
 * common encoding. */
struct fde_table {
	uintptr_t hdr;
	const int32_t *table;
	uint32_t count;
};

struct code_map {
	struct code_map *older; /* kept until the sampler is freed */
	int n_code, n_data, n_objects;
	unsigned long long adds, subs; /* the loader's counts when taken */
	struct seg *code, *data; /* sorted by lo */
	struct fde_table *fdes;  /* [n_objects] */
};

static const struct seg *seg_find(const struct seg *v, int n, uintptr_t a)
{
	int lo = 0, hi = n - 1;
	while (lo <= hi) {
		int mid = (lo + hi) / 2;
		if (a < v[mid].lo)
			hi = mid - 1;
		else if (a >= v[mid].hi)
			lo = mid + 1;
		else
			return &v[mid];
	}
	return NULL;
}

/* [a, a + n) inside one executable segment */
static const struct seg *in_code(const struct code_map *m, uintptr_t a, size_t n)
{
	const struct seg *g = seg_find(m->code, m->n_code, a);
	return g && a + n <= g->hi ? g : NULL;
}

/* The 8-byte slot at a, when it lies in a segment of object `object`. */
TG_RAW_READ static int read_slot(const struct code_map *m, uintptr_t a, int object, uintptr_t *out)
{
	const struct seg *g = seg_find(m->data, m->n_data, a);
	if (!g || a + 8 > g->hi || g->object != object || (a & 7))
		return 0; /* GOT slots are 8-byte aligned */
	*out = *(const uintptr_t *)a;
	return 1;
}

/* The start of the function holding ip, from its object's .eh_frame_hdr
 * (the greatest FDE start at or below ip); 0 when unknown. */
static uintptr_t fn_start(const struct code_map *m, uintptr_t ip)
{
	const struct seg *g = in_code(m, ip, 1);
	if (!g || g->object >= m->n_objects)
		return 0;
	const struct fde_table *t = &m->fdes[g->object];
	if (!t->table || t->count == 0)
		return 0;
	const intptr_t rel = (intptr_t)(ip - t->hdr);
	uint32_t lo = 0, hi = t->count; /* first entry with start > rel */
	while (lo < hi) {
		const uint32_t mid = lo + (hi - lo) / 2;
		if ((intptr_t)t->table[2 * mid] <= rel)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo == 0 ? 0 : t->hdr + (uintptr_t)(intptr_t)t->table[2 * (lo - 1)];
}

#include "sampler_arch.h"

const char *tg_sampler_arch(void)
{
	return TG_ARCH_NAME ": " TG_ARCH_HYBRID_NOTE;
}

/* Whether w returns after a call of fn, directly or through a wrapper
 * that tail-jumps to it. */
static int returns_from(const struct code_map *m, uintptr_t w, uintptr_t fn)
{
	const uintptr_t t = arch_call_target(m, w);
	return t != 0 && (t == fn || arch_tail_jumps_to(m, t, fn));
}

/* Follows the frame-pointer chain from rbp, appending return addresses to
 * pcs[0..n); with a map, each must follow a call instruction. Frames lie
 * between the interrupted stack pointer (below it nothing is live, and the
 * main thread's stack may not be mapped yet) and the top of the stack.
 * When the chain breaks, *resume (if given) is the stack address just
 * above the last return address taken (left as it was when none was). */
TG_RAW_READ static int walk_chain(uintptr_t rbp, uintptr_t sp, const struct thread_rec *r,
				  const struct code_map *m, uint64_t *pcs, int n, int max,
				  uint32_t *flags, uintptr_t *resume)
{
	const uintptr_t lo = sp > r->stack_lo ? sp : r->stack_lo;
	if (r->stack_hi < r->stack_lo + 16) { /* the thread's stack is unknown */
		*flags |= TG_SAMPLE_UNWIND_FAILED;
		return n;
	}
	while (n < max) {
		if (rbp == 0)
			return n; /* the outermost frame: a clean end */
		if (rbp < lo || rbp > r->stack_hi - 16 || (rbp & 7)) {
			*flags |= TG_SAMPLE_UNWIND_FAILED;
			return n;
		}
		const uintptr_t *fp = (const uintptr_t *)rbp;
		const uintptr_t next = fp[0], ret = arch_return_address(fp[1]);
		if (ret == 0)
			return n;
		if (m && !arch_after_call(m, ret)) {
			*flags |= TG_SAMPLE_UNWIND_FAILED;
			return n;
		}
		pcs[n++] = ret;
		if (ret == r->top_ret) {
			/* into code without frame pointers that never returns
			 * below here: its frames as seen at registration */
			for (int k = 0; k < r->n_outer && n < max; k++)
				pcs[n++] = r->outer[k];
			return n;
		}
		if (resume)
			*resume = rbp + 16;
		if (next != 0 && next <= rbp) {
			*flags |= TG_SAMPLE_UNWIND_FAILED;
			return n;
		}
		rbp = next;
	}
	*flags |= TG_SAMPLE_TRUNCATED;
	return n;
}

/* The raw frame-pointer chain. */
TG_RAW_READ static int unwind_fp(const struct tg_sampler_regs *g, const struct thread_rec *r,
				 uint64_t *pcs, int max, uint32_t *flags)
{
	pcs[0] = g->ip;
	return walk_chain((uintptr_t)g->fp, (uintptr_t)g->sp, r, NULL, pcs, 1, max, flags, NULL);
}

/* Past code without frame pointers (glibc's futex waits, say): from stack
 * address a upward, the first word that returns after a call of the
 * function holding pcs[n-1] (exactly: function starts from .eh_frame_hdr)
 * is its caller; then, if some saved frame pointer among the words just
 * scanned (or %rbp) starts a chain that checks all the way to its clean
 * end, that chain is the rest of the stack, else scan on. At most 16 such
 * frames, 4 KiB of stack each; 0 when the scan fails (libunwind's turn). */
#define LEAF_SCAN_BYTES 1024 /* frameless functions' own stack use */
#define LEAF_LEVELS 4        /* frameless functions calling frameless functions */
#define SCAN_FRAMES 16
#define SCAN_BYTES 4096
#define SCAN_WORDS 2048 /* words read in all, per sample */
#define SCAN_CHAINS 32  /* candidate chains walked, per sample */

TG_RAW_READ static int scan_recover(const struct thread_rec *r, const struct code_map *m,
				    uintptr_t rbp_reg, uint64_t *pcs, int n, uintptr_t a, int max,
				    uint32_t *flags)
{
	const uintptr_t hi = r->stack_hi;
	if (hi < r->stack_lo + 16 || a < r->stack_lo || a > hi - 8 || (a & 7))
		return 0;
	int words = SCAN_WORDS, chains = SCAN_CHAINS;
	for (int step = 0; step < SCAN_FRAMES && n < max; step++) {
		const uintptr_t fn = fn_start(m, (uintptr_t)pcs[n - 1]);
		if (fn == 0)
			return 0;
		uintptr_t slot = 0;
		for (uintptr_t at = a; at <= hi - 8 && at - a < SCAN_BYTES && words > 0; at += 8, words--)
			if (returns_from(m, arch_return_address(*(const uintptr_t *)at), fn)) {
				slot = at;
				break;
			}
		if (slot == 0)
			return 0;
		pcs[n++] = arch_return_address(*(const uintptr_t *)slot);
		if (n >= max) {
			*flags |= TG_SAMPLE_TRUNCATED;
			return n;
		}
		/* the caller's frame pointer: still in %rbp, or saved by the code
		 * between a and the return slot */
		for (uintptr_t at = slot; at >= a; at -= 8) {
			const uintptr_t v = at == slot ? rbp_reg : *(const uintptr_t *)at;
			if (v <= slot || v > hi - 16 || (v & 7))
				continue;
			if (chains-- <= 0)
				return 0;
			uint32_t f = 0;
			const int got = walk_chain(v, slot + 8, r, m, pcs, n, max, &f, NULL);
			if (got > n && !(f & TG_SAMPLE_UNWIND_FAILED)) {
				*flags |= f;
				return got;
			}
		}
		a = slot + 8;
	}
	return 0;
}

TG_RAW_READ static int unwind_hybrid(const struct tg_sampler_regs *g, const struct thread_rec *r,
				     const struct code_map *m, uint64_t *pcs, int max,
				     uint32_t *flags)
{
	const uintptr_t ip = (uintptr_t)g->ip, sp = (uintptr_t)g->sp, rbp = (uintptr_t)g->fp;
	int n = 0;
	pcs[n++] = ip;
	if (r->stack_hi < r->stack_lo + 16 || sp < r->stack_lo || sp > r->stack_hi - 16 || (sp & 7)) {
		*flags |= TG_SAMPLE_UNWIND_FAILED;
		return n;
	}
	/* The interrupted function's caller, when it has no frame yet (or any
	 * more): a return address where the architecture keeps it for a
	 * frameless function (arch_leaf_returns) that returns after a call of
	 * the function holding ip (its start from .eh_frame_hdr). Without that
	 * table: of a function starting at most 256 KiB below ip, refused when
	 * the frame's own return address names a call of a function at least
	 * as close below ip (the frame explains ip; a stale return address in
	 * an uninitialised local would pass the loose test). */
	const uintptr_t fn = fn_start(m, ip), max_fn = (uintptr_t)256 << 10;
	const int rbp_ok = rbp >= sp && rbp <= r->stack_hi - 16 && !(rbp & 7);
	const uintptr_t framed_ret = rbp_ok ? arch_return_address(((const uintptr_t *)rbp)[1]) : 0;
	uintptr_t resume = sp;
	uintptr_t cand[2], above[2];
	const int n_cand = arch_leaf_returns(g, cand, above, 2);
	for (int k = 0; k < n_cand; k++) {
		const uintptr_t w = cand[k];
		if (w == framed_ret)
			break; /* the chain has it */
		const uintptr_t target = arch_call_target(m, w);
		if (target == 0)
			continue;
		if (fn != 0 ? !returns_from(m, w, fn) : target > ip || ip - target >= max_fn)
			continue;
		if (fn == 0 && framed_ret) {
			const uintptr_t framed_fn = arch_call_target(m, framed_ret);
			if (framed_fn != 0 && framed_fn <= ip && framed_fn >= target)
				break;
		}
		pcs[n++] = w;
		resume = above[k];
		break;
	}
	/* A frameless function that does use the stack (libm's __sin_fma, the
	 * string functions: registers pushed, room for spills) keeps its
	 * return address deeper than the two words looked at, and its caller
	 * may be frameless too (libc's clock_gettime calling into the vDSO):
	 * while the frame's own return address is not from a call of the
	 * innermost function found, the next word above, below the caller's
	 * frame, that returns from a call of it is its return address. Only
	 * while %rbp is still the caller's frame (code that took the register
	 * over is scan_recover's, which also finds a saved %rbp). */
	if (rbp_ok && rbp > sp) {
		uintptr_t from = n == 1 ? sp : resume;
		uintptr_t want = n == 1 ? fn : fn_start(m, (uintptr_t)pcs[n - 1]);
		for (int level = 0; level < LEAF_LEVELS && n < max && want != 0; level++) {
			if (framed_ret && returns_from(m, framed_ret, want))
				break; /* the chain has the rest */
			uintptr_t got_w = 0;
			for (uintptr_t at = from; at < rbp && at - sp < LEAF_SCAN_BYTES; at += 8) {
				const uintptr_t w = arch_return_address(*(const uintptr_t *)at);
				if (w != 0 && returns_from(m, w, want)) {
					got_w = w;
					from = resume = at + 8;
					break;
				}
			}
			if (got_w == 0)
				break;
			pcs[n++] = got_w;
			want = fn_start(m, got_w);
		}
	}
	uint32_t f = 0;
	int got = n;
	if (rbp == 0)
		f = TG_SAMPLE_UNWIND_FAILED; /* code without frame pointers */
	else
		got = walk_chain(rbp, sp, r, m, pcs, n, max, &f, &resume);
	if (!(f & TG_SAMPLE_UNWIND_FAILED)) {
		*flags |= f;
		return got;
	}
	/* the chain broke: scan past the code without frame pointers */
	const int scanned = scan_recover(r, m, rbp, pcs, got, resume, max, flags);
	if (scanned > 0)
		return scanned;
	*flags |= TG_SAMPLE_UNWIND_FAILED;
	return got;
}

struct map_build {
	struct code_map *m;
	int object;
	size_t cap_code, cap_data, cap_objects;
};

static int add_seg(struct seg **v, int *n, size_t *cap, struct seg g)
{
	struct seg *nv = tg_grow_block(*v, cap, (size_t)*n + 1, sizeof(*nv), 64);
	if (!nv)
		return -1;
	*v = nv;
	(*v)[(*n)++] = g;
	return 0;
}

/* An object's .eh_frame_hdr table, when it uses the encoding every
 * toolchain here emits (version 1, udata4 count, datarel sdata4 table) and
 * lies inside one of the object's readable segments. */
static struct fde_table read_fde_table(const struct dl_phdr_info *info)
{
	struct fde_table t = {0, NULL, 0};
	const ElfW(Phdr) *eh = NULL;
	for (int i = 0; i < info->dlpi_phnum; i++)
		if (info->dlpi_phdr[i].p_type == PT_GNU_EH_FRAME)
			eh = &info->dlpi_phdr[i];
	if (!eh || eh->p_memsz < 12)
		return t;
	const uintptr_t hdr = (uintptr_t)info->dlpi_addr + eh->p_vaddr;
	const uint8_t *h = (const uint8_t *)hdr;
	/* eh_frame_ptr: a 4-byte encoding (absptr/udata4/sdata4, pc- or datarel) */
	const uint8_t ptr_enc = h[1], low = ptr_enc & 0x0f;
	if (h[0] != 1 || h[2] != 0x03 || h[3] != 0x3b || (low != 0x03 && low != 0x0b))
		return t;
	uint32_t count;
	memcpy(&count, h + 8, 4);
	const uint64_t bytes = 12 + (uint64_t)count * 8;
	if (bytes > eh->p_memsz)
		return t;
	/* inside a readable PT_LOAD segment of this object */
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		const uintptr_t lo = (uintptr_t)info->dlpi_addr + ph->p_vaddr;
		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_R) && hdr >= lo &&
		    hdr + bytes <= lo + ph->p_memsz) {
			t.hdr = hdr;
			t.table = (const int32_t *)(h + 12);
			t.count = count;
			break;
		}
	}
	return t;
}

static int collect_segments(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)size;
	struct map_build *b = arg;
	struct fde_table *nv =
		tg_grow_block(b->m->fdes, &b->cap_objects, (size_t)b->object + 1, sizeof(*nv), 64);
	if (!nv)
		return 1;
	b->m->fdes = nv;
	b->m->fdes[b->object] = read_fde_table(info);
	b->m->n_objects = b->object + 1;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD || ph->p_memsz == 0)
			continue;
		uintptr_t lo = (uintptr_t)info->dlpi_addr + ph->p_vaddr;
		struct seg g = {lo, lo + ph->p_memsz, b->object};
		if ((ph->p_flags & PF_X) && add_seg(&b->m->code, &b->m->n_code, &b->cap_code, g) < 0)
			return 1;
		if ((ph->p_flags & PF_R) && add_seg(&b->m->data, &b->m->n_data, &b->cap_data, g) < 0)
			return 1;
	}
	b->object++;
	return 0;
}

/* the loader's counts of objects added and removed so far */
static int count_loads(struct dl_phdr_info *info, size_t size, void *arg)
{
	unsigned long long *v = arg;
	if (size >= offsetof(struct dl_phdr_info, dlpi_subs) + sizeof(info->dlpi_subs)) {
		v[0] = info->dlpi_adds;
		v[1] = info->dlpi_subs;
	}
	return 1; /* the first object is enough */
}

static int seg_cmp(const void *a, const void *b)
{
	const struct seg *x = a, *y = b;
	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static void code_map_free_all(struct code_map *m)
{
	while (m) {
		struct code_map *o = m->older;
		free(m->code);
		free(m->data);
		free(m->fdes);
		free(m);
		m = o;
	}
}

/* A map of the objects loaded now, the loader's counts being `counts`;
 * NULL when out of memory. */
static struct code_map *code_map_take(const unsigned long long counts[2])
{
	struct code_map *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->adds = counts[0];
	m->subs = counts[1];
	struct map_build b = {m, 0, 0, 0, 0};
	if (dl_iterate_phdr(collect_segments, &b) != 0) {
		code_map_free_all(m);
		return NULL;
	}
	qsort(m->code, (size_t)m->n_code, sizeof(*m->code), seg_cmp);
	qsort(m->data, (size_t)m->n_data, sizeof(*m->data), seg_cmp);
	return m;
}

/* Takes a new map when objects were loaded or unloaded since the last one.
 * The old one stays readable: a handler may be walking it. */
static void refresh_map(struct tg_sampler *s)
{
	struct code_map *old = atomic_load(&s->map);
	unsigned long long v[2] = {0, 0};
	dl_iterate_phdr(count_loads, v);
	if (old && v[0] == old->adds && v[1] == old->subs)
		return;
	struct code_map *m = code_map_take(v);
	if (!m)
		return; /* the old map (or plain frame pointers) goes on */
	m->older = old;
	atomic_store_explicit(&s->map, m, memory_order_release);
}


#if TG_HAVE_LIBUNWIND
/* The fast path: unw_backtrace from the handler itself uses libunwind's
 * cached frame traces (~1 us against ~6 us for stepping a cursor), then the
 * frames of the handler and the signal trampoline above the interrupted
 * instruction are dropped. 0 when the interrupted frame was not found. */
static int unwind_fast(uint64_t rip, uint64_t *pcs, int max, uint32_t *flags)
{
	void *buf[TG_SAMPLE_MAX_DEPTH + 8];
	int want = max + 8 < TG_SAMPLE_MAX_DEPTH + 8 ? max + 8 : TG_SAMPLE_MAX_DEPTH + 8;
	int n = unw_backtrace(buf, want);
	int k = 0;
	while (k < n && k < 8 && (uint64_t)(uintptr_t)buf[k] != rip)
		k++;
	if (k >= n || k == 8)
		return 0;
	int out = 0;
	for (; k < n && out < max; k++)
		pcs[out++] = (uint64_t)(uintptr_t)buf[k];
	if (out == max && n == want)
		*flags |= TG_SAMPLE_TRUNCATED;
	return out;
}

static int unwind_libunwind(ucontext_t *uc, uint64_t ip, uint64_t *pcs, int max, uint32_t *flags)
{
	int fast = unwind_fast(ip, pcs, max, flags);
	if (fast > 0)
		return fast;
	unw_cursor_t cursor;
	int n = 0;
	if (unw_init_local2(&cursor, (unw_context_t *)uc, UNW_INIT_SIGNAL_FRAME) < 0) {
		pcs[n++] = ip;
		*flags |= TG_SAMPLE_UNWIND_FAILED;
		return n;
	}
	int step;
	do {
		unw_word_t pc = 0;
		unw_get_reg(&cursor, UNW_REG_IP, &pc);
		if (pc == 0)
			break;
		pcs[n++] = (uint64_t)pc;
		step = unw_step(&cursor);
	} while (n < max && step > 0);
	if (n == max)
		*flags |= TG_SAMPLE_TRUNCATED;
	else if (step < 0)
		*flags |= TG_SAMPLE_UNWIND_FAILED;
	return n;
}
#endif

/* ---- the handler ---------------------------------------------------------- */

/* Two unwinds of one sample agree when one is the other's start and the
 * longer goes at most two frames further (libunwind reaches __clone3 or
 * _start above where a frame-pointer chain ends cleanly). */
static int same_stack(const uint64_t *a, int na, const uint64_t *b, int nb)
{
	const int n = na < nb ? na : nb, extra = na > nb ? na - nb : nb - na;
	if (extra > 2)
		return 0;
	for (int i = 0; i < n; i++)
		if (a[i] != b[i])
			return 0;
	return 1;
}

static void ring_push(struct thread_rec *r, uint64_t t_ns, uint32_t flags, const uint64_t *pcs,
		      int depth)
{
	const size_t need = sizeof(struct ring_rec) + (size_t)depth * sizeof(uint64_t);
	const uint64_t h = atomic_load_explicit(&r->head, memory_order_relaxed);
	const uint64_t t = atomic_load_explicit(&r->tail, memory_order_acquire);
	size_t pos = (size_t)(h & (r->cap - 1)), to_end = r->cap - pos;
	size_t total = need + (to_end < need ? to_end : 0);
	if (r->cap - (size_t)(h - t) < total) {
		atomic_fetch_add_explicit(&r->dropped, 1, memory_order_relaxed);
		return;
	}
	uint64_t nh = h;
	if (to_end < need) {
		*(uint32_t *)(r->buf + pos) = RING_SKIP;
		nh += to_end;
		pos = 0;
	}
	struct ring_rec *rec = (struct ring_rec *)(r->buf + pos);
	rec->len = (uint32_t)need;
	rec->depth = (uint32_t)depth;
	rec->t_ns = t_ns;
	rec->tag = (int32_t)atomic_load_explicit(&r->tag, memory_order_relaxed);
	rec->flags = (flags & 0xFFFFu) | tg_phase_get() << 16; /* the interrupted thread's phase */
	memcpy(rec + 1, pcs, (size_t)depth * sizeof(uint64_t));
	atomic_store_explicit(&r->head, nh + need, memory_order_release);
}

/* A tick that finds its thread waiting in a system call (a futex, a sleep,
 * a read that blocks; arch_blocked_syscall reads it from the interrupted
 * instruction) is idle; a thread that computes, or waits only for a CPU, is
 * not. Reading the instruction costs nothing, where asking the kernel for
 * the thread's CPU time costs a system call per tick (1.4 us, 3.5-6 us from
 * the handler in the 2-vCPU VM). */
static void on_sigprof(int sig, siginfo_t *si, void *ctx)
{
	(void)sig;
	const int saved = errno;
	struct thread_rec *r = tls_rec;
	if (!r || !atomic_load_explicit(&r->active, memory_order_acquire))
		goto out;
	atomic_fetch_add_explicit(&r->signals, 1, memory_order_relaxed);
	/* the kernel merges ticks that expire while one is pending: the
	 * thread did not run (no CPU free) or the handler was slower than the
	 * period */
	if (si && si->si_code == SI_TIMER && si->si_overrun > 0)
		atomic_fetch_add_explicit(&r->overruns, (uint64_t)si->si_overrun, memory_order_relaxed);
	const struct tg_sampler *s = r->s;
	const uint64_t t = now_ns(CLOCK_MONOTONIC);
	const ucontext_t *uc = ctx;
	if (s->o.clock == TG_SAMPLE_WALL && !s->o.include_idle && arch_blocked_syscall(uc)) {
		atomic_fetch_add_explicit(&r->idle, 1, memory_order_relaxed);
		goto out;
	}
	uint64_t pcs[TG_SAMPLE_MAX_DEPTH];
	uint32_t flags = 0;
	int depth;
	struct tg_sampler_regs g;
	arch_regs(uc, &g);
	if (s->hybrid) {
		const struct code_map *m = atomic_load_explicit(&s->map, memory_order_acquire);
		depth = m ? unwind_hybrid(&g, r, m, pcs, s->o.max_depth, &flags)
			  : unwind_fp(&g, r, pcs, s->o.max_depth, &flags);
#if TG_HAVE_LIBUNWIND
		/* a library without frame pointers broke the chain: DWARF */
		if (flags & TG_SAMPLE_UNWIND_FAILED) {
			flags = 0;
			depth = unwind_libunwind((ucontext_t *)ctx, g.ip, pcs, s->o.max_depth, &flags);
			if (!(flags & TG_SAMPLE_UNWIND_FAILED))
				atomic_fetch_add_explicit(&r->fallbacks, 1, memory_order_relaxed);
		} else if (s->o.compare_unwinders) {
			/* the same sample by libunwind: does the hybrid agree? */
			uint64_t ref[TG_SAMPLE_MAX_DEPTH];
			uint32_t rf = 0;
			const int nr = unwind_libunwind((ucontext_t *)ctx, g.ip, ref, s->o.max_depth, &rf);
			if (!(rf & TG_SAMPLE_UNWIND_FAILED)) {
				atomic_fetch_add_explicit(&r->compared, 1, memory_order_relaxed);
				if (same_stack(pcs, depth, ref, nr))
					atomic_fetch_add_explicit(&r->agreed, 1, memory_order_relaxed);
			}
		}
#endif
	}
#if TG_HAVE_LIBUNWIND
	else if (s->use_libunwind)
		depth = unwind_libunwind((ucontext_t *)ctx, g.ip, pcs, s->o.max_depth, &flags);
#endif
	else
		depth = unwind_fp(&g, r, pcs, s->o.max_depth, &flags);
	if (flags & TG_SAMPLE_UNWIND_FAILED)
		atomic_fetch_add_explicit(&r->failed, 1, memory_order_relaxed);
	if (flags & TG_SAMPLE_TRUNCATED)
		atomic_fetch_add_explicit(&r->truncated, 1, memory_order_relaxed);
	ring_push(r, t, flags, pcs, depth);
	/* our own cost, not the kernel's delivery around it (two vDSO reads) */
	atomic_fetch_add_explicit(&r->handler_ns, now_ns(CLOCK_MONOTONIC) - t, memory_order_relaxed);
out:
	errno = saved;
}

/* ---- the store and the drain thread ------------------------------------ */

struct stored {
	uint64_t t_ns;
	int32_t tid, tag;
	uint32_t flags, depth;
};

static int store_append(struct tg_sampler *s, const struct thread_rec *r, const struct ring_rec *rec)
{
	const size_t bytes = sizeof(struct stored) + rec->depth * sizeof(uint64_t);
	uint8_t *nb = tg_grow_block(s->store, &s->store_cap, s->store_len + bytes, 1, 1u << 20);
	if (!nb)
		return -1;
	s->store = nb;
	size_t *no = tg_grow_block(s->offsets, &s->cap_samples, s->n_samples + 1, sizeof(*no), 4096);
	if (!no)
		return -1;
	s->offsets = no;
	struct stored *st = (struct stored *)(s->store + s->store_len);
	st->t_ns = rec->t_ns;
	st->tid = r->tid;
	st->tag = rec->tag;
	st->flags = rec->flags;
	st->depth = rec->depth;
	memcpy(st + 1, rec + 1, rec->depth * sizeof(uint64_t));
	s->offsets[s->n_samples++] = s->store_len;
	s->store_len += bytes;
	return 0;
}

static void drain_one(struct tg_sampler *s, struct thread_rec *r)
{
	uint64_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);
	const uint64_t h = atomic_load_explicit(&r->head, memory_order_acquire);
	while (t < h) {
		size_t pos = (size_t)(t & (r->cap - 1));
		const struct ring_rec *rec = (const struct ring_rec *)(r->buf + pos);
		if (rec->len == RING_SKIP) {
			t += r->cap - pos;
			continue;
		}
		if (store_append(s, r, rec) < 0)
			atomic_fetch_add_explicit(&r->dropped, 1, memory_order_relaxed);
		t += rec->len;
	}
	atomic_store_explicit(&r->tail, t, memory_order_release);
}

static void drain_all(struct tg_sampler *s)
{
	pthread_mutex_lock(&s->mu);
	for (struct thread_rec *r = s->threads; r; r = r->next)
		drain_one(s, r);
	pthread_mutex_unlock(&s->mu);
}

static void *drain_main(void *arg)
{
	struct tg_sampler *s = arg;
	while (atomic_load(&s->running)) {
		struct timespec ts = {s->o.drain_ms / 1000, (long)(s->o.drain_ms % 1000) * 1000000L};
		nanosleep(&ts, NULL);
		drain_all(s);
		if (s->hybrid) {
			/* an object unloaded since the map was taken: a new map
			 * within a drain period */
			pthread_mutex_lock(&s->mu);
			refresh_map(s);
			pthread_mutex_unlock(&s->mu);
		}
	}
	return NULL;
}

/* ---- lifecycle ------------------------------------------------------------- */

int tg_sampler_new(const struct tg_sampler_opts *o, struct tg_sampler **out, struct tg_error *err)
{
	*out = NULL;
	struct tg_sampler *s = calloc(1, sizeof(*s));
	TG_FAIL_IF(!s, err, TG_E_NOMEM, "sampler: out of memory");
	s->o = *o;
	if (s->o.hz <= 0)
		s->o.hz = TG_SAMPLER_DEFAULT_HZ;
	if (s->o.max_depth <= 0)
		s->o.max_depth = 128;
	if (s->o.max_depth > TG_SAMPLE_MAX_DEPTH)
		s->o.max_depth = TG_SAMPLE_MAX_DEPTH;
	if (s->o.ring_bytes == 0)
		s->o.ring_bytes = 1u << 20;
	if (s->o.drain_ms <= 0)
		s->o.drain_ms = 10;
	size_t cap = 4096;
	while (cap < s->o.ring_bytes)
		cap *= 2;
	s->o.ring_bytes = cap;
	if (s->o.hz > TG_SAMPLER_MAX_HZ) {
		free(s);
		return TG_ERR(err, TG_E_INVAL,
			      "sampler: --sample-hz %d: expected 1..%d samples per second", o->hz,
			      TG_SAMPLER_MAX_HZ);
	}
	if (s->o.clock < 0 || s->o.clock > TG_SAMPLE_CPU || s->o.unwind < 0 ||
	    s->o.unwind > TG_UNWIND_HYBRID) {
		free(s);
		return TG_ERR(err, TG_E_INVAL, "sampler: clock %d or unwinder %d is not one of ours",
			      o->clock, o->unwind);
	}
	if (s->o.unwind == TG_UNWIND_LIBUNWIND && !TG_HAVE_LIBUNWIND) {
		free(s);
		return TG_ERR(err, TG_E_UNSUPPORTED,
			      "sampler: libunwind is not built in (install libunwind-dev and "
			      "reconfigure); use frame-pointer unwinding");
	}
	if (!TG_ARCH_FP && s->o.unwind != TG_UNWIND_LIBUNWIND) {
		/* no frame-pointer walk here: the hybrid is libunwind alone */
		if (s->o.unwind == TG_UNWIND_FP || !TG_HAVE_LIBUNWIND) {
			free(s);
			return TG_ERR(err, TG_E_UNSUPPORTED,
				      "sampler: no frame-pointer unwinder for " TG_ARCH_NAME
				      "%s",
				      TG_HAVE_LIBUNWIND ? "; use --unwind libunwind"
							: " and no libunwind in this build");
		}
		s->o.unwind = TG_UNWIND_LIBUNWIND;
	}
	s->hybrid = s->o.unwind == TG_UNWIND_AUTO || s->o.unwind == TG_UNWIND_HYBRID;
	s->use_libunwind = TG_HAVE_LIBUNWIND && s->o.unwind == TG_UNWIND_LIBUNWIND;
	s->interval_ns = 1000000000ull / (uint64_t)s->o.hz;
	pthread_mutex_init(&s->mu, NULL);
	*out = s;
	return 0;
}

int tg_sampler_start(struct tg_sampler *s, struct tg_error *err)
{
	if (s->hybrid)
		refresh_map(s);
#if TG_HAVE_LIBUNWIND
	if (s->use_libunwind || s->hybrid)
		unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
#endif
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigprof;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGPROF);
	TG_FAIL_IF(sigaction(SIGPROF, &sa, &s->old_action) != 0, err, TG_E_IO,
		   "sampler: cannot install the SIGPROF handler: %s", strerror(errno));
	s->handler_installed = 1;
	atomic_store(&s->running, 1);
	int rc = pthread_create(&s->drain, NULL, drain_main, s);
	if (rc != 0) {
		atomic_store(&s->running, 0);
		return TG_ERR_SUB(err, TG_E_IO, rc, "sampler: cannot start the drain thread: %s",
				  strerror(rc));
	}
	s->drain_started = 1;
	return 0;
}

static struct thread_rec *take_record(struct tg_sampler *s)
{
	/* reuse a retired record whose ring has been drained */
	for (struct thread_rec *r = s->threads; r; r = r->next) {
		if (atomic_load(&r->retired) &&
		    atomic_load(&r->head) == atomic_load(&r->tail)) {
			atomic_store(&r->retired, 0);
			return r;
		}
	}
	struct thread_rec *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->buf = malloc(s->o.ring_bytes);
	if (!r->buf) {
		free(r);
		return NULL;
	}
	r->cap = s->o.ring_bytes;
	r->s = s;
	r->next = s->threads;
	s->threads = r;
	return r;
}

static int arm(struct thread_rec *r, uint64_t interval_ns, uint64_t first_ns)
{
	struct itimerspec its;
	its.it_interval.tv_sec = (time_t)(interval_ns / 1000000000ull);
	its.it_interval.tv_nsec = (long)(interval_ns % 1000000000ull);
	its.it_value.tv_sec = (time_t)(first_ns / 1000000000ull);
	its.it_value.tv_nsec = (long)(first_ns % 1000000000ull);
	return timer_settime(r->timer, 0, &its, NULL);
}

/* The calling thread's stack, [*lo, *hi); both 0 when unknown. */
static void thread_stack(uintptr_t *lo, uintptr_t *hi)
{
	pthread_attr_t attr;
	void *addr = NULL;
	size_t size = 0;
	if (pthread_getattr_np(pthread_self(), &attr) == 0) {
		pthread_attr_getstack(&attr, &addr, &size);
		pthread_attr_destroy(&attr);
	}
	*lo = (uintptr_t)addr;
	*hi = (uintptr_t)addr + size;
}

/* Where the calling thread's frame-pointer chain ends for good, seen from
 * here: when the chain, checked as the handler checks it, does not end
 * cleanly (%rbp 0), it is compared with libunwind's (DWARF) backtrace; the
 * last return address both agree on is r->top_ret (on the main thread: out
 * of main into __libc_start_call_main, whose %rbp is anything) and
 * libunwind's frames above it are r->outer. Nothing when the chain ends
 * cleanly (most threads: glibc's clone3 clears %rbp; libunwind costs
 * ~0.3 ms on a new thread), or without libunwind to tell. r->top_ret must
 * be 0 on entry. */
__attribute__((noinline)) static void chain_top_here(const struct code_map *m,
						     struct thread_rec *r)
{
#if TG_HAVE_LIBUNWIND
	if (!m)
		return;
	uint64_t fp[64];
	uint32_t f = 0;
	const uintptr_t here = (uintptr_t)__builtin_frame_address(0);
	const int nf = walk_chain(here, here, r, m, fp, 0, 64, &f, NULL);
	if (!(f & TG_SAMPLE_UNWIND_FAILED))
		return;
	void *bt[65];
	const int nb = unw_backtrace(bt, 65); /* bt[0]: this function, bt[k + 1]: fp[k] */
	int agree = 0;
	while (agree < nf && agree + 1 < nb && fp[agree] == (uint64_t)(uintptr_t)bt[agree + 1])
		agree++;
	if (agree == 0 || agree + 1 >= nb)
		return;
	/* the outer frames first, then the address that makes the handler use
	 * them: a tick on this thread in between sees top_ret 0 */
	int n_outer = 0;
	for (int k = agree + 1; k < nb && n_outer < (int)(sizeof(r->outer) / sizeof(r->outer[0])); k++)
		r->outer[n_outer++] = (uint64_t)(uintptr_t)bt[k];
	r->n_outer = n_outer;
	atomic_signal_fence(memory_order_release);
	r->top_ret = (uintptr_t)fp[agree - 1];
#else
	(void)m;
	(void)r;
#endif
}

void tg_sampler_rebase_thread(struct tg_sampler *s)
{
	struct thread_rec *r = tls_rec;
	if (!r || !s->hybrid)
		return;
	r->top_ret = 0;
	atomic_signal_fence(memory_order_release);
	r->n_outer = 0;
	pthread_mutex_lock(&s->mu);
	refresh_map(s);
	pthread_mutex_unlock(&s->mu);
	chain_top_here(atomic_load(&s->map), r);
}

int tg_sampler_register_thread(struct tg_sampler *s, int32_t tag, struct tg_error *err)
{
	TG_FAIL_IF(tls_rec != NULL, err, TG_E_INVAL, "sampler: this thread is already registered");
	pthread_mutex_lock(&s->mu);
	struct thread_rec *r = take_record(s);
	if (r)
		s->n_threads_ever++;
	if (s->hybrid)
		refresh_map(s); /* objects loaded since (the CUDA driver, say) */
	pthread_mutex_unlock(&s->mu);
	TG_FAIL_IF(!r, err, TG_E_NOMEM, "sampler: out of memory for a %zu-byte ring",
		   s->o.ring_bytes);
	r->tid = (pid_t)syscall(SYS_gettid);
	if (pthread_getname_np(pthread_self(), r->name, sizeof(r->name)) != 0)
		r->name[0] = '\0';
	atomic_store(&r->tag, tag);
	thread_stack(&r->stack_lo, &r->stack_hi);
	r->top_ret = 0;
	r->n_outer = 0;
	if (s->hybrid)
		chain_top_here(atomic_load(&s->map), r);
	r->registered_at_ns = now_ns(CLOCK_MONOTONIC);
	r->paused_at_ns = 0;
	r->paused_s = 0.0;

	struct sigevent sev;
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_THREAD_ID;
	sev.sigev_signo = SIGPROF;
	sev._sigev_un._tid = r->tid;
	clockid_t clock = s->o.clock == TG_SAMPLE_CPU ? CLOCK_THREAD_CPUTIME_ID : CLOCK_MONOTONIC;
	if (timer_create(clock, &sev, &r->timer) != 0) {
		int e = errno;
		atomic_store(&r->retired, 1);
		return TG_ERR_SUB(err, TG_E_IO, e, "sampler: timer_create failed: %s", strerror(e));
	}
	r->has_timer = 1;
	tls_rec = r;
	atomic_store_explicit(&r->active, 1, memory_order_release);
	/* first tick at a per-thread offset, so threads do not fire together */
	uint64_t first = s->interval_ns / 2 + ((uint64_t)r->tid * 7919u) % (s->interval_ns / 2 + 1);
	if (arm(r, s->interval_ns, first) != 0) {
		int e = errno;
		tg_sampler_unregister_thread(s);
		return TG_ERR_SUB(err, TG_E_IO, e, "sampler: timer_settime failed: %s", strerror(e));
	}
	return 0;
}

void tg_sampler_pause_thread(struct tg_sampler *s)
{
	(void)s;
	struct thread_rec *r = tls_rec;
	if (r && r->has_timer && !r->paused_at_ns) {
		arm(r, 0, 0);
		r->paused_at_ns = now_ns(CLOCK_MONOTONIC);
	}
}

void tg_sampler_resume_thread(struct tg_sampler *s)
{
	struct thread_rec *r = tls_rec;
	if (r && r->has_timer && r->paused_at_ns) {
		r->paused_s += (double)(now_ns(CLOCK_MONOTONIC) - r->paused_at_ns) * 1e-9;
		r->paused_at_ns = 0;
		arm(r, s->interval_ns, s->interval_ns);
	}
}

void tg_sampler_set_tag(struct tg_sampler *s, int32_t tag)
{
	(void)s;
	if (tls_rec)
		atomic_store(&tls_rec->tag, tag);
}

/* Seconds of the current registration the timer was armed. */
static double armed_seconds(const struct thread_rec *r, uint64_t now)
{
	uint64_t end = r->paused_at_ns ? r->paused_at_ns : now;
	return (double)(end - r->registered_at_ns) * 1e-9 - r->paused_s;
}

static void retire(struct thread_rec *r)
{
	atomic_store_explicit(&r->active, 0, memory_order_release);
	if (r->has_timer) {
		timer_delete(r->timer);
		r->has_timer = 0;
	}
	r->registered_s += armed_seconds(r, now_ns(CLOCK_MONOTONIC));
	atomic_store(&r->retired, 1);
}

void tg_sampler_unregister_thread(struct tg_sampler *s)
{
	struct thread_rec *r = tls_rec;
	if (!r)
		return;
	/* the name now: threads are often named after they start */
	char name[16];
	if (pthread_getname_np(pthread_self(), name, sizeof(name)) != 0)
		snprintf(name, sizeof(name), "%s", r->name);
	pthread_mutex_lock(&s->mu);
	retire(r);
	struct thread_name *nn =
		tg_grow_block(s->names, &s->cap_names, s->n_names + 1, sizeof(*nn), 16);
	if (nn) {
		s->names = nn;
		s->names[s->n_names].tid = r->tid;
		memcpy(s->names[s->n_names++].name, name, sizeof(name));
	}
	pthread_mutex_unlock(&s->mu);
	tls_rec = NULL;
}

int tg_sampler_stop(struct tg_sampler *s, struct tg_error *err)
{
	(void)err;
	pthread_mutex_lock(&s->mu);
	for (struct thread_rec *r = s->threads; r; r = r->next)
		if (!atomic_load(&r->retired))
			retire(r);
	pthread_mutex_unlock(&s->mu);
	if (s->drain_started) {
		atomic_store(&s->running, 0);
		pthread_join(s->drain, NULL);
		s->drain_started = 0;
	}
	drain_all(s);
	if (s->handler_installed) {
		/* A tick may still be pending: never fall back to SIGPROF's default
		 * action (terminate); ignoring discards it. */
		struct sigaction ign;
		memset(&ign, 0, sizeof(ign));
		ign.sa_handler = s->old_action.sa_handler == SIG_DFL ? SIG_IGN : s->old_action.sa_handler;
		sigaction(SIGPROF, s->old_action.sa_handler == SIG_DFL ? &ign : &s->old_action, NULL);
		s->handler_installed = 0;
	}
	return 0;
}

void tg_sampler_free(struct tg_sampler *s)
{
	if (!s)
		return;
	tg_sampler_stop(s, NULL);
	struct thread_rec *r = s->threads;
	while (r) {
		struct thread_rec *next = r->next;
		free(r->buf);
		free(r);
		r = next;
	}
	free(s->store);
	free(s->offsets);
	free(s->names);
	code_map_free_all(atomic_load(&s->map));
	pthread_mutex_destroy(&s->mu);
	free(s);
}

size_t tg_sampler_count(const struct tg_sampler *s)
{
	return s->n_samples;
}

void tg_sampler_get(const struct tg_sampler *s, size_t i, struct tg_sample *out)
{
	const struct stored *st = (const struct stored *)(s->store + s->offsets[i]);
	out->t_ns = st->t_ns;
	out->tid = st->tid;
	out->tag = st->tag;
	out->flags = st->flags;
	out->depth = st->depth;
	out->pcs = (const uint64_t *)(st + 1);
}

void tg_sampler_get_stats(const struct tg_sampler *s, struct tg_sampler_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->requested_hz = s->o.hz;
	st->clock = s->o.clock == TG_SAMPLE_CPU ? "cpu" : "wall";
	st->unwind = s->hybrid ? "hybrid" : s->use_libunwind ? "libunwind" : "frame-pointers";
	st->threads = s->n_threads_ever;
	uint64_t signals = 0, handler_ns = 0;
	for (const struct thread_rec *r = s->threads; r; r = r->next) {
		signals += atomic_load(&r->signals);
		st->dropped += atomic_load(&r->dropped);
		st->idle_skipped += atomic_load(&r->idle);
		st->unwind_failures += atomic_load(&r->failed);
		st->truncated += atomic_load(&r->truncated);
		st->fallbacks += atomic_load(&r->fallbacks);
		st->overruns += atomic_load(&r->overruns);
		st->unwind_compared += atomic_load(&r->compared);
		st->unwind_agreed += atomic_load(&r->agreed);
		handler_ns += atomic_load(&r->handler_ns);
		st->thread_seconds += r->registered_s;
		if (atomic_load(&r->active))
			st->thread_seconds += armed_seconds(r, now_ns(CLOCK_MONOTONIC));
	}
	st->samples = s->n_samples;
	st->achieved_hz = st->thread_seconds > 0 ? (double)signals / st->thread_seconds : 0.0;
	const uint64_t handled = signals - st->idle_skipped;
	st->handler_us = handled ? (double)handler_ns * 1e-3 / (double)handled : 0.0;
	st->handler_share = st->thread_seconds > 0 ? (double)handler_ns * 1e-9 / st->thread_seconds : 0.0;
}

int tg_sampler_export(const struct tg_sampler *s, struct tg_capture *c, struct tg_error *err)
{
	struct tg_sampler_stats st;
	tg_sampler_get_stats(s, &st);
	for (size_t i = 0; i < s->n_samples; i++) {
		struct tg_sample sm;
		tg_sampler_get(s, i, &sm);
		uint32_t stack = tg_capture_add_stack(c, sm.pcs, sm.depth);
		struct tg_capture_sample cs = {sm.t_ns, sm.tid, sm.tag, sm.flags, stack};
		TG_FAIL_IF(stack == UINT32_MAX || tg_capture_add_sample(c, &cs) < 0, err, TG_E_NOMEM,
			   "sampler: out of memory exporting %zu samples", s->n_samples);
	}
	for (const struct thread_rec *r = s->threads; r; r = r->next)
		TG_FAIL_IF(tg_capture_set_thread(c, (uint32_t)r->tid, 0, r->name[0] ? r->name : NULL) < 0,
			   err, TG_E_NOMEM, "sampler: out of memory");
	for (size_t i = 0; i < s->n_names; i++)
		TG_FAIL_IF(tg_capture_set_thread(c, (uint32_t)s->names[i].tid, 0,
						 s->names[i].name[0] ? s->names[i].name : NULL) < 0,
			   err, TG_E_NOMEM, "sampler: out of memory");
	c->sample_period_ns = 1e9 / (double)(s->o.hz > 0 ? s->o.hz : 1);
	char buf[32];
	snprintf(buf, sizeof(buf), "%d", st.requested_hz);
	int rc = tg_capture_set_meta(c, "sampler.hz", buf);
	if (rc == 0)
		rc = tg_capture_set_meta(c, "sampler.clock", st.clock);
	snprintf(buf, sizeof(buf), "%.1f", st.achieved_hz);
	if (rc == 0)
		rc = tg_capture_set_meta(c, "sampler.achieved_hz", buf);
	snprintf(buf, sizeof(buf), "%.3f", st.handler_us);
	if (rc == 0)
		rc = tg_capture_set_meta(c, "sampler.handler_us", buf);
	snprintf(buf, sizeof(buf), "%.6f", st.handler_share);
	if (rc == 0)
		rc = tg_capture_set_meta(c, "sampler.handler_share", buf);
	if (rc == 0)
		rc = tg_capture_count(c, "sampler.threads", (uint64_t)st.threads);
	if (rc == 0)
		rc = tg_capture_set_meta(c, "sampler.unwind", st.unwind);
	if (rc == 0)
		rc = tg_capture_count(c, "sampler.samples", st.samples);
	if (rc == 0)
		rc = tg_capture_count(c, "sampler.dropped", st.dropped);
	if (rc == 0)
		rc = tg_capture_count(c, "sampler.unwind_failures", st.unwind_failures);
	if (rc == 0)
		rc = tg_capture_count(c, "sampler.truncated", st.truncated);
	if (rc == 0)
		rc = tg_capture_count(c, "sampler.idle_skipped", st.idle_skipped);
	if (rc == 0)
		rc = tg_capture_count(c, "sampler.fallbacks", st.fallbacks);
	if (rc == 0)
		rc = tg_capture_count(c, "sampler.overruns", st.overruns);
	if (rc == 0 && s->o.compare_unwinders)
		rc = tg_capture_count(c, "sampler.unwind_compared", st.unwind_compared);
	if (rc == 0 && s->o.compare_unwinders)
		rc = tg_capture_count(c, "sampler.unwind_agreed", st.unwind_agreed);
	const long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	if (rc == 0)
		rc = tg_capture_count(c, "sampler.cpus", cpus > 0 ? (uint64_t)cpus : 0);
	TG_FAIL_IF(rc < 0, err, TG_E_NOMEM, "sampler: out of memory");
	return 0;
}

int tg_sampler_walk_frames(struct tg_sampler *s, const struct tg_sampler_regs *regs,
			   uintptr_t stack_lo, uintptr_t stack_hi, uint64_t *pcs, int max,
			   uint32_t *flags)
{
	pthread_mutex_lock(&s->mu);
	refresh_map(s);
	pthread_mutex_unlock(&s->mu);
	const struct code_map *m = atomic_load(&s->map);
	struct thread_rec r;
	memset(&r, 0, sizeof(r));
	r.s = s;
	r.stack_lo = stack_lo;
	r.stack_hi = stack_hi;
	*flags = 0;
	if (max > TG_SAMPLE_MAX_DEPTH)
		max = TG_SAMPLE_MAX_DEPTH;
	return m ? unwind_hybrid(regs, &r, m, pcs, max, flags) : unwind_fp(regs, &r, pcs, max, flags);
}

__attribute__((noinline)) int tg_sampler_backtrace(uint64_t *pcs, int max)
{
	if (max <= 0)
		return 0;
#if TG_HAVE_LIBUNWIND
	void *buf[TG_SAMPLE_MAX_DEPTH + 1];
	int want = max + 1 > TG_SAMPLE_MAX_DEPTH + 1 ? TG_SAMPLE_MAX_DEPTH + 1 : max + 1;
	int n = unw_backtrace(buf, want);
	int out = 0;
	for (int i = 1; i < n; i++) /* frame 0 is this function */
		pcs[out++] = (uint64_t)(uintptr_t)buf[i];
	return out;
#else
	/* the frame-pointer chain, bounded by the thread's stack */
	struct thread_rec r;
	memset(&r, 0, sizeof(r));
	thread_stack(&r.stack_lo, &r.stack_hi);
	const uintptr_t fp = (uintptr_t)__builtin_frame_address(0);
	uint32_t flags = 0;
	return walk_chain(fp, fp, &r, NULL, pcs, 0, max, &flags, NULL);
#endif
}
