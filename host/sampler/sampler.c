/* The host sampler: per-thread SIGPROF timers, an async-signal-safe
 * handler that unwinds into per-thread SPSC rings, a drain thread. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
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
#include "tg_sampler.h"

#if TG_HAVE_LIBUNWIND
#define UNW_LOCAL_ONLY
#include <libunwind.h>
#endif

#define RING_SKIP 0xffffffffu

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
	/* handler-only state */
	uint64_t last_cpu_ns, last_wall_ns;
	/* the ring: head written by the handler, tail by the drain thread */
	uint8_t *buf;
	size_t cap; /* power of two */
	_Atomic uint64_t head, tail;
	_Atomic uint64_t signals, dropped, idle, failed, truncated;
	uint64_t registered_at_ns;
	uint64_t paused_at_ns;  /* 0 when running */
	double paused_s;        /* paused time of the current registration */
	double registered_s; /* finished registrations, paused time excluded */
	struct thread_rec *next;
};

struct tg_sampler {
	struct tg_sampler_opts o;
	int use_libunwind;
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
	uint64_t dropped_gone, idle_gone, failed_gone, truncated_gone, signals_gone;
	double seconds_gone;
};

/* initial-exec TLS: safe to read in a signal handler */
static __thread struct thread_rec *tls_rec __attribute__((tls_model("initial-exec")));

