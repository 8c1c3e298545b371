/* Memory and file helpers every module needs: an array grown by doubling,
 * a whole file read into memory, mkdir -p.
 */
#ifndef TG_MEM_H
#define TG_MEM_H

#include <stddef.h>

#include "tg_error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The block p (may be NULL) of *cap elements of elem bytes, grown to hold
 * at least need: the capacity doubles from `first` (at least 1). Returns the
 * block, moved or not, with *cap updated; NULL when out of memory or when
 * the size overflows, with p still valid and *cap unchanged. Never shrinks. */
void *tg_grow_block(void *p, size_t *cap, size_t need, size_t elem, size_t first);

/* The whole file at path, NUL-terminated (the NUL is not counted in *len);
 * the caller frees *text. Errors name `what` ("data", "capture") and the
 * path: cannot open, read error, out of memory. */
int tg_read_file(const char *path, const char *what, char **text, size_t *len,
		 struct tg_error *err);

/* mkdir -p: path and every missing directory above it (mode 0777 less the
 * umask). Returns 0, or -1 with errno set (ENAMETOOLONG past 1023 bytes). */
int tg_make_dirs(const char *path);

#ifdef __cplusplus
}
#endif

#endif
