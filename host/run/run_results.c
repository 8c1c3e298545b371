/* results.json: the machine-readable record of a run, written and read
 * here against one schema (TG_RESULTS_SCHEMA, TG_RESULTS_SCHEMA_VERSION).
 * Reading is strict: `compare` and `history` act on what it returns, so a
 * file of another schema, a newer version or a member of the wrong type is
 * refused with the member's path, never half-read. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tg_json.h"
#include "tg_mem.h"
#include "tg_phase.h"
#include "tg_run.h"
#include "tg_str.h"

/* ---- writing ------------------------------------------------------------------ */

static void write_stats(struct tg_json *j, const struct tg_stats *s)
{
	tg_json_kv_int(j, "n", s->n);
	tg_json_kv_double(j, "median", s->median);
	tg_json_kv_double(j, "mean", s->mean);
	tg_json_kv_double(j, "stddev", s->stddev);
	tg_json_kv_double(j, "min", s->min);
	tg_json_kv_double(j, "max", s->max);
	tg_json_kv_double(j, "q1", s->q1);
	tg_json_kv_double(j, "q3", s->q3);
	tg_json_kv_double(j, "mad", s->mad);
	tg_json_kv_double(j, "rel_stddev", s->rel_stddev);
	tg_json_kv_interval(j, "median_ci95", s->ci_lo, s->ci_hi);
	tg_json_key(j, "outliers");
	tg_json_begin_object(j);
	tg_json_kv_int(j, "mild", s->outliers_mild);
	tg_json_kv_int(j, "severe", s->outliers_severe);
	tg_json_end_object(j);
}

/* Achieved bytes per second of `bytes` in `ns`, and its share of a roof. */
static void write_roof(struct tg_json *j, const char *contract, double bytes, double ns,
		       double roof, const char *roof_what)
{
	tg_json_begin_object(j);
	tg_json_kv_string(j, "contract", contract);
	tg_json_kv_double(j, "bytes", bytes);
	double gbs = ns > 0 ? bytes / ns : NAN;
	tg_json_kv_double(j, "achieved_gbs", gbs);
	tg_json_kv_double(j, "roof_gbs", roof > 0 ? roof * 1e-9 : NAN);
	tg_json_kv_string(j, "roof", roof > 0 ? roof_what : "not measured");
	tg_json_kv_double(j, "percent_of_roof", roof > 0 ? 100.0 * gbs / (roof * 1e-9) : NAN);
	tg_json_end_object(j);
}

static void write_state(struct tg_json *j, const struct tg_run_results *r,
			const struct tg_state_result *st)
{
	tg_json_begin_object(j);
	tg_json_kv_string(j, "backend", st->backend);
	tg_json_kv_string(j, "ma", st->ma_mode);
	tg_json_kv_bool(j, "available", st->available);
	if (!st->available)
		tg_json_kv_string(j, "error", st->error);
	tg_json_kv_int(j, "threads", st->threads);
	tg_json_kv_string(j, "placement", st->placement[0] ? st->placement : "unpinned");
	tg_json_kv_int(j, "warmup", st->warmup);
	tg_json_kv_double(j, "bars_per_rep", st->bars);
	tg_json_kv_int(j, "mas_per_bar", st->mas_per_bar);
	tg_json_kv_double(j, "bar_mas_per_rep", st->bar_mas);
	tg_json_key(j, "wall_ns");
	tg_json_begin_object(j);
	tg_json_kv_string(j, "contract", "wall, end-to-end, hot");
	write_stats(j, &st->wall);
	tg_json_key(j, "samples");
	tg_json_begin_array(j);
	for (int i = 0; i < st->n_samples; i++)
		tg_json_double(j, st->samples_ns[i]);
	tg_json_end_array(j);
	if (st->sample_round) {
		/* in the order they ran: the round of each, its start since
		 * measuring began */
		tg_json_key(j, "round");
		tg_json_begin_array(j);
		for (int i = 0; i < st->n_samples; i++)
			tg_json_int(j, st->sample_round[i]);
		tg_json_end_array(j);
	}
	if (st->sample_start_s) {
		tg_json_key(j, "start_s");
		tg_json_begin_array(j);
		for (int i = 0; i < st->n_samples; i++)
			tg_json_double(j, st->sample_start_s[i]);
		tg_json_end_array(j);
	}
	tg_json_end_object(j);
	if (st->cpu_samples_ns && st->n_samples > 0) {
		tg_json_key(j, "cpu_ns");
		tg_json_begin_object(j);
		tg_json_kv_string(j, "contract", "the process's CPU time (user + system, every "
						 "thread) per repetition");
		tg_json_kv_double(j, "median", st->cpu.median);
		tg_json_kv_double(j, "per_wall", st->wall.median > 0 ? st->cpu.median / st->wall.median
								     : NAN);
		tg_json_key(j, "samples");
		tg_json_begin_array(j);
		for (int i = 0; i < st->n_samples; i++)
			tg_json_double(j, st->cpu_samples_ns[i]);
		tg_json_end_array(j);
		tg_json_end_object(j);
	}
	if (st->stop_reason)
		tg_json_kv_string(j, "stop_reason", st->stop_reason);
	tg_json_kv_double(j, "state_seconds", st->state_seconds);
	if (st->budget_s > 0)
		tg_json_kv_double(j, "budget_s", st->budget_s);
	tg_json_key(j, "cold_ns");
	tg_json_begin_object(j);
	tg_json_kv_string(j, "contract", "wall, end-to-end, cold: the state's first run");
	tg_json_kv_double(j, "value", st->first_run_ns);
	tg_json_end_object(j);
	tg_json_key(j, "throughput");
	tg_json_begin_object(j);
	tg_json_kv_double(j, "bars_per_s", tg_report_bars_per_s(st));
	tg_json_kv_double(j, "bar_mas_per_s", tg_report_throughput(st));
	tg_json_kv_double(j, "ns_per_bar_ma", tg_report_ns_per_bar_ma(st));
	tg_json_end_object(j);
	tg_json_key(j, "roofline");
	tg_json_begin_array(j);
	write_roof(j, "wall, end-to-end, hot: compulsory bytes (prices in, signals out)",
		   st->bytes_moved, st->wall.median, st->kernel.n > 0 ? 0 : r->host_bw,
		   r->host_bw_what);
	if (st->kernel.n > 0)
		write_roof(j, "kernel-only, CUDA events, hot: modelled device-memory bytes",
			   st->kernel_bytes, st->kernel.median, r->device_bw, r->device_bw_what);
	tg_json_end_array(j);
	if (st->device[0])
		tg_json_kv_string(j, "device", st->device);
	if (st->kernel.n > 0) {
		tg_json_key(j, "kernel_ns");
		tg_json_begin_object(j);
		tg_json_kv_string(j, "contract", "kernel-only, CUDA events, hot");
		write_stats(j, &st->kernel);
		tg_json_key(j, "samples");
		tg_json_begin_array(j);
		for (int i = 0; i < st->n_samples; i++)
			tg_json_double(j, st->kernel_samples_ns[i]);
		tg_json_end_array(j);
		tg_json_end_object(j);
		tg_json_key(j, "device_split_ns");
		tg_json_begin_object(j);
		tg_json_kv_double(j, "h2d", st->h2d_ns);
		tg_json_kv_double(j, "kernels", st->kernel_ns);
		tg_json_kv_double(j, "d2h", st->d2h_ns);
		tg_json_kv_double(j, "device_total", st->device_total.median);
		tg_json_end_object(j);
		tg_json_key(j, "bandwidth_gbs");
		tg_json_begin_object(j);
		tg_json_kv_double(j, "kernels", st->kernel_bytes / st->kernel_ns);
		tg_json_kv_double(j, "h2d", st->h2d_ns > 0 ? st->h2d_bytes / st->h2d_ns : NAN);
		tg_json_kv_double(j, "d2h", st->d2h_ns > 0 ? st->d2h_bytes / st->d2h_ns : NAN);
		tg_json_end_object(j);
		tg_json_kv_double(j, "kernel_bytes_per_rep", st->kernel_bytes);
		tg_json_kv_double(j, "h2d_bytes_per_rep", st->h2d_bytes);
		tg_json_kv_double(j, "d2h_bytes_per_rep", st->d2h_bytes);
		tg_json_kv_int(j, "chunks", st->chunks);
		tg_json_kv_bool(j, "pinned_host_memory", st->pinned);
	}
	if (st->kernels[0])
		tg_json_kv_string(j, "kernels", st->kernels);
	if (st->isa[0])
		tg_json_kv_string(j, "isa", st->isa);
	if (st->has_digest) {
		char hex[24];
		snprintf(hex, sizeof(hex), "%016llx", (unsigned long long)st->average_digest);
		tg_json_kv_string(j, "average_digest", hex);
	}
	const double imbalance = tg_results_rank_imbalance(r, (int)(st - r->states));
	if (imbalance > 0) /* a run split across ranks */
		tg_json_kv_double(j, "rank_imbalance", imbalance);
	tg_json_end_object(j);
}

