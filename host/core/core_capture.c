#include "tg_capture.h"
#include "tg_mem.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The block p grown to hold need elements, or p itself when out of memory
 * (its capacity then stays below need). */
static void *grown(void *p, size_t *cap, size_t need, size_t sz)
{
	void *np = tg_grow_block(p, cap, need, sz, 64);
	return np ? np : p;
}

/* Room for need elements in c->field (capacity c->cap): 0, or TG_E_NOMEM
 * with the array unchanged. */
#define GROW_CAP(c, field, cap, need)                                                    \
	((c)->field = grown((c)->field, &(c)->cap, (need), sizeof(*(c)->field)),          \
	 (c)->cap >= (size_t)(need) ? 0 : TG_E_NOMEM)
#define GROW(c, field, need) GROW_CAP(c, field, cap_##field, need)

static uint64_t hash_bytes(const void *p, size_t n)
{
	const unsigned char *b = p;
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 1099511628211ull;
	}
	return h ^ (h >> 29);
}

struct tg_capture *tg_capture_new(void)
{
	struct tg_capture *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	/* string 0 is "" and stack 0 is the empty stack */
	if (GROW_CAP(c, text, text_cap, 1) < 0 || GROW_CAP(c, str_off, cap_strings, 1) < 0 ||
	    GROW_CAP(c, stack_off, cap_stacks, 1) < 0) {
		tg_capture_free(c);
		return NULL;
	}
	c->stack_depth = calloc(c->cap_stacks, sizeof(uint32_t));
	if (!c->stack_depth) {
		tg_capture_free(c);
		return NULL;
	}
	c->text[0] = '\0';
	c->text_len = 1;
	c->str_off[0] = 0;
	c->n_strings = 1;
	c->stack_off[0] = 0;
	c->stack_depth[0] = 0;
	c->n_stacks = 1;
	return c;
}

void tg_capture_free(struct tg_capture *c)
{
	if (!c)
		return;
	free(c->events);
	free(c->launches);
	free(c->samples);
	free(c->threads);
	free(c->devices);
	free(c->meta);
	free(c->counters);
	free(c->tags);
	free(c->pcs);
	free(c->stack_off);
	free(c->stack_depth);
	free(c->stack_hash);
	free(c->text);
	free(c->str_off);
	free(c->str_hash);
	free(c);
}

/* ---- strings -------------------------------------------------------------- */

static int rehash_strings(struct tg_capture *c, size_t cap)
{
	uint32_t *h = calloc(cap, sizeof(*h));
	if (!h)
		return TG_E_NOMEM;
	for (size_t i = 1; i < c->n_strings; i++) {
		const char *s = c->text + c->str_off[i];
		size_t k = hash_bytes(s, strlen(s)) & (cap - 1);
		while (h[k])
			k = (k + 1) & (cap - 1);
		h[k] = (uint32_t)i;
	}
	free(c->str_hash);
	c->str_hash = h;
	c->str_hash_cap = cap;
	return 0;
}

uint32_t tg_capture_intern_n(struct tg_capture *c, const char *s, size_t len)
{
	if (!s || len == 0)
		return 0;
	if ((c->n_strings + 1) * 2 > c->str_hash_cap &&
	    rehash_strings(c, c->str_hash_cap ? c->str_hash_cap * 2 : 256) < 0)
		return UINT32_MAX;
	const size_t mask = c->str_hash_cap - 1;
	size_t k = hash_bytes(s, len) & mask;
	while (c->str_hash[k]) {
		const char *t = c->text + c->str_off[c->str_hash[k]];
		if (strncmp(t, s, len) == 0 && t[len] == '\0')
			return c->str_hash[k];
		k = (k + 1) & mask;
	}
	if (c->n_strings >= UINT32_MAX - 1 || GROW_CAP(c, str_off, cap_strings, c->n_strings + 1) < 0 ||
	    GROW_CAP(c, text, text_cap, c->text_len + len + 1) < 0)
		return UINT32_MAX;
	uint32_t id = (uint32_t)c->n_strings++;
	c->str_off[id] = c->text_len;
	memcpy(c->text + c->text_len, s, len);
	c->text[c->text_len + len] = '\0';
	c->text_len += len + 1;
	c->str_hash[k] = id;
	return id;
}

