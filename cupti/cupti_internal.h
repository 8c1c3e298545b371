/* cupti/ internals: the CUPTI function table, the record walker and
 * converter, clock alignment. Only cupti/ and its tests include this (it
 * needs the CUDA toolkit's CUPTI headers).
 */
#ifndef TG_CUPTI_INTERNAL_H
#define TG_CUPTI_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cupti.h>

#include "tg_capture.h"
#include "tg_clock.h"
#include "tg_cupti.h"
#include "tg_error.h"

/* The layouts this build converts (CUPTI_API_VERSION 130001). A newer
 * CUPTI may emit newer structs: tg_cupti_version_ok() decides. */
_Static_assert(sizeof(CUpti_ActivityKernel10) == 216, "CUpti_ActivityKernel10 layout");
_Static_assert(sizeof(CUpti_ActivityMemcpy6) == 96, "CUpti_ActivityMemcpy6 layout");
_Static_assert(sizeof(CUpti_ActivityMemset4) == 88, "CUpti_ActivityMemset4 layout");
_Static_assert(sizeof(CUpti_ActivityAPI) == 40, "CUpti_ActivityAPI layout");
_Static_assert(sizeof(CUpti_ActivityOverhead3) == 56, "CUpti_ActivityOverhead3 layout");
_Static_assert(sizeof(CUpti_ActivityDevice5) == 184, "CUpti_ActivityDevice5 layout");

/* Every CUPTI entry point we use; filled by dlsym, or by a test's fakes. */
struct tg_cupti_api {
	CUptiResult (*GetVersion)(uint32_t *version);
	CUptiResult (*GetResultString)(CUptiResult result, const char **str);
	CUptiResult (*GetTimestamp)(uint64_t *timestamp);
	CUptiResult (*ActivityEnable)(CUpti_ActivityKind kind);
	CUptiResult (*ActivityDisable)(CUpti_ActivityKind kind);
	CUptiResult (*ActivityRegisterCallbacks)(CUpti_BuffersCallbackRequestFunc requested,
						 CUpti_BuffersCallbackCompleteFunc completed);
	CUptiResult (*ActivityRegisterTimestampCallback)(CUpti_TimestampCallbackFunc fn);
	CUptiResult (*ActivityFlushAll)(uint32_t flag);
	CUptiResult (*ActivityGetNextRecord)(uint8_t *buffer, size_t valid, CUpti_Activity **record);
	CUptiResult (*ActivityGetNumDroppedRecords)(CUcontext ctx, uint32_t stream, size_t *dropped);
	CUptiResult (*Subscribe)(CUpti_SubscriberHandle *sub, CUpti_CallbackFunc fn, void *userdata);
	CUptiResult (*Unsubscribe)(CUpti_SubscriberHandle sub);
	CUptiResult (*EnableCallback)(uint32_t enable, CUpti_SubscriberHandle sub,
				      CUpti_CallbackDomain domain, CUpti_CallbackId cbid);
	CUptiResult (*Finalize)(void);
	char library[256];
	void *handle; /* dlopen handle, NULL for fakes */
};

/* dlopens libcupti (path, else $TG_CUPTI_PATH, the toolkit's lib dir of
 * the build, then the loader's search path) and resolves every entry. */
int tg_cupti_api_load(const char *path, struct tg_cupti_api *api, struct tg_error *err);
void tg_cupti_api_unload(struct tg_cupti_api *api);
/* "CUPTI_ERROR_UNKNOWN (999)" */
const char *tg_cupti_result_text(const struct tg_cupti_api *api, CUptiResult r, char *buf,
				 size_t cap);
/* Whether records of a CUPTI with this cuptiGetVersion() have the layouts
 * this build was compiled for (same major API version). */
bool tg_cupti_version_ok(uint32_t runtime_version);

/* The walker of our own: CUPTI's cuptiActivityGetNextRecord contract
 * (CUPTI_ERROR_MAX_LIMIT_REACHED at the end, CUPTI_ERROR_INVALID_KIND for
 * kind 0) over the record sizes of this build; for machines without
 * libcupti and as a differential oracle in tests. *record is the current
 * record (NULL to start). */
CUptiResult tg_cupti_walk_next(uint8_t *buffer, size_t valid, CUpti_Activity **record);
/* Size of a record of kind, or 0 when this build does not know it. */
size_t tg_cupti_record_size(CUpti_ActivityKind kind);

/* ---- clock alignment ---------------------------------------------------- */


/* ---- record conversion -------------------------------------------------- */

struct tg_cupti_counts {
	uint64_t records, kernels, memcpys, memsets, api_calls, syncs, overheads, devices, skipped;
};

/* API callback ids to names ("cudaLaunchKernel"), generated from the
 * toolkit's cupti_runtime_cbid.h / cupti_driver_cbid.h; NULL when
 * unknown. */
const char *tg_cupti_runtime_cbid_name(uint32_t cbid);
const char *tg_cupti_driver_cbid_name(uint32_t cbid);
/* Whether an API of this name issues GPU work whose records correlate to
 * it (launches, copies, memsets, graph launches). */
bool tg_cupti_api_issues_work(const char *name);

/* Converts one activity record into c (events, devices), timestamps through
 * clk. Returns 1 when converted, 0 when skipped (kind not converted, counted),
 * TG_E_NOMEM. Pure apart from c and counts. */
int tg_cupti_convert(const CUpti_Activity *record, const struct tg_clock_align *clk,
		     struct tg_capture *c, struct tg_cupti_counts *counts);

/* A collector over an explicit function table (tests pass fakes). */
int tg_cupti_new_with_api(const struct tg_cupti_opts *o, const struct tg_cupti_api *api,
			  struct tg_cupti **out, struct tg_error *err);

#endif
