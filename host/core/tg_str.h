/* Small string helpers. */
#ifndef TG_STR_H
#define TG_STR_H

#include <stdbool.h>
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

/* The length of the valid UTF-8 sequence at s, of at most avail bytes: 1
 * for ASCII, 2 to 4, or 0 where the bytes are not UTF-8 (a stray
 * continuation byte, an overlong or out-of-range lead, a cut sequence). */
int tg_utf8_len(const unsigned char *s, size_t avail);

/* The index of name in a NULL-terminated table of names, or -1. */
int tg_name_index(const char *const *names, const char *name);

/* s, all of it, a decimal integer in [lo, hi] (leading blanks and a sign
 * as strtol takes them): true and *out set; false, *out untouched, for
 * anything else (NULL, empty, trailing text, out of range). */
bool tg_parse_int(const char *s, long lo, long hi, long *out);

/* "12.3 ms", "845 us", "2.41 s"; NaN -> "-" */
void tg_format_duration(double ns, char *buf, size_t cap);

#ifdef __cplusplus
}
#endif

#endif
