/* Our NVTX tool: the handlers NVTX calls once it has found us, either by
 * static injection (InitializeInjectionNvtx2_fnptr, the module this object
 * is linked into) or through NVTX_INJECTION64_PATH (the recording agent,
 * every module of the process).
 *
 * Handlers append small records to a per-thread buffer (chunks that never
 * move, published with release stores), so threads never contend; the
 * exporter pairs them into ranges afterwards. Messages are copied: callers
 * may pass a buffer they reuse.
 */
#include "tg_cupti.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <wchar.h>
#include <dlfcn.h>
#include <stdbool.h>

#include "tg_clock.h"
#include "tg_config.h"
#include "tg_mem.h"
#include "tg_str.h"

#if TG_HAVE_NVTX
#define NVTX_NO_IMPL 1
#include <nvtx3/nvToolsExt.h>

enum rec_type { R_PUSH = 1, R_POP, R_START, R_END, R_MARK, R_NAME_THREAD };

/* One record; the message (name_len bytes, no NUL) follows, padded to 8. */
struct rec {
	uint64_t t_ns;
	uint64_t id;        /* start/end: range id; push/mark: category; name thread: tid */
	uint32_t domain;    /* domain id, 0 = default */
	uint16_t name_len;
	uint8_t type;
	uint8_t has_color;
	uint32_t color; /* ARGB, as the program set it */
	int64_t payload; /* an integer payload (has_payload) */
	uint8_t has_payload;
};

#define CHUNK_BYTES (64u * 1024u)
#define MAX_NAME 1024u

struct chunk {
	struct chunk *_Atomic next;
	_Atomic size_t used; /* bytes published */
	unsigned char data[CHUNK_BYTES];
};

struct tbuf {
	uint32_t tid, alt;
	char name[16];
	struct chunk *head, *tail;
	/* exporter position */
	struct chunk *read_chunk;
	size_t read_off;
	_Atomic uint64_t dropped;
	struct tbuf *_Atomic next;
};

struct domain {
	uint32_t id;
	char *name;
	struct domain *next;
};

struct reg_string {
	char *text;
	struct reg_string *next;
};

/* A category the program named (nvtxNameCategory, nvtxDomainNameCategory). */
struct category {
	uint32_t id;
	char *name;
	struct category *next;
};

static struct {
	atomic_int recording;
	atomic_int initialised;      /* our init ran for at least one NVTX instance */
	pthread_mutex_t mu;          /* domains, registered strings, thread list insertions */
	struct tbuf *_Atomic threads;
	struct domain *domains;
	struct reg_string *strings; /* handles live as long as the process */
	struct category *categories;
	uint32_t next_domain;
	_Atomic uint64_t next_range;
	_Atomic size_t bytes;        /* chunk memory allocated */
	size_t max_bytes;
} g = {.mu = PTHREAD_MUTEX_INITIALIZER, .next_domain = 1, .next_range = 1,
       .max_bytes = 256u << 20};

static _Thread_local struct tbuf *tls_buf;

static struct chunk *new_chunk(void)
{
	if (atomic_fetch_add(&g.bytes, sizeof(struct chunk)) + sizeof(struct chunk) > g.max_bytes) {
		atomic_fetch_sub(&g.bytes, sizeof(struct chunk));
		return NULL;
	}
	struct chunk *c = malloc(sizeof(*c));
	if (!c) {
		atomic_fetch_sub(&g.bytes, sizeof(struct chunk));
		return NULL;
	}
	atomic_init(&c->next, NULL);
	atomic_init(&c->used, 0);
	return c;
}

static struct tbuf *thread_buf(void)
{
	struct tbuf *b = tls_buf;
	if (b)
		return b;
	b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	b->tid = (uint32_t)syscall(SYS_gettid);
	b->alt = (uint32_t)(uintptr_t)pthread_self();
	if (pthread_getname_np(pthread_self(), b->name, sizeof(b->name)) != 0)
		b->name[0] = '\0';
	b->head = b->tail = b->read_chunk = new_chunk();
	if (!b->head) {
		free(b);
		return NULL;
	}
	pthread_mutex_lock(&g.mu);
	atomic_store(&b->next, atomic_load(&g.threads));
	atomic_store_explicit(&g.threads, b, memory_order_release);
	pthread_mutex_unlock(&g.mu);
	tls_buf = b;
	return b;
}

