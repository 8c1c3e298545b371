/* The "rust" backend: the ops table over the Rust crate's C entry point. */
#include <stdlib.h>
#include <string.h>

#include "cpu_internal.h"
#include "tg_kernels.h"
#include "tg_machine.h"
#include "tg_nvtx.h"
#include "tg_phase.h"
#include <stdio.h>

struct tg_rust_pool;
int tg_rust_atc_run(const struct tg_atc_params *params, size_t params_size,
		    const struct tg_batch *batch, const struct tg_atc_outputs *out, int simd, int threads,
		    const struct tg_thread_hooks *hooks, const struct tg_rust_pool *pool, char *err,
		    size_t err_cap);
size_t tg_rust_params_size(void);
struct tg_rust_pool *tg_rust_pool_new(int threads, const struct tg_thread_hooks *hooks);
int tg_rust_pool_threads(const struct tg_rust_pool *pool);
void tg_rust_pool_free(struct tg_rust_pool *pool);
void tg_rust_set_phase_hook(void (*f)(uint32_t phase), void (*group)(uint32_t symbols));
int tg_rust_has_avx2(void);
int tg_rust_has_avx512(void);
size_t tg_rust_phase_ids(uint32_t *out, size_t n);

/* The crate's phases, in the Rust backend's colour. */
static void rust_phase(uint32_t phase)
{
	tg_phase_enter(phase, tg_nvtx_backend_color("rust"));
}

static void rust_group(uint32_t symbols)
{
	tg_phase_next_symbols(symbols);
}

/* The crate's worker pool lives as long as the backend: the same threads
 * run every repetition (the hooks register them with the profiler once). */
struct rust_state {
	enum tg_cpu_simd simd; /* the C engine's choice (TG_CPU_SIMD, the CPU) */
	int threads;
	struct tg_thread_hooks hooks;
	int has_hooks;
	struct tg_rust_pool *pool;
};

static int rust_probe(char *reason, size_t cap)
{
	/* the phase ids are written twice (tg_phase.h, phase.rs): compared here */
	const uint32_t want[] = {TG_PHASE_MAS,     TG_PHASE_SIGNALS, TG_PHASE_FUSED,
				 TG_PHASE_AVERAGE, TG_PHASE_RETURNS, TG_PHASE_APPROX};
	uint32_t got[8] = {0};
	const size_t n = tg_rust_phase_ids(got, 8);
	if (n != sizeof(want) / sizeof(want[0]) || memcmp(got, want, sizeof(want)) != 0) {
		snprintf(reason, cap, "Rust and C disagree on the phase ids (kernels/rust/src/phase.rs "
				      "against host/core/tg_phase.h)");
		return TG_E_UNSUPPORTED;
	}
	if (tg_rust_params_size() != sizeof(struct tg_atc_params)) {
		snprintf(reason, cap, "Rust and C disagree on struct tg_atc_params (%zu vs %zu bytes)",
			 tg_rust_params_size(), sizeof(struct tg_atc_params));
		return TG_E_UNSUPPORTED;
	}
	if (cap)
		reason[0] = '\0';
	return 0;
}

static int rust_open(const struct tg_backend_config *cfg, void **state, struct tg_error *err)
{
	struct rust_state *st = calloc(1, sizeof(*st));
	TG_FAIL_IF(!st, err, TG_E_NOMEM, "rust backend: out of memory");
	st->threads = cfg && cfg->threads > 0 ? cfg->threads : tg_machine_cpu_count();
	if (cfg && cfg->hooks) {
		st->hooks = *cfg->hooks;
		st->has_hooks = 1;
	}
	st->simd = tg_cpu_simd_choose(NULL);
	tg_rust_set_phase_hook(rust_phase, rust_group);
	st->pool = tg_rust_pool_new(st->threads, st->has_hooks ? &st->hooks : NULL);
	if (!st->pool) {
		free(st);
		return TG_ERR(err, TG_E_NOMEM, "rust backend: cannot start its %d worker threads",
			      cfg && cfg->threads > 0 ? cfg->threads : tg_machine_cpu_count());
	}
	*state = st;
	return 0;
}

static int rust_run(void *state, const struct tg_atc_params *params, const struct tg_batch *batch,
		    const struct tg_atc_outputs *out, struct tg_backend_timing *timing,
		    struct tg_error *err)
{
	struct rust_state *st = state;
	if (timing)
		memset(timing, 0, sizeof(*timing));
	char msg[TG_ERROR_MSG_MAX];
	msg[0] = '\0';
	tg_nvtx_push_ex(params->ma_mode == TG_MA_APPROX ? "rust: atc approx" : "rust: atc exact",
			TG_NVTX_BACKEND, tg_nvtx_backend_color("rust"), -1);
	int rc = tg_rust_atc_run(params, sizeof(*params), batch, out, (int)st->simd, st->threads,
				 st->has_hooks ? &st->hooks : NULL, st->pool, msg, sizeof(msg));
	tg_nvtx_pop();
	if (rc < 0)
		return TG_ERR(err, rc, "%s", msg[0] ? msg : "rust backend: failed");
	return 0;
}

static int rust_threads(void *state)
{
	const struct rust_state *st = state;
	const int n = tg_rust_pool_threads(st->pool);
	return n > 0 ? n : 1;
}

static void rust_close(void *state)
{
	struct rust_state *st = state;
	if (st)
		tg_rust_pool_free(st->pool);
	free(st);
}

/* The walk the crate runs (the C engine's choice, the same lanes); its
 * AVX2 walk checks the CPU itself and says so if it sees none, and a crate
 * built without the AVX-512 walk says it runs AVX2's. */
static const char *rust_isa(void)
{
	static _Thread_local char buf[256];
	const enum tg_cpu_simd simd = tg_cpu_simd_choose(NULL);
	tg_cpu_isa_describe(buf, sizeof(buf), simd, "scalar Rust, one symbol at a time");
	const size_t n = strlen(buf);
	if (simd == TG_CPU_AVX2 && !tg_rust_has_avx2())
		snprintf(buf + n, sizeof(buf) - n, "; Rust sees no AVX2: 4 lanes on the baseline unit");
	else if (simd == TG_CPU_AVX512 && !tg_rust_has_avx512())
		snprintf(buf + n, sizeof(buf) - n,
			 "; the Rust crate has no AVX-512 walk (built by a Rust before 1.89): "
			 "AVX2, 4 symbols per group");
	return buf;
}

const struct tg_backend_ops tg_backend_rust = {
	.name = "rust",
	.description = "Rust crate (kernels/rust), a persistent worker pool over symbols",
	.probe = rust_probe,
	.open = rust_open,
	.run = rust_run,
	.threads = rust_threads,
	.close = rust_close,
	.isa = rust_isa,
};
