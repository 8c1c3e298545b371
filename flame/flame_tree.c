/* The merged-stack tree: interning, insertion, folded text in and out. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flame_internal.h"
#include "tg_mem.h"

static uint64_t hash_str(const char *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 0x100000001b3ull;
	return h;
}

static uint64_t hash_pair(uint32_t a, uint32_t b)
{
	uint64_t x = ((uint64_t)a << 32) | b;
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	return x ^ (x >> 33);
}

struct tg_flame *tg_flame_new(void)
{
	struct tg_flame *f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->cap_nodes = 1024;
	f->nodes = malloc(f->cap_nodes * sizeof(*f->nodes));
	f->name_mask = 1023;
	f->name_slots = calloc(f->name_mask + 1, sizeof(uint32_t));
	f->child_mask = 2047;
	f->child_slots = calloc(f->child_mask + 1, sizeof(uint32_t));
	if (!f->nodes || !f->name_slots || !f->child_slots) {
		tg_flame_free(f);
		return NULL;
	}
	f->nodes[0] = (struct flame_node){FLAME_NONE, FLAME_NONE, FLAME_NONE, FLAME_NONE, 0, 0};
	f->n_nodes = 1;
	return f;
}

void tg_flame_free(struct tg_flame *f)
{
	if (!f)
		return;
	for (uint32_t i = 0; i < f->n_names; i++)
		free(f->names[i]);
	free(f->names);
	free(f->name_slots);
	free(f->nodes);
	free(f->child_slots);
	free(f);
}

uint64_t tg_flame_total(const struct tg_flame *f)
{
	return f->nodes[0].total;
}

size_t tg_flame_nodes(const struct tg_flame *f)
{
	return f->n_nodes - 1;
}

const char *flame_name(const struct tg_flame *f, uint32_t node)
{
	uint32_t n = f->nodes[node].name;
	return n == FLAME_NONE ? "all" : f->names[n];
}

static int grow_names(struct tg_flame *f)
{
	uint32_t nmask = f->name_mask * 2 + 1;
	uint32_t *slots = calloc((size_t)nmask + 1, sizeof(uint32_t));
	if (!slots)
		return -1;
	for (uint32_t i = 0; i < f->n_names; i++) {
		uint64_t h = hash_str(f->names[i], strlen(f->names[i]));
		uint32_t k = (uint32_t)h & nmask;
		while (slots[k])
			k = (k + 1) & nmask;
		slots[k] = i + 1;
	}
	free(f->name_slots);
	f->name_slots = slots;
	f->name_mask = nmask;
	return 0;
}

uint32_t flame_intern(struct tg_flame *f, const char *s, size_t n)
{
	uint64_t h = hash_str(s, n);
	uint32_t k = (uint32_t)h & f->name_mask;
	while (f->name_slots[k]) {
		const char *cand = f->names[f->name_slots[k] - 1];
		if (strncmp(cand, s, n) == 0 && cand[n] == '\0')
			return f->name_slots[k] - 1;
		k = (k + 1) & f->name_mask;
	}
	if ((f->n_names + 1) * 2 > f->name_mask) {
		if (grow_names(f) < 0)
			return FLAME_NONE;
		return flame_intern(f, s, n);
	}
	char **nn = tg_grow_block(f->names, &f->cap_names, (size_t)f->n_names + 1, sizeof(*nn), 256);
	if (!nn)
		return FLAME_NONE;
	f->names = nn;
	char *copy = malloc(n + 1);
	if (!copy)
		return FLAME_NONE;
	memcpy(copy, s, n);
	copy[n] = '\0';
	f->names[f->n_names] = copy;
	f->name_slots[k] = ++f->n_names;
	return f->n_names - 1;
}

static int grow_children(struct tg_flame *f)
{
	uint32_t nmask = f->child_mask * 2 + 1;
	uint32_t *slots = calloc((size_t)nmask + 1, sizeof(uint32_t));
	if (!slots)
		return -1;
	for (uint32_t i = 1; i < f->n_nodes; i++) {
		uint32_t k = (uint32_t)hash_pair(f->nodes[i].parent, f->nodes[i].name) & nmask;
		while (slots[k])
			k = (k + 1) & nmask;
		slots[k] = i + 1;
	}
	free(f->child_slots);
	f->child_slots = slots;
	f->child_mask = nmask;
	return 0;
}

static uint32_t child(struct tg_flame *f, uint32_t parent, uint32_t name, int create)
{
	uint32_t k = (uint32_t)hash_pair(parent, name) & f->child_mask;
	while (f->child_slots[k]) {
		uint32_t c = f->child_slots[k] - 1;
		if (f->nodes[c].parent == parent && f->nodes[c].name == name)
			return c;
		k = (k + 1) & f->child_mask;
	}
	if (!create)
		return FLAME_NONE;
	if ((f->n_nodes + 1) * 2 > f->child_mask) {
		if (grow_children(f) < 0)
			return FLAME_NONE;
		return child(f, parent, name, create);
	}
	struct flame_node *nn =
		tg_grow_block(f->nodes, &f->cap_nodes, (size_t)f->n_nodes + 1, sizeof(*nn), 1024);
	if (!nn)
		return FLAME_NONE;
	f->nodes = nn;
	uint32_t id = f->n_nodes++;
	f->nodes[id] = (struct flame_node){name, parent, FLAME_NONE, f->nodes[parent].first_child, 0, 0};
	f->nodes[parent].first_child = id;
	f->child_slots[k] = id + 1;
	return id;
}

uint32_t flame_find_child(const struct tg_flame *f, uint32_t parent, const char *name)
{
	uint64_t h = hash_str(name, strlen(name));
	uint32_t k = (uint32_t)h & f->name_mask;
	uint32_t id = FLAME_NONE;
	while (f->name_slots[k]) {
		if (strcmp(f->names[f->name_slots[k] - 1], name) == 0) {
			id = f->name_slots[k] - 1;
			break;
		}
		k = (k + 1) & f->name_mask;
	}
	if (id == FLAME_NONE)
		return FLAME_NONE;
	return child((struct tg_flame *)f, parent, id, 0);
}

/* A frame name with the characters the folded format reserves replaced. */
static size_t sanitize(const char *in, char *out, size_t cap)
{
	size_t n = 0;
	for (; *in && n + 1 < cap; in++)
		out[n++] = *in == ';' ? ':' : (*in == '\n' || *in == '\r') ? ' ' : *in;
	out[n] = '\0';
	return n;
}