static void put_rec(int type, uint32_t domain, uint64_t id, const char *name, size_t len,
		    int64_t color, const int64_t *payload)
{
	uint64_t t = tg_clock_ns();
	struct tbuf *b = thread_buf();
	if (!b)
		return;
	if (len > MAX_NAME)
		len = MAX_NAME;
	size_t need = sizeof(struct rec) + ((len + 7) & ~(size_t)7);
	struct chunk *c = b->tail;
	size_t used = atomic_load_explicit(&c->used, memory_order_relaxed);
	if (used + need > CHUNK_BYTES) {
		struct chunk *n = new_chunk();
		if (!n) {
			atomic_fetch_add(&b->dropped, 1);
			return;
		}
		atomic_store_explicit(&c->next, n, memory_order_release);
		b->tail = c = n;
		used = 0;
	}
	struct rec *r = (struct rec *)(c->data + used);
	r->t_ns = t;
	r->id = id;
	r->domain = domain;
	r->name_len = (uint16_t)len;
	r->type = (uint8_t)type;
	r->has_color = color >= 0;
	r->color = color >= 0 ? (uint32_t)color : 0;
	r->has_payload = payload != NULL;
	r->payload = payload ? *payload : 0;
	if (len)
		memcpy(r + 1, name, len);
	atomic_store_explicit(&c->used, used + need, memory_order_release);
}

static void put(int type, uint32_t domain, uint64_t id, const char *name, size_t len)
{
	if (atomic_load_explicit(&g.recording, memory_order_relaxed))
		put_rec(type, domain, id, name, len, -1, NULL);
}

/* ---- message decoding ---------------------------------------------------- */

/* Wide messages become UTF-8 (characters outside the current locale: '?'). */
static size_t from_wide(const wchar_t *w, char *out, size_t cap)
{
	size_t n = 0;
	for (; w && *w && n + 4 < cap; w++) {
		wchar_t ch = *w;
		if (ch < 0x80) {
			out[n++] = (char)ch;
		} else if (ch < 0x800) {
			out[n++] = (char)(0xC0 | (ch >> 6));
			out[n++] = (char)(0x80 | (ch & 0x3F));
		} else if (ch < 0x10000) {
			out[n++] = (char)(0xE0 | (ch >> 12));
			out[n++] = (char)(0x80 | ((ch >> 6) & 0x3F));
			out[n++] = (char)(0x80 | (ch & 0x3F));
		} else {
			out[n++] = '?';
		}
	}
	return n;
}

static void put_attr(int type, uint32_t domain, uint64_t id, const nvtxEventAttributes_t *a)
{
	if (!atomic_load_explicit(&g.recording, memory_order_relaxed))
		return;
	const char *msg = NULL;
	char wide[MAX_NAME];
	size_t len = 0;
	if (a) {
		if (type == R_PUSH || type == R_MARK)
			id = a->category;
		switch (a->messageType) {
		case NVTX_MESSAGE_TYPE_ASCII:
			msg = a->message.ascii;
			break;
		case NVTX_MESSAGE_TYPE_REGISTERED:
			msg = a->message.registered ? ((const struct reg_string *)a->message.registered)->text
						    : NULL;
			break;
		case NVTX_MESSAGE_TYPE_UNICODE:
			len = from_wide(a->message.unicode, wide, sizeof(wide));
			msg = wide;
			break;
		default:
			break;
		}
	}
	if (msg && msg != wide)
		len = strnlen(msg, MAX_NAME);
	const int64_t color = a && a->colorType == NVTX_COLOR_ARGB ? (int64_t)a->color : -1;
	int64_t payload = 0;
	bool has_payload = false;
	if (a) {
		switch (a->payloadType) {
		case NVTX_PAYLOAD_TYPE_INT64:
			payload = a->payload.llValue;
			has_payload = true;
			break;
		case NVTX_PAYLOAD_TYPE_UNSIGNED_INT64:
			payload = (int64_t)a->payload.ullValue;
			has_payload = true;
			break;
		case NVTX_PAYLOAD_TYPE_INT32:
			payload = a->payload.iValue;
			has_payload = true;
			break;
		case NVTX_PAYLOAD_TYPE_UNSIGNED_INT32:
			payload = a->payload.uiValue;
			has_payload = true;
			break;
		default:
			break;
		}
	}
	if (atomic_load_explicit(&g.recording, memory_order_relaxed))
		put_rec(type, domain, id, msg, len, color, has_payload ? &payload : NULL);
}

