/* host/run: the benchmark loop driven with fake backends (state order, a
 * backend failing in the middle, interruption, agreement down to one cell,
 * accuracy on a known case), option parsing, results.json written and read
 * back (and refused when it is not ours), the profiling session's settings
 * and summary, the run directory's raw capture. */
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tg_clock.h"
#include "tg_harness.h"
#include "tg_nvtx.h"
#include "tg_phase.h"
#include "tg_report.h"
#include "tg_run.h"
#include "tg_sink.h"
#include "tg_sampler.h"
#include "tg_test.h"
#include "tg_test_comm.h"
#include "tg_ranks.h"
#include <pthread.h>

static const char *tmpdir;

/* ---- fake backends ------------------------------------------------------------ */

/* What a fake backend does: how its outputs are made and when it fails. */
struct fake {
	const char *name;
	int runs;          /* calls of run so far */
	int fail_at;       /* run number (1-based) that fails; 0: never */
	int stop_at;       /* run number that raises the stop flag; 0: never */
	int bad_symbol, bad_bar; /* the cell of approx's Average_Signal that is off */
	double offset;     /* by this much (0: none) */
	int probe_fails;
	int opened, closed;
	double base_ns; /* > 0: each run takes this long on the virtual clock, drifting */
};

/* The virtual clock of the drift tests: every run of a fake advances it by
 * its duration, which grows with the clock itself (a machine slowing down
 * by `drift` per virtual second), with a small jitter. */
static uint64_t vclock;
static double drift;
static uint64_t jitter_state = 99;

static uint64_t vclock_now(void)
{
	return vclock;
}

static struct fake fakes[3];
static struct tg_dataset ds;
static volatile sig_atomic_t stop_flag;

/* Average_Signal of a bar whose close is p, in mode m: a pattern of the
 * prices (the loop hands a backend its own copy of them, and the accuracy
 * pass a few symbols at a time), the same in every fake, so two fakes agree
 * everywhere but in the cell one is told to spoil. */
static double pattern(double p, int m)
{
	return sin(7.0 * p) * (m ? 0.9 : 1.0);
}

static double close_at(int32_t s, int32_t i)
{
	return ds.close[(size_t)s * (size_t)ds.stride + (size_t)i];
}

static int fake_probe(struct fake *f, char *why, size_t cap)
{
	if (f->probe_fails) {
		snprintf(why, cap, "the fake says no");
		return TG_E_UNSUPPORTED;
	}
	return 0;
}

static int fake_open(struct fake *f, void **state)
{
	f->opened++;
	*state = f;
	return 0;
}

static int fake_run(void *state, const struct tg_atc_params *p, const struct tg_batch *b,
		    const struct tg_atc_outputs *out, struct tg_backend_timing *t,
		    struct tg_error *err)
{
	struct fake *f = state;
	memset(t, 0, sizeof(*t));
	f->runs++;
	if (f->base_ns > 0) {
		const double jitter = 1.0 + 0.004 * (tg_test_urand(&jitter_state) - 0.5);
		vclock += (uint64_t)(f->base_ns * (1.0 + drift * (double)vclock * 1e-9) * jitter);
	}
	if (f->stop_at && f->runs == f->stop_at)
		stop_flag = SIGINT;
	if (f->fail_at && f->runs == f->fail_at)
		return TG_ERR(err, TG_E_DEVICE, "%s: run %d failed on purpose", f->name, f->runs);
	const int m = p->ma_mode;
	for (int32_t s = 0; s < b->n_symbols; s++)
		for (int32_t i = 0; i < b->stride; i++) {
			const size_t cell = (size_t)s * (size_t)b->stride + (size_t)i;
			double v = pattern(b->close[cell], m);
			if (f->offset != 0 && m == TG_MA_APPROX && s == f->bad_symbol && i == f->bad_bar)
				v += f->offset;
			if (out->average)
				out->average[cell] = v;
			/* accuracy: approx MAs 1% above the exact ones; the Layer-1
			 * signal of family f flips sign in approx on bars i % 4 == f % 4 */
			for (int fam = 0; fam < TG_ATC_FAMILIES; fam++) {
				const size_t at = (size_t)fam * (size_t)b->n_symbols * (size_t)b->stride + cell;
				if (out->ma)
					out->ma[at] = 100.0 * (m ? 1.01 : 1.0);
				if (out->l1_signal)
					out->l1_signal[at] = (m && i % 4 == fam % 4) ? -1.0 : 1.0;
			}
			/* the exact MA of every slot (the accuracy pass asks for it) */
			for (int k = 0; out->slot_ma && k < TG_ATC_MAS; k++)
				out->slot_ma[(size_t)k * (size_t)b->n_symbols * (size_t)b->stride + cell] = 100.0;
		}
	if (out->final_signal)
		for (int32_t s = 0; s < b->n_symbols; s++)
			out->final_signal[s] = 1;
	return 0;
}

static int fake_threads(void *state)
{
	(void)state;
	return 1;
}

static void fake_close(void *state)
{
	((struct fake *)state)->closed++;
}

#define FAKE_OPS(k)                                                                         \
	static int probe##k(char *why, size_t cap) { return fake_probe(&fakes[k], why, cap); } \
	static int open##k(const struct tg_backend_config *cfg, void **state,                \
			   struct tg_error *err)                                              \
	{                                                                                   \
		(void)cfg;                                                                  \
		(void)err;                                                                  \
		return fake_open(&fakes[k], state);                                         \
	}                                                                                   \
	static const struct tg_backend_ops fake_ops##k = {                                  \
		.name = "fake" #k, .description = "a fake", .probe = probe##k,               \
		.open = open##k, .run = fake_run, .threads = fake_threads, .close = fake_close, \
	};
FAKE_OPS(0)
FAKE_OPS(1)
FAKE_OPS(2)

static const struct tg_backend_ops *const fake_ops[3] = {&fake_ops0, &fake_ops1, &fake_ops2};

static void reset_fakes(void)
{
	memset(fakes, 0, sizeof(fakes));
	for (int k = 0; k < 3; k++)
		fakes[k].name = fake_ops[k]->name;
	stop_flag = 0;
}

/* Options for n fakes (NULL names a backend this build does not have),
 * exact and approx, 3 fixed repetitions, no warm-up. */
static void fake_opts(struct tg_run_opts *o, const int *which, int n)
{
	tg_run_opts_default(o);
	o->n_backends = n;
	for (int i = 0; i < n; i++) {
		if (which[i] < 0) {
			snprintf(o->backends[i].name, sizeof(o->backends[i].name), "cuda");
			o->backends[i].ops = NULL;
		} else {
			snprintf(o->backends[i].name, sizeof(o->backends[i].name), "%s",
				 fake_ops[which[i]]->name);
			o->backends[i].ops = fake_ops[which[i]];
		}
	}
	o->reps = 3;
	o->warmup = 0;
	o->roofs = false;
	o->accuracy_chunk = 3; /* 5 symbols: two chunks */
}

static int setup_data(void **state)
{
	(void)state;
	struct tg_synth_opts so = {.symbols = 5, .bars = 40, .seed = 7};
	return tg_data_synthetic(&so, &ds, NULL);
}

static int free_data(void **state)
{
	(void)state;
	tg_data_free(&ds);
	return 0;
}

static int bench(const struct tg_run_opts *o, struct tg_run_results *r, struct tg_error *err)
{
	tg_results_init(r);
	const struct tg_run_env env = {.stop = &stop_flag};
	tg_error_clear(err);
	return tg_run_bench(o, &ds, &env, r, err);
}

static void expect_state(const struct tg_run_results *r, int i, const char *backend,
			 const char *ma, bool available, int n_samples)
{
	assert_true(i < r->n_states);
	assert_string_equal(r->states[i].backend, backend);
	assert_string_equal(r->states[i].ma_mode, ma);
	assert_int_equal(r->states[i].available, available);
	assert_int_equal(r->states[i].n_samples, n_samples);
}

