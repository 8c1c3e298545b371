/* tg_tracecheck [--folded FOLDED] TRACE.json: validates a trace.json
 * (tests/support/trace_check.c) and prints its counts. With --folded, also
 * checks that every sampled stack in the trace, nested as the catapult and
 * Perfetto importers nest it, is a stack (or the start of one) of FOLDED:
 * a flame graph the right way up. Exit 0 valid, 1 invalid, 2 unreadable. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tg_trace_check.h"

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		perror(path);
		return NULL;
	}
	size_t cap = 1 << 20, n = 0, got;
	char *buf = malloc(cap + 1);
	while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
		n += got;
		if (n == cap) {
			char *nb = realloc(buf, (cap *= 2) + 1);
			if (!nb)
				free(buf);
			buf = nb;
		}
	}
	fclose(f);
	if (buf)
		buf[n] = '\0';
	*len = n;
	return buf;
}

struct prefixes {
	char **v;
	size_t n, cap;
	size_t paths, wrong;
	char first_wrong[512];
};

static int push(struct prefixes *p, const char *s, size_t len)
{
	if (p->n == p->cap) {
		size_t nc = p->cap ? p->cap * 2 : 1024;
		char **nv = realloc(p->v, nc * sizeof(*nv));
		if (!nv)
			return -1;
		p->v = nv;
		p->cap = nc;
	}
	if (!(p->v[p->n] = strndup(s, len)))
		return -1;
	p->n++;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* every stack of the folded text and each of its starts ("a", "a;b", ...) */
static int load_prefixes(struct prefixes *p, char *text)
{
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		char *sp = strrchr(line, ' ');
		if (!sp)
			continue;
		size_t len = (size_t)(sp - line);
		for (size_t i = 0; i <= len; i++)
			if ((i == len || line[i] == ';') && push(p, line, i) < 0)
				return -1;
	}
	qsort(p->v, p->n, sizeof(*p->v), cmp_str);
	return 0;
}

static int on_path(void *ctx, const char *path, double dur_us)
{
	(void)dur_us;
	struct prefixes *p = ctx;
	p->paths++;
	if (!bsearch(&path, p->v, p->n, sizeof(*p->v), cmp_str)) {
		if (!p->wrong++)
			snprintf(p->first_wrong, sizeof(p->first_wrong), "%s", path);
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *folded = NULL;
	if (argc == 4 && strcmp(argv[1], "--folded") == 0) {
		folded = argv[2];
		argv += 2;
		argc -= 2;
	}
	if (argc != 2) {
		fprintf(stderr, "usage: tg_tracecheck [--folded FOLDED] TRACE.json\n");
		return 2;
	}
	size_t len = 0;
	char *buf = slurp(argv[1], &len);
	if (!buf)
		return 2;
	struct tg_trace_check_stats st;
	char why[512];
	int rc = tg_trace_check(buf, len, &st, why, sizeof(why));
	if (rc < 0) {
		fprintf(stderr, "%s: invalid trace: %s\n", argv[1], why);
		free(buf);
		return 1;
	}
	printf("events %zu slices %zu flows %zu counters %zu instants %zu tracks %zu max_depth %zu\n",
	       st.events, st.slices, st.flows, st.counters, st.instants, st.tracks, st.max_depth);
	int status = 0;
	if (folded) {
		size_t flen = 0;
		char *ftext = slurp(folded, &flen);
		struct prefixes p = {0};
		if (!ftext || load_prefixes(&p, ftext) < 0 ||
		    tg_trace_sample_paths(buf, len, on_path, &p, why, sizeof(why)) < 0) {
			fprintf(stderr, "%s: cannot compare with %s\n", argv[1], folded);
			status = 2;
		} else {
			printf("sample slices %zu, nested unlike any stack of %s: %zu\n", p.paths, folded,
			       p.wrong);
			if (p.wrong) {
				fprintf(stderr, "%s: %zu of %zu sample slices nest unlike %s, first: %s\n",
					argv[1], p.wrong, p.paths, folded, p.first_wrong);
				status = 1;
			}
		}
		for (size_t i = 0; i < p.n; i++)
			free(p.v[i]);
		free(p.v);
		free(ftext);
	}
	free(buf);
	return status;
}