static uint32_t domain_id(nvtxDomainHandle_t d)
{
	return d ? ((const struct domain *)(const void *)d)->id : 0;
}

/* ---- handlers ------------------------------------------------------------ */

static void NVTX_API h_MarkEx(const nvtxEventAttributes_t *a)
{
	put_attr(R_MARK, 0, 0, a);
}

static void NVTX_API h_MarkA(const char *m)
{
	put(R_MARK, 0, 0, m, m ? strnlen(m, MAX_NAME) : 0);
}

static void NVTX_API h_MarkW(const wchar_t *m)
{
	char buf[MAX_NAME];
	put(R_MARK, 0, 0, buf, from_wide(m, buf, sizeof(buf)));
}

static nvtxRangeId_t new_range(void)
{
	return atomic_fetch_add(&g.next_range, 1);
}

static nvtxRangeId_t NVTX_API h_RangeStartEx(const nvtxEventAttributes_t *a)
{
	nvtxRangeId_t id = new_range();
	put_attr(R_START, 0, id, a);
	return id;
}

static nvtxRangeId_t NVTX_API h_RangeStartA(const char *m)
{
	nvtxRangeId_t id = new_range();
	put(R_START, 0, id, m, m ? strnlen(m, MAX_NAME) : 0);
	return id;
}

static nvtxRangeId_t NVTX_API h_RangeStartW(const wchar_t *m)
{
	char buf[MAX_NAME];
	nvtxRangeId_t id = new_range();
	put(R_START, 0, id, buf, from_wide(m, buf, sizeof(buf)));
	return id;
}

static void NVTX_API h_RangeEnd(nvtxRangeId_t id)
{
	put(R_END, 0, id, NULL, 0);
}

static int NVTX_API h_RangePushEx(const nvtxEventAttributes_t *a)
{
	put_attr(R_PUSH, 0, 0, a);
	return 0;
}

static int NVTX_API h_RangePushA(const char *m)
{
	put(R_PUSH, 0, 0, m, m ? strnlen(m, MAX_NAME) : 0);
	return 0;
}

static int NVTX_API h_RangePushW(const wchar_t *m)
{
	char buf[MAX_NAME];
	put(R_PUSH, 0, 0, buf, from_wide(m, buf, sizeof(buf)));
	return 0;
}

static int NVTX_API h_RangePop(void)
{
	put(R_POP, 0, 0, NULL, 0);
	return 0;
}

static void NVTX_API h_NameOsThreadA(uint32_t tid, const char *name)
{
	/* names matter even outside the recording window */
	put_rec(R_NAME_THREAD, 0, tid, name, name ? strnlen(name, MAX_NAME) : 0, -1, NULL);
}

static void NVTX_API h_NameOsThreadW(uint32_t tid, const wchar_t *name)
{
	char buf[MAX_NAME];
	put_rec(R_NAME_THREAD, 0, tid, buf, from_wide(name, buf, sizeof(buf)), -1, NULL);
}

static void NVTX_API h_DomainMarkEx(nvtxDomainHandle_t d, const nvtxEventAttributes_t *a)
{
	put_attr(R_MARK, domain_id(d), 0, a);
}

static nvtxRangeId_t NVTX_API h_DomainRangeStartEx(nvtxDomainHandle_t d,
						   const nvtxEventAttributes_t *a)
{
	nvtxRangeId_t id = new_range();
	put_attr(R_START, domain_id(d), id, a);
	return id;
}

