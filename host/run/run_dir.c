/* The run directory: where every command writes, and the raw capture a
 * profiled run leaves there (capture.bin, maps, maps.buildid) so that
 * `report` can render it again, here or on another machine. */
#include <dirent.h>
#include <elf.h>
#include <stdbool.h>
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tg_clock.h"
#include "tg_mem.h"
#include "tg_run.h"
#include "tg_str.h"

static long temp_pid(const char *name);

/* Whether a file name is one a run or record writes into its directory. */
static bool run_output(const char *name)
{
	static const char *const exact[] = {"results.json", "summary.md", "report.html", "sweep.json",
					    TG_RUNDIR_INCOMPLETE,
					    "trace.json", "top.txt", "profile.speedscope.json",
					    "capture.bin", "maps", "maps.buildid", "vdso.so", NULL};
	if (tg_name_index(exact, name) >= 0)
		return true;
	const size_t n = strlen(name);
	const bool drawn = (n > 4 && strcmp(name + n - 4, ".svg") == 0) ||
			   (n > 7 && strcmp(name + n - 7, ".folded") == 0);
	return (drawn && (strncmp(name, "cpu", 3) == 0 || strncmp(name, "gpu", 3) == 0 ||
			  strncmp(name, "combined", 8) == 0 || strncmp(name, "diff-", 5) == 0)) ||
	       strncmp(name, "capture-", 8) == 0 || strncmp(name, "maps-", 5) == 0 ||
	       strncmp(name, "vdso-", 5) == 0;
}

/* An existing --out directory that holds a run: refused, emptied of the
 * outputs (so no old flame graph ends up in the new report), or kept. */
static int existing_run(const char *command, const char *dir, int existing, struct tg_error *err)
{
	char probe[1200];
	snprintf(probe, sizeof(probe), "%s/results.json", dir);
	bool has = access(probe, F_OK) == 0;
	snprintf(probe, sizeof(probe), "%s/capture.bin", dir);
	has = has || access(probe, F_OK) == 0;
	snprintf(probe, sizeof(probe), "%s/sweep.json", dir);
	has = has || access(probe, F_OK) == 0;
	snprintf(probe, sizeof(probe), "%s/" TG_RUNDIR_INCOMPLETE, dir);
	has = has || access(probe, F_OK) == 0;
	if (!has || existing == TG_RUNDIR_KEEP)
		return 0;
	TG_FAIL_IF(existing == TG_RUNDIR_REFUSE, err, TG_E_IO,
		   "%s: --out '%s' holds a run already; name a new directory, or --force to "
		   "replace it",
		   command, dir);
	DIR *d = opendir(dir);
	TG_FAIL_IF(!d, err, TG_E_IO, "%s: --out '%s': cannot read: %s", command, dir, strerror(errno));
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!run_output(e->d_name) && !temp_pid(e->d_name))
			continue;
		char path[1200];
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unlink(path);
	}
	closedir(d);
	return 0;
}

int tg_rundir_make(const char *command, const char *out, int existing, char *dir, size_t cap,
		   struct tg_error *err)
{
	if (out) {
		snprintf(dir, cap, "%s", out);
		if (tg_make_dirs(dir) != 0)
			return TG_ERR(err, TG_E_IO, "%s: --out '%s': cannot create: %s", command, dir,
				      strerror(errno));
		struct stat st;
		TG_FAIL_IF(stat(dir, &st) != 0 || !S_ISDIR(st.st_mode), err, TG_E_IO,
			   "%s: --out '%s' exists and is not a directory", command, dir);
		return existing_run(command, dir, existing, err);
	}
	const char *base = getenv("TG_PROFILES_DIR");
	if (!base || !*base)
		base = "profiles";
	if (tg_make_dirs(base) != 0)
		return TG_ERR(err, TG_E_IO, "%s: cannot create '%s': %s", command, base,
			      strerror(errno));
	char stamp[32];
	tg_clock_format_compact(tg_clock_realtime_ns(), stamp, sizeof(stamp));
	for (int k = 1; k < 1000; k++) {
		if (k == 1)
			snprintf(dir, cap, "%s/%s-%s", base, command, stamp);
		else
			snprintf(dir, cap, "%s/%s-%s-%d", base, command, stamp, k);
		if (mkdir(dir, 0777) == 0)
			return 0;
		if (errno != EEXIST)
			return TG_ERR(err, TG_E_IO, "%s: cannot create '%s': %s", command, dir,
				      strerror(errno));
	}
	return TG_ERR(err, TG_E_IO, "%s: too many run directories named %s/%s-%s-*", command,
		      base, command, stamp);
}

/* ---- the process map and build ids ------------------------------------------ */

static int copy_file(const char *from, struct tg_sink *sink, struct tg_error *err)
{
	FILE *f = fopen(from, "r");
	TG_FAIL_IF(!f, err, TG_E_IO, "run: cannot read %s: %s", from, strerror(errno));
	char buf[4096];
	size_t n;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		tg_sink_write(sink, buf, n);
	fclose(f);
	return 0;
}

