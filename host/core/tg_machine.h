/* What machine and build produced a result: recorded in every results.json
 * and printed by `info`. */
#ifndef TG_MACHINE_H
#define TG_MACHINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tg_json.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TG_TOPO_MAX_CACHES 4
#define TG_TOPO_MAX_NUMA 16
#define TG_TOPO_MAX_GPUS 16

struct tg_topo_cache {
	int level;           /* 1, 2, 3 */
	char type[8];        /* "data", "unified", "instr" */
	uint64_t size;       /* bytes, per instance */
	int line;            /* bytes */
	int count;           /* instances */
};

struct tg_topo_gpu {
	char pci[16];        /* "0000:3b:00.0" */
	char name[96];       /* what the topology source knows, may be "" */
	int numa_node;       /* -1 when unknown */
	char cpus[96];       /* nearest CPUs, list form "0-15" */
};

/* Filled by host/topo (hwloc, or sysfs when built without it). */
struct tg_topology {
	char source[32];     /* "hwloc 2.9.0", "sysfs", "" = not probed */
	int packages, cores, pus;
	struct tg_topo_cache caches[TG_TOPO_MAX_CACHES];
	int n_caches;
	uint64_t numa_memory[TG_TOPO_MAX_NUMA];
	int n_numa;
	struct tg_topo_gpu gpus[TG_TOPO_MAX_GPUS];
	int n_gpus;
};

struct tg_machine {
	char hostname[128];
	char cpu_model[160];
	char kernel[160];  /* uname -sr */
	char arch[32];     /* uname -m */
	char os[160];      /* PRETTY_NAME from /etc/os-release */
	int logical_cpus;  /* online CPUs */
	int allowed_cpus;  /* CPUs in this process's affinity mask */
	uint64_t memory_bytes;
	struct tg_topology topo;
};

struct tg_feature {
	const char *name;  /* "cuda" */
	bool built;        /* compiled in */
	const char *detail; /* version or why it is off */
};

struct tg_build_info {
	const char *version;
	const char *git_commit;
	const char *build_type;
	const char *c_compiler;
	const char *c_flags;
	const char *sanitizers; /* "" when none */
	const struct tg_feature *features;
	int n_features;
};

/* Never fails: fields it cannot read are left as "unknown" / 0. */
void tg_machine_probe(struct tg_machine *m);
const struct tg_build_info *tg_build_info(void);
/* Number of CPUs this process may run on (affinity mask), at least 1. */
int tg_machine_cpu_count(void);
/* The SIMD extensions this CPU has, as "AVX2, FMA, AVX-512F" (x86-64),
 * "NEON" (aarch64), or "none detected". */
const char *tg_machine_simd(void);

void tg_machine_write_json(struct tg_json *j, const struct tg_machine *m);
/* One line: "1 package, 2 cores, 2 hardware threads; L1d 48 KiB x2; ...". */
void tg_topology_describe(const struct tg_topology *t, char *buf, size_t cap);
void tg_build_write_json(struct tg_json *j, const struct tg_build_info *b);

#ifdef __cplusplus
}
#endif

#endif
