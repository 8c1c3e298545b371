/* The profiling session: the collectors (NVTX capture, CUPTI with launch
 * stacks, the host sampler) around a benchmark run or, in the recording
 * agent, around a whole program; exported into one capture. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tg_clock.h"
#include "tg_cupti.h"
#include "tg_log.h"
#include "tg_nvtx.h"
#include "tg_run.h"
#include "tg_sampler.h"
#include "tg_str.h"

#define MAX_TAGS (TG_RUN_MAX_BACKENDS + 8)

const char *const tg_profile_mode_names[] = {"none", "cpu", "gpu", "both", NULL};

void tg_profile_opts_default(struct tg_profile_opts *o, int mode)
{
	*o = (struct tg_profile_opts){.mode = mode,
				      .hz = TG_SAMPLER_DEFAULT_HZ,
				      .clock = TG_SAMPLE_WALL,
				      .unwind = TG_UNWIND_AUTO};
}

/* ---- the agent's settings ----------------------------------------------------- */

static void set_int(const char *name, int v)
{
	char buf[24];
	snprintf(buf, sizeof(buf), "%d", v);
	setenv(name, buf, 1);
}

void tg_profile_opts_to_env(const struct tg_profile_opts *o)
{
	setenv("TG_RECORD_MODE", tg_profile_mode_names[o->mode & 3], 1);
	set_int("TG_RECORD_HZ", o->hz > 0 ? o->hz : TG_SAMPLER_DEFAULT_HZ);
	setenv("TG_RECORD_CLOCK", tg_sample_clock_names[o->clock == TG_SAMPLE_CPU], 1);
	setenv("TG_RECORD_UNWIND", tg_unwind_names[o->unwind & 3], 1);
	set_int("TG_RECORD_IDLE", o->include_idle != 0);
	set_int("TG_RECORD_DRIVER_API", o->driver_api != 0);
	set_int("TG_RECORD_RING_KB", o->ring_kb);
}

static int env_choice(const char *name, const char *const *names, int32_t *out,
		      struct tg_error *err)
{
	const char *v = getenv(name);
	if (!v || !*v)
		return 0;
	int k = tg_name_index(names, v);
	if (k < 0) {
		char expected[96] = "";
		for (int i = 0; names[i]; i++)
			snprintf(expected + strlen(expected), sizeof(expected) - strlen(expected),
				 "%s%s", i ? ", " : "", names[i]);
		return TG_ERR(err, TG_E_INVAL, "%s='%s': expected one of %s", name, v, expected);
	}
	*out = k;
	return 0;
}

static int env_int(const char *name, int lo, int hi, int32_t *out, struct tg_error *err)
{
	const char *v = getenv(name);
	if (!v || !*v)
		return 0;
	long x = 0;
	TG_FAIL_IF(!tg_parse_int(v, lo, hi, &x), err, TG_E_INVAL, "%s='%s': expected an integer %d..%d",
		   name, v, lo, hi);
	*out = (int32_t)x;
	return 0;
}

int tg_profile_opts_from_env(struct tg_profile_opts *o, struct tg_error *err)
{
	tg_profile_opts_default(o, TG_PROFILE_BOTH);
	TG_TRY(env_choice("TG_RECORD_MODE", tg_profile_mode_names, &o->mode, err));
	TG_FAIL_IF(o->mode == TG_PROFILE_NONE, err, TG_E_INVAL,
		   "TG_RECORD_MODE='none': expected cpu, gpu or both");
	TG_TRY(env_int("TG_RECORD_HZ", 1, TG_SAMPLER_MAX_HZ, &o->hz, err));
	TG_TRY(env_choice("TG_RECORD_CLOCK", tg_sample_clock_names, &o->clock, err));
	TG_TRY(env_choice("TG_RECORD_UNWIND", tg_unwind_names, &o->unwind, err));
	TG_TRY(env_int("TG_RECORD_IDLE", 0, 1, &o->include_idle, err));
	TG_TRY(env_int("TG_RECORD_DRIVER_API", 0, 1, &o->driver_api, err));
	TG_TRY(env_int("TG_RECORD_RING_KB", 0, TG_PROFILE_MAX_RING_KB, &o->ring_kb, err));
	return 0;
}