static void test_state_order(void **state)
{
	(void)state;
	reset_fakes();
	fakes[2].probe_fails = 1;
	struct tg_run_opts o;
	const int which[] = {0, -1, 1, 2};
	fake_opts(&o, which, 4);
	struct tg_run_results r;
	struct tg_error err;
	assert_int_equal(bench(&o, &r, &err), 0);
	assert_true(r.complete);
	assert_int_equal(r.n_states, 8);
	expect_state(&r, 0, "fake0", "exact", true, 3);
	expect_state(&r, 1, "fake0", "approx", true, 3);
	expect_state(&r, 2, "cuda", "exact", false, 0);
	expect_state(&r, 3, "cuda", "approx", false, 0);
	assert_non_null(strstr(r.states[2].error, "not built into this binary"));
	expect_state(&r, 4, "fake1", "exact", true, 3);
	expect_state(&r, 5, "fake1", "approx", true, 3);
	expect_state(&r, 6, "fake2", "exact", false, 0);
	assert_string_equal(r.states[6].error, "the fake says no");
	assert_string_equal(r.states[0].stop_reason, "count");
	/* every backend that opened was closed, its accuracy measured */
	assert_int_equal(fakes[0].opened, 1);
	assert_int_equal(fakes[0].closed, 1);
	assert_int_equal(fakes[2].opened, 0);
	assert_int_equal(r.n_accuracy, 2);
	assert_string_equal(r.accuracy[0].backend, "fake0");
	assert_string_equal(r.accuracy[1].backend, "fake1");
	/* fake1 against fake0 in both modes, in full agreement */
	assert_int_equal(r.n_agreement, 2);
	assert_string_equal(r.agreement[0].reference, "fake0");
	assert_string_equal(r.agreement[0].backend, "fake1");
	assert_string_equal(r.agreement[0].ma_mode, "exact");
	assert_string_equal(r.agreement[1].ma_mode, "approx");
	assert_true(r.agreement[0].max_abs_diff == 0.0);
	assert_int_equal(r.agreement[0].worst_symbol, -1);
	assert_true(r.agreement[0].sign_agreement == 1.0);
	assert_int_equal(r.agreement[0].bars, 5 * 40);
	/* the two identical accuracy tables are reported once, naming both; a
	 * third that differs gets its own */
	char who[160];
	int nb = 0;
	assert_int_equal(tg_report_accuracy_label(&r, 0, who, sizeof(who), &nb), 1);
	assert_string_equal(who, "fake0 and fake1");
	assert_int_equal(nb, 2);
	assert_int_equal(tg_report_accuracy_label(&r, 1, who, sizeof(who), &nb), 0);
	struct tg_sink *mem = tg_sink_open_memory();
	assert_int_equal(tg_report_table(&r, mem, NULL), 0);
	size_t len;
	const char *text = tg_sink_memory_data(mem, &len);
	assert_non_null(strstr(text, "accuracy of approx vs exact (fake0 and fake1: identical)"));
	assert_null(strstr(text, "accuracy of approx vs exact (fake1)"));
	tg_sink_close(mem, NULL);
	r.accuracy[1].family[4].l1_sign_agreement += 0.01;
	assert_int_equal(tg_report_accuracy_label(&r, 0, who, sizeof(who), &nb), 1);
	assert_string_equal(who, "fake0");
	assert_int_equal(tg_report_accuracy_label(&r, 1, who, sizeof(who), &nb), 1);
	assert_string_equal(who, "fake1");
	/* one mode only: no accuracy pass */
	tg_results_fini(&r);
	reset_fakes();
	o.n_modes = 1;
	o.modes[0] = TG_MA_APPROX;
	assert_int_equal(bench(&o, &r, &err), 0);
	assert_int_equal(r.n_states, 4);
	expect_state(&r, 0, "fake0", "approx", true, 3);
	assert_int_equal(r.n_accuracy, 0);
	tg_results_fini(&r);
}

static void test_backend_fails_midway(void **state)
{
	(void)state;
	reset_fakes();
	/* fake0's 5th run fails: in the rotated rounds (f0e f0a f1e f1a, then
	 * f0a f1e f1a f0e, then f1e f1a f0e f0a) that is exact's 3rd
	 * repetition. That state is lost, approx and fake1 still run; the run
	 * reports the failure */
	fakes[0].fail_at = 5;
	struct tg_run_opts o;
	const int which[] = {0, 1};
	fake_opts(&o, which, 2);
	struct tg_run_results r;
	struct tg_error err;
	assert_int_equal(bench(&o, &r, &err), TG_E_DEVICE);
	assert_non_null(strstr(err.msg, "fake0: run 5 failed on purpose"));
	assert_true(r.complete);
	assert_int_equal(r.n_states, 4);
	expect_state(&r, 0, "fake0", "exact", false, 2);
	assert_string_equal(r.states[0].stop_reason, "failed");
	assert_non_null(strstr(r.states[0].error, "failed on purpose"));
	expect_state(&r, 1, "fake0", "approx", true, 3);
	expect_state(&r, 2, "fake1", "exact", true, 3);
	expect_state(&r, 3, "fake1", "approx", true, 3);
	/* fake1 is exact's reference now; approx still compares with fake0 */
	assert_int_equal(r.n_agreement, 1);
	assert_string_equal(r.agreement[0].ma_mode, "approx");
	assert_string_equal(r.agreement[0].reference, "fake0");
	assert_int_equal(r.n_accuracy, 1);
	assert_string_equal(r.accuracy[0].backend, "fake1");
	assert_int_equal(fakes[0].closed, 1);
	tg_results_fini(&r);
}

static void test_interrupted(void **state)
{
	(void)state;
	reset_fakes();
	/* the stop flag goes up during fake0's 5th run (round 2, exact): that
	 * run finishes, the loop ends there */
	fakes[0].stop_at = 5;
	struct tg_run_opts o;
	const int which[] = {0, 1};
	fake_opts(&o, which, 2);
	struct tg_run_results r;
	struct tg_error err;
	assert_int_equal(bench(&o, &r, &err), TG_E_INTERRUPTED);
	assert_false(r.complete);
	assert_string_equal(r.incomplete_reason, "interrupted by SIGINT");
	assert_int_equal(r.n_states, 4);
	expect_state(&r, 0, "fake0", "exact", true, 3);
	expect_state(&r, 1, "fake0", "approx", true, 2);
	expect_state(&r, 2, "fake1", "exact", true, 3);
	expect_state(&r, 3, "fake1", "approx", true, 3);
	for (int i = 0; i < 4; i++)
		assert_string_equal(r.states[i].stop_reason, "interrupted");
	assert_int_equal(r.rounds, 3);
	assert_int_equal(fakes[1].closed, 1);
	assert_int_equal(fakes[0].closed, 1);
	assert_int_equal(r.n_accuracy, 0);
	assert_int_equal(r.n_agreement, 0);
	tg_results_fini(&r);
	/* stopped during the last warm-up: every state warmed up, none timed,
	 * and each says so (it said "interrupted: " and nothing more) */
	reset_fakes();
	o.warmup = 1;
	fakes[1].stop_at = 2; /* fake1's approx warm-up */
	assert_int_equal(bench(&o, &r, &err), TG_E_INTERRUPTED);
	assert_int_equal(r.n_states, 4);
	for (int i = 0; i < 4; i++) {
		assert_string_equal(r.states[i].stop_reason, "interrupted");
		assert_int_equal(r.states[i].n_samples, 0);
		assert_string_equal(r.states[i].error,
				    "stopped after its warm-up, before a timed repetition");
	}
	struct tg_sink *t = tg_sink_open_memory();
	assert_int_equal(tg_report_table(&r, t, NULL), 0);
	assert_non_null(strstr(tg_sink_memory_data(t, NULL),
			       "interrupted: stopped after its warm-up, before a timed repetition"));
	tg_sink_close(t, NULL);
	tg_results_fini(&r);
	o.warmup = 0;
	/* SIGTERM says so */
	reset_fakes();
	stop_flag = SIGTERM;
	assert_int_equal(bench(&o, &r, &err), TG_E_INTERRUPTED);
	assert_string_equal(r.incomplete_reason, "interrupted by SIGTERM");
	assert_int_equal(r.n_states, 0);
	tg_results_fini(&r);
}

static void test_agreement_one_cell(void **state)
{
	(void)state;
	reset_fakes();
	/* fake1 is off by 1e-9 in one cell of approx's Average_Signal */
	fakes[1].offset = 1e-9;
	fakes[1].bad_symbol = 3;
	fakes[1].bad_bar = 17;
	struct tg_run_opts o;
	const int which[] = {0, 1};
	fake_opts(&o, which, 2);
	struct tg_run_results r;
	struct tg_error err;
	assert_int_equal(bench(&o, &r, &err), 0);
	assert_int_equal(r.n_agreement, 2);
	/* exact agrees everywhere */
	assert_true(r.agreement[0].max_abs_diff == 0.0);
	const struct tg_agreement *g = &r.agreement[1];
	assert_string_equal(g->ma_mode, "approx");
	const double want = pattern(close_at(3, 17), 1);
	const double delta = fabs((want + 1e-9) - want);
	assert_true(delta > 0.9e-9 && delta < 1.1e-9);
	assert_true(g->max_abs_diff == delta);
	assert_int_equal(g->worst_symbol, 3);
	assert_int_equal(g->worst_bar, 17);
	assert_string_equal(g->worst_name, ds.names[3]);
	assert_true(g->worst_reference == want);
	assert_true(g->worst_value == want + 1e-9);
	assert_true(g->sign_agreement == 1.0);
	assert_int_equal(g->bars, 200);
	/* the table and results.json name the cell */
	struct tg_sink *m = tg_sink_open_memory();
	assert_int_equal(tg_report_table(&r, m, NULL), 0);
	char line[256];
	snprintf(line, sizeof(line), "agreement fake1 vs fake0 (approx): max |delta| 1e-09 at %s bar 17",
		 ds.names[3]);
	if (!strstr(tg_sink_memory_data(m, NULL), line))
		fail_msg("the table lacks '%s':\n%s", line, tg_sink_memory_data(m, NULL));
	tg_sink_close(m, NULL);
	tg_results_fini(&r);
}