/* A family's Layer-1 agreement beyond chance and its MA error against
 * every exact slot. */
static void write_family_detail(struct tg_json *j, const struct tg_family_accuracy *fa)
{
	tg_json_key(j, "l1_signal_finite");
	tg_json_begin_object(j);
	tg_json_kv_double(j, "sign_agreement", fa->l1_agree_finite);
	tg_json_kv_double(j, "chance_agreement", fa->l1_chance);
	tg_json_kv_double(j, "kappa", fa->l1_kappa);
	tg_json_kv_bool(j, "no_better_than_chance", fa->no_better_than_chance);
	tg_json_end_object(j);
	if (fa->n_slots <= 0)
		return;
	tg_json_kv_double(j, "slots_mean_rel_err", fa->slots_mean_rel_err);
	tg_json_key(j, "slots");
	tg_json_begin_array(j);
	for (int k = 0; k < fa->n_slots; k++) {
		const struct tg_slot_accuracy *x = &fa->slot[k];
		tg_json_begin_object(j);
		tg_json_kv_int(j, "slot", x->slot);
		tg_json_kv_int(j, "length", x->length);
		tg_json_kv_double(j, "mean_rel_err", x->mean_rel_err);
		tg_json_kv_double(j, "max_rel_err", x->max_rel_err);
		tg_json_kv_double(j, "frac_within_5pct", x->frac_within_5pct);
		tg_json_end_object(j);
	}
	tg_json_end_array(j);
}

static void write_accuracy(struct tg_json *j, const struct tg_run_results *r)
{
	tg_json_key(j, "accuracy");
	tg_json_begin_array(j);
	for (int i = 0; i < r->n_accuracy; i++) {
		const struct tg_accuracy *a = &r->accuracy[i];
		tg_json_begin_object(j);
		tg_json_kv_string(j, "backend", a->backend);
		tg_json_kv_int(j, "bars", a->bars);
		tg_json_key(j, "families");
		tg_json_begin_object(j);
		for (int f = 0; f < TG_RESULTS_FAMILIES; f++) {
			tg_json_key(j, tg_report_family_name(r, f));
			tg_json_begin_object(j);
			tg_json_kv_double(j, "mean_rel_err", a->family[f].mean_rel_err);
			tg_json_kv_double(j, "max_rel_err", a->family[f].max_rel_err);
			tg_json_kv_double(j, "frac_within_5pct", a->family[f].frac_within_5pct);
			tg_json_kv_double(j, "l1_signal_sign_agreement",
					  a->family[f].l1_sign_agreement);
			write_family_detail(j, &a->family[f]);
			tg_json_end_object(j);
		}
		tg_json_end_object(j);
		tg_json_key(j, "average_signal");
		tg_json_begin_object(j);
		tg_json_kv_double(j, "sign_agreement", a->avg_sign_agreement);
		tg_json_kv_double(j, "max_abs_diff", a->avg_max_abs_diff);
		tg_json_kv_double(j, "frac_abs_diff_below_1e6", a->avg_frac_below_1e6);
		tg_json_end_object(j);
		tg_json_key(j, "decision");
		tg_json_begin_object(j);
		tg_json_kv_int(j, "symbols", a->symbols);
		tg_json_kv_int(j, "final_signal_differs", a->flipped);
		tg_json_kv_double(j, "final_signal_differs_share",
				  a->symbols ? (double)a->flipped / (double)a->symbols : 0.0);
		tg_json_kv_double(j, "bars_class_differs_share", a->bars_differing);
		/* every flip (the terminal and the summaries list the first ones) */
		tg_json_key(j, "symbols_differing");
		tg_json_begin_array(j);
		for (int64_t k = 0; k < a->n_flips; k++) {
			tg_json_begin_object(j);
			tg_json_kv_string(j, "symbol", a->flips[k].name);
			tg_json_kv_int(j, "exact", a->flips[k].exact);
			tg_json_kv_int(j, "approx", a->flips[k].approx);
			tg_json_end_object(j);
		}
		tg_json_end_array(j);
		tg_json_kv_bool(j, "symbols_differing_complete", a->n_flips == a->flipped);
		tg_json_end_object(j);
		tg_json_end_object(j);
	}
	tg_json_end_array(j);
}

