/* The options that say how price files load (--price, --timeframe,
 * --select), one definition for `run --data` and `atc --input`. */
#include <string.h>

#include "cli_internal.h"
#include "tg_data.h"

int tg_cli_data_options(struct tg_cli_data *d, const char *with, struct tg_opt *opts, int cap)
{
	snprintf(d->help[0], sizeof(d->help[0]),
		 "%sthe price column (default close; adj-close: yfinance's Adj Close)", with);
	snprintf(d->help[1], sizeof(d->help[1]),
		 "%sresample to bars of this size (N then s, m, h, d or w; the close of a bar is "
		 "the last close in its interval)",
		 with);
	snprintf(d->help[2], sizeof(d->help[2]),
		 "%sonly the symbols (file names without .csv) that match the shell pattern "
		 "(BTC*, [A-F]*)",
		 with);
	const struct tg_opt all[] = {
		{"price", TG_OPT_STRING, &d->price, "close|adj-close", d->help[0], 0, 0, NULL},
		{"timeframe", TG_OPT_STRING, &d->timeframe, "15m|1h|1d", d->help[1], 0, 0, NULL},
		{"select", TG_OPT_STRING, &d->select, "PATTERN", d->help[2], 0, 0, NULL},
	};
	const int n = (int)(sizeof(all) / sizeof(all[0]));
	if (cap < n)
		return 0;
	memcpy(opts, all, sizeof(all));
	return n;
}

int tg_cli_data_check(struct tg_cli_data *d, struct tg_error *err)
{
	d->timeframe_ms = 0;
	TG_FAIL_IF(d->price && strcmp(d->price, "close") != 0 && strcmp(d->price, "adj-close") != 0,
		   err, TG_E_INVAL, "--price: expected close or adj-close, got '%s'", d->price);
	TG_FAIL_IF(d->timeframe && tg_timeframe_parse(d->timeframe, &d->timeframe_ms) < 0, err,
		   TG_E_INVAL, "--timeframe: expected a bar size such as 15m, 1h, 4h or 1d, got '%s'",
		   d->timeframe);
	return 0;
}

const char *tg_cli_data_given(const struct tg_cli_data *d)
{
	return d->select ? "select" : d->price ? "price" : d->timeframe ? "timeframe" : NULL;
}
