/* Topology from hwloc (or sysfs) and thread placement with
 * pthread_setaffinity_np. */
#include "tg_topo.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tg_config.h"
#include "tg_str.h"

#if TG_HAVE_HWLOC
#include <hwloc.h>
#endif

/* ---- cpu lists ------------------------------------------------------------- */

void tg_cpulist_format(const int *cpus, int n, char *buf, size_t cap)
{
	size_t used = 0;
	buf[0] = '\0';
	for (int i = 0; i < n && used < cap;) {
		int j = i;
		while (j + 1 < n && cpus[j + 1] == cpus[j] + 1)
			j++;
		int w = j > i ? snprintf(buf + used, cap - used, "%s%d-%d", used ? "," : "", cpus[i], cpus[j])
			      : snprintf(buf + used, cap - used, "%s%d", used ? "," : "", cpus[i]);
		if (w < 0)
			break;
		used += (size_t)w;
		i = j + 1;
	}
}

int tg_cpulist_parse(const char *text, int *cpus, int cap)
{
	int n = 0;
	const char *p = text;
	while (*p && *p != '\n') {
		char *end;
		long a = strtol(p, &end, 10);
		if (end == p || a < 0)
			return TG_E_PARSE;
		long b = a;
		p = end;
		if (*p == '-') {
			b = strtol(p + 1, &end, 10);
			if (end == p + 1 || b < a)
				return TG_E_PARSE;
			p = end;
		}
		for (long c = a; c <= b; c++) {
			if (n == cap)
				return TG_E_RANGE;
			cpus[n++] = (int)c;
		}
		if (*p == ',')
			p++;
		else if (*p && *p != '\n')
			return TG_E_PARSE;
	}
	return n;
}

/* ---- sysfs --------------------------------------------------------------------- */

static int read_line(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	int ok = fgets(buf, (int)cap, f) != NULL;
	fclose(f);
	if (!ok)
		return -1;
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

static long read_long(const char *path, long def)
{
	char buf[64];
	return read_line(path, buf, sizeof(buf)) == 0 ? strtol(buf, NULL, 0) : def;
}

/* "32K" -> bytes */
static uint64_t parse_size(const char *s)
{
	char *end;
	uint64_t v = strtoull(s, &end, 10);
	if (*end == 'K')
		v <<= 10;
	else if (*end == 'M')
		v <<= 20;
	else if (*end == 'G')
		v <<= 30;
	return v;
}

static void sysfs_gpus(struct tg_topology *t)
{
	DIR *d = opendir("/sys/bus/pci/devices");
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d)) && t->n_gpus < TG_TOPO_MAX_GPUS) {
		if (e->d_name[0] == '.')
			continue;
		char path[512], buf[256];
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/class", e->d_name);
		long cls = read_long(path, 0);
		if ((cls >> 16) != 0x03) /* display controllers: VGA, 3D */
			continue;
		struct tg_topo_gpu *g = &t->gpus[t->n_gpus++];
		memset(g, 0, sizeof(*g));
		tg_strlcpy(g->pci, e->d_name, sizeof(g->pci));
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vendor", e->d_name);
		long vendor = read_long(path, 0);
		snprintf(g->name, sizeof(g->name), "%s display controller 0x%04lx",
			 vendor == 0x10de ? "NVIDIA" : vendor == 0x1002 ? "AMD" : "PCI", vendor);
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/numa_node", e->d_name);
		g->numa_node = (int)read_long(path, -1);
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/local_cpulist", e->d_name);
		if (read_line(path, buf, sizeof(buf)) == 0)
			tg_strlcpy(g->cpus, buf, sizeof(g->cpus));
	}
	closedir(d);
}

