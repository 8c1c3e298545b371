/* flame/flame_symbolize.c: code without symbols folds into one "[module]"
 * frame (perf's rule), symbol versions are dropped, PLT stubs read
 * "name@plt", the vDSO is named from its saved image, and an address
 * outside every mapping is "[unknown]" (not the neighbouring library). */
#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>

#include "tg_config.h"
#include "tg_mem.h"
#include "tg_symbolize.h"
#include "tg_test.h"

static struct tg_symbolizer *symbolizer(void)
{
	struct tg_symbolizer *s;
	struct tg_error err;
	if (tg_symbolizer_new(NULL, &s, &err) < 0)
		fail_msg("%s", err.msg);
	return s;
}

static void test_stripped_library(void **state)
{
	(void)state;
#ifndef TG_STRIPPED_LIB
	skip();
#else
	void *h = dlopen(TG_STRIPPED_LIB, RTLD_NOW);
	if (!h)
		fail_msg("dlopen %s: %s", TG_STRIPPED_LIB, dlerror());
	void *(*get)(void) = (void *(*)(void))(uintptr_t)dlsym(h, "tg_stripped_hidden");
	assert_non_null(get);
	const uintptr_t hidden = (uintptr_t)get();
	struct tg_symbolizer *s = symbolizer();
	struct tg_symbol a, b;
	tg_symbolize(s, hidden + 1, false, &a);
	tg_symbolize(s, hidden + 5, false, &b);
	/* two addresses of one unnamed function, one frame: the module */
	assert_string_equal(a.function, "[libtgstripped.so]");
	assert_string_equal(b.function, "[libtgstripped.so]");
	/* the exported function keeps its name */
	tg_symbolize(s, (uintptr_t)get + 1, false, &a);
	assert_string_equal(a.function, "tg_stripped_hidden");
	tg_symbolizer_free(s);
	dlclose(h);
#endif
}

static void test_unknown_outside_mappings(void **state)
{
	(void)state;
	/* a map of one library: an address past its end is nobody's */
	char maps[512];
	Dl_info info;
	assert_true(dladdr((void *)(uintptr_t)strlen, &info) != 0);
	char *path = realpath(info.dli_fname, NULL);
	assert_non_null(path);
	const uintptr_t base = (uintptr_t)info.dli_fbase;
	snprintf(maps, sizeof(maps), "%lx-%lx r-xp 00000000 08:01 1 %s\n", (unsigned long)base,
		 (unsigned long)base + 0x1000, path);
	struct tg_symbolizer *s;
	struct tg_error err;
	if (tg_symbolizer_new(maps, &s, &err) < 0)
		fail_msg("%s", err.msg);
	struct tg_symbol sym;
	tg_symbolize(s, base + 0x200000, false, &sym);
	assert_string_equal(sym.function, "[unknown]");
	tg_symbolizer_free(s);
	free(path);
}

/* The first PLT entry of this program and the symbol its relocation
 * names, read from the ELF file by entry index (the symbolizer decodes the
 * jump instead). */
static int first_plt_entry(uintptr_t *addr, char *name, size_t cap)
{
	char *img = NULL;
	size_t len = 0;
	struct tg_error err;
	if (tg_read_file("/proc/self/exe", "exe", &img, &len, &err) < 0)
		return -1;
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)img;
	const Elf64_Shdr *sh = (const Elf64_Shdr *)(img + eh->e_shoff);
	const char *shstr = img + sh[eh->e_shstrndx].sh_offset;
	const Elf64_Shdr *plt = NULL, *plt_sec = NULL, *rela = NULL;
	for (int i = 0; i < eh->e_shnum; i++) {
		const char *n = shstr + sh[i].sh_name;
		if (strcmp(n, ".plt") == 0)
			plt = &sh[i];
		else if (strcmp(n, ".plt.sec") == 0)
			plt_sec = &sh[i];
		else if (strcmp(n, ".rela.plt") == 0)
			rela = &sh[i];
	}
	int rc = -1;
	if ((plt || plt_sec) && rela && rela->sh_size) {
		const Elf64_Rela *r = (const Elf64_Rela *)(img + rela->sh_offset);
		const Elf64_Shdr *dynsym = &sh[rela->sh_link];
		const Elf64_Sym *sym = (const Elf64_Sym *)(img + dynsym->sh_offset) + ELF64_R_SYM(r[0].r_info);
		const char *str = img + sh[dynsym->sh_link].sh_offset;
		snprintf(name, cap, "%s", str + sym->st_name);
		/* with .plt.sec (IBT) the entries sit there; otherwise after PLT0
		 * (16 bytes on x86-64, 32 on aarch64) */
		const uint64_t plt0 = eh->e_machine == EM_AARCH64 ? 32 : 16;
		const uint64_t vaddr = plt_sec ? plt_sec->sh_addr : plt->sh_addr + plt0;
		struct link_map *lm = NULL;
		void *self = dlopen(NULL, RTLD_NOW);
		if (self && dlinfo(self, RTLD_DI_LINKMAP, &lm) == 0 && lm) {
			*addr = (uintptr_t)(lm->l_addr + vaddr);
			rc = 0;
		}
		if (self)
			dlclose(self);
	}
	free(img);
	return rc;
}