static void NVTX_API h_DomainRangeEnd(nvtxDomainHandle_t d, nvtxRangeId_t id)
{
	put(R_END, domain_id(d), id, NULL, 0);
}

static int NVTX_API h_DomainRangePushEx(nvtxDomainHandle_t d, const nvtxEventAttributes_t *a)
{
	put_attr(R_PUSH, domain_id(d), 0, a);
	return 0;
}

static int NVTX_API h_DomainRangePop(nvtxDomainHandle_t d)
{
	put(R_POP, domain_id(d), 0, NULL, 0);
	return 0;
}

static nvtxDomainHandle_t create_domain(const char *name)
{
	pthread_mutex_lock(&g.mu);
	struct domain *d;
	for (d = g.domains; d; d = d->next)
		if (strcmp(d->name, name ? name : "") == 0)
			break;
	if (!d && (d = calloc(1, sizeof(*d))) != NULL) {
		d->name = strdup(name ? name : "");
		if (!d->name) {
			free(d);
			d = NULL;
		} else {
			d->id = g.next_domain++;
			d->next = g.domains;
			g.domains = d;
		}
	}
	pthread_mutex_unlock(&g.mu);
	return (nvtxDomainHandle_t)(void *)d;
}

static void name_category(uint32_t id, const char *name)
{
	if (!name)
		return;
	pthread_mutex_lock(&g.mu);
	struct category *k = g.categories;
	while (k && k->id != id)
		k = k->next;
	if (!k && (k = calloc(1, sizeof(*k)))) {
		k->id = id;
		k->next = g.categories;
		g.categories = k;
	}
	if (k) {
		char *copy = strndup(name, MAX_NAME);
		if (copy) {
			free(k->name);
			k->name = copy;
		}
	}
	pthread_mutex_unlock(&g.mu);
}

static void NVTX_API h_NameCategoryA(uint32_t category, const char *name)
{
	name_category(category, name);
}

static void NVTX_API h_DomainNameCategoryA(nvtxDomainHandle_t d, uint32_t category,
					   const char *name)
{
	(void)d; /* categories of every domain share one table: ids rarely clash */
	name_category(category, name);
}

static nvtxDomainHandle_t NVTX_API h_DomainCreateA(const char *name)
{
	return create_domain(name);
}

static nvtxDomainHandle_t NVTX_API h_DomainCreateW(const wchar_t *name)
{
	char buf[MAX_NAME];
	size_t n = from_wide(name, buf, sizeof(buf) - 1);
	buf[n] = '\0';
	return create_domain(buf);
}

static void NVTX_API h_DomainDestroy(nvtxDomainHandle_t d)
{
	(void)d; /* events still refer to it: domains live as long as the process */
}

static nvtxStringHandle_t register_string(const char *s)
{
	struct reg_string *r = malloc(sizeof(*r));
	if (!r)
		return NULL;
	r->text = strdup(s ? s : "");
	if (!r->text) {
		free(r);
		return NULL;
	}
	pthread_mutex_lock(&g.mu);
	r->next = g.strings;
	g.strings = r;
	pthread_mutex_unlock(&g.mu);
	return (nvtxStringHandle_t)(void *)r;
}

static nvtxStringHandle_t NVTX_API h_DomainRegisterStringA(nvtxDomainHandle_t d, const char *s)
{
	(void)d;
	return register_string(s);
}

static nvtxStringHandle_t NVTX_API h_DomainRegisterStringW(nvtxDomainHandle_t d, const wchar_t *s)
{
	(void)d;
	char buf[MAX_NAME];
	size_t n = from_wide(s, buf, sizeof(buf) - 1);
	buf[n] = '\0';
	return register_string(buf);
}

static void NVTX_API h_Initialize(const void *reserved)
{
	(void)reserved;
}

/* ---- attaching to an NVTX instance --------------------------------------- */

struct slot {
	NvtxCallbackModule module;
	unsigned id;
	NvtxFunctionPointer fn;
};

#define SLOT(m, name) {NVTX_CB_MODULE_##m, NVTX_CBID_##m##_##name, (NvtxFunctionPointer)h_##name}