static void test_accuracy_known_case(void **state)
{
	(void)state;
	reset_fakes();
	struct tg_run_opts o;
	const int which[] = {0};
	fake_opts(&o, which, 1);
	struct tg_run_results r;
	struct tg_error err;
	assert_int_equal(bench(&o, &r, &err), 0);
	assert_int_equal(r.n_accuracy, 1);
	const struct tg_accuracy *a = &r.accuracy[0];
	assert_int_equal(a->bars, 200);
	for (int f = 0; f < TG_ATC_FAMILIES; f++) {
		/* |101 - 100| / 100 on every bar */
		assert_true(fabs(a->family[f].mean_rel_err - 0.01) < 1e-12);
		assert_true(fabs(a->family[f].max_rel_err - 0.01) < 1e-12);
		assert_true(a->family[f].frac_within_5pct == 1.0);
		/* signs differ on the bars i % 4 == f % 4: 10 of 40 per symbol */
		assert_true(a->family[f].l1_sign_agreement == 0.75);
	}
	/* Average_Signal: approx is 0.9 x exact, same signs */
	assert_true(a->avg_sign_agreement == 1.0);
	double max = 0;
	for (int32_t s = 0; s < 5; s++)
		for (int32_t i = 0; i < 40; i++) {
			double d = fabs(pattern(close_at(s, i), 0) - pattern(close_at(s, i), 1));
			if (d > max)
				max = d;
		}
	assert_true(a->avg_max_abs_diff == max);
	tg_results_fini(&r);
}

/* Two identical backends on a machine that slows down by 20% per second of
 * the run: measured one after the other the second looks ~12% slower;
 * measured in rotated rounds they are the same. */
static void test_drift_interleaved(void **state)
{
	(void)state;
	reset_fakes();
	vclock = 0;
	drift = 0.2;
	fakes[0].base_ns = fakes[1].base_ns = 10e6;
	struct tg_run_opts o;
	const int which[] = {0, 1};
	fake_opts(&o, which, 2);
	o.n_modes = 1;
	o.modes[0] = TG_MA_EXACT;
	o.reps = 60;
	o.accuracy = false;
	struct tg_run_results r;
	struct tg_error err;
	tg_results_init(&r);
	const struct tg_run_env env = {.stop = &stop_flag, .clock_ns = vclock_now};
	assert_int_equal(tg_run_bench(&o, &ds, &env, &r, &err), 0);
	assert_int_equal(r.rounds, 60);
	assert_int_equal(r.n_ratios, 1);
	const struct tg_ratio *x = &r.ratios[0];
	print_message("interleaved under drift: %s %s vs %s %s %.4fx [%.4f, %.4f]\n", x->a_backend,
		      x->a_ma, x->b_backend, x->b_ma, x->speedup, x->ci_lo, x->ci_hi);
	assert_int_equal(tg_ratio_verdict(x), TG_RATIO_SAME);
	assert_true(fabs(x->speedup - 1.0) < 0.01);
	const double interleaved = r.states[1].wall.median / r.states[0].wall.median;
	tg_results_fini(&r);
	/* the same states one after the other (the harness alone, as run was) */
	struct tg_state_result seq[2];
	memset(seq, 0, sizeof(seq));
	struct tg_atc_params p = o.params;
	struct tg_batch b = tg_data_batch(&ds);
	struct tg_atc_outputs out;
	memset(&out, 0, sizeof(out));
	for (int k = 0; k < 2; k++) {
		struct tg_measure m;
		assert_int_equal(tg_measure_init(&m, fake_ops[k], &fakes[k], &p, &b, &out, &o.rule,
						 "seq", &seq[k], NULL), 0);
		m.clock_ns = vclock_now;
		m.stop.r.fixed = 60;
		assert_int_equal(tg_measure_warmup(&m, 0, NULL, NULL), 0);
		for (int i = 0; i < 60; i++)
			assert_int_equal(tg_measure_rep(&m, i, 0, 0, NULL), 0);
		tg_measure_finish(&m, "count", 0);
	}
	const double sequential = seq[1].wall.median / seq[0].wall.median;
	print_message("medians' ratio: interleaved %.4f, one after the other %.4f\n", interleaved,
		      sequential);
	assert_true(fabs(interleaved - 1.0) < 0.01);
	assert_true(sequential > 1.08); /* the drift landed on the second */
	for (int k = 0; k < 2; k++)
		tg_state_result_fini(&seq[k]);
	drift = 0;
}

/* --max-time auto: a slow state (4 s a run) gets its 10 repetitions, where
 * the fixed 15 s budget left it 1 and a warning that says what to give. */
static void test_auto_budget(void **state)
{
	(void)state;
	for (int planned = 0; planned < 2; planned++) {
		reset_fakes();
		vclock = 0;
		drift = 0;
		fakes[0].base_ns = 10e6;
		fakes[1].base_ns = 4e9;
		struct tg_run_opts o;
		const int which[] = {0, 1};
		fake_opts(&o, which, 2);
		o.n_modes = 1;
		o.modes[0] = TG_MA_EXACT;
		o.reps = 0;
		o.warmup = 2;
		o.rule.timeout_s = 15;
		o.rule.min_samples = 10;
		o.rule.max_noise = 1e-9; /* never met: the budget ends it */
		o.auto_budget = planned;
		o.accuracy = false;
		struct tg_run_results r;
		struct tg_error err;
		tg_results_init(&r);
		const struct tg_run_env env = {.stop = &stop_flag, .clock_ns = vclock_now};
		assert_int_equal(tg_run_bench(&o, &ds, &env, &r, &err), 0);
		for (int k = 0; k < r.n_states; k++)
			print_message("  %s %s n %d %.3g s\n", r.states[k].backend, r.states[k].ma_mode,
				      r.states[k].n_samples, r.states[k].state_seconds);
		const struct tg_state_result *slow = &r.states[1];
		char why[320] = "";
		const int warned = tg_report_noisy(slow, why, sizeof(why));
		print_message("%s: slow state n %d, budget %.3g s, stopped by %s; %s\n",
			      planned ? "auto" : "fixed", slow->n_samples, slow->budget_s,
			      slow->stop_reason, why);
		assert_string_equal(slow->stop_reason, "timeout");
		if (planned) {
			/* 8 s of warm-up + 1.25 x 10 x 4 s */
			assert_true(fabs(slow->budget_s - 58) < 1);
			assert_true(slow->n_samples >= 10);
			assert_int_equal(warned, 0);
		} else {
			assert_true(slow->budget_s == 15);
			assert_true(slow->n_samples <= 3);
			/* the fast state went no further: one budget for all */
			assert_int_equal(r.states[0].n_samples, slow->n_samples);
			assert_string_equal(r.states[0].stop_reason, "timeout");
			assert_int_equal(warned, 1);
			assert_non_null(strstr(why, "in its 15 s budget (10 wanted"));
			assert_non_null(strstr(why, "--max-time auto"));
		}
		tg_results_fini(&r);
	}
}

/* ---- a sweep ------------------------------------------------------------------- */

static void add_mode_ratio(struct tg_run_results *r, const char *ma, const char *a, const char *b,
			   double speedup, double lo, double hi)
{
	struct tg_ratio *x = tg_results_add_ratio(r);
	assert_non_null(x);
	snprintf(x->kind, sizeof(x->kind), "mode");
	snprintf(x->a_backend, sizeof(x->a_backend), "%s", a);
	snprintf(x->b_backend, sizeof(x->b_backend), "%s", b);
	snprintf(x->a_ma, sizeof(x->a_ma), "%s", ma);
	snprintf(x->b_ma, sizeof(x->b_ma), "%s", ma);
	x->pairs = 20;
	x->speedup = speedup;
	x->ci_lo = lo;
	x->ci_hi = hi;
}

/* The point of a run whose exact winner is `exact` (clear when lo > 1). */
static void sweep_point(struct tg_sweep *sw, int32_t symbols, int32_t bars, const char *exact,
			double lo)
{
	struct tg_run_results r;
	tg_results_init(&r);
	add_mode_ratio(&r, "exact", exact, strcmp(exact, "cpu") ? "cpu" : "rust", lo + 0.1, lo,
		       lo + 0.2);
	add_mode_ratio(&r, "approx", "cpu", "rust", 1.02, 0.97, 1.08); /* never clear */
	struct tg_sweep_point *p = &sw->points[sw->n_points++];
	p->symbols = symbols;
	p->bars = bars;
	snprintf(p->dir, sizeof(p->dir), "s%d-b%d", symbols, bars);
	tg_sweep_point_from_results(&r, p);
	tg_results_fini(&r);
}