uint32_t tg_capture_intern(struct tg_capture *c, const char *s)
{
	return s ? tg_capture_intern_n(c, s, strlen(s)) : 0;
}

const char *tg_capture_string(const struct tg_capture *c, uint32_t id)
{
	if (id == 0 || id >= c->n_strings)
		return "";
	return c->text + c->str_off[id];
}

/* ---- stacks --------------------------------------------------------------- */

static uint64_t hash_stack(const uint64_t *pcs, uint32_t depth)
{
	return hash_bytes(pcs, (size_t)depth * sizeof(*pcs)) ^ depth;
}

static int rehash_stacks(struct tg_capture *c, size_t cap)
{
	uint32_t *h = calloc(cap, sizeof(*h));
	if (!h)
		return TG_E_NOMEM;
	for (size_t i = 1; i < c->n_stacks; i++) {
		size_t k = hash_stack(c->pcs + c->stack_off[i], c->stack_depth[i]) & (cap - 1);
		while (h[k])
			k = (k + 1) & (cap - 1);
		h[k] = (uint32_t)i;
	}
	free(c->stack_hash);
	c->stack_hash = h;
	c->hash_cap = cap;
	return 0;
}

uint32_t tg_capture_add_stack(struct tg_capture *c, const uint64_t *pcs, uint32_t depth)
{
	if (depth == 0)
		return 0;
	if ((c->n_stacks + 1) * 2 > c->hash_cap &&
	    rehash_stacks(c, c->hash_cap ? c->hash_cap * 2 : 256) < 0)
		return UINT32_MAX;
	const size_t mask = c->hash_cap - 1;
	size_t k = hash_stack(pcs, depth) & mask;
	while (c->stack_hash[k]) {
		uint32_t id = c->stack_hash[k];
		if (c->stack_depth[id] == depth &&
		    memcmp(c->pcs + c->stack_off[id], pcs, (size_t)depth * sizeof(*pcs)) == 0)
			return id;
		k = (k + 1) & mask;
	}
	if (c->n_stacks >= UINT32_MAX - 1 || GROW(c, pcs, c->n_pcs + depth) < 0)
		return UINT32_MAX;
	if (c->n_stacks + 1 > c->cap_stacks) {
		/* two arrays, one capacity */
		size_t cap = c->cap_stacks, cap_depth = c->cap_stacks;
		uint64_t *off = tg_grow_block(c->stack_off, &cap, c->n_stacks + 1, sizeof(*off), 64);
		if (!off)
			return UINT32_MAX;
		c->stack_off = off;
		uint32_t *d = tg_grow_block(c->stack_depth, &cap_depth, cap, sizeof(*d), 64);
		if (!d)
			return UINT32_MAX;
		c->stack_depth = d;
		c->cap_stacks = cap;
	}
	uint32_t id = (uint32_t)c->n_stacks++;
	c->stack_off[id] = c->n_pcs;
	c->stack_depth[id] = depth;
	memcpy(c->pcs + c->n_pcs, pcs, (size_t)depth * sizeof(*pcs));
	c->n_pcs += depth;
	c->stack_hash[k] = id;
	return id;
}

const uint64_t *tg_capture_stack(const struct tg_capture *c, uint32_t id, uint32_t *depth)
{
	if (id == 0 || id >= c->n_stacks) {
		*depth = 0;
		return NULL;
	}
	*depth = c->stack_depth[id];
	return c->pcs + c->stack_off[id];
}

/* ---- records -------------------------------------------------------------- */

int tg_capture_add_event(struct tg_capture *c, const struct tg_event *e)
{
	if (GROW(c, events, c->n_events + 1) < 0)
		return TG_E_NOMEM;
	c->events[c->n_events++] = *e;
	return 0;
}

int tg_capture_add_launch(struct tg_capture *c, const struct tg_launch *l)
{
	if (GROW(c, launches, c->n_launches + 1) < 0)
		return TG_E_NOMEM;
	c->launches[c->n_launches++] = *l;
	return 0;
}