static const struct slot slots[] = {
	SLOT(CORE, MarkEx),        SLOT(CORE, MarkA),        SLOT(CORE, MarkW),
	SLOT(CORE, RangeStartEx),  SLOT(CORE, RangeStartA),  SLOT(CORE, RangeStartW),
	SLOT(CORE, RangeEnd),      SLOT(CORE, RangePushEx),  SLOT(CORE, RangePushA),
	SLOT(CORE, RangePushW),    SLOT(CORE, RangePop),     SLOT(CORE, NameOsThreadA),
	SLOT(CORE, NameOsThreadW), SLOT(CORE, NameCategoryA), SLOT(CORE2, DomainNameCategoryA),
	SLOT(CORE2, DomainMarkEx), SLOT(CORE2, DomainRangeStartEx),
	SLOT(CORE2, DomainRangeEnd), SLOT(CORE2, DomainRangePushEx), SLOT(CORE2, DomainRangePop),
	SLOT(CORE2, DomainCreateA), SLOT(CORE2, DomainCreateW), SLOT(CORE2, DomainDestroy),
	SLOT(CORE2, DomainRegisterStringA), SLOT(CORE2, DomainRegisterStringW),
	SLOT(CORE2, Initialize),
};

static int NVTX_API attach(NvtxGetExportTableFunc_t get_table)
{
	const NvtxExportTableCallbacks *cb =
		(const NvtxExportTableCallbacks *)get_table(NVTX_ETID_CALLBACKS);
	if (!cb || cb->struct_size < sizeof(*cb) || !cb->GetModuleFunctionTable)
		return 0;
	int patched = 0;
	for (size_t i = 0; i < sizeof(slots) / sizeof(slots[0]); i++) {
		NvtxFunctionTable table = NULL;
		unsigned int size = 0;
		if (!cb->GetModuleFunctionTable(slots[i].module, &table, &size) || !table ||
		    slots[i].id >= size || !table[slots[i].id])
			continue;
		*table[slots[i].id] = slots[i].fn;
		patched++;
	}
	if (patched)
		atomic_store(&g.initialised, 1);
	return patched > 0;
}

/* Dynamic injection (NVTX_INJECTION64_PATH) finds this by name. */
int NVTX_API InitializeInjectionNvtx2(NvtxGetExportTableFunc_t get_table);
extern NvtxInitializeInjectionNvtxFunc_t InitializeInjectionNvtx2_fnptr;
__attribute__((visibility("default"))) int NVTX_API
InitializeInjectionNvtx2(NvtxGetExportTableFunc_t get_table)
{
	return attach(get_table);
}

/* Static injection: NVTX instances of this module bind their weak pointer to
 * this definition when no injection library is named in the environment. */
NvtxInitializeInjectionNvtxFunc_t InitializeInjectionNvtx2_fnptr = attach;

/* ---- control and export -------------------------------------------------- */

/* Does path name the object this code is in (the agent, or the program)? */
static bool names_this_module(const char *path)
{
	Dl_info info;
	if (!dladdr((void *)(uintptr_t)attach, &info) || !info.dli_fname)
		return false;
	char *a = realpath(path, NULL), *b = realpath(info.dli_fname, NULL);
	const bool same = a && b && strcmp(a, b) == 0;
	free(a);
	free(b);
	return same;
}

enum tg_nvtx_state tg_nvtx_capture_state(char *why, size_t cap)
{
	const char *env = getenv("NVTX_INJECTION64_PATH");
	if (atomic_load(&g.initialised)) {
		snprintf(why, cap, "%s", env && *env ? "NVTX injection via NVTX_INJECTION64_PATH"
						      : "NVTX static injection");
		return TG_NVTX_OURS;
	}
	if (env && *env) {
		if (names_this_module(env)) {
			/* record's agent named itself: nothing went elsewhere */
			snprintf(why, cap, "NVTX injection via NVTX_INJECTION64_PATH: the program made "
					   "no NVTX call");
			return TG_NVTX_NOT_LOADED;
		}
		const char *base = strrchr(env, '/') ? strrchr(env, '/') + 1 : env;
		if (strncmp(base, "libtgrecord", 11) == 0)
			snprintf(why, cap,
				 "NVTX ranges go to the agent of trendgpu-bench record (%s), recorded "
				 "in its capture, not here",
				 env);
		else
			snprintf(why, cap,
				 "NVTX ranges go to another tool (NVTX_INJECTION64_PATH=%s), not "
				 "recorded here",
				 env);
		return TG_NVTX_OTHER_TOOL;
	}
	snprintf(why, cap, "no NVTX call yet");
	return TG_NVTX_NOT_LOADED;
}

