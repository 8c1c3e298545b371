/* Private to flame/: the prefix tree behind struct tg_flame. */
#ifndef TG_FLAME_INTERNAL_H
#define TG_FLAME_INTERNAL_H

#include <stdint.h>

#include "tg_flame.h"

#define FLAME_NONE UINT32_MAX

/* qsort's comparison of uint64_t values, ascending. */
static inline int flame_cmp_u64(const void *a, const void *b)
{
	const uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

struct flame_node {
	uint32_t name;         /* index into names; FLAME_NONE for the root */
	uint32_t parent;
	uint32_t first_child;
	uint32_t next_sibling;
	uint64_t total;        /* samples in this subtree */
	uint64_t self;         /* samples ending here */
};

struct tg_flame {
	char **names;
	uint32_t n_names;
	size_t cap_names;
	uint32_t *name_slots; /* open addressing: name id + 1, 0 = empty */
	uint32_t name_mask;
	struct flame_node *nodes; /* nodes[0] is the root */
	uint32_t n_nodes;
	size_t cap_nodes;
	uint32_t *child_slots; /* (parent, name) -> node id + 1 */
	uint32_t child_mask;
};

/* The children of node, sorted by name; *out is malloc'd (NULL when
 * there are none). Returns the count or -1 when out of memory. */
int flame_sorted_children(const struct tg_flame *f, uint32_t node, uint32_t **out);
const char *flame_name(const struct tg_flame *f, uint32_t node);
/* Interns n bytes of s; returns the name id or FLAME_NONE (out of memory). */
uint32_t flame_intern(struct tg_flame *f, const char *s, size_t n);
/* The child of parent called name, or FLAME_NONE. */
uint32_t flame_find_child(const struct tg_flame *f, uint32_t parent, const char *name);

#endif