static void write_profile(struct tg_json *j, const struct tg_profile_info *p)
{
	tg_json_key(j, "profile");
	tg_json_begin_object(j);
	tg_json_kv_string(j, "mode", p->mode);
	tg_json_kv_bool(j, "rendered", p->rendered);
	tg_json_kv_bool(j, "sampled", p->sampled);
	if (p->sampled) {
		tg_json_kv_int(j, "requested_hz", p->requested_hz);
		tg_json_kv_double(j, "achieved_hz", p->achieved_hz);
		tg_json_kv_string(j, "clock", p->clock);
		tg_json_kv_string(j, "unwind", p->unwind);
		tg_json_kv_uint(j, "samples", p->samples);
		tg_json_kv_uint(j, "dropped", p->dropped);
		tg_json_kv_uint(j, "unwind_failures", p->unwind_failures);
		tg_json_kv_uint(j, "truncated", p->truncated);
		tg_json_kv_uint(j, "idle_skipped", p->idle_skipped);
		tg_json_kv_int(j, "threads", p->threads);
		tg_json_kv_uint(j, "unwind_fallbacks", p->fallbacks);
		tg_json_kv_uint(j, "timer_overruns", p->overruns);
		if (p->unwind_compared) {
			tg_json_kv_uint(j, "unwind_compared", p->unwind_compared);
			tg_json_kv_double(j, "unwind_agreement",
					  (double)p->unwind_agreed / (double)p->unwind_compared);
		}
		tg_json_kv_int(j, "cpus", p->cpus);
		if (p->rate_warning[0])
			tg_json_kv_string(j, "rate_warning", p->rate_warning);
		else {
			tg_json_key(j, "rate_warning");
			tg_json_null(j);
		}
		tg_json_kv_double(j, "handler_us_per_sample", p->handler_us);
		tg_json_kv_double(j, "handler_share", p->handler_share);
		tg_json_key(j, "hottest_self");
		tg_json_begin_array(j);
		for (int i = 0; i < p->n_hottest; i++)
			tg_json_string(j, p->hottest[i]);
		tg_json_end_array(j);
	}
	tg_json_kv_string(j, "symbolizer", p->symbolizer);
	/* how long each phase took on each backend: the comparison itself */
	tg_json_key(j, "phases");
	tg_json_begin_array(j);
	for (int i = 0; i < p->n_phases; i++) {
		const struct tg_phase_row *r = &p->phases[i];
		char label[96];
		tg_phase_label(r->phase, label, sizeof(label));
		tg_json_begin_object(j);
		tg_json_kv_string(j, "backend", r->backend);
		tg_json_kv_string(j, "ma_mode", tg_phase_mode(r->phase));
		tg_json_kv_string(j, "phase", label);
		tg_json_kv_uint(j, "cpu_samples", r->samples);
		tg_json_kv_double(j, "cpu_ms", r->cpu_ms);
		tg_json_kv_double(j, "cpu_share", r->cpu_share);
		tg_json_kv_uint(j, "gpu_count", r->gpu_count);
		tg_json_kv_double(j, "gpu_ms", r->gpu_ms);
		tg_json_kv_double(j, "gpu_median_us", r->gpu_median_us);
		tg_json_end_object(j);
	}
	tg_json_end_array(j);
	tg_json_key(j, "gpu");
	tg_json_begin_object(j);
	tg_json_kv_bool(j, "traced", p->gpu_traced);
	tg_json_kv_string(j, "status", p->gpu);
	tg_json_kv_uint(j, "kernels", p->kernels);
	tg_json_kv_uint(j, "memcpys", p->memcpys);
	tg_json_kv_uint(j, "memsets", p->memsets);
	tg_json_kv_uint(j, "api_calls", p->api_calls);
	tg_json_kv_uint(j, "launches", p->launches);
	tg_json_kv_uint(j, "kernel_ns", p->kernel_ns);
	tg_json_kv_uint(j, "memcpy_ns", p->memcpy_ns);
	tg_json_kv_uint(j, "dropped_records", p->gpu_dropped);
	tg_json_key(j, "hottest");
	tg_json_begin_array(j);
	for (int i = 0; i < p->n_hottest_gpu; i++)
		tg_json_string(j, p->hottest_gpu[i]);
	tg_json_end_array(j);
	tg_json_end_object(j);
	tg_json_kv_string(j, "nvtx", p->nvtx);
	tg_json_kv_uint(j, "nvtx_ranges", p->nvtx_ranges);
	tg_json_kv_uint(j, "trace_events", p->trace_events);
	tg_json_kv_uint(j, "unmatched_correlations", p->unmatched_correlations);
	tg_json_kv_string(j, "files", p->files);
	tg_json_end_object(j);
}

static void write_ratios(struct tg_json *j, const struct tg_run_results *r)
{
	static const char *const verdicts[] = {"no clear difference", "faster", "slower"};
	tg_json_kv_int(j, "rounds", r->rounds);
	tg_json_key(j, "paired");
	tg_json_begin_array(j);
	for (int i = 0; i < r->n_ratios; i++) {
		const struct tg_ratio *x = &r->ratios[i];
		tg_json_begin_object(j);
		tg_json_kv_string(j, "kind", x->kind);
		tg_json_kv_string(j, "backend", x->a_backend);
		tg_json_kv_string(j, "ma", x->a_ma);
		tg_json_kv_string(j, "vs_backend", x->b_backend);
		tg_json_kv_string(j, "vs_ma", x->b_ma);
		tg_json_kv_int(j, "pairs", x->pairs);
		tg_json_kv_double(j, "speedup", x->speedup);
		tg_json_kv_interval(j, "ci95", x->ci_lo, x->ci_hi);
		tg_json_kv_string(j, "verdict", verdicts[tg_ratio_verdict(x)]);
		tg_json_end_object(j);
	}
	tg_json_end_array(j);
}

static void write_agreement(struct tg_json *j, const struct tg_run_results *r)
{
	tg_json_key(j, "agreement");
	tg_json_begin_array(j);
	for (int i = 0; i < r->n_agreement; i++) {
		const struct tg_agreement *g = &r->agreement[i];
		tg_json_begin_object(j);
		tg_json_kv_string(j, "reference", g->reference);
		tg_json_kv_string(j, "backend", g->backend);
		tg_json_kv_string(j, "ma", g->ma_mode);
		tg_json_kv_double(j, "max_abs_diff", g->max_abs_diff);
		tg_json_kv_double(j, "sign_agreement", g->sign_agreement);
		tg_json_kv_int(j, "bars", g->bars);
		if (g->max_abs_diff > 0 && g->worst_symbol >= 0) {
			tg_json_key(j, "worst");
			tg_json_begin_object(j);
			tg_json_kv_int(j, "symbol", g->worst_symbol);
			tg_json_kv_string(j, "name", g->worst_name);
			tg_json_kv_int(j, "bar", g->worst_bar);
			tg_json_kv_double(j, "reference", g->worst_reference);
			tg_json_kv_double(j, "value", g->worst_value);
			tg_json_end_object(j);
		}
		tg_json_end_object(j);
	}
	tg_json_end_array(j);
}

