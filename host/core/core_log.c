#include "tg_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static enum tg_log_level log_level = TG_LOG_WARN;
static tg_log_fn log_fn;
static void *log_ctx;
static const char *log_program = "trendgpu-bench";

static const char *const level_names[] = {"error", "warn", "info", "debug"};

static void stderr_handler(enum tg_log_level level, const char *msg, void *ctx)
{
	(void)ctx;
	static const char *const labels[] = {"error", "warning", "info", "debug"};
	fprintf(stderr, "%s: %s: %s\n", log_program, labels[level], msg);
}

void tg_log_set_level(enum tg_log_level level)
{
	log_level = level;
}

enum tg_log_level tg_log_get_level(void)
{
	return log_level;
}

int tg_log_level_parse(const char *name, enum tg_log_level *out)
{
	for (int i = 0; i < 4; i++) {
		if (strcmp(name, level_names[i]) == 0) {
			*out = (enum tg_log_level)i;
			return 0;
		}
	}
	if (strcmp(name, "warning") == 0) {
		*out = TG_LOG_WARN;
		return 0;
	}
	return TG_E_INVAL;
}

int tg_log_level_from_env(struct tg_error *err)
{
	const char *v = getenv("TG_LOG_LEVEL");
	if (!v || !*v)
		return 0;
	enum tg_log_level lvl;
	if (tg_log_level_parse(v, &lvl) < 0)
		return TG_ERR(err, TG_E_INVAL,
			      "environment: TG_LOG_LEVEL='%s': expected error, warn, info or debug", v);
	log_level = lvl;
	return 0;
}

void tg_log_set_handler(tg_log_fn fn, void *ctx)
{
	log_fn = fn;
	log_ctx = ctx;
}

void tg_log_set_program(const char *name)
{
	log_program = name;
}

void tg_log(enum tg_log_level level, const char *fmt, ...)
{
	if (level > log_level)
		return;
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (log_fn)
		log_fn(level, buf, log_ctx);
	else
		stderr_handler(level, buf, NULL);
}

void tg_log_error(const struct tg_error *err)
{
	if (!err || err->code == 0)
		return;
	tg_log(TG_LOG_ERROR, "%s", err->msg[0] ? err->msg : tg_strerror(err->code));
	if (err->file)
		tg_log(TG_LOG_DEBUG, "raised at %s:%d (%s, sub-code %d)", err->file, err->line,
		       tg_status_name(err->code), err->sub);
}
