/* The sampler's seam between architectures (private to host/sampler):
 * the registers of an interrupted context, what a return address looks
 * like (it follows a call instruction), where a call goes (through a PLT
 * stub), a wrapper's tail jump, a thread blocked in a system call, and
 * where a frameless leaf keeps its return address. x86-64 and aarch64 walk
 * frame pointers (the frame record is [saved frame pointer, return
 * address] on both); elsewhere TG_ARCH_FP is 0 and only libunwind unwinds.
 *
 * The decoders read code bytes only where `in_code` says the bytes lie in
 * a loaded object's executable segment, and GOT slots through `read_slot`:
 * sampler.c includes this header after its code map, which they use. */
#ifndef TG_SAMPLER_ARCH_H
#define TG_SAMPLER_ARCH_H

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <ucontext.h>

#include "tg_sampler.h"

#if defined(__x86_64__)

#define TG_ARCH_FP 1
#define TG_ARCH_NAME "x86-64"
/* what the hybrid checks: direct calls, PLT stubs, GOT slots (-fno-plt) */
#define TG_ARCH_HYBRID_NOTE "hybrid = checked frame pointers (direct calls, PLT stubs, GOT slots)"

static inline void arch_regs(const ucontext_t *uc, struct tg_sampler_regs *r)
{
	r->ip = (uint64_t)uc->uc_mcontext.gregs[REG_RIP];
	r->sp = (uint64_t)uc->uc_mcontext.gregs[REG_RSP];
	r->fp = (uint64_t)uc->uc_mcontext.gregs[REG_RBP];
	r->lr = 0;
}

static inline uintptr_t arch_return_address(uintptr_t w)
{
	return w;
}

/* Whether the tick interrupted a thread waiting in a system call: the
 * kernel rewound the instruction pointer onto `syscall` to restart it, or
 * the call returns -EINTR just after it. The code page holding ip is
 * mapped; never read across its ends. */
static inline int arch_blocked_syscall(const ucontext_t *uc)
{
	const uintptr_t ip = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
	const long long ax = (long long)uc->uc_mcontext.gregs[REG_RAX];
	const uintptr_t in_page = ip & 0xfff;
	const uint8_t *b = (const uint8_t *)ip;
	if (in_page <= 0xffe && b[0] == 0x0f && b[1] == 0x05)
		return 1;
	if (in_page >= 2 && b[-2] == 0x0f && b[-1] == 0x05 && ax == -EINTR)
		return 1;
	return 0;
}

/* Where a PLT stub at t jumps (its GOT slot), else t. */
static uintptr_t arch_through_plt(const struct code_map *m, uintptr_t t)
{
	const struct seg *g = in_code(m, t, 11);
	if (!g)
		return t;
	const uint8_t *b = (const uint8_t *)t;
	if (b[0] == 0xf3 && b[1] == 0x0f && b[2] == 0x1e && b[3] == 0xfa)
		b += 4; /* endbr64 (.plt.sec) */
	if (b[0] == 0xf2)
		b++; /* bnd */
	if (b[0] != 0xff || b[1] != 0x25)
		return t;
	int32_t disp;
	memcpy(&disp, b + 2, 4);
	uintptr_t dest;
	if (!read_slot(m, (uintptr_t)(b + 6) + (uintptr_t)(intptr_t)disp, g->object, &dest))
		return t;
	return dest;
}

/* The function a call ending at w called: call rel32 (through a PLT stub
 * when it is one) or call *disp32(%rip) (-fno-plt). 0 when w does not
 * follow such a call. */
static uintptr_t arch_call_target(const struct code_map *m, uintptr_t w)
{
	const struct seg *g = in_code(m, w - 6, 6);
	if (!g)
		return 0;
	const uint8_t *b = (const uint8_t *)w;
	if (b[-5] == 0xe8) {
		int32_t rel;
		memcpy(&rel, b - 4, 4);
		return arch_through_plt(m, w + (uintptr_t)(intptr_t)rel);
	}
	if (b[-6] == 0xff && b[-5] == 0x15) {
		int32_t disp;
		memcpy(&disp, b - 4, 4);
		uintptr_t target;
		return read_slot(m, w + (uintptr_t)(intptr_t)disp, g->object, &target) ? target : 0;
	}
	return 0;
}

/* Whether the code at t jumps to fn within its first 64 bytes (jmp rel32
 * or rel8): a wrapper that tail-calls fn, like glibc's
 * __futex_abstimed_wait_cancelable64 into __futex_abstimed_wait_common.
 * Only an exact destination counts. */