static uint64_t now_ns(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

bool tg_sampler_has_libunwind(void)
{
	return TG_HAVE_LIBUNWIND;
}

/* ---- unwinding (signal context) ---------------------------------------- */

static int unwind_fp(const ucontext_t *uc, const struct thread_rec *r, uint64_t *pcs, int max,
		     uint32_t *flags)
{
	uintptr_t rbp = (uintptr_t)uc->uc_mcontext.gregs[REG_RBP];
	int n = 0;
	pcs[n++] = (uint64_t)uc->uc_mcontext.gregs[REG_RIP];
	while (n < max) {
		if (rbp == 0)
			return n; /* the outermost frame: a clean end */
		if (rbp < r->stack_lo || rbp + 16 > r->stack_hi || (rbp & 7)) {
			*flags |= TG_SAMPLE_UNWIND_FAILED;
			return n;
		}
		const uintptr_t *fp = (const uintptr_t *)rbp;
		uintptr_t next = fp[0], ret = fp[1];
		if (ret == 0)
			return n;
		pcs[n++] = ret;
		if (next != 0 && next <= rbp) {
			*flags |= TG_SAMPLE_UNWIND_FAILED;
			return n;
		}
		rbp = next;
	}
	*flags |= TG_SAMPLE_TRUNCATED;
	return n;
}

#if TG_HAVE_LIBUNWIND
/* The fast path: unw_backtrace from the handler itself uses libunwind's
 * cached frame traces (~1 us against ~6 us for stepping a cursor), then the
 * frames of the handler and the signal trampoline above the interrupted
 * instruction are dropped. 0 when the interrupted frame was not found. */
static int unwind_fast(const ucontext_t *uc, uint64_t *pcs, int max, uint32_t *flags)
{
	void *buf[TG_SAMPLE_MAX_DEPTH + 8];
	const uint64_t rip = (uint64_t)uc->uc_mcontext.gregs[REG_RIP];
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

static int unwind_libunwind(ucontext_t *uc, uint64_t *pcs, int max, uint32_t *flags)
{
	int fast = unwind_fast(uc, pcs, max, flags);
	if (fast > 0)
		return fast;
	unw_cursor_t cursor;
	int n = 0;
	if (unw_init_local2(&cursor, (unw_context_t *)uc, UNW_INIT_SIGNAL_FRAME) < 0) {
		pcs[n++] = (uint64_t)uc->uc_mcontext.gregs[REG_RIP];
		*flags |= TG_SAMPLE_UNWIND_FAILED;
		return n;
	}
	int step;
	do {
		unw_word_t ip = 0;
		unw_get_reg(&cursor, UNW_REG_IP, &ip);
		if (ip == 0)
			break;
		pcs[n++] = (uint64_t)ip;
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
	rec->flags = flags;
	memcpy(rec + 1, pcs, (size_t)depth * sizeof(uint64_t));
	atomic_store_explicit(&r->head, nh + need, memory_order_release);
}

static void on_sigprof(int sig, siginfo_t *si, void *ctx)
{
	(void)sig;
	(void)si;
	const int saved = errno;
	struct thread_rec *r = tls_rec;
	if (!r || !atomic_load_explicit(&r->active, memory_order_acquire))
		goto out;
	atomic_fetch_add_explicit(&r->signals, 1, memory_order_relaxed);
	const struct tg_sampler *s = r->s;
	const uint64_t t = now_ns(CLOCK_MONOTONIC);
	if (s->o.clock == TG_SAMPLE_WALL && !s->o.include_idle) {
		/* on CPU for less than a quarter of the interval: waiting */
		const uint64_t cpu = now_ns(CLOCK_THREAD_CPUTIME_ID);
		const uint64_t dcpu = cpu - r->last_cpu_ns, dwall = t - r->last_wall_ns;
		r->last_cpu_ns = cpu;
		r->last_wall_ns = t;
		if (dcpu * 4 < dwall) {
			atomic_fetch_add_explicit(&r->idle, 1, memory_order_relaxed);
			goto out;
		}
	}
	uint64_t pcs[TG_SAMPLE_MAX_DEPTH];
	uint32_t flags = 0;
	int depth;
#if TG_HAVE_LIBUNWIND
	if (s->use_libunwind)
		depth = unwind_libunwind((ucontext_t *)ctx, pcs, s->o.max_depth, &flags);
	else
#endif
		depth = unwind_fp((const ucontext_t *)ctx, r, pcs, s->o.max_depth, &flags);
	if (flags & TG_SAMPLE_UNWIND_FAILED)
		atomic_fetch_add_explicit(&r->failed, 1, memory_order_relaxed);
	if (flags & TG_SAMPLE_TRUNCATED)
		atomic_fetch_add_explicit(&r->truncated, 1, memory_order_relaxed);
	ring_push(r, t, flags, pcs, depth);
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
	if (s->store_len + bytes > s->store_cap) {
		size_t cap = s->store_cap ? s->store_cap * 2 : (1u << 20);
		while (cap < s->store_len + bytes)
			cap *= 2;
		uint8_t *nb = realloc(s->store, cap);
		if (!nb)
			return -1;
		s->store = nb;
		s->store_cap = cap;
	}
	if (s->n_samples == s->cap_samples) {
		size_t cap = s->cap_samples ? s->cap_samples * 2 : 4096;
		size_t *no = realloc(s->offsets, cap * sizeof(size_t));
		if (!no)
			return -1;
		s->offsets = no;
		s->cap_samples = cap;
	}
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
		s->o.hz = 997;
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
	if (s->o.hz > 100000 || s->o.clock < 0 || s->o.clock > 1 || s->o.unwind < 0 || s->o.unwind > 2) {
		free(s);
		return TG_ERR(err, TG_E_INVAL,
			      "sampler: --sample-hz %d: expected 1..100000 samples per second", o->hz);
	}
	if (s->o.unwind == TG_UNWIND_LIBUNWIND && !TG_HAVE_LIBUNWIND) {
		free(s);
		return TG_ERR(err, TG_E_UNSUPPORTED,
			      "sampler: libunwind is not built in (install libunwind-dev and "
			      "reconfigure); use frame-pointer unwinding");
	}
	s->use_libunwind = TG_HAVE_LIBUNWIND && s->o.unwind != TG_UNWIND_FP;
	s->interval_ns = 1000000000ull / (uint64_t)s->o.hz;
	pthread_mutex_init(&s->mu, NULL);
	*out = s;
	return 0;
}

int tg_sampler_start(struct tg_sampler *s, struct tg_error *err)
{
#if TG_HAVE_LIBUNWIND
	if (s->use_libunwind)
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

int tg_sampler_register_thread(struct tg_sampler *s, int32_t tag, struct tg_error *err)
{
	TG_FAIL_IF(tls_rec != NULL, err, TG_E_INVAL, "sampler: this thread is already registered");
	pthread_mutex_lock(&s->mu);
	struct thread_rec *r = take_record(s);
	if (r)
		s->n_threads_ever++;
	pthread_mutex_unlock(&s->mu);
	TG_FAIL_IF(!r, err, TG_E_NOMEM, "sampler: out of memory for a %zu-byte ring",
		   s->o.ring_bytes);
	r->tid = (pid_t)syscall(SYS_gettid);
	if (pthread_getname_np(pthread_self(), r->name, sizeof(r->name)) != 0)
		r->name[0] = '\0';
	atomic_store(&r->tag, tag);
	pthread_attr_t attr;
	void *addr = NULL;
	size_t size = 0;
	if (pthread_getattr_np(pthread_self(), &attr) == 0) {
		pthread_attr_getstack(&attr, &addr, &size);
		pthread_attr_destroy(&attr);
	}
	r->stack_lo = (uintptr_t)addr;
	r->stack_hi = (uintptr_t)addr + size;
	r->last_cpu_ns = now_ns(CLOCK_THREAD_CPUTIME_ID);
	r->last_wall_ns = now_ns(CLOCK_MONOTONIC);
	r->registered_at_ns = r->last_wall_ns;
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
		r->last_cpu_ns = now_ns(CLOCK_THREAD_CPUTIME_ID);
		r->last_wall_ns = now_ns(CLOCK_MONOTONIC);
		r->paused_s += (double)(r->last_wall_ns - r->paused_at_ns) * 1e-9;
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
	if (s->n_names == s->cap_names) {
		size_t cap = s->cap_names ? s->cap_names * 2 : 16;
		struct thread_name *nn = realloc(s->names, cap * sizeof(*nn));
		if (nn) {
			s->names = nn;
			s->cap_names = cap;
		}
	}
	if (s->n_names < s->cap_names) {
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
	st->unwind = s->use_libunwind ? "libunwind" : "frame-pointers";
	st->threads = s->n_threads_ever;
	uint64_t signals = 0;
	for (const struct thread_rec *r = s->threads; r; r = r->next) {
		signals += atomic_load(&r->signals);
		st->dropped += atomic_load(&r->dropped);
		st->idle_skipped += atomic_load(&r->idle);
		st->unwind_failures += atomic_load(&r->failed);
		st->truncated += atomic_load(&r->truncated);
		st->thread_seconds += r->registered_s;
		if (atomic_load(&r->active))
			st->thread_seconds += armed_seconds(r, now_ns(CLOCK_MONOTONIC));
	}
	st->samples = s->n_samples;
	st->achieved_hz = st->thread_seconds > 0 ? (double)signals / st->thread_seconds : 0.0;
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
	TG_FAIL_IF(rc < 0, err, TG_E_NOMEM, "sampler: out of memory");
	return 0;
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
	uintptr_t lo = 0, hi = 0;
	pthread_attr_t attr;
	if (pthread_getattr_np(pthread_self(), &attr) == 0) {
		void *addr = NULL;
		size_t size = 0;
		pthread_attr_getstack(&attr, &addr, &size);
		pthread_attr_destroy(&attr);
		lo = (uintptr_t)addr;
		hi = lo + size;
	}
	uintptr_t fp = (uintptr_t)__builtin_frame_address(0);
	int n = 0;
	while (n < max && fp >= lo && fp + 16 <= hi && !(fp & 7)) {
		const uintptr_t *f = (const uintptr_t *)fp;
		if (f[1] == 0)
			break;
		pcs[n++] = f[1];
		if (f[0] <= fp)
			break;
		fp = f[0];
	}
	return n;
#endif
}

/* ---- maps and build ids -------------------------------------------------------- */

int tg_sampler_write_maps(struct tg_sink *sink, struct tg_error *err)
{
	FILE *f = fopen("/proc/self/maps", "r");
	TG_FAIL_IF(!f, err, TG_E_IO, "sampler: cannot read /proc/self/maps: %s", strerror(errno));
	char buf[4096];
	size_t n;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		tg_sink_write(sink, buf, n);
	fclose(f);
	return 0;
}

/* The NT_GNU_BUILD_ID of an ELF file, as hex; 0 when found. */
static int build_id(const char *path, char *hex, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = -1;
	Elf64_Ehdr eh;
	if (pread(fd, &eh, sizeof(eh), 0) != (ssize_t)sizeof(eh) || memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_phnum == 0 || eh.e_phnum > 256)
		goto out;
	for (int i = 0; i < eh.e_phnum && rc != 0; i++) {
		Elf64_Phdr ph;
		if (pread(fd, &ph, sizeof(ph), (off_t)(eh.e_phoff + (uint64_t)i * eh.e_phentsize)) !=
		    (ssize_t)sizeof(ph))
			goto out;
		if (ph.p_type != PT_NOTE || ph.p_filesz > 65536)
			continue;
		uint8_t notes[65536];
		if (pread(fd, notes, ph.p_filesz, (off_t)ph.p_offset) != (ssize_t)ph.p_filesz)
			goto out;
		size_t off = 0;
		while (off + sizeof(Elf64_Nhdr) <= ph.p_filesz) {
			const Elf64_Nhdr *nh = (const Elf64_Nhdr *)(notes + off);
			size_t name_off = off + sizeof(*nh), desc_off = name_off + ((nh->n_namesz + 3) & ~3u);
			if (desc_off + nh->n_descsz > ph.p_filesz)
				break;
			if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 &&
			    memcmp(notes + name_off, "GNU", 4) == 0) {
				size_t k = 0;
				for (uint32_t j = 0; j < nh->n_descsz && k + 3 <= cap; j++, k += 2)
					snprintf(hex + k, 3, "%02x", notes[desc_off + j]);
				rc = 0;
				break;
			}
			off = desc_off + ((nh->n_descsz + 3) & ~3u);
		}
	}
out:
	close(fd);
	return rc;
}

int tg_sampler_write_build_ids(struct tg_sink *sink, struct tg_error *err)
{
	FILE *f = fopen("/proc/self/maps", "r");
	TG_FAIL_IF(!f, err, TG_E_IO, "sampler: cannot read /proc/self/maps: %s", strerror(errno));
	char line[4096], last[4096] = "";
	while (fgets(line, sizeof(line), f)) {
		char *path = strchr(line, '/');
		if (!path)
			continue;
		path[strcspn(path, "\n")] = '\0';
		if (strcmp(path, last) == 0)
			continue;
		snprintf(last, sizeof(last), "%s", path);
		char hex[130];
		if (build_id(path, hex, sizeof(hex)) == 0)
			tg_sink_printf(sink, "build-id %s %s\n", hex, path);
	}
	fclose(f);
	return 0;
}

typedef int (*text_fn)(struct tg_sink *sink, struct tg_error *err);

static int write_capture_bin(struct tg_sink *sink, const struct tg_capture *c, struct tg_error *err)
{
	return tg_capture_write(c, sink, err);
}

/* Renders through fn into memory, then writes dir/name<suffix><ext>. */
static int write_one(const char *dir, const char *name, const char *suffix, const char *ext,
		     text_fn fn, const struct tg_capture *c, char **keep, struct tg_error *err)
{
	struct tg_sink *m = tg_sink_open_memory();
	TG_FAIL_IF(!m, err, TG_E_NOMEM, "sampler: out of memory");
	int rc = fn ? fn(m, err) : write_capture_bin(m, c, err);
	size_t len = 0;
	const char *data = tg_sink_memory_data(m, &len);
	if (rc == 0) {
		char path[1200];
		snprintf(path, sizeof(path), "%s/%s%s%s", dir, name, suffix, ext);
		struct tg_sink *f = tg_sink_open_file(path, err);
		if (!f) {
			rc = err ? err->code : TG_E_IO;
		} else {
			tg_sink_write(f, data, len);
			rc = tg_sink_close(f, err);
		}
	}
	if (rc == 0 && keep && !(*keep = strdup(data)))
		rc = TG_ERR(err, TG_E_NOMEM, "sampler: out of memory");
	tg_sink_close(m, NULL);
	return rc;
}

int tg_sampler_write_raw(const char *dir, const char *suffix, const struct tg_capture *c,
			 char **maps_text, struct tg_error *err)
{
	if (maps_text)
		*maps_text = NULL;
	int rc = write_one(dir, "maps", suffix, "", tg_sampler_write_maps, NULL, maps_text, err);
	if (rc == 0)
		rc = write_one(dir, "maps", suffix, ".buildid", tg_sampler_write_build_ids, NULL, NULL, err);
	if (rc == 0)
		rc = write_one(dir, "capture", suffix, ".bin", NULL, c, NULL, err);
	if (rc < 0 && maps_text) {
		free(*maps_text);
		*maps_text = NULL;
	}
	return rc;
}
