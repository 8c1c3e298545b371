#include "tg_error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const struct {
	int code;
	const char *name;
	const char *text;
} status_table[] = {
	{TG_OK, "TG_OK", "success"},
	{TG_E_INVAL, "TG_E_INVAL", "invalid input"},
	{TG_E_NOMEM, "TG_E_NOMEM", "out of memory"},
	{TG_E_IO, "TG_E_IO", "input/output error"},
	{TG_E_PARSE, "TG_E_PARSE", "parse error"},
	{TG_E_RANGE, "TG_E_RANGE", "value out of range"},
	{TG_E_UNSUPPORTED, "TG_E_UNSUPPORTED", "not supported"},
	{TG_E_DEVICE, "TG_E_DEVICE", "device error"},
	{TG_E_INTERRUPTED, "TG_E_INTERRUPTED", "interrupted"},
	{TG_E_MISMATCH, "TG_E_MISMATCH", "results disagree"},
	{TG_E_INTERNAL, "TG_E_INTERNAL", "internal error"},
	{TG_E_TIMEOUT, "TG_E_TIMEOUT", "timed out"},
};

const char *tg_status_name(int code)
{
	for (size_t i = 0; i < sizeof(status_table) / sizeof(status_table[0]); i++)
		if (status_table[i].code == code)
			return status_table[i].name;
	return "TG_E_UNKNOWN";
}

const char *tg_strerror(int code)
{
	for (size_t i = 0; i < sizeof(status_table) / sizeof(status_table[0]); i++)
		if (status_table[i].code == code)
			return status_table[i].text;
	return "unknown error";
}

void tg_error_clear(struct tg_error *err)
{
	if (!err)
		return;
	err->code = 0;
	err->sub = 0;
	err->file = NULL;
	err->line = 0;
	err->msg[0] = '\0';
}

int tg_error_set(struct tg_error *err, int code, int sub, const char *file, int line,
		 const char *fmt, ...)
{
	if (!err)
		return code;
	err->code = code;
	err->sub = sub;
	err->file = file;
	err->line = line;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return code;
}

void tg_error_prefix(struct tg_error *err, const char *fmt, ...)
{
	if (!err)
		return;
	char joined[TG_ERROR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(joined, sizeof(joined), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	size_t used = (size_t)n < sizeof(joined) ? (size_t)n : sizeof(joined) - 1;
	size_t rest = strlen(err->msg);
	if (rest > sizeof(joined) - 1 - used)
		rest = sizeof(joined) - 1 - used;
	memcpy(joined + used, err->msg, rest);
	joined[used + rest] = '\0';
	memcpy(err->msg, joined, sizeof(err->msg));
}
