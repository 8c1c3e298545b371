#include "tg_machine.h"
#include "tg_config.h"

#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

static void copy_trimmed(char *dst, size_t cap, const char *src)
{
	while (*src == ' ' || *src == '\t' || *src == '"')
		src++;
	snprintf(dst, cap, "%s", src);
	size_t n = strlen(dst);
	while (n > 0 && (dst[n - 1] == '\n' || dst[n - 1] == ' ' || dst[n - 1] == '"'))
		dst[--n] = '\0';
}

/* Copies the value of the first "key<sep>value" line of path into dst. */
static int read_keyed_line(const char *path, const char *key, char sep, char *dst, size_t cap)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	char line[512];
	size_t klen = strlen(key);
	int found = -1;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, key, klen) != 0)
			continue;
		const char *p = line + klen;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p != sep)
			continue;
		copy_trimmed(dst, cap, p + 1);
		found = 0;
		break;
	}
	fclose(f);
	return found;
}

int tg_machine_cpu_count(void)
{
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof(set), &set) == 0) {
		int n = CPU_COUNT(&set);
		if (n > 0)
			return n;
	}
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (int)n : 1;
}

void tg_machine_probe(struct tg_machine *m)
{
	memset(m, 0, sizeof(*m));
	snprintf(m->hostname, sizeof(m->hostname), "unknown");
	snprintf(m->cpu_model, sizeof(m->cpu_model), "unknown");
	snprintf(m->kernel, sizeof(m->kernel), "unknown");
	snprintf(m->arch, sizeof(m->arch), "unknown");
	snprintf(m->os, sizeof(m->os), "unknown");
	gethostname(m->hostname, sizeof(m->hostname) - 1);
	struct utsname u;
	if (uname(&u) == 0) {
		snprintf(m->kernel, sizeof(m->kernel), "%.60s %.90s", u.sysname, u.release);
		snprintf(m->arch, sizeof(m->arch), "%.31s", u.machine);
	}
	read_keyed_line("/proc/cpuinfo", "model name", ':', m->cpu_model, sizeof(m->cpu_model));
	read_keyed_line("/etc/os-release", "PRETTY_NAME", '=', m->os, sizeof(m->os));
	char mem[64];
	if (read_keyed_line("/proc/meminfo", "MemTotal", ':', mem, sizeof(mem)) == 0) {
		unsigned long long kb = 0;
		if (sscanf(mem, "%llu", &kb) == 1)
			m->memory_bytes = (uint64_t)kb * 1024ull;
	}
	long online = sysconf(_SC_NPROCESSORS_ONLN);
	m->logical_cpus = online > 0 ? (int)online : 1;
	m->allowed_cpus = tg_machine_cpu_count();
}

static const struct tg_feature features[] = {
	{"cuda", TG_HAVE_CUDA, TG_FEATURE_CUDA_DETAIL},
	{"cupti", TG_HAVE_CUPTI, TG_FEATURE_CUPTI_DETAIL},
	{"rust", TG_HAVE_RUST, TG_FEATURE_RUST_DETAIL},
	{"hwloc", TG_HAVE_HWLOC, TG_FEATURE_HWLOC_DETAIL},
	{"libdw", TG_HAVE_LIBDW, TG_FEATURE_LIBDW_DETAIL},
	{"libunwind", TG_HAVE_LIBUNWIND, TG_FEATURE_LIBUNWIND_DETAIL},
	{"mpi", TG_HAVE_MPI, TG_FEATURE_MPI_DETAIL},
};

static const struct tg_build_info build = {
	.version = TG_VERSION,
	.git_commit = TG_GIT_COMMIT,
	.build_type = TG_BUILD_TYPE,
	.c_compiler = TG_C_COMPILER,
	.c_flags = TG_C_FLAGS,
	.sanitizers = TG_SANITIZERS,
	.features = features,
	.n_features = (int)(sizeof(features) / sizeof(features[0])),
};

const struct tg_build_info *tg_build_info(void)
{
	return &build;
}

