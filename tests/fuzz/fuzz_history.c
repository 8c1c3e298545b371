/* The history opener (`history FILE.db`, `run --history`): a file of
 * bytes opened as a history, read back when it is one. */
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "tg_history.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[] = "/tmp/tg_fuzz_history_XXXXXX";
	const int fd = mkstemp(path);
	FUZZ_CHECK(fd >= 0);
	FUZZ_CHECK(write(fd, data, size) == (ssize_t)size);
	close(fd);
	struct tg_history *h = NULL;
	struct tg_error err;
	if (tg_history_open(path, false, &h, &err) == 0) {
		struct tg_history_series *v = NULL;
		int n = 0;
		if (tg_history_load(h, NULL, NULL, 30, &v, &n, &err) == 0)
			tg_history_series_free(v, n);
		char dir[256];
		tg_history_last_good(h, "symbols=20", "host", 0, dir, sizeof(dir), &err);
		tg_history_close(h);
	}
	unlink(path);
	return 0;
}
