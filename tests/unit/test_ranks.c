/* host/ranks: the launcher's environment, the split by bars; another rank's
 * clock through core's clock alignment. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tg_clock.h"
#include "tg_comm.h"
#include "tg_ranks.h"
#include "tg_stats.h"
#include "tg_test.h"
#include "tg_test_comm.h"

/* an environment as NAME=VALUE strings, NULL-terminated */
static const char *table_env(const char *name, void *ctx)
{
	const char *const *vars = ctx;
	const size_t n = strlen(name);
	for (int i = 0; vars[i]; i++)
		if (strncmp(vars[i], name, n) == 0 && vars[i][n] == '=')
			return vars[i] + n + 1;
	return NULL;
}

static int from(const char *const *vars, struct tg_rank_info *r, struct tg_error *err)
{
	tg_error_clear(err);
	return tg_ranks_from_env(table_env, (void *)vars, r, err);
}

/* vars give exactly this place */
static void expect_ranks(const char *const *vars, enum tg_launcher launcher, int rank, int size,
			 int local_rank, int local_size)
{
	struct tg_rank_info r;
	struct tg_error err;
	assert_int_equal(from(vars, &r, &err), 0);
	assert_int_equal(r.launcher, launcher);
	assert_int_equal(r.rank, rank);
	assert_int_equal(r.size, size);
	assert_int_equal(r.local_rank, local_rank);
	assert_int_equal(r.local_size, local_size);
}

static void test_ranks_from_launchers(void **state)
{
	(void)state;
	static const char *const none[] = {"HOME=/root", NULL};
	expect_ranks(none, TG_LAUNCH_NONE, 0, 1, -1, -1);
	static const char *const ompi[] = {"OMPI_COMM_WORLD_RANK=2", "OMPI_COMM_WORLD_SIZE=3",
					   "OMPI_COMM_WORLD_LOCAL_RANK=0", "OMPI_COMM_WORLD_LOCAL_SIZE=1",
					   /* a PMIx set too, which Open MPI also exports */
					   "PMIX_RANK=2", NULL};
	expect_ranks(ompi, TG_LAUNCH_OPENMPI, 2, 3, 0, 1);
	assert_string_equal(tg_launcher_name(TG_LAUNCH_OPENMPI), "Open MPI");
	static const char *const mpich[] = {"PMI_RANK=5", "PMI_SIZE=8", "MPI_LOCALRANKID=1", NULL};
	expect_ranks(mpich, TG_LAUNCH_MPICH, 5, 8, 1, -1);
	/* srun: a per-node task list is not a count */
	static const char *const slurm[] = {"SLURM_PROCID=3", "SLURM_NTASKS=4", "SLURM_LOCALID=1",
					    "SLURM_NTASKS_PER_NODE=2(x2)", NULL};
	expect_ranks(slurm, TG_LAUNCH_SLURM, 3, 4, 1, -1);
}

static void test_ranks_bad_environment(void **state)
{
	(void)state;
	struct tg_rank_info r;
	struct tg_error err;
	static const char *const word[] = {"OMPI_COMM_WORLD_RANK=two", "OMPI_COMM_WORLD_SIZE=3", NULL};
	assert_true(from(word, &r, &err) < 0);
	assert_non_null(strstr(err.msg, "OMPI_COMM_WORLD_RANK is 'two'"));
	static const char *const past[] = {"PMI_RANK=4", "PMI_SIZE=4", NULL};
	assert_true(from(past, &r, &err) < 0);
	assert_non_null(strstr(err.msg, "PMI_RANK is 4, not below PMI_SIZE (4)"));
	static const char *const half[] = {"SLURM_PROCID=0", NULL};
	assert_true(from(half, &r, &err) < 0);
	assert_non_null(strstr(err.msg, "SLURM_PROCID is set but SLURM_NTASKS is not"));
	static const char *const zero[] = {"PMIX_RANK=0", "PMIX_SIZE=0", NULL};
	assert_true(from(zero, &r, &err) < 0);
	static const char *const local[] = {"OMPI_COMM_WORLD_RANK=1", "OMPI_COMM_WORLD_SIZE=2",
					    "OMPI_COMM_WORLD_LOCAL_RANK=1", "OMPI_COMM_WORLD_LOCAL_SIZE=1", NULL};
	assert_true(from(local, &r, &err) < 0);
	assert_non_null(strstr(err.msg, "LOCAL_RANK is 1, not below OMPI_COMM_WORLD_LOCAL_SIZE (1)"));
}

