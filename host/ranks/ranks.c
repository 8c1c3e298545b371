/* Ranks without MPI calls: the launcher's environment, the split of a batch
 * by bars (tg_ranks.h). */
#include <limits.h>
#include <stdlib.h>

#include "tg_ranks.h"
#include "tg_str.h"

static const char *env_getenv(const char *name, void *ctx)
{
	(void)ctx;
	return getenv(name);
}

const char *tg_launcher_name(enum tg_launcher l)
{
	switch (l) {
	case TG_LAUNCH_OPENMPI:
		return "Open MPI";
	case TG_LAUNCH_PMIX:
		return "PMIx";
	case TG_LAUNCH_MPICH:
		return "MPICH/PMI";
	case TG_LAUNCH_MVAPICH:
		return "MVAPICH";
	case TG_LAUNCH_SLURM:
		return "Slurm";
	default:
		return "none";
	}
}

/* the variables of each launcher, most specific first: a process under
 * srun with Open MPI's PMIx sees several sets, which agree */
static const struct {
	enum tg_launcher launcher;
	const char *rank, *size, *local_rank, *local_size;
} launchers[] = {
	{TG_LAUNCH_OPENMPI, "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_RANK",
	 "OMPI_COMM_WORLD_LOCAL_SIZE"},
	{TG_LAUNCH_MVAPICH, "MV2_COMM_WORLD_RANK", "MV2_COMM_WORLD_SIZE", "MV2_COMM_WORLD_LOCAL_RANK",
	 "MV2_COMM_WORLD_LOCAL_SIZE"},
	{TG_LAUNCH_PMIX, "PMIX_RANK", "PMIX_SIZE", "PMIX_LOCAL_RANK", "PMIX_LOCAL_SIZE"},
	{TG_LAUNCH_MPICH, "PMI_RANK", "PMI_SIZE", "MPI_LOCALRANKID", "MPI_LOCALNRANKS"},
	{TG_LAUNCH_SLURM, "SLURM_PROCID", "SLURM_NTASKS", "SLURM_LOCALID", "SLURM_NTASKS_PER_NODE"},
};

/* a variable as an int in [lo, hi]; absent: *v untouched, 0 */
static int env_int(tg_env_fn env, void *ctx, const char *name, int lo, int hi, int *v, int *present,
		   struct tg_error *err)
{
	const char *s = env(name, ctx);
	*present = s != NULL && *s != '\0';
	if (!*present)
		return 0;
	long x = 0;
	if (!tg_parse_int(s, lo, hi, &x))
		return TG_ERR(err, TG_E_INVAL,
			      "ranks: the launcher's %s is '%s'; expected a whole number from %d to %d", name, s,
			      lo, hi);
	*v = (int)x;
	return 0;
}

int tg_ranks_from_env(tg_env_fn env, void *ctx, struct tg_rank_info *out, struct tg_error *err)
{
	if (!env)
		env = env_getenv;
	*out = (struct tg_rank_info){TG_LAUNCH_NONE, 0, 1, -1, -1};
	for (size_t i = 0; i < sizeof(launchers) / sizeof(launchers[0]); i++) {
		int rank = 0, size = 1, have_rank = 0, have_size = 0;
		if (env_int(env, ctx, launchers[i].rank, 0, INT_MAX - 1, &rank, &have_rank, err) < 0 ||
		    env_int(env, ctx, launchers[i].size, 1, INT_MAX, &size, &have_size, err) < 0)
			return -1;
		if (!have_rank && !have_size)
			continue;
		if (!have_rank || !have_size)
			return TG_ERR(err, TG_E_INVAL, "ranks: %s is set but %s is not", have_rank ? launchers[i].rank : launchers[i].size,
				      have_rank ? launchers[i].size : launchers[i].rank);
		if (rank >= size)
			return TG_ERR(err, TG_E_INVAL, "ranks: %s is %d, not below %s (%d)", launchers[i].rank, rank,
				      launchers[i].size, size);
		int lr = -1, ls = -1, have_lr = 0, have_ls = 0;
		if (env_int(env, ctx, launchers[i].local_rank, 0, rank, &lr, &have_lr, err) < 0)
			return -1;
		/* Slurm's tasks per node may be a list ("2(x3),1"): a count only
		 * when it is one number */
		long x = 0;
		if (launchers[i].launcher == TG_LAUNCH_SLURM) {
			if (tg_parse_int(env(launchers[i].local_size, ctx), 1, size, &x))
				ls = (int)x, have_ls = 1;
		} else if (env_int(env, ctx, launchers[i].local_size, 1, size, &ls, &have_ls, err) < 0) {
			return -1;
		}
		if (have_lr && have_ls && lr >= ls)
			return TG_ERR(err, TG_E_INVAL, "ranks: %s is %d, not below %s (%d)", launchers[i].local_rank, lr,
				      launchers[i].local_size, ls);
		*out = (struct tg_rank_info){launchers[i].launcher, rank, size, have_lr ? lr : -1, have_ls ? ls : -1};
		return 0;
	}
	return 0;
}

int tg_ranks_split(const int32_t *bars, int32_t n, int size, int32_t *first, struct tg_error *err)
{
	if (n < 0 || size < 1)
		return TG_ERR(err, TG_E_INVAL, "ranks: cannot split %d symbols over %d ranks", n, size);
	double total = 0;
	for (int32_t s = 0; s < n; s++) {
		const int32_t b = bars ? bars[s] : 1;
		if (b < 0)
			return TG_ERR(err, TG_E_INVAL, "ranks: symbol %d has %d bars", s, b);
		total += b;
	}
	/* rank r ends its range at the first symbol boundary whose prefix is
	 * nearest to (r + 1) / size of the total */
	first[0] = 0;
	double prefix = 0;
	int32_t s = 0;
	for (int r = 0; r < size - 1; r++) {
		const double target = total * (double)(r + 1) / (double)size;
		while (s < n) {
			const double b = bars ? bars[s] : 1;
			/* take symbol s when that brings the prefix closer to the target */
			if (prefix + b - target > target - prefix)
				break;
			prefix += b;
			s++;
		}
		first[r + 1] = s;
	}
	first[size] = n;
	return 0;
}
