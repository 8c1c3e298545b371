/* The benchmark loop: for every backend x MA mode, warm-up and timed
 * repetitions through the harness; then the agreement of every backend
 * with the first that ran the mode, and the accuracy of the approximate
 * MAs against the exact ones. */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tg_accuracy.h"
#include "tg_clock.h"
#include "tg_harness.h"
#include "tg_log.h"
#include "tg_mem.h"
#include "tg_run.h"
#include "tg_sampler.h"
#include "tg_str.h"
#include "tg_topo.h"

/* ---- options ---------------------------------------------------------------------- */

/* The backends a build can have, whether or not this one does: a name
 * from here that is not built in is reported unavailable, not unknown. */
static const char *const known_backends[] = {"cpu", "rust", "cuda", NULL};

static void built_in_backends(char *buf, size_t cap, const char *sep)
{
	size_t used = 0;
	buf[0] = '\0';
	const struct tg_backend_ops *const *all = tg_backends();
	for (int k = 0; all[k] && used < cap; k++)
		used += (size_t)snprintf(buf + used, cap - used, "%s%s", k ? sep : "", all[k]->name);
}

/* Splits "a,b,c" into items (pointers into buf, which is modified); an
 * empty item is an error. Returns the count, or -1. */
static int split_list(char *buf, const char **items, int cap)
{
	int n = 0;
	char *p = buf;
	for (;;) {
		char *comma = strchr(p, ',');
		if (comma)
			*comma = '\0';
		if (!*p || n == cap)
			return -1;
		items[n++] = p;
		if (!comma)
			return n;
		p = comma + 1;
	}
}

int tg_run_parse_backends(const char *list, struct tg_run_backend *out, int cap, int *n,
			  struct tg_error *err)
{
	*n = 0;
	char buf[256];
	if (strcmp(list, "all") == 0)
		built_in_backends(buf, sizeof(buf), ",");
	else
		TG_FAIL_IF(tg_strlcpy(buf, list, sizeof(buf)) >= sizeof(buf), err, TG_E_INVAL,
			   "--backends: the list is too long");
	const char *names[TG_RUN_MAX_BACKENDS + 1];
	int k = split_list(buf, names, cap < TG_RUN_MAX_BACKENDS ? cap : TG_RUN_MAX_BACKENDS);
	TG_FAIL_IF(k < 0, err, TG_E_INVAL,
		   "--backends '%s': expected a comma-separated list such as cpu,rust (at most %d)",
		   list, TG_RUN_MAX_BACKENDS);
	for (int i = 0; i < k; i++) {
		for (int j = 0; j < i; j++)
			TG_FAIL_IF(strcmp(names[j], names[i]) == 0, err, TG_E_INVAL,
				   "--backends: '%s' is given twice", names[i]);
		const struct tg_backend_ops *ops = tg_backend_find(names[i]);
		if (!ops && tg_name_index(known_backends, names[i]) < 0) {
			char known[128];
			built_in_backends(known, sizeof(known), ", ");
			return TG_ERR(err, TG_E_INVAL, "--backends: unknown backend '%s'; this build has: %s",
				      names[i], known);
		}
		tg_strlcpy(out[i].name, names[i], sizeof(out[i].name));
		out[i].ops = ops;
	}
	*n = k;
	return 0;
}

int tg_run_parse_modes(const char *list, int32_t *modes, int *n, struct tg_error *err)
{
	*n = 0;
	char buf[64];
	TG_FAIL_IF(tg_strlcpy(buf, list, sizeof(buf)) >= sizeof(buf), err, TG_E_INVAL,
		   "--ma '%s': expected exact, approx or exact,approx", list);
	const char *names[TG_RUN_MAX_MODES + 8];
	int k = split_list(buf, names, TG_RUN_MAX_MODES + 8);
	TG_FAIL_IF(k < 0, err, TG_E_INVAL, "--ma '%s': expected exact, approx or exact,approx", list);
	for (int i = 0; i < k; i++) {
		int m = tg_ma_mode_parse(names[i]);
		TG_FAIL_IF(m < 0, err, TG_E_INVAL, "--ma: '%s' is not a mode; expected exact and/or approx",
			   names[i]);
		for (int j = 0; j < i; j++)
			TG_FAIL_IF(modes[j] == m, err, TG_E_INVAL,
				   "--ma: '%s' is given twice; expected exact and/or approx", names[i]);
		modes[i] = m; /* distinct modes: i < TG_RUN_MAX_MODES here */
	}
	*n = k;
	return 0;
}

void tg_run_opts_default(struct tg_run_opts *o)
{
	memset(o, 0, sizeof(*o));
	int n = 0;
	tg_run_parse_backends("all", o->backends, TG_RUN_MAX_BACKENDS, &n, NULL);
	o->n_backends = n;
	o->modes[0] = TG_MA_EXACT;
	o->modes[1] = TG_MA_APPROX;
	o->n_modes = 2;
	tg_atc_params_default(&o->params);
	o->symbols = 20;
	o->bars = 1500;
	o->seed = 42;
	o->warmup = 2;
	tg_stop_rule_default(&o->rule);
	o->accuracy = true;
	o->roofs = true;
	tg_profile_opts_default(&o->profile, TG_PROFILE_NONE);
}

int tg_run_check_params(const struct tg_run_opts *o, int32_t min_bars, struct tg_error *err)
{
	for (int m = 0; m < o->n_modes; m++) {
		struct tg_atc_params p = o->params;
		p.ma_mode = o->modes[m];
		TG_TRY(tg_atc_params_validate(&p, min_bars, err));
	}
	return 0;
}

int tg_run_load_data(const struct tg_run_opts *o, struct tg_dataset *ds, struct tg_error *err)
{
	if (o->data) {
		struct tg_atc_params longest = o->params;
		longest.ma_mode = TG_MA_EXACT;
		struct tg_load_opts lo = {.allow_nan = false,
					  .min_bars = tg_atc_max_length(&longest),
					  .min_bars_reason = "the longest moving average",
					  .select = o->data_select,
					  .max_symbols = o->data_symbols,
					  .max_bars = o->data_bars,
					  .price = o->data_price,
					  .timeframe_ms = o->data_timeframe_ms};
		TG_FAIL_IF(o->data_bars > 0 && o->data_bars < lo.min_bars, err, TG_E_RANGE,
			   "--bars %d with --data: the last %d bars are fewer than the longest "
			   "moving average (%d bars)",
			   o->data_bars, o->data_bars, lo.min_bars);
		return tg_data_load(o->data, &lo, ds, err);
	}
	struct tg_synth_opts so = {.symbols = o->symbols, .bars = o->bars, .seed = o->seed};
	return tg_data_synthetic(&so, ds, err);
}

void tg_run_print_data_notes(struct tg_sink *so, const struct tg_run_opts *o,
			     const struct tg_dataset *ds)
{
	if (!o->data)
		return;
	if (o->data_select || o->data_symbols)
		tg_sink_printf(so, "data: %d of the %d files%s%s%s (in name order)\n", ds->n_symbols,
			       ds->n_files, o->data_select ? " matching '" : "",
			       o->data_select ? o->data_select : "", o->data_select ? "'" : "");
	if (o->data_bars)
		tg_sink_printf(so, "data: the last %d bars of each series (%d of %d were longer)\n",
			       o->data_bars, ds->n_trimmed, ds->n_symbols);
	if (o->data_timeframe_ms) {
		char tf[32];
		tg_time_span(o->data_timeframe_ms, tf, sizeof(tf));
		tg_sink_printf(so,
			       "data: resampled to %s bars (close: the interval's last): %lld bars "
			       "before; the last interval is partial in %d of %d symbols\n",
			       tf, (long long)ds->bars_before_resampling, ds->n_partial, ds->n_symbols);
	}
	if (ds->n_reversed)
		tg_sink_printf(so, "data: %d file%s newest first: reversed to oldest first\n",
			       ds->n_reversed, ds->n_reversed == 1 ? " was" : "s were");
	if (!ds->step_ms) {
		tg_sink_printf(so, "data: no timestamp column: the rows' order is taken as the "
				   "bars' order\n");
		return;
	}
	struct tg_data_shape sh;
	tg_data_shape(ds, &sh);
	int64_t step0 = -1;
	bool same = true;
	for (int32_t i = 0; i < ds->n_symbols; i++) {
		if (ds->step_ms[i] > 0) {
			if (step0 < 0)
				step0 = ds->step_ms[i];
			same &= ds->step_ms[i] == step0;
		}
	}
	char step[48] = "various";
	if (step0 > 0 && same)
		tg_time_span(step0, step, sizeof(step));
	tg_sink_printf(so,
		       "data: timestamps increase in every file; typical step %s; %lld gap%s "
		       "longer than 1.5 steps in %d of %d symbols\n",
		       step, (long long)sh.gaps, sh.gaps == 1 ? "" : "s", sh.symbols_with_gaps,
		       ds->n_symbols);
}

