/* trendgpu-bench-emul's registry of backends: the build's CPU backends and
 * the CUDA backend on the emulated device (tests/emul), under the name
 * "cuda", so that every command that drives a GPU (run --backends cuda,
 * atc --backend cuda, scripts/gpu-kit.sh --dry-run) runs on a machine
 * without one. It replaces kernels/backends.c at link time. */
#include "tg_config.h"
#include "tg_kernels.h"

extern const struct tg_backend_ops tg_backend_cuda_emul;

static const struct tg_backend_ops *const emul_backends[] = {
	&tg_backend_cpu,
#if TG_HAVE_RUST
	&tg_backend_rust,
#endif
	&tg_backend_cuda_emul,
	NULL,
};

const struct tg_backend_ops *const *tg_backends(void)
{
	return emul_backends;
}
