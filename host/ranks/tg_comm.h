/* Ranks talking: the few collective operations a run split across ranks
 * needs, behind a table so that the run library never includes mpi.h (the
 * MPI implementation, comm_mpi.c, is linked only into the command line
 * when the build has MPI; tests give tables of their own).
 *
 * Every wait for the other ranks is bounded: an operation that has not
 * completed after the comm's timeout returns TG_E_TIMEOUT naming what it
 * waited for, and the caller stops the job (tg_comm_abort) rather than hang
 * on a rank that is stuck or gone.
 *
 * A NULL comm, or one of size 1, is a single process: every operation
 * returns at once having done what a one-rank collective does. */
#ifndef TG_COMM_H
#define TG_COMM_H

#include <stddef.h>
#include <stdint.h>

#include "tg_clock.h"
#include "tg_error.h"

#ifdef __cplusplus
extern "C" {
#endif

enum tg_comm_op { TG_COMM_MAX = 0, TG_COMM_MIN = 1, TG_COMM_SUM = 2 };

struct tg_comm_ops {
	const char *name; /* "mpi", "threads" */
	/* `what` names the wait in timeout errors ("repetition 3 of cpu exact") */
	int (*barrier)(void *ctx, const char *what, struct tg_error *err);
	/* v[0..n) in place: the op over every rank's v */
	int (*allreduce)(void *ctx, double *v, int n, enum tg_comm_op op, const char *what,
			 struct tg_error *err);
	/* bytes from root into buf on every rank */
	int (*bcast)(void *ctx, void *buf, size_t bytes, int root, const char *what,
		     struct tg_error *err);
	/* every rank's `bytes` bytes to root, concatenated in rank order into
	 * recv (root only: sizes[r] of rank r, recv holding their sum; both
	 * ignored elsewhere). The sizes must have been agreed before. */
	int (*gather)(void *ctx, const void *send, size_t bytes, void *recv, const size_t *sizes,
		      int root, const char *what, struct tg_error *err);
	/* stops every rank of the job (does not return in MPI) */
	void (*abort)(void *ctx, int code);
	/* Rank 0 with peer r: n ping-pongs, each bracketing r's CLOCK_MONOTONIC
	 * between two of its own, the tightest into *out (foreign: r's clock);
	 * rank r with peer 0: answers them. NULL: the comm cannot. */
	int (*clock_pair)(void *ctx, int peer, int n, struct tg_clock_pair *out,
			  struct tg_error *err);
};

struct tg_comm {
	const struct tg_comm_ops *ops;
	void *ctx;
	int rank, size;
	int local_rank, local_size; /* on this host */
	char host[64];              /* this rank's host name */
	double timeout_s;           /* longest wait of one operation */
};

/* TG_RANK_TIMEOUT_S, else 600 s: the longest a rank waits for the others
 * in one collective operation (a repetition, a warm-up, the data load of
 * the slowest rank must fit). An unparsable value is an error naming it. */
#define TG_COMM_DEFAULT_TIMEOUT_S 600.0
int tg_comm_timeout_from_env(double *timeout_s, struct tg_error *err);

static inline int tg_comm_size(const struct tg_comm *c)
{
	return c ? c->size : 1;
}
static inline int tg_comm_rank(const struct tg_comm *c)
{
	return c ? c->rank : 0;
}

int tg_comm_barrier(struct tg_comm *c, const char *what, struct tg_error *err);
int tg_comm_allreduce(struct tg_comm *c, double *v, int n, enum tg_comm_op op, const char *what,
		      struct tg_error *err);
int tg_comm_bcast(struct tg_comm *c, void *buf, size_t bytes, int root, const char *what,
		  struct tg_error *err);
/* Variable sizes: every rank's size is gathered first; root receives a new
 * buffer (*recv, the caller frees it) and each rank's size in sizes[]
 * (root only; size entries). */
int tg_comm_gatherv(struct tg_comm *c, const void *send, size_t bytes, void **recv, size_t *sizes,
		    int root, const char *what, struct tg_error *err);
void tg_comm_abort(struct tg_comm *c, int code);

/* Every rank's clock against rank 0's, now: on rank 0, pairs[r] for each
 * rank r (pairs[0] the identity), the tightest of n ping-pongs (the
 * tg_clock_fit pairs that align a rank's capture, as Score-P and HPCToolkit
 * do, at start and end); the others answer. Returns 0, or < 0 when the
 * comm cannot (no clock_pair) or failed. */
int tg_comm_clock_pairs(struct tg_comm *c, int n, struct tg_clock_pair *pairs, struct tg_error *err);

/* MPI (comm_mpi.c, in builds with TG_HAVE_MPI only): MPI_Init (threads
 * funneled through the calling thread), the world communicator with errors
 * returned, not fatal, the host and the ranks on it, the timeout from
 * tg_comm_timeout_from_env; close finalises. */
int tg_comm_mpi_open(struct tg_comm *c, int *argc, char ***argv, struct tg_error *err);
void tg_comm_mpi_close(struct tg_comm *c);

/* Whether any rank failed at this point, every rank told the same: failed
 * is this rank's status (0 good), msg its message (in, when failed) and,
 * on return when any failed, the lowest failing rank's message, with that
 * rank in *who. Returns 1 when some rank failed, 0 when none, < 0 when the
 * ranks could not agree (err). */
int tg_comm_agree(struct tg_comm *c, int failed, char *msg, size_t cap, int *who,
		  const char *what, struct tg_error *err);

#ifdef __cplusplus
}
#endif
#endif