static double range_bars(const int32_t *bars, int32_t a, int32_t b)
{
	double t = 0;
	for (int32_t s = a; s < b; s++)
		t += bars ? bars[s] : 1;
	return t;
}

/* contiguous, covering, in order; and balanced: no rank's load is more
 * than one symbol past its share */
static void check_split(const int32_t *bars, int32_t n, int size)
{
	int32_t first[65];
	struct tg_error err;
	tg_error_clear(&err);
	assert_int_equal(tg_ranks_split(bars, n, size, first, &err), 0);
	assert_int_equal(first[0], 0);
	assert_int_equal(first[size], n);
	const double total = range_bars(bars, 0, n);
	int32_t biggest = 0;
	for (int32_t s = 0; s < n; s++)
		biggest = bars && bars[s] > biggest ? bars[s] : (bars ? biggest : 1);
	for (int r = 0; r < size; r++) {
		assert_true(first[r] <= first[r + 1]);
		assert_true(range_bars(bars, first[r], first[r + 1]) <= total / size + biggest);
	}
}

static void test_ranks_split_by_bars(void **state)
{
	(void)state;
	/* one long symbol and eight short ones: by count rank 0 would get 5000
	 * + 4 x 1000 bars and rank 1 4000; by bars each should get near 6500 */
	const int32_t bars[9] = {5000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000};
	int32_t first[4];
	struct tg_error err;
	tg_error_clear(&err);
	assert_int_equal(tg_ranks_split(bars, 9, 2, first, &err), 0);
	/* symbols 0-1 make 6000, 0-2 7000: equally near; the tie takes the
	 * symbol */
	assert_int_equal(first[1], 3);
	double load[2] = {range_bars(bars, 0, 3), range_bars(bars, 3, 9)};
	assert_true(fabs(tg_stats_imbalance(load, 2) - 7000.0 / 6500.0) < 1e-12);
	/* three ranks, uneven: 13000 / 3 each */
	assert_int_equal(tg_ranks_split(bars, 9, 3, first, &err), 0);
	assert_int_equal(first[1], 1); /* 5000 alone is nearest to 4333 */
	assert_int_equal(first[2], 5); /* then 4 x 1000 */
	assert_int_equal(first[3], 9);
	check_split(bars, 9, 3);
	/* equal bars: counts differ by at most one */
	check_split(NULL, 10, 3);
	assert_int_equal(tg_ranks_split(NULL, 10, 3, first, &err), 0);
	for (int r = 0; r < 3; r++)
		assert_true(first[r + 1] - first[r] >= 3 && first[r + 1] - first[r] <= 4);
	/* fewer symbols than ranks: some ranks get none, none twice */
	check_split(NULL, 2, 5);
	check_split(NULL, 0, 4);
	uint64_t x = 88172645463325252ull;
	int32_t rnd[500];
	for (int t = 0; t < 50; t++) {
		for (int s = 0; s < 500; s++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			rnd[s] = (int32_t)(x % 20000);
		}
		check_split(rnd, 500, 1 + t % 64);
	}
	const int32_t bad[2] = {10, -1};
	assert_true(tg_ranks_split(bad, 2, 2, first, &err) < 0);
	assert_non_null(strstr(err.msg, "symbol 1 has -1 bars"));
	assert_true(tg_ranks_split(NULL, 3, 0, first, &err) < 0);
}

/* Another rank's clock onto this one's with the alignment CUPTI's clock
 * gets (tg_clock.h): the foreign read a ping-pong to a rank whose clock
 * runs 1.5 ms ahead and gains 20 ppm, with round trips of varying length
 * and replies from anywhere inside them. */
struct fake_rank {
	uint64_t now;  /* this rank's clock, ns */
	int trip;      /* ping-pongs so far */
	double offset0, drift;
	uint64_t t_start;
};