void tg_nvtx_capture_start(void)
{
	atomic_store(&g.recording, 1);
}

void tg_nvtx_capture_stop(void)
{
	atomic_store(&g.recording, 0);
}

struct open_range {
	uint64_t t_ns;
	uint32_t tid, alt, domain, name, category;
	int64_t color;   /* ARGB, -1 when the program set none */
	bool has_payload;
	int64_t payload; /* the program's integer payload */
};

struct pending {
	struct open_range *v;
	size_t n, cap;
};

static int pending_push(struct pending *p, const struct open_range *r)
{
	struct open_range *nv = tg_grow_block(p->v, &p->cap, p->n + 1, sizeof(*nv), 64);
	if (!nv)
		return -1;
	p->v = nv;
	p->v[p->n++] = *r;
	return 0;
}

struct start_rec {
	uint64_t id;
	struct open_range r;
};

struct end_rec {
	uint64_t id;
	uint64_t t_ns;
};

struct export_ctx {
	struct tg_capture *c;
	uint32_t dom_ids[4096]; /* our domain id -> capture string id */
	struct start_rec *starts;
	size_t n_starts, cap_starts;
	struct end_rec *ends;
	size_t n_ends, cap_ends;
	uint64_t events, unmatched_pops, unmatched_ends, unclosed;
};

static uint32_t dom_string(struct export_ctx *x, uint32_t dom)
{
	if (dom == 0 || dom >= 4096)
		return 0;
	if (!x->dom_ids[dom]) {
		const char *name = "";
		for (struct domain *d = g.domains; d; d = d->next)
			if (d->id == dom)
				name = d->name;
		x->dom_ids[dom] = tg_capture_intern(x->c, name);
	}
	return x->dom_ids[dom];
}

static int emit(struct export_ctx *x, int kind, const struct open_range *r, uint64_t end,
		uint64_t id, uint16_t flags)
{
	struct tg_event e;
	memset(&e, 0, sizeof(e));
	e.kind = (uint8_t)kind;
	e.start_ns = r->t_ns;
	e.end_ns = end < r->t_ns ? r->t_ns : end;
	e.name = r->name;
	e.domain = r->domain;
	e.pid = x->c->pid;
	e.tid = r->tid;
	e.cbid = r->category;
	e.bytes = id;
	e.flags = flags;
	if (r->color >= 0) {
		e.regs = (uint32_t)r->color;
		e.flags |= TG_EVF_COLOR;
	}
	if (r->has_payload && kind != TG_EV_ASYNC) { /* start/end ranges keep their id there */
		e.bytes = (uint64_t)r->payload;
		e.flags |= TG_EVF_PAYLOAD;
	}
	x->events++;
	return tg_capture_add_event(x->c, &e);
}

#define MAX_DOMAINS 64

/* Open push/pop ranges of one thread, per domain. */
struct stacks {
	uint32_t domain[MAX_DOMAINS];
	struct pending p[MAX_DOMAINS];
	int n;
};

static struct pending *stack_of(struct stacks *s, uint32_t domain)
{
	for (int i = 0; i < s->n; i++)
		if (s->domain[i] == domain)
			return &s->p[i];
	if (s->n == MAX_DOMAINS)
		return &s->p[MAX_DOMAINS - 1]; /* more domains than slots: share the last */
	s->domain[s->n] = domain;
	return &s->p[s->n++];
}

