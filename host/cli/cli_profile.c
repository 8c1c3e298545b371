/* run --profile cpu|gpu|both: the collectors around a benchmark run (host
 * sampler, CUPTI activity with launch stacks, NVTX capture), merged into
 * one capture and rendered into the run directory by flame/tg_render. The
 * raw capture (capture.bin, maps, maps.buildid) stays beside the outputs,
 * so `trendgpu-bench report DIR` re-renders offline. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_internal.h"
#include "tg_capture.h"
#include "tg_clock.h"
#include "tg_cupti.h"
#include "tg_log.h"
#include "tg_nvtx.h"
#include "tg_render.h"
#include "tg_results.h"
#include "tg_sampler.h"
#include "tg_str.h"

#define MAX_TAGS 16

struct hook_ctx {
	struct tg_profile *p;
	int tag;
};

struct tg_profile {
	struct tg_profile_opts o;
	struct tg_sampler *sampler;
	struct tg_cupti *cupti;
	char gpu_status[256];
	const char *tags[MAX_TAGS];
	int n_tags;
	struct hook_ctx ctx[MAX_TAGS];
	struct tg_thread_hooks hooks[MAX_TAGS];
	int main_registered;
	uint64_t start_ns;
};

/* what the calling thread works for, for CUPTI's launch records */
static _Thread_local int32_t tls_tag;

static int32_t current_tag(void)
{
	return tls_tag;
}

static void hook_start(void *ctx, int worker)
{
	(void)worker;
	struct hook_ctx *h = ctx;
	tls_tag = h->tag;
	struct tg_error err;
	if (h->p->sampler && tg_sampler_register_thread(h->p->sampler, h->tag, &err) < 0)
		tg_warn("profile: worker thread not sampled: %s", err.msg);
}

static void hook_stop(void *ctx, int worker)
{
	(void)worker;
	struct hook_ctx *h = ctx;
	if (h->p->sampler)
		tg_sampler_unregister_thread(h->p->sampler);
}

static int start_sampler(struct tg_profile *p, struct tg_error *err)
{
	struct tg_sampler_opts so = {.hz = p->o.hz, .clock = p->o.clock, .unwind = p->o.unwind,
				     .include_idle = p->o.include_idle != 0};
	TG_TRY(tg_sampler_new(&so, &p->sampler, err));
	TG_TRY(tg_sampler_start(p->sampler, err));
	TG_TRY(tg_sampler_register_thread(p->sampler, 0, err));
	p->main_registered = 1;
	return 0;
}

/* CUPTI for the gpu modes; without a usable GPU or CUPTI the run goes on
 * and the reason is kept for the report. */
static bool start_cupti(struct tg_profile *p)
{
	struct tg_cupti_opts co = {.driver_api = p->o.driver_api != 0,
				   .backtrace = tg_sampler_backtrace,
				   .current_tag = current_tag};
	struct tg_error err;
	tg_error_clear(&err);
	if (tg_cupti_new(&co, &p->cupti, &err) == 0 && tg_cupti_start(p->cupti, &err) == 0) {
		struct tg_cupti_stats st;
		tg_cupti_get_stats(p->cupti, &st);
		snprintf(p->gpu_status, sizeof(p->gpu_status), "traced with CUPTI %u (%s; %s clock)",
			 st.version, st.kinds, st.clock);
		return true;
	}
	tg_cupti_free(p->cupti);
	p->cupti = NULL;
	snprintf(p->gpu_status, sizeof(p->gpu_status), "not traced: %s", err.msg);
	return false;
}

int tg_profile_begin(const struct tg_profile_opts *o, const char *const *tags, int n_tags,
		     struct tg_profile **out, struct tg_error *err)
{
	*out = NULL;
	TG_FAIL_IF(n_tags > MAX_TAGS, err, TG_E_RANGE, "profile: at most %d backends", MAX_TAGS - 1);
	struct tg_profile *p = calloc(1, sizeof(*p));
	TG_FAIL_IF(!p, err, TG_E_NOMEM, "profile: out of memory");
	p->o = *o;
	p->n_tags = n_tags;
	for (int t = 0; t < n_tags; t++) {
		p->tags[t] = tags[t];
		p->ctx[t] = (struct hook_ctx){p, t};
		p->hooks[t] = (struct tg_thread_hooks){hook_start, hook_stop, &p->ctx[t]};
	}
	p->start_ns = tg_clock_ns();
	/* NVTX ranges in every mode: they are what the timeline is organised by */
	tg_nvtx_init();
	tg_nvtx_capture_start();
	bool sample = o->mode == TG_PROFILE_CPU || o->mode == TG_PROFILE_BOTH;
	if (o->mode == TG_PROFILE_GPU || o->mode == TG_PROFILE_BOTH) {
		if (!start_cupti(p)) {
			tg_warn("profile: GPU activity %s%s", p->gpu_status,
				o->mode == TG_PROFILE_GPU ? "; sampling host stacks instead" : "");
			sample = true;
		}
	} else {
		snprintf(p->gpu_status, sizeof(p->gpu_status), "not traced (--profile cpu)");
	}
	if (sample) {
		int rc = start_sampler(p, err);
		if (rc < 0) {
			tg_profile_free(p);
			return rc;
		}
	}
	*out = p;
	return 0;
}