static int arch_tail_jumps_to(const struct code_map *m, uintptr_t t, uintptr_t fn)
{
	const struct seg *g = in_code(m, t, 1);
	if (!g)
		return 0;
	const uintptr_t end = t + 64 < g->hi ? t + 64 : g->hi;
	for (uintptr_t at = t; at + 2 <= end; at++) {
		const uint8_t *b = (const uint8_t *)at;
		if (b[0] == 0xeb && at + 2 + (uintptr_t)(intptr_t)(int8_t)b[1] == fn)
			return 1;
		if (b[0] == 0xe9 && at + 5 <= end) {
			int32_t rel;
			memcpy(&rel, b + 1, 4);
			const uintptr_t dest = at + 5 + (uintptr_t)(intptr_t)rel;
			/* directly, or to a PLT stub of fn (Rust's log1pf64 -> log1p) */
			if (dest == fn || arch_through_plt(m, dest) == fn)
				return 1;
		}
		/* jmp *disp32(%rip): through a GOT slot */
		if (b[0] == 0xff && b[1] == 0x25 && at + 6 <= end) {
			int32_t disp;
			memcpy(&disp, b + 2, 4);
			uintptr_t dest;
			if (read_slot(m, at + 6 + (uintptr_t)(intptr_t)disp, g->object, &dest) && dest == fn)
				return 1;
		}
	}
	return 0;
}

/* Whether a call instruction ends at w: call rel32, or an indirect call
 * (ff /2) of 2 to 7 bytes, with or without a REX prefix. */
static int arch_after_call(const struct code_map *m, uintptr_t w)
{
	if (!in_code(m, w - 7, 7))
		return 0;
	const uint8_t *b = (const uint8_t *)w;
	if (b[-5] == 0xe8)
		return 1;
	for (int len = 2; len <= 7; len++) {
		const uint8_t op = b[-len], modrm = b[1 - len];
		if (op == 0xff && (modrm & 0x38) == 0x10)
			return 1;
	}
	return 0;
}

/* Where an interrupted function that has no frame (yet, or any more) keeps
 * its return address: a call pushed it at the stack pointer, and `push
 * %rbp` (a prologue) put one word above it. Up to cap candidates, each with
 * the stack address just above it (where a scan resumes). */
TG_RAW_READ static inline int arch_leaf_returns(const struct tg_sampler_regs *r,
						uintptr_t *ret, uintptr_t *above, int cap)
{
	int n = 0;
	for (int k = 0; k < 2 && n < cap; k++, n++) {
		ret[n] = ((const uintptr_t *)(uintptr_t)r->sp)[k];
		above[n] = (uintptr_t)r->sp + 8 * (uintptr_t)(k + 1);
	}
	return n;
}

#elif defined(__aarch64__)

#define TG_ARCH_FP 1
#define TG_ARCH_NAME "aarch64"
#define TG_ARCH_HYBRID_NOTE                                                                  \
	"hybrid = checked frame pointers (BL/BLR, PLT stubs; a leaf's caller from the link "  \
	"register; a call through a GOT slot, -fno-plt, is not matched to its callee)"

static inline void arch_regs(const ucontext_t *uc, struct tg_sampler_regs *r)
{
	r->ip = (uint64_t)uc->uc_mcontext.pc;
	r->sp = (uint64_t)uc->uc_mcontext.sp;
	r->fp = (uint64_t)uc->uc_mcontext.regs[29];
	r->lr = (uint64_t)uc->uc_mcontext.regs[30];
}

/* Return addresses without a pointer-authentication code or tag: user
 * addresses have at most 48 bits here. */
static inline uintptr_t arch_return_address(uintptr_t w)
{
	return w & (((uintptr_t)1 << 48) - 1);
}

static inline uint32_t insn_at(uintptr_t a)
{
	uint32_t i;
	memcpy(&i, (const void *)a, 4);
	return i;
}

static inline intptr_t sext(uint64_t v, int bits)
{
	const uint64_t m = (uint64_t)1 << (bits - 1);
	return (intptr_t)((v ^ m) - m);
}

#define A64_SVC0 0xd4000001u

/* A thread waiting in a system call: pc rewound onto `svc #0` to restart
 * it, or just after it with x0 = -EINTR. Instructions are aligned, so the
 * one before pc is in pc's page unless pc starts it. */
static inline int arch_blocked_syscall(const ucontext_t *uc)
{
	const uintptr_t pc = (uintptr_t)uc->uc_mcontext.pc;
	if (pc & 3)
		return 0;
	if (insn_at(pc) == A64_SVC0)
		return 1;
	return (pc & 0xfff) >= 4 && insn_at(pc - 4) == A64_SVC0 &&
	       (long long)uc->uc_mcontext.regs[0] == -EINTR;
}

