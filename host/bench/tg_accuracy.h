/* Accuracy of the approximate MAs against the exact ones, and agreement of
 * Average_Signal across backends, accumulated over batches of symbols so
 * any dataset size fits in bounded memory.
 */
#ifndef TG_ACCURACY_H
#define TG_ACCURACY_H

#include <stdint.h>

#include "tg_kernels.h"
#include "tg_results.h"

#ifdef __cplusplus
extern "C" {
#endif

struct tg_accuracy_acc {
	struct {
		double sum_rel, max_rel;
		int64_t n_valid, n_within5, n_sign, n_bars;
	} fam[TG_ATC_FAMILIES];
	int64_t avg_sign, avg_below, avg_bars;
	double avg_max_abs;
	/* the decision: min_signal of the final signal (spec §10) */
	double min_signal;
	int64_t symbols, flipped, class_diff;
	int n_listed;
	int32_t flip_symbol[TG_RESULTS_FLIPS_LISTED];
	int8_t flip_exact[TG_RESULTS_FLIPS_LISTED], flip_approx[TG_RESULTS_FLIPS_LISTED];
};

/* min_signal: the final signal's threshold (tg_atc_params.min_signal) */
void tg_accuracy_acc_init(struct tg_accuracy_acc *a, double min_signal);
/* exact and approx carry ma, l1_signal, average and final_signal for the
 * batch, whose symbol 0 is symbol `first` of the dataset. */
void tg_accuracy_acc_add(struct tg_accuracy_acc *a, const struct tg_batch *b, int32_t first,
			 const struct tg_atc_outputs *exact, const struct tg_atc_outputs *approx);
/* The final signal's class of an Average_Signal value: +1, -1, or 0 when
 * NaN or |v| < min_signal (spec §10) */
int tg_decision_class(double v, double min_signal);
void tg_accuracy_acc_finish(const struct tg_accuracy_acc *a, struct tg_accuracy *out);

struct tg_agreement_acc {
	double max_abs;
	int64_t n_sign, n_bars;
	/* the first cell holding max_abs (symbol of the batch, bar); -1 when
	 * every cell agreed */
	int32_t worst_symbol, worst_bar;
	double worst_ref, worst_other;
};

void tg_agreement_acc_init(struct tg_agreement_acc *a);
/* Average_Signal rows [S][stride] of a reference and another backend. */
void tg_agreement_acc_add(struct tg_agreement_acc *a, const struct tg_batch *b, const double *ref,
			  const double *other);
void tg_agreement_acc_finish(const struct tg_agreement_acc *a, struct tg_agreement *out);

/* Bars where the close is finite but Average_Signal is not: what prices
 * the pipeline cannot hold give (none ever should). Returns their count,
 * the first one's symbol and bar in *symbol, *bar (-1 when none). */
int64_t tg_nonfinite_average(const struct tg_batch *b, const double *average, int32_t *symbol,
			     int32_t *bar);

/* sign in {-1, 0, 1}, NaN -> 2 (agrees only with NaN) */
int tg_sign_class(double v);

#ifdef __cplusplus
}
#endif

#endif
