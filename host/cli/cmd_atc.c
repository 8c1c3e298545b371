/* `atc`: the conformance interface. Runs the pipeline on one CSV series and
 * writes every intermediate column, named as in the golden files; or on
 * every series of a directory, each symbol's columns and final signal. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli_internal.h"
#include "tg_accuracy.h"
#include "tg_data.h"
#include "tg_log.h"
#include "tg_run.h"
#include "tg_sink.h"

static const char *const mode_choices[] = {"exact", "approx", NULL};

struct atc_buffers {
	double *r, *ma, *l1, *l2, *avg, *final_value;
	double *slot_ma, *slot_eq;
	int8_t *slot_sig, *final_signal;
};

static void free_buffers(struct atc_buffers *b)
{
	free(b->r);
	free(b->ma);
	free(b->l1);
	free(b->l2);
	free(b->avg);
	free(b->final_value);
	free(b->slot_ma);
	free(b->slot_eq);
	free(b->slot_sig);
	free(b->final_signal);
}

static void put_value(struct tg_sink *s, double v)
{
	if (v != v)
		tg_sink_puts(s, ",nan");
	else
		tg_sink_printf(s, ",%.17g", v);
}

/* The columns of one symbol: row `off` of every plane of `plane` cells. */
static int write_csv(struct tg_sink *s, const struct tg_atc_params *p, const double *close,
		     int32_t n, const struct atc_buffers *b, size_t plane, size_t off, int slots)
{
	static const char *const fam[TG_ATC_FAMILIES] = {"EMA", "HMA", "WMA", "DEMA", "LSMA", "KAMA"};
	tg_sink_puts(s, "bar,close,R");
	for (int f = 0; f < TG_ATC_FAMILIES; f++)
		tg_sink_printf(s, ",MA_%s", fam[f]);
	for (int f = 0; f < TG_ATC_FAMILIES; f++)
		tg_sink_printf(s, ",%s_Signal", fam[f]);
	for (int f = 0; f < TG_ATC_FAMILIES; f++)
		tg_sink_printf(s, ",%s_S", fam[f]);
	tg_sink_puts(s, ",Average_Signal");
	if (slots) {
		for (int f = 0; f < TG_ATC_FAMILIES; f++) {
			int32_t len[TG_ATC_SLOTS];
			tg_atc_slot_lengths(p, f, len);
			for (int k = 0; k < TG_ATC_SLOTS; k++)
				tg_sink_printf(s, ",%s_%s_L%d", fam[f], tg_slot_name(k), len[k]);
			for (int k = 0; k < TG_ATC_SLOTS; k++)
				tg_sink_printf(s, ",sig_%s_%s_L%d", fam[f], tg_slot_name(k), len[k]);
			for (int k = 0; k < TG_ATC_SLOTS; k++)
				tg_sink_printf(s, ",eq_%s_%s_L%d", fam[f], tg_slot_name(k), len[k]);
		}
	}
	tg_sink_putc(s, '\n');
	for (int32_t i = 0; i < n; i++) {
		const size_t at = off + (size_t)i;
		tg_sink_printf(s, "%d", i);
		put_value(s, close[i]);
		put_value(s, b->r[at]);
		for (int f = 0; f < TG_ATC_FAMILIES; f++)
			put_value(s, b->ma[(size_t)f * plane + at]);
		for (int f = 0; f < TG_ATC_FAMILIES; f++)
			put_value(s, b->l1[(size_t)f * plane + at]);
		for (int f = 0; f < TG_ATC_FAMILIES; f++)
			put_value(s, b->l2[(size_t)f * plane + at]);
		put_value(s, b->avg[at]);
		if (slots) {
			for (int f = 0; f < TG_ATC_FAMILIES; f++) {
				const size_t k0 = (size_t)f * TG_ATC_SLOTS;
				for (int k = 0; k < TG_ATC_SLOTS; k++)
					put_value(s, b->slot_ma[(k0 + k) * plane + at]);
				for (int k = 0; k < TG_ATC_SLOTS; k++)
					tg_sink_printf(s, ",%d", b->slot_sig[(k0 + k) * plane + at]);
				for (int k = 0; k < TG_ATC_SLOTS; k++)
					put_value(s, b->slot_eq[(k0 + k) * plane + at]);
			}
		}
		tg_sink_putc(s, '\n');
	}
	return 0;
}

/* Symbols computed at a time from a directory: bounded memory whatever
 * its size. */
#define ATC_CHUNK 32

