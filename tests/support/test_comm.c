/* Ranks as threads (tg_test_comm.h): each collective posts this rank's
 * pointer, meets the others at a barrier, reads theirs, and meets them
 * again before anyone reuses its buffers. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "tg_clock.h"
#include "tg_str.h"
#include "tg_test_comm.h"

#define MAX_RANKS 16

struct tg_test_world {
	int size;
	pthread_barrier_t bar;
	const void *posted[MAX_RANKS];
	size_t bytes[MAX_RANKS];
	int aborted;
	struct rank_ctx {
		struct tg_test_world *w;
		int rank;
	} ranks[MAX_RANKS];
};

static void meet(struct tg_test_world *w)
{
	pthread_barrier_wait(&w->bar);
}

static int t_barrier(void *ctx, const char *what, struct tg_error *err)
{
	(void)what;
	(void)err;
	struct rank_ctx *r = ctx;
	meet(r->w);
	return 0;
}

static int t_allreduce(void *ctx, double *v, int n, enum tg_comm_op op, const char *what,
		       struct tg_error *err)
{
	(void)what;
	(void)err;
	struct rank_ctx *r = ctx;
	struct tg_test_world *w = r->w;
	double *mine = malloc((size_t)n * sizeof(double));
	memcpy(mine, v, (size_t)n * sizeof(double));
	w->posted[r->rank] = mine;
	meet(w);
	for (int i = 0; i < n; i++) {
		double x = ((const double *)w->posted[0])[i];
		for (int k = 1; k < w->size; k++) {
			const double y = ((const double *)w->posted[k])[i];
			x = op == TG_COMM_MAX ? (y > x ? y : x) : op == TG_COMM_MIN ? (y < x ? y : x) : x + y;
		}
		v[i] = x;
	}
	meet(w);
	free(mine);
	return 0;
}

static int t_bcast(void *ctx, void *buf, size_t bytes, int root, const char *what,
		   struct tg_error *err)
{
	(void)what;
	(void)err;
	struct rank_ctx *r = ctx;
	struct tg_test_world *w = r->w;
	if (r->rank == root)
		w->posted[root] = buf;
	meet(w);
	if (r->rank != root)
		memcpy(buf, w->posted[root], bytes);
	meet(w);
	return 0;
}

static int t_gather(void *ctx, const void *send, size_t bytes, void *recv, const size_t *sizes,
		    int root, const char *what, struct tg_error *err)
{
	(void)what;
	(void)err;
	struct rank_ctx *r = ctx;
	struct tg_test_world *w = r->w;
	w->posted[r->rank] = send;
	w->bytes[r->rank] = bytes;
	meet(w);
	if (r->rank == root) {
		size_t at = 0;
		for (int k = 0; k < w->size; k++) {
			const size_t n = sizes[k] < w->bytes[k] ? sizes[k] : w->bytes[k];
			if (n)
				memcpy((char *)recv + at, w->posted[k], n);
			at += sizes[k];
		}
	}
	meet(w);
	return 0;
}

static void t_abort(void *ctx, int code)
{
	struct rank_ctx *r = ctx;
	r->w->aborted = code ? code : 1;
}

/* one process, one clock: rank 0 reads it on both sides */
static int t_clock_pair(void *ctx, int peer, int n, struct tg_clock_pair *out, struct tg_error *err)
{
	(void)ctx;
	(void)peer;
	(void)n;
	(void)err;
	if (out) {
		const uint64_t t = tg_clock_ns();
		*out = (struct tg_clock_pair){t, t, 0};
	}
	return 0;
}

static const struct tg_comm_ops thread_ops = {
	.name = "threads",
	.barrier = t_barrier,
	.allreduce = t_allreduce,
	.bcast = t_bcast,
	.gather = t_gather,
	.abort = t_abort,
	.clock_pair = t_clock_pair,
};

struct tg_test_world *tg_test_world_new(int size)
{
	if (size < 1 || size > MAX_RANKS)
		return NULL;
	struct tg_test_world *w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->size = size;
	pthread_barrier_init(&w->bar, NULL, (unsigned)size);
	for (int k = 0; k < size; k++)
		w->ranks[k] = (struct rank_ctx){w, k};
	return w;
}

void tg_test_world_free(struct tg_test_world *w)
{
	if (!w)
		return;
	pthread_barrier_destroy(&w->bar);
	free(w);
}

void tg_test_world_comm(struct tg_test_world *w, int rank, struct tg_comm *out)
{
	*out = (struct tg_comm){.ops = &thread_ops, .ctx = &w->ranks[rank], .rank = rank,
				.size = w->size, .local_rank = rank, .local_size = w->size,
				.timeout_s = 1e9};
	tg_strlcpy(out->host, "test-host", sizeof(out->host));
}

int tg_test_world_aborted(const struct tg_test_world *w)
{
	return w->aborted;
}