int tg_results_write_json(const struct tg_run_results *r, struct tg_sink *s,
			  struct tg_error *err)
{
	struct tg_json j;
	tg_json_init(&j, s, true);
	tg_json_begin_object(&j);
	tg_json_kv_string(&j, "schema", TG_RESULTS_SCHEMA);
	tg_json_kv_int(&j, "schema_version", TG_RESULTS_SCHEMA_VERSION);
	tg_json_key(&j, "tool");
	tg_json_begin_object(&j);
	tg_json_kv_string(&j, "name", "trendgpu-bench");
	tg_json_kv_string(&j, "version", r->build ? r->build->version : "unknown");
	tg_json_end_object(&j);
	tg_json_kv_string(&j, "created_utc", r->created_utc);
	tg_json_kv_string(&j, "kind", r->kind[0] ? r->kind : "run");
	tg_json_kv_string(&j, "command", r->command);
	tg_json_kv_string(&j, "run_dir", r->run_dir);
	tg_json_kv_bool(&j, "complete", r->complete);
	if (!r->complete)
		tg_json_kv_string(&j, "incomplete_reason", r->incomplete_reason);
	tg_json_kv_string(&j, "timing_contract", TG_TIMING_CONTRACT);
	tg_json_key(&j, "machine");
	tg_machine_write_json(&j, &r->machine);
	if (r->n_ranks > 1) {
		tg_json_key(&j, "rank");
		tg_json_begin_object(&j);
		tg_json_kv_int(&j, "rank", r->rank);
		tg_json_kv_int(&j, "size", r->n_ranks);
		if (r->local_rank >= 0)
			tg_json_kv_int(&j, "local_rank", r->local_rank);
		tg_json_kv_string(&j, "launcher", r->launcher);
		tg_json_end_object(&j);
	}
	if (r->n_rank_results > 1) {
		/* a run split across ranks: each one's share and own medians,
		 * one per state in the states' order (null: it did not run) */
		tg_json_key(&j, "ranks");
		tg_json_begin_array(&j);
		for (int k = 0; k < r->n_rank_results; k++) {
			const struct tg_rank_result *x = &r->ranks[k];
			tg_json_begin_object(&j);
			tg_json_kv_int(&j, "rank", x->rank);
			tg_json_kv_string(&j, "host", x->host);
			tg_json_kv_int(&j, "first_symbol", x->first_symbol);
			tg_json_kv_int(&j, "symbols", x->symbols);
			tg_json_kv_double(&j, "bar_symbols", x->bars);
			tg_json_key(&j, "own_median_ns");
			tg_json_begin_array(&j);
			for (int i = 0; i < x->n_states; i++)
				tg_json_double(&j, x->median_ns[i] > 0 ? x->median_ns[i] : NAN);
			tg_json_end_array(&j);
			tg_json_end_object(&j);
		}
		tg_json_end_array(&j);
	}
	if (r->build) {
		tg_json_key(&j, "build");
		tg_build_write_json(&j, r->build);
	}
	tg_json_key(&j, "bandwidth");
	tg_json_begin_object(&j);
	tg_json_kv_double(&j, "host_gbs", r->host_bw > 0 ? r->host_bw * 1e-9 : NAN);
	tg_json_kv_string(&j, "host", r->host_bw > 0 ? r->host_bw_what : "not measured");
	tg_json_kv_double(&j, "device_gbs", r->device_bw > 0 ? r->device_bw * 1e-9 : NAN);
	tg_json_kv_string(&j, "device", r->device_bw > 0 ? r->device_bw_what : "not measured");
	tg_json_end_object(&j);
	tg_json_key(&j, "params");
	tg_json_begin_object(&j);
	for (int i = 0; i < r->n_params; i++) {
		const struct tg_param *p = &r->params[i];
		if (p->is_number)
			tg_json_kv_double(&j, p->key, p->number);
		else
			tg_json_kv_string(&j, p->key, p->text);
	}
	tg_json_end_object(&j);

	tg_json_key(&j, "states");
	tg_json_begin_array(&j);
	for (int i = 0; i < r->n_states; i++)
		write_state(&j, r, &r->states[i]);
	tg_json_end_array(&j);

	const char *sb[16];
	int nsb = tg_report_speedup_backends(r, sb, 16);
	tg_json_key(&j, "speedup_approx_vs_exact");
	tg_json_begin_array(&j);
	for (int i = 0; i < nsb; i++) {
		double e, a, x = tg_report_speedup(r, sb[i], &e, &a);
		tg_json_begin_object(&j);
		tg_json_kv_string(&j, "backend", sb[i]);
		tg_json_kv_double(&j, "exact_median_ns", e);
		tg_json_kv_double(&j, "approx_median_ns", a);
		tg_json_kv_double(&j, "speedup", x);
		tg_json_end_object(&j);
	}
	tg_json_end_array(&j);

	write_ratios(&j, r);
	write_accuracy(&j, r);
	if (r->profile.enabled)
		write_profile(&j, &r->profile);
	write_agreement(&j, r);
	tg_json_end_object(&j);
	return tg_json_finish(&j, err);
}

/* ---- reading ------------------------------------------------------------------ */

struct reader {
	const char *source;
	struct tg_error *err;
	const char *what; /* "results", "sweep": what the file is, in messages */
};

static int bad(const struct reader *rd, const char *path, const char *expected)
{
	return TG_ERR(rd->err, TG_E_PARSE, "%s '%s': %s: expected %s", rd->what, rd->source, path,
		      expected);
}

static void member_path(char *out, size_t cap, const char *where, const char *key)
{
	snprintf(out, cap, "%s%s%s", where, where[0] ? "." : "", key);
}

static int is_string(const json_t *v)
{
	return json_is_string(v);
}

static int is_number_or_null(const json_t *v)
{
	return json_is_number(v) || json_is_null(v); /* null: NaN, as it is written */
}

static int is_bool(const json_t *v)
{
	return json_is_boolean(v);
}

static int is_object(const json_t *v)
{
	return json_is_object(v);
}

static int is_array(const json_t *v)
{
	return json_is_array(v);
}

/* obj's member `key` (at where.key) into *out when it has the right type;
 * absent: *out NULL, an error when required. */
static int lookup(const struct reader *rd, json_t *obj, const char *where, const char *key,
		  bool required, int (*type_ok)(const json_t *), const char *expected, json_t **out)
{
	char path[160], what[128];
	member_path(path, sizeof(path), where, key);
	*out = json_object_get(obj, key);
	if (!*out) {
		snprintf(what, sizeof(what), "%s (it is missing)", expected);
		return required ? bad(rd, path, what) : 0;
	}
	if (!type_ok(*out)) {
		*out = NULL;
		return bad(rd, path, expected);
	}
	return 0;
}

/* A string member into out (absent: left as it is unless required). */
static int get_text(const struct reader *rd, json_t *obj, const char *where, const char *key,
		    bool required, char *out, size_t cap)
{
	json_t *v;
	TG_TRY(lookup(rd, obj, where, key, required, is_string, "a string", &v));
	if (v)
		tg_strlcpy(out, json_string_value(v), cap);
	return 0;
}