static int alloc_buffers(struct atc_buffers *b, size_t cells, int32_t symbols, int slots)
{
	memset(b, 0, sizeof(*b));
	b->r = malloc(cells * sizeof(double));
	b->ma = malloc(TG_ATC_FAMILIES * cells * sizeof(double));
	b->l1 = malloc(TG_ATC_FAMILIES * cells * sizeof(double));
	b->l2 = malloc(TG_ATC_FAMILIES * cells * sizeof(double));
	b->avg = malloc(cells * sizeof(double));
	b->final_value = malloc((size_t)symbols * sizeof(double));
	b->final_signal = malloc((size_t)symbols);
	if (slots) {
		b->slot_ma = malloc(TG_ATC_MAS * cells * sizeof(double));
		b->slot_eq = malloc(TG_ATC_MAS * cells * sizeof(double));
		b->slot_sig = malloc(TG_ATC_MAS * cells);
	}
	return !b->r || !b->ma || !b->l1 || !b->l2 || !b->avg || !b->final_value ||
			       !b->final_signal || (slots && (!b->slot_ma || !b->slot_eq || !b->slot_sig))
		       ? -1
		       : 0;
}

struct atc_cli {
	const char *input, *output, *signals, *backend;
	int32_t mode, slots, quiet;
	struct tg_cli_data data;
	struct tg_atc_params params;
};

/* Where symbol s's columns go: the --output file for one series, else
 * OUTDIR/<symbol>.csv. */
static struct tg_sink *open_columns(const struct atc_cli *c, bool dir, const char *name,
				    struct tg_error *err)
{
	if (!dir)
		return strcmp(c->output, "-") == 0 ? tg_sink_open_stream(stdout, "<stdout>")
						   : tg_sink_open_file(c->output, err);
	char path[1200];
	snprintf(path, sizeof(path), "%s/%s.csv", c->output, name);
	return tg_sink_open_file(path, err);
}

/* Runs the backend over the dataset, a chunk of symbols at a time; writes
 * each symbol's columns (one series, or with --output) and its row of
 * the signals (sig, when not NULL). */
static int compute(const struct atc_cli *c, const struct tg_backend_ops *ops, void *state,
		   const struct tg_dataset *ds, bool dir, bool columns, struct tg_sink *sig,
		   int counts[3], struct tg_error *err)
{
	const int32_t chunk = ds->n_symbols < ATC_CHUNK ? ds->n_symbols : ATC_CHUNK;
	const size_t plane = (size_t)chunk * (size_t)ds->stride;
	struct atc_buffers b;
	int rc = 0;
	if (alloc_buffers(&b, plane, chunk, columns && c->slots) < 0) {
		free_buffers(&b);
		return TG_ERR(err, TG_E_NOMEM, "atc: out of memory for %d x %d bars", chunk,
			      ds->stride);
	}
	struct tg_atc_outputs out = {
		.average = b.avg, .final_signal = b.final_signal, .final_value = b.final_value,
		.r = b.r, .ma = b.ma, .l1_signal = b.l1, .l2_equity = b.l2,
		.slot_ma = b.slot_ma, .slot_signal = b.slot_sig, .slot_equity = b.slot_eq,
	};
	for (int32_t first = 0; first < ds->n_symbols && rc == 0; first += chunk) {
		const int32_t count = ds->n_symbols - first < chunk ? ds->n_symbols - first : chunk;
		struct tg_batch batch = tg_data_sub_batch(ds, first, count);
		struct tg_backend_timing timing;
		rc = ops->run(state, &c->params, &batch, &out, &timing, err);
		int32_t bad_symbol, bad_bar;
		const int64_t bad = rc == 0 ? tg_nonfinite_average(&batch, b.avg, &bad_symbol, &bad_bar)
					    : 0;
		if (bad > 0)
			rc = TG_ERR(err, TG_E_RANGE,
				    "atc: '%s': Average_Signal is not a number at %lld bars with a "
				    "price, the first at bar %d (row %d): these prices overflow the "
				    "pipeline; expected the closes of one instrument",
				    ds->names[first + bad_symbol], (long long)bad, bad_bar, bad_bar + 2);
		for (int32_t s = 0; s < count && rc == 0; s++) {
			const char *name = ds->names[first + s];
			const int32_t n = tg_batch_bars(&batch, s);
			const size_t off = (size_t)s * (size_t)ds->stride;
			if (columns) {
				struct tg_sink *sink = open_columns(c, dir, name, err);
				if (!sink) {
					rc = err->code ? err->code : TG_E_IO;
					break;
				}
				write_csv(sink, &c->params, batch.close + off, n, &b,
					  (size_t)count * (size_t)ds->stride, off, c->slots);
				rc = tg_sink_close(sink, err);
			}
			const int fs = b.final_signal[s];
			counts[fs + 1]++;
			if (sig) {
				const struct tg_signal_row row = {
					.symbol = name, .backend = ops->name,
					.ma = tg_ma_mode_name(c->params.ma_mode), .bars = n,
					.last_average = b.final_value[s], .final_signal = fs};
				tg_signals_write_row(sig, &row);
			}
			if (!c->quiet && !dir)
				fprintf(stderr,
					"final signal: %s (last Average_Signal %.6g, |x| >= %g needed)\n",
					tg_signal_name(fs), b.final_value[s], c->params.min_signal);
		}
	}
	free_buffers(&b);
	return rc;
}

