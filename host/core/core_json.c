#include "tg_json.h"

#include "tg_str.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

void tg_json_init(struct tg_json *j, struct tg_sink *sink, bool pretty)
{
	memset(j, 0, sizeof(*j));
	j->sink = sink;
	j->pretty = pretty;
	j->first[0] = true;
}

static void newline_indent(struct tg_json *j)
{
	if (!j->pretty)
		return;
	tg_sink_putc(j->sink, '\n');
	for (int i = 0; i < j->depth; i++)
		tg_sink_write(j->sink, "  ", 2);
}

/* Separator before a value (array element, top level) or a key. */
static void before_item(struct tg_json *j, bool is_key)
{
	if (j->want_value) {
		if (is_key)
			j->misuse = true;
		j->want_value = false;
		return;
	}
	if (j->depth > 0 && j->kind[j->depth - 1] == '{' && !is_key)
		j->misuse = true; /* value without a key inside an object */
	if (j->depth == 0) {
		if (!j->first[0])
			j->misuse = true; /* two top-level values */
		j->first[0] = false;
		return;
	}
	if (!j->first[j->depth])
		tg_sink_putc(j->sink, ',');
	j->first[j->depth] = false;
	newline_indent(j);
}

static void open_level(struct tg_json *j, char kind)
{
	before_item(j, false);
	if (j->depth + 1 >= TG_JSON_MAX_DEPTH) {
		j->misuse = true;
		return;
	}
	tg_sink_putc(j->sink, kind);
	j->kind[j->depth] = kind;
	j->depth++;
	j->first[j->depth] = true;
}

static void close_level(struct tg_json *j, char kind)
{
	if (j->depth == 0 || j->kind[j->depth - 1] != kind || j->want_value) {
		j->misuse = true;
		return;
	}
	bool empty = j->first[j->depth];
	j->depth--;
	if (!empty)
		newline_indent(j);
	tg_sink_putc(j->sink, kind == '{' ? '}' : ']');
}

void tg_json_begin_object(struct tg_json *j)
{
	open_level(j, '{');
}

void tg_json_end_object(struct tg_json *j)
{
	close_level(j, '{');
}

void tg_json_begin_array(struct tg_json *j)
{
	open_level(j, '[');
}

void tg_json_end_array(struct tg_json *j)
{
	close_level(j, '[');
}

size_t tg_json_escape_buf(char *out, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s, *end = p + len;
	char *o = out;
	while (p < end) {
		const unsigned char c = *p;
		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
			*o++ = (char)*p++;
			continue;
		}
		const char *rep = c == '"' ? "\\\"" : c == '\\' ? "\\\\" : c == '\n' ? "\\n"
				: c == '\r' ? "\\r" : c == '\t' ? "\\t" : NULL;
		if (rep) {
			*o++ = rep[0];
			*o++ = rep[1];
			p++;
		} else if (c < 0x20 || c == 0x7f) {
			memcpy(o, "\\u00", 4);
			o[4] = hex[c >> 4];
			o[5] = hex[c & 15];
			o += 6;
			p++;
		} else {
			const int n = tg_utf8_len(p, (size_t)(end - p));
			if (n == 0) {
				*o++ = '?';
				p++;
			} else {
				memcpy(o, p, (size_t)n);
				o += n;
				p += n;
			}
		}
	}
	return (size_t)(o - out);
}

void tg_json_escape(struct tg_sink *sink, const char *s, size_t len)
{
	char buf[6 * 512];
	while (len > 0) {
		/* chunks end between UTF-8 sequences (a longer run of continuation
		 * bytes is not UTF-8: '?' on either side) */
		size_t n = len < 512 ? len : 512;
		for (int k = 0; k < 3 && n < len && ((unsigned char)s[n] & 0xc0) == 0x80; k++)
			n--;
		tg_sink_write(sink, buf, tg_json_escape_buf(buf, s, n));
		s += n;
		len -= n;
	}
}

void tg_json_key(struct tg_json *j, const char *key)
{
	before_item(j, true);
	if (j->depth == 0 || j->kind[j->depth - 1] != '{')
		j->misuse = true;
	tg_sink_putc(j->sink, '"');
	tg_json_escape(j->sink, key, strlen(key));
	tg_sink_write(j->sink, j->pretty ? "\": " : "\":", j->pretty ? 3 : 2);
	j->want_value = true;
}

void tg_json_string_n(struct tg_json *j, const char *s, size_t len)
{
	before_item(j, false);
	tg_sink_putc(j->sink, '"');
	tg_json_escape(j->sink, s, len);
	tg_sink_putc(j->sink, '"');
}

void tg_json_string(struct tg_json *j, const char *s)
{
	if (!s) {
		tg_json_null(j);
		return;
	}
	tg_json_string_n(j, s, strlen(s));
}

void tg_json_int(struct tg_json *j, int64_t v)
{
	before_item(j, false);
	tg_sink_printf(j->sink, "%" PRId64, v);
}

void tg_json_uint(struct tg_json *j, uint64_t v)
{
	before_item(j, false);
	tg_sink_printf(j->sink, "%" PRIu64, v);
}

void tg_json_double(struct tg_json *j, double v)
{
	if (!isfinite(v)) {
		tg_json_null(j);
		return;
	}
	before_item(j, false);
	char buf[40];
	int n = tg_format_double(buf, sizeof(buf), v);
	tg_sink_write(j->sink, buf, (size_t)n);
}

void tg_json_bool(struct tg_json *j, bool v)
{
	before_item(j, false);
	tg_sink_puts(j->sink, v ? "true" : "false");
}

void tg_json_null(struct tg_json *j)
{
	before_item(j, false);
	tg_sink_puts(j->sink, "null");
}

void tg_json_kv_string(struct tg_json *j, const char *key, const char *v)
{
	tg_json_key(j, key);
	tg_json_string(j, v);
}

void tg_json_kv_int(struct tg_json *j, const char *key, int64_t v)
{
	tg_json_key(j, key);
	tg_json_int(j, v);
}

void tg_json_kv_uint(struct tg_json *j, const char *key, uint64_t v)
{
	tg_json_key(j, key);
	tg_json_uint(j, v);
}

void tg_json_kv_double(struct tg_json *j, const char *key, double v)
{
	tg_json_key(j, key);
	tg_json_double(j, v);
}

void tg_json_kv_bool(struct tg_json *j, const char *key, bool v)
{
	tg_json_key(j, key);
	tg_json_bool(j, v);
}

int tg_json_finish(struct tg_json *j, struct tg_error *err)
{
	if (j->misuse || j->depth != 0 || j->want_value || j->first[0])
		return TG_ERR(err, TG_E_INTERNAL,
			      "json writer: '%s': document is unbalanced or malformed (depth %d)",
			      tg_sink_name(j->sink), j->depth);
	if (j->pretty)
		tg_sink_putc(j->sink, '\n');
	return 0;
}

void tg_json_kv_interval(struct tg_json *j, const char *key, double lo, double hi)
{
	tg_json_key(j, key);
	tg_json_begin_array(j);
	tg_json_double(j, lo);
	tg_json_double(j, hi);
	tg_json_end_array(j);
}
