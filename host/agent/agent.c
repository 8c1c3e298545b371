/* The recording agent, libtgrecord.so: `trendgpu-bench record -- CMD`
 * preloads it into CMD (LD_PRELOAD), names it as the NVTX tool
 * (NVTX_INJECTION64_PATH) and as the CUDA injection
 * (CUDA_INJECTION64_PATH). Inside the program it
 *   - records NVTX ranges of every module (our injection handlers),
 *   - samples the host stacks of the main thread and of every thread the
 *     program creates (pthread_create is wrapped; threads of the CUDA
 *     driver and CUPTI are left alone),
 *   - starts the CUPTI collector when the driver initialises CUDA
 *     (InitializeInjection), with launch stacks,
 * and at exit writes capture-<pid>.bin, maps-<pid> and maps-<pid>.buildid
 * into $TG_RECORD_DIR, which the record command renders. Without
 * TG_RECORD_DIR the agent stays inert.
 *
 * Settings (set by the record command): TG_RECORD_MODE cpu|gpu|both,
 * TG_RECORD_HZ, TG_RECORD_UNWIND auto|hybrid|fp|libunwind, TG_RECORD_CLOCK
 * wall|cpu, TG_RECORD_DRIVER_API 1.
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tg_capture.h"
#include "tg_clock.h"
#include "tg_cupti.h"
#include "tg_sampler.h"

/* exported (see agent.map) */
int InitializeInjection(void);
int pthread_create(pthread_t *thread, const pthread_attr_t *attr, void *(*fn)(void *), void *arg);

static struct {
	int active;
	int sample, gpu;
	char dir[1024];
	uint64_t start_ns;
	struct tg_sampler *sampler;
	struct tg_cupti *cupti;
	char gpu_status[256];
	pthread_key_t thread_key;
	atomic_int internal; /* > 0 while the agent creates its own threads */
	int (*real_create)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);
} A;

