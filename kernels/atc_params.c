/* Parameters of spec §1: defaults, validation, derived lengths, names. */
#include "tg_kernels.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char *const family_names[TG_ATC_FAMILIES] = {"EMA", "HMA", "WMA", "DEMA", "LSMA", "KAMA"};
static const char *const family_options[TG_ATC_FAMILIES] = {"--ema-len", "--hma-len", "--wma-len",
							    "--dema-len", "--lsma-len", "--kama-len"};
static const char *const weight_options[TG_ATC_FAMILIES] = {"--ema-w", "--hma-w", "--wma-w",
							    "--dema-w", "--lsma-w", "--kama-w"};
static const char *const slot_names[TG_ATC_SLOTS] = {"MA", "MA1", "MA2", "MA3", "MA4",
						     "MA_1", "MA_2", "MA_3", "MA_4"};
static const char *const robustness_names[] = {"narrow", "medium", "wide"};
static const int32_t robustness_offsets[3][4] = {{1, 2, 3, 4}, {1, 2, 4, 6}, {1, 3, 5, 7}};

/* A length this long already needs ~1 GB per series of the MA's warm-up;
 * anything beyond is a typo. */
#define TG_MAX_LENGTH 1000000

void tg_atc_params_default(struct tg_atc_params *p)
{
	for (int f = 0; f < TG_ATC_FAMILIES; f++) {
		p->length[f] = 28;
		p->weight[f] = 1.0;
	}
	p->lambda = 0.02;
	p->decay = 0.03;
	p->cutout = 0;
	p->robustness = TG_ROBUST_MEDIUM;
	p->long_threshold = 0.1;
	p->short_threshold = -0.1;
	p->min_signal = 0.01;
	p->ma_mode = TG_MA_EXACT;
	p->lsma_point = TG_LSMA_LAST;
	p->strategy_mode = 0;
	p->reserved = 0;
}

void tg_atc_slot_lengths(const struct tg_atc_params *p, int family, int32_t out[TG_ATC_SLOTS])
{
	int r = p->robustness >= 0 && p->robustness <= 2 ? p->robustness : TG_ROBUST_MEDIUM;
	int32_t L = p->length[family];
	out[0] = L;
	for (int k = 0; k < 4; k++) {
		out[1 + k] = L + robustness_offsets[r][k];
		out[5 + k] = L - robustness_offsets[r][k];
	}
}

int32_t tg_atc_max_length(const struct tg_atc_params *p)
{
	int32_t m = 0;
	for (int f = 0; f < TG_ATC_FAMILIES; f++) {
		int32_t len[TG_ATC_SLOTS];
		tg_atc_slot_lengths(p, f, len);
		int last = p->ma_mode == TG_MA_APPROX ? 1 : TG_ATC_SLOTS;
		for (int k = 0; k < last; k++)
			if (len[k] > m)
				m = len[k];
	}
	return m;
}

int32_t tg_atc_min_length(const struct tg_atc_params *p)
{
	int32_t m = INT32_MAX;
	for (int f = 0; f < TG_ATC_FAMILIES; f++) {
		int32_t len[TG_ATC_SLOTS];
		tg_atc_slot_lengths(p, f, len);
		int last = p->ma_mode == TG_MA_APPROX ? 1 : TG_ATC_SLOTS;
		for (int k = 0; k < last; k++)
			if (len[k] < m)
				m = len[k];
	}
	return m;
}

int tg_atc_params_validate(const struct tg_atc_params *p, int32_t min_bars, struct tg_error *err)
{
	TG_FAIL_IF(p->robustness < 0 || p->robustness > 2, err, TG_E_INVAL,
		   "parameters: --robustness: %d is not narrow, medium or wide", p->robustness);
	TG_FAIL_IF(p->ma_mode != TG_MA_EXACT && p->ma_mode != TG_MA_APPROX, err, TG_E_INVAL,
		   "parameters: --ma: %d is not exact or approx", p->ma_mode);
	TG_FAIL_IF(p->lsma_point != TG_LSMA_LAST && p->lsma_point != TG_LSMA_PENULTIMATE, err,
		   TG_E_INVAL, "parameters: --lsma-point: %d is not last or penultimate",
		   p->lsma_point);
	const int32_t largest_offset = robustness_offsets[p->robustness][3];
	for (int f = 0; f < TG_ATC_FAMILIES; f++) {
		int32_t L = p->length[f];
		TG_FAIL_IF(L > TG_MAX_LENGTH, err, TG_E_RANGE,
			   "parameters: %s %d: longer than the maximum of %d bars", family_options[f], L,
			   TG_MAX_LENGTH);
		if (p->ma_mode == TG_MA_APPROX) {
			TG_FAIL_IF(L < 2, err, TG_E_RANGE,
				   "parameters: %s %d: a moving average needs a length of at least 2",
				   family_options[f], L);
		} else {
			TG_FAIL_IF(L - largest_offset < 2, err, TG_E_RANGE,
				   "parameters: %s %d: robustness %s derives lengths down to %d; every "
				   "length must be at least 2, so %s must be at least %d",
				   family_options[f], L, robustness_names[p->robustness],
				   L - largest_offset, family_options[f], 2 + largest_offset);
		}
		TG_FAIL_IF(!isfinite(p->weight[f]) || p->weight[f] < 0, err, TG_E_RANGE,
			   "parameters: %s %g: expected a finite weight >= 0 (it is floored at 0.25)",
			   weight_options[f], p->weight[f]);
	}
	TG_FAIL_IF(!isfinite(p->lambda) || fabs(p->lambda) > 1e6, err, TG_E_RANGE,
		   "parameters: --lambda %g: expected a finite value (user units, used as "
		   "lambda/1000)",
		   p->lambda);
	TG_FAIL_IF(!isfinite(p->decay) || p->decay < 0 || p->decay >= 100, err, TG_E_RANGE,
		   "parameters: --decay %g: expected 0 <= decay < 100 (user units, used as "
		   "1 - decay/100)",
		   p->decay);
	TG_FAIL_IF(p->cutout < 0, err, TG_E_RANGE,
		   "parameters: --cutout %d: expected a number of bars >= 0", p->cutout);
	TG_FAIL_IF(!isfinite(p->long_threshold) || !isfinite(p->short_threshold), err, TG_E_RANGE,
		   "parameters: --long-threshold/--short-threshold must be finite");
	TG_FAIL_IF(p->short_threshold > p->long_threshold, err, TG_E_RANGE,
		   "parameters: --short-threshold %g is above --long-threshold %g",
		   p->short_threshold, p->long_threshold);
	TG_FAIL_IF(!isfinite(p->min_signal) || p->min_signal < 0, err, TG_E_RANGE,
		   "parameters: --min-signal %g: expected a finite value >= 0", p->min_signal);
	TG_FAIL_IF(p->strategy_mode != 0 && p->strategy_mode != 1, err, TG_E_INVAL,
		   "parameters: strategy_mode %d: expected 0 or 1", p->strategy_mode);
	if (min_bars > 0) {
		int32_t longest = tg_atc_max_length(p);
		TG_FAIL_IF(min_bars < longest, err, TG_E_RANGE,
			   "parameters: a series of %d bars is shorter than the longest moving "
			   "average (%d bars)",
			   min_bars, longest);
		TG_FAIL_IF(p->cutout >= min_bars, err, TG_E_RANGE,
			   "parameters: --cutout %d: must be smaller than the number of bars (%d)",
			   p->cutout, min_bars);
	}
	return 0;
}

