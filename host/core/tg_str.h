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

/* A macro's value as a string literal: TG_STRINGIFY(TG_X) -> "997". */
#define TG_STRINGIFY_(x) #x
#define TG_STRINGIFY(x) TG_STRINGIFY_(x)

/* The index of name in a NULL-terminated table of names, or -1. */
int tg_name_index(const char *const *names, const char *name);

/* "12.3 ms", "845 us", "2.41 s"; NaN -> "-" */
void tg_format_duration(double ns, char *buf, size_t cap);

#ifdef __cplusplus
}
#endif

#endif