static int get_number(const struct reader *rd, json_t *obj, const char *where, const char *key,
		      bool required, double *out)
{
	json_t *v;
	TG_TRY(lookup(rd, obj, where, key, required, is_number_or_null, "a number", &v));
	if (v)
		*out = json_is_null(v) ? NAN : json_number_value(v);
	return 0;
}

static int get_int(const struct reader *rd, json_t *obj, const char *where, const char *key,
		   bool required, int64_t lo, int64_t hi, int64_t *out)
{
	char what[96];
	snprintf(what, sizeof(what), "an integer %lld..%lld", (long long)lo, (long long)hi);
	json_t *v = json_object_get(obj, key);
	if (!v && !required)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
		char path[160];
		member_path(path, sizeof(path), where, key);
		return bad(rd, path, what);
	}
	*out = json_integer_value(v);
	return 0;
}

static int get_bool(const struct reader *rd, json_t *obj, const char *where, const char *key,
		    bool required, bool *out)
{
	json_t *v;
	TG_TRY(lookup(rd, obj, where, key, required, is_bool, "true or false", &v));
	if (v)
		*out = json_is_true(v);
	return 0;
}

/* An object or array member; absent gives NULL unless required. */
static int get_object(const struct reader *rd, json_t *obj, const char *where, const char *key,
		      bool required, json_t **out)
{
	return lookup(rd, obj, where, key, required, is_object, "an object", out);
}

static int get_array(const struct reader *rd, json_t *obj, const char *where, const char *key,
		     bool required, json_t **out)
{
	return lookup(rd, obj, where, key, required, is_array, "an array", out);
}

/* arr: an array of finite, non-negative numbers (durations in ns), malloc'd. */
static int read_samples(const struct reader *rd, json_t *arr, const char *path, double **out,
			int *n)
{
	*out = NULL;
	*n = 0;
	const size_t len = json_array_size(arr);
	TG_FAIL_IF(len > (size_t)INT32_MAX, rd->err, TG_E_RANGE, "results '%s': %s: %zu samples",
		   rd->source, path, len);
	double *v = malloc((len ? len : 1) * sizeof(double));
	TG_FAIL_IF(!v, rd->err, TG_E_NOMEM, "results '%s': %s: out of memory for %zu samples",
		   rd->source, path, len);
	for (size_t i = 0; i < len; i++) {
		json_t *x = json_array_get(arr, i);
		double d = json_is_number(x) ? json_number_value(x) : NAN;
		if (!(d >= 0) || isinf(d)) {
			free(v);
			char at[192];
			snprintf(at, sizeof(at), "%s[%zu]", path, i);
			return bad(rd, at, "a finite duration in ns (a number >= 0)");
		}
		v[i] = d;
	}
	*out = v;
	*n = (int)len;
	return 0;
}

static int read_machine(const struct reader *rd, json_t *m, struct tg_machine *out)
{
	TG_TRY(get_text(rd, m, "machine", "hostname", true, out->hostname, sizeof(out->hostname)));
	TG_TRY(get_text(rd, m, "machine", "cpu_model", true, out->cpu_model, sizeof(out->cpu_model)));
	TG_TRY(get_text(rd, m, "machine", "os", true, out->os, sizeof(out->os)));
	TG_TRY(get_text(rd, m, "machine", "kernel", false, out->kernel, sizeof(out->kernel)));
	TG_TRY(get_text(rd, m, "machine", "arch", false, out->arch, sizeof(out->arch)));
	int64_t v = 0;
	TG_TRY(get_int(rd, m, "machine", "logical_cpus", true, 1, 1 << 24, &v));
	out->logical_cpus = (int)v;
	v = out->logical_cpus;
	TG_TRY(get_int(rd, m, "machine", "allowed_cpus", false, 1, 1 << 24, &v));
	out->allowed_cpus = (int)v;
	double mem = 0;
	TG_TRY(get_number(rd, m, "machine", "memory_bytes", false, &mem));
	out->memory_bytes = mem > 0 && mem < 1.8e19 ? (uint64_t)mem : 0;
	return 0;
}

static int read_build(const struct reader *rd, json_t *b, struct tg_run_results *r)
{
	static const char *const keys[] = {"version",    "git_commit", "build_type",
					   "c_compiler", "c_flags",    "sanitizers"};
	for (int i = 0; i < 6; i++)
		TG_TRY(get_text(rd, b, "build", keys[i], i == 0, r->loaded_build_text[i],
				sizeof(r->loaded_build_text[i])));
	struct tg_build_info *info = &r->loaded_build;
	info->version = r->loaded_build_text[0];
	info->git_commit = r->loaded_build_text[1];
	info->build_type = r->loaded_build_text[2];
	info->c_compiler = r->loaded_build_text[3];
	info->c_flags = r->loaded_build_text[4];
	info->sanitizers = r->loaded_build_text[5];
	r->build = info;
	return 0;
}

static int read_params(const struct reader *rd, json_t *params, struct tg_run_results *r)
{
	const char *key;
	json_t *v;
	json_object_foreach(params, key, v)
	{
		char path[160];
		snprintf(path, sizeof(path), "params.%s", key);
		TG_FAIL_IF(strlen(key) >= sizeof(r->params[0].key), rd->err, TG_E_PARSE,
			   "results '%s': %s: a parameter name of at most %zu bytes", rd->source, path,
			   sizeof(r->params[0].key) - 1);
		int rc;
		if (json_is_string(v))
			rc = tg_results_param_text(r, key, json_string_value(v));
		else if (json_is_number(v))
			rc = tg_results_param_number(r, key, json_number_value(v));
		else
			return bad(rd, path, "a number or a string");
		TG_FAIL_IF(rc < 0, rd->err, TG_E_NOMEM, "results '%s': out of memory", rd->source);
	}
	return 0;
}

/* The static name of a stopping reason, so a state read back prints as one
 * measured here; NULL when unknown. */
static const char *known_stop_reason(const char *text)
{
	if (strcmp(text, "interrupted") == 0)
		return "interrupted";
	for (int k = TG_STOP_COUNT; k <= TG_STOP_MAX; k++)
		if (strcmp(text, tg_stop_reason_name(k)) == 0)
			return tg_stop_reason_name(k);
	return NULL;
}