static int export_rec(struct export_ctx *x, struct tbuf *b, struct stacks *stacks,
		      const struct rec *r)
{
	uint32_t name = tg_capture_intern_n(x->c, (const char *)(r + 1), r->name_len);
	if (name == UINT32_MAX)
		return TG_E_NOMEM;
	struct open_range o = {r->t_ns, b->tid, b->alt, dom_string(x, r->domain), name,
			       (uint32_t)r->id, r->has_color ? (int64_t)r->color : -1,
			       r->has_payload != 0, r->payload};
	switch (r->type) {
	case R_PUSH:
		return pending_push(stack_of(stacks, r->domain), &o) < 0 ? TG_E_NOMEM : 0;
	case R_POP: {
		struct pending *st = stack_of(stacks, r->domain);
		if (st->n == 0) {
			x->unmatched_pops++;
			return 0;
		}
		return emit(x, TG_EV_RANGE, &st->v[--st->n], r->t_ns, 0, 0);
	}
	case R_MARK:
		return emit(x, TG_EV_MARK, &o, r->t_ns, 0, 0);
	case R_START:
		struct start_rec *ns =
			tg_grow_block(x->starts, &x->cap_starts, x->n_starts + 1, sizeof(*ns), 64);
		if (!ns)
			return TG_E_NOMEM;
		x->starts = ns;
		o.category = 0;
		x->starts[x->n_starts++] = (struct start_rec){r->id, o};
		return 0;
	case R_END:
		/* paired after every thread is read: ends may come from any thread */
		struct end_rec *ne = tg_grow_block(x->ends, &x->cap_ends, x->n_ends + 1, sizeof(*ne), 64);
		if (!ne)
			return TG_E_NOMEM;
		x->ends = ne;
		x->ends[x->n_ends++] = (struct end_rec){r->id, r->t_ns};
		return 0;
	case R_NAME_THREAD: {
		char nm[MAX_NAME + 1];
		memcpy(nm, r + 1, r->name_len);
		nm[r->name_len] = '\0';
		return tg_capture_name_thread(x->c, (uint32_t)r->id, nm);
	}
	default:
		return 0;
	}
}

/* One thread's records since the last export. */
static int export_thread(struct export_ctx *x, struct tbuf *b, uint64_t end_ns)
{
	struct stacks *stacks = calloc(1, sizeof(*stacks));
	if (!stacks)
		return TG_E_NOMEM;
	int rc = 0;
	struct chunk *c = b->read_chunk;
	size_t off = b->read_off;
	while (rc == 0) {
		size_t used = atomic_load_explicit(&c->used, memory_order_acquire);
		while (off < used && rc == 0) {
			const struct rec *r = (const struct rec *)(c->data + off);
			off += sizeof(*r) + ((r->name_len + 7u) & ~7u);
			rc = export_rec(x, b, stacks, r);
		}
		struct chunk *next = atomic_load_explicit(&c->next, memory_order_acquire);
		if (!next)
			break;
		/* the writer finished c before linking next */
		if (off < atomic_load_explicit(&c->used, memory_order_acquire))
			continue;
		c = next;
		off = 0;
	}
	b->read_chunk = c;
	b->read_off = off;
	for (int d = 0; d < stacks->n; d++) {
		for (size_t i = 0; i < stacks->p[d].n && rc == 0; i++) {
			x->unclosed++;
			rc = emit(x, TG_EV_RANGE, &stacks->p[d].v[i], end_ns, 0, TG_EVF_UNCLOSED);
		}
		free(stacks->p[d].v);
	}
	free(stacks);
	if (rc == 0)
		rc = tg_capture_set_thread(x->c, b->tid, b->alt, b->name[0] ? b->name : NULL);
	return rc;
}

static int cmp_start(const void *a, const void *b)
{
	const struct start_rec *x = a, *y = b;
	return (x->id > y->id) - (x->id < y->id);
}

static int cmp_end(const void *a, const void *b)
{
	const struct end_rec *x = a, *y = b;
	return (x->id > y->id) - (x->id < y->id);
}

