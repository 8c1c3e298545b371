/* The scheduler behind tests/emul/cuda_runtime.h: a block's threads are
 * coroutines (ucontext) on the calling thread, run round-robin; a warp
 * shuffle or __syncthreads suspends a thread until every thread it waits
 * for has arrived, as on the GPU. Blocks run one after another. A sync
 * point that can never complete (a lane exited, or lanes wait at different
 * points) aborts with a message: on a GPU that is undefined behaviour.
 *
 * A coroutine starts with setcontext; later switches use _setjmp and
 * _longjmp, which skip swapcontext's signal-mask system call (a test's few
 * million switches took 3.5 s of system time); under AddressSanitizer
 * (whose longjmp interceptor makes a sigaltstack system call each time)
 * or with TG_EMUL_SWAP_ALWAYS every switch is a swapcontext. Stacks are
 * 48 KiB above a guard page, so an overflow faults instead of corrupting a
 * neighbour. */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include <memory>
#include <vector>

#include "cuda_runtime.h"

dim3 threadIdx, blockIdx, blockDim, gridDim;
unsigned long tg_emul_launches;

namespace {

constexpr size_t STACK_BYTES = 48 * 1024;

#if defined(TG_EMUL_SWAP_ALWAYS) || defined(__SANITIZE_ADDRESS__)
constexpr bool SWAP_ALWAYS = true;
#else
constexpr bool SWAP_ALWAYS = false;
#endif

struct coroutine {
	ucontext_t ctx;
	jmp_buf jb{};
	bool started = false, done = false;
	dim3 tid;
	char *map = nullptr; /* guard page, then the stack */
	size_t map_bytes = 0;

	coroutine()
	{
		const size_t page = (size_t)sysconf(_SC_PAGESIZE);
		map_bytes = page + STACK_BYTES;
		void *m = mmap(NULL, map_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
			       0);
		if (m == MAP_FAILED || mprotect(m, page, PROT_NONE) != 0) {
			perror("cuda emulator: a thread's stack");
			abort();
		}
		map = (char *)m;
	}
	~coroutine() { munmap(map, map_bytes); }
	coroutine(const coroutine &) = delete;
	coroutine &operator=(const coroutine &) = delete;
};

struct barrier {
	unsigned arrived = 0, generation = 0;
	uint64_t slot[32] = {}, published[32] = {};
};

struct block_state {
	std::vector<std::unique_ptr<coroutine>> threads; /* n of them in use */
	unsigned n = 0;
	std::vector<barrier> warps;
	barrier block;
	ucontext_t scheduler;
	jmp_buf scheduler_jb;
	int current = -1;
	const std::function<void()> *body = nullptr;
	bool progress = false;
};

block_state B;

void thread_entry()
{
	(*B.body)();
	B.threads[(size_t)B.current]->done = true;
	B.progress = true;
	if (!SWAP_ALWAYS)
		_longjmp(B.scheduler_jb, 1);
	/* returns to uc_link: the scheduler */
}

void suspend()
{
	coroutine &t = *B.threads[(size_t)B.current];
	if (SWAP_ALWAYS)
		swapcontext(&t.ctx, &B.scheduler);
	else if (!_setjmp(t.jb))
		_longjmp(B.scheduler_jb, 1);
	/* resumed: resume() has set threadIdx */
}

/* Runs thread i until it suspends or ends. */
void resume(size_t i)
{
	coroutine &t = *B.threads[i];
	B.current = (int)i;
	threadIdx = t.tid;
	if (SWAP_ALWAYS) {
		swapcontext(&B.scheduler, &t.ctx);
		return;
	}
	if (_setjmp(B.scheduler_jb))
		return;
	if (!t.started) {
		t.started = true;
		setcontext(&t.ctx);
	}
	_longjmp(t.jb, 1);
}

/* Arrive at a barrier of `need` threads; the last one publishes. */
void arrive(barrier &b, unsigned need)
{
	const unsigned gen = b.generation;
	b.arrived++;
	B.progress = true; /* an arrival moves things on */
	if (b.arrived == need) {
		memcpy(b.published, b.slot, sizeof(b.slot));
		b.arrived = 0;
		b.generation++;
		return;
	}
	while (b.generation == gen)
		suspend();
}

unsigned warp_size(int warp)
{
	const unsigned n = B.n;
	const unsigned first = (unsigned)warp * 32;
	return n - first < 32 ? n - first : 32;
}

} // namespace

uint64_t tg_emul_shfl(uint64_t bits, int src, bool xor_lane)
{
	const int lane = B.current % 32, warp = B.current / 32;
	barrier &w = B.warps[(size_t)warp];
	w.slot[lane] = bits;
	arrive(w, warp_size(warp));
	const int from = (xor_lane ? lane ^ src : src) & 31;
	if ((unsigned)from >= warp_size(warp)) {
		fprintf(stderr, "cuda emulator: shuffle from lane %d, past the warp's %u lanes\n", from,
			warp_size(warp));
		abort();
	}
	return w.published[from];
}

void tg_emul_syncthreads()
{
	arrive(B.block, B.n);
}

void tg_emul_run(dim3 grid, dim3 block, const std::function<void()> &body)
{
	tg_emul_launches++;
	gridDim = grid;
	blockDim = block;
	const size_t n = (size_t)block.x * block.y * block.z;
	while (B.threads.size() < n)
		B.threads.push_back(std::make_unique<coroutine>());
	B.n = (unsigned)n;
	B.warps.assign((n + 31) / 32, barrier());
	B.body = &body;
	for (unsigned bz = 0; bz < grid.z; bz++)
		for (unsigned by = 0; by < grid.y; by++)
			for (unsigned bx = 0; bx < grid.x; bx++) {
				blockIdx = dim3(bx, by, bz);
				B.block = barrier();
				for (size_t i = 0; i < n; i++) {
					coroutine &t = *B.threads[i];
					getcontext(&t.ctx);
					t.ctx.uc_stack.ss_sp = t.map + (t.map_bytes - STACK_BYTES);
					t.ctx.uc_stack.ss_size = STACK_BYTES;
					t.ctx.uc_link = &B.scheduler;
					makecontext(&t.ctx, thread_entry, 0);
					t.tid = dim3((unsigned)(i % block.x), (unsigned)(i / block.x % block.y),
						     (unsigned)(i / ((size_t)block.x * block.y)));
					t.done = false;
					t.started = false;
				}
				size_t left = n;
				while (left > 0) {
					B.progress = false;
					for (size_t i = 0; i < n; i++) {
						coroutine &t = *B.threads[i];
						if (t.done)
							continue;
						resume(i);
						if (t.done)
							left--;
					}
					if (!B.progress && left > 0) {
						fprintf(stderr,
							"cuda emulator: block (%u,%u,%u) cannot go on: %zu "
							"threads wait at a warp shuffle or __syncthreads that "
							"the others never reach\n",
							bx, by, bz, left);
						abort();
					}
				}
			}
	B.current = -1;
}