static int add_ids(struct tg_flame *f, const uint32_t *ids, size_t n, uint64_t count,
		   struct tg_error *err)
{
	/* every node's total is at most the root's */
	TG_FAIL_IF(f->nodes[0].total > UINT64_MAX - count, err, TG_E_RANGE,
		   "flame: the counts sum past 2^64 samples");
	uint32_t node = 0;
	f->nodes[0].total += count;
	for (size_t i = 0; i < n; i++) {
		node = child(f, node, ids[i], 1);
		TG_FAIL_IF(node == FLAME_NONE, err, TG_E_NOMEM, "flame: out of memory");
		f->nodes[node].total += count;
	}
	f->nodes[node].self += count;
	return 0;
}

int tg_flame_add(struct tg_flame *f, const char *const *frames, size_t n, uint64_t count,
		 struct tg_error *err)
{
	if (count == 0)
		return 0;
	uint32_t stack_ids[512];
	uint32_t *ids = n <= 512 ? stack_ids : malloc(n * sizeof(uint32_t));
	TG_FAIL_IF(!ids, err, TG_E_NOMEM, "flame: out of memory for a %zu-frame stack", n);
	int rc = 0;
	char buf[1024];
	for (size_t i = 0; i < n && rc == 0; i++) {
		size_t len = sanitize(frames[i], buf, sizeof(buf));
		ids[i] = flame_intern(f, buf, len);
		if (ids[i] == FLAME_NONE)
			rc = TG_ERR(err, TG_E_NOMEM, "flame: out of memory");
	}
	if (rc == 0)
		rc = add_ids(f, ids, n, count, err);
	if (ids != stack_ids)
		free(ids);
	return rc;
}