static void sysfs_probe(struct tg_topology *t)
{
	tg_strlcpy(t->source, "sysfs", sizeof(t->source));
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	t->pus = n > 0 ? (int)n : 1;
	/* cores and packages: distinct (package, core) ids */
	int seen_core[4096], seen_pkg[256], nc = 0, np = 0;
	for (int c = 0; c < t->pus && c < 4096; c++) {
		char path[256];
		snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%d/topology/physical_package_id", c);
		int pkg = (int)read_long(path, 0);
		snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%d/topology/core_id", c);
		int core = (int)read_long(path, c) + pkg * 65536;
		int found = 0;
		for (int i = 0; i < nc && !found; i++)
			found = seen_core[i] == core;
		if (!found && nc < 4096)
			seen_core[nc++] = core;
		found = 0;
		for (int i = 0; i < np && !found; i++)
			found = seen_pkg[i] == pkg;
		if (!found && np < 256)
			seen_pkg[np++] = pkg;
	}
	t->cores = nc > 0 ? nc : t->pus;
	t->packages = np > 0 ? np : 1;
	for (int i = 0; i < 8 && t->n_caches < TG_TOPO_MAX_CACHES; i++) {
		char path[256], type[32], size[32], shared[256];
		snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu0/cache/index%d/type", i);
		if (read_line(path, type, sizeof(type)) < 0)
			break;
		if (strcmp(type, "Instruction") == 0)
			continue;
		struct tg_topo_cache *c = &t->caches[t->n_caches++];
		snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu0/cache/index%d/level", i);
		c->level = (int)read_long(path, 0);
		tg_strlcpy(c->type, strcmp(type, "Data") == 0 ? "data" : "unified", sizeof(c->type));
		snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu0/cache/index%d/size", i);
		c->size = read_line(path, size, sizeof(size)) == 0 ? parse_size(size) : 0;
		snprintf(path, sizeof(path),
			 "/sys/devices/system/cpu/cpu0/cache/index%d/coherency_line_size", i);
		c->line = (int)read_long(path, 64);
		snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu0/cache/index%d/shared_cpu_list", i);
		int cpus[4096];
		int shared_n = read_line(path, shared, sizeof(shared)) == 0
				       ? tg_cpulist_parse(shared, cpus, 4096)
				       : 1;
		c->count = shared_n > 0 ? (t->pus + shared_n - 1) / shared_n : 1;
	}
	for (int i = 0; i < TG_TOPO_MAX_NUMA; i++) {
		char path[256];
		snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/meminfo", i);
		FILE *f = fopen(path, "r");
		if (!f)
			break;
		char line[256];
		while (fgets(line, sizeof(line), f)) {
			char *m = strstr(line, "MemTotal:");
			if (m)
				t->numa_memory[i] = strtoull(m + 9, NULL, 10) * 1024;
		}
		fclose(f);
		t->n_numa = i + 1;
	}
	sysfs_gpus(t);
}

/* ---- hwloc ------------------------------------------------------------------------ */

#if TG_HAVE_HWLOC
static int hwloc_open(hwloc_topology_t *t)
{
	if (hwloc_topology_init(t) < 0)
		return -1;
	hwloc_topology_set_io_types_filter(*t, HWLOC_TYPE_FILTER_KEEP_IMPORTANT);
	if (hwloc_topology_load(*t) < 0) {
		hwloc_topology_destroy(*t);
		return -1;
	}
	return 0;
}