static int read_state(const struct reader *rd, json_t *s, const char *where,
		      struct tg_state_result *st)
{
	TG_FAIL_IF(!json_is_object(s), rd->err, TG_E_PARSE, "results '%s': %s: expected an object",
		   rd->source, where);
	TG_TRY(get_text(rd, s, where, "backend", true, st->backend, sizeof(st->backend)));
	TG_TRY(get_text(rd, s, where, "ma", true, st->ma_mode, sizeof(st->ma_mode)));
	TG_TRY(get_bool(rd, s, where, "available", true, &st->available));
	TG_TRY(get_text(rd, s, where, "error", false, st->error, sizeof(st->error)));
	TG_TRY(get_text(rd, s, where, "device", false, st->device, sizeof(st->device)));
	TG_TRY(get_text(rd, s, where, "placement", false, st->placement, sizeof(st->placement)));
	TG_TRY(get_text(rd, s, where, "kernels", false, st->kernels, sizeof(st->kernels)));
	TG_TRY(get_text(rd, s, where, "isa", false, st->isa, sizeof(st->isa)));
	char digest[24] = "";
	TG_TRY(get_text(rd, s, where, "average_digest", false, digest, sizeof(digest)));
	if (digest[0]) {
		char *end;
		st->average_digest = strtoull(digest, &end, 16);
		if (strlen(digest) != 16 || *end) {
			char path[160];
			member_path(path, sizeof(path), where, "average_digest");
			return bad(rd, path, "16 hexadecimal digits");
		}
		st->has_digest = true;
	}
	int64_t v = 0;
	TG_TRY(get_int(rd, s, where, "threads", false, 0, 1 << 20, &v));
	st->threads = (int)v;
	v = 0;
	TG_TRY(get_int(rd, s, where, "warmup", false, 0, INT32_MAX, &v));
	st->warmup = (int)v;
	TG_TRY(get_number(rd, s, where, "bar_mas_per_rep", false, &st->bar_mas));
	/* files before mas_per_bar counted 54 per bar in both modes */
	v = TG_ATC_MAS;
	TG_TRY(get_int(rd, s, where, "mas_per_bar", false, 0, TG_ATC_MAS, &v));
	st->mas_per_bar = (int)v; /* 0: a state that never ran */
	st->bars = v > 0 ? st->bar_mas / (double)v : 0;
	TG_TRY(get_number(rd, s, where, "bars_per_rep", false, &st->bars));
	TG_TRY(get_number(rd, s, where, "state_seconds", false, &st->state_seconds));
	TG_TRY(get_number(rd, s, where, "budget_s", false, &st->budget_s));
	char reason[32] = "";
	TG_TRY(get_text(rd, s, where, "stop_reason", false, reason, sizeof(reason)));
	st->stop_reason = reason[0] ? known_stop_reason(reason) : NULL;
	char path[160];
	json_t *wall = NULL, *arr = NULL;
	TG_TRY(get_object(rd, s, where, "wall_ns", st->available, &wall));
	if (wall) {
		member_path(path, sizeof(path), where, "wall_ns");
		TG_TRY(get_array(rd, wall, path, "samples", st->available, &arr));
	}
	if (arr) {
		member_path(path, sizeof(path), where, "wall_ns.samples");
		TG_TRY(read_samples(rd, arr, path, &st->samples_ns, &st->n_samples));
		TG_TRY(tg_stats_compute(st->samples_ns, st->n_samples, &st->wall, rd->err));
	}
	json_t *kernel = NULL;
	arr = NULL;
	TG_TRY(get_object(rd, s, where, "kernel_ns", false, &kernel));
	if (kernel) {
		member_path(path, sizeof(path), where, "kernel_ns");
		TG_TRY(get_array(rd, kernel, path, "samples", true, &arr));
		member_path(path, sizeof(path), where, "kernel_ns.samples");
		int n = 0;
		TG_TRY(read_samples(rd, arr, path, &st->kernel_samples_ns, &n));
		TG_FAIL_IF(n != st->n_samples, rd->err, TG_E_PARSE,
			   "results '%s': %s: %d samples, expected one per repetition (%d)",
			   rd->source, path, n, st->n_samples);
		TG_TRY(tg_stats_compute(st->kernel_samples_ns, n, &st->kernel, rd->err));
		st->kernel_ns = st->kernel.median;
	}
	return 0;
}

static int read_agreement(const struct reader *rd, json_t *g, const char *where,
			  struct tg_agreement *a)
{
	TG_FAIL_IF(!json_is_object(g), rd->err, TG_E_PARSE, "results '%s': %s: expected an object",
		   rd->source, where);
	TG_TRY(get_text(rd, g, where, "reference", true, a->reference, sizeof(a->reference)));
	TG_TRY(get_text(rd, g, where, "backend", true, a->backend, sizeof(a->backend)));
	TG_TRY(get_text(rd, g, where, "ma", true, a->ma_mode, sizeof(a->ma_mode)));
	TG_TRY(get_number(rd, g, where, "max_abs_diff", true, &a->max_abs_diff));
	TG_TRY(get_number(rd, g, where, "sign_agreement", true, &a->sign_agreement));
	int64_t v = 0;
	TG_TRY(get_int(rd, g, where, "bars", true, 0, INT64_MAX, &v));
	a->bars = v;
	a->worst_symbol = a->worst_bar = -1;
	a->worst_reference = a->worst_value = NAN;
	json_t *worst = NULL;
	TG_TRY(get_object(rd, g, where, "worst", false, &worst));
	if (worst) {
		char path[160];
		member_path(path, sizeof(path), where, "worst");
		TG_TRY(get_int(rd, worst, path, "symbol", true, 0, INT32_MAX, &v));
		a->worst_symbol = (int32_t)v;
		TG_TRY(get_int(rd, worst, path, "bar", true, 0, INT32_MAX, &v));
		a->worst_bar = (int32_t)v;
		TG_TRY(get_text(rd, worst, path, "name", false, a->worst_name, sizeof(a->worst_name)));
		TG_TRY(get_number(rd, worst, path, "reference", false, &a->worst_reference));
		TG_TRY(get_number(rd, worst, path, "value", false, &a->worst_value));
	}
	return 0;
}

/* "rank" and "ranks": a process under a launcher, a run split across
 * ranks (after the states: one median per state) */
