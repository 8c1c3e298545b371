/* The registry of backends compiled into this build. The list alone is in
 * this file so that a program can bring its own (tests/emul's
 * trendgpu-bench-emul registers the emulated device as its cuda backend);
 * the lookup by name is backend_find.c. */
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
