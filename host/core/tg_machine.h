/* What machine and build produced a result: recorded in every results.json
 * and printed by `info`. */
#ifndef TG_MACHINE_H
#define TG_MACHINE_H

#include <stdbool.h>
#include <stdint.h>

#include "tg_json.h"

#ifdef __cplusplus
extern "C" {
#endif

struct tg_machine {
	char hostname[128];
	char cpu_model[160];
	char kernel[160];  /* uname -sr */
	char arch[32];     /* uname -m */
	char os[160];      /* PRETTY_NAME from /etc/os-release */
	int logical_cpus;  /* online CPUs */
	int allowed_cpus;  /* CPUs in this process's affinity mask */
	uint64_t memory_bytes;
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

void tg_machine_write_json(struct tg_json *j, const struct tg_machine *m);
void tg_build_write_json(struct tg_json *j, const struct tg_build_info *b);

#ifdef __cplusplus
}
#endif

#endif