static int read_ranks(const struct reader *rd, json_t *root, struct tg_run_results *r)
{
	json_t *obj = NULL, *arr = NULL;
	TG_TRY(get_object(rd, root, "", "rank", false, &obj));
	if (obj) {
		int64_t v = 0;
		TG_TRY(get_int(rd, obj, "rank", "size", true, 2, INT32_MAX, &v));
		r->n_ranks = (int)v;
		TG_TRY(get_int(rd, obj, "rank", "rank", true, 0, r->n_ranks - 1, &v));
		r->rank = (int)v;
		v = -1;
		TG_TRY(get_int(rd, obj, "rank", "local_rank", false, 0, INT32_MAX, &v));
		r->local_rank = (int)v;
		TG_TRY(get_text(rd, obj, "rank", "launcher", false, r->launcher, sizeof(r->launcher)));
	}
	TG_TRY(get_array(rd, root, "", "ranks", false, &arr));
	if (!arr || json_array_size(arr) == 0)
		return 0;
	const size_t n = json_array_size(arr);
	TG_FAIL_IF(n > 1000000, rd->err, TG_E_RANGE, "results '%s': ranks: %zu ranks", rd->source, n);
	r->ranks = calloc(n, sizeof(*r->ranks));
	TG_FAIL_IF(!r->ranks, rd->err, TG_E_NOMEM, "results '%s': out of memory", rd->source);
	r->n_rank_results = (int)n;
	for (size_t k = 0; k < n; k++) {
		struct tg_rank_result *x = &r->ranks[k];
		json_t *e = json_array_get(arr, k);
		char where[32];
		snprintf(where, sizeof(where), "ranks[%zu]", k);
		TG_FAIL_IF(!json_is_object(e), rd->err, TG_E_PARSE, "results '%s': %s: expected an object",
			   rd->source, where);
		int64_t v = 0;
		TG_TRY(get_int(rd, e, where, "rank", true, 0, INT32_MAX, &v));
		x->rank = (int)v;
		TG_TRY(get_text(rd, e, where, "host", false, x->host, sizeof(x->host)));
		TG_TRY(get_int(rd, e, where, "first_symbol", true, 0, INT32_MAX, &v));
		x->first_symbol = (int32_t)v;
		TG_TRY(get_int(rd, e, where, "symbols", true, 0, INT32_MAX, &v));
		x->symbols = (int32_t)v;
		TG_TRY(get_number(rd, e, where, "bar_symbols", false, &x->bars));
		json_t *med = NULL;
		TG_TRY(get_array(rd, e, where, "own_median_ns", true, &med));
		char path[64];
		member_path(path, sizeof(path), where, "own_median_ns");
		TG_FAIL_IF(json_array_size(med) != (size_t)r->n_states, rd->err, TG_E_PARSE,
			   "results '%s': %s: %zu values, expected one per state (%d)", rd->source, path,
			   json_array_size(med), r->n_states);
		TG_FAIL_IF(r->n_states > TG_RESULTS_MAX_STATES, rd->err, TG_E_RANGE,
			   "results '%s': %s: %d states, at most %d with ranks", rd->source, path,
			   r->n_states, TG_RESULTS_MAX_STATES);
		x->n_states = r->n_states;
		for (int i = 0; i < r->n_states; i++) {
			json_t *m = json_array_get(med, (size_t)i);
			const double d = json_is_number(m) ? json_number_value(m) : json_is_null(m) ? 0 : -1;
			if (!(d >= 0) || isinf(d)) {
				char at[96];
				snprintf(at, sizeof(at), "%s[%d]", path, i);
				return bad(rd, at, "a duration in ns (a number >= 0) or null");
			}
			x->median_ns[i] = d;
		}
	}
	return 0;
}

static int read_root(const struct reader *rd, json_t *root, struct tg_run_results *r)
{
	TG_FAIL_IF(!json_is_object(root), rd->err, TG_E_PARSE,
		   "results '%s': expected a JSON object (a trendgpu-bench results file)", rd->source);
	json_t *schema = json_object_get(root, "schema");
	if (!json_is_string(schema) || strcmp(json_string_value(schema), TG_RESULTS_SCHEMA) != 0)
		return TG_ERR(rd->err, TG_E_PARSE,
			      "results '%s' is not a trendgpu-bench results file: schema %s%s%s, "
			      "expected '" TG_RESULTS_SCHEMA "'",
			      rd->source, json_is_string(schema) ? "'" : "",
			      json_is_string(schema) ? json_string_value(schema)
				      : schema ? "of the wrong type" : "missing",
			      json_is_string(schema) ? "'" : "");
	json_t *version = json_object_get(root, "schema_version");
	TG_FAIL_IF(!json_is_integer(version), rd->err, TG_E_PARSE,
		   "results '%s': schema_version: expected an integer", rd->source);
	const json_int_t ver = json_integer_value(version);
	TG_FAIL_IF(ver > TG_RESULTS_SCHEMA_VERSION, rd->err, TG_E_UNSUPPORTED,
		   "results '%s': schema_version %lld is newer than this build reads (%d): use a "
		   "newer trendgpu-bench",
		   rd->source, (long long)ver, TG_RESULTS_SCHEMA_VERSION);
	TG_FAIL_IF(ver < TG_RESULTS_SCHEMA_OLDEST, rd->err, TG_E_UNSUPPORTED,
		   "results '%s': schema_version %lld is older than this build reads (%d..%d)",
		   rd->source, (long long)ver, TG_RESULTS_SCHEMA_OLDEST, TG_RESULTS_SCHEMA_VERSION);
	TG_TRY(get_text(rd, root, "", "kind", false, r->kind, sizeof(r->kind)));
	TG_TRY(get_text(rd, root, "", "command", false, r->command, sizeof(r->command)));
	TG_TRY(get_text(rd, root, "", "created_utc", false, r->created_utc, sizeof(r->created_utc)));
	TG_TRY(get_text(rd, root, "", "run_dir", false, r->run_dir, sizeof(r->run_dir)));
	TG_TRY(get_bool(rd, root, "", "complete", false, &r->complete));
	TG_TRY(get_text(rd, root, "", "incomplete_reason", false, r->incomplete_reason,
			sizeof(r->incomplete_reason)));
	json_t *obj = NULL, *arr = NULL;
	TG_TRY(get_object(rd, root, "", "machine", true, &obj));
	TG_TRY(read_machine(rd, obj, &r->machine));
	TG_TRY(get_object(rd, root, "", "build", false, &obj));
	if (obj)
		TG_TRY(read_build(rd, obj, r));
	TG_TRY(get_object(rd, root, "", "params", true, &obj));
	TG_TRY(read_params(rd, obj, r));
	TG_TRY(get_array(rd, root, "", "states", true, &arr));
	size_t i;
	json_t *v;
	json_array_foreach(arr, i, v)
	{
		char where[32];
		snprintf(where, sizeof(where), "states[%zu]", i);
		struct tg_state_result *st = tg_results_add_state(r);
		TG_FAIL_IF(!st, rd->err, TG_E_NOMEM, "results '%s': out of memory", rd->source);
		TG_TRY(read_state(rd, v, where, st));
		for (int k = 0; k + 1 < r->n_states; k++)
			TG_FAIL_IF(strcmp(r->states[k].backend, st->backend) == 0 &&
					   strcmp(r->states[k].ma_mode, st->ma_mode) == 0,
				   rd->err, TG_E_PARSE,
				   "results '%s': %s: a second state %s %s (the first is states[%d])",
				   rd->source, where, st->backend, st->ma_mode, k);
	}
	TG_TRY(get_array(rd, root, "", "agreement", false, &arr));
	json_array_foreach(arr, i, v)
	{
		char where[32];
		snprintf(where, sizeof(where), "agreement[%zu]", i);
		struct tg_agreement *a = tg_results_add_agreement(r);
		TG_FAIL_IF(!a, rd->err, TG_E_NOMEM, "results '%s': out of memory", rd->source);
		TG_TRY(read_agreement(rd, v, where, a));
	}
	return read_ranks(rd, root, r);
}