int tg_capture_add_sample(struct tg_capture *c, const struct tg_capture_sample *s)
{
	if (GROW(c, samples, c->n_samples + 1) < 0)
		return TG_E_NOMEM;
	c->samples[c->n_samples++] = *s;
	return 0;
}

const struct tg_capture_thread *tg_capture_find_thread(const struct tg_capture *c, uint32_t tid)
{
	for (size_t i = 0; i < c->n_threads; i++)
		if (c->threads[i].tid == tid)
			return &c->threads[i];
	return NULL;
}

static int set_thread(struct tg_capture *c, uint32_t tid, uint32_t alt_id, const char *name,
		      bool replace)
{
	uint32_t nid = 0;
	if (name && (nid = tg_capture_intern(c, name)) == UINT32_MAX)
		return TG_E_NOMEM;
	struct tg_capture_thread *t = (struct tg_capture_thread *)tg_capture_find_thread(c, tid);
	if (!t) {
		if (GROW(c, threads, c->n_threads + 1) < 0)
			return TG_E_NOMEM;
		t = &c->threads[c->n_threads++];
		*t = (struct tg_capture_thread){tid, alt_id, 0};
	}
	if (alt_id)
		t->alt_id = alt_id;
	if (name && (replace || t->name == 0))
		t->name = nid;
	return 0;
}

int tg_capture_set_thread(struct tg_capture *c, uint32_t tid, uint32_t alt_id, const char *name)
{
	return set_thread(c, tid, alt_id, name, false);
}

int tg_capture_name_thread(struct tg_capture *c, uint32_t tid, const char *name)
{
	return set_thread(c, tid, 0, name, true);
}

uint32_t tg_capture_resolve_tid(const struct tg_capture *c, uint32_t id)
{
	for (size_t i = 0; i < c->n_threads; i++)
		if (c->threads[i].tid == id)
			return id;
	for (size_t i = 0; i < c->n_threads; i++)
		if (c->threads[i].alt_id == id)
			return c->threads[i].tid;
	return id;
}

int tg_capture_set_tag(struct tg_capture *c, int32_t tag, const char *name)
{
	if (tag < 0)
		return TG_E_INVAL;
	if (GROW(c, tags, (size_t)tag + 1) < 0)
		return TG_E_NOMEM;
	while (c->n_tags <= (size_t)tag)
		c->tags[c->n_tags++] = 0;
	uint32_t id = tg_capture_intern(c, name);
	if (id == UINT32_MAX)
		return TG_E_NOMEM;
	c->tags[tag] = id;
	return 0;
}

const char *tg_capture_tag_name(const struct tg_capture *c, int32_t tag)
{
	if (tag < 0 || (size_t)tag >= c->n_tags)
		return "";
	return tg_capture_string(c, c->tags[tag]);
}

int tg_capture_set_device(struct tg_capture *c, const struct tg_capture_device *d)
{
	for (size_t i = 0; i < c->n_devices; i++)
		if (c->devices[i].id == d->id) {
			c->devices[i] = *d;
			return 0;
		}
	if (GROW(c, devices, c->n_devices + 1) < 0)
		return TG_E_NOMEM;
	c->devices[c->n_devices++] = *d;
	return 0;
}

int tg_capture_set_meta(struct tg_capture *c, const char *key, const char *value)
{
	uint32_t k = tg_capture_intern(c, key), v = tg_capture_intern(c, value ? value : "");
	if (k == UINT32_MAX || v == UINT32_MAX)
		return TG_E_NOMEM;
	for (size_t i = 0; i < c->n_meta; i++)
		if (c->meta[i].key == k) {
			c->meta[i].value = v;
			return 0;
		}
	if (GROW(c, meta, c->n_meta + 1) < 0)
		return TG_E_NOMEM;
	c->meta[c->n_meta++] = (struct tg_capture_kv){k, v};
	return 0;
}

const char *tg_capture_meta(const struct tg_capture *c, const char *key)
{
	for (size_t i = 0; i < c->n_meta; i++)
		if (strcmp(tg_capture_string(c, c->meta[i].key), key) == 0)
			return tg_capture_string(c, c->meta[i].value);
	return NULL;
}

