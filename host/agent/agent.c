/* The recording agent, libtgrecord.so: `trendgpu-bench record -- CMD`
 * preloads it into CMD (LD_PRELOAD), names it as the NVTX tool
 * (NVTX_INJECTION64_PATH) and as the CUDA injection
 * (CUDA_INJECTION64_PATH). Inside the program a profiling session (host/run,
 * the same as `run --profile`'s)
 *   - records NVTX ranges of every module (our injection handlers),
 *   - samples the host stacks of the main thread and of every thread the
 *     program creates (pthread_create is wrapped; threads of the CUDA
 *     driver and CUPTI are left alone),
 *   - starts the CUPTI collector when the driver initialises CUDA
 *     (InitializeInjection), with launch stacks,
 * and at exit writes capture-<pid>.bin, maps-<pid>, maps-<pid>.buildid and
 * vdso-<pid>.so into $TG_RECORD_DIR, which the record command renders.
 * Without TG_RECORD_DIR the agent stays inert; so it does in every process
 * but TG_RECORD_PID (the one record started, followed through exec: the
 * processes a shim or shell forks write nothing).
 *
 * SIGINT, SIGTERM and SIGHUP would end the program without its exit
 * handlers, so without the capture: where the program leaves them at their
 * default action, the agent's handler wakes a thread of its own that writes
 * the capture, then gives the signal its default action again and sends it
 * once more, so the program still ends by that signal. A second signal
 * before that ends it at once. A program that installs its own handlers
 * replaces the agent's (its choice wins). The other settings come from the
 * environment record sets (tg_profile_opts_from_env); a bad one is refused
 * and the program runs unprofiled.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tg_run.h"

/* exported (see agent.map) */
int InitializeInjection(void);
int pthread_create(pthread_t *thread, const pthread_attr_t *attr, void *(*fn)(void *), void *arg);
typedef int (*tg_main_fn)(int, char **, char **);
int __libc_start_main(tg_main_fn main_fn, int argc, char **argv, void (*init)(void),
		      void (*fini)(void), void (*rtld_fini)(void), void *stack_end);

static struct {
	int active;
	char dir[1024];
	struct tg_session *session;
	pthread_key_t thread_key;
	atomic_int internal; /* > 0 while the agent creates its own threads */
	int (*real_create)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);
	/* stop signals: the pipe that wakes the finisher, the signal seen,
	 * which signals carry our handler */
	int stop_pipe[2];
	atomic_int stop_sig;
	int caught[3];
} A;

static const int stop_signals[3] = {SIGINT, SIGTERM, SIGHUP};