/* ---- the session ------------------------------------------------------------------ */

struct hook_ctx {
	struct tg_session *s;
	int tag;
};

struct tg_session {
	struct tg_session_opts o;
	struct tg_sampler *sampler;
	struct tg_cupti *cupti;
	bool gpu_tried;
	char gpu_status[256];
	const char *tags[MAX_TAGS];
	struct hook_ctx ctx[MAX_TAGS];
	struct tg_thread_hooks hooks[MAX_TAGS];
	char process[256];
	bool main_registered;
	uint64_t start_ns;
	/* the wall clock against CLOCK_MONOTONIC at the start and the end:
	 * what puts captures of processes on other hosts on one time line */
	int64_t real_minus_mono[2];
};

static uint64_t read_realtime(void *ctx)
{
	(void)ctx;
	return tg_clock_realtime_ns();
}

static uint64_t read_mono(void *ctx)
{
	(void)ctx;
	return tg_clock_ns();
}

/* CLOCK_REALTIME - CLOCK_MONOTONIC now, from the tightest of 5 brackets */
static int64_t real_minus_mono(void)
{
	struct tg_clock_pair p;
	tg_clock_measure(read_realtime, NULL, read_mono, NULL, 5, &p);
	return (int64_t)(p.foreign_ns - p.mono_ns);
}

/* what the calling thread works for, for CUPTI's launch records */
static _Thread_local int32_t tls_tag;

static int32_t current_tag(void)
{
	return tls_tag;
}

static bool samples_mode(int mode)
{
	return mode == TG_PROFILE_CPU || mode == TG_PROFILE_BOTH;
}

static bool gpu_mode(int mode)
{
	return mode == TG_PROFILE_GPU || mode == TG_PROFILE_BOTH;
}

static void hook_start(void *ctx, int worker)
{
	(void)worker;
	struct hook_ctx *h = ctx;
	struct tg_error err;
	if (tg_session_thread_enter(h->s, h->tag, &err) < 0)
		tg_warn("profile: worker thread not sampled: %s", err.msg);
}

static void hook_stop(void *ctx, int worker)
{
	(void)worker;
	struct hook_ctx *h = ctx;
	tg_session_thread_exit(h->s);
}

static int start_sampler(struct tg_session *s, struct tg_error *err)
{
	const struct tg_profile_opts *p = &s->o.profile;
	struct tg_sampler_opts so = {.hz = p->hz, .clock = p->clock, .unwind = p->unwind,
				     .include_idle = p->include_idle != 0,
				     .ring_bytes = (size_t)p->ring_kb * 1024,
				     .compare_unwinders = getenv("TG_SAMPLER_COMPARE_UNWIND") &&
							  strcmp(getenv("TG_SAMPLER_COMPARE_UNWIND"), "1") == 0};
	TG_TRY(tg_sampler_new(&so, &s->sampler, err));
	TG_TRY(tg_sampler_start(s->sampler, err));
	TG_TRY(tg_sampler_register_thread(s->sampler, 0, err));
	s->main_registered = true;
	return 0;
}