static int hwloc_probe(struct tg_topology *t)
{
	hwloc_topology_t h;
	if (hwloc_open(&h) < 0)
		return -1;
	unsigned v = hwloc_get_api_version();
	snprintf(t->source, sizeof(t->source), "hwloc, API %u.%u", v >> 16, (v >> 8) & 0xff);
	t->packages = hwloc_get_nbobjs_by_type(h, HWLOC_OBJ_PACKAGE);
	t->cores = hwloc_get_nbobjs_by_type(h, HWLOC_OBJ_CORE);
	t->pus = hwloc_get_nbobjs_by_type(h, HWLOC_OBJ_PU);
	const hwloc_obj_type_t levels[] = {HWLOC_OBJ_L1CACHE, HWLOC_OBJ_L2CACHE, HWLOC_OBJ_L3CACHE,
					   HWLOC_OBJ_L4CACHE};
	for (int i = 0; i < 4 && t->n_caches < TG_TOPO_MAX_CACHES; i++) {
		int count = hwloc_get_nbobjs_by_type(h, levels[i]);
		hwloc_obj_t o = hwloc_get_obj_by_type(h, levels[i], 0);
		if (count <= 0 || !o)
			continue;
		struct tg_topo_cache *c = &t->caches[t->n_caches++];
		c->level = (int)o->attr->cache.depth;
		tg_strlcpy(c->type,
			   o->attr->cache.type == HWLOC_OBJ_CACHE_DATA ? "data"
			   : o->attr->cache.type == HWLOC_OBJ_CACHE_INSTRUCTION ? "instr"
										   : "unified",
			   sizeof(c->type));
		c->size = o->attr->cache.size;
		c->line = (int)o->attr->cache.linesize;
		c->count = count;
	}
	int nn = hwloc_get_nbobjs_by_type(h, HWLOC_OBJ_NUMANODE);
	for (int i = 0; i < nn && i < TG_TOPO_MAX_NUMA; i++) {
		hwloc_obj_t o = hwloc_get_obj_by_type(h, HWLOC_OBJ_NUMANODE, (unsigned)i);
		t->numa_memory[i] = o ? o->attr->numanode.local_memory : 0;
		t->n_numa = i + 1;
	}
	for (hwloc_obj_t o = hwloc_get_next_pcidev(h, NULL); o && t->n_gpus < TG_TOPO_MAX_GPUS;
	     o = hwloc_get_next_pcidev(h, o)) {
		if ((o->attr->pcidev.class_id >> 8) != 0x03)
			continue;
		struct tg_topo_gpu *g = &t->gpus[t->n_gpus++];
		memset(g, 0, sizeof(*g));
		snprintf(g->pci, sizeof(g->pci), "%04x:%02x:%02x.%01x", o->attr->pcidev.domain,
			 o->attr->pcidev.bus, o->attr->pcidev.dev, o->attr->pcidev.func);
		snprintf(g->name, sizeof(g->name), "%s",
			 o->name ? o->name
				 : o->attr->pcidev.vendor_id == 0x10de ? "NVIDIA display controller"
									: "display controller");
		hwloc_obj_t anc = hwloc_get_non_io_ancestor_obj(h, o);
		g->numa_node = anc && anc->nodeset ? hwloc_bitmap_first(anc->nodeset) : -1;
		if (anc && anc->cpuset)
			hwloc_bitmap_list_snprintf(g->cpus, sizeof(g->cpus), anc->cpuset);
	}
	hwloc_topology_destroy(h);
	return 0;
}
#endif

int tg_topo_probe(struct tg_topology *t, struct tg_error *err)
{
	(void)err;
	memset(t, 0, sizeof(*t));
#if TG_HAVE_HWLOC
	if (hwloc_probe(t) == 0) {
		if (t->n_gpus == 0)
			sysfs_gpus(t); /* hwloc built without PCI discovery */
		return 0;
	}
	memset(t, 0, sizeof(*t));
#endif
	sysfs_probe(t);
	return 0;
}

/* ---- pinning --------------------------------------------------------------------- */

struct tg_pinner {
	cpu_set_t original;
	int order[CPU_SETSIZE]; /* allowed CPUs, one per core first */
	int n;
	struct tg_topology topo;
};