/* Start/end ranges by id (ids are unique per process). */
static int pair_ranges(struct export_ctx *x, uint64_t end_ns)
{
	if (x->n_starts > 1)
		qsort(x->starts, x->n_starts, sizeof(*x->starts), cmp_start);
	if (x->n_ends > 1)
		qsort(x->ends, x->n_ends, sizeof(*x->ends), cmp_end);
	size_t i = 0, k = 0;
	int rc = 0;
	while (rc == 0 && (i < x->n_starts || k < x->n_ends)) {
		if (k == x->n_ends || (i < x->n_starts && x->starts[i].id < x->ends[k].id)) {
			x->unclosed++;
			rc = emit(x, TG_EV_ASYNC, &x->starts[i].r, end_ns, x->starts[i].id,
				  TG_EVF_UNCLOSED);
			i++;
		} else if (i == x->n_starts || x->ends[k].id < x->starts[i].id) {
			x->unmatched_ends++;
			k++;
		} else {
			rc = emit(x, TG_EV_ASYNC, &x->starts[i].r, x->ends[k].t_ns, x->starts[i].id, 0);
			i++;
			k++;
		}
	}
	return rc;
}

int tg_nvtx_capture_export(struct tg_capture *c, uint64_t end_ns, struct tg_error *err)
{
	struct export_ctx *x = calloc(1, sizeof(*x));
	TG_FAIL_IF(!x, err, TG_E_NOMEM, "nvtx: out of memory");
	x->c = c;
	uint64_t dropped = 0;
	int rc = 0;
	pthread_mutex_lock(&g.mu);
	for (struct tbuf *b = atomic_load_explicit(&g.threads, memory_order_acquire); b && rc == 0;
	     b = atomic_load(&b->next)) {
		rc = export_thread(x, b, end_ns);
		dropped += atomic_exchange(&b->dropped, 0);
	}
	for (struct category *k = g.categories; k && rc == 0; k = k->next) {
		char key[48];
		snprintf(key, sizeof(key), "nvtx.category.%u", k->id);
		rc = tg_capture_set_meta(c, key, k->name ? k->name : "");
	}
	pthread_mutex_unlock(&g.mu);
	if (rc == 0)
		rc = pair_ranges(x, end_ns);
	if (rc == 0)
		rc = tg_capture_count(c, "nvtx.events", x->events);
	if (rc == 0)
		rc = tg_capture_count(c, "nvtx.dropped", dropped);
	if (rc == 0)
		rc = tg_capture_count(c, "nvtx.unmatched_pops", x->unmatched_pops);
	if (rc == 0)
		rc = tg_capture_count(c, "nvtx.unmatched_ends", x->unmatched_ends);
	if (rc == 0)
		rc = tg_capture_count(c, "nvtx.unclosed", x->unclosed);
	char why[256];
	tg_nvtx_capture_state(why, sizeof(why));
	if (rc == 0)
		rc = tg_capture_set_meta(c, "nvtx", why);
	free(x->starts);
	free(x->ends);
	free(x);
	TG_FAIL_IF(rc < 0, err, TG_E_NOMEM, "nvtx: out of memory exporting ranges");
	return 0;
}

void tg_nvtx_capture_reset(void)
{
	pthread_mutex_lock(&g.mu);
	for (struct tbuf *b = atomic_load(&g.threads); b; b = atomic_load(&b->next)) {
		/* skip everything published so far */
		struct chunk *c = b->read_chunk;
		struct chunk *next;
		while ((next = atomic_load(&c->next)) != NULL)
			c = next;
		b->read_chunk = c;
		b->read_off = atomic_load(&c->used);
		atomic_store(&b->dropped, 0);
	}
	pthread_mutex_unlock(&g.mu);
}

#else /* !TG_HAVE_NVTX */

enum tg_nvtx_state tg_nvtx_capture_state(char *why, size_t cap)
{
	snprintf(why, cap, "built without the NVTX headers (CUDA toolkit)");
	return TG_NVTX_UNAVAILABLE;
}

void tg_nvtx_capture_start(void)
{
}

void tg_nvtx_capture_stop(void)
{
}

int tg_nvtx_capture_export(struct tg_capture *c, uint64_t end_ns, struct tg_error *err)
{
	(void)end_ns;
	(void)err;
	return tg_capture_set_meta(c, "nvtx", "built without the NVTX headers");
}

void tg_nvtx_capture_reset(void)
{
}

#endif
