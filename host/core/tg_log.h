/* Leveled logging to a replaceable handler (stderr by default).
 *
 * The level comes from tg_log_set_level() or the TG_LOG_LEVEL environment
 * variable (error, warn, info, debug). Messages never carry a trailing
 * newline; the handler adds it.
 */
#ifndef TG_LOG_H
#define TG_LOG_H

#include "tg_error.h"

#ifdef __cplusplus
extern "C" {
#endif

enum tg_log_level {
	TG_LOG_ERROR = 0,
	TG_LOG_WARN = 1,
	TG_LOG_INFO = 2,
	TG_LOG_DEBUG = 3,
};

typedef void (*tg_log_fn)(enum tg_log_level level, const char *msg, void *ctx);

void tg_log_set_level(enum tg_log_level level);
enum tg_log_level tg_log_get_level(void);
/* Applies TG_LOG_LEVEL if set; returns 0, or TG_E_INVAL for an unknown name. */
int tg_log_level_from_env(struct tg_error *err);
/* Parses "error" / "warn" / "info" / "debug". */
int tg_log_level_parse(const char *name, enum tg_log_level *out);
/* Replaces the handler; NULL restores the stderr handler. */
void tg_log_set_handler(tg_log_fn fn, void *ctx);
/* Prefix of the default handler ("trendgpu-bench"). */
void tg_log_set_program(const char *name);

void tg_log(enum tg_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Logs err->msg at error level, with file:line at debug level. */
void tg_log_error(const struct tg_error *err);

#define tg_warn(...) tg_log(TG_LOG_WARN, __VA_ARGS__)
#define tg_info(...) tg_log(TG_LOG_INFO, __VA_ARGS__)
#define tg_debug(...) tg_log(TG_LOG_DEBUG, __VA_ARGS__)

#ifdef __cplusplus
}
#endif

#endif