const struct tg_thread_hooks *tg_profile_hooks(struct tg_profile *p, int tag)
{
	if (!p || tag < 0 || tag >= p->n_tags)
		return NULL;
	return &p->hooks[tag];
}

void tg_profile_set_tag(struct tg_profile *p, int tag, bool busy)
{
	if (!p)
		return;
	tls_tag = tag;
	if (!p->sampler)
		return;
	tg_sampler_set_tag(p->sampler, tag);
	if (busy)
		tg_sampler_resume_thread(p->sampler);
	else
		tg_sampler_pause_thread(p->sampler);
}

void tg_profile_free(struct tg_profile *p)
{
	if (!p)
		return;
	tg_nvtx_capture_stop();
	if (p->main_registered)
		tg_sampler_unregister_thread(p->sampler);
	tg_sampler_free(p->sampler);
	tg_cupti_free(p->cupti);
	free(p);
}

/* ---- outputs ------------------------------------------------------------- */

int tg_profile_finish(struct tg_profile *p, const char *dir, struct tg_profile_info *info,
		      struct tg_error *err)
{
	memset(info, 0, sizeof(*info));
	if (!p)
		return 0;
	static const char *const modes[] = {"none", "cpu", "gpu", "both"};
	info->enabled = true;
	tg_strlcpy(info->mode, modes[p->o.mode & 3], sizeof(info->mode));
	const uint64_t end_ns = tg_clock_ns();
	tg_nvtx_capture_stop();
	if (p->cupti && tg_cupti_stop(p->cupti, err) < 0)
		tg_log_error(err); /* what was converted is still written */
	if (p->sampler) {
		if (p->main_registered) {
			tg_sampler_unregister_thread(p->sampler);
			p->main_registered = 0;
		}
		TG_TRY(tg_sampler_stop(p->sampler, err));
		struct tg_sampler_stats st;
		tg_sampler_get_stats(p->sampler, &st);
		info->sampled = true;
		info->requested_hz = st.requested_hz;
		info->achieved_hz = st.achieved_hz;
		info->samples = st.samples;
		info->dropped = st.dropped;
		info->unwind_failures = st.unwind_failures;
		info->truncated = st.truncated;
		info->idle_skipped = st.idle_skipped;
		info->threads = st.threads;
		info->handler_us = st.handler_us;
		info->fallbacks = st.fallbacks;
		info->handler_share = st.handler_share;
		tg_strlcpy(info->clock, st.clock, sizeof(info->clock));
		tg_strlcpy(info->unwind, st.unwind, sizeof(info->unwind));
	}
	info->gpu_traced = p->cupti != NULL;
	tg_strlcpy(info->gpu, p->gpu_status, sizeof(info->gpu));

	struct tg_capture *c = tg_capture_new();
	TG_FAIL_IF(!c, err, TG_E_NOMEM, "profile: out of memory");
	c->pid = (uint32_t)getpid();
	c->start_ns = p->start_ns;
	c->end_ns = end_ns;
	int rc = 0;
	for (int t = 0; t < p->n_tags && rc == 0; t++)
		rc = tg_capture_set_tag(c, t, p->tags[t]);
	if (rc == 0)
		rc = tg_capture_set_meta(c, "profile.mode", info->mode);
	if (rc == 0)
		rc = tg_capture_set_meta(c, "gpu", p->gpu_status);
	if (rc == 0)
		rc = tg_capture_set_meta(c, "process", "trendgpu-bench run");
	if (rc < 0)
		rc = TG_ERR(err, TG_E_NOMEM, "profile: out of memory");
	if (rc == 0)
		rc = tg_nvtx_capture_export(c, end_ns, err);
	if (rc == 0 && p->cupti)
		rc = tg_cupti_export(p->cupti, c, err);
	if (rc == 0 && p->sampler)
		rc = tg_sampler_export(p->sampler, c, err);

	/* the raw capture, for `report`; the memory map is used right now too */
	char *maps = NULL;
	if (rc == 0)
		rc = tg_sampler_write_raw(dir, "", c, &maps, err);
	if (rc == 0) {
		snprintf(info->files, sizeof(info->files), "maps,maps.buildid,capture.bin");
		struct tg_render_opts ro = {dir, maps, NULL, info->mode};
		rc = tg_render_profile(c, &ro, info, err);
	}
	free(maps);
	tg_capture_free(c);
	return rc;
}