static uint64_t fake_mono(void *ctx)
{
	struct fake_rank *f = ctx;
	return f->now;
}

static uint64_t fake_ping(void *ctx)
{
	struct fake_rank *f = ctx;
	const int t = f->trip++;
	/* the round trip, 12 to 40 us; the reply leaves 20 to 80 % of the way */
	const uint64_t rtt = 12000 + (uint64_t)(t * 7919 % 28000);
	const uint64_t there = f->now + rtt * (uint64_t)(20 + t * 37 % 61) / 100;
	f->now += rtt;
	const double off = f->offset0 + f->drift * (double)(there - f->t_start);
	return (uint64_t)((double)there + off);
}

static void test_clock_alignment(void **state)
{
	(void)state;
	struct fake_rank f = {.now = 1000000000, .offset0 = 1.5e6, .drift = 20e-6, .t_start = 1000000000};
	struct tg_clock_pair start, stop;
	tg_clock_measure(fake_ping, &f, fake_mono, &f, 64, &start);
	assert_true(start.uncertainty_ns <= 6000); /* the shortest trip: 12 us */
	f.now += 60000000000ull; /* a minute of run */
	tg_clock_measure(fake_ping, &f, fake_mono, &f, 64, &stop);
	struct tg_clock_align a;
	tg_clock_fit(&start, &stop, 10000000, &a);
	assert_false(a.step);
	/* every rank timestamp of the minute, back on this clock within the
	 * measurement's uncertainty (half the shortest trip, each end) */
	for (uint64_t t = 1000000000; t <= 61000000000ull; t += 7500000000ull) {
		const double off = f.offset0 + f.drift * (double)(t - f.t_start);
		const uint64_t foreign = (uint64_t)((double)t + off);
		const double got = (double)tg_clock_apply(&a, foreign);
		assert_true(fabs(got - (double)t) <= 2.0 * (double)a.uncertainty_ns + 2.0);
	}
	/* a clock that jumps 50 ms between the two ends: flagged, constant */
	f.offset0 += 5e7;
	tg_clock_measure(fake_ping, &f, fake_mono, &f, 16, &stop);
	tg_clock_fit(&start, &stop, 10000000, &a);
	assert_true(a.step);
	assert_true(a.slope == 0.0);
}

/* ---- the collectives over a comm table: ranks as threads ---- */

struct thr_rank {
	int rank;
	struct tg_comm comm;
	/* what the rank saw */
	int any, who;
	char msg[256];
	double v[3];
	char *gathered;
	size_t sizes[4];
	struct tg_clock_pair pairs[3];
	int rc;
};

static void *fake_main(void *arg)
{
	struct thr_rank *r = arg;
	struct tg_error err;
	/* ranks 1 and 2 fail: every rank hears rank 1's reason */
	const bool failed = r->rank == 1 || r->rank == 2;
	snprintf(r->msg, sizeof(r->msg), failed ? "rank %d: disk full" : "", r->rank);
	r->any = tg_comm_agree(&r->comm, failed, r->msg, sizeof(r->msg), &r->who, "a test", &err);
	r->v[0] = r->rank;
	r->v[1] = 10 - r->rank;
	r->v[2] = 1.5;
	r->rc = tg_comm_allreduce(&r->comm, r->v, 1, TG_COMM_MAX, "max", &err);
	r->rc |= tg_comm_allreduce(&r->comm, r->v + 1, 1, TG_COMM_MIN, "min", &err);
	r->rc |= tg_comm_allreduce(&r->comm, r->v + 2, 1, TG_COMM_SUM, "sum", &err);
	/* rank k sends k + 1 bytes, rank 0 receives them in rank order */
	char mine[4];
	memset(mine, 'a' + r->rank, sizeof(mine));
	void *all = NULL;
	r->rc |= tg_comm_gatherv(&r->comm, mine, (size_t)r->rank + 1, &all, r->sizes, 0, "gather",
				 &err);
	r->gathered = all;
	/* every rank's clock against rank 0's: one process, one clock */
	r->rc |= tg_comm_clock_pairs(&r->comm, 4, r->pairs, &err);
	return NULL;
}

