/* The CSV loader (`run --data`, `atc`): a price file as one symbol. */
#include <math.h>

#include "fuzz.h"
#include "tg_data.h"
#include "tg_log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	tg_log_set_level(TG_LOG_ERROR + 1);
	for (int allow_nan = 0; allow_nan < 2; allow_nan++) {
		struct tg_load_opts o = {.allow_nan = allow_nan != 0, .min_bars = allow_nan ? 0 : 3,
					 .min_bars_reason = "the test"};
		struct tg_dataset ds;
		struct tg_error err;
		if (tg_data_parse_csv((const char *)data, size, "fuzz.csv", &o, &ds, &err) < 0)
			continue;
		FUZZ_CHECK(ds.n_symbols == 1 && ds.stride >= 1 && ds.n_bars[0] == ds.stride);
		for (int32_t i = 0; i < ds.stride; i++)
			FUZZ_CHECK(allow_nan ? !(ds.close[i] <= 0) && !isinf(ds.close[i])
					     : ds.close[i] > 0 && isfinite(ds.close[i]));
		tg_data_free(&ds);
	}
	return 0;
}