const char *tg_family_name(int family)
{
	return family >= 0 && family < TG_ATC_FAMILIES ? family_names[family] : "?";
}

int tg_family_parse(const char *name)
{
	for (int f = 0; f < TG_ATC_FAMILIES; f++)
		if (strcasecmp(name, family_names[f]) == 0)
			return f;
	return -1;
}

int tg_family_set_parse(const char *what, const char *text, uint32_t *set, struct tg_error *err)
{
	*set = 0;
	if (!text || !*text || strcasecmp(text, "none") == 0)
		return 0;
	if (strcasecmp(text, "all") == 0) {
		*set = (1u << TG_ATC_FAMILIES) - 1;
		return 0;
	}
	for (const char *p = text; *p;) {
		const size_t len = strcspn(p, ",");
		char name[16];
		int f = -1;
		if (len > 0 && len < sizeof(name)) {
			memcpy(name, p, len);
			name[len] = '\0';
			f = tg_family_parse(name);
		}
		if (f < 0)
			return TG_ERR(err, TG_E_INVAL,
				      "%s '%s': '%.*s' is not a family; expected all, none or a "
				      "comma-separated list of EMA, HMA, WMA, DEMA, LSMA, KAMA",
				      what, text, (int)len, p);
		*set |= 1u << f;
		p += len;
		if (*p == ',' && *++p == '\0')
			return TG_ERR(err, TG_E_INVAL, "%s '%s': a family name must follow the comma",
				      what, text);
	}
	return 0;
}

const char *tg_slot_name(int slot)
{
	return slot >= 0 && slot < TG_ATC_SLOTS ? slot_names[slot] : "?";
}

const char *tg_ma_mode_name(int mode)
{
	return mode == TG_MA_EXACT ? "exact" : mode == TG_MA_APPROX ? "approx" : "?";
}

int tg_ma_mode_parse(const char *name)
{
	if (strcasecmp(name, "exact") == 0)
		return TG_MA_EXACT;
	if (strcasecmp(name, "approx") == 0)
		return TG_MA_APPROX;
	return -1;
}

const char *tg_robustness_name(int r)
{
	return r >= 0 && r <= 2 ? robustness_names[r] : "?";
}

int tg_robustness_parse(const char *name)
{
	for (int r = 0; r < 3; r++)
		if (strcasecmp(name, robustness_names[r]) == 0)
			return r;
	return -1;
}

const char *tg_lsma_point_name(int p)
{
	return p == TG_LSMA_LAST ? "last" : p == TG_LSMA_PENULTIMATE ? "penultimate" : "?";
}

int tg_lsma_point_parse(const char *name)
{
	if (strcasecmp(name, "last") == 0)
		return TG_LSMA_LAST;
	if (strcasecmp(name, "penultimate") == 0)
		return TG_LSMA_PENULTIMATE;
	return -1;
}

int32_t tg_batch_bars(const struct tg_batch *b, int32_t symbol)
{
	return b->n_bars ? b->n_bars[symbol] : b->stride;
}

int tg_atc_mas_per_bar(int32_t ma_mode)
{
	return ma_mode == TG_MA_APPROX ? TG_ATC_FAMILIES : TG_ATC_MAS;
}

double tg_batch_total_bars(const struct tg_batch *b)
{
	double bars = 0;
	for (int32_t s = 0; s < b->n_symbols; s++)
		bars += tg_batch_bars(b, s);
	return bars;
}
