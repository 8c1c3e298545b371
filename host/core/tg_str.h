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

/* "12.3 ms", "845 us", "2.41 s"; NaN -> "-" */
void tg_format_duration(double ns, char *buf, size_t cap);

#ifdef __cplusplus
}
#endif

#endif
