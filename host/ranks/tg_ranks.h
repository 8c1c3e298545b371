/* Ranks: what a process launched by mpirun, mpiexec or srun is, and the
 * arithmetic that splits a batch across ranks. Everything here is pure (no
 * MPI calls), so it is built and tested with or without MPI in the build;
 * the collective calls come on top of it.
 *
 * - tg_ranks_from_env: rank, size and local rank from the launcher's
 *   environment (Open MPI, MPICH/Hydra and PMI, PMIx, MVAPICH, Slurm), for
 *   naming per-rank captures even when the program itself does not use MPI
 *   (record -- mpirun ... ./app).
 * - tg_ranks_split: contiguous ranges of symbols, one per rank, balanced by
 *   bars (not by count), so that symbol order is kept for the gather.
 * A rank's clock goes onto the reference rank's with tg_clock_measure (a
 * ping-pong as the foreign read), tg_clock_fit and tg_clock_apply of
 * tg_clock.h, the alignment CUPTI's clock gets. */
#ifndef TG_RANKS_H
#define TG_RANKS_H

#include <stddef.h>
#include <stdint.h>

#include "tg_error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* the launchers whose environment names a rank */
enum tg_launcher {
	TG_LAUNCH_NONE = 0, /* not under a launcher: one process, rank 0 of 1 */
	TG_LAUNCH_OPENMPI,
	TG_LAUNCH_PMIX,
	TG_LAUNCH_MPICH, /* Hydra and PMI-1/2: PMI_RANK, PMI_SIZE */
	TG_LAUNCH_MVAPICH,
	TG_LAUNCH_SLURM,
};

struct tg_rank_info {
	enum tg_launcher launcher;
	int rank, size;
	int local_rank, local_size; /* on this host; -1 when not said */
};

/* getenv, or a table in tests */
typedef const char *(*tg_env_fn)(const char *name, void *ctx);

/* The rank of this process from the environment (env NULL: getenv). A
 * launcher's variables that are present but bad (not a number, rank out of
 * [0, size)) are an error naming the variable and its value. Without any:
 * rank 0 of 1, TG_LAUNCH_NONE. */
int tg_ranks_from_env(tg_env_fn env, void *ctx, struct tg_rank_info *out, struct tg_error *err);
const char *tg_launcher_name(enum tg_launcher l);

/* Rank r's symbols [first[r], first[r + 1]) of n symbols whose bar counts
 * are bars[] (NULL: all equal), first[] of size + 1 entries: contiguous
 * ranges whose bar totals are as even as whole symbols allow (each range
 * ends at the symbol that crosses the rank's share of the total). A rank
 * may get no symbol when there are fewer symbols than ranks. */
int tg_ranks_split(const int32_t *bars, int32_t n, int size, int32_t *first, struct tg_error *err);

/* the imbalance of per-rank loads: tg_stats_imbalance (tg_stats.h) */

#ifdef __cplusplus
}
#endif
#endif