int tg_rundir_write_maps(struct tg_sink *sink, struct tg_error *err)
{
	return copy_file("/proc/self/maps", sink, err);
}

/* The NT_GNU_BUILD_ID of an ELF file, as hex; 0 when found. */
static int build_id(const char *path, char *hex, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = -1;
	Elf64_Ehdr eh;
	if (pread(fd, &eh, sizeof(eh), 0) != (ssize_t)sizeof(eh) || memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_phnum == 0 || eh.e_phnum > 256)
		goto out;
	for (int i = 0; i < eh.e_phnum && rc != 0; i++) {
		Elf64_Phdr ph;
		if (pread(fd, &ph, sizeof(ph), (off_t)(eh.e_phoff + (uint64_t)i * eh.e_phentsize)) !=
		    (ssize_t)sizeof(ph))
			goto out;
		if (ph.p_type != PT_NOTE || ph.p_filesz > 65536)
			continue;
		uint8_t notes[65536];
		if (pread(fd, notes, ph.p_filesz, (off_t)ph.p_offset) != (ssize_t)ph.p_filesz)
			goto out;
		size_t off = 0;
		while (off + sizeof(Elf64_Nhdr) <= ph.p_filesz) {
			const Elf64_Nhdr *nh = (const Elf64_Nhdr *)(notes + off);
			size_t name_off = off + sizeof(*nh), desc_off = name_off + ((nh->n_namesz + 3) & ~3u);
			if (desc_off + nh->n_descsz > ph.p_filesz)
				break;
			if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 &&
			    memcmp(notes + name_off, "GNU", 4) == 0) {
				size_t k = 0;
				for (uint32_t j = 0; j < nh->n_descsz && k + 3 <= cap; j++, k += 2)
					snprintf(hex + k, 3, "%02x", notes[desc_off + j]);
				rc = 0;
				break;
			}
			off = desc_off + ((nh->n_descsz + 3) & ~3u);
		}
	}
out:
	close(fd);
	return rc;
}

int tg_rundir_write_build_ids(struct tg_sink *sink, struct tg_error *err)
{
	FILE *f = fopen("/proc/self/maps", "r");
	TG_FAIL_IF(!f, err, TG_E_IO, "run: cannot read /proc/self/maps: %s", strerror(errno));
	char line[4096], last[4096] = "";
	while (fgets(line, sizeof(line), f)) {
		char *path = strchr(line, '/');
		if (!path)
			continue;
		path[strcspn(path, "\n")] = '\0';
		if (strcmp(path, last) == 0)
			continue;
		snprintf(last, sizeof(last), "%s", path);
		char hex[130];
		if (build_id(path, hex, sizeof(hex)) == 0)
			tg_sink_printf(sink, "build-id %s %s\n", hex, path);
	}
	fclose(f);
	return 0;
}

/* ---- the raw capture ------------------------------------------------------------- */

typedef int (*render_fn)(struct tg_sink *sink, const struct tg_capture *c, struct tg_error *err);

static int maps_fn(struct tg_sink *sink, const struct tg_capture *c, struct tg_error *err)
{
	(void)c;
	return tg_rundir_write_maps(sink, err);
}

static int build_ids_fn(struct tg_sink *sink, const struct tg_capture *c, struct tg_error *err)
{
	(void)c;
	return tg_rundir_write_build_ids(sink, err);
}

/* The size of this process's [vdso] mapping, 0 when it has none. */
static size_t vdso_size(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	if (!f)
		return 0;
	char line[4096];
	size_t size = 0;
	while (!size && fgets(line, sizeof(line), f)) {
		unsigned long long lo, hi;
		if (strstr(line, "[vdso]") && sscanf(line, "%llx-%llx", &lo, &hi) == 2 && hi > lo)
			size = (size_t)(hi - lo);
	}
	fclose(f);
	return size;
}

int tg_rundir_write_vdso(struct tg_sink *sink, struct tg_error *err)
{
	const unsigned long base = getauxval(AT_SYSINFO_EHDR);
	const size_t size = vdso_size();
	TG_FAIL_IF(!base || !size, err, TG_E_IO, "run: this process has no vDSO");
	tg_sink_write(sink, (const void *)(uintptr_t)base, size);
	return 0;
}

static int vdso_fn(struct tg_sink *sink, const struct tg_capture *c, struct tg_error *err)
{
	(void)c;
	return tg_rundir_write_vdso(sink, err);
}

static int capture_fn(struct tg_sink *sink, const struct tg_capture *c, struct tg_error *err)
{
	return tg_capture_write(c, sink, err);
}

