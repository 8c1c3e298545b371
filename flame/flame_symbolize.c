/* Symbolization: libdwfl over a memory map (or dladdr without libdw),
 * libiberty demangling, a per-address cache. */
#include <dlfcn.h>
#include <stdbool.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tg_config.h"
#include "tg_symbolize.h"
#include "tg_mem.h"

#if TG_HAVE_LIBDW
#include <elfutils/libdwfl.h>
#include <libiberty/demangle.h>
#endif

struct entry {
	uint64_t key; /* pc << 1 | is_return_address, +1 so 0 means empty */
	struct tg_symbol sym;
};

struct tg_symbolizer {
#if TG_HAVE_LIBDW
	Dwfl *dwfl;
#endif
	struct entry *slots;
	size_t mask, used;
	char **strings; /* owned names, freed at the end */
	size_t n_strings, cap_strings;
};

/* Without libiberty: the qualified name of an Itanium-mangled function
 * (_Z<len><id>..., _ZN[K]<len><id>...E...), parameters and template
 * arguments left out, a Rust hash segment (17h<16 hex>) dropped. Enough
 * for kernel and function names; NULL for anything else. */
char *tg_demangle_basic(const char *m)
{
	if (!m)
		return NULL;
	if (strncmp(m, "_Z", 2) != 0)
		return NULL;
	const char *p = m + 2;
	bool nested = *p == 'N';
	if (nested) {
		p++;
		while (*p == 'K' || *p == 'V' || *p == 'r')
			p++;
	}
	char out[512];
	size_t n = 0;
	do {
		if (nested && strncmp(p, "St", 2) == 0) { /* std:: */
			memcpy(out + n, "std", 3);
			n += 3;
			p += 2;
			out[n++] = ':';
			out[n++] = ':';
		}
		if (*p < '0' || *p > '9')
			break;
		unsigned long len = strtoul(p, (char **)&p, 10);
		if (len == 0 || strnlen(p, len) < len || n + len + 3 > sizeof(out))
			return NULL;
		bool hash = len == 17 && p[0] == 'h' && strspn(p + 1, "0123456789abcdef") >= 16;
		if (!hash) {
			if (n && out[n - 1] != ':') {
				out[n++] = ':';
				out[n++] = ':';
			}
			memcpy(out + n, p, len);
			n += len;
		}
		p += len;
		if (*p == 'I') /* template arguments: not shown */
			break;
	} while (nested && *p && *p != 'E');
	if (n == 0)
		return NULL;
	out[n] = '\0';
	return strdup(out);
}

char *tg_demangle(const char *name)
{
	if (!name || (strncmp(name, "_Z", 2) != 0 && strncmp(name, "_R", 2) != 0))
		return NULL;
#if TG_HAVE_LIBDW
	return cplus_demangle(name, DMGL_AUTO);
#else
	return tg_demangle_basic(name);
#endif
}

static const char *keep(struct tg_symbolizer *s, char *owned)
{
	if (!owned)
		return NULL;
	char **ns = tg_grow_block(s->strings, &s->cap_strings, s->n_strings + 1, sizeof(*ns), 256);
	if (!ns) {
		free(owned);
		return NULL;
	}
	s->strings = ns;
	s->strings[s->n_strings++] = owned;
	return owned;
}

static const char *base_name(const char *path)
{
	const char *b = path ? strrchr(path, '/') : NULL;
	return b ? b + 1 : path;
}

int tg_symbolizer_new(const char *maps, struct tg_symbolizer **out, struct tg_error *err)
{
	*out = NULL;
	struct tg_symbolizer *s = calloc(1, sizeof(*s));
	TG_FAIL_IF(!s, err, TG_E_NOMEM, "symbolizer: out of memory");
	s->mask = 4095;
	s->slots = calloc(s->mask + 1, sizeof(struct entry));
	if (!s->slots) {
		free(s);
		return TG_ERR(err, TG_E_NOMEM, "symbolizer: out of memory");
	}
#if TG_HAVE_LIBDW
	static char *debuginfo_path = NULL;
	static const Dwfl_Callbacks callbacks = {
		.find_elf = dwfl_linux_proc_find_elf,
		.find_debuginfo = dwfl_standard_find_debuginfo,
		.debuginfo_path = &debuginfo_path,
	};
	s->dwfl = dwfl_begin(&callbacks);
	FILE *f = maps ? fmemopen((void *)maps, strlen(maps), "r") : fopen("/proc/self/maps", "r");
	int rc = -1;
	if (s->dwfl && f) {
		dwfl_report_begin(s->dwfl);
		rc = dwfl_linux_proc_maps_report(s->dwfl, f);
		dwfl_report_end(s->dwfl, NULL, NULL);
	}
	if (f)
		fclose(f);
	if (rc != 0) {
		tg_symbolizer_free(s);
		return TG_ERR(err, TG_E_IO, "symbolizer: cannot load the memory map: %s",
			      rc > 0 ? strerror(rc) : dwfl_errmsg(-1));
	}
#else
	(void)maps;
#endif
	*out = s;
	return 0;
}