int tg_run_tags(const struct tg_run_opts *o, const char **tags, int cap)
{
	int n = 0;
	if (cap > 0)
		tags[n++] = "main";
	for (int b = 0; b < o->n_backends && n < cap; b++)
		tags[n++] = o->backends[b].name;
	return n;
}

void tg_run_results_start(struct tg_run_results *r, const char *kind, const char *command,
			  bool topology)
{
	tg_results_init(r);
	tg_strlcpy(r->kind, kind, sizeof(r->kind));
	tg_strlcpy(r->command, command, sizeof(r->command));
	tg_clock_format_utc(tg_clock_realtime_ns(), r->created_utc, sizeof(r->created_utc));
	tg_machine_probe(&r->machine);
	if (topology)
		tg_topo_probe(&r->machine.topo, NULL);
	r->build = tg_build_info();
	for (int f = 0; f < TG_ATC_FAMILIES; f++)
		r->family_names[f] = tg_family_name(f);
}

static void param_list(struct tg_run_results *r, const char *key, const char *const *items, int n)
{
	char buf[160];
	size_t used = 0;
	buf[0] = '\0';
	for (int i = 0; i < n && used < sizeof(buf); i++)
		used += (size_t)snprintf(buf + used, sizeof(buf) - used, "%s%s", i ? "," : "", items[i]);
	tg_results_param_text(r, key, buf);
}

void tg_run_record_params(struct tg_run_results *r, const struct tg_run_opts *o,
			  const struct tg_dataset *ds)
{
	const char *items[TG_RUN_MAX_BACKENDS];
	for (int i = 0; i < o->n_backends; i++)
		items[i] = o->backends[i].name;
	param_list(r, "backends", items, o->n_backends);
	for (int i = 0; i < o->n_modes; i++)
		items[i] = tg_ma_mode_name(o->modes[i]);
	param_list(r, "ma", items, o->n_modes);
	tg_results_param_text(r, "data", ds->source);
	struct tg_data_shape shape;
	tg_data_shape(ds, &shape);
	tg_results_param_number(r, "symbols", ds->n_symbols);
	tg_results_param_number(r, "bars", ds->stride);
	tg_results_param_number(r, "min_bars", shape.min_bars);
	tg_results_param_number(r, "median_bars", shape.median_bars);
	tg_results_param_number(r, "max_bars", shape.max_bars);
	tg_results_param_number(r, "total_bars", (double)shape.total_bars);
	if (o->data) {
		tg_results_param_number(r, "data_files", ds->n_files);
		if (o->data_select)
			tg_results_param_text(r, "data_select", o->data_select);
		tg_results_param_number(r, "data_last_bars", o->data_bars);
		tg_results_param_number(r, "data_reversed_files", ds->n_reversed);
		tg_results_param_text(r, "data_price", o->data_price ? o->data_price : "close");
		if (o->data_timeframe_ms) {
			char tf[32];
			tg_time_span(o->data_timeframe_ms, tf, sizeof(tf));
			tg_results_param_text(r, "data_timeframe", tf);
			tg_results_param_number(r, "data_bars_before_resampling",
						(double)ds->bars_before_resampling);
			tg_results_param_number(r, "data_partial_last_intervals", ds->n_partial);
		}
		tg_results_param_text(r, "data_timestamps", ds->step_ms ? "checked" : "none");
		tg_results_param_number(r, "data_gaps", (double)shape.gaps);
		tg_results_param_number(r, "data_symbols_with_gaps", shape.symbols_with_gaps);
	}
	if (!o->data)
		tg_results_param_number(r, "seed", (double)o->seed);
	tg_results_param_number(r, "threads_requested", o->threads);
	tg_results_param_number(r, "warmup", o->warmup);
	tg_results_param_number(r, "reps", o->reps);
	tg_results_param_text(r, "stopping_rule",
			      o->reps > 0 ? "count" : "median noise, settled noise or time budget");
	tg_results_param_text(r, "pin", o->pin ? "on" : "off");
	const char *inject = getenv("TG_INJECT_SLOWDOWN");
	if (inject && *inject) {
		tg_results_param_text(r, "injected_slowdown", inject);
		tg_warn("run: TG_INJECT_SLOWDOWN=%s: these backends run slower on purpose (percent)",
			inject);
	}
	tg_results_param_number(r, "min_reps", o->rule.min_samples);
	tg_results_param_number(r, "max_reps", o->rule.max_samples);
	tg_results_param_number(r, "min_time_s", o->rule.min_time_s);
	tg_results_param_number(r, "max_noise", o->rule.max_noise);
	if (o->auto_budget)
		tg_results_param_text(r, "max_time_s", "auto");
	else
		tg_results_param_number(r, "max_time_s", o->rule.timeout_s);
	const struct tg_atc_params *p = &o->params;
	for (int f = 0; f < TG_ATC_FAMILIES; f++) {
		char key[32];
		snprintf(key, sizeof(key), "%s_len", tg_family_name(f));
		tg_results_param_number(r, key, p->length[f]);
	}
	for (int f = 0; f < TG_ATC_FAMILIES; f++) {
		char key[32];
		snprintf(key, sizeof(key), "%s_w", tg_family_name(f));
		tg_results_param_number(r, key, p->weight[f]);
	}
	tg_results_param_number(r, "lambda", p->lambda);
	tg_results_param_number(r, "decay", p->decay);
	tg_results_param_number(r, "cutout", p->cutout);
	tg_results_param_text(r, "robustness", tg_robustness_name(p->robustness));
	tg_results_param_number(r, "long_threshold", p->long_threshold);
	tg_results_param_number(r, "short_threshold", p->short_threshold);
	tg_results_param_number(r, "min_signal", p->min_signal);
	tg_results_param_text(r, "lsma_point", tg_lsma_point_name(p->lsma_point));
	tg_results_param_number(r, "strategy_mode", p->strategy_mode);
	/* a profiled run measures a slower program: its own series, never
	 * compared with plain runs unawares (plain runs carry no such param) */
	const struct tg_profile_opts *pr = &o->profile;
	if (pr->mode != TG_PROFILE_NONE) {
		tg_results_param_text(r, "profile", tg_profile_mode_names[pr->mode]);
		tg_results_param_number(r, "sample_hz", pr->hz);
		tg_results_param_text(r, "sample_clock", tg_sample_clock_names[pr->clock]);
		tg_results_param_text(r, "unwind", tg_unwind_names[pr->unwind]);
		tg_results_param_text(r, "include_idle", pr->include_idle ? "yes" : "no");
	}
}

/* ---- the loop ----------------------------------------------------------------------- */

#define ACCURACY_CHUNK 16
#define ACCURACY_BYTES ((size_t)256 << 20)

/* What the accuracy pass reads of each run: the MA and Layer-1 signal of
 * every family and Average_Signal, one plane = symbols x stride doubles. */
enum { ACC_MA = 0, ACC_L1 = TG_ATC_FAMILIES, ACC_AVG = 2 * TG_ATC_FAMILIES, ACC_PLANES };

/* --pin: worker threads bound as they start, after the profiler's hook. */
struct pin_hooks {
	const struct tg_thread_hooks *inner;
	struct tg_pinner *pinner;
	struct tg_thread_hooks hooks;
	int first; /* this process's first CPU in the pin order (ranks) */
	_Atomic int failed;
};

/* A backend opened for the run: its copy of the prices, its outputs. */
struct opened {
	int index; /* in o->backends; its profiling tag is 1 + index */
	const struct tg_backend_ops *ops;
	void *state;
	struct pin_hooks pin;
	double *close, *avg; /* avg: [mode][cells] */
	int8_t *final_sig; /* [mode][symbols] */
	struct tg_batch batch;
	char device[160], placement[128];
	int slot[TG_RUN_MAX_MODES]; /* its states, -1 where none */
};

struct loop;

/* A state being measured. */
struct slot {
	struct loop *l;
	struct opened *b;
	int mode;
	int state; /* index into r->states */
	struct tg_measure m;
	bool active;  /* measuring */
	bool failed;  /* stopped by an error */
	double spent_s; /* its share of the time: warm-up plus its repetitions */
};

