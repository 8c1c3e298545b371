/* The CUDA kernels' source (kernels/cuda/cuda_kernels.cu), run on the CPU
 * by the emulator of tests/emul inside the backend's own source (plan,
 * chunk set-up, launchers): the lanes kernels (warp shuffles), the walk
 * kernels, the bar-parallel approximate WMA and Hull, the finalize
 * (shared-memory tile, __syncthreads), with their grids and every index,
 * checked bit for bit against the C engine on machines without a GPU; the
 * TG_CUDA_WALK rules too. Then the
 * backend on a small emulated device: automatic chunks, page-locked
 * buffers, device memory given back, the error when one symbol does not
 * fit. (test_backend_cuda_emul and test_atc_golden_cuda_emul run the
 * backend contract and the golden cases on it.) */
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <vector>

#include "cuda_runtime.h" /* the emulator's */
#include "tg_test.h"

extern "C" const struct tg_backend_ops tg_backend_cuda_emul;

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static void test_kernels_match_engine(void **state)
{
	(void)state;
	const int32_t S = 7, stride = 240;
	/* three symbols per warp in the lanes kernels: the third warp is partial */
	const int32_t bars[S] = {240, 120, 0, 239, 64, 200, 33};
	std::vector<double> close((size_t)S * stride);
	for (int32_t s = 0; s < S; s++) {
		double *x = tg_test_walk(&rng_state, stride, s == 0 || s == 3, s == 5);
		memcpy(close.data() + (size_t)s * stride, x, (size_t)stride * sizeof(double));
		free(x);
	}
	close[(size_t)3 * stride + 4] = NAN; /* a gap in the warm-up */
	const struct tg_batch b = {close.data(), bars, S, stride};
	const struct {
		const char *walk, *kernels;
		int mode, lsma_point, cutout, strategy;
		double lambda;
	} cases[] = {
		{"", "lanes", TG_MA_EXACT, TG_LSMA_LAST, 0, 0, 0.02},
		{"all", "walk", TG_MA_EXACT, TG_LSMA_PENULTIMATE, 40, 1, 0.5},
		{"ema,hma,kama", "walk: EMA,HMA,KAMA; lanes: the others", TG_MA_EXACT, TG_LSMA_LAST, 0,
		 1, 0.02},
		{"", "walk", TG_MA_APPROX, TG_LSMA_LAST, 0, 0, 0.02},
		{"none", "walk", TG_MA_APPROX, TG_LSMA_LAST, 40, 1, 0.5},
	};
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		struct tg_atc_params p;
		tg_atc_params_default(&p);
		p.ma_mode = cases[k].mode;
		p.lsma_point = cases[k].lsma_point;
		p.cutout = cases[k].cutout;
		p.strategy_mode = cases[k].strategy;
		p.lambda = cases[k].lambda;
		setenv("TG_CUDA_WALK", cases[k].walk, 1);

		struct tg_test_outputs want, got;
		tg_test_outputs_alloc(&want, S, stride);
		tg_test_outputs_alloc(&got, S, stride);
		tg_test_run(&tg_backend_cpu, &p, &b, &want.o);
		const unsigned long before = tg_emul_launches;
		const struct tg_backend_timing t = tg_test_run(&tg_backend_cuda_emul, &p, &b, &got.o);
		assert_string_equal(t.kernels, cases[k].kernels);
		assert_int_equal(t.chunks, 1);
		/* six families and the finalize, plus three bar-parallel passes in approx mode */
		assert_int_equal(tg_emul_launches - before, p.ma_mode == TG_MA_APPROX ? 10 : 7);
		char what[96];
		snprintf(what, sizeof(what), "%s kernels (%s)", tg_ma_mode_name(p.ma_mode), t.kernels);
		tg_test_outputs_expect_same(what, &got, &want);
		tg_test_outputs_free(&want);
		tg_test_outputs_free(&got);
	}
	unsetenv("TG_CUDA_WALK");
}

/* The backend on a small emulated device: it cuts the batch into chunks by
 * itself, answers as the C engine does, reports page-locked buffers, and
 * gives all device memory back on close; on a device too small for one
 * symbol it fails with the sizes. */
