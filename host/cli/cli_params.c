/* The ATC parameter options of spec §1, shared by `run` and `atc`. */
#include "cli_internal.h"

static const char *const robustness_choices[] = {"narrow", "medium", "wide", NULL};
static const char *const lsma_choices[] = {"last", "penultimate", NULL};

int tg_cli_param_options(struct tg_atc_params *p, struct tg_opt *o, int cap)
{
	static const char *const len_names[TG_ATC_FAMILIES] = {"ema-len", "hma-len", "wma-len",
								"dema-len", "lsma-len", "kama-len"};
	static const char *const w_names[TG_ATC_FAMILIES] = {"ema-w", "hma-w", "wma-w",
							      "dema-w", "lsma-w", "kama-w"};
	static const char *const len_help[TG_ATC_FAMILIES] = {
		"EMA base length (default 28)", "Hull MA base length (default 28)",
		"WMA base length (default 28)", "DEMA base length (default 28)",
		"LSMA base length (default 28)", "KAMA base length (default 28)"};
	static const char *const w_help[TG_ATC_FAMILIES] = {
		"EMA Layer-2 starting equity (default 1; floored at 0.25)",
		"HMA Layer-2 starting equity (default 1)", "WMA Layer-2 starting equity (default 1)",
		"DEMA Layer-2 starting equity (default 1)", "LSMA Layer-2 starting equity (default 1)",
		"KAMA Layer-2 starting equity (default 1)"};
	int n = 0;
	if (cap < 24)
		return 0;
	for (int f = 0; f < TG_ATC_FAMILIES; f++)
		o[n++] = (struct tg_opt){len_names[f], TG_OPT_INT, &p->length[f], "N", len_help[f],
					 1, 1000000, NULL};
	for (int f = 0; f < TG_ATC_FAMILIES; f++)
		o[n++] = (struct tg_opt){w_names[f], TG_OPT_DOUBLE, &p->weight[f], "W", w_help[f], 0,
					 0, NULL};
	o[n++] = (struct tg_opt){"lambda", TG_OPT_DOUBLE, &p->lambda, "X",
				 "growth rate in user units, used as X/1000 (default 0.02)", 0, 0,
				 NULL};
	o[n++] = (struct tg_opt){"decay", TG_OPT_DOUBLE, &p->decay, "X",
				 "equity decay in user units, used as 1 - X/100 (default 0.03)", 0, 0,
				 NULL};
	o[n++] = (struct tg_opt){"cutout", TG_OPT_INT, &p->cutout, "N",
				 "leading bars excluded from Layer 2 and Average_Signal (default 0)",
				 0, 0, NULL};
	o[n++] = (struct tg_opt){"robustness", TG_OPT_CHOICE, &p->robustness, NULL,
				 "length offsets around each base length: narrow 1-4, medium "
				 "1,2,4,6 (default), wide 1,3,5,7",
				 0, 0, robustness_choices};
	o[n++] = (struct tg_opt){"long-threshold", TG_OPT_DOUBLE, &p->long_threshold, "X",
				 "Cut: a Layer-1 signal above X counts +1 (default 0.1)", 0, 0, NULL};
	o[n++] = (struct tg_opt){"short-threshold", TG_OPT_DOUBLE, &p->short_threshold, "X",
				 "Cut: a Layer-1 signal below X counts -1 (default -0.1)", 0, 0, NULL};
	o[n++] = (struct tg_opt){"min-signal", TG_OPT_DOUBLE, &p->min_signal, "X",
				 "final signal: |last Average_Signal| below X is no signal (default "
				 "0.01)",
				 0, 0, NULL};
	o[n++] = (struct tg_opt){"lsma-point", TG_OPT_CHOICE, &p->lsma_point, NULL,
				 "where the LSMA line is read: last point of the window (default, "
				 "the project's definition) or penultimate (pandas_ta linreg)",
				 0, 0, lsma_choices};
	o[n++] = (struct tg_opt){"strategy-mode", TG_OPT_FLAG, &p->strategy_mode, NULL,
				 "shift Average_Signal by one bar (bar 0 = 0), as the reference's "
				 "strategy_mode",
				 0, 0, NULL};
	return n;
}