struct loop {
	const struct tg_run_opts *o;
	const struct tg_dataset *ds;
	const struct tg_run_env *env;
	struct tg_run_results *r;
	struct tg_pinner *pinner;
	uint64_t (*clock_ns)(void);
	size_t cells;
	struct opened b[TG_RUN_MAX_BACKENDS];
	int n_b;
	struct slot s[TG_RUN_MAX_BACKENDS * TG_RUN_MAX_MODES];
	int n_s;
	int rounds;
	double *ref_avg;                        /* [mode][cells] of the reference */
	const char *reference[TG_RUN_MAX_MODES]; /* per mode: its first backend */
	int first_error;                         /* first state failure, 0 when none */
	struct tg_error *err;
	/* split across ranks: every decision is taken together (tg_run_env) */
	struct tg_comm *comm;
	bool ranked;
	int stop_all;   /* the stop signal any rank had seen at the last sync */
	bool comm_lost; /* a collective failed: the ranks cannot go on together */
	const struct tg_dataset *whole; /* the symbols' names (ds, or all ranks') */
	char why[256];  /* the last reason a backend could not run here */
	/* TG_INJECT_RANK_FAIL / _STALL name this rank (read once) */
	bool inject_fail, inject_stall;
};

static int local_stop(const struct loop *l)
{
	return l->env && l->env->stop ? (int)*l->env->stop : 0;
}

/* One process: the signal as it comes. Ranks: the one agreed on at the
 * last sync (a rank that stopped alone would leave the others waiting). */
static bool stopped(const struct loop *l)
{
	if (l->ranked)
		return l->stop_all != 0 || l->comm_lost;
	return local_stop(l) != 0;
}

/* A collective failed (a rank timed out, or the transport broke): nothing
 * after it can be agreed, so the job stops. */
static void lost_ranks(struct loop *l, const struct tg_error *e)
{
	tg_log_error(e);
	if (!l->comm_lost && l->err && !l->first_error)
		*l->err = *e;
	l->comm_lost = true;
	tg_comm_abort(l->comm, 1);
}

/* Every rank learns whether any was asked to stop. */
static void sync_stop(struct loop *l, const char *what)
{
	if (!l->ranked || l->comm_lost)
		return;
	double v = (double)local_stop(l);
	struct tg_error e;
	if (tg_comm_allreduce(l->comm, &v, 1, TG_COMM_MAX, what, &e) < 0)
		lost_ranks(l, &e);
	else if (v > 0 && !l->stop_all)
		l->stop_all = (int)v;
}

/* Whether `failed` here or on any rank; the reason of the lowest failing
 * rank into msg ("" when none). A broken comm counts as failed. */
static bool any_rank_failed(struct loop *l, bool failed, char *msg, size_t cap, int *who,
			    const char *what)
{
	*who = failed ? tg_comm_rank(l->comm) : -1;
	if (!l->ranked)
		return failed;
	if (l->comm_lost)
		return true;
	struct tg_error e;
	const int any = tg_comm_agree(l->comm, failed, msg, cap, who, what, &e);
	if (any < 0) {
		lost_ranks(l, &e);
		return true;
	}
	return any > 0;
}

static void set_tag(const struct loop *l, int tag, bool busy)
{
	if (l->env)
		tg_session_set_tag(l->env->session, tag, busy);
}

static void note_failure(struct loop *l, const struct tg_error *e)
{
	tg_log_error(e);
	if (!l->first_error) {
		l->first_error = e->code ? e->code : TG_E_INTERNAL;
		if (l->err)
			*l->err = *e;
	}
}

static void mark_unavailable(struct loop *l, const char *backend, const char *why)
{
	for (int m = 0; m < l->o->n_modes; m++) {
		struct tg_state_result *st = tg_results_add_state(l->r);
		if (!st)
			return;
		tg_strlcpy(st->backend, backend, sizeof(st->backend));
		tg_strlcpy(st->ma_mode, tg_ma_mode_name(l->o->modes[m]), sizeof(st->ma_mode));
		st->available = false;
		tg_strlcpy(st->error, why, sizeof(st->error));
	}
	tg_strlcpy(l->why, why, sizeof(l->why));
	tg_warn("run: backend %s skipped: %s", backend, why);
}

/* Host buffers a backend moves fastest (page-locked for GPUs). */
static void *backend_alloc(const struct tg_backend_ops *ops, void *state, size_t bytes)
{
	return ops->host_alloc ? ops->host_alloc(state, bytes) : malloc(bytes);
}

static void backend_free(const struct tg_backend_ops *ops, void *state, void *p)
{
	if (ops->host_alloc)
		ops->host_free(state, p);
	else
		free(p);
}

static void pin_start(void *ctx, int worker)
{
	struct pin_hooks *h = ctx;
	if (h->inner && h->inner->on_start)
		h->inner->on_start(h->inner->ctx, worker);
	char where[64];
	struct tg_error err;
	if (tg_pin_worker(h->pinner, h->first + worker, where, sizeof(where), &err) < 0 &&
	    atomic_exchange(&h->failed, 1) == 0)
		tg_warn("run: --pin: %s", err.msg);
}

static void pin_stop(void *ctx, int worker)
{
	struct pin_hooks *h = ctx;
	if (h->inner && h->inner->on_stop)
		h->inner->on_stop(h->inner->ctx, worker);
}

/* Where the backend's threads run, for the results ("" = unpinned). */
static void place(struct loop *l, const struct tg_backend_ops *ops, void *state, char *buf,
		  size_t cap)
{
	buf[0] = '\0';
	if (!l->pinner)
		return;
	if (ops->threads(state) > 0) {
		if (l->o->pin_first > 0) /* a rank's share of the host */
			snprintf(buf, cap,
				 "workers bound one per CPU, cores first, from CPU %d of that order "
				 "(--pin)",
				 l->o->pin_first);
		else
			snprintf(buf, cap, "workers bound one per CPU, cores first (--pin)");
	} else if (ops->pci_bus_id) {
		/* the thread that drives the GPU runs next to it */
		char pci[32];
		struct tg_error e;
		if (ops->pci_bus_id(l->o->device, pci, sizeof(pci)) == 0 &&
		    tg_pin_near_pci(l->pinner, pci, buf, cap, &e) < 0) {
			tg_warn("run: --pin: %s", e.msg);
			buf[0] = '\0';
		}
	}
}

/* Exact vs approximate accuracy over all symbols, a chunk of symbols at a
 * time (bounded memory whatever the data: the exact run's 54 slot MAs are
 * the largest part, so a chunk holds at most ACCURACY_BYTES). */
static int accuracy_pass(struct loop *l, const struct tg_backend_ops *ops, void *state,
			 struct tg_accuracy_acc *acc, struct tg_error *err)
{
	const struct tg_dataset *ds = l->ds;
	/* both runs' planes, and the exact run's slot MAs */
	const size_t planes = 2 * ACC_PLANES + TG_ATC_MAS;
	const size_t per_symbol = planes * (size_t)ds->stride * sizeof(double);
	int32_t want = l->o->accuracy_chunk > 0 ? l->o->accuracy_chunk : ACCURACY_CHUNK;
	const size_t fit = ACCURACY_BYTES / (per_symbol > 0 ? per_symbol : 1);
	if ((size_t)want > fit)
		want = fit > 0 ? (int32_t)fit : 1;
	const int32_t chunk = ds->n_symbols < want ? ds->n_symbols : want;
	const size_t plane = (size_t)chunk * (size_t)ds->stride;
	const size_t bytes = planes * plane * sizeof(double);
	double *buf = malloc(bytes);
	int8_t *finals = malloc(2 * (size_t)(chunk > 0 ? chunk : 1));
	if (!buf || !finals) {
		free(buf);
		free(finals);
		return TG_ERR(err, TG_E_NOMEM, "run: out of memory for the accuracy pass (%zu MB)",
			      bytes >> 20);
	}
	struct tg_atc_outputs o[2];
	for (int m = 0; m < 2; m++) {
		double *b = buf + (size_t)m * ACC_PLANES * plane;
		memset(&o[m], 0, sizeof(o[m]));
		o[m].ma = b + ACC_MA * plane;
		o[m].l1_signal = b + ACC_L1 * plane;
		o[m].average = b + ACC_AVG * plane;
		o[m].final_signal = finals + (size_t)m * (size_t)chunk;
	}
	/* the exact MA of every slot: approx has one per family for all nine */
	o[0].slot_ma = buf + 2 * ACC_PLANES * plane;
	int rc = 0;
	for (int32_t first = 0; first < ds->n_symbols && rc == 0 && !stopped(l); first += chunk) {
		int32_t count = ds->n_symbols - first < chunk ? ds->n_symbols - first : chunk;
		struct tg_batch b = tg_data_sub_batch(ds, first, count);
		for (int m = 0; m < 2 && rc == 0; m++) {
			struct tg_atc_params p = l->o->params;
			p.ma_mode = m == 0 ? TG_MA_EXACT : TG_MA_APPROX;
			struct tg_backend_timing t;
			rc = ops->run(state, &p, &b, &o[m], &t, err);
		}
		if (rc == 0)
			tg_accuracy_acc_add(acc, &b, first, &o[0], &o[1]);
	}
	free(buf);
	free(finals);
	if (rc == 0 && stopped(l))
		rc = TG_ERR(err, TG_E_INTERRUPTED, "run: interrupted during the accuracy pass");
	return rc;
}

