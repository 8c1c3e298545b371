/* Symbolization: libdwfl over a memory map (or dladdr without libdw),
 * libiberty demangling, a per-address cache. */
#include <dlfcn.h>
#include <elf.h>
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
#include <gelf.h>
#include <libiberty/demangle.h>
#endif

struct entry {
	uint64_t key; /* pc << 1 | is_return_address, +1 so 0 means empty */
	struct tg_symbol sym;
};

/* A mapping of the process: code outside every mapping is "[unknown]",
 * never the neighbouring library's. */
struct mapping {
	uint64_t lo, hi;
	bool vdso;
};

struct vdso_sym {
	uint64_t lo, hi; /* runtime addresses */
	const char *name;
};

struct tg_symbolizer {
#if TG_HAVE_LIBDW
	Dwfl *dwfl;
#endif
	struct mapping *maps;
	size_t n_maps;
	struct vdso_sym *vsyms;
	size_t n_vsyms, cap_vsyms;
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

/* A symbol's name without its version ("memcpy@@GLIBC_2.14" -> "memcpy").
 * Returns a copy. */
static char *unversioned(const char *name)
{
	const char *at = name[0] == '@' ? NULL : strchr(name, '@');
	return at ? strndup(name, (size_t)(at - name)) : strdup(name);
}

/* The mappings of maps text (this process's when NULL), in address order
 * as /proc lists them. */
static int load_mappings(struct tg_symbolizer *s, const char *maps)
{
	FILE *f = maps ? fmemopen((void *)maps, strlen(maps), "r") : fopen("/proc/self/maps", "r");
	if (!f)
		return -1;
	char line[4096];
	size_t cap = 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long lo, hi;
		int off = 0;
		if (sscanf(line, "%llx-%llx %*s %*s %*s %*s%n", &lo, &hi, &off) != 2 || hi <= lo)
			continue;
		struct mapping *nm = tg_grow_block(s->maps, &cap, s->n_maps + 1, sizeof(*nm), 64);
		if (!nm) {
			fclose(f);
			return -1;
		}
		s->maps = nm;
		s->maps[s->n_maps++] = (struct mapping){lo, hi, strstr(line + off, "[vdso]") != NULL};
	}
	fclose(f);
	return 0;
}

static const struct mapping *mapping_of(const struct tg_symbolizer *s, uint64_t addr)
{
	size_t lo = 0, hi = s->n_maps;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (addr < s->maps[mid].lo)
			hi = mid;
		else if (addr >= s->maps[mid].hi)
			lo = mid + 1;
		else
			return &s->maps[mid];
	}
	return NULL;
}

static int cmp_vsym(const void *a, const void *b)
{
	const struct vdso_sym *x = a, *y = b;
	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	/* of aliases, the __vdso_ name first (perf names them so) */
	return (strncmp(y->name, "__vdso_", 7) == 0) - (strncmp(x->name, "__vdso_", 7) == 0);
}

/* Reads a struct at off of an image of len bytes (any alignment); 0 when
 * it does not fit. */
static int read_at(const unsigned char *b, size_t len, uint64_t off, void *out, size_t size)
{
	if (off > len || size > len - off)
		return 0;
	memcpy(out, b + off, size);
	return 1;
}

int tg_symbolizer_load_vdso(struct tg_symbolizer *s, const void *image, size_t len,
			    struct tg_error *err)
{
	const struct mapping *m = NULL;
	for (size_t i = 0; i < s->n_maps && !m; i++)
		if (s->maps[i].vdso)
			m = &s->maps[i];
	TG_FAIL_IF(!m, err, TG_E_PARSE, "vdso: the memory map has no [vdso] line");
	const unsigned char *b = image;
	Elf64_Ehdr eh;
	TG_FAIL_IF(!read_at(b, len, 0, &eh, sizeof(eh)) || memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
			   eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_shentsize != sizeof(Elf64_Shdr) ||
			   eh.e_shnum > 1024,
		   err, TG_E_PARSE,
		   "vdso: not a 64-bit ELF image with section headers (%zu bytes); the vDSO is "
		   "left unnamed",
		   len);
	/* the image's link address of its first byte: the vDSO is mapped whole */
	uint64_t base = 0;
	for (int i = 0; i < eh.e_phnum && i < 64; i++) {
		Elf64_Phdr ph;
		if (!read_at(b, len, eh.e_phoff + (uint64_t)i * sizeof(ph), &ph, sizeof(ph)))
			break;
		if (ph.p_type == PT_LOAD) {
			base = ph.p_vaddr - ph.p_offset;
			break;
		}
	}
	for (int i = 0; i < eh.e_shnum; i++) {
		Elf64_Shdr sh, strs;
		if (!read_at(b, len, eh.e_shoff + (uint64_t)i * sizeof(sh), &sh, sizeof(sh)))
			break;
		if ((sh.sh_type != SHT_DYNSYM && sh.sh_type != SHT_SYMTAB) || sh.sh_link >= eh.e_shnum ||
		    !read_at(b, len, eh.e_shoff + (uint64_t)sh.sh_link * sizeof(strs), &strs,
			     sizeof(strs)) ||
		    strs.sh_offset > len || strs.sh_size > len - strs.sh_offset || !strs.sh_size ||
		    sh.sh_offset > len || sh.sh_size > len - sh.sh_offset)
			continue;
		const char *names = (const char *)b + strs.sh_offset;
		for (uint64_t k = 0; k < sh.sh_size / sizeof(Elf64_Sym) && k < 4096; k++) {
			Elf64_Sym sym;
			if (!read_at(b, len, sh.sh_offset + k * sizeof(sym), &sym, sizeof(sym)))
				break;
			if (ELF64_ST_TYPE(sym.st_info) != STT_FUNC || sym.st_value == 0 ||
			    sym.st_name >= strs.sh_size ||
			    memchr(names + sym.st_name, 0, strs.sh_size - sym.st_name) == NULL)
				continue;
			struct vdso_sym *nv =
				tg_grow_block(s->vsyms, &s->cap_vsyms, s->n_vsyms + 1, sizeof(*nv), 32);
			const char *name = nv ? keep(s, unversioned(names + sym.st_name)) : NULL;
			TG_FAIL_IF(!nv || !name, err, TG_E_NOMEM, "vdso: out of memory");
			s->vsyms = nv;
			const uint64_t lo = m->lo + (sym.st_value - base);
			s->vsyms[s->n_vsyms++] =
				(struct vdso_sym){lo, lo + (sym.st_size ? sym.st_size : 1), name};
		}
	}
	if (s->n_vsyms > 1)
		qsort(s->vsyms, s->n_vsyms, sizeof(*s->vsyms), cmp_vsym);
	return 0;
}

