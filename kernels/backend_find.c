/* A backend of the registry (backends.c, or a program's own) by name. */
#include <string.h>

#include "tg_kernels.h"

const struct tg_backend_ops *tg_backend_find(const char *name)
{
	const struct tg_backend_ops *const *all = tg_backends();
	for (int i = 0; all[i]; i++)
		if (strcmp(all[i]->name, name) == 0)
			return all[i];
	return NULL;
}