/* ---- the ranks' shares merged on rank 0 ---------------------------------------- */

static int32_t share_first(const struct loop *l, int rank)
{
	return l->ranked ? l->env->split[rank] : 0; /* checked when the loop began */
}

/* Ranks: every rank's `bytes` to rank 0 (*all, sizes[] there; the caller
 * frees *all); false when the ranks lost each other. One process: a copy. */
static bool gather_to_root(struct loop *l, const void *mine, size_t bytes, void **all,
			   size_t *sizes, const char *what)
{
	struct tg_error e;
	if (l->comm_lost || tg_comm_gatherv(l->ranked ? l->comm : NULL, mine, bytes, all, sizes, 0,
					    what, &e) < 0) {
		if (!l->comm_lost)
			lost_ranks(l, &e);
		*all = NULL;
		return false;
	}
	return true;
}

static size_t *rank_sizes(const struct loop *l)
{
	return calloc((size_t)tg_comm_size(l->ranked ? l->comm : NULL), sizeof(size_t));
}

/* The agreement accumulators of every rank merged in rank order into a
 * (rank 0's answer is the whole batch's). */
static void merge_agreement(struct loop *l, struct tg_agreement_acc *a, const char *what)
{
	if (!l->ranked)
		return;
	size_t *sizes = rank_sizes(l);
	void *all = NULL;
	if (sizes && gather_to_root(l, a, sizeof(*a), &all, sizes, what) && all) {
		const struct tg_agreement_acc *each = all;
		tg_agreement_acc_init(a);
		for (int r = 0; r < l->comm->size; r++)
			tg_agreement_acc_merge(a, &each[r], share_first(l, r));
	}
	free(all);
	free(sizes);
}

/* The accuracy accumulators of every rank (each with its flips after it)
 * merged in rank order into a on rank 0. */
static void merge_accuracy(struct loop *l, struct tg_accuracy_acc *a, const char *what)
{
	if (!l->ranked)
		return;
	const size_t head = sizeof(*a), flip = sizeof(struct tg_flip);
	const size_t bytes = head + (size_t)a->n_flips * flip;
	char *mine = malloc(bytes);
	size_t *sizes = rank_sizes(l);
	if (!mine || !sizes) { /* the others would wait for this rank's share */
		struct tg_error e;
		TG_ERR(&e, TG_E_NOMEM, "run: out of memory merging %s: stopping the job", what);
		lost_ranks(l, &e);
		free(mine);
		free(sizes);
		return;
	}
	memcpy(mine, a, head);
	if (a->n_flips)
		memcpy(mine + head, a->flips, (size_t)a->n_flips * flip);
	void *all = NULL;
	if (gather_to_root(l, mine, bytes, &all, sizes, what) && all) {
		const struct tg_atc_params *p = &l->o->params;
		tg_accuracy_acc_fini(a);
		tg_accuracy_acc_init(a, p);
		const char *at = all;
		for (int r = 0; r < l->comm->size; r++) {
			struct tg_accuracy_acc b;
			memcpy(&b, at, head);
			const int64_t n = (int64_t)((sizes[r] - head) / flip);
			struct tg_flip *flips = malloc((size_t)(n > 0 ? n : 1) * flip);
			if (flips) {
				memcpy(flips, at + head, (size_t)n * flip);
				tg_accuracy_acc_merge(a, &b, flips, n, share_first(l, r));
			}
			free(flips);
			at += sizes[r];
		}
	}
	free(all);
	free(mine);
	free(sizes);
}

/* FNV-1a, 64 bits */
static uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ull;
	}
	return h;
}
#define FNV_BASIS 0xcbf29ce484222325ull

/* Average_Signal of backend `name` in `mode` (cur) against the reference
 * of that mode; the first backend to run a mode becomes its reference. */
static void agree(struct loop *l, const char *name, int mode, const double *cur,
		  const struct tg_batch *batch)
{
	double *ref = l->ref_avg + (size_t)mode * l->cells;
	if (!l->reference[mode]) {
		memcpy(ref, cur, l->cells * sizeof(double));
		l->reference[mode] = name;
		int32_t s, bar;
		const int64_t bad = tg_nonfinite_average(batch, cur, &s, &bar);
		if (bad > 0)
			tg_warn("run: %s %s: Average_Signal is not a number at %lld bars with a price "
				"(the first: %s bar %d): those prices overflow the pipeline",
				name, tg_ma_mode_name(mode), (long long)bad,
				l->ds->names && l->ds->names[s] ? l->ds->names[s] : "?", bar);
		return;
	}
	struct tg_agreement_acc acc;
	tg_agreement_acc_init(&acc);
	tg_agreement_acc_add(&acc, batch, ref, cur);
	char what[96];
	snprintf(what, sizeof(what), "the agreement of %s %s", name, tg_ma_mode_name(mode));
	merge_agreement(l, &acc, what);
	struct tg_agreement *g = tg_comm_rank(l->comm) == 0 ? tg_results_add_agreement(l->r) : NULL;
	if (!g)
		return;
	tg_agreement_acc_finish(&acc, g);
	tg_strlcpy(g->reference, l->reference[mode], sizeof(g->reference));
	tg_strlcpy(g->backend, name, sizeof(g->backend));
	tg_strlcpy(g->ma_mode, tg_ma_mode_name(mode), sizeof(g->ma_mode));
	const struct tg_dataset *w = l->whole;
	if (g->worst_symbol >= 0 && g->worst_symbol < w->n_symbols && w->names &&
	    w->names[g->worst_symbol])
		tg_strlcpy(g->worst_name, w->names[g->worst_symbol], sizeof(g->worst_name));
}

/* ---- the host roof --------------------------------------------------------------- */

/* Where the host's copy bandwidth is kept between runs: $TG_CACHE_DIR, or
 * $XDG_CACHE_HOME/trendgpu-bench, or ~/.cache/trendgpu-bench. */
static bool cache_path(int threads, char *path, size_t cap)
{
	const char *dir = getenv("TG_CACHE_DIR"), *xdg = getenv("XDG_CACHE_HOME"),
		   *home = getenv("HOME");
	char base[900];
	if (dir && *dir)
		snprintf(base, sizeof(base), "%s", dir);
	else if (xdg && *xdg)
		snprintf(base, sizeof(base), "%s/trendgpu-bench", xdg);
	else if (home && *home)
		snprintf(base, sizeof(base), "%s/.cache/trendgpu-bench", home);
	else
		return false;
	if (tg_make_dirs(base) != 0)
		return false;
	snprintf(path, cap, "%s/host-copy-%d-threads.txt", base, threads);
	return true;
}

/* The key of this machine in the cache: a value measured elsewhere (a
 * shared home) is not this machine's roof. */
static void machine_key(const struct tg_run_results *r, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s|%s|%d", r->machine.hostname, r->machine.cpu_model,
		 r->machine.logical_cpus);
}

/* The host's copy bandwidth, the roof of the CPU backends' traffic:
 * measured once per machine (0.6 s and 512 MB of buffers) and kept in the
 * cache; --roofline measures it again. */
static void host_roof(const struct tg_run_opts *o, struct tg_run_results *r)
{
	const int threads = o->threads > 0 ? o->threads : tg_machine_cpu_count();
	char path[1024], key[400];
	machine_key(r, key, sizeof(key));
	const bool cached = cache_path(threads, path, sizeof(path));
	if (cached && !o->fresh_roofs) {
		FILE *f = fopen(path, "r");
		char line[600];
		bool ok = false;
		if (f) {
			double v = 0;
			if (fgets(line, sizeof(line), f) && strncmp(line, key, strlen(key)) == 0 &&
			    line[strlen(key)] == '\n' && fgets(line, sizeof(line), f) &&
			    sscanf(line, "%lf", &v) == 1 && v > 0 && fgets(line, sizeof(line), f)) {
				line[strcspn(line, "\n")] = '\0';
				r->host_bw = v;
				snprintf(r->host_bw_what, sizeof(r->host_bw_what), "%s (cached)", line);
				ok = true;
			}
			fclose(f);
		}
		if (ok)
			return;
	}
	struct tg_error bw_err;
	if (tg_host_copy_bandwidth(threads, (size_t)256 << 20, &r->host_bw, r->host_bw_what,
				   sizeof(r->host_bw_what), &bw_err) < 0) {
		tg_warn("run: host copy benchmark failed: %s", bw_err.msg);
		return;
	}
	/* written whole, then renamed: a run beside this one reads the old
	 * value or the new one, never half of one */
	char tmp[1100];
	snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid());
	FILE *f = cached ? fopen(tmp, "w") : NULL;
	if (f) {
		fprintf(f, "%s\n%.17g\n%s\n", key, r->host_bw, r->host_bw_what);
		if (fclose(f) != 0 || rename(tmp, path) != 0)
			unlink(tmp);
	}
}

