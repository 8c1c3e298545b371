/* The launcher's rank of this process, for the commands (cli_internal.h). */
#include "cli_internal.h"
#include "tg_ranks.h"
#include "tg_results.h"
#include "tg_str.h"

int tg_cli_rank(struct tg_rank_info *ri, struct tg_run_results *res, struct tg_error *err)
{
	TG_TRY(tg_ranks_from_env(NULL, NULL, ri, err));
	if (res && ri->size > 1) {
		res->rank = ri->rank;
		res->n_ranks = ri->size;
		res->local_rank = ri->local_rank;
		tg_strlcpy(res->launcher, tg_launcher_name(ri->launcher), sizeof(res->launcher));
	}
	return 0;
}