/* A PLT stub at t (`bti c`?; adrp x16, page; ldr x17, [x16, #off]; add;
 * br x17): where its GOT slot points, else t. */
static uintptr_t arch_through_plt(const struct code_map *m, uintptr_t t)
{
	const struct seg *g = in_code(m, t, 12);
	if (!g)
		return t;
	uintptr_t at = t;
	if (insn_at(at) == 0xd503245fu && in_code(m, at + 4, 8)) /* bti c */
		at += 4;
	const uint32_t adrp = insn_at(at), ldr = insn_at(at + 4);
	if ((adrp & 0x9f00001fu) != 0x90000010u || (ldr & 0xffc003ffu) != 0xf9400211u)
		return t;
	const uint64_t imm = ((uint64_t)((adrp >> 5) & 0x7ffff) << 2) | ((adrp >> 29) & 3);
	const uintptr_t page = (at & ~(uintptr_t)0xfff) + (uintptr_t)(sext(imm, 21) * 4096);
	uintptr_t dest;
	if (!read_slot(m, page + ((ldr >> 10) & 0xfff) * 8, g->object, &dest))
		return t;
	return dest;
}

/* The function a BL ending at w called (through a PLT stub when it is
 * one); 0 when w does not follow a BL. */
static uintptr_t arch_call_target(const struct code_map *m, uintptr_t w)
{
	if ((w & 3) || !in_code(m, w - 4, 4))
		return 0;
	const uint32_t i = insn_at(w - 4);
	if ((i & 0xfc000000u) != 0x94000000u)
		return 0;
	return arch_through_plt(m, w - 4 + (uintptr_t)(sext(i & 0x03ffffffu, 26) * 4));
}

/* Whether the code at t branches (B) to fn within its first 16
 * instructions: a wrapper that tail-calls fn. */
static int arch_tail_jumps_to(const struct code_map *m, uintptr_t t, uintptr_t fn)
{
	const struct seg *g = in_code(m, t, 4);
	if (!g || (t & 3))
		return 0;
	const uintptr_t end = t + 64 < g->hi ? t + 64 : g->hi;
	for (uintptr_t at = t; at + 4 <= end; at += 4) {
		const uint32_t i = insn_at(at);
		if ((i & 0xfc000000u) == 0x14000000u &&
		    at + (uintptr_t)(sext(i & 0x03ffffffu, 26) * 4) == fn)
			return 1;
	}
	return 0;
}

/* Whether a call ends at w: BL, BLR, or BLRAA/BLRAB(Z) with pointer
 * authentication. */
static int arch_after_call(const struct code_map *m, uintptr_t w)
{
	if ((w & 3) || !in_code(m, w - 4, 4))
		return 0;
	const uint32_t i = insn_at(w - 4);
	return (i & 0xfc000000u) == 0x94000000u || (i & 0xfffffc1fu) == 0xd63f0000u ||
	       (i & 0xfefff800u) == 0xd63f0800u;
}

/* A function without a frame record of its own (a leaf, a prologue) still
 * has its return address in the link register. */
static inline int arch_leaf_returns(const struct tg_sampler_regs *r, uintptr_t *ret,
				    uintptr_t *above, int cap)
{
	if (cap < 1)
		return 0;
	ret[0] = arch_return_address((uintptr_t)r->lr);
	above[0] = (uintptr_t)r->sp;
	return 1;
}

#else

/* No frame-pointer walk: libunwind unwinds, waiting threads are not told
 * apart from running ones. */
#define TG_ARCH_FP 0
#define TG_ARCH_NAME "this architecture"
#define TG_ARCH_HYBRID_NOTE "no frame-pointer walk: the hybrid is libunwind alone"

static inline void arch_regs(const ucontext_t *uc, struct tg_sampler_regs *r)
{
	(void)uc;
	memset(r, 0, sizeof(*r));
}

static inline uintptr_t arch_return_address(uintptr_t w)
{
	return w;
}

static inline int arch_blocked_syscall(const ucontext_t *uc)
{
	(void)uc;
	return 0;
}

static uintptr_t arch_call_target(const struct code_map *m, uintptr_t w)
{
	(void)m;
	(void)w;
	return 0;
}

static int arch_tail_jumps_to(const struct code_map *m, uintptr_t t, uintptr_t fn)
{
	(void)m;
	(void)t;
	(void)fn;
	return 0;
}

static int arch_after_call(const struct code_map *m, uintptr_t w)
{
	(void)m;
	(void)w;
	return 0;
}

static inline int arch_leaf_returns(const struct tg_sampler_regs *r, uintptr_t *ret,
				    uintptr_t *above, int cap)
{
	(void)r;
	(void)ret;
	(void)above;
	(void)cap;
	return 0;
}

#endif

#endif
