/* Runs fuzz inputs through a fuzz target without libFuzzer: every file
 * named, or every file of a directory named, in name order. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"
#include "tg_mem.h"

static int run_file(const char *path)
{
	char *text = NULL;
	size_t len = 0;
	struct tg_error err;
	if (tg_read_file(path, "replay", &text, &len, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		return 1;
	}
	LLVMFuzzerTestOneInput((const uint8_t *)text, len);
	free(text);
	return 0;
}

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int run_dir(const char *dir, int *n)
{
	DIR *d = opendir(dir);
	if (!d) {
		perror(dir);
		return 1;
	}
	char **names = NULL;
	size_t count = 0, cap = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char **nv = tg_grow_block(names, &cap, count + 1, sizeof(*names), 64);
		if (!nv)
			break;
		names = nv;
		names[count++] = strdup(e->d_name);
	}
	closedir(d);
	if (count == 0) {
		fprintf(stderr, "%s: no inputs\n", dir);
		free(names);
		return 1;
	}
	qsort(names, count, sizeof(*names), cmp);
	int rc = 0;
	for (size_t i = 0; i < count; i++) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		rc |= run_file(path);
		(*n)++;
		free(names[i]);
	}
	free(names);
	return rc;
}

int main(int argc, char **argv)
{
	int rc = 0, n = 0;
	for (int i = 1; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
			rc |= run_dir(argv[i], &n);
		} else {
			rc |= run_file(argv[i]);
			n++;
		}
	}
	printf("replayed %d input%s\n", n, n == 1 ? "" : "s");
	return rc;
}
