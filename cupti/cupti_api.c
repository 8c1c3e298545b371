/* libcupti loaded at run time: the binary starts without it, and a machine
 * without CUPTI gets a reason instead of a loader error. */
#include "cupti_internal.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tg_str.h"

#ifndef TG_CUPTI_TOOLKIT_LIB
#define TG_CUPTI_TOOLKIT_LIB ""
#endif

struct entry {
	const char *name;
	size_t offset;
	bool optional;
};

#define E(field, opt) {"cupti" #field, offsetof(struct tg_cupti_api, field), opt}

static const struct entry entries[] = {
	E(GetVersion, false),
	E(GetResultString, true),
	E(GetTimestamp, false),
	E(ActivityEnable, false),
	E(ActivityDisable, false),
	E(ActivityRegisterCallbacks, false),
	E(ActivityRegisterTimestampCallback, true),
	E(ActivityFlushAll, false),
	E(ActivityGetNextRecord, false),
	E(ActivityGetNumDroppedRecords, true),
	E(Subscribe, true),
	E(Unsubscribe, true),
	E(EnableCallback, true),
	E(Finalize, true),
};

static int resolve(void *h, const char *path, struct tg_cupti_api *api, struct tg_error *err)
{
	for (size_t i = 0; i < sizeof(entries) / sizeof(entries[0]); i++) {
		void *fn = dlsym(h, entries[i].name);
		if (!fn && !entries[i].optional)
			return TG_ERR(err, TG_E_UNSUPPORTED, "CUPTI: '%s' has no %s: not a usable libcupti",
				      path, entries[i].name);
		memcpy((char *)api + entries[i].offset, &fn, sizeof(fn));
	}
	return 0;
}

int tg_cupti_api_load(const char *path, struct tg_cupti_api *api, struct tg_error *err)
{
	memset(api, 0, sizeof(*api));
	const char *env = getenv("TG_CUPTI_PATH");
	const char *candidates[] = {path, env && *env ? env : NULL, TG_CUPTI_TOOLKIT_LIB,
				    "libcupti.so.13", "libcupti.so"};
	char tried[TG_ERROR_MSG_MAX / 2] = "";
	size_t used = 0;
	for (size_t i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++) {
		const char *c = candidates[i];
		if (!c || !*c)
			continue;
		/* never unloaded: CUPTI keeps callbacks in the driver and state of
		 * its own for the life of the process */
		void *h = dlopen(c, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
		if (!h) {
			const char *why = dlerror();
			used += (size_t)snprintf(tried + used, used < sizeof(tried) ? sizeof(tried) - used : 0,
						 "%s%s", used ? "; " : "", why ? why : c);
			if (used >= sizeof(tried))
				used = sizeof(tried) - 1;
			if (path && c == path)
				break; /* an explicit path is not second-guessed */
			continue;
		}
		int rc = resolve(h, c, api, err);
		if (rc < 0) {
			dlclose(h);
			return rc;
		}
		api->handle = h;
		tg_strlcpy(api->library, c, sizeof(api->library));
		return 0;
	}
	return TG_ERR(err, TG_E_UNSUPPORTED, "CUPTI: cannot load libcupti (%s); set TG_CUPTI_PATH",
		      tried);
}

void tg_cupti_api_unload(struct tg_cupti_api *api)
{
	if (api->handle)
		dlclose(api->handle); /* drops our reference; RTLD_NODELETE keeps it mapped */
	api->handle = NULL;
}

const char *tg_cupti_result_text(const struct tg_cupti_api *api, CUptiResult r, char *buf,
				 size_t cap)
{
	const char *s = NULL;
	if (api->GetResultString && api->GetResultString(r, &s) != CUPTI_SUCCESS)
		s = NULL;
	snprintf(buf, cap, "%s (%d)", s ? s : "CUPTI error", (int)r);
	return buf;
}

bool tg_cupti_version_ok(uint32_t v)
{
	return v / 10000 == CUPTI_API_VERSION / 10000;
}