static void test_backend_memory(void **state)
{
	(void)state;
	const struct tg_backend_ops *ops = &tg_backend_cuda_emul;
	const int32_t S = 10, stride = 500;
	struct tg_backend_config cfg = {1, 0, NULL};
	void *st;
	struct tg_error err;
	tg_error_clear(&err);
	assert_int_equal(ops->open(&cfg, &st, &err), 0);
	double *close = (double *)ops->host_alloc(st, (size_t)S * stride * sizeof(double));
	double *avg = (double *)ops->host_alloc(st, (size_t)S * stride * sizeof(double));
	assert_non_null(close);
	assert_non_null(avg);
	for (int32_t s = 0; s < S; s++) {
		double *x = tg_test_walk(&rng_state, stride, s == 4, 0);
		memcpy(close + (size_t)s * stride, x, (size_t)stride * sizeof(double));
		free(x);
	}
	const struct tg_batch b = {close, NULL, S, stride};
	struct tg_atc_params p;
	tg_atc_params_default(&p);
	std::vector<double> want((size_t)S * stride);
	struct tg_atc_outputs wo;
	memset(&wo, 0, sizeof(wo));
	wo.average = want.data();
	tg_test_run(&tg_backend_cpu, &p, &b, &wo);

	/* a symbol needs ~92 KB per pipeline here: a 1 MB device holds four */
	setenv("TG_EMUL_DEVICE_BYTES", "1000000", 1);
	struct tg_atc_outputs o;
	memset(&o, 0, sizeof(o));
	o.average = avg;
	struct tg_backend_timing t;
	assert_int_equal(ops->run(st, &p, &b, &o, &t, &err), 0);
	assert_memory_equal(avg, want.data(), want.size() * sizeof(double));
	assert_true(t.chunks >= 3);
	assert_int_equal(t.pinned, 1);
	assert_string_equal(t.kernels, "lanes");
	assert_true(t.kernel_bytes > 0 && t.h2d_bytes > 0 && t.d2h_bytes > 0);

	/* malloc'd buffers are not page-locked */
	std::vector<double> plain(want.size());
	o.average = plain.data();
	assert_int_equal(ops->run(st, &p, &b, &o, &t, &err), 0);
	assert_int_equal(t.pinned, 0);
	assert_memory_equal(plain.data(), want.data(), want.size() * sizeof(double));

	ops->host_free(st, close);
	ops->host_free(st, avg);
	ops->close(st);
	assert_int_equal(tg_emul_device_bytes_in_use(), 0);

	/* too small for one symbol */
	setenv("TG_EMUL_DEVICE_BYTES", "100000", 1);
	assert_int_equal(ops->open(&cfg, &st, &err), 0);
	std::vector<double> c2((size_t)S * stride, 100.0), a2((size_t)S * stride);
	const struct tg_batch b2 = {c2.data(), NULL, S, stride};
	o.average = a2.data();
	tg_error_clear(&err);
	assert_int_equal(ops->run(st, &p, &b2, &o, &t, &err), TG_E_NOMEM);
	assert_non_null(strstr(err.msg, "one symbol of 500 bars needs"));
	assert_non_null(strstr(err.msg, "of device memory per pipeline"));
	ops->close(st);
	assert_int_equal(tg_emul_device_bytes_in_use(), 0);
	unsetenv("TG_EMUL_DEVICE_BYTES");
}

/* The emulator's own rules: shuffles read the named lane, xor butterflies
 * reduce across the warp, __syncthreads orders a block's shared writes, and
 * a shuffle some lanes never reach aborts instead of passing. */
static void test_emulator_semantics(void **state)
{
	(void)state;
	static int from_left[64], warp_max[64], reversed[128];
	tg_emul_run(dim3(1), dim3(64), []() {
		const int lane = (int)threadIdx.x & 31;
		from_left[threadIdx.x] = __shfl_sync(~0u, (int)threadIdx.x, (lane + 31) % 32);
		int m = (int)(threadIdx.x * 7 % 64);
		for (int off = 16; off > 0; off >>= 1)
			m = max(m, __shfl_xor_sync(~0u, m, off));
		warp_max[threadIdx.x] = m;
	});
	for (int t = 0; t < 64; t++) {
		assert_int_equal(from_left[t], (t / 32) * 32 + (t % 32 + 31) % 32);
		int want = 0;
		for (int u = t / 32 * 32; u < t / 32 * 32 + 32; u++)
			want = u * 7 % 64 > want ? u * 7 % 64 : want;
		assert_int_equal(warp_max[t], want);
	}
	tg_emul_run(dim3(2), dim3(64), []() {
		__shared__ int tile[64];
		tile[threadIdx.x] = (int)(blockIdx.x * 64 + threadIdx.x);
		__syncthreads();
		reversed[blockIdx.x * 64 + threadIdx.x] = tile[63 - threadIdx.x];
	});
	for (int t = 0; t < 128; t++)
		assert_int_equal(reversed[t], t / 64 * 64 + 63 - t % 64);

	fflush(NULL);
	const pid_t child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		if (!freopen("/dev/null", "w", stderr))
			_exit(2);
		tg_emul_run(dim3(1), dim3(32), []() {
			if (threadIdx.x == 5)
				return;
			(void)__shfl_sync(~0u, 1.0, 0);
		});
		_exit(0);
	}
	int status = 0;
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
}

/* A bad TG_CUDA_WALK fails the run with a message naming it. */
static void test_run_rejects_bad_walk(void **state)
{
	(void)state;
	const struct tg_backend_ops *ops = &tg_backend_cuda_emul;
	struct tg_atc_params p;
	tg_atc_params_default(&p);
	double close[100], avg[100];
	for (int i = 0; i < 100; i++)
		close[i] = 100.0 + i % 7;
	const struct tg_batch b = {close, NULL, 1, 100};
	struct tg_atc_outputs o;
	memset(&o, 0, sizeof(o));
	o.average = avg;
	struct tg_backend_config cfg = {1, 0, NULL};
	void *st;
	struct tg_error err;
	struct tg_backend_timing t;
	assert_int_equal(ops->open(&cfg, &st, &err), 0);
	tg_error_clear(&err);
	setenv("TG_CUDA_WALK", "ema,sma", 1);
	assert_int_equal(ops->run(st, &p, &b, &o, &t, &err), TG_E_INVAL);
	assert_non_null(strstr(err.msg, "TG_CUDA_WALK 'ema,sma': 'sma' is not a family"));
	unsetenv("TG_CUDA_WALK");
	ops->close(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kernels_match_engine),
		cmocka_unit_test(test_emulator_semantics),
		cmocka_unit_test(test_backend_memory),
		cmocka_unit_test(test_run_rejects_bad_walk),
	};
	return cmocka_run_group_tests_name("cuda_emul", tests, NULL, NULL);
}