static void test_plt_stub(void **state)
{
	(void)state;
	if (!TG_HAVE_LIBDW)
		skip(); /* dladdr knows no sections */
	uintptr_t addr = 0;
	char name[256], want[300];
	if (first_plt_entry(&addr, name, sizeof(name)) < 0)
		skip(); /* linked without a lazy PLT */
	snprintf(want, sizeof(want), "%s@plt", name);
	struct tg_symbolizer *s = symbolizer();
	struct tg_symbol sym;
	tg_symbolize(s, addr + 2, false, &sym);
	assert_string_equal(sym.function, want);
	tg_symbolizer_free(s);
}

static void test_versions_dropped(void **state)
{
	(void)state;
	struct tg_symbolizer *s = symbolizer();
	const void *fns[] = {(const void *)(uintptr_t)memcpy, (const void *)(uintptr_t)fopen,
			     (const void *)(uintptr_t)dlopen, (const void *)(uintptr_t)qsort};
	for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++) {
		struct tg_symbol sym;
		tg_symbolize(s, (uintptr_t)fns[i] + 1, false, &sym);
		if (strchr(sym.function, '@'))
			fail_msg("a symbol version is left in '%s'", sym.function);
	}
	tg_symbolizer_free(s);
}

static void test_vdso(void **state)
{
	(void)state;
	const uintptr_t base = getauxval(AT_SYSINFO_EHDR);
	if (!base)
		skip(); /* no vDSO here (some emulators) */
	char *maps = NULL;
	size_t len = 0;
	struct tg_error err;
	assert_int_equal(tg_read_file("/proc/self/maps", "maps", &maps, &len, &err), 0);
	char *line = strstr(maps, "[vdso]");
	assert_non_null(line);
	while (line > maps && line[-1] != '\n')
		line--;
	unsigned long lo, hi;
	assert_int_equal(sscanf(line, "%lx-%lx", &lo, &hi), 2);
	assert_int_equal(lo, base);
	/* the image as the run directory keeps it, then symbols by address */
	void *img = malloc(hi - lo);
	memcpy(img, (const void *)base, hi - lo);
	void *fn = NULL;
	void *h = dlopen("linux-vdso.so.1", RTLD_NOW | RTLD_NOLOAD);
	if (h)
		fn = dlsym(h, "__vdso_clock_gettime");
	if (!fn)
		skip();
	struct tg_symbolizer *s;
	assert_int_equal(tg_symbolizer_new(maps, &s, &err), 0);
	struct tg_symbol sym;
	tg_symbolize(s, (uintptr_t)fn + 4, false, &sym);
	assert_string_equal(sym.function, "[vdso]"); /* no image yet: the mapping's name */
	tg_symbolizer_free(s);
	assert_int_equal(tg_symbolizer_new(maps, &s, &err), 0);
	if (tg_symbolizer_load_vdso(s, img, hi - lo, &err) < 0)
		fail_msg("%s", err.msg);
	tg_symbolize(s, (uintptr_t)fn + 4, false, &sym);
	assert_string_equal(sym.function, "__vdso_clock_gettime");
	assert_string_equal(sym.module, "[vdso]");
	/* a damaged image is refused with a reason */
	memset(img, 0, 64);
	assert_int_equal(tg_symbolizer_load_vdso(s, img, hi - lo, &err), TG_E_PARSE);
	assert_non_null(strstr(err.msg, "vdso"));
	tg_symbolizer_free(s);
	free(img);
	free(maps);
	dlclose(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stripped_library),
		cmocka_unit_test(test_unknown_outside_mappings),
		cmocka_unit_test(test_plt_stub),
		cmocka_unit_test(test_versions_dropped),
		cmocka_unit_test(test_vdso),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
