/* tg_jq FILE PATH...: prints the JSON value at each PATH (".a.b[2].c";
 * "." is the document; a key may be quoted: .["odd key"]). Strings print
 * raw, numbers with %.17g, containers as compact JSON; "length(PATH)"
 * prints the number of elements. Exit 0, 1 when a path is missing, 2 when
 * the file is not valid JSON. A small stand-in for jq in the CLI tests. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *walk(json_t *v, const char *p)
{
	while (v && *p) {
		if (*p == '.' && p[1] != '[') {
			p++;
			if (!*p)
				break;
			const char *e = p;
			while (*e && *e != '.' && *e != '[')
				e++;
			char key[256];
			snprintf(key, sizeof(key), "%.*s", (int)(e - p), p);
			v = json_is_object(v) ? json_object_get(v, key) : NULL;
			p = e;
		} else if (*p == '.') {
			p++;
		} else if (*p == '[') {
			p++;
			if (*p == '"') {
				const char *e = strchr(p + 1, '"');
				if (!e)
					return NULL;
				char key[256];
				snprintf(key, sizeof(key), "%.*s", (int)(e - p - 1), p + 1);
				v = json_is_object(v) ? json_object_get(v, key) : NULL;
				p = e + 1;
			} else {
				char *e;
				long i = strtol(p, &e, 10);
				if (i < 0 && json_is_array(v))
					i += (long)json_array_size(v);
				v = json_is_array(v) ? json_array_get(v, (size_t)i) : NULL;
				p = e;
			}
			if (*p != ']')
				return NULL;
			p++;
		} else {
			return NULL;
		}
	}
	return v;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: tg_jq FILE PATH...\n");
		return 2;
	}
	json_error_t je;
	json_t *root = strcmp(argv[1], "-") == 0 ? json_loadf(stdin, 0, &je)
						  : json_load_file(argv[1], 0, &je);
	if (!root) {
		fprintf(stderr, "tg_jq: %s:%d:%d: %s\n", argv[1], je.line, je.column, je.text);
		return 2;
	}
	int rc = 0;
	for (int i = 2; i < argc; i++) {
		const char *path = argv[i];
		int length = strncmp(path, "length(", 7) == 0;
		char buf[512];
		if (length) {
			snprintf(buf, sizeof(buf), "%s", path + 7);
			char *close = strrchr(buf, ')');
			if (close)
				*close = '\0';
			path = buf;
		}
		json_t *v = walk(root, path);
		if (!v) {
			fprintf(stderr, "tg_jq: %s: no value at %s\n", argv[1], argv[i]);
			rc = 1;
			continue;
		}
		if (length)
			printf("%zu\n", json_is_array(v) ? json_array_size(v) : json_object_size(v));
		else if (json_is_string(v))
			printf("%s\n", json_string_value(v));
		else if (json_is_integer(v))
			printf("%lld\n", (long long)json_integer_value(v));
		else if (json_is_real(v))
			printf("%.17g\n", json_real_value(v));
		else {
			char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
			printf("%s\n", s);
			free(s);
		}
	}
	json_decref(root);
	return rc;
}