int tg_capture_count(struct tg_capture *c, const char *key, uint64_t add)
{
	uint32_t k = tg_capture_intern(c, key);
	if (k == UINT32_MAX)
		return TG_E_NOMEM;
	for (size_t i = 0; i < c->n_counters; i++)
		if (c->counters[i].key == k) {
			c->counters[i].value += add;
			return 0;
		}
	if (GROW(c, counters, c->n_counters + 1) < 0)
		return TG_E_NOMEM;
	c->counters[c->n_counters++] = (struct tg_capture_counter){k, add};
	return 0;
}

uint64_t tg_capture_counter(const struct tg_capture *c, const char *key)
{
	for (size_t i = 0; i < c->n_counters; i++)
		if (strcmp(tg_capture_string(c, c->counters[i].key), key) == 0)
			return c->counters[i].value;
	return 0;
}

/* ---- ordering ------------------------------------------------------------- */

static int cmp_event(const void *a, const void *b)
{
	const struct tg_event *x = a, *y = b;
	if (x->start_ns != y->start_ns)
		return x->start_ns < y->start_ns ? -1 : 1;
	if (x->end_ns != y->end_ns) /* enclosing first */
		return x->end_ns > y->end_ns ? -1 : 1;
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	if (x->correlation != y->correlation)
		return x->correlation < y->correlation ? -1 : 1;
	return x->name < y->name ? -1 : x->name > y->name;
}

static int cmp_launch(const void *a, const void *b)
{
	const struct tg_launch *x = a, *y = b;
	if (x->correlation != y->correlation)
		return x->correlation < y->correlation ? -1 : 1;
	return x->t_ns < y->t_ns ? -1 : x->t_ns > y->t_ns;
}

static int cmp_sample(const void *a, const void *b)
{
	const struct tg_capture_sample *x = a, *y = b;
	if (x->t_ns != y->t_ns)
		return x->t_ns < y->t_ns ? -1 : 1;
	return x->tid < y->tid ? -1 : x->tid > y->tid;
}

void tg_capture_sort(struct tg_capture *c)
{
	if (c->n_events > 1)
		qsort(c->events, c->n_events, sizeof(*c->events), cmp_event);
	if (c->n_launches > 1)
		qsort(c->launches, c->n_launches, sizeof(*c->launches), cmp_launch);
	if (c->n_samples > 1)
		qsort(c->samples, c->n_samples, sizeof(*c->samples), cmp_sample);
}

const struct tg_launch *tg_capture_find_launch(const struct tg_capture *c, uint32_t correlation)
{
	size_t lo = 0, hi = c->n_launches;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (c->launches[mid].correlation < correlation)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < c->n_launches && c->launches[lo].correlation == correlation)
		return &c->launches[lo];
	return NULL;
}

const char *tg_copy_kind_name(int kind)
{
	static const char *const names[] = {"memcpy", "HtoD", "DtoH", "HtoA", "AtoH", "AtoA",
					    "AtoD",   "DtoA", "DtoD", "HtoH", "PtoP"};
	return kind >= 0 && kind <= TG_COPY_KIND_MAX ? names[kind] : "memcpy";
}

const char *tg_ev_kind_name(int kind)
{
	static const char *const names[] = {"?",       "kernel",   "memcpy", "memset",
					    "runtime", "driver",   "sync",   "overhead",
					    "nvtx",    "nvtx-async", "nvtx-mark"};
	return kind >= 1 && kind <= TG_EV_KIND_MAX ? names[kind] : "?";
}

/* ---- capture.bin ---------------------------------------------------------- */

#define CAPTURE_MAGIC "TGCAPTUR"
/* 2: launches carry the launching thread's phase; version 1 files are
 * still read (their launches in no phase) */
#define CAPTURE_VERSION 2u

static void put32(struct tg_sink *s, uint32_t v)
{
	tg_sink_write(s, &v, 4);
}

static void put64(struct tg_sink *s, uint64_t v)
{
	tg_sink_write(s, &v, 8);
}

static void section(struct tg_sink *s, const char tag[4], uint64_t count)
{
	tg_sink_write(s, tag, 4);
	put64(s, count);
}