int tg_results_read_json(const char *text, size_t len, const char *source,
			 struct tg_run_results *r, struct tg_error *err)
{
	tg_results_init(r);
	json_error_t je;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (!root)
		return TG_ERR(err, TG_E_PARSE, "results '%s': line %d, column %d: %s", source, je.line,
			      je.column, je.text);
	const struct reader rd = {source, err, "results"};
	int rc = read_root(&rd, root, r);
	json_decref(root);
	if (rc < 0)
		tg_results_fini(r);
	return rc;
}

int tg_results_load(const char *path, struct tg_run_results *r, struct tg_error *err)
{
	char *text = NULL;
	size_t len = 0;
	tg_results_init(r);
	/* a run stopped before it wrote its results says so beside them */
	char marker[1100];
	const char *slash = strrchr(path, '/');
	snprintf(marker, sizeof(marker), "%.*s" TG_RUNDIR_INCOMPLETE,
		 slash ? (int)(slash - path + 1) : 0, path);
	if (access(path, F_OK) != 0 && access(marker, F_OK) == 0) {
		char *why = NULL;
		size_t n = 0;
		if (tg_read_file(marker, "marker", &why, &n, NULL) == 0)
			why[strcspn(why, "\n")] = '\0';
		const int rc = TG_ERR(err, TG_E_IO,
				      "results '%s': not written: the run was stopped before it "
				      "wrote them (%s says: %s)",
				      path, marker, why ? why : "?");
		free(why);
		return rc;
	}
	TG_TRY(tg_read_file(path, "results", &text, &len, err));
	int rc = tg_results_read_json(text, len, path, r, err);
	free(text);
	return rc;
}

/* ---- sweep.json ------------------------------------------------------------------ */

/* A point's directory: one plain name inside the sweep's ("s20-b1500"),
 * never a path that leads elsewhere. */
static bool plain_name(const char *s)
{
	if (!s[0] || s[0] == '.')
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      *s == '-' || *s == '_' || *s == '.'))
			return false;
	return true;
}

static int read_axis(const struct reader *rd, json_t *root, const char *key, int32_t *v, int *n)
{
	json_t *arr;
	TG_TRY(get_array(rd, root, "", key, true, &arr));
	*n = 0;
	size_t i;
	json_t *x;
	json_array_foreach(arr, i, x)
	{
		char path[48];
		snprintf(path, sizeof(path), "%s[%zu]", key, i);
		if (i >= TG_SWEEP_MAX_AXIS)
			return bad(rd, key, "at most 16 values");
		if (!json_is_integer(x) || json_integer_value(x) < 1 ||
		    json_integer_value(x) > 100000000)
			return bad(rd, path, "an integer 1..100000000");
		v[(*n)++] = (int32_t)json_integer_value(x);
	}
	return 0;
}

static int read_sweep(const struct reader *rd, json_t *root, struct tg_sweep *s)
{
	TG_FAIL_IF(!json_is_object(root), rd->err, TG_E_PARSE,
		   "sweep '%s': expected a JSON object (a trendgpu-bench sweep.json)", rd->source);
	json_t *schema = json_object_get(root, "schema");
	TG_FAIL_IF(!json_is_string(schema) || strcmp(json_string_value(schema), TG_SWEEP_SCHEMA) != 0,
		   rd->err, TG_E_PARSE, "sweep '%s' is not a trendgpu-bench sweep: schema %s, expected '"
		   TG_SWEEP_SCHEMA "'",
		   rd->source, json_is_string(schema) ? json_string_value(schema) : "missing");
	int64_t ver = 0;
	TG_TRY(get_int(rd, root, "", "schema_version", true, 1, INT32_MAX, &ver));
	TG_FAIL_IF(ver > TG_SWEEP_SCHEMA_VERSION, rd->err, TG_E_UNSUPPORTED,
		   "sweep '%s': schema_version %lld is newer than this build reads (%d)", rd->source,
		   (long long)ver, TG_SWEEP_SCHEMA_VERSION);
	TG_TRY(get_text(rd, root, "", "command", false, s->command, sizeof(s->command)));
	TG_TRY(get_text(rd, root, "", "created_utc", false, s->created_utc, sizeof(s->created_utc)));
	TG_TRY(get_bool(rd, root, "", "complete", false, &s->complete));
	TG_TRY(read_axis(rd, root, "symbols", s->symbols, &s->n_symbols));
	TG_TRY(read_axis(rd, root, "bars", s->bars, &s->n_bars));
	json_t *arr;
	TG_TRY(get_array(rd, root, "", "points", true, &arr));
	size_t i;
	json_t *v;
	json_array_foreach(arr, i, v)
	{
		char where[32];
		snprintf(where, sizeof(where), "points[%zu]", i);
		if (i >= TG_SWEEP_MAX_POINTS)
			return bad(rd, "points", "at most 256 points");
		if (!json_is_object(v))
			return bad(rd, where, "an object");
		struct tg_sweep_point *p = &s->points[s->n_points];
		memset(p, 0, sizeof(*p));
		int64_t x = 0;
		TG_TRY(get_int(rd, v, where, "symbols", true, 1, 100000000, &x));
		p->symbols = (int32_t)x;
		TG_TRY(get_int(rd, v, where, "bars", true, 1, 100000000, &x));
		p->bars = (int32_t)x;
		x = 0; /* absent: 0 */
		TG_TRY(get_int(rd, v, where, "exit_status", false, 0, 255, &x));
		p->exit_status = (int)x;
		TG_TRY(get_bool(rd, v, where, "measured", true, &p->measured));
		TG_TRY(get_text(rd, v, where, "dir", true, p->dir, sizeof(p->dir)));
		char path[64];
		member_path(path, sizeof(path), where, "dir");
		if (!plain_name(p->dir))
			return bad(rd, path, "a directory name inside the sweep's (letters, digits, - _ .)");
		for (int k = 0; k < s->n_points; k++)
			TG_FAIL_IF(s->points[k].symbols == p->symbols && s->points[k].bars == p->bars,
				   rd->err, TG_E_PARSE,
				   "sweep '%s': %s: a second point of %d symbols x %d bars", rd->source,
				   where, p->symbols, p->bars);
		s->n_points++;
	}
	return 0;
}

int tg_sweep_read_json(const char *text, size_t len, const char *source, struct tg_sweep *s,
		       struct tg_error *err)
{
	memset(s, 0, sizeof(*s));
	json_error_t je;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (!root)
		return TG_ERR(err, TG_E_PARSE, "sweep '%s': line %d, column %d: %s", source, je.line,
			      je.column, je.text);
	const struct reader rd = {source, err, "sweep"};
	const int rc = read_sweep(&rd, root, s);
	json_decref(root);
	return rc;
}
