/* Streaming JSON emitter over a tg_sink.
 *
 * Keeps a nesting stack, inserts commas and (optionally) indentation,
 * escapes strings, writes non-finite doubles as null and 64-bit integers
 * exactly. Misuse (a value where a key is due, unbalanced ends) is latched
 * and reported by tg_json_finish().
 */
#ifndef TG_JSON_H
#define TG_JSON_H

#include <stdbool.h>
#include <stdint.h>

#include "tg_sink.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TG_JSON_MAX_DEPTH 32

struct tg_json {
	struct tg_sink *sink;
	int depth;
	bool pretty;
	bool misuse;
	bool want_value;                   /* a key was written, its value is due */
	bool first[TG_JSON_MAX_DEPTH];     /* nothing written yet at this level */
	char kind[TG_JSON_MAX_DEPTH];      /* '{' or '[' */
};

void tg_json_init(struct tg_json *j, struct tg_sink *sink, bool pretty);

void tg_json_begin_object(struct tg_json *j);
void tg_json_end_object(struct tg_json *j);
void tg_json_begin_array(struct tg_json *j);
void tg_json_end_array(struct tg_json *j);

void tg_json_key(struct tg_json *j, const char *key);
void tg_json_string(struct tg_json *j, const char *s);
/* Writes len bytes of s as a JSON string (embedded NULs escaped). */
void tg_json_string_n(struct tg_json *j, const char *s, size_t len);
void tg_json_int(struct tg_json *j, int64_t v);
void tg_json_uint(struct tg_json *j, uint64_t v);
/* Non-finite values become null. */
void tg_json_double(struct tg_json *j, double v);
void tg_json_bool(struct tg_json *j, bool v);
void tg_json_null(struct tg_json *j);

/* key + value shorthands */
void tg_json_kv_string(struct tg_json *j, const char *key, const char *v);
void tg_json_kv_int(struct tg_json *j, const char *key, int64_t v);
void tg_json_kv_uint(struct tg_json *j, const char *key, uint64_t v);
void tg_json_kv_double(struct tg_json *j, const char *key, double v);
void tg_json_kv_bool(struct tg_json *j, const char *key, bool v);
/* key: [lo, hi] (an interval) */
void tg_json_kv_interval(struct tg_json *j, const char *key, double lo, double hi);

/* The body of a JSON string (no quotes) for s: '"' and '\\' escaped,
 * control characters as \n, \r, \t or \u00XX, bytes that are not UTF-8
 * replaced by '?' (so any bytes give valid JSON). Into out, which holds at
 * least 6 * len bytes (returns the bytes written), or to a sink. */
size_t tg_json_escape_buf(char *out, const char *s, size_t len);
void tg_json_escape(struct tg_sink *sink, const char *s, size_t len);

/* 0 when the document is complete and balanced, TG_E_INTERNAL otherwise. */
int tg_json_finish(struct tg_json *j, struct tg_error *err);

#ifdef __cplusplus
}
#endif

#endif