static const char *vdso_function(const struct tg_symbolizer *s, uint64_t addr)
{
	const char *best = NULL;
	for (size_t i = 0; i < s->n_vsyms; i++) {
		if (s->vsyms[i].lo > addr)
			break;
		if (addr < s->vsyms[i].hi && (!best || s->vsyms[i].lo > s->vsyms[i - 1].lo))
			best = s->vsyms[i].name;
	}
	return best;
}

int tg_symbolizer_new(const char *maps, struct tg_symbolizer **out, struct tg_error *err)
{
	*out = NULL;
	struct tg_symbolizer *s = calloc(1, sizeof(*s));
	TG_FAIL_IF(!s, err, TG_E_NOMEM, "symbolizer: out of memory");
	s->mask = 4095;
	s->slots = calloc(s->mask + 1, sizeof(struct entry));
	if (!s->slots || load_mappings(s, maps) < 0) {
		tg_symbolizer_free(s);
		return TG_ERR(err, TG_E_NOMEM, "symbolizer: cannot read the memory map");
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
	free(s->maps);
	free(s->vsyms);
	free(s);
}

const char *tg_symbolizer_method(const struct tg_symbolizer *s)
{
	(void)s;
	return TG_HAVE_LIBDW ? "libdw" : "dladdr";
}

#if TG_HAVE_LIBDW
/* The relocation that fills GOT slot `slot` (a file address), as the name
 * of the symbol it binds; NULL when none does. */
static const char *got_symbol(Elf *elf, uint64_t slot)
{
	Elf_Scn *scn = NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh) || (sh.sh_type != SHT_RELA && sh.sh_type != SHT_REL) ||
		    !sh.sh_entsize)
			continue;
		Elf_Data *d = elf_getdata(scn, NULL);
		Elf_Scn *symscn = elf_getscn(elf, sh.sh_link);
		GElf_Shdr symsh;
		if (!d || !symscn || !gelf_getshdr(symscn, &symsh))
			continue;
		Elf_Data *syms = elf_getdata(symscn, NULL);
		for (size_t i = 0; syms && i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Rela r;
			GElf_Rel rel;
			uint64_t off, info;
			if (sh.sh_type == SHT_RELA) {
				if (!gelf_getrela(d, (int)i, &r))
					break;
				off = r.r_offset;
				info = r.r_info;
			} else {
				if (!gelf_getrel(d, (int)i, &rel))
					break;
				off = rel.r_offset;
				info = rel.r_info;
			}
			if (off != slot || GELF_R_SYM(info) == 0)
				continue;
			GElf_Sym sym;
			if (!gelf_getsym(syms, (int)GELF_R_SYM(info), &sym))
				continue;
			return elf_strptr(elf, symsh.sh_link, sym.st_name);
		}
	}
	return NULL;
}

/* The GOT slot a PLT entry jumps through: x86-64 "jmp *disp32(%rip)"
 * (ff 25, after an endbr64 / bnd prefix in .plt.sec), aarch64
 * "adrp x16; ldr x17, [x16, #off]". 0 when the entry reads otherwise (the
 * lazy-binding header PLT0). */