/* Renders through fn into memory, then writes dir/<leaf> whole. */
static int write_one(const char *dir, const char *leaf, render_fn fn, const struct tg_capture *c,
		     char **keep, struct tg_error *err)
{
	struct tg_sink *m = tg_sink_open_memory();
	TG_FAIL_IF(!m, err, TG_E_NOMEM, "run: out of memory");
	int rc = fn(m, c, err);
	size_t len = 0;
	const char *data = tg_sink_memory_data(m, &len);
	if (rc == 0) {
		char path[1200];
		snprintf(path, sizeof(path), "%s/%s", dir, leaf);
		struct tg_sink *f = tg_sink_open_file(path, err);
		if (!f) {
			rc = err ? err->code : TG_E_IO;
		} else {
			tg_sink_write(f, data, len);
			rc = tg_sink_close(f, err);
		}
	}
	if (rc == 0 && keep && !(*keep = strdup(data)))
		rc = TG_ERR(err, TG_E_NOMEM, "run: out of memory");
	tg_sink_close(m, NULL);
	return rc;
}

int tg_rundir_write_capture(const char *dir, const char *suffix, const struct tg_capture *c,
			    char **maps_text, struct tg_error *err)
{
	if (maps_text)
		*maps_text = NULL;
	char maps[64], ids[64], bin[64];
	snprintf(maps, sizeof(maps), "maps%s", suffix);
	snprintf(ids, sizeof(ids), "maps%s.buildid", suffix);
	snprintf(bin, sizeof(bin), "capture%s.bin", suffix);
	int rc = write_one(dir, maps, maps_fn, c, maps_text, err);
	if (rc == 0)
		rc = write_one(dir, ids, build_ids_fn, c, NULL, err);
	if (rc == 0 && getauxval(AT_SYSINFO_EHDR)) {
		char vdso[64];
		snprintf(vdso, sizeof(vdso), "vdso%s.so", suffix);
		rc = write_one(dir, vdso, vdso_fn, c, NULL, err);
	}
	if (rc == 0)
		rc = write_one(dir, bin, capture_fn, c, NULL, err);
	if (rc < 0 && maps_text) {
		free(*maps_text);
		*maps_text = NULL;
	}
	return rc;
}

int tg_rundir_adopt(const char *dir, long pid, struct tg_error *err)
{
	static const char *const names[][2] = {{"maps-%ld", "maps"},
					       {"maps-%ld.buildid", "maps.buildid"},
					       {"capture-%ld.bin", "capture.bin"},
					       {"vdso-%ld.so", "vdso.so"}};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char from[1200], to[1200], leaf[64];
		snprintf(leaf, sizeof(leaf), names[i][0], pid);
		snprintf(from, sizeof(from), "%s/%s", dir, leaf);
		snprintf(to, sizeof(to), "%s/%s", dir, names[i][1]);
		const bool optional = strncmp(leaf, "vdso", 4) == 0; /* a process may have none */
		if (rename(from, to) != 0 && !(optional && errno == ENOENT))
			return TG_ERR(err, TG_E_IO,
				      "record: the program wrote no '%s' (%s): it did not exit normally "
				      "(killed, _exit, exec of a static binary) or the agent could not "
				      "load",
				      from, strerror(errno));
	}
	return 0;
}

/* The pid of a sink's temporary "<name>.tmp.<pid>", or 0. */
static long temp_pid(const char *name)
{
	const char *t = strstr(name, ".tmp.");
	if (!t || t == name)
		return 0;
	while (strstr(t + 1, ".tmp."))
		t = strstr(t + 1, ".tmp.");
	char *end;
	const long pid = strtol(t + 5, &end, 10);
	return *end == '\0' && pid > 0 ? pid : 0;
}

int tg_rundir_clean_temps(const char *dir, struct tg_error *err)
{
	DIR *d = opendir(dir);
	TG_FAIL_IF(!d, err, TG_E_IO, "run directory '%s': cannot read: %s", dir, strerror(errno));
	int removed = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		const long pid = temp_pid(e->d_name);
		if (pid == 0 || pid == (long)getpid() || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		char path[1200];
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (unlink(path) == 0)
			removed++;
	}
	closedir(d);
	return removed;
}

int tg_rundir_read_capture(const char *dir, struct tg_capture **out, char **maps_text,
			   struct tg_error *err)
{
	*out = NULL;
	*maps_text = NULL;
	char path[1200];
	snprintf(path, sizeof(path), "%s/capture.bin", dir);
	struct tg_capture *c = tg_capture_new();
	TG_FAIL_IF(!c, err, TG_E_NOMEM, "out of memory");
	int rc = tg_capture_load(c, path, err);
	size_t len = 0;
	if (rc == 0) {
		snprintf(path, sizeof(path), "%s/maps", dir);
		rc = tg_read_file(path, "maps", maps_text, &len, err);
	}
	if (rc < 0) {
		tg_capture_free(c);
		return rc;
	}
	*out = c;
	return 0;
}
