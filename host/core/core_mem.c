#include "tg_mem.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void *tg_grow_block(void *p, size_t *cap, size_t need, size_t elem, size_t first)
{
	if (need <= *cap && p)
		return p;
	size_t n = *cap ? *cap : (first ? first : 1);
	while (n < need) {
		if (n > SIZE_MAX / 2)
			return NULL;
		n *= 2;
	}
	if (elem && n > SIZE_MAX / elem)
		return NULL;
	void *np = realloc(p, n * elem);
	if (!np)
		return NULL;
	*cap = n;
	return np;
}

int tg_read_file(const char *path, const char *what, char **text, size_t *len,
		 struct tg_error *err)
{
	*text = NULL;
	*len = 0;
	FILE *f = fopen(path, "rb");
	TG_FAIL_IF(!f, err, TG_E_IO, "%s: '%s': cannot open: %s", what, path, strerror(errno));
	size_t cap = 0, n = 0;
	char *buf = NULL;
	for (;;) {
		char *nb = tg_grow_block(buf, &cap, n + 65536 + 1, 1, 65536 + 1);
		if (!nb) {
			free(buf);
			fclose(f);
			return TG_ERR(err, TG_E_NOMEM, "%s: '%s': out of memory after %zu bytes", what,
				      path, n);
		}
		buf = nb;
		size_t got = fread(buf + n, 1, cap - n - 1, f);
		n += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		int e = errno;
		free(buf);
		fclose(f);
		return TG_ERR_SUB(err, TG_E_IO, e, "%s: '%s': read error: %s", what, path,
				  strerror(e ? e : EIO));
	}
	fclose(f);
	buf[n] = '\0';
	*text = buf;
	*len = n;
	return 0;
}

int tg_make_dirs(const char *path)
{
	char buf[1024];
	const size_t n = strlen(path);
	if (n == 0 || n >= sizeof(buf)) {
		errno = n ? ENAMETOOLONG : ENOENT;
		return -1;
	}
	memcpy(buf, path, n + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0777) != 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return mkdir(buf, 0777) != 0 && errno != EEXIST ? -1 : 0;
}