/* The allowed CPUs, first hardware thread of every core before second ones. */
static void core_order(struct tg_pinner *p)
{
	int allowed[CPU_SETSIZE], na = 0;
	for (int c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &p->original))
			allowed[na++] = c;
	/* rank of each CPU among the threads of its core */
	int rank[CPU_SETSIZE];
	for (int i = 0; i < na; i++) {
		char path[256], buf[256];
		int sib[CPU_SETSIZE];
		snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%d/topology/thread_siblings_list",
			 allowed[i]);
		int ns = read_line(path, buf, sizeof(buf)) == 0 ? tg_cpulist_parse(buf, sib, CPU_SETSIZE)
								 : 0;
		rank[i] = 0;
		for (int k = 0; k < ns; k++)
			if (sib[k] < allowed[i])
				rank[i]++;
	}
	p->n = 0;
	for (int r = 0; p->n < na && r < CPU_SETSIZE; r++)
		for (int i = 0; i < na; i++)
			if (rank[i] == r)
				p->order[p->n++] = allowed[i];
}

int tg_pinner_new(struct tg_pinner **out, struct tg_error *err)
{
	*out = NULL;
	struct tg_pinner *p = calloc(1, sizeof(*p));
	TG_FAIL_IF(!p, err, TG_E_NOMEM, "pin: out of memory");
	int rc = pthread_getaffinity_np(pthread_self(), sizeof(p->original), &p->original);
	if (rc != 0) {
		free(p);
		return TG_ERR_SUB(err, TG_E_IO, rc, "pin: cannot read this thread's affinity: %s",
				  strerror(rc));
	}
	core_order(p);
	tg_topo_probe(&p->topo, NULL);
	*out = p;
	return 0;
}

void tg_pinner_free(struct tg_pinner *p)
{
	free(p);
}

static int bind_list(const int *cpus, int n, struct tg_error *err)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	for (int i = 0; i < n; i++)
		if (cpus[i] >= 0 && cpus[i] < CPU_SETSIZE)
			CPU_SET(cpus[i], &set);
	int rc = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	if (rc != 0)
		return TG_ERR_SUB(err, TG_E_IO, rc, "pin: cannot bind the thread: %s", strerror(rc));
	return 0;
}

int tg_pin_worker(struct tg_pinner *p, int index, char *where, size_t cap, struct tg_error *err)
{
	TG_FAIL_IF(p->n == 0, err, TG_E_UNSUPPORTED, "pin: no CPU allowed");
	int cpu = p->order[(index < 0 ? 0 : index) % p->n];
	TG_TRY(bind_list(&cpu, 1, err));
	snprintf(where, cap, "CPU %d", cpu);
	return 0;
}

int tg_pin_near_pci(struct tg_pinner *p, const char *pci, char *where, size_t cap,
		    struct tg_error *err)
{
	for (int i = 0; i < p->topo.n_gpus; i++) {
		if (strcasecmp(p->topo.gpus[i].pci, pci) != 0 || !p->topo.gpus[i].cpus[0])
			continue;
		int cpus[CPU_SETSIZE], allowed[CPU_SETSIZE], na = 0;
		int n = tg_cpulist_parse(p->topo.gpus[i].cpus, cpus, CPU_SETSIZE);
		for (int k = 0; k < n; k++)
			if (cpus[k] < CPU_SETSIZE && CPU_ISSET(cpus[k], &p->original))
				allowed[na++] = cpus[k];
		TG_FAIL_IF(na == 0, err, TG_E_UNSUPPORTED,
			   "pin: the CPUs near GPU %s (%s) are not allowed to this process", pci,
			   p->topo.gpus[i].cpus);
		TG_TRY(bind_list(allowed, na, err));
		char list[96];
		tg_cpulist_format(allowed, na, list, sizeof(list));
		snprintf(where, cap, "CPUs %s (near GPU %s, NUMA node %d)", list, pci,
			 p->topo.gpus[i].numa_node);
		return 0;
	}
	return TG_ERR(err, TG_E_UNSUPPORTED, "pin: the topology does not place GPU %s", pci);
}

void tg_pin_restore(struct tg_pinner *p)
{
	pthread_setaffinity_np(pthread_self(), sizeof(p->original), &p->original);
}