/* ---- opening ---------------------------------------------------------------- */

/* Backend index: probe, open, buffers, its states added; or unavailable
 * states. Every state is added here, before any is measured (the results
 * array does not move after). */
static void open_backend(struct loop *l, int index)
{
	const struct tg_run_backend *rb = &l->o->backends[index];
	const struct tg_backend_ops *ops = rb->ops;
	set_tag(l, 0, true);
	char why[256];
	if (!ops) {
		snprintf(why, sizeof(why), "not built into this binary (configure with TG_WITH_%s=ON)",
			 strcmp(rb->name, "cuda") == 0 ? "CUDA" : "RUST");
		mark_unavailable(l, rb->name, why);
		return;
	}
	if (ops->probe(why, sizeof(why)) < 0) {
		mark_unavailable(l, rb->name, why);
		return;
	}
	struct opened *b = &l->b[l->n_b];
	memset(b, 0, sizeof(*b));
	b->index = index;
	b->ops = ops;
	const struct tg_thread_hooks *profile_hooks =
		l->env ? tg_session_hooks(l->env->session, 1 + index) : NULL;
	struct tg_backend_config cfg = {.threads = l->o->threads, .device = l->o->device,
					.hooks = profile_hooks};
	b->pin = (struct pin_hooks){.inner = profile_hooks, .pinner = l->pinner,
				    .first = l->o->pin_first};
	if (l->pinner) {
		b->pin.hooks = (struct tg_thread_hooks){pin_start, pin_stop, &b->pin};
		cfg.hooks = &b->pin.hooks;
	}
	set_tag(l, 1 + index, true);
	struct tg_error e;
	tg_error_clear(&e);
	if (ops->open(&cfg, &b->state, &e) < 0) {
		mark_unavailable(l, rb->name, e.msg);
		set_tag(l, 0, true);
		return;
	}
	place(l, ops, b->state, b->placement, sizeof(b->placement));
	if (ops->describe)
		ops->describe(b->device, sizeof(b->device));
	struct tg_run_results *r = l->r;
	if (l->o->roofs && ops->copy_bandwidth && r->device_bw == 0 &&
	    ops->copy_bandwidth(b->state, &r->device_bw, r->device_bw_what,
				sizeof(r->device_bw_what), &e) < 0)
		tg_warn("run: %s copy benchmark failed: %s", ops->name, e.msg);
	/* this backend's copy of the prices and its outputs, in the memory it
	 * moves fastest (outside the timed region) */
	b->close = backend_alloc(ops, b->state, l->cells * sizeof(double));
	b->avg = backend_alloc(ops, b->state, TG_RUN_MAX_MODES * l->cells * sizeof(double));
	b->final_sig = backend_alloc(ops, b->state, TG_RUN_MAX_MODES * (size_t)l->ds->n_symbols);
	if (!b->close || !b->avg || !b->final_sig) {
		snprintf(why, sizeof(why), "out of host memory for %d x %d bars", l->ds->n_symbols,
			 l->ds->stride);
		struct tg_error nomem;
		TG_ERR(&nomem, TG_E_NOMEM, "run: backend %s: %s", ops->name, why);
		backend_free(ops, b->state, b->close);
		backend_free(ops, b->state, b->avg);
		backend_free(ops, b->state, b->final_sig);
		ops->close(b->state);
		mark_unavailable(l, rb->name, why);
		note_failure(l, &nomem);
		set_tag(l, 0, true);
		return;
	}
	memcpy(b->close, l->ds->close, l->cells * sizeof(double));
	b->batch = tg_data_batch(l->ds);
	b->batch.close = b->close;
	for (int k = 0; k < TG_RUN_MAX_MODES; k++)
		b->slot[k] = -1;
	for (int k = 0; k < l->o->n_modes; k++) {
		const int mode = l->o->modes[k];
		struct tg_state_result *st = tg_results_add_state(r);
		if (!st) {
			struct tg_error nomem;
			TG_ERR(&nomem, TG_E_NOMEM, "run: out of memory");
			note_failure(l, &nomem);
			break;
		}
		tg_strlcpy(st->backend, ops->name, sizeof(st->backend));
		tg_strlcpy(st->ma_mode, tg_ma_mode_name(mode), sizeof(st->ma_mode));
		tg_strlcpy(st->device, b->device, sizeof(st->device));
		tg_strlcpy(st->placement, b->placement[0] ? b->placement : "unpinned",
			   sizeof(st->placement));
		/* compulsory traffic: the prices in, Average_Signal and the final signal out */
		st->bytes_moved = 2.0 * (double)l->cells * sizeof(double) + (double)l->ds->n_symbols;
		struct slot *sl = &l->s[l->n_s];
		memset(sl, 0, sizeof(*sl));
		sl->l = l;
		sl->b = b;
		sl->mode = mode;
		sl->state = r->n_states - 1;
		b->slot[mode] = l->n_s++;
	}
	l->n_b++;
	set_tag(l, 0, true);
}

static void close_backend(struct loop *l, struct opened *b)
{
	backend_free(b->ops, b->state, b->close);
	backend_free(b->ops, b->state, b->avg);
	backend_free(b->ops, b->state, b->final_sig);
	b->ops->close(b->state);
	(void)l;
}

/* Ranks: backend `index` runs on all or on none. Opened here but not on
 * some rank: closed again, its states unavailable with that rank's
 * reason. */
static void agree_backend(struct loop *l, int index)
{
	if (!l->ranked)
		return;
	const bool here = l->n_b > 0 && l->b[l->n_b - 1].index == index;
	char msg[256], what[64];
	tg_strlcpy(msg, here ? "" : l->why, sizeof(msg));
	snprintf(what, sizeof(what), "opening backend %s", l->o->backends[index].name);
	int who;
	if (!any_rank_failed(l, !here, msg, sizeof(msg), &who, what) || !here)
		return;
	struct opened *b = &l->b[--l->n_b];
	char why[300];
	snprintf(why, sizeof(why), "on rank %d: %s", who, who >= 0 ? msg : "the ranks lost each other");
	for (int k = 0; k < TG_RUN_MAX_MODES; k++) {
		if (b->slot[k] < 0)
			continue;
		struct tg_state_result *st = &l->r->states[l->s[b->slot[k]].state];
		st->available = false;
		tg_strlcpy(st->error, why, sizeof(st->error));
		l->n_s--; /* its slots were the last added */
	}
	close_backend(l, b);
	tg_warn("run: backend %s skipped: %s", l->o->backends[index].name, why);
}

/* ---- measuring ------------------------------------------------------------------ */

static struct tg_state_result *state_of(struct loop *l, const struct slot *sl)
{
	return &l->r->states[sl->state];
}

static void slot_failed(struct loop *l, struct slot *sl, const struct tg_error *e)
{
	struct tg_state_result *st = state_of(l, sl);
	tg_strlcpy(st->error, e->msg, sizeof(st->error));
	sl->failed = true;
	sl->active = false;
	if (e->code != TG_E_INTERRUPTED)
		note_failure(l, e);
}

/* The tag a slot's runs are sampled under; the main thread is sampled only
 * while it computes itself (a backend without worker threads). */
static void tag_for(struct loop *l, const struct slot *sl)
{
	set_tag(l, 1 + sl->b->index, sl->b->ops->threads(sl->b->state) == 0);
}

/* TG_INJECT_SLOWDOWN=BACKEND:PCT[,BACKEND:PCT]: how much slower a
 * backend's runs are made on purpose (0: not at all), to check that the
 * regression verdicts catch it. */
static double injected_slowdown(const char *backend)
{
	const char *env = getenv("TG_INJECT_SLOWDOWN");
	const size_t n = strlen(backend);
	for (const char *p = env; p && *p;) {
		if (strncmp(p, backend, n) == 0 && p[n] == ':') {
			const double pct = strtod(p + n + 1, NULL);
			return pct > 0 && pct < 10000 ? pct / 100.0 : 0;
		}
		p = strchr(p, ',');
		p = p ? p + 1 : NULL;
	}
	return 0;
}

/* TG_INJECT_RANK_FAIL=R / TG_INJECT_RANK_STALL=R: rank R's timed runs
 * fail, or it stops answering before its first one (testing that the
 * others report it and do not hang). */
static bool injected_for_rank(const char *name, int rank)
{
	const char *v = getenv(name);
	long r = -1;
	return v && *v && tg_parse_int(v, 0, 1 << 30, &r) && r == rank;
}

/* Ranks: a repetition's time is the slowest rank's; a run that failed on
 * any rank fails on all, and a stop signal seen by any is seen by all. */
