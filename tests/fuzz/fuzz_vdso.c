/* The vDSO image a run directory keeps (vdso.so): read to name vDSO code
 * when a capture is rendered, maybe on another machine, so untrusted. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "tg_symbolize.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char maps[] = "7ffd10000000-7ffd10002000 r-xp 00000000 00:00 0 [vdso]\n";
	struct tg_symbolizer *s = NULL;
	struct tg_error err;
	FUZZ_CHECK(tg_symbolizer_new(maps, &s, &err) == 0);
	/* the image copied: a reader must not rely on its alignment */
	uint8_t *copy = malloc(size + 1);
	FUZZ_CHECK(copy);
	if (size)
		memcpy(copy + 1, data, size);
	if (tg_symbolizer_load_vdso(s, copy + 1, size, &err) == 0) {
		for (uint64_t a = 0x7ffd10000000ull; a < 0x7ffd10002000ull; a += 0x101) {
			struct tg_symbol sym;
			tg_symbolize(s, a, false, &sym);
			FUZZ_CHECK(sym.function != NULL);
		}
	}
	free(copy);
	tg_symbolizer_free(s);
	return 0;
}
