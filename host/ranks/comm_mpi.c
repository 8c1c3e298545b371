/* The comm table over MPI (tg_comm.h): nonblocking collectives waited on
 * with a deadline, so that a rank that is stuck or gone turns into a clear
 * error on the others instead of a hang. Built only with TG_HAVE_MPI. */
#include <mpi.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tg_clock.h"
#include "tg_comm.h"
#include "tg_log.h"
#include "tg_str.h"

struct mpi_ctx {
	MPI_Comm world;
	int rank, size;
	double timeout_s;
};

static struct mpi_ctx the_ctx;

static int mpi_fail(struct tg_error *err, int code, const char *call, const char *what)
{
	char text[MPI_MAX_ERROR_STRING];
	int len = 0;
	if (MPI_Error_string(code, text, &len) != MPI_SUCCESS)
		snprintf(text, sizeof(text), "MPI error %d", code);
	return TG_ERR_SUB(err, TG_E_IO, code, "ranks: %s failed at %s: %s", call, what, text);
}

/* Waits for req until the deadline, yielding the CPU (ranks may share
 * cores with the ones they wait for). */
static int wait_req(struct mpi_ctx *m, MPI_Request *req, const char *call, const char *what,
		    struct tg_error *err)
{
	const uint64_t start = tg_clock_ns();
	const uint64_t limit = (uint64_t)(m->timeout_s * 1e9);
	long nap_ns = 1000;
	for (unsigned spins = 0;; spins++) {
		int done = 0;
		const int rc = MPI_Test(req, &done, MPI_STATUS_IGNORE);
		if (rc != MPI_SUCCESS)
			return mpi_fail(err, rc, call, what);
		if (done)
			return 0;
		const uint64_t waited = tg_clock_ns() - start;
		if (waited > limit)
			return TG_ERR(err, TG_E_TIMEOUT,
				      "rank %d of %d waited %.3g s for the other ranks at %s "
				      "(TG_RANK_TIMEOUT_S): a rank is stuck, or it stopped without "
				      "saying why; stopping the job",
				      m->rank, m->size, (double)waited * 1e-9, what);
		if (spins < 200)
			continue; /* a short wait: stay on the CPU */
		const struct timespec ts = {0, nap_ns};
		nanosleep(&ts, NULL);
		if (nap_ns < 1000000)
			nap_ns *= 2;
	}
}

static int m_barrier(void *ctx, const char *what, struct tg_error *err)
{
	struct mpi_ctx *m = ctx;
	MPI_Request req;
	const int rc = MPI_Ibarrier(m->world, &req);
	return rc != MPI_SUCCESS ? mpi_fail(err, rc, "MPI_Ibarrier", what)
				 : wait_req(m, &req, "MPI_Ibarrier", what, err);
}

static int m_allreduce(void *ctx, double *v, int n, enum tg_comm_op op, const char *what,
		       struct tg_error *err)
{
	struct mpi_ctx *m = ctx;
	MPI_Request req;
	const MPI_Op mop = op == TG_COMM_MAX ? MPI_MAX : op == TG_COMM_MIN ? MPI_MIN : MPI_SUM;
	const int rc = MPI_Iallreduce(MPI_IN_PLACE, v, n, MPI_DOUBLE, mop, m->world, &req);
	return rc != MPI_SUCCESS ? mpi_fail(err, rc, "MPI_Iallreduce", what)
				 : wait_req(m, &req, "MPI_Iallreduce", what, err);
}

/* sizes beyond an int's count go as larger elements: none of ours are */
static int count_of(size_t bytes, const char *what, struct tg_error *err)
{
	if (bytes > (size_t)0x7fffffff)
		return TG_ERR(err, TG_E_RANGE, "ranks: %zu bytes at %s: more than one message holds",
			      bytes, what);
	return (int)bytes;
}

static int m_bcast(void *ctx, void *buf, size_t bytes, int root, const char *what,
		   struct tg_error *err)
{
	struct mpi_ctx *m = ctx;
	const int n = count_of(bytes, what, err);
	if (n < 0)
		return n;
	MPI_Request req;
	const int rc = MPI_Ibcast(buf, n, MPI_BYTE, root, m->world, &req);
	return rc != MPI_SUCCESS ? mpi_fail(err, rc, "MPI_Ibcast", what)
				 : wait_req(m, &req, "MPI_Ibcast", what, err);
}