void tg_symbolizer_free(struct tg_symbolizer *s)
{
	if (!s)
		return;
#if TG_HAVE_LIBDW
	if (s->dwfl)
		dwfl_end(s->dwfl);
#endif
	for (size_t i = 0; i < s->n_strings; i++)
		free(s->strings[i]);
	free(s->strings);
	free(s->slots);
	free(s);
}

const char *tg_symbolizer_method(const struct tg_symbolizer *s)
{
	(void)s;
	return TG_HAVE_LIBDW ? "libdw" : "dladdr";
}

static void resolve(struct tg_symbolizer *s, uint64_t addr, struct tg_symbol *out)
{
	char buf[512];
	memset(out, 0, sizeof(*out));
#if TG_HAVE_LIBDW
	Dwfl_Module *m = dwfl_addrmodule(s->dwfl, addr);
	if (!m) {
		out->function = "[unknown]";
		return;
	}
	Dwarf_Addr start = 0;
	const char *modname = dwfl_module_info(m, NULL, &start, NULL, NULL, NULL, NULL, NULL);
	out->module = keep(s, modname ? strdup(base_name(modname)) : NULL);
	GElf_Off off = 0;
	GElf_Sym sym;
	const char *name = dwfl_module_addrinfo(m, addr, &off, &sym, NULL, NULL, NULL);
	if (name) {
		char *dem = tg_demangle(name);
		out->function = keep(s, dem ? dem : strdup(name));
	} else {
		snprintf(buf, sizeof(buf), "[%s+0x%llx]", out->module ? out->module : "?",
			 (unsigned long long)(addr - start));
		out->function = keep(s, strdup(buf));
	}
	Dwfl_Line *line = dwfl_module_getsrc(m, addr);
	if (line) {
		int lineno = 0;
		const char *src = dwfl_lineinfo(line, NULL, &lineno, NULL, NULL, NULL);
		if (src) {
			out->file = keep(s, strdup(src));
			out->line = lineno;
		}
	}
#else
	Dl_info info;
	if (dladdr((void *)(uintptr_t)addr, &info) && info.dli_fname) {
		out->module = keep(s, strdup(base_name(info.dli_fname)));
		if (info.dli_sname) {
			out->function = keep(s, strdup(info.dli_sname));
		} else {
			snprintf(buf, sizeof(buf), "[%s+0x%llx]", out->module,
				 (unsigned long long)(addr - (uintptr_t)info.dli_fbase));
			out->function = keep(s, strdup(buf));
		}
	}
#endif
	if (!out->function)
		out->function = "[unknown]";
}

static int grow(struct tg_symbolizer *s)
{
	size_t nmask = s->mask * 2 + 1;
	struct entry *ns = calloc(nmask + 1, sizeof(struct entry));
	if (!ns)
		return -1;
	for (size_t i = 0; i <= s->mask; i++) {
		if (!s->slots[i].key)
			continue;
		size_t k = (size_t)(s->slots[i].key * 0x9e3779b97f4a7c15ull) & nmask;
		while (ns[k].key)
			k = (k + 1) & nmask;
		ns[k] = s->slots[i];
	}
	free(s->slots);
	s->slots = ns;
	s->mask = nmask;
	return 0;
}

void tg_symbolize(struct tg_symbolizer *s, uint64_t pc, bool is_return_address,
		  struct tg_symbol *out)
{
	const uint64_t key = ((pc << 1) | (is_return_address ? 1 : 0)) + 1;
	size_t k = (size_t)(key * 0x9e3779b97f4a7c15ull) & s->mask;
	while (s->slots[k].key) {
		if (s->slots[k].key == key) {
			*out = s->slots[k].sym;
			return;
		}
		k = (k + 1) & s->mask;
	}
	/* a return address points after the call: look the call itself up */
	resolve(s, is_return_address && pc > 0 ? pc - 1 : pc, out);
	if ((s->used + 1) * 2 > s->mask) {
		if (grow(s) < 0)
			return; /* uncached, still answered */
		k = (size_t)(key * 0x9e3779b97f4a7c15ull) & s->mask;
		while (s->slots[k].key)
			k = (k + 1) & s->mask;
	}
	s->slots[k].key = key;
	s->slots[k].sym = *out;
	s->used++;
}
