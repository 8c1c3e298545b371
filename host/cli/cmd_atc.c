/* `atc`: the conformance interface. Runs the pipeline on one CSV series and
 * writes every intermediate column, named as in the golden files. */
#include <stdlib.h>
#include <string.h>

#include "cli_internal.h"
#include "tg_accuracy.h"
#include "tg_data.h"
#include "tg_log.h"
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

static int write_csv(struct tg_sink *s, const struct tg_atc_params *p, const double *close,
		     int32_t n, const struct atc_buffers *b, int slots)
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
		tg_sink_printf(s, "%d", i);
		put_value(s, close[i]);
		put_value(s, b->r[i]);
		for (int f = 0; f < TG_ATC_FAMILIES; f++)
			put_value(s, b->ma[(size_t)f * n + i]);
		for (int f = 0; f < TG_ATC_FAMILIES; f++)
			put_value(s, b->l1[(size_t)f * n + i]);
		for (int f = 0; f < TG_ATC_FAMILIES; f++)
			put_value(s, b->l2[(size_t)f * n + i]);
		put_value(s, b->avg[i]);
		if (slots) {
			for (int f = 0; f < TG_ATC_FAMILIES; f++) {
				for (int k = 0; k < TG_ATC_SLOTS; k++)
					put_value(s, b->slot_ma[(size_t)(f * TG_ATC_SLOTS + k) * n + i]);
				for (int k = 0; k < TG_ATC_SLOTS; k++)
					tg_sink_printf(s, ",%d",
						       b->slot_sig[(size_t)(f * TG_ATC_SLOTS + k) * n + i]);
				for (int k = 0; k < TG_ATC_SLOTS; k++)
					put_value(s, b->slot_eq[(size_t)(f * TG_ATC_SLOTS + k) * n + i]);
			}
		}
		tg_sink_putc(s, '\n');
	}
	return 0;
}

