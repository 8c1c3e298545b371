/* `info`: build features, runtime probes and the machine. */
#include <string.h>

#include "cli_internal.h"
#include "tg_cupti.h"
#include "tg_nvtx.h"
#include "tg_sampler.h"
#include "tg_topo.h"
#include "tg_json.h"
#include "tg_machine.h"

int tg_cmd_info(int argc, char **argv)
{
	int32_t json = 0;
	const struct tg_opt opts[] = {
		{"json", TG_OPT_FLAG, &json, NULL, "print the same facts as JSON", 0, 0, NULL},
	};
	const struct tg_opt_group groups[] = {{"Options", opts, 1}};
	const struct tg_cli_spec spec = {
		.command = "info",
		.usage = "info [--json]",
		.description = "Shows what this binary was built with (optional features and why "
			       "any is off), which backends can run here and why not, and the "
			       "machine: CPU, memory, operating system.",
		.groups = groups,
		.n_groups = 1,
		.epilog = NULL,
	};
	struct tg_error err;
	tg_error_clear(&err);
	const char *pos[1];
	int n_pos;
	int rc = tg_cli_parse_command(&spec, argc, argv, pos, 0, &n_pos);
	if (rc != TG_CLI_CONTINUE)
		return rc;

	struct tg_machine m;
	tg_machine_probe(&m);
	tg_topo_probe(&m.topo, NULL);
	/* runtime probes of the profilers */
	char nvtx[256], cupti[384];
	tg_nvtx_init();
	tg_nvtx_capture_state(nvtx, sizeof(nvtx));
	struct tg_cupti *c = NULL;
	struct tg_cupti_opts co = {0};
	struct tg_error cerr;
	tg_error_clear(&cerr);
	if (tg_cupti_new(&co, &c, &cerr) == 0) {
		struct tg_cupti_stats st;
		tg_cupti_get_stats(c, &st);
		snprintf(cupti, sizeof(cupti), "CUPTI API %u loaded from %s (tracing needs a GPU: run "
			 "--profile gpu says whether it can)", st.version, st.library);
		tg_cupti_free(c);
	} else {
		snprintf(cupti, sizeof(cupti), "%s", cerr.msg);
	}
	char unwind[256];
	snprintf(unwind, sizeof(unwind), "%s; %s", tg_sampler_arch(),
		 tg_sampler_has_libunwind() ? "libunwind where the chain breaks, or for every "
					      "sample (--unwind libunwind)"
					    : "built without libunwind");
	const struct tg_build_info *b = tg_build_info();
	const struct tg_backend_ops *const *all = tg_backends();

	if (json) {
		struct tg_sink *s = tg_sink_open_stream(stdout, "<stdout>");
		if (!s)
			return TG_EXIT_FAILURE;
		struct tg_json j;
		tg_json_init(&j, s, true);
		tg_json_begin_object(&j);
		tg_json_key(&j, "build");
		tg_build_write_json(&j, b);
		tg_json_key(&j, "machine");
		tg_machine_write_json(&j, &m);
		tg_json_key(&j, "backends");
		tg_json_begin_array(&j);
		for (int i = 0; all[i]; i++) {
			char why[256];
			int ok = all[i]->probe(why, sizeof(why)) == 0;
			tg_json_begin_object(&j);
			tg_json_kv_string(&j, "name", all[i]->name);
			tg_json_kv_string(&j, "description", all[i]->description);
			tg_json_kv_bool(&j, "available", ok);
			if (!ok)
				tg_json_kv_string(&j, "reason", why);
			if (ok && all[i]->isa)
				tg_json_kv_string(&j, "isa", all[i]->isa());
			char dev[256];
			if (ok && all[i]->describe && all[i]->describe(dev, sizeof(dev)) == 0)
				tg_json_kv_string(&j, "device", dev);
			tg_json_end_object(&j);
		}
		tg_json_end_array(&j);
		tg_json_key(&j, "profiling");
		tg_json_begin_object(&j);
		tg_json_kv_string(&j, "nvtx", nvtx);
		tg_json_kv_string(&j, "cupti", cupti);
		tg_json_kv_string(&j, "unwinding", unwind);
		tg_json_end_object(&j);
		tg_json_end_object(&j);
		rc = tg_json_finish(&j, &err);
		rc |= tg_sink_close(s, &err);
		return rc < 0 ? TG_EXIT_FAILURE : TG_EXIT_OK;
	}

	printf("trendgpu-bench %s (commit %s, %s build, %s)\n", b->version, b->git_commit,
	       b->build_type, b->c_compiler);
	if (b->sanitizers[0])
		printf("sanitizers: %s\n", b->sanitizers);
	printf("\nfeatures:\n");
	for (int i = 0; i < b->n_features; i++)
		printf("  %-6s %-4s %s\n", b->features[i].name, b->features[i].built ? "yes" : "no",
		       b->features[i].detail);
	printf("\nbackends:\n");
	for (int i = 0; all[i]; i++) {
		char why[256];
		int ok = all[i]->probe(why, sizeof(why)) == 0;
		printf("  %-6s %-11s %s\n", all[i]->name, ok ? "available" : "unavailable",
		       ok ? all[i]->description : why);
		char dev[256];
		if (ok && all[i]->describe && all[i]->describe(dev, sizeof(dev)) == 0)
			printf("  %-6s %-11s %s\n", "", "", dev);
		if (ok && all[i]->isa)
			printf("  %-6s %-11s instruction set: %s\n", "", "", all[i]->isa());
	}
	printf("\nprofiling:\n");
	printf("  nvtx      %s\n", nvtx);
	printf("  cupti     %s\n", cupti);
	printf("  sampler   %s\n", unwind);
	printf("\nmachine:\n");
	printf("  cpu     %s, %d logical CPUs (%d allowed)\n", m.cpu_model, m.logical_cpus,
	       m.allowed_cpus);
	printf("  memory  %.1f GiB\n", (double)m.memory_bytes / (1024.0 * 1024.0 * 1024.0));
	printf("  os      %s, %s %s\n", m.os, m.kernel, m.arch);
	printf("  host    %s\n", m.hostname);
	char topo[1024];
	tg_topology_describe(&m.topo, topo, sizeof(topo));
	printf("  topology (%s): %s\n", m.topo.source, topo);
	return TG_EXIT_OK;
}