static int m_gather(void *ctx, const void *send, size_t bytes, void *recv, const size_t *sizes,
		    int root, const char *what, struct tg_error *err)
{
	struct mpi_ctx *m = ctx;
	const int n = count_of(bytes, what, err);
	if (n < 0)
		return n;
	int *counts = NULL, *displs = NULL;
	if (m->rank == root) {
		counts = malloc((size_t)m->size * sizeof(int));
		displs = malloc((size_t)m->size * sizeof(int));
		size_t at = 0;
		for (int r = 0; counts && displs && r < m->size; r++) {
			counts[r] = (int)sizes[r];
			displs[r] = (int)at;
			at += sizes[r];
		}
		if (!counts || !displs || at > (size_t)0x7fffffff) {
			free(counts);
			free(displs);
			tg_log(TG_LOG_ERROR, "ranks: cannot gather %zu bytes at %s: stopping the job",
			       at, what);
			MPI_Abort(m->world, 1);
			return TG_ERR(err, TG_E_NOMEM, "ranks: cannot gather at %s", what);
		}
	}
	MPI_Request req;
	int rc = MPI_Igatherv(send, n, MPI_BYTE, recv, counts, displs, MPI_BYTE, root, m->world,
			      &req);
	rc = rc != MPI_SUCCESS ? mpi_fail(err, rc, "MPI_Igatherv", what)
			       : wait_req(m, &req, "MPI_Igatherv", what, err);
	free(counts);
	free(displs);
	return rc;
}

#define CLOCK_TAG 0x7467

/* n bytes to (send) or from peer, waited on with the deadline */
static int transfer(struct mpi_ctx *m, bool send, void *buf, int n, int peer, struct tg_error *err)
{
	const char *what = "a clock ping-pong", *call = send ? "MPI_Isend" : "MPI_Irecv";
	MPI_Request req;
	const int rc = send ? MPI_Isend(buf, n, MPI_BYTE, peer, CLOCK_TAG, m->world, &req)
			    : MPI_Irecv(buf, n, MPI_BYTE, peer, CLOCK_TAG, m->world, &req);
	return rc != MPI_SUCCESS ? mpi_fail(err, rc, call, what) : wait_req(m, &req, call, what, err);
}

static int m_clock_pair(void *ctx, int peer, int n, struct tg_clock_pair *out, struct tg_error *err)
{
	struct mpi_ctx *m = ctx;
	for (int i = 0; i < n; i++) {
		uint64_t t = 0;
		char ping = 1;
		if (m->rank == 0) {
			const uint64_t a = tg_clock_ns();
			TG_TRY(transfer(m, true, &ping, 1, peer, err));
			TG_TRY(transfer(m, false, &t, 8, peer, err));
			const uint64_t b = tg_clock_ns();
			const struct tg_clock_pair p = {t, a + (b - a) / 2, (b - a) / 2};
			if (i == 0 || p.uncertainty_ns < out->uncertainty_ns)
				*out = p;
		} else {
			TG_TRY(transfer(m, false, &ping, 1, 0, err));
			t = tg_clock_ns();
			TG_TRY(transfer(m, true, &t, 8, 0, err));
		}
	}
	return 0;
}

static void m_abort(void *ctx, int code)
{
	struct mpi_ctx *m = ctx;
	MPI_Abort(m->world, code);
}

static const struct tg_comm_ops mpi_ops = {
	.name = "mpi",
	.barrier = m_barrier,
	.allreduce = m_allreduce,
	.bcast = m_bcast,
	.gather = m_gather,
	.abort = m_abort,
	.clock_pair = m_clock_pair,
};

int tg_comm_mpi_open(struct tg_comm *c, int *argc, char ***argv, struct tg_error *err)
{
	memset(c, 0, sizeof(*c));
	double timeout_s;
	TG_TRY(tg_comm_timeout_from_env(&timeout_s, err));
	int provided = 0;
	int rc = MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
	if (rc != MPI_SUCCESS)
		return mpi_fail(err, rc, "MPI_Init_thread", "start-up");
	struct mpi_ctx *m = &the_ctx;
	m->world = MPI_COMM_WORLD;
	m->timeout_s = timeout_s;
	MPI_Comm_set_errhandler(m->world, MPI_ERRORS_RETURN);
	MPI_Comm_rank(m->world, &m->rank);
	MPI_Comm_size(m->world, &m->size);
	MPI_Comm node;
	int local_rank = -1, local_size = -1;
	if (MPI_Comm_split_type(m->world, MPI_COMM_TYPE_SHARED, m->rank, MPI_INFO_NULL, &node) ==
	    MPI_SUCCESS) {
		MPI_Comm_rank(node, &local_rank);
		MPI_Comm_size(node, &local_size);
		MPI_Comm_free(&node);
	}
	char host[MPI_MAX_PROCESSOR_NAME];
	int len = 0;
	if (MPI_Get_processor_name(host, &len) != MPI_SUCCESS)
		tg_strlcpy(host, "?", sizeof(host));
	*c = (struct tg_comm){.ops = &mpi_ops, .ctx = m, .rank = m->rank, .size = m->size,
			      .local_rank = local_rank, .local_size = local_size,
			      .timeout_s = timeout_s};
	tg_strlcpy(c->host, host, sizeof(c->host));
	return 0;
}

void tg_comm_mpi_close(struct tg_comm *c)
{
	if (c && c->ops == &mpi_ops)
		MPI_Finalize();
}