int tg_cmd_atc(int argc, char **argv)
{
	const char *input = NULL, *output = "-", *backend_name = "cpu";
	int32_t mode = TG_MA_EXACT, slots = 0, quiet = 0;
	struct tg_atc_params params;
	tg_atc_params_default(&params);

	const struct tg_opt main_opts[] = {
		{"input", TG_OPT_STRING, &input, "FILE.csv",
		 "price series: a CSV with a header and a 'close' column (other columns are "
		 "ignored; 'nan' closes are gaps, as in spec §3.1)",
		 0, 0, NULL},
		{"output", TG_OPT_STRING, &output, "OUT.csv",
		 "where to write the columns ('-' = standard output, the default); written to a "
		 "temporary name and renamed",
		 0, 0, NULL},
		{"ma", TG_OPT_CHOICE, &mode, NULL, "exact (spec §3) or approximate (spec §11) MAs", 0,
		 0, mode_choices},
		{"backend", TG_OPT_STRING, &backend_name, "NAME",
		 "which backend computes it (default cpu; see 'trendgpu-bench info')", 0, 0, NULL},
		{"slots", TG_OPT_FLAG, &slots, NULL,
		 "also write all 54 MAs, crossover states and Layer-1 equities "
		 "(<FAM>_<slot>_L<n>, sig_..., eq_...)",
		 0, 0, NULL},
		{"quiet", TG_OPT_FLAG, &quiet, NULL, "do not print the final signal on stderr", 0, 0,
		 NULL},
	};
	struct tg_opt param_opts[32];
	int n_param = tg_cli_param_options(&params, param_opts, 32);
	const struct tg_opt_group groups[] = {
		{"Options", main_opts, (int)(sizeof(main_opts) / sizeof(main_opts[0]))},
		{"ATC parameters (spec §1)", param_opts, n_param},
	};
	const struct tg_cli_spec spec = {
		.command = "atc",
		.usage = "atc --input FILE.csv [--ma exact|approx] [--output OUT.csv] [parameters]",
		.description =
			"Runs the ATC pipeline on one price series and writes one row per bar: "
			"bar, close, R, the MA of each family at its base length (MA_EMA ... "
			"MA_KAMA), the Layer-1 signals (EMA_Signal ...), the Layer-2 equities "
			"(EMA_S ...) and Average_Signal, with floats printed %.17g and NaN as nan. "
			"These are the columns of the golden files, so the output can be compared "
			"with them directly. The final long/short signal (spec §10) is printed on "
			"stderr.",
		.groups = groups,
		.n_groups = 2,
		.epilog = "Example:\n  trendgpu-bench atc --input tests/golden/atc/A_grw_default_exact.csv "
			  "--output out.csv\n",
	};

	struct tg_error err;
	tg_error_clear(&err);
	const char *pos[1];
	int n_pos = 0;
	int rc = tg_cli_parse_command(&spec, argc, argv, pos, 0, &n_pos);
	if (rc != TG_CLI_CONTINUE)
		return rc;
	if (!input) {
		TG_ERR(&err, TG_E_INVAL, "--input FILE.csv is required");
		return tg_cli_usage_error("atc", &err);
	}
	params.ma_mode = mode;
	const struct tg_backend_ops *ops = tg_backend_find(backend_name);
	if (!ops) {
		TG_ERR(&err, TG_E_INVAL, "--backend: unknown or not built backend '%s'", backend_name);
		return tg_cli_usage_error("atc", &err);
	}
	if (tg_atc_params_validate(&params, 0, &err) < 0)
		return tg_cli_usage_error("atc", &err);

	struct tg_dataset ds;
	struct tg_load_opts lo = {.allow_nan = true,
				  .min_bars = tg_atc_max_length(&params),
				  .min_bars_reason = "the longest moving average"};
	if (tg_data_load(input, &lo, &ds, &err) < 0) {
		tg_log_error(&err);
		return TG_EXIT_FAILURE;
	}
	if (ds.n_symbols != 1) {
		tg_log(TG_LOG_ERROR, "atc: --input '%s' is a directory of %d series; give one CSV file",
		       input, ds.n_symbols);
		tg_data_free(&ds);
		return TG_EXIT_FAILURE;
	}
	if (tg_atc_params_validate(&params, ds.n_bars[0], &err) < 0) {
		tg_data_free(&ds);
		return tg_cli_usage_error("atc", &err);
	}

	const int32_t n = ds.n_bars[0];
	struct tg_batch batch = {.close = ds.close, .n_bars = ds.n_bars, .n_symbols = 1, .stride = n};
	struct atc_buffers b;
	memset(&b, 0, sizeof(b));
	size_t cell = (size_t)n;
	b.r = malloc(cell * sizeof(double));
	b.ma = malloc(TG_ATC_FAMILIES * cell * sizeof(double));
	b.l1 = malloc(TG_ATC_FAMILIES * cell * sizeof(double));
	b.l2 = malloc(TG_ATC_FAMILIES * cell * sizeof(double));
	b.avg = malloc(cell * sizeof(double));
	b.final_value = malloc(sizeof(double));
	b.final_signal = malloc(1);
	if (slots) {
		b.slot_ma = malloc(TG_ATC_MAS * cell * sizeof(double));
		b.slot_eq = malloc(TG_ATC_MAS * cell * sizeof(double));
		b.slot_sig = malloc(TG_ATC_MAS * cell);
	}
	int exit_code = TG_EXIT_FAILURE;
	void *state = NULL;
	struct tg_sink *sink = NULL;
	if (!b.r || !b.ma || !b.l1 || !b.l2 || !b.avg || !b.final_value || !b.final_signal ||
	    (slots && (!b.slot_ma || !b.slot_eq || !b.slot_sig))) {
		tg_log(TG_LOG_ERROR, "atc: out of memory for %d bars", n);
		goto out;
	}
	struct tg_atc_outputs out = {
		.average = b.avg, .final_signal = b.final_signal, .final_value = b.final_value,
		.r = b.r, .ma = b.ma, .l1_signal = b.l1, .l2_equity = b.l2,
		.slot_ma = b.slot_ma, .slot_signal = b.slot_sig, .slot_equity = b.slot_eq,
	};
	char reason[256];
	if (ops->probe(reason, sizeof(reason)) < 0) {
		tg_log(TG_LOG_ERROR, "atc: backend %s is unavailable: %s", ops->name, reason);
		goto out;
	}
	struct tg_backend_config cfg = {.threads = 1, .device = 0, .hooks = NULL};
	struct tg_backend_timing timing;
	if (ops->open(&cfg, &state, &err) < 0 ||
	    ops->run(state, &params, &batch, &out, &timing, &err) < 0) {
		tg_log_error(&err);
		goto out;
	}
	int32_t bad_symbol, bad_bar;
	const int64_t bad = tg_nonfinite_average(&batch, b.avg, &bad_symbol, &bad_bar);
	if (bad > 0) {
		tg_log(TG_LOG_ERROR,
		       "atc: '%s': Average_Signal is not a number at %lld bars with a price, the "
		       "first at bar %d (row %d): these prices overflow the pipeline; expected the "
		       "closes of one instrument",
		       input, (long long)bad, bad_bar, bad_bar + 2);
		goto out;
	}
	sink = strcmp(output, "-") == 0 ? tg_sink_open_stream(stdout, "<stdout>")
					: tg_sink_open_file(output, &err);
	if (!sink) {
		tg_log_error(&err);
		goto out;
	}
	write_csv(sink, &params, ds.close, n, &b, slots);
	rc = tg_sink_close(sink, &err);
	sink = NULL;
	if (rc < 0) {
		tg_log_error(&err);
		goto out;
	}
	if (!quiet) {
		int fs = b.final_signal[0];
		fprintf(stderr, "final signal: %s (last Average_Signal %.6g, |x| >= %g needed)\n",
			fs > 0 ? "LONG" : fs < 0 ? "SHORT" : "none", b.final_value[0],
			params.min_signal);
	}
	exit_code = TG_EXIT_OK;
out:
	tg_sink_abort(sink);
	if (state)
		ops->close(state);
	free_buffers(&b);
	tg_data_free(&ds);
	return exit_code;
}
