/* The platform's floor under any sampler: how much a thread slows down when
 * timer ticks reach it, whatever the handler does. Threads burn a fixed
 * amount of work with no timer, with a per-thread CLOCK_MONOTONIC timer
 * and an empty SIGPROF handler, with kernel-side sampling by
 * perf_event_open (task clock, user call chains into a ring: no signal),
 * and with a per-thread CPU-time timer (fires on the scheduler tick);
 * interleaved repetitions, medians. A benchmark, not a test.
 *
 *   tg_bench_sigfloor [THREADS] [HZ] [REPS]
 */
#include <errno.h>
#include <linux/perf_event.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

enum mode { NONE, SIGNAL_EMPTY, PERF_EVENT, CPU_TIMER, N_MODES };
static const char *const mode_name[N_MODES] = {
	"no timer", "wall-clock timer, empty SIGPROF handler",
	"perf_event_open task clock, no signal", "CPU-time timer (scheduler tick)"};

static int hz = 997;
static volatile double sink;
static __thread unsigned long ticks;

static void on_tick(int sig, siginfo_t *si, void *ctx)
{
	(void)sig;
	(void)si;
	(void)ctx;
	ticks++;
}

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

struct job {
	enum mode mode;
	double seconds;
	unsigned long ticks;
	int failed;
};

static void *burn(void *arg)
{
	struct job *j = arg;
	const long period_ns = 1000000000L / hz;
	timer_t timer;
	int has_timer = 0, fd = -1;
	void *ring = MAP_FAILED;
	const size_t ring_bytes = (1 + 64) * 4096;
	if (j->mode == SIGNAL_EMPTY || j->mode == CPU_TIMER) {
		struct sigevent ev;
		memset(&ev, 0, sizeof(ev));
		ev.sigev_notify = SIGEV_THREAD_ID;
		ev.sigev_signo = SIGPROF;
		ev._sigev_un._tid = (pid_t)syscall(SYS_gettid);
		if (timer_create(j->mode == CPU_TIMER ? CLOCK_THREAD_CPUTIME_ID : CLOCK_MONOTONIC, &ev,
				 &timer) != 0) {
			j->failed = errno;
			return NULL;
		}
		has_timer = 1;
		struct itimerspec it = {{0, period_ns}, {0, period_ns}};
		timer_settime(timer, 0, &it, NULL);
	} else if (j->mode == PERF_EVENT) {
		struct perf_event_attr a;
		memset(&a, 0, sizeof(a));
		a.size = sizeof(a);
		a.type = PERF_TYPE_SOFTWARE;
		a.config = PERF_COUNT_SW_TASK_CLOCK;
		a.sample_period = (unsigned long long)period_ns;
		a.sample_type = PERF_SAMPLE_IP | PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_CALLCHAIN;
		a.exclude_kernel = 1;
		a.exclude_hv = 1;
		a.exclude_callchain_kernel = 1;
		a.disabled = 1;
		fd = (int)syscall(SYS_perf_event_open, &a, (pid_t)syscall(SYS_gettid), -1, -1, 0);
		if (fd < 0) {
			j->failed = errno;
			return NULL;
		}
		ring = mmap(NULL, ring_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (ring == MAP_FAILED) {
			j->failed = errno;
			close(fd);
			return NULL;
		}
		ioctl(fd, PERF_EVENT_IOC_ENABLE, 0);
	}
	double x = 1.0, t0 = now_s();
	for (long i = 0; i < 400000000L; i++)
		x = x * 1.0000001 + 0.25;
	j->seconds = now_s() - t0;
	sink = x;
	j->ticks = ticks;
	if (has_timer)
		timer_delete(timer);
	if (fd >= 0) {
		const struct perf_event_mmap_page *pg = ring;
		j->ticks = (unsigned long)pg->data_head; /* bytes of samples written */
		munmap(ring, ring_bytes);
		close(fd);
	}
	return NULL;
}

static int cmp_double(const void *a, const void *b)
{
	const double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	const int threads = argc > 1 ? atoi(argv[1]) : 2;
	hz = argc > 2 ? atoi(argv[2]) : 997;
	const int reps = argc > 3 ? atoi(argv[3]) : 5;
	if (threads < 1 || threads > 64 || hz < 1 || hz > 100000 || reps < 1 || reps > 100) {
		fprintf(stderr, "usage: tg_bench_sigfloor [THREADS 1-64] [HZ] [REPS 1-100]\n");
		return 2;
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_tick;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigaction(SIGPROF, &sa, NULL);
	double *t[N_MODES];
	int failed[N_MODES] = {0};
	for (int m = 0; m < N_MODES; m++)
		t[m] = calloc((size_t)reps, sizeof(double));
	for (int r = 0; r < reps; r++) {
		for (int m = 0; m < N_MODES; m++) {
			struct job j[64];
			pthread_t tid[64];
			for (int k = 0; k < threads; k++) {
				j[k] = (struct job){.mode = (enum mode)m};
				pthread_create(&tid[k], NULL, burn, &j[k]);
			}
			double sum = 0;
			for (int k = 0; k < threads; k++) {
				pthread_join(tid[k], NULL);
				sum += j[k].seconds;
				if (j[k].failed)
					failed[m] = j[k].failed;
			}
			t[m][r] = sum / threads;
		}
	}
	for (int m = 0; m < N_MODES; m++)
		qsort(t[m], (size_t)reps, sizeof(double), cmp_double);
	const double base = t[NONE][reps / 2];
	printf("%d threads, %d Hz, median of %d interleaved repetitions\n", threads, hz, reps);
	for (int m = 0; m < N_MODES; m++) {
		if (failed[m]) {
			printf("  %-40s unavailable: %s\n", mode_name[m], strerror(failed[m]));
			continue;
		}
		printf("  %-40s %.4f s  %+.1f %%\n", mode_name[m], t[m][reps / 2],
		       100.0 * (t[m][reps / 2] / base - 1.0));
	}
	for (int m = 0; m < N_MODES; m++)
		free(t[m]);
	return 0;
}
