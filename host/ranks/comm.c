/* The collective operations over any comm table (tg_comm.h): the single
 * process case, the variable gather and the agreement built on the
 * table's primitives. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "tg_comm.h"
#include "tg_log.h"
#include "tg_str.h"

static bool alone(const struct tg_comm *c)
{
	return !c || c->size <= 1 || !c->ops;
}

int tg_comm_timeout_from_env(double *timeout_s, struct tg_error *err)
{
	*timeout_s = TG_COMM_DEFAULT_TIMEOUT_S;
	const char *s = getenv("TG_RANK_TIMEOUT_S");
	if (!s || !*s)
		return 0;
	char *end;
	const double v = strtod(s, &end);
	if (end == s || *end || !(v >= 0.1 && v <= 1e6))
		return TG_ERR(err, TG_E_INVAL,
			      "TG_RANK_TIMEOUT_S is '%s'; expected seconds from 0.1 to 1e6 (the "
			      "longest a rank waits for the others)",
			      s);
	*timeout_s = v;
	return 0;
}

int tg_comm_barrier(struct tg_comm *c, const char *what, struct tg_error *err)
{
	return alone(c) ? 0 : c->ops->barrier(c->ctx, what, err);
}

int tg_comm_allreduce(struct tg_comm *c, double *v, int n, enum tg_comm_op op, const char *what,
		      struct tg_error *err)
{
	return alone(c) || n <= 0 ? 0 : c->ops->allreduce(c->ctx, v, n, op, what, err);
}

int tg_comm_bcast(struct tg_comm *c, void *buf, size_t bytes, int root, const char *what,
		  struct tg_error *err)
{
	return alone(c) ? 0 : c->ops->bcast(c->ctx, buf, bytes, root, what, err);
}

int tg_comm_gatherv(struct tg_comm *c, const void *send, size_t bytes, void **recv, size_t *sizes,
		    int root, const char *what, struct tg_error *err)
{
	*recv = NULL;
	if (alone(c)) {
		sizes[0] = bytes;
		*recv = malloc(bytes ? bytes : 1);
		TG_FAIL_IF(!*recv, err, TG_E_NOMEM, "ranks: out of memory gathering %s", what);
		if (bytes)
			memcpy(*recv, send, bytes);
		return 0;
	}
	/* the sizes first (as doubles: exact to 2^53 bytes), then the bytes;
	 * root short of memory stops the job (the others would wait on it) */
	const bool is_root = c->rank == root;
	double *all = is_root ? calloc((size_t)c->size, sizeof(double)) : NULL;
	size_t *each = is_root ? malloc((size_t)c->size * sizeof(size_t)) : NULL;
	if (is_root && (!all || !each)) {
		tg_log(TG_LOG_ERROR, "ranks: out of memory gathering %s: stopping the job", what);
		tg_comm_abort(c, 1);
		free(all);
		free(each);
		return TG_ERR(err, TG_E_NOMEM, "ranks: out of memory gathering %s", what);
	}
	for (int r = 0; each && r < c->size; r++)
		each[r] = sizeof(double);
	const double mine = (double)bytes;
	int rc = c->ops->gather(c->ctx, &mine, sizeof(double), all, each, root, what, err);
	size_t total = 0;
	for (int r = 0; rc == 0 && is_root && r < c->size; r++) {
		sizes[r] = (size_t)all[r];
		total += sizes[r];
	}
	free(all);
	free(each);
	if (rc < 0)
		return rc;
	if (is_root) {
		*recv = malloc(total ? total : 1);
		if (!*recv) {
			tg_log(TG_LOG_ERROR, "ranks: out of memory for %zu bytes of %s: stopping the job",
			       total, what);
			tg_comm_abort(c, 1);
			return TG_ERR(err, TG_E_NOMEM, "ranks: out of memory gathering %s", what);
		}
	}
	rc = c->ops->gather(c->ctx, send, bytes, *recv, sizes, root, what, err);
	if (rc < 0) {
		free(*recv);
		*recv = NULL;
	}
	return rc;
}

void tg_comm_abort(struct tg_comm *c, int code)
{
	if (!alone(c))
		c->ops->abort(c->ctx, code);
}

int tg_comm_agree(struct tg_comm *c, int failed, char *msg, size_t cap, int *who,
		  const char *what, struct tg_error *err)
{
	*who = failed ? tg_comm_rank(c) : -1;
	if (alone(c))
		return failed ? 1 : 0;
	/* the lowest failing rank (size when none) */
	double lowest = failed ? (double)c->rank : (double)c->size;
	TG_TRY(tg_comm_allreduce(c, &lowest, 1, TG_COMM_MIN, what, err));
	if ((int)lowest >= c->size) {
		*who = -1;
		return 0;
	}
	*who = (int)lowest;
	char buf[512];
	memset(buf, 0, sizeof(buf));
	if (c->rank == *who)
		tg_strlcpy(buf, msg, sizeof(buf));
	TG_TRY(tg_comm_bcast(c, buf, sizeof(buf), *who, what, err));
	buf[sizeof(buf) - 1] = '\0';
	tg_strlcpy(msg, buf, cap);
	return 1;
}

int tg_comm_clock_pairs(struct tg_comm *c, int n, struct tg_clock_pair *pairs, struct tg_error *err)
{
	const uint64_t now = tg_clock_ns();
	pairs[0] = (struct tg_clock_pair){now, now, 0};
	if (alone(c))
		return 0;
	TG_FAIL_IF(!c->ops->clock_pair, err, TG_E_UNSUPPORTED,
		   "ranks: the %s comm cannot measure clocks", c->ops->name);
	TG_TRY(tg_comm_barrier(c, "the clock measurement", err));
	if (c->rank == 0) {
		for (int r = 1; r < c->size; r++)
			TG_TRY(c->ops->clock_pair(c->ctx, r, n, &pairs[r], err));
	} else {
		TG_TRY(c->ops->clock_pair(c->ctx, 0, n, NULL, err));
	}
	return tg_comm_barrier(c, "the end of the clock measurement", err);
}
