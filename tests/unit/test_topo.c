/* host/topo: the topology probe, cpu lists, pinning threads. */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>

#include "tg_test.h"
#include "tg_topo.h"

static void test_probe(void **state)
{
	(void)state;
	struct tg_topology t;
	assert_int_equal(tg_topo_probe(&t, NULL), 0);
	char line[1024];
	tg_topology_describe(&t, line, sizeof(line));
	print_message("%s: %s\n", t.source, line);
	assert_true(t.source[0] != '\0');
	assert_true(t.packages >= 1 && t.cores >= 1 && t.pus >= t.cores);
	assert_true(t.n_caches >= 1);
	for (int i = 0; i < t.n_caches; i++)
		assert_true(t.caches[i].size > 0 && t.caches[i].level >= 1 && t.caches[i].count >= 1);
	assert_true(t.n_numa >= 1 && t.numa_memory[0] > 0);
	for (int i = 0; i < t.n_gpus; i++)
		assert_true(strlen(t.gpus[i].pci) >= 7);
}

static void test_cpulists(void **state)
{
	(void)state;
	int cpus[64];
	assert_int_equal(tg_cpulist_parse("0-3,8,10-11\n", cpus, 64), 7);
	assert_int_equal(cpus[4], 8);
	assert_int_equal(cpus[6], 11);
	char buf[64];
	tg_cpulist_format(cpus, 7, buf, sizeof(buf));
	assert_string_equal(buf, "0-3,8,10-11");
	assert_int_equal(tg_cpulist_parse("", cpus, 64), 0);
	assert_int_equal(tg_cpulist_parse("3-1", cpus, 64), TG_E_PARSE);
	assert_int_equal(tg_cpulist_parse("a", cpus, 64), TG_E_PARSE);
	assert_int_equal(tg_cpulist_parse("0-100", cpus, 64), TG_E_RANGE);
	assert_int_equal(tg_cpulist_parse("1;2", cpus, 64), TG_E_PARSE);
}

static int allowed_count(void)
{
	cpu_set_t s;
	pthread_getaffinity_np(pthread_self(), sizeof(s), &s);
	return CPU_COUNT(&s);
}

static void test_pinning(void **state)
{
	(void)state;
	struct tg_pinner *p;
	struct tg_error err;
	assert_int_equal(tg_pinner_new(&p, &err), 0);
	const int before = allowed_count();
	char where[128];
	assert_int_equal(tg_pin_worker(p, 0, where, sizeof(where), &err), 0);
	assert_int_equal(allowed_count(), 1);
	assert_non_null(strstr(where, "CPU "));
	/* workers beyond the CPUs wrap around */
	assert_int_equal(tg_pin_worker(p, before, where, sizeof(where), &err), 0);
	assert_int_equal(allowed_count(), 1);
	tg_pin_restore(p);
	assert_int_equal(allowed_count(), before);
	assert_int_equal(tg_pin_near_pci(p, "ffff:ff:1f.7", where, sizeof(where), &err),
			 TG_E_UNSUPPORTED);
	assert_non_null(strstr(err.msg, "ffff:ff:1f.7"));
	tg_pinner_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_probe),
		cmocka_unit_test(test_cpulists),
		cmocka_unit_test(test_pinning),
	};
	return cmocka_run_group_tests_name("topo", tests, NULL, NULL);
}