int tg_capture_write(const struct tg_capture *c, struct tg_sink *s, struct tg_error *err)
{
	(void)err;
	tg_sink_write(s, CAPTURE_MAGIC, 8);
	put32(s, CAPTURE_VERSION);
	put32(s, c->pid);
	put64(s, c->start_ns);
	put64(s, c->end_ns);
	tg_sink_write(s, &c->sample_period_ns, 8);

	section(s, "STRS", c->n_strings - 1);
	for (size_t i = 1; i < c->n_strings; i++) {
		const char *t = c->text + c->str_off[i];
		uint32_t len = (uint32_t)strlen(t);
		put32(s, len);
		tg_sink_write(s, t, len);
	}
	section(s, "STKS", c->n_stacks - 1);
	for (size_t i = 1; i < c->n_stacks; i++) {
		put32(s, c->stack_depth[i]);
		tg_sink_write(s, c->pcs + c->stack_off[i], (size_t)c->stack_depth[i] * 8);
	}
	section(s, "EVTS", c->n_events);
	for (size_t i = 0; i < c->n_events; i++) {
		const struct tg_event *e = &c->events[i];
		put64(s, e->start_ns);
		put64(s, e->end_ns);
		put64(s, e->bytes);
		put32(s, e->name);
		put32(s, e->domain);
		put32(s, e->pid);
		put32(s, e->tid);
		put32(s, e->device);
		put32(s, e->context);
		put32(s, e->stream);
		put32(s, e->correlation);
		for (int k = 0; k < 3; k++)
			put32(s, (uint32_t)e->grid[k]);
		for (int k = 0; k < 3; k++)
			put32(s, (uint32_t)e->block[k]);
		put32(s, e->regs);
		put32(s, e->shmem);
		put32(s, (uint32_t)e->flags | (uint32_t)e->kind << 16 | (uint32_t)e->sub << 24);
		put32(s, e->cbid);
	}
	section(s, "LNCH", c->n_launches);
	for (size_t i = 0; i < c->n_launches; i++) {
		const struct tg_launch *l = &c->launches[i];
		put64(s, l->t_ns);
		put32(s, l->correlation);
		put32(s, l->tid);
		put32(s, (uint32_t)l->tag);
		put32(s, l->stack);
		put32(s, l->phase);
	}
	section(s, "SMPL", c->n_samples);
	for (size_t i = 0; i < c->n_samples; i++) {
		const struct tg_capture_sample *m = &c->samples[i];
		put64(s, m->t_ns);
		put32(s, (uint32_t)m->tid);
		put32(s, (uint32_t)m->tag);
		put32(s, m->flags);
		put32(s, m->stack);
	}
	section(s, "THRD", c->n_threads);
	for (size_t i = 0; i < c->n_threads; i++) {
		put32(s, c->threads[i].tid);
		put32(s, c->threads[i].alt_id);
		put32(s, c->threads[i].name);
	}
	section(s, "DEVS", c->n_devices);
	for (size_t i = 0; i < c->n_devices; i++) {
		const struct tg_capture_device *d = &c->devices[i];
		put32(s, d->id);
		put32(s, d->name);
		put32(s, d->sms);
		put32(s, d->cc_major);
		put32(s, d->cc_minor);
		put64(s, d->memory_bytes);
		put64(s, d->memory_bandwidth);
	}
	section(s, "META", c->n_meta);
	for (size_t i = 0; i < c->n_meta; i++) {
		put32(s, c->meta[i].key);
		put32(s, c->meta[i].value);
	}
	section(s, "CNTR", c->n_counters);
	for (size_t i = 0; i < c->n_counters; i++) {
		put32(s, c->counters[i].key);
		put64(s, c->counters[i].value);
	}
	section(s, "TAGS", c->n_tags);
	for (size_t i = 0; i < c->n_tags; i++)
		put32(s, c->tags[i]);
	section(s, "END.", 0);
	return 0;
}

struct reader {
	const unsigned char *p;
	size_t len, off;
	const char *source;
	const char *what;
	struct tg_error *err;
};

static int truncated(struct reader *r)
{
	return TG_ERR(r->err, TG_E_PARSE,
		      "capture '%s': truncated at byte %zu (in %s; the file has %zu bytes)",
		      r->source, r->off, r->what, r->len);
}