int tg_session_start_gpu(struct tg_session *s)
{
	if (!s || !gpu_mode(s->o.profile.mode))
		return TG_E_UNSUPPORTED;
	if (s->gpu_tried)
		return s->cupti ? 0 : TG_E_UNSUPPORTED;
	s->gpu_tried = true;
	struct tg_cupti_opts co = {.driver_api = s->o.profile.driver_api != 0,
				   .backtrace = tg_sampler_backtrace,
				   .current_tag = current_tag};
	struct tg_error err;
	tg_error_clear(&err);
	if (tg_cupti_new(&co, &s->cupti, &err) == 0 && tg_cupti_start(s->cupti, &err) == 0) {
		struct tg_cupti_stats st;
		tg_cupti_get_stats(s->cupti, &st);
		snprintf(s->gpu_status, sizeof(s->gpu_status), "traced with CUPTI %u (%s; %s clock)",
			 st.version, st.kinds, st.clock);
		return 0;
	}
	tg_cupti_free(s->cupti);
	s->cupti = NULL;
	snprintf(s->gpu_status, sizeof(s->gpu_status), "not traced: %s", err.msg);
	if (s->o.defer_gpu) /* tg_session_begin says it otherwise */
		tg_warn("profile: GPU activity %s", s->gpu_status);
	return TG_E_UNSUPPORTED;
}

int tg_session_begin(const struct tg_session_opts *o, struct tg_session **out,
		     struct tg_error *err)
{
	*out = NULL;
	TG_FAIL_IF(o->n_tags < 1 || o->n_tags > MAX_TAGS, err, TG_E_RANGE,
		   "profile: %d tags: expected 1..%d", o->n_tags, MAX_TAGS);
	TG_FAIL_IF(o->profile.mode <= TG_PROFILE_NONE || o->profile.mode > TG_PROFILE_BOTH, err,
		   TG_E_INVAL, "profile: mode %d: expected cpu, gpu or both", o->profile.mode);
	struct tg_session *s = calloc(1, sizeof(*s));
	TG_FAIL_IF(!s, err, TG_E_NOMEM, "profile: out of memory");
	s->o = *o;
	s->o.tags = s->tags;
	tg_strlcpy(s->process, o->process ? o->process : "", sizeof(s->process));
	for (int t = 0; t < o->n_tags; t++) {
		s->tags[t] = o->tags[t];
		s->ctx[t] = (struct hook_ctx){s, t};
		s->hooks[t] = (struct tg_thread_hooks){hook_start, hook_stop, &s->ctx[t]};
	}
	s->start_ns = tg_clock_ns();
	s->real_minus_mono[0] = real_minus_mono();
	tls_tag = 0;
	/* NVTX ranges in every mode: they are what the timeline is organised by */
	tg_nvtx_init();
	tg_nvtx_capture_start();
	tg_nvtx_set_detail(true); /* the phases' ranges, per symbol, while profiling */
	const int mode = o->profile.mode;
	bool sample = samples_mode(mode);
	if (!gpu_mode(mode)) {
		snprintf(s->gpu_status, sizeof(s->gpu_status), "not traced (--profile cpu)");
	} else if (o->defer_gpu) {
		snprintf(s->gpu_status, sizeof(s->gpu_status),
			 "not traced: the program did not initialise CUDA");
	} else if (tg_session_start_gpu(s) < 0) {
		tg_warn("profile: GPU activity %s%s", s->gpu_status,
			mode == TG_PROFILE_GPU ? "; sampling host stacks instead" : "");
		sample = true;
	}
	if (sample) {
		int rc = start_sampler(s, err);
		if (rc < 0) {
			tg_session_free(s);
			return rc;
		}
	}
	*out = s;
	return 0;
}

void tg_session_flush_gpu(struct tg_session *s)
{
	struct tg_error err;
	if (s && s->cupti && tg_cupti_stop(s->cupti, &err) < 0)
		tg_log_error(&err); /* what was converted is still exported */
}

const struct tg_thread_hooks *tg_session_hooks(struct tg_session *s, int tag)
{
	if (!s || tag < 0 || tag >= s->o.n_tags)
		return NULL;
	return &s->hooks[tag];
}

void tg_session_set_tag(struct tg_session *s, int tag, bool busy)
{
	if (!s)
		return;
	tls_tag = tag;
	if (!s->sampler)
		return;
	tg_sampler_set_tag(s->sampler, tag);
	if (busy)
		tg_sampler_resume_thread(s->sampler);
	else
		tg_sampler_pause_thread(s->sampler);
}

