/* Machine topology and thread placement.
 *
 * tg_topo_probe fills struct tg_topology (tg_machine.h): packages, cores,
 * hardware threads, caches, NUMA nodes and GPUs with the CPUs nearest to
 * them, from hwloc when built with it, else from sysfs. A pinner binds
 * threads for `run --pin`: CPU workers one per physical core first (then
 * their sibling hardware threads), a GPU's host thread to the CPUs of the
 * GPU's NUMA node.
 */
#ifndef TG_TOPO_H
#define TG_TOPO_H

#include <stddef.h>

#include "tg_error.h"
#include "tg_machine.h"

#ifdef __cplusplus
extern "C" {
#endif

int tg_topo_probe(struct tg_topology *t, struct tg_error *err);

struct tg_pinner;

int tg_pinner_new(struct tg_pinner **out, struct tg_error *err);
void tg_pinner_free(struct tg_pinner *p);
/* Binds the calling thread to the CPU of worker `index` (cores first,
 * round robin over the CPUs this process may use); where names it. */
int tg_pin_worker(struct tg_pinner *p, int index, char *where, size_t cap, struct tg_error *err);
/* Binds the calling thread to the CPUs nearest the PCI device
 * ("0000:3b:00.0"); TG_E_UNSUPPORTED when its locality is unknown. */
int tg_pin_near_pci(struct tg_pinner *p, const char *pci, char *where, size_t cap,
		    struct tg_error *err);
/* Gives the calling thread back the affinity it had when the pinner was
 * created. */
void tg_pin_restore(struct tg_pinner *p);

/* "0-3,8" for a CPU list (n CPUs, ascending). */
void tg_cpulist_format(const int *cpus, int n, char *buf, size_t cap);
/* Parses "0-3,8" (sysfs cpulist format) into cpus; returns the count or a
 * negative status. */
int tg_cpulist_parse(const char *text, int *cpus, int cap);

#ifdef __cplusplus
}
#endif

#endif
