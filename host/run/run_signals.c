/* Per-symbol signals as CSV (run --signals, atc --input DIR): one row per
 * symbol x backend x MA mode, the last Average_Signal, the final signal
 * and whether it agrees with the exact one. */
#include <stdio.h>
#include <string.h>

#include "tg_data.h"
#include "tg_run.h"
#include "tg_sink.h"

const char tg_signals_header[] = "symbol,backend,ma,bars,last_average,final_signal,"
				 "compared_with,exact_final_signal,agrees_with_exact\n";

/* A CSV field: quoted (quotes doubled) when it holds a comma, a quote or a
 * line break. */
static void put_field(struct tg_sink *s, const char *text)
{
	if (!strpbrk(text, ",\"\r\n")) {
		tg_sink_puts(s, text);
		return;
	}
	tg_sink_putc(s, '"');
	for (const char *p = text; *p; p++) {
		if (*p == '"')
			tg_sink_putc(s, '"');
		tg_sink_putc(s, *p);
	}
	tg_sink_putc(s, '"');
}

void tg_signals_write_row(struct tg_sink *s, const struct tg_signal_row *row)
{
	put_field(s, row->symbol);
	tg_sink_putc(s, ',');
	put_field(s, row->backend);
	tg_sink_printf(s, ",%s,%d,", row->ma, row->bars);
	if (row->last_average == row->last_average)
		tg_sink_printf(s, "%.17g", row->last_average);
	else
		tg_sink_puts(s, "NaN");
	tg_sink_printf(s, ",%s,", tg_signal_name(row->final_signal));
	if (row->compared_with && row->compared_with[0])
		tg_sink_printf(s, "%s,%s,%s\n", row->compared_with, tg_signal_name(row->exact_final),
			       row->exact_final == row->final_signal ? "yes" : "no");
	else
		tg_sink_puts(s, ",,\n");
}

/* The exact state a state's final signals are compared with: its own
 * backend's for approx, else the first backend's that ran exact (for an
 * exact state: the cross-backend check). NULL when none ran. */
static const struct tg_state_result *exact_for(const struct tg_run_results *r,
					       const struct tg_state_result *st)
{
	if (strcmp(st->ma_mode, "approx") == 0) {
		const struct tg_state_result *own = tg_results_find_state(r, st->backend, "exact");
		if (own && own->final_signal)
			return own;
	}
	for (int i = 0; i < r->n_states; i++)
		if (strcmp(r->states[i].ma_mode, "exact") == 0 && r->states[i].final_signal)
			return &r->states[i];
	return NULL;
}

int tg_run_write_signals(const struct tg_run_results *r, const struct tg_dataset *ds,
			 const char *path, int64_t *rows, struct tg_error *err)
{
	/* each state's exact counterpart and its name, found once (a run
	 * has at most TG_RUN_MAX_BACKENDS x TG_RUN_MAX_MODES states) */
	enum { MAX_STATES = TG_RUN_MAX_BACKENDS * TG_RUN_MAX_MODES };
	const struct tg_state_result *ex[MAX_STATES];
	char with[MAX_STATES][40];
	const int n_states = r->n_states < MAX_STATES ? r->n_states : MAX_STATES;
	for (int i = 0; i < n_states; i++) {
		ex[i] = exact_for(r, &r->states[i]);
		with[i][0] = '\0';
		if (ex[i])
			snprintf(with[i], sizeof(with[i]), "%s exact", ex[i]->backend);
	}
	struct tg_sink *s = tg_sink_open_file(path, err);
	if (!s)
		return err ? err->code : TG_E_IO;
	tg_sink_puts(s, tg_signals_header);
	int64_t n = 0;
	for (int32_t sym = 0; sym < ds->n_symbols; sym++) {
		char buf[32];
		const char *name = tg_data_symbol_name(ds, sym, buf);
		for (int i = 0; i < n_states; i++) {
			const struct tg_state_result *st = &r->states[i];
			if (!st->final_signal || sym >= st->n_symbols)
				continue;
			const struct tg_signal_row row = {
				.symbol = name,
				.backend = st->backend,
				.ma = st->ma_mode,
				.bars = ds->n_bars[sym],
				.last_average = st->last_average[sym],
				.final_signal = st->final_signal[sym],
				.compared_with = with[i],
				.exact_final = ex[i] ? ex[i]->final_signal[sym] : 0,
			};
			tg_signals_write_row(s, &row);
			n++;
		}
	}
	if (rows)
		*rows = n;
	return tg_sink_close(s, err);
}