static void note(const char *fmt, const char *arg)
{
	fprintf(stderr, "trendgpu-bench record: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
}

static int env_int(const char *name, int def)
{
	const char *v = getenv(name);
	return v && *v ? atoi(v) : def;
}

/* ---- threads ------------------------------------------------------------- */

static void thread_gone(void *unused)
{
	(void)unused;
	if (A.sampler)
		tg_sampler_unregister_thread(A.sampler);
}

struct start {
	void *(*fn)(void *);
	void *arg;
};

static void *tg_record_thread_start(void *p)
{
	struct start s = *(struct start *)p;
	free(p);
	struct tg_error err;
	if (A.sampler && tg_sampler_register_thread(A.sampler, 0, &err) == 0)
		pthread_setspecific(A.thread_key, (void *)1); /* unregistered at thread exit */
	return s.fn(s.arg);
}

/* Threads of the CUDA driver, CUPTI and the agent are not the program's. */
static int foreign_caller(const void *ret)
{
	Dl_info di;
	if (!dladdr(ret, &di) || !di.dli_fname)
		return 0;
	const char *base = strrchr(di.dli_fname, '/');
	base = base ? base + 1 : di.dli_fname;
	return strncmp(base, "libcuda", 7) == 0 || strncmp(base, "libcupti", 8) == 0 ||
	       strncmp(base, "libnvidia", 9) == 0 || strncmp(base, "libtgrecord", 11) == 0;
}

int pthread_create(pthread_t *thread, const pthread_attr_t *attr, void *(*fn)(void *), void *arg)
{
	if (!A.real_create)
		A.real_create = (int (*)(pthread_t *, const pthread_attr_t *, void *(*)(void *),
					 void *))dlsym(RTLD_NEXT, "pthread_create");
	if (!A.real_create)
		return 11; /* EAGAIN: cannot happen with a working libc */
	if (!A.active || !A.sampler || atomic_load(&A.internal) ||
	    foreign_caller(__builtin_return_address(0)))
		return A.real_create(thread, attr, fn, arg);
	struct start *s = malloc(sizeof(*s));
	if (!s)
		return A.real_create(thread, attr, fn, arg);
	s->fn = fn;
	s->arg = arg;
	int rc = A.real_create(thread, attr, tg_record_thread_start, s);
	if (rc != 0)
		free(s);
	return rc;
}

/* ---- CUDA: the driver calls this while initialising ---------------------- */

static void flush_gpu(void)
{
	/* before the CUDA runtime tears its contexts down */
	if (A.cupti) {
		struct tg_error err;
		if (tg_cupti_stop(A.cupti, &err) < 0)
			note("%s", err.msg);
	}
}

static int32_t no_tag(void)
{
	return 0;
}

int InitializeInjection(void)
{
	if (!A.active || !A.gpu || A.cupti)
		return 1;
	struct tg_cupti_opts co = {.driver_api = env_int("TG_RECORD_DRIVER_API", 0) != 0,
				   .backtrace = tg_sampler_backtrace,
				   .current_tag = no_tag};
	struct tg_error err;
	atomic_fetch_add(&A.internal, 1);
	int rc = tg_cupti_new(&co, &A.cupti, &err);
	if (rc == 0)
		rc = tg_cupti_start(A.cupti, &err);
	atomic_fetch_sub(&A.internal, 1);
	if (rc < 0) {
		tg_cupti_free(A.cupti);
		A.cupti = NULL;
		snprintf(A.gpu_status, sizeof(A.gpu_status), "not traced: %s", err.msg);
		note("GPU activity %s", A.gpu_status);
		return 1;
	}
	struct tg_cupti_stats st;
	tg_cupti_get_stats(A.cupti, &st);
	snprintf(A.gpu_status, sizeof(A.gpu_status), "traced with CUPTI %u (%s; %s clock)",
		 st.version, st.kinds, st.clock);
	atexit(flush_gpu);
	return 1;
}

/* ---- start and finish ---------------------------------------------------- */

static int finish(struct tg_error *err)
{
	const uint64_t end_ns = tg_clock_ns();
	tg_nvtx_capture_stop();
	flush_gpu();
	if (A.sampler) {
		tg_sampler_unregister_thread(A.sampler);
		TG_TRY(tg_sampler_stop(A.sampler, err));
	}
	struct tg_capture *c = tg_capture_new();
	TG_FAIL_IF(!c, err, TG_E_NOMEM, "record: out of memory");
	c->pid = (uint32_t)getpid();
	c->start_ns = A.start_ns;
	c->end_ns = end_ns;
	int rc = tg_capture_set_tag(c, 0, "program");
	if (rc == 0)
		rc = tg_capture_set_meta(c, "gpu", A.gpu_status);
	if (rc == 0)
		rc = tg_capture_set_meta(c, "process", program_invocation_name);
	if (rc == 0)
		rc = tg_capture_set_meta(c, "profile.mode", getenv("TG_RECORD_MODE"));
	if (rc < 0)
		rc = TG_ERR(err, TG_E_NOMEM, "record: out of memory");
	if (rc == 0)
		rc = tg_nvtx_capture_export(c, end_ns, err);
	if (rc == 0 && A.cupti)
		rc = tg_cupti_export(A.cupti, c, err);
	if (rc == 0 && A.sampler)
		rc = tg_sampler_export(A.sampler, c, err);
	char suffix[32];
	snprintf(suffix, sizeof(suffix), "-%u", c->pid);
	if (rc == 0)
		rc = tg_sampler_write_raw(A.dir, suffix, c, NULL, err);
	tg_capture_free(c);
	return rc;
}

static void at_exit(void)
{
	if (!A.active)
		return;
	A.active = 0;
	struct tg_error err;
	tg_error_clear(&err);
	if (finish(&err) < 0)
		note("%s", err.msg);
	tg_sampler_free(A.sampler);
	A.sampler = NULL;
}

__attribute__((constructor)) static void agent_start(void)
{
	const char *dir = getenv("TG_RECORD_DIR");
	if (!dir || !*dir)
		return;
	snprintf(A.dir, sizeof(A.dir), "%s", dir);
	const char *mode = getenv("TG_RECORD_MODE");
	mode = mode && *mode ? mode : "both";
	A.sample = strcmp(mode, "gpu") != 0;
	A.gpu = strcmp(mode, "cpu") != 0;
	snprintf(A.gpu_status, sizeof(A.gpu_status), "%s",
		 A.gpu ? "not traced: the program did not initialise CUDA" : "not traced (--profile cpu)");
	A.start_ns = tg_clock_ns();
	pthread_key_create(&A.thread_key, thread_gone);
	tg_nvtx_capture_start();
	if (A.sample) {
		const char *unwind = getenv("TG_RECORD_UNWIND");
		const char *clock = getenv("TG_RECORD_CLOCK");
		struct tg_sampler_opts so = {
			.hz = env_int("TG_RECORD_HZ", 997),
			.clock = clock && strcmp(clock, "cpu") == 0 ? TG_SAMPLE_CPU : TG_SAMPLE_WALL,
			.unwind = !unwind || strcmp(unwind, "auto") == 0 ||
					  strcmp(unwind, "hybrid") == 0
					  ? TG_UNWIND_AUTO
				  : strcmp(unwind, "fp") == 0 ? TG_UNWIND_FP
							      : TG_UNWIND_LIBUNWIND,
		};
		struct tg_error err;
		atomic_fetch_add(&A.internal, 1);
		int rc = tg_sampler_new(&so, &A.sampler, &err);
		if (rc == 0)
			rc = tg_sampler_start(A.sampler, &err);
		if (rc == 0)
			rc = tg_sampler_register_thread(A.sampler, 0, &err);
		atomic_fetch_sub(&A.internal, 1);
		if (rc < 0) {
			note("host stacks not sampled: %s", err.msg);
			tg_sampler_free(A.sampler);
			A.sampler = NULL;
		}
	}
	A.active = 1;
	atexit(at_exit);
}
