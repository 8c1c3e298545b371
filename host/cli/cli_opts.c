#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli_internal.h"
#include "tg_log.h"
#include "tg_sink.h"

static const struct tg_opt *find_opt(const struct tg_cli_spec *spec, const char *name, size_t len)
{
	for (int g = 0; g < spec->n_groups; g++)
		for (int i = 0; i < spec->groups[g].n; i++) {
			const struct tg_opt *o = &spec->groups[g].opts[i];
			if (strlen(o->name) == len && strncmp(o->name, name, len) == 0)
				return o;
		}
	return NULL;
}

/* Levenshtein distance, for "did you mean". */
static int edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 40 || lb > 40)
		return 99;
	int d[41][41];
	for (size_t i = 0; i <= la; i++)
		d[i][0] = (int)i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = (int)j;
	for (size_t i = 1; i <= la; i++)
		for (size_t j = 1; j <= lb; j++) {
			int c = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
			int x = d[i - 1][j] + 1, y = d[i][j - 1] + 1;
			d[i][j] = c < x ? (c < y ? c : y) : (x < y ? x : y);
		}
	return d[la][lb];
}

static const char *suggest(const struct tg_cli_spec *spec, const char *name)
{
	const char *best = NULL;
	int best_d = 3;
	for (int g = 0; g < spec->n_groups; g++)
		for (int i = 0; i < spec->groups[g].n; i++) {
			int dd = edit_distance(name, spec->groups[g].opts[i].name);
			if (dd < best_d) {
				best_d = dd;
				best = spec->groups[g].opts[i].name;
			}
		}
	return best;
}

static int parse_value(const struct tg_opt *o, const char *v, struct tg_error *err)
{
	char *end;
	switch (o->type) {
	case TG_OPT_FLAG:
		*(int32_t *)o->dest = 1;
		return 0;
	case TG_OPT_STRING:
		TG_FAIL_IF(!*v, err, TG_E_INVAL, "option --%s: expected %s, got an empty value",
			   o->name, o->arg ? o->arg : "a value");
		*(const char **)o->dest = v;
		return 0;
	case TG_OPT_CHOICE:
		for (int i = 0; o->choices[i]; i++)
			if (strcmp(v, o->choices[i]) == 0) {
				*(int32_t *)o->dest = i;
				return 0;
			}
		{
			char list[256] = "";
			size_t used = 0;
			for (int i = 0; o->choices[i] && used < sizeof(list); i++)
				used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s",
							 i ? ", " : "", o->choices[i]);
			return TG_ERR(err, TG_E_INVAL, "option --%s: '%s' is not one of: %s", o->name,
				      v, list);
		}
	case TG_OPT_INT: {
		errno = 0;
		long long x = strtoll(v, &end, 10);
		TG_FAIL_IF(!*v || *end || errno == ERANGE || x < INT32_MIN || x > INT32_MAX, err,
			   TG_E_INVAL, "option --%s: '%s' is not an integer", o->name, v);
		TG_FAIL_IF(o->min < o->max && (x < o->min || x > o->max), err, TG_E_INVAL,
			   "option --%s: %lld is out of range; expected %.0f..%.0f", o->name, x,
			   o->min, o->max);
		*(int32_t *)o->dest = (int32_t)x;
		return 0;
	}
	case TG_OPT_U64: {
		errno = 0;
		unsigned long long x = strtoull(v, &end, 0);
		TG_FAIL_IF(!*v || *end || errno == ERANGE || *v == '-', err, TG_E_INVAL,
			   "option --%s: '%s' is not a non-negative integer", o->name, v);
		*(uint64_t *)o->dest = (uint64_t)x;
		return 0;
	}
	case TG_OPT_DOUBLE: {
		errno = 0;
		double x = strtod(v, &end);
		TG_FAIL_IF(!*v || *end || errno == ERANGE || !isfinite(x), err, TG_E_INVAL,
			   "option --%s: '%s' is not a finite number", o->name, v);
		TG_FAIL_IF(o->min < o->max && (x < o->min || x > o->max), err, TG_E_INVAL,
			   "option --%s: %g is out of range; expected %g..%g", o->name, x, o->min,
			   o->max);
		*(double *)o->dest = x;
		return 0;
	}
	}
	return TG_ERR(err, TG_E_INTERNAL, "option --%s: unknown type", o->name);
}

