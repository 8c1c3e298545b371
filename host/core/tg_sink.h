/* Byte sinks that every writer renders into: a file written atomically
 * (temporary name, renamed on commit), a borrowed stream such as stdout, or
 * a growable memory buffer for tests.
 *
 * Writes are buffered; the first failure is latched and reported by
 * tg_sink_close(), so writers can stream without checking every call.
 */
#ifndef TG_SINK_H
#define TG_SINK_H

#include <stdio.h>
#include <stddef.h>

#include "tg_error.h"

#ifdef __cplusplus
extern "C" {
#endif

struct tg_sink;

/* Output goes to "<path>.tmp.<pid>" and replaces path only on a successful
 * tg_sink_close(); tg_sink_abort() leaves an existing path untouched. */
struct tg_sink *tg_sink_open_file(const char *path, struct tg_error *err);
/* Borrows f (not closed); name is used in error messages. */
struct tg_sink *tg_sink_open_stream(FILE *f, const char *name);
struct tg_sink *tg_sink_open_memory(void);

int tg_sink_write(struct tg_sink *s, const void *data, size_t len);
int tg_sink_puts(struct tg_sink *s, const char *str);
int tg_sink_putc(struct tg_sink *s, char c);
int tg_sink_printf(struct tg_sink *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Shortest decimal text that reads back as the same double (%.17g at most);
 * NaN is written as nan_text. */
int tg_sink_put_double(struct tg_sink *s, double v, const char *nan_text);

/* Text for XML and HTML: & < > " ' as entities, control characters but
 * tab dropped, bytes that are not UTF-8 replaced by '?' (a frame name, a
 * command line can be anything). NULL writes nothing. */
int tg_sink_put_xml(struct tg_sink *s, const char *text);

/* text word-wrapped to lines of at most width columns (a longer word
 * stands alone): it starts at column indent (what is before it on the
 * line is the caller's), every further line, and one after a '\n' in
 * text, is indented to it; then a newline. */
int tg_sink_put_wrapped(struct tg_sink *s, const char *text, int indent, int width);

const char *tg_sink_name(const struct tg_sink *s);
/* Memory sinks: the bytes written so far, NUL-terminated. */
const char *tg_sink_memory_data(struct tg_sink *s, size_t *len);

/* Flushes, commits (file: rename into place) and frees. Returns the first
 * error seen during writing or committing. */
int tg_sink_close(struct tg_sink *s, struct tg_error *err);
/* Discards the output (file: removes the temporary) and frees. NULL is ok. */
void tg_sink_abort(struct tg_sink *s);

/* A file written whole or not at all: path opened, fn writes it, closed
 * (committed) when fn succeeds, aborted (the old file kept) when it
 * fails. Returns fn's or the commit's status. */
typedef int (*tg_sink_writer_fn)(const void *ctx, struct tg_sink *s, struct tg_error *err);
int tg_sink_write_file(const char *path, tg_sink_writer_fn fn, const void *ctx,
		       struct tg_error *err);

/* Formats v like tg_sink_put_double into buf (at least 32 bytes); returns
 * the length. */
int tg_format_double(char *buf, size_t cap, double v);

#ifdef __cplusplus
}
#endif

#endif
