/* Program counters to function names and source lines, after the run.
 *
 * Reads a memory map in /proc/<pid>/maps format (the run's snapshot, or
 * this process's), resolves with elfutils libdwfl (every symbol of every
 * mapped ELF file, and file:line from DWARF) and demangles C++ and both Rust
 * manglings with libiberty. Built without libdw it falls back to dladdr()
 * (exported symbols only). Lookups are cached per address.
 */
#ifndef TG_SYMBOLIZE_H
#define TG_SYMBOLIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tg_error.h"

#ifdef __cplusplus
extern "C" {
#endif

struct tg_symbolizer;

struct tg_symbol {
	const char *function; /* demangled, without a symbol version; "name@plt" in a PLT;
				 "[module]" for code of a module without a symbol there (perf's
				 rule), "[unknown]" outside every mapping */
	const char *file;     /* source file or NULL */
	int line;             /* 0 when unknown */
	const char *module;   /* file name of the mapped object or NULL */
	uint64_t start;       /* the function's first address; 0 when not known */
};

/* maps: text in /proc/<pid>/maps format, or NULL for /proc/self/maps now. */
int tg_symbolizer_new(const char *maps, struct tg_symbolizer **out, struct tg_error *err);
void tg_symbolizer_free(struct tg_symbolizer *s);
/* is_return_address: pc is a return address (every frame but the leaf), so
 * the call instruction is looked up instead of what follows it. The result
 * stays valid until the symbolizer is freed. */
void tg_symbolize(struct tg_symbolizer *s, uint64_t pc, bool is_return_address,
		  struct tg_symbol *out);
/* Symbols of the process's vDSO from its image (saved at capture time:
 * the kernel's vDSO differs between machines and the process is gone).
 * The [vdso] line of the memory map gives its address. */
int tg_symbolizer_load_vdso(struct tg_symbolizer *s, const void *image, size_t len,
			    struct tg_error *err);
/* "libdw" or "dladdr" */
const char *tg_symbolizer_method(const struct tg_symbolizer *s);

/* Demangled copy of a C++ or Rust symbol (caller frees), or NULL when it is
 * not mangled. */
char *tg_demangle(const char *name);
/* The fallback without libiberty: the qualified function name of an
 * Itanium-mangled symbol (no parameters or template arguments; a Rust
 * hash segment dropped), or NULL. */
char *tg_demangle_basic(const char *name);

#ifdef __cplusplus
}
#endif

#endif