static int combine_rep(void *ctx, int rc, double *wall_ns, struct tg_error *err)
{
	struct slot *sl = ctx;
	struct loop *l = sl->l;
	const int me = tg_comm_rank(l->comm);
	if (rc == 0 && l->inject_fail)
		rc = TG_ERR(err, TG_E_IO, "%s: rank %d: injected failure (TG_INJECT_RANK_FAIL)",
			    sl->m.label, me);
	if (l->inject_stall) {
		tg_log(TG_LOG_ERROR, "rank %d stalls on purpose (TG_INJECT_RANK_STALL)", me);
		for (;;)
			pause();
	}
	double v[3] = {rc < 0 ? (double)(me + 1) : 0, (double)local_stop(l), *wall_ns};
	char what[96];
	snprintf(what, sizeof(what), "repetition %d of %s", sl->m.done + 1, sl->m.label);
	struct tg_error e;
	if (tg_comm_allreduce(l->comm, v, 3, TG_COMM_MAX, what, &e) < 0) {
		lost_ranks(l, &e);
		if (rc == 0)
			*err = e;
		return rc < 0 ? rc : e.code;
	}
	if (v[1] > 0 && !l->stop_all)
		l->stop_all = (int)v[1];
	if (v[0] == 0) {
		*wall_ns = v[2];
		return 0;
	}
	/* the failing rank (the highest, when several) tells the others why */
	const int who = (int)v[0] - 1;
	char why[256] = "";
	if (who == me)
		tg_strlcpy(why, err->msg, sizeof(why));
	if (tg_comm_bcast(l->comm, why, sizeof(why), who, what, &e) < 0) {
		lost_ranks(l, &e);
		tg_strlcpy(why, "(its error is in that rank's log)", sizeof(why));
	}
	why[sizeof(why) - 1] = '\0';
	if (rc < 0)
		return rc;
	return TG_ERR(err, TG_E_IO, "%s failed on rank %d: %s", sl->m.label, who, why);
}

/* Each state's warm-up, one state after the other. */
static void warm_up(struct loop *l, struct slot *sl)
{
	struct tg_state_result *st = state_of(l, sl);
	struct tg_atc_params p = l->o->params;
	p.ma_mode = sl->mode;
	struct tg_atc_outputs out;
	memset(&out, 0, sizeof(out));
	out.average = sl->b->avg + (size_t)sl->mode * l->cells;
	out.final_signal = sl->b->final_sig + (size_t)sl->mode * (size_t)l->ds->n_symbols;
	char label[48];
	snprintf(label, sizeof(label), "%s %s", sl->b->ops->name, tg_ma_mode_name(sl->mode));
	struct tg_stop_rule rule = l->o->rule;
	rule.fixed = l->o->reps;
	struct tg_error e;
	tg_error_clear(&e);
	if (tg_measure_init(&sl->m, sl->b->ops, sl->b->state, &p, &sl->b->batch, &out, &rule, label,
			    st, &e) < 0) {
		slot_failed(l, sl, &e);
		return;
	}
	sl->m.clock_ns = l->clock_ns;
	sl->m.slowdown = injected_slowdown(sl->b->ops->name);
	if (l->ranked) {
		sl->m.combine = combine_rep;
		sl->m.combine_ctx = sl;
	}
	tag_for(l, sl);
	if (l->env && l->env->progress)
		l->env->progress(l->env->progress_ctx, label, 0, l->o->reps);
	const uint64_t t0 = l->clock_ns();
	if (tg_measure_warmup(&sl->m, l->o->warmup, l->env ? l->env->stop : NULL, &e) < 0) {
		if (e.code == TG_E_INTERRUPTED)
			st->stop_reason = "interrupted";
		slot_failed(l, sl, &e);
		tg_measure_abandon(&sl->m);
		set_tag(l, 0, true);
		return;
	}
	sl->spent_s = (double)(l->clock_ns() - t0) * 1e-9;
	sl->active = true;
	set_tag(l, 0, true);
}

/* Ranks: a state whose warm-up failed on any rank fails on all, and
 * every rank's share of the time is the slowest rank's (the budgets and
 * the stopping rule then decide alike everywhere). */
static void agree_warmups(struct loop *l)
{
	if (!l->ranked)
		return;
	for (int i = 0; i < l->n_s; i++) {
		struct slot *sl = &l->s[i];
		struct tg_state_result *st = state_of(l, sl);
		char msg[256], what[96];
		tg_strlcpy(msg, sl->failed ? st->error : "", sizeof(msg));
		snprintf(what, sizeof(what), "the warm-up of %s %s", sl->b->ops->name,
			 tg_ma_mode_name(sl->mode));
		int who;
		if (!any_rank_failed(l, sl->failed, msg, sizeof(msg), &who, what) || sl->failed)
			continue;
		struct tg_error e;
		TG_ERR(&e, TG_E_IO, "%s %s: on rank %d: %s", sl->b->ops->name,
		       tg_ma_mode_name(sl->mode), who, who >= 0 ? msg : "the ranks lost each other");
		if (sl->active)
			tg_measure_abandon(&sl->m);
		slot_failed(l, sl, &e);
	}
	double spent[TG_RUN_MAX_BACKENDS * TG_RUN_MAX_MODES];
	for (int i = 0; i < l->n_s; i++)
		spent[i] = l->s[i].spent_s;
	struct tg_error e;
	if (!l->comm_lost &&
	    tg_comm_allreduce(l->comm, spent, l->n_s, TG_COMM_MAX, "the warm-ups' times", &e) < 0)
		lost_ranks(l, &e);
	for (int i = 0; i < l->n_s; i++)
		l->s[i].spent_s = spent[i];
	sync_stop(l, "the end of the warm-ups");
}

/* --max-time auto: one budget for every state, enough for min_samples
 * repetitions (and min_time) of the slowest, projected from the warm-ups
 * with a quarter to spare; the fixed budget at least. */
static void plan_budgets(struct loop *l)
{
	const struct tg_stop_rule *rule = &l->o->rule;
	double budget = rule->timeout_s;
	for (int i = 0; i < l->n_s; i++) {
		const struct slot *sl = &l->s[i];
		if (!sl->active)
			continue;
		const double per = sl->spent_s / (l->o->warmup > 0 ? l->o->warmup : 1);
		double need = per * rule->min_samples;
		if (need < rule->min_time_s)
			need = rule->min_time_s;
		need = sl->spent_s + 1.25 * need;
		if (need > budget)
			budget = need;
	}
	for (int i = 0; i < l->n_s; i++)
		if (l->s[i].active)
			l->s[i].m.stop.r.timeout_s = budget;
	if (budget > rule->timeout_s)
		tg_log(TG_LOG_INFO, "run: --max-time auto: %.3g s per state for %d repetitions of the "
				    "slowest",
		       budget, rule->min_samples);
}

/* The robust noise of the paired log ratios of two states' repetitions
 * (1.4826 MAD / sqrt n), over the rounds both ran; +inf when too few. */
static double pair_noise(const struct tg_measure *a, const struct tg_measure *b)
{
	const int n = a->done < b->done ? a->done : b->done;
	if (n < 4)
		return INFINITY;
	double *d = malloc((size_t)n * sizeof(double));
	if (!d)
		return INFINITY;
	for (int i = 0; i < n; i++)
		d[i] = log(a->wall[i] / b->wall[i]);
	struct tg_stats st;
	double noise = INFINITY;
	if (tg_stats_compute(d, n, &st, NULL) == 0)
		noise = 1.4826 * st.mad / sqrt((double)n);
	free(d);
	return noise;
}

/* The ratios the user reads have settled: approx against exact per
 * backend, every backend against the first in each mode (the fastest is
 * known only at the end; every pair with the first bounds them). */
static bool ratios_settled(const struct loop *l)
{
	const double target = l->o->rule.max_noise;
	for (int i = 0; i < l->n_s; i++) {
		const struct slot *a = &l->s[i];
		if (!a->active)
			continue;
		for (int j = 0; j < i; j++) {
			const struct slot *b = &l->s[j];
			const bool same_backend = a->b == b->b, same_mode = a->mode == b->mode;
			if (b->active && (same_backend || same_mode) && pair_noise(&a->m, &b->m) > target)
				return false;
		}
	}
	return true;
}

/* Whether every state is done by its rule (and, when the rule stopped on
 * noise, the ratios too). */
static bool all_done(const struct loop *l)
{
	/* a budget or a count: no more for anyone (a slow state's budget
	 * holds even while a fast one goes on) */
	for (int i = 0; i < l->n_s; i++) {
		const struct slot *sl = &l->s[i];
		if (sl->active && (sl->m.reason == TG_STOP_TIMEOUT || sl->m.reason == TG_STOP_MAX ||
				   sl->m.reason == TG_STOP_COUNT))
			return true;
	}
	bool on_noise = false;
	for (int i = 0; i < l->n_s; i++) {
		const struct slot *sl = &l->s[i];
		if (!sl->active)
			continue;
		if (sl->m.reason == TG_STOP_CONTINUE)
			return false;
		on_noise = true;
	}
	return !on_noise || ratios_settled(l);
}

