/* The registry of backends compiled into this build. */
#include <string.h>

#include "tg_config.h"
#include "tg_kernels.h"

static const struct tg_backend_ops *const all_backends[] = {
	&tg_backend_cpu,
#if TG_HAVE_RUST
	&tg_backend_rust,
#endif
#if TG_HAVE_CUDA
	&tg_backend_cuda,
#endif
	NULL,
};

const struct tg_backend_ops *const *tg_backends(void)
{
	return all_backends;
}

const struct tg_backend_ops *tg_backend_find(const char *name)
{
	for (int i = 0; all_backends[i]; i++)
		if (strcmp(all_backends[i]->name, name) == 0)
			return all_backends[i];
	return NULL;
}
