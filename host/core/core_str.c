#include "tg_str.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <string.h>

size_t tg_strlcpy(char *dst, const char *src, size_t cap)
{
	size_t n = strlen(src);
	if (cap > 0) {
		size_t k = n < cap - 1 ? n : cap - 1;
		memcpy(dst, src, k);
		dst[k] = '\0';
	}
	return n;
}

void tg_format_duration(double ns, char *buf, size_t cap)
{
	if (!(ns == ns)) {
		snprintf(buf, cap, "-");
		return;
	}
	double a = fabs(ns);
	if (a >= 1e9)
		snprintf(buf, cap, "%.3g s", ns / 1e9);
	else if (a >= 1e6)
		snprintf(buf, cap, "%.3g ms", ns / 1e6);
	else if (a >= 1e3)
		snprintf(buf, cap, "%.3g us", ns / 1e3);
	else
		snprintf(buf, cap, "%.3g ns", ns);
}


int tg_name_index(const char *const *names, const char *name)
{
	for (int i = 0; name && names[i]; i++)
		if (strcmp(names[i], name) == 0)
			return i;
	return -1;
}

int tg_utf8_len(const unsigned char *s, size_t avail)
{
	if (avail == 0)
		return 0;
	const unsigned char c = s[0];
	const int n = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3
		    : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
	if ((size_t)n > avail)
		return 0;
	for (int i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

bool tg_parse_int(const char *s, long lo, long hi, long *out)
{
	if (!s || !*s)
		return false;
	char *end = NULL;
	errno = 0;
	const long x = strtol(s, &end, 10);
	if (errno || end == s || *end != '\0' || x < lo || x > hi)
		return false;
	*out = x;
	return true;
}