int tg_cli_parse(const struct tg_cli_spec *spec, int argc, char **argv, const char **pos,
		 int max_pos, int *n_pos, struct tg_error *err)
{
	*n_pos = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--") == 0) {
			for (i++; i < argc; i++) {
				TG_FAIL_IF(*n_pos >= max_pos, err, TG_E_INVAL,
					   "unexpected argument '%s'", argv[i]);
				pos[(*n_pos)++] = argv[i];
			}
			break;
		}
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
			return TG_CLI_HELP;
		if (a[0] == '-' && a[1] != '-' && a[1] != '\0' && a[2] == '\0') {
			const struct tg_opt *o = NULL;
			for (int g = 0; g < spec->n_groups && !o; g++)
				for (int k = 0; k < spec->groups[g].n; k++)
					if (spec->groups[g].opts[k].short_name == a[1])
						o = &spec->groups[g].opts[k];
			TG_FAIL_IF(!o, err, TG_E_INVAL, "unknown option '%s'", a);
			const char *v = "";
			if (o->type != TG_OPT_FLAG) {
				TG_FAIL_IF(i + 1 >= argc, err, TG_E_INVAL, "option %s needs a value (%s)", a,
					   o->arg ? o->arg : "value");
				v = argv[++i];
			}
			TG_TRY(parse_value(o, v, err));
			continue;
		}
		if (strncmp(a, "--", 2) != 0 || a[2] == '\0') {
			TG_FAIL_IF(a[0] == '-' && a[1] != '\0', err, TG_E_INVAL,
				   "unknown option '%s' (options are spelled --name)", a);
			TG_FAIL_IF(*n_pos >= max_pos, err, TG_E_INVAL, "unexpected argument '%s'", a);
			pos[(*n_pos)++] = a;
			continue;
		}
		const char *name = a + 2;
		const char *eq = strchr(name, '=');
		size_t len = eq ? (size_t)(eq - name) : strlen(name);
		const struct tg_opt *o = find_opt(spec, name, len);
		if (!o) {
			char nm[64];
			snprintf(nm, sizeof(nm), "%.*s", (int)(len < 63 ? len : 63), name);
			const char *s = suggest(spec, nm);
			if (s)
				return TG_ERR(err, TG_E_INVAL, "unknown option '--%s'; did you mean --%s?",
					      nm, s);
			return TG_ERR(err, TG_E_INVAL, "unknown option '--%s'", nm);
		}
		const char *v;
		if (o->type == TG_OPT_FLAG) {
			TG_FAIL_IF(eq, err, TG_E_INVAL, "option --%s takes no value", o->name);
			v = "";
		} else if (eq) {
			v = eq + 1;
		} else {
			TG_FAIL_IF(i + 1 >= argc, err, TG_E_INVAL, "option --%s needs a value (%s)",
				   o->name, o->arg ? o->arg : "value");
			v = argv[++i];
		}
		TG_TRY(parse_value(o, v, err));
	}
	return 0;
}

/* help text wrapped at width, from column indent (tg_sink_put_wrapped) */
static void wrap(FILE *f, const char *text, int indent, int width)
{
	struct tg_sink *s = tg_sink_open_stream(f, "help");
	if (!s) {
		fprintf(f, "%s\n", text);
		return;
	}
	tg_sink_put_wrapped(s, text, indent, width);
	tg_sink_close(s, NULL); /* a failed stdout is reported at exit (main) */
}

void tg_cli_help(const struct tg_cli_spec *spec, FILE *f)
{
	fprintf(f, "usage: trendgpu-bench %s\n\n", spec->usage);
	wrap(f, spec->description, 0, 78);
	for (int g = 0; g < spec->n_groups; g++) {
		fprintf(f, "\n%s:\n", spec->groups[g].title);
		for (int i = 0; i < spec->groups[g].n; i++) {
			const struct tg_opt *o = &spec->groups[g].opts[i];
			char head[96];
			char alias[8] = "";
			if (o->short_name)
				snprintf(alias, sizeof(alias), "-%c, ", o->short_name);
			if (o->type == TG_OPT_FLAG)
				snprintf(head, sizeof(head), "  %s--%s", alias, o->name);
			else if (o->type == TG_OPT_CHOICE) {
				char list[80] = "";
				size_t used = 0;
				for (int c = 0; o->choices[c] && used < sizeof(list); c++)
					used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s",
								 c ? "|" : "", o->choices[c]);
				snprintf(head, sizeof(head), "  %s--%s %s", alias, o->name, list);
			} else
				snprintf(head, sizeof(head), "  %s--%s %s", alias, o->name,
					 o->arg ? o->arg : "VALUE");
			if (strlen(head) > 28) {
				fprintf(f, "%s\n%30s", head, "");
			} else {
				fprintf(f, "%-30s", head);
			}
			wrap(f, o->help, 30, 78);
		}
	}
	fprintf(f, "\n  --help                      show this help\n");
	if (spec->epilog)
		fprintf(f, "\n%s", spec->epilog);
}

void tg_cli_command_line(int argc, char **argv, char *buf, size_t cap)
{
	int used = snprintf(buf, cap, "trendgpu-bench");
	for (int i = 0; i < argc && used >= 0 && (size_t)used + 1 < cap; i++) {
		const char *a = argv[i];
		int plain = *a != '\0';
		for (const char *c = a; *c; c++)
			if (!(strchr("-_=.,/:+@%", *c) || (*c >= '0' && *c <= '9') ||
			      (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z')))
				plain = 0;
		int w = snprintf(buf + used, cap - (size_t)used, plain ? " %s" : " '%s'", a);
		if (w < 0)
			break;
		used += w;
	}
}

int tg_cli_parse_command(const struct tg_cli_spec *spec, int argc, char **argv, const char **pos,
			 int max_pos, int *n_pos)
{
	struct tg_error err;
	tg_error_clear(&err);
	int rc = tg_cli_parse(spec, argc, argv, pos, max_pos, n_pos, &err);
	if (rc == TG_CLI_HELP) {
		tg_cli_help(spec, stdout);
		return TG_EXIT_OK;
	}
	if (rc < 0)
		return tg_cli_usage_error(spec->command, &err);
	return TG_CLI_CONTINUE;
}

int tg_cli_usage_error(const char *command, const struct tg_error *err)
{
	fprintf(stderr, "trendgpu-bench %s: %s\n", command, err->msg);
	fprintf(stderr, "run 'trendgpu-bench %s --help' for the options\n", command);
	return TG_EXIT_USAGE;
}

int tg_cli_parse_args(const struct tg_cli_spec *spec, int argc, char **argv, const char **pos,
		      int want, const char *what)
{
	const char *tmp[16];
	int n = 0;
	int rc = tg_cli_parse_command(spec, argc, argv, tmp, want + 1, &n);
	if (rc != TG_CLI_CONTINUE)
		return rc;
	if (n != want) {
		struct tg_error err;
		TG_ERR(&err, TG_E_INVAL, "expected %s, got %d", what, n);
		return tg_cli_usage_error(spec->command, &err);
	}
	for (int i = 0; i < want; i++)
		pos[i] = tmp[i];
	return TG_CLI_CONTINUE;
}