int tg_session_thread_enter(struct tg_session *s, int tag, struct tg_error *err)
{
	tls_tag = tag;
	return s && s->sampler ? tg_sampler_register_thread(s->sampler, tag, err) : 0;
}

void tg_session_thread_rebase(struct tg_session *s)
{
	if (s && s->sampler)
		tg_sampler_rebase_thread(s->sampler);
}

void tg_session_thread_exit(struct tg_session *s)
{
	if (s && s->sampler)
		tg_sampler_unregister_thread(s->sampler);
}

bool tg_session_samples(const struct tg_session *s)
{
	return s && s->sampler;
}

void tg_session_free(struct tg_session *s)
{
	if (!s)
		return;
	tg_nvtx_capture_stop();
	tg_nvtx_set_detail(false);
	if (s->main_registered)
		tg_sampler_unregister_thread(s->sampler);
	tg_sampler_free(s->sampler);
	tg_cupti_free(s->cupti);
	free(s);
}

static int export_meta(struct tg_session *s, struct tg_capture *c)
{
	for (int t = 0; t < s->o.n_tags; t++)
		TG_TRY(tg_capture_set_tag(c, t, s->tags[t]));
	TG_TRY(tg_capture_set_meta(c, "profile.mode", tg_profile_mode_names[s->o.profile.mode]));
	TG_TRY(tg_capture_set_meta(c, "gpu", s->gpu_status));
	char v[32], host[256] = "";
	for (int k = 0; k < 2; k++) {
		snprintf(v, sizeof(v), "%lld", (long long)s->real_minus_mono[k]);
		TG_TRY(tg_capture_set_meta(c, k ? TG_META_CLOCK_END : TG_META_CLOCK_START, v));
	}
	if (gethostname(host, sizeof(host) - 1) == 0)
		TG_TRY(tg_capture_set_meta(c, "host", host));
	return tg_capture_set_meta(c, "process", s->process);
}

int tg_session_end(struct tg_session *s, struct tg_capture **out, struct tg_error *err)
{
	*out = NULL;
	const uint64_t end_ns = tg_clock_ns();
	s->real_minus_mono[1] = real_minus_mono();
	tg_nvtx_capture_stop();
	tg_session_flush_gpu(s);
	if (s->sampler) {
		if (s->main_registered) {
			tg_sampler_unregister_thread(s->sampler);
			s->main_registered = false;
		}
		TG_TRY(tg_sampler_stop(s->sampler, err));
	}
	struct tg_capture *c = tg_capture_new();
	TG_FAIL_IF(!c, err, TG_E_NOMEM, "profile: out of memory");
	c->pid = (uint32_t)getpid();
	c->start_ns = s->start_ns;
	c->end_ns = end_ns;
	int rc = export_meta(s, c) < 0 ? TG_ERR(err, TG_E_NOMEM, "profile: out of memory") : 0;
	if (rc == 0)
		rc = tg_nvtx_capture_export(c, end_ns, err);
	if (rc == 0 && s->cupti)
		rc = tg_cupti_export(s->cupti, c, err);
	if (rc == 0 && s->sampler)
		rc = tg_sampler_export(s->sampler, c, err);
	if (rc < 0) {
		tg_capture_free(c);
		return rc;
	}
	*out = c;
	return 0;
}

/* ---- the profile summary of a capture --------------------------------------------- */

static double meta_double(const struct tg_capture *c, const char *key)
{
	const char *v = tg_capture_meta(c, key);
	return v ? strtod(v, NULL) : 0.0;
}

static void meta_text(const struct tg_capture *c, const char *key, char *out, size_t cap)
{
	const char *v = tg_capture_meta(c, key);
	tg_strlcpy(out, v ? v : "", cap);
}