static uint64_t plt_slot(Elf *elf, const GElf_Shdr *sh, Elf_Scn *scn, uint64_t a)
{
	Elf_Data *d = elf_getdata(scn, NULL);
	GElf_Ehdr eh;
	if (!d || !d->d_buf || !gelf_getehdr(elf, &eh))
		return 0;
	const uint64_t esz = sh->sh_entsize >= 8 && sh->sh_entsize <= 32 ? sh->sh_entsize : 16;
	const uint64_t entry = sh->sh_addr + (a - sh->sh_addr) / esz * esz;
	const uint64_t at = entry - sh->sh_addr;
	if (at + esz > d->d_size)
		return 0;
	const unsigned char *p = (const unsigned char *)d->d_buf + at;
	if (eh.e_machine == EM_X86_64) {
		for (uint64_t k = 0; k + 6 <= esz; k++)
			if (p[k] == 0xff && p[k + 1] == 0x25) {
				int32_t disp;
				memcpy(&disp, p + k + 2, 4);
				return entry + k + 6 + (uint64_t)(int64_t)disp;
			}
		return 0;
	}
	if (eh.e_machine == EM_AARCH64 && esz >= 8) {
		uint32_t adrp, ldr;
		memcpy(&adrp, p, 4);
		memcpy(&ldr, p + 4, 4);
		if ((adrp & 0x9f000000u) != 0x90000000u || (ldr & 0xffc00000u) != 0xf9400000u)
			return 0;
		int64_t imm = (int64_t)((((adrp >> 5) & 0x7ffff) << 2) | ((adrp >> 29) & 3));
		if (imm & (1 << 20))
			imm -= 1 << 21;
		const uint64_t page = (entry & ~0xfffull) + (uint64_t)(imm * 4096);
		return page + ((ldr >> 10) & 0xfff) * 8;
	}
	return 0;
}

/* "name@plt" for an address in a PLT section of m, "[module]@plt" when its
 * target is not known; NULL outside the PLT. */
static const char *plt_name(struct tg_symbolizer *s, Dwfl_Module *m, uint64_t addr,
			    const char *module)
{
	GElf_Addr bias = 0;
	Elf *elf = dwfl_module_getelf(m, &bias);
	size_t shstrndx;
	if (!elf || elf_getshdrstrndx(elf, &shstrndx) != 0)
		return NULL;
	const uint64_t a = addr - bias;
	Elf_Scn *scn = NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh) || a < sh.sh_addr || a >= sh.sh_addr + sh.sh_size)
			continue;
		const char *sec = elf_strptr(elf, shstrndx, sh.sh_name);
		if (!sec || strncmp(sec, ".plt", 4) != 0 || (sec[4] && sec[4] != '.'))
			return NULL;
		const uint64_t slot = plt_slot(elf, &sh, scn, a);
		const char *target = slot ? got_symbol(elf, slot) : NULL;
		char buf[512];
		if (target) {
			char *plain = unversioned(target);
			snprintf(buf, sizeof(buf), "%s@plt", plain ? plain : target);
			free(plain);
		} else {
			snprintf(buf, sizeof(buf), "[%s]@plt", module ? module : "?");
		}
		return keep(s, strdup(buf));
	}
	return NULL;
}
#endif

/* A function name from the symbol table: versions dropped, demangled. */
static const char *function_name(struct tg_symbolizer *s, const char *raw)
{
	char *plain = unversioned(raw);
	if (!plain)
		return NULL;
	char *dem = tg_demangle(plain);
	if (dem) {
		free(plain);
		return keep(s, dem);
	}
	return keep(s, plain);
}

/* Code without a symbol: one frame per object, as perf names it. */
static const char *module_frame(struct tg_symbolizer *s, const char *module)
{
	char buf[512];
	snprintf(buf, sizeof(buf), "[%s]", module ? module : "unknown");
	return keep(s, strdup(buf));
}

static void resolve(struct tg_symbolizer *s, uint64_t addr, struct tg_symbol *out)
{
	memset(out, 0, sizeof(*out));
	const struct mapping *map = mapping_of(s, addr);
	if (!map) {
		out->function = "[unknown]";
		return;
	}
	if (map->vdso) {
		out->module = "[vdso]";
		const char *fn = vdso_function(s, addr);
		out->function = fn ? fn : "[vdso]";
		return;
	}
#if TG_HAVE_LIBDW
	Dwfl_Module *m = dwfl_addrmodule(s->dwfl, addr);
	if (!m) {
		out->function = "[unknown]";
		return;
	}
	const char *modname = dwfl_module_info(m, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
	out->module = keep(s, modname ? strdup(base_name(modname)) : NULL);
	GElf_Off off = 0;
	GElf_Sym sym;
	out->function = plt_name(s, m, addr, out->module);
	if (!out->function) {
		const char *name = dwfl_module_addrinfo(m, addr, &off, &sym, NULL, NULL, NULL);
		out->function = name ? function_name(s, name) : module_frame(s, out->module);
		out->start = name ? addr - off : 0;
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
		out->function = info.dli_sname ? function_name(s, info.dli_sname)
					       : module_frame(s, out->module);
		out->start = info.dli_sname ? (uint64_t)(uintptr_t)info.dli_saddr : 0;
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