/* Rounds of one repetition of every state, in an order rotated each round
 * (A B C, B C A, C A B, ...), so that the machine's drift lands on every
 * state alike. */
static void measure_rounds(struct loop *l)
{
	int order[TG_RUN_MAX_BACKENDS * TG_RUN_MAX_MODES], n = 0;
	for (int i = 0; i < l->n_s; i++)
		if (l->s[i].active)
			order[n++] = i;
	if (n == 0)
		return;
	const uint64_t start = l->clock_ns();
	for (int round = 0; !stopped(l) && !all_done(l); round++) {
		bool any = false;
		for (int k = 0; k < n && !stopped(l); k++) {
			struct slot *sl = &l->s[order[(k + round) % n]];
			if (!sl->active)
				continue;
			any = true;
			tag_for(l, sl);
			if (l->env && l->env->progress)
				l->env->progress(l->env->progress_ctx, sl->m.label, sl->m.done, l->o->reps);
			struct tg_error e;
			tg_error_clear(&e);
			/* ranks: every one starts the repetition together */
			if (l->ranked) {
				char what[96];
				snprintf(what, sizeof(what), "the start of repetition %d of %s",
					 sl->m.done + 1, sl->m.label);
				if (tg_comm_barrier(l->comm, what, &e) < 0) {
					lost_ranks(l, &e);
					break;
				}
			}
			const uint64_t t0 = l->clock_ns();
			/* its share of the time: what it took, not what the others did */
			const double since = (double)(t0 - start) * 1e-9;
			if (tg_measure_rep(&sl->m, round, since, sl->spent_s, &e) < 0) {
				slot_failed(l, sl, &e);
				continue;
			}
			/* ranks: the slowest rank's time, alike on every rank */
			sl->spent_s += l->ranked ? sl->m.wall[sl->m.done - 1] * 1e-9
						 : (double)(l->clock_ns() - t0) * 1e-9;
		}
		set_tag(l, 0, true);
		l->rounds = round + 1;
		if (round == 0)
			tg_info("run: the first round of %d states is done; measuring in rounds", n);
		if (!any)
			break;
	}
}

/* The statistics of every state; its stop reason. */
static void finish_slots(struct loop *l)
{
	for (int i = 0; i < l->n_s; i++) {
		struct slot *sl = &l->s[i];
		struct tg_state_result *st = state_of(l, sl);
		if (!sl->m.ops) { /* failed, or stopped, before measuring */
			if (!st->error[0] && stopped(l)) {
				st->stop_reason = "interrupted";
				tg_strlcpy(st->error, "stopped before its warm-up", sizeof(st->error));
			}
			continue;
		}
		/* still going when another state's budget ended the rounds: the
		 * run's time was up for it too */
		const char *reason = sl->failed	     ? "failed"
				     : stopped(l)    ? "interrupted"
				     : sl->m.reason == TG_STOP_CONTINUE
					     ? tg_stop_reason_name(TG_STOP_TIMEOUT)
					     : tg_stop_reason_name(sl->m.reason);
		if (l->o->reps == 0)
			st->budget_s = sl->m.stop.r.timeout_s;
		tg_measure_finish(&sl->m, reason, sl->spent_s);
		if (st->n_samples == 0 && !st->error[0])
			tg_strlcpy(st->error,
				   stopped(l) ? "stopped after its warm-up, before a timed repetition"
					      : "no timed repetition",
				   sizeof(st->error));
		/* a state that failed is lost (its samples stay in the results) */
		st->available = !sl->failed && st->n_samples > 0;
	}
}

/* ---- paired ratios -------------------------------------------------------------- */

/* a against b over the rounds both ran: b's times over a's, pair by pair. */
static void add_ratio(struct loop *l, const char *kind, const struct tg_state_result *a,
		      const struct tg_state_result *b)
{
	if (!a->sample_round || !b->sample_round)
		return;
	const int cap = a->n_samples < b->n_samples ? a->n_samples : b->n_samples;
	double *ta = malloc(((size_t)cap + 1) * sizeof(double));
	double *tb = malloc(((size_t)cap + 1) * sizeof(double));
	int n = 0;
	for (int i = 0, j = 0; ta && tb && i < a->n_samples && j < b->n_samples;) {
		if (a->sample_round[i] < b->sample_round[j]) {
			i++;
		} else if (a->sample_round[i] > b->sample_round[j]) {
			j++;
		} else {
			ta[n] = a->samples_ns[i++];
			tb[n++] = b->samples_ns[j++];
		}
	}
	struct tg_ratio *x = n >= 3 ? tg_results_add_ratio(l->r) : NULL;
	if (x) {
		tg_strlcpy(x->kind, kind, sizeof(x->kind));
		tg_strlcpy(x->a_backend, a->backend, sizeof(x->a_backend));
		tg_strlcpy(x->a_ma, a->ma_mode, sizeof(x->a_ma));
		tg_strlcpy(x->b_backend, b->backend, sizeof(x->b_backend));
		tg_strlcpy(x->b_ma, b->ma_mode, sizeof(x->b_ma));
		x->pairs = n;
		if (tg_paired_ratio(tb, ta, n, 0.95, 2000, 0x7261746fu, &x->speedup, &x->ci_lo,
				    &x->ci_hi, NULL) < 0)
			l->r->n_ratios--;
	}
	free(ta);
	free(tb);
}

/* Every backend against the fastest of its MA mode; approx against exact
 * for every backend that ran both. */
static void paired_ratios(struct loop *l)
{
	struct tg_run_results *r = l->r;
	for (int k = 0; k < l->o->n_modes; k++) {
		const char *mode = tg_ma_mode_name(l->o->modes[k]);
		const struct tg_state_result *fastest = NULL;
		for (int i = 0; i < r->n_states; i++) {
			const struct tg_state_result *st = &r->states[i];
			if (st->available && strcmp(st->ma_mode, mode) == 0 &&
			    (!fastest || st->wall.median < fastest->wall.median))
				fastest = st;
		}
		for (int i = 0; fastest && i < r->n_states; i++) {
			const struct tg_state_result *st = &r->states[i];
			if (st != fastest && st->available && strcmp(st->ma_mode, mode) == 0)
				add_ratio(l, "mode", fastest, st);
		}
	}
	for (int i = 0; i < r->n_states; i++) {
		const struct tg_state_result *ap = &r->states[i];
		const struct tg_state_result *ex = tg_results_find_state(r, ap->backend, "exact");
		if (ap->available && strcmp(ap->ma_mode, "approx") == 0 && ex && ex->available)
			add_ratio(l, "approx", ap, ex);
	}
}

/* Each symbol's last Average_Signal and final signal, and the digest of
 * every bar's, as the state's last run left them (run --signals;
 * results.json); ranks: every rank's symbols, in order, on rank 0. */
static void keep_signals(struct loop *l, const struct opened *b, int mode,
			 struct tg_state_result *st)
{
	const int32_t n = l->ds->n_symbols;
	double *last = malloc((size_t)(n > 0 ? n : 1) * sizeof(double));
	int8_t *fin = malloc((size_t)(n > 0 ? n : 1));
	uint64_t *dig = malloc((size_t)(n > 0 ? n : 1) * sizeof(uint64_t));
	if (!last || !fin || !dig) {
		struct tg_error e;
		TG_ERR(&e, TG_E_NOMEM, "run: out of memory for the signals of %s %s", st->backend,
		       st->ma_mode);
		if (l->ranked) /* the others would wait for this rank's share: the job stops */
			lost_ranks(l, &e);
		else
			tg_log_error(&e);
		free(last);
		free(fin);
		free(dig);
		return;
	}
	const double *avg = b->avg + (size_t)mode * l->cells;
	const int8_t *f = b->final_sig + (size_t)mode * (size_t)n;
	for (int32_t s = 0; s < n; s++) {
		const int32_t bars = tg_batch_bars(&b->batch, s);
		const double *row = avg + (size_t)s * (size_t)l->ds->stride;
		last[s] = bars > 0 ? row[bars - 1] : NAN;
		fin[s] = f[s];
		dig[s] = fnv1a(FNV_BASIS, row, (size_t)bars * sizeof(double));
	}
	char what[96];
	snprintf(what, sizeof(what), "the signals of %s %s", st->backend, st->ma_mode);
	size_t *sizes = rank_sizes(l);
	void *all_last = NULL, *all_fin = NULL, *all_dig = NULL;
	const bool ok = sizes &&
			gather_to_root(l, last, (size_t)n * sizeof(double), &all_last, sizes, what) &&
			gather_to_root(l, fin, (size_t)n, &all_fin, sizes, what) &&
			gather_to_root(l, dig, (size_t)n * sizeof(uint64_t), &all_dig, sizes, what);
	free(last);
	free(fin);
	free(dig);
	free(sizes);
	if (!ok || !all_last || !all_fin || !all_dig) { /* not rank 0, or lost */
		free(all_last);
		free(all_fin);
		free(all_dig);
		return;
	}
	const int32_t total = l->whole->n_symbols;
	uint64_t h = FNV_BASIS;
	const uint64_t *d = all_dig;
	for (int32_t s = 0; s < total; s++)
		h = fnv1a(h, &d[s], sizeof(d[s]));
	free(all_dig);
	st->last_average = all_last;
	st->final_signal = all_fin;
	st->n_symbols = total;
	st->average_digest = h;
	st->has_digest = true;
}

