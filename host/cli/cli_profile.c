/* The profiling options `run` and `record` share, and the lines that point
 * at a profile's outputs. The session itself is host/run's. */
#include <stdio.h>
#include <string.h>

#include "cli_internal.h"
#include "tg_report.h"
#include "tg_run.h"
#include "tg_sampler.h"
#include "tg_str.h"

int tg_cli_profile_options(struct tg_profile_opts *p, const char *mode_help, struct tg_opt *opts,
			   int cap)
{
	const struct tg_opt all[] = {
		{"profile", TG_OPT_CHOICE, &p->mode, NULL, mode_help, 0, 0, tg_profile_mode_names},
		{"sample-hz", TG_OPT_INT, &p->hz, "N",
		 "samples per second per thread (default " TG_STRINGIFY(TG_SAMPLER_DEFAULT_HZ) ")", 1,
		 TG_SAMPLER_MAX_HZ, NULL},
		{"sample-clock", TG_OPT_CHOICE, &p->clock, NULL,
		 "wall (default: CLOCK_MONOTONIC timers, waiting threads skipped) or cpu (thread "
		 "CPU time; the kernel tick limits the rate)",
		 0, 0, tg_sample_clock_names},
		{"unwind", TG_OPT_CHOICE, &p->unwind, NULL,
		 "auto = hybrid (default: frame pointers, the caller of a frameless leaf repaired "
		 "from a verified return address, libunwind where the chain breaks; ~1 us per "
		 "sample), fp (the frame-pointer chain alone) or libunwind (DWARF for every "
		 "sample: complete through libraries without frame pointers, 10-40 us per sample)",
		 0, 0, tg_unwind_names},
		{"include-idle", TG_OPT_FLAG, &p->include_idle, NULL,
		 "keep wall-clock samples of threads that were waiting", 0, 0, NULL},
		{"sample-ring", TG_OPT_INT, &p->ring_kb, "KB",
		 "each sampled thread's ring of stacks, in KiB (default 1024); raise it when the "
		 "profile reports dropped samples",
		 16, TG_PROFILE_MAX_RING_KB, NULL},
		{"trace-driver-api", TG_OPT_FLAG, &p->driver_api, NULL,
		 "gpu modes: also trace CUDA driver API calls (nested under the runtime calls)", 0,
		 0, NULL},
	};
	int n = (int)(sizeof(all) / sizeof(all[0]));
	if (n > cap)
		n = cap;
	memcpy(opts, all, (size_t)n * sizeof(all[0]));
	return n;
}

void tg_cli_print_profile_paths(const char *dir, const struct tg_profile_info *p)
{
	static const struct {
		const char *file, *what;
	} main_files[] = {
		{"trace.json", "timeline (ui.perfetto.dev, chrome://tracing)"},
		{"cpu.svg", "CPU flame graph"},
		{"gpu.svg", "GPU time by launching CPU stack"},
		{"combined.svg", "CPU and GPU per backend"},
		{"top.txt", "top functions"},
	};
	for (size_t i = 0; i < sizeof(main_files) / sizeof(main_files[0]); i++) {
		const char *hit = strstr(p->files, main_files[i].file);
		size_t len = strlen(main_files[i].file);
		if (hit && (hit == p->files || hit[-1] == ',') && (hit[len] == ',' || hit[len] == '\0'))
			printf("profile: %s/%s (%s)\n", dir, main_files[i].file, main_files[i].what);
	}
	char why[320];
	if (tg_report_combined_missing(p, why, sizeof(why)))
		printf("profile: combined.svg not written: %s\n", why);
}