static void test_sweep(void **state)
{
	(void)state;
	int32_t v[TG_SWEEP_MAX_AXIS];
	int n;
	struct tg_error err;
	assert_int_equal(tg_sweep_parse_list("symbols", "20,500,5000", 1, 10000000, v, &n, &err), 0);
	assert_true(n == 3 && v[0] == 20 && v[2] == 5000);
	assert_int_equal(tg_sweep_parse_list("symbols", "20,,5", 1, 100, v, &n, &err), TG_E_RANGE);
	assert_non_null(strstr(err.msg, "--symbols: '' is not a whole number from 1 to 100"));
	assert_int_equal(tg_sweep_parse_list("bars", "600,600", 2, 10000, v, &n, &err), TG_E_RANGE);
	assert_non_null(strstr(err.msg, "600 is given twice"));
	assert_int_equal(tg_sweep_parse_list("bars", "1,x", 2, 100, v, &n, &err), TG_E_RANGE);
	assert_int_equal(tg_sweep_parse_list("bars", "2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18",
					     2, 100, v, &n, &err), TG_E_RANGE);
	assert_non_null(strstr(err.msg, "at most 16 values"));
	/* 2 x 3 sizes: rust wins exact at 4 symbols, cpu from 40 on, but at
	 * 3000 bars with 40 symbols nothing is clear */
	static struct tg_sweep sw;
	memset(&sw, 0, sizeof(sw));
	sw.complete = true;
	snprintf(sw.command, sizeof(sw.command), "trendgpu-bench run --symbols 4,40 --bars 600,3000,9000");
	sw.symbols[0] = 40, sw.symbols[1] = 4, sw.n_symbols = 2; /* given out of order */
	sw.bars[0] = 600, sw.bars[1] = 3000, sw.bars[2] = 9000, sw.n_bars = 3;
	sweep_point(&sw, 40, 600, "cpu", 1.1);
	sweep_point(&sw, 40, 3000, "cpu", 0.95);
	sweep_point(&sw, 40, 9000, "cpu", 1.2);
	sweep_point(&sw, 4, 600, "rust", 1.3);
	sweep_point(&sw, 4, 3000, "rust", 1.3);
	sweep_point(&sw, 4, 9000, "rust", 1.3);
	assert_string_equal(sw.points[0].modes[0].winner, "cpu");
	assert_true(sw.points[0].modes[0].clear);
	assert_false(sw.points[1].modes[0].clear);
	assert_false(sw.points[0].modes[1].clear); /* approx: the interval holds 1 */
	char text[192];
	tg_sweep_mode_text(&sw.points[0].modes[0], text, sizeof(text));
	assert_string_equal(text, "cpu, 1.20x [1.10, 1.30] ahead of rust");
	tg_sweep_mode_text(&sw.points[0].modes[1], text, sizeof(text));
	assert_string_equal(text, "no clear winner: cpu and rust 1.02x [0.97, 1.08]");
	struct tg_sweep_crossover c[8];
	/* at 600 and at 9000 bars the winner changes from 4 to 40 symbols; at
	 * 3000 bars 40 symbols has no clear winner: no crossover claimed */
	assert_int_equal(tg_sweep_crossovers(&sw, c, 8), 2);
	assert_string_equal(c[0].along, "symbols");
	assert_true(c[0].fixed == 600 && c[0].from_at == 4 && c[0].to_at == 40);
	assert_string_equal(c[0].from, "rust");
	assert_string_equal(c[0].to, "cpu");
	assert_true(c[1].fixed == 9000);
	struct tg_sink *m = tg_sink_open_memory();
	assert_int_equal(tg_sweep_write_md(&sw, m, NULL), 0);
	const char *md = tg_sink_memory_data(m, NULL);
	assert_non_null(strstr(md, "| 40 | 600 | **cpu** | rust, 1.20x [1.10, 1.30] slower | [s40-b600](s40-b600/report.html) |"));
	assert_non_null(strstr(md, "| 40 | 3000 | no clear winner (cpu by median) |"));
	assert_non_null(strstr(md, "- exact: at 600 bars, rust wins up to 4 symbols and cpu from 40 on"));
	tg_sink_close(m, NULL);
	/* sweep.json reads back; what it names stays inside the sweep */
	m = tg_sink_open_memory();
	assert_int_equal(tg_sweep_write_json(&sw, m, NULL), 0);
	size_t len;
	const char *json = tg_sink_memory_data(m, &len);
	static struct tg_sweep back;
	assert_int_equal(tg_sweep_read_json(json, len, "sweep.json", &back, &err), 0);
	assert_int_equal(back.n_points, 6);
	assert_string_equal(back.points[3].dir, "s4-b600");
	assert_true(back.complete && back.n_bars == 3);
	char *bad = strdup(json), *at = strstr(bad, "\"s4-b600\"");
	assert_non_null(at);
	memcpy(at + 1, "../b600", 7);
	assert_int_equal(tg_sweep_read_json(bad, strlen(bad), "bad.json", &back, &err), TG_E_PARSE);
	assert_non_null(strstr(err.msg, "sweep 'bad.json': points[3].dir: expected a directory name inside the sweep's"));
	free(bad);
	tg_sink_close(m, NULL);
	const char *other = "{\"schema\": \"trendgpu-bench/results\"}";
	assert_int_equal(tg_sweep_read_json(other, strlen(other), "r.json", &back, &err), TG_E_PARSE);
	assert_non_null(strstr(err.msg, "is not a trendgpu-bench sweep"));
}

/* ---- options ------------------------------------------------------------------- */