/* Agreement and accuracy of one backend, after measuring. */
static void check_backend(struct loop *l, struct opened *b)
{
	bool ran[TG_RUN_MAX_MODES] = {false, false};
	for (int k = 0; k < l->o->n_modes; k++) {
		const int mode = l->o->modes[k];
		const int i = b->slot[mode];
		ran[mode] = i >= 0 && !l->s[i].failed && state_of(l, &l->s[i])->n_samples > 0 &&
			    !stopped(l);
	}
	for (int k = 0; k < l->o->n_modes && !stopped(l); k++) {
		const int mode = l->o->modes[k];
		if (ran[mode]) {
			agree(l, b->ops->name, mode, b->avg + (size_t)mode * l->cells, &b->batch);
			keep_signals(l, b, mode, state_of(l, &l->s[b->slot[mode]]));
		}
	}
	if (!ran[TG_MA_EXACT] || !ran[TG_MA_APPROX] || !l->o->accuracy || stopped(l))
		return;
	struct tg_accuracy_acc acc;
	tg_accuracy_acc_init(&acc, &l->o->params);
	struct tg_error e;
	tg_error_clear(&e);
	set_tag(l, 1 + b->index, b->ops->threads(b->state) == 0);
	const int rc = accuracy_pass(l, b->ops, b->state, &acc, &e);
	set_tag(l, 0, true);
	if (rc < 0 && e.code != TG_E_INTERRUPTED)
		note_failure(l, &e);
	/* ranks: kept only when it ran everywhere */
	char msg[256], what[96];
	tg_strlcpy(msg, rc < 0 ? e.msg : "", sizeof(msg));
	snprintf(what, sizeof(what), "the accuracy pass of %s", b->ops->name);
	int who;
	if (!any_rank_failed(l, rc < 0, msg, sizeof(msg), &who, what)) {
		merge_accuracy(l, &acc, what);
		struct tg_accuracy *a =
			tg_comm_rank(l->comm) == 0 && !l->comm_lost ? tg_results_add_accuracy(l->r) : NULL;
		if (a) {
			tg_accuracy_acc_finish(&acc, a);
			tg_strlcpy(a->backend, b->ops->name, sizeof(a->backend));
			for (int64_t k = 0; k < a->n_flips; k++) {
				struct tg_flip *x = &a->flips[k];
				char unnamed[32];
				tg_strlcpy(x->name, tg_data_symbol_name(l->whole, x->symbol, unnamed),
					   sizeof(x->name));
			}
		}
	} else if (rc == 0 && who >= 0) {
		tg_warn("run: the accuracy pass of %s failed on rank %d: %s", b->ops->name, who, msg);
	}
	tg_accuracy_acc_fini(&acc);
}

/* Ranks: each one's share and own times, gathered into r->ranks on rank
 * 0. */
static void gather_ranks(struct loop *l)
{
	if (!l->ranked || l->comm_lost)
		return;
	struct tg_rank_result mine;
	memset(&mine, 0, sizeof(mine));
	mine.rank = l->comm->rank;
	tg_strlcpy(mine.host, l->comm->host, sizeof(mine.host));
	mine.first_symbol = share_first(l, l->comm->rank);
	mine.symbols = l->ds->n_symbols;
	struct tg_data_shape sh;
	tg_data_shape(l->ds, &sh);
	mine.bars = (double)sh.total_bars;
	mine.n_states = l->r->n_states < TG_RESULTS_MAX_STATES ? l->r->n_states : TG_RESULTS_MAX_STATES;
	for (int i = 0; i < mine.n_states; i++)
		mine.median_ns[i] = l->r->states[i].own_median_ns;
	size_t *sizes = rank_sizes(l);
	void *all = NULL;
	if (sizes && gather_to_root(l, &mine, sizeof(mine), &all, sizes, "the ranks' times") && all) {
		l->r->ranks = all;
		l->r->n_rank_results = l->comm->size;
		all = NULL;
	}
	free(all);
	free(sizes);
}

int tg_run_bench(const struct tg_run_opts *o, const struct tg_dataset *ds,
		 const struct tg_run_env *env, struct tg_run_results *r, struct tg_error *err)
{
	struct loop *l = calloc(1, sizeof(*l));
	TG_FAIL_IF(!l, err, TG_E_NOMEM, "run: out of memory");
	*l = (struct loop){.o = o, .ds = ds, .env = env, .r = r, .err = err,
			   .clock_ns = env && env->clock_ns ? env->clock_ns : tg_clock_ns,
			   .comm = env ? env->comm : NULL, .whole = ds};
	l->ranked = tg_comm_size(l->comm) > 1;
	if (l->ranked && (!env->whole || !env->split)) {
		free(l);
		return TG_ERR(err, TG_E_INVAL, "run: split across ranks without the whole batch");
	}
	if (l->ranked) {
		l->whole = env->whole;
		l->inject_fail = injected_for_rank("TG_INJECT_RANK_FAIL", l->comm->rank);
		l->inject_stall = injected_for_rank("TG_INJECT_RANK_STALL", l->comm->rank);
	}
	int rc = 0;
	if (o->n_modes < 1 || o->n_modes > TG_RUN_MAX_MODES || o->n_backends < 0 ||
	    o->n_backends > TG_RUN_MAX_BACKENDS) {
		rc = TG_ERR(err, TG_E_INVAL, "run: %d backends, %d modes: expected 0..%d and 1..%d",
			    o->n_backends, o->n_modes, TG_RUN_MAX_BACKENDS, TG_RUN_MAX_MODES);
		free(l);
		return rc;
	}
	l->cells = (size_t)ds->n_symbols * (size_t)ds->stride;
	l->ref_avg = malloc(TG_RUN_MAX_MODES * l->cells * sizeof(double));
	if (!l->ref_avg) {
		rc = TG_ERR(err, TG_E_NOMEM, "run: out of memory for outputs of %d x %d bars",
			    ds->n_symbols, ds->stride);
		free(l);
		return rc;
	}
	if (o->pin && tg_pinner_new(&l->pinner, err) < 0) {
		rc = err ? err->code : TG_E_INVAL;
		free(l->ref_avg);
		free(l);
		return rc;
	}
	/* ranks on one host would measure one another: rank 0 alone */
	if (o->roofs && !stopped(l) && tg_comm_rank(l->comm) == 0)
		host_roof(o, r);
	for (int b = 0; b < o->n_backends && !stopped(l); b++) {
		open_backend(l, b);
		agree_backend(l, b);
	}
	for (int i = 0; i < l->n_s && !stopped(l); i++)
		warm_up(l, &l->s[i]);
	agree_warmups(l);
	if (o->auto_budget && o->reps == 0)
		plan_budgets(l);
	measure_rounds(l);
	finish_slots(l);
	r->rounds = l->rounds;
	paired_ratios(l);
	for (int b = 0; b < l->n_b; b++)
		check_backend(l, &l->b[b]);
	gather_ranks(l);
	for (int b = 0; b < l->n_b; b++)
		close_backend(l, &l->b[b]);
	if (l->pinner)
		tg_pin_restore(l->pinner);
	tg_pinner_free(l->pinner);
	free(l->ref_avg);
	rc = l->first_error;
	if (l->comm_lost) {
		r->complete = false;
		snprintf(r->incomplete_reason, sizeof(r->incomplete_reason),
			 "the ranks lost each other");
		rc = err ? err->code : TG_E_TIMEOUT;
	} else if (stopped(l)) {
		const int sig = l->ranked ? l->stop_all : (int)*env->stop;
		r->complete = false;
		snprintf(r->incomplete_reason, sizeof(r->incomplete_reason), "interrupted by %s",
			 sig == SIGTERM ? "SIGTERM" : sig == SIGHUP ? "SIGHUP" : "SIGINT");
		rc = TG_ERR(err, TG_E_INTERRUPTED, "run: interrupted; writing partial results");
	}
	free(l);
	return rc;
}
