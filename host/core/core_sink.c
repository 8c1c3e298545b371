#include "tg_sink.h"
#include "tg_mem.h"
#include "tg_str.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum sink_kind { SINK_FILE, SINK_STREAM, SINK_MEMORY };

#define SINK_BUF 65536

struct tg_sink {
	enum sink_kind kind;
	FILE *f;
	char *path;     /* final path (file sinks) or display name */
	char *tmp_path; /* file sinks */
	char *buf;
	size_t len, cap;
	int failed_errno; /* first failure, 0 when none */
};

static struct tg_sink *sink_alloc(enum sink_kind kind, const char *name)
{
	struct tg_sink *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->kind = kind;
	s->path = strdup(name ? name : "(memory)");
	s->cap = SINK_BUF;
	s->buf = malloc(s->cap);
	if (!s->path || !s->buf) {
		free(s->path);
		free(s->buf);
		free(s);
		return NULL;
	}
	return s;
}

struct tg_sink *tg_sink_open_file(const char *path, struct tg_error *err)
{
	struct tg_sink *s = sink_alloc(SINK_FILE, path);
	if (!s) {
		TG_ERR(err, TG_E_NOMEM, "output '%s': out of memory", path);
		return NULL;
	}
	size_t n = strlen(path) + 32;
	s->tmp_path = malloc(n);
	if (!s->tmp_path) {
		tg_sink_abort(s);
		TG_ERR(err, TG_E_NOMEM, "output '%s': out of memory", path);
		return NULL;
	}
	snprintf(s->tmp_path, n, "%s.tmp.%ld", path, (long)getpid());
	s->f = fopen(s->tmp_path, "wb");
	if (!s->f) {
		int e = errno;
		free(s->tmp_path);
		s->tmp_path = NULL;
		tg_sink_abort(s);
		TG_ERR_SUB(err, TG_E_IO, e, "output '%s': failed to create: %s", path, strerror(e));
		return NULL;
	}
	return s;
}

struct tg_sink *tg_sink_open_stream(FILE *f, const char *name)
{
	struct tg_sink *s = sink_alloc(SINK_STREAM, name);
	if (s)
		s->f = f;
	return s;
}

struct tg_sink *tg_sink_open_memory(void)
{
	struct tg_sink *s = sink_alloc(SINK_MEMORY, "(memory)");
	if (s)
		s->buf[0] = '\0';
	return s;
}

static int sink_flush(struct tg_sink *s)
{
	if (s->kind == SINK_MEMORY || s->len == 0)
		return s->failed_errno ? TG_E_IO : 0;
	if (!s->failed_errno && fwrite(s->buf, 1, s->len, s->f) != s->len)
		s->failed_errno = errno ? errno : EIO;
	s->len = 0;
	return s->failed_errno ? TG_E_IO : 0;
}

int tg_sink_write(struct tg_sink *s, const void *data, size_t len)
{
	if (s->kind == SINK_MEMORY) {
		char *nb = tg_grow_block(s->buf, &s->cap, s->len + len + 1, 1, SINK_BUF);
		if (!nb) {
			s->failed_errno = ENOMEM;
			return TG_E_NOMEM;
		}
		s->buf = nb;
		memcpy(s->buf + s->len, data, len);
		s->len += len;
		s->buf[s->len] = '\0';
		return 0;
	}
	if (s->len + len > s->cap) {
		sink_flush(s);
		if (len > s->cap) {
			if (!s->failed_errno && fwrite(data, 1, len, s->f) != len)
				s->failed_errno = errno ? errno : EIO;
			return s->failed_errno ? TG_E_IO : 0;
		}
	}
	memcpy(s->buf + s->len, data, len);
	s->len += len;
	return s->failed_errno ? TG_E_IO : 0;
}

int tg_sink_puts(struct tg_sink *s, const char *str)
{
	return tg_sink_write(s, str, strlen(str));
}

int tg_sink_putc(struct tg_sink *s, char c)
{
	if (s->kind != SINK_MEMORY && s->len < s->cap) {
		s->buf[s->len++] = c;
		return 0;
	}
	return tg_sink_write(s, &c, 1);
}

