/* The launcher's rank of this process, for the commands (cli_internal.h). */
#include "cli_internal.h"
#include "tg_log.h"
#include "tg_ranks.h"
#include "tg_results.h"
#include "tg_str.h"

int tg_cli_rank(struct tg_rank_info *ri)
{
	struct tg_error err;
	tg_error_clear(&err);
	if (tg_ranks_from_env(NULL, NULL, ri, &err) < 0) {
		tg_log_error(&err);
		return -1;
	}
	return 0;
}

void tg_cli_rank_results(const struct tg_rank_info *ri, struct tg_run_results *res)
{
	if (ri->size <= 1)
		return;
	res->rank = ri->rank;
	res->n_ranks = ri->size;
	res->local_rank = ri->local_rank;
	tg_strlcpy(res->launcher, tg_launcher_name(ri->launcher), sizeof(res->launcher));
}
