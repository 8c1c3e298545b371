#include "tg_results.h"
#include "tg_stats.h"
#include "tg_mem.h"
#include "tg_str.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void tg_results_init(struct tg_run_results *r)
{
	memset(r, 0, sizeof(*r));
	r->complete = true;
}

const char *tg_signal_name(int v)
{
	return v > 0 ? "LONG" : v < 0 ? "SHORT" : "none";
}

void tg_state_result_fini(struct tg_state_result *st)
{
	free(st->samples_ns);
	free(st->kernel_samples_ns);
	free(st->sample_start_s);
	free(st->sample_round);
	free(st->cpu_samples_ns);
	free(st->last_average);
	free(st->final_signal);
	st->last_average = NULL;
	st->final_signal = NULL;
	st->n_symbols = 0;
	st->samples_ns = st->kernel_samples_ns = st->sample_start_s = st->cpu_samples_ns = NULL;
	st->sample_round = NULL;
}

void tg_results_fini(struct tg_run_results *r)
{
	for (int i = 0; i < r->n_states; i++)
		tg_state_result_fini(&r->states[i]);
	free(r->states);
	free(r->params);
	for (int i = 0; i < r->n_accuracy; i++)
		free(r->accuracy[i].flips);
	free(r->accuracy);
	free(r->agreement);
	free(r->ratios);
	free(r->ranks);
	memset(r, 0, sizeof(*r));
}

double tg_results_rank_imbalance(const struct tg_run_results *r, int i)
{
	double v[256];
	int n = 0;
	for (int k = 0; k < r->n_rank_results && n < (int)(sizeof(v) / sizeof(v[0])); k++) {
		const struct tg_rank_result *x = &r->ranks[k];
		if (i >= 0 && i < x->n_states && x->median_ns[i] > 0)
			v[n++] = x->median_ns[i];
	}
	return n > 1 ? tg_stats_imbalance(v, n) : 0;
}

/* Grows *arr (of elem bytes) to hold one more element; returns it zeroed. */
static void *append(void **arr, int *n, int *cap, size_t elem)
{
	size_t c = (size_t)*cap;
	void *na = tg_grow_block(*arr, &c, (size_t)*n + 1, elem, 8);
	if (!na || c > INT32_MAX)
		return NULL;
	*arr = na;
	*cap = (int)c;
	void *slot = (char *)*arr + (size_t)(*n) * elem;
	memset(slot, 0, elem);
	(*n)++;
	return slot;
}

static struct tg_param *add_param(struct tg_run_results *r, const char *key)
{
	struct tg_param *p = append((void **)&r->params, &r->n_params, &r->cap_params, sizeof(*p));
	if (p)
		tg_strlcpy(p->key, key, sizeof(p->key));
	return p;
}

int tg_results_param_text(struct tg_run_results *r, const char *key, const char *text)
{
	struct tg_param *p = add_param(r, key);
	if (!p)
		return TG_E_NOMEM;
	tg_strlcpy(p->text, text, sizeof(p->text));
	return 0;
}

int tg_results_param_number(struct tg_run_results *r, const char *key, double v)
{
	struct tg_param *p = add_param(r, key);
	if (!p)
		return TG_E_NOMEM;
	p->is_number = true;
	p->number = v;
	snprintf(p->text, sizeof(p->text), "%.17g", v);
	return 0;
}

struct tg_state_result *tg_results_add_state(struct tg_run_results *r)
{
	return append((void **)&r->states, &r->n_states, &r->cap_states, sizeof(*r->states));
}

struct tg_accuracy *tg_results_add_accuracy(struct tg_run_results *r)
{
	return append((void **)&r->accuracy, &r->n_accuracy, &r->cap_accuracy,
		      sizeof(*r->accuracy));
}

struct tg_agreement *tg_results_add_agreement(struct tg_run_results *r)
{
	return append((void **)&r->agreement, &r->n_agreement, &r->cap_agreement,
		      sizeof(*r->agreement));
}

struct tg_ratio *tg_results_add_ratio(struct tg_run_results *r)
{
	return append((void **)&r->ratios, &r->n_ratios, &r->cap_ratios, sizeof(*r->ratios));
}

int tg_ratio_verdict(const struct tg_ratio *x)
{
	return x->ci_lo > 1.0 ? TG_RATIO_FASTER : x->ci_hi < 1.0 ? TG_RATIO_SLOWER : TG_RATIO_SAME;
}

const struct tg_state_result *tg_results_find_state(const struct tg_run_results *r,
						    const char *backend, const char *ma_mode)
{
	for (int i = 0; i < r->n_states; i++)
		if (strcmp(r->states[i].backend, backend) == 0 &&
		    strcmp(r->states[i].ma_mode, ma_mode) == 0)
			return &r->states[i];
	return NULL;
}



const struct tg_param *tg_results_find_param(const struct tg_run_results *r, const char *key)
{
	for (int i = 0; i < r->n_params; i++)
		if (strcmp(r->params[i].key, key) == 0)
			return &r->params[i];
	return NULL;
}

int tg_param_kind(const char *key)
{
	static const char *const timing[] = {"reps",	  "warmup",	 "min_reps",
					     "max_reps",  "min_time_s",	 "max_noise",
					     "max_time_s", "stopping_rule", "backends",
					     "ma",	  "pin",	 "seconds",
					     "exit_status", "injected_slowdown", NULL};
	static const char *const profile[] = {"profile", "sample_hz", "sample_clock", "unwind",
					      "include_idle", NULL};
	for (int i = 0; timing[i]; i++)
		if (strcmp(key, timing[i]) == 0)
			return TG_PARAM_TIMING;
	static const char *const derived[] = {"median_bars", "max_bars", "total_bars",
					      "data_files", "data_reversed_files", "data_timestamps",
					      "data_gaps", "data_symbols_with_gaps",
					      "data_bars_before_resampling",
					      "data_partial_last_intervals", NULL};
	for (int i = 0; profile[i]; i++)
		if (strcmp(key, profile[i]) == 0)
			return TG_PARAM_PROFILE;
	for (int i = 0; derived[i]; i++)
		if (strcmp(key, derived[i]) == 0)
			return TG_PARAM_DERIVED;
	return TG_PARAM_WORKLOAD;
}