void tg_machine_write_json(struct tg_json *j, const struct tg_machine *m)
{
	tg_json_begin_object(j);
	tg_json_kv_string(j, "hostname", m->hostname);
	tg_json_kv_string(j, "cpu_model", m->cpu_model);
	tg_json_kv_int(j, "logical_cpus", m->logical_cpus);
	tg_json_kv_int(j, "allowed_cpus", m->allowed_cpus);
	tg_json_kv_uint(j, "memory_bytes", m->memory_bytes);
	tg_json_kv_string(j, "kernel", m->kernel);
	tg_json_kv_string(j, "arch", m->arch);
	tg_json_kv_string(j, "os", m->os);
	const struct tg_topology *t = &m->topo;
	if (t->source[0]) {
		tg_json_key(j, "topology");
		tg_json_begin_object(j);
		tg_json_kv_string(j, "source", t->source);
		tg_json_kv_int(j, "packages", t->packages);
		tg_json_kv_int(j, "cores", t->cores);
		tg_json_kv_int(j, "pus", t->pus);
		tg_json_key(j, "caches");
		tg_json_begin_array(j);
		for (int i = 0; i < t->n_caches; i++) {
			const struct tg_topo_cache *c = &t->caches[i];
			tg_json_begin_object(j);
			tg_json_kv_int(j, "level", c->level);
			tg_json_kv_string(j, "type", c->type);
			tg_json_kv_uint(j, "size_bytes", c->size);
			tg_json_kv_int(j, "line_bytes", c->line);
			tg_json_kv_int(j, "count", c->count);
			tg_json_end_object(j);
		}
		tg_json_end_array(j);
		tg_json_key(j, "numa_nodes");
		tg_json_begin_array(j);
		for (int i = 0; i < t->n_numa; i++) {
			tg_json_begin_object(j);
			tg_json_kv_int(j, "node", i);
			tg_json_kv_uint(j, "memory_bytes", t->numa_memory[i]);
			tg_json_end_object(j);
		}
		tg_json_end_array(j);
		tg_json_key(j, "gpus");
		tg_json_begin_array(j);
		for (int i = 0; i < t->n_gpus; i++) {
			const struct tg_topo_gpu *g = &t->gpus[i];
			tg_json_begin_object(j);
			tg_json_kv_string(j, "pci", g->pci);
			tg_json_kv_string(j, "name", g->name);
			tg_json_kv_int(j, "numa_node", g->numa_node);
			tg_json_kv_string(j, "nearest_cpus", g->cpus);
			tg_json_end_object(j);
		}
		tg_json_end_array(j);
		tg_json_end_object(j);
	}
	tg_json_end_object(j);
}

void tg_build_write_json(struct tg_json *j, const struct tg_build_info *b)
{
	tg_json_begin_object(j);
	tg_json_kv_string(j, "version", b->version);
	tg_json_kv_string(j, "git_commit", b->git_commit);
	tg_json_kv_string(j, "build_type", b->build_type);
	tg_json_kv_string(j, "c_compiler", b->c_compiler);
	tg_json_kv_string(j, "c_flags", b->c_flags);
	tg_json_kv_string(j, "sanitizers", b->sanitizers);
	tg_json_key(j, "features");
	tg_json_begin_object(j);
	for (int i = 0; i < b->n_features; i++) {
		tg_json_key(j, b->features[i].name);
		tg_json_begin_object(j);
		tg_json_kv_bool(j, "built", b->features[i].built);
		tg_json_kv_string(j, "detail", b->features[i].detail);
		tg_json_end_object(j);
	}
	tg_json_end_object(j);
	tg_json_end_object(j);
}

void tg_topology_describe(const struct tg_topology *t, char *buf, size_t cap)
{
	size_t used = (size_t)snprintf(buf, cap, "%d package%s, %d cores, %d hardware threads",
				       t->packages, t->packages == 1 ? "" : "s", t->cores, t->pus);
	for (int i = 0; i < t->n_caches && used < cap; i++) {
		const struct tg_topo_cache *c = &t->caches[i];
		uint64_t kib = c->size >> 10;
		used += (size_t)snprintf(buf + used, cap - used, "; L%d%s %llu %s x%d", c->level,
					 strcmp(c->type, "data") == 0 ? "d" : "",
					 (unsigned long long)(kib >= 1024 ? kib >> 10 : kib),
					 kib >= 1024 ? "MiB" : "KiB", c->count);
	}
	if (used < cap)
		used += (size_t)snprintf(buf + used, cap - used, "; %d NUMA node%s", t->n_numa,
					 t->n_numa == 1 ? "" : "s");
	for (int i = 0; i < t->n_gpus && used < cap; i++)
		used += (size_t)snprintf(buf + used, cap - used, "; GPU %s near CPUs %s (node %d)",
					 t->gpus[i].pci, t->gpus[i].cpus[0] ? t->gpus[i].cpus : "?",
					 t->gpus[i].numa_node);
}


const char *tg_machine_simd(void)
{
	static char buf[96];
	if (buf[0])
		return buf;
#if defined(__x86_64__) || defined(__i386__)
	__builtin_cpu_init();
	const struct {
		const char *name;
		int has;
	} ext[] = {{"SSE4.2", __builtin_cpu_supports("sse4.2")},
		   {"AVX", __builtin_cpu_supports("avx")},
		   {"AVX2", __builtin_cpu_supports("avx2")},
		   {"FMA", __builtin_cpu_supports("fma")},
		   {"AVX-512F", __builtin_cpu_supports("avx512f")}};
	size_t n = 0;
	for (size_t i = 0; i < sizeof(ext) / sizeof(ext[0]); i++)
		if (ext[i].has && n < sizeof(buf))
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s", n ? ", " : "",
					      ext[i].name);
	if (n == 0)
		snprintf(buf, sizeof(buf), "none detected");
#elif defined(__aarch64__)
	snprintf(buf, sizeof(buf), "NEON");
#else
	snprintf(buf, sizeof(buf), "none detected");
#endif
	return buf;
}