static void test_parse_modes(void **state)
{
	(void)state;
	int32_t modes[TG_RUN_MAX_MODES];
	int n = 0;
	struct tg_error err;
	assert_int_equal(tg_run_parse_modes("approx,exact", modes, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_int_equal(modes[0], TG_MA_APPROX);
	assert_int_equal(modes[1], TG_MA_EXACT);
	/* a third item, repeated: refused before anything is written past the
	 * two modes (it wrote modes[2] once) */
	int32_t guard[TG_RUN_MAX_MODES + 2] = {0, 0, 77, 77};
	assert_int_equal(tg_run_parse_modes("exact,approx,exact", guard, &n, &err), TG_E_INVAL);
	assert_non_null(strstr(err.msg, "'exact' is given twice"));
	assert_int_equal(guard[2], 77);
	assert_int_equal(tg_run_parse_modes("exact,approx,approx,exact,approx", guard, &n, &err),
			 TG_E_INVAL);
	assert_int_equal(guard[2], 77);
	assert_int_equal(tg_run_parse_modes("exact,fast", modes, &n, &err), TG_E_INVAL);
	assert_non_null(strstr(err.msg, "'fast' is not a mode"));
	assert_int_equal(tg_run_parse_modes("exact,,approx", modes, &n, &err), TG_E_INVAL);
	assert_int_equal(tg_run_parse_modes("", modes, &n, &err), TG_E_INVAL);
	assert_int_equal(tg_run_parse_modes(",exact", modes, &n, &err), TG_E_INVAL);
}

static void test_parse_backends(void **state)
{
	(void)state;
	struct tg_run_backend b[TG_RUN_MAX_BACKENDS];
	int n = 0;
	struct tg_error err;
	assert_int_equal(tg_run_parse_backends("all", b, TG_RUN_MAX_BACKENDS, &n, &err), 0);
	const struct tg_backend_ops *const *all = tg_backends();
	int built = 0;
	while (all[built])
		built++;
	assert_int_equal(n, built);
	assert_string_equal(b[0].name, "cpu");
	assert_ptr_equal(b[0].ops, &tg_backend_cpu);
	/* a backend of another build is known but has no ops here */
	assert_int_equal(tg_run_parse_backends("cpu,cuda,rust", b, TG_RUN_MAX_BACKENDS, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_string_equal(b[1].name, "cuda");
	assert_ptr_equal(b[1].ops, tg_backend_find("cuda"));
	assert_int_equal(tg_run_parse_backends("cpu,gpu", b, TG_RUN_MAX_BACKENDS, &n, &err), TG_E_INVAL);
	assert_non_null(strstr(err.msg, "unknown backend 'gpu'; this build has: cpu"));
	assert_int_equal(tg_run_parse_backends("cpu,cpu", b, TG_RUN_MAX_BACKENDS, &n, &err), TG_E_INVAL);
	assert_non_null(strstr(err.msg, "'cpu' is given twice"));
	assert_int_equal(tg_run_parse_backends("cpu,,rust", b, TG_RUN_MAX_BACKENDS, &n, &err), TG_E_INVAL);
	assert_int_equal(tg_run_parse_backends("cpu,rust,cuda,cpu,rust,cuda,cpu,rust,cuda", b,
					       TG_RUN_MAX_BACKENDS, &n, &err),
			 TG_E_INVAL);
}

/* A signals row: names with commas or quotes quoted as CSV, NaN spelt out,
 * the comparison columns empty when there is nothing to compare with. */
static void test_signals_rows(void **state)
{
	(void)state;
	struct tg_sink *mem = tg_sink_open_memory();
	const struct tg_signal_row a = {.symbol = "BRK,B \"class\"", .backend = "cpu", .ma = "approx",
					.bars = 900, .last_average = -0.25, .final_signal = -1,
					.compared_with = "cpu exact", .exact_final = 1};
	const struct tg_signal_row b = {.symbol = "X", .backend = "rust", .ma = "exact", .bars = 5,
					.last_average = NAN, .final_signal = 0};
	tg_signals_write_row(mem, &a);
	tg_signals_write_row(mem, &b);
	size_t len;
	const char *text = tg_sink_memory_data(mem, &len);
	assert_string_equal(text, "\"BRK,B \"\"class\"\"\",cpu,approx,900,-0.25,SHORT,cpu exact,LONG,no\n"
				  "X,rust,exact,5,NaN,none,,,\n");
	tg_sink_abort(mem);
}

/* ---- results.json ---------------------------------------------------------------- */

static char *render_json(const struct tg_run_results *r)
{
	struct tg_sink *s = tg_sink_open_memory();
	struct tg_error err;
	if (tg_results_write_json(r, s, &err) < 0)
		fail_msg("%s", err.msg);
	char *out = strdup(tg_sink_memory_data(s, NULL));
	tg_sink_close(s, NULL);
	return out;
}

static void test_results_json(void **state)
{
	(void)state;
	struct tg_run_results r;
	tg_test_results_fixture(&r, true);
	char *text = render_json(&r);
	tg_test_golden("report", "results.json", text);
	json_error_t je;
	json_t *root = json_loads(text, 0, &je);
	if (!root)
		fail_msg("results.json does not parse: %s (line %d)", je.text, je.line);
	assert_string_equal(json_string_value(json_object_get(root, "schema")), TG_RESULTS_SCHEMA);
	assert_int_equal(json_integer_value(json_object_get(root, "schema_version")),
			 TG_RESULTS_SCHEMA_VERSION);
	assert_true(json_is_true(json_object_get(root, "complete")));
	json_t *states = json_object_get(root, "states");
	assert_int_equal(json_array_size(states), 4);
	json_t *cu = json_array_get(states, 2);
	assert_true(json_number_value(json_object_get(json_object_get(cu, "kernel_ns"), "median")) == 1.5e5);
	assert_true(json_number_value(json_object_get(json_object_get(cu, "bandwidth_gbs"), "kernels")) == 2000.0);
	assert_string_equal(json_string_value(json_object_get(cu, "device")), "Test GPU (sm_90)");
	assert_null(json_object_get(json_array_get(states, 0), "kernel_ns"));
	json_t *s0 = json_array_get(states, 0);
	json_t *wall = json_object_get(s0, "wall_ns");
	assert_int_equal(json_array_size(json_object_get(wall, "samples")), 3);
	assert_true(json_number_value(json_object_get(wall, "median")) == 4001000.0);
	double tput = json_number_value(json_object_get(json_object_get(s0, "throughput"), "bar_mas_per_s"));
	assert_true(fabs(tput - 10800.0 / 4001000e-9) < 1e-6 * tput);
	json_t *s2 = json_array_get(states, 3);
	assert_true(json_is_false(json_object_get(s2, "available")));
	assert_non_null(strstr(json_string_value(json_object_get(s2, "error")), "no CUDA driver"));
	json_t *sp = json_array_get(json_object_get(root, "speedup_approx_vs_exact"), 0);
	assert_true(fabs(json_number_value(json_object_get(sp, "speedup")) - 4001000.0 / 1001000.0) < 1e-12);
	json_t *acc = json_array_get(json_object_get(root, "accuracy"), 0);
	json_t *kama = json_object_get(json_object_get(acc, "families"), "KAMA");
	assert_true(json_number_value(json_object_get(kama, "mean_rel_err")) == 0.006);
	assert_string_equal(json_string_value(json_object_get(json_object_get(root, "machine"), "os")),
			    "Debian \"12\"");
	json_decref(root);
	free(text);
	tg_results_fini(&r);
}

static const char *write_file(const char *name, const char *content)
{
	static char path[8][512];
	static int k;
	char *out = path[k++ % 8];
	snprintf(out, 512, "%s/%s", tmpdir, name);
	FILE *f = fopen(out, "wb");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
	return out;
}

static void test_results_round_trip(void **state)
{
	(void)state;
	struct tg_run_results w;
	tg_test_results_fixture(&w, false);
	w.agreement[0].max_abs_diff = 2.5e-10;
	w.agreement[0].worst_symbol = 1;
	w.agreement[0].worst_bar = 99;
	snprintf(w.agreement[0].worst_name, sizeof(w.agreement[0].worst_name), "BBB");
	w.agreement[0].worst_reference = 0.5;
	w.agreement[0].worst_value = 0.5 + 2.5e-10;
	char *text = render_json(&w);
	struct tg_run_results r;
	struct tg_error err;
	if (tg_results_read_json(text, strlen(text), "fixture", &r, &err) < 0)
		fail_msg("%s", err.msg);
	assert_string_equal(r.command, w.command);
	assert_string_equal(r.created_utc, w.created_utc);
	assert_false(r.complete);
	assert_string_equal(r.incomplete_reason, "interrupted by SIGINT");
	assert_string_equal(r.machine.hostname, "host");
	assert_string_equal(r.machine.os, "Debian \"12\"");
	assert_int_equal(r.machine.logical_cpus, 2);
	assert_non_null(r.build);
	assert_string_equal(r.build->version, "9.9.9");
	assert_string_equal(r.build->c_flags, "-O3");
	assert_int_equal(r.n_params, w.n_params);
	for (int i = 0; i < w.n_params; i++) {
		assert_string_equal(r.params[i].key, w.params[i].key);
		assert_int_equal(r.params[i].is_number, w.params[i].is_number);
		if (w.params[i].is_number)
			assert_true(r.params[i].number == w.params[i].number);
		else
			assert_string_equal(r.params[i].text, w.params[i].text);
	}
	assert_int_equal(r.n_states, w.n_states);
	for (int i = 0; i < w.n_states; i++) {
		const struct tg_state_result *a = &w.states[i], *b = &r.states[i];
		assert_string_equal(b->backend, a->backend);
		assert_string_equal(b->ma_mode, a->ma_mode);
		assert_int_equal(b->available, a->available);
		assert_string_equal(b->error, a->error);
		assert_string_equal(b->kernels, a->kernels);
		assert_int_equal(b->n_samples, a->n_samples);
		for (int k = 0; k < a->n_samples; k++) {
			assert_true(b->samples_ns[k] == a->samples_ns[k]);
			if (a->kernel_samples_ns)
				assert_true(b->kernel_samples_ns[k] == a->kernel_samples_ns[k]);
		}
		assert_true(b->wall.median == a->wall.median || a->n_samples == 0);
		if (a->stop_reason)
			assert_string_equal(b->stop_reason, a->stop_reason);
	}
	assert_int_equal(r.n_agreement, 1);
	assert_true(r.agreement[0].max_abs_diff == 2.5e-10);
	assert_int_equal(r.agreement[0].worst_symbol, 1);
	assert_int_equal(r.agreement[0].worst_bar, 99);
	assert_string_equal(r.agreement[0].worst_name, "BBB");
	assert_true(r.agreement[0].worst_value == 0.5 + 2.5e-10);
	/* written again, the same text */
	char *again = render_json(&r);
	assert_non_null(strstr(again, "\"worst\": {"));
	tg_results_fini(&r);
	tg_results_fini(&w);
	free(text);
	free(again);
}

/* Reads text, expects it refused with msg in the error. */
static void expect_refused(const char *text, int code, const char *msg)
{
	struct tg_run_results r;
	struct tg_error err;
	tg_error_clear(&err);
	int rc = tg_results_read_json(text, strlen(text), "bad.json", &r, &err);
	if (rc != code || !strstr(err.msg, msg))
		fail_msg("expected %d with '%s', got %d: %s\nfor: %.200s", code, msg, rc, err.msg, text);
	assert_non_null(strstr(err.msg, "bad.json"));
	assert_int_equal(r.n_states, 0); /* nothing half-read */
}

static void test_results_refused(void **state)
{
	(void)state;
	struct tg_run_results w;
	tg_test_results_fixture(&w, true);
	char *good = render_json(&w);
	tg_results_fini(&w);
	/* a newer version, both versions named */
	char *newer = strdup(good);
	char *v = strstr(newer, "\"schema_version\": 2");
	assert_non_null(v);
	memcpy(v, "\"schema_version\": 9", 19);
	expect_refused(newer, TG_E_UNSUPPORTED, "schema_version 9 is newer than this build reads (2)");
	free(newer);
	expect_refused("{\"x\": 1}", TG_E_PARSE, "not a trendgpu-bench results file: schema missing");
	expect_refused("{\"schema\": \"trendgpu-bench/compare\", \"schema_version\": 1}", TG_E_PARSE,
		       "schema 'trendgpu-bench/compare'");
	expect_refused("[1, 2]", TG_E_PARSE, "expected a JSON object");
	expect_refused("{\"schema\": \"trendgpu-bench/results\"", TG_E_PARSE, "line 1");
	/* only the schema: the rest is missing */
	expect_refused("{\"schema\": \"trendgpu-bench/results\", \"schema_version\": 2}", TG_E_PARSE,
		       "machine: expected an object (it is missing)");
	expect_refused("{\"schema\": \"trendgpu-bench/results\", \"schema_version\": 0}",
		       TG_E_UNSUPPORTED, "older than this build reads");
	/* members of the wrong type, named by their path */
	const char *base = "{\"schema\": \"trendgpu-bench/results\", \"schema_version\": 2, "
			   "\"machine\": {\"hostname\": \"h\", \"cpu_model\": \"c\", \"os\": \"o\", "
			   "\"logical_cpus\": 2}, \"params\": {\"symbols\": 2}, ";
	char buf[1024];
	snprintf(buf, sizeof(buf), "%s\"states\": {}}", base);
	expect_refused(buf, TG_E_PARSE, "states: expected an array");
	snprintf(buf, sizeof(buf), "%s\"states\": [7]}", base);
	expect_refused(buf, TG_E_PARSE, "states[0]: expected an object");
	snprintf(buf, sizeof(buf), "%s\"states\": [{\"backend\": 1, \"ma\": \"exact\"}]}", base);
	expect_refused(buf, TG_E_PARSE, "states[0].backend: expected a string");
	snprintf(buf, sizeof(buf),
		 "%s\"states\": [{\"backend\": \"cpu\", \"ma\": \"exact\", \"available\": true, "
		 "\"wall_ns\": {\"samples\": [1, 2, \"3\"]}}]}",
		 base);
	expect_refused(buf, TG_E_PARSE, "states[0].wall_ns.samples[2]: expected a finite duration");
	snprintf(buf, sizeof(buf),
		 "%s\"states\": [{\"backend\": \"cpu\", \"ma\": \"exact\", \"available\": true}]}",
		 base);
	expect_refused(buf, TG_E_PARSE, "states[0].wall_ns: expected an object (it is missing)");
	snprintf(buf, sizeof(buf),
		 "%s\"states\": [{\"backend\": \"cpu\", \"ma\": \"exact\", \"available\": \"yes\"}]}",
		 base);
	expect_refused(buf, TG_E_PARSE, "states[0].available: expected true or false");
	snprintf(buf, sizeof(buf), "{\"schema\": \"trendgpu-bench/results\", \"schema_version\": 2, "
				   "\"machine\": {\"hostname\": \"h\", \"cpu_model\": \"c\", \"os\": \"o\", "
				   "\"logical_cpus\": 2}, \"params\": {\"symbols\": [2]}, \"states\": []}");
	expect_refused(buf, TG_E_PARSE, "params.symbols: expected a number or a string");
	snprintf(buf, sizeof(buf),
		 "%s\"states\": [{\"backend\": \"cpu\", \"ma\": \"exact\", \"available\": false}, "
		 "{\"backend\": \"cpu\", \"ma\": \"exact\", \"available\": false}]}",
		 base);
	expect_refused(buf, TG_E_PARSE, "states[1]: a second state cpu exact");
	/* a file that is not there names itself */
	struct tg_run_results r;
	struct tg_error err;
	assert_int_equal(tg_results_load("/nonexistent/results.json", &r, &err), TG_E_IO);
	assert_non_null(strstr(err.msg, "'/nonexistent/results.json': cannot open"));
	assert_null(strstr(err.msg, "line -1"));
	/* a good one loads from a file */
	assert_int_equal(tg_results_load(write_file("good.json", good), &r, &err), 0);
	assert_int_equal(r.n_states, 4);
	tg_results_fini(&r);
	free(good);
}

/* ---- the profiling session ---------------------------------------------------------- */

static void test_profile_env(void **state)
{
	(void)state;
	struct tg_profile_opts o, back;
	tg_profile_opts_default(&o, TG_PROFILE_CPU);
	assert_int_equal(o.hz, TG_SAMPLER_DEFAULT_HZ);
	o.hz = 250;
	o.clock = TG_SAMPLE_CPU;
	o.unwind = TG_UNWIND_FP;
	o.include_idle = 1;
	o.ring_kb = 4096;
	tg_profile_opts_to_env(&o);
	struct tg_error err;
	assert_int_equal(tg_profile_opts_from_env(&back, &err), 0);
	assert_memory_equal(&o, &back, sizeof(o));
	/* what the agent does not know is refused, not guessed */
	setenv("TG_RECORD_UNWIND", "dwarf", 1);
	assert_int_equal(tg_profile_opts_from_env(&back, &err), TG_E_INVAL);
	assert_string_equal(err.msg, "TG_RECORD_UNWIND='dwarf': expected one of auto, fp, libunwind, hybrid");
	setenv("TG_RECORD_UNWIND", "hybrid", 1);
	setenv("TG_RECORD_HZ", "fast", 1);
	assert_int_equal(tg_profile_opts_from_env(&back, &err), TG_E_INVAL);
	assert_non_null(strstr(err.msg, "TG_RECORD_HZ='fast'"));
	setenv("TG_RECORD_HZ", "0", 1);
	assert_int_equal(tg_profile_opts_from_env(&back, &err), TG_E_INVAL);
	setenv("TG_RECORD_HZ", "997", 1);
	setenv("TG_RECORD_MODE", "none", 1);
	assert_int_equal(tg_profile_opts_from_env(&back, &err), TG_E_INVAL);
	static const char *const vars[] = {"TG_RECORD_MODE", "TG_RECORD_HZ", "TG_RECORD_CLOCK",
					   "TG_RECORD_UNWIND", "TG_RECORD_IDLE", "TG_RECORD_DRIVER_API",
					   "TG_RECORD_RING_KB"};
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		unsetenv(vars[i]);
	/* nothing set: the defaults, both modes */
	assert_int_equal(tg_profile_opts_from_env(&back, &err), 0);
	assert_int_equal(back.mode, TG_PROFILE_BOTH);
	assert_int_equal(back.unwind, TG_UNWIND_AUTO);
	assert_string_equal(tg_profile_mode_names[TG_PROFILE_GPU], "gpu");
}

/* The sampler behind its rate says so, with the cause its counters show. */
static void test_profile_rate_warning(void **state)
{
	(void)state;
	struct tg_profile_info p;
	memset(&p, 0, sizeof(p));
	p.sampled = true;
	p.requested_hz = 997;
	p.achieved_hz = 900; /* 90%: fine */
	snprintf(p.clock, sizeof(p.clock), "wall");
	tg_profile_rate_check(&p);
	assert_string_equal(p.rate_warning, "");
	p.achieved_hz = 350;
	p.overruns = 1234;
	p.threads = 5;
	p.cpus = 2;
	tg_profile_rate_check(&p);
	assert_non_null(strstr(p.rate_warning, "sampled at 350 of 997 Hz requested (35%)"));
	assert_non_null(strstr(p.rate_warning, "CPU contention, 1234 ticks expired"));
	assert_non_null(strstr(p.rate_warning, "5 sampled threads, 2 CPUs"));
	p.overruns = 0;
	p.handler_share = 0.2;
	tg_profile_rate_check(&p);
	assert_non_null(strstr(p.rate_warning, "unwinding cost"));
	p.handler_share = 0;
	snprintf(p.clock, sizeof(p.clock), "cpu");
	tg_profile_rate_check(&p);
	assert_non_null(strstr(p.rate_warning, "the cpu clock ticks only while they run"));
	/* drops name the option that helps, which exists */
	p.achieved_hz = 990;
	p.dropped = 17;
	tg_profile_rate_check(&p);
	assert_string_equal(p.rate_warning,
			    "17 samples dropped: a thread's ring was full (raise --sample-ring)");
}

/* Sleeps ms milliseconds of wall time (the sampler's ticks cut a
 * nanosleep short). */
static void sleep_ms(int ms)
{
	struct timespec end, now;
	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_nsec += (long)ms * 1000000L;
	end.tv_sec += end.tv_nsec / 1000000000L;
	end.tv_nsec %= 1000000000L;
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &end, NULL) != 0)
		;
	clock_gettime(CLOCK_MONOTONIC, &now);
}

/* A session around a thread that only sleeps: it was sampled (the sampler
 * ran and says so), its ticks were idle, the summary counts them. */
static void test_session_idle_program(void **state)
{
	(void)state;
	const char *tags[] = {"program"};
	struct tg_session_opts so = {.tags = tags, .n_tags = 1, .process = "sleeper"};
	tg_profile_opts_default(&so.profile, TG_PROFILE_CPU);
	so.profile.hz = 500;
	struct tg_session *s = NULL;
	struct tg_error err;
	/* per-symbol phase ranges: only while profiling (or under an NVTX tool) */
	const bool tool = getenv("NVTX_INJECTION64_PATH") && *getenv("NVTX_INJECTION64_PATH");
	assert_true(tg_nvtx_detail() == tool);
	assert_int_equal(tg_session_begin(&so, &s, &err), 0);
	assert_true(tg_session_samples(s));
	assert_true(tg_nvtx_detail() == TG_HAVE_NVTX);
	/* a phase stamped on the samples taken while in it */
	tg_phase_enter(TG_PHASE_MAS + 2, 0);
	volatile double burn = 0;
	const uint64_t until = tg_clock_ns() + 60000000;
	while (tg_clock_ns() < until)
		burn += 1.0;
	tg_phase_enter(0, 0);
	sleep_ms(200);
	struct tg_capture *c = NULL;
	assert_int_equal(tg_session_end(s, &c, &err), 0);
	tg_session_free(s);
	assert_false(tg_nvtx_detail() && !tool);
	size_t in_phase = 0;
	for (size_t i = 0; i < c->n_samples; i++)
		in_phase += TG_SAMPLE_PHASE(c->samples[i].flags) == TG_PHASE_MAS + 2;
	assert_true(in_phase >= 10); /* 60 ms at 500 Hz: ~30 */
	struct tg_profile_info info;
	memset(&info, 0, sizeof(info));
	tg_profile_info_from_capture(c, &info);
	assert_true(info.enabled);
	assert_string_equal(info.mode, "cpu");
	assert_true(info.sampled);
	assert_int_equal(info.requested_hz, 500);
	assert_int_equal(info.threads, 1);
	assert_true(info.idle_skipped > 20);
	assert_true((info.samples - in_phase) * 4 < info.idle_skipped);
	assert_false(info.gpu_traced);
	assert_string_equal(info.gpu, "not traced (--profile cpu)");
	assert_string_equal(tg_capture_meta(c, "process"), "sleeper");
	assert_string_equal(tg_capture_tag_name(c, 0), "program");
	/* the counters the summary shows come from the capture */
	tg_capture_count(c, "sampler.truncated", 3);
	tg_profile_info_from_capture(c, &info);
	assert_int_equal(info.truncated, 3);
	tg_capture_free(c);
	/* a bad mode is refused */
	so.profile.mode = TG_PROFILE_NONE;
	assert_int_equal(tg_session_begin(&so, &s, &err), TG_E_INVAL);
}

/* ---- the run directory ---------------------------------------------------------------- */

static void test_rundir_capture(void **state)
{
	(void)state;
	struct tg_sink *m = tg_sink_open_memory();
	assert_int_equal(tg_rundir_write_maps(m, NULL), 0);
	assert_non_null(strstr(tg_sink_memory_data(m, NULL), "test_run"));
	tg_sink_close(m, NULL);
	struct tg_sink *b = tg_sink_open_memory();
	assert_int_equal(tg_rundir_write_build_ids(b, NULL), 0);
	/* libc has a build id on Debian */
	assert_non_null(strstr(tg_sink_memory_data(b, NULL), "build-id "));
	tg_sink_close(b, NULL);
	/* a capture written raw and read back */
	struct tg_capture *c = tg_capture_new();
	assert_non_null(c);
	c->pid = 4242;
	c->start_ns = 10;
	c->end_ns = 99;
	assert_int_equal(tg_capture_set_meta(c, "profile.mode", "cpu"), 0);
	char out[512], dir[512];
	snprintf(out, sizeof(out), "%s/raw/dir", tmpdir);
	struct tg_error err;
	assert_int_equal(tg_rundir_make("test", out, TG_RUNDIR_REFUSE, dir, sizeof(dir), &err), 0);
	assert_string_equal(dir, out);
	char *maps = NULL;
	assert_int_equal(tg_rundir_write_capture(dir, "-4242", c, &maps, &err), 0);
	assert_non_null(maps);
	free(maps);
	assert_int_equal(tg_rundir_adopt(dir, 4242, &err), 0);
	struct tg_capture *back = NULL;
	assert_int_equal(tg_rundir_read_capture(dir, &back, &maps, &err), 0);
	assert_int_equal(back->pid, 4242);
	assert_string_equal(tg_capture_meta(back, "profile.mode"), "cpu");
	assert_non_null(strstr(maps, "test_run"));
	free(maps);
	tg_capture_free(back);
	/* a second adoption finds nothing to adopt */
	assert_int_equal(tg_rundir_adopt(dir, 4242, &err), TG_E_IO);
	assert_non_null(strstr(err.msg, "wrote no"));
	assert_non_null(strstr(err.msg, "maps-4242"));
	tg_capture_free(c);
	/* a directory without a capture */
	assert_int_equal(tg_rundir_read_capture(tmpdir, &back, &maps, &err), TG_E_IO);
	assert_null(back);
	/* --out that is a file */
	assert_int_equal(tg_rundir_make("test", "/proc/version", TG_RUNDIR_REFUSE, dir, sizeof(dir), &err),
			 TG_E_IO);
	assert_non_null(strstr(err.msg, "/proc/version"));
}

/* ---- split across ranks (ranks as threads) ------------------------------------ */

/* backends whose state is their own (one per rank): fakes that fail from
 * their second run on the rank split_fail_rank */
static _Thread_local int split_rank;
static int split_fail_rank = -1, split_fail_run = 3;

static int split_probe(char *why, size_t cap)
{
	(void)why;
	(void)cap;
	return 0;
}

static int split_open(const struct tg_backend_config *cfg, void **state, struct tg_error *err)
{
	(void)cfg;
	struct fake *f = calloc(1, sizeof(*f));
	if (!f)
		return TG_ERR(err, TG_E_NOMEM, "out of memory");
	f->name = "split";
	if (split_rank == split_fail_rank)
		f->fail_at = split_fail_run;
	*state = f;
	return 0;
}

static void split_close(void *state)
{
	free(state);
}

static const struct tg_backend_ops split_ops[2] = {
	{.name = "spa", .description = "a fake", .probe = split_probe, .open = split_open,
	 .run = fake_run, .threads = fake_threads, .close = split_close},
	{.name = "spb", .description = "a fake", .probe = split_probe, .open = split_open,
	 .run = fake_run, .threads = fake_threads, .close = split_close},
};

static void split_opts(struct tg_run_opts *o)
{
	tg_run_opts_default(o);
	o->n_backends = 2;
	for (int i = 0; i < 2; i++) {
		snprintf(o->backends[i].name, sizeof(o->backends[i].name), "%s", split_ops[i].name);
		o->backends[i].ops = &split_ops[i];
	}
	o->reps = 3;
	o->warmup = 1;
	o->roofs = false;
	o->accuracy_chunk = 2;
}

struct split_rank_run {
	int rank;
	struct tg_comm comm;
	const int32_t *split;
	struct tg_dataset share;
	struct tg_run_results r;
	struct tg_error err;
	int rc;
};

static void *split_main(void *arg)
{
	struct split_rank_run *t = arg;
	split_rank = t->rank;
	struct tg_run_opts o;
	split_opts(&o);
	const struct tg_run_env env = {.comm = &t->comm, .whole = &ds, .split = t->split};
	tg_results_init(&t->r);
	tg_error_clear(&t->err);
	t->rc = tg_run_bench(&o, &t->share, &env, &t->r, &t->err);
	return NULL;
}

/* n ranks over ds: the results of every rank (rank 0's are the run's) */
static void split_run(int n, struct split_rank_run *t, int32_t *split)
{
	struct tg_error err;
	assert_int_equal(tg_ranks_split(ds.n_bars, ds.n_symbols, n, split, &err), 0);
	struct tg_test_world *w = tg_test_world_new(n);
	assert_non_null(w);
	pthread_t th[4];
	for (int k = 0; k < n; k++) {
		t[k].rank = k;
		t[k].split = split;
		t[k].share = tg_data_share(&ds, split[k], split[k + 1] - split[k]);
		tg_test_world_comm(w, k, &t[k].comm);
		assert_int_equal(pthread_create(&th[k], NULL, split_main, &t[k]), 0);
	}
	for (int k = 0; k < n; k++)
		pthread_join(th[k], NULL);
	assert_int_equal(tg_test_world_aborted(w), 0);
	tg_test_world_free(w);
}

/* The loop split across 2 and 3 ranks gives rank 0 what one process gives:
 * the same Average_Signal (digests, last values, final signals) over every
 * symbol, the agreement and accuracy over every symbol, every rank's share
 * and own times; every rank takes the same number of repetitions. */
static void test_split_across_ranks(void **state)
{
	(void)state;
	split_fail_rank = -1;
	struct tg_run_opts o;
	split_opts(&o);
	struct tg_run_results one;
	tg_results_init(&one);
	struct tg_error err;
	assert_int_equal(tg_run_bench(&o, &ds, NULL, &one, &err), 0);
	assert_int_equal(one.n_states, 4);
	assert_int_equal(one.n_rank_results, 0);
	for (int n = 2; n <= 3; n++) {
		struct split_rank_run t[3];
		int32_t split[4];
		memset(t, 0, sizeof(t));
		split_run(n, t, split);
		for (int k = 0; k < n; k++) {
			assert_int_equal(t[k].rc, 0);
			assert_int_equal(t[k].r.n_states, 4);
			for (int i = 0; i < 4; i++)
				assert_int_equal(t[k].r.states[i].n_samples, 3);
		}
		const struct tg_run_results *r = &t[0].r;
		for (int i = 0; i < 4; i++) {
			const struct tg_state_result *a = &one.states[i], *b = &r->states[i];
			assert_true(a->has_digest && b->has_digest);
			assert_true(a->average_digest == b->average_digest);
			assert_int_equal(b->n_symbols, ds.n_symbols);
			assert_memory_equal(a->last_average, b->last_average,
					    (size_t)ds.n_symbols * sizeof(double));
			assert_memory_equal(a->final_signal, b->final_signal, (size_t)ds.n_symbols);
			/* the repetition's time is the slowest rank's */
			for (int j = 0; j < 3; j++) {
				double slowest = 0;
				for (int k = 0; k < n; k++)
					slowest = fmax(slowest, t[k].r.states[i].samples_ns[j]);
				assert_true(b->samples_ns[j] == slowest);
			}
			assert_true(b->own_median_ns > 0);
		}
		assert_int_equal(r->n_agreement, one.n_agreement);
		for (int g = 0; g < r->n_agreement; g++) {
			assert_int_equal(r->agreement[g].bars, one.agreement[g].bars);
			assert_true(r->agreement[g].max_abs_diff == one.agreement[g].max_abs_diff);
		}
		assert_int_equal(r->n_accuracy, 2);
		assert_int_equal(r->accuracy[0].symbols, ds.n_symbols);
		assert_int_equal(r->accuracy[0].bars, one.accuracy[0].bars);
		assert_true(r->accuracy[0].family[0].l1_sign_agreement ==
			    one.accuracy[0].family[0].l1_sign_agreement);
		/* every rank's share, contiguous, with its own times */
		assert_int_equal(r->n_rank_results, n);
		int32_t next = 0;
		for (int k = 0; k < n; k++) {
			const struct tg_rank_result *x = &r->ranks[k];
			assert_int_equal(x->rank, k);
			assert_string_equal(x->host, "test-host");
			assert_int_equal(x->first_symbol, next);
			assert_int_equal(x->symbols, split[k + 1] - split[k]);
			assert_int_equal(x->n_states, 4);
			assert_true(x->median_ns[0] == t[k].r.states[0].own_median_ns);
			next += x->symbols;
		}
		assert_int_equal(next, ds.n_symbols);
		assert_true(tg_results_rank_imbalance(r, 0) >= 1.0);
		/* the others hold only their share */
		assert_int_equal(t[1].r.n_rank_results, 0);
		assert_int_equal(t[1].r.n_agreement, 0);
		for (int k = 0; k < n; k++)
			tg_results_fini(&t[k].r);
	}
	tg_results_fini(&one);
}

/* A backend that fails on one rank fails on every rank, at the same
 * point, and rank 0 says which rank and why; the other states go on. Run
 * 3 is the first timed repetition of exact (a repetition fails), run 2 the
 * warm-up of approx (a warm-up fails). */
static void test_split_rank_fails(void **state)
{
	(void)state;
	for (int run = 3; run >= 2; run--) {
		split_fail_rank = 1;
		split_fail_run = run;
		struct split_rank_run t[3];
		int32_t split[4];
		memset(t, 0, sizeof(t));
		split_run(3, t, split);
		split_fail_rank = -1;
		/* exact (states 0, 2) when a repetition fails, approx (1, 3) when the warm-up does */
		const int bad = run == 3 ? 0 : 1;
		for (int k = 0; k < 3; k++) {
			const struct tg_run_results *r = &t[k].r;
			assert_true(t[k].rc < 0);
			for (int i = 0; i < 4; i++) {
				assert_int_equal(r->states[i].available, i % 2 != bad);
				assert_int_equal(r->states[i].n_samples, i % 2 == bad ? 0 : 3);
			}
		}
		const char *why = t[0].r.states[bad].error;
		if (run == 3)
			assert_non_null(strstr(why, "spa exact failed on rank 1: split: run 3 failed on purpose"));
		else
			assert_non_null(strstr(why, "spa approx: on rank 1: split: run 2 failed on purpose"));
		assert_non_null(strstr(t[1].r.states[bad].error, "failed on purpose"));
		assert_int_equal(t[0].r.n_rank_results, 3);
		for (int k = 0; k < 3; k++)
			tg_results_fini(&t[k].r);
	}
	split_fail_run = 3;
}

/* Clock alignment of ranks on synthetic captures: another host's clock
 * 5 ms ahead at the start and 20 us more at the end is moved onto rank
 * 0's, drift corrected; a wall-clock step is kept as a start offset and
 * flagged; one host needs nothing; no anchors says so. */
static struct tg_capture *clock_capture(const char *host, uint64_t start, uint64_t end,
					int64_t d_start, int64_t d_end)
{
	struct tg_capture *c = tg_capture_new();
	assert_non_null(c);
	c->start_ns = start;
	c->end_ns = end;
	char v[32];
	if (host)
		assert_int_equal(tg_capture_set_meta(c, "host", host), 0);
	if (d_start || d_end) {
		snprintf(v, sizeof(v), "%lld", (long long)d_start);
		assert_int_equal(tg_capture_set_meta(c, TG_META_CLOCK_START, v), 0);
		snprintf(v, sizeof(v), "%lld", (long long)d_end);
		assert_int_equal(tg_capture_set_meta(c, TG_META_CLOCK_END, v), 0);
	}
	return c;
}

static void test_rank_clock_alignment(void **state)
{
	(void)state;
	/* realtime = monotonic + d on each host; the wall clocks agree */
	const int64_t d0 = 1700000000000000000ll;
	struct tg_capture *ref = clock_capture("a", 1000000000ull, 3000000000ull, d0, d0);
	/* host b's CLOCK_MONOTONIC reads 5 ms less at the same instant at the
	 * start, and 20 us less again by the end: d is 5 ms larger, then 5.02 */
	const uint64_t s = 999000000ull, e = 2999000000ull;
	struct tg_capture *b = clock_capture("b", s, e, d0 + 5000000, d0 + 5020000);
	struct tg_rank_clock k;
	tg_rank_clock_align(b, ref, &k);
	assert_false(k.align.identity);
	assert_false(k.align.step);
	assert_non_null(strstr(k.source, "drift corrected"));
	assert_int_equal(k.align.drift_ns, -20000);
	/* b's start is rank 0's s + 5 ms; its end, e + 5.02 ms */
	assert_true(tg_clock_apply(&k.align, s) == s + 5000000);
	assert_true(tg_clock_apply(&k.align, e) == e + 5020000);
	const uint64_t mid = s + (e - s) / 2;
	assert_true(llabs((long long)(tg_clock_apply(&k.align, mid) - (mid + 5010000))) <= 1);
	tg_capture_free(b);
	/* a step of 80 ms between start and end: not drift */
	b = clock_capture("b", s, e, d0 + 5000000, d0 + 85000000);
	tg_rank_clock_align(b, ref, &k);
	assert_true(k.align.step);
	assert_non_null(strstr(k.source, "a step"));
	assert_true(tg_clock_apply(&k.align, e) == e + 5000000);
	tg_capture_free(b);
	/* one host: one CLOCK_MONOTONIC, whatever the wall clock did */
	b = clock_capture("a", s, e, d0 + 123, d0 + 456);
	tg_rank_clock_align(b, ref, &k);
	assert_true(k.align.identity);
	assert_true(tg_clock_apply(&k.align, e) == e);
	tg_capture_free(b);
	/* no anchors (an older capture): not aligned, and said */
	b = clock_capture("c", s, e, 0, 0);
	tg_rank_clock_align(b, ref, &k);
	assert_true(k.align.identity);
	assert_non_null(strstr(k.source, "not aligned"));
	tg_capture_free(b);
	tg_capture_free(ref);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_state_order),
		cmocka_unit_test(test_rank_clock_alignment),
		cmocka_unit_test(test_split_across_ranks),
		cmocka_unit_test(test_split_rank_fails),
		cmocka_unit_test(test_backend_fails_midway),
		cmocka_unit_test(test_interrupted),
		cmocka_unit_test(test_agreement_one_cell),
		cmocka_unit_test(test_accuracy_known_case),
		cmocka_unit_test(test_drift_interleaved),
		cmocka_unit_test(test_auto_budget),
		cmocka_unit_test(test_sweep),
		cmocka_unit_test(test_parse_modes),
		cmocka_unit_test(test_parse_backends),
		cmocka_unit_test(test_signals_rows),
		cmocka_unit_test(test_results_json),
		cmocka_unit_test(test_results_round_trip),
		cmocka_unit_test(test_results_refused),
		cmocka_unit_test(test_profile_env),
		cmocka_unit_test(test_profile_rate_warning),
		cmocka_unit_test(test_session_idle_program),
		cmocka_unit_test(test_rundir_capture),
	};
	tmpdir = tg_test_tmpdir("tg_test_run");
	if (setup_data(NULL) < 0)
		return 1;
	int failed = cmocka_run_group_tests(tests, NULL, NULL);
	free_data(NULL);
	return failed;
}
