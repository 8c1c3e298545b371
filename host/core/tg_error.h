/* Status codes and error records shared by every module.
 *
 * Functions return 0 or a negative enum tg_status. An optional
 * struct tg_error carries the details: the code, a vendor sub-code (errno,
 * cudaError_t, CUptiResult), the file:line that raised it and a message of
 * the form "area: 'object': failed to X: cause". Nothing here aborts.
 */
#ifndef TG_ERROR_H
#define TG_ERROR_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

enum tg_status {
	TG_OK = 0,
	TG_E_INVAL = -1,       /* bad argument or bad input data */
	TG_E_NOMEM = -2,       /* allocation failed */
	TG_E_IO = -3,          /* file or stream error */
	TG_E_PARSE = -4,       /* malformed text (CSV, JSON, numbers) */
	TG_E_RANGE = -5,       /* value outside its allowed range */
	TG_E_UNSUPPORTED = -6, /* feature not built in or not available */
	TG_E_DEVICE = -7,      /* GPU, driver or CUDA runtime error */
	TG_E_INTERRUPTED = -8, /* stopped by a signal (SIGINT) */
	TG_E_MISMATCH = -9,    /* results disagree (conformance, backends) */
	TG_E_INTERNAL = -10,   /* a bug: an invariant did not hold */
	TG_E_TIMEOUT = -11,    /* waited too long (for another rank) */
};

#define TG_ERROR_MSG_MAX 768

struct tg_error {
	int code;        /* enum tg_status, 0 when clear */
	int sub;         /* vendor sub-code, 0 when none */
	const char *file;
	int line;
	char msg[TG_ERROR_MSG_MAX];
};

/* "TG_E_INVAL" */
const char *tg_status_name(int code);
/* "invalid input" */
const char *tg_strerror(int code);

void tg_error_clear(struct tg_error *err);

/* Records an error (err may be NULL) and returns code, so callers can write
 * `return tg_error_set(...)`. */
int tg_error_set(struct tg_error *err, int code, int sub, const char *file, int line,
		 const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* Prepends context to an existing message: "loading data: " + old message. */
void tg_error_prefix(struct tg_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define TG_ERR(err, code, ...) tg_error_set((err), (code), 0, __FILE__, __LINE__, __VA_ARGS__)
#define TG_ERR_SUB(err, code, sub, ...) \
	tg_error_set((err), (code), (sub), __FILE__, __LINE__, __VA_ARGS__)

/* Return the error from the enclosing function when cond holds. */
#define TG_FAIL_IF(cond, err, code, ...)                  \
	do {                                              \
		if (cond)                                 \
			return TG_ERR(err, code, __VA_ARGS__); \
	} while (0)

/* Propagate a negative status from expr. */
#define TG_TRY(expr)                          \
	do {                                  \
		int tg_try_rc_ = (expr);      \
		if (tg_try_rc_ < 0)           \
			return tg_try_rc_;    \
	} while (0)

/* Propagate into rc and jump to a cleanup label. */
#define TG_TRY_GOTO(rc, expr, label)  \
	do {                          \
		(rc) = (expr);        \
		if ((rc) < 0)         \
			goto label;   \
	} while (0)

#ifdef __cplusplus
}
#endif

#endif