int tg_sink_printf(struct tg_sink *s, const char *fmt, ...)
{
	char small[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return TG_E_INTERNAL;
	if ((size_t)n < sizeof(small))
		return tg_sink_write(s, small, (size_t)n);
	char *big = malloc((size_t)n + 1);
	if (!big) {
		s->failed_errno = ENOMEM;
		return TG_E_NOMEM;
	}
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	int rc = tg_sink_write(s, big, (size_t)n);
	free(big);
	return rc;
}

int tg_format_double(char *buf, size_t cap, double v)
{
	if (isnan(v))
		return snprintf(buf, cap, "nan");
	if (isinf(v))
		return snprintf(buf, cap, v > 0 ? "inf" : "-inf");
	/* Shortest of %.15g, %.16g, %.17g that reads back exactly. */
	for (int prec = 15; prec <= 17; prec++) {
		int n = snprintf(buf, cap, "%.*g", prec, v);
		if (prec == 17 || strtod(buf, NULL) == v)
			return n;
	}
	return 0;
}

int tg_sink_put_double(struct tg_sink *s, double v, const char *nan_text)
{
	if (isnan(v))
		return tg_sink_puts(s, nan_text);
	char buf[40];
	int n = tg_format_double(buf, sizeof(buf), v);
	return tg_sink_write(s, buf, (size_t)n);
}

int tg_sink_put_wrapped(struct tg_sink *s, const char *text, int indent, int width)
{
	int col = indent;
	const char *p = text;
	while (*p) {
		if (*p == '\n') {
			tg_sink_printf(s, "\n%*s", indent, "");
			col = indent;
			p++;
			continue;
		}
		const char *w = p;
		while (*w && *w != ' ' && *w != '\n')
			w++;
		const int wl = (int)(w - p);
		/* the first word of a line never moves on */
		if (col > indent && col + 1 + wl > width) {
			tg_sink_printf(s, "\n%*s", indent, "");
			col = indent;
		} else if (col > indent) {
			tg_sink_putc(s, ' ');
			col++;
		}
		tg_sink_write(s, p, (size_t)wl);
		col += wl;
		p = w;
		while (*p == ' ')
			p++;
	}
	return tg_sink_putc(s, '\n');
}

int tg_sink_put_xml(struct tg_sink *s, const char *text)
{
	if (!text)
		return 0;
	const unsigned char *t = (const unsigned char *)text;
	size_t left = strlen(text);
	while (left > 0) {
		const unsigned char *run = t;
		while (left > 0 && *t >= 0x20 && *t < 0x80 && !strchr("&<>\"'", *t)) {
			t++;
			left--;
		}
		if (t > run)
			tg_sink_write(s, run, (size_t)(t - run));
		if (left == 0)
			break;
		const char *ent = *t == '&' ? "&amp;" : *t == '<' ? "&lt;" : *t == '>' ? "&gt;"
				: *t == '"' ? "&quot;" : *t == '\'' ? "&apos;" : NULL;
		int n = 1;
		if (ent)
			tg_sink_puts(s, ent);
		else if (*t == '\t')
			tg_sink_putc(s, '\t');
		else if (*t >= 0x80 && (n = tg_utf8_len(t, left)) > 0)
			tg_sink_write(s, t, (size_t)n);
		else if (*t >= 0x80)
			tg_sink_putc(s, '?'), n = 1;
		t += n;
		left -= (size_t)n;
	}
	return s->failed_errno ? TG_E_IO : 0;
}

const char *tg_sink_name(const struct tg_sink *s)
{
	return s->path;
}

const char *tg_sink_memory_data(struct tg_sink *s, size_t *len)
{
	if (len)
		*len = s->kind == SINK_MEMORY ? s->len : 0;
	return s->kind == SINK_MEMORY ? s->buf : NULL;
}

int tg_sink_close(struct tg_sink *s, struct tg_error *err)
{
	if (!s)
		return 0;
	int rc = 0;
	sink_flush(s);
	if (s->kind == SINK_STREAM) {
		if (!s->failed_errno && fflush(s->f) != 0)
			s->failed_errno = errno ? errno : EIO;
	} else if (s->kind == SINK_FILE) {
		if (fclose(s->f) != 0 && !s->failed_errno)
			s->failed_errno = errno ? errno : EIO;
		s->f = NULL;
		if (!s->failed_errno && rename(s->tmp_path, s->path) != 0)
			s->failed_errno = errno ? errno : EIO;
		if (s->failed_errno)
			unlink(s->tmp_path);
	}
	if (s->failed_errno) {
		rc = TG_ERR_SUB(err, s->failed_errno == ENOMEM ? TG_E_NOMEM : TG_E_IO, s->failed_errno,
				"output '%s': failed to write: %s", s->path, strerror(s->failed_errno));
	}
	free(s->tmp_path);
	free(s->path);
	free(s->buf);
	free(s);
	return rc;
}

void tg_sink_abort(struct tg_sink *s)
{
	if (!s)
		return;
	if (s->kind == SINK_FILE && s->f) {
		fclose(s->f);
		unlink(s->tmp_path);
	}
	free(s->tmp_path);
	free(s->path);
	free(s->buf);
	free(s);
}

int tg_sink_write_file(const char *path, tg_sink_writer_fn fn, const void *ctx,
		       struct tg_error *err)
{
	struct tg_sink *s = tg_sink_open_file(path, err);
	if (!s)
		return err && err->code ? err->code : TG_E_IO;
	const int rc = fn(ctx, s, err);
	if (rc < 0) {
		tg_sink_abort(s);
		return rc;
	}
	return tg_sink_close(s, err);
}