static int get(struct reader *r, void *dst, size_t n)
{
	if (r->len - r->off < n)
		return truncated(r);
	memcpy(dst, r->p + r->off, n);
	r->off += n;
	return 0;
}

static int get32(struct reader *r, uint32_t *v)
{
	return get(r, v, 4);
}

static int get64(struct reader *r, uint64_t *v)
{
	return get(r, v, 8);
}

/* Checks that count records of at least min_bytes each can still follow. */
static int expect_section(struct reader *r, const char tag[4], uint64_t *count, size_t min_bytes)
{
	char got[4] = {0};
	r->what = tag;
	TG_TRY(get(r, got, 4));
	if (memcmp(got, tag, 4) != 0)
		return TG_ERR(r->err, TG_E_PARSE,
			      "capture '%s': byte %zu: expected section %.4s, found '%.4s'", r->source,
			      r->off - 4, tag, got);
	TG_TRY(get64(r, count));
	if (min_bytes && *count > (r->len - r->off) / min_bytes)
		return TG_ERR(r->err, TG_E_PARSE,
			      "capture '%s': byte %zu: section %.4s claims %llu records but only "
			      "%zu bytes follow",
			      r->source, r->off, tag, (unsigned long long)*count, r->len - r->off);
	return 0;
}

static int check_string(struct reader *r, const struct tg_capture *c, uint32_t id)
{
	if (id < c->n_strings)
		return 0;
	return TG_ERR(r->err, TG_E_PARSE, "capture '%s': byte %zu: string id %u out of range (%zu strings)",
		      r->source, r->off, id, c->n_strings);
}

static int check_stack(struct reader *r, const struct tg_capture *c, uint32_t id)
{
	if (id < c->n_stacks)
		return 0;
	return TG_ERR(r->err, TG_E_PARSE, "capture '%s': byte %zu: stack id %u out of range (%zu stacks)",
		      r->source, r->off, id, c->n_stacks);
}