static void test_comm_collectives(void **state)
{
	(void)state;
	struct tg_test_world *w = tg_test_world_new(3);
	assert_non_null(w);
	struct thr_rank ranks[3];
	pthread_t th[3];
	for (int k = 0; k < 3; k++) {
		ranks[k] = (struct thr_rank){.rank = k};
		tg_test_world_comm(w, k, &ranks[k].comm);
		assert_int_equal(pthread_create(&th[k], NULL, fake_main, &ranks[k]), 0);
	}
	for (int k = 0; k < 3; k++)
		pthread_join(th[k], NULL);
	for (int k = 0; k < 3; k++) {
		const struct thr_rank *r = &ranks[k];
		assert_int_equal(r->rc, 0);
		assert_int_equal(r->any, 1);
		assert_int_equal(r->who, 1);
		assert_string_equal(r->msg, "rank 1: disk full");
		assert_true(r->v[0] == 2 && r->v[1] == 8 && r->v[2] == 4.5);
		if (k == 0) {
			assert_non_null(r->gathered);
			assert_int_equal(r->sizes[0], 1);
			assert_int_equal(r->sizes[1], 2);
			assert_int_equal(r->sizes[2], 3);
			assert_memory_equal(r->gathered, "abbccc", 6);
			for (int p = 0; p < 3; p++)
				assert_true(r->pairs[p].foreign_ns == r->pairs[p].mono_ns &&
					    r->pairs[p].mono_ns > 0);
		} else {
			assert_null(r->gathered);
		}
		free(r->gathered);
	}
	assert_int_equal(tg_test_world_aborted(w), 0);
	tg_test_world_free(w);
	/* one process (no comm): the collectives are what one rank does */
	char msg[64] = "alone";
	int who = 5;
	struct tg_error err;
	assert_int_equal(tg_comm_agree(NULL, 0, msg, sizeof(msg), &who, "x", &err), 0);
	assert_int_equal(who, -1);
	assert_int_equal(tg_comm_agree(NULL, 1, msg, sizeof(msg), &who, "x", &err), 1);
	assert_int_equal(who, 0);
	assert_string_equal(msg, "alone");
	double v = 3;
	assert_int_equal(tg_comm_allreduce(NULL, &v, 1, TG_COMM_SUM, "x", &err), 0);
	assert_true(v == 3);
	void *all = NULL;
	size_t sizes[1];
	assert_int_equal(tg_comm_gatherv(NULL, "xyz", 3, &all, sizes, 0, "x", &err), 0);
	assert_int_equal(sizes[0], 3);
	assert_memory_equal(all, "xyz", 3);
	free(all);
}

/* TG_RANK_TIMEOUT_S: seconds, or an error naming it */
static void test_comm_timeout_env(void **state)
{
	(void)state;
	double t = 0;
	struct tg_error err;
	unsetenv("TG_RANK_TIMEOUT_S");
	assert_int_equal(tg_comm_timeout_from_env(&t, &err), 0);
	assert_true(t == TG_COMM_DEFAULT_TIMEOUT_S);
	setenv("TG_RANK_TIMEOUT_S", "2.5", 1);
	assert_int_equal(tg_comm_timeout_from_env(&t, &err), 0);
	assert_true(t == 2.5);
	const char *bad[] = {"soon", "0", "-1", "1e9", "3s", ""};
	for (size_t i = 0; i + 1 < sizeof(bad) / sizeof(bad[0]); i++) {
		setenv("TG_RANK_TIMEOUT_S", bad[i], 1);
		assert_true(tg_comm_timeout_from_env(&t, &err) < 0);
		assert_non_null(strstr(err.msg, "TG_RANK_TIMEOUT_S"));
	}
	unsetenv("TG_RANK_TIMEOUT_S");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ranks_from_launchers),
		cmocka_unit_test(test_ranks_bad_environment),
		cmocka_unit_test(test_ranks_split_by_bars),
		cmocka_unit_test(test_clock_alignment),
		cmocka_unit_test(test_comm_collectives),
		cmocka_unit_test(test_comm_timeout_env),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
