/* Small string helpers. */
#ifndef TG_STR_H
#define TG_STR_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Copies src into dst (cap bytes, always NUL-terminated, truncating);
 * returns strlen(src). */
size_t tg_strlcpy(char *dst, const char *src, size_t cap);

#ifdef __cplusplus
}
#endif

#endif