static void note(const char *fmt, const char *arg)
{
	fprintf(stderr, "trendgpu-bench record: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
}

/* ---- threads ------------------------------------------------------------- */

static void thread_gone(void *unused)
{
	(void)unused;
	tg_session_thread_exit(A.session);
}

struct start {
	void *(*fn)(void *);
	void *arg;
};

/* Registers the new thread, then runs the program's function. */
static void *tg_record_thread_start(void *p)
{
	struct start s = *(struct start *)p;
	free(p);
	struct tg_error err;
	if (A.session && tg_session_thread_enter(A.session, 0, &err) == 0)
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
		return EAGAIN; /* cannot happen with a working libc */
	if (!A.active || !tg_session_samples(A.session) || atomic_load(&A.internal) ||
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
	tg_session_flush_gpu(A.session);
}

int InitializeInjection(void)
{
	if (!A.active || !A.session)
		return 1;
	atomic_fetch_add(&A.internal, 1);
	int rc = tg_session_start_gpu(A.session);
	atomic_fetch_sub(&A.internal, 1);
	if (rc == 0)
		atexit(flush_gpu);
	return 1;
}

/* ---- the main thread ------------------------------------------------------ */

/* The constructor registered the main thread from the loader's start-up
 * code, so the sampler's frame-pointer walk could not find where main's
 * chain ends (glibc's start code keeps no frame pointer): every main-thread
 * sample went to libunwind. Wrapping main lets it see the stack again from
 * inside. */
static tg_main_fn real_main;

static int tg_record_main(int argc, char **argv, char **envp)
{
	if (A.active)
		tg_session_thread_rebase(A.session);
	return real_main(argc, argv, envp);
}

int __libc_start_main(tg_main_fn main_fn, int argc, char **argv, void (*init)(void),
		      void (*fini)(void), void (*rtld_fini)(void), void *stack_end)
{
	int (*next)(tg_main_fn, int, char **, void (*)(void), void (*)(void), void (*)(void),
		    void *) =
		(int (*)(tg_main_fn, int, char **, void (*)(void), void (*)(void), void (*)(void),
			 void *))dlsym(RTLD_NEXT, "__libc_start_main");
	if (!next)
		return main_fn(argc, argv, NULL); /* no libc below us: nothing to wrap */
	real_main = main_fn;
	return next(tg_record_main, argc, argv, init, fini, rtld_fini, stack_end);
}

/* ---- start and finish ---------------------------------------------------- */

static int finish(struct tg_error *err)
{
	struct tg_capture *c = NULL;
	TG_TRY(tg_session_end(A.session, &c, err));
	char suffix[32];
	snprintf(suffix, sizeof(suffix), "-%u", c->pid);
	int rc = tg_rundir_write_capture(A.dir, suffix, c, NULL, err);
	tg_capture_free(c);
	return rc;
}

/* ---- stop signals ---------------------------------------------------------- */

static void default_action(int sig)
{
	struct sigaction dfl;
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	sigaction(sig, &dfl, NULL);
}

/* async-signal-safe: a byte down the pipe, or, the second time, the end */
static void on_stop_signal(int sig)
{
	const int saved = errno;
	int none = 0;
	if (atomic_compare_exchange_strong(&A.stop_sig, &none, sig)) {
		const char c = (char)sig;
		if (write(A.stop_pipe[1], &c, 1) == 1) {
			errno = saved;
			return;
		}
	}
	default_action(sig);
	kill(getpid(), sig);
	errno = saved;
}

static int finish(struct tg_error *err);

/* The finisher: waits for a stop signal, writes the capture, lets the
 * signal end the program. */
static void *tg_record_finisher(void *unused)
{
	(void)unused;
	sigset_t block;
	sigemptyset(&block);
	for (int i = 0; i < 3; i++)
		sigaddset(&block, stop_signals[i]);
	pthread_sigmask(SIG_BLOCK, &block, NULL); /* the handler runs on the program's threads */
	char c = 0;
	ssize_t n;
	while ((n = read(A.stop_pipe[0], &c, 1)) < 0 && errno == EINTR)
		;
	if (n != 1)
		return NULL;
	const int sig = (unsigned char)c;
	if (A.active) {
		A.active = 0;
		struct tg_error err;
		tg_error_clear(&err);
		if (finish(&err) < 0)
			note("%s", err.msg);
	}
	default_action(sig);
	kill(getpid(), sig);
	return NULL;
}

/* A forked child has no finisher: its signals act as they would have;
 * it is not the recorded program (TG_RECORD_PID), so it writes nothing. */
static void forked_child(void)
{
	A.active = 0;
	for (int i = 0; i < 3; i++)
		if (A.caught[i])
			default_action(stop_signals[i]);
}

static void catch_stop_signals(void)
{
	if (pipe2(A.stop_pipe, O_CLOEXEC) != 0)
		return;
	pthread_t t;
	atomic_fetch_add(&A.internal, 1);
	int rc = pthread_create(&t, NULL, tg_record_finisher, NULL);
	atomic_fetch_sub(&A.internal, 1);
	if (rc != 0)
		return;
	pthread_detach(t);
	pthread_setname_np(t, "tg-record-stop");
	pthread_atfork(NULL, NULL, forked_child);
	for (int i = 0; i < 3; i++) {
		struct sigaction old;
		if (sigaction(stop_signals[i], NULL, &old) != 0 || old.sa_handler != SIG_DFL ||
		    (old.sa_flags & SA_SIGINFO))
			continue;
		struct sigaction sa;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_stop_signal;
		sigemptyset(&sa.sa_mask);
		A.caught[i] = sigaction(stop_signals[i], &sa, NULL) == 0;
	}
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
	tg_session_free(A.session);
	A.session = NULL;
}

__attribute__((constructor)) static void agent_start(void)
{
	const char *dir = getenv("TG_RECORD_DIR");
	if (!dir || !*dir)
		return;
	/* the program record started, through every exec (a shell, a version
	 * manager's shim): one pid; what it forks is not recorded */
	const char *want = getenv("TG_RECORD_PID");
	if (want && *want && strtol(want, NULL, 10) != (long)getpid())
		return;
	snprintf(A.dir, sizeof(A.dir), "%s", dir);
	struct tg_error err;
	tg_error_clear(&err);
	struct tg_session_opts so = {.process = program_invocation_name, .defer_gpu = true};
	static const char *const tags[] = {"program"};
	so.tags = tags;
	so.n_tags = 1;
	if (tg_profile_opts_from_env(&so.profile, &err) < 0) {
		note("not recording: %s", err.msg);
		return;
	}
	pthread_key_create(&A.thread_key, thread_gone);
	atomic_fetch_add(&A.internal, 1);
	int rc = tg_session_begin(&so, &A.session, &err);
	atomic_fetch_sub(&A.internal, 1);
	if (rc < 0) {
		note("not recording: %s", err.msg);
		return;
	}
	A.active = 1;
	atexit(at_exit);
	catch_stop_signals();
}
