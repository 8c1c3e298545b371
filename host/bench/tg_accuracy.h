/* Accuracy of the approximate MAs against the exact ones, and agreement of
 * Average_Signal across backends, accumulated over batches of symbols so
 * any dataset size fits in bounded memory.
 */
#ifndef TG_ACCURACY_H
#define TG_ACCURACY_H

#include <stdbool.h>
#include <stdint.h>

#include "tg_kernels.h"
#include "tg_results.h"

#ifdef __cplusplus
extern "C" {
#endif

struct tg_rel_acc {
	double sum_rel, max_rel;
	int64_t n_valid, n_within5;
};

struct tg_accuracy_acc {
	struct {
		struct tg_rel_acc base;              /* approx vs exact at the base length */
		struct tg_rel_acc slot[TG_ATC_SLOTS]; /* approx vs the exact MA of slot k */
		int32_t length[TG_ATC_SLOTS];
		int64_t n_sign, n_bars;
		/* Layer-1 sign classes (-1, 0, +1) of exact x approx, bars where
		 * both are numbers */
		int64_t classes[3][3];
	} fam[TG_ATC_FAMILIES];
	bool slots_seen; /* exact slot MAs were given */
	int64_t avg_sign, avg_below, avg_bars;
	double avg_max_abs;
	/* the decision: min_signal of the final signal (spec §10) */
	double min_signal;
	int64_t symbols, flipped, class_diff;
	struct tg_flip *flips; /* owned until finish hands them over */
	int64_t n_flips, cap_flips;
};

/* p: the run's parameters (the final signal's threshold, the slot lengths) */
void tg_accuracy_acc_init(struct tg_accuracy_acc *a, const struct tg_atc_params *p);
/* exact and approx carry ma, l1_signal, average and final_signal for the
 * batch, whose symbol 0 is symbol `first` of the dataset; exact->slot_ma,
 * when given, adds the error against each of the nine exact slots. */
void tg_accuracy_acc_add(struct tg_accuracy_acc *a, const struct tg_batch *b, int32_t first,
			 const struct tg_atc_outputs *exact, const struct tg_atc_outputs *approx);
/* Fills out and hands it the list of flips (out->flips is then out's to
 * free; its names are left empty for the caller); the accumulator is
 * spent. */
void tg_accuracy_acc_finish(struct tg_accuracy_acc *a, struct tg_accuracy *out);
/* Frees what an unfinished accumulator holds. */
void tg_accuracy_acc_fini(struct tg_accuracy_acc *a);
/* b's counts added to a, as if a had gone on over b's symbols (a run split
 * across ranks: b is the next rank's); b's flips (n of them, its own list
 * or one received from a rank) get `first` added to their symbols. Sums
 * of errors are added, not recomputed in one order: means may differ from
 * one process's in the last bits. */
void tg_accuracy_acc_merge(struct tg_accuracy_acc *a, const struct tg_accuracy_acc *b,
			   const struct tg_flip *flips, int64_t n, int32_t first);
/* Cohen's kappa of a confusion matrix of classes, its observed and chance
 * agreement; NaN where undefined (no bars, or chance agreement 1). */
double tg_kappa(const int64_t classes[3][3], double *observed, double *chance);

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
/* b (the symbols after a's; its worst symbol shifted by `first`) into a:
 * the same result as one accumulator over both (the worst cell is the
 * first of the largest). */
void tg_agreement_acc_merge(struct tg_agreement_acc *a, const struct tg_agreement_acc *b,
			    int32_t first);

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