void tg_profile_info_from_capture(const struct tg_capture *c, struct tg_profile_info *info)
{
	info->enabled = true;
	const char *mode = tg_capture_meta(c, "profile.mode");
	tg_strlcpy(info->mode, mode ? mode : "both", sizeof(info->mode));
	meta_text(c, "gpu", info->gpu, sizeof(info->gpu));
	info->gpu_traced = tg_capture_meta(c, "cupti.version") != NULL;
	/* the sampler ran when it left its settings, samples or not (a program
	 * that only waits has none: every tick was idle) */
	info->sampled = tg_capture_meta(c, "sampler.hz") != NULL;
	info->requested_hz = (int)meta_double(c, "sampler.hz");
	info->achieved_hz = meta_double(c, "sampler.achieved_hz");
	info->handler_us = meta_double(c, "sampler.handler_us");
	info->handler_share = meta_double(c, "sampler.handler_share");
	meta_text(c, "sampler.clock", info->clock, sizeof(info->clock));
	meta_text(c, "sampler.unwind", info->unwind, sizeof(info->unwind));
	info->samples = c->n_samples;
	info->dropped = tg_capture_counter(c, "sampler.dropped");
	info->unwind_failures = tg_capture_counter(c, "sampler.unwind_failures");
	info->truncated = tg_capture_counter(c, "sampler.truncated");
	info->idle_skipped = tg_capture_counter(c, "sampler.idle_skipped");
	info->fallbacks = tg_capture_counter(c, "sampler.fallbacks");
	info->threads = (int)tg_capture_counter(c, "sampler.threads");
	info->overruns = tg_capture_counter(c, "sampler.overruns");
	info->unwind_compared = tg_capture_counter(c, "sampler.unwind_compared");
	info->unwind_agreed = tg_capture_counter(c, "sampler.unwind_agreed");
	info->cpus = (int)tg_capture_counter(c, "sampler.cpus");
	tg_profile_rate_check(info);
}

void tg_profile_rate_check(struct tg_profile_info *p)
{
	p->rate_warning[0] = '\0';
	if (!p->sampled || p->requested_hz <= 0)
		return;
	const double share = p->achieved_hz / p->requested_hz;
	size_t n = 0;
	const size_t cap = sizeof(p->rate_warning);
	if (share < 0.8) {
		n += (size_t)snprintf(p->rate_warning, cap,
				      "sampled at %.0f of %d Hz requested (%.0f%%): ", p->achieved_hz,
				      p->requested_hz, 100.0 * share);
		if (p->overruns)
			n += (size_t)snprintf(p->rate_warning + n, cap - n,
					      "CPU contention, %llu ticks expired while the thread "
					      "waited for a CPU (%d sampled threads, %d CPUs)",
					      (unsigned long long)p->overruns, p->threads, p->cpus);
		else if (p->handler_share > 0.05)
			n += (size_t)snprintf(p->rate_warning + n, cap - n,
					      "unwinding cost, the handler took %.1f%% of the threads' "
					      "time (--unwind fp, or a lower --sample-hz)",
					      100.0 * p->handler_share);
		else if (strcmp(p->clock, "cpu") == 0)
			n += (size_t)snprintf(p->rate_warning + n, cap - n,
					      "the threads ran on a CPU for about %.0f%% of their time "
					      "(the cpu clock ticks only while they run)",
					      100.0 * share);
		else
			n += (size_t)snprintf(p->rate_warning + n, cap - n,
					      "signals were delivered late (a busy machine)");
		if (n < cap)
			n += (size_t)snprintf(p->rate_warning + n, cap - n,
					      "; shares hold, times are weighed by the measured "
					      "intervals");
	}
	if (p->dropped && n < cap)
		snprintf(p->rate_warning + n, cap - n,
			 "%s%llu samples dropped: a thread's ring was full (raise --sample-ring)",
			 n ? "; " : "", (unsigned long long)p->dropped);
}
