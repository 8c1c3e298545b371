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
};

void tg_accuracy_acc_init(struct tg_accuracy_acc *a);
/* exact and approx carry ma, l1_signal and average for the batch. */
void tg_accuracy_acc_add(struct tg_accuracy_acc *a, const struct tg_batch *b,
			 const struct tg_atc_outputs *exact, const struct tg_atc_outputs *approx);
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