int tg_flame_parse_folded(struct tg_flame *f, const char *text, size_t len, const char *source,
			  struct tg_error *err)
{
	size_t cap = 512;
	uint32_t *ids = malloc(cap * sizeof(uint32_t));
	TG_FAIL_IF(!ids, err, TG_E_NOMEM, "flame: out of memory");
	const char *p = text, *end = text + len;
	int rc = 0;
	for (long line = 1; p < end && rc == 0; line++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		const char *ls = p;
		p = nl ? nl + 1 : end;
		while (le > ls && (le[-1] == '\r' || le[-1] == ' ' || le[-1] == '\t'))
			le--;
		if (le == ls)
			continue;
		/* the count is the last space-separated token */
		const char *sp = le;
		while (sp > ls && sp[-1] != ' ')
			sp--;
		if (sp == ls) {
			rc = TG_ERR(err, TG_E_PARSE,
				    "flame: %s:%ld: expected 'frame;frame;... count', found no count",
				    source, line);
			break;
		}
		if (memchr(ls, '\0', (size_t)(le - ls))) {
			rc = TG_ERR(err, TG_E_PARSE,
				    "flame: %s:%ld: a NUL byte; expected text ('frame;frame;... count')",
				    source, line);
			break;
		}
		uint64_t count = 0;
		for (const char *c = sp; c < le; c++) {
			const uint64_t digit = (uint64_t)(*c - '0');
			if (*c < '0' || *c > '9' || count > (UINT64_MAX - digit) / 10) {
				rc = TG_ERR(err, TG_E_PARSE,
					    "flame: %s:%ld: count '%.*s' is not an integer 0..2^64-1",
					    source, line, (int)(le - sp > 40 ? 40 : le - sp), sp);
				break;
			}
			count = count * 10 + digit;
		}
		if (rc)
			break;
		const char *stack_end = sp - 1;
		while (stack_end > ls && stack_end[-1] == ' ')
			stack_end--;
		if (stack_end == ls) {
			rc = TG_ERR(err, TG_E_PARSE, "flame: %s:%ld: empty stack before the count",
				    source, line);
			break;
		}
		size_t n = 0;
		const char *fs = ls;
		while (fs <= stack_end && rc == 0) {
			const char *semi = memchr(fs, ';', (size_t)(stack_end - fs));
			const char *fe = semi ? semi : stack_end;
			if (fe == fs) {
				rc = TG_ERR(err, TG_E_PARSE,
					    "flame: %s:%ld: an empty frame name (frame %zu); expected "
					    "names separated by single ';'",
					    source, line, n + 1);
				break;
			}
			uint32_t *ni = tg_grow_block(ids, &cap, n + 1, sizeof(*ni), 512);
			if (!ni) {
				rc = TG_ERR(err, TG_E_NOMEM, "flame: out of memory");
				break;
			}
			ids = ni;
			ids[n] = flame_intern(f, fs, (size_t)(fe - fs));
			if (ids[n++] == FLAME_NONE)
				rc = TG_ERR(err, TG_E_NOMEM, "flame: out of memory");
			fs = fe + 1;
		}
		if (rc == 0 && count > 0)
			rc = add_ids(f, ids, n, count, err);
	}
	free(ids);
	return rc;
}

int tg_flame_load_folded(struct tg_flame *f, const char *path, struct tg_error *err)
{
	char *buf = NULL;
	size_t len = 0;
	TG_TRY(tg_read_file(path, "flame", &buf, &len, err));
	int rc = tg_flame_parse_folded(f, buf, len, path, err);
	free(buf);
	return rc;
}

static int cmp_name(const void *a, const void *b, void *ctx)
{
	const struct tg_flame *f = ctx;
	return strcmp(flame_name(f, *(const uint32_t *)a), flame_name(f, *(const uint32_t *)b));
}

int flame_sorted_children(const struct tg_flame *f, uint32_t node, uint32_t **out)
{
	int n = 0;
	for (uint32_t c = f->nodes[node].first_child; c != FLAME_NONE; c = f->nodes[c].next_sibling)
		n++;
	*out = NULL;
	if (n == 0)
		return 0;
	uint32_t *v = malloc((size_t)n * sizeof(uint32_t));
	if (!v)
		return -1;
	int i = 0;
	for (uint32_t c = f->nodes[node].first_child; c != FLAME_NONE; c = f->nodes[c].next_sibling)
		v[i++] = c;
	qsort_r(v, (size_t)n, sizeof(uint32_t), cmp_name, (void *)f);
	*out = v;
	return n;
}

/* Folded lines in name order: a depth-first walk keeping the path. */
static int write_folded_node(const struct tg_flame *f, uint32_t node, char **path, size_t *plen,
			     size_t *pcap, struct tg_sink *s)
{
	size_t mark = *plen;
	if (node != 0) {
		const char *name = flame_name(f, node);
		size_t nl = strlen(name);
		char *np = tg_grow_block(*path, pcap, *plen + nl + 2, 1, 256);
		if (!np)
			return TG_E_NOMEM;
		*path = np;
		if (*plen)
			(*path)[(*plen)++] = ';';
		memcpy(*path + *plen, name, nl);
		*plen += nl;
		if (f->nodes[node].self) {
			tg_sink_write(s, *path, *plen);
			tg_sink_printf(s, " %llu\n", (unsigned long long)f->nodes[node].self);
		}
	}
	uint32_t *kids;
	int n = flame_sorted_children(f, node, &kids);
	if (n < 0)
		return TG_E_NOMEM;
	int rc = 0;
	for (int i = 0; i < n && rc == 0; i++)
		rc = write_folded_node(f, kids[i], path, plen, pcap, s);
	free(kids);
	*plen = mark;
	return rc;
}

int tg_flame_write_folded(const struct tg_flame *f, struct tg_sink *s, struct tg_error *err)
{
	size_t cap = 4096, len = 0;
	char *path = malloc(cap);
	TG_FAIL_IF(!path, err, TG_E_NOMEM, "flame: out of memory");
	int rc = write_folded_node(f, 0, &path, &len, &cap, s);
	free(path);
	if (rc < 0)
		return TG_ERR(err, rc, "flame: out of memory writing folded stacks");
	return 0;
}