static int read_body(struct tg_capture *c, struct reader *r)
{
	struct tg_error *err = r->err;
	char magic[8];
	uint32_t version = 0;
	r->what = "header";
	TG_TRY(get(r, magic, 8));
	if (memcmp(magic, CAPTURE_MAGIC, 8) != 0)
		return TG_ERR(err, TG_E_PARSE, "capture '%s': not a capture.bin file (bad magic)",
			      r->source);
	TG_TRY(get32(r, &version));
	if (version < 1 || version > CAPTURE_VERSION)
		return TG_ERR(err, TG_E_PARSE,
			      "capture '%s': format version %u, this build reads versions 1 to %u",
			      r->source, version, CAPTURE_VERSION);
	TG_TRY(get32(r, &c->pid));
	TG_TRY(get64(r, &c->start_ns));
	TG_TRY(get64(r, &c->end_ns));
	TG_TRY(get(r, &c->sample_period_ns, 8));
	/* an hour per sample is no sampler's: anything beyond is a broken file */
	if (!(c->sample_period_ns >= 0 && c->sample_period_ns <= 3.6e12))
		return TG_ERR(err, TG_E_PARSE,
			      "capture '%s': byte %zu: sample period %g ns; expected 0 (no samples) "
			      "up to an hour",
			      r->source, r->off - 8, c->sample_period_ns);

	uint64_t n = 0;
	TG_TRY(expect_section(r, "STRS", &n, 4));
	for (uint64_t i = 0; i < n; i++) {
		uint32_t len = 0;
		TG_TRY(get32(r, &len));
		if (len == 0 || len > r->len - r->off)
			return len ? truncated(r)
				   : TG_ERR(err, TG_E_PARSE, "capture '%s': byte %zu: empty string",
					    r->source, r->off);
		TG_FAIL_IF(memchr(r->p + r->off, '\0', len), err, TG_E_PARSE,
			   "capture '%s': byte %zu: string %llu holds a NUL byte", r->source, r->off,
			   (unsigned long long)i + 1);
		uint32_t id = tg_capture_intern_n(c, (const char *)r->p + r->off, len);
		TG_FAIL_IF(id == UINT32_MAX, err, TG_E_NOMEM, "capture: out of memory");
		TG_FAIL_IF(id != i + 1, err, TG_E_PARSE,
			   "capture '%s': byte %zu: string %llu repeats an earlier one", r->source,
			   r->off, (unsigned long long)i + 1);
		r->off += len;
	}
	TG_TRY(expect_section(r, "STKS", &n, 4));
	for (uint64_t i = 0; i < n; i++) {
		uint32_t depth = 0;
		TG_TRY(get32(r, &depth));
		if (depth == 0 || depth > (r->len - r->off) / 8)
			return depth ? truncated(r)
				     : TG_ERR(err, TG_E_PARSE, "capture '%s': byte %zu: empty stack",
					      r->source, r->off);
		uint64_t *pcs = malloc((size_t)depth * 8);
		TG_FAIL_IF(!pcs, err, TG_E_NOMEM, "capture: out of memory");
		memcpy(pcs, r->p + r->off, (size_t)depth * 8);
		r->off += (size_t)depth * 8;
		uint32_t id = tg_capture_add_stack(c, pcs, depth);
		free(pcs);
		TG_FAIL_IF(id == UINT32_MAX, err, TG_E_NOMEM, "capture: out of memory");
	}
	TG_TRY(expect_section(r, "EVTS", &n, 96));
	for (uint64_t i = 0; i < n; i++) {
		struct tg_event e = {0};
		uint32_t v[18] = {0};
		TG_TRY(get64(r, &e.start_ns));
		TG_TRY(get64(r, &e.end_ns));
		TG_TRY(get64(r, &e.bytes));
		TG_TRY(get(r, v, sizeof(v)));
		e.name = v[0];
		e.domain = v[1];
		e.pid = v[2];
		e.tid = v[3];
		e.device = v[4];
		e.context = v[5];
		e.stream = v[6];
		e.correlation = v[7];
		for (int k = 0; k < 3; k++) {
			e.grid[k] = (int32_t)v[8 + k];
			e.block[k] = (int32_t)v[11 + k];
		}
		e.regs = v[14];
		e.shmem = v[15];
		e.flags = (uint16_t)(v[16] & 0xffff);
		e.kind = (uint8_t)(v[16] >> 16 & 0xff);
		e.sub = (uint8_t)(v[16] >> 24);
		e.cbid = v[17];
		TG_TRY(check_string(r, c, e.name));
		TG_TRY(check_string(r, c, e.domain));
		if (e.kind < 1 || e.kind > TG_EV_KIND_MAX || e.end_ns < e.start_ns)
			return TG_ERR(err, TG_E_PARSE,
				      "capture '%s': byte %zu: event %llu: kind %u, start %llu, end %llu "
				      "(expected kind 1..%d and end >= start)",
				      r->source, r->off, (unsigned long long)i, e.kind,
				      (unsigned long long)e.start_ns, (unsigned long long)e.end_ns,
				      TG_EV_KIND_MAX);
		TG_FAIL_IF(tg_capture_add_event(c, &e) < 0, err, TG_E_NOMEM, "capture: out of memory");
	}
	TG_TRY(expect_section(r, "LNCH", &n, version >= 2 ? 28 : 24));
	for (uint64_t i = 0; i < n; i++) {
		struct tg_launch l = {0};
		uint32_t tag = 0;
		TG_TRY(get64(r, &l.t_ns));
		TG_TRY(get32(r, &l.correlation));
		TG_TRY(get32(r, &l.tid));
		TG_TRY(get32(r, &tag));
		TG_TRY(get32(r, &l.stack));
		if (version >= 2)
			TG_TRY(get32(r, &l.phase));
		l.tag = (int32_t)tag;
		TG_TRY(check_stack(r, c, l.stack));
		TG_FAIL_IF(tg_capture_add_launch(c, &l) < 0, err, TG_E_NOMEM, "capture: out of memory");
	}
	TG_TRY(expect_section(r, "SMPL", &n, 24));
	for (uint64_t i = 0; i < n; i++) {
		struct tg_capture_sample m = {0};
		uint32_t tid = 0, tag = 0;
		TG_TRY(get64(r, &m.t_ns));
		TG_TRY(get32(r, &tid));
		TG_TRY(get32(r, &tag));
		TG_TRY(get32(r, &m.flags));
		TG_TRY(get32(r, &m.stack));
		m.tid = (int32_t)tid;
		m.tag = (int32_t)tag;
		TG_TRY(check_stack(r, c, m.stack));
		TG_FAIL_IF(tg_capture_add_sample(c, &m) < 0, err, TG_E_NOMEM, "capture: out of memory");
	}
	TG_TRY(expect_section(r, "THRD", &n, 12));
	for (uint64_t i = 0; i < n; i++) {
		uint32_t t[3] = {0};
		TG_TRY(get(r, t, sizeof(t)));
		TG_TRY(check_string(r, c, t[2]));
		TG_FAIL_IF(tg_capture_set_thread(c, t[0], t[1], NULL) < 0, err, TG_E_NOMEM,
			   "capture: out of memory");
		((struct tg_capture_thread *)tg_capture_find_thread(c, t[0]))->name = t[2];
	}
	TG_TRY(expect_section(r, "DEVS", &n, 36));
	for (uint64_t i = 0; i < n; i++) {
		struct tg_capture_device d = {0};
		TG_TRY(get32(r, &d.id));
		TG_TRY(get32(r, &d.name));
		TG_TRY(get32(r, &d.sms));
		TG_TRY(get32(r, &d.cc_major));
		TG_TRY(get32(r, &d.cc_minor));
		TG_TRY(get64(r, &d.memory_bytes));
		TG_TRY(get64(r, &d.memory_bandwidth));
		TG_TRY(check_string(r, c, d.name));
		TG_FAIL_IF(tg_capture_set_device(c, &d) < 0, err, TG_E_NOMEM, "capture: out of memory");
	}
	TG_TRY(expect_section(r, "META", &n, 8));
	for (uint64_t i = 0; i < n; i++) {
		uint32_t kv[2] = {0};
		TG_TRY(get(r, kv, sizeof(kv)));
		TG_TRY(check_string(r, c, kv[0]));
		TG_TRY(check_string(r, c, kv[1]));
		TG_FAIL_IF(tg_capture_set_meta(c, tg_capture_string(c, kv[0]),
					       tg_capture_string(c, kv[1])) < 0,
			   err, TG_E_NOMEM, "capture: out of memory");
	}
	TG_TRY(expect_section(r, "CNTR", &n, 12));
	for (uint64_t i = 0; i < n; i++) {
		uint32_t key = 0;
		uint64_t v = 0;
		TG_TRY(get32(r, &key));
		TG_TRY(get64(r, &v));
		TG_TRY(check_string(r, c, key));
		TG_FAIL_IF(tg_capture_count(c, tg_capture_string(c, key), v) < 0, err, TG_E_NOMEM,
			   "capture: out of memory");
	}
	TG_TRY(expect_section(r, "TAGS", &n, 4));
	for (uint64_t i = 0; i < n; i++) {
		uint32_t id = 0;
		TG_TRY(get32(r, &id));
		TG_TRY(check_string(r, c, id));
		TG_FAIL_IF(tg_capture_set_tag(c, (int32_t)i, tg_capture_string(c, id)) < 0, err,
			   TG_E_NOMEM, "capture: out of memory");
	}
	TG_TRY(expect_section(r, "END.", &n, 0));
	if (r->off != r->len)
		return TG_ERR(err, TG_E_PARSE, "capture '%s': %zu unexpected bytes after the end",
			      r->source, r->len - r->off);
	return 0;
}

int tg_capture_read(struct tg_capture *c, const void *data, size_t len, const char *source,
		    struct tg_error *err)
{
	TG_FAIL_IF(c->n_strings != 1 || c->n_events || c->n_stacks != 1, err, TG_E_INVAL,
		   "capture: reading '%s' needs an empty capture", source);
	struct reader r = {data, len, 0, source, "header", err};
	return read_body(c, &r);
}

int tg_capture_load(struct tg_capture *c, const char *path, struct tg_error *err)
{
	char *buf = NULL;
	size_t len = 0;
	TG_TRY(tg_read_file(path, "capture", &buf, &len, err));
	int rc = tg_capture_read(c, buf, len, path, err);
	free(buf);
	return rc;
}