int tg_cmd_atc(int argc, char **argv)
{
	struct atc_cli c = {.output = NULL, .backend = "cpu", .mode = TG_MA_EXACT};
	tg_atc_params_default(&c.params);

	const struct tg_opt main_opts[] = {
		{"input", TG_OPT_STRING, &c.input, "FILE.csv|DIR",
		 "price series: a CSV with a header and a 'close' column (other columns are "
		 "ignored, but a timestamp column is checked; 'nan' closes are gaps, as in spec "
		 "§3.1), or a directory of them, one symbol per file, every one computed",
		 0, 0, NULL},
		{"output", TG_OPT_STRING, &c.output, "OUT.csv|OUTDIR",
		 "where to write the columns: a file ('-' = standard output, the default for one "
		 "series); with a directory of inputs, a directory to hold OUTDIR/<symbol>.csv "
		 "(made if missing). Files are written to a temporary name and renamed",
		 0, 0, NULL},
		{"signals", TG_OPT_STRING, &c.signals, "FILE.csv",
		 "each symbol's answer, one row per symbol: bars, the last Average_Signal and the "
		 "final signal ('-' = standard output, the default with a directory and no "
		 "--output)",
		 0, 0, NULL},
		{"ma", TG_OPT_CHOICE, &c.mode, NULL, "exact (spec §3) or approximate (spec §11) MAs", 0,
		 0, mode_choices},
		{"backend", TG_OPT_STRING, &c.backend, "NAME",
		 "which backend computes it (default cpu; see 'trendgpu-bench info')", 0, 0, NULL},
		{"slots", TG_OPT_FLAG, &c.slots, NULL,
		 "also write all 54 MAs, crossover states and Layer-1 equities "
		 "(<FAM>_<slot>_L<n>, sig_..., eq_...)",
		 0, 0, NULL},
		{"quiet", TG_OPT_FLAG, &c.quiet, NULL,
		 "do not print the final signal (or, for a directory, their count) on stderr", 0, 0,
		 NULL},
	};
	struct tg_opt data_opts[4];
	int n_data = tg_cli_data_options(&c.data, "", data_opts, 4);
	struct tg_opt param_opts[32];
	int n_param = tg_cli_param_options(&c.params, param_opts, 32);
	const struct tg_opt_group groups[] = {
		{"Options", main_opts, (int)(sizeof(main_opts) / sizeof(main_opts[0]))},
		{"Data options", data_opts, n_data},
		{"ATC parameters (spec §1)", param_opts, n_param},
	};
	const struct tg_cli_spec spec = {
		.command = "atc",
		.usage = "atc --input FILE.csv|DIR [--ma exact|approx] [--output OUT.csv|OUTDIR] "
			 "[--signals FILE.csv] [parameters]",
		.description =
			"Runs the ATC pipeline on one price series and writes one row per bar: "
			"bar, close, R, the MA of each family at its base length (MA_EMA ... "
			"MA_KAMA), the Layer-1 signals (EMA_Signal ...), the Layer-2 equities "
			"(EMA_S ...) and Average_Signal, with floats printed %.17g and NaN as nan. "
			"These are the columns of the golden files, so the output can be compared "
			"with them directly. The final long/short signal (spec §10) is printed on "
			"stderr. Given a directory, it runs every file in it (in name order): the "
			"columns of each go to --output DIR, and each symbol's final signal to "
			"--signals.",
		.groups = groups,
		.n_groups = 3,
		.epilog = "Examples:\n  trendgpu-bench atc --input tests/golden/atc/A_grw_default_exact.csv "
			  "--output out.csv\n"
			  "  trendgpu-bench atc --input prices/ --timeframe 1h --signals signals.csv\n",
	};

	struct tg_error err;
	tg_error_clear(&err);
	const char *pos[1];
	int n_pos = 0;
	int rc = tg_cli_parse_command(&spec, argc, argv, pos, 0, &n_pos);
	if (rc != TG_CLI_CONTINUE)
		return rc;
	if (!c.input) {
		TG_ERR(&err, TG_E_INVAL, "--input FILE.csv or DIR is required");
		return tg_cli_usage_error("atc", &err);
	}
	c.params.ma_mode = c.mode;
	const struct tg_backend_ops *ops = tg_backend_find(c.backend);
	if (!ops) {
		TG_ERR(&err, TG_E_INVAL, "--backend: unknown or not built backend '%s'", c.backend);
		return tg_cli_usage_error("atc", &err);
	}
	if (tg_atc_params_validate(&c.params, 0, &err) < 0 || tg_cli_data_check(&c.data, &err) < 0)
		return tg_cli_usage_error("atc", &err);
	struct stat in_st;
	const bool dir = stat(c.input, &in_st) == 0 && S_ISDIR(in_st.st_mode);
	if (!dir && c.data.select) {
		TG_ERR(&err, TG_E_INVAL, "--select chooses files of a directory: '%s' is one file",
		       c.input);
		return tg_cli_usage_error("atc", &err);
	}
	if (dir && c.output && strcmp(c.output, "-") == 0) {
		TG_ERR(&err, TG_E_INVAL,
		       "--output -: a directory of inputs writes one file per symbol; give "
		       "--output DIR, or --signals for one row per symbol");
		return tg_cli_usage_error("atc", &err);
	}
	if (dir && c.slots && !c.output) {
		TG_ERR(&err, TG_E_INVAL, "--slots writes columns: with a directory give --output DIR");
		return tg_cli_usage_error("atc", &err);
	}
	/* one series: its columns (stdout by default); a directory: the
	 * columns with --output, the signals on stdout unless said otherwise */
	const bool columns = !dir || c.output;
	if (!c.output && !dir)
		c.output = "-";
	if (dir && !c.output && !c.signals)
		c.signals = "-";
	if (!dir && c.signals && strcmp(c.signals, "-") == 0 && strcmp(c.output, "-") == 0) {
		TG_ERR(&err, TG_E_INVAL, "--signals - and --output -: both on standard output; "
					 "give one a file");
		return tg_cli_usage_error("atc", &err);
	}

	struct tg_dataset ds;
	struct tg_load_opts lo = {.allow_nan = true,
				  .min_bars = tg_atc_max_length(&c.params),
				  .min_bars_reason = "the longest moving average",
				  .price = c.data.price,
				  .select = c.data.select,
				  .timeframe_ms = c.data.timeframe_ms};
	if (tg_data_load(c.input, &lo, &ds, &err) < 0) {
		tg_log_error(&err);
		return TG_EXIT_FAILURE;
	}
	if (tg_atc_params_validate(&c.params, tg_data_min_bars(&ds), &err) < 0) {
		tg_data_free(&ds);
		return tg_cli_usage_error("atc", &err);
	}
	int exit_code = TG_EXIT_FAILURE;
	void *state = NULL;
	struct tg_sink *sig = NULL;
	char reason[256];
	if (ops->probe(reason, sizeof(reason)) < 0) {
		tg_log(TG_LOG_ERROR, "atc: backend %s is unavailable: %s", ops->name, reason);
		goto out;
	}
	if (dir && c.output && mkdir(c.output, 0777) < 0 && errno != EEXIST) {
		tg_log(TG_LOG_ERROR, "atc: --output %s: cannot make the directory: %s", c.output,
		       strerror(errno));
		goto out;
	}
	if (c.signals) {
		sig = strcmp(c.signals, "-") == 0 ? tg_sink_open_stream(stdout, "<stdout>")
						  : tg_sink_open_file(c.signals, &err);
		if (!sig) {
			tg_log_error(&err);
			goto out;
		}
		tg_sink_puts(sig, tg_signals_header);
	}
	/* one series: one thread, as ever; a directory: every CPU */
	struct tg_backend_config cfg = {.threads = dir ? 0 : 1, .device = 0, .hooks = NULL};
	int counts[3] = {0, 0, 0};
	if (ops->open(&cfg, &state, &err) < 0 ||
	    compute(&c, ops, state, &ds, dir, columns, sig, counts, &err) < 0) {
		tg_log_error(&err);
		goto out;
	}
	rc = sig ? tg_sink_close(sig, &err) : 0;
	sig = NULL;
	if (rc < 0) {
		tg_log_error(&err);
		goto out;
	}
	if (dir && !c.quiet)
		fprintf(stderr, "final signals of %d symbols: %d LONG, %d SHORT, %d none%s%s\n",
			ds.n_symbols, counts[2], counts[0], counts[1],
			c.output ? "; columns in " : "", c.output ? c.output : "");
	exit_code = TG_EXIT_OK;
out:
	tg_sink_abort(sig);
	if (state)
		ops->close(state);
	tg_data_free(&ds);
	return exit_code;
}
